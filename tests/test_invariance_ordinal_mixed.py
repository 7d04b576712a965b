"""The ordinal invariance ladder with ordered and continuous items together
(``measurement_invariance(..., estimator="WLSMV", ordered=[items])``), on survey exports: a
two-wave satisfaction survey with five-point items and continuous scores (one of them the
averaged 0-10 recommendation score), and bfi by gender with five items ordered and five
numeric -- against semTools::measEq.syntax(ordered = items, ID.cat = "Wu.Estabrook.2016") +
lavaan (WLSMV) + lavTestLRT (golden values from tests/r/invariance_ordinal_mixed.R).

lavaan's optimiser stops slightly short of the DWLS minimum in these fits (its chi-square is
above custval's at every level, by up to 4e-7 relative), so the statistics are compared to
1e-6 relative and the estimates to 1e-4 (absolute for values near 0, relative otherwise)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval.exceptions import DataValidationError, MissingDataWarning, SpecificationError
from custval.invariance import measurement_invariance, rank_invariance_candidates

GOLD = Path(__file__).parent / "golden" / "invariance_ordinal"
ROOT = Path(__file__).parents[1]
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
M_AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
ORD_BFI = ["A1", "A2", "A3", "C1", "C2"]
M_SIM = "F1 =~ s1 + s2 + s3 + r1\nF2 =~ s4 + s5 + c1 + c2 + c3"
ORD_SIM = [f"s{i}" for i in range(1, 6)]
CONT_SIM = ["r1", "c1", "c2", "c3"]
L4 = ("configural", "thresholds", "metric", "scalar")
L5 = (*L4, "strict")


def _export(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Write as a survey platform does (BOM, every field quoted, CRLF, a response-id and a
    submission-time column, empty cells for skipped questions) and read it back."""
    df = df.copy()
    df.insert(0, "ResponseId", [f"R_{i:06d}" for i in range(len(df))])
    df.insert(1, "submitted", pd.date_range("2026-03-01 08:00", periods=len(df), freq="7min").strftime("%d/%m/%Y %H:%M"))
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    sim = pd.read_csv(GOLD / "sim_mixed2.csv").drop(columns="id")
    sim3 = pd.read_csv(GOLD / "sim_mixed3.csv").drop(columns="id")
    bfi = pd.read_csv(ROOT / "custval" / "_data" / "bfi" / "bfi.csv")
    bfi = bfi.loc[bfi["gender"].notna(), AC + ["gender"]].reset_index(drop=True)
    return {"waves": _export(sim, tmp / "satisfaction_two_waves.csv"),
            "waves3": _export(sim3, tmp / "satisfaction_three_waves.csv"),
            "bfi": _export(bfi, tmp / "bfi_gender.csv")}


CASES = {  # golden name: (export, model, ordered, group, free, parameterization, levels, missing)
    "mixed_sim": ("waves", M_SIM, ORD_SIM, "wave", (), "delta", L4, "listwise"),
    "mixed_sim_theta": ("waves", M_SIM, ORD_SIM, "wave", (), "theta", L5, "listwise"),
    "mixed_sim_partial": ("waves", M_SIM, ORD_SIM, "wave", ("c2 ~ 1", "s2|t2"), "delta", L4, "listwise"),
    "mixed_bfi": ("bfi", M_AC, ORD_BFI, "gender", (), "delta", L4, "listwise"),
    "mixed_bfi_theta": ("bfi", M_AC, ORD_BFI, "gender", (), "theta", L5, "listwise"),
    "mixed_bfi_pairwise": ("bfi", M_AC, ORD_BFI, "gender", (), "delta", L4, "pairwise"),
    # three waves: c2's intercept released in w2 alone, s4's first threshold in w3 alone
    "mixed_sim3_pergroup": ("waves3", M_SIM, ORD_SIM, "wave", {"c2 ~ 1": ["w2"], "s4|t1": ["w3"]}, "delta", L4,
                            "listwise"),
}


def _run(exports, name, **kw):
    src, model, ordered, group, free, par, levels, missing = CASES[name]
    data = exports[src]
    if src == "bfi" and missing == "listwise":
        data = data.dropna(subset=AC)
    opts = dict(group=group, estimator="WLSMV", ordered=ordered, free=free, parameterization=par, levels=levels,
                missing=missing, stop=False)
    opts.update(kw)
    return measurement_invariance(data, model, **opts)


@pytest.fixture(scope="module")
def ladders(exports):
    return {name: _run(exports, name) for name in CASES}


