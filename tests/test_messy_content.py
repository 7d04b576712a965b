"""Content validity from panel files as spreadsheets export them, and the codebook's verdict field.

Files are written as a spreadsheet writes them (UTF-8 BOM, semicolons, CRLF, quoted headers,
an expert id column, a free-text comment column, an empty cell, 'N/A' and a typed 'n.a.') and
read with pandas as a user would.
"""

from __future__ import annotations

import pandas as pd
import pytest

from custval.codebook import load_instrument
from custval.content import content_validity
from custval.exceptions import CodebookError, DataValidationError

PANEL_CSV = (
    '\ufeff"Expert";"cw1";"cw2";"cw3";"cw4";"Comment"\r\n'
    '"Dr. A";4;3;4;2;"cw4 too vague"\r\n'
    '"Dr. B";4;4;;1;\r\n'
    '"Dr. C";3;4;4;N/A;"did not understand cw4"\r\n'
    '"Dr. D";4;2;3;2;\r\n'
    '"Dr. E";4;3;4;1;"ok"\r\n'
    '"Dr. F";3;4;4;3;\r\n'
)


def _write(tmp_path, text, name="panel.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_spreadsheet_panel_export_with_skips_and_na(tmp_path):
    path = _write(tmp_path, PANEL_CSV)
    frame = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    res = content_validity(frame, expert="Expert", items=["cw1", "cw2", "cw3", "cw4"])
    t = res.items
    assert res.experts == ("Dr. A", "Dr. B", "Dr. C", "Dr. D", "Dr. E", "Dr. F")
    # the empty cell (Dr. B, cw3) and 'N/A' (Dr. C, cw4) drop those experts from those items only
    assert t["n_raters"].to_dict() == {"cw1": 6, "cw2": 6, "cw3": 5, "cw4": 5}
    assert t.loc["cw1", "i_cvi"] == 1.0 and t.loc["cw1", "verdict"] == "keep"
    assert t.loc["cw2", "n_relevant"] == 5
    assert t.loc["cw3", "i_cvi"] == 1.0
    assert t.loc["cw4", "n_relevant"] == 1 and t.loc["cw4", "verdict"] == "drop"
    # every rating the file holds is used: 6 experts x 4 items minus the 2 skipped cells
    assert int(t["n_raters"].sum()) == 6 * 4 - 2
    s = res.scales.loc["all"]
    assert s["s_cvi_ave"] == pytest.approx((1 + 5 / 6 + 1 + 1 / 5) / 4)
    assert s["s_cvi_ua"] == pytest.approx(0.5)
    # the raw file is not touched
    assert path.read_bytes() == PANEL_CSV.encode("utf-8")


def test_the_comment_column_is_not_taken_for_an_item(tmp_path):
    frame = pd.read_csv(_write(tmp_path, PANEL_CSV), sep=";", encoding="utf-8-sig")
    with pytest.raises(DataValidationError) as err:
        content_validity(frame, expert="Expert")
    msg = str(err.value)
    assert "'Comment'" in msg and "expert Dr. A: 'cw4 too vague'" in msg


def test_a_typed_text_missing_code_is_an_error_naming_expert_item_and_value(tmp_path):
    text = PANEL_CSV.replace("N/A", "n.a.").replace(";;1;", ";5;1;")
    frame = pd.read_csv(_write(tmp_path, text), sep=";", encoding="utf-8-sig")
    with pytest.raises(DataValidationError) as err:
        content_validity(frame, expert="Expert", items=["cw1", "cw2", "cw3", "cw4"])
    msg = str(err.value)
    assert "item 'cw4': expert Dr. C: 'n.a.'" in msg
    assert "Dr. A" not in msg  # the other cells of cw4 (numbers read as text beside 'n.a.') are not blamed
    assert "item 'cw3': expert Dr. B: 5" in msg
    assert "na_values" in msg  # says how to read a text code as missing
    # read with the code declared missing, the panel is analysed
    frame = pd.read_csv(_write(tmp_path, text.replace(";5;1;", ";;1;"), "ok.csv"), sep=";",
                        encoding="utf-8-sig", na_values=["n.a."])
    assert content_validity(frame, expert="Expert", items=["cw1", "cw2", "cw3", "cw4"]).items.loc[
        "cw4", "n_raters"] == 5


def test_a_duplicated_or_blank_expert_id_is_an_error(tmp_path):
    text = PANEL_CSV.replace('"Dr. F"', '"Dr. A"')
    frame = pd.read_csv(_write(tmp_path, text), sep=";", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match=r"\['Dr. A'\] appear more than once"):
        content_validity(frame, expert="Expert", items=["cw1", "cw2"])
    text = PANEL_CSV.replace('"Dr. D"', '""')
    frame = pd.read_csv(_write(tmp_path, text, "blank.csv"), sep=";", encoding="utf-8-sig")
    with pytest.raises(DataValidationError, match=r"no expert id \(rows \[4\]"):
        content_validity(frame, expert="Expert", items=["cw1", "cw2"])


def test_lawshe_panel_export_with_a_skip(tmp_path):
    # 10 experts; 'ess2' has 9 votes for essential among 10 raters, 'ess3' 8 of 9 after a skip
    rows = ["rater,ess1,ess2,ess3"]
    votes = {"ess1": [1, 1, 1, 1, 1, 1, 1, 1, 2, 3], "ess2": [1] * 9 + [2],
             "ess3": [1] * 8 + [2, None]}
    for i in range(10):
        cells = ["" if votes[k][i] is None else str(votes[k][i]) for k in ("ess1", "ess2", "ess3")]
        rows.append(f"R{i + 1}," + ",".join(cells))
    path = _write(tmp_path, "\n".join(rows) + "\n")
    res = content_validity(pd.read_csv(path), kind="essential", expert="rater")
    t = res.items
    assert t["n_raters"].tolist() == [10, 10, 9]
    assert t["n_critical"].tolist() == [9, 9, 8]  # Ayre & Scally (2014): N = 10 -> 9, N = 9 -> 8
    assert t["verdict"].tolist() == ["drop", "keep", "keep"]
    assert t.loc["ess3", "cvr"] == pytest.approx((8 - 4.5) / 4.5)


CODEBOOK = """\
format: custval-codebook/1
name: pool
version: "0.1"
title: {en: "Item pool"}
citation: "Test pool."
languages: [en]
scale: {min: 1, max: 5}
constructs:
  - id: CW
    label: {en: "Customer wisdom"}
    items:
      - id: cw1
        text: {en: "I share what I learn about the service."}
        content_validity: {kind: relevance, n_raters: 6, i_cvi: 1.0, verdict: keep}
      - id: cw2
        text: {en: "I suggest improvements."}
        content_validity: {verdict: drop}
      - {id: cw3, text: {en: "I know how the service works."}}
"""


def test_the_codebook_carries_the_panels_verdicts(tmp_path):
    path = tmp_path / "pool.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    inst = load_instrument(path)
    items = {iid: inst.item(iid) for iid in inst.items}
    assert dict(items["cw1"].content_validity) == {"kind": "relevance", "n_raters": 6, "i_cvi": 1.0,
                                                   "verdict": "keep"}
    assert dict(items["cw2"].content_validity) == {"verdict": "drop"}
    assert items["cw3"].content_validity is None
    # the result's codebook form is accepted by the schema
    frame = pd.read_csv(_write(tmp_path, PANEL_CSV), sep=";", encoding="utf-8-sig")
    verdicts = content_validity(frame, expert="Expert", items=["cw1", "cw2", "cw3"]).to_codebook()
    block = "".join(
        f"      - id: {k}\n        text: {{en: \"x\"}}\n        content_validity: {{kind: {v['kind']}, "
        f"n_raters: {v['n_raters']}, i_cvi: {v['i_cvi']!r}, verdict: {v['verdict']}}}\n"
        for k, v in verdicts.items())
    path.write_text(CODEBOOK.split("    items:\n")[0] + "    items:\n" + block, encoding="utf-8")
    inst = load_instrument(path)
    loaded = {iid: inst.item(iid).content_validity["verdict"] for iid in inst.items}
    assert loaded == {k: v["verdict"] for k, v in verdicts.items()}


def test_a_wrong_verdict_in_the_codebook_names_key_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CODEBOOK.replace("verdict: drop", "verdict: maybe"), encoding="utf-8")
    with pytest.raises(CodebookError) as err:
        load_instrument(path)
    assert "verdict" in str(err.value)
    assert err.value.line == 17
