"""Format detection and parsing for :func:`custval.read_survey` (private).

Every reader returns a :class:`RawTable`: the column names found in the file,
an iterator of chunks and the facts needed to name rows in messages.  Text
formats (CSV/TSV, Excel) are returned as *strings* -- nothing is converted
here, so no pandas NA coercion can happen (``dtype=str``, ``na_filter=False``,
``skip_blank_lines=False``).  Typed formats (SPSS ``.sav``, Stata ``.dta``,
Parquet) keep their column types; SPSS user-missing codes are kept as values
(``user_missing=True``) and handed on with the value labels, so that the caller
decides and reports.  Stata's extended missing values ``.a``-``.z`` are handed
on the same way: as the double codes Stata itself stores for them
(:data:`STATA_MISSING`), declared user-missing for every numeric column.

Files are opened read-only and never written, renamed or added to.

Row counting (used in every message):

* CSV/TSV: ``file line`` -- the 1-based line in the file, header and title
  lines included.  When a quoted field spans several lines this is not
  well defined, and rows are named as ``data record`` (1-based, counted after
  the column-name header row) instead.
* Excel: ``Excel row`` -- the row number shown by Excel.
* SPSS: ``SPSS case`` -- 1-based case number in SPSS's Data View.
* Stata: ``Stata observation`` -- 1-based observation number (``_n``), as in
  Stata's Data Editor.
* Parquet and in-memory frames: ``data row`` -- 1-based position.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._pii import mask_value
from .exceptions import DataValidationError

__all__ = ["RawTable", "RowCounting", "file_sha256", "open_table"]

CHUNK_ROWS = 100_000
_SAMPLE_BYTES = 256 * 1024
_HEADER_SEARCH_ROWS = 20
_DELIMITERS = (",", ";", "\t", "|")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


# --------------------------------------------------------------------------- row naming
@dataclass
class RowCounting:
    """How the rows of one source are numbered in messages.

    ``number(p)`` turns the 0-based position ``p`` of a record after the
    column-name header into the number a user finds in the file.
    """

    kind: str  # "file line" | "data record" | "Excel row" | "SPSS case" | "data row"
    first: int  # number of the record at position 0
    explanation: str

    def number(self, p):
        return np.asarray(p, dtype=np.int64) + self.first

    def plural(self) -> str:
        return self.kind + "s"


def frame_counting() -> RowCounting:
    return RowCounting("data row", 1, "data rows are 1-based positions in the frame")


# --------------------------------------------------------------------------- raw table
@dataclass
class RawTable:
    format: str
    columns: list[str]
    chunks: Iterator[tuple[pd.DataFrame, int]]
    counting: RowCounting
    info: dict = field(default_factory=dict)
    # rows above the column-name header: list of (number, reason), numbered like `counting`
    preamble: list[tuple[int, str]] = field(default_factory=list)
    value_labels: dict = field(default_factory=dict)  # SPSS: column -> {code: label}
    user_missing: dict = field(default_factory=dict)  # SPSS: column -> [(lo, hi), ...]
    finish: object = None  # callable(n_records) run after the last chunk (CSV line check)


# --------------------------------------------------------------------------- hashing
def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size in bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


# --------------------------------------------------------------------------- detection
def detect_format(path: Path) -> tuple[str, str | None]:
    """(format, compression) from the magic bytes, falling back to the suffix."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffixes = [s.lower() for s in path.suffixes]
    if head[:2] == b"\x1f\x8b":
        return "csv", "gzip"
    if head[:4] == b"PK\x03\x04":
        if suffixes and suffixes[-1] in (".xlsx", ".xlsm"):
            return "xlsx", None
        raise DataValidationError(
            f"{path.name}: a ZIP archive that is not an .xlsx workbook; unzip it and pass the "
            "file inside.", path=path)
    if head[:4] in (b"$FL2", b"$FL3"):
        return "sav", None
    if head[:4] == b"PAR1":
        return "parquet", None
    if head[:8] == b"<stata_d":  # Stata 13+ (dta 117-119)
        return "dta", None
    if suffixes and suffixes[-1] == ".dta" and len(head) > 1 and 102 <= head[0] <= 115 and head[1] in (1, 2):
        return "dta", None  # Stata 5-12: format byte, then byte order (1 = MSF, 2 = LSF)
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DataValidationError(
            f"{path.name}: a legacy Excel .xls workbook, which custval does not read; save it "
            "as .xlsx (File > Save As) and read that.", path=path)
    return "csv", None


