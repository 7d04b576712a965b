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

import copy
import dataclasses

import numpy as np
import pandas as pd

from ._results import ResultMixin
from ._stats.tasks import DEFAULT_CHUNK, quiet_warnings, run_tasks, task_plan, task_seeds
from .exceptions import (
    ConstantItemError,
    CustvalError,
    CustvalWarning,
    DataValidationError,
    IdentificationError,
    InsufficientDataError,
    NotPositiveDefiniteError,
    SingularMatrixError,
    SpecificationError,
)

__all__ = ["DynamicCutoffsResult", "StudyPlanResult", "dynamic_fit_cutoffs", "simulate_study"]

#: ``dynamic`` caps the simulated sample size at 2,000 (larger samples change little but cost much)
MAX_N = 2000
#: powers scanned for a misspecified level, .95 down to 0 (as ``dynamic``)
_POWERS = np.round(np.arange(95, -1, -1) / 100, 2)
#: residual correlation of the one-factor misspecifications (McNeish & Wolf, one-factor paper)
ONE_FACTOR_RESIDUAL_CORRELATION = 0.3
_INDICES = ("srmr", "rmsea", "cfi")
#: HTMT's strict threshold (Henseler, Ringle & Sarstedt, 2015), the bound simulate_study checks
HTMT_STRICT = 0.85


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
    chunk : int
        Replications per task (with ``seed``, fixes the random stream).
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
    chunk: int = DEFAULT_CHUNK

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
        notes = [f"{self.replications} simulated samples of n = {self.n} per level (seed {self.seed}, {self.chunk} per task); "
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
            with quiet_warnings(CustvalWarning):
                fit = CFA(syntax, std_lv=True).fit(data)
        except CustvalError:  # a sample the model cannot be fitted to: counted in n_failed
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
                        progress: bool = True, chunk: int = DEFAULT_CHUNK) -> DynamicCutoffsResult:
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
        Seed of the simulation (one ``SeedSequence`` child per task of ``chunk`` replications).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where the tasks run; ``None`` runs them here, one after another.  The same seed gives
        bit-identical results whatever the executor and its number of workers.
    progress : bool, default True
        Show a progress bar (``tqdm.auto``).
    chunk : int, default 25
        Replications per task (25-100 suit most runs: larger tasks cut the scheduler's share on a
        cluster, smaller ones balance a few workers better).  Part of the random stream: the same
        ``seed`` and ``chunk`` give the same numbers; another ``chunk`` gives another (equally
        valid) Monte Carlo sample.

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
    if "level" in getattr(fit, "params_", pd.DataFrame()).columns:
        raise SpecificationError(
            "dynamic_fit_cutoffs simulates single-level data; the fit is a two-level CFA (level: blocks, "
            f"cluster={getattr(fit, 'cluster', None)!r}), for which McNeish & Wolf's cutoffs are not defined "
            "(read its level-specific srmr_within / srmr_between in fit_measures_)")
    estimator = getattr(fit, "estimator", None)
    ordered = getattr(fit, "ordered", None)
    if (estimator is not None and str(estimator).upper() != "ML") or ordered not in (None, False):
        used = estimator if estimator is not None else "WLSMV (ordered items)"
        raise SpecificationError(f"dynamic_fit_cutoffs simulates multivariate-normal data, for which ML is the "
                                 f"estimator; the fit uses {used!r}")
    task_plan(replications, chunk)  # checks replications and chunk
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
    sizes = task_plan(replications, chunk)
    seeds = task_seeds(seed, len(sigmas) * len(sizes))
    args, weights = [], []
    for li, sigma in enumerate(sigmas):
        for ti, size in enumerate(sizes):
            args.append((syntax, sigma, names, n, size, seeds[li * len(sizes) + ti]))
            weights.append(size)
    # the simulated fits' warnings (Heywood cases, slow convergence) are part of the simulation
    with quiet_warnings(CustvalWarning):
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
                                convention=convention, r_call=r_call, chunk=int(chunk))


# =========================================================================== simulate_study
#: the decisions :func:`simulate_study` can simulate, in column order
DECISIONS = ("loadings", "htmt", "invariance", "gaps", "agreement")

#: defaults of a planner design (see :func:`simulate_study`)
STUDY_DEFAULTS: dict = {
    "name": None,
    "instrument": None,
    "constructs": None,
    "loadings": 0.7,
    "scale_points": 7,
    "thresholds": None,
    "factor_correlations": 0.4,
    "forms": ("provider", "customer"),
    "firms": 20,
    "respondents": {"manager": 3, "staff": 12},
    "accounts": 10,
    "customers_per_account": 3,
    "account_icc": 0.2,
    "firm_sd": 0.3,
    "gap": 0.3,
    "non_invariant": {"construct": None, "item": -1, "intercept": -0.5, "loading": None},
    "n_boot": {"htmt": 200, "gaps": 200},
    "rwg_target": 0.70,
    "share_target": 0.80,
}
_FIRM_KEYS = ("name", "respondents", "accounts", "customers_per_account")


def _design_error(name, text) -> SpecificationError:
    return SpecificationError(f"design {name!r}: {text}")


