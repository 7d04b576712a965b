"""Sample statistics of ordered items as lavaan computes them (private).

lavaan's two-stage estimates for categorical indicators (``lav_samplestats_step1``,
``lav_samplestats_step2``, ``muthen1984``; lavaan 0.6-14):

1. per item, thresholds ``t_k = qnorm(P(y <= k))`` over the categories observed (the
   univariate probit ML estimates without covariates);
2. per pair, the polychoric correlation maximises the bivariate-normal likelihood of the
   pair's contingency table with both items' thresholds held at their step-1 values
   (lavaan's ``zero.add = c(0.5, 0)``: 0.5 is added to an empty cell of a 2 x 2 table,
   keeping the margins (``zero.keep.margins = TRUE``); larger tables are used as they
   are; cell probabilities below ``sqrt(.Machine$double.eps)`` are raised to it);
3. ``Gamma``, the asymptotic covariance of ``(thresholds, correlations)`` times N, is
   ``N A^-1 B A^-T`` with ``B`` the cross-product of the case-wise scores of both steps,
   ``A11`` the per-item blocks of the threshold scores' cross-product, ``A21`` the
   cross-product of each correlation's score with the bivariate threshold scores and
   ``A22`` the diagonal of the correlation scores' cross-product (Muthén, 1984).

These are *not* ``psych::polychoric``'s correlations (``custval._stats.polychoric``:
global thresholds, ``correct = 0.5`` added to every empty cell, smoothing,
``max.cat = 8``); the two agree only when no cell is empty and the items share their
categories.

With pairwise missing answers (lavaan's ``missing = "pairwise"``) each item's thresholds
use the cases that answered it, each correlation the cases that answered both, and the
scores of a missing answer are 0.

Muthén, B. (1984). A general structural equation model with dichotomous, ordered
categorical, and continuous latent variable indicators. *Psychometrika, 49*(1), 115-132.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtr, ndtri

from .._stats.polychoric import cell_probabilities
from ..exceptions import (
    ConstantItemError,
    DataValidationError,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
    SpecificationError,
)

_SQRT_EPS = math.sqrt(np.finfo(float).eps)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)


@dataclass
class OrdinalStats:
    """One group's sample statistics of ordered items."""

    names: list[str]
    levels: list[np.ndarray]  # observed values per item (ascending) = categories 1..K
    y: np.ndarray  # n x p category codes 1..K (0 = missing)
    th: list[np.ndarray]  # thresholds per item
    cor: np.ndarray  # p x p polychoric correlations
    gamma: np.ndarray | None  # NACOV: N * acov of (thresholds, vech-offdiag correlations)
    n: int

    @property
    def th_flat(self) -> np.ndarray:
        return np.concatenate(self.th)

    @property
    def th_names(self) -> list[tuple[str, str]]:
        return [(v, f"t{k + 1}") for v, t in zip(self.names, self.th) for k in range(len(t))]

    @property
    def wls_obs(self) -> np.ndarray:
        i, j = offdiag_index(len(self.names))
        return np.concatenate([self.th_flat, self.cor[i, j]])


def offdiag_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's ``vech(diagonal = FALSE)`` order: column by column below the diagonal."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j + 1, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def _where(group) -> str:
    return "" if group is None else f" in group {group!r}"


