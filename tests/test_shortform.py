"""custval.short_form: item reduction by exhaustive search and ant-colony optimisation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import custval
from custval import CFA, Instrument, load_dataset, load_instrument, short_form
from custval._stats import itemsel
from custval.exceptions import (
    CodebookError,
    ConstantItemError,
    DataValidationError,
    IdentificationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)


# --------------------------------------------------------------------------- data
def _one_factor(n, loadings, *, seed, levels=7):
    """Answers 1..levels of a one-factor population with the given loadings."""
    rng = np.random.default_rng(seed)
    lam = np.asarray(loadings, dtype=float)
    z = rng.standard_normal((n, 1)) * lam + rng.standard_normal((n, lam.size)) * np.sqrt(1 - lam**2)
    cuts = np.linspace(-1.8, 1.8, levels - 1)
    return (np.searchsorted(cuts, z) + 1).astype(float)


@pytest.fixture(scope="module")
def bfi():
    ds = load_dataset("bfi")
    return ds.data, ds.instrument


@pytest.fixture(scope="module")
def mobi():
    ds = load_dataset("mobi")
    return ds.data, ds.instrument


@pytest.fixture(scope="module")
def corp_rep():
    """corp_rep's quality (8 items) and performance (5 items) blocks as an instrument."""
    data = load_dataset("corp_rep").data
    inst = Instrument.from_dict({"QUAL": [f"qual_{i}" for i in range(1, 9)],
                                 "PERF": [f"perf_{i}" for i in range(1, 6)]}, scale=(1, 7), name="corp_rep_qp")
    return data, inst


@pytest.fixture(scope="module")
def cwi_customer():
    """Simulated CWI customer answers (labelled simulated), validated."""
    from custval.simulate import case_study

    _, customer = case_study(seed=3).validated()
    return customer, load_instrument("cwi").form("customer")


# --------------------------------------------------------------------------- the fast one-factor fit
@pytest.mark.parametrize("items", [("N1", "N2", "N3", "N4"), ("N1", "N2", "N3", "N4", "N5"),
                                   ("A1", "A2", "A3", "A4", "A5"), ("C1", "C3", "C4", "C5"),
                                   ("N1", "N3", "A1", "A3", "A5")])
def test_batched_ml_fit_equals_cfa_and_omega_equals_custval_omega(bfi, items):
    data, inst = bfi
    x = inst.keyed(data)[list(items)].dropna()
    pool = itemsel.Pool(x.to_numpy(float), [None] * len(items), ())
    crit = pool.criteria(np.arange(len(items))[None, :])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # keying notes of the mixed N/A subset
        fit = CFA("F =~ " + " + ".join(items)).fit(x)
    fm = fit.fit_measures_
    assert crit["converged"][0] and not crit["improper"][0]
    for name in ("chisq", "cfi", "rmsea"):
        assert crit[name][0] == pytest.approx(fm[name], rel=1e-8, abs=1e-10), name
    assert crit["srmr"][0] == pytest.approx(fm["srmr"], abs=2e-8)
    assert crit["df"][0] == fm["df"]
    om = custval.omega(x, ci_method=None)
    assert crit["omega"][0] == pytest.approx(om.omega_total, abs=1e-6)


def test_improper_subsets_are_the_heywood_cases_of_cfa(mobi):
    """IMAG, 3 of 5 items: the subsets the batch flags improper have a negative residual variance
    in custval.CFA too, and those are not eligible."""
    import itertools

    data, inst = mobi
    data = data.iloc[80:160]  # a pilot of 80 respondents
    pool = list(inst.constructs["IMAG"])
    subsets = np.array(list(itertools.combinations(range(5), 3)))
    crit = itemsel.Pool(data[pool].to_numpy(float), [None] * 5, ()).criteria(subsets)
    flags = []
    for s in subsets:
        cols = [pool[j] for j in s]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pt = CFA("F =~ " + " + ".join(cols)).fit(data).params_
        resid = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(cols)]["est"]
        flags.append(bool((resid < 0).any()))
    assert crit["improper"].tolist() == flags and any(flags) and not all(flags)
    res = short_form(data, inst, construct="IMAG", n_items=3, holdout=0)
    assert res.n_eligible == 10 - sum(flags)
    assert any("not eligible" in n for n in res.notes)


