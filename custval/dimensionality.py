"""How many factors, and is factoring sensible at all: KMO, Bartlett, parallel analysis, MAP.

Every function reproduces R's psych (``psych::KMO``, ``psych::cortest.bartlett``,
``psych::fa.parallel``, ``psych::vss``'s MAP) and names the equivalent call in
``r_call``; ``tests/test_dimensionality.py`` compares against values written by
``tests/r/dimensionality.R``.

Conventions
-----------
* Data are respondents × items.  ``nan_policy="pairwise"`` (psych's default)
  correlates each pair over the rows where both items are observed, as R's
  ``cor(x, use = "pairwise")``; ``"listwise"`` keeps complete rows; ``"raise"``
  refuses missing values.
* ``n`` is the number of rows used: complete rows (listwise) or rows with at
  least one answer (pairwise; psych counts all rows, which is the same unless
  a row is entirely empty).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._results import ResultMixin
from ._sem.spec import as_instrument
from ._stats import factor_extraction as fx
from .correlation import correlation_input
from .exceptions import InsufficientDataError, NotPositiveDefiniteError, SpecificationError

__all__ = [
    "BartlettResult",
    "HarmanResult",
    "KMOResult",
    "MAPResult",
    "ParallelAnalysisResult",
    "bartlett",
    "harman_single_factor",
    "kmo",
    "parallel_analysis",
    "velicer_map",
]


# --------------------------------------------------------------------------- KMO
@dataclass(frozen=True, eq=False)
class KMOResult(ResultMixin):
    """Kaiser–Meyer–Olkin measure of sampling adequacy.

    ``estimate`` is the overall MSA, ``msa`` the per-item MSA (a Series
    labelled by item), ``n`` the rows used.

    Attributes
    ----------
    estimate : float
        The overall MSA.
    msa : Series
        The MSA of each item, labelled by item.
    n : int
        Rows (respondents) used.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).

    See Also
    --------
    custval.dimensionality.kmo : The function that returns it.
    """

    estimate: float
    msa: pd.Series
    n: int
    n_excluded: int
    nan_policy: str
    r_call: str
    convention: str = (
        "MSA = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2) over i != j, q = partial (anti-image) correlations"
    )

    _title = "Kaiser-Meyer-Olkin measure of sampling adequacy"

    @property
    def overall(self) -> float:
        """The overall MSA (same as ``estimate``).

        See Also
        --------
        custval.dimensionality.kmo : Computes it with the per-item MSA.
        """
        return self.estimate

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"estimate": self.msa, "n": self.n})
        overall = pd.DataFrame({"estimate": [self.estimate], "n": [self.n]}, index=["overall"])
        return pd.concat([overall, frame])


def kmo(data, *, nan_policy: str = "pairwise") -> KMOResult:
    r"""Kaiser–Meyer–Olkin measure of sampling adequacy (overall and per item), as ``psych::KMO``.

    With :math:`R` the correlation matrix and :math:`Q` the partial
    correlations :math:`q_{ij} = -s_{ij}/\sqrt{s_{ii}s_{jj}}`, :math:`S = R^{-1}`,

    .. math:: \mathrm{MSA} = \frac{\sum_{i\ne j} r_{ij}^2}{\sum_{i\ne j} r_{ij}^2 + \sum_{i\ne j} q_{ij}^2},
              \qquad \mathrm{MSA}_j = \frac{\sum_{i\ne j} r_{ij}^2}{\sum_{i\ne j} r_{ij}^2 + \sum_{i\ne j} q_{ij}^2}.

    Values above .80 are "meritorious", below .50 "unacceptable" (Kaiser, 1974).

    Parameters
    ----------
    data : DataFrame
        Respondents × items.
    nan_policy : {"pairwise", "listwise", "raise"}
        ``"pairwise"`` is psych's default (``cor(x, use = "pairwise")``).  Unlike
        factor_analyzer 0.5.1, missing values are handled instead of raising.

    Returns
    -------
    KMOResult
        ``estimate`` (overall MSA), ``msa`` (per item), ``n``.

    Raises
    ------
    SingularMatrixError
        The correlation matrix cannot be inverted (collinear items are named).
    ConstantItemError, InsufficientDataError
        A constant item; fewer respondents than items.

    See Also
    --------
    custval.dimensionality.bartlett : Bartlett's test of sphericity.
    custval.dimensionality.parallel_analysis : How many factors to extract.

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. *Psychometrika, 35*(4), 401–415.
    Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika, 39*(1), 31–36.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> bfi = load_dataset("bfi").data.loc[:, "A1":"O5"]
    >>> res = custval.kmo(bfi)
    >>> round(res.estimate, 4)
    0.8459
    >>> print(res.msa.head(3).round(3))
    A1    0.745
    A2    0.838
    A3    0.873
    Name: msa, dtype: float64

    # In R: psych::KMO(bfi[, 1:25])
    """
    ci = correlation_input(data, nan_policy=nan_policy)
    r = ci.r
    rinv = fx.checked_inverse(r, ci.names, what="KMO (partial correlations)")
    bad = [ci.names[j] for j in np.flatnonzero(np.diag(rinv) <= 0)]
    if bad:
        raise NotPositiveDefiniteError(
            "KMO: the correlation matrix is not positive definite and its inverse has non-positive "
            f"diagonal entries for {', '.join(bad)}, so their partial correlations are undefined; "
            "use nan_policy='listwise'"
        )
    d = np.sqrt(np.diag(rinv))
    q = rinv / np.outer(d, d)
    np.fill_diagonal(q, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2 = r0**2
    q2 = q**2
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(
        estimate=overall,
        msa=pd.Series(per, index=list(ci.names), name="msa"),
        n=ci.n_obs,
        n_excluded=ci.n_excluded,
        nan_policy=nan_policy,
        r_call='psych::KMO(x)  # cor(x, use = "pairwise")'
        if nan_policy == "pairwise"
        else "psych::KMO(na.omit(x))",
    )


# --------------------------------------------------------------------------- Bartlett
@dataclass(frozen=True, eq=False)
class BartlettResult(ResultMixin):
    """Bartlett's test of sphericity (H0: the population correlation matrix is the identity).

    Attributes
    ----------
    chisq : float
        The test statistic.
    df : int
        Its degrees of freedom, p(p - 1)/2.
    p_value : float
        The p value of the chi-square test.
    n : int
        Rows (respondents) used.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).

    See Also
    --------
    custval.dimensionality.bartlett : The function that returns it.
    """

    chisq: float
    df: int
    p_value: float
    n: int
    n_excluded: int
    nan_policy: str
    r_call: str
    convention: str = "chisq = -(n - 1 - (2p + 5)/6) ln|R|, df = p(p - 1)/2"

    _title = "Bartlett's test of sphericity"

    @property
    def estimate(self) -> float:
        return self.chisq

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"estimate": [self.chisq], "df": [self.df], "p_value": [self.p_value], "n": [self.n]},
            index=["chisq"],
        )


def bartlett(data, *, nan_policy: str = "pairwise") -> BartlettResult:
    r"""Bartlett's (1951) test that the items are uncorrelated, as ``psych::cortest.bartlett``.

    .. math:: \chi^2 = -\Big(n - 1 - \frac{2p + 5}{6}\Big)\ln|R|, \qquad df = \frac{p(p-1)}{2}.

    A significant result only says the correlations are not all zero; with
    survey-sized samples it is almost always significant.

    Parameters
    ----------
    data : DataFrame
        Respondents × items.
    nan_policy : {"pairwise", "listwise", "raise"}
        How missing values enter :math:`R`; ``n`` is the number of rows used
        (psych uses ``nrow(x)`` for pairwise data).

    Returns
    -------
    BartlettResult
        ``chisq``, ``df``, ``p_value``, ``n``.

    Raises
    ------
    NotPositiveDefiniteError
        :math:`|R| \le 0` (possible with pairwise deletion); the items are named.

    See Also
    --------
    custval.dimensionality.kmo : Sampling adequacy.
    custval.dimensionality.parallel_analysis : How many factors to extract.

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square
    approximation in factor analysis. *Biometrika, 38*(3/4), 337–344.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> res = custval.bartlett(hs.loc[:, "x1":"x9"])
    >>> round(res.chisq, 2), res.df, res.n
    (904.1, 36, 301)

    # In R: psych::cortest.bartlett(hs[, paste0("x", 1:9)])
    """
    ci = correlation_input(data, nan_policy=nan_policy)
    p = len(ci.names)
    logdet = fx.checked_logdet(ci.r, ci.names, what="Bartlett's test")
    n = ci.n_obs
    chisq = float(-logdet * (n - 1 - (2 * p + 5) / 6))
    df = p * (p - 1) // 2
    return BartlettResult(
        chisq=chisq,
        df=df,
        p_value=float(stats.chi2.sf(chisq, df)),
        n=n,
        n_excluded=ci.n_excluded,
        nan_policy=nan_policy,
        r_call="psych::cortest.bartlett(x)" if nan_policy == "pairwise"
        else "psych::cortest.bartlett(na.omit(x))",
    )


# --------------------------------------------------------------------------- parallel analysis
PA_KINDS = ("both", "pc", "fa")


@dataclass(frozen=True, eq=False)
class ParallelAnalysisResult(ResultMixin):
    """Horn's parallel analysis, as ``psych::fa.parallel``.

    ``eigenvalues`` holds, per position 1..p, the observed component (``pc``)
    and common-factor (``fa``) eigenvalues and, for the ``n_iter`` resampled
    data sets (each column resampled independently) and normal simulated data
    sets, their mean and ``quantile``.  ``n_factors`` / ``n_components`` are the
    suggested numbers: how many leading observed eigenvalues exceed the
    ``quantile`` of the normal simulated ones (psych's rule).

    Attributes
    ----------
    eigenvalues : DataFrame
        Per position 1..p, the observed, resampled and simulated eigenvalues (see above).
    n_factors, n_components : int or None
        The suggested numbers of factors and components (``None`` when not computed for ``kind``).
    n_iter : int
        Resampled and simulated data sets.
    seed : int
        Seed of the random numbers.
    quantile : float
        The quantile of the random eigenvalues used as the reference.
    kind : str
        ``"fa"``, ``"pc"`` or ``"both"``.
    cor : str
        The correlation (``"pearson"`` or ``"polychoric"``).
    n : int
        Rows (respondents) used.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).
    simulated : ndarray or None
        The eigenvalues of every simulated data set (not shown in displays).

    See Also
    --------
    custval.dimensionality.parallel_analysis : The function that returns it.
    """

    eigenvalues: pd.DataFrame
    n_factors: int | None
    n_components: int | None
    n_iter: int
    seed: int
    quantile: float
    kind: str
    cor: str
    n: int
    n_excluded: int
    nan_policy: str
    r_call: str
    convention: str = (
        "suggested number = count of leading observed eigenvalues greater than the quantile of "
        "eigenvalues of normal random data of the same size (fa: 1-factor minres common-factor eigenvalues)"
    )
    simulated: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)

    _title = "Parallel analysis"

    def to_frame(self) -> pd.DataFrame:
        return self.eigenvalues

    def _notes(self) -> list[str]:
        return [
            f"Suggested: {self.n_factors} factor(s), {self.n_components} component(s) "
            f"({self.n_iter} iterations, seed {self.seed}, quantile {self.quantile:g})",
            *super()._notes(),
        ]

    def plot(self, *, ax=None):
        """Scree plot of observed, simulated and resampled eigenvalues.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure by default.

        Returns
        -------
        matplotlib Axes
            The plot.

        See Also
        --------
        custval.plots.save_figure : Save the figure.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ev = self.eigenvalues
        x = ev.index.to_numpy()
        for kind, marker in (("pc", "x"), ("fa", "^")):
            if f"{kind}_observed" not in ev:
                continue
            label = "PC" if kind == "pc" else "FA"
            ax.plot(x, ev[f"{kind}_observed"], marker=marker, color="tab:blue", label=f"{label} actual data")
            ax.plot(x, ev[f"{kind}_simulated_q"], ls=":", color="tab:red", label=f"{label} simulated data")
            ax.plot(x, ev[f"{kind}_resampled_q"], ls="--", color="tab:red", alpha=0.6,
                    label=f"{label} resampled data")
        if self.kind != "pc":
            ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xlabel("Factor / component number")
        ax.set_ylabel("Eigenvalue")
        ax.set_title(
            f"Parallel analysis: {self.n_factors} factor(s), {self.n_components} component(s)"
        )
        ax.legend(fontsize="small")
        return ax


