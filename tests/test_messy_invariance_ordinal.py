"""The ordinal invariance ladder on messy survey exports: named errors, rows accounted for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval.exceptions import DataValidationError, MissingDataWarning
from custval.invariance import measurement_invariance

MODEL = "SAT =~ sat_1 + sat_2 + sat_3\nLOY =~ loy_1 + loy_2 + loy_3"
ITEMS = ["sat_1", "sat_2", "sat_3", "loy_1", "loy_2", "loy_3"]


def _survey(n: int = 900, seed: int = 11) -> pd.DataFrame:
    """Five-point answers with a ceiling, from providers and customers."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=n)
    out = {"respondent": [f"R{i:04d}" for i in range(n)],
           "form": np.where(np.arange(n) % 2 == 0, "Provider, staff", "Customer")}
    for k, item in enumerate(ITEMS):
        ystar = 0.75 * eta[:, k // 3] + np.sqrt(1 - 0.75**2) * rng.normal(size=n)
        out[item] = np.searchsorted([-1.6, -0.9, -0.1, 0.7], ystar) + 1
    return pd.DataFrame(out)


def _export(df: pd.DataFrame, tmp_path, name="export.csv") -> pd.DataFrame:
    """Write as a survey platform does (BOM, quoted fields with commas, CRLF) and read it back."""
    path = tmp_path / name
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


def test_category_empty_in_one_group_is_an_error_naming_item_and_group(tmp_path):
    df = _survey()
    cust = df["form"] == "Customer"
    df.loc[cust & (df["loy_2"] == 1), "loy_2"] = 2  # no customer chose "1" on loy_2
    data = _export(df, tmp_path)
    with pytest.raises(DataValidationError, match=r"Customer.*loy_2 \(1: 0, 2: ") as err:
        measurement_invariance(data, MODEL, group="form", estimator="WLSMV", ordered=True)
    assert "loy_2" in str(err.value)


def test_incomplete_rows_are_excluded_with_a_warning_and_counted(tmp_path):
    df = _survey()
    df["sat_3"] = df["sat_3"].astype(float)
    df.loc[[5, 44, 301], "sat_3"] = np.nan  # skipped answers
    df.loc[[7], "form"] = None  # no form recorded
    data = _export(df, tmp_path)
    with pytest.warns(MissingDataWarning) as rec:
        res = measurement_invariance(data, MODEL, group="form", estimator="WLSMV", ordered=True,
                                     levels=("configural", "thresholds"))
    text = " ".join(str(w.message) for w in rec)
    assert "group column 'form'" in text and "listwise" in text
    assert res.n_rows == 900 and res.n_used == 896
    assert res.n_excluded == {"no group": 1, "incomplete items (listwise)": 3}
    assert sum(res.n_per_group.values()) == res.n_used
    assert set(res.n_per_group) == {"Provider, staff", "Customer"}
    assert list(res.table["level"]) == ["configural", "thresholds"]
