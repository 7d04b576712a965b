"""Ordered and continuous items in one CFA (``ordered=`` naming some items) against lavaan 0.6-14
(goldens from tests/r/cfa_ordinal_mixed.R), and survey exports that mix a 0-100 rating with
five-point items."""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from custval._io.paths import RAW_DATA_DIR
from custval._sem import ordinal
from custval._sem.ordinal import OrdinalStats
from custval.cfa import CFA
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    MissingDataWarning,
    SpecificationError,
)
from tests.conftest import GOLDEN_DIR, load_golden

CASES = ["bfi_mixed", "bfi_mixed_theta", "bfi_mixed_dwls", "sim_mixed", "sim_mixed_theta",
         "bfi_mixed_groups", "bfi_mixed_groups_eq", "bfi_mixed_groups_theta", "sim_mixed_int",
         "bfi_mixed_pairwise", "bfi_mixed_groups_pairwise", "sim_mixed_ulsmv_stdlv"]


@functools.cache
def _data(name: str) -> pd.DataFrame:
    if name.startswith("sim"):
        return pd.read_csv(GOLDEN_DIR / "cfa_ordinal_mixed" / "sim_mixed.csv")
    return pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")


def _kw(g: dict) -> dict:
    args = g["args"]
    kw = {"ordered": list(args["ordered"]), "estimator": args["estimator"]}
    if "parameterization" in args:
        kw["parameterization"] = args["parameterization"]
    if "group" in args:
        kw["group"] = args["group"]
    if "group.equal" in args:
        kw["group_equal"] = tuple(args["group.equal"])
    if "missing" in args:
        kw["missing"] = args["missing"]
    if args.get("std.lv"):
        kw["std_lv"] = True
    return kw


def _per_group(block, group=None):
    """A golden's per-group entry: a list (one group) or a dict keyed by group label."""
    return block[0] if isinstance(block, list) else block[str(group)]