def _fa_values(r: np.ndarray) -> np.ndarray:
    # psych::fa.parallel: fa(r, nfactors = 1, fm = "minres", rotate = "none")$values
    return fx.one_factor_values(r)


def _normal_data_cor(rng, k: int, n: int, p: int) -> np.ndarray:
    """Correlation matrices of ``k`` simulated n × p standard-normal data sets.

    psych draws the n × p data (``cor(matrix(rnorm(n * p), n))``).  The
    centred cross-product matrix of such data is Wishart(n - 1, I), so we draw
    it directly with Bartlett's decomposition ``W = T T'`` (T lower triangular,
    ``T_ii^2 ~ chi^2(n - i)``, ``T_ij ~ N(0, 1)`` below the diagonal) and
    standardise: the same distribution at O(p^2) instead of O(np) cost.
    """
    t = np.tril(rng.standard_normal((k, p, p)), -1)
    idx = np.arange(p)
    t[:, idx, idx] = np.sqrt(rng.chisquare(n - 1 - idx, size=(k, p)))
    w = t @ t.transpose(0, 2, 1)
    d = np.sqrt(np.diagonal(w, axis1=1, axis2=2))
    return w / (d[:, :, None] * d[:, None, :])


def _batched_cor(x: np.ndarray) -> np.ndarray:
    """Pearson correlations of a stack of complete data sets (iter × n × p)."""
    xc = x - x.mean(axis=1, keepdims=True)
    c = np.matmul(xc.transpose(0, 2, 1), xc)
    d = np.sqrt(np.diagonal(c, axis1=1, axis2=2))
    return c / (d[:, :, None] * d[:, None, :])


