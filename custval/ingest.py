"""Read survey exports into validated frames: :func:`read_survey` and :func:`validate_frame`.

What comes in
    CSV/TSV (comma, semicolon, tab or pipe; decimal point or comma; UTF-8 with
    or without BOM, UTF-16 as in Qualtrics' TSV, cp1252/latin-1 as in older
    Finnish Excel; gzip-compressed too), Excel ``.xlsx`` (also with title rows
    and several header rows), SPSS ``.sav`` (value labels, user-missing codes),
    Stata ``.dta`` (value labels, extended missing values .a-.z), Parquet, and
    the exports of Qualtrics, LimeSurvey, Google Forms, Webropol and SurveyMonkey
    (answers as codes or as label text; headers as item ids, LimeSurvey question
    codes or question texts; see the table in :func:`read_survey`).

What goes out
    A :class:`pandas.DataFrame` with the item columns as ``float64`` (codes,
    ``NaN`` for missing) and every other column as read (text stays text;
    columns whose every non-empty cell is a number become ``Int64`` or
    ``float64``, and this is reported).  ``df.attrs["custval"]`` holds the
    provenance: source path, SHA-256, format details, rows read / returned /
    excluded (with reasons and row numbers; Qualtrics responses also by
    ``response_ids``), every rule applied with its counts per column (rules
    that change cell or header text list every change), every column that is
    not an item (``other_columns``: name, position, dtype, role, whether it
    looks like personal data), the columns that look like personal data, the
    survey platform and how its headers were mapped to items (``platform``),
    the Qualtrics status columns and every status value seen (``qualtrics``),
    and the instrument's name and version.

The rules
    * The file is only read (byte-identical afterwards).
    * Everything is first read as text (no pandas NA strings: ``"NA"``,
      ``"null"``, ``"-"`` ... are *values*), then item columns are converted
      under explicit rules, each counted: empty cell -> missing; declared
      missing codes, "don't know" codes and labels -> missing; label text ->
      code *only* through the codebook's scale labels; SPSS user-missing and
      Stata .a-.z -> missing; decimal comma; digits of other scripts
      (full-width ``４``, Arabic-Indic ``٤``) -> the digits they are, every
      converted cell listed (rule ``other_script_digits``: rows and
      conversions per column).  Nothing is clipped, rounded or recoded.
    * Column names: spaces around a header (also no-break spaces) are removed
      and an item header that differs from its item id only in letter case
      (``eco2``) is read as that item; every change is listed (rules
      ``header_trimmed``, ``header_case_matched``) and a change to an item
      header issues a :class:`~custval.exceptions.RepairWarning` that shows
      the header with its invisible characters (``'COC4\\u00a0'``).
    * rows read = rows returned + rows excluded.  Rows that are not answers
      (title lines, extra header rows such as Qualtrics' question-text and
      ``ImportId`` rows, blank rows, totals rows) are always excluded and
      reported.  In a Qualtrics export (``Status`` with ``Finished`` or
      ``ResponseId``), preview, test and spam responses (Status ``Survey
      Preview``/1, ``Survey Test``/2, ``Spam``/8, ``Preview Spam``/9,
      ``Imported Spam``/12) and unfinished ones (``Finished`` 0/False) are
      *excluded* by default, each listed by row and ResponseId in
      ``excluded`` and named in an
      :class:`~custval.exceptions.ExcludedResponseWarning`
      (``qualtrics_status="keep"`` keeps them, flagged).  Elsewhere such
      responses are flagged and reported but kept unless named in
      ``exclude=``.
    * Every problem (missing item columns, out-of-range, non-integer and
      unmapped values, undeclared codes that look like missing codes,
      duplicate or missing ids, duplicate columns) is collected and raised at
      once as one :class:`custval.DataValidationError`.  Missing item columns
      are all listed, with the columns the file has and the closest header;
      a codebook id that looks misspelt (written unlike the codebook's other
      ids while the file's column is written like them) is its own problem,
      ``codebook_item_id``.
    * Rows are named the way the file numbers them: ``file line`` (CSV, 1-based,
      header included), ``Excel row``, ``SPSS case``, ``Stata observation``,
      ``data row`` (Parquet and frames, 1-based); every message says which.
    * Each item is checked against its own scale (a codebook ``scale:`` under
      a construct or item: 1-5 concern items beside 1-7 intention items), with
      that scale's labels.  Non-item columns declared under the codebook's
      ``variables:`` (type, ``min``/``max`` or categories, missing codes) are
      checked like items and their problems reported the same way.
    * Rows read = records in the file: a quote that merges lines which are
      records of their own (a stray ``"`` in a comment), or that is still open
      at the end of the file, is an error naming the lines (rules
      ``quote_merges_lines``, ``unclosed_quote``); a quoted multi-line comment
      is read, and its record is named by the line it starts on.
    * A text file is decoded line by line when its lines are not all in one
      encoding (UTF-8 first, else cp1252); every such line is named in a
      :class:`~custval.exceptions.RepairWarning` and in
      ``source["decoded_lines"]``.
    * Excel formula cells without a stored result, damaged files of any format
      (``unreadable_file``) and workbooks larger than
      ``custval._io.readers.MAX_XLSX_XML_BYTES`` uncompressed are errors.  Totals and
      summary rows ("Keskiarvo", "Vastaajia", ...) are named with their label in a
      RepairWarning; :func:`excluded_rows` lists every row not returned.  Question
      texts merged over columns above a row of statement texts are combined as
      ``"question - statement"``.
    * Columns that look like personal data are named (never their values) in
      the provenance and a :class:`~custval.exceptions.PersonalDataWarning`;
      :func:`custval.write_processed` leaves them out unless asked.  Messages
      never show a value of such a column (e.g. duplicate ids in a name
      column), nor free text typed into an item column unless it is short and
      reads like an answer (has a digit, is a missing-value token such as
      ``N/A``, or is made of scale-label words): other text is shown by its
      length ("a 14-character text"); the first field of a malformed record
      is not echoed.

Choices
    Items are ``float64`` with ``NaN`` (not nullable ``Float64``) so that numpy,
    scipy and the rest of custval use them directly.  Declared missing codes
    apply to item columns only; other columns keep their values.  Row numbers
    kept in ``attrs`` are capped at 1,000 per reason (``n`` is always the full
    count) because pandas copies ``attrs`` on every operation.  Big files are
    read in chunks (pyarrow's streaming CSV reader, openpyxl read-only mode,
    pyreadstat chunks, Parquet row batches): memory is the result plus a chunk.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import platforms as _platforms
from ._io import readers as _readers
from ._io.pii import detect_personal_columns, mask_value
from ._io.readers import RowCounting
from ._sem.spec import as_instrument
from .exceptions import (
    CustvalWarning,
    DataValidationError,
    ExcludedResponseWarning,
    PersonalDataWarning,
    RepairWarning,
    SpecificationError,
)

__all__ = ["EXCLUDABLE", "excluded_rows", "read_survey", "validate_frame"]

#: Reasons a caller may name in ``exclude=``.
EXCLUDABLE = ("preview", "test", "spam", "unfinished")

_SHOW = 10  # offending values / rows shown per problem in the message
_KEEP = 50  # offending values / rows kept per problem in ``problems``
_ROWS_IN_ATTRS = 1000  # excluded / flagged row numbers kept per reason in df.attrs
_TOTAL_WORDS = {"total", "totals", "sum", "summa", "yhteensä", "grand total", "average",
                "mean", "keskiarvo", "kaikki yhteensä",
                # summary rows under a table: counts, spreads, medians (English and Finnish)
                "count", "respondents", "vastaajia", "vastaajat", "vastaajamäärä", "median",
                "mediaani", "std", "sd", "standard deviation", "keskihajonta", "yht."}
# codes survey tools and analysts use for missing / don't know
_MISSING_LOOKING = (-1.0, -2.0, -3.0, -7.0, -8.0, -9.0, -77.0, -88.0, -98.0, -99.0, -999.0,
                    9.0, 77.0, 88.0, 98.0, 99.0, 999.0, 9999.0)


# --------------------------------------------------------------------------- helpers
def _norm(text: str) -> str:
    t = unicodedata.normalize("NFC", str(text)).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(t.split()).casefold()


def _number_regex(decimal: str) -> str:
    # ASCII digits only: digits of other scripts are converted first, and counted
    d = r"[.,]" if decimal == "," else r"\."
    return rf"[+-]?([0-9]+({d}[0-9]*)?|{d}[0-9]+)([eE][+-]?[0-9]+)?"


def _ascii_digits(text: str) -> str | None:
    """`text` with digits of other scripts ('４', '٤', '۴', '४') as ASCII digits, or None
    when it has none.  Only decimal digits (Unicode category Nd) are converted: '²' and
    '½' are not digits of a number and stay as they are."""
    if text.isascii():
        return None
    out = "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch
                  for ch in text)
    return out if out != text else None


def _as_float_list(codes) -> list[float]:
    out = []
    for c in codes or ():
        if isinstance(c, (bool, np.bool_)):
            continue
        if isinstance(c, (int, float, np.integer, np.floating)):
            out.append(float(c))
    return out


@dataclass
class _Spec:
    """What the validation needs from an Instrument (read once)."""

    name: str
    version: str
    items: tuple[str, ...]
    smin: float
    smax: float
    labels: dict[str, float]
    ambiguous: set[str]
    dk_labels: set[str]
    missing: set[float]
    dk_codes: set[float]
    caller_codes: set[float]
    caller_text: set[str]
    answer_map: dict | None = None  # answer_codes= mapping (LimeSurvey "A1" -> 1), see _platforms
    answer_pattern: re.Pattern | None = None  # answer_codes= regex with one group
    # items whose own scale (codebook scale: under a construct or item) differs from the top level
    item_specs: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)  # codebook variables: name -> Variable
    constructs: dict = field(default_factory=dict)  # construct -> item ids
    source: str | None = None  # the codebook file
    reverse: tuple[str, ...] = ()  # items the codebook declares reverse-keyed (not keyed on reading)

    def for_item(self, item: str) -> _Spec:
        """The spec with the item's own scale (range and labels)."""
        own = self.item_specs.get(item)
        if own is None:
            return self
        smin, smax, labels, ambiguous = own
        return replace(self, smin=smin, smax=smax, labels=labels, ambiguous=ambiguous, item_specs={})


def _spec(instrument, missing_codes) -> _Spec:
    instrument = as_instrument(instrument)
    items = tuple(instrument.items)
    langs = list(getattr(instrument, "languages", None) or ())
    dkl = getattr(instrument, "dont_know_labels", None) or {}
    for lang in ("en", "fi", *dkl):
        if lang not in langs:
            langs.append(lang)
    labels, ambiguous = _label_codes(instrument, langs)
    dk_labels = {_norm(t) for texts in dkl.values() for t in texts}
    caller_codes, caller_text = set(), set()
    for c in missing_codes or ():
        if isinstance(c, str):
            caller_text.add(_norm(c))
        else:
            caller_codes.update(_as_float_list([c]))
    spec = _Spec(
        name=str(getattr(instrument, "name", "")), version=str(getattr(instrument, "version", "")),
        items=items, smin=float(instrument.scale_min), smax=float(instrument.scale_max),
        labels={k: v for k, v in labels.items() if k not in ambiguous}, ambiguous=ambiguous,
        dk_labels=dk_labels, missing=set(_as_float_list(instrument.missing_codes)),
        dk_codes=set(_as_float_list(instrument.dont_know_codes)),
        caller_codes=caller_codes, caller_text=caller_text,
        variables=dict(getattr(instrument, "variables", None) or {}),
        constructs={str(c): tuple(v) for c, v in (getattr(instrument, "constructs", None) or {}).items()},
        source=getattr(instrument, "source", None),
        reverse=tuple(i for i in items if i in set(getattr(instrument, "reverse_items", ()) or ())))
    return _with_item_scales(spec, instrument, langs)


def _label_codes(instrument, langs, item=None) -> tuple[dict[str, float], set[str]]:
    """Label text (normalised) -> code over the languages, and the texts that name two codes."""
    labels: dict[str, float] = {}
    ambiguous: set[str] = set()
    for lang in langs:
        try:
            lab = (instrument.scale_labels(lang) if item is None
                   else instrument.scale_labels(lang, item=item)) or {}
        except SpecificationError:  # a language the codebook does not have
            continue
        for code, text in lab.items():
            key = _norm(text)
            if key in labels and labels[key] != float(code):
                ambiguous.add(key)
            labels[key] = float(code)
    return labels, ambiguous


