"""Keying and construct scores, checked against psych::scoreItems (tests/r/scoring.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custval import DataValidationError, Instrument, load_instrument
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import SpecificationError
from custval.scoring import ScoreResult

TOL = 1e-10


@pytest.fixture(scope="module")
def bfi_data() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv", index_col="id")


@pytest.fixture(scope="module")
def bfi():
    return load_instrument("bfi")


def _golden_frame(g: dict, key: str, index) -> pd.DataFrame:
    cols = {c: [np.nan if v is None else v for v in g[key][c]] for c in g["constructs"]}
    return pd.DataFrame(cols, index=pd.Index(index, name="id"), dtype=float)


# --------------------------------------------------------------------------- agreement with R
def test_bfi_mean_scores_match_psych_scoreitems(bfi, bfi_data, golden):
    """The issue's acceptance criterion: psych::scoreItems(impute = "none") to 1e-10."""
    g = golden("scoring", "bfi_scores")
    res = bfi.score(bfi_data)
    expected = _golden_frame(g, "scores", g["id"])
    assert list(res.scores.index) == g["id"]
    assert list(res.scores.columns) == g["constructs"]
    diff = (res.scores - expected).abs().to_numpy()
    assert np.nanmax(diff) < TOL
    assert (res.scores.isna() == expected.isna()).all().all()
    n_valid = _golden_frame(g, "n_valid", g["id"])
    assert (res.n_valid.astype(float) == n_valid).all().all()
    assert res.n == 2800
    assert 'impute = "none"' in res.r_call


def test_bfi_complete_rows_mean_and_sum_match_psych(bfi, bfi_data, golden):
    g = golden("scoring", "bfi_complete")
    data = bfi_data.loc[g["id"]]
    mean = bfi.score(data).scores
    total = bfi.score(data, method="sum").scores
    assert np.abs(mean - _golden_frame(g, "mean", g["id"])).to_numpy().max() < TOL
    assert np.abs(total - _golden_frame(g, "sum", g["id"])).to_numpy().max() < TOL


def test_custval_does_not_impute_like_psych_default(bfi, bfi_data, golden):
    """psych's default impute = "median" gives other scores for incomplete rows."""
    g = golden("scoring", "bfi_scores")
    ids = g["scores_impute_median_row_ids"]
    ours = bfi.score(bfi_data.loc[ids]).scores
    theirs = pd.DataFrame(g["scores_impute_median"], index=pd.Index(ids, name="id"))
    assert (np.abs(ours - theirs).to_numpy() > 1e-6).any()


def test_corp_rep_with_declared_missing_code(golden):
    g = golden("scoring", "corp_rep_scores")
    cr = load_instrument("corp_rep")
    raw = pd.read_csv(RAW_DATA_DIR / "corp_rep" / "corp_rep.csv")
    items = list(cr.items)
    # unconverted -99 is refused, with a hint
    with pytest.raises(DataValidationError, match="-99 is a declared missing"):
        cr.score(raw)
    data = raw.copy()
    data[items] = data[items].mask(data[items].isin(cr.missing_codes))
    res = cr.score(data)
    expected = _golden_frame(g, "scores", g["row"])
    assert np.nanmax(np.abs(res.scores.to_numpy() - expected.to_numpy())) < TOL
    assert (res.scores.isna().to_numpy() == expected.isna().to_numpy()).all()
    assert res.n_scored.to_dict() == {"COMP": 344, "LIKE": 344, "CUSA": 343, "CUSL": 344}


# --------------------------------------------------------------------------- keying
def test_keyed_recodes_only_reverse_items(bfi, bfi_data):
    k = bfi.keyed(bfi_data)
    assert list(k.columns) == list(bfi_data.columns) and k.index.equals(bfi_data.index)
    for c in bfi.items:
        expected = 7 - bfi_data[c] if c in bfi.reverse_items else bfi_data[c]
        pd.testing.assert_series_equal(k[c], expected, check_names=False)
    # non-item columns untouched
    pd.testing.assert_series_equal(k["age"], bfi_data["age"])
    # the input is not modified
    assert bfi_data["A1"].iloc[0] == 2


