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
# # Where PLS-SEM analyses go next: moderation, a higher-order construct and an importance-performance map (ECSI mobile-phone customers)
#
# The ECSI survey of 250 mobile-phone customers (`mobi`; Tenenhaus et al., 2005) is the
# teaching data of PLS path modelling. Published customer-value analyses rarely stop at the
# paths; they ask
#
# 1. **moderation**: does the customers' *expectation* change how strongly the provider's
#    *image* drives satisfaction?
# 2. **a higher-order construct**: can image and perceived value be treated as one
#    second-order "satisfaction" construct (seminr's demonstration model), and are both levels
#    reliable and distinct?
# 3. **plspm's statistics** on unstandardised data (GoF, redundancy, the OLS path tests), and
# 4. **an importance-performance map**: which driver of loyalty is important but performs
#    poorly, on the customers' own 1–10 answer scale?
#
# Every number is checked against the peers' own code: seminr 2.3.1 (`tests/r/pls_ext.R`) and
# plspm 0.4.9 (`tests/r/plspm.R`), whose outputs are committed in `tests/golden/pls`.

# %% tags=["parameters"]
# Parameters: change them here and re-run the notebook.
DATASET = "mobi"
SEED = 0  # seed of every bootstrap
N_BOOT = 2000  # bootstrap resamples

# %%
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import custval
from custval import PLS, plots
from custval.report import format_difference, one_line_warnings, show_figure

PROJECT_ROOT = Path("..").resolve()  # the checkout: notebooks run from notebooks/; R goldens are in tests/golden
golden = PROJECT_ROOT / "tests" / "golden" / "pls"
one_line_warnings()
pd.set_option("display.precision", 3)


def reference(name, case):
    """One case of a committed golden file as labelled frames (seminr's 'A*B' written 'A:B')."""
    content = json.loads((golden / name).read_text())["cases"][case]
    out = dict(content)
    for key, value in content.items():
        if isinstance(value, dict) and "rows" in value and "values" in value:
            cols = value["cols"] if isinstance(value["cols"], list) else [value["cols"]]
            frame = pd.DataFrame(np.array(value["values"], dtype=float).reshape(len(value["rows"]), len(cols)),
                                 index=value["rows"], columns=cols)
            fix = lambda s: s.replace("*", ":") if ("_intxn" in s or not any(c.isdigit() for c in s)) else s  # noqa: E731
            out[key] = frame.rename(index=fix, columns=fix)
    return out


# %% [markdown]
# ## 1. Data and codebook
#
# The shipped file is verified against its SHA-256; the ECSI codebook says every item is
# answered on a 1–10 scale, which the importance-performance map uses below.

# %%
ds = custval.load_dataset(DATASET)
mobi, ecsi = ds.data, ds.instrument
print(repr(ds))
print("answer scale:", ecsi.scale_min, "to", ecsi.scale_max)

# %% [markdown]
# ## 2. Moderation: does expectation moderate image → satisfaction?
#
# The interaction term is written `Image:Expectation` in the model. custval offers seminr's three
# ways to measure it: **two-stage** (default: the product of the two construct scores from the
# model without the interaction), **product indicator** (all products of the standardised items)
# and **orthogonal** (those products residualised on the items, Henseler & Chin, 2010). As in
# seminr, the interaction's path is the coefficient of the product of the *standardised*
# constructs, which is what simple slopes use (`interaction_scale_` converts it to a
# standardised term's coefficient, the SmartPLS default).

# %%
model = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value + Image:Expectation + Image:Value
"""
methods = ["two_stage", "product_indicator", "orthogonal"]
fits = {m: PLS(model, interaction=m).fit(mobi) for m in methods}
rows = {}
for m in methods:
    ref = reference("seminr_ext.json", f"interaction_{m}")["paths"]["Satisfaction"]
    ours = fits[m].paths_["Satisfaction"]
    rows[m] = {**{f"{c}": ours[c] for c in ["Image", "Expectation", "Value", "Image:Expectation", "Image:Value"]},
               "R²": fits[m].r2_.at["Satisfaction", "r2"],
               "largest |custval - seminr|": float(np.abs(ours[ref.index] - ref).max())}
moderation = pd.DataFrame(rows).T
moderation["largest |custval - seminr|"] = moderation["largest |custval - seminr|"].map(format_difference)
moderation.round(3)

# %% [markdown]
# The three methods agree on the main effects and give small interaction paths. Are they
# different from zero? The bootstrap repeats the two-stage construction in every resample (as
# seminr's `bootstrap_model()` does) and gives BCa intervals.

# %%
boot = fits["two_stage"].bootstrap(n_boot=N_BOOT, seed=SEED, ci_method="bca")
boot.paths.loc[:, ["estimate", "se", "ci_low", "ci_high"]]

# %% [markdown]
# Both intervals contain 0: in this sample, neither expectation nor value changes the effect of
# image on satisfaction noticeably. The simple slopes show what the (small) interaction means:
# the line of satisfaction on image at a low, average and high expectation.

# %%
display_table = fits["two_stage"].simple_slopes("Image:Expectation")
print(display_table.round(3).to_string(index=False))
show_figure(plots.simple_slopes_plot(fits["two_stage"], "Image:Expectation"), "07-mobi-simple-slopes")

# %% [markdown]
# ## 3. A higher-order construct, reported at both levels
#
# seminr's demonstration model treats satisfaction as a higher-order composite of image and
# value: `Satisfaction =~ Image + Value` names constructs on the right. Two-stage estimation
# (default) first estimates the model with image and value in place of satisfaction, then uses
# their scores as satisfaction's indicators; repeated indicators measure satisfaction by all
# items of image and value in one model.

# %%
hoc_model = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value        =~ PERV1 + PERV2
Satisfaction =~ Image + Value
Complaints   =~ CUSCO
Loyalty      =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Expectation + Quality
Complaints   ~ Satisfaction
Loyalty      ~ Satisfaction
"""
hoc = PLS(hoc_model).fit(mobi)
rep = PLS(hoc_model, hoc="repeated_indicators").fit(mobi)
ref = reference("seminr_ext.json", "hoc_two_stage")
paths = hoc.to_frame()[["from", "to", "estimate"]].rename(columns={"estimate": "two-stage"})
paths["seminr two-stage"] = [ref["paths"].at[a, b] for a, b in zip(paths["from"], paths["to"])]
paths["repeated indicators"] = [rep.paths_.at[a, b] for a, b in zip(paths["from"], paths["to"])]
paths.round(3)

