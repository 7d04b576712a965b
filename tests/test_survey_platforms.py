"""export_survey / load_instrument on LimeSurvey .lss and Qualtrics .qsf survey files.

The survey files are checked against the structures the platforms document (LimeSurvey 5/6
``<document>`` with ``LimeSurveyDocType``, ``DBVersion``, groups, questions, subquestions,
answers and their ``*_l10ns`` tables; Qualtrics' JSON ``SurveyEntry`` + ``SurveyElements``
with BL, FL, SO, SQ and QC elements).  Response exports are written here as the platforms
write them (LimeSurvey: quoted CSV with system columns and ``Q[SQ]`` headings, answer codes;
Qualtrics: UTF-8 with BOM, three header rows, metadata columns, status values).  All answers
are SIMULATED (numpy default_rng with fixed seeds).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import custval
from custval.exceptions import CodebookError, IncompleteResponseWarning, SpecificationError
from custval.ingest import read_survey

SUFFIX = {"limesurvey": ".lss", "qualtrics": ".qsf"}


def _cases():
    for name in custval.list_instruments():
        inst = custval.load_instrument(name)
        forms = [None, *sorted({i.perspective for i in inst.item_defs if i.perspective})]
        for form in forms:
            for lang in inst.languages:
                for platform in SUFFIX:
                    yield name, form, lang, platform


@pytest.mark.parametrize(("name", "form", "lang", "platform"), list(_cases()))
def test_round_trip_every_shipped_instrument(tmp_path, name, form, lang, platform):
    inst = custval.load_instrument(name)
    path = tmp_path / f"{name}{SUFFIX[platform]}"
    custval.export_survey(inst, path, platform=platform, form=form, lang=lang)
    back = custval.load_instrument(path)
    want = inst if form is None else inst.form(form)
    assert back == want
    assert back.item_defs == want.item_defs and back.construct_defs == want.construct_defs
    assert back.perspective == want.perspective


# --------------------------------------------------------------------------- file structures
def _rows(root, table):
    return [{el.tag: el.text or "" for el in row} for row in root.iterfind(f"{table}/rows/row")]


def test_lss_structure_as_limesurvey_documents_it(tmp_path):
    cwi = custval.load_instrument("cwi")
    path = custval.export_survey(cwi, tmp_path / "cwi.lss", form="customer", lang="fi")
    root = ET.parse(path).getroot()
    assert root.tag == "document" and root.findtext("LimeSurveyDocType") == "Survey"
    assert int(root.findtext("DBVersion")) >= 400  # the l10n tables of LimeSurvey 4+
    assert [e.text for e in root.iterfind("languages/language")] == ["fi", "en"]
    survey = _rows(root, "surveys")[0]
    assert (survey["language"], survey["additional_languages"]) == ("fi", "en")
    groups = _rows(root, "groups")
    customer = cwi.form("customer")
    assert len(groups) == len(customer.construct_defs)
    names = {(r["gid"], r["language"]): r["group_name"] for r in _rows(root, "group_l10ns")}
    assert names[("1", "fi")] == customer.construct_defs[0].label["fi"]
    questions = {r["qid"]: r for r in _rows(root, "questions")}
    subs = _rows(root, "subquestions")
    l10n = {(r["qid"], r["language"]): r["question"] for r in _rows(root, "question_l10ns")}
    # every item is a subquestion of an array; its heading Q[SQ] is read as the item
    headings = {}
    for s in subs:
        parent = questions[s["parent_qid"]]
        assert (parent["type"], s["type"]) == ("F", "T")
        headings[f"{parent['title']}[{s['title']}]"] = (l10n[(s["qid"], "en")], l10n[(s["qid"], "fi")])
        assert s["title"].isalnum() and parent["title"].isalnum()
    assert len(headings) == len(customer.items)
    assert headings["CPROC[C1]"] == (customer.item("CPROC_C1").text["en"],
                                     customer.item("CPROC_C1").text["fi"])
    # answers: the scale's codes and the don't-know code, labelled in both languages
    first = next(q for q in questions.values() if q["type"] == "F")
    codes = [r["code"] for r in _rows(root, "answers") if r["qid"] == first["qid"]]
    assert codes == ["1", "2", "3", "4", "5", "6", "7", "8"]
    answer_fi = {r["aid"]: r["answer"] for r in _rows(root, "answer_l10ns") if r["language"] == "fi"}
    aids = [r["aid"] for r in _rows(root, "answers") if r["qid"] == first["qid"]]
    assert [answer_fi[a] for a in aids] == [*cwi.scale_labels("fi").values(), "En osaa sanoa"]
    # the codebook is kept in a hidden text-display question
    meta = next(q for q in questions.values() if q["title"] == "custvalmeta")
    assert meta["type"] == "X"
    hidden = [r for r in _rows(root, "question_attributes") if r["qid"] == meta["qid"]]
    assert {(r["attribute"], r["value"]) for r in hidden} == {("hidden", "1")}


def test_qsf_structure_as_qualtrics_documents_it(tmp_path):
    bfi = custval.load_instrument("bfi")
    path = custval.export_survey(bfi, tmp_path / "bfi.qsf", platform="qualtrics", lang="en")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc) == {"SurveyEntry", "SurveyElements"}
    assert doc["SurveyEntry"]["SurveyLanguage"] == "EN"
    kinds = [e["Element"] for e in doc["SurveyElements"]]
    assert {"BL", "FL", "SO", "SQ", "QC"} <= set(kinds)
    sqs = {e["PrimaryAttribute"]: e["Payload"] for e in doc["SurveyElements"] if e["Element"] == "SQ"}
    qc = next(e for e in doc["SurveyElements"] if e["Element"] == "QC")
    assert int(qc["SecondaryAttribute"]) == len(sqs)
    blocks = next(e for e in doc["SurveyElements"] if e["Element"] == "BL")["Payload"]
    flow = next(e for e in doc["SurveyElements"] if e["Element"] == "FL")["Payload"]
    in_flow = {f["ID"] for f in flow["Flow"]}
    by_id = {b["ID"]: b for b in blocks.values()}
    assert in_flow <= set(by_id)
    shown = {el["QuestionID"] for bid in in_flow for el in by_id[bid]["BlockElements"]}
    meta = [q for q, p in sqs.items() if p["DataExportTag"] == "custvalmeta"]
    assert len(meta) == 1 and meta[0] not in shown  # never shown to respondents
    tags = []
    for qid in shown:
        p = sqs[qid]
        assert (p["QuestionType"], p["Selector"], p["SubSelector"]) == ("Matrix", "Likert", "SingleAnswer")
        assert [p["RecodeValues"][a] for a in p["AnswerOrder"]] == ["1", "2", "3", "4", "5", "6"]
        assert [p["Answers"][a]["Display"] for a in p["AnswerOrder"]] == list(bfi.scale_labels("en").values())
        fi = p["Language"]["FI"]
        assert [fi["Answers"][a]["Display"] for a in p["AnswerOrder"]] == list(bfi.scale_labels("fi").values())
        for c in p["ChoiceOrder"]:
            tag = p["ChoiceDataExportTags"][c]
            tags.append(tag)
            assert p["Choices"][c]["Display"] == bfi.item(tag).text["en"]
            assert fi["Choices"][c]["Display"] == bfi.item(tag).text["fi"]
    assert sorted(tags) == sorted(bfi.items)


def test_number_inputs_for_a_wide_unlabelled_scale(tmp_path):
    sq = custval.load_instrument("service_quality")
    root = ET.parse(custval.export_survey(sq, tmp_path / "sq.lss")).getroot()
    questions = [q for q in _rows(root, "questions") if q["title"] != "custvalmeta"]
    assert {q["type"] for q in questions} == {"K"}
    attrs = {(r["qid"], r["attribute"]): r["value"] for r in _rows(root, "question_attributes")}
    q = questions[0]
    assert (attrs[(q["qid"], "min_num_value_n")], attrs[(q["qid"], "max_num_value_n")]) == ("0", "100")
    doc = json.loads(custval.export_survey(sq, tmp_path / "sq.qsf", platform="qualtrics").read_text())
    p = next(e["Payload"] for e in doc["SurveyElements"]
             if e["Element"] == "SQ" and e["Payload"]["DataExportTag"] != "custvalmeta")
    assert (p["QuestionType"], p["Selector"]) == ("TE", "FORM")
    assert p["Validation"]["Settings"]["ValidNumber"] == {"Min": "0", "Max": "100", "NumDecimals": ""}
    assert custval.load_instrument(tmp_path / "sq.qsf") == sq
    p["Validation"]["Settings"]["ValidNumber"]["Max"] = "10"  # narrowed on the platform
    (tmp_path / "sq.qsf").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"accept \('0', '10'\) \(min, max\), not the codebook's scale 0..100"):
        custval.load_instrument(tmp_path / "sq.qsf")


# --------------------------------------------------------------------------- response exports
ATT = [{"id": "ATT1", "answer": 2, "after": "CQUAL",
        "text": {"en": "To show you read this, choose 'Disagree'.",
                 "fi": "Valitse tähän 'Eri mieltä', niin tiedämme, että luit tämän."}}]


def _draw(n, k, seed, hi=8):
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, hi + 1, size=(n, k)).astype(float)
    codes[rng.random(codes.shape) < 0.08] = np.nan
    return codes


def test_limesurvey_response_export_reads_without_a_mapping(tmp_path):
    cwi = custval.load_instrument("cwi")
    customer = cwi.form("customer")
    lss = custval.export_survey(cwi, tmp_path / "cwi.lss", form="customer", attention_checks=ATT)
    root = ET.parse(lss).getroot()
    questions = {r["qid"]: r for r in _rows(root, "questions")}
    # the headings LimeSurvey writes ("question code" headings): Q[SQ] from the survey file
    headings = [f"{questions[s['parent_qid']]['title']}[{s['title']}]" for s in _rows(root, "subquestions")]
    checks = [q["title"] for q in questions.values() if q["type"] == "L"]
    assert checks == ["ATT1"]
    codes = _draw(9, len(headings), seed=11)  # 1..7 and 8 = don't know
    system = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"]
    buf = io.StringIO()
    wr = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    wr.writerow([*system, *headings, "ATT1"])
    for i, row in enumerate(codes):
        submit = "" if i == 4 else f"2026-03-{i + 1:02d} 10:00:00"
        wr.writerow([i + 1, submit, 6, "fi" if i % 2 else "en", 1234 + i, "2026-03-01 09:00:00",
                     "2026-03-01 10:00:00", *["" if np.isnan(c) else str(int(c)) for c in row],
                     "2" if i != 3 else "5"])
    export = tmp_path / "results-survey123456.csv"
    export.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.warns(IncompleteResponseWarning):
        df = read_survey(export, custval.load_instrument(lss))
    plat = df.attrs["custval"]["platform"]
    assert plat["source"] == "limesurvey" and plat["header_mode"] == "code"
    assert list(df[list(customer.items)].columns) == list(customer.items)
    want = np.where(codes == 8, np.nan, codes)  # 8 = don't know -> missing, counted
    np.testing.assert_array_equal(df[list(customer.items)].to_numpy(), want)
    assert df["ATT1"].tolist() == [2, 2, 2, 5, 2, 2, 2, 2, 2]


@pytest.mark.parametrize("download", ["csv", "tsv"])
def test_qualtrics_response_export_reads_without_a_mapping(tmp_path, download):
    bfi = custval.load_instrument("bfi")
    qsf = custval.export_survey(bfi, tmp_path / "bfi.qsf", platform="qualtrics", lang="fi",
                                attention_checks=[{**ATT[0], "after": "C",
                                                   "text": "Choose 'Moderately Inaccurate'."}])
    doc = json.loads(qsf.read_text(encoding="utf-8"))
    sqs = [e["Payload"] for e in doc["SurveyElements"] if e["Element"] == "SQ"
           and e["Payload"]["DataExportTag"] != "custvalmeta"]
    # Qualtrics' three header rows: export tags, question - statement text, ImportId
    tags, texts, imports = [], [], []
    for p in sqs:
        for c in p["ChoiceOrder"]:
            tags.append(p["ChoiceDataExportTags"][c])
            texts.append(f"{p['QuestionText']} - {p['Choices'][c]['Display']}")
            imports.append(json.dumps({"ImportId": f"{p['QuestionID']}_{c}"}))
    meta = ["StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished",
            "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage"]
    codes = _draw(8, len(tags), seed=5, hi=6)
    rows = [[*meta, *tags], [*meta, *texts], [*[json.dumps({"ImportId": m}) for m in meta], *imports]]
    for i, row in enumerate(codes):
        status, finished = ("Survey Preview", "True") if i == 7 else ("IP Address", "True")
        rows.append(["2026-03-01 09:00:00", "2026-03-01 09:09:00", status, "100", "540", finished,
                     "2026-03-01 09:09:01", f"R_{i:015d}", "anonymous", "FI",
                     *["" if np.isnan(c) else str(int(c)) for c in row]])
    buf = io.StringIO()
    if download == "csv":  # UTF-8 with BOM, comma, CRLF
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        export = tmp_path / "bfi_responses.csv"
        export.write_text(buf.getvalue(), encoding="utf-8-sig")
    else:  # Qualtrics' TSV download: UTF-16 with BOM, tab-delimited
        csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
        export = tmp_path / "bfi_responses.tsv"
        export.write_text(buf.getvalue(), encoding="utf-16")
    with pytest.warns(custval.exceptions.ExcludedResponseWarning):
        df = read_survey(export, custval.load_instrument(qsf))
    assert len(df) == 7  # the preview response is excluded, counted
    items = list(bfi.items)
    att = tags.index("ATT1")
    item_cols = [j for j, t in enumerate(tags) if t != "ATT1"]
    np.testing.assert_array_equal(df[[tags[j] for j in item_cols]].to_numpy(), codes[:7, item_cols])
    assert sorted(tags[j] for j in item_cols) == sorted(items)
    np.testing.assert_array_equal(df["ATT1"].to_numpy(dtype=float), codes[:7, att])


def test_limesurvey_full_answers_in_finnish(tmp_path):
    """'Full answers' export: the answers as the Finnish labels of the survey, DK as its label."""
    cwi = custval.load_instrument("cwi")
    provider = cwi.form("provider")
    lss = custval.export_survey(cwi, tmp_path / "cwi_p.lss", form="provider", lang="fi")
    root = ET.parse(lss).getroot()
    questions = {r["qid"]: r for r in _rows(root, "questions")}
    subs = [s for s in _rows(root, "subquestions")]
    headings = [f"{questions[s['parent_qid']]['title']}[{s['title']}]" for s in subs]
    labels = {(r["aid"]): r["answer"] for r in _rows(root, "answer_l10ns") if r["language"] == "fi"}
    by_code = {}
    for r in _rows(root, "answers"):
        by_code.setdefault(r["qid"], {})[r["code"]] = labels[r["aid"]]
    codes = _draw(6, len(headings), seed=23)
    lines = [["id", "submitdate", "lastpage", "startlanguage", *headings]]
    for i, row in enumerate(codes):
        lines.append([i + 1, f"2026-05-0{i + 1} 08:00:00", 9, "fi",
                      *["" if np.isnan(c) else by_code[s["parent_qid"]][str(int(c))]
                        for s, c in zip(subs, row)]])
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(lines)
    export = tmp_path / "results-survey654321.csv"
    export.write_text(buf.getvalue(), encoding="utf-8-sig")
    df = read_survey(export, custval.load_instrument(lss))
    items = [f"{questions[s['parent_qid']]['title']}_{s['title']}" for s in subs]
    assert items == list(provider.items)
    np.testing.assert_array_equal(df[items].to_numpy(), np.where(codes == 8, np.nan, codes))
    assert "En osaa sanoa" in by_code[subs[0]["parent_qid"]].values()


def test_special_characters_survive(tmp_path):
    texts = {"q1": {"en": 'R&D <b>matters</b> & "quotes" *here*', "fi": "Tuotekehitys (T&K) ≥ 5 % – “lainaus”"},
             "q2": {"en": "Line one\nline two", "fi": "Ääkköset: åäö ÅÄÖ"}}
    inst = custval.Instrument.from_dict({"Q": ["q1", "q2"]}, scale=(1, 5), texts=texts,
                                        languages=("en", "fi"), reverse=["q2"],
                                        labels={"en": {1: "<none>", 5: "A & B"}, "fi": {1: "ei", 5: "kyllä"}})
    for platform in SUFFIX:
        path = custval.export_survey(inst, tmp_path / f"s{SUFFIX[platform]}", platform=platform)
        assert custval.load_instrument(path) == inst


# --------------------------------------------------------------------------- edits and errors
def test_translation_corrected_on_the_platform_is_read_back(tmp_path):
    path = custval.export_survey("bfi", tmp_path / "bfi.lss")
    old = custval.load_instrument("bfi").item("A2").text["fi"]
    tree = ET.parse(path)
    rows = [r for r in tree.getroot().iterfind("question_l10ns/rows/row")
            if r.findtext("question") == old and r.findtext("language") == "fi"]
    assert len(rows) == 1
    rows[0].find("question").text = "Kysyn muiden kuulumisia."
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    back = custval.load_instrument(path)
    assert back.item("A2").text["fi"] == "Kysyn muiden kuulumisia."
    assert back.item("A1").reverse and back.reverse_items == custval.load_instrument("bfi").reverse_items


def test_answer_options_changed_on_the_platform_are_an_error(tmp_path):
    path = custval.export_survey("ecsi", tmp_path / "ecsi.qsf", platform="qualtrics")
    doc = json.loads(path.read_text(encoding="utf-8"))
    p = next(e["Payload"] for e in doc["SurveyElements"]
             if e["Element"] == "SQ" and e["Payload"]["DataExportTag"] == "IMAG")
    p["RecodeValues"] = {k: str(int(v) - 1) for k, v in p["RecodeValues"].items()}
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"answer codes of question 'IMAG' are \['0', '1'"):
        custval.load_instrument(path)


def test_item_deleted_on_the_platform_is_an_error(tmp_path):
    path = custval.export_survey("bfi", tmp_path / "bfi.qsf", platform="qualtrics")
    doc = json.loads(path.read_text(encoding="utf-8"))
    p = next(e["Payload"] for e in doc["SurveyElements"]
             if e["Element"] == "SQ" and e["Payload"]["DataExportTag"] == "C")
    gone = p["ChoiceOrder"].pop(3)  # C4, a reverse-keyed item, deleted in the survey editor
    assert p["ChoiceDataExportTags"][gone] == "C4"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CodebookError, match=r"item\(s\) C4 of the custval codebook are not rows"):
        custval.load_instrument(path)


def test_survey_without_custval_codebook_is_an_error(tmp_path):
    lss = tmp_path / "other.lss"
    lss.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<document><LimeSurveyDocType>Survey'
                   '</LimeSurveyDocType><DBVersion>450</DBVersion><questions><fields/><rows/>'
                   '</questions></document>', encoding="utf-8")
    with pytest.raises(CodebookError, match="no custval codebook"):
        custval.load_instrument(lss)
    qsf = tmp_path / "other.qsf"
    qsf.write_text(json.dumps({"SurveyEntry": {}, "SurveyElements": []}), encoding="utf-8")
    with pytest.raises(CodebookError, match="no custval codebook"):
        custval.load_instrument(qsf)
    bad = tmp_path / "broken.lss"
    bad.write_text("<document><LimeSurveyDocType>Survey", encoding="utf-8")
    with pytest.raises(CodebookError, match="not a well-formed"):
        custval.load_instrument(bad)


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "bfi.lss"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(SpecificationError, match="overwrite=True"):
        custval.export_survey("bfi", path)
    assert path.read_text(encoding="utf-8") == "keep me"
    custval.export_survey("bfi", path, overwrite=True)
    assert custval.load_instrument(path) == custval.load_instrument("bfi")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"platform": "surveymonkey"}, "allowed are 'limesurvey'"),
    ({"platform": "qualtrics"}, r"ends in '\.qsf'"),
    ({"lang": "sv"}, "lang='sv' is not a language"),
    ({"attention_checks": [{"id": "A1", "text": "x", "answer": 1}]}, "already an item"),
    ({"attention_checks": [{"id": "ATT1", "text": "x", "answer": 9}]}, "must be a code of the scale"),
    ({"attention_checks": [{"id": "ATT1", "text": {"en": "x"}, "answer": 1}]}, "every language"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        custval.export_survey("bfi", tmp_path / "bfi.lss", **kwargs)
    assert not (tmp_path / "bfi.lss").exists()


def test_item_id_limesurvey_cannot_hold(tmp_path):
    inst = custval.Instrument.from_dict({"VAL": ["val.1", "val.2"]}, scale=(1, 5))
    with pytest.raises(SpecificationError, match="'val.1' cannot be written"):
        custval.export_survey(inst, tmp_path / "x.lss")
    assert not (tmp_path / "x.lss").exists()


# --------------------------------------------------------------------------- variables
CODEBOOK = """\
format: custval-codebook/1
name: privacy
version: "2.1"
title: {en: "Privacy and intention", fi: "Yksityisyys ja aikomus"}
citation: "Example, A. (2026). Privacy survey."
languages: [en, fi]
scale:
  min: 1
  max: 7
  labels:
    en: {1: "Strongly disagree", 7: "Strongly agree"}
    fi: {1: "Täysin eri mieltä", 7: "Täysin samaa mieltä"}
