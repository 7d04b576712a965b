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

Files are opened read-only and never written, renamed or added to.  A file the
parser cannot read (damaged, truncated, mislabelled) is a DataValidationError
naming the file and the format (rule ``unreadable_file``), the parser's error
chained.  Work is bounded: an ``.xlsx`` that inflates beyond
:data:`MAX_XLSX_XML_BYTES` is refused before parsing; the header is looked for in
a sample that grows past 256 KiB up to :data:`MAX_SAMPLE_BYTES` for long header lines.

Row counting (used in every message):

* CSV/TSV: ``file line`` -- the 1-based line in the file, header and title
  lines included.  When a quoted field spans several lines (a multi-line
  comment) every record is named by the line it starts on; only if Python's csv
  module and pyarrow disagree on the records are rows named as ``data record``
  (1-based, counted after the column-name header row) instead.
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
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError

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
    lines: np.ndarray | None = None  # CSV: the file line each record starts on

    def number(self, p):
        if self.lines is not None:
            return self.lines[np.asarray(p, dtype=np.int64)]
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


# --------------------------------------------------------------------------- item arrays
class ColumnBuffer:
    """float64 values appended chunk by chunk into one array.

    Sized by ``capacity`` (the records the source says it holds) and doubled when more
    come: the column is never held twice, as concatenating the chunks at the end would
    (pages of the unused tail are never touched, so they take no memory).

    Examples
    --------
    >>> b = ColumnBuffer(2)
    >>> for part in ([1.0, 2.0], [3.0]):
    ...     b.append(np.array(part))
    >>> b.values().tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, capacity: int = 0):
        self._data = np.empty(max(int(capacity), 16), dtype=np.float64)
        self._n = 0

    def append(self, values: np.ndarray) -> None:
        need = self._n + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, 2 * len(self._data)), dtype=np.float64)
            grown[:self._n] = self._data[:self._n]
            self._data = grown
        self._data[self._n:need] = values
        self._n = need

    def values(self) -> np.ndarray:
        """The values appended (a view; the buffer is handed over)."""
        out = self._data[:self._n]
        self._data = np.empty(0, dtype=np.float64)
        return out


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


class _csv_field_limit:
    """Python's csv module refuses fields over 128 KiB; a long header line or a quote
    left open over many lines holds longer ones (restored afterwards)."""

    def __enter__(self):
        self.old = csv.field_size_limit(2**31 - 1)

    def __exit__(self, *exc):
        csv.field_size_limit(self.old)


def _rows_of(text: str, delimiter: str, limit: int) -> list[list[str]]:
    with _csv_field_limit():
        return _rows_of_text(text, delimiter, limit)


def _rows_of_text(text: str, delimiter: str, limit: int) -> list[list[str]]:
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
#: The longest first lines custval looks through to find the header: the sample grows from
#: 256 KiB until it holds enough lines or reaches this size.
MAX_SAMPLE_BYTES = 64 << 20
_FALLBACK = "cp1252"
_8BIT = ("utf-8", "utf-8-sig", "cp1252", "latin-1")


def _read_sample(path: Path, compression: str | None, min_lines: int) -> tuple[bytes, bool]:
    """(first bytes of the file, whether they are the whole file): at least 256 KiB, more
    until `min_lines` line ends are in it (a header line may be longer than 256 KiB)."""
    with _open_binary(path, compression) as fh:
        sample = fh.read(_SAMPLE_BYTES)
        whole = len(sample) < _SAMPLE_BYTES
        while not whole and sample.count(b"\n") + sample.count(b"\r") < min_lines \
                and len(sample) < MAX_SAMPLE_BYTES:
            more = fh.read(min(len(sample), MAX_SAMPLE_BYTES - len(sample)))
            whole = not more
            sample += more
        if not whole:
            whole = not fh.read(1)
    return sample, whole


def _is_utf8(enc: str) -> bool:
    return enc.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _decode_line(line: bytes, primary: str) -> tuple[str, str]:
    """(text, encoding used) of one line: UTF-8 first, cp1252 (latin-1 for the bytes cp1252
    leaves undefined, or when the file is latin-1) for a line that is not valid UTF-8."""
    if line.isascii():
        return line.decode("ascii"), "ascii"
    try:
        return line.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if primary == "latin-1":  # a latin-1 file stays latin-1
        return line.decode("latin-1"), "latin-1"
    try:
        return line.decode(_FALLBACK), _FALLBACK
    except UnicodeDecodeError:
        return line.decode("latin-1"), "latin-1"


def _family(enc: str) -> str:
    return "utf-8" if _is_utf8(enc) else enc


def _split_block(data: bytes) -> int:
    """Index after the last complete line of `data` (0 if none): a \\r at the very end may be
    the first half of \\r\\n."""
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def _line_blocks(path: Path, compression: str | None):
    """The file's bytes in blocks of about 1 MiB that end at a line end (the last: the rest)."""
    carry = b""
    with _open_binary(path, compression) as fh:
        while True:
            block = fh.read(1 << 20)
            data = carry + block
            cut = len(data) if not block else _split_block(data)
            done, carry = data[:cut], data[cut:]
            yield done
            if not block:
                return


