"""read_survey on messy files: broken quoting, mixed encodings, formulas, damaged files,
oversized workbooks, long header lines, summary rows, merged Excel headers, wrong
delimiters.

All data are SIMULATED (seeded writers in tests/_survey_fixtures.py and below); the
files are written the way survey tools and spreadsheet users write them (Qualtrics'
three header rows with a BOM and CRLF, cp1252 lines pasted into UTF-8 files, ...).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import _survey_fixtures as F
import numpy as np
import pandas as pd
import pytest

from custval import DataValidationError
from custval._io import readers as _readers
from custval.exceptions import PersonalDataWarning, RepairWarning
from custval.ingest import excluded_rows

snapshot = F.snapshot
read_checked = F.read_checked

INST = F.make_instrument()
EXPECTED = F.expected_frame()


def rules(err):
    out = {}
    for p in err.problems:
        out.setdefault(p["rule"], []).append(p)
    return out


# --------------------------------------------------------------------------- Qualtrics + comments
COMMENTS = {
    2: "Palvelu oli hyvää.\nToimitus kesti kuitenkin viikon, joten annoin 3.",
    5: 'Myyjä sanoi "heti", mutta\r\n\r\nmitään ei tapahtunut',  # doubled quotes, blank line
    9: "Kiitos!",
    17: "Hinnat: ok\nHenkilökunta: erinomainen\nParkki: huono",
    29: "Viimeinen vastaaja,\nkiitos!",  # the last record of the file spans lines too
}


def qualtrics_lines(n: int = 30, comments: dict | None = None) -> list[str]:
    """Qualtrics CSV download as physical lines (CRLF): three header rows (export tags,
    question texts, ImportId JSON), metadata columns, the items, a free-text comment."""
    comments = COMMENTS if comments is None else comments
    header, rows = F.table_rows(n=n, dk_label="Don't know")
    meta = ["StartDate", "EndDate", "Status", "Progress", "Finished", "ResponseId"]
    full = [*meta, *header, "Q_comment"]
    text_row = ["Start Date", "End Date", "Response Type", "Progress", "Finished",
                "Response ID", "Respondent id", *[F.TEXTS[it]["en"] for it in F.ITEMS],
                "Gender", "Town", "Age", "Weight",
                "Is there anything else you would like to tell us?\n(optional)"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(full)
    w.writerow(text_row)
    w.writerow([json.dumps({"ImportId": c}) for c in full])
    for i, r in enumerate(rows):
        w.writerow(["2024-03-01 10:00:00", "2024-03-01 10:07:00", "IP Address", "100", "1",
                    f"R_{i:08d}xYz", *["" if v is None else v for v in r],
                    comments.get(i, "")])
    return buf.getvalue().split("\r\n")[:-1]


def write_lines(path: Path, lines: list[str], *, bom: bool = True) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\r\n".join(lines).encode("utf-8")
                     + b"\r\n")
    return path


def line_of(lines: list[str], response_id: str) -> int:
    """1-based file line on which the record of `response_id` starts (the pieces of
    `lines` are CRLF-separated; a quoted field may hold more line ends)."""
    k = index_of(lines, response_id)
    return 1 + sum(1 + ln.count("\n") + ln.count("\r") for ln in lines[:k])


def index_of(lines: list[str], response_id: str) -> int:
    return next(k for k, ln in enumerate(lines) if f",{response_id}," in ln)


def test_multiline_comments_are_read_and_rows_keep_their_file_lines(tmp_path):
    lines = qualtrics_lines()
    path = write_lines(tmp_path / "qualtrics.csv", lines)
    with pytest.warns(PersonalDataWarning):
        df = read_checked(path, INST, id_column="id")
    prov = df.attrs["custval"]
    assert len(df) == 30 and prov["rows_read"] == 32  # two extra header rows excluded
    assert df["Q_comment"].tolist()[2] == COMMENTS[2]
    assert df["Q_comment"].tolist()[29] == COMMENTS[29]
    assert df["Q_comment"].tolist()[5] == COMMENTS[5]  # CRLF inside the field kept
    pd.testing.assert_frame_equal(df[list(F.ITEMS)], F.expected_frame(n=30)[list(F.ITEMS)])
    assert prov["row_counting"] == "file line"
    # a bad value after the multi-line comments is named by the line it is on
    bad = lines[:]
    k = line_of(bad, "R_00000020xYz")
    i = index_of(bad, "R_00000020xYz")
    bad[i] = re.sub(r"(R_00000020xYz,\d+,)(-?\d*)", r"\g<1>77", bad[i])  # A1 = 77
    path2 = write_lines(tmp_path / "qualtrics_bad.csv", bad)
    with pytest.raises(DataValidationError) as info:
        read_checked(path2, INST, id_column="id")
    (p,) = [p for p in info.value.problems if p["rule"] in ("undeclared_missing_code",
                                                              "out_of_range")]
    assert p["rows"] == [k] and p["row_counting"] == "file line"
    assert k > 20 + 4  # the comments above made file lines and records differ


def test_stray_quote_that_swallows_ten_records_is_an_error_naming_the_lines(tmp_path):
    lines = qualtrics_lines(comments={})
    k = line_of(lines, "R_00000006xYz")
    close = line_of(lines, "R_00000016xYz")
    lines[index_of(lines, "R_00000006xYz")] += '"Hyvä, mutta'  # a quote never closed there
    lines[index_of(lines, "R_00000016xYz")] += 'Erinomainen"'  # ... closed ten lines later
    path = write_lines(tmp_path / "stray.csv", lines)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    (p,) = rules(info.value)["quote_merges_lines"]
    assert p["column"] == "Q_comment"
    assert p["values"] == [f"lines {k}-{close} (quote opened on line {k})"]
    assert p["rows"] == [k] and p["row_counting"] == "file line"
    msg = str(info.value)
    assert f"file line(s) {k + 1}-{close} inside it look like complete records" in msg


def test_stray_quote_that_breaks_the_field_count_names_the_lines(tmp_path):
    lines = qualtrics_lines(comments={8: "ok, kiitos"})
    k = line_of(lines, "R_00000004xYz")
    lines[index_of(lines, "R_00000004xYz")] += '"Hinta oli'  # closed by the quote of "ok"
    path = write_lines(tmp_path / "stray2.csv", lines)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    (p,) = rules(info.value)["quote_merges_lines"]
    end = line_of(lines, "R_00000008xYz")
    assert p["values"] == [f"lines {k}-{end} (quote opened on line {k})"]
    assert "a quote closes inside a field" in str(info.value)


def test_unclosed_quote_at_the_end_of_the_file_is_an_error(tmp_path):
    lines = qualtrics_lines(comments={})
    k = line_of(lines, "R_00000027xYz")
    lines[index_of(lines, "R_00000027xYz")] += '"Ei mitään lisättävää'
    path = write_lines(tmp_path / "eof.csv", lines)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    (p,) = rules(info.value)["unclosed_quote"]
    assert p["values"] == [f"quote opened on line {k}, never closed"]
    assert p["column"] == "Q_comment"
    # on the very last line too (nothing swallowed, still an error)
    lines = qualtrics_lines(comments={})
    lines[-1] += '"Ei'
    last = line_of(lines, "R_00000029xYz")
    path = write_lines(tmp_path / "eof2.csv", lines)
    with pytest.raises(DataValidationError, match=f"quote opened on line {last}, never"):
        read_checked(path, INST, id_column="id")


def test_ragged_record_after_multiline_comments_is_named_by_its_line(tmp_path):
    lines = qualtrics_lines()
    i = index_of(lines, "R_00000024xYz")
    lines[i] += ",extra"  # one field too many
    path = write_lines(tmp_path / "ragged.csv", lines)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    (p,) = rules(info.value)["wrong_field_count"]
    k = line_of(lines, "R_00000024xYz")
    assert p["values"] == [f"line {k}: 19 fields"]  # the first field (a name?) is never shown
    assert k != 24 + 4  # the comments above shifted it


# --------------------------------------------------------------------------- encodings
def _town_rows(n: int) -> tuple[str, list[str]]:
    header = "id;A1;A2;A3;B1;B2;B3;kunta\n"
    towns = ["Jyväskylä", "Hämeenlinna", "Seinäjoki", "Espoo"]
    return header, [f"{i};{1 + i % 5};{1 + (i * 2) % 5};3;4;5;2;{towns[i % 4]}\n"
                    for i in range(1, n + 1)]


def test_one_cp1252_line_late_in_a_utf8_file_is_decoded_alone_and_named(tmp_path):
    header, rows = _town_rows(12_000)  # > 256 KiB
    k = 11_000
    data = (header + "".join(rows[:k])).encode("utf-8") + rows[k].encode("cp1252") \
        + "".join(rows[k + 1:]).encode("utf-8")
    assert len(data) > 256 * 1024
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.warns(RepairWarning, match=rf"decoded as cp1252.*file lines {k + 2}\b"):
        df = read_checked(path, INST, id_column="id")
    towns = [r.rstrip("\n").split(";")[-1] for r in rows]
    assert df["kunta"].tolist() == towns  # no "JyvÃ¤skylÃ¤" anywhere
    prov = df.attrs["custval"]
    assert prov["encoding"] == "utf-8"
    assert prov["source"]["decoded_lines"] == {"encoding": ["cp1252"], "lines": [k + 2], "n": 1}


def test_one_utf8_line_in_a_cp1252_file_is_not_mojibake(tmp_path):
    header, rows = _town_rows(300)
    data = (header + "".join(rows[:200])).encode("cp1252") + rows[200].encode("utf-8") \
        + "".join(rows[201:]).encode("cp1252")
    path = tmp_path / "excel_fi.csv"
    path.write_bytes(data)
    with pytest.warns(RepairWarning, match=r"decoded as utf-8.*file lines 202\b"):
        df = read_checked(path, INST, id_column="id")
    assert df["kunta"].tolist() == [r.rstrip("\n").split(";")[-1] for r in rows]
    assert df.attrs["custval"]["encoding"] == "cp1252"


def test_a_bad_line_with_encoding_given_is_an_error_naming_it(tmp_path):
    header, rows = _town_rows(50)
    path = tmp_path / "given.csv"
    path.write_bytes((header + "".join(rows[:40])).encode("utf-8") + rows[40].encode("cp1252")
                     + "".join(rows[41:]).encode("utf-8"))
    with pytest.raises(DataValidationError, match=r"not valid UTF-8 \(file lines 42\)"):
        read_checked(path, INST, id_column="id", encoding="utf-8")


# --------------------------------------------------------------------------- long header line
def test_header_line_longer_than_256_kib(tmp_path):
    # 3,000 open-text columns with long Qualtrics-style export tags before the items
    extra = [f"Q{j}_TEXT_{'x' * 90}" for j in range(3000)]
    header, rows = F.table_rows(n=10)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*extra, *header])
    for r in rows:
        w.writerow([*([""] * len(extra)), *["" if v is None else v for v in r]])
    path = tmp_path / "wide.csv.gz"
    path.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), mtime=0))
    assert len(buf.getvalue().split("\n", 1)[0]) > 256 * 1024
    df = read_checked(path, INST, id_column="id")
    np.testing.assert_array_equal(df[list(F.ITEMS)].to_numpy(),
                                  F.expected_frame(n=10)[list(F.ITEMS)].to_numpy())


# --------------------------------------------------------------------------- delimiter hint
def test_semicolon_file_read_with_comma_gets_a_hint(tmp_path):
    path = F.write_csv_finnish(tmp_path / "s.csv", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match=r"delimiter=';'") as info:
        read_checked(path, INST, id_column="id", delimiter=",")
    assert "wrong_delimiter" in rules(info.value)
    assert "semicolon-separated" in str(info.value)


# --------------------------------------------------------------------------- Excel
def _workbook(rows, title="Vastaukset"):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    return wb, ws


def test_formula_cells_without_cached_values_are_named(tmp_path):
    header, rows = F.table_rows(n=12)
    wb, ws = _workbook([header, *[["" if v is None else v for v in r] for r in rows]])
    ws["C5"] = "=B5"  # A2 of the 4th respondent: a formula openpyxl cannot compute
    ws["G9"] = "=ROUND(AVERAGE(B9:F9),0)"  # B3
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    got = {(p["column"], tuple(p["rows"]), tuple(p["values"]))
           for p in rules(info.value)["formula_without_value"]}
    assert got == {("A2", (5,), ("Vastaukset!C5",)), ("B3", (9,), ("Vastaukset!G9",))}
    assert "not missing" in str(info.value)


def test_formulas_with_cached_values_are_read(tmp_path):
    header, rows = F.table_rows(n=6)
    wb, ws = _workbook([header, *[["" if v is None else v for v in r] for r in rows]])
    path = tmp_path / "cached.xlsx"
    wb.save(path)
    # what Excel stores: the formula and its last result
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<c r="B3"( [^>]*)?>.*?</c>',
                          b'<c r="B3"><f>1+1</f><v>2</v></c>', parts[sheet], count=1)
    with zipfile.ZipFile(path, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    df = read_checked(path, INST, id_column="id")
    assert df["A1"].iloc[1] == 2.0


@pytest.mark.parametrize("stored", [b"<v></v>", b"<v/>", b""])
def test_a_formula_with_an_empty_stored_result_has_no_value(tmp_path, stored):
    """openpyxl with lxml writes formulas it cannot compute as <v></v>; other writers as <v/> or
    nothing: in every case the value is unknown, never read as a missing answer."""
    header, rows = F.table_rows(n=6)
    wb, ws = _workbook([header, *[["" if v is None else v for v in r] for r in rows]])
    path = tmp_path / "empty-results.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<c r="B3"( [^>]*)?>.*?</c>', b'<c r="B3"><f>1+1</f>' + stored + b"</c>",
                          parts[sheet], count=1)
    with zipfile.ZipFile(path, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id")
    assert [(p["column"], tuple(p["rows"])) for p in rules(info.value)["formula_without_value"]] == [("A1", (3,))]


def test_title_and_summary_rows_are_named_with_their_labels(tmp_path):
    header, rows = F.table_rows(n=8)
    body = [["" if v is None else v for v in r] for r in rows]
    wb, ws = _workbook([["Asiakaskysely 2024 (simuloitu)"], [], header, *body,
                        ["Keskiarvo", 3.2, 3.1, 2.9, 3.4, 3.0, 3.3],
                        ["Vastaajia", 8, 8, 7, 8, 8, 8]])
    path = tmp_path / "raportti.xlsx"
    wb.save(path)
    with pytest.warns(RepairWarning, match=r"Excel rows 12 \('Keskiarvo'\), 13 \('Vastaajia'\)"):
        df = read_checked(path, INST, id_column="id")
    assert len(df) == 8
    rep = excluded_rows(df)
    assert rep[["row", "reason", "label"]].to_numpy().tolist() == [
        [1, "title or note row above the column-name header", ""],
        [2, "blank row above the column-name header", ""],
        [12, "totals row", "Keskiarvo"], [13, "totals row", "Vastaajia"]]
    prov = df.attrs["custval"]
    assert prov["rows_read"] == prov["rows_returned"] + prov["rows_excluded"] == 10


def test_two_row_merged_header_without_item_codes(tmp_path):
    q1 = "Kuinka samaa mieltä olet seuraavista väittämistä?"
    q2 = "Entä nämä?"
    header, rows = F.table_rows(n=10, dk_label="EOS")
    row1 = ["Vastaajan numero", q1, None, None, q2, None, None, "Sukupuoli", "Kunta", "Ikä",
            "Paino"]
    row2 = [None, *[F.TEXTS[it]["fi"] for it in F.ITEMS], None, None, None, None]
    title = ["Asiakastyytyväisyys 2024 (simuloitu)"]
    wb, ws = _workbook([title, [], row1, row2,
                        *[["" if v is None else v for v in r] for r in rows]])
    ws.merge_cells("A1:K1")  # the title, merged over the table as spreadsheet users do
    for rng in ("B3:D3", "E3:G3", "A3:A4", "H3:H4", "I3:I4", "J3:J4", "K3:K4"):
        ws.merge_cells(rng)
    path = tmp_path / "webropol.xlsx"
    wb.save(path)
    df = read_checked(path, INST, id_column="Vastaajan numero")
    pd.testing.assert_frame_equal(df[list(F.ITEMS)], F.expected_frame(n=10)[list(F.ITEMS)])
    prov = df.attrs["custval"]
    assert prov["platform"]["column_map"][f"{q1} - {F.TEXTS['A2']['fi']}"] == "A2"
    assert prov["platform"]["column_map"][f"{q2} - {F.TEXTS['B3']['fi']}"] == "B3"
    assert prov["source"]["header_rows"] == [3, 4]
    assert [p["row"] for p in prov["preamble"]] == [1, 2, 4]
    assert "merged" in prov["preamble"][2]["reason"]
    # rows are still named by Excel's numbers: respondent 1 is on Excel row 5
    ws.cell(row=5, column=2, value=8)
    wb.save(path)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="Vastaajan numero")
    (p,) = info.value.problems
    assert p["rows"] == [5] and p["column"] == "A1"


def test_oversized_workbook_is_refused_before_parsing(tmp_path, monkeypatch):
    path = F.write_xlsx_two_headers(tmp_path / "x.xlsx")
    with zipfile.ZipFile(path) as z:
        size = sum(i.file_size for i in z.infolist())
    monkeypatch.setattr(_readers, "MAX_XLSX_XML_BYTES", size - 1)
    with pytest.raises(DataValidationError, match=r"inflates to .* MiB of XML, more than") as info:
        read_checked(path, INST, id_column="id")
    assert info.value.problems[0]["values"] == [size]
    monkeypatch.setattr(_readers, "MAX_XLSX_XML_BYTES", size)
    assert len(read_checked(path, INST, id_column="id")) == 40


# --------------------------------------------------------------------------- damaged files
def _dta(path: Path) -> Path:
    import pyreadstat

    df = pd.DataFrame({"id": np.arange(1.0, 41.0), **{it: EXPECTED[it].to_numpy()
                                                     for it in F.ITEMS}})
    pyreadstat.write_dta(df, str(path))
    return path


WRITERS = {
    "sav": (F.write_sav, "s.sav", "an SPSS .sav file"),
    "dta": (_dta, "d.dta", "a Stata .dta file"),
    "parquet": (F.write_parquet, "p.parquet", "a Parquet file"),
    "xlsx": (F.write_xlsx_two_headers, "x.xlsx", "an Excel .xlsx workbook"),
    "gz": (F.write_csv_gzip, "c.csv.gz", "gzip-compressed delimited text (CSV/TSV)"),
}


@pytest.mark.parametrize("kind", ["truncated", "garbled"])
@pytest.mark.parametrize("fmt", list(WRITERS))
def test_damaged_files_are_custval_errors_naming_file_and_format(tmp_path, fmt, kind):
    write, name, what = WRITERS[fmt]
    good = write(tmp_path / name).read_bytes()
    if kind == "truncated":  # an interrupted download
        data = good[: len(good) * 2 // 3]
    else:  # the magic bytes are right, the rest is overwritten
        data = bytearray(good)
        rng = np.random.default_rng(7)
        start = 64 if fmt != "gz" else 20
        data[start:-64] = rng.integers(0, 256, len(data) - start - 64, dtype=np.uint8).tobytes()
        data = bytes(data)
    bad = tmp_path / f"{kind}_{name}"
    bad.write_bytes(data)
    with pytest.raises(DataValidationError) as info:
        read_checked(bad, INST, id_column="id")
    err = info.value
    assert str(err).startswith(f"{bad.name}: cannot be read as {what}: the file is damaged")
    assert err.problems[0]["rule"] == "unreadable_file"
    assert err.problems[0]["format"] == ("csv" if fmt == "gz" else fmt)
    assert err.__cause__ is not None  # the parser's own error is kept


def test_surveymonkey_workbook_with_merged_question_keeps_its_own_two_row_rule(tmp_path):
    import openpyxl
    from test_ingest_platforms import INST as SM_INST
    from test_ingest_platforms import ITEMS as SM_ITEMS
    from test_ingest_platforms import SM_META, draw, sm_rows

    codes = draw(seed=3)
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in sm_rows(codes):
        ws.append(list(r))
    first = len(SM_META) + 1  # the matrix question's text, merged over its columns as exported
    ws.merge_cells(start_row=1, start_column=first, end_row=1,
                   end_column=first + len(SM_ITEMS) - 1)
    path = tmp_path / "Data_All_240601.xlsx"
    wb.save(path)
    with pytest.warns(PersonalDataWarning):
        df = read_checked(path, SM_INST, id_column="Respondent ID")
    np.testing.assert_array_equal(df[list(SM_ITEMS)].to_numpy(), codes)
    assert df.attrs["custval"]["platform"]["header_mode"] == "two_rows"
    assert "header_rows" not in df.attrs["custval"]["source"]


# --------------------------------------------------------------------------- memory
def test_peak_memory_within_twice_the_frame(tmp_path):
    """400,000 rows x 30 items: the read peaks within 2x the returned frame (the item
    columns are filled in place, not concatenated from chunks at the end: that peaked at
    2.6x). benchmarks/bench_ingest_memory.py runs 2,000,000 rows."""
    import subprocess
    import sys
    import textwrap

    path = F.write_big_csv(tmp_path / "big.csv", 400_000, 30)
    script = F.PEAK_RSS_CODE + textwrap.dedent(f"""
        import os, custval, pyarrow, pyarrow.csv, pandas
        from custval.ingest import read_survey
        inst = custval.Instrument.from_dict({{"Q": [f"Q{{j + 1}}" for j in range(30)]}},
                                            scale=(1, 5))
        with open("/proc/self/statm") as f:
            before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        df = read_survey({str(path)!r}, inst, id_column="id", chunksize=10_000)
        print(len(df), int(df.memory_usage(deep=True).sum()), peak_rss() - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    n, size, grow = map(int, out.stdout.split())
    assert n == 400_000
    assert grow < 2 * size + 16 * 2**20, (grow / 2**20, size / 2**20)


def test_cp1252_file_with_an_ascii_start_is_read_as_cp1252(tmp_path):
    # the first 256 KiB hold no letter outside ASCII; the towns further down are cp1252
    header, rows = _town_rows(12_000)
    ascii_rows = [r.replace("Jyväskylä", "Espoo").replace("Hämeenlinna", "Espoo")
                  .replace("Seinäjoki", "Espoo") for r in rows[:9_000]]
    path = tmp_path / "late.csv"
    path.write_bytes((header + "".join(ascii_rows) + "".join(rows[9_000:])).encode("cp1252"))
    assert (header + "".join(ascii_rows)).isascii()
    df = read_checked(path, INST, id_column="id")  # no warning: one encoding throughout
    assert df["kunta"].tolist()[9_000:] == [r.rstrip("\n").split(";")[-1] for r in rows[9_000:]]
    assert df.attrs["custval"]["encoding"] == "cp1252"


def test_mostly_utf8_file_with_cp1252_sample_names_the_cp1252_lines(tmp_path):
    header, rows = _town_rows(60)
    data = header.encode() + rows[0].encode("cp1252") + "".join(rows[1:]).encode("utf-8")
    path = tmp_path / "mostly_utf8.csv"
    path.write_bytes(data)
    with pytest.warns(RepairWarning, match=r"1 line\(s\) .* this utf-8 file .* decoded as "
                                           r"cp1252.*file lines 2\b"):
        df = read_checked(path, INST, id_column="id")
    assert df["kunta"].tolist() == [r.rstrip("\n").split(";")[-1] for r in rows]
    assert df.attrs["custval"]["encoding"] == "utf-8"
