"""Fit measures with lavaan's formulas (private).

Each function follows the lavaan 0.6 function named in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

_EPS = np.finfo(float).eps


def r_uniroot(f, lower: float, upper: float, tol: float = _EPS**0.25, maxiter: int = 1000) -> float:
    """R's ``uniroot()`` (Brent's ``R_zeroin2``), ported step for step.

    lavaan computes the RMSEA confidence limits with ``uniroot`` at its default
    tolerance (``.Machine$double.eps^0.25``); the limits are only as precise as
    that, so the same algorithm is used here to report the same numbers.
    """
    a, b = lower, upper
    fa, fb = f(a), f(b)
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _pchisq(x, df, ncp):
    """``pchisq(x, df, ncp)`` for ``x >= 0``, ``df > 0``, ``ncp >= 0``.

    The special functions behind ``stats.chi2.cdf`` and ``stats.ncx2.cdf``, called
    directly: the distribution objects' argument handling costs ~0.2 ms a call and
    the RMSEA limits call this some 50 times per fit (tests/test_cfa.py checks that
    the values are the distributions').
    """
    if np.isnan(x) or np.isnan(df) or np.isnan(ncp) or not df > 0 or ncp < 0:
        return np.nan
    if not x > 0:  # the support starts at 0 (a chi-square of -1e-13 from rounding: 0)
        return 0.0
    if ncp == 0:
        return special.chdtr(df, x)
    return special.chndtr(x, df, ncp)


def _chi2_sf(x, df) -> float:
    """``stats.chi2.sf(x, df)`` through its special function (``chdtrc``) without the
    distribution object's argument handling (~0.1 ms a call); the same values."""
    if np.isnan(x) or np.isnan(df) or not df > 0:
        return np.nan
    if np.isinf(df):
        return float(stats.chi2.sf(x, df))
    if x < 0:  # below the support
        return 1.0
    return float(special.chdtrc(df, x))


def _chi2_ppf(q, df) -> float:
    """``stats.chi2.ppf(q, df)`` for ``0 < q < 1`` as scipy computes it (``2 gammaincinv(df/2, q)``)."""
    if np.isnan(df) or not df > 0 or np.isinf(df):
        return float(stats.chi2.ppf(q, df))
    return float(2 * special.gammaincinv(df / 2, q))


def _near0(t) -> bool:
    """``np.isclose(t, 0, rtol=0, atol=1.5e-8)`` (lavaan's ``isTRUE(all.equal(t, 0))`` tolerance)."""
    return bool(abs(t) <= 1.5e-8)


def cfi(x2, df, x2_null, df_null, c_hat=1.0, c_hat_null=1.0) -> float:
    """``lavaan:::lav_fit_cfi`` (robust version when both c.hat differ from 1)."""
    if np.any(np.isnan([x2, df, x2_null, df_null, c_hat, c_hat_null])):
        return np.nan
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        t1 = max(x2 - c_hat * df, 0.0)
        t2 = max(x2 - c_hat * df, x2_null - c_hat_null * df_null, 0.0)
    else:
        t1 = max(x2 - df, 0.0)
        t2 = max(x2 - df, x2_null - df_null, 0.0)
    if _near0(t1) and _near0(t2):
        return 1.0
    return 1.0 - t1 / t2


def tli(x2, df, x2_null, df_null, c_hat=1.0, c_hat_null=1.0) -> float:
    """``lavaan:::lav_fit_tli``."""
    if np.any(np.isnan([x2, df, x2_null, df_null, c_hat, c_hat_null])):
        return np.nan
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        t1 = (x2 - c_hat * df) * df_null
        t2 = (x2_null - c_hat_null * df_null) * df
    else:
        t1 = (x2 - df) * df_null
        t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def _nan(*values) -> bool:
    return bool(np.any(np.isnan(np.asarray(values, dtype=float))))


def nfi(x2, df, x2_null, df_null) -> float:
    """``lavaan:::lav_fit_nfi``: (X2_0 - X2) / X2_0 (Bentler & Bonett, 1980)."""
    if _nan(x2, df, x2_null, df_null):
        return np.nan
    if df > df_null or _near0(x2_null):
        return np.nan
    return float((x2_null - x2) / x2_null) if df > 0 else 1.0


def pnfi(x2, df, x2_null, df_null) -> float:
    """``lavaan:::lav_fit_pnfi``: (df / df_0) NFI (James, Mulaik & Brett, 1982)."""
    if _nan(x2, df, x2_null, df_null):
        return np.nan
    if df_null > 0 and x2_null > 0:
        return float(df / df_null * (x2_null - x2) / x2_null)
    return np.nan


def rfi(x2, df, x2_null, df_null) -> float:
    """``lavaan:::lav_fit_rfi``: (X2_0/df_0 - X2/df) / (X2_0/df_0) (Bollen, 1986)."""
    if _nan(x2, df, x2_null, df_null):
        return np.nan
    if df > df_null:
        return np.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (np.isfinite(t1) and np.isfinite(t2)):
            return np.nan
        return 1.0 if (t1 < 0 or t2 < 0) else float(t1 / t2)
    return 1.0


def ifi(x2, df, x2_null, df_null) -> float:
    """``lavaan:::lav_fit_ifi``: (X2_0 - X2) / (X2_0 - df) (Bollen, 1989)."""
    if _nan(x2, df, x2_null, df_null):
        return np.nan
    t1, t2 = x2_null - x2, x2_null - df
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    if t2 < 0:
        return 1.0
    if _near0(t2):
        return np.nan
    return float(t1 / t2)


def rni(x2, df, x2_null, df_null, c_hat=1.0, c_hat_null=1.0) -> float:
    """``lavaan:::lav_fit_rni``: 1 - (X2 - df) / (X2_0 - df_0) (McDonald & Marsh, 1990);
    robust version with ``c.hat`` as :func:`cfi`."""
    if _nan(x2, df, x2_null, df_null, c_hat, c_hat_null):
        return np.nan
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        t1, t2 = x2 - c_hat * df, x2_null - c_hat_null * df_null
    else:
        t1, t2 = x2 - df, x2_null - df_null
    if _near0(t2) or not (np.isfinite(t1) and np.isfinite(t2)):
        return np.nan
    return float(1 - t1 / t2)


def hoelter_cn(x2, df, n, alpha) -> float:
    """``lavaan:::lav_fit_cn``: Hoelter's critical N, qchisq(1 - alpha, df) / (X2 / N) + 1."""
    if df == 0 and x2 < _EPS:
        return np.nan
    with np.errstate(divide="ignore"):
        return float(_chi2_ppf(1 - alpha, df) / (x2 / n) + 1)


def gfi_group(s, m, sigma, mu, means: bool, patterns=None, xi=None) -> float:
    """``lavaan:::lav_fit_gfi`` for one group (ML): ``1 - e' W e / s' W s``.

    ``s`` = (ybar, vech S), ``e`` = s minus the implied moments, ``W`` the
    expected h1 information at the implied moments (lavaan's default
    ``h1.information = "structured"``): ``e' W e = tr((Sigma^-1 (S - Sigma))^2) / 2
    + d' Sigma^-1 d`` (Jöreskog & Sörbom, 1984; Tanaka & Huba, 1985).  Under
    FIML ``S``, ``ybar`` are the EM (h1) moments and ``W`` is the expected
    information of the missing-data patterns (``(obs, n_p)``; each term uses
    the observed block, weighted by ``n_p / n``), as
    ``lavaan:::lav_mvnorm_missing_information_expected``, and the observed
    moments are lavaan's ``WLS.obs`` (available-case means and pairwise
    covariances).  ``xi``: the fixed.x covariates, whose moments lavaan's
    ``WLS.V`` leaves out (their rows and columns are zero).
    """
    if xi is not None and len(xi):
        s_w, m_w = s.copy(), m.copy()
        s_w[np.ix_(xi, xi)] = 0.0
        m_w[xi] = 0.0
    else:
        s_w, m_w = s, m
    if patterns is None:
        patterns = [(np.arange(len(m)), 1.0)]
    total = sum(w for _, w in patterns)
    t1 = t2 = 0.0
    for obs, w in patterns:
        ix = np.ix_(obs, obs)
        si = np.linalg.inv(sigma[ix])
        es = si @ (s - sigma)[ix]
        os_ = si @ s_w[ix]
        a1 = 0.5 * np.sum(es * es.T)
        a2 = 0.5 * np.sum(os_ * os_.T)
        if means:
            d = (m - mu)[obs]
            a1 += d @ si @ d
            a2 += m_w[obs] @ si @ m_w[obs]
        t1 += w / total * a1
        t2 += w / total * a2
    return float(1 - t1 / t2)


def srmr_mplus_group(s, m, sigma, mu, means: bool) -> tuple[float, float]:
    """``lavaan:::lav_fit_srmr_mplus`` for one group: (srmr_mplus, srmr_mplus_nomean).

    Residual correlations (each matrix scaled by its own variances), the mean
    residuals ``ybar/sd(S) - mu/sd(Sigma)`` and the relative variance
    residuals ``(s_ii - sigma_ii) / s_ii`` (Muthén, 1998-2004, Mplus technical
    appendices).
    """
    p = s.shape[0]
    ds, dsig = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
    r = s / np.outer(ds, ds) - sigma / np.outer(dsig, dsig)
    off = np.sum(r[np.tril_indices(p, -1)] ** 2)
    var = np.sum(((np.diag(s) - np.diag(sigma)) / np.diag(s)) ** 2)
    e = p * (p + 1) / 2
    nomean = np.sqrt((off + var) / e)
    if not means:
        return float(nomean), float(nomean)
    rm = m / ds - mu / dsig
    return float(np.sqrt((off + np.sum(rm**2) + var) / (e + p))), float(nomean)


def rmsea(x2, df, n, g=1, c_hat=1.0) -> float:
    """``lavaan:::lav_fit_rmsea``: sqrt(max(X2/(N df) - c/N, 0)) * sqrt(G)."""
    if not df > 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * np.sqrt(g))


