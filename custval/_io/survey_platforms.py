"""LimeSurvey ``.lss`` and Qualtrics ``.qsf`` survey files from and to a codebook (private).

:func:`custval.questionnaire.export_survey` writes the files; :func:`custval.load_instrument`
reads them back through :func:`read_survey_file`.

What is written
    One question group (LimeSurvey) or block (Qualtrics) per construct, in codebook order,
    named by the construct's label, its definition as the group description.  The items are
    the rows of one array (LimeSurvey type ``F``, Qualtrics ``Matrix``/``Likert``) per run of
    items that share a scale and a question code; the answer options are the scale's codes
    with their labels (a code without a label is shown as the code itself) and the "don't
    know" code(s) of the codebook.  Scales wider than 11 points without labels (0-100
    ratings) are numeric inputs (LimeSurvey ``K`` with min/max, Qualtrics text-entry form
    with number validation).  Every language of the codebook is in the file; ``lang`` is the
    base language.

Question codes (so that a response export maps to the items by itself)
    LimeSurvey: the array's code ``Q`` and the row code ``SQ`` are chosen so that the
    export heading ``Q[SQ]`` is read by :func:`custval.read_survey` as item ``Q_SQ`` (or
    ``QSQ``): ``CPROC_P1`` is ``CPROC[P1]``, ``A1`` is ``A[1]``.  LimeSurvey codes are
    letters and digits only, so an item id with a ``.`` or with ``_`` anywhere but
    between the two parts cannot be written (a :class:`SpecificationError` names it).
    Qualtrics: each row's ``ChoiceDataExportTags`` is the item id, the answer's
    ``RecodeValues`` its code, so the export's columns are the item ids and its values
    the codes.

What only custval reads
    The codebook's ``variables:`` are questions of a last group / block: numbers as number
    inputs with their bounds, categories as a single-choice list with the categories as
    answer codes (Qualtrics: numeric recode values), text as a short text; the column is
    the variable's name (LimeSurvey: ``name`` or, for ``name_suffix``, ``name[suffix]``,
    which :func:`custval.read_survey` maps back).

    Reverse keys, pairs, perspectives, forms, scales per construct or item, missing codes,
    the variables' declarations, citation and description have no place on the platforms.  They are kept as
    JSON (ASCII, with ``<``, ``>`` and ``&`` escaped so that HTML filters leave it alone) in
    a hidden text-display question (LimeSurvey type ``X`` with ``hidden=1``, code
    ``custvalmeta``) or a descriptive-text question in a block that is not in the survey
    flow (Qualtrics, export tag ``custvalmeta``).  On reading, the wording seen by the
    respondents (item texts, construct labels and definitions, the title) comes from the
    platform's own fields, so a translation corrected in the platform is read back; the
    answer options must still be the codebook's scale (else a :class:`CodebookError`).
"""

from __future__ import annotations

import copy
import dataclasses
import html
import json
import re
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

from ..exceptions import CodebookError, SpecificationError

__all__ = ["META_CODE", "codebook_dict", "read_survey_file", "write_lss", "write_qsf"]

META_CODE = "custvalmeta"
META_FORMAT = "custval-survey/1"
DB_VERSION = "450"  # LimeSurvey 5.x schema (question_l10ns, answer_l10ns); LimeSurvey 6 imports it
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_QCODE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_MAX_RADIO = 11  # widest scale without labels written as radio buttons (0-10)


# --------------------------------------------------------------------------- codebook dict
def _text(mapping):
    return None if mapping is None else dict(mapping)


def _scale_dict(scale, parent):
    """The ``scale:`` entry that rebuilds ``scale`` under ``parent`` (None: not needed)."""
    if parent is not None and scale == parent:
        return None
    out = {"min": scale.min, "max": scale.max}
    same_range = parent is not None and (scale.min, scale.max) == (parent.min, parent.max)
    if scale.labels or same_range:
        out["labels"] = {lang: dict(v) for lang, v in scale.labels.items()}
    return out


def codebook_dict(inst) -> dict:
    """The ``custval-codebook/1`` mapping (as in a YAML file) that rebuilds ``inst``.

    Pairs that point outside a form sub-instrument are left out (they are restored from
    the item records by :func:`_rebuild`).
    """
    top = inst.scale
    present = set(inst.items)
    cons = []
    by_id = {i.id: i for i in inst.item_defs}
    for c in inst.construct_defs:
        c_scale = c.scale or top
        items = []
        for iid in c.items:
            it = by_id[iid]
            d = {"id": it.id, "text": dict(it.text)}
            if it.reverse:
                d["reverse"] = True
            if it.perspective is not None and it.perspective != c.perspective:
                d["perspective"] = it.perspective
            if it.pair is not None and it.pair in present:
                d["pair"] = it.pair
            sd = _scale_dict(it.scale or c_scale, c_scale)
            if sd is not None:
                d["scale"] = sd
            items.append(d)
        cd = {"id": c.id, "label": dict(c.label)}
        if c.definition is not None:
            cd["definition"] = dict(c.definition)
        if c.perspective is not None:
            cd["perspective"] = c.perspective
        sd = _scale_dict(c_scale, top)
        if sd is not None:
            cd["scale"] = sd
        cd["items"] = items
        cons.append(cd)
    scale = {"min": inst.scale_min, "max": inst.scale_max}
    if inst.labels:
        scale["labels"] = {lang: dict(v) for lang, v in inst.labels.items()}
    if inst.answer_codes is not None:
        scale["answer_codes"] = (dict(inst.answer_codes) if not isinstance(inst.answer_codes, str)
                                 else inst.answer_codes)
    out = {"format": "custval-codebook/1", "name": inst.name, "version": inst.version,
           "title": dict(inst.titles), "citation": inst.citation}
    if inst.description is not None:
        out["description"] = inst.description
    out["languages"] = list(inst.languages)
    if inst.dataset is not None:
        out["dataset"] = inst.dataset
    out["scale"] = scale
    missing = {}
    if inst.missing_codes:
        missing["codes"] = list(inst.missing_codes)
    if inst.dont_know_codes:
        missing["dont_know"] = {"codes": list(inst.dont_know_codes)}
        if inst.dont_know_labels:
            missing["dont_know"]["labels"] = {k: list(v) for k, v in inst.dont_know_labels.items()}
    if missing:
        out["missing"] = missing
    if inst.forms:
        forms = {}
        for p, f in inst.forms.items():
            fd = {}
            if f.get("label") is not None:
                fd["label"] = dict(f["label"])
            if f.get("respondents") is not None:
                fd["respondents"] = f["respondents"]
            forms[p] = fd
        out["forms"] = forms
    out["constructs"] = cons
    if inst.variables:
        vs = {}
        for name, v in inst.variables.items():
            d = {"type": v.type}
            if v.label is not None:
                d["label"] = dict(v.label)
            if v.description is not None:
                d["description"] = v.description
            if v.min is not None:
                d["min"] = v.min
            if v.max is not None:
                d["max"] = v.max
            if v.category_labels:
                d["categories"] = dict(v.category_labels)
            elif v.categories:
                d["categories"] = list(v.categories)
            if v.missing:
                d["missing"] = list(v.missing)
            if not v.required:
                d["required"] = False
            vs[name] = d
        out["variables"] = vs
    return out


