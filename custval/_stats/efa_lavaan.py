"""lavaan 0.6-14's ``efa()`` (private): exact ML extraction, rotation with random starts, SEs, fit.

``lavaan::efa(data, nfactors)`` fits the unrotated ML factor model to the
covariance matrix (divisor N), rotates the loadings of the standardised items
(``rotation.args``: ``std.ov = TRUE``, ``row.weights = "none"``,
``algorithm = "gpa"``, ``gpa.tol = 1e-5``, ``max.iter = 10000``,
``rstarts = 30``, ``geomin.epsilon = .001``), reflects columns with a negative
sum, orders the factors by the mean index of the items loading at least .8 of
the column's largest absolute loading (``order.lv.by = "index"``), and computes
standard errors of the rotated solution from the expected information matrix
bordered by the rotation's stationarity conditions (``rotation.se = "bordered"``).

Differences on purpose:

* lavaan draws its 30 starting rotations with R's RNG and keeps the start with
  the lowest criterion value, stopped at ``gpa.tol``; here the starts are the
  identity and ``n_starts - 1`` Haar-random orthogonal matrices from
  ``numpy.random.default_rng(seed)`` (QR with a positive diagonal of R); the
  start with the lowest criterion value wins (values within ``1e-9`` relative
  count as tied and the earliest start wins), and its rotation is continued to
  a projected gradient of ``1e-7`` (100 times lavaan's ``gpa.tol``) so that the answer is the criterion's
  stationary point itself, not a point within lavaan's stopping tolerance of it.
  lavaan's own answers for different R seeds differ by up to about 3e-6
  (the golden file written by ``tests/r/efa_lavaan.R`` records it as ``seed_spread``).
* Unstandardised standard errors (``se``) are lavaan's bordered ones, lavaan's
  constraint function included: it standardises the rotated loadings with
  ``diag(Lambda Lambda' + Theta)``, without the factor correlations, so for an
  oblique rotation they differ slightly from the delta-method ones (about 1e-3
  on Holzinger-Swineford).  lavaan's standardised standard errors (``se.std``;
  the efa summary's "Standard errors standardized loadings") are instead the
  delta method through the rotation, with a forward-difference Jacobian of
  step .001 of re-rotated solutions stopped at ``gpa.tol = 1e-5``; here they
  are the bordered covariance matrix with the exact stationarity conditions
  (which is the delta method through the rotation) and the exact Jacobian of
  the standardisation.  Refitting lavaan with ``gpa.tol = 1e-7`` and a step
  of 1e-4 moves its values to within 5e-5 of custval's; its printed values
  (step .001) are within about 1e-3.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._sem import fit_measures as fm
from . import factor_extraction as fx
from . import rotation as rot

GPA_TOL = 1e-5
POLISH_TOL = 1e-7  # GPA's Armijo test cannot see improvements much below s**2 ~ 1e-14
TIE_RTOL = 1e-9


#: the ML solution counts as converged when its projected gradient (psi units) is at most this; the
#: polish aims at fx.KKT_TOL = 1e-8 but the objective's rounding can stop it near 2e-8
ML_TOL = 1e-6


def ml_exact(r: np.ndarray, nf: int):
    """Unrotated ML loadings of a correlation matrix at the ML optimum (projected gradient <= 1e-8 aimed,
    ``ML_TOL`` required)."""
    ex = fx.extract(r, nf, "ml")
    upper = max(fx.smc(r).max(), 1.0)

    def fg(psi):
        return fx._ml_fn(psi, r, nf), fx._ml_gr(psi, r, nf)

    psi, ok, pg, nit = fx._polish(fg, ex.psi, fx.LOWER, upper)
    ok = bool(pg <= ML_TOL)
    load = fx._ml_load(psi, r, nf)
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    return load * signs, psi, bool(ok), ex


def random_starts(k: int, n_starts: int, seed) -> list[np.ndarray]:
    """The identity, then ``n_starts - 1`` Haar-random orthogonal matrices (QR, diag(R) > 0)."""
    rng = np.random.default_rng(seed)
    out = [np.eye(k)]
    for _ in range(n_starts - 1):
        q, r = np.linalg.qr(rng.standard_normal((k, k)))
        d = np.sign(np.diag(r))
        d[d == 0] = 1
        out.append(q * d)
    return out


def rotate_best(A: np.ndarray, vgq, *, orthogonal: bool, n_starts: int, seed, lavaan: bool):
    """Rotate ``A`` from every start, keep the lowest criterion (earliest start among ties), polish it.

    Returns ``(loadings, phi or None, converged, f, start index, criterion values)``.
    """
    k = A.shape[1]
    kw = {"maxit": 10000, "halvings": 60} if lavaan else {}  # lavaan: max.iter = 10000 (60 halvings reach 1e-18)
    runs = []
    for t0 in random_starts(k, n_starts, seed):
        runs.append(rot.gpa(A, vgq, orthogonal=orthogonal, tmat=t0, eps=GPA_TOL, **kw))
    f = np.array([r[4] if r[3] else np.inf for r in runs])
    if not np.isfinite(f).any():
        f = np.array([r[4] for r in runs])
    fmin = np.min(f)
    best = int(np.flatnonzero(f <= fmin + TIE_RTOL * max(1.0, abs(fmin)))[0])
    L, phi, T, conv, fb = runs[best]
    if lavaan and conv:  # best effort: go on from lavaan's tolerance towards the stationary point
        Lp, phip, Tp, _conv2, fp = rot.gpa(A, vgq, orthogonal=orthogonal, tmat=T, eps=POLISH_TOL,
                                           maxit=2000, halvings=60, stop_on_stall=True)
        if fp <= fb:
            L, phi, T, fb = Lp, phip, Tp, fp
    return L, phi, conv, fb, best, f


def reflect_order(L: np.ndarray, phi):
    """lavaan's ``reflect = TRUE`` and ``order.lv.by = "index"``; returns ``(L, phi, order, signs)``."""
    k = L.shape[1]
    signs = np.where(L.sum(axis=0) < 0, -1.0, 1.0)
    L = L * signs
    if phi is not None:
        phi = phi * np.outer(signs, signs)
    mx = np.max(np.abs(L), axis=0)
    avg = np.array([np.mean(np.flatnonzero(np.abs(L[:, j]) >= 0.8 * mx[j]) + 1) for j in range(k)])
    order = np.argsort(avg, kind="stable")
    L = L[:, order]
    if phi is not None:
        phi = phi[np.ix_(order, order)]
    return L, phi, order, signs


