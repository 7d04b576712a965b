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
# # Which customer-wisdom items make a short, reliable and valid scale?
#
# **Every data set in this notebook is SIMULATED** (an expert panel, a pilot survey and its
# retest wave, drawn here with known truth and a fixed seed). No real expert, firm or customer
# is behind any number. The Customer Wisdom Instrument (CWI) is new: its items are original and
# not yet validated. This notebook walks through the steps a scale-development paper reports
# (MacKenzie, Podsakoff & Podsakoff, 2011; Boateng et al., 2018) for two of its constructs,
# **CPROC** (understanding of the customer's processes and ecosystem) and **CQUAL**
# (understanding of customer-perceived quality), the constructs with the most items:
#
# 1. content validity: does an expert panel judge each item relevant and essential?
# 2. a pilot: item analysis and reliability;
# 3. item reduction: the factor structure (EFA) and a short form chosen on one half of the
#    pilot, confirmed by a CFA on the other half;
# 4. test-retest reliability on a second wave;
# 5. known-groups and criterion validity;
# 6. the short form printed as a questionnaire and exported for LimeSurvey.
#
# Each step says which real data replace the simulated ones.

# %% tags=["parameters"]
# Parameters: change them here and re-run the notebook.
SEED = 0  # seed of every simulation, split and search
CONSTRUCTS = ["CPROC", "CQUAL"]  # the constructs being developed
N_EXPERTS = 8  # expert panel
N_PILOT = 400  # pilot respondents (customer form)
N_RETEST = 150  # pilot respondents invited to the retest wave
K = 3  # items per construct in the short form
N_BOOT = 500  # bootstrap resamples of the reliability intervals

# %%
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from ruamel.yaml import YAML

import custval
from custval.plots import OKABE_ITO, style
from custval.report import format_difference, one_line_warnings, show_figure

one_line_warnings()
pd.set_option("display.precision", 3)
pd.set_option("display.width", 120)
seeds = np.random.SeedSequence(SEED).spawn(4)  # panel, pilot, retest, spare: independent streams
cwi = custval.load_instrument("cwi")
pool_items = [i for c in CONSTRUCTS for i in cwi.constructs[c]]
print(f"item pool: {len(pool_items)} items of {', '.join(CONSTRUCTS)} (provider and customer wordings)")

# %% [markdown]
# ## 1. Content validity: a (simulated) expert panel
#
# **Real data:** a panel of 6-10 experts (academics of service logic, key-account managers,
# customers' purchasing managers) who read the construct definitions and rate every item,
# once for *relevance* (1 = not relevant ... 4 = highly relevant) and once for *essentiality*
# (Lawshe: 1 = essential, 2 = useful but not essential, 3 = not necessary); a spreadsheet with
# one row per expert, read with `pandas.read_csv`.
#
# **Simulated here:** 8 experts. By design, the panel doubts the CQUAL item 5 wordings ("we judge
# quality by the results our customers achieve": an outcome, not knowledge of the customer's
# quality criteria) and finds the long CPROC item 4 wordings (the customer's ecosystem) useful
# but rarely essential. One expert skipped one item; that expert drops out of that item only.

# %%
rng = np.random.default_rng(seeds[0])
experts = pd.Index([f"E{j + 1}" for j in range(N_EXPERTS)], name="expert")
p_relevant = pd.Series(0.97, index=pool_items)
p_relevant[["CQUAL_P5", "CQUAL_C5"]] = 0.45
p_essential = pd.Series(0.97, index=pool_items)
p_essential[["CPROC_P4", "CPROC_C4"]] = 0.55
p_essential[["CQUAL_P5", "CQUAL_C5"]] = 0.3
relevant = rng.random((N_EXPERTS, len(pool_items))) < p_relevant.to_numpy()
high = rng.random(relevant.shape) < 0.6
relevance = pd.DataFrame(np.where(relevant, np.where(high, 4, 3), np.where(high, 1, 2)).astype(float),
                         index=experts, columns=pool_items)