def _open_binary(path: Path, compression: str | None):
    return gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")


def sniff_encoding(sample: bytes) -> str:
    r"""Encoding of a text sample: BOMs, UTF-16 without BOM, UTF-8, else cp1252/latin-1.

    Examples
    --------
    >>> [sniff_encoding(t) for t in ("Jyväskylä".encode("utf-8"), "Jyväskylä".encode("cp1252"),
    ...                              "id\tA1".encode("utf-16"), b"\xef\xbb\xbfid;A1")]
    ['utf-8', 'cp1252', 'utf-16', 'utf-8-sig']
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(sample) >= 4:
        even_nul = sample[0:200:2].count(0)
        odd_nul = sample[1:200:2].count(0)
        n = len(sample[0:200:2])
        if odd_nul > 0.6 * n and even_nul == 0:
            return "utf-16-le"
        if even_nul > 0.6 * n and odd_nul == 0:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # bytes that cp1252 leaves undefined are only valid in latin-1
    if any(b in sample for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")):
        return "latin-1"
    return "cp1252"


def _decode_sample(sample: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)


def _rows_of(text: str, delimiter: str, limit: int) -> list[list[str]]:
    rows = []
    lines = text.splitlines()
    if lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    for row in csv.reader(lines[: limit * 3], delimiter=delimiter):
        rows.append(row)
        if len(rows) >= limit:
            break
    return rows


def find_header(rows: list[list], wanted: set[str]) -> tuple[int, int]:
    """Index of the header row among `rows` (the one naming most wanted columns) and that count."""
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        cells = {str(c).strip() for c in row if c is not None}
        hits = len(cells & wanted)
        if hits > best_hits:
            best, best_hits = i, hits
    return best, best_hits


def sniff_csv(text: str, wanted: set[str]) -> tuple[str, int, list[list[str]]]:
    r"""(delimiter, header row index, parsed sample rows) for a decoded text sample.

    Examples
    --------
    >>> d, h, rows = sniff_csv("Kysely 2024\n\nid;A1;A2\n1;3,5;4\n", {"A1", "A2"})
    >>> d, h, rows[h], sniff_decimal(rows[h + 1:], d)
    (';', 2, ['id', 'A1', 'A2'], ',')
    """
    best = None
    for delim in _DELIMITERS:
        rows = _rows_of(text, delim, _HEADER_SEARCH_ROWS + 5)
        if not rows:
            continue
        h, hits = find_header(rows, wanted)
        width = len(rows[h])
        body = [r for r in rows[h + 1:] if r]
        consistent = sum(len(r) == width for r in body)
        score = (hits, width > 1, consistent, width)
        if best is None or score > best[0]:
            best = (score, delim, h, rows)
    if best is None:
        return ",", 0, []
    return best[1], best[2], best[3]


def sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    """',' when numbers with a decimal comma appear (only possible when ',' is not the delimiter)."""
    if delimiter == ",":
        return "."
    comma = dot = 0
    for row in rows:
        for cell in row:
            c = cell.strip()
            if re.fullmatch(r"[+-]?\d+,\d+", c):
                comma += 1
            elif re.fullmatch(r"[+-]?\d+\.\d+", c):
                dot += 1
    return "," if comma > dot else "."


def count_lines(path: Path, compression: str | None, encoding: str) -> int:
    """Number of lines in the file: \\n, \\r\\n and bare \\r end a line; a last line
    without a line end counts."""
    utf16 = encoding.lower().replace("_", "-").startswith("utf-16")
    nl, cr, crlf = ("\n", "\r", "\r\n") if utf16 else (b"\n", b"\r", b"\r\n")
    n = 0
    prev = nl[:0]
    last = nl[:0]
    with _open_binary(path, compression) as fh:
        src = io.TextIOWrapper(fh, encoding=encoding, newline="") if utf16 else fh
        while block := src.read(1 << 20):
            n += block.count(nl) + block.count(cr) - block.count(crlf)
            if prev == cr and block[:1] == nl:  # a \r\n split between two blocks
                n -= 1
            prev = last = block[-1:]
    return n + (1 if last and last not in (nl, cr) else 0)


# --------------------------------------------------------------------------- CSV
def read_csv_table(path: Path, compression: str | None, wanted: set[str], *,
                   encoding: str | None, delimiter: str | None, decimal: str | None,
                   header_row: int | None, chunksize: int) -> RawTable:
    with _open_binary(path, compression) as fh:
        sample = fh.read(_SAMPLE_BYTES)
    enc_given = encoding is not None
    enc = encoding or sniff_encoding(sample)
    text = _decode_sample(sample, enc)
    if text.startswith("\ufeff"):
        text = text[1:]
    if delimiter is None:
        delim, h, rows = sniff_csv(text, wanted)
    else:
        delim = delimiter
        rows = _rows_of(text, delim, _HEADER_SEARCH_ROWS + 5)
        h, _ = find_header(rows, wanted)
    if header_row is not None:  # 1-based file line of the column names
        h = header_row - 1
    if not rows or h >= len(rows):
        raise DataValidationError(f"{path.name}: no header row found (the file is empty or not "
                                  "a delimited text file).", path=path)
    header = [c.strip() for c in rows[h]]
    dec = decimal or sniff_decimal(rows[h + 1:], delim)
    preamble = [(i + 1, "title or note line above the column-name header")
                for i in range(h) if any(c.strip() for c in rows[i])]
    preamble_blank = [(i + 1, "blank line above the column-name header")
                      for i in range(h) if not any(c.strip() for c in rows[i])]
    info = {"encoding": enc, "encoding_source": "given" if enc_given else "detected",
            "delimiter": delim, "decimal": dec, "compression": compression,
            "header_line": h + 1}
    counting = RowCounting("file line", h + 2,
                           "file lines are 1-based and count the header and any title lines")
    names = [f"__c{i}" for i in range(len(header))]
    avg_line = max(8, len(text.encode("utf-8")) // max(1, len(text.splitlines())))
    block = int(min(64 << 20, max(1 << 16, chunksize * avg_line)))
    bad_rows: list[dict] = []
    info["bad_rows"] = bad_rows

    def on_bad_row(row):
        first_field = mask_value(row.text.split(delim, 1)[0][:40]) if row.text else ""
        bad_rows.append({"line": row.number, "fields": row.actual_columns,
                         "expected": row.expected_columns, "first_field": first_field})
        return "skip"

    def chunks():
        import pyarrow as pa
        import pyarrow.csv as pacsv

        nonlocal enc
        for attempt in (0, 1):
            start = 0
            try:
                stream = pa.input_stream(str(path), compression=compression)
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        skip_rows=h + 1, column_names=names, block_size=block,
                        encoding="utf8" if enc == "utf-8" else enc),
                    parse_options=pacsv.ParseOptions(
                        delimiter=delim, quote_char='"', double_quote=True,
                        newlines_in_values=True, ignore_empty_lines=False,
                        invalid_row_handler=on_bad_row),
                    convert_options=pacsv.ConvertOptions(
                        column_types={c: pa.string() for c in names}, null_values=[],
                        strings_can_be_null=False, quoted_strings_can_be_null=False))
                with stream:
                    for batch in reader:
                        frame = batch.to_pandas()
                        frame.columns = range(len(names))
                        yield frame, start
                        start += len(frame)
                return
            except (pa.ArrowInvalid, UnicodeDecodeError) as err:
                utf8_problem = isinstance(err, UnicodeDecodeError) or "utf8" in str(err).lower()
                if utf8_problem and not enc_given and attempt == 0 and start == 0 \
                        and enc == "utf-8":
                    enc = "cp1252"
                    info["encoding"] = enc
                    info["encoding_note"] = ("not valid UTF-8 after the first 256 KiB; "
                                             "read as cp1252")
                    bad_rows.clear()
                    continue
                raise DataValidationError(
                    f"{path.name}: cannot be read as {enc} text with delimiter {delim!r}: "
                    f"{err}. Pass encoding= (e.g. 'utf-8', 'cp1252', 'utf-16') or "
                    "delimiter=.", path=path) from None

    table = RawTable("csv", header, chunks(), counting, info,
                     preamble=sorted(preamble + preamble_blank))

    def finish(n_records: int) -> list:
        n_lines = count_lines(path, compression, table.info["encoding"])
        table.info["n_lines"] = n_lines
        if n_lines != h + 1 + n_records:
            # a quoted field spans lines (or old Mac \r line ends): line numbers are not exact
            table.counting = RowCounting(
                "data record", 1,
                "data records are 1-based and counted after the column-name header row "
                "(file lines are not exact: a quoted field spans several lines)")
        bad = table.info.pop("bad_rows", [])
        if not bad:
            return []
        return [("wrong_field_count", "(whole record)", [],
                 [f"{b['fields']} fields, first field {b['first_field']!r}" for b in bad],
                 f"{len(header)} fields per record, as in the header (check the delimiter "
                 "and the quoting)",
                 "records with a different number of fields than the header; they cannot be "
                 "read")]

    table.finish = finish
    return table


# --------------------------------------------------------------------------- Excel
def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if np.isfinite(v) and v == int(v) and abs(v) < 2**53:
            return str(int(v))
        return repr(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def read_xlsx_table(path: Path, wanted: set[str], *, sheet, header_row: int | None,
                    chunksize: int = CHUNK_ROWS) -> RawTable:
    """Excel workbook, streamed row by row (openpyxl read-only mode) in chunks of strings."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise DataValidationError(
                    f"{path.name}: no sheet {sheet!r}; the sheets are {wb.sheetnames}.", path=path)
            ws = wb[sheet]
        rows_iter = ws.iter_rows(min_row=1, values_only=True)
        head: list[list[str]] = []
        limit = max(_HEADER_SEARCH_ROWS, header_row or 0)
        for r in rows_iter:
            head.append([_cell_text(v) for v in r])
            if len(head) >= limit:
                break
    except BaseException:
        wb.close()
        raise
    sheet_name = ws.title
    if not head:
        wb.close()
        raise DataValidationError(f"{path.name}: sheet {sheet_name!r} is empty.", path=path)
    h = header_row - 1 if header_row is not None else find_header(head, wanted)[0]
    header = [c.strip() for c in head[h]]
    while header and header[-1] == "":
        header.pop()
    if {"respondent id", "collector id"} <= {c.casefold() for c in header} and h + 1 < len(head):
        # SurveyMonkey: a matrix question at the end has its text only above its first
        # column; the row below names the other columns (see _platforms)
        below = head[h + 1]
        last = max((i + 1 for i, c in enumerate(below) if c.strip()), default=0)
        header += [""] * max(0, last - len(header))
    width = len(header)
    preamble = [(i + 1, "title or note row above the column-name header" if any(head[i])
                 else "blank row above the column-name header") for i in range(h)]
    extra: list[int] = []
    extra_cells: list[str] = []  # what those rows hold there: numbers shown, text by length

    def frame(rows: list[list[str]], start: int) -> pd.DataFrame:
        for i, r in enumerate(rows):
            if any(c != "" for c in r[width:]):
                extra.append(start + i)
                extra_cells.append(", ".join(
                    f"column {width + k + 1}: "
                    + (c if looks_like_number(c) else f"a {len(c.strip())}-character text")
                    for k, c in enumerate(r[width:]) if c != ""))
        body = [(r + [""] * width)[:width] for r in rows]
        if not body:
            return pd.DataFrame({i: pd.Series([], dtype="str") for i in range(width)})
        return pd.DataFrame(body, columns=range(width), dtype="str")

    def chunks():
        try:
            start = 0
            buf = head[h + 1:]
            for r in rows_iter:
                buf.append([_cell_text(v) for v in r])
                if len(buf) >= chunksize:
                    yield frame(buf, start), start
                    start += len(buf)
                    buf = []
            if buf or start == 0:
                yield frame(buf, start), start
        finally:
            wb.close()

    info = {"sheet": sheet_name, "header_row": h + 1}
    counting = RowCounting("Excel row", h + 2, "Excel rows are the row numbers Excel shows")
    table = RawTable("xlsx", header, chunks(), counting, info, preamble=preamble)

    def finish(n):
        if not extra:
            return []
        return [("cells_without_header", "(right of the last named column)", extra,
                 list(extra_cells), f"data only in the {width} named columns",
                 "rows with values in columns that have no header name")]

    table.finish = finish
    return table


