"""custval.cfa against lavaan 0.6-14 (golden values from tests/r/cfa.R)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.exceptions import (
    ConvergenceWarning,
    HeywoodWarning,
    IdentificationError,
    InsufficientDataError,
    MissingDataWarning,
    ModelSyntaxError,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
    SpecificationError,
)
from tests.conftest import load_golden

HS_MODEL = """
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"""


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / name / f"{name}.csv")


@functools.cache
def _data(name: str) -> pd.DataFrame:
    if name == "sim":
        return pd.DataFrame(load_golden("cfa", "sim")["data"])
    return _raw(name)


# (golden file, case, data set, CFA keyword arguments)
CASES = {
    "hs39-ml": ("hs39", "ml", "holzinger_swineford1939", {}),
    "hs39-mlr": ("hs39", "mlr", "holzinger_swineford1939", {"estimator": "MLR"}),
    "hs39-stdlv": ("hs39", "ml_stdlv", "holzinger_swineford1939", {"std_lv": True}),
    "hs39-mean": ("hs39", "ml_mean", "holzinger_swineford1939", {"meanstructure": True}),
    "hs39-labels": ("hs39", "labels", "holzinger_swineford1939", {}),
    "school-ml": ("hs39_school", "ml", "holzinger_swineford1939", {"group": "school"}),
    "school-mlr": ("hs39_school", "mlr", "holzinger_swineford1939", {"group": "school", "estimator": "MLR"}),
    "school-metric": ("hs39_school", "metric", "holzinger_swineford1939",
                      {"group": "school", "group_equal": ("loadings",)}),
    "school-scalar": ("hs39_school", "scalar", "holzinger_swineford1939",
                      {"group": "school", "group_equal": ("loadings", "intercepts")}),
    "school-scalar-mlr": ("hs39_school", "scalar_mlr", "holzinger_swineford1939",
                          {"group": "school", "group_equal": ("loadings", "intercepts"), "estimator": "MLR"}),
    "school-partial": ("hs39_school", "partial", "holzinger_swineford1939",
                       {"group": "school", "group_equal": ("loadings", "intercepts", "residuals"),
                        "group_partial": ("visual=~x2", "x3~1")}),
    "mobi-ml": ("mobi", "ml", "mobi", {}),
    "mobi-mlr": ("mobi", "mlr", "mobi", {"estimator": "MLR"}),
    # single-indicator factor (COMPL =~ CUSCO: residual variance fixed to 0),
    # a 2-indicator factor and a method-factor model (singular information at
    # the start values, identified at the solution)
    "mobi-ecsi-full": ("mobi_ident", "ecsi_full", "mobi", {}),
    "mobi-ecsi-full-stdlv": ("mobi_ident", "ecsi_full_stdlv", "mobi", {"std_lv": True}),
    "ident-perv": ("mobi_ident", "perv", "mobi", {}),
    "ident-perv2": ("mobi_ident", "perv2", "mobi", {}),
    "ident-method": ("mobi_ident", "method", "mobi", {}),
    "sim-ml": ("sim", "ml", "sim", {}),
    "sim-mlr": ("sim", "mlr", "sim", {"estimator": "MLR"}),
    "bfi-fiml-ml": ("bfi_fiml", "ml", "bfi", {"missing": "fiml"}),
    "bfi-fiml-mlr": ("bfi_fiml", "mlr", "bfi", {"missing": "fiml", "estimator": "MLR"}),
    # defined parameters (:=) and linear equality constraints (==)
    "def-ml": ("constraints", "def_ml", "holzinger_swineford1939", {}),
    "def-mlr": ("constraints", "def_mlr", "holzinger_swineford1939", {"estimator": "MLR"}),
    "gap-ml": ("constraints", "gap_ml", "holzinger_swineford1939",
               {"group": "school", "group_equal": ("loadings", "intercepts")}),
    "gap-mlr": ("constraints", "gap_mlr", "holzinger_swineford1939",
                {"group": "school", "group_equal": ("loadings", "intercepts"), "estimator": "MLR"}),
    "ind-ml": ("constraints", "ind_ml", "holzinger_swineford1939", {}),
    "ind-mlr": ("constraints", "ind_mlr", "holzinger_swineford1939", {"estimator": "MLR"}),
    "lin-ml": ("constraints", "lin_ml", "holzinger_swineford1939", {}),
    "lin-mlr": ("constraints", "lin_mlr", "holzinger_swineford1939", {"estimator": "MLR"}),
    "ineq-ml": ("constraints", "ineq_ml", "holzinger_swineford1939", {}),
    "ineq-mlr": ("constraints", "ineq_mlr", "holzinger_swineford1939", {"estimator": "MLR"}),
}


_WARNINGS: dict[str, list] = {}


@functools.cache
def _fit(case: str):
    gfile, gcase, data, kwargs = CASES[case]
    gold = load_golden("cfa", gfile)[gcase]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = CFA(gold["model"], **kwargs).fit(_data(data))
    _WARNINGS[case] = [w.category for w in caught]
    return fit, gold


@pytest.mark.parametrize("case", list(CASES))
def test_warnings_are_the_expected_ones(case):
    _fit(case)
    # lavaan warns that the latent covariance matrix of the ECSI model on mobi
    # is not positive definite; custval warns too and records it in notes_
    # (and summary())
    fit, _ = _fit(case)
    expected = [NotPositiveDefiniteWarning] if case.startswith("mobi") else []
    assert _WARNINGS[case] == expected
    assert bool(fit.notes_) == case.startswith("mobi")
    if fit.notes_:
        assert "not positive definite" in fit.summary()


def _key(df: pd.DataFrame) -> pd.Index:
    group = df["group"].astype(int).astype(str) if "group" in df else "1"
    # a covariance is the same parameter either way round: lavaan writes
    # 'CMF ~~ 0*CUEX' as CUEX ~~ CMF (latent declaration order), custval keeps
    # the user's order
    lhs, rhs = df["lhs"].copy(), df["rhs"].copy()
    swap = (df["op"] == "~~") & (lhs > rhs)
    lhs[swap], rhs[swap] = df.loc[swap, "rhs"], df.loc[swap, "lhs"]
    return pd.Index(lhs + df["op"] + rhs + "|" + group)


def _aligned(fit, gold):
    pe = pd.DataFrame(gold["pe"])
    pe = pe[~pe["op"].isin(["==", "<", ">"])].copy()
    if "group" not in pe:
        pe["group"] = 1
    pe.index = _key(pe)
    ours = fit.params_.copy()
    ours.index = _key(ours)
    assert set(ours.index) == set(pe.index)
    return ours.loc[pe.index], pe


@functools.cache
def _lavaan_gradient(case: str) -> float:
    """Largest gradient of our objective at lavaan's estimates.

    lavaan's default optimizer (nlminb) stops with gradients of ~1e-6 on some
    models (mobi, bfi, the constrained multi-group fits); tests/r/cfa.R
    restarts those fits from lavaan's solution (Gauss-Newton or BFGS) and keeps
    the restart, so every golden fit is converged to the accuracy checked here.
    """
    fit, gold = _fit(case)
    ours, pe = _aligned(fit, gold)
    x_lav = np.zeros(len(fit.x_))  # the distinct free parameters (before general '==' constraints)
    for key, row in ours.iterrows():
        if row["free"] > 0:
            x_lav[row["free"] - 1] = pe.loc[key, "est"]
    return float(np.max(np.abs(fit._problem.gradient(x_lav)))), x_lav


@pytest.mark.parametrize("case", list(CASES))
def test_golden_fits_are_converged(case):
    # the premise of the tolerances below: lavaan's estimates are a stationary
    # point of our objective (gradient ~1e-7 or smaller; FIML on bfi: BFGS in
    # lavaan stalls near 5e-8), and ours is at least as good an optimum
    fit, _ = _fit(case)
    grad, x_lav = _lavaan_gradient(case)
    assert grad < 1e-7
    problem = fit._problem
    assert np.max(np.abs(problem.gradient(fit.x_))) < 1e-8
    assert problem.objective(fit.x_) <= problem.objective(x_lav) + 1e-12


@pytest.mark.parametrize("case", list(CASES))
def test_parameters_match_lavaan(case):
    fit, gold = _fit(case)
    ours, pe = _aligned(fit, gold)
    tol = 1e-5
    np.testing.assert_allclose(ours["est"], pe["est"], atol=tol, rtol=0)
    # a free parameter that an '==' constraint determines ('m1 == 0') has no
    # sampling variance: custval reports se 0 and z NaN; lavaan NA (ML) or 0
    # (MLR), the sign of a rounding error in its vcov
    lav_na = pe["se"].isna().to_numpy()
    assert (ours.loc[lav_na, "se"] == 0).all() and ours.loc[lav_na, "z"].isna().all()
    np.testing.assert_allclose(ours.loc[~lav_na, "se"], pe.loc[~lav_na, "se"], atol=tol, rtol=0)
    np.testing.assert_allclose(ours["std_all"], pe["std.all"], atol=tol, rtol=0)
    np.testing.assert_allclose(ours["std_lv"], pe["std.lv"], atol=tol, rtol=0)
    free = ours["free"] > 0
    np.testing.assert_allclose(ours.loc[free, "z"], pe.loc[free, "z"], rtol=1e-4)


@pytest.mark.parametrize("case", list(CASES))
def test_standardized_solution_se_match_lavaan(case):
    fit, gold = _fit(case)
    ss = pd.DataFrame(gold["std_all"])
    ss = ss[~ss["op"].isin(["==", "<", ">"])].copy()
    if "group" not in ss:
        ss["group"] = 1
    ss.index = _key(ss)
    ours = fit.standardized_solution()
    ours.index = _key(ours)
    ours = ours.loc[ss.index]
    tol = 1e-5
    np.testing.assert_allclose(ours["estimate"], ss["est.std"], atol=tol, rtol=0)
    lav_se = ss["se"].astype(float)
    known = lav_se.notna() & (lav_se > 0)
    assert known.sum() >= 10
    np.testing.assert_allclose(ours.loc[known, "se"], lav_se[known], atol=tol, rtol=0)
    # lavaan: NA (or 0) where the standardized value is fixed (e.g. a unit latent variance)
    assert (ours.loc[~known, "se"] < 1e-6).all()
    np.testing.assert_allclose(ours.loc[known, "ci_low"], ss.loc[known, "ci.lower"], atol=2 * tol, rtol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(case):
    fit, gold = _fit(case)
    ours = fit.fit_measures_
    compared = 0
    rtol = 1e-6
    for name, value in gold["fit"].items():
        if name not in ours.index or value is None:
            continue
        compared += 1
        # p-values in the far tail (1e-9 .. 1e-17) inherit the relative error of
        # the statistic many times over: compared on the absolute scale.
        atol = 1e-7 if "pvalue" in name else 0.0
        assert ours[name] == pytest.approx(value, rel=rtol, abs=atol), name
    assert compared >= 30
    if fit._missing == "fiml" or fit._estimator == "MLR":
        assert {"cfi.robust", "tli.robust", "rmsea.robust"} <= {k for k in gold["fit"] if k in ours.index}


def test_hs39_tutorial_numbers():
    fit, _ = _fit("hs39-ml")
    f = fit.fit_measures_.round(3)
    assert (f["chisq"], f["df"], f["cfi"], f["tli"], f["rmsea"], f["srmr"]) == (85.306, 24, 0.931, 0.896, 0.092, 0.065)


@pytest.mark.parametrize("case", ["hs39-ml", "sim-ml", "school-ml", "school-metric", "school-scalar", "mobi-ml"])
def test_modification_indices_match_lavaan(case):
    fit, gold = _fit(case)
    mi = fit.modification_indices()
    g = pd.DataFrame(gold["mi"])
    g.index = _key(g)
    mi.index = _key(mi)
    assert set(mi.index) == set(g.index)
    mi = mi.loc[g.index]
    tol = 1e-4
    np.testing.assert_allclose(mi["mi"], g["mi"], atol=tol, rtol=0)
    np.testing.assert_allclose(mi["epc"], g["epc"], atol=tol, rtol=0)
    np.testing.assert_allclose(mi["sepc_all"], g["sepc.all"], atol=tol, rtol=0)
    np.testing.assert_allclose(mi["sepc_lv"], g["sepc.lv"], atol=tol, rtol=0)


def test_modification_indices_leave_out_unidentified_candidates():
    # as lavaan's modindices(na.remove = TRUE): freeing the residual covariance
    # of a two-indicator factor's items is not identified (no MI)
    fit, _ = _fit("mobi-ml")
    assert fit.modification_indices().attrs["not_identified"] == ["PERV1 ~~ PERV2"]


def _mat(m):
    return pd.DataFrame(m["values"], index=m["names"], columns=m["names"]).astype(float)


@pytest.mark.parametrize("case", ["hs39-ml", "school-scalar", "mobi-ml", "bfi-fiml-ml"])
def test_residuals_r2_implied_match_lavaan(case):
    fit, gold = _fit(case)
    tol = 1e-5
    labels = fit.group_labels_
    res_cor = fit.residuals(type="cor")
    res_raw = fit.residuals(type="raw")
    if len(labels) == 1:
        res_cor, res_raw = {labels[0]: res_cor}, {labels[0]: res_raw}
    def per_group(entry, g, lab):
        return entry[lab] if isinstance(entry, dict) else entry[g]

    for g, lab in enumerate(labels):
        exp = _mat(per_group(gold["resid_cor"], g, lab))
        np.testing.assert_allclose(res_cor[lab]["cov"].loc[exp.index, exp.columns], exp, atol=tol)
        exp = _mat(per_group(gold["resid_raw"], g, lab))
        np.testing.assert_allclose(res_raw[lab]["cov"].loc[exp.index, exp.columns], exp, atol=tol)
        implied = fit.implied_cov_ if len(labels) == 1 else fit.implied_cov_[lab]
        exp = _mat(per_group(gold["groups"], g, lab)["implied_cov"])
        np.testing.assert_allclose(implied.loc[exp.index, exp.columns], exp, atol=tol)
        r2 = pd.Series(per_group(gold["r2"], g, lab))
        np.testing.assert_allclose(fit.r2_[lab].loc[r2.index], r2, atol=tol)


@pytest.mark.parametrize("case", ["hs39-ml", "hs39-mean", "sim-ml", "school-ml", "school-scalar", "mobi-ml",
                                  "hs39-mlr", "school-mlr", "mobi-mlr", "school-scalar-mlr"])
def test_standardized_residuals_match_lavresiduals(case):
    fit, gold = _fit(case)
    tol = 1e-6
    res = fit.residuals(type="cor.bentler", z=True)
    labels = fit.group_labels_
    if len(labels) == 1:
        res = {labels[0]: res}
    for g, lab in enumerate(labels):
        entry = gold["lavres_cor_z"]
        exp = _mat(entry[lab] if isinstance(entry, dict) else entry[g])
        # relative 1e-6 as the fit measures: z = res / se of the constrained
        # (school-scalar) fit carries lavaan's remaining optimizer error (gradient 1e-8)
        np.testing.assert_allclose(res[lab]["cov_z"].loc[exp.index, exp.columns], exp, atol=tol, rtol=1e-6)
        entry = gold["lavres_cor"]
        exp = _mat(entry[lab] if isinstance(entry, dict) else entry[g])
        np.testing.assert_allclose(res[lab]["cov"].loc[exp.index, exp.columns], exp, atol=1e-5)


def test_lavaan_options_checked():
    # the SE / test rules implemented are the ones lavaan used for these golden values
    gold = load_golden("cfa", "hs39")
    assert gold["ml"]["options"]["information"][0] == "expected"
    assert gold["mlr"]["options"]["information"][0] == "observed"
    assert gold["mlr"]["options"]["test"] == "yuan.bentler.mplus"
    assert load_golden("cfa", "bfi_fiml")["ml"]["options"]["information"][0] == "observed"


# ----------------------------------------------------------------- properties
def test_analytic_gradient_matches_finite_differences():
    fit, _ = _fit("school-scalar")
    problem = fit._problem
    rng = np.random.default_rng(0)
    x = fit.x_ + rng.normal(scale=0.05, size=fit.x_.shape)
    g = problem.gradient(x)
    h = 1e-6
    num = np.array([
        (problem.objective(x + h * e) - problem.objective(x - h * e)) / (2 * h) for e in np.eye(len(x))
    ])
    np.testing.assert_allclose(g, num, atol=1e-7, rtol=1e-5)


def test_pchisq_equals_scipy_distributions():
    # the RMSEA limits call scipy.special's chi-square functions directly; same values as the distributions
    # (scipy 1.15's ncx2.cdf, the declared lower bound, differs from chndtr by 2.2e-13 relative in the
    # far tail, at 1.7e-51)
    from scipy import stats

    from custval._sem.fit_measures import _pchisq

    for x in (0.0, 1e-3, 0.7, 5.0, 37.2, 85.3, 410.0):
        for df in (0.5, 1.0, 3.7, 24.0, 265.0):
            assert _pchisq(x, df, 0.0) == pytest.approx(stats.chi2.cdf(x, df), rel=1e-13, abs=1e-300)
            for ncp in (1e-6, 0.3, 12.0, 300.0):
                assert _pchisq(x, df, ncp) == pytest.approx(stats.ncx2.cdf(x, df, ncp), rel=1e-12, abs=1e-300)
    assert _pchisq(-1e-13, 24.0, 3.0) == stats.ncx2.cdf(-1e-13, 24.0, 3.0) == 0.0
    assert np.isnan(_pchisq(np.nan, 24.0, 3.0))


def test_delta_equals_rowwise_derivatives():
    # SemModel.delta fills Delta per kind of parameter; compare with the derivative of each
    # table row written out one at a time (latent regressions, equal labels, means, 2 groups)
    from custval._sem.model import SemModel
    from custval._sem.syntax import build_partable

    syntax = ("visual =~ x1 + a*x2 + a*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
              "textual ~ visual\nspeed ~ textual\nx1 ~~ x4")
    pt, observed, latent, _ = build_partable(syntax, ngroups=2, std_lv=False, meanstructure=True,
                                             group_equal=("loadings",), group_partial=(), with_extras=True)
    model = SemModel(pt, observed, latent, 2)
    x = np.random.default_rng(3).uniform(0.2, 0.8, model.nx)
    h = 1e-6
    for g, (ds, dm) in enumerate(model.delta(x)):
        for k in range(model.nx):
            e = np.zeros(model.nx)
            e[k] = h
            (sp, mp), (sm, mm) = model.implied(x + e)[g], model.implied(x - e)[g]
            np.testing.assert_allclose(ds[k], (sp - sm) / (2 * h), atol=1e-7)
            np.testing.assert_allclose(dm[k], (mp - mm) / (2 * h), atol=1e-7)


def test_std_loadings_equal_pivot_table():
    fit = CFA("visual =~ x1 + x2 + x3 + x4\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\ng =~ visual + textual + speed",
              group="school").fit(_raw("holzinger_swineford1939"))
    p = fit.params_
    lo = p[(p["op"] == "=~") & p["rhs"].isin(fit.observed_)]
    for g, lam in enumerate(fit._std_loadings(), start=1):
        ref = lo[lo["group"] == g].pivot_table(index="rhs", columns="lhs", values="std_all", aggfunc="first",
                                               sort=False).fillna(0.0)
        pd.testing.assert_frame_equal(lam, ref)


def test_fiml_gradient_matches_finite_differences():
    fit, _ = _fit("bfi-fiml-ml")
    problem = fit._problem
    rng = np.random.default_rng(1)
    x = fit.x_ + rng.normal(scale=0.02, size=fit.x_.shape)
    g = problem.gradient(x)
    idx = rng.choice(len(x), size=8, replace=False)
    h = 1e-6
    for j in idx:
        e = np.zeros(len(x))
        e[j] = h
        num = (problem.objective(x + e) - problem.objective(x - e)) / (2 * h)
        assert g[j] == pytest.approx(num, abs=1e-7, rel=1e-5)


def test_recovers_simulated_population_model():
    # Simulated data (seeded): 2 correlated factors, 4 items each.
    rng = np.random.default_rng(42)
    lam = np.array([[1.0, 0], [0.8, 0], [0.6, 0], [0.7, 0], [0, 1.0], [0, 0.9], [0, 0.5], [0, 0.7]])
    phi = np.array([[0.6, 0.25], [0.25, 0.8]])
    theta = np.diag([0.4, 0.5, 0.6, 0.5, 0.3, 0.45, 0.6, 0.5])
    sigma = lam @ phi @ lam.T + theta
    y = rng.multivariate_normal(np.zeros(8), sigma, size=20000)
    df = pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 9)])
    fit = CFA("f1 =~ y1 + y2 + y3 + y4\nf2 =~ y5 + y6 + y7 + y8").fit(df)
    p = fit.params_.set_index(fit.params_["lhs"] + fit.params_["op"] + fit.params_["rhs"])
    assert p.loc["f1=~y2", "est"] == pytest.approx(0.8, abs=0.03)
    assert p.loc["f2=~y7", "est"] == pytest.approx(0.5, abs=0.03)
    assert p.loc["f1~~f2", "est"] == pytest.approx(0.25, abs=0.03)
    assert p.loc["y3~~y3", "est"] == pytest.approx(0.6, abs=0.03)
    assert fit.fit_measures_["pvalue"] > 0.001  # correctly specified


def test_per_group_label_vector_equals_shared_label():
    hs = _data("holzinger_swineford1939")
    a = CFA(HS_MODEL.replace("x1 + x2", "x1 + c(l2, l2)*x2"), group="school").fit(hs)
    b = CFA(HS_MODEL.replace("x1 + x2", "x1 + l2*x2"), group="school").fit(hs)
    np.testing.assert_allclose(a.params_["est"], b.params_["est"], atol=1e-9)
    assert a.fit_measures_["df"] == 49  # one more than the unconstrained model
    c = CFA(HS_MODEL.replace("x1 + x2 + x3", "x1 + c(0.5, NA)*x2 + start(0.7)*x3"), group="school").fit(hs)
    assert c.params_.query("rhs == 'x2' and group == 1")["est"].iloc[0] == 0.5


def test_instrument_like_object_and_str_give_same_fit():
    class Inst:
        def model_syntax(self):
            return HS_MODEL

    hs = _data("holzinger_swineford1939")
    a = CFA(Inst()).fit(hs)
    b, _ = _fit("hs39-ml")
    np.testing.assert_allclose(a.params_["est"], b.params_["est"])


def test_parser_layouts_and_equality_constraints():
    from custval._sem.syntax import build_partable

    text = """
    # three factors, continuation lines, comments and ';'
    visual  =~ x1 + a*x2 +
               b*x3   ! x3 shares nothing yet
    textual =~ x4 + x5
             + x6 ; speed =~ x7 + x8 + x9
    a == b
    """
    pt, observed, latent = build_partable(text)
    assert observed == [f"x{i}" for i in range(1, 10)] and latent == ["visual", "textual", "speed"]
    free = pt.set_index(pt["lhs"] + pt["op"] + pt["rhs"])["free"]
    assert free["visual=~x2"] == free["visual=~x3"] > 0
    hs = _data("holzinger_swineford1939")
    fit_eq = CFA(text).fit(hs)
    fit_lab = CFA(HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + a*x3")).fit(hs)
    np.testing.assert_allclose(fit_eq.params_["est"], fit_lab.params_["est"], atol=1e-9)
    assert fit_eq.fit_measures_["df"] == 25


def test_std_lv_defaults_match_lavaan_partable():
    gold = load_golden("cfa", "hs39")["ml_stdlv"]
    fit, _ = _fit("hs39-stdlv")
    ours, pe = _aligned(fit, gold)
    lav_fixed = pd.Series(gold["partable"]["free"], index=_key(pd.DataFrame(gold["partable"]))) == 0
    assert ((ours["free"] == 0) == lav_fixed.loc[ours.index]).all()


# ----------------------------------------------------------------- problems
@pytest.mark.parametrize("case", ["mobi-ecsi-full", "mobi-ecsi-full-stdlv"])
def test_single_indicator_defaults_match_lavaan_partable(case):
    # lavaan's auto.fix.single: COMPL =~ CUSCO fixes CUSCO's residual variance to 0
    gfile, gcase, _, _ = CASES[case]
    gold = load_golden("cfa", gfile)[gcase]
    fit, _ = _fit(case)
    ours, pe = _aligned(fit, gold)
    lav = pd.DataFrame(gold["partable"])
    lav.index = _key(lav)
    assert ((ours["free"] == 0) == (lav.loc[ours.index, "free"] == 0)).all()
    assert lav.loc["CUSCO~~CUSCO|1", "ustart"] == 0
    assert ours.loc["CUSCO~~CUSCO|1", ["est", "se"]].tolist() == [0.0, 0.0]
    assert fit.r2_.loc["CUSCO", "all"] == 1.0


def test_single_indicator_rule_scope():
    from custval._sem.syntax import build_partable

    def free(text):
        pt = build_partable(text)[0]
        return pt.set_index(pt["lhs"] + pt["op"] + pt["rhs"])["free"]

    assert free("F =~ y1 + y2 + y3\nG =~ y4")["y4~~y4"] == 0
    # a residual variance written by the user stays free; so does that of an
    # indicator shared with another factor (lavaan: user == 0, not duplicated)
    assert free("F =~ y1 + y2 + y3\nG =~ y4\ny4 ~~ y4")["y4~~y4"] > 0
    assert free("F =~ y1 + y2 + y3\nG =~ y3")["y3~~y3"] > 0
    # a single latent indicator: its disturbance variance is fixed to 0
    assert free("F =~ y1 + y2 + y3\nG =~ y4 + y5 + y6\nH =~ F")["F~~F"] == 0


def test_ecsi_instrument_with_single_indicator_fits():
    import custval

    with pytest.warns(NotPositiveDefiniteWarning, match="latent variables is not positive definite"):
        fit = CFA(custval.load_instrument("ecsi")).fit(_data("mobi"))
    gold = load_golden("cfa", "mobi_ident")["ecsi_full"]
    assert fit.fit_measures_["df"] == gold["fit"]["df"] == 232
    assert fit.fit_measures_["chisq"] == pytest.approx(gold["fit"]["chisq"], rel=1e-6)


def test_syntax_error_quotes_the_line():
    with pytest.raises(ModelSyntaxError, match=r"line 2: 'textual x4 \+ x5'.*operator"):
        CFA("visual =~ x1 + x2 + x3\ntextual x4 + x5").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="modifier"):
        CFA("visual =~ x1 + 2x*x2 + x3").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="not a label"):
        CFA("visual =~ x1 + a*x2 + x3\n a == zz").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match=r"line 2: 'a\*b > 0.5'.*only linear inequality constraints"):
        CFA("visual =~ x1 + a*x2 + b*x3\n a*b > 0.5").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="only linear equality constraints"):
        CFA("visual =~ x1 + a*x2 + b*x3\n a == b^2").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="only linear equality constraints"):
        CFA("visual =~ x1 + a*x2 + b*x3\n ab := a*b\n ab == 1").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match=r"line 2: 'd := a\*zz'.*'zz' is not a label"):
        CFA("visual =~ x1 + a*x2 + x3\n d := a*zz").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="cannot read the expression"):
        CFA("visual =~ x1 + a*x2 + x3\n d := a*(2").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="function 'system' is not supported"):
        CFA("visual =~ x1 + a*x2 + x3\n d := system(a)").fit(_data("holzinger_swineford1939"))
    with pytest.raises(ModelSyntaxError, match="already a label"):
        CFA("visual =~ x1 + a*x2 + x3\n a := 2*a").fit(_data("holzinger_swineford1939"))
    with pytest.raises(SpecificationError, match="latent"):
        CFA("visual =~ x1 + x2 + x3\n x4 ~ visual").fit(_data("holzinger_swineford1939"))


def test_item_not_in_data_is_named():
    with pytest.raises(SpecificationError, match="x99"):
        CFA("visual =~ x1 + x2 + x99").fit(_data("holzinger_swineford1939"))


def test_not_positive_definite_sample_covariance():
    hs = _data("holzinger_swineford1939").copy()
    hs["x10"] = hs["x1"] + hs["x2"]
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
        CFA("f =~ x1 + x2 + x10 + x3").fit(hs)


def test_not_identified_model():
    with pytest.raises(IdentificationError):
        CFA("f =~ x1 + x2").fit(_data("holzinger_swineford1939"))
    with pytest.raises(IdentificationError, match=r"for any parameter values.*f=~x1.*f~~f"):
        CFA("f =~ NA*x1 + x2 + x3 + x4").fit(_data("holzinger_swineford1939"))
    # a 2-indicator factor with its covariance fixed to 0: positive df, not identified
    with pytest.raises(IdentificationError, match=r"for any parameter values.*PERV=~PERV2.*PERV~~PERV") as err:
        CFA("CUEX =~ CUEX1 + CUEX2 + CUEX3\nPERV =~ PERV1 + PERV2\nCUEX ~~ 0*PERV").fit(_data("mobi"))
    assert "CUEX=~" not in str(err.value)


def test_identified_through_factor_covariance_fits():
    # singular information at the start values (factor covariances 0), identified at the
    # solution, as lavaan fits them: parameters and fit are checked in the CASES tests
    for case in ("ident-perv", "ident-perv2", "ident-method"):
        fit, gold = _fit(case)
        assert fit.converged_ and np.isfinite(fit.params_["se"]).all()
        assert fit.fit_measures_["df"] == gold["fit"]["df"]


def test_empirically_underidentified_at_the_estimates():
    # Simulated (seeded): y1, y2 are made exactly uncorrelated with x1..x3, so the
    # 2-indicator factor G has a zero covariance at the solution and is not identified
    # there (lavaan: "could not compute standard errors"); custval refuses.
    rng = np.random.default_rng(1)
    n = 300
    f, g = rng.normal(size=n), rng.normal(size=n)
    x = np.column_stack([0.8 * f + 0.6 * rng.normal(size=n) for _ in range(3)])
    y = np.column_stack([0.7 * g + 0.7 * rng.normal(size=n) for _ in range(2)])
    xc = np.column_stack([np.ones(n), x])
    y = y - xc @ np.linalg.lstsq(xc, y, rcond=None)[0]
    df = pd.DataFrame(np.column_stack([x, y]), columns=["x1", "x2", "x3", "y1", "y2"])
    with pytest.raises(IdentificationError, match=r"at the estimates.*G=~y2.*G~~G") as err:
        CFA("F =~ x1 + x2 + x3\nG =~ y1 + y2").fit(df)
    assert "F=~" not in str(err.value)
    # the same structure with correlated blocks is identified
    df2 = df.assign(y1=df["y1"] + 0.5 * x[:, 0], y2=df["y2"] + 0.5 * x[:, 1])
    assert CFA("F =~ x1 + x2 + x3\nG =~ y1 + y2").fit(df2).converged_


def test_group_smaller_than_free_parameters():
    hs = _data("holzinger_swineford1939").copy()
    hs["grp"] = ["tiny"] * 10 + ["big"] * (len(hs) - 10)
    with pytest.raises(InsufficientDataError, match="tiny"):
        CFA(HS_MODEL, group="grp").fit(hs)


def test_heywood_case_warns_and_returns():
    # Simulated (seeded) data whose population correlations (.6, .6, .3) imply a
    # loading above 1 for item a, i.e. a negative residual variance (-0.2).
    rng = np.random.default_rng(3)
    corr = np.array([[1, 0.6, 0.6], [0.6, 1, 0.3], [0.6, 0.3, 1]])
    df = pd.DataFrame(rng.multivariate_normal(np.zeros(3), corr, size=2000), columns=["a", "b", "c"])
    with pytest.warns(HeywoodWarning, match=r"residual variance of 'a'.*-0\.") as rec:
        fit = CFA("F =~ a + b + c").fit(df)
    assert len(rec) == 1
    est = fit.params_.set_index(fit.params_["lhs"] + fit.params_["op"] + fit.params_["rhs"])["est"]
    assert est["a~~a"] < 0 and np.isfinite(fit.params_["se"]).all()


def test_listwise_deletion_is_reported():
    hs = _data("holzinger_swineford1939").copy()
    hs.loc[[0, 5], "x1"] = np.nan
    with pytest.warns(MissingDataWarning, match="2 row"):
        fit = CFA(HS_MODEL).fit(hs)
    assert fit.n_excluded_ == 2 and fit.n_obs_ == {"all": 299}


def test_non_convergence_warns():
    with pytest.warns(ConvergenceWarning):
        CFA(HS_MODEL, max_iter=2).fit(_data("holzinger_swineford1939"))


def test_summary_and_html():
    fit, _ = _fit("school-scalar-mlr")
    text = fit.summary()
    assert "Robust Comparative Fit Index (CFI)" in text and "Group 2 [Grant-White]" in text
    assert 'group.equal = c("loadings", "intercepts")' in text
    assert "<table" in fit._repr_html_()


def test_unknown_arguments_are_rejected():
    hs = _data("holzinger_swineford1939")
    with pytest.raises(SpecificationError, match="estimator"):
        CFA(HS_MODEL, estimator="WLSMV").fit(hs)
    with pytest.raises(SpecificationError, match="group_equal"):
        CFA(HS_MODEL, group="school", group_equal=("slopes",)).fit(hs)


def test_no_custval_warning_on_clean_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CFA(HS_MODEL).fit(_data("holzinger_swineford1939"))


# --------------------------------------------------------------------------- := and ==
def test_expression_parser_precedence_and_linear_forms():
    from custval._sem.syntax import (
        _ExprError,
        _NonLinear,
        evaluate,
        expression_names,
        linear_form,
        parse_expression,
    )

    env = {"a": 2.0, "b": 3.0, ".p1.": 0.5}
    cases = {"-2^2": -4.0, "2^-1": 0.5, "2^3^2": 512.0, "a/b*b": 2.0, "a - b - 1": -2.0,
             "(a + b) * .p1.": 2.5, "sqrt(a*8) + exp(0) - log(1) + abs(-b)": 8.0, "1e-1 * a**2": 0.4}
    for text, want in cases.items():
        assert evaluate(parse_expression(text), env) == pytest.approx(want, rel=1e-15), text
    assert expression_names(parse_expression("a*b + a/.p1.")) == ["a", "b", ".p1."]
    lin = {"a": (0.0, {1: 1.0}), "b": (0.0, {2: 1.0}), "k": (1.5, {})}
    const, coef = linear_form(parse_expression("2*(a - 0.5*b)/4 + k*b - 3"), lin)
    assert const == pytest.approx(-3.0) and coef == pytest.approx({1: 0.5, 2: 1.25})
    for text in ("a*b", "a/b", "sqrt(a)", "a^2"):
        with pytest.raises(_NonLinear):
            linear_form(parse_expression(text), lin)
    for text in ("a +", "(a", "a b", "2 $ a", "eval(a)"):
        with pytest.raises(_ExprError):
            parse_expression(text)


def test_indirect_effect_se_is_sobel_delta_method():
    fit, _ = _fit("ind-mlr")
    p = fit.params_.set_index(fit.params_["label"].where(fit.params_["label"] != "", fit.params_["lhs"]))
    ia, ib, ic = (p.loc[k, "free"] - 1 for k in ("a", "b", "c"))
    v = fit.vcov_
    a, b = p.loc["a", "est"], p.loc["b", "est"]
    sobel = np.sqrt(b**2 * v[ia, ia] + a**2 * v[ib, ib] + 2 * a * b * v[ia, ib])
    assert p.loc["ind", "est"] == pytest.approx(a * b, rel=1e-14)
    assert p.loc["ind", "se"] == pytest.approx(sobel, rel=1e-8)
    total_se = np.sqrt(v[ic, ic] + sobel**2 + 2 * (b * v[ia, ic] + a * v[ib, ic]))
    assert p.loc["total", "se"] == pytest.approx(total_se, rel=1e-8)
    assert "Defined Parameters:" in fit.summary() and "ind := a*b" in fit.summary()


def test_linear_constraints_hold_and_gradient_matches_finite_differences():
    fit, _ = _fit("lin-ml")
    model = fit._model
    assert model.con_a.shape == (2, fit._model.nfree) and model.nx == model.nfree - 2
    np.testing.assert_allclose(model.con_a @ fit.x_, model.con_b, atol=1e-12)
    est = fit.params_.set_index("label")["est"]
    assert est["b"] + est["d"] == pytest.approx(2, abs=1e-12)
    assert est["e"] == pytest.approx(1.2 * est["f"], abs=1e-12)
    assert est["a"] == est["c"]
    problem = fit._problem
    theta = model.reduce(fit.x_) + 0.01 * np.random.default_rng(0).standard_normal(model.nx)
    grad = problem.gradient(theta)
    num = np.array([(problem.objective(theta + h) - problem.objective(theta - h)) / 2e-6
                    for h in 1e-6 * np.eye(model.nx)])
    np.testing.assert_allclose(grad, num, atol=1e-7)
    assert "Constraints:" in fit.summary() and "b+d == 2" in fit.summary()
    with pytest.raises(SpecificationError, match="modification indices are not available"):
        fit.modification_indices()


def test_constraint_to_a_number_equals_a_fixed_parameter():
    hs = _data("holzinger_swineford1939")
    fixed = CFA(HS_MODEL.replace("x1 + x2 + x3", "x1 + 0.5*x2 + x3")).fit(hs)
    constrained = CFA(HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + x3") + "a == 0.5").fit(hs)
    np.testing.assert_allclose(constrained.params_["est"], fixed.params_["est"], atol=1e-9)
    free = fixed.params_["free"] > 0
    np.testing.assert_allclose(constrained.params_.loc[free, "se"], fixed.params_.loc[free, "se"], atol=1e-9)
    row = constrained.params_.loc[1]
    assert row["free"] > 0 and row["se"] == 0 and np.isnan(row["z"])
    for name in ("chisq", "df", "npar", "cfi", "rmsea", "aic"):
        assert constrained.fit_measures_[name] == pytest.approx(fixed.fit_measures_[name], rel=1e-9), name


def test_contradictory_constraints_are_refused():
    hs = _data("holzinger_swineford1939")
    base = HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + b*x3")
    with pytest.raises(SpecificationError, match="contradict"):
        CFA(base + "a + b == 1\n 2*a + 2*b == 3").fit(hs)
    # a redundant constraint counts once (lavaan: the rank of the constraint Jacobian)
    fit = CFA(base + "a + b == 2\n 2*a + 2*b == 4").fit(hs)
    assert fit.fit_measures_["df"] == 25
    with pytest.raises(SpecificationError, match="does not hold"):
        CFA(base + "a - a == 1").fit(hs)


def test_defined_parameter_layouts_and_group_labels():
    from custval._sem.syntax import build_partable

    text = """
    visual  =~ x1 + c(a1, a2)*x2 + x3
    textual =~ x4 + x5 + x6
    ratio := a2 /
             a1          # continued after an operator
    diff := a2 - a1; half := 0.5 * (ratio -
        1)
    """
    pt, _, _, extras = build_partable(text, ngroups=2, meanstructure=True, with_extras=True)
    assert [(n, rhs) for n, rhs, _ in extras["definitions"]] == [("ratio", "a2/a1"), ("diff", "a2-a1"),
                                                                  ("half", "0.5*(ratio-1)")]
    rows = extras["label_rows"]
    assert pt.loc[rows["a1"], "group"] == 1 and pt.loc[rows["a2"], "group"] == 2
    assert ":=" not in set(pt["op"]) and extras["constraints"][0].shape == (0, pt["free"].max())


def test_inequality_constraints_active_set():
    fit, _ = _fit("ineq-ml")
    # a > 0.7 binds (unconstrained 0.55), b > 0 does not; lavaan's npar does
    # not subtract active inequality constraints
    assert fit.inequalities_ == ["a > 0.7", "b > 0"] and fit.active_inequalities_ == ["a > 0.7"]
    assert fit.fit_measures_["npar"] == 21 and fit.fit_measures_["df"] == 24
    assert "Inequality Constraints:" in fit.summary()
    hs = _data("holzinger_swineford1939")
    loose = CFA(HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + x3") + "a > 0.2\n a < 5").fit(hs)
    free = CFA(HS_MODEL).fit(hs)
    assert loose.active_inequalities_ == []
    np.testing.assert_allclose(loose.params_["est"], free.params_["est"], atol=1e-10)
    np.testing.assert_allclose(loose.params_["se"], free.params_["se"], atol=1e-10)


def test_constraint_on_a_defined_parameter():
    hs = _data("holzinger_swineford1939")
    base = HS_MODEL.replace("x1 + x2 + x3", "x1 + a*x2 + b*x3")
    via_def = CFA(base + "d := a - b\n d == 0").fit(hs)
    via_labels = CFA(base + "a == b").fit(hs)
    rows = via_def.params_["op"] != ":="
    np.testing.assert_allclose(via_def.params_.loc[rows, "est"], via_labels.params_["est"], atol=1e-9)
    np.testing.assert_allclose(via_def.params_.loc[rows, "se"], via_labels.params_["se"], atol=1e-9)
    assert via_def.fit_measures_["df"] == via_labels.fit_measures_["df"] == 25
    d = via_def.params_[via_def.params_["op"] == ":="].iloc[0]
    assert abs(d["est"]) < 1e-12 and d["se"] < 1e-8
