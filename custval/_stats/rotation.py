"""Factor rotations, ported from R so that custval gives psych's rotated loadings.

* ``varimax``: ``stats::varimax(x, normalize = TRUE, eps = 1e-5)`` (Kaiser
  normalisation, the SVD iteration of R's stats package).
* ``promax``: psych's ``fa(rotate = "promax")`` = ``psych::kaiser(L, "Promax")``:
  rows divided by sqrt(h2), ``psych::Promax`` (varimax, then a least-squares
  fit to the target ``x * |x|^(m-1)``, m = 4), rows multiplied back.
* ``oblimin`` (gamma = 0), ``quartimin``, ``geomin`` (delta = 0.01): the
  gradient-projection algorithm of ``GPArotation::GPFoblq`` (Bernaards &
  Jennrich, 2005) with its defaults: ``Tmat = I`` start, ``eps = 1e-5``,
  ``maxit = 1000``, no row normalisation.  factor_analyzer's oblimin uses a
  different algorithm and stopping rule, so its loadings differ from psych's
  in the 4th decimal; the port below reproduces GPArotation step for step.

Each function returns ``(loadings, phi, rotmat, converged)``; ``phi`` is
``None`` for orthogonal rotations.
"""

from __future__ import annotations

import numpy as np

ROTATIONS = ("oblimin", "geomin", "promax", "varimax", "quartimin")
OBLIQUE = ("oblimin", "geomin", "promax", "quartimin")


def varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5):
    """``stats::varimax``."""
    nc = x.shape[1]
    if nc < 2:
        return x, None, np.eye(nc), True
    sc = np.sqrt(np.sum(x**2, axis=1)) if normalize else np.ones(x.shape[0])
    xn = x / sc[:, None]
    p = xn.shape[0]
    tt = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = xn @ tt
        b = xn.T @ (z**3 - z * (np.sum(z**2, axis=0) / p))
        u, s, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast = d
        d = s.sum()
        if d < dpast * (1 + eps):
            break
    z = (xn @ tt) * sc[:, None]
    return z, None, tt, True


def promax_psych(x: np.ndarray, m: float = 4):
    """``psych::Promax`` (applied to already row-normalised loadings by :func:`promax`)."""
    xv, _, rot, _ = varimax(x)
    q = xv * np.abs(xv) ** (m - 1)
    u = np.linalg.lstsq(xv, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u * np.sqrt(d)
    z = xv @ u
    u = rot @ u
    ui = np.linalg.inv(u)
    phi = ui @ ui.T
    return z, phi, u


def promax(x: np.ndarray, m: float = 4):
    """psych's ``fa(rotate = "promax")``: ``kaiser(L, rotate = "Promax")``."""
    h2 = np.sum(x**2, axis=1)
    z, phi, u = promax_psych(x / np.sqrt(h2)[:, None], m)
    return z * np.sqrt(h2)[:, None], phi, u, True


# --------------------------------------------------------------------------- GPArotation criteria
def _vgq_oblimin(L, gam=0.0):
    k = L.shape[1]
    mask = 1.0 - np.eye(k)
    X = (L**2) @ mask
    if gam != 0:
        p = L.shape[0]
        X = (np.eye(p) - gam / p) @ X
    return L * X, float(np.sum(L**2 * X) / 4)


def _vgq_geomin(L, delta=0.01):
    k = L.shape[1]
    L2 = L**2 + delta
    pro = np.exp(np.sum(np.log(L2), axis=1) / k)
    return (2 / k) * (L / L2) * pro[:, None], float(np.sum(pro))


_CRITERIA = {
    "oblimin": lambda L: _vgq_oblimin(L, 0.0),
    "quartimin": lambda L: _vgq_oblimin(L, 0.0),
    "geomin": lambda L: _vgq_geomin(L, 0.01),
}


def gpf_oblique(A: np.ndarray, method: str, *, eps: float = 1e-5, maxit: int = 1000, tmat=None):
    """``GPArotation::GPFoblq`` (oblique gradient projection), step for step."""
    vgq = _CRITERIA[method]
    k = A.shape[1]
    T = np.eye(k) if tmat is None else np.asarray(tmat, float)
    al = 1.0
    L = A @ np.linalg.inv(T).T
    Gq, f = vgq(L)
    G = -(L.T @ Gq @ np.linalg.inv(T)).T
    s = np.inf
    for _ in range(maxit + 1):
        Gp = G - T * np.sum(T * G, axis=0)
        s = np.sqrt(np.sum(Gp**2))
        if s < eps:
            break
        al *= 2
        for _i in range(11):
            X = T - al * Gp
            v = 1 / np.sqrt(np.sum(X**2, axis=0))
            Tt = X * v
            L = A @ np.linalg.inv(Tt).T
            Gqt, ft = vgq(L)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        T = Tt
        f = ft
        G = -(L.T @ Gqt @ np.linalg.inv(Tt)).T
    converged = bool(s < eps)
    phi = T.T @ T
    rotmat = np.linalg.inv(T).T
    return L, phi, rotmat, converged


def rotate(loadings: np.ndarray, rotation: str | None):
    """Rotate unrotated loadings; returns ``(loadings, phi or None, rotmat, converged)``."""
    if rotation is None or loadings.shape[1] < 2:
        return loadings, None, np.eye(loadings.shape[1]), True
    if rotation == "varimax":
        return varimax(loadings)
    if rotation == "promax":
        return promax(loadings)
    return gpf_oblique(loadings, rotation)
