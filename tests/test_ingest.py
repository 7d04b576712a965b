"""read_survey / validate_frame: every format loads to the same frame, every rule of bad input.

All data are simulated by the seeded writers in tests/_survey_fixtures.py.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import _survey_fixtures as F
import numpy as np
import pandas as pd
import pytest

import custval
from custval import DataValidationError
from custval.exceptions import (
    ExcludedResponseWarning,
    PersonalDataWarning,
    RepairWarning,
    SpecificationError,
)
from custval.ingest import read_survey, validate_frame

INST = F.make_instrument()
EXPECTED = F.expected_frame()


def counts(df, rule):
    for r in df.attrs["custval"]["rules"]:
        if r["rule"] == rule:
            return r["n"]
    return 0


def problems_by_rule(err):
    out = {}
    for p in err.problems:
        out.setdefault(p["rule"], []).append(p)
    return out


# --------------------------------------------------------------------------- Stata writer
def write_dta(path: Path, *, version: int = 15, **kw) -> Path:
    """Stata file of the seeded frame (simulated): declared missing answers as Stata's .a,
    value labels on the items, variable labels on the items."""
    import pyreadstat

    codes, kind, ids, gender, town, age, weight = F._draw(**kw)
    df = pd.DataFrame({"id": ids.astype(float)})
    for j, it in enumerate(F.ITEMS):
        col = np.where(kind[:, j] == 0, codes[:, j], np.nan).astype(float).astype(object)
        col[kind[:, j] == 2] = "a"  # .a: extended missing value
        col[(kind[:, j] == 3) | (kind[:, j] == 4)] = float(F.DK_CODE)
        df[it] = col
    df["gender"] = list(gender)
    df["town"] = list(town)
    df["age"] = [np.nan if a is None else float(a) for a in age]
    df["weight"] = weight
    labels = {it: {**{int(k): v for k, v in F.LABELS["en"].items()}, F.DK_CODE: "Don't know",
                   "a": "No answer"} for it in F.ITEMS}
    pyreadstat.write_dta(df, str(path), version=version, variable_value_labels=labels,
                         column_labels={it: f"Item {it}" for it in F.ITEMS},
                         missing_user_values={it: ["a"] for it in F.ITEMS})
    return path


# --------------------------------------------------------------------------- acceptance
FORMATS = {
    "comma_csv": (F.write_csv_comma, "s.csv", {}),
    "finnish_cp1252": (F.write_csv_finnish, "s.csv", {"encoding": "cp1252"}),
    "finnish_utf8_bom": (F.write_csv_finnish, "s.csv", {"encoding": "utf-8-sig"}),
    "utf16_tsv": (F.write_tsv_utf16, "s.tsv", {}),
    "gzip_csv": (F.write_csv_gzip, "s.csv.gz", {}),
    "xlsx_two_headers": (F.write_xlsx_two_headers, "s.xlsx", {}),
    "xlsx_title_rows": (F.write_xlsx_two_headers, "s.xlsx", {"title": True}),
    "sav": (F.write_sav, "s.sav", {}),
    "dta": (write_dta, "s.dta", {}),
    "parquet": (F.write_parquet, "s.parquet", {}),
    "qualtrics_csv": (F.write_qualtrics_csv, "s.csv", {}),
    "qualtrics_labels_en": (F.write_qualtrics_csv, "s.csv", {"as_label": "en"}),
    "labels_fi": (F.write_label_csv, "s.csv", {"lang": "fi"}),
    "labels_en": (F.write_label_csv, "s.csv", {"lang": "en"}),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_loads_to_the_same_frame(tmp_path, fmt):
    writer, name, kw = FORMATS[fmt]
    path = writer(tmp_path / name, **kw)
    if fmt.startswith("qualtrics"):
        with pytest.warns(PersonalDataWarning, match="IPAddress"):
            df = read_checked(path, INST, id_column="id", exclude=("preview", "unfinished"))
    else:
        df = read_checked(path, INST, id_column="id")
    pd.testing.assert_frame_equal(df[list(EXPECTED.columns)], EXPECTED)
    prov = df.attrs["custval"]
    assert prov["source"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prov["rows_read"] == prov["rows_returned"] + prov["rows_excluded"]
    # the codebook's reverse keys are recorded (not applied), in item order
    assert prov["instrument"] == {"name": "demo", "version": "1.0",
                                  "reverse_items": [i for i in INST.items if i in INST.reverse_items]}
    assert prov["instrument"]["reverse_items"]  # the demo codebook has reverse-keyed items


def test_rule_counts_match_the_seeded_missing_cells(tmp_path):
    _, kind, *_ = F._draw()
    df = read_checked(F.write_csv_comma(tmp_path / "s.csv"), INST, id_column="id")
    assert counts(df, "empty_cell") == (kind == 1).sum()
    assert counts(df, "declared_missing_code") == (kind == 2).sum()
    assert counts(df, "dont_know_code") == (kind == 3).sum()
    assert counts(df, "dont_know_label") == (kind == 4).sum()
    per_col = next(r for r in df.attrs["custval"]["rules"] if r["rule"] == "empty_cell")["columns"]
    assert per_col == {it: int((kind[:, j] == 1).sum()) for j, it in enumerate(F.ITEMS)
                       if (kind[:, j] == 1).any()}


def test_label_export_counts_every_mapped_label(tmp_path):
    _, kind, *_ = F._draw()
    df = read_checked(F.write_label_csv(tmp_path / "s.csv"), INST, id_column="id")
    assert counts(df, "label_to_code") == (kind == 0).sum()


def test_sav_user_missing_and_detected_formats(tmp_path):
    _, kind, *_ = F._draw()
    df = read_checked(F.write_sav(tmp_path / "s.sav"), INST, id_column="id")
    prov = df.attrs["custval"]
    assert prov["source"]["format"] == "sav"
    assert prov["source"]["user_missing"]["A1"] == [[-99.0, -99.0]]
    assert counts(df, "spss_user_missing") == (kind == 2).sum()
    assert prov["source"]["value_labels"]["A1"]["5"] == "Strongly agree"
    fi = read_checked(F.write_csv_finnish(tmp_path / "f.csv"), INST)
    p = fi.attrs["custval"]
    assert (p["delimiter"], p["decimal"], p["encoding"]) == (";", ",", "cp1252")
    assert counts(fi, "numeric_column") > 0


@pytest.mark.parametrize("fmt", ["gzip_csv", "xlsx_title_rows", "sav", "dta", "parquet"])
def test_chunked_reading_gives_the_same_frame(tmp_path, fmt):
    writer, name, kw = FORMATS[fmt]
    path = writer(tmp_path / name, n=300, **kw)
    one = read_survey(path, INST, id_column="id")
    many = read_survey(path, INST, id_column="id", chunksize=7)
    pd.testing.assert_frame_equal(one, many)
    pd.testing.assert_frame_equal(one[list(EXPECTED.columns)], F.expected_frame(n=300))
    assert one.attrs["custval"]["rules"] == many.attrs["custval"]["rules"]


def test_dta_extended_missing_labels_and_format(tmp_path):
    _, kind, *_ = F._draw()
    df = read_checked(write_dta(tmp_path / "s.dta"), INST, id_column="id")
    prov = df.attrs["custval"]
    src = prov["source"]
    assert src["format"] == "dta" and "user_missing" not in src
    assert counts(df, "stata_extended_missing") == (kind == 2).sum()
    assert counts(df, "spss_user_missing") == 0
    assert counts(df, "dont_know_code") == ((kind == 3) | (kind == 4)).sum()
    rule = next(r for r in prov["rules"] if r["rule"] == "stata_extended_missing")
    assert rule["columns"] == {it: int((kind[:, j] == 2).sum()) for j, it in enumerate(F.ITEMS)
                               if (kind[:, j] == 2).any()}
    assert src["value_labels"]["A1"]["5"] == "Strongly agree"
    assert src["missing_value_labels"]["A1"] == {".a": "No answer"}
    assert src["variable_labels"]["B2"] == "Item B2" and "gender" not in src["variable_labels"]


def test_sav_variable_labels_in_provenance(tmp_path):
    import pyreadstat

    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "v.sav"
    pyreadstat.write_sav(pd.DataFrame({"A1": [1.0, 2.0], "A2": [3.0, 4.0]}), str(path),
                         column_labels={"A1": "I trust this firm"})
    df = read_checked(path, inst)
    assert df.attrs["custval"]["source"]["variable_labels"] == {"A1": "I trust this firm"}


def test_dta_before_stata_13_is_recognised(tmp_path):
    """dta 115 (Stata 12) has no header tag and no stored encoding: pyreadstat wrote UTF-8."""
    path = write_dta(tmp_path / "old.dta", version=12)
    assert path.read_bytes()[:2] == bytes([115, 2])
    df = read_checked(path, INST, id_column="id", encoding="utf-8")
    pd.testing.assert_frame_equal(df[list(EXPECTED.columns)], EXPECTED)
    assert df.attrs["custval"]["source"]["format"] == "dta"


def test_dta_every_missing_letter_is_missing_in_items_and_other_columns(tmp_path):
    import pyreadstat

    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    df = pd.DataFrame({"A1": [1.0, "a", "b", "z", 5.0], "A2": [2.0, 3.0, np.nan, "m", 4.0],
                       "score": [10.0, "c", 12.0, 13.0, 14.0]}).astype(object)
    path = tmp_path / "m.dta"
    pyreadstat.write_dta(df, str(path), missing_user_values={"A1": ["a", "b", "z"], "A2": ["m"],
                                                             "score": ["c"]})
    out = read_checked(path, inst, chunksize=2)  # one chunk holds only letters in A1
    np.testing.assert_array_equal(out["A1"].to_numpy(), [1.0, np.nan, np.nan, np.nan, 5.0])
    np.testing.assert_array_equal(out["A2"].to_numpy(), [2.0, 3.0, np.nan, np.nan, 4.0])
    assert out["score"].isna().tolist() == [False, True, False, False, False]
    rule = next(r for r in out.attrs["custval"]["rules"] if r["rule"] == "stata_extended_missing")
    assert rule["columns"] == {"A1": 3, "A2": 1, "score": 1}
    assert counts(out, "empty_cell") == 1  # the system-missing "." of A2 is counted apart


def test_dta_missing_codes_are_not_taken_for_answers(tmp_path):
    """A plain -99 in a Stata file is a value, not missing: undeclared, it is reported."""
    import pyreadstat

    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "u.dta"
    pyreadstat.write_dta(pd.DataFrame({"A1": [1.0, -99.0, 3.0], "A2": [1.0, 2.0, 3.0]}), str(path))
    with pytest.raises(DataValidationError, match="Stata observation") as err:
        read_checked(path, inst)
    assert "undeclared_missing_code" in problems_by_rule(err.value)


# --------------------------------------------------------------------------- one error, all problems
BAD = (
    "id,A1,A2,A3,B1,B2\n"      # line 1: B3 is missing
    "1,1,2,3,4,5\n"            # line 2
    "2,7,2,3,4,5\n"            # line 3: A1 = 7 out of range
    "3,Maybe,2,3,4,5\n"        # line 4: A1 label not in the codebook
    "2,1,2,0,4,5\n"            # line 5: duplicate id 2, A3 = 0 out of range
)

snapshot = F.snapshot
read_checked = F.read_checked


def test_bad_file_fails_with_one_error_naming_everything(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    err = info.value
    assert isinstance(err, ValueError)
    by = problems_by_rule(err)
    assert set(by) == {"missing_item_column", "out_of_range", "unmapped", "duplicate_id"}
    assert by["missing_item_column"][0]["values"] == ["B3"]
    oor = {p["column"]: p for p in by["out_of_range"]}
    assert (oor["A1"]["rows"], oor["A1"]["values"]) == ([3], [7])
    assert (oor["A3"]["rows"], oor["A3"]["values"]) == ([5], [0])
    assert oor["A1"]["row_counting"] == "file line"
    # free text typed into an item may be a name: its length is shown, not the text
    assert (by["unmapped"][0]["column"], by["unmapped"][0]["rows"],
            by["unmapped"][0]["values"]) == ("A1", [4], ["<a 5-character text, not shown>"])
    assert (by["duplicate_id"][0]["rows"], by["duplicate_id"][0]["values"]) == ([3, 5], [2, 2])
    msg = str(err)
    assert "bad.csv" in msg and "file lines are 1-based" in msg
    assert "Maybe" not in msg
    for piece in ("'B3'", "file line 3", "[7]", "5-character text", "file lines 3, 5",
                  "codes 1..5"):
        assert piece in msg
    assert all(p["file"] == "bad.csv" for p in err.problems)


def test_message_shows_first_ten_values_then_total(tmp_path):
    rows = "\n".join(f"{i},1{i % 10},1,1,1,1,1" for i in range(25))
    path = tmp_path / "many.csv"
    path.write_text("id,A1,A2,A3,B1,B2,B3\n" + rows + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    (p,) = [p for p in info.value.problems if p["column"] == "A1"]
    assert p["n"] == 25 and len(p["values"]) == 25 and p["rows"][:3] == [2, 3, 4]
    assert "(first 10 of 25)" in str(info.value)


def test_undeclared_codes_that_look_like_missing(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "s.csv"
    path.write_text("A1,A2\n1,-9\n6,99\n2,3\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    by = {p["column"]: p for p in info.value.problems}
    assert by["A1"]["rule"] == "undeclared_missing_code" and by["A1"]["values"] == [6]
    assert by["A2"]["values"] == [-9, 99] and by["A2"]["rows"] == [2, 3]
    assert "declare them" in str(info.value)
    ok = read_checked(path, inst, missing_codes=[-9, 99, 6])
    assert ok["A1"].isna().sum() == 1 and counts(ok, "caller_missing_code") == 3


# --------------------------------------------------------------------------- no silent coercion
def test_pandas_na_strings_are_not_silently_missing(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "na.csv"
    path.write_text("A1,note,age\n1,NA,30\nNA,null,NA\nnan,-,31\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    (p,) = info.value.problems
    assert p["rule"] == "unmapped" and p["values"] == ["NA", "nan"] and p["rows"] == [3, 4]
    df = read_checked(path, inst, missing_codes=["NA", "nan"])
    assert counts(df, "caller_missing_text") == 2
    assert df["note"].tolist() == ["NA", "null", "-"]  # other columns: text as read
    assert df["age"].tolist() == ["30", "NA", "31"]  # not all numbers: stays text


def test_non_integer_and_decimal_comma(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "d.csv"
    path.write_text("A1;w\n3,5;1\n4,0;2\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="non-integer") as info:
        read_checked(path, inst)
    assert info.value.problems[0]["values"] == [3.5]
    df = read_checked(path, inst, integer_codes=False)
    assert df["A1"].tolist() == [3.5, 4.0] and counts(df, "decimal_comma") == 2


def test_leading_zero_codes_stay_text(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "z.csv"
    path.write_text("zip,A1\n00100,1\n40100,2\n", encoding="utf-8")
    df = read_checked(path, inst)
    assert df["zip"].tolist() == ["00100", "40100"]


def test_sav_value_labels_that_contradict_the_codebook(tmp_path):
    import pyreadstat

    df = pd.DataFrame({f"{it}": [1.0, 2.0] for it in F.ITEMS})
    path = tmp_path / "rev.sav"
    pyreadstat.write_sav(df, str(path), variable_value_labels={
        "A1": {1.0: "Strongly agree", 5.0: "Strongly disagree"}})
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    (p,) = info.value.problems
    assert p["rule"] == "value_label_mismatch" and p["column"] == "A1"
    assert "1 = 'Strongly agree'" in p["values"]


# --------------------------------------------------------------------------- nothing lost
def test_qualtrics_header_rows_and_flagged_responses(tmp_path):
    path = F.write_qualtrics_csv(tmp_path / "q.csv")
    # preview / test / spam / unfinished responses are excluded by default (and named)
    with pytest.warns(PersonalDataWarning), pytest.warns(ExcludedResponseWarning,
                                                         match="R_preview0001"):
        default = read_checked(path, INST, id_column="id")
    ex = {e["reason"]: (e["rows"], e["response_ids"])
          for e in default.attrs["custval"]["excluded"] if "response_ids" in e}
    assert ex == {"preview": ([44], ["R_preview0001"]), "unfinished": ([45], ["R_unfinish001"])}
    with pytest.warns(PersonalDataWarning):
        kept = read_checked(path, INST, id_column="id", qualtrics_status="keep")
    prov = kept.attrs["custval"]
    assert prov["rows_read"] == 44 and prov["rows_returned"] == 42
    assert prov["excluded"] == [{"reason": "extra header row (question text or ImportId row)",
                                 "n": 2, "rows": [2, 3]}]
    flags = {f["reason"]: f["rows"] for f in prov["flagged_kept"]}
    assert flags == {"preview": [44], "unfinished": [45]}
    with pytest.warns(PersonalDataWarning):
        dropped = read_checked(path, INST, id_column="id", exclude=["preview", "unfinished"])
    reasons = {e["reason"]: e["rows"] for e in dropped.attrs["custval"]["excluded"]}
    assert reasons["preview"] == [44] and reasons["unfinished"] == [45]
    p = dropped.attrs["custval"]
    assert p["rows_read"] == p["rows_returned"] + p["rows_excluded"] == 44


def test_titles_blank_and_totals_rows_are_reported(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "t.csv"
    path.write_text("Asiakaskysely 2024\n\nid;A1;A2\n1;1;2\n\n2;3;4\nYhteensä;4;6\n",
                    encoding="utf-8")
    # the totals row is named with its label in a warning (no longer only in attrs)
    with pytest.warns(RepairWarning, match=r"file line 7 \('Yhteensä'\)"):
        df = read_checked(path, inst, id_column="id")
    prov = df.attrs["custval"]
    assert df["id"].tolist() == [1, 2]
    assert prov["preamble"] == [{"row": 1, "reason": "title or note line above the column-name "
                                 "header"}, {"row": 2, "reason": "blank line above the "
                                             "column-name header"}]
    ex = {e["reason"]: e["rows"] for e in prov["excluded"]}
    assert ex == {"blank row": [5], "totals row": [7]}
    assert prov["excluded"][-1]["labels"] == ["Yhteensä"]
    assert prov["rows_read"] == 4 == prov["rows_returned"] + prov["rows_excluded"]


def test_limesurvey_unfinished_responses(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "lime.csv"
    path.write_text('id,submitdate,lastpage,startlanguage,A1\n1,"2024-01-01 10:00",2,fi,3\n'
                    '2,,1,fi,\n', encoding="utf-8")
    df = read_checked(path, inst, id_column="id")
    assert df.attrs["custval"]["flagged_kept"] == [{"reason": "unfinished", "n": 1, "rows": [3]}]
    df2 = read_checked(path, inst, id_column="id", exclude=("unfinished",))
    assert len(df2) == 1


def test_unknown_exclude_reason():
    with pytest.raises(SpecificationError, match="unknown reason"):
        validate_frame(pd.DataFrame({"A1": [1]}),
                       custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5)),
                       exclude=("tests",))


def test_ragged_records_are_an_error(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "r.csv"
    path.write_text("id,A1,A2\n1,1,2\n2,3,4,5\n3,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    (p,) = info.value.problems
    assert p["rule"] == "wrong_field_count" and p["n"] == 2


def test_missing_ids_and_duplicate_columns(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "m.csv"
    path.write_text("id,A1,x,x\n1,1,a,b\n,2,a,b\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst, id_column="id")
    by = problems_by_rule(info.value)
    assert by["missing_id"][0]["rows"] == [3]
    assert by["duplicate_column"][0]["values"] == ["column 3", "column 4"]


def test_missing_item_column_suggests_close_names(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "c.csv"
    path.write_text("A_1,A2\n1,2\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"A1 ~ 'A_1'.*columns=") as info:
        read_checked(path, inst)
    assert info.value.problems[0]["rule"] == "missing_item_column"
    df = read_checked(path, inst, columns={"A_1": "A1"})
    assert df["A1"].tolist() == [1.0] and counts(df, "renamed_column") == 1
    # a header that differs only in letter case is read as the item, recorded and warned
    path.write_text("a1,A2\n1,2\n", encoding="utf-8")
    with pytest.warns(custval.exceptions.RepairWarning, match="'a1' -> 'A1'"):
        df = read_checked(path, inst)
    assert df["A1"].tolist() == [1.0] and counts(df, "header_case_matched") == 1


# --------------------------------------------------------------------------- row counting
def test_rows_are_named_as_the_file_numbers_them(tmp_path):
    import openpyxl
    import pyreadstat

    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in (["Kysely"], [], ["A1"], ["Question text"], [1], [8]):
        ws.append(r)
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(DataValidationError, match="Excel row 6") as info:
        read_checked(tmp_path / "x.xlsx", inst)
    assert info.value.problems[0]["row_counting"] == "Excel row"

    pyreadstat.write_sav(pd.DataFrame({"A1": [1.0, 2.0, 8.0]}), str(tmp_path / "s.sav"))
    with pytest.raises(DataValidationError, match="SPSS case 3"):
        read_checked(tmp_path / "s.sav", inst)

    # a quoted field over two lines: each record is named by the file line it starts on
    (tmp_path / "m.csv").write_text('A1,comment\n1,"two\nlines"\n8,x\n', encoding="utf-8")
    with pytest.raises(DataValidationError, match="file line 4") as info:
        read_checked(tmp_path / "m.csv", inst)
    assert info.value.problems[0]["row_counting"] == "file line"

    with pytest.raises(DataValidationError, match="data row 2"):
        validate_frame(pd.DataFrame({"A1": [1, 8]}), inst)


# --------------------------------------------------------------------------- personal data
def test_personal_data_columns_named_never_shown(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    path = tmp_path / "p.csv"
    path.write_text(
        "id,A1,Sähköposti,contact,puhelin,ip,palaute,x\n"
        "1,1,a@b.fi,matti.m@example.com,+358 40 1234567,10.1.2.3,"
        "Palvelu oli hyvää mutta odotin liian kauan,1\n"
        "2,2,c@d.fi,liisa@example.org,040-7654321,10.1.2.4,"
        "En ollut tyytyväinen koska tuote rikkoutui heti,2\n"
        "3,matti.m@example.com,e@f.fi,x@example.com,040 111 2222,10.1.2.5,"
        "Kiitos nopeasta toimituksesta ja hyvästä palvelusta,3\n",
        encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    assert "@" not in str(info.value)  # an e-mail typed into an item is masked
    path.write_text(path.read_text(encoding="utf-8").replace("3,matti.m@example.com", "3,3"),
                    encoding="utf-8")
    with pytest.warns(PersonalDataWarning) as rec:
        df = read_checked(path, inst)
    text = str(rec[0].message)
    assert "@" not in text and "358" not in text and "10.1" not in text
    found = {p["column"] for p in df.attrs["custval"]["personal_data_columns"]}
    assert found == {"Sähköposti", "contact", "puhelin", "ip", "palaute"}


def test_duplicate_email_ids_are_masked(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    frame = pd.DataFrame({"email": ["a@b.fi", "a@b.fi"], "A1": [1, 2]})
    with pytest.raises(DataValidationError) as info:
        validate_frame(frame, inst, id_column="email")
    assert "@" not in str(info.value)
    assert info.value.problems[0]["rows"] == [1, 2]


# --------------------------------------------------------------------------- frames
def test_validate_frame_matches_read_survey(tmp_path):
    path = F.write_csv_comma(tmp_path / "s.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    before = raw.copy()
    df = validate_frame(raw, INST, id_column="id", convert_other=True)
    pd.testing.assert_frame_equal(df[list(EXPECTED.columns)], EXPECTED)
    pd.testing.assert_frame_equal(raw, before)  # input untouched
    assert df.attrs["custval"]["source"] is None


# --------------------------------------------------------------------------- big files
def test_big_gzip_csv_is_read_in_bounded_memory(tmp_path):
    """300k rows x 10 items: peak memory stays within a few times the result's size.

    Loading the text as Python objects would need far more; benchmarks/bench_ingest.py
    runs the 1-2 million row case against pandas.read_csv.
    """
    path = F.write_big_csv_gzip(tmp_path / "big.csv.gz", 300_000)
    script = F.PEAK_RSS_CODE + textwrap.dedent(f"""
        import custval, pyarrow, openpyxl, pyreadstat, pandas
        from custval.ingest import read_survey
        inst = custval.Instrument.from_dict({{"Q": [f"Q{{j + 1}}" for j in range(10)]}},
                                            scale=(1, 5))
        before = peak_rss()
        df = read_survey({str(path)!r}, inst, id_column="id", chunksize=50_000)
        after = peak_rss()
        n_missing = int(df[[f"Q{{j + 1}}" for j in range(10)]].isna().sum().sum())
        import tracemalloc
        del df
        tracemalloc.start()
        df = read_survey({str(path)!r}, inst, id_column="id", chunksize=50_000)
        py_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(len(df), df.memory_usage(deep=True).sum(), after - before, n_missing,
              py_peak)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    n, size, grow, n_missing, py_peak = map(int, out.stdout.split())
    assert n == 300_000
    assert n_missing > 0
    assert grow < 6 * size + 64 * 2**20
    # Python-level allocations (tracemalloc: Python objects and numpy arrays) stay within
    # twice the result: 3.3 million cells as Python strings would need > 100 MB.
    assert py_peak < 2 * size + 16 * 2**20


