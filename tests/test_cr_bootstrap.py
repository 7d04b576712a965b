"""Bootstrap intervals of composite reliability and AVE of continuous CFA fits (ML, MLR, FIML;
one group and several).

The bootstrap is checked by its definition -- every resample value equals a fresh fit of the
resampled rows exactly, the values depend only on the seed (serially or on threads), the
intervals are the ordinal path's percentile / BCa code -- and against lavaan: tests/r/cr_bootstrap.R
refits lavaan and runs ``semTools::compRelSEM`` / ``AVE`` on custval's first resamples (their rows
in tests/golden/validity/cr_boot_rows_<set>.csv), what ``bootstrapLavaan(fit, FUN = compRelSEM)``
computes per resample.  The FIML survey export is written to tmp_path (BOM, quoted header, CRLF,
blank cells for skipped questions, a missing-value code, a respondent who skipped every item) and
read with :func:`custval.read_survey`.
"""

from __future__ import annotations

import json
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval._sem.ml_boot import replicate_rows
from custval._stats.bootstrap import _interval
from custval.cfa import CFA
from custval.exceptions import (
    BootstrapWarning,
    ConvergenceWarning,
    HeywoodWarning,
    MissingDataWarning,
    SpecificationError,
)
from custval.validity import ave, composite_reliability

HS_MODEL = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
GOLDEN = Path(__file__).parent / "golden" / "validity"