def _lines_of(block: bytes):
    return block.splitlines(keepends=True)


@dataclass
class _TextFacts:
    n_lines: int = 0
    n_quotes: int = 0
    mixed: bool = False  # some lines need another 8-bit encoding than the rest


def _text_facts(path: Path, compression: str | None, enc: str) -> _TextFacts:
    """One pass over the bytes: lines, quote characters and whether the lines all decode
    with `enc` (UTF-8: every line valid UTF-8; cp1252 / latin-1: no line that is valid
    UTF-8 with non-ASCII bytes, which would be mojibake when read as cp1252)."""
    facts = _TextFacts()
    utf8 = _is_utf8(enc)
    nonascii = re.compile(rb"[^\r\n]*[\x80-\xff][^\r\n]*")
    for done in _line_blocks(path, compression):
        if done:
            n_cr = done.count(b"\r")
            facts.n_lines += done.count(b"\n") + n_cr - (done.count(b"\r\n") if n_cr else 0)
            if done[-1:] not in (b"\n", b"\r"):
                facts.n_lines += 1  # the last line without a line end
            facts.n_quotes += done.count(b'"')
            if not facts.mixed and not done.isascii():
                if utf8:
                    try:
                        done.decode("utf-8")
                    except UnicodeDecodeError:
                        facts.mixed = True
                else:
                    for m in nonascii.finditer(done):
                        try:
                            m.group().decode("utf-8")
                            facts.mixed = True
                            break
                        except UnicodeDecodeError:
                            pass
    return facts


class _LineDecoder:
    """Physical lines of a text file decoded one by one (UTF-8 first, cp1252 for a line
    that is not valid UTF-8).  For the lines with non-ASCII bytes, `counts` holds how many
    were decoded with each encoding and `lines` their 1-based numbers (the first 1,000)."""

    def __init__(self, path: Path, compression: str | None, primary: str):
        self.path, self.compression, self.primary = path, compression, _family(primary)
        self.counts: dict[str, int] = {}
        self.lines: dict[str, list[int]] = {}

    def majority(self) -> str:
        """The encoding of most non-ASCII lines (UTF-8 on a tie)."""
        if not self.counts:
            return self.primary
        return max(sorted(self.counts), key=lambda e: (self.counts[e], e == "utf-8"))

    def __iter__(self):
        self.counts, self.lines = {}, {}
        n = 0
        for done in _line_blocks(self.path, self.compression):
            for raw in _lines_of(done):
                n += 1
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[3:]
                text, used = _decode_line(raw, self.primary)
                if used != "ascii":
                    self.counts[used] = self.counts.get(used, 0) + 1
                    got = self.lines.setdefault(used, [])
                    if len(got) < 1000:
                        got.append(n)
                yield text


class _Transcoded(io.RawIOBase):
    """A readable binary stream: the lines of a _LineDecoder re-encoded as UTF-8 (for
    pyarrow's CSV reader)."""

    def __init__(self, lines: _LineDecoder):
        self._it = iter(lines)
        self._buf = b""

    def readable(self):
        return True

    def readinto(self, b):
        want = len(b)
        parts, size = [self._buf], len(self._buf)
        while size < want:
            text = next(self._it, None)
            if text is None:
                break
            enc = text.encode("utf-8")
            parts.append(enc)
            size += len(enc)
        data = b"".join(parts)
        out, self._buf = data[:want], data[want:]
        b[:len(out)] = out
        return len(out)


def _quote_opening(text: str, delim: str) -> list[int]:
    """Offsets in `text` (one record's raw text) of the quotes that open a quoted field
    still open at the end of the text (at most one) -- [] when every quote is closed."""
    open_at = None
    i = 0
    n = len(text)
    while True:
        j = text.find('"', i)
        if j < 0:
            break
        if open_at is None:
            if j == 0 or text[j - 1] in (delim, "\n", "\r"):
                open_at = j
            i = j + 1
        elif j + 1 < n and text[j + 1] == '"':
            i = j + 2  # a doubled quote inside a quoted field
        else:
            open_at = None
            i = j + 1
    return [] if open_at is None else [open_at]


