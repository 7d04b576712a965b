"""Invariance for ordered items: the Wu & Estabrook (2016) ladder against
semTools::measEq.syntax + lavaan (WLSMV) and lavTestLRT's scaled-shifted differences
(golden values from tests/r/invariance_ordinal.R)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval.exceptions import SpecificationError
from custval.invariance import measurement_invariance

GOLD = Path(__file__).parent / "golden" / "invariance_ordinal"
ROOT = Path(__file__).parents[1]
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
M_AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
M_SIM = "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8"
Q2_THRESHOLDS = tuple(f"q2|t{k}" for k in range(1, 5))


def _bfi():
    bfi = pd.read_csv(ROOT / "custval" / "_data" / "bfi" / "bfi.csv")
    return bfi.dropna(subset=[*AC, "gender"])[[*AC, "gender"]]


def _sim():
    return pd.read_csv(GOLD / "sim_thresholds.csv")


CASES = {
    "bfi_gender": lambda: (_bfi(), M_AC, "gender", (), "delta"),
    "bfi_gender_partial": lambda: (_bfi(), M_AC, "gender", ("A1|t2",), "delta"),
    "bfi_gender_partial_load_int": lambda: (_bfi(), M_AC, "gender", ("A =~ A2", "C3 ~ 1"), "delta"),
    "bfi_gender_theta": lambda: (_bfi(), M_AC, "gender", (), "theta"),
    "sim_thresholds": lambda: (_sim(), M_SIM, "group", (), "delta"),
    "sim_thresholds_partial": lambda: (_sim(), M_SIM, "group", Q2_THRESHOLDS, "delta"),
}


@pytest.fixture(scope="module")
def ladders():
    out = {}
    for name, make in CASES.items():
        data, model, group, free, par = make()
        out[name] = measurement_invariance(data, model, group=group, estimator="WLSMV", ordered=True,
                                           free=free, parameterization=par, stop=False)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_fit_of_each_level_equals_lavaan(ladders, name):
    gold = json.loads((GOLD / f"{name}.json").read_text())
    res = ladders[name]
    assert list(res.table["level"]) == [lv["level"] for lv in gold["levels"]]
    for row, lv in zip(res.table.to_dict("records"), gold["levels"]):
        f = lv["fit"]
        assert row["df"] == f["df"] and row["npar"] == f["npar"]
        for ours, theirs in [("chisq", "chisq"), ("chisq_scaled", "chisq.scaled"),
                             ("scaling_factor", "chisq.scaling.factor")]:
            assert row[ours] == pytest.approx(f[theirs], rel=1e-6), (lv["level"], ours)
        for ours, theirs in [("cfi_scaled", "cfi.scaled"), ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr"),
                             ("cfi", "cfi"), ("rmsea", "rmsea")]:
            assert row[ours] == pytest.approx(f[theirs], abs=1e-7), (lv["level"], ours)


@pytest.mark.parametrize("name", list(CASES))
def test_scaled_shifted_differences_equal_lavTestLRT(ladders, name):
    gold = json.loads((GOLD / f"{name}.json").read_text())["lrt"]
    tab = ladders[name].table
    np.testing.assert_allclose(tab["delta_chisq"].to_numpy()[1:], gold["chisq_diff"][1:], rtol=1e-6)
    np.testing.assert_array_equal(tab["delta_df"].to_numpy()[1:], gold["df_diff"][1:])
    np.testing.assert_allclose(tab["p_value"].to_numpy()[1:], gold["pvalue"][1:], rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("name", ["bfi_gender", "bfi_gender_partial", "bfi_gender_partial_load_int",
                                  "sim_thresholds_partial"])
def test_estimates_and_se_equal_lavaan(ladders, name):
    """Delta cases (in the theta ladder lavaan's nlminb stops ~2e-5 short of the minimum, the known
    divergence of the two-group theta CFA; its statistics are compared above)."""
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


def test_known_truth_in_the_simulated_set(ladders):
    """q2's thresholds are shifted in group b: scalar invariance fails, and holds with them free."""
    full, partial = ladders["sim_thresholds"], ladders["sim_thresholds_partial"]
    assert full.table.set_index("level").loc["scalar", "p_value"] < 1e-10
    assert partial.table.set_index("level").loc["scalar", "p_value"] > 0.05
    assert partial.highest == "scalar" and "q2|t1" in partial.verdict
    assert partial.latent_means is not None and (partial.latent_means["estimate"] > 0).all()