# --------------------------------------------------------------------------- SPSS
def read_sav_table(path: Path, *, encoding: str | None, chunksize: int = CHUNK_ROWS) -> RawTable:
    """SPSS file read in chunks; user-missing codes kept as values, value labels handed on."""
    import pyreadstat

    kwargs = {"user_missing": True, "apply_value_formats": False}
    if encoding:
        kwargs["encoding"] = encoding
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True, **kwargs)
    columns = [str(c) for c in meta.column_names]
    user_missing: dict[str, list[tuple[float, float]]] = {}
    for col, vals in (meta.missing_user_values or {}).items():
        user_missing.setdefault(col, []).extend((float(v), float(v)) for v in vals
                                                if isinstance(v, (int, float)))
    for col, ranges in (meta.missing_ranges or {}).items():
        for r in ranges:
            lo, hi = r["lo"], r["hi"]
            if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
                pair = (float(lo), float(hi))
                if pair not in user_missing.setdefault(col, []):
                    user_missing[col].append(pair)

    def chunks():
        start = 0
        for df, _ in pyreadstat.read_file_in_chunks(pyreadstat.read_sav, str(path),
                                                    chunksize=chunksize, **kwargs):
            df.columns = range(len(columns))
            yield df, start
            start += len(df)
        if start == 0:
            yield pd.DataFrame({i: pd.Series([], dtype=float) for i in range(len(columns))}), 0

    info = {"file_encoding": meta.file_encoding, "file_label": meta.file_label,
            "num_rows": meta.number_rows,
            "variable_labels": {str(c): str(lab) for c, lab in (meta.column_names_to_labels or {}).items()
                                if lab}}
    counting = RowCounting("SPSS case", 1, "SPSS cases are 1-based, as in SPSS's Data View")
    labels = {str(k): {float(c): str(lab) for c, lab in v.items()}
              for k, v in (meta.variable_value_labels or {}).items()}
    return RawTable("sav", columns, chunks(), counting, info,
                    value_labels=labels, user_missing=user_missing)