def test_keyed_twice_is_identity(bfi, bfi_data):
    pd.testing.assert_frame_equal(bfi.keyed(bfi.keyed(bfi_data)), bfi_data)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(1, 5), st.floats(1, 5)), min_size=1, max_size=20))
def test_keyed_property(values):
    inst = Instrument.from_dict({"F": ["a", "b"]}, scale=(1, 5), reverse=["b"])
    df = pd.DataFrame({"a": values, "b": values}, dtype=float)
    k = inst.keyed(df)
    pd.testing.assert_series_equal(k["a"], df["a"])
    pd.testing.assert_series_equal(k["b"], 6.0 - df["b"])  # NaN stays NaN
    pd.testing.assert_frame_equal(inst.keyed(k), df)


def test_keyed_accepts_a_subset_of_items(bfi, bfi_data):
    sub = bfi_data[["A1", "A2"]]
    k = bfi.keyed(sub)
    assert list(k.columns) == ["A1", "A2"]
    with pytest.raises(DataValidationError, match="none of the 25 items"):
        bfi.keyed(bfi_data[["age"]])


def test_keyed_errors_name_column_rows_and_values():
    inst = Instrument.from_dict({"F": ["a", "b"]}, scale=(1, 5), reverse=["b"])
    df = pd.DataFrame({"a": [1, 6, 3, 0], "b": [1, 2, 3, 4]}, index=["r1", "r2", "r3", "r4"])
    with pytest.raises(DataValidationError) as info:
        inst.keyed(df)
    err = info.value
    msg = str(err)
    assert "'a'" in msg and "'r2', 'r4'" in msg and "6, 0" in msg and "1..5" in msg
    assert "index labels" in msg
    (p,) = err.problems
    assert p["rule"] == "range" and p["column"] == "a" and p["rows"] == ["r2", "r4"]
    assert p["values"] == [6, 0] and p["n"] == 2 and p["row_counting"].startswith("index labels")
    # non-numeric columns are not coerced
    bad = pd.DataFrame({"a": ["1", "2"], "b": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="'a' has dtype .*not numeric"):
        inst.keyed(bad)
    with pytest.raises(DataValidationError, match="not numeric"):
        inst.keyed(pd.DataFrame({"a": [True, False], "b": [1, 2]}))
    # infinite values are outside the scale
    with pytest.raises(DataValidationError, match="inf"):
        inst.keyed(pd.DataFrame({"a": [1.0, np.inf], "b": [1, 2]}))
    # every problem at once
    both = pd.DataFrame({"a": [9, 1], "b": ["x", "y"]})
    err = pytest.raises(DataValidationError, inst.keyed, both).value
    assert {p["column"] for p in err.problems} == {"a", "b"}
    with pytest.raises(SpecificationError, match="DataFrame"):
        inst.keyed(np.ones((2, 2)))


def test_keyed_duplicate_columns():
    inst = Instrument.from_dict({"F": ["a", "b"]}, scale=(1, 5))
    df = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])
    with pytest.raises(DataValidationError, match="more than once"):
        inst.keyed(df)


def test_keyed_nullable_and_integer_dtypes():
    inst = Instrument.from_dict({"F": ["a", "b"]}, scale=(1, 7), reverse=["b"])
    df = pd.DataFrame({"a": pd.array([1, None, 7], dtype="Int64"), "b": [1, 2, 7]})
    k = inst.keyed(df)
    assert k["b"].tolist() == [7, 6, 1] and k["b"].dtype == df["b"].dtype
    assert k["a"].isna().tolist() == [False, True, False]


# --------------------------------------------------------------------------- scoring rules
@pytest.fixture
def small():
    inst = Instrument.from_dict({"F": ["a", "b", "c", "d"], "G": ["g"]}, scale=(1, 5), reverse=["d"])
    df = pd.DataFrame(
        {
            "a": [1, 2, np.nan, np.nan, 5],
            "b": [1, 2, 3, np.nan, np.nan],
            "c": [1, np.nan, np.nan, np.nan, np.nan],
            "d": [5, 4, 3, np.nan, np.nan],
            "g": [3, np.nan, 1, 2, 5],
        },
        index=[10, 11, 12, 13, 14],
    )
    return inst, df