# --------------------------------------------------------------------------- layout
@dataclasses.dataclass
class _Question:
    code: str  # LimeSurvey question code / Qualtrics DataExportTag
    construct: str
    kind: str  # "radio" or "number"
    rows: list  # [(item id, row code)]
    scale: object
    codes: list  # [(code, {lang: label})] of the answer options (radio)


def _resolve(q: str, sq: str, itemset) -> str | None:
    """The item read_survey maps the LimeSurvey heading ``q[sq]`` to."""
    return next((t for t in (f"{q}_{sq}", f"{q}{sq}") if t in itemset), None)


def _splits(iid: str, itemset) -> list[tuple[str, str]]:
    """(question code, row code) pairs whose heading maps back to ``iid``, longest code first."""
    out = []
    for k in range(len(iid) - 1, 0, -1):
        q, rest = iid[:k], iid[k:]
        sq = rest[1:] if rest.startswith("_") else rest
        if _QCODE.match(q) and sq and _ALNUM.match(sq) and _resolve(q, sq, itemset) == iid:
            out.append((q, sq))
    return out


def _is_radio(scale) -> bool:
    integral = float(scale.min).is_integer() and float(scale.max).is_integer()
    return integral and (bool(scale.labels) or scale.max - scale.min + 1 <= _MAX_RADIO)


def _dk_option(code) -> bool:
    """A don't-know code is an answer option when it can be a LimeSurvey answer code (a whole
    number 0..99999); others (-9) stay codes of the codebook only."""
    return float(code).is_integer() and 0 <= code <= 99999


def _answer_options(inst, scale, langs) -> list:
    opts = []
    for code in scale.codes:
        opts.append((code, {lg: scale.labels.get(lg, {}).get(code, str(code)) for lg in langs}))
    for code in inst.dont_know_codes:
        if _dk_option(code):
            labels = {lg: (inst.dont_know_labels.get(lg) or ("Don't know",))[0] for lg in langs}
            opts.append((int(code), labels))
    return opts


def _layout(inst, langs) -> list[_Question]:
    """Questions in codebook order: runs of a construct's items with one scale and one code."""
    itemset = set(inst.items)
    scales = inst.item_scales
    questions: list[_Question] = []
    used: set[str] = set()
    for c in inst.construct_defs:
        ids = list(c.items)
        i = 0
        while i < len(ids):
            first = ids[i]
            options = _splits(first, itemset)
            if not options:
                raise SpecificationError(
                    f"item id {first!r} cannot be written as a LimeSurvey question code and "
                    "subquestion code (letters and digits only, e.g. CPROC_P1 -> CPROC[P1], A1 -> "
                    "A[1]); rename the item in the codebook (ids with '.' or with '_' other than "
                    "between a name and a suffix cannot be kept)")
            best = None
            for q, _ in options:
                if q in used:
                    continue
                j = i
                rows = []
                while j < len(ids) and scales[ids[j]] == scales[first]:
                    sp = dict(_splits(ids[j], itemset))
                    if q not in sp:
                        break
                    rows.append((ids[j], sp[q]))
                    j += 1
                if best is None or len(rows) > len(best[1]):
                    best = (q, rows)
            if best is None or not best[1]:
                raise SpecificationError(
                    f"item {first!r}: every question code it can be written under "
                    f"({', '.join(q for q, _ in options)}) is already the code of another question; "
                    "LimeSurvey question codes must be unique (rename the items)")
            q, rows = best
            for _, sq in rows:
                if len(sq) > 20:
                    raise SpecificationError(f"subquestion code {sq!r} of item {rows[0][0]!r} is longer "
                                             "than LimeSurvey's 20 characters")
            if len(q) > 20:
                raise SpecificationError(f"question code {q!r} is longer than LimeSurvey's 20 "
                                         "characters; shorten the item ids")
            used.add(q)
            sc = scales[first]
            kind = "radio" if _is_radio(sc) else "number"
            questions.append(_Question(q, c.id, kind, rows, sc,
                                       _answer_options(inst, sc, langs) if kind == "radio" else []))
            i += len(rows)
    return questions


_BACKGROUND = {"en": "Background", "fi": "Taustatiedot", "sv": "Bakgrundsuppgifter",
               "de": "Angaben zur Person", "fr": "Informations générales", "es": "Datos generales"}