relevance.loc["E3", "CPROC_C2"] = np.nan  # a skipped rating
essential = rng.random(relevant.shape) < p_essential.to_numpy()
useful = rng.random(relevant.shape) < 0.7
essentiality = pd.DataFrame(np.where(essential, 1, np.where(useful, 2, 3)), index=experts, columns=pool_items)
relevance.iloc[:, :6]

# %% [markdown]
# Relevance: per item the I-CVI (share of experts rating 3 or 4), the modified kappa k* that
# corrects it for chance agreement (Polit, Beck & Owen, 2007; *keep* when k* > .74, i.e. an
# I-CVI of at least .78 with 6 or more experts) and Aiken's V with its score interval; per
# construct S-CVI/Ave (≥ .90 wanted) and S-CVI/UA.

# %%
blocks = {c: list(cwi.constructs[c]) for c in CONSTRUCTS}
cv_rel = custval.content_validity(relevance, instrument=blocks, kind="relevance", scale=(1, 4))
cv_ess = custval.content_validity(essentiality, instrument=blocks, kind="essential")
print(cv_rel.scales.round(3).to_string())
cv_rel.items[["construct", "n_raters", "n_relevant", "i_cvi", "kappa", "kappa_rating", "aiken_v",
              "aiken_v_ci_low", "aiken_v_ci_high", "verdict"]].round(3)

# %% [markdown]
# Essentiality (Lawshe's CVR with the exact binomial critical number of "essential" votes of
# Ayre & Scally, 2014: with 8 experts an item needs at least the number shown in `n_critical`):

# %%
cv_ess.items[["construct", "n_raters", "n_essential", "cvr", "p_value", "n_critical", "verdict"]].round(3)

# %%
drop_rel = cv_rel.items.index[cv_rel.items["verdict"] == "drop"].tolist()
drop_ess = cv_ess.items.index[cv_ess.items["verdict"] == "drop"].tolist()
print("not relevant (I-CVI / k*):", ", ".join(drop_rel) or "none")
print("not essential (Lawshe):   ", ", ".join(drop_ess) or "none")

