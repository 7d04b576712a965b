"""CFA with observed exogenous covariates (MIMIC models) against lavaan 0.6-14.

Golden values: tests/golden/cfa/covariates.json (``Rscript tests/r/cfa.R covariates``),
lavaan's defaults fixed.x = TRUE, conditional.x = FALSE.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.exceptions import MissingDataWarning, SpecificationError
from tests.conftest import load_golden
from tests.test_cfa import _aligned, _key

CASES = {
    "ml": {},
    "mlr": {"estimator": "MLR"},
    "school_ml": {"group": "school"},
    "school_mlr": {"group": "school", "estimator": "MLR"},
    "direct_ml": {},
    "direct_mlr": {"estimator": "MLR"},
    "mean_stdlv": {"meanstructure": True, "std_lv": True},
    "school_equal": {"group": "school", "group_equal": ("loadings", "intercepts", "regressions")},
    "school_equal_mlr": {"group": "school", "group_equal": ("loadings", "intercepts", "regressions"),
                         "estimator": "MLR"},
    # covariates and factors predicting factors (a latent mediator)
    "struct_ml": {},
    "struct_mlr": {"estimator": "MLR"},
}


@functools.cache
def _hs() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")


@functools.cache
def _fit(case: str):
    gold = load_golden("cfa", "covariates")[case]
    if case.startswith("struct"):
        # one pupil has no grade: listwise deletion, as lavaan (nobs 300)
        with pytest.warns(MissingDataWarning, match="1 row.*item or covariate"):
            fit = CFA(gold["model"], **CASES[case]).fit(_hs())
        assert fit.n_obs_ == {"all": gold["nobs"][0]} and fit.n_excluded_ == 1
        return fit, gold
    return CFA(gold["model"], **CASES[case]).fit(_hs()), gold


@pytest.mark.parametrize("case", list(CASES))
def test_golden_fit_is_converged_for_both(case):
    fit, gold = _fit(case)
    ours, pe = _aligned(fit, gold)
    x_lav = np.zeros(len(fit.x_))
    for key, row in ours.iterrows():
        if row["free"] > 0:
            x_lav[row["free"] - 1] = pe.loc[key, "est"]
    # lavaan's GN fits converge to ~1e-11; the group.equal fits (nlminb, then
    # BFGS) to ~1e-7 in lavaan's parametrization
    assert gold["max_abs_gradient"] < (1e-6 if "equal" in case else 1e-9)
    assert np.max(np.abs(fit._problem.gradient(x_lav))) < (1e-7 if "equal" in case else 1e-8)
    assert np.max(np.abs(fit._problem.gradient(fit.x_))) < 1e-8


@pytest.mark.parametrize("case", list(CASES))
def test_parameters_match_lavaan(case):
    fit, gold = _fit(case)
    ours, pe = _aligned(fit, gold)
    tol = 1e-5
    for ours_col, lav_col in (("est", "est"), ("se", "se"), ("std_lv", "std.lv"), ("std_all", "std.all"),
                              ("std_nox", "std.nox")):
        np.testing.assert_allclose(ours[ours_col], pe[lav_col], atol=tol, rtol=0, err_msg=ours_col)
    # the covariates' (co)variances and means: fixed at the sample values (N denominator)
    exo = pd.DataFrame(gold["partable"]).query("exo == 1")
    assert len(exo) and (fit.params_.loc[ours.index.get_indexer(_key(exo)), "free"] == 0).all()
    assert (ours.loc[_key(exo), "se"] == 0).all()


@pytest.mark.parametrize("case", list(CASES))
def test_standardized_solution_match_lavaan(case):
    fit, gold = _fit(case)
    ss = pd.DataFrame(gold["std_all"])
    ss = ss[ss["op"] != "=="].copy()
    if "group" not in ss:
        ss["group"] = 1
    ss.index = _key(ss)
    ours = fit.standardized_solution()
    ours.index = _key(ours)
    ours = ours.loc[ss.index]
    np.testing.assert_allclose(ours["estimate"], ss["est.std"], atol=1e-5, rtol=0)
    lav_se = ss["se"].astype(float)
    known = lav_se.notna() & (lav_se > 0)
    assert known.sum() >= 10
    np.testing.assert_allclose(ours.loc[known, "se"], lav_se[known], atol=1e-5, rtol=0)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_measures_match_lavaan(case):
    fit, gold = _fit(case)
    ours = fit.fit_measures_
    compared = 0
    for name, value in gold["fit"].items():
        if name not in ours.index or value is None:
            continue
        compared += 1
        atol = 1e-7 if "pvalue" in name else 0.0
        assert ours[name] == pytest.approx(value, rel=1e-6, abs=atol), name
    assert compared >= (60 if case.endswith("mlr") else 40)


@pytest.mark.parametrize("case", list(CASES))
def test_r2_and_implied_moments_match_lavaan(case):
    fit, gold = _fit(case)
    for g, lab in enumerate(fit.group_labels_):
        r2 = pd.Series(gold["r2"][g] if isinstance(gold["r2"], list) else gold["r2"][str(lab)])
        np.testing.assert_allclose(fit.r2_.loc[r2.index, lab], r2, atol=1e-6, rtol=0)
        imp = gold["groups"][g]["implied_cov"]
        ours = fit.implied_cov_ if len(fit.group_labels_) == 1 else fit.implied_cov_[lab]
        ours = ours.loc[imp["names"], imp["names"]].to_numpy()
        np.testing.assert_allclose(ours, np.array(imp["values"]), atol=1e-6, rtol=0)


@pytest.mark.parametrize("case", ["ml", "school_ml", "direct_ml"])
def test_modification_indices_match_lavaan_for_custval_candidates(case):
    # custval's candidates (cross-loadings, residual covariances of the
    # indicators) are a subset of lavaan's, which with covariates also lists
    # latent covariances, regressions and the fixed.x rows; each MI is a
    # one-parameter score test, so the shared rows must agree
    fit, gold = _fit(case)
    mi = fit.modification_indices()
    g = pd.DataFrame(gold["mi"])
    if "group" not in g:
        g["group"] = 1
    g.index = _key(g)
    mi.index = _key(mi)
    assert len(mi) >= 40 and set(mi.index) <= set(g.index)
    assert {"=~", "~~"} == set(mi["op"]) and not set(mi["lhs"]) & set(fit.covariates_)
    g = g.loc[mi.index]
    np.testing.assert_allclose(mi["mi"], g["mi"], atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(mi["epc"], g["epc"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(mi["sepc_lv"], g["sepc.lv"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(mi["sepc_all"], g["sepc.all"], atol=1e-6, rtol=0)
    # the latent covariances and regressions lavaan adds are not generated
    assert (g.index.size < pd.DataFrame(gold["mi"]).shape[0])


def test_covariate_rows_cannot_be_specified_and_fiml_is_refused():
    model = "visual =~ x1 + x2 + x3\nvisual ~ ageyr\n"
    with pytest.raises(SpecificationError, match="fixed at their sample values"):
        CFA(model + "ageyr ~~ ageyr").fit(_hs())
    with pytest.raises(SpecificationError, match="missing='fiml'"):
        CFA(model, missing="fiml").fit(_hs())
    with pytest.raises(SpecificationError, match="neither a latent variable nor an indicator"):
        CFA("visual =~ x1 + x2 + x3\nageyr ~ visual").fit(_hs())
    with pytest.raises(SpecificationError, match="write it as a loading"):
        CFA("visual =~ x1 + x2 + x3\nx3 ~ visual").fit(_hs())


def test_mimic_effect_recovered_in_simulation():
    # simulated (seeded): eta = 0.5 z + zeta, y_j = l_j eta + e_j
    rng = np.random.default_rng(0)
    n = 4000
    z = rng.normal(size=n)
    eta = 0.5 * z + rng.normal(scale=0.8, size=n)
    lam = np.array([1.0, 0.8, 1.2])
    y = eta[:, None] * lam + rng.normal(scale=0.5, size=(n, 3))
    df = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(z=z)
    fit = CFA("f =~ y1 + y2 + y3\nf ~ z").fit(df)
    est = fit.params_.set_index(["lhs", "op", "rhs"])["est"]
    assert abs(est[("f", "~", "z")] - 0.5) < 0.05
    assert abs(est[("f", "=~", "y3")] - 1.2) < 0.05
    # 4 * 5 / 2 moments minus the covariate's variance, minus 7 free parameters
    assert fit.fit_measures_["df"] == 2


def _mat(m):
    return pd.DataFrame(m["values"], index=m["names"], columns=m["names"]).astype(float)


def _per_group(entry, g, lab):
    return entry[str(lab)] if isinstance(entry, dict) else entry[g]


@pytest.mark.parametrize("case", ["ml", "school_ml", "direct_ml"])
def test_residuals_match_lavaan(case):
    fit, gold = _fit(case)
    labels = fit.group_labels_
    raw, cor = fit.residuals(type="raw"), fit.residuals(type="cor")
    zres = fit.residuals(type="cor.bentler", z=True)
    if len(labels) == 1:
        raw, cor, zres = {labels[0]: raw}, {labels[0]: cor}, {labels[0]: zres}
    for g, lab in enumerate(labels):
        exp = _mat(_per_group(gold["resid_raw"], g, lab))
        np.testing.assert_allclose(raw[lab]["cov"].loc[exp.index, exp.columns], exp, atol=1e-6)
        exp = _mat(_per_group(gold["resid_cor"], g, lab))
        np.testing.assert_allclose(cor[lab]["cov"].loc[exp.index, exp.columns], exp, atol=1e-6)
        exp = _mat(_per_group(gold["lavres_cor"], g, lab))
        np.testing.assert_allclose(zres[lab]["cov"].loc[exp.index, exp.columns], exp, atol=1e-6)
        exp = _mat(_per_group(gold["lavres_cor_z"], g, lab))
        np.testing.assert_allclose(zres[lab]["cov_z"].loc[exp.index, exp.columns], exp, atol=1e-6, rtol=1e-6)


def test_summary_marks_residual_variances_as_lavaan():
    fit, _ = _fit("ml")
    text = fit.summary()
    assert "   .visual " in text and "   .x1 " in text
    assert "    ageyr " in text and "   .ageyr" not in text and "    speed " in text


def test_cluster_robust_mimic_matches_lavaan():
    # cfa(..., cluster = "cl5", estimator = "MLR") with covariates and a direct effect
    gold = load_golden("cfa", "covariates")["cluster_mlr"]
    assert gold["options"]["se"] == "robust.cluster"
    r = np.arange(1, len(_hs()) + 1)
    fit = CFA(gold["model"], estimator="MLR", cluster="cl5").fit(_hs().assign(cl5=(r - 1) // 5))
    ours, pe = _aligned(fit, gold)
    for ours_col, lav_col in (("est", "est"), ("se", "se"), ("std_all", "std.all"), ("std_nox", "std.nox")):
        np.testing.assert_allclose(ours[ours_col], pe[lav_col], atol=1e-6, rtol=0, err_msg=ours_col)
    compared = 0
    for name, value in gold["fit"].items():
        if name in fit.fit_measures_.index and value is not None:
            compared += 1
            atol = 1e-7 if "pvalue" in name else 0.0
            assert fit.fit_measures_[name] == pytest.approx(value, rel=1e-6, abs=atol), name
    assert compared >= 60


def test_analytic_gradient_matches_finite_differences():
    fit, _ = _fit("direct_ml")
    problem = fit._problem
    x = fit.x_ * 1.05 + 0.01
    grad = problem.gradient(x)
    num = np.zeros_like(x)
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = np.zeros_like(x)
        e[k] = h
        num[k] = (problem.objective(x + e) - problem.objective(x - e)) / (2 * h)
    np.testing.assert_allclose(grad, num, atol=1e-7, rtol=1e-5)
