# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (custval)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Does custval give the same numbers as psych and lavaan? (bfi and Holzinger–Swineford)
#
# custval's claim is that a researcher gets the numbers of R's psych, lavaan and semTools.
# This notebook checks that claim on the two data sets those packages use in their own
# documentation: the 25 Big Five items `bfi` (psych; 2,800 respondents, with missing
# answers) and the nine ability tests of Holzinger & Swineford (1939) (lavaan's tutorial
# model, 301 pupils).
#
# **Where the R numbers come from.** They are *not* computed here: R is not needed to run
# custval. The R side is the committed golden JSON files in `tests/golden/`, written by the
# scripts `tests/r/*.R` (R 4.2, psych 2.2.9, GPArotation 2022.10-2, lavaan 0.6-14) with full
# precision (`jsonlite::write_json(digits = NA)`). The same files drive custval's test suite;
# this notebook shows them side by side and lists the largest differences.
#
# What counts as agreement: closed-form statistics (alpha, item statistics, KMO, eigenvalues)
# should agree to rounding error (about 1e-10); iteratively fitted models (EFA, CFA) to the
# optimizers' convergence tolerance (about 1e-5 or better).

# %% tags=["parameters"]
# Parameters: change them here and re-run the notebook.
SEED = 0  # seed of parallel analysis (its random part cannot match R's generator)
N_ITER_PA = 20  # psych::fa.parallel's default n.iter
CLOSED_FORM_TOL = 1e-8  # "same number" for closed-form statistics
ITERATIVE_TOL = 1e-4  # "same number" for iteratively fitted models

# %%
import json
import warnings
from importlib.metadata import version
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pingouin
from factor_analyzer import FactorAnalyzer
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
from factor_analyzer.rotator import Rotator
from IPython.display import Markdown, display

import custval
from custval import plots
from custval.report import difference_bound, format_difference, one_line_warnings, show_figure

PROJECT_ROOT = Path("..").resolve()  # the checkout: notebooks run from notebooks/; R goldens are in tests/golden
one_line_warnings()
GOLDEN = PROJECT_ROOT / "tests" / "golden"


def golden(area, name):
    """One committed golden file: tests/golden/<area>/<name>.json (written by tests/r/<area>.R)."""
    return json.loads((GOLDEN / area / f"{name}.json").read_text(encoding="utf-8"))


def beside(area, statistic, custval_values, r_values, r_call, kind):
    """custval and R values of one statistic in a long frame, aligned by label."""
    c = pd.Series(custval_values, dtype=float)
    r = pd.Series(r_values, dtype=float).reindex(c.index)
    return pd.DataFrame({"area": area, "statistic": statistic, "label": c.index.astype(str),
                         "custval": c.to_numpy(), "R": r.to_numpy(), "R call": r_call, "kind": kind})


def matrix(m):
    """A golden matrix {rows, cols, values} as a labelled DataFrame."""
    return pd.DataFrame(m["values"], index=m["rows"], columns=m["cols"])


def fmt_diff(x, floor=1e-9):
    """A difference for display, as its order of magnitude: below `floor` it is rounding noise whose
    digits vary between machines (custval.report.format_difference)."""
    return format_difference(x, floor=floor)


comparisons = []

# %% [markdown]
# ## 1. bfi: reliability and item statistics (psych::alpha, psych::omega)
#
# The bfi codebook declares the seven reverse-worded items (A1, C4, C5, E1, E2, O2, O5), the
# same keys the R script applies. Missing answers: each scale uses the respondents complete on
# its five items (`psych::alpha(na.omit(x))`), so n differs by scale.

# %%
bfi = custval.load_dataset("bfi")
bfi_df, bfi_inst = bfi.data, bfi.instrument
g_rel = golden("reliability", "bfi")
print("reverse items, codebook:", sorted(bfi_inst.reverse_items), "| R script:", sorted(g_rel["reverse"]))
rel = custval.scale_reliability(bfi_df, bfi_inst, nan_policy="listwise", ci_method=None)
scales = list(bfi_inst.constructs)
for col, key, call in [("alpha", "alpha", "psych::alpha()$total$raw_alpha"),
                       ("std_alpha", "std_alpha", "psych::alpha()$total$std.alpha"),
                       ("lambda6", "G6", "psych::alpha()$total$G6(smc)"),
                       ("average_r", "average_r", "psych::alpha()$total$average_r")]:
    comparisons.append(beside("bfi reliability", col, rel[col],
                              {s: g_rel["listwise"][s][key] for s in scales}, call, "closed form"))
