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
# # Do prepaid and contract customers form their loyalty the same way? (corporate reputation, PLS-SEM groups)
#
# The corporate-reputation survey (`corp_rep`; Hair, Hult, Ringle & Sarstedt, 2017) has 125
# prepaid and 219 contract customers (`servicetype`). The PLS-SEM reading of "does reputation
# drive loyalty differently for the two plans?" has three steps:
#
# 1. **MICOM** (Henseler, Ringle & Sarstedt, 2016): are the composites the same in both groups
#    (compositional invariance), and do their means and variances differ?
# 2. **Multigroup analysis** of the paths: permutation (Chin & Dibbern, 2010), Henseler's
#    bootstrap PLS-MGA and the Welch-Satterthwaite test.
# 3. **PLSpredict** (Shmueli et al., 2019) and **CVPAT** (Liengaard et al., 2021): does the model
#    predict loyalty out of sample better than naive and linear benchmarks?
#
# `tests/test_pls_groups.py` checks these functions against seminr's and cSEM's own code on the
# same permutations, resamples and folds (`tests/r/pls_groups.R`, `tests/r/pls_groups_csem.R`).

# %% tags=["parameters"]
# Parameters: change them here and re-run the notebook.
INSTRUMENT = "corp_rep"
GROUP = "servicetype"  # 1 = prepaid, 2 = contract
PERMUTATIONS = 1000
N_BOOT = 1000
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import custval
from custval.exceptions import MissingDataWarning
from custval.pls import PLS, mga, micom, plspredict
from custval.report import expected_warnings, one_line_warnings, show_figure

one_line_warnings()
pd.set_option("display.precision", 3)

# %% [markdown]
# ## 1. Data and model
#
# The export codes unanswered questions `-99`; `read_survey` turns the codebook's missing codes
# into missing values. PLS needs complete rows: `missing="listwise"` drops the respondents with
# a missing loyalty or satisfaction answer and says how many (Hair et al. and seminr would
# replace them by item means; custval does not impute unless asked, `missing="mean"`).

# %%
inst = custval.load_instrument(INSTRUMENT)
survey = custval.read_survey(custval.load_dataset(INSTRUMENT, with_instrument=False).path, inst)
survey["plan"] = survey[GROUP].map({1: "prepaid", 2: "contract"})
MODEL = """
COMP =~ comp_1 + comp_2 + comp_3
LIKE =~ like_1 + like_2 + like_3
CUSA =~ cusa
CUSL =~ cusl_1 + cusl_2 + cusl_3
CUSA ~ COMP + LIKE
CUSL ~ COMP + LIKE + CUSA
"""
model = PLS(MODEL, missing="listwise")
with expected_warnings(MissingDataWarning):
    pooled = PLS(MODEL, missing="listwise").fit(survey)
print(f"rows: {len(survey)} in = {pooled.n_} used + {pooled.n_excluded_} excluded (a missing item answer)")
print(survey.loc[pooled.scores_.index, "plan"].value_counts().to_string())

# %% [markdown]
# ## 2. MICOM: are the composites the same for both plans?
#
# Step 1 (configural) holds by design: same items, same model, same algorithm settings in both
# groups. Step 2 correlates the composites built on the pooled data with each group's weights
# (`c`); compositional invariance holds when `c` is not below the 5% quantile of its permutation
# distribution. Step 3 compares the composite means and (log) variances with permutation
# intervals. Verdict: *full* invariance allows comparing pooled composite scores; *partial*
# still allows the multigroup comparison of paths.

# %%
with expected_warnings(MissingDataWarning):
    mic = micom(survey, model, group="plan", permutations=PERMUTATIONS, seed=SEED)
print(mic.summary())

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
comp = mic.compositional.droplevel([0, 1])
y = np.arange(len(comp))
axes[0].scatter(comp["c"], y, color="black", zorder=3, label="c")
axes[0].scatter(comp["c_quantile"], y, marker="|", s=200, color="tab:red", label="5% quantile")
axes[0].set_yticks(y, comp.index)
axes[0].set_xlabel("c (step 2)")
axes[0].legend(loc="lower left", fontsize=8)
means = mic.means.droplevel([0, 1])
axes[1].errorbar(means["estimate"], y, xerr=None, fmt="o", color="black", label="difference")
axes[1].hlines(y, means["ci_low"], means["ci_high"], color="tab:blue", label="95% permutation interval")
axes[1].axvline(0, color="grey", lw=0.5)
axes[1].set_yticks(y, [])
axes[1].set_xlabel(f"composite mean, {mic.groups[0]} - {mic.groups[1]} (step 3)")
axes[1].legend(loc="lower left", fontsize=8)
fig.tight_layout()
show_figure(fig, "09-pls-groups-micom")

