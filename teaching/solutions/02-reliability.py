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
# # Exercise 2: Reliability and item analysis
#
# The Big-Five items of the SAPA project (`bfi`, shipped with custval: 2800 people, 25 items on
# a 1-6 accuracy scale) are a standard teaching set for reliability. Here we look at
# agreeableness, A1-A5. A1 ("Am indifferent to the feelings of others") is worded against the
# construct and reverse-keyed in the codebook.
#
# You will compute Cronbach's alpha, see what happens when a reverse item is not keyed, find the
# weakest item from an item analysis, and compare alpha with McDonald's omega. Every number here
# is the one R's `psych` gives (`psych::alpha`, `psych::omega`); the docstrings name the R call.

# %% tags=["parameters"]
N_BOOT = 200  # bootstrap resamples for intervals (few, to keep the exercise quick)
SEED = 1

# %%
import sys
from pathlib import Path

import numpy as np

import custval

sys.path.insert(0, str(Path.cwd().parent))  # the folder holding _checks.py
from _checks import check, check_true

inst = custval.load_instrument("bfi")
bfi = custval.read_survey(custval.load_dataset("bfi").path, inst)
print(inst.summary())


def _alpha(frame):
    """Cronbach's alpha of complete rows: k/(k-1) (1 - sum of item variances / variance of the sum)."""
    x = frame.dropna().to_numpy(float)
    k = x.shape[1]
    return k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))


# %% [markdown]
# ## Task 1: the items and the keyed data
#
# Set `A_items` to the list of the agreeableness items (`inst.constructs` maps each construct to
# its items) and `keyed` to the data with every reverse-worded item keyed (`inst.keyed`).

# %% tags=["solution"]
A_items = list(inst.constructs["A"])
keyed = inst.keyed(bfi)

# %% tags=["check"]
check("A_items", A_items, expected=["A1", "A2", "A3", "A4", "A5"], what="the five A items in order",
      hint="list(inst.constructs['A'])")
check("keyed['A1']", None if keyed is None else keyed["A1"], expected=7 - bfi["A1"],
      what="A1 keyed as 7 - x on the 1-6 scale", wrong=[(bfi["A1"], "A1 is not keyed: use inst.keyed(bfi)")])

# %% [markdown]
# ## Task 2: Cronbach's alpha
#
# Set `alpha_A` to Cronbach's alpha of the keyed A items (`custval.cronbach_alpha(...)` returns a
# result; its `.estimate` is the number), and `alpha_A_raw` to alpha of the same items *without*
# keying A1. Print both results: the result also shows the interval and the R call.

# %% tags=["solution"]
res = custval.cronbach_alpha(keyed[A_items])
print(res)
alpha_A = res.estimate
alpha_A_raw = custval.cronbach_alpha(bfi[A_items]).estimate

# %% tags=["check"]
check("alpha_A", alpha_A, expected=_alpha(bfi[A_items].assign(A1=7 - bfi["A1"])),
      what="Cronbach's alpha of the keyed A items",
      wrong={_alpha(bfi[A_items]): "that is alpha of the raw items: did you key the reverse items?"},
      hint="custval.cronbach_alpha(keyed[A_items]).estimate")
check("alpha_A_raw", alpha_A_raw, expected=_alpha(bfi[A_items]),
      what="Cronbach's alpha of the A items with A1 not keyed", hint="use bfi, not keyed")

# %% [markdown]
# ## Task 3: item analysis
#
# `custval.item_analysis(bfi, inst)` gives one row per item (it keys the reverse items itself):
# mean, SD, floor and ceiling, and the item-total correlations of `psych::alpha` (`r_drop` is
# the correlation of an item with the sum of the *other* items of its construct, psych's
# `r.drop`). Set `items_A` to the rows of the A items, and `weakest_A` to the A item with the
# lowest `r_drop`.

# %% tags=["solution"]
items_A = custval.item_analysis(bfi, inst).loc[A_items]
weakest_A = items_A["r_drop"].idxmin()
items_A[["mean", "sd", "r_drop", "alpha_if_deleted"]]