def test_three_items_are_just_identified(bfi):
    data, inst = bfi
    x = inst.keyed(data)[["E1", "E2", "E3"]].dropna()
    pool = itemsel.Pool(x.to_numpy(float), [None] * 3, ())
    crit = pool.criteria(np.arange(3)[None, :])
    fit = CFA("F =~ E1 + E2 + E3").fit(x)
    assert crit["df"][0] == fit.fit_measures_["df"] == 0
    assert crit["chisq"][0] == pytest.approx(fit.fit_measures_["chisq"], abs=1e-8)
    with pytest.warns(MissingDataWarning, match="87 of 2800 rows"):
        res = short_form(data, inst, construct="E", n_items=3)
    assert res.just_identified and any("just identified" in n for n in res.notes)


# --------------------------------------------------------------------------- ACO == exhaustive
def _cases():
    return [("bfi", "N", 3), ("bfi", "C", 4), ("mobi", "PERQ", 4), ("mobi", "IMAG", 3),
            ("corp_rep", "QUAL", 4), ("corp_rep", "QUAL", 5), ("corp_rep", "PERF", 3),
            ("cwi_customer", "CPROC", 3), ("cwi_customer", "DIGI", 4)]


@pytest.mark.parametrize("name,construct,k", _cases())
def test_aco_finds_the_exhaustive_optimum(request, name, construct, k):
    data, inst = request.getfixturevalue(name)
    ctx = pytest.warns(MissingDataWarning) if data[list(inst.constructs[construct])].isna().any().any() \
        else warnings.catch_warnings()
    with ctx:
        ex = short_form(data, inst, construct=construct, n_items=k, method="exhaustive")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        aco = short_form(data, inst, construct=construct, n_items=k, method="aco")
    assert ex.n_evaluated == ex.n_subsets and len(ex.candidates) == min(10, ex.n_eligible)
    assert aco.items == ex.items
    assert aco.criteria.equals(ex.criteria)
    assert aco.n_evaluated <= aco.n_subsets
    assert aco.search_log["colony"].iloc[-1] == len(aco.search_log)


def test_aco_finds_the_optimum_of_a_larger_simulated_pool():
    x = _one_factor(500, [0.75, 0.7, 0.65, 0.6, 0.6, 0.55, 0.5, 0.5, 0.45, 0.4, 0.35, 0.3], seed=11)
    cols = [f"q{i}" for i in range(1, 13)]
    data = pd.DataFrame(x, columns=cols)
    inst = Instrument.from_dict({"SAT": cols}, scale=(1, 7))
    ex = short_form(data, inst, n_items=5, method="exhaustive")
    aco = short_form(data, inst, n_items=5, method="aco")
    assert ex.n_subsets == 792 and ex.n_evaluated == 792
    assert aco.items == ex.items
    assert aco.n_evaluated < 792  # the colony did not enumerate everything
    assert ex.candidates["objective_calibration"].is_monotonic_decreasing
    assert ex.candidates["items"].iloc[0] == " + ".join(ex.items)


