"""New features on data and situations their own tests do not cover, read from realistic exports.

Each test writes a file the way a user receives it (UTF-8 BOM, semicolons, CRLF, decimal
commas, xlsx), reads it through :func:`custval.read_survey`, and checks one rule.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval import CFA
from custval.exceptions import (
    CustvalWarning,
    DataValidationError,
    HeywoodWarning,
    InsufficientDataError,
    MissingDataWarning,
    SparseCategoryWarning,
    SpecificationError,
)
from custval.invariance import measurement_invariance

GOLD = Path(__file__).parent / "golden"


def _semicolon_export(frame: pd.DataFrame, path: Path) -> Path:
    """A European spreadsheet export: BOM, ';' separated, CRLF, quoted text."""
    text = frame.to_csv(index=False, sep=";", quoting=2, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


# --------------------------------------------------------------------------- two-level CFA
@pytest.fixture
def bank_branches(tmp_path):
    """bank_satisfaction's customers in 28 bank branches of uneven size (string ids), read back."""
    g = json.loads((GOLD / "cfa_twolevel" / "bank_branches.json").read_text())
    bank = custval.datasets.load_dataset("bank_satisfaction").data
    frame = bank[["sat1", "sat2", "sat3", "sat4"]].assign(branch=g["branch"])
    frame.insert(0, "customer", [f"C-{i:04d}" for i in range(len(frame))])
    path = _semicolon_export(frame, tmp_path / "branch_survey.csv")
    inst = custval.Instrument.from_dict({"SAT": ["sat1", "sat2", "sat3", "sat4"]}, scale=(0, 10), name="bank")
    data = custval.read_survey(path, inst, id_column="customer")
    return data, g


def test_two_level_fit_with_little_between_variance_reaches_lavaans_maximum(bank_branches):
    # customers in branches with almost no between-branch variance: the first optimisation
    # path ran along a ridge (a between loading growing without bound), never converged and
    # ended in a raw LinAlgError; now it reaches lavaan's (improper) maximum and says so
    data, g = bank_branches
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(HeywoodWarning) as rec:
            fit = CFA(g["model"], cluster="branch").fit(data)
    assert any("negative latent variance of 'SATb' at level 2" in str(w.message) for w in rec)
    assert fit.converged_
    assert fit.n_obs_ == {"all": g["nobs"]} and fit.n_clusters_ == {"all": len(set(g["branch"]))}
    # the same maximum as lavaan's (its log-likelihood at 1e-6; the likelihood is flat along the
    # between loading of sat4, so that estimate agrees only to about 2e-3)
    assert fit.fit_measures_["logl"] == pytest.approx(g["fit"]["logl"], abs=1e-6)
    ref = pd.DataFrame(g["pe"])
    assert (fit.params_[["lhs", "op", "rhs", "level"]].to_numpy() == ref[["lhs", "op", "rhs", "level"]].to_numpy()).all()
    np.testing.assert_allclose(fit.params_["est"], ref["est"], atol=2e-3)
    within = (ref["level"] == 1).to_numpy()
    np.testing.assert_allclose(fit.params_["est"][within], ref["est"][within], atol=1e-4)


def test_negative_chisq_is_reported_as_zero_as_lavaan(bank_branches):
    # the improper model fits better than the (positive definite) saturated model: lavaan
    # reports chisq 0 (lav_model_test), never a negative chi-square
    data, g = bank_branches
    with pytest.warns(HeywoodWarning):
        fit = CFA(g["model"], cluster="branch").fit(data)
    assert fit.fit_measures_["unrestricted.logl"] < fit.fit_measures_["logl"]
    assert fit.fit_measures_["chisq"] == g["fit"]["chisq"] == 0
    assert fit.fit_measures_["rmsea"] == 0


def test_srmr_between_with_a_non_positive_definite_implied_matrix(bank_branches):
    # lavaan forces the implied between matrix positive definite before cov2cor
    # (lav_fit_srmr_twolevel); custval took the square root of a negative variance
    # (RuntimeWarning, srmr_between and srmr NaN)
    data, g = bank_branches
    assert min(g["implied_between_eigenvalues"]) < 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(HeywoodWarning):
            fit = CFA(g["model"], cluster="branch").fit(data)
    fm = fit.fit_measures_
    # lavaan's formula on the fully maximised H1 (custval's saturated model), computed in R
    assert fm["srmr_between"] == pytest.approx(g["srmr_between_full_h1"], abs=1e-7)
    assert fm["srmr"] == pytest.approx(fm["srmr_within"] + fm["srmr_between"], abs=1e-12)
    # and on lavaan's own (EM) H1 and implied matrices, custval's formula gives lavaan's number
    from custval._sem.twolevel import _force_pd, _srmr

    got = _srmr(np.array(g["h1_em_between"]), _force_pd(np.array(g["implied_between"])))
    assert got == pytest.approx(g["fit"]["srmr_between"], abs=1e-10)


