"""Two-level CFA with missing answers by full-information ML (``missing="fiml"``) against
lavaan 0.6-14's ``cfa(model, data, cluster = "firm", missing = "ml")``.

Goldens: tests/r/cfa_twolevel_fiml.R (simulated nested data with known truth and
missing answers, written as CSV fixtures: MCAR with integer firm ids; MAR with string
firm ids, empty rows and a firm whose rows are all empty; rows shuffled).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval import CFA, read_survey
from custval._sem import twolevel as tl
from custval._sem import twolevel_missing as tm
from custval._sem.model import SemModel
from custval.exceptions import (
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

GOLD = Path(__file__).parent / "golden" / "cfa_twolevel_fiml"
CASES = ["mcar", "mar", "mar_stdlv"]
ITEMS = [f"y{i}" for i in range(1, 7)]


def _case(name):
    g = json.loads((GOLD / f"{name}.json").read_text())
    return g, pd.read_csv(GOLD / g["data"])


def _fit(g, d):
    """custval's fit of a golden case; the warnings lavaan gives too are expected."""
    items = [c for c in d.columns if c != "firm"]
    empty = int(d[items].isna().all(axis=1).sum())
    pe = pd.DataFrame(g["pe"])
    heywood = bool(((pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & (pe["est"] < 0)).any())
    cfa = CFA(g["model"], cluster="firm", std_lv=g["std_lv"], missing="fiml")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fit = cfa.fit(d)
    kinds = sorted({type(w.message).__name__ for w in rec})
    assert kinds == sorted((["MissingDataWarning"] if empty else []) + (["HeywoodWarning"] if heywood else []))
    if empty:
        assert any(f"{empty} row(s) with no answer" in str(w.message) for w in rec)
    return fit


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    g, d = _case(request.param)
    return g, d, _fit(g, d)


def _merged(g, fit):
    pe = pd.DataFrame(g["pe"]).fillna({"rhs": ""})
    pe = pe[pe["op"].isin(["=~", "~~", "~1"])]
    ours = fit.params_.rename(columns={"level": "lev"})
    m = ours.merge(pe, left_on=["lhs", "op", "rhs", "lev"], right_on=["lhs", "op", "rhs", "level"],
                   suffixes=("", "_r"))
    assert len(m) == len(pe) == len(ours)
    return m


def test_estimates_and_standard_errors_match_lavaan(fitted):
    g, _, fit = fitted
    assert g["options"]["missing"] == "ml"
    assert g["options"]["information"] == ["observed", "observed"]
    assert g["options"]["h1_information"] == ["structured", "structured"]
    m = _merged(g, fit)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    np.testing.assert_allclose(m["std_all"], m["std.all"], atol=1e-5)


def test_loglik_and_counts_match_lavaan(fitted):
    g, d, fit = fitted
    fmz = fit.fit_measures_
    assert fmz["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-6)
    assert fmz["logl"] == pytest.approx(g["logl_at_est"], abs=1e-6)
    for k in ("npar", "df", "aic", "bic", "bic2", "ntotal"):
        assert fmz[k] == pytest.approx(g["fit"][k], abs=1e-5), k
    # rows with no answer at all are excluded and counted: rows in = rows used + rows excluded
    assert fit.n_obs_["all"] == g["nobs"]
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(d) == g["n_csv"]
    assert fit.n_clusters_["all"] == g["nclusters"]


def test_chisq_against_the_fully_maximised_h1(fitted):
    """lavaan's H1 (nlminb, rel.tol 1e-7) stops a little short: custval's H1 is the full
    maximum (R's BFGS on lavaan's own loglik), its chi-square the one against it."""
    g, _, fit = fitted
    fmz = fit.fit_measures_
    assert fmz["unrestricted.logl"] == pytest.approx(g["h1_full"]["logl"], abs=1e-6)
    assert fmz["unrestricted.logl"] >= g["h1_lavaan"]["logl"] - 1e-9
    assert fmz["chisq"] == pytest.approx(g["chisq_full"], abs=1e-5)
    assert fmz["baseline.chisq"] == pytest.approx(g["baseline_full"]["chisq"], abs=1e-5)
    # the difference from lavaan's chi-square is the H1 shortfall, no more
    gap = 2 * (g["h1_full"]["logl"] - g["h1_lavaan"]["logl"])
    assert fmz["chisq"] - g["fit"]["chisq"] == pytest.approx(gap, abs=1e-5)
    for k in ("cfi", "tli", "rmsea", "srmr_within", "srmr_between"):
        assert fmz[k] == pytest.approx(g["fit"][k], abs=2e-3), k
    np.testing.assert_allclose(fit.sample_cov_["within"].to_numpy(), g["h1_full"]["sigma_w"], atol=1e-5)
    np.testing.assert_allclose(fit.sample_cov_["between"].to_numpy(), g["h1_full"]["sigma_b"], atol=1e-5)


def test_recovers_the_simulated_truth(fitted):
    g, _, fit = fitted
    if g["std_lv"]:
        return
    p = fit.params_
    lw = p[(p["op"] == "=~") & (p["level"] == 1)]["est"].to_numpy()
    lb = p[(p["op"] == "=~") & (p["level"] == 2)]["est"].to_numpy()
    assert np.max(np.abs(lw - g["truth"]["lw"])) < 0.15
    assert np.max(np.abs(lb - g["truth"]["lb"])) < 0.35


def test_likelihood_with_complete_data_is_the_complete_data_likelihood():
    """With every answer present the FIML likelihood, its gradient and the fit equal the
    complete-data ones (tests/golden/cfa_twolevel)."""
    d = pd.read_csv(Path(__file__).parent / "golden" / "cfa_twolevel" / "unbalanced.csv")
    y, ids = d[ITEMS].to_numpy(), d["firm"].to_numpy()
    cd, md = tl.cluster_data(y, ids), tm.missing_cluster_data(y, ids)
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    sw, sb, mu = a @ a.T / 6 + 0.5 * np.eye(6), b @ b.T / 20, y.mean(axis=0) + 0.1
    l1, g1 = tl.loglik(cd, sw, sb, mu, grad=True)
    l2, g2 = tm.loglik_missing(md, sw, sb, mu, grad=True)
    assert l2 == pytest.approx(l1, rel=1e-12)
    for u, v in zip(g1, g2):
        np.testing.assert_allclose(u, v, atol=1e-9)
    model = """
    level: 1
      fw1 =~ y1 + y2 + y3
      fw2 =~ y4 + y5 + y6
    level: 2
      fb =~ y1 + y2 + y3 + y4 + y5 + y6
    """
    lw = CFA(model, cluster="firm").fit(d)
    fi = CFA(model, cluster="firm", missing="fiml").fit(d)
    np.testing.assert_allclose(fi.params_["est"], lw.params_["est"], atol=1e-6)
    np.testing.assert_allclose(fi.params_["se"], lw.params_["se"], atol=1e-6)
    assert fi.fit_measures_["chisq"] == pytest.approx(lw.fit_measures_["chisq"], abs=1e-6)


def test_gradient_with_missing_answers_matches_finite_differences():
    g, d = _case("mar")
    d = d[d[ITEMS].notna().any(axis=1)]
    pt, observed, latent = tl.build_twolevel_partable(g["model"])
    md = tm.missing_cluster_data(d[observed].to_numpy(), d["firm"].to_numpy())
    problem = tm.TwoLevelMissingProblem(SemModel(pt, observed, latent, 2), md)
    x = _some_point(problem)
    gr = problem.gradient(x)
    h = 1e-6
    fd = np.array([(problem.loglik(x + h * e) - problem.loglik(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    np.testing.assert_allclose(gr, fd, rtol=1e-5, atol=1e-4)


def _some_point(problem):
    """A valid parameter vector away from the maximum: the start values of the fit."""
    from custval._sem.model import start_values

    k = problem.model
    sw = np.eye(6) * 1.2 + 0.3
    sb = np.eye(6) * 0.2 + 0.2
    return start_values(k, [(sw, np.zeros(6)), (sb, np.full(6, 3.0))], False)


def _likert(d):
    """The simulated scores as 1-7 answers (missing stays missing)."""
    out = d.copy()
    out[ITEMS] = np.clip(np.round(d[ITEMS].to_numpy() + 1.0), 1, 7)
    return out


def test_a_survey_export_with_skipped_answers(tmp_path):
    """A realistic export: UTF-8 BOM, CRLF, semicolons, quoted header, string firm names,
    unsorted rows, blank cells and a declared '-99' no-answer code; a firm whose customers
    skipped every item is reported, rows with no answer are counted, the rest are kept."""
    g, d = _case("mar")
    d = _likert(d)
    d["firm"] = [f"Firma {f[-3:]} Oy" for f in d["firm"]]
    rng = np.random.default_rng(7)
    raw = d[["firm"] + ITEMS].astype(object)
    raw.insert(0, "Respondent ID", [f"R{i:05d}" for i in range(len(raw))])
    answered = np.argwhere(d[ITEMS].notna().to_numpy())
    coded = answered[rng.choice(len(answered), 25, replace=False)]
    for r, c in coded:  # answers exported as the -99 'no answer' code
        raw.iat[r, 2 + c] = -99
    lines = [";".join(f'"{c}"' for c in ["Respondent ID", "Firm"] + [f"Q_{v}" for v in ITEMS])]
    for row in raw.itertuples(index=False):
        cells = ["" if (isinstance(v, float) and np.isnan(v)) else
                 (f'"{v}"' if isinstance(v, str) else str(int(v))) for v in row]
        lines.append(";".join(cells))
    path = tmp_path / "customer survey export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))

    inst = custval.Instrument.from_dict({"F": ITEMS}, scale=(1, 7))
    df = read_survey(path, inst, id_column="Respondent ID", missing_codes=[-99],
                     columns={f"Q_{v}": v for v in ITEMS})
    assert len(df) == len(d)
    expect = d[ITEMS].to_numpy().copy()
    expect[coded[:, 0], coded[:, 1]] = np.nan
    np.testing.assert_array_equal(np.isnan(df[ITEMS].to_numpy()), np.isnan(expect))

    empty = np.isnan(expect).all(axis=1)
    with pytest.warns(MissingDataWarning) as rec:
        fit = CFA(g["model"], cluster="Firm", missing="fiml").fit(df)
    msg = " ".join(str(w.message) for w in rec)
    assert f"{int(empty.sum())} row(s) with no answer to any model item" in msg
    assert "'Firma 999 Oy'" in msg and "1 'Firm' cluster(s) have no answered row" in msg
    assert fit.n_obs_["all"] == int((~empty).sum())
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(df)
    assert fit.n_clusters_["all"] == d.loc[~empty, "firm"].nunique()

    # the same numbers from the tidy frame (NaN for every missing answer), rows sorted
    tidy = pd.DataFrame(expect, columns=ITEMS)
    tidy.insert(0, "Firm", d["firm"].to_numpy())
    tidy = tidy.sort_values("Firm", kind="stable")
    with pytest.warns(MissingDataWarning):
        ref = CFA(g["model"], cluster="Firm", missing="fiml").fit(tidy)
    np.testing.assert_allclose(fit.params_["est"], ref.params_["est"], atol=1e-8)
    assert fit.fit_measures_["logl"] == pytest.approx(ref.fit_measures_["logl"], abs=1e-8)

    # complete cases would lose every respondent with a skipped item: here some firms would be
    # left with a single complete respondent, which a two-level model cannot use
    complete = ~np.isnan(expect).any(axis=1)
    assert int(complete.sum()) < fit.n_obs_["all"]
    with pytest.warns(MissingDataWarning, match="listwise deletion"), \
            pytest.raises(InsufficientDataError, match="cluster\\(s\\) have a single respondent"):
        CFA(g["model"], cluster="Firm").fit(df)


def test_ml_is_accepted_as_lavaans_name():
    g, d = _case("mcar")
    a = CFA(g["model"], cluster="firm", missing="ml").fit(d)
    assert a.fit_measures_["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-6)


def test_between_only_variable_that_varies_within_a_firm_is_an_error_with_fiml():
    """A firm-level variable (named only in 'level: 2') with two values in one firm is the
    complete-data DataValidationError under FIML too; blank cells are not a second value."""
    g, d = _case("between_only")
    d = d.copy()
    firm = d.loc[d["z"].notna(), "firm"].iloc[0]
    at = np.flatnonzero((d["firm"] == firm).to_numpy() & d["z"].notna().to_numpy())
    d.loc[at[1], "z"] = d.loc[at[1], "z"] + 1.0
    with pytest.raises(DataValidationError, match=rf"between-only variable 'z' .* varies within 1 'firm' "
                                                  rf"cluster\(s\).*'{firm}'.*rows \[{at[1]}\]"):
        CFA(g["model"], cluster="firm", missing="fiml").fit(d)


def test_between_only_variable_with_missing_answers_matches_lavaan():
    """A between-only variable (z, constant within each firm, blank for 4 firms) with 15% of
    the items missing: lavaan conditions each firm's answers on its observed z."""
    g, d = _case("between_only")
    assert d.groupby("firm")["z"].apply(lambda v: v.isna().all()).sum() == len(g["firms_without_z"]) == 4
    fit = _fit(g, d)
    m = _merged(g, fit)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    np.testing.assert_allclose(m["std_all"], m["std.all"], atol=1e-5)
    fmz = fit.fit_measures_
    assert fmz["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-8)
    for k in ("npar", "df", "ntotal", "baseline.df"):
        assert fmz[k] == g["fit"][k], k
    assert fit.n_obs_["all"] == g["nobs"] == g["n_csv"] == len(d)
    assert fit.n_clusters_["all"] == g["nclusters"]
    # lavaan's H1 (nlminb, rel.tol 1e-7) is a lower bound of the full maximum
    assert fmz["unrestricted.logl"] >= g["fit"]["unrestricted.logl"] - 1e-9
    assert fmz["chisq"] == pytest.approx(g["fit"]["chisq"], abs=1e-5)
    assert list(fit.sample_cov_["between"].index) == ["y1", "y2", "y3", "z"]
    assert list(fit.sample_cov_["within"].index) == ["y1", "y2", "y3"]
    assert "z" not in fit.icc_.index


def test_two_between_only_variables_missing_in_different_firms_match_lavaan():
    """Firm-level z and z2, each blank for other firms (a firm may have one, both or neither):
    each firm's answers are conditioned on the values it has."""
    g, d = _case("between_only_two")
    per_firm = d.groupby("firm")[["z", "z2"]].first().notna()
    assert len(per_firm.drop_duplicates()) == 4  # all four patterns occur
    fit = _fit(g, d)
    m = _merged(g, fit)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    fmz = fit.fit_measures_
    assert fmz["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-8)
    for k in ("npar", "df", "ntotal", "baseline.df"):
        assert fmz[k] == g["fit"][k], k
    assert fmz["unrestricted.logl"] >= g["fit"]["unrestricted.logl"] - 1e-9
    assert fit.n_clusters_["all"] == g["nclusters"]


def _between_problem(d, model):
    from custval._sem.model import start_values

    pt, observed, latent = tl.build_twolevel_partable(model)
    w_only, b_only = tl.level_variables(pt, observed)
    observed = [v for v in observed if v not in b_only] + b_only
    codes, labels = pd.factorize(d["firm"], sort=False)
    z = np.full((len(labels), len(b_only)), np.nan)
    for k, v in enumerate(b_only):
        ok = d[v].notna().to_numpy()
        z[codes[ok], k] = d[v].to_numpy()[ok]
    py = len(observed) - len(b_only)
    md = tm.missing_cluster_data(d[observed[:py]].to_numpy(), d["firm"].to_numpy(), (), z)
    problem = tm.TwoLevelMissingProblem(SemModel(pt, observed, latent, 2), md)
    p = len(observed)
    sw = np.eye(p) * 1.2 + 0.3
    sw[py:, :] = sw[:, py:] = 0.0
    x = start_values(problem.model, [(sw, np.zeros(p)), (np.eye(p) * 0.2 + 0.2, np.full(p, 1.0))], False)
    return problem, x


def test_gradient_with_a_between_only_variable_matches_finite_differences():
    g, d = _case("between_only")
    problem, x = _between_problem(d, g["model"])
    assert np.isnan(problem.md.z).any() and not np.isnan(problem.md.z).all()
    gr = problem.gradient(x)
    h = 1e-6
    fd = np.array([(problem.loglik(x + h * e) - problem.loglik(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    np.testing.assert_allclose(gr, fd, rtol=1e-5, atol=1e-4)


def test_between_only_with_complete_data_is_the_complete_data_fit():
    """With every answer and every firm's z present, FIML gives the complete-data two-level
    fit (tests/golden/cfa_twolevel/wb_B_unbalanced.json, lavaan's complete-data ML)."""
    root = Path(__file__).parent / "golden" / "cfa_twolevel"
    gb = json.loads((root / "wb_B_unbalanced.json").read_text())
    d = pd.read_csv(root / "wb_unbalanced.csv")
    fi = CFA(gb["model"], cluster="firm", missing="fiml").fit(d)
    lw = CFA(gb["model"], cluster="firm").fit(d)
    np.testing.assert_allclose(fi.params_["est"], lw.params_["est"], atol=1e-6)
    np.testing.assert_allclose(fi.params_["se"], lw.params_["se"], atol=1e-6)
    assert fi.fit_measures_["logl"] == pytest.approx(gb["fit"]["logl"], abs=1e-8)
    assert fi.fit_measures_["chisq"] == pytest.approx(lw.fit_measures_["chisq"], abs=1e-6)


def test_a_survey_export_with_a_firm_level_column(tmp_path):
    """A realistic export: BOM, CRLF, semicolon separator, decimal commas in the firm size
    column (employees, thousands), skipped answers, the firm size filled in only on some of a
    firm's rows and missing for whole firms, rows unsorted: the same fit as the tidy frame."""
    g, d = _case("between_only")
    rng = np.random.default_rng(11)
    z = d["z"].to_numpy().copy()
    z[rng.random(len(z)) < 0.3] = np.nan  # the firm's value left blank on some of its rows
    firms_z = d.groupby("firm")["z"].first()
    keep_one = d.groupby("firm").head(1).index  # ... but given on its first row
    z[keep_one] = d.loc[keep_one, "z"].to_numpy()
    order = rng.permutation(len(d))
    lines = ['"Respondent";"Company";"Q1";"Q2";"Q3";"Company size (1000 employees)"']
    for i in order:
        cells = [f'"R{i:04d}"', f'"{d.at[i, "firm"]}"']
        for v in ("y1", "y2", "y3"):
            cells.append("" if np.isnan(d.at[i, v]) else repr(float(d.at[i, v])).replace(".", ","))
        cells.append("" if np.isnan(z[i]) else repr(float(z[i])).replace(".", ","))
        lines.append(";".join(cells))
    path = tmp_path / "kundenumfrage export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    raw = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    assert len(raw) == len(d) and raw.iloc[:, -1].isna().sum() > d["z"].isna().sum()
    frame = raw.rename(columns={"Company": "firm", "Q1": "y1", "Q2": "y2", "Q3": "y3",
                                "Company size (1000 employees)": "z"})
    fit = CFA(g["model"], cluster="firm", missing="fiml").fit(frame)
    ref = CFA(g["model"], cluster="firm", missing="fiml").fit(d)
    np.testing.assert_allclose(fit.params_["est"], ref.params_["est"], atol=1e-7)
    np.testing.assert_allclose(fit.params_["se"], ref.params_["se"], atol=1e-7)
    assert fit.fit_measures_["logl"] == pytest.approx(ref.fit_measures_["logl"], abs=1e-8)
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(raw)
    assert firms_z.isna().sum() == 4
    # a row that gives only the firm size (no item answered) carries nothing of its own
    extra = pd.DataFrame({"firm": [d.at[0, "firm"]], "y1": [np.nan], "y2": [np.nan], "y3": [np.nan],
                          "z": [d.at[0, "z"]]})
    with pytest.warns(MissingDataWarning, match="1 row\\(s\\) with no answer to any level-1 item"):
        more = CFA(g["model"], cluster="firm", missing="fiml").fit(pd.concat([frame, extra], ignore_index=True))
    assert more.n_excluded_ == 1
    np.testing.assert_allclose(more.params_["est"], ref.params_["est"], atol=1e-7)


def test_an_item_nobody_answered_is_an_error():
    g, d = _case("mcar")
    d = d.copy()
    d["y6"] = np.nan
    with pytest.raises(SpecificationError, match=r"\['y6'\] have no answer in any row"):
        CFA(g["model"], cluster="firm", missing="fiml").fit(d)


def test_within_only_item_with_missing_answers_matches_lavaan():
    """A within-only item (named only at level 1) with 15% missing answers (the golden's
    data have no empty rows)."""
    g, d = _case("within_only")
    fit = _fit(g, d)
    m = _merged(g, fit)
    np.testing.assert_allclose(m["est"], m["est_r"], atol=1e-5)
    np.testing.assert_allclose(m["se"], m["se_r"], atol=1e-5)
    fmz = fit.fit_measures_
    assert fmz["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-6)
    for k in ("npar", "df", "ntotal"):
        assert fmz[k] == g["fit"][k], k
    assert fit.n_clusters_["all"] == g["nclusters"]
    # lavaan's H1 (nlminb, rel.tol 1e-7) is a lower bound of the full maximum
    assert fmz["unrestricted.logl"] >= g["fit"]["unrestricted.logl"] - 1e-9
    assert fmz["chisq"] >= g["fit"]["chisq"] - 2e-9
    assert fit.icc_["xw"] == 0.0


def test_fiml_with_cluster_but_no_level_blocks_points_to_level_blocks():
    _, d = _case("mcar")
    with pytest.raises(SpecificationError, match="'level: 1' / 'level: 2' blocks can be fitted with missing='fiml'"):
        CFA("f =~ y1 + y2 + y3", cluster="firm", estimator="MLR", missing="fiml").fit(d)
