"""Seeded survey fixtures: one simulated frame written in every format survey tools export.

All data here are SIMULATED (numpy default_rng with a fixed seed).  ``expected_frame()`` is
what :func:`custval.read_survey` must return for every file written by the ``write_*``
functions (item codes as float64 with NaN for every kind of missing answer).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
ITEMS = ("A1", "A2", "A3", "B1", "B2", "B3")
LABELS = {
    "en": {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree",
           5: "Strongly agree"},
    "fi": {1: "Täysin eri mieltä", 2: "Jokseenkin eri mieltä", 3: "Ei samaa eikä eri mieltä",
           4: "Jokseenkin samaa mieltä", 5: "Täysin samaa mieltä"},
}
DK = {"en": ["Don't know"], "fi": ["En osaa sanoa", "EOS"]}
MISSING_CODE = -99
DK_CODE = 6
TEXTS = {it: {"en": f"Statement {it}.", "fi": f"Väittämä {it}."} for it in ITEMS}

CODEBOOK_YAML = """\
format: custval-codebook/1
name: demo
version: "1.0"
title: {en: "Simulated demo instrument", fi: "Simuloitu esimerkkimittari"}
citation: "Simulated data for the custval test suite."
languages: [en, fi]
scale:
  min: 1
  max: 5
  labels:
    en: {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree", 4: "Agree", 5: "Strongly agree"}
    fi: {1: "Täysin eri mieltä", 2: "Jokseenkin eri mieltä", 3: "Ei samaa eikä eri mieltä", 4: "Jokseenkin samaa mieltä", 5: "Täysin samaa mieltä"}
missing:
  codes: [-99]
  dont_know:
    codes: [6]
    labels: {en: ["Don't know"], fi: ["En osaa sanoa", "EOS"]}
constructs:
  - id: A
    label: {en: "Construct A", fi: "Käsite A"}
    items:
      - {id: A1, text: {en: "Statement A1.", fi: "Väittämä A1."}}
      - {id: A2, text: {en: "Statement A2.", fi: "Väittämä A2."}}
      - {id: A3, text: {en: "Statement A3.", fi: "Väittämä A3."}, reverse: true}
  - id: B
    label: {en: "Construct B", fi: "Käsite B"}
    items:
      - {id: B1, text: {en: "Statement B1.", fi: "Väittämä B1."}}
      - {id: B2, text: {en: "Statement B2.", fi: "Väittämä B2."}}
      - {id: B3, text: {en: "Statement B3.", fi: "Väittämä B3."}}
"""

_INSTRUMENT = None


def make_instrument():
    """The demo instrument (items A1..A3, B1..B3; scale 1..5; -99 missing; 6 / EOS don't know)."""
    global _INSTRUMENT
    if _INSTRUMENT is None:
        import tempfile

        from custval.codebook import load_instrument

        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "demo.yaml"
            p.write_text(CODEBOOK_YAML, encoding="utf-8")
            _INSTRUMENT = load_instrument(p)
    return _INSTRUMENT


# --------------------------------------------------------------------------- the frame
def _draw(n: int = 40, seed: int = SEED):
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, 6, size=(n, len(ITEMS)))
    # how each cell is written: 0 value, 1 empty, 2 missing code, 3 don't-know code, 4 DK label
    kind = rng.choice(5, size=(n, len(ITEMS)), p=[0.82, 0.06, 0.04, 0.04, 0.04])
    kind[0] = 0  # the first respondent answered everything (keeps header sniffing honest)
    ids = np.arange(1001, 1001 + n)
    gender = rng.choice(["female", "male", "other"], size=n)
    town = rng.choice(["Helsinki", "Jyväskylä", "Hämeenlinna", "Espoo", "Oulu"], size=n)
    age = rng.integers(18, 81, size=n).astype(object)
    age[3] = None
    weight = np.round(rng.uniform(0.5, 2.0, size=n), 3)
    return codes, kind, ids, gender, town, age, weight


def expected_frame(n: int = 40, seed: int = SEED) -> pd.DataFrame:
    """What read_survey must return: items float64 (NaN = any missing), others typed."""
    codes, kind, ids, gender, town, age, weight = _draw(n, seed)
    items = np.where(kind == 0, codes, np.nan).astype(float)
    df = pd.DataFrame({"id": pd.array(ids, dtype="Int64")})
    for j, it in enumerate(ITEMS):
        df[it] = items[:, j]
    df["gender"] = pd.Series(gender, dtype="str")
    df["town"] = pd.Series(town, dtype="str")
    df["age"] = pd.array(list(age), dtype="Int64")
    df["weight"] = weight.astype("float64")
    return df


def _cell(code, k, dk_label: str, as_label: str | None = None):
    if k == 0:
        return LABELS[as_label][int(code)] if as_label else int(code)
    return {1: None, 2: MISSING_CODE, 3: DK_CODE, 4: dk_label}[int(k)]


def table_rows(n: int = 40, seed: int = SEED, *, dk_label="EOS", decimal=".", as_label=None):
    """Header and rows (Python values; None = empty) of the seeded frame."""
    codes, kind, ids, gender, town, age, weight = _draw(n, seed)
    header = ["id", *ITEMS, "gender", "town", "age", "weight"]
    rows = []
    for i in range(n):
        w = f"{weight[i]:.3f}".rstrip("0").rstrip(".")
        if decimal == ",":
            w = w.replace(".", ",")
        rows.append([int(ids[i]), *[_cell(codes[i, j], kind[i, j], dk_label, as_label)
                                    for j in range(len(ITEMS))],
                     str(gender[i]), str(town[i]), age[i], w])
    return header, rows


def _text(header, rows, delimiter) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    wr.writerow(header)
    for r in rows:
        wr.writerow(["" if v is None else v for v in r])
    return buf.getvalue()


# --------------------------------------------------------------------------- writers
def write_csv_comma(path: Path, **kw) -> Path:
    header, rows = table_rows(dk_label="Don't know", **kw)
    path.write_text(_text(header, rows, ","), encoding="utf-8", newline="")
    return path


def write_csv_finnish(path: Path, encoding: str = "cp1252", **kw) -> Path:
    """Semicolon-delimited, decimal comma, Finnish labels (as older Finnish Excel saves it)."""
    header, rows = table_rows(dk_label="En osaa sanoa", decimal=",", **kw)
    path.write_text(_text(header, rows, ";"), encoding=encoding, newline="")
    return path


def write_tsv_utf16(path: Path, **kw) -> Path:
    """Tab-delimited UTF-16 with BOM (Qualtrics' 'TSV' download)."""
    header, rows = table_rows(dk_label="EOS", **kw)
    path.write_text(_text(header, rows, "\t"), encoding="utf-16", newline="")
    return path


def write_csv_gzip(path: Path, **kw) -> Path:
    header, rows = table_rows(dk_label="EOS", **kw)
    path.write_bytes(gzip.compress(_text(header, rows, ",").encode("utf-8"), mtime=0))
    return path


def write_xlsx_two_headers(path: Path, *, title: bool = False, **kw) -> Path:
    """Excel workbook: item ids in the header row, question texts in a second header row."""
    import openpyxl

    header, rows = table_rows(dk_label="EOS", **kw)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Vastaukset"
    if title:
        ws.append(["Asiakaskysely 2024 (simulated)"])
        ws.append([])
    ws.append(header)
    ws.append(["Vastaajan numero", *[TEXTS[it]["fi"] for it in ITEMS], "Sukupuoli",
               "Kunta", "Ikä", "Paino"])
    for r in rows:
        r = list(r)
        r[-1] = float(r[-1])
        ws.append(r)
    wb.save(path)
    return path


def write_sav(path: Path, **kw) -> Path:
    """SPSS file: numeric items with value labels; -99 declared user-missing in the file."""
    import pyreadstat

    codes, kind, ids, gender, town, age, weight = _draw(**kw)
    df = pd.DataFrame({"id": ids.astype(float)})
    for j, it in enumerate(ITEMS):
        col = np.where(kind[:, j] == 0, codes[:, j], np.nan).astype(float)
        col[kind[:, j] == 2] = MISSING_CODE
        col[(kind[:, j] == 3) | (kind[:, j] == 4)] = DK_CODE
        df[it] = col
    df["gender"] = list(gender)
    df["town"] = list(town)
    df["age"] = [np.nan if a is None else float(a) for a in age]
    df["weight"] = weight
    labels = {it: {**{float(k): v for k, v in LABELS["en"].items()}, float(DK_CODE): "Don't know",
                   float(MISSING_CODE): "No answer"} for it in ITEMS}
    pyreadstat.write_sav(df, str(path), variable_value_labels=labels,
                         missing_ranges={it: [MISSING_CODE] for it in ITEMS})
    return path


def write_parquet(path: Path, **kw) -> Path:
    codes, kind, ids, gender, town, age, weight = _draw(**kw)
    df = pd.DataFrame({"id": ids.astype(np.int64)})
    for j, it in enumerate(ITEMS):
        col = np.where(kind[:, j] == 0, codes[:, j], np.nan).astype(float)
        col[kind[:, j] == 2] = MISSING_CODE
        col[(kind[:, j] == 3) | (kind[:, j] == 4)] = DK_CODE
        df[it] = col
    df["gender"] = pd.Series(gender, dtype="str")
    df["town"] = pd.Series(town, dtype="str")
    df["age"] = pd.array(list(age), dtype="Int64")
    df["weight"] = weight
    df.to_parquet(path, index=False)
    return path


QUALTRICS_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
                  "Finished", "RecordedDate", "ResponseId", "RecipientEmail",
                  "DistributionChannel", "UserLanguage"]