def _as_design_dict(design, i: int) -> dict:
    if isinstance(design, (str, bytes)) or hasattr(design, "read_text"):
        from pathlib import Path

        from ruamel.yaml import YAML

        path = Path(design)
        if not path.is_file():
            raise SpecificationError(f"design file {str(path)!r} not found (a dict or a YAML file is expected)")
        design = YAML(typ="safe").load(path.read_text(encoding="utf-8-sig"))
    if not isinstance(design, dict):
        raise SpecificationError(f"design must be a dict or a YAML path, got {type(design).__name__}")
    unknown = [k for k in design if k not in STUDY_DEFAULTS]
    if unknown:
        raise SpecificationError(f"design: unknown key(s) {unknown}; allowed: {', '.join(STUDY_DEFAULTS)}")
    d = {k: copy.deepcopy(v) for k, v in STUDY_DEFAULTS.items()}
    for k, v in design.items():
        if isinstance(v, dict) and isinstance(d[k], dict) and k in ("non_invariant", "n_boot"):
            extra = [x for x in v if x not in d[k]]
            if extra:
                raise SpecificationError(f"design: unknown key(s) {extra} in {k!r}; allowed: {', '.join(d[k])}")
            d[k].update(copy.deepcopy(v))
        else:
            d[k] = copy.deepcopy(v)
    if d["name"] is None:
        d["name"] = f"design {i + 1}"
    d["name"] = str(d["name"])
    return d


def _number(name, what, v, lo=None, hi=None, integer=False) -> float:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
    if ok and integer:
        ok = float(v) == int(v)
    if ok and lo is not None:
        ok = v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        rng = f" in [{lo}, {hi}]" if hi is not None else f" >= {lo}" if lo is not None else ""
        raise _design_error(name, f"{what} must be a{'n integer' if integer else ' number'}{rng}, got {v!r}")
    return int(v) if integer else float(v)