def _batched_pairwise_cor(x: np.ndarray) -> np.ndarray:
    """R's ``cor(x, use = "pairwise")`` for a stack of data sets (iter × n × p) with NaNs."""
    miss = np.isnan(x)
    m = (~miss).astype(float)
    x0 = np.where(miss, 0.0, x - np.nanmean(x, axis=1, keepdims=True))
    mt = m.transpose(0, 2, 1)
    x0t = x0.transpose(0, 2, 1)
    nij = mt @ m
    sxy = x0t @ x0
    sx = x0t @ m
    sxx = (x0t * x0t) @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.transpose(0, 2, 1) / nij
        vi = sxx - sx * sx / nij
        r = cov / np.sqrt(vi * vi.transpose(0, 2, 1))
    idx = np.arange(x.shape[2])
    r[:, idx, idx] = 1.0
    return r


def parallel_analysis(
    data,
    *,
    n_iter: int = 100,
    quantile: float = 0.95,
    kind: str = "both",
    cor: str = "pearson",
    seed: int = 0,
    nan_policy: str = "pairwise",
    progress: bool = False,
) -> ParallelAnalysisResult:
    r"""Horn's (1965) parallel analysis, as ``psych::fa.parallel``.

    Observed eigenvalues are compared with those of ``n_iter`` random data
    sets of the same size: (a) normal random data, and (b) the data with each
    column resampled independently (which keeps the marginal distributions and
    destroys the correlations).  Component eigenvalues are those of :math:`R`;
    factor eigenvalues those of :math:`R` with the communalities of a
    one-factor minres solution on the diagonal (psych's default).  The
    suggested number of components (factors) is the number of leading observed
    eigenvalues larger than the ``quantile`` of the simulated normal ones.

    Parameters
    ----------
    data : DataFrame
        Respondents × items.
    n_iter : int, default 100
        Number of simulated and of resampled data sets (psych's default is 20).
    quantile : float, default 0.95
        Quantile of the simulated eigenvalues used as the threshold (psych ``quant``).
    kind : {"both", "pc", "fa"}
        Which eigenvalues to analyse (psych ``fa``).
    cor : {"pearson", "polychoric"}
        Correlations of the observed and resampled data (the normal simulated
        data always use Pearson correlations, as psych).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; reported in the result.
    nan_policy : {"pairwise", "listwise", "raise"}
        Missing values (resampling keeps NaNs, correlations are pairwise, as psych).
    progress : bool
        Show a progress bar.

    Returns
    -------
    ParallelAnalysisResult
        Observed and simulated eigenvalues, the suggested numbers, ``n_iter``
        and ``seed``; ``.plot()`` draws the scree plot.

    See Also
    --------
    custval.dimensionality.velicer_map : Velicer's MAP test.
    custval.efa.EFA : Fit the chosen number of factors.

    Notes
    -----
    The observed eigenvalues are deterministic and equal psych's; the random
    ones come from a different generator than R's, so the simulated means and
    quantiles agree only in distribution, and a suggested number can differ
    from psych's when an observed eigenvalue lies within simulation noise of
    its threshold.  The correlation matrices of the normal data are drawn from
    their exact sampling distribution (the Wishart cross-product matrix via
    Bartlett's decomposition) instead of from n × p random numbers: the same
    distribution at a fraction of the cost.  The one-factor minres fits use
    psych's optimiser settings (see :class:`custval.EFA`); a fit whose
    L-BFGS-B run stops abnormally or with a uniqueness at a bound (common for
    random data: an item with no common variance) is continued to the true
    minimum of the residual sum of squares, as in ``EFA`` (its
    ``optimizer_fallback_``), so the simulated eigenvalues are the same on
    every CPU; this happens in about 10-25% of the simulated fits.

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor
    analysis. *Psychometrika, 30*(2), 179–185.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> res = custval.parallel_analysis(hs.loc[:, "x1":"x9"], n_iter=20, seed=1)
    >>> res.n_factors, res.n_components
    (3, 3)
    >>> print(res.eigenvalues["pc_observed"].head(3).round(3).tolist())
    [3.216, 1.639, 1.365]

    # In R: set.seed(1); psych::fa.parallel(hs[, paste0("x", 1:9)], n.iter = 20)
    """
    if kind not in PA_KINDS:
        raise SpecificationError(f"kind must be one of {PA_KINDS}; got {kind!r}")
    if not (0 < quantile < 1):
        raise SpecificationError(f"quantile must lie strictly between 0 and 1; got {quantile!r}")
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 2:
        raise SpecificationError(f"n_iter must be an integer >= 2; got {n_iter!r}")

    from threadpoolctl import threadpool_limits

    ci = correlation_input(data, nan_policy=nan_policy, cor=cor)
    # many small matrices: BLAS threads only add overhead (and fight teammates' jobs)
    with threadpool_limits(limits=1):
        return _parallel(ci, n_iter, quantile, kind, cor, seed, nan_policy, progress)


