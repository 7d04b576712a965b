"""Test-retest reliability against psych::ICC(lmer = FALSE) (tests/r/test_retest.R).

The waves are the first 400 bfi respondents and a seeded simulated retest of them, written by
the R script to tests/data/retest_bfi_wave{1,2}.csv; the golden values were computed by psych
2.2.9 on the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval import retest
from custval.codebook import load_instrument
from custval.exceptions import MissingDataWarning

TOL = 1e-8  # closed forms (achieved: ~5e-13)
DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "reliability" / "test_retest.json").read_text())


@pytest.fixture(scope="module")
def result():
    t1 = pd.read_csv(DATA / "retest_bfi_wave1.csv")
    t2 = pd.read_csv(DATA / "retest_bfi_wave2.csv")
    with pytest.warns(MissingDataWarning, match="12 respondent.*wave 1 only and 5 wave 2 only"):
        return custval.test_retest(t1, t2, instrument=load_instrument("bfi"))


@pytest.mark.parametrize("level,key", [("item", "items"), ("construct", "constructs")])
def test_iccs_sem_and_sdc_equal_psych(result, level, key):
    assert set(result.agreement.loc[level].index) == set(GOLDEN[key])
    for name, g in GOLDEN[key].items():
        for t in retest.ICC_TYPES:
            row = result.table.loc[(level, name, t)]
            assert row["n"] == g["n"]
            for ours, theirs in [("estimate", "estimate"), ("f", "F"), ("df1", "df1"), ("df2", "df2"),
                                 ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
                assert row[ours] == pytest.approx(g[t][theirs], abs=TOL, rel=TOL), (name, t, ours)
            assert row["p_value"] == pytest.approx(g[t]["p"], rel=1e-6, abs=1e-300)
        assert result.table.loc[(level, name, "r"), "estimate"] == pytest.approx(g["r"], abs=TOL)
        agree = result.agreement.loc[(level, name)]
        for c in ("sd", "sem", "sdc"):
            assert agree[c] == pytest.approx(g[c], abs=TOL), (name, c)


def test_matching_reports_the_unmatched_ids(result):
    assert result.n_matched == GOLDEN["n_matched"]
    assert sorted(result.unmatched_time1) == GOLDEN["unmatched_time1"]
    assert sorted(result.unmatched_time2) == GOLDEN["unmatched_time2"]
    assert result.n_time1 == result.n_matched + result.n_unmatched_time1
    assert result.n_time2 == result.n_matched + result.n_unmatched_time2


def test_pearson_interval_is_cor_test_fisher_z(result):
    # cor.test's interval: tanh(atanh(r) -/+ qnorm(.975) / sqrt(n - 3))
    row = result.table.loc[("item", "A1", "r")]
    z, se = np.arctanh(row["estimate"]), 1 / np.sqrt(row["n"] - 3)
    assert row["ci_low"] == pytest.approx(np.tanh(z - 1.959963984540054 * se), abs=1e-14)
    assert row["ci_high"] == pytest.approx(np.tanh(z + 1.959963984540054 * se), abs=1e-14)


def test_icc_table_reproduces_shrout_and_fleiss_table():
    # Shrout & Fleiss (1979), Table 2 data and Table 4 ICCs: ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71,
    # ICC(1,k) .44, ICC(2,k) .62, ICC(3,k) .91 (published, two decimals)
    x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    t = retest.icc_table(x)
    published = {"ICC1": .17, "ICC2": .29, "ICC3": .71, "ICC1k": .44, "ICC2k": .62, "ICC3k": .91}
    for k, v in published.items():
        assert abs(t.loc[k, "estimate"] - v) <= 0.005, k


def test_result_protocol(result):
    frame = result.to_frame()
    assert list(frame.columns) == ["n", "icc2_1", "icc3_1", "icc2_k", "icc3_k", "pearson_r", "sd", "sem", "sdc"]
    assert frame.loc[("construct", "A"), "icc2_1"] == result.table.loc[("construct", "A", "ICC2"), "estimate"]
    text = result.summary()
    assert "matched 388 of 400" in text and "psych::ICC" in text
    assert "<table" in result._repr_html_()
