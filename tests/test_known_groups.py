"""Known-groups and criterion validity against psych::cohen.d and cor.test (tests/r/known_groups.R).

bfi (2800 respondents): women (gender 2) against men (gender 1) on the five construct scores,
and the scores against age and education (education has missing values: pairwise n).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import custval
from custval.criterion import CriterionValidityResult, KnownGroupsResult

TOL = 1e-8  # closed forms and a root solved to machine precision (achieved ~4e-13)
PSYCH_UNIROOT_TOL = 2e-6  # psych solves the interval's noncentrality with uniroot's default tol (~1e-4)
GOLDEN = json.loads((Path(__file__).parent / "golden" / "validity" / "known_groups.json").read_text())


@pytest.fixture(scope="module")
def bfi():
    return custval.load_dataset("bfi").data, custval.load_instrument("bfi")


@pytest.fixture(scope="module")
def kg(bfi):
    data, inst = bfi
    return custval.known_groups(data, inst, group="gender", expected={"A": "higher", "O": "higher"})


def test_cohen_d_and_hedges_g_equal_psych(kg):
    for c, g in GOLDEN["known_groups"].items():
        desc = kg.descriptives
        assert desc.loc[(c, 1), "n"] == g["n1"] and desc.loc[(c, 2), "n"] == g["n2"]
        assert desc.loc[(c, 1), "mean"] == pytest.approx(g["mean1"], abs=TOL)
        assert desc.loc[(c, 2), "sd"] == pytest.approx(g["sd2"], abs=TOL)
        for name, key in (("cohen_d", "d"), ("hedges_g", "g")):
            row = kg.table.loc[(c, name)]
            assert row["estimate"] == pytest.approx(g[key], abs=TOL)
            # psych's own computation with a tight root
            assert row["ci_low"] == pytest.approx(g[key + "_ci"][0], abs=TOL)
            assert row["ci_high"] == pytest.approx(g[key + "_ci"][1], abs=TOL)
            # psych::cohen.d as it prints, within its uniroot tolerance
            assert row["ci_low"] == pytest.approx(g[key + "_ci_psych"][0], abs=PSYCH_UNIROOT_TOL)
            assert row["ci_high"] == pytest.approx(g[key + "_ci_psych"][1], abs=PSYCH_UNIROOT_TOL)
            assert row["t"] == pytest.approx(g["t"], abs=TOL)
            assert row["t"] == pytest.approx(g["t_test"], abs=TOL)  # Student's pooled t.test
            assert row["n"] == g["n1"] + g["n2"]


def test_verdicts_follow_the_interval(kg):
    frame = kg.to_frame()
    assert frame.loc["A", "verdict"] == "supported"  # women higher on agreeableness
    assert frame.loc["O", "d_ci_high"] < 0 and frame.loc["O", "verdict"] == "contradicted"
    assert kg.groups == (1, 2)
    assert "gender 2 minus gender 1" in kg.summary()
    assert isinstance(kg, KnownGroupsResult) and "<table" in kg._repr_html_()


def test_criterion_correlations_equal_cor_test(bfi):
    data, inst = bfi
    res = custval.criterion_validity(data, inst, criteria=["age", "education"])
    assert isinstance(res, CriterionValidityResult)
    for key, g in GOLDEN["criteria"].items():
        c, cr = key.split("|")
        row = res.table.loc[(c, cr)]
        assert row["n"] == g["n"]
        assert row["estimate"] == pytest.approx(g["r"], abs=TOL)
        assert row["ci_low"] == pytest.approx(g["ci"][0], abs=TOL)
        assert row["ci_high"] == pytest.approx(g["ci"][1], abs=TOL)
        assert row["t"] == pytest.approx(g["t"], abs=TOL)
        assert row["df"] == g["df"]
        assert row["p_value"] == pytest.approx(g["p"], rel=1e-9, abs=1e-300)
    # psych::corr.test gives the same interval
    for ci in GOLDEN["corr_test_ci"]:
        c, cr = ci["_row"].split("-")
        cr = {"edctn": "education"}.get(cr, cr)  # corr.test abbreviates the row names
        assert res.table.loc[(c, cr), "ci_low"] == pytest.approx(ci["lower"], abs=TOL)
    assert res.wide().shape == (5, 2)
