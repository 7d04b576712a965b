"""custval.validity against semTools/lavaan golden values (tests/r/validity.R)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval._sem.spec import measurement_blocks as _parse_measurement
from custval._stats.htmt import htmt_from_correlations, multinomial_weights, weighted_correlations
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    FewItemsWarning,
    MissingDataWarning,
    SpecificationError,
)
from custval.validity import cross_loadings, htmt
from tests.conftest import load_golden


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / name / f"{name}.csv")


@pytest.fixture(scope="module")
def mobi():
    return _read("mobi")


@pytest.fixture(scope="module")
def corp():
    # declared missing rule (tests/r/validity.R): -99 -> NaN, listwise deletion
    return _read("corp_rep").replace(-99, np.nan)


@pytest.fixture(scope="module")
def hs():
    return _read("holzinger_swineford1939")


def _data(name, mobi, corp, hs):
    return {"mobi_ecsi": mobi, "corp_rep": corp, "hs39": hs}[name]


# --------------------------------------------------------------------------- HTMT
@pytest.mark.parametrize("case", ["mobi_ecsi", "corp_rep", "hs39"])
@pytest.mark.parametrize("kind", ["htmt", "htmt2"])
def test_htmt_matches_semtools(case, kind, mobi, corp, hs):
    gold = load_golden("validity", "htmt")[case]
    data = _data(case, mobi, corp, hs)
    if case == "corp_rep":
        with pytest.warns(MissingDataWarning, match="listwise deletion drops 8 of 344"):
            res = htmt(data, gold["model"], kind=kind, n_boot=0)
    else:
        res = htmt(data, gold["model"], kind=kind, n_boot=0)
    ref = pd.DataFrame(gold[kind]["values"], index=gold[kind]["names"], columns=gold[kind]["names"])
    assert list(res.matrix.index) == gold[kind]["names"]
    np.testing.assert_allclose(res.matrix.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-10)
    assert res.n == gold["n_complete"]
    assert res.n + res.n_excluded == len(data)
    assert ("htmt2 = TRUE" in res.r_call) == (kind == "htmt2")


def test_weighted_correlations_equal_explicit_resamples(mobi):
    x = mobi.to_numpy(dtype=float)
    rng = np.random.default_rng(5)
    w = multinomial_weights(rng, len(x), 7)
    assert (w.sum(axis=1) == len(x)).all()
    r = weighted_correlations(x, w)
    for b in range(7):
        rows = np.repeat(np.arange(len(x)), w[b].astype(int))
        np.testing.assert_allclose(r[b], np.corrcoef(x[rows], rowvar=False), atol=1e-12)


def test_htmt_engine_matches_a_loop_definition():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    r = np.corrcoef(rng.standard_normal((50, 6)) @ a, rowvar=False)
    blocks = [np.array([0, 1, 2]), np.array([3, 4, 5])]
    out = htmt_from_correlations(r, blocks, kind="htmt")
    ar = np.abs(r)
    within = [ar[np.ix_(b, b)][~np.eye(len(b), dtype=bool)].mean() for b in blocks]
    between = ar[np.ix_(blocks[0], blocks[1])].mean()
    assert out[0, 1] == pytest.approx(between / np.sqrt(within[0] * within[1]), abs=1e-14)
    out2 = htmt_from_correlations(r, blocks, kind="htmt2")
    gw = [np.exp(np.log(ar[np.ix_(b, b)][~np.eye(len(b), dtype=bool)]).mean()) for b in blocks]
    gb = np.exp(np.log(ar[np.ix_(blocks[0], blocks[1])]).mean())
    assert out2[0, 1] == pytest.approx(gb / np.sqrt(gw[0] * gw[1]), abs=1e-14)


def test_htmt_bootstrap_is_seeded_and_bounds_are_ordered(hs):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    a = htmt(hs, model, n_boot=300, seed=3)
    b = htmt(hs, model, n_boot=300, seed=3)
    c = htmt(hs, model, n_boot=300, seed=4)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["ci_low"], c.table["ci_low"])
    t = a.table
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    # the one-sided 95% bound lies between the median and the two-sided 97.5% bound
    assert (t["upper_bound"] < t["ci_high"]).all()
    assert (t["upper_bound"] > np.median(a.boot, axis=0)).all()
    np.testing.assert_allclose(t["upper_bound"], np.quantile(a.boot, 0.95, axis=0), rtol=1e-14)
    assert a.boot.shape == (300, 3)
    assert a.established and "established" in a.verdict


def test_htmt_verdict_flags_ecsi_pairs(mobi):
    gold = load_golden("validity", "htmt")["mobi_ecsi"]
    res = htmt(mobi, gold["model"], n_boot=200, seed=0)
    t = res.table.set_index(["construct_a", "construct_b"])
    # PERQ-CUSA HTMT is about 1: not established at either threshold
    assert t.loc[("PERQ", "CUSA"), "verdict"].startswith("not established")
    assert not res.established
    assert res.verdict.startswith("not established for")


def test_htmt_single_item_construct_warns_and_is_nan(mobi):
    model = {"CUSA": ["CUSA1", "CUSA2", "CUSA3"], "CUSCO": ["CUSCO"], "CUSL": ["CUSL1", "CUSL3"]}
    with pytest.warns(FewItemsWarning, match="CUSCO"):
        res = htmt(mobi, model, n_boot=0)
    assert np.isnan(res.matrix.loc["CUSCO"]).all()
    assert np.isfinite(res.matrix.loc["CUSA", "CUSL"])


def test_htmt_bad_input(mobi):
    with pytest.raises(SpecificationError, match="NOPE"):
        htmt(mobi, {"A": ["CUSA1", "CUSA2"], "B": ["CUSL1", "NOPE"]}, n_boot=0)
    with pytest.raises(SpecificationError, match="kind"):
        htmt(mobi, {"A": ["CUSA1", "CUSA2"], "B": ["CUSL1", "CUSL3"]}, kind="htmt3")
    with pytest.raises(SpecificationError, match="two constructs"):
        htmt(mobi, "A =~ CUSA1 + CUSA2", n_boot=0)
    bad = mobi.assign(CUSA1=mobi["CUSA1"].astype(str))
    with pytest.raises(DataValidationError, match="CUSA1"):
        htmt(bad, {"A": ["CUSA1", "CUSA2"], "B": ["CUSL1", "CUSL3"]}, n_boot=0)
    const = mobi.assign(CUSL3=5)
    with pytest.raises(ConstantItemError, match="CUSL3"):
        htmt(const, {"A": ["CUSA1", "CUSA2"], "B": ["CUSL1", "CUSL3"]}, n_boot=0)


def test_htmt_refuses_declared_missing_codes():
    class Inst:  # the part of the Instrument contract htmt reads
        constructs = {"COMP": ("comp_1", "comp_2", "comp_3"), "CUSL": ("cusl_1", "cusl_2", "cusl_3")}
        missing_codes = (-99,)
        dont_know_codes = ()

    raw = _read("corp_rep")
    with pytest.raises(DataValidationError, match="cusl_1, cusl_2, cusl_3.*-99"):
        htmt(raw, Inst(), n_boot=0)


def test_parse_measurement_drops_modifiers_and_comments():
    blocks = _parse_measurement("F =~ 1*a + l2*b + c  # note\nG =~ d + e; G =~ f\nF ~~ G")
    assert blocks == {"F": ("a", "b", "c"), "G": ("d", "e", "f")}


# --------------------------------------------------------------------------- cross-loadings
@pytest.mark.parametrize("case", ["mobi_ecsi", "corp_rep"])
def test_cross_loadings_match_r(case, mobi, corp):
    gold = load_golden("validity", "cross_loadings")[case]
    model = load_golden("validity", "htmt")[case]["model"]
    data = {"mobi_ecsi": mobi, "corp_rep": corp}[case]
    if case == "corp_rep":
        with pytest.warns(MissingDataWarning):
            res = cross_loadings(data, model)
    else:
        res = cross_loadings(data, model)
    np.testing.assert_allclose(res.loadings.to_numpy(), np.array(gold["values"]), atol=1e-10)
    assert list(res.loadings.index) == gold["names"]


def test_cross_loadings_corrected_and_verdict(mobi):
    model = {"CUSA": ["CUSA1", "CUSA2", "CUSA3"], "CUSL": ["CUSL1", "CUSL2", "CUSL3"]}
    res = cross_loadings(mobi, model, corrected=True)
    rest = mobi[["CUSA2", "CUSA3"]].mean(axis=1)
    assert res.loadings.at["CUSA1", "CUSA"] == pytest.approx(mobi["CUSA1"].corr(rest), abs=1e-12)
    # CUSL2 (price tolerance) correlates weakly with its own construct
    row = res.table.set_index("item").loc["CUSL2"]
    assert not row["ok"] and "CUSL2" in res.verdict
    assert res.n == 250 and "item-rest" in res.convention


# --------------------------------------------------------------------------- CR / AVE / Fornell-Larcker
class LavaanFit:
    """A stand-in exposing the CFA interface (params_, sample_cov_, implied_cov_, n_obs_)
    filled with lavaan's own estimates, so the CR/AVE formulas are checked on their own."""

    def __init__(self, case: dict):
        pe = pd.DataFrame(case["params"]).rename(columns={"std.all": "std_all"})
        pe["group"] = 1
        self.params_ = pe
        names = case["sample_cov"]["names"]
        self.sample_cov_ = pd.DataFrame(case["sample_cov"]["values"], index=names, columns=names)
        self.implied_cov_ = pd.DataFrame(case["implied_cov"]["values"], index=names, columns=names)
        self.n_obs_ = case["n"]