def rmsea_ci(x2, df, n, g=1, c_hat=1.0, level=0.9) -> tuple[float, float]:
    """``lavaan:::lav_fit_rmsea_ci`` (non-central chi-square limits via uniroot)."""
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(n)):
        return np.nan, np.nan
    upper_perc = 1 - (1 - level) / 2
    lower_perc = (1 - level) / 2

    def lower_lambda(lam):
        return _pchisq(x2, df, lam) - upper_perc

    def upper_lambda(lam):
        return _pchisq(x2, df, lam) - lower_perc

    if df < 1 or lower_lambda(0) < 0:
        lo = 0.0
    else:
        lam = r_uniroot(lower_lambda, 0.0, x2)
        lo = np.sqrt(c_hat * lam / (n * df)) * (np.sqrt(g) if g > 1 else 1.0)
    n_rmsea = max(n, x2 * 4)
    if df < 1 or upper_lambda(n_rmsea) > 0 or upper_lambda(0) < 0:
        hi = 0.0
    else:
        lam = r_uniroot(upper_lambda, 0.0, n_rmsea)
        hi = np.sqrt(c_hat * lam / (n * df)) * (np.sqrt(g) if g > 1 else 1.0)
    return float(lo), float(hi)


def rmsea_pvalue(x2, df, n, g=1, c_hat=1.0, h0=0.05) -> float:
    """``lavaan:::lav_fit_rmsea_closefit``: P(X2 > x2 | ncp = N df h0^2 / (c G))."""
    if not df > 0:
        return np.nan
    ncp = (n * df / c_hat * h0**2) / g
    return float(1.0 - _pchisq(x2, df, ncp))


