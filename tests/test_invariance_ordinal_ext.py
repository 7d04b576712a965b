"""The ordinal invariance ladder beyond polytomous complete data, on survey exports: binary
(yes/no) items and mixtures with polytomous items, missing answers kept pairwise, the strict
level (theta) and releases in one group only -- against semTools::measEq.syntax(ID.cat =
"Wu.Estabrook.2016") + lavaan (WLSMV) + lavTestLRT (golden values from
tests/r/invariance_ordinal_ext.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval.exceptions import (
    DataValidationError,
    InvarianceWarning,
    MissingDataWarning,
    SpecificationError,
)
from custval.invariance import measurement_invariance, rank_invariance_candidates

GOLD = Path(__file__).parent / "golden" / "invariance_ordinal"
ROOT = Path(__file__).parents[1]
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
M_AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
M_BIN = "F1 =~ b1 + b2 + b3 + b4\nF2 =~ b5 + b6 + b7 + b8"
M_MIX = "F1 =~ b1 + b2 + p1 + p2\nF2 =~ b5 + b6 + p3 + p4"
L4 = ("configural", "thresholds", "metric", "scalar")
L5 = (*L4, "strict")


def _export(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Write as a survey platform does (BOM, every field quoted, CRLF, a submission time column,
    empty cells for skipped questions) and read it back."""
    df = df.copy()
    df.insert(1, "submitted", pd.date_range("2026-03-01 08:00", periods=len(df), freq="7min").strftime("%d/%m/%Y %H:%M"))
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The simulated yes/no channel survey (three channels; two-channel export without 'store')
    and bfi with its missing answers, each as a survey export."""
    tmp = tmp_path_factory.mktemp("exports")
    sim = pd.read_csv(GOLD / "sim_binary.csv")
    bfi = pd.read_csv(ROOT / "custval" / "_data" / "bfi" / "bfi.csv")
    bfi = bfi.loc[bfi["gender"].notna(), AC + ["gender"]].reset_index(drop=True)
    return {
        "three": _export(sim, tmp / "channels_all.csv"),
        "two": _export(sim[sim["channel"] != "store"], tmp / "channels_web_phone.csv"),
        "bfi": _export(bfi, tmp / "bfi_gender.csv"),
    }


CASES = {  # golden name: (export, model, group, free, parameterization, levels, missing)
    "ext_sim_binary": ("two", M_BIN, "channel", (), "delta", L4, "listwise"),
    "ext_sim_binary_partial": ("two", M_BIN, "channel", ("b2|t1",), "delta", L4, "listwise"),
    "ext_sim_binary_theta": ("two", M_BIN, "channel", (), "theta", L5, "listwise"),
    "ext_sim_mixed": ("two", M_MIX, "channel", (), "delta", L4, "listwise"),
    "ext_sim_mixed_partial": ("two", M_MIX, "channel", ("p1|t2", "b5 ~ 1"), "delta", L4, "listwise"),
    "ext_bfi_pairwise": ("bfi", M_AC, "gender", (), "delta", L4, "pairwise"),
    "ext_bfi_strict_theta": ("bfi", M_AC, "gender", (), "theta", L5, "listwise"),
    "ext_sim_mixed_strict_theta": ("two", M_MIX, "channel", (), "theta", L5, "listwise"),
    "ext_sim3_binary_pergroup": ("three", M_BIN, "channel", {"b2|t1": ["phone"]}, "delta", L4, "listwise"),
    "ext_sim3_mixed_pergroup": ("three", M_MIX, "channel", {"b2|t1": ["phone"], "p1 ~ 1": ["store"]}, "delta",
                                L4, "listwise"),
    "ext_sim3_mixed_pergroup_loading": ("three", M_MIX, "channel", {"F1 =~ p2": ["store"], "b2|t1": ["phone"]},
                                        "delta", L4, "listwise"),
}
# theta ladders: lavaan's nlminb stops short of the minimum (the known divergence of two-group
# theta fits, up to 4e-5 in the estimates here): there the statistics are compared, not the
# estimates, and what depends on the estimates beyond the chi-square (SRMR, the difference
# test's Delta matrices) agrees to 1e-6 absolute / 1e-5 relative instead of 1e-7 / 1e-6
THETA = {name for name, case in CASES.items() if case[4] == "theta"}


def _run(exports, name):
    src, model, group, free, par, levels, missing = CASES[name]
    data = exports[src]
    if src == "bfi" and missing == "listwise":
        data = data.dropna(subset=AC)
    dfs = [lv["fit"]["df"] for lv in json.loads((GOLD / f"{name}.json").read_text())["levels"]]
    not_nested = any(b < a for a, b in zip(dfs, dfs[1:]))  # binary items: scalar has fewer df than metric
    with pytest.warns(InvarianceWarning, match="not nested") if not_nested else _nothing():
        return measurement_invariance(data, model, group=group, estimator="WLSMV", ordered=True, free=free,
                                      parameterization=par, levels=levels, missing=missing, stop=False)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture(scope="module")
def ladders(exports):
    return {name: _run(exports, name) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_fit_of_each_level_equals_lavaan(ladders, name):
    gold = json.loads((GOLD / f"{name}.json").read_text())
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
        assert row["srmr"] == pytest.approx(f["srmr"], abs=1e-6 if name in THETA else 1e-7), lv["level"]


@pytest.mark.parametrize("name", list(CASES))
def test_differences_equal_lavTestLRT_of_each_pair(ladders, name):
    """Each level against the previous one as ``lavTestLRT(previous, level)`` (which sorts the
    pair by df: binary items make the scalar model less restricted than the metric one)."""
    pairs = json.loads((GOLD / f"{name}.json").read_text())["pairs"]
    tab = ladders[name].table.iloc[1:]
    for row, ref in zip(tab.to_dict("records"), pairs):
        assert row["level"] == ref["level"]
        assert row["delta_df"] == ref["df_diff"], row["level"]
        rel = 1e-5 if name in THETA else 1e-6
        assert row["delta_chisq"] == pytest.approx(ref["chisq_diff"], rel=rel, abs=1e-6), row["level"]
        if ref["pvalue"] is None:
            assert np.isnan(row["p_value"])
        else:
            assert row["p_value"] == pytest.approx(ref["pvalue"], rel=1e-5, abs=1e-12), row["level"]


@pytest.mark.parametrize("name", sorted(set(CASES) - THETA))
def test_estimates_and_se_equal_lavaan(ladders, name):
    gold = json.loads((GOLD / f"{name}.json").read_text())
    res = ladders[name]
    for lv in gold["levels"]:
        ref = pd.DataFrame(lv["params"])
        ref = ref[ref["op"].isin(["=~", "|", "~1", "~~", "~*~"])]
        ours = res.fits[lv["level"]].params_
        merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
        assert len(merged) == len(ref), lv["level"]
        np.testing.assert_allclose(merged["est"], merged["est_r"], atol=2e-5, err_msg=lv["level"])
        np.testing.assert_allclose(merged["se"], merged["se_r"], atol=2e-5, err_msg=lv["level"])
        # the same parameters are free (measEq.syntax's identification)
        free_r = set(map(tuple, ref.loc[ref["se"] > 0, ["lhs", "op", "rhs", "group"]].to_numpy()))
        free_o = set(map(tuple, merged.loc[merged["se"] > 0, ["lhs", "op", "rhs", "group"]].to_numpy()))
        assert free_o == free_r, lv["level"]


def test_binary_items_thresholds_level_is_the_configural_model_and_scalar_is_not_nested(ladders):
    """Wu & Estabrook (2016): with one threshold per item, equal thresholds with free intercepts
    reparametrise the configural model (0 df, same chi-square); the scalar level frees the scale
    factors, has fewer df than the metric level and is flagged as not nested."""
    tab = ladders["ext_sim_binary"].table.set_index("level")
    assert tab.loc["thresholds", "delta_df"] == 0
    assert tab.loc["thresholds", "chisq"] == pytest.approx(tab.loc["configural", "chisq"], rel=1e-8)
    assert tab.loc["scalar", "df"] < tab.loc["metric", "df"]
    assert "not nested" in tab.loc["scalar", "reason"]


def test_release_in_one_group_frees_only_that_group(ladders):
    """b2's threshold is shifted in channel 'phone' only: released there, web and store share it."""
    res = ladders["ext_sim3_binary_pergroup"]
    assert "b2|t1 in phone" in res.verdict
    pe = res.fits["scalar"].params_
    th = pe[(pe["lhs"] == "b2") & (pe["op"] == "|")].set_index("group")["est"]
    assert th[1] == th[3] and th[2] > th[1] + 0.3  # shared by web (1) and store (3); shifted up in phone
    # its intercept and scale factor stay fixed in phone (no equal threshold left there)
    nu = pe[(pe["lhs"] == "b2") & (pe["op"] == "~1")].set_index("group")
    assert nu.loc[2, "se"] == 0 and nu.loc[2, "est"] == 0


