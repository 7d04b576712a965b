"""Customer-wisdom gap analyses on messy dyadic exports.

All data here are SIMULATED by this module's own generator (not custval.simulate): provider and
customer forms of the CWI from a one-factor model per construct with its own loadings,
intercepts and (optionally) one non-invariant pair, written as Qualtrics-like CSV exports
(UTF-8 BOM, CRLF, three header rows, metadata columns, "don't know" 8 and blank answers) and
read back with custval.read_survey, as real exports would be.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import (
    DataValidationError,
    InvarianceWarning,
    MissingDataWarning,
)
from custval.gaps import form_invariance, holm_adjust, latent_perception_gap, perception_gap

CWI = custval.load_instrument("cwi")
FORMS = {side: CWI.form(side) for side in ("provider", "customer")}
TWIN = {r.customer_item: r.provider_item for r in CWI.pairs().itertuples()}

# the generator's own truth: per item position within a construct (1..5)
LOADING = np.array([1.0, 0.9, 1.1, 0.8, 1.0])
INTERCEPT = np.array([4.0, 3.8, 4.2, 3.9, 4.1])
RESIDUAL_SD = 0.8
META = ["StartDate", "EndDate", "Status", "Progress", "Duration (in seconds)", "Finished", "RecordedDate",
        "ResponseId", "DistributionChannel", "UserLanguage"]


# --------------------------------------------------------------------------- generator
def simulate(seed: int, *, firms=("F1", "F2", "F3", "F4"), accounts: int = 8, staff=(2, 4), customers=(2, 5),
             gap: float = 0.3, non_invariant: str | None = None, blank: float = 0.02,
             dont_know: float = 0.02) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw provider and customer answers (reverse items as answered, 8 = don't know, NaN blank).

    Per respondent and construct a latent score ~ N(firm offset +/- gap/2, 1); item code =
    round(intercept + loading * score + N(0, 0.8^2)) clipped to 1..7.  ``non_invariant`` (a
    customer item id) gets intercept + 1 and loading x 0.6 in the customer form only.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for side, sign in (("provider", 0.5), ("customer", -0.5)):
        form = FORMS[side]
        rows = []
        for f_i, firm in enumerate(firms):
            offset = 0.2 * (f_i - (len(firms) - 1) / 2)
            for a in range(accounts):
                n = rng.integers(staff[0], staff[1] + 1) if side == "provider" else \
                    rng.integers(customers[0], customers[1] + 1)
                for r in range(n):
                    row = {"respondent_id": f"{side[0].upper()}{f_i}{a:02d}{r}", "firm": firm,
                           "account": f"{1000 + 10 * f_i + a:05d}"}
                    if side == "provider":
                        row["role"] = "manager" if r == 0 else "staff"
                    for items in form.constructs.values():
                        eta = rng.normal(offset + sign * gap, 1.0)
                        for k, it in enumerate(items):
                            lam, nu = LOADING[k % 5], INTERCEPT[k % 5]
                            if it == non_invariant:
                                lam, nu = 0.6 * lam, nu + 1.0
                            y = int(np.clip(np.rint(nu + lam * eta + rng.normal(0, RESIDUAL_SD)), 1, 7))
                            row[it] = 8 - y if it in form.reverse_items else y
                    rows.append(row)
        df = pd.DataFrame(rows)
        items = list(form.items)
        x = df[items].to_numpy(dtype=float, copy=True)
        u = rng.random(x.shape)
        x[u < blank] = np.nan
        x[(u >= blank) & (u < blank + dont_know)] = 8
        df[items] = x
        out[side] = df
    return out["provider"], out["customer"]


def write_export(path, df: pd.DataFrame, side: str):
    """A Qualtrics-like CSV download: export tags, question texts and ImportId rows, BOM, CRLF."""
    form = FORMS[side]
    cols = [c for c in df.columns]
    header = [*META, *cols]
    texts = ["Start Date", "End Date", "Response Type", "Progress", "Duration (in seconds)", "Finished",
             "Recorded Date", "Response ID", "Distribution Channel", "User Language",
             *[form.item(c).text["en"] if c in form.items else c.capitalize().replace("_", " ") for c in cols]]
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(header)
    wr.writerow(texts)
    wr.writerow([json.dumps({"ImportId": c}) for c in header])
    for i, rec in enumerate(df.itertuples(index=False)):
        meta = ["2024-03-01 10:00:00", "2024-03-01 10:07:00", "IP Address", "100", "420", "True",
                "2024-03-01 10:07:01", f"R_{side[0]}{i:07d}", "anonymous", "FI"]
        vals = ["" if (isinstance(v, float) and np.isnan(v)) else (str(int(v)) if isinstance(v, float) else v)
                for v in rec]
        wr.writerow(meta + vals)
    path.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
    return path


def read_pair(tmp_path, prov: pd.DataFrame, cust: pd.DataFrame, tag: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    p = write_export(tmp_path / f"provider{tag}.csv", prov, "provider")
    c = write_export(tmp_path / f"customer{tag}.csv", cust, "customer")
    return (custval.read_survey(p, FORMS["provider"], id_column="respondent_id"),
            custval.read_survey(c, FORMS["customer"], id_column="respondent_id"))


def test_generator_round_trips_through_read_survey(tmp_path):
    prov, cust = simulate(1)
    rp, rc = read_pair(tmp_path, prov, cust)
    for raw, got, form in ((prov, rp, FORMS["provider"]), (cust, rc, FORMS["customer"])):
        items = list(form.items)
        want = raw[items].where(raw[items] != 8)  # "don't know" read as missing (and counted)
        np.testing.assert_array_equal(got[items].to_numpy(dtype=float), want.to_numpy(dtype=float))
        assert got["account"].tolist() == raw["account"].tolist()  # "01000": leading zeros kept
        dk = [r for r in got.attrs["custval"]["rules"] if "dont_know" in r["rule"]]
        assert sum(r["n"] for r in dk) == int((raw[items] == 8).sum().sum())


# --------------------------------------------------------------------------- dyad keys
@pytest.fixture(scope="module")
def messy_keys(tmp_path_factory):
    """Exports whose account keys do not all match: export slips and true non-matches."""
    tmp = tmp_path_factory.mktemp("keys")
    prov, cust = simulate(7, firms=("F1", "F2"), accounts=8)
    acc_p = sorted(prov["account"].unique())
    # slips in the customer file (near-misses): lost leading zeros, trailing NBSP; in the provider
    # file: an en-dash and upper case where the customer file has '-' and lower case
    cust.loc[cust["account"] == acc_p[0], "account"] = acc_p[0].lstrip("0")
    cust.loc[cust["account"] == acc_p[1], "account"] = acc_p[1] + "\u00a0"
    prov.loc[prov["account"] == acc_p[2], "account"] = "KEY\u2013" + acc_p[2]
    cust.loc[cust["account"] == acc_p[2], "account"] = "key-" + acc_p[2]
    # a customer account that matches nothing, and a provider account without customers
    cust.loc[cust["account"] == acc_p[9], "account"] = "99999"
    cust = cust[cust["account"] != acc_p[10]].reset_index(drop=True)
    rp, rc = read_pair(tmp, prov, cust)
    return rp, rc, acc_p


def _exact_subset(prov, cust):
    keys = set(zip(prov["firm"], prov["account"])) & set(zip(cust["firm"], cust["account"]))
    pm = [k in keys for k in zip(prov["firm"], prov["account"])]
    cm = [k in keys for k in zip(cust["firm"], cust["account"])]
    return prov[pm], cust[cm]


def test_exact_pairs_are_used_and_the_rest_reported(messy_keys):
    prov, cust, acc = messy_keys
    with pytest.warns(InvarianceWarning), pytest.warns(MissingDataWarning) as rec:
        res = perception_gap(prov, cust, CWI, n_boot=200)
    msg = " ".join(str(w.message) for w in rec if w.category is MissingDataWarning)
    # the numbers are those of the exactly matched pairs alone
    p2, c2 = _exact_subset(prov, cust)
    with pytest.warns(InvarianceWarning):
        ref = perception_gap(p2, c2, CWI, n_boot=200)
    pd.testing.assert_frame_equal(res.table, ref.table)
    # near-misses: both spellings, never matched
    nm = res.near_misses
    pairs = set(zip(nm["account_provider"], nm["account_customer"]))
    assert pairs == {(acc[0], acc[0].lstrip("0")), (acc[1], acc[1] + "\u00a0"),
                     ("KEY\u2013" + acc[2], "key-" + acc[2])}
    how = dict(zip(nm["account_provider"], nm["differs_by"]))
    assert how[acc[0]] == "leading zeros" and how[acc[1]] == "whitespace"
    assert set(how["KEY\u2013" + acc[2]].split(", ")) == {"dash", "case"}
    assert "Near-misses" in msg and repr(acc[0].lstrip("0")) in msg and "99999" in msg
    # every row accounted for: rows in = rows used + rows excluded (with reasons)
    for side, df in (("provider", prov), ("customer", cust)):
        acc_side = res.rows[side]
        assert acc_side["in"] == len(df)
        assert acc_side["in"] == acc_side["used"] + sum(acc_side["excluded"].values())
        ex = res.excluded[res.excluded["side"] == side]
        assert int(ex["n_rows"].sum()) == len(df) - acc_side["used"]
    ex = res.excluded.set_index(["side", "account"])
    assert ex.loc[("customer", "99999"), "reason"] == "customer account matches no provider account of its firm"
    assert ex.loc[("provider", acc[10]), "reason"] == "provider account without customer responses"
    # the slipped keys are excluded on both sides, not merged
    assert ("provider", acc[0]) in ex.index and ("customer", acc[0].lstrip("0")) in ex.index
    text = res.summary()
    assert f"Rows (customer): {len(cust)} in = {res.rows['customer']['used']} used" in text
    assert "Near-miss keys (not matched): 3" in text


def test_strict_matching_raises_listing_the_unmatched_keys(messy_keys):
    prov, cust, acc = messy_keys
    with pytest.raises(DataValidationError) as err, pytest.warns(InvarianceWarning):
        perception_gap(prov, cust, CWI, n_boot=200, strict=True)
    text = str(err.value)
    for key in ("99999", acc[0].lstrip("0"), acc[10], "KEY\u2013" + acc[2]):
        assert repr(key) in text
    assert "near-misses" in text and "strict=False" in text
    rows = {r for p in err.value.problems for r in p["rows"]}
    bad = cust.index[cust["account"] == "99999"] + 1
    assert set(bad.tolist()) <= rows
    assert {p["side"] for p in err.value.problems} == {"provider", "customer"}


def test_firm_match_reports_firm_keys_and_missing_keys(tmp_path):
    prov, cust = simulate(3, firms=("F1", "F2", "F3"), accounts=5)
    cust.loc[cust["firm"] == "F3", "firm"] = "f3 "        # case and a trailing space
    cust.loc[cust.index[:2], "account"] = np.nan        # two customers without an account
    prov, cust = read_pair(tmp_path, prov, cust)
    with pytest.warns(InvarianceWarning), pytest.warns(MissingDataWarning, match="'f3 '"):
        res = perception_gap(prov, cust, CWI, match="firm", n_boot=200)
    assert set(res.table["firm"]) == {"F1", "F2"}
    assert res.near_misses[["firm_provider", "firm_customer"]].values.tolist() == [["F3", "f3 "]]
    assert res.near_misses["differs_by"].iloc[0] == "whitespace, case"
    with pytest.warns(InvarianceWarning), pytest.warns(MissingDataWarning, match="no account in the row"):
        res = perception_gap(prov, cust, CWI, match="account", n_boot=200)
    ex = res.excluded[res.excluded["reason"] == "no account in the row"]
    assert ex["rows"].iloc[0] == [1, 2] and ex["side"].iloc[0] == "customer"
    assert res.rows["customer"]["in"] == res.rows["customer"]["used"] + sum(res.rows["customer"]["excluded"].values())
    with pytest.raises(DataValidationError, match="no account in the row") as err, pytest.warns(InvarianceWarning):
        perception_gap(prov, cust, CWI, match="account", n_boot=200, strict=True)
    missing = [p for p in err.value.problems if p["rule"] == "missing_key"]
    assert [(p["side"], p["rows"]) for p in missing] == [("customer", [1, 2])]
    assert all(p["path"].endswith(f"{p['side']}.csv") for p in err.value.problems)


def test_personal_data_keys_show_only_counts(tmp_path):
    # accounts identified by the contact person's e-mail address: personal data
    prov, cust = simulate(5, firms=("F1", "F2"), accounts=6)
    for df in (prov, cust):
        df["account"] = "buyer" + df["account"].str[-3:] + "@example.fi"
    cust.loc[cust["account"] == cust["account"].iloc[0], "account"] = cust["account"].iloc[0].upper()
    p_path = write_export(tmp_path / "p.csv", prov, "provider")
    c_path = write_export(tmp_path / "c.csv", cust, "customer")
    with pytest.warns(custval.exceptions.PersonalDataWarning, match="account"):
        rp = custval.read_survey(p_path, FORMS["provider"], id_column="respondent_id")
    with pytest.warns(custval.exceptions.PersonalDataWarning, match="account"):
        rc = custval.read_survey(c_path, FORMS["customer"], id_column="respondent_id")
    with pytest.warns(InvarianceWarning), pytest.warns(MissingDataWarning) as rec:
        res = perception_gap(rp, rc, CWI, n_boot=200)
    msg = " ".join(str(w.message) for w in rec if w.category is MissingDataWarning)
    assert "@" not in msg and "values not shown" in msg and "1 near-miss" in msg
    assert not res.near_misses.astype(str).apply(lambda s: s.str.contains("@")).any().any()
    assert not res.excluded["account"].astype(str).str.contains("@").any()
    with pytest.raises(DataValidationError) as err, pytest.warns(InvarianceWarning):
        perception_gap(rp, rc, CWI, n_boot=200, strict=True)
    assert "@" not in str(err.value) and "personal data" in str(err.value)
    assert all(p["values"] == [] for p in err.value.problems)


# --------------------------------------------------------------------------- form invariance: FWER
N_NULL = 40


def _as_read(df: pd.DataFrame) -> pd.DataFrame:
    """What read_survey returns for the generator's export (test_generator_round_trips_through_
    read_survey): "don't know" 8 as missing.  Used where many studies are analysed, to keep the
    test fast."""
    out = df.copy()
    items = [c for c in df.columns if c in CWI.items]
    out[items] = out[items].where(out[items] != 8)
    return out


def _fwer_runs(tmp_path, seeds, non_invariant=None, through_files=True):
    out = []
    for seed in seeds:
        prov, cust = simulate(seed, non_invariant=non_invariant, accounts=10)
        if through_files:
            rp, rc = read_pair(tmp_path, prov, cust, tag=str(seed))
        else:
            rp, rc = _as_read(prov), _as_read(cust)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)  # listwise exclusions, counted in n_excluded
            res = form_invariance(rp, rc, CWI, constructs=["CQUAL"])
        top = res.candidates.iloc[0]
        out.append({"seed": seed, "flagged": res.flagged, "highest": res.invariance.highest,
                    "old_rule": bool(top["p_value"] < res.alpha), "top_customer_item": top["customer_item"],
                    "p_holm": top["p_holm"], "p": top["p_value"], "m": len(res.candidates),
                    "decision": res.decision})
    return pd.DataFrame(out)


def test_invariant_pairs_are_rarely_flagged(tmp_path):
    """Family-wise error over the 5 candidate releases: at most about alpha with Holm."""
    runs = _fwer_runs(tmp_path, range(N_NULL), through_files=False)
    n_new = int(runs["flagged"].astype(bool).sum())
    n_old = int(runs["old_rule"].sum())
    print(f"invariant pairs flagged: Holm {n_new}/{N_NULL}; uncorrected top release {n_old}/{N_NULL}")
    # alpha = .05 over 40 runs: 2 expected at the nominal rate; the former rule (uncorrected
    # top-of-5 release at p < .05) flags far more, about 15-20% of runs
    assert n_new <= 4 < n_old
    # the Holm adjustment of the top release is m * p (capped at 1)
    np.testing.assert_allclose(runs["p_holm"], np.minimum(1, runs["m"] * runs["p"]), rtol=1e-12)
    # a flag never contradicts the verdict
    holds = runs["highest"].isin(["scalar", "strict"])
    assert not runs.loc[holds, "flagged"].astype(bool).any()
    assert runs.loc[holds, "decision"].str.startswith("not flagged: the verdict says").all()


def test_the_non_invariant_pair_is_found(tmp_path):
    runs = _fwer_runs(tmp_path, range(100, 108), non_invariant="CQUAL_C3")
    assert (runs["flagged"] == ("CQUAL_P3", "CQUAL_C3")).all(), runs[["flagged", "p_holm", "highest"]]
    assert runs["decision"].str.startswith("flagged: top scalar release CQUAL_3 ~ 1").all()


def test_flag_is_withheld_when_the_verdict_says_invariance_holds(tmp_path):
    # a run in which the uncorrected top release is significant while the verdict (Chen, 2007
    # criteria) says scalar invariance holds: no flag, and the decision says why
    found = None
    for seed in range(200, 260):
        prov, cust = simulate(seed, non_invariant="CQUAL_C3", accounts=10, gap=0.3)
        prov = prov.groupby("firm").head(12)  # small samples: fit indices barely move
        cust = cust.groupby("firm").head(15)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            res = form_invariance(_as_read(prov), _as_read(cust), CWI, constructs=["CQUAL"])
        if res.invariance.highest == "scalar" and res.candidates["p_holm"].iloc[0] < res.alpha:
            found = res
            break
    assert found is not None
    assert found.flagged == ()
    assert "not flagged: the verdict says scalar invariance holds" in found.summary()


def test_holm_adjust_matches_the_step_down_definition():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, size=7)
    p[3] = np.nan
    adj = holm_adjust(p)
    q = np.where(np.isnan(p), 1.0, p)
    order = np.argsort(q)
    m = len(q)
    want = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * q[i]))
        want[i] = running
    np.testing.assert_allclose(adj, want, rtol=0, atol=0)
    assert adj[3] == 1.0


# --------------------------------------------------------------------------- latent gap per firm
def test_firm_with_too_few_complete_respondents_is_undefined(tmp_path):
    # seed 13: a study in which scalar invariance holds for both constructs by the default
    # (Chen, 2007) criteria, which at these small n fail now and then by chance
    prov, cust = simulate(13, firms=("F1", "F2", "F3"), accounts=8, customers=(3, 4))
    # F2's customers skip CPROC_C4 mostly: fewer than 10 complete on CPROC, complete elsewhere
    f2 = cust.index[cust["firm"] == "F2"]
    cust.loc[f2[6:], "CPROC_C4"] = np.nan
    rp, rc = read_pair(tmp_path, prov, cust)
    n_complete = int(rc.loc[rc["firm"] == "F2", [f"CPROC_C{k}" for k in range(1, 6)]].notna().all(axis=1).sum())
    assert n_complete < 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        inv = [form_invariance(rp, rc, CWI, constructs=[c]) for c in ("CPROC", "MGMT")]
    assert all(i.invariance.highest == "scalar" for i in inv)
    with pytest.warns(MissingDataWarning, match=r"F2/CPROC: n < 10 complete respondents"):
        res = latent_perception_gap(rp, rc, CWI, invariance=inv)
    tab = res.table.set_index(["firm", "construct"])
    bad = tab.loc[("F2", "CPROC")]
    assert np.isnan(bad["estimate"]) and np.isnan(bad["se"]) and bad["n"] == 0
    assert bad["reason"] == (f"n < 10 complete respondents on the 5 paired items (provider "
                             f"{int(bad['n_provider'])}, customer {n_complete}; min_n=10, at least items + 2)")
    ok = tab.drop(index=[("F2", "CPROC")])
    assert ok["estimate"].notna().all() and ok["reason"].isna().all()
    assert len(tab) == 6  # 3 firms x 2 constructs, none dropped
    # the F2 rows of the CPROC model are reported as excluded, with the reason
    ex = res.excluded[(res.excluded["firm"] == "F2") & (res.excluded["construct"] == "CPROC")]
    assert "too few" in " ".join(ex["reason"]) and int(ex["n_rows"].sum()) == len(rc[rc.firm == "F2"]) + len(
        rp[rp.firm == "F2"])
    assert "F2/CPROC" in res.summary() and "reason" in res.summary()
    # a firm spelled differently in the customer file is not matched: left out, near-miss named
    rc_case = rc.assign(firm=rc["firm"].replace({"F3": "f3"}))
    with pytest.warns(MissingDataWarning) as rec:
        res_case = latent_perception_gap(rp, rc_case, CWI, invariance=inv)
    msg = " ".join(str(w.message) for w in rec)
    assert "provider 'F3' vs customer 'f3' (differs by case" in msg
    assert set(res_case.table["firm"]) == {"F1", "F2"}
    # the figure labels the undefined row instead of leaving it blank
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from custval.plots_gaps import latent_gap_plot

    fig = latent_gap_plot(res)
    texts = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in fig.axes}
    assert texts["CPROC"] == ["undefined (see reason)"] and texts["MGMT"] == []
    plt.close(fig)


# --------------------------------------------------------------------------- reverse keys
def _reordered(inst, construct, first):
    """The instrument with ``first`` (and its twin) moved to the front of ``construct``."""
    items = list(inst.item_defs)
    moved = [i for i in items if i.id in first]
    rest = [i for i in items if i.id not in first]
    pos = next(k for k, i in enumerate(rest) if i.construct == construct)
    item_defs = tuple(rest[:pos] + moved + rest[pos:])
    cons = tuple(dataclasses.replace(c, items=tuple(i.id for i in item_defs if i.construct == c.id))
                 for c in inst.construct_defs)
    return dataclasses.replace(inst, item_defs=item_defs, construct_defs=cons)


def test_reverse_keyed_marker_pair_is_keyed(tmp_path):
    # with the reverse-keyed pair CPROC_P5/C5 as the first (marker) item, unkeyed codes would
    # flip the factor and the sign of the gap; keyed, the standardized gap does not depend on
    # the marker
    prov, cust = simulate(21, firms=("F1", "F2", "F3"), accounts=8, gap=0.6)
    rp, rc = read_pair(tmp_path, prov, cust)
    inst2 = _reordered(CWI, "CPROC", {"CPROC_P5", "CPROC_C5"})
    assert inst2.pairs().query("construct == 'CPROC'")["provider_item"].iloc[0] == "CPROC_P5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        inv1 = form_invariance(rp, rc, CWI, constructs=["CPROC"])
        inv2 = form_invariance(rp, rc, inst2, constructs=["CPROC"])
        a = latent_perception_gap(rp, rc, CWI, invariance=inv1, by=None).table
        b = latent_perception_gap(rp, rc, inst2, invariance=inv2, by=None).table
    assert a["estimate"].iloc[0] > 0
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(b["se"], a["se"], rtol=0, atol=1e-6)
    # the observed-score gap (keyed items) has the same sign
    with pytest.warns(InvarianceWarning):
        obs = perception_gap(rp, rc, CWI, match="firm", n_boot=200).table
    assert (obs.loc[obs["construct"] == "CPROC", "estimate"] > 0).all()


def test_out_of_scale_codes_in_the_latent_gap_are_an_error(tmp_path):
    prov, cust = simulate(6, firms=("F1", "F2"))  # scalar invariance holds for CPROC in this study
    rp, rc = read_pair(tmp_path, prov, cust)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        inv = form_invariance(rp, rc, CWI, constructs=["CPROC"])
    bad = rc.copy()
    bad.loc[bad.index[3], "CPROC_C2"] = 8.0  # an unconverted "don't know" code
    with pytest.raises(DataValidationError, match=re.escape("CPROC_C2")):
        latent_perception_gap(rp, bad, CWI, invariance=inv)


def test_frames_keyed_by_the_caller_are_not_keyed_again(tmp_path):
    # inst.form(side).keyed(df) records the items it recoded; the gap functions key the rest
    # and leave those, so keyed and raw exports give the same gaps
    prov, cust = simulate(21, firms=("F1", "F2", "F3"), accounts=8, gap=0.6)
    rp, rc = read_pair(tmp_path, prov, cust)
    kp, kc = CWI.form("provider").keyed(rp), CWI.form("customer").keyed(rc)
    assert kp.attrs["custval_keyed"]["items"] and kc.attrs["custval_keyed"]["items"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        inv = form_invariance(rp, rc, CWI, constructs=["CPROC"])
        inv_k = form_invariance(kp, kc, CWI, constructs=["CPROC"])
        a = latent_perception_gap(rp, rc, CWI, invariance=inv, by=None).table
        b = latent_perception_gap(kp, kc, CWI, invariance=inv_k, by=None).table
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=0, atol=1e-8)
    with pytest.warns(InvarianceWarning):
        obs = perception_gap(rp, rc, CWI, match="firm", n_boot=100, seed=1).table
    with pytest.warns(InvarianceWarning):
        obs_k = perception_gap(kp, kc, CWI, match="firm", n_boot=100, seed=1).table
    np.testing.assert_allclose(obs_k["estimate"], obs["estimate"], rtol=0, atol=1e-12)