@pytest.mark.parametrize("case", ["hs39", "hs39_rc", "mobi_ecsi"])
def test_cr_and_ave_formulas_match_semtools(case):
    from custval.validity import ave, composite_reliability

    gold = load_golden("validity", "reliability")[case]
    fit = LavaanFit(gold)
    cr = composite_reliability(fit).wide()
    av = ave(fit).wide()
    for col, key in [("semtools_observed", "obs"), ("semtools_implied", "implied")]:
        ref_cr = pd.Series(gold[f"cr_{key}"])
        ref_av = pd.Series(gold[f"ave_{key}"])
        np.testing.assert_allclose(cr.loc[ref_cr.index, col], ref_cr, rtol=1e-8)
        np.testing.assert_allclose(av.loc[ref_av.index, col], ref_av, rtol=1e-8)
    std = pd.DataFrame(gold["std_loadings"])
    for f, grp in std.groupby("lhs"):
        lam = grp["est.std"].to_numpy()
        fl_cr = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
        assert cr.at[f, "fornell_larcker"] == pytest.approx(fl_cr, rel=1e-10)
        assert av.at[f, "fornell_larcker"] == pytest.approx(np.mean(lam**2), rel=1e-10)


def test_residual_covariance_separates_the_conventions():
    from custval.validity import composite_reliability

    cr = composite_reliability(LavaanFit(load_golden("validity", "reliability")["hs39_rc"])).wide()
    # x7 ~~ x8 enters the implied total variance of speed but not the Fornell-Larcker formula
    assert abs(cr.at["speed", "semtools_implied"] - cr.at["speed", "fornell_larcker"]) > 1e-3


