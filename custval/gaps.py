"""Customer-wisdom gaps: readiness indices, provider-customer perception gaps, co-creation
segments and firm benchmarks for the Customer Wisdom Instrument (CWI).

* :func:`readiness` — the firm's customer-focus readiness from its own (provider) form;
* :func:`perception_gap` — provider self-view minus the customers' view, per firm and construct;
* :func:`latent_perception_gap` — the same with latent means once (partial) scalar invariance between
  the forms holds (:func:`form_invariance`);
* :func:`cocreation_segments` — Gaussian-mixture segments of the customers' willingness to co-create;
* :func:`benchmark_firms` — ICC(1), ICC(2), r_wg(J), readiness and gaps per firm, with rank intervals;
  with ``means="aligned"`` also aligned factor means per firm (:func:`custval.alignment`) and which
  firms are comparable.

Conventions
-----------
Construct scores are the mean of a respondent's answered, keyed items (reverse
items as ``scale_min + scale_max - x``; the :func:`custval.scoring.score` rule with
``min_items=1``).  Item columns must be numeric codes within the scale with
``NaN`` for missing: run :func:`custval.validate_frame` (or read with
:func:`custval.read_survey`) first, which turns "don't know" (8) into missing and
counts it.  Pass the data as read: every function here keys the instrument's
reverse items itself (the data carry no mark of having been keyed, so keyed data
passed in would be keyed twice).  Confidence intervals come from a vectorised bootstrap (all resamples
drawn at once as a count matrix); which units are resampled is stated in each
result (``resampling``).  Means of independent units (readiness indices, their
manager-staff differences, account-matched gaps) get *expanded percentile*
intervals (Hesterberg, 2015): the bootstrap quantiles at ``a'/2`` and ``1 - a'/2``
with ``a' = 2·Phi(-sqrt(n/(n-1))·t_{1-a/2, n-1})``, which corrects the plain
percentile interval's known narrowness with a few dozen units; ``se = s/sqrt(n)``;
p-value ``min(1, 2·min(P*(θ* - θ ≥ θ - θ0), P*(θ* - θ ≤ θ - θ0)))`` (the bootstrap
distribution centred at the null θ0).  Firm-level gaps of independent groups with
clustered customers (``match="firm"``) get the same expanded interval with ``n`` the
smaller number of independent units (provider respondents or customer accounts) and
``se`` = SD of the replicates.

Hesterberg, T. C. (2015). What teachers should know about the bootstrap: Resampling in
the undergraduate statistics curriculum. *The American Statistician, 69*(4), 371–386.
https://doi.org/10.1080/00031305.2015.1089789

Efron, B., & Tibshirani, R. J. (1993). *An introduction to the bootstrap*. Chapman & Hall.

References
----------
Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability:
Implications for data aggregation and analysis. In K. J. Klein & S. W. J. Kozlowski
(Eds.), *Multilevel theory, research, and methods in organizations* (pp. 349–381).
Jossey-Bass.

Grönroos, C. (2006). Adopting a service logic for marketing. *Marketing Theory, 6*(3),
317–333. https://doi.org/10.1177/1470593106066794

Grönroos, C. (2017). On value and value creation in service: A management perspective.
*Journal of Creating Value, 3*(2), 125–141. https://doi.org/10.1177/2394964317727196

Heinonen, K., & Strandvik, T. (2015). Customer-dominant logic: Foundations and
implications. *Journal of Services Marketing, 29*(6/7), 472–484.
https://doi.org/10.1108/JSM-02-2015-0096

James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater
reliability with and without response bias. *Journal of Applied Psychology, 69*(1),
85–98. https://doi.org/10.1037/0021-9010.69.1.85
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._gaps import aligned as _aligned
from ._gaps.dyads import key_text
from ._gaps.inputs import (
    _bare,
    _check_columns,
    _check_versions,
    _exclusion_message,
    _match_dyads,
    _paired_items,
    gap_instrument,
    simulated_input,
)
from ._gaps.latent import _expand_free, latent_perception_gap
from ._keys import keyed_marker, keyed_once
from ._results import COLUMNS, ResultMixin
from ._stats.bootstrap import CHUNK, resample_counts
from .exceptions import (
    DataValidationError,
    InsufficientDataError,
    InvarianceWarning,
    MissingDataWarning,
    SpecificationError,
)
from .scoring import _item_scale, key_codes

__all__ = ["benchmark_firms", "cocreation_segments", "form_invariance", "holm_adjust", "latent_perception_gap",
           "perception_gap", "readiness"]

#: readiness index -> (construct, construct subtracted or None)
READINESS_INDICES = {
    "process_understanding": ("CPROC", "OPROC"),
    "quality_understanding": ("CQUAL", "OQUAL"),
    "management": ("MGMT", None),
    "operations": ("OPER", None),
}


# --------------------------------------------------------------------------- input checks
def _form(instrument, side: str, scale=None):
    instrument = gap_instrument(instrument, scale=scale)
    persp = getattr(instrument, "perspective", None)
    if persp == side:
        return instrument, instrument
    if persp is not None:
        raise SpecificationError(f"the instrument given is the {persp!r} form; pass the full instrument "
                                 f"or its {side!r} form")
    return instrument.form(side), instrument


def _item_matrix(df: pd.DataFrame, form, items, side: str) -> np.ndarray:
    """Item codes as a float matrix after checking them (numeric, in the scale or NaN)."""
    _check_columns(df, items, side)
    lo, hi = form.scale_min, form.scale_max
    frame = _bare(df)
    problems, cols = [], []
    dk_codes = tuple(float(c) for c in form.dont_know_codes)
    for it in items:
        s = frame[it]
        if not pd.api.types.is_numeric_dtype(s):
            problems.append({"rule": "not_numeric", "column": it, "rows": [], "row_counting": "data row",
                             "values": [str(s.dtype)], "n": len(s), "allowed": "numeric codes"})
            cols.append(np.full(len(s), np.nan))
            continue
        v = s.to_numpy(dtype=float, na_value=np.nan)
        cols.append(v)
        ilo, ihi = _item_scale(form, it)  # the item's own scale
        bad = ~np.isnan(v) & ((v < ilo) | (v > ihi))
        if bad.any():
            rows = (np.flatnonzero(bad) + 1).tolist()
            vals = sorted(set(v[bad].tolist()))
            dk = [x for x in vals if x in dk_codes]
            problems.append({"rule": "dont_know_code" if dk else "out_of_range", "column": it,
                             "rows": rows[:50], "row_counting": "data row", "values": vals, "n": int(bad.sum()),
                             "allowed": f"{ilo:g}..{ihi:g} or NaN"})
    if problems:
        lines = [f"  {p['column']}: {p['n']} value(s) {p['values'][:5]} at data row(s) {p['rows'][:10]}"
                 + (" (\"don't know\" code)" if p["rule"] == "dont_know_code" else "") for p in problems]
        raise DataValidationError(
            f"{side} data: item values outside the scale {lo:g}..{hi:g} (allowed: codes in the scale or NaN; "
            "run custval.validate_frame(df, instrument.form(...)) first to turn \"don't know\" and missing "
            "codes into counted missing values):\n" + "\n".join(lines), problems=problems)
    X = np.column_stack(cols) if cols else np.empty((len(df), 0))
    # keyed: min + max - x of each item's own scale (NaN stays NaN), except items a frame from
    # Instrument.keyed records as keyed already
    mark = keyed_marker(df)
    return key_codes(X, form, items=items, skip=mark["items"] if mark else ())


def _scores(df: pd.DataFrame, form, items_by_construct: dict, side: str = "data") -> pd.DataFrame:
    """Mean of the answered keyed items per construct (NaN when none answered)."""
    all_items = list(dict.fromkeys(i for its in items_by_construct.values() for i in its))
    X = _item_matrix(df, form, all_items, side)
    pos = {it: j for j, it in enumerate(all_items)}
    out = {}
    for c, its in items_by_construct.items():
        sub = X[:, [pos[i] for i in its]]
        n = (~np.isnan(sub)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[c] = np.where(n > 0, np.nansum(sub, axis=1) / np.maximum(n, 1), np.nan)
    return pd.DataFrame(out, index=df.index)


# --------------------------------------------------------------------------- bootstrap core
def _boot_means(values: np.ndarray, strata: np.ndarray | None, n_boot: int, rng,
                with_se: bool = False):
    """Bootstrap means of the columns of ``values`` (rows = resampling units, NaN = missing).

    Units are resampled with replacement within each stratum (all strata in one
    replicate); returns (n_boot, k) means over the non-missing resampled units and,
    with ``with_se``, their standard errors ``s*/sqrt(n*)``.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    m = ~np.isnan(v)
    v0 = np.where(m, v, 0.0)
    if strata is None:
        strata = np.zeros(len(v), dtype=int)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    out = np.empty((n_boot, v.shape[1]))
    se = np.empty((n_boot, v.shape[1])) if with_se else None
    for start in range(0, n_boot, CHUNK):
        b = min(CHUNK, n_boot - start)
        num = np.zeros((b, v.shape[1]))
        den = np.zeros((b, v.shape[1]))
        sq = np.zeros((b, v.shape[1]))
        for g in groups:
            w = resample_counts(rng, b, len(g))
            num += w @ v0[g]
            den += w @ m[g]
            if with_se:
                sq += w @ (v0[g] ** 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = num / den
            out[start:start + b] = mean
            if with_se:
                var = (sq - den * mean**2) / (den - 1)
                se[start:start + b] = np.sqrt(np.maximum(var, 0.0) / den)
    return (out, se) if with_se else out


def _mean_se(v: np.ndarray):
    """Column means, standard errors s/sqrt(n) and n over non-missing values."""
    n = (~np.isnan(v)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(v, axis=0) if v.size else np.full(v.shape[1], np.nan)
        se = np.nanstd(v, axis=0, ddof=1) / np.sqrt(n)
    return mean, se, n


def _expanded_row(estimate: float, se: float, boot: np.ndarray, ci: float, n: int, null: float = 0.0) -> dict:
    """Expanded percentile interval (Hesterberg, 2015) for a mean of ``n`` independent units.

    The percentile interval of a mean is too narrow in small samples (its width follows
    ``z·s·sqrt((n-1)/n)/sqrt(n)`` instead of ``t_{n-1}·s/sqrt(n)``); the expanded interval
    takes the bootstrap quantiles at ``a'/2`` and ``1 - a'/2`` with
    ``a' = 2·Phi(-sqrt(n/(n-1))·t_{1-a/2, n-1})``.  p-value: the bootstrap distribution
    centred at the null, ``min(1, 2·min(P*(θ* - θ ≥ θ - θ0), P*(θ* - θ ≤ θ - θ0)))``.
    """
    boot = boot[np.isfinite(boot)]
    if boot.size == 0 or n < 2:
        return {"estimate": float(estimate), "se": float(se), "ci_low": np.nan, "ci_high": np.nan,
                "p_value": np.nan, "n": int(n)}
    a = 1 - ci
    a2 = 2 * stats.norm.cdf(-np.sqrt(n / (n - 1)) * stats.t.ppf(1 - a / 2, n - 1))
    lo, hi = np.quantile(boot, [a2 / 2, 1 - a2 / 2])
    # two-sided p: how often the bootstrap distribution, centred at the null, is as far out as θ
    dev = boot - estimate
    p = min(1.0, 2 * min(np.mean(dev >= estimate - null), np.mean(dev <= estimate - null)))
    return {"estimate": float(estimate), "se": float(se), "ci_low": float(lo), "ci_high": float(hi),
            "p_value": float(p), "n": int(n)}


def _check_ci(ci, n_boot):
    if not 0 < ci < 1:
        raise SpecificationError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    if int(n_boot) < 100:
        raise SpecificationError(f"n_boot must be at least 100 for a percentile interval, got {n_boot!r}")


# --------------------------------------------------------------------------- readiness
@dataclass(frozen=True, eq=False)
class ReadinessResult(ResultMixin):
    """Readiness indices per group (``table``) and managers minus staff (``role_difference``).

    Attributes
    ----------
    table : pandas.DataFrame
        The ``by`` columns, ``index``, ``estimate, se, ci_low, ci_high, p_value, n``.
    role_difference : pandas.DataFrame or None
        Managers minus staff per group and index; ``None`` when ``by`` has no role column.
    construct_means : pandas.DataFrame
        Group means of the construct scores.
    excluded : pandas.DataFrame
        Respondents without a score for an index.
    by : tuple
        The grouping columns.
    ci : float
        Confidence level.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.
    resampling : str
        What is resampled.
    convention : str
        The indices and the interval, in words.
    method_note : str
        The sources of the method.
    r_call : str
        The equivalent R code.
    simulated : bool
        True when an input frame is labelled simulated (as :func:`custval.simulate.case_study`
        labels its exports).

    See Also
    --------
    custval.gaps.readiness : The function that returns it.
    """

    table: pd.DataFrame
    role_difference: pd.DataFrame | None
    construct_means: pd.DataFrame
    excluded: pd.DataFrame
    by: tuple
    ci: float
    n_boot: int
    seed: int
    resampling: str
    convention: str
    method_note: str
    r_call: str

    simulated: bool = False

    _title = "Customer-focus readiness (provider form)"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _notes(self) -> list[str]:
        notes = [f"Resampling: {self.resampling}; {self.n_boot} resamples, seed {self.seed}"]
        if len(self.excluded):
            notes.append(f"Excluded: {len(self.excluded)} respondent-index value(s) without the scores they need")
        return [*notes, *super()._notes()]


def readiness(provider: pd.DataFrame, instrument, *, by=("firm", "role"), ci: float = 0.95,
              n_boot: int = 2000, seed: int = 0, min_n: int = 2, scale=None) -> ReadinessResult:
    r"""Customer-focus readiness indices from the provider form, per group, with bootstrap CIs.

    For respondent *i* with construct scores (means of keyed items) the indices are

    * ``process_understanding``  :math:`R^{P}_i = \mathrm{CPROC}_i - \mathrm{OPROC}_i` — understanding of
      the customers' processes relative to the firm's own;
    * ``quality_understanding``  :math:`R^{Q}_i = \mathrm{CQUAL}_i - \mathrm{OQUAL}_i` — understanding of
      the customers' quality criteria relative to the firm's own quality definition;
    * ``management``  :math:`\mathrm{MGMT}_i` — customer insight reflected in management;
    * ``operations``  :math:`\mathrm{OPER}_i` — customer insight reflected in operational processes;

    and a group's index is the mean over its respondents with both scores
    (``estimate``; ``n`` = those respondents).  A difference index below 0 marks an
    inside-out (provider-dominant) orientation; readiness in service logic needs
    the customer's processes and quality to be understood at least as well as the
    firm's own (Grönroos, 2006, 2017) and the customer's logic and ecosystem to be
    understood (Heinonen & Strandvik, 2015).

    ``role_difference`` (when ``"role"`` is in ``by``): per remaining group,
    manager mean minus operational-staff mean of each index,
    :math:`\bar R_{\text{manager}} - \bar R_{\text{staff}}`.

    Parameters
    ----------
    provider : DataFrame
        Provider-form items (validated codes, NaN = missing) and the ``by`` columns.
    instrument : Instrument, str, lavaan syntax or mapping
        The CWI (full, or its provider form).  Model syntax or ``{construct: [items]}``
        (with ``scale=``) means the same items under the same column names in both forms;
        ``{construct: {"provider": [...], "customer": [...]}}`` (with ``scale=``) pairs
        differently named twins by position.
    by : tuple of str
        Grouping columns (default firm and role; role values ``manager`` and ``staff``).
    ci : float, default 0.95
        Level of the expanded percentile bootstrap interval (module docstring): respondents
        are resampled with replacement within each group (for the role difference:
        within each role of the group, expansion by the smaller role); ``se = s/sqrt(n)``.
    n_boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    min_n : int
        Fewest respondents with a score a group needs; fewer raises
        :class:`~custval.exceptions.InsufficientDataError` naming the group.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).

    Returns
    -------
    ReadinessResult
        ``table``: the ``by`` columns, ``index``, ``estimate, se, ci_low, ci_high, p_value, n``
        (p: bootstrap test of 0; for the level indices MGMT and OPER the test is of the
        scale midpoint); ``construct_means``: group means of the construct scores (over
        respondents with a score); ``excluded``: respondents without a score for an index.

    See Also
    --------
    custval.gaps.perception_gap : Provider view minus customer view.
    custval.gaps.benchmark_firms : Readiness, gaps and ranks per firm.

    References
    ----------
    Grönroos (2006, 2017); Heinonen & Strandvik (2015) — see the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_instrument
    >>> from custval.gaps import readiness
    >>> from custval.simulate import case_study
    >>> prov, _ = case_study(seed=0).validated()
    >>> res = readiness(prov, load_instrument("cwi"), n_boot=200)
    >>> row = res.table.query("firm == 'F1' and role == 'staff' and index == 'process_understanding'")
    >>> print(row[["estimate", "ci_low", "ci_high", "n"]].round(3).to_string(index=False))
     estimate  ci_low  ci_high  n
       -0.514  -0.924   -0.081 18
    >>> # In R: aggregate(CPROC - OPROC ~ firm + role, data = scores, FUN = mean); boot::boot() for the CI
    """
    _check_ci(ci, n_boot)
    form, inst = _form(instrument, "provider", scale)
    by = (by,) if isinstance(by, str) else tuple(by)
    _check_columns(provider, by, "provider")
    _check_versions(inst, provider=provider)
    simulated = simulated_input(provider)
    provider = _bare(provider)
    sc, idx = _readiness_scores(provider, form, inst)
    mid = (form.scale_min + form.scale_max) / 2
    rng = np.random.default_rng(seed)  # groups first, then the role differences
    table = _readiness_groups(provider, idx, by, mid, ci, n_boot, rng, min_n)
    role_diff = _readiness_roles(provider, idx, by, ci, n_boot, rng) if "role" in by else None
    return ReadinessResult(
        simulated=simulated,
        table=table, role_difference=role_diff,
        construct_means=sc.groupby([provider[b] for b in by], sort=True).mean().reset_index(),
        excluded=_readiness_excluded(idx), by=by, ci=ci, n_boot=int(n_boot),
        seed=seed, resampling="respondents within each group (role difference: within each role)",
        convention="construct score = mean of answered keyed items; index = mean over respondents of "
                   "CPROC-OPROC, CQUAL-OQUAL, MGMT, OPER; expanded percentile bootstrap CI; p for MGMT/OPER tests the "
                   "scale midpoint",
        method_note="Grönroos (2006, 2017); Heinonen & Strandvik (2015)",
        r_call="aggregate(cbind(CPROC - OPROC, CQUAL - OQUAL, MGMT, OPER) ~ firm + role, scores, mean)")


def _readiness_scores(provider: pd.DataFrame, form, inst) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The construct scores the indices need and each respondent's indices (NaN: no score)."""
    need = sorted({c for pair in READINESS_INDICES.values() for c in pair if c is not None})
    absent = [c for c in need if c not in form.constructs]
    if absent:
        raise SpecificationError(f"instrument {inst.name!r} lacks the readiness constructs {absent}")
    sc = _scores(provider, form, {c: form.constructs[c] for c in need}, "provider")
    idx = pd.DataFrame({k: (sc[a] - sc[b]) if b else sc[a] for k, (a, b) in READINESS_INDICES.items()},
                       index=provider.index)
    return sc, idx


def _readiness_excluded(idx: pd.DataFrame) -> pd.DataFrame:
    """Respondents (1-based rows) without a score for an index, per index."""
    excluded = []
    for k in idx:
        for pos in np.flatnonzero(idx[k].isna().to_numpy()):
            excluded.append({"row": int(pos) + 1, "index": k, "reason": "no score on a construct it needs"})
    return pd.DataFrame(excluded, columns=["row", "index", "reason"])


def _readiness_groups(provider, idx, by, mid, ci, n_boot, rng, min_n) -> pd.DataFrame:
    """Each group's indices with expanded bootstrap CIs (respondents resampled in the group)."""
    rows = []
    keys = provider[list(by)]
    groups = keys.groupby(list(by), sort=True, dropna=False).indices
    for key, pos in groups.items():
        key = key if isinstance(key, tuple) else (key,)
        v = idx.to_numpy()[pos]
        n = (~np.isnan(v)).sum(axis=0)
        if n.min() < min_n:
            raise InsufficientDataError(
                f"readiness: group {dict(zip(by, key))} has {int(n.min())} respondent(s) with a score "
                f"(index {idx.columns[int(n.argmin())]!r}); at least min_n={min_n} are needed. "
                "Merge or leave out that group, or lower min_n.")
        boot = _boot_means(v, None, n_boot, rng)
        est, se, _ = _mean_se(v)
        for j, k in enumerate(idx.columns):
            null = mid if READINESS_INDICES[k][1] is None else 0.0
            rows.append({**dict(zip(by, key)), "index": k,
                         **_expanded_row(est[j], se[j], boot[:, j], ci, n[j], null)})
    return pd.DataFrame(rows, columns=[*by, "index", *COLUMNS])


def _readiness_roles(provider, idx, by, ci, n_boot, rng) -> pd.DataFrame:
    """Manager minus staff mean of each index per remaining group (each role resampled within
    itself); groups without both roles are left out."""
    rest = [b for b in by if b != "role"]
    drows = []
    gb = provider.groupby(rest, sort=True, dropna=False).indices if rest else {(): np.arange(len(provider))}
    roles = provider["role"].to_numpy()
    for key, pos in gb.items():
        key = key if isinstance(key, tuple) else (key,)
        pm, ps = pos[roles[pos] == "manager"], pos[roles[pos] == "staff"]
        if len(pm) == 0 or len(ps) == 0:
            continue
        v = idx.to_numpy()
        # each role resampled with replacement within itself (independent samples)
        bm = _boot_means(v[pm], None, n_boot, rng)
        bs = _boot_means(v[ps], None, n_boot, rng)
        em, sem, nm = _mean_se(v[pm])
        es, ses, ns = _mean_se(v[ps])
        est, se = em - es, np.sqrt(sem**2 + ses**2)
        for j, k in enumerate(idx.columns):
            # expansion by the smaller group (conservative); n reports both groups
            r = _expanded_row(est[j], se[j], bm[:, j] - bs[:, j], ci, int(min(nm[j], ns[j])))
            drows.append({**dict(zip(rest, key)), "index": k, **{**r, "n": int(nm[j] + ns[j])}})
    return pd.DataFrame(drows, columns=[*rest, "index", *COLUMNS])


# --------------------------------------------------------------------------- perception gap
@dataclass(frozen=True, eq=False)
class PerceptionGapResult(ResultMixin):
    """Provider view minus customer view per firm and construct (observed scores).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per firm and construct: provider, customer, estimate (gap), se, ci_low,
        ci_high, p_value, n, effect_size, n_provider, n_customer.
    match : str
        ``"account"`` or ``"firm"``.
    resampling : str
        What is resampled.
    effect_size : str
        The effect size reported, in words.
    excluded : pandas.DataFrame
        Rows left out: side, firm, account, n_rows, reason, rows (1-based data rows).
    invariance_checked : bool
        Whether an invariance result showing scalar invariance was given.
    ci : float
        Confidence level.
    n_boot : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.
    convention : str
        The gap and its interval, in words.
    method_note : str
        What the observed-score gaps assume.
    r_call : str
        The equivalent R code.
    boot : dict
        The bootstrap replicates of the gaps.
    simulated : bool
        True when an input frame is labelled simulated (as :func:`custval.simulate.case_study`
        labels its exports).
    near_misses : pandas.DataFrame
        Pairs of unmatched keys that differ only by case, spaces, leading zeros or dashes.
    rows : dict
        Per file ``{"in", "used", "excluded": {reason: n}}``.

    See Also
    --------
    custval.gaps.perception_gap : The function that returns it.
    """

    table: pd.DataFrame
    match: str
    resampling: str
    effect_size: str
    excluded: pd.DataFrame
    invariance_checked: bool
    ci: float
    n_boot: int
    seed: int
    convention: str
    method_note: str
    r_call: str
    boot: dict

    simulated: bool = False
    near_misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: dict = field(default_factory=dict)

    _title = "Perception gap: provider view minus customer view"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _notes(self) -> list[str]:
        notes = [f"Match: {self.match}; resampling: {self.resampling}; effect size: {self.effect_size}; "
                 f"{self.n_boot} resamples, seed {self.seed}",
                 "Invariance between forms: " + ("scalar invariance shown" if self.invariance_checked else
                                                  "NOT established (observed-score gaps)")]
        for side, acc in self.rows.items():
            excl = "; ".join(f"{n} {reason}" for reason, n in acc["excluded"].items()) or "none"
            notes.append(f"Rows ({side}): {acc['in']} in = {acc['used']} used + "
                         f"{acc['in'] - acc['used']} excluded ({excl})")
        if len(self.near_misses):
            notes.append(f"Near-miss keys (not matched): {len(self.near_misses)}; see near_misses")
        return [*notes, *super()._notes()]


def _pairs(inst):
    pairs = inst.pairs()
    if pairs.empty:
        raise SpecificationError(f"instrument {inst.name!r} has no paired provider/customer items")
    prov = {c: tuple(g["provider_item"]) for c, g in pairs.groupby("construct", sort=False)}
    cust = {c: tuple(g["customer_item"]) for c, g in pairs.groupby("construct", sort=False)}
    return prov, cust


def _check_invariance(invariance) -> bool:
    if invariance is None:
        warnings.warn(
            "perception_gap: observed-score gaps are compared across the provider and customer forms "
            "without established scalar invariance between the forms; pass invariance= (a "
            "custval.measurement_invariance result with scalar invariance) once it is shown. Gaps may reflect "
            "items whose meaning differs between the forms.", InvarianceWarning, stacklevel=3)
        return False
    highest = getattr(invariance, "highest", None)
    if highest not in ("scalar", "strict"):
        raise SpecificationError(
            f"invariance= must be a custval.measurement_invariance result in which scalar invariance holds; its highest "
            f"level is {highest!r}. Observed-score gaps are not comparable across the forms.")
    return True


def _gap_core(provider, customer, inst, match, ci, n_boot, seed, min_units, strict=False):
    if match not in ("account", "firm"):
        raise SpecificationError(f"match must be 'account' or 'firm', got {match!r}")
    _check_ci(ci, n_boot)
    pform, cform = inst.form("provider"), inst.form("customer")
    pitems, citems = _pairs(inst)
    key_cols = ["firm", "account"] if match == "account" else ["firm"]
    _check_columns(provider, key_cols, "provider")
    _check_columns(customer, key_cols, "customer")
    _check_versions(inst, provider=provider, customer=customer)
    p_use, c_use, pkeys, ckeys, key_excl, near, personal, n_excl, files = _match_dyads(provider, customer, match,
                                                                                        strict)
    n_in = {"provider": len(provider), "customer": len(customer)}
    provider, customer = _bare(provider), _bare(customer)
    ps = _scores(provider, pform, pitems, "provider")
    cs = _scores(customer, cform, citems, "customer")
    # rows of matched units without any paired answer add nothing: counted as excluded
    for side, sc, use in (("provider", ps, p_use), ("customer", cs, c_use)):
        empty = use & sc.isna().all(axis=1).to_numpy()
        if empty.any():
            key_excl.append({"side": side, **dict.fromkeys(key_cols), "n_rows": int(empty.sum()),
                             "reason": "no answer on any paired item", "rows": (np.flatnonzero(empty) + 1).tolist()})
            n_excl[side]["no answer on any paired item"] = int(empty.sum())
    rows_acc = {side: {"in": n_in[side], "used": n_in[side] - sum(n_excl[side].values()),
                       "excluded": dict(n_excl[side])} for side in ("provider", "customer")}
    # display values of the keys: the provider's spelling (matched keys are equal as text)
    firm_raw = dict(zip((k[0] if k else None for k in pkeys), provider["firm"].tolist()))
    ps, cs = ps[p_use], cs[c_use]
    pf = np.array([k[0] for k, u in zip(pkeys, p_use) if u], dtype=object)
    cf = np.array([k[0] for k, u in zip(ckeys, c_use) if u], dtype=object)
    pacc = np.array([k[1] for k, u in zip(pkeys, p_use) if u], dtype=object) if match == "account" else None
    if match == "account":
        cacc = np.array([k[1] for k, u in zip(ckeys, c_use) if u], dtype=object)
    elif "account" in customer.columns:
        cacc = customer["account"].to_numpy()[c_use]
    else:
        cacc = None
    rng = np.random.default_rng(seed)
    cons = list(pitems)
    rows, boots = [], {}
    for key in sorted(set(pf), key=str):
        firm = firm_raw[key]
        pm, cm = pf == key, cf == key
        if match == "account":
            pa = pd.DataFrame(ps[pm].to_numpy(), columns=cons).groupby(pacc[pm]).mean()
            ca = pd.DataFrame(cs[cm].to_numpy(), columns=cons).groupby(cacc[cm]).mean()
            acc = sorted(set(pa.index) & set(ca.index), key=str)
            P, C = pa.loc[acc].to_numpy(), ca.loc[acc].to_numpy()
            D = P - C
            n_units = (~np.isnan(D)).sum(axis=0)
            if n_units.min() < min_units:
                raise InsufficientDataError(
                    f"perception_gap: firm {firm!r} has {int(n_units.min())} matched account(s) with scores on "
                    f"both sides; match='account' needs at least {min_units}. Use match='firm' or collect more "
                    "accounts.")
            bd = _boot_means(D, None, n_boot, rng)
            _, se_d, _ = _mean_se(D)
            for j, c in enumerate(cons):
                ok = ~np.isnan(D[:, j])
                d = D[ok, j]
                sd = np.std(d, ddof=1)
                r = _expanded_row(d.mean(), se_d[j], bd[:, j], ci, int(ok.sum()))
                rows.append({"firm": firm, "construct": c, "provider": float(P[ok, j].mean()),
                             "customer": float(C[ok, j].mean()), **r,
                             "effect_size": float(d.mean() / sd) if sd > 0 else np.nan,
                             "n_provider": int(ps.loc[pm, c].notna().sum()),
                             "n_customer": int(cs.loc[cm, c].notna().sum())})
            boots[firm] = bd
        else:
            P, C = ps[pm].to_numpy(), cs[cm].to_numpy()
            npv, ncv = (~np.isnan(P)).sum(axis=0), (~np.isnan(C)).sum(axis=0)
            if min(npv.min(), ncv.min()) < min_units:
                raise InsufficientDataError(
                    f"perception_gap: firm {firm!r} has {int(npv.min())} provider and {int(ncv.min())} customer "
                    f"respondent(s) with a score; at least {min_units} per side are needed.")
            bp = _boot_means(P, None, n_boot, rng)
            if cacc is not None:
                # customers are clustered in accounts: resample accounts (cluster sums / counts)
                acc = cacc[cm]
                codes, inv = np.unique(acc.astype(str), return_inverse=True)
                Cm = ~np.isnan(C)
                S = np.zeros((len(codes), C.shape[1]))
                N = np.zeros_like(S)
                np.add.at(S, inv, np.where(Cm, C, 0.0))
                np.add.at(N, inv, Cm)
                bc = _ratio_boot(S, N, n_boot, rng)
            else:
                N = None
                bc = _boot_means(C, None, n_boot, rng)
            bd = bp - bc
            for j, c in enumerate(cons):
                p, q = P[~np.isnan(P[:, j]), j], C[~np.isnan(C[:, j]), j]
                n1, n2 = len(p), len(q)
                sp = np.sqrt(((n1 - 1) * np.var(p, ddof=1) + (n2 - 1) * np.var(q, ddof=1)) / (n1 + n2 - 2))
                # expansion by the smaller number of independent units: provider respondents or
                # customer accounts (clusters) with a score
                n_cl = int((N[:, j] > 0).sum()) if cacc is not None else n2
                r = _expanded_row(p.mean() - q.mean(), float(np.std(bd[:, j], ddof=1)), bd[:, j], ci,
                                  int(min(n1, n_cl)))
                r["n"] = n1 + n2
                rows.append({"firm": firm, "construct": c, "provider": float(p.mean()), "customer": float(q.mean()),
                             **r, "effect_size": float((p.mean() - q.mean()) / sp) if sp > 0 else np.nan,
                             "n_provider": n1, "n_customer": n2})
            boots[firm] = bd
    table = pd.DataFrame(rows, columns=["firm", "construct", "provider", "customer", *COLUMNS, "effect_size",
                                        "n_provider", "n_customer"])
    excluded = pd.DataFrame(key_excl, columns=["side", "firm", "account", "n_rows", "reason", "rows"])
    if len(excluded) or len(near):
        warnings.warn(_exclusion_message(excluded, near, key_cols, personal, files), MissingDataWarning,
                      stacklevel=3)
    return table, excluded, boots, cons, near, rows_acc


def _ratio_boot(S, N, n_boot, rng):
    """Cluster bootstrap of a ratio mean: clusters with sums S and counts N resampled."""
    out = np.empty((n_boot, S.shape[1]))
    for start in range(0, n_boot, CHUNK):
        b = min(CHUNK, n_boot - start)
        w = resample_counts(rng, b, S.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + b] = (w @ S) / (w @ N)
    return out


def perception_gap(provider: pd.DataFrame, customer: pd.DataFrame, instrument, *, match: str = "account",
                   ci: float = 0.95, n_boot: int = 2000, seed: int = 0, invariance=None,
                   min_units: int = 3, strict: bool = False, scale=None) -> PerceptionGapResult:
    r"""Provider self-view minus the customers' view, per firm and paired construct.

    Only the paired items (``instrument.pairs()``) enter: the provider score of a
    construct is the mean of its keyed items that have a customer twin, the
    customer score the mean of the twins.

    ``match="account"`` (matched dyads): for account *a* of a firm,
    :math:`D_a = \bar P_a - \bar C_a` (mean provider score of the respondents who
    serve the account minus mean customer score of its respondents); the gap is
    :math:`\bar D` over the accounts with both sides, ``n`` the number of accounts,
    the effect size :math:`d_z = \bar D / s_D`; accounts are resampled (cluster
    bootstrap), expanded percentile interval with ``se`` = :math:`s_D/\sqrt{n}`.  ``provider``/``customer`` are the means of the account means.

    ``match="firm"`` (independent groups): gap :math:`\bar P - \bar C` over
    respondents, ``n = n_provider + n_customer``, Cohen's
    :math:`d = (\bar P - \bar C) / s_p` with the pooled SD
    :math:`s_p^2 = ((n_1-1)s_1^2 + (n_2-1)s_2^2)/(n_1+n_2-2)`; provider respondents
    are resampled within the firm and customers by account (clusters) when an
    ``account`` column is there, else as respondents; expanded percentile interval
    with ``n`` = min(provider respondents, customer accounts), ``se`` = SD of the replicates.

    A positive gap means the firm rates itself above its customers' experience.
    Gaps of *latent* means need scalar invariance between the forms; this version
    always reports observed-score gaps and warns
    (:class:`~custval.exceptions.InvarianceWarning`) unless ``invariance=`` is a
    :func:`custval.measurement_invariance` result whose highest level is scalar (or strict).

    Matching the two files (the dyad rule).  The keys (``firm``, and ``account``
    with ``match="account"``) are identifiers compared as text, exactly; the one
    allowance is that a whole number read as a number equals its digits (``123``
    and ``"123"``).  The gaps use the rows whose key is present in both files.
    Every other row is left out with its reason in ``excluded`` (provider
    accounts or firms without customer responses, customer accounts or firms
    without a provider, rows without a key, rows without any paired answer) and
    one :class:`~custval.exceptions.MissingDataWarning` says so.  An unmatched
    provider key and an unmatched customer key that are equal once case, spaces
    (NBSP too), leading zeros of an all-digit key and dash/minus variants are
    ignored are *near-misses*: reported with both spellings in ``near_misses``
    and the warning, never matched automatically.  When a key column looks like
    personal data (flagged by :func:`custval.read_survey` or custval's
    personal-data rules) only counts are shown.  ``rows`` accounts for every
    row: rows in = rows used + rows excluded (by reason), per file.

    Parameters
    ----------
    provider, customer : DataFrame
        Item codes as read (raw, not reverse-keyed: the instrument's reverse items are keyed
        here; NaN = missing), ``firm`` and (for account matching) ``account``.
    instrument : Instrument, str, lavaan syntax or mapping
        The full CWI (both forms).  Model syntax or ``{construct: [items]}``
        (with ``scale=``) means the same items under the same column names in both forms;
        ``{construct: {"provider": [...], "customer": [...]}}`` (with ``scale=``) pairs
        differently named twins by position.
    match : {"account", "firm"}, default "account"
        Pair provider and customer answers by account within each firm, or by firm.
    ci : float, default 0.95
        Confidence level of the bootstrap intervals.
    n_boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    invariance : InvarianceResult or None, default None
        A :func:`custval.measurement_invariance` result of the two forms in which scalar
        invariance holds; ``None``: the gaps are computed with an
        :class:`~custval.exceptions.InvarianceWarning` that it is not shown.
    min_units : int
        Fewest accounts (``"account"``) or respondents per side (``"firm"``) a firm needs.
    strict : bool
        ``True``: any key without an exact partner in the other file (either side) or a row
        without a key is a :class:`~custval.exceptions.DataValidationError` listing them and the
        near-misses, instead of being left out.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).

    Returns
    -------
    PerceptionGapResult
        ``table``: firm, construct, provider, customer, estimate (gap), se, ci_low,
        ci_high, p_value, n, effect_size, n_provider, n_customer; ``excluded``: side, firm,
        account, n_rows, reason, rows (1-based data rows) of the rows left out (also warned);
        ``near_misses``: pairs of unmatched keys that differ only by case, spaces, leading zeros
        or dashes (``<key>_provider``, ``<key>_customer``, ``differs_by``, row counts);
        ``rows``: per file ``{"in", "used", "excluded": {reason: n}}``.

    Raises
    ------
    DataValidationError
        With ``strict=True``: a key of either file without an exact partner, or a row without
        a key.  Item codes outside the scale.
    InsufficientDataError
        A firm with too few accounts or respondents.
    CodebookError
        Data read with another instrument version than ``instrument``.

    See Also
    --------
    custval.gaps.latent_perception_gap : The same with latent means.
    custval.gaps.form_invariance : Invariance between the forms, which the gaps assume.

    Examples
    --------
    >>> import warnings
    >>> from custval import load_instrument
    >>> from custval.gaps import perception_gap
    >>> from custval.simulate import case_study
    >>> prov, cust = case_study(seed=0).validated()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = perception_gap(prov, cust, load_instrument("cwi"), n_boot=200)
    >>> row = res.table.query("firm == 'F6' and construct == 'CPROC'")
    >>> print(row[["provider", "customer", "estimate", "ci_low", "ci_high", "n"]].round(3).to_string(index=False))
     provider  customer  estimate  ci_low  ci_high  n
        3.958      2.92     1.039   0.201    1.725 10
    >>> # In R: t.test(P_a, C_a, paired = TRUE) per firm and construct (account means)
    """
    instrument = gap_instrument(instrument, scale=scale)
    checked = _check_invariance(invariance)
    table, excluded, boots, _, near, rows = _gap_core(provider, customer, instrument, match, ci, n_boot, seed,
                                                      min_units, strict)
    if match == "account":
        res = "accounts within firm (cluster bootstrap of matched dyads; expanded percentile interval)"
        eff = "d_z = mean(D) / sd(D)"
    else:
        res = ("provider respondents within firm; customer accounts within firm (clusters) if an account "
               "column exists; expanded percentile interval, n = min(respondents, accounts))")
        eff = "Cohen's d with pooled SD"
    return PerceptionGapResult(
        simulated=simulated_input(provider, customer),
        table=table, match=match, resampling=res, effect_size=eff, excluded=excluded,
        invariance_checked=checked, ci=ci, n_boot=int(n_boot), seed=seed,
        convention="observed-score gap = provider minus customer (paired items only); bootstrap CI (see "
                   "resampling)",
        method_note="latent-mean gaps: custval.latent_perception_gap, once (partial) scalar invariance between "
                    "the forms holds",
        r_call="t.test(P_a, C_a, paired = TRUE)" if match == "account" else "t.test(P, C, var.equal = TRUE)",
        boot=boots, near_misses=near, rows=rows)


# --------------------------------------------------------------------------- co-creation segments
@dataclass(frozen=True, eq=False)
class SegmentResult(ResultMixin):
    """Gaussian-mixture segments of customers' willingness to co-create.

    Attributes
    ----------
    k : int
        Number of segments.
    bic : pandas.DataFrame
        BIC per number of segments tried.
    profiles : pandas.DataFrame
        Segment × variables means, plus ``COCR``.
    sizes : pandas.DataFrame
        Segment sizes (``n``, ``share``).
    labels : pandas.Series
        Segment per customer row, ``<NA>`` if excluded.
    excluded : pandas.DataFrame
        Customers without complete answers.
    variables : tuple
        The variables clustered.
    seed : int
        Seed of the mixture fits.
    convention : str
        The model, in words.
    r_call : str
        The equivalent R code.
    simulated : bool
        True when an input frame is labelled simulated (as :func:`custval.simulate.case_study`
        labels its exports).

    See Also
    --------
    custval.gaps.cocreation_segments : The function that returns it.
    """

    k: int
    bic: pd.DataFrame
    profiles: pd.DataFrame
    sizes: pd.DataFrame
    labels: pd.Series
    excluded: pd.DataFrame
    variables: tuple
    seed: int
    convention: str
    r_call: str

    simulated: bool = False

    _title = "Co-creation segments (Gaussian mixture, k by BIC)"

    def to_frame(self) -> pd.DataFrame:
        return self.profiles.join(self.sizes)


def cocreation_segments(customer: pd.DataFrame, instrument, *, k: int | None = None, k_max: int = 6,
                        use: str = "items", covariance_type: str = "full", reg_covar: float = 0.01,
                        seed: int = 0, scale=None) -> SegmentResult:
    """Segments of customers by their willingness to co-create (COCR), Gaussian mixture with k by BIC.

    ``sklearn.mixture.GaussianMixture(k, covariance_type, random_state=seed, n_init=5)``
    is fitted to the keyed COCR item scores (``use="items"``) or to the COCR
    construct score (``use="construct"``) of the customers with complete answers
    (the others are listed in ``excluded``); ``k=None`` (the default) takes the ``k`` that
    minimises BIC over 1..``k_max``.  Segments are numbered by their mean COCR score, 1 = lowest.

    ``reg_covar`` (added to the covariance diagonals; default 0.01 in squared scale
    points, sklearn's default is 1e-6) keeps components from collapsing onto the
    discrete codes: with 1-7 codes a component on one answer pattern (e.g.
    straight-liners) has near-zero variance and an unbounded likelihood, which makes
    BIC pick spurious segments.

    Parameters
    ----------
    customer : pandas.DataFrame
        Customer-form item codes (NaN = missing).
    instrument : Instrument, str, lavaan syntax or mapping
        The CWI (full, or its customer form).  Model syntax or ``{construct: [items]}``
        (with ``scale=``) means the same items under the same column names in both forms;
        ``{construct: {"provider": [...], "customer": [...]}}`` (with ``scale=``) pairs
        differently named twins by position.
    k : int or None, default None
        Number of segments; ``None``: the ``k`` minimising BIC over 1..``k_max``.
    k_max : int, default 6
        Largest number of segments tried when ``k`` is None.
    use : {"items", "construct"}, default "items"
        Cluster the keyed COCR items or the COCR construct score.
    covariance_type : {"full", "tied", "diag", "spherical"}, default "full"
        Covariance structure of the components (as sklearn).
    reg_covar : float, default 0.01
        Added to the covariance diagonals (see above).
    seed : int, default 0
        ``random_state`` of the mixture fits.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).

    Returns
    -------
    SegmentResult
        ``bic`` (k, bic), ``profiles`` (segment x variables: means, plus ``COCR``),
        ``sizes`` (n, share), ``labels`` (segment per customer row, ``<NA>`` if excluded).

    Raises
    ------
    SpecificationError
        The instrument has no COCR construct, or an unknown ``use``.
    InsufficientDataError
        Too few complete customer responses for the mixture.

    See Also
    --------
    custval.gaps.readiness : Readiness indices from the provider form.

    Examples
    --------
    >>> from custval import load_instrument
    >>> from custval.gaps import cocreation_segments
    >>> from custval.simulate import case_study
    >>> _, cust = case_study(seed=0).validated()
    >>> seg = cocreation_segments(cust, load_instrument("cwi"), k_max=3)
    >>> seg.k, int(seg.sizes["n"].sum()) + len(seg.excluded) == len(cust)
    (1, True)
    >>> # In R: mclust::Mclust(x, G = 1:6)  (mclust's BIC has the opposite sign)
    """
    from sklearn.mixture import GaussianMixture

    form, _ = _form(instrument, "customer", scale)
    if "COCR" not in form.constructs:
        raise SpecificationError("the instrument's customer form has no COCR construct")
    items = list(form.constructs["COCR"])
    keyed = pd.DataFrame(_item_matrix(customer, form, items, "customer"), columns=items, index=customer.index)
    X = keyed.copy()
    if use == "construct":
        X = keyed.mean(axis=1).to_frame("COCR").where(keyed.notna().all(axis=1))
    elif use != "items":
        raise SpecificationError(f"use must be 'items' or 'construct', got {use!r}")
    ok = X.notna().all(axis=1).to_numpy()
    excluded = pd.DataFrame({"row": np.flatnonzero(~ok) + 1,
                             "reason": "missing COCR answer(s) (complete answers needed)"})
    Xv = X.to_numpy()[ok]
    if len(Xv) < 2 * max(k or k_max, 1):
        raise InsufficientDataError(f"cocreation_segments: {len(Xv)} complete customer responses are too few "
                                    f"for up to {k or k_max} segments")
    ks = [k] if k is not None else list(range(1, k_max + 1))
    fits, bic = {}, []
    for kk in ks:
        gm = GaussianMixture(kk, covariance_type=covariance_type, reg_covar=reg_covar, random_state=seed,
                             n_init=5).fit(Xv)
        fits[kk] = gm
        bic.append({"k": kk, "bic": float(gm.bic(Xv))})
    bic = pd.DataFrame(bic)
    best = int(bic.loc[bic["bic"].idxmin(), "k"])
    gm = fits[best]
    raw = gm.predict(Xv)
    score = keyed.mean(axis=1).to_numpy()[ok]
    order = np.argsort([score[raw == s].mean() if (raw == s).any() else np.inf for s in range(best)])
    relabel = {int(old): new + 1 for new, old in enumerate(order)}
    lab = np.array([relabel[int(r)] for r in raw])
    labels = pd.Series(pd.array([pd.NA] * len(customer), dtype="Int64"), index=customer.index, name="segment")
    labels[ok] = lab
    prof = pd.DataFrame(X.to_numpy()[ok], columns=X.columns).assign(COCR_score=score, segment=lab)
    profiles = prof.groupby("segment").mean()
    sizes = prof.groupby("segment").size().to_frame("n")
    sizes["share"] = sizes["n"] / sizes["n"].sum()
    return SegmentResult(simulated=simulated_input(customer), k=best, bic=bic, profiles=profiles, sizes=sizes, labels=labels, excluded=excluded,
                         variables=tuple(X.columns), seed=seed,
                         convention=f"GaussianMixture(covariance_type={covariance_type!r}, reg_covar={reg_covar}, n_init=5), "
                                    "k minimising BIC = -2 logL + p log n",
                         r_call="mclust::Mclust(x, G = 1:k_max)")


# --------------------------------------------------------------------------- benchmarks
@dataclass(frozen=True, eq=False)
class BenchmarkResult(ResultMixin):
    """Per-firm aggregation statistics, readiness, gaps and ranks.

    Attributes
    ----------
    aggregation : pandas.DataFrame
        ICC(1) and ICC(2) per side and construct.
    agreement : pandas.DataFrame
        r_wg(J) and the mean per side, firm and construct.
    readiness : ReadinessResult
        :func:`readiness` by firm.
    gaps : PerceptionGapResult
        :func:`perception_gap`.
    ranking : pandas.DataFrame
        Per construct, firms ranked by the absolute gap with ``rank_ci_low``, ``rank_ci_high``.
    ci : float
        Confidence level.
    convention : str
        The statistics, in words.
    r_call : str
        The equivalent R code.
    simulated : bool
        True when an input frame is labelled simulated (as :func:`custval.simulate.case_study`
        labels its exports).
    means : {"observed", "aligned"}
        Whether aligned factor means were computed.
    aligned : pandas.DataFrame or None
        ``means="aligned"``: one row per side, construct and firm: ``estimate, se, ci_low,
        ci_high, p_value`` (the aligned factor mean on the reference firm's scale, Wald
        interval; ``p_value`` tests mean = 0), ``n`` (respondents in the configural fit),
        ``fixed`` (the reference firm's mean), ``variance, se_variance`` (aligned factor
        variance), ``noninvariant, parameters, share_noninvariant, comparable`` (the firm's
        non-invariant loadings and intercepts of the construct; comparable when the share is
        at most ``max_noninvariant``, default 0.25), ``observed_mean, n_observed`` (the
        firm's observed mean score, as in ``agreement``), and ``rank, rank_ci_low,
        rank_ci_high`` among the comparable firms (1 = highest aligned mean; ``<NA>`` for a
        firm that is not comparable).  ``None`` with ``means="observed"``.
    alignments : dict
        ``{(side, construct): AlignmentResult}`` behind ``aligned`` (for
        ``invariance_table()``, ``plot()``); empty with ``means="observed"``.

    See Also
    --------
    custval.gaps.benchmark_firms : The function that returns it.
    """

    aggregation: pd.DataFrame
    agreement: pd.DataFrame
    readiness: ReadinessResult
    gaps: PerceptionGapResult
    ranking: pd.DataFrame
    ci: float
    convention: str
    r_call: str

    simulated: bool = False
    means: str = "observed"
    aligned: pd.DataFrame | None = None
    alignments: dict = field(default_factory=dict, compare=False, repr=False)

    _title = "Firm benchmarks"

    def to_frame(self, *, table: str = "ranking") -> pd.DataFrame:
        """One of the result's tables.

        Parameters
        ----------
        table : {"ranking", "aligned"}, default "ranking"
            ``"ranking"``: firms ranked by the absolute perception gap (observed scores);
            ``"aligned"``: the aligned factor means, comparability and ranks (only with
            ``means="aligned"``).

        Returns
        -------
        pandas.DataFrame

        See Also
        --------
        custval.gaps.benchmark_firms : What the tables hold.
        """
        if table == "ranking":
            return self.ranking
        if table == "aligned":
            if self.aligned is None:
                raise SpecificationError("this benchmark has no aligned means; call "
                                         "benchmark_firms(..., means='aligned')")
            return self.aligned
        raise SpecificationError(f"table must be 'ranking' or 'aligned', got {table!r}")

    def _aligned_display(self) -> pd.DataFrame:
        cols = ["estimate", "se", "ci_low", "ci_high", "observed_mean", "n", "share_noninvariant",
                "comparable", "rank", "rank_ci_low", "rank_ci_high"]
        return self.aligned.set_index(["side", "construct", "firm"])[cols]

    def _notes(self) -> list[str]:
        notes = list(super()._notes())
        if self.aligned is not None:
            al = self.aligned
            bad = al.loc[~al["comparable"]]
            ref = al.loc[al["fixed"], "firm"].astype(str).unique()
            notes.append(
                f"Aligned means (Asparouhov & Muthén, 2014; one alignment per form and construct across "
                f"{al['firm'].nunique()} firms{'; reference firm ' + ', '.join(ref) if len(ref) else ''}): "
                f"{int(al['comparable'].sum())} of {len(al)} firm x construct means comparable"
                + ("; not comparable: " + "; ".join(
                    f"{s} {c}: {', '.join(map(str, sub['firm']))}"
                    for (s, c), sub in bad.groupby(["side", "construct"], sort=False)) if len(bad) else ""))
        return notes

    def summary(self, *, digits: int = 3) -> str:
        """The gap ranking, the notes and (``means="aligned"``) the aligned means, as text.

        Parameters
        ----------
        digits : int, default 3
            Digits shown (rounded for display only).

        Returns
        -------
        str

        See Also
        --------
        custval.gaps.BenchmarkResult.to_frame : The unrounded tables.
        """
        text = super().summary(digits=digits)
        if self.aligned is None:
            return text
        with pd.option_context("display.width", 120, "display.max_columns", 50):
            tab = self._aligned_display().round(digits).to_string()
        return f"{text}\nAligned factor means (rank among comparable firms, 1 = highest):\n{tab}"

    def _repr_html_(self) -> str:
        base = super()._repr_html_()
        if self.aligned is None:
            return base
        tab = self._aligned_display().to_html(float_format=lambda v: f"{v:.3f}", na_rep="")
        return base[:-len("</div>")] + ("<br><strong>Aligned factor means (rank among comparable firms, "
                                        f"1 = highest)</strong>{tab}</div>")


def _icc_oneway(values: np.ndarray, groups: np.ndarray) -> dict:
    r"""ICC(1) and ICC(2) from a one-way ANOVA (Bliese, 2000).

    :math:`ICC(1) = (MSB - MSW) / (MSB + (\bar k - 1) MSW)`, :math:`ICC(2) = (MSB - MSW) / MSB`,
    with :math:`\bar k = N / G` the mean group size (as ``multilevel::ICC1``/``ICC2`` in R).
    Rows with NaN are left out (``n`` counts those used).  Internal: :func:`benchmark_firms`
    reports these values, labelled, in its ``aggregation`` table.

    Examples
    --------
    >>> import numpy as np
    >>> from custval.gaps import _icc_oneway
    >>> r = _icc_oneway(np.array([1., 2, 3, 4, 5, 6]), np.array(["a", "a", "a", "b", "b", "b"]))
    >>> round(r["icc1"], 4), round(r["icc2"], 4)
    (0.8065, 0.9259)
    >>> # In R: multilevel::ICC1(aov(y ~ g)); multilevel::ICC2(aov(y ~ g))
    """
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    v, g = v[ok], np.asarray(groups)[ok]
    codes, inv = np.unique(g.astype(str), return_inverse=True)
    G, N = len(codes), len(v)
    if G < 2 or N - G < 1:
        raise InsufficientDataError(f"ICC needs at least 2 groups and more respondents than groups (groups={G}, n={N})")
    cnt = np.bincount(inv)
    means = np.bincount(inv, v) / cnt
    ssb = float(np.sum(cnt * (means - v.mean()) ** 2))
    ssw = float(np.sum((v - means[inv]) ** 2))
    msb, msw = ssb / (G - 1), ssw / (N - G)
    kbar = N / G
    return {"icc1": (msb - msw) / (msb + (kbar - 1) * msw), "icc2": (msb - msw) / msb if msb > 0 else np.nan,
            "msb": msb, "msw": msw, "groups": G, "n": N}


def _rwg_j(items: np.ndarray, n_options: int) -> float:
    r"""Within-group agreement :math:`r_{wg(J)}` (James, Demaree & Wolf, 1984), uniform null.

    :math:`r_{wg(J)} = J(1 - \bar s^2/\sigma^2_{EU}) / (J(1 - \bar s^2/\sigma^2_{EU}) + \bar s^2/\sigma^2_{EU})`,
    :math:`\sigma^2_{EU} = (A^2 - 1)/12` for *A* response options, :math:`\bar s^2` the mean of
    the item variances (``ddof=1``, each over its answered values); set to 0 when
    :math:`\bar s^2 > \sigma^2_{EU}`, as ``multilevel::rwg.j`` does.  Internal:
    :func:`benchmark_firms` reports these values, labelled, in its ``agreement`` table.

    Examples
    --------
    >>> import numpy as np
    >>> from custval.gaps import _rwg_j
    >>> round(_rwg_j(np.array([[4., 5], [5, 5], [4, 4]]), 7), 4)
    0.9565
    >>> # In R: multilevel::rwg.j(x, grpid = rep(1, 3), ranvar = 4)
    """
    x = np.asarray(items, dtype=float)
    J = x.shape[1]
    s2 = float(np.nanmean(np.nanvar(x, axis=0, ddof=1)))
    sig = (n_options**2 - 1) / 12.0
    if s2 > sig:
        return 0.0
    q = s2 / sig
    return J * (1 - q) / (J * (1 - q) + q)


def benchmark_firms(provider: pd.DataFrame, customer: pd.DataFrame, instrument, *, match: str = "firm",
                    rank_by: str = "gap", ci: float = 0.95, n_boot: int = 2000, seed: int = 0,
                    invariance=None, min_units: int = 3, strict: bool = False, scale=None,
                    means: str = "observed", alignment_options: dict | None = None) -> BenchmarkResult:
    r"""Firm benchmarks: aggregation statistics, readiness, perception gaps and ranks with uncertainty.

    * ``aggregation``: per side and construct, ICC(1) and ICC(2) with firms as groups
      (one-way ANOVA; Bliese, 2000);
    * ``agreement``: per side, firm and construct, r_wg(J) (James, Demaree & Wolf, 1984; uniform
      null, ``A`` = number of scale points) and the firm mean;
    * ``readiness``: :func:`readiness` by firm; ``gaps``: :func:`perception_gap` (its key
      matching rule, ``strict`` and ``invariance`` passed on; ``invariance=None``: gaps are
      computed with the warning that scalar invariance is not shown);
    * ``ranking``: per construct, firms ranked by the absolute perception gap (rank 1 = smallest
      gap, i.e. best customer understanding; ``rank_by="gap"``) with a percentile interval of the
      ranks over the bootstrap replicates of the gaps (``rank_ci_low``, ``rank_ci_high``);
    * ``aligned`` (``means="aligned"``): per form and construct, the firms' aligned factor means
      beside their observed mean scores, which firms are comparable, and ranks of the comparable
      firms.

    **Aligned means.** Observed mean scores compare firms only if every item means the same in
    every firm (scalar invariance); with many firms that rarely holds exactly.  With
    ``means="aligned"`` each construct of each form is aligned across the firms
    (:func:`custval.alignment`, Asparouhov & Muthén, 2014; sirt's ``invariance.alignment``,
    Mplus' ``ALIGNMENT = FIXED``): the configural one-factor model per firm (factor mean 0,
    variance 1; keyed items; ``missing="fiml"`` by default here, so that every answered item
    counts as in the observed scores), then each firm's factor mean
    :math:`\alpha_g` and SD :math:`\psi_g` chosen to minimise
    :math:`\sum_i\sum_{g<h}\sqrt{n_g n_h}\,[f(\Delta\lambda_{i,gh}) + f(\Delta\nu_{i,gh})]`,
    :math:`f(d) = (d^2 + 0.01)^{1/4}`, over the aligned loadings :math:`\lambda_{gi}/\psi_g` and
    intercepts :math:`\nu_{gi} - \alpha_g\lambda_{gi}/\psi_g`.  The means are on the
    reference firm's scale (the first firm in sorted order, mean 0 and variance 1, unless
    ``alignment_options={"reference": ...}``); rows are sorted by firm before fitting, so the
    file's row order does not matter.  A firm is *comparable* on a construct when at most
    ``max_noninvariant`` (default 0.25) of the construct's loadings and intercepts are
    non-invariant in it (:meth:`custval.align.AlignmentResult.comparable`; the approximate-
    invariance test of Asparouhov & Muthén, 2014).  Only comparable firms are ranked (1 =
    highest aligned mean), with percentile rank intervals over ``n_boot`` draws (seeded by
    ``seed``, one stream per form and construct) from the normal distribution of the aligned
    means with their joint sampling covariance
    (:attr:`custval.align.AlignmentResult.mean_vcov`; the means share the reference firm's
    error).  The provider and customer forms are aligned separately, each on its own
    reference scale, so aligned means are compared across firms within a form, never between
    the forms (the gaps between forms need :func:`form_invariance`).  Alignment needs at least
    three firms and, per firm, more respondents than the configural model has parameters.

    Parameters
    ----------
    provider, customer : pandas.DataFrame
        Item codes as read, ``firm`` and (for account matching) ``account``.
    instrument : Instrument, str, lavaan syntax or mapping
        The full CWI (both forms).  Model syntax or ``{construct: [items]}``
        (with ``scale=``) means the same items under the same column names in both forms;
        ``{construct: {"provider": [...], "customer": [...]}}`` (with ``scale=``) pairs
        differently named twins by position.
    match : {"firm", "account"}, default "firm"
        Key matching rule of the gaps (see :func:`perception_gap`).
    rank_by : {"gap"}, default "gap"
        What firms are ranked by.
    ci : float, default 0.95
        Confidence level.
    n_boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    invariance : InvarianceResult or None, default None
        Passed to :func:`perception_gap`; ``None``: gaps carry the warning that scalar
        invariance is not shown.
    min_units : int, default 3
        Fewest accounts or respondents per side a firm needs.
    strict : bool, default False
        Passed to :func:`perception_gap`.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).
    means : {"observed", "aligned"}, default "observed"
        ``"aligned"`` adds the ``aligned`` table (see above); ``"observed"`` computes only the
        observed-score statistics.
    alignment_options : dict, optional
        Options of :func:`custval.alignment` for ``means="aligned"``: ``method``,
        ``reference``, ``estimator``, ``missing`` (default ``"fiml"`` here), ``power``,
        ``eps``, ``starts``, ``p_pairwise``, ``p_set``, and ``max_noninvariant`` (of
        :meth:`~custval.align.AlignmentResult.comparable`, default 0.25).  ``group``, ``ci``
        and ``seed`` are this function's.

    Returns
    -------
    BenchmarkResult
        ``aggregation``, ``agreement``, ``readiness``, ``gaps``, ``ranking`` and, with
        ``means="aligned"``, ``aligned`` and ``alignments``.

    Raises
    ------
    SpecificationError
        An unknown ``rank_by`` or ``means``, unknown ``alignment_options``, or an
        ``invariance`` result without scalar invariance.
    InsufficientDataError
        ``means="aligned"`` with fewer than three firms, or a firm with no more respondents
        than the configural model has parameters (the message names the form, the construct
        and the firms).
    ConvergenceError
        ``means="aligned"``: the configural model does not converge in a firm (named, with the
        form and construct).

    Warns
    -----
    InvarianceWarning
        ``invariance=None``: scalar invariance between the forms is not shown.
    MissingDataWarning
        Rows with no firm (missing or blank) are left out of readiness, ICC, r_wg(J) and the
        aligned means (the data rows named; :func:`perception_gap` warns about them too).
        ``means="aligned"`` with ``missing="listwise"``: rows with a missing item, counted per
        form and construct in one warning.

    See Also
    --------
    custval.gaps.readiness : Readiness indices.
    custval.gaps.perception_gap : Perception gaps.

    Examples
    --------
    >>> import warnings
    >>> from custval import load_instrument
    >>> from custval.gaps import benchmark_firms
    >>> from custval.simulate import case_study
    >>> prov, cust = case_study(seed=0).validated()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     b = benchmark_firms(prov, cust, load_instrument("cwi"), n_boot=200)
    >>> print(b.ranking.query("construct == 'CPROC'")[["firm", "rank", "rank_ci_low", "rank_ci_high"]]
    ...       .to_string(index=False))
    firm  rank  rank_ci_low  rank_ci_high
      F1     1            1             4
      F2     2            1             4
      F3     4            2             6
      F4     3            1             6
      F5     5            1             6
      F6     6            2             6
    >>> # In R: multilevel::ICC1(aov(y ~ firm)); multilevel::rwg.j(x, firm, ranvar = 4)

    Aligned means of the customers' view of CPROC (simulated: F1's customers see the firm
    best, F6's worst):

    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     a = benchmark_firms(prov, cust, load_instrument("cwi"), n_boot=200, means="aligned")
    >>> print(a.aligned.query("side == 'customer' and construct == 'CPROC'")[
    ...     ["firm", "estimate", "se", "observed_mean", "comparable", "rank"]].round(2).to_string(index=False))
    firm  estimate   se  observed_mean  comparable  rank
      F1      0.00 0.00           4.80        True     1
      F2     -0.85 0.46           4.21        True     2
      F3     -1.42 0.47           3.73        True     3
      F4     -1.56 0.65           3.74        True     4
      F5     -2.42 0.75           3.42        True     5
      F6     -3.00 0.76           2.87        True     6
    >>> # In R: sirt::invariance.alignment(lambda, nu, wgt = sqrt(N), align.pow = c(.5, .5), eps = .01)
    >>> #       (lambda, nu: the firms' configural loadings and intercepts, lavaan::cfa(group = "firm", std.lv = TRUE))
    """
    instrument = gap_instrument(instrument, scale=scale)
    if rank_by != "gap":
        raise SpecificationError(f"rank_by must be 'gap', got {rank_by!r}")
    if means not in ("observed", "aligned"):
        raise SpecificationError(f"means must be 'observed' or 'aligned', got {means!r}")
    align_opts = _aligned.check_options(alignment_options)
    if align_opts and means != "aligned":
        raise SpecificationError("alignment_options apply to means='aligned' only")
    gaps = perception_gap(provider, customer, instrument, match=match, ci=ci, n_boot=n_boot, seed=seed,
                          invariance=invariance, min_units=min_units, strict=strict)
    has_firm = {}  # rows with a firm; the others are left out (and counted) of everything below
    for side, df in (("provider", provider), ("customer", customer)):
        has_firm[side] = np.array([key_text(v) is not None for v in df["firm"]], dtype=bool)
        if not has_firm[side].all():
            rows = (np.flatnonzero(~has_firm[side]) + 1).tolist()
            warnings.warn(f"benchmark_firms: {side} data: {len(rows)} row(s) with no firm are left out of "
                          f"readiness, ICC, r_wg(J){' and the aligned means' if means == 'aligned' else ''} "
                          f"(data rows {rows[:10]}{' ...' if len(rows) > 10 else ''})", MissingDataWarning,
                          stacklevel=2)
    ready = readiness(provider if has_firm["provider"].all() else provider[has_firm["provider"]], instrument,
                      by=("firm",), ci=ci, n_boot=n_boot, seed=seed, min_n=min_units)
    n_opt = int(instrument.scale_max - instrument.scale_min + 1)
    agg, agr, frames = [], [], {}
    for side, df in (("provider", _bare(provider)), ("customer", _bare(customer))):
        form = instrument.form(side)
        sc = _scores(df, form, dict(form.constructs), side)
        keyed = pd.DataFrame(_item_matrix(df, form, list(form.items), side), columns=list(form.items),
                             index=df.index)
        keep = has_firm[side]
        if not keep.all():
            df, sc, keyed = df[keep], sc[keep], keyed[keep]
        frames[side] = (df, keyed.to_numpy())
        firms = df["firm"].to_numpy()
        for c, its in form.constructs.items():
            r = _icc_oneway(sc[c].to_numpy(), firms)
            agg.append({"side": side, "construct": c, "icc1": r["icc1"], "icc2": r["icc2"], "msb": r["msb"],
                        "msw": r["msw"], "groups": r["groups"], "n": r["n"]})
            for firm in sorted(set(firms), key=str):
                m = firms == firm
                agr.append({"side": side, "firm": firm, "construct": c, "mean": float(np.nanmean(sc[c][m])),
                            "rwg_j": _rwg_j(keyed.loc[m, list(its)].to_numpy(), n_opt), "n": int(m.sum())})
    tab = gaps.table
    a = 1 - ci
    rank_rows = []
    firms = list(gaps.boot)
    for j, c in enumerate(dict.fromkeys(tab["construct"])):
        est = tab[tab["construct"] == c].set_index("firm").loc[firms, "estimate"].abs().to_numpy()
        rank = est.argsort().argsort() + 1
        B = np.column_stack([np.abs(gaps.boot[f][:, j]) for f in firms])
        br = B.argsort(axis=1).argsort(axis=1) + 1
        lo = np.quantile(br, a / 2, axis=0, method="lower")
        hi = np.quantile(br, 1 - a / 2, axis=0, method="higher")
        for i, f in enumerate(firms):
            rank_rows.append({"firm": f, "construct": c, "abs_gap": float(est[i]), "rank": int(rank[i]),
                              "rank_ci_low": int(lo[i]), "rank_ci_high": int(hi[i])})
    aligned, alignments = None, {}
    agreement = pd.DataFrame(agr)
    conv_al = r_al = ""
    if means == "aligned":
        aligned, alignments = _aligned.aligned_means(frames, instrument, ci=ci, seed=seed, n_draws=n_boot,
                                                     options=align_opts, observed=agreement)
        some = next(iter(alignments.values()))
        conv_al = (f"; aligned means (Asparouhov & Muthén, 2014) per form and construct across firms, "
                   f"{some.convention}; comparable: at most {align_opts.get('max_noninvariant', 0.25):g} of a "
                   f"construct's loadings and intercepts non-invariant in the firm; ranks of comparable firms "
                   f"(1 = highest aligned mean), percentile intervals over {n_boot} draws from "
                   f"N(aligned means, their covariance)")
        r_al = "; " + some.r_call
    return BenchmarkResult(
        simulated=simulated_input(provider, customer),
        aggregation=pd.DataFrame(agg), agreement=agreement, readiness=ready, gaps=gaps,
        ranking=pd.DataFrame(rank_rows), ci=ci, means=means, aligned=aligned, alignments=alignments,
        convention="ICC(1), ICC(2) from one-way ANOVA with mean group size N/G (Bliese, 2000); r_wg(J) with "
                   "uniform null variance (A^2-1)/12, 0 when the observed variance exceeds it; ranks of |gap|, "
                   "percentile rank intervals over bootstrap replicates" + conv_al,
        r_call="multilevel::ICC1(aov(y ~ firm)); multilevel::ICC2(aov(y ~ firm)); "
               "multilevel::rwg.j(x, firm, ranvar = (A^2 - 1) / 12)" + r_al)


# --------------------------------------------------------------------------- invariance between forms
@dataclass(frozen=True, eq=False)
class FormInvarianceResult(ResultMixin):
    """Measurement invariance between the provider and customer forms (paired items).

    Attributes
    ----------
    invariance : InvarianceResult
        The :func:`custval.measurement_invariance` result of the stacked forms.
    candidates : pandas.DataFrame
        Ranked releases with ``provider_item``/``customer_item``, ``p_value`` and ``p_holm``.
    flagged : tuple
        ``(provider_item, customer_item)`` of the flagged pair, or ``()``.
    pairs : pandas.DataFrame
        The paired items: ``construct``, ``provider_item``, ``customer_item``.
    level : str
        The level whose constraints are ranked.
    alpha : float
        Family-wise error rate.
    n : dict
        Rows used per form.
    n_excluded : dict
        Rows excluded per form (incomplete on the paired items).
    model : str
        The lavaan syntax of the stacked model.
    convention : str
        The flagging rule, in words.
    r_call : str
        The equivalent lavaan calls.
    simulated : bool
        True when an input frame is labelled simulated (as :func:`custval.simulate.case_study`
        labels its exports).
    decision : str
        Why the top release was or was not flagged.

    See Also
    --------
    custval.gaps.form_invariance : The function that returns it.
    """

    invariance: object
    candidates: pd.DataFrame
    flagged: tuple
    pairs: pd.DataFrame
    level: str
    alpha: float
    n: dict
    n_excluded: dict
    model: str
    convention: str
    r_call: str

    simulated: bool = False
    decision: str = ""

    _title = "Invariance between the provider and customer forms"

    def to_frame(self) -> pd.DataFrame:
        return self.candidates

    def _notes(self) -> list[str]:
        flag = ", ".join(self.flagged) if self.flagged else "none"
        notes = [f"Highest level: {self.invariance.highest}; flagged pair(s): {flag}", f"Flag: {self.decision}",
                 f"n used per form: {self.n}; rows excluded (incomplete on the paired items): {self.n_excluded}"]
        return [*notes, *super()._notes()]


def holm_adjust(p) -> np.ndarray:
    r"""Holm (1979) step-down adjusted p-values of ``m`` tests (family-wise error control).

    With the p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`, the adjusted value is
    :math:`\tilde p_{(i)} = \max_{j \le i} \min(1, (m - j + 1)\, p_{(j)})`; rejecting every test with
    :math:`\tilde p < \alpha` keeps the probability of any false rejection at most
    :math:`\alpha`.  A missing p-value (e.g. a refit that failed) counts as a test with p = 1.

    Parameters
    ----------
    p : array_like
        The p-values; NaN counts as 1.

    Returns
    -------
    numpy.ndarray
        The adjusted p-values, in the order given.

    See Also
    --------
    custval.gaps.form_invariance : Flags a twin pair by its Holm-adjusted p-value.

    Examples
    --------
    >>> from custval.gaps import holm_adjust
    >>> holm_adjust([0.01, 0.04, 0.03, 0.20]).round(3).tolist()
    [0.04, 0.09, 0.09, 0.2]
    >>> # In R: p.adjust(c(0.01, 0.04, 0.03, 0.20), method = "holm")
    """
    p = np.asarray(p, dtype=float)
    p = np.where(np.isnan(p), 1.0, p)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def _release_decision(cand: pd.DataFrame, inv, level: str, alpha: float) -> tuple[pd.DataFrame, tuple, str]:
    """Holm-adjusted p-values of the candidate releases and the flag decision.

    The top-ranked release is flagged only when its Holm-adjusted p-value is below ``alpha``
    and the invariance verdict does not already say that ``level`` (or a higher level) holds,
    so a flag never contradicts the verdict."""
    from .invariance import LEVELS

    cand = cand.assign(p_holm=holm_adjust(cand["p_value"].to_numpy()) if len(cand) else [])
    order = list(LEVELS)
    holds = inv.highest in order and order.index(inv.highest) >= order.index(level)
    if not len(cand):
        return cand, (), f"no {level} constraint left to release"
    top = cand.iloc[0]
    pair = (str(top["provider_item"]), str(top["customer_item"]))
    what = (f"top {level} release {top['parameter']} ({pair[0]}/{pair[1]}): p = {top['p_value']:.3g}, "
            f"Holm-adjusted over {len(cand)} candidates p = {top['p_holm']:.3g}")
    if holds:
        return cand, (), f"not flagged: the verdict says {inv.highest} invariance holds; {what}"
    if top["p_holm"] < alpha:
        return cand, pair, f"flagged: {what} < {alpha}"
    return cand, (), f"not flagged: {what} >= {alpha}"


def form_invariance(provider: pd.DataFrame, customer: pd.DataFrame, instrument, *, constructs=None,
                    level: str = "scalar", estimator: str = "ML", alpha: float = 0.05,
                    levels: tuple[str, ...] = ("configural", "metric", "scalar"),
                    free=(), scale=None, ordered: bool = False) -> FormInvarianceResult:
    r"""Test invariance between the provider and customer forms and flag the least invariant twin pair.

    The paired items (``instrument.pairs()``) of each construct are stacked
    under common names ``<construct>_<k>`` (provider rows, then customer rows)
    with a ``form`` group column, one factor per construct, and
    :func:`custval.measurement_invariance` runs the ``levels`` sequence.  Then
    :func:`custval.rank_invariance_candidates` ranks the constraints of
    ``level`` (scalar: intercepts) by the likelihood-ratio statistic of
    releasing each one, :math:`\Delta\chi^2 = \chi^2_{constrained} -
    \chi^2_{released}` on 1 df.  The top-ranked pair is *flagged* as the first
    candidate for partial invariance (Byrne, Shavelson & Muthén, 1989) when

    * its release is significant after Holm's (1979) correction over all the
      candidate releases tested (``candidates["p_holm"]``; the family-wise error
      rate, the chance of flagging any pair when every pair is invariant, is at
      most ``alpha``), and
    * the invariance verdict does not say that ``level`` (or a higher level)
      holds: a flag never contradicts the verdict.

    ``decision`` states which rule decided.  Rows incomplete on the stacked items
    are excluded (listwise) and counted in ``n_excluded``.  The data are taken as
    read (raw codes): reverse-keyed items of the instrument are keyed here
    (``scale_min + scale_max - x``), so pass unkeyed data.

    Parameters
    ----------
    provider, customer : DataFrame
        Validated exports of the two forms (numeric codes, ``NaN`` missing).
    instrument : Instrument, str, lavaan syntax or mapping
        The full instrument with paired items (e.g. ``"cwi"``).  Model syntax or ``{construct: [items]}``
        (with ``scale=``) means the same items under the same column names in both forms;
        ``{construct: {"provider": [...], "customer": [...]}}`` (with ``scale=``) pairs
        differently named twins by position.
    constructs : sequence of str, optional
        Constructs to model (default: all paired constructs).
    level : str
        Level whose constraints are ranked (``"metric"``, ``"scalar"`` or ``"strict"``).
    estimator : {"ML", "MLR"}, default "ML"
        Estimator of the fits.
    alpha : float
        Family-wise error rate: the top release is flagged when its Holm-adjusted p-value is
        below ``alpha``.
    levels : tuple of str
        Levels tested by :func:`custval.measurement_invariance`.
    free : sequence of str
        Parameters released between the forms (partial invariance): stacked-name parameters
        (``"CQUAL_2 ~ 1"``, ``"CQUAL =~ CQUAL_2"``) or item ids of a pair (``("CQUAL_P2", "CQUAL_C2")``,
        e.g. ``flagged``), which release that pair's intercept and, unless it is the marker, its loading.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).
    ordered : bool, default False
        ``True`` (with ``estimator="WLSMV"``): the answers are ordered categories and the
        forms are compared by the Wu & Estabrook (2016) ladder of
        :func:`custval.measurement_invariance` (``levels`` then defaults to configural,
        thresholds, metric, scalar) and the releases ranked by lavaan's scaled-shifted
        difference; every category must be used in both forms.

    Returns
    -------
    FormInvarianceResult
        ``invariance`` (the :func:`custval.measurement_invariance` result), ``candidates``
        (ranked releases with ``provider_item``/``customer_item`` columns, ``p_value`` and the
        Holm-adjusted ``p_holm``), ``flagged`` (``(provider_item, customer_item)`` or ``()``),
        ``decision`` (why it was or was not flagged), ``n``, ``n_excluded``.

    Raises
    ------
    SpecificationError
        The instrument has no paired items, or a construct in ``constructs`` has none.

    See Also
    --------
    custval.invariance.measurement_invariance : Invariance between groups of respondents.
    custval.gaps.perception_gap : Observed-score gaps, once invariance holds.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics, 6*(2), 65-70.

    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: The issue of partial measurement invariance.
    *Psychological Bulletin, 105*(3), 456-466.

    Examples
    --------
    >>> from custval.simulate import case_study
    >>> from custval.gaps import form_invariance
    >>> prov, cust = case_study(seed=0).validated()
    >>> res = form_invariance(prov, cust, "cwi", constructs=["CQUAL"])
    >>> res.invariance.highest, res.flagged
    ('configural', ('CQUAL_P2', 'CQUAL_C2'))
    >>> # In R: lavaan::cfa(model, stacked, group = "form", group.equal = c("loadings", "intercepts"));
    >>> #       lavaan::lavTestScore(fit)
    """
    from .invariance import measurement_invariance as _invariance
    from .invariance import rank_invariance_candidates

    inst = gap_instrument(instrument, scale=scale)
    pairs, constructs = _paired_items(inst, constructs)
    if constructs is not None:
        pairs = pairs[pairs["construct"].isin(constructs)]
    pairs = pairs.reset_index(drop=True)
    pairs["name"] = pairs["construct"] + "_" + (pairs.groupby("construct").cumcount() + 1).astype(str)
    _check_columns(provider, list(pairs["provider_item"]), "provider")
    _check_columns(customer, list(pairs["customer_item"]), "customer")
    names = list(pairs["name"])
    parts, n, n_excl = [], {}, {}
    for side, df in (("provider", provider), ("customer", customer)):
        items = list(pairs[f"{side}_item"])
        # reverse-keyed items keyed as the instrument says (raw codes in, checked in the scale)
        block = keyed_once(_bare(df)[items], inst.form(side))[items].set_axis(names, axis=1)
        keep = block.notna().all(axis=1)
        n[side], n_excl[side] = int(keep.sum()), int((~keep).sum())
        parts.append(block[keep].astype(float).assign(form=side))
    stack = pd.concat(parts, ignore_index=True)
    model = "\n".join(f"{c} =~ " + " + ".join(g["name"]) for c, g in pairs.groupby("construct", sort=False))
    free = _expand_free(free, pairs)
    if ordered:
        if tuple(levels) == ("configural", "metric", "scalar"):
            levels = ("configural", "thresholds", "metric", "scalar")
        stack[names] = stack[names].astype(int)  # complete, checked codes: categories, not numbers
    inv = _invariance(stack, model, group="form", levels=levels, estimator=estimator, free=free, ordered=ordered)
    cand = rank_invariance_candidates(stack, model, group="form", level=level, estimator=estimator, free=free,
                                      ordered=ordered)
    lookup = pairs.set_index("name")
    # "F =~ x" (loading), "x ~ 1" (intercept), "x ~~ x" (residual variance): the item is the last
    # token, or the first one for an intercept
    tokens = cand["parameter"].str.split()
    var = tokens.str[-1].where(tokens.str[-1] != "1", tokens.str[0])
    cand = cand.assign(provider_item=var.map(lookup["provider_item"]),
                       customer_item=var.map(lookup["customer_item"]))
    cand, flagged, decision = _release_decision(cand, inv, level, alpha)
    return FormInvarianceResult(
        simulated=simulated_input(provider, customer),
        invariance=inv, candidates=cand, flagged=flagged, pairs=pairs, level=level, alpha=alpha, n=n,
        n_excluded=n_excl, model=model, decision=decision,
        convention=f"paired items stacked with group 'form'; top-ranked {level} release flagged when its "
                   f"Holm-adjusted p < {alpha} over the {len(cand)} candidate release(s) (family-wise error "
                   f"rate {alpha}) and the verdict does not say {level} invariance holds",
        r_call="lavaan::cfa(model, stacked, group = 'form', group.equal = ...); lavaan::lavTestScore(fit)")
