"""Word (.docx) rendering of an :class:`~custval.tables.APATable` (private; needs python-docx).

APA 7 (Publication Manual, sections 7.8-7.14): "Table n" in bold, the title in italic title
case below it, horizontal rules only (top, below the headings and spanners, bottom), no
vertical rules, *Note.* below the table; Times New Roman 12 pt.  Rules are cell borders
(``w:tcBorders``), which Word keeps when the table is copied into another document; the
table's own borders are set to none.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..exceptions import MissingDependencyError

__all__ = ["write_docx"]

_MARK = re.compile(r"(\*\*.+?\*\*|\*.+?\*)")
#: a cell of a number column: digits with optional sign, thousands commas, decimals, "< .001"
_NUMERIC = re.compile(r"^[<>≤≥]?\s?[−+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?[a-z*†]*$")
_WIDTH_IN = 6.5  # text width of a US-letter / A4 page with 1-inch margins


def _docx():
    try:
        import docx
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Inches, Pt
    except ImportError:
        raise MissingDependencyError(
            "APATable.to_docx needs python-docx, which is not installed: pip install python-docx "
            "(or install custval with its 'docx' extra)") from None
    return docx, WD_TABLE_ALIGNMENT, WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, OxmlElement, qn, Inches, Pt


def _runs(paragraph, text: str, *, italic=False, bold=False, minus=lambda t: t):
    """Add ``text`` with its ``*italic*`` / ``**bold**`` markup as runs."""
    for part in _MARK.split(minus(str(text))):
        if not part:
            continue
        it, bd = italic, bold
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            part, bd = part[2:-2], True
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            part, it = part[1:-1], not italic
        run = paragraph.add_run(part)
        run.italic = it or None
        run.bold = bd or None


def _borders(cell, OxmlElement, qn, **sides):
    """Set the cell's borders: side -> True (single 0.5 pt rule) or False (none)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for side in ("top", "left", "bottom", "right"):
        rule = sides.get(side, False)
        el = borders.find(qn(f"w:{side}"))
        if el is None:
            el = OxmlElement(f"w:{side}")
            borders.append(el)
        if rule:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), "4")  # eighths of a point: 0.5 pt
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        else:
            el.set(qn("w:val"), "nil")


def write_docx(table, path: Path, *, minus) -> Path:
    """Write ``table``; ``minus`` puts the minus sign into cell text (the tables module's rule)."""
    _minus = minus
    docx, WD_TABLE_ALIGNMENT, WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, OxmlElement, qn, Inches, Pt = _docx()
    doc = docx.Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for att in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(att), "Times New Roman")
    pf = normal.paragraph_format
    pf.space_before, pf.space_after, pf.line_spacing = Pt(0), Pt(0), 1.0

    if table.number is not None:
        p = doc.add_paragraph()
        _runs(p, table._heading(), bold=True)
        p.paragraph_format.space_after = Pt(12)
    p = doc.add_paragraph()
    _runs(p, table.title, italic=True, minus=_minus)
    p.paragraph_format.space_after = Pt(6)

    cols = [str(c) for c in table.cells.columns]
    rows = list(table._rows())
    n_head = 2 if table.spanners else 1
    t = doc.add_table(rows=n_head + len(rows), cols=1 + len(cols))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    # the table's own borders: none (rules are the cells' borders)
    tbl_pr = t._tbl.tblPr
    tb = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        tb.append(el)
    # schema order of w:tblPr: tblBorders comes before shd, tblLayout, tblCellMar, tblLook
    later = [tbl_pr.find(qn(f"w:{n}")) for n in ("shd", "tblLayout", "tblCellMar", "tblLook")]
    later = [el for el in later if el is not None]
    if later:
        later[0].addprevious(tb)
    else:
        tbl_pr.append(tb)

    # the stub as wide as its longest label (about 0.09 in per character of 12-pt Times),
    # 1 to 2.5 in, leaving at least 0.6 in per column
    longest = max([len(table.stub_label), *(len(lab) + (3 if kind == "member" else 0)
                                            for kind, lab, _ in rows)])
    stub_w = min(2.5, max(1.0, 0.09 * longest + 0.2), max(1.0, _WIDTH_IN - 0.6 * len(cols)))
    col_w = min(1.1, max(0.6, (_WIDTH_IN - stub_w) / max(1, len(cols))))
    widths = [stub_w] + [col_w] * len(cols)
    for j, w in enumerate(widths):  # the grid (fixed layout) and each cell carry the width
        t.columns[j].width = Inches(w)
    numeric = []
    for j in range(len(cols)):
        vals = [values[j].strip() for _, _, values in rows if values[j].strip() not in ("", "—", "–")]
        numeric.append(bool(vals) and all(_NUMERIC.match(v) for v in vals))

    def put(cell, j, text, *, align, italic=False, indent=False, decimal_at=None):
        cell.width = Inches(widths[j])
        par = cell.paragraphs[0]
        if decimal_at is not None:
            par.paragraph_format.tab_stops.add_tab_stop(Inches(decimal_at), WD_TAB_ALIGNMENT.DECIMAL)
            par.alignment = WD_ALIGN_PARAGRAPH.LEFT
        else:
            par.alignment = align
        if indent:
            par.paragraph_format.left_indent = Inches(0.25)
        _runs(par, text, italic=italic, minus=_minus)

    last = len(t.rows) - 1
    # heading rows
    if table.spanners:
        srow = t.rows[0]
        put(srow.cells[0], 0, "", align=WD_ALIGN_PARAGRAPH.LEFT)
        _borders(srow.cells[0], OxmlElement, qn, top=True)
        j = 1
        for label, width in table._spanner_cells():
            cell = srow.cells[j]
            if width > 1:
                cell = cell.merge(srow.cells[j + width - 1])
            put(cell, j, label, align=WD_ALIGN_PARAGRAPH.CENTER)
            _borders(cell, OxmlElement, qn, top=True, bottom=bool(label))
            j += width
    hrow = t.rows[n_head - 1]
    put(hrow.cells[0], 0, table.stub_label, align=WD_ALIGN_PARAGRAPH.LEFT)
    _borders(hrow.cells[0], OxmlElement, qn, top=not table.spanners, bottom=True)
    for j, col in enumerate(cols, 1):
        put(hrow.cells[j], j, col, align=WD_ALIGN_PARAGRAPH.CENTER)
        _borders(hrow.cells[j], OxmlElement, qn, top=not table.spanners, bottom=True)
    for k in range(n_head):  # repeat the heading rows on each page
        tr_pr = t.rows[k]._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        tr_pr.append(el)
    # body
    for i, (kind, label, values) in enumerate(rows):
        row = t.rows[n_head + i]
        at_end = n_head + i == last
        put(row.cells[0], 0, label, align=WD_ALIGN_PARAGRAPH.LEFT, italic=kind == "group",
            indent=kind == "member")
        _borders(row.cells[0], OxmlElement, qn, bottom=at_end)
        for j, v in enumerate(values, 1):
            dec = None
            if numeric[j - 1] and v.strip() not in ("", "—", "–"):
                dec = col_w / 2 + 0.1
            put(row.cells[j], j, v, align=WD_ALIGN_PARAGRAPH.CENTER, decimal_at=dec)
            _borders(row.cells[j], OxmlElement, qn, bottom=at_end)
    if table.notes:
        p = doc.add_paragraph()
        p.paragraph_format.space_before = Pt(6)
        run = p.add_run("Note.")
        run.italic = True
        p.add_run(" ")
        _runs(p, " ".join(table.notes), minus=_minus)
    doc.save(str(path))
    return path