def test_exhaustive_optimum_is_the_argmax_of_a_plain_loop(mobi):
    """The vectorised search against a plain loop over the subsets with the public pieces."""
    import itertools

    from scipy.stats import norm

    data, inst = mobi
    res = short_form(data, inst, construct="PERQ", n_items=4, holdout=0.0)
    pool = list(inst.constructs["PERQ"])
    x = data[pool]
    best, best_val = None, -np.inf
    for sub in itertools.combinations(pool, 4):
        om = custval.omega(x[list(sub)], ci_method=None).omega_total
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fm = CFA("F =~ " + " + ".join(sub)).fit(x).fit_measures_
        r_full = np.corrcoef(x[list(sub)].sum(axis=1), x.sum(axis=1))[0, 1]
        val = (norm.cdf((om - 0.8) / 0.075) + 0.5 * norm.cdf((0.05 - fm["rmsea"]) / 0.015)
               + 0.5 * norm.cdf((0.05 - fm["srmr"]) / 0.015) + norm.cdf((r_full - 0.9) / 0.05))
        if val > best_val + 1e-9:
            best, best_val = sub, val
    assert res.items == best
    assert res.criteria.loc["objective", "calibration"] == pytest.approx(best_val, abs=1e-6)


# --------------------------------------------------------------------------- recovery, determinism
def test_recovers_the_four_strong_items():
    lam = [0.4, 0.85, 0.35, 0.45, 0.8, 0.4, 0.85, 0.3, 0.8, 0.45]  # strong: q2, q5, q7, q9
    cols = [f"q{i}" for i in range(1, 11)]
    data = pd.DataFrame(_one_factor(800, lam, seed=5), columns=cols)
    inst = Instrument.from_dict({"LOY": cols}, scale=(1, 7))
    for method in ("exhaustive", "aco"):
        res = short_form(data, inst, n_items=4, method=method, seed=2)
        assert res.items == ("q2", "q5", "q7", "q9"), method
        assert res.criteria.loc["omega", "validation"] > 0.8


def test_same_seed_same_result_other_seed_other_split(mobi):
    data, inst = mobi
    a = short_form(data, inst, construct="PERQ", n_items=4, method="aco", seed=7)
    b = short_form(data, inst, construct="PERQ", n_items=4, method="aco", seed=7)
    assert a == b and hash(a) == hash(b)
    assert a.search_log.equals(b.search_log)
    c = short_form(data, inst, construct="PERQ", n_items=4, method="aco", seed=8)
    assert not c.criteria["calibration"].equals(a.criteria["calibration"])


def test_a_capped_colony_says_it_may_have_missed_the_optimum(mobi, capsys):
    data, inst = mobi
    res = short_form(data, inst, construct="PERQ", n_items=4, method="aco", max_colonies=2, progress=True)
    assert res.stop_reason == "maximum number of colonies reached" and len(res.search_log) == 2
    assert res.n_evaluated <= 32 and any("not guaranteed optimal" in n for n in res.notes)
    assert "ant colonies" in capsys.readouterr().err  # the tqdm progress bar


def test_holdout_zero_uses_every_row_and_leaves_validation_empty(mobi):
    data, inst = mobi
    res = short_form(data, inst, construct="PERQ", n_items=4, holdout=0)
    assert res.n_calibration == res.n == len(data) and res.n_validation == 0
    assert res.criteria["validation"].isna().all()
    assert res.candidates["objective_validation"].isna().all()


def test_weights_and_targets_change_the_objective(mobi):
    data, inst = mobi
    only_omega = short_form(data, inst, construct="PERQ", n_items=4, weights={
        "omega": 1, "rmsea": 0, "srmr": 0, "r_full": 0}, holdout=0)
    omegas = only_omega.candidates["omega_calibration"]
    assert omegas.iloc[0] == omegas.max()
    assert "rmsea" not in only_omega.convention
    with pytest.raises(SpecificationError, match="unknown criterion"):
        short_form(data, inst, construct="PERQ", n_items=4, weights={"alpha": 1})
    with pytest.raises(SpecificationError, match="targets"):
        short_form(data, inst, construct="PERQ", n_items=4, targets={"omega": (0.8, 0)})