def _normalize_design(design, i: int) -> dict:
    """A planner design with every key checked: constructs -> item names, loadings per item,
    the factor correlation matrix, thresholds and one row per firm."""
    d = _as_design_dict(design, i)
    name = d["name"]
    # ---- constructs and items
    if d["instrument"] is not None:
        from .codebook import load_instrument

        inst = d["instrument"] if hasattr(d["instrument"], "constructs") else load_instrument(d["instrument"])
        pairs = inst.pairs() if hasattr(inst, "pairs") else pd.DataFrame()
        if len(pairs):
            blocks = {c: list(g["customer_item"]) for c, g in pairs.groupby("construct", sort=False)}
        else:
            blocks = {c: list(v) for c, v in inst.constructs.items()}
        if d["constructs"] is not None:
            want = list(d["constructs"])
            missing = [c for c in want if c not in blocks]
            if missing:
                raise _design_error(name, f"construct(s) {missing} are not (paired) constructs of instrument "
                                          f"{inst.name!r}: {', '.join(blocks)}")
            blocks = {c: blocks[c] for c in want}
        scales = {str(inst.item_scale(it)) for its in blocks.values() for it in its}
        if len(scales) > 1:
            raise _design_error(name, f"the items of instrument {inst.name!r} use several scales ({sorted(scales)}); "
                                      "choose constructs on one scale")
        sc = inst.item_scale(next(iter(blocks.values()))[0])
        d["scale_points"] = int(sc.max - sc.min + 1)
        d["instrument"] = inst.name
    else:
        if not isinstance(d["constructs"], dict) or not d["constructs"]:
            raise _design_error(name, "give 'instrument' (a codebook name or file) or 'constructs' "
                                      "({construct: number of items or [item names]})")
        blocks = {}
        for c, spec in d["constructs"].items():
            if isinstance(spec, (list, tuple)):
                blocks[str(c)] = [str(x) for x in spec]
            else:
                k = _number(name, f"constructs[{c!r}] (number of items)", spec, lo=1, integer=True)
                blocks[str(c)] = [f"{c}_{j + 1}" for j in range(k)]
    for c, its in blocks.items():
        if len(its) < 2:
            raise _design_error(name, f"construct {c!r} has {len(its)} item(s); a factor needs at least 2")
    d["blocks"] = blocks
    cons = list(blocks)
    # ---- loadings
    lo_spec = d["loadings"]
    lam = {}
    for c, its in blocks.items():
        v = lo_spec.get(c, None) if isinstance(lo_spec, dict) else lo_spec
        if v is None:
            raise _design_error(name, f"loadings: no loading given for construct {c!r}")
        vals = list(v) if isinstance(v, (list, tuple)) else [v] * len(its)
        if len(vals) != len(its):
            raise _design_error(name, f"loadings of construct {c!r}: {len(vals)} values for {len(its)} items")
        for it, x in zip(its, vals):
            x = _number(name, f"the loading of item {it!r} (construct {c!r})", x)
            if not 0 < abs(x) < 1:
                raise _design_error(name, f"construct {c!r}, item {it!r}: standardized loading {x:g} is impossible; "
                                          "a standardized loading lies strictly between -1 and 1 (and is not 0)")
            lam[it] = x
    d["item_loadings"] = lam
    # ---- factor correlations
    fc = d["factor_correlations"]
    K = len(cons)
    if isinstance(fc, dict):
        phi = np.eye(K)
        for a, row in fc.items():
            for b, r in (row.items() if isinstance(row, dict) else ()):
                if a not in cons or b not in cons:
                    raise _design_error(name, f"factor_correlations names {a!r} / {b!r}; constructs are {cons}")
                phi[cons.index(a), cons.index(b)] = phi[cons.index(b), cons.index(a)] = float(r)
    elif isinstance(fc, (list, tuple, np.ndarray, pd.DataFrame)):
        phi = np.asarray(fc, dtype=float)
        if phi.shape != (K, K):
            raise _design_error(name, f"factor_correlations is {phi.shape[0]} x {phi.shape[-1]}; {K} constructs "
                                      f"need {K} x {K}")
        if not np.allclose(phi, phi.T) or not np.allclose(np.diag(phi), 1):
            raise _design_error(name, "factor_correlations must be symmetric with ones on the diagonal")
    else:
        r = _number(name, "factor_correlations (a common correlation)", fc)
        phi = np.full((K, K), r)
        np.fill_diagonal(phi, 1.0)
    off = np.abs(phi[~np.eye(K, dtype=bool)])
    if (off >= 1).any():
        a, b = np.argwhere((np.abs(phi) >= 1) & ~np.eye(K, dtype=bool))[0]
        raise _design_error(name, f"the correlation of constructs {cons[a]!r} and {cons[b]!r} is {phi[a, b]:g}; "
                                  "factor correlations lie strictly between -1 and 1")
    ev = np.linalg.eigvalsh(phi)
    if ev.min() <= 1e-10:
        raise _design_error(name, f"factor_correlations is not positive definite (smallest eigenvalue "
                                  f"{ev.min():.3g}): no population has these correlations among {cons}")
    d["phi"] = phi
    # ---- scale
    pts = _number(name, "scale_points", d["scale_points"], lo=2, integer=True)
    tau = d["thresholds"]
    if tau is None:
        tau = np.linspace(-2.0, 2.0, pts - 1) if pts > 2 else np.zeros(1)
    tau = np.asarray(tau, dtype=float)
    if tau.shape != (pts - 1,) or not np.all(np.diff(tau) > 0):
        raise _design_error(name, f"thresholds must be {pts - 1} increasing numbers for {pts} scale points")
    d["scale_points"], d["tau"] = pts, tau
    # ---- forms, firms and respondents
    forms = tuple(d["forms"])
    if not forms or any(f not in ("provider", "customer") for f in forms) or "customer" not in forms:
        raise _design_error(name, f"forms must be ('provider', 'customer') or ('customer',), got {forms}")
    d["forms"] = forms
    for k in ("account_icc",):
        _number(name, k, d[k], lo=0, hi=0.99)
    for k in ("firm_sd", "gap"):
        _number(name, k, d[k])
    firms = d["firms"]
    if isinstance(firms, (int, np.integer)) and not isinstance(firms, bool):
        nf = _number(name, "firms (the number of firms)", firms, lo=1, integer=True)
        firms = [{"name": f"F{j + 1:02d}"} for j in range(nf)]
    if not isinstance(firms, (list, tuple)) or not firms:
        raise _design_error(name, "firms must be a number of firms or a list of {name: ..., ...} entries")
    rows = []
    for j, f in enumerate(firms):
        f = dict(f) if isinstance(f, dict) else {"name": f}
        bad = [k for k in f if k not in _FIRM_KEYS]
        if bad:
            raise _design_error(name, f"firm entry {j + 1}: unknown key(s) {bad}; allowed: {', '.join(_FIRM_KEYS)}")
        fname = str(f.get("name", f"F{j + 1:02d}"))
        resp = {**d["respondents"], **(f.get("respondents") or {})}
        row = {"firm": fname}
        if "provider" in forms:
            for role, n in resp.items():
                n = _number(name, f"firm {fname!r}: respondents[{role!r}]", n, lo=0, integer=True)
                if n == 1:
                    raise _design_error(name, f"firm {fname!r} has 1 {role} respondent; a role needs 0 or at least "
                                              "2 respondents (one answer has no within-firm variance and no interval)")
                row[role] = n
            if sum(row[r] for r in resp) < 2:
                raise _design_error(name, f"firm {fname!r} has fewer than 2 provider respondents")
        acc = _number(name, f"firm {fname!r}: accounts", f.get("accounts", d["accounts"]), lo=1, integer=True)
        cpa = _number(name, f"firm {fname!r}: customers_per_account",
                      f.get("customers_per_account", d["customers_per_account"]), lo=1, integer=True)
        if cpa < 2 or acc * cpa < 2:
            raise _design_error(name, f"firm {fname!r} has {cpa} customer respondent(s) per account; agreement (rwg) "
                                      "and an account's mean need at least 2")
        if acc < 2:
            raise _design_error(name, f"firm {fname!r} has 1 customer account; resampling accounts needs at least 2")
        row["accounts"], row["customers_per_account"] = acc, cpa
        rows.append(row)
    names = [r["firm"] for r in rows]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise _design_error(name, f"firm name(s) {dup} appear more than once")
    ft = pd.DataFrame(rows)
    d["roles"] = [c for c in ft.columns if c not in ("firm", "accounts", "customers_per_account")]
    ft[d["roles"]] = ft[d["roles"]].fillna(0).astype(int)  # a role another firm has: 0 here
    d["firm_table"] = ft
    # ---- the non-invariant customer item
    ni = d["non_invariant"]
    if ni is None or (isinstance(ni, dict) and not ni.get("intercept") and ni.get("loading") is None):
        d["ni_item"], d["ni"] = None, None
    else:
        c = ni.get("construct") or cons[0]
        if c not in blocks:
            raise _design_error(name, f"non_invariant: construct {c!r} is not one of {cons}")
        it = ni.get("item", -1)
        if isinstance(it, str):
            if it not in blocks[c]:
                raise _design_error(name, f"non_invariant: item {it!r} is not an item of {c!r}: {blocks[c]}")
        else:
            k = _number(name, "non_invariant item (position)", it, integer=True)
            if not -len(blocks[c]) <= k < len(blocks[c]):
                raise _design_error(name, f"non_invariant: item position {k} outside construct {c!r}'s "
                                          f"{len(blocks[c])} items")
            it = blocks[c][k]
        ld = ni.get("loading")
        if ld is not None:
            ld = _number(name, f"non_invariant loading of {it!r}", ld)
            if not 0 < abs(ld) < 1:
                raise _design_error(name, f"construct {c!r}, item {it!r}: customer-form loading {ld:g} is "
                                          "impossible; it lies strictly between -1 and 1 (and is not 0)")
        d["ni_item"] = it
        d["ni"] = {"construct": c, "item": it, "intercept": _number(name, "non_invariant intercept",
                                                                    ni.get("intercept") or 0.0),
                   "loading": ld}
    d["n_boot"]["htmt"] = _number(name, "n_boot['htmt']", d["n_boot"]["htmt"], lo=0, integer=True)
    d["n_boot"]["gaps"] = _number(name, "n_boot['gaps'] (perception_gap's percentile intervals)",
                                  d["n_boot"]["gaps"], lo=100, integer=True)
    _number(name, "rwg_target", d["rwg_target"], lo=0, hi=1)
    _number(name, "share_target", d["share_target"], lo=0, hi=1)
    return d