def _multiline_field(text: str, delim: str) -> int | None:
    """Offset of the quote that opens the first quoted field holding a line end."""
    i = 0
    while True:
        j = text.find('"', i)
        if j < 0:
            return None
        if j == 0 or text[j - 1] in (delim, "\n", "\r"):
            k = j + 1
            while True:  # the closing quote
                k = text.find('"', k)
                if k < 0:
                    end = len(text)
                    break
                if k + 1 < len(text) and text[k + 1] == '"':
                    k += 2
                    continue
                end = k
                break
            if "\n" in text[j:end] or "\r" in text[j:end]:
                return j
            i = end + 1
        else:
            i = j + 1


def _record_scan(lines, delim: str, skip: int, header: list[str]) -> dict:
    with _csv_field_limit():
        return _record_scan_limited(lines, delim, skip, header)


def _record_scan_limited(lines, delim: str, skip: int, header: list[str]) -> dict:
    """Walk the records after the header with Python's csv module, noting the file line
    each record starts on and every record that spans lines.  A record spanning lines is
    fine when its quoted field legitimately holds line ends (a free-text comment); it is
    a *merge* when the quoting is broken: the record does not have the header's number of
    fields, a quote closes inside a field, a line inside the quoted field is itself a
    complete record (as many fields as the header), or the quote is still open at the end
    of the file."""
    width = len(header)
    starts = array("l")
    merges: list[dict] = []
    wrong: list[tuple[int, int]] = []  # (line, fields) of records pyarrow skips
    buf: list[str] = []

    def feed():
        for ln in lines:
            buf.append(ln)
            yield ln

    reader = csv.reader(feed(), delimiter=delim, quotechar='"', doublequote=True, strict=False)
    prev = 0
    n_rec = 0
    last = None
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:  # e.g. a field beyond the csv module's size limit
            rec = None
        end = reader.line_num
        raw, first = list(buf), prev + 1
        buf.clear()
        prev = end
        n_rec += 1
        if n_rec <= skip:
            continue
        last = (first, end, raw, rec)
        if rec is not None and (len(rec) == width or rec == []):
            starts.append(first)
        elif rec is not None:
            wrong.append((first, len(rec)))
        if end > first or rec is None:
            merges.extend(_judge(first, end, raw, rec, delim, header, at_eof=False))
    if last is not None:  # an unclosed quote at the end of the file
        first, end, raw, rec = last
        text = "".join(raw)
        if _quote_opening(text, delim) and not any(m["first"] == first for m in merges):
            merges.extend(_judge(first, end, raw, rec, delim, header, at_eof=True))
        elif _quote_opening(text, delim):
            for m in merges:
                if m["first"] == first:
                    m["at_eof"] = True
    return {"starts": starts, "merges": merges, "wrong": wrong}


def _judge(first: int, end: int, raw: list[str], rec, delim: str, header: list[str], *,
           at_eof: bool) -> list[dict]:
    width = len(header)
    text = "".join(raw)
    open_at = _quote_opening(text, delim)
    at_eof = at_eof or bool(open_at)
    q = open_at[0] if open_at else _multiline_field(text, delim)
    q_line = first + (text.count("\n", 0, q) + text.count("\r", 0, q) - text.count("\r\n", 0, q)
                      if q is not None else 0)
    field_no = None
    if q is not None:
        try:  # the fields before the quote, as the reader splits them
            parsed = list(csv.reader(io.StringIO(text[:q], newline=""), delimiter=delim))
            field_no = sum(len(r) for r in parsed) - (1 if parsed else 0)
        except csv.Error:
            field_no = None
    reasons = []
    if rec is None:
        reasons.append("the csv reader cannot parse it")
    elif len(rec) != width:
        reasons.append(f"it has {len(rec)} fields, the header {width}")
    try:
        list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error:
        if not at_eof:
            reasons.append("a quote closes inside a field")
    looks = []
    if width >= 3:
        for k, ln in enumerate(raw[1:], start=first + 1):
            if k <= q_line:
                continue
            fields = next(csv.reader([ln.rstrip("\r\n")], delimiter=delim), [])
            if len(fields) == width:
                looks.append(k)
    if looks:
        reasons.append("file line(s) " + _span_text(looks) + " inside it look like complete "
                       f"records ({width} fields)")
    if at_eof:
        reasons.insert(0, "the quote is not closed before the end of the file")
    if not reasons:
        return []
    column = header[field_no] if field_no is not None and 0 <= field_no < width else None
    return [{"first": first, "last": end, "quote_line": q_line, "column": column,
             "reasons": reasons, "at_eof": at_eof, "looks": looks}]