def test_keep_and_drop_restrict_the_search(mobi):
    data, inst = mobi
    free = short_form(data, inst, construct="PERQ", n_items=4)
    kept = short_form(data, inst, construct="PERQ", n_items=4, keep=["PERQ3"])
    assert "PERQ3" not in free.items and "PERQ3" in kept.items
    assert kept.n_subsets == 20  # C(6, 3)
    assert kept.candidates["items"].str.contains("PERQ3").all()
    gone = short_form(data, inst, construct="PERQ", n_items=4, drop=list(free.items[:1]))
    assert free.items[0] not in gone.items and gone.n_subsets == 15  # C(6, 4)
    # r_full still against the whole pool: the full-pool column is unchanged
    assert gone.criteria["full_pool_calibration"].equals(free.criteria["full_pool_calibration"])
    aco = short_form(data, inst, construct="PERQ", n_items=4, keep=["PERQ3"], method="aco")
    assert aco.items == kept.items
    with pytest.raises(SpecificationError, match="both in keep and in drop"):
        short_form(data, inst, construct="PERQ", n_items=4, keep="PERQ1", drop="PERQ1")
    with pytest.raises(SpecificationError, match="nothing left to choose"):
        short_form(data, inst, construct="PERQ", n_items=3, keep=["PERQ1", "PERQ2", "PERQ3"])
    with pytest.raises(SpecificationError, match="not items of PERQ"):
        short_form(data, inst, construct="PERQ", n_items=3, drop=["IMAG1"])
    with pytest.raises(SpecificationError, match="remain for a short form of 4"):
        short_form(data, inst, construct="PERQ", n_items=4, drop=["PERQ1", "PERQ2", "PERQ3", "PERQ4"])


# --------------------------------------------------------------------------- facets
FACET_CODEBOOK = """\
format: custval-codebook/1
name: service
version: "1.0"
title: "Service"
citation: "Test (2026)."
languages: [en]
scale: {min: 1, max: 7}
constructs:
  - id: SQ
    label: "Service quality"
    items:
      - {id: sq1, text: "Staff are polite.", facet: empathy}
      - {id: sq2, text: "Staff listen.", facet: empathy}
      - {id: sq3, text: "Staff care.", facet: empathy}
      - {id: sq4, text: "Staff are kind.", facet: empathy}
      - {id: sq5, text: "Service is quick.", facet: speed}
      - {id: sq6, text: "Waiting is short.", facet: speed}
      - {id: sq7, text: "Things work.", facet: reliability}
"""


@pytest.fixture()
def facet_instrument(tmp_path):
    path = tmp_path / "service.yaml"
    path.write_text(FACET_CODEBOOK, encoding="utf-8")
    return load_instrument(path)


def test_codebook_items_carry_their_facet(facet_instrument, tmp_path):
    assert facet_instrument.item("sq5").facet == "speed"
    assert load_instrument("bfi").item("A1").facet is None
    bad = tmp_path / "bad.yaml"
    bad.write_text(FACET_CODEBOOK.replace("facet: speed}", "facet: 'two words'}", 1), encoding="utf-8")
    with pytest.raises(CodebookError, match="facet"):
        load_instrument(bad)


def test_coverage_is_scored_or_required(facet_instrument):
    # the empathy items are the strongest: a pure reliability choice takes them all
    lam = [0.85, 0.85, 0.8, 0.8, 0.5, 0.45, 0.4]
    data = pd.DataFrame(_one_factor(600, lam, seed=9), columns=[f"sq{i}" for i in range(1, 8)])
    plain = short_form(data, facet_instrument, n_items=4, weights={"coverage": 0})
    assert plain.items == ("sq1", "sq2", "sq3", "sq4") and plain.covered_facets == ("empathy",)
    required = short_form(data, facet_instrument, n_items=4, coverage="require")
    assert set(required.covered_facets) == {"empathy", "speed", "reliability"}
    assert required.criteria.loc["coverage", "calibration"] == 1.0
    scored = short_form(data, facet_instrument, n_items=4, weights={"coverage": 5})
    assert scored.criteria.loc["coverage", "calibration"] > plain.criteria.loc["coverage", "calibration"]
    two = short_form(data, facet_instrument, n_items=3, coverage="require", required_facets=["speed"])
    assert "speed" in two.covered_facets
    override = short_form(data, facet_instrument, n_items=3, coverage="require",
                          facets={"sq1": "speed"}, required_facets=["speed", "reliability"])
    assert set(override.covered_facets) == {"speed", "reliability"}
    with pytest.raises(SpecificationError, match="covered by no item"):
        short_form(data, facet_instrument, n_items=4, required_facets=["price"])
    with pytest.raises(SpecificationError, match="cannot be covered by 3"):
        short_form(data, facet_instrument, n_items=3, coverage="require",
                   facets={"sq1": "a", "sq2": "b", "sq3": "c", "sq4": "d"})


