"""Case-resampling bootstrap of CR / AVE of a continuous (ML, MLR, FIML) CFA fit (private).

Each replicate draws respondents with replacement (within each group of a multi-group fit)
from the rows the fit used (the item values as fitted: keyed, and for listwise deletion the
complete rows; for FIML every row with at least one answer) and refits the same model from
the same starting values as a fresh fit: the group data and sample moments
(:func:`custval._sem.ml.make_group_data`, the EM moments of FIML), the checks a fit makes, and
``CFA._estimate`` itself (start values, identification check, optimizer).  The CR /
AVE values come from the very functions that compute the point estimates
(``custval.validity._cfa_parts`` and ``_stat_value``) applied to a fit-like record with the
tables those functions read (``params_`` with ``est`` and ``std_all``, ``sample_cov_``,
``implied_cov_``), so a replicate's values are exactly those of
``composite_reliability(CFA(...).fit(rows))`` (``ave(...)``) for its rows.  Standard errors are
not computed (they do not enter CR or AVE); the information check of a fit is made.

Fits with inequality constraints, observed covariates or exploratory (ESEM) blocks refit a
copy of the CFA on a frame of the resampled rows (slower, the same numbers).  Cluster-robust
and two-level fits are refused by the caller (resampling respondents would ignore the
clusters).

The resampling, the task seeds, the failure accounting and the intervals are those of
:mod:`custval._sem.ordinal_boot` (its ``run``, ``boot_task`` and ``jack_task``).
"""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..exceptions import CustvalError

REASONS = {
    "failed": "the fit failed (a singular sample covariance matrix, a constant item, an unidentified "
              "solution)",
    "not_converged": "the fit did not converge",
    "undefined": "the value is undefined",
}


