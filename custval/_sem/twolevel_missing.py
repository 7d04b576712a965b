"""Two-level CFA with missing answers by full-information ML (private).

lavaan 0.6-14's ``cfa(model, data, cluster = ..., missing = "ml")``
(``lav_mvnorm_cluster_missing_loglik_samplestats_2l``): respondent ``i`` of
cluster ``j`` is ``y_ij = mu + b_j + w_ij`` with ``cov(w) = Sigma_W`` and
``cov(b) = Sigma_B`` (see :mod:`custval._sem.twolevel`); only the answered items
``o_i`` of each respondent enter.  The answered values ``r_j`` of cluster ``j``
(stacked, centred at ``mu``) are normal with covariance
``V_j = D_j + Z_j Sigma_B Z_j'``, ``D_j`` block diagonal with the blocks
``Sigma_W[o_i, o_i]`` and ``Z_j`` selecting the answered items.  With
``K_i = P_i' Sigma_W[o_i, o_i]^-1 P_i`` (p x p, zero outside ``o_i``),
``A_j = sum_i K_i``, ``b_j = sum_i K_i r_i`` and
``M_j = (Sigma_B^-1 + A_j)^-1`` (written ``Sigma_B - Sigma_B R_j H_j^-1 R_j' Sigma_B``
with ``A_j = R_j R_j'`` and ``H_j = I + R_j' Sigma_B R_j``, so that a singular
``Sigma_B`` is allowed)::

    -2 logl = n_answers log(2 pi) + sum_i log|Sigma_W[o_i, o_i]| + sum_j log|H_j|
              + sum_i r_i' K_i r_i - sum_j b_j' M_j b_j.

The gradient with respect to ``Sigma_W``, ``Sigma_B`` and ``mu`` is analytic
(``u_i = K_i (r_i - M_j b_j)`` is the respondent's part of ``V_j^-1 r_j``).
With complete data this is the likelihood of :func:`custval._sem.twolevel.loglik`.

The saturated (H1) model (free ``Sigma_W``, ``Sigma_B``, ``mu``) is maximised to a
gradient of 1e-9 per respondent.  lavaan 0.6-14 fits it as an unrestricted
Cholesky-parametrised model by nlminb with ``rel.tol = 1e-7``
(``lav_h1_implied_logl``), which stops a little short of the maximum, so lavaan's
chi-square is a little smaller than custval's (see :class:`custval.CFA`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning, SpecificationError
from .model import SemModel, start_values
from .twolevel import (
    LOG2PI,
    _fd_hessian,
    _maximise,
    _srmr,
    between_start,
    between_variance_check,
    build_twolevel_partable,
    check_clusters,
    cluster_data,
    level_variables,
)


@dataclass
class MissingClusterData:
    """Two-level data with missing answers: the rows, their patterns and clusters."""

    y0: np.ndarray  # N x p, missing answers as 0
    mask: np.ndarray  # N x p, True where answered
    codes: np.ndarray  # cluster index of each row (0..J-1)
    labels: list  # cluster ids
    pat: np.ndarray  # pattern index of each row
    patterns: np.ndarray  # npat x p boolean
    counts: np.ndarray  # J x npat: rows of each pattern per cluster
    members: np.ndarray  # J x N indicator of the rows of each cluster
    n: int
    nclusters: int
    p: int
    n_answers: int
    w_idx: np.ndarray
    b_idx: np.ndarray
    groups: list | None = None  # cache of _pattern_groups


def missing_cluster_data(y: np.ndarray, ids: np.ndarray, within_only=()) -> MissingClusterData:
    """The data of a missing-data two-level fit; rows of ``y`` (NaN = missing) have an answer."""
    codes, labels = pd.factorize(pd.Series(ids), sort=False)
    n, p = y.shape
    mask = ~np.isnan(y)
    patterns, pat = np.unique(mask, axis=0, return_inverse=True)
    pat = pat.ravel()
    nclus = len(labels)
    counts = np.zeros((nclus, len(patterns)))
    np.add.at(counts, (codes, pat), 1.0)
    members = np.zeros((nclus, n))
    members[codes, np.arange(n)] = 1.0
    w_idx = np.arange(p)
    b_idx = np.array([j for j in range(p) if j not in set(within_only)], dtype=int)
    return MissingClusterData(np.where(mask, y, 0.0), mask, codes, list(labels), pat, patterns, counts,
                              members, n, nclus, p, int(mask.sum()), w_idx, b_idx)


def _pattern_groups(md: MissingClusterData) -> list[tuple[np.ndarray, np.ndarray]]:
    """The response patterns grouped by their number of answered items: (pattern indices,
    their answered items as a (patterns x answered) index array)."""
    if md.groups is None:
        nobs = md.patterns.sum(axis=1)
        md.groups = []
        for k in np.unique(nobs):
            ks = np.flatnonzero(nobs == k)
            md.groups.append((ks, np.array([np.flatnonzero(md.patterns[i]) for i in ks], dtype=int)))
    return md.groups


def loglik_missing(md: MissingClusterData, sw: np.ndarray, sb: np.ndarray, mu: np.ndarray, grad: bool = False):
    """Two-level log-likelihood of the answered values (and its gradient w.r.t. ``Sigma_W``,
    ``Sigma_B``, ``mu``, entries of the symmetric matrices treated as distinct, as
    :func:`custval._sem.twolevel.loglik`).  ``-inf`` (no gradient) when a covariance
    matrix of the answered values is not positive definite."""
    fail = (-np.inf, None) if grad else -np.inf
    if not (np.isfinite(sw).all() and np.isfinite(sb).all() and np.isfinite(mu).all()):
        return fail
    p = md.p
    npat = len(md.patterns)
    kmat = np.zeros((npat, p, p))
    logdet_w = 0.0
    freq = md.counts.sum(axis=0)
    for ks, obs in _pattern_groups(md):  # the patterns with the same number of answers at once
        try:
            c = np.linalg.cholesky(sw[obs[:, :, None], obs[:, None, :]])
        except np.linalg.LinAlgError:
            return fail
        ci = np.linalg.inv(c)
        kmat[ks[:, None, None], obs[:, :, None], obs[:, None, :]] = np.swapaxes(ci, 1, 2) @ ci
        logdet_w += float(freq[ks] @ (2.0 * np.log(np.diagonal(c, axis1=1, axis2=2)).sum(axis=1)))
    a = np.tensordot(md.counts, kmat, axes=1)  # J x p x p
    r = np.where(md.mask, md.y0 - mu, 0.0)
    kst = kmat[md.pat]
    kr = np.einsum("nij,nj->ni", kst, r)
    quad = float(np.sum(r * kr))
    b = md.members @ kr  # J x p
    # A_j = R_j R_j' (eigen square root; A_j is only semi-definite when an item is never answered in j)
    ev, q = np.linalg.eigh(a)
    rr = q * np.sqrt(np.clip(ev, 0.0, None))[:, None, :]
    h = np.eye(p)[None] + np.swapaxes(rr, 1, 2) @ sb[None] @ rr
    try:
        ch = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return fail
    logdet_h = 2.0 * np.log(np.diagonal(ch, axis1=1, axis2=2)).sum()
    chi = np.linalg.inv(ch)
    hinv = np.swapaxes(chi, 1, 2) @ chi
    sbr = sb[None] @ rr  # J x p x p
    m = sb[None] - sbr @ hinv @ np.swapaxes(sbr, 1, 2)
    mb = np.einsum("jik,jk->ji", m, b)
    quad -= float(np.sum(b * mb))
    ll = -0.5 * (md.n_answers * LOG2PI + logdet_w + logdet_h + quad)
    if not grad:
        return ll
    t = r - mb[md.codes]
    u = np.einsum("nij,nj->ni", kst, t)
    s = md.members @ u  # J x p
    gmu = u.sum(axis=0)
    ama = a @ m @ a
    gb = -0.5 * (a.sum(axis=0) - ama.sum(axis=0) - s.T @ s)
    msum = np.tensordot(md.counts.T, m, axes=1)  # npat x p x p: sum_j c_jk M_j
    kmk = np.einsum("kij,kjl,klm->im", kmat, msum, kmat)
    ksum = np.tensordot(md.counts.sum(axis=0), kmat, axes=1)
    gw = -0.5 * (ksum - kmk - u.T @ u)
    return ll, (gw, gb, gmu)


class TwoLevelMissingProblem:
    """The two-level FIML problem of a :class:`SemModel` with two blocks (within, between)."""

    def __init__(self, model: SemModel, md: MissingClusterData):
        self.model, self.md = model, md

    def moments(self, x):
        (sw, mw), (sb, mb) = self.model.implied(x)
        return sw, sb, mw + mb

    def loglik(self, x) -> float:
        return loglik_missing(self.md, *self.moments(x))

    def gradient(self, x) -> np.ndarray:
        """Analytic gradient of the log-likelihood w.r.t. the free parameters."""
        ll, g = loglik_missing(self.md, *self.moments(x), grad=True)
        if g is None:
            return np.full(self.model.nx, np.nan)
        gw, gb, gmu = g
        (dsw, dmw), (dsb, dmb) = self.model.delta(x)
        return (np.tensordot(dsw, gw, axes=([1, 2], [0, 1])) + np.tensordot(dsb, gb, axes=([1, 2], [0, 1]))
                + (dmw + dmb) @ gmu)

    def hessian(self, x, h: float = 1e-6) -> np.ndarray:
        """Hessian of the log-likelihood: central differences of the analytic gradient."""
        return _fd_hessian(self.gradient, x, h)


def saturated_missing(md: MissingClusterData, sw0: np.ndarray, sb0: np.ndarray, mu0: np.ndarray,
                      diagonal: bool = False):
    """The unrestricted (H1) or independence (``diagonal=True``) two-level model with missing
    answers, from the starts ``sw0``, ``sb0``, ``mu0``; Cholesky factors (log diagonal) and
    ``mu``, maximised fully.  Returns ``(logl, Sigma_W, Sigma_B, mu, converged)``."""
    p = md.p
    bv = md.b_idx
    pb = len(bv)
    if diagonal:
        iw, ib = (np.arange(p), np.arange(p)), (np.arange(pb), np.arange(pb))
    else:
        iw, ib = np.tril_indices(p), np.tril_indices(pb)
    kw, kb = len(iw[0]), len(ib[0])
    dw, db = np.flatnonzero(iw[0] == iw[1]), np.flatnonzero(ib[0] == ib[1])

    def unpack(t):
        lw, lb = np.zeros((p, p)), np.zeros((pb, pb))
        a, b = t[:kw].copy(), t[kw:kw + kb].copy()
        a[dw], b[db] = np.exp(a[dw]), np.exp(b[db])
        lw[iw], lb[ib] = a, b
        return lw, lb, t[kw + kb:]

    def full(lw, lb):
        sb = np.zeros((p, p))
        sb[np.ix_(bv, bv)] = lb @ lb.T
        return lw @ lw.T, sb

    def f(t):
        lw, lb, mu = unpack(t)
        return loglik_missing(md, *full(lw, lb), mu)

    def g(t):
        lw, lb, mu = unpack(t)
        _, gr = loglik_missing(md, *full(lw, lb), mu, grad=True)
        if gr is None:
            return np.full(len(t), np.nan)
        gw, gb, gmu = gr
        gb = gb[np.ix_(bv, bv)]
        dlw = ((gw + gw.T) @ lw)[iw]
        dlb = ((gb + gb.T) @ lb)[ib]
        dlw[dw] *= lw[iw][dw]
        dlb[db] *= lb[ib][db]
        return np.concatenate([dlw, dlb, gmu])

    sw, sb = sw0, sb0[np.ix_(bv, bv)]
    if diagonal:
        sw, sb = np.diag(np.diag(sw)), np.diag(np.diag(sb))
    lw0, lb0 = np.linalg.cholesky(sw)[iw], np.linalg.cholesky(sb)[ib]
    lw0[dw], lb0[db] = np.log(lw0[dw]), np.log(lb0[db])
    t, conv, _ = _maximise(f, g, np.concatenate([lw0, lb0, mu0]), md.n)
    lw, lb, mu = unpack(t)
    return (f(t), *full(lw, lb), mu, conv)


def _filled(y: np.ndarray, codes: np.ndarray, nclus: int) -> np.ndarray:
    """Missing answers filled by the cluster's mean of the item (else the item's mean): for
    starting values and data checks only, never for the estimates."""
    mask = ~np.isnan(y)
    sums = np.zeros((nclus, y.shape[1]))
    cnt = np.zeros((nclus, y.shape[1]))
    np.add.at(sums, codes, np.where(mask, y, 0.0))
    np.add.at(cnt, codes, mask.astype(float))
    grand = np.nanmean(y, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cm = np.where(cnt > 0, sums / np.where(cnt > 0, cnt, 1), grand)
    return np.where(mask, y, cm[codes])


def fit_cfa_missing(syntax: str, items: pd.DataFrame, ids: pd.Series, *, cluster: str, std_lv: bool) -> dict:
    """Fit a two-level CFA with missing answers by FIML; the fitted attributes of
    :class:`custval.CFA` as a dict (as :func:`custval._sem.twolevel.fit_cfa`).

    ``items``: the model's items (rows with no answer at all already excluded; NaN = missing),
    ``ids``: the cluster of each row.
    """
    from scipy import stats

    from . import fit_measures as fm
    from .standardize import standardize

    pt, observed, latent = build_twolevel_partable(syntax, std_lv=std_lv)
    w_only, b_only = level_variables(pt, observed)
    if b_only:
        raise SpecificationError(
            f"between-only variable(s) {b_only} (named only in 'level: 2') are not supported with "
            "missing='fiml' in two-level models yet; use missing='listwise' or name them at both levels")
    y = items[observed].to_numpy(dtype=float)
    never = [v for v, seen in zip(observed, (~np.isnan(y)).any(axis=0)) if not seen]
    if never:
        raise SpecificationError(f"item(s) {never} have no answer in any row; they cannot be modelled")
    idv = ids.to_numpy()
    md = missing_cluster_data(y, idv, [observed.index(v) for v in w_only])
    # a complete-data stand-in (missing answers filled by cluster means) for the data checks and starts
    cd0 = cluster_data(_filled(y, md.codes, md.nclusters), idv, [observed.index(v) for v in w_only], [])
    check_clusters(cd0, cluster, observed)
    model = SemModel(pt, observed, latent, 2)
    p = md.p
    pb = len(md.b_idx)
    npar = model.nx
    n_h1 = p * (p + 1) // 2 + pb * (pb + 1) // 2 + p
    model.check_identification_counts(n_h1)
    latent_b = [f for f in latent if f in set(pt.loc[pt["level"] == 2, "lhs"])]
    between_variance_check(cd0, observed, latent_b, pt, cluster)
    sb0, mu0 = between_start(cd0)
    h1_logl, h1_sw, h1_sb, h1_mu, h1_conv = saturated_missing(md, cd0.s_pw, sb0, mu0)
    if not h1_conv:
        warnings.warn(
            "two-level CFA (missing='fiml'): the saturated (H1) model did not reach a gradient of 1e-9 "
            "per respondent; chisq and the fit indices may be inexact (a between covariance matrix "
            "near singular?)", ConvergenceWarning, stacklevel=4)
    only_w = np.setdiff1d(md.w_idx, md.b_idx)
    mw = np.zeros(p)
    mw[only_w] = h1_mu[only_w]
    x0 = start_values(model, [(h1_sw, mw), (h1_sb, h1_mu)], std_lv)
    problem = TwoLevelMissingProblem(model, md)
    x, converged, iters = _maximise(problem.loglik, problem.gradient, x0, md.n)
    if not np.isfinite(problem.loglik(x)) or not converged:
        # the simple starts of the complete-data fit
        x0b = start_values(model, [(cd0.s_pw, mw), (sb0, mu0)], std_lv)
        xb, cb, ib = _maximise(problem.loglik, problem.gradient, x0b, md.n)
        if np.isfinite(problem.loglik(xb)) and (cb or not np.isfinite(problem.loglik(x))
                                                or problem.loglik(xb) > problem.loglik(x)):
            x, converged, iters = xb, cb, iters + ib
    logl = problem.loglik(x)
    hess = problem.hessian(x)
    info = -hess / md.n
    try:
        vcov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        vcov = np.full_like(hess, np.nan)
    ev = np.linalg.eigvalsh(info)
    est = model.row_values(x)
    free = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    se[free > 0] = np.sqrt(np.clip(np.diag(vcov), 0, None))[free[free > 0] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((free > 0) & (se > 0), est / se, np.nan)
    crit = stats.norm.ppf(0.975)
    std_lv_col, std_all_col = standardize(model, x, est)
    params = pd.DataFrame({
        "lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "level": pt["level"],
        "group": 1, "label": pt["label"], "free": pt["free"], "est": est, "se": se, "z": z,
        "p_value": 2 * stats.norm.sf(np.abs(z)), "ci_low": est - crit * se, "ci_high": est + crit * se,
        "std_lv": std_lv_col, "std_all": std_all_col,
    })
    base_logl, *_ = saturated_missing(md, h1_sw, h1_sb, h1_mu, diagonal=True)
    df = n_h1 - npar
    chisq = 2 * (h1_logl - logl)
    base_df = n_h1 - (p + pb + p)
    base_chisq = 2 * (h1_logl - base_logl)
    n = md.n
    (sw, mw_), (sb, mb_) = model.implied(x)
    bv = md.b_idx
    srmr_w = _srmr(h1_sw, sw)
    srmr_b = _srmr(h1_sb[np.ix_(bv, bv)], sb[np.ix_(bv, bv)])
    lo, hi = fm.rmsea_ci(chisq, df, n)
    out = {
        "npar": npar, "fmin": np.nan, "chisq": chisq, "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline.chisq": base_chisq, "baseline.df": base_df,
        "baseline.pvalue": float(stats.chi2.sf(base_chisq, base_df)),
        "cfi": fm.cfi(chisq, df, base_chisq, base_df), "tli": fm.tli(chisq, df, base_chisq, base_df),
        "logl": logl, "unrestricted.logl": h1_logl,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(n), "ntotal": n,
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": fm.rmsea(chisq, df, n), "rmsea.ci.lower": lo, "rmsea.ci.upper": hi, "rmsea.ci.level": 0.9,
        "rmsea.pvalue": fm.rmsea_pvalue(chisq, df, n), "rmsea.close.h0": 0.05,
        "rmsea.notclose.pvalue": fm.rmsea_notclose_pvalue(chisq, df, n), "rmsea.notclose.h0": 0.08,
        "srmr": srmr_w + srmr_b, "srmr_within": srmr_w, "srmr_between": srmr_b,
    }
    out.update({"nnfi": out["tli"], "rfi": fm.rfi(chisq, df, base_chisq, base_df),
                "nfi": fm.nfi(chisq, df, base_chisq, base_df), "pnfi": fm.pnfi(chisq, df, base_chisq, base_df),
                "ifi": fm.ifi(chisq, df, base_chisq, base_df), "rni": fm.rni(chisq, df, base_chisq, base_df)})
    names = observed
    bn = [names[j] for j in bv]
    mats = model.matrices(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2w = 1 - np.diag(mats[0].theta) / np.diag(sw)
        r2b = np.where(np.isin(np.arange(p), bv), 1 - np.diag(mats[1].theta) / np.diag(sb), np.nan)
    vb, vw = np.diag(h1_sb), np.diag(h1_sw)
    return {
        "params_": params,
        "fit_measures_": pd.Series(out, dtype=float),
        "x_": model.full(x), "vcov_": vcov, "information_": info,
        "converged_": bool(converged), "n_iter_": iters,
        "implied_cov_": {"within": pd.DataFrame(sw, index=names, columns=names),
                         "between": pd.DataFrame(sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "implied_mean_": pd.Series(mw_ + mb_, index=names),
        "sample_cov_": {"within": pd.DataFrame(h1_sw, index=names, columns=names),
                        "between": pd.DataFrame(h1_sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "sample_mean_": pd.Series(h1_mu, index=names),
        "icc_": pd.Series(vb / (vb + vw), index=names, name="icc"),
        "r2_": pd.DataFrame({"within": r2w, "between": r2b}, index=names),
        "n_obs_": {"all": n}, "n_clusters_": {"all": md.nclusters},
        "_twolevel": {"model": model, "problem": problem, "cd": cd0, "md": md, "pt": pt,
                      "h1_converged": h1_conv, "min_information_eigenvalue": float(ev.min())},
    }