# --------------------------------------------------------------------------- Stata
# The double codes Stata stores for its missing values: "." is 2^1023 and ".a" ... ".z"
# follow it in steps of 2^1011 (bit pattern 0x7fe0000000000000 + k * 0x10000000000, k = 1..26).
STATA_MISSING = {chr(ord("a") + k): float(np.array([0x7FE0000000000000 + (k + 1) * 0x10000000000],
                                                   dtype=np.int64).view(np.float64)[0])
                 for k in range(26)}
STATA_MISSING_RANGE = (STATA_MISSING["a"], STATA_MISSING["z"])


def _stata_numeric(s: pd.Series, column: str, path: Path, start: int) -> pd.Series:
    """A numeric Stata column read with ``user_missing=True``: '.a'..'.z' arrive as the
    letters 'a'..'z'; return float64 with the letters as Stata's codes for them."""
    if s.dtype.kind in "biuf":
        return s
    vals = s.to_numpy(dtype=object)
    out = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    bad = []
    for i in np.flatnonzero(np.isnan(out) & s.notna().to_numpy(dtype=bool)):  # the letters only
        v = vals[i]
        code = STATA_MISSING.get(v.strip().lstrip(".").lower()) if isinstance(v, str) else None
        if code is None:
            bad.append((start + int(i) + 1, v))
        else:
            out[i] = code
    if bad:  # readstat hands missing values on as one letter; anything else is not understood
        raise DataValidationError(
            f"{path.name}: numeric Stata column {column!r} holds values that are neither numbers "
            f"nor missing values .a-.z (Stata observations: {[b[0] for b in bad[:10]]}; values: "
            f"{[b[1] for b in bad[:10]]})", path=path)
    return pd.Series(out, index=s.index, name=s.name)


