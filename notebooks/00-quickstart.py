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
# # Quickstart: how reliable are the corporate-reputation scales, and does their measurement model fit?
#
# From a raw survey export and a codebook to a reliability table and a confirmatory factor
# analysis (CFA) in about ten cells. The data are the corporate-reputation customer survey of
# Hair, Hult, Ringle & Sarstedt (2017): 344 customers of four German mobile-phone providers.
# The codebook `corp_rep` (shipped with custval) declares the reflective constructs
# competence (COMP), likeability (LIKE), satisfaction (CUSA, one item) and loyalty (CUSL), their
# items, the 1–7 scale and the missing-value code `-99`.
#
# Every number below is computed by the cells; nothing is typed by hand.

# %% tags=["parameters"]
# Parameters (papermill-style): change them here and re-run the notebook.
INSTRUMENT = "corp_rep"  # a shipped codebook name or the path of your own YAML codebook
N_BOOT = 1000  # bootstrap resamples for the alpha / omega intervals
SEED = 0  # seed of every random procedure
ESTIMATOR = "MLR"  # robust ML: the items are 7-point ratings, not multivariate normal

# %%
import warnings

from IPython.display import HTML, Markdown, display

import custval
from custval.report import one_line_warnings, show_figure
from custval import tables



one_line_warnings()

# %% [markdown]
# ## 1. The codebook
#
# The codebook is the single source of truth for item ids, constructs, the answer scale,
# reverse keys and missing-value codes. Load it first so that every later step uses it.

# %%
instrument = custval.load_instrument(INSTRUMENT)
print(instrument.summary())

# %% [markdown]
# ## 2. The raw export
#
# `read_survey` reads the file as exported (here the CSV shipped with custval, whose location
# `load_dataset(...).path` gives, never the working directory; put your own file's path
# instead), checks every item
# against the codebook's scale and turns the declared missing code `-99` into a missing
# value. Nothing is imputed or dropped silently: the ingest log in `attrs["custval"]` counts
# what was recoded.

# %%
raw_path = custval.load_dataset(INSTRUMENT, with_instrument=False).path
survey = custval.read_survey(raw_path, instrument)
ingest = survey.attrs["custval"]
recoded = next(r for r in ingest["rules"] if r["rule"] == "declared_missing_code")
print(f"rows read: {ingest['rows_read']}, rows returned: {ingest['rows_returned']}")
print(f"answers recoded to missing (codes {recoded['codes']}): {recoded['columns']}")

# %% [markdown]
# ## 3. Reliability
#
# Cronbach's alpha and McDonald's omega (one-factor, as `psych::omega`) per construct, with
# percentile-bootstrap 95% intervals from the same seeded resamples. Each construct uses the
# respondents complete on its own items (listwise per construct), so `n` differs slightly.
# Satisfaction is measured by a single item, so its internal consistency is undefined: custval
# says so in a warning and in the `note` column rather than printing a number.

# %%
rel = custval.scale_reliability(survey, instrument, n_boot=N_BOOT, seed=SEED, progress=False)
rel[["n", "n_items", "alpha", "alpha_ci_low", "alpha_ci_high", "omega_total", "note"]].round(3)

# %% [markdown]
# ## 4. The CFA
#
# The measurement model comes from the codebook (`instrument.model_syntax()`, lavaan syntax).
# Two decisions a careful researcher makes here:
#
# * **The single-item construct.** CUSA has one indicator, so its residual variance is not
#   identified; it is fixed to 0 (`cusa ~~ 0*cusa`), i.e. the item is treated as error-free.
#   lavaan's `cfa()` and custval do this automatically (lavaan's `auto.fix.single`); we write
#   it out so that the decision is visible in the model.
# * **The estimator.** Seven-point ratings are skewed, so we use MLR (robust standard errors and
#   the Yuan–Bentler scaled chi-square), and FIML so that the eight respondents with a missing
#   loyalty or satisfaction answer keep their other answers in the analysis. We report the
#   *robust* CFI/TLI/RMSEA (Brosseau-Liard & Savalei, 2014; under FIML as lavaan computes them),
#   which estimate the population indices; the merely *scaled* versions do not.

