"""Two result shapes only, and results that compare and hash by value.

Every public statistic returns a labelled DataFrame or a frozen result object; the
former bare-number helpers (feldt_ci, pairwise_pearson, icc_oneway, rwg_j, the
screening indices) are private.  Every frozen result compares by value (exact,
NaN-aware) and hashes consistently, so it can be a dict key or a set member.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset, read_survey
from custval._results import ResultMixin, ValueEqualityMixin, value_digest, values_equal

BFI_ITEMS = [f"{c}{i}" for c in "ACENO" for i in range(1, 6)]
HS_ITEMS = [f"x{i}" for i in range(1, 10)]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
HS_BLOCKS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}


def _write_export(path, frame: pd.DataFrame) -> None:
    """A spreadsheet-style CSV export: UTF-8 BOM, CRLF, semicolons, quoted header, blank = no answer."""
    lines = [";".join(f'"{c}"' for c in frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append(";".join("" if pd.isna(v) else str(int(v)) for v in row))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


@pytest.fixture(scope="module")
def bfi_survey(tmp_path_factory):
    """The bfi answers (first 800 respondents, missing answers kept) read back from a messy export."""
    ds = load_dataset("bfi")
    raw = ds.data[["id", *BFI_ITEMS]].iloc[:800]
    path = tmp_path_factory.mktemp("export") / "bfi_export.csv"
    _write_export(path, raw)
    df = read_survey(path, ds.instrument, id_column="id")
    assert df[BFI_ITEMS].isna().sum().sum() == raw[BFI_ITEMS].isna().sum().sum()  # nothing lost
    return df, ds.instrument


@pytest.fixture(scope="module")
def hs():
    return load_dataset("holzinger_swineford1939").data


# --------------------------------------------------------------------------- one shape per function
def test_guttman_lambda6_returns_a_labelled_result(bfi_survey):
    from custval.reliability import Lambda6Result, cronbach_alpha, guttman_lambda6

    df, _ = bfi_survey
    items = df[["N1", "N2", "N3", "N4", "N5"]]
    res = guttman_lambda6(items)
    assert isinstance(res, Lambda6Result)
    # the same number cronbach_alpha reports as lambda6 (psych's G6(smc)), on the same rows
    alpha = cronbach_alpha(items, ci_method=None)
    assert res.estimate == alpha.lambda6
    assert res.n == alpha.n == int(items.notna().all(axis=1).sum())
    assert res.n_excluded == len(items) - res.n and res.items == tuple(items.columns)
    frame = res.to_frame()
    assert list(frame.columns) == ["estimate", "n", "n_items"] and list(frame.index) == ["lambda6"]
    assert "lambda-6" in res.summary() and "G6(smc)" in res.summary()
    pw = guttman_lambda6(items, nan_policy="pairwise")
    assert pw.n > res.n and pw.nan_policy == "pairwise" and pw != res


def test_scaled_difference_test_returns_a_labelled_result():
    from scipy import stats

    from custval.exceptions import SpecificationError
    from custval.invariance import ScaledDifferenceResult, scaled_difference_test

    res = scaled_difference_test(85.3, 48, 1.12, 97.1, 54, 1.09)
    assert isinstance(res, ScaledDifferenceResult)
    cd = (54 * 1.09 - 48 * 1.12) / 6
    assert res.scaling_factor == pytest.approx(cd, rel=1e-15)
    assert res.chisq_diff == pytest.approx((97.1 - 85.3) / cd, rel=1e-15) and res.estimate == res.chisq_diff
    assert res.df_diff == 6
    assert res.p_value == pytest.approx(stats.chi2.sf(res.chisq_diff, 6), rel=1e-12)
    assert res.to_frame().loc["chisq_diff", "p_value"] == res.p_value
    with pytest.raises(SpecificationError, match="df0 < df1"):
        scaled_difference_test(97.1, 54, 1.09, 85.3, 48, 1.12)


def test_former_bare_helpers_are_private():
    from custval import correlation, gaps, reliability, screening

    for module, name in [(reliability, "feldt_ci"), (correlation, "pairwise_pearson"), (gaps, "icc_oneway"),
                         (gaps, "rwg_j"), (screening, "longstring"), (screening, "irv"),
                         (screening, "mahalanobis")]:
        assert not hasattr(module, name), f"{module.__name__}.{name} is still public"
        assert hasattr(module, "_" + name)
        assert name not in module.__all__


def test_cr_ave_and_the_apa_reliability_table_have_different_names(bfi_survey):
    from custval import tables, validity
    from custval.reliability import scale_reliability

    assert not hasattr(validity, "reliability_table") and "cr_ave" in validity.__all__
    df, instrument = bfi_survey
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", custval.exceptions.CustvalWarning)
        rel = scale_reliability(df, instrument, ci_method="feldt")
    table = tables.reliability_table(rel)
    assert isinstance(table, tables.APATable) and len(table.to_frame()) == len(instrument.constructs)


def test_cr_ave_matches_composite_reliability_and_ave(hs):
    from custval.cfa import CFA
    from custval.validity import ave, composite_reliability, cr_ave

    fit = CFA(HS_MODEL).fit(hs)
    table = cr_ave(fit)
    assert list(table.columns) == ["composite_reliability", "ave"]
    cr = composite_reliability(fit).wide()["semtools_observed"]
    av = ave(fit).wide()["semtools_observed"]
    np.testing.assert_array_equal(table["composite_reliability"], cr.loc[table.index])
    np.testing.assert_array_equal(table["ave"], av.loc[table.index])


# --------------------------------------------------------------------------- value equality and hash
def _all_result_classes() -> set[type]:
    for name in sorted(custval._SUBMODULES):
        importlib.import_module(f"custval.{name}")
    found, todo = set(), [ValueEqualityMixin]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_frozen_result_uses_the_shared_equality_and_hash():
    classes = _all_result_classes()
    frozen = {c for c in classes if dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen}
    # a new result class declared @dataclass(frozen=True) without eq=False would get the
    # dataclass __eq__ (which raises on DataFrame fields) and lose its hash
    for cls in frozen:
        assert cls.__eq__ is ValueEqualityMixin.__eq__, cls
        assert cls.__hash__ is ValueEqualityMixin.__hash__, cls
    assert {c.__name__ for c in frozen if not issubclass(c, ResultMixin)} == {"CorrelationInput"}
    # PLS, a mutable estimator, keeps identity semantics
    assert {c.__name__ for c in classes - frozen} == {"PLS", "ResultMixin"}
    assert set(FACTORIES) == {c.__name__ for c in frozen}


def _firms(variant: int) -> pd.DataFrame:
    """The simulated firms of tests/golden/alignment (variant 1: without the last firm)."""
    from pathlib import Path

    df = pd.read_csv(Path(__file__).parent / "golden" / "alignment" / "firms.csv")
    return df if variant == 0 else df[df["firm"] != "F12"]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", custval.exceptions.CustvalWarning)
        return fn(*args, **kw)


def _hs(variant):
    data = load_dataset("holzinger_swineford1939").data
    return data if variant == 0 else data.iloc[:250]


def _bfi(variant):
    data = load_dataset("bfi").data
    return data.iloc[:700] if variant == 0 else data.iloc[700:1400]


def _cwi(variant):
    from custval.simulate import case_study

    return case_study(seed=variant)


def _apa(variant):
    from custval.reliability import scale_reliability
    from custval.tables import reliability_table

    ds = load_dataset("bfi")
    return reliability_table(_quiet(scale_reliability, _bfi(variant), ds.instrument, ci_method="feldt"))


def _screen(variant):
    from custval.screening import screen

    ds = load_dataset("bfi")
    return screen(_bfi(variant), ds.instrument)


def _score(variant):
    ds = load_dataset("bfi")
    return _quiet(ds.instrument.score, _bfi(variant))


def _pls_boot(variant):
    from custval import PLS

    mobi = load_dataset("mobi", with_instrument=False).data
    model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"
    return _quiet(PLS(model).fit(mobi).bootstrap, n_boot=50, seed=variant)


def _pls_groups(fn, variant, **kw):
    from custval import pls

    mobi = load_dataset("mobi", with_instrument=False).data
    model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"
    return _quiet(getattr(pls, fn), mobi, model, seed=variant, **kw)


def _mobi_split():
    return load_dataset("mobi", with_instrument=False).data["CUEX1"] >= 8
def _ipma(variant):
    from custval import PLS

    mobi = load_dataset("mobi", with_instrument=False).data
    model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"
    return PLS(model).fit(mobi.iloc[: 250 - 50 * variant]).ipma(target="Loyalty", scales=(1, 10))


def _cfa(variant):
    from custval.cfa import CFA

    return _quiet(CFA(HS_MODEL).fit, _hs(variant))


def _gaps(fn, variant, **kw):
    from custval import gaps, load_instrument

    prov, cust = _cwi(variant).validated()
    f = getattr(gaps, fn)
    inst = load_instrument("cwi")
    if fn == "readiness":
        return _quiet(f, prov, inst, n_boot=100, **kw)
    if fn == "cocreation_segments":
        return _quiet(f, cust, inst, k_max=2, **kw)
    if fn == "latent_perception_gap":
        kw["invariance"] = _quiet(gaps.form_invariance, prov, cust, inst, constructs=["CPROC"])
    return _quiet(f, prov, cust, inst, **kw)


# class name -> builder(variant): variant 0 and 1 give different data
FACTORIES = {
    "AlphaResult": lambda v: _quiet(custval.cronbach_alpha, _bfi(v)[["A1", "A2", "A3", "A4", "A5"]]),
    "SplitHalfResult": lambda v: custval.split_half(_bfi(v)[["N1", "N2", "N3", "N4", "N5"]]),
    "Lambda6Result": lambda v: custval.guttman_lambda6(_bfi(v)[["N1", "N2", "N3", "N4", "N5"]]),
    "OmegaResult": lambda v: _quiet(custval.omega, _bfi(v)[BFI_ITEMS], n_factors=5, ci_method=None),
    "KMOResult": lambda v: custval.kmo(_bfi(v)[BFI_ITEMS]),
    "BartlettResult": lambda v: custval.bartlett(_hs(v)[HS_ITEMS]),
    "ParallelAnalysisResult": lambda v: custval.parallel_analysis(_hs(v)[HS_ITEMS], n_iter=10, seed=1),
    "MAPResult": lambda v: custval.velicer_map(_bfi(v)[BFI_ITEMS]),
    "HarmanResult": lambda v: custval.harman_single_factor(_hs(v)[HS_ITEMS]),
    "PolychoricResult": lambda v: custval.polychoric(_bfi(v)[["A1", "A2", "A3"]].dropna()),
    "CorrelationInput": lambda v: custval.correlation.correlation_input(_bfi(v)[BFI_ITEMS]),
    "ScaledDifferenceResult": lambda v: custval.invariance.scaled_difference_test(
        100.0, 48, 1.10, 110.0 + v, 54, 1.08),
    "HTMTResult": lambda v: custval.htmt(_hs(v), HS_BLOCKS, n_boot=50),
    "DynamicCutoffsResult": lambda v: custval.planning.dynamic_fit_cutoffs(
        _cfa(0), replications=10, seed=v, progress=False),
    "StudyPlanResult": lambda v: custval.planning.simulate_study(
        {"constructs": {"A": 3, "B": 3}, "firms": 3, "accounts": 3, "customers_per_account": 2},
        replications=2, seed=v, progress=False, decisions=("htmt", "agreement")),
    "CrossLoadingsResult": lambda v: custval.cross_loadings(_hs(v), HS_BLOCKS),
    "ConstructReliabilityResult": lambda v: _quiet(custval.composite_reliability, _cfa(v)),
    "FornellLarckerResult": lambda v: _quiet(custval.fornell_larcker, _cfa(v)),
    "CommonMethodResult": lambda v: _quiet(custval.common_method_cfa, _hs(v), HS_MODEL),
    "MeasurementTable": lambda v: _quiet(custval.measurement_table, _hs(v), _cfa(v), n_boot=20),
    "InvarianceResult": lambda v: _quiet(custval.measurement_invariance, _hs(v), HS_BLOCKS,
                                         group="school", levels=("configural", "metric")),
    "PLSBootstrapResult": _pls_boot,
    "MICOMResult": lambda v: _pls_groups("micom", v, group=_mobi_split(), permutations=50),
    "MGAResult": lambda v: _pls_groups("mga", v, group=_mobi_split(), permutations=50),
    "PLSPredictResult": lambda v: _pls_groups("plspredict", v, folds=5, repetitions=2),
    "IPMAResult": _ipma,
    "ScreenResult": _screen,
    "ScoreResult": _score,
    "APATable": _apa,
    "Dataset": lambda v: load_dataset(("bfi", "mobi")[v]),
    "CaseStudy": _cwi,
    "ReadinessResult": lambda v: _gaps("readiness", v),
    "PerceptionGapResult": lambda v: _gaps("perception_gap", v, n_boot=100),
    "SegmentResult": lambda v: _gaps("cocreation_segments", v),
    "BenchmarkResult": lambda v: _gaps("benchmark_firms", v, n_boot=100),
    "FormInvarianceResult": lambda v: _gaps("form_invariance", v, constructs=["CPROC"]),
    "LatentGapResult": lambda v: _gaps("latent_perception_gap", v),
    "ShortFormResult": lambda v: custval.short_form(load_dataset("mobi").data, "ecsi", construct="PERQ",
                                                    n_items=4, seed=v),
    "ContentValidityResult": lambda v: custval.content_validity(
        pd.DataFrame({"q1": [4, 3, 4, 2 + v], "q2": [1, 3, 4, 4]}, index=["e1", "e2", "e3", "e4"])),
    "KnownGroupsResult": lambda v: custval.known_groups(
        _bfi(v), custval.load_instrument("bfi"), group="gender", constructs=["A"]),
    "CriterionValidityResult": lambda v: custval.criterion_validity(
        _bfi(v), custval.load_instrument("bfi"), criteria=["age"], constructs=["A"]),
    "Dossier": lambda v: custval.report.dossier(_bfi(v).iloc[:300], custval.load_instrument("bfi"),
                                                n_boot=30, seed=v),
    "RetestResult": lambda v: custval.retest.test_retest(
        pd.DataFrame({"id": [1, 2, 3, 4], "q": [1, 3, 4, 2]}), pd.DataFrame({"id": [1, 2, 3, 4], "q": [2, 3, 4, 1 + v]})),
    "AlignmentResult": lambda v: custval.alignment(
        _firms(v), "value =~ cv1 + cv2 + cv3 + cv4 + cv5 + cv6", group="firm", starts=2),
}


@pytest.fixture(scope="module")
def built():
    cache: dict = {}

    def get(name, variant):
        if (name, variant) not in cache:
            cache[name, variant] = FACTORIES[name](variant)
        return cache[name, variant]

    return get


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_results_compare_and_hash_by_value(name, built):
    a, b = built(name, 0), FACTORIES[name](0)  # the same computation twice: two distinct objects
    assert type(a).__name__ == name and a is not b
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b}) == 1 and {a: "first"}[b] == "first"
    twin = copy.deepcopy(a)
    assert twin == a and hash(twin) == hash(a)
    other = built(name, 1)  # different data
    assert a != other and other != a
    assert len({a, other}) == 2
    assert a != "not a result" and a != None  # noqa: E711


def test_kmo_equality_is_exact_and_nan_aware(bfi_survey):
    df, _ = bfi_survey
    a, b = custval.kmo(df[BFI_ITEMS]), custval.kmo(df[BFI_ITEMS])
    assert a == b and hash(a) == hash(b)
    # exact: the smallest change to one per-item MSA makes them unequal
    msa = a.msa.copy()
    msa.iloc[0] = np.nextafter(msa.iloc[0], 2.0)
    assert dataclasses.replace(a, msa=msa) != a
    # NaN equals NaN in the same place, and -0.0 equals 0.0, with equal hashes
    nan_a = dataclasses.replace(a, estimate=float("nan"), msa=a.msa.where(a.msa.index != "A1"))
    nan_b = dataclasses.replace(b, estimate=float("nan"), msa=b.msa.where(b.msa.index != "A1"))
    assert nan_a == nan_b and hash(nan_a) == hash(nan_b)
    zero = dataclasses.replace(a, estimate=0.0)
    assert zero == dataclasses.replace(a, estimate=-0.0) and hash(zero) == hash(dataclasses.replace(a, estimate=-0.0))
    # labels and dtype count: the same numbers under other item names are another result
    assert dataclasses.replace(a, msa=a.msa.rename(lambda s: s.lower())) != a
    assert dataclasses.replace(a, n=float(a.n)) == a  # 2694 == 2694.0, as in Python


def test_bootstrap_replicates_do_not_enter_equality(bfi_survey):
    df, _ = bfi_survey
    items = df[["N1", "N2", "N3", "N4", "N5"]]
    a = custval.cronbach_alpha(items, ci_method="bootstrap", n_boot=100, seed=3)
    b = dataclasses.replace(a, boot=a.boot[::-1].copy())  # declared compare=False
    assert a == b and hash(a) == hash(b)
    assert custval.cronbach_alpha(items, ci_method="bootstrap", n_boot=100, seed=4) != a


def test_value_helpers_on_field_types():
    arr = np.array([1.0, np.nan, -0.0])
    assert values_equal(arr, np.array([1.0, np.nan, 0.0]))
    assert value_digest(arr) == value_digest(np.array([1.0, np.nan, 0.0]))
    assert not values_equal(arr, arr.astype(np.float32))  # dtype counts
    assert not values_equal(np.array([1, 2]), np.array([1.0, 2.0]))
    assert values_equal({"a": (1.0, float("nan"))}, {"a": (1.0, float("nan"))})
    assert not values_equal((1.0,), [1.0])
    frame = pd.DataFrame({"x": [1.0, np.nan], "y": ["a", None]}, index=["r1", "r2"])
    assert values_equal(frame, frame.copy()) and value_digest(frame) == value_digest(frame.copy())
    assert not values_equal(frame, frame.rename(columns={"x": "z"}))
    assert not values_equal(frame, frame["x"])


def test_an_estimator_keeps_identity_semantics():
    from custval import PLS

    a, b = PLS("Image =~ IMAG1 + IMAG2\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"), \
        PLS("Image =~ IMAG1 + IMAG2\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image")
    assert a == a and a != b and hash(a) != hash(b)


def test_seminr_reference_has_one_return_type():
    from tests._seminr import seminr_cases, seminr_reference

    cases = seminr_cases()
    assert "ecsi_pls" in cases and all(isinstance(c, str) for c in cases)
    ref = seminr_reference(cases[0])
    assert isinstance(ref, dict) and isinstance(ref["paths"], pd.DataFrame)
    assert seminr_cases(bootstrap=True) == ["ecsi_pls", "ecsi_plsc"]
    with pytest.raises(TypeError):
        seminr_reference()  # the case is required: no list of names from the same function
