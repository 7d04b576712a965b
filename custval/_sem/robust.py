"""Robust (MLR) corrections: Huber-White sandwich and Yuan-Bentler scaled test (private).

lavaan's ``estimator = "MLR"`` uses ``se = "robust.huber.white"`` and
``test = "yuan.bentler.mplus"``::

    vcov  = E^-1 B0 E^-1 / N            (E: observed information, B0: first-order)
    c     = [sum_g tr(B1_g A1_g^-1) - sum_g (n_g/N) tr(B0_g E^-1)] / df
    T_YB  = T_ML / c

with ``A1``/``B1`` the observed/first-order information of the saturated
(h1) model at the sample moments (EM moments under FIML)
(``lavaan:::lav_test_yuan_bentler_mplus_trace``).  The traces do not depend
on the parametrisation, so the h1 information is built in (mu, vech Sigma)
coordinates.
"""

from __future__ import annotations

import numpy as np

from .ml import GroupData, PatternBatch, _inv_logdet, pattern_batch


def _vech_index(p: int) -> np.ndarray:
    """(p x p) array: position of element (i, j) in vech (lower triangle, column-wise)."""
    idx = np.zeros((p, p), dtype=int)
    jv, iv = np.triu_indices(p)  # for j, for i >= j: (i, j), the vech order
    k = np.arange(len(iv))
    idx[iv, jv] = k
    idx[jv, iv] = k
    return idx


def _pattern_terms(pt, sigma: np.ndarray, mu: np.ndarray, means: bool):
    """For the missing-data pattern ``pt``: the inverse of its observed block of ``sigma``, the
    centre (``mu`` or the pattern mean), the pattern mean minus the centre and
    ``S^-1 (2 W - Sigma) S^-1`` with ``W`` the pattern's moments about the centre."""
    o = pt.obs
    si, _ = _inv_logdet(sigma[np.ix_(o, o)])
    center = mu[o] if means else pt.mean
    d = pt.mean - center
    w = pt.cov + np.outer(d, d)
    aaa = si @ (2 * w - sigma[np.ix_(o, o)]) @ si
    return si, center, d, aaa


def h1_information(gd: GroupData, sigma: np.ndarray, mu: np.ndarray, means: bool, *, first_order: bool = True):
    """Observed information A1 and first-order information B1 (per case) of the saturated model.

    ``first_order=False`` skips B1 (returned as None): its casewise scores cost more than A1.
    With several missing-data patterns of at most 40 variables A1 is summed over the
    patterns at once (:func:`_h1_observed_batch`); otherwise pattern by pattern.  The
    result is kept with the group's data for the same moments (MLR with FIML asks for it
    twice: the scaled test and the FIML-corrected robust indices); copies are returned.
    """
    key = (sigma.tobytes(), None if mu is None else np.asarray(mu).tobytes(), bool(means))
    hit = gd.cache.get(("h1_information", key))
    if hit is not None and (hit[1] is not None or not first_order):
        return hit[0].copy(), (None if not first_order else hit[1].copy())
    a1, b1 = _h1_information(gd, sigma, mu, means, first_order)
    gd.cache[("h1_information", key)] = (a1, b1)
    return a1.copy(), (None if b1 is None else b1.copy())


