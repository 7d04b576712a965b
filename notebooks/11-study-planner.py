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
# # How many firms, accounts and customers does a customer-wisdom study need? (a study planner)
#
# Before fielding the Customer Wisdom Instrument (CWI) in many firms, two planning questions
# come up:
#
# 1. **Is my CFA's fit good enough?** The fixed cutoffs (SRMR <= .08, RMSEA <= .06, CFI >= .95)
#    were derived for one model; *dynamic* cutoffs (McNeish & Wolf, 2023) simulate the user's own
#    model, right and with omitted cross-loadings, and find the fit values that separate them:
#    `custval.planning.dynamic_fit_cutoffs`.
# 2. **Will the study answer its questions?** `custval.planning.simulate_study` draws whole
#    studies (firms, provider respondents, customer accounts) from a design and analyses each as
#    custval analyses real data: how wide the loading intervals are, how often HTMT establishes
#    discriminant validity, how often the provider/customer invariance test finds an item whose
#    meaning differs between the forms, how wide each firm's perception-gap interval is, and how
#    many customers per account are needed for their answers to agree (rwg(j) >= .70).
#
# Both cut their simulations into seeded tasks of 25 replications: the same `SEED` gives the same
# numbers serially (`executor=None`, used below), on a process pool, or on a Dask cluster (last
# section). The replications here are small so that the notebook runs in about a minute; a real
# plan uses 500 or more (the Monte Carlo standard errors, `_se`, say how precise a column is).

# %% tags=["parameters"]
# Parameters: change them here and re-run the notebook.
SEED = 0
DFI_REPLICATIONS = 50  # per misspecification level; 200-500 for a real analysis
STUDY_REPLICATIONS = 10  # simulated studies per design; 500 or more for a real plan
N_BOOT = {"htmt": 100, "gaps": 100}  # bootstrap resamples inside each simulated study
USE_DASK = False  # True: run the same plan on a local Dask cluster (needs custval[distributed])

# %%
import matplotlib.pyplot as plt
import pandas as pd

import custval
from custval.planning import dynamic_fit_cutoffs, simulate_study
from custval.report import one_line_warnings, show_figure
from custval.simulate import case_study

one_line_warnings()
pd.set_option("display.float_format", "{:.3f}".format)

# %% [markdown]
# ## 1. Dynamic fit cutoffs for a CWI CFA
#
# The data: the customer form of a simulated six-firm CWI case study (`custval.simulate.case_study`,
# labelled simulated; 40 accounts per firm; "don't know" answers become missing when the export
# is validated), keyed (the codebook's reverse items recoded). The model: three of the customer
# constructs, collaboration process (CPROC), quality (CQUAL) and management (MGMT).

# %%
cs = case_study({"n_accounts": 40}, seed=SEED)
_, customer = cs.validated()
cwi = custval.load_instrument("cwi").form("customer")
customer = cwi.keyed(customer)
blocks = {c: list(cwi.constructs[c]) for c in ("CPROC", "CQUAL", "MGMT")}
items = [it for its in blocks.values() for it in its]
complete = customer.dropna(subset=items)  # listwise: dynamic_fit_cutoffs simulates complete data
print(f"customer rows: {len(customer)} = {len(complete)} complete on the {len(items)} items + "
      f"{len(customer) - len(complete)} with a missing answer (left out)")
fit = custval.CFA(blocks).fit(complete[items])
fit.fit_measures_[["chisq", "df", "cfi", "rmsea", "srmr"]].to_frame("fitted").T

# %% [markdown]
# `dynamic_fit_cutoffs` simulates samples of the same size from the fitted standardized
# solution (level 0: the model is right) and from the solution with one and then two omitted
# cross-loadings (levels 1 and 2), fits the model to each, and reports per level the cutoff
# that flags the misspecified samples while keeping 95% of the right-model samples, with the
# share it flags (power; no cutoff below 50%).

# %%
dfi = dynamic_fit_cutoffs(fit, replications=DFI_REPLICATIONS, seed=SEED, progress=False)
dfi.table

# %%
level0 = dfi.table.loc[0]
within = {"srmr": dfi.fitted["srmr"] <= level0["srmr"], "rmsea": dfi.fitted["rmsea"] <= level0["rmsea"],
          "cfi": dfi.fitted["cfi"] >= level0["cfi"]}
print(pd.DataFrame({"fitted": dfi.fitted, "level-0 cutoff": level0[["srmr", "rmsea", "cfi"]].astype(float),
                    "within level 0": pd.Series(within), "highest level met": dfi.verdict()}).to_string())
print(f"{dfi.n_failed} of {len(dfi.simulated)} simulated fits did not converge")

# %% [markdown]
# "Within level 0" means the fitted value is within what 95% of samples from a right model give
# (the data here were simulated from a model of this form, so it should be); the highest level
# met (`verdict()`) says the fit is also better than the cutoff for that many omitted
# cross-loadings (-1: no level is met). With few replications the
# cutoffs themselves are rough: rerun with `DFI_REPLICATIONS = 500` before reporting them.

# %% [markdown]
# ## 2. Power and precision of two study designs
#
# A design is a dict (or a YAML file with the same keys): the instrument (here the CWI codebook's
# paired constructs CQUAL and CPROC, with its customer item names and its 1-7 scale), the
# standardized loadings and factor correlation, the forms, and per firm the provider
# respondents per role and the customer accounts. The customer item `CQUAL_C2` is given a lower
# intercept than its provider twin (half a standard deviation): the question is how often the
# form-invariance test finds it. The two designs differ in the number of firms and accounts.

