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

from ._ml import GroupData, _inv_logdet


def _vech_index(p: int) -> np.ndarray:
    """(p x p) array: position of element (i, j) in vech (lower triangle, column-wise)."""
    idx = np.zeros((p, p), dtype=int)
    k = 0
    for j in range(p):
        for i in range(j, p):
            idx[i, j] = idx[j, i] = k
            k += 1
    return idx


def h1_information(gd: GroupData, sigma: np.ndarray, mu: np.ndarray, means: bool):
    """Observed information A1 and first-order information B1 (per case) of the saturated model."""
    p = sigma.shape[0]
    vidx = _vech_index(p)
    nv = p * (p + 1) // 2
    dim = (p if means else 0) + nv
    off = p if means else 0
    a1 = np.zeros((dim, dim))
    scores = []
    for pt in gd.patterns:
        o = pt.obs
        po = len(o)
        si, _ = _inv_logdet(sigma[np.ix_(o, o)])
        center = mu[o] if means else pt.mean
        d = pt.mean - center
        w = pt.cov + np.outer(d, d)
        aaa = si @ (2 * w - sigma[np.ix_(o, o)]) @ si
        kfull = 0.5 * pt.n * np.kron(si, aaa)  # full-vec (column-major) coordinates
        # reduce to local vech with the duplication matrix D: D' K D
        lv = _vech_index(po)
        nloc = po * (po + 1) // 2
        first = np.zeros(nloc, dtype=int)
        second = np.full(nloc, -1)
        for j in range(po):
            for i in range(j, po):
                k = lv[i, j]
                first[k] = i + j * po
                if i != j:
                    second[k] = j + i * po
        kd = kfull[:, first].copy()
        has2 = second >= 0
        kd[:, has2] += kfull[:, second[has2]]
        dkd = kd[first, :].copy()
        dkd[has2, :] += kd[second[has2], :]
        # local vech order: for j, for i>=j -> (i, j); build the matching global index
        gl = np.empty(nloc, dtype=int)
        for j in range(po):
            for i in range(j, po):
                gl[lv[i, j]] = vidx[o[i], o[j]]
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
    sc = np.vstack(scores)
    return a1 / gd.n, sc.T @ sc / gd.n


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


def first_order_groups(scores: list[np.ndarray]) -> list[np.ndarray]:
    """Per-group first-order information (per case) from casewise scores."""
    return [s.T @ s / s.shape[0] for s in scores]


def sandwich(e_inv: np.ndarray, b0_groups: list[np.ndarray], groups, ntotal: int) -> np.ndarray:
    b0 = sum(gd.n / ntotal * b for gd, b in zip(groups, b0_groups))
    return e_inv @ b0 @ e_inv / ntotal
