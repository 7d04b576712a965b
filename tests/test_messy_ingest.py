"""read_survey on messy exports: what is not an item, what is not an answer, what may be a name.

Every file is written here, in tmp_path, in the layout the survey tool or spreadsheet writes
(Qualtrics' three header rows with ImportId JSON, a LimeSurvey export, Excel with header
variants and a no-break space, Finnish summary labels).  All answers are SIMULATED (numpy
default_rng with fixed seeds); names and e-mail addresses are invented.
"""

from __future__ import annotations

import json
import re

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
)
from custval.ingest import validate_frame

write_csv = F.write_rows_csv
write_xlsx = F.write_rows_xlsx
read_checked = F.read_checked

ITEMS = ("ECO1", "ECO2", "ECO3", "COC4", "COC5", "COC6")
INST = custval.Instrument.from_dict(
    {"ECO": list(ITEMS[:3]), "COC": list(ITEMS[3:])}, scale=(1, 5),
    labels={"en": {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree",
                   4: "Agree", 5: "Strongly agree"},
            "fi": {1: "Täysin eri mieltä", 2: "Jokseenkin eri mieltä",
                   3: "Ei samaa eikä eri mieltä", 4: "Jokseenkin samaa mieltä",
                   5: "Täysin samaa mieltä"}},
    texts={it: {"en": f"Statement {it}.", "fi": f"Väittämä {it}."} for it in ITEMS},
    languages=("en", "fi"))


def rows_balance(df_or_prov) -> None:
    p = df_or_prov.attrs["custval"] if hasattr(df_or_prov, "attrs") else df_or_prov
    assert p["rows_read"] == p["rows_returned"] + p["rows_excluded"]
    assert p["rows_excluded"] == sum(e["n"] for e in p["excluded"])


def rule(df, name):
    return next((r for r in df.attrs["custval"]["rules"] if r["rule"] == name), None)


# --------------------------------------------------------------------------- Qualtrics
QMETA = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
         "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
         "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
         "DistributionChannel", "UserLanguage"]
QTEXT = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
         "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
         "Recipient Last Name", "Recipient First Name", "Recipient Email",
         "External Data Reference", "Location Latitude", "Location Longitude",
         "Distribution Channel", "User Language"]
# (Status label, Status code, Finished label, Finished code, expected reason or None)
QKINDS = {
    "normal": ("IP Address", "0", "True", "1", None),
    "imported": ("Imported", "4", "True", "1", None),
    "offline": ("Offline", "16", "True", "1", None),
    "preview": ("Survey Preview", "1", "True", "1", "preview"),
    "test": ("Survey Test", "2", "True", "1", "test"),
    "spam": ("Spam", "8", "True", "1", "spam"),
    "unfinished": ("IP Address", "0", "False", "0", "unfinished"),
}
QORDER = ["normal"] * 6 + ["preview", "normal", "test", "imported", "spam", "unfinished",
                           "offline", "normal", "preview"]


def qualtrics_rows(*, numeric: bool, seed: int = 11):
    """A Qualtrics 'CSV' download: export tags, question texts, ImportId JSON, then answers.

    `numeric`: 'Use numeric values' (Status 0/1/2/..., Finished 1/0) or choice text
    (Status 'IP Address'/'Survey Preview'/..., Finished True/False).  Preview and test
    responses have no customer id (they did not come through the panel link).
    """
    rng = np.random.default_rng(seed)
    header = [*QMETA, "customer_id", *ITEMS, "Segment", "Role"]
    texts = [*QTEXT, "customer_id", *[f"How well does statement {it} describe us? - {it}"
                                      for it in ITEMS], "Segment", "Your role"]
    imports = [json.dumps({"ImportId": c if c in QMETA else f"QID{j}"})
               for j, c in enumerate(header)]
    rows = [header, texts, imports]
    expected = []  # (kind, ResponseId, file line, codes)
    for i, kind in enumerate(QORDER):
        slab, scode, flab, fcode, reason = QKINDS[kind]
        codes = rng.integers(1, 6, size=len(ITEMS))
        rid = f"R_{rng.integers(16**8):08x}{i:02d}Qx"
        cust = "" if kind in ("preview", "test") else f"C{1000 + i}"
        finished = fcode if numeric else flab
        rows.append(["2024-03-01 10:00:00", "2024-03-01 10:07:00", scode if numeric else slab,
                     "" if kind == "preview" else f"10.0.{i}.1", "100" if fcode == "1" else "45",
                     "420", finished, "2024-03-01 10:07:01", rid, "", "", "", "", "60.19",
                     "24.94", "preview" if kind == "preview" else "anonymous", "EN", cust,
                     *[str(c) for c in codes],
                     ["Key account", "SME", "Public sector"][i % 3], ["CEO", "Buyer"][i % 2]])
        expected.append((kind, rid, len(rows), codes))
    return rows, expected