def _parallel(ci, n_iter, quantile, kind, cor, seed, nan_policy, progress) -> ParallelAnalysisResult:
    from .correlation import _pairwise_pearson, _polychoric_matrix

    x = ci.x
    n, p = x.shape
    do_fa = kind != "pc"
    pc_obs = np.linalg.eigvalsh(ci.r)[::-1]
    fa_obs = _fa_values(ci.r) if do_fa else None
    rng = np.random.default_rng(seed)

    iterator = None
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(total=n_iter, desc="parallel analysis")
    samp = np.empty((n_iter, p))
    samp_fa = np.full((n_iter, p), np.nan)
    has_nan = bool(np.isnan(x).any())
    cols = np.arange(p)

    def resampled_cor():
        # psych: each column resampled independently; redraw when a correlation is undefined
        while True:
            xs = x[rng.integers(0, n, size=(n, p)), cols]
            if cor == "pearson":
                c = _pairwise_pearson(xs)[0]
            else:
                try:
                    c = _polychoric_matrix(xs, ci.names, correct=0.5)[0]
                except InsufficientDataError:  # a resample with a single category
                    continue
            if not np.isnan(c).any():
                return c

    chunk = 20 if cor == "pearson" else 1
    done = 0
    while done < n_iter:
        k = min(chunk, n_iter - done)
        if cor == "pearson":
            xs = x[rng.integers(0, n, size=(k, n, p)), cols]
            cs = _batched_pairwise_cor(xs) if has_nan else _batched_cor(xs)
        else:
            cs = np.stack([resampled_cor() for _ in range(k)])
        for j in range(k):
            c = cs[j]
            if np.isnan(c).any():
                c = resampled_cor()
            samp[done + j] = np.linalg.eigvalsh(c)[::-1]
            if do_fa:
                samp_fa[done + j] = _fa_values(c)
            if progress:
                iterator.update(1)
        done += k
    if progress:
        iterator.close()
    sim_cor = _normal_data_cor(rng, n_iter, n, p)
    sim = np.linalg.eigvalsh(sim_cor)[:, ::-1]
    sim_fa = np.full((n_iter, p), np.nan)
    if do_fa:
        for it in range(n_iter):
            sim_fa[it] = _fa_values(sim_cor[it])

    def q(a):
        return np.quantile(a, quantile, axis=0)

    def count(obs, thr):
        above = obs > thr
        return int(np.argmin(above)) if not above.all() else p

    cols: dict[str, np.ndarray] = {}
    n_comp = n_fact = None
    if kind in ("both", "pc"):
        cols.update(pc_observed=pc_obs, pc_simulated_mean=sim.mean(axis=0), pc_simulated_q=q(sim),
                    pc_resampled_mean=samp.mean(axis=0), pc_resampled_q=q(samp))
        n_comp = count(pc_obs, q(sim))
    if do_fa:
        cols.update(fa_observed=fa_obs, fa_simulated_mean=sim_fa.mean(axis=0), fa_simulated_q=q(sim_fa),
                    fa_resampled_mean=samp_fa.mean(axis=0), fa_resampled_q=q(samp_fa))
        n_fact = count(fa_obs, q(sim_fa))
    ev = pd.DataFrame(cols, index=pd.RangeIndex(1, p + 1, name="position"))
    cor_r = "" if cor == "pearson" else ', cor = "poly"'
    return ParallelAnalysisResult(
        eigenvalues=ev,
        n_factors=n_fact,
        n_components=n_comp,
        n_iter=int(n_iter),
        seed=seed,
        quantile=quantile,
        kind=kind,
        cor=cor,
        n=ci.n_obs,
        n_excluded=ci.n_excluded,
        nan_policy=nan_policy,
        r_call=f'psych::fa.parallel(x, n.iter = {n_iter}, quant = {quantile:g}, fa = "{kind}"{cor_r})',
        simulated=np.stack([samp, samp_fa, sim, sim_fa]),
    )


