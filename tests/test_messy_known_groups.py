"""Known-groups and criterion validity on a survey export as it arrives: a group column with a
blank and a third answer, a criterion typed with text, a respondent who skipped a whole scale.

The file is written to tmp_path (BOM, semicolons, CRLF, quotes) and read with
:func:`custval.read_survey` and its codebook.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import (
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

CODEBOOK = """\
format: custval-codebook/1
name: loyalty
version: "0.1"
title: {en: "Loyalty pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 5}
missing: {codes: [-99]}
constructs:
  - id: SAT
    label: {en: "Satisfaction"}
    items:
      - {id: sat1, text: {en: "I am satisfied."}}
      - {id: sat2, text: {en: "I would not recommend it."}, reverse: true}
variables:
  segment: {type: categorical, categories: [new, loyal, other], required: false}
  spend: {type: text, required: false}
"""

ROWS = [("new", 2, 4, "120"), ("new", 3, 3, "80"), ("new", 2, 5, "95"), ("new", 1, 4, "60"),
        ("loyal", 4, 2, "300"), ("loyal", 5, 1, "410"), ("loyal", 4, 1, "n/a"), ("loyal", 5, 2, "280"),
        ("", 3, 3, "150"), ("other", 4, 2, "200"), ("loyal", -99, -99, "350")]


@pytest.fixture
def survey(tmp_path):
    cb = tmp_path / "loyalty.yaml"
    cb.write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(cb)
    lines = ['\ufeff"segment";"sat1";"sat2";"spend"'] + [f'"{g}";{a};{b};"{s}"' for g, a, b, s in ROWS]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return custval.read_survey(path, inst), inst


def test_known_groups_on_an_export_counts_every_row(survey):
    data, inst = survey
    with pytest.warns(MissingDataWarning, match=r"1 without a 'segment' value, 1 in other 'segment' groups"):
        res = custval.known_groups(data, inst, group="segment", groups=("new", "loyal"), expected={"SAT": "higher"})
    # 11 rows = 4 new + 4 loyal scored + 1 loyal without a score + 1 blank + 1 other
    desc = res.descriptives
    assert desc.loc[("SAT", "new"), "n"] == 4 and desc.loc[("SAT", "loyal"), "n"] == 4
    assert res.n_excluded == {"without a 'segment' value": 1, "in other 'segment' groups": 1}
    # keyed scores: sat2 reversed (6 - x)
    new = np.array([(2 + 2) / 2, (3 + 3) / 2, (2 + 1) / 2, (1 + 2) / 2])
    loyal = np.array([(4 + 4) / 2, (5 + 5) / 2, (4 + 5) / 2, (5 + 4) / 2])
    pooled = np.sqrt((3 * new.var(ddof=1) + 3 * loyal.var(ddof=1)) / 8)
    assert res.table.loc[("SAT", "cohen_d"), "estimate"] == pytest.approx((loyal.mean() - new.mean()) / pooled)
    assert res.to_frame().loc["SAT", "verdict"] == "supported"


def test_a_group_column_with_three_answers_needs_groups(survey):
    data, inst = survey
    with pytest.raises(SpecificationError, match=r"'segment' has 3 values \['loyal', 'new', 'other'\].*groups="):
        custval.known_groups(data, inst, group="segment")
    with pytest.raises(DataValidationError, match=r"no row with value\(s\) \['vip'\]"):
        custval.known_groups(data, inst, group="segment", groups=("new", "vip"))


def test_a_criterion_typed_with_text_is_an_error_naming_column_and_value(survey):
    data, inst = survey
    with pytest.raises(DataValidationError, match=r"\['spend'\] are not numeric.*'n/a'"):
        custval.criterion_validity(data, inst, criteria=["spend"])
    clean = data.assign(spend=pd.to_numeric(data["spend"].replace("n/a", np.nan)))
    res = custval.criterion_validity(clean, inst, criteria="spend")
    # 11 rows: 'n/a' spend and the unscored respondent drop out of this pair only
    assert res.table.loc[("SAT", "spend"), "n"] == 9
    with pytest.raises(SpecificationError, match=r"\['sat1'\] are items of the instrument"):
        custval.criterion_validity(clean, inst, criteria=["sat1"])


def test_too_small_a_group_is_an_error(survey):
    data, inst = survey
    small = data[(data["segment"] != "loyal") | ((data["sat1"] == 5) & (data["sat2"] == 1))]
    with pytest.warns(MissingDataWarning):
        with pytest.raises(InsufficientDataError, match=r"'SAT' has 4 .* and 1 in 'loyal'"):
            custval.known_groups(small, inst, group="segment", groups=("new", "loyal"))
