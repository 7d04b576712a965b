"""custval.alignment against sirt's invariance.alignment (tests/r/alignment.R), by simulation
against known firm means, and its result object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval._sem import alignment as core
from custval.align import AlignmentResult, alignment, alignment_plot
from custval.cfa import CFA
from custval.exceptions import InvarianceWarning

GOLDEN = Path(__file__).parent / "golden" / "alignment"
SIRT = json.loads((GOLDEN / "sirt.json").read_text())
ITEMS6 = [f"cv{i}" for i in range(1, 7)]
SYNTAX6 = "value =~ " + " + ".join(ITEMS6)


def _mat(m):
    return np.array(m["values"], dtype=float)


# --------------------------------------------------------------------------- sirt: the optimiser
@pytest.mark.parametrize("case", ["activity", "inv4gr", "firms", "inv4gr_sirt_defaults"])
def test_alignment_optimum_is_sirts_on_the_same_loadings_and_intercepts(case):
    c = SIRT[case]
    lam, nu, n = _mat(c["lambda"]), _mat(c["nu"]), np.array(c["n"])
    sol = core.align(lam, nu, n, method="FIXED", power=0.5, eps=c.get("eps", 0.01))
    assert sol.converged and sol.n_at_best >= 1
    np.testing.assert_allclose(sol.alpha, c["alpha0"], atol=1e-6)
    np.testing.assert_allclose(sol.psi, c["psi0"], atol=1e-6)
    # the same loss, on sirt's scale, and the loss sirt reaches is not below ours
    np.testing.assert_allclose(core.sirt_fopt(sol.fopt, n), c["fopt"], rtol=1e-9)
    at_sirt = core.loss(lam, nu, n, np.array(c["alpha0"]), np.array(c["psi0"]), eps=c.get("eps", 0.01))
    assert sol.fopt <= at_sirt * (1 + 1e-12)
    if case == "inv4gr_sirt_defaults":  # sirt's documented call: a second, worse local optimum exists
        assert sol.n_at_best < sol.n_starts and (sol.values > sol.fopt * 1.01).any()
        return
    u = lam / sol.psi[:, None]
    np.testing.assert_allclose(u, _mat(c["lambda_aligned"]), atol=1e-6)
    np.testing.assert_allclose(nu - sol.alpha[:, None] * u, _mat(c["nu_aligned"]), atol=1e-6)
    _, _, r2_l, r2_n = core.r2(lam, nu, sol.alpha, sol.psi)
    assert r2_l == pytest.approx(c["R2"]["loadings"], abs=1e-7)
    assert r2_n == pytest.approx(c["R2"]["intercepts"], abs=1e-7)


def test_second_derivatives_are_those_of_the_loss():
    c = SIRT["firms"]
    lam, nu, n = _mat(c["lambda"]), _mat(c["nu"]), np.array(c["n"])
    G, n_it = lam.shape
    rng = np.random.default_rng(3)
    alpha, psi = rng.normal(0, 0.3, G), rng.uniform(0.8, 1.2, G)
    W = core._weights(n)
    Hxx, Hxt = core._hessians(lam, nu, n, alpha, psi, 0.5, 0.01)

    def grad(a, p, lm=lam, nv=nu):
        _, ga, gp = core._grad_full(lm, nv, W, a, p, 0.5, 0.01)
        return np.concatenate([ga, gp])

    h = 1e-6
    num = np.empty_like(Hxx)
    for k in range(2 * G):
        e = np.zeros(2 * G)
        e[k] = h
        num[:, k] = (grad(alpha + e[:G], psi + e[G:]) - grad(alpha - e[:G], psi - e[G:])) / (2 * h)
    np.testing.assert_allclose(Hxx, num, rtol=1e-5, atol=1e-3 * np.abs(Hxx).max() * 1e-3)
    for g, i in ((0, 0), (4, 3), (11, 5)):
        for which, col in (("lam", g * 2 * n_it + i), ("nu", g * 2 * n_it + n_it + i)):
            lp, lm_, np_, nm = lam.copy(), lam.copy(), nu.copy(), nu.copy()
            if which == "lam":
                lp[g, i] += h
                lm_[g, i] -= h
            else:
                np_[g, i] += h
                nm[g, i] -= h
            d = (grad(alpha, psi, lp, np_) - grad(alpha, psi, lm_, nm)) / (2 * h)
            np.testing.assert_allclose(Hxt[:, col], d, rtol=1e-5, atol=1e-6 * np.abs(Hxt).max())


# --------------------------------------------------------------------------- sirt: end to end
@pytest.mark.parametrize("case,group", [("firms", "firm"), ("inv4gr", "group")])
def test_alignment_from_data_matches_lavaan_configural_and_sirt(case, group):
    c = SIRT[case]
    df = pd.read_csv(GOLDEN / f"{case}.csv")
    res = alignment(df, c["syntax"], group=group)
    groups = [str(g) for g in c["groups"]]
    assert list(res.means["group"]) == groups and res.reference == groups[0]
    conf = res.configural.pivot(index="group", columns="item", values="loading").loc[groups]
    np.testing.assert_allclose(conf.to_numpy(), _mat(c["lambda"]), atol=1e-5)
    conf_nu = res.configural.pivot(index="group", columns="item", values="intercept").loc[groups]
    np.testing.assert_allclose(conf_nu.to_numpy(), _mat(c["nu"]), atol=1e-5)
    np.testing.assert_allclose(res.means["estimate"], c["alpha0"], atol=1e-5)
    np.testing.assert_allclose(np.sqrt(res.variances["estimate"]), c["psi0"], atol=1e-5)
    # standard errors: sirt's vcov= (numerical derivatives, step 1e-4) against analytic ones
    G = len(groups)
    se_alpha = np.array([c["se"][f"alpha{k}"] for k in range(2, G + 1)])
    se_psi = np.array([c["se"][f"psi{k}"] for k in range(2, G + 1)])
    np.testing.assert_allclose(res.means["se"].to_numpy()[1:], se_alpha, rtol=1e-3)
    sd = np.sqrt(res.variances["estimate"].to_numpy()[1:])
    np.testing.assert_allclose(res.variances["se"].to_numpy()[1:] / (2 * sd), se_psi, rtol=1e-3)
    assert res.means["fixed"].tolist() == [True] + [False] * (G - 1)
    assert res.r2_overall["r2_loadings"].iloc[0] == pytest.approx(c["R2"]["loadings"], abs=1e-5)


# --------------------------------------------------------------------------- simulation
def _exact_firms(seed=11, G=15, n=300, shifts=True):
    """Firms whose sample means and (ML) covariances equal the model's exactly, so that the
    configural estimates are the true parameters and any error is the method's."""
    rng = np.random.default_rng(seed)
    alpha = np.r_[0.0, rng.normal(0, 0.4, G - 1)]
    var = np.r_[1.0, rng.uniform(0.7, 1.4, G - 1)]
    lam = np.tile([0.8, 0.7, 0.9, 0.75, 0.6, 0.85], (G, 1))
    nu = np.tile([4.5, 4.2, 4.8, 4.0, 4.4, 4.6], (G, 1))
    if shifts:  # five non-invariant parameters in five firms
        nu[3, 1] += 0.8
        nu[8, 4] -= 0.7
        nu[12, 0] += 0.6
        lam[5, 2] = 0.4
        lam[10, 3] = 1.3
    theta = np.array([0.36, 0.4, 0.3, 0.35, 0.45, 0.33])
    frames = []
    for g in range(G):
        mu = nu[g] + lam[g] * alpha[g]
        sigma = var[g] * np.outer(lam[g], lam[g]) + np.diag(theta)
        z = rng.normal(size=(n, 6))
        z -= z.mean(axis=0)
        z = z @ np.linalg.inv(np.linalg.cholesky(z.T @ z / n)).T  # exactly mean 0, cov I (ML)
        y = mu + z @ np.linalg.cholesky(sigma).T
        frames.append(pd.DataFrame(y, columns=ITEMS6).assign(firm=f"Firm {g + 1:02d}"))
    return pd.concat(frames, ignore_index=True), alpha, var, lam, nu


