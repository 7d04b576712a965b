"""APATable.to_docx: the Word file opened with python-docx (cells, title, rules, alignment).

Item statistics are computed here with pandas from the real mobi data (ECSI mobile-phone
survey); skipped cleanly when python-docx is not installed, except the test of the error
custval raises then.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import custval
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import MissingDependencyError, SpecificationError
from custval.tables import MINUS, apa_table, item_table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def stats():
    mobi = pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")
    ecsi = custval.load_instrument("ecsi")
    rows = []
    for c, items in ecsi.constructs.items():
        if c not in ("IMAG", "CUEX", "CUSL"):
            continue
        total = mobi[list(items)].sum(axis=1)
        for it in items:
            rest = total - mobi[it]
            rows.append({"item": it, "construct": c, "n": int(mobi[it].notna().sum()),
                         "mean": mobi[it].mean(), "sd": mobi[it].std(),
                         "r_drop": np.corrcoef(mobi[it], rest)[0, 1] if len(items) > 1 else np.nan})
    return pd.DataFrame(rows).set_index("item")


def _border(cell, side):
    tc_pr = cell._tc.tcPr
    el = None if tc_pr is None else tc_pr.find(f"{W}tcBorders/{W}{side}")
    return None if el is None else el.get(f"{W}val")


def test_docx_cells_title_note_and_rules(tmp_path, stats):
    docx = pytest.importorskip("docx")
    labels = {"IMAG": "Image", "CUEX": "Expectations", "CUSL": "Loyalty"}
    t = item_table(stats, number=3, construct_labels=labels).with_notes("Data: mobi (*N* = 250).")
    path = t.to_docx(tmp_path / "items.docx")
    doc = docx.Document(path)
    paras = [p for p in doc.paragraphs if p.text]
    assert paras[0].text == "Table 3" and all(r.bold for r in paras[0].runs)
    assert paras[1].text == t.title and all(r.italic for r in paras[1].runs)
    note = paras[-1]
    assert note.runs[0].text == "Note." and note.runs[0].italic
    assert "Data: mobi (N = 250)." in note.text
    assert any(r.text == "N" and r.italic for r in note.runs)  # *N* in italics
    [table] = doc.tables
    grid = [[c.text for c in row.cells] for row in table.rows]
    # header: the stub label and the column headings without markup
    assert grid[0] == ["Item", "n", "M", "SD", "Corrected item–total r"]
    body = grid[1:]
    assert len(body) == len(t.cells)
    for got, (label, row) in zip(body, t.cells.iterrows()):
        assert got == [str(label), *[str(v) for v in row]]  # the cells as the table formats them
    # the numbers are those of the data, formatted (two decimals, no leading zero for r)
    i = [r[0] for r in body].index("CUEX1")
    assert body[i][2] == f"{stats.loc['CUEX1', 'mean']:.2f}"
    assert body[i][4] == f"{stats.loc['CUEX1', 'r_drop']:.2f}".lstrip("0").replace("-", MINUS)
    # rules: above and below the headings, below the last row; nothing else, no vertical rules
    rows = table.rows
    for cell in rows[0].cells:
        assert (_border(cell, "top"), _border(cell, "bottom")) == ("single", "single")
    for row in rows[1:-1]:
        for cell in row.cells:
            assert _border(cell, "top") in (None, "nil") and _border(cell, "bottom") == "nil"
    for cell in rows[-1].cells:
        assert _border(cell, "bottom") == "single"
    for row in rows:
        for cell in row.cells:
            assert _border(cell, "left") == "nil" and _border(cell, "right") == "nil"
    tbl_borders = table._tbl.tblPr.find(f"{W}tblBorders")
    assert {el.get(f"{W}val") for el in tbl_borders} == {"nil"}
    # group rows: the construct in italics, its items indented
    g = [r[0] for r in body].index("Image")
    assert all(r.italic for r in rows[1 + g].cells[0].paragraphs[0].runs)
    item_par = rows[1 + g + 1].cells[0].paragraphs[0]
    assert item_par.paragraph_format.left_indent is not None and item_par.paragraph_format.left_indent > 0
    # numbers aligned on the decimal point; headings repeat on each page
    num_par = rows[1 + g + 1].cells[2].paragraphs[0]
    assert [ts.alignment for ts in num_par.paragraph_format.tab_stops] == [
        docx.enum.text.WD_TAB_ALIGNMENT.DECIMAL]
    assert rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    # Times New Roman 12 pt
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert doc.styles["Normal"].font.size.pt == 12


def test_docx_spanners_and_save(tmp_path):
    docx = pytest.importorskip("docx")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(3, 4)), index=["Model 1", "Model 2", "Model 3"],
                         columns=["b1", "se1", "b2", "se2"])
    t = apa_table(frame, "Two Models", labels={"b1": "*b*", "se1": "*SE*", "b2": "*b* ", "se2": "*SE* "},
                  spanners=[("Wave 1", ["*b*", "*SE*"]), ("Wave 2", ["*b* ", "*SE* "])])
    path = t.save(tmp_path / "sub" / "models.docx")
    table = docx.Document(path).tables[0]
    spanner, heading = table.rows[0], table.rows[1]
    assert [c.text for c in spanner.cells] == ["", "Wave 1", "Wave 1", "Wave 2", "Wave 2"]
    assert _border(spanner.cells[1], "bottom") == "single"  # rule under the spanner
    assert _border(spanner.cells[0], "bottom") == "nil"  # ... not under the stub
    assert _border(spanner.cells[0], "top") == "single"  # the table's top rule
    assert all(_border(c, "bottom") == "single" for c in heading.cells)
    assert all(_border(c, "top") == "nil" for c in heading.cells)
    values = [c.text for c in table.rows[2].cells[1:]]
    assert values == [str(v) for v in t.cells.iloc[0]]
    assert any(v.startswith(MINUS) for row in table.rows[2:] for v in (c.text for c in row.cells))
    with pytest.raises(SpecificationError, match="writes a .docx"):
        t.to_docx(tmp_path / "models.doc")


def test_missing_python_docx_is_a_custval_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "docx", None)  # import docx -> ImportError
    t = apa_table(pd.DataFrame({"x": [1.5]}, index=["a"]), "One")
    with pytest.raises(MissingDependencyError, match="pip install python-docx"):
        t.to_docx(tmp_path / "one.docx")
    assert not (tmp_path / "one.docx").exists()
