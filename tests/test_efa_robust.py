"""EFA extraction that gives the same minimum on every CPU: fallback of the L-BFGS-B fast path,
Heywood cases against psych (golden values from tests/r/efa_privacy.R and tests/r/dimensionality.R).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import custval
from custval import EFA
from custval._io.paths import RAW_DATA_DIR
from custval._stats import factor_extraction as fx
from custval.exceptions import ConvergenceWarning, HeywoodWarning
from tests.conftest import GOLDEN_DIR, load_golden

HEY = load_golden("efa", "heywood")
GOLD = load_golden("dimensionality", "efa")
POP_R = np.array([[1, .8, .8, .3], [.8, 1, .5, .2], [.8, .5, 1, .2], [.3, .2, .2, 1]])


def mat(g):
    cols = list(np.atleast_1d(g["cols"]))
    rows = list(np.atleast_1d(g["rows"]))
    vals = np.asarray(g["values"], dtype=float).reshape(len(rows), len(cols))
    return pd.DataFrame(vals, index=rows, columns=cols)


def _privacy_export(tmp_path):
    """The privacy survey as a spreadsheet export: BOM, CRLF line ends, quoted header."""
    df = pd.read_csv(GOLDEN_DIR / "efa" / "privacy_tracker.csv")
    path = tmp_path / "privacy tracker (export).csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n", quoting=1)
    return pd.read_csv(path, encoding="utf-8-sig")


def _exact_population_data(r, n=500, seed=5):
    """n rows whose sample correlation matrix is exactly ``r``."""
    z = np.random.default_rng(seed).normal(size=(n, r.shape[0]))
    z = z - z.mean(axis=0)
    w, v = np.linalg.eigh(np.cov(z, rowvar=False))
    z = z @ v @ np.diag(w**-0.5) @ v.T
    return pd.DataFrame(z @ np.linalg.cholesky(r).T, columns=list("abcd")[: r.shape[0]])


def _rss(efa):
    """psych's minres objective: the off-diagonal residual sum of squares of the unrotated solution."""
    r = efa.correlation_.to_numpy()
    L0 = efa.unrotated_loadings_.to_numpy()
    res = r - L0 @ L0.T
    return float(np.sum(np.tril(res, -1) ** 2))


def _projected_exact_gradient(psi, r, nf, upper=1.0):
    _, g = fx._minres_exact_fg(psi, r, nf)
    return np.max(np.abs(fx._projected_gradient(np.clip(psi, fx.LOWER, upper), g, fx.LOWER, upper)))


def _corr(name):
    if name == "hs":
        df = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv").loc[:, "x1":"x9"]
    elif name == "sq":
        df = pd.read_csv(RAW_DATA_DIR / "service_quality_sq" / "service_quality_sq.csv").loc[:, "a01":"a22"]
    elif name == "bfi":
        df = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv").loc[:, "A1":"O5"].dropna()
    elif name == "simulated":
        df = pd.read_csv(GOLDEN_DIR / "dimensionality" / "simulated.csv")
    elif name == "privacy":
        df = pd.read_csv(GOLDEN_DIR / "efa" / "privacy_tracker.csv")
    else:
        return POP_R
    return df.corr().to_numpy()


# (correlation matrix, number of factors); "population" and "privacy" are Heywood cases
CASES = [("hs", 3), ("sq", 3), ("bfi", 5), ("simulated", 3), ("privacy", 4), ("population", 1)]


# --------------------------------------------------------------------------- Heywood cases vs psych
def test_privacy_heywood_case_reaches_psychs_minimum_or_lower(tmp_path):
    g = HEY["privacy_4f"]
    df = _privacy_export(tmp_path)
    with pytest.warns(HeywoodWarning, match=r"intent1 \(h2 = 0\.996\)"):
        efa = EFA(4, method="minres", rotation="oblimin").fit(df)
    assert efa.converged_
    assert "exact gradient" in efa.optimizer_fallback_
    # custval's residual sum of squares is not above psych's ...
    rss = _rss(efa)
    assert rss <= g["rss"] + 1e-12
    # ... because psych's stop is not a minimum (its projected gradient is not zero) and custval's is
    r = efa.correlation_.to_numpy()
    psi_psych = np.array(list(g["psi"].values()))
    assert _projected_exact_gradient(psi_psych, r, 4) > 1e-5
    ex = fx.extract(r, 4, "minres")
    assert _projected_exact_gradient(ex.psi, r, 4) <= fx.KKT_TOL
    assert np.isclose(fx._minres_fn(ex.psi, r, 4), rss, rtol=1e-12)
    # quantities that do not depend on the optimiser agree at the golden tolerance
    np.testing.assert_allclose(efa.eigenvalues_.to_numpy(), g["e_values"], rtol=1e-8)
    assert efa.n_obs_ == g["n_obs"]
    # the solution agrees with psych's up to psych's early stop (|d psi| <= 9e-4 here)
    want = mat(g["loadings"])
    assert list(efa.loadings_.columns) == list(want.columns)
    np.testing.assert_allclose(efa.loadings_.to_numpy(), want.to_numpy(), rtol=0, atol=1e-3)
    np.testing.assert_allclose(efa.communalities_.to_numpy(), list(g["communality"].values()), atol=1e-3)
    np.testing.assert_allclose(efa.phi_.to_numpy(), mat(g["phi"]).to_numpy(), atol=2e-4)
    np.testing.assert_allclose(efa.fit_["chisq"], g["chisq"], rtol=5e-4)
    assert efa.fit_["df"] == g["dof"]


