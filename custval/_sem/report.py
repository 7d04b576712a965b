"""Text and HTML reports of a fitted CFA in lavaan's ``summary()`` layout (private)."""

from __future__ import annotations

import html

import numpy as np

_W = 54


def _line(label: str, value, digits: int = 3) -> str:
    if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer() and abs(value) < 1e6 and label.startswith(("Degrees", "Number"))):
        text = f"{int(value)}"
    elif isinstance(value, str):
        text = value
    elif value is None or (isinstance(value, float) and np.isnan(value)):
        text = "NA"
    else:
        text = f"{value:.{digits}f}"
    return f"  {label:<{_W - 2 - max(len(text), 1)}}{text:>{max(len(text), 1)}}"


def _fmt(v, digits):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return f"{v:.{digits}f}"


def summary_text(fit, digits: int = 3) -> str:
    f = fit.fit_measures_
    robust = fit._estimator in ("MLR", "WLSMV", "ULSMV")
    ordinal = getattr(fit, "sample_th_", None) is not None
    twolevel = "level" in fit.params_.columns
    out = [
        f"custval CFA ({'converged' if fit.converged_ else 'NOT converged'} after {fit.n_iter_} iterations)",
        "",
        _line("Estimator", fit._estimator),
        _line("Optimization method", "Gauss-Newton" if ordinal else "BFGS + Newton" if twolevel else "Fisher scoring"),
        _line("Number of model parameters", int(f["npar"])),
        "",
    ]
    if len(fit.group_labels_) > 1:
        out.append(_line("Number of observations per group:", ""))
        for lab, n in fit.n_obs_.items():
            out.append(_line(f"  {lab}", n))
    else:
        out.append(_line("Number of observations", int(f["ntotal"])))
    if fit._missing == "fiml":
        out.append(_line("Missing data", "FIML (lavaan missing = 'ml')"))
    if getattr(fit, "efa_blocks_", None):
        out += ["", _line("Rotation method", "GEOMIN OBLIQUE"), _line("Geomin epsilon", "0.001"),
                _line("Rotation algorithm (rstarts)", "GPA (30)"), _line("Standardized metric", "TRUE"),
                _line("Row weights", "None")]
    out += ["", "Model Test User Model:", ""]
    out += [
        _line("Test statistic", f["chisq"]) + (f"  {f['chisq.scaled']:>10.{digits}f}" if robust else ""),
        _line("Degrees of freedom", int(f["df"])),
        _line("P-value (Chi-square)", f["pvalue"]) + (f"  {f['pvalue.scaled']:>10.{digits}f}" if robust else ""),
    ]
    if robust:
        out += [
            _line("Scaling correction factor", "") + f"  {f['chisq.scaling.factor']:>10.{digits}f}",
            "    Scaled and shifted (lavaan's scaled.shifted)" if ordinal
            else "    Yuan-Bentler correction (Mplus variant)",
        ]
    out += ["", "Model Test Baseline Model:", "", _line("Test statistic", f["baseline.chisq"]),
            _line("Degrees of freedom", int(f["baseline.df"])), _line("P-value", f["baseline.pvalue"]), "",
            "User Model versus Baseline Model:", "",
            _line("Comparative Fit Index (CFI)", f["cfi"]), _line("Tucker-Lewis Index (TLI)", f["tli"])]
    if not np.isnan(f.get("cfi.robust", np.nan)):
        out += ["", _line("Robust Comparative Fit Index (CFI)", f["cfi.robust"]),
                _line("Robust Tucker-Lewis Index (TLI)", f["tli.robust"])]
    if "logl" in f.index:
        out += ["", "Loglikelihood and Information Criteria:", "",
                _line("Loglikelihood user model (H0)", f["logl"]),
                _line("Loglikelihood unrestricted model (H1)", f["unrestricted.logl"]), "",
                _line("Akaike (AIC)", f["aic"]), _line("Bayesian (BIC)", f["bic"]),
                _line("Sample-size adjusted Bayesian (SABIC)", f["bic2"])]
    out += ["", "Root Mean Square Error of Approximation:", "",
            _line("RMSEA", f["rmsea"]), _line("90 Percent confidence interval - lower", f["rmsea.ci.lower"]),
            _line("90 Percent confidence interval - upper", f["rmsea.ci.upper"]),
            _line("P-value H_0: RMSEA <= 0.050", f["rmsea.pvalue"]),
            _line("P-value H_0: RMSEA >= 0.080", f["rmsea.notclose.pvalue"])]
    if not np.isnan(f.get("rmsea.robust", np.nan)):
        out += ["", _line("Robust RMSEA", f["rmsea.robust"]),
                _line("90 Percent confidence interval - lower", f["rmsea.ci.lower.robust"]),
                _line("90 Percent confidence interval - upper", f["rmsea.ci.upper.robust"])]
    out += ["", "Standardized Root Mean Square Residual:", ""]
    if twolevel:  # lavaan's multilevel layout
        out += [_line("SRMR (within covariance matrix)", f["srmr_within"]),
                _line("SRMR (between covariance matrix)", f["srmr_between"])]
    else:
        out += [_line("SRMR", f["srmr"])]
    out += ["",
            "Parameter Estimates:", "",
            _line("Standard errors", "Robust.sem" if robust and ordinal
                  else "Robust.huber.white" if robust else "Standard"),
            _line("Information", "Observed" if ((robust and not ordinal) or fit._missing == "fiml" or twolevel)
                  else "Expected"), ""]
    p = fit.params_
    sections = [("=~", "Latent Variables:"), ("~", "Regressions:"), ("~~c", "Covariances:"),
                ("~1", "Intercepts:"), ("|", "Thresholds:"), ("~~v", "Variances:"), ("~*~", "Scales y*:")]
    header = f"{'':<20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}{'Std.lv':>9}{'Std.all':>9}"
    if twolevel:
        blocks = [(p["level"] == 1, "Level 1 [within]:"), (p["level"] == 2, f"Level 2 [{fit.cluster}]:")]
    else:
        blocks = [(p["group"] == g, f"Group {g} [{lab}]:" if len(fit.group_labels_) > 1 else None)
                  for g, lab in enumerate(fit.group_labels_, start=1)]
    for sel, title_block in blocks:
        if title_block:
            out += [title_block, ""]
        pg = p[sel]
        for key, title in sections:
            if key == "~~c":
                sub = pg[(pg["op"] == "~~") & (pg["lhs"] != pg["rhs"])]
            elif key == "~~v":
                sub = pg[(pg["op"] == "~~") & (pg["lhs"] == pg["rhs"])]
            else:
                sub = pg[pg["op"] == key]
            if sub.empty:
                continue
            out += [title, header]
            last = None
            # a leading dot marks a residual variance (lavaan): indicators and
            # latent outcomes, not the observed covariates (fixed.x)
            covariates = set(getattr(fit, "covariates_", ()))
            residual = {v for v in fit.observed_ if v not in covariates}
            residual |= set(fit.params_.loc[(fit.params_["op"] == "~") & fit.params_["lhs"].isin(fit.latent_), "lhs"])
            for r in sub.itertuples():
                if key in ("=~", "~", "~~c"):
                    if r.lhs != last:
                        out.append(f"  {r.lhs} {r.op}")
                        last = r.lhs
                    name = f"    {r.rhs}"
                elif key == "|":
                    name = f"    {r.lhs}|{r.rhs}"
                else:
                    name = f"   .{r.lhs}" if key == "~~v" and r.lhs in residual else f"    {r.lhs}"
                if r.label:
                    name = f"{name} ({r.label})"
                free = r.free > 0 or getattr(r, "est_unrotated", None) is not None and r.se > 0  # ESEM rows
                out.append(
                    f"{name:<20}{_fmt(r.est, digits):>9}{_fmt(r.se if free else np.nan, digits):>9}"
                    f"{_fmt(r.z if free else np.nan, digits):>9}{_fmt(r.p_value if free else np.nan, digits):>9}"
                    f"{_fmt(r.std_lv, digits):>9}{_fmt(r.std_all, digits):>9}"
                )
            out.append("")
    defs = p[p["op"] == ":="]
    if not defs.empty:
        out += ["Defined Parameters:", header]
        for r in defs.itertuples():
            name = f"    {r.lhs}"
            out.append(
                f"{name:<20}{_fmt(r.est, digits):>9}{_fmt(r.se, digits):>9}{_fmt(r.z, digits):>9}"
                f"{_fmt(r.p_value, digits):>9}{_fmt(r.std_lv, digits):>9}{_fmt(r.std_all, digits):>9}"
            )
            out.append(f"      {r.lhs} := {r.rhs}")
        out.append("")
    if getattr(fit, "constraints_", None) and not ordinal:
        model = fit._model
        a_mat, b_vec = model.con_a, model.con_b
        slack = np.abs(a_mat @ fit.x_ - b_vec)
        out += ["Constraints:", f"{'':<44}{'|Slack|':>9}"]
        for text, sl in zip(fit.constraints_, slack):
            out.append(f"    {text:<40}{_fmt(float(sl), digits):>9}")
        out.append("")
    ineq = getattr(fit, "inequalities_", [])
    if ineq:
        out += ["Inequality Constraints:", f"{'':<44}{'Slack':>9}  active"]
        for text, sl in zip(ineq, fit._ineq_slack):
            out.append(f"    {text:<40}{_fmt(float(sl), digits):>9}  {'yes' if text in fit.active_inequalities_ else 'no'}")
        out.append("")
    out += [f"Note: {n}" for n in getattr(fit, "notes_", [])]
    keying = getattr(fit, "keying_", None)
    if keying is not None and (keying.source != "none" or keying.declared):
        out.append(f"Note: {keying.note()}")
    out += [f"Warning: {n}" for n in getattr(fit, "keying_notes_", [])]
    out.append("In R: " + _r_call(fit))
    return "\n".join(out)