def _h1_information(gd: GroupData, sigma: np.ndarray, mu: np.ndarray, means: bool, first_order: bool):
    """:func:`h1_information` itself."""
    p = sigma.shape[0]
    vidx = _vech_index(p)
    nv = p * (p + 1) // 2
    dim = (p if means else 0) + nv
    off = p if means else 0
    batch = pattern_batch(gd, p) if p <= 40 else None
    a1 = _h1_observed_batch(batch, sigma, mu, means) if batch is not None else np.zeros((dim, dim))
    scores = []
    for pt in gd.patterns:
        o = pt.obs
        po = len(o)
        if batch is not None:
            if not first_order:
                break
            si, _ = _inv_logdet(sigma[np.ix_(o, o)])
            center = mu[o] if means else pt.mean
        else:
            si, center, d, aaa = _pattern_terms(pt, sigma, mu, means)
            kfull = 0.5 * pt.n * np.kron(si, aaa)  # full-vec (column-major) coordinates
            # reduce to local vech with the duplication matrix D: D' K D.  Local vech order:
            # for j, for i >= j -> (i, j) (np.triu_indices lists (j, i) in that order); an
            # element's full-vec positions: first = (i, j), second = (j, i) below the diagonal
            jv, iv = np.triu_indices(po)
            has2 = iv != jv
            first = iv + jv * po
            second = np.where(has2, jv + iv * po, -1)
            kd = kfull[:, first].copy()
            kd[:, has2] += kfull[:, second[has2]]
            dkd = kd[first, :].copy()
            dkd[has2, :] += kd[second[has2], :]
            gl = vidx[o[iv], o[jv]]  # the matching global vech index
            a1[np.ix_(off + gl, off + gl)] += dkd
            if means:
                a1[np.ix_(o, o)] += pt.n * si
                u = si @ d
                # cross term d2/dmu_a dSigma_bc (full coordinates), reduced with D
                cross_full = 0.5 * pt.n * (np.einsum("ca,b->bca", si, u) + np.einsum("c,ab->bca", u, si))
                cf = _full_to_colmajor(cross_full)
                cd = cf[first, :].copy()
                cd[has2, :] += cf[second[has2], :]
                a1[np.ix_(off + gl, o)] += cd
                a1[np.ix_(o, off + gl)] += cd.T
            if not first_order:
                continue
        # casewise scores of log-likelihood
        r = pt.y - center
        z = r @ si
        sc = np.zeros((pt.n, dim))
        if means:
            sc[:, o] = z
        gfull = 0.5 * (z[:, :, None] * z[:, None, :] - si[None, :, :])
        ii, jj = np.tril_indices(po)
        mult = np.where(ii == jj, 1.0, 2.0)
        sc[:, off + vidx[o[ii], o[jj]]] = gfull[:, ii, jj] * mult
        scores.append(sc)
    if not first_order:
        return a1 / gd.n, None
    sc = cluster_scores(np.vstack(scores), gd)
    return a1 / gd.n, sc.T @ sc / gd.n


def _h1_observed_batch(batch: PatternBatch, sigma: np.ndarray, mu: np.ndarray, means: bool) -> np.ndarray:
    """The pattern sum of :func:`h1_information`'s A1 (not divided by n) for all patterns at once.

    With ``S`` = ``Sigma_oo^-1`` and ``A = S (2 W - Sigma) S`` embedded in the ``p``
    variables, the covariance block is ``D' K D`` with ``K[(a,b),(c,d)] = sum_k n_k/2
    S_k[b,d] A_k[a,c]`` (one ``(p^2 x P) (P x p^2)`` product) and ``D`` the duplication
    matrix; the mean block is ``sum_k n_k S_k`` and the cross block ``D'`` of
    ``sum_k n_k/2 (S_k[c,a] u_k[b] + u_k[c] S_k[a,b])``, ``u = S d``.
    """
    p = sigma.shape[0]
    nv = p * (p + 1) // 2
    off = p if means else 0
    npat = len(batch.n)
    si, _ = batch.inverses(sigma)
    d = batch.deviations(mu if means else None)
    aaa = si @ (2 * batch.moments(d) - sigma[None, :, :]) @ si
    half_n = 0.5 * batch.n
    k4 = ((si * half_n[:, None, None]).reshape(npat, p * p).T @ aaa.reshape(npat, p * p))
    k2 = k4.reshape(p, p, p, p).transpose(2, 0, 3, 1).reshape(p * p, p * p)  # [(a,b), (c,d)]
    jv, iv = np.triu_indices(p)  # the global vech order: for j, for i >= j -> (i, j)
    has2 = (iv != jv).astype(float)
    first, second = iv * p + jv, jv * p + iv
    kd = k2[:, first] + k2[:, second] * has2
    a1 = np.zeros((off + nv, off + nv))
    a1[off:, off:] = kd[first] + kd[second] * has2[:, None]
    if means:
        a1[:p, :p] = np.einsum("k,kij->ij", batch.n, si)
        u = np.einsum("kij,kj->ki", si, d)
        cr = (np.einsum("k,kca,kb->bca", half_n, si, u, optimize=True)
              + np.einsum("k,kc,kab->bca", half_n, u, si, optimize=True)).reshape(p * p, p)
        cd = cr[first] + cr[second] * has2[:, None]
        a1[off:, :p] = cd
        a1[:p, off:] = cd.T
    return a1