def write_qualtrics_csv(path: Path, *, as_label: str | None = None, extra_rows: bool = True,
                        **kw) -> Path:
    """Qualtrics 'CSV' download: three header rows (export tags, question text, ImportId JSON),
    UTF-8 with BOM, metadata columns; plus one preview and one unfinished response at the end
    (when `extra_rows`)."""
    header, rows = table_rows(dk_label="Don't know", as_label=as_label, **kw)
    full_header = [*QUALTRICS_META, *header]
    text_row = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
                "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
                "Recipient Email", "Distribution Channel", "User Language", "Respondent id",
                *[TEXTS[it]["en"] for it in ITEMS], "Gender", "Town", "Age", "Weight"]
    import_row = [json.dumps({"ImportId": c}) for c in full_header]
    out = []
    for i, r in enumerate(rows):
        meta = ["2024-03-01 10:00:00", "2024-03-01 10:07:00", "IP Address", f"10.0.{i}.1", "100",
                "420", "True", "2024-03-01 10:07:01", f"R_{i:08d}xYz", "", "anonymous", "EN"]
        out.append(meta + r)
    if extra_rows:
        preview = ["2024-02-28 09:00:00", "2024-02-28 09:01:00", "Survey Preview", "", "100",
                   "60", "True", "2024-02-28 09:01:01", "R_preview0001", "", "preview", "EN",
                   9001, 3, 3, 3, 3, 3, 3, "other", "Oulu", 40, "1"]
        unfinished = ["2024-03-02 09:00:00", "2024-03-02 09:01:00", "IP Address", "10.9.9.9",
                      "40", "60", "False", "2024-03-09 09:01:01", "R_unfinish001", "",
                      "anonymous", "EN", 9002, 2, 4, None, None, None, None, "female", "Espoo",
                      33, "1.5"]
        out += [preview, unfinished]
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(full_header)
    wr.writerow(text_row)
    wr.writerow(import_row)
    for r in out:
        wr.writerow(["" if v is None else v for v in r])
    path.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    return path