# --------------------------------------------------------------------------- the generator
def _simulate_forms(d: dict, rng: np.random.Generator) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """One simulated study: the provider and customer exports (codes 1..scale_points)."""
    blocks, phi, tau = d["blocks"], d["phi"], d["tau"]
    cons = list(blocks)
    items = [it for its in blocks.values() for it in its]
    col = np.array([cons.index(c) for c, its in blocks.items() for _ in its])
    lam = np.array([d["item_loadings"][it] for it in items])
    chol = np.linalg.cholesky(phi)
    K = len(cons)
    icc, firm_sd, gap = float(d["account_icc"]), float(d["firm_sd"]), float(d["gap"])
    lam_c, nu_c = lam.copy(), np.zeros(len(items))
    if d["ni"] is not None:
        j = items.index(d["ni"]["item"])
        nu_c[j] = d["ni"]["intercept"]
        if d["ni"]["loading"] is not None:
            lam_c[j] = d["ni"]["loading"]
    prov_eta, prov_meta, cust_eta, cust_meta = [], [], [], []
    for f in d["firm_table"].itertuples(index=False):
        f = f._asdict()
        b = firm_sd * rng.standard_normal(K) @ chol.T
        if "provider" in d["forms"]:
            for role in d["roles"]:
                n = int(f[role])
                if n:
                    prov_eta.append(b + gap + rng.standard_normal((n, K)) @ chol.T)
                    prov_meta += [(f["firm"], role)] * n
        acc, cpa = int(f["accounts"]), int(f["customers_per_account"])
        a = np.sqrt(icc) * rng.standard_normal((acc, K)) @ chol.T
        u = np.sqrt(1 - icc) * rng.standard_normal((acc * cpa, K)) @ chol.T
        cust_eta.append(b + np.repeat(a, cpa, axis=0) + u)
        cust_meta += [(f["firm"], f"{f['firm']}-A{j + 1:02d}") for j in range(acc) for _ in range(cpa)]

    def codes(eta, lam_, nu_):
        ystar = nu_ + lam_ * eta[:, col] + np.sqrt(1 - lam_**2) * rng.standard_normal((len(eta), len(items)))
        return 1.0 + (ystar[:, :, None] > tau).sum(axis=2)

    provider = None
    if prov_eta:
        provider = pd.concat([pd.DataFrame(prov_meta, columns=["firm", "role"]),
                              pd.DataFrame(codes(np.vstack(prov_eta), lam, np.zeros(len(items))), columns=items)],
                             axis=1)
    customer = pd.concat([pd.DataFrame(cust_meta, columns=["firm", "account"]),
                          pd.DataFrame(codes(np.vstack(cust_eta), lam_c, nu_c), columns=items)], axis=1)
    return provider, customer