def _variables(inst, langs, questions, platform) -> list[dict]:
    """The codebook's variables as questions: code, row code (None: a question of its own)."""
    out = []
    taken = {q.code for q in questions}
    for name, v in inst.variables.items():
        if _QCODE.match(name) and len(name) <= 20:
            code, row = name, None
        else:
            every = _splits(name, {name})
            splits = [sp for sp in every if sp[0] not in taken]
            if not splits or platform == "qualtrics":
                code, row = name, None
            else:
                code, row = splits[0]
            if platform == "limesurvey" and row is None:
                why = (f"; its question code {every[0][0]!r} ({every[0][0]}[{every[0][1]}]) is "
                       "already the code of another question" if every else "")
                raise SpecificationError(
                    f"variable {name!r} cannot be a LimeSurvey question code (letters and digits, "
                    f"or name_suffix written as name[suffix]){why}; rename it in the codebook")
        if code in taken:
            raise SpecificationError(f"variable {name!r}: its question code {code!r} is already the "
                                     "code of another question; rename the variable")
        taken.add(code)
        cats = []
        if v.type == "categorical":
            for c in v.categories:
                label = str(v.category_labels.get(c, c))
                if platform == "limesurvey" and not (_ALNUM.match(str(c)) and len(str(c)) <= 5):
                    raise SpecificationError(
                        f"variable {name!r}: category {c!r} cannot be a LimeSurvey answer code "
                        "(letters and digits, at most 5); give the categories as {code: label}")
                if platform == "qualtrics" and (isinstance(c, bool) or not isinstance(c, int)):
                    raise SpecificationError(
                        f"variable {name!r}: category {c!r} is not a number; Qualtrics exports "
                        "answers as numeric recode values, so give the categories as {1: label, ...}")
                cats.append((str(c), {lg: label for lg in langs}))
        text = {lg: (v.label or {}).get(lg) or name for lg in langs}
        out.append({"name": name, "code": code, "row": row, "type": v.type, "text": text,
                    "categories": cats, "min": v.min, "max": v.max})
    return out


