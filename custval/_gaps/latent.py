"""Latent-mean perception gaps between the provider and customer forms (machinery behind
:func:`custval.gaps.latent_perception_gap`).

The paired items of a construct are stacked under the names ``<construct>_<k>`` used by
:func:`custval.gaps.form_invariance` (provider rows, then customer rows), one factor per
construct, and a multi-group :class:`custval.cfa.CFA` with loadings and intercepts equal
across the groups (except the parameters released in the invariance result) gives the
latent means.  Per-firm gaps come from one model whose groups are firm x form.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._keys import keyed_once
from .._results import COLUMNS, ResultMixin
from .._sem.spec import measurement_blocks
from ..exceptions import (
    CustvalWarning,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)
from . import inputs as _gap_input

__all__ = ["LatentGapResult", "latent_perception_gap"]

_LEVELS_OK = ("scalar", "strict")


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class LatentGapResult(ResultMixin):
    """Latent-mean perception gaps (provider minus customer, provider latent SD units)."""

    table: pd.DataFrame
    excluded: pd.DataFrame
    released: dict
    invariance_level: dict
    by: str | None
    ci: float
    estimator: str
    n: dict
    models: dict
    fits: dict = field(compare=False)  # fitted models (estimators compare by identity)
    notes: tuple
    convention: str
    method_note: str
    r_call: str

    simulated: bool = False

    _title = "Latent-mean perception gap: provider minus customer (provider latent SD units)"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _display_frame(self) -> pd.DataFrame:
        keys = ["construct"] if self.by is None else ["firm", "construct"]
        cols = [*keys, *COLUMNS, "effect_size", "n_provider", "n_customer"]
        if "reason" in self.table and self.table["reason"].notna().any():
            cols.append("reason")
            return self.table[cols].assign(reason=self.table["reason"].fillna("")).set_index(keys)
        return self.table[cols].set_index(keys)

    def _notes(self) -> list[str]:
        rel = "; ".join(f"{c}: {', '.join(r) if r else 'none'}" for c, r in self.released.items())
        lev = ", ".join(f"{c}: {v}" for c, v in self.invariance_level.items())
        notes = [f"Invariance between forms (highest level): {lev}", f"Released (form-specific): {rel}"]
        if len(self.excluded):
            ex = self.excluded.groupby(["form", "reason"], sort=False)["n_rows"].sum()
            notes.append("Excluded rows: " + "; ".join(f"{f}: {n} ({r})" for (f, r), n in ex.items()))
        notes += [f"Note: {n}" for n in self.notes]
        return [*notes, *super()._notes()]


# --------------------------------------------------------------------------- invariance input
def _expand_free(free, pairs: pd.DataFrame) -> tuple[str, ...]:
    """``free=`` of :func:`custval.gaps.form_invariance`: stacked-name parameters are kept; an item
    id of a pair (provider or customer item) releases the pair's intercept and, unless the stacked
    item is its construct's marker (first item), its loading."""
    free = (free,) if isinstance(free, str) else tuple(free)
    by_item = {}
    for r in pairs.itertuples():
        by_item[r.provider_item] = by_item[r.customer_item] = (r.construct, r.name)
    first = pairs.groupby("construct", sort=False)["name"].first().to_dict()
    out = []
    for entry in free:
        if not isinstance(entry, str):
            raise SpecificationError(f"free= takes parameter strings or item ids; got {entry!r}")
        key = entry.strip()
        if key in by_item:
            c, name = by_item[key]
            out.append(f"{name} ~ 1")
            if name != first[c]:
                out.append(f"{c} =~ {name}")
        elif re.search(r"=~|~", key):
            out.append(key)
        else:
            raise SpecificationError(
                f"free=: {entry!r} is neither a paired item ({', '.join(list(by_item)[:4])}, ...) nor a "
                "parameter such as 'CQUAL_2 ~ 1' or 'CQUAL =~ CQUAL_2'")
    return tuple(dict.fromkeys(out))