@pytest.mark.parametrize("numeric", [True, False], ids=["numeric_values", "choice_text"])
def test_qualtrics_preview_test_spam_unfinished_excluded_by_default(tmp_path, numeric):
    rows, expected = qualtrics_rows(numeric=numeric)
    path = write_csv(tmp_path / "qualtrics.csv", rows, encoding="utf-8-sig")
    dropped = [(QKINDS[k][4], rid, line) for k, rid, line, _ in expected if QKINDS[k][4]]
    with pytest.warns(PersonalDataWarning), pytest.warns(ExcludedResponseWarning) as rec:
        df = read_checked(path, INST, id_column="customer_id")
    text = str(rec[0].message)
    for reason, rid, line in dropped:  # every excluded response named by id and file line
        assert f"{reason}: file line {line} (ResponseId {rid})" in text
    prov = df.attrs["custval"]
    rows_balance(df)
    got = {(e["reason"], rid, line) for e in prov["excluded"] if "response_ids" in e
           for rid, line in zip(e["response_ids"], e["rows"])}
    assert got == set(dropped)
    kept = [(rid, codes) for k, rid, _, codes in expected if not QKINDS[k][4]]
    assert df["ResponseId"].tolist() == [rid for rid, _ in kept]
    np.testing.assert_array_equal(df[list(ITEMS)].to_numpy(), [c for _, c in kept])
    assert prov["qualtrics"]["excluded_by_default"] == ["preview", "test", "spam", "unfinished"]
    seen = prov["qualtrics"]["values_seen"]["Status"]
    assert sum(seen.values()) == len(expected)  # every Status value counted, none unexplained
    assert seen[QKINDS["imported"][1 if numeric else 0]] == QORDER.count("imported")

    # explicit choice: the same rows excluded, without the warning
    with pytest.warns(PersonalDataWarning):
        quiet = read_checked(path, INST, id_column="customer_id", qualtrics_status="exclude")
    assert quiet["ResponseId"].tolist() == df["ResponseId"].tolist()

    # kept on request: the preview/test rows have no customer id -> the error names them
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="customer_id", qualtrics_status="keep")
    (p,) = [p for p in info.value.problems if p["rule"] == "missing_id"]
    no_id = [(k, rid, line) for k, rid, line, _ in expected if k in ("preview", "test")]
    assert p["rows"] == [line for _, _, line in no_id]
    assert p["values"] == [f"empty (ResponseId {rid}), a {k} response" for k, rid, _ in no_id]
    assert "qualtrics_status='keep'" in p["allowed"]
    assert all(rid in str(info.value) for _, rid, _ in no_id)

    # kept without an id column: flagged, each with its ResponseId
    with pytest.warns(PersonalDataWarning):
        allrows = read_checked(path, INST, qualtrics_status="keep")
    rows_balance(allrows)
    assert len(allrows) == len(expected)
    flagged = {(f["reason"], rid, line) for f in allrows.attrs["custval"]["flagged_kept"]
               for rid, line in zip(f["response_ids"], f["rows"])}
    assert flagged == set(dropped)

    # incomplete='keep' keeps the unfinished ones, the rest still excluded by default
    with pytest.warns(PersonalDataWarning), pytest.warns(ExcludedResponseWarning) as rec:
        part = read_checked(path, INST, incomplete="keep")
    assert "unfinished" not in str(rec[0].message)
    assert QORDER.count("unfinished") == sum(
        f["n"] for f in part.attrs["custval"]["flagged_kept"] if f["reason"] == "unfinished")