def test_mean_rule_and_min_items(small):
    inst, df = small
    # keyed d: 1, 2, 3
    res = inst.score(df)
    assert res.n_valid["F"].tolist() == [4, 3, 2, 0, 1]
    np.testing.assert_allclose(res.scores["F"].to_numpy(), [1, 2, 3, np.nan, 5])
    assert res.n_scored.to_dict() == {"F": 4, "G": 4}
    assert res.required.to_dict() == {"F": 1, "G": 1}
    res2 = inst.score(df, min_items=2)
    np.testing.assert_allclose(res2.scores["F"].to_numpy(), [1, 2, 3, np.nan, np.nan])
    # a construct with fewer items than min_items needs all of them
    assert res2.required.to_dict() == {"F": 2, "G": 1}
    np.testing.assert_allclose(res2.scores["G"].to_numpy(), [3, np.nan, 1, 2, 5])
    res3 = inst.score(df, min_items={"F": 3})
    np.testing.assert_allclose(res3.scores["F"].to_numpy(), [1, 2, np.nan, np.nan, np.nan])
    assert res3.required.to_dict() == {"F": 3, "G": 1}
    assert res3.min_items == {"F": 3}


def test_sum_rule(small):
    inst, df = small
    res = inst.score(df, method="sum")
    np.testing.assert_allclose(res.scores["F"].to_numpy(), [4, np.nan, np.nan, np.nan, np.nan])
    assert res.required.to_dict() == {"F": 4, "G": 1}
    # prorated sum: mean of the valid items * k when at least min_items are valid
    pro = inst.score(df, method="sum", min_items=2)
    np.testing.assert_allclose(pro.scores["F"].to_numpy(), [4, 8, 12, np.nan, np.nan])
    assert "prorated" in pro.rule
    # min_items >= k is the plain sum again
    plain = inst.score(df, method="sum", min_items=9)
    pd.testing.assert_frame_equal(plain.scores, res.scores)


def test_rows_are_never_dropped(small):
    inst, df = small
    res = inst.score(df)
    assert res.scores.index.equals(df.index) and res.n_valid.index.equals(df.index)
    assert res.n == 5 and res.to_frame() is res.scores


def test_score_is_order_invariant(bfi, bfi_data):
    base = bfi.score(bfi_data).scores
    rng = np.random.default_rng(0)
    shuffled = bfi_data[list(rng.permutation(bfi_data.columns))].sample(frac=1, random_state=0)
    again = bfi.score(shuffled).scores
    pd.testing.assert_frame_equal(again.loc[base.index], base)


def test_score_subset_of_constructs(bfi, bfi_data):
    res = bfi.score(bfi_data[["N1", "N2", "N3", "N4", "N5"]], constructs=["N"])
    assert list(res.scores.columns) == ["N"]
    np.testing.assert_allclose(res.scores["N"], bfi.score(bfi_data).scores["N"])


def test_score_errors(small, bfi, bfi_data):
    inst, df = small
    with pytest.raises(DataValidationError, match="not columns of the data: c, g"):
        inst.score(df.drop(columns=["c", "g"]))
    with pytest.raises(SpecificationError, match="method"):
        inst.score(df, method="median")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SpecificationError, match="whole number"):
            inst.score(df, min_items=bad)
    with pytest.raises(SpecificationError, match="'Z'"):
        inst.score(df, min_items={"Z": 1})
    with pytest.raises(SpecificationError, match="'Z'"):
        inst.score(df, constructs=["Z"])
    bad = bfi_data.copy()
    bad.loc[61620, "C3"] = 7
    with pytest.raises(DataValidationError, match=r"'C3'.*61620.*7"):
        bfi.score(bad)


def test_score_result_display(small):
    inst, df = small
    res = inst.score(df)
    assert isinstance(res, ScoreResult)
    text = res.summary()
    assert "n_scored" in text and "Rule:" in text and "In R:" in text
    assert "<table" in res._repr_html_()
    # numbers are not rounded
    assert res.scores.loc[10, "F"] == 1.0