def _invariance_parts(invariance) -> list:
    """The invariance result(s) as a list of (InvarianceResult, pairs or None)."""
    if invariance is None:
        raise SpecificationError(
            "latent_perception_gap needs invariance=: a custval.form_invariance (or custval.measurement_invariance) "
            "result in which scalar or partial scalar invariance between the forms holds. Without it "
            "latent means are not comparable; custval.perception_gap gives observed-score gaps (with an "
            "InvarianceWarning).")
    items = list(invariance.values()) if isinstance(invariance, dict) else (
        list(invariance) if isinstance(invariance, (list, tuple)) else [invariance])
    out = []
    for res in items:
        if hasattr(res, "invariance") and hasattr(res, "pairs"):  # FormInvarianceResult
            out.append((res.invariance, res.pairs))
        elif hasattr(res, "highest") and hasattr(res, "fits"):  # InvarianceResult
            out.append((res, None))
        else:
            raise SpecificationError(
                f"invariance= takes custval.form_invariance or custval.measurement_invariance results (or a list / dict "
                f"of them); got {type(res).__name__}")
    return out


def _model_blocks(inv) -> dict:
    """{factor: indicators} of the model behind an InvarianceResult."""
    fit = next(iter(inv.fits.values()), None)
    if fit is None:
        return {}
    return measurement_blocks(fit.model)


def _released(free, construct: str, names: list[str]) -> tuple[str, ...]:
    """Entries of ``free`` that concern the loadings or intercepts of ``construct``'s items."""
    out = []
    for entry in free:
        m = re.fullmatch(r"\s*([\w.]+)\s*(=~|~~|~)\s*([\w.]+)\s*", str(entry))
        if not m:
            continue
        lhs, op, rhs = m.groups()
        if op == "~" and rhs == "1" and lhs in names:
            out.append(f"{lhs} ~ 1")
        elif op == "=~" and lhs == construct and rhs in names:
            out.append(f"{lhs} =~ {rhs}")
    return tuple(dict.fromkeys(out))


def _resolve(invariance, pairs: pd.DataFrame, constructs) -> tuple[dict, dict]:
    """Per construct: highest invariance level and released parameters; checks coverage."""
    parts = _invariance_parts(invariance)
    level, released = {}, {}
    for inv, _pairs in parts:
        blocks = _model_blocks(inv)
        for c, its in blocks.items():
            want = tuple(pairs.loc[pairs["construct"] == c, "name"])
            if not want:
                raise SpecificationError(
                    f"the invariance result models a factor {c!r} that is not a paired construct of the "
                    "instrument; pass the result of custval.form_invariance for this instrument")
            if tuple(its) != want:
                raise SpecificationError(
                    f"the invariance result's model of {c!r} has indicators {list(its)}; the stacked paired "
                    f"items are {list(want)} (custval.form_invariance names them so)")
            level[c] = inv.highest
            released[c] = _released(inv.free, c, list(want))
    if constructs is None:
        constructs = list(level)
    missing = [c for c in constructs if c not in level]
    if missing:
        raise SpecificationError(
            f"no invariance result covers construct(s) {missing}; run custval.form_invariance(provider, "
            f"customer, instrument, constructs={missing!r}) and pass it (with the others) as invariance=")
    bad = {c: level[c] for c in constructs if level[c] not in _LEVELS_OK}
    if bad:
        raise SpecificationError(
            "latent means are compared only when scalar (or partial scalar) invariance between the forms "
            f"holds; highest level per construct: {bad}. Release the flagged pair's loading and/or "
            "intercept (custval.form_invariance(..., free=(...))) and check that partial scalar invariance "
            "holds, or report observed-score gaps with custval.perception_gap (which warns).")
    return {c: level[c] for c in constructs}, {c: released[c] for c in constructs}


