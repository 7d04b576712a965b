"""Private minres factor analysis and Schmid-Leiman transformation, as psych::omega.

This is a small re-implementation of exactly the pieces of psych 2.2.9 that
``psych::omega`` uses (``fa(fm = "minres")``, ``stats::varimax``,
``GPArotation::oblimin`` and ``schmid``); the minres extraction is the one
custval's EFA uses (``custval._stats.factor_extraction.extract``).

Differences from psych, by design:

* none for point estimates: minres uses L-BFGS-B with R ``optim``'s settings
  (parameter scale 0.01, ``factr = 1e7``, 5 corrections), so it stops where
  psych stops (agreement ~1e-12); a stop that is not a minimum (an abnormal
  line-search end, a uniqueness at the .005 bound) is continued to the minimum,
  as in the EFA, so the result does not depend on the CPU's BLAS kernel;
* the one-factor case has a vectorised Gauss-Newton solver (``omega1_batch``)
  used by the bootstrap; it reaches the same minimum.
"""

from __future__ import annotations

import numpy as np

from . import factor_extraction as _fx
from . import rotation as _rotation
from .relcore import regular_cor, single_thread_blas, smc

LOWER_PSI = 0.005  # psych's lower bound for uniquenesses in fa(fm = "minres")


# --------------------------------------------------------------------------- minres
def minres(r: np.ndarray, nf: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """psych::fa(r, nf, fm = "minres", rotate = "none") on a correlation matrix.

    Returns (unrotated loadings with psych's column signs, uniquenesses, converged).
    """
    with single_thread_blas():
        return _minres(r, nf)


def _minres(r, nf):
    # the extraction EFA uses (custval._stats.factor_extraction): R optim's L-BFGS-B settings (parameter
    # scale 0.01, factr = 1e7, 5 corrections), so it stops where psych stops, and every abnormal
    # stop restarts with scipy's public minimize (the same result on every BLAS kernel)
    ex = _fx.extract(r, nf, "minres")
    lam = ex.loadings.copy()  # column signs as psych (positive column sums)
    lam[lam == 0] = 1e-15
    return lam, ex.psi, bool(ex.converged)


def varimax(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """stats::varimax(x, normalize = TRUE, eps = 1e-5): the rotation EFA uses."""
    return _rotation.varimax(x, normalize=True, eps=eps)[0]


def oblimin(a: np.ndarray, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray, bool]:
    """GPArotation::oblimin(a) (quartimin, gam = 0, no normalisation): GPFoblq iterations.

    Returns (pattern loadings, Phi, converged); the gradient-projection code EFA uses.
    """
    lam, phi, _, converged = _rotation.gpf_oblique(a, "oblimin", eps=eps, maxit=maxit)
    return lam, phi, converged


def _sort_and_sign(lam, phi=None):
    """psych::fa's final column signs (positive sums) and order (by explained variance)."""
    sign = np.sign(lam.sum(axis=0))
    sign[sign == 0] = 1
    lam = lam * sign
    if phi is not None:
        phi = phi * np.outer(sign, sign)
        ev = np.diag(phi @ lam.T @ lam)
    else:
        ev = np.sum(lam**2, axis=0)
    order = np.argsort(-ev, kind="stable")
    lam = lam[:, order]
    if phi is not None:
        phi = phi[np.ix_(order, order)]
    return lam, phi


# --------------------------------------------------------------------------- Schmid-Leiman
def schmid_leiman(r: np.ndarray, nf: int) -> dict:
    """psych::schmid(r, nf, fm = "minres", rotate = "oblimin") on a correlation matrix.

    Returns g loadings, group loadings (p × nf), h2, u2, Phi and convergence flags.
    """
    lam, psi, conv = minres(r, nf)
    orth = varimax(lam) if nf > 1 else lam
    orth, _ = _sort_and_sign(orth)
    rot_conv = True
    if nf == 1:
        fload = orth
        gload = np.array([1.0])
        phi = np.ones((1, 1))
    else:
        fload, phi, rot_conv = oblimin(orth)
        if nf > 2:
            gl, _, c2 = minres(phi, 1)
            gload = gl[:, 0]
            conv = conv and c2
        else:  # psych option = "equal"
            gload = np.array([np.sqrt(abs(phi[0, 1])), np.sign(phi[0, 1]) * np.sqrt(abs(phi[0, 1]))])
    g = fload @ gload
    h2 = np.sum(orth**2, axis=1)
    u2 = np.diag(r) - h2
    uniq = np.diag(r)[:, None] - fload**2
    prime = fload * gload[None, :]
    uniq2 = np.diag(r)[:, None] - uniq - prime**2
    uniq2[uniq2 < 0] = 0
    group = np.sign(fload) * np.sqrt(uniq2)
    return {"g": g, "group": group, "h2": h2, "u2": u2, "phi": phi, "oblique": fload,
            "heywood": np.flatnonzero(psi <= LOWER_PSI * (1 + 1e-6)), "converged": bool(conv and rot_conv)}


def omega_from_sl(r: np.ndarray, sl: dict) -> dict:
    """psych::omegah's coefficients from a Schmid-Leiman solution (flip = TRUE).

    Observed-variance versions divide by V_t = 1'R1; implied versions by the
    model-implied total variance (Σg)² + Σ_k(Σ_i s_ik)² + Σu².
    """
    g = sl["g"].copy()
    key = np.sign(g)
    key[key == 0] = 1
    if key.sum() < len(g):  # psych flips items with negative general loadings
        r = r * np.outer(key, key)
        g = g * key
        group = sl["group"] * key[:, None]
    else:
        group = sl["group"]
    vt = r.sum()
    u2 = sl["u2"].sum()
    gsq = g.sum() ** 2
    implied = gsq + np.sum(group.sum(axis=0) ** 2) + u2
    return {
        "key": key,
        "omega_h": gsq / vt,
        "omega_total": (vt - u2) / vt,
        "omega_lim": gsq / (vt - u2),
        "omega_h_implied": gsq / implied,
        "omega_total_implied": (implied - u2) / implied,
        "ecv": float(np.sum(g**2) / (np.sum(g**2) + np.sum(group**2))),
    }


# --------------------------------------------------------------------------- one factor, batched
def omega1_batch(r: np.ndarray, *, tol: float = 1e-12, maxit: int = 200) -> dict:
    """One-factor minres on a stack of correlation matrices (B, p, p), vectorised (see ``_omega1``).

    A matrix of the stack that is undefined or singular (see
    :func:`custval._stats.relcore.regular_cor`: an item constant in a bootstrap
    resample, fewer distinct rows than items) has no minres solution (its SMCs
    need R⁻¹): its results are NaN, and the other matrices are fitted as one
    stack.  When every matrix is regular the stack is fitted exactly as before
    (same iterations, same numbers).
    """
    r = np.asarray(r, dtype=float)
    single = r.ndim == 2
    stack = r[None] if single else r
    ok = regular_cor(stack)
    with single_thread_blas():
        if ok.all():
            out = _omega1(stack, tol=tol, maxit=maxit)
        else:
            b, p, _ = stack.shape
            out = {"loadings": np.full((b, p), np.nan), "u2": np.full((b, p), np.nan),
                   "omega_total": np.full(b, np.nan), "omega_h": np.full(b, np.nan),
                   "omega_total_implied": np.full(b, np.nan)}
            if ok.any():
                fit = _omega1(stack[ok], tol=tol, maxit=maxit)
                for key, val in fit.items():
                    out[key][ok] = val
    if single:
        out = {k: val[0] for k, val in out.items()}
    return out


def _omega1(r: np.ndarray, *, tol: float = 1e-12, maxit: int = 200) -> dict:
    """One-factor minres on a stack of correlation matrices (B, p, p), vectorised.

    Gauss-Newton on the loadings for Σ_{i<j} (r_ij − λ_i λ_j)², started from the
    first principal axis with SMC communalities; λ_i² is kept ≤ 1 − 0.005
    (psych's bound on uniquenesses).  Returns loadings and both omegas, with
    items of negative loading reversed first (psych's ``flip = TRUE``, as
    :func:`omega_from_sl`).
    """
    r = np.asarray(r, dtype=float)
    single = r.ndim == 2
    if single:
        r = r[None]
    b, p, _ = r.shape
    s = r.copy()
    idx = np.arange(p)
    s[:, idx, idx] = smc(r)
    # first principal axis by power iteration (cheaper than a batched eigh; only a start value)
    v = np.ones((b, p)) / np.sqrt(p)
    for _ in range(30):
        v = np.einsum("bij,bj->bi", s, v)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    ev = np.einsum("bi,bij,bj->b", v, s, v)
    lam = v * np.sqrt(np.maximum(ev, 1e-12))[:, None]
    off = 1.0 - np.eye(p)
    bound = np.sqrt(1 - LOWER_PSI)
    eye = np.eye(p)
    for _ in range(maxit):
        res = (r - lam[:, :, None] * lam[:, None, :]) * off  # (B, p, p), zero diagonal
        grad = np.einsum("bij,bj->bi", res, lam)  # descent direction −J'res
        l2 = lam**2
        # projected Gauss-Newton: loadings at the bound that would move outwards stay fixed
        active = (np.abs(lam) >= bound - 1e-12) & (np.sign(lam) * grad > 0)
        # J'J = D + t t' with D = diag(Σλ² − 2λ_i²), t = λ (active rows: D_i = 1, t_i = 0);
        # solved by Sherman-Morrison, elementwise over the whole stack
        dvec = np.where(active, 1.0, l2.sum(axis=1, keepdims=True) - 2 * l2)
        t = np.where(active, 0.0, lam)
        g = np.where(active, 0.0, grad)
        if np.min(np.abs(dvec)) > 1e-8:
            dg, dt = g / dvec, t / dvec
            step = dg - dt * (np.sum(t * dg, axis=1) / (1 + np.sum(t * dt, axis=1)))[:, None]
        else:  # a dominant loading makes D singular: general solve
            jtj = dvec[:, :, None] * eye + t[:, :, None] * t[:, None, :]
            try:
                step = np.linalg.solve(jtj, g[..., None])[..., 0]
            except np.linalg.LinAlgError:  # J'J singular for a matrix of the stack: minimum-norm step
                step = (np.linalg.pinv(jtj) @ g[..., None])[..., 0]
        lam = np.clip(lam + step, -bound, bound)
        if np.max(np.abs(step)) < tol:
            break
    flip = np.sign(lam.sum(axis=1))
    flip[flip == 0] = 1
    lam = lam * flip[:, None]
    u2 = np.diagonal(r, axis1=1, axis2=2) - lam**2
    # psych::omega (flip = TRUE) reverses items with a negative loading before the sums, as
    # omega_from_sl does for the point estimate; with all loadings positive this changes nothing
    key = np.sign(lam)
    key[key == 0] = 1
    if (key < 0).any():
        vt = np.einsum("bi,bij,bj->b", key, r, key)
        gsq = np.abs(lam).sum(axis=1) ** 2
    else:
        vt = r.sum(axis=(1, 2))
        gsq = lam.sum(axis=1) ** 2
    out = {
        "loadings": lam,
        "u2": u2,
        "omega_total": (vt - u2.sum(axis=1)) / vt,
        "omega_h": gsq / vt,
        "omega_total_implied": gsq / (gsq + u2.sum(axis=1)),
    }
    if single:
        out = {k: val[0] for k, val in out.items()}
    return out