@functools.cache
def _fit(name: str) -> CFA:
    g = load_golden("cfa_ordinal_mixed", name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        return CFA(g["model"], **_kw(g)).fit(_data(name))


def _compare_params(ours: pd.DataFrame, g: dict, rtol: float, atol: float) -> None:
    pe = pd.DataFrame(g["params"])
    # lavaan's rows in lavaan's order: loadings, thresholds (ordered items only), variances,
    # scale factors (ordered items only), intercepts (free for the continuous items)
    assert ours["lhs"].tolist() == pe["lhs"].tolist()
    assert ours["op"].tolist() == pe["op"].tolist()
    assert ours["rhs"].tolist() == pe["rhs"].fillna("").tolist()
    if "group" in pe:
        assert ours["group"].tolist() == pe["group"].tolist()
    for col, r_col in [("est", "est"), ("se", "se"), ("std_all", "std.all"), ("std_lv", "std.lv")]:
        np.testing.assert_allclose(ours[col].to_numpy(float), pe[r_col].to_numpy(float), rtol=rtol, atol=atol,
                                   err_msg=col)


@pytest.mark.parametrize("name", CASES)
def test_parameters_match_lavaan(name):
    g = load_golden("cfa_ordinal_mixed", name)
    assert g["max_abs_gradient"] < 1e-7  # lavaan's (projected) gradient at its solution
    # lavaan's polyserial search stops up to ~2e-7 short of the maximum (see the test below), which
    # moves its estimates by up to ~3e-7; continuous items' variances are on the rating's scale
    _compare_params(_fit(name).params_, g, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["bfi_mixed", "sim_mixed", "bfi_mixed_groups", "bfi_mixed_pairwise"])
def test_sample_statistics_and_gamma_match_lavaan(name):
    g = load_golden("cfa_ordinal_mixed", name)
    fit = _fit(name)
    # pairwise: lavaan's search for the ML correlation of C4 and A4 stops 1e-6 short (see
    # test_pairwise_correlation_is_the_maximum_lavaan_stops_short_of), which moves Gamma by 6e-7
    cor_tol, gamma_tol = (1.5e-6, 1e-6) if name.endswith("pairwise") else (3e-7, 1e-7)
    several = len(fit.group_labels_) > 1
    for lab in fit.group_labels_:
        key = lab if several else None
        ss = _per_group(g["sampstat"], key)

        def ours(attr, lab=lab):
            v = getattr(fit, attr)
            return v[lab] if several else v

        assert ours("sample_th_").index.tolist() == list(ss["th"].keys())
        np.testing.assert_allclose(ours("sample_th_").to_numpy(), list(ss["th"].values()), atol=1e-12)
        np.testing.assert_allclose(ours("sample_mean_").to_numpy(), list(ss["mean"].values()), rtol=1e-13,
                                   atol=1e-13)
        cov = ours("sample_cov_").to_numpy()
        np.testing.assert_allclose(cov, np.array(ss["cov"]["values"]), rtol=1e-6, atol=2 * cor_tol)
        sd = np.sqrt(np.diag(cov))
        np.testing.assert_allclose(cov / np.outer(sd, sd), np.array(_per_group(g["cor"], key)["values"]),
                                   atol=cor_tol)
        gl = _per_group(g["gamma"], key)
        gamma = np.array(gl["values"])
        assert ours("gamma_").index.tolist() == gl["names"]
        np.testing.assert_allclose(ours("gamma_").to_numpy(), gamma, atol=gamma_tol * np.abs(gamma).max())


def test_polyserial_is_the_maximum_lavaan_stops_short_of():
    """bfi A5 (numbers) with A1 (ordered): custval's polyserial is the root of the score; lavaan's
    nlminb stops 2e-7 away, where the log-likelihood is lower."""
    g = load_golden("cfa_ordinal_mixed", "bfi_mixed")
    names = g["cor"][0]["names"]
    lav = np.array(g["cor"][0]["values"])[names.index("A5"), names.index("A1")]
    d = _data("bfi_mixed").dropna(subset=names)
    y = d["A5"].to_numpy(float)
    code, lev = ordinal.categories(d[["A1"]])
    t = stats.norm.ppf(np.cumsum(np.bincount(code[:, 0])[1:])[:-1] / len(d))
    m, v = y.mean(), y.var()

    def loglik(rho):  # the polyserial log-likelihood, written out
        z = (y - m) / math.sqrt(v)
        up = np.concatenate([t, [np.inf]])[code[:, 0] - 1]
        lo = np.concatenate([[-np.inf], t])[code[:, 0] - 1]
        r = math.sqrt(1 - rho**2)
        return float(np.sum(np.log(stats.norm.cdf((up - rho * z) / r) - stats.norm.cdf((lo - rho * z) / r))))

    ours = ordinal.polyserial_pair(y, m, v, code[:, 0], t)
    best = optimize.minimize_scalar(lambda r: -loglik(r), bounds=(-0.9, 0.9), method="bounded",
                                    options={"xatol": 1e-12}).x
    assert ours == pytest.approx(best, abs=1e-8)
    assert abs(ours - lav) > 1e-7 and loglik(ours) > loglik(lav)
    assert _fit("bfi_mixed").sample_cov_.loc["A5", "A1"] == pytest.approx(ours * math.sqrt(v), rel=1e-12)


def test_pairwise_correlation_is_the_maximum_lavaan_stops_short_of():
    """bfi C4 and A4 (both continuous) with missing answers: lavaan's two-step ML correlation over
    the rows that answered both (means and variances fixed at their available-case values);
    custval's is the root of the score, lavaan's 1e-6 away with a lower log-likelihood."""
    g = load_golden("cfa_ordinal_mixed", "bfi_mixed_pairwise")
    names = g["cor"][0]["names"]
    lav = np.array(g["cor"][0]["values"])[names.index("C4"), names.index("A4")]
    d = _data("bfi_mixed_pairwise")
    d = d[d[names].notna().any(axis=1)]
    y1, y2 = d["C4"].to_numpy(float), d["A4"].to_numpy(float)
    m1, v1, m2, v2 = np.nanmean(y1), np.nanvar(y1), np.nanmean(y2), np.nanvar(y2)
    both = ~np.isnan(y1) & ~np.isnan(y2)
    xy = np.column_stack([y1[both] - m1, y2[both] - m2])

    def loglik(rho):
        c = rho * math.sqrt(v1 * v2)
        return float(np.sum(stats.multivariate_normal(mean=[0, 0], cov=[[v1, c], [c, v2]]).logpdf(xy)))

    best = optimize.minimize_scalar(lambda r: -loglik(r), bounds=(-0.9, 0.9), method="bounded",
                                    options={"xatol": 1e-12}).x
    ours = ordinal.bvreg_pair(y1, y2, m1, v1, m2, v2)
    assert ours == pytest.approx(best, abs=1e-7) and loglik(ours) >= loglik(best) - 1e-9
    assert abs(ours - lav) > 5e-7 and loglik(ours) > loglik(lav)
    # not Pearson's correlation of the complete pairs
    assert abs(ours - np.corrcoef(xy.T)[0, 1]) > 1e-5


def _lavaan_stats(g: dict, names: list[str], ordered: list[str], group=None) -> OrdinalStats:
    """lavaan's own sample statistics and Gamma (of one group) as custval's OrdinalStats."""
    ss = _per_group(g["sampstat"], group)
    cov = np.array(ss["cov"]["values"])
    sd = np.sqrt(np.diag(cov))
    num = np.array([v not in ordered for v in names])
    th = [np.array([ss["mean"][v]]) if num[k] else
          np.array([val for key, val in ss["th"].items() if key.split("|")[0] == v]) for k, v in enumerate(names)]
    n = int(g["ntotal"]) if group is None else int(g["nobs"][str(group)])
    return OrdinalStats(list(names), [np.arange(len(t) + 1) for t in th], np.zeros((1, len(names)), int), th,
                        cov / np.outer(sd, sd), np.array(_per_group(g["gamma"], group)["values"]), n,
                        numeric=num, var=np.where(num, sd**2, 1.0))


@pytest.mark.parametrize("name", CASES)
def test_model_matches_lavaan_exactly_on_lavaans_statistics(name, monkeypatch):
    """The DWLS model, robust standard errors and test statistics on lavaan's own sample statistics:
    what remains is lavaan's optimizer (gradient < 1e-9)."""
    g = load_golden("cfa_ordinal_mixed", name)
    kw = _kw(g)
    monkeypatch.setattr(ordinal, "mixed_stats",
                        lambda values, codes, names, levels, numeric, group=None:
                        _lavaan_stats(g, names, kw["ordered"], group))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        fit = CFA(g["model"], **kw).fit(_data(name))
    # with group_equal lavaan's BFGS stops at a projected gradient of 3e-9 / 4e-8 (estimates ~2e-7 / 7e-7)
    tol = 1e-8 if g["max_abs_gradient"] < 1e-9 else 1e-6
    _compare_params(fit.params_, g, rtol=tol, atol=tol)
    for key in ("chisq", "chisq.scaled", "chisq.scaling.factor", "baseline.chisq", "srmr", "rmsea"):
        if g["fit"].get(key) is not None:
            np.testing.assert_allclose(fit.fit_measures_[key], g["fit"][key], rtol=tol, atol=1e-12, err_msg=key)
    vcov = np.array(g["vcov"]["values"])
    if vcov.shape == fit.vcov_.shape:  # with group_equal lavaan keeps every copy and '==' rows
        # ULSMV: lavaan's BFGS stops at a gradient of 6e-9 of the unweighted fit function, 3e-5 away
        np.testing.assert_allclose(fit.vcov_, vcov, rtol=1e-7 if tol < 1e-6 else 1e-4, atol=1e-10)


FIT_KEYS = ["npar", "df", "chisq", "fmin", "chisq.scaled", "df.scaled", "chisq.scaling.factor", "baseline.chisq",
            "baseline.chisq.scaled", "cfi", "tli", "cfi.scaled", "tli.scaled", "rmsea", "rmsea.scaled",
            "srmr", "rmr", "rmr_nomean", "srmr_bentler", "crmr", "crmr_nomean",
            "cfi.robust", "tli.robust", "rmsea.robust"]


@pytest.mark.parametrize("name", CASES)
def test_fit_measures_match_lavaan(name):
    g = load_golden("cfa_ordinal_mixed", name)
    fm = _fit(name).fit_measures_
    checked = 0
    for key in FIT_KEYS:
        want = g["fit"].get(key)
        if want is None:  # lavaan's NA: the .robust indices with continuous items; DWLS: no scaled test
            assert key not in fm.index or np.isnan(fm[key]), key
            continue
        # rmsea.scaled of the simulated set is sqrt(X2 - df) of a small difference: lavaan's
        # optimizer and polyserials (5e-7 in chisq) move it by up to 2.4e-6 relative
        rtol = 3e-6 if key.startswith("rmsea") else 1e-6
        np.testing.assert_allclose(fm[key], want, rtol=rtol, atol=1e-10, err_msg=f"{name}: {key}")
        checked += 1
    assert checked >= (14 if name.endswith("dwls") else 18)
    assert fm["ntotal"] == g["ntotal"]


# ---------------------------------------------------------------- survey exports

MODEL = "SAT =~ overall + sat_1 + sat_2 + sat_3\nLOY =~ loy_1 + loy_2 + nps"
FIVE = ["sat_1", "sat_2", "sat_3", "loy_1", "loy_2"]


def _survey(n: int = 650, seed: int = 5) -> pd.DataFrame:
    """A satisfaction export: an overall 0-100 slider (one decimal), five-point items piled at the
    top, a 0-10 recommendation score, a respondent id and a submission date."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=n)

    def ystar(lam, f):
        return lam * eta[:, f] + math.sqrt(1 - lam**2) * rng.normal(size=n)

    out = {"ResponseId": [f"R_{i:06d}" for i in range(n)],
           "EndDate": pd.date_range("2026-03-01", periods=n, freq="37min").strftime("%Y-%m-%d %H:%M:%S")}
    out["overall"] = np.round(np.clip(72 + 14 * ystar(0.8, 0), 0, 100), 1)
    for k, item in enumerate(FIVE):
        lam = [0.75, 0.7, 0.65, 0.8, 0.7][k]
        out[item] = (np.searchsorted([-1.9, -1.2, -0.4, 0.5], ystar(lam, k // 3)) + 1).astype(float)
    out["nps"] = np.round(np.clip(7.5 + 1.9 * ystar(0.75, 1), 0, 10))
    df = pd.DataFrame(out)
    df.loc[[11, 230, 402], "sat_2"] = np.nan  # skipped questions
    df.loc[[57], "overall"] = np.nan
    return df


def _export(df: pd.DataFrame, tmp_path, name="csat_export.csv", **to_csv) -> pd.DataFrame:
    """Write as a survey platform does (UTF-8 BOM, quoted header, CRLF) and read it back."""
    path = tmp_path / name
    text = df.to_csv(index=False, quoting=1, lineterminator="\r\n", **to_csv)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


def test_rating_and_five_point_items_from_a_survey_export(tmp_path):
    data = _export(_survey(), tmp_path)
    with pytest.warns(MissingDataWarning, match="4 row"):
        fit = CFA(MODEL, ordered=FIVE).fit(data)
    assert fit.continuous_ == ["overall", "nps"]
    assert fit.n_excluded_ == 4
    used = data.dropna(subset=["overall", "nps"] + FIVE)
    p = fit.params_.set_index(["lhs", "op", "rhs"])
    # the continuous items: free intercepts (their sample means: the means fit exactly) and free
    # residual variances; no thresholds and no scale factors
    for v in ("overall", "nps"):
        assert p.loc[(v, "~1", ""), "free"] > 0
        assert p.loc[(v, "~1", ""), "est"] == pytest.approx(used[v].mean(), rel=1e-10)
        assert p.loc[(v, "~~", v), "free"] > 0 and p.loc[(v, "~~", v), "se"] > 0
        assert not ((fit.params_["lhs"] == v) & fit.params_["op"].isin(["|", "~*~"])).any()
        assert fit.sample_cov_.loc[v, v] == pytest.approx(used[v].var(ddof=0), rel=1e-12)
    for v in FIVE:
        th = fit.params_[(fit.params_["lhs"] == v) & (fit.params_["op"] == "|")]
        assert th["rhs"].tolist() == ["t1", "t2", "t3", "t4"]
        assert p.loc[(v, "~1", ""), "free"] == 0 and p.loc[(v, "~~", v), "free"] == 0
    # the Pearson covariance of the two continuous items is the sample's (divisor N)
    cov = np.cov(used["overall"], used["nps"], ddof=0)[0, 1]
    assert fit.sample_cov_.loc["overall", "nps"] == pytest.approx(cov, rel=1e-12)
    # lavaan's df: thresholds + means + variances + covariances - free parameters
    p_items, nth = 7, 5 * 4
    ndat = nth + 2 + 2 + p_items * (p_items - 1) // 2
    assert fit.fit_measures_["df"] == ndat - fit.fit_measures_["npar"]
    assert 0 < fit.fit_measures_["cfi.scaled"] <= 1
    assert np.isnan(fit.fit_measures_["cfi.robust"])  # lavaan's NA with continuous items
    assert ((fit.r2_["all"] > 0) & (fit.r2_["all"] < 1)).all()


def test_polyserial_of_the_export_is_the_ml_estimate(tmp_path):
    """The polyserial correlation of the 0-100 rating and a five-point item maximises the
    likelihood of the item given the rating (checked by a direct search)."""
    data = _export(_survey(), tmp_path).dropna(subset=["overall", "nps"] + FIVE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        fit = CFA(MODEL, ordered=FIVE).fit(data)
    y = data["overall"].to_numpy(float)
    z = (y - y.mean()) / y.std()
    cat = data["sat_1"].to_numpy(int)
    t = fit.sample_th_[[f"sat_1|t{k}" for k in range(1, 5)]].to_numpy()
    up = np.concatenate([t, [np.inf]])[cat - 1]
    lo = np.concatenate([[-np.inf], t])[cat - 1]

    def negll(rho):
        r = math.sqrt(1 - rho**2)
        return -float(np.sum(np.log(stats.norm.cdf((up - rho * z) / r) - stats.norm.cdf((lo - rho * z) / r))))

    best = optimize.minimize_scalar(negll, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-12}).x
    got = fit.sample_cov_.loc["sat_1", "overall"] / y.std()
    assert got == pytest.approx(best, abs=1e-8)


def test_rating_with_decimal_commas_is_a_named_error(tmp_path):
    df = _survey()
    df["overall"] = df["overall"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}".replace(".", ","))
    data = _export(df, tmp_path, name="export_de.csv")
    assert not pd.api.types.is_numeric_dtype(data["overall"])  # "72,5" stays text
    with pytest.warns(MissingDataWarning), \
            pytest.raises(DataValidationError, match=r"continuous item\(s\) \['overall'\] are not numeric"):
        CFA(MODEL, ordered=FIVE).fit(data)


def test_two_valued_or_constant_continuous_items_are_named(tmp_path):
    df = _survey()
    df["nps"] = np.where(df["nps"] >= 9, 1.0, 0.0)  # "promoter" exported as 0/1 instead of the score
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        with pytest.raises(SpecificationError, match=r"nps \(0, 1\) have two distinct values.*ordered="):
            CFA(MODEL, ordered=FIVE).fit(_export(df, tmp_path))
        df["nps"] = 10.0
        with pytest.raises(ConstantItemError, match=r"'nps' has the same answer 10"):
            CFA(MODEL, ordered=FIVE).fit(_export(df, tmp_path))


def test_two_survey_waves_and_what_is_not_supported(tmp_path):
    df = _survey()
    df["wave"] = np.where(np.arange(len(df)) % 2 == 0, "spring", "autumn")
    data = _export(df, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        fit = CFA(MODEL, ordered=FIVE, group="wave", group_equal=("thresholds", "loadings", "intercepts")).fit(data)
        used = data.dropna(subset=["overall", "nps"] + FIVE)
        assert fit.group_labels_ == ["spring", "autumn"]
        p = fit.params_
        for gi, wave in enumerate(fit.group_labels_, start=1):
            sub = used[used["wave"] == wave]
            assert fit.sample_mean_[wave]["overall"] == pytest.approx(sub["overall"].mean(), rel=1e-12)
            assert fit.sample_cov_[wave].loc["nps", "nps"] == pytest.approx(sub["nps"].var(ddof=0), rel=1e-12)
            # the continuous items' intercepts are equal across waves (group_equal "intercepts"), the
            # latent means free in the second wave, the five-point items' scale factors too
            nu = p[(p["lhs"] == "overall") & (p["op"] == "~1") & (p["group"] == gi)]
            assert len(nu) == 1 and nu["free"].iloc[0] > 0
        ints = p[(p["lhs"] == "nps") & (p["op"] == "~1")]
        assert ints["free"].nunique() == 1 and ints["est"].nunique() == 1
        assert (p[(p["op"] == "~1") & (p["lhs"] == "SAT")]["free"] > 0).tolist() == [False, True]
        assert (p[(p["op"] == "~*~") & (p["group"] == 2)]["free"] > 0).all()
        assert not (p["op"] == "~*~").groupby(p["lhs"]).any().get("overall", False)
        # a category empty in one wave is named, as for ordered items alone
        df2 = df.copy()
        df2.loc[(df2["wave"] == "autumn") & (df2["loy_1"] == 1), "loy_1"] = 2
        with pytest.raises(DataValidationError, match=r"group 'autumn'.*loy_1"):
            CFA(MODEL, ordered=FIVE, group="wave").fit(_export(df2, tmp_path, name="w2.csv"))
        # missing='pairwise': every row with an answer stays; a continuous item's mean and
        # variance come from its own answers
        pw = CFA(MODEL, ordered=FIVE, missing="pairwise").fit(data)
        assert pw.n_obs_ == {"all": len(data)} and pw.n_excluded_ == 0
        assert pw.sample_mean_["overall"] == pytest.approx(data["overall"].mean(), rel=1e-12)
        assert pw.sample_cov_.loc["overall", "overall"] == pytest.approx(data["overall"].var(ddof=0), rel=1e-12)
        assert pw.fit_measures_["df"] == 20 + 2 + 2 + 21 - pw.fit_measures_["npar"]
    from custval.validity import composite_reliability

    # both factors mix ordered and continuous items: semTools::compRelSEM gives NA for each, so no
    # factor has a value (factors of one kind: tests/test_cfa_ordinal_mixed_reliability.py)
    with pytest.raises(SpecificationError, match=r"every factor of this fit is: SAT \(ordered: sat_1, sat_2, "
                                                 r"sat_3; continuous: overall\); LOY \(ordered: loy_1, loy_2; "
                                                 r"continuous: nps\)"):
        composite_reliability(fit)