comparisons.append(beside("bfi reliability", "omega_total", rel["omega_total"],
                          {s: g_rel["omega1_listwise"][s]["omega_total"] for s in scales},
                          "psych::omega(nfactors = 1)$omega.tot", "iterative"))
rel[["n", "alpha", "std_alpha", "lambda6", "average_r", "omega_total"]].round(4)

# %%
ia = custval.item_analysis(bfi_df, bfi_inst, nan_policy="listwise")
for col, key, call in [("mean", "item_mean", "psych::describe()$mean"),
                       ("sd", "item_sd", "psych::describe()$sd"),
                       ("skew", "item_skew", "psych::describe()$skew"),
                       ("kurtosis", "item_kurtosis", "psych::describe()$kurtosis"),
                       ("raw_r", "raw_r", "psych::alpha()$item.stats$raw.r"),
                       ("r_cor", "r_cor", "psych::alpha()$item.stats$r.cor"),
                       ("r_drop", "r_drop", "psych::alpha()$item.stats$r.drop"),
                       ("alpha_if_deleted", "alpha_drop", "psych::alpha()$alpha.drop$raw_alpha")]:
    r_vals = {i: v for s in scales for i, v in g_rel["listwise"][s][key].items()}
    comparisons.append(beside("bfi items", col, ia[col], r_vals, call, "closed form"))
ia[["construct", "n", "mean", "sd", "r_drop", "alpha_if_deleted"]].head(5).round(4)

# %% [markdown]
# ## 2. bfi: factorability, number of factors and EFA (psych, GPArotation)
#
# On the 2,436 complete cases (`na.omit`), as the R script: KMO, Bartlett's test, the
# correlation-matrix eigenvalues, Velicer's MAP and the observed eigenvalues of parallel
# analysis. The *random* part of parallel analysis (simulated eigenvalues) uses numpy's
# generator, not R's, so only the observed eigenvalues and the suggested numbers can be
# compared. Then the five-factor minres EFA with oblimin rotation (psych's defaults).

# %%
items = list(bfi_inst.items)
bfi_cc = bfi_df[items].dropna()
g_basic = golden("dimensionality", "basic")["bfi_complete"]
g_pa = golden("dimensionality", "parallel")["bfi_complete"]
k = custval.kmo(bfi_cc)
b = custval.bartlett(bfi_cc)
mp = custval.velicer_map(bfi_cc)
pa = custval.parallel_analysis(bfi_cc, n_iter=N_ITER_PA, seed=SEED, progress=False)
positions = [str(i) for i in range(1, len(items) + 1)]
comparisons += [
    beside("bfi factorability", "KMO overall", {"overall": k.estimate}, {"overall": g_basic["msa"]},
           "psych::KMO()$MSA", "closed form"),
    beside("bfi factorability", "KMO per item", k.msa, g_basic["msai"], "psych::KMO()$MSAi", "closed form"),
    beside("bfi factorability", "Bartlett chi2", {"chisq": b.chisq}, {"chisq": g_basic["chisq"]},
           "psych::cortest.bartlett()", "closed form"),
    beside("bfi factorability", "eigenvalues", dict(zip(positions, pa.eigenvalues["pc_observed"])),
           dict(zip(positions, g_pa["pc_values"])), "psych::fa.parallel()$pc.values", "closed form"),
    beside("bfi factorability", "MAP", dict(zip(map(str, mp.map.index), mp.map)),
           dict(zip(map(str, range(1, len(g_basic["map"]) + 1)), g_basic["map"])),
           "psych::vss()$map", "closed form"),
    beside("bfi factorability", "FA eigenvalues (1-factor minres)",
           dict(zip(positions, pa.eigenvalues["fa_observed"])), dict(zip(positions, g_pa["fa_values"])),
           "psych::fa.parallel()$fa.values", "iterative"),
]
print(f"parallel analysis suggests {pa.n_factors} factors / {pa.n_components} components "
      f"(psych, its own random draws: {g_pa['nfact']} / {g_pa['ncomp']})")

