"""custval.pls.micom, mga and plspredict: seminr's numbers on the same permutations, resamples
and folds (tests/r/pls_groups.R), and simulations with a known truth."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval import PLS, load_dataset
from custval._sem import pls_groups as _g
from custval.exceptions import ConvergenceWarning
from custval.pls import MGAResult, MICOMResult, PLSPredictResult, mga, micom, plspredict

GOLDEN = Path(__file__).resolve().parent / "golden" / "pls" / "seminr_groups.json"


@pytest.fixture(scope="module")
def golden():
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mobi():
    return load_dataset("mobi", with_instrument=False).data


# --------------------------------------------------------------------------- seminr on the same draws
def test_micom_matches_seminr_weights_on_the_same_permutations(golden, mobi):
    m = golden["micom"]
    perms = np.array(m["permutations"])
    res = micom(mobi, m["syntax"], group=mobi["CUEX1"] >= 8, permutations=perms)
    assert isinstance(res, MICOMResult) and res.groups == (False, True) and res.seed is None
    assert list(res.compositional.index.get_level_values("construct")) == m["constructs"]
    np.testing.assert_allclose(res.compositional["c"], m["observed"]["c"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.means["estimate"], m["observed"]["mean_diff"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.variances["estimate"], m["observed"]["log_var_ratio"], rtol=0, atol=1e-12)
    # the reference distributions from seminr's estimates in every permuted grouping
    pc, c_obs = np.array(m["perm_c"]), np.array(m["observed"]["c"])
    np.testing.assert_array_equal(res.compositional["p_value"], (pc <= c_obs).mean(axis=0))
    np.testing.assert_allclose(res.compositional["c_quantile"], np.quantile(pc, 0.05, axis=0), atol=1e-12)
    md = np.array(m["perm_mean_diff"])
    np.testing.assert_allclose(res.means[["ci_low", "ci_high"]].to_numpy(),
                               np.quantile(md, [0.025, 0.975], axis=0).T, atol=1e-12)
    d = np.array(m["observed"]["mean_diff"])
    np.testing.assert_array_equal(res.means["p_value"], (md > abs(d)).mean(0) + (md < -abs(d)).mean(0))
    lv = np.array(m["perm_log_var_ratio"])
    np.testing.assert_allclose(res.variances[["ci_low", "ci_high"]].to_numpy(),
                               np.quantile(lv, [0.025, 0.975], axis=0).T, atol=1e-12)
    # the verdict follows from the three steps
    v = res.verdict
    expect = np.where(~v["compositional"], "none",
                      np.where(v["equal_means"] & v["equal_variances"], "full", "partial"))
    assert list(v["invariance"]) == list(expect)
    assert res.to_frame() is res.verdict and "MICOM" in res.summary() and "<table" in res._repr_html_()


def test_mga_permutation_matches_seminr_path_differences(golden, mobi):
    m = golden["micom"]
    res = mga(mobi, m["syntax"], group=mobi["CUEX1"] >= 8, permutations=np.array(m["permutations"]))
    assert isinstance(res, MGAResult)
    assert [tuple(i[2:]) for i in res.paths.index] == [tuple(p) for p in m["paths"]]
    np.testing.assert_allclose(res.paths["estimate_1"], m["observed"]["paths_1"], atol=1e-12)
    np.testing.assert_allclose(res.paths["estimate_2"], m["observed"]["paths_2"], atol=1e-12)
    np.testing.assert_allclose(res.paths["estimate"], m["observed"]["path_diff"], atol=1e-12)
    pd_, d = np.array(m["perm_path_diff"]), np.array(m["observed"]["path_diff"])
    np.testing.assert_array_equal(res.paths["p_value"], (pd_ >= abs(d)).mean(0) + (pd_ <= -abs(d)).mean(0))


def test_henseler_p_is_seminrs_pls_mga_p(golden, mobi):
    h = golden["henseler"]
    got = _g.henseler_p(np.array(h["draws_1"]), np.array(h["draws_2"]))
    np.testing.assert_allclose(got, h["pls_mga_p"], rtol=0, atol=1e-15)
    # the draws are seminr's bootstrap of each group; custval's bootstrap reproduces them from the indices
    syntax = golden["micom"]["syntax"]
    grp = (mobi["CUEX1"] >= 8).to_numpy()
    for key, rows in (("1", ~grp), ("2", grp)):
        boot = PLS(syntax).fit(mobi[rows].reset_index(drop=True)).bootstrap(
            indices=np.array(h[f"indices_{key}"]), ci=0.95)
        np.testing.assert_allclose(boot.paths["boot_mean"], np.array(h[f"draws_{key}"]).mean(axis=0), atol=1e-12)


def test_henseler_p_counts_every_pair_of_draws():
    rng = np.random.default_rng(3)
    b1, b2 = rng.normal(0.3, 0.1, (37, 2)), rng.normal(0.1, 0.1, (23, 2))
    b2[:5] = b2[0]  # ties
    brute = [1 - np.mean((2 * b1[:, j].mean() - b1[:, j])[:, None] - 2 * b2[:, j].mean() + b2[None, :, j] > 0)
             for j in range(2)]
    np.testing.assert_allclose(_g.henseler_p(b1, b2), brute, atol=1e-15)


@pytest.mark.parametrize("technique", ["earliest", "direct"])
def test_plspredict_matches_seminr_predict_pls_on_its_folds(golden, mobi, technique):
    pc = golden["predict"][technique]
    order = np.array(pc["order"])
    folds = np.empty(order.size, dtype=int)
    folds[order] = _g.r_cut(order.size, 10)  # seminr: cut(seq(1, n), 10) on data[order, ]
    res = plspredict(mobi, golden["micom"]["syntax"], folds=folds, technique=technique, benchmark="seminr")
    assert isinstance(res, PLSPredictResult) and res.folds == 10 and res.repetitions == 1
    np.testing.assert_allclose(res.predictions["PLS"][pc["items"]], pc["pls"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.predictions["LM"][pc["items"]], pc["lm"], rtol=0, atol=1e-10)
    # metrics from the predictions
    y = mobi[pc["items"]].to_numpy()
    e = y - np.array(pc["pls"])
    np.testing.assert_allclose(res.metrics["pls_rmse"], np.sqrt((e**2).mean(0)), atol=1e-10)
    np.testing.assert_allclose(res.metrics["pls_mae"], np.abs(e).mean(0), atol=1e-10)


def test_r_cut_is_rs_cut():
    # R: cut(seq(1, 250), breaks = 10, labels = FALSE) gives 25 rows a fold; 7 rows in 3 folds: 3, 2, 2
    assert np.bincount(_g.r_cut(250, 10)).tolist() == [25] * 10
    assert _g.r_cut(7, 3).tolist() == [0, 0, 0, 1, 1, 2, 2]


def test_plspredict_q2_against_training_means_and_exogenous_benchmark(mobi):
    syntax = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image"
    a = plspredict(mobi, syntax, folds=5, repetitions=3, seed=4)
    b = plspredict(mobi, syntax, folds=5, repetitions=3, seed=4, benchmark="seminr")
    # one endogenous construct: both benchmarks regress on the same (exogenous) items
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.exogenous_items == ("IMAG1", "IMAG2", "IMAG3")
    # Q2predict from the fold means, recomputed with a plain loop
    folds = _g.fold_labels(np.random.default_rng(4), len(mobi), 5, 3)
    y = mobi[["CUSL1", "CUSL2", "CUSL3"]].to_numpy(float)
    naive = np.zeros((3, *y.shape))
    for r in range(3):
        for f in range(5):
            naive[r, folds[r] == f] = y[folds[r] != f].mean(axis=0)
    yhat = a.predictions["PLS"].to_numpy()
    q2 = 1 - ((y - yhat) ** 2).sum(0) / ((y - naive.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(a.metrics["pls_q2_predict"], q2, atol=1e-12)
    # a per-fold refit with PLS().fit gives the same predictions
    fit_pred = np.zeros((3, *y.shape))
    items = ["IMAG1", "IMAG2", "IMAG3"]
    for r in range(3):
        for f in range(5):
            tr = mobi[folds[r] != f]
            fit = PLS(syntax).fit(tr)
            zt = (mobi.loc[folds[r] == f, items] - tr[items].mean()) / tr[items].std()
            s = zt.to_numpy() @ fit.weights_.loc[items, "Image"].to_numpy() * fit.paths_.at["Image", "Loyalty"]
            lam = fit.loadings_.loc[["CUSL1", "CUSL2", "CUSL3"], "Loyalty"].to_numpy()
            ys = tr[["CUSL1", "CUSL2", "CUSL3"]]
            fit_pred[r, folds[r] == f] = np.outer(s, lam) * ys.std().to_numpy() + ys.mean().to_numpy()
    np.testing.assert_allclose(yhat, fit_pred.mean(0), atol=1e-10)


def test_mga_batched_equals_a_refit_loop(mobi):
    syntax = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"
    grp = (mobi["CUSCO"] >= 7).to_numpy()
    rng = np.random.default_rng(9)
    perms = np.stack([rng.permutation(len(mobi)) for _ in range(15)])
    res = mga(mobi, syntax, group=grp, permutations=perms)
    diffs = []
    for p in perms:
        lab = grp[p]
        b = [PLS(syntax).fit(mobi[lab == v]).paths_.at["Image", "Loyalty"] for v in (False, True)]
        diffs.append(b[0] - b[1])
    d = res.paths["estimate"].iloc[0]
    diffs = np.array(diffs)
    assert res.paths["p_value"].iloc[0] == np.mean(np.abs(diffs) >= abs(d))


# --------------------------------------------------------------------------- simulations with a known truth
def _simulate(rng, n, *, beta=0.4, loadings=(0.8, 0.8, 0.8)):
    x = rng.standard_normal(n)
    y = beta * x + np.sqrt(1 - beta**2) * rng.standard_normal(n)
    cols = {}
    for name, f in (("x", x), ("y", y)):
        for i, lam in enumerate(loadings, 1):
            cols[f"{name}{i}"] = lam * f + np.sqrt(1 - lam**2) * rng.standard_normal(n)
    return pd.DataFrame(cols)


SIM_MODEL = "X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X"


def test_micom_rejects_at_about_its_nominal_rate_under_invariance():
    rng = np.random.default_rng(2026)
    rejected = []
    for rep in range(100):
        d = pd.concat([_simulate(rng, 150), _simulate(rng, 150)], ignore_index=True)
        res = micom(d, SIM_MODEL, group=np.repeat(["a", "b"], 150), permutations=199, seed=rep)
        rejected.append(~res.compositional["invariant"].to_numpy())
    rate = np.mean(rejected)
    assert 0.01 <= rate <= 0.10, rate


def test_micom_detects_a_weight_difference():
    rng = np.random.default_rng(7)
    hits = []
    for rep in range(20):
        d = pd.concat([_simulate(rng, 250, loadings=(0.9, 0.8, 0.3)),
                       _simulate(rng, 250, loadings=(0.3, 0.8, 0.9))], ignore_index=True)
        res = micom(d, SIM_MODEL, group=np.repeat([1, 2], 250), permutations=199, seed=rep)
        hits.append(res.verdict.loc[(1, 2, "X"), "invariance"] == "none")
    assert np.mean(hits) >= 0.9


@pytest.mark.parametrize("method", ["permutation", "henseler", "welch"])
def test_mga_finds_a_path_difference_of_point_3_with_two_groups_of_250(method):
    rng = np.random.default_rng(11)
    diffs, hits, null_hits = [], [], []
    with warnings.catch_warnings():
        # a bootstrap resample may not converge (weak inner relations); it is excluded with a warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        for rep in range(20):
            d = pd.concat([_simulate(rng, 250, beta=0.3), _simulate(rng, 250, beta=0.6)], ignore_index=True)
            res = mga(d, SIM_MODEL, group=np.repeat(["low", "high"], 250), method=method, permutations=299,
                      n_boot=299, seed=rep)
            row = res.paths.loc[("high", "low", "X", "Y")]
            diffs.append(row["estimate"])  # high - low
            hits.append(row["p_value"] < 0.05)
            d0 = pd.concat([_simulate(rng, 250, beta=0.3), _simulate(rng, 250, beta=0.3)], ignore_index=True)
            r0 = mga(d0, SIM_MODEL, group=np.repeat(["a", "b"], 250), method=method, permutations=299,
                     n_boot=299, seed=rep)
            null_hits.append(r0.paths["p_value"].iloc[0] < 0.05)
    # truth 0.3 between the latent variables; composites attenuate it (composite reliability about .84 here)
    assert 0.18 < np.mean(diffs) < 0.32
    assert np.mean(hits) >= 0.8
    assert np.mean(null_hits) <= 0.2


# --------------------------------------------------------------------------- cSEM's testMICOM / testMGD
CSEM = GOLDEN.with_name("csem_groups.json")


@pytest.fixture(scope="module")
def csem(mobi):
    g = json.loads(CSEM.read_text(encoding="utf-8"))
    data = mobi.iloc[g["sorted_rows"]].reset_index(drop=True)  # cSEM ran on data sorted by group
    return g, data, np.where(data["CUEX1"] >= 8, "B", "A")


def test_micom_reproduces_csem_testmicom_on_its_permutations(csem):
    g, data, grp = csem
    step2 = micom(data, g["syntax"], group=grp, permutations=np.array(g["step2_permutations"]), pooled="raw")
    assert list(step2.compositional.index.get_level_values("construct")) == g["constructs"]
    # cSEM stops by its own rule (tolerance 1e-12 here): weights agree to ~1e-10
    np.testing.assert_allclose(step2.compositional["c"], g["c"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(step2.compositional["p_value"], g["c_p"], rtol=0, atol=1e-12)
    # custval's default builds the composites from standardised pooled data: c differs from cSEM's
    std = micom(data, g["syntax"], group=grp, permutations=np.array(g["step2_permutations"]))
    assert np.abs(std.compositional["c"].to_numpy() - g["c"]).max() > 1e-3
    # step 3: cSEM draws new permutations after those of step 2
    step3 = micom(data, g["syntax"], group=grp, permutations=np.array(g["step3_permutations"]))
    np.testing.assert_allclose(step3.means["estimate"], g["mean_diff"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(step3.variances["estimate"], g["log_var_ratio"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(step3.means["p_value"], g["mean_p"], rtol=0, atol=1e-12)  # counts / 100
    np.testing.assert_allclose(step3.variances["p_value"], g["var_p"], rtol=0, atol=1e-12)


def test_mga_permutation_reproduces_csem_chin_on_group_standardised_data(csem):
    g, data, grp = csem
    perms = np.array(g["mgd_permutations"])
    names = {f"{t} ~ {s}": j for j, (s, t) in enumerate(PLS(g["syntax"]).fit(data).paths_list_)}
    order = [names[nm] for nm in g["chin_names"][:4]]
    res = mga(data, g["syntax"], group=grp, permutations=perms)
    np.testing.assert_allclose(res.paths["estimate"].to_numpy()[order], g["chin_diff"][:4], rtol=0, atol=1e-9)
    # testMGD permutes the rows of the group-wise standardised data; so does custval when given them
    items = list(PLS(g["syntax"]).fit(data).items_)
    z = data.astype({c: float for c in items})
    for v in ("A", "B"):
        z.loc[grp == v, items] = (data.loc[grp == v, items] - data.loc[grp == v, items].mean()) / \
            data.loc[grp == v, items].std()
    same = mga(z, g["syntax"], group=grp, permutations=perms)
    np.testing.assert_allclose(same.paths["p_value"].to_numpy()[order], g["chin_p"][:4], rtol=0, atol=1e-12)
    assert not np.array_equal(res.paths["p_value"].to_numpy()[order], g["chin_p"][:4])


def test_cvpat_is_a_paired_t_test_of_the_losses(mobi):
    from scipy import stats

    syntax = "Image =~ IMAG1 + IMAG2 + IMAG3\nExpectation =~ CUEX1 + CUEX2 + CUEX3\n" \
             "Loyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image + Expectation"
    res = plspredict(mobi, syntax, folds=10, repetitions=3, seed=2)
    y = mobi[["CUSL1", "CUSL2", "CUSL3"]].to_numpy(float)
    loss_pls = ((y - res.predictions["PLS"].to_numpy()) ** 2).mean(axis=1)
    loss_lm = ((y - res.predictions["LM"].to_numpy()) ** 2).mean(axis=1)
    t = stats.ttest_rel(loss_lm, loss_pls, alternative="greater")
    row = res.cvpat.loc["LM"]
    assert row["t"] == pytest.approx(t.statistic, abs=1e-10) and row["p_value"] == pytest.approx(t.pvalue, abs=1e-12)
    assert row["estimate"] == pytest.approx((loss_lm - loss_pls).mean(), abs=1e-12) and row["df"] == len(mobi) - 1
    two = stats.ttest_rel(loss_lm, loss_pls)
    assert row["p_two_sided"] == pytest.approx(two.pvalue, abs=1e-12)
    # IA: the naive benchmark whose errors define Q2predict
    ia = res.cvpat.loc["IA"]
    assert ia["loss_benchmark"] > ia["loss_pls"] and ia["t"] > 2
    assert "CVPAT vs IA" in res.summary()


def test_three_groups_give_every_pair_and_single_items_are_invariant(mobi, capsys):
    syntax = "Image =~ IMAG1 + IMAG2 + IMAG3\nComplaints =~ CUSCO\nLoyalty =~ CUSL1 + CUSL3\n" \
             "Loyalty ~ Image + Complaints"
    segment = pd.cut(mobi["CUEX1"], [0, 6, 8, 10], labels=["low", "mid", "high"]).astype(str)
    res = micom(mobi, syntax, group=segment, permutations=60, seed=3, progress=True)
    assert res.groups == ("high", "low", "mid")
    pairs = sorted(set(res.verdict.index.droplevel("construct")))
    assert pairs == [("high", "low"), ("high", "mid"), ("low", "mid")]
    single = res.compositional.xs("Complaints", level="construct")
    assert (single["c"] == 1).all() and (single["p_value"] == 1).all() and single["invariant"].all()
    assert res.configural["n"].sum() == len(mobi)
    assert "MICOM permutations" in capsys.readouterr().err  # the progress bar
    m = mga(mobi, syntax, group=segment, method="welch", n_boot=50, seed=3)
    assert len(m.paths) == 3 * 2 and set(m.paths["df"]) <= set(range(1, 250))


def test_improper_plsc_resamples_are_excluded_with_a_warning(mobi):
    # PLSc with a weak two-item factor: some bootstrap resamples have a negative rho_A (NaN paths)
    syntax = "Image <~ IMAG1 + IMAG2 + IMAG3\nExpectation =~ CUEX1 + CUEX2 + CUEX3\n" \
             "Loyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image + Expectation"
    est = PLS(syntax, consistent=True, weighting="factorial")
    with pytest.warns(ConvergenceWarning, match=r"bootstrap resamples of group False were excluded"):
        res = mga(mobi, est, group=mobi["CUSCO"] >= 7, method="henseler", n_boot=100, seed=0)
    assert np.isfinite(res.paths[["boot_mean_1", "boot_mean_2", "p_value"]].to_numpy()).all()
    assert (res.paths["n_boot_1"] < 100).all() and (res.paths["n_boot_2"] <= 100).all()