def read_dta_table(path: Path, *, encoding: str | None, chunksize: int = CHUNK_ROWS) -> RawTable:
    """Stata file read in chunks; extended missing values (.a-.z) kept as codes and declared
    user-missing, value labels and variable labels handed on."""
    import pyreadstat

    kwargs = {"user_missing": True, "apply_value_formats": False}
    if encoding:
        kwargs["encoding"] = encoding
    _, meta = pyreadstat.read_dta(str(path), metadataonly=True, **kwargs)
    columns = [str(c) for c in meta.column_names]
    types = meta.readstat_variable_types or {}
    numeric = [i for i, c in enumerate(meta.column_names) if types.get(c, "string") != "string"]
    # every numeric Stata column may hold .a-.z: all of them are missing values by definition
    user_missing = {columns[i]: [STATA_MISSING_RANGE] for i in numeric}

    def chunks():
        start = 0
        for df, _ in pyreadstat.read_file_in_chunks(pyreadstat.read_dta, str(path),
                                                    chunksize=chunksize, **kwargs):
            df.columns = range(len(columns))
            for i in numeric:
                df[i] = _stata_numeric(df[i], columns[i], path, start)
            yield df, start
            start += len(df)
        if start == 0:
            yield pd.DataFrame({i: pd.Series([], dtype=float) for i in range(len(columns))}), 0

    labels: dict[str, dict[float, str]] = {}
    missing_labels: dict[str, dict[str, str]] = {}
    for k, v in (meta.variable_value_labels or {}).items():
        for code, lab in v.items():
            if isinstance(code, str):  # a label of .a-.z
                missing_labels.setdefault(str(k), {})["." + code.lstrip(".")] = str(lab)
            else:
                labels.setdefault(str(k), {})[float(code)] = str(lab)
    info = {"file_encoding": meta.file_encoding, "file_label": meta.file_label,
            "num_rows": meta.number_rows,
            "variable_labels": {str(c): str(lab) for c, lab in (meta.column_names_to_labels or {}).items()
                                if lab},
            "extended_missing": "Stata's .a-.z in numeric columns are missing values"}
    if missing_labels:
        info["missing_value_labels"] = missing_labels
    counting = RowCounting("Stata observation", 1,
                           "Stata observations are 1-based (_n), as in Stata's Data Editor")
    return RawTable("dta", columns, chunks(), counting, info,
                    value_labels=labels, user_missing=user_missing)


