"""Aligned factor means per firm for :func:`custval.gaps.benchmark_firms` (``means="aligned"``).

One :func:`custval.alignment` per form and construct, across the firms; the firms'
aligned means, their intervals, whether they are comparable (the share of non-invariant
loadings and intercepts, :meth:`custval.align.AlignmentResult.comparable`) and ranks of
the comparable firms with intervals drawn from the aligned means' joint sampling
distribution.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import (
    CustvalError,
    CustvalWarning,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

#: options of custval.alignment a benchmark may set (group, ci and seed are the benchmark's)
ALIGN_OPTIONS = ("method", "reference", "estimator", "missing", "power", "eps", "starts", "p_pairwise",
                 "p_set", "max_noninvariant")

COLUMNS = ["side", "construct", "firm", "estimate", "se", "ci_low", "ci_high", "p_value", "n", "fixed",
           "variance", "se_variance", "noninvariant", "parameters", "share_noninvariant", "comparable",
           "observed_mean", "n_observed", "rank", "rank_ci_low", "rank_ci_high"]


def check_options(options) -> dict:
    """The alignment options as a dict (unknown keys are a SpecificationError)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise SpecificationError(f"alignment_options must be a dict of custval.alignment options "
                                 f"({', '.join(ALIGN_OPTIONS)}); got {type(options).__name__}")
    bad = [k for k in options if k not in ALIGN_OPTIONS]
    if bad:
        raise SpecificationError(f"alignment_options: unknown option(s) {', '.join(map(repr, bad))}; allowed: "
                                 f"{', '.join(ALIGN_OPTIONS)} (group, ci and seed are benchmark_firms' own)")
    return dict(options)


def alignment_frame(df: pd.DataFrame, keyed: np.ndarray, items) -> tuple[pd.DataFrame, list]:
    """The keyed items and the firm column, rows stably sorted by firm (firms sorted as text,
    rows without a firm last), and the sorted firms.  Sorting makes the result independent of
    the file's row order (alignment takes groups in order of first appearance)."""
    firm = df["firm"]
    order = sorted(firm.dropna().unique(), key=str)
    code = firm.map({f: i for i, f in enumerate(order)}).to_numpy(dtype=float)
    pos = np.argsort(np.where(np.isnan(code), np.inf, code), kind="stable")
    data = pd.DataFrame(keyed, columns=list(items), index=df.index)
    data.insert(0, "firm", firm.to_numpy())
    return data.iloc[pos], order


def _sqrt_psd(V: np.ndarray) -> np.ndarray:
    """Symmetric square root of a covariance matrix (eigenvalues below 0 from rounding set to 0)."""
    w, U = np.linalg.eigh((V + V.T) / 2)
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T


def _ranks(est: np.ndarray, V: np.ndarray, n_draws: int, rng, a: float):
    """Ranks (1 = highest) and percentile intervals of ranks over draws from N(est, V)."""
    rank = (-est).argsort(kind="stable").argsort(kind="stable") + 1
    z = rng.standard_normal((n_draws, len(est)))
    draws = est + z @ _sqrt_psd(V).T
    br = (-draws).argsort(axis=1, kind="stable").argsort(axis=1, kind="stable") + 1
    lo = np.quantile(br, a / 2, axis=0, method="lower")
    hi = np.quantile(br, 1 - a / 2, axis=0, method="higher")
    return rank, lo, hi