def rmsea_notclose_pvalue(x2, df, n, g=1, c_hat=1.0, h0=0.08) -> float:
    """``lavaan:::lav_fit_rmsea_notclosefit``: P(X2 < x2 | ncp = N df h0^2 / (c G))."""
    if not df > 0:
        return np.nan
    ncp = (n * df / c_hat * h0**2) / g
    return float(_pchisq(x2, df, ncp))


def _rescale(mat: np.ndarray, diag: np.ndarray) -> np.ndarray:
    d = np.where(diag < _EPS, np.nan, diag)
    scale = np.outer(1 / np.sqrt(d), 1 / np.sqrt(d))
    scale = np.where(np.abs(mat) < 1e-5, 1.0, scale)
    return mat * scale


def _rescale_mean(vec: np.ndarray, diag: np.ndarray) -> np.ndarray:
    d = np.where(diag < _EPS, np.nan, diag)
    scale = np.where(np.abs(vec) < 1e-5, 1.0, 1 / np.sqrt(d))
    return vec * scale


def residuals(s, m, sigma, mu, kind: str):
    """``lavaan:::lav_residuals`` for one group: 'raw', 'cor.bentler' or 'cor.bollen'."""
    if kind == "raw":
        return s - sigma, (None if mu is None else m - mu)
    var_obs = np.diag(s)
    obs_c = _rescale(s, var_obs)
    obs_m = None if mu is None else _rescale_mean(m, var_obs)
    if kind == "cor.bentler":
        est_c = _rescale(sigma, var_obs)
        est_m = None if mu is None else _rescale_mean(mu, var_obs)
    else:
        est_c = _rescale(sigma, np.diag(sigma))
        est_m = None if mu is None else _rescale_mean(mu, var_obs)
    return obs_c - est_c, (None if mu is None else obs_m - est_m)


def rms_residual(s, m, sigma, mu, kind: str, meanstructure: bool) -> dict:
    """Per-group RMR/SRMR/CRMR as ``lavaan:::lav_residuals_summary`` (no SE)."""
    rc, rm = residuals(s, m, sigma, mu, kind)
    p = s.shape[0]
    iu = np.tril_indices(p)
    stats_cov = rc[iu]
    pstar = len(stats_cov) - (p if kind == "cor.bollen" else 0)
    cov = np.sqrt(np.sum(stats_cov**2) / pstar) if pstar > 0 else 0.0
    if meanstructure and rm is not None:
        allv = np.concatenate([rm, stats_cov])
        pstar_t = len(allv) - (p if kind == "cor.bollen" else 0)
        total = np.sqrt(np.sum(allv**2) / pstar_t)
    else:
        total = cov
    return {"cov": float(cov), "total": float(total)}


