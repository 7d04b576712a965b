"""custval.PLS against seminr 2.3.1 (tests/golden/pls) and simulated populations.

Two kinds of reference numbers, both from seminr (see tests/golden/pls/README.md):

* ``seminr_fixtures/*.csv``: the fixtures of seminr's own test suite
  (``tests/fixtures/V_3_6_0``), copied unchanged;
* ``seminr.json``: written by ``tests/r/pls.R``, which runs seminr's R code on
  more models (the full ECSI model, PLSc, mode B, unit weights, corp_rep with
  mean replacement).

custval repeats seminr's iteration exactly (same start, same updates, same
stopping rule), so both stop after the same iteration and the estimates agree
to rounding error: the tolerance is 1e-10 (the CSV/JSON files hold 15
significant digits).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from custval import PLS
from custval._io.paths import RAW_DATA_DIR
from custval._sem.pls import parse_pls_syntax
from custval.exceptions import (
    ConstantItemError,
    ConvergenceWarning,
    DataValidationError,
    MissingDataWarning,
    ModelSyntaxError,
    RepairWarning,
    SingularMatrixError,
    SpecificationError,
)
from custval.validity import htmt
from tests._seminr import seminr_cases, seminr_reference
from tests.conftest import GOLDEN_DIR, load_golden

TOL = 1e-10
FIXTURES = GOLDEN_DIR / "pls" / "seminr_fixtures"

MODEL4 = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Satisfaction ~ Image + Expectation + Value
"""


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / name / f"{name}.csv")


@pytest.fixture(scope="module")
def data():
    return {"mobi": _read("mobi"), "corp_rep": _read("corp_rep").replace(-99, np.nan)}


@pytest.fixture(scope="module")
def mobi(data):
    return data["mobi"]


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv", index_col=0)


def maxdiff(ours, ref) -> float:
    """Largest absolute difference, aligned by labels (every reference label must exist in ours)."""
    if isinstance(ref, pd.DataFrame):
        ours = ours.loc[ref.index, ref.columns]
    else:
        ours = ours.loc[ref.index]
    return float(np.max(np.abs(ours.to_numpy(float) - ref.to_numpy(float))))


# --------------------------------------------------------------------------- seminr's fixtures
@pytest.fixture(scope="module")
def composite4_path(mobi):
    return PLS(MODEL4, weighting="path").fit(mobi)


@pytest.fixture(scope="module")
def composite4_factorial(mobi):
    return PLS(MODEL4, weighting="factorial").fit(mobi)


def test_path_weighting_matches_seminr_fixtures(composite4_path):
    # test-inner_weighting.R: composite(..., weights = mode_A), inner_weights = path_weighting
    fit = composite4_path
    assert maxdiff(fit.paths_, fixture("inner_weights_coefficients")) < TOL
    assert maxdiff(fit.weights_, fixture("inner_weights_weights")) < TOL
    scores = fixture("inner_weights_constructscores")
    assert np.max(np.abs(fit.scores_[scores.columns].to_numpy() - scores.to_numpy())) < TOL
    # test-metric.R: R² and adjusted R²
    r2 = fixture("rsquared1")
    assert abs(fit.r2_.at["Satisfaction", "r2"] - r2.at["Rsq", "Satisfaction"]) < TOL
    assert abs(fit.r2_.at["Satisfaction", "r2_adj"] - r2.at["AdjRsq", "Satisfaction"]) < TOL
    # test-summary.R: reliability table (alpha, rhoC, AVE, rhoA) and construct correlations
    rel = fixture("reliability").set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
    assert maxdiff(fit.reliability_, rel) < TOL
    assert maxdiff(fit.construct_cor_, fixture("construct_cors")) < TOL
    assert fit.converged_ and fit.n_ == 250 and fit.n_excluded_ == 0


def test_factorial_weighting_matches_seminr_fixtures(composite4_factorial):
    fit = composite4_factorial
    assert maxdiff(fit.paths_, fixture("factorial_coefficients")) < TOL
    assert maxdiff(fit.weights_, fixture("factorial_weights")) < TOL
    scores = fixture("factorial_scores")
    assert np.max(np.abs(fit.scores_[scores.columns].to_numpy() - scores.to_numpy())) < TOL


