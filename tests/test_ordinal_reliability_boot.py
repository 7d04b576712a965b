"""Bootstrap intervals of the ordinal composite reliabilities (Green & Yang's ``"ordinal"`` omega,
``semTools::compRelSEM(fit)``, and the ``"latent_response"`` omega, ``ord.scale = FALSE``).

semTools has no bootstrap for ``compRelSEM`` and ``lavaan::bootstrapLavaan`` draws with R's RNG, so
the bootstrap is checked by its definition instead: the point estimates are unchanged, every
resample value equals a direct fit of the resampled rows (exactly), the values depend only on the
seed (serially or on threads), and on simulated data the interval covers the population value.
The survey export is written to tmp_path (BOM, semicolons, CRLF, a missing-value code) and read
with :func:`custval.read_survey`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import custval
from custval._sem.ordinal_boot import make_job
from custval._stats.tasks import task_plan, task_seeds
from custval.cfa import CFA
from custval.exceptions import BootstrapWarning, MissingDataWarning, SpecificationError
from custval.validity import _omega_categorical, composite_reliability

CODEBOOK = """\
format: custval-codebook/1
name: service
version: "0.1"
title: {en: "Service pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 5}
missing: {codes: [-99]}
constructs:
  - id: SAT
    label: {en: "Satisfaction"}
    items:
      - {id: s1, text: {en: "Satisfied."}}
      - {id: s2, text: {en: "Met expectations."}}
      - {id: s3, text: {en: "Would not return."}, reverse: true}
      - {id: s4, text: {en: "Recommend."}}
  - id: LOY
    label: {en: "Loyalty"}
    items:
      - {id: l1, text: {en: "Will buy again."}}
      - {id: l2, text: {en: "First choice."}}
      - {id: l3, text: {en: "Will stay."}}
"""
MODEL = "SAT =~ s1 + s2 + s3 + s4; LOY =~ l1 + l2 + l3"
ITEMS = ["s1", "s2", "s3", "s4", "l1", "l2", "l3"]


def _simulate(n, seed, loadings=(0.8, 0.7, 0.75, 0.6), cuts=(-1.6, -0.7, 0.3, 1.2)):
    """Ordered items of one factor: y* = l eta + sqrt(1 - l^2) e, cut at ``cuts`` (codes 1..5)."""
    rng = np.random.default_rng(seed)
    lam = np.asarray(loadings)
    eta = rng.normal(size=n)
    ystar = eta[:, None] * lam + rng.normal(size=(n, len(lam))) * np.sqrt(1 - lam**2)
    return pd.DataFrame(np.digitize(ystar, cuts) + 1, columns=[f"y{i + 1}" for i in range(len(lam))])


def _export(tmp_path, *, rare=False, groups=False):
    rng = np.random.default_rng(11)
    n = 260
    sat, loy = rng.normal(size=n), rng.normal(size=n)
    loy = 0.5 * sat + np.sqrt(0.75) * loy
    cols = {}
    for it, eta in [("s1", sat), ("s2", sat), ("s3", sat), ("s4", sat), ("l1", loy), ("l2", loy), ("l3", loy)]:
        y = 0.75 * eta + rng.normal(scale=0.65, size=n)
        code = np.digitize(y, [-1.3, -0.4, 0.4, 1.3]) + 1
        cols[it] = code
    frame = pd.DataFrame(cols)
    if rare:  # category 1 of s1: three answers only, so many resamples lack it
        ones = np.flatnonzero(frame["s1"] == 1)
        frame.loc[ones[3:], "s1"] = 2
    frame["s3"] = 6 - frame["s3"]  # the reverse-worded item as answered
    frame = frame.astype(object)
    frame.loc[[7, 100], "l2"] = -99
    header = '\ufeff"' + '";"'.join(ITEMS + (["wave"] if groups else [])) + '"'
    rows = []
    for k, row in enumerate(frame[ITEMS].itertuples(index=False)):
        vals = [str(v) for v in row] + ([f'"{"spring" if k % 2 else "autumn"}"'] if groups else [])
        rows.append(";".join(vals))
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    (tmp_path / "service.yaml").write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(tmp_path / "service.yaml")
    return custval.read_survey(path, inst), inst


def _fit(model, data, **kw):
    with pytest.warns(MissingDataWarning):
        return CFA(model, ordered=True, **kw).fit(data)


def _draws(fit, seed, n_boot, k):
    """The row positions of the first ``k`` resamples (the first task's stream)."""
    job = make_job(fit, ("ordinal", "latent_response"), 1)
    rng = np.random.default_rng(task_seeds(seed, len(task_plan(n_boot)))[0])
    return [job.draw(rng) for _ in range(k)]


@pytest.fixture
def survey(tmp_path):
    return _export(tmp_path)


def test_point_estimates_unchanged_and_intervals_around_them(survey):
    data, inst = survey
    fit = _fit(inst, data)
    plain = composite_reliability(fit)
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=60, seed=4, progress=False)
    # the estimates are compRelSEM's (the fit is unchanged); the bootstrap only adds columns
    pd.testing.assert_frame_equal(res.table[plain.table.columns], plain.table)
    assert list(res.table.columns[3:7]) == ["estimate", "se", "ci_low", "ci_high"]
    t = res.table
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    assert (t["se"] > 0).all() and (t["se"] < 0.1).all()
    assert res.boot.shape == (60, 4) and res.n_boot_failed == 0
    np.testing.assert_allclose(t["se"], np.std(res.boot, axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(t["ci_low"], np.quantile(res.boot, 0.025, axis=0), rtol=1e-12)
    assert res.method == "percentile bootstrap (60 resamples, seed 4)"
    assert "percentile bootstrap" in res.summary()


def test_resample_values_equal_direct_fits_of_the_resampled_rows(survey):
    data, inst = survey
    fit = _fit(inst, data)
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=30, seed=9, progress=False)
    keyed = inst.keyed(data)[ITEMS].dropna()
    assert len(keyed) == fit.n_obs_["all"]
    for k, rows in enumerate(_draws(fit, 9, 30, 3)):
        direct = CFA(MODEL, ordered=True).fit(keyed.iloc[rows])
        np.testing.assert_array_equal(composite_reliability(direct).table["estimate"].to_numpy(), res.boot[k])


def test_theta_parameterization_and_ulsmv_resamples_equal_direct_fits(survey):
    data, inst = survey
    keyed = inst.keyed(data)[ITEMS].dropna()
    for kw in ({"parameterization": "theta"}, {"estimator": "ULSMV"}):
        fit = CFA(MODEL, ordered=True, **kw).fit(keyed)
        res = composite_reliability(fit, ci_method="bootstrap", n_boot=4, seed=2, progress=False)
        rows = _draws(fit, 2, 4, 2)[1]
        direct = CFA(MODEL, ordered=True, **kw).fit(keyed.iloc[rows])
        np.testing.assert_array_equal(composite_reliability(direct).table["estimate"].to_numpy(), res.boot[1])


def test_two_groups_resample_within_groups_and_equal_direct_fits(tmp_path):
    data, inst = _export(tmp_path, groups=True)
    fit = _fit(inst, data, group="wave")
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=6, seed=5, progress=False)
    assert res.boot.shape == (6, 8) and res.n_boot_failed == 0
    assert set(res.table["group"]) == {"spring", "autumn"}
    keyed = inst.keyed(data).dropna(subset=ITEMS)
    rows = _draws(fit, 5, 6, 1)[0]
    sample = keyed.iloc[rows]
    # within groups: each group keeps its size
    assert (sample["wave"].value_counts() == keyed["wave"].value_counts()).all()
    direct = CFA(MODEL, ordered=True, group="wave").fit(sample)
    np.testing.assert_array_equal(composite_reliability(direct).table["estimate"].to_numpy(), res.boot[0])


def test_same_seed_same_values_serially_and_on_threads(survey):
    data, inst = survey
    fit = _fit(inst, data)
    a = composite_reliability(fit, ci_method="bootstrap", n_boot=40, seed=1, progress=False)
    with ThreadPoolExecutor(2) as pool:
        b = composite_reliability(fit, ci_method="bootstrap", n_boot=40, seed=1, progress=False, executor=pool)
    c = composite_reliability(fit, ci_method="bootstrap", n_boot=40, seed=2, progress=False)
    np.testing.assert_array_equal(a.boot, b.boot)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a == b
    assert not np.array_equal(a.boot, c.boot)


def _count(fit, seed, n_boot):
    """Resamples (of the seeded stream) that lack a category of an item (in a group)."""
    job = make_job(fit, ("ordinal",), 1)
    lacking = []
    for seed_seq, b in zip(task_seeds(seed, len(task_plan(n_boot))), task_plan(n_boot)):
        rng = np.random.default_rng(seed_seq)
        lacking += [job._empty(job.draw(rng)) for _ in range(b)]
    return np.array(lacking)


def test_resamples_without_a_category_are_counted_warned_and_fitted_as_their_rows(tmp_path):
    data, inst = _export(tmp_path, rare=True)
    fit = _fit(inst, data)
    with pytest.warns(BootstrapWarning, match=r"\d+ of 50 bootstrap resamples lack a category of an item"):
        res = composite_reliability(fit, ci_method="bootstrap", n_boot=50, seed=3, progress=False)
    lacking = _count(fit, 3, 50)
    assert 0 < lacking.sum() < 50 and f"{lacking.sum()} of 50" in res.notes[0]
    # kept: a resample without category 1 of s1 is fitted with the categories it uses, as a fit of its rows
    assert res.n_boot_failed == 0 and np.isfinite(res.boot).all()
    k = int(np.flatnonzero(lacking)[0])
    rows = _draws(fit, 3, 50, k + 1)[k]
    keyed = inst.keyed(data)[ITEMS].dropna()
    assert (keyed.iloc[rows]["s1"] != 1).all()
    direct = CFA(MODEL, ordered=True).fit(keyed.iloc[rows])
    assert (direct.params_["lhs"] == "s1").sum() < (fit.params_["lhs"] == "s1").sum()  # fewer thresholds
    np.testing.assert_array_equal(composite_reliability(direct).table["estimate"].to_numpy(), res.boot[k])


def test_multi_group_resamples_with_an_empty_category_are_dropped_counted_and_warned(tmp_path):
    data, inst = _export(tmp_path, rare=True, groups=True)
    # category 1 of s1: answered by one respondent in each group
    ones = data.index[data["s1"] == 1]
    assert len(ones) >= 2
    data.loc[ones, "s1"] = 2
    for wave in ("spring", "autumn"):
        data.loc[data.index[data["wave"] == wave][0], "s1"] = 1
    fit = _fit(inst, data, group="wave")
    with pytest.warns(BootstrapWarning, match=r"a category of an item is empty in a group of the resample"):
        res = composite_reliability(fit, ci_method="bootstrap", n_boot=30, seed=6, progress=False)
    lacking = _count(fit, 6, 30)
    assert 0 < lacking.sum() == res.n_boot_failed
    assert np.isnan(res.boot).all(axis=1).sum() == lacking.sum()
    assert f"{lacking.sum()} of 30 bootstrap resamples have no value" in res.notes[0]
    if res.n_boot_failed <= 15:
        np.testing.assert_allclose(res.table["ci_high"], np.quantile(res.boot[~lacking], 0.975, axis=0),
                                   rtol=1e-12)
    else:  # more than half without a value: no interval
        assert res.table["ci_high"].isna().all() and "undefined (NaN)" in res.notes[0]


def test_interval_covers_the_population_omega_in_most_samples():
    lam = np.array([0.8, 0.7, 0.75, 0.6])
    cuts = np.array([-1.6, -0.7, 0.3, 1.2])
    pop = np.outer(lam, lam)
    corr = pop + np.diag(1 - lam**2)
    truth = {"ordinal": _omega_categorical(pop, corr, [cuts] * 4),
             "latent_response": lam.sum() ** 2 / corr.sum()}
    hits = {k: 0 for k in truth}
    for seed in range(5):
        data = _simulate(300, 100 + seed)
        fit = CFA("F =~ y1 + y2 + y3 + y4", ordered=True).fit(data)
        res = composite_reliability(fit, ci_method="bootstrap", n_boot=150, seed=seed, progress=False)
        for r in res.table.itertuples():
            hits[r.convention] += r.ci_low <= truth[r.convention] <= r.ci_high
    # 95% intervals: at least 4 of 5 samples cover the population value
    assert hits["ordinal"] >= 4 and hits["latent_response"] >= 4


def test_bca_interval_uses_leave_one_out_refits():
    data = _simulate(100, 3, cuts=(-0.8, 0.2, 1.0))  # four well-filled categories
    fit = CFA("F =~ y1 + y2 + y3 + y4", ordered=True).fit(data)
    pct = composite_reliability(fit, ci_method="bootstrap", n_boot=40, seed=0, progress=False)
    bca = composite_reliability(fit, ci_method="bca", n_boot=40, seed=0, progress=False)
    np.testing.assert_array_equal(pct.boot, bca.boot)  # the same resamples
    assert bca.method.startswith("bca bootstrap")
    assert not np.allclose(pct.table["ci_low"], bca.table["ci_low"])
    assert (bca.table["ci_low"] < bca.table["ci_high"]).all()


def test_bootstrap_options_are_checked(survey):
    data, inst = survey
    hs = custval.load_dataset("holzinger_swineford1939").data
    # continuous fits have bootstrap intervals too (tests/test_cr_bootstrap.py); a fit with clustered
    # respondents is refused
    ml = CFA("visual =~ x1 + x2 + x3", estimator="MLR", cluster="grade").fit(hs.dropna(subset=["grade"]))
    with pytest.raises(SpecificationError, match="clustered respondents"):
        composite_reliability(ml, ci_method="bootstrap")
    fit = _fit(inst, data)
    with pytest.raises(SpecificationError, match="ci_method='percentile'"):
        composite_reliability(fit, ci_method="percentile")
    with pytest.raises(SpecificationError, match="n_boot"):
        composite_reliability(fit, ci_method="bootstrap", n_boot=1)


def test_pairwise_missing_and_other_conventions_resample_as_direct_fits(survey):
    data, inst = survey
    keyed = inst.keyed(data)[ITEMS]
    assert keyed.isna().any(axis=1).sum() == 2  # the two -99 codes
    fit = CFA(MODEL, ordered=True, missing="pairwise").fit(keyed)
    conv = ("ordinal", "semtools_implied", "fornell_larcker")
    res = composite_reliability(fit, conventions=conv, ci_method="bootstrap", n_boot=4, seed=8, progress=False)
    assert res.table["n"].iloc[0] == len(keyed)  # pairwise keeps every row with an answer
    rows = _draws(fit, 8, 4, 2)[1]
    direct = CFA(MODEL, ordered=True, missing="pairwise").fit(keyed.iloc[rows])
    np.testing.assert_array_equal(composite_reliability(direct, conventions=conv).table["estimate"].to_numpy(),
                                  res.boot[1])
