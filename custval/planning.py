"""Study planning by simulation: dynamic fit-index cutoffs for the user's own CFA model.

Fixed cutoffs (SRMR <= .08, RMSEA <= .06, CFI >= .95; Hu & Bentler, 1999) were derived from
one three-factor model; how much misfit a given SRMR means depends on the number of items,
factors and the size of the loadings.  Dynamic fit-index (DFI) cutoffs (McNeish & Wolf, 2023)
simulate the user's own model: data from the fitted standardized solution (the model is right)
and from the same solution with misspecifications added at increasing levels, each sample
fitted with the user's model; a cutoff separates the fit indices of the right model from those
of the misspecified ones.

The simulations are cut into seeded tasks (:mod:`numpy.random.SeedSequence` children, one per
task of 25 replications) that run serially, on any :class:`concurrent.futures.Executor` or on a
``dask.distributed.Client``: the same ``seed`` gives bit-identical results whatever runs them.

References
----------
McNeish, D., & Wolf, M. G. (2023). Dynamic fit index cutoffs for confirmatory factor analysis
models. *Psychological Methods, 28*(1), 61-88. https://doi.org/10.1037/met0000425

McNeish, D., & Wolf, M. G. (2023). Dynamic fit index cutoffs for one-factor models.
*Behavior Research Methods, 55*, 1157-1174. https://doi.org/10.3758/s13428-022-01847-y

Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
analysis. *Structural Equation Modeling, 6*(1), 1-55.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ._results import ResultMixin
from ._stats.tasks import DEFAULT_CHUNK, run_tasks, task_plan, task_seeds
from .exceptions import CustvalWarning, SpecificationError

__all__ = ["DynamicCutoffsResult", "dynamic_fit_cutoffs"]

#: ``dynamic`` caps the simulated sample size at 2,000 (larger samples change little but cost much)
MAX_N = 2000
#: powers scanned for a misspecified level, .95 down to 0 (as ``dynamic``)
_POWERS = np.round(np.arange(95, -1, -1) / 100, 2)
#: residual correlation of the one-factor misspecifications (McNeish & Wolf, one-factor paper)
ONE_FACTOR_RESIDUAL_CORRELATION = 0.3
_INDICES = ("srmr", "rmsea", "cfi")


@dataclasses.dataclass(frozen=True, eq=False)
class DynamicCutoffsResult(ResultMixin):
    """Dynamic fit-index cutoffs for one CFA model (McNeish & Wolf, 2023).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per level (index ``level``: 0 = the model is right, 1.. = misspecified):
        ``srmr``, ``rmsea``, ``cfi`` (the cutoffs; NaN where no cutoff reaches 50% power),
        ``srmr_power``, ``rmsea_power``, ``cfi_power`` (share of misspecified samples the
        cutoff flags; .95 at level 0 by construction) and ``misspecification`` (what level k
        adds to the population model).
    fitted : pandas.Series
        The user's fit indices (``srmr``, ``rmsea``, ``cfi``) from the fitted model.
    simulated : pandas.DataFrame
        Every simulated fit: columns ``level`` (``0`` = right model), ``replication``, ``srmr``,
        ``rmsea``, ``cfi`` (NaN where the fit did not converge).
    population : dict
        The standardized population model (``loadings``, ``factor_correlations``,
        ``residual_correlations``) the simulation draws from, rounded to 4 decimals as
        ``dynamic`` rounds it.
    n : int
        Sample size of each simulated data set (the fitted n, at most 2,000).
    replications : int
        Simulated samples per level.
    seed : int
        The seed.
    n_failed : int
        Simulated fits that did not converge (left out of the quantiles).
    convention : str
        Which algorithm (``"cfaHB"`` multi-factor or ``"cfaOne"`` one-factor) and its rules.
    r_call : str
        The equivalent R call.

    See Also
    --------
    dynamic_fit_cutoffs : Computes this result.
    """

    table: pd.DataFrame
    fitted: pd.Series
    simulated: pd.DataFrame
    population: dict
    n: int
    replications: int
    seed: int
    n_failed: int
    convention: str
    r_call: str

    _title = "Dynamic fit-index cutoffs"

    def to_frame(self) -> pd.DataFrame:
        """The cutoffs per level.

        Returns
        -------
        pandas.DataFrame
            :attr:`table`, a copy.

        See Also
        --------
        dynamic_fit_cutoffs : Computes this result.
        """
        return self.table.copy()

    def verdict(self) -> pd.Series:
        """For each index, the highest misspecification level whose cutoff the fitted model meets.

        A level is met when the fitted SRMR or RMSEA is at or below its cutoff (CFI at or
        above).  ``0``: the fit is within what samples from the right model give; ``k >= 1``:
        the fit is also better than the cutoff for k omitted misspecifications, which is the
        weaker claim (McNeish & Wolf read "meets level 1" as at most that much misfit);
        ``-1``: no level is met.

        Returns
        -------
        pandas.Series
            Index ``srmr``, ``rmsea``, ``cfi``.

        See Also
        --------
        dynamic_fit_cutoffs : Computes this result.
        """
        out = {}
        for ix in _INDICES:
            met = []
            for level, cut in self.table[ix].items():
                if np.isnan(cut):
                    continue
                ok = self.fitted[ix] >= cut if ix == "cfi" else self.fitted[ix] <= cut
                met.append((level, bool(ok)))
            best = -1
            for level, ok in met:
                if ok:
                    best = max(best, int(level))
            out[ix] = best
        return pd.Series(out, name="highest level met")

    def _notes(self) -> list[str]:
        notes = [f"{self.replications} simulated samples of n = {self.n} per level (seed {self.seed}); "
                 f"{self.n_failed} fits did not converge and are left out",
                 "level 0: 95th percentile of SRMR and RMSEA and 5th of CFI when the model is right; "
                 "level k: the misspecified samples' quantile that keeps 95% of right-model samples on the "
                 "right side, with its power; NaN when power is below 50% (no cutoff)"]
        return notes + super()._notes()


# --------------------------------------------------------------------------- the population model
def _standardized_population(fit) -> dict:
    """Standardized loadings, factor correlations and residual correlations of a fitted CFA,
    rounded to 4 decimals (``dynamic``'s ``cfa_lavmod``)."""
    p = fit.params_
    lam = p[p["op"] == "=~"]
    if lam.empty:
        raise SpecificationError("dynamic_fit_cutoffs needs a CFA with measurement (=~) statements")
    factors = list(dict.fromkeys(lam["lhs"]))
    items = list(dict.fromkeys(lam["rhs"]))
    loadings = pd.DataFrame(0.0, index=items, columns=factors)
    for r in lam.itertuples():
        loadings.loc[r.rhs, r.lhs] = round(float(r.std_all), 4)
    cov = p[(p["op"] == "~~") & (p["lhs"] != p["rhs"])]
    phi = pd.DataFrame(np.eye(len(factors)), index=factors, columns=factors)
    resid = []
    for r in cov.itertuples():
        v = round(float(r.std_all), 4)
        if r.lhs in factors and r.rhs in factors:
            phi.loc[r.lhs, r.rhs] = phi.loc[r.rhs, r.lhs] = v
        elif r.lhs in items and r.rhs in items:
            resid.append((r.lhs, r.rhs, v))
        else:
            raise SpecificationError(f"dynamic_fit_cutoffs: the covariance {r.lhs} ~~ {r.rhs} is neither between "
                                     "factors nor between items; DFI cutoffs are defined for CFA models")
    other = p[~p["op"].isin(["=~", "~~", "~1", ":=", "==", "<", ">"])]
    if not other.empty:
        ops = sorted(set(other["op"]))
        raise SpecificationError(f"dynamic_fit_cutoffs is for CFA models; the model has {ops} statements "
                                 "(regressions or thresholds)")
    if (loadings.abs() >= 1).any().any() or (phi.abs().to_numpy()[~np.eye(len(factors), dtype=bool)] >= 1).any():
        raise SpecificationError("a standardized loading or factor correlation of the fit is 1 or more in "
                                 "absolute value (a Heywood case); DFI cutoffs need a proper solution")
    return {"loadings": loadings, "factor_correlations": phi, "residual_correlations": resid}


def _coefficient_h(loadings: pd.DataFrame) -> pd.Series:
    """Coefficient H per factor, 1 / (1 + 1 / sum(l^2 / (1 - l^2))) (Hancock & Mueller, 2001)."""
    out = {}
    for f in loadings.columns:
        lam = loadings[f][loadings[f] != 0]
        s = float((lam**2 / (1 - lam**2)).sum())
        out[f] = 1.0 / (1.0 + 1.0 / s)
    return pd.Series(out)


def _solo_items(pop: dict) -> pd.DataFrame:
    """Items with one loading and no residual correlation: ``factor``, ``item``, ``loading``."""
    L = pop["loadings"]
    in_resid = {x for a, b, _ in pop["residual_correlations"] for x in (a, b)}
    rows = []
    for item in L.index:
        nz = L.loc[item][L.loc[item] != 0]
        if len(nz) == 1 and item not in in_resid:
            rows.append({"factor": nz.index[0], "item": item, "loading": float(nz.iloc[0])})
    return pd.DataFrame(rows, columns=["factor", "item", "loading"])


def _multi_factor_misspecifications(pop: dict) -> list[tuple[str, str, float]]:
    """``dynamic::cfaHB``'s F - 1 omitted cross-loadings, in level order: ``(factor, item, loading)``.

    Per factor its solo item with the smallest |loading| (factors with more than two items first,
    then by |loading|), the first F - 1 of them; each item cross-loads on the factor with the
    highest coefficient H among those correlated with its own factor, each pair of factors used
    once; the cross-loading is min(|l|, .95 (sqrt(l^2 phi^2 + 1 - l^2) - |l phi|)) (rounded to 4
    decimals), the largest that keeps the item's residual variance positive.
    """
    L, phi = pop["loadings"], pop["factor_correlations"]
    factors = list(L.columns)
    solo = _solo_items(pop)
    n_items = (L != 0).sum(axis=0)
    solo["priority"] = ["Three" if n_items[f] > 2 else "Two" for f in solo["factor"]]
    solo["abs"] = solo["loading"].abs()
    lowest = (solo.sort_values(["abs"], kind="stable").groupby("factor", sort=False).head(1))
    crosses = lowest.sort_values(["priority", "abs"], kind="stable").head(len(factors) - 1)
    if len(crosses) < len(factors) - 1:
        raise SpecificationError(
            f"dynamic_fit_cutoffs: {len(factors)} factors need {len(factors) - 1} items without cross-loadings or "
            f"residual correlations for the misspecification levels; the model has {len(crosses)}")
    H = _coefficient_h(L)
    used: set[frozenset] = set()
    chosen = []
    for r in crosses.sort_values("abs", kind="stable").itertuples():
        candidates = [g for g in factors if g != r.factor and phi.loc[r.factor, g] != 0
                      and frozenset((r.factor, g)) not in used]
        if not candidates:
            continue
        target = max(candidates, key=lambda g: (H[g], -factors.index(g)))  # ties: the earlier factor
        used.add(frozenset((r.factor, target)))
        f1, l1 = float(phi.loc[r.factor, target]), float(r.loading)
        max_allow = round(0.95 * (np.sqrt(l1**2 * f1**2 + 1 - l1**2) - abs(l1 * f1)), 4)
        chosen.append({"factor": target, "item": r.item, "value": min(abs(l1), abs(max_allow)),
                       "priority": r.priority, "loading": l1, "H": H[target]})
    if len(chosen) < len(factors) - 1:
        raise SpecificationError("dynamic_fit_cutoffs: the factors are not correlated enough to place the "
                                 "cross-loadings of every misspecification level (orthogonal factors?)")
    order = sorted(chosen, key=lambda c: (c["priority"], c["loading"], -c["H"]))
    return [(c["factor"], c["item"], c["value"]) for c in order]


def _one_factor_levels(pop: dict) -> tuple[list[tuple[str, str, float]], list[int]]:
    """``dynamic::cfaOne``'s omitted residual correlations of .3 between pairs of the items with
    the smallest loadings, and how many of them each level adds."""
    solo = _solo_items(pop)
    solo = solo.iloc[np.argsort(solo["loading"].abs().to_numpy(), kind="stable")]
    k = len(solo)
    if k < 4:
        raise SpecificationError(f"dynamic_fit_cutoffs: a one-factor model needs at least 4 items without residual "
                                 f"correlations to add misspecifications; it has {k}")
    take = 2 if k == 4 else 4 if k == 5 else (k // 2) * 2
    sel = list(solo["item"].iloc[:take])
    pairs = [(sel[i + 1], sel[i], ONE_FACTOR_RESIDUAL_CORRELATION) for i in range(0, take, 2)]
    if k == 4:
        levels = [1]
    elif k == 5:
        levels = [1, 2]
    else:
        l3 = k // 2
        levels = [l3 // 3, (2 * l3) // 3, l3]
    return pairs, levels


def _population_cov(pop: dict, cross=(), residual=()) -> np.ndarray:
    """The population correlation matrix: Lambda Phi Lambda' with unit variances and the given
    extra cross-loadings ``(factor, item, value)`` and residual correlations ``(a, b, r)``."""
    L = pop["loadings"].copy()
    for f, item, v in cross:
        L.loc[item, f] = v
    lam, phi = L.to_numpy(), pop["factor_correlations"].to_numpy()
    common = lam @ phi @ lam.T
    theta_d = 1.0 - np.diag(common)
    if (theta_d <= 0).any():
        bad = [L.index[i] for i in np.flatnonzero(theta_d <= 0)]
        raise SpecificationError(f"the standardized population model gives item(s) {bad} no residual variance")
    theta = np.diag(theta_d)
    pos = {it: i for i, it in enumerate(L.index)}
    for a, b, r in [*pop["residual_correlations"], *residual]:
        i, j = pos[a], pos[b]
        theta[i, j] = theta[j, i] = r * np.sqrt(theta_d[i] * theta_d[j])
    return common + theta


# --------------------------------------------------------------------------- one task
def _fit_task(syntax: str, sigma: np.ndarray, names: list[str], n: int, reps: int,
              seed: np.random.SeedSequence) -> np.ndarray:
    """``reps`` samples of ``n`` rows from N(0, sigma), each fitted with ``syntax``: rows of
    (srmr, rmsea, cfi), NaN where the fit failed."""
    from .cfa import CFA

    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(sigma)
    out = np.full((reps, 3), np.nan)
    for r in range(reps):
        x = rng.standard_normal((n, len(names))) @ chol.T
        data = pd.DataFrame(x, columns=names)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CustvalWarning)
                fit = CFA(syntax, std_lv=True).fit(data)
        except Exception:
            continue
        if not fit.converged_:
            continue
        fm = fit.fit_measures_
        out[r] = [fm["srmr"], fm["rmsea"], fm["cfi"]]
    return out


def _cutoffs(true: np.ndarray, mis: np.ndarray) -> dict:
    """``dynamic``'s cutoff and power of one misspecified level against the right-model fits."""
    t = {"srmr": np.nanquantile(true[:, 0], 0.95), "rmsea": np.nanquantile(true[:, 1], 0.95),
         "cfi": np.nanquantile(true[:, 2], 0.05)}
    out = {}
    for j, ix in enumerate(_INDICES):
        vals = mis[:, j][~np.isnan(mis[:, j])]
        cut, power = np.nan, 0.0
        for p in _POWERS:
            if ix == "cfi":
                q = np.quantile(vals, p)
                hit = q <= t[ix]
            else:
                q = np.quantile(vals, round(1 - p, 2))
                hit = q >= t[ix]
            if hit or p == 0:
                cut, power = float(q), float(p)
                break
        out[ix] = cut if power >= 0.5 else np.nan
        out[f"{ix}_power"] = power
    return out


def dynamic_fit_cutoffs(fit, *, replications: int = 500, seed: int = 0, executor=None,
                        progress: bool = True) -> DynamicCutoffsResult:
    r"""Dynamic fit-index cutoffs for a fitted CFA (McNeish & Wolf, 2023), as R's ``dynamic``.

    Level 0 simulates ``replications`` samples of the fitted n (at most 2,000) from the fitted
    standardized solution and fits the user's model to each (ML, ``std.lv``): its cutoffs are
    the 95th percentile of SRMR and RMSEA and the 5th of CFI.  Each level k adds
    misspecifications to the population and repeats; its cutoff is the quantile of the
    misspecified fits that still keeps 95% of the right-model fits on the good side, with the
    share of misspecified samples it flags (power, at least .50 or no cutoff).

    * Two or more factors (``dynamic::cfaHB``): level k omits k cross-loadings (F - 1 levels).
      Per factor the solo item with the smallest loading (factors with more than two items
      first) cross-loads on the correlated factor with the highest coefficient H, each pair of
      factors once, with loading :math:`\min(|\lambda|, .95(\sqrt{\lambda^2\phi^2 + 1 -
      \lambda^2} - |\lambda\phi|))`.
    * One factor (``dynamic::cfaOne``): up to three levels of omitted residual correlations of
      .3 between pairs of the items with the smallest loadings (about a third, two thirds and
      all of the pairs).

    Parameters
    ----------
    fit : custval.CFA
        A fitted one-group ML CFA (``CFA(model).fit(data)``).
    replications : int, default 500
        Simulated samples per level (``dynamic``'s ``reps``; 200 give stable cutoffs in most
        designs, Wolf & McNeish 2024).
    seed : int, default 0
        Seed of the simulation (one ``SeedSequence`` child per task of 25 replications).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where the tasks run; ``None`` runs them here, one after another.  The same seed gives
        bit-identical results whatever the executor and its number of workers.
    progress : bool, default True
        Show a progress bar (``tqdm.auto``).

    Returns
    -------
    DynamicCutoffsResult
        The cutoffs per level, every simulated fit and the population model.

    Raises
    ------
    SpecificationError
        A multi-group, multilevel, regression or non-ML model; a Heywood solution; too few
        items without cross-loadings to build the misspecification levels.

    See Also
    --------
    custval.cfa.CFA : Fits the model.

    Notes
    -----
    The Monte Carlo draws differ from R's (numpy's generator, not R's), so the cutoffs agree
    with ``dynamic``'s in distribution, not digit for digit; the population model, the
    misspecifications and the cutoff rule are ``dynamic``'s (its coefficient-H ties are broken
    at random by ``runif``; here by the factors' order in the model).

    References
    ----------
    McNeish, D., & Wolf, M. G. (2023). Dynamic fit index cutoffs for confirmatory factor
    analysis models. *Psychological Methods, 28*(1), 61-88.

    Examples
    --------
    >>> import custval
    >>> hs = custval.load_dataset("holzinger_swineford1939").data
    >>> fit = custval.CFA("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
    ...                   "speed =~ x7 + x8 + x9").fit(hs)
    >>> dfi = custval.planning.dynamic_fit_cutoffs(fit, replications=50, seed=1, progress=False)
    >>> list(dfi.table.index), dfi.n
    ([0, 1, 2], 301)
    >>> bool(dfi.table.loc[0, "srmr"] < dfi.table.loc[2, "srmr"])
    True
    >>> # In R: dynamic::cfaHB(lavaan::cfa(model, HolzingerSwineford1939), reps = 50)
    """
    from ._sem.spec import as_syntax

    if not hasattr(fit, "fit_measures_") or not hasattr(fit, "params_"):
        raise SpecificationError("dynamic_fit_cutoffs needs a fitted custval.CFA (CFA(model).fit(data))")
    if getattr(fit, "group", None) is not None or len(getattr(fit, "n_obs_", {})) > 1:
        raise SpecificationError("dynamic_fit_cutoffs is for one-group models; fit each group on its own")
    estimator = getattr(fit, "estimator", None)
    ordered = getattr(fit, "ordered", None)
    if (estimator is not None and str(estimator).upper() != "ML") or ordered not in (None, False):
        used = estimator if estimator is not None else "WLSMV (ordered items)"
        raise SpecificationError(f"dynamic_fit_cutoffs simulates multivariate-normal data, for which ML is the "
                                 f"estimator; the fit uses {used!r}")
    task_plan(replications)  # checks replications
    pop = _standardized_population(fit)
    names = list(pop["loadings"].index)
    syntax = as_syntax(fit.model)
    n = int(min(sum(fit.n_obs_.values()), MAX_N))
    n_factors = pop["loadings"].shape[1]
    if n_factors >= 2:
        mis = _multi_factor_misspecifications(pop)
        levels = [(f"{k} cross-loading(s): " + "; ".join(f"{f} =~ {v:g}*{it}" for f, it, v in mis[:k]),
                   _population_cov(pop, cross=mis[:k])) for k in range(1, len(mis) + 1)]
        convention = ("cfaHB: Hu & Bentler-type misspecifications, F - 1 levels of omitted cross-loadings "
                      "(McNeish & Wolf, 2023)")
        r_call = f"dynamic::cfaHB(fit, reps = {replications})"
    else:
        pairs, counts = _one_factor_levels(pop)
        levels = [(f"{k} residual correlation(s): " + "; ".join(f"{a} ~~ {r:g}*{b}" for a, b, r in pairs[:k]),
                   _population_cov(pop, residual=pairs[:k])) for k in counts]
        convention = ("cfaOne: omitted residual correlations of .3 between the items with the smallest "
                      "loadings (McNeish & Wolf, one-factor paper)")
        r_call = f"dynamic::cfaOne(fit, reps = {replications})"
    sigmas = [_population_cov(pop)] + [s for _, s in levels]
    sizes = task_plan(replications, DEFAULT_CHUNK)
    seeds = task_seeds(seed, len(sigmas) * len(sizes))
    args, weights = [], []
    for li, sigma in enumerate(sigmas):
        for ti, size in enumerate(sizes):
            args.append((syntax, sigma, names, n, size, seeds[li * len(sizes) + ti]))
            weights.append(size)
    # the simulated fits' warnings (Heywood cases, slow convergence) are part of the simulation:
    # silenced for the whole run here too, because warning filters are process-wide and tasks on
    # threads of this process would otherwise restore each other's filters while still fitting
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CustvalWarning)
        results = run_tasks(_fit_task, args, executor=executor, progress=progress,
                            desc="dynamic fit cutoffs", weights=weights)
    per_level = [np.vstack(results[li * len(sizes):(li + 1) * len(sizes)]) for li in range(len(sigmas))]
    true = per_level[0]
    rows = {0: {"srmr": np.nanquantile(true[:, 0], 0.95), "srmr_power": 0.95,
                "rmsea": np.nanquantile(true[:, 1], 0.95), "rmsea_power": 0.95,
                "cfi": np.nanquantile(true[:, 2], 0.05), "cfi_power": 0.95,
                "misspecification": "none (the fitted model is right)"}}
    for k, ((text, _), mis_fits) in enumerate(zip(levels, per_level[1:]), start=1):
        rows[k] = {**_cutoffs(true, mis_fits), "misspecification": text}
    table = pd.DataFrame.from_dict(rows, orient="index")[
        ["srmr", "srmr_power", "rmsea", "rmsea_power", "cfi", "cfi_power", "misspecification"]]
    table.index.name = "level"
    sim = pd.concat([pd.DataFrame({"level": li, "replication": np.arange(1, len(v) + 1),
                                   "srmr": v[:, 0], "rmsea": v[:, 1], "cfi": v[:, 2]})
                     for li, v in enumerate(per_level)], ignore_index=True)
    fitted = pd.Series({ix: float(fit.fit_measures_[ix]) for ix in _INDICES}, name="fitted")
    population = {"loadings": pop["loadings"], "factor_correlations": pop["factor_correlations"],
                  "residual_correlations": tuple(pop["residual_correlations"])}
    return DynamicCutoffsResult(table=table, fitted=fitted, simulated=sim, population=population, n=n,
                                replications=int(replications), seed=int(seed),
                                n_failed=int(sim[["srmr", "rmsea", "cfi"]].isna().any(axis=1).sum()),
                                convention=convention, r_call=r_call)