# %%
model = instrument.model_syntax() + "\ncusa ~~ 0*cusa"
print(model)
cfa = custval.CFA(model, estimator=ESTIMATOR, missing="fiml").fit(survey)
fit = cfa.fit_measures_
fit[["chisq.scaled", "df", "pvalue.scaled", "chisq.scaling.factor", "cfi.robust", "tli.robust",
     "rmsea.robust", "srmr"]].round(3)

# %% [markdown]
# ## 5. APA tables
#
# Composite reliability (CR) and average variance extracted (AVE) come from the fitted CFA
# (semTools' `compRelSEM` / `AVE` convention, observed variances); they join the alpha/omega
# table (`scale_reliability(..., cfa=cfa)`). The APA tables render as HTML here and also export to
# Markdown, LaTeX or Word.

# %%
rel_cfa = custval.scale_reliability(survey, instrument, n_boot=N_BOOT, seed=SEED, progress=False, cfa=cfa)
cr_ave = rel_cfa[["composite_reliability", "ave"]].dropna()
table = tables.reliability_table(
    rel_cfa, columns=["n_items", "n", "alpha", "omega_total", "composite_reliability", "ave"],
    construct_labels={c: instrument.construct(c).label["en"] for c in instrument.constructs},
)
HTML(table.to_html())

# %%
loadings = cfa.params_[cfa.params_["op"] == "=~"]
HTML(tables.loadings_table(loadings, cr=cr_ave["composite_reliability"], ave=cr_ave["ave"]).to_html())

# %% [markdown]
# ## Findings

# %%
multi = rel.dropna(subset=["alpha"])
std = loadings.set_index("rhs")["std_all"].drop("cusa")
p_text = tables.format_p(fit["pvalue.scaled"])
p_text = p_text if p_text.startswith("<") else f"= {p_text}"
display(Markdown(
    f"- Of {len(instrument.constructs)} constructs, {len(multi)} have several items; their alpha ranges "
    f"from {multi['alpha'].min():.2f} ({multi['alpha'].idxmin()}) to {multi['alpha'].max():.2f} "
    f"({multi['alpha'].idxmax()}) and omega from {multi['omega_total'].min():.2f} to "
    f"{multi['omega_total'].max():.2f}; every lower 95% bound of alpha is "
    f"{'above' if (multi['alpha_ci_low'] > 0.70).all() else 'not above'} .70.\n"
    f"- {recoded['n']} answers coded {recoded['codes'][0]:g} were read as missing; the CFA used "
    f"all {int(fit['ntotal'])} respondents (FIML).\n"
    f"- The four-factor model fits {'acceptably' if fit['cfi.robust'] >= 0.95 and fit['srmr'] <= 0.08 else 'poorly'} "
    f"by the Hu & Bentler (1999) rules (CFI ≥ .95, SRMR ≤ .08): scaled χ²({int(fit['df'])}) = "
    f"{fit['chisq.scaled']:.1f}, p {p_text}, robust CFI = {fit['cfi.robust']:.3f}, "
    f"robust RMSEA = {fit['rmsea.robust']:.3f}, SRMR = {fit['srmr']:.3f}.\n"
    f"- Standardized loadings range from {std.min():.2f} ({std.idxmin()}) to {std.max():.2f} "
    f"({std.idxmax()}); CR is {cr_ave['composite_reliability'].min():.2f}–"
    f"{cr_ave['composite_reliability'].max():.2f} and AVE {cr_ave['ave'].min():.2f}–"
    f"{cr_ave['ave'].max():.2f} (thresholds .70 and .50; Hair et al., 2017)."
))

# %% [markdown]
# **References.** Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2017). *A primer
# on partial least squares structural equation modeling (PLS-SEM)* (2nd ed.). Sage.
# Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
# analysis. *Structural Equation Modeling, 6*(1), 1–55.
# McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
#
# Next: `01-mobi-ecsi` walks through item analysis, EFA, CFA and discriminant validity in depth.
