"""custval.PLS interaction terms and higher-order constructs against seminr 2.3.1's own code.

``tests/golden/pls/seminr_ext.json`` is written by ``tests/r/pls_ext.R`` (seminr's R sources,
commit ae2524aa, evaluated as in ``tests/r/pls.R``).  seminr names an interaction ``A*B``
(two-stage item ``A*B_intxn``); custval writes ``A:B`` in the syntax and labels the construct
``A:B`` (item ``A:B_intxn``); product indicators keep seminr's ``x*y`` names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval import PLS
from custval._io.paths import RAW_DATA_DIR
from tests._seminr import _frame
from tests.conftest import load_golden

TOL = 1e-10
GOLD = load_golden("pls", "seminr_ext")["cases"]


@pytest.fixture(scope="module")
def mobi():
    return pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")


def _label(s: str) -> str:
    s = s.replace("__r", "")  # the repeated-indicator copies of tests/r/pls_ext.R
    if "_intxn" in s or not any(ch.isdigit() for ch in s):
        s = s.replace("*", ":")
    return s


def ref(case: str, key: str, first_stage: bool = False) -> pd.DataFrame:
    obj = GOLD[case]["first_stage"][key] if first_stage else GOLD[case][key]
    frame = _frame(obj).rename(index=_label, columns=_label)
    return frame.groupby(level=0, sort=False).sum()  # a repeated item: one row (blocks are disjoint columns)


def maxdiff(ours: pd.DataFrame, want: pd.DataFrame) -> float:
    return float(np.max(np.abs(ours.loc[want.index, want.columns].to_numpy(float) - want.to_numpy(float))))


def _corp_rep() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "corp_rep" / "corp_rep.csv").replace(-99, np.nan)


def _fit_gold(gold: dict, mobi: pd.DataFrame) -> PLS:
    if gold.get("dataset") == "corp_rep":  # seminr's default mean replacement of the -99 codes
        from custval.exceptions import RepairWarning

        with pytest.warns(RepairWarning, match="mean replacement"):
            return PLS(gold["syntax"], **gold["options"]).fit(_corp_rep())
    return PLS(gold["syntax"], **gold["options"]).fit(mobi)


@pytest.mark.parametrize("case", list(GOLD))
def test_matches_seminr_code(case, mobi):
    gold = GOLD[case]
    fit = _fit_gold(gold, mobi)
    assert fit.n_ == gold["n"] and fit.n_iter_ == gold["iterations"] + 1
    for key, attr in (("weights", "weights_"), ("loadings", "loadings_"), ("paths", "paths_")):
        want = ref(case, key)
        assert maxdiff(getattr(fit, attr), want) < TOL, key
        if key != "paths":  # every nonzero outer estimate of seminr is one of custval's and back
            assert (getattr(fit, attr).loc[want.index, want.columns] != 0).to_numpy().sum() == (want != 0).to_numpy().sum()
    rel = ref(case, "reliability").set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
    assert maxdiff(fit.reliability_, rel) < TOL
    r2 = fit.r2_.T.set_axis(["Rsq", "AdjRsq"])
    assert maxdiff(r2, ref(case, "rsquared")) < TOL
    scores = ref(case, "scores")
    assert np.max(np.abs(fit.scores_[scores.columns].to_numpy() - scores.to_numpy())) < 1e-9
    _check_htmt(fit.htmt_, _frame(gold["htmt"]).rename(index=_label, columns=_label))
    if "first_stage" in gold:  # reliability and estimates of the lower-order level
        fs = fit.first_stage_
        assert maxdiff(fs.paths_, ref(case, "paths", True)) < TOL
        rel1 = ref(case, "reliability", True).set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
        assert maxdiff(fs.reliability_, rel1) < TOL


def _check_htmt(ours: pd.DataFrame, want: pd.DataFrame) -> None:
    """seminr fills the upper triangle of its HTMT table; every construct of both levels is there."""
    pairs = [(a, b) for a in want.index for b in want.columns if not np.isnan(want.at[a, b])]
    assert len(pairs) == len(want) * (len(want) - 1) // 2
    assert max(abs(ours.at[a, b] - want.at[a, b]) for a, b in pairs) < TOL
    assert np.allclose(ours.to_numpy(), ours.to_numpy().T)


@pytest.mark.parametrize("case", ["ecsi_pls", "ecsi_image_mode_b", "corp_rep_mean", "composite4_path"])
def test_htmt_is_seminr_htmt_with_single_items(case):
    from tests._seminr import seminr_reference

    data = {"mobi": pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv"),
            "corp_rep": pd.read_csv(RAW_DATA_DIR / "corp_rep" / "corp_rep.csv").replace(-99, np.nan)}
    r = seminr_reference(case)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {k: v for k, v in r["options"].items() if k != "missing_codes"}
        fit = PLS(r["syntax"], **options).fit(data[r["dataset"]])
    _check_htmt(fit.htmt_, r["htmt"])


@pytest.mark.parametrize("case", [c for c in GOLD if "bootstrap" in GOLD[c]])
def test_bootstrap_on_seminr_resamples_equals_seminr(case, mobi):
    """Each resample repeats the interaction / two-stage construction, as bootstrap_model() does."""
    gold = GOLD[case]
    fit = PLS(gold["syntax"], **gold["options"]).fit(mobi)
    b = gold["bootstrap"]
    idx = np.asarray(b["indices"], dtype=np.int64) - 1
    boot = fit.bootstrap(indices=idx)
    assert boot.n_boot == b["nboot"] and boot.n_failed == 0
    cols = ["estimate", "boot_mean", "se", "t", "ci_low", "ci_high"]
    for name in ("paths", "loadings", "htmt"):
        want = _frame(b[name])
        ours = getattr(boot, name)
        if name != "loadings":  # HTMT: every pair of both levels, as seminr's HTMT()
            labels = [f"{a}  ->  {c}".replace(":", "*") for a, c in ours.index]
        else:
            labels = [f"{i}  ->  {c}".replace(":", "*") for c, i in ours.index]
        if name == "htmt":  # a pair in either order (the constructs are ordered differently)
            key = lambda lab: "  ->  ".join(sorted(lab.split("  ->  ")))  # noqa: E731
            labels = [key(lab) for lab in labels]
            want = want.set_axis([key(lab) for lab in want.index])
        ours = ours.set_axis(labels)
        assert len(ours) == len(want), name
        got = ours.loc[want.index, cols].to_numpy()
        ok = ~np.isnan(want.to_numpy())
        assert np.isnan(got[~ok]).all()
        assert np.max(np.abs(got[ok] - want.to_numpy()[ok])) < 1e-9, name


def test_interaction_scale_and_standardised_coefficient(mobi):
    """paths_ of an interaction is seminr's (Henseler & Chin, 2010): the coefficient of the product
    of the standardised scores; times interaction_scale_ it is the coefficient of the standardised term."""
    gold = GOLD["interaction_two_stage"]
    fit = PLS(gold["syntax"]).fit(mobi)
    fs = fit.first_stage_.scores_
    prod = fs["Image"] * fs["Expectation"]
    assert fit.interaction_scale_["Image:Expectation"] == pytest.approx(prod.std(ddof=1), abs=1e-12)
    z = fit.scores_.copy()
    y = z["Satisfaction"]
    centred = [(fs["Image"] * fs[m]) - (fs["Image"] * fs[m]).mean() for m in ("Expectation", "Value")]
    x = np.column_stack([z["Image"], z["Expectation"], z["Value"], *centred])
    beta = np.linalg.lstsq(x, y.to_numpy(), rcond=None)[0]
    assert beta[3] == pytest.approx(fit.paths_.at["Image:Expectation", "Satisfaction"], abs=1e-10)
    # the standardised interaction term's coefficient: paths_ x interaction_scale_
    zprod = (prod - prod.mean()) / prod.std(ddof=1)
    x[:, 3] = zprod
    beta_std = np.linalg.lstsq(x, y.to_numpy(), rcond=None)[0]
    assert beta_std[3] == pytest.approx(beta[3] * prod.std(ddof=1), abs=1e-10)


def test_hoc_levels_reported(mobi):
    gold = GOLD["hoc_two_stage"]
    fit = PLS(gold["syntax"]).fit(mobi)
    assert fit.hocs_ == {"Satisfaction": ("Image", "Value")}
    # both levels in reliability_: the dimensions (stage 1) and the higher-order construct (stage 2)
    assert {"Image", "Value", "Satisfaction"} <= set(fit.reliability_.index)
    assert fit.loadings_.at["Image", "Satisfaction"] == pytest.approx(
        np.corrcoef(fit.scores_["Image"], fit.scores_["Satisfaction"])[0, 1], abs=1e-12)
    assert "Image" not in fit.paths_.index
    rep = PLS(gold["syntax"], hoc="repeated_indicators").fit(mobi)
    assert rep.paths_.at["Satisfaction", "Image"] > 0.7  # HOC -> dimension in a mode A repeated model
    assert rep.weights_.loc["IMAG1", ["Image", "Satisfaction"]].ne(0).all()


# --------------------------------------------------------------------------- plspm (tests/r/plspm.R)
PLSPM = load_golden("pls", "plspm")["cases"]


@pytest.fixture(scope="module")
def datasets(mobi):
    corp = pd.read_csv(RAW_DATA_DIR / "corp_rep" / "corp_rep.csv").replace(-99, np.nan)
    return {"mobi": mobi, "corp_rep": corp}


@pytest.mark.parametrize("case", list(PLSPM))
def test_unstandardised_pls_and_statistics_match_plspm(case, datasets):
    """standardize=False is plspm's scaled = FALSE; gof_, redundancy_, dg_rho and path_inference_
    are plspm's gof, outer_model, unidim$DG.rho and inner_model (at its fixed point)."""
    import warnings

    from custval.exceptions import MissingDataWarning

    gold = PLSPM[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        fit = PLS(gold["syntax"], **gold["options"]).fit(datasets[gold["dataset"]])
    n = fit.n_
    assert n == gold["n"]
    outer = _frame(gold["outer"])
    ours = fit.redundancy_.set_axis([f"{a}|{b}" for a, b in fit.redundancy_.index]).loc[outer.index]
    # plspm scales scores to variance 1 with the n denominator, custval (and seminr) with n - 1
    factor = 1.0 if gold["options"]["standardize"] else np.sqrt(n / (n - 1))
    ours = ours.assign(weight=ours["weight"] * factor)
    assert np.abs(ours.to_numpy() - outer.to_numpy()).max() < 1e-8
    paths = _frame(gold["path_coefs"]).T
    assert maxdiff(fit.paths_, paths) < 1e-8
    assert fit.gof_ == pytest.approx(gold["gof"], abs=1e-8)
    unidim = _frame(gold["unidim"])
    modes_b = [c for c in unidim.index if fit.modes_[c] == "B"]
    assert (unidim.loc[modes_b, "DG.rho"] == 0).all()  # plspm prints 0 for mode B blocks
    assert (fit.reliability_.loc[modes_b, "dg_rho"] > 0.5).all()  # custval: the block's own value
    a = unidim.index.difference(modes_b)
    assert np.abs(fit.reliability_.loc[a, "dg_rho"] - unidim.loc[a, "DG.rho"]).max() < 1e-10
    summ = _frame(gold["inner_summary"])
    assert np.abs(fit.inner_summary_["mean_redundancy"] - summ.loc[fit.inner_summary_.index, "Mean_Redundancy"]).max() < 1e-8
    inner = _frame(gold["inner"])
    pi = fit.path_inference_.set_axis([f"{t}|{f}" for t, f in fit.path_inference_.index])
    slopes = [i for i in inner.index if not i.endswith("|Intercept")]
    assert np.abs(pi.loc[slopes, ["estimate", "se", "t"]].to_numpy() - inner.loc[slopes, ["estimate", "se", "t"]].to_numpy()).max() < 1e-8
    p_ours, p_ref = pi.loc[slopes, "p_value"].to_numpy(), inner.loc[slopes, "p_value"].to_numpy()
    assert np.all(np.abs(p_ours - p_ref) <= 1e-8 * np.maximum(p_ref, 1e-300) + 1e-15)
    icpt = [i for i in inner.index if i.endswith("|Intercept")]
    assert np.abs(pi.loc[icpt, "estimate"]).max() < 1e-12
    assert np.allclose(pi.loc[icpt, "se"] * np.sqrt(n / (n - 1)), inner.loc[icpt, "se"], rtol=1e-8, atol=0)


def test_unstandardised_weights_are_in_item_units(mobi):
    """standardize=False: scores are the centred items times weights_, and a rescaled item
    changes its weight by the inverse factor (standardize=True is blind to item units)."""
    gold = PLSPM["mobi4_raw_path"]
    fit = PLS(gold["syntax"], standardize=False).fit(mobi)
    items = fit.weights_.index
    xc = mobi[items] - mobi[items].mean()
    scores = xc.to_numpy() @ fit.weights_.to_numpy()
    assert np.abs(scores - fit.scores_[fit.weights_.columns].to_numpy()).max() < 1e-10
    scaled = mobi.assign(IMAG1=mobi["IMAG1"] * 10)
    std = PLS(gold["syntax"]).fit(mobi).paths_
    assert maxdiff(PLS(gold["syntax"]).fit(scaled).paths_, std) < 1e-10
    assert not np.allclose(PLS(gold["syntax"], standardize=False).fit(scaled).paths_, fit.paths_)
    boot = fit.bootstrap(indices=np.tile(np.arange(250), (2, 1)))
    assert np.allclose(boot.weights["boot_mean"], boot.weights["estimate"], atol=1e-10)
    assert np.allclose(boot.loadings["boot_mean"], boot.loadings["estimate"], atol=1e-10)


def test_simple_slopes_are_seminr_slope_analysis(mobi, tmp_path):
    """seminr slope_analysis(): mat %*% path_coef[c(iv, iv*mod, mod), dv] at mod = -1, 0, 1."""
    import matplotlib

    matplotlib.use("Agg")
    from custval.exceptions import SpecificationError
    from custval.plots import save_figure, simple_slopes_plot

    gold = GOLD["interaction_two_stage"]
    fit = PLS(gold["syntax"]).fit(mobi)
    p = ref("interaction_two_stage", "paths")
    b = p.loc[["Image", "Image:Value", "Value"], "Satisfaction"].to_numpy()
    table = fit.simple_slopes("Image:Value")
    for m, row in zip((-1, 0, 1), table.itertuples()):
        at_x1 = np.array([1, m, m]) @ b  # seminr's line at iv = +1
        assert row.intercept + row.slope == pytest.approx(at_x1, abs=1e-10)
    assert table.attrs == {"iv": "Image", "moderator": "Value", "target": "Satisfaction"}
    with pytest.raises(SpecificationError, match="not an interaction term"):
        fit.simple_slopes("Value:Image")
    with pytest.raises(SpecificationError, match="does not predict 'Image'"):
        fit.simple_slopes("Image:Value", target="Image")
    ax = simple_slopes_plot(fit, "Image:Value", levels=(-2, 0, 2))
    lines = [ln for ln in ax.lines if ln.get_gid() == "custval-slope"]
    assert len(lines) == 3
    slopes = np.diff([ln.get_ydata() for ln in lines], axis=1)[:, 0] / 4
    assert np.allclose(slopes, fit.simple_slopes("Image:Value", levels=(-2, 0, 2))["slope"])
    written = save_figure(ax.figure, "slopes", directory=tmp_path)
    assert all(p.stat().st_size > 0 for p in written)


# --------------------------------------------------------------------------- IPMA
def test_ipma_by_its_definition_on_mobi(mobi):
    """Performance: mean of the 0-100 score rescaled with the 1-10 response scale; importance:
    unstandardised total effects, i.e. OLS of the rescaled scores along the structural model."""
    import custval

    inst = custval.load_dataset("mobi").instrument
    syntax = load_golden("pls", "seminr")["cases"]["ecsi_pls"]["syntax"]
    fit = PLS(syntax).fit(mobi)
    res = fit.ipma(target="Loyalty", instrument=inst)
    assert res == fit.ipma(target="Loyalty", scales=(1, 10))  # the codebook says 1-10 for every item
    ind = res.indicators
    xr = (mobi - 1) / 9 * 100
    scores = {}
    for c in fit.constructs_:
        items = [i for i in fit.weights_.index if fit.weights_.at[i, c] != 0]
        w = fit.weights_.loc[items, c] / xr[items].std()
        scores[c] = xr[items] @ (w / w.sum())
        if c in res.constructs.index:
            assert np.allclose(ind.loc[c, "weight"].to_numpy(), (w / w.sum()).to_numpy(), atol=1e-12)
            assert res.constructs.at[c, "performance"] == pytest.approx(scores[c].mean(), abs=1e-10)
    assert 0 < res.constructs["performance"].min() and res.constructs["performance"].max() < 100
    # unstandardised paths by OLS with intercept on the rescaled scores, then total effects
    cons = fit.constructs_
    b = np.zeros((len(cons), len(cons)))
    for t in fit.r2_.index:
        preds = [s for s, u in fit.paths_list_ if u == t]
        xmat = np.column_stack([np.ones(len(mobi)), *[scores[p] for p in preds]])
        coef = np.linalg.lstsq(xmat, scores[t].to_numpy(), rcond=None)[0]
        for p, c in zip(preds, coef[1:]):
            b[cons.index(p), cons.index(t)] = c
    total = np.linalg.inv(np.eye(len(cons)) - b) - np.eye(len(cons))
    for c in res.constructs.index:
        assert res.constructs.at[c, "importance"] == pytest.approx(total[cons.index(c), cons.index("Loyalty")], abs=1e-10)
    # Image reaches Loyalty directly and through Satisfaction: importance is the total effect
    assert res.constructs.at["Image", "importance"] > b[cons.index("Image"), cons.index("Loyalty")]
    assert np.allclose(ind["importance"], ind["weight"] * res.constructs.loc[ind.index.get_level_values(0), "importance"].to_numpy())
    # observed min/max would give other numbers: the response scale is what counts
    observed = {i: (mobi[i].min(), mobi[i].max()) for i in fit.items_}
    assert any(mobi[i].min() > 1 for i in fit.items_)
    assert not np.allclose(fit.ipma(target="Loyalty", scales=observed).constructs["performance"],
                           res.constructs["performance"])


def test_ipma_errors_and_map(mobi, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from custval.exceptions import DataValidationError, SpecificationError
    from custval.plots import ipma_map

    model = ("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\nValue =~ PERV1 + PERV2\n"
             "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nSatisfaction ~ Image + Value")
    fit = PLS(model).fit(mobi)
    with pytest.raises(SpecificationError, match=r"scales=\(min, max\).*observed minimum and maximum are not used"):
        fit.ipma(target="Satisfaction")
    with pytest.raises(SpecificationError, match="'Image' is not an endogenous"):
        fit.ipma(target="Image", scales=(1, 10))
    with pytest.raises(DataValidationError, match=r"IMAG1: observed 1..10, scale 1..7"):
        fit.ipma(target="Satisfaction", scales={**{i: (1, 10) for i in fit.items_}, "IMAG1": (1, 7)})
    with pytest.raises(SpecificationError, match=r"no \(min, max\) for item\(s\) \['CUSA3'\]"):
        fit.ipma(target="Satisfaction", scales={i: (1, 10) for i in fit.items_ if i != "CUSA3"})
    reversed_item = mobi.assign(IMAG3=11 - mobi["IMAG3"])  # a reverse-worded item not keyed
    bad = PLS(model, mode="B").fit(reversed_item)  # mode B: the weight turns negative, no keying check
    with pytest.raises(SpecificationError, match="IMAG3 of Image"):
        bad.ipma(target="Satisfaction", scales=(1, 10))
    res = fit.ipma(target="Satisfaction", scales=(1, 10))
    for level, n in (("constructs", 2), ("indicators", 7)):
        ax = ipma_map(res, level=level)
        (points,) = [c for c in ax.collections if c.get_gid() == "custval-ipma"]
        assert len(points.get_offsets()) == n
        assert np.allclose(points.get_offsets()[:, 0], getattr(res, level)["importance"])
    with pytest.raises(SpecificationError, match="level="):
        ipma_map(res, level="items")


def test_bootstrap_of_effects_r2_htmt_and_bca(mobi):
    """The identity resample reproduces every estimate; BCa differs from percentile by the
    bias correction and acceleration, from the same resamples."""
    syntax = load_golden("pls", "seminr")["cases"]["ecsi_pls"]["syntax"]
    fit = PLS(syntax).fit(mobi)
    same = fit.bootstrap(indices=np.tile(np.arange(250), (2, 1)))
    for name in ("total_effects", "indirect_effects", "r2", "htmt", "paths"):
        table = getattr(same, name)
        assert len(table) > 0
        assert np.allclose(table["boot_mean"], table["estimate"], atol=1e-10), name
    # Image reaches Loyalty directly and via Satisfaction; Quality only indirectly
    assert ("Image", "Loyalty") in same.indirect_effects.index
    assert ("Quality", "Loyalty") in same.total_effects.index and ("Quality", "Loyalty") not in same.paths.index
    assert ("Complaints", "Loyalty") not in same.indirect_effects.index  # a direct path only
    te = same.total_effects.loc[("Image", "Loyalty"), "estimate"]
    assert te == pytest.approx(fit.paths_.at["Image", "Loyalty"] + same.indirect_effects.loc[("Image", "Loyalty"), "estimate"])
    pct = fit.bootstrap(n_boot=400, seed=2)
    bca = fit.bootstrap(n_boot=400, seed=2, ci_method="bca")
    assert bca.ci_method == "bca" and "BCa" in bca.method_note
    pd.testing.assert_series_equal(pct.r2["se"], bca.r2["se"])  # same resamples
    assert not np.allclose(pct.htmt["ci_low"], bca.htmt["ci_low"])
    for table in (bca.paths, bca.r2, bca.htmt, bca.total_effects):
        assert ((table["ci_low"] <= table["estimate"]) & (table["estimate"] <= table["ci_high"])).mean() > 0.9
    from custval.exceptions import SpecificationError

    with pytest.raises(SpecificationError, match="ci_method"):
        fit.bootstrap(n_boot=10, ci_method="normal")


def test_plsc_with_an_orthogonal_interaction_matches_seminr_fixture(mobi):
    """seminr tests/testthat/test-consistent-interactions.R: reflective() constructs (PLSc) and an
    orthogonal interaction, which stays a composite with rho_A = 1."""
    from tests.test_pls import fixture

    model = ("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\nExpectation =~ CUEX3\nValue =~ PERV1 + PERV2\n"
             "Satisfaction =~ CUSA1 + CUSA2 + CUSA3\nSatisfaction ~ Image + Expectation + Value + Image:Expectation")
    fit = PLS(model, interaction="orthogonal", consistent=True).fit(mobi)
    assert "Image:Expectation" not in fit.common_factors_
    paths = fixture("plsc-interaction-paths").rename(index=_label)
    assert np.abs(fit.paths_.loc[paths.index[2:], "Satisfaction"] - paths["Satisfaction"].iloc[2:]).max() < 5e-4
    assert np.abs(fit.r2_.loc["Satisfaction"].to_numpy() - paths["Satisfaction"].iloc[:2].to_numpy()).max() < 5e-4
    rel = fixture("plsc-interaction-reliability").rename(index=_label).set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
    assert maxdiff(fit.reliability_, rel) < TOL
