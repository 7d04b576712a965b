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
# # Exercise 5: The perception gap between a firm and its customers
#
# The Customer Wisdom Instrument (CWI, shipped as the codebook `cwi`) asks a firm's managers and
# staff how well the firm understands its customers (provider form), and asks the customers the
# twin questions about the same firm (customer form). The *perception gap* is the provider's view
# minus the customers' view of the same thing: above zero, the firm thinks it understands its
# customers better than the customers feel understood.
#
# The data are **simulated** (`custval.simulate.case_study`): six firms, each with managers, staff
# and customer accounts, and a known population truth, so you can see whether the estimates
# recover it. We look at CPROC, the firm's understanding of the customers' processes.

# %% tags=["parameters"]
SEED = 3  # seed of the simulation and of the bootstrap
N_BOOT = 200  # bootstrap resamples (few, to keep the exercise quick)

# %%
import sys
import warnings
from pathlib import Path

import pandas as pd

import custval
from custval.exceptions import InvarianceWarning
from custval.simulate import case_study

sys.path.insert(0, str(Path.cwd().parent))  # the folder holding _checks.py
from _checks import check, check_true

cs = case_study(seed=SEED)
prov, cust = cs.validated()  # the provider and customer exports, read by the ingest rules
inst = custval.load_instrument("cwi")
print(cs.summary())
inst.pairs().query("construct == 'CPROC'")

# %% [markdown]
# Each row of `prov` is a manager or a staff member of a firm (`firm`, `role`) responsible for a
# customer `account`; each row of `cust` is a customer respondent of an account. The items come in
# twins: `CPROC_P1` on the provider form asks what `CPROC_C1` asks the customer.

# %% [markdown]
# ## Task 1: the gap by hand
#
# Compute the CPROC gap the way `perception_gap(match="account")` does, step by step:
#
# 1. key the reverse items of both forms (`inst.keyed`): `CPROC_P5`/`CPROC_C5` are worded in reverse;
# 2. give each respondent a CPROC score, the mean of their CPROC items;
# 3. average the scores per account on each side (`groupby(["firm", "account"])`);
# 4. the account gap is provider minus customer; set `account_gap` to it (a Series indexed by firm
#    and account, accounts without both sides left out: `.dropna()`);
# 5. set `firm_gap` to the mean account gap per firm (a Series indexed by firm).

# %% tags=["solution"]
p_items = list(inst.pairs().query("construct == 'CPROC'")["provider_item"])
c_items = list(inst.pairs().query("construct == 'CPROC'")["customer_item"])
p_score = inst.keyed(prov)[p_items].mean(axis=1)
c_score = inst.keyed(cust)[c_items].mean(axis=1)
p_account = p_score.groupby([prov["firm"], prov["account"]]).mean()
c_account = c_score.groupby([cust["firm"], cust["account"]]).mean()
account_gap = (p_account - c_account).dropna()
firm_gap = account_gap.groupby(level="firm").mean()
firm_gap

# %% tags=["check"]
check("account_gap", account_gap, expected=pd.Series, what="a Series of account gaps indexed by firm and account")
with warnings.catch_warnings():  # the warning is for task 2
    warnings.simplefilter("ignore", InvarianceWarning)
    _gaps = custval.perception_gap(prov, cust, inst, match="account", n_boot=N_BOOT, seed=SEED)
_cproc = _gaps.table.query("construct == 'CPROC'").set_index("firm")
_raw_p = prov.filter(like="CPROC_P").mean(axis=1).groupby([prov["firm"], prov["account"]]).mean()
_raw_c = cust.filter(like="CPROC_C").mean(axis=1).groupby([cust["firm"], cust["account"]]).mean()
check_true("account_gap", value=account_gap, condition=lambda: len(account_gap) == _cproc["n"].sum(),
           what=f"one gap per account with both sides ({_cproc['n'].sum()} accounts)",
           hint="group by firm and account on both sides, subtract, then .dropna()")
check("firm_gap", firm_gap, expected=_cproc["estimate"].rename(None),
      what="the mean of the account gaps per firm (what perception_gap reports as estimate)",
      wrong=[((_raw_p - _raw_c).dropna().groupby(level="firm").mean(),
              "CPROC_P5 and CPROC_C5 are not keyed: score the keyed items (inst.keyed)")],
      hint="account_gap.groupby(level='firm').mean()")