def test_fornell_larcker_on_lavaan_estimates():
    from custval.validity import ave, fornell_larcker

    gold = load_golden("validity", "reliability")["mobi_ecsi"]
    fit = LavaanFit(gold)
    res = fornell_larcker(fit, convention="semtools_implied")
    cor = pd.DataFrame(gold["cov_lv"]["values"], index=gold["cov_lv"]["names"], columns=gold["cov_lv"]["names"])
    av = ave(fit, conventions="semtools_implied").wide()["semtools_implied"]
    for f in cor.index:
        assert res.matrix.at[f, f] == pytest.approx(np.sqrt(av[f]), rel=1e-12)
        for g in cor.columns:
            if f != g:
                assert res.matrix.at[f, g] == pytest.approx(cor.at[f, g], abs=1e-8)
    # PERQ and CUSA correlate .96 > sqrt(AVE): the criterion flags them
    assert "PERQ" in res.verdict and "CUSA" in res.verdict
    assert "not positive definite" in res.verdict  # lavaan warns for this model too


def test_single_indicator_factor_warns():
    from custval.validity import composite_reliability

    gold = load_golden("validity", "reliability")["hs39"]
    fit = LavaanFit(gold)
    pe = fit.params_
    keep = ~((pe["op"] == "=~") & (pe["lhs"] == "speed") & pe["rhs"].isin(["x8", "x9"]))
    fit.params_ = pe[keep]
    with pytest.warns(FewItemsWarning, match="speed"):
        res = composite_reliability(fit)
    assert np.isnan(res.wide().at["speed", "semtools_observed"])


