"""Printable questionnaires and data-entry templates from an instrument codebook.

* :func:`make_questionnaire` — a self-contained, printable HTML questionnaire of one form
  (provider or customer) in one language (``en``/``fi``), answer boxes for the scale
  points of each item's own scale (a new table header where the scale changes) and the
  "don't know" option;
* :func:`data_entry_template` — an ``.xlsx`` workbook (sheet ``data`` with the column
  header and input validation, sheet ``codebook`` with the items and codes) and a
  ``.csv`` file with the same header, which :func:`custval.read_survey` reads back
  with the same columns;
* :func:`export_survey` — the instrument as a LimeSurvey ``.lss`` or Qualtrics ``.qsf``
  survey file, whose response exports :func:`custval.read_survey` reads without a
  column mapping, and which :func:`custval.load_instrument` reads back as the same
  instrument.

Column order of the templates: ``respondent_id, firm, role, account`` and then the
form's items in codebook order.  Codes: the scale points, and the "don't know"
code(s) of the codebook (8 in the CWI), which ``read_survey`` counts as missing.
"""

from __future__ import annotations

import csv
import html
from pathlib import Path

from .exceptions import SpecificationError

__all__ = ["META_COLUMNS", "data_entry_template", "export_survey", "make_questionnaire"]

#: Identification columns written before the items.
META_COLUMNS = ("respondent_id", "firm", "role", "account")

