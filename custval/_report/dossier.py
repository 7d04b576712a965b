"""The validation dossier: every measurement check of an instrument on one data set, in one
self-contained HTML file (see :func:`custval.report.dossier`)."""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__ as _custval_version
from .._rlines import r_lines
from ..exceptions import CustvalError, CustvalWarning, SpecificationError
from . import plan as _plan

#: bootstrap resamples for the intervals of alpha/omega and HTMT (a modest count, stated in the file)
N_BOOT = 500

_CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--warn:#9a6700;--bad:#cf222e;--ok:#1a7f37}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);
margin:0;padding:1rem;max-width:72rem;margin-inline:auto}
h1{font-size:1.6rem;margin:.2rem 0 .5rem}h2{font-size:1.3rem;border-bottom:1px solid var(--line);
padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem;margin-bottom:.3rem}
p.lead{color:var(--muted)}
.wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5rem 0 1rem}
table{border-collapse:collapse;font-size:.9rem;min-width:16rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:#f6f8fa}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.85rem;
color:var(--muted);margin:.3rem 0}
dl.meta dt{font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere}
code{font-size:.85em;background:#f6f8fa;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}
img.fig{max-width:100%;height:auto;display:block;margin:.5rem 0}
.dev{border-left:4px solid var(--warn);padding:.2rem .8rem;background:#fff8c5}
.missing{color:var(--bad);font-weight:600}.filled{color:var(--ok);font-weight:600}
.partial{color:var(--warn);font-weight:600}
nav ol{columns:2 14rem;font-size:.9rem}
footer{margin-top:3rem;font-size:.8rem;color:var(--muted)}
@media (max-width:600px){body{padding:.6rem;font-size:15px}nav ol{columns:1}}
"""


@dataclass(frozen=True)
class _Number:
    key: str
    value: float
    n: int | None
    convention: str
    r_call: str


class _Page:
    """Collects the HTML of the sections and every number written, with its n, convention and R call."""

    def __init__(self):
        self.parts: list[str] = []
        self.numbers: list[_Number] = []
        self.toc: list[tuple[str, str]] = []
        self._n: int | None = None
        self._conv = ""
        self._r = ""

    def section(self, anchor: str, title: str, lead: str, *, n=None, convention="", r_call="",
                extra: dict | None = None) -> None:
        self._n, self._conv, self._r = (None if n is None else int(n)), convention, r_call
        self.toc.append((anchor, title))
        meta = []
        if n is not None:
            meta.append(("n", f"{int(n)}"))
        if convention:
            meta.append(("Convention", html.escape(convention)))
        if r_call:
            meta.append(("R equivalent", f"<code>{html.escape(r_call)}</code>"))
        for k, v in (extra or {}).items():
            meta.append((html.escape(k), html.escape(str(v))))
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta)
        self.parts.append(f'<section id="{anchor}"><h2>{html.escape(title)}</h2>'
                          f'<p class="lead">{html.escape(lead)}</p>'
                          + (f'<dl class="meta">{dl}</dl>' if dl else ""))

    def end(self) -> None:
        self.parts.append("</section>")

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)

    def para(self, text: str, cls: str = "") -> None:
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{html.escape(text)}</p>")

    def cell(self, value, key: str, *, digits: int = 3, n=None) -> str:
        """A table cell holding a number, with the exact value in ``data-value``."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
            return '<td class="num">&ndash;</td>'
        if isinstance(value, (bool, np.bool_)):
            return f"<td>{'yes' if value else 'no'}</td>"
        v = float(value)
        is_int = digits == 0 or (float(v).is_integer() and isinstance(value, (int, np.integer)))
        if digits == -1:  # a p-value
            shown = "&lt; .001" if v < 0.001 else f"{v:.3f}"
        else:
            shown = f"{v:.0f}" if is_int else _fmt(v, digits)
        self.numbers.append(_Number(key, v, self._n if n is None else int(n), self._conv, self._r))
        return (f'<td class="num" data-key="{html.escape(key)}" data-value="{v!r}" '
                f'title="{v!r}">{shown}</td>')

    def table(self, frame: pd.DataFrame, prefix: str, columns: dict, *, index: str = "",
              digits: dict | None = None, n_column: str | None = None,
              row_digits: dict | None = None) -> None:
        """Write ``frame`` (rows = its index) with the given ``{column: header}``.

        ``digits`` maps a column (``row_digits`` a row label) to its decimals: 0 for counts,
        -1 for p-values (shown as "< .001" below .001); 3 by default.
        """
        digits = {c: -1 for c in columns if c in _P_COLUMNS} | (digits or {})
        row_digits = row_digits or {}
        head = (f"<th>{html.escape(index)}</th>" if index else "") + "".join(
            f"<th>{html.escape(h)}</th>" for h in columns.values())
        rows = []
        for label, row in frame.iterrows():
            lab = label if not isinstance(label, tuple) else " / ".join(map(str, label))
            cells = [f"<th>{html.escape(str(lab))}</th>"] if index else []
            n = row.get(n_column) if n_column else None
            n = None if n is None or pd.isna(n) else int(n)
            for col in columns:
                v = row.get(col)
                if isinstance(v, (bool, np.bool_)):
                    cells.append(f"<td>{'yes' if v else 'no'}</td>")
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    d = row_digits.get(lab, digits.get(col, 3))
                    cells.append(self.cell(v, f"{prefix}|{lab}|{col}", digits=d, n=n))
                else:
                    cells.append(f"<td>{html.escape('' if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        self.parts.append(f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>'
                          + "".join(rows) + "</tbody></table></div>")

    def figure(self, fig, alt: str) -> None:
        import matplotlib
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        # a fixed salt for the SVG's element ids: the same run writes the same bytes
        with matplotlib.rc_context({"svg.hashsalt": "custval-dossier"}):
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        self.parts.append(f'<img class="fig" alt="{html.escape(alt)}" '
                          f'src="data:image/svg+xml;base64,{b64}">')


_P_COLUMNS = ("p_value", "pvalue", "p")


def _fmt(v: float, digits: int) -> str:
    out = f"{v:.{digits}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _find_lock(*starts) -> Path | None:
    """``requirements.lock`` in the first of the given folders, or their parents, that has one."""
    seen = set()
    for start in starts:
        if start is None:
            continue
        p = Path(start).resolve()
        for folder in (p, *p.parents):
            if folder in seen:
                break
            seen.add(folder)
            cand = folder / "requirements.lock"
            if cand.is_file():
                return cand
    return None


def _r_of(obj) -> str:
    """The R call of a result (its ``r_call``) or the first ``In R:`` line of a function's docstring."""
    r = getattr(obj, "r_call", None) or getattr(obj, "r_call_", None)
    if isinstance(r, str) and r:
        return r
    lines = r_lines(inspect.getdoc(obj) if callable(obj) else None)
    return lines[0][0] if lines else ""


@dataclass(frozen=True, eq=False)
class Deviation:
    rule: str
    planned: str
    done: str
    reason: str


@dataclass(frozen=True, eq=False)
class Run:
    """Everything computed for the dossier (the numbers written into the HTML come from here)."""

    html: str
    numbers: pd.DataFrame
    deviations: pd.DataFrame
    jars: pd.DataFrame
    results: dict = field(repr=False)
    warnings: tuple = ()
    plan_given: bool = False


def _deviation_frame(devs: list[Deviation]) -> pd.DataFrame:
    return pd.DataFrame([d.__dict__ for d in devs], columns=["rule", "planned", "done", "reason"])


def _capture(log: list, func, *args, **kwargs):
    """Call ``func`` recording every custval warning (shown in the dossier) instead of raising it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CustvalWarning)
        out = func(*args, **kwargs)
    for w in caught:
        if issubclass(w.category, CustvalWarning):
            log.append((w.category.__name__, str(w.message)))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def _try(res: dict, name: str, log: list, func, *args, **kwargs):
    """``res[name] = func(...)``; a custval error is kept as ``res[name + "_error"]`` (shown in the page)."""
    try:
        res[name] = _capture(log, func, *args, **kwargs)
    except CustvalError as exc:
        res[name + "_error"] = str(exc)
    return res.get(name)


def build(data, instrument, *, plan=None, group=None, seed: int = 0, customer=None,
          id_column=None, n_boot: int = N_BOOT, form: str | None = None) -> Run:
    """Compute every section and render the page (see :func:`custval.report.dossier`)."""
    import matplotlib

    from .. import dimensionality, efa, ingest, items, reliability, screening, validity
    from ..cfa import CFA
    from ..codebook import Instrument, load_instrument

    matplotlib.use("Agg", force=False)
    log: list[tuple[str, str]] = []
    devs: list[Deviation] = []
    res: dict = {"n_boot": n_boot}

    full = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    inst = full
    if full.forms:
        form = form or "provider"
        if form not in full.forms:
            raise SpecificationError(f"form={form!r} is not a form of instrument '{full.name}'; "
                                     f"its forms: {sorted(full.forms)}")
        inst = full.form(form)
    elif form is not None:
        raise SpecificationError(f"form={form!r}: instrument '{full.name}' has no provider/customer forms")
    if customer is not None and form != "provider":
        raise SpecificationError("customer data (perception gaps) need an instrument with provider and "
                                 "customer forms, with the provider form's answers as the data")
    # ---- plan
    if plan is None:
        mplan, plan_sha, plan_src = _plan.default_plan(), None, None
    elif isinstance(plan, _plan.MeasurementPlan):
        mplan, plan_sha, plan_src = plan, None, "given in memory"
    else:
        mplan, plan_sha = _plan.load_plan(plan)
        plan_src = str(plan)
    # ---- data
    data_path = None
    if isinstance(data, (str, os.PathLike)):
        data_path = Path(data)
        df = _capture(log, ingest.read_survey, data_path, inst, id_column=id_column)
    elif isinstance(data, pd.DataFrame):
        df = data if data.attrs.get("custval") else _capture(log, ingest.validate_frame, data, inst,
                                                            id_column=id_column)
    else:
        raise SpecificationError(f"data must be a path to a survey export or a DataFrame; got "
                                 f"{type(data).__name__}")
    prov = df.attrs.get("custval") or {}
    res["read"] = prov
    item_ids = [i for c in inst.constructs.values() for i in c]
    constructs = list(inst.constructs)
    if group is not None and group not in df.columns:
        raise SpecificationError(f"group={group!r} is not a column of the data; columns other than "
                                 f"the items: {[c for c in df.columns if c not in item_ids]}")

    # ---- screening and the plan's exclusions
    ex = mplan.exclusions
    scr = _capture(log, screening.screen, df, inst, duration=ex.duration,
                   longstring_cutoff=ex.longstring_cutoff, mahalanobis_alpha=ex.mahalanobis_alpha,
                   max_missing=ex.max_missing)
    res["screen"] = scr
    excluded = pd.Series(False, index=df.index)
    reasons = pd.Series("", index=df.index, dtype=object)
    for rule in ex.rules:
        col = f"flag_{rule}"
        if col not in scr.flags.columns:
            devs.append(Deviation("exclusions.rules", f"exclude respondents flagged by '{rule}'",
                                  "not applied", f"the screening rule '{rule}' was not computed "
                                  "(speed needs exclusions.duration naming a completion-time column)"))
            continue
        hit = scr.flags[col].fillna(False).astype(bool)
        reasons[hit] = reasons[hit].where(reasons[hit] == "", reasons[hit] + "; ") + rule
        excluded |= hit
    used = df.loc[~excluded]
    res["excluded"] = pd.DataFrame({"reason": reasons[excluded]})
    res["used"] = used
    if len(used) < 10:
        raise CustvalError(f"the plan's exclusions leave {len(used)} of {len(df)} respondents; "
                           "too few to validate the instrument")

    # ---- estimator by scale points
    points = {i: int(round(inst.item_scale(i).max - inst.item_scale(i).min + 1)) for i in item_ids}
    fewest = min(points.values())
    few = sorted((i for i, p in points.items() if p < (mplan.estimator.min_categories
                  if isinstance(mplan.estimator, _plan.EstimatorRule) else 5)), key=item_ids.index)
    if isinstance(mplan.estimator, str):
        planned = mplan.estimator
        if planned in ("ML", "MLR") and few:
            devs.append(Deviation("estimator", f"{planned} for every item",
                                  f"{planned} (as planned)",
                                  f"{len(few)} item(s) have fewer than 5 scale points ({fewest} "
                                  f"at the fewest: {', '.join(few[:8])}); a normal-theory estimator "
                                  "treats them as continuous"))
    else:
        rule = mplan.estimator
        planned = rule.ordinal if few else rule.continuous
    estimator = planned
    if planned == "WLSMV":
        estimator = "MLR"
        devs.append(Deviation("estimator", "WLSMV (ordinal items)", "MLR",
                              "the dossier's CFA sections (standardized loadings, CR/AVE, measurement "
                              "table) need a continuous fit; custval.CFA(model, ordered=...) fits WLSMV on "
                              "its own. MLR (robust standard errors and scaled test statistic) is the closest "
                              "continuous estimator"))
    missing = mplan.missing

    # ---- item analysis and reliability
    res["items"] = _capture(log, items.item_analysis, used, inst)
    _try(res, "reliability", log, reliability.scale_reliability, used, inst, n_boot=n_boot,
         seed=seed, progress=False)

    # ---- dimensionality
    keyed = inst.keyed(used)[item_ids]
    ret = mplan.retention
    pa = _try(res, "parallel_analysis", log, dimensionality.parallel_analysis, keyed,
              n_iter=ret.n_iter, seed=seed)
    mp = _try(res, "map", log, dimensionality.velicer_map, keyed,
              max_factors=min(8, len(item_ids) - 1))
    k = {"parallel_analysis": getattr(pa, "n_factors", None), "map": getattr(mp, "n_factors", None),
         "fixed": ret.k}[ret.rule]
    if k is None:
        k = len(constructs)
        devs.append(Deviation("retention", ret.rule, f"EFA with the codebook's {k} constructs",
                              f"the {ret.rule.replace('_', ' ')} could not be computed: "
                              + str(res.get(f"{'map' if ret.rule == 'map' else 'parallel_analysis'}_error", "")).splitlines()[0]))
    k = max(int(k), 1)
    if k != len(constructs):
        devs.append(Deviation("retention", f"{ret.rule}" + (f" (k = {ret.k})" if ret.rule == "fixed" else ""),
                              f"EFA with {k} factor(s); CFA with the codebook's {len(constructs)} constructs",
                              f"the plan's retention rule gives {k} factor(s) but the codebook has "
                              f"{len(constructs)} constructs"))
    _try(res, "efa", log, efa.EFA(k, seed=seed).fit, keyed)

    # ---- CFA (and the plan's item-drop policy)
    cfa = _try(res, "cfa", log, CFA(inst, estimator=estimator, missing=missing).fit, used)
    lam = (cfa.params_[cfa.params_["op"] == "=~"].set_index("rhs") if cfa is not None
           else pd.DataFrame(columns=["std_all"]))
    weak = [i for i in item_ids if i in lam.index and abs(lam.loc[i, "std_all"]) < mplan.item_drop.min_loading]
    res["weak_items"] = weak
    model_for_validity, data_for_validity = inst, used
    dropped: list[str] = []
    if weak and mplan.item_drop.policy == "drop":
        blocks = {c: [i for i in its if i not in weak] for c, its in inst.constructs.items()}
        kept_back = []
        for c, its in inst.constructs.items():
            if len(blocks[c]) < mplan.item_drop.min_items:
                back = sorted((i for i in its if i in weak), key=lambda i: -abs(lam.loc[i, "std_all"]))
                need = mplan.item_drop.min_items - len(blocks[c])
                kept_back += back[:need]
                blocks[c] = [i for i in its if i not in weak or i in back[:need]]
        dropped = [i for i in weak if i not in kept_back]
        if kept_back:
            devs.append(Deviation("item_drop", f"drop items with standardized loading < {mplan.item_drop.min_loading}",
                                  f"kept {', '.join(kept_back)}",
                                  f"dropping them would leave a construct with fewer than "
                                  f"{mplan.item_drop.min_items} items (item_drop.min_items)"))
        if dropped:
            syntax = "\n".join(f"{c} =~ " + " + ".join(its) for c, its in blocks.items())
            data_for_validity = inst.keyed(used)
            model_for_validity = syntax
            res["cfa_initial"] = res.pop("cfa")
            cfa = _try(res, "cfa", log, CFA(syntax, estimator=estimator, missing=missing).fit,
                       data_for_validity)
    res["dropped_items"] = dropped

    # ---- CR / AVE / HTMT
    if cfa is not None:
        _try(res, "cr_ave", log, validity.cr_ave, cfa)
    else:
        res["cr_ave_error"] = "no CFA: " + res["cfa_error"].splitlines()[0]
    b = mplan.htmt.bound
    _try(res, "htmt", log, validity.htmt, data_for_validity, model_for_validity, n_boot=n_boot,
         seed=seed, thresholds=(min(b, 0.9), max(b, 0.9)))

    # ---- invariance
    inv_rule = mplan.invariance
    if group is not None:
        from ..invariance import measurement_invariance

        try:
            res["invariance"] = _capture(log, measurement_invariance, used, inst, group=group,
                                         levels=tuple(inv_rule.levels), estimator=estimator,
                                         missing=missing, criteria=inv_rule.criteria)
        except CustvalError as exc:
            res["invariance_error"] = str(exc)
            devs.append(Deviation("invariance", f"{', '.join(inv_rule.levels)} across '{group}'",
                                  "not computed", str(exc).splitlines()[0]))
    elif inv_rule.required:
        devs.append(Deviation("invariance", "invariance across groups (invariance.required)",
                              "not computed", "no grouping column was given (--group)"))

    # ---- gaps (provider/customer forms)
    if customer is not None:
        from ..gaps import perception_gap

        try:
            cform = full.form("customer")
            if isinstance(customer, (str, os.PathLike)):
                cust = _capture(log, ingest.read_survey, Path(customer), cform, id_column=id_column)
            elif customer.attrs.get("custval"):
                cust = customer
            else:
                cust = _capture(log, ingest.validate_frame, customer, cform, id_column=id_column)
            res["gaps"] = _capture(log, perception_gap, used, cust, full, n_boot=n_boot, seed=seed)
        except CustvalError as exc:
            res["gaps_error"] = str(exc)

    page = _render(inst, df, used, res, mplan, devs, log, plan_src=plan_src, plan_sha=plan_sha,
                   source=full.source, form=form if full.forms else None,
                   data_path=data_path, group=group, seed=seed, n_boot=n_boot,
                   estimator=estimator, planned_estimator=planned, k=k, points=points)
    return page


# --------------------------------------------------------------------------- rendering
def _versions() -> dict:
    import matplotlib
    import scipy

    return {"custval": _custval_version, "numpy": np.__version__, "scipy": scipy.__version__,
            "pandas": pd.__version__, "matplotlib": matplotlib.__version__}


def _jars(inst, prov, res, mplan, devs, group, data_path, plan_src) -> pd.DataFrame:
    """APA JARS-Quant (Appelbaum et al., 2018, Table 1) items on measurement, filled from the run."""
    rel = res.get("reliability")
    cfa = res.get("cfa")
    fm = cfa.fit_measures_ if cfa is not None else None
    n_items = sum(len(v) for v in inst.constructs.values())
    langs = ", ".join(getattr(inst, "languages", ()) or ()) or "not stated"
    rows = [(a, i, *sr) if len(sr) == 2 else (a, i, sr[0][0], sr[0][1]) for a, i, *sr in [
        ("Measures", "Define all primary and secondary measures",
         "filled", f"{len(inst.constructs)} constructs, {n_items} items from codebook '{inst.name}' "
                   f"(scale {inst.scale}; reverse-keyed: {', '.join(sorted(inst.reverse_items)) or 'none'})"),
        ("Measures", "Measures collected but not used in this report",
         "partial", "columns of the file besides the items: "
                    + (", ".join(str(c) for c in res["used"].columns if c not in set(res["items"].index)) or "none")
                    + "; other measures of the study: MISSING (author to state)"),
        ("Sample", "Sample size and precision of the estimates",
         "filled", f"{len(res['used'])} respondents analysed; 95% intervals from {res.get('n_boot', '')} "
                   "bootstrap resamples (reliability, HTMT)"),
        ("Measures", "Instrument: validated or ad hoc; its source and language",
         "partial", f"citation: {getattr(inst, 'citation', None) or 'MISSING: add the instrument citation to the codebook'}; "
                    f"languages: {langs}; translation procedure: MISSING (author to state)"),
        ("Data collection", "Methods used to collect the data (mode, platform, setting)",
         "partial", f"file read: {prov.get('source', {}).get('path', 'data frame') if isinstance(prov.get('source'), dict) else data_path or 'data frame'}; "
                    f"platform: {((prov.get('platform') or {}).get('source') if isinstance(prov.get('platform'), dict) else None) or 'not detected'}; "
                    "mode, setting and dates: MISSING (author to state)"),
        ("Quality of measurement", "Methods used to enhance the quality of measurement",
         "missing", "MISSING: training, attention checks, pilot testing (author to state)"),
        ("Participant flow", "Criteria for post-data-collection exclusion of participants",
         "filled", f"{len(res['excluded'])} of {len(res['used']) + len(res['excluded'])} respondents excluded by "
                   f"the rules {', '.join(mplan.exclusions.rules) or '(none: flagged only)'}; "
                   f"rows left out while reading: {prov.get('rows_excluded', 0)}"),
        ("Missing data", "Frequency or percentages of missing data; method of handling",
         "filled", f"{float(res['used'][list(res['items'].index)].isna().to_numpy().mean()) * 100:.1f}% of item answers "
                   f"missing; CFA: {mplan.missing}; reliability: listwise per construct"),
        ("Psychometrics", "Reliability coefficients for the scores analysed in this sample",
         ("filled", "alpha and omega with bootstrap intervals per construct: "
                    + "; ".join(f"{c} alpha {rel.loc[c, 'alpha']:.2f}" for c in rel.index))
         if rel is not None else ("missing", "MISSING: not computed: " + res["reliability_error"].splitlines()[0])),
        ("Data diagnostics", "Analyses of data distributions",
         "filled", "mean, SD, skew, kurtosis, floor and ceiling per item (section 'Item analysis')"),
        ("Psychometrics", "Reliability or validity taken from other samples, with those samples' characteristics",
         "missing", "MISSING: earlier validation samples of the instrument (author to state)"),
        ("Psychometrics", "Test-retest and inter-rater reliability",
         "missing", "MISSING: not estimable from one administration (see custval.test_retest)"),
        ("Psychometrics", "Convergent and discriminant validity",
         "filled", "CR, AVE and HTMT with bootstrap upper bounds (section 'Convergent and discriminant validity')"),
        ("Psychometrics", "Factor structure (dimensionality) and model fit",
         *(("filled", f"parallel analysis, MAP, EFA; CFA {cfa._estimator} chi2({fm['df']:.0f}) = {fm['chisq']:.2f}, "
                      f"CFI = {fm['cfi']:.3f}, RMSEA = {fm['rmsea']:.3f}, SRMR = {fm['srmr']:.3f}")
           if cfa is not None else ("partial", "CFA not computed: " + res["cfa_error"].splitlines()[0]))),
        ("Psychometrics", "Measurement invariance across groups compared",
         "filled" if "invariance" in res else "missing",
         (f"across '{group}': {res['invariance'].verdict}" if "invariance" in res
          else "MISSING: no grouping variable given" if group is None else "MISSING: " + res.get("invariance_error", ""))),
        ("Analytic strategy", "Decision rules fixed in advance (preregistration)",
         "filled" if plan_src else "missing",
         (f"measurement plan {plan_src}; {len(devs)} deviation(s) listed" if plan_src
          else "MISSING: no measurement plan was given; the rules were custval's defaults")),
        ("Data diagnostics", "Criteria for outliers and careless responding",
         "filled", "longstring, straight-lining, Mahalanobis D² (p < "
                   f"{mplan.exclusions.mahalanobis_alpha}) and share missing (> {mplan.exclusions.max_missing}) flagged"),
    ]]
    return pd.DataFrame(rows, columns=["area", "item", "status", "reported"])


def _render(inst, df, used, res, mplan, devs, log, *, plan_src, plan_sha, source, form, data_path,
            group, seed,
            n_boot, estimator, planned_estimator, k, points) -> Run:
    import matplotlib.pyplot as plt

    from ..items import item_analysis
    from ..reliability import scale_reliability
    from ..validity import cr_ave

    page = _Page()
    prov = res["read"]
    n_in = len(df)
    title = inst.title() or inst.name
    page.add(f"<header><h1>Validation dossier: {html.escape(str(title))}</h1>"
             f"<p class=\"lead\">Instrument <code>{html.escape(inst.name)}</code>, "
             f"{len(inst.constructs)} constructs; data: "
             f"{html.escape(data_path.name if data_path else 'a data frame')}; "
             f"{n_in} respondents read, {len(used)} analysed.</p>"
             "<p>This file is self-contained (figures inside it; no network needed). Every number "
             "shows its n and, in each section, the convention it follows and the R call that "
             "gives it. Hover a number to see it unrounded.</p></header><nav><h2>Contents</h2>"
             "<!--TOC--></nav>")

    # plan and deviations
    page.section("plan", "Measurement plan and deviations",
                 "The decision rules fixed before the data and every place where the run departs from them.",
                 extra={"Plan": plan_src or "none given: custval's defaults were used (they were not fixed before the data)",
                        "Plan SHA-256": plan_sha or "not available"})
    rules = pd.DataFrame([
        ("estimator", (mplan.estimator if isinstance(mplan.estimator, str) else
                       f"{mplan.estimator.continuous} for items with >= {mplan.estimator.min_categories} "
                       f"scale points, else {mplan.estimator.ordinal}"), f"{estimator}"),
        ("missing data", mplan.missing, mplan.missing),
        ("exclusions", ", ".join(mplan.exclusions.rules) or "none (flag only)",
         f"{len(res['excluded'])} respondent(s) excluded"),
        ("factor retention", mplan.retention.rule + (f" (k = {mplan.retention.k})" if mplan.retention.k else ""),
         f"k = {k}"),
        ("invariance", f"{mplan.invariance.criteria}: {', '.join(mplan.invariance.levels)}",
         "run" if "invariance" in res else "not run"),
        ("HTMT bound", f"{mplan.htmt.bound}", "upper bound of each pair compared with it"),
        ("item drop", f"{mplan.item_drop.policy} (standardized loading < {mplan.item_drop.min_loading})",
         ", ".join(res["dropped_items"]) and f"dropped {', '.join(res['dropped_items'])}" or "no item dropped"),
    ], columns=["rule", "planned", "done"]).set_index("rule")
    page.table(rules, "plan", {"planned": "Planned", "done": "Done"}, index="Rule")
    if devs:
        page.add('<div class="dev"><h3>Deviations</h3><ol>' + "".join(
            f"<li><b>{html.escape(d.rule)}</b>: planned {html.escape(d.planned)}; done "
            f"{html.escape(d.done)}. Reason: {html.escape(d.reason)}</li>" for d in devs) + "</ol></div>")
    else:
        page.para("No deviation from the plan.")
    page.end()

    # data
    page.section("data", "Data, screening and exclusions",
                 "How the file was read, which rows were left out while reading and why, and which "
                 "respondents the screening flagged or the plan excluded. Nobody is left out silently: "
                 "rows read = rows analysed + rows excluded.",
                 n=n_in, convention=res["screen"].convention, r_call=_r_of(res["screen"]))
    readinfo = pd.DataFrame([
        ("file", (data_path.name if data_path else "data frame")),
        ("encoding", str(prov.get("encoding", ""))), ("delimiter", repr(prov.get("delimiter", ""))),
        ("rows read below the column names", prov.get("rows_read", n_in)),
        ("rows returned", prov.get("rows_returned", n_in)),
        ("rows left out while reading (below the column names)", prov.get("rows_excluded", 0)),
        ("lines above the column names (titles, notes)", len(prov.get("preamble") or ())),
        ("respondents excluded by the plan", len(res["excluded"])),
        ("respondents analysed", len(used)),
    ], columns=["what", "value"]).set_index("what")
    page.table(readinfo, "data", {"value": "Value"}, index="Reading", digits={"value": 0})
    from ..ingest import excluded_rows

    xr = excluded_rows(df)
    if len(xr):
        page.add("<h3>Rows left out while reading</h3>")
        if prov.get("row_counting_explained"):
            page.para(f"Rows are numbered as {prov.get('row_counting', 'rows')}s: "
                      f"{prov['row_counting_explained']}.")
        page.table(xr.set_index("row"), "read_excluded", {"reason": "Reason", "label": "Label"}, index="Row")
    rules_counted = prov.get("rules") or {}
    if isinstance(rules_counted, dict) and rules_counted:
        rc = pd.DataFrame([(k, (v.get("count") if isinstance(v, dict) else v)) for k, v in rules_counted.items()],
                          columns=["rule", "count"]).set_index("rule")
        rc = rc[pd.to_numeric(rc["count"], errors="coerce").notna()]
        if len(rc):
            page.add("<h3>Conversions counted while reading</h3>")
            page.table(rc, "read_rules", {"count": "Cells"}, index="Rule", digits={"count": 0})
    page.add("<h3>Screening (careless responding)</h3>")
    st = res["screen"].summary_table
    page.table(st, "screen", {"definition": "Definition", "cutoff": "Cutoff", "n_flagged": "Flagged",
                              "percent": "%"}, index="Rule", digits={"n_flagged": 0, "percent": 1})
    if len(res["excluded"]):
        counts = res["excluded"]["reason"].value_counts().rename("n").to_frame()
        page.add("<h3>Excluded by the plan</h3>")
        page.table(counts, "excluded", {"n": "Respondents"}, index="Reason(s)", digits={"n": 0})
    page.end()

    # items
    ia = res["items"]
    page.section("items", "Item analysis",
                 "Each item's answers: mean, spread, floor and ceiling, and how well it agrees with "
                 "the rest of its construct (corrected item-total r_drop; alpha if the item is dropped).",
                 n=len(used), convention="reverse-keyed items recoded (min + max - x); pairwise "
                 "complete answers; r_drop = correlation with the sum of the other items",
                 r_call=_r_of(item_analysis))
    page.table(ia, "items", {"construct": "Construct", "n": "n", "mean": "Mean", "sd": "SD",
                             "skew": "Skew", "kurtosis": "Kurtosis", "pct_floor": "% floor",
                             "pct_ceiling": "% ceiling", "r_drop": "r_drop",
                             "alpha_if_deleted": "alpha if deleted"},
               index="Item", digits={"n": 0, "pct_floor": 1, "pct_ceiling": 1}, n_column="n")
    page.end()

    def failed(name: str) -> None:
        page.para(f"Not computed: {res.get(name + '_error', 'an earlier step failed')}", "missing")

    # reliability
    rel = res.get("reliability")
    attrs = rel.attrs if rel is not None else {}
    page.section("reliability", "Reliability",
                 "How consistently the items of each construct measure it: Cronbach's alpha and "
                 f"McDonald's omega with {attrs.get('ci', 0.95):.0%} bootstrap intervals "
                 f"({n_boot} resamples, seed {seed}).",
                 n=len(used), convention=f"listwise per construct; {attrs.get('convention', '')}",
                 r_call=_r_of(scale_reliability) + "; " + str(attrs.get("r_call", "")))
    if rel is not None:
        page.table(rel, "reliability", {"n": "n", "n_items": "Items", "alpha": "alpha",
                                        "alpha_ci_low": "alpha low", "alpha_ci_high": "alpha high",
                                        "omega_total": "omega", "omega_ci_low": "omega low",
                                        "omega_ci_high": "omega high", "average_r": "mean r"},
                   index="Construct", digits={"n": 0, "n_items": 0}, n_column="n")
    else:
        failed("reliability")
    page.end()

    # dimensionality
    pa, mp, fa = res.get("parallel_analysis"), res.get("map"), res.get("efa")
    page.section("dimensionality", "Dimensionality",
                 "How many factors the answers support: parallel analysis compares the eigenvalues "
                 "with those of random data, Velicer's MAP looks for the smallest average partial "
                 f"correlation. The plan's rule ({mplan.retention.rule}) retains {k} factor(s); the "
                 f"codebook has {len(inst.constructs)} constructs.",
                 n=getattr(pa, "n", None) or getattr(mp, "n", None),
                 convention=getattr(pa, "convention", ""),
                 r_call="; ".join(r.r_call for r in (pa, mp) if r is not None))
    sug = pd.DataFrame([("parallel analysis (factors)", getattr(pa, "n_factors", None)),
                        ("parallel analysis (components)", getattr(pa, "n_components", None)),
                        ("Velicer's MAP", getattr(mp, "n_factors", None)), ("retained (plan)", k),
                        ("constructs in the codebook", len(inst.constructs))],
                       columns=["what", "k"]).set_index("what")
    page.table(sug, "dimensionality", {"k": "Factors"}, index="Rule", digits={"k": 0})
    for name in ("parallel_analysis", "map"):
        if name + "_error" in res:
            failed(name)
    if pa is not None:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        pa.plot(ax=ax)
        ax.set_title("Scree plot with parallel analysis")
        page.figure(fig, "Scree plot: observed eigenvalues against those of random data")
    if fa is not None:
        page.add(f"<h3>EFA: {k} factor(s), {html.escape(fa.r_call_)}</h3>")
        lo = fa.loadings_.copy()
        lo.columns = [str(c) for c in lo.columns]
        page.table(lo, "efa", {c: c for c in lo.columns}, index="Item")
    else:
        page.add(f"<h3>EFA: {k} factor(s)</h3>")
        failed("efa")
    page.end()

    # CFA
    cfa = res.get("cfa")
    fm = cfa.fit_measures_ if cfa is not None else None
    n_cfa = int(fm["ntotal"]) if fm is not None else None
    page.section("cfa", "Confirmatory factor analysis",
                 "Does the codebook's structure (each item on its own construct) fit the answers? "
                 "Common guides: CFI and TLI near .95 or above, RMSEA below .06-.08, SRMR below .08 "
                 "(Hu & Bentler, 1999); they are guides, not tests.",
                 n=n_cfa, convention=f"estimator {estimator}"
                 + (f" (plan: {planned_estimator})" if planned_estimator != estimator else "")
                 + f"; missing {mplan.missing}; marker-variable identification; standardized = std.all",
                 r_call=_r_of(cfa) if cfa is not None else "")
    if cfa is not None:
        want = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
                "srmr", "chisq.scaled", "cfi.robust", "rmsea.robust"]
        fit = pd.DataFrame({"value": [fm[w] for w in want if w in fm.index]},
                           index=[w for w in want if w in fm.index])
        page.table(fit, "cfa_fit", {"value": "Value"}, index="Fit measure", digits={"value": 3},
                   row_digits={"df": 0, "pvalue": -1})
        lam = cfa.params_[cfa.params_["op"] == "=~"].copy()
        lam.index = [f"{a} =~ {b}" for a, b in zip(lam["lhs"], lam["rhs"], strict=True)]
        page.add("<h3>Loadings</h3>")
        page.table(lam, "cfa_loadings", {"est": "Estimate", "se": "SE", "p_value": "p",
                                         "std_all": "Standardized"}, index="Loading")
        fig, ax = plt.subplots(figsize=(6.4, max(2.5, 0.22 * len(lam))))
        ax.barh(range(len(lam)), lam["std_all"].to_numpy(), color="#4c72b0")
        ax.axvline(mplan.item_drop.min_loading, color="#cf222e", ls="--", lw=1,
                   label=f"plan's minimum {mplan.item_drop.min_loading}")
        ax.set_yticks(range(len(lam)), list(lam["rhs"]))
        ax.invert_yaxis()
        ax.set_xlabel("standardized loading (std.all)")
        ax.legend(loc="lower right", fontsize=8)
        page.figure(fig, "Standardized CFA loadings per item")
        if res["weak_items"]:
            page.para(f"Items below the plan's minimum standardized loading {mplan.item_drop.min_loading}: "
                      f"{', '.join(res['weak_items'])} (policy: {mplan.item_drop.policy}"
                      + (f"; dropped and refitted: {', '.join(res['dropped_items'])}" if res["dropped_items"] else "")
                      + ").")
    else:
        failed("cfa")
    page.end()

    # validity
    ca, ht = res.get("cr_ave"), res.get("htmt")
    page.section("validity", "Convergent and discriminant validity",
                 "Composite reliability (CR) and average variance extracted (AVE) of each construct "
                 "(AVE of .50 or more: the construct explains most of its items' variance), and the "
                 "heterotrait-monotrait ratio (HTMT) of each pair of constructs, judged by its "
                 f"one-sided bootstrap upper bound against the plan's bound {mplan.htmt.bound}.",
                 n=n_cfa, convention="CR/AVE: semTools observed-variance convention"
                 + ("; " + ht.convention if ht is not None else ""),
                 r_call=_r_of(cr_ave) + ("; " + ht.r_call if ht is not None else ""))
    if ca is not None:
        page.table(ca, "cr_ave", {"composite_reliability": "CR", "ave": "AVE"}, index="Construct")
    else:
        failed("cr_ave")
    page.add(f"<h3>HTMT ({n_boot} bootstrap resamples, seed {seed})</h3>")
    if ht is not None:
        t = ht.table.copy()
        t["below_bound"] = t["upper_bound"] < mplan.htmt.bound
        t.index = [f"{a} - {b}" for a, b in zip(t["construct_a"], t["construct_b"], strict=True)]
        page.table(t, "htmt", {"estimate": "HTMT", "ci_low": "CI low", "ci_high": "CI high",
                               "upper_bound": "Upper bound", "n": "n",
                               "below_bound": f"Below {mplan.htmt.bound}"},
                   index="Pair", digits={"n": 0}, n_column="n")
    else:
        failed("htmt")
    page.end()

    # invariance
    if "invariance" in res or "invariance_error" in res:
        inv = res.get("invariance")
        page.section("invariance", f"Measurement invariance across '{group}'",
                     "Do the items mean the same in every group? Each level adds equality constraints "
                     "(loadings, intercepts, residuals); it holds when the fit does not worsen beyond "
                     "the plan's criteria.",
                     n=getattr(inv, "n_used", None), convention=getattr(inv, "convention", ""),
                     r_call=getattr(inv, "r_call", ""))
        if inv is not None:
            it = inv.table.set_index("level") if "level" in inv.table.columns else inv.table
            cols = [c for c in ("chisq", "df", "cfi", "rmsea", "srmr", "delta_chisq", "delta_df",
                                "p_value", "delta_cfi", "delta_rmsea", "delta_srmr", "verdict")
                    if c in it.columns]
            page.table(it, "invariance", {c: c.replace("_", " ") for c in cols}, index="Level",
                       digits={"df": 0, "delta_df": 0})
            page.para(f"Verdict: {inv.verdict}")
        else:
            page.para("Not computed: " + res["invariance_error"], "missing")
        page.end()

    # gaps
    if "gaps" in res or "gaps_error" in res:
        g = res.get("gaps")
        page.section("gaps", "Perception gaps between the provider and customer forms",
                     "The difference between how the provider and its customers rate the same "
                     "construct, with bootstrap intervals.",
                     n=None, convention=getattr(g, "convention", ""), r_call=getattr(g, "r_call", ""))
        if g is not None:
            gf = g.to_frame()
            page.table(gf, "gaps", {c: c for c in gf.columns}, index="")
        else:
            page.para("Not computed: " + res["gaps_error"], "missing")
        page.end()

    # JARS
    jars = _jars(inst, prov, res, mplan, devs, group, data_path, plan_src)
    page.section("jars", "APA JARS-Quant: measurement items",
                 "The measurement items of the APA Journal Article Reporting Standards for "
                 "quantitative research (Appelbaum et al., 2018), filled in from this run; what the "
                 "data cannot tell is marked MISSING for the author to supply.")
    rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(i)}</td>"
                   f"<td class=\"{s}\">{s}</td><td>{html.escape(r)}</td></tr>"
                   for a, i, s, r in jars.itertuples(index=False))
    page.add('<div class="wrap"><table><thead><tr><th>Area</th><th>Item</th><th>Status</th>'
             f"<th>Reported</th></tr></thead><tbody>{rows}</tbody></table></div>")
    page.para("Appelbaum, M., Cooper, H., Kline, R. B., Mayo-Wilson, E., Nezu, A. M., & Rao, S. M. "
              "(2018). Journal article reporting standards for quantitative research in psychology: "
              "The APA Publications and Communications Board task force report. American "
              "Psychologist, 73(1), 3-25. https://doi.org/10.1037/amp0000191")
    page.end()

    # warnings
    page.section("warnings", "Warnings raised while computing",
                 "Every custval warning of this run, as issued (none is hidden).")
    if log:
        page.add("<ol>" + "".join(f"<li><code>{html.escape(c)}</code>: {html.escape(m)}</li>"
                                  for c, m in log) + "</ol>")
    else:
        page.para("None.")
    page.end()

    # reproducibility
    codebook_sha = (_sha256(source) if source and Path(source).is_file()
                    else "not available (instrument given in memory)")
    lock = _find_lock(data_path.parent if data_path else None,
                      Path(source).parent if source else None, Path.cwd())
    repro = {"seed": str(seed), "bootstrap resamples": f"{n_boot} (alpha/omega intervals, HTMT)",
             "parallel-analysis iterations": str(mplan.retention.n_iter),
             "data file": str(data_path) if data_path else "a data frame (no file)",
             "SHA-256 of the data file": _sha256(data_path) if data_path else "not available (data given as a frame)",
             "codebook": str(source or "in memory") + (f" ({form} form)" if form else ""),
             "SHA-256 of the codebook": codebook_sha,
             "lock file": str(lock) if lock else "not available",
             "SHA-256 of the lock file": _sha256(lock) if lock else "not available",
             "measurement plan": plan_src or "none", "SHA-256 of the plan": plan_sha or "not available"}
    repro.update({f"version of {k}": v for k, v in _versions().items()})
    page.section("reproducibility", "Reproducibility",
                 "What is needed to get exactly these numbers again: the same files (checked by "
                 "their SHA-256), the same seed and the same versions.")
    page.add('<div class="wrap"><table><tbody>' + "".join(
        f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>"
        for k, v in repro.items()) + "</tbody></table></div>")
    cli = (f"custval report {data_path.name if data_path else 'DATA'} --instrument "
           f"{Path(source).name if source else 'CODEBOOK'} --out dossier.html"
           + (f" --form {form}" if form else "")
           + (f" --plan {Path(plan_src).name}" if plan_src and plan_src != 'given in memory' else "")
           + (f" --group {group}" if group else "") + f" --seed {seed}")
    page.para(f"Command: {cli}")
    page.end()
    page.add(f"<footer>Made with custval {html.escape(_custval_version)}. Numbers carry their "
             "unrounded value in the data-value attribute.</footer>")

    toc = "<ol>" + "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in page.toc) + "</ol>"
    body = "".join(page.parts).replace("<!--TOC-->", toc, 1)
    doc = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           f"<title>Validation dossier: {html.escape(inst.name)}</title><style>{_CSS}</style></head>"
           f"<body>{body}</body></html>\n")
    numbers = pd.DataFrame([n.__dict__ for n in page.numbers],
                           columns=["key", "value", "n", "convention", "r_call"]).set_index("key")
    return Run(html=doc, numbers=numbers, deviations=_deviation_frame(devs), jars=jars, results=res,
               warnings=tuple(log), plan_given=plan_src is not None)