# %% [markdown]
# ## Task 2: the same with custval, with intervals
#
# Run `custval.perception_gap(prov, cust, inst, match="account", n_boot=N_BOOT, seed=SEED)` into
# `gaps` and print `gaps.resampling` (how the interval was made). Set `cproc` to the CPROC rows of
# `gaps.table`, indexed by firm. Read the warning it gives: it comes back in task 5.

# %% tags=["solution"]
gaps = custval.perception_gap(prov, cust, inst, match="account", n_boot=N_BOOT, seed=SEED)
print(gaps.resampling)
cproc = gaps.table.query("construct == 'CPROC'").set_index("firm")
cproc[["provider", "customer", "estimate", "ci_low", "ci_high", "n"]]

# %% tags=["check"]
check("cproc", None if cproc is None else cproc[["estimate", "ci_low", "ci_high"]],
      expected=_cproc[["estimate", "ci_low", "ci_high"]],
      what="the CPROC rows of gaps.table indexed by firm, from match='account', n_boot=N_BOOT, seed=SEED",
      hint="gaps.table.query(\"construct == 'CPROC'\").set_index('firm')")

# %% [markdown]
# ## Task 3: which firms over-rate their understanding?
#
# Set `largest_gap_firm` to the firm with the largest CPROC gap, and `clear_gap_firms` to the
# sorted list of the firms whose 95% interval lies entirely above zero.

# %% tags=["solution"]
largest_gap_firm = cproc["estimate"].idxmax()
clear_gap_firms = sorted(cproc.index[cproc["ci_low"] > 0])
print(largest_gap_firm, clear_gap_firms)

# %% tags=["check"]
check("largest_gap_firm", largest_gap_firm, expected=_cproc["estimate"].idxmax(),
      what="the firm with the largest CPROC gap estimate",
      wrong={_cproc["estimate"].idxmin(): "that is the smallest gap: use idxmax"})
check("clear_gap_firms", clear_gap_firms, expected=sorted(_cproc.index[_cproc["ci_low"] > 0]),
      what="the sorted list of firms whose interval is above zero",
      hint="the firms with ci_low > 0")

# %% [markdown]
# ## Task 4: does the estimate recover the truth?
#
# With simulated data the population gap is known: `cs.gaps` has it per firm and construct
# (column `gap`). Set `n_covered` to the number of firms whose CPROC interval covers the true gap.
# Would you expect all six?

# %% tags=["solution"]
truth = cs.gaps.query("construct == 'CPROC'").set_index("firm")["gap"]
n_covered = int(((cproc["ci_low"] <= truth) & (truth <= cproc["ci_high"])).sum())
print(f"{n_covered} of {len(truth)} intervals cover the true gap")

# %% tags=["check"]
_truth = cs.gaps.query("construct == 'CPROC'").set_index("firm")["gap"]
check("n_covered", n_covered, expected=int(((_cproc["ci_low"] <= _truth) & (_truth <= _cproc["ci_high"])).sum()),
      what="the number of firms whose CPROC interval covers the simulated gap",
      hint="compare cs.gaps (construct CPROC, column gap) with ci_low and ci_high, firm by firm")

# %% [markdown]
# ## Task 5: in your own words
#
# `perception_gap` warned that measurement invariance between the forms was not checked. Why does
# a provider-minus-customer gap need the two forms to measure CPROC in the same way? What would
# you run before reporting these gaps to the firms (see `custval.form_invariance`)?

# %% [markdown] tags=["solution"]
# A gap compares scores from two questionnaires answered by different people. If an item means
# something else to customers than to the firm's staff (a different loading or intercept), part
# of the difference in scores comes from the item, not from a difference in understanding, and
# the gap is biased. Before reporting, test the twin items for metric and scalar invariance
# between the forms (`custval.form_invariance(prov, cust, inst, constructs=["CPROC"])`); where
# scalar invariance (or partial invariance with the non-invariant pair released for a
# substantive reason) holds, observed gaps can be interpreted, and latent gaps
# (`custval.latent_perception_gap`) remove measurement error as well. With 95% intervals, about
# one firm in twenty is expected to miss the truth, so six of six is usual but not guaranteed.