# --------------------------------------------------------------------------- all measures
def _linear_info_scores(gd, sigma, mu, ds, dm, means):
    """Observed information (summed over cases) and casewise scores for a model
    that is linear in its parameters (saturated or independence model).

    Several missing-data patterns of at most 40 variables: the information of all
    patterns at once (:func:`custval._sem.ml.batch_information`)."""
    from .ml import batch_information, pattern_batch
    from .robust import _pattern_terms

    k = ds.shape[0]
    p = sigma.shape[0]
    batch = pattern_batch(gd, p) if p <= 40 else None
    if batch is not None:
        hess = batch_information(batch, sigma, mu, batch.inverses(sigma), ds.reshape(k, p * p), dm, True, means)
    else:
        hess = np.zeros((k, k))
    rows = []
    for pt in gd.patterns:
        o = pt.obs
        po = len(o)
        si, center, d, aaa = _pattern_terms(pt, sigma, mu, means)
        dso = ds[:, o][:, :, o]
        if batch is None:
            hess += 0.5 * pt.n * np.einsum("kij,jl,mli->km", si @ dso, aaa, dso, optimize=True)
        z = (pt.y - center) @ si
        flat = dso.reshape(k, po * po)
        quad = (z[:, :, None] * z[:, None, :]).reshape(pt.n, po * po) @ flat.T
        tr = flat @ si.ravel()
        sc = 0.5 * (quad - tr[None, :])
        if means:
            dmo = dm[:, o]
            if batch is None:
                hess += pt.n * dmo @ si @ dmo.T
                cross = pt.n * dmo @ si @ np.einsum("kij,j->ki", dso, si @ d).T
                hess += cross + cross.T
            sc = sc + z @ dmo.T
        rows.append(sc)
    return hess, np.vstack(rows)


def _baseline(fit):
    """Independence model per group: logl, and its (E, B0) for the scaled test."""
    groups, means = fit._groups, fit._meanstructure
    p = len(fit.observed_)
    logl = 0.0
    parts = []
    for gd in groups:
        if gd.complete:
            var = np.diag(gd.sample_cov).copy()
            mean = gd.sample_mean.copy()
        else:
            y = gd.extra["y"]
            mean = np.nanmean(y, axis=0)
            var = np.nanmean((y - mean) ** 2, axis=0)
        sigma = np.diag(var)
        # fixed.x: lavaan's independence model keeps the covariates'
        # covariances (fixed at their sample values)
        xi = getattr(fit._model, "exo_ov", np.zeros(0, dtype=int))
        if len(xi):
            sigma[np.ix_(xi, xi)] = gd.sample_cov[np.ix_(xi, xi)]
        from .ml import loglik_group

        logl += loglik_group(gd, sigma, mean if means else None)
        parts.append((sigma, mean))
    return logl, parts, p


