"""Composite reliability and AVE of a CFA fit with ordered and continuous items together, on a
two-wave customer satisfaction export (five-point items, a 0-10 recommendation score, 0-100
value sliders) and on bfi -- against semTools 0.5-6 compRelSEM / AVE on lavaan 0.6-14 WLSMV
fits (golden values from tests/r/ordinal_mixed_reliability.R).

semTools treats a factor whose indicators are all ordered with the categorical omega, one whose
indicators are all continuous with the continuous omega, and returns NA for a factor with both
kinds; custval reproduces the values, names the mixed factors in a MixedIndicatorsWarning and
raises a SpecificationError when every factor is mixed."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custval.cfa import CFA
from custval.exceptions import MixedIndicatorsWarning, SpecificationError
from custval.validity import ave, composite_reliability

GOLD = Path(__file__).parent / "golden" / "cfa_ordinal_mixed"
ROOT = Path(__file__).parents[1]
M_SAT = "S =~ q1 + q2 + q3\nL =~ q4 + q5 + nps\nV =~ v1 + v2 + v3"
FIVE = ["q1", "q2", "q3", "q4", "q5"]


def _gold(name):
    return json.loads((GOLD / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The two-wave satisfaction survey as a platform exports it: BOM, semicolons, quoted
    header and text fields, CRLF, a response id and a start time before the answers."""
    sim = pd.read_csv(GOLD / "satisfaction_waves.csv")
    path = tmp_path_factory.mktemp("exports") / "satisfaction_2025Q4_2026Q2.csv"
    head = ["ResponseId", "StartDate", *sim.columns]
    lines = [";".join(f'"{h}"' for h in head)]
    start = pd.Timestamp("2025-11-03 09:00")
    for k, row in enumerate(sim.itertuples(index=False)):
        stamp = (start + pd.Timedelta(minutes=37 * k)).strftime("%Y-%m-%d %H:%M:%S")
        vals = [f'"R_{k:05d}"', f'"{stamp}"', f'"{row.wave}"', *(str(v) for v in row[1:])]
        lines.append(";".join(vals))
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8"))
    data = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    assert list(data.columns[:3]) == ["ResponseId", "StartDate", "wave"]
    return data


def _fit(data, group=None, model=M_SAT, ordered=FIVE):
    return CFA(model, ordered=ordered, group=group).fit(data)


def _check(table, gold, conv, factors, groups=None, rel=1e-6):
    t = table[table["convention"] == conv]
    if groups is None:
        for f in factors:
            ours = t.loc[t["construct"] == f, "estimate"].iloc[0]
            ref = gold[f]
            if ref is None:
                assert np.isnan(ours), (conv, f)
            else:
                assert ours == pytest.approx(ref, rel=rel), (conv, f)
        return
    for k, lab in enumerate(gold["group"]):
        assert lab in groups
        for f in factors:
            ours = t.loc[(t["construct"] == f) & (t["group"] == lab), "estimate"].iloc[0]
            ref = gold[f][k]
            if ref is None:
                assert np.isnan(ours), (conv, lab, f)
            else:
                assert ours == pytest.approx(ref, rel=rel), (conv, lab, f)


@pytest.mark.parametrize("name, group", [("reliability_satisfaction", None),
                                         ("reliability_satisfaction_waves", "wave")])
def test_satisfaction_export_equals_compRelSEM_factor_by_factor(export, name, group):
    gold = _gold(name)
    fit = _fit(export, group)
    with pytest.warns(MixedIndicatorsWarning, match=r"L \(ordered: q4, q5; continuous: nps\)"):
        cr = composite_reliability(fit)
    assert list(cr.conventions) == ["ordinal", "latent_response"]
    groups = None if group is None else ["2025-Q4", "2026-Q2"]
    _check(cr.table, gold["compRelSEM"], "ordinal", "SLV", groups)  # S categorical, V continuous, L NA
    _check(cr.table, gold["compRelSEM_latent"], "latent_response", "SLV", groups)
    # an all-continuous factor has the same (continuous) omega in both conventions
    v = cr.table[cr.table["construct"] == "V"].pivot_table(index="group", columns="convention", values="estimate")
    np.testing.assert_array_equal(v["ordinal"], v["latent_response"])
    assert cr.verdict.startswith("every defined CR (ordinal) reaches 0.7")
    assert "undefined (NaN) for L in ordinal, latent_response" in cr.verdict
    # obs.var = FALSE: the model-implied covariance of the continuous items (the all-ordered
    # factor's semtools_implied is custval's y* convention, not compared here)
    with pytest.warns(MixedIndicatorsWarning):
        imp = composite_reliability(fit, conventions=("semtools_implied",))
    _check(imp.table, gold["compRelSEM_implied"], "semtools_implied", "LV", groups)


