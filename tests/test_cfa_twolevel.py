"""Two-level CFA (``level:`` blocks with ``cluster=``) against lavaan 0.6-14.

Goldens: tests/r/cfa_twolevel.R (simulated nested data with known truth, written as
CSV fixtures: balanced clusters with integer firm ids, unbalanced clusters with string
firm ids, rows shuffled).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval import CFA
from custval._sem import twolevel as tl
from custval._sem.model import SemModel

GOLD = Path(__file__).parent / "golden" / "cfa_twolevel"
# balanced_satb: a saturated between model (no between factor); unbalanced_stdlv: std_lv=True
CASES = ["balanced", "unbalanced", "balanced_satb", "unbalanced_stdlv"]


def _case(name):
    g = json.loads((GOLD / f"{name}.json").read_text())
    d = pd.read_csv(GOLD / f"{name.split('_')[0]}.csv")
    return g, d


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    g, d = _case(request.param)
    return g, d, CFA(g["model"], cluster="firm", std_lv=g["std_lv"]).fit(d)


def test_estimates_and_standard_errors_match_lavaan(fitted):
    g, _, fit = fitted
    pe = pd.DataFrame(g["pe"])
    assert g["options"]["information"][0] == "observed" and g["options"]["h1_information"][0] == "structured"
    mine = fit.params_
    assert list(mine["lhs"]) == list(pe["lhs"]) and list(mine["op"]) == list(pe["op"])
    assert list(mine["rhs"]) == list(pe["rhs"]) and list(mine["level"]) == list(pe["level"])
    np.testing.assert_allclose(mine["est"], pe["est"], atol=1e-5)
    np.testing.assert_allclose(mine["se"], pe["se"], atol=1e-5)
    np.testing.assert_allclose(mine["std_all"], pe["std.all"].astype(float), atol=1e-5)
    # lavaan's conventions: item intercepts fixed at 0 within, free between
    ints = mine[(mine["op"] == "~1") & mine["lhs"].str.startswith("y")]
    assert (ints.loc[ints["level"] == 1, "free"] == 0).all() and (ints.loc[ints["level"] == 1, "est"] == 0).all()
    assert (ints.loc[ints["level"] == 2, "free"] > 0).all()


def test_fit_measures_match_lavaan(fitted):
    g, d, fit = fitted
    fm, ref = fit.fit_measures_, g["fit"]
    for k in ["logl", "aic", "bic", "bic2", "npar", "df", "baseline.df", "ntotal", "fmin"]:
        assert fm[k] == pytest.approx(ref[k], abs=1e-5), k
    # RMSEA and BIC use the number of respondents, not of firms
    assert fm["ntotal"] == len(d)
    assert fm["bic"] == pytest.approx(-2 * fm["logl"] + fm["npar"] * np.log(len(d)), rel=1e-12)
    # lavaan's H1 is an EM stopped at a 1e-4 gain; ours is maximised fully: the
    # same maximum as lavaan's own loglik function maximised by BFGS in R
    assert fm["unrestricted.logl"] == pytest.approx(g["h1_full"]["logl"], abs=1e-5)
    assert fm["unrestricted.logl"] > ref["unrestricted.logl"]
    assert fm["chisq"] == pytest.approx(g["chisq_full"], abs=1e-5)
    # the documented difference from lavaan's chi-square: twice the EM shortfall, under 0.15
    diff = fm["chisq"] - ref["chisq"]
    assert diff == pytest.approx(2 * (fm["unrestricted.logl"] - ref["unrestricted.logl"]), abs=1e-6)
    assert 0 < diff < 0.15
    # the baseline (independence) loglik is the same as lavaan's
    assert fm["unrestricted.logl"] - fm["baseline.chisq"] / 2 == pytest.approx(
        ref["unrestricted.logl"] - ref["baseline.chisq"] / 2, abs=1e-5)
    # indices computed from these chi-squares agree with lavaan to the EM's precision
    for k in ["cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "rmsea",
              "srmr_within", "srmr_between"]:
        assert fm[k] == pytest.approx(ref[k], abs=2e-3), k
    assert fm["srmr"] == pytest.approx(fm["srmr_within"] + fm["srmr_between"], rel=1e-12)
    assert fm["rmsea"] == pytest.approx(np.sqrt(max(fm["chisq"] - fm["df"], 0) / (fm["df"] * len(d))), rel=1e-12)


def test_srmr_equals_lavaan_formula_on_the_full_h1(fitted):
    g, _, fit = fitted
    for level, key in (("within", "sigma_w"), ("between", "sigma_b")):
        s = np.asarray(g["h1_full"][key])
        np.testing.assert_allclose(fit.sample_cov_[level].to_numpy(), s, atol=1e-5)
        sigma = fit.implied_cov_[level].to_numpy()
        if level == "between":
            # lavaan's lav_matrix_symmetric_force_pd (balanced_satb's implied between matrix
            # has a negative eigenvalue: lavaan's srmr_between uses the forced one)
            ev, vec = np.linalg.eigh(sigma)
            sigma = (vec * np.where(ev / ev[-1] < 1e-6, 1e-6 * ev[-1], ev)) @ vec.T
        d1, d2 = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
        r = s / np.outer(d1, d1) - sigma / np.outer(d2, d2)
        expect = np.sqrt(np.mean(r[np.tril_indices(len(s))] ** 2))
        assert fit.fit_measures_[f"srmr_{level}"] == pytest.approx(expect, abs=1e-6)


def test_icc_matches_lavaan(fitted):
    g, _, fit = fitted
    # lavaan's lavInspect(fit, "icc") uses its EM H1 (agreement to ~1e-3); from the
    # fully maximised H1 of the golden the same formula agrees to 1e-6
    sw, sb = np.asarray(g["h1_full"]["sigma_w"]), np.asarray(g["h1_full"]["sigma_b"])
    full = np.diag(sb) / (np.diag(sb) + np.diag(sw))
    for j, (item, value) in enumerate(g["icc"].items()):
        assert fit.icc_[item] == pytest.approx(value, abs=1e-3)
        assert fit.icc_[item] == pytest.approx(full[j], abs=1e-6)


def test_gradient_matches_finite_differences():
    g, d = _case("unbalanced")
    pt, ov, lv = tl.build_twolevel_partable(g["model"])
    model = SemModel(pt, ov, lv, 2)
    cd = tl.cluster_data(d[ov].to_numpy(float), d["firm"].to_numpy())
    sb, mu = tl.between_start(cd)
    from custval._sem.model import start_values
    x = start_values(model, [(cd.s_pw, np.zeros(cd.p)), (sb, mu)], False)
    problem = tl.TwoLevelProblem(model, cd)
    grad = problem.gradient(x)
    h = 1e-5
    fd = np.array([(problem.loglik(x + h * e) - problem.loglik(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-4)
    assert np.abs(grad).max() > 1  # a start value, not the maximum: the check is not vacuous


def test_saturated_gradient_and_maximum():
    g, d = _case("balanced")
    ov = [f"y{i}" for i in range(1, 7)]
    cd = tl.cluster_data(d[ov].to_numpy(float), d["firm"].to_numpy())
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 6))
    sw, sb, mu = cd.s_pw + 0.1 * np.eye(6), a @ a.T / 20 + 0.05 * np.eye(6), rng.normal(3, 0.2, 6)
    _, (gw, gb, gmu) = tl.loglik(cd, sw, sb, mu, grad=True)
    h = 1e-6
    for (i, j) in [(0, 0), (2, 4), (5, 1)]:
        e = np.zeros((6, 6))
        e[i, j] = e[j, i] = h
        fd_w = (tl.loglik(cd, sw + e, sb, mu) - tl.loglik(cd, sw - e, sb, mu)) / (2 * h)
        fd_b = (tl.loglik(cd, sw, sb + e, mu) - tl.loglik(cd, sw, sb - e, mu)) / (2 * h)
        k = 1 if i == j else 2
        assert gw[i, j] * k == pytest.approx(fd_w, rel=1e-5)
        assert gb[i, j] * k == pytest.approx(fd_b, rel=1e-5)
    e = np.eye(6)[3] * h
    assert gmu[3] == pytest.approx((tl.loglik(cd, sw, sb, mu + e) - tl.loglik(cd, sw, sb, mu - e)) / (2 * h), rel=1e-5)
    logl, sw1, sb1, mu1, conv = tl.saturated(cd)
    assert conv and logl > tl.loglik(cd, sw, sb, mu)
    # the H1 maximum is a maximum: no small perturbation increases it
    for _ in range(5):
        p = rng.normal(size=(6, 6)) * 1e-3
        p = p + p.T
        assert tl.loglik(cd, sw1 + p, sb1, mu1) <= logl
        assert tl.loglik(cd, sw1, sb1 + p, mu1) <= logl


def test_recovers_the_simulated_truth():
    """Larger simulated sample (numpy): estimates within 4 SEs of the truth."""
    g, _ = _case("balanced")
    tr = g["truth"]
    rng = np.random.default_rng(2026)
    nclus, size = 300, 10
    lw = np.zeros((6, 2))
    lw[:3, 0], lw[3:, 1] = tr["lw"][:3], tr["lw"][3:]
    phi = np.asarray(tr["phi_w"])
    fb = rng.normal(0, np.sqrt(tr["psi_b"]), nclus)
    yb = np.outer(fb, tr["lb"]) + rng.normal(size=(nclus, 6)) * np.sqrt(tr["theta_b"]) + tr["nu"]
    eta = rng.multivariate_normal(np.zeros(2), phi, nclus * size)
    y = eta @ lw.T + rng.normal(size=(nclus * size, 6)) * np.sqrt(tr["theta_w"]) + np.repeat(yb, size, axis=0)
    d = pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 7)])
    d.insert(0, "firm", np.repeat([f"F{j:03d}" for j in range(nclus)], size))
    fit = CFA(g["model"], cluster="firm").fit(d.sample(frac=1, random_state=3))
    pe = fit.params_.set_index(["lhs", "op", "rhs", "level"])
    truth = {("fw1", "=~", "y2", 1): tr["lw"][1], ("fw2", "=~", "y6", 1): tr["lw"][5],
             ("fw1", "~~", "fw2", 1): phi[0, 1], ("y3", "~~", "y3", 1): tr["theta_w"][2],
             ("fb", "=~", "y4", 2): tr["lb"][3] / tr["lb"][0], ("fb", "~~", "fb", 2): tr["psi_b"],
             ("y5", "~1", "", 2): tr["nu"][4]}
    for key, value in truth.items():
        row = pe.loc[key]
        assert abs(row["est"] - value) < 4 * row["se"], (key, row["est"], value)
    assert fit.fit_measures_["pvalue"] > 0.001


def test_row_order_and_id_type_do_not_matter():
    g, d = _case("unbalanced")
    a = CFA(g["model"], cluster="firm").fit(d)
    d2 = d.sort_values(["firm", "y1"]).reset_index(drop=True)
    codes = {f: i for i, f in enumerate(sorted(d2["firm"].unique()))}
    d2["firm"] = d2["firm"].map(codes)  # integers instead of strings
    b = CFA(g["model"], cluster="firm").fit(d2)
    np.testing.assert_allclose(a.params_["est"], b.params_["est"], atol=1e-8)
    np.testing.assert_allclose(a.params_["se"], b.params_["se"], atol=1e-8)
    assert a.fit_measures_["chisq"] == pytest.approx(b.fit_measures_["chisq"], abs=1e-7)


def test_within_between_names_are_levels_1_and_2():
    g, d = _case("balanced")
    model = g["model"].replace("level: 1", "level: within").replace("level: 2", "level: between")
    a = CFA(model, cluster="firm").fit(d)
    np.testing.assert_allclose(a.params_["est"], pd.DataFrame(g["pe"])["est"], atol=1e-5)


def test_without_level_blocks_cluster_stays_cluster_robust_mlr():
    g, d = _case("balanced")
    single = "f =~ y1 + y2 + y3 + y4 + y5 + y6"
    fit = CFA(single, cluster="firm", estimator="MLR").fit(d)
    assert "level" not in fit.params_.columns
    assert fit.n_clusters_ == {"all": 60}


def test_summary_shows_levels_and_srmr_per_level(fitted):
    g, _, fit = fitted
    text = fit.summary()
    assert "Level 1 [within]:" in text and "Level 2 [firm]:" in text
    assert f"{fit.fit_measures_['srmr_within']:.3f}" in text.split("SRMR (within covariance matrix)")[1][:40]
    assert 'cluster = "firm"' in text
    assert "<table>" in fit._repr_html_()


def test_single_level_tools_say_they_do_not_apply(fitted):
    from custval.exceptions import SpecificationError

    _, _, fit = fitted
    for method in ("modification_indices", "standardized_solution", "residuals"):
        with pytest.raises(SpecificationError, match="two-level"):
            getattr(fit, method)()


def test_multilevel_omega_matches_semtools(fitted):
    from custval import multilevel_omega

    g, _, fit = fitted
    # model-implied denominator: semTools::compRelSEM(fit, obs.var = FALSE)
    om = multilevel_omega(fit, obs_var=False).set_index("construct").rename(columns={"value": "omega"})
    ref = {**g["omega_implied"]["within"], **(g["omega_implied"].get("firm") or {})}
    for f, value in ref.items():
        assert om.loc[f, "omega"] == pytest.approx(value, abs=1e-6), f
    assert list(om["level"]) == ["within"] * 2 + ["between"] * len(g["omega_implied"].get("firm") or {})
    # observed denominator: the fully maximised H1 (semTools uses lavaan's EM H1,
    # which stops short of the maximum: agreement to ~1e-3 only)
    obs = multilevel_omega(fit).set_index("construct").rename(columns={"value": "omega"})
    ref_obs = {**g["omega"]["within"], **(g["omega"].get("firm") or {})}
    pe = pd.DataFrame(g["pe"])
    for f, value in ref_obs.items():
        assert obs.loc[f, "omega"] == pytest.approx(value, abs=1e-3), f
        level = 1 if f.startswith("fw") else 2
        lam = pe[(pe["lhs"] == f) & (pe["op"] == "=~")]
        items = [int(v[1:]) - 1 for v in lam["rhs"]]
        psi = pe[(pe["lhs"] == f) & (pe["op"] == "~~") & (pe["rhs"] == f)]["est"].item()
        s = np.asarray(g["h1_full"]["sigma_w" if level == 1 else "sigma_b"])
        expect = lam["est"].sum() ** 2 * psi / s[np.ix_(items, items)].sum()
        assert obs.loc[f, "omega"] == pytest.approx(expect, abs=1e-5), f


def test_multilevel_omega_needs_a_two_level_fit():
    from custval import multilevel_omega
    from custval.exceptions import SpecificationError

    _, d = _case("balanced")
    single = CFA("f =~ y1 + y2 + y3").fit(d)
    with pytest.raises(SpecificationError, match="two-level CFA"):
        multilevel_omega(single)


def test_lai_configural_and_shared_coefficients_match_semtools():
    from custval import multilevel_omega
    from custval.exceptions import HeywoodWarning, SpecificationError

    lai = json.loads((GOLD / "omega_lai.json").read_text())
    _, d = _case("balanced")
    with pytest.warns(HeywoodWarning, match="'y3' at level 2"):  # lavaan warns the same
        fc = CFA(lai["model_config"], cluster="firm").fit(d)
    fs = CFA(lai["model_shared"], cluster="firm").fit(d)
    for obs_var, key in ((False, "fitted"), (True, "obs")):
        # lavaan's fits here stop at nlminb's default tolerance (~1e-5 in the estimates);
        # obs.var = TRUE uses lavaan's EM H1 (~1e-3)
        tol = 1e-4 if not obs_var else 3e-3
        c = multilevel_omega(fc, obs_var=obs_var, config=["f"]).set_index("coefficient")
        assert c.loc["omega_W", "value"] == pytest.approx(lai[f"config_{key}"]["omega_W"], abs=tol)
        assert c.loc["omega_2L", "value"] == pytest.approx(lai[f"config_{key}"]["omega_2L"], abs=tol)
        s = multilevel_omega(fs, obs_var=obs_var, shared="fb").set_index("coefficient")
        assert s.loc["omega_B", "value"] == pytest.approx(lai[f"shared_{key}"]["omega_B"], abs=tol)
        assert s.loc["IRR", "value"] == pytest.approx(lai[f"shared_{key}"]["IRR"], abs=tol)
    with pytest.raises(SpecificationError, match="configural construct 'fb'"):
        multilevel_omega(fs, config=["fb"])
    with pytest.raises(SpecificationError, match="shared construct 'fw1'"):
        multilevel_omega(fs, shared=["fw1"])


def test_r2_per_level_is_one_minus_standardized_residual_variance(fitted):
    g, _, fit = fitted
    pe = pd.DataFrame(g["pe"])
    checked = 0
    for level, col in ((1, "within"), (2, "between")):
        if pe[(pe["level"] == level) & (pe["op"] == "=~")].empty:
            continue  # no factor at this level (saturated between model)
        res = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & (pe["level"] == level) & pe["lhs"].str.startswith("y")]
        for item, std_all in zip(res["lhs"], res["std.all"].astype(float)):
            assert fit.r2_.loc[item, col] == pytest.approx(1 - std_all, abs=1e-6), (item, col)
            checked += 1
    assert checked >= 6


def test_two_level_model_with_groups_is_an_error():
    from custval.exceptions import SpecificationError

    g, d = _case("balanced")
    with pytest.raises(SpecificationError, match="one group"):
        CFA(g["model"], cluster="firm", group="y1").fit(d)
