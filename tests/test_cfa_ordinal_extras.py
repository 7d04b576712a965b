"""Modification indices, residuals and the standardized solution of CFA fits with ordered items,
against lavaan 0.6-14 (tests/r/cfa_ordinal_extras.R: ``modindices(fit)``,
``standardizedSolution(fit)``, ``residuals(fit, type = "raw" / "cor")``, ``lavResiduals(fit)``).

Data: the shipped bfi (complete cases of A1-A5, C1-C5), the simulated skewed set of
tests/r/cfa_ordinal.R (delta, theta, ULSMV), and a survey export written to tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval._sem import ordinal_extras
from custval._sem.spec import as_syntax
from custval.cfa import CFA

HERE = Path(__file__).parent
GOLD = HERE / "golden" / "cfa_ordinal_extras"
M_AC = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
M_SIM = "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8\nF3 =~ q9 + q10 + q11 + q12"
M_AC_CON = "A =~ A1 + c(a1,a2)*A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\na1 == 0.9*a2"
M_EQ = ("A =~ A1 + a2*A2 + a3*A3 + A4 + A5\nC =~ C1 + C2 + c3*C3 + C4 + C5\n"
        "a2 + a3 == -3.6\nc3 == 1")
AC = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]


def _bfi():
    return custval.load_dataset("bfi").data.dropna(subset=AC)


def _bfi_groups():
    return custval.load_dataset("bfi").data.dropna(subset=[*AC, "gender"])


def _sim():
    return pd.read_csv(HERE / "golden" / "cfa_ordinal" / "sim_skewed.csv")


CASES = {
    "bfi_wlsmv": (M_AC, _bfi, {}),
    "bfi_rescov_stdlv": (M_AC + "\nA1 ~~ A2", _bfi, {"std_lv": True}),
    "sim_skewed": (M_SIM, _sim, {}),
    "sim_theta": (M_SIM, _sim, {"parameterization": "theta"}),
    "sim_ulsmv": (M_SIM, _sim, {"estimator": "ULSMV"}),
    "bfi_groups": (M_AC, _bfi_groups, {"group": "gender"}),
    "bfi_groups_thload": (M_AC, _bfi_groups, {"group": "gender", "group_equal": ("thresholds", "loadings")}),
    # a linear '==' constraint between the groups' A2 loadings (the standardized solution as a function
    # of the full parameter vector, the MI with lavaan's constrained inverted information)
    "bfi_groups_con": (M_AC_CON, _bfi_groups, {"group": "gender"}),
    # one group, linear constraints that fix the factors' scales (so lavaan lists the markers too)
    "bfi_constraint": (M_EQ, _bfi, {}),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    model, data, kw = CASES[request.param]
    fit = CFA(model, ordered=True, **kw).fit(data())
    gold = json.loads((GOLD / f"{request.param}.json").read_text())
    return request.param, fit, gold


def _matrix(m) -> pd.DataFrame:
    return pd.DataFrame(np.array(m["values"], dtype=float), index=m["names"], columns=m["names"])


def _lavaan_x(fit, gold) -> np.ndarray:
    """The internal parameter vector at lavaan's estimates: structural parameters (all of them, also
    with '==' constraints), thresholds (and, with several groups, the scale factors)."""
    pe = pd.DataFrame(gold["params"])
    if "group" not in pe.columns:
        pe["group"] = 1
    est = {(r.lhs, r.op, r.rhs, int(r.group)): r.est for r in pe.itertuples()}
    mg = getattr(fit, "_ord_mg", None)
    od = mg if mg is not None else fit._ord
    spt = od["spt"]
    prob = od["prob"]
    xs = np.zeros(prob.model.nfree)
    for r in spt.itertuples():
        if r.free > 0:
            xs[r.free - 1] = est[(r.lhs, r.op, r.rhs, int(r.group))]
    if mg is None:
        th = [est[(v, "|", t, 1)] for v, t in prob.st.th_names]
        return np.concatenate([xs, th])
    tau, dl = np.zeros(prob.ntau), np.zeros(prob.ndl)
    for g in range(prob.g):
        for q, (v, t) in enumerate(prob.stats[0].th_names):
            tau[prob.th_index[g][q]] = est[(v, "|", t, g + 1)]
        for i, v in enumerate(prob.stats[0].names):
            if prob.dl_index[g][i] >= 0:
                dl[prob.dl_index[g][i]] = est[(v, "~*~", v, g + 1)]
    return np.concatenate([xs, tau, dl])


def _groups(res, fit):
    """The residuals per group, in group order."""
    return [res] if len(fit.group_labels_) == 1 else [res[lab] for lab in fit.group_labels_]


def test_standardized_solution_equals_lavaan(case):
    name, fit, gold = case
    ss = fit.standardized_solution()
    g = pd.DataFrame(gold["std"])
    assert list(ss["lhs"] + ss["op"] + ss["rhs"]) == list(g["lhs"] + g["op"] + g["rhs"])
    if "group" in g.columns:
        assert list(ss["group"]) == list(g["group"])
    tol = 1e-5 if name == "sim_ulsmv" else 1e-6  # lavaan stops at a gradient of 3e-7 there
    np.testing.assert_allclose(ss["estimate"], g["est.std"], atol=tol)
    np.testing.assert_allclose(ss["estimate"], fit.params_["std_all"], atol=1e-12)
    np.testing.assert_allclose(ss["se"], g["se"], atol=tol)
    free = g["z"].notna().to_numpy()
    np.testing.assert_allclose(ss["z"][free], g["z"][free], rtol=1e-5)
    np.testing.assert_allclose(ss["ci_low"], g["ci.lower"], atol=tol)
    # fixed rows (scale factors, intercepts, the latent variances under std_lv) have se 0 and no z
    assert (ss.loc[~free, "se"] < 1e-8).all() and ss.loc[~free, "z"].isna().all()


def test_residuals_equal_lavaan(case):
    name, fit, gold = case
    for kind, key in (("raw", "resid_raw"), ("cor", "resid_cor")):
        for res, g in zip(_groups(fit.residuals(type=kind), fit), gold[key], strict=True):
            pd.testing.assert_frame_equal(res["cov"], _matrix(g["cov"]), atol=1e-6, check_names=False)
            np.testing.assert_allclose(res["th"], g["th"]["values"], atol=1e-6)
            assert list(res["th"].index) == g["th"]["names"]
            assert (res["mean"] == 0).all()
    zs = _groups(fit.residuals(type="cor.bentler", z=True), fit)
    for z, g in zip(zs, gold["lavresid"], strict=True):
        pd.testing.assert_frame_equal(z["cov"], _matrix(g["cov"]), atol=1e-6, check_names=False)
        pd.testing.assert_frame_equal(z["cov_z"], _matrix(g["cov_z"]), atol=2e-5, rtol=1e-5, check_names=False)
        np.testing.assert_allclose(z["th_z"], np.array(g["th_z"]["values"], dtype=float), atol=1e-5)
    if len(zs) == 1:  # srmr (fit_measures_) is the root mean square of these residuals below the diagonal
        p = len(fit.observed_)
        r = zs[0]["cov"].to_numpy()[np.tril_indices(p, -1)]
        assert fit.fit_measures_["srmr"] == pytest.approx(np.sqrt(np.sum(r**2) / (p * (p + 1) / 2)), rel=1e-12)


def test_modification_indices_equal_lavaan(case):
    name, fit, gold = case
    mi = fit.modification_indices()
    keys = ["lhs", "op", "rhs", "group"]
    g, gf = (pd.DataFrame(gold[k]) for k in ("mi", "mi_fit"))
    for frame in (g, gf):
        if "group" not in frame.columns:
            frame["group"] = 1
    # lavaan also proposes the fixed scale factors (~*~) of the first group, which freeing does not
    # identify (V ~ 0: dropped as NA), except where roundoff leaves V above eps^(1/3) (bfi_groups_thload:
    # C1 ~*~ C1, MI 0.003); custval does not propose them
    gf = gf[gf["op"] != "~*~"]
    # the candidates: lavaan's list for the fitted object (the unfitted copy also lists the fixed
    # residual variances of the theta parameterization, with MI 0); the values: the unfitted copy's
    assert len(mi) == len(gf) and mi.attrs["not_identified"] == []
    assert len(mi.merge(gf, on=keys, validate="1:1")) == len(gf)
    g = gf[keys].merge(g, on=keys, how="left", validate="1:1")
    both = mi.merge(g, on=keys, suffixes=("", "_r"), validate="1:1")
    # at custval's estimates, polychorics and weights (which differ from lavaan's by ~1e-8; the
    # score of a candidate is a sum with much cancellation, so a small MI moves by up to 1e-4
    # relative): MI to 1e-3
    np.testing.assert_allclose(both["mi"], both["mi_r"], atol=1e-3, rtol=1e-4)
    np.testing.assert_allclose(both["epc"], both["epc_r"], atol=2e-5)
    # at lavaan's estimates, sample statistics and DWLS weights: its numbers to 1e-6
    mg = getattr(fit, "_ord_mg", None)
    prob = (mg if mg is not None else fit._ord)["prob"]
    s, w = [], []
    for ss in gold["sampstat"]:
        cor = _matrix(ss["cor"]).to_numpy()
        s.append(np.concatenate([ss["th"]["values"], cor[prob.ii, prob.jj]]))
        w.append(np.asarray(ss["wls_v"], dtype=float))
    np.testing.assert_allclose(np.concatenate(w), np.concatenate(prob.w if mg is not None else [prob.w]), rtol=1e-5)
    if name == "sim_ulsmv":
        w = [None]
    at = ordinal_extras.modification_indices(fit, _lavaan_x(fit, gold), *((s[0], w[0]) if mg is None else (s, w)))
    both = at.merge(g, on=keys, suffixes=("", "_r"), validate="1:1")
    # (with equality constraints lavaan's MI come from an unfitted copy of the solution, whose
    # residuals it recomputes: 1e-5 relative there, the same in MI and EPC)
    rtol = 1e-4 if name in ("bfi_groups_thload", "bfi_groups_con", "bfi_constraint") else 1e-6
    np.testing.assert_allclose(both["mi"], both["mi_r"], rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(both["epc"], both["epc_r"], rtol=rtol, atol=1e-8)
    # the standardization of the EPC: lavaan's sepc / epc of the fitted object (which standardizes
    # by the extended model's values, its starting values: up to 2e-6 away after a refit)
    both = both.merge(gf, on=keys, suffixes=("", "_f"), validate="1:1")
    for ours, theirs in (("sepc_lv", "sepc.lv_f"), ("sepc_all", "sepc.all_f")):
        np.testing.assert_allclose(both[ours] / both["epc"], both[theirs] / both["epc_f"], rtol=1e-5)
    top = fit.modification_indices(sort=True, minimum_value=10)
    assert (top["mi"] >= 10).all() and top["mi"].is_monotonic_decreasing


CODEBOOK = """\
format: custval-codebook/1
name: service
version: "0.1"
title: {en: "Service pilot"}
citation: "Test pilot."
languages: [en]
scale: {min: 1, max: 5}
missing: {codes: [-99]}
constructs:
  - id: SAT
    label: {en: "Satisfaction"}
    items:
      - {id: s1, text: {en: "Satisfied."}}
      - {id: s2, text: {en: "Met expectations."}}
      - {id: s3, text: {en: "Would not return."}, reverse: true}
      - {id: s4, text: {en: "Recommend."}}
  - id: LOY
    label: {en: "Loyalty"}
    items:
      - {id: l1, text: {en: "Will buy again."}}
      - {id: l2, text: {en: "First choice."}}
      - {id: l3, text: {en: "Will stay."}}
