"""custval.validity.omega_hierarchical against semTools::compRelSEM(return.total = TRUE) (tests/r/bifactor_omega.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval import load_dataset
from custval.cfa import CFA
from custval.exceptions import SpecificationError
from custval.validity import omega_hierarchical

GOLD = json.loads((Path(__file__).parent / "golden" / "validity" / "bifactor_omega.json").read_text())
ITEMS = [f"{s}{i}" for s in "ACE" for i in range(1, 6)]
ORTHO = "\ng ~~ 0*sA\ng ~~ 0*sC\ng ~~ 0*sE\nsA ~~ 0*sC\nsA ~~ 0*sE\nsC ~~ 0*sE"


@pytest.fixture(scope="module")
def data():
    x = load_dataset("bfi").data[ITEMS].dropna().copy()
    x[["A1", "C4", "C5", "E1", "E2"]] = 7 - x[["A1", "C4", "C5", "E1", "E2"]]
    return x


@pytest.fixture(scope="module")
def fit(data):
    return CFA(GOLD["model"] + ORTHO, std_lv=True).fit(data)


def test_against_semtools(fit, data):
    assert len(data) == GOLD["n"]
    assert fit.fit_measures_["chisq"] == pytest.approx(GOLD["chisq"], abs=1e-4)
    om = omega_hierarchical(fit)
    for k, v in GOLD["omega_observed"].items():
        assert om.at[k, "omega"] == pytest.approx(v, abs=1e-5), k
    for k, v in GOLD["omega_implied"].items():
        assert om.at[k, "omega_implied"] == pytest.approx(v, abs=1e-5), k
    assert om.attrs["ecv"] == pytest.approx(GOLD["ecv"], abs=1e-5)
    assert list(om["role"]) == ["general", "specific", "specific", "specific", "total"]
    assert om.at["sA", "n_items"] == 5 and om.at["total", "n_items"] == 15
    # omega_h is the general factor's share, below omega total
    assert om.at["g", "omega"] < om.at["total", "omega"]


def test_correlated_factors_are_refused(data, tmp_path):
    fit = CFA(GOLD["model"] + "\ng ~~ 0*sA\ng ~~ 0*sC\ng ~~ 0*sE", std_lv=True).fit(data)
    with pytest.raises(SpecificationError, match=r"fix sA ~~ sC, sA ~~ sE, sC ~~ sE to 0"):
        omega_hierarchical(fit)


def test_no_general_factor_named(data):
    hs = load_dataset("holzinger_swineford1939").data
    fit = CFA("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ 0*textual").fit(hs)
    with pytest.raises(SpecificationError, match="no factor is measured by every item"):
        omega_hierarchical(fit)
    with pytest.raises(SpecificationError, match="general='g' is not a factor"):
        omega_hierarchical(fit, general="g")


def test_item_on_two_specific_factors(data):
    model = GOLD["model"].replace("sC =~ C1", "sC =~ A5 + C1") + ORTHO
    fit = CFA(model, std_lv=True).fit(data)
    with pytest.raises(SpecificationError, match="item A5 loads on the specific factors sA and sC"):
        omega_hierarchical(fit)


def test_from_a_messy_export(tmp_path, data):
    """A semicolon CSV with a BOM and a label row, read as a survey export: same omegas."""
    path = tmp_path / "bfi_export.csv"
    text = data.to_csv(index=False, sep=";", lineterminator="\r\n")
    head, body = text.split("\r\n", 1)
    path.write_bytes(("\ufeff" + head + "\r\n" + ";".join(f"Item {c}" for c in data.columns) + "\r\n" + body)
                     .encode("utf-8"))
    x = pd.read_csv(path, sep=";", encoding="utf-8-sig", skiprows=[1])
    om = omega_hierarchical(CFA(GOLD["model"] + ORTHO, std_lv=True).fit(x))
    assert np.isclose(om.at["g", "omega"], GOLD["omega_observed"]["g"], atol=1e-5)