def _r_call(fit) -> str:
    args = ["model", "data"]
    if fit._estimator != "ML":
        args.append(f'estimator = "{fit._estimator}"')
    if fit._missing == "fiml":
        args.append('missing = "ml"')
    if fit.group is not None:
        args.append(f'group = "{fit.group}"')
    if fit._group_equal:
        args.append("group.equal = c(" + ", ".join(f'"{g}"' for g in fit._group_equal) + ")")
    if fit.group_partial:
        gp = (fit.group_partial,) if isinstance(fit.group_partial, str) else fit.group_partial
        args.append("group.partial = c(" + ", ".join(f'"{g}"' for g in gp) + ")")
    if fit.std_lv:
        args.append("std.lv = TRUE")
    if getattr(fit, "cluster", None) is not None:
        args.append(f'cluster = "{fit.cluster}"')
    return f"lavaan::cfa({', '.join(args)}); summary(fit, fit.measures = TRUE, standardized = TRUE)"


def summary_html(fit) -> str:
    f = fit.fit_measures_
    keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr"]
    if fit._estimator == "MLR":
        keys += ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust"]
    fm = "".join(f"<tr><td>{html.escape(k)}</td><td>{f[k]:.3f}</td></tr>" for k in keys if k in f.index)
    cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "p_value", "std_all"]
    table = fit.params_[cols].to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
    n = ", ".join(f"{k}: {v}" for k, v in fit.n_obs_.items())
    return (
        f"<div><strong>CFA ({html.escape(fit._estimator)}, n = {html.escape(n)})</strong>"
        f"<table>{fm}</table>{table}<br><small>In R: {html.escape(_r_call(fit))}</small></div>"
    )