# --------------------------------------------------------------------------- fit measures
def fit_measures(s: np.ndarray, sigma: np.ndarray, n: int, npar: int) -> dict:
    """lavaan's ``fitMeasures()`` of an ML model without mean structure (``s`` has divisor N)."""
    p = s.shape[0]
    _, ld_sigma = np.linalg.slogdet(sigma)
    _, ld_s = np.linalg.slogdet(s)
    tr = np.trace(np.linalg.solve(sigma, s))
    fmin = (ld_sigma - ld_s + tr - p) / 2
    chisq = 2 * n * fmin
    pstar = p * (p + 1) // 2
    df = pstar - npar
    base = n * (np.sum(np.log(np.diag(s))) - ld_s)
    base_df = pstar - p
    out = {"npar": float(npar), "fmin": fmin, "chisq": chisq, "df": float(df),
           "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
           "baseline.chisq": base, "baseline.df": float(base_df),
           "baseline.pvalue": float(stats.chi2.sf(base, base_df))}
    out["cfi"] = fm.cfi(chisq, df, base, base_df)
    out["tli"] = fm.tli(chisq, df, base, base_df)
    out["nnfi"] = out["tli"]
    out["rfi"] = fm.rfi(chisq, df, base, base_df)
    out["nfi"] = fm.nfi(chisq, df, base, base_df)
    out["pnfi"] = fm.pnfi(chisq, df, base, base_df)
    out["ifi"] = fm.ifi(chisq, df, base, base_df)
    out["rni"] = fm.rni(chisq, df, base, base_df)
    c = p * np.log(2 * np.pi)
    logl = -n / 2 * (c + ld_sigma + tr)
    logl1 = -n / 2 * (c + ld_s + p)
    out.update({"logl": logl, "unrestricted.logl": logl1, "aic": -2 * logl + 2 * npar,
                "bic": -2 * logl + npar * np.log(n), "ntotal": float(n),
                "bic2": -2 * logl + npar * np.log((n + 2) / 24)})
    out["rmsea"] = fm.rmsea(chisq, df, n)
    lo, hi = fm.rmsea_ci(chisq, df, n)
    out.update({"rmsea.ci.lower": lo, "rmsea.ci.upper": hi, "rmsea.ci.level": 0.9,
                "rmsea.pvalue": fm.rmsea_pvalue(chisq, df, n), "rmsea.close.h0": 0.05,
                "rmsea.notclose.pvalue": fm.rmsea_notclose_pvalue(chisq, df, n),
                "rmsea.notclose.h0": 0.08})
    il = np.tril_indices(p)
    res = (s - sigma)[il]
    d = np.sqrt(np.diag(s))
    std = ((s - sigma) / np.outer(d, d))[il]
    out["rmr"] = float(np.sqrt(np.mean(res**2)))
    out["srmr"] = float(np.sqrt(np.mean(std**2)))
    return out


