"""Test-retest from two survey exports as they arrive: ids typed differently, people who came
once, duplicate submissions, a row without an id, e-mail addresses as ids, a skipped answer.

Files are written to tmp_path (BOM, semicolons, CRLF, quoted headers) and read with
:func:`custval.read_survey` and a codebook, or with pandas, as a user would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval.codebook import load_instrument
from custval.exceptions import (
    ConstantItemWarning,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)
from custval.ingest import read_survey
from custval.retest import icc_table, test_retest

CODEBOOK = """\
format: custval-codebook/1
name: pilot
version: "0.1"
title: {en: "Pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 5}
missing: {codes: [-99]}
constructs:
  - id: SAT
    label: {en: "Satisfaction"}
    items:
      - {id: sat1, text: {en: "I am satisfied."}}
      - {id: sat2, text: {en: "I would not recommend it."}, reverse: true}
      - {id: sat3, text: {en: "It met my expectations."}}
variables:
  resp: {type: text}
"""

WAVE1 = ('\ufeff"resp";"sat1";"sat2";"sat3"\r\n'
         '"R01";4;2;4\r\n"R02";3;3;3\r\n"R03";5;1;5\r\n"R04";2;4;2\r\n"R05";4;2;5\r\n'
         '"R06";1;5;2\r\n"R07";3;2;4\r\n"R08";5;1;4\r\n')
# R08 did not come back, R09 is new; R05 skipped sat3 (-99); ids have stray blanks and another order
WAVE2 = ('\ufeff"resp";"sat1";"sat2";"sat3"\r\n'
         '" R03";5;2;5\r\n"R01 ";4;2;3\r\n"R02";3;3;4\r\n"R04";2;5;2\r\n"R05";4;2;-99\r\n'
         '"R06";2;5;1\r\n"R07";3;3;4\r\n"R09";4;4;4\r\n')


@pytest.fixture
def waves(tmp_path):
    cb = tmp_path / "pilot.yaml"
    cb.write_text(CODEBOOK, encoding="utf-8")
    inst = load_instrument(cb)
    out = []
    for name, text in (("wave1.csv", WAVE1), ("wave2.csv", WAVE2)):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-8"))
        out.append(read_survey(path, inst))
    return inst, out[0], out[1]


def test_two_exports_are_matched_by_id_and_the_unmatched_reported(waves):
    inst, w1, w2 = waves
    with pytest.warns(MissingDataWarning, match=r"wave 1 only: \['R08'\]; wave 2 only: \['R09'\]"):
        res = test_retest(w1, w2, instrument=inst, id="resp")
    assert res.n_matched == 7 and res.unmatched_time1 == ("R08",) and res.unmatched_time2 == ("R09",)
    assert res.n_time1 == 8 and res.n_time2 == 8
    frame = res.to_frame()
    # R05 skipped sat3 at wave 2: out of sat3 and of the SAT score, in every other item
    assert frame.loc[("item", "sat3"), "n"] == 6
    assert frame.loc[("item", "sat1"), "n"] == 7
    assert frame.loc[("construct", "SAT"), "n"] == 6
    # the score is the mean of keyed items (sat2 reversed: 6 - x), as psych::ICC on those scores
    ids = ["R01", "R02", "R03", "R04", "R06", "R07"]
    k1 = w1.set_index("resp").loc[ids, ["sat1", "sat2", "sat3"]].astype(float)
    k2 = w2.assign(resp=w2["resp"].str.strip()).set_index("resp").loc[ids, ["sat1", "sat2", "sat3"]].astype(float)
    k1["sat2"], k2["sat2"] = 6 - k1["sat2"], 6 - k2["sat2"]
    expected = icc_table(np.column_stack([k1.mean(axis=1), k2.mean(axis=1)]))
    assert frame.loc[("construct", "SAT"), "icc2_1"] == pytest.approx(expected.loc["ICC2", "estimate"], abs=1e-12)
    # SEM and SDC follow the stated convention
    sd, icc = frame.loc[("item", "sat1"), "sd"], frame.loc[("item", "sat1"), "icc2_1"]
    assert frame.loc[("item", "sat1"), "sem"] == pytest.approx(sd * np.sqrt(1 - icc))
    assert frame.loc[("item", "sat1"), "sdc"] == pytest.approx(1.96 * np.sqrt(2) * sd * np.sqrt(1 - icc))


def test_a_duplicate_submission_is_an_error_naming_the_id(waves):
    inst, w1, w2 = waves
    w2 = pd.concat([w2, w2.iloc[[1]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"time2: id\(s\) \['R01'\] appear on more than one row"):
        test_retest(w1, w2, instrument=inst, id="resp")


def test_a_row_without_an_id_is_an_error_naming_the_row(waves):
    inst, w1, w2 = waves
    w1 = w1.copy()
    w1.loc[3, "resp"] = None
    with pytest.raises(DataValidationError, match=r"time1: 1 row\(s\) have no 'resp' \(data rows \[4\]"):
        test_retest(w1, w2, instrument=inst, id="resp")


def test_email_ids_are_counted_never_listed(tmp_path):
    t1 = pd.DataFrame({"email": ["ann@firm.fi", "bo@firm.fi", "cy@firm.fi", "di@firm.fi", "ed@firm.fi"],
                       "q": [1, 2, 3, 4, 5]})
    t2 = pd.DataFrame({"email": ["bo@firm.fi", "cy@firm.fi", "di@firm.fi", "ed@firm.fi", "fi@firm.fi"],
                       "q": [2, 2, 3, 5, 4]})
    with pytest.warns(MissingDataWarning) as rec:
        res = test_retest(t1, t2, id="email")
    msg = str(rec[0].message)
    assert "1 respondent(s) answered wave 1 only and 1 wave 2 only" in msg and "@" not in msg
    assert res.unmatched_time1 == () and res.n_unmatched_time1 == 1 and res.n_unmatched_time2 == 1
    assert "@" not in res.summary()


def test_waves_that_do_not_match_are_an_error_showing_both_id_forms():
    t1 = pd.DataFrame({"id": ["A-1", "A-2", "A-3"], "q": [1, 2, 3]})
    t2 = pd.DataFrame({"id": [1, 2, 3], "q": [1, 2, 3]})
    with pytest.raises(InsufficientDataError, match=r"0 of 3 .*wave 1 ids start \['A-1'.*wave 2 ids start \['1'"):
        test_retest(t1, t2)


def test_text_in_an_item_and_a_partly_retested_construct_are_errors(waves):
    inst, w1, w2 = waves
    bad = w2.astype({"sat1": object})
    bad.loc[2, "sat1"] = "n/a"
    with pytest.raises(DataValidationError, match=r"time2: item column\(s\) \['sat1'\] are not numeric"):
        test_retest(w1, bad, instrument=inst, id="resp")
    with pytest.raises(SpecificationError, match=r"construct 'SAT': item\(s\) \['sat3'\]"):
        test_retest(w1.drop(columns="sat3"), w2.drop(columns="sat3"), instrument=inst, id="resp")


def test_an_item_nobody_changed_is_nan_with_a_warning():
    t1 = pd.DataFrame({"id": range(6), "q": [3] * 6, "r": [1, 2, 3, 4, 5, 1]})
    t2 = pd.DataFrame({"id": range(6), "q": [3, 3, 4, 3, 2, 3], "r": [1, 2, 4, 4, 5, 2]})
    with pytest.warns(ConstantItemWarning) as rec:
        res = test_retest(t1, t2)
    assert any("'q' has the same value for every matched respondent in wave 1" in str(w.message) for w in rec)
    assert np.isnan(res.to_frame().loc[("item", "q"), "icc2_1"])
    assert np.isfinite(res.to_frame().loc[("item", "r"), "icc2_1"])


def test_an_id_column_read_survey_records_as_personal_is_counted_never_listed(waves):
    inst, w1, w2 = waves
    w1 = w1.copy()
    w1.attrs = {"custval": {"personal_data_columns": [{"column": "resp", "reason": "platform: panel id"}]}}
    with pytest.warns(MissingDataWarning) as rec:
        res = test_retest(w1, w2, instrument=inst, id="resp")
    assert "R08" not in str(rec[0].message) and "R09" not in res.summary()
    assert res.unmatched_time1 == () and (res.n_unmatched_time1, res.n_unmatched_time2) == (1, 1)