# %%
icvi = cv_rel.items["i_cvi"]
with style():
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = np.arange(len(icvi))
    keep = (cv_rel.items["verdict"] == "keep").to_numpy()
    ax.bar(x[keep], icvi[keep], color=OKABE_ITO["blue"], width=0.7, label="keep")
    ax.bar(x[~keep], icvi[~keep], color=OKABE_ITO["vermilion"], width=0.7, label="drop")
    ax.axhline(0.78, color="#555555", linestyle="--", linewidth=1, label="I-CVI = .78")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xticks(x, icvi.index, rotation=60, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("I-CVI (share rating 3-4)")
    ax.set_title(f"Item relevance rated by {N_EXPERTS} simulated experts")
    fig.tight_layout()
show_figure(fig, "08-scale-development-icvi")

# %% [markdown]
# **Conclusion of step 1:** both scales reach S-CVI/Ave ≥ .90, but not every item is
# relevant: the panel rejects the two CQUAL item-5 wordings (I-CVI below .78, k* not
# excellent), as designed. The CPROC item-4 wordings are relevant but not essential by Lawshe's
# test: they stay in the pool, but nothing forces them into a short form. `CPROC_C2` has 7
# raters, the skipped rating counted for that item only. With a real panel, read the experts'
# comments on every rejected item before dropping it: a rewording may save it.
#
# The relevance verdicts go into the codebook under each item (`content_validity:`), where the
# next steps and every later reader find them. Here the codebook of the two constructs is
# written with the verdicts to a temporary folder and read back (the schema checks the keys):

# %%
yaml = YAML(typ="safe")
codebook = yaml.load(Path(cwi.source).read_text(encoding="utf-8"))
codebook["name"], codebook["version"] = "cwi_pool", "0.1"
codebook["constructs"] = [c for c in codebook["constructs"] if c["id"] in CONSTRUCTS]
verdicts = cv_rel.to_codebook()
for construct in codebook["constructs"]:
    for item in construct["items"]:
        item["content_validity"] = verdicts[item["id"]]
workdir = Path(tempfile.mkdtemp(prefix="custval-08-"))
yaml.dump(codebook, workdir / "cwi_pool.yaml")
pool = custval.load_instrument(workdir / "cwi_pool.yaml")
print(pool.summary().splitlines()[0])
print("CQUAL_C5:", dict(pool.item("CQUAL_C5").content_validity))

# %% [markdown]
# ## 2. The (simulated) pilot: item analysis and reliability
#
# **Real data:** the customer form of the two constructs answered by a pilot sample of the
# firms' customers (a few hundred), read with `custval.read_survey` from the survey export.
#
# **Simulated here:** 400 customers answer the ten customer-form items on the 1-7 scale. The
# truth: a two-factor model (correlation .5) with standardised loadings below; the reverse-keyed
# CPROC_C5 and the outcome item CQUAL_C5 are weak by design. 30% of respondents are key accounts,
# whom the supplier understands better (+0.5 SD on both constructs), and every respondent rates
# the overall value of the relationship (0-10), a criterion that depends on both constructs.

# %%
pilot_inst = pool.form("customer")
loadings = {"CPROC_C1": 0.80, "CPROC_C2": 0.75, "CPROC_C3": 0.80, "CPROC_C4": 0.65, "CPROC_C5": 0.40,
            "CQUAL_C1": 0.80, "CQUAL_C2": 0.70, "CQUAL_C3": 0.75, "CQUAL_C4": 0.75, "CQUAL_C5": 0.40}
TAU = np.array([-2.0, -1.3, -0.5, 0.3, 1.1, 1.9])  # thresholds of the 1-7 codes


def answers(eta, rng):
    """Codes 1-7 of the customer-form items for latent scores eta (n x 2), reverse keys applied."""
    out = {}
    for item, lam in loadings.items():
        f = CONSTRUCTS.index(item.split("_")[0])
        ystar = lam * eta[:, f] + np.sqrt(1 - lam**2) * rng.standard_normal(len(eta))
        code = 1 + (ystar[:, None] > TAU).sum(axis=1)
        out[item] = 8 - code if item in pilot_inst.reverse_items else code
    return pd.DataFrame(out)


rng = np.random.default_rng(seeds[1])
key_account = rng.random(N_PILOT) < 0.3
eta = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], N_PILOT) + 0.5 * key_account[:, None]
pilot = answers(eta, rng)
pilot.insert(0, "id", [f"C{i + 1:04d}" for i in range(N_PILOT)])
pilot["account"] = np.where(key_account, "key account", "other")
value = 5 + 1.2 * eta.sum(axis=1) + 1.5 * rng.standard_normal(N_PILOT)
pilot["value"] = np.clip(np.round(value), 0, 10).astype(int)
pilot.head()

# %% [markdown]
# Item analysis: floor and ceiling shares (% of answers at 1 and 7) flag items that cannot
# discriminate; the corrected item-total correlation (`r_drop`) and alpha if the item is
# deleted flag items that do not belong. The reliability table gives alpha and omega with
# bootstrap intervals (`N_BOOT` resamples).

# %%
ia = custval.item_analysis(pilot, pilot_inst)
ia[["construct", "n", "mean", "sd", "skew", "pct_floor", "pct_ceiling", "r_drop", "alpha_if_deleted"]].round(3)

# %%
rel = custval.scale_reliability(pilot, pilot_inst, n_boot=N_BOOT, seed=SEED)
rel[["n", "n_items", "alpha", "alpha_ci_low", "alpha_ci_high", "omega_total", "omega_ci_low", "omega_ci_high",
     "average_r"]].round(3)