def test_pairwise_keeps_incomplete_rows_and_counts_them(exports):
    data = exports["bfi"].copy()
    data.loc[[3, 17], AC] = np.nan  # two respondents who answered none of the items
    with pytest.warns(MissingDataWarning, match=r"2 of 2800 rows .* no answer to any model item"):
        res = measurement_invariance(data, M_AC, group="gender", estimator="WLSMV", ordered=True,
                                     missing="pairwise", levels=("configural", "thresholds"))
    incomplete = int(data[AC].isna().any(axis=1).sum())
    assert incomplete > 100  # bfi's own skipped answers are kept, not dropped
    assert res.n_rows == 2800 and res.n_used == 2798
    assert res.n_excluded == {"no observed item": 2}
    assert sum(res.n_per_group.values()) == res.n_used
    assert res.fits["configural"].fit_measures_["ntotal"] == 2798


def test_strict_needs_theta(exports):
    with pytest.raises(SpecificationError, match="parameterization='theta'"):
        measurement_invariance(exports["two"], M_MIX, group="channel", estimator="WLSMV", ordered=True, levels=L5)


def test_per_group_release_errors_name_the_groups(exports):
    data = exports["three"]
    with pytest.raises(SpecificationError, match=r"unknown group\(s\) \['mail'\]"):
        measurement_invariance(data, M_MIX, group="channel", estimator="WLSMV", ordered=True,
                               free={"b2|t1": ["mail"]})
    with pytest.raises(SpecificationError, match="first group"):
        measurement_invariance(data, M_MIX, group="channel", estimator="WLSMV", ordered=True,
                               free={"p1 ~ 1": ["web"]})
    with pytest.raises(SpecificationError, match="only thresholds"):
        measurement_invariance(data, M_MIX, group="channel", estimator="WLSMV", ordered=True,
                               free={"p1 ~~ p1": ["store"]}, parameterization="theta", levels=L5)


