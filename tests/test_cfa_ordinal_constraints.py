"""Ordered items in several groups with equality constraints ('==', labels shared across groups)
against lavaan 0.6-14 (goldens from tests/r/cfa_ordinal_constraints.R), and survey exports."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.exceptions import MissingDataWarning, SpecificationError
from tests.conftest import load_golden

ITEMS = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
CASES = ["groups_labels", "groups_eq_delta", "groups_eq_theta", "groups_eq_thresholds", "groups_eq_dwls"]


@functools.cache
def _bfi() -> pd.DataFrame:
    d = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    return d.dropna(subset=ITEMS + ["gender"]).reset_index(drop=True)


@functools.cache
def _fit(name: str) -> CFA:
    g = load_golden("cfa_ordinal_constraints", name)
    args = g["args"]
    kw = {"ordered": True, "group": "gender", "estimator": args["estimator"]}
    if "parameterization" in args:
        kw["parameterization"] = args["parameterization"]
    if "group.equal" in args:
        ge = args["group.equal"]
        kw["group_equal"] = (ge,) if isinstance(ge, str) else tuple(ge)
    return CFA(g["model"], **kw).fit(_bfi())


@pytest.mark.parametrize("name", CASES)
def test_parameters_match_lavaan(name):
    g = load_golden("cfa_ordinal_constraints", name)
    assert g["max_abs_gradient"] < 1e-7
    pe = pd.DataFrame(g["params"])
    pe = pe[pe["op"] != "=="].reset_index(drop=True)  # lavaan's '==' rows (custval reparametrises)
    ours = _fit(name).params_
    assert ours["lhs"].tolist() == pe["lhs"].tolist()
    assert ours["op"].tolist() == pe["op"].tolist()
    assert ours["rhs"].tolist() == pe["rhs"].fillna("").tolist()
    assert ours["group"].tolist() == pe["group"].tolist()
    # theta: lavaan's BFGS restart stops with a projected gradient of ~1e-8 (estimates ~2e-7)
    tol = 1e-6
    for ours_col, r_col in [("est", "est"), ("se", "se"), ("std_all", "std.all"), ("std_lv", "std.lv")]:
        np.testing.assert_allclose(ours[ours_col].to_numpy(float), pe[r_col].to_numpy(float), atol=tol,
                                   err_msg=f"{name}: {ours_col}")


FIT_KEYS = ["chisq", "df", "npar", "fmin", "chisq.scaled", "df.scaled", "chisq.scaling.factor", "cfi", "tli",
            "cfi.scaled", "tli.scaled", "rmsea", "rmsea.scaled", "rmsea.ci.upper.scaled", "srmr", "baseline.chisq",
            "baseline.chisq.scaled", "cfi.robust", "tli.robust", "rmsea.robust"]


@pytest.mark.parametrize("name", CASES)
def test_fit_measures_match_lavaan(name):
    g = load_golden("cfa_ordinal_constraints", name)
    fm = _fit(name).fit_measures_
    checked = 0
    for key in FIT_KEYS:
        want = g["fit"].get(key)
        if want is None:  # lavaan's NA (DWLS: no scaled test; equal thresholds: no robust indices)
            assert key not in fm.index or np.isnan(fm[key]), key
            continue
        np.testing.assert_allclose(fm[key], want, rtol=1e-6, atol=1e-10, err_msg=f"{name}: {key}")
        checked += 1
    assert checked >= (8 if name == "groups_eq_dwls" else 15)


def test_general_constraints_hold_at_the_estimates_and_count_in_df():
    fit = _fit("groups_eq_delta")
    p = fit.params_.set_index("label")
    est = {lab: p.loc[lab, "est"] for lab in ("a2m", "a2f", "a3m", "a3f", "c3m", "c3f", "c4m", "c4f")}
    assert est["a2m"] == pytest.approx(est["a2f"], abs=1e-12)
    assert est["c3m"] == pytest.approx(0.9 * est["c3f"], abs=1e-12)
    assert est["a3m"] + est["a3f"] == pytest.approx(-3.8, abs=1e-12)
    assert est["c4m"] - est["c4f"] == pytest.approx(est["c3m"] - est["c3f"], abs=1e-12)
    assert [c.replace(" ", "") for c in fit.constraints_] == ["c3m==0.9*c3f", "a3m+a3f==-3.8", "c4m-c4f==c3m-c3f"]
    # four independent constraints: four degrees of freedom more than the free model
    free = CFA("A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5", ordered=True,
               group="gender").fit(_bfi())
    assert fit.fit_measures_["df"] == free.fit_measures_["df"] + 4
    # the standard errors of the parameters the constraints tie move together
    assert p.loc["a3m", "se"] == pytest.approx(p.loc["a3f", "se"], rel=1e-10)
    assert fit.vcov_.shape == (len(fit.x_), len(fit.x_))
    # defined parameters of both groups (group 0, as lavaan)
    defs = fit.params_[fit.params_["op"] == ":="].set_index("lhs")
    assert defs.index.tolist() == ["dc4", "q"] and (defs["group"] == 0).all()
    assert defs.loc["dc4", "est"] == pytest.approx(est["c4m"] - est["c4f"], abs=1e-12)
    assert defs.loc["q", "est"] == pytest.approx(est["a3m"] * est["c3f"], abs=1e-12)


# ---------------------------------------------------------------- survey exports

SURVEY = "SAT =~ sat_1 + c(l2a, l2b)*sat_2 + c(l3a, l3b)*sat_3\nLOY =~ loy_1 + loy_2 + loy_3"


def _export(tmp_path, n=700, seed=11) -> pd.DataFrame:
    """A two-region panel export: BOM, quoted header, CRLF, a 'region' column of text labels,
    five-point items piled at the top, a few blank answers."""
    rng = np.random.default_rng(seed)
    region = np.where(rng.random(n) < 0.55, "North", "South")
    eta = rng.multivariate_normal([0, 0], [[1, 0.55], [0.55, 1]], size=n)
    out = {"ResponseId": [f"R_{i:05d}" for i in range(n)], "region": region}
    lam = [0.8, 0.7, 0.65, 0.75, 0.7, 0.6]
    for k, item in enumerate(["sat_1", "sat_2", "sat_3", "loy_1", "loy_2", "loy_3"]):
        ystar = lam[k] * eta[:, k // 3] + np.sqrt(1 - lam[k] ** 2) * rng.normal(size=n)
        out[item] = (np.searchsorted([-1.8, -1.0, -0.2, 0.6], ystar) + 1).astype(float)
    df = pd.DataFrame(out)
    df.loc[[5, 77, 300], "loy_2"] = np.nan
    path = tmp_path / "panel_export.csv"
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


def test_constraints_across_regions_on_a_panel_export(tmp_path):
    data = _export(tmp_path)
    model = SURVEY + "\nl2a == l2b\nl3a - l3b == 0.1"
    with pytest.warns(MissingDataWarning, match="3 row"):
        fit = CFA(model, ordered=True, group="region").fit(data)
    p = fit.params_.set_index("label")
    assert p.loc["l2a", "est"] == pytest.approx(p.loc["l2b", "est"], abs=1e-12)
    assert p.loc["l3a", "est"] - p.loc["l3b", "est"] == pytest.approx(0.1, abs=1e-12)
    assert fit.group_labels_ == ["North", "South"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        free = CFA(SURVEY, ordered=True, group="region").fit(data)
    assert fit.fit_measures_["df"] == free.fit_measures_["df"] + 2
    assert fit.fit_measures_["chisq"] >= free.fit_measures_["chisq"]
    assert np.isfinite(fit.params_["se"]).all()


def test_inequality_and_constraints_on_fixed_parameters_are_named_errors(tmp_path):
    data = _export(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        # (formerly a "not supported" error: '<' / '>' now fit by an active set, see
        # tests/test_cfa_ordinal_inequality.py); a bound above the free estimate binds
        free = CFA(SURVEY, ordered=True, group="region").fit(data)
        l2a = float(free.params_.set_index("label").loc["l2a", "est"])
        bound = round(l2a + 0.3, 3)
        fit = CFA(SURVEY + f"\nl2a > {bound}", ordered=True, group="region").fit(data)
        assert fit.active_inequalities_ == [f"l2a > {bound}"]
        assert float(fit.params_.set_index("label").loc["l2a", "est"]) == pytest.approx(bound, abs=1e-10)
        assert fit.fit_measures_["df"] == free.fit_measures_["df"]
        # item intercepts of ordered items are fixed at 0: a constraint on them names the row
        with pytest.raises(SpecificationError, match=r"sat_1 ~1.*not free with ordered items"):
            CFA(SURVEY + "\nsat_1 ~ c(i1, i2)*1\ni1 == 2 * i2", ordered=True, group="region").fit(data)
