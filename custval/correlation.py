"""Correlation matrices for dimensionality analysis: Pearson (pairwise or listwise) and polychoric.

Conventions
-----------
* ``nan_policy="pairwise"`` is R's ``cor(x, use = "pairwise")`` (psych's default):
  every entry uses the rows where *both* items are observed, with means and
  standard deviations over those same rows.  ``"listwise"`` uses the complete
  rows only (``cor(na.omit(x))``); ``"raise"`` refuses missing values.
* :func:`polychoric` reproduces ``psych::polychoric`` (two-step: thresholds
  from the marginal proportions, then one correlation per pair maximising the
  bivariate-normal likelihood of the pair's contingency table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._results import ResultMixin, ValueEqualityMixin
from ._stats import relcore as _relcore
from .exceptions import InsufficientDataError, SpecificationError

__all__ = ["CorrelationInput", "PolychoricResult", "correlation_input", "polychoric"]

COR_KINDS = ("pearson", "polychoric")


# --------------------------------------------------------------------------- Pearson
def _pairwise_pearson(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations and pairwise counts, exactly R's ``cor(x, use = "pairwise")``.

    Each entry uses the rows where both items are observed; the means and the
    standard deviations of that entry are computed over those same rows.
    Internal (bare arrays, used in the parallel-analysis loops); the labelled
    equivalent is ``DataFrame.corr()`` (pairwise Pearson) or :func:`polychoric`.

    Parameters
    ----------
    x : ndarray
        Respondents × items, NaN for missing.

    Returns
    -------
    r, n : ndarray
        The correlation matrix and the number of rows behind each entry.
    """
    miss = np.isnan(x)
    n, p = x.shape
    if not miss.any():
        xc = x - x.mean(axis=0)
        c = xc.T @ xc
        d = np.sqrt(np.diag(c))
        r = c / np.outer(d, d)
        np.fill_diagonal(r, 1.0)
        return r, np.full((p, p), float(n))
    m = (~miss).astype(float)
    x0 = np.where(miss, 0.0, x - np.nanmean(x, axis=0))  # shift for numerical accuracy
    nij = m.T @ m
    sxy = x0.T @ x0
    sx = x0.T @ m  # sx[i, j] = sum of x_i over rows where i and j are both observed
    sxx = (x0 * x0).T @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / nij
        vi = sxx - sx * sx / nij
        r = cov / np.sqrt(vi * vi.T)
    np.fill_diagonal(r, 1.0)
    return r, nij


@dataclass(frozen=True, eq=False)
class CorrelationInput(ValueEqualityMixin):
    """A correlation matrix with the bookkeeping every dimensionality result reports.

    Compares and hashes by value, as the result objects do (exact, NaN-aware).

    Attributes
    ----------
    r : ndarray
        The correlation matrix.
    names : tuple of str
        The item names, in the order of ``r``.
    n_obs : int
        Rows entering the statistic (listwise: complete rows; pairwise: rows with any value).
    np_obs : ndarray
        Number of rows behind each correlation.
    n_rows : int
        Rows in the input.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    cor : str
        The kind of correlation.
    x : ndarray
        The rows used (may hold NaN under pairwise deletion).

    See Also
    --------
    custval.correlation.correlation_input : The function that returns it.
    """

    r: np.ndarray
    names: tuple[str, ...]
    n_obs: int  # rows entering the statistic (listwise: complete rows; pairwise: rows with any value)
    np_obs: np.ndarray  # pairwise counts
    n_rows: int
    n_excluded: int
    nan_policy: str
    cor: str
    x: np.ndarray  # the rows used (may hold NaN under pairwise)