# %% [markdown]
# ## 3. Multigroup analysis of the paths
#
# Every path is estimated in each group; the difference (`contract - prepaid`) is tested three
# ways. The permutation test needs no distributional assumption; Henseler's PLS-MGA compares
# the groups' bootstrap distributions (seminr's `estimate_pls_mga`); the Welch test uses the
# bootstrap standard errors in a t statistic (SmartPLS). p values are not adjusted for the
# five paths.

# %%
with expected_warnings(MissingDataWarning):
    tests = {
        "permutation": mga(survey, model, group="plan", permutations=PERMUTATIONS, seed=SEED),
        "henseler": mga(survey, model, group="plan", method="henseler", n_boot=N_BOOT, seed=SEED),
        "welch": mga(survey, model, group="plan", method="welch", n_boot=N_BOOT, seed=SEED),
    }
perm = tests["permutation"].paths
table = perm[["estimate_1", "estimate_2", "estimate"]].droplevel([0, 1]).rename(
    columns={"estimate_1": mic.groups[0], "estimate_2": mic.groups[1], "estimate": "difference"})
for name, res in tests.items():
    table[f"p {name}"] = res.paths["p_value"].to_numpy()
table

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
labels = [f"{a} -> {b}" for a, b in table.index]
x = np.arange(len(table))
ax.bar(x - 0.2, table[mic.groups[0]], 0.4, label=mic.groups[0])
ax.bar(x + 0.2, table[mic.groups[1]], 0.4, label=mic.groups[1])
for i, p in enumerate(table["p permutation"]):
    ax.text(i, max(table.iloc[i, 0], table.iloc[i, 1]) + 0.02, f"p = {p:.2f}", ha="center", fontsize=8)
ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
ax.set_ylabel("path coefficient")
ax.axhline(0, color="grey", lw=0.5)
ax.legend(fontsize=8)
fig.tight_layout()
show_figure(fig, "09-pls-groups-mga")

# %% [markdown]
# ## 4. PLSpredict and CVPAT
#
# Ten-fold cross-validation, repeated ten times: the model trained on nine folds predicts the
# satisfaction and loyalty answers of the tenth from competence and likeability alone (earliest
# antecedents). `q2_predict > 0`: better than the training mean; PLS RMSE below the linear
# model's (`pls_minus_lm_rmse < 0`): the model's structure does not cost predictive power.
# CVPAT tests the average loss difference.

# %%
with expected_warnings(MissingDataWarning):
    pred = plspredict(survey, model, folds=10, repetitions=10, seed=SEED)
print(pred.summary())

# %%
pred.cvpat

# %% [markdown]
# ## References
#
# Chin, W. W., & Dibbern, J. (2010). An introduction to a permutation based procedure for
# multi-group PLS analysis. In *Handbook of partial least squares* (pp. 171-193). Springer.
# Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2017). *A primer on partial least
# squares structural equation modeling (PLS-SEM)* (2nd ed.). Sage.
# Henseler, J., Ringle, C. M., & Sarstedt, M. (2016). Testing measurement invariance of
# composites using partial least squares. *International Marketing Review, 33*(3), 405-431.
# Henseler, J., Ringle, C. M., & Sinkovics, R. R. (2009). The use of partial least squares path
# modeling in international marketing. *Advances in International Marketing, 20*, 277-319.
# Liengaard, B. D., et al. (2021). Prediction: Coveted, yet forsaken? Introducing a
# cross-validated predictive ability test in partial least squares path modeling. *Decision
# Sciences, 52*(2), 362-392.
# Shmueli, G., et al. (2019). Predictive model assessment in PLS-SEM: guidelines for using
# PLSpredict. *European Journal of Marketing, 53*(11), 2322-2347.