def _span_text(lines: list[int], show: int = 10) -> str:
    """'8-16' for consecutive lines, else a list (at most `show`)."""
    if lines and lines[-1] - lines[0] == len(lines) - 1 and len(lines) > 2:
        return f"{lines[0]}-{lines[-1]}"
    return ", ".join(map(str, lines[:show])) + (" ..." if len(lines) > show else "")


def _delimiter_hint(header: list[str], delim: str) -> str | None:
    """A likely delimiter when the header is one column holding another delimiter."""
    if len(header) != 1:
        return None
    counts = {d: header[0].count(d) for d in _DELIMITERS if d != delim}
    best = max(counts, key=counts.get)
    return best if counts[best] >= 1 else None


def read_csv_table(path: Path, compression: str | None, wanted: set[str], *,
                   encoding: str | None, delimiter: str | None, decimal: str | None,
                   header_row: int | None, chunksize: int) -> RawTable:
    """Delimited text, streamed by pyarrow as strings.

    The encoding is sniffed from the first bytes; then one pass over the file counts
    lines and quotes and checks that every line decodes: a line that is not valid UTF-8
    in a UTF-8 file (or a UTF-8 line in a cp1252 file) makes every line be decoded on its
    own -- UTF-8 first, else cp1252; the file's encoding is then that of most of its
    non-ASCII lines, and the lines in another encoding are named in a
    :class:`~custval.exceptions.RepairWarning` and in ``info["decoded_lines"]``; nothing
    is re-decoded silently.  When the records do
    not match the lines one to one (a quoted field spans lines) every record is walked
    to name the line it starts on; a quote that swallows lines which are themselves
    records, or that is not closed by the end of the file, is an error naming the lines.
    """
    min_lines = max(_HEADER_SEARCH_ROWS, header_row or 0) + 5
    sample, whole = _read_sample(path, compression, min_lines)
    enc_given = encoding is not None
    enc = encoding or sniff_encoding(sample)
    text = _decode_sample(sample, enc)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not whole and not any(ch in text for ch in "\r\n"):
        raise DataValidationError(
            f"{path.name}: no line end in the first {MAX_SAMPLE_BYTES >> 20} MiB "
            f"(custval._io.readers.MAX_SAMPLE_BYTES); the header line is longer than that, or the "
            "file is not a delimited text file.", path=path)
    if whole and not text.endswith(("\n", "\r")):
        text += "\n"  # the sample is the whole file: its last line is complete
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
    eight_bit = enc.lower().replace("_", "-") in _8BIT
    facts = _text_facts(path, compression, enc) if eight_bit else None
    decoder = None
    if facts is not None and facts.mixed:
        if enc_given and _is_utf8(enc):
            bad = _LineDecoder(path, compression, enc)
            for _ in bad:
                pass
            lines = sorted(n for e, ns in bad.lines.items() if e != "utf-8" for n in ns)
            n_bad = sum(c for e, c in bad.counts.items() if e != "utf-8")
            raise DataValidationError(
                f"{path.name}: {n_bad} line(s) are not valid UTF-8 (file lines "
                f"{_span_text(lines)}), but encoding={encoding!r} was given. Fix these lines "
                "or pass encoding=None to decode them one by one.", path=path)
        if not enc_given:
            decoder = _LineDecoder(path, compression, enc)
    if facts is not None:
        info["rows_hint"] = max(0, facts.n_lines - h - 1)
    names = [f"__c{i}" for i in range(len(header))]
    avg_line = max(8, len(text.encode("utf-8")) // max(1, len(text.splitlines())))
    block = int(min(64 << 20, max(1 << 16, chunksize * avg_line)))
    bad_rows: list[dict] = []
    info["bad_rows"] = bad_rows

    def on_bad_row(row):  # the record's text is not kept: its fields may be personal data
        bad_rows.append({"line": row.number, "fields": row.actual_columns,
                         "expected": row.expected_columns})
        return "skip"

    def chunks():
        import pyarrow as pa
        import pyarrow.csv as pacsv

        start = 0
        try:
            if decoder is not None:
                stream = pa.PythonFile(io.BufferedReader(_Transcoded(decoder), 1 << 20),
                                       mode="r")
                arrow_enc = "utf8"
            else:
                stream = pa.input_stream(str(path), compression=compression)
                arrow_enc = "utf8" if enc == "utf-8" else enc
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    skip_rows=h + 1, column_names=names, block_size=block,
                    encoding=arrow_enc),
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
                    del batch
                    frame.columns = range(len(names))
                    yield frame, start
                    start += len(frame)
                    del frame
            del reader
            pa.default_memory_pool().release_unused()  # the chunks' buffers, back to the system
        except (pa.ArrowInvalid, UnicodeDecodeError, OSError, EOFError) as err:
            what = "gzip-compressed " if compression else ""
            raise DataValidationError(
                f"{path.name}: cannot be read as {what}{enc} text with delimiter {delim!r} "
                f"(after {start} records): {err}. Pass encoding= (e.g. 'utf-8', 'cp1252', "
                "'utf-16') or delimiter=, or check that the file is complete.",
                path=path) from err

    table = RawTable("csv", header, chunks(), counting, info,
                     preamble=sorted(preamble + preamble_blank))

    def finish(n_records: int) -> list:
        problems = []
        if decoder is not None:  # the encoding of most lines, each line decoded on its own
            table.info["encoding"] = main = decoder.majority()
            table.info["encoding_note"] = "decoded line by line (UTF-8 first, else cp1252)"
        if decoder is not None and len(decoder.counts) > 1:
            used = sorted(e for e in decoder.counts if e != main)
            lines = sorted(n for e in used for n in decoder.lines[e])[:1000]
            n_odd = sum(decoder.counts[e] for e in used)
            table.info["decoded_lines"] = {"encoding": used, "lines": lines, "n": n_odd}
            import warnings

            from ..exceptions import RepairWarning
            warnings.warn(
                f"{path.name}: {n_odd} line(s) are in another encoding than the rest of "
                f"this {main} file and were decoded as {' / '.join(used)}, each line on "
                f"its own: file lines {_span_text(lines)}. Check their text; re-save the file "
                "in one encoding to silence this.", RepairWarning, stacklevel=4)
        n_lines = facts.n_lines if facts is not None else \
            count_lines(path, compression, table.info["encoding"])
        table.info["n_lines"] = n_lines
        bad = table.info.pop("bad_rows", [])
        odd_quotes = facts is not None and facts.n_quotes % 2 == 1
        if n_lines != h + 1 + n_records or bad or odd_quotes:
            lines = decoder if decoder is not None else _text_lines(path, compression, enc)
            scan = _record_scan(lines, delim, h + 1, header)
            if len(scan["starts"]) == n_records and n_lines != h + 1 + n_records:
                # every record named by the file line it starts on
                table.counting = RowCounting(
                    "file line", h + 2,
                    "file lines are 1-based and count the header and any title lines; a "
                    "record is named by the line it starts on",
                    lines=np.frombuffer(scan["starts"], dtype=np.dtype("l")).astype(np.int64))
            elif len(scan["starts"]) == n_records:
                pass  # one line per record: file lines as they are
            elif n_lines != h + 1 + n_records:
                table.counting = RowCounting(
                    "data record", 1,
                    "data records are 1-based and counted after the column-name header row "
                    "(file lines are not exact: a quoted field spans several lines)")
            index = {int(v): i for i, v in enumerate(scan["starts"])} \
                if scan["merges"] and len(scan["starts"]) == n_records else {}
            for m in scan["merges"]:
                pos = [index[m["first"]]] if m["first"] in index else []
                if m["at_eof"]:
                    problems.append((
                        "unclosed_quote", m["column"] or "(whole record)", pos,
                        [f"quote opened on line {m['quote_line']}, never closed"],
                        "every quoted field closed; a quote inside a text field doubled (\"\")",
                        "a quote still open at the end of the file: the lines after it were "
                        "read as one text (rows would be lost)"))
                else:
                    problems.append((
                        "quote_merges_lines", m["column"] or "(whole record)", pos,
                        [f"lines {m['first']}-{m['last']} (quote opened on line "
                         f"{m['quote_line']})"],
                        "a quoted field may span lines (a multi-line comment) only when no line "
                        "inside it is a record of its own and it is closed before the next "
                        "field; a quote inside a text field doubled (\"\")",
                        "file lines read as one record because a quote opened in this column "
                        "closes only lines later (" + "; ".join(m["reasons"]) + "): rows would "
                        "be lost"))
            if bad and len(scan["wrong"]) == len(bad):
                merged = {m["first"] for m in scan["merges"]}
                for b, (line, _) in zip(bad, scan["wrong"]):
                    b["line"] = line
                bad = [b for b in bad if b["line"] not in merged]  # reported as merges
        if bad:
            problems.append((
                "wrong_field_count", "(whole record)", [],
                # the line, never the record's first field (it may be a respondent's name)
                [f"line {b['line']}: {b['fields']} fields" if b.get("line") else
                 f"{b['fields']} fields" for b in bad],
                f"{len(header)} fields per record, as in the header (check the delimiter "
                "and the quoting)",
                "records with a different number of fields than the header; they cannot be "
                "read"))
        if (d := _delimiter_hint(header, delim)) is not None:
            problems.append((
                "wrong_delimiter", header[0][:60], [], [f"delimiter {delim!r}"],
                f"the header is a single column holding {d!r}: the file looks "
                f"{ {';': 'semicolon', chr(9): 'tab', '|': 'pipe', ',': 'comma'}[d]}-separated; "
                f"read it with delimiter={d!r}",
                "a header that is one column: the delimiter looks wrong"))
        return problems

    table.finish = finish
    return table