def test_plsc_matches_seminr_fixtures(mobi):
    # test-consistent.R: reflective(...) (= PLSc), inner_weights = path_factorial
    fit = PLS(MODEL4, weighting="factorial", consistent=True).fit(mobi)
    assert maxdiff(fit.paths_, fixture("path_coef1")) < TOL
    assert maxdiff(fit.loadings_, fixture("loadings1")) < TOL
    assert maxdiff(fit.rho_a_, fixture("rho1")["rhoA"]) < TOL
    r2 = fixture("rsquaredplsc")
    assert abs(fit.r2_.at["Satisfaction", "r2"] - r2.at["Rsq", "Satisfaction"]) < TOL
    assert abs(fit.r2_.at["Satisfaction", "r2_adj"] - r2.at["AdjRsq", "Satisfaction"]) < TOL
    assert fit.common_factors_ == ("Image", "Expectation", "Value", "Satisfaction")


def test_mixed_factors_and_composites_match_seminr_fixtures(mobi):
    # test-summary.R: Image, Expectation reflective(); Value, Satisfaction composite(mode_A)
    fit = PLS(MODEL4, consistent=["Image", "Expectation"]).fit(mobi)
    ref = fixture("factor_reliability")
    assert maxdiff(fit.reliability_.loc[ref.index, ["AVE", "rho_A"]], ref.set_axis(["AVE", "rho_A"], axis=1)) < TOL
    assert maxdiff(fit.loadings_, fixture("factor_indicator_reliability")) < TOL


def test_modes_b_unit_single_items_match_seminr_fixtures(mobi):
    # test-measure.r: reflective, single items, regression (B), correlation (A) and unit weights
    model = """
    Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    Quality =~ PERQ1
    Satisfaction <~ CUSA1 + CUSA2 + CUSA3
    Complaints =~ CUSCO
    Value =~ PERV1 + PERV2
    Satisfaction ~ Image + Quality + Complaints + Value
    """
    fit = PLS(model, consistent=["Image", "Quality"], mode={"Value": "unit"}).fit(mobi)
    assert maxdiff(fit.weights_, fixture("weights3")) < TOL
    assert maxdiff(fit.loadings_, fixture("loadings3")) < TOL
    assert fit.modes_ == {"Image": "A", "Quality": "A", "Satisfaction": "B", "Complaints": "A", "Value": "unit"}


def test_mean_replacement_matches_seminr_fixture(data):
    # test_clean_data.R: corp_rep, missing_value = "-99", missing = mean_replacement
    model = """
    COMP =~ comp_1 + comp_2 + comp_3
    LIKE =~ like_1 + like_2 + like_3
    CUSA =~ cusa
    CUSL =~ cusl_1 + cusl_2 + cusl_3
    CUSA ~ COMP + LIKE
    CUSL ~ COMP + LIKE + CUSA
    """
    with pytest.warns(RepairWarning, match=r"mean replacement of 11 missing value\(s\) in 8 row"):
        fit = PLS(model, missing="mean").fit(data["corp_rep"])
    assert maxdiff(fit.paths_, fixture("corp_rep_simple_paths")) < TOL
    assert fit.n_ == 344 and len(fit.repairs_) == 1 and "mean replacement" in fit.summary()


def test_htmt_equals_seminr_htmt(mobi):
    # seminr's HTMT() and custval.htmt(kind="htmt") use the same item correlations and formula
    ref = fixture("factor_discriminant_validity")
    ours = htmt(mobi, MODEL4.split("Satisfaction ~")[0], n_boot=0).matrix
    pairs = [(a, b) for a in ref.index for b in ref.columns if not np.isnan(ref.at[a, b])]
    assert len(pairs) == 6
    assert max(abs(ours.at[a, b] - ref.at[a, b]) for a, b in pairs) < TOL