def test_summary_names_the_identification_and_test(ladders):
    text = ladders["bfi_gender"].summary()
    assert "Wu & Estabrook (2016)" in text and "scaled-shifted" in text and "measEq.syntax" in text


def test_wrong_options_are_specification_errors():
    data = _sim()
    with pytest.raises(SpecificationError, match="estimator='WLSMV' and ordered=True"):
        measurement_invariance(data, M_SIM, group="group", estimator="MLR", ordered=True)
    with pytest.raises(SpecificationError, match="unknown level"):
        measurement_invariance(data, M_SIM, group="group", estimator="WLSMV", ordered=True, levels=("partial",))
    # the strict level exists with ordered items, under the theta parameterization only
    with pytest.raises(SpecificationError, match="parameterization='theta'"):
        measurement_invariance(data, M_SIM, group="group", estimator="WLSMV", ordered=True, levels=("strict",))
    with pytest.raises(SpecificationError, match="unknown group"):
        measurement_invariance(data, M_SIM, group="group", estimator="WLSMV", ordered=True,
                               free={"q2|t1": ["c"]})
    with pytest.raises(SpecificationError, match="exactly one threshold"):
        measurement_invariance(data, M_SIM, group="group", estimator="WLSMV", ordered=True,
                               free=("q2|t1", "q2|t2", "q2|t3"))
    with pytest.raises(SpecificationError, match="only with ordered items"):
        measurement_invariance(data, M_SIM, group="group", free=("q2|t1",))


def test_ranked_intercept_releases_equal_lavTestLRT_and_find_the_shifted_item():
    from custval.invariance import rank_invariance_candidates

    gold = json.loads((GOLD / "sim_rank_scalar.json").read_text())["candidates"]
    res = rank_invariance_candidates(_sim(), M_SIM, group="group", level="scalar", estimator="WLSMV",
                                     ordered=True)
    assert res.loc[0, "parameter"] == "q2 ~ 1"
    assert set(res["parameter"]) == set(gold)
    for row in res.to_dict("records"):
        ref = gold[row["parameter"]]
        assert row["delta_chisq"] == pytest.approx(ref["chisq_diff"], rel=1e-6), row["parameter"]
        assert row["delta_df"] == ref["df_diff"]
        assert row["p_value"] == pytest.approx(ref["pvalue"], rel=1e-5)


def test_ranked_threshold_releases_skip_those_leaving_one_equal_threshold():
    from custval.invariance import rank_invariance_candidates

    res = rank_invariance_candidates(_sim(), M_SIM, group="group", level="thresholds", estimator="WLSMV",
                                     ordered=True, free=("q2|t1", "q2|t2"))
    assert "q2|t3" not in set(res["parameter"]) and "q1|t1" in set(res["parameter"])
    assert (res["delta_df"] == 1).all() and res["converged"].all()


def test_provider_and_customer_forms_on_ordered_items():
    """The customer-wisdom forms compared as ordered categories: empty extreme categories are an
    error until merged on request (recorded); then the ladder runs and the simulated
    non-invariant pair is flagged, as with ML."""
    from custval.exceptions import DataValidationError
    from custval.gaps import form_invariance
    from custval.items import collapse_categories
    from custval.simulate import case_study

    prov, cust = case_study(seed=0).validated()
    with pytest.raises(DataValidationError, match=r"group 'provider' some categories are empty: CQUAL_1 \(1: 0"):
        form_invariance(prov, cust, "cwi", constructs=["CQUAL"], estimator="WLSMV", ordered=True)
    merge = {1: 2, 7: 6}
    prov2 = collapse_categories(prov, {f"CQUAL_P{k}": merge for k in range(1, 6)})
    cust2 = collapse_categories(cust, {f"CQUAL_C{k}": merge for k in range(1, 6)})
    assert len(prov2.attrs["collapsed"]) == 10
    res = form_invariance(prov2, cust2, "cwi", constructs=["CQUAL"], estimator="WLSMV", ordered=True)
    assert list(res.invariance.table["level"])[:2] == ["configural", "thresholds"]
    assert res.invariance.estimator == "WLSMV"
    assert res.flagged == ("CQUAL_P2", "CQUAL_C2")
    assert res.candidates.loc[0, "parameter"] == "CQUAL_2 ~ 1"