# --------------------------------------------------------------------------- a question not asked in one firm
FIRMS = ["Acme GmbH", "Bolt AG", "Cora KG", "Delta SE", "Edda & Co", "Fjord AS"]
BFI_MODEL = "AGR =~ A2 + A3 + A4 + A5\nCON =~ C1 + C2 + C3"  # no reverse-keyed item


@pytest.fixture
def firms_without_c3(tmp_path):
    """bfi's respondents in six firms (xlsx export); firm 'Cora KG' was never asked C3."""
    ds = custval.datasets.load_dataset("bfi")
    rng = np.random.default_rng(11)
    frame = ds.data.assign(firm=rng.choice(FIRMS, size=len(ds.data), p=[.3, .2, .15, .15, .1, .1]))
    frame.loc[frame["firm"] == "Cora KG", "C3"] = np.nan
    path = tmp_path / "firms.xlsx"
    frame.to_excel(path, index=False)
    return custval.read_survey(path, ds.instrument, id_column=ds.id_column)


def test_fiml_with_an_item_nobody_in_a_group_answered_names_item_and_group(firms_without_c3):
    # was a raw numpy LinAlgError ("Eigenvalues did not converge") from the EM of the
    # saturated model
    data = firms_without_c3
    with pytest.raises(InsufficientDataError, match=r"C3 \(0 answers\).* in group 'Cora KG'"):
        CFA(BFI_MODEL, group="firm", missing="fiml").fit(data)
    with pytest.raises(InsufficientDataError, match=r"firm 'Cora KG'.*C3 \(0 answers\)"):
        custval.alignment(data, BFI_MODEL, group="firm", missing="fiml")


def test_a_group_emptied_by_listwise_deletion_is_named_not_dropped(firms_without_c3):
    # listwise deletion removed every row of 'Cora KG': the firm vanished from the aligned
    # means and the invariance ladder without a word (only its rows were counted as excluded)
    data = firms_without_c3
    with pytest.warns(MissingDataWarning, match=r"rows with a group have at least one missing model item"):
        with pytest.raises(InsufficientDataError, match=r"firm\(s\) 'Cora KG' have no respondent left under "
                           r"missing='listwise': every row has a missing model item"):
            custval.alignment(data, BFI_MODEL, group="firm")
    with pytest.warns(MissingDataWarning):
        with pytest.raises(InsufficientDataError, match=r"firm\(s\) 'Cora KG' have no respondent left"):
            measurement_invariance(data, BFI_MODEL, group="firm")
    # the other firms are fitted as before once the firm is left out on purpose
    rest = data[data["firm"] != "Cora KG"]
    with pytest.warns(MissingDataWarning):
        res = custval.alignment(rest, BFI_MODEL, group="firm")
    assert set(res.means["group"]) == set(FIRMS) - {"Cora KG"}
    assert res.n_rows == res.n_used + sum(res.n_excluded.values())


# --------------------------------------------------------------------------- planner on a two-level fit
def test_dynamic_fit_cutoffs_of_a_two_level_fit_says_so(tmp_path):
    # was "3 factors need 2 items without cross-loadings ...": the within and between factors
    # were taken for one single-level model
    from custval.planning import dynamic_fit_cutoffs

    g = json.loads((GOLD / "cfa_twolevel" / "balanced.json").read_text())
    frame = pd.read_csv(GOLD / "cfa_twolevel" / "balanced.csv")
    path = tmp_path / "nested.csv"
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, sep=";", decimal=",").encode("utf-8"))
    data = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    fit = CFA(g["model"], cluster="firm").fit(data)
    with pytest.raises(SpecificationError, match=r"two-level CFA \(level: blocks, cluster='firm'\)"):
        dynamic_fit_cutoffs(fit, replications=20, progress=False)