def test_every_non_item_column_is_named_in_the_provenance(tmp_path):
    rows, expected = qualtrics_rows(numeric=False)
    path = write_csv(tmp_path / "q.csv", rows, encoding="utf-8-sig")
    with pytest.warns(PersonalDataWarning), pytest.warns(ExcludedResponseWarning):
        df = read_checked(path, INST, id_column="customer_id")
    other = df.attrs["custval"]["other_columns"]
    header = rows[0]
    assert [o["column"] for o in other] == [c for c in header if c not in ITEMS]
    assert [o["position"] for o in other] == [j + 1 for j, c in enumerate(header)
                                              if c not in ITEMS]
    by = {o["column"]: o for o in other}
    assert by["customer_id"]["role"] == "id"
    assert by["Status"]["role"] == by["Finished"]["role"] == "survey status"
    assert by["ResponseId"]["role"] == by["UserLanguage"]["role"] == "survey tool metadata"
    assert by["Segment"]["role"] == by["Role"]["role"] == "other"
    assert by["UserLanguage"]["dtype"] == by["Segment"]["dtype"] == "str"  # text named too
    personal = {p["column"] for p in df.attrs["custval"]["personal_data_columns"]}
    assert {"IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
            "LocationLatitude", "LocationLongitude"} <= personal
    assert {c for c, o in by.items() if o["personal_data"]} == personal


def test_limesurvey_system_and_text_columns_named(tmp_path):
    rng = np.random.default_rng(5)
    codes = rng.integers(1, 6, size=(4, len(ITEMS)))
    system = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
              "token"]
    header = [*system, *[f"{it[:3]}[{it[3:]}]" for it in ITEMS], "Your name", "segment"]
    people = ["Matti Virtanen", "Liisa Korhonen", "Jari Mäkinen", "Sanna Nieminen"]
    rows = [header, *[[i + 1, f"2024-05-0{i + 1} 10:00:00", 3, "fi", 1000 + i,
                       f"2024-05-0{i + 1} 09:50:00", f"2024-05-0{i + 1} 10:00:00",
                       f"tok{i}x9", *[f"AO{c:02d}" for c in codes[i]], people[i], "SME"]
                      for i in range(4)]]
    path = write_csv(tmp_path / "results-survey123.csv", rows)
    with pytest.warns(PersonalDataWarning) as rec:
        df = read_checked(path, INST, id_column="id", answer_codes=r"AO?0*(\d+)")
    assert not any(n in str(rec[0].message) for n in people)
    np.testing.assert_array_equal(df[list(ITEMS)].to_numpy(), codes)
    other = {o["column"]: o for o in df.attrs["custval"]["other_columns"]}
    assert list(other) == [c for c in header if "[" not in c]
    assert {c for c, o in other.items() if o["role"] == "survey tool metadata"} == set(
        system) - {"id"}
    assert {c for c, o in other.items() if o["personal_data"]} == {"token", "Your name"}
    rows_balance(df)


# --------------------------------------------------------------------------- item columns
def test_missing_items_all_listed_with_the_columns_present(tmp_path):
    items = [f"SAT{i}" for i in range(1, 13)]
    inst = custval.Instrument.from_dict({"SAT": items}, scale=(1, 7))
    header = ["ResponseId", *[f"Q1_{i}" for i in range(1, 13)], "Segment"]
    path = write_xlsx(tmp_path / "export.xlsx",
                      [header, ["R_1", *range(1, 8), *range(1, 6), "SME"]])
    with pytest.raises(DataValidationError) as info:
        read_checked(path, inst)
    (p,) = info.value.problems
    assert p["rule"] == "missing_item_column" and p["values"] == items
    assert p["columns_present"] == header
    msg = str(info.value)
    assert "first 10" not in msg and all(f"'{it}'" in msg for it in items)
    assert f"The file's columns: {header}" in msg


