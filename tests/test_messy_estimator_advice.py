"""Estimator guard rails for Likert items: advice by categories and skew, sparse categories
reported by item and group (never collapsed silently), collapsing on request recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import DataValidationError, SparseCategoryWarning
from custval.items import RHEMTULLA_2012, collapse_categories, estimator_advice

ITEMS = ["sat_1", "sat_2", "loy_1", "loy_2"]


def _export(tmp_path, seed=3, n=600) -> pd.DataFrame:
    """A platform export (BOM, quoted header, CRLF): two 4-point items, two 7-point items, one
    of them with a ceiling; providers and customers."""
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=(n, 1))
    z = 0.7 * eta + np.sqrt(1 - 0.49) * rng.normal(size=(n, 4))
    df = pd.DataFrame({
        "respondent": [f"R{i:04d}" for i in range(n)],
        "form": np.where(np.arange(n) % 3 == 0, "Provider, staff", "Customer"),
        "sat_1": np.searchsorted([-1.0, 0.0, 1.0], z[:, 0]) + 1,
        "sat_2": np.searchsorted([-1.2, 0.1, 0.9], z[:, 1]) + 1,
        "loy_1": np.searchsorted([-1.6, -1.0, -0.4, 0.4, 1.0, 1.6], z[:, 2]) + 1,       # symmetric 7-point
        "loy_2": np.searchsorted([-2.3, -1.9, -1.5, -1.1, -0.6, 0.1], z[:, 3]) + 1,    # ceiling
    })
    df.loc[(df["form"] == "Customer") & (df["loy_2"] == 1), "loy_2"] = 2  # nobody among customers at 1
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False, quoting=1, lineterminator="\r\n").encode())
    return pd.read_csv(path, encoding="utf-8-sig")


def test_advice_follows_categories_and_skew_and_names_sparse_categories_by_group(tmp_path):
    data = _export(tmp_path)
    inst = custval.Instrument.from_dict({"SAT": ITEMS[:2], "LOY": ITEMS[2:]}, scale=(1, 7), name="cw")
    with pytest.warns(SparseCategoryWarning, match=r"loy_2: .*Customer: 1 \(0\)") as rec:
        adv = estimator_advice(data[[*ITEMS, "form"]], group="form", min_count=10)
    assert "nothing was collapsed" in str(rec[0].message)
    assert adv.loc["sat_1", "recommendation"] == "WLSMV" and adv.loc["sat_1", "n_categories"] == 4
    assert adv.loc["loy_1", "recommendation"] == "ML/MLR"
    assert adv.loc["loy_2", "recommendation"] == "WLSMV or MLR" and adv.loc["loy_2", "skew"] < -1
    assert adv.attrs["recommendation"] == "WLSMV" and adv.attrs["reference"] == RHEMTULLA_2012
    # with the codebook the 4-point items are on a 7-point scale: unused codes are empty categories
    with pytest.warns(SparseCategoryWarning):
        adv7 = estimator_advice(data, inst, group="form")
    assert adv7.loc["sat_1", "n_categories"] == 7 and adv7.loc["sat_1", "n_observed"] == 4
    assert "Customer: 1 (0)" in adv7.loc["loy_2", "sparse"] and "Provider, staff" in adv7.loc["sat_1", "sparse"]
    assert data["loy_2"].min() == 1  # the data are untouched


def test_skew_equals_psych_describe_type3():
    x = np.array([1, 2, 2, 3, 5, 5, 5, 5, 4, 4], dtype=float)
    d = x - x.mean()
    expected = np.mean(d**3) / np.std(x, ddof=1) ** 3
    adv = estimator_advice(pd.DataFrame({"q": x}), min_count=1)
    assert adv.loc["q", "skew"] == pytest.approx(expected, rel=1e-12)


def test_half_point_answer_is_an_error(tmp_path):
    data = _export(tmp_path)
    data["sat_1"] = data["sat_1"].astype(float)
    data.loc[12, "sat_1"] = 2.5
    with pytest.raises(DataValidationError, match=r"sat_1.*\[12\]"):
        estimator_advice(data[ITEMS])


def test_collapse_only_on_request_and_recorded(tmp_path):
    data = _export(tmp_path)
    n1 = int((data["loy_2"] == 1).sum())
    out = collapse_categories(data, {"loy_2": {1: 2}})
    assert (out["loy_2"] == 1).sum() == 0 and (data["loy_2"] == 1).sum() == n1
    assert out.attrs["collapsed"] == [{"item": "loy_2", "from": 1, "to": 2, "rows": n1}]
    with pytest.raises(DataValidationError, match="not an answer in use"):
        collapse_categories(data, {"loy_2": {1: 0}})
    with pytest.raises(DataValidationError, match="not a column"):
        collapse_categories(data, {"loyalty": {1: 2}})
    # after collapsing, the two-group ordinal CFA runs (every category used in every group)
    from custval.cfa import CFA
    fit = CFA("LOY =~ loy_1 + loy_2 + sat_1 + sat_2", ordered=True, group="form").fit(out[[*ITEMS, "form"]])
    assert fit.converged_
    # a just-identified two-group model (df = 0): lavaan's perfect-fit robust indices, not a
    # ZeroDivisionError (tests/golden/cfa_ordinal/just_identified.json, fit_groups)
    fit0 = CFA("LOY =~ loy_1 + loy_2 + sat_1", ordered=True, group="form").fit(out[["loy_1", "loy_2", "sat_1", "form"]])
    fm0 = fit0.fit_measures_
    assert fm0["df"] == 0 and fm0["cfi.robust"] == pytest.approx(1.0) and fm0["rmsea.robust"] == 0
