"""Messy codebooks and what they declare: mixed response scales, non-item variables, misspelt item
ids, unquoted versions, YAML alias bombs and deep nesting, formula-looking text in templates and
HTML in Markdown tables.

The data are excerpts of two real files (see /work/shared/datasets/*/PROVENANCE.md):
privacy_tracker (Lancelot-Miltgen et al., 2016; cSEM's ``LancelotMiltgenetal2016``: privacy
concern items 1-5, trust / risk / intention items 1-7) and corp_rep2 (seminr's
``corp_rep_data2``: the global quality rating, asked on 1-7, holds 8s and a 10).  They are written
to tmp_path the way exports look (BOM, CRLF, quoted header).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
import custval.plots
from custval import CodebookError, DataValidationError, Instrument, load_instrument, read_survey
from custval.exceptions import ItemKeyingWarning, SpecificationError
from custval.ingest import validate_frame
from custval.items import item_analysis
from custval.questionnaire import data_entry_template, make_questionnaire
from custval.scoring import key_codes
from custval.screening import screen

SHARED = Path("/work/shared/datasets")

# first 20 rows of privacy_tracker.csv (R write.csv)
PRIVACY_CSV = """\
"privcon1","privcon2","privcon3","privcon4","trust1","trust2","risk1","risk2","risk3","intent1","intent2"
5,5,3,5,1,1,7,7,7,1,1
5,5,3,5,1,2,7,4,6,1,1
5,5,5,5,1,1,7,7,7,1,1
5,5,5,5,1,1,2,7,7,1,1
5,5,5,5,1,1,7,7,7,1,1
4,3,3,5,4,3,7,4,7,1,1
4,5,4,5,4,4,3,4,6,1,1
5,5,3,5,2,2,2,4,2,1,1
5,5,3,5,1,1,7,7,7,1,1
4,4,4,4,4,4,5,5,4,2,2
4,4,3,3,2,2,4,1,5,1,2
4,4,4,4,1,1,7,7,7,1,1
1,1,2,2,3,3,6,6,6,1,1
5,5,5,5,3,3,7,7,7,1,1
4,4,4,4,7,4,5,5,4,5,2
4,5,3,4,4,4,6,7,7,1,1
5,5,5,5,3,3,6,7,7,1,1
4,5,4,5,7,7,4,2,1,3,3
3,5,3,5,1,1,7,7,7,1,1
3,2,4,5,3,1,4,1,5,1,1
"""

PRIVACY_YAML = """\
# Codebook of the privacy-tracker survey (Lancelot-Miltgen et al., 2016).
# Concern was asked on a 5-point scale, everything else on 7 points.
format: custval-codebook/1
name: privacy_tracker
version: 1.0          # unquoted on purpose: YAML reads a number
title: "Privacy concerns and the adoption of a location tracker"
citation: >-
  Lancelot-Miltgen, C., Henseler, J., Gelhard, C., & Popovic, A. (2016). Introducing new products
  that affect consumer privacy: A mediation model. Journal of Business Research, 69(10), 4659-4666.
languages: [en]
scale:
  min: 1
  max: 7
  labels:
    en: {1: "Strongly disagree", 4: "Neutral", 7: "Strongly agree"}
missing:
  codes: [-99]
constructs:
  - id: PrCon
    label: "Privacy concerns"
    scale:
      min: 1
      max: 5
      labels:
        en: {1: "Not at all concerned", 5: "Extremely concerned"}
    items:
      - {id: privcon1, text: "I am concerned that the tracker collects too much information about me."}
      - {id: privcon2, text: "I am concerned that my location could be shared with others."}
      - {id: privcon3, text: "I am concerned about who might access my data."}
      - {id: privcon4, text: "I do not worry about the privacy of my location.", reverse: true}
  - id: Trust
    label: "Trust"
    items:
      - {id: trust1, text: "The provider of the tracker is trustworthy."}
      - {id: trust2, text: "I doubt the provider keeps its promises.", reverse: true}
  - id: Risk
    label: "Perceived risk"
    items:
      - {id: risk1, text: "Using the tracker is risky."}
      - {id: risk2, text: "Using the tracker could harm me."}
      - id: risk3
        text: "Overall, using the tracker is: (0 = no risk, 10 = extreme risk)"
        scale: {min: 0, max: 10}
  - id: Int
    label: "Adoption intention"
    items:
      - {id: intent1, text: "I intend to use the tracker."}
      - {id: intent2, text: "I would buy the tracker."}