def test_cells_without_header_are_described_not_blank(tmp_path):
    path = write_xlsx(tmp_path / "short_header.xlsx",
                      [["ResponseId", *ITEMS[:4]], ["R_1", 1, 2, 3, 4, 5, 2],
                       ["R_2", 2, 3, 4, 5, 1, "Matti Virtanen"]])
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    by = {p["rule"]: p for p in info.value.problems}
    assert by["missing_item_column"]["values"] == ["COC5", "COC6"]
    cells = by["cells_without_header"]
    assert cells["rows"] == [2, 3]
    assert cells["values"] == ["column 6: 5, column 7: 2",
                               "column 6: 1, column 7: a 14-character text"]
    assert "Matti" not in str(info.value)


def test_header_variants_trimmed_and_case_matched_every_change_recorded(tmp_path):
    raw = [" ECO1", "eco2", "ECO3 ", "COC4\u00a0", "COC5", "COC6", "Segmentti "]
    rng = np.random.default_rng(3)
    codes = rng.integers(1, 6, size=(5, 6))
    path = write_xlsx(tmp_path / "vastaukset.xlsx",
                      [["Asiakaskysely 2024"], [], ["Vastaaja", *raw],
                       *[[i + 1, *map(int, c), "Yritys"] for i, c in enumerate(codes)],
                       ["Yhteensä", *map(int, codes.sum(axis=0)), None],
                       ["Keskiarvo", *map(float, codes.mean(axis=0)), None]])
    with pytest.warns(RepairWarning) as rec:
        df = read_checked(path, INST, id_column="Vastaaja")
    (text,) = [str(w.message) for w in rec if "item column headers" in str(w.message)]
    for j, h in enumerate(raw[:4]):  # every item-header change, whitespace visible
        shown = "'" + h.replace("\u00a0", "\\u00a0") + "'"
        assert f"column {j + 2} {shown} -> '{ITEMS[j]}'" in text
    np.testing.assert_array_equal(df[list(ITEMS)].to_numpy(), codes)
    trimmed = rule(df, "header_trimmed")["changes"]
    assert [(t["column"], t["from"], t["to"]) for t in trimmed] == [
        (j + 2, h, h.strip()) for j, h in enumerate(raw) if h != h.strip()]
    assert rule(df, "header_case_matched")["changes"] == [{"column": 3, "from": "eco2",
                                                           "to": "ECO2"}]
    rows_balance(df)
    assert {e["reason"]: e["rows"] for e in df.attrs["custval"]["excluded"]} == {
        "totals row": [4 + len(codes), 5 + len(codes)]}


def test_codebook_typo_is_reported_as_a_codebook_problem(tmp_path):
    header = ["id", *ITEMS]
    path = write_csv(tmp_path / "s.csv", [header, [1, 1, 2, 3, 4, 5, 1]])
    # the codebook writes one id unlike the others; the file's column is written like them
    typo = custval.Instrument.from_dict({"ECO": ["ECO1", "ECO_2", "ECO3"],
                                         "COC": ["COC4", "COC5", "COC6"]}, scale=(1, 5))
    with pytest.raises(DataValidationError) as info:
        read_checked(path, typo)
    (p,) = info.value.problems
    assert (p["rule"], p["column"]) == ("codebook_item_id", "ECO_2")
    assert "'ECO2'" in p["allowed"] or "'ECO2'" in str(info.value)
    assert "misspelt" in str(info.value) and "codebook item 'ECO_2'" in str(info.value)
    # swapped letters: the prefix 'EOC' is used by no other item, 'ECO' by two
    swapped = custval.Instrument.from_dict({"ECO": ["ECO1", "ECO2", "EOC3"],
                                            "COC": ["COC4", "COC5", "COC6"]}, scale=(1, 5))
    with pytest.raises(DataValidationError, match=r"codebook item 'EOC3'.*'ECO3'"):
        read_checked(path, swapped)
    # nothing resembles the id, but a column is named like the codebook's items
    other = custval.Instrument.from_dict({"ECO": ["ECO1", "ECO2", "XYZ9"],
                                          "COC": ["COC4", "COC5", "COC6"]}, scale=(1, 5))
    with pytest.raises(DataValidationError, match=r"\['ECO3'\].*typo in 'XYZ9'"):
        read_checked(path, other)
    # either may be wrong: both are named, the item stays a missing item column
    path2 = write_csv(tmp_path / "t.csv", [["id", "ECO1", "ECO2", "ECO-3", *ITEMS[3:]],
                                           [1, 1, 2, 3, 4, 5, 1]])
    with pytest.raises(DataValidationError) as info:
        read_checked(path2, INST)
    (p,) = info.value.problems
    assert p["rule"] == "missing_item_column" and p["values"] == ["ECO3"]
    assert "the codebook id 'ECO3' or the file header 'ECO-3' may be misspelt" in p["allowed"]