@dataclasses.dataclass
class Job:
    """Everything a replicate needs (pickled to process pools)."""

    cfa: object  # the fitted CFA (its model, start-value options; the slow path refits a copy)
    statistic: str  # "cr" or "ave"
    conventions: tuple
    m: int  # values per replicate (the rows of the point table, in order)
    y: np.ndarray  # n x p item values of the rows used, group after group (NaN = missing with FIML)
    strata: list  # positions of each group's rows in ``y``
    fast: bool
    syntax: str = ""
    # the fast values: (items, factors, per group [(item, factor, row)], variance rows, item -> column)
    plan: tuple | None = None
    phi_rows: list = dataclasses.field(default_factory=list)  # per group, per factor: row of f ~~ f (-1: none)
    fns: tuple = ()  # custval.validity's _cfa_parts, _stat_value, _improper (validity imports this module)

    @property
    def n(self) -> int:
        return self.y.shape[0]

    @property
    def gid(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=int)
        for g, s in enumerate(self.strata):
            out[s] = g
        return out

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Row positions of one resample: with replacement, within each group, in group order."""
        return np.concatenate([s[rng.integers(0, len(s), size=len(s))] for s in self.strata])

    def replicate(self, rows: np.ndarray) -> tuple[np.ndarray, str]:
        """The CR / AVE values of the fit on ``rows`` (positions in ``y``), or NaN and why
        (``"heywood"``: a value from an improper solution, kept)."""
        nan = np.full(self.m, np.nan)
        try:
            fit = self._fast(rows) if self.fast else self._refit(rows)
        except (CustvalError, np.linalg.LinAlgError, FloatingPointError):
            return nan, "failed"
        if fit is None:
            return nan, "not_converged"
        if isinstance(fit, tuple):
            return self._values(*fit)
        _cfa_parts, _stat_value, _improper = self.fns
        parts = _cfa_parts(fit)
        vals = np.array([_stat_value(fit, part, f, conv, self.statistic, False)
                         for part in parts for f in part.lam.columns for conv in self.conventions], dtype=float)
        return vals, "heywood" if any("negative" in t for t in _improper(parts)) else ""

    def _values(self, est, std_all, samples, implieds) -> tuple[np.ndarray, str]:
        """``custval.validity._stat_value`` for every group, factor and convention from the
        estimates and moment matrices, in the same floating-point operations (the factor's
        submatrix summed in the column-major order of the pandas frame it is taken from)."""
        items, factors, lam_rows, var_rows, pos = self.plan
        out = []
        heywood = bool((est[var_rows] < 0).any())
        for g in range(len(samples)):
            lam = np.zeros((len(items), len(factors)))
            std = lam.copy()
            for r in lam_rows[g]:
                i, f, k = r
                lam[i, f] = float(est[k])
                std[i, f] = float(std_all[k])
            for f in range(len(factors)):
                idx = np.flatnonzero(lam[:, f] != 0)
                multi = bool(((np.round(lam[idx], 5) != 0).sum(axis=1) > 1).any())
                phi = float(est[self.phi_rows[g][f]]) if self.phi_rows[g][f] >= 0 else 0.0
                for conv in self.conventions:
                    if len(idx) < 2:
                        out.append(np.nan)
                        continue
                    if conv == "fornell_larcker":
                        lstd = std[idx, f]
                        if self.statistic == "cr":
                            s = lstd.sum() ** 2
                            out.append(s / (s + (1 - lstd**2).sum()))
                        else:
                            out.append(float(np.mean(lstd**2)))
                        continue
                    sig = samples[g] if conv == "semtools_observed" else implieds[g]
                    sub = np.asfortranarray(sig[np.ix_(pos[idx], pos[idx])])
                    lf = lam[idx, f]
                    if self.statistic == "cr":
                        out.append(float(lf.sum() ** 2 * phi / sub.sum()))
                    elif multi:
                        out.append(np.nan)
                    else:
                        out.append(float((lf**2).sum() * phi / np.trace(sub)))
        return np.array(out, dtype=float), "heywood" if heywood else ""

    def _groups_of(self, rows: np.ndarray) -> list[np.ndarray]:
        gid = self.gid[rows]
        return [self.y[rows[gid == g]] for g in range(len(self.strata))]

    def _refit(self, rows: np.ndarray):
        """A copy of the CFA fitted to a frame of the resampled rows (its model syntax)."""
        cfa = self.cfa
        frames = []
        for lab, y in zip(cfa._labels, self._groups_of(rows)):
            fr = pd.DataFrame(y, columns=list(cfa.observed_))
            if lab is not None:
                fr[cfa.group] = [lab] * len(fr)
            frames.append(fr)
        clone = copy.copy(cfa)
        clone.model = self.syntax
        clone.fit(pd.concat(frames, ignore_index=True))
        return clone if clone.converged_ else None

    def _fast(self, rows: np.ndarray):
        """What ``CFA.fit`` estimates on the resampled rows, reusing the fitted model structure;
        returns a record with the tables the CR / AVE functions read."""
        from ..cfa import CFA, _check_group_items, _check_sample_cov
        from ..exceptions import InsufficientDataError
        from .ml import MLProblem, em_saturated, make_group_data
        from .standardize import standardize

        cfa = self.cfa
        model = cfa._model
        labels = list(cfa._labels)
        names = list(cfa.observed_)
        fiml = cfa._missing == "fiml"
        groups = []
        for lab, y in zip(labels, self._groups_of(rows)):
            _check_group_items(y, names, lab)
            gd = make_group_data(y, fiml=fiml)
            if gd.n < model.nx / len(labels) or gd.n < 2:
                raise InsufficientDataError(f"{gd.n} usable case(s) in a resample")
            if fiml and not gd.complete:
                mu, sig = em_saturated(gd)
                gd.sample_cov, gd.sample_mean = sig, mu
            groups.append(gd)
        _check_sample_cov(labels, groups)
        problem = MLProblem(model, groups)
        # CFA._estimate itself (start values, the identification check, the optimizer) on a copy
        # (it records the constraints' state on the object); no inequality constraints here
        none = (np.zeros((0, model.nfree)), np.zeros(0), [])
        theta, converged, _ = copy.copy(cfa)._estimate(model, problem, groups, cfa._meanstructure,
                                                       {"constraints": none, "inequalities": none})
        if not converged:
            return None
        CFA._check_identified(problem.expected_information(theta), model)
        x = model.full(theta)
        est = model.row_values(x)
        std_all = standardize(model, x, est)[1]
        if self.plan is not None:
            return est, std_all, [gd.sample_cov for gd in groups], [s for s, _ in model.implied(x)]
        pt = cfa.partable_
        params = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "group": pt["group"],
                               "est": est, "std_all": std_all})
        implied = model.implied(x)

        def per_group(values):
            return values[0] if len(labels) == 1 else dict(zip(labels, values))

        return SimpleNamespace(
            params_=params,
            sample_cov_=per_group([pd.DataFrame(gd.sample_cov, index=names, columns=names) for gd in groups]),
            implied_cov_=per_group([pd.DataFrame(s, index=names, columns=names) for s, _ in implied]),
            n_obs_={("all" if lab is None else lab): gd.n for lab, gd in zip(labels, groups)},
            group_labels_=list(cfa.group_labels_))


def fitted_rows(cfa) -> tuple[np.ndarray, list]:
    """The item values the fit used (group after group) and each group's positions in them."""
    ys = []
    for gd in cfa._groups:
        ys.append(gd.patterns[0].y if gd.complete else gd.extra["y"])
    sizes = [len(y) for y in ys]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return np.vstack(ys).astype(float), [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]