"""

# corp_rep2.csv, rows 329-346 (file lines 330-347), columns servicetype, serviceprovider, cusa,
# cusl_1-3 and qual_global
CORP2_CSV = """\
"servicetype","serviceprovider","cusa","cusl_1","cusl_2","cusl_3","qual_global"
2,1,5,5,5,5,7
2,1,7,7,7,7,7
2,2,6,5,6,6,7
2,1,6,5,6,6,8
2,2,6,6,6,5,7
2,1,4,6,4,5,5
1,4,4,3,3,3,6
2,2,5,5,3,3,10
2,1,5,4,5,4,5
2,1,7,6,6,6,8
2,1,7,4,4,4,8
2,1,3,3,2,2,4
2,4,5,5,6,4,7
1,1,5,4,4,5,8
1,1,4,5,4,4,8
2,3,4,3,4,5,6
2,1,5,6,6,6,8
2,2,3,4,3,4,7
"""

CORP2_YAML = """\
format: custval-codebook/1
name: corp_rep2
version: "1.0"
title: "Corporate reputation, second sample (loyalty block)"
citation: "Sarstedt, M., Hair, J. F., Cheah, J.-H., Becker, J.-M., & Ringle, C. M. (2019). How to specify, estimate, and validate higher-order constructs in PLS-SEM. Australasian Marketing Journal, 27(3), 197-211."
languages: [en]
scale: {min: 1, max: 7}
missing: {codes: [-99]}
constructs:
  - id: CUSL
    label: "Customer loyalty"
    items:
      - {id: cusl_1, text: "I would recommend 'the company' to friends and relatives."}
      - {id: cusl_2, text: "If I had to choose again, I would choose 'the company'."}
      - {id: cusl_3, text: "I will remain a customer of 'the company' in the future."}
variables:
  servicetype:
    type: categorical
    label: "Type of contract"
    categories: {1: postpaid, 2: prepaid}
  serviceprovider: {type: categorical, categories: [1, 2, 3, 4]}
  cusa: {type: integer, min: 1, max: 7, missing: [-99]}
  qual_global:
    type: integer
    min: 1
    max: 7
    missing: [-99]
    label: "Please assess the general quality of 'the company'."
