"""custval.EFA(convention="lavaan") against lavaan 0.6-14's efa(), and the GPArotation rotations.

Goldens: ``Rscript tests/r/efa_lavaan.R`` (lavaan 0.6-14, GPArotation 2022.10-2).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset
from custval._stats import efa_lavaan as el
from custval._stats import rotation as rot

GOLD = Path(__file__).parent / "golden" / "efa"
LAV = json.loads((GOLD / "lavaan_hs.json").read_text())
GPA = json.loads((GOLD / "gparotation.json").read_text())
#: lavaan stops its rotation at gpa.tol = 1e-5; its own answers differ by this much across R seeds
assert LAV["seed_spread"] < 5e-6
TOL_L = 1e-5
FIT_KEYS = ("npar", "fmin", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df", "cfi", "tli", "nfi",
            "rfi", "ifi", "rni", "pnfi", "logl", "unrestricted.logl", "aic", "bic", "bic2", "rmsea",
            "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "rmsea.notclose.pvalue", "rmr", "srmr")


def _m(d):
    return np.array(d["values"], float)


def _na(rows):
    return np.array([[np.nan if v is None else v for v in r] for r in rows], float)


@pytest.fixture(scope="module")
def hs():
    return load_dataset("holzinger_swineford1939").data.loc[:, "x1":"x9"]


def _compare(efa, gold, *, se_std_tol):
    pt = pd.DataFrame(gold["partable"]).set_index(["lhs", "op", "rhs"])
    mine = efa.params_.set_index(["lhs", "op", "rhs"]).loc[pt.index]
    np.testing.assert_allclose(mine["std.all"], pt["est_std"], atol=TOL_L, rtol=0)
    np.testing.assert_allclose(mine["est"], pt["est"], atol=TOL_L, rtol=0)
    np.testing.assert_allclose(mine["se"], pt["se"], atol=TOL_L, rtol=0)
    np.testing.assert_allclose(mine["se.std"], pt["se_std"], atol=se_std_tol, rtol=0)
    fmg = gold["fit_measures"]
    for k in FIT_KEYS:
        np.testing.assert_allclose(efa.fit_[k], fmg[k], rtol=1e-6, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("nf", [1, 2, 3])
def test_lavaan_efa_tutorial(hs, nf):
    """lavaan's EFA tutorial: efa(data = HolzingerSwineford1939[, 7:15], nfactors = 1:3)."""
    efa = custval.EFA(nf, method="ml", rotation="geomin", rotation_kwargs={"epsilon": 0.001}, n_starts=30,
                      seed=1, convention="lavaan").fit(hs)
    gold = LAV["geomin"][f"nf{nf}"]
    # lavaan's standardised SEs are forward differences with step .001 (see custval._stats.efa_lavaan)
    _compare(efa, gold, se_std_tol=1e-3 if nf == 3 else 1e-4)
    if nf > 1:
        np.testing.assert_allclose(efa.loadings_.to_numpy(), _m(gold["std_loadings"]), atol=TOL_L)
        np.testing.assert_allclose(efa.phi_.to_numpy(), _m(gold["phi"]), atol=TOL_L)
    assert list(efa.loadings_.columns) == [f"f{k + 1}" for k in range(nf)]
    np.testing.assert_allclose(efa.eigenvalues_.to_numpy(), LAV["eigenvalues"], atol=1e-10)
    assert efa.n_obs_ == LAV["n"]


def test_the_tutorial_numbers(hs):
    """The numbers lavaan prints for the tutorial (3 decimals), from the fitted objects."""
    fits = {nf: custval.EFA(nf, method="ml", rotation="geomin", convention="lavaan", n_starts=30, seed=0).fit(hs)
            for nf in (1, 2, 3)}
    printed = {1: (7738.448, 7805.176, 7748.091, 312.264, 27, 0.677, 0.187),
               2: (7572.491, 7668.876, 7586.418, 130.306, 19, 0.874, 0.140),
               3: (7479.081, 7601.416, 7496.758, 22.897, 12, 0.988, 0.055)}
    for nf, row in printed.items():
        f = fits[nf].fit_
        got = (f["aic"], f["bic"], f["bic2"], f["chisq"], f["df"], f["cfi"], f["rmsea"])
        np.testing.assert_allclose(np.round(got, 3), row, atol=1e-9)
    l3 = fits[3].loadings_.round(3)
    assert l3.loc["x1", "f1"] == 0.611 and l3.loc["x9", "f3"] == 0.481 and l3.loc["x5", "f2"] == 0.895
    assert fits[3].phi_.round(3).loc["f3", "f1"] == 0.432


