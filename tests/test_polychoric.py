"""Polychoric correlations against psych::polychoric (tests/r/dimensionality.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

import custval
from custval._stats.polychoric import _bvnu, brent_fmin, cell_probabilities
from custval.exceptions import InsufficientDataError
from tests.conftest import load_golden
from tests.test_efa import data, mat

POLY = load_golden("dimensionality", "polychoric")


def _sim_unequal():
    u = data("simulated").copy()
    u["s1"] = u["s1"].clip(upper=4)
    u["s5"] = u["s5"].clip(upper=3)
    return u


CASES = {
    "bfi_complete_c0.5": (lambda: data("bfi_complete").iloc[:, :10], 0.5),
    "bfi_complete_c0": (lambda: data("bfi_complete").iloc[:, :10], 0.0),
    "simulated_c0.5": (lambda: data("simulated"), 0.5),
    "simulated_c0": (lambda: data("simulated"), 0.0),
    "bfi_pairwise_c0.5": (lambda: data("bfi_pairwise").iloc[:, :10], 0.5),
    "simulated_unequal_c0.5": (_sim_unequal, 0.5),
    "simulated_unequal_c0": (_sim_unequal, 0.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_polychoric_matches_psych(case):
    loader, correct = CASES[case]
    res = custval.polychoric(loader(), correct=correct)
    g = POLY[case]
    want = mat(g["rho"])
    assert list(res.rho.index) == list(want.index)
    np.testing.assert_allclose(res.rho.to_numpy(), want.to_numpy(), rtol=0, atol=1e-4)
    tau, wtau = res.tau.to_numpy(), mat(g["tau"]).to_numpy()
    np.testing.assert_array_equal(np.isfinite(tau), np.isfinite(wtau))
    np.testing.assert_allclose(tau[np.isfinite(tau)], wtau[np.isfinite(wtau)], atol=1e-10)


def test_efa_on_polychoric_matches_psych():
    g = load_golden("dimensionality", "efa_polychoric")
    efa = custval.EFA(3, cor="polychoric").fit(data("simulated"))
    np.testing.assert_allclose(efa.loadings_.to_numpy(), mat(g["loadings"]).to_numpy(), atol=1e-5)
    np.testing.assert_allclose(efa.phi_.to_numpy(), mat(g["phi"]).to_numpy(), atol=1e-5)
    np.testing.assert_allclose(efa.communalities_.to_numpy(), list(g["communality"].values()), atol=1e-5)


@pytest.mark.parametrize("r", [-0.97, -0.6, 0.0, 0.4, 0.8, 0.95])
def test_bivariate_normal_matches_scipy(r):
    h = np.array([-1.3, 0.0, 0.7, 2.2])
    k = np.array([0.5, -0.4, 0.7, -1.9])
    ref = [multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([a, b]) for a, b in zip(h, k)]
    np.testing.assert_allclose(_bvnu(-h, -k, r), ref, atol=1e-9)
    p = cell_probabilities([-0.5, 0.5], [-1.0, 0.0, 1.0], r)
    np.testing.assert_allclose(p.sum(), 1.0, atol=1e-12)
    assert (p > 0).all()


def test_brent_fmin_finds_minimum():
    x = brent_fmin(lambda t: (t - 0.3) ** 2 + 1, -1.0, 1.0)
    assert abs(x - 0.3) < 1e-4


def test_recovers_latent_correlation():
    rng = np.random.default_rng(11)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=20000)
    cuts = [-1.0, 0.0, 0.8]
    x = pd.DataFrame(np.digitize(z, cuts) + 1, columns=["a", "b"])
    res = custval.polychoric(x)
    assert abs(res.rho.loc["a", "b"] - 0.6) < 0.02
    np.testing.assert_allclose(res.tau.loc["a"].to_numpy(), cuts, atol=0.03)


def test_single_category_item_is_named():
    x = data("simulated").copy()
    x["s3"] = 2
    with pytest.raises(InsufficientDataError, match="s3 has a single observed category"):
        custval.polychoric(x)


def test_too_many_categories():
    with pytest.raises(InsufficientDataError, match="at most 8"):
        custval.polychoric(data("hs").round())
