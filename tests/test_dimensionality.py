"""KMO, Bartlett, parallel analysis, MAP and Harman's test against psych (tests/r/dimensionality.R)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    InsufficientDataError,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
    SingularMatrixError,
    SpecificationError,
)
from tests.conftest import load_golden
from tests.test_efa import DATASETS, GOLD, data, mat

BASIC = load_golden("dimensionality", "basic")
PARALLEL = load_golden("dimensionality", "parallel")


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_kmo_matches_psych(dataset):
    g = BASIC[dataset]
    res = custval.kmo(data(dataset), nan_policy=DATASETS[dataset][2])
    np.testing.assert_allclose(res.estimate, g["msa"], rtol=1e-10)
    assert list(res.msa.index) == list(g["msai"])
    np.testing.assert_allclose(res.msa.to_numpy(), list(g["msai"].values()), rtol=1e-10)
    assert res.n == g["n"]
    assert "overall" in res.to_frame().index


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_bartlett_matches_psych(dataset):
    g = BASIC[dataset]
    res = custval.bartlett(data(dataset), nan_policy=DATASETS[dataset][2])
    np.testing.assert_allclose(res.chisq, g["chisq"], rtol=1e-10)
    assert res.df == g["df"]
    np.testing.assert_allclose(res.p_value, g["p_value"], rtol=1e-8, atol=1e-300)
    assert res.n == g["n"]


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_map_matches_psych(dataset):
    g = BASIC[dataset]
    res = custval.velicer_map(data(dataset), nan_policy=DATASETS[dataset][2])
    np.testing.assert_allclose(res.map.to_numpy(), g["map"], rtol=1e-8)
    assert res.n_factors == int(np.argmin(g["map"])) + 1


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_parallel_analysis_matches_psych(dataset):
    g = PARALLEL[dataset]
    res = custval.parallel_analysis(data(dataset), n_iter=100, nan_policy=DATASETS[dataset][2])
    ev = res.eigenvalues
    np.testing.assert_allclose(ev["pc_observed"].to_numpy(), g["pc_values"], rtol=1e-8)
    np.testing.assert_allclose(ev["fa_observed"].to_numpy(), g["fa_values"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(BASIC[dataset]["eigenvalues"], g["pc_values"], rtol=1e-10)
    assert (res.n_factors, res.n_components) == (g["nfact"], g["ncomp"])
    assert res.n_iter == 100 and res.seed == 0
    # the simulated eigenvalues come from another RNG: equal in distribution only
    np.testing.assert_allclose(ev["pc_simulated_mean"].to_numpy(), g["pc_sim"], atol=0.03)
    np.testing.assert_allclose(ev["pc_resampled_mean"].to_numpy(), g["pc_simr"], atol=0.03)


def test_parallel_analysis_polychoric_observed_matches_psych():
    g = PARALLEL["simulated_poly"]
    res = custval.parallel_analysis(data("simulated"), n_iter=5, cor="polychoric")
    np.testing.assert_allclose(res.eigenvalues["pc_observed"].to_numpy(), g["pc_values"], atol=1e-8)
    np.testing.assert_allclose(res.eigenvalues["fa_observed"].to_numpy(), g["fa_values"], atol=1e-8)
    assert res.cor == "polychoric" and 'cor = "poly"' in res.r_call


def test_parallel_analysis_is_reproducible_and_plots():
    x = data("hs")
    a = custval.parallel_analysis(x, n_iter=10, seed=7)
    b = custval.parallel_analysis(x, n_iter=10, seed=7)
    c = custval.parallel_analysis(x, n_iter=10, seed=8)
    pd.testing.assert_frame_equal(a.eigenvalues, b.eigenvalues)
    assert not np.allclose(a.eigenvalues["pc_simulated_mean"], c.eigenvalues["pc_simulated_mean"])
    ax = a.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.lines) >= 6
    assert "10 iterations, seed 7" in a.summary()
    pc = custval.parallel_analysis(x, n_iter=10, kind="pc")
    assert pc.n_factors is None and "fa_observed" not in pc.eigenvalues


def test_parallel_analysis_bad_arguments():
    with pytest.raises(SpecificationError, match="kind"):
        custval.parallel_analysis(data("hs"), kind="x")
    with pytest.raises(SpecificationError, match="quantile"):
        custval.parallel_analysis(data("hs"), quantile=1.5)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_harman_matches_psych_one_factor(dataset):
    g = GOLD[f"{dataset}/minres/one_factor"]
    res = custval.harman_single_factor(data(dataset), nan_policy=DATASETS[dataset][2])
    want = mat(g["vaccounted"]).loc["Proportion Var", "MR1"]
    np.testing.assert_allclose(res.estimate, want, atol=1e-6)
    assert res.exceeds_half == (want > 0.5)
    assert "weak" in res.convention


class _FakeInstrument:
    """The two members of the Instrument contract that harman_single_factor uses."""

    name = "hs"
    items = ("x1", "x2", "x3", "x4")

    def keyed(self, df):
        out = df.copy()
        out["x2"] = 10 - out["x2"]  # reverse-keyed item
        return out


def test_harman_applies_instrument_keying():
    df = data("hs")
    res = custval.harman_single_factor(df, _FakeInstrument())
    keyed = df[["x1", "x2", "x3", "x4"]].copy()
    keyed["x2"] = 10 - keyed["x2"]
    assert res.n_items == 4
    np.testing.assert_allclose(res.estimate, custval.harman_single_factor(keyed).estimate, rtol=1e-12)
    pc = custval.harman_single_factor(keyed, method="pc")
    np.testing.assert_allclose(pc.estimate, np.linalg.eigvalsh(keyed.corr())[-1] / 4, rtol=1e-10)
    with pytest.raises(SpecificationError, match="x1"):
        custval.harman_single_factor(df.drop(columns="x1"), _FakeInstrument())


# --------------------------------------------------------------------------- bad input
def test_kmo_with_missing_values_and_raise_policy():
    bfi = data("bfi_pairwise")
    with pytest.raises(DataValidationError, match="missing"):
        custval.kmo(bfi, nan_policy="raise")
    assert custval.kmo(bfi, nan_policy="listwise").n == 2436


def test_constant_item_named():
    df = data("hs").copy()
    df["x3"] = 1.0
    for fn in (custval.kmo, custval.bartlett, custval.velicer_map):
        with pytest.raises(ConstantItemError, match="x3"):
            fn(df)


def test_fewer_respondents_than_items():
    with pytest.raises(InsufficientDataError):
        custval.kmo(data("sq").iloc[:15])


def test_singular_matrix_named_never_linalgerror():
    df = data("hs").copy()
    df["x10"] = df["x4"] - df["x5"]
    with pytest.raises(SingularMatrixError, match="x10"):
        custval.kmo(df)
    with pytest.raises(SingularMatrixError, match="x10"):
        custval.bartlett(df)


def test_non_positive_definite_pairwise_matrix_warns():
    rng = np.random.default_rng(0)
    big, small = rng.normal(size=20) * 10, rng.normal(size=20)
    nan = np.full(20, np.nan)
    # a~b on rows 0-19, b~c on rows 40-59, a = -c on rows 20-39: pairwise r is indefinite
    a = np.r_[big, small, nan]
    b = np.r_[big + rng.normal(size=20), rng.normal(size=20), big + rng.normal(size=20)]
    c = np.r_[nan, -small, big]
    df = pd.DataFrame({"a": a, "b": b, "c": c, "d": rng.normal(size=60)})
    r = custval.correlation.correlation_input(df).r
    assert np.linalg.eigvalsh(r)[0] < 0
    with pytest.warns(NotPositiveDefiniteWarning, match="not positive definite"):
        try:
            res = custval.kmo(df)
        except NotPositiveDefiniteError as err:  # partial correlations undefined: named, not NaN
            assert "nan_policy='listwise'" in str(err)
        else:
            assert np.isfinite(res.msa).all()
    with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
        custval.bartlett(df)


def test_harman_with_the_shipped_bfi_instrument():
    # reverse keying flips loading signs only, so the share equals psych's on the raw items
    inst = custval.load_instrument("bfi")
    raw = pd.read_csv(custval._io.paths.RAW_DATA_DIR / "bfi" / "bfi.csv")
    res = custval.harman_single_factor(raw, inst)
    want = mat(GOLD["bfi_pairwise/minres/one_factor"]["vaccounted"]).loc["Proportion Var", "MR1"]
    np.testing.assert_allclose(res.estimate, want, atol=1e-6)
    assert res.n_items == 25 and res.n == 2800
    assert (res.loadings[sorted(inst.reverse_items)] > 0).sum() >= 5  # keyed: mostly positive
