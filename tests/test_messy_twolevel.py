"""Messy input for the two-level CFA (``level:`` blocks with ``cluster=``).

Each file is written as a survey platform exports it (UTF-8 BOM, CRLF line ends,
quoted string firm ids with leading zeros, rows in arrival order, not grouped by
firm), built from the simulated nested data of tests/r/cfa_twolevel.R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval import CFA
from custval.exceptions import (
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    ModelSyntaxError,
    SpecificationError,
)

GOLD = Path(__file__).parent / "golden" / "cfa_twolevel"
MODEL = json.loads((GOLD / "unbalanced.json").read_text())["model"]


def _export(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Write `frame` as a platform export (BOM, CRLF, quoted text) and read it back."""
    text = frame.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"firm": str})


@pytest.fixture
def export(tmp_path):
    d = pd.read_csv(GOLD / "unbalanced.csv")
    d["firm"] = d["firm"].str.replace("firm_", "", regex=False)  # '017': text, leading zero kept
    return d, tmp_path


def test_export_with_string_ids_matches_the_golden_fit(export):
    d, tmp = export
    read = _export(tmp / "survey.csv", d)
    assert read["firm"].str.startswith("0").any()
    fit = CFA(MODEL, cluster="firm").fit(read)
    ref = pd.DataFrame(json.loads((GOLD / "unbalanced.json").read_text())["pe"])
    np.testing.assert_allclose(fit.params_["est"], ref["est"], atol=1e-5)
    assert fit.n_clusters_ == {"all": 70}


def test_firm_with_one_respondent_is_an_error_naming_the_firm(export):
    d, tmp = export
    extra = d.iloc[[0]].copy()
    extra["firm"] = "999"
    read = _export(tmp / "survey.csv", pd.concat([d, extra], ignore_index=True))
    with pytest.raises(InsufficientDataError, match=r"single respondent.*'999'"):
        CFA(MODEL, cluster="firm").fit(read)


def test_level_blocks_without_cluster_is_an_error(export):
    d, tmp = export
    read = _export(tmp / "survey.csv", d)
    with pytest.raises(SpecificationError, match=r"'level:' blocks.*cluster='firm'"):
        CFA(MODEL).fit(read)


def test_between_construct_without_between_variance_is_an_error_naming_it(export):
    d, tmp = export
    items = [f"y{i}" for i in range(1, 7)]
    centred = d.copy()
    # an export of firm-centred scores (plus the grand mean): no between-firm variance left
    centred[items] = d[items] - d.groupby("firm")[items].transform("mean") + d[items].mean()
    read = _export(tmp / "centred.csv", centred.round(8))
    with pytest.raises(SpecificationError, match=r"level-2 construct 'fb'.*no between-'firm' variance|"
                                                 r"level-2 construct 'fb'.*no between-firm variance"):
        CFA(MODEL, cluster="firm").fit(read)


def test_missing_firm_id_is_an_error_naming_rows(export):
    d, tmp = export
    d.loc[[3, 10], "firm"] = ""
    read = _export(tmp / "survey.csv", d)
    with pytest.raises(DataValidationError, match=r"2 row\(s\) have no value in the cluster column 'firm'.*\[3, 10\]"):
        CFA(MODEL, cluster="firm").fit(read)


def test_missing_item_values_are_excluded_with_a_warning(export):
    d, tmp = export
    d.loc[[5, 6, 7], "y3"] = np.nan
    read = _export(tmp / "survey.csv", d)
    with pytest.warns(MissingDataWarning, match="3 row"):
        fit = CFA(MODEL, cluster="firm").fit(read)
    assert fit.n_obs_["all"] + fit.n_excluded_ == len(read)
    assert fit.fit_measures_["ntotal"] == len(read) - 3


@pytest.mark.parametrize("model, error, message", [
    ("f =~ y1 + y2\nlevel: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3",
     ModelSyntaxError, "before the first 'level:'"),
    ("level: 1\nfw =~ y1 + y2 + y3\nlevel: 3\nfb =~ y1 + y2 + y3", ModelSyntaxError, "unknown level '3'"),
    ("level: 1\nfw =~ y1 + y2 + y3", ModelSyntaxError, "exactly one 'level: 1'"),
    # y4 named only at level 2 is a between-only variable, which must be constant within each firm
    # (a within-only y4, named only at level 1, is fitted: tests/test_cfa_twolevel_wb.py)
    ("level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3 + y4", DataValidationError,
     r"between-only variable 'y4'.*varies within 70 'firm'"),
    ("level: 1\nfw =~ a*y1 + a*y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3\nfb ~~ v*fb\nv > 0", SpecificationError,
     "not supported with level blocks"),
])
def test_malformed_level_syntax(export, model, error, message):
    d, _ = export
    with pytest.raises(error, match=message):
        CFA(model, cluster="firm").fit(d)


def test_two_level_model_with_mlr_is_an_error(export):
    d, _ = export
    with pytest.raises(SpecificationError, match="fitted by ML"):
        CFA(MODEL, cluster="firm", estimator="MLR").fit(d)


def test_same_factor_name_at_both_levels_is_two_latent_variables(export):
    d, _ = export
    same = CFA("level: 1\nf =~ y1 + y2 + y3\nlevel: 2\nf =~ y1 + y2 + y3", cluster="firm").fit(d)
    apart = CFA("level: 1\nfw =~ y1 + y2 + y3\nlevel: 2\nfb =~ y1 + y2 + y3", cluster="firm").fit(d)
    np.testing.assert_allclose(same.params_["est"], apart.params_["est"], atol=1e-8)
    assert same.fit_measures_["chisq"] == pytest.approx(apart.fit_measures_["chisq"], abs=1e-8)


def test_negative_between_residual_variance_warns_naming_level(tmp_path):
    from custval.exceptions import HeywoodWarning

    # 40 firms x 6 respondents; y2 has no between-firm residual variance in the
    # population, and its estimate falls below zero in this sample
    rng = np.random.default_rng(6)
    nclus, size = 40, 6
    firm = np.repeat(np.arange(nclus), size)
    lw = np.zeros((6, 2))
    lw[:3, 0], lw[3:, 1] = [1, .8, .9], [1, .7, .85]
    fb = rng.normal(0, .6, nclus)
    tb = np.array([.05, .05, 0, .05, .05, .05])
    yb = np.outer(fb, [1, .9, .8, .7, .9, 1.1]) + rng.normal(size=(nclus, 6)) * np.sqrt(tb) + 3
    y = rng.normal(size=(nclus * size, 2)) @ lw.T + rng.normal(0, .7, (nclus * size, 6)) + yb[firm]
    d = pd.DataFrame(y.round(4), columns=[f"y{i}" for i in range(1, 7)])
    d.insert(0, "firm", [f"{j:03d}" for j in firm])
    read = _export(tmp_path / "survey.csv", d)
    with pytest.warns(HeywoodWarning, match=r"negative residual variance of 'y2' at level 2 \(between firm\)"):
        fit = CFA(MODEL, cluster="firm").fit(read)
    row = fit.params_.query("lhs == 'y2' and op == '~~' and rhs == 'y2' and level == 2")
    assert row["est"].item() < 0 and fit.converged_


def test_cluster_without_level_blocks_and_ml_points_to_both_options(export):
    d, tmp = export
    read = _export(tmp / "survey.csv", d)
    with pytest.raises(SpecificationError, match=r"without 'level:' blocks needs estimator='MLR'.*'level: 1' / 'level: 2'"):
        CFA("f =~ y1 + y2 + y3 + y4 + y5 + y6", cluster="firm").fit(read)