def _checks(inst, attention_checks, langs, questions) -> list[dict]:
    """Validated attention checks: id, text per language, answer code, construct to follow."""
    out = []
    taken = set(inst.items) | set(inst.variables) | {q.code for q in questions} | {META_CODE}
    cons = [c.id for c in inst.construct_defs]
    for k, chk in enumerate(attention_checks or ()):
        where = f"attention_checks[{k}]"
        if not isinstance(chk, dict) or not {"id", "text", "answer"} <= set(chk):
            raise SpecificationError(f"{where} must be a mapping with 'id', 'text' and 'answer' "
                                     "(and optionally 'after', a construct id); got "
                                     f"{chk!r}")
        extra = set(chk) - {"id", "text", "answer", "after"}
        if extra:
            raise SpecificationError(f"{where}: unknown key(s) {sorted(extra)}; allowed are id, text, "
                                     "answer, after")
        cid = str(chk["id"])
        if not _QCODE.match(cid) or len(cid) > 20:
            raise SpecificationError(f"{where}: id {cid!r} must be letters and digits, starting with a "
                                     "letter, at most 20 characters (a LimeSurvey question code)")
        if cid in taken:
            raise SpecificationError(f"{where}: id {cid!r} is already an item, variable or question code")
        taken.add(cid)
        text = chk["text"]
        texts = {lg: text for lg in langs} if isinstance(text, str) else dict(text)
        if set(texts) != set(langs) or not all(isinstance(v, str) and v for v in texts.values()):
            raise SpecificationError(f"{where}: text must be a string or a text for every language "
                                     f"{list(langs)}; got {text!r}")
        ans = chk["answer"]
        if isinstance(ans, bool) or ans not in inst.scale.codes:
            raise SpecificationError(f"{where}: answer {ans!r} must be a code of the scale "
                                     f"{inst.scale} ({list(inst.scale.codes)})")
        after = chk.get("after", cons[len(cons) // 2] if len(cons) > 1 else cons[0])
        if after not in cons:
            raise SpecificationError(f"{where}: after={after!r} is not a construct of the instrument "
                                     f"({', '.join(cons)})")
        out.append({"id": cid, "text": texts, "answer": int(ans), "after": after})
    return out


def _meta(inst, form, lang, questions, checks, variables=()) -> dict:
    return {"format": META_FORMAT, "codebook": codebook_dict(inst),
            "variables": [v["code"] for v in variables],
            "perspective": inst.perspective, "form": form, "base_language": lang,
            "pairs": {i.id: i.pair for i in inst.item_defs if i.pair is not None},
            "questions": [{"code": q.code, "construct": q.construct, "kind": q.kind,
                           "items": [r[0] for r in q.rows]} for q in questions],
            "attention_checks": checks}


def _enc(obj):
    """JSON-safe: a mapping with a key that is not a string keeps its keys' types as pairs."""
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _enc(v) for k, v in obj.items()}
        return {"__items__": [[k, _enc(v)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_enc(v) for v in obj]
    return obj


def _dec(obj):
    if isinstance(obj, dict):
        if set(obj) == {"__items__"}:
            return {k: _dec(v) for k, v in obj["__items__"]}
        return {k: _dec(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_dec(v) for v in obj]
    return obj


def _meta_text(meta: dict) -> str:
    s = json.dumps(_enc(meta), ensure_ascii=True, sort_keys=False, separators=(",", ":"))
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _plain(text) -> str:
    return html.unescape(text or "")


def _order(inst, lang):
    langs = list(inst.languages)
    if lang not in langs:
        raise SpecificationError(f"lang={lang!r} is not a language of instrument {inst.name!r}; "
                                 f"languages: {', '.join(langs)}")
    return [lang] + [lg for lg in langs if lg != lang]


def _num_text(x) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# --------------------------------------------------------------------------- LimeSurvey
_Q_FIELDS = ["qid", "parent_qid", "sid", "gid", "type", "title", "preg", "other", "mandatory",
             "encrypted", "question_order", "scale_id", "same_default", "relevance", "modulename"]


def _table(root, name, fields, rows):
    t = ET.SubElement(root, name)
    fs = ET.SubElement(t, "fields")
    for f in fields:
        ET.SubElement(fs, "fieldname").text = f
    rs = ET.SubElement(t, "rows")
    for r in rows:
        row = ET.SubElement(rs, "row")
        for f in fields:
            v = r.get(f)
            el = ET.SubElement(row, f)
            if v is not None and v != "":
                el.text = str(v)


def write_lss(inst, path: Path, *, lang: str, attention_checks=None, form=None) -> None:
    langs = _order(inst, lang)
    questions = _layout(inst, langs)
    checks = _checks(inst, attention_checks, langs, questions)
    sid = 100000 + zlib.crc32(inst.name.encode()) % 900000
    groups, group_l10ns, qrows, sqrows, ql10n, attrs, answers, al10n = [], [], [], [], [], [], [], []
    ids = {"q": 0, "a": 0, "l": 0}

    def nxt(k):
        ids[k] += 1
        return ids[k]

    def question(gid, qtype, title, order, texts, parent=0, target=None, help_texts=None):
        qid = nxt("q")
        (target if target is not None else qrows).append(
            {"qid": qid, "parent_qid": parent, "sid": sid, "gid": gid, "type": qtype, "title": title,
             "other": "N", "mandatory": "N", "encrypted": "N", "question_order": order,
             "scale_id": 0, "same_default": 0, "relevance": "1"})
        for lg in langs:
            ql10n.append({"id": nxt("l"), "qid": qid, "question": texts[lg],
                          "help": (help_texts or {}).get(lg, ""), "language": lg})
        return qid

    def options(qid, opts):
        for k, (code, labels) in enumerate(opts, 1):
            aid = nxt("a")
            answers.append({"aid": aid, "qid": qid, "code": code, "sortorder": k,
                            "assessment_value": 0, "scale_id": 0})
            for lg in langs:
                al10n.append({"id": nxt("l"), "aid": aid, "answer": _html(labels[lg]), "language": lg})

    by_id = {i.id: i for i in inst.item_defs}
    for g, c in enumerate(inst.construct_defs, 1):
        groups.append({"gid": g, "sid": sid, "group_order": g, "grelevance": "1"})
        for lg in langs:
            group_l10ns.append({"id": nxt("l"), "gid": g, "group_name": _html(c.label[lg]),
                                "description": _html(c.definition[lg]) if c.definition else "",
                                "language": lg})
        order = 0
        for q in (q for q in questions if q.construct == c.id):
            order += 1
            if q.kind == "radio":
                texts = {lg: _html(c.label[lg]) for lg in langs}
                qid = question(g, "F", q.code, order, texts)
                options(qid, q.codes)
            else:
                texts = {lg: _html(c.label[lg]) for lg in langs}
                qid = question(g, "K", q.code, order, texts)
                for a, v in (("min_num_value_n", q.scale.min), ("max_num_value_n", q.scale.max)):
                    attrs.append({"qid": qid, "attribute": a, "value": _num_text(v), "language": ""})
                if float(q.scale.min).is_integer() and float(q.scale.max).is_integer():
                    attrs.append({"qid": qid, "attribute": "num_value_int_only", "value": "1",
                                  "language": ""})
            for k, (iid, sq) in enumerate(q.rows, 1):
                question(g, "", sq, k,
                         {lg: _html(by_id[iid].text[lg]) for lg in langs}, parent=qid, target=sqrows)
        for chk in (x for x in checks if x["after"] == c.id):
            order += 1
            qid = question(g, "L", chk["id"], order, {lg: _html(chk["text"][lg]) for lg in langs})
            options(qid, _answer_options(inst, inst.scale, langs))
    g = len(inst.construct_defs)
    variables = _variables(inst, langs, questions, "limesurvey")
    if variables:
        g += 1
        groups.append({"gid": g, "sid": sid, "group_order": g, "grelevance": "1"})
        for lg in langs:
            group_l10ns.append({"id": nxt("l"), "gid": g, "group_name": _BACKGROUND.get(lg, "Background"),
                                "description": "", "language": lg})
        for order, v in enumerate(variables, 1):
            text = {lg: _html(v["text"][lg]) for lg in langs}
            single = {"integer": "N", "number": "N", "categorical": "L", "text": "S"}[v["type"]]
            array = {"integer": "K", "number": "K", "categorical": "F", "text": "Q"}[v["type"]]
            qid = question(g, single if v["row"] is None else array, v["code"], order, text)
            if v["row"] is not None:
                question(g, "T", v["row"], 1, text, parent=qid, target=sqrows)
            if v["type"] == "categorical":
                options(qid, v["categories"])
            if v["type"] in ("integer", "number"):
                suffix = "" if v["row"] is None else "_n"
                for a, x in (("min_num_value", v["min"]), ("max_num_value", v["max"])):
                    if x is not None:
                        attrs.append({"qid": qid, "attribute": a + suffix, "value": _num_text(x),
                                      "language": ""})
                if v["type"] == "integer":
                    attrs.append({"qid": qid, "attribute": "num_value_int_only", "value": "1",
                                  "language": ""})
    meta_qid = question(g, "X", META_CODE, 9999,
                        {lg: _meta_text(_meta(inst, form, lang, questions, checks, variables))
                         for lg in langs})
    attrs.append({"qid": meta_qid, "attribute": "hidden", "value": "1", "language": ""})
    # subquestion rows are type "T", as LimeSurvey's own exports write them
    for r in sqrows:
        r["type"] = "T"

    root = ET.Element("document")
    ET.SubElement(root, "LimeSurveyDocType").text = "Survey"
    ET.SubElement(root, "DBVersion").text = DB_VERSION
    le = ET.SubElement(root, "languages")
    for lg in langs:
        ET.SubElement(le, "language").text = lg
    _table(root, "answers", ["aid", "qid", "code", "sortorder", "assessment_value", "scale_id"], answers)
    _table(root, "answer_l10ns", ["id", "aid", "answer", "language"], al10n)
    _table(root, "groups", ["gid", "sid", "group_order", "randomization_group", "grelevance"], groups)
    _table(root, "group_l10ns", ["id", "gid", "group_name", "description", "language"], group_l10ns)
    _table(root, "questions", _Q_FIELDS, qrows)
    _table(root, "subquestions", _Q_FIELDS, sqrows)
    _table(root, "question_l10ns", ["id", "qid", "question", "help", "script", "language"], ql10n)
    _table(root, "question_attributes", ["qid", "attribute", "value", "language"], attrs)
    _table(root, "surveys", ["sid", "gsid", "admin", "adminemail", "anonymized", "format", "savetimings",
                             "template", "language", "additional_languages", "datestamp", "usecookie",
                             "allowregister", "allowsave", "autoredirect", "allowprev", "printanswers",
                             "ipaddr", "ipanonymize", "refurl", "showsurveypolicynotice",
                             "publicstatistics", "publicgraphs", "listpublic", "htmlemail",
                             "sendconfirmation", "tokenanswerspersistence", "assessments", "usecaptcha",
                             "usetokens", "showxquestions", "showgroupinfo", "shownoanswer",
                             "showqnumcode", "showwelcome", "showprogress", "questionindex",
                             "navigationdelay", "nokeyboard", "alloweditaftercompletion"],
           [{"sid": sid, "gsid": 1, "admin": "", "adminemail": "", "anonymized": "Y", "format": "G",
             "savetimings": "N", "template": "inherit", "language": lang,
             "additional_languages": " ".join(langs[1:]), "datestamp": "Y", "usecookie": "N",
             "allowregister": "N", "allowsave": "Y", "autoredirect": "N", "allowprev": "Y",
             "printanswers": "N", "ipaddr": "N", "ipanonymize": "Y", "refurl": "N",
             "showsurveypolicynotice": 0, "publicstatistics": "N", "publicgraphs": "N",
             "listpublic": "N", "htmlemail": "Y", "sendconfirmation": "N",
             "tokenanswerspersistence": "N", "assessments": "N", "usecaptcha": "N", "usetokens": "N",
             "showxquestions": "N", "showgroupinfo": "B", "shownoanswer": "Y", "showqnumcode": "X",
             "showwelcome": "Y", "showprogress": "Y", "questionindex": 0, "navigationdelay": 0,
             "nokeyboard": "N", "alloweditaftercompletion": "N"}])
    settings = []
    for lg in langs:
        welcome = ""
        if inst.perspective and inst.forms.get(inst.perspective, {}).get("label"):
            welcome = _html(inst.forms[inst.perspective]["label"][lg])
        settings.append({"surveyls_survey_id": sid, "surveyls_language": lg,
                         "surveyls_title": _html(inst.titles[lg]), "surveyls_description": "",
                         "surveyls_welcometext": welcome, "surveyls_endtext": "",
                         "surveyls_dateformat": 9, "surveyls_numberformat": 0})
    _table(root, "surveys_languagesettings",
           ["surveyls_survey_id", "surveyls_language", "surveyls_title", "surveyls_description",
            "surveyls_welcometext", "surveyls_endtext", "surveyls_url", "surveyls_urldescription",
            "surveyls_dateformat", "surveyls_numberformat"], settings)
    ET.indent(root, space=" ")
    data = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    _write(path, data)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _rows(root, name) -> list[dict]:
    t = root.find(name)
    if t is None:
        return []
    return [{el.tag: (el.text or "") for el in row} for row in t.iterfind("rows/row")]


def _read_lss(path: Path):
    """(meta, visible) from a .lss file; visible = {title, items, constructs, options}."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise CodebookError(f"{path}: not a well-formed LimeSurvey .lss file (XML error: {exc})",
                            path=path) from None
    kind = root.findtext("LimeSurveyDocType")
    if root.tag != "document" or kind != "Survey":
        raise CodebookError(f"{path}: not a LimeSurvey survey structure file (<document> with "
                            f"<LimeSurveyDocType>Survey</LimeSurveyDocType>); found <{root.tag}> "
                            f"with document type {kind!r}", path=path)
    qrows = _rows(root, "questions")
    sqrows = _rows(root, "subquestions")
    l10n: dict[str, dict[str, dict]] = {}
    for r in _rows(root, "question_l10ns"):
        l10n.setdefault(r["qid"], {})[r["language"]] = r
    meta_q = [r for r in qrows if r.get("title") == META_CODE]
    if not meta_q:
        raise CodebookError(
            f"{path}: this LimeSurvey survey has no custval codebook (no hidden question "
            f"{META_CODE!r}); only surveys written by custval.export_survey can be read back as "
            "an instrument", path=path)
    meta = _meta_json(path, next(iter(l10n.get(meta_q[0]["qid"], {}).values()), {}).get("question"))
    glabels: dict[str, dict] = {}
    for r in _rows(root, "group_l10ns"):
        glabels.setdefault(r["gid"], {})[r["language"]] = (r.get("group_name"), r.get("description"))
    answers = {}
    al10n: dict[str, dict] = {}
    for r in _rows(root, "answer_l10ns"):
        al10n.setdefault(r["aid"], {})[r["language"]] = _plain(r.get("answer"))
    for r in sorted(_rows(root, "answers"), key=lambda r: int(r.get("sortorder") or 0)):
        answers.setdefault(r["qid"], []).append((r["code"], al10n.get(r["aid"], {})))
    attrs: dict[str, dict] = {}
    for r in _rows(root, "question_attributes"):
        attrs.setdefault(r["qid"], {})[r["attribute"]] = r.get("value")
    titles = {r["surveyls_language"]: _plain(r.get("surveyls_title"))
              for r in _rows(root, "surveys_languagesettings")}
    visible = {"title": titles, "questions": {}}
    skip = {META_CODE, *meta.get("variables", [])}
    for q in qrows:
        if q["title"] in skip:
            continue
        subs = sorted((s for s in sqrows if s["parent_qid"] == q["qid"]),
                      key=lambda s: int(s.get("question_order") or 0))
        g = glabels.get(q["gid"], {})
        visible["questions"][q["title"]] = {
            "type": q["type"],
            "group": {lg: (_plain(n), _plain(d)) for lg, (n, d) in g.items()},
            "rows": [(s["title"], {lg: _plain(r.get("question")) for lg, r in l10n.get(s["qid"], {}).items()})
                     for s in subs],
            "text": {lg: _plain(r.get("question")) for lg, r in l10n.get(q["qid"], {}).items()},
            "options": [(code, labels) for code, labels in answers.get(q["qid"], [])],
            "bounds": (attrs.get(q["qid"], {}).get("min_num_value_n"),
                       attrs.get(q["qid"], {}).get("max_num_value_n")),
        }
    return meta, visible


def _meta_json(path, text):
    meta = None
    for candidate in (text or "", re.sub(r"<[^>]*>", "", _plain(text))):
        try:
            meta = json.loads(candidate)
            break
        except ValueError:
            continue
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        raise CodebookError(f"{path}: the custval codebook question {META_CODE!r} does not hold "
                            f"{META_FORMAT} JSON (was it edited on the platform?)", path=path)
    return _dec(meta)


# --------------------------------------------------------------------------- Qualtrics
def _qlang(lg: str) -> str:
    return lg.upper()


def write_qsf(inst, path: Path, *, lang: str, attention_checks=None, form=None) -> None:
    langs = _order(inst, lang)
    questions = _layout(inst, langs)
    checks = _checks(inst, attention_checks, langs, questions)
    sid = f"SV_custval{zlib.crc32(inst.name.encode()):010d}"
    by_id = {i.id: i for i in inst.item_defs}
    elements, blocks, flow = [], {}, []
    n = {"q": 0}

    def sq(payload_fn, tag, desc):
        n["q"] += 1
        qid = f"QID{n['q']}"
        payload = payload_fn(qid)
        payload.update({"DataExportTag": tag, "QuestionID": qid, "QuestionDescription": desc,
                        "DataVisibility": {"Private": False, "Hidden": False}})
        elements.append({"SurveyID": sid, "Element": "SQ", "PrimaryAttribute": qid,
                         "SecondaryAttribute": desc[:100], "TertiaryAttribute": None,
                         "Payload": payload})
        return qid

    def matrix(text, rows, opts):
        def make(qid):
            choices = {str(k): {"Display": t[lang]} for k, (_, t) in enumerate(rows, 1)}
            answers = {str(k): {"Display": _html(lab[lang])} for k, (_, lab) in enumerate(opts, 1)}
            trans = {}
            for lg in langs[1:]:
                trans[_qlang(lg)] = {
                    "QuestionText": text[lg],
                    "Choices": {str(k): {"Display": t[lg]} for k, (_, t) in enumerate(rows, 1)},
                    "Answers": {str(k): {"Display": _html(lab[lg])} for k, (_, lab) in enumerate(opts, 1)}}
            return {"QuestionText": text[lang], "QuestionType": "Matrix", "Selector": "Likert",
                    "SubSelector": "SingleAnswer",
                    "Configuration": {"QuestionDescriptionOption": "UseText", "TextPosition": "inline",
                                      "ChoiceColumnWidth": 25, "RepeatHeaders": "none",
                                      "WhiteSpace": "OFF", "MobileFirst": True},
                    "Choices": choices, "ChoiceOrder": [str(k) for k in range(1, len(rows) + 1)],
                    "ChoiceDataExportTags": {str(k): rid for k, (rid, _) in enumerate(rows, 1)},
                    "Answers": answers, "AnswerOrder": [str(k) for k in range(1, len(opts) + 1)],
                    "RecodeValues": {str(k): str(code) for k, (code, _) in enumerate(opts, 1)},
                    "Validation": {"Settings": {"ForceResponse": "OFF", "Type": "None"}},
                    "Language": trans or [], "NextChoiceId": len(rows) + 1,
                    "NextAnswerId": len(opts) + 1}
        return make

    def numbers(text, rows, scale):
        def make(qid):
            trans = {_qlang(lg): {"QuestionText": text[lg],
                                  "Choices": {str(k): {"Display": t[lg]} for k, (_, t) in enumerate(rows, 1)}}
                     for lg in langs[1:]}
            return {"QuestionText": text[lang], "QuestionType": "TE", "Selector": "FORM",
                    "Configuration": {"QuestionDescriptionOption": "UseText"},
                    "Choices": {str(k): {"Display": t[lang]} for k, (_, t) in enumerate(rows, 1)},
                    "ChoiceOrder": [str(k) for k in range(1, len(rows) + 1)],
                    "ChoiceDataExportTags": {str(k): rid for k, (rid, _) in enumerate(rows, 1)},
                    "Validation": {"Settings": {"ForceResponse": "OFF", "Type": "ContentType",
                                                "ContentType": "ValidNumber",
                                                "ValidNumber": {"Min": _num_text(scale.min),
                                                                "Max": _num_text(scale.max),
                                                                "NumDecimals": ""}}},
                    "Language": trans or [], "NextChoiceId": len(rows) + 1, "NextAnswerId": 1}
        return make

    for b, c in enumerate(inst.construct_defs, 1):
        bid = f"BL_custval{b:04d}"
        elems = []
        for q in (q for q in questions if q.construct == c.id):
            text = {lg: _html(c.label[lg]) for lg in langs}
            rows = [(iid, {lg: _html(by_id[iid].text[lg]) for lg in langs}) for iid, _ in q.rows]
            fn = matrix(text, rows, q.codes) if q.kind == "radio" else numbers(text, rows, q.scale)
            elems.append({"Type": "Question", "QuestionID": sq(fn, q.code, c.label[lang])})
        for chk in (x for x in checks if x["after"] == c.id):
            rows = [(chk["id"], {lg: _html(chk["text"][lg]) for lg in langs})]
            text = {lg: _html(c.label[lg]) for lg in langs}
            fn = matrix(text, rows, _answer_options(inst, inst.scale, langs))
            elems.append({"Type": "Question", "QuestionID": sq(fn, chk["id"] + "_check", chk["id"])})
        blocks[str(b)] = {"Type": "Standard", "SubType": "", "Description": c.label[lang], "ID": bid,
                          "BlockElements": elems}
        flow.append({"ID": bid, "Type": "Block", "FlowID": f"FL_{b + 1}"})
    variables = _variables(inst, langs, questions, "qualtrics")
    if variables:
        elems = []
        for v in variables:
            text = {lg: _html(v["text"][lg]) for lg in langs}
            trans = {_qlang(lg): {"QuestionText": text[lg]} for lg in langs[1:]}
            if v["type"] == "categorical":
                opts = v["categories"]
                for lg in langs[1:]:
                    trans[_qlang(lg)]["Choices"] = {str(k): {"Display": _html(lab[lg])}
                                                    for k, (_, lab) in enumerate(opts, 1)}

                def make(qid, text=text, opts=opts, trans=trans):
                    return {"QuestionText": text[lang], "QuestionType": "MC", "Selector": "SAVR",
                            "SubSelector": "TX", "Configuration": {"QuestionDescriptionOption": "UseText"},
                            "Choices": {str(k): {"Display": _html(lab[lang])}
                                        for k, (_, lab) in enumerate(opts, 1)},
                            "ChoiceOrder": [str(k) for k in range(1, len(opts) + 1)],
                            "RecodeValues": {str(k): code for k, (code, _) in enumerate(opts, 1)},
                            "Validation": {"Settings": {"ForceResponse": "OFF", "Type": "None"}},
                            "Language": trans or [], "NextChoiceId": len(opts) + 1, "NextAnswerId": 1}
            else:
                valid = {"Type": "None"}
                if v["type"] in ("integer", "number"):
                    valid = {"Type": "ContentType", "ContentType": "ValidNumber",
                             "ValidNumber": {"Min": "" if v["min"] is None else _num_text(v["min"]),
                                             "Max": "" if v["max"] is None else _num_text(v["max"]),
                                             "NumDecimals": "0" if v["type"] == "integer" else ""}}

                def make(qid, text=text, trans=trans, valid=valid):
                    return {"QuestionText": text[lang], "QuestionType": "TE", "Selector": "SL",
                            "Configuration": {"QuestionDescriptionOption": "UseText"},
                            "Validation": {"Settings": {"ForceResponse": "OFF", **valid}},
                            "Language": trans or [], "DefaultChoices": False}
            elems.append({"Type": "Question", "QuestionID": sq(make, v["code"], v["name"])})
        b = len(blocks) + 1
        blocks[str(b)] = {"Type": "Standard", "SubType": "", "Description": _BACKGROUND.get(lang, "Background"),
                          "ID": "BL_custvalvars", "BlockElements": elems}
        flow.append({"ID": "BL_custvalvars", "Type": "Block", "FlowID": f"FL_{b + 1}"})
    meta = _meta(inst, form, lang, questions, checks, variables)

    def meta_q(qid):
        return {"QuestionText": _meta_text(meta), "QuestionType": "DB", "Selector": "TB",
                "Configuration": {"QuestionDescriptionOption": "UseText"}, "Language": [],
                "Validation": {"Settings": {"Type": "None"}}}

    meta_id = sq(meta_q, META_CODE, "custval codebook (not shown to respondents)")
    nb = len(blocks) + 1
    blocks[str(nb)] = {"Type": "Standard", "SubType": "", "ID": "BL_custvalmeta",
                       "Description": "custval codebook (not in the survey flow)",
                       "BlockElements": [{"Type": "Question", "QuestionID": meta_id}]}
    blocks["0"] = {"Type": "Trash", "Description": "Trash / Unused Questions", "ID": "BL_custvaltrash",
                   "BlockElements": []}
    head = [
        {"SurveyID": sid, "Element": "BL", "PrimaryAttribute": "Survey Blocks",
         "SecondaryAttribute": None, "TertiaryAttribute": None,
         "Payload": {k: blocks[k] for k in sorted(blocks, key=int)}},
        {"SurveyID": sid, "Element": "FL", "PrimaryAttribute": "Survey Flow", "SecondaryAttribute": None,
         "TertiaryAttribute": None,
         "Payload": {"Type": "Root", "FlowID": "FL_1", "Flow": flow,
                     "Properties": {"Count": len(flow) + 1}}},
        {"SurveyID": sid, "Element": "SO", "PrimaryAttribute": "Survey Options",
         "SecondaryAttribute": None, "TertiaryAttribute": None,
         "Payload": {"BackButton": "true", "SaveAndContinue": "true", "SurveyProtection": "PublicSurvey",
                     "BallotBoxStuffingPrevention": "false", "NoIndex": "Yes",
                     "SecureResponseFiles": "true", "SurveyExpiration": None,
                     "SurveyTermination": "DefaultMessage", "Header": "", "Footer": "",
                     "ProgressBarDisplay": "None", "PartialData": "+1 week",
                     "AvailableLanguages": {_qlang(lg): [] for lg in langs},
                     "SurveyLanguage": _qlang(lang), "SurveyTitle": inst.titles[lang]}},
    ]
    tail = [{"SurveyID": sid, "Element": "QC", "PrimaryAttribute": "Survey Question Count",
             "SecondaryAttribute": str(n["q"]), "TertiaryAttribute": None, "Payload": None}]
    doc = {"SurveyEntry": {"SurveyID": sid, "SurveyName": inst.titles[lang], "SurveyDescription": None,
                           "SurveyOwnerID": "", "SurveyBrandID": "", "DivisionID": None,
                           "SurveyLanguage": _qlang(lang), "SurveyActiveResponseSet": "RS_custval",
                           "SurveyStatus": "Inactive", "SurveyStartDate": "0000-00-00 00:00:00",
                           "SurveyExpirationDate": "0000-00-00 00:00:00",
                           "SurveyCreationDate": "2000-01-01 00:00:00", "CreatorID": "",
                           "LastModified": "2000-01-01 00:00:00", "LastAccessed": "0000-00-00 00:00:00",
                           "LastActivated": "0000-00-00 00:00:00", "Deleted": None},
           "SurveyElements": head + elements + tail}
    _write(path, json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


def _read_qsf(path: Path):
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodebookError(f"{path}: not a Qualtrics .qsf file (not JSON: {exc})", path=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("SurveyElements"), list) \
            or not isinstance(doc.get("SurveyEntry"), dict):
        raise CodebookError(f"{path}: not a Qualtrics survey file (a JSON object with SurveyEntry and "
                            "SurveyElements)", path=path)
    elems = [e for e in doc["SurveyElements"] if isinstance(e, dict)]
    sqs = {e["PrimaryAttribute"]: e.get("Payload") or {} for e in elems if e.get("Element") == "SQ"}
    meta_p = [p for p in sqs.values() if p.get("DataExportTag") == META_CODE]
    if not meta_p:
        raise CodebookError(
            f"{path}: this Qualtrics survey has no custval codebook (no question with export tag "
            f"{META_CODE!r}); only surveys written by custval.export_survey can be read back as an "
            "instrument", path=path)
    meta = _meta_json(path, meta_p[0].get("QuestionText"))
    base = meta.get("base_language", "en")
    langs = meta["codebook"]["languages"]
    upper = {_qlang(lg): lg for lg in langs}
    # the survey's name is set anew when a .qsf is imported: the title stays the codebook's
    visible = {"title": {}, "questions": {}}
    skip = {META_CODE, *meta.get("variables", [])}
    for p in sqs.values():
        tag = p.get("DataExportTag")
        if tag in skip:
            continue

        def by_lang(key, sub=None, p=p):
            out = {base: p.get(key)}
            for k, t in (p.get("Language") or {}).items() if isinstance(p.get("Language"), dict) else ():
                if k in upper and isinstance(t, dict):
                    out[upper[k]] = t.get(key)
            return out

        choices = by_lang("Choices")
        answers = by_lang("Answers")
        order = [str(c) for c in p.get("ChoiceOrder") or list((p.get("Choices") or {}).keys())]
        tags = p.get("ChoiceDataExportTags") or {}
        rows = [(tags.get(c, c), {lg: _plain(((choices.get(lg) or {}).get(c) or {}).get("Display"))
                                  for lg in choices}) for c in order]
        aorder = [str(a) for a in p.get("AnswerOrder") or list((p.get("Answers") or {}).keys())]
        recode = p.get("RecodeValues") or {}
        opts = [(str(recode.get(a, a)), {lg: _plain(((answers.get(lg) or {}).get(a) or {}).get("Display"))
                                         for lg in answers}) for a in aorder]
        # the construct's label is the matrix's question text; Qualtrics has no place for
        # its definition (kept in the codebook JSON)
        group = {lg: (_plain(t), None) for lg, t in by_lang("QuestionText").items() if t}
        visible["questions"][tag] = {
            "type": {"Matrix": "F", "TE": "K"}.get(p.get("QuestionType"), p.get("QuestionType")),
            "group": group, "rows": rows,
            "text": {lg: _plain(t) for lg, t in by_lang("QuestionText").items()},
            "options": opts,
            "bounds": tuple(((p.get("Validation") or {}).get("Settings") or {}).get("ValidNumber", {})
                            .get(k) for k in ("Min", "Max")),
        }
    return meta, visible


# --------------------------------------------------------------------------- reading
def read_survey_file(path: Path, *, platform: str, build):
    """An :class:`~custval.codebook.Instrument` from a ``.lss`` or ``.qsf`` written by custval.

    ``build(data, path)`` checks a ``custval-codebook/1`` mapping and returns the instrument
    (``custval.codebook`` passes its own builder, so that this module does not import it).
    """
    meta, visible = (_read_lss if platform == "limesurvey" else _read_qsf)(path)
    data = meta["codebook"]
    langs = data["languages"]
    for lg in langs:
        if visible["title"].get(lg):
            data["title"][lg] = visible["title"][lg]
    cons = {c["id"]: c for c in data["constructs"]}
    items = {it["id"]: it for c in data["constructs"] for it in c["items"]}
    inst0 = build(_without_pairs(data), path)
    order: dict[str, list] = {}
    for q in meta["questions"]:
        vq = visible["questions"].get(q["code"])
        if vq is None:
            raise CodebookError(f"{path}: question {q['code']!r} (construct {q['construct']}) is not in "
                                "the survey any more; the custval codebook needs it", path=path)
        c = cons[q["construct"]]
        ids = []
        for code, texts in vq["rows"]:
            iid = _row_item(q["code"], code, items, platform)
            if iid is None:
                raise CodebookError(f"{path}: row {code!r} of question {q['code']!r} is not an item of "
                                    "the custval codebook; items can be added only in the codebook",
                                    path=path)
            ids.append(iid)
            for lg in langs:
                if texts.get(lg):
                    items[iid]["text"][lg] = texts[lg]
        order.setdefault(c["id"], []).extend(ids)
        for lg in langs:
            name, definition = vq["group"].get(lg, (None, None))
            if name:
                c["label"][lg] = name
            if definition and c.get("definition"):
                c["definition"][lg] = definition
        _check_options(path, q, vq, inst0)
    expected = [i for q in meta["questions"] for i in q["items"]]
    found = [i for ids in order.values() for i in ids]
    gone = [i for i in expected if i not in found]
    if gone:
        raise CodebookError(
            f"{path}: item(s) {', '.join(gone)} of the custval codebook are not rows of their "
            "questions in the survey any more (deleted on the platform?); an item is dropped in "
            "the codebook, then the survey is exported again", path=path)
    for cid, ids in order.items():
        cons[cid]["items"] = [items[i] for i in ids]
    clean = _without_pairs(data)
    inst = build(clean, path)
    pairs = meta.get("pairs") or {}
    inst = dataclasses.replace(
        inst, item_defs=tuple(dataclasses.replace(i, pair=pairs.get(i.id)) for i in inst.item_defs),
        perspective=meta.get("perspective"))
    return inst


def _without_pairs(data: dict) -> dict:
    """The codebook without pairs that point outside it (a form's file)."""
    present = {it["id"] for c in data["constructs"] for it in c["items"]}
    out = copy.deepcopy(data)
    for c in out["constructs"]:
        for it in c["items"]:
            if it.get("pair") is not None and it["pair"] not in present:
                del it["pair"]
    return out


def _row_item(q, code, items, platform):
    if platform == "qualtrics":
        return code if code in items else None
    return _resolve(q, code, items)


def _check_options(path, q, vq, inst) -> None:
    """The answer options on the platform must be the codebook's codes for the question's items."""
    scale = inst.item_scale(q["items"][0])
    if q["kind"] != "radio":
        want = (_num_text(scale.min), _num_text(scale.max))
        if tuple(vq.get("bounds") or ()) != want:
            raise CodebookError(
                f"{path}: the number inputs of question {q['code']!r} accept "
                f"{vq.get('bounds')} (min, max), not the codebook's scale {scale}; change the scale "
                "in the codebook and export the survey again", path=path)
        return
    want = [str(c) for c in scale.codes] + [str(int(c)) for c in inst.dont_know_codes
                                            if _dk_option(c)]
    have = [code for code, _ in vq["options"]]
    if have != want:
        raise CodebookError(
            f"{path}: the answer codes of question {q['code']!r} are {have}, not the codebook's "
            f"{want} (scale {scale} and don't-know codes); change the scale in the codebook and "
            "export the survey again", path=path)
    for code, labels in vq["options"]:
        n = int(code)
        if n not in scale.codes:
            continue
        for lg, text in labels.items():
            if lg not in inst.languages:
                continue
            expect = scale.labels.get(lg, {}).get(n, str(n))
            if text != expect:
                raise CodebookError(
                    f"{path}: answer {code} of question {q['code']!r} reads {text!r} in {lg!r}, the "
                    f"codebook's scale label is {expect!r}; scale labels are changed in the codebook",
                    path=path)
