"""Content validity against the published tables of the papers that define the indices.

The reference numbers below are copied from the papers (they are published values, not
output of custval):

* Polit, Beck & Owen (2007), Research in Nursing & Health 30, 459-467, Table 4 ("Evaluation
  of I-CVIs with different numbers of experts and agreement"): N experts, A rating 3 or 4,
  I-CVI, p_c and k*, printed to 2 (I-CVI, k*) and 3 (p_c) decimals.  The paper's k* were
  computed from rounded intermediate values, so a printed k* can differ from the exact value
  by up to .01 (7 experts / 5 agreeing: exact .658, printed .65; 8/7: exact .871, printed .88).
* Ayre & Scally (2014), Measurement and Evaluation in Counseling and Development 47, 79-86,
  Table 1: critical number of "essential" votes and critical CVR, N = 5..40 experts, one-sided
  alpha = .05 (exact binomial), CVR printed to 3 decimals.
* Penfield & Giacobbi (2004): Aiken's V score interval is the score (Wilson) interval of a
  proportion with N*k trials; checked against scipy's independent Wilson interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import custval
from custval.content import ContentValidityResult, content_validity, lawshe_critical, modified_kappa
from custval.exceptions import DataValidationError, InsufficientDataError, SpecificationError

# Polit, Beck & Owen (2007), Table 4: (N, A, I-CVI, p_c, k*)
POLIT_TABLE4 = [
    (3, 3, 1.00, .125, 1.00), (3, 2, .67, .375, .47),
    (4, 4, 1.00, .063, 1.00), (4, 3, .75, .250, .67),
    (5, 5, 1.00, .031, 1.00), (5, 4, .80, .156, .76),
    (6, 6, 1.00, .016, 1.00), (6, 5, .83, .094, .82), (6, 4, .67, .234, .56),
    (7, 7, 1.00, .008, 1.00), (7, 6, .86, .055, .85), (7, 5, .71, .164, .65),
    (8, 8, 1.00, .004, 1.00), (8, 7, .88, .031, .88), (8, 6, .75, .109, .72),
    (9, 9, 1.00, .002, 1.00), (9, 8, .89, .018, .89), (9, 7, .78, .070, .76),
]
# the evaluation column of the same table (k* > .74 excellent, .60-.74 good, .40-.59 fair)
POLIT_EVALUATION = {(3, 2): "fair", (4, 3): "good", (6, 4): "fair", (7, 5): "good", (8, 6): "good"}

# Ayre & Scally (2014), Table 1: N -> (critical number essential, CVR critical)
AYRE_SCALLY = {
    5: (5, 1.000), 6: (6, 1.000), 7: (7, 1.000), 8: (7, .750), 9: (8, .778), 10: (9, .800),
    11: (9, .636), 12: (10, .667), 13: (10, .538), 14: (11, .571), 15: (12, .600), 16: (12, .500),
    17: (13, .529), 18: (13, .444), 19: (14, .474), 20: (15, .500), 21: (15, .429), 22: (16, .455),
    23: (16, .391), 24: (17, .417), 25: (18, .440), 26: (18, .385), 27: (19, .407), 28: (19, .357),
    29: (20, .379), 30: (20, .333), 31: (21, .355), 32: (22, .375), 33: (22, .333), 34: (23, .353),
    35: (23, .314), 36: (24, .333), 37: (24, .297), 38: (25, .316), 39: (26, .333), 40: (26, .300),
}


def _panel(n: int, a: int, *, lo_rating=2, hi_rating=4) -> pd.DataFrame:
    """N experts, the first A of whom rate the item relevant."""
    col = [hi_rating] * a + [lo_rating] * (n - a)
    return pd.DataFrame({"item": col}, index=[f"E{i + 1}" for i in range(n)])


@pytest.mark.parametrize("n,a,icvi,pc,kappa", POLIT_TABLE4)
def test_modified_kappa_reproduces_polit_beck_owen_table4(n, a, icvi, pc, kappa):
    res = content_validity(_panel(n, a))
    row = res.items.loc["item"]
    assert row["n_raters"] == n and row["n_relevant"] == a
    # half a unit of the printed digit (+ float slack for .875 -> .88 and .0625 -> .063)
    assert abs(row["i_cvi"] - icvi) <= 0.005 + 1e-12
    assert abs(row["p_chance"] - pc) <= 0.0005 + 1e-12
    assert abs(row["kappa"] - kappa) <= 0.01  # the paper rounded I-CVI and p_c before dividing
    assert modified_kappa(a, n) == (row["kappa"], row["p_chance"])
    assert row["kappa_rating"] == POLIT_EVALUATION.get((n, a), "excellent")
    assert row["verdict"] == ("keep" if row["kappa_rating"] == "excellent" else "drop")


@pytest.mark.parametrize("n", sorted(AYRE_SCALLY))
def test_lawshe_critical_values_reproduce_ayre_scally_table1(n):
    ncrit, cvr = AYRE_SCALLY[n]
    got_n, got_cvr = lawshe_critical(n)
    assert got_n == ncrit
    assert abs(got_cvr - cvr) <= 0.0005


def test_lawshe_critical_has_no_value_below_five_raters():
    assert lawshe_critical(4) == (None, None)
    assert lawshe_critical(4, alpha=0.1)[0] == 4  # 1/16 < .10


@pytest.mark.parametrize("n", [8, 9, 10, 20, 25, 40])
def test_an_item_exactly_at_the_critical_value_is_kept_and_one_below_is_dropped(n):
    ncrit, cvr_crit = AYRE_SCALLY[n]
    experts = [f"X{i:02d}" for i in range(n)]
    panel = pd.DataFrame({"at": [1] * ncrit + [2] * (n - ncrit),
                          "below": [1] * (ncrit - 1) + [3] * (n - ncrit + 1)}, index=experts)
    res = content_validity(panel, kind="essential")
    at, below = res.items.loc["at"], res.items.loc["below"]
    assert at["verdict"] == "keep" and below["verdict"] == "drop"
    assert at["cvr"] == pytest.approx(cvr_crit, abs=0.0005)
    assert at["p_value"] < 0.05 <= below["p_value"]
    # Lawshe's CVI is the mean CVR of the kept items only
    assert res.scales.loc["all", "cvi"] == at["cvr"]
    assert res.scales.loc["all", "n_kept"] == 1


def test_aiken_v_interval_is_the_score_interval_of_penfield_and_giacobbi():
    from scipy.stats import binomtest

    ratings = pd.DataFrame({"a": [5, 4, 5, 3, 4, 5, 2, 4, 5, 4], "b": [1, 2, 1, 3, 2, 2, 1, 1, 4, 2]},
                           index=[f"J{i}" for i in range(10)])
    res = content_validity(ratings, scale=(1, 5), relevant_from=4, level=0.90)
    for item in ("a", "b"):
        s = int((ratings[item] - 1).sum())
        nk = 10 * 4
        lo, hi = binomtest(s, nk).proportion_ci(confidence_level=0.90, method="wilson")
        row = res.items.loc[item]
        assert row["aiken_v"] == pytest.approx(s / nk, abs=1e-15)
        assert row["aiken_v_ci_low"] == pytest.approx(lo, abs=1e-12)
        assert row["aiken_v_ci_high"] == pytest.approx(hi, abs=1e-12)
    # Penfield & Giacobbi's formula written out
    z = 1.6448536269514722
    v = res.items.loc["a", "aiken_v"]
    low = (2 * 40 * v + z**2 - z * math.sqrt(4 * 40 * v * (1 - v) + z**2)) / (2 * (40 + z**2))
    assert res.items.loc["a", "aiken_v_ci_low"] == pytest.approx(low, abs=1e-12)


def test_scale_level_indices_per_construct_follow_polit_and_beck():
    # Polit & Beck (2006): S-CVI/Ave is the mean I-CVI, S-CVI/UA the share of items all rate relevant
    ratings = pd.DataFrame({"x1": [4, 4, 3, 4], "x2": [4, 2, 3, 3], "x3": [3, 4, 4, 4],
                            "y1": [1, 2, 4, 3], "y2": [4, 4, 4, None]},
                           index=["ann", "ben", "cai", "dee"])
    res = content_validity(ratings, instrument={"X": ["x1", "x2", "x3"], "Y": ["y1", "y2"]})
    assert res.items.loc["y2", "n_raters"] == 3  # dee skipped y2 and drops out of it only
    assert res.items.loc["y1", "n_raters"] == 4
    x = res.scales.loc["X"]
    assert x["s_cvi_ave"] == pytest.approx((1 + 0.75 + 1) / 3)
    assert x["s_cvi_ua"] == pytest.approx(2 / 3)
    y = res.scales.loc["Y"]
    assert y["s_cvi_ave"] == pytest.approx((0.5 + 1) / 2)
    assert y["s_cvi_ua"] == pytest.approx(0.5)
    assert list(res.items["construct"]) == ["X", "X", "X", "Y", "Y"]


def test_result_protocol_and_codebook_form():
    ratings = _panel(6, 5)
    res = custval.content_validity(ratings)
    assert isinstance(res, ContentValidityResult)
    assert res == content_validity(ratings) and hash(res) == hash(content_validity(ratings))
    assert res != content_validity(_panel(6, 4))
    assert "Content validity" in res.summary() and "s_cvi_ave" in res.summary()
    assert "<table" in res._repr_html_()
    assert list(res.to_frame().index) == ["item"]
    cb = res.to_codebook()
    assert cb == {"item": {"kind": "relevance", "n_raters": 6, "i_cvi": 5 / 6, "verdict": "keep"}}


def test_errors_name_experts_items_and_values():
    panel = pd.DataFrame({"q1": [4, 5, 3, 4], "q2": [2.5, 3, 1, 4], "q3": [1, 2, 0, 4]},
                         index=["ann", "ben", "cai", "dee"])
    with pytest.raises(DataValidationError) as err:
        content_validity(panel)
    msg = str(err.value)
    assert "'q1'" in msg and "expert ben: 5" in msg
    assert "'q2'" in msg and "expert ann: 2.5" in msg
    assert "'q3'" in msg and "expert cai: 0" in msg
    assert {p["column"] for p in err.value.problems} == {"q1", "q2", "q3"}

    with pytest.raises(DataValidationError, match=r"\['dee'\] rated no item"):
        content_validity(pd.DataFrame({"q1": [4, 3, 4, np.nan], "q2": [4, 3, 2, np.nan]},
                                      index=["ann", "ben", "cai", "dee"]))
    with pytest.raises(InsufficientDataError, match="at least 3 experts.*has 2"):
        content_validity(pd.DataFrame({"q1": [4, 3]}, index=["ann", "ben"]))
    with pytest.raises(InsufficientDataError, match=r"q2 \(2\)"):
        content_validity(pd.DataFrame({"q1": [4, 3, 4], "q2": [4, None, 2]}, index=["ann", "ben", "cai"]))
    with pytest.raises(InsufficientDataError, match="fewer than 5"):
        content_validity(pd.DataFrame({"q1": [1, 1, 1, 1]}, index=list("abcd")), kind="essential")
    with pytest.raises(SpecificationError, match="relevant_from"):
        content_validity(pd.DataFrame({"q1": [4, 3, 5]}, index=list("abc")), scale=(1, 5))
    with pytest.raises(SpecificationError, match="kind"):
        content_validity(_panel(5, 5), kind="clarity")
