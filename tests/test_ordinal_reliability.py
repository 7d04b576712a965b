"""Ordinal alpha and omega from polychoric correlations against psych (tests/r/ordinal_reliability.R).

Ordinal alpha (Zumbo, Gadermann & Zeisser, 2007) = psych::alpha(psych::polychoric(x)$rho);
ordinal omega = psych::omega(x, poly = TRUE).  bfi items, keyed by hand (7 - x for A1, C4, C5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import custval
from custval.exceptions import SpecificationError
from custval.reliability import cronbach_alpha, omega

TOL = 1e-8
GOLDEN = json.loads((Path(__file__).parent / "golden" / "reliability" / "ordinal.json").read_text())
SETS = {"A": [f"A{i}" for i in range(1, 6)], "N": [f"N{i}" for i in range(1, 6)],
        "AC": [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]}


@pytest.fixture(scope="module")
def bfi():
    data = custval.load_dataset("bfi").data.copy()
    for it in ("A1", "C4", "C5"):
        data[it] = 7 - data[it]
    return data


@pytest.mark.parametrize("name", ["A", "N", "AC"])
@pytest.mark.parametrize("policy", ["listwise", "pairwise"])
def test_ordinal_alpha_equals_psych_alpha_of_the_polychoric_matrix(bfi, name, policy):
    g = GOLDEN[f"alpha_{name}_{policy}"]
    res = cronbach_alpha(bfi[SETS[name]], cor="polychoric", nan_policy=policy)
    assert res.estimate == pytest.approx(g["raw_alpha"], abs=TOL)
    assert res.std_alpha == pytest.approx(g["std_alpha"], abs=TOL)
    assert res.lambda6 == pytest.approx(g["G6"], abs=TOL)
    assert res.average_r == pytest.approx(g["average_r"], abs=TOL)
    if policy == "listwise":
        assert res.n == g["n"]
    assert np.isnan(res.ci_low) and "no standard error or interval" in res.summary()
    assert "polychoric" in res.r_call
    # ordinal alpha of 6-point items is above the Pearson alpha of the same items
    assert res.estimate > cronbach_alpha(bfi[SETS[name]], nan_policy=policy).estimate


@pytest.mark.parametrize("name", ["A", "N", "AC"])
def test_ordinal_omega_equals_psych_omega_poly(bfi, name):
    g = GOLDEN[f"omega_{name}"]
    res = omega(bfi[SETS[name]].dropna(), n_factors=g["nfactors"], cor="polychoric", ci_method=None)
    assert res.n == g["n"]
    assert res.omega_total == pytest.approx(g["omega_total"], abs=TOL)
    assert res.omega_h == pytest.approx(g["omega_h"], abs=TOL)
    np.testing.assert_allclose(np.abs(res.loadings["g"].to_numpy()), np.abs(g["g"]), atol=TOL)
    assert "poly = TRUE" in res.r_call


def test_polychoric_omega_has_no_interval_and_says_why(bfi):
    res = omega(bfi[SETS["N"]].dropna(), cor="polychoric")
    assert np.isnan(res.ci_low) and any("polychoric" in n for n in res.notes)
    with pytest.raises(SpecificationError, match="cor must be"):
        omega(bfi[SETS["N"]].dropna(), cor="spearman", ci_method=None)
    with pytest.raises(SpecificationError, match="no interval"):
        cronbach_alpha(bfi[SETS["N"]], cor="polychoric", ci_method="bootstrap")