# %%
g_efa = golden("dimensionality", "efa")["bfi_complete/minres/oblimin"]
efa = custval.EFA(5, method="minres", rotation="oblimin").fit(bfi_cc)
r_load = matrix(g_efa["loadings"])
print("factor order, custval:", list(efa.loadings_.columns), "| psych:", list(r_load.columns))
c_load = efa.loadings_[r_load.columns].stack()
comparisons += [
    beside("bfi EFA", "loadings", dict(zip(map(str, c_load.index), c_load)),
           dict(zip(map(str, r_load.stack().index), r_load.stack())),
           'psych::fa(nfactors = 5, fm = "minres", rotate = "oblimin")$loadings', "iterative"),
    beside("bfi EFA", "factor correlations", efa.phi_.loc[r_load.columns, r_load.columns].stack().set_axis(
        [str(i) for i in matrix(g_efa["phi"]).stack().index]), dict(zip(
            map(str, matrix(g_efa["phi"]).stack().index), matrix(g_efa["phi"]).stack())),
           "psych::fa()$Phi", "iterative"),
    beside("bfi EFA", "communalities", efa.communalities_, g_efa["communality"], "psych::fa()$communality",
           "iterative"),
    beside("bfi EFA", "fit", {"rms": efa.fit_["rmsr"], "tli": efa.fit_["tli"], "chisq": efa.fit_["chisq"]},
           {"rms": g_efa["rms"], "tli": g_efa["tli"], "chisq": g_efa["chisq"]}, "psych::fa()$rms, $TLI, $chi",
           "iterative"),
]
ax = plots.loadings_heatmap(efa.loadings_, blank_below=0.3, title="bfi: five-factor EFA (minres, oblimin)")
plots.save_figure(ax, "05-bfi-efa-loadings")
display(ax.figure)
plt.close(ax.figure)

# %% [markdown]
# ## 3. Holzinger & Swineford: the lavaan tutorial CFA (ML and MLR)
#
# The three-factor model `visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9`
# with ML (expected information) and MLR (Huber–White standard errors, Yuan–Bentler scaled
# test). Parameters are matched by `lhs op rhs`.

# %%
hs = custval.load_dataset("holzinger_swineford1939").data
g_hs = golden("cfa", "hs39")


def cfa_rows(area, fit, g, fit_keys):
    pe = pd.DataFrame(g["pe"])
    key = lambda d: d["lhs"] + " " + d["op"] + " " + d["rhs"]  # noqa: E731
    pe.index = key(pe)
    est = fit.params_.set_index(key(fit.params_))
    out = [beside(area, "estimates", est["est"], pe["est"], "lavaan::parameterEstimates()$est", "iterative"),
           beside(area, "standard errors", est["se"], pe["se"], "lavaan::parameterEstimates()$se", "iterative"),
           beside(area, "standardized (std.all)", est["std_all"], pe["std.all"],
                  "lavaan::standardizedSolution()$est.std", "iterative"),
           beside(area, "fit measures", fit.fit_measures_[fit_keys], {k: g["fit"][k] for k in fit_keys},
                  "lavaan::fitMeasures()", "iterative")]
    return out


hs_ml = custval.CFA(g_hs["ml"]["model"], estimator="ML").fit(hs)
hs_mlr = custval.CFA(g_hs["mlr"]["model"], estimator="MLR").fit(hs)
ml_keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr",
           "aic", "bic", "logl"]
mlr_keys = ml_keys + ["chisq.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust", "rmsea.robust"]
comparisons += cfa_rows("HS39 CFA (ML)", hs_ml, g_hs["ml"], ml_keys)
comparisons += cfa_rows("HS39 CFA (MLR)", hs_mlr, g_hs["mlr"], mlr_keys)
hs_ml.fit_measures_[["chisq", "df", "cfi", "tli", "rmsea", "srmr"]].round(3)

# %% [markdown]
# Reliability and discriminant validity from the same fit, beside semTools (`compRelSEM`,
# `AVE` with `obs.var = TRUE` and `FALSE`, and `htmt`, arithmetic and geometric-mean
# versions; golden files `tests/golden/validity/reliability.json` and `htmt.json`).

