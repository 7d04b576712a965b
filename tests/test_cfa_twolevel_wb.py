"""Two-level CFA with within-only and between-only variables, against lavaan 0.6-14.

Goldens: tests/r/cfa_twolevel_wb.R (simulated nested data with known truth, written
as CSV fixtures: 60 firms x 8 with integer ids, 70 firms of 2-15 respondents with
string ids, rows shuffled).  ``xw`` is a within-only item (named only in
``level: 1``), ``z`` a between-only variable (named only in ``level: 2``, one
value per firm).  Model A has ``xw``, model B ``z``, model C both, model D both with
a saturated between model, model E ``z`` uncorrelated with the between factor.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval import CFA, multilevel_omega
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

GOLD = Path(__file__).parent / "golden" / "cfa_twolevel"
# D: a saturated between model with z; E: z on its own at level 2 (no factor)
CASES = ["wb_A_balanced", "wb_A_unbalanced", "wb_B_balanced", "wb_B_unbalanced", "wb_C_unbalanced",
         "wb_D_unbalanced", "wb_E_unbalanced"]


def _case(name):
    g = json.loads((GOLD / f"{name}.json").read_text())
    d = pd.read_csv(GOLD / ("wb_balanced.csv" if name.endswith("_balanced") else "wb_unbalanced.csv"))
    return g, d


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    g, d = _case(request.param)
    return g, d, CFA(g["model"], cluster="firm").fit(d)


def _only(g):
    w, b = g["within_names"], g["between_names"]
    return [v for v in w if v not in b], [v for v in b if v not in w]


def test_estimates_and_standard_errors_match_lavaan(fitted):
    g, _, fit = fitted
    pe = pd.DataFrame(g["pe"])
    mine = fit.params_
    for col in ("lhs", "op", "rhs", "level"):
        assert list(mine[col]) == list(pe[col]), col
    np.testing.assert_allclose(mine["est"], pe["est"], atol=1e-5)
    np.testing.assert_allclose(mine["se"], pe["se"], atol=1e-5)
    np.testing.assert_allclose(mine["std_all"], pe["std.all"].astype(float), atol=1e-5)
    # lavaan's conventions: a within-only variable's mean is its level-1 intercept
    # (free) and it has no level-2 row; a between-only variable has no level-1 row
    w_only, b_only = _only(g)
    ints = mine[mine["op"] == "~1"]
    for v in w_only:
        assert ints.loc[(ints["lhs"] == v) & (ints["level"] == 1), "free"].item() > 0
        assert not ((mine["level"] == 2) & ((mine["lhs"] == v) | (mine["rhs"] == v))).any()
    for v in b_only:
        assert ints.loc[(ints["lhs"] == v) & (ints["level"] == 2), "free"].item() > 0
        assert not ((mine["level"] == 1) & ((mine["lhs"] == v) | (mine["rhs"] == v))).any()
    both = [v for v in g["within_names"] if v not in w_only]
    assert (ints.loc[ints["lhs"].isin(both) & (ints["level"] == 1), "free"] == 0).all()
    assert (ints.loc[ints["lhs"].isin(both) & (ints["level"] == 2), "free"] > 0).all()


def test_truth_is_recovered(fitted):
    g, _, fit = fitted
    p = fit.params_
    t = g["truth"]
    lw = p[(p["level"] == 1) & (p["op"] == "=~")].set_index("rhs")["est"]
    assert lw["y2"] == pytest.approx(t["lw"][1], abs=0.15) and lw["y3"] == pytest.approx(t["lw"][2], abs=0.15)
    means = fit.implied_mean_
    assert means["y1"] == pytest.approx(t["nu"][0], abs=0.3)
    if "xw" in means:
        assert means["xw"] == pytest.approx(t["mu_xw"], abs=0.15)
    if "z" in means:
        assert means["z"] == pytest.approx(t["mu_z"], abs=0.3)


def test_fit_measures_match_lavaan(fitted):
    g, d, fit = fitted
    fm, ref = fit.fit_measures_, g["fit"]
    assert fm["logl"] == pytest.approx(ref["logl"], abs=1e-8)
    for k in ["aic", "bic", "bic2", "npar", "df", "baseline.df", "ntotal", "fmin"]:
        assert fm[k] == pytest.approx(ref[k], abs=1e-7), k
    assert fm["ntotal"] == len(d)
    # df: pW (pW + 1) / 2 + pB (pB + 1) / 2 + p sample statistics
    pw, pb = len(g["within_names"]), len(g["between_names"])
    p = len(set(g["within_names"]) | set(g["between_names"]))
    assert fm["df"] == pw * (pw + 1) // 2 + pb * (pb + 1) // 2 + p - fm["npar"]
    # H1 maximised fully: lavaan's own loglik function maximised by BFGS in R
    assert fm["unrestricted.logl"] == pytest.approx(g["h1_full"]["logl"], abs=1e-6)
    assert fm["unrestricted.logl"] > ref["unrestricted.logl"]
    assert fm["chisq"] == pytest.approx(g["chisq_full"], abs=1e-6)
    diff = fm["chisq"] - ref["chisq"]
    assert diff == pytest.approx(2 * (fm["unrestricted.logl"] - ref["unrestricted.logl"]), abs=1e-6)
    assert 0 < diff < 0.01
    # the baseline (independence) loglik is lavaan's
    assert fm["unrestricted.logl"] - fm["baseline.chisq"] / 2 == pytest.approx(
        ref["unrestricted.logl"] - ref["baseline.chisq"] / 2, abs=1e-5)
    for k in ["cfi", "tli", "rmsea", "srmr_within", "srmr_between"]:
        assert fm[k] == pytest.approx(ref[k], abs=2e-3), k
    assert fm["srmr"] == pytest.approx(fm["srmr_within"] + fm["srmr_between"], rel=1e-12)


def test_level_matrices_match_lavaan(fitted):
    g, _, fit = fitted
    for level, key, names in (("within", "sigma_w", "within_names"), ("between", "sigma_b", "between_names")):
        for frame in (fit.implied_cov_[level], fit.sample_cov_[level]):
            assert list(frame.index) == list(frame.columns) == g[names]
        np.testing.assert_allclose(fit.implied_cov_[level].to_numpy(), np.asarray(g["implied"][key]), atol=1e-6)
        s = np.asarray(g["h1_full"][key])
        np.testing.assert_allclose(fit.sample_cov_[level].to_numpy(), s, atol=1e-5)
        # srmr per level: lavaan's formula over that level's variables, on the full H1
        sigma = fit.implied_cov_[level].to_numpy()
        d1, d2 = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
        r = s / np.outer(d1, d1) - sigma / np.outer(d2, d2)
        expect = np.sqrt(np.mean(r[np.tril_indices(len(s))] ** 2))
        assert fit.fit_measures_[f"srmr_{level}"] == pytest.approx(expect, abs=1e-6)
    # the means: level-1 intercept of a within-only variable, level-2 mean of the others
    mu = dict(zip(g["between_names"], g["implied"]["mu_b"]))
    mu.update({v: m for v, m in zip(g["within_names"], g["implied"]["mu_w"]) if v not in g["between_names"]})
    for v, m in mu.items():
        assert fit.implied_mean_[v] == pytest.approx(m, abs=1e-5), v


def test_icc_and_r2_match_lavaan(fitted):
    g, _, fit = fitted
    w_only, b_only = _only(g)
    # lavInspect(fit, "icc"): the level-1 variables, 0 for a within-only one; lavaan's
    # uses its EM H1 (~1e-3), the same formula on the full H1 agrees to 1e-6
    assert list(fit.icc_.index) == list(g["icc"])
    sw, sb = np.asarray(g["h1_full"]["sigma_w"]), np.asarray(g["h1_full"]["sigma_b"])
    vb = pd.Series(np.diag(sb), index=g["between_names"]).reindex(g["within_names"], fill_value=0.0)
    full = vb / (vb + np.diag(sw))
    for item, value in g["icc"].items():
        assert fit.icc_[item] == pytest.approx(value, abs=1e-3)
        assert fit.icc_[item] == pytest.approx(full[item], abs=1e-6)
    for v in w_only:
        assert fit.icc_[v] == 0.0
    for col, key in (("within", "within"), ("between", "firm")):
        for item, value in (g["r2"][key] or {}).items():  # none without a factor at that level
            assert fit.r2_.loc[item, col] == pytest.approx(value, abs=1e-6), (item, col)
    # NaN exactly where a variable is absent from a level
    assert set(fit.r2_.index[fit.r2_["between"].isna()]) == set(w_only)
    assert set(fit.r2_.index[fit.r2_["within"].isna()]) == set(b_only)


def test_multilevel_omega_matches_semtools(fitted):
    g, _, fit = fitted
    shared = ["fb"] if g["shared_implied"] else []
    om = multilevel_omega(fit, obs_var=False, shared=shared).set_index(["construct", "coefficient"])["value"]
    assert om["fw", "omega"] == pytest.approx(g["omega_implied"]["within"]["fw"], abs=1e-6)
    if shared:
        assert om["fb", "omega"] == pytest.approx(g["omega_implied"]["firm"]["fb"], abs=1e-6)
        assert om["fb", "omega_B"] == pytest.approx(g["shared_implied"]["omega_B"], abs=1e-6)
        assert om["fb", "IRR"] == pytest.approx(g["shared_implied"]["IRR"], abs=1e-6)
    else:
        assert "fb" not in om.index.get_level_values(0)
    # observed denominators over each level's variables: finite and in (0, 1)
    obs = multilevel_omega(fit, shared=shared)["value"]
    assert ((obs > 0) & (obs < 1)).all()


def test_summary_lists_each_variable_at_its_levels(fitted):
    g, _, fit = fitted
    text = fit.summary()
    level1, level2 = text.split("Level 2 [firm]:")
    w_only, b_only = _only(g)
    for v in w_only:
        assert v in level1.split("Level 1 [within]:")[1] and f" {v} " not in level2
    for v in b_only:
        assert v in level2


# --------------------------------------------------------------------------- a realistic export
def _export(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Write `frame` as a survey platform exports it (BOM, CRLF, quoted text) and read it back."""
    text = frame.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"firm_id": str})