# --------------------------------------------------------------------------- seminr's code, more models
def _fit_case(case: str, data) -> tuple[PLS, dict]:
    ref = seminr_reference(case)
    options = {k: v for k, v in ref["options"].items() if k != "missing_codes"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        fit = PLS(ref["syntax"], **options).fit(data[ref["dataset"]])
    return fit, ref


CASES = [c for c in seminr_cases() if c != "mixed_modes"]


@pytest.mark.parametrize("case", CASES)
def test_matches_seminr_code(case, data):
    fit, ref = _fit_case(case, data)
    assert fit.n_ == ref["n"]
    assert fit.n_iter_ == ref["iterations"] + 1  # seminr reports its 0-based loop index
    assert maxdiff(fit.weights_, ref["weights"]) < TOL
    assert maxdiff(fit.loadings_, ref["loadings"]) < TOL
    assert maxdiff(fit.paths_, ref["paths"]) < TOL
    r2 = fit.r2_.T.set_axis(["Rsq", "AdjRsq"])
    assert maxdiff(r2, ref["rsquared"]) < TOL
    assert maxdiff(fit.rho_a_, ref["rho_a"].iloc[:, 0]) < TOL
    rel = ref["reliability"].set_axis(["alpha", "rhoC", "AVE", "rho_A"], axis=1)
    assert maxdiff(fit.reliability_, rel) < TOL
    if not fit.common_factors_:
        assert maxdiff(fit.construct_cor_, ref["construct_cors"]) < TOL
    if "scores" in ref:
        assert np.max(np.abs(fit.scores_.to_numpy() - ref["scores"][fit.constructs_].to_numpy())) < 1e-9


def test_mixed_model_paths_differ_from_seminr_only_by_its_composite_correction(data):
    """Known divergence: seminr's PLSc also divides mode A/unit composites by their rho_A.

    Weights, loadings and reliabilities agree; the paths agree once seminr's correction of the
    composites is applied to custval's own scores, which shows that this is the only difference.
    """
    fit, ref = _fit_case("mixed_modes", data)
    for key in ("weights", "loadings"):
        assert maxdiff(getattr(fit, f"{key}_"), ref[key]) < TOL
    assert maxdiff(fit.rho_a_, ref["rho_a"].iloc[:, 0]) < TOL
    assert maxdiff(fit.paths_, ref["paths"]) > 1e-3  # the correction matters here
    rho = fit.rho_a_.to_numpy()
    r = np.corrcoef(fit.scores_.to_numpy(), rowvar=False) / np.sqrt(np.outer(rho, rho))
    np.fill_diagonal(r, 1.0)
    cons = fit.constructs_
    preds = [cons.index(c) for c in ("Image", "Quality", "Complaints", "Value")]
    beta = np.linalg.solve(r[np.ix_(preds, preds)], r[preds, cons.index("Satisfaction")])
    seminr_beta = ref["paths"].loc[["Image", "Quality", "Complaints", "Value"], "Satisfaction"].to_numpy()
    assert np.max(np.abs(beta - seminr_beta)) < TOL


def test_seminr_reference_errors():
    with pytest.raises(KeyError, match="available"):
        seminr_reference("nope")


def test_seminr_reference_reads_labelled_frames_and_zero_based_indices(mobi):
    ref = seminr_reference("composite4_path")
    assert ref["n"] == len(mobi)
    assert ref["paths"].index.is_unique and "Satisfaction" in ref["paths"].columns
    boot = seminr_reference("ecsi_pls", bootstrap=True)
    assert boot["indices"].shape == (boot["nboot"], len(mobi))
    assert boot["indices"].min() == 0 and boot["indices"].max() == len(mobi) - 1


def test_library_does_not_read_the_test_fixtures():
    import custval.pls

    assert not hasattr(custval.pls, "seminr_reference")


# --------------------------------------------------------------------------- properties
def test_weights_give_unit_variance_scores_and_loadings_are_correlations(composite4_path, mobi):
    fit = composite4_path
    assert np.allclose(fit.scores_.var(ddof=1), 1.0, atol=1e-12)
    z = (mobi - mobi.mean()) / mobi.std(ddof=1)
    assert np.allclose(z[fit.items_].to_numpy() @ fit.weights_.to_numpy(), fit.scores_.to_numpy(), atol=1e-12)
    for c in fit.constructs_:
        items = list(fit.loadings_.index[fit.loadings_[c] != 0])
        cors = mobi[items].corrwith(fit.scores_[c])
        assert np.allclose(cors.to_numpy(), fit.loadings_.loc[items, c].to_numpy(), atol=1e-12)


def test_invariant_to_item_units_and_row_order(mobi):
    # PLS works on standardised items: positive rescaling, shifts and row order change nothing
    rng = np.random.default_rng(11)
    items = list(mobi.columns)
    scaled = mobi * rng.uniform(0.1, 10, len(items)) + rng.uniform(-50, 50, len(items))
    shuffled = scaled.iloc[rng.permutation(len(scaled))]
    syntax = seminr_reference("ecsi_image_mode_b")["syntax"]
    base = PLS(syntax, consistent=True).fit(mobi)
    other = PLS(syntax, consistent=True).fit(shuffled)
    for attr in ("weights_", "loadings_", "paths_", "reliability_", "r2_"):
        assert np.max(np.abs(getattr(base, attr).to_numpy() - getattr(other, attr).to_numpy())) < 1e-10
    assert np.allclose(other.scores_.loc[base.scores_.index].to_numpy(), base.scores_.to_numpy(), atol=1e-10)


def test_total_effects_and_to_frame(mobi):
    ref = seminr_reference("ecsi_pls")
    fit = PLS(ref["syntax"]).fit(mobi)
    b = fit.paths_
    # Image -> Loyalty: direct + via Satisfaction + via Satisfaction -> Complaints + ...
    direct = b.at["Image", "Loyalty"]
    assert fit.total_effects_.at["Image", "Loyalty"] != pytest.approx(direct)
    te = np.linalg.inv(np.eye(len(b)) - b.to_numpy()) - np.eye(len(b))
    assert np.allclose(fit.total_effects_.to_numpy(), te)
    assert abs(fit.total_effects_.at["Complaints", "Loyalty"] - b.at["Complaints", "Loyalty"]) < 1e-15
    frame = fit.to_frame()
    assert list(frame.columns) == ["from", "to", "estimate", "n"] and len(frame) == 12
    assert (frame["n"] == 250).all()
    text = fit.summary()
    assert "seminr::estimate_pls" in text and "Reliability" in text
    assert "<table" in fit._repr_html_()


def _simulate(n: int, seed: int, factor: bool):
    """Two blocks of four items, true path 0.5 between constructs (labelled simulated)."""
    rng = np.random.default_rng(seed)
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    xi = rng.standard_normal(n)
    eta = 0.5 * xi + np.sqrt(0.75) * rng.standard_normal(n)
    cols = {}
    for name, lv in (("x", xi), ("y", eta)):
        for j, lj in enumerate(lam, start=1):
            cols[f"{name}{j}"] = lj * lv + np.sqrt(1 - lj**2) * rng.standard_normal(n)
    return pd.DataFrame(cols), lam


SIM_MODEL = "X =~ x1 + x2 + x3 + x4\nY =~ y1 + y2 + y3 + y4\nY ~ X"


def test_plsc_recovers_a_simulated_common_factor_population():
    # simulated: a common-factor population; PLSc is consistent, PLS is biased (paths down, loadings up)
    df, lam = _simulate(20000, 1, factor=True)
    plsc = PLS(SIM_MODEL, consistent=True).fit(df)
    pls = PLS(SIM_MODEL).fit(df)
    assert abs(plsc.paths_.at["X", "Y"] - 0.5) < 0.02
    assert np.max(np.abs(plsc.loadings_.loc[["x1", "x2", "x3", "x4"], "X"].to_numpy() - lam)) < 0.02
    assert pls.paths_.at["X", "Y"] < 0.45  # attenuated by measurement error
    assert (pls.loadings_.loc[["x1", "x2", "x3", "x4"], "X"].to_numpy() > lam).all()
    # rho_A is consistent for the reliability of the sum of the items (congeneric: omega)
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert abs(plsc.rho_a_["X"] - omega) < 0.03


def test_mode_b_recovers_a_simulated_composite_population():
    # simulated: Y is generated by a composite of x1..x3 with known weights (standardised items)
    rng = np.random.default_rng(2)
    n = 20000
    cor = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.4], [0.2, 0.4, 1.0]])
    x = rng.standard_normal((n, 3)) @ np.linalg.cholesky(cor).T
    w = np.array([0.6, 0.1, 0.5])
    w = w / np.sqrt(w @ cor @ w)
    c = x @ w
    y = 0.6 * c + np.sqrt(1 - 0.36) * rng.standard_normal((n, 2)).T
    df = pd.DataFrame(np.column_stack([x, y.T]), columns=["x1", "x2", "x3", "y1", "y2"])
    fit = PLS("C <~ x1 + x2 + x3\nY =~ y1 + y2\nY ~ C").fit(df)
    assert np.max(np.abs(fit.weights_.loc[["x1", "x2", "x3"], "C"].to_numpy() - w)) < 0.03
    assert abs(fit.scores_["C"].var() - 1) < 1e-12