# --------------------------------------------------------------------------- model
def _syntax(construct: str, names: list[str], released: tuple, group_forms: list[str]) -> tuple[str, str]:
    """lavaan syntax of the one-factor model; released parameters get per-form labels
    (equal across firms within a form, different between the forms)."""
    rel_load = {e.split("=~")[1].strip() for e in released if "=~" in e}
    rel_int = {e.split("~")[0].strip() for e in released if e.endswith("~ 1")}
    fixed_load = [n for n in names if n not in rel_load]
    if not fixed_load:
        raise SpecificationError(f"{construct}: every loading is released; at least one must be equal across "
                                 "the forms to identify the latent scale")
    order = [fixed_load[0], *[n for n in names if n != fixed_load[0]]]  # marker: first invariant loading

    def lab(prefix):
        return "c(" + ", ".join(f"{prefix}_{'p' if f == 'provider' else 'c'}" for f in group_forms) + ")"

    terms = [f"{lab(f'l{names.index(n) + 1}')}*{n}" if n in rel_load else n for n in order]
    lines = [f"{construct} =~ " + " + ".join(terms)]
    lines += [f"{n} ~ {lab(f'i{names.index(n) + 1}')}*1" for n in names if n in rel_int]
    return "\n".join(lines), order[0]


def _stack(provider, customer, pr_items, cu_items, names, firms, cluster=None) -> tuple[pd.DataFrame, list]:
    """Complete rows of the stacked paired items, grouped firm x form, and the exclusions."""
    parts, excluded = [], []
    for firm in firms:
        for side, df, items in (("provider", provider, pr_items), ("customer", customer, cu_items)):
            rows = slice(None) if firm is None else df["firm"].to_numpy() == firm
            block = df.loc[rows, items].set_axis(names, axis=1).astype(float)
            if cluster is not None:
                block = block.assign(cluster=df.loc[rows, cluster].astype(str).to_numpy())
            keep = block[names].notna().all(axis=1).to_numpy()
            if (~keep).any():
                excluded.append({"firm": firm, "form": side, "n_rows": int((~keep).sum()),
                                 "reason": "incomplete on the paired items (listwise)"})
            label = side if firm is None else f"{firm}/{side}"
            parts.append(block[keep].assign(group=label))
    return pd.concat(parts, ignore_index=True), excluded


def _gap_rows(fit, construct, firms, ci):
    """Per firm: (provider - customer) latent mean difference in provider latent SD units, by the
    delta method from the model's covariance matrix of the free parameters."""
    pt = fit.partable_
    x = fit.x_
    V = fit.vcov_
    labels = list(fit.group_labels_)
    z = stats.norm.ppf(0.5 + ci / 2)

    def par(op, g):
        row = pt[(pt["lhs"] == construct) & (pt["op"] == op) & (pt["group"] == g)
                 & ((pt["rhs"] == construct) if op == "~~" else True)].iloc[0]
        k = int(row["free"])
        return (float(x[k - 1]) if k > 0 else float(row["ustart"])), k

    rows = []
    for firm in firms:
        gp = labels.index("provider" if firm is None else f"{firm}/provider") + 1
        gc = labels.index("customer" if firm is None else f"{firm}/customer") + 1
        (kp, ip), (kc, ic) = par("~1", gp), par("~1", gc)
        (vp, jp), (vc, _) = par("~~", gp), par("~~", gc)
        n_p, n_c = int(fit.n_obs_[labels[gp - 1]]), int(fit.n_obs_[labels[gc - 1]])
        diff = kp - kc
        grad_raw = np.zeros(len(x))
        if ip:
            grad_raw[ip - 1] += 1.0
        if ic:
            grad_raw[ic - 1] -= 1.0
        se_raw = float(np.sqrt(grad_raw @ V @ grad_raw))
        if not vp > 0:
            est = se = np.nan
        else:
            sd = np.sqrt(vp)
            grad = grad_raw / sd
            if jp:
                grad[jp - 1] += -diff / (2 * vp * sd)
            est = diff / sd
            se = float(np.sqrt(grad @ V @ grad))
        pooled = ((n_p - 1) * vp + (n_c - 1) * vc) / (n_p + n_c - 2)
        zval = est / se if se > 0 else np.nan
        rows.append({**({} if firm is None else {"firm": firm}), "construct": construct,
                     "estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                     "p_value": float(2 * stats.norm.sf(abs(zval))), "n": n_p + n_c,
                     "effect_size": diff / np.sqrt(pooled) if pooled > 0 else np.nan,
                     "difference_raw": diff, "se_raw": se_raw,
                     "provider_mean": kp, "customer_mean": kc, "provider_var": vp, "customer_var": vc,
                     "n_provider": n_p, "n_customer": n_c})
    return rows


