"""Reliability coefficients with confidence intervals: alpha, lambda-6, split-half, omega.

Every coefficient reproduces R's psych (and names the equivalent call in
``r_call``); the golden tests in ``tests/test_reliability.py`` compare against
values written by ``tests/r/reliability.R``.

Conventions
-----------
* Data are respondents × items.  ``nan_policy="listwise"`` uses complete rows
  (as ``psych::alpha(na.omit(x))``); ``"pairwise"`` uses R's
  ``cov(x, use = "pairwise")`` (psych's default); ``"raise"`` refuses missing
  values.
* Reverse keying is never guessed: pass keyed data, or use :func:`reliability`
  with an instrument, whose ``keyed()`` recodes reverse items as
  ``scale_min + scale_max − x`` before *every* coefficient.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import _relcore as core
from ._results import ResultMixin
from .exceptions import SpecificationError

__all__ = ["AlphaResult", "SplitHalfResult", "cronbach_alpha", "guttman_lambda6", "split_half"]

CI_METHODS = ("feldt", "duhachek", "bootstrap", "bca", None)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AlphaResult(ResultMixin):
    """Cronbach's alpha with its confidence interval.

    ``estimate`` is raw alpha (covariance metric), ``std_alpha`` the
    standardised alpha (correlation metric), ``se`` the asymptotic standard
    error of Duhachek & Iacobucci (2004) (psych's ``ase``), ``lambda6`` Guttman's
    lambda-6 and ``average_r`` the mean inter-item correlation.
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

    _title = "Cronbach's alpha"

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


@dataclass(frozen=True)
class SplitHalfResult(ResultMixin):
    """Split-half reliabilities (psych ``splitHalf``): maximum, mean and minimum over splits."""

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


# --------------------------------------------------------------------------- helpers
def _r_data(nan_policy: str) -> str:
    return "na.omit(x)" if nan_policy == "listwise" else "x"


def _cov_and_cor(prep: core.Prepared):
    pairwise = prep.nan_policy == "pairwise" and prep.has_missing
    c, nij = core.covariance(prep.x, pairwise=pairwise)
    if pairwise:
        core.check_pair_counts(nij, prep.names)
    return c, core.cov2cor(c)


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt (1965) F-based interval, as psych::alpha.ci:

    [1 − (1 − α) F_{1−a/2}(n−1, (n−1)(k−1)),  1 − (1 − α) F_{a/2}(n−1, (n−1)(k−1))].
    """
    a = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.ppf(a / 2, df1, df2)
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
      seeded by ``seed`` (vectorised; see :mod:`custval._bootstrap`).

    Parameters
    ----------
    items : DataFrame
        Respondents × items, already keyed (reverse items recoded).
    nan_policy : {"listwise", "pairwise", "raise"}
    ci : float
        Confidence level.
    ci_method : {"feldt", "duhachek", "bootstrap", "bca", None}
    n_boot, seed, progress
        Bootstrap settings (ignored by analytic intervals).

    Returns
    -------
    AlphaResult

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
    >>> from custval._paths import RAW_DATA_DIR
    >>> from custval.reliability import cronbach_alpha
    >>> bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    >>> res = cronbach_alpha(bfi[["N1", "N2", "N3", "N4", "N5"]])
    >>> print(round(res.estimate, 4), round(res.ci_low, 4), round(res.ci_high, 4), res.n)
    0.8133 0.8019 0.8242 2694
    >>> # In R: psych::alpha(na.omit(bfi[c("N1","N2","N3","N4","N5")]))
    """
    _check_ci(ci, ci_method)
    prep = core.prepare_items(items, nan_policy=nan_policy)
    c, r = _cov_and_cor(prep)
    core.warn_scale(c, prep.names)
    k = len(prep.names)
    n = prep.n_used
    est = float(core.alpha_raw(c))
    se = float(np.sqrt(core.duhachek_q(c) / n))
    boot = None
    if ci_method is None:
        lo = hi = float("nan")
        method = "none"
    elif ci_method == "feldt":
        lo, hi = feldt_ci(est, n, k, ci)
        method = "feldt"
    elif ci_method == "duhachek":
        z = stats.norm.ppf(0.5 + ci / 2)
        lo, hi = est - z * se, est + z * se
        method = "duhachek"
    else:
        from ._bootstrap import bootstrap_coefficients, interval

        bt = bootstrap_coefficients(
            prep.x, {"alpha": [list(range(k))]}, n_boot=n_boot, seed=seed,
            pairwise=prep.nan_policy == "pairwise", progress=progress, jackknife=ci_method == "bca",
        )
        boot = bt.values["alpha"][0]
        lo, hi = interval(boot, est, ci=ci, method="bca" if ci_method == "bca" else "percentile",
                          jack=None if bt.jack is None else bt.jack["alpha"][0])
        method = f"{'bca' if ci_method == 'bca' else 'percentile'} bootstrap ({n_boot} resamples, seed {seed})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        l6 = float(core.lambda6(r)) if _invertible(r) else float("nan")
    r_call = f"psych::alpha({_r_data(nan_policy)})"
    if ci_method in ("bootstrap", "bca"):
        r_call = f"psych::alpha({_r_data(nan_policy)}, n.iter = {n_boot})"
    return AlphaResult(
        estimate=est, std_alpha=float(core.alpha_std(r)), se=se, ci_low=float(lo), ci_high=float(hi),
        n=n, n_items=k, method=method, ci=ci, lambda6=l6, average_r=float(core.average_r(r)),
        nan_policy=nan_policy, n_excluded=prep.n_excluded, items=prep.names, r_call=r_call, boot=boot,
    )


def _invertible(r) -> bool:
    return bool(np.linalg.eigvalsh(r)[0] > 1e-10)


# --------------------------------------------------------------------------- lambda 6, split-half
def guttman_lambda6(items, *, nan_policy: str = "listwise") -> float:
    r"""Guttman's (1945) lambda-6 in the correlation metric, as psych's ``G6(smc)``.

    .. math:: \lambda_6 = 1 - \frac{k - \sum_i \mathrm{smc}_i}{\mathbf 1' R \mathbf 1},
        \qquad \mathrm{smc}_i = 1 - 1/(R^{-1})_{ii}

    Raises :class:`~custval.exceptions.SingularMatrixError` naming the items when R
    is singular (perfectly collinear items).

    References
    ----------
    Guttman, L. (1945). A basis for analyzing test-retest reliability.
    *Psychometrika, 10*(4), 255–282.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval._paths import RAW_DATA_DIR
    >>> from custval.reliability import guttman_lambda6
    >>> bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    >>> round(guttman_lambda6(bfi[["N1", "N2", "N3", "N4", "N5"]]), 4)
    0.8...
    >>> # In R: psych::alpha(na.omit(bfi[c("N1","N2","N3","N4","N5")]))$total$`G6(smc)`
    """
    prep = core.prepare_items(items, nan_policy=nan_policy)
    _, r = _cov_and_cor(prep)
    core.check_singular(r, prep.names, what="lambda-6")
    return float(core.lambda6(r))


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

    Examples
    --------
    >>> import pandas as pd
    >>> from custval._paths import RAW_DATA_DIR
    >>> from custval.reliability import split_half
    >>> bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
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