# --------------------------------------------------------------------------- a 6-point scale stored as 0..100
@pytest.fixture
def rescaled_sq(tmp_path):
    """service_quality_sq: 6-point answers stored as 0, 20, ..., 100; a codebook saying 0..100."""
    sq = custval.datasets.load_dataset("service_quality_sq").data
    items = ["a02", "a03", "a04", "a05"]
    frame = sq[items].assign(resp=[f"K{i:03d}" for i in range(len(sq))])
    path = _semicolon_export(frame[["resp", *items]], tmp_path / "sq_export.csv")
    inst = custval.Instrument.from_dict({"SQ": items}, scale=(0, 100), name="sq")
    return custval.read_survey(path, inst, id_column="resp"), inst, items


def test_polychoric_on_rescaled_answers_says_how_to_recode(rescaled_sq):
    # psych's rule (at most 8 categories, counted over the span of the codes) is kept; the
    # message now says the answers are 6 values that can be recoded, instead of only
    # "use Pearson correlations"
    data, _, items = rescaled_sq
    msg = r"span 101 values \(0 to 100\).*only 6 distinct values \(0, 20, 40, 60, 80, 100\).*\(x - 0\) / 20 \+ 1"
    with pytest.raises(InsufficientDataError, match=msg):
        custval.reliability.cronbach_alpha(data[items], cor="polychoric")
    with pytest.raises(InsufficientDataError, match=msg):
        custval.reliability.omega(data[items], cor="polychoric")
    recoded = data[items] / 20 + 1
    alpha = custval.reliability.cronbach_alpha(recoded, cor="polychoric")
    assert 0 < alpha.estimate < 1


def test_estimator_advice_counts_the_grid_of_a_rescaled_scale(rescaled_sq):
    # with the codebook's 0..100 every item had "101 categories: continuous is fine" and the
    # sparse-category warning listed 95 codes nobody can choose
    data, inst, items = rescaled_sq
    with pytest.warns(SparseCategoryWarning) as rec:
        adv = custval.items.estimator_advice(data, inst)
    assert (adv["n_categories"] == 6).all()
    assert adv["reason"].str.contains("every 20th code of the codebook's 0..100").all()
    assert not any(" 1 (0)" in str(w.message) for w in rec)
    # the same as the advice on the recoded 1..6 answers
    recoded = (data[items] / 20 + 1).astype(int)
    with pytest.warns(SparseCategoryWarning):
        ref = custval.items.estimator_advice(recoded, custval.Instrument.from_dict({"SQ": items}, scale=(1, 6), name="sq6"))
    assert adv["recommendation"].equals(ref["recommendation"])
    # a short codebook scale is taken as it is (a 1..7 item answered only with odd codes keeps 7)
    odd = pd.DataFrame({"q1": [1, 3, 5, 7] * 10, "q2": [1, 3, 3, 5, 5, 7, 7, 7] * 5})
    with pytest.warns(SparseCategoryWarning):
        short = custval.items.estimator_advice(odd, custval.Instrument.from_dict({"F": ["q1", "q2"]}, scale=(1, 7), name="s"))
    assert (short["n_categories"] == 7).all()


# --------------------------------------------------------------------------- ordinal ladder: which level failed
def test_a_level_of_the_ordinal_ladder_that_is_not_identified_is_named(tmp_path, monkeypatch):
    # yes/no items in three regions (privacy_tracker's items dichotomised gave a scalar model
    # that neither custval nor lavaan could estimate): the error said only "the information
    # matrix is singular ... not identified", not at which level of the ladder
    import custval.invariance as inv

    ds = custval.datasets.load_dataset("bfi")
    items = ["A2", "A3", "A4", "A5", "C1", "C2", "C3"]
    rng = np.random.default_rng(4)
    frame = ds.data[[ds.id_column, *items]].copy()
    frame["region"] = rng.choice(["Nord", "Süd", "Ost"], size=len(frame), p=[.5, .3, .2])
    frame = frame.dropna(subset=items)
    for c in items:
        frame[c] = np.where(frame[c] >= 4, "ja", "nein")  # the export writes the answer labels
    path = _semicolon_export(frame, tmp_path / "yes_no.csv")
    read = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    data = read.assign(**{c: read[c].map({"nein": 0, "ja": 1}) for c in items})
    model = "AGR =~ A2 + A3 + A4 + A5\nCON =~ C1 + C2 + C3"
    real = inv._fit_ordinal

    def fit_level(syntax, data, group, equal, *args, **kwargs):
        if "intercepts" in equal:  # the scalar level, as with the dichotomised privacy items
            from custval.exceptions import IdentificationError

            raise IdentificationError("the information matrix is singular at the estimates: the model is not identified")
        return real(syntax, data, group, equal, *args, **kwargs)

    monkeypatch.setattr(inv, "_fit_ordinal", fit_level)
    from custval.exceptions import IdentificationError

    with pytest.raises(IdentificationError, match=r"the scalar model of the invariance ladder \(fitted: configural, "
                       r"thresholds, metric\): the information matrix is singular.*levels=\('configural', "
                       r"'thresholds', 'metric'\) stops before it"):
        measurement_invariance(data, model, group="region", estimator="WLSMV", ordered=True)
    res = measurement_invariance(data, model, group="region", estimator="WLSMV", ordered=True,
                                 levels=("configural", "thresholds", "metric"))
    assert res.table["level"].tolist() == ["configural", "thresholds", "metric"]