def test_firm_means_are_recovered_better_than_under_scalar_invariance():
    df, alpha, var, lam, nu = _exact_firms()
    res = alignment(df, SYNTAX6, group="firm")
    err_align = res.means["estimate"].to_numpy() - alpha
    np.testing.assert_allclose(res.variances["estimate"], var, rtol=0.08)
    scalar = CFA(SYNTAX6, group="firm", group_equal=("loadings", "intercepts")).fit(df)
    pe = scalar.params_
    m = pe[(pe["op"] == "~1") & (pe["lhs"] == "value")]["est"].to_numpy()
    v = pe[(pe["op"] == "~~") & (pe["lhs"] == "value") & (pe["rhs"] == "value")]["est"].to_numpy()
    err_scalar = m / np.sqrt(v[0]) - alpha  # on the first firm's scale, as the aligned means
    rmse_a = np.sqrt(np.mean(err_align ** 2))
    rmse_s = np.sqrt(np.mean(err_scalar ** 2))
    assert rmse_a < 0.02, rmse_a
    assert rmse_a < rmse_s / 3, (rmse_a, rmse_s)
    # the firms with a shifted intercept are where scalar invariance goes wrong
    for g in (3, 8, 12):
        assert abs(err_align[g]) < abs(err_scalar[g]) / 3
    # the five non-invariant parameters, and only they, are flagged
    inv = res.invariance
    flagged = set(map(tuple, inv.loc[~inv["invariant"], ["item", "parameter", "group"]].to_numpy()))
    assert flagged == {("cv2", "intercept", "Firm 04"), ("cv5", "intercept", "Firm 09"),
                       ("cv1", "intercept", "Firm 13"), ("cv3", "loading", "Firm 06"),
                       ("cv4", "loading", "Firm 11")}
    comp = res.comparable()
    assert comp["comparable"].all() and comp["noninvariant"].sum() == 5
    # R²: near 1 for the invariant items, lower where a firm deviates
    r2 = res.r2.set_index("item")
    assert r2.loc["cv6", "r2_intercept"] > 0.99 and r2.loc["cv6", "r2_loading"] > 0.99
    assert r2.loc["cv2", "r2_intercept"] < r2.loc["cv6", "r2_intercept"]


