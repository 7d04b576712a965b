"""benchmark_firms(..., means="aligned"): aligned factor means per firm, which firms are
comparable, and ranks on aligned means.

Data: custval.simulate.case_study (SIMULATED, six firms), this module's own many-firm generator
(SIMULATED: one-factor model per construct with firm-specific non-invariant parameters put in),
and tests.test_messy_gaps' Qualtrics-like exports read back with custval.read_survey.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import custval
from custval.align import alignment
from custval.exceptions import InsufficientDataError, InvarianceWarning, SpecificationError
from custval.gaps import BenchmarkResult, benchmark_firms
from custval.simulate import case_study

CWI = custval.load_instrument("cwi")
SIDES = ("provider", "customer")


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` and return its result and the warnings it gave (recorded, not raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, caught


@pytest.fixture(scope="module")
def case():
    prov, cust = case_study(seed=0).validated()
    bench, caught = _quiet(benchmark_firms, prov, cust, CWI, n_boot=200, means="aligned")
    return prov, cust, bench, caught


# --------------------------------------------------------------------------- same numbers as alignment
def test_aligned_means_are_those_of_a_direct_alignment_call(case):
    prov, cust, bench, _ = case
    al = bench.aligned
    for side, df in zip(SIDES, (prov, cust)):
        form = CWI.form(side)
        keyed = form.keyed(df).sort_values("firm", kind="stable")
        for c in form.constructs:
            direct, _ = _quiet(alignment, keyed, form.model_syntax(constructs=[c]), group="firm",
                               missing="fiml", reference="F1")
            got = al[(al["side"] == side) & (al["construct"] == c)].reset_index(drop=True)
            m = direct.means.reset_index(drop=True)
            v = direct.variances.reset_index(drop=True)
            assert got["firm"].tolist() == m["group"].tolist()
            for col in ("estimate", "se", "ci_low", "ci_high", "p_value"):  # bit-identical
                np.testing.assert_array_equal(got[col].to_numpy(), m[col].to_numpy())
            np.testing.assert_array_equal(got["variance"].to_numpy(), v["estimate"].to_numpy())
            np.testing.assert_array_equal(got["se_variance"].to_numpy(), v["se"].to_numpy())
            assert got["n"].tolist() == m["n"].tolist()
            comp = direct.comparable()
            assert got["comparable"].tolist() == comp["comparable"].tolist()
            assert got["noninvariant"].tolist() == comp["noninvariant"].tolist()
            np.testing.assert_array_equal(got["share_noninvariant"], comp["share_noninvariant"])
            # the kept AlignmentResult is the direct call's
            assert bench.alignments[(side, c)] == direct
            # the joint covariance's diagonal is the squared standard errors
            vc = direct.mean_vcov[c].to_numpy()
            np.testing.assert_allclose(np.sqrt(np.diag(vc)), m["se"], rtol=1e-12, atol=0)


def test_observed_means_ranks_and_display(case):
    prov, cust, bench, caught = case
    al = bench.aligned
    obs = bench.agreement.set_index(["side", "firm", "construct"])
    for r in al.itertuples():
        assert r.observed_mean == obs.loc[(r.side, r.firm, r.construct), "mean"]
        assert r.n_observed == obs.loc[(r.side, r.firm, r.construct), "n"]
    # the reference firm: mean 0, variance 1, fixed
    ref = al[al["firm"] == "F1"]
    assert ref["fixed"].all() and (ref["estimate"] == 0).all() and (ref["variance"] == 1).all()
    # ranks: 1 = highest aligned mean, among the comparable firms, inside their intervals
    for _, sub in al.groupby(["side", "construct"]):
        ok = sub[sub["comparable"]]
        expect = (-ok["estimate"]).rank(method="first").astype(int).tolist()
        assert ok["rank"].astype(int).tolist() == expect
        assert ((ok["rank_ci_low"] <= ok["rank"]) & (ok["rank"] <= ok["rank_ci_high"])).all()
        assert sub.loc[~sub["comparable"], "rank"].isna().all()
    # the simulated firms' customers see the firms in the order of their design (F1 best)
    cp = al.query("side == 'customer' and construct == 'CPROC'")
    assert cp["estimate"].iloc[0] > cp["estimate"].iloc[-1] + 1.0
    # the observed part is unchanged by means="aligned"
    plain, _ = _quiet(benchmark_firms, prov, cust, CWI, n_boot=200)
    assert plain.means == "observed" and plain.aligned is None and plain.alignments == {}
    for name in ("aggregation", "agreement", "ranking"):
        pd.testing.assert_frame_equal(getattr(plain, name), getattr(bench, name))
    assert plain.gaps == bench.gaps and plain.readiness == bench.readiness
    assert not plain == bench  # the aligned table makes the difference
    # display: text, HTML and to_frame name the aligned means
    text = bench.summary()
    assert "Aligned factor means" in text and "Asparouhov" in text and "comparable" in text
    assert "invariance.alignment" in text  # the R call
    assert "Aligned factor means" in bench._repr_html_()
    assert "Aligned" not in plain.summary()
    pd.testing.assert_frame_equal(bench.to_frame(table="aligned"), al)
    assert bench.to_frame() is bench.ranking
    with pytest.raises(SpecificationError, match="means='aligned'"):
        plain.to_frame(table="aligned")
    # hash and equality by value
    assert hash(bench) == hash(BenchmarkResult(**{f: getattr(bench, f) for f in bench.__dataclass_fields__}))
    # warnings: the forms' invariance caveat, and any configural-fit warning names form and construct
    assert any(issubclass(w.category, InvarianceWarning) for w in caught)
    for w in caught:
        msg = str(w.message)
        if "configural" in msg:
            assert msg.startswith("aligned means of the ") and "construct '" in msg


def test_integer_firm_ids_stay_integers_and_the_covariance_has_the_reference_fixed(case):
    prov, cust, bench, _ = case
    code = {f"F{k}": k for k in range(1, 7)}
    ints = [df.assign(firm=df["firm"].map(code)) for df in (prov, cust)]
    got, _ = _quiet(benchmark_firms, *ints, CWI, n_boot=200, means="aligned")
    assert got.aligned["firm"].map(type).eq(int).all()
    assert got.aligned.loc[got.aligned["fixed"], "firm"].unique().tolist() == [1]
    for col in ("estimate", "se", "comparable", "rank"):
        np.testing.assert_array_equal(got.aligned[col].to_numpy(), bench.aligned[col].to_numpy())
    for (side, c), res in bench.alignments.items():
        vc = res.mean_vcov[c]
        assert list(vc.index) == list(res.means["group"]) == list(vc.columns)
        v = vc.to_numpy()
        assert np.array_equal(v, v.T) and (v[0] == 0).all() and np.linalg.eigvalsh(v).min() > -1e-12, (side, c)


def test_default_and_observed_are_the_same_call(case):
    prov, cust, _, _ = case
    a, _ = _quiet(benchmark_firms, prov, cust, CWI, n_boot=100)
    b, _ = _quiet(benchmark_firms, prov, cust, CWI, n_boot=100, means="observed")
    assert a == b and hash(a) == hash(b)


# --------------------------------------------------------------------------- bad input
def test_two_firms_and_small_firms_are_errors_naming_form_construct_and_firm(case):
    prov, cust, _, _ = case
    two = [df[df["firm"].isin(["F1", "F2"])] for df in (prov, cust)]
    with pytest.raises(InsufficientDataError, match=r"provider form, construct 'CPROC'.*at least 3 groups"):
        _quiet(benchmark_firms, *two, CWI, n_boot=100, means="aligned")
    small = prov[(prov["firm"] != "F4") | (np.arange(len(prov)) % 24 < 8)]  # F4 keeps a few respondents
    assert 3 <= (small["firm"] == "F4").sum() <= 12
    with pytest.raises(InsufficientDataError, match=r"provider form, construct 'CPROC'.*'F4'"):
        _quiet(benchmark_firms, small, cust, CWI, n_boot=100, means="aligned")
    # a firm whose respondents all skipped an item: with listwise deletion it would vanish from the
    # construct; that is an error naming the firm, not a table without it
    gone = prov.assign(CPROC_P1=prov["CPROC_P1"].where(prov["firm"] != "F2"))
    with pytest.raises(InsufficientDataError, match=r"provider form, construct 'CPROC': firm\(s\) 'F2' have no"):
        _quiet(benchmark_firms, gone, cust, CWI, n_boot=100, means="aligned",
               alignment_options={"missing": "listwise"})
    with pytest.raises(SpecificationError, match="means must be"):
        benchmark_firms(prov, cust, CWI, n_boot=100, means="latent")
    with pytest.raises(SpecificationError, match="unknown option.*'group'"):
        benchmark_firms(prov, cust, CWI, n_boot=100, means="aligned", alignment_options={"group": "x"})
    with pytest.raises(SpecificationError, match="means='aligned' only"):
        benchmark_firms(prov, cust, CWI, n_boot=100, alignment_options={"method": "FREE"})


# --------------------------------------------------------------------------- simulation: a firm's own item
FIRMS = [f"F{k}" for k in range(1, 9)]
LOAD = np.array([1.0, 0.9, 1.1, 0.8, 1.0])
ICPT = np.array([4.0, 3.8, 4.2, 3.9, 4.1])


def _many_firms(seed=5, n=220):
    """Both CWI forms for eight firms (SIMULATED). Latent score per respondent and construct
    ~ N(mu_firm, 1); code = round(nu + lambda * eta + N(0, .8^2)) clipped to 1..7; reverse
    items as answered.  Firm-specific measurement, customer form only: F5's CPROC_C2 intercept
    +1.5 (one of the construct's ten parameters); F7's CQUAL_C1 and CQUAL_C2 intercepts +1.5
    and CQUAL_C3 loading x 0.3 (three of ten)."""
    rng = np.random.default_rng(seed)
    mu = dict(zip(FIRMS, [0.0, 0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0.6]))
    out = {}
    for side in SIDES:
        form = CWI.form(side)
        rows = []
        for f in FIRMS:
            for i in range(n):
                row = {"respondent_id": f"{side[0]}{f}{i:03d}", "firm": f, "account": f"{f}-{i % 10:02d}",
                       "role": ("manager" if i % 4 == 0 else "staff") if side == "provider" else "customer"}
                for items in form.constructs.values():
                    eta = rng.normal(mu[f], 1.0)
                    for k, it in enumerate(items):
                        lam, nu = LOAD[k % 5], ICPT[k % 5]
                        if side == "customer" and (f, it) in {("F5", "CPROC_C2"), ("F7", "CQUAL_C1"),
                                                              ("F7", "CQUAL_C2")}:
                            nu += 1.5
                        if side == "customer" and (f, it) == ("F7", "CQUAL_C3"):
                            lam *= 0.3
                        y = float(np.clip(np.rint(nu + lam * eta + rng.normal(0, 0.8)), 1, 7))
                        row[it] = 8 - y if it in form.reverse_items else y
                rows.append(row)
        out[side] = pd.DataFrame(rows)
    return out["provider"], out["customer"], mu


def test_a_firms_non_invariant_items_are_flagged_and_it_is_not_ranked():
    prov, cust, mu = _many_firms()
    bench, caught = _quiet(benchmark_firms, prov, cust, CWI, n_boot=200, means="aligned")
    inv = bench.alignments[("customer", "CPROC")].invariance
    bad = inv.loc[~inv["invariant"]]
    assert ("CPROC_C2", "intercept", "F5") in set(map(tuple, bad[["item", "parameter", "group"]].to_numpy()))
    al = bench.aligned.set_index(["side", "construct", "firm"]).sort_index()
    # one of ten parameters: F5 stays comparable, and its aligned mean recovers the truth
    f5 = al.loc[("customer", "CPROC", "F5")]
    assert f5["noninvariant"] >= 1 and f5["comparable"]
    assert abs(f5["estimate"] - (mu["F5"] - mu["F1"])) < 3 * f5["se"]
    # its observed mean is pulled up by the shifted item (F5 is 0.1 above F1 in truth)
    obs = al.loc[("customer", "CPROC")]["observed_mean"]
    assert obs["F5"] - obs["F1"] > 0.2
    # three of ten in F7's CQUAL: not comparable, not ranked, named in the summary
    f7 = al.loc[("customer", "CQUAL", "F7")]
    assert not f7["comparable"] and f7["share_noninvariant"] > 0.25 and pd.isna(f7["rank"])
    assert "customer CQUAL: F7" in bench.summary()
    # no firm is flagged non-comparable on a construct where nothing was put in
    others = bench.aligned.query("not (side == 'customer' and construct == 'CQUAL' and firm == 'F7')")
    assert others["comparable"].all()
    # the comparable firms of CQUAL are ranked 1..7
    cq = bench.aligned.query("side == 'customer' and construct == 'CQUAL' and comparable")
    assert sorted(cq["rank"].astype(int)) == list(range(1, 8))


# --------------------------------------------------------------------------- messy exports
def test_export_with_string_firm_ids_and_unsorted_rows(tmp_path):
    from tests.test_messy_gaps import FORMS, simulate, write_export

    prov, cust = simulate(3, firms=("007", "12", "3", "045"), accounts=9)
    prov = prov.copy()
    prov.loc[[5, 40], "firm"] = ""  # two respondents left the firm field blank
    rng = np.random.default_rng(0)
    files = {}
    for side, df in (("provider", prov), ("customer", cust)):
        shuffled = df.iloc[rng.permutation(len(df))].reset_index(drop=True)  # rows not grouped by firm
        files[side] = (write_export(tmp_path / f"{side}_shuffled.csv", shuffled, side),
                       write_export(tmp_path / f"{side}_sorted.csv", df, side))
    read = {}
    for k in (0, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read[k] = [custval.read_survey(files[s][k], FORMS[s], id_column="respondent_id") for s in SIDES]
    rp, rc = read[0]
    assert rp["firm"].map(type).eq(str).all() and set(rp["firm"]) == {"007", "12", "3", "045", ""}
    assert rp["firm"].iloc[:8].nunique() > 1  # really unsorted
    got, caught = _quiet(benchmark_firms, rp, rc, CWI, n_boot=200, means="aligned")
    blank = np.flatnonzero((rp["firm"] == "").to_numpy()) + 1  # data rows of the file
    assert len(blank) == 2
    msgs = [str(w.message) for w in caught if issubclass(w.category, custval.exceptions.MissingDataWarning)]
    assert any(m.startswith("benchmark_firms: provider data: 2 row(s) with no firm are left out of "
                            "readiness, ICC, r_wg(J) and the aligned means") and str(blank.tolist()) in m for m in msgs), msgs
    assert (got.aggregation.query("side == 'provider'")["groups"] == 4).all()
    for tab in (got.agreement, got.aligned, got.readiness.table):
        assert "" not in set(tab["firm"])
    ref, _ = _quiet(benchmark_firms, *read[1], CWI, n_boot=200, means="aligned")
    al = got.aligned
    # firm ids stay the strings of the file, in sorted order, the first one the reference
    assert al["firm"].map(type).eq(str).all()
    assert al.query("side == 'provider' and construct == 'CPROC'")["firm"].tolist() == ["007", "045", "12", "3"]
    assert al.loc[al["fixed"], "firm"].unique().tolist() == ["007"]
    # the row order of the file does not matter (up to the convergence tolerance of the iterative
    # configural fits, whose sums run over the rows in another order)
    key = ["side", "construct", "firm"]
    a = al.set_index(key).sort_index()
    b = ref.aligned.set_index(key).sort_index()
    for col in ("estimate", "se", "variance", "observed_mean"):
        np.testing.assert_allclose(a[col], b[col], rtol=0, atol=1e-6)
    assert a["comparable"].equals(b["comparable"]) and a["n"].equals(b["n"])
    # rows in = rows used: FIML keeps every respondent with at least one answered item
    for side, df in zip(SIDES, (rp, rc)):
        for c, items in FORMS[side].constructs.items():
            answered = df[list(items)].notna().any(axis=1) & (df["firm"] != "")
            n_used = answered.groupby(df["firm"]).sum()
            sub = a.loc[(side, c)]
            assert sub["n"].to_dict() == {f: int(n_used[f]) for f in sub.index}