def test_binary_category_empty_in_one_group_is_an_error_naming_item_and_group(exports):
    data = exports["two"].copy()
    data.loc[data["channel"] == "phone", "b3"] = 0  # no phone respondent said "yes" to b3
    with pytest.raises(DataValidationError, match=r"phone.*b3") as err:
        measurement_invariance(data, M_BIN, group="channel", estimator="WLSMV", ordered=True)
    assert "b3" in str(err.value) and "phone" in str(err.value)


def test_rank_with_per_group_releases_and_strict_candidates(exports):
    """Strict candidates (theta) as lavTestLRT(released, strict) (statistics at 1e-5: theta)."""
    gold = json.loads((GOLD / "ext_sim_mixed_rank_strict.json").read_text())["candidates"]
    res = rank_invariance_candidates(exports["two"], M_MIX, group="channel", level="strict", estimator="WLSMV",
                                     ordered=True, parameterization="theta")
    assert set(res["parameter"]) == set(gold) == {f"{i} ~~ {i}" for i in ["b1", "b2", "p1", "p2", "b5", "b6",
                                                                         "p3", "p4"]}
    for row in res.to_dict("records"):
        ref = gold[row["parameter"]]
        assert row["delta_df"] == ref["df_diff"]
        assert row["delta_chisq"] == pytest.approx(ref["chisq_diff"], rel=1e-5, abs=1e-6), row["parameter"]
        assert row["p_value"] == pytest.approx(ref["pvalue"], rel=1e-5), row["parameter"]
    res = rank_invariance_candidates(exports["three"], M_BIN, group="channel", level="thresholds",
                                     estimator="WLSMV", ordered=True, free={"b2|t1": ["phone"]})
    assert "b2|t1" not in set(res["parameter"]) and res["converged"].all()


