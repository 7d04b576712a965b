"""ESEM blocks in custval.CFA (``efa("b")*F1 + efa("b")*F2 =~ ...``) against lavaan 0.6-14.

Goldens: ``Rscript tests/r/cfa_esem.R`` (lavaan::cfa(model, data, rotation = "geomin"); ``hs_sem``:
lavaan::sem() with the CFA factor regressed on the exploratory ones).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset
from custval.exceptions import MissingDataWarning, ModelSyntaxError, SpecificationError

GOLD = Path(__file__).parent / "golden" / "cfa_esem"
CASES = ["hs_efa3", "hs_esem", "hs_sem", "bfi_esem", "bfi_two"]
#: lavaan stops its rotation at gpa.tol = 1e-5; custval goes on to the stationary point
TOL = 1e-5


def _gold(case):
    return json.loads((GOLD / f"{case}.json").read_text())


@pytest.fixture(scope="module")
def data():
    return {"hs": load_dataset("holzinger_swineford1939").data, "bfi": load_dataset("bfi").data}


@pytest.fixture(scope="module")
def fits(data):
    out = {}
    for case in CASES:
        g = _gold(case)
        d = data[case.split("_")[0]]
        if case.startswith("bfi"):
            with pytest.warns(MissingDataWarning, match="excluded"):
                out[case] = custval.CFA(g["model"]).fit(d)
        else:
            out[case] = custval.CFA(g["model"]).fit(d)
    return out


@pytest.mark.parametrize("case", CASES)
def test_estimates_ses_and_standardized_as_lavaan(fits, case):
    g = _gold(case)
    assert g["seed_spread"] < 5e-6  # lavaan's own answers across R seeds
    fit = fits[case]
    ref = pd.DataFrame(g["params"]).set_index(["lhs", "op", "rhs"])
    mine = fit.params_.set_index(["lhs", "op", "rhs"]).loc[ref.index]
    for col in ("est", "se", "std_lv", "std_all"):
        np.testing.assert_allclose(mine[col], ref[col], atol=TOL, rtol=0, err_msg=col)
    pt = pd.DataFrame(g["partable"]).set_index(["lhs", "op", "rhs"])
    mine_pt = fit.params_.set_index(["lhs", "op", "rhs"]).loc[pt.index]
    # lavaan's free numbers are those of the echelon model; its user = 7 rows are estimated too
    np.testing.assert_array_equal(mine_pt["free"], pt["free"])
    np.testing.assert_array_equal(fit.partable_.set_index(["lhs", "op", "rhs"]).loc[pt.index, "user"], pt["user"])
    # the echelon solution fixes each factor's sign only by the optimiser's path: compare up to sign
    np.testing.assert_allclose(np.abs(mine_pt["est_unrotated"]), np.abs(pt["est_unrotated"]), atol=1e-4)
    assert fit.n_obs_["all"] == g["n"]


@pytest.mark.parametrize("case", CASES)
def test_fit_measures_as_lavaan(fits, case):
    g = _gold(case)["fit_measures"]
    fm = fits[case].fit_measures_
    assert set(g) <= set(fm.index)
    for k, v in g.items():
        np.testing.assert_allclose(fm[k], v, rtol=1e-6, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("case", ["hs_esem", "bfi_two"])
def test_standardized_solution_ses(fits, case):
    """lavaan's se.std: the delta method through the rotation, by forward differences of step .001 of
    re-rotations stopped at gpa.tol; custval's: the bordered matrix with the exact stationarity conditions."""
    pt = pd.DataFrame(_gold(case)["partable"]).set_index(["lhs", "op", "rhs"])
    ss = fits[case].standardized_solution().set_index(["lhs", "op", "rhs"]).loc[pt.index]
    np.testing.assert_allclose(ss["estimate"], pt["est_std"], atol=TOL)
    np.testing.assert_allclose(ss["se"], pt["se_std"], atol=1e-3)


def test_one_block_equals_lavaan_efa(data, fits):
    """A model of one efa block is lavaan::efa(): CFA and EFA(convention='lavaan') agree."""
    hs = data["hs"].loc[:, "x1":"x9"]
    efa = custval.EFA(3, method="ml", rotation="geomin", convention="lavaan", n_starts=30, seed=0).fit(hs)
    a = efa.params_.set_index(["lhs", "op", "rhs"])
    b = fits["hs_efa3"].params_.set_index(["lhs", "op", "rhs"]).loc[a.index]
    np.testing.assert_allclose(b["est"], a["est"], atol=1e-7)
    np.testing.assert_allclose(b["se"], a["se"], atol=1e-7)
    np.testing.assert_allclose(b["std_all"], a["std.all"], atol=1e-7)
    assert fits["hs_efa3"].fit_measures_["chisq"] == pytest.approx(efa.fit_["chisq"], rel=1e-9)


def test_rotation_invariants(fits):
    """The rotated solution implies the same covariance matrix; the block's factors have unit variance."""
    fit = fits["hs_esem"]
    p = fit.params_
    lam = p[p["op"] == "=~"].pivot_table(index="rhs", columns="lhs", values="est", aggfunc="first").fillna(0.0)
    lam_u = p[p["op"] == "=~"].pivot_table(index="rhs", columns="lhs", values="est_unrotated",
                                           aggfunc="first").fillna(0.0)
    assert np.abs(lam.to_numpy() - lam_u.to_numpy()).max() > 0.1  # the rotation did something
    var = p[(p["op"] == "~~") & (p["lhs"] == p["rhs"]) & p["lhs"].isin(["visual", "textual"])]
    np.testing.assert_array_equal(var["est"], 1.0)
    np.testing.assert_allclose(fit._model.implied(fit.x_)[0][0], fit.implied_cov_.to_numpy(), atol=1e-10)


def test_efa_syntax_errors(data):
    hs = data["hs"]
    with pytest.raises(ModelSyntaxError, match="only on the left of '=~'"):
        custval.CFA('f =~ x1 + x2 + x3\nefa("b")*f ~~ x4').fit(hs)
    with pytest.raises(ModelSyntaxError, match="efa\\('b'\\) elsewhere"):
        custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4\nf1 =~ x5').fit(hs)
    with pytest.raises(SpecificationError, match="one group only"):
        custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6', group="school").fit(hs)
    with pytest.raises(SpecificationError, match="higher-order"):
        custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n'
                    'g =~ f1 + f2 + speed').fit(hs)
    with pytest.raises(SpecificationError, match="estimator='ML'"):
        custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6', estimator="MLR").fit(hs)


def test_block_of_one_factor_is_a_unit_variance_factor(data):
    """lavaan does not rotate a block of one factor: it is a factor with unit variance, all loadings free."""
    hs = data["hs"]
    a = custval.CFA('efa("b")*f1 =~ x1 + x2 + x3\nspeed =~ x7 + x8 + x9').fit(hs)
    b = custval.CFA('f1 =~ NA*x1 + x2 + x3\nf1 ~~ 1*f1\nspeed =~ x7 + x8 + x9').fit(hs)
    pa = a.params_.set_index(["lhs", "op", "rhs"])
    pb = b.params_.set_index(["lhs", "op", "rhs"]).loc[pa.index]
    np.testing.assert_allclose(np.abs(pa["est"]), np.abs(pb["est"]), atol=1e-6)
    np.testing.assert_allclose(pa["se"], pb["se"], atol=1e-6)
    assert a.fit_measures_["chisq"] == pytest.approx(b.fit_measures_["chisq"], rel=1e-9)