def test_population_heywood_case_reaches_psychs_minimum_or_lower():
    g = HEY["population_1f"]
    assert g["optim_convergence"] == 52  # psych's own run ends in a line-search failure here
    df = _exact_population_data(POP_R)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(HeywoodWarning, match=r"for a \(h2"):
            efa = EFA(1, method="minres").fit(df)
    assert efa.converged_
    assert _rss(efa) <= g["rss"] + 1e-12
    r = efa.correlation_.to_numpy()
    ex = fx.extract(r, 1, "minres")
    assert ex.psi[0] == pytest.approx(fx.LOWER)
    assert _projected_exact_gradient(ex.psi, r, 1) <= fx.KKT_TOL
    assert _projected_exact_gradient(np.array(list(g["psi"].values())), POP_R, 1) > 1e-3


def test_exact_minres_gradient_matches_finite_differences_at_a_bound():
    r = _corr("privacy")
    psi = np.array(list(HEY["privacy_4f"]["psi"].values()))
    f, g = fx._minres_exact_fg(psi, r, 4)
    assert f == pytest.approx(fx._minres_fn(psi, r, 4), rel=1e-14)
    h = 1e-7
    num = np.array([(fx._minres_fn(psi + e, r, 4) - fx._minres_fn(psi - e, r, 4)) / (2 * h)
                    for e in np.eye(len(psi)) * h])
    np.testing.assert_allclose(g, num, rtol=0, atol=1e-9)
    # psych's gradient differs from it at a bound, which is why psych's run stops short
    psych_g = fx._minres_gr(psi, r, 4)
    assert np.max(np.abs(psych_g - g)) > 1e-4


# --------------------------------------------------------------------------- fast path = public scipy
needs_fast_path = pytest.mark.skipif(
    not fx._setulb_verified(),
    reason="the private L-BFGS-B loop is verified for scipy 1.16-1.17 only; with this scipy the public "
           "scipy.optimize.minimize runs (test_fast_path_is_off_outside_the_verified_scipy)")


def test_fast_path_is_off_outside_the_verified_scipy(monkeypatch):
    monkeypatch.setattr(fx, "_scipy_version", lambda: (1, 15))
    assert fx._setulb_loop(lambda z: (0.0, np.zeros_like(z)), np.ones(3), 0.0, 2.0) is None
    ex = fx.extract(_corr("hs"), 3, "minres")
    assert ex.converged


@needs_fast_path
@pytest.mark.parametrize("name,nf", CASES)
@pytest.mark.parametrize("method", ["minres", "ml"])
def test_fast_path_takes_the_steps_of_public_minimize(name, nf, method):
    r = _corr(name)
    fn, gr = (fx._minres_fn, fx._minres_gr) if method == "minres" else (fx._ml_fn, fx._ml_gr)
    s_smc = fx.smc(r)
    upper = max(s_smc.max(), 1.0)
    lo, hi = fx.LOWER / fx._PS, upper / fx._PS
    z0 = np.clip((1 - s_smc) / fx._PS, lo, hi)
    fun = fx._psych_objective(fn, gr, r, nf)
    x_fast, info = fx._setulb_loop(fun, z0, lo, hi)
    pub = optimize.minimize(fun, z0, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * len(z0),
                            options=fx._PSYCH_OPTIONS)
    np.testing.assert_allclose(x_fast, pub.x, rtol=0, atol=1e-12)
    assert info.success == pub.success
    assert info.nit == pub.nit