def test_free_alignment_estimates_every_mean_when_loadings_differ():
    df, alpha, var, lam, nu = _exact_firms()
    free = alignment(df, SYNTAX6, group="firm", method="FREE")
    fixed = alignment(df, SYNTAX6, group="firm")
    assert not free.means["fixed"].any() and free.variances["fixed"].sum() == 1
    # differences from the reference firm are recovered (its own mean is estimated too)
    d = free.means["estimate"].to_numpy()
    np.testing.assert_allclose(d - d[0], alpha, atol=0.05)
    assert free.means["se"].gt(0).all()
    assert free != fixed


def test_free_alignment_warns_when_the_means_are_not_identified():
    G, n_it = 6, 5
    lam = np.full((G, n_it), 0.7)  # exactly invariant loadings: a common shift of the means is free
    rng = np.random.default_rng(0)
    nu = 3 + 0.7 * rng.normal(0, 0.3, G)[:, None] + np.zeros((G, n_it))
    n = np.full(G, 200.0)
    sol = core.align(lam, nu, n, method="FREE")
    from custval.align import _check_free_identified

    with pytest.warns(InvarianceWarning, match="nearly unidentified.*FIXED"):
        _check_free_identified(lam, nu, n, sol, 0.5, 0.01, "value")


def test_same_seed_same_result_and_starts_agree():
    df = pd.read_csv(GOLDEN / "firms.csv")
    a = alignment(df, SYNTAX6, group="firm", seed=5)
    b = alignment(df, SYNTAX6, group="firm", seed=5)
    assert a == b and hash(a) == hash(b)
    c = alignment(df, SYNTAX6, group="firm", seed=6, starts=4)
    np.testing.assert_allclose(c.means["estimate"], a.means["estimate"], atol=1e-9)
    assert a.loss["starts"].iloc[0] == 10 and c.loss["starts"].iloc[0] == 4


_BLAS_SCRIPT = """
import json, sys, numpy as np
from custval._sem import alignment as core
c = json.load(open(sys.argv[1]))["firms"]
sol = core.align(np.array(c["lambda"]["values"]), np.array(c["nu"]["values"]), np.array(c["n"]))
print(json.dumps([float(x) for x in np.r_[sol.alpha, sol.psi, sol.values]]))
"""


