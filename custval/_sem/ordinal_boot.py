"""Case-resampling bootstrap of the composite reliabilities of an ordinal CFA fit (private).

Each replicate resamples respondents (within groups for a multi-group fit) and repeats the
whole two-stage fit on the resampled rows: thresholds, polychoric correlations and Gamma
(:func:`custval._sem.ordinal.ordinal_stats`), then the DWLS / ULS estimates from the same
starting values as a fit of the data (:func:`custval._sem.model.start_values`), then the
reliabilities with the very function that computes the point estimates
(``custval.validity._stat_value``).  A replicate's value is therefore exactly what
``composite_reliability(CFA(...).fit(data.iloc[rows]))`` gives for its rows.

A single-group fit reuses the fitted structure (the parameter table of the latent-response
model, its constraint basis, the category codes); a multi-group fit refits a copy of the CFA
on the resampled rows.  A single-group replicate that lacks a category of an item is fitted
with the categories it uses (fewer thresholds, as a fit of its rows would be) and counted; a
multi-group replicate with a category empty in a group (which lavaan refuses), a failed fit (a
custval error, a singular matrix) or one that does not converge gets no value.  The caller
counts both kinds by reason and warns.

Replicates are cut into tasks of ``custval._stats.tasks.DEFAULT_CHUNK``; task ``t`` draws
with the ``t``-th child of ``SeedSequence(seed)``, so the values depend only on the seed
(not on the executor or the number of workers).
"""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..exceptions import CustvalError, CustvalWarning

REASONS = {
    "empty": "a category of an item is empty in a group of the resample (a multi-group fit needs every "
             "category in every group)",
    "failed": "the fit failed",
    "not_converged": "the fit did not converge",
    "undefined": "the reliability is undefined",
}