# %%
g_val = golden("validity", "reliability")["hs39"]
g_ht = golden("validity", "htmt")["hs39"]
cr_hs = custval.composite_reliability(hs_ml, conventions=("semtools_observed", "semtools_implied")).wide()
ave_hs = custval.ave(hs_ml, conventions=("semtools_observed", "semtools_implied")).wide()
for conv, key in [("semtools_observed", "obs"), ("semtools_implied", "implied")]:
    flag = "TRUE" if key == "obs" else "FALSE"
    comparisons += [
        beside("HS39 validity", f"CR ({conv})", cr_hs[conv], g_val[f"cr_{key}"],
               f"semTools::compRelSEM(fit, obs.var = {flag})", "iterative"),
        beside("HS39 validity", f"AVE ({conv})", ave_hs[conv], g_val[f"ave_{key}"],
               f"semTools::AVE(fit, obs.var = {flag})", "iterative"),
    ]
for kind in ("htmt", "htmt2"):
    h = custval.htmt(hs, g_ht["model"], kind=kind, n_boot=0).matrix
    r = pd.DataFrame(g_ht[kind]["values"], index=g_ht[kind]["names"], columns=g_ht[kind]["names"])
    upper = [(a, b) for i, a in enumerate(h.index) for b in h.index[i + 1:]]
    comparisons.append(beside("HS39 validity", kind.upper(), {f"{a}-{b}": h.at[a, b] for a, b in upper},
                              {f"{a}-{b}": r.at[a, b] for a, b in upper},
                              f"semTools::htmt(htmt2 = {kind == 'htmt2'!s})".replace("True", "TRUE").replace(
                                  "False", "FALSE"), "closed form"))
cr_hs.round(4)

# %% [markdown]
# ## 4. bfi: five-factor CFA with full-information ML (missing answers)
#
# lavaan's `missing = "ml"` uses every respondent's observed answers; custval's
# `missing="fiml"` is the same estimator. All 2,800 respondents enter.

# %%
g_fiml = golden("cfa", "bfi_fiml")
bfi_fiml = custval.CFA(g_fiml["ml"]["model"], missing="fiml").fit(bfi_df)
comparisons += cfa_rows("bfi CFA (FIML)", bfi_fiml, g_fiml["ml"],
                        ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "unrestricted.logl"])
print(f"n used: {int(bfi_fiml.fit_measures_['ntotal'])} (lavaan: {g_fiml['n_rows']})")
print(f"lavaan stopped with optimizer {g_fiml['ml']['optimizer']} at a largest absolute gradient of "
      f"{g_fiml['ml']['max_abs_gradient']:.1e}")

# %% [markdown]
# ## 5. The Python peers on the same numbers: pingouin and factor_analyzer
#
# Two Python packages compute some of these statistics: pingouin (Cronbach's alpha) and
# factor_analyzer (KMO, Bartlett's test, minres extraction and oblimin rotation). Each is run
# on the same data and compared with the same R golden values as custval. factor_analyzer
# 0.5.1's `FactorAnalyzer.fit` fails with scikit-learn >= 1.6 (a removed keyword), so its
# extraction (`_fit_factor_analysis` on the correlation matrix) and its `Rotator` are called
# directly; its factors come in its own order and signs, matched to psych's by correlation.

# %%
bfi_keyed = bfi_inst.keyed(bfi_df)
peers = []


def peer_row(statistic, peer, peer_values, custval_values, r_values, r_call):
    """Largest |peer - R| and |custval - R| over one statistic's values."""
    p, c, r = (np.asarray(v, dtype=float) for v in (peer_values, custval_values, r_values))
    return {"statistic": statistic, "peer": peer, "n": r.size, "peer vs R": np.abs(p - r).max(),
            "custval vs R": np.abs(c - r).max(), "R call": r_call}


pg_alpha = [pingouin.cronbach_alpha(data=bfi_keyed[list(its)], nan_policy="listwise")[0]
            for its in bfi_inst.constructs.values()]
peers.append(peer_row("Cronbach's alpha (5 scales)", f"pingouin {version('pingouin')}", pg_alpha,
                      rel["alpha"][scales], [g_rel["listwise"][s]["alpha"] for s in scales],
                      "psych::alpha()$total$raw_alpha"))