@pytest.mark.parametrize("case", ["oblimin", "target", "geomin_orth"])
def test_lavaan_other_rotations(hs, case):
    kw = {"oblimin": dict(rotation="oblimin"),
          "target": dict(rotation="target", rotation_kwargs={"target": _na(LAV["target_na"])}),
          "geomin_orth": dict(rotation="geomin", rotation_kwargs={"orthogonal": True})}[case]
    efa = custval.EFA(3, method="ml", convention="lavaan", n_starts=30, seed=3, **kw).fit(hs)
    _compare(efa, LAV[case], se_std_tol=2.5e-3)


def test_seed_does_not_change_the_answer(hs):
    a = custval.EFA(3, method="ml", rotation="geomin", convention="lavaan", n_starts=30, seed=0).fit(hs)
    b = custval.EFA(3, method="ml", rotation="geomin", convention="lavaan", n_starts=30, seed=12345).fit(hs)
    np.testing.assert_allclose(a.loadings_, b.loadings_, atol=1e-7)
    assert a.criterion_ == pytest.approx(b.criterion_, abs=1e-12)


def test_psych_convention_same_loadings_up_to_order_and_sign(hs):
    """The issue's call (psych's conventions) gives lavaan's rotated loadings up to column order/sign."""
    efa = custval.EFA(3, method="ml", rotation="geomin", rotation_kwargs={"epsilon": 0.001}, n_starts=30,
                      seed=0).fit(hs)
    lav = _m(LAV["geomin"]["nf3"]["std_loadings"])
    mine = efa.loadings_.to_numpy()
    # match columns by the largest absolute inner product
    order = [int(np.argmax(np.abs(lav.T @ mine[:, j]))) for j in range(3)]
    assert sorted(order) == [0, 1, 2]
    signs = np.sign(np.sum(lav[:, order] * mine, axis=0))
    # psych's ML stops at optim's factr = 1e7, so its loadings are ML's to about 1e-4
    np.testing.assert_allclose(mine * signs, lav[:, order], atol=2e-4)