def correlation_input(
    data,
    *,
    nan_policy: str = "pairwise",
    cor: str = "pearson",
    require_n_gt_p: bool = True,
    correct: float = 0.5,
) -> CorrelationInput:
    """Validate ``data`` (respondents × items) and compute its correlation matrix.

    Errors name the items: non-numeric columns, items without values, constant
    items (:class:`~custval.exceptions.ConstantItemError`), fewer respondents
    than items (:class:`~custval.exceptions.InsufficientDataError`), item
    pairs never observed together, and infinite values or values so large that
    their cross-products overflow (``DataValidationError`` naming column, rows
    and values).

    Parameters
    ----------
    data : DataFrame or ndarray
        Respondents × items.
    nan_policy : {"pairwise", "listwise", "raise"}
        How missing values enter the correlations.
    cor : {"pearson", "polychoric"}
        The kind of correlation.
    require_n_gt_p : bool
        Fewer respondents than items is an error.
    correct : float
        Continuity correction of empty cells (polychoric only), as psych's ``correct``.

    Returns
    -------
    CorrelationInput
        The matrix with its names, counts and excluded rows.

    See Also
    --------
    custval.correlation.polychoric : Polychoric correlations of ordinal items.
    custval.dimensionality.kmo : A dimensionality statistic computed from it.
    """
    if cor not in COR_KINDS:
        raise SpecificationError(f"cor must be one of {COR_KINDS}; got {cor!r}")
    prep = _relcore.prepare_items(
        data, nan_policy=nan_policy, min_items=2, check_constant=True, require_n_gt_p=require_n_gt_p
    )
    x = prep.x
    with np.errstate(invalid="ignore"):
        big = float(np.nanmax(np.abs(x))) if x.size and not np.isnan(x).all() else 0.0
    if not big <= _relcore.overflow_limit(prep.n_rows, x.shape[1], 2):  # inf, or products overflow
        frame = data[list(prep.names)] if isinstance(data, pd.DataFrame) else x
        _relcore.check_magnitude(frame, power=2, n=prep.n_rows, force=True)  # names column and rows
    if cor == "pearson":
        r, nij = _pairwise_pearson(x)
    else:
        res = _polychoric_matrix(x, prep.names, correct=correct)
        r, nij = res[0], res[2]
    if np.isnan(r).any():
        i, j = np.argwhere(np.isnan(r))[0]
        raise InsufficientDataError(
            f"correlation of {prep.names[i]} and {prep.names[j]} is undefined: the pair is observed "
            f"together in {int(nij[i, j])} row(s) or one item is constant on those rows"
        )
    return CorrelationInput(
        r=r, names=prep.names, n_obs=prep.n_used, np_obs=nij, n_rows=prep.n_rows,
        n_excluded=prep.n_excluded, nan_policy=nan_policy, cor=cor, x=x,
    )


# --------------------------------------------------------------------------- polychoric
@dataclass(frozen=True, eq=False)
class PolychoricResult(ResultMixin):
    """Polychoric correlation matrix with the thresholds of every item.

    ``rho`` is the labelled correlation matrix, ``tau`` the thresholds
    (items × cut points, NaN where an item has fewer categories), ``n`` the
    rows used.

    Attributes
    ----------
    rho : DataFrame
        The correlation matrix, labelled by item.
    tau : DataFrame
        The thresholds, items × cut points (NaN where an item has fewer categories).
    n : int
        Rows (respondents) used.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    correct : float
        Continuity correction added to empty cells (psych's ``correct``).
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).

    See Also
    --------
    custval.correlation.polychoric : The function that returns it.
    """

    rho: pd.DataFrame
    tau: pd.DataFrame
    n: int
    n_excluded: int
    nan_policy: str
    correct: float
    r_call: str
    convention: str = (
        "two-step ML: thresholds qnorm(cumulative marginal proportions), then per pair "
        "the rho maximising the bivariate-normal likelihood of the contingency table"
    )

    _title = "Polychoric correlations"

    def to_frame(self) -> pd.DataFrame:
        return self.rho

    def _display_frame(self) -> pd.DataFrame:
        return self.rho


def _polychoric_matrix(x: np.ndarray, names, *, correct: float):
    from ._stats import polychoric as _polychoric

    return _polychoric.polychoric_matrix(x, names, correct=correct)


