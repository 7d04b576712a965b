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

Between-only variables ``z`` (one value per cluster, e.g. firm size; observed part
``o`` of cluster ``j``, possibly empty): ``log f(z_j,o) + log f(r_j | z_j,o)``, the
conditional part being the formula above with ``Sigma_B`` of the level-1 items
replaced by ``S_yy - C S_zy[o]`` and ``mu`` by ``mu + C (z_j,o - mu_z,o)``,
``C = S_yz[:, o] S_zz[o, o]^-1`` (as lavaan's ``SIGMA.B.Z`` / ``GZ`` terms); the
gradient is chained through ``C`` analytically.

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
    between_start,
    between_variance_check,
    build_twolevel_partable,
    check_between_only,
    check_clusters,
    cluster_data,
    estimates_table,
    fit_measures_2l,
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
    z: np.ndarray | None = None  # J x p_Z: the between-only values of each cluster (NaN = missing)
    py: int | None = None  # the level-1 variables (the first py columns); p - py between-only ones

    def __post_init__(self):
        if self.py is None:
            self.py = self.p


def missing_cluster_data(y: np.ndarray, ids: np.ndarray, within_only=(), z: np.ndarray | None = None
                         ) -> MissingClusterData:
    """The data of a missing-data two-level fit; rows of ``y`` (the level-1 variables, NaN =
    missing) have an answer.  ``z``: the between-only values of each cluster (J x p_Z, in the
    order of first appearance of the cluster ids; NaN = missing), if any."""
    codes, labels = pd.factorize(pd.Series(ids), sort=False)
    n, p = y.shape
    pz = 0 if z is None else z.shape[1]
    mask = ~np.isnan(y)
    patterns, pat = np.unique(mask, axis=0, return_inverse=True)
    pat = pat.ravel()
    nclus = len(labels)
    counts = np.zeros((nclus, len(patterns)))
    np.add.at(counts, (codes, pat), 1.0)
    members = np.zeros((nclus, n))
    members[codes, np.arange(n)] = 1.0
    w_idx = np.arange(p)
    b_idx = np.array([j for j in range(p + pz) if j not in set(within_only)], dtype=int)
    n_answers = int(mask.sum()) + (0 if z is None else int((~np.isnan(z)).sum()))
    return MissingClusterData(np.where(mask, y, 0.0), mask, codes, list(labels), pat, patterns, counts,
                              members, n, nclus, p + pz, n_answers, w_idx, b_idx, None, z, p)


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
    matrix of the answered values is not positive definite.

    With between-only variables ``z`` (the last ``p - py`` variables, 0 rows in
    ``Sigma_W``) each cluster's answers are conditioned on its observed ``z_o``
    (lavaan's ``lav_mvnorm_cluster_missing_loglik_samplestats_2l``): ``z_o`` is
    normal with ``Sigma_B[o, o]`` and, given ``z_o``, the level-1 answers follow the
    model above with ``Sigma_B`` replaced by ``S_yy - C S_zy`` and ``mu`` shifted by
    ``C (z_o - mu_z)``, ``C = S_yz[:, o] S_zz[o, o]^-1``.
    """
    fail = (-np.inf, None) if grad else -np.inf
    if not (np.isfinite(sw).all() and np.isfinite(sb).all() and np.isfinite(mu).all()):
        return fail
    py = md.py
    if md.z is None:
        out = _loglik_y(md, sw, sb[None], mu, None, grad)
        if not grad or out[1] is None:
            return out
        ll, (gw, gbj, s, gmu) = out
        return ll, (gw, gbj.sum(axis=0), gmu)
    yi, zi = np.arange(py), np.arange(py, md.p)
    syy, syz, szz = sb[np.ix_(yi, yi)], sb[np.ix_(yi, zi)], sb[np.ix_(zi, zi)]
    zmask = ~np.isnan(md.z)
    zpats, zpat = np.unique(zmask, axis=0, return_inverse=True)
    zpat = zpat.ravel()
    nclus = md.nclusters
    sbj = np.empty((nclus, py, py))
    shift = np.zeros((nclus, py))
    ll_z = 0.0
    parts = []
    for k, zp in enumerate(zpats):
        js = np.flatnonzero(zpat == k)
        o = np.flatnonzero(zp)
        if len(o) == 0:
            sbj[js] = syy
            parts.append((js, o, None, None, None))
            continue
        so = szz[np.ix_(o, o)]
        try:
            c = np.linalg.cholesky(so)
        except np.linalg.LinAlgError:
            return fail
        ci = np.linalg.inv(c)
        soi = ci.T @ ci
        cm = syz[:, o] @ soi  # py x o
        sbj[js] = syy - cm @ syz[:, o].T
        d = md.z[np.ix_(js, o)] - mu[zi][o]
        e = d @ soi  # clusters x o
        shift[js] = e @ syz[:, o].T
        ll_z -= 0.5 * (len(js) * 2.0 * np.log(np.diag(c)).sum() + float(np.sum(d * e)))
        parts.append((js, o, soi, cm, e))
    out = _loglik_y(md, sw[np.ix_(yi, yi)], sbj, mu[yi], shift, grad)
    if not grad:
        return out + ll_z if np.isfinite(out) else fail
    ll, g = out
    if g is None:
        return fail
    gwy, gbj, s, gmuy = g
    gw = np.zeros((md.p, md.p))
    gw[np.ix_(yi, yi)] = gwy
    gyy = gbj.sum(axis=0)
    gyz = np.zeros((py, md.p - py))
    gzz = np.zeros((md.p - py, md.p - py))
    gmuz = np.zeros(md.p - py)
    for js, o, soi, cm, e in parts:
        if soi is None:
            continue
        gsum = gbj[js].sum(axis=0)
        gsym = 0.5 * (gsum + gsum.T)
        sj = s[js]  # clusters x py
        # S_B.z = S_yy - S_yz S_zz^-1 S_zy and the shift S_yz S_zz^-1 (z - mu_z)
        gyz[:, o] += -2.0 * gsym @ cm + sj.T @ e
        cts = sj @ cm  # clusters x o: C' s_j
        gzz[np.ix_(o, o)] += cm.T @ gsym @ cm - cts.T @ e
        gmuz[o] += -cts.sum(axis=0)
        # the marginal density of z_o
        gzz[np.ix_(o, o)] += -0.5 * (len(js) * soi - e.T @ e)
        gmuz[o] += e.sum(axis=0)
    gb = np.zeros((md.p, md.p))
    gb[np.ix_(yi, yi)] = gyy
    gb[np.ix_(yi, zi)] = gyz
    gb[np.ix_(zi, zi)] = gzz
    return ll + ll_z, (gw, gb, np.concatenate([gmuy, gmuz]))


def _loglik_y(md: MissingClusterData, sw: np.ndarray, sb: np.ndarray, mu: np.ndarray, shift, grad: bool):
    """The level-1 answers' part: ``sb`` per cluster (J x p x p, or 1 x p x p for all) and the
    clusters' mean shifts ``shift`` (J x p or None); the gradient per cluster w.r.t. ``sb``
    (``J x p x p``) and the shifts (``J x p``)."""
    fail = (-np.inf, None) if grad else -np.inf
    p = md.py
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
    centre = mu if shift is None else mu + shift[md.codes]
    r = np.where(md.mask, md.y0 - centre, 0.0)
    kst = kmat[md.pat]
    kr = np.einsum("nij,nj->ni", kst, r)
    quad = float(np.sum(r * kr))
    b = md.members @ kr  # J x p
    # A_j = R_j R_j' (eigen square root; A_j is only semi-definite when an item is never answered in j)
    ev, q = np.linalg.eigh(a)
    rr = q * np.sqrt(np.clip(ev, 0.0, None))[:, None, :]
    h = np.eye(p)[None] + np.swapaxes(rr, 1, 2) @ sb @ rr
    try:
        ch = np.linalg.cholesky(h)
    except np.linalg.LinAlgError:
        return fail
    logdet_h = 2.0 * np.log(np.diagonal(ch, axis1=1, axis2=2)).sum()
    chi = np.linalg.inv(ch)
    hinv = np.swapaxes(chi, 1, 2) @ chi
    sbr = sb @ rr  # J x p x p
    m = sb - sbr @ hinv @ np.swapaxes(sbr, 1, 2)
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
    gbj = -0.5 * (a - ama - s[:, :, None] * s[:, None, :])
    msum = np.tensordot(md.counts.T, m, axes=1)  # npat x p x p: sum_j c_jk M_j
    kmk = np.einsum("kij,kjl,klm->im", kmat, msum, kmat)
    ksum = np.tensordot(md.counts.sum(axis=0), kmat, axes=1)
    gw = -0.5 * (ksum - kmk - u.T @ u)
    return ll, (gw, gbj, s, gmu)


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
    p, py = md.p, md.py
    bv = md.b_idx
    pb = len(bv)
    if diagonal:
        iw, ib = (np.arange(py), np.arange(py)), (np.arange(pb), np.arange(pb))
    else:
        iw, ib = np.tril_indices(py), np.tril_indices(pb)
    kw, kb = len(iw[0]), len(ib[0])
    dw, db = np.flatnonzero(iw[0] == iw[1]), np.flatnonzero(ib[0] == ib[1])

    def unpack(t):
        lw, lb = np.zeros((py, py)), np.zeros((pb, pb))
        a, b = t[:kw].copy(), t[kw:kw + kb].copy()
        a[dw], b[db] = np.exp(a[dw]), np.exp(b[db])
        lw[iw], lb[ib] = a, b
        return lw, lb, t[kw + kb:]

    def full(lw, lb):
        sw, sb = np.zeros((p, p)), np.zeros((p, p))
        sw[:py, :py] = lw @ lw.T
        sb[np.ix_(bv, bv)] = lb @ lb.T
        return sw, sb

    def f(t):
        lw, lb, mu = unpack(t)
        return loglik_missing(md, *full(lw, lb), mu)

    def g(t):
        lw, lb, mu = unpack(t)
        _, gr = loglik_missing(md, *full(lw, lb), mu, grad=True)
        if gr is None:
            return np.full(len(t), np.nan)
        gw, gb, gmu = gr
        gw, gb = gw[:py, :py], gb[np.ix_(bv, bv)]
        dlw = ((gw + gw.T) @ lw)[iw]
        dlb = ((gb + gb.T) @ lb)[ib]
        dlw[dw] *= lw[iw][dw]
        dlb[db] *= lb[ib][db]
        return np.concatenate([dlw, dlb, gmu])

    sw, sb = sw0[:py, :py], sb0[np.ix_(bv, bv)]
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


def fit_cfa_missing(syntax: str, items: pd.DataFrame, ids: pd.Series, *, cluster: str, std_lv: bool,
                     rows: np.ndarray | None = None) -> dict:
    """Fit a two-level CFA with missing answers by FIML; the fitted attributes of
    :class:`custval.CFA` as a dict (as :func:`custval._sem.twolevel.fit_cfa`).

    ``items``: the model's items (rows with no answer to any level-1 item already excluded;
    NaN = missing), ``ids``: the cluster of each row, ``rows``: their 0-based positions in
    the data (for messages).  A between-only variable takes one value per cluster: the
    value given in the cluster's rows (blank rows of a cluster that has it are not a
    second value; a cluster with it blank in every row has it missing).
    """
    pt, observed, latent = build_twolevel_partable(syntax, std_lv=std_lv)
    w_only, b_only = level_variables(pt, observed)
    # the level-1 variables first, then the between-only ones (the model's order)
    observed = [v for v in observed if v not in b_only] + list(b_only)
    y = items[observed].to_numpy(dtype=float)
    never = [v for v, seen in zip(observed, (~np.isnan(y)).any(axis=0)) if not seen]
    if never:
        raise SpecificationError(f"item(s) {never} have no answer in any row; they cannot be modelled")
    idv = ids.to_numpy()
    py = len(observed) - len(b_only)
    z = None
    if b_only:
        rows = np.arange(len(y)) if rows is None else np.asarray(rows)
        codes, labels = pd.factorize(pd.Series(idv), sort=False)
        z = np.full((len(labels), len(b_only)), np.nan)
        for k, v in enumerate(b_only):
            col = y[:, py + k]
            ok = ~np.isnan(col)
            check_between_only(y[ok], idv[ok], observed, [v], cluster, rows[ok])
            z[codes[ok], k] = col[ok]
    md = missing_cluster_data(y[:, :py], idv, [observed.index(v) for v in w_only], z)
    # a complete-data stand-in (missing answers filled by cluster means) for the data checks and starts
    cd0 = cluster_data(_filled(y, md.codes, md.nclusters), idv, [observed.index(v) for v in w_only],
                       [observed.index(v) for v in b_only])
    check_clusters(cd0, cluster, observed)
    model = SemModel(pt, observed, latent, 2)
    p = md.p
    pb = len(md.b_idx)
    npar = model.nx
    n_h1 = py * (py + 1) // 2 + pb * (pb + 1) // 2 + p
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
    logl, params, vcov, info, ev = estimates_table(model, pt, problem, x, md.n, iters, cluster)
    base_logl, *_ = saturated_missing(md, h1_sw, h1_sb, h1_mu, diagonal=True)
    n = md.n
    (sw, mw_), (sb, mb_) = model.implied(x)
    bv = md.b_idx
    wv = md.w_idx
    out = fit_measures_2l(logl=logl, h1_logl=h1_logl, base_logl=base_logl, npar=npar, n_h1=n_h1,
                          base_npar=py + pb + p, n=n, h1_sw=h1_sw, h1_sb=h1_sb, sw=sw, sb=sb, wv=wv, bv=bv)
    names = observed
    bn, wn = [names[j] for j in bv], [names[j] for j in wv]
    mats = model.matrices(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2w = np.where(np.isin(np.arange(p), wv), 1 - np.diag(mats[0].theta) / np.diag(sw), np.nan)
        r2b = np.where(np.isin(np.arange(p), bv), 1 - np.diag(mats[1].theta) / np.diag(sb), np.nan)
    vb, vw = np.diag(h1_sb), np.diag(h1_sw)
    return {
        "params_": params,
        "fit_measures_": pd.Series(out, dtype=float),
        "x_": model.full(x), "vcov_": vcov, "information_": info,
        "converged_": bool(converged), "n_iter_": iters,
        "implied_cov_": {"within": pd.DataFrame(sw[np.ix_(wv, wv)], index=wn, columns=wn),
                         "between": pd.DataFrame(sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "implied_mean_": pd.Series(mw_ + mb_, index=names),
        "sample_cov_": {"within": pd.DataFrame(h1_sw[np.ix_(wv, wv)], index=wn, columns=wn),
                        "between": pd.DataFrame(h1_sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "sample_mean_": pd.Series(h1_mu, index=names),
        "icc_": pd.Series((vb / (vb + vw))[wv], index=wn, name="icc"),
        "r2_": pd.DataFrame({"within": r2w, "between": r2b}, index=names),
        "n_obs_": {"all": n}, "n_clusters_": {"all": md.nclusters},
        "_twolevel": {"model": model, "problem": problem, "cd": cd0, "md": md, "pt": pt,
                      "h1_converged": h1_conv, "min_information_eigenvalue": float(ev.min())},
    }
