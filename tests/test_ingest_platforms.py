"""read_survey on survey-platform exports: LimeSurvey, Google Forms, Webropol, SurveyMonkey.

All data are SIMULATED (numpy default_rng with fixed seeds); the files are written here, in
tmp_path, in the layouts the platforms export.  Item texts and scale labels come from the
shipped ``cwi`` codebook (English and Finnish).  Which layouts follow published examples and
which are assumed is stated in :func:`custval.read_survey`'s docstring.
"""

from __future__ import annotations

import warnings

import _survey_fixtures as F
import numpy as np
import pytest

import custval
from custval import DataValidationError
from custval._io import platforms as P
from custval.exceptions import (
    IncompleteResponseWarning,
    PersonalDataWarning,
    SpecificationError,
)
from custval.ingest import read_survey

write_csv = F.write_rows_csv
write_xlsx = F.write_rows_xlsx
read_checked = F.read_checked

CWI = custval.load_instrument("cwi")
ITEMS = ("CPROC_P1", "CPROC_P2", "CPROC_P3", "CPROC_P4", "CPROC_P5")
INST = custval.Instrument.from_dict(
    {"CPROC": list(ITEMS)}, scale=(1, 7), reverse=["CPROC_P5"], name="cwi_cproc",
    texts={it: dict(CWI.item(it).text) for it in ITEMS},
    labels={lang: CWI.scale_labels(lang) for lang in ("en", "fi")},
    dont_know_codes=[8], languages=("en", "fi"))
LIME_SYSTEM = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"]


def text(it, lang="en", inst=CWI):
    return inst.item(it).text[lang]


