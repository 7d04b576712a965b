# ---
# jupyter:
#   jupytext:
#     formats: py:percent
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
# # Exercise 4: Convergent and discriminant validity, and measurement invariance
#
# The corporate-reputation survey (`corp_rep`, shipped with custval: 344 customers of four
# mobile-phone providers, Hair et al., 2017) measures competence (COMP), likeability (LIKE),
# satisfaction (CUSA, one item) and loyalty (CUSL) on 1-7 scales. Here you check that
#
# * each construct's items share enough variance (composite reliability, CR, and average variance
#   extracted, AVE: *convergent* validity);
# * competence and likeability are distinct (the heterotrait-monotrait ratio, HTMT: *discriminant*
#   validity; Henseler, Ringle & Sarstedt, 2015);
# * the items measure the same thing for postpaid and prepaid customers (`servicetype`), so their
#   scores can be compared (measurement invariance).

# %% tags=["parameters"]
N_BOOT = 300  # bootstrap resamples of the HTMT interval (few, to keep the exercise quick)
SEED = 7

# %%
import sys
import warnings
from pathlib import Path

import numpy as np

import custval
from custval.exceptions import MissingDataWarning

sys.path.insert(0, str(Path.cwd().parent))  # the folder holding _checks.py
from _checks import check

inst = custval.load_instrument("corp_rep")
df = custval.read_survey(custval.load_dataset("corp_rep").path, inst)  # -99 -> missing
warnings.simplefilter("ignore", MissingDataWarning)  # listwise deletion is reported by every fit
print(inst.model_syntax())

# %% [markdown]
# ## Task 1: the measurement model
#
# Fit the CFA of the codebook (`custval.CFA(inst).fit(df)`) into `fit`, and set `loadings` to
# the standardized loadings as a Series indexed by item (the rows of `fit.params_` with
# `op == "=~"`; lavaan's `std.all` is the column `std_all`, the item is in `rhs`).

# %% tags=["solution"]
fit = custval.CFA(inst).fit(df)
print(fit.summary())
loadings = fit.params_.query("op == '=~'").set_index("rhs")["std_all"]

# %% tags=["check"]
check("fit", fit, expected=custval.CFA, what="the fitted CFA of the codebook's model")
# standardized loading = loading of the model with latent variances 1 / model-implied item SD
_f = custval.CFA(inst.model_syntax(), std_lv=True).fit(df)
_lam = _f.params_.query("op == '=~'").set_index("rhs")["est"]
_std = _lam / np.sqrt(np.diag(_f.implied_cov_.loc[_lam.index, _lam.index]))
check("loadings", loadings, expected=_std, what="the standardized loadings (std.all), indexed by item", tol=1e-5,
      wrong=[(_lam, "these are unstandardized loadings (est): take std_all")],
      hint="fit.params_.query(\"op == '=~'\").set_index('rhs')['std_all']")

# %% [markdown]
# ## Task 2: convergent validity
#
# Fornell & Larcker (1981) compute, from the standardized loadings l of a construct's items,
# CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)) and AVE = mean(l^2). `custval.composite_reliability(fit)`
# and `custval.ave(fit)` give them beside semTools' conventions (`.wide()` shows one column per
# convention). Set `cr_LIKE` and `ave_LIKE` to the CR and AVE of LIKE in the `fornell_larcker`
# convention, and `convergent_ok` to whether LIKE meets the usual bounds (CR at least .70, AVE at
# least .50).

# %% tags=["solution"]
cr = custval.composite_reliability(fit).wide()
av = custval.ave(fit).wide()
print(cr.round(3), av.round(3), sep="\n\n")
cr_LIKE = cr.loc["LIKE", "fornell_larcker"]
ave_LIKE = av.loc["LIKE", "fornell_larcker"]
convergent_ok = bool(cr_LIKE >= 0.70 and ave_LIKE >= 0.50)

# %% tags=["check"]
_l = _std[["like_1", "like_2", "like_3"]]
_cr = _l.sum() ** 2 / (_l.sum() ** 2 + (1 - _l**2).sum())
_cr_obs = custval.composite_reliability(fit).wide().loc["LIKE", "semtools_observed"]
check("cr_LIKE", cr_LIKE, expected=_cr, what="the Fornell-Larcker composite reliability of LIKE", tol=1e-5,
      wrong={_cr_obs: "that is semTools' convention (semtools_observed): take the fornell_larcker column"},
      hint="composite_reliability(fit).wide().loc['LIKE', 'fornell_larcker']")
check("ave_LIKE", ave_LIKE, expected=(_l**2).mean(), what="the Fornell-Larcker AVE of LIKE", tol=1e-5,
      hint="ave(fit).wide().loc['LIKE', 'fornell_larcker']")