def test_rank_binary_intercepts_finds_the_shifted_item(exports):
    """With binary items an intercept release at the scalar level fixes the item's scale factor
    again (measEq.syntax's rule): 0 df, so the candidates are ranked by the chi-square change
    alone (lavTestLRT's T0 - T1 for equal df) -- and b2, shifted in channel 'phone', leads."""
    res = rank_invariance_candidates(exports["two"], M_BIN, group="channel", level="scalar", estimator="WLSMV",
                                     ordered=True)
    assert res.loc[0, "parameter"] == "b2 ~ 1"
    assert (res["delta_df"] == 0).all() and res["p_value"].isna().all()
    assert res.loc[0, "delta_chisq"] > 5 * res.loc[1, "delta_chisq"]


def test_loading_released_in_one_group_is_shared_by_the_others(ladders):
    res = ladders["ext_sim3_mixed_pergroup_loading"]
    assert "F1 =~ p2 in store" in res.verdict
    for level in ("metric", "scalar"):
        pe = res.fits[level].params_
        lam = pe[(pe["lhs"] == "F1") & (pe["op"] == "=~") & (pe["rhs"] == "p2")].set_index("group")
        assert lam.loc[1, "est"] == lam.loc[2, "est"] and lam.loc[1, "free"] == lam.loc[2, "free"]
        assert lam.loc[3, "free"] != lam.loc[1, "free"] and lam.loc[3, "est"] != lam.loc[1, "est"]
    pe = res.fits["configural"].params_  # free in every group before the loadings are equated
    lam = pe[(pe["lhs"] == "F1") & (pe["op"] == "=~") & (pe["rhs"] == "p2")]
    assert lam["free"].nunique() == 3


@pytest.mark.parametrize("case, free", [("intercept", {"x3 ~ 1": ["b"]}), ("loading", {"visual =~ x2": ["b"]})])
def test_continuous_release_in_one_of_three_groups_is_equated_only_at_its_level(tmp_path, case, free):
    """The continuous ladder names per-group releases the same way: with three groups, x3's
    intercept free in group b alone stays free in every group until the scalar level (before,
    the per-group labels equated groups a and c already in the configural model)."""
    hs = pd.read_csv(ROOT / "custval" / "_data" / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    hs["grp"] = np.array(["a", "b", "c"])[np.arange(len(hs)) % 3]
    data = _export(hs.drop(columns=["school"]), tmp_path / "hs_three_groups.csv")
    model = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
    gold = json.loads((GOLD / "ext_hs3_pergroup.json").read_text())["cases"][case]
    res = measurement_invariance(data, model, group="grp", free=free, stop=False,
                                 levels=("configural", "metric", "scalar"))
    for row in res.table.to_dict("records"):
        assert row["df"] == gold[row["level"]]["df"], row["level"]
        assert row["chisq"] == pytest.approx(gold[row["level"]]["chisq"], rel=1e-6), row["level"]


def test_result_names_pairwise_and_per_group_releases(ladders):
    res = ladders["ext_bfi_pairwise"]
    assert "pairwise" in res.convention and "missing = 'pairwise'" in res.r_call and res.missing == "pairwise"
    res = ladders["ext_sim3_mixed_pergroup"]
    assert set(res.free) == {"b2|t1", "p1 ~ 1"}
    assert "lavTestLRT(configural, thresholds, metric, scalar)" in res.r_call


def test_pairwise_category_empty_in_one_group_is_an_error_naming_item_and_group(exports):
    """Skipped answers do not hide an empty category: no man (gender 1) answered 6 on A1."""
    data = exports["bfi"].copy()
    data.loc[(data["gender"] == 1) & (data["A1"] == 6), "A1"] = np.nan
    with pytest.raises(DataValidationError, match=r"group 1 .*A1 \(1: \d+, .*6: 0\)"):
        measurement_invariance(data, M_AC, group="gender", estimator="WLSMV", ordered=True, missing="pairwise")
