"""Cluster-robust CFA (``CFA(cluster=...)``) against lavaan's ``cluster =`` (tests/r/cfa_cluster.R)."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.exceptions import (
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)
from tests.conftest import load_golden

KWARGS = {
    "mlr": {"cluster": "cl5"},
    "mlr_unequal": {"cluster": "clx"},
    "mlr_group": {"cluster": "cl5", "group": "school"},
    "mlr_group_scalar": {"cluster": "cl5", "group": "school", "group_equal": ("loadings", "intercepts")},
}


@functools.cache
def _hs() -> pd.DataFrame:
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    # the cluster variables of tests/r/cfa_cluster.R (1-based row numbers there)
    r = np.arange(1, len(hs) + 1)
    return hs.assign(cl5=(r - 1) // 5, clx=(r - 1) // 3 + np.where(r % 7 == 0, 1000, 0))


@functools.cache
def _fit(case: str):
    gold = load_golden("cfa", "cluster")[case]
    return CFA(gold["model"], estimator="MLR", **KWARGS[case]).fit(_hs()), gold


def _key(df: pd.DataFrame) -> pd.Index:
    group = df["group"].astype(int).astype(str) if "group" in df else "1"
    return pd.Index(df["lhs"] + df["op"] + df["rhs"] + "|" + group)


@pytest.mark.parametrize("case", list(KWARGS))
def test_cluster_robust_se_and_test_match_lavaan(case):
    fit, gold = _fit(case)
    assert gold["options"]["se"] == "robust.cluster"
    pe = pd.DataFrame(gold["pe"])
    pe = pe[pe["op"] != "=="].copy()
    if "group" not in pe:
        pe["group"] = 1
    pe.index = _key(pe)
    ours = fit.params_.copy()
    ours.index = _key(ours)
    ours = ours.loc[pe.index]
    np.testing.assert_allclose(ours["est"], pe["est"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(ours["se"], pe["se"], atol=1e-5, rtol=0)
    fm = fit.fit_measures_
    for name in ("chisq", "chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust",
                 "tli.robust", "rmsea.robust", "cfi.scaled", "rmsea.scaled", "srmr"):
        assert fm[name] == pytest.approx(gold["fit"][name], rel=1e-6, abs=1e-10), name
    if fit.group is None:
        assert sum(fit.n_clusters_.values()) == gold["nclusters"]


def test_clusters_change_the_se_but_not_the_estimates():
    fit, _ = _fit("mlr")
    plain = CFA(fit.model, estimator="MLR", meanstructure=True).fit(_hs())
    np.testing.assert_allclose(fit.params_["est"], plain.params_["est"], atol=1e-12)
    free = plain.params_["free"] > 0
    assert (fit.params_.loc[free, "se"] - plain.params_.loc[free, "se"]).abs().max() > 1e-3


def test_one_case_per_cluster_is_the_plain_sandwich_times_n_over_n_minus_1():
    hs = _hs().assign(one=np.arange(len(_hs())))
    fit = CFA(load_golden("cfa", "cluster")["mlr"]["model"], estimator="MLR", cluster="one").fit(hs)
    plain = CFA(fit.model, estimator="MLR", meanstructure=True).fit(hs)
    n = len(hs)
    np.testing.assert_allclose(fit.vcov_, plain.vcov_ * n / (n - 1), rtol=1e-10)


def test_cluster_input_errors():
    model = load_golden("cfa", "cluster")["mlr"]["model"]
    hs = _hs()
    with pytest.raises(SpecificationError, match="estimator='MLR'"):
        CFA(model, cluster="cl5").fit(hs)
    with pytest.raises(SpecificationError, match="'nope'"):
        CFA(model, estimator="MLR", cluster="nope").fit(hs)
    with pytest.raises(SpecificationError, match="fiml"):
        CFA(model, estimator="MLR", cluster="cl5", missing="fiml").fit(hs)
    bad = hs.assign(cl5=hs["cl5"].astype(float))
    bad.loc[[3, 10], "cl5"] = np.nan
    with pytest.raises(DataValidationError, match=r"2 row\(s\).*no value in the cluster column 'cl5'"):
        CFA(model, estimator="MLR", cluster="cl5").fit(bad)
    with pytest.raises(DataValidationError, match=r"1 row\(s\).*no value in the group column 'school'"):
        CFA(model, group="school").fit(hs.assign(school=hs["school"].where(hs.index != 7)))
    with pytest.raises(SpecificationError, match="group column 'nope' is not in the data"):
        CFA(model, group="nope").fit(hs)
    with pytest.raises(InsufficientDataError, match="cluster"):
        CFA(model, estimator="MLR", cluster="school").fit(hs.assign(school="one"))
    # listwise deletion keeps the cluster ids of the rows it keeps
    inc = hs.copy()
    inc.loc[[0, 1], "x1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        fit = CFA(model, estimator="MLR", cluster="cl5").fit(inc)
    assert sum(fit.n_obs_.values()) == len(hs) - 2


def test_standardized_residuals_refused_with_clusters():
    fit, _ = _fit("mlr")
    with pytest.raises(SpecificationError, match="without clusters"):
        fit.residuals(type="cor.bentler", z=True)
