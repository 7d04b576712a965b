"""Printable questionnaire and data-entry templates: content and the read_survey round trip."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from custval import load_instrument, read_survey
from custval.exceptions import SpecificationError
from custval.questionnaire import META_COLUMNS, data_entry_template, make_questionnaire
from custval.simulate import case_study

CWI = load_instrument("cwi")


@pytest.mark.parametrize("form", ["provider", "customer"])
@pytest.mark.parametrize("lang", ["en", "fi"])
def test_questionnaire_has_every_item_and_option(form, lang, tmp_path):
    sub = CWI.form(form)
    doc = make_questionnaire(CWI, form=form, lang=lang, path=tmp_path / "q.html")
    assert (tmp_path / "q.html").read_text(encoding="utf-8") == doc
    assert doc.count('<tr class="item"') == len(sub.items)
    for iid in sub.items:
        assert f'data-item="{iid}"' in doc
        text = sub.item(iid).text[lang].replace("'", "&#x27;").replace('"', "&quot;")
        assert text in doc
    for label in sub.scale_labels(lang).values():
        assert label in doc
    assert sub.dont_know_labels[lang][0].replace("'", "&#x27;") in doc
    assert CWI.title(lang) in doc
    # 7 scale boxes plus "don't know" per item
    assert doc.count('<td class="box') == 8 * len(sub.items)


def test_questionnaire_bad_language():
    with pytest.raises(SpecificationError, match="sv"):
        make_questionnaire(CWI, form="provider", lang="sv")


@pytest.mark.parametrize("form", ["provider", "customer"])
def test_template_round_trip(form, tmp_path):
    sub = CWI.form(form)
    xlsx, csv_path = data_entry_template(CWI, form=form, path=tmp_path / f"cwi_{form}")
    header = [*META_COLUMNS, *sub.items]
    # empty templates read back with the same columns
    for p in (xlsx, csv_path):
        df = read_survey(p, sub, id_column="respondent_id")
        assert list(df.columns) == header and len(df) == 0
    # filled with simulated answers (codes 1-7, 8 = don't know, blanks)
    cs = case_study(seed=11)
    data = (cs.provider if form == "provider" else cs.customer).iloc[:25]
    wb = load_workbook(xlsx)
    ws = wb["data"]
    for row in data.itertuples(index=False):
        ws.append([None if isinstance(v, float) and np.isnan(v) else (int(v) if isinstance(v, float) else v)
                   for v in row])
    wb.save(xlsx)
    with open(csv_path, "a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for row in data.itertuples(index=False):
            w.writerow(["" if isinstance(v, float) and np.isnan(v) else
                        (int(v) if isinstance(v, float) else v) for v in row])
    expected = data[list(sub.items)].where(data[list(sub.items)] != 8)
    for p in (xlsx, csv_path):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = read_survey(p, sub, id_column="respondent_id")
        assert list(df.columns) == header
        assert df["respondent_id"].tolist() == data["respondent_id"].tolist()
        assert df["account"].tolist() == data["account"].tolist()
        pd.testing.assert_frame_equal(df[list(sub.items)].reset_index(drop=True),
                                      expected.reset_index(drop=True), check_dtype=False)
        n_dk = sum(r["n"] for r in df.attrs["custval"]["rules"] if r["rule"] == "dont_know_code")
        assert n_dk == int((data[list(sub.items)] == 8).sum().sum())


def test_template_codebook_sheet(tmp_path):
    xlsx, _ = data_entry_template("cwi", form="customer", path=tmp_path / "c.xlsx", lang="fi")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["data", "codebook"]
    rows = list(wb["codebook"].iter_rows(values_only=True))
    assert rows[0] == ("item", "construct", "text", "reverse", "codes")
    assert rows[1][0] == "CPROC_C1" and rows[1][2] == CWI.item("CPROC_C1").text["fi"]
    assert "8 = En osaa sanoa" in rows[1][4]
    assert wb["data"].data_validations.dataValidation[0].formula1 == '"1,2,3,4,5,6,7,8"'