# %% [markdown]
# **Conclusion of step 2:** both five-item scales are reliable as a whole (alpha and omega
# about .80), and two items stand out by their low corrected item-total correlations
# (`r_drop`) and an alpha that would *rise* without them: exactly the two items simulated
# weak. The respondents agree with the panel about CQUAL_C5; CPROC_C5 (reverse-keyed) looked
# fine to the experts but not to the respondents, a common fate of reversed wordings.
#
# ## 3. Item reduction on one half, confirmation on the other
#
# **Real data:** the same pilot. A short form chosen and evaluated on the same respondents
# flatters itself (Smith, McCarthy & Anderson, 2000), so the respondents are split at random:
# the search uses the *calibration* half only, and the *validation* half confirms it.
#
# `short_form` scores every subset of `K` items by reliability (omega), the one-factor CFA fit
# and the correlation with the full scale (`r_full`); the items the panel judged not relevant
# are not eligible (`drop=`). It is run once per construct; the split is the same because it
# depends only on the seed and the complete rows.

# %%
short = {}
inst_now = pilot_inst
for c in CONSTRUCTS:
    drop = [i for i in pilot_inst.constructs[c] if pilot_inst.item(i).content_validity["verdict"] == "drop"]
    short[c] = custval.short_form(pilot, inst_now, construct=c, n_items=K, method="exhaustive",
                                  drop=drop, seed=SEED)
    inst_now = short[c].instrument(other_constructs=True)
short_inst = inst_now
cal = pilot.loc[list(short[CONSTRUCTS[0]].calibration_rows)]
val = pilot.loc[list(short[CONSTRUCTS[0]].validation_rows)]
print(f"halves: {len(cal)} calibration + {len(val)} validation = {len(pilot)} rows; same split for both "
      f"constructs: {all(s.validation_rows == short[CONSTRUCTS[0]].validation_rows for s in short.values())}")

# %% [markdown]
# First the structure of the calibration half: parallel analysis (common-factor eigenvalues
# above the 95th percentile of those of random data of the same size) and an oblique ML EFA
# with that many factors.

# %%
cal_items = pilot_inst.keyed(cal)[list(pilot_inst.items)]
pa = custval.parallel_analysis(cal_items, seed=SEED)
print(f"factors suggested: {pa.n_factors}")
pa.to_frame()[["fa_observed", "fa_simulated_q"]].head(4).round(2)

# %%
efa = custval.EFA(pa.n_factors, method="ml", rotation="oblimin").fit(cal_items)
print(efa.summary())

# %% [markdown]
# Two factors, each item on its own construct, the two weak items with the lowest loadings
# and communalities (`h2`): the pool measures what the codebook says, and the items to cut
# are visible already.
#
# Now the short forms, from the calibration half only. With `K` = 3 the one-factor CFA of a
# short form is just identified, so the fit criteria cannot tell subsets apart (the summary
# says so) and omega and `r_full` decide; the two-factor CFA of both short forms below is
# testable.

# %%
for c in CONSTRUCTS:
    print(short[c].summary())
    print()

# %% [markdown]
# The exhaustive search evaluates every subset; the ant-colony search (`method="aco"`, the
# MAX-MIN ant system of R's stuart) is what one uses on a pool too large to enumerate (e.g.
# 8 of 30 items). On these small pools it must find the exhaustive optimum, and it does:

# %%
agree = {}
for c in CONSTRUCTS:
    drop = [i for i in pilot_inst.constructs[c] if pilot_inst.item(i).content_validity["verdict"] == "drop"]
    aco = custval.short_form(pilot, pilot_inst, construct=c, n_items=K, method="aco", drop=drop, seed=SEED)
    gap = aco.criteria.loc["objective", "calibration"] - short[c].criteria.loc["objective", "calibration"]
    agree[c] = {"exhaustive": " + ".join(short[c].items), "aco": " + ".join(aco.items),
                "same items": aco.items == short[c].items, "objective, aco - exhaustive": format_difference(gap),
                "subsets evaluated (aco)": f"{aco.n_evaluated} of {aco.n_subsets}"}
