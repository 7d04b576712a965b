"""Reliability coefficients against psych (golden values from tests/r/reliability.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _relhelp import BFI_SCALES, MOBI_BLOCKS, bfi, mobi, sim
from conftest import load_golden

from custval import exceptions as ex
from custval._io.paths import RAW_DATA_DIR
from custval.reliability import cronbach_alpha, guttman_lambda6, scale_reliability, split_half

RTOL = 1e-10


def _cases():
    g = load_golden("reliability", "bfi")
    data = bfi()
    for policy in ("pairwise", "listwise"):
        for s, items in BFI_SCALES.items():
            yield f"bfi-{policy}-{s}", data[items], policy, g[policy][s]
    g = load_golden("reliability", "mobi")
    data = mobi()
    for s, items in MOBI_BLOCKS.items():
        yield f"mobi-{s}", data[items], "listwise", g["listwise"][s]
    data, g = sim()
    for policy in ("pairwise", "listwise"):
        for s in ("V", "W", "X"):
            items = g[policy][s]["items"]
            yield f"sim-{policy}-{s}", data[items], policy, g[policy][s]


CASES = list(_cases())


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ex.FewItemsWarning)
        return fn(*args, **kw)


@pytest.mark.parametrize(("x", "policy", "ref"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_alpha_matches_psych(x, policy, ref):
    res = _quiet(cronbach_alpha, x, nan_policy=policy, ci_method="feldt")
    assert res.n == ref["n"]
    np.testing.assert_allclose(res.estimate, ref["alpha"], rtol=RTOL)
    np.testing.assert_allclose(res.std_alpha, ref["std_alpha"], rtol=RTOL)
    np.testing.assert_allclose(res.average_r, ref["average_r"], rtol=RTOL)
    np.testing.assert_allclose(res.lambda6, ref["G6"], rtol=RTOL)
    np.testing.assert_allclose(res.se, ref["ase"], rtol=RTOL)
    np.testing.assert_allclose([res.ci_low, res.ci_high], [ref["feldt_low"], ref["feldt_high"]], rtol=RTOL)
    d = _quiet(cronbach_alpha, x, nan_policy=policy, ci_method="duhachek")
    np.testing.assert_allclose([d.ci_low, d.ci_high], [ref["duhachek_low"], ref["duhachek_high"]], rtol=RTOL)
    assert res.r_call.startswith("psych::alpha(")


@pytest.mark.parametrize(("x", "policy", "ref"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lambda6_and_split_half_match_psych(x, policy, ref):
    l6 = guttman_lambda6(x, nan_policy=policy)
    np.testing.assert_allclose(l6.estimate, ref["G6"], rtol=RTOL)
    assert l6.n == ref["n"] and l6.n_items == x.shape[1]
    ps = split_half(x, nan_policy=policy, splits="psych")
    np.testing.assert_allclose([ps.max, ps.mean, ps.min], list(ref["splithalf_psych"].values()), rtol=RTOL)
    al = split_half(x, nan_policy=policy, splits="all")
    r = ref["splithalf_all"]
    np.testing.assert_allclose([al.max, al.mean, al.min], [r["max"], r["mean"], r["min"]], rtol=RTOL)
    assert al.n_splits == r["n_splits"]


def test_split_half_all_is_order_free():
    x = bfi()[BFI_SCALES["O"]]
    a = split_half(x)
    b = split_half(x[x.columns[::-1]])
    np.testing.assert_allclose([a.max, a.mean, a.min], [b.max, b.mean, b.min], rtol=1e-12)


def test_alpha_listwise_drops_incomplete_rows_and_reports_them():
    x = bfi()[BFI_SCALES["A"]]
    res = cronbach_alpha(x)
    complete = int(x.notna().all(axis=1).sum())
    assert res.n == complete
    assert res.n_excluded == len(x) - complete


def test_raise_policy_names_the_items():
    x = bfi()[BFI_SCALES["A"]]
    with pytest.raises(ex.DataValidationError, match="A1"):
        cronbach_alpha(x, nan_policy="raise")


def test_unkeyed_negative_items_give_negative_covariance_warning_only_when_negative():
    g = load_golden("reliability", "bfi")["unkeyed_A_listwise"]
    x = bfi(keyed=False)[BFI_SCALES["A"]]
    res = cronbach_alpha(x)  # average covariance still positive: no warning (filterwarnings=error)
    np.testing.assert_allclose(res.estimate, g["alpha"], rtol=RTOL)
    neg = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3.0], "b": [5, 3, 4, 2, 1, 2.0], "c": [2, 3, 1, 5, 4, 4.0]})
    with pytest.warns(ex.NegativeCovarianceWarning, match="negative"):
        r = cronbach_alpha(neg, ci_method=None)
    assert r.estimate < 0


def test_constant_item_warning_names_item():
    # a constant item leaves raw alpha defined (it counts in k); std_alpha etc. are NaN with the reason
    x = bfi()[BFI_SCALES["A"]].dropna().copy()
    x["A3"] = 4.0
    with pytest.warns(ex.ConstantItemWarning, match=r"A3 \(every valid answer = 4\)"):
        res = cronbach_alpha(x)
    c = x.cov().to_numpy()
    np.testing.assert_allclose(res.estimate, 5 / 4 * (1 - np.trace(c) / c.sum()), rtol=1e-12)
    assert np.isnan(res.std_alpha) and any("std_alpha" in n for n in res.notes)
    x[BFI_SCALES["A"]] = 4.0
    with pytest.raises(ex.ConstantItemError, match="every item is constant"):
        cronbach_alpha(x)


def test_all_missing_item_error_names_item():
    x = bfi()[BFI_SCALES["A"]].copy()
    x["A2"] = np.nan
    with pytest.raises(ex.InsufficientDataError, match=r"A2"):
        cronbach_alpha(x, nan_policy="pairwise")


def test_fewer_respondents_than_items():
    x = bfi()[BFI_SCALES["A"]].dropna().iloc[:4]
    with pytest.raises(ex.InsufficientDataError, match="4 respondent"):
        cronbach_alpha(x)


def test_collinear_items_named_in_lambda6():
    x = bfi()[BFI_SCALES["A"]].dropna().copy()
    x["A6"] = x["A2"]
    with pytest.raises(ex.SingularMatrixError, match="A2 and A6"):
        guttman_lambda6(x)
    x["A6"] = x["A2"] + x["A3"]
    with pytest.raises(ex.SingularMatrixError, match="smallest eigenvalue"):
        guttman_lambda6(x)
    with pytest.warns(ex.NotPositiveDefiniteWarning, match="lambda6 is undefined"):
        res = cronbach_alpha(x)  # alpha itself is defined; lambda6 is NaN, with the reason
    assert np.isnan(res.lambda6) and np.isfinite(res.estimate)


def test_two_items_warn_few_items():
    x = mobi()[MOBI_BLOCKS["PERV"]]
    with pytest.warns(ex.FewItemsWarning, match="2 items"):
        cronbach_alpha(x)


def test_bad_arguments():
    x = mobi()[MOBI_BLOCKS["IMAG"]]
    with pytest.raises(ex.SpecificationError, match="ci_method"):
        cronbach_alpha(x, ci_method="wald")
    with pytest.raises(ex.SpecificationError, match="nan_policy"):
        cronbach_alpha(x, nan_policy="drop")
    bad = x.astype({"IMAG1": "str"})
    with pytest.raises(ex.DataValidationError, match="IMAG1"):
        cronbach_alpha(bad)


def test_result_display():
    res = cronbach_alpha(mobi()[MOBI_BLOCKS["IMAG"]])
    frame = res.to_frame()
    assert list(frame.columns[:6]) == ["estimate", "se", "ci_low", "ci_high", "n", "n_items"]
    assert "In R: psych::alpha" in res.summary()
    assert "<table" in res._repr_html_()


# --------------------------------------------------------------------------- omega
from custval.reliability import omega  # noqa: E402

OM_RTOL = 1e-6


def _omega_cases():
    g = load_golden("reliability", "bfi")
    data = bfi()
    for policy in ("pairwise", "listwise"):
        for s, items in BFI_SCALES.items():
            yield f"bfi-{policy}-{s}", data[items], policy, g[f"omega1_{policy}"][s]
    g = load_golden("reliability", "mobi")
    for s, ref in g["omega1_listwise"].items():
        yield f"mobi-{s}", mobi()[ref["items"]], "listwise", ref
    data, g = sim()
    for policy in ("pairwise", "listwise"):
        for s, ref in g[f"omega1_{policy}"].items():
            yield f"sim-{policy}-{s}", data[ref["items"]], policy, ref


OMEGA_CASES = list(_omega_cases())


@pytest.mark.parametrize(("x", "policy", "ref"), [c[1:] for c in OMEGA_CASES], ids=[c[0] for c in OMEGA_CASES])
def test_omega_one_factor_matches_psych(x, policy, ref):
    rtol = OM_RTOL
    if ref["items"][0] == "CUSL1":
        # Known divergence: CUSL3 is a Heywood case (uniqueness at psych's bound 0.005); both
        # optimisers stop on the boundary at slightly different points.
        with pytest.warns(ex.HeywoodWarning, match="CUSL3"):
            res = omega(x, nan_policy=policy, ci_method=None)
        rtol = 5e-4
        for key in ("omega_total", "omega_h", "omega_total_implied"):
            np.testing.assert_allclose(getattr(res, key), ref[key], rtol=rtol)
        return
    res = _quiet(omega, x, nan_policy=policy, ci_method=None)
    np.testing.assert_allclose(res.omega_total, ref["omega_total"], rtol=OM_RTOL)
    np.testing.assert_allclose(res.omega_h, ref["omega_h"], rtol=OM_RTOL)
    np.testing.assert_allclose(res.omega_total_implied, ref["omega_total_implied"], rtol=OM_RTOL)
    np.testing.assert_allclose(res.loadings["g"], [ref["loadings"][i] for i in ref["items"]], rtol=OM_RTOL)
    np.testing.assert_allclose(res.loadings["u2"], [ref["u2"][i] for i in ref["items"]], rtol=OM_RTOL)


def _sl_cases():
    g = load_golden("reliability", "bfi")
    data = bfi()
    for key, ref in g["omega_sl"].items():
        yield f"bfi-{key}", data[ref["items"]], ref
    g = load_golden("reliability", "mobi")
    for key, ref in g["omega_sl"].items():
        yield f"mobi-{key}", mobi()[ref["items"]], ref
    data, g = sim()
    for key, ref in g["omega_sl"].items():
        yield f"sim-{key}", data[ref["items"]], ref


SL_CASES = list(_sl_cases())


@pytest.mark.parametrize(("x", "ref"), [c[1:] for c in SL_CASES], ids=[c[0] for c in SL_CASES])
def test_omega_schmid_leiman_matches_psych(x, ref):
    policy = "listwise" if ref["call"].startswith("psych::omega(na.omit") else "pairwise"
    res = omega(x, n_factors=ref["n_factors"], nan_policy=policy, ci_method=None)
    for key in ("omega_h", "omega_total", "omega_lim", "omega_h_implied", "omega_total_implied", "ecv"):
        np.testing.assert_allclose(getattr(res, key), ref[key], rtol=OM_RTOL, err_msg=key)
    np.testing.assert_allclose(res.loadings["g"], [ref["g"][i] for i in ref["items"]], rtol=OM_RTOL)
    np.testing.assert_allclose(res.loadings["h2"], [ref["h2"][i] for i in ref["items"]], rtol=OM_RTOL)


def test_omega_bootstrap_reproducible_and_covers_estimate():
    x = bfi()[BFI_SCALES["C"]]
    a = omega(x, n_boot=300, seed=4)
    b = omega(x, n_boot=300, seed=4)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.omega_total < a.ci_high
    c = omega(x, n_boot=300, seed=5)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    frame = a.to_frame()
    assert frame.loc["omega_total", "denominator"] == "observed 1'R1"


def test_alpha_bootstrap_reproducible():
    x = bfi()[BFI_SCALES["O"]]
    a = cronbach_alpha(x, ci_method="bootstrap", n_boot=400, seed=1)
    b = cronbach_alpha(x, ci_method="bootstrap", n_boot=400, seed=1)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    f = cronbach_alpha(x, ci_method="feldt")
    assert abs(a.ci_low - f.ci_low) < 0.01 and abs(a.ci_high - f.ci_high) < 0.01
    bca = cronbach_alpha(x, ci_method="bca", n_boot=400, seed=1, nan_policy="pairwise")
    assert bca.ci_low < bca.estimate < bca.ci_high


def test_omega_collinear_items_named():
    x = bfi()[BFI_SCALES["A"]].dropna().copy()
    x["A6"] = x["A5"]
    with pytest.raises(ex.SingularMatrixError, match="A5 and A6"):
        omega(x, ci_method=None)


# --------------------------------------------------------------------------- reliability table
from _relhelp import StubInstrument, bfi_instrument  # noqa: E402


@pytest.mark.parametrize("policy", ["listwise", "pairwise"])
def test_reliability_table_matches_psych(policy):
    g = load_golden("reliability", "bfi")
    table = scale_reliability(bfi(keyed=False), bfi_instrument(), nan_policy=policy, ci_method="feldt")
    assert list(table.index) == list(BFI_SCALES)
    for s in BFI_SCALES:
        ref, ro = g[policy][s], g[f"omega1_{policy}"][s]
        row = table.loc[s]
        assert row["n"] == ref["n"] and row["n_items"] == 5
        np.testing.assert_allclose(row[["alpha", "std_alpha", "lambda6", "average_r"]].to_numpy(float),
                                   [ref["alpha"], ref["std_alpha"], ref["G6"], ref["average_r"]], rtol=RTOL)
        np.testing.assert_allclose(row[["alpha_ci_low", "alpha_ci_high"]].to_numpy(float),
                                   [ref["feldt_low"], ref["feldt_high"]], rtol=RTOL)
        np.testing.assert_allclose(row[["omega_total", "omega_total_implied"]].to_numpy(float),
                                   [ro["omega_total"], ro["omega_total_implied"]], rtol=OM_RTOL)
    assert table["composite_reliability"].isna().all()


def test_reliability_bootstrap_all_constructs_reproducible():
    inst = bfi_instrument()
    a = scale_reliability(bfi(keyed=False), inst, n_boot=300, seed=2)
    b = scale_reliability(bfi(keyed=False), inst, n_boot=300, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert ((a["alpha_ci_low"] < a["alpha"]) & (a["alpha"] < a["alpha_ci_high"])).all()
    assert ((a["omega_ci_low"] < a["omega_total"]) & (a["omega_total"] < a["omega_ci_high"])).all()
    # same resamples as cronbach_alpha on one construct (listwise rows of that construct)
    one = cronbach_alpha(bfi()[BFI_SCALES["E"]], ci_method="bootstrap", n_boot=300, seed=2)
    np.testing.assert_allclose([one.ci_low, one.ci_high], a.loc["E", ["alpha_ci_low", "alpha_ci_high"]].to_numpy(float),
                               rtol=1e-12)


def test_reliability_bca_pairwise_runs():
    t = scale_reliability(bfi(keyed=False), bfi_instrument(), nan_policy="pairwise", ci_method="bca", n_boot=200)
    assert ((t["alpha_ci_low"] < t["alpha"]) & (t["alpha"] < t["alpha_ci_high"])).all()


def test_reliability_mobi_single_and_two_item_constructs():
    blocks = {**MOBI_BLOCKS, "CUSCO": ["CUSCO"]}
    inst = StubInstrument(blocks, (), (1, 10))
    with pytest.warns(ex.FewItemsWarning) as rec:
        t = scale_reliability(mobi(), inst, ci_method=None)
    msgs = " ".join(str(w.message) for w in rec)
    assert "CUSCO" in msgs and "PERV" in msgs
    assert np.isnan(t.loc["CUSCO", "alpha"]) and "single item" in t.loc["CUSCO", "note"]
    assert np.isnan(t.loc["PERV", "omega_total"]) and np.isfinite(t.loc["PERV", "alpha"])
    ref = load_golden("reliability", "mobi")["listwise"]["PERQ"]
    np.testing.assert_allclose(t.loc["PERQ", "alpha"], ref["alpha"], rtol=RTOL)


def test_reliability_keys_apply_to_every_coefficient():
    raw = bfi(keyed=False)
    t = scale_reliability(raw, StubInstrument({"C": BFI_SCALES["C"]}, ["C4", "C5"]), ci_method=None)
    a = cronbach_alpha(bfi()[BFI_SCALES["C"]], ci_method=None)
    o = omega(bfi()[BFI_SCALES["C"]], ci_method=None)
    np.testing.assert_allclose(t.loc["C", ["alpha", "std_alpha", "lambda6", "omega_total"]].to_numpy(float),
                               [a.estimate, a.std_alpha, a.lambda6, o.omega_total], rtol=1e-12)


# --------------------------------------------------------------------------- coverage simulation
def _population_alpha(lam, theta):
    sigma = np.outer(lam, lam) + np.diag(theta)
    k = len(lam)
    return k / (k - 1) * (1 - np.trace(sigma) / sigma.sum())


@pytest.mark.parametrize(
    ("lam", "method"),
    [([0.8, 0.7, 0.6, 0.5, 0.4], "duhachek"),  # congeneric: the asymptotic (ADF/normal) interval
     ([0.6, 0.6, 0.6, 0.6], "feldt")],  # parallel items: Feldt's F interval is exact
    ids=["congeneric-duhachek", "parallel-feldt"],
)
def test_alpha_ci_coverage(lam, method):
    """Simulated (seeded) one-factor data: the 95% CI covers the population alpha 93-97% of the time."""
    lam = np.asarray(lam)
    theta = 1 - lam**2
    target = _population_alpha(lam, theta)
    rng = np.random.default_rng(20240611)
    reps, n = 1000, 150
    f = rng.standard_normal((reps, n, 1))
    e = rng.standard_normal((reps, n, len(lam))) * np.sqrt(theta)
    x = f * lam + e
    hits = 0
    for r in range(reps):
        res = cronbach_alpha(x[r], ci_method=method)
        hits += res.ci_low <= target <= res.ci_high
    coverage = hits / reps
    print(f"coverage {method}: {coverage:.3f}")
    assert 0.93 <= coverage <= 0.97, coverage


def test_reliability_with_shipped_bfi_codebook():
    codebook = pytest.importorskip("custval.codebook")
    g = load_golden("reliability", "bfi")
    t = scale_reliability(bfi(keyed=False), codebook.load_instrument("bfi"), ci_method="duhachek")
    for s in BFI_SCALES:
        np.testing.assert_allclose(t.loc[s, "alpha"], g["listwise"][s]["alpha"], rtol=RTOL)
        np.testing.assert_allclose([t.loc[s, "alpha_ci_low"], t.loc[s, "alpha_ci_high"]],
                                   [g["listwise"][s]["duhachek_low"], g["listwise"][s]["duhachek_high"]],
                                   rtol=RTOL)


def test_package_attribute_scale_reliability_is_callable():
    import custval
    import custval.reliability  # the module stays a module; the function has its own name

    assert custval.scale_reliability is custval.reliability.scale_reliability
    t = custval.scale_reliability(bfi(keyed=False), bfi_instrument(), ci_method=None)
    assert list(t.index) == list(BFI_SCALES)


def test_reliability_takes_cr_and_ave_from_a_fitted_cfa():
    """With ``cfa=``, CR and AVE are semTools' compRelSEM/AVE (golden: tests/r/validity.R)."""
    from custval.cfa import CFA
    from custval.codebook import Instrument

    gold = load_golden("validity", "reliability")["hs39"]
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    inst = Instrument.from_dict(
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
        scale=(-10, 20),
    )
    fit = CFA(gold["model"]).fit(hs)
    rel = scale_reliability(hs, inst, ci_method=None, cfa=fit)
    np.testing.assert_allclose(rel["composite_reliability"], pd.Series(gold["polished"]["cr_obs"])[rel.index], rtol=1e-6)
    np.testing.assert_allclose(rel["ave"], pd.Series(gold["polished"]["ave_obs"])[rel.index], rtol=1e-6)
    assert rel["alpha"].notna().all()
