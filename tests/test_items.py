"""item_analysis against psych::describe / psych::alpha item statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _relhelp import BFI_SCALES, MOBI_BLOCKS, StubInstrument, bfi, bfi_instrument, mobi, sim
from conftest import load_golden

from custval import exceptions as ex
from custval.items import item_analysis

RTOL = 1e-10
MAP = {
    "n": "item_n", "mean": "item_mean", "sd": "item_sd", "median": "item_median", "min": "item_min",
    "max": "item_max", "skew": "item_skew", "kurtosis": "item_kurtosis", "raw_r": "raw_r",
    "r_cor": "r_cor", "r_drop": "r_drop", "alpha_if_deleted": "alpha_drop",
}


def _check(table, ref_by_construct):
    for cid, ref in ref_by_construct.items():
        sub = table.loc[ref["items"]]
        for col, key in MAP.items():
            if col == "alpha_if_deleted" and len(ref["items"]) == 2:
                # psych reports C12/C22 as "alpha" of a single item; custval says undefined (NaN)
                assert sub[col].isna().all()
                continue
            want = np.array([ref[key][i] for i in ref["items"]], dtype=float)
            # atol: excess kurtosis is m4/s^4 - 3, so a value near 0 (bfi O4: -0.0014) carries
            # the rounding of numbers near 3 (~1e-13 absolute) on both sides
            np.testing.assert_allclose(sub[col].to_numpy(dtype=float), want, rtol=RTOL,
                                       atol=1e-12 if col == "kurtosis" else 0, err_msg=f"{cid} {col}")


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_bfi_with_instrument_matches_psych(policy):
    g = load_golden("reliability", "bfi")
    raw = bfi(keyed=False)  # the instrument does the keying
    table = item_analysis(raw, bfi_instrument(), nan_policy=policy)
    assert list(table.index) == [i for v in BFI_SCALES.values() for i in v]
    assert (table.loc["A1", "construct"], table.loc["O5", "construct"]) == ("A", "O")
    _check(table, g[policy])


def test_mobi_blocks_match_psych():
    g = load_golden("reliability", "mobi")
    inst = StubInstrument({k: v for k, v in MOBI_BLOCKS.items()}, (), (1, 10))
    table = item_analysis(mobi(), inst)  # no warning: CUSL2 is weak (r_drop > 0), not negative
    assert 0 < table.loc["CUSL2", "r_drop"] < 0.3
    _check(table, {k: v for k, v in g["listwise"].items()})


@pytest.mark.parametrize("policy", ["pairwise", "listwise"])
def test_simulated_instrument_matches_psych(policy):
    data, g = sim(keyed=False)
    inst = StubInstrument({"V": g[policy]["V"]["items"], "W": g[policy]["W"]["items"],
                           "X": g[policy]["X"]["items"]}, g["reverse"], (1, 7))
    _check(item_analysis(data, inst, nan_policy=policy), g[policy])


def test_floor_and_ceiling_percent():
    raw = bfi(keyed=False)
    table = item_analysis(raw, bfi_instrument())
    keyed = bfi()
    for item in ("A1", "N3"):
        v = keyed[item].dropna()
        assert table.loc[item, "pct_floor"] == pytest.approx(100 * (v == 1).mean(), rel=1e-12)
        assert table.loc[item, "pct_ceiling"] == pytest.approx(100 * (v == 6).mean(), rel=1e-12)


def test_order_does_not_matter():
    x = bfi()[BFI_SCALES["C"]]
    a = item_analysis(x)
    b = item_analysis(x[["C5", "C2", "C4", "C1", "C3"]])
    pd.testing.assert_frame_equal(a, b.loc[a.index], rtol=1e-12)


def test_undeclared_negative_item_warns_with_value():
    x = bfi(keyed=False)[BFI_SCALES["A"]]
    with pytest.warns(ex.ItemKeyingWarning, match=r"A1 correlates -0\.\d+ with the rest of scale"):
        item_analysis(x)


def test_declared_reverse_item_already_reversed_warns():
    keyed = bfi()  # A1 already reversed in the data ...
    inst = StubInstrument({"A": BFI_SCALES["A"]}, ["A1"], (1, 6))  # ... and declared reverse
    with pytest.warns(ex.ItemKeyingWarning, match="A1 is declared reverse-keyed"):
        item_analysis(keyed, inst)


def test_constant_item_warns_and_is_nan():
    x = bfi()[BFI_SCALES["N"]].copy()
    x["N2"] = 3.0
    with pytest.warns(ex.ConstantItemWarning, match="N2 is constant"):
        t = item_analysis(x)
    assert np.isnan(t.loc["N2", "r_drop"]) and np.isfinite(t.loc["N1", "r_drop"])


def test_all_missing_item_is_an_error():
    x = bfi()[BFI_SCALES["N"]].copy()
    x["N4"] = np.nan
    with pytest.raises(ex.InsufficientDataError, match="N4"):
        item_analysis(x)


def test_unknown_item_is_an_error():
    with pytest.raises(ex.SpecificationError, match="Z9"):
        item_analysis(bfi(), items=["A1", "Z9"])


def test_with_shipped_bfi_codebook():
    custval = pytest.importorskip("custval.codebook")
    inst = custval.load_instrument("bfi")
    g = load_golden("reliability", "bfi")
    table = item_analysis(bfi(keyed=False), inst)
    _check(table, g["pairwise"])