def test_raw_data_files_read_unchanged(raw_dir):
    """A shipped dataset through read_survey: bytes unchanged, nothing lost."""
    inst = custval.load_instrument("bfi")
    path = raw_dir / "bfi" / "bfi.csv"
    df = read_checked(path, inst, id_column="id")
    prov = df.attrs["custval"]
    assert prov["rows_read"] == prov["rows_returned"] + prov["rows_excluded"]
    assert df[list(inst.items)].dtypes.eq(np.float64).all()


def test_numbered_labels_map_only_when_number_and_label_agree(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("A1,A2,A3,B1,B2,B3\n"
                    "5 = Strongly agree,1 - Täysin eri mieltä,Agree (4),1,1,1\n"
                    "5 = Strongly disagree,2,3,1,1,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    (p,) = info.value.problems
    assert (p["column"], p["rows"], p["values"]) == ("A1", [3], ["5 = Strongly disagree"])
    path.write_text(path.read_text(encoding="utf-8").replace("5 = Strongly disagree", "5"),
                    encoding="utf-8")
    df = read_checked(path, INST)
    assert df[["A1", "A2", "A3"]].to_numpy().tolist() == [[5, 1, 4], [5, 2, 3]]
    assert counts(df, "numbered_label_to_code") == 3


def test_a_respondent_is_not_taken_for_a_header_row(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2", "A3"]}, scale=(1, 5),
                                        labels={1: "Strongly disagree", 5: "Strongly agree"})
    path = tmp_path / "h.csv"
    path.write_text("A1,A2,A3\nAgree,Agree,Agree\n5,5,1\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    assert {p["rule"] for p in info.value.problems} == {"unmapped"}
    assert info.value.problems[0]["rows"] == [2]


def test_validate_frame_warns_about_personal_data():
    inst = custval.Instrument.from_dict({"A": ["A1"]}, scale=(1, 5))
    with pytest.warns(PersonalDataWarning, match="'email'"):
        df = validate_frame(pd.DataFrame({"email": ["a@b.fi"], "A1": [3]}), inst)
    assert df.attrs["custval"]["personal_data_columns"][0]["column"] == "email"


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_line_numbers_with_any_line_end(tmp_path, end):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "e.csv"
    path.write_bytes(end.join(["A1,A2", "1,2", "3,9", "4,4"]).encode())
    with pytest.raises(DataValidationError, match="file line 3"):
        read_checked(path, inst)


def test_explicit_header_row_delimiter_and_encoding(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = tmp_path / "x.txt"
    path.write_bytes("Kysely|Jyväskylä\nQ1|Q2\n1|2\n3|4\n".encode("latin-1"))
    df = read_checked(path, inst, header_row=2, delimiter="|", encoding="latin-1",
                      columns={"Q1": "A1", "Q2": "A2"})
    prov = df.attrs["custval"]
    assert df[["A1", "A2"]].to_numpy().tolist() == [[1, 2], [3, 4]]
    assert (prov["source"]["encoding_source"], prov["source"]["header_line"]) == ("given", 2)
    assert prov["preamble"][0]["row"] == 1


def test_instrument_by_name_and_sheet_by_name(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "notes"
    ws = wb.create_sheet("data")
    ws.append(list(custval.load_instrument("bfi").items))
    ws.append([3] * 25)
    wb.save(tmp_path / "b.xlsx")
    df = read_checked(tmp_path / "b.xlsx", "bfi", sheet="data")
    assert df.attrs["custval"]["source"]["sheet"] == "data" and len(df) == 1
    with pytest.raises(DataValidationError, match="no sheet 'x'"):
        read_checked(tmp_path / "b.xlsx", "bfi", sheet="x")