def _text_lines(path: Path, compression: str | None, enc: str):
    """Physical lines (\\n, \\r\\n or \\r) of the decoded file, line ends kept."""
    with _open_binary(path, compression) as fh:
        with io.TextIOWrapper(fh, encoding=enc, newline="") as src:
            first = True
            for line in src:
                if first and line.startswith("\ufeff"):
                    line = line[1:]
                first = False
                yield line


# --------------------------------------------------------------------------- Excel
#: The largest uncompressed size (bytes, all members of the .xlsx ZIP together) custval
#: parses: openpyxl reads about 5 MB of sheet XML per second, so 512 MiB is about 100 s.
#: A larger workbook is refused (export it as CSV, or raise this value knowingly).
MAX_XLSX_XML_BYTES = 512 << 20

_COL = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_MERGE = re.compile(rb'<mergeCell\s[^>]*ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')
_CACHED_VALUE = re.compile(rb"<v>[^<]")
_FORMULA = re.compile(rb"<f[\s>/]")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _check_xlsx_size(path: Path) -> int:
    """Uncompressed size of the workbook's ZIP members; refuse above MAX_XLSX_XML_BYTES."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        total = sum(i.file_size for i in zf.infolist())
    if total > MAX_XLSX_XML_BYTES:
        raise DataValidationError(
            f"{path.name}: the workbook inflates to {total / 2**20:,.0f} MiB of XML, more than "
            f"the {MAX_XLSX_XML_BYTES / 2**20:,.0f} MiB custval parses "
            "(custval._io.readers.MAX_XLSX_XML_BYTES; parsing takes about 1 s per 5 MB). Export "
            "the sheet as CSV (read in bounded time and memory) or raise that limit.",
            [{"rule": "xlsx_too_large", "file": path.name, "values": [total],
              "allowed": f"at most {MAX_XLSX_XML_BYTES} bytes uncompressed"}], path=path)
    return total


def _sheet_facts(path: Path, member: str) -> tuple[list[tuple[str, int, int]], list]:
    """One streaming pass over a sheet's XML: cells holding a formula without a cached
    value (column letters, column number, row) and the merged ranges
    (first col, first row, last col, last row)."""
    import zipfile

    no_value: list[tuple[str, int, int]] = []
    merges = []
    carry = b""
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        while True:
            block = fh.read(4 << 20)
            data = carry + block
            cut = data.rfind(b"</c>") + 4 if block else len(data)
            if cut < 4:
                cut = 0 if block else len(data)
            part, carry = data[:cut], data[cut:]
            if b"<f" in part:
                for m in _FORMULA.finditer(part):
                    start = part.rfind(b"<c", 0, m.start())
                    end = part.find(b"</c>", m.start())
                    cell = part[start:end if end >= 0 else len(part)]
                    # a stored result is a non-empty <v>; openpyxl (with lxml installed) writes
                    # formulas it cannot compute as <v></v>, which is no result at all
                    if _CACHED_VALUE.search(cell) or b"<is>" in cell:
                        continue
                    r = _COL.search(cell, 0, 200)
                    if r is not None:
                        letters = r.group(1).decode()
                        no_value.append((letters, _col_number(letters), int(r.group(2))))
            if not block:
                break
            if len(carry) > (64 << 20):  # no cell end in 64 MiB: not worth holding
                carry = carry[-(1 << 20):]
    # mergeCells follow sheetData: they are in the last part read
    for m in _MERGE.finditer(data[-(16 << 20):]):
        merges.append((_col_number(m.group(1).decode()), int(m.group(2)),
                       _col_number(m.group(3).decode()), int(m.group(4))))
    return sorted(set(no_value), key=lambda t: (t[2], t[1])), merges


def _merged_header(head: list[list[str]], merges: list, h: int) -> list[str] | None:
    """Column names combined from two header rows when Excel row h+1 holds question texts
    merged over several columns and the row below the statement texts: ``"question -
    statement"`` (read by the ``text`` header rule as ``question - item text``)."""
    if h + 1 >= len(head):
        return None
    row = h + 1  # Excel row of the question texts
    spans = [(c1, c2) for c1, r1, c2, r2 in merges if r1 == row == r2 and c2 > c1]
    if not spans:
        return None
    top, below = head[h], head[h + 1]
    width = max(len(top), len(below))
    top = top + [""] * (width - len(top))
    below = below + [""] * (width - len(below))
    names = []
    for j in range(width):
        span = next((s for s in spans if s[0] <= j + 1 <= s[1]), None)
        q = top[span[0] - 1].strip() if span else ""
        s = below[j].strip()
        if span and q and s:
            names.append(f"{q} - {s}")
        else:
            names.append(top[j].strip() or s)
    while names and names[-1] == "":
        names.pop()
    return names


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
    """Excel workbook, streamed row by row (openpyxl read-only mode) in chunks of strings.

    Before parsing, the workbook's uncompressed size is checked against
    :data:`MAX_XLSX_XML_BYTES`, and one streaming pass over the sheet's XML finds the
    formula cells that have no cached value (they read as empty: each is an error naming
    the cell) and the merged cells.  When the row of the column names has question texts
    merged over several columns and the row below holds the statement texts, the two
    rows are combined as ``"question - statement"`` and the second row is reported in the
    preamble.
    """
    import openpyxl

    _check_xlsx_size(path)
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
        member = getattr(ws, "_worksheet_path", None)
        no_value, merges = _sheet_facts(path, member) if member else ([], [])
        rows_iter = ws.iter_rows(min_row=1, values_only=True)
        head: list[list[str]] = []
        limit = max(_HEADER_SEARCH_ROWS, (header_row or 0) + 1)
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
    if header_row is not None:
        h = header_row - 1
    else:
        h, hits = find_header(head, wanted)
        if hits == 0 and merges:  # no column names: the first row with merged question texts
            def named(r):  # cells with text in Excel row r (a merged title has one)
                return sum(1 for c in head[r - 1] if c.strip()) if r <= len(head) else 0
            rows = sorted({r1 for c1, r1, c2, r2 in merges if r1 == r2 and c2 > c1
                           and r1 < len(head) and named(r1) >= 2 and named(r1 + 1) >= 2})
            h = rows[0] - 1 if rows else h
    surveymonkey = {"respondent id", "collector id"} <= {c.strip().casefold() for c in head[h]}
    # SurveyMonkey's two header rows are combined by _platforms (its own rules)
    combined = None if surveymonkey else _merged_header(head, merges, h)
    n_header_rows = 2 if combined is not None else 1
    header = combined if combined is not None else [c.strip() for c in head[h]]
    while header and header[-1] == "":
        header.pop()
    if combined is None and {"respondent id", "collector id"} <= {c.casefold() for c in header} \
            and h + 1 < len(head):
        # SurveyMonkey: a matrix question at the end has its text only above its first
        # column; the row below names the other columns (see _platforms)
        below = head[h + 1]
        last = max((i + 1 for i, c in enumerate(below) if c.strip()), default=0)
        header += [""] * max(0, last - len(header))
    width = len(header)
    preamble = [(i + 1, "title or note row above the column-name header" if any(head[i])
                 else "blank row above the column-name header") for i in range(h)]
    if combined is not None:
        preamble.append((h + 2, "second column-name row (statement texts under the question "
                                "texts merged over several columns; combined as 'question - "
                                "statement')"))
    first = h + 1 + n_header_rows  # Excel row of the first record
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
            buf = head[first - 1:]
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
    if combined is not None:
        info["header_rows"] = [h + 1, h + 2]
        info["merged_header"] = [f"{_col_letters(c1)}{r1}:{_col_letters(c2)}{r2}"
                                 for c1, r1, c2, r2 in merges if r1 == r2 == h + 1]
    counting = RowCounting("Excel row", first, "Excel rows are the row numbers Excel shows")
    table = RawTable("xlsx", header, chunks(), counting, info, preamble=preamble)

    def finish(n):
        problems = []
        if extra:
            problems.append(("cells_without_header", "(right of the last named column)", extra,
                             list(extra_cells), f"data only in the {width} named columns",
                             "rows with values in columns that have no header name"))
        allowed = ("cells with values; open the workbook in Excel or LibreOffice and save it "
                   "(that stores the formulas' results), or replace the formulas by values")
        what = ("formula cells without a stored result (the workbook was written by a program "
                "that does not compute formulas): their values are unknown, not missing")
        for letters, col, row in no_value:
            if row >= first and col <= width:
                problems.append(("formula_without_value", header[col - 1] or f"column {letters}",
                                 [row - first], [f"{sheet_name}!{letters}{row}"], allowed, what))
            elif row < first:
                problems.append(("formula_without_value", "(column-name rows)", [],
                                 [f"{sheet_name}!{letters}{row}"], allowed, what))
        if no_value:
            table.info["formula_cells_without_value"] = [f"{letters}{row}" for letters, _, row
                                                         in no_value[:1000]]
        return problems

    table.finish = finish
    return table


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# --------------------------------------------------------------------------- SPSS
def _readstat_metadata(read, path: Path, encoding: str | None):
    """The file's metadata by pyreadstat reader ``read``, and the options every chunk is read
    with: user-missing codes kept as values, value formats not applied."""
    kwargs = {"user_missing": True, "apply_value_formats": False}
    if encoding:
        kwargs["encoding"] = encoding
    _, meta = read(str(path), metadataonly=True, **kwargs)
    return meta, kwargs