def cluster_scores(sc: np.ndarray, gd: GroupData) -> np.ndarray:
    """Casewise scores, or their sums within clusters times sqrt(C / (C - 1)).

    With ``gd.extra["cluster"]`` (one id per case, complete data, case order)
    the first-order information ``S'S / n`` becomes the cluster-robust one of
    ``lavaan:::lav_mvnorm_information_firstorder(cluster.idx = )``: scores are
    summed within each of the C clusters and scaled by sqrt(C / (C - 1)).
    """
    cluster = gd.extra.get("cluster")
    if cluster is None:
        return sc
    codes, inverse = np.unique(cluster, return_inverse=True)
    summed = np.zeros((len(codes), sc.shape[1]))
    np.add.at(summed, np.asarray(inverse).ravel(), sc)
    return summed * np.sqrt(len(codes) / (len(codes) - 1.0))


def _full_to_colmajor(arr: np.ndarray) -> np.ndarray:
    """(b, c, a) array -> matrix with rows vec index b + c*po (column-major), columns a."""
    po = arr.shape[0]
    return arr.transpose(1, 0, 2).reshape(po * po, arr.shape[2])


def yb_trace(groups, h1_moments, means, b0_groups, e_inv, ntotal):
    """trace(U Gamma) of the Mplus-variant Yuan-Bentler test, with the h1/h0 parts."""
    trace_h1 = []
    trace_h0 = []
    for gd, (sig, mu), b0 in zip(groups, h1_moments, b0_groups):
        a1, b1 = h1_information(gd, sig, mu, means)
        trace_h1.append(float(np.sum(b1 * np.linalg.inv(a1).T)))
        trace_h0.append(float(gd.n / ntotal * np.sum(b0 * e_inv.T)))
    return sum(trace_h1) - sum(trace_h0), trace_h1, trace_h0


def first_order_groups(scores: list[np.ndarray], groups: list[GroupData] | None = None) -> list[np.ndarray]:
    """Per-group first-order information (per case) from casewise scores (cluster-robust when
    the groups carry cluster ids, see :func:`cluster_scores`)."""
    if groups is None:
        return [s.T @ s / s.shape[0] for s in scores]
    out = []
    for s, gd in zip(scores, groups):
        c = cluster_scores(s, gd)
        out.append(c.T @ c / s.shape[0])
    return out


def sandwich(e_inv: np.ndarray, b0_groups: list[np.ndarray], groups, ntotal: int) -> np.ndarray:
    b0 = sum(gd.n / ntotal * b for gd, b in zip(groups, b0_groups))
    return e_inv @ b0 @ e_inv / ntotal


def _vech_delta(ds: np.ndarray, dm: np.ndarray) -> np.ndarray:
    """(mu, vech Sigma) x params Jacobian from full dSigma (k, p, p) and dmu (k, p)."""
    p = ds.shape[1]
    ii, jj = [], []
    for j in range(p):
        for i in range(j, p):
            ii.append(i)
            jj.append(j)
    return np.vstack([dm.T, ds[:, ii, jj].T])


def _f_ml(sigma, mu, s, m) -> float:
    p = s.shape[0]
    si = np.linalg.inv(sigma)
    d = m - mu
    return (np.linalg.slogdet(sigma)[1] + np.sum(si * s) - np.linalg.slogdet(s)[1] - p + d @ si @ d)


