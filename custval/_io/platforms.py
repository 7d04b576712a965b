"""Survey-platform exports for :func:`custval.read_survey` (private).

Recognises the exports of LimeSurvey, Google Forms, Webropol and SurveyMonkey
and maps their column headers to the instrument's item ids.  Nothing here
converts answers; :mod:`custval.ingest` does that under its counted rules.
What this module decides is recorded in ``df.attrs["custval"]["platform"]``.

Header rules (every one explicit, recorded in the provenance):

* ``id`` -- the item ids are column names (nothing to map).
* ``code`` -- LimeSurvey "question code" headings: ``CPROC[P1]`` (question
  code, subquestion code in brackets) is the item ``CPROC_P1`` or, if that is
  not an item, ``CPROCP1`` (a variable declared in the codebook likewise:
  ``firm[size]`` is ``firm_size``); ``CPROC[P1]. Question text`` (LimeSurvey's
  "question code & question text" heading) is read the same way.
* ``text`` -- the header is an item's text in language ``lang`` (exact match
  after Unicode NFC, straight quotes and whitespace normalisation; case
  matters), or ends in ``[<item text>]`` (Google Forms grid rows, LimeSurvey
  "full question text" headings of array subquestions) or in
  ``" - <item text>"`` (Webropol matrix questions).
* ``two_rows`` -- SurveyMonkey: the question-text row and the
  sub-question / answer-option row below it are combined (the question text
  of a matrix is carried to the right over its empty cells); the sub-question
  text is matched as in ``text``; the second row is excluded and reported.

Answer codes (LimeSurvey "answer codes" mode, e.g. ``A1``..``A7`` or
``AO01``..``AO07``) are only read through an explicit ``answer_codes=``: a
mapping ``{"A1": 1, ...}`` or a regular expression with one group whose
digits are the code (``r"AO?0*(\\d+)"``); never guessed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..exceptions import SpecificationError

__all__ = ["HEADER_MODES", "PLATFORMS", "Plan", "answer_code", "answer_code_detail", "apply",
           "detect", "norm_text", "parse_answer_codes", "plan", "record", "unmapped_hint"]

PLATFORMS = ("limesurvey", "google_forms", "webropol", "surveymonkey")
HEADER_MODES = ("id", "code", "text")

# LimeSurvey system columns: code -> heading in the "full question text" export (English UI)
LIME_SYSTEM = {"id": "Response ID", "submitdate": "Date submitted", "lastpage": "Last page",
               "startlanguage": "Start language", "seed": "Seed", "startdate": "Date started",
               "datestamp": "Date last action", "ipaddr": "IP address", "refurl": "Referrer URL",
               "token": "Token"}
_LIME_CORE = {"id", "submitdate", "lastpage", "startlanguage"}
_LIME_EXTRA = {"seed", "startdate", "datestamp"}
_LIME_CODE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\[([A-Za-z0-9_]+)\](?:\.\s.*)?$", re.S)
SURVEYMONKEY_META = ("Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
                     "Email Address", "First Name", "Last Name", "Custom Data 1")
_SM_NO_SUB = {"", "response", "open-ended response"}
GOOGLE_TIMESTAMP = {"timestamp", "aikaleima", "tidsstämpel", "zeitstempel", "horodateur"}
_GOOGLE_META = {"timestamp", "aikaleima", "email address", "sähköpostiosoite", "score",
                "pisteet"}
_PERSONAL = {
    "ipaddr": "LimeSurvey's IP address column",
    "token": "LimeSurvey participant token (links the answer to the participant table: name, "
             "e-mail)",
    "refurl": "LimeSurvey referrer URL (may carry identifying query parameters)",
    "IP Address": "SurveyMonkey's IP address column",
    "Email Address": "SurveyMonkey's e-mail column",
    "First Name": "SurveyMonkey's first-name column",
    "Last Name": "SurveyMonkey's last-name column",
    "Custom Data 1": "SurveyMonkey custom data (often an e-mail address or a name passed in the "
                     "survey link)",
}


def norm_text(text: str) -> str:
    """Header / item text compared for equality: NFC, straight quotes, single spaces."""
    t = unicodedata.normalize("NFC", str(text))
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                 ("\u00a0", " ")):
        t = t.replace(a, b)
    return " ".join(t.split())


# --------------------------------------------------------------------------- answer codes
def parse_answer_codes(answer_codes):
    r"""``(mapping, pattern)`` from ``answer_codes=`` (a mapping or a regex with one group).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> m, pat = parse_answer_codes(r"AO?0*(\d+)")
    >>> spec = SimpleNamespace(answer_map=m, answer_pattern=pat)
    >>> [answer_code(c, spec) for c in ("AO01", "AO07", "A3", "B2", "AO")]
    [1.0, 7.0, 3.0, None, None]
    >>> m, _ = parse_answer_codes({"A1": 1, "A2": 2})
    >>> answer_code("A2", SimpleNamespace(answer_map=m, answer_pattern=None))
    2.0
    >>> # In R: as.integer(sub("^AO?0*", "", x)) written by hand
    """
    if answer_codes is None:
        return None, None
    if isinstance(answer_codes, Mapping):
        out = {}
        for k, v in answer_codes.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SpecificationError(f"answer_codes: the code of {k!r} must be a number; "
                                         f"got {v!r}.")
            out[norm_text(k)] = float(v)
        return out, None
    if isinstance(answer_codes, (str, re.Pattern)):
        try:
            pat = re.compile(answer_codes)
        except re.error as err:
            raise SpecificationError(f"answer_codes={answer_codes!r} is not a regular "
                                     f"expression: {err}.") from None
        if pat.groups != 1:
            raise SpecificationError(
                f"answer_codes={pat.pattern!r} must have exactly one group (the digits of the "
                f"code), e.g. r'AO?0*(\\d+)'; it has {pat.groups}.")
        return None, pat
    raise SpecificationError("answer_codes must be a mapping {'A1': 1, ...} or a regular "
                             f"expression with one group; got {type(answer_codes).__name__}.")


def answer_code(text: str, spec) -> float | None:
    """The code an answer code stands for under ``answer_codes=``, else None."""
    mapping = getattr(spec, "answer_map", None)
    if mapping:
        return mapping.get(norm_text(text))
    pat = getattr(spec, "answer_pattern", None)
    if pat is not None:
        m = pat.fullmatch(text.strip())
        if m and re.fullmatch(r"[+-]?\d+", m.group(1) or ""):
            return float(int(m.group(1)))
    return None


def answer_code_detail(spec) -> dict:
    if getattr(spec, "answer_map", None):
        return {"answer_codes": dict(spec.answer_map)}
    return {"answer_code_pattern": spec.answer_pattern.pattern}


_CODE_LIKE = re.compile(r"^[A-Z]{1,3}\d{1,3}$")


def unmapped_hint(values) -> str:
    """Extra advice when unmapped answers look like answer codes (LimeSurvey 'A1', 'AO01')."""
    if any(isinstance(v, str) and _CODE_LIKE.match(v.strip()) for v in values):
        return ("; values such as 'A1' or 'AO01' look like LimeSurvey answer codes: pass "
                "answer_codes={'A1': 1, ...} or answer_codes=r'AO?0*(\\d+)' (recorded), or "
                "export with 'full answers'")
    return ""


# --------------------------------------------------------------------------- detection
def detect(columns: list[str], second_row: list[str] | None) -> tuple[str | None, str]:
    """(platform, the evidence) from the column names (and the row below them).

    Examples
    --------
    >>> detect(["id", "submitdate", "lastpage", "startlanguage", "seed", "Q1[SQ001]"], None)[0]
    'limesurvey'
    >>> detect(["Timestamp", "How satisfied are you?"], None)
    ('google_forms', "first column 'Timestamp'")
    >>> detect(["id", "A1"], None)
    (None, '')
    """
    cols = [c.strip() for c in columns]
    low = {c.casefold() for c in cols}
    if _LIME_CORE <= low and (low & _LIME_EXTRA or any(_LIME_CODE.match(c) for c in cols)):
        return "limesurvey", ("system columns " + ", ".join(sorted(_LIME_CORE | (low &
                                                                                 _LIME_EXTRA))))
    full = {v.casefold() for k, v in LIME_SYSTEM.items() if k in _LIME_CORE}
    if full <= low:
        return "limesurvey", "system columns in full-text headings: " + ", ".join(
            LIME_SYSTEM[k] for k in sorted(_LIME_CORE))
    if {"respondent id", "collector id"} <= low:
        return "surveymonkey", "columns 'Respondent ID' and 'Collector ID'"
    if cols and cols[0].casefold() in GOOGLE_TIMESTAMP:
        return "google_forms", f"first column {cols[0]!r}"
    return None, ""


# --------------------------------------------------------------------------- plan
@dataclass
class Plan:
    source: str | None
    detected_by: str
    header_mode: str
    lang: str | None
    columns: list[str]  # new column names (same length as the file's)
    column_map: dict[str, str] = field(default_factory=dict)  # file header -> item id / code
    extra_header_rows: int = 0
    extra_header_reason: str = ""
    metadata_columns: list[str] = field(default_factory=list)
    personal: list[dict] = field(default_factory=list)
    problems: list[tuple] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def provenance(self) -> dict:
        out = {"source": self.source, "detected_by": self.detected_by,
               "header_mode": self.header_mode, "lang": self.lang,
               "column_map": dict(self.column_map),
               "metadata_columns": list(self.metadata_columns)}
        if self.extra_header_rows:
            out["extra_header_rows"] = self.extra_header_rows
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _texts(instrument, items, lang) -> dict[str, list[str]]:
    """Normalised item text -> item ids (in `lang`)."""
    out: dict[str, list[str]] = {}
    for it in items:
        text = dict(instrument.item(it).text).get(lang)
        if text:
            out.setdefault(norm_text(text), []).append(it)
    return out


def _candidates(header: str) -> list[str]:
    """The texts a header may carry an item text as: the whole header, the part in the
    closing brackets of ``question [item]`` and the part after a `` - `` of
    ``question - item`` (tried from the first bracket / dash on, so that item texts that
    themselves hold brackets or dashes still match)."""
    h = norm_text(header)
    out = [h]
    if h.endswith("]"):
        out += [norm_text(h[m.end():-1]) for m in re.finditer(r"\S\s?\[", h)]
    out += [norm_text(h[m.end():]) for m in re.finditer(r" - ", h)]
    return [c for c in out if c]


def _match(cands: list[str], texts: dict[str, list[str]]) -> list[str] | None:
    for c in cands:
        if c in texts:
            return texts[c]
    return None


def plan(columns: list[str], second_row: list[str] | None, instrument, items, *,
         platform=None, header=None, lang=None, user_columns=None) -> Plan:
    """Decide the source platform, the header rule and the new column names."""
    if platform is not None and platform not in PLATFORMS:
        raise SpecificationError(f"platform={platform!r}: allowed are {PLATFORMS} or None "
                                 "(detect).")
    if header is not None and header not in HEADER_MODES:
        raise SpecificationError(f"header={header!r}: allowed are {HEADER_MODES} or None "
                                 "(detect).")
    languages = tuple(getattr(instrument, "languages", ("en",)) or ("en",))
    if lang is not None and lang not in languages:
        raise SpecificationError(f"lang={lang!r} is not a language of instrument "
                                 f"{getattr(instrument, 'name', '')!r}; languages: {languages}.")
    cols = [str(c).strip() for c in columns]
    detected, evidence = detect(cols, second_row)
    source = platform or detected
    by = "given (platform=)" if platform else evidence
    if platform and detected and detected != platform:
        by += f"; the columns look like {detected} ({evidence})"
    user_map = dict(user_columns or {})
    user = set(user_map)
    items = tuple(items)
    taken = set(user_map.values())  # items the caller maps with columns=
    itemset = set(items)
    out = Plan(source=source, detected_by=by, header_mode="id", lang=lang, columns=list(cols))

    # ---- two header rows (SurveyMonkey)
    sub = None
    if source == "surveymonkey" and second_row is not None:
        sub = [str(c).strip() for c in second_row] + [""] * (len(cols) - len(second_row))
        filled, q = [], ""
        for c, s in zip(cols, sub):
            if c:
                q = c
            filled.append(c if c or not s else q)
        out.extra_header_rows = 1
        out.extra_header_reason = "extra header row (SurveyMonkey sub-question / answer-option row)"
        out.header_mode = "two_rows"
        combined = [f"{q} - {s}" if s.casefold() not in _SM_NO_SUB and q else (q or s)
                    for q, s in zip(filled, sub)]
        out.columns = combined
        out.column_map.update({f"column {j + 1}": combined[j] for j in range(len(cols))
                               if combined[j] != cols[j]})
    # ---- LimeSurvey system columns in full-text headings -> their codes
    if source == "limesurvey":
        back = {v.casefold(): k for k, v in LIME_SYSTEM.items()}
        for j, c in enumerate(out.columns):
            k = back.get(c.casefold())
            if k and c not in user and k not in out.columns:
                out.columns[j] = k
                out.column_map[c] = k
        out.metadata_columns = [c for c in out.columns if c in LIME_SYSTEM]
    elif source == "surveymonkey":
        out.metadata_columns = [c for c in out.columns if c in SURVEYMONKEY_META
                                or re.fullmatch(r"Custom Data \d+", c)]
    elif source == "google_forms":
        out.metadata_columns = [c for c in out.columns if c.casefold() in _GOOGLE_META]
    for c in out.metadata_columns:
        reason = _PERSONAL.get(c) or (_PERSONAL["Custom Data 1"] if c.startswith("Custom Data")
                                      else None)
        if reason:
            out.personal.append({"column": c, "reason": reason})

    present = {user_map.get(c, c) for c in out.columns} & itemset
    if header == "id" or (header is None and sub is None and present >= itemset):
        out.lang = None
        return out
    # ---- question codes (LimeSurvey Q[SQ]); a declared variable is mapped like an item
    if header in (None, "code") and sub is None:
        n_code = 0
        codeset = itemset | set(getattr(instrument, "variables", None) or ())
        for j, c in enumerate(out.columns):
            m = _LIME_CODE.match(c)
            if not m or c in user or c in itemset:
                continue
            q, sq = m.group(1), m.group(2)
            target = next((t for t in (f"{q}_{sq}", f"{q}{sq}") if t in codeset - taken), None)
            if target is not None:
                out.columns[j] = target
                out.column_map[c] = target
                n_code += 1
        if n_code or header == "code":
            out.header_mode = "code"
            out.lang = None
            out.notes.append("question-code headings Q[SQ] mapped to item Q_SQ (or QSQ)")
            if header == "code" or {user_map.get(c, c) for c in out.columns} >= itemset:
                return out
    # ---- question texts
    tries = [lang] if lang is not None else list(languages)
    best = None
    for lg in tries:
        texts = _texts(instrument, [it for it in items if it not in taken], lg)
        found = {}
        for j, c in enumerate(out.columns):
            if c in user or c in itemset or c in out.metadata_columns:
                continue
            cands = _candidates(c)
            if sub is not None and sub[j].casefold() not in _SM_NO_SUB:
                cands = [norm_text(sub[j]), *cands]
            hit = _match(cands, texts)
            if hit is not None:
                found[j] = hit
        if best is None or len(found) > len(best[1]):
            best = (lg, found, texts)
    lg, found, texts = best
    if not found and header != "text" and sub is None:
        return out  # nothing to map: read_survey reports the missing items as before
    out.lang = lg
    if out.header_mode == "id":
        out.header_mode = "text"
    if lang is None:
        out.notes.append(f"language {lg!r} detected: its item texts match the most headers")
    targets: dict[str, list[int]] = {}
    for j, ids in found.items():
        if len(ids) > 1:
            out.problems.append((
                "ambiguous_item_text", out.columns[j], [], list(ids),
                "item texts that name a single item (map this column with columns=)",
                "a header whose text is the text of several items"))
            continue
        targets.setdefault(ids[0], []).append(j)
    for it, js in targets.items():
        if len(js) > 1:
            out.problems.append((
                "duplicate_item_header", it, [], [f"column {j + 1}" for j in js],
                "one column per item", "several headers match the text of the same item"))
            continue
        out.column_map[out.columns[js[0]]] = it
        out.columns[js[0]] = it
    missing = [it for it in items if it not in out.columns and it not in taken]
    if missing:
        # a column without a header is named as read_survey names it (unnamed_<n>), never ''
        others = [c if c else f"unnamed_{j + 1}" for j, c in enumerate(out.columns)
                  if c not in itemset and c not in out.metadata_columns and c not in user]
        inv = {it: t for t, ids in texts.items() for it in ids}
        for c in others:
            close = difflib.get_close_matches(norm_text(c), [inv[m] for m in missing if m in inv],
                                              n=1, cutoff=0.5)
            near = [m for m in missing if m in inv and close and inv[m] == close[0]]
            out.problems.append((
                "unmatched_header", c, [],
                [f"closest missing item: {near[0]}" if near else "no similar item text"],
                f"a header equal to an item's {lg!r} text after whitespace normalisation, or "
                "'question [item text]' / 'question - item text' (pass lang= for another "
                "language, or map it with columns={header: item_id}; ignore this if the "
                "column is not an item)",
                "header that matches no item text while items are missing"))
    return out


def apply(table, instrument, items, *, platform=None, header=None, lang=None,
          user_columns=None) -> Plan:
    """Plan the platform rules for an open :class:`~custval._io.readers.RawTable` and apply
    them to it: new column names; the chunks re-joined after peeking at the first row."""
    cols = [str(c) for c in table.columns]
    second = None
    detected, _ = detect(cols, None)
    if (platform or detected) == "surveymonkey" and table.format in ("csv", "xlsx"):
        it = iter(table.chunks)
        first = next(it, None)
        if first is not None and len(first[0]):
            second = ["" if v is None else str(v) for v in first[0].iloc[0].tolist()]

        def rejoin(first=first, it=it):
            try:
                if first is not None:
                    yield first
                yield from it
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()

        table.chunks = rejoin()
    p = plan(cols, second, instrument, items, platform=platform, header=header, lang=lang,
             user_columns=user_columns)
    table.columns = list(p.columns)
    return p


def record(prov: dict, p: Plan, incomplete: str | None) -> None:
    """Put the platform facts into the provenance of :func:`custval.read_survey`; warn about
    kept incomplete responses of a LimeSurvey export."""
    import warnings

    from ..exceptions import IncompleteResponseWarning

    prov["platform"] = p.provenance()
    if isinstance(prov.get("source"), dict):
        prov["source"]["platform"] = p.source
    known = {d["column"] for d in prov.get("personal_data_columns", [])}
    for d in p.personal:
        if d["column"] not in known:
            prov.setdefault("personal_data_columns", []).append(dict(d))
    if p.source != "limesurvey" and incomplete is None:
        return
    kept = sum(f["n"] for f in prov.get("flagged_kept", []) if f["reason"] == "unfinished")
    dropped = sum(e["n"] for e in prov.get("excluded", []) if e["reason"] == "unfinished")
    column = "submitdate" if p.source == "limesurvey" else "the survey tool's status column"
    prov["incomplete"] = {"rule": f"empty {column}" if p.source == "limesurvey" else column,
                          "n": kept + dropped, "kept": kept, "dropped": dropped,
                          "choice": incomplete or ("drop (exclude=['unfinished'])" if dropped
                                                   else "keep (default)")}
    if kept and incomplete is None:
        warnings.warn(
            f"{kept} incomplete response(s) (empty {column}) kept; they are listed in "
            "df.attrs['custval']['flagged_kept']. Pass incomplete='drop' to exclude them "
            "(counted) or incomplete='keep' to keep them without this warning.",
            IncompleteResponseWarning, stacklevel=3)