def read_sav_table(path: Path, *, encoding: str | None, chunksize: int = CHUNK_ROWS) -> RawTable:
    """SPSS file read in chunks; user-missing codes kept as values, value labels handed on."""
    import pyreadstat

    meta, kwargs = _readstat_metadata(pyreadstat.read_sav, path, encoding)
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
            "num_rows": meta.number_rows, "rows_hint": meta.number_rows or 0,
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

    meta, kwargs = _readstat_metadata(pyreadstat.read_dta, path, encoding)
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
            "num_rows": meta.number_rows, "rows_hint": meta.number_rows or 0,
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
    return RawTable("parquet", columns, chunks(), counting, {"num_rows": pf.metadata.num_rows,
                                                      "rows_hint": pf.metadata.num_rows})


# --------------------------------------------------------------------------- entry
_FORMAT_NAMES = {"csv": "delimited text (CSV/TSV)", "xlsx": "an Excel .xlsx workbook",
                 "sav": "an SPSS .sav file", "dta": "a Stata .dta file",
                 "parquet": "a Parquet file"}


def _read_errors() -> tuple[type[BaseException], ...]:
    """What the parsers raise on a damaged, truncated or mislabelled file."""
    import xml.etree.ElementTree as ET
    import zipfile
    import zlib

    errors: list[type[BaseException]] = [OSError, EOFError, ValueError, KeyError, IndexError,
                                         TypeError, zipfile.BadZipFile, zlib.error,
                                         ET.ParseError, UnicodeError, csv.Error]
    try:
        import pyreadstat

        errors += [pyreadstat.ReadstatError, pyreadstat.PyreadstatError]
    except (ImportError, AttributeError):
        pass
    try:
        import pyarrow as pa

        errors.append(pa.ArrowException)
    except ImportError:
        pass
    return tuple(errors)


