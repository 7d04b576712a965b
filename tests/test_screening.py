"""screen(): indices against independent base-R code (tests/r/reliability.R) and hand examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _relhelp import BFI_SCALES, StubInstrument, bfi
from conftest import load_golden

from custval import exceptions as ex
from custval.screening import screen

INST = StubInstrument(BFI_SCALES, [], (1, 6))


@pytest.fixture(scope="module")
def bfi_screen():
    return screen(bfi(keyed=False), INST)


def _num(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_indices_match_base_r(bfi_screen):
    g = load_golden("reliability", "screen")
    f = bfi_screen.flags
    np.testing.assert_array_equal(f["longstring"].to_numpy(), _num(g["longstring"]))
    np.testing.assert_allclose(f["irv"].to_numpy(), _num(g["irv"]), rtol=1e-10)
    np.testing.assert_allclose(f["mahalanobis"].to_numpy(), _num(g["mahalanobis"]), rtol=1e-9)
    np.testing.assert_allclose(f["mahalanobis_p"].to_numpy(), _num(g["mahalanobis_p"]), rtol=1e-8, atol=1e-300)


def test_complete_data_mahalanobis_equals_stats_mahalanobis():
    g = load_golden("reliability", "screen")
    raw = bfi(keyed=False)
    complete = raw[raw[g["items"]].notna().all(axis=1)]
    res = screen(complete, INST)
    np.testing.assert_allclose(res.flags["mahalanobis"].to_numpy(), g["mahalanobis_complete"], rtol=1e-9)
    assert (res.flags["mahalanobis_df"] == 25).all()


def test_nobody_deleted_and_summary_counts(bfi_screen):
    f, s = bfi_screen.flags, bfi_screen.summary_table
    assert len(f) == 2800 and f.index.equals(bfi(keyed=False).index)
    for rule in ("longstring", "straight_lining", "mahalanobis", "missing"):
        assert s.loc[rule, "n_flagged"] == f[f"flag_{rule}"].sum()
    assert s.loc["any", "n_flagged"] == (f["n_flags"] > 0).sum() == bfi_screen.n_flagged
    assert "Careless-response screening" in bfi_screen.summary()
    assert "<table" in bfi_screen._repr_html_()


def test_hand_example_longstring_straightlining_speeders():
    inst = StubInstrument({"X": ["x1", "x2", "x3"], "Y": ["y1", "y2", "y3"]}, [], (1, 5))
    rng = np.random.default_rng(0)
    base = rng.integers(1, 6, size=(60, 6)).astype(float)
    base[0] = [3, 3, 3, 3, 3, 3]  # straight-liner
    base[1] = [1, 2, 2, np.nan, 2, 2]  # NaN breaks the run
    base[2] = [1, 2, 1, 2, 1, 2]
    df = pd.DataFrame(base, columns=["x1", "x2", "x3", "y1", "y2", "y3"])
    df["secs"] = 300.0
    df.loc[2, "secs"] = 60.0
    res = screen(df, inst, duration="secs")
    f = res.flags
    assert f.loc[0, "longstring"] == 6 and f.loc[1, "longstring"] == 2 and f.loc[2, "longstring"] == 1
    assert f.loc[0, "n_straight"] == 2 and bool(f.loc[0, "flag_straight_lining"])
    assert f.loc[0, "irv"] == 0.0
    np.testing.assert_allclose(f.loc[2, "irv"], np.std([1, 2, 1, 2, 1, 2], ddof=1))
    assert f.loc[1, "share_missing"] == pytest.approx(1 / 6)
    assert f.loc[1, "mahalanobis_df"] == 5
    assert bool(f.loc[2, "speeder"]) and not bool(f.loc[3, "speeder"])
    assert res.summary_table.loc["speeder", "n_flagged"] == 1


def test_bad_duration_and_missing_items():
    raw = bfi(keyed=False)
    with pytest.raises(ex.SpecificationError, match="nope"):
        screen(raw, INST, duration="nope")
    with pytest.raises(ex.SpecificationError, match="A1"):
        screen(raw.drop(columns="A1"), INST)
    bad = raw.copy()
    bad["dur"] = -1.0
    with pytest.raises(ex.DataValidationError, match="negative"):
        screen(bad, INST, duration="dur")


def test_collinear_items_are_named():
    raw = bfi(keyed=False).dropna(subset=BFI_SCALES["A"]).copy()
    inst = StubInstrument({"A": BFI_SCALES["A"] + ["A6"]}, [], (1, 6))
    raw["A6"] = raw["A1"]
    with pytest.raises(ex.SingularMatrixError, match="A1 and A6"):
        screen(raw, inst)