def test_short_form_instrument_prints_as_a_questionnaire(facet_instrument):
    lam = [0.85, 0.85, 0.8, 0.8, 0.5, 0.45, 0.4]
    data = pd.DataFrame(_one_factor(400, lam, seed=4), columns=[f"sq{i}" for i in range(1, 8)])
    res = short_form(data, facet_instrument, n_items=4)
    short = res.instrument()
    assert short.items == res.items and short.name == "service_short"
    assert short.item(res.items[0]).facet == facet_instrument.item(res.items[0]).facet
    html = custval.make_questionnaire(short, form=None)
    assert html.count('<tr class="item"') == 4
    assert "Things work." not in html or "sq7" in res.items
    both = load_dataset("bfi")
    with pytest.warns(MissingDataWarning):
        r2 = short_form(both.data, both.instrument, construct="A", n_items=3)
    assert set(r2.instrument(other_constructs=True).constructs) == {"A", "C", "E", "N", "O"}
    assert r2.instrument().constructs == {"A": r2.items}
    assert "reverse" in str(r2.instrument().to_frame().columns.tolist())


# --------------------------------------------------------------------------- bad input
def test_k_outside_the_pool_or_below_three_is_an_error(mobi):
    data, inst = mobi
    with pytest.raises(IdentificationError, match="not identified"):
        short_form(data, inst, construct="PERQ", n_items=2)
    with pytest.raises(SpecificationError, match="has 7 items"):
        short_form(data, inst, construct="PERQ", n_items=9)
    with pytest.raises(SpecificationError, match="has 7 items"):
        short_form(data, inst, construct="PERQ", n_items=7)
    with pytest.raises(SpecificationError, match="constructs: IMAG"):
        short_form(data, inst, construct="NOPE", n_items=3)
    with pytest.raises(SpecificationError, match="name the construct"):
        short_form(data, inst, n_items=3)
    with pytest.raises(SpecificationError, match="max_exhaustive"):
        short_form(data, inst, construct="PERQ", n_items=3, method="exhaustive", max_exhaustive=10)
    with pytest.raises(SpecificationError, match="holdout"):
        short_form(data, inst, construct="PERQ", n_items=3, holdout=1.0)
    with pytest.raises(SpecificationError, match="not in the data: PERQ7"):
        short_form(data.drop(columns="PERQ7"), inst, construct="PERQ", n_items=3)


def test_constant_item_is_named(mobi):
    data, inst = mobi
    d = data.copy()
    d["PERQ3"] = 8.0
    with pytest.raises(ConstantItemError, match="PERQ3 .every valid answer = 8"):
        short_form(d, inst, construct="PERQ", n_items=4)


def test_missing_answers_exclude_rows_with_reasons(mobi):
    data, inst = mobi
    d = data.copy()
    d.loc[[3, 10, 11], "PERQ2"] = np.nan
    d.loc[10, "PERQ6"] = np.nan
    with pytest.warns(MissingDataWarning, match="3 of 250 rows excluded"):
        res = short_form(d, inst, construct="PERQ", n_items=4)
    assert res.n_rows == res.n + len(res.excluded) == 250
    assert res.excluded["row"].tolist() == [3, 10, 11]
    assert res.excluded["reason"].tolist() == ["missing answer to PERQ2", "missing answer to PERQ2, PERQ6",
                                               "missing answer to PERQ2"]
    with pytest.raises(DataValidationError, match="missing values"):
        short_form(d, inst, construct="PERQ", n_items=4, nan_policy="raise")