@pytest.mark.parametrize("name, group", [("reliability_satisfaction", None),
                                         ("reliability_satisfaction_waves", "wave")])
def test_ave_of_every_factor_equals_semTools(export, name, group):
    """semTools::AVE does not distinguish the kinds of indicators: every factor has a value
    (no warning), the mixed L too."""
    gold = _gold(name)
    fit = _fit(export, group)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedIndicatorsWarning)
        res = ave(fit, conventions=("semtools_observed", "semtools_implied"))
    groups = None if group is None else ["2025-Q4", "2026-Q2"]
    _check(res.table, gold["AVE"], "semtools_observed", "SLV", groups)
    _check(res.table, gold["AVE_implied"], "semtools_implied", "SLV", groups)


def test_bfi_keyed_items_one_factor_of_each_kind():
    """bfi with its reverse-worded items keyed (7 - x): A all ordered, C all continuous, E mixed."""
    gold = _gold("reliability_bfi")
    ace = [f"{c}{i}" for c in "ACE" for i in range(1, 6)]
    bfi = pd.read_csv(ROOT / "custval" / "_data" / "bfi" / "bfi.csv").dropna(subset=ace)
    for v in ("A1", "C4", "C5", "E1", "E2"):
        bfi[v] = 7 - bfi[v]
    fit = CFA(gold["model"], ordered=gold["ordered"]).fit(bfi)
    assert fit.continuous_ == ["C1", "C2", "C3", "C4", "C5", "E3", "E4", "E5"]
    with pytest.warns(MixedIndicatorsWarning, match=r"E \(ordered: E1, E2; continuous: E3, E4, E5\)"):
        cr = composite_reliability(fit)
    _check(cr.table, gold["compRelSEM"], "ordinal", "ACE")
    _check(cr.table, gold["compRelSEM_latent"], "latent_response", "ACE")
    _check(ave(fit).table, gold["AVE"], "semtools_observed", "ACE")


def test_fornell_larcker_is_defined_for_a_mixed_factor(export):
    fit = _fit(export)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixedIndicatorsWarning)  # nothing is undefined here
        fl = composite_reliability(fit, conventions=("fornell_larcker",))
    pe = fit.params_
    lam = pe.loc[(pe["op"] == "=~") & (pe["lhs"] == "L"), "std_all"].to_numpy()
    s = lam.sum() ** 2
    assert fl.table.set_index("construct").loc["L", "estimate"] == pytest.approx(s / (s + (1 - lam**2).sum()),
                                                                                 rel=1e-12)


def test_every_factor_mixed_is_an_error_naming_them(export):
    model = "SERVICE =~ q1 + q2 + q3 + v1\nLOYALTY =~ q4 + q5 + nps"
    fit = _fit(export, model=model)
    with pytest.raises(SpecificationError,
                       match=r"every factor of this fit is: SERVICE \(ordered: q1, q2, q3; continuous: v1\); "
                             r"LOYALTY \(ordered: q4, q5; continuous: nps\)"):
        composite_reliability(fit)
    # with Fornell & Larcker's formula asked for too, the table is returned (NaN where undefined)
    with pytest.warns(MixedIndicatorsWarning):
        res = composite_reliability(fit, conventions=("ordinal", "fornell_larcker"))
    wide = res.wide()
    assert wide["ordinal"].isna().all() and wide["fornell_larcker"].notna().all()


def test_no_bootstrap_for_a_mixed_fit(export):
    fit = _fit(export)
    with pytest.raises(SpecificationError, match=r"continuous items among the ordered ones \(continuous: nps, v1, "
                                                 r"v2, v3\)"):
        composite_reliability(fit, ci_method="bootstrap", n_boot=10)