def test_inner_schemes_coincide_for_two_constructs(mobi):
    # with two blocks every scheme's inner proxy of X is +-Y (and of Y is +-X): same weights
    model = "Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image"
    fits = [PLS(model, weighting=w).fit(mobi) for w in ("path", "factorial", "centroid")]
    for other in fits[1:]:
        assert np.max(np.abs(other.weights_.to_numpy() - fits[0].weights_.to_numpy())) < 1e-12
    # but not for the ECSI model, where centroid ignores the size of the correlations
    syntax = seminr_reference("ecsi_pls")["syntax"]
    cen = PLS(syntax, weighting="centroid").fit(mobi)
    fac = PLS(syntax, weighting="factorial").fit(mobi)
    assert np.max(np.abs(cen.weights_.to_numpy() - fac.weights_.to_numpy())) > 1e-4
    assert cen.converged_


# --------------------------------------------------------------------------- bad input
def test_syntax_errors_quote_the_line():
    with pytest.raises(ModelSyntaxError, match=r"line 2: 'Y ~ Z'.*'Z' has no measurement line"):
        parse_pls_syntax("X =~ a + b\nY ~ Z\nY =~ c + d")
    with pytest.raises(ModelSyntaxError, match="modifiers"):
        parse_pls_syntax("X =~ 1*a + b\nY =~ c\nY ~ X")
    with pytest.raises(ModelSyntaxError, match="no structural path"):
        parse_pls_syntax("X =~ a + b")
    with pytest.raises(ModelSyntaxError, match="single item"):
        parse_pls_syntax("X <~ a\nY =~ c\nY ~ X")
    with pytest.raises(ModelSyntaxError, match="already measures"):
        parse_pls_syntax("X =~ a + b\nY =~ b + c\nY ~ X")
    with pytest.raises(SpecificationError, match="no structural path"):
        parse_pls_syntax("X =~ a + b\nY =~ c + d\nZ =~ e\nY ~ X")
    with pytest.raises(ModelSyntaxError, match="reciprocal"):
        parse_pls_syntax("X =~ a + b\nY =~ c + d\nY ~ X\nX ~ Y")
    with pytest.raises(SpecificationError, match="feedback loop"):
        parse_pls_syntax("X =~ a\nY =~ c\nZ =~ e\nY ~ X\nZ ~ Y\nX ~ Z")
    with pytest.raises(ModelSyntaxError, match="empty"):
        parse_pls_syntax("  ")