# --------------------------------------------------------------------------- digits
def test_digits_of_other_scripts_read_and_every_conversion_listed(tmp_path):
    rows = [["id", *ITEMS, "postinumero"],
            [1, "\uff14", 2, 3, 4, 5, 1, "\uff10\uff10\uff11\uff10\uff10"],   # full-width
            [2, 1, "\u0664", 3, "\u0662", 5, 1, "00100"],                     # Arabic-Indic
            [3, 1, 2, 3, 4, 5, "\u06f5", "40100"]]                           # Persian
    path = write_csv(tmp_path / "u.csv", rows)
    df = read_checked(path, INST, id_column="id")
    assert df[list(ITEMS)].to_numpy().tolist() == [[4, 2, 3, 4, 5, 1], [1, 4, 3, 2, 5, 1],
                                                   [1, 2, 3, 4, 5, 5]]
    r = rule(df, "other_script_digits")
    assert r["n"] == 4 and r["row_counting"] == "file line"
    assert r["rows"] == {"ECO1": [2], "ECO2": [3], "COC4": [3], "COC6": [4]}
    assert r["conversions"]["ECO2"] == {"\u0664": "4"}
    # not an item: left as text, nothing converted
    assert df["postinumero"].tolist() == [r[-1] for r in rows[1:]]
    # a digit that is not a decimal digit ('²') is no number: an error naming it
    path.write_text(path.read_text(encoding="utf-8").replace("\u06f5", "\u00b2"),
                    encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    (p,) = info.value.problems
    assert (p["rule"], p["column"], p["rows"], p["values"]) == ("unmapped", "COC6", [4],
                                                                ["\u00b2"])


# --------------------------------------------------------------------------- personal data
@pytest.mark.parametrize("name_col", ["customer_name", "Your name", "respondent name",
                                      "contact_name", "Vastaajan nimi"])
def test_name_columns_recognised_and_left_out(tmp_path, name_col):
    from custval.processed import read_processed, write_processed

    path = write_csv(tmp_path / "s.csv", [
        ["id", name_col, *ITEMS],
        [1, "Matti", 1, 2, 3, 4, 5, 1], [2, "Liisa", 2, 2, 3, 4, 5, 1]])
    with pytest.warns(PersonalDataWarning, match=re.escape(repr(name_col))) as rec:
        df = read_checked(path, INST, id_column="id")
    assert "Matti" not in str(rec[0].message)
    assert [p["column"] for p in df.attrs["custval"]["personal_data_columns"]] == [name_col]
    write_processed(df, "s", directory=tmp_path / "processed")
    back = read_processed("s", directory=tmp_path / "processed")
    assert name_col not in back.columns and "Matti" not in (
        tmp_path / "processed" / "s.json").read_text(encoding="utf-8")


def test_names_never_appear_in_error_messages(tmp_path):
    names = ["Matti Meikäläinen", "Anna-Liisa Virtanen", "Matti Meikäläinen", "Pekka Nieminen"]
    rows = [["customer_name", *ITEMS, "Segment"], *[[n, 1, 2, 3, 4, 5, 1, "SME"] for n in names]]
    rows[4][1] = "Pekka"                    # a name typed into item ECO1
    rows[2][2] = "Jokseenkin samaa mieltä"  # a label in ECO2: read as 4
    rows[3][3] = "N/A"                      # a missing-value token in ECO3: shown
    rows[1][4] = "A4"                       # a code in COC4: shown
    path = write_csv(tmp_path / "asiakkaat.csv", rows, delimiter=";")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="customer_name")
    msg = str(info.value)
    for n in ("Matti", "Meikäläinen", "Pekka", "Virtanen"):
        assert n not in msg and n not in repr(info.value.problems)
    by = {(p["rule"], p["column"]): p for p in info.value.problems}
    assert by[("duplicate_id", "customer_name")]["rows"] == [2, 4]
    assert by[("unmapped", "ECO1")]["values"] == ["<a 5-character text, not shown>"]
    assert by[("unmapped", "ECO3")]["values"] == ["N/A"]
    assert by[("unmapped", "COC4")]["values"] == ["A4"]
    assert ("unmapped", "ECO2") not in by