# --------------------------------------------------------------------------- theta and an improper solution
def test_theta_fit_of_an_improper_solution_points_to_delta(tmp_path):
    # privacy_tracker's two trust items (one close to the concern items, one not): under delta
    # a latent response gets a negative residual variance; under theta (residual variances
    # fixed at 1) the fit ran off and the error said only "the model is not identified"
    rng = np.random.default_rng(2)
    cov = np.eye(6)
    cov[:4, :4] = 0.64 + 0.36 * np.eye(4)
    cov[4, :4] = cov[:4, 4] = 0.6
    cov[5, :4] = cov[:4, 5] = 0.1
    cov[4, 5] = cov[5, 4] = 0.3
    ystar = rng.multivariate_normal(np.zeros(6), cov, size=800)
    items = ["pc1", "pc2", "pc3", "pc4", "tr1", "tr2"]
    frame = pd.DataFrame(np.searchsorted([-1.5, -0.5, 0.3, 1.2], ystar) + 1, columns=items)
    frame.insert(0, "id", range(1, len(frame) + 1))
    path = tmp_path / "privacy.xlsx"
    frame.to_excel(path, index=False)
    inst = custval.Instrument.from_dict({"PC": items[:4], "TR": items[4:]}, scale=(1, 5), name="privacy")
    data = custval.read_survey(path, inst, id_column="id")
    with pytest.warns(HeywoodWarning, match=r"tr1 have negative residual variances"):
        CFA(inst, ordered=True).fit(data)
    from custval.exceptions import ConvergenceWarning, IdentificationError

    with pytest.warns(ConvergenceWarning):
        with pytest.raises(IdentificationError, match=r"not identified; with parameterization='theta'.*"
                           r"fit parameterization='delta'.*negative residual variance"):
            CFA(inst, ordered=True, parameterization="theta").fit(data)


def test_a_branch_whose_answers_are_all_missing_is_named(tmp_path):
    # a branch that skipped the satisfaction block entirely lost all its rows to listwise
    # deletion: the rows were counted, but the branch left the fit (n_clusters_ one lower)
    # without being named
    g = json.loads((GOLD / "cfa_twolevel" / "unbalanced.json").read_text())
    frame = pd.read_csv(GOLD / "cfa_twolevel" / "unbalanced.csv")
    items = [f"y{i}" for i in range(1, 7)]
    skipped = frame["firm"].iloc[0]
    frame.loc[frame["firm"] == skipped, items] = np.nan
    frame.loc[frame.index[frame["firm"] != skipped][:3], "y2"] = np.nan  # three single skips elsewhere
    path = tmp_path / "branches.csv"
    # a German export: semicolons and decimal commas
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, sep=";", decimal=",").encode("utf-8"))
    data = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    n_skipped = int((data["firm"] == skipped).sum())
    with pytest.warns(MissingDataWarning, match=rf"{n_skipped + 3} row\(s\) with missing item values were excluded "
                      rf"\(listwise deletion\); 1 'firm' cluster\(s\) lost every row and are not in the fit "
                      rf"\(first 10: \['{skipped}'\]\)"):
        fit = CFA(g["model"], cluster="firm").fit(data)
    assert fit.n_clusters_ == {"all": data["firm"].nunique() - 1}
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(data)


def test_an_ordered_item_nobody_in_a_group_answered_is_named_as_such(firms_without_c3):
    # was "some categories are empty: C3 (1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0)"
    data = firms_without_c3
    with pytest.raises(DataValidationError, match=r"in group 'Cora KG' nobody answered C3 \(a question not asked"):
        CFA(BFI_MODEL, ordered=True, group="firm", missing="pairwise").fit(data)
    with pytest.raises(DataValidationError, match=r"in group 'Cora KG' nobody answered C3"):
        measurement_invariance(data, BFI_MODEL, group="firm", estimator="WLSMV", ordered=True, missing="pairwise")