def test_items_absent_missing_constant_and_options(mobi):
    with pytest.raises(SpecificationError, match=r"\['NOPE'\]"):
        PLS("X =~ IMAG1 + NOPE\nY =~ CUSA1\nY ~ X").fit(mobi)
    holes = mobi.copy()
    holes.loc[[3, 7], "IMAG2"] = np.nan
    with pytest.raises(DataValidationError, match=r"'IMAG2': 2.*rows \[3, 7\]"):
        PLS(MODEL4).fit(holes)
    with pytest.warns(MissingDataWarning, match="2 row"):
        fit = PLS(MODEL4, missing="listwise").fit(holes)
    assert fit.n_ == 248 and fit.n_excluded_ == 2 and 3 not in fit.scores_.index
    assert list(fit.excluded_index_) == [3, 7]
    with pytest.raises(DataValidationError, match=r"'IMAG2'\] have no observed value"):
        PLS(MODEL4, missing="mean").fit(mobi.assign(IMAG2=np.nan))
    nullable = mobi.astype("Int64")
    nullable.loc[5, "CUSA1"] = pd.NA
    with pytest.warns(RepairWarning):
        assert PLS(MODEL4, missing="mean").fit(nullable).n_ == 250
    const = mobi.assign(IMAG3=5)
    with pytest.raises(ConstantItemError, match="IMAG3"):
        PLS(MODEL4).fit(const)
    with pytest.raises(SpecificationError, match="weighting"):
        PLS(MODEL4, weighting="path_weighting").fit(mobi)
    with pytest.raises(SpecificationError, match="common factor"):
        PLS(MODEL4.replace("Value        =~", "Value <~"), consistent=["Value"]).fit(mobi)
    with pytest.raises(SpecificationError, match="not a construct"):
        PLS(MODEL4, mode={"Valu": "B"}).fit(mobi)
    with pytest.raises(DataValidationError, match="not numeric"):
        PLS(MODEL4).fit(mobi.assign(IMAG1=mobi["IMAG1"].astype(str)))
    dup = mobi.assign(PERV2=mobi["PERV1"] * 2.0)
    with pytest.raises(SingularMatrixError, match="Value"):
        PLS(MODEL4, mode={"Value": "B"}).fit(dup)