def draw(n=12, items=ITEMS, seed=7, p_missing=0.1):
    """Seeded codes 1..7 with some empty answers (NaN)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(1, 8, size=(n, len(items))).astype(float)
    codes[rng.random(codes.shape) < p_missing] = np.nan
    codes[0] = rng.integers(1, 8, size=len(items))  # first respondent answered everything
    return codes


def rule_n(df, rule):
    return sum(r["n"] for r in df.attrs["custval"]["rules"] if r["rule"] == rule)


def items_equal(df, codes, items=ITEMS):
    np.testing.assert_array_equal(df[list(items)].to_numpy(), codes)


# --------------------------------------------------------------------------- LimeSurvey
def lime_rows(codes, *, answer=lambda c: f"AO{int(c):02d}", heading="code", incomplete=(3,),
              extra_cols=()):
    """LimeSurvey 'Export responses' (CSV): system columns, array subquestions Q[SQ].

    heading: 'code' -> CPROC[P1]; 'code_text' -> 'CPROC[P1]. <question> [<subquestion>]';
    'full' -> '<question> [<subquestion>]' with the system columns' full headings.
    Rows in `incomplete` have no submit date (LimeSurvey's mark of an incomplete response).
    """
    question = "How well do these statements describe your firm?"
    if heading == "full":
        system = [P.LIME_SYSTEM[c] for c in LIME_SYSTEM]
        items = [f"{question} [{text(it)}]" for it in ITEMS]
    elif heading == "code_text":
        system = list(LIME_SYSTEM)
        items = [f"CPROC[{it.split('_')[1]}]. {question} [{text(it)}]" for it in ITEMS]
    else:
        system = list(LIME_SYSTEM)
        items = [f"CPROC[{it.split('_')[1]}]" for it in ITEMS]
    rows = [[*system, *items, *[c for c, _ in extra_cols]]]
    for i, row in enumerate(codes):
        submit = "" if i in incomplete else f"2024-05-{i + 1:02d} 10:{i:02d}:00"
        rows.append([i + 1, submit, 1 if i in incomplete else 2, "en", 1000 + i,
                     f"2024-05-{i + 1:02d} 09:{i:02d}:00", f"2024-05-{i + 1:02d} 10:{i:02d}:00",
                     *["" if np.isnan(c) else answer(c) for c in row],
                     *[f(i) for _, f in extra_cols]])
    return rows


def test_limesurvey_answer_codes_need_an_explicit_rule(tmp_path):
    codes = draw()
    path = write_csv(tmp_path / "results-survey123.csv", lime_rows(codes), quote_all=True)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id", incomplete="keep")
    probs = {(p["rule"], p["column"]): p for p in info.value.problems}
    assert set(probs) == {("unmapped", it) for it in ITEMS}
    p = probs[("unmapped", "CPROC_P1")]
    assert p["values"][0] == f"AO{int(codes[0, 0]):02d}" and p["rows"][0] == 2
    assert "answer_codes=" in p["allowed"] and "answer_codes=" in str(info.value)


@pytest.mark.parametrize("rule, answer", [
    (r"AO?0*(\d+)", lambda c: f"AO{int(c):02d}"),
    ({f"A{k}": k for k in range(1, 8)}, lambda c: f"A{int(c)}"),
])
def test_limesurvey_answer_codes_read_through_answer_codes(tmp_path, rule, answer):
    codes = draw()
    path = write_csv(tmp_path / "ls.csv", lime_rows(codes, answer=answer), quote_all=True)
    with pytest.warns(IncompleteResponseWarning, match="1 incomplete"):
        df = read_checked(path, INST, id_column="id", answer_codes=rule)
    items_equal(df, codes)
    prov = df.attrs["custval"]
    plat = prov["platform"]
    assert plat["source"] == "limesurvey" == prov["source"]["platform"]
    assert plat["header_mode"] == "code"
    assert plat["column_map"] == {f"CPROC[{it.split('_')[1]}]": it for it in ITEMS}
    assert plat["metadata_columns"] == LIME_SYSTEM
    (rec,) = [r for r in prov["rules"] if r["rule"] == "answer_code_to_code"]
    assert rec["n"] == int((~np.isnan(codes)).sum())
    if isinstance(rule, str):
        assert rec["answer_code_pattern"] == rule
    else:
        assert rec["answer_codes"] == {k: float(v) for k, v in rule.items()}
    assert prov["flagged_kept"] == [{"reason": "unfinished", "n": 1, "rows": [5]}]
    assert prov["incomplete"] == {"rule": "empty submitdate", "n": 1, "kept": 1, "dropped": 0,
                                  "choice": "keep (default)"}
    assert len(df) == len(codes)


def test_limesurvey_incomplete_keep_and_drop(tmp_path):
    codes = draw(n=15)
    path = write_csv(tmp_path / "ls.csv", lime_rows(codes, incomplete=(3, 9)), quote_all=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = read_checked(path, INST, id_column="id", answer_codes=r"AO?0*(\d+)",
                            incomplete="keep")
        dropped = read_checked(path, INST, id_column="id", answer_codes=r"AO?0*(\d+)",
                               incomplete="drop")
    assert len(kept) == 15 and kept.attrs["custval"]["incomplete"]["kept"] == 2
    p = dropped.attrs["custval"]
    assert p["excluded"] == [{"reason": "unfinished", "n": 2, "rows": [5, 11]}]
    assert p["incomplete"] == {"rule": "empty submitdate", "n": 2, "kept": 0, "dropped": 2,
                               "choice": "drop"}
    assert p["rows_read"] == p["rows_returned"] + p["rows_excluded"] == 15
    items_equal(dropped, np.delete(codes, [3, 9], axis=0))
    assert dropped["id"].tolist() == [i + 1 for i in range(15) if i not in (3, 9)]
    with pytest.raises(SpecificationError, match="incomplete="):
        read_survey(path, INST, incomplete="remove")


@pytest.mark.parametrize("heading", ["full", "code_text"])
def test_limesurvey_full_answers_with_text_headings(tmp_path, heading):
    codes = draw(seed=11)
    fi_labels = CWI.scale_labels("fi")
    rows = lime_rows(codes, heading=heading, answer=lambda c: fi_labels[int(c)])
    rows[4][8] = "En osaa sanoa"  # "don't know", declared missing by the caller
    codes[3, 1] = np.nan
    path = write_csv(tmp_path / "ls.csv", rows, quote_all=True)
    df = read_checked(path, INST, id_column="id", incomplete="keep",
                      missing_codes=["En osaa sanoa"])
    items_equal(df, codes)
    plat = df.attrs["custval"]["platform"]
    assert plat["source"] == "limesurvey"
    assert rule_n(df, "label_to_code") == int((~np.isnan(codes)).sum())
    assert rule_n(df, "caller_missing_text") == 1
    if heading == "full":  # system columns named by their codes, recorded
        assert plat["header_mode"] == "text" and plat["lang"] == "en"
        assert plat["column_map"]["Date submitted"] == "submitdate"
        assert list(df.columns[:7]) == LIME_SYSTEM
    else:
        assert plat["header_mode"] == "code"
    assert df.attrs["custval"]["flagged_kept"][0]["rows"] == [5]


def test_limesurvey_xlsx_and_personal_columns(tmp_path):
    codes = draw(seed=3)
    extra = [("ipaddr", lambda i: f"10.0.0.{i + 1}"), ("token", lambda i: f"tok{i:04d}x")]
    rows = lime_rows(codes, answer=lambda c: f"A{int(c)}", extra_cols=extra, incomplete=())
    rows[6][7] = "A9"  # not a code of the 1..7 scale: an error, never clipped
    path = write_xlsx(tmp_path / "ls.xlsx", rows)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="id", answer_codes={f"A{k}": k for k in range(1, 8)})
    (p,) = info.value.problems
    assert (p["rule"], p["column"], p["rows"], p["values"]) == ("unmapped", "CPROC_P1", [7],
                                                                ["A9"])
    rows[6][7] = "A2"
    codes[5, 0] = 2
    write_xlsx(path, rows)
    with pytest.warns(PersonalDataWarning) as rec:
        df = read_checked(path, INST, id_column="id", answer_codes={f"A{k}": k for k in range(1, 8)})
    items_equal(df, codes)
    personal = {d["column"]: d["reason"] for d in df.attrs["custval"]["personal_data_columns"]}
    assert "ipaddr" in personal and "token" in personal
    msg = " ".join(str(w.message) for w in rec)
    assert "10.0.0." not in msg and "tok0" not in msg
    assert df.attrs["custval"]["source"]["format"] == "xlsx"


def test_answer_codes_argument_checked():
    with pytest.raises(SpecificationError, match="exactly one group"):
        P.parse_answer_codes(r"A\d+")
    with pytest.raises(SpecificationError, match="must be a number"):
        P.parse_answer_codes({"A1": "one"})
    with pytest.raises(SpecificationError, match="mapping"):
        P.parse_answer_codes(7)


# --------------------------------------------------------------------------- Google Forms
def google_rows(codes, *, lang="en", grid=True, email=False, as_label=True, inst=INST,
                items=ITEMS):
    """Google Forms responses sheet downloaded as CSV: 'Timestamp' first, then the question
    titles; a multiple-choice grid exports one column per row as 'Title [Row]'."""
    title = {"en": "Our firm and its customers", "fi": "Yrityksemme ja sen asiakkaat"}[lang]
    head = ["Timestamp" if lang == "en" else "Aikaleima"]
    if email:
        head.append("Email Address")
    head += [f"{title} [{text(it, lang, inst)}]" if grid else text(it, lang, inst)
             for it in items]
    head.append("What is your role?" if lang == "en" else "Mikä on roolisi?")
    labels = CWI.scale_labels(lang)
    rows = [head]
    for i, row in enumerate(codes):
        cells = ["" if np.isnan(c) else (labels[int(c)] if as_label else int(c)) for c in row]
        rows.append([f"2024/05/{i + 1:02d} 10:{i:02d}:00 AM GMT+3",
                     *([f"person{i}@example.fi"] if email else []), *cells,
                     "Manager" if i % 2 else "Specialist"])
    return rows


@pytest.mark.parametrize("lang, grid", [("en", True), ("en", False), ("fi", True)])
def test_google_forms_headers_are_item_texts(tmp_path, lang, grid):
    codes = draw(seed=5)
    path = write_csv(tmp_path / "Form Responses 1.csv", google_rows(codes, lang=lang, grid=grid))
    df = read_checked(path, INST, lang=lang)
    items_equal(df, codes)
    plat = df.attrs["custval"]["platform"]
    assert plat["source"] == "google_forms" and plat["header_mode"] == "text"
    assert plat["lang"] == lang and sorted(plat["column_map"].values()) == sorted(ITEMS)
    assert plat["metadata_columns"] == ["Timestamp" if lang == "en" else "Aikaleima"]
    assert df.columns[-1] in ("What is your role?", "Mikä on roolisi?")


def test_google_forms_language_detected_and_recorded(tmp_path):
    codes = draw(seed=6)
    path = write_csv(tmp_path / "g.csv", google_rows(codes, lang="fi"))
    df = read_checked(path, INST)
    plat = df.attrs["custval"]["platform"]
    assert plat["lang"] == "fi" and any("detected" in n for n in plat["notes"])


def test_google_forms_linear_scale_numbers_full_cwi_customer_form(tmp_path):
    form = CWI.form("customer")
    codes = draw(n=20, items=form.items, seed=9)
    rows = google_rows(codes, grid=False, email=True, as_label=False, inst=CWI,
                       items=form.items)
    for i, j in ((2, 3), (5, 20), (7, 28)):  # "Don't know" (the codebook's label of code 8)
        rows[i + 1][2 + j] = "Don't know"
        codes[i, j] = np.nan
    path = write_csv(tmp_path / "cwi customer.csv", rows)
    with pytest.warns(PersonalDataWarning, match="Email Address"):
        df = read_checked(path, form, lang="en")
    items_equal(df, codes, form.items)
    assert rule_n(df, "dont_know_label") == 3
    assert df.attrs["custval"]["platform"]["metadata_columns"] == ["Timestamp", "Email Address"]


def test_google_forms_whitespace_normalised_but_unmatched_headers_listed(tmp_path):
    codes = draw(seed=8)
    rows = google_rows(codes, grid=False)
    rows[0][1] = "  " + rows[0][1].replace(" ", "  ") + " "  # spacing differs: still a match
    rows[0][2] = rows[0][2].replace("use our offering", "use the offering")  # edited text
    path = write_csv(tmp_path / "g.csv", rows)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, lang="en")
    probs = {p["rule"]: p for p in info.value.problems}
    assert set(probs) == {"missing_item_column", "unmatched_header"}
    assert probs["missing_item_column"]["values"] == ["CPROC_P2"]
    assert "CPROC_P5" not in probs["missing_item_column"]["allowed"]  # an item is no hint
    un = [p for p in info.value.problems if p["rule"] == "unmatched_header"]
    assert [p["column"] for p in un] == [rows[0][2].strip(), "What is your role?"]
    assert un[0]["values"] == ["closest missing item: CPROC_P2"]
    assert rows[0][2].strip() in str(info.value)
    rows[0][2] = text("CPROC_P2")
    write_csv(path, rows)
    items_equal(read_checked(path, INST, lang="en"), codes)


def test_text_header_mode_checks(tmp_path):
    codes = draw(seed=2)
    rows = google_rows(codes, grid=False)
    rows[0][3] = rows[0][2]  # two columns with the text of the same item
    path = write_csv(tmp_path / "g.csv", rows)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, lang="en")
    rules = {p["rule"] for p in info.value.problems}
    assert "duplicate_item_header" in rules and "missing_item_column" in rules
    with pytest.raises(SpecificationError, match="lang="):
        read_survey(path, INST, lang="sv")
    with pytest.raises(SpecificationError, match="header="):
        read_survey(path, INST, header="labels")
    with pytest.raises(SpecificationError, match="platform="):
        read_survey(path, INST, platform="typeform")


# --------------------------------------------------------------------------- Webropol
def webropol_rows(codes, *, lang="fi"):
    """ASSUMED Webropol layout (no published raw export was available to model it on):
    matrix questions as '<question> - <subitem>', answers as label text, ';' delimited."""
    q = {"fi": "Arvioi seuraavia väittämiä", "en": "Rate the following statements"}[lang]
    labels = CWI.scale_labels(lang)
    rows = [["Vastaaja", "Vastausaika", *[f"{q} - {text(it, lang)}" for it in ITEMS]]]
    for i, row in enumerate(codes):
        rows.append([i + 1, f"{i + 1}.5.2024 10:{i:02d}",
                     *["" if np.isnan(c) else labels[int(c)] for c in row]])
    return rows


def test_webropol_matrix_headings(tmp_path):
    codes = draw(seed=4)
    path = write_csv(tmp_path / "webropol.csv", webropol_rows(codes), delimiter=";",
                     encoding="utf-8-sig")
    df = read_checked(path, INST, platform="webropol", lang="fi", id_column="Vastaaja")
    items_equal(df, codes)
    plat = df.attrs["custval"]["platform"]
    assert plat["source"] == "webropol" and plat["detected_by"] == "given (platform=)"
    assert plat["column_map"] == {f"Arvioi seuraavia väittämiä - {text(it, 'fi')}": it
                                  for it in ITEMS}
    # without platform=: the same headers are read; the platform is not claimed
    df2 = read_checked(path, INST, lang="fi", id_column="Vastaaja")
    items_equal(df2, codes)
    assert df2.attrs["custval"]["platform"]["source"] is None
    assert df2.attrs["custval"]["platform"]["header_mode"] == "text"


# --------------------------------------------------------------------------- SurveyMonkey
SM_META = list(P.SURVEYMONKEY_META)


def sm_rows(codes, *, as_label=True, inst=INST, items=ITEMS, single_last=False,
            role=True):
    """SurveyMonkey 'All responses data' export (expanded): row 1 metadata names and question
    texts (a matrix question's text only above its first column), row 2 'Response' or the
    matrix row texts, then one row per respondent.  single_last: the last item is a question
    of its own (its text in row 1, 'Response' in row 2)."""
    q = "How well do these statements describe your firm?"
    matrix = items[:-1] if single_last else items
    row1 = [*SM_META, q, *[""] * (len(matrix) - 1)]
    row2 = [""] * len(SM_META) + [text(it, "en", inst) for it in matrix]
    if single_last:
        row1.append(text(items[-1], "en", inst))
        row2.append("Response")
    if role:
        row1.append("What is your role?")
        row2.append("Response")
    labels = CWI.scale_labels("en")
    rows = [row1, row2]
    for i, row in enumerate(codes):
        rows.append([11_400_000_000 + i, 400_123_456, f"05/{i + 1:02d}/2024 10:00:00 AM",
                     f"05/{i + 1:02d}/2024 10:0{i % 10}:00 AM", f"192.168.1.{i + 1}",
                     f"person{i}@example.com", f"First{i}", f"Last{i}", f"cust-{i}",
                     *["" if np.isnan(c) else (labels[int(c)] if as_label else int(c))
                       for c in row], *(["Manager"] if role else [])])
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_surveymonkey_two_header_rows(tmp_path, fmt):
    codes = draw(seed=12)
    rows = sm_rows(codes, single_last=fmt == "csv")
    path = tmp_path / f"Data_All_240601.{fmt}"
    write_xlsx(path, rows) if fmt == "xlsx" else write_csv(path, rows)
    with pytest.warns(PersonalDataWarning) as rec:
        df = read_checked(path, INST, id_column="Respondent ID")
    items_equal(df, codes)
    prov = df.attrs["custval"]
    plat = prov["platform"]
    assert plat["source"] == "surveymonkey" and plat["header_mode"] == "two_rows"
    assert sorted(v for v in plat["column_map"].values() if v in ITEMS) == sorted(ITEMS)
    assert plat["metadata_columns"] == SM_META
    assert prov["excluded"] == [{"reason": "extra header row (SurveyMonkey sub-question / "
                                           "answer-option row)", "n": 1, "rows": [2]}]
    assert prov["rows_read"] == len(codes) + 1 == prov["rows_returned"] + prov["rows_excluded"]
    assert df.columns[-1] == "What is your role?"
    personal = {d["column"] for d in prov["personal_data_columns"]}
    assert {"IP Address", "Email Address", "First Name", "Last Name",
            "Custom Data 1"} <= personal
    msg = " ".join(str(w.message) for w in rec)
    assert "192.168" not in msg and "example.com" not in msg and "First0" not in msg


def test_surveymonkey_numerical_values_full_cwi_customer_form(tmp_path):
    form = CWI.form("customer")
    codes = draw(n=10, items=form.items, seed=13)
    rows = sm_rows(codes, as_label=False, inst=CWI, items=form.items, role=False)
    path = write_xlsx(tmp_path / "sm.xlsx", rows)  # the matrix is the last question
    with pytest.warns(PersonalDataWarning):
        df = read_checked(path, form, id_column="Respondent ID")
    items_equal(df, codes, form.items)


def test_surveymonkey_error_never_shows_personal_values(tmp_path):
    codes = draw(seed=14)
    rows = sm_rows(codes, as_label=False)
    rows[4][9] = 12  # out of range, in a row whose IP and e-mail are personal data
    rows[5][0] = rows[4][0]  # duplicate respondent id
    path = write_csv(tmp_path / "sm.csv", rows)
    with pytest.raises(DataValidationError) as info:
        read_checked(path, INST, id_column="Respondent ID")
    probs = {p["rule"]: p for p in info.value.problems}
    assert probs["out_of_range"]["rows"] == [5] and probs["out_of_range"]["values"] == [12]
    assert probs["duplicate_id"]["rows"] == [5, 6]
    assert "192.168" not in str(info.value) and "example.com" not in str(info.value)


# --------------------------------------------------------------------------- detection
def test_detection_rules():
    assert P.detect(LIME_SYSTEM + ["Q1[SQ001]"], None)[0] == "limesurvey"
    # the four core columns alone (LimeSurvey before 3.0, or a hand-made file): not claimed
    assert P.detect(["id", "submitdate", "lastpage", "startlanguage", "A1"], None)[0] is None
    assert P.detect(["Response ID", "Date submitted", "Last page", "Start language"],
                    None)[0] == "limesurvey"
    assert P.detect(SM_META + ["Q1"], None)[0] == "surveymonkey"
    assert P.detect(["Timestamp", "Q"], None)[0] == "google_forms"
    assert P.detect(["Aikaleima", "Q"], None)[0] == "google_forms"
    assert P.detect(["id", "A1"], None)[0] is None


def test_plain_item_id_files_are_unchanged(tmp_path):
    inst = custval.Instrument.from_dict({"A": ["A1", "A2"]}, scale=(1, 5))
    path = write_csv(tmp_path / "p.csv", [["id", "A1", "A2"], [1, 2, 3], [2, 4, 5]])
    df = read_checked(path, inst, id_column="id")
    assert df.attrs["custval"]["platform"] == {
        "source": None, "detected_by": "", "header_mode": "id", "lang": None,
        "column_map": {}, "metadata_columns": []}
    assert "incomplete" not in df.attrs["custval"]


def test_forced_header_modes(tmp_path):
    codes = draw(seed=15)
    rows = lime_rows(codes, answer=lambda c: int(c), incomplete=())
    path = write_csv(tmp_path / "ls.csv", rows)
    with pytest.raises(DataValidationError) as info:  # text mode: the codes are no texts
        read_checked(path, INST, header="text", lang="en")
    assert {p["rule"] for p in info.value.problems} >= {"missing_item_column",
                                                        "unmatched_header"}
    items_equal(read_checked(path, INST, header="code"), codes)
    # the caller's columns= wins over the code rule for the columns it names
    df = read_checked(path, INST, columns={"CPROC[P1]": "CPROC_P1"})
    assert df.attrs["custval"]["platform"]["column_map"] == {
        f"CPROC[{it.split('_')[1]}]": it for it in ITEMS[1:]}
    items_equal(df, codes)


def test_answer_codes_declared_by_the_codebook_and_error_provenance(tmp_path):
    import dataclasses

    # a codebook that declares its answer codes (YAML: scale: answer_codes:)
    inst = dataclasses.replace(INST, answer_codes={f"A{k}": k for k in range(1, 8)})
    codes = draw(seed=16)
    rows = lime_rows(codes, answer=lambda c: f"A{int(c)}", incomplete=())
    rows[3][9] = "A8"  # code 8 = "don't know" in the codebook: missing, counted
    codes[2, 2] = np.nan
    path = write_csv(tmp_path / "ls.csv", rows)
    with pytest.raises(DataValidationError, match="A8"):  # 8 is not in {"A1": 1, .. "A7": 7}
        read_checked(path, inst)
    df = read_checked(path, inst, answer_codes={f"A{k}": k for k in range(1, 9)})  # wins
    items_equal(df, codes)
    assert rule_n(df, "dont_know_code") == 1
    rows[3][9] = "A2"
    codes[2, 2] = 2
    write_csv(path, rows)
    df = read_checked(path, inst)
    items_equal(df, codes)
    assert "answer codes declared by the codebook (answer_codes)" in \
        df.attrs["custval"]["platform"]["notes"]
    with pytest.raises(DataValidationError) as info:  # the same file without the codes
        read_checked(path, INST)
    assert info.value.provenance["platform"]["source"] == "limesurvey"
    assert info.value.provenance["platform"]["header_mode"] == "code"


def test_item_texts_holding_dashes_and_brackets(tmp_path):
    inst = custval.Instrument.from_dict(
        {"Q": ["Q1", "Q2"]}, scale=(1, 5), languages=("en",),
        texts={"Q1": "Quality - as we define it - is written down.",
               "Q2": "Our offering [goods and services] fits customers' needs."})
    rows = [["Respondent", "Rate - Quality - as we define it - is written down.",
             "Rate [Our offering [goods and services] fits customers' needs.]"],
            [1, 4, 5], [2, 2, ""]]
    path = write_csv(tmp_path / "w.csv", rows)
    df = read_checked(path, inst, platform="webropol")
    np.testing.assert_array_equal(df[["Q1", "Q2"]].to_numpy(), [[4, 5], [2, np.nan]])
    assert df.attrs["custval"]["platform"]["column_map"] == {rows[0][1]: "Q1",
                                                             rows[0][2]: "Q2"}


def test_callers_columns_are_respected_by_text_matching(tmp_path):
    codes = draw(seed=17)
    rows = google_rows(codes, grid=False)
    rows[0][1] = "q1"  # the caller maps this one; the others are matched by their texts
    path = write_csv(tmp_path / "g.csv", rows)
    df = read_checked(path, INST, lang="en", columns={"q1": "CPROC_P1"})
    items_equal(df, codes)
    assert "q1" not in df.attrs["custval"]["platform"]["column_map"]


def test_answer_codes_declared_in_the_codebook(tmp_path):
    # scale: answer_codes: in a YAML codebook is used when read_survey gets no answer_codes=
    import json

    codebook = {
        "format": "custval-codebook/1", "name": "ls_demo", "version": "1.0",
        "title": {"en": "LimeSurvey demo"}, "citation": "simulated", "languages": ["en"],
        "scale": {"min": 1, "max": 7, "answer_codes": r"AO?0*(\d+)"},
        "constructs": [{"id": "CPROC", "label": {"en": "Customer processes"},
                        "items": [{"id": it, "text": {"en": text(it)}} for it in ITEMS]}],
    }
    cb = tmp_path / "ls_demo.yaml"
    cb.write_text(json.dumps(codebook, indent=1), encoding="utf-8")  # JSON is YAML
    inst = custval.load_instrument(cb)
    assert inst.answer_codes == r"AO?0*(\d+)"
    codes = draw()
    path = write_csv(tmp_path / "ls.csv", lime_rows(codes), quote_all=True)
    with pytest.warns(IncompleteResponseWarning):
        df = read_checked(path, inst, id_column="id")
    items_equal(df, codes)
    (rec,) = [r for r in df.attrs["custval"]["rules"] if r["rule"] == "answer_code_to_code"]
    assert rec["answer_code_pattern"] == r"AO?0*(\d+)"