# --------------------------------------------------------------------------- firm ids that lost their zeros
def test_firm_ids_with_and_without_leading_zeros_are_flagged(tmp_path):
    # an Excel sheet where some firm ids ('017') were turned into numbers (17): read_survey kept
    # both as text, silently making two firms of one (a two-level CFA then saw 102 firms, not 70)
    import openpyxl

    frame = pd.read_csv(GOLD / "cfa_twolevel" / "unbalanced.csv")
    frame["firm"] = frame["firm"].str.replace("firm_", "", regex=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["respondent", *frame.columns])
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = list(row)
        if i % 3 == 0:
            cells[0] = int(cells[0])  # the cell became a number
        ws.append([f"R{i:04d}", *cells])
    path = tmp_path / "nested.xlsx"
    wb.save(path)
    inst = custval.Instrument.from_dict({"F": [f"y{i}" for i in range(1, 7)]}, scale=(-20, 20), name="nested")
    with pytest.warns(CustvalWarning, match=r"column 'firm' has \d+ code\(s\) written both with and without leading "
                      r"zeros: '0\d\d' = '\d+'"):
        data = custval.read_survey(path, inst, id_column="respondent", integer_codes=False)
    assert data["firm"].nunique() > frame["firm"].nunique()  # kept as read, not merged
    # the same ids written consistently: no warning
    ws2 = openpyxl.Workbook()
    sheet = ws2.active
    sheet.append(["respondent", *frame.columns])
    for i, row in enumerate(frame.itertuples(index=False)):
        sheet.append([f"R{i:04d}", *row])
    path2 = tmp_path / "nested_text.xlsx"
    ws2.save(path2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CustvalWarning)
        clean = custval.read_survey(path2, inst, id_column="respondent", integer_codes=False)
    assert clean["firm"].nunique() == frame["firm"].nunique()


# --------------------------------------------------------------------------- an ordinal model with 0 df
def test_just_identified_ordinal_cfa_reports_lavaans_fit_measures(tmp_path):
    # one factor with three ordered items (df 0) ended in a raw ZeroDivisionError (the
    # robust indices' correction divides by df), and chisq.scaled and the .scaled indices
    # were NaN where lavaan reports the unscaled statistic and a perfect fit
    g = json.loads((GOLD / "cfa_ordinal" / "just_identified.json").read_text())
    bank = custval.datasets.load_dataset("bank_satisfaction").data
    frame = bank[["sat1", "sat2", "sat3"]].astype(float).assign(client=[f"CL{i:03d}" for i in range(len(bank))])
    for item, rows in g["holes"].items():
        frame.loc[rows, item] = np.nan  # skipped questions
    path = _semicolon_export(frame[["client", "sat1", "sat2", "sat3"]], tmp_path / "bank.csv")
    inst = custval.Instrument.from_dict({"SAT": ["sat1", "sat2", "sat3"]}, scale=(0, 10), name="bank")
    data = custval.read_survey(path, inst, id_column="client")
    fit = CFA(g["model"], ordered=True, missing="pairwise").fit(data)
    ref = pd.DataFrame(g["pe"])
    np.testing.assert_allclose(fit.params_["est"], ref["est"], atol=1e-5)
    np.testing.assert_allclose(fit.params_["se"], ref["se"], atol=1e-5)
    fm = fit.fit_measures_
    for key, want in g["fit"].items():
        if key not in fm.index or key in ("chisq", "chisq.scaled", "fmin", "srmr", "rmr", "crmr",
                                          "srmr_bentler", "srmr_bentler_nomean", "rmr_nomean",
                                          "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean",
                                          # Hoelter's N is NA when chisq < machine epsilon (lav_fit_cn):
                                          # lavaan's 7e-15 is above it, custval's rounding-level 0 below
                                          "cn_05", "cn_01"):
            continue
        if want is None:
            assert np.isnan(fm[key]), key
        else:
            assert fm[key] == pytest.approx(want, rel=1e-6, abs=1e-8), key
    # the statistics themselves are 0 up to rounding in both
    assert abs(fm["chisq"]) < 1e-8 and abs(fm["chisq.scaled"]) < 1e-8 and g["fit"]["chisq.scaled"] < 1e-8
    assert fm["df"] == 0 and fm["cfi.robust"] == 1 and fm["rmsea.robust"] == 0 and np.isnan(fm["pvalue.scaled"])