# %% [markdown]
# Reliability at both levels: the dimensions (image, value) with their items, and satisfaction
# with the dimensions' scores as its indicators; seminr reports the same rows.

# %%
rel = hoc.reliability_.copy()
rel["level"] = ["higher-order" if c in hoc.hocs_ else "lower-order" if c in hoc.hocs_["Satisfaction"] else "first-order"
                for c in rel.index]
rel_ref = ref["reliability"].set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
print("largest |custval - seminr| in alpha, rhoC, AVE, rho_A:",
      format_difference(float(np.abs(rel.loc[rel_ref.index, rel_ref.columns] - rel_ref).to_numpy().max())))
rel

# %% [markdown]
# Discriminant validity at both levels (HTMT, seminr's convention): image and value must be
# distinct from each other as dimensions (.65 here), and satisfaction from the constructs it is
# not made of. Its HTMT with its own dimensions (above 1) is high by construction and no test of
# discriminant validity; satisfaction and loyalty (1.03) are not distinct in this sample.

# %%
show_figure(plots.htmt_heatmap(hoc.htmt_), "07-mobi-hoc-htmt")

# %% [markdown]
# ## 4. plspm's statistics on raw (unstandardised) data
#
# plspm's `scaled = FALSE` centres the items without scaling them (`standardize=False`); its
# printout adds the goodness of fit (GoF), communalities and redundancies, Dillon–Goldstein's rho
# and the classical OLS tests of the paths. Here beside plspm's own numbers.

# %%
pref = reference("plspm.json", "mobi4_raw_path")
raw_fit = PLS(pref["syntax"], standardize=False, tol=1e-12).fit(mobi)
print(f"GoF: custval {raw_fit.gof_:.6f}, plspm {pref['gof']:.6f}")
tests = raw_fit.path_inference_.drop(index="Intercept", level="from")  # intercepts are 0 (centred scores)
tests.index = [f"{t}|{f}" for t, f in tests.index]
tests["plspm t"] = pref["inner"].loc[tests.index, "t"]
tests.round(4)

# %%
raw_fit.inner_summary_.join(raw_fit.reliability_[["alpha", "dg_rho"]])

# %% [markdown]
# ## 5. Importance-performance map for loyalty
#
# Importance is the unstandardised total effect on loyalty; performance the mean score rescaled
# to 0–100 with the codebook's 1–10 answer scale (Ringle & Sarstedt, 2016), never with the
# observed minimum and maximum.

# %%
ecsi_model = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Quality      =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Complaints   =~ CUSCO
Loyalty      =~ CUSL1 + CUSL2 + CUSL3
Expectation  ~ Image
Quality      ~ Expectation
Value        ~ Expectation + Quality
Satisfaction ~ Image + Expectation + Quality + Value
Complaints   ~ Satisfaction
Loyalty      ~ Image + Satisfaction + Complaints
"""
ecsi_fit = PLS(ecsi_model).fit(mobi)
ipma = ecsi_fit.ipma(target="Loyalty", instrument=ecsi)
ipma.constructs.sort_values("importance", ascending=False)

# %%
show_figure(plots.ipma_map(ipma), "07-mobi-ipma-constructs")

# %% [markdown]
# Satisfaction and image matter most for loyalty and perform at about 73 of 100; perceived value
# performs worst (62) but matters little for loyalty in this model. At the item level, the map
# shows which questions carry a construct's importance:

# %%
show_figure(plots.ipma_map(ipma, level="indicators"), "07-mobi-ipma-indicators")

# %% [markdown]
# ## References
#
# Henseler, J., & Chin, W. W. (2010). A comparison of approaches for the analysis of interaction
# effects between latent variables using partial least squares path modeling. *Structural
# Equation Modeling, 17*(1), 82–109.
# Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM results: The
# importance-performance map analysis. *Industrial Management & Data Systems, 116*(9), 1865–1886.
# Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS path modeling.
# *Computational Statistics & Data Analysis, 48*(1), 159–205.
