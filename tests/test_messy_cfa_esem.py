"""Messy input for ESEM blocks in CFA syntax (realistic survey exports and model files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset
from custval.exceptions import MissingDataWarning, ModelSyntaxError, SpecificationError

ESEM = '''
# agreeableness and conscientiousness as one exploratory block, extraversion confirmatory
efa("ac")*agree + efa("ac")*consc =~ A1 + A2 + A3 + A4 + A5 +
                                     C1 + C2 + C3 + C4 + C5
extra =~ E1 + E2 + E3 + E4 + E5
'''
ITEMS = [f"{k}{i}" for k in "ACE" for i in range(1, 6)]


def _export(tmp_path, frame):
    """A survey-platform style CSV: BOM, a question-text row under the header, quoted fields, CRLF,
    unanswered questions as empty fields and as 'NA'."""
    path = tmp_path / "bfi_export.csv"
    text = frame.to_csv(index=False, lineterminator="\r\n", quoting=1, na_rep="")
    head, body = text.split("\r\n", 1)
    body = body.replace('"",', '"NA",', 25)
    path.write_bytes(("\ufeff" + head + "\r\n" + ",".join(f'"How well does {c} describe you?"'
                                                          for c in frame.columns) + "\r\n" + body).encode("utf-8"))
    return path


def test_survey_export_with_missing_answers(tmp_path):
    bfi = load_dataset("bfi").data
    frame = bfi[["gender"] + ITEMS].iloc[:800]
    path = _export(tmp_path, frame)
    raw = pd.read_csv(path, encoding="utf-8-sig", skiprows=[1], na_values=["NA", ""], keep_default_na=False)
    assert list(raw.columns) == ["gender"] + ITEMS
    incomplete = int(raw[ITEMS].isna().any(axis=1).sum())
    assert incomplete > 0
    with pytest.warns(MissingDataWarning, match=f"^{incomplete} row"):
        fit = custval.CFA(ESEM).fit(raw)
    # rows in = rows used + rows excluded
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(raw)
    # the same numbers as the complete rows of the frame itself
    ref = custval.CFA(ESEM).fit(frame.dropna(subset=ITEMS))
    np.testing.assert_allclose(fit.params_["est"], ref.params_["est"], atol=1e-10)
    p = fit.params_
    assert set(p.loc[p["op"] == "=~", "lhs"]) == {"agree", "consc", "extra"}
    # every item of the block loads on both exploratory factors, with a standard error
    block = p[(p["op"] == "=~") & p["lhs"].isin(["agree", "consc"])]
    assert len(block) == 20 and (block["se"] > 0).all()
    assert p.set_index(["lhs", "op", "rhs"]).loc[("agree", "~~", "consc"), "se"] > 0


def test_model_file_problems(tmp_path):
    hs = load_dataset("holzinger_swineford1939").data
    path = tmp_path / "esem.lav"
    path.write_bytes(b'efa("b1")*f1 + efa("b1")*f2 + efa("b1")*f3 + efa("b1")*f4 =~ x1 + x2\r\n')
    with pytest.raises(SpecificationError, match="'f4' of block 'b1' has 2 indicator.*needs at least 3"):
        custval.CFA(path.read_text(encoding="utf-8")).fit(hs)
    with pytest.raises(ModelSyntaxError, match="needs a block name"):
        custval.CFA('efa("")*f1 + efa("")*f2 =~ x1 + x2 + x3 + x4').fit(hs)
    with pytest.raises(SpecificationError, match="not with ordered items"):
        custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6', ordered=True).fit(
            hs.assign(**{f"x{i}": hs[f"x{i}"].round() for i in range(1, 7)}))


def test_modification_indices_of_an_esem_fit_is_an_error():
    hs = load_dataset("holzinger_swineford1939").data
    fit = custval.CFA('efa("b")*f1 + efa("b")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6\nspeed =~ x7 + x8 + x9').fit(hs)
    with pytest.raises(SpecificationError, match="exploratory \\(ESEM\\) blocks"):
        fit.modification_indices()
    text = fit.summary()
    assert "GEOMIN OBLIQUE" in text
    # the block's echelon rows (free 0 in lavaan's table) show their standard errors too
    line = [t for t in text.splitlines() if t.strip().startswith("x1")][1]
    assert len(line.split()) == 7