def _rwg_shares(customer: pd.DataFrame, d: dict, sizes: list[int]) -> tuple[float, np.ndarray]:
    """Share of (account, construct) pairs with rwg(j) >= target: with all the account's customers,
    and with its first k customers for each k in ``sizes``."""
    from .gaps import _rwg_j

    target, pts = float(d["rwg_target"]), int(d["scale_points"])
    full, by_k = [], {k: [] for k in sizes}
    for _, g in customer.groupby("account", sort=False):
        for its in d["blocks"].values():
            x = g[its].to_numpy(float)
            full.append(_rwg_j(x, pts) >= target)
            for k in sizes:
                if k <= len(x):
                    by_k[k].append(_rwg_j(x[:k], pts) >= target)
    return float(np.mean(full)), np.array([np.mean(by_k[k]) if by_k[k] else np.nan for k in sizes])


_COLUMNS = ("loading_ci_width", "p_htmt_below_85", "p_noninvariance_flagged", "gap_ci_width", "gap_power",
            "rwg_share")
#: what a simulated sample can do to an analysis (a bad design is an error before any task runs)
#: (IdentificationError: empirical underidentification of a small simulated sample)
_FAILURES = (InsufficientDataError, ConstantItemError, SingularMatrixError, NotPositiveDefiniteError,
             IdentificationError, DataValidationError, np.linalg.LinAlgError, FloatingPointError,
             ZeroDivisionError)


def _study_task(d: dict, decisions: tuple, reps: int, seed: np.random.SeedSequence) -> np.ndarray:
    """``reps`` simulated studies of design ``d``: one row per study, the columns of ``_COLUMNS``
    followed by the rwg shares for 2..max customers per account (NaN: not simulated or failed)."""
    from .cfa import CFA
    from .gaps import form_invariance, perception_gap
    from .validity import htmt

    rng = np.random.default_rng(seed)
    blocks = d["blocks"]
    items = [it for its in blocks.values() for it in its]
    scale = (1, int(d["scale_points"]))
    sizes = list(range(2, int(d["firm_table"]["customers_per_account"].max()) + 1))
    out = np.full((reps, len(_COLUMNS) + len(sizes)), np.nan)
    for r in range(reps):
        provider, customer = _simulate_forms(d, rng)
        s_htmt, s_gap = (int(x) for x in rng.integers(0, 2**31 - 1, size=2))
        with quiet_warnings(CustvalWarning):  # thread-safe, unlike warnings.catch_warnings
            if "loadings" in decisions:
                x = customer[items]
                sd = x.std(ddof=1)
                if (sd > 0).all():
                    try:
                        fit = CFA(blocks, std_lv=True).fit((x - x.mean()) / sd)
                        if fit.converged_:
                            lam = fit.params_[fit.params_["op"] == "=~"]
                            out[r, 0] = float((lam["ci_high"] - lam["ci_low"]).mean())
                    except _FAILURES:
                        pass
            if "htmt" in decisions and len(blocks) >= 2:
                try:
                    h = htmt(customer[items], blocks, n_boot=int(d["n_boot"]["htmt"]), seed=s_htmt)
                    col = "upper_bound" if int(d["n_boot"]["htmt"]) > 0 else "estimate"
                    out[r, 1] = float((h.table[col] < HTMT_STRICT).all())
                except _FAILURES:
                    pass
            if provider is not None and "invariance" in decisions:
                c = d["ni"]["construct"] if d["ni"] is not None else next(iter(blocks))
                try:
                    fi = form_invariance(provider, customer, blocks, scale=scale, constructs=[c])
                    if d["ni"] is not None:
                        out[r, 2] = float(tuple(fi.flagged) == (d["ni"]["item"], d["ni"]["item"]))
                    else:
                        out[r, 2] = float(bool(fi.flagged))
                except _FAILURES:
                    pass
            if provider is not None and "gaps" in decisions:
                try:
                    g = perception_gap(provider, customer, blocks, scale=scale, match="firm",
                                       n_boot=int(d["n_boot"]["gaps"]), seed=s_gap, min_units=2).table
                    out[r, 3] = float((g["ci_high"] - g["ci_low"]).mean())
                    out[r, 4] = float(((g["ci_low"] > 0) | (g["ci_high"] < 0)).mean())
                except _FAILURES:
                    pass
            if "agreement" in decisions:
                full, by_k = _rwg_shares(customer, d, sizes)
                out[r, 5] = full
                out[r, len(_COLUMNS):] = by_k
    return out


# --------------------------------------------------------------------------- the result
_LABELS = {
    "loading_ci_width": "mean width of the 95% CIs of the standardized loadings (customer form, CFA)",
    "p_htmt_below_85": f"share of studies in which every HTMT upper bound (one-sided 95%) is below {HTMT_STRICT}",
    "p_noninvariance_flagged": "share of studies in which form_invariance flags the non-invariant item pair "
                               "(with no non-invariant item: flags any pair, the false-flag rate)",
    "gap_ci_width": "mean width of the 95% per-firm perception-gap intervals (observed score points)",
    "gap_power": "share of per-firm gap intervals that exclude 0",
    "rwg_share": "share of (account, construct) pairs with rwg(j) >= the target, all the account's customers",
}