@dataclasses.dataclass
class Job:
    """Everything a replicate needs (pickled to process pools)."""

    cfa: object  # the fitted CFA (its spec; a multi-group replicate refits a copy)
    conventions: tuple
    m: int  # values per replicate (the rows of the point table, in order)
    codes: np.ndarray  # n x p category codes of the rows used (0 = missing)
    nlev: list  # categories per item
    strata: list  # positions of each group's rows (one array for a single group)
    fast: bool
    factors: list = dataclasses.field(default_factory=list)  # as custval.validity._cfa_parts orders them
    items: list = dataclasses.field(default_factory=list)
    # custval.validity's _cfa_parts, _stat_value and _omega_categorical (passed in: validity imports this module)
    fns: tuple = ()

    @property
    def gid(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=int)
        for g, s in enumerate(self.strata):
            out[s] = g
        return out

    @property
    def n(self) -> int:
        return self.codes.shape[0]

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Row positions of one resample: with replacement, within each group, in group order."""
        return np.concatenate([s[rng.integers(0, len(s), size=len(s))] for s in self.strata])

    def replicate(self, rows: np.ndarray) -> tuple[np.ndarray, str]:
        """The reliabilities of the fit on ``rows`` (positions), or NaN and why."""
        nan = np.full(self.m, np.nan)
        coarser = self._empty(rows)
        if coarser and len(self.strata) > 1:
            return nan, "empty"
        try:
            fit = self._fast(rows) if self.fast else self._refit(rows)
        except (CustvalError, np.linalg.LinAlgError, FloatingPointError):
            return nan, "failed"
        if fit is None:
            return nan, "not_converged"
        if isinstance(fit, np.ndarray):
            return fit, "coarser" if coarser else ""
        _cfa_parts, _stat_value, _ = self.fns
        vals = np.array([_stat_value(fit, part, f, conv, "cr", True)
                         for part in _cfa_parts(fit) for f in part.lam.columns for conv in self.conventions],
                        dtype=float)
        return vals, "coarser" if coarser else ""

    def _empty(self, rows: np.ndarray) -> bool:
        """A category of an item (in a group) that no resampled row uses."""
        gid = self.gid[rows]
        for g in range(len(self.strata)):
            sub = self.codes[rows[gid == g]] if len(self.strata) > 1 else self.codes[rows]
            for j, k in enumerate(self.nlev):
                col = sub[:, j]
                if np.bincount(col[col > 0], minlength=k + 1)[1:].min() == 0:
                    return True
        return False

    def _refit(self, rows: np.ndarray):
        """A copy of the CFA fitted to the resampled rows (its model syntax on the keyed items)."""
        cfa = self.cfa
        ob = cfa._ord_boot
        frame = ob["items"].iloc[rows].copy()
        if ob["group"] is not None:
            frame[cfa.group] = ob["group"][rows]
        clone = copy.copy(cfa)
        clone.model = ob["syntax"]
        clone.fit(frame)
        return clone if clone.converged_ else None

    def _fast(self, rows: np.ndarray):
        """The single-group fit of ``custval._sem.wls.fit_ordinal`` on the resampled codes,
        reusing the fitted structure; returns what the reliabilities read from a fit."""
        from . import ordinal
        from .model import start_values
        from .standardize import standardize
        from .wls import OrdinalProblem

        cfa = self.cfa
        ob, od = cfa._ord_boot, cfa._ord
        spt = od["spt"]
        observed = list(cfa.observed_)
        codes = self.codes[rows]  # a copy (fancy indexing)
        levels = list(ob["levels"])
        for j, k in enumerate(self.nlev):
            col = codes[:, j]
            used = np.flatnonzero(np.bincount(col[col > 0], minlength=k + 1)[1:]) + 1
            if len(used) < k:  # a category left out: the codes of the categories used, as a fit of the rows
                if len(used) < 2:
                    raise CustvalError(f"item {observed[j]!r} has one category in the resample")
                codes[:, j] = np.where(col > 0, np.searchsorted(used, col) + 1, 0)
                levels[j] = np.asarray(levels[j])[used - 1]
        st = ordinal.ordinal_stats(codes, observed, levels)
        model = copy.copy(od["model"])
        model.ustart = spt["ustart"].to_numpy(float).copy()  # as a fresh SemModel of spt
        theta = cfa.parameterization == "theta"
        prob = OrdinalProblem(model, st, od["prob"].estimator, cfa.parameterization)
        x0 = start_values(model, [(st.cor, np.zeros(len(observed)))], cfa.std_lv)
        x, converged, _ = prob.fit(x0, max_iter=cfa.max_iter)
        if not converged:
            return None
        xs = x[: prob.ns]
        sig0 = model.implied(xs)[0][0]
        resvar = np.flatnonzero(((spt["op"] == "~~") & (spt["lhs"] == spt["rhs"])
                                 & spt["lhs"].isin(observed)).to_numpy())
        ov = {v: i for i, v in enumerate(observed)}
        if not theta:
            for k in resvar:
                i = ov[spt.iloc[k]["lhs"]]
                model.ustart[k] = 1.0 - sig0[i, i]
            sig0 = model.implied(xs)[0][0]
        x_full = np.concatenate([model.full(xs), x[prob.ns:]])
        xf = x_full[: model.nfree]
        sc = prob.scales(x)
        if set(self.conventions) <= {"ordinal", "latent_response"}:
            return self._values(model.matrices(xf)[0], st, x_full[model.nfree:], sc)
        est_rows = model.row_values(xf)
        std_all = standardize(model, xf, est_rows)[1]
        mask = spt["op"].isin(["=~", "~~"]).to_numpy()
        tab = pd.DataFrame({"lhs": spt["lhs"][mask].to_numpy(), "op": spt["op"][mask].to_numpy(),
                            "rhs": spt["rhs"][mask].to_numpy(), "est": est_rows[mask], "std_all": std_all[mask]})
        th = pd.DataFrame({"lhs": [v for v, _ in st.th_names], "op": "|", "rhs": [t for _, t in st.th_names],
                           "est": x_full[model.nfree:], "std_all": np.nan})
        scl = pd.DataFrame({"lhs": observed, "op": "~*~", "rhs": observed, "est": sc, "std_all": 1.0})
        params = pd.concat([tab, th, scl], ignore_index=True)
        params["group"] = 1
        return SimpleNamespace(
            params_=params, sample_cov_=pd.DataFrame(st.cor, index=observed, columns=observed),
            implied_cov_=pd.DataFrame(sig0 * np.outer(sc, sc), index=observed, columns=observed),
            n_obs_={"all": st.n}, group_labels_=["all"], sample_th_=st.th_flat)

    def _values(self, mats, st, tau: np.ndarray, sc: np.ndarray) -> np.ndarray:
        """The "ordinal" and "latent_response" values of ``custval.validity._stat_value`` from
        the model matrices (the same numbers in the same operations, without the tables)."""
        _omega_categorical = self.fns[2]
        ov = {v: i for i, v in enumerate(self.cfa.observed_)}
        lv = {f: i for i, f in enumerate(self.cfa.latent_)}
        start = np.concatenate([[0], np.cumsum([len(t) for t in st.th])])
        out = []
        for f in self.factors:
            k = lv[f]
            rows = [ov[i] for i in self.items if mats.lam[ov[i], k] != 0]
            phi = mats.psi[k, k]
            for conv in self.conventions:
                if len(rows) < 2:
                    out.append(np.nan)
                    continue
                lf = mats.lam[rows, k]
                s_ = sc[rows]
                if conv == "ordinal":
                    out.append(_omega_categorical(np.outer(lf * s_, lf * s_) * phi, st.cor[np.ix_(rows, rows)],
                                                  [tau[start[i]:start[i + 1]] * si for i, si in zip(rows, s_)]))
                else:
                    total = (st.cor[np.ix_(rows, rows)] / np.outer(s_, s_)).sum()
                    out.append(float(lf.sum() ** 2 * phi / total))
        return np.array(out, dtype=float)


def make_job(cfa, conventions: tuple, m: int, fns: tuple = ()) -> Job:
    ob = getattr(cfa, "_ord_boot", None)
    codes = ob["codes"]
    nlev = [len(lv) for lv in ob["levels"]]
    if ob["group"] is None:
        strata = [np.arange(codes.shape[0])]
    else:
        strata = [np.flatnonzero(ob["group"] == lab) for lab in ob["labels"]]
    fast = ob["group"] is None and getattr(cfa, "_ord", None) is not None and len(cfa.observed_) == codes.shape[1]
    pe = cfa.params_
    load = pe[pe["op"] == "=~"]
    return Job(cfa, tuple(conventions), m, codes, nlev, strata, fast, list(dict.fromkeys(load["lhs"])),
               list(dict.fromkeys(load["rhs"])), tuple(fns))


def boot_task(job: Job, seed_seq, b: int) -> tuple[np.ndarray, list]:
    """``b`` replicates drawn with ``seed_seq``: their values (b x m) and why each failed ("" = ok)."""
    from .._stats.tasks import quiet_warnings

    rng = np.random.default_rng(seed_seq)
    vals = np.full((b, job.m), np.nan)
    why = []
    with quiet_warnings(CustvalWarning):
        for r in range(b):
            v, reason = job.replicate(job.draw(rng))
            vals[r] = v
            why.append(reason)
    return vals, why


def jack_task(job: Job, start: int, stop: int) -> tuple[np.ndarray, list]:
    """Leave-one-out replicates ``start..stop-1`` (for the BCa acceleration)."""
    from .._stats.tasks import quiet_warnings

    vals = np.full((stop - start, job.m), np.nan)
    why = []
    every = np.arange(job.n)
    order = np.concatenate(job.strata)
    with quiet_warnings(CustvalWarning):
        for r, i in enumerate(range(start, stop)):
            rows = order[order != every[i]] if len(job.strata) > 1 else np.delete(every, i)
            v, reason = job.replicate(rows)
            vals[r] = v
            why.append(reason)
    return vals, why


KEPT = {
    "coarser": "{k} of {b} bootstrap resamples lack a category of an item; they are fitted with the categories "
               "they use (fewer thresholds), as a fit of their rows would be, and kept",
    "heywood": "{k} of {b} bootstrap resamples give an improper solution (a negative residual or latent "
               "variance, a Heywood case); their values are kept, as lavaan's bootstrapLavaan keeps them",
}


def run(cfa, table: pd.DataFrame, conventions: tuple, fns: tuple, *, ci_method: str, n_boot: int, seed: int,
        ci: float, progress, executor, job=None, desc: str = "ordinal CFA", reasons: dict | None = None):
    """The bootstrap of ``table``'s estimates: ``(table with se / ci_low / ci_high, replicates,
    failed count, notes, method text)``.

    ``job`` (default: the ordinal job of ``cfa``) is any object with ``draw(rng)``,
    ``replicate(rows) -> (values, reason)``, ``n`` and ``strata`` (custval._sem.ml_boot's for
    continuous fits); ``reasons`` names its failure reasons; a replicate whose reason is in
    ``KEPT`` keeps its values and is counted in a note."""
    from .._stats.bootstrap import MAX_FAILED_SHARE, _interval
    from .._stats.tasks import run_tasks, task_plan, task_seeds

    est = table["estimate"].to_numpy(dtype=float)
    job = make_job(cfa, conventions, len(est), fns) if job is None else job
    reasons = REASONS if reasons is None else reasons
    plan = task_plan(n_boot)
    seeds = task_seeds(seed, len(plan))
    show = bool(progress) if progress is not None else True
    res = run_tasks(boot_task, [(job, s, b) for s, b in zip(seeds, plan)], executor=executor, progress=show,
                    desc=f"bootstrap ({desc})", weights=plan)
    boot = np.concatenate([r[0] for r in res], axis=0)
    why = [w for r in res for w in r[1]]
    # a replicate whose fit worked but gave an undefined value where the estimate is defined
    defined = np.isfinite(est)
    for r, w in enumerate(why):
        if not w and not np.all(np.isfinite(boot[r, defined])):
            why[r] = "undefined"
    bad = np.array([w not in ("", *KEPT) for w in why])
    boot[bad] = np.nan
    jack = None
    kind = "bca" if ci_method == "bca" else "percentile"
    if kind == "bca":
        n = job.n
        cuts = list(range(0, n, 25)) + [n]
        jres = run_tasks(jack_task, [(job, a, b) for a, b in zip(cuts[:-1], cuts[1:])], executor=executor,
                         progress=show, desc=f"jackknife ({desc})", weights=np.diff(cuts).tolist())
        jack = np.concatenate([r[0] for r in jres], axis=0)
    n_failed = int(bad.sum())
    notes = []
    for kind_kept, text in KEPT.items():
        k_kept = sum(w == kind_kept for w in why)
        if k_kept:
            notes.append(text.format(k=k_kept, b=n_boot))
    if n_failed:
        counts = {k: sum(w == k for w in why) for k in reasons}
        detail = "; ".join(f"{c} {reasons[k]}" for k, c in counts.items() if c)
        if n_failed > MAX_FAILED_SHARE * n_boot:
            notes.append(f"{n_failed} of {n_boot} bootstrap resamples have no value ({detail}), more than "
                         f"{MAX_FAILED_SHARE:.0%}: the intervals are undefined (NaN)")
        else:
            notes.append(f"{n_failed} of {n_boot} bootstrap resamples have no value ({detail}); they are "
                         "left out of the standard errors and intervals")
    lo = np.full(len(est), np.nan)
    hi = lo.copy()
    se = lo.copy()
    ok = ~bad
    if ok.sum() >= 2 and n_failed <= MAX_FAILED_SHARE * n_boot:
        for c in np.flatnonzero(defined):
            se[c] = float(np.std(boot[ok, c], ddof=1))
            lo[c], hi[c] = _interval(boot[ok, c], est[c], ci=ci, method=kind,
                                     jack=None if jack is None else jack[:, c])
    out = table.copy()
    pos = list(out.columns).index("estimate") + 1
    out.insert(pos, "se", se)
    out.insert(pos + 1, "ci_low", lo)
    out.insert(pos + 2, "ci_high", hi)
    method = f"{kind} bootstrap ({n_boot} resamples, seed {seed})"
    return out, boot, n_failed, notes, method
