"""custval.planning.simulate_study: the population the generator draws from, the decisions it
simulates, and the same numbers whatever executor runs the seeded tasks."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import custval
from custval import planning

CHEAP = ("htmt", "gaps", "agreement")
SMALL = {"name": "small", "constructs": {"CQUAL": 3, "CPROC": 3}, "firms": 4, "respondents": {"staff": 4},
         "accounts": 4, "customers_per_account": 3}


@pytest.fixture(scope="module")
def serial():
    # 2 designs x 2 tasks (26 replications: tasks of 25 and 1)
    return planning.simulate_study([SMALL, {**SMALL, "name": "more accounts", "accounts": 8}], replications=26,
                                   seed=11, progress=False, decisions=CHEAP)


def test_the_generator_draws_from_the_design():
    d = planning._normalize_design({"constructs": {"A": 3, "B": 3}, "loadings": {"A": [0.8, 0.7, 0.6], "B": 0.5},
                                    "factor_correlations": 0.3, "scale_points": 41, "firms": 1, "firm_sd": 0.0,
                                    "account_icc": 0.0, "accounts": 2000, "customers_per_account": 2,
                                    "forms": ["customer"]}, 0)
    _, cust = planning._simulate_forms(d, np.random.default_rng(4))
    assert len(cust) == 4000 and cust["account"].nunique() == 2000
    x = cust[["A_1", "A_2", "A_3", "B_1", "B_2", "B_3"]].to_numpy(float)
    assert x.min() >= 1 and x.max() <= 41
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.5, 0.5])
    phi = np.kron(np.array([[1, 0.3], [0.3, 1]]), np.ones((3, 3)))
    implied = np.outer(lam, lam) * phi
    r = np.corrcoef(x, rowvar=False)
    off = ~np.eye(6, dtype=bool)
    # 41 codes are close to the continuous y*: correlations near lambda_i lambda_j phi
    np.testing.assert_allclose(r[off], implied[off], atol=0.06)


def test_non_invariant_item_and_provider_gap_are_in_the_data():
    d = planning._normalize_design({"constructs": {"A": 4}, "firms": 1, "firm_sd": 0.0, "gap": 0.5,
                                    "respondents": {"staff": 3000}, "accounts": 1000, "customers_per_account": 3,
                                    "scale_points": 41, "non_invariant": {"item": 2, "intercept": -1.0}}, 0)
    prov, cust = planning._simulate_forms(d, np.random.default_rng(5))
    diff = prov[["A_1", "A_2", "A_3", "A_4"]].mean() - cust[["A_1", "A_2", "A_3", "A_4"]].mean()
    # the gap of 0.5 (x 0.7 loading) on every item, and the intercept shift of -1 more on A_3
    assert diff["A_3"] - diff[["A_1", "A_2", "A_4"]].mean() > 4 * (diff["A_3"] - diff["A_1"]) / 5 > 0
    assert d["ni"]["item"] == "A_3"


def test_table_columns_and_monte_carlo_errors(serial):
    t = serial.table
    assert list(t.index) == ["small", "more accounts"]
    assert t.loc["small", "n_provider"] == 16 and t.loc["more accounts", "n_customer"] == 96
    sim = serial.simulated
    for name in t.index:
        v = sim.loc[sim["design"] == name, "gap_ci_width"]
        assert len(v) == 26
        assert t.loc[name, "gap_ci_width"] == v.mean()
        assert t.loc[name, "gap_ci_width_se"] == pytest.approx(v.std(ddof=1) / np.sqrt(26), rel=1e-12)
    # not simulated: NaN, not 0
    assert t["loading_ci_width"].isna().all() and t["p_noninvariance_flagged"].isna().all()
    assert (serial.n_failed["loading_ci_width"] == 0).all()
    # more accounts per firm: narrower per-firm gap intervals
    assert t.loc["more accounts", "gap_ci_width"] < t.loc["small", "gap_ci_width"]
    ag = serial.agreement
    assert list(ag["customers_per_account"].unique()) == [2, 3]
    full = ag[(ag["design"] == "small") & (ag["customers_per_account"] == 3)]["share"].iloc[0]
    assert full == t.loc["small", "rwg_share"]
    shares = ag[ag["design"] == "small"].set_index("customers_per_account")["share"]
    needed = t.loc["small", "customers_needed"]
    if np.isnan(needed):
        assert (shares < 0.8).all()
    else:
        assert shares[int(needed)] >= 0.8 and (shares[shares.index < needed] < 0.8).all()
    assert "SIMULATED" in serial.summary() and "Monte Carlo" in serial.summary()


def test_same_numbers_whatever_runs_the_tasks(serial):
    designs = [SMALL, {**SMALL, "name": "more accounts", "accounts": 8}]
    kw = {"replications": 26, "seed": 11, "progress": False, "decisions": CHEAP}
    with ThreadPoolExecutor(max_workers=2) as pool:
        threads = planning.simulate_study(designs, executor=pool, **kw)
    with ProcessPoolExecutor(max_workers=2) as pool:
        procs = planning.simulate_study(designs, executor=pool, **kw)
    pd.testing.assert_frame_equal(threads.simulated, serial.simulated, check_exact=True)
    pd.testing.assert_frame_equal(procs.simulated, serial.simulated, check_exact=True)
    assert threads == serial and procs == serial
    other = planning.simulate_study(designs, **{**kw, "seed": 12})
    assert not other.simulated.equals(serial.simulated)


def test_dask_client_gives_the_same_numbers(serial):
    distributed = pytest.importorskip("distributed")
    designs = [SMALL, {**SMALL, "name": "more accounts", "accounts": 8}]
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
        res = planning.simulate_study(designs, replications=26, seed=11, executor=client, progress=False,
                                      decisions=CHEAP)
    assert res == serial


def test_every_decision_on_a_codebook_design():
    """The CWI codebook's paired constructs; a strong intercept shift is found, no shift is not."""
    base = {"instrument": "cwi", "constructs": ["CQUAL", "CPROC"], "firms": 6, "respondents": {"staff": 10},
            "accounts": 8, "customers_per_account": 3, "n_boot": {"htmt": 50, "gaps": 100}}
    res = planning.simulate_study(
        [{**base, "name": "shifted", "non_invariant": {"construct": "CQUAL", "item": "CQUAL_C2",
                                                        "intercept": -1.2}},
         {**base, "name": "invariant", "non_invariant": None, "factor_correlations": 0.95}],
        replications=2, seed=3, progress=False)
    t = res.table
    assert res.designs["shifted"]["constructs"]["CQUAL"][1] == "CQUAL_C2"
    assert res.designs["shifted"]["scale_points"] == 7
    assert t.loc["shifted", "p_noninvariance_flagged"] == 1.0
    assert 0 < t.loc["shifted", "loading_ci_width"] < 0.5
    # constructs correlated .95 are not discriminated: HTMT's bound is not below .85
    assert t.loc["invariant", "p_htmt_below_85"] == 0.0 and t.loc["shifted", "p_htmt_below_85"] == 1.0
    assert t[[c for c in planning._COLUMNS]].notna().all().all()
    assert int(res.n_failed.to_numpy().sum()) == 0


