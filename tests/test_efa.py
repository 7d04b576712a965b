"""EFA against psych::fa / GPArotation (golden values from tests/r/dimensionality.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval import EFA
from custval._io.paths import RAW_DATA_DIR
from custval._stats.factor_extraction import _minres_fn, _ml_fn, _ml_gr, extract
from custval._stats.rotation import _vgq_geomin, _vgq_oblimin, gpf_oblique
from custval.exceptions import (
    ConstantItemError,
    HeywoodWarning,
    InsufficientDataError,
    SingularMatrixError,
    SpecificationError,
)
from tests.conftest import GOLDEN_DIR, load_golden

GOLD = load_golden("dimensionality", "efa")
METHODS = ("minres", "ml", "pa")
ROTATIONS = ("none", "oblimin", "geomin", "promax", "varimax", "quartimin")


def _bfi():
    return pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv").loc[:, "A1":"O5"]


DATASETS = {
    # name: (loader, n_factors, nan_policy)
    "bfi_complete": (lambda: _bfi().dropna(), 5, "listwise"),
    "bfi_pairwise": (_bfi, 5, "pairwise"),
    "hs": (lambda: pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
           .loc[:, "x1":"x9"], 3, "pairwise"),
    "sq": (lambda: pd.read_csv(RAW_DATA_DIR / "service_quality_sq" / "service_quality_sq.csv")
           .loc[:, "a01":"a22"], 3, "pairwise"),
    "simulated": (lambda: pd.read_csv(GOLDEN_DIR / "dimensionality" / "simulated.csv"), 3, "pairwise"),
}
_CACHE: dict = {}


def data(name):
    if name not in _CACHE:
        _CACHE[name] = DATASETS[name][0]()
    return _CACHE[name]


def mat(g):
    # jsonlite's auto_unbox turns length-1 vectors into scalars
    cols = list(np.atleast_1d(g["cols"]))
    rows = list(np.atleast_1d(g["rows"]))
    vals = np.asarray(g["values"], dtype=float).reshape(len(rows), len(cols))
    return pd.DataFrame(vals, index=rows, columns=cols)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dataset", list(DATASETS))
def test_efa_matches_psych(dataset, method, rotation):
    _, nf, policy = DATASETS[dataset]
    g = GOLD[f"{dataset}/{method}/{rotation}"]
    efa = EFA(nf, method=method, rotation=None if rotation == "none" else rotation, nan_policy=policy)
    efa.fit(data(dataset))
    want = mat(g["loadings"])
    # psych's column order and names (after its sign flip and variance ordering)
    assert list(efa.loadings_.columns) == list(want.columns)
    assert list(efa.loadings_.index) == list(want.index)
    np.testing.assert_allclose(efa.loadings_.to_numpy(), want.to_numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(efa.structure_.to_numpy(), mat(g["structure"]).to_numpy(), rtol=0, atol=1e-5)
    if g.get("phi"):
        np.testing.assert_allclose(efa.phi_.to_numpy(), mat(g["phi"]).to_numpy(), rtol=0, atol=1e-5)
    else:
        np.testing.assert_array_equal(efa.phi_.to_numpy(), np.eye(nf))
    np.testing.assert_allclose(efa.communalities_.to_numpy(), list(g["communality"].values()), atol=1e-5)
    np.testing.assert_allclose(efa.uniquenesses_.to_numpy(), list(g["uniquenesses"].values()), atol=1e-5)
    va = mat(g["vaccounted"])
    np.testing.assert_allclose(efa.variance_.loc[va.index].to_numpy(), va.to_numpy(), atol=1e-5)
    np.testing.assert_allclose(efa.eigenvalues_.to_numpy(), g["e_values"], rtol=1e-8)
    np.testing.assert_allclose(efa.common_eigenvalues_.to_numpy(), g["values"], atol=1e-5)
    f = efa.fit_
    assert f["df"] == g["dof"]
    assert efa.n_obs_ == g["n_obs"]
    np.testing.assert_allclose(f["rmsr"], g["rms"], rtol=1e-6)
    np.testing.assert_allclose(f["crms"], g["crms"], rtol=1e-6)
    np.testing.assert_allclose(f["chisq"], g["chisq"], rtol=1e-6)
    np.testing.assert_allclose(f["p_value"], g["p_value"], rtol=1e-6, atol=1e-300)
    np.testing.assert_allclose(f["tli"], g["tli"], rtol=1e-6)
    np.testing.assert_allclose(f["bic"], g["bic"], rtol=1e-6)
    np.testing.assert_allclose(f["objective"], g["objective"], rtol=1e-6)
    np.testing.assert_allclose(f["echisq"], g["echisq"], rtol=1e-6)
    np.testing.assert_allclose(f["null_chisq"], g["null_chisq"], rtol=1e-8)
    np.testing.assert_allclose(f["fit_off"], g["fit_off"], rtol=1e-6)
    np.testing.assert_allclose(f["rmsea"], g["rmsea"][0], rtol=1e-6)
    # psych finds the RMSEA interval with uniroot(tol = 1.2e-4 on the noncentrality); we solve exactly
    np.testing.assert_allclose(f[["rmsea_low", "rmsea_high"]].to_numpy(float), g["rmsea"][1:], atol=1e-4)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_one_factor_matches_psych(dataset):
    g = GOLD[f"{dataset}/minres/one_factor"]
    efa = EFA(1, rotation=None, nan_policy=DATASETS[dataset][2]).fit(data(dataset))
    np.testing.assert_allclose(efa.loadings_["MR1"].to_numpy(), mat(g["loadings"])["MR1"], atol=1e-5)


def test_communalities_are_diag_of_lambda_phi_lambda_under_oblique_rotation():
    efa = EFA(3, rotation="oblimin").fit(data("hs"))
    L, phi = efa.loadings_.to_numpy(), efa.phi_.to_numpy()
    np.testing.assert_allclose(efa.communalities_, np.diag(L @ phi @ L.T), atol=1e-10)
    # ... and not factor_analyzer's row sums of squared pattern loadings
    assert np.max(np.abs(efa.communalities_ - (L**2).sum(axis=1))) > 0.01


def test_display_blanks_small_loadings_only_in_display():
    efa = EFA(3).fit(data("hs"))
    text = efa.summary(cut=0.3)
    assert "RMSR" in text and "psych::fa" in text
    html = efa._repr_html_()
    assert "<table" in html
    assert (efa.loadings_.abs() < 0.3).to_numpy().any()  # unrounded values kept
    assert efa._display_loadings().loc["x1", "MR2"] == ""


# --------------------------------------------------------------------------- properties
def _num_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def test_ml_gradient_matches_finite_differences():
    r = data("hs").corr().to_numpy()
    psi = np.linspace(0.3, 0.7, 9)
    num = _num_grad(lambda z: _ml_fn(z, r, 3), psi)
    np.testing.assert_allclose(_ml_gr(psi, r, 3), num, rtol=1e-5, atol=1e-7)


def test_minres_solution_is_stationary():
    # at psych's minres solution the true residual function is (nearly) flat
    r = data("hs").corr().to_numpy()
    ex = extract(r, 3, "minres")
    g = _num_grad(lambda z: _minres_fn(z, r, 3), ex.psi)
    assert np.max(np.abs(g)) < 1e-3


@pytest.mark.parametrize("crit", ["oblimin", "geomin"])
def test_rotation_criterion_gradient_matches_finite_differences(crit):
    rng = np.random.default_rng(1)
    L = rng.normal(size=(8, 3))
    fn = (lambda a: _vgq_oblimin(a)) if crit == "oblimin" else (lambda a: _vgq_geomin(a))
    gq, _ = fn(L)
    num = _num_grad(lambda v: fn(v.reshape(8, 3))[1], L.ravel()).reshape(8, 3)
    np.testing.assert_allclose(gq, num, rtol=1e-5, atol=1e-7)


def test_recovers_simulated_population_structure():
    rng = np.random.default_rng(2024)
    lam = np.zeros((9, 3))
    lam[0:3, 0] = [0.8, 0.7, 0.6]
    lam[3:6, 1] = [0.75, 0.7, 0.65]
    lam[6:9, 2] = [0.8, 0.6, 0.7]
    phi = np.array([[1, 0.3, 0.2], [0.3, 1, 0.4], [0.2, 0.4, 1]])
    n = 20000
    f = rng.multivariate_normal(np.zeros(3), phi, size=n)
    x = f @ lam.T + rng.normal(size=(n, 9)) * np.sqrt(1 - np.diag(lam @ phi @ lam.T))
    efa = EFA(3, method="ml", rotation="oblimin").fit(pd.DataFrame(x, columns=[f"v{i}" for i in range(9)]))
    L = efa.loadings_.to_numpy()
    order = [int(np.argmax(np.abs(L[[0, 3, 6][k]]))) for k in range(3)]
    np.testing.assert_allclose(L[:, order], lam, atol=0.03)
    np.testing.assert_allclose(efa.phi_.to_numpy()[np.ix_(order, order)], phi, atol=0.03)


def test_gpf_is_invariant_to_a_random_start_at_the_optimum():
    L0 = EFA(3, rotation=None).fit(data("hs")).loadings_.to_numpy()
    a = gpf_oblique(L0, "oblimin")
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    b = gpf_oblique(L0, "oblimin", tmat=q)
    fa_, fb = _vgq_oblimin(a[0])[1], _vgq_oblimin(b[0])[1]
    assert fb >= fa_ - 1e-6


# --------------------------------------------------------------------------- bad input
def test_constant_item_is_named():
    df = data("hs").copy()
    df["x5"] = 3.0
    with pytest.raises(ConstantItemError, match="x5"):
        EFA(2).fit(df)


def test_fewer_respondents_than_items():
    with pytest.raises(InsufficientDataError, match="respondent"):
        EFA(2).fit(data("sq").iloc[:10])


def test_singular_matrix_names_the_items():
    df = data("hs").copy()
    df["x10"] = df["x1"] + df["x2"]
    with pytest.raises(SingularMatrixError, match="x10"):
        EFA(2).fit(df)


def test_bad_arguments():
    with pytest.raises(SpecificationError, match="rotation"):
        EFA(2, rotation="bogus").fit(data("hs"))
    with pytest.raises(SpecificationError, match="n_factors"):
        EFA(9).fit(data("hs"))


@pytest.mark.parametrize("method", METHODS)
def test_heywood_case_warns_with_item_name(method):
    # population correlations that need a communality of .8 * .8 / .5 = 1.28 for item a
    R = np.array([[1, .8, .8, .3], [.8, 1, .5, .2], [.8, .5, 1, .2], [.3, .2, .2, 1]])
    z = np.random.default_rng(5).normal(size=(500, 4))
    z = z - z.mean(axis=0)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    z = z @ v @ np.diag(w**-0.5) @ v.T  # sample correlations exactly R
    df = pd.DataFrame(z @ np.linalg.cholesky(R).T, columns=list("abcd"))
    with pytest.warns(HeywoodWarning, match=r"for a \(h2"):
        EFA(1, method=method).fit(df)