# --------------------------------------------------------------------------- with the CFA estimator
needs_cfa = pytest.mark.skipif(
    importlib.util.find_spec("custval.cfa") is None, reason="custval.cfa not available yet"
)
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

# custval's CFA against lavaan: the formulas are checked at 1e-8 above on lavaan's own
# estimates; here the whole chain is compared with the *polished* lavaan solution
# (tests/r/validity.R: Gauss-Newton restarted from lavaan's estimates, |gradient| <= 4e-12).
# lavaan's default nlminb leaves |gradient| ~1e-6 (mobi 5e-6), so CR/AVE from its default
# fit are compared at 1e-5 only.
_CFA_TOL = {"hs39": 1e-8, "hs39_rc": 1e-8, "mobi_ecsi": 1e-8}


@needs_cfa
@pytest.mark.parametrize("case", ["hs39", "hs39_rc", "mobi_ecsi"])
def test_cr_ave_from_custval_cfa_match_semtools(case, hs, mobi):
    from custval.cfa import CFA
    from custval.exceptions import NotPositiveDefiniteWarning
    from custval.validity import ave, composite_reliability, cr_ave

    gold = load_golden("validity", "reliability")[case]
    if case == "mobi_ecsi":  # latent covariance matrix not positive definite (lavaan warns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotPositiveDefiniteWarning)
            fit = CFA(gold["model"]).fit(mobi)
    else:
        fit = CFA(gold["model"]).fit(hs)
    cr, av = composite_reliability(fit).wide(), ave(fit).wide()
    pol = gold["polished"]
    for col, key in [("semtools_observed", "obs"), ("semtools_implied", "implied")]:
        for res, name in [(cr, "cr"), (av, "ave")]:
            ref = pd.Series(pol[f"{name}_{key}"])
            np.testing.assert_allclose(res.loc[ref.index, col], ref, rtol=_CFA_TOL[case])
            ref = pd.Series(gold[f"{name}_{key}"])
            np.testing.assert_allclose(res.loc[ref.index, col], ref, rtol=1e-5)
    std = pd.DataFrame(pol["std_loadings"])
    for f, grp in std.groupby("lhs"):
        lam = grp["est.std"].to_numpy()
        assert cr.at[f, "fornell_larcker"] == pytest.approx(
            lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()), rel=_CFA_TOL[case])
    table = cr_ave(fit)
    assert list(table.columns) == ["composite_reliability", "ave"]
    np.testing.assert_allclose(table["composite_reliability"], cr.loc[table.index, "semtools_observed"])


