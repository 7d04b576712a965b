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


# ------------------------------------------------------------ integer-code fast path
def _likert(n, p, seed, lo=1, hi=7):
    rng = np.random.default_rng(seed)  # simulated: one factor, rounded and clipped to the scale
    f = rng.standard_normal((n, 1))
    x = np.clip(np.round((lo + hi) / 2 + 1.2 * (0.6 * f + 0.8 * rng.standard_normal((n, p)))), lo, hi)
    return pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(p)])


@pytest.mark.parametrize("n", [401, 402])  # odd and even n: the median from counts follows numpy
def test_integer_path_equals_general_path(n):
    """Integer codes take the value-count path; halved codes (not integers) the general one."""
    x = _likert(n, 6, seed=n)
    x.iloc[0, 2] = 1.0  # make sure the floor is hit in the halved copy too
    fast = item_analysis(x)
    slow = item_analysis(x / 2)  # same scale, every statistic scales or stays
    for col in ("mean", "sd", "median", "min", "max"):
        np.testing.assert_allclose(fast[col], 2 * slow[col], rtol=1e-13, err_msg=col)
    for col in ("n", "skew", "kurtosis", "pct_floor", "pct_ceiling", "raw_r", "r_cor", "r_drop",
                "alpha_if_deleted", "mean_r"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-12, atol=1e-14, err_msg=col)
    np.testing.assert_array_equal(fast["median"], x.median().to_numpy())


def test_describe_counts_matches_numpy():
    from custval._stats import relcore as core

    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 10):
        col = rng.integers(-3, 40, n).astype(float)
        vals, counts = core.integer_counts(col)
        d = core.describe_counts(vals, counts)
        assert d["n"] == n and d["median"] == np.median(col)
        assert (d["min"], d["max"]) == (col.min(), col.max())
        dev = col - col.mean()
        np.testing.assert_allclose([d["mean"], d["m2"], d["m3"], d["m4"]],
                                   [col.mean(), (dev**2).sum(), (dev**3).sum(), (dev**4).sum()],
                                   rtol=1e-12, atol=1e-12)


def test_integer_counts_rejects_non_codes():
    from custval._stats import relcore as core

    assert core.integer_counts(np.array([1.0, 2.0, 2.5])) is None
    assert core.integer_counts(np.array([1.0, 40000.0])) is None  # beyond int16: general path
    assert core.integer_counts(np.array([1.0, np.inf])) is None
    vals, counts = core.integer_counts(np.array([3.0, -1.0, 3.0, 0.0]))
    assert vals.tolist() == [-1, 0, 1, 2, 3] and counts.tolist() == [1, 1, 0, 0, 2]


def test_exact_cross_products_match_np_cov():
    from custval._stats import relcore as core

    x = _likert(3000, 5, seed=4, lo=0, hi=10).to_numpy()
    codes, _ = core.integer_codes(x)
    c = core.gram_cov_codes(codes, x.sum(axis=0), maxabs=10)
    np.testing.assert_allclose(c, np.cov(x, rowvar=False), rtol=1e-13)
    assert codes.dtype == np.int8
    assert core.gram_cov_codes(codes, x.sum(axis=0), maxabs=200) is None  # chunks too small to be exact
    wide = x * 100.0  # codes 0..1000 need int16; too large for float32 chunks, X'X in double is exact
    codes, counts = core.integer_codes(wide)
    assert codes.dtype == np.int16 and counts[0][0][-1] <= 1000
    assert core.gram_cov_codes(codes, wide.sum(axis=0), maxabs=1000) is None
    np.testing.assert_allclose(core.gram_cov(wide, exact=True), np.cov(wide, rowvar=False), rtol=1e-13)
    frame = pd.DataFrame(wide, columns=[f"w{j}" for j in range(wide.shape[1])])
    np.testing.assert_allclose(item_analysis(frame)["sd"], frame.std(), rtol=1e-13)
    assert core.integer_codes(wide + 0.5) is None and core.integer_codes(wide * 100) is None


def test_raw_cross_products_refused_under_cancellation():
    from custval._stats import relcore as core

    rng = np.random.default_rng(5)
    x = 1e8 + rng.standard_normal((500, 3))  # mean >> sd: X'X would lose the covariance
    assert core.gram_cov(x) is None
    cov, _ = core.covariance(x)
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False), rtol=1e-9)
    y = x - 1e8
    np.testing.assert_allclose(core.gram_cov(y), np.cov(y, rowvar=False), rtol=1e-12)