# --------------------------------------------------------------------------- MAP
@dataclass(frozen=True, eq=False)
class MAPResult(ResultMixin):
    """Velicer's minimum average partial (MAP) criterion, as ``psych::vss(x)$map``.

    Attributes
    ----------
    map : Series
        The average squared partial correlation after removing m components, indexed by m.
    n_factors : int
        The m with the smallest MAP.
    n : int
        Rows (respondents) used.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).

    See Also
    --------
    custval.dimensionality.velicer_map : The function that returns it.
    """

    map: pd.Series
    n_factors: int
    n: int
    n_excluded: int
    nan_policy: str
    r_call: str
    convention: str = (
        "MAP(m) = mean squared off-diagonal partial correlation after removing the first m "
        "principal components (m = 1..min(max, p-1), as psych; no m = 0 row)"
    )

    _title = "Velicer's MAP"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"estimate": self.map, "n": self.n})

    def _notes(self) -> list[str]:
        return [f"Suggested number of factors: {self.n_factors}", *super()._notes()]


def velicer_map(data, *, max_factors: int = 8, nan_policy: str = "pairwise") -> MAPResult:
    r"""Velicer's (1976) minimum average partial test, as psych's ``vss(x)$map``.

    With :math:`A_m` the loadings of the first :math:`m` principal components
    and :math:`C_m = R - A_m A_m'`, the partial correlations are
    :math:`R^*_m = D^{-1/2} C_m D^{-1/2}` (:math:`D = \operatorname{diag} C_m`) and

    .. math:: \mathrm{MAP}(m) = \frac{\sum_{i \ne j} (r^*_{m,ij})^2}{p(p-1)}.

    The suggested number of factors is the :math:`m` with the smallest MAP.

    Parameters
    ----------
    data : DataFrame
        Respondents × items.
    max_factors : int, default 8
        Largest :math:`m` (psych's ``n``); at most :math:`p - 1` are computed.
    nan_policy : {"pairwise", "listwise", "raise"}

    Returns
    -------
    MAPResult
        ``map`` (indexed by m) and the suggested ``n_factors``.

    See Also
    --------
    custval.dimensionality.parallel_analysis : Horn's parallel analysis.
    custval.efa.EFA : Fit the chosen number of factors.

    References
    ----------
    Velicer, W. F. (1976). Determining the number of components from the matrix
    of partial correlations. *Psychometrika, 41*(3), 321–327.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> bfi = load_dataset("bfi").data.loc[:, "A1":"O5"]
    >>> res = custval.velicer_map(bfi)
    >>> res.n_factors
    5
    >>> round(float(res.map[5]), 4)
    0.0148

    # In R: psych::vss(bfi[, 1:25], n = 8, plot = FALSE)$map
    """
    if not isinstance(max_factors, (int, np.integer)) or max_factors < 1:
        raise SpecificationError(f"max_factors must be a positive integer; got {max_factors!r}")
    ci = correlation_input(data, nan_policy=nan_policy)
    r = ci.r
    p = r.shape[0]
    w, v = fx._eigh_desc(r)
    if w[-1] < 0:
        fx.checked_inverse(r, ci.names, what="MAP")  # warns with the items named
    comp = v * np.sqrt(np.maximum(w, 0))
    n1 = min(max_factors, p - 1)
    out = np.empty(n1)
    for m in range(1, n1 + 1):
        c = r - comp[:, :m] @ comp[:, :m].T
        d = 1 / np.sqrt(np.diag(c))
        rs = c * np.outer(d, d)
        np.fill_diagonal(rs, 0.0)
        out[m - 1] = np.sum(rs * rs) / (p * (p - 1))
    series = pd.Series(out, index=pd.RangeIndex(1, n1 + 1, name="n_factors"), name="map")
    return MAPResult(
        map=series,
        n_factors=int(np.argmin(out)) + 1,
        n=ci.n_obs,
        n_excluded=ci.n_excluded,
        nan_policy=nan_policy,
        r_call=f"psych::vss(x, n = {max_factors}, plot = FALSE)$map",
    )


