"""The fast paths of the ML machinery give the numbers of the plain computations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custval._sem.syntax import build_partable

MODEL = "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ textual\nd := 2*a"


def test_partable_copies_are_independent():
    """The table of a model text is built once; every caller gets its own copy to modify."""
    pt, observed, latent, extras = build_partable(MODEL, ngroups=2, with_extras=True)
    reference = pt.copy()
    pt.loc[:, "ustart"] = -99.0
    pt.loc[0, "lhs"] = "changed"
    observed.append("zz")
    extras["label_rows"]["new"] = 0
    extras["constraints"][0].resize((0, 0), refcheck=False)
    again, observed2, _, extras2 = build_partable(MODEL, ngroups=2, with_extras=True)
    pd.testing.assert_frame_equal(again, reference)
    assert "zz" not in observed2 and "new" not in extras2["label_rows"]
    assert extras2["constraints"][0].shape == (0, int(again["free"].max()))
    assert again is not pt
    # lists as options are the same options as tuples
    a = build_partable(MODEL, ngroups=2, group_equal=["loadings"])[0]
    b = build_partable(MODEL, ngroups=2, group_equal=("loadings",))[0]
    pd.testing.assert_frame_equal(a, b)
    assert int(a["free"].max()) < int(again["free"].max())


def _incomplete_groups():
    """Two groups of simulated answers with item non-response in many patterns."""
    from custval._sem.ml import make_group_data

    rng = np.random.default_rng(7)
    lam = np.array([0.8, 0.7, 0.6, 0.75, 0.65, 0.7])
    out = []
    for n in (400, 250):
        eta = rng.normal(size=(n, 2))
        y = np.column_stack([lam[j] * eta[:, j // 3] + rng.normal(scale=0.6, size=n) for j in range(6)]) + 3.0
        y[rng.random(y.shape) < 0.12] = np.nan
        out.append(make_group_data(y, fiml=True))
    return out


def test_pattern_batch_matches_pattern_loop():
    """Log-likelihood, gradient and (expected, observed) information of all patterns at once
    equal the sums over the patterns one at a time."""
    from custval._sem.ml import MLProblem, grad_moments, loglik_group, pattern_inverses
    from custval._sem.model import SemModel

    groups = _incomplete_groups()
    assert all(len(gd.patterns) > 10 for gd in groups)
    model_text = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6"
    pt, observed, latent = build_partable(model_text.replace("y", "v"), ngroups=2, meanstructure=True)
    model = SemModel(pt, observed, latent, 2)
    rng = np.random.default_rng(3)
    x = 0.5 + 0.3 * rng.random(model.nx)
    batched = MLProblem(model, groups)
    values = {"loglik": batched.loglik(x), "grad": batched.gradient(x),
              "e": batched.expected_information(x), "o": batched._information(x, observed=True)}
    assert all(gd.batch is not None for gd in groups)
    for (sigma, _mu), gd in zip(model.implied(x), groups):
        si_ld = gd.batch.inverses(sigma)
        plain = pattern_inverses(gd, sigma)
        for k, pat in enumerate(gd.patterns):
            np.testing.assert_allclose(si_ld[0][k][np.ix_(pat.obs, pat.obs)], plain[k][0], rtol=1e-12, atol=1e-14)
            assert abs(si_ld[1][k] - plain[k][1]) < 1e-12
    # the same problem without the batches: the per-pattern loops
    for gd in groups:
        gd.batch = None
    looped = MLProblem(model, groups)
    looped._moments = lambda xx: [(s, m, pattern_inverses(gd, s)) for gd, (s, m) in zip(groups, model.implied(xx))]
    ll = 0.0
    for gd, (s, m) in zip(groups, model.implied(x)):
        for pat, (si, ld) in zip(gd.patterns, pattern_inverses(gd, s)):
            d = pat.mean - m[pat.obs]
            ll += -0.5 * pat.n * (len(pat.obs) * np.log(2 * np.pi) + ld + np.sum(si * (pat.cov + np.outer(d, d))))
    assert abs(loglik_group(groups[0], *model.implied(x)[0]) - loglik_group(
        groups[0], *model.implied(x)[0], pattern_inverses(groups[0], model.implied(x)[0][0]))) < 1e-9
    assert abs(values["loglik"] - ll) < 1e-9 * abs(ll)
    g = np.zeros(model.nx)
    for gd, (s, m), (ds, dm) in zip(groups, model.implied(x), model.delta(x)):
        gs = np.zeros_like(s)
        gm = np.zeros(len(m))
        for pat, (si, _) in zip(gd.patterns, pattern_inverses(gd, s)):
            o = pat.obs
            d = pat.mean - m[o]
            gs[np.ix_(o, o)] += 0.5 * pat.n * (si - si @ (pat.cov + np.outer(d, d)) @ si)
            gm[o] += -pat.n * (si @ d)
        g += ds.reshape(model.nx, -1) @ gs.ravel() + dm @ gm
    np.testing.assert_allclose(values["grad"], g / looped.ntotal, rtol=1e-10, atol=1e-13)
    gd0 = groups[0]
    s0, m0 = model.implied(x)[0]
    np.testing.assert_allclose(grad_moments(gd0, s0, m0)[0], grad_moments(gd0, s0, m0, pattern_inverses(gd0, s0))[0])
    for gd in groups:
        gd.batch = None
    np.testing.assert_allclose(values["e"], looped.expected_information(x), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(values["o"], looped._information(x, observed=True), rtol=1e-10, atol=1e-13)


def test_h1_information_batch_matches_pattern_loop():
    """The saturated model's information summed over all patterns at once equals the
    pattern-by-pattern Kronecker products reduced with the duplication matrix."""
    from custval._sem.ml import em_saturated
    from custval._sem.robust import h1_information

    for gd in _incomplete_groups():
        mu, sigma = em_saturated(gd)
        for means in (True, False):
            a_batch, b_batch = h1_information(gd, sigma, mu, means)
            assert gd.batch is not None
            gd.batch = None
            gd.cache.clear()  # the result is kept with the data
            import custval._sem.robust as robust

            saved = robust.pattern_batch
            robust.pattern_batch = lambda *_a: None
            try:
                a_loop, b_loop = h1_information(gd, sigma, mu, means)
            finally:
                robust.pattern_batch = saved
            np.testing.assert_allclose(a_batch, a_loop, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(b_batch, b_loop, rtol=1e-12, atol=1e-15)
            assert np.abs(a_batch).max() > 0.1


def test_em_from_pattern_statistics_matches_rowwise_em():
    """The EM of the saturated model from each pattern's sufficient statistics gives the
    moments of the E-step over the completed rows (the textbook form)."""
    from custval._sem.ml import em_saturated

    gd = _incomplete_groups()[0]
    mu_fast, sigma_fast = em_saturated(gd, tol=1e-12)
    y = gd.extra["y"]
    n, p = y.shape
    mu = np.nanmean(y, axis=0)
    sigma = np.diag(np.nanmean((y - mu) ** 2, axis=0))
    for _ in range(500):
        t1, t2 = np.zeros(p), np.zeros((p, p))
        for pat in gd.patterns:
            o = pat.obs
            mis = np.setdiff1d(np.arange(p), o)
            yhat = np.empty((pat.n, p))
            yhat[:, o] = pat.y
            if len(mis):
                beta = sigma[np.ix_(mis, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
                yhat[:, mis] = mu[mis] + (pat.y - mu[o]) @ beta.T
            t1 += yhat.sum(axis=0)
            t2 += yhat.T @ yhat
            if len(mis):
                t2[np.ix_(mis, mis)] += pat.n * (sigma[np.ix_(mis, mis)] - beta @ sigma[np.ix_(o, mis)])
        new_mu = t1 / n
        new_sigma = t2 / n - np.outer(new_mu, new_mu)
        done = max(np.abs(new_mu - mu).max(), np.abs(new_sigma - sigma).max()) < 1e-12
        mu, sigma = new_mu, new_sigma
        if done:
            break
    np.testing.assert_allclose(mu_fast, mu, rtol=1e-9)
    np.testing.assert_allclose(sigma_fast, sigma, rtol=1e-9, atol=1e-12)


def test_chi2_helpers_equal_scipy_distributions():
    """The p values and quantiles through scipy's special functions are the distributions' values."""
    from scipy import stats

    from custval._sem.fit_measures import _chi2_ppf, _chi2_sf

    for df in (0, -1, 0.5, 1, 2, 3.5, 24, 300, np.nan):
        for x in (-1e-13, -1.0, 0.0, 1e-300, 0.3, 1.0, 5.0, 85.3, 1e4, np.inf, np.nan):
            expected = stats.chi2.sf(x, df)
            got = _chi2_sf(x, df)
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (df, x, got, expected)
        for q in (0.95, 0.99):
            expected = stats.chi2.ppf(q, df)
            got = _chi2_ppf(q, df)
            assert got == expected or (np.isnan(got) and np.isnan(expected)), (df, q, got, expected)


def test_fitted_tables_share_no_mutable_state(tmp_path):
    """Two fits of the same model (its table and structure built once) keep independent
    tables: changing one fit's outputs changes nothing in the other."""
    from custval.cfa import CFA

    rng = np.random.default_rng(11)
    eta = rng.normal(size=(240, 2))
    data = {f"q{j + 1}": np.round(3 + 0.8 * eta[:, j // 3] + rng.normal(scale=0.7, size=240)) for j in range(6)}
    path = tmp_path / "survey.csv"
    pd.DataFrame(data).to_csv(path, index=False)
    frame = pd.read_csv(path)
    model = "trust =~ q1 + q2 + q3\nvalue =~ q4 + q5 + q6"
    first = CFA(model).fit(frame)
    second = CFA(model).fit(frame)
    pd.testing.assert_frame_equal(first.params_, second.params_)
    first.partable_.loc[:, "ustart"] = 5.0
    first.params_.loc[:, "est"] = 0.0
    first.implied_cov_.columns.name = "changed"
    first._model.free[:] = 0
    first._model.rows.clear()
    assert second.implied_cov_.columns.name is None and second.sample_cov_.columns.name is None
    third = CFA(model).fit(frame)
    pd.testing.assert_frame_equal(third.params_, second.params_)
    assert third.partable_["ustart"].isna().sum() == second.partable_["ustart"].isna().sum()


def test_rank2_pieces_match_the_jacobian(tmp_path):
    """Gradient and (expected, observed) information from the rank-2 pieces of dSigma equal
    those from the full Jacobian Delta: loadings, residual and latent (co)variances, a
    latent regression, equal labels, a general '==' constraint, two groups with means."""
    from custval._sem.ml import MLProblem
    from custval.cfa import CFA

    rng = np.random.default_rng(5)
    n = 420
    eta1 = rng.normal(size=n)
    eta2 = 0.5 * eta1 + rng.normal(scale=0.8, size=n)
    cols = {f"v{j + 1}": (0.9 - 0.1 * (j % 3)) * (eta1 if j < 3 else eta2) + rng.normal(scale=0.6, size=n) + 2
            for j in range(6)}
    cols["site"] = np.where(rng.random(n) < 0.5, "north", "south")
    path = tmp_path / "export.csv"
    pd.DataFrame(cols).to_csv(path, index=False)
    data = pd.read_csv(path)
    models = [
        ("f1 =~ v1 + a*v2 + b*v3\nf2 =~ v4 + c*v5 + c*v6\nf2 ~ f1\nv1 ~~ v4\na == b + 0.05", {}),
        ("f1 =~ v1 + v2 + v3\nf2 =~ v4 + v5 + v6\nv2 ~~ v5", {"group": "site", "group_equal": ("loadings",)}),
        ("f1 =~ v1 + v2 + v3\nf2 =~ v4 + v5 + v6", {"std_lv": True, "meanstructure": True}),
    ]
    for model, kwargs in models:
        fit = CFA(model, **kwargs).fit(data)
        theta = fit._model.reduce(fit.x_) + 0.01 * rng.normal(size=fit._model.nx)
        fast = MLProblem(fit._model, fit._groups)
        assert fast._by_pieces()
        slow = MLProblem(fit._model, fit._groups)
        slow._by_pieces = lambda: False
        np.testing.assert_allclose(fast.gradient(theta), slow.gradient(theta), rtol=1e-9, atol=1e-12)
        for observed in (False, True):
            np.testing.assert_allclose(fast._information(theta, observed), slow._information(theta, observed),
                                       rtol=1e-9, atol=1e-12)
