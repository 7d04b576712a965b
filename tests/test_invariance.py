"""custval.invariance against lavaan (tests/r/validity.R: HS39 by school, ML and MLR,
a partial model freeing the x3 intercept, and a simulated two-group set in which the
loading of y3 differs by design)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import (
    HeywoodWarning,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)
from custval.invariance import (
    _difference,
    _normalize_free,
    _passes,
    measurement_invariance,
    rank_invariance_candidates,
    scaled_difference_test,
)
from tests.conftest import load_golden

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
LEVELS = ["configural", "metric", "scalar", "strict"]

needs_cfa = pytest.mark.skipif(
    importlib.util.find_spec("custval.cfa") is None, reason="custval.cfa (multi-group CFA) not available yet"
)


def _rows(fits: list[dict], estimator: str) -> list[dict]:
    """lavaan fitMeasures rows in the shape measurement_invariance() builds from CFA.fit_measures_."""
    out = []
    for f in fits:
        row = {k: f[k] for k in ("chisq", "df", "cfi", "rmsea", "srmr")}
        if estimator == "MLR":
            row.update(scaling_factor=f["chisq.scaling.factor"], cfi_robust=f["cfi.robust"],
                       rmsea_robust=f["rmsea.robust"], cfi_scaled=f["cfi.scaled"],
                       rmsea_scaled=f["rmsea.scaled"])
        out.append(row)
    return out


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")


# --------------------------------------------------------------------------- arithmetic vs lavTestLRT
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_difference_tests_reproduce_lavtestlrt(estimator):
    gold = load_golden("validity", "invariance_hs39")[estimator.lower()]
    rows = _rows(gold["fits"], estimator)
    for i in range(1, 4):
        diff = _difference(rows[i - 1], rows[i], estimator)
        ref = gold["lrt"][i]
        assert diff["delta_chisq"] == pytest.approx(ref["Chisq diff"], rel=1e-9)
        assert diff["delta_df"] == ref["Df diff"]
        assert diff["p_value"] == pytest.approx(ref["Pr(>Chisq)"], rel=1e-8)


def test_partial_scalar_difference_mlr():
    gold = load_golden("validity", "invariance_hs39")
    metric = gold["mlr"]["fits"][1]
    partial = dict(gold["partial"]["mlr"]["fit"])
    res = scaled_difference_test(metric["chisq"], metric["df"], metric["chisq.scaling.factor"],
                                 partial["chisq"], partial["df"], partial["chisq.scaling.factor"])
    ref = gold["partial"]["mlr"]["lrt_vs_metric"][1]
    assert res.chisq_diff == pytest.approx(ref["Chisq diff"], rel=1e-9)
    assert res.estimate == res.chisq_diff and res.scaling_factor > 0
    assert res.df_diff == ref["Df diff"]
    assert res.p_value == pytest.approx(ref["Pr(>Chisq)"], rel=1e-8)
    frame = res.to_frame()
    assert list(frame.columns) == ["estimate", "df", "scaling_factor", "p_value"]


def test_scaled_difference_undefined_when_cd_negative():
    res = scaled_difference_test(100.0, 48, 1.5, 101.0, 50, 1.0)
    assert np.isnan(res.chisq_diff) and np.isnan(res.p_value) and res.scaling_factor < 0
    assert "not positive" in res.note and "not positive" in res.summary()


def test_chen_criteria_on_hs39_and_simulated_sequences():
    hs_rows = _rows(load_golden("validity", "invariance_hs39")["ml"]["fits"], "ML")
    verdicts = [_passes(lv, _difference(a, b, "ML"), "chen2007", 0.05)[0]
                for lv, a, b in zip(LEVELS[1:], hs_rows[:-1], hs_rows[1:])]
    # HS39 by school: metric holds, scalar fails (dCFI -.039 with dSRMR +.011 >= .010)
    assert verdicts[:2] == [True, False]
    sim_rows = _rows(load_golden("validity", "invariance_sim")["ml"]["fits"], "ML")
    ok, reason = _passes("metric", _difference(sim_rows[0], sim_rows[1], "ML"), "chen2007", 0.05)
    assert not ok and "Chen 2007" in reason
    ok, _ = _passes("metric", _difference(sim_rows[0], sim_rows[1], "ML"), "chisq", 0.05)
    assert not ok
    ok, _ = _passes("metric", _difference(hs_rows[0], hs_rows[1], "ML"), ("chisq", "cheung_rensvold2002"), 0.05)
    assert ok


def test_free_and_argument_validation(hs):
    assert _normalize_free(["x3~1", "visual=~x2", " x3 ~~ x3 "]) == ("x3 ~ 1", "visual =~ x2", "x3 ~~ x3")
    with pytest.raises(SpecificationError, match="only intercepts"):
        _normalize_free("x3 ~ x2")
    with pytest.raises(SpecificationError, match="estimator"):
        measurement_invariance(hs, HS_MODEL, group="school", estimator="WLS")
    with pytest.raises(SpecificationError, match="order"):
        measurement_invariance(hs, HS_MODEL, group="school", levels=("metric", "configural"))
    with pytest.raises(SpecificationError, match="criterion"):
        measurement_invariance(hs, HS_MODEL, group="school", criteria="fancy")
    with pytest.raises(SpecificationError, match="'nope'"):
        measurement_invariance(hs, HS_MODEL, group="nope")


def test_small_group_is_named(hs):
    tiny = pd.concat([hs, hs.head(12).assign(school="Tiny")], ignore_index=True)
    with pytest.raises(InsufficientDataError, match="Tiny.*12"):
        measurement_invariance(tiny, HS_MODEL, group="school")


# --------------------------------------------------------------------------- with the CFA estimator
_SCALED = [("chisq_scaled", "chisq.scaled"), ("scaling_factor", "chisq.scaling.factor"),
           ("cfi_robust", "cfi.robust"), ("tli_robust", "tli.robust"), ("rmsea_robust", "rmsea.robust"),
           ("cfi_scaled", "cfi.scaled"), ("rmsea_scaled", "rmsea.scaled")]


def _table_vs_gold(res, fits, lrt, estimator, rel):
    """Fit rows and lavTestLRT differences.  ``rel`` is 1e-6 against the polished lavaan
    solutions and 1e-5 against lavaan's defaults (see tests/r/validity.R: lavaan's nlminb
    leaves first-order quantities such as SRMR and the MLR scaling factor ~1e-6 off)."""
    t = res.table.set_index("level")
    for f in fits:
        lv = f["level"]
        pairs = [("chisq", "chisq"), ("df", "df"), ("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"),
                 ("srmr", "srmr")]
        for ours, theirs in pairs + (_SCALED if estimator == "MLR" else []):
            assert t.at[lv, ours] == pytest.approx(f[theirs], rel=rel), (lv, ours)
    for ref in lrt[1:]:
        assert t.at[ref["model"], "delta_chisq"] == pytest.approx(ref["Chisq diff"], rel=rel)
        assert t.at[ref["model"], "delta_df"] == ref["Df diff"]
        assert t.at[ref["model"], "p_value"] == pytest.approx(ref["Pr(>Chisq)"], rel=10 * rel)


@needs_cfa
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_hs39_sequence_matches_lavaan(hs, estimator):
    gold = load_golden("validity", "invariance_hs39")[estimator.lower()]
    res = measurement_invariance(hs, HS_MODEL, group="school", estimator=estimator, stop=False)
    _table_vs_gold(res, gold["fits_polished"], gold["lrt_polished"], estimator, rel=1e-6)
    _table_vs_gold(res, gold["fits"], gold["lrt"], estimator, rel=1e-5)
    assert res.highest == "metric"
    assert list(res.table["verdict"]) == ["baseline", "holds", "fails", "holds"]
    assert res.latent_means is None
    assert "metric invariance holds; scalar fails" in res.verdict
    if estimator == "ML":  # latent means of the (full) scalar model, whatever its verdict
        from custval.invariance import _latent_means

        g = load_golden("validity", "invariance_hs39")["ml"]
        lm = _latent_means(res.fits["scalar"], 0.95).set_index("construct")
        for ref in g["latent_means_scalar"] + g["latent_means_scalar_polished"]:
            if ref["group"] == 2:
                assert lm.at[ref["lhs"], "estimate"] == pytest.approx(ref["est"], abs=1e-5)
                assert lm.at[ref["lhs"], "se"] == pytest.approx(ref["se"], abs=1e-5)


@needs_cfa
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_partial_scalar_and_latent_means(hs, estimator):
    gold = load_golden("validity", "invariance_hs39")["partial"][estimator.lower()]
    res = measurement_invariance(hs, HS_MODEL, group="school", estimator=estimator, free=("x3 ~ 1",),
                     levels=("metric", "scalar"), criteria="chisq", stop=False)
    row = res.table.set_index("level").loc["scalar"]
    assert row["chisq"] == pytest.approx(gold["fit_polished"]["chisq"], rel=1e-6)
    assert row["srmr"] == pytest.approx(gold["fit_polished"]["srmr"], rel=1e-6)
    assert row["delta_chisq"] == pytest.approx(gold["lrt_vs_metric_polished"][1]["Chisq diff"], rel=1e-6)
    assert row["delta_chisq"] == pytest.approx(gold["lrt_vs_metric"][1]["Chisq diff"], rel=1e-5)
    # latent means from the partial scalar model, whatever the verdict: compare with lavaan
    from custval.invariance import _latent_means

    lm = _latent_means(res.fits["scalar"], 0.95).set_index("construct")
    assert (lm["group"] == "Grant-White").all() and (lm["reference"] == "Pasteur").all()
    for ref in gold["latent_means"] + gold["latent_means_polished"]:
        if ref["group"] == 2:
            assert lm.at[ref["lhs"], "estimate"] == pytest.approx(ref["est"], abs=1e-5)
            assert lm.at[ref["lhs"], "se"] == pytest.approx(ref["se"], abs=1e-5)


@needs_cfa
def test_simulation_finds_the_non_invariant_loading():
    gold = load_golden("validity", "invariance_sim")
    data = pd.DataFrame(gold["data"])
    res = measurement_invariance(data, gold["model"], group="grp")
    _table_vs_gold(res, gold["ml"]["fits_polished"][:2], gold["ml"]["lrt_polished"][:2], "ML", rel=1e-6)
    assert res.highest == "configural" and "metric fails" in res.verdict
    assert list(res.table["level"]) == ["configural", "metric"]  # the sequence stops at the failure
    ranked = rank_invariance_candidates(data, gold["model"], group="grp", level="metric")
    assert ranked.iloc[0]["parameter"] == "F1 =~ y3"
    # lavTestScore ranks the same constraint first
    score = max(gold["score_metric_ml"], key=lambda r: r["X2"])
    assert score["lhs"].startswith("F1 =~ y3")
    partial = measurement_invariance(data, gold["model"], group="grp", free=("F1 =~ y3",), levels=("configural", "metric"))
    assert partial.highest == "metric"


@needs_cfa
def test_missing_group_rows_are_reported(hs):
    data = hs.copy()
    data.loc[[0, 5], "school"] = np.nan
    with pytest.warns(MissingDataWarning, match="2 of 301"), warnings.catch_warnings():
        res = measurement_invariance(data, HS_MODEL, group="school", levels=("configural",))
    assert sum(res.n_per_group.values()) == 299


@needs_cfa
def test_four_groups_match_lavaan(hs):
    """Four groups (school x sex), as with several informant types."""
    gold = load_golden("validity", "invariance_hs39_4groups")
    data = hs.assign(school_sex=hs["school"] + "_" + hs["sex"].astype(str))
    res = measurement_invariance(data, HS_MODEL, group="school_sex", levels=("scalar", "strict"), stop=False)
    _table_vs_gold(res, gold["ml"]["fits_polished"][2:], gold["ml"]["lrt_polished"][2:], "ML", rel=1e-6)
    assert res.latent_means is not None and res.latent_means_level == "scalar"
    assert res.n_per_group == dict(zip(gold["ml"]["group_labels"], gold["ml"]["n_per_group"]))
    from custval.invariance import _latent_means

    lm = _latent_means(res.fits["scalar"], 0.95).set_index(["construct", "group"])
    labels = gold["ml"]["group_labels"]
    refs = [r for r in gold["latent_means_scalar_polished"] if r["group"] > 1]
    assert len(lm) == len(refs) == 9
    for r in refs:
        assert lm.at[(r["lhs"], labels[r["group"] - 1]), "estimate"] == pytest.approx(r["est"], abs=1e-5)
        assert lm.at[(r["lhs"], labels[r["group"] - 1]), "se"] == pytest.approx(r["se"], abs=1e-5)


@needs_cfa
def test_non_convergent_configural_names_the_group(hs, monkeypatch):
    import custval.cfa
    import custval.invariance as inv
    from custval.exceptions import ConvergenceWarning

    real_fit = custval.cfa.CFA.fit

    def fake_fit(self, data):  # the model "fails" whenever Grant-White rows are fitted alone
        out = real_fit(self, data)
        if self.group is None and (data["x1"].round(6).isin(hs.loc[hs["school"] == "Grant-White", "x1"].round(6))).all():
            out.converged_ = False
        if self.group is not None:
            out.converged_ = False
        return out

    monkeypatch.setattr(custval.cfa.CFA, "fit", fake_fit)
    with pytest.warns(ConvergenceWarning, match=r"configural model did not converge.*Grant-White"):
        res = inv.measurement_invariance(hs, HS_MODEL, group="school")
    assert list(res.table["verdict"]) == ["did not converge"]
    assert res.highest is None and res.latent_means is None


@needs_cfa
def test_single_item_construct_warns(hs):
    from custval.exceptions import FewItemsWarning, IdentificationError

    # lavaan fixes a single indicator's residual variance (auto.fix.single), as custval's CFA
    # does: the model fits and matches lavaan (tests/r/validity.R, "single_item_hs39").
    gold = load_golden("validity", "single_item_hs39")
    model = gold["model"]
    with pytest.warns(FewItemsWarning, match="'extra'.*x9"):
        res = measurement_invariance(hs, model, group=gold["group"], levels=("configural",))
    row = res.table.set_index("level").loc["configural"]
    for k, v in gold["configural"].items():
        assert row[k] == pytest.approx(v, rel=1e-6), k
    # a factor with one indicator and that indicator's residual variance freed is not identified
    with pytest.warns(FewItemsWarning), pytest.raises(IdentificationError, match="extra|x9"):
        measurement_invariance(hs, model + "\nx9 ~~ x9", group="school", levels=("configural",))


@needs_cfa
@pytest.mark.parametrize(
    ("free", "level", "key"),
    [({"x3 ~ 1": ["Grant-White_1"]}, "scalar", "free_x3_intercept_in_grant_white_1"),
     ([("visual =~ x2", "Pasteur_2")], "metric", "free_x2_loading_in_pasteur_2")],
)
def test_free_in_named_groups_only(hs, free, level, key):
    gold = load_golden("validity", "invariance_hs39_4groups")[key]
    data = hs.assign(school_sex=hs["school"] + "_" + hs["sex"].astype(str))
    res = measurement_invariance(data, HS_MODEL, group="school_sex", levels=(level,), free=free)
    row = res.table.set_index("level").loc[level]
    for k in ("chisq", "df", "cfi", "rmsea"):
        assert row[k] == pytest.approx(gold[k], rel=1e-6), k
    assert "free (partial invariance)" in res.verdict


def test_free_in_named_groups_bad_input(hs):
    from custval.invariance import _group_specific, _split_free

    blocks = {"visual": ("x1", "x2", "x3")}
    syntax = "visual =~ x1 + x2 + x3"
    _, named = _split_free({"visual =~ x1": ["A"]})
    with pytest.raises(SpecificationError, match="marker"):
        _group_specific(syntax, blocks, named, ["A", "B"])
    _, named = _split_free({"x3 ~ 1": ["C"]})
    with pytest.raises(SpecificationError, match=r"unknown group\(s\) \['C'\]"):
        _group_specific(syntax, blocks, named, ["A", "B"])
    _, named = _split_free({"visual =~ x2": ["B"]})
    assert _group_specific(syntax, blocks, named, ["A", "B", "C"]) == "visual =~ x1 + c(cv0eq, cv0g1, cv0eq)*x2 + x3"


@needs_cfa
def test_candidate_ranking_agrees_with_lavtestscore_on_hs39(hs):
    ranked = rank_invariance_candidates(hs, HS_MODEL, group="school", level="scalar")
    score = sorted(load_golden("validity", "invariance_hs39")["score_scalar_ml"], key=lambda r: -r["X2"])
    top_score = [r["lhs"].split(" [")[0].replace("~1 ", "~ 1").strip() for r in score[:2]]
    assert list(ranked["parameter"][:2]) == ["x3 ~ 1", "x7 ~ 1"]
    assert [t.replace("  ", " ") for t in top_score] == ["x3 ~ 1", "x7 ~ 1"]
    assert (ranked["delta_df"] == 1).all() and ranked["delta_chisq"].is_monotonic_decreasing
    assert list(ranked["rank"]) == list(range(1, 10))


def _simulate_intercept_shift(seed: int = 11, n: int = 500) -> pd.DataFrame:
    """Simulated (seeded) two-group data: loadings invariant, the intercept of y6 is 0.8
    higher in group B, and the latent mean of F1 is 0.5 higher in group B (F2: 0)."""
    rng = np.random.default_rng(seed)
    lam = np.array([[0.8, 0], [0.7, 0], [0.75, 0], [0.7, 0], [0, 0.8], [0, 0.7], [0, 0.75], [0, 0.7]])
    nu = np.array([3.0, 3.2, 2.8, 3.1, 3.0, 2.9, 3.3, 3.1])
    frames = []
    for g, mean, shift in (("A", [0.0, 0.0], 0.0), ("B", [0.5, 0.0], 0.8)):
        eta = rng.multivariate_normal(mean, [[1, 0.3], [0.3, 1]], size=n)
        y = nu + eta @ lam.T + 0.6 * rng.standard_normal((n, 8))
        y[:, 5] += shift
        frames.append(pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 9)]).assign(grp=g))
    return pd.concat(frames, ignore_index=True)


@needs_cfa
def test_simulation_recovers_non_invariant_intercept_and_latent_mean():
    data = _simulate_intercept_shift()
    model = {"F1": ["y1", "y2", "y3", "y4"], "F2": ["y5", "y6", "y7", "y8"]}
    res = measurement_invariance(data, model, group="grp", criteria="chisq")
    assert res.highest == "metric" and list(res.table["verdict"]) == ["baseline", "holds", "fails"]
    ranked = rank_invariance_candidates(data, model, group="grp", level="scalar")
    assert ranked.iloc[0]["parameter"] == "y6 ~ 1"
    partial = measurement_invariance(data, model, group="grp", free=("y6 ~ 1",), levels=("configural", "metric", "scalar"))
    assert partial.highest == "scalar"  # default Chen (2007) criteria
    assert abs(partial.table["delta_cfi"].iloc[2]) < 0.01
    lm = partial.latent_means.set_index("construct")
    # true differences 0.5 SD (F1) and 0 (F2); in the marker metric (y1 loading 0.8 fixed
    # to 1) F1's difference is 0.5 * 0.8 = 0.4.  Wald intervals cover them.
    assert lm.at["F1", "ci_low"] < 0.4 < lm.at["F1", "ci_high"]
    assert lm.at["F1", "std"] == pytest.approx(0.5, abs=0.15)
    assert lm.at["F2", "ci_low"] < 0.0 < lm.at["F2", "ci_high"]
    assert lm.at["F1", "p_value"] < 1e-6


# --------------------------------------------------------------------------- missing data: FIML
CORP_ITEMS = ["comp_1", "comp_2", "comp_3", "like_1", "like_2", "like_3", "cusl_1", "cusl_2", "cusl_3"]
CORP_MODEL = "COMP =~ comp_1 + comp_2 + comp_3\nLIKE =~ like_1 + like_2 + like_3\nCUSL =~ cusl_1 + cusl_2 + cusl_3"


@pytest.fixture(scope="module")
def corp():
    """corp_rep with its missing code -99 as NaN (as tests/r/validity.R does)."""
    raw = pd.read_csv(RAW_DATA_DIR / "corp_rep" / "corp_rep.csv")
    return raw.mask(raw == -99)


@pytest.fixture(scope="module")
def corp_fiml(corp):
    out = {}
    for est in ("ML", "MLR"):
        # cusl_2 gets a slightly negative residual variance in provider 3 (n = 44), as in lavaan
        with pytest.warns(HeywoodWarning, match="cusl_2"):
            out[est] = measurement_invariance(corp, CORP_MODEL, group="serviceprovider", estimator=est, missing="fiml", stop=False)
    return out


@needs_cfa
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_corp_rep_fiml_sequence_matches_lavaan(corp_fiml, estimator):
    """lavaan cfa(..., group = "serviceprovider", missing = "ml", group.equal = ...) per level and
    lavTestLRT (MLR: its default satorra.bentler.2001 for missing = "ml")."""
    gold = load_golden("validity", "invariance_corp_rep_fiml")[estimator.lower()]
    res = corp_fiml[estimator]
    assert gold["lrt_method"] == ("satorra.bentler.2001" if estimator == "MLR" else "standard")
    t = res.table.set_index("level")
    # polished lavaan fits (BFGS restart; max |gradient| stored, ~1e-8): fit measures rel 1e-6.
    # The FIML-corrected robust CFI/TLI are NA on polished fits (see validity.R), so those and
    # everything else are also compared with lavaan's default fits at rel 1e-5.
    base = ["chisq", "df", "cfi", "tli", "rmsea", "srmr"]
    scaled = [("chisq_scaled", "chisq.scaled"), ("scaling_factor", "chisq.scaling.factor"),
              ("rmsea_robust", "rmsea.robust"), ("cfi_scaled", "cfi.scaled"), ("rmsea_scaled", "rmsea.scaled")]
    pairs = [(k, k) for k in base] + (scaled if estimator == "MLR" else [])
    for f in gold["fits_polished"]:
        for ours, theirs in pairs:
            assert t.at[f["level"], ours] == pytest.approx(f[theirs], rel=1e-6), (f["level"], ours)
    robust = [("cfi_robust", "cfi.robust"), ("tli_robust", "tli.robust")] if estimator == "MLR" else []
    for f in gold["fits"]:
        for ours, theirs in pairs + robust:
            assert t.at[f["level"], ours] == pytest.approx(f[theirs], rel=1e-5), (f["level"], ours)
    for lrt, rel in ((gold["lrt_polished"], 1e-6), (gold["lrt"], 1e-5)):
        for ref in lrt[1:]:
            assert t.at[ref["model"], "delta_chisq"] == pytest.approx(ref["Chisq diff"], rel=rel)
            assert t.at[ref["model"], "delta_df"] == ref["Df diff"]
            assert t.at[ref["model"], "p_value"] == pytest.approx(ref["Pr(>Chisq)"], rel=10 * rel)
    assert res.n_per_group == dict(zip(gold["group_labels"], gold["n_per_group"]))
    assert res.n_rows == gold["n_rows"] == res.n_used and res.n_excluded == {}


@needs_cfa
@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_corp_rep_fiml_estimates_match_lavaan(corp_fiml, estimator):
    """Estimates and standard errors (ML: observed information under FIML, as lavaan; MLR:
    sandwich) of every level against the polished lavaan fits, abs 1e-5."""
    gold = load_golden("validity", "invariance_corp_rep_fiml")[estimator.lower()]
    res = corp_fiml[estimator]
    largest = 0.0
    for level, rows in gold["estimates_polished"].items():
        pe = res.fits[level].params_
        pe = pe.set_index(["lhs", "op", "rhs", "group"])
        assert len(rows) == len(pe[pe.index.get_level_values("op").isin(["=~", "~~", "~1"])])
        for r in rows:
            key = (r["lhs"], r["op"], r["rhs"], r["group"])
            ours = pe.loc[key]
            assert ours["est"] == pytest.approx(r["est"], abs=1e-5), (level, key)
            assert ours["se"] == pytest.approx(r["se"], abs=1e-5), (level, key)
            largest = max(largest, abs(ours["est"] - r["est"]), abs(ours["se"] - r["se"]))
    assert largest > 0  # a real comparison, not a copy


@needs_cfa
def test_listwise_and_fiml_row_accounting(corp):
    """rows in = rows used + rows excluded (by reason), and the per-group n is the n used."""
    gold = load_golden("validity", "invariance_corp_rep_fiml")["ml"]
    data = corp.copy()
    data.loc[[3, 7], "serviceprovider"] = np.nan  # two rows without a group
    data.loc[11, CORP_ITEMS] = np.nan
    n_incomplete = int(data.dropna(subset=["serviceprovider"])[CORP_ITEMS].isna().any(axis=1).sum())
    assert n_incomplete == gold["n_rows"] - gold["n_complete"] + 1  # the 8 of corp_rep + row 11
    with pytest.warns(MissingDataWarning) as rec, warnings.catch_warnings():
        warnings.simplefilter("ignore", HeywoodWarning)  # cusl_2 in provider 3 (n = 43 complete)
        lw = measurement_invariance(data, CORP_MODEL, group="serviceprovider", levels=("configural",))
    msgs = [str(w.message) for w in rec]
    assert any("2 of 344 rows have no value in the group column" in m for m in msgs)
    assert any(f"{n_incomplete} of 342 rows with a group have at least one missing model item" in m for m in msgs)
    assert len(rec) == 2  # once per reason, not once per refitted level
    assert lw.n_rows == 344 and lw.n_excluded == {"no group": 2, "incomplete items (listwise)": n_incomplete}
    assert lw.n_used == 344 - 2 - n_incomplete == sum(lw.n_per_group.values())
    assert sum(lw.fits["configural"].n_obs_.values()) == lw.n_used and lw.fits["configural"].n_excluded_ == 0
    with pytest.warns(MissingDataWarning) as rec, warnings.catch_warnings():
        warnings.simplefilter("ignore", HeywoodWarning)  # cusl_2 in provider 3 under FIML
        fi = measurement_invariance(data, CORP_MODEL, group="serviceprovider", levels=("configural",), missing="fiml")
    msgs = [str(w.message) for w in rec]
    assert any("1 of 342 rows with a group have no observed model item" in m for m in msgs)
    assert fi.n_rows == 344 and fi.n_excluded == {"no group": 2, "no observed item": 1}
    assert fi.n_used == 341 == sum(fi.n_per_group.values()) == sum(fi.fits["configural"].n_obs_.values())
    assert "Rows: 344 in = 341 used (fiml) + 3 excluded" in fi.summary()
    assert "missing = 'ml'" in fi.r_call
    with pytest.raises(SpecificationError, match="missing must be"):
        measurement_invariance(corp, CORP_MODEL, group="serviceprovider", missing="pairwise")


@needs_cfa
def test_rank_candidates_under_fiml(corp):
    """The candidate ranking refits under FIML too: each release improves the FIML chi-square
    of the scalar model by its own delta_chisq (checked against the sequence's scalar row)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeywoodWarning)  # cusl_2 in provider 3, see above
        ranked = rank_invariance_candidates(corp, CORP_MODEL, group="serviceprovider", level="scalar", missing="fiml")
        res = measurement_invariance(corp, CORP_MODEL, group="serviceprovider", missing="fiml",
                         free=(ranked.iloc[0]["parameter"],), levels=("scalar",))
    gold = load_golden("validity", "invariance_corp_rep_fiml")["ml"]
    scalar = next(f for f in gold["fits_polished"] if f["level"] == "scalar")
    assert res.table["chisq"].iloc[0] == pytest.approx(scalar["chisq"] - ranked.iloc[0]["delta_chisq"], rel=1e-9)
    assert (ranked["delta_df"] == 3).all() and len(ranked) == 9
    assert ranked["delta_chisq"].is_monotonic_decreasing
