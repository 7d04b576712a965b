"""Ordinal alpha and omega on a survey export: missing-value codes, a reverse item, an unused
category, skipped answers, and a 0-10 item that is not a Likert item.

The file is written to tmp_path (BOM, semicolons, CRLF) and read with
:func:`custval.read_survey` and its codebook; reverse items are keyed with the instrument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval.correlation import polychoric
from custval.exceptions import InsufficientDataError
from custval.reliability import cronbach_alpha, omega

CODEBOOK = """\
format: custval-codebook/1
name: service
version: "0.1"
title: {en: "Service pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 5}
missing: {codes: [-99]}
constructs:
  - id: SAT
    label: {en: "Satisfaction"}
    items:
      - {id: s1, text: {en: "Satisfied."}}
      - {id: s2, text: {en: "Met expectations."}}
      - {id: s3, text: {en: "Would not return."}, reverse: true}
      - {id: s4, text: {en: "Recommend."}}
"""


@pytest.fixture
def survey(tmp_path):
    rng = np.random.default_rng(7)
    n = 240
    latent = rng.normal(size=n)
    cols = {}
    for it in ["s1", "s2", "s3", "s4"]:
        y = 0.8 * latent + rng.normal(scale=0.6, size=n)
        code = np.digitize(y, [-1.2, -0.3, 0.5, 1.4]) + 1
        if it == "s3":
            code = 6 - code
        if it == "s4":
            code = np.where(code == 2, 3, code)  # category 2 never used
        cols[it] = code.astype(object)
    frame = pd.DataFrame(cols)
    frame.loc[[5, 17, 99], "s2"] = -99
    frame.loc[[40], "s4"] = ""
    lines = ['\ufeff"s1";"s2";"s3";"s4"'] + [";".join(str(v) for v in row) for row in frame.itertuples(index=False)]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    (tmp_path / "service.yaml").write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(tmp_path / "service.yaml")
    return custval.read_survey(path, inst), inst


def test_ordinal_alpha_on_an_export_keys_once_and_counts_rows(survey):
    data, inst = survey
    items = inst.keyed(data)[["s1", "s2", "s3", "s4"]]
    res = cronbach_alpha(items, cor="polychoric")
    assert res.n + res.n_excluded == len(data) == 240
    assert res.n_excluded == 4  # three -99 codes and one empty cell
    # equals alpha of custval's (psych-equal) polychoric matrix of the complete rows
    r = polychoric(items.dropna()).rho.to_numpy()
    assert res.estimate == pytest.approx(4 / 3 * (1 - 4 / r.sum()), abs=1e-12)
    pairwise = cronbach_alpha(items, cor="polychoric", nan_policy="pairwise")
    assert pairwise.n == 240 and pairwise.estimate != res.estimate
    # without keying the reverse item, alpha falls: keying matters
    assert cronbach_alpha(data[["s1", "s2", "s3", "s4"]], cor="polychoric").estimate < res.estimate
    om = omega(items, cor="polychoric", ci_method=None)
    assert om.n == 236 and om.omega_total > 0.5


def test_a_0_to_10_item_is_refused_for_polychorics(survey):
    data, inst = survey
    items = inst.keyed(data)[["s1", "s2", "s3", "s4"]].copy()
    items["nps"] = np.resize(np.arange(11), len(items)).astype(float)
    with pytest.raises(InsufficientDataError, match="at most 8 categories"):
        cronbach_alpha(items, cor="polychoric")
