"""Linear inequality constraints ('<', '>') in CFA fits with ordered items (one group), against
lavaan 0.6-14 (tests/r/cfa_ordinal_inequality.R: ``cfa(..., ordered = TRUE)`` with ``a < -2``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval.cfa import CFA
from custval.exceptions import MissingDataWarning

GOLD = Path(__file__).parent / "golden" / "cfa_ordinal_inequality"
M = "A =~ A1 + a*A2 + A3 + A4 + A5\nC =~ C1 + C2 + c*C3 + C4 + C5"
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
CASES = {"bfi_active": M + "\na < -2\nc > 0.5", "bfi_inactive": M + "\na < -1\nc > 0.5"}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    data = custval.load_dataset("bfi").data.dropna(subset=AC)
    fit = CFA(CASES[request.param], ordered=True).fit(data)
    return request.param, fit, json.loads((GOLD / f"{request.param}.json").read_text())


def test_estimates_standard_errors_and_tests_equal_lavaan(case):
    name, fit, gold = case
    pe = pd.DataFrame(gold["params"])
    pe = pe[~pe["op"].isin(["<", ">"])].reset_index(drop=True)
    ours = fit.params_[fit.params_["op"] != "=="].reset_index(drop=True)
    assert list(ours["lhs"] + ours["op"] + ours["rhs"]) == list(pe["lhs"] + pe["op"] + pe["rhs"])
    np.testing.assert_allclose(ours["est"], pe["est"], atol=1e-5)
    has_se = pe["se"].notna().to_numpy()
    np.testing.assert_allclose(ours["se"][has_se], pe["se"][has_se], atol=1e-5)
    # lavaan reports no standard error for a parameter held at its bound; custval 0
    assert (ours.loc[~has_se, "se"] == 0).all()
    fm = gold["fit"]
    for key in ("npar", "df"):
        assert fit.fit_measures_[key] == fm[key]
    for key in ("chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"):
        assert fit.fit_measures_[key] == pytest.approx(fm[key], rel=1e-5)
    active = ["a < -2"] if name == "bfi_active" else []
    assert fit.inequalities_ == CASES[name].splitlines()[2:] and fit.active_inequalities_ == active
    a = fit.params_[(fit.params_["op"] == "=~") & (fit.params_["rhs"] == "A2")]["est"].iloc[0]
    assert a <= (-2 if name == "bfi_active" else -1) + 1e-9


def test_an_active_bound_on_a_survey_export(tmp_path):
    """A semicolon export with a BOM, CRLF and a -99 code: the bound holds, df is that of the model
    without it, and the fit is the one with the bound written as an equality."""
    rng = np.random.default_rng(11)
    n = 400
    eta = rng.normal(size=n)
    cols = {f"q{i}": np.digitize(lam * eta + rng.normal(scale=0.7, size=n), [-1.0, 0.0, 1.0]) + 1
            for i, lam in enumerate([0.9, 0.8, 0.7, 0.6], start=1)}
    frame = pd.DataFrame(cols).astype(object)
    frame.loc[7, "q3"] = -99
    lines = ['\ufeff"q1";"q2";"q3";"q4"'] + [";".join(map(str, r)) for r in frame.itertuples(index=False)]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    data = pd.read_csv(path, sep=";", encoding="utf-8-sig").replace(-99, np.nan)
    model = "F =~ q1 + q2 + b*q3 + q4"
    with pytest.warns(MissingDataWarning):
        free = CFA(model, ordered=True).fit(data)
    bound = float(free.params_.query("rhs == 'q3' and op == '=~'")["est"].iloc[0]) + 0.2
    with pytest.warns(MissingDataWarning):
        fit = CFA(model + f"\nb > {bound}", ordered=True).fit(data)
    with pytest.warns(MissingDataWarning):
        eq = CFA(model + f"\nb == {bound}", ordered=True).fit(data)
    assert fit.active_inequalities_ == [f"b > {bound}"]
    np.testing.assert_allclose(fit.params_["est"].to_numpy()[:4], eq.params_["est"].to_numpy()[:4], atol=1e-8)
    assert fit.fit_measures_["chisq"] == pytest.approx(eq.fit_measures_["chisq"], rel=1e-8)
    assert fit.fit_measures_["df"] == free.fit_measures_["df"] == eq.fit_measures_["df"] - 1
    assert fit.fit_measures_["chisq"] > free.fit_measures_["chisq"]