"""


@pytest.fixture
def export(tmp_path):
    """A survey export: BOM, semicolons, CRLF, quoted header, -99 codes, a reverse-worded item."""
    rng = np.random.default_rng(5)
    n = 300
    sat = rng.normal(size=n)
    loy = 0.5 * sat + np.sqrt(0.75) * rng.normal(size=n)
    method = rng.normal(size=n)  # a residual correlation the model lacks: s4 and l1 share a method factor
    cols = {}
    for it, eta in [("s1", sat), ("s2", sat), ("s3", sat), ("s4", sat), ("l1", loy), ("l2", loy), ("l3", loy)]:
        y = 0.75 * eta + rng.normal(scale=0.65, size=n) + (0.6 * method if it in ("s4", "l1") else 0)
        cols[it] = np.digitize(y, [-1.3, -0.4, 0.4, 1.3]) + 1
    frame = pd.DataFrame(cols)
    frame["s3"] = 6 - frame["s3"]
    frame = frame.astype(object)
    frame.loc[[3, 40], "s2"] = -99
    lines = ['\ufeff"s1";"s2";"s3";"s4";"l1";"l2";"l3";"wave"']
    lines += [";".join(map(str, row)) + f';"{"A" if k % 2 else "B"}"'
              for k, row in enumerate(frame.itertuples(index=False))]
    path = tmp_path / "export.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    (tmp_path / "service.yaml").write_text(CODEBOOK, encoding="utf-8")
    inst = custval.load_instrument(tmp_path / "service.yaml")
    return custval.read_survey(path, inst), inst


def test_extras_on_an_export_fitted_with_ordered_items(export):
    data, inst = export
    with pytest.warns(custval.exceptions.MissingDataWarning, match="2 row"):
        fit = CFA(inst, ordered=True).fit(data)
    ss = fit.standardized_solution()
    np.testing.assert_allclose(ss["estimate"], fit.params_["std_all"], atol=1e-12)
    loads = ss[ss["op"] == "=~"].set_index("rhs")
    assert (loads["estimate"] > 0).all()  # the reverse item enters keyed
    assert (loads["ci_low"] < loads["estimate"]).all() and (loads["se"] > 0).all()
    res = fit.residuals()
    assert list(res["th"].index[:4]) == ["s1|t1", "s1|t2", "s1|t3", "s1|t4"]
    assert np.allclose(np.diag(res["cov"]), 0) and np.allclose(res["cov"], res["cov"].T)
    mi = fit.modification_indices(sort=True)
    # the omitted shared-method correlation is the largest MI, with a positive EPC
    top = mi.iloc[0]
    assert {top["lhs"], top["rhs"]} == {"s4", "l1"} and top["op"] == "~~" and top["epc"] > 0
    assert top["mi"] > 10
    # the MI is about the drop of the (unscaled) chi-square when the parameter is freed
    freed = CFA(as_syntax(inst) + "\ns4 ~~ l1", ordered=True)
    with pytest.warns(custval.exceptions.MissingDataWarning):
        freed.fit(inst.keyed(data))
    drop = fit.fit_measures_["chisq"] - freed.fit_measures_["chisq"]
    assert top["mi"] == pytest.approx(drop, rel=0.3)


def test_two_waves_of_an_export_give_per_group_extras(export):
    data, inst = export
    with pytest.warns(custval.exceptions.MissingDataWarning):
        fit = CFA(inst, ordered=True, group="wave").fit(data)
    res = fit.residuals()
    assert set(res) == {"A", "B"} and list(res["A"]["th"].index[:2]) == ["s1|t1", "s1|t2"]
    ss = fit.standardized_solution()
    np.testing.assert_allclose(ss["estimate"], fit.params_["std_all"], atol=1e-12)
    mi = fit.modification_indices(sort=True)
    assert set(mi["group"]) == {1, 2}
    # the shared-method correlation is among the three largest MIs of each wave, with a positive EPC
    for g in (1, 2):
        top = mi[mi["group"] == g].head(3)
        hit = top[(top["op"] == "~~") & (top[["lhs", "rhs"]].apply(set, axis=1) == {"s4", "l1"})]
        assert len(hit) == 1 and hit["epc"].iloc[0] > 0


def test_groups_with_linear_constraints_residuals_standardized_solution_and_mi():
    # (formerly: the standardized solution and modification indices of this fit raised "not
    # available yet"; they now equal lavaan's, case "bfi_groups_con" above)
    from custval._io.paths import RAW_DATA_DIR

    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    bfi = bfi.dropna(subset=["gender", "A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5"])
    fit = CFA(M_AC_CON, ordered=True, group="gender").fit(bfi)
    res = fit.residuals()
    for g, lab in zip(res, fit.sample_cov_):
        np.testing.assert_allclose(res[g]["cov"].to_numpy(),
                                   (fit.sample_cov_[lab] - fit.implied_cov_[lab]).to_numpy(), atol=1e-12)
    gold = json.loads((GOLD / "bfi_groups_con.json").read_text())
    ss = fit.standardized_solution()
    np.testing.assert_allclose(ss["estimate"], pd.DataFrame(gold["std"])["est.std"], atol=1e-6)
    np.testing.assert_allclose(ss["se"], pd.DataFrame(gold["std"])["se"], atol=1e-6)
    # the constraint holds in the raw loadings, not in the standardized ones, whose se both move
    a2 = ss[(ss["op"] == "=~") & (ss["rhs"] == "A2")]
    raw = fit.params_[(fit.params_["op"] == "=~") & (fit.params_["rhs"] == "A2")]
    assert raw["est"].iloc[0] == pytest.approx(0.9 * raw["est"].iloc[1], rel=1e-10)
    assert (a2["se"] > 0).all()
    mi = fit.modification_indices(sort=True)
    # releasing a group's A1 marker frees the A scale that the constraint ties across the groups: the
    # same MI in both groups (lavaan lists both); the C markers stay unidentified and are not listed
    markers = mi[(mi["lhs"] == "A") & (mi["op"] == "=~") & (mi["rhs"] == "A1")]
    assert list(markers["group"].sort_values()) == [1, 2]
    assert markers["mi"].iloc[0] == pytest.approx(markers["mi"].iloc[1], rel=1e-8)
    assert mi[(mi["lhs"] == "C") & (mi["op"] == "=~") & (mi["rhs"] == "C1")].empty
