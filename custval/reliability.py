"""Reliability coefficients with confidence intervals: alpha, lambda-6, split-half, omega.

Every coefficient reproduces R's psych (and names the equivalent call in
``r_call``); the golden tests in ``tests/test_reliability.py`` compare against
values written by ``tests/r/reliability.R``.

Messy input never gives a raw numpy error or an unexplained NaN: a constant
item keeps raw alpha (NaN correlation-based coefficients, with the reason),
bootstrap resamples with an undefined statistic are counted and left out
(``n_boot_failed``), values that overflow are a
:class:`~custval.exceptions.DataValidationError` naming column, rows and values.

Conventions
-----------
* Data are respondents × items.  ``nan_policy="listwise"`` uses complete rows
  (as ``psych::alpha(na.omit(x))``); ``"pairwise"`` uses R's
  ``cov(x, use = "pairwise")`` (psych's default); ``"raise"`` refuses missing
  values.
* Reverse keying is never guessed: pass keyed data, or use :func:`scale_reliability`
  with an instrument, whose ``keyed()`` recodes reverse items as
  ``min + max − x`` of the item's own scale before *every* coefficient.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import fdtri, ndtri  # F / normal quantiles, as scipy.stats (a slow import)

from ._results import ResultMixin
from ._stats import relcore as core
from .exceptions import (
    BootstrapWarning,
    ConstantItemError,
    ConstantItemWarning,
    InsufficientDataError,
    NotPositiveDefiniteWarning,
    SpecificationError,
)

__all__ = [
    "AlphaResult", "Lambda6Result", "OmegaResult", "SplitHalfResult", "cronbach_alpha", "guttman_lambda6",
    "omega", "scale_reliability", "split_half",
]

CI_METHODS = ("feldt", "duhachek", "bootstrap", "bca", None)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class AlphaResult(ResultMixin):
    """Cronbach's alpha with its confidence interval.

    ``estimate`` is raw alpha (covariance metric), ``std_alpha`` the
    standardised alpha (correlation metric), ``se`` the asymptotic standard
    error of Duhachek & Iacobucci (2004) (psych's ``ase``), ``lambda6`` Guttman's
    lambda-6 and ``average_r`` the mean inter-item correlation.
    ``n_boot_failed`` counts bootstrap resamples with an undefined alpha (left
    out of the interval); ``notes`` explains every NaN and every such count.

    Attributes
    ----------
    estimate : float
        Raw alpha (covariance metric).
    std_alpha : float
        Standardised alpha (correlation metric).
    se : float
        Asymptotic standard error (Duhachek & Iacobucci, 2004).
    ci_low, ci_high : float
        The confidence interval (NaN without one).
    n : int
        Rows used.
    n_items : int
        Number of items.
    method : str
        The interval method: ``"feldt"``, ``"duhachek"``, ``"none"`` or e.g.
        ``"percentile bootstrap (1000 resamples, seed 0)"``.
    ci : float
        Confidence level.
    lambda6 : float
        Guttman's lambda-6.
    average_r : float
        Mean inter-item correlation.
    nan_policy : str
        How missing values were handled.
    n_excluded : int
        Rows excluded (listwise deletion).
    items : tuple of str
        The items, in order.
    r_call : str
        The equivalent psych call.
    convention : str
        The formula used.
    boot : numpy.ndarray or None
        The bootstrap replicates; ``None`` without a bootstrap.
    n_boot_failed : int
        Bootstrap resamples with an undefined alpha.
    notes : tuple of str
        Why a value is NaN or resamples failed.

    See Also
    --------
    custval.reliability.cronbach_alpha : The function that returns it.
    """

    estimate: float
    std_alpha: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    n_items: int
    method: str
    ci: float
    lambda6: float
    average_r: float
    nan_policy: str
    n_excluded: int
    items: tuple[str, ...]
    r_call: str
    convention: str = (
        "alpha = k/(k-1)(1 - tr C / 1'C1) on the item covariance matrix C (n-1 denominator)"
    )
    boot: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)
    n_boot_failed: int = 0
    notes: tuple[str, ...] = ()

    _title = "Cronbach's alpha"

    def _notes(self) -> list[str]:
        return [*super()._notes(), *(f"Note: {n}" for n in self.notes)]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "estimate": [self.estimate],
                "se": [self.se],
                "ci_low": [self.ci_low],
                "ci_high": [self.ci_high],
                "n": [self.n],
                "n_items": [self.n_items],
                "std_alpha": [self.std_alpha],
                "lambda6": [self.lambda6],
                "average_r": [self.average_r],
                "method": [self.method],
            },
            index=pd.Index(["alpha"], name="coefficient"),
        )


@dataclass(frozen=True, eq=False)
class SplitHalfResult(ResultMixin):
    """Split-half reliabilities (psych ``splitHalf``): maximum, mean and minimum over splits.

    Attributes
    ----------
    max : float
        The best split (Revelle's beta-max, "lambda-4").
    mean : float
        The average over splits.
    min : float
        The worst split (beta).
    n_splits : int
        Number of splits visited.
    splits : str
        ``"all"`` or ``"psych"``.
    n : int
        Rows used.
    n_items : int
        Number of items.
    items : tuple of str
        The items, in order.
    r_call : str
        The equivalent psych call.
    convention : str
        The formula used.

    See Also
    --------
    custval.reliability.split_half : The function that returns it.
    """

    max: float
    mean: float
    min: float
    n_splits: int
    splits: str
    n: int
    n_items: int
    items: tuple[str, ...]
    r_call: str
    convention: str = "r_split = 4 r_AB / 1'R1 (Guttman/Flanagan-Rulon, correlation metric)"

    _title = "Split-half reliability"


@dataclass(frozen=True, eq=False)
class Lambda6Result(ResultMixin):
    """Guttman's lambda-6 (psych ``G6(smc)``): ``estimate`` with the rows and items it used.

    Attributes
    ----------
    estimate : float
        Lambda-6.
    n : int
        Rows used.
    n_items : int
        Number of items.
    nan_policy : str
        How missing values were handled.
    n_excluded : int
        Rows excluded (listwise deletion).
    items : tuple of str
        The items, in order.
    r_call : str
        The equivalent psych call.
    convention : str
        The formula used.

    See Also
    --------
    custval.reliability.guttman_lambda6 : The function that returns it.
    """

    estimate: float
    n: int
    n_items: int
    nan_policy: str
    n_excluded: int
    items: tuple[str, ...]
    r_call: str
    convention: str = "lambda6 = 1 - (k - sum smc_i) / 1'R1, smc_i = 1 - 1/(R^-1)_ii (correlation metric)"

    _title = "Guttman's lambda-6"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"estimate": [self.estimate], "n": [self.n], "n_items": [self.n_items]},
            index=pd.Index(["lambda6"], name="coefficient"),
        )


# --------------------------------------------------------------------------- helpers
def _r_data(nan_policy: str) -> str:
    return "na.omit(x)" if nan_policy == "listwise" else "x"


def _cov_and_cor(prep: core.Prepared, items=None, rows=None):
    """Covariance and correlation matrices; ``items`` (the frame given, ``rows`` its rows used) lets an
    overflow be reported by column, rows and values.  A constant item's correlations are NaN."""
    pairwise = prep.nan_policy == "pairwise" and prep.has_missing
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked and reported below
        c, nij = core.covariance(prep.x, pairwise=pairwise, colsum=prep.colsum)
    if items is not None:
        core.check_cov_finite(c, items, n=prep.n_used, rows=rows)
    if pairwise:
        core.check_pair_counts(nij, prep.names)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = core.cov2cor(c)
    return c, r


def _used_rows(items, prep: core.Prepared):
    """Boolean mask of the rows of ``items`` that ``prep`` uses (None: all), to name a row by its label."""
    if not prep.n_excluded:
        return None
    miss = core.as_frame(items).isna().to_numpy()
    return ~miss.any(axis=1) if prep.nan_policy == "listwise" else ~miss.all(axis=1)


def _constant_note(const, lo, names, c) -> str:
    """The note (and warning text) for constant items in an alpha computation."""
    k = len(names)
    keep = np.setdiff1d(np.arange(k), const)
    text = (f"constant item(s) {core.describe_constant(const, lo, names)}: raw alpha counts them "
            f"(k = {k}); std_alpha, average_r and lambda6 are undefined (NaN) because a constant item has "
            "no correlations")
    if keep.size >= 2:
        with np.errstate(invalid="ignore", divide="ignore"):
            other = float(core.alpha_raw(c[np.ix_(keep, keep)]))
        text += (f". psych::alpha drops constant items and reports the alpha of the other {keep.size} "
                 f"items ({other:.4f})")
    return text


def _check_ci_level(ci, ci_method):
    """``ci=None`` means no interval (as ``ci_method=None``)."""
    if ci is None:
        if ci_method not in CI_METHODS:
            raise SpecificationError(f"ci_method must be one of {CI_METHODS}; got {ci_method!r}")
        return 0.95, None
    if isinstance(ci, bool) or not isinstance(ci, (int, float, np.integer, np.floating)):
        raise SpecificationError(f"ci must be a confidence level in (0, 1) or None; got {ci!r}")
    _check_ci(ci, ci_method)
    return float(ci), ci_method


def _feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt (1965) F-based interval of alpha, as ``psych::alpha.ci``.

    The interval is

    [1 − (1 − α) F_{1−a/2}(n−1, (n−1)(k−1)),  1 − (1 − α) F_{a/2}(n−1, (n−1)(k−1))].
    """
    a = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * fdtri(df1, df2, 1 - a / 2)
    hi = 1 - (1 - alpha) * fdtri(df1, df2, a / 2)
    return float(lo), float(hi)


def _check_ci(ci, ci_method):
    if ci_method not in CI_METHODS:
        raise SpecificationError(f"ci_method must be one of {CI_METHODS}; got {ci_method!r}")
    if not (0 < ci < 1):
        raise SpecificationError(f"ci must be a confidence level in (0, 1); got {ci!r}")


# --------------------------------------------------------------------------- alpha
def cronbach_alpha(
    items,
    *,
    nan_policy: str = "listwise",
    ci: float = 0.95,
    ci_method: str | None = "feldt",
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
    cor: str = "pearson",
) -> AlphaResult:
    r"""Cronbach's alpha with a Feldt, Duhachek or bootstrap confidence interval.

    .. math::

        \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}\Bigr),
        \qquad
        \alpha_{std} = \frac{k}{k-1}\Bigl(1 - \frac{k}{\mathbf 1' R \mathbf 1}\Bigr)

    with C the item covariance matrix (n − 1 denominator) and R the correlation
    matrix.  Confidence intervals:

    * ``"feldt"``: Feldt's F interval (psych ``alpha.ci``), with n the number of
      rows used (listwise) or all rows with at least one answer (pairwise).
    * ``"duhachek"``: α ± z·sqrt(Q/n) with Duhachek & Iacobucci's (2004) Q
      (psych's ``ase``; psych prints it with z = 1.96, custval uses the exact
      normal quantile).
    * ``"bootstrap"`` (percentile) and ``"bca"``: ``n_boot`` case resamples,
      seeded by ``seed`` (vectorised; see :mod:`custval._stats.bootstrap`).  A
      resample in which every item is constant has no alpha: it is left out
      and counted in ``n_boot_failed`` (:class:`~custval.exceptions.BootstrapWarning`);
      with more than half of the resamples undefined the interval is NaN.

    A **constant item** (zero variance) leaves raw alpha defined: it counts in
    k and adds nothing to the variances, so alpha is that of the scale as
    scored.  std_alpha, average_r and lambda6 need its correlations and are
    NaN; the reason is in ``notes`` and in a
    :class:`~custval.exceptions.ConstantItemWarning`, which also gives the
    value psych::alpha reports (psych drops the constant item and computes
    alpha of the other items).  Only when every item is constant is alpha
    undefined (:class:`~custval.exceptions.ConstantItemError`).

    Values so large that the covariances overflow (e.g. ``1e300`` or ``inf``)
    raise :class:`~custval.exceptions.DataValidationError` naming the column,
    rows and values.

    Parameters
    ----------
    items : DataFrame
        Respondents × items, already keyed (reverse items recoded).
    nan_policy : {"listwise", "pairwise", "raise"}, default "listwise"
        ``"listwise"``: rows with a missing item are excluded (counted in ``n_excluded``);
        ``"pairwise"``: pairwise covariances (psych's default); ``"raise"``: a missing
        value is a :class:`~custval.exceptions.DataValidationError`.
    ci : float or None, default 0.95
        Confidence level; ``None``: no interval (as ``ci_method=None``).
    ci_method : {"feldt", "duhachek", "bootstrap", "bca", None}, default "feldt"
        Interval method; ``None``: no interval.
    n_boot : int, default 1000
        Bootstrap resamples (ignored by analytic intervals).
    seed : int, default 0
        Seed of the resampling.
    progress : bool, default False
        Show a progress bar over the resamples.
    cor : {"pearson", "polychoric"}, default "pearson"
        ``"polychoric"``: ordinal alpha (Zumbo, Gadermann & Zeisser, 2007), the
        standardised alpha of the polychoric correlation matrix (custval's
        :func:`~custval.correlation.polychoric`, equal to psych's), as
        ``psych::alpha(psych::polychoric(x)$rho)``; ``estimate`` and ``std_alpha`` are
        then equal, ``lambda6`` and ``average_r`` come from the polychoric matrix, and
        there is no interval or standard error (psych gives none for a matrix; the
        reason is in ``notes``).  ``nan_policy="listwise"`` drops incomplete rows
        first, ``"pairwise"`` gives psych's pairwise polychorics.

    Returns
    -------
    AlphaResult

    Raises
    ------
    ConstantItemError
        Every item is constant.
    InsufficientDataError
        The total score has no variance.

    Warns
    -----
    ConstantItemWarning
        A constant item: the correlation-based values are NaN.
    NotPositiveDefiniteWarning
        A singular correlation matrix (lambda-6 NaN), item correlations summing to 0
        (std_alpha NaN) or a negative Duhachek Q (se NaN).
    BootstrapWarning
        Bootstrap resamples with an undefined alpha.

    See Also
    --------
    custval.reliability.omega : McDonald's omega.
    custval.reliability.scale_reliability : Alpha, omega and lambda-6 of every construct.
    custval.items.item_analysis : Alpha if an item is deleted.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika, 16*(3), 297–334.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. *Psychometrika, 30*(3), 357–370.
    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE): An accurate
    and precise confidence interval estimate. *Journal of Applied Psychology,
    89*(5), 792–808.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.reliability import cronbach_alpha
    >>> bfi = load_dataset("bfi").data
    >>> res = cronbach_alpha(bfi[["N1", "N2", "N3", "N4", "N5"]])
    >>> print(round(res.estimate, 4), round(res.ci_low, 4), round(res.ci_high, 4), res.n)
    0.8133 0.8019 0.8242 2694
    >>> # In R: psych::alpha(na.omit(bfi[c("N1","N2","N3","N4","N5")]))
    """
    if cor != "pearson":
        return _ordinal_alpha(items, cor=cor, nan_policy=nan_policy, ci_method=ci_method)
    ci, ci_method = _check_ci_level(ci, ci_method)
    prep = core.prepare_items(items, nan_policy=nan_policy, check_constant=False)
    used = _used_rows(items, prep)
    const, const_lo = core.constant_items(prep.x)
    k = len(prep.names)
    if const.size == k:
        raise ConstantItemError(
            "every item is constant, so the total score has no variance and alpha is undefined: "
            + core.describe_constant(const, const_lo, prep.names))
    c, r = _cov_and_cor(prep, items, used)
    core.warn_scale(c, prep.names)
    n = prep.n_used
    notes: list[str] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        est = float(core.alpha_raw(c))
        q = float(core.duhachek_q(c))
    if not np.isfinite(est):  # only when 1'C1 = 0: the items cancel out in the total
        raise InsufficientDataError(
            f"the total score of {', '.join(prep.names)} has no variance (1'C1 = 0, e.g. two items with "
            f"r = -1 in {n} rows): alpha is undefined")
    se = float(np.sqrt(q / n)) if q >= 0 else float("nan")
    if not q >= 0:
        notes.append("se (Duhachek) is undefined (NaN): its Q is negative because the pairwise covariance "
                     "matrix is not positive semi-definite")
        warnings.warn(notes[-1], NotPositiveDefiniteWarning, stacklevel=2)
    if const.size:
        notes.append(_constant_note(const, const_lo, prep.names, c))
        warnings.warn(notes[-1], ConstantItemWarning, stacklevel=2)
    boot = None
    n_failed = 0
    if ci_method is None:
        lo = hi = float("nan")
        method = "none"
    elif ci_method == "feldt":
        lo, hi = _feldt_ci(est, n, k, ci)
        method = "feldt"
    elif ci_method == "duhachek":
        z = ndtri(0.5 + ci / 2)
        lo, hi = est - z * se, est + z * se
        method = "duhachek"
    else:
        from ._stats.bootstrap import bootstrap_coefficients, interval_with_failures

        bt = bootstrap_coefficients(
            prep.x, {"alpha": [list(range(k))]}, n_boot=n_boot, seed=seed,
            pairwise=prep.nan_policy == "pairwise", progress=progress, jackknife=ci_method == "bca",
        )
        boot = bt.values["alpha"][0]
        iv = interval_with_failures(
            boot, est, ci=ci, method="bca" if ci_method == "bca" else "percentile",
            jack=None if bt.jack is None else bt.jack["alpha"][0], what="alpha",
            why="every item constant in the resample")
        lo, hi, n_failed = iv.low, iv.high, iv.n_failed
        if iv.note:
            notes.append(iv.note)
            warnings.warn(iv.note, BootstrapWarning, stacklevel=2)
        method = f"{'bca' if ci_method == 'bca' else 'percentile'} bootstrap ({n_boot} resamples, seed {seed})"
    if const.size:
        l6 = std = avg_r = float("nan")
    elif _invertible(r):
        l6 = float(core.lambda6(r))
    else:
        l6 = float("nan")
        try:
            core.check_singular(r, prep.names, what="lambda-6")
            reason = "the correlation matrix is numerically singular"
        except core.SingularMatrixError as err:
            reason = str(err)
        notes.append(f"lambda6 is undefined (NaN): {reason}")
        warnings.warn(notes[-1], NotPositiveDefiniteWarning, stacklevel=2)
    if not const.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            std, avg_r = float(core.alpha_std(r)), float(core.average_r(r))
        if not np.isfinite(std):
            std = float("nan")
            notes.append("std_alpha is undefined (NaN): the item correlations sum to 0 (1'R1 = 0)")
            warnings.warn(notes[-1], NotPositiveDefiniteWarning, stacklevel=2)
    r_call = f"psych::alpha({_r_data(nan_policy)})"
    if ci_method in ("bootstrap", "bca"):
        r_call = f"psych::alpha({_r_data(nan_policy)}, n.iter = {n_boot})"
    return AlphaResult(
        estimate=est, std_alpha=std, se=se, ci_low=float(lo), ci_high=float(hi),
        n=n, n_items=k, method=method, ci=ci, lambda6=l6, average_r=avg_r,
        nan_policy=nan_policy, n_excluded=prep.n_excluded, items=prep.names, r_call=r_call, boot=boot,
        n_boot_failed=n_failed, notes=tuple(notes),
    )


def _invertible(r) -> bool:
    return bool(core.regular_cor(r))


# --------------------------------------------------------------------------- lambda 6, split-half
def guttman_lambda6(items, *, nan_policy: str = "listwise") -> Lambda6Result:
    r"""Guttman's (1945) lambda-6 in the correlation metric, as psych's ``G6(smc)``.

    .. math:: \lambda_6 = 1 - \frac{k - \sum_i \mathrm{smc}_i}{\mathbf 1' R \mathbf 1},
        \qquad \mathrm{smc}_i = 1 - 1/(R^{-1})_{ii}

    Raises :class:`~custval.exceptions.SingularMatrixError` naming the items when R
    is singular (perfectly collinear items).

    Parameters
    ----------
    items : DataFrame
        Respondents × items, already keyed (reverse items recoded).
    nan_policy : {"listwise", "pairwise", "raise"}, default "listwise"
        ``"listwise"``: rows with a missing item are excluded (counted in ``n_excluded``);
        ``"pairwise"``: pairwise covariances (psych's default); ``"raise"``: a missing
        value is a :class:`~custval.exceptions.DataValidationError`.

    Returns
    -------
    Lambda6Result
        ``estimate`` (lambda-6), ``n`` (rows used), ``n_items``, ``n_excluded``, ``items``.

    See Also
    --------
    custval.reliability.cronbach_alpha : Alpha, which reports lambda-6 too.
    custval.reliability.split_half : Split-half bounds.

    References
    ----------
    Guttman, L. (1945). A basis for analyzing test-retest reliability.
    *Psychometrika, 10*(4), 255–282.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.reliability import guttman_lambda6
    >>> bfi = load_dataset("bfi").data
    >>> round(guttman_lambda6(bfi[["N1", "N2", "N3", "N4", "N5"]]).estimate, 4)
    0.8...
    >>> # In R: psych::alpha(na.omit(bfi[c("N1","N2","N3","N4","N5")]))$total$`G6(smc)`
    """
    prep = core.prepare_items(items, nan_policy=nan_policy)
    _, r = _cov_and_cor(prep)
    core.check_singular(r, prep.names, what="lambda-6")
    return Lambda6Result(
        estimate=float(core.lambda6(r)), n=prep.n_used, n_items=len(prep.names), nan_policy=nan_policy,
        n_excluded=prep.n_excluded, items=prep.names,
        r_call=f"psych::alpha({_r_data(nan_policy)})$total$`G6(smc)`",
    )


def split_half(items, *, nan_policy: str = "listwise", splits: str = "all") -> SplitHalfResult:
    r"""Split-half reliability bounds over all splits (psych ``splitHalf``).

    For a split of the items into halves A and B, in the correlation metric,
    :math:`r_{split} = 4\,\mathbf a' R \mathbf b / \mathbf 1' R \mathbf 1`
    (the Spearman-Brown-corrected Flanagan/Rulon coefficient).  ``max`` is
    Revelle's beta-max ("lambda-4"), ``min`` is the worst split (beta), ``mean``
    the average over splits (equal to standardised alpha for ``splits="all"``
    and an even number of items).

    ``splits="all"`` (default) uses every distinct split, so the result does not
    depend on the item order.  ``splits="psych"`` reproduces psych 2.2.9 exactly:
    for an odd number of items psych visits only the first half of the
    lexicographically ordered splits (and divides the sum by
    ``choose(k, k %/% 2) / 2``); for an even number both agree.  psych samples
    10,000 random splits when there are more; custval always enumerates.

    Parameters
    ----------
    items : pandas.DataFrame
        Respondents × items, already keyed (reverse items recoded).
    nan_policy : {"listwise", "pairwise", "raise"}, default "listwise"
        How missing values are handled (as in :func:`cronbach_alpha`).
    splits : {"all", "psych"}, default "all"
        Every distinct split, or psych 2.2.9's visiting order (see above).

    Returns
    -------
    SplitHalfResult
        ``max``, ``mean`` and ``min`` over the splits.

    See Also
    --------
    custval.reliability.cronbach_alpha : Alpha (the mean split for an even number of items).
    custval.reliability.guttman_lambda6 : Guttman's lambda-6.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.reliability import split_half
    >>> bfi = load_dataset("bfi").data
    >>> res = split_half(bfi[["N1", "N2", "N3", "N4", "N5"]], splits="psych")
    >>> print(round(res.max, 4), round(res.min, 4))
    0.8... 0.7...
    >>> # In R: psych::splitHalf(na.omit(bfi[c("N1","N2","N3","N4","N5")]), check.keys = FALSE)
    """
    prep = core.prepare_items(items, nan_policy=nan_policy)
    _, r = _cov_and_cor(prep)
    vals = core.split_half_values(r, splits=splits)
    k = len(prep.names)
    if splits == "psych":
        from math import comb

        mean = float(vals.sum() / (round(comb(k, k // 2)) / 2))
    else:
        mean = float(vals.mean())
    return SplitHalfResult(
        max=float(vals.max()), mean=mean, min=float(vals.min()), n_splits=int(vals.size), splits=splits,
        n=prep.n_used, n_items=k, items=prep.names,
        r_call=f"psych::splitHalf({_r_data(nan_policy)}, check.keys = FALSE)",
    )


# --------------------------------------------------------------------------- omega
@dataclass(frozen=True, eq=False)
class OmegaResult(ResultMixin):
    """McDonald's omega (one-factor) or omega hierarchical / total via Schmid-Leiman.

    Denominators: ``omega_total`` and ``omega_h`` divide by the *observed* total
    variance V_t = 1'R1 (psych::omega's ``omega.tot`` and ``omega_h``);
    ``omega_total_implied`` and ``omega_h_implied`` divide by the *model-implied*
    total variance (Σg)² + Σ_k(Σ_i s_ik)² + Σu² (for one factor:
    (Σλ)² / ((Σλ)² + Σψ), McDonald's 1999 formula).  All in the correlation
    metric (standardised items), as psych's default.

    ``n_boot_failed`` counts bootstrap resamples in which omega is undefined
    (left out of the intervals); ``notes`` explains it and any NaN interval.

    Attributes
    ----------
    omega_total : float
        Omega total, observed-variance denominator (psych ``omega.tot``).
    omega_h : float
        Omega hierarchical, observed-variance denominator.
    omega_total_implied : float
        Omega total, model-implied denominator.
    omega_h_implied : float
        Omega hierarchical, model-implied denominator.
    omega_lim : float
        Omega limit (common variance 1'R1 - Σu² in the denominator).
    ecv : float
        Explained common variance of the general factor.
    ci_low, ci_high : float
        Interval of ``omega_total`` (NaN without one).
    omega_h_ci_low, omega_h_ci_high : float
        Interval of ``omega_h`` (NaN without one).
    n : int
        Rows used.
    n_items : int
        Number of items.
    n_factors : int
        Number of group factors.
    method : str
        The interval method: ``"none"`` or e.g. ``"percentile bootstrap (1000 resamples, seed 0)"``.
    ci : float
        Confidence level.
    nan_policy : str
        How missing values were handled.
    converged : bool
        Whether the minres fit and the rotation converged.
    items : tuple of str
        The items, in order.
    loadings : pandas.DataFrame
        The loadings (general and group factors, or the one factor) and uniquenesses.
    r_call : str
        The equivalent psych call.
    convention : str
        The formulas used.
    boot : dict or None
        The bootstrap replicates per coefficient; ``None`` without a bootstrap.
    n_boot_failed : int
        Bootstrap resamples in which omega is undefined.
    notes : tuple of str
        Why a value is NaN or resamples failed.

    See Also
    --------
    custval.reliability.omega : The function that returns it.
    """

    omega_total: float
    omega_h: float
    omega_total_implied: float
    omega_h_implied: float
    omega_lim: float
    ecv: float
    ci_low: float
    ci_high: float
    omega_h_ci_low: float
    omega_h_ci_high: float
    n: int
    n_items: int
    n_factors: int
    method: str
    ci: float
    nan_policy: str
    converged: bool
    items: tuple[str, ...]
    loadings: pd.DataFrame = dataclasses.field(repr=False, compare=False)
    r_call: str = ""
    convention: str = (
        "omega_total = (1'R1 - sum u2)/1'R1, omega_h = (sum g)^2/1'R1 (observed variance); "
        "*_implied use the model-implied total variance; minres factors, oblimin, Schmid-Leiman"
    )
    boot: dict | None = dataclasses.field(default=None, repr=False, compare=False)
    n_boot_failed: int = 0
    notes: tuple[str, ...] = ()

    _title = "McDonald's omega"

    def _notes(self) -> list[str]:
        return [*super()._notes(), *(f"Note: {n}" for n in self.notes)]

    @property
    def estimate(self) -> float:
        """omega total (observed-variance denominator).

        See Also
        --------
        custval.reliability.omega : Computes it.
        """
        return self.omega_total

    def to_frame(self) -> pd.DataFrame:
        nan = float("nan")
        rows = [
            ("omega_total", self.omega_total, self.ci_low, self.ci_high, "observed 1'R1"),
            ("omega_h", self.omega_h, self.omega_h_ci_low, self.omega_h_ci_high, "observed 1'R1"),
            ("omega_total_implied", self.omega_total_implied, nan, nan, "model-implied"),
            ("omega_h_implied", self.omega_h_implied, nan, nan, "model-implied"),
            ("omega_lim", self.omega_lim, nan, nan, "common variance 1'R1 - sum u2"),
            ("ecv", self.ecv, nan, nan, "explained common variance of g"),
        ]
        frame = pd.DataFrame(rows, columns=["coefficient", "estimate", "ci_low", "ci_high", "denominator"])
        frame["n"] = self.n
        return frame.set_index("coefficient")


def _omega_r(x_used: np.ndarray, pairwise: bool, items=None, rows=None) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        c = core.covariance(x_used, pairwise=pairwise)[0]
        if items is not None:  # an overflow is reported by column, rows and values
            core.check_cov_finite(c, items, n=len(x_used), rows=rows)
        if pairwise:
            return core.pairwise_cor(x_used)
        return core.cov2cor(c)


def omega(
    items,
    *,
    n_factors: int = 1,
    nan_policy: str = "listwise",
    ci: float = 0.95,
    ci_method: str | None = "bootstrap",
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
    cor: str = "pearson",
) -> OmegaResult:
    r"""McDonald's omega from a minres factor analysis, as ``psych::omega``.

    ``n_factors = 1``: a one-factor minres model with loadings λ and
    uniquenesses u² = 1 − λ² gives

    .. math:: \omega_t = \frac{\mathbf 1'R\mathbf 1 - \sum u_i^2}{\mathbf 1'R\mathbf 1}
        \quad\text{(psych ``omega.tot``)},\qquad
        \omega_t^{implied} = \frac{(\sum\lambda_i)^2}{(\sum\lambda_i)^2 + \sum u_i^2}.

    ``n_factors > 1``: minres factors, varimax then oblimin rotation, a
    second-order factor of the factor correlations (for two factors psych's
    ``option = "equal"``), and the Schmid-Leiman transformation into general
    loadings g and group loadings s; then
    :math:`\omega_h = (\sum g_i)^2 / \mathbf 1'R\mathbf 1` and ω_t as above.
    ``*_implied`` use the model-implied total variance instead of 1'R1.

    Bootstrap intervals (``ci_method="bootstrap"`` percentile or ``"bca"``)
    refit the model on each resample; for one factor this is vectorised
    (Gauss-Newton minres on all resamples at once), otherwise a loop with a
    progress bar.  psych's own ``n.iter`` intervals (Fisher-z normal) differ by
    design.  A resample whose correlation matrix is undefined or singular (an
    item constant in the resample, fewer distinct respondents than items) has
    no factor model: it is left out of the interval and counted in
    ``n_boot_failed``, with a :class:`~custval.exceptions.BootstrapWarning`;
    when more than half of the resamples are undefined the interval is NaN
    (the reason is in ``notes``).  Results for a seed are reproducible, and
    equal to those without this rule when no resample is undefined.

    Parameters
    ----------
    items : DataFrame
        Respondents × items, keyed.
    n_factors : int, default 1
        Number of group factors; 1: a one-factor model.
    nan_policy : {"listwise", "pairwise", "raise"}, default "listwise"
        ``"pairwise"`` uses R's ``cor(x, use = "pairwise")`` as psych::omega.
    ci : float or None, default 0.95
        Confidence level; ``None``: no interval (as ``ci_method=None``).
    ci_method : {"bootstrap", "bca", None}, default "bootstrap"
        Interval method; ``None``: no interval.
    n_boot : int, default 1000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    progress : bool, default False
        Show a progress bar over the resamples.
    cor : {"pearson", "polychoric"}, default "pearson"
        ``"polychoric"``: ordinal omega from the polychoric correlation matrix (custval's
        :func:`~custval.correlation.polychoric`, equal to psych's), as
        ``psych::omega(x, nfactors = n_factors, poly = TRUE)``.  No bootstrap interval is
        computed for it (each resample would need its own polychoric matrix); the
        interval is NaN with the reason in ``notes`` unless ``ci_method=None``.

    Returns
    -------
    OmegaResult
        The coefficients with their intervals and the loadings.

    Raises
    ------
    SpecificationError
        An analytic ``ci_method``, ``n_factors`` not a positive integer, or BCa intervals
        with ``n_factors > 1``.

    Warns
    -----
    FewItemsWarning
        Fewer than 3 items per group factor.
    ConvergenceWarning
        The minres fit or the rotation did not converge.
    HeywoodWarning
        A uniqueness reached psych's lower bound 0.005.
    BootstrapWarning
        Bootstrap resamples with an undefined omega.

    See Also
    --------
    custval.reliability.cronbach_alpha : Cronbach's alpha.
    custval.reliability.scale_reliability : Alpha and omega of every construct.
    custval.validity.composite_reliability : Composite reliability of a fitted CFA.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
    Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's α,
    Revelle's β, and McDonald's ω_H. *Psychometrika, 70*(1), 123–133.
    Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor
    solutions. *Psychometrika, 22*(1), 53–61.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.reliability import omega
    >>> bfi = load_dataset("bfi").data
    >>> res = omega(bfi[["N1", "N2", "N3", "N4", "N5"]], n_boot=200)
    >>> print(round(res.omega_total, 4), round(res.omega_total_implied, 4))
    0.8... 0.8...
    >>> # In R: psych::omega(na.omit(bfi[c("N1","N2","N3","N4","N5")]), nfactors = 1)
    """
    from ._stats import omega as _omega

    ci, ci_method = _check_ci_level(ci, ci_method)
    if ci_method in ("feldt", "duhachek"):
        raise SpecificationError("omega has bootstrap intervals only: ci_method='bootstrap', 'bca' or None")
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
        raise SpecificationError(f"n_factors must be a positive integer; got {n_factors!r}")
    prep = core.prepare_items(items, nan_policy=nan_policy, min_items=3 if n_factors == 1 else 2 * n_factors)
    k = len(prep.names)
    if n_factors > 1 and k < 3 * n_factors:
        warnings.warn(
            f"{k} items for {n_factors} group factors: fewer than 3 items per factor; the "
            "Schmid-Leiman solution is weakly identified",
            core.FewItemsWarning, stacklevel=2,
        )
    pairwise = prep.nan_policy == "pairwise" and prep.has_missing
    if cor != "pearson":
        r = _polychoric_r(prep, cor)
    else:
        r = _omega_r(prep.x, pairwise, items, _used_rows(items, prep))
    core.check_singular(r, prep.names, what="omega (minres needs SMCs)")
    sl = _omega.schmid_leiman(r, n_factors)
    co = _omega.omega_from_sl(r, sl)
    if not sl["converged"]:
        from .exceptions import ConvergenceWarning

        warnings.warn("omega: the minres fit or the oblimin rotation did not converge", ConvergenceWarning,
                      stacklevel=2)
    if len(sl["heywood"]):
        from .exceptions import HeywoodWarning

        names = ", ".join(prep.names[j] for j in sl["heywood"])
        u2s = ", ".join(f"{sl['u2'][j]:.4g}" for j in sl["heywood"])
        warnings.warn(
            f"omega: Heywood case, the uniqueness of {names} reached psych's lower bound 0.005 "
            f"(u2 = {u2s}); the solution sits on the "
            "boundary, where custval and psych agree only to about 1e-3",
            HeywoodWarning, stacklevel=2,
        )
    key = co["key"]  # psych (flip = TRUE) reverses items with negative general loadings
    cols = {"g": sl["g"] * key}
    if n_factors > 1:
        cols.update({f"F{j + 1}*": sl["group"][:, j] * key for j in range(n_factors)})
    cols.update({"h2": sl["h2"], "u2": sl["u2"], "flipped": key < 0})
    loadings = pd.DataFrame(cols, index=pd.Index(prep.names, name="item"))
    lo = hi = hlo = hhi = float("nan")
    boot = None
    method = "none"
    notes: list[str] = []
    n_failed = 0
    if ci_method is not None and cor != "pearson":
        notes.append("no bootstrap interval for the polychoric omega (each resample would need its own "
                      "polychoric matrix); pass ci_method=None to ask for none")
    elif ci_method is not None:
        from ._stats.bootstrap import bootstrap_blocks, interval_with_failures

        kind = "bca" if ci_method == "bca" else "percentile"
        if n_factors == 1:
            def fn(c, rr):
                o = _omega.omega1_batch(rr)
                return {"omega_total": o["omega_total"], "omega_h": o["omega_h"]}
        else:
            def fn(c, rr):
                tot, hh = [], []
                regular = core.regular_cor(rr)
                for m, ok in zip(rr, regular):
                    if not ok:  # no factor model for an undefined or singular R: counted as undefined
                        tot.append(np.nan)
                        hh.append(np.nan)
                        continue
                    try:
                        o = _omega.omega_from_sl(m, _omega.schmid_leiman(m, n_factors))
                        tot.append(o["omega_total"])
                        hh.append(o["omega_h"])
                    except (np.linalg.LinAlgError, ValueError):
                        tot.append(np.nan)
                        hh.append(np.nan)
                return {"omega_total": np.array(tot), "omega_h": np.array(hh)}
        bt = bootstrap_blocks(prep.x, [list(range(k))], fn, n_boot=n_boot, seed=seed, pairwise=pairwise,
                              progress=progress, jackknife=kind == "bca" and n_factors == 1)
        boot = {name: v[0] for name, v in bt.values.items()}
        if kind == "bca" and n_factors > 1:
            raise SpecificationError("BCa intervals for Schmid-Leiman omega are not available; use 'bootstrap'")
        jk = bt.jack
        why = "an item constant in the resample or a singular correlation matrix: no factor model"
        ivs = [interval_with_failures(boot[name], co[name], ci=ci, method=kind, what=name, why=why,
                                      jack=None if jk is None else jk[name][0])
               for name in ("omega_total", "omega_h")]
        (lo, hi), (hlo, hhi) = ((iv.low, iv.high) for iv in ivs)
        n_failed = max(iv.n_failed for iv in ivs)
        said = [iv.note for iv in ivs if iv.note]
        if len(said) == 2 and said[0].split(":", 1)[1] == said[1].split(":", 1)[1]:  # same resamples
            said = ["omega_total and omega_h:" + said[0].split(":", 1)[1]]
        for note in said:
            notes.append(note)
            warnings.warn(note, BootstrapWarning, stacklevel=2)
        method = f"{kind} bootstrap ({n_boot} resamples, seed {seed})"
    return OmegaResult(
        omega_total=float(co["omega_total"]), omega_h=float(co["omega_h"]),
        omega_total_implied=float(co["omega_total_implied"]), omega_h_implied=float(co["omega_h_implied"]),
        omega_lim=float(co["omega_lim"]), ecv=float(co["ecv"]), ci_low=lo, ci_high=hi,
        omega_h_ci_low=hlo, omega_h_ci_high=hhi, n=prep.n_used, n_items=k, n_factors=int(n_factors),
        method=method, ci=ci, nan_policy=nan_policy, converged=sl["converged"], items=prep.names,
        loadings=loadings, r_call=f"psych::omega({_r_data(nan_policy)}, nfactors = {int(n_factors)}"
                                  + (", poly = TRUE)" if cor != "pearson" else ")"),
        boot=boot, n_boot_failed=n_failed, notes=tuple(notes),
    )


# --------------------------------------------------------------------------- reliability table
RELIABILITY_COLUMNS = (
    "n", "n_items", "alpha", "alpha_ci_low", "alpha_ci_high", "std_alpha", "omega_total",
    "omega_ci_low", "omega_ci_high", "omega_total_implied", "lambda6", "average_r",
    "composite_reliability", "ave", "note",
)


def _cfa_columns(cfa, constructs) -> pd.DataFrame:
    """Hook for CFA-based composite reliability and AVE.

    ``cfa`` is a fitted :class:`custval.CFA`; composite reliability and AVE come from
    :func:`custval.validity.cr_ave` (semTools ``compRelSEM``/``AVE`` convention).
    Without ``cfa`` both columns are NaN (not computed).
    """
    if cfa is None:
        return pd.DataFrame({"composite_reliability": np.nan, "ave": np.nan}, index=list(constructs))
    from .validity import cr_ave  # validity imports this module: import late

    table = cr_ave(cfa)
    return table.reindex(list(constructs))[["composite_reliability", "ave"]]


def scale_reliability(
    data,
    instrument,
    *,
    nan_policy: str = "listwise",
    ci: float = 0.95,
    ci_method: str | None = "bootstrap",
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
    cfa=None,
) -> pd.DataFrame:
    r"""Reliability of every construct of an instrument: one row per construct.

    Columns: ``n`` (rows used), ``n_items``, ``alpha`` with ``alpha_ci_low`` /
    ``alpha_ci_high``, ``std_alpha``, ``omega_total`` (one-factor minres, observed
    variance 1'R1, as ``psych::omega(x, nfactors = 1)$omega.tot``) with
    ``omega_ci_low`` / ``omega_ci_high``, ``omega_total_implied`` (model-implied
    denominator, McDonald's formula), ``lambda6`` (Guttman, psych ``G6(smc)``),
    ``average_r`` (mean inter-item correlation), ``composite_reliability`` and
    ``ave`` (from a fitted CFA passed as ``cfa``; NaN otherwise) and ``note``.
    The CFA must have the reverse keys the alphas use (fit it as ``CFA(instrument)``
    on the same answers): items keyed differently raise a
    :class:`~custval.exceptions.ReverseKeyWarning` naming them, and the CR/AVE of
    their constructs are NaN with the reason in ``note``.
    See :func:`cronbach_alpha` and :func:`omega` for formulas and references.

    ``instrument``: an Instrument, a shipped instrument's name or a codebook path.
    Reverse keys come from ``instrument.keyed(data)`` (items that a frame returned by
    ``Instrument.keyed`` records as keyed are not keyed again) and apply identically to
    every coefficient.  Intervals: ``ci_method="bootstrap"`` (percentile) or
    ``"bca"`` bootstrap both alpha and omega from the same ``n_boot`` seeded
    resamples (all constructs at once, vectorised); ``"feldt"`` / ``"duhachek"``
    give analytic alpha intervals and no omega interval; ``None`` none.
    ``nan_policy="listwise"`` uses, per construct, the rows complete on its
    items; ``"pairwise"`` uses pairwise covariances (psych's default).

    ``ci=None`` gives no intervals (as ``ci_method=None``).  ``cfa=None`` (the default)
    leaves ``composite_reliability`` and ``ave`` NaN.  ``progress=None`` (the default) shows a
    progress bar only for a long bootstrap (more than 5e8 resampled values); True or False
    forces it on or off.

    Every NaN is explained in ``note`` and by a typed warning:

    * one item: every coefficient is NaN; two items: omega is not identified
      (:class:`~custval.exceptions.FewItemsWarning`);
    * a constant item: raw alpha (and its interval) is defined and counts the
      item; std_alpha, average_r, lambda6 and omega need its correlations and
      are NaN (:class:`~custval.exceptions.ConstantItemWarning`, which also gives
      psych::alpha's value without the item); every item constant: all NaN;
    * as many or fewer respondents than items, or collinear items (singular
      correlation matrix): alpha, std_alpha and average_r are given, lambda6,
      omega and omega's interval are NaN
      (:class:`~custval.exceptions.NotPositiveDefiniteWarning`);
    * bootstrap resamples with an undefined statistic (an item constant in
      the resample, a singular resample) are left out of that interval and
      counted in ``table.attrs["n_boot_failed"][construct]`` (per statistic);
      with more than half of them undefined the interval is NaN
      (:class:`~custval.exceptions.BootstrapWarning`).  A given seed gives the
      same numbers, and the same as without this rule when no resample is
      undefined.

    Parameters
    ----------
    data : pandas.DataFrame
        The answers, one row per respondent (raw: the instrument's reverse keys are applied).
    instrument : Instrument, str or Path
        An Instrument, a shipped instrument's name or a codebook path.
    nan_policy : {"listwise", "pairwise", "raise"}, default "listwise"
        Per construct, the rows complete on its items, or pairwise covariances.
    ci : float or None, default 0.95
        Confidence level; ``None``: no intervals.
    ci_method : {"bootstrap", "bca", "feldt", "duhachek", None}, default "bootstrap"
        Interval method (see above); ``None``: no intervals.
    n_boot : int, default 1000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    progress : bool or None, default None
        Progress bar; ``None``: only for a long bootstrap.
    cfa : CFA or None, default None
        A fitted :class:`~custval.cfa.CFA` for ``composite_reliability`` and ``ave``;
        ``None`` leaves them NaN.

    Returns
    -------
    pandas.DataFrame
        One row per construct (index ``construct``), the columns listed above;
        ``attrs["n_boot_failed"]`` counts the undefined resamples.

    Raises
    ------
    SpecificationError
        An unknown ``nan_policy`` or ``ci_method``, a ``ci`` outside (0, 1), or an item of
        the instrument missing from ``data``.

    Warns
    -----
    FewItemsWarning, ConstantItemWarning, NotPositiveDefiniteWarning, BootstrapWarning
        As listed above, each with its NaN explained in ``note``.
    ReverseKeyWarning
        The CFA's reverse keys differ from the instrument's.

    See Also
    --------
    custval.reliability.cronbach_alpha : Alpha of one set of items.
    custval.reliability.omega : Omega of one set of items.
    custval.validity.composite_reliability : Composite reliability of a fitted CFA.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.reliability import scale_reliability
    >>> class Bfi:  # any object with the Instrument attributes used here
    ...     constructs = {"N": ("N1", "N2", "N3", "N4", "N5"), "C": ("C1", "C2", "C3", "C4", "C5")}
    ...     reverse_items = frozenset({"C4", "C5"})
    ...     def keyed(self, df):
    ...         out = df.copy(); out[["C4", "C5"]] = 7 - out[["C4", "C5"]]; return out
    >>> bfi = load_dataset("bfi").data
    >>> table = scale_reliability(bfi, Bfi(), n_boot=200)
    >>> print(table[["n", "alpha", "omega_total"]].round(3))
                  n  alpha  omega_total
    construct
    N          2694  0.813        0.818
    C          2707  0.729        0.734
    >>> # In R: psych::alpha(na.omit(x)); psych::omega(na.omit(x), nfactors = 1)
    """
    from ._sem.spec import as_instrument
    from ._stats import omega as _omega
    from ._stats.bootstrap import bootstrap_blocks, interval_with_failures

    instrument = as_instrument(instrument)
    ci, ci_method = _check_ci_level(ci, ci_method)
    if nan_policy not in core.NAN_POLICIES:
        raise SpecificationError(f"nan_policy must be one of {core.NAN_POLICIES}; got {nan_policy!r}")
    constructs = {str(c): tuple(v) for c, v in instrument.constructs.items()}
    all_items = [i for v in constructs.values() for i in v]
    df = core.as_frame(data)
    missing_cols = [i for i in all_items if i not in df.columns]
    if missing_cols:
        raise SpecificationError(f"item(s) of the instrument not in the data: {', '.join(missing_cols)}")
    from ._keys import keyed_once

    keyed = keyed_once(df[all_items], instrument)[all_items]  # a keyed frame is not keyed again
    core.prepare_items(keyed, nan_policy="raise" if nan_policy == "raise" else "pairwise", min_items=1,
                       check_constant=False, require_n_gt_p=False)
    x_all = keyed.to_numpy(dtype=float, na_value=np.nan)
    miss = np.isnan(x_all)
    rows: dict[str, dict] = {}
    groups: dict[bytes, list] = {}  # constructs sharing the same rows -> one bootstrap
    pos = 0
    notes: dict[str, list[str]] = {}
    failed: dict[str, dict[str, int]] = {}
    for cid, its in constructs.items():
        k = len(its)
        cols = np.arange(pos, pos + k)
        pos += k
        row = dict.fromkeys(RELIABILITY_COLUMNS, np.nan)
        row.update(n_items=k, note="")
        keep = ~miss[:, cols].any(axis=1) if nan_policy != "pairwise" else ~miss[:, cols].all(axis=1)
        row["n"] = int(keep.sum())
        rows[cid] = row
        note = notes[cid] = []
        if k < 2:
            note.append("single item: internal consistency undefined")
            warnings.warn(f"construct {cid} has 1 item ({its[0]}); alpha and omega are undefined",
                          core.FewItemsWarning, stacklevel=2)
            continue
        xb = x_all[np.ix_(keep, cols)]
        prep = core.prepare_items(pd.DataFrame(xb, columns=list(its)), nan_policy="pairwise",
                                  check_constant=False, require_n_gt_p=False)
        const, const_lo = core.constant_items(prep.x)
        if const.size == k:
            note.append("every item constant (" + core.describe_constant(const, const_lo, its)
                        + "): the total score has no variance, alpha and omega are undefined")
            warnings.warn(f"construct {cid}: {note[-1]}", ConstantItemWarning, stacklevel=2)
            continue
        c, r = _cov_and_cor(prep, keyed.iloc[:, cols], keep)
        core.warn_scale(c, prep.names, label=f"construct {cid}")
        with np.errstate(divide="ignore", invalid="ignore"):
            row["alpha"] = float(core.alpha_raw(c))
        if not np.isfinite(row["alpha"]):
            row["alpha"] = np.nan
            note.append("the total score has no variance (1'C1 = 0, the items cancel out): every "
                        "coefficient is undefined")
            warnings.warn(f"construct {cid}: {note[-1]}", NotPositiveDefiniteWarning, stacklevel=2)
            continue
        regular = False
        if const.size:
            note.append(_constant_note(const, const_lo, its, c) + "; omega is undefined")
            warnings.warn(f"construct {cid}: {note[-1]}", ConstantItemWarning, stacklevel=2)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                row["std_alpha"] = float(core.alpha_std(r))
                row["average_r"] = float(core.average_r(r))
            if not np.isfinite(row["std_alpha"]):
                row["std_alpha"] = np.nan
                note.append("std_alpha is undefined: the item correlations sum to 0 (1'R1 = 0)")
            regular = _invertible(r)
            if regular:
                row["lambda6"] = float(core.lambda6(r))
            else:
                if row["n"] <= k:
                    note.append(f"{row['n']} respondents for {k} items: the correlation matrix is singular, so "
                                "lambda6, omega and omega's interval are undefined (alpha is defined)")
                else:
                    note.append("singular correlation matrix: lambda6 and omega undefined")
                warnings.warn(f"construct {cid}: {note[-1]}", NotPositiveDefiniteWarning, stacklevel=2)
        if ci_method == "feldt":
            row["alpha_ci_low"], row["alpha_ci_high"] = _feldt_ci(row["alpha"], row["n"], k, ci)
        elif ci_method == "duhachek":
            z = ndtri(0.5 + ci / 2)
            q = float(core.duhachek_q(c))
            if q >= 0:
                se = float(np.sqrt(q / row["n"]))
                row["alpha_ci_low"], row["alpha_ci_high"] = row["alpha"] - z * se, row["alpha"] + z * se
            else:
                note.append("Duhachek interval undefined: Q < 0 (pairwise covariance matrix not positive "
                            "semi-definite)")
        groups.setdefault(keep.tobytes(), []).append((cid, cols))  # alpha (and omega) intervals
        if k < 3:
            note.append("2 items: one-factor omega not identified")
            continue
        ro = _omega_r(prep.x, prep.has_missing) if regular else None
        if regular and not _invertible(ro):  # pairwise: R's cor(x, use = "pairwise") differs from cov2cor
            regular = False
            note.append("the pairwise correlation matrix (cor(x, use = \"pairwise\")) is undefined or "
                        "singular: omega undefined")
            warnings.warn(f"construct {cid}: {note[-1]}", NotPositiveDefiniteWarning, stacklevel=2)
        if regular:
            sl = _omega.schmid_leiman(ro, 1)
            co = _omega.omega_from_sl(ro, sl)
            row["omega_total"] = float(co["omega_total"])
            row["omega_total_implied"] = float(co["omega_total_implied"])
            if len(sl["heywood"]):
                note.append("Heywood case in the one-factor model: " + ", ".join(its[j] for j in sl["heywood"]))
    if ci_method in ("bootstrap", "bca"):
        kind = "bca" if ci_method == "bca" else "percentile"
        total = sum(len(v) for v in groups.values())
        show = progress if progress is not None else n_boot * total * len(x_all) > 5e8
        why = {"alpha": "every item constant in the resample",
               "omega": "an item constant in the resample or a singular correlation matrix: no factor model"}

        def fn(c, r):
            if r.shape[-1] < 3:  # two items: omega not identified
                return {"alpha": core.alpha_raw(c), "omega": np.full(r.shape[0], np.nan)}
            o = _omega.omega1_batch(r)
            return {"alpha": core.alpha_raw(c), "omega": o["omega_total"]}

        for mask_bytes, members in groups.items():
            keep = np.frombuffer(mask_bytes, dtype=bool)
            cols = np.concatenate([cc for _, cc in members])
            xb = x_all[np.ix_(keep, cols)]
            blocks, start = [], 0
            for _, cc in members:
                blocks.append(list(range(start, start + len(cc))))
                start += len(cc)
            bt = bootstrap_blocks(xb, blocks, fn, n_boot=n_boot, seed=seed, pairwise=nan_policy == "pairwise",
                                  progress=show, jackknife=kind == "bca")
            for j, (cid, _) in enumerate(members):
                row = rows[cid]
                for name, est, lo, hi in (("alpha", "alpha", "alpha_ci_low", "alpha_ci_high"),
                                          ("omega", "omega_total", "omega_ci_low", "omega_ci_high")):
                    if not np.isfinite(row[est]):  # undefined estimate: explained in the note
                        continue
                    iv = interval_with_failures(
                        bt.values[name][j], row[est], ci=ci, method=kind, what=name, why=why[name],
                        jack=None if bt.jack is None else bt.jack[name][j])
                    row[lo], row[hi] = iv.low, iv.high
                    failed.setdefault(cid, {})[name] = iv.n_failed
                    if iv.note:
                        notes[cid].append(iv.note)
                        warnings.warn(f"construct {cid}: {iv.note}", BootstrapWarning, stacklevel=2)
    for cid, row in rows.items():
        row["note"] = "; ".join(notes[cid])
    out = pd.DataFrame.from_dict(rows, orient="index")
    extra = _cfa_columns(cfa, constructs)
    if cfa is not None:  # the CFA must use the reverse keys the alphas use (ReverseKeyWarning)
        from ._keys import check_fit_keying

        affected, msg = check_fit_keying(cfa, instrument, keyed, "reliability")
        affected = [c for c in affected if c in extra.index]
        extra.loc[affected, ["composite_reliability", "ave"]] = np.nan
        for cid in affected:
            rows[cid]["note"] = "; ".join(filter(None, [rows[cid]["note"], "CR/AVE not reported: " + msg]))
        out = pd.DataFrame.from_dict(rows, orient="index")
    out["composite_reliability"] = extra["composite_reliability"].to_numpy(dtype=float)
    out["ave"] = extra["ave"].to_numpy(dtype=float)
    out.index.name = "construct"
    out["n"] = out["n"].astype(int)
    out["n_items"] = out["n_items"].astype(int)
    out.attrs.update(
        ci=ci, ci_method=ci_method, n_boot=n_boot, seed=seed, nan_policy=nan_policy,
        r_call="psych::alpha(x); psych::omega(x, nfactors = 1)  # per construct",
        n_boot_failed=failed,
        convention="omega_total: observed-variance denominator 1'R1; omega_total_implied: model-implied",
    )
    return out[list(RELIABILITY_COLUMNS)]


# --------------------------------------------------------------------------- ordinal alpha and omega
def _check_cor(cor: str) -> None:
    if cor not in ("pearson", "polychoric"):
        raise SpecificationError(f"cor must be 'pearson' or 'polychoric'; got {cor!r}")


def _polychoric_r(prep: core.Prepared, cor: str) -> np.ndarray:
    """psych::polychoric(x)$rho of the rows ``prep`` uses (complete rows under listwise)."""
    _check_cor(cor)
    from .correlation import polychoric

    frame = pd.DataFrame(prep.x, columns=list(prep.names))
    return polychoric(frame, nan_policy="pairwise").rho.to_numpy()


def _ordinal_alpha(items, *, cor: str, nan_policy: str, ci_method) -> AlphaResult:
    """Ordinal alpha: psych::alpha(psych::polychoric(x)$rho) (Zumbo, Gadermann & Zeisser, 2007)."""
    _check_cor(cor)
    if ci_method not in (None, "feldt"):
        raise SpecificationError(
            f"cor='polychoric' has no interval (psych::alpha of a correlation matrix gives none); "
            f"ci_method={ci_method!r} is not available with it")
    prep = core.prepare_items(items, nan_policy=nan_policy)
    r = _polychoric_r(prep, cor)
    k = len(prep.names)
    total = float(r.sum())
    est = k / (k - 1) * (1 - k / total)
    off = r[~np.eye(k, dtype=bool)]
    try:
        lam6 = float(core.lambda6(r))
    except (np.linalg.LinAlgError, ValueError):
        lam6 = float("nan")
    notes = ["ordinal alpha of the polychoric matrix: no standard error or interval (psych::alpha of a "
             "correlation matrix gives none)"]
    if not np.isfinite(lam6):
        notes.append("lambda6 is NaN: the polychoric matrix is singular")
    return AlphaResult(
        estimate=float(est), std_alpha=float(est), se=float("nan"), ci_low=float("nan"), ci_high=float("nan"),
        n=prep.n_used, n_items=k, method="none", ci=float("nan"), lambda6=lam6, average_r=float(off.mean()),
        nan_policy=nan_policy, n_excluded=prep.n_excluded, items=prep.names,
        r_call=f"psych::alpha(psych::polychoric({_r_data(nan_policy)})$rho)",
        convention="ordinal alpha = k/(k-1)(1 - k / 1'R1) on the polychoric matrix R (Zumbo et al. 2007)",
        notes=tuple(notes))