CODEBOOK = """\
format: custval-codebook/1
name: service
version: "0.1"
title: {en: "Service pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 7}
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
ITEMS = ["s1", "s2", "s3", "s4", "l1", "l2", "l3"]


@pytest.fixture(scope="module")
def hs():
    return custval.load_dataset("holzinger_swineford1939").data


def _export(tmp_path):
    """A 7-point survey export with skipped questions (blank), a -99 code and an empty response."""
    rng = np.random.default_rng(5)
    n = 240
    sat, loy = rng.normal(size=n), rng.normal(size=n)
    loy = 0.55 * sat + np.sqrt(1 - 0.55**2) * loy
    cols = {}
    for it, eta, lam in [("s1", sat, 0.8), ("s2", sat, 0.7), ("s3", sat, 0.6), ("s4", sat, 0.75),
                         ("l1", loy, 0.8), ("l2", loy, 0.7), ("l3", loy, 0.65)]:
        y = lam * eta + rng.normal(scale=np.sqrt(1 - lam**2), size=n)
        cols[it] = np.clip(np.round(4 + 1.3 * y), 1, 7).astype(int)
    frame = pd.DataFrame(cols)
    frame["s3"] = 8 - frame["s3"]  # the reverse-worded item as answered
    frame = frame.astype(object)
    skipped = rng.random(size=frame.shape) < 0.06
    frame = frame.mask(skipped, "")
    frame.loc[[11, 150], "l2"] = -99
    frame.loc[60, ITEMS] = ""  # a respondent who skipped every item
    header = '\ufeff"Response ID","' + '","'.join(ITEMS) + '"'
    rows = [f'"R_{k:04d}",' + ",".join(str(v) for v in row) for k, row in enumerate(frame.itertuples(index=False))]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    (tmp_path / "service.yaml").write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(tmp_path / "service.yaml")
    data = custval.read_survey(path, inst)
    return data, inst


def test_resample_values_equal_fresh_fits_of_the_resampled_rows(hs):
    fit = CFA(HS_MODEL).fit(hs)
    plain = composite_reliability(fit)
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=30, seed=3, progress=False)
    pd.testing.assert_frame_equal(res.table[plain.table.columns], plain.table)
    assert list(res.table.columns[3:7]) == ["estimate", "se", "ci_low", "ci_high"]
    assert res.boot.shape == (30, 9) and res.n_boot_failed == 0
    rows = replicate_rows(fit, 30, 3)
    assert all(len(r) == 301 for r in rows) and not np.array_equal(rows[0], rows[1])
    for b in (0, 13, 29):
        direct = composite_reliability(CFA(HS_MODEL).fit(hs.iloc[rows[b]]))
        np.testing.assert_array_equal(res.boot[b], direct.table["estimate"].to_numpy())
    # percentile limits and se: the ordinal path's code on the replicates
    t = res.table
    for c in range(9):
        assert (t["ci_low"][c], t["ci_high"][c]) == _interval(res.boot[:, c], t["estimate"][c], ci=0.95,
                                                              method="percentile", jack=None)
    np.testing.assert_array_equal(t["se"], [np.std(res.boot[:, c], ddof=1) for c in range(9)])
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    assert res.method == "percentile bootstrap (30 resamples, seed 3)"


def test_improper_resamples_are_counted_and_kept(hs):
    fit = CFA(HS_MODEL).fit(hs)
    with pytest.warns(BootstrapWarning) as rec:
        res = ave(fit, ci_method="bootstrap", n_boot=100, seed=3, progress=False)
    # count the Heywood cases of fresh fits of the same rows
    heywood = 0
    for b, rows in enumerate(replicate_rows(fit, 100, 3)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HeywoodWarning)
            refit = CFA(HS_MODEL).fit(hs.iloc[rows])
            direct = ave(refit).table["estimate"].to_numpy()
        p = refit.params_
        neg = (p["op"] == "~~") & (p["lhs"] == p["rhs"]) & (p["est"] < 0)
        heywood += bool(neg.any())
        np.testing.assert_array_equal(res.boot[b], direct)
    assert heywood == 2
    assert str(rec[0].message).startswith("ave: 2 of 100 bootstrap resamples give an improper solution")
    assert res.n_boot_failed == 0 and np.isfinite(res.table["ci_low"]).all()


def test_multigroup_mlr_resamples_within_groups(hs):
    fit = CFA(HS_MODEL, group="school", estimator="MLR", group_equal=("loadings",)).fit(hs)
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=8, seed=2, progress=False)
    assert list(res.table["group"].unique()) == ["Pasteur", "Grant-White"]
    ordered = pd.concat([hs[hs["school"] == "Pasteur"], hs[hs["school"] == "Grant-White"]])
    rows = replicate_rows(fit, 8, 2)
    for r in rows:  # each school keeps its size
        assert (r[:156] < 156).all() and (r[156:] >= 156).all()
    for b in (0, 5):
        direct = CFA(HS_MODEL, group="school", estimator="MLR", group_equal=("loadings",)).fit(ordered.iloc[rows[b]])
        np.testing.assert_array_equal(res.boot[b], composite_reliability(direct).table["estimate"].to_numpy())


def test_fiml_survey_export_serial_equals_threads(tmp_path):
    data, inst = _export(tmp_path)
    assert data[ITEMS].isna().any(axis=None)
    with pytest.warns(MissingDataWarning, match="1 row"):
        fit = CFA(inst, missing="fiml").fit(data)
    assert sum(fit.n_obs_.values()) == 239
    serial = composite_reliability(fit, ci_method="bootstrap", n_boot=30, seed=9, progress=False)
    with ThreadPoolExecutor(2) as ex:
        threads = composite_reliability(fit, ci_method="bootstrap", n_boot=30, seed=9, progress=False,
                                        executor=ex)
    np.testing.assert_array_equal(serial.boot, threads.boot)
    pd.testing.assert_frame_equal(serial.table, threads.table)
    used = data[data[ITEMS].notna().any(axis=1)]
    for b in (0, 21):
        rows = replicate_rows(fit, 30, 9)[b]
        direct = CFA(inst, missing="fiml").fit(used.iloc[rows])
        np.testing.assert_array_equal(serial.boot[b], composite_reliability(direct).table["estimate"].to_numpy())
    t = serial.table
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()


def test_bca_intervals(hs):
    fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6").fit(hs)
    with pytest.warns(BootstrapWarning, match="improper solution"):
        pct = composite_reliability(fit, conventions="semtools_observed", ci_method="bootstrap", n_boot=200,
                                    seed=1, progress=False)
    with pytest.warns(BootstrapWarning, match="3 of 200 bootstrap resamples give an improper solution"):
        bca = composite_reliability(fit, conventions="semtools_observed", ci_method="bca", n_boot=200, seed=1,
                                    progress=False)
    np.testing.assert_array_equal(pct.boot, bca.boot)
    assert bca.method == "bca bootstrap (200 resamples, seed 1)"
    t = bca.table
    assert np.isfinite(t[["ci_low", "ci_high"]]).all(axis=None)
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    assert not np.array_equal(t["ci_low"], pct.table["ci_low"])


def test_more_than_half_failing_gives_nan_intervals_with_the_reason(hs):
    with pytest.warns(ConvergenceWarning):
        fit = CFA(HS_MODEL, max_iter=2).fit(hs)
    with pytest.warns(BootstrapWarning) as rec:
        res = composite_reliability(fit, ci_method="bootstrap", n_boot=10, seed=0, progress=False)
    msg = str(rec[-1].message)
    assert "10 of 10 bootstrap resamples have no value (10 the fit did not converge)" in msg
    assert "undefined (NaN)" in msg
    assert res.n_boot_failed == 10 and res.table[["se", "ci_low", "ci_high"]].isna().all(axis=None)
    assert np.isfinite(res.table["estimate"]).all()


def test_refused_fits_and_options(hs):
    clustered = CFA(HS_MODEL, estimator="MLR", cluster="grade").fit(hs.dropna(subset=["grade"]))
    with pytest.raises(SpecificationError, match="clustered respondents"):
        composite_reliability(clustered, ci_method="bootstrap", n_boot=10)
    fit = CFA(HS_MODEL).fit(hs)
    with pytest.raises(SpecificationError, match="n_boot"):
        ave(fit, ci_method="bootstrap", n_boot=1)
    with pytest.raises(SpecificationError, match="ci_method"):
        ave(fit, ci_method="normal")


def test_inequality_constraint_refits_the_model(hs):
    model = HS_MODEL.replace("x1 + x2", "x1 + a*x2") + "; a > 0.3"
    fit = CFA(model).fit(hs)
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=4, seed=8, progress=False)
    rows = replicate_rows(fit, 4, 8)
    direct = CFA(model).fit(hs.iloc[rows[3]])
    np.testing.assert_array_equal(res.boot[3], composite_reliability(direct).table["estimate"].to_numpy())


@pytest.fixture(scope="module")
def r_golden():
    return json.loads((GOLDEN / "cr_bootstrap.json").read_text())


@pytest.mark.parametrize("name, tol", [("hs", 5e-6), ("hs_school", 3e-5), ("bfi_fiml", 5e-6)])
def test_replicates_equal_lavaan_refits_of_the_same_rows(r_golden, name, tol):
    sys.path.insert(0, str(Path(__file__).parent / "r"))
    try:
        from cr_bootstrap_rows import SETS, fits
    finally:
        sys.path.pop(0)
    n_boot, seed, k = SETS[name]
    fit = fits()[name]
    fixture = pd.read_csv(GOLDEN / f"cr_boot_rows_{name}.csv")
    rows = replicate_rows(fit, n_boot, seed)[:k]
    # the fixture R refitted is custval's draw (the first k of n_boot = the draws of n_boot = k)
    assert [list(fixture[c] - 1) for c in fixture.columns] == [list(r) for r in rows]
    assert [list(r) for r in replicate_rows(fit, k, seed)] == [list(r) for r in rows]
    g = r_golden[name]
    assert all(g["replicates"]["converged"])
    convs = ("semtools_observed", "semtools_implied")
    for fn, stat in ((composite_reliability, "cr"), (ave, "ave")):
        with warnings.catch_warnings():  # the Heywood resamples of the two-school fit (lavaan warns too)
            warnings.simplefilter("ignore", BootstrapWarning)
            res = fn(fit, conventions=convs, ci_method="bootstrap", n_boot=k, seed=seed, progress=False)
        for j, (conv, key) in enumerate(zip(convs, ("observed", "implied"))):
            r_reps = np.array(g["replicates"][f"{stat}_{key}"], dtype=float)
            ours = res.boot[:, j::2]
            np.testing.assert_allclose(ours, r_reps, rtol=0, atol=tol)
            np.testing.assert_allclose(res.table["estimate"][j::2], g["point"][f"{stat}_{key}"], rtol=0, atol=tol)
            # the percentile interval of lavaan's replicates is custval's, within the same tolerance
            for c in range(r_reps.shape[1]):
                lo_r, hi_r = _interval(r_reps[:, c], 0.0, ci=0.9, method="percentile", jack=None)
                lo, hi = _interval(ours[:, c], 0.0, ci=0.9, method="percentile", jack=None)
                assert abs(lo - lo_r) < tol and abs(hi - hi_r) < tol
            t = res.table[res.table["convention"] == conv]
            np.testing.assert_array_equal(t["ci_low"], [_interval(ours[:, c], 0.0, ci=0.95, method="percentile",
                                                                  jack=None)[0] for c in range(ours.shape[1])])


def test_integer_group_labels_use_their_own_groups_moments(hs):
    # groups coded 2 (Pasteur, first in the file) and 1: CR reads each group's own covariance
    # matrix (it used to take the group numbered like the label, i.e. the other school's)
    coded = hs.assign(site=hs["school"].map({"Pasteur": 2, "Grant-White": 1}))
    named = composite_reliability(CFA(HS_MODEL, group="school").fit(hs))
    fit = CFA(HS_MODEL, group="site").fit(coded)
    numbered = composite_reliability(fit)
    np.testing.assert_array_equal(numbered.table["estimate"], named.table["estimate"])
    assert list(numbered.table["group"].unique()) == [2, 1]
    res = composite_reliability(fit, ci_method="bootstrap", n_boot=3, seed=4, progress=False)
    direct = CFA(HS_MODEL, group="site").fit(coded.iloc[replicate_rows(fit, 3, 4)[2]])
    np.testing.assert_array_equal(res.boot[2], composite_reliability(direct).table["estimate"].to_numpy())


def test_multigroup_fiml_resamples_within_groups():
    bfi = custval.load_dataset("bfi").data
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    data = bfi[items + ["gender"]].copy()
    for it in ("A1", "C4", "C5"):
        data[it] = 7 - data[it]
    data = data[data[items].notna().any(axis=1)].iloc[:900]
    assert data[items].isna().any(axis=None)
    model = "agree =~ A1 + A2 + A3 + A4 + A5; consc =~ C1 + C2 + C3 + C4 + C5"
    fit = CFA(model, group="gender", missing="fiml").fit(data)
    res = ave(fit, ci_method="bootstrap", n_boot=4, seed=6, progress=False)
    labels = list(pd.unique(data["gender"]))
    ordered = pd.concat([data[data["gender"] == g] for g in labels])
    sizes = [int((data["gender"] == g).sum()) for g in labels]
    rows = replicate_rows(fit, 4, 6)
    assert all((r[: sizes[0]] < sizes[0]).all() and (r[sizes[0]:] >= sizes[0]).all() for r in rows)
    direct = CFA(model, group="gender", missing="fiml").fit(ordered.iloc[rows[3]])
    np.testing.assert_array_equal(res.boot[3], ave(direct).table["estimate"].to_numpy())
    assert res.table["se"].gt(0).all()