def test_non_convergence_warns(mobi):
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        fit = PLS(MODEL4, max_iter=2).fit(mobi)
    assert not fit.converged_ and fit.n_iter_ == 2


def test_init_only_stores(mobi):
    est = PLS("not a model", weighting="nonsense")
    assert est.model == "not a model" and not hasattr(est, "paths_")
    with pytest.raises(SpecificationError, match="not fitted"):
        est.to_frame()


# --------------------------------------------------------------------------- bootstrap
@pytest.mark.parametrize("case", ["ecsi_pls", "ecsi_plsc"])
def test_bootstrap_on_seminr_resamples_equals_seminr(case, mobi):
    """The same resampled rows give seminr's Bootstrap Mean, SD, T Stat. and percentile CI."""
    gold = load_golden("pls", "seminr_bootstrap")[case]
    ref = seminr_reference(case)
    fit = PLS(ref["syntax"], **ref["options"]).fit(mobi)
    indices = seminr_reference(case, bootstrap=True)["indices"]
    assert (indices == np.array(gold["indices"]) - 1).all()  # R's indices are 1-based
    boot = fit.bootstrap(indices=indices)
    assert boot.n_boot == gold["nboot"] == 100 and boot.n_failed == 0
    cols = ["estimate", "boot_mean", "se", "t", "ci_low", "ci_high"]
    for name in ("paths", "loadings", "weights"):
        g = gold[name]
        expected = pd.DataFrame(g["values"], index=g["rows"], columns=g["cols"])
        ours = getattr(boot, name)
        ours = ours.set_axis([f"{a}  ->  {b}" for a, b in ours.index])
        if name != "paths":  # seminr labels outer parameters item -> construct
            ours = getattr(boot, name).set_axis([f"{b}  ->  {a}" for a, b in getattr(boot, name).index])
        # PLSc resamples are ill-conditioned (paths up to |2|): relative error of the solve ~1e-13
        tol = 1e-10 if case == "ecsi_pls" else 1e-9
        assert len(expected) == len(ours)
        got, want = ours.loc[expected.index, cols].to_numpy(), expected.to_numpy()
        # t of a single item's weight/loading (se = 0): seminr NA, custval NaN
        assert (np.isnan(got) == np.isnan(want)).all() and np.isnan(want).sum() == (name != "paths") * 1
        assert np.nanmax(np.abs(got - want)) < tol


def test_bootstrap_seeded_and_single_resample_equals_fit(mobi):
    fit = PLS(MODEL4, consistent=True).fit(mobi)
    a = fit.bootstrap(n_boot=300, seed=5)
    b = fit.bootstrap(n_boot=300, seed=5, progress=True)
    pd.testing.assert_frame_equal(a.paths, b.paths)
    assert not a.paths.equals(fit.bootstrap(n_boot=300, seed=6).paths)
    assert list(a.to_frame().columns) == ["estimate", "boot_mean", "se", "t", "ci_low", "ci_high", "n"]
    # the identity resample reproduces the fit: batched correlation-matrix algorithm == data algorithm
    same = fit.bootstrap(indices=np.tile(np.arange(250), (2, 1)))
    assert np.allclose(same.paths["boot_mean"].to_numpy(), same.paths["estimate"].to_numpy(), atol=1e-12)
    assert np.allclose(same.loadings["boot_mean"].to_numpy(), same.loadings["estimate"].to_numpy(), atol=1e-12)
    assert "bootstrap_model" in a.summary()


def test_bootstrap_excludes_resamples_with_a_constant_item():
    # simulated: x3 is 1 in one row only; resamples without that row have a constant item
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.standard_normal((30, 4)), columns=["x1", "x2", "y1", "y2"])
    df["x3"] = 0.0
    df.loc[0, "x3"] = 1.0
    fit = PLS("X =~ x1 + x2 + x3\nY =~ y1 + y2\nY ~ X").fit(df)
    with pytest.warns(ConvergenceWarning, match="bootstrap resamples were excluded"):
        boot = fit.bootstrap(n_boot=200, seed=0)
    assert boot.n_failed > 0 and boot.n_boot + boot.n_failed == 200
    with pytest.raises(SpecificationError, match="indices"):
        fit.bootstrap(indices=np.zeros((3, 5), dtype=int))