MODEL_C = """
# respondents (level 1) in firms (level 2)
level: within
  service =~ q1 + q2 + q3 + tenure_sat   # tenure_sat: a respondent-level item only
level: between
  climate =~ q1 + q2 + q3 + log_employees  # log_employees: one value per firm
"""


@pytest.fixture
def survey(tmp_path):
    """The unbalanced golden data as a platform export: string firm ids with leading
    zeros, a response id, a free-text column, rows in arrival order (not by firm)."""
    d = pd.read_csv(GOLD / "wb_unbalanced.csv")
    d = d.rename(columns={"y1": "q1", "y2": "q2", "y3": "q3", "xw": "tenure_sat", "z": "log_employees"})
    d.insert(0, "ResponseId", [f"R_{i:05d}" for i in range(len(d))])
    d["firm_id"] = d.pop("firm").str.replace("firm_", "0", regex=False)
    d["comment"] = ["good, \"fast\" service" if i % 7 == 0 else "" for i in range(len(d))]
    return d, tmp_path


def test_export_matches_the_golden_fit(survey):
    d, tmp = survey
    read = _export(tmp / "survey.csv", d)
    assert read["firm_id"].str.startswith("0").all()
    assert not read["firm_id"].is_monotonic_increasing
    fit = CFA(MODEL_C, cluster="firm_id").fit(read)
    g, _ = _case("wb_C_unbalanced")
    pe = pd.DataFrame(g["pe"])
    np.testing.assert_allclose(fit.params_["est"], pe["est"], atol=1e-5)
    np.testing.assert_allclose(fit.params_["se"], pe["se"], atol=1e-5)
    assert fit.fit_measures_["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-8)
    assert fit.n_clusters_ == {"all": 70} and fit.n_obs_ == {"all": len(d)}
    assert list(fit.sample_cov_["within"].index) == ["q1", "q2", "q3", "tenure_sat"]
    assert list(fit.sample_cov_["between"].index) == ["q1", "q2", "q3", "log_employees"]


def test_between_only_variable_varying_within_a_firm_is_an_error_naming_firms_and_rows(survey):
    d, tmp = survey
    bad = d.copy()
    # one respondent of each of two firms typed a different firm size
    firms = list(dict.fromkeys(bad["firm_id"]))[:2]
    changed = []
    for f in firms:
        row = bad.index[bad["firm_id"] == f][1]
        bad.loc[row, "log_employees"] += 0.5
        changed.append(int(row))
    read = _export(tmp / "survey.csv", bad)
    with pytest.raises(DataValidationError) as err:
        CFA(MODEL_C, cluster="firm_id").fit(read)
    msg = str(err.value)
    assert "between-only variable 'log_employees'" in msg and "varies within 2 'firm_id' cluster(s)" in msg
    for f, row in zip(firms, changed):
        size = (read["firm_id"] == f).sum()
        assert f"{f!r}: " in msg and f"in {size - 1} of {size} rows, other values in rows [{row}]" in msg
    # the frame that was read is untouched
    assert read.loc[read["firm_id"] == firms[0], "log_employees"].nunique() == 2


def test_row_positions_count_rows_excluded_for_missing_values(survey):
    d, tmp = survey
    bad = d.copy()
    firm = bad["firm_id"].value_counts().index[0]
    members = bad.index[bad["firm_id"] == firm]
    bad.loc[0, "q1"] = np.nan  # an excluded row before the faulty one
    bad.loc[members[-1], "log_employees"] += 1.0
    read = _export(tmp / "survey.csv", bad)
    with pytest.warns(MissingDataWarning), pytest.raises(DataValidationError) as err:
        CFA(MODEL_C, cluster="firm_id").fit(read)
    assert f"other values in rows [{int(members[-1])}]" in str(err.value)


def test_within_only_item_constant_within_firms_points_to_level_2(survey):
    d, tmp = survey
    bad = d.copy()
    bad["tenure_sat"] = bad.groupby("firm_id")["tenure_sat"].transform("first")
    read = _export(tmp / "survey.csv", bad)
    with pytest.raises(ConstantItemError, match=r"\['tenure_sat'\] do not vary within any 'firm_id'.*'level: 2'"):
        CFA(MODEL_C, cluster="firm_id").fit(read)


def test_between_only_variable_equal_in_every_firm_is_an_error(survey):
    d, tmp = survey
    bad = d.assign(log_employees=4.0)
    read = _export(tmp / "survey.csv", bad)
    with pytest.raises(ConstantItemError, match=r"between-only variable\(s\) \['log_employees'\] take the same value"):
        CFA(MODEL_C, cluster="firm_id").fit(read)


def test_firm_with_one_respondent_is_an_error_naming_the_firm(survey):
    d, tmp = survey
    extra = d.iloc[[0]].copy()
    extra["firm_id"] = "0999"
    read = _export(tmp / "survey.csv", pd.concat([d, extra], ignore_index=True))
    with pytest.raises(InsufficientDataError, match=r"single respondent.*'0999'"):
        CFA(MODEL_C, cluster="firm_id").fit(read)


def test_missing_between_only_value_excludes_the_row_with_a_warning(survey):
    d, tmp = survey
    bad = d.copy()
    # every firm keeps at least 2 respondents: drop the size of the first row of a firm of 5+
    sizes = bad["firm_id"].value_counts()
    firm = sizes.index[sizes >= 5][0]
    row = bad.index[bad["firm_id"] == firm][0]
    bad.loc[row, "log_employees"] = np.nan
    read = _export(tmp / "survey.csv", bad)
    with pytest.warns(MissingDataWarning, match="1 row"):
        fit = CFA(MODEL_C, cluster="firm_id").fit(read)
    assert fit.n_excluded_ == 1 and fit.n_obs_["all"] + fit.n_excluded_ == len(read)
    assert fit.n_clusters_ == {"all": 70}


def test_factor_name_used_as_an_item_at_the_other_level_is_an_error(survey):
    d, tmp = survey
    read = _export(tmp / "survey.csv", d.assign(service=d["q1"]))
    model = "level: 1\n service =~ q1 + q2 + q3\nlevel: 2\n climate =~ q1 + q2 + service"
    with pytest.raises(SpecificationError, match="'service' is a factor at one level and an observed"):
        CFA(model, cluster="firm_id").fit(read)


def test_item_named_only_at_level_1_is_within_only():
    # formerly an error ("appear at one level only"); lavaan 0.6-14 fits it as a
    # within-only variable: no between variance, its mean the level-1 intercept
    d = pd.read_csv(GOLD / "unbalanced.csv")
    model = "level: 1\nfw =~ y1 + y2 + y3 + y4\nlevel: 2\nfb =~ y1 + y2 + y3"
    fit = CFA(model, cluster="firm").fit(d)
    p = fit.params_
    assert p.loc[(p["lhs"] == "y4") & (p["op"] == "~1"), "level"].tolist() == [1]
    assert fit.implied_mean_["y4"] == pytest.approx(d["y4"].mean(), abs=0.05)
    assert fit.icc_["y4"] == 0.0 and "y4" not in fit.sample_cov_["between"].index
    assert fit.fit_measures_["df"] == 10 + 6 + 4 - fit.fit_measures_["npar"]


def test_covariance_of_a_factor_with_a_between_only_variable_points_to_the_loading(survey):
    d, tmp = survey
    read = _export(tmp / "survey.csv", d)
    model = "level: 1\n service =~ q1 + q2 + q3\nlevel: 2\n climate =~ q1 + q2 + q3\n climate ~~ log_employees"
    with pytest.raises(SpecificationError, match=r"factor 'climate' and observed variable 'log_employees'.*"
                                                 r"'climate =~ \.\.\. \+ log_employees'"):
        CFA(model, cluster="firm_id").fit(read)
