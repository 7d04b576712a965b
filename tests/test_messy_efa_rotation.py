"""Messy input for EFA's lavaan convention, rotation options and targets (realistic files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset
from custval.exceptions import SpecificationError


@pytest.fixture(scope="module")
def hs():
    return load_dataset("holzinger_swineford1939").data.loc[:, "x1":"x9"]


def _export(tmp_path, frame):
    """A survey-platform style CSV: BOM, a question-text header row, quoted fields, CRLF."""
    path = tmp_path / "pilot_export.csv"
    text = frame.to_csv(index=False, lineterminator="\r\n", quoting=1)
    head, body = text.split("\r\n", 1)
    path.write_bytes(("\ufeff" + head + "\r\n" + ",".join(f'"Q{c}"' for c in frame.columns) + "\r\n"
                      + body).encode("utf-8"))
    return path


def _read(path):
    raw = pd.read_csv(path, encoding="utf-8-sig", skiprows=[1])
    return raw


def test_lavaan_convention_refuses_pairwise_with_missing_rows(tmp_path, hs):
    messy = hs.copy()
    messy.loc[[3, 17], "x4"] = np.nan
    data = _read(_export(tmp_path, messy))
    with pytest.raises(SpecificationError, match=r"2 row\(s\) have missing item values.*nan_policy='listwise'"):
        custval.EFA(3, method="ml", rotation="geomin", convention="lavaan").fit(data)
    efa = custval.EFA(3, method="ml", rotation="geomin", convention="lavaan", nan_policy="listwise",
                      n_starts=5).fit(data)
    assert efa.n_obs_ == 299 and efa.n_excluded_ == 2  # rows in = rows used + rows excluded
    assert efa.fit_["ntotal"] == 299


def test_lavaan_convention_needs_ml(hs):
    with pytest.raises(SpecificationError, match="use method='ml'"):
        custval.EFA(3, method="minres", convention="lavaan").fit(hs)
    with pytest.raises(SpecificationError, match="convention must be one of"):
        custval.EFA(3, convention="mplus").fit(hs)
    with pytest.raises(SpecificationError, match="use convention='psych' for rotation='promax'"):
        custval.EFA(3, method="ml", rotation="promax", convention="lavaan").fit(hs)


def test_too_many_factors_for_lavaan(hs):
    with pytest.raises(SpecificationError, match="free parameters but the covariance matrix has only 45"):
        custval.EFA(6, method="ml", rotation="geomin", convention="lavaan").fit(hs)


def test_unknown_rotation_option_is_named(hs):
    with pytest.raises(SpecificationError, match=r"rotation_kwargs \['kappa'\] not understood.*allowed: \['epsilon'"):
        custval.EFA(3, rotation="geomin", rotation_kwargs={"kappa": 4}).fit(hs)
    with pytest.raises(SpecificationError, match="epsilon must be a positive number"):
        custval.EFA(3, rotation="geomin", rotation_kwargs={"epsilon": -0.1}).fit(hs)
    with pytest.raises(SpecificationError, match="'epsilon' or its alias 'delta', not both"):
        custval.EFA(3, rotation="geomin", rotation_kwargs={"epsilon": 0.001, "delta": 0.01}).fit(hs)


def test_target_read_from_a_spreadsheet_export(tmp_path, hs):
    """A target typed in a spreadsheet: blank = unspecified, rows in another order, item ids as text."""
    path = tmp_path / "target.csv"
    path.write_bytes(
        "\ufeffitem;visual;textual;speed\r\n"
        "x9;;0;\r\nx8;0;0;\r\nx7;0;0;\r\nx6;0;;0\r\nx5;0;;0\r\nx4;0;;0\r\nx3;;0;0\r\nx2;;0;0\r\nx1;;0;0\r\n"
        .encode("utf-8")
    )
    target = pd.read_csv(path, sep=";", encoding="utf-8-sig", index_col="item")
    efa = custval.EFA(3, method="ml", rotation="target", rotation_kwargs={"target": target}).fit(hs)
    assert list(efa.loadings_.columns) == ["visual", "textual", "speed"]
    assert efa.loadings_.loc["x5", "textual"] > 0.8 and abs(efa.loadings_.loc["x5", "visual"]) < 0.2


def test_target_with_wrong_rows_names_them(hs):
    t = pd.DataFrame(np.nan, index=[f"x{i}" for i in range(1, 9)] + ["q10"], columns=["a", "b", "c"])
    t.iloc[0, 1] = 0
    with pytest.raises(SpecificationError, match="missing rows: x9; rows that are not items analysed: q10"):
        custval.EFA(3, rotation="target", rotation_kwargs={"target": t}).fit(hs)
    with pytest.raises(SpecificationError, match="shape \\(9, 2\\); it must be 9 items x 3 factors"):
        custval.EFA(3, rotation="target", rotation_kwargs={"target": np.zeros((9, 2))}).fit(hs)
    with pytest.raises(SpecificationError, match="specifies no cell"):
        custval.EFA(3, rotation="target", rotation_kwargs={"target": np.full((9, 3), np.nan)}).fit(hs)
    with pytest.raises(SpecificationError, match="needs rotation_kwargs=\\{'target': T\\}"):
        custval.EFA(3, rotation="target").fit(hs)
    bad = pd.DataFrame("", index=[f"x{i}" for i in range(1, 10)], columns=["a", "b", "c"])
    with pytest.raises(SpecificationError, match="must be numeric"):
        custval.EFA(3, rotation="target", rotation_kwargs={"target": bad}).fit(hs)
    inf = np.zeros((9, 3))
    inf[4, 2] = np.inf
    with pytest.raises(SpecificationError, match="infinite value for item x5, factor 3"):
        custval.EFA(3, rotation="target", rotation_kwargs={"target": inf}).fit(hs)


def test_esem_block_in_cfa_syntax_fits_as_lavaan(tmp_path):
    """A model file written for lavaan's ESEM (CRLF, comments) now fits as lavaan::cfa(rotation = "geomin").

    (This test used to expect a ModelSyntaxError: ESEM blocks were not supported.)
    """
    import json
    from pathlib import Path

    path = tmp_path / "esem_model.lav"
    path.write_bytes(b"# ESEM: two exploratory factors and one CFA factor\r\n"
                     b"efa(\"b1\")*f1 + efa(\"b1\")*f2 =~ x1 + x2 + x3 + x4 + x5 + x6\r\n"
                     b"speed =~ x7 + x8 + x9\r\n")
    hs_all = load_dataset("holzinger_swineford1939").data
    fit = custval.CFA(path.read_text(encoding="utf-8")).fit(hs_all)
    gold = json.loads((Path(__file__).parent / "golden" / "cfa_esem" / "hs_esem.json").read_text())
    g = pd.DataFrame(gold["params"]).replace({"visual": "f1", "textual": "f2"}).set_index(["lhs", "op", "rhs"])
    mine = fit.params_.set_index(["lhs", "op", "rhs"]).loc[g.index]
    np.testing.assert_allclose(mine["est"], g["est"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(mine["se"], g["se"], atol=1e-5, rtol=0)