def test_first_field_of_a_malformed_record_is_not_echoed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Your name,ECO1,ECO2,ECO3,COC4,COC5,COC6\n"
                    "Liisa Virtanen,1,2,3,4,5,1\n"
                    "Matti Meikäläinen,1,2,3,4,5,1,5\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    (p,) = [p for p in info.value.problems if p["rule"] == "wrong_field_count"]
    assert p["values"] == ["line 3: 8 fields"]
    assert "Matti" not in str(info.value)


def test_missing_values_of_a_frame_are_not_text(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    frame = pd.DataFrame({"A1": pd.Series([4, pd.NA, "Agree", None], dtype=object),
                          "A2": [1, 2, 3, 4]})
    with pytest.raises(DataValidationError) as info:
        validate_frame(frame, inst)
    (p,) = info.value.problems
    assert (p["rule"], p["rows"]) == ("unmapped", [3])  # pd.NA and None are missing, not '<NA>'


def test_unknown_qualtrics_status_is_an_error_not_a_guess(tmp_path):
    rows, expected = qualtrics_rows(numeric=False)
    odd = [i for i, (k, *_) in enumerate(expected) if k == "normal"][2]
    rows[3 + odd][QMETA.index("Status")] = "Esikatselu"  # a status custval does not know
    path = write_csv(tmp_path / "q.csv", rows, encoding="utf-8-sig")
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST)
    (p,) = info.value.problems
    assert (p["rule"], p["column"], p["rows"], p["values"]) == (
        "unknown_qualtrics_status", "Status", [expected[odd][2]], ["Esikatselu"])
    with pytest.warns(PersonalDataWarning):
        df = read_checked(path, INST, qualtrics_status="keep")
    assert df.attrs["custval"]["qualtrics"]["values_seen"]["Status"]["Esikatselu"] == 1
    rows_balance(df)


def test_response_ids_stay_aligned_with_rows(tmp_path):
    """Previews found by Status and by DistributionChannel, interleaved: each row keeps its id."""
    rows, expected = qualtrics_rows(numeric=True)
    first = QORDER.index("preview") - 1  # a preview known only from its DistributionChannel,
    assert QORDER[first] == "normal"     # just before one known from its Status
    rows[3 + first][QMETA.index("DistributionChannel")] = "preview"
    path = write_csv(tmp_path / "q.csv", rows, encoding="utf-8-sig")
    with pytest.warns(PersonalDataWarning), pytest.warns(ExcludedResponseWarning):
        df = read_checked(path, INST)
    (e,) = [e for e in df.attrs["custval"]["excluded"] if e["reason"] == "preview"]
    want = sorted([(line, rid) for k, rid, line, _ in expected if k == "preview"]
                  + [(expected[first][2], expected[first][1])])
    assert list(zip(e["rows"], e["response_ids"])) == want