check("convergent_ok", convergent_ok, expected=bool(_cr >= 0.70 and (_l**2).mean() >= 0.50),
      what="True if LIKE's CR >= .70 and AVE >= .50, else False (a bool)")

# %% [markdown]
# ## Task 3: discriminant validity
#
# HTMT is the mean correlation between the items of two constructs over the geometric mean of the
# mean correlations within each construct. Run `custval.htmt(df, inst, n_boot=N_BOOT, seed=SEED)`
# into `ht`, print it, and set `htmt_comp_like` to the HTMT of COMP and LIKE (column `estimate` of
# `ht.table`) and `discriminant_ok` to whether its bootstrap upper bound (`upper_bound`) is
# below 0.85 (Franke & Sarstedt, 2019).

# %% tags=["solution"]
ht = custval.htmt(df, inst, n_boot=N_BOOT, seed=SEED)
print(ht)
row = ht.table.query("construct_a == 'COMP' and construct_b == 'LIKE'").iloc[0]
htmt_comp_like = row["estimate"]
discriminant_ok = bool(row["upper_bound"] < 0.85)

# %% tags=["check"]
_items = [i for its in inst.constructs.values() for i in its]
_r = df[_items].dropna().corr().abs()  # listwise, as semTools::htmt(missing = "listwise")
_comp, _like = list(inst.constructs["COMP"]), list(inst.constructs["LIKE"])


def _mono(block):
    r = _r.loc[block, block].to_numpy()
    return r[np.triu_indices(len(block), 1)].mean()


_htmt = _r.loc[_comp, _like].to_numpy().mean() / np.sqrt(_mono(_comp) * _mono(_like))
check("htmt_comp_like", htmt_comp_like, expected=_htmt, what="the HTMT of COMP and LIKE",
      hint="the row of ht.table with construct_a == 'COMP' and construct_b == 'LIKE'")
_ub = custval.htmt(df, inst, n_boot=N_BOOT, seed=SEED).table.query(
    "construct_a == 'COMP' and construct_b == 'LIKE'")["upper_bound"].item()
check("discriminant_ok", discriminant_ok, expected=bool(_ub < 0.85),
      what="True if the bootstrap upper bound of HTMT(COMP, LIKE) is below 0.85 (a bool)",
      hint="compare the upper_bound column, not the estimate, with 0.85")

# %% [markdown]
# ## Task 4: measurement invariance across contract types
#
# `custval.measurement_invariance(df, inst, group="servicetype")` fits the model in both groups
# with nothing equal (configural), then equal loadings (metric), then equal intercepts (scalar),
# then equal residual variances (strict), and compares each level with the one before. Store it
# in `mi`, print its summary, and set `highest_level` to the highest level that holds
# (`mi.highest`) and `delta_cfi_scalar` to the change in CFI from the metric to the scalar model
# (the `delta_cfi` column of `mi.table`, row `level == "scalar"`).

# %% tags=["solution"]
mi = custval.measurement_invariance(df, inst, group="servicetype")
print(mi.summary())
highest_level = mi.highest
delta_cfi_scalar = mi.table.set_index("level").loc["scalar", "delta_cfi"]

# %% tags=["check"]
_metric = custval.CFA(inst, group="servicetype", group_equal=("loadings",)).fit(df)
_scalar = custval.CFA(inst, group="servicetype", group_equal=("loadings", "intercepts")).fit(df)
_d = _scalar.fit_measures_["cfi"] - _metric.fit_measures_["cfi"]
check("delta_cfi_scalar", delta_cfi_scalar, expected=_d,
      what="CFI of the scalar model minus CFI of the metric model", tol=1e-5,
      wrong={-_d: "the sign: scalar minus metric (a drop in fit is negative)"},
      hint="mi.table.set_index('level').loc['scalar', 'delta_cfi']")
check("highest_level", highest_level,
      expected=custval.measurement_invariance(df, inst, group="servicetype").highest,
      what="the highest invariance level that holds ('configural', 'metric', 'scalar' or 'strict')",
      hint="mi.highest")

# %% [markdown]
# ## Task 5: in your own words
#
# Summarise the validity evidence for this measurement model in three sentences. What does the
# invariance result allow you to do with postpaid and prepaid customers' scores?

# %% [markdown] tags=["solution"]
# The standardized loadings are all above .70 and LIKE's CR and AVE exceed .70 and .50, so the
# items of each construct converge. HTMT of competence and likeability is below .85 but its
# bootstrap upper bound is close to it: the two reputation dimensions are distinct, though
# strongly related, as the theory expects. Invariance holds up to the strict level (no drop in
# CFI of .01 or more), so postpaid and prepaid customers' latent means, and even their observed
# scale scores, can be compared; with only scalar invariance, latent means could still be compared.