# --------------------------------------------------------------------------- standard errors
def _unpack(x, p, m, orthogonal):
    lam = x[: p * m].reshape(p, m)
    theta = x[p * m : p * m + p]
    phi = np.eye(m)
    if not orthogonal:
        for v, (i, j) in zip(x[p * m + p :], _phi_index(m)):
            phi[i, j] = phi[j, i] = v
    return lam, theta, phi


def _phi_index(m):
    """Factor correlations below the diagonal, column by column (lavaan's order)."""
    return [(i, j) for j in range(m) for i in range(j + 1, m)]


def _sigma(x, p, m, orthogonal):
    lam, theta, phi = _unpack(x, p, m, orthogonal)
    return lam @ phi @ lam.T + np.diag(theta)


def _border(x, p, m, orthogonal, vgq, lavaan: bool = True):
    """lavaan's ``lav_model_efa_rotate_border_x`` (``std.ov = TRUE``, no row weights).

    lavaan 0.6-14 standardises the rotated loadings there with
    ``diag(Lambda Lambda' + Theta)``, leaving out the factor correlations, so its
    constraints are not quite the rotation's stationarity conditions of an
    oblique solution; ``lavaan=False`` uses ``diag(Lambda Phi Lambda' + Theta)``,
    with which the bordered covariance matrix is the delta-method one.
    """
    lam, theta, phi = _unpack(x, p, m, orthogonal)
    if lavaan:
        ov_var = np.sum(lam**2, axis=1) + theta  # lavaan uses tcrossprod(A) + THETA here
    else:
        ov_var = np.diag(lam @ phi @ lam.T) + theta
    return border_block(lam, ov_var, phi, vgq, orthogonal)


def border_block(lam, ov_var, phi, vgq, orthogonal):
    """The rotation's stationarity conditions of one block of loadings ``lam`` standardised by
    ``ov_var`` (lavaan's ``lav_model_efa_rotate_border_x`` for one efa block)."""
    m = lam.shape[1]
    a = lam / np.sqrt(ov_var)[:, None]
    gq, _f = vgq(a)
    z = a.T @ gq
    if orthogonal:
        tmp = z - z.T
        return tmp.T[np.triu_indices(m, 1)]  # vech below the diagonal, column-major
    tmp = z - phi * np.diag(z)[:, None]
    lower = tmp.T[np.triu_indices(m, 1)]
    upper = tmp[np.triu_indices(m, 1)]
    return np.concatenate([lower, upper])