def fiml_corrected(fit, version: str) -> dict:
    """Robust (FIML-corrected) chi-square ingredients as ``lavaan:::lav_fit_fiml_corrected``.

    Savalei's FIML-C corrections behind lavaan's ``cfi.robust``, ``tli.robust``
    and ``rmsea.robust`` under ``missing = "ml"``: the model and independence
    chi-squares re-evaluated at the EM (h1) moments (``XX3``) and their scaling
    factors ``c.hat3`` ("V3" for MLR, "V6" for ML).
    """
    from .ml import GroupData, Pattern

    model, groups = fit._model, fit._groups
    ntotal = sum(gd.n for gd in groups)
    p = len(fit.observed_)
    x = fit.x_
    deltas = model.delta(x)
    implied = model.implied(x)
    wm, jm, wc, dl, fg = [], [], [], [], []
    xx3 = 0.0
    for gd, (ds, dm), (sig, mu) in zip(groups, deltas, implied):
        s_t, m_t = gd.sample_cov, gd.sample_mean
        # the first-order information (its casewise scores are the costly part) only enters "V3"
        a1, b1 = h1_information(gd, s_t, m_t, True, first_order=version == "V3")
        wm.append(a1)
        jm.append(b1)
        fake = GroupData(1, [Pattern(np.arange(p), 1, m_t, s_t, m_t[None, :])], True, s_t, m_t)
        wc.append(h1_information(fake, s_t, m_t, True, first_order=False)[0])
        dl.append(_vech_delta(ds, dm))
        fg.append(gd.n / ntotal)
        xx3 += gd.n * _f_ml(sig, mu, s_t, m_t)
    npar_moments = ng_dim = wm[0].shape[0]
    ng = len(groups)
    wm_all = np.zeros((ng * ng_dim, ng * ng_dim))
    wmi_all = np.zeros_like(wm_all)
    wc_all = np.zeros_like(wm_all)
    gamma_all = np.zeros_like(wm_all)
    for g in range(ng):
        sl = slice(g * npar_moments, (g + 1) * npar_moments)
        wmi = np.linalg.inv(wm[g])
        wm_all[sl, sl] = fg[g] * wm[g]
        wmi_all[sl, sl] = wmi / fg[g]
        wc_all[sl, sl] = fg[g] * wc[g]
        if jm[g] is not None:
            gamma_all[sl, sl] = wmi @ jm[g] @ wmi / fg[g]
    delta_all = np.vstack(dl)

    def k_fimlc(dmat):
        e = dmat.T @ wm_all @ dmat
        u = wm_all - wm_all @ dmat @ np.linalg.inv(e) @ dmat.T @ wm_all
        if version == "V3":
            return float(np.trace(u @ wmi_all @ wc_all @ wmi_all @ u @ gamma_all))
        return float(np.trace(wc_all @ wmi_all @ u @ wmi_all))

    means = True
    n_moments = ng * (p * (p + 1) // 2 + p)
    df3 = n_moments - model.nx
    # df 0 (just identified): R's kss / 0 is Inf in lavaan's lav_fit_fiml_corrected, which makes
    # the scaled statistic 0 and the robust indices a perfect fit
    c3 = k_fimlc(delta_all) / df3 if df3 > 0 else np.inf
    # independence model: FIML means and variances of the observed values
    nb = 2 * p
    db_all = np.zeros((ng * npar_moments, ng * nb))
    xx3_null = 0.0
    for g, gd in enumerate(groups):
        y = gd.extra["y"] if not gd.complete else gd.patterns[0].y
        mean_b = np.nanmean(y, axis=0)
        var_b = np.nanmean((y - mean_b) ** 2, axis=0)
        ds = np.zeros((nb, p, p))
        dm = np.zeros((nb, p))
        for j in range(p):
            dm[j, j] = 1.0
            ds[p + j, j, j] = 1.0
        db_all[g * npar_moments:(g + 1) * npar_moments, g * nb:(g + 1) * nb] = _vech_delta(ds, dm)
        xx3_null += gd.n * _f_ml(np.diag(var_b), mean_b, gd.sample_cov, gd.sample_mean)
    df3_null = n_moments - ng * nb
    c3_null = k_fimlc(db_all) / df3_null
    del means
    return {"XX3": xx3, "df3": df3, "c.hat3": c3, "XX3.scaled": xx3 / c3,
            "XX3.null": xx3_null, "df3.null": df3_null, "c.hat3.null": c3_null}