def test_just_identified_ordinal_cfa_in_two_groups_reports_lavaans_fit_measures():
    # the multi-group path gave NaN for every .robust index at df 0; lavaan reports a perfect fit
    g = json.loads((GOLD / "cfa_ordinal" / "just_identified.json").read_text())
    bfi = custval.datasets.load_dataset("bfi").data
    data = bfi.assign(gender=bfi["gender"].map({1: "male", 2: "female"}))
    with pytest.warns(MissingDataWarning):
        fit = CFA(g["model_groups"], ordered=True, group="gender").fit(data)
    fm = fit.fit_measures_
    assert fm["df"] == 0
    for key in ("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust", "rmsea.ci.lower.robust",
                "rmsea.ci.upper.robust", "rmsea.pvalue.robust", "cfi.scaled", "tli.scaled", "rmsea.scaled",
                "baseline.chisq", "baseline.chisq.scaled"):
        want = g["fit_groups"][key]
        if want is None:
            assert np.isnan(fm[key]), key
        else:
            assert fm[key] == pytest.approx(want, rel=1e-6, abs=1e-8), key


@pytest.mark.parametrize("estimator,missing,key", [("MLR", "listwise", "fit_mlr"), ("ML", "fiml", "fit_fiml_ml"),
                                                   ("MLR", "fiml", "fit_fiml_mlr")])
def test_just_identified_mlr_fit_reports_lavaans_fit_measures(tmp_path, estimator, missing, key):
    # MLR with df 0: chisq.scaled and the .scaled incremental indices were NaN, rmsea.scaled
    # 0 with a p-value of 1, and the robust RMSEA interval NaN, where lavaan reports chisq,
    # a perfect fit, NA and 0-0; FIML ended in a raw ZeroDivisionError (the FIML-corrected
    # robust indices divide by df)
    g = json.loads((GOLD / "cfa_ordinal" / "just_identified.json").read_text())
    bfi = custval.datasets.load_dataset("bfi").data[["A2", "A3", "A4"]]
    path = tmp_path / "agree.csv"
    path.write_bytes(b"\xef\xbb\xbf" + bfi.to_csv(index=False, sep=";", na_rep="").encode("utf-8"))
    data = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    # three respondents answered none of the items: excluded (lavaan: "some cases are empty")
    hint = "use missing='fiml'" if missing == "listwise" else r"no observed item: nothing for FIML to use"
    with pytest.warns(MissingDataWarning, match=hint):
        fit = CFA(g["model_groups"], estimator=estimator, missing=missing).fit(data)
    fm = fit.fit_measures_
    assert fm["df"] == 0
    checked = 0
    for name, want in g[key].items():
        if name not in fm.index or name.startswith("cn_"):  # Hoelter's N: NA below machine epsilon
            continue
        if want is None:
            assert np.isnan(fm[name]), name
        else:
            assert fm[name] == pytest.approx(want, rel=1e-6, abs=1e-7), name
        checked += 1
    assert checked > 40


def test_mlr_ladder_from_a_just_identified_configural_model_has_lavaans_test(tmp_path):
    # the configural model (df 0) has no scaling factor: the Satorra-Bentler difference was
    # NaN (0 * NaN) where lavTestLRT sets it to 1
    g = json.loads((GOLD / "cfa_ordinal" / "just_identified.json").read_text())
    bfi = custval.datasets.load_dataset("bfi").data
    frame = bfi[["A2", "A3", "A4", "gender"]].assign(gender=bfi["gender"].map({1: "m", 2: "f"}))
    path = tmp_path / "agree_by_gender.csv"
    path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, sep=";").encode("utf-8"))
    data = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    with pytest.warns(MissingDataWarning):
        res = measurement_invariance(data, g["model_groups"], group="gender", estimator="MLR",
                                     levels=("configural", "metric"))
    row = res.table.set_index("level").loc["metric"]
    want = g["ladder_mlr"]
    assert row["df"] == want["df"][1] and row["delta_df"] == want["df_diff"]
    assert row["delta_chisq"] == pytest.approx(want["chisq_diff"], rel=1e-6)
    assert row["p_value"] == pytest.approx(want["p_value"], rel=1e-6)