def categories(items: pd.DataFrame, group=None, levels: dict | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Category codes 1..K per item (0 = missing) and the observed values per item.

    Values must be whole numbers; ``levels`` (item -> allowed values, e.g. from the
    codebook's scale points) rejects any other value.  An item needs at least two
    observed categories.
    """
    codes = np.zeros(items.shape, dtype=np.int64)
    lev_out = []
    problems, lines, single = [], [], []
    for j, c in enumerate(items.columns):
        col = items[c]
        if not pd.api.types.is_numeric_dtype(col):
            raise DataValidationError(
                f"ordered item {c!r}{_where(group)} is not numeric (dtype {col.dtype}); ordered items need "
                "whole-number category codes such as 1..5")
        v = col.to_numpy(dtype=float)
        ok = ~np.isnan(v)
        bad = ok & ((v != np.round(v)) | ~np.isfinite(v))
        if levels is not None and c in levels:
            allowed = np.asarray(levels[c], dtype=float)
            bad |= ok & ~np.isin(v, allowed)
        if bad.any():
            rows = [r.item() if isinstance(r, np.generic) else r for r in items.index[bad]]
            vals = sorted({float(x) for x in v[bad]})
            allowed_txt = ("whole numbers" if levels is None or c not in levels
                           else f"the scale points {list(levels[c])}")
            problems.append({"rule": "ordered_category", "column": c, "rows": rows,
                             "row_counting": "index labels", "values": vals, "n": len(rows),
                             "allowed": allowed_txt})
            lines.append(f"item {c!r}: {len(rows)} value(s) {vals[:10]} at rows (index labels) {rows[:10]}"
                         f"{' ...' if len(rows) > 10 else ''} (allowed: {allowed_txt})")
            continue
        lev = np.unique(v[ok])
        lev_out.append(lev)
        if lev.size < 2:
            single.append(f"{c} ({'no answers' if lev.size == 0 else f'every answer {lev[0]:g}'})")
            continue
        codes[ok, j] = np.searchsorted(lev, v[ok]) + 1
    if problems:
        raise DataValidationError(
            "ordered items need whole-number category codes (NaN for a missing answer)"
            f"{_where(group)}; " + "; ".join(lines), problems=problems)
    if single:
        raise ConstantItemError(
            f"ordered item(s) {', '.join(single)} have fewer than two categories{_where(group)}: an item "
            "with one category has no thresholds to estimate and no correlation; remove it from the model")
    return codes, lev_out


def _uni_thresholds(y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    freq = np.bincount(y[y > 0], minlength=k + 1)[1:]
    cum = np.cumsum(freq)[:-1] / freq.sum()
    return ndtri(cum), freq


def _phi(x):
    return np.where(np.isfinite(x), np.exp(-0.5 * np.square(np.where(np.isfinite(x), x, 0.0))) * _INV_SQRT_2PI, 0.0)


def _dnorm2(x, y, rho):
    """Bivariate standard normal density; 0 where x or y is infinite."""
    fin = np.isfinite(x) & np.isfinite(y)
    xx, yy = np.where(fin, x, 0.0), np.where(fin, y, 0.0)
    r2 = 1 - rho * rho
    val = np.exp(-(xx * xx - 2 * rho * xx * yy + yy * yy) / (2 * r2)) / (2 * math.pi * math.sqrt(r2))
    return np.where(fin, val, 0.0)


def _cells(t1, t2, rho):
    """Cell probabilities (clamped as lavaan's) and their derivative w.r.t. rho."""
    pi = cell_probabilities(t1, t2, rho)
    pi = np.maximum(pi, _SQRT_EPS)
    c1 = np.concatenate([[-np.inf], t1, [np.inf]])
    c2 = np.concatenate([[-np.inf], t2, [np.inf]])
    X, Y = np.meshgrid(c1, c2, indexing="ij")
    d = _dnorm2(X, Y, rho)
    dpi = d[1:, 1:] - d[:-1, 1:] - d[1:, :-1] + d[:-1, :-1]
    return pi, dpi


def _table(y1, y2, k1, k2):
    ok = (y1 > 0) & (y2 > 0)
    tab = np.zeros((k1, k2))
    np.add.at(tab, (y1[ok] - 1, y2[ok] - 1), 1.0)
    return tab


def _zero_add(tab: np.ndarray) -> np.ndarray:
    """lavaan's zero.add = c(0.5, 0), zero.keep.margins = TRUE."""
    if tab.shape == (2, 2):
        z = np.flatnonzero(tab.ravel(order="F") == 0)
        if z.size == 1:
            tab = tab.copy()
            idx = z[0]
            s = 0.5 if idx in (0, 3) else -0.5
            tab[0, 0] += s
            tab[1, 1] += s
            tab[1, 0] -= s
            tab[0, 1] -= s
    return tab


def polychoric_pair(tab: np.ndarray, t1: np.ndarray, t2: np.ndarray, y_names=("", "")) -> float:
    """Two-step ML polychoric correlation of one table with fixed thresholds (lavaan)."""
    tab = _zero_add(tab)
    if tab.shape == (2, 2):
        if (tab == 0).sum() == 2:
            return 1.0 if tab[0, 0] > 0 else -1.0
        if tab[0, 0] * tab[1, 1] == tab[0, 1] * tab[1, 0]:
            return 0.0

    def score(rho):
        pi, dpi = _cells(t1, t2, rho)
        return float(np.sum(tab * dpi / pi))

    def negll(rho):
        pi = np.maximum(cell_probabilities(t1, t2, rho), _SQRT_EPS)
        return -float(np.sum(tab[tab > 0] * np.log(pi[tab > 0])))

    # the maximum on [-0.999, 0.999] (lavaan's bounds): the best point of a grid, then the
    # root of the score in its bracket (or the bound, when the likelihood rises towards it)
    grid = np.linspace(-0.999, 0.999, 41)
    vals = np.array([negll(r) for r in grid])
    k = int(np.argmin(vals))
    if k == 0 and score(grid[0]) <= 0:
        return float(grid[0])
    if k == len(grid) - 1 and score(grid[-1]) >= 0:
        return float(grid[-1])
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    s_lo, s_hi = score(lo), score(hi)
    if s_lo > 0 > s_hi:
        return optimize.brentq(score, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    res = optimize.minimize_scalar(negll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    return float(res.x)


def ordinal_stats(codes: np.ndarray, names: list[str], levels: list[np.ndarray], *, group=None,
                  with_gamma: bool = True) -> OrdinalStats:
    """Thresholds, polychoric correlations and (optionally) lavaan's Gamma for one group."""
    n, p = codes.shape
    nlev = [len(lv) for lv in levels]
    th, freqs = [], []
    for j in range(p):
        t, f = _uni_thresholds(codes[:, j], nlev[j])
        if (f == 0).any():  # pragma: no cover - categories are the observed values
            raise DataValidationError(f"item {names[j]!r}{_where(group)} has an empty category")
        th.append(t)
        freqs.append(f)
    cor = np.eye(p)
    at_bound, near_one = [], []
    for j in range(p):
        for i in range(j + 1, p):
            tab = _table(codes[:, i], codes[:, j], nlev[i], nlev[j])
            r = polychoric_pair(tab, th[i], th[j])
            cor[i, j] = cor[j, i] = r
            if abs(r) >= 0.999:
                at_bound.append(f"{names[j]} and {names[i]} ({r:+.3f})")
            elif abs(r) > 0.99:
                near_one.append(f"{names[j]} and {names[i]} ({r:+.4f})")
    if at_bound:
        raise NotPositiveDefiniteError(
            f"polychoric correlation of 1{_where(group)} (the estimate reached the bound +-0.999): "
            f"{'; '.join(at_bound[:10])}; the two items order the respondents identically in their "
            "table (a duplicated column, one item recoded from the other, or a table with empty "
            "off-diagonal cells); keep one item of each pair")
    if near_one:
        warnings.warn(
            f"polychoric correlation(s) of nearly 1{_where(group)}: {'; '.join(near_one[:10])} "
            "(as lavaan's 'correlation ... is (nearly) 1.0'); the fit goes on, but check for a "
            "duplicated or recoded item", NotPositiveDefiniteWarning, stacklevel=4)
    ev = np.linalg.eigvalsh(cor)
    if ev.min() <= 0:
        warnings.warn(
            f"the polychoric correlation matrix of {', '.join(names)}{_where(group)} is not positive "
            f"definite (smallest eigenvalue {ev.min():.3g}): the pairwise estimates contradict each "
            "other, as happens with sparse tables; (D)WLS still fits (as lavaan), but the solution may "
            "be improper; collapse sparse categories (explicitly, and report it) or drop an item",
            NotPositiveDefiniteWarning, stacklevel=4)
    gamma = _gamma(codes, th, cor, nlev) if with_gamma else None
    return OrdinalStats(list(names), levels, codes, th, cor, gamma, n)


def _gamma(codes, th, cor, nlev) -> np.ndarray:
    """``N A^-1 B A^-T`` of lavaan's ``muthen1984`` (no covariates, unit weights)."""
    n, p = codes.shape
    nth = [len(t) for t in th]
    start = np.concatenate([[0], np.cumsum(nth)])
    nth_all = int(start[-1])
    ii, jj = offdiag_index(p)
    pstar = len(ii)
    sc = np.zeros((n, nth_all + pstar))
    # univariate threshold scores
    for j in range(p):
        y = codes[:, j]
        ok = y > 0
        t = th[j]
        cuts = np.concatenate([[-np.inf], t, [np.inf]])
        pc = np.diff(ndtr(cuts))  # category probabilities
        yy = y[ok]
        rows = np.flatnonzero(ok)
        up = yy  # threshold index of the upper cut (1..K; K = +inf)
        lo = yy - 1
        k = nth[j]
        s = np.zeros((rows.size, k))
        m_up = up <= k
        s[np.flatnonzero(m_up), up[m_up] - 1] += _phi(t[up[m_up] - 1]) / pc[yy[m_up] - 1]
        m_lo = lo >= 1
        s[np.flatnonzero(m_lo), lo[m_lo] - 1] -= _phi(t[lo[m_lo] - 1]) / pc[yy[m_lo] - 1]
        sc[np.ix_(rows, np.arange(start[j], start[j + 1]))] = s
    a21 = np.zeros((pstar, nth_all))
    for q, (i, j) in enumerate(zip(ii, jj)):
        yi, yj = codes[:, i], codes[:, j]
        ok = (yi > 0) & (yj > 0)
        ti, tj = th[i], th[j]
        rho = cor[i, j]
        pi, dpi = _cells(ti, tj, rho)
        a, b = yi[ok] - 1, yj[ok] - 1
        lik = pi[a, b]
        sc[ok, nth_all + q] = dpi[a, b] / lik
        # bivariate threshold scores, per cell: d log P_ab / d t_i, d t_j
        r = math.sqrt(1 - rho * rho)
        ci = np.concatenate([[-np.inf], ti, [np.inf]])
        cj = np.concatenate([[-np.inf], tj, [np.inf]])
        tab = _table(yi, yj, len(ti) + 1, len(tj) + 1)
        tab_sc = np.where(tab > 0, dpi / pi, 0.0)  # rho score of each cell
        for (t_own, c_own, c_oth, axis, col0) in ((ti, ci, cj, 0, start[i]), (tj, cj, ci, 1, start[j])):
            # dP(cell a,b)/dt_k for the own item's threshold k: +phi(t_k)[...] when k is the
            # cell's upper cut, -phi(t_k)[...] when its lower cut
            kk = len(t_own)
            with np.errstate(invalid="ignore"):
                zt = (c_oth[None, :] - rho * t_own[:, None]) / r  # kk x (K_oth + 1)
            cdf = ndtr(zt)
            band = _phi(t_own)[:, None] * (cdf[:, 1:] - cdf[:, :-1])  # kk x K_oth: d/dt_k of the band
            for k in range(kk):
                # cells with upper cut k (category k) and lower cut k (category k+1)
                if axis == 0:
                    contrib = tab_sc[k, :] * tab[k, :] * band[k] / pi[k, :] \
                        - tab_sc[k + 1, :] * tab[k + 1, :] * band[k] / pi[k + 1, :]
                else:
                    contrib = tab_sc[:, k] * tab[:, k] * band[k] / pi[:, k] \
                        - tab_sc[:, k + 1] * tab[:, k + 1] * band[k] / pi[:, k + 1]
                a21[q, col0 + k] = contrib.sum()
            del c_own
    inner = sc.T @ sc
    a11 = np.zeros((nth_all, nth_all))
    for j in range(p):
        sl = slice(start[j], start[j + 1])
        a11[sl, sl] = inner[sl, sl]
    a22 = np.diag(inner)[nth_all:]
    try:
        a11_inv = np.linalg.inv(a11)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - categories are non-empty
        raise NotPositiveDefiniteError("the thresholds' information matrix is singular") from exc
    if np.any(a22 == 0):
        raise NotPositiveDefiniteError("a polychoric correlation has no information (all scores 0)")
    a21_inv = -(a21 / a22[:, None]) @ a11_inv
    binv = np.zeros((nth_all + pstar, nth_all + pstar))
    binv[:nth_all, :nth_all] = a11_inv
    binv[nth_all:, :nth_all] = a21_inv
    binv[nth_all:, nth_all:] = np.diag(1.0 / a22)
    wls_w = binv @ inner @ binv.T
    out = wls_w * n
    return (out + out.T) / 2


def check_option(name: str, value, allowed) -> None:
    if value not in allowed:
        raise SpecificationError(f"{name}={value!r} is not supported; allowed: {', '.join(map(repr, allowed))}")