@pytest.mark.parametrize("name,nf", CASES)
@pytest.mark.parametrize("method", ["minres", "ml"])
def test_extraction_without_the_fast_path_gives_the_same_solution(name, nf, method, monkeypatch):
    r = _corr(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = fx.extract(r, nf, method)
        monkeypatch.setattr(fx, "_setulb_loop", lambda *a, **k: None)  # scipy's private API "gone"
        public = fx.extract(r, nf, method)
    np.testing.assert_allclose(public.psi, fast.psi, rtol=0, atol=1e-10)
    np.testing.assert_allclose(public.loadings, fast.loadings, rtol=0, atol=1e-9)
    assert public.converged == fast.converged
    assert (public.fallback is None) == (fast.fallback is None)


# --------------------------------------------------------------------------- abnormal stops fall back
def _hs():
    return pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv").loc[:, "x1":"x9"]


@needs_fast_path
@pytest.mark.parametrize("task", [(8, 0), (9, 0), (5, 504), (6, 601), (0, 0)])
def test_fast_path_stop_other_than_convergence_falls_back(task, monkeypatch):
    """Every stop of the private loop but task 4 (CONVERGENCE), also task codes the loop does not
    know, restarts with scipy.optimize.minimize; the result is still psych's solution."""
    from scipy.optimize import _lbfgsb

    real = _lbfgsb.setulb
    calls = {"n": 0}

    def stops_early(*args):
        real(*args)
        calls["n"] += 1
        if calls["n"] == 6:  # a few function evaluations in, the routine "reports" the task
            args[11][0], args[11][1] = task

    monkeypatch.setattr(_lbfgsb, "setulb", stops_early)
    efa = EFA(3, method="minres", rotation="oblimin").fit(_hs())
    assert calls["n"] >= 6
    assert efa.converged_
    assert f"task {task[0]}, {task[1]}" in efa.optimizer_fallback_
    assert "restarted with scipy.optimize.minimize" in efa.optimizer_fallback_
    want = GOLD["hs/minres/oblimin"]
    np.testing.assert_allclose(efa.loadings_.to_numpy(), mat(want["loadings"]).to_numpy(), rtol=0, atol=1e-4)
    np.testing.assert_allclose(efa.fit_["chisq"], want["chisq"], rtol=1e-4)


@needs_fast_path
def test_iteration_limit_with_a_large_gradient_falls_back(monkeypatch):
    real = fx._setulb_loop
    monkeypatch.setattr(fx, "_setulb_loop", lambda fg, x0, lo, hi: real(fg, x0, lo, hi, maxiter=2))
    ex = fx.extract(_corr("hs"), 3, "minres")
    assert ex.converged
    assert "task 5, 504" in ex.fallback
    ref = fx.extract(_corr("hs"), 3, "minres")
    np.testing.assert_allclose(ex.psi, ref.psi, rtol=0, atol=1e-4)


def test_no_minimum_found_warns_with_the_projected_gradient(monkeypatch):
    monkeypatch.setattr(fx, "KKT_TOL", 0.0)  # a tolerance no optimiser can meet
    df = _exact_population_data(POP_R)
    with pytest.warns(ConvergenceWarning, match=r"did not converge: no minimum found: projected gradient .*"
                      r"minimised with the exact gradient"):
        with pytest.warns(HeywoodWarning):
            efa = EFA(1, method="minres").fit(df)
    assert not efa.converged_


def test_clean_psych_run_is_left_alone():
    # an ordinary (interior) solution is psych's L-BFGS-B stop, with no fallback
    efa = EFA(3).fit(_hs())
    assert efa.optimizer_fallback_ is None
    want = GOLD["hs/minres/oblimin"]
    np.testing.assert_allclose(efa.loadings_.to_numpy(), mat(want["loadings"]).to_numpy(), rtol=0, atol=1e-5)


# --------------------------------------------------------------------------- parallel analysis
def test_one_factor_values_use_the_same_fallback():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = fx.extract(POP_R, 1, "minres")
    assert ex.fallback is not None
    np.testing.assert_allclose(fx.one_factor_values(POP_R), ex.values, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- other CPUs
_KERNEL_SCRIPT = r"""
import json, sys, warnings
import numpy as np, pandas as pd
import custval
from custval._stats import factor_extraction as fx
warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
efa = custval.EFA(4).fit(df)
r = np.array(json.loads(sys.argv[2]))
print(json.dumps({"loadings": efa.loadings_.to_numpy().tolist(), "chisq": float(efa.fit_["chisq"]),
                  "psi1": fx.extract(r, 1, "minres").psi.tolist()}))
"""


def _openblas_dynamic():
    cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return "openblas" in str(cfg.get("name", "")).lower() and "DYNAMIC_ARCH" in str(cfg.get("openblas configuration", ""))


@pytest.mark.skipif(not _openblas_dynamic(), reason="numpy is not linked to a DYNAMIC_ARCH OpenBLAS")
@pytest.mark.parametrize("kernel", ["Sandybridge", "Prescott"])
def test_same_heywood_solutions_under_another_openblas_kernel(kernel, tmp_path):
    data = GOLDEN_DIR / "efa" / "privacy_tracker.csv"
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel,
           "PYTHONPATH": os.pathsep.join([str(GOLDEN_DIR.parents[1]), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", _KERNEL_SCRIPT, str(data), json.dumps(POP_R.tolist())],
                         env=env, capture_output=True, text=True, check=True, timeout=300)
    other = json.loads(out.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        efa = custval.EFA(4).fit(pd.read_csv(data))
        psi1 = fx.extract(POP_R, 1, "minres").psi
    np.testing.assert_allclose(other["loadings"], efa.loadings_.to_numpy(), rtol=0, atol=1e-7)
    np.testing.assert_allclose(other["chisq"], efa.fit_["chisq"], rtol=1e-7)
    np.testing.assert_allclose(other["psi1"], psi1, rtol=0, atol=1e-8)