def aligned_means(frames: dict, instrument, *, ci: float, seed: int, n_draws: int, options: dict,
                  observed: pd.DataFrame):
    """The ``aligned`` table of :class:`custval.gaps.BenchmarkResult` and the alignments.

    ``frames``: ``{side: (bare frame, keyed item matrix of the form's items)}``;
    ``observed``: the benchmark's agreement table (observed mean score per side, firm and
    construct).  Returns ``(table, {(side, construct): AlignmentResult})``.
    """
    from ..align import alignment

    opts = dict(options)
    max_non = float(opts.pop("max_noninvariant", 0.25))
    opts.setdefault("missing", "fiml")
    streams = np.random.SeedSequence(seed)  # one stream per form and construct, spawned in order
    a = 1 - ci
    rows, results, missing_notes = [], {}, []
    obs = observed.assign(_key=observed["firm"].astype(str)).set_index(["side", "_key", "construct"])
    for side, (df, keyed) in frames.items():
        form = instrument.form(side)
        data, order = alignment_frame(df, keyed, form.items)
        label = {str(f): f for f in order}
        ref = opts.get("reference", order[0] if order else None)
        for c in form.constructs:
            rng = np.random.default_rng(streams.spawn(1)[0])
            where = f"aligned means of the {side} form, construct {c!r}"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    res = alignment(data, form.model_syntax(constructs=[c]), group="firm", ci=ci, seed=seed,
                                    **{**opts, "reference": ref})
                except CustvalError as err:
                    raise type(err)(f"{where}: {err}") from err
            for w in caught:
                if issubclass(w.category, MissingDataWarning):
                    missing_notes.append(f"{side} {c}: {w.message}")
                elif issubclass(w.category, CustvalWarning):
                    warnings.warn(f"{where}: {w.message}", w.category, stacklevel=3)
                else:
                    warnings.warn(w.message, w.category, stacklevel=3)
            lost = [f for f in order if str(f) not in res.n_per_group]
            if lost:
                why = ("no answered item of the construct" if opts["missing"] == "fiml" else
                       "no respondent with every item of the construct answered; missing='fiml' keeps "
                       "respondents with at least one")
                raise InsufficientDataError(
                    f"{where}: firm(s) {', '.join(map(repr, lost))} have no respondent the configural model "
                    f"can use (missing={opts['missing']!r}: {why}); the firm would have no aligned mean on "
                    "this construct: drop it from both forms' data or collect its answers")
            results[(side, c)] = res
            m = res.means.reset_index(drop=True)
            v = res.variances.reset_index(drop=True)
            comp = res.comparable(max_noninvariant=max_non).set_index("group")
            ok = comp.loc[m["group"], "comparable"].to_numpy(dtype=bool)
            k = np.flatnonzero(ok)
            rank = np.full(len(m), -1)
            lo = np.full(len(m), -1)
            hi = np.full(len(m), -1)
            if len(k) >= 2:
                V = res.mean_vcov[c].loc[m["group"], m["group"]].to_numpy()
                rk, rl, rh = _ranks(m["estimate"].to_numpy()[k], V[np.ix_(k, k)], n_draws, rng, a)
                rank[k], lo[k], hi[k] = rk, rl, rh
            for i, r in m.iterrows():
                g = r["group"]
                key = (side, g, c)
                rows.append({
                    "side": side, "construct": c, "firm": label.get(g, g), "estimate": r["estimate"],
                    "se": r["se"], "ci_low": r["ci_low"], "ci_high": r["ci_high"], "p_value": r["p_value"],
                    "n": int(r["n"]), "fixed": bool(r["fixed"]), "variance": v.loc[i, "estimate"],
                    "se_variance": v.loc[i, "se"], "noninvariant": int(comp.loc[g, "noninvariant"]),
                    "parameters": int(comp.loc[g, "parameters"]),
                    "share_noninvariant": float(comp.loc[g, "share_noninvariant"]),
                    "comparable": bool(comp.loc[g, "comparable"]),
                    "observed_mean": float(obs.loc[key, "mean"]) if key in obs.index else np.nan,
                    "n_observed": int(obs.loc[key, "n"]) if key in obs.index else 0,
                    "rank": int(rank[i]), "rank_ci_low": int(lo[i]), "rank_ci_high": int(hi[i])})
    table = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("rank", "rank_ci_low", "rank_ci_high"):
        table[col] = table[col].astype("Int64").mask(table[col] < 0)
    if missing_notes:
        warnings.warn("aligned means: rows excluded from the configural fits:\n  " + "\n  ".join(missing_notes),
                      MissingDataWarning, stacklevel=3)
    return table, results