"""


def _export(path: Path, text: str, *, bom: bool = True, crlf: bool = True) -> Path:
    """Write text the way Excel's 'CSV UTF-8' export does (BOM, CRLF)."""
    data = text.replace("\n", "\r\n") if crlf else text
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def _codebook(tmp_path: Path, text: str, name: str = "codebook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, fragment: str) -> int:
    """1-based line number of the first line holding ``fragment``."""
    for k, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return k
    raise AssertionError(fragment)


@pytest.fixture
def privacy(tmp_path):
    return load_instrument(_codebook(tmp_path, PRIVACY_YAML))


# --------------------------------------------------------------------------- mixed scales
def test_item_scale_resolves_inheritance(privacy):
    # construct scale for its items, item scale over the construct's, top level for the rest
    assert (privacy.item("privcon2").scale.min, privacy.item("privcon2").scale.max) == (1, 5)
    assert (privacy.item("risk3").scale.min, privacy.item("risk3").scale.max) == (0, 10)
    assert (privacy.item("risk1").scale.min, privacy.item("risk1").scale.max) == (1, 7)
    assert privacy.construct("PrCon").scale.max == 5 and privacy.construct("Risk").scale.max == 7
    assert privacy.item_scale("trust1") == privacy.scale
    # labels go with the scale they were declared for
    assert privacy.scale_labels(item="privcon1") == {1: "Not at all concerned", 5: "Extremely concerned"}
    assert privacy.scale_labels(item="trust1") == privacy.scale_labels()
    assert privacy.scale_labels(item="risk3") == {}  # its own 0-10 scale declares no labels
    assert privacy.mixed_scales
    frame = privacy.to_frame().set_index("item")
    for iid in privacy.items:
        sc = privacy.item_scale(iid)
        assert (frame.loc[iid, "scale_min"], frame.loc[iid, "scale_max"]) == (sc.min, sc.max)
    assert "scales 1..5 (4 items), 1..7 (6 items), 0..10 (1 item)" in repr(privacy)
    # the top-level scale is still the default (existing API)
    assert (privacy.scale_min, privacy.scale_max) == (1, 7)


def test_read_survey_checks_each_item_against_its_own_scale(tmp_path, privacy):
    # a 6 and a 7 typed into 5-point concern items: wrong, although 6 and 7 are fine on 1-7
    lines = PRIVACY_CSV.splitlines()
    bad = {3: (1, "6"), 8: (3, "7")}  # file line -> (column, value)
    for ln, (col, value) in bad.items():
        cells = lines[ln - 1].split(",")
        cells[col] = value
        lines[ln - 1] = ",".join(cells)
    path = _export(tmp_path / "privacy_export.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as info:
        read_survey(path, privacy)
    probs = {p["column"]: p for p in info.value.problems}
    assert set(probs) == {"privcon2", "privcon4"}
    assert probs["privcon2"]["rows"] == [3] and probs["privcon2"]["values"] == [6]
    assert probs["privcon4"]["rows"] == [8] and probs["privcon4"]["values"] == [7]
    assert "1..5" in probs["privcon2"]["allowed"]
    assert "column 'privcon2'" in str(info.value) and "codes 1..5" in str(info.value)
    # the same values in a 1-7 trust column are answers
    ok = _export(tmp_path / "ok.csv", PRIVACY_CSV)
    df = read_survey(ok, privacy)
    assert len(df) == len(PRIVACY_CSV.splitlines()) - 1
    assert df["trust1"].max() == 7 and df["privcon1"].max() == 5


def test_labels_map_through_the_items_own_scale(tmp_path, privacy):
    sub = privacy_subset(privacy, ["privcon1", "trust1", "intent1"])
    text = ('"privcon1","trust1","intent1"\n'
            '"Extremely concerned","Strongly agree","Neutral"\n'
            '"Not at all concerned","1","7"\n')
    df = read_survey(_export(tmp_path / "labels.csv", text), sub)
    assert df["privcon1"].tolist() == [5.0, 1.0]  # "Extremely concerned" is 5 on the 1-5 scale
    assert df["trust1"].tolist() == [7.0, 1.0]  # "Strongly agree" is 7 on the 1-7 scale
    assert df["intent1"].tolist() == [4.0, 7.0]
    # a 7-point label in a 5-point column is no answer of that item
    bad = _export(tmp_path / "bad_labels.csv", '"privcon1","trust1","intent1"\n"Strongly agree",1,1\n')
    with pytest.raises(DataValidationError) as info:
        read_survey(bad, sub)
    assert [(p["rule"], p["column"]) for p in info.value.problems] == [("unmapped", "privcon1")]


def privacy_subset(inst: Instrument, items: list[str]) -> Instrument:
    """The instrument restricted to some items (as a form is), keeping their scales."""
    import dataclasses

    keep = [i for i in inst.item_defs if i.id in items]
    cons = tuple(dataclasses.replace(c, items=tuple(i for i in c.items if i in items))
                 for c in inst.construct_defs if any(i in items for i in c.items))
    return dataclasses.replace(inst, item_defs=tuple(keep), construct_defs=cons)


def test_keying_uses_the_items_own_scale(tmp_path, privacy):
    df = read_survey(_export(tmp_path / "p.csv", PRIVACY_CSV), privacy)
    keyed = privacy.keyed(df)
    # privcon4 is reversed on 1..5 (6 - x), trust2 on 1..7 (8 - x): never 7 - x or 3..7
    assert np.array_equal(keyed["privcon4"], 6 - df["privcon4"])
    assert np.array_equal(keyed["trust2"], 8 - df["trust2"])
    assert keyed["privcon4"].between(1, 5).all()
    assert np.array_equal(keyed["privcon1"], df["privcon1"])
    # the array form used by the CFA / PLS / gap code gives the same numbers
    items = list(privacy.items)
    arr = key_codes(df[items].to_numpy(dtype=float), privacy, items=items)
    assert np.array_equal(arr, keyed[items].to_numpy(dtype=float))
    # keying twice gives the data back
    assert privacy.keyed(keyed).equals(df)
    # scores: the psych call names one min / max per item
    res = privacy.score(df, constructs=["PrCon", "Trust"])
    assert "min = c(1, 1, 1, 1, 1, 1)" in res.r_call and "max = c(5, 5, 5, 5, 7, 7)" in res.r_call
    expect = keyed[["privcon1", "privcon2", "privcon3", "privcon4"]].mean(axis=1)
    assert np.allclose(res.scores["PrCon"], expect)


def test_keyed_refuses_a_value_outside_the_items_own_scale(privacy):
    df = pd.DataFrame({"privcon1": [5, 6], "trust1": [7, 7]}, index=["r1", "r2"])
    with pytest.raises(DataValidationError) as info:
        privacy.keyed(df)
    (p,) = info.value.problems
    assert p["column"] == "privcon1" and p["rows"] == ["r2"] and p["values"] == [6]
    assert p["allowed"].startswith("1..5")


def test_floor_ceiling_and_screening_use_the_items_own_scale(tmp_path, privacy):
    df = read_survey(_export(tmp_path / "p.csv", PRIVACY_CSV), privacy)
    with pytest.warns(ItemKeyingWarning) as rec:  # the reverse declarations are made up for the test
        ia = item_analysis(df, privacy)
    assert any("privcon4 is declared reverse-keyed" in str(w.message) for w in rec)
    keyed = privacy.keyed(df)
    for iid in privacy.items:
        sc = privacy.item_scale(iid)
        col = keyed[iid].dropna()
        assert ia.loc[iid, "pct_ceiling"] == pytest.approx(100 * (col == sc.max).mean())
        assert ia.loc[iid, "pct_floor"] == pytest.approx(100 * (col == sc.min).mean())
    assert ia.loc["privcon1", "pct_ceiling"] > 0  # 5 is the top of the concern scale
    # longstring: a run of 5s across privcon4 (1-5) and trust1 (1-7) is not one run
    row = pd.DataFrame([[5, 5, 5, 5, 5, 5, 3, 4, 5, 2, 1]], columns=list(privacy.items))
    data = pd.concat([df, row], ignore_index=True)
    res = screen(data, privacy)
    assert res.flags["longstring"].iloc[-1] == 4
    # straight-lining on raw answers is unchanged within one construct
    assert bool(res.flags["straight_PrCon"].iloc[0]) is False
    assert bool(res.flags["straight_PrCon"].iloc[2]) is True


def test_questionnaire_and_template_follow_each_items_scale(tmp_path, privacy):
    doc = make_questionnaire(privacy, form=None)
    rows = re.findall(r'<tr class="item" data-item="([^"]+)">(.*?)</tr>', doc)
    boxes = {iid: body.count('class="box"') for iid, body in rows}
    for iid in privacy.items:
        assert boxes[iid] == len(privacy.item_scale(iid).codes)
    assert "Extremely concerned" in doc and "Strongly agree" in doc
    xlsx, _ = data_entry_template(privacy, form=None, path=tmp_path / "privacy_template")
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    header = [c.value for c in wb["data"][1]]
    allowed = {}
    for dv in wb["data"].data_validations.dataValidation:
        codes = dv.formula1.strip('"').split(",")
        for rng in str(dv.sqref).split():
            first, last = re.findall(r"[A-Z]+", rng)
            from openpyxl.utils import column_index_from_string as ci

            for j in range(ci(first), ci(last) + 1):
                allowed[header[j - 1]] = [int(c) for c in codes]
    for iid in privacy.items:
        assert allowed[iid] == list(privacy.item_scale(iid).codes)


def test_likert_plot_uses_the_constructs_own_scale(tmp_path, privacy):
    import matplotlib

    matplotlib.use("Agg")
    from custval.plots import _resolve_items

    df = read_survey(_export(tmp_path / "p.csv", PRIVACY_CSV), privacy)
    items, scale, labels, *_ = _resolve_items(privacy, "PrCon", None, None, "en")
    assert scale == (1, 5) and labels == privacy.scale_labels(item="privcon1")
    with pytest.raises(SpecificationError, match=r"different scales \(0\.\.10, 1\.\.5, 1\.\.7\)"):
        custval.plots.likert_bars(df, privacy)


def test_codebook_errors_in_an_own_scale_name_key_and_line(tmp_path):
    text = PRIVACY_YAML.replace("      min: 1\n      max: 5\n", "      min: 5\n      max: 1\n")
    with pytest.raises(CodebookError) as info:
        load_instrument(_codebook(tmp_path, text))
    err = info.value
    assert err.key == "constructs[0].scale.max"
    assert err.line == _line_of(text, "      max: 1")
    assert "scale of construct 'PrCon' max (1) must be greater than min (5)" in str(err)
    # a missing code that is a valid answer of one item's own scale
    text = PRIVACY_YAML.replace("codes: [-99]", "codes: [9]")
    with pytest.raises(CodebookError, match=r"missing code 9 lies inside the scale of item 'risk3' 0\.\.10"):
        load_instrument(_codebook(tmp_path, text, "c2.yaml"))
    # a label outside the item's own scale
    text = PRIVACY_YAML.replace("{1: \"Not at all concerned\", 5:", "{1: \"Not at all concerned\", 7:")
    with pytest.raises(CodebookError) as info:
        load_instrument(_codebook(tmp_path, text, "c3.yaml"))
    assert info.value.key == "constructs[0].scale.labels.en.7"
    assert "outside the scale of construct 'PrCon' 1..5" in str(info.value)


def test_from_dict_scales():
    inst = Instrument.from_dict({"PrCon": ["privcon1", "privcon2"], "Int": ["intent1", "intent2"]},
                                scale=(1, 7), scales={"PrCon": (1, 5), "intent2": (0, 10)},
                                reverse=["privcon2", "intent2"])
    assert [str(inst.item_scale(i)) for i in inst.items] == ["1..5", "1..5", "1..7", "0..10"]
    df = pd.DataFrame({"privcon1": [1, 5], "privcon2": [2, 5], "intent1": [7, 1], "intent2": [0, 3]})
    k = inst.keyed(df)
    assert k["privcon2"].tolist() == [4, 1] and k["intent2"].tolist() == [10, 7]
    with pytest.raises(CodebookError) as info:
        Instrument.from_dict({"A": ["a1"]}, scale=(1, 7), scales={"a1": (5, 1)})
    assert info.value.key == "scales['a1']"
    with pytest.raises(CodebookError, match="neither a construct nor an item"):
        Instrument.from_dict({"A": ["a1"]}, scale=(1, 7), scales={"a2": (1, 5)})


@pytest.mark.skipif(not (SHARED / "privacy_tracker" / "privacy_tracker.csv").is_file(),
                    reason="shared dataset not available")
def test_full_privacy_tracker_file(tmp_path, privacy):
    path = SHARED / "privacy_tracker" / "privacy_tracker.csv"
    before = path.read_bytes()
    df = read_survey(path, privacy)
    assert path.read_bytes() == before
    raw = pd.read_csv(path)
    assert len(df) == len(raw)
    for iid in privacy.items:
        sc = privacy.item_scale(iid)
        assert df[iid].between(sc.min, sc.max).all()
    # declaring one 1-7 scale for everything would have keyed privcon4 as 8 - x (range 3..7)
    assert privacy.keyed(df)["privcon4"].max() <= 5


# --------------------------------------------------------------------------- variables
@pytest.fixture
def corp2(tmp_path):
    return load_instrument(_codebook(tmp_path, CORP2_YAML, "corp2.yaml"))


def test_out_of_range_global_rating_is_reported_like_an_item(tmp_path, corp2):
    path = _export(tmp_path / "corp_rep2_export.csv", CORP2_CSV)
    with pytest.raises(DataValidationError) as info:
        read_survey(path, corp2)
    raw = pd.read_csv(io.StringIO(CORP2_CSV))
    q = raw["qual_global"]
    lines = {v: [int(i) + 2 for i in q.index[q == v]] for v in (8, 10)}  # header = line 1
    probs = {(p["rule"], p["column"]): p for p in info.value.problems}
    assert set(probs) == {("undeclared_missing_code", "qual_global"), ("out_of_range", "qual_global")}
    p = probs[("out_of_range", "qual_global")]
    assert p["rows"] == lines[10] and p["values"] == [10] and p["row_counting"] == "file line"
    assert "1..7" in p["allowed"]
    p = probs[("undeclared_missing_code", "qual_global")]
    assert p["rows"] == lines[8] and set(p["values"]) == {8}
    msg = str(info.value)
    assert "column 'qual_global'" in msg and "whole numbers 1..7" in msg
    assert f"file line {lines[10][0]}" in msg


def test_declared_variables_pass_and_missing_codes_are_counted(tmp_path, corp2):
    fixed = CORP2_CSV.replace(",10\n", ",-99\n").replace(",8\n", ",7\n")
    df = read_survey(_export(tmp_path / "fixed.csv", fixed), corp2)
    raw = pd.read_csv(io.StringIO(fixed))
    assert df["qual_global"].isna().sum() == (raw["qual_global"] == -99).sum() == 1
    rules = {r["rule"]: r for r in df.attrs["custval"]["rules"]}
    assert rules["variable_missing_code"]["columns"] == {"qual_global": 1}
    assert df["servicetype"].tolist() == raw["servicetype"].tolist()  # nothing recoded


def test_variable_rules_categories_text_and_absent_columns(tmp_path, corp2):
    text = CORP2_CSV.replace("\n2,4,5,5,6,4,7\n", "\n3,4,5,5,6,4,7\n").replace(
        "\n2,1,3,3,2,2,4\n", "\n2,1,n/a,3,2,2,4\n")
    text = "\n".join(",".join(c for k, c in enumerate(line.split(",")) if k != 1)
                     for line in text.splitlines()) + "\n"  # the file lacks serviceprovider
    with pytest.raises(DataValidationError) as info:
        read_survey(_export(tmp_path / "vars.csv", text), corp2)
    probs = {(p["rule"], p["column"]): p for p in info.value.problems}
    raw = pd.read_csv(io.StringIO(text), dtype=str)
    assert probs[("unknown_category", "servicetype")]["values"] == [3]
    assert probs[("unknown_category", "servicetype")]["rows"] == [
        int(i) + 2 for i in raw.index[raw["servicetype"] == "3"]]
    assert "one of 1 (postpaid), 2 (prepaid)" in probs[("unknown_category", "servicetype")]["allowed"]
    assert probs[("non_numeric", "cusa")]["values"] == ["n/a"]
    assert ("missing_variable_column", "serviceprovider") in probs
    # required: false lets a file lack a declared column
    lax = CORP2_YAML.replace("serviceprovider: {type: categorical, categories: [1, 2, 3, 4]}",
                             "serviceprovider: {type: categorical, categories: [1, 2, 3, 4], "
                             "required: false}")
    inst = load_instrument(_codebook(tmp_path, lax, "lax.yaml"))
    good = CORP2_CSV.replace(",10\n", ",7\n").replace(",8\n", ",7\n")
    good = "\n".join(",".join(c for k, c in enumerate(line.split(",")) if k != 1)
                     for line in good.splitlines()) + "\n"
    df = read_survey(_export(tmp_path / "good.csv", good), inst)
    assert "serviceprovider" not in df.columns and len(df) == len(good.splitlines()) - 1


def test_validate_frame_checks_variables(corp2):
    frame = pd.read_csv(io.StringIO(CORP2_CSV))
    with pytest.raises(DataValidationError) as info:
        validate_frame(frame, corp2)
    p = next(p for p in info.value.problems if p["rule"] == "out_of_range")
    assert p["column"] == "qual_global" and p["row_counting"] == "data row"
    assert p["rows"] == [int(i) + 1 for i in frame.index[frame["qual_global"] == 10]]


def test_variable_declaration_errors(tmp_path):
    text = CORP2_YAML + "  cusl_1: {type: integer, min: 1, max: 7}\n  firm: {type: categorical}\n" \
        "  age: {type: text, min: 1}\n"
    with pytest.raises(CodebookError) as info:
        load_instrument(_codebook(tmp_path, text, "v.yaml"))
    keys = {p["key"]: p["message"] for p in info.value.problems}
    assert "also an item" in keys["variables.cusl_1"]
    assert "needs its categories" in keys["variables.firm.categories"]
    assert "this one has type 'text'" in keys["variables.age.min"]
    assert info.value.problems[0]["line"] == _line_of(text, "  cusl_1: {type")
    text = CORP2_YAML.replace("missing: [-99]\n    label", "missing: [7]\n    label")
    with pytest.raises(CodebookError, match="missing code 7 of variable 'qual_global' is also an allowed"):
        load_instrument(_codebook(tmp_path, text, "v2.yaml"))


@pytest.mark.skipif(not (SHARED / "corp_rep2" / "corp_rep2.csv").is_file(),
                    reason="shared dataset not available")
def test_full_corp_rep2_file(corp2):
    path = SHARED / "corp_rep2" / "corp_rep2.csv"
    with pytest.raises(DataValidationError) as info:
        read_survey(path, corp2)
    raw = pd.read_csv(path)
    bad = raw["qual_global"] > 7
    got = [p for p in info.value.problems if p["column"] == "qual_global"]
    assert sum(p["n"] for p in got) == int(bad.sum())
    assert sorted(r for p in got for r in p["rows"]) == [int(i) + 2 for i in raw.index[bad]]


# --------------------------------------------------------------------------- clearer messages
def test_misspelt_item_id_in_the_codebook_is_a_codebook_problem(tmp_path):
    text = PRIVACY_YAML.replace("{id: trust2,", "{id: trst2,")
    cb = _codebook(tmp_path, text, "typo.yaml")
    inst = load_instrument(cb)
    with pytest.raises(DataValidationError) as info:
        read_survey(_export(tmp_path / "p.csv", PRIVACY_CSV), inst)
    (p,) = info.value.problems
    assert p["rule"] == "codebook_item_id" and p["column"] == "trst2"
    assert str(cb) in p["allowed"] and f"line {_line_of(text, 'id: trst2')}" in p["allowed"]
    assert "constructs[1].items[1].id" in p["allowed"]
    assert "correct the item id in the codebook" in p["allowed"] and "'trust2'" in p["allowed"]
    assert "codebook item 'trst2'" in str(info.value)
    # a file header that differs from a correct codebook: both remedies are named
    text2 = PRIVACY_CSV.replace('"trust2"', '"Trust_2"')
    with pytest.raises(DataValidationError) as info:
        read_survey(_export(tmp_path / "p2.csv", text2), load_instrument(_codebook(tmp_path, PRIVACY_YAML)))
    (p,) = info.value.problems
    assert p["rule"] == "missing_item_column" and "trust2 ~ 'Trust_2'" in p["allowed"]
    assert "rename with columns=" in p["allowed"] and "correct its id in the codebook" in p["allowed"]


@pytest.mark.parametrize(("written", "kept"), [("1.0", "1.0"), ("1.10", "1.10"), ("2", "2"),
                                                ("2.0  # second wave", "2.0")])
def test_unquoted_version_kept_as_written(tmp_path, written, kept):
    text = PRIVACY_YAML.replace("version: 1.0          # unquoted on purpose: YAML reads a number",
                                f"version: {written}")
    inst = load_instrument(_codebook(tmp_path, text, f"v{abs(hash(written))}.yaml"))
    assert inst.version == kept and isinstance(inst.version, str)


def test_version_that_is_not_text_is_explained(tmp_path):
    text = PRIVACY_YAML.replace("version: 1.0          # unquoted on purpose: YAML reads a number",
                                "version: [1, 0]")
    with pytest.raises(CodebookError) as info:
        load_instrument(_codebook(tmp_path, text))
    assert info.value.key == "version" and 'version must be text such as "1.0"' in str(info.value)


# --------------------------------------------------------------------------- hostile YAML
def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = [PRIVACY_YAML.rstrip("\n"), 'x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 9) + "]")
    bomb = "\n".join(lines[1:]) + "\n"
    assert len(bomb.encode()) < 900  # 9**9 = 387 million strings once expanded
    path = _codebook(tmp_path, bomb, "bomb.yaml")
    t0 = time.perf_counter()
    with pytest.raises(CodebookError) as info:
        load_instrument(path)
    assert time.perf_counter() - t0 < 10
    assert "expands to more than 200,000 values" in str(info.value) and str(path) in str(info.value)
    assert info.value.line is not None
    # the same aliases inside a real codebook
    path = _codebook(tmp_path, "\n".join(lines) + "\n", "bomb2.yaml")
    with pytest.raises(CodebookError, match="aliases"):
        load_instrument(path)


def test_small_aliases_still_work(tmp_path):
    text = PRIVACY_YAML.replace("    label: \"Trust\"", "    label: &t \"Trust\"").replace(
        "    label: \"Perceived risk\"", "    label: *t")
    inst = load_instrument(_codebook(tmp_path, text))
    assert inst.construct("Risk").label["en"] == "Trust"


@pytest.mark.parametrize("depth", [100, 300, 2000])
def test_deep_nesting_is_a_codebook_error(tmp_path, depth):
    text = PRIVACY_YAML + "description: " + "[" * depth + "1" + "]" * depth + "\n"
    with pytest.raises(CodebookError) as info:
        load_instrument(_codebook(tmp_path, text, f"deep{depth}.yaml"))
    assert "nested" in str(info.value) and "levels" in str(info.value)


# --------------------------------------------------------------------------- injection
def test_template_stores_formula_looking_text_as_text(tmp_path):
    hostile = {"v1": '=HYPERLINK("http://evil.example","Click here")', "v2": "+1 for the service",
               "v3": "-10% cheaper than others", "v4": "@SUM(A1:A9)"}
    inst = Instrument.from_dict({"VAL": list(hostile)}, scale=(1, 5), texts=hostile,
                                citation="=cmd|' /C calc'!A0")
    xlsx, csv_path = data_entry_template(inst, form=None, path=tmp_path / "template")
    with zipfile.ZipFile(xlsx) as z:
        sheets = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")}
    assert not any("<f>" in body for body in sheets.values())  # no formula anywhere
    from openpyxl import load_workbook

    cb = load_workbook(xlsx)["codebook"]
    texts = {row[0].value: row[2] for row in cb.iter_rows(min_row=2) if row[0].value in hostile}
    for iid, cell in texts.items():
        assert cell.value == hostile[iid] and cell.data_type == "s" and cell.quotePrefix
    cites = [row[1].value for row in cb.iter_rows(min_row=2) if row[0].value == "custom 1.0"]
    assert cites == ["=cmd|' /C calc'!A0"]
    # the CSV template holds the header only and reads back
    assert csv_path.read_text(encoding="utf-8").strip().split(",")[4:] == list(hostile)


def test_markdown_tables_escape_html():
    from custval.tables import apa_table

    df = pd.DataFrame({"r": [0.456], "p": [0.0004]},
                      index=['<img src=x onerror="alert(1)">'])
    t = apa_table(df, "Items <script>alert(1)</script> & more", formats={"r": "prop:2", "p": "p"},
                  notes=["See &lt;b&gt; and <!-- hidden -->"])
    md = t.to_markdown()
    assert "<img" not in md and "<script" not in md and "<!--" not in md
    assert "&lt;img src=x" in md and "&lt;script>" in md and "&amp;lt;b&amp;gt;" in md
    assert "< .001" in md  # a p-value stays readable
    assert "& more" in md


def test_codebook_saved_with_bom_and_crlf(tmp_path):
    # Notepad / Excel users save UTF-8 with a BOM and Windows line ends
    path = tmp_path / "windows.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + PRIVACY_YAML.replace("\n", "\r\n").encode("utf-8"))
    inst = load_instrument(path)
    assert inst.version == "1.0" and inst.item_scale("privcon1").max == 5
    bad = PRIVACY_YAML.replace("      max: 5\n", "      max: 0\n")
    path.write_bytes(b"\xef\xbb\xbf" + bad.replace("\n", "\r\n").encode("utf-8"))
    with pytest.raises(CodebookError) as info:
        load_instrument(path)
    assert info.value.line == _line_of(bad, "      max: 0")
