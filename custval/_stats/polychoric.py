"""Polychoric correlations, a port of ``psych::polychoric`` (psych 2.2.9).

These are psych's correlations (global thresholds, ``correct = 0.5``, smoothing,
``max.cat = 8``).  A CFA with ordered items uses lavaan's two-step pairwise-ML
correlations instead (``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``, per-item
thresholds): :mod:`custval._sem.ordinal`.

Why not another package: no maintained Python package implements psych's
two-step polychoric; semopy's and factor_analyzer's do not exist / differ.
The port keeps psych's choices so that the numbers agree:

* items are shifted by the smallest value over *all* items; with ``k``
  values between the global minimum and maximum, each item's thresholds are
  ``qnorm(cumsum(freq)[1:(k-1)])`` over its observed values ("global" mode,
  psych's default, used when every item has the same maximum).  Otherwise
  psych switches to per-pair thresholds from the pair's own table, after
  dropping empty rows/columns and replacing empty cells by ``correct / n``
  (the continuity correction); we do the same.
* per pair, rho minimises ``-sum(p_ab * log(pi_ab(rho)))`` with R's
  ``optimize`` (Brent's golden-section/parabolic search on (-1, 1), tol =
  ``.Machine$double.eps^0.25``); :func:`brent_fmin` is a line-by-line port of
  R's ``Brent_fmin`` so that the search stops where R's does.
* cell probabilities use Genz's (2004) bivariate-normal algorithm (psych uses
  ``mnormt::sadmvn``, accurate to about 1e-6; the optimiser's tolerance,
  about 1e-4 in rho, dominates any difference).
* the finished matrix is smoothed with ``psych::cor.smooth`` if it is not
  positive definite.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import ndtr

from ..exceptions import InsufficientDataError, NotPositiveDefiniteWarning

_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
TWOPI = 2 * math.pi


def _bvnu(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """P(X > h, Y > k) for a standard bivariate normal with correlation r (Genz, 2004; finite h, k)."""
    h = np.asarray(h, float)
    k = np.asarray(k, float)
    hk = h * k
    if abs(r) < 0.925:
        hs = (h * h + k * k) / 2
        asr = math.asin(r)
        sn = np.sin(asr * (1 + _GL_X) / 2)  # nodes on (0, asin r)
        terms = np.exp((sn[:, None] * hk.ravel()[None, :] - hs.ravel()[None, :]) / (1 - sn * sn)[:, None])
        bvn = (_GL_W @ terms).reshape(h.shape) * asr / (2 * TWOPI)
        return bvn + ndtr(-h) * ndtr(-k)
    if r < 0:
        k = -k
        hk = -hk
    bvn = np.zeros(np.broadcast(h, k).shape)
    if abs(r) < 1:
        as_ = (1 - r) * (1 + r)
        a = math.sqrt(as_)
        bs = (h - k) ** 2
        c = (4 - hk) / 8
        d = (12 - hk) / 16
        bvn = a * np.exp(-(bs / as_ + hk) / 2) * (1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5)
        b = np.sqrt(bs)
        with np.errstate(over="ignore", invalid="ignore"):
            corr = np.exp(-hk / 2) * math.sqrt(TWOPI) * ndtr(-b / a) * b * (1 - c * bs * (1 - d * bs / 5) / 3)
        bvn = bvn - np.where(hk > -160, corr, 0.0)
        xs = (a * (_GL_X + 1) / 2) ** 2  # nodes on (0, sqrt(1 - r^2))
        rs = np.sqrt(1 - xs)
        f = hk.ravel()[None, :]
        asr = -(bs.ravel()[None, :] / xs[:, None] + f) / 2
        with np.errstate(over="ignore", under="ignore"):
            val = np.exp(asr) * (
                np.exp(-f * xs[:, None] / (2 * (1 + rs[:, None]) ** 2)) / rs[:, None]
                - (1 + c.ravel()[None, :] * xs[:, None] * (1 + d.ravel()[None, :] * xs[:, None]))
            )
        val = np.where(asr > -100, val, 0.0)
        bvn = bvn + (a / 2 * (_GL_W @ val)).reshape(bvn.shape)
        bvn = -bvn / TWOPI
    if r > 0:
        return bvn + ndtr(-np.maximum(h, k))
    return -bvn + np.maximum(0.0, ndtr(-h) - ndtr(-k))


def _cdf_grid(tx: np.ndarray, ty: np.ndarray, rho: float) -> np.ndarray:
    """Phi2(x, y; rho) on the grid of cut points, with -inf and +inf added at both ends."""
    cx = np.concatenate([[-np.inf], tx, [np.inf]])
    cy = np.concatenate([[-np.inf], ty, [np.inf]])
    X, Y = np.meshgrid(cx, cy, indexing="ij")
    F = np.zeros(X.shape)
    fin = np.isfinite(X) & np.isfinite(Y)
    if fin.any():
        F[fin] = _bvnu(-X[fin], -Y[fin], rho)
    xinf = np.isposinf(X) & np.isfinite(Y)
    F[xinf] = ndtr(Y[xinf])
    yinf = np.isposinf(Y) & np.isfinite(X)
    F[yinf] = ndtr(X[yinf])
    F[np.isposinf(X) & np.isposinf(Y)] = 1.0
    F[np.isneginf(X) | np.isneginf(Y)] = 0.0
    return F


def cell_probabilities(tx, ty, rho) -> np.ndarray:
    """Bivariate-normal probabilities of the cells cut by thresholds ``tx`` (rows) and ``ty`` (cols)."""
    F = _cdf_grid(np.asarray(tx, float), np.asarray(ty, float), rho)
    return F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]


def _poly_f(rho, tx, ty, tab):
    """psych's ``polyF``: -sum(tab * log P), cells with P <= 0 left out."""
    P = cell_probabilities(tx, ty, rho)
    ok = P > 0
    return float(-np.sum(tab[ok] * np.log(P[ok])))