def _with_item_scales(spec: _Spec, instrument, langs) -> _Spec:
    """Per-item specs for items answered on their own scale (e.g. 1-5 items in a 1-7 survey)."""
    item_scale = getattr(instrument, "item_scale", None)
    if item_scale is None:
        return spec
    top = instrument.scale
    for it in spec.items:
        sc = item_scale(it)
        if sc == top:
            continue
        labels, ambiguous = _label_codes(instrument, langs, item=it)
        spec.item_specs[it] = (float(sc.min), float(sc.max),
                               {k: v for k, v in labels.items() if k not in ambiguous}, ambiguous)
    return spec


class _Log:
    """Problems (errors) and rules (reported conversions), accumulated over chunks."""

    def __init__(self):
        self.problems: dict[tuple[str, str], dict] = {}
        self.rules: dict[str, dict] = {}
        # rules whose every converted cell is listed: (rule, column) -> positions, {from: to}
        self.rule_rows: dict[tuple[str, str], list] = {}
        self.rule_values: dict[tuple[str, str], dict] = {}

    def problem(self, rule, column, positions, values, allowed, what, **extra):
        key = (rule, column)
        rec = self.problems.setdefault(key, {"rule": rule, "column": column, "positions": [],
                                             "values": [], "n": 0, "allowed": allowed,
                                             "what": what, "extra": extra})
        positions = list(positions)
        values = list(values)
        room = (len(values) if rule in _LIST_ALL else _KEEP) - len(rec["positions"])
        if room > 0:
            rec["positions"].extend(int(p) for p in positions[:room])
            rec["values"].extend(values[:room])
        rec["n"] += len(positions) if positions else max(1, len(values))

    def rule(self, rule, column, n, description, **detail):
        if n == 0:
            return
        rec = self.rules.setdefault(rule, {"rule": rule, "description": description,
                                           "n": 0, "columns": {}})
        rec["n"] += int(n)
        rec["columns"][str(column)] = rec["columns"].get(str(column), 0) + int(n)
        for k, v in detail.items():
            rec.setdefault(k, v)

    def cells(self, rule, column, positions, conversions: dict):
        """Keep the positions (capped) and the distinct conversions of a listed rule."""
        rows = self.rule_rows.setdefault((rule, str(column)), [])
        rows.extend(int(p) for p in list(positions)[:max(0, _ROWS_IN_ATTRS - len(rows))])
        vals = self.rule_values.setdefault((rule, str(column)), {})
        for k, v in conversions.items():
            if len(vals) < _KEEP:
                vals.setdefault(k, v)


# --------------------------------------------------------------------------- conversion
def _empty_mask(s: pd.Series) -> np.ndarray:
    if s.dtype.kind in "biufc":
        return s.isna().to_numpy()
    if s.dtype.kind in "mM":
        return s.isna().to_numpy()
    t = _as_text(s)
    return (t.str.strip() == "").to_numpy(dtype=bool)


def _as_text(s: pd.Series) -> pd.Series:
    """Text view of a column: missing values as ''."""
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == "str":
        return s.fillna("")
    return s.map(lambda v: "" if v is None or v is pd.NA or v is pd.NaT or (
        isinstance(v, (float, np.floating)) and np.isnan(v)) else str(v)).astype("str")


# answer texts read as codes: the kind ``_convert_item`` gives them, and the reason it logs
_TEXT_TO_CODE = (
    ("label_to_code", "label text mapped to its code through the codebook's scale labels"),
    ("numbered_label_to_code", "text such as '5 = Strongly agree' read as its code: the number and "
     "the codebook's label for that number agree"),
    ("answer_code_to_code", "answer codes (e.g. LimeSurvey's 'A1', 'AO01') read as codes through "
     "answer_codes="),
)


def _convert_item(s: pd.Series, column: str, positions: np.ndarray, spec: _Spec, log: _Log,
                  decimal: str, integer_codes: bool, user_missing, value_labels,
                  missing_rule: tuple | None = None) -> np.ndarray:
    """Codes of one item column as float64 (NaN = missing); every conversion is logged."""
    n = len(s)
    vals = np.full(n, np.nan)
    if s.dtype.kind in "biuf":
        vals = s.to_numpy(dtype=float, na_value=np.nan).copy()
        empty = np.isnan(vals)
        log.rule("empty_cell", column, int(empty.sum()),
                 "empty cells (system-missing) are missing")
    elif (fast := _fast_integers(s)) is not None:
        vals, empty = fast
        log.rule("empty_cell", column, int(empty.sum()), "empty cells are missing")
    else:
        t = _as_text(s).str.strip()
        empty = (t == "").to_numpy(dtype=bool)
        log.rule("empty_cell", column, int(empty.sum()), "empty cells are missing")
        t = _convert_digits(t, column, positions, log)
        is_num = t.str.fullmatch(_number_regex(decimal)).to_numpy(dtype=bool)
        if is_num.any():
            tt = t[is_num]
            if decimal == ",":
                has_comma = tt.str.contains(",", regex=False)
                log.rule("decimal_comma", column, int(has_comma.sum()),
                         "numbers written with a decimal comma were read as numbers")
                tt = tt.str.replace(",", ".", regex=False)
            vals[is_num] = _parse_numbers(tt)
        other = ~empty & ~is_num
        if other.any():
            texts = t[other]
            uniq = pd.unique(texts.to_numpy(dtype=object))
            kind, code = {}, {}
            for u in uniq:
                k = _norm(u)
                if k in spec.caller_text:
                    kind[u] = "caller_missing_text"
                elif k in spec.dk_labels:
                    kind[u] = "dont_know_label"
                elif k in spec.labels:
                    kind[u], code[u] = "label_to_code", spec.labels[k]
                elif k in spec.ambiguous:
                    kind[u] = "ambiguous_label"
                elif (c := _numbered_label(u, spec)) is not None:
                    kind[u], code[u] = "numbered_label_to_code", c
                elif (c := _platforms.answer_code(u, spec)) is not None:
                    kind[u], code[u] = "answer_code_to_code", c
                else:
                    kind[u] = "unmapped"
            kinds = texts.map(kind).to_numpy(dtype=object)
            idx = np.flatnonzero(other)
            for rule, why in _TEXT_TO_CODE:
                lab = kinds == rule
                if lab.any():
                    vals[idx[lab]] = texts[lab].map(code).to_numpy(dtype=float)
                    detail = _platforms.answer_code_detail(spec) if rule == "answer_code_to_code" else {}
                    log.rule(rule, column, int(lab.sum()), why, **detail)
            log.rule("dont_know_label", column, int((kinds == "dont_know_label").sum()),
                     "\"don't know\" labels declared in the codebook are missing")
            log.rule("caller_missing_text", column, int((kinds == "caller_missing_text").sum()),
                     "text declared missing by the caller (missing_codes=) is missing")
            for bad, what, allowed in (
                ("unmapped", "text that is neither a number nor a label of the codebook",
                 "numbers, the codebook's scale labels and \"don't know\" labels, or text "
                 "passed in missing_codes="),
                ("ambiguous_label", "label text that means different codes in different "
                 "languages of the codebook", "labels that name a single code")):
                m = kinds == bad
                if m.any():
                    if bad == "unmapped":
                        allowed += _platforms.unmapped_hint(texts[m].tolist()[:_KEEP])
                    log.problem(bad, column, positions[idx[m]], texts[m].tolist(), allowed, what)
    # numeric rules
    finite = ~np.isnan(vals)
    if user_missing:
        um = np.zeros(n, dtype=bool)
        for lo, hi in user_missing:
            um |= finite & (vals >= lo) & (vals <= hi)
        vals[um] = np.nan
        rule, desc = missing_rule or _SPSS_MISSING_RULE
        log.rule(rule, column, int(um.sum()), desc)
        finite &= ~um
    for codes, rule, desc in (
        (spec.caller_codes, "caller_missing_code", "codes declared missing by the caller "
         "(missing_codes=) are missing"),
        (spec.missing, "declared_missing_code", "missing codes declared in the codebook are "
         "missing"),
        (spec.dk_codes, "dont_know_code", "\"don't know\" codes declared in the codebook are "
         "missing")):
        if codes:
            m = finite & np.isin(vals, list(codes))
            if m.any():
                log.rule(rule, column, int(m.sum()), desc, codes=sorted(codes))
                vals[m] = np.nan
                finite &= ~m
    out = finite & ((vals < spec.smin) | (vals > spec.smax))
    if out.any():
        looks = out & (np.isin(vals, _MISSING_LOOKING) | (vals == spec.smax + 1))
        plain = out & ~looks
        allowed = (f"codes {spec.smin:g}..{spec.smax:g}" +
                   (f"; declared missing codes {[_num(c) for c in sorted(spec.missing | spec.dk_codes)]}"
                    if spec.missing | spec.dk_codes else ""))
        if looks.any():
            log.problem("undeclared_missing_code", column, positions[looks],
                        [_num(v) for v in vals[looks]],
                        allowed + ". If these codes mean missing or \"don't know\", declare "
                        "them (codebook missing.codes / dont_know.codes, or missing_codes=)",
                        "codes outside the scale that look like undeclared missing codes")
        if plain.any():
            log.problem("out_of_range", column, positions[plain],
                        [_num(v) for v in vals[plain]], allowed, "values outside the scale")
    if integer_codes:
        frac = finite & ~out & (vals != np.round(vals))
        if frac.any():
            log.problem("non_integer", column, positions[frac], [_num(v) for v in vals[frac]],
                        f"whole-number codes {spec.smin:g}..{spec.smax:g} (pass "
                        "integer_codes=False for continuous scores)", "non-integer values")
    if value_labels:
        _check_value_labels(column, value_labels, spec, log)
    return vals


def _convert_digits(t: pd.Series, column: str, positions: np.ndarray, log: _Log) -> pd.Series:
    """Digits of other scripts as ASCII digits; every converted cell listed (rule
    ``other_script_digits``: rows per column and each distinct conversion)."""
    uniq = pd.unique(t.to_numpy(dtype=object))
    conv = {u: a for u in uniq if isinstance(u, str) and (a := _ascii_digits(u)) is not None}
    if not conv:
        return t
    hit = t.isin(list(conv)).to_numpy(dtype=bool)
    log.rule("other_script_digits", column, int(hit.sum()),
             "digits of another script (full-width '\uff14', Arabic-Indic '\u0664', ...) read as "
             "the digits they are; every converted cell is listed under 'rows'")
    log.cells("other_script_digits", column, positions[hit], conv)
    out = t.astype(object).copy()
    out[hit] = t[hit].map(conv)
    return out.astype(t.dtype) if t.dtype != object else out


_NUMBERED = (re.compile(r"^\s*([+-]?[0-9]+)\s*(?:[=:.)\-\u2013]\s*|\s+)(.+?)\s*$"),
             re.compile(r"^\s*(.+?)\s*[(\[]\s*([+-]?[0-9]+)\s*[)\]]\s*$"))


def _numbered_label(text: str, spec: _Spec) -> float | None:
    """Code of '5 = Strongly agree' / 'Strongly agree (5)' when number and codebook label agree."""
    for i, pat in enumerate(_NUMBERED):
        m = pat.match(text)
        if m:
            num, label = (m.group(1), m.group(2)) if i == 0 else (m.group(2), m.group(1))
            code = spec.labels.get(_norm(label))
            if code is not None and code == float(num):
                return code
    return None