def _gold(name):
    return json.loads((GOLD / f"{name}.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_fit_of_each_level_equals_lavaan(ladders, name):
    gold = _gold(name)
    res = ladders[name]
    assert list(res.table["level"]) == [lv["level"] for lv in gold["levels"]]
    assert res.n_used == gold["levels"][0]["fit"]["ntotal"]
    for row, lv in zip(res.table.to_dict("records"), gold["levels"]):
        f = lv["fit"]
        assert lv["converged"]
        assert row["df"] == f["df"] and row["npar"] == f["npar"], lv["level"]
        for ours, theirs in [("chisq", "chisq"), ("chisq_scaled", "chisq.scaled"),
                             ("scaling_factor", "chisq.scaling.factor"), ("rmsea_scaled", "rmsea.scaled")]:
            assert row[ours] == pytest.approx(f[theirs], rel=1e-6), (lv["level"], ours)
        for ours, theirs in [("cfi_scaled", "cfi.scaled"), ("cfi", "cfi"), ("rmsea", "rmsea")]:
            assert row[ours] == pytest.approx(f[theirs], abs=1e-7), (lv["level"], ours)
        assert row["srmr"] == pytest.approx(f["srmr"], abs=1e-7), lv["level"]
        # lavaan stops short of the minimum, never below it
        assert row["chisq"] <= f["chisq"] * (1 + 1e-9), lv["level"]


@pytest.mark.parametrize("name", list(CASES))
def test_differences_equal_lavTestLRT_of_each_pair(ladders, name):
    pairs = _gold(name)["pairs"]
    tab = ladders[name].table.iloc[1:]
    assert len(tab) == len(pairs)
    for row, ref in zip(tab.to_dict("records"), pairs):
        assert row["level"] == ref["level"]
        assert row["delta_df"] == ref["df_diff"], row["level"]
        assert row["delta_chisq"] == pytest.approx(ref["chisq_diff"], rel=1e-6), row["level"]
        assert row["p_value"] == pytest.approx(ref["pvalue"], rel=1e-5, abs=1e-12), row["level"]


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_se_and_free_parameters_equal_measEq_syntax(ladders, name):
    gold = _gold(name)
    res = ladders[name]
    cont = [v for v in dict.fromkeys(gold["levels"][0]["params"]["lhs"]) if v not in gold["ordered"]]
    for lv in gold["levels"]:
        ref = pd.DataFrame(lv["params"])
        ref = ref[ref["op"].isin(["=~", "|", "~1", "~~", "~*~"])]
        # measEq.syntax writes the continuous items' scale factors out (fixed at 1); lavaan and
        # custval do not report them otherwise
        scale_c = (ref["op"] == "~*~") & ref["lhs"].isin(cont)
        assert (ref.loc[scale_c, "est"] == 1).all() and (ref.loc[scale_c, "se"] == 0).all()
        ref = ref[~scale_c]
        ours = res.fits[lv["level"]].params_
        merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
        assert len(merged) == len(ref), lv["level"]
        np.testing.assert_allclose(merged["est"], merged["est_r"], rtol=1e-4, atol=1e-4, err_msg=lv["level"])
        np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-4, atol=1e-5, err_msg=lv["level"])
        free_r = set(map(tuple, ref.loc[ref["se"] > 0, ["lhs", "op", "rhs", "group"]].to_numpy()))
        free_o = set(map(tuple, merged.loc[merged["se"] > 0, ["lhs", "op", "rhs", "group"]].to_numpy()))
        assert free_o == free_r, lv["level"]


def _rows(res, level, op, items):
    pe = res.fits[level].params_
    sel = pe[(pe["op"] == op) & pe["lhs"].isin(items) & ((pe["lhs"] == pe["rhs"]) if op == "~~" else True)]
    return sel.pivot_table(index="lhs", columns="group", values="est")


def test_continuous_items_follow_the_continuous_rules(ladders):
    """Intercepts free in each wave up to metric and equal from scalar; residual variances free
    in each wave up to scalar and equal at strict; the ordered items' intercepts are 0 in the
    first wave throughout."""
    res = ladders["mixed_sim_theta"]
    for level in ("configural", "thresholds", "metric"):
        nu = _rows(res, level, "~1", CONT_SIM)
        assert (nu[1] != nu[2]).all(), level
    nu = _rows(res, "scalar", "~1", CONT_SIM)
    np.testing.assert_array_equal(nu[1], nu[2])
    th = _rows(res, "scalar", "~~", CONT_SIM)
    assert (th[1] != th[2]).all()
    th = _rows(res, "strict", "~~", CONT_SIM)
    np.testing.assert_array_equal(th[1], th[2])
    assert (_rows(res, "metric", "~1", ORD_SIM)[1] == 0).all()
    assert "continuous items r1, c1, c2, c3" in res.convention
    assert "ordered = c('s1', 's2', 's3', 's4', 's5')" in res.r_call


def test_shifted_continuous_intercept_fails_scalar_and_is_ranked_first(exports, ladders):
    """c2's intercept is shifted by +0.5 in wave w2 (the simulation's known truth): the scalar
    level fails and the ranking of the scalar constraints puts c2 ~ 1 first, with lavTestLRT's
    statistics for every released intercept."""
    res = ladders["mixed_sim"]
    tab = res.table.set_index("level")
    assert tab.loc["scalar", "verdict"] == "fails" and res.highest == "metric"
    data = exports["waves"]
    rank = rank_invariance_candidates(data, M_SIM, group="wave", level="scalar", estimator="WLSMV",
                                      ordered=ORD_SIM)
    gold = _gold("mixed_sim_rank_scalar")["candidates"]
    assert set(rank["parameter"]) == set(gold)
    assert rank.iloc[0]["parameter"] == "c2 ~ 1"
    for row in rank.to_dict("records"):
        ref = gold[row["parameter"]]
        assert row["delta_df"] == ref["df_diff"]
        assert row["delta_chisq"] == pytest.approx(ref["chisq_diff"], rel=1e-5, abs=1e-6), row["parameter"]
    # released, the ladder reaches scalar
    part = _run(exports, "mixed_sim", free=("c2 ~ 1",))
    assert part.highest == "scalar"


def test_release_in_one_wave_of_three_frees_only_that_wave(ladders):
    """c2's intercept (continuous) released in w2 alone: w1 and w3 share one at the scalar level."""
    pe = ladders["mixed_sim3_pergroup"].fits["scalar"].params_
    nu = pe[(pe["lhs"] == "c2") & (pe["op"] == "~1")].set_index("group")["est"]
    assert nu[1] == nu[3] and nu[2] > nu[1] + 0.3  # shifted up by 0.5 in w2 (the simulation's truth)
    assert "c2 ~ 1 in w2" in ladders["mixed_sim3_pergroup"].verdict


def test_release_in_the_first_wave_alone_of_a_continuous_intercept(exports, ladders):
    """With two waves a release in one wave is the release in both (the other wave keeps its
    own): a continuous item's intercept can be named in the first wave (it is free there)."""
    res = _run(exports, "mixed_sim_partial", free={"c2 ~ 1": ["w1"], "s2|t2": ["w2"]})
    ref = ladders["mixed_sim_partial"].table
    np.testing.assert_allclose(res.table["chisq"], ref["chisq"], rtol=1e-9)
    np.testing.assert_array_equal(res.table["df"], ref["df"])


def test_every_item_listed_is_the_all_ordered_ladder(exports):
    data = exports["bfi"].dropna(subset=AC)
    a = measurement_invariance(data, M_AC, group="gender", estimator="WLSMV", ordered=AC, levels=L4[:2])
    b = measurement_invariance(data, M_AC, group="gender", estimator="WLSMV", ordered=True, levels=L4[:2])
    np.testing.assert_array_equal(a.table["chisq"], b.table["chisq"])
    assert a.convention == b.convention and "continuous items A" not in a.convention
    assert a.r_call == b.r_call


def test_pairwise_keeps_rows_with_skipped_numeric_scores(exports):
    """Skipped answers to the continuous items stay (pairwise), rows without any answer go with
    a MissingDataWarning and are counted."""
    data = exports["bfi"].copy()
    data.loc[[5, 40, 41], AC] = np.nan
    with pytest.warns(MissingDataWarning, match=r"3 of 2800 rows .* no answer to any model item"):
        res = measurement_invariance(data, M_AC, group="gender", estimator="WLSMV", ordered=ORD_BFI,
                                     missing="pairwise", levels=L4[:2])
    assert res.n_rows == 2800 and res.n_used == 2797 and res.n_excluded == {"no observed item": 3}
    assert int(data[["A4", "A5", "C3", "C4", "C5"]].isna().any(axis=1).sum()) > 50  # kept, not dropped


def test_bad_input(exports, tmp_path):
    data = exports["waves"]
    with pytest.raises(SpecificationError, match=r"ordered item\(s\) \['q9'\] are not items of the model"):
        measurement_invariance(data, M_SIM, group="wave", estimator="WLSMV", ordered=["s1", "q9"])
    with pytest.raises(SpecificationError, match="parameterization='theta'"):
        measurement_invariance(data, M_SIM, group="wave", estimator="WLSMV", ordered=ORD_SIM, levels=L5)
    with pytest.raises(SpecificationError, match="ordered=True .* or ordered=\\[items\\]"):
        measurement_invariance(data, M_SIM, group="wave", estimator="MLR", ordered=ORD_SIM)
    # a label left in the recommendation-score column of the export: named, never coerced
    bad = data.copy()
    bad["r1"] = bad["r1"].astype(object)
    bad.loc[7, "r1"] = "don't know"
    path = tmp_path / "waves_with_label.csv"
    bad.to_csv(path, index=False)
    raw = pd.read_csv(path)
    with pytest.raises(DataValidationError, match=r"continuous item\(s\) \['r1'\] are not numeric"):
        measurement_invariance(raw, M_SIM, group="wave", estimator="WLSMV", ordered=ORD_SIM, levels=L4[:1])