def test_random_starts_pick_the_lowest_criterion():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(12, 3))
    vgq = rot.criterion("geomin", delta=0.001)
    L, phi, conv, f, best, fs = el.rotate_best(a, vgq, orthogonal=False, n_starts=20, seed=7, lavaan=True)
    assert conv
    assert f <= np.min(fs) + 1e-9
    assert best == int(np.flatnonzero(fs <= np.min(fs) + 1e-9 * max(1, abs(np.min(fs))))[0])
    starts = el.random_starts(3, 5, 7)
    for t in starts:
        np.testing.assert_allclose(t.T @ t, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(starts[1], el.random_starts(3, 5, 7)[1])


# --------------------------------------------------------------------------- GPArotation goldens
_T_FULL = np.array(GPA["target_full"], float)
_T_NA = _na(GPA["target_na"])
_W = np.array(GPA["W"], float)
_CASES = {
    "geominQ": ("A3", rot.criterion("geomin", delta=0.001), False, {}),
    "targetQ": ("A3", rot.criterion("target", target=_T_FULL), False, {}),
    "targetT": ("A3", rot.criterion("target", target=_T_FULL), True, {}),
    "targetQ_na": ("A3", rot.criterion("target", target=_T_NA), False, {}),
    "pstQ": ("A3", lambda L: rot._vgq_pst(L, _W, np.nan_to_num(_T_NA)), False, {}),
    "pstT": ("A3", lambda L: rot._vgq_pst(L, _W, np.nan_to_num(_T_NA)), True, {}),
    "bifactorQ": ("A4", rot.criterion("biquartimin"), False, {}),
    "bifactorT": ("A4", rot.criterion("biquartimin"), True, {}),
    "bigeominQ_lavaan": ("A4", rot.criterion("bigeomin", delta=0.01), False, {"maxit": 10000, "halvings": 1000}),
    "bigeominT_lavaan": ("A4", rot.criterion("bigeomin", delta=0.01), True, {"maxit": 10000, "halvings": 1000}),
}


@pytest.mark.parametrize("case", list(_CASES))
def test_gparotation_step_for_step(case):
    a_name, vgq, orth, kw = _CASES[case]
    L, phi, T, conv, f = rot.gpa(_m(GPA[a_name]), vgq, orthogonal=orth, **kw)
    g = GPA[case]
    assert conv == g["convergence"]
    np.testing.assert_allclose(L, _m(g["loadings"]), atol=1e-10)
    np.testing.assert_allclose(T, _m(g["th"]), atol=1e-10)
    assert f == pytest.approx(g["f"], abs=1e-12)
    if not orth:
        np.testing.assert_allclose(phi, _m(g["phi"]), atol=1e-10)


def test_target_with_nan_is_pst():
    a = _m(GPA["A3"])
    x = rot.gpa(a, rot.criterion("target", target=_T_NA))
    y = rot.gpa(a, lambda L: rot._vgq_pst(L, _W, np.nan_to_num(_T_NA)))
    np.testing.assert_allclose(x[0], y[0], atol=1e-12)


def test_efa_target_and_bifactor_psych_convention(hs):
    """EFA(rotation="target" / "biquartimin") = psych's unrotated solution rotated by GPArotation."""
    tgt = pd.DataFrame(_T_NA, index=[f"x{i}" for i in range(1, 10)], columns=["visual", "textual", "speed"])
    efa = custval.EFA(3, method="ml", rotation="target", rotation_kwargs={"target": tgt}).fit(hs)
    assert list(efa.loadings_.columns) == ["visual", "textual", "speed"]
    L, phi, *_ = rot.gpa(efa.unrotated_loadings_.to_numpy(), rot.criterion("target", target=_T_NA))
    # the target has only zeros, so it leaves each column's sign free: columns get a positive sum
    signs = np.where(L.sum(axis=0) < 0, -1, 1)
    np.testing.assert_allclose(efa.loadings_.to_numpy(), L * signs, atol=1e-12)
    full = custval.EFA(3, method="ml", rotation="target", rotation_kwargs={"target": _T_FULL}).fit(hs)
    Lf, *_ = rot.gpa(full.unrotated_loadings_.to_numpy(), rot.criterion("target", target=_T_FULL))
    np.testing.assert_allclose(full.loadings_.to_numpy(), Lf, atol=1e-12)  # a non-zero target fixes the sign
    # rows of the target follow the item names, not the row order given
    efa2 = custval.EFA(3, method="ml", rotation="target", rotation_kwargs={"target": tgt.iloc[::-1]}).fit(hs)
    np.testing.assert_allclose(efa2.loadings_, efa.loadings_, atol=1e-12)
    bfi = load_dataset("bfi").data
    items = [f"{k}{i}" for k in "ACE" for i in range(1, 6)]
    bi = custval.EFA(4, method="minres", rotation="biquartimin", nan_policy="listwise").fit(bfi[items])
    Lb, *_ = rot.gpa(bi.unrotated_loadings_.to_numpy(), rot.criterion("biquartimin"))
    signs = np.where(Lb.sum(axis=0) < 0, -1, 1)
    np.testing.assert_allclose(bi.loadings_.to_numpy(), Lb * signs, atol=1e-12)
    assert list(bi.loadings_.columns) == ["MR1", "MR2", "MR3", "MR4"]  # the general factor stays first
    assert (bi.loadings_["MR1"].abs() > 0.3).sum() >= 12  # nearly every item loads on the general factor