def test_yaml_design_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(("\ufeff# study plan, written in a spreadsheet's text editor\r\n"
                      "name: pilot\r\nconstructs:\r\n  CQUAL: 4\r\n  MGMT: [m1, m2, m3]\r\n"
                      "loadings:\r\n  CQUAL: 0.75\r\n  MGMT: [0.6, 0.7, 0.8]\r\n"
                      "factor_correlations:\r\n  CQUAL: {MGMT: 0.35}\r\nforms: [customer]\r\n"
                      "firms:\r\n  - {name: \"Acme Oy\"}\r\n  - {name: Beta, accounts: 5}\r\n").encode("utf-8"))
    res = planning.simulate_study(str(path), replications=2, seed=1, progress=False)
    assert list(res.table.index) == ["pilot"]
    d = res.designs["pilot"]
    assert d["constructs"]["MGMT"] == ("m1", "m2", "m3") and d["loadings"]["m3"] == 0.8
    assert d["factor_correlations"].loc["MGMT", "CQUAL"] == 0.35
    assert list(d["firms"]["firm"]) == ["Acme Oy", "Beta"]
    assert res.table.loc["pilot", "n_customer"] == 10 * 3 + 5 * 3
    # the customer form alone: no invariance or gap decisions, said by NaN and no failures
    assert np.isnan(res.table.loc["pilot", "gap_ci_width"]) and res.n_failed.to_numpy().sum() == 0
    assert res.table.loc["pilot", "loading_ci_width"] > 0


def test_public_name():
    assert custval.simulate_study is planning.simulate_study


def test_warnings_are_quiet_in_tasks_on_threads_and_restored_after():
    import threading
    import warnings

    from custval._stats.tasks import quiet_warnings
    from custval.exceptions import CustvalWarning

    before = list(warnings.filters)
    start = threading.Barrier(4)

    def task(i):
        start.wait()
        with quiet_warnings(CustvalWarning):
            for _ in range(200):
                warnings.warn(f"inside task {i}", CustvalWarning, stacklevel=1)  # an error under pytest if it escaped
        return i

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(task, range(4))) == [0, 1, 2, 3]
    assert warnings.filters == before
    with pytest.warns(CustvalWarning, match="outside"):
        warnings.warn("outside", CustvalWarning, stacklevel=1)


def test_failed_analyses_are_counted_and_left_out():
    """18 customers for a 2-factor CFA: some simulated samples are empirically underidentified."""
    tiny = {"name": "tiny", "constructs": {"A": 3, "B": 3}, "firms": 3, "accounts": 3, "customers_per_account": 2}
    res = planning.simulate_study(tiny, replications=3, seed=0, progress=False, decisions=("loadings", "agreement"))
    sim = res.simulated
    failed = int(sim["loading_ci_width"].isna().sum())
    assert failed >= 1 and res.n_failed.loc["tiny", "loading_ci_width"] == failed
    assert res.n_failed.loc["tiny", "rwg_share"] == 0
    ok = sim["loading_ci_width"].dropna()
    if len(ok):
        assert res.table.loc["tiny", "loading_ci_width"] == ok.mean()
    assert "analyses failed and are left out" in res.summary()