@needs_cfa
def test_common_method_factor_matches_lavaan(corp):
    from custval.validity import common_method_cfa

    gold = load_golden("validity", "common_method_corp_rep")
    blocks = _parse_measurement(load_golden("validity", "htmt")["corp_rep"]["model"])
    data = corp.dropna(subset=[i for its in blocks.values() for i in its])
    res = common_method_cfa(data, blocks)
    assert len(data) == gold["n"]
    for label, key in [("traits", "fit_base"), ("traits + method", "fit_cmf")]:
        for k, v in gold[key].items():
            assert res.fit.at[label, k] == pytest.approx(v, rel=1e-6), (label, k)
    assert res.delta_cfi == pytest.approx(gold["fit_cmf"]["cfi"] - gold["fit_base"]["cfi"], rel=1e-6)
    ref = pd.DataFrame(gold["std_loadings_cmf"]).set_index(["lhs", "rhs"])["est.std"]
    base = pd.DataFrame(gold["std_loadings_base"]).set_index(["lhs", "rhs"])["est.std"]
    # standardized loadings against the polished lavaan fits (Gauss-Newton restart)
    for _, row in res.loadings.iterrows():
        assert row["std_base"] == pytest.approx(base[(row["construct"], row["item"])], abs=1e-8)
        assert row["std_with_method"] == pytest.approx(ref[(row["construct"], row["item"])], abs=1e-8)
        assert row["method_loading"] == pytest.approx(ref[("CMF", row["item"])], abs=1e-8)
    assert res.verdict.startswith("possible common method variance")
    assert "m*comp_1" in res.model_syntax and "CMF ~~ 0*COMP" in res.model_syntax


@needs_cfa
def test_common_method_factor_inadmissible_solution_is_flagged(hs):
    from custval.exceptions import NotPositiveDefiniteWarning
    from custval.validity import common_method_cfa

    gold = load_golden("validity", "common_method")  # lavaan warns the same way here
    assert min(gold["cov_lv_eigen"]) < 0
    with pytest.warns(NotPositiveDefiniteWarning, match="inadmissible"):
        res = common_method_cfa(hs, HS_MODEL)
    assert res.fit.at["traits + method", "chisq"] == pytest.approx(gold["fit_cmf"]["chisq"], rel=1e-6)
    assert res.verdict.startswith("not interpretable") and "visual-speed" in res.verdict


@needs_cfa
def test_measurement_table_gathers_the_frames(hs):
    from custval.cfa import CFA
    from custval.validity import composite_reliability, measurement_table

    fit = CFA(HS_MODEL).fit(hs)
    mt = measurement_table(hs, fit, n_boot=100)
    assert list(mt.frames) == ["Standardized loadings", "Reliability and convergent validity", "HTMT",
                               "Fornell-Larcker", "Fit"]
    c = mt.constructs
    items = hs[["x1", "x2", "x3"]]
    k = 3
    alpha = k / (k - 1) * (1 - items.var().sum() / items.sum(axis=1).var())
    assert c.at["visual", "alpha"] == pytest.approx(alpha, rel=1e-12)
    cr = composite_reliability(fit).wide()
    assert c.at["speed", "cr_semtools"] == cr.at["speed", "semtools_observed"]
    gold = load_golden("validity", "htmt")["hs39"]["htmt"]
    assert mt.htmt.at["visual", "textual"] == pytest.approx(gold["values"][0][1], abs=1e-10)
    assert mt.htmt.at["textual", "visual"] > mt.htmt.at["visual", "textual"]  # upper bound below
    assert mt.fit["chisq"] == fit.fit_measures_["chisq"]
    assert "Fornell-Larcker" in mt.summary() and "<h4>HTMT</h4>" in mt._repr_html_()


# --------------------------------------------------------------------------- with shipped instruments
def test_htmt_with_shipped_instruments(mobi):
    import custval

    ecsi = custval.load_instrument("ecsi")
    with pytest.warns(FewItemsWarning, match="COMPL"):
        res = htmt(mobi, ecsi, n_boot=0)
    gold = load_golden("validity", "htmt")["mobi_ecsi"]["htmt"]
    names = gold["names"]
    np.testing.assert_allclose(res.matrix.loc[names, names].to_numpy(), np.array(gold["values"]), atol=1e-10)
    assert np.isnan(res.matrix.loc["COMPL", "IMAG"])

    corp_inst = custval.load_instrument("corp_rep")
    raw = _read("corp_rep")
    with pytest.raises(DataValidationError, match="-99"):
        htmt(raw, corp_inst, n_boot=0)
    clean = raw.replace(-99, np.nan)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = htmt(clean, corp_inst, n_boot=0)
    kinds = {type(w.message) for w in caught}
    assert kinds == {FewItemsWarning, MissingDataWarning}
    g = load_golden("validity", "htmt")["corp_rep"]["htmt"]
    # listwise over all instrument items (cusa too): 335 rows instead of 336, so only the
    # construct structure is compared here, not the values
    assert res.n == int((clean[list(corp_inst.items)].notna().all(axis=1)).sum())
    assert list(res.matrix.loc[g["names"], g["names"]].index) == g["names"]