# --------------------------------------------------------------------------- Harman
@dataclass(frozen=True, eq=False)
class HarmanResult(ResultMixin):
    """Harman's single-factor test: the variance share of one unrotated factor.

    ``estimate`` is the proportion of total item variance explained by one
    unrotated factor; ``exceeds_half`` says whether it is above .50, the usual
    (weak) flag for common-method variance.

    Attributes
    ----------
    estimate : float
        Share of the total item variance explained by one unrotated factor.
    ss_loadings : float
        Sum of the squared loadings of that factor.
    exceeds_half : bool
        ``estimate`` > .50.
    method : str
        The extraction method of the factor.
    loadings : Series
        The loadings, labelled by item.
    n : int
        Rows (respondents) used.
    n_items : int
        Number of items.
    n_excluded : int
        Rows left out, e.g. incomplete rows under listwise deletion.
    nan_policy : str
        How missing values entered the statistic.
    r_call : str
        The R call that gives the same numbers.
    convention : str
        The formula or rule behind the numbers (shown by ``summary()``).

    See Also
    --------
    custval.dimensionality.harman_single_factor : The function that returns it.
    """

    estimate: float
    ss_loadings: float
    exceeds_half: bool
    method: str
    loadings: pd.Series
    n: int
    n_items: int
    n_excluded: int
    nan_policy: str
    r_call: str
    convention: str = (
        "share = sum of squared loadings of one unrotated factor / number of items; a weak test: "
        "a share below .50 does not show the absence of common-method bias (Podsakoff et al., 2003)"
    )

    _title = "Harman's single-factor test"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"estimate": [self.estimate], "ss_loadings": [self.ss_loadings], "n": [self.n],
             "n_items": [self.n_items], "exceeds_half": [self.exceeds_half]},
            index=["variance_share"],
        )


