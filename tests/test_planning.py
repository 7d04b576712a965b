"""custval.planning.dynamic_fit_cutoffs: dynamic's population model and misspecifications, the
cutoff rule, and the same numbers whatever executor runs the seeded tasks."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import custval
from custval import planning
from custval._stats.tasks import run_tasks, task_plan, task_seeds
from custval.exceptions import SpecificationError

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module")
def hs_fit():
    hs = custval.load_dataset("holzinger_swineford1939").data
    return custval.CFA(HS_MODEL).fit(hs)


@pytest.fixture(scope="module")
def dfi(hs_fit):
    return planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, progress=False)


def _std(fit, op, lhs, rhs):
    p = fit.params_
    return float(p[(p["op"] == op) & (p["lhs"] == lhs) & (p["rhs"] == rhs)]["std_all"].iloc[0])


def test_the_population_is_the_fitted_standardized_solution(hs_fit):
    pop = planning._standardized_population(hs_fit)
    sigma = planning._population_cov(pop)
    np.testing.assert_allclose(np.diag(sigma), 1.0, atol=1e-12)
    implied = hs_fit.implied_cov_.to_numpy()
    sd = np.sqrt(np.diag(implied))
    np.testing.assert_allclose(sigma, implied / np.outer(sd, sd), atol=2e-4)  # dynamic rounds to 4 decimals
    assert pop["loadings"].loc["x2", "visual"] == round(_std(hs_fit, "=~", "visual", "x2"), 4)


def test_multi_factor_misspecifications_follow_dynamic_cfaHB(hs_fit):
    pop = planning._standardized_population(hs_fit)
    mis = planning._multi_factor_misspecifications(pop)
    L = pop["loadings"]
    # the smallest loading of each factor, the two smallest of those first: x2 (visual), x7 (speed)
    lowest = {f: L[f][L[f] != 0].abs().idxmin() for f in L.columns}
    order = sorted(lowest.values(), key=lambda it: abs(L.loc[it][L.loc[it] != 0].iloc[0]))[:2]
    assert [it for _, it, _ in mis] == order
    h = planning._coefficient_h(L)
    for f, it, v in mis:
        own = L.loc[it][L.loc[it] != 0].index[0]
        assert f != own and h[f] == max(h[g] for g in L.columns if g != own)
        lam, phi = L.loc[it, own], pop["factor_correlations"].loc[own, f]
        assert v == min(abs(lam), round(0.95 * (np.sqrt(lam**2 * phi**2 + 1 - lam**2) - abs(lam * phi)), 4))
    sigma = planning._population_cov(pop, cross=mis)
    np.testing.assert_allclose(np.diag(sigma), 1.0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(sigma) > 0)


def test_one_factor_levels_pair_the_weakest_items():
    rng = np.random.default_rng(3)
    lam = np.array([0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45])
    f = rng.standard_normal(600)
    x = np.outer(f, lam) + rng.standard_normal((600, 8)) * np.sqrt(1 - lam**2)
    data = pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 9)])
    fit = custval.CFA("F =~ " + " + ".join(data.columns)).fit(data)
    pairs, counts = planning._one_factor_levels(planning._standardized_population(fit))
    weakest = list(planning._standardized_population(fit)["loadings"]["F"].abs().sort_values(kind="stable").index)
    assert counts == [1, 2, 4]  # 8 items: 4 pairs; a third, two thirds and all of them
    assert [(a, b) for a, b, _ in pairs] == [(weakest[1], weakest[0]), (weakest[3], weakest[2]),
                                             (weakest[5], weakest[4]), (weakest[7], weakest[6])]
    res = planning.dynamic_fit_cutoffs(fit, replications=25, seed=2, progress=False)
    assert list(res.table.index) == [0, 1, 2, 3] and res.r_call.startswith("dynamic::cfaOne")


def test_cutoff_rule_and_levels(dfi, hs_fit):
    t = dfi.table
    assert list(t.index) == [0, 1, 2] and dfi.n == 301 and dfi.replications == 30
    sim = dfi.simulated
    true = sim[sim["level"] == 0]
    assert t.loc[0, "srmr"] == np.quantile(true["srmr"], 0.95)
    assert t.loc[0, "cfi"] == np.quantile(true["cfi"], 0.05)
    # a misspecified level's cutoff keeps 95% of the right-model fits on the good side
    for k in (1, 2):
        mis = sim[sim["level"] == k]
        if not np.isnan(t.loc[k, "srmr"]):
            assert t.loc[k, "srmr"] >= t.loc[0, "srmr"]
            assert 0.5 <= t.loc[k, "srmr_power"] <= 0.95
            assert t.loc[k, "srmr"] == np.quantile(mis["srmr"], round(1 - t.loc[k, "srmr_power"], 2))
    assert sim.groupby("level")["srmr"].mean().is_monotonic_increasing
    assert dfi.fitted["srmr"] == hs_fit.fit_measures_["srmr"]
    assert set(dfi.verdict().index) == {"srmr", "rmsea", "cfi"}


def test_same_numbers_whatever_runs_the_tasks(hs_fit, dfi):
    with ThreadPoolExecutor(max_workers=2) as pool:
        threads = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, executor=pool, progress=False)
    with ProcessPoolExecutor(max_workers=2) as pool:
        procs = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, executor=pool, progress=False)
    pd.testing.assert_frame_equal(threads.simulated, dfi.simulated, check_exact=True)
    pd.testing.assert_frame_equal(procs.simulated, dfi.simulated, check_exact=True)
    assert threads == dfi and procs == dfi
    other = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=8, progress=False)
    assert not other.simulated.equals(dfi.simulated)


def test_dask_client_gives_the_same_numbers(hs_fit, dfi):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        res = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, executor=client, progress=False)
    pd.testing.assert_frame_equal(res.simulated, dfi.simulated, check_exact=True)
    assert res == dfi


def test_tasks_are_seeded_per_task_not_per_worker():
    assert task_plan(60) == [25, 25, 10] and task_plan(25) == [25]
    a = [np.random.default_rng(s).random() for s in task_seeds(5, 3)]
    b = [np.random.default_rng(s).random() for s in task_seeds(5, 3)]
    assert a == b and len(set(a)) == 3
    assert run_tasks(pow, [(2, 3), (3, 2)], progress=False) == [8, 9]


def test_bad_input_is_named(hs_fit):
    with pytest.raises(SpecificationError, match="replications must be a positive integer"):
        planning.dynamic_fit_cutoffs(hs_fit, replications=0, progress=False)
    with pytest.raises(SpecificationError, match="executor must be None"):
        planning.dynamic_fit_cutoffs(hs_fit, replications=5, executor="dask", progress=False)
    with pytest.raises(SpecificationError, match="needs a fitted custval.CFA"):
        planning.dynamic_fit_cutoffs(custval.CFA(HS_MODEL), progress=False)
    hs = custval.load_dataset("holzinger_swineford1939").data
    two_groups = custval.CFA(HS_MODEL, group="school").fit(hs)
    with pytest.raises(SpecificationError, match="one-group models"):
        planning.dynamic_fit_cutoffs(two_groups, progress=False)
    three = custval.CFA("F =~ x1 + x2 + x3").fit(hs)
    with pytest.raises(SpecificationError, match="at least 4 items"):
        planning.dynamic_fit_cutoffs(three, progress=False)


def test_chunk_sets_the_task_size_and_is_part_of_the_random_stream(hs_fit, dfi):
    assert task_plan(60, 40) == [40, 20]
    same = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, progress=False, chunk=25)
    assert same == dfi and same.chunk == 25
    big = planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, progress=False, chunk=30)
    assert big.chunk == 30 and "30 per task" in big.summary()
    # one task of 30 instead of 25 + 5: the first task's draws coincide, the sixth-and-later differ
    first = dfi.simulated["replication"] < 25
    lvl0 = dfi.simulated["level"] == 0
    pd.testing.assert_frame_equal(big.simulated[first & lvl0], dfi.simulated[first & lvl0], check_exact=True)
    assert not big.simulated[~first & lvl0].equals(dfi.simulated[~first & lvl0])
    with ThreadPoolExecutor(2) as ex:
        assert planning.dynamic_fit_cutoffs(hs_fit, replications=30, seed=7, progress=False, chunk=30,
                                            executor=ex) == big
    for bad in (0, -5, 2.5, True, "25"):
        with pytest.raises(SpecificationError, match="chunk .replications per task. must be a positive integer"):
            planning.dynamic_fit_cutoffs(hs_fit, replications=30, progress=False, chunk=bad)
