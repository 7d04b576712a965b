"""Linear inequality constraints ('<', '>') in CFA fits with ordered items (one and two groups),
against lavaan 0.6-14 (tests/r/cfa_ordinal_inequality.R: ``cfa(..., ordered = TRUE)`` with
``a < -2``)."""

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
MG = "A =~ A1 + c(a1, a2)*A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
CASES = {
    "bfi_active": (M + "\na < -2\nc > 0.5", {}),
    "bfi_inactive": (M + "\na < -1\nc > 0.5", {}),
    # two groups (gender): a2 binds, a1 does not
    "bfi_groups_active": (MG + "\na1 > -2.5\na2 < -2", {"group": "gender"}),
}
ACTIVE = {"bfi_active": ["a < -2"], "bfi_inactive": [], "bfi_groups_active": ["a2 < -2"]}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    model, kw = CASES[request.param]
    data = custval.load_dataset("bfi").data.dropna(subset=AC + (["gender"] if kw else []))
    fit = CFA(model, ordered=True, **kw).fit(data)
    return request.param, fit, json.loads((GOLD / f"{request.param}.json").read_text())


def test_estimates_standard_errors_and_tests_equal_lavaan(case):
    name, fit, gold = case
    pe = pd.DataFrame(gold["params"])
    pe = pe[~pe["op"].isin(["<", ">"])].reset_index(drop=True)
    ours = fit.params_[fit.params_["op"] != "=="].reset_index(drop=True)
    assert list(ours["lhs"] + ours["op"] + ours["rhs"]) == list(pe["lhs"] + pe["op"] + pe["rhs"])
    if "group" in pe.columns:
        assert list(ours["group"]) == list(pe["group"])
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
    assert fit.inequalities_ == CASES[name][0].splitlines()[2:] and fit.active_inequalities_ == ACTIVE[name]
    a = fit.params_[(fit.params_["op"] == "=~") & (fit.params_["rhs"] == "A2")]["est"].iloc[-1]
    assert a <= (-1 if name == "bfi_inactive" else -2) + 1e-9


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


def test_a_bound_on_a_parameter_that_is_not_free_with_ordered_items_names_it():
    data = custval.load_dataset("bfi").data.dropna(subset=AC + ["gender"])
    with pytest.raises(custval.exceptions.SpecificationError,
                       match=r"an '<' / '>' constraint involves a parameter \(A1 ~1\) that is not free"):
        CFA(MG + "\nA1 ~ c(i1, i2)*1\ni1 > 0", ordered=True, group="gender").fit(data)