def harman_single_factor(
    data, instrument=None, *, method: str = "minres", nan_policy: str = "pairwise"
) -> HarmanResult:
    r"""Harman's single-factor test for common-method variance.

    All items of the instrument (reverse items recoded with
    ``instrument.keyed``) are forced onto one unrotated factor; the share of
    their total variance it explains is

    .. math:: s = \frac{1}{p} \sum_{j=1}^{p} \lambda_j^2

    (``method="minres"``, psych's ``fa(x, 1, rotate = "none")`` "Proportion Var")
    or :math:`s = \ell_1 / p`, the first eigenvalue over the number of items
    (``method="pc"``).  A share above .50 is read as a sign of common-method
    variance.

    This is a weak, much-criticised diagnostic: it detects only a method factor
    that dominates everything else, and a share below .50 does not show that
    method bias is absent (Podsakoff et al., 2003).  Prefer a marker variable
    or a common-method factor model (:mod:`custval.validity`).

    Parameters
    ----------
    data : DataFrame
        Respondents × items (raw codes; keying is applied here).
    instrument : custval.Instrument, optional
        (or a shipped instrument's name or a codebook path) Supplies the items (``instrument.items``) and their keying.  Without it,
        all columns of ``data`` are used as given.
    method : {"minres", "pc"}
    nan_policy : {"pairwise", "listwise", "raise"}

    Returns
    -------
    HarmanResult

    See Also
    --------
    custval.validity.common_method_cfa : The common-method-factor CFA check.

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003).
    Common method biases in behavioral research: A critical review of the
    literature and recommended remedies. *Journal of Applied Psychology, 88*(5), 879–903.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> res = custval.harman_single_factor(hs.loc[:, "x1":"x9"])
    >>> round(res.estimate, 4), res.exceeds_half
    (0.2925, False)

    # In R: psych::fa(hs[, paste0("x", 1:9)], nfactors = 1, rotate = "none")$Vaccounted
    """
    if method not in ("minres", "pc"):
        raise SpecificationError(f"method must be 'minres' or 'pc'; got {method!r}")
    if instrument is not None:
        instrument = as_instrument(instrument)
        if not isinstance(data, pd.DataFrame):
            raise SpecificationError("with an instrument, data must be a DataFrame with its item columns")
        items = list(instrument.items)
        missing = [i for i in items if i not in data.columns]
        if missing:
            raise SpecificationError(
                f"items of instrument {getattr(instrument, 'name', '')!r} not in the data: {', '.join(missing)}"
            )
        from ._keys import keyed_once

        data = keyed_once(data[items], instrument)[items]
    ci = correlation_input(data, nan_policy=nan_policy)
    p = len(ci.names)
    if method == "minres":
        ex = fx.extract(ci.r, 1, "minres")
        lam = ex.loadings[:, 0]
    else:
        w, v = fx._eigh_desc(ci.r)
        lam = v[:, 0] * np.sqrt(w[0])
        if lam.sum() < 0:
            lam = -lam
    ss = float(np.sum(lam**2))
    share = ss / p
    return HarmanResult(
        estimate=share,
        ss_loadings=ss,
        exceeds_half=bool(share > 0.5),
        method=method,
        loadings=pd.Series(lam, index=list(ci.names), name="loading"),
        n=ci.n_obs,
        n_items=p,
        n_excluded=ci.n_excluded,
        nan_policy=nan_policy,
        r_call='psych::fa(x, nfactors = 1, rotate = "none")$Vaccounted["Proportion Var", ]'
        if method == "minres"
        else "psych::principal(x, nfactors = 1, rotate = 'none')$Vaccounted",
    )