# %% tags=["check"]
_k = bfi[A_items].assign(A1=7 - bfi["A1"]).dropna()
_r_drop = {i: np.corrcoef(_k[i], _k.drop(columns=i).sum(axis=1))[0, 1] for i in A_items}
check_true("items_A", value=items_A, condition=lambda: list(items_A.index) == A_items and "r_drop" in items_A,
           what="the item-analysis rows of A1-A5", hint="custval.item_analysis(bfi, inst).loc[A_items]")
check("weakest_A", weakest_A, expected=min(_r_drop, key=_r_drop.get),
      what="the A item with the lowest corrected item-total correlation (r_drop)",
      wrong={max(_r_drop, key=_r_drop.get): "that is the strongest item: use idxmin"})

# %% [markdown]
# ## Task 4: alpha without the weakest item
#
# Set `alpha_A_without` to alpha of the four keyed A items left when `weakest_A` is dropped,
# from `cronbach_alpha` (complete rows of the four items). Compare it with the table's
# `alpha_if_deleted`, which psych computes from pairwise correlations: the two differ a little.

# %% tags=["solution"]
rest = [i for i in A_items if i != weakest_A]
alpha_A_without = custval.cronbach_alpha(keyed[rest]).estimate
print(f"alpha {alpha_A:.3f}; without {weakest_A}: {alpha_A_without:.3f} "
      f"(alpha_if_deleted {items_A.loc[weakest_A, 'alpha_if_deleted']:.3f})")

# %% tags=["check"]
_weak = min(_r_drop, key=_r_drop.get)
_kall = bfi[A_items].assign(A1=7 - bfi["A1"])  # rows complete on the four items count here
check("alpha_A_without", alpha_A_without, expected=_alpha(_kall.drop(columns=_weak)),
      what=f"Cronbach's alpha of the four keyed A items without {_weak}",
      wrong={float(custval.item_analysis(bfi, inst).loc[_weak, "alpha_if_deleted"]):
             "that is psych's alpha_if_deleted from pairwise correlations: compute alpha of the "
             "four items with cronbach_alpha so it compares with alpha_A"},
      hint="keyed[[i for i in A_items if i != weakest_A]]")

# %% [markdown]
# ## Task 5: omega
#
# Alpha assumes every item measures the construct equally well (tau-equivalence). McDonald's
# omega total from a one-factor model does not. Set `omega_A` to omega total of the keyed A items
# (`custval.omega(..., n_boot=N_BOOT, seed=SEED)`; `.estimate`) and `omega_ci` to its interval
# as a tuple `(low, high)`. (Try it on the raw items too: like `psych::omega`, custval's omega
# takes an item with a negative loading the other way round, so keying does not change it.)

# %% tags=["solution"]
om = custval.omega(keyed[A_items], n_boot=N_BOOT, seed=SEED)
omega_A = om.estimate
omega_ci = (om.ci_low, om.ci_high)
print(om)

# %% tags=["check"]
_om = custval.omega(bfi[A_items].assign(A1=7 - bfi["A1"]), ci_method=None)
check("omega_A", omega_A, expected=_om.estimate, what="omega total of the keyed A items (one factor)",
      hint="custval.omega(keyed[A_items], n_boot=N_BOOT, seed=SEED).estimate")
check_true("omega_ci", value=omega_ci, condition=lambda: len(omega_ci) == 2 and omega_ci[0] < omega_A < omega_ci[1] < 1,
           what="the (low, high) bootstrap interval around omega_A", hint="(om.ci_low, om.ci_high)")

# %% [markdown]
# ## Task 6: in your own words
#
# Why is alpha of the raw items so much lower than alpha of the keyed items? Would you drop the
# weakest item from the scale? (Think of what it measures, not only of alpha.)

# %% [markdown] tags=["solution"]
# A1 is worded against agreeableness, so unkeyed it correlates *negatively* with the other items;
# a negative covariance lowers the variance of the sum relative to the item variances, and alpha
# falls. Keyed, A1 agrees in sign with the others. Dropping the weakest item would raise alpha
# only a little and would remove the one item that covers indifference to others, narrowing what
# the scale measures; the gain in alpha does not justify that, and a scale whose items are all
# worded one way is open to acquiescence. Omega, which lets every item load differently, is a
# little above alpha here: the items are not tau-equivalent.