def write_label_csv(path: Path, lang: str = "fi", **kw) -> Path:
    """Answers as label text (Webropol / Google Forms / LimeSurvey 'full answers' export)."""
    dk = DK[lang][0]
    header, rows = table_rows(dk_label=dk, as_label=lang, **kw)
    # label exports have no numeric codes for missing: write declared codes as the DK label
    rows = [[dk if (j in range(1, 7) and v in (MISSING_CODE, DK_CODE)) else v
             for j, v in enumerate(r)] for r in rows]
    path.write_text(_text(header, rows, ","), encoding="utf-8", newline="")
    return path


#: Source of ``peak_rss()`` for the memory-measuring subprocesses of tests and benchmarks: the
#: process's own peak resident set (``VmHWM``).  ``ru_maxrss`` is not used: Linux keeps the
#: high-water mark of the process that forked across ``exec``, so a child of a big process (a
#: pytest worker late in the suite) reports its parent's peak.
PEAK_RSS_CODE = """
def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
"""


def _big_table(n_rows: int, n_items: int, seed: int):
    """id + n_items items Q1.. on 1..5 with ~2% empty cells, as a pyarrow table of strings."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    digits = pa.array(["", "1", "2", "3", "4", "5"], type=pa.string())
    cols = {"id": pa.array(np.arange(1, n_rows + 1, dtype=np.int64))}
    for j in range(n_items):
        x = rng.integers(1, 6, size=n_rows).astype(np.int8)
        x[rng.random(n_rows) < 0.02] = 0
        cols[f"Q{j + 1}"] = pa.DictionaryArray.from_arrays(pa.array(x), digits).cast(pa.string())
    return pa.table(cols)


def write_big_csv_gzip(path: Path, n_rows: int, n_items: int = 10, seed: int = 1) -> Path:
    """A large gzip CSV (id + n_items items on 1..5, ~2% empty cells), written by pyarrow."""
    import pyarrow.csv as pacsv

    buf = io.BytesIO()
    pacsv.write_csv(_big_table(n_rows, n_items, seed), buf,
                    write_options=pacsv.WriteOptions(quoting_style="none"))
    path.write_bytes(gzip.compress(buf.getvalue(), compresslevel=1, mtime=0))
    return path


def write_big_csv(path: Path, n_rows: int, n_items: int = 30, seed: int = 1) -> Path:
    """A large plain CSV (id + n_items items Q1.. on 1..5, ~2% empty cells), by pyarrow."""
    import pyarrow.csv as pacsv

    pacsv.write_csv(_big_table(n_rows, n_items, seed), str(path),
                    write_options=pacsv.WriteOptions(quoting_style="none"))
    return path


# --------------------------------------------------------------------------- reading and writing
def snapshot(path: Path):
    """Bytes of the file and the folder listing (the raw file must never change)."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


def read_checked(path: Path, *args, **kw):
    """``custval.read_survey``, asserting that the file and its folder are unchanged afterwards."""
    from custval.ingest import read_survey

    before = snapshot(path)
    try:
        return read_survey(path, *args, **kw)
    finally:
        assert snapshot(path) == before


def write_rows_csv(path: Path, rows, *, delimiter=",", quote_all=False, encoding="utf-8") -> Path:
    """Rows (lists) as a CSV export: CRLF line ends, None as an empty field."""
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n",
                    quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for r in rows:
        wr.writerow(["" if v is None else v for v in r])
    path.write_text(buf.getvalue(), encoding=encoding, newline="")
    return path


def write_rows_xlsx(path: Path, rows) -> Path:
    """Rows (lists) as the first sheet of a workbook."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path