def _yb_trace_fixed_x(groups, h1_moments, means, b0_groups, e_inv, ntotal, xi):
    """``_robust.yb_trace`` with fixed.x covariates: as lavaan
    (``lav_test_yuan_bentler_mplus_trace``), the saturated model's information
    leaves out the covariates' own moments (their means and the x-x block of
    vech S)."""
    from .robust import _vech_index, h1_information

    trace_h1, trace_h0 = [], []
    for gd, (sig, mu), b0 in zip(groups, h1_moments, b0_groups):
        p = sig.shape[0]
        vidx = _vech_index(p)
        off = p if means else 0
        drop = {off + vidx[i, j] for i in xi for j in xi} | (set(int(i) for i in xi) if means else set())
        keep = np.array([k for k in range(off + p * (p + 1) // 2) if k not in drop])
        a1, b1 = h1_information(gd, sig, mu, means)
        a1, b1 = a1[np.ix_(keep, keep)], b1[np.ix_(keep, keep)]
        trace_h1.append(float(np.sum(b1 * np.linalg.inv(a1).T)))
        trace_h0.append(float(gd.n / ntotal * np.sum(b0 * e_inv.T)))
    return sum(trace_h1) - sum(trace_h0), trace_h1, trace_h0


@dataclass
class _Tests:
    """The test statistics the fit measures are computed from (one fitted model)."""

    ntotal: int
    ng: int
    p: int
    means: bool
    npar: int
    logl: float
    logl_h1: float
    chisq: float
    df: int
    n_moments: int
    chisq_b: float
    df_b: int
    base_parts: list
    robust: bool
    fiml: bool
    fc: dict | None = None  # FIML-corrected statistics (Savalei), with missing='fiml'
    # Yuan-Bentler scaling (MLR)
    trace: float = np.nan
    t_h1: list = field(default_factory=list)
    t_h0: list = field(default_factory=list)
    c: float = np.nan
    chisq_s: float = np.nan
    c_b: float = np.nan
    chisq_b_s: float = np.nan


def _test_statistics(fit, out: dict) -> _Tests:
    """Loglikelihoods, the chi-square test of the model and of the baseline model."""
    from .ml import loglik_group

    problem, model, groups = fit._problem, fit._model, fit._groups
    means = fit._meanstructure
    x = fit.x_
    ntotal = problem.ntotal
    ng = len(groups)
    p = len(fit.observed_)
    # lavaan's npar: equality constraints subtract their rank, active
    # inequality constraints do not
    npar = getattr(fit, "_npar", model.nx)
    logl = problem.loglik(x)
    h1 = []
    for gd in groups:
        if gd.complete:
            _, ld = np.linalg.slogdet(gd.sample_cov)
            h1.append(-0.5 * gd.n * (p * np.log(2 * np.pi) + ld + p))
        else:
            h1.append(loglik_group(gd, gd.sample_cov, gd.sample_mean))
    logl_h1 = float(sum(h1))
    chisq = 2 * (logl_h1 - logl)
    # fixed.x: the covariates' moments are not data (lavaan's ndat)
    px = len(getattr(model, "exo", ()))
    n_moments = ng * (p * (p + 1) // 2 + (p if means else 0) - px * (px + 1) // 2 - (px if means else 0))
    df = n_moments - npar
    out.update({"npar": npar, "fmin": chisq / (2 * ntotal), "chisq": chisq, "df": df,
                "pvalue": _chi2_sf(chisq, df) if df > 0 else np.nan})
    logl_b, base_parts, _ = _baseline(fit)
    chisq_b = 2 * (logl_h1 - logl_b)
    df_b = n_moments - ng * ((p - px) + ((p - px) if means else 0))
    out.update({"baseline.chisq": chisq_b, "baseline.df": df_b, "baseline.pvalue": _chi2_sf(chisq_b, df_b)})
    t = _Tests(ntotal=ntotal, ng=ng, p=p, means=means, npar=npar, logl=logl, logl_h1=logl_h1,
               chisq=chisq, df=df, n_moments=n_moments, chisq_b=chisq_b, df_b=df_b,
               base_parts=base_parts, robust=fit._estimator == "MLR", fiml=fit._missing == "fiml")
    if t.fiml:
        from .robust import fiml_corrected

        t.fc = fiml_corrected(fit, "V3" if t.robust else "V6")
    return t


def _scaled_statistics(fit, t: _Tests, out: dict) -> None:
    """MLR: the Yuan-Bentler scaled tests of the model and of the baseline model."""
    from .robust import cluster_scores, yb_trace

    model, groups, means, p, ng, ntotal = fit._model, fit._groups, t.means, t.p, t.ng, t.ntotal
    h1_moments = [(gd.sample_cov, gd.sample_mean) for gd in groups]
    if len(getattr(model, "exo", ())):
        trace, t_h1, t_h0 = _yb_trace_fixed_x(groups, h1_moments, means, fit._b0, fit._e_inv, ntotal,
                                              model.exo_ov)
    else:
        trace, t_h1, t_h0 = yb_trace(groups, h1_moments, means, fit._b0, fit._e_inv, ntotal)
    c = trace / t.df if t.df > 0 else np.nan
    # df 0 (just identified): lavaan reports the unscaled statistic (scaling factor NA)
    chisq_s = t.chisq / c if t.df > 0 else t.chisq
    # baseline (independence) model, Yuan-Bentler scaled the same way
    # (fixed.x: the covariates' moments are not parameters)
    ynox = [j for j in range(p) if j not in set(getattr(model, "exo_ov", np.zeros(0, dtype=int)).tolist())]
    py = len(ynox)
    nb = py + (py if means else 0)
    hess_b = np.zeros((ng * nb, ng * nb))
    b0_b = []
    for g, (gd, (sig_b, mu_b)) in enumerate(zip(groups, t.base_parts)):
        ds = np.zeros((nb, p, p))
        dm = np.zeros((nb, p))
        for k, j in enumerate(ynox):
            ds[k, j, j] = 1.0
            if means:
                dm[py + k, j] = 1.0
        hb, scb = _linear_info_scores(gd, sig_b, mu_b, ds, dm, means)
        sl = slice(g * nb, (g + 1) * nb)
        hess_b[sl, sl] = hb / ntotal
        full = np.zeros((gd.n, ng * nb))
        full[:, sl] = scb
        full = cluster_scores(full, gd)  # cluster-robust when the data have cluster ids
        b0_b.append(full.T @ full / gd.n)
    eb_inv = np.linalg.inv(hess_b)
    trace_b = sum(t_h1) - sum(gd.n / ntotal * np.sum(b * eb_inv.T) for gd, b in zip(groups, b0_b))
    c_b = trace_b / t.df_b
    chisq_b_s = t.chisq_b / c_b
    df, df_b = t.df, t.df_b
    out.update({
        "chisq.scaled": chisq_s, "df.scaled": df, "pvalue.scaled": _chi2_sf(chisq_s, df),
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": chisq_b_s, "baseline.df.scaled": df_b,
        "baseline.pvalue.scaled": _chi2_sf(chisq_b_s, df_b),
        "baseline.chisq.scaling.factor": c_b,
    })
    t.trace, t.t_h1, t.t_h0 = trace, t_h1, t_h0
    t.c, t.chisq_s, t.c_b, t.chisq_b_s = c, chisq_s, c_b, chisq_b_s


def _incremental_indices(t: _Tests, out: dict) -> None:
    """CFI, TLI (NNFI), RFI, NFI, PNFI, IFI, RNI; scaled and robust versions."""
    chisq, df, chisq_b, df_b = t.chisq, t.df, t.chisq_b, t.df_b
    robust, fiml, fc = t.robust, t.fiml, t.fc
    chisq_s, chisq_b_s, c, c_b = t.chisq_s, t.chisq_b_s, t.c, t.c_b
    out["cfi"] = cfi(chisq, df, chisq_b, df_b)
    out["tli"] = tli(chisq, df, chisq_b, df_b)
    if robust:
        out["cfi.scaled"] = cfi(chisq_s, df, chisq_b_s, df_b)
        out["tli.scaled"] = tli(chisq_s, df, chisq_b_s, df_b)
        if not fiml:
            out["cfi.robust"] = cfi(chisq, df, chisq_b, df_b, c, c_b)
            out["tli.robust"] = tli(chisq, df, chisq_b, df_b, c, c_b)
    if fiml:
        out["cfi.robust"] = cfi(fc["XX3"], df, fc["XX3.null"], df_b, fc["c.hat3"], fc["c.hat3.null"])
        out["tli.robust"] = tli(fc["XX3"], df, fc["XX3.null"], df_b, fc["c.hat3"], fc["c.hat3.null"])
    incremental = (("rfi", rfi), ("nfi", nfi), ("pnfi", pnfi), ("ifi", ifi), ("rni", rni))
    out["nnfi"] = out["tli"]
    for name, index in incremental:
        out[name] = index(chisq, df, chisq_b, df_b)
    if robust:
        out["nnfi.scaled"] = out["tli.scaled"]
        for name, index in incremental:
            out[f"{name}.scaled"] = index(chisq_s, df, chisq_b_s, df_b)
    if fiml:
        out["nnfi.robust"] = out["tli.robust"]
        out["rni.robust"] = rni(fc["XX3"], df, fc["XX3.null"], df_b, fc["c.hat3"], fc["c.hat3.null"])
    elif robust:
        out["nnfi.robust"] = out["tli.robust"]
        out["rni.robust"] = rni(chisq, df, chisq_b, df_b, c, c_b)


def _likelihood_criteria(fit, t: _Tests, out: dict) -> None:
    """Loglikelihoods (conditional on the covariates), AIC, BIC, sample-size adjusted BIC;
    the MLR scaling factors of h1 and h0."""
    model, groups, npar, ntotal = fit._model, fit._groups, t.npar, t.ntotal
    # fixed.x: lavaan's loglikelihoods are conditional on the covariates
    # (the joint minus the covariates' marginal, which the model reproduces)
    logl_x = 0.0
    xi = getattr(model, "exo_ov", np.zeros(0, dtype=int))
    if len(xi):
        for gd in groups:
            _, ldx = np.linalg.slogdet(gd.sample_cov[np.ix_(xi, xi)])
            logl_x += -0.5 * gd.n * (len(xi) * np.log(2 * np.pi) + ldx + len(xi))
    logl = t.logl - logl_x
    logl_h1 = t.logl_h1 - logl_x
    out["logl"] = logl
    out["unrestricted.logl"] = logl_h1
    out["aic"] = -2 * logl + 2 * npar
    out["bic"] = -2 * logl + npar * np.log(ntotal)
    out["ntotal"] = ntotal
    out["bic2"] = -2 * logl + npar * np.log((ntotal + 2) / 24)
    if t.robust:
        out["scaling.factor.h1"] = sum(t.t_h1) / t.n_moments
        # lavaan divides by the number of free rows (before equality constraints)
        out["scaling.factor.h0"] = sum(t.t_h0) / int((model.pt["free"] > 0).sum())


def _rmsea_measures(t: _Tests, out: dict) -> None:
    """RMSEA, its confidence interval and close-fit tests; scaled and robust versions."""
    chisq, df, ntotal, ng = t.chisq, t.df, t.ntotal, t.ng
    out["rmsea"] = rmsea(chisq, df, ntotal, ng)
    lo, hi = rmsea_ci(chisq, df, ntotal, ng)
    out.update({"rmsea.ci.lower": lo, "rmsea.ci.upper": hi, "rmsea.ci.level": 0.9,
                "rmsea.pvalue": rmsea_pvalue(chisq, df, ntotal, ng), "rmsea.close.h0": 0.05,
                "rmsea.notclose.pvalue": rmsea_notclose_pvalue(chisq, df, ntotal, ng), "rmsea.notclose.h0": 0.08})
    if t.robust and not df > 0:  # just identified: lavaan 0.6-14 reports NA for these
        out.update(dict.fromkeys(["rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
                                  "rmsea.pvalue.scaled", "rmsea.notclose.pvalue.scaled"], np.nan))
    elif t.robust:
        trace = t.trace
        out["rmsea.scaled"] = rmsea(chisq, trace, ntotal, ng)
        lo, hi = rmsea_ci(chisq, trace, ntotal, ng)
        out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = lo, hi
        out["rmsea.pvalue.scaled"] = rmsea_pvalue(chisq, trace, ntotal, ng)
        out["rmsea.notclose.pvalue.scaled"] = rmsea_notclose_pvalue(chisq, trace, ntotal, ng)
    if t.robust or t.fiml:
        if t.fiml:  # Savalei's FIML-corrected version, as lavaan
            fc = t.fc
            x3, df3, c3, x3s = fc["XX3"], fc["df3"], fc["c.hat3"], fc["XX3.scaled"]
        else:
            x3, df3, c3, x3s = chisq, df, t.c, t.chisq_s
        out["rmsea.robust"] = rmsea(x3, df3, ntotal, ng, c3)
        lo, hi = rmsea_ci(x3s, df3, ntotal, ng, c3)
        out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
        out["rmsea.pvalue.robust"] = rmsea_pvalue(x3s, df3, ntotal, ng, c3)
        out["rmsea.notclose.pvalue.robust"] = rmsea_notclose_pvalue(x3s, df3, ntotal, ng, c3)


def _residual_measures(fit, t: _Tests, out: dict) -> None:
    """RMR, SRMR (Bentler, Mplus), CRMR, with and without the means."""
    groups, means, ntotal = fit._groups, t.means, t.ntotal
    acc = {k: 0.0 for k in ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")}
    for gd, (sigma, mu) in zip(groups, fit._implied):
        w = gd.n / ntotal
        for kind, name in (("raw", "rmr"), ("cor.bentler", "srmr_bentler"), ("cor.bollen", "crmr")):
            r = rms_residual(gd.sample_cov, gd.sample_mean, sigma, mu if means else None, kind, means)
            acc[name] += w * r["total"]
            acc[name + "_nomean"] += w * r["cov"]
    out["rmr"], out["rmr_nomean"] = acc["rmr"], acc["rmr_nomean"]
    out["srmr"] = acc["srmr_bentler"]
    out.update(acc)
    mplus = [srmr_mplus_group(gd.sample_cov, gd.sample_mean, sigma, mu, means)
             for gd, (sigma, mu) in zip(groups, fit._implied)]
    weights = [gd.n / ntotal for gd in groups]
    out["srmr_mplus"] = sum(w * v[0] for w, v in zip(weights, mplus))
    out["srmr_mplus_nomean"] = sum(w * v[1] for w, v in zip(weights, mplus))


def _other_indices(fit, t: _Tests, out: dict) -> None:
    """Hoelter's CN, GFI, AGFI, PGFI, MFI, ECVI (lavaan:::lav_fit_measures, "fit.other")."""
    model, groups, means, ntotal = fit._model, fit._groups, t.means, t.ntotal
    chisq, df, p, ng = t.chisq, t.df, t.p, t.ng
    out["cn_05"] = hoelter_cn(chisq, df, ntotal, 0.05)
    out["cn_01"] = hoelter_cn(chisq, df, ntotal, 0.01)
    gfis = []
    for gd, (sigma, mu) in zip(groups, fit._implied):
        if gd.complete:
            gfis.append(gfi_group(gd.sample_cov, gd.sample_mean, sigma, mu, means,
                                  xi=getattr(model, "exo_ov", None)))
        else:
            # lavaan's WLS.obs under FIML: available-case means and pairwise
            # covariances (denominator n - 1, rescaled by (n - 1) / n), not
            # the EM estimates
            y = gd.extra["y"]
            s_pw = pd.DataFrame(y).cov().to_numpy() * (gd.n - 1) / gd.n
            gfis.append(gfi_group(s_pw, np.nanmean(y, axis=0), sigma, mu, means,
                                  [(pt.obs, pt.n) for pt in gd.patterns]))
    weights = [gd.n / ntotal for gd in groups]
    gfi = sum(w * v for w, v in zip(weights, gfis))
    nel = ng * (p * (p + 1) // 2 + (p if means else 0))
    out["gfi"] = gfi
    out["agfi"] = 1 - (nel / df) * (1 - gfi) if df > 0 else 1.0
    out["pgfi"] = (df / nel) * gfi
    out["mfi"] = float(np.exp(-0.5 * (chisq - df) / ntotal))
    out["ecvi"] = chisq / ntotal + 2 * t.npar / ntotal


def compute_fit_measures(fit) -> pd.Series:
    """All fit measures of a fitted :class:`custval.cfa.CFA` with lavaan's names.

    In lavaan's order: test statistics (model, baseline; scaled with MLR), incremental
    indices, loglikelihood and information criteria, RMSEA, residual-based measures, other
    indices.
    """
    out: dict[str, float] = {}
    t = _test_statistics(fit, out)
    if t.robust:
        _scaled_statistics(fit, t, out)
    _incremental_indices(t, out)
    _likelihood_criteria(fit, t, out)
    _rmsea_measures(t, out)
    _residual_measures(fit, t, out)
    _other_indices(fit, t, out)
    return pd.Series(out, dtype=float, name="fit_measures")


def standardized_residuals(fit, kind: str = "cor.bentler"):
    """z-statistics of residuals as ``lavaan::lavResiduals(fit)`` (ML, complete data).

    ``ACOV(res) = Q (A1u^-1 / n_g) Q'`` with ``Q = I - w_g Delta E^-1 Delta' A1``,
    ``A1u`` the saturated (unstructured) and ``A1`` the structured h1
    information, ``E`` the expected information (``lavaan:::lav_residuals_acov``,
    ``z.type = "standardized"``); for "cor.bentler" both sides are rescaled by
    the observed standard deviations.  Returns per group ``(cov_z, mean_z)``.
    """
    from .robust import _vech_delta, _vech_index

    model, groups = fit._model, fit._groups
    means = fit._meanstructure
    ntotal = sum(gd.n for gd in groups)
    p = len(fit.observed_)
    e_inv = np.linalg.inv(fit._e_info)
    out = []
    vidx = _vech_index(p)
    ii, jj = [], []
    for j in range(p):
        for i in range(j, p):
            ii.append(i)
            jj.append(j)
    ii, jj = np.array(ii), np.array(jj)
    dup = np.zeros((p * p, len(ii)))
    for a in range(p):
        for b in range(p):
            dup[a + b * p, vidx[a, b]] = 1.0

    def h1_info(sig):
        si = np.linalg.inv(sig)
        i22 = 0.5 * dup.T @ np.kron(si, si) @ dup
        if not means:
            return i22
        out_ = np.zeros((p + len(ii), p + len(ii)))
        out_[:p, :p] = si
        out_[p:, p:] = i22
        return out_

    # fixed.x: lavaan zeroes the covariates' own moments (their means, the
    # x-x block of vech S) in the h1 information and inverts the rest
    xi = set(getattr(model, "exo_ov", np.zeros(0, dtype=int)).tolist())
    off = p if means else 0
    keep = np.ones(off + len(ii), dtype=bool)
    if xi:
        for k in range(len(ii)):
            if ii[k] in xi and jj[k] in xi:
                keep[off + k] = False
        if means:
            keep[sorted(xi)] = False

    def masked(mat):
        out_ = np.zeros_like(mat)
        out_[np.ix_(keep, keep)] = mat[np.ix_(keep, keep)]
        return out_

    def masked_inv(mat):
        out_ = np.zeros_like(mat)
        out_[np.ix_(keep, keep)] = np.linalg.inv(mat[np.ix_(keep, keep)])
        return out_

    deltas = []
    for ds, dm in model.delta(fit.x_):
        delta = _vech_delta(ds, dm)
        deltas.append(delta if means else delta[p:])
    robust = fit._estimator == "MLR"
    if robust:
        # MLR (lavaan information = "observed"): A1 is the observed h1 information at the
        # model-implied moments, the model information is sum_g w_g Delta' A1 Delta
        # (observed.information = "h1"), and the sample statistics' ACOV is the sandwich
        # A1u^-1 B1u A1u^-1 / n_g of the unstructured h1 model (lavaan:::lav_model_h1_acov)
        from .robust import h1_information

        a1_groups = [masked(h1_information(gd, sigma, mu, means)[0])
                     for gd, (sigma, mu) in zip(groups, fit._implied)]
        e_h1 = sum(gd.n / ntotal * d.T @ a @ d for gd, d, a in zip(groups, deltas, a1_groups))
        e_inv = np.linalg.inv(e_h1)
    for g, (gd, delta, (sigma, mu)) in enumerate(zip(groups, deltas, fit._implied)):
        s, m = gd.sample_cov, gd.sample_mean
        if robust:
            a1u_inv = masked_inv(h1_info(s))
            b1u = masked(h1_information(gd, s, m, means)[1])
            acov_obs = a1u_inv @ b1u @ a1u_inv / gd.n
            a1 = a1_groups[g]
        else:
            acov_obs = masked_inv(h1_info(s)) / gd.n
            a1 = masked(h1_info(sigma))
        acov_est = gd.n / ntotal * delta @ e_inv @ delta.T
        q = np.eye(len(acov_est)) - acov_est @ a1
        acov = q @ acov_obs @ q.T
        sd = 1 / np.sqrt(np.diag(s))
        if kind == "cor.bentler":
            gg = np.concatenate([sd if means else [], sd[ii] * sd[jj]])
            acov = acov * np.outer(gg, gg)
        rc, rm = residuals(s, m, sigma, mu if means else None, kind)
        diag = np.diag(acov).copy()
        diag[~np.isfinite(diag) | (diag < 0)] = np.nan
        se = np.sqrt(diag)
        se_cov = np.zeros((p, p))
        se_cov[ii, jj] = se[-len(ii):]
        se_cov[jj, ii] = se[-len(ii):]
        # lavaan: residuals below 1e-4 in absolute value are divided by 1
        z = rc / np.where(np.abs(rc) < 1e-4, 1.0, se_cov)
        zm = None
        if means:
            zm = rm / np.where(np.abs(rm) < 1e-4, 1.0, se[:p])
        out.append((z, zm))
    return out