# --------------------------------------------------------------------------- Parquet
def read_parquet_table(path: Path, *, chunksize: int) -> RawTable:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    columns = [str(c) for c in pf.schema_arrow.names if not str(c).startswith("__index_level_")]

    def chunks():
        start = 0
        for batch in pf.iter_batches(batch_size=chunksize, columns=columns):
            frame = batch.to_pandas()
            frame.columns = range(len(columns))
            yield frame, start
            start += len(frame)
        pf.close()

    counting = RowCounting("data row", 1, "data rows are 1-based positions in the file")
    return RawTable("parquet", columns, chunks(), counting, {"num_rows": pf.metadata.num_rows})


# --------------------------------------------------------------------------- entry
def open_table(path: Path, wanted: set[str], *, encoding=None, delimiter=None, decimal=None,
               sheet=None, header_row=None, chunksize: int = CHUNK_ROWS) -> RawTable:
    """Open `path` in whatever survey format it is; `wanted` are column names to find the header."""
    fmt, compression = detect_format(path)
    if fmt == "csv":
        table = read_csv_table(path, compression, wanted, encoding=encoding, delimiter=delimiter,
                               decimal=decimal, header_row=header_row, chunksize=chunksize)
    elif fmt == "xlsx":
        table = read_xlsx_table(path, wanted, sheet=sheet, header_row=header_row,
                                chunksize=chunksize)
    elif fmt == "sav":
        table = read_sav_table(path, encoding=encoding, chunksize=chunksize)
    elif fmt == "dta":
        table = read_dta_table(path, encoding=encoding, chunksize=chunksize)
    else:
        table = read_parquet_table(path, chunksize=chunksize)
    return table


def looks_like_number(s: str) -> bool:
    return bool(_NUMBER.match(s.strip()))