missing: {codes: [-99]}
constructs:
  - id: PRCON
    label: {en: "Privacy concern", fi: "Yksityisyyshuoli"}
    scale: {min: 1, max: 5}
    items:
      - {id: privcon1, text: {en: "I worry about my data.", fi: "Olen huolissani tiedoistani."}}
      - {id: privcon2, text: {en: "Firms misuse data.", fi: "Yritykset käyttävät tietoja väärin."},
         reverse: true}
  - id: INT
    label: {en: "Intention", fi: "Aikomus"}
    items:
      - {id: intent1, text: {en: "I will use the service.", fi: "Aion käyttää palvelua."}}
      - {id: intent2, text: {en: "I will recommend it.", fi: "Aion suositella sitä."}}
variables:
  firm: {type: categorical, categories: {1: "Alpha Oy", 2: "Beta Ab"},
         label: {en: "Your firm", fi: "Yrityksesi"}}
  staff_count: {type: integer, min: 1, max: 100000, missing: [-99]}
  age: {type: number, min: 15, max: 100, required: false}
"""


def test_variables_are_questions_and_read_back(tmp_path):
    yaml_path = tmp_path / "privacy.yaml"
    yaml_path.write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(yaml_path)
    assert inst.mixed_scales and set(inst.variables) == {"firm", "staff_count", "age"}
    lss = custval.export_survey(inst, tmp_path / "privacy.lss", lang="fi")
    root = ET.parse(lss).getroot()
    questions = {r["title"]: r for r in _rows(root, "questions")}
    assert (questions["firm"]["type"], questions["age"]["type"]) == ("L", "N")
    # staff_count is not a LimeSurvey code: written staff[count] (a number array with one row)
    parent = questions["staff"]
    assert parent["type"] == "K"
    assert [s["title"] for s in _rows(root, "subquestions") if s["parent_qid"] == parent["qid"]] == ["count"]
    # items on their own scales: PRCON 1-5, INT 1-7
    codes = {}
    for r in _rows(root, "answers"):
        codes.setdefault(r["qid"], []).append(r["code"])
    assert codes[questions["privcon"]["qid"]] == ["1", "2", "3", "4", "5"]
    assert codes[questions["intent"]["qid"]] == [str(k) for k in range(1, 8)]
    assert codes[questions["firm"]["qid"]] == ["1", "2"]
    assert custval.load_instrument(lss) == inst
    # the response export: firm[size] heading, -99 missing code in the integer variable
    heads = ["id", "submitdate", "lastpage", "startlanguage", "seed", "privcon[1]", "privcon[2]",
             "intent[1]", "intent[2]", "firm", "staff[count]", "age"]
    lines = [heads,
             [1, "2026-04-01 10:00:00", 3, "fi", 11, 1, 5, 7, 6, 1, 250, 41],
             [2, "2026-04-01 11:00:00", 3, "fi", 12, 4, "", 2, 3, 2, -99, ""],
             [3, "2026-04-02 09:30:00", 3, "en", 13, 3, 3, 4, 4, 2, 12000, 37.5]]
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(lines)
    export = tmp_path / "results-survey555.csv"
    export.write_text(buf.getvalue(), encoding="utf-8")
    df = read_survey(export, custval.load_instrument(lss))
    assert df.attrs["custval"]["platform"]["column_map"]["staff[count]"] == "staff_count"
    np.testing.assert_array_equal(df["privcon2"].to_numpy(), [5, np.nan, 3])
    assert df["staff_count"].tolist()[0] == 250
    assert df["staff_count"].isna().tolist() == [False, True, False]  # -99 declared missing
    assert df["firm"].tolist() == [1, 2, 2]
    # Qualtrics: the variables are columns of their own names
    qsf = custval.export_survey(inst, tmp_path / "privacy.qsf", platform="qualtrics")
    doc = json.loads(qsf.read_text(encoding="utf-8"))
    tags = {e["Payload"]["DataExportTag"]: e["Payload"] for e in doc["SurveyElements"] if e["Element"] == "SQ"}
    assert tags["firm"]["RecodeValues"] == {"1": "1", "2": "2"}
    assert tags["staff_count"]["Validation"]["Settings"]["ValidNumber"]["Min"] == "1"
    assert custval.load_instrument(qsf) == inst


def test_variable_that_a_platform_cannot_hold(tmp_path):
    clash = tmp_path / "clash.yaml"
    clash.write_text(CODEBOOK.replace("staff_count:", "firm_size:"), encoding="utf-8")
    with pytest.raises(SpecificationError, match=r"'firm_size' cannot be .*'firm' \(firm\[size\]\) is "
                                                 "already the code"):
        custval.export_survey(custval.load_instrument(clash), tmp_path / "clash.lss")
    text = CODEBOOK.replace('firm: {type: categorical, categories: {1: "Alpha Oy", 2: "Beta Ab"},',
                            'firm: {type: categorical, categories: ["Alpha Oy", "Beta Ab"],')
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    inst = custval.load_instrument(path)
    with pytest.raises(SpecificationError, match="'Alpha Oy' cannot be a LimeSurvey answer code"):
        custval.export_survey(inst, tmp_path / "p.lss")
    with pytest.raises(SpecificationError, match="Qualtrics exports answers as numeric"):
        custval.export_survey(inst, tmp_path / "p.qsf", platform="qualtrics")


def _as_limesurvey_exports_it(path, out):
    """The survey as LimeSurvey's own "Export survey structure (.lss)" writes it after an import:
    new ids, every value in CDATA, extra fields, rows in another order."""
    root = ET.parse(path).getroot()
    shift = {"qid": 5000, "parent_qid": 5000, "gid": 70, "aid": 900, "id": 300, "sid": 0}
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<document>",
             " <LimeSurveyDocType>Survey</LimeSurveyDocType>", " <DBVersion>624</DBVersion>",
             " <languages>"]
    parts += [f"  <language>{e.text}</language>" for e in root.iterfind("languages/language")]
    parts.append(" </languages>")
    for table in root:
        if table.tag in ("LimeSurveyDocType", "DBVersion", "languages"):
            continue
        fields = [f.text for f in table.iterfind("fields/fieldname")]
        rows = [{el.tag: el.text or "" for el in row} for row in table.iterfind("rows/row")]
        if table.tag == "group_l10ns":
            fields.append("sid")
        parts += [f" <{table.tag}>", "  <fields>", *[f"   <fieldname>{f}</fieldname>" for f in fields],
                  "  </fields>", "  <rows>"]
        for row in reversed(rows):
            parts.append("   <row>")
            for f in fields:
                v = row.get(f, "123456" if f == "sid" else "")
                if f in shift and v.isdigit() and not (f == "parent_qid" and v == "0"):
                    v = str(int(v) + shift[f])
                parts.append(f"    <{f}><![CDATA[{v}]]></{f}>" if v else f"    <{f}/>")
            parts.append("   </row>")
        parts += ["  </rows>", f" </{table.tag}>"]
    parts.append("</document>")
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def test_lss_as_limesurvey_exports_it_again(tmp_path):
    cwi = custval.load_instrument("cwi")
    ours = custval.export_survey(cwi, tmp_path / "ours.lss", form="provider", lang="fi",
                                 attention_checks=ATT)
    theirs = _as_limesurvey_exports_it(ours, tmp_path / "limesurvey_survey_123456.lss")
    assert "<![CDATA[" in theirs.read_text(encoding="utf-8")
    assert custval.load_instrument(theirs) == cwi.form("provider")


def test_round_trip_of_every_codebook_feature(tmp_path):
    text = CODEBOOK.replace('''missing: {codes: [-99]}''', '''  answer_codes: 'AO?0*(\\d+)'
missing:
  codes: [-99, -98]
  dont_know: {codes: [11], labels: {en: ["Don't know", "DK"], fi: ["En osaa sanoa", "EOS"]}}
forms:
  provider: {label: {en: "Provider form", fi: "Toimittajan lomake"}, respondents: "staff"}
  customer: {label: {en: "Customer form", fi: "Asiakkaan lomake"}}
dataset: privacy_data
description: |
  Two lines
  of description.''').replace('''      - {id: intent2, text: {en: "I will recommend it.", fi: "Aion suositella sitä."}}''',
                                '''      - {id: intent2, text: {en: "I will recommend it.", fi: "Aion suositella sitä."},
         scale: {min: 0, max: 10, labels: {en: {0: "Not at all", 10: "Certainly"},
                                           fi: {0: "En lainkaan", 10: "Varmasti"}}},
         perspective: customer, pair: intent1}''').replace(
        '''      - {id: intent1, text: {en: "I will use the service.", fi: "Aion käyttää palvelua."}}''',
        '''      - {id: intent1, text: {en: "I will use the service.", fi: "Aion käyttää palvelua."},
         perspective: provider, pair: intent2}''')
    path = tmp_path / "full.yaml"
    path.write_text(text, encoding="utf-8")
    inst = custval.load_instrument(path)
    assert inst.dont_know_labels["en"] == ("Don't know", "DK") and inst.answer_codes == r"AO?0*(\d+)"
    assert str(inst.item_scale("intent2")) == "0..10" and inst.forms["provider"]["respondents"] == "staff"
    for platform in SUFFIX:
        for form in (None, "provider", "customer"):
            out = tmp_path / f"full_{form}{SUFFIX[platform]}"
            custval.export_survey(inst, out, platform=platform, form=form, lang="fi")
            assert custval.load_instrument(out) == (inst if form is None else inst.form(form))