@dataclasses.dataclass(frozen=True, eq=False)
class StudyPlanResult(ResultMixin):
    """Power and precision of a planned CWI study, per design (:func:`simulate_study`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per design (index ``design``): ``firms``, ``n_provider``, ``n_customer`` (respondents
        per simulated study), then per decision its Monte Carlo estimate and standard error
        (``<column>_se``): ``loading_ci_width``, ``p_htmt_below_85``, ``p_noninvariance_flagged``,
        ``gap_ci_width``, ``gap_power``, ``rwg_share``; and ``customers_needed`` (the fewest
        customers per account with which at least ``share_target`` of the (account, construct)
        pairs reach ``rwg_target``; NaN when no simulated size does).  A decision that was not
        simulated, or that the design cannot make (HTMT with one construct, invariance and gaps
        without the provider form), is NaN.
    agreement : pandas.DataFrame
        Share of (account, construct) pairs reaching ``rwg_target`` with the first k customers of
        each account: ``design``, ``customers_per_account``, ``share``, ``se``.
    simulated : pandas.DataFrame
        Every simulated study: ``design``, ``replication`` and the decision columns.
    designs : dict
        The checked designs by name (constructs and items, loadings, factor correlations, firms).
    replications : int
        Simulated studies per design.
    seed : int
        The seed.
    chunk : int
        Studies per task (with ``seed``, fixes the random stream).
    n_failed : pandas.DataFrame
        Per design and decision, the simulated studies whose analysis failed (left out).
    decisions : tuple of str
        The decisions simulated.
    convention : str
        The population model and the analyses, in words.
    r_call : str
        The nearest R workflow.

    See Also
    --------
    simulate_study : Computes this result.
    """

    table: pd.DataFrame
    agreement: pd.DataFrame
    simulated: pd.DataFrame
    designs: dict
    replications: int
    seed: int
    n_failed: pd.DataFrame
    decisions: tuple
    convention: str
    r_call: str
    chunk: int = DEFAULT_CHUNK

    _title = "Study plan: power and precision by simulation"

    def to_frame(self) -> pd.DataFrame:
        """The power and precision table, one row per design.

        Returns
        -------
        pandas.DataFrame
            :attr:`table`, a copy.

        See Also
        --------
        simulate_study : Computes this result.
        """
        return self.table.copy()

    def _notes(self) -> list[str]:
        boots = "; ".join(f"{n}: HTMT {d['n_boot']['htmt']} and gap {d['n_boot']['gaps']} bootstrap resamples"
                          for n, d in self.designs.items())
        notes = [f"SIMULATED: {self.replications} studies per design (seed {self.seed}, {self.chunk} per task); "
                 "'_se' columns are Monte Carlo standard errors", boots]
        notes += [f"{k}: {v}" for k, v in _LABELS.items()]
        failed = int(self.n_failed.to_numpy().sum())
        if failed:
            notes.append(f"{failed} analyses failed and are left out (see n_failed)")
        return notes + super()._notes()


def _mc_se(v: np.ndarray) -> tuple[float, float, int]:
    v = v[~np.isnan(v)]
    if not len(v):
        return np.nan, np.nan, 0
    se = float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan
    return float(np.mean(v)), se, len(v)


