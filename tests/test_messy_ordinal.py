"""Ordered items (CFA with ordered=): messy survey exports give named errors or typed warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval.cfa import CFA
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    HeywoodWarning,
    InsufficientDataError,
    MissingDataWarning,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
)

MODEL = "SAT =~ sat_1 + sat_2 + sat_3\nLOY =~ loy_1 + loy_2 + loy_3"
ITEMS = ["sat_1", "sat_2", "sat_3", "loy_1", "loy_2", "loy_3"]


def _survey(n: int = 400, seed: int = 7) -> pd.DataFrame:
    """Five-point answers piled against the top of the scale (a satisfaction ceiling)."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=n)
    out = {"respondent": [f"R{i:04d}" for i in range(n)]}
    for k, item in enumerate(ITEMS):
        ystar = 0.75 * eta[:, k // 3] + np.sqrt(1 - 0.75**2) * rng.normal(size=n)
        out[item] = np.searchsorted([-1.9, -1.1, -0.3, 0.5], ystar) + 1
    return pd.DataFrame(out)


def _export(df: pd.DataFrame, tmp_path, name="export.csv") -> pd.DataFrame:
    """Write as a survey platform does (BOM, quoted header, CRLF) and read it back."""
    path = tmp_path / name
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


def test_half_point_answer_is_an_error_naming_item_row_and_value(tmp_path):
    df = _survey()
    df["sat_2"] = df["sat_2"].astype(float)
    df.loc[17, "sat_2"] = 3.5  # an averaged double answer in the export
    data = _export(df, tmp_path)
    with pytest.raises(DataValidationError, match=r"sat_2.*3\.5.*\[17\]") as err:
        CFA(MODEL, ordered=True).fit(data)
    prob = err.value.problems[0]
    assert prob["column"] == "sat_2" and prob["rows"] == [17] and prob["values"] == [3.5]


def test_value_outside_the_instruments_scale_is_an_error(tmp_path):
    df = _survey()
    df.loc[[3, 250], "loy_1"] = 9  # "don't know" code left in the export
    data = _export(df, tmp_path)
    inst = custval.Instrument.from_dict({"SAT": ITEMS[:3], "LOY": ITEMS[3:]}, scale=(1, 5), name="csat")
    with pytest.raises(DataValidationError, match=r"loy_1.*9\.0.*\[3, 250\].*scale points \[1, 2, 3, 4, 5\]"):
        CFA(inst, ordered=True).fit(data)
    # the same frame with model syntax: 9 is a sixth category (lavaan's convention: categories
    # are the values observed), so the item gets five thresholds
    fit = CFA(MODEL, ordered=True).fit(data)
    th = fit.params_[(fit.params_["op"] == "|") & (fit.params_["lhs"] == "loy_1")]
    assert th["rhs"].tolist() == ["t1", "t2", "t3", "t4", "t5"]


def test_item_with_one_category_is_named(tmp_path):
    df = _survey()
    df["loy_3"] = 5  # everybody ticked the top box
    with pytest.raises(ConstantItemError, match=r"loy_3 \(every answer 5\)"):
        CFA(MODEL, ordered=True).fit(_export(df, tmp_path))


def test_duplicated_column_is_a_polychoric_of_one(tmp_path):
    df = _survey()
    df["sat_3"] = df["sat_1"]  # the export repeated a column under another name
    with pytest.raises(NotPositiveDefiniteError, match=r"sat_1 and sat_3 \(\+0\.999\)"):
        CFA(MODEL, ordered=True).fit(_export(df, tmp_path))


NON_PD = """a,b,c,d
2,1,2,1
1,1,1,2
1,1,1,2
2,1,2,2
1,1,1,2
2,2,2,1
1,1,1,2
1,1,1,2
1,1,1,1
2,2,2,1
1,1,1,2
1,1,1,1
1,1,1,2
2,1,2,2
1,1,1,2
2,2,2,2
2,2,2,2
1,1,1,2
1,1,1,2
2,2,2,2
2,2,2,1
1,1,1,2
1,1,1,2
2,2,2,1
1,1,1,2
2,1,2,2
1,1,2,2
2,1,2,2
1,1,1,2
2,1,2,2
1,1,1,2
2,2,2,1
1,2,2,1
1,1,2,1
1,1,2,1
1,1,2,2
1,1,1,2
2,1,2,2
2,1,2,2
2,1,1,2
"""


def test_non_positive_definite_polychoric_matrix_warns(tmp_path):
    path = tmp_path / "pilot.csv"
    path.write_text(NON_PD.replace("\n", "\r\n"))
    data = pd.read_csv(path)
    with pytest.warns(NotPositiveDefiniteWarning, match=r"a, b, c, d is not positive definite"):
        with pytest.warns(HeywoodWarning, match=r"latent responses of c have negative residual"):
            fit = CFA("F =~ a + b + c + d", ordered=True).fit(data)
    assert fit.notes_ and np.isfinite(fit.fit_measures_["chisq"])


def test_missing_answers_are_dropped_listwise_and_counted(tmp_path):
    df = _survey()
    df.loc[[5, 6, 7], "sat_1"] = np.nan
    data = _export(df, tmp_path)
    with pytest.warns(MissingDataWarning, match="3 row"):
        fit = CFA(MODEL, ordered=True).fit(data)
    assert fit.n_excluded_ == 3 and fit.n_obs_["all"] == len(df) - 3


def test_text_answers_are_rejected(tmp_path):
    df = _survey().astype({"sat_1": object})
    df.loc[0, "sat_1"] = "Strongly agree"
    with pytest.raises(DataValidationError, match="sat_1"):
        CFA(MODEL, ordered=True).fit(_export(df, tmp_path))


def test_category_empty_in_one_group_is_named(tmp_path):
    df = _survey(n=600)
    df["channel"] = np.where(np.arange(len(df)) % 3 == 0, "store", "online")
    store = df["channel"] == "store"
    df.loc[store & (df["sat_1"] == 1), "sat_1"] = 2  # no store customer answered 1
    data = _export(df, tmp_path)
    with pytest.raises(DataValidationError, match=r"group 'store'.*sat_1 \(1: 0, 2: \d+"):
        CFA(MODEL, ordered=True, group="channel", group_equal=("thresholds", "loadings")).fit(data)
    # the other group alone is fine, and so is a fit without groups
    fit = CFA(MODEL, ordered=True).fit(data)
    assert fit.n_obs_["all"] == len(df)


def test_routed_items_never_answered_together_are_named(tmp_path):
    df = _survey()
    df["sat_3"] = df["sat_3"].astype(float)
    df["loy_3"] = df["loy_3"].astype(float)
    df.loc[: len(df) // 2, "sat_3"] = np.nan  # routing: only half the sample saw sat_3 ...
    df.loc[len(df) // 2 + 1:, "loy_3"] = np.nan  # ... and the other half loy_3
    data = _export(df, tmp_path)
    with pytest.raises(InsufficientDataError, match=r"sat_3 and loy_3 were answered together by fewer than 2"):
        CFA(MODEL, ordered=True, missing="pairwise").fit(data)
    with pytest.warns(MissingDataWarning, match=f"{len(df)} row"):  # listwise: every row loses one of them
        with pytest.raises(InsufficientDataError, match=r"0 usable row\(s\) \(complete\).*missing='pairwise'"):
            CFA(MODEL, ordered=True).fit(data)