fa_kmo_items, fa_kmo = calculate_kmo(bfi_cc)
fa_version = f"factor_analyzer {version('factor_analyzer')}"
peers.append(peer_row("KMO overall", fa_version, [fa_kmo], [k.estimate], [g_basic["msa"]], "psych::KMO()$MSA"))
peers.append(peer_row("KMO per item", fa_version, fa_kmo_items, k.msa[items], pd.Series(g_basic["msai"])[items],
                      "psych::KMO()$MSAi"))
peers.append(peer_row("Bartlett chi2", fa_version, [calculate_bartlett_sphericity(bfi_cc)[0]], [b.chisq],
                      [g_basic["chisq"]], "psych::cortest.bartlett()"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # factor_analyzer's own optimiser messages
    fa_unrotated = FactorAnalyzer(n_factors=5, rotation=None, method="minres",
                                  is_corr_matrix=True)._fit_factor_analysis(bfi_cc.corr().to_numpy().copy())
fa_rotated = pd.DataFrame(Rotator(method="oblimin").fit_transform(fa_unrotated), index=items)
matched = {}
for col in r_load.columns:  # each psych factor: factor_analyzer's most correlated factor, sign aligned
    cors = [np.corrcoef(r_load[col], fa_rotated[j])[0, 1] for j in fa_rotated.columns]
    j = int(np.argmax(np.abs(cors)))
    matched[col] = fa_rotated[j] * np.sign(cors[j])
fa_load = pd.DataFrame(matched)
peers.append(peer_row("EFA communalities (minres)", fa_version, (fa_unrotated**2).sum(axis=1),
                      efa.communalities_[items], pd.Series(g_efa["communality"])[items], "psych::fa()$communality"))
peers.append(peer_row("EFA loadings (minres, oblimin)", fa_version, fa_load.loc[items].to_numpy().ravel(),
                      efa.loadings_.loc[items, r_load.columns].to_numpy().ravel(),
                      r_load.loc[items].to_numpy().ravel(), 'psych::fa(5, fm = "minres", rotate = "oblimin")'))
peer_table = pd.DataFrame(peers)
peer_table.assign(**{c: peer_table[c].map(fmt_diff) for c in ("peer vs R", "custval vs R")})

# %% [markdown]
# pingouin's alpha is psych's formula; both agree with R to rounding. factor_analyzer's KMO and
# Bartlett's test are closed forms and agree too. Its minres extraction stops earlier than
# psych's (scipy's L-BFGS-B at its default tolerances), so its communalities and rotated
# loadings differ from psych's in the sixth decimal, where custval's agree to rounding.

# %% [markdown]
# ## 6. All comparisons with R: the largest differences
#
# One row per compared number. `abs_diff` is |custval − R|; `rel_diff` divides by |R|
# (useful for chi-squares and information criteria in the thousands).

# %%
allc = pd.concat(comparisons, ignore_index=True)
allc["abs_diff"] = (allc["custval"] - allc["R"]).abs()
allc["rel_diff"] = allc["abs_diff"] / allc["R"].abs().where(allc["R"].abs() > 1, 1.0)
n_missing = int(allc["R"].isna().sum() + allc["custval"].isna().sum())
summary = allc.groupby(["area", "statistic"], sort=False).agg(
    n=("abs_diff", "size"), max_abs_diff=("abs_diff", "max"), max_rel_diff=("rel_diff", "max"),
    kind=("kind", "first"))
summary.assign(max_abs_diff=summary["max_abs_diff"].map(fmt_diff),
               max_rel_diff=summary["max_rel_diff"].map(fmt_diff))

# %%
# ranked by order of magnitude (a stable sort keeps the order of the sections within one decade),
# so the table is the same on every machine
allc["rel_bound"] = allc["rel_diff"].map(lambda d: difference_bound(d, floor=1e-9))
top = allc.sort_values("rel_bound", ascending=False, kind="stable").head(10)
top.assign(custval=top["custval"].map("{:.8g}".format), R=top["R"].map("{:.8g}".format),
           abs_diff=top["abs_diff"].map(fmt_diff), rel_diff=top["rel_diff"].map(fmt_diff))[
    ["area", "statistic", "label", "custval", "R", "abs_diff", "rel_diff", "R call"]]

# %%
fig, ax = plt.subplots(figsize=(7, 0.32 * len(summary) + 1))
labels = [f"{a}: {s}" for a, s in summary.index]
vals = np.log10(summary["max_rel_diff"].clip(lower=1e-16))
colors = ["#0072B2" if k == "closed form" else "#D55E00" for k in summary["kind"]]
ax.barh(labels, vals + 16, left=-16, color=colors)
ax.axvline(np.log10(CLOSED_FORM_TOL), color="#0072B2", ls=":", lw=1)
ax.axvline(np.log10(ITERATIVE_TOL), color="#D55E00", ls=":", lw=1)
ax.invert_yaxis()
ax.set_xlim(-16, 0)
ax.set_xlabel("log10 of the largest relative difference, custval vs R (dotted: tolerances)")
ax.set_title("custval beside psych and lavaan (blue: closed form, orange: iterative)", loc="left")
plots.save_figure(fig, "05-method-validation-differences")
display(fig)
plt.close(fig)

# %% [markdown]
# ## Findings

# %%
closed = allc[allc["kind"] == "closed form"]
iterative = allc[allc["kind"] == "iterative"]
worst = top.iloc[0]
display(Markdown(
    f"- **{len(allc)} numbers** from the committed R golden files (psych 2.2.9, GPArotation, lavaan "
    f"0.6-14, semTools) were compared with custval; {n_missing} had no counterpart.\n"
    f"- **Closed-form statistics** ({len(closed)} numbers: alpha, item statistics, KMO, Bartlett, "
    f"eigenvalues, MAP, HTMT): largest relative difference {fmt_diff(closed['rel_diff'].max())}; "
    f"{'all within' if (closed['rel_diff'] <= CLOSED_FORM_TOL).all() else 'NOT all within'} {CLOSED_FORM_TOL:g}.\n"
    f"- **Iterative fits** ({len(iterative)} numbers: omega, EFA loadings, CFA estimates, standard errors, "
    f"fit measures, CR, AVE): largest relative difference {fmt_diff(iterative['rel_diff'].max())}; "
    f"{'all within' if (iterative['rel_diff'] <= ITERATIVE_TOL).all() else 'NOT all within'} {ITERATIVE_TOL:g}.\n"
    f"- **The largest differences overall** are {fmt_diff(worst['rel_diff'])} (relative); the first of them is "
    f"{worst['statistic']} `{worst['label']}` in {worst['area']}: "
    f"custval {worst['custval']:.8g} vs R {worst['R']:.8g} ({worst['R call']}).\n"
    f"- **CFA**: the R script runs lavaan past its default stopping point (largest gradient "
    f"{g_hs['ml']['max_abs_gradient']:.0e} for Holzinger–Swineford; {g_fiml['ml']['max_abs_gradient']:.0e} for bfi "
    f"under FIML, where lavaan's BFGS restart stalls); the CFA numbers agree to "
    f"{fmt_diff(allc[allc['area'].str.contains('CFA')]['rel_diff'].max())} (relative), so custval and lavaan "
    f"compute the same estimator.\n"
    f"- Parallel analysis suggests {pa.n_factors} factors / {pa.n_components} components for bfi "
    f"(psych: {g_pa['nfact']} / {g_pa['ncomp']}); its simulated eigenvalues come from a different random "
    f"generator and are compared only in distribution.\n"
    f"- **Python peers**: pingouin's alpha and factor_analyzer's KMO and Bartlett's test agree with psych to "
    f"{fmt_diff(peer_table.loc[peer_table['statistic'] != 'EFA loadings (minres, oblimin)', 'peer vs R'].iloc[:4].max())}; "
    f"factor_analyzer's minres loadings differ from psych's by "
    f"{fmt_diff(peer_table.set_index('statistic').loc['EFA loadings (minres, oblimin)', 'peer vs R'])}, "
    f"custval's by {fmt_diff(peer_table.set_index('statistic').loc['EFA loadings (minres, oblimin)', 'custval vs R'])}."
))

# %% [markdown]
# **References.**
# Holzinger, K. J., & Swineford, F. (1939). *A study in factor analysis: The stability of a
# bi-factor solution*. University of Chicago.
# Revelle, W. (2024). *psych: Procedures for psychological, psychometric, and personality
# research* (R package).
# Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
# Statistical Software, 48*(2), 1–36.