def test_halves_name_their_rows_and_the_validation_criteria_are_computed_on_them(mobi):
    data, inst = mobi
    d = data.copy()
    d.index = [f"r{i:03d}" for i in range(len(d))]  # labels, not positions
    d.loc[["r003", "r010"], "PERQ2"] = np.nan
    with pytest.warns(MissingDataWarning, match="2 of 250 rows excluded"):
        res = short_form(d, inst, construct="PERQ", n_items=4, seed=3)
    cal, val = list(res.calibration_rows), list(res.validation_rows)
    assert (len(cal), len(val)) == (res.n_calibration, res.n_validation)
    assert set(cal).isdisjoint(val) and set(cal) | set(val) == set(d.index) - {"r003", "r010"}
    assert cal == [i for i in d.index if i in set(cal)]  # data order
    pool = d.loc[val, list(res.pool)]
    r = np.corrcoef(pool[list(res.items)].sum(axis=1), pool.sum(axis=1))[0, 1]
    assert r == pytest.approx(res.criteria.loc["r_full", "validation"], abs=1e-12)
    with pytest.warns(MissingDataWarning):
        other = short_form(d, inst, construct="PERQ", n_items=4, seed=4)
    assert other.validation_rows != res.validation_rows


def test_too_few_rows_in_a_half(mobi):
    data, inst = mobi
    with pytest.raises(InsufficientDataError, match="validation half"):
        short_form(data.iloc[:30], inst, construct="PERQ", n_items=4, holdout=0.2)


def test_result_displays(mobi):
    data, inst = mobi
    res = short_form(data, inst, construct="PERQ", n_items=4)
    text = res.summary()
    assert "Short form of PERQ" in text and "35 of 35 subsets" in text and "250 given = 250 used" in text
    assert "<table" in res._repr_html_()
    assert list(res.to_frame().columns) == ["calibration", "validation", "full_pool_calibration"]


# --------------------------------------------------------------------------- against R (tests/r/short_form.R)
@pytest.mark.parametrize("case", ["mobi_PERQ_4", "mobi_PERQ_5", "bfi_C_4"])
def test_every_subset_and_the_optimum_agree_with_lavaan_and_psych(case, mobi, bfi):
    """lavaan::cfa fit measures and psych::omega of every subset, and the argmax of the
    documented objective (stuart's bruteforce written out in R), with holdout=0."""
    from tests.conftest import load_golden

    gold = load_golden("shortform", "subsets")[case]
    name, construct, k = case.split("_")
    data, inst = mobi if name == "mobi" else bfi
    pool = list(inst.constructs[construct])
    x = inst.keyed(data)[pool].dropna()
    assert len(x) == gold["n"]
    cal = itemsel.Pool(x.to_numpy(float), [None] * len(pool), ())
    subsets = np.array([[pool.index(i) for i in s["items"]] for s in gold["subsets"]])
    crit = cal.criteria(subsets)
    for name_ in ("chisq", "cfi", "rmsea", "srmr", "r_full"):
        want = np.array([s[name_] for s in gold["subsets"]])
        np.testing.assert_allclose(crit[name_], want, rtol=1e-6, atol=1e-8, err_msg=name_)
    np.testing.assert_allclose(crit["omega"], [s["omega"] for s in gold["subsets"]], atol=1e-6)
    ctx = pytest.warns(MissingDataWarning) if len(x) < len(data) else warnings.catch_warnings()
    with ctx:
        res = short_form(data, inst, construct=construct, n_items=int(k), holdout=0)
    assert list(res.items) == gold["best"]
    best = next(s for s in gold["subsets"] if s["items"] == gold["best"])
    assert res.criteria.loc["objective", "calibration"] == pytest.approx(best["objective"], abs=1e-6)
