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

Continuous items among ordered ones (:func:`mixed_stats`, lavaan's numeric ``ov.types``): step 1
gives their means and ML variances, step 2 polyserial (:func:`polyserial_pair`) and Pearson
correlations, and the statistics are (thresholds and minus the means, variances, covariances)
with ``Gamma`` transformed by the Jacobian ``H`` of the covariances, as ``muthen1984``; with
pairwise missing answers two continuous items get lavaan's two-step ML correlation
(:func:`bvreg_pair`) instead of Pearson's.

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
    InsufficientDataError,
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
    # continuous items mixed with ordered ones (lavaan's ov.types "numeric"): their th entry is
    # [mean], var their ML variance (1 for ordered items); None when every item is ordered
    numeric: np.ndarray | None = None
    var: np.ndarray | None = None

    @property
    def th_flat(self) -> np.ndarray:
        """Thresholds (and, for a continuous item, its mean) in item order."""
        return np.concatenate(self.th)

    @property
    def th_names(self) -> list[tuple[str, str]]:
        """``(item, "t1")``, ... per threshold; ``(item, "~1")`` for a continuous item's mean."""
        num = self.num_mask
        return [(v, "~1" if num[i] else f"t{k + 1}") for i, (v, t) in enumerate(zip(self.names, self.th))
                for k in range(len(t))]

    @property
    def num_mask(self) -> np.ndarray:
        return np.zeros(len(self.names), dtype=bool) if self.numeric is None else self.numeric

    @property
    def mixed(self) -> bool:
        return self.numeric is not None and bool(self.numeric.any())

    @property
    def cov(self) -> np.ndarray:
        """lavaan's sample ``cov``: the correlations rescaled by the continuous items' SDs."""
        if not self.mixed:
            return self.cor
        sd = np.sqrt(self.var)
        return self.cor * np.outer(sd, sd)

    @property
    def wls_obs(self) -> np.ndarray:
        """lavaan's ``WLS.obs``: (thresholds with minus the continuous items' means, their
        variances, the covariances below the diagonal)."""
        i, j = offdiag_index(len(self.names))
        if not self.mixed:
            return np.concatenate([self.th_flat, self.cor[i, j]])
        num = self.num_mask
        th_item = np.concatenate([np.full(len(t), k) for k, t in enumerate(self.th)]).astype(int)
        sign = np.where(num[th_item], -1.0, 1.0)
        return np.concatenate([sign * self.th_flat, self.var[num], self.cov[i, j]])


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
    idx = (y1[ok] - 1) * k2 + (y2[ok] - 1)
    return np.bincount(idx, minlength=k1 * k2).reshape(k1, k2).astype(float)


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
    grid = np.linspace(-0.999, 0.999, 9)
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


_GLX, _GLW = np.polynomial.legendre.leggauss(20)
_TWOPI = 2 * math.pi


def _bvn_upper(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X > h, Y > k) of standard bivariate normals with correlations ``r`` (arrays; finite
    h, k; Genz's (2004) algorithm with 20-point Gauss-Legendre, vectorised over r)."""
    out = np.empty(h.shape)
    small = np.abs(r) < 0.925
    if small.any():
        hh, kk, rr = h[small], k[small], r[small]
        hk = hh * kk
        hs = (hh * hh + kk * kk) / 2
        asr = np.arcsin(rr)
        sn = np.sin(asr[None, :] * (1 + _GLX[:, None]) / 2)
        terms = np.exp((sn * hk[None, :] - hs[None, :]) / (1 - sn * sn))
        out[small] = (_GLW @ terms) * asr / (2 * _TWOPI) + ndtr(-hh) * ndtr(-kk)
    big = ~small
    if big.any():
        hh, kk, rr = h[big], k[big], r[big]
        neg = rr < 0
        kk = np.where(neg, -kk, kk)
        hk = hh * kk
        as_ = (1 - rr) * (1 + rr)
        a = np.sqrt(as_)
        bs = (hh - kk) ** 2
        c = (4 - hk) / 8
        d = (12 - hk) / 16
        bvn = a * np.exp(-(bs / as_ + hk) / 2) * (1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5)
        b = np.sqrt(bs)
        with np.errstate(over="ignore", invalid="ignore"):
            corr = np.exp(-hk / 2) * math.sqrt(_TWOPI) * ndtr(-b / a) * b * (1 - c * bs * (1 - d * bs / 5) / 3)
        bvn = bvn - np.where(hk > -160, corr, 0.0)
        xs = (a[None, :] * (_GLX[:, None] + 1) / 2) ** 2
        rs = np.sqrt(1 - xs)
        asr = -(bs[None, :] / xs + hk[None, :]) / 2
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            val = np.exp(asr) * (np.exp(-hk[None, :] * xs / (2 * (1 + rs) ** 2)) / rs
                                 - (1 + c[None, :] * xs * (1 + d[None, :] * xs)))
        val = np.where(asr > -100, val, 0.0)
        bvn = -(bvn + a / 2 * (_GLW @ val)) / _TWOPI
        pos_val = bvn + ndtr(-np.maximum(hh, kk))
        kk0 = np.where(neg, -kk, kk)  # the original k
        neg_val = -bvn + np.maximum(0.0, ndtr(-hh) - ndtr(-kk0))
        out[big] = np.where(neg, neg_val, pos_val)
    return out


class _PairGrid:
    """The cut-point grids of all item pairs, flattened, for batched cell probabilities."""

    def __init__(self, pairs, th):
        self.pairs = pairs
        base, fin_pos, xs, ys, owner = [], [], [], [], []
        c00, c01, c10, c11, cell_owner, self.shapes, self.cell_bounds = [], [], [], [], [], [], [0]
        off = 0
        for q, (i, j) in enumerate(pairs):
            c1 = np.concatenate([[-np.inf], th[i], [np.inf]])
            c2 = np.concatenate([[-np.inf], th[j], [np.inf]])
            X, Y = np.meshgrid(c1, c2, indexing="ij")
            fin = np.isfinite(X) & np.isfinite(Y)
            b = np.zeros(X.shape)
            xinf = np.isposinf(X) & np.isfinite(Y)
            b[xinf] = ndtr(Y[xinf])
            yinf = np.isposinf(Y) & np.isfinite(X)
            b[yinf] = ndtr(X[yinf])
            b[np.isposinf(X) & np.isposinf(Y)] = 1.0
            base.append(b.ravel())
            fin_pos.append(off + np.flatnonzero(fin.ravel()))
            xs.append(X[fin])
            ys.append(Y[fin])
            owner.append(np.full(int(fin.sum()), q))
            nr, nc = X.shape
            rr, cc = np.meshgrid(np.arange(nr - 1), np.arange(nc - 1), indexing="ij")
            rr, cc = rr.ravel(), cc.ravel()
            c00.append(off + rr * nc + cc)
            c01.append(off + rr * nc + cc + 1)
            c10.append(off + (rr + 1) * nc + cc)
            c11.append(off + (rr + 1) * nc + cc + 1)
            cell_owner.append(np.full(rr.size, q))
            self.shapes.append((nr - 1, nc - 1))
            self.cell_bounds.append(self.cell_bounds[-1] + rr.size)
            off += X.size

        def cat(v, dtype=float):
            return np.concatenate(v).astype(dtype) if v else np.zeros(0, dtype)

        self.base, self.fin_pos = cat(base), cat(fin_pos, int)
        self.x, self.y, self.owner = cat(xs), cat(ys), cat(owner, int)
        self.c00, self.c01, self.c10, self.c11 = cat(c00, int), cat(c01, int), cat(c10, int), cat(c11, int)
        self.cell_owner = cat(cell_owner, int)

    def cells(self, rho: np.ndarray):
        """Clamped cell probabilities and their derivatives w.r.t. rho, flat over all pairs."""
        r = rho[self.owner]
        F = self.base.copy()
        F[self.fin_pos] = _bvn_upper(-self.x, -self.y, r)
        r2 = 1 - r * r
        D = np.zeros(self.base.shape)
        D[self.fin_pos] = np.exp(-(self.x ** 2 - 2 * r * self.x * self.y + self.y ** 2) / (2 * r2)) / (
            _TWOPI * np.sqrt(r2))
        pi = F[self.c11] - F[self.c01] - F[self.c10] + F[self.c00]
        dpi = D[self.c11] - D[self.c01] - D[self.c10] + D[self.c00]
        return np.maximum(pi, _SQRT_EPS), dpi

    def per_pair(self, flat: np.ndarray, q: int) -> np.ndarray:
        return flat[self.cell_bounds[q]:self.cell_bounds[q + 1]].reshape(self.shapes[q])


def _polychorics(pairs, tabs, th, start):
    """Pairwise two-step ML correlations of all pairs at once: Fisher scoring from ``start``
    (batched bivariate-normal probabilities); a pair where scoring does not settle inside
    (-0.999, 0.999), and every 2 x 2 table, is solved alone by :func:`polychoric_pair`.
    Returns the correlations and each pair's final (cell probabilities, derivatives)."""
    m = len(pairs)
    rho = np.clip(np.asarray(start, float), -0.9, 0.9)
    done = np.zeros(m, dtype=bool)
    special = {}
    for q, tab in enumerate(tabs):
        if tab.shape == (2, 2):
            special[q] = polychoric_pair(tab, th[pairs[q][0]], th[pairs[q][1]])
            done[q] = True
    if m == 0:
        return rho, {}
    grid = _PairGrid(pairs, th)
    tab_flat = np.concatenate([_zero_add(t).ravel() for t in tabs])
    n_pair = np.array([t.sum() for t in tabs])
    ok = np.zeros(m, dtype=bool)
    for _ in range(60):
        if done.all():
            break
        pi, dpi = grid.cells(rho)
        s = np.bincount(grid.cell_owner, tab_flat * dpi / pi, minlength=m)
        info = n_pair * np.bincount(grid.cell_owner, dpi * dpi / pi, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(info > 0, s / info, np.nan)
        bad = ~np.isfinite(step) & ~done
        new = np.clip(rho + np.where(np.isfinite(step), step, 0.0), -0.999, 0.999)
        conv = (~done) & (np.abs(new - rho) < 1e-13)
        rho = np.where(done, rho, new)
        ok |= conv & (np.abs(rho) < 0.999)
        done |= conv | bad
    for q in range(m):
        if q in special:
            rho[q] = special[q]
        elif not ok[q]:
            i, j = pairs[q]
            rho[q] = polychoric_pair(tabs[q], th[i], th[j])
    pi, dpi = grid.cells(rho)
    return rho, {pair: (grid.per_pair(pi, q), grid.per_pair(dpi, q)) for q, pair in enumerate(pairs)}


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
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    tabs = [_table(codes[:, i], codes[:, j], nlev[i], nlev[j]) for i, j in pairs]
    never = [f"{names[j]} and {names[i]}" for (i, j), t in zip(pairs, tabs) if t.sum() < 2]
    if never:
        raise InsufficientDataError(
            f"item pair(s) {'; '.join(never[:10])} were answered together by fewer than 2 respondents"
            f"{_where(group)} (a split or routed questionnaire?): their polychoric correlation cannot be "
            "estimated; fit those items in separate models")
    # start: the Pearson correlations of the codes (lavaan's start), pairwise-complete
    with np.errstate(invalid="ignore", divide="ignore"):
        if (codes > 0).all():
            pear = np.corrcoef(codes.T.astype(float))
        else:
            pear = pd.DataFrame(np.where(codes > 0, codes, np.nan)).corr().to_numpy()
    start = [pear[i, j] if np.isfinite(pear[i, j]) else 0.0 for i, j in pairs]
    rhos, cells = _polychorics(pairs, tabs, th, start)
    for (i, j), r in zip(pairs, rhos):
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
    gamma = _gamma(codes, th, cor, nlev, cells) if with_gamma else None
    return OrdinalStats(list(names), levels, codes, th, cor, gamma, n)


def _ord_pair_parts(ci, cj, ti, tj, rho, cell=None):
    """One pair of ordered items: the case-wise scores of its polychoric correlation and the two
    blocks of ``A21`` (the cross-products of that score with the bivariate threshold scores)."""
    if cell is not None:
        pi, dpi = cell
    else:
        pi, dpi = _cells(ti, tj, rho)
    tab = _table(ci, cj, len(ti) + 1, len(tj) + 1)
    rsc = dpi / pi  # the correlation score of each cell
    lookup = np.zeros((len(ti) + 2, len(tj) + 2))
    lookup[1:, 1:] = rsc
    scores = lookup[ci, cj]
    # A21: sum over cells of n_ab * rho-score * d log P_ab / d t (the bivariate threshold scores)
    r = math.sqrt(1 - rho * rho)
    w = tab * rsc / pi  # n_ab * (dP/drho / P) / P
    out = []
    for t_own, t_oth, axis in ((ti, tj, 0), (tj, ti, 1)):
        c_oth = np.concatenate([[-np.inf], t_oth, [np.inf]])
        cdf = ndtr((c_oth[None, :] - rho * t_own[:, None]) / r)
        band = _phi(t_own)[:, None] * (cdf[:, 1:] - cdf[:, :-1])  # kk x K_oth
        ww = w if axis == 0 else w.T  # own categories x other categories
        # threshold k is the upper cut of own category k and the lower cut of category k + 1
        out.append(np.sum((ww[:-1] - ww[1:]) * band, axis=1))
    return scores, out[0], out[1]


def _gamma(codes, th, cor, nlev, cells=None) -> np.ndarray:
    """``N A^-1 B A^-T`` of lavaan's ``muthen1984`` (no covariates, unit weights).

    Every score is a function of the case's category (pair of categories): the scores are
    tabulated per category (cell) and looked up; a missing answer scores 0.
    """
    n, p = codes.shape
    nth = [len(t) for t in th]
    start = np.concatenate([[0], np.cumsum(nth)])
    nth_all = int(start[-1])
    ii, jj = offdiag_index(p)
    pstar = len(ii)
    sc = np.zeros((n, nth_all + pstar))
    # univariate threshold scores: category c (1..K) scores +phi(t_c)/P_c on t_c and
    # -phi(t_{c-1})/P_c on t_{c-1}
    for j in range(p):
        t = th[j]
        k = nth[j]
        pc = np.diff(ndtr(np.concatenate([[-np.inf], t, [np.inf]])))
        table = np.zeros((k + 2, k))  # row 0: missing
        ph = _phi(t)
        for c in range(1, k + 2):
            if c <= k:
                table[c, c - 1] += ph[c - 1] / pc[c - 1]
            if c >= 2:
                table[c, c - 2] -= ph[c - 2] / pc[c - 1]
        sc[:, start[j]:start[j + 1]] = table[codes[:, j]]
    a21 = np.zeros((pstar, nth_all))
    for q, (i, j) in enumerate(zip(ii, jj)):
        cell = cells.get((i, j)) if cells is not None else None
        sc[:, nth_all + q], a_i, a_j = _ord_pair_parts(codes[:, i], codes[:, j], th[i], th[j], cor[i, j], cell)
        a21[q, start[i]:start[i + 1]] = a_i
        a21[q, start[j]:start[j + 1]] = a_j
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


def check_group_categories(codes: np.ndarray, names: list[str], levels: list[np.ndarray], group) -> None:
    """Every category of every item is used in the group (lavaan: "some categories of variable
    ... are empty in group"); an empty one is an error naming the item, the group and the counts."""
    empty, unanswered = [], []
    for j, (v, lev) in enumerate(zip(names, levels)):
        freq = np.bincount(codes[:, j][codes[:, j] > 0], minlength=len(lev) + 1)[1:]
        if freq.sum() == 0:
            unanswered.append(v)
        elif (freq == 0).any():
            counts = ", ".join(f"{lv:g}: {int(c)}" for lv, c in zip(lev, freq))
            empty.append(f"{v} ({counts})")
    if unanswered:
        raise DataValidationError(
            f"in group {group!r} nobody answered {', '.join(unanswered)} (a question not asked in that group, or "
            "the column left empty in its export): the item has no thresholds there; drop the item or the group")
    if empty:
        raise DataValidationError(
            f"in group {group!r} some categories are empty: {'; '.join(empty)}; thresholds are compared across "
            "groups, so every category must be used in every group (lavaan's rule). Collapse the sparse "
            "categories in every group (explicitly, and report it) or drop the item")


def check_option(name: str, value, allowed) -> None:
    if value not in allowed:
        raise SpecificationError(f"{name}={value!r} is not supported; allowed: {', '.join(map(repr, allowed))}")


# ---------------------------------------------------------------- ordered and continuous items

_EPS = np.finfo(float).eps
_POLYSERIAL_BOUND = 0.995  # lavaan's bounds of the polyserial search (lav_bvmix_cor_twostep_fit)


def _cuts(code: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's z1, z2 of an ordered item (lav_uvord_update_fit): the upper and lower threshold
    of each case's category, 100 above the top and -100 below the bottom category."""
    th = np.concatenate([[0.0], t, [0.0]])
    k = len(t)
    z1 = th[code] + np.where(code == k + 1, 100.0, 0.0)
    z2 = th[code - 1] + np.where(code == 1, -100.0, 0.0)
    return z1, z2


def _bvmix(z, z1, z2, rho):
    """Pieces of lavaan's polyserial likelihood (lav_bvmix_*_cache) at ``rho``."""
    r = math.sqrt(1 - rho * rho)
    a = (z1 - rho * z) / r
    b = (z2 - rho * z) / r
    p = np.maximum(ndtr(a) - ndtr(b), _EPS)
    pa, pb = _phi(a), _phi(b)
    return r, a, b, p, pa, pb


def polyserial_pair(y: np.ndarray, mean: float, var: float, code: np.ndarray, t: np.ndarray) -> float:
    """Two-step ML polyserial correlation of a continuous item ``y`` (its mean and ML variance
    fixed) and an ordered item (categories ``code`` 1..K, thresholds ``t`` fixed), as lavaan's
    ``lav_bvmix_cor_twostep_fit``: the maximum on [-0.995, 0.995] of ``sum log(f(y) P(code |
    y))``, leaving out cases whose likelihood is below ``sqrt(eps)`` (lavaan's NA).  Cases
    with a missing answer (NaN, code 0) are left out (pairwise)."""
    both = ~np.isnan(y) & (code > 0)
    if not both.all():
        y, code = y[both], code[both]
    sd = math.sqrt(var)
    z = (y - mean) / sd
    z1, z2 = _cuts(code, t)
    logf = -0.5 * z * z - math.log(sd) - 0.5 * math.log(2 * math.pi)

    def pieces(rho):
        r, a, b, p, pa, pb = _bvmix(z, z1, z2, rho)
        lik = np.exp(logf) * p
        keep = lik >= _SQRT_EPS
        return r, a, b, p, pa, pb, keep

    def score(rho):
        r, a, b, p, pa, pb, keep = pieces(rho)
        d = (pa * (z1 * rho - z) - pb * (z2 * rho - z)) / (p * r ** 3)
        return float(np.sum(d[keep]))

    # lavaan's start (lav_bvmix_init_cache): cor(y, code) sd(code) / sum(dnorm(t)), halved above 0.9;
    # the objective leaves out cases, so it can fall towards the bounds: the local maximum next to
    # the start, as lavaan's nlminb finds it (the root of the score, bracketed outwards)
    cc = code.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r0 = float(np.corrcoef(y, cc)[0, 1]) * float(np.std(cc)) / float(np.sum(_phi(t)))
    if not np.isfinite(r0):
        r0 = 0.0
    elif abs(r0) > 0.9:
        r0 /= 2
    return _root_outwards(score, r0, _POLYSERIAL_BOUND)


def bvreg_pair(y1: np.ndarray, y2: np.ndarray, m1: float, v1: float, m2: float, v2: float) -> float:
    """Correlation of two continuous items as lavaan's ``lav_bvreg_cor_twostep_fit``: Pearson's
    when neither item has a missing answer, else the two-step ML correlation of the
    bivariate normal over the rows that answered both, with each item's mean and variance fixed
    at their univariate (available-case) estimates, leaving out rows whose likelihood is below
    ``sqrt(eps)`` (lavaan's NA); bounds +-0.999."""
    ok1, ok2 = ~np.isnan(y1), ~np.isnan(y2)
    if ok1.all() and ok2.all():
        return float(np.mean((y1 - m1) * (y2 - m2)) / math.sqrt(v1 * v2))
    both = ok1 & ok2
    a, b = y1[both] - m1, y2[both] - m2
    s1, s2 = math.sqrt(v1), math.sqrt(v2)

    def parts(rho):
        rr = 1 - rho * rho
        q = a * a / v1 - 2 * rho * a * b / (s1 * s2) + b * b / v2
        loglik = -math.log(2 * math.pi) - 0.5 * math.log(v1 * v2 * rr) - 0.5 * q / rr
        keep = np.exp(loglik) >= _SQRT_EPS
        d = rho / rr + (a * b / (s1 * s2 * rr) - q * rho / (rr * rr))
        return d, keep

    def score(rho):
        d, keep = parts(rho)
        return float(np.sum(d[keep]))

    with np.errstate(invalid="ignore", divide="ignore"):
        r0 = float(np.corrcoef(a, b)[0, 1]) if a.size > 1 else 0.0
    if not np.isfinite(r0) or abs(r0) >= 1:
        r0 = 0.0
    return _root_outwards(score, r0, 0.999)


def _root_outwards(score, r0: float, bound: float) -> float:
    """The root of a (decreasing) score next to ``r0``: bracketed by steps of 0.05 outwards,
    then Brent's method; the bound when the score keeps its sign up to it."""
    r0 = float(np.clip(r0, -bound, bound))
    s0 = score(r0)
    if s0 == 0:
        return r0
    direction = 1.0 if s0 > 0 else -1.0
    lo = r0
    while True:
        hi = float(np.clip(lo + direction * 0.05, -bound, bound))
        if np.sign(score(hi)) != np.sign(s0):
            break
        if abs(hi) >= bound:
            return hi
        lo = hi
    a, b = (lo, hi) if lo < hi else (hi, lo)
    return optimize.brentq(score, a, b, xtol=1e-15, rtol=4 * _EPS, maxiter=200)


def mixed_stats(values: np.ndarray, codes: np.ndarray, names: list[str], levels: list[np.ndarray],
                numeric: np.ndarray, *, group=None) -> OrdinalStats:
    """lavaan's sample statistics of ordered and continuous items together (``muthen1984`` with
    ``ov.types`` numeric and ordered; complete cases, no covariates).

    Step 1, per item: an ordered item's thresholds; a continuous item's mean and ML variance
    (divisor N; ``lav_uvreg_fit``).  Step 2, per pair: polychoric (ordered-ordered), polyserial
    (continuous-ordered, :func:`polyserial_pair`) or Pearson (continuous-continuous)
    correlations.  The statistics are ``(thresholds and means, variances, covariances)`` with
    the covariances ``r_ij sd_i sd_j`` (sd 1 for an ordered item); ``Gamma = N H A^-1 B A^-T
    H'`` with ``H`` the Jacobian of the covariances w.r.t. (variances, correlations), and the
    rows of the means negated (lavaan's thresholds of a continuous item are ``-mean``).

    ``values`` has the continuous items' answers (floats), ``codes`` the ordered items'
    categories 1..K (0 in a continuous item's column); ``levels`` an empty array for a
    continuous item.
    """
    n, p = values.shape
    num = np.asarray(numeric, dtype=bool)
    ordered_idx = np.flatnonzero(~num)
    th, var = [], np.ones(p)
    sc_th_cols, sc_var_cols = [], []
    for j in range(p):
        if num[j]:
            y = values[:, j]
            ok = ~np.isnan(y)
            m = float(np.mean(y[ok])) if ok.any() else float("nan")
            res = np.where(ok, y - m, 0.0)  # a missing answer scores 0 (pairwise)
            v = float(np.sum(res * res) / ok.sum()) if ok.any() else 0.0
            if v > 0 and np.unique(y[ok]).size == 2:
                raise SpecificationError(
                    f"continuous item {names[j]!r}{_where(group)} has two distinct values: its mean and variance "
                    "carry the same information (variance = p(1 - p)), so their asymptotic covariance is "
                    "singular; list it in ordered= (a binary item is an ordered item with one threshold)")
            if not v > 0:
                raise ConstantItemError(
                    f"continuous item {names[j]!r}{_where(group)} has the same answer {m:g} in every row: "
                    "it has no variance to model; remove it from the model")
            th.append(np.array([m]))
            var[j] = v
            sc_th_cols.append((res / v)[:, None])
            sc_var_cols.append(np.where(ok, -1.0 / (2 * v) + res * res / (2 * v * v), 0.0))
        else:
            t, _ = _uni_thresholds(codes[:, j], len(levels[j]))
            th.append(t)
            k = len(t)
            pc = np.diff(ndtr(np.concatenate([[-np.inf], t, [np.inf]])))
            table = np.zeros((k + 2, k))
            ph = _phi(t)
            for c in range(1, k + 2):
                if c <= k:
                    table[c, c - 1] += ph[c - 1] / pc[c - 1]
                if c >= 2:
                    table[c, c - 2] -= ph[c - 2] / pc[c - 1]
            sc_th_cols.append(table[codes[:, j]])
    nth = [len(t) for t in th]
    start = np.concatenate([[0], np.cumsum(nth)]).astype(int)
    nth_all = int(start[-1])
    num_idx = np.flatnonzero(num)
    nnum = len(num_idx)
    var_col = {int(j): nth_all + r for r, j in enumerate(num_idx)}  # A11 / score column of each variance
    sd = np.sqrt(var)
    ii, jj = offdiag_index(p)
    pstar = len(ii)
    cor = np.eye(p)
    # polychorics of the ordered pairs, all at once
    ord_pairs = [(int(i), int(j)) for i, j in zip(ii, jj) if not num[i] and not num[j]]
    cells = {}
    if ord_pairs:
        tabs = [_table(codes[:, i], codes[:, j], len(th[i]) + 1, len(th[j]) + 1) for i, j in ord_pairs]
        sub = codes[:, ordered_idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            if (sub > 0).all():
                pear = np.corrcoef(sub.T.astype(float)) if sub.shape[1] > 1 else np.eye(1)
            else:  # pairwise-complete, as lavaan's start
                pear = pd.DataFrame(np.where(sub > 0, sub, np.nan)).corr().to_numpy()
        pos = {int(v): k for k, v in enumerate(ordered_idx)}
        start_r = [pear[pos[i], pos[j]] if np.isfinite(pear[pos[i], pos[j]]) else 0.0 for i, j in ord_pairs]
        rhos, cells = _polychorics(ord_pairs, tabs, th, start_r)
        for (i, j), r in zip(ord_pairs, rhos):
            cor[i, j] = cor[j, i] = r
    answered = np.where(num[None, :], ~np.isnan(values), codes > 0)
    never = [f"{names[j]} and {names[i]}" for i, j in zip(ii, jj)
             if int(np.sum(answered[:, i] & answered[:, j])) < 2]
    if never:
        raise InsufficientDataError(
            f"item pair(s) {'; '.join(never[:10])} were answered together by fewer than 2 respondents"
            f"{_where(group)} (a split or routed questionnaire?): their correlation cannot be estimated; fit "
            "those items in separate models")
    for i, j in zip(ii, jj):
        i, j = int(i), int(j)
        if num[i] and num[j]:
            r = bvreg_pair(values[:, i], values[:, j], th[i][0], var[i], th[j][0], var[j])
        elif num[i] or num[j]:
            c, o = (i, j) if num[i] else (j, i)
            r = polyserial_pair(values[:, c], th[c][0], var[c], codes[:, o], th[o])
        else:
            continue
        cor[i, j] = cor[j, i] = r
    _check_cor(cor, names, num, group)
    # scores and A21, H of every pair (lavaan's muthen1984)
    sc_cor = np.zeros((n, pstar))
    a21 = np.zeros((pstar, nth_all + nnum))
    h21 = np.zeros((pstar, nth_all + nnum))
    h22 = np.ones(pstar)
    for q, (i, j) in enumerate(zip(ii, jj)):
        i, j = int(i), int(j)
        rho = cor[i, j]
        if num[i] and num[j]:
            y1c, y2c = values[:, i] - th[i][0], values[:, j] - th[j][0]
            e1, e2, s1, s2 = var[i], var[j], sd[i], sd[j]
            rr = 1 - rho * rho
            d_mu1 = (2 * y1c / e1 - 2 * rho * y2c / (s1 * s2)) / (2 * rr)
            d_mu2 = -(2 * rho * y1c / (s1 * s2) - 2 * y2c / e2) / (2 * rr)
            d_var1 = -(0.5 / e1 - (y1c * y1c / (e1 * e1) - rho * y1c * y2c / (e1 * s1 * s2)) / (2 * rr))
            d_var2 = -(0.5 / e2 + (rho * y1c * y2c / (e2 * s1 * s2) - y2c * y2c / (e2 * e2)) / (2 * rr))
            zz = y1c * y1c / e1 - 2 * rho * y1c * y2c / (s1 * s2) + y2c * y2c / e2
            d_rho = rho / rr + (y1c * y2c / (s1 * s2 * rr) - zz * rho / (rr * rr))
            # a row missing either answer scores 0 (lavaan's NA in lav_matrix_crossprod)
            d_mu1, d_mu2, d_var1, d_var2, d_rho = (np.nan_to_num(v, nan=0.0)
                                                   for v in (d_mu1, d_mu2, d_var1, d_var2, d_rho))
            sc_cor[:, q] = d_rho
            a21[q, start[i]] = d_rho @ d_mu1
            a21[q, start[j]] = d_rho @ d_mu2
            a21[q, var_col[i]] = d_rho @ d_var1
            a21[q, var_col[j]] = d_rho @ d_var2
            h21[q, var_col[i]] = s2 * rho / (2 * s1)
            h21[q, var_col[j]] = s1 * rho / (2 * s2)
            h22[q] = s1 * s2
        elif num[i] or num[j]:
            c, o = (i, j) if num[i] else (j, i)
            both = ~np.isnan(values[:, c]) & (codes[:, o] > 0)
            z = np.where(both, (values[:, c] - th[c][0]) / sd[c], 0.0)
            z1, z2 = _cuts(np.where(both, codes[:, o], 1), th[o])
            r, a, b, pr, pa, pb = _bvmix(z, z1, z2, rho)
            inv = 1.0 / pr
            diff = pa - pb
            d_mu = (z + inv * (rho / r) * diff) / sd[c]
            d_var = ((z * z - 1) + inv * rho * z / r * diff) / (2 * var[c])
            k = len(th[o])
            cat = codes[:, o][:, None]
            y1 = cat == np.arange(1, k + 1)[None, :]
            y2 = cat == np.arange(2, k + 2)[None, :]
            d_th = (y1 * pa[:, None] - y2 * pb[:, None]) / r * inv[:, None]
            d_rho = inv / r ** 3 * (pa * (z1 * rho - z) - pb * (z2 * rho - z))
            # a row missing either answer scores 0 (pairwise)
            d_mu, d_var, d_rho = (np.where(both, v, 0.0) for v in (d_mu, d_var, d_rho))
            d_th = d_th * both[:, None]
            sc_cor[:, q] = d_rho
            a21[q, start[c]] = d_rho @ d_mu
            a21[q, start[o]:start[o + 1]] = d_rho @ d_th
            a21[q, var_col[c]] = d_rho @ d_var
            h21[q, var_col[c]] = rho / (2 * sd[c])
            h22[q] = sd[c]
        else:
            sc_cor[:, q], a_i, a_j = _ord_pair_parts(codes[:, i], codes[:, j], th[i], th[j], rho, cells.get((i, j)))
            a21[q, start[i]:start[i + 1]] = a_i
            a21[q, start[j]:start[j + 1]] = a_j
    sc = np.hstack(sc_th_cols + ([np.column_stack(sc_var_cols)] if nnum else []) + [sc_cor])
    inner = sc.T @ sc
    m11 = nth_all + nnum
    a11 = np.zeros((m11, m11))
    for j in range(p):
        idx = list(range(start[j], start[j + 1])) + ([var_col[j]] if num[j] else [])
        a11[np.ix_(idx, idx)] = inner[np.ix_(idx, idx)]
    a22 = np.diag(inner)[m11:]
    try:
        a11_inv = np.linalg.inv(a11)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - categories are non-empty, variances > 0
        raise NotPositiveDefiniteError(f"the univariate information matrix is singular{_where(group)}") from exc
    if np.any(a22 == 0):
        raise NotPositiveDefiniteError(f"a correlation has no information (all its scores are 0){_where(group)}")
    binv = np.zeros((m11 + pstar, m11 + pstar))
    binv[:m11, :m11] = a11_inv
    binv[m11:, :m11] = -(a21 / a22[:, None]) @ a11_inv
    binv[m11:, m11:] = np.diag(1.0 / a22)
    wls_w = binv @ inner @ binv.T
    h = np.eye(m11 + pstar)
    h[m11:, :m11] = h21
    h[m11:, m11:] = np.diag(h22)
    wls_w = h @ wls_w @ h.T
    th_item = np.concatenate([np.full(k, j) for j, k in enumerate(nth)]).astype(int)
    flip = np.ones(m11 + pstar)
    flip[:nth_all] = np.where(num[th_item], -1.0, 1.0)
    gamma = wls_w * np.outer(flip, flip) * n
    gamma = (gamma + gamma.T) / 2
    codes_out = np.where(num[None, :], 0, codes)
    return OrdinalStats(list(names), levels, codes_out, th, cor, gamma, n, numeric=num.copy(), var=var)


def _check_cor(cor: np.ndarray, names, num, group) -> None:
    """Correlations at the bound (an error) or near 1 (a warning), and a non-positive-definite
    matrix (a warning), as for the polychorics."""
    p = len(names)
    at_bound, near_one = [], []
    for j in range(p):
        for i in range(j + 1, p):
            r = cor[i, j]
            # the bounds of the searches: 0.999 (polychoric), 0.995 (polyserial), 1 (Pearson)
            bound = 1.0 - 1e-12 if num[i] and num[j] else (_POLYSERIAL_BOUND if num[i] or num[j] else 0.999)
            if abs(r) >= bound - 1e-12:
                at_bound.append(f"{names[j]} and {names[i]} ({r:+.3f})")
            elif abs(r) > 0.99:
                near_one.append(f"{names[j]} and {names[i]} ({r:+.4f})")
    if at_bound:
        raise NotPositiveDefiniteError(
            f"correlation of 1{_where(group)} (the estimate reached its bound): {'; '.join(at_bound[:10])}; "
            "the two items carry the same information (a duplicated column, or one item derived from the "
            "other); keep one item of each pair")
    if near_one:
        warnings.warn(
            f"correlation(s) of nearly 1{_where(group)}: {'; '.join(near_one[:10])} (as lavaan's "
            "'correlation ... is (nearly) 1.0'); the fit goes on, but check for a duplicated or recoded item",
            NotPositiveDefiniteWarning, stacklevel=4)
    ev = np.linalg.eigvalsh(cor)
    if ev.min() <= 0:
        warnings.warn(
            f"the correlation matrix of {', '.join(names)}{_where(group)} is not positive definite (smallest "
            f"eigenvalue {ev.min():.3g}): the pairwise estimates contradict each other; (D)WLS still fits "
            "(as lavaan), but the solution may be improper", NotPositiveDefiniteWarning, stacklevel=4)
