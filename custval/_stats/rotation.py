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

* ``target`` (``GPArotation::targetQ`` / ``targetT``; a target with NaN for
  unspecified cells is ``pstQ`` / ``pstT`` with ``W = !is.na(target)``),
  ``biquartimin`` (``GPArotation::bifactorQ`` / ``bifactorT``: quartimin on
  all factors but the first, the general one) and ``bigeomin`` (lavaan 0.6-14's
  ``lav_matrix_rotate_bigeomin``: geomin on all factors but the first;
  GPArotation 2022.10-2 has no bi-geomin): :func:`gpa` with the criteria of
  :func:`criterion`, oblique (``GPFoblq``) or orthogonal (``GPForth``).

Each function returns ``(loadings, phi, rotmat, converged)``; ``phi`` is
``None`` for orthogonal rotations.
"""

from __future__ import annotations

import numpy as np

ROTATIONS = ("oblimin", "geomin", "promax", "varimax", "quartimin", "target", "biquartimin", "bigeomin")
OBLIQUE = ("oblimin", "geomin", "promax", "quartimin", "target", "biquartimin", "bigeomin")
#: rotations done by gradient projection (criteria of :func:`criterion`)
GPA_ROTATIONS = ("oblimin", "quartimin", "geomin", "target", "biquartimin", "bigeomin")
#: rotations whose columns mean something fixed (the target's columns, the general factor first)
FIXED_COLUMNS = ("target", "biquartimin", "bigeomin")


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


def _vgq_target(L, target):
    """``GPArotation:::vgQ.target``: NaN cells of the target are left out (= ``vgQ.pst``)."""
    d = L - target
    g = 2 * d
    g[np.isnan(g)] = 0.0
    return g, float(np.nansum(d**2))


def _vgq_pst(L, w, target):
    """``GPArotation:::vgQ.pst`` (partially specified target, weights ``W``)."""
    d = w * L - w * target
    return 2 * d, float(np.sum(d**2))


def _vgq_biquartimin(L):
    """``GPArotation:::vgQ.bifactor``: quartimin on all columns but the first, times 4."""
    g = np.zeros_like(L)
    x = L[:, 1:]
    k = x.shape[1]
    x2n = (x**2) @ (1.0 - np.eye(k))
    g[:, 1:] = 4 * x * x2n
    return g, float(np.sum(x**2 * x2n))


def _vgq_bigeomin(L, delta=0.01):
    """lavaan's ``lav_matrix_rotate_bigeomin``: geomin on all columns but the first."""
    g = np.zeros_like(L)
    g[:, 1:], f = _vgq_geomin(L[:, 1:], delta)
    return g, f


def criterion(name: str, *, delta: float = 0.01, gamma: float = 0.0, target=None):
    """The criterion ``L -> (gradient, value)`` of a gradient-projection rotation.

    ``delta`` is geomin's epsilon (GPArotation's ``delta``, lavaan's ``geomin.epsilon``),
    ``gamma`` oblimin's gamma, ``target`` a target matrix (NaN = unspecified cell).
    """
    if name in ("oblimin", "quartimin"):
        g = gamma if name == "oblimin" else 0.0
        return lambda L: _vgq_oblimin(L, g)
    if name == "geomin":
        return lambda L: _vgq_geomin(L, delta)
    if name == "target":
        t = np.asarray(target, float)
        return lambda L: _vgq_target(L, t)
    if name == "biquartimin":
        return _vgq_biquartimin
    if name == "bigeomin":
        return lambda L: _vgq_bigeomin(L, delta)
    raise ValueError(name)  # pragma: no cover - validated by the caller


def gpa(A: np.ndarray, vgq, *, orthogonal: bool = False, tmat=None, eps: float = 1e-5,
        maxit: int = 1000, halvings: int = 11, stop_on_stall: bool = False):
    """Gradient projection rotation: ``GPArotation::GPFoblq`` / ``GPForth``, step for step.

    ``vgq`` is a criterion from :func:`criterion`.  GPArotation's defaults are
    ``eps = 1e-5``, ``maxit = 1000`` and 11 step halvings; lavaan 0.6-14's
    ``lav_matrix_rotate_gpa`` is the same algorithm with ``max.iter = 10000``
    and up to 1000 halvings.  ``stop_on_stall=True`` (not GPArotation's
    behaviour) stops when no step size decreases the criterion, keeping the
    last accepted point.  Returns ``(loadings, phi or None, T, converged, f)``
    where ``T`` is GPArotation's ``Th`` (``L = A T'^{-1}`` oblique, ``L = A T`` orthogonal).
    """
    k = A.shape[1]
    T = np.eye(k) if tmat is None else np.array(tmat, float)
    al = 1.0
    if orthogonal:
        L = A @ T
        Gq, f = vgq(L)
        G = A.T @ Gq
    else:
        L = A @ np.linalg.inv(T).T
        Gq, f = vgq(L)
        G = -(L.T @ Gq @ np.linalg.inv(T)).T
    s = np.inf
    Tt, Lt, ft, Gqt = T, L, f, Gq
    for _ in range(maxit + 1):
        if orthogonal:
            M = T.T @ G
            Gp = G - T @ ((M + M.T) / 2)
        else:
            Gp = G - T * np.sum(T * G, axis=0)
        s = np.sqrt(np.sum(Gp**2))
        if s < eps:
            break
        al *= 2
        for _i in range(halvings):
            X = T - al * Gp
            if orthogonal:
                u, _d, vt = np.linalg.svd(X)
                Tt = u @ vt
                Lt = A @ Tt
            else:
                Tt = X / np.sqrt(np.sum(X**2, axis=0))
                Lt = A @ np.linalg.inv(Tt).T
            Gqt, ft = vgq(Lt)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        else:
            if stop_on_stall:
                break
        T, L, f = Tt, Lt, ft
        G = (A.T @ Gqt) if orthogonal else -(L.T @ Gqt @ np.linalg.inv(T)).T
    converged = bool(s < eps)
    phi = None if orthogonal else T.T @ T
    return L, phi, T, converged, float(f)


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


def rotate(loadings: np.ndarray, rotation: str | None, **kwargs):
    """Rotate unrotated loadings; returns ``(loadings, phi or None, rotmat, converged)``.

    ``kwargs`` (``delta``, ``gamma``, ``target``, ``orthogonal``) go to the
    gradient-projection rotations (:func:`criterion`, :func:`gpa`).
    """
    if rotation is None or loadings.shape[1] < 2:
        return loadings, None, np.eye(loadings.shape[1]), True
    if rotation == "varimax":
        return varimax(loadings)
    if rotation == "promax":
        return promax(loadings)
    if not kwargs and rotation in _CRITERIA:
        return gpf_oblique(loadings, rotation)
    orthogonal = bool(kwargs.pop("orthogonal", False))
    L, phi, T, conv, _f = gpa(loadings, criterion(rotation, **kwargs), orthogonal=orthogonal)
    return L, phi, T, conv