_TEXT = {
    "en": {
        "instructions": "Please indicate how much you agree with each statement. Mark one box per row. "
                        "If you cannot judge a statement, mark \u201c{dk}\u201d.",
        "ident": "Respondent", "firm": "Firm", "role": "Role", "account": "Customer account",
        "statement": "Statement", "section": "Part",
    },
    "fi": {
        "instructions": "Arvioi, missä määrin olet samaa mieltä kunkin väittämän kanssa. Merkitse yksi "
                        "ruutu kullekin riville. Jos et osaa arvioida väittämää, merkitse \u201c{dk}\u201d.",
        "ident": "Vastaaja", "firm": "Yritys", "role": "Rooli", "account": "Asiakkuus",
        "statement": "Väittämä", "section": "Osa",
    },
}

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; margin: 1.5cm; color: #111; }
h1 { font-size: 15pt; margin-bottom: 0.1em; }
h2 { font-size: 11.5pt; margin: 1.2em 0 0.3em; page-break-after: avoid; }
p.form { margin-top: 0; color: #444; }
table.ident td { padding: 0.2em 0.6em 0.2em 0; }
table.ident td.line { border-bottom: 1px solid #888; width: 12em; }
table.items { border-collapse: collapse; width: 100%; page-break-inside: auto; }
table.items th { font-size: 8pt; font-weight: normal; vertical-align: bottom; padding: 0.2em; }
table.items td { border-top: 1px solid #ccc; padding: 0.35em 0.2em; vertical-align: middle; }
table.items tr { page-break-inside: avoid; }
td.num { width: 2em; color: #555; }
td.box { width: 3.2em; text-align: center; }
td.box span { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #333; }
td.id { font-size: 7pt; color: #888; width: 5em; }
th.dk, td.dk { border-left: 1px solid #999; }
@media print { body { margin: 0; } }
"""


def _lang_text(mapping, lang: str, what: str) -> str:
    if mapping is None or lang not in mapping:
        raise SpecificationError(f"{what} has no {lang!r} text")
    return mapping[lang]


def _form(instrument, form: str):
    from ._sem.spec import as_instrument

    instrument = as_instrument(instrument)
    if form is None:
        return instrument
    if instrument.perspective == form:
        return instrument
    return instrument.form(form)


def make_questionnaire(instrument, *, form: str | None = "provider", lang: str = "en", path=None,
                  show_constructs: bool = False, show_item_ids: bool = True) -> str:
    """A printable HTML questionnaire of one form of an instrument.

    Parameters
    ----------
    instrument : Instrument, str or Path
        The codebook (e.g. ``load_instrument("cwi")``).
    form : {"provider", "customer"} or None
        The form (``None`` for an instrument without forms).
    lang : str
        A language of the codebook (``"en"``, ``"fi"``).
    path : str or Path, optional
        Also write the HTML there (UTF-8).
    show_constructs : bool, default False
        Head each part with the construct label (off by default: construct names can
        steer answers); parts are numbered either way.
    show_item_ids : bool, default True
        Print the item id in small type for data entry.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    SpecificationError
        ``lang`` is not a language of the instrument.

    See Also
    --------
    custval.questionnaire.data_entry_template : Data-entry templates for the same form.

    Examples
    --------
    >>> from custval import load_instrument
    >>> from custval.questionnaire import make_questionnaire
    >>> doc = make_questionnaire(load_instrument("cwi"), form="customer", lang="fi")
    >>> "Tämä toimittaja ymmärtää päivittäiset liiketoimintaprosessimme." in doc
    True
    >>> doc.count('<tr class="item"')
    29
    >>> # In R: no equivalent (e.g. a hand-made R Markdown form)
    """
    inst = _form(instrument, form)
    if lang not in inst.languages:
        raise SpecificationError(f"lang {lang!r} is not a language of {inst.name!r}; languages: "
                                 f"{', '.join(inst.languages)}")
    t = _TEXT.get(lang, _TEXT["en"])
    dk_labels = inst.dont_know_labels.get(lang, ()) if inst.dont_know_labels else ()
    dk_codes = list(inst.dont_know_codes)
    dk = dk_labels[0] if dk_labels else ""
    title = inst.title(lang)
    form_label = ""
    if form is not None and form in inst.forms:
        form_label = _lang_text(inst.forms[form].get("label"), lang, f"form {form!r}")
    e = html.escape

    def head_of(iid):
        """Header cells of the item's own scale: every code, with its label when there is one."""
        labels = inst.scale_labels(lang, item=iid)
        cells = "".join(f'<th class="box">{c}<br>{e(labels.get(c, ""))}</th>'
                        for c in inst.item_scale(iid).codes)
        if dk_codes:
            cells += f'<th class="box dk">{e(dk)}</th>'
        return cells

    def table(rows, head):
        return (f"<table class=\"items\"><thead><tr><th></th>"
                f"<th>{e(t['statement'])}</th>{head}{'<th></th>' if show_item_ids else ''}</tr></thead>"
                f"<tbody>\n" + "\n".join(rows) + "\n</tbody></table>")

    parts = []
    k = 0
    for s, (cid, items) in enumerate(inst.constructs.items(), start=1):
        heading = f"{t['section']} {s}"
        if show_constructs:
            heading += f": {e(_lang_text(inst.construct(cid).label, lang, f'construct {cid}'))}"
        tables, rows, head = [], [], None
        for iid in items:
            k += 1
            item_head = head_of(iid)
            if rows and item_head != head:  # the scale changes: a new table with its own header
                tables.append(table(rows, head))
                rows = []
            head = item_head
            text = _lang_text(inst.item(iid).text, lang, f"item {iid}")
            boxes = "".join('<td class="box"><span></span></td>' for _ in inst.item_scale(iid).codes)
            if dk_codes:
                boxes += '<td class="box dk"><span></span></td>'
            idcell = f'<td class="id">{e(iid)}</td>' if show_item_ids else ""
            rows.append(f'<tr class="item" data-item="{e(iid)}"><td class="num">{k}.</td><td>{e(text)}</td>'
                        f"{boxes}{idcell}</tr>")
        tables.append(table(rows, head))
        parts.append(f"<h2>{heading}</h2>\n" + "\n".join(tables))
    ident = "".join(f"<tr><td>{e(t[key])}</td><td class=\"line\"></td></tr>"
                    for key in ("ident", "firm", "role", "account"))
    doc = (f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">'
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>\n"
           f"<h1>{e(title)}</h1>\n<p class=\"form\">{e(form_label)} \u00b7 {e(inst.name)} "
           f"{e(str(inst.version))}</p>\n<table class=\"ident\">{ident}</table>\n"
           f"<p>{e(t['instructions'].format(dk=dk))}</p>\n" + "\n".join(parts) + "\n</body></html>\n")
    if path is not None:
        Path(path).write_text(doc, encoding="utf-8")
    return doc


def _runs(letters: list[str]) -> list[tuple[str, str]]:
    """Consecutive column letters as (first, last) ranges: E, F, G, J -> (E, G), (J, J)."""
    from openpyxl.utils import column_index_from_string

    runs: list[list[str]] = []
    for c in letters:
        if runs and column_index_from_string(c) == column_index_from_string(runs[-1][1]) + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return [(a, b) for a, b in runs]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _append_text_row(ws, values) -> None:
    """Append a row; text is stored as text, never as a formula.

    openpyxl writes a string that starts with ``=`` as a live formula; a wording
    such as ``=HYPERLINK(...)`` or ``+1 for service`` must stay the text it is.
    Such cells get the string type and Excel's quote prefix (shown and edited as
    text); the stored text is unchanged.
    """
    ws.append([None if isinstance(v, str) and v.startswith(_FORMULA_START) else v for v in values])
    row = ws.max_row
    for j, v in enumerate(values, start=1):
        if isinstance(v, str) and v.startswith(_FORMULA_START):
            cell = ws.cell(row=row, column=j)
            cell._value = v  # bypass openpyxl's "starts with = -> formula" rule
            cell.data_type = "s"
            cell.quotePrefix = True


def data_entry_template(instrument, *, form: str | None, path, lang: str = "en") -> tuple[Path, Path]:
    """Write ``.xlsx`` and ``.csv`` data-entry templates for one form.

    Both have the header ``respondent_id, firm, role, account, <items>``; the
    workbook's ``data`` sheet (the first, which :func:`custval.read_survey` reads)
    restricts each item's cells to the whole numbers of the item's own scale and the
    "don't know" code(s) and freezes the header; its ``codebook`` sheet lists item id,
    construct, wording (in ``lang``), reverse keying and the codes.  Text that starts
    with ``=``, ``+``, ``-`` or ``@`` (a wording, a citation) is stored as text, never
    as a live formula.

    Parameters
    ----------
    instrument : Instrument, str or Path
        The instrument, the name of a shipped instrument or the path of a codebook.
    form : {"provider", "customer"} or None
        The form whose items the template holds; ``None`` uses the instrument as given.
    path : str or Path
        Base name: ``path.xlsx`` and ``path.csv`` are written (a given suffix is replaced).
    lang : str, default "en"
        Language of the wordings on the ``codebook`` sheet.

    Returns
    -------
    (Path, Path)
        The workbook and the CSV file.

    Raises
    ------
    SpecificationError
        An item id clashes with an identification column, or an item has no ``lang`` text.

    See Also
    --------
    custval.questionnaire.make_questionnaire : The printable questionnaire.
    custval.ingest.read_survey : Read the filled-in template.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from custval import load_instrument, read_survey
    >>> from custval.questionnaire import data_entry_template
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> xlsx, csv_path = data_entry_template(load_instrument("cwi"), form="provider", path=d / "cwi_provider")
    >>> xlsx.name, csv_path.name
    ('cwi_provider.xlsx', 'cwi_provider.csv')
    >>> csv_path.read_text(encoding="utf-8").split(",")[:6]
    ['respondent_id', 'firm', 'role', 'account', 'CPROC_P1', 'CPROC_P2']
    >>> # In R: write.csv(setNames(data.frame(matrix(ncol = k, nrow = 0)), cols), "template.csv")
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    inst = _form(instrument, form)
    items = list(inst.items)
    clash = [c for c in META_COLUMNS if c in items]
    if clash:
        raise SpecificationError(f"item ids {clash} clash with the template's identification columns")
    header = [*META_COLUMNS, *items]
    base = Path(path)
    base = base.with_suffix("") if base.suffix.lower() in (".xlsx", ".csv") else base
    xlsx, csv_path = base.with_name(base.name + ".xlsx"), base.with_name(base.name + ".csv")
    dk_codes = [int(c) for c in inst.dont_know_codes]

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(header)
    ws.freeze_panes = "B2"
    # one input rule per scale: each item column allows its own scale's codes
    by_codes: dict[tuple, list[str]] = {}
    for j, iid in enumerate(items, start=len(META_COLUMNS) + 1):
        codes = (*inst.item_scale(iid).codes, *dk_codes)
        by_codes.setdefault(codes, []).append(get_column_letter(j))
    for codes, letters in by_codes.items():
        listed = ",".join(str(c) for c in codes)
        dv = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True,
                            showErrorMessage=True, errorTitle="Code",
                            error=f"Allowed codes: {', '.join(str(c) for c in codes)} (blank = not answered)")
        ws.add_data_validation(dv)
        for first, last in _runs(letters):
            dv.add(f"{first}2:{last}2000")
    cb = wb.create_sheet("codebook")
    cb.append(["item", "construct", "text", "reverse", "codes"])
    dk = inst.dont_know_labels.get(lang, ()) if inst.dont_know_labels else ()
    dk_txt = "; ".join(f"{int(c)} = {dk[0] if dk else 'dont know'}" for c in inst.dont_know_codes)
    for iid in items:
        it = inst.item(iid)
        sc = inst.item_scale(iid)
        labels = inst.scale_labels(lang, item=iid)
        scale = "; ".join(f"{c} = {labels[c]}" if c in labels else str(c) for c in sc.codes)
        _append_text_row(cb, [iid, it.construct, it.text.get(lang, ""), bool(it.reverse),
                              scale + (f"; {dk_txt}" if dk_txt else "")])
    cb.append([])
    _append_text_row(cb, [f"{inst.name} {inst.version}", inst.citation])
    wb.save(xlsx)
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(header)
    return xlsx, csv_path


_SUFFIX = {"limesurvey": ".lss", "qualtrics": ".qsf"}


def export_survey(instrument, path, *, platform: str = "limesurvey", form: str | None = None,
                  lang: str = "en", attention_checks=None, overwrite: bool = False) -> Path:
    """Write the instrument as a LimeSurvey ``.lss`` or a Qualtrics ``.qsf`` survey file.

    One question group (LimeSurvey) or block (Qualtrics) per construct, titled by its
    label (LimeSurvey shows the definition as the group description); the items are the
    rows of an array / matrix question per construct with the scale's codes as answer
    options, labelled in every language of the codebook (``lang`` is the base language),
    and the "don't know" option.  Scales wider than 11 points without labels (0-100) are
    number inputs with the scale's bounds.  The question codes are chosen so that the
    platform's response export maps to the item ids by itself: LimeSurvey's heading
    ``CPROC[P1]`` is read by :func:`custval.read_survey` as item ``CPROC_P1`` (``A[1]`` as
    ``A1``), and the Qualtrics columns are the item ids (``ChoiceDataExportTags``) with
    the codes as values (``RecodeValues``).  What the platforms have no place for (reverse
    keys, pairs, forms, scales per construct, missing codes, variables, citation) is kept
    as JSON in a hidden question (``custvalmeta``) that respondents never see, so that
    :func:`custval.load_instrument` reads the file back as the same instrument.

    Parameters
    ----------
    instrument : Instrument, str or Path
        The instrument, the name of a shipped instrument or the path of a codebook.
    path : str or Path
        The file to write (``.lss`` for LimeSurvey, ``.qsf`` for Qualtrics).
    platform : {"limesurvey", "qualtrics"}
        The survey platform.
    form : {"provider", "customer"} or None
        Write only the items of this form; ``None`` writes the instrument as given (all
        its items).
    lang : str
        The survey's base language (a language of the codebook); the others are its
        translations.
    attention_checks : sequence of mapping, optional
        Instructed-response items, each ``{"id": "ATT1", "text": str or {lang: str},
        "answer": code, "after": construct id}`` ("after" defaults to the middle
        construct).  Each is a question of its own after that construct's items, whose
        export column is its ``id``; compare it with ``answer`` to screen respondents.
        They are not items of the instrument.  ``None``: no attention checks.
    overwrite : bool
        Replace an existing file; by default an existing file is an error.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    SpecificationError
        An unknown platform or language, a suffix that does not match the platform, an
        existing file without ``overwrite=True``, an item id that LimeSurvey cannot hold
        as a question code, or a malformed attention check.

    See Also
    --------
    custval.codebook.load_instrument : Reads the file back (``load_instrument("x.lss")``).
    custval.ingest.read_survey : Reads the platform's response export.
    custval.questionnaire.make_questionnaire : A printable questionnaire instead.

    Examples
    --------
    >>> import tempfile, pathlib, custval
    >>> cwi = custval.load_instrument("cwi")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cwi_customer.lss"
    >>> custval.export_survey(cwi, out, platform="limesurvey", form="customer", lang="fi").name
    'cwi_customer.lss'
    >>> custval.load_instrument(out) == cwi.form("customer")
    True
    >>> qsf = out.with_suffix(".qsf")
    >>> custval.export_survey("bfi", qsf, platform="qualtrics",
    ...                       attention_checks=[{"id": "ATT1", "answer": 2,
    ...                                          "text": {"en": "Choose 'Moderately Inaccurate'.",
    ...                                                   "fi": "Valitse 'Kuvaa minua melko huonosti'."}}]).suffix
    '.qsf'
    >>> custval.load_instrument(qsf) == custval.load_instrument("bfi")
    True
    >>> # In R: no equivalent (limer and qualtRics read responses, they do not write surveys)
    """
    from ._io import survey_platforms as sp

    if platform not in _SUFFIX:
        raise SpecificationError(f"platform={platform!r}: allowed are 'limesurvey' (.lss) and "
                                 "'qualtrics' (.qsf)")
    path = Path(path)
    if path.suffix.lower() != _SUFFIX[platform]:
        raise SpecificationError(f"{path}: a {platform} survey file ends in {_SUFFIX[platform]!r}, "
                                 f"not {path.suffix!r}")
    if path.exists() and not overwrite:
        raise SpecificationError(f"{path} exists; pass overwrite=True to replace it")
    inst = _form(instrument, form)
    writer = sp.write_lss if platform == "limesurvey" else sp.write_qsf
    writer(inst, path, lang=lang, attention_checks=attention_checks, form=form)
    return path