def brent_fmin(f, ax: float, bx: float, tol: float = np.finfo(float).eps ** 0.25) -> float:
    """R's ``optimize`` (``Brent_fmin`` in src/library/stats/src/optimize.c), line by line."""
    c = (3.0 - math.sqrt(5.0)) * 0.5
    eps = math.sqrt(np.finfo(float).eps)
    a, b = ax, bx
    v = a + c * (b - a)
    w = x = v
    d = e = 0.0
    fx = f(x)
    fv = fw = fx
    tol3 = tol / 3.0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * abs(x) + tol3
        t2 = tol1 * 2.0
        if abs(x - xm) <= t2 - (b - a) * 0.5:
            break
        p = q = r = 0.0
        if abs(e) > tol1:
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = (q - r) * 2.0
            if q > 0.0:
                p = -p
            else:
                q = -q
            r = e
            e = d
        if abs(p) >= abs(q * 0.5 * r) or p <= q * (a - x) or p >= q * (b - x):
            e = (b - x) if x < xm else (a - x)
            d = c * e
        else:
            d = p / q
            u = x + d
            if u - a < t2 or b - u < t2:
                d = tol1 if x < xm else -tol1
        if abs(d) >= tol1:
            u = x + d
        elif d > 0.0:
            u = x + tol1
        else:
            u = x - tol1
        fu = f(u)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv = w, fw
                w, fw = u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
    return x


def _thresholds(props: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    with np.errstate(divide="ignore", invalid="ignore"):
        return ndtri(np.cumsum(props)[:-1])


def polychoric_matrix(x: np.ndarray, names, *, correct: float = 0.5, max_cat: int = 8):
    """``psych::polychoric(x, correct)$rho``; returns ``(rho, tau, pair_counts)``."""
    n, p = x.shape
    obs = ~np.isnan(x)
    vals = x[obs]
    if np.any(vals != np.round(vals)):
        bad = [names[j] for j in range(p) if np.any(x[obs[:, j], j] != np.round(x[obs[:, j], j]))]
        raise InsufficientDataError(
            f"polychoric correlations need integer category codes; non-integer values in: {', '.join(bad)}"
        )
    for j in range(p):
        cats = np.unique(x[obs[:, j], j])
        if cats.size < 2:
            raise InsufficientDataError(
                f"item {names[j]} has a single observed category "
                f"({cats[0]:g} in all {int(obs[:, j].sum())} answers): its polychoric correlations are "
                "undefined; drop the item"
            )
    gmin, gmax = vals.min(), vals.max()
    nvalues = int(gmax - gmin + 1)
    if nvalues > max_cat:
        distinct = np.unique(vals)
        hint = "use Pearson correlations"
        if distinct.size <= max_cat:
            # a rescaled short scale (e.g. a 6-point item stored as 0, 20, ..., 100): psych counts
            # the span, not the values used, so the codes must be consecutive first
            step = np.gcd.reduce((distinct - distinct[0]).astype(np.int64)) if distinct.size > 1 else 1
            hint = (f"the answers take only {distinct.size} distinct values ({', '.join(f'{v:g}' for v in distinct)}): "
                    "if they are a rescaled short scale, recode them to consecutive codes first"
                    + (f" (e.g. (x - {distinct[0]:g}) / {step:g} + 1)" if step > 1 else "")
                    + "; custval does not recode silently")
        raise InsufficientDataError(
            f"items span {gmax - gmin + 1:.6g} values ({gmin:g} to {gmax:g}); polychoric allows at most {max_cat} "
            f"categories (as psych): {hint}"
        )
    xi = np.where(obs, x - gmin, -1).astype(int)  # 0..nvalues-1, -1 = missing
    item_max = np.array([xi[obs[:, j], j].max() for j in range(p)])
    global_mode = bool(item_max.min() == item_max.max())
    freq = np.stack([np.bincount(xi[obs[:, j], j], minlength=nvalues) for j in range(p)], axis=1)
    tau = np.stack([_thresholds(freq[:, j] / freq[:, j].sum()) for j in range(p)])  # p x (nvalues-1)
    rho = np.eye(p)
    nij = obs.T.astype(float) @ obs.astype(float)
    for i in range(1, p):
        for j in range(i):
            both = obs[:, i] & obs[:, j]
            tab = np.zeros((nvalues, nvalues))
            np.add.at(tab, (xi[both, i], xi[both, j]), 1.0)
            tot = tab.sum()
            if tot == 0:
                rho[i, j] = rho[j, i] = np.nan
                continue
            tab = tab / tot
            if global_mode:
                tx, ty = tau[i], tau[j]
            else:
                tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
                if correct > 0 and np.any(tab == 0):
                    tab[tab == 0] = correct / tot
                if min(tab.shape) < 2:
                    rho[i, j] = rho[j, i] = np.nan
                    continue
                tx = _thresholds(np.append(tab.sum(axis=1), 0.0))[: tab.shape[0] - 1]
                ty = _thresholds(np.append(tab.sum(axis=0), 0.0))[: tab.shape[1] - 1]
            est = brent_fmin(lambda r, tx=tx, ty=ty, tab=tab: _poly_f(r, tx, ty, tab), -1.0, 1.0)
            rho[i, j] = rho[j, i] = est
    if not np.isnan(rho).any():
        from .factor_extraction import cor_smooth

        rho, smoothed = cor_smooth(rho)
        if smoothed:
            warnings.warn(
                "the polychoric correlation matrix was not positive definite and was smoothed "
                "(psych::cor.smooth)",
                NotPositiveDefiniteWarning,
                stacklevel=3,
            )
    return rho, tau, nij