# %%
base = {
    "instrument": "cwi",
    "constructs": ["CQUAL", "CPROC"],
    "loadings": 0.7,
    "factor_correlations": 0.5,
    "respondents": {"manager": 3, "staff": 10},
    "customers_per_account": 4,
    "account_icc": 0.2,
    "gap": 0.3,
    "non_invariant": {"construct": "CQUAL", "item": "CQUAL_C2", "intercept": -0.5},
    "n_boot": N_BOOT,
}
designs = [
    {**base, "name": "8 firms x 6 accounts", "firms": 8, "accounts": 6},
    {**base, "name": "16 firms x 12 accounts", "firms": 16, "accounts": 12},
]
plan = simulate_study(designs, replications=STUDY_REPLICATIONS, seed=SEED, progress=False)
plan.table.T

# %% [markdown]
# Reading the table (each value with its Monte Carlo standard error; with so few replications
# the errors are large):
#
# - `loading_ci_width`: the customer-form CFA's standardized loadings come with 95% intervals
#   about this wide; more customers make them narrower.
# - `p_htmt_below_85`: the probability that every HTMT upper bound is below .85 (discriminant
#   validity established); with a population factor correlation of .5 it is high in both designs.
# - `p_noninvariance_flagged`: the power to find the non-invariant customer item.
# - `gap_ci_width`, `gap_power`: each firm's provider-minus-customer gap interval (in scale points)
#   and the share of firms whose interval excludes 0 (the power to show a firm's gap of 0.3 SD).
# - `rwg_share`, `customers_needed`: the share of (account, construct) pairs whose customers agree
#   (rwg(j) >= .70) and the fewest customers per account with which 80% of pairs do.

# %%
plan.agreement.pivot(index="customers_per_account", columns="design", values="share")[list(plan.table.index)]

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
t = plan.table
accounts = [int(plan.designs[name]["firms"]["accounts"].iloc[0]) for name in t.index]
ax.errorbar(accounts, t["gap_ci_width"], yerr=1.96 * t["gap_ci_width_se"], fmt="o", capsize=3)
for x, (name, row) in zip(accounts, t.iterrows()):
    ax.annotate(name, (x, row["gap_ci_width"]), textcoords="offset points", xytext=(8, 0), ha="left", va="center",
                fontsize=8)
ax.set_xlabel("customer accounts per firm")
ax.set_ylabel("mean width of a firm's\n95% gap interval (scale points)")
ax.set_title(f"Simulated: {STUDY_REPLICATIONS} studies per design (bars: 95% Monte Carlo)", fontsize=10)
ax.set_xlim(0, max(accounts) * 1.3)
ax.margins(y=0.3)
paths = show_figure(fig, "11-study-planner-gap-width")

# %% [markdown]
# The per-firm gap interval depends on the firm's own respondents (its accounts), not on how
# many firms take part: the larger design narrows it because each firm has twice the accounts.
# More firms help the between-firm questions (invariance, benchmarking), more accounts per firm
# the within-firm gap.
#
# ## 3. The same plan on a Dask cluster
#
# The simulations are independent tasks, so they scale out. `executor=` takes a
# `concurrent.futures` executor (`ProcessPoolExecutor(4)`) or a `dask.distributed.Client`; each
# task pins BLAS to one thread and draws its random numbers from its own
# `SeedSequence(SEED).spawn(...)` child, so the result is bit-identical to the serial run above
# whatever runs it. `Client()` starts a local cluster (one worker per core) with a dashboard
# (its address is `client.dashboard_link`) showing the task stream as the studies run. Set
# `USE_DASK = True` in the parameters cell to run it (needs `pip install "custval[distributed]"`).

# %%
if USE_DASK:
    import importlib

    # optional, not in custval[notebooks]: pip install "custval[distributed]"
    Client = importlib.import_module("dask.distributed").Client
    with Client() as client:
        print("dashboard:", client.dashboard_link)
        plan_dask = simulate_study(designs, replications=STUDY_REPLICATIONS, seed=SEED, executor=client)
    print("same numbers as the serial run:", plan_dask == plan)
else:
    print("USE_DASK = False: the serial run above is the result (same numbers on any executor)")

# %% [markdown]
# On a SLURM cluster, `dask-jobqueue` starts the workers as batch jobs and the call is the same
# (not run here). One process per core and one thread per process, as the tasks expect:
#
# ```python
# from dask.distributed import Client
# from dask_jobqueue import SLURMCluster
#
# cluster = SLURMCluster(cores=32, processes=32, memory="64GB", walltime="02:00:00",
#                        job_extra_directives=["--account=my_project"])
# cluster.scale(jobs=2)                         # 2 nodes x 32 workers = 64 workers
# client = Client(cluster)
# plan = simulate_study(designs, replications=2000, seed=SEED, executor=client)
# client.close(); cluster.close()
# ```
#
# A 200-firm x 2,000-replication plan is 80 tasks of 25 studies per design;
# `benchmarks/README.md` projects its run time on 64 cores from the per-task cost and the
# scheduler overhead measured on this machine.