def _fast_integers(s: pd.Series):
    """(codes, empty) when every cell is '' or a plain integer (strict pyarrow cast), else None."""
    if not (isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array)
    empty = pc.equal(arr, "")
    try:
        ints = pc.cast(pc.if_else(empty, "0", arr), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    e = empty.to_numpy(zero_copy_only=False).astype(bool)
    vals = ints.to_numpy(zero_copy_only=False).astype(float)
    vals[e] = np.nan
    return vals, e


def _parse_numbers(t: pd.Series) -> np.ndarray:
    """Numbers of strings already matched against the number pattern (pyarrow cast; fast)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(t.to_numpy(dtype=object) if t.dtype.kind == "O" else t, type=pa.string())
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.to_numeric(t).to_numpy(dtype=float)


def _num(v: float):
    return int(v) if np.isfinite(v) and v == int(v) else float(v)


def _check_value_labels(column, value_labels, spec: _Spec, log: _Log) -> None:
    """SPSS value labels that name a different code than the codebook does (reversed coding)."""
    for code, text in value_labels.items():
        k = _norm(text)
        if k in spec.labels and spec.labels[k] != float(code):
            log.problem("value_label_mismatch", column, [],
                        [f"{_num(float(code))} = {text!r}"],
                        f"the codebook gives {text!r} the code {_num(spec.labels[k])}",
                        "SPSS value labels that disagree with the codebook's scale labels")


# --------------------------------------------------------------------------- row classes
def _leading_header_rows(chunk: pd.DataFrame, item_pos: list[int], spec: _Spec,
                         decimal: str) -> int:
    """How many rows at the top of the first chunk are extra header rows (not answers)."""
    k = 0
    numre = re.compile(_number_regex(decimal))
    for r in range(min(len(chunk), 5)):
        row = chunk.iloc[r]
        cells = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
                 for v in row.tolist()]
        if any(c.startswith('{"ImportId"') or c.startswith("{'ImportId'") for c in cells):
            k += 1
            continue
        items = [cells[i] for i in item_pos]
        if items and all(c != "" for c in items) and not any(
                numre.fullmatch(c) or _norm(c) in spec.labels or _norm(c) in spec.dk_labels
                or _norm(c) in spec.caller_text for c in items) and _question_like(items):
            k += 1
            continue
        break
    return k


def _question_like(cells: list[str]) -> bool:
    """Item cells that read like question texts (distinct and long), not like answers.

    A respondent who answered every item with the same unlabelled text ("Agree") is not
    taken for a header row; that row then fails as unmapped labels instead.
    """
    distinct = len({_norm(c) for c in cells}) >= max(1, 0.8 * len(cells))
    lengths = sorted(len(c) for c in cells)
    return distinct and lengths[len(lengths) // 2] >= 12


#: Qualtrics ``Status`` ("Response Type") values, as labels and as numeric codes.
QUALTRICS_STATUS = {
    "preview": {"survey preview", "1", "preview", "offline survey preview", "17"},
    "test": {"survey test", "2", "test"},
    "spam": {"spam", "8", "preview spam", "survey preview spam", "9", "imported spam", "12"},
}
#: Status values of real responses (IP Address / 0, Imported / 4, Offline / 16).
QUALTRICS_NORMAL = {"ip address", "0", "imported", "4", "offline", "16"}
_QUALTRICS_KNOWN = set().union(QUALTRICS_NORMAL, *QUALTRICS_STATUS.values())


def _qualtrics(columns: list[str]) -> dict | None:
    """The Qualtrics status columns when `columns` are a Qualtrics export's, else None."""
    lower = {c.lower(): c for c in columns}
    if not (("status" in lower and ("finished" in lower or "responseid" in lower))
            or ("distributionchannel" in lower and "responseid" in lower)):
        return None
    return {"status_column": lower.get("status"), "finished_column": lower.get("finished"),
            "distribution_channel_column": lower.get("distributionchannel"),
            "response_id_column": lower.get("responseid")}


def _status_rules(columns: list[str]):
    """Flaggers for survey-tool status columns present: list of (reason, column, function)."""
    lower = {c.lower(): i for i, c in enumerate(columns)}
    rules = []
    if _qualtrics(columns) is not None and "status" in lower:
        def status(kind):
            vals = QUALTRICS_STATUS[kind]
            return lambda t: t.str.strip().str.casefold().isin(vals)
        for kind in ("preview", "test", "spam"):
            rules.append((kind, lower["status"], status(kind)))
    if "distributionchannel" in lower:
        rules.append(("preview", lower["distributionchannel"],
                      lambda t: t.str.strip().str.casefold() == "preview"))
        rules.append(("test", lower["distributionchannel"],
                      lambda t: t.str.strip().str.casefold() == "test"))
    if "finished" in lower:
        rules.append(("unfinished", lower["finished"],
                      lambda t: t.str.strip().str.casefold().isin({"0", "false"})))
    elif "submitdate" in lower and ("lastpage" in lower or "startlanguage" in lower):
        # LimeSurvey: an incomplete response has no submit date
        rules.append(("unfinished", lower["submitdate"], lambda t: t.str.strip() == ""))
    return rules


# --------------------------------------------------------------------------- headers
def _visible(text: str) -> str:
    """A header quoted with its invisible characters shown: 'COC4\\u00a0', ' ECO1'."""
    out = []
    for ch in str(text):
        if ch != " " and (ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs")):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _header_names(src: _Source, spec: _Spec, columns, log: _Log):
    """Column names of the data: headers trimmed (every change recorded), renamed by the
    caller's ``columns=``, unnamed columns named, and an item header that differs from its
    item id only in letter case matched to it (recorded).  Returns (names, repairs), the
    repairs being the changes made to headers of item columns."""
    raw = list(src.raw_columns or [])
    names, trimmed, repairs = [], [], []
    for j, c in enumerate(src.columns):
        c = str(c)
        r = raw[j] if j < len(raw) and str(raw[j]).strip() == c.strip() else c
        names.append(c.strip())
        if r != r.strip():
            trimmed.append({"column": j + 1, "from": r, "to": r.strip(), "shown": _visible(r)})
    for t in trimmed:
        log.rule("header_trimmed", t["to"], 1,
                 "spaces (also no-break and other invisible spaces) around column names "
                 "removed; every change is listed", changes=trimmed)
    if trimmed:
        repairs += [f"column {t['column']} {t['shown']} -> {t['to']!r}" for t in trimmed
                    if t["to"] in spec.items and (not columns or t["to"] not in columns)]
    if columns:
        unknown = [k for k in columns if k not in names]
        if unknown:
            log.problem("missing_column", ", ".join(map(str, unknown)), [], unknown,
                        f"columns of the file: {names}",
                        "columns named in columns= that the file does not have")
        names = [columns.get(c, c) for c in names]
        log.rule("renamed_column", "", len([c for c in src.columns if c in columns]),
                 "columns renamed by the caller (columns=)", mapping=dict(columns))
    unnamed = [i for i, c in enumerate(names) if c == ""]
    for i in unnamed:
        names[i] = f"unnamed_{i + 1}"
    if unnamed:
        log.rule("unnamed_column", "", len(unnamed),
                 "columns without a header name were named unnamed_<1-based column number>",
                 names=[names[i] for i in unnamed])
    # letter case: 'eco2' is item ECO2 when no other header or item reads the same
    items = set(spec.items)
    folded: dict[str, list[str]] = {}
    for it in spec.items:
        folded.setdefault(it.casefold(), []).append(it)
    cased = []
    for it in [it for it in spec.items if it not in names]:
        cands = [j for j, c in enumerate(names) if c not in items and c.casefold() == it.casefold()]
        if len(cands) == 1 and len(folded[it.casefold()]) == 1:
            j = cands[0]
            cased.append({"column": j + 1, "from": names[j], "to": it})
            names[j] = it
    for c in cased:
        log.rule("header_case_matched", c["to"], 1,
                 "column names that differ from an item id only in letter case read as that "
                 "item; every change is listed", changes=cased)
    if cased:
        repairs += [f"column {c['column']} {c['from']!r} -> {c['to']!r}" for c in cased]
    return names, repairs


def _shape(name: str) -> str:
    """How an id is written: letters -> 'A', digit runs -> '9' ('ECO1' -> 'A9', 'ECO_1' -> 'A_9')."""
    return re.sub(r"[0-9]+", "9", re.sub(r"[^\W\d_]+", "A", name))


def _prefix(name: str) -> str:
    """The letters an id starts with ('ECO' of 'ECO1', 'CPROC' of 'CPROC_P1')."""
    m = re.match(r"[^\W\d_]+", name)
    return m.group(0).casefold() if m else ""


def _id_pattern(name: str) -> str:
    """An id with its digit runs as '#', case-folded ('trust2' -> 'trust#', 'Q1_3' -> 'q#_#')."""
    return re.sub(r"\d+", "#", name.casefold())


def _compact(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name.casefold())


def _missing_items(missing: list[str], names: list[str], spec: _Spec, log: _Log) -> None:
    """Problems for item columns the data does not have: each with the closest column, and
    when the evidence points to the codebook (its id written unlike its other ids, the file's
    column written like them) a separate ``codebook_item_id`` problem."""
    import difflib
    from collections import Counter

    items = set(spec.items)
    others = [c for c in names if c not in items]
    shapes = Counter(_shape(it) for it in spec.items)
    prefixes = Counter(_prefix(it) for it in spec.items)
    hints, codebook = [], []
    used: set[str] = set()
    for it in missing:
        rest = Counter(shapes)
        rest[_shape(it)] -= 1
        conv, n_conv = (rest.most_common(1) or [("", 0)])[0]
        conv_ok = n_conv >= 2 and n_conv >= 0.5 * (len(spec.items) - 1)
        like = [x for x in spec.items if x != it and _shape(x) == conv][:2]
        exact = [c for c in others if _compact(c) == _compact(it)]
        close = exact or difflib.get_close_matches(it, others, n=1, cutoff=0.6)
        if close and close[0] not in used:
            c = close[0]
            used.add(c)
            # the construct's other items found in the file, and how they are written
            siblings = [x for its in spec.constructs.values() if it in its for x in its
                        if x != it and x in names]
            sib_shapes = {_id_pattern(x) for x in siblings}
            if (conv_ok and _shape(it) != conv and _shape(c) == conv) or (
                    prefixes[_prefix(it)] == 1 and prefixes[_prefix(c)] >= 2) or (
                    siblings and _id_pattern(c) in sib_shapes and _id_pattern(it) not in sib_shapes):
                like = like or [x for x in spec.items if _prefix(x) == _prefix(c)][:2] or siblings[:2]
                codebook.append((it, c, f"the codebook's item id {it!r} is written unlike its other "
                                        f"ids ({', '.join(map(repr, like))}, ...), and the file has "
                                        f"{c!r}, written like them: the codebook's id looks "
                                        f"misspelt"))
            else:
                hints.append(f"{it} ~ {_visible(c)} (the codebook id {it!r} or the file header "
                             f"{c!r} may be misspelt: correct its id in the codebook, or rename "
                             f"with columns={{{c!r}: {it!r}}})")
            continue
        pattern = [c for c in others if conv_ok and _shape(c) == conv and c not in used
                   and re.match(r"[^\W\d_]+", c) and any(
                       x.startswith(re.match(r"[^\W\d_]+", c).group(0)) for x in spec.items)]
        if pattern:
            codebook.append((it, None, f"no column resembles {it!r}, while the file has columns named "
                                 f"like the codebook's items that match no item: {pattern}; the "
                                 f"codebook may have a typo in {it!r} (or the file lacks it)"))
    for it, c, why in codebook:
        where = _codebook_line(spec, it)
        rename = (f"columns={{{c!r}: {it!r}}}" if c is not None
                  else "columns={file_header: item_id}")
        log.problem("codebook_item_id", it, [], [it],
                    f"correct the item id in the codebook{f' ({where})' if where else ''}"
                    + (f" to the file's column {c!r}" if c is not None else "")
                    + f"; if the codebook is right and the file is not, map the column with {rename}",
                    f"codebook item id that no column has: {why}")
    plain = [it for it in missing if it not in {c[0] for c in codebook}]
    if plain:
        hint = ("; similar columns in the file: " + "; ".join(hints)) if hints else ""
        log.problem("missing_item_column", ", ".join(plain), [], plain,
                    "every item of the instrument as a column" + hint,
                    "item columns of the instrument that the data does not have",
                    columns_present=list(names))


# --------------------------------------------------------------------------- core
@dataclass
class _Source:
    name: str
    path: Path | None
    columns: list[str]
    counting: RowCounting
    decimal: str = "."
    string_table: bool = True
    user_missing: dict = field(default_factory=dict)
    value_labels: dict = field(default_factory=dict)
    missing_rule: tuple = ("spss_user_missing", "codes the SPSS file declares user-missing are missing")
    extra_header_rows: int = 0  # rows below the header known to be header rows (SurveyMonkey)
    raw_columns: list | None = None  # header cells as written (before trimming), by position
    personal: list = field(default_factory=list)  # personal-data columns the platform knows
    metadata: list = field(default_factory=list)  # the platform's system / metadata columns
    extra_header_reason: str = ""
    rows_hint: int = 0  # records the source holds, when known (sizes the item arrays)


_SPSS_MISSING_RULE = _Source.missing_rule
_STATA_MISSING_RULE = ("stata_extended_missing",
                       "Stata extended missing values (.a-.z) are missing")


def _codebook_line(spec: _Spec, item: str) -> str:
    """'codebook.yaml, line 40, constructs[1].items[2].id' for an item id (as much as is known)."""
    where = [str(spec.source)] if spec.source else []
    loc = None
    for ci, (_c, its) in enumerate(spec.constructs.items()):
        if item in its:
            loc = ("constructs", ci, "items", its.index(item), "id")
    if spec.source and loc is not None:
        try:
            from ._io.yaml import format_key, load_yaml

            _, linemap = load_yaml(spec.source)
            line = linemap.line(loc)
            where += [f"line {line}"] if line else []
            where.append(format_key(loc))
        except (OSError, ValueError):  # the file changed or went away since it was loaded
            pass
    return ", ".join(where)


def _rows_text(counting: RowCounting, positions) -> str:
    nums = counting.number(positions)
    return ", ".join(str(int(x)) for x in nums)


# --------------------------------------------------------------------------- rules
# _validate runs three lists of rules, in this order:
#   _COLUMN_RULES  rule(run)        once, on the header: options, names, items present, status
#                                   columns;
#   _ROW_RULES     rule(run, rows)  on each chunk, in file order: each rule marks rows to exclude
#                                   (with the reason) among those not yet excluded, or flags them;
#                                   the rows kept are then converted (items) and collected;
#   _FRAME_RULES   rule(run, df)    once, on the assembled frame: other columns, codebook
#                                   variables, personal data, ids.
# A rule records problems (errors) and rules (reported conversions) in run.log; _validate raises
# once at the end, so one run lists every problem of the file.
@dataclass
class _Run:
    """What the rules of one validation share: source, codebook, options, log and tallies.

    The column rules fill in the header fields (``names`` .. ``rid_pos``), the row rules
    add to the tallies chunk by chunk, the frame rules fill in ``personal``.
    """

    src: _Source
    spec: _Spec
    id_column: str | None
    columns: Mapping[str, str] | None
    exclude: tuple
    integer_codes: bool
    convert_other: bool
    qualtrics_status: str | None
    incomplete: str | None
    log: _Log = field(default_factory=_Log)
    # the header (column rules)
    names: list = field(default_factory=list)
    repairs: list = field(default_factory=list)
    seen: dict = field(default_factory=dict)  # column name -> its 1-based positions
    item_pos: list = field(default_factory=list)
    item_of: dict = field(default_factory=dict)  # 0-based position -> item id
    id_pos: int | None = None
    first_col: int = 0
    statuses: list = field(default_factory=list)
    qualtrics: dict | None = None
    by_default: tuple = ()  # Qualtrics reasons excluded because nothing else was asked
    rid_pos: int | None = None
    # tallies over the chunks (row rules)
    rows_read: int = 0
    excluded: dict = field(default_factory=dict)  # reason -> positions
    flagged: dict = field(default_factory=dict)  # reason -> positions (kept)
    status_seen: dict = field(default_factory=dict)  # Qualtrics column -> {value: count}
    response_ids: dict = field(default_factory=dict)  # ("excluded"|"flagged", reason) -> ids
    summary: dict = field(default_factory=dict)  # totals / summary rows: position -> label
    # the assembled frame (frame rules)
    kept_positions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    personal: list = field(default_factory=list)
    personal_cols: set = field(default_factory=set)


class _Rows:
    """One chunk under the row rules: its rows' positions, which are excluded so far and why."""

    def __init__(self, frame: pd.DataFrame, start: int, first: bool):
        m = len(frame)
        self.frame = frame
        self.first = first  # the first chunk (the only one that can hold extra header rows)
        self.positions = start + np.arange(m)
        self.drop = np.zeros(m, dtype=bool)
        self.reason = np.full(m, "", dtype=object)

    def exclude(self, mask: np.ndarray, why: str) -> None:
        self.drop |= mask
        self.reason[mask] = why


# ---- column rules
def _check_options(run: _Run) -> None:
    """``exclude=`` and ``qualtrics_status=`` take only the values they document."""
    bad = [e for e in run.exclude if e not in EXCLUDABLE]
    if bad:
        raise SpecificationError(f"exclude={run.exclude!r}: unknown reason(s) {bad}; allowed are "
                                 f"{EXCLUDABLE}.")
    if run.qualtrics_status not in (None, "exclude", "keep"):
        raise SpecificationError(f"qualtrics_status={run.qualtrics_status!r}: allowed are "
                                 "'exclude', 'keep' or None (exclude, and warn).")


def _columns_named(run: _Run) -> None:
    """The header's names (item headers repaired as recorded); each name occurs once."""
    run.names, run.repairs = _header_names(run.src, run.spec, run.columns, run.log)
    for i, c in enumerate(run.names):
        run.seen.setdefault(c, []).append(i + 1)
    for c, where in run.seen.items():
        if len(where) > 1:
            run.log.problem("duplicate_column", c, [], [f"column {w}" for w in where],
                            "each column name once", "a column name that occurs more than once")


def _columns_present(run: _Run) -> None:
    """Every codebook item, and the id column if one is named, is a column of the data."""
    spec, seen, id_column = run.spec, run.seen, run.id_column
    missing_items = [it for it in spec.items if it not in seen]
    if missing_items:
        _missing_items(missing_items, run.names, spec, run.log)
    if id_column is not None and id_column not in seen:
        run.log.problem("missing_id_column", str(id_column), [], [id_column],
                        f"a column named {id_column!r}", "the id column is not in the data")
    run.item_pos = [seen[it][0] - 1 for it in spec.items if it in seen]
    run.item_of = {seen[it][0] - 1: it for it in spec.items if it in seen}
    run.id_pos = seen[id_column][0] - 1 if id_column is not None and id_column in seen else None


def _columns_status(run: _Run) -> None:
    """Status columns; Qualtrics' preview, test, spam and unfinished responses are excluded
    unless kept (``qualtrics_status='keep'``, ``incomplete='keep'``)."""
    run.statuses = _status_rules(run.names)
    qualtrics = run.qualtrics = _qualtrics(run.names)
    if qualtrics is not None and run.qualtrics_status != "keep":
        by_default = ("preview", "test", "spam") + (() if run.incomplete == "keep" else
                                                    ("unfinished",))
        run.by_default = tuple(r for r in by_default if r not in run.exclude)
        run.exclude = run.exclude + run.by_default
    run.rid_pos = (run.names.index(qualtrics["response_id_column"])
                   if qualtrics and qualtrics["response_id_column"] else None)


_COLUMN_RULES = (_check_options, _columns_named, _columns_present, _columns_status)


# ---- row rules
def _rows_header(run: _Run, rows: _Rows) -> None:
    """Rows below the header that are header rows (first chunk only): those the platform
    declares, else, in a text table, question-text or ImportId rows above the first answer."""
    if not rows.first:
        return
    src = run.src
    if src.extra_header_rows:
        rows.drop[:src.extra_header_rows] = True
        rows.reason[:src.extra_header_rows] = src.extra_header_reason
    elif src.string_table and run.item_pos:
        k = _leading_header_rows(rows.frame, run.item_pos, run.spec, src.decimal)
        rows.drop[:k] = True
        rows.reason[:k] = "extra header row (question text or ImportId row)"


def _rows_blank(run: _Run, rows: _Rows) -> None:
    """A row whose every cell is empty is excluded as a blank row."""
    chunk = rows.frame
    empties = np.column_stack([_empty_mask(chunk.iloc[:, j]) for j in range(chunk.shape[1])]) \
        if chunk.shape[1] else np.ones((len(chunk), 1), dtype=bool)
    rows.exclude(empties.all(axis=1) & ~rows.drop, "blank row")


def _rows_totals(run: _Run, rows: _Rows) -> None:
    """In a text table, a row whose first (or id) column says Total, Sum, ... is a totals
    row: excluded, its label kept for the report."""
    if not run.src.string_table:
        return
    for j in {run.first_col, run.id_pos} - {None}:
        if j in run.item_of:
            continue
        cell = _as_text(rows.frame.iloc[:, j]).str.strip()
        tot = cell.str.lower().isin(_TOTAL_WORDS).to_numpy(dtype=bool) & ~rows.drop
        rows.exclude(tot, "totals row")
        run.summary.update(zip(rows.positions[tot].tolist(), cell[tot].tolist()))


def _rows_qualtrics_values(run: _Run, rows: _Rows) -> None:
    """Every value of Qualtrics' Status and Finished columns is counted; a value that does not
    say whether the row is a real response is an error unless ``qualtrics_status='keep'``."""
    qualtrics = run.qualtrics
    if qualtrics is None:
        return
    drop, positions = rows.drop, rows.positions
    for key in ("status_column", "finished_column"):
        if qualtrics[key]:
            j = run.names.index(qualtrics[key])
            vc = _as_text(rows.frame.iloc[~drop, j]).str.strip()
            tally = run.status_seen.setdefault(qualtrics[key], {})
            for v, n in vc.value_counts(sort=False).items():
                tally[str(v)] = tally.get(str(v), 0) + int(n)
            known = (_QUALTRICS_KNOWN if key == "status_column"
                     else {"0", "1", "true", "false"})
            odd = ~vc.str.casefold().isin(known).to_numpy(dtype=bool)
            if odd.any() and run.qualtrics_status != "keep":
                run.log.problem(f"unknown_qualtrics_{key.split('_')[0]}", qualtrics[key],
                                positions[~drop][odd], vc[odd].tolist(),
                                (f"Qualtrics Status values {sorted(_QUALTRICS_KNOWN)}"
                                 if key == "status_column" else "Finished 1/0 or True/False")
                                + "; pass qualtrics_status='keep' to keep every row "
                                "(the values are then only counted)",
                                "values that do not say whether the row is a real response")


def _rows_status(run: _Run, rows: _Rows) -> None:
    """Rows a status column marks (preview, test, spam, unfinished) are excluded if the reason
    is in ``exclude``, else kept and flagged (with their response ids)."""
    m = len(rows.frame)
    done: dict[str, np.ndarray] = {}
    for why, j, fn in run.statuses:
        f = fn(_as_text(rows.frame.iloc[:, j])).to_numpy(dtype=bool) & ~rows.drop
        f &= ~done.get(why, np.zeros(m, dtype=bool))
        done[why] = done.get(why, np.zeros(m, dtype=bool)) | f
        if f.any():
            if why in run.exclude:
                rows.exclude(f, why)
            else:  # rows and their response ids in the same order
                run.flagged.setdefault(why, []).extend(rows.positions[f].tolist())
                if run.rid_pos is not None:
                    _extend_ids(run.response_ids, ("flagged", why),
                                rows.frame.iloc[f, run.rid_pos])


_ROW_RULES = (_rows_header, _rows_blank, _rows_totals, _rows_qualtrics_values, _rows_status)


def _take_rows(run: _Run, rows: _Rows, acc: list) -> np.ndarray:
    """Record the chunk's excluded rows; convert and collect the kept ones; their positions."""
    drop, reason, chunk = rows.drop, rows.reason, rows.frame
    if run.rid_pos is not None:  # excluded rows are listed in file order: ids too
        for why in dict.fromkeys(r for r in reason[drop] if r in EXCLUDABLE):
            _extend_ids(run.response_ids, ("excluded", why),
                        chunk.iloc[drop & (reason == why), run.rid_pos])
    for p, r in zip(rows.positions[drop], reason[drop]):
        run.excluded.setdefault(r, []).append(int(p))
    keep = ~drop
    part = chunk.loc[keep] if not keep.all() else chunk
    kpos = rows.positions[keep]
    src, spec = run.src, run.spec
    for j in range(len(run.names)):
        if j in run.item_of:
            it = run.item_of[j]
            col = _convert_item(
                part.iloc[:, j], it, kpos, spec.for_item(it), run.log, src.decimal,
                run.integer_codes, src.user_missing.get(src.columns[j]),
                src.value_labels.get(src.columns[j]), src.missing_rule)
        else:
            col = part.iloc[:, j].reset_index(drop=True)
        acc[j].append(col)
    return kpos


def _assemble(names: list, item_of: dict, acc: list) -> pd.DataFrame:
    """The frame, column by column (peak memory: the result plus one column); empties `acc`."""
    data = {}
    for j in range(len(names)):
        pieces, acc[j] = acc[j], []
        if j in item_of:
            data[j] = pd.Series(pieces.values(), dtype="float64", copy=False)
        elif not pieces:
            data[j] = pd.Series([], dtype="str")
        else:
            data[j] = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
        del pieces
    df = pd.DataFrame(data, copy=False)
    del data
    df.columns = names
    return df


# ---- frame rules
def _frame_other_columns(run: _Run, df: pd.DataFrame) -> None:
    """Columns other than items: codes the file declares user-missing are missing; converted
    like items' text only with ``convert_other=True``."""
    src = run.src
    for j, c in enumerate(run.names):
        if c in run.spec.items or len(run.seen[c]) > 1:
            continue
        orig = src.columns[j]
        s = df.iloc[:, j]
        um = src.user_missing.get(orig)
        if um and s.dtype.kind in "iuf":
            v = s.to_numpy(dtype=float, na_value=np.nan)
            mask = np.zeros(len(v), dtype=bool)
            for lo, hi in um:
                mask |= (v >= lo) & (v <= hi)
            if mask.any():
                s = s.where(~mask)
                run.log.rule(src.missing_rule[0], c, int(mask.sum()), src.missing_rule[1])
        if run.convert_other:
            s = _convert_other(s, c, src.decimal, run.log, is_id=(c == run.id_column))
        df.isetitem(j, s)


def _frame_variables(run: _Run, df: pd.DataFrame) -> None:
    """Non-item variables the codebook declares (``variables:``) hold what it allows."""
    if run.spec.variables:
        _check_variables(df, run.seen, run.spec, run.log, run.kept_positions, run.src.decimal)


def _frame_personal(run: _Run, df: pd.DataFrame) -> None:
    """Columns that look like personal data, and those the platform knows to be (before the
    ids: an id column may be personal data)."""
    personal = detect_personal_columns(df, skip=[c for c in run.spec.items if c in run.seen])
    known = {p["column"] for p in personal}
    personal += [dict(p) for p in run.src.personal if p["column"] not in known]
    run.personal = personal
    run.personal_cols = {p["column"] for p in personal}


def _frame_ids(run: _Run, df: pd.DataFrame) -> None:
    """Each row has an id, and each id occurs once (personal-data ids are not shown)."""
    id_column, kept_positions = run.id_column, run.kept_positions
    if id_column is None or id_column not in run.seen or len(run.seen[id_column]) != 1:
        return
    ids = df[id_column]
    miss = ids.isna().to_numpy().copy()
    if ids.dtype.kind not in "biufc":
        miss |= (_as_text(ids).str.strip() == "").to_numpy(dtype=bool)
    if miss.any():
        _missing_ids(run.log, df, id_column, miss, kept_positions, run.names, run.rid_pos,
                     run.flagged, run.src.counting)
    dup = ids.duplicated(keep=False).to_numpy() & ~miss
    if dup.any():
        order = np.argsort(_as_text(ids[dup]).to_numpy(dtype=object), kind="stable")
        vals = ids[dup].tolist()
        shown = ([_NOT_SHOWN] * len(vals) if id_column in run.personal_cols
                 else [mask_value(vals[i]) for i in order])
        run.log.problem("duplicate_id", id_column, kept_positions[dup][order], shown,
                        "each id once", "ids that occur in more than one row")


_FRAME_RULES = (_frame_other_columns, _frame_variables, _frame_personal, _frame_ids)


def _provenance(run: _Run, df: pd.DataFrame, preamble) -> dict:
    """The record of what was read, excluded, flagged and converted (``df.attrs['custval']``)."""
    src, spec, seen = run.src, run.spec, run.seen
    n_excluded = sum(len(v) for v in run.excluded.values())

    def listed(kind, r, p):
        out = {"reason": r, "n": len(p), "rows": _numbers(src.counting, p)}
        if (kind, r) in run.response_ids:
            out["response_ids"] = run.response_ids[(kind, r)]
        return out

    prov = {
        # the codebook's reverse keys are recorded, not applied: analyses key (Instrument.keyed) and
        # warn when a model fits these items as answered while they load against their factor
        "instrument": {"name": spec.name, "version": spec.version,
                       "reverse_items": [it for it in spec.reverse if it in seen]},
        "items": [it for it in spec.items if it in seen],
        "row_counting": src.counting.kind,
        "row_counting_explained": src.counting.explanation,
        "rows_read": int(run.rows_read),
        "rows_returned": int(len(df)),
        "rows_excluded": int(n_excluded),
        "excluded": [listed("excluded", r, p) for r, p in run.excluded.items()],
        "flagged_kept": [listed("flagged", r, p) for r, p in run.flagged.items()],
        "preamble": [{"row": int(n), "reason": r} for n, r in preamble],
        "rules": [_ordered(r, run.names, run.log, src.counting)
                  for r in sorted(run.log.rules.values(), key=lambda r: r["rule"])],
        "other_columns": _other_columns(df, run.names, seen, spec, run.id_column,
                                        run.personal_cols, run.qualtrics, src.metadata),
        "personal_data_columns": run.personal,
        "id_column": run.id_column,
        "item_dtype": "float64 (NaN = missing)",
    }
    if run.qualtrics is not None:
        prov["qualtrics"] = {
            **{k: v for k, v in run.qualtrics.items() if v},
            "choice": run.qualtrics_status or "exclude (default)",
            "excluded_by_default": [r for r in run.by_default if r in run.excluded],
            "values_seen": run.status_seen,
            "rules": {"preview": "Status 'Survey Preview' / 1, 'Offline Survey Preview' / 17, "
                                 "or DistributionChannel 'preview'",
                      "test": "Status 'Survey Test' / 2, or DistributionChannel 'test'",
                      "spam": "Status 'Spam' / 8, 'Preview Spam' / 9, 'Imported Spam' / 12",
                      "unfinished": "Finished 0 / False",
                      "kept": "Status 'IP Address' / 0, 'Imported' / 4, 'Offline' / 16"}}
    if run.repairs:
        prov["header_repairs"] = list(run.repairs)
    if run.summary:
        _report_summary_rows(prov, run.summary, src)
    return prov


def _validate(chunks, src: _Source, spec: _Spec, *, id_column, columns, exclude, integer_codes,
              convert_other, finish=None, preamble=(), qualtrics_status=None, incomplete=None):
    """Run every rule over the chunks; return (frame, provenance) or raise DataValidationError.

    The column rules run once on the header, the row rules on each chunk (then its kept rows
    are converted), the reader's own problems (`finish`) are added, and the frame rules run
    on the assembled frame (see ``_COLUMN_RULES``, ``_ROW_RULES``, ``_FRAME_RULES``).  Every
    problem is collected before one DataValidationError lists them all.
    """
    run = _Run(src, spec, id_column=id_column, columns=columns, exclude=tuple(exclude or ()),
               integer_codes=integer_codes, convert_other=convert_other,
               qualtrics_status=qualtrics_status, incomplete=incomplete)
    for column_rule in _COLUMN_RULES:
        column_rule(run)
    # item codes go straight into one growing float64 array per item (no copy at the end)
    acc: list = [_readers.ColumnBuffer(src.rows_hint) if j in run.item_of else []
                 for j in range(len(run.names))]
    kpos_acc: list[np.ndarray] = []
    for i, (chunk, start) in enumerate(chunks):
        run.rows_read += len(chunk)
        rows = _Rows(chunk, start, first=(i == 0))
        for row_rule in _ROW_RULES:
            row_rule(run, rows)
        kpos_acc.append(_take_rows(run, rows, acc))
    if finish is not None:
        for rule, column, pos, values, allowed, what in finish(run.rows_read) or ():
            run.log.problem(rule, column, pos, values, allowed, what)
    run.kept_positions = (np.concatenate(kpos_acc) if kpos_acc
                          else np.empty(0, dtype=np.int64))
    df = _assemble(run.names, run.item_of, acc)
    for frame_rule in _FRAME_RULES:
        frame_rule(run, df)
    prov = _provenance(run, df, preamble)
    if run.log.problems:
        raise _error(run.log, src, spec, prov)
    if run.repairs:
        warnings.warn(f"{src.name}: item column headers read after a repair (recorded in "
                      f"df.attrs['custval']['rules']): {'; '.join(run.repairs)}.", RepairWarning,
                      stacklevel=3)
    if run.qualtrics is not None and qualtrics_status is None:
        _warn_qualtrics(prov, src.name, run.by_default)
    return df, prov


_NOT_SHOWN = "<a value of a personal-data column, not shown>"


def _extend_ids(response_ids: dict, key: tuple, cells: pd.Series) -> None:
    ids = response_ids.setdefault(key, [])
    ids.extend(_as_text(cells).str.strip().tolist()[:max(0, _ROWS_IN_ATTRS - len(ids))])


def _missing_ids(log, df, id_column, miss, kept_positions, names, rid_pos, flagged, counting):
    """Rows without an id, each named by its row and (Qualtrics) its ResponseId and flag."""
    rid = None
    if rid_pos is not None and names[rid_pos] != id_column:
        rid = _as_text(df.iloc[:, rid_pos]).str.strip().to_numpy(dtype=object)[miss]
    flag_of = {p: r for r, ps in flagged.items() for p in ps}
    pos = kept_positions[miss]
    values, n_flagged = [], 0
    for i, p in enumerate(pos):
        v = "empty"
        if rid is not None and rid[i]:
            v += f" (ResponseId {rid[i]})"
        if int(p) in flag_of:
            v += f", a {flag_of[int(p)]} response"
            n_flagged += 1
        values.append(v)
    allowed = "a non-empty id in every row"
    if n_flagged:
        allowed += (f"; {n_flagged} of these rows are responses flagged preview / test / spam "
                    "/ unfinished, kept by qualtrics_status='keep' or incomplete='keep': "
                    "exclude them (the default) or give them ids")
    log.problem("missing_id", id_column, pos, values, allowed, "rows without an id")


_QUALTRICS_META = {"startdate", "enddate", "ipaddress", "progress", "duration (in seconds)",
                   "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
                   "recipientemail", "externalreference", "externaldatareference",
                   "locationlatitude", "locationlongitude", "userlanguage", "q_recaptchascore",
                   "q_relevantidduplicate", "q_relevantidfraudscore"}


def _other_columns(df, names, seen, spec, id_column, personal_cols, qualtrics,
                   metadata=()) -> list[dict]:
    """Every column that is not an item: name, position, dtype and what it is for custval."""
    status = {v for k, v in (qualtrics or {}).items() if v and k != "response_id_column"}
    meta = set(metadata) | ({c for c in names if c.casefold() in _QUALTRICS_META}
                            if qualtrics else set())
    out = []
    for j, c in enumerate(names):
        if c in spec.items and len(seen[c]) == 1:
            continue
        role = ("id" if c == id_column else "survey status" if c in status
                else "duplicate item column" if c in spec.items
                else "survey tool metadata" if c in meta else "other")
        out.append({"column": c, "position": j + 1, "dtype": str(df.iloc[:, j].dtype),
                    "role": role, "personal_data": c in personal_cols})
    return out


def _warn_qualtrics(prov: dict, name: str, by_default) -> None:
    """ExcludedResponseWarning naming every response the Qualtrics default excluded."""
    entries = [e for e in prov["excluded"] if e["reason"] in by_default]
    if not entries:
        return
    n = sum(e["n"] for e in entries)
    kind = prov["row_counting"]
    shown, parts = 0, []
    for e in entries:
        ids = e.get("response_ids") or [None] * len(e["rows"])
        for row, rid in zip(e["rows"], ids):
            if shown < 20:
                parts.append(f"{e['reason']}: {kind} {row}"
                             + (f" (ResponseId {rid})" if rid else ""))
            shown += 1
    more = f"; ... {n - 20} more" if n > 20 else ""
    warnings.warn(
        f"{name}: {n} Qualtrics response(s) that are not real answers were excluded: "
        f"{'; '.join(parts)}{more}. All are listed in df.attrs['custval']['excluded'] "
        "(rows and response_ids). Pass qualtrics_status='keep' to keep them (flagged), or "
        "qualtrics_status='exclude' to exclude them without this warning.",
        ExcludedResponseWarning, stacklevel=4)


def _check_variables(df: pd.DataFrame, seen: dict, spec: _Spec, log: _Log, positions: np.ndarray,
                     decimal: str) -> None:
    """Check the non-item columns declared under the codebook's ``variables:`` like items.

    A declared variable that is not a column is a problem (unless ``required:
    false``); its declared missing codes become missing (counted, rule
    ``variable_missing_code``); text in a number variable, values outside its
    ``min``/``max``, fractions in an integer variable and values that are not
    among the categories are problems with the same rules and messages as for
    items (column, rows, values, what is allowed).
    """
    for name, var in spec.variables.items():
        if name not in seen:
            if var.required:
                log.problem("missing_variable_column", name, [], [name],
                            f"a column {name!r} as declared under variables: in the codebook (write "
                            "required: false there if a file may lack it)",
                            "declared variable that the data does not have")
            continue
        if len(seen[name]) > 1:  # reported as a duplicate column
            continue
        j = seen[name][0] - 1
        out = _check_variable(df.iloc[:, j], name, var, positions, log, decimal)
        if out is not None:
            df.isetitem(j, out)


def _check_variable(s: pd.Series, name: str, var, positions: np.ndarray, log: _Log,
                    decimal: str) -> pd.Series | None:
    """One declared variable; returns the column with its missing codes as missing (or None)."""
    n = len(s)
    empty = s.isna().to_numpy(dtype=bool).copy()
    numeric_dtype = s.dtype.kind in "iuf" or (s.dtype.kind != "O" and pd.api.types.is_numeric_dtype(s.dtype)
                                              and not pd.api.types.is_bool_dtype(s.dtype))
    vals = np.full(n, np.nan)
    if numeric_dtype:
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        text = None
        is_num = ~empty
    else:
        text = _as_text(s).str.strip()
        empty |= (text == "").to_numpy(dtype=bool)
        is_num = text.str.fullmatch(_number_regex(decimal)).to_numpy(dtype=bool) & ~empty
        if is_num.any():
            tt = text[is_num]
            if decimal == ",":
                tt = tt.str.replace(",", ".", regex=False)
            vals[is_num] = _parse_numbers(tt)
    num_codes = [float(c) for c in var.missing if not isinstance(c, str)]
    txt_codes = {_norm(c) for c in var.missing if isinstance(c, str)}
    missing = np.zeros(n, dtype=bool)
    if num_codes:
        missing |= is_num & np.isin(vals, num_codes)
    if txt_codes and text is not None:
        missing |= text.map(_norm).isin(txt_codes).to_numpy(dtype=bool) & ~empty
    answered = ~empty & ~missing
    allowed = var.allowed()
    shown = (s.to_numpy(dtype=object) if text is None else text.to_numpy(dtype=object))

    def values(mask):
        return [_num(v) for v in vals[mask]] if (is_num[mask]).all() else [shown[i] for i in
                                                                         np.flatnonzero(mask)]

    if var.type in ("integer", "number"):
        bad = answered & ~is_num
        if bad.any():
            log.problem("non_numeric", name, positions[bad], [shown[i] for i in np.flatnonzero(bad)],
                        allowed, "text in a variable the codebook declares as numbers")
        ok = answered & is_num
        lo = -np.inf if var.min is None else float(var.min)
        hi = np.inf if var.max is None else float(var.max)
        out = ok & ((vals < lo) | (vals > hi))
        if out.any():
            looks = out & (np.isin(vals, _MISSING_LOOKING) | (vals == hi + 1))
            plain = out & ~looks
            if looks.any():
                log.problem("undeclared_missing_code", name, positions[looks], values(looks),
                            allowed + ". If these codes mean missing, declare them (missing: under "
                            f"variables: {name} in the codebook)",
                            "codes outside the declared range that look like undeclared missing codes")
            if plain.any():
                log.problem("out_of_range", name, positions[plain], values(plain), allowed,
                            "values outside the range the codebook declares for this variable")
        if var.type == "integer":
            frac = ok & ~out & (vals != np.round(vals))
            if frac.any():
                log.problem("non_integer", name, positions[frac], values(frac), allowed,
                            "non-integer values in a variable the codebook declares as integer")
    elif var.type == "categorical":
        num_cats = [float(c) for c in var.categories if not isinstance(c, str)]
        txt_cats = {str(c) for c in var.categories if isinstance(c, str)}
        txt_cats |= {str(v) for v in var.category_labels.values()}  # a label stands for its code
        fine = is_num & np.isin(vals, num_cats) if num_cats else np.zeros(n, dtype=bool)
        if txt_cats:
            tv = text if text is not None else _as_text(s).str.strip()
            fine |= tv.isin(txt_cats).to_numpy(dtype=bool)
        bad = answered & ~fine
        if bad.any():
            log.problem("unknown_category", name, positions[bad], values(bad), allowed,
                        "values that are not categories the codebook declares for this variable")
    if missing.any():
        log.rule("variable_missing_code", name, int(missing.sum()),
                 "missing codes declared for a variable in the codebook (variables:) are missing",
                 codes=[c if isinstance(c, str) else _num(float(c)) for c in var.missing])
        return s.where(~pd.Series(missing, index=s.index))
    return None


def _report_summary_rows(prov: dict, summary: dict[int, str], src: _Source) -> None:
    """Totals / summary rows (a "Keskiarvo" mean row, a "Vastaajia" count row) are left
    out: their labels go to ``excluded`` and each is named in a RepairWarning."""
    pos = sorted(summary)
    nums = [int(x) for x in src.counting.number(pos)]
    labels = [summary[p] for p in pos]
    for e in prov["excluded"]:
        if e["reason"] == "totals row":
            e["labels"] = labels[:_ROWS_IN_ATTRS]
    shown = ", ".join(f"{n} ({lab!r})" for n, lab in zip(nums[:_SHOW], labels[:_SHOW]))
    more = f" and {len(nums) - _SHOW} more" if len(nums) > _SHOW else ""
    kind = src.counting.plural() if len(nums) > 1 else src.counting.kind
    warnings.warn(f"{src.name}: {len(nums)} totals / summary row(s) are not answers and were "
                  f"left out: {kind} {shown}{more} (listed in attrs['custval']['excluded'] "
                  "and by custval.ingest.excluded_rows(df)).", RepairWarning, stacklevel=4)


def _ordered(rule: dict, names: list[str], log: _Log | None = None,
             counting: RowCounting | None = None) -> dict:
    """A rule record with its per-column counts in the data's column order (and, for the
    rules that list their cells, the rows and conversions per column)."""
    order = {c: i for i, c in enumerate(names)}
    cols = dict(sorted(rule["columns"].items(), key=lambda kv: order.get(kv[0], -1)))
    out = {**rule, "columns": cols}
    if log is not None and any(r == rule["rule"] for r, _ in log.rule_rows):
        out["rows"] = {c: _numbers(counting, log.rule_rows.get((rule["rule"], c), []))
                       for c in cols}
        out["conversions"] = {c: dict(log.rule_values.get((rule["rule"], c), {})) for c in cols}
        out["row_counting"] = counting.kind
    return out


def _numbers(counting: RowCounting, positions: list[int]) -> list[int]:
    return [int(x) for x in counting.number(positions[:_ROWS_IN_ATTRS])]


def _warn_zero_twins(tt: pd.Series, column: str, is_id: bool) -> None:
    """Warn when text codes of a column differ only by leading zeros ('017' and '17').

    Spreadsheets turn some cells of an id column into numbers and drop their zeros; the codes
    stay as they are (two firms to every analysis), so the column is named with examples.
    """
    import warnings

    digits = tt[tt.str.fullmatch(r"[+-]?\d+")]
    stripped = digits.str.replace(r"^([+-]?)0+(?=\d)", r"\1", regex=True)
    variants = pd.Series(digits.to_numpy()).groupby(stripped.to_numpy()).unique()
    twins = [sorted(v) for v in variants if len(v) > 1]
    if not twins:
        return
    shown = ("" if is_id else ": " + ", ".join(" = ".join(repr(x) for x in t) for t in twins[:5])
             + (" ..." if len(twins) > 5 else ""))
    warnings.warn(
        f"column {column!r} has {len(twins)} code(s) written both with and without leading zeros{shown}; "
        "they are kept as different values (e.g. two firms), as read. A spreadsheet may have turned some "
        "cells into numbers: fix the column if they are the same unit", CustvalWarning, stacklevel=4)


def _convert_other(s: pd.Series, column: str, decimal: str, log: _Log, is_id: bool) -> pd.Series:
    """Non-item column: numbers become Int64/float64 (reported); text stays text."""
    kind = s.dtype.kind
    if kind in "iu":  # numpy integers -> nullable Int64, as whole-number text columns become
        return s.astype("Int64")
    if kind == "b":
        return s
    if kind == "f":
        v = s.to_numpy(dtype=float, na_value=np.nan)
        fin = ~np.isnan(v)
        if fin.any() and np.all(v[fin] == np.round(v[fin])) and np.all(np.abs(v[fin]) < 2**53):
            log.rule("whole_numbers_to_Int64", column, int(fin.sum()),
                     "a non-item column of whole numbers stored as floats became Int64")
            out = pd.Series(pd.NA, index=s.index, dtype="Int64")
            out[fin] = v[fin].astype(np.int64)
            return out
        return s
    if not (isinstance(s.dtype, pd.StringDtype) or s.dtype == "str" or kind == "O"):
        return s
    fast = _fast_integers(s)
    if fast is not None and not fast[1].all():
        vals, empty = fast
        if not s.str.match(r"[+-]?0\d").fillna(False).any():
            out = pd.Series(pd.NA, index=s.index, dtype="Int64")
            out[~empty] = vals[~empty].astype(np.int64)
            log.rule("numeric_column", column, int((~empty).sum()),
                     "a non-item column whose every non-empty cell is a number was read as "
                     "numbers")
            log.rules["numeric_column"].setdefault("dtypes", {})[column] = "Int64"
            log.rule("empty_cell_other", column, int(empty.sum()),
                     "empty cells of a numeric non-item column are missing")
            return out
    t = _as_text(s).str.strip()
    nonempty = t != ""
    if not nonempty.any():
        return s
    tt = t[nonempty]
    if not tt.str.fullmatch(_number_regex(decimal)).all():
        return s
    if tt.str.match(r"[+-]?0\d").any():  # leading zeros: a code or id, keep as text
        _warn_zero_twins(tt, column, is_id)
        return s
    if decimal == ",":
        tt = tt.str.replace(",", ".", regex=False)
    nums = _parse_numbers(tt)
    n_empty = int((~nonempty).sum())
    if np.all(nums == np.round(nums)) and np.all(np.abs(nums) < 2**53):
        out = pd.Series(pd.NA, index=s.index, dtype="Int64")
        out[nonempty.to_numpy()] = nums.astype(np.int64)
        dtype = "Int64"
    else:
        out = pd.Series(np.nan, index=s.index, dtype="float64")
        out[nonempty.to_numpy()] = nums
        dtype = "float64"
    log.rule("numeric_column", column, int(nonempty.sum()),
             "a non-item column whose every non-empty cell is a number was read as numbers")
    log.rules["numeric_column"].setdefault("dtypes", {})[column] = dtype
    log.rule("empty_cell_other", column, n_empty,
             "empty cells of a numeric non-item column are missing")
    return out


#: Problems whose values are column or item names: every one is shown.
_LIST_ALL = ("missing_item_column", "codebook_item_id", "missing_column", "duplicate_column")
#: Texts that stand for "no answer" in exports and spreadsheets (shown in messages).
_NA_LIKE = {"na", "n/a", "n.a.", "nan", "null", "none", "-", "--", ".", "..", "?", "x", "#n/a",
            "#null!", "#value!", "#ref!", "#div/0!", "<na>", "missing", "dk", "eos",
            "no answer", "ei vastausta", "en tiedä", "tyhjä"}


def _showable(text: str, spec: _Spec) -> bool:
    """Whether an unmapped text of an item column may be shown in a message: short and
    like an answer (a number or code with digits, a missing-value token, or the words of a
    scale label).  Anything else may be a name or other personal text typed into an item."""
    t = text.strip()
    if len(t) > 30:
        return False
    if any(ch.isdigit() for ch in t) or _norm(t) in _NA_LIKE or _norm(t) in spec.caller_text:
        return True
    words = set(_norm(t).split())
    label_words = {w for lab in (*spec.labels, *spec.ambiguous, *spec.dk_labels)
                   for w in lab.split()}
    return bool(words) and words <= label_words


def _shown_values(rec: dict, spec: _Spec) -> list:
    """The values of a problem as they may appear in a message and in ``problems``."""
    out = []
    for v in rec["values"]:
        m = mask_value(v)
        if m is not v and m != v:
            out.append(m)
        elif rec["rule"] == "unmapped" and isinstance(v, str) and not _showable(v, spec):
            out.append(f"<a {len(v.strip())}-character text, not shown>")
        else:
            out.append(v)
    return out


def _error(log: _Log, src: _Source, spec: _Spec, prov: dict) -> DataValidationError:
    problems = []
    lines = []
    for rec in log.problems.values():
        nums = [int(x) for x in src.counting.number(rec["positions"])] if rec["positions"] else []
        vals = _shown_values(rec, spec)
        problem = {"rule": rec["rule"], "file": src.name, "column": rec["column"],
                   "rows": nums, "row_counting": src.counting.kind if nums else None,
                   "values": vals, "n": rec["n"], "allowed": rec["allowed"],
                   **rec.get("extra", {})}
        problems.append(problem)
        limit = len(vals) if rec["rule"] in _LIST_ALL else _SHOW
        shown = min(limit, rec["n"])
        where = ""
        if nums:
            kind = src.counting.plural() if len(nums) > 1 else src.counting.kind
            where = (f" at {kind} {', '.join(map(str, nums[:limit]))}"
                     f"{' ...' if rec['n'] > limit else ''}")
        more = f" (first {shown} of {rec['n']})" if rec["n"] > limit else ""
        col = ("columns" if rec["rule"] == "missing_item_column" else
               f"codebook item {rec['column']!r}" if rec["rule"] == "codebook_item_id" else
               f"column {rec['column']!r}")
        present = rec.get("extra", {}).get("columns_present")
        tail = f" The file's columns: {present}." if present is not None else ""
        lines.append(f"- [{rec['rule']}] {col}: {rec['n']} {rec['what']}{where}; "
                     f"values {vals[:limit]}{more}. Allowed: {rec['allowed']}.{tail}")
    head = (f"{src.name}: {len(problems)} problem(s) reading it with instrument "
            f"{spec.name!r} (version {spec.version}); {src.counting.explanation}.")
    msg = "\n".join([head, *lines])
    err = DataValidationError(msg, problems, path=src.path)
    err.provenance = prov
    return err


def _raw_header(path: Path, table) -> list | None:
    """The header cells of a CSV or Excel file as written (the readers trim them), by
    position; None for other formats or when the header cannot be found again."""
    info = table.info
    try:
        if table.format == "csv" and info.get("header_line"):
            import csv
            import gzip
            import io

            opener = gzip.open if info.get("compression") == "gzip" else open
            with opener(path, "rb") as fh:
                sample = fh.read(1 << 18)
            text = sample.decode(info["encoding"], errors="replace").lstrip("\ufeff")
            lines = text.splitlines()[: 4 * int(info["header_line"]) + 20]
            rows = list(csv.reader(io.StringIO("\n".join(lines)),
                                   delimiter=info["delimiter"]))
            row = rows[int(info["header_line"]) - 1]
        elif table.format == "xlsx" and info.get("header_row"):
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                ws = wb[info["sheet"]]
                h = int(info["header_row"])
                row = next(ws.iter_rows(min_row=h, max_row=h, values_only=True), ())
                row = ["" if v is None else str(v) for v in row]
            finally:
                wb.close()
        else:
            return None
    except (OSError, LookupError, ValueError, IndexError, StopIteration):
        return None
    return [str(c) for c in row]


# --------------------------------------------------------------------------- public
def read_survey(path, instrument, *, id_column: str | None = None, sheet=None,
                missing_codes: Iterable | None = None, encoding: str | None = None,
                delimiter: str | None = None, decimal: str | None = None,
                header_row: int | None = None, columns: Mapping[str, str] | None = None,
                exclude: Iterable[str] = (), integer_codes: bool = True,
                convert_other: bool = True, chunksize: int = _readers.CHUNK_ROWS,
                platform: str | None = None, header: str | None = None,
                lang: str | None = None, answer_codes=None, incomplete: str | None = None,
                qualtrics_status: str | None = None) -> pd.DataFrame:
    """Read a survey export and validate it against an instrument.

    Parameters
    ----------
    path : str or Path
        CSV/TSV (optionally ``.gz``), ``.xlsx``, ``.sav``, Stata ``.dta`` or
        ``.parquet``; the format is recognised from the file's first bytes.  The
        file is only read.  Stata's extended missing values ``.a``-``.z`` are
        missing (rule ``stata_extended_missing``, counted per column); value
        labels are checked against the codebook as for SPSS, and the variable
        labels are in ``df.attrs["custval"]["source"]["variable_labels"]``.
    instrument : Instrument, str or Path
        The codebook (an :class:`custval.Instrument`, a shipped name or a YAML path).
    id_column : str, optional
        Respondent id column; ids must be present and unique.
    sheet : str or int, optional
        Excel sheet (name or 0-based index); default the first sheet.
    missing_codes : iterable, optional
        Extra codes (numbers) or texts (e.g. ``"NA"``, ``"."``) that mean
        missing in this file, on top of those the codebook declares.  Counted.
    encoding, delimiter, decimal : str, optional
        Override detection (detected values are recorded in the provenance).
    header_row : int, optional
        1-based file line / Excel row holding the column names; by default the
        row (among the first 20) that names most items.  In Excel, question texts
        merged over several columns in that row are combined with the statement
        texts of the row below (``"question - statement"``, matched by the
        ``text`` header rule); the second row is listed in ``preamble``.
    columns : mapping, optional
        Rename file columns to item ids, ``{"Q5_1": "VAL1", ...}``.
    exclude : iterable of {"preview", "test", "spam", "unfinished"}
        Flagged responses to exclude (reported either way).  Kept by default,
        except in a Qualtrics export (see `qualtrics_status`).
    integer_codes : bool, default True
        Require whole-number codes (``False`` for continuous scores).
    convert_other : bool, default True
        Non-item columns whose every non-empty cell is a number become
        ``Int64`` (whole numbers) or ``float64`` (reported).  Leading-zero
        numbers stay text.
    chunksize : int
        Rows per chunk for CSV and Parquet (bounded memory for big files).
    platform : {"limesurvey", "google_forms", "webropol", "surveymonkey"}, optional
        The survey platform the file was exported from; by default detected from
        the columns (see the table below; Webropol is never detected, only
        named).  Recorded as ``attrs["custval"]["platform"]["source"]`` (also
        ``["source"]["platform"]``), with the evidence in ``detected_by``.
    header : {"id", "code", "text"}, optional
        How column headers name the items: item ids; LimeSurvey question codes
        ``CPROC[P1]`` -> item ``CPROC_P1`` (or ``CPROCP1``); or item texts in
        ``lang`` (exact match after whitespace normalisation; also
        ``"question [item text]"`` and ``"question - item text"``).  By default:
        ids when every item id is a column, else codes, else texts.  Headers
        matched are listed in ``attrs["custval"]["platform"]["column_map"]``;
        when items are missing, every header that matched no item is listed in
        the error (rule ``unmatched_header``) with the closest missing item.
        ``columns=`` takes precedence for the headers it names.
    lang : str, optional
        Language of the question texts in the headers (``"en"``, ``"fi"``); by
        default the codebook language whose texts match the most headers
        (recorded in ``platform["lang"]`` and ``platform["notes"]``).
    answer_codes : mapping or str, optional
        Answers written as codes of the survey tool rather than numbers, e.g.
        LimeSurvey's "answer codes" export (``"A1"``..``"A7"``, ``"AO01"``..):
        a mapping ``{"A1": 1, ...}`` or a regular expression with one group
        holding the code's digits, e.g. ``r"AO?0*(\\d+)"`` (full match).  Never
        guessed: without it such answers are errors whose message suggests this
        argument.  Counted as rule ``answer_code_to_code``, which records the
        mapping or pattern.
    incomplete : {"keep", "drop"}, optional
        Incomplete responses (LimeSurvey: empty ``submitdate``; Qualtrics:
        ``Finished`` = 0) are flagged as ``unfinished``.  ``"drop"`` excludes
        them (counted under ``excluded``, like ``exclude=["unfinished"]``);
        ``"keep"`` keeps them (listed under ``flagged_kept``).  By default they
        are kept, and for a LimeSurvey export that has any an
        :class:`~custval.exceptions.IncompleteResponseWarning` is issued; a
        Qualtrics export's unfinished responses are excluded by default (see
        `qualtrics_status`; ``"keep"`` keeps them).  The counts are in
        ``attrs["custval"]["incomplete"]``.
    qualtrics_status : {"exclude", "keep"}, optional
        A Qualtrics export (columns ``Status`` and ``Finished`` or
        ``ResponseId``): responses that are not real answers -- Status
        ``Survey Preview``/1, ``Survey Test``/2, ``Spam``/8, ``Preview
        Spam``/9, ``Imported Spam``/12 (or DistributionChannel ``preview`` /
        ``test``) and ``Finished`` 0/False -- are excluded by default, each
        listed under ``excluded`` with its row and ``response_ids``, and named
        (ResponseId and row) in an
        :class:`~custval.exceptions.ExcludedResponseWarning`.  ``"exclude"``
        does the same without the warning; ``"keep"`` keeps them, flagged
        (``flagged_kept``, with ``response_ids``).  Status ``IP Address``/0,
        ``Imported``/4 and ``Offline``/16 are real responses.  Every Status and
        Finished value seen is counted in ``attrs["custval"]["qualtrics"]``; any
        other value is an error (``unknown_qualtrics_status`` /
        ``unknown_qualtrics_finished``, naming rows and values) unless
        ``"keep"``.

    Returns
    -------
    pandas.DataFrame
        Items as ``float64`` codes (``NaN`` = missing), other columns as read.
        ``df.attrs["custval"]`` holds the provenance (see module docstring).

    Raises
    ------
    DataValidationError
        Every problem at once, each naming the file, column, rows and values.

    See Also
    --------
    custval.ingest.validate_frame : The same checks on an in-memory frame.
    custval.processed.write_processed : Store the validated frame with its manifest.
    custval.screening.screen : Flag careless respondents in the validated data.

    Notes
    -----
    Survey-platform layouts:

    =============  =========================================  ==========================
    source         layout read                                modelled on
    =============  =========================================  ==========================
    limesurvey     CSV or Excel "Export responses": system    LimeSurvey's export dialog
                   columns id, submitdate, lastpage,          (heading and response
                   startlanguage, seed, startdate, datestamp  options) and its default
                   (also ipaddr, refurl, token: personal      answer codes ``AO01``...
                   data); headings as question codes          (as stored by LimeSurvey
                   ``Q[SQ]``, ``Q[SQ]. text`` or full text    4+); the exact cell
                   ``question [subquestion]`` (system         quoting and the full-text
                   columns then named "Response ID", "Date    system headings are from
                   submitted", ...: renamed to their codes);  documentation, not from a
                   answers as codes (``answer_codes=``) or    real file
                   full answers (label text)
    google_forms   CSV of the responses sheet: "Timestamp"    Google Forms' documented
                   ("Aikaleima" in Finnish) first, optional   sheet layout (grid rows as
                   "Email Address", question titles as        ``Title [Row]``); timestamp
                   headers, grid rows as ``Title [Row]``;     formats vary by locale and
                   answers as label text or numbers           are kept as text
    surveymonkey   xlsx/CSV "All responses data": row 1       SurveyMonkey's documented
                   metadata (Respondent ID, Collector ID,     expanded export layout
                   Start/End Date, IP Address, Email          ("Actual answer text" or
                   Address, First/Last Name, Custom Data 1)   "Numerical value"); not
                   and question texts (a matrix text only     checked against a real
                   above its first column), row 2 matrix      file
                   row texts or "Response"; row 2 is
                   excluded and reported; answers as text
                   or numbers
    webropol       question texts as headers, matrix          ASSUMED: no published raw
                   subitems as ``question - subitem``;        Webropol export was
                   answers as label text or numbers; the      available; only claimed
                   source is recorded when                    when named, otherwise the
                   ``platform="webropol"`` is given           same headers are read as
                                                              generic text headers
    =============  =========================================  ==========================

    LimeSurvey exports with only id, submitdate, lastpage and startlanguage (no
    seed, startdate, datestamp and no ``Q[SQ]`` heading) are not claimed as
    LimeSurvey: incomplete responses are flagged and counted as before, without
    the warning.  Finnish full-text LimeSurvey system headings are not renamed.
    Not read: LimeSurvey's "abbreviated question text" headings (truncated
    texts; export with question codes instead) and its SPSS/R exports' flattened
    names (map them with ``columns=``).  An export that writes ``N/A`` (or any
    other text) for unanswered questions needs ``missing_codes=["N/A"]``.
    Google Forms checkbox grids (several answers in one cell) are not item
    answers and are left as text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import custval
    >>> inst = custval.Instrument.from_dict(
    ...     {"A": ["A1", "A2", "A3"]}, scale=(1, 5),
    ...     labels={1: "Strongly disagree", 5: "Strongly agree"},
    ...     missing_codes=[-99], dont_know_codes=[6])
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "s.csv").write_text("id;A1;A2;A3;paino;kunta\\n1;5;4;-99;1,5;Jyväskylä\\n"
    ...                              "2;Strongly agree;6;3;2;Espoo\\n", encoding="cp1252")
    >>> df = custval.read_survey(d / "s.csv", inst, id_column="id")
    >>> df[["A1", "A2", "A3", "paino"]].to_numpy().tolist()
    [[5.0, 4.0, nan, 1.5], [5.0, nan, 3.0, 2.0]]
    >>> df["kunta"].tolist()
    ['Jyväskylä', 'Espoo']
    >>> prov = df.attrs["custval"]
    >>> prov["delimiter"], prov["decimal"], prov["encoding"], prov["rows_read"]
    (';', ',', 'cp1252', 2)
    >>> sorted(r["rule"] for r in prov["rules"])
    ['declared_missing_code', 'dont_know_code', 'label_to_code', 'numeric_column']
    >>> # In R: read.csv2(..., fileEncoding = "latin1") plus hand-written recoding

    A LimeSurvey export with question-code headings and answer codes:

    >>> _ = (d / "ls.csv").write_text(
    ...     'id,submitdate,lastpage,startlanguage,seed,A[1],A[2],A[3]\\n'
    ...     '1,2024-05-02 10:00:00,2,en,123,AO05,AO04,AO02\\n'
    ...     '2,,1,en,456,AO01,,\\n', encoding="utf-8")
    >>> df = custval.read_survey(d / "ls.csv", inst, id_column="id",
    ...                          answer_codes=r"AO?0*(\\d+)", incomplete="drop")
    >>> df[["A1", "A2", "A3"]].to_numpy().tolist()
    [[5.0, 4.0, 2.0]]
    >>> p = df.attrs["custval"]
    >>> p["platform"]["source"], p["platform"]["column_map"], p["incomplete"]["dropped"]
    ('limesurvey', {'A[1]': 'A1', 'A[2]': 'A2', 'A[3]': 'A3'}, 1)
    >>> # In R: limer::get_responses(..., sResponseType = "short") plus hand-written recoding
    """
    path = Path(path)
    instrument = as_instrument(instrument)
    if incomplete not in (None, "keep", "drop"):
        raise SpecificationError(f"incomplete={incomplete!r}: allowed are 'keep', 'drop' or None "
                                 "(keep, and warn when a LimeSurvey export has incomplete "
                                 "responses).")
    exclude = tuple(exclude or ())
    if incomplete == "drop" and "unfinished" not in exclude:
        exclude = (*exclude, "unfinished")
    spec = _spec(instrument, missing_codes)
    codes_from_codebook = answer_codes is None and getattr(instrument, "answer_codes", None)
    if codes_from_codebook:  # a codebook may declare them (attribute answer_codes)
        answer_codes = instrument.answer_codes
    spec.answer_map, spec.answer_pattern = _platforms.parse_answer_codes(answer_codes)
    sha, size = _readers.file_sha256(path)
    wanted = set(spec.items) | set(columns or {}) | ({id_column} if id_column else set())
    table = _readers.open_table(path, wanted, encoding=encoding, delimiter=delimiter,
                                decimal=decimal, sheet=sheet, header_row=header_row,
                                chunksize=chunksize)
    raw_columns = _raw_header(path, table)
    plan = _platforms.apply(table, instrument, spec.items, platform=platform, header=header,
                            lang=lang, user_columns=columns)
    if codes_from_codebook:
        plan.notes.append("answer codes declared by the codebook (answer_codes)")
    src = _Source(name=path.name, path=path, columns=table.columns, counting=table.counting,
                  decimal=table.info.get("decimal", "."), string_table=table.format in
                  ("csv", "xlsx"), user_missing=table.user_missing,
                  value_labels=table.value_labels, raw_columns=raw_columns,
                  personal=list(plan.personal), metadata=list(plan.metadata_columns),
                  rows_hint=table.info.pop("rows_hint", 0) or 0)
    if table.format == "dta":
        src.missing_rule = _STATA_MISSING_RULE
    src.extra_header_rows, src.extra_header_reason = (plan.extra_header_rows,
                                                      plan.extra_header_reason)

    def finish(n):
        extra = list(table.finish(n) or []) if table.finish is not None else []
        src.counting = table.counting
        return extra + plan.problems

    try:
        df, prov = _validate(table.chunks, src, spec, id_column=id_column, columns=columns,
                             exclude=exclude, integer_codes=integer_codes,
                             convert_other=convert_other, finish=finish,
                             preamble=table.preamble, qualtrics_status=qualtrics_status,
                             incomplete=incomplete)
    except DataValidationError as err:
        if isinstance(getattr(err, "provenance", None), dict):
            err.provenance["platform"] = plan.provenance()
        raise
    finally:
        close = getattr(table.chunks, "close", None)
        if close is not None:
            close()
    sha_after, _ = _readers.file_sha256(path)
    if sha_after != sha:  # someone else changed the file while we read it
        raise DataValidationError(f"{path.name}: the file changed while it was read "
                                  "(SHA-256 differs); read it again.", path=path)
    from . import __version__

    source = {"path": str(path.resolve()), "sha256": sha, "size_bytes": size,
              "format": table.format, **{k: v for k, v in table.info.items()}}
    if table.value_labels:
        source["value_labels"] = {k: {str(_num(c)): lab for c, lab in v.items()}
                                  for k, v in table.value_labels.items()}
    if table.user_missing and table.format != "dta":  # dta: .a-.z in every numeric column (info)
        source["user_missing"] = {k: [list(p) for p in v] for k, v in table.user_missing.items()}
    prov = {"source": source, **{k: v for k, v in table.info.items()
                                 if k in ("encoding", "delimiter", "decimal")}, **prov,
            "custval_version": __version__}
    _platforms.record(prov, plan, incomplete)
    df.attrs["custval"] = prov
    _warn_personal_data(prov, f"{path.name}: ")
    return df


def validate_frame(df: pd.DataFrame, instrument, *, id_column: str | None = None,
                   missing_codes: Iterable | None = None, columns: Mapping[str, str] | None = None,
                   exclude: Iterable[str] = (), integer_codes: bool = True,
                   convert_other: bool = False, decimal: str = ".",
                   qualtrics_status: str | None = None) -> pd.DataFrame:
    """Apply the checks of :func:`read_survey` to an in-memory frame.

    Rows are named as ``data row`` (1-based position in `df`).  Non-item columns
    are left as they are unless ``convert_other=True``.  The input is not changed.
    A frame with Qualtrics' columns (``Status``, ``Finished``, ``ResponseId``) is
    treated as :func:`read_survey` treats the export (``qualtrics_status=``).
    ``id_column``, ``missing_codes``, ``columns``, ``exclude``, ``integer_codes`` and
    ``qualtrics_status`` mean what they mean for :func:`read_survey`, None included.

    Parameters
    ----------
    df : DataFrame
        The answers, one row per respondent; not changed.
    instrument : Instrument
        The codebook the columns are checked against.
    id_column, missing_codes, columns, exclude, integer_codes, decimal, qualtrics_status : optional
        As in :func:`read_survey`.
    convert_other : bool
        Also convert the non-item columns as :func:`read_survey` does.

    Returns
    -------
    DataFrame
        A checked copy, with the provenance in ``attrs["custval"]``.

    Raises
    ------
    DataValidationError
        Every problem of the frame at once, naming column, rows and values.

    See Also
    --------
    read_survey : The same checks on a file.

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval.ingest import validate_frame
    >>> inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5),
    ...                                     labels={1: "Strongly disagree", 5: "Strongly agree"})
    >>> raw = pd.DataFrame({"A1": ["1", "Strongly agree"], "A2": [2, 9]})
    >>> validate_frame(raw, inst.__class__.from_dict({"A": ["A1"]}, scale=(1, 5),
    ...                labels={5: "Strongly agree"}))["A1"].tolist()
    [1.0, 5.0]
    >>> try:
    ...     validate_frame(raw, inst)
    ... except custval.DataValidationError as err:
    ...     print(err.problems[0]["rule"], err.problems[0]["rows"], err.problems[0]["values"])
    undeclared_missing_code [2] [9]
    >>> # In R: no equivalent; checks written by hand (e.g. stopifnot(all(x$A1 %in% 1:5)))
    """
    spec = _spec(instrument, missing_codes)
    frame = df.copy()
    cols = [str(c) for c in frame.columns]
    frame.columns = range(frame.shape[1])
    src = _Source(name="<frame>", path=None, columns=cols,
                  counting=_readers.frame_counting(), decimal=decimal, string_table=True,
                  rows_hint=len(frame))
    out, prov = _validate(iter([(frame, 0)]), src, spec, id_column=id_column, columns=columns,
                          exclude=exclude, integer_codes=integer_codes,
                          convert_other=convert_other, qualtrics_status=qualtrics_status)
    from . import __version__

    out.attrs["custval"] = {"source": None, **prov, "custval_version": __version__}
    _warn_personal_data(prov)
    return out


def _warn_personal_data(prov: dict, where: str = "") -> None:
    """PersonalDataWarning naming the columns that look like personal data (values not shown),
    at the caller of the public reader (``where``: the file, as ``"name.csv: "``)."""
    if prov["personal_data_columns"]:
        cols = [p["column"] for p in prov["personal_data_columns"]]
        warnings.warn(f"{where}columns that look like personal data: {cols} (values not shown). They "
                      "are kept in this frame but left out of write_processed() unless "
                      "personal_data=True.", PersonalDataWarning, stacklevel=3)


def excluded_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Every row of the source that is not in `df`, one per line: title and blank rows
    above the header, extra header rows, blank rows, totals / summary rows (with their
    label) and excluded responses.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame returned by :func:`read_survey` or :func:`validate_frame`.

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (numbered as the file numbers them), ``row_counting``,
        ``reason`` and ``label`` (the first cell of a totals row, else empty), in
        row order.  Rows above the column names are numbered as file lines / Excel
        rows even when the records are numbered otherwise.

    See Also
    --------
    custval.ingest.read_survey : Reads the file and records the rows it leaves out.

    Examples
    --------
    >>> import tempfile, pathlib, warnings, custval
    >>> inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("Kysely 2024\\nid;A1;A2\\n1;1;2\\n2;3;4\\nKeskiarvo;2;3\\n",
    ...                  encoding="utf-8")
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     df = custval.read_survey(p, inst, id_column="id")
    >>> print(w[0].message)
    t.csv: 1 totals / summary row(s) are not answers and were left out: file line 5 ('Keskiarvo') ...
    >>> excluded_rows(df)[["row", "reason", "label"]].to_numpy().tolist()
    [[1, 'title or note line above the column-name header', ''], [5, 'totals row', 'Keskiarvo']]
    >>> # In R: no equivalent (rows dropped by hand are not listed)
    """
    prov = df.attrs.get("custval") or {}
    kind = prov.get("row_counting", "data row")
    out = []
    for p in prov.get("preamble", []):
        above = "Excel row" if kind == "Excel row" else "file line"
        out.append((int(p["row"]), above, p["reason"], ""))
    for e in prov.get("excluded", []):
        labels = e.get("labels") or [""] * len(e["rows"])
        out += [(int(r), kind, e["reason"], lab) for r, lab in zip(e["rows"], labels)]
    out.sort(key=lambda t: t[0])
    return pd.DataFrame(out, columns=["row", "row_counting", "reason", "label"]).astype(
        {"row": "int64"})