def make_job(cfa, statistic: str, conventions: tuple, m: int, fns: tuple) -> Job:
    from .spec import as_syntax

    y, strata = fitted_rows(cfa)
    fast = not (getattr(cfa, "inequalities_", None) or getattr(cfa, "covariates_", None)
                or getattr(cfa, "efa_blocks_", None))
    job = Job(cfa, statistic, tuple(conventions), m, y, strata, fast, syntax=as_syntax(cfa.model), fns=tuple(fns))
    if fast and set(conventions) <= {"semtools_observed", "semtools_implied", "fornell_larcker"}:
        _plan(job)
    return job


def _plan(job: Job) -> None:
    """Where the values read the estimates: the rows of ``custval.validity._cfa_parts``'s tables
    (items and factors in their order of appearance among the loadings)."""
    cfa = job.cfa
    pt = cfa.partable_
    op, lhs, rhs = pt["op"].to_numpy(object), pt["lhs"].to_numpy(object), pt["rhs"].to_numpy(object)
    group = pt["group"].to_numpy()
    load = op == "=~"
    factors = list(dict.fromkeys(lhs[load]))
    items = list(dict.fromkeys(rhs[load]))
    if set(items) & set(factors):
        return  # a higher-order factor: the point estimates refuse it already
    i_of, f_of = {v: k for k, v in enumerate(items)}, {v: k for k, v in enumerate(factors)}
    ngroups = len(cfa._labels)
    lam_rows, phi_rows = [], []
    for g in range(1, ngroups + 1):
        lam_rows.append([(i_of[rhs[k]], f_of[lhs[k]], k) for k in np.flatnonzero(load & (group == g))])
        # the last f ~~ f row of the group wins (as the table's assignments)
        rows = [-1] * len(factors)
        for k in np.flatnonzero((op == "~~") & (group == g)):
            if lhs[k] == rhs[k] and lhs[k] in f_of:
                rows[f_of[lhs[k]]] = k
        phi_rows.append(rows)
    var_rows = np.flatnonzero((op == "~~") & (lhs == rhs) & np.isin(lhs, items + factors))
    obs = {v: k for k, v in enumerate(cfa.observed_)}
    if any(i not in obs for i in items):
        return
    job.plan = (items, factors, lam_rows, var_rows, np.array([obs[i] for i in items]))
    job.phi_rows = phi_rows


def replicate_rows(cfa, n_boot: int, seed: int) -> list[np.ndarray]:
    """The row positions (into the rows the fit used, group after group) of the ``n_boot``
    resamples of ``seed``: what the bootstrap draws, for checks against other software."""
    from .._stats.tasks import task_plan, task_seeds

    y, strata = fitted_rows(cfa)
    job = Job(cfa, "cr", (), 0, y, strata, True)
    out = []
    for s, b in zip(task_seeds(seed, len(task_plan(n_boot))), task_plan(n_boot)):
        rng = np.random.default_rng(s)
        out.extend(job.draw(rng) for _ in range(b))
    return out


def check_bootable(cfa) -> None:
    """Refuse fits whose respondents cannot be resampled independently (clusters, levels)."""
    from ..exceptions import SpecificationError

    if hasattr(cfa, "_twolevel") or getattr(cfa, "cluster", None) is not None:
        raise SpecificationError(
            "bootstrap intervals of composite_reliability / ave resample respondents independently; "
            "a fit with cluster= or level: blocks has clustered respondents (resampling clusters is not "
            "implemented); use ci_method=None")
    if getattr(cfa, "_groups", None) is None or getattr(cfa, "_model", None) is None:
        raise SpecificationError("a fitted custval.cfa.CFA is needed for bootstrap intervals (call .fit(data))")