def test_htmt_bootstrap_with_degenerate_resamples_warns():
    from custval.exceptions import ConstantItemWarning

    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 4)) + rng.standard_normal((12, 1))
    data = pd.DataFrame(x, columns=["a1", "a2", "b1", "b2"])
    data.loc[1:, "b2"] = 0.0  # one non-zero value: resamples without row 1 have a constant b2
    data.loc[0, "b2"] = 0.0
    data.loc[1, "b2"] = 1.0
    with pytest.warns(ConstantItemWarning, match="constant item"):
        res = htmt(data, {"A": ["a1", "a2"], "B": ["b1", "b2"]}, n_boot=200, seed=0)
    # P(row 1 never drawn) = (11/12)^12 ~ 0.35
    assert 30 < res.n_boot_failed < 110
    assert np.isfinite(res.table["upper_bound"]).all()


def test_reverse_keyed_items_are_keyed_once():
    import custval

    inst = custval.Instrument.from_dict({"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]},
                                        scale=(1, 5), reverse=["a3"])
    rng = np.random.default_rng(4)
    f = rng.standard_normal((200, 2))
    x = np.column_stack([f[:, [0]] + 0.7 * rng.standard_normal((200, 3)),
                         f[:, [1]] + 0.7 * rng.standard_normal((200, 3))])
    data = pd.DataFrame(np.clip(np.round(3 + x), 1, 5), columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    data["a3"] = 6 - data["a3"]  # stored reverse-keyed
    res = cross_loadings(data, inst)
    keyed = data.assign(a3=6 - data["a3"])
    ref = keyed["a3"].corr(keyed[["a1", "a2", "a3"]].mean(axis=1))
    assert res.loadings.at["a3", "A"] == pytest.approx(ref, abs=1e-12) and ref > 0.5
    signed = htmt(data, inst, n_boot=0, absolute=False)
    plain = htmt(keyed, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}, n_boot=0, absolute=False)
    np.testing.assert_allclose(signed.matrix, plain.matrix, atol=1e-14)


@needs_cfa
def test_cr_ave_per_group_match_semtools(hs):
    from custval.cfa import CFA
    from custval.validity import ave, composite_reliability

    gold = load_golden("validity", "reliability_groups")
    fit = CFA(HS_MODEL, group="school").fit(hs)
    cr, av = composite_reliability(fit).wide(), ave(fit).wide()
    for res, name in [(cr, "cr"), (av, "ave")]:
        for col, key in [("semtools_observed", "obs"), ("semtools_implied", "implied")]:
            for row in gold[f"{name}_{key}"]:
                for f in ("visual", "textual", "speed"):
                    assert res.at[(row["group"], f), col] == pytest.approx(row[f], rel=1e-7), (name, key, f)


@needs_cfa
def test_fornell_larcker_single_item_construct_is_undefined_not_failed(hs):
    from custval.cfa import CFA
    from custval.exceptions import FewItemsWarning
    from custval.validity import fornell_larcker

    fit = CFA("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8\nextra =~ x9").fit(hs)
    with pytest.warns(FewItemsWarning, match="extra"):
        res = fornell_larcker(fit)
    row = res.table.set_index("construct").loc["extra"]
    assert pd.isna(row["ok"])
    assert "extra" not in res.verdict.split(";")[0]
    assert "undefined for extra" in res.verdict