def richardson_jacobian(f, x, *, d=1e-4, eps=1e-4, r=4, v=2):
    """``numDeriv::jacobian(method = "Richardson")`` with its default ``method.args``."""
    zero_tol = np.sqrt(np.finfo(float).eps / 7e-7)
    x = np.asarray(x, float)
    f0 = np.asarray(f(x), float)
    n = len(x)
    jac = np.empty((len(f0), n))
    h0 = np.abs(d * x) + eps * (np.abs(x) < zero_tol)
    for i in range(n):
        a = np.empty((len(f0), r))
        h = h0[i]
        for k in range(r):
            e = np.zeros(n)
            e[i] = h
            a[:, k] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
            h = h / v
        for mm in range(1, r):
            a = (a[:, 1 : r - mm + 1] * 4**mm - a[:, : r - mm]) / (4**mm - 1)
        jac[:, i] = a[:, 0]
    return jac


def expected_information(x, p, m, orthogonal):
    """ML expected information (per observation) of ``(vec(Lambda) row-major, theta, phi lower)``."""
    lam, theta, phi = _unpack(x, p, m, orthogonal)
    sigma = lam @ phi @ lam.T + np.diag(theta)
    si = np.linalg.inv(sigma)
    cols = []
    lp = lam @ phi
    for i in range(p):
        for j in range(m):
            d = np.zeros((p, p))
            d[i, :] += lp[:, j]
            d[:, i] += lp[:, j]
            cols.append(d)
    for i in range(p):
        d = np.zeros((p, p))
        d[i, i] = 1.0
        cols.append(d)
    if not orthogonal:
        for i, j in _phi_index(m):
            d = np.outer(lam[:, i], lam[:, j])
            cols.append(d + d.T)
    q = len(cols)
    a = [si @ c for c in cols]
    info = np.empty((q, q))
    for u in range(q):
        for w in range(u, q):
            info[u, w] = info[w, u] = 0.5 * np.sum(a[u] * a[w].T)
    return info


def bordered_vcov(x, p, m, orthogonal, vgq, n, *, lavaan: bool = True):
    """lavaan's ``rotation.se = "bordered"`` covariance matrix of the rotated parameters.

    ``lavaan=False``: with the exact stationarity conditions (see :func:`_border`).
    """
    info = expected_information(x, p, m, orthogonal)
    h = richardson_jacobian(lambda z: _border(z, p, m, orthogonal, vgq, lavaan), x)
    return bordered_inverse(info, h, n)


def bordered_inverse(info, h, n):
    """Upper-left block of the inverse of the information bordered by the constraints' Jacobian
    ``h`` (lavaan's augmented information), divided by ``n``."""
    q = info.shape[0]
    k = h.shape[0]
    e3 = np.zeros((q + k, q + k))
    e3[:q, :q] = info + h.T @ h
    e3[:q, q:] = h.T
    e3[q:, :q] = h
    return np.linalg.pinv(e3, rcond=np.finfo(float).eps ** 0.75)[:q, :q] / n


def standardized(x, p, m, orthogonal):
    """std.all values of ``(Lambda, theta, phi lower)``."""
    lam, theta, phi = _unpack(x, p, m, orthogonal)
    sd = np.sqrt(np.diag(lam @ phi @ lam.T) + theta)
    out = [(lam / sd[:, None]).ravel(), theta / sd**2]
    if not orthogonal:
        out.append(np.array([phi[i, j] for i, j in _phi_index(m)]))
    return np.concatenate(out)


def standardized_jacobian(x, p, m, orthogonal):
    """Exact Jacobian of :func:`standardized` (central differences of a smooth closed form)."""
    return richardson_jacobian(lambda z: standardized(z, p, m, orthogonal), x)