def simulate_study(design, *, replications: int = 200, seed: int = 0, executor=None, progress: bool = True,
                   decisions=DECISIONS, chunk: int = DEFAULT_CHUNK) -> StudyPlanResult:
    r"""Power and precision of a planned multi-firm CWI study, by simulation.

    Each design is a population: constructs with standardized loadings and factor correlations,
    a response scale, the forms (provider and customer), and per firm the provider respondents per
    role and the customer accounts.  ``replications`` studies are drawn from it and each is
    analysed as custval analyses real data, giving the operating characteristics of the decisions
    this research makes:

    * ``loading_ci_width``: mean width of the 95% Wald intervals of the standardized loadings,
      :class:`custval.CFA` (ML, ``std_lv=True``) of the pooled customer answers, items scaled to
      unit variance (firm and account clustering ignored, as a first CFA does);
    * ``p_htmt_below_85``: how often every HTMT's one-sided 95% upper bound
      (:func:`custval.htmt`, ``n_boot["htmt"]`` resamples, 200 by default) stays below .85,
      the power to establish discriminant validity;
    * ``p_noninvariance_flagged``: how often :func:`custval.gaps.form_invariance` (the
      provider and customer forms stacked, scalar level, Holm-adjusted release tests at .05)
      flags the customer item made non-invariant by ``non_invariant`` (with
      ``non_invariant=None``: how often it flags any pair, the false-flag rate);
    * ``gap_ci_width`` and ``gap_power``: mean width of the per-firm 95% intervals of
      :func:`custval.perception_gap` (``match="firm"``, customers resampled by account,
      ``n_boot["gaps"]`` resamples) and the share of them excluding 0;
    * ``rwg_share``: share of (account, construct) pairs whose customers agree, rwg(j) >=
      ``rwg_target`` (.70; uniform null, as ``multilevel::rwg.j``); ``agreement`` repeats it
      with the first 2, 3, ... customers of each account and ``customers_needed`` is the fewest
      with which at least ``share_target`` (.80) of the pairs reach it.

    Every column has its Monte Carlo standard error (``_se``: the SD over the simulated studies
    / sqrt(R); for a share about sqrt(p(1 - p) / R), 0 when every study agrees).

    **The population model** (that of :func:`custval.simulate.case_study`, standardized): for
    respondent *i* of firm *f*, latent scores :math:`\eta_i = b_f + \delta + u_i` on the
    provider side (:math:`\delta` = ``gap``, the provider's self-view above the customers') and
    :math:`\eta_i = b_f + a_j + u_i` for a customer of account *j*, with :math:`b_f \sim
    N(0, \mathrm{firm\_sd}^2 \Phi)`, :math:`a_j \sim N(0, \mathrm{icc}\,\Phi)`, :math:`u_i
    \sim N(0, (1 - \mathrm{icc})\Phi)` (provider :math:`u_i \sim N(0, \Phi)`); items
    :math:`y^* = \nu + \lambda\eta + \sqrt{1 - \lambda^2}\,e` cut into ``scale_points`` codes at
    ``thresholds`` (default equally spaced from -2 to 2).  The non-invariant customer item has
    intercept ``non_invariant["intercept"]`` (and loading ``non_invariant["loading"]``) instead
    of 0 (and its provider loading).

    Parameters
    ----------
    design : dict, str, Path, or a list of them
        A design or several (each a row of the result), as a dict or a YAML file with the keys
        (defaults in :data:`STUDY_DEFAULTS`):

        ``name``
            Label of the design.
        ``instrument`` or ``constructs``
            A codebook name or file (its paired constructs and customer item names and its
            scale; ``constructs`` may then list a subset) or ``{construct: number of items or
            [item names]}``.
        ``loadings``
            Standardized loadings: one number, ``{construct: number or [per item]}``.
        ``scale_points``, ``thresholds``
            Response codes 1..scale_points and the cut points on the standardized item scale.
        ``factor_correlations``
            One common correlation, a matrix, or ``{a: {b: r}}``.
        ``forms``
            ``["provider", "customer"]`` (default) or ``["customer"]``.
        ``firms``, ``respondents``, ``accounts``, ``customers_per_account``
            Number of firms (or a list of ``{name, respondents, accounts, customers_per_account}``
            entries overriding the defaults per firm); provider respondents per role
            (``{"manager": 3, "staff": 12}``); customer accounts per firm and customers per account.
        ``account_icc``, ``firm_sd``, ``gap``
            Share of the customer latent variance shared within an account, SD of the firm
            means, latent provider-customer gap.
        ``non_invariant``
            ``{"construct", "item" (name or position, default the last), "intercept", "loading"}``
            or ``None``.
        ``n_boot``
            ``{"htmt": 200, "gaps": 200}`` bootstrap resamples per simulated analysis.
        ``rwg_target``, ``share_target``
            Agreement target (.70) and the share of accounts that must reach it (.80).
    replications : int, default 200
        Simulated studies per design.
    seed : int, default 0
        Seed (one ``SeedSequence`` child per task of ``chunk`` studies).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where the tasks run; ``None`` runs them here.  The same seed gives bit-identical results
        whatever the executor and its number of workers.
    progress : bool, default True
        Show a progress bar (``tqdm.auto``).
    decisions : sequence of str
        Which of ``"loadings"``, ``"htmt"``, ``"invariance"``, ``"gaps"``, ``"agreement"`` to
        simulate (invariance costs most: three two-group CFAs and the release tests per study).
    chunk : int, default 25
        Studies per task (see :func:`dynamic_fit_cutoffs`): the same ``seed`` and ``chunk`` give
        the same numbers on any executor.

    Returns
    -------
    StudyPlanResult
        The power and precision table, the agreement curve and every simulated study.

    Raises
    ------
    SpecificationError
        An impossible design, named by design and construct, item, parameter or firm: a
        standardized loading of 1 or more in absolute value (or 0), a factor correlation matrix
        that is not positive definite, a role or an account with one respondent, an unknown key.

    See Also
    --------
    custval.simulate.case_study : The full CWI case-study generator (missing data, careless
        responders, truth tables).
    dynamic_fit_cutoffs : Fit-index cutoffs for the user's own CFA.

    Notes
    -----
    Each simulated study's analyses run with the custval defaults named above; warnings inside
    the simulated analyses are not shown, failures are counted in ``n_failed`` and left out.

    Examples
    --------
    >>> import custval
    >>> plan = custval.planning.simulate_study(
    ...     {"name": "8 firms", "constructs": {"CQUAL": 4, "CPROC": 4}, "loadings": 0.7,
    ...      "firms": 8, "accounts": 6, "customers_per_account": 3},
    ...     replications=4, seed=1, progress=False, decisions=("htmt", "gaps", "agreement"))
    >>> plan.table.loc["8 firms", ["firms", "n_provider", "n_customer"]].tolist()
    [8, 120, 144]
    >>> bool(0 < plan.table.loc["8 firms", "gap_ci_width"] < 6)
    True
    >>> # In R: no single call; simsem::sim() with lavaan models comes closest
    """
    unknown = [x for x in decisions if x not in DECISIONS]
    if unknown or not decisions:
        raise SpecificationError(f"decisions: unknown {unknown}; choose from {', '.join(DECISIONS)}")
    decisions = tuple(x for x in DECISIONS if x in decisions)
    task_plan(replications, chunk)
    raw = list(design) if isinstance(design, (list, tuple)) else [design]
    if not raw:
        raise SpecificationError("design: give a design (dict or YAML file) or a list of them")
    designs = [_normalize_design(x, i) for i, x in enumerate(raw)]
    names = [x["name"] for x in designs]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise SpecificationError(f"design names {dup} appear more than once; give each design a 'name'")
    sizes = task_plan(replications, chunk)
    seeds = task_seeds(seed, len(designs) * len(sizes))
    args, weights = [], []
    for di, d in enumerate(designs):
        for ti, size in enumerate(sizes):
            args.append((d, decisions, size, seeds[di * len(sizes) + ti]))
            weights.append(size)
    results = run_tasks(_study_task, args, executor=executor, progress=progress, desc="simulate study",
                        weights=weights)
    rows, agree, sims, failed = [], [], [], []
    for di, d in enumerate(designs):
        v = np.vstack(results[di * len(sizes):(di + 1) * len(sizes)])
        ft = d["firm_table"]
        n_prov = int(ft[d["roles"]].to_numpy().sum()) if d["roles"] else 0
        row = {"design": d["name"], "firms": len(ft), "n_provider": n_prov,
               "n_customer": int((ft["accounts"] * ft["customers_per_account"]).sum())}
        fail = {"design": d["name"]}
        for j, col in enumerate(_COLUMNS):
            est, se, n_ok = _mc_se(v[:, j])
            row[col], row[f"{col}_se"] = est, se
            fail[col] = int(replications - n_ok) if _attempted(col, d, decisions) else 0
        ks = list(range(2, int(ft["customers_per_account"].max()) + 1))
        needed = np.nan
        for j, k in enumerate(ks):
            est, se, _ = _mc_se(v[:, len(_COLUMNS) + j])
            agree.append({"design": d["name"], "customers_per_account": k, "share": est, "se": se})
            if np.isnan(needed) and est >= float(d["share_target"]):
                needed = float(k)
        row["customers_needed"] = needed
        rows.append(row)
        failed.append(fail)
        sim = pd.DataFrame(v[:, :len(_COLUMNS)], columns=list(_COLUMNS))
        sim.insert(0, "replication", np.arange(1, len(v) + 1))
        sim.insert(0, "design", d["name"])
        sims.append(sim)
    table = pd.DataFrame(rows).set_index("design")
    n_failed = pd.DataFrame(failed).set_index("design")
    convention = ("standardized common-factor population (loadings, factor correlations) with firm and account "
                  "random effects, items cut into ordered codes; each simulated study analysed with custval's CFA, "
                  "htmt, form_invariance, perception_gap and rwg(j); Monte Carlo SEs")
    return StudyPlanResult(table=table, agreement=pd.DataFrame(agree), simulated=pd.concat(sims, ignore_index=True),
                           designs={d["name"]: _public_design(d) for d in designs}, replications=int(replications),
                           seed=int(seed), n_failed=n_failed, decisions=decisions, convention=convention,
                           r_call="no single R call; simsem::sim() with lavaan models and semTools::htmt comes closest",
                           chunk=int(chunk))