pd.DataFrame(agree).T

# %% [markdown]
# The criteria of the chosen short forms on both halves, against the full pool:

# %%
crit = pd.concat({c: short[c].criteria.loc[["omega", "r_full"]] for c in CONSTRUCTS}, names=["construct"])
crit.round(3)

# %%
columns = [("full_pool_calibration", "full pool, calibration half", OKABE_ITO["black"], "s"),
           ("calibration", "short form, calibration half", OKABE_ITO["blue"], "o"),
           ("validation", "short form, validation half", OKABE_ITO["orange"], "D")]
with style():
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6), sharey=True)
    y = np.arange(len(CONSTRUCTS))[::-1]
    for ax, (name, label, lim) in zip(axes, [("omega", "omega total", (0.7, 0.85)),
                                             ("r_full", "r with the full-pool score", (0.9, 1.005))]):
        for j, (col, lab, color, marker) in enumerate(columns):
            if name == "r_full" and col == "full_pool_calibration":
                continue  # the full pool correlates 1 with itself
            ax.scatter([short[c].criteria.loc[name, col] for c in CONSTRUCTS], y + (1 - j) * 0.12,
                       color=color, marker=marker, s=40, label=lab, zorder=3)
        ax.set_yticks(y, CONSTRUCTS)
        ax.set_ylim(-0.5, len(CONSTRUCTS) - 0.5)
        ax.set_xlim(*lim)
        ax.grid(axis="x")
        ax.set_xlabel(label)
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.1, -0.3), ncol=3)
    fig.suptitle(f"{K}-item short forms against the full {len(pilot_inst.constructs[CONSTRUCTS[0]])}-item pool "
                 "(simulated pilot)", fontsize=11)
show_figure(fig, "08-scale-development-shortform")

# %% [markdown]
# The confirmatory test: a two-factor CFA of the short form on the validation half, which
# played no part in choosing the items, with its fit, composite reliability (CR) and average
# variance extracted (AVE; ≥ .50 wanted).

# %%
cfa = custval.CFA(short_inst).fit(val)
print(cfa.summary())

# %%
cr = custval.composite_reliability(cfa, conventions=("semtools_observed",))
av = custval.ave(cfa, conventions=("semtools_observed",))
print(cr.summary())
print(av.summary())

# %% [markdown]
# **Conclusion of step 3:** the short forms keep three strong items per construct and leave
# out the weak ones; they lose only .01-.03 of omega against the five-item pool, correlate
# about .94-.95 with the full-pool score on *both* halves, and the two-factor CFA of the
# six items fits on the validation half, with CR above .70 and AVE above .50. With real data,
# a short form that does well on the calibration half but not on the validation half was
# tuned to noise: go back to the pool (or to a larger pilot).
#
# ## 4. Test-retest reliability on a (simulated) second wave
#
# **Real data:** the same customers answer the short form again after two to four weeks,
# identified by the survey's respondent id; some do not answer, and an id may be mistyped.
#
# **Simulated here:** 150 pilot respondents are invited; the stable part of their opinion
# correlates .9 between the waves; 12 do not answer and 2 answers come with ids that are not in
# the pilot.