def test_optimum_does_not_depend_on_the_blas_kernel():
    # L-BFGS-B's vector updates go through BLAS, so the last bits may differ between kernels;
    # the loss and gradient are element-wise numpy and the best start is chosen with a relative
    # tolerance of 1e-10, so the optimum found is the same to ~1e-12
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    out = []
    for kernel in (None, "Prescott"):
        e = dict(env)
        if kernel:
            e["OPENBLAS_CORETYPE"] = kernel
        r = subprocess.run([sys.executable, "-c", _BLAS_SCRIPT, str(GOLDEN / "sirt.json")], env=e,
                           capture_output=True, text=True, check=True)
        out.append(np.array(json.loads(r.stdout)))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-11, atol=1e-12)


def test_reference_group_and_loss_options():
    df = pd.read_csv(GOLDEN / "firms.csv")
    base = alignment(df, SYNTAX6, group="firm")
    res = alignment(df, SYNTAX6, group="firm", reference="F05")
    m = res.means.set_index("group")
    assert res.reference == "F05" and m.loc["F05", "estimate"] == 0 and m.loc["F05", "fixed"]
    assert m["fixed"].sum() == 1 and res.variances.set_index("group").loc["F05", "estimate"] == 1
    # FIXED alignment is not exactly equivariant in the reference group, but close to it here
    b = base.means.set_index("group")["estimate"]
    sd05 = np.sqrt(base.variances.set_index("group").loc["F05", "estimate"])
    np.testing.assert_allclose(m["estimate"], (b - b["F05"]) / sd05, atol=0.06)
    # sirt's default eps = .001 moves the means little; the loss is stated
    small = alignment(df, SYNTAX6, group="firm", eps=0.001)
    assert "0.001" in small.convention and small.eps == 0.001 and small.loss["loss"].iloc[0] < base.loss["loss"].iloc[0]
    np.testing.assert_allclose(small.means["estimate"], base.means["estimate"], atol=0.02)


# --------------------------------------------------------------------------- result object
def test_result_frames_text_html_and_figure(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    df = pd.read_csv(GOLDEN / "firms.csv")
    res = custval.alignment(df, SYNTAX6, group="firm")
    assert isinstance(res, AlignmentResult)
    tf = res.to_frame()
    assert list(tf.columns) == ["construct", "group", "parameter", "estimate", "se", "ci_low", "ci_high",
                                "p_value", "n", "fixed", "noninvariant"]
    assert len(tf) == 2 * 12 and set(tf["parameter"]) == {"mean", "variance"}
    np.testing.assert_allclose(tf["ci_high"] - tf["estimate"], 1.959963984540054 * tf["se"], rtol=1e-12)
    assert res.n_rows == res.n_used == len(df) and sum(res.n_per_group.values()) == len(df)
    text = res.summary()
    assert "Approximate invariance" in text and "R² loadings" in text and "sirt::invariance.alignment" in text
    assert "<table" in res._repr_html_() and "Approximate invariance" in res._repr_html_()
    tab = res.invariance_table()
    assert tab.shape == (12, 13) and (tab["n_invariant"] <= 12).all()
    assert res.aligned_loadings.shape == (12, 6)
    ax = alignment_plot(res)
    assert len(ax.get_yticklabels()) == 12 and "aligned means" in ax.get_title(loc="left")
    ax.figure.savefig(tmp_path / "align.png")
    assert (tmp_path / "align.png").stat().st_size > 10_000
    assert res.plot(sort=False).get_yticklabels()[0].get_text().startswith("F01")


def test_two_constructs_are_aligned_one_by_one():
    rng = np.random.default_rng(4)
    frames = []
    for g in range(5):
        e1, e2 = rng.normal(0.2 * g, 1, 250), rng.normal(-0.1 * g, 1, 250)
        y = np.c_[e1[:, None] * [0.8, 0.7, 0.9] + rng.normal(0, 0.6, (250, 3)),
                  e2[:, None] * [0.6, 0.8, 0.7] + rng.normal(0, 0.6, (250, 3))] + 3
        frames.append(pd.DataFrame(y, columns=["a1", "a2", "a3", "b1", "b2", "b3"]).assign(firm=f"f{g}"))
    df = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = alignment(df, "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", group="firm")
    assert list(res.loss["construct"]) == ["A", "B"]
    m = res.means.pivot(index="group", columns="construct", values="estimate")
    assert m["A"].is_monotonic_increasing and m["B"].is_monotonic_decreasing
    assert np.isnan(res.aligned_loadings.loc[("A", "f1"), "b1"])