# --------------------------------------------------------------------------- public function
def latent_perception_gap(provider: pd.DataFrame, customer: pd.DataFrame, instrument, *, invariance,
                          constructs=None, by: str | None = "firm", estimator: str = "ML", ci: float = 0.95,
                          min_n: int = 10, cluster: str | None = None, strict: bool = False,
                          scale=None) -> LatentGapResult:
    r"""Latent-mean perception gaps: the provider's latent mean minus the customers', per firm and construct.

    Observed-score gaps (:func:`custval.perception_gap`) mix the difference in
    what is measured with differences in how the two forms measure it.  Once
    scalar invariance between the forms holds (loadings and intercepts of the
    paired items equal; *partial* scalar invariance: equal except the released
    ones, Byrne, Shavelson & Muthén, 1989), the latent means of the forms can
    be compared (Sörbom, 1974).

    The model, per construct: the paired items are stacked under the names of
    :func:`custval.gaps.form_invariance` (``<construct>_<k>``) with one factor
    :math:`\eta`.  With ``by="firm"`` the groups are firm x form
    (``"F1/provider"``, ``"F1/customer"``, ...); with ``by=None`` the two forms
    (the :func:`~custval.gaps.form_invariance` model).  For respondent *i* of
    group *g* and item *j*

    .. math:: y_{ij} = \nu_j + \lambda_j \eta_i + \varepsilon_{ij},\quad
              \eta_i \sim (\kappa_g, \psi_g),\quad
              \varepsilon_{ij} \sim (0, \theta_{gj}),

    with :math:`\lambda_j, \nu_j` equal in all groups, except the released
    parameters of the invariance result, which are form-specific (one value for
    the provider groups, one for the customer groups; lavaan labels
    ``c(l2_p, l2_c, l2_p, ...)``).  Identification: the first item with an
    equal loading is the marker (:math:`\lambda = 1`), the latent mean of the
    first group is 0; latent means and variances are free in every other group;
    residual variances are free per group.  Per firm *f* the gap is

    .. math:: \hat\delta_f = \frac{\hat\kappa_{f,\mathrm{provider}} - \hat\kappa_{f,\mathrm{customer}}}
                                  {\sqrt{\hat\psi_{f,\mathrm{provider}}}},

    the provider-minus-customer latent mean difference in units of the firm's
    provider latent SD (the sign of :func:`custval.perception_gap`: positive =
    the firm rates itself above its customers' view), with a delta-method
    standard error from the ML covariance matrix of the estimates (Wald
    interval and p-value, normal reference).  ``effect_size`` divides the
    difference by the pooled latent SD
    :math:`\sqrt{((n_p-1)\hat\psi_p + (n_c-1)\hat\psi_c)/(n_p+n_c-2)}` (a
    latent Cohen's *d*, comparable with ``perception_gap``'s ``effect_size``
    with ``match="firm"``).  ``difference_raw`` and ``se_raw`` give
    :math:`\hat\kappa_p - \hat\kappa_c` in the marker item's units.

    Why one model with firm x form groups: with about 20 complete respondents
    per firm and form, the per-firm two-group model (22 parameters from 40
    moments, re-estimating the measurement model in every firm) is unstable;
    the firm x form model estimates the loadings and intercepts from all firms
    (as the pooled :func:`~custval.gaps.form_invariance` test does) and per
    group only the residual variances, the latent variance and mean.  This
    assumes the measurement is also invariant across firms (the pooled test
    presumes it too; it is not tested here).

    Parameters
    ----------
    provider, customer : DataFrame
        Validated exports (numeric codes, NaN missing) with a ``firm`` column when ``by="firm"``.
    instrument : Instrument, str, lavaan syntax or mapping
        The full instrument with paired items (``"cwi"``).  Model syntax or
        ``{construct: [items]}`` (with ``scale=``) means the same items under the same
        column names in both forms; ``{construct: {"provider": [...], "customer": [...]}}``
        (with ``scale=``) pairs differently named twins by position.
    invariance : FormInvarianceResult, InvarianceResult, or a list / dict of them
        Results of :func:`custval.gaps.form_invariance` (or :func:`custval.measurement_invariance` on the same
        stacked data) in which scalar or strict invariance holds for every construct analysed; their
        released loadings / intercepts (``free=``) are form-specific here.  A result below scalar
        raises :class:`~custval.exceptions.SpecificationError`.
    constructs : sequence of str, optional
        Default: every construct the invariance result(s) cover.
    by : {"firm", None}
    estimator : {"ML", "MLR"}
        ``"MLR"``: sandwich standard errors (robust to non-normal codes).
    ci : float
    min_n : int
        Fewest complete respondents per firm and form (at least items + 2).  A firm with fewer on a
        construct's paired items (provider or customer side) gets an *undefined* row for that
        construct (``estimate`` etc. NaN, ``reason`` saying why, ``n`` = 0) and the construct's
        model is fitted on the other firms; one :class:`~custval.exceptions.MissingDataWarning`
        lists the undefined firm-constructs.  With ``by=None`` the same applies to the two forms
        of a construct.  Only when no gap at all can be estimated is
        :class:`~custval.exceptions.InsufficientDataError` raised.
    cluster : str, optional
        Column (in both exports) whose values cluster respondents, e.g. ``"account"``: customers of
        one account, and the staff serving it, share more than independent respondents do.  With
        ``estimator="MLR"`` the standard errors are then cluster-robust within each firm x form group
        (:class:`custval.CFA` ``cluster=``; lavaan ``cluster = "account"``); a respondent without a
        cluster id is an error.
    strict : bool
        With ``by="firm"``, firms are matched exactly by their text, as
        :func:`custval.perception_gap` matches keys: by default a firm of one file without an
        exact partner in the other (or a row without a firm) is left out with its reason in
        ``excluded`` and one :class:`~custval.exceptions.MissingDataWarning` (near-miss spellings
        named); ``strict=True`` makes it a :class:`~custval.exceptions.DataValidationError`.
    scale : (min, max), optional
        The response scale of a model given as syntax or a mapping (an Instrument or
        codebook carries its own; then leave it ``None``).

    Returns
    -------
    LatentGapResult
        ``table``: [firm,] construct, estimate, se, ci_low, ci_high, p_value, n, effect_size,
        difference_raw, se_raw, provider_mean, customer_mean, provider_var, customer_var,
        n_provider, n_customer (complete respondents on the construct's paired items), reason
        (``None``, or why the row is undefined) (latent means and variances in the marker metric,
        first group 0); ``excluded``: rows left out per firm, form and construct with the reason
        (incomplete rows; the complete rows of an undefined firm-construct); ``fits``: the CFA per
        construct; ``models``: its lavaan syntax; ``notes``: warnings raised by the fits and the
        undefined firm-constructs.

    The data are taken as read (raw codes, NaN missing): reverse-keyed items of the instrument
    are keyed here (``scale_min + scale_max - x``) before stacking, so pass unkeyed data;
    codes outside the scale raise :class:`~custval.exceptions.DataValidationError`.

    See Also
    --------
    custval.gaps.perception_gap : Observed-score gaps.
    custval.gaps.form_invariance : Invariance between the forms.

    Notes
    -----
    Coverage, measured over 200 simulated studies of the default design
    (:func:`custval.simulate.case_study`, seeds 0-199, validated exports, six
    firms; each construct analysed when :func:`~custval.gaps.form_invariance`
    found scalar invariance, CQUAL after releasing the non-invariant pair): the
    95% intervals covered the population value :math:`(\mu_p - \mu_c)/\sigma_p`
    (the design's latent gap over the provider latent SD) in 93.8% of 1,110
    CPROC intervals (185 studies) and 94.0% of 1,158 CQUAL intervals (193
    studies); mean error +0.02, SD of the z-scores 1.05.  The ML standard errors
    treat customers of the same account as independent (the account effect is
    20% of their latent variance); ``estimator="MLR", cluster="account"`` makes
    them cluster-robust, but with about ten accounts per firm and form this did
    not raise the coverage: over seeds 0-99 (CPROC, 570 intervals, raw exports
    without don't-know codes) 92.3% (ML), 91.6% (MLR) and 92.1% (MLR with
    account clusters).  The rest of the shortfall comes with small groups
    (about 20 respondents per firm and form: Wald intervals of a ratio) and the
    1..7 codes, a discretised version of the continuous responses.

    References
    ----------
    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: The issue of partial measurement invariance.
    *Psychological Bulletin, 105*(3), 456-466. https://doi.org/10.1037/0033-2909.105.3.456

    Sörbom, D. (1974). A general method for studying differences in factor means and factor
    structure between groups. *British Journal of Mathematical and Statistical Psychology, 27*(2),
    229-239. https://doi.org/10.1111/j.2044-8317.1974.tb00543.x

    Grönroos (2006, 2017); Heinonen & Strandvik (2015): see :mod:`custval.gaps`.

    Examples
    --------
    >>> from custval.gaps import form_invariance, latent_perception_gap
    >>> from custval.simulate import case_study
    >>> prov, cust = case_study(seed=0).validated()
    >>> fi = form_invariance(prov, cust, "cwi", constructs=["CPROC"])
    >>> fi.invariance.highest
    'scalar'
    >>> res = latent_perception_gap(prov, cust, "cwi", invariance=fi)
    >>> print(res.table[["firm", "estimate", "se", "n_provider", "n_customer"]].round(3).to_string(index=False))
    firm  estimate    se  n_provider  n_customer
      F1    -0.438 0.369          21          25
      F2     0.240 0.298          20          28
      F3     1.039 0.449          18          23
      F4     0.691 0.334          23          20
      F5     0.530 0.354          23          23
      F6     1.362 0.386          19          18

    Partial scalar invariance: the CQUAL pair flagged by ``form_invariance`` released
    (its loading and intercept become form-specific):

    >>> fq = form_invariance(prov, cust, "cwi", constructs=["CQUAL"], free=("CQUAL_P2", "CQUAL_C2"))
    >>> print(fq.invariance.verdict)
    scalar invariance holds with CQUAL_2 ~ 1; CQUAL =~ CQUAL_2 free (partial invariance)
    >>> res = latent_perception_gap(prov, cust, "cwi", invariance=fq, by=None)
    >>> print(res.table[["construct", "estimate", "se", "effect_size"]].round(3).to_string(index=False))
    construct  estimate    se  effect_size
        CQUAL     0.536 0.159        0.471

    # In R: fit <- lavaan::cfa(model, stacked, group = "group", group.label = groups,
    #                          group.equal = c("loadings", "intercepts"))
    #       with  CPROC ~ c(0, NA, ...)*1 + c(m1, m2, ...)*1;  CPROC ~~ c(v1, v2, ...)*CPROC;
    #       d2 := (m3 - m4) / sqrt(v3)   (delta-method SE; tests/r/gaps.R)
    """
    from ..cfa import CFA

    inst = _gap_input.gap_instrument(instrument, scale=scale)
    if by not in ("firm", None):
        raise SpecificationError(f"by must be 'firm' or None, got {by!r}")
    if estimator not in ("ML", "MLR"):
        raise SpecificationError(f"estimator must be 'ML' or 'MLR', got {estimator!r}")
    if not 0 < ci < 1:
        raise SpecificationError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci!r}")
    if cluster is not None:
        if estimator != "MLR":
            raise SpecificationError(f"cluster={cluster!r} needs estimator='MLR' (cluster-robust standard errors)")
        for side, df in (("provider", provider), ("customer", customer)):
            if cluster not in df.columns:
                raise DataValidationError(f"{side} data lacks the cluster column {cluster!r}")
            if df[cluster].isna().any():
                rows = (np.flatnonzero(df[cluster].isna().to_numpy()) + 1).tolist()
                raise DataValidationError(f"{side} data: no {cluster!r} at data row(s) {rows[:10]} "
                                          f"({int(df[cluster].isna().sum())} in all); every respondent "
                                          "needs a cluster id")
    pairs, constructs = _gap_input._paired_items(inst, constructs)
    pairs = pairs.reset_index(drop=True)
    pairs["name"] = pairs["construct"] + "_" + (pairs.groupby("construct").cumcount() + 1).astype(str)
    level, released = _resolve(invariance, pairs, constructs)
    _gap_input._check_versions(inst, provider=provider, customer=customer)
    need = ["firm"] if by == "firm" else []
    sel = pairs[pairs["construct"].isin(list(level))]
    _gap_input._check_columns(provider, [*need, *sel["provider_item"]], "provider")
    _gap_input._check_columns(customer, [*need, *sel["customer_item"]], "customer")
    for side, df, its in (("provider", provider, sel["provider_item"]), ("customer", customer, sel["customer_item"])):
        bad = [c for c in its if not pd.api.types.is_numeric_dtype(df[c])]
        if bad:
            raise DataValidationError(f"{side} data: item column(s) {bad} are not numeric; run "
                                      "custval.validate_frame first")
    simulated = _gap_input.simulated_input(provider, customer)
    provider_in, customer_in = provider, customer
    # reverse-keyed items keyed as the instrument says (raw codes in; values outside the scale raise)
    extra = [*need, *([cluster] if cluster is not None else [])]
    provider = keyed_once(_gap_input._bare(provider)[list(dict.fromkeys([*extra, *sel["provider_item"]]))],
                          inst.form("provider"))
    customer = keyed_once(_gap_input._bare(customer)[list(dict.fromkeys([*extra, *sel["customer_item"]]))],
                          inst.form("customer"))
    excluded = []
    if by == "firm":
        # firms matched exactly by their text (the perception_gap dyad rule); the rest is reported
        p_use, c_use, pk, ck, key_excl, near, personal, _, files = _gap_input._match_dyads(
            provider_in, customer_in, "firm", strict, who="latent_perception_gap")
        for g in key_excl:
            excluded.append({"firm": g["firm"], "form": g["side"], "construct": None, "n_rows": g["n_rows"],
                             "reason": g["reason"]})
        if key_excl or len(near):
            ex = pd.DataFrame(key_excl, columns=["side", "firm", "n_rows", "reason", "rows"])
            msg = _gap_input._exclusion_message(ex, near, ["firm"], personal, files, who="latent_perception_gap")
            warnings.warn(msg, MissingDataWarning, stacklevel=2)
        # the provider's spelling of a firm names it on both sides (equal as text, e.g. 1 and "1")
        spelling = dict(zip((k[0] if k else None for k in pk), provider["firm"].tolist()))
        provider = provider[p_use]
        customer = customer[c_use].assign(firm=[spelling[k[0]] for k, u in zip(ck, c_use) if u])
        firms = sorted(set(provider["firm"]), key=str)
    else:
        firms = [None]

    rows, fits, models, n_used, notes, undefined = [], {}, {}, {}, [], []
    for c in level:
        g = sel[sel["construct"] == c]
        names = list(g["name"])
        stack, excl = _stack(provider, customer, list(g["provider_item"]), list(g["customer_item"]), names, firms,
                             cluster)
        excluded += [{**e, "construct": c} for e in excl]
        counts = stack["group"].value_counts(sort=False)
        need_n = max(int(min_n), len(names) + 2)
        ok_firms = []
        for f in firms:
            lab = {s: s if f is None else f"{f}/{s}" for s in ("provider", "customer")}
            n_pc = {s: int(counts.get(lab[s], 0)) for s in lab}
            if min(n_pc.values()) >= need_n:
                ok_firms.append(f)
                continue
            reason = (f"n < {need_n} complete respondents on the {len(names)} paired items (provider "
                      f"{n_pc['provider']}, customer {n_pc['customer']}; min_n={min_n}, at least items + 2)")
            undefined.append({"firm": f, "construct": c, "reason": reason})
            rows.append({**({} if f is None else {"firm": f}), "construct": c, "n": 0,
                         "n_provider": n_pc["provider"], "n_customer": n_pc["customer"], "reason": reason})
            for side in ("provider", "customer"):
                if n_pc[side]:
                    excluded.append({"firm": f, "form": side, "construct": c, "n_rows": n_pc[side],
                                     "reason": "complete, but too few for this firm-construct's latent model"})
        if not ok_firms:
            continue
        if len(ok_firms) < len(firms):
            keep = {s if f is None else f"{f}/{s}" for f in ok_firms for s in ("provider", "customer")}
            stack = stack[stack["group"].isin(keep)].reset_index(drop=True)
        forms = ["provider" if lab.endswith("provider") else "customer" for lab in pd.unique(stack["group"])]
        syntax, _ = _syntax(c, names, released[c], forms)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CustvalWarning)
            fit = CFA(syntax, estimator=estimator, group="group", group_equal=("loadings", "intercepts"),
                      cluster=None if cluster is None else "cluster").fit(stack)
        for w in caught:
            if issubclass(w.category, CustvalWarning):
                notes.append(f"{c}: {w.category.__name__}: {w.message}")
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        fits[c], models[c] = fit, syntax
        n_used[c] = {lab: int(v) for lab, v in fit.n_obs_.items()}
        rows += [{**r, "reason": None} for r in _gap_rows(fit, c, ok_firms, ci)]
    keys = ["construct"] if by is None else ["firm", "construct"]
    if undefined:
        what = "; ".join(("" if u["firm"] is None else f"{u['firm']}/") + f"{u['construct']}: {u['reason']}"
                         for u in undefined)
        if not fits:
            raise InsufficientDataError(
                f"latent_perception_gap: no gap can be estimated; {what}. Lower min_n (at least items + 2), "
                "use by=None, or collect more complete responses.")
        msg = (f"latent_perception_gap: {len(undefined)} {'firm-construct' if by == 'firm' else 'construct'} "
               f"gap(s) undefined (reported with their reason, the others estimated"
               + (" without these firms' groups" if by == "firm" else "") + f"): {what}")
        notes.append(msg)
        warnings.warn(msg, MissingDataWarning, stacklevel=2)
    order = {(None if by is None else f, c): i for i, (c, f) in
             enumerate((c, f) for c in level for f in firms)}
    rows.sort(key=lambda r: order[(r.get("firm"), r["construct"])])
    table = pd.DataFrame(rows, columns=[*keys, *COLUMNS, "effect_size", "difference_raw", "se_raw",
                                        "provider_mean", "customer_mean", "provider_var", "customer_var",
                                        "n_provider", "n_customer", "reason"])
    excluded = pd.DataFrame(excluded, columns=["firm", "form", "construct", "n_rows", "reason"])
    groups = "group (firm/form)" if by == "firm" else "group (form)"
    return LatentGapResult(
        simulated=simulated,
        table=table, excluded=excluded, released=released, invariance_level=level, by=by, ci=ci,
        estimator=estimator, n=n_used, models=models, fits=fits, notes=tuple(notes),
        convention="provider minus customer latent mean in the firm's provider latent SD units "
                   "(kappa_p - kappa_c) / sqrt(psi_p); delta-method SE, Wald interval; effect_size with the "
                   "pooled latent SD; loadings and intercepts equal across groups except the released ones "
                   "(form-specific); marker identification, first group's latent mean 0",
        method_note="Sörbom (1974) latent means; Byrne, Shavelson & Muthén (1989) partial invariance"
                    + ("" if cluster is None else f"; standard errors cluster-robust by {cluster!r} "
                       "(Muthén & Satorra, 1995)"),
        r_call=f"lavaan::cfa(model, stacked, group = '{groups.split()[0]}', estimator = '{estimator}', "
               + ("" if cluster is None else f"cluster = '{cluster}', ")
               +
               "group.equal = c('loadings', 'intercepts')) with the released parameters labelled per form "
               "(lavaan group.partial for two groups); (kappa_p - kappa_c) / sqrt(psi_p) as a := parameter")