# %%
rng = np.random.default_rng(seeds[2])
invited = np.sort(rng.choice(N_PILOT, N_RETEST, replace=False))
answered = np.sort(rng.choice(invited, N_RETEST - 12, replace=False))
eta2 = 0.9 * eta[answered] + np.sqrt(1 - 0.81) * rng.standard_normal((len(answered), 2))
wave2 = answers(eta2, rng)[list(short_inst.items)]
wave2.insert(0, "id", pilot["id"].to_numpy()[answered])
wave2.loc[[3, 40], "id"] = ["C9003", "C9040"]  # mistyped ids
wave1 = pilot.loc[invited, ["id", *short_inst.items]]
rt = custval.test_retest(wave1, wave2, instrument=short_inst, id="id")
print(f"wave 1: {rt.n_time1}, wave 2: {rt.n_time2}, matched: {rt.n_matched}; "
      f"only in wave 1: {rt.n_unmatched_time1}, only in wave 2: {rt.n_unmatched_time2} "
      f"({', '.join(map(str, rt.unmatched_time2))})")
rt.to_frame().round(3)

# %% [markdown]
# **Conclusion of step 4:** the three-item construct scores are reasonably stable (ICC(2,1),
# absolute agreement, about .75; single items far less, the reason to score constructs, not
# items). ICC(2,1) and ICC(3,1) agree because the simulated second wave has no systematic
# shift. The standard error of measurement (SEM) and the smallest detectable change
# (SDC = 1.96·√2·SEM) say how far one customer's score must move between two waves, in scale
# points, before the change exceeds measurement error: about 1.5 points here, too much for
# tracking single customers, fine for firm-level averages. The unmatched respondents are
# reported by id, not silently dropped; with real data, check the two unknown ids against the
# survey's records.
#
# ## 5. Known-groups and criterion validity
#
# **Real data:** a grouping the theory predicts (key accounts vs others, from the supplier's
# CRM) and criteria measured with established scales (overall relationship value, share of
# wallet, intention to continue).
#
# Known groups: suppliers invest in understanding their key accounts, so key accounts should
# score higher on both constructs.

# %%
kg = custval.known_groups(pilot, short_inst, group="account", groups=["other", "key account"],
                          expected={c: "higher" for c in CONSTRUCTS})
kg.to_frame().round(3)

# %%
cv = custval.criterion_validity(pilot, short_inst, criteria=["value"])
cv.to_frame().round(3)

# %% [markdown]
# **Conclusion of step 5:** key accounts score higher on both short scales (d about .5-.6, the
# simulated 0.5 SD on the latent scores, with intervals well above 0), as the theory predicts,
# and both scores correlate about .7 with the overall value of the relationship. With real
# data, the criterion must come from another source or method than the scale itself
# (e.g. CRM data), or common-method variance inflates the correlation.
#
# ## 6. The short form as a questionnaire
#
# **Real data:** none needed; the codebook is the questionnaire. The short form is printed
# from the codebook (wording, scale labels, keying) and exported as a LimeSurvey survey for the
# validation study.

# %%
custval.make_questionnaire(short_inst, form="customer", path=workdir / "cwi_short.html")
print(f"cwi_short.html: {len(short_inst.items)} items in {len(short_inst.constructs)} sections; scale: "
      + "; ".join(f"{k} = {v}" for k, v in short_inst.scale_labels("en").items()))
for n, item in enumerate(short_inst.items, 1):
    print(f"{n}. {short_inst.item(item).text['en']}{'  (reverse-keyed)' if item in short_inst.reverse_items else ''}")

# %%
lss = custval.export_survey(short_inst, workdir / "cwi_short.lss", platform="limesurvey", form="customer")
back = custval.load_instrument(lss)
print(f"{lss.name}: {len(back.items)} questions; read back: "
      f"{'same items' if set(back.items) == set(short_inst.items) else 'DIFFERENT items'}")
shutil.rmtree(workdir)  # the temporary codebook, questionnaire and LimeSurvey file

# %% [markdown]
# ## Summary
#
# The simulated panel, pilot and retest show the whole path from an item pool to a short form:
# items judged not relevant are set aside before the data speak, the pilot flags the weak
# items, the short form is chosen on one half and confirmed on the other, its scores are stable
# over time, and they separate the groups the theory says they should. For the CWI itself,
# every simulated block above is to be replaced by the real panel, pilot and retest.