def polychoric(data, *, correct: float = 0.5, nan_policy: str = "pairwise") -> PolychoricResult:
    r"""Polychoric correlations of ordinal items, as ``psych::polychoric``.

    Each item is the coarse version of a standard-normal latent variable cut
    at thresholds :math:`\tau_k = \Phi^{-1}(P(X \le k))` estimated from the
    item's marginal proportions.  For each pair of items the correlation
    :math:`\rho` maximises the multinomial likelihood of the pair's table,

    .. math:: \log L(\rho) = \sum_{a,b} n_{ab} \log \pi_{ab}(\rho), \quad
              \pi_{ab} = \Phi_2(\tau_a, \tau_b; \rho) - \Phi_2(\tau_{a-1}, \tau_b; \rho)
              - \Phi_2(\tau_a, \tau_{b-1}; \rho) + \Phi_2(\tau_{a-1}, \tau_{b-1}; \rho),

    with the thresholds held fixed (the "two-step" estimator of Olsson, 1979).

    Parameters
    ----------
    data : DataFrame
        Respondents × items with integer-coded categories (at most 8 categories
        per item, as psych).
    correct : float, default 0.5
        psych's continuity correction: empty cells of a pair's table get
        ``correct / n_pair`` before the likelihood is maximised (``0`` = none).
    nan_policy : {"pairwise", "listwise", "raise"}
        ``"pairwise"`` (psych's behaviour) uses every row where the pair is
        observed; thresholds of an item come from all its observed values.

    Returns
    -------
    PolychoricResult
        ``rho`` (labelled matrix), ``tau`` (thresholds) and the n used.

    Raises
    ------
    InsufficientDataError
        An item with a single observed category (named).

    See Also
    --------
    custval.efa.EFA : Factor analysis, which can use polychoric correlations.
    custval.dimensionality.parallel_analysis : Parallel analysis.

    Notes
    -----
    As psych: when every item has the same highest category (``global = TRUE``)
    each item's thresholds come from all its observed values and ``correct``
    is not used; otherwise thresholds come from each pair's own table, whose
    empty rows/columns are dropped and empty cells set to ``correct / n``.
    The matrix is smoothed (``psych::cor.smooth``, with a
    :class:`~custval.exceptions.NotPositiveDefiniteWarning`) if it is not
    positive definite.  Agreement with psych is about 1e-11 (tests allow 1e-4,
    the tolerance of R's ``optimize``).

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric
    correlation coefficient. *Psychometrika, 44*(4), 443–460.
    Revelle, W. (2024). *psych: Procedures for psychological, psychometric,
    and personality research* (R package).

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> bfi = load_dataset("bfi").data
    >>> res = custval.polychoric(bfi[["A1", "A2", "A3"]].dropna())
    >>> print(res.rho.round(3))
           A1     A2     A3
    A1  1.000 -0.409 -0.324
    A2 -0.409  1.000  0.556
    A3 -0.324  0.556  1.000

    # In R: psych::polychoric(na.omit(bfi[, c("A1", "A2", "A3")]))$rho
    """
    from ._stats import polychoric as _polychoric

    prep = _relcore.prepare_items(
        data, nan_policy=nan_policy, min_items=2, check_constant=False, require_n_gt_p=False
    )
    rho, tau, nij = _polychoric.polychoric_matrix(prep.x, prep.names, correct=correct)
    names = list(prep.names)
    ncut = tau.shape[1]
    return PolychoricResult(
        rho=pd.DataFrame(rho, index=names, columns=names),
        tau=pd.DataFrame(tau, index=names, columns=[str(k + 1) for k in range(ncut)]),
        n=prep.n_used,
        n_excluded=prep.n_excluded,
        nan_policy=nan_policy,
        correct=correct,
        r_call=f"psych::polychoric(x, correct = {correct:g})",
    )