def _attempted(col: str, d: dict, decisions: tuple) -> bool:
    need = {"loading_ci_width": "loadings", "p_htmt_below_85": "htmt", "p_noninvariance_flagged": "invariance",
            "gap_ci_width": "gaps", "gap_power": "gaps", "rwg_share": "agreement"}[col]
    if need not in decisions:
        return False
    if need == "htmt":
        return len(d["blocks"]) >= 2
    if need in ("invariance", "gaps"):
        return "provider" in d["forms"]
    return True


def _public_design(d: dict) -> dict:
    """The checked design as plain data (what the result shows and compares)."""
    cons = list(d["blocks"])
    return {"constructs": {c: tuple(v) for c, v in d["blocks"].items()},
            "loadings": dict(d["item_loadings"]),
            "factor_correlations": pd.DataFrame(d["phi"], index=cons, columns=cons),
            "scale_points": d["scale_points"], "thresholds": tuple(float(t) for t in d["tau"]),
            "forms": d["forms"], "firms": d["firm_table"].copy(), "account_icc": d["account_icc"],
            "firm_sd": d["firm_sd"], "gap": d["gap"], "non_invariant": d["ni"], "n_boot": dict(d["n_boot"]),
            "rwg_target": d["rwg_target"], "share_target": d["share_target"], "instrument": d["instrument"]}