def _unreadable(path: Path, fmt: str, compression: str | None, err: BaseException):
    what = _FORMAT_NAMES.get(fmt, fmt)
    if compression:
        what = f"{compression}-compressed {what}"
    return DataValidationError(
        f"{path.name}: cannot be read as {what}: the file is damaged, truncated or not what "
        f"its first bytes say ({type(err).__name__}: {str(err)[:200]}). Check that the "
        "download or copy is complete, or export the data again.",
        [{"rule": "unreadable_file", "file": path.name, "format": fmt,
          "compression": compression, "error": type(err).__name__}], path=path)


def _guarded(chunks, path: Path, fmt: str, compression: str | None):
    """The chunks of a reader; a parser's error becomes a DataValidationError."""
    try:
        yield from chunks
    except DataValidationError:
        raise
    except _read_errors() as err:
        raise _unreadable(path, fmt, compression, err) from err


def open_table(path: Path, wanted: set[str], *, encoding=None, delimiter=None, decimal=None,
               sheet=None, header_row=None, chunksize: int = CHUNK_ROWS) -> RawTable:
    """Open `path` in whatever survey format it is; `wanted` are column names to find the header.

    A file the parser cannot read (damaged, truncated, mislabelled) is a
    :class:`~custval.exceptions.DataValidationError` naming the file and the format (rule
    ``unreadable_file``), raised here or while the chunks are read.
    """
    fmt, compression = detect_format(path)
    try:
        if fmt == "csv":
            table = read_csv_table(path, compression, wanted, encoding=encoding,
                                   delimiter=delimiter, decimal=decimal, header_row=header_row,
                                   chunksize=chunksize)
        elif fmt == "xlsx":
            table = read_xlsx_table(path, wanted, sheet=sheet, header_row=header_row,
                                    chunksize=chunksize)
        elif fmt == "sav":
            table = read_sav_table(path, encoding=encoding, chunksize=chunksize)
        elif fmt == "dta":
            table = read_dta_table(path, encoding=encoding, chunksize=chunksize)
        else:
            table = read_parquet_table(path, chunksize=chunksize)
    except DataValidationError:
        raise
    except _read_errors() as err:
        raise _unreadable(path, fmt, compression, err) from err
    table.chunks = _guarded(table.chunks, path, fmt, compression)
    return table


def looks_like_number(s: str) -> bool:
    return bool(_NUMBER.match(s.strip()))
