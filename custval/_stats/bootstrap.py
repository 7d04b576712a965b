"""Vectorised case-resampling bootstrap for covariance-based coefficients (private).

Instead of looping over resamples, the engine draws all resamples of a chunk at
once as a matrix of resampling counts W (resamples × respondents; row b holds
how often each respondent appears in resample b), and obtains every
resample's covariance matrix from one matrix product::

    S1 = W @ X,    S2 = W @ (x_i x_j)        (per row, all item pairs of all blocks)
    C_b = (S2_b − S1_b,i S1_b,j / n) / (n − 1)

With missing values (pairwise use) the same is done with the missingness
masks, which gives exactly R's ``cov(x, use = "pairwise")`` and
``cor(x, use = "pairwise")`` of each resample.  The coefficients are then
computed on the whole stack of matrices (``(B, k, k)``) at once.

Intervals: percentile and BCa (Efron, 1987), the acceleration from the
jackknife, whose leave-one-out moments are the full-sample sums minus each
row's contribution (no refitting loop).

Resampling is seeded (``numpy.random.default_rng(seed)``) and drawn in chunks of
fixed size, so results are reproducible and independent of memory settings.

A resample can make a statistic undefined (an item constant in the resample:
its correlations are NaN; fewer distinct rows than items: R is singular).  Such
values are NaN; :func:`interval_with_failures` leaves them out, counts them, and
gives no interval (NaN) when they are more than half of the resamples.

Reference: Efron, B. (1987). Better bootstrap confidence intervals. *Journal of
the American Statistical Association, 82*(397), 171–185.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri  # normal cdf and quantile (what scipy.stats.norm calls)

from ..exceptions import BootstrapWarning

CHUNK = 250  # resamples per chunk (fixed: part of the seeded stream's definition)


@dataclass(frozen=True)
class BootResult:
    """``values[name][block]`` is the array of ``n_boot`` bootstrap values of one statistic."""

    values: dict
    jack: dict | None
    n_boot: int
    seed: int


class _Design:
    """Per-row terms whose weighted sums give every block's (pairwise) moments."""

    def __init__(self, x: np.ndarray, blocks, pairwise: bool):
        self.blocks = [np.asarray(b, dtype=int) for b in blocks]
        cols = np.unique(np.concatenate(self.blocks))
        self.cols = cols
        pos = {c: i for i, c in enumerate(cols)}
        xs = x[:, cols]
        miss = np.isnan(xs)
        self.pairwise = bool(pairwise and miss.any())
        if miss.any() and not self.pairwise:
            raise ValueError("bootstrap: missing values need pairwise use (or listwise-filtered data)")
        self.n = x.shape[0]
        shift = np.nanmean(xs, axis=0)
        x0 = np.where(miss, 0.0, xs - shift)
        # each item's variance in the data: a resample variance below 1e-10 of it is a constant item
        # (the sums give roundoff, not 0), whose correlations are then NaN
        self.scale = (x0**2).sum(axis=0) / np.maximum((~miss).sum(axis=0) - 1, 1)
        m = (~miss).astype(float)
        # all pairs (i <= j) within blocks, in local (cols) indices
        pairs = sorted({(pos[a], pos[b]) if pos[a] <= pos[b] else (pos[b], pos[a])
                        for blk in self.blocks for a in blk for b in blk})
        self.pairs = np.array(pairs, dtype=int)
        self.pair_index = {p: k for k, p in enumerate(pairs)}
        pi, pj = self.pairs[:, 0], self.pairs[:, 1]
        terms = [x0[:, pi] * x0[:, pj]]  # sxy
        if self.pairwise:
            terms += [m[:, pi] * m[:, pj], x0[:, pi] * m[:, pj], x0[:, pj] * m[:, pi],
                      x0[:, pi] ** 2 * m[:, pj], x0[:, pj] ** 2 * m[:, pi]]
        else:
            terms += [x0]
        self.z = np.concatenate(terms, axis=1)  # n × terms
        self.q = len(pairs)
        self.local = [np.array([pos[c] for c in b]) for b in self.blocks]

    def moments(self, sums: np.ndarray, n) -> list[tuple[np.ndarray, np.ndarray]]:
        """(covariance stack, pairwise-correlation stack) per block from weighted sums (B × terms)."""
        q = self.q
        B = sums.shape[0]
        pi, pj = self.pairs[:, 0], self.pairs[:, 1]
        sxy = sums[:, :q]
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.pairwise:
                nij, sx, sy, sxx, syy = (sums[:, q * k: q * (k + 1)] for k in range(1, 6))
                cov = (sxy - sx * sy / nij) / (nij - 1)
                cxy = sxy - sx * sy / nij
                vx, vy = sxx - sx**2 / nij, syy - sy**2 / nij
                cor = cxy / np.sqrt(vx * vy)
                # an item constant on the rows of a pair (roundoff, not 0): that correlation is NaN
                tiny = 1e-10 * (nij - 1)
                cor[~((vx > tiny * self.scale[pi]) & (vy > tiny * self.scale[pj]))] = np.nan
            else:
                s1 = sums[:, q:]
                nn = np.asarray(n, dtype=float).reshape(-1, 1)
                cov = (sxy - s1[:, pi] * s1[:, pj] / nn) / (nn - 1)
                cor = None
        out = []
        for loc in self.local:  # an item constant in a resample: its correlations are NaN (counted later)
            k = len(loc)
            idx = np.array([[self.pair_index[(min(loc[a], loc[b]), max(loc[a], loc[b]))]
                             for b in range(k)] for a in range(k)])
            c = cov[:, idx]
            var = np.diagonal(c, axis1=1, axis2=2)
            if cor is None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = np.sqrt(var)
                    r = c / (d[:, :, None] * d[:, None, :])
            else:
                r = cor[:, idx]
                r[:, np.arange(k), np.arange(k)] = 1.0
            with np.errstate(invalid="ignore"):
                flat = ~(var > 1e-10 * self.scale[loc])  # constant in this resample (or NaN)
            if flat.any():
                r = np.where(flat[:, :, None] | flat[:, None, :], np.nan, r)
            out.append((c.reshape(B, k, k), r.reshape(B, k, k)))
        return out


def resample_counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """(b × n) resampling counts: row sums n, drawn as b·n uniform indices."""
    idx = rng.integers(0, n, size=(b, n), dtype=np.int64)
    idx += (np.arange(b, dtype=np.int64) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)


def bootstrap_blocks(
    x: np.ndarray,
    blocks,
    stat_fn,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    pairwise: bool = False,
    progress: bool = False,
    jackknife: bool = False,
) -> BootResult:
    """Bootstrap ``stat_fn(C, R) -> {name: (B,) array}`` for every block of columns.

    ``x`` holds the rows used (NaN only with ``pairwise``); ``blocks`` lists
    column-index arrays (e.g. one per construct).  ``C`` and ``R`` are stacks of
    covariance and correlation matrices (``R`` is R's pairwise correlation with
    missing data, else ``cov2cor(C)``).
    """
    from .relcore import single_thread_blas

    with single_thread_blas():  # chunk-sized products and tiny matrices: one BLAS thread is faster
        return _bootstrap_blocks(x, blocks, stat_fn, n_boot=n_boot, seed=seed, pairwise=pairwise,
                                 progress=progress, jackknife=jackknife)


def _bootstrap_blocks(x, blocks, stat_fn, *, n_boot, seed, pairwise, progress, jackknife) -> BootResult:
    x = np.asarray(x, dtype=float)
    design = _Design(x, blocks, pairwise)
    n = design.n
    rng = np.random.default_rng(seed)
    values: dict[str, list[list[np.ndarray]]] = {}
    chunks = [min(CHUNK, n_boot - s) for s in range(0, n_boot, CHUNK)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_boot, desc="bootstrap", unit="resample")
    try:
        for b in chunks:
            w = resample_counts(rng, b, n)
            sums = w @ design.z
            for j, (c, r) in enumerate(design.moments(sums, n)):
                with np.errstate(invalid="ignore", divide="ignore"):  # undefined values are NaN, counted
                    got = stat_fn(c, r)
                for name, v in got.items():
                    values.setdefault(name, [[] for _ in design.blocks])[j].append(np.asarray(v, float))
            if bar is not None:
                bar.update(b)
    finally:
        if bar is not None:
            bar.close()
    vals = {k: [np.concatenate(parts) for parts in per_block] for k, per_block in values.items()}
    jack = None
    if jackknife:
        jack = jackknife_blocks(x, design, stat_fn)
    return BootResult(values=vals, jack=jack, n_boot=n_boot, seed=seed)


def jackknife_blocks(x, design: _Design, stat_fn, chunk: int = 2000) -> dict:
    """Leave-one-out values of ``stat_fn`` per block (sums minus each row's terms)."""
    total = design.z.sum(axis=0)
    n = design.n
    out: dict[str, list[list[np.ndarray]]] = {}
    for start in range(0, n, chunk):
        sums = total[None, :] - design.z[start: start + chunk]
        for j, (c, r) in enumerate(design.moments(sums, n - 1)):
            with np.errstate(invalid="ignore", divide="ignore"):
                got = stat_fn(c, r)
            for name, v in got.items():
                out.setdefault(name, [[] for _ in design.blocks])[j].append(np.asarray(v, float))
    return {k: [np.concatenate(p) for p in per] for k, per in out.items()}


def bootstrap_coefficients(x, spec: dict, **kw) -> BootResult:
    """Bootstrap alpha-family coefficients; ``spec`` maps "alpha" to a list of blocks."""
    from . import relcore as core

    def fn(c, r):
        return {"alpha": core.alpha_raw(c)}

    return bootstrap_blocks(x, spec["alpha"], fn, **kw)


#: the interval is reported as undefined (NaN) when more than this share of the resamples is undefined
MAX_FAILED_SHARE = 0.5


@dataclass(frozen=True)
class Interval:
    """A bootstrap interval with the number of undefined resamples and, if any, a note saying so."""

    low: float
    high: float
    n_failed: int
    n_boot: int
    note: str = ""


def interval_with_failures(boot: np.ndarray, estimate: float, *, ci: float = 0.95, method: str = "percentile",
                           jack: np.ndarray | None = None, what: str = "the statistic",
                           why: str = "") -> Interval:
    """Percentile or BCa interval from the *defined* bootstrap values, with the count of undefined ones.

    Rule (deterministic for a seed): a resample whose statistic is undefined
    (NaN: e.g. an item constant in the resample, or fewer distinct respondents
    than items so that R is singular) is left out and counted in ``n_failed``;
    the interval is the one of the remaining resamples, i.e. conditional on a
    defined statistic.  When more than ``MAX_FAILED_SHARE`` (half) of the
    resamples are undefined, that conditional distribution no longer stands for
    the sampling distribution and the interval is NaN.  ``note`` states either
    case (``what``: the statistic's name, ``why``: the usual cause); the caller
    warns with it.  With no undefined resample the interval is exactly that of
    :func:`interval`.
    """
    boot = np.asarray(boot, dtype=float)
    bad = ~np.isfinite(boot)
    nf = int(bad.sum())
    cause = f" ({why})" if why else ""
    if nf > MAX_FAILED_SHARE * boot.size:
        return Interval(float("nan"), float("nan"), nf, boot.size,
                        f"{what}: {nf} of {boot.size} bootstrap resamples are undefined{cause}, more than "
                        f"{MAX_FAILED_SHARE:.0%}; the confidence interval is undefined (NaN)")
    lo, hi = _interval(boot[~bad], estimate, ci=ci, method=method, jack=jack)
    note = ""
    if nf:
        note = (f"{what}: {nf} of {boot.size} bootstrap resamples are undefined{cause} and left out of "
                "the interval")
    return Interval(lo, hi, nf, boot.size, note)


def interval(boot: np.ndarray, estimate: float, *, ci: float = 0.95, method: str = "percentile",
             jack: np.ndarray | None = None) -> tuple[float, float]:
    """Percentile or BCa interval from bootstrap values (NaN resamples are dropped with a warning)."""
    boot = np.asarray(boot, dtype=float)
    bad = ~np.isfinite(boot)
    if bad.any():
        warnings.warn(
            f"{int(bad.sum())} of {boot.size} bootstrap resamples gave an undefined value and were "
            "left out of the interval",
            BootstrapWarning,
            stacklevel=3,
        )
        boot = boot[~bad]
    return _interval(boot, estimate, ci=ci, method=method, jack=jack)


def _interval(boot, estimate, *, ci, method, jack) -> tuple[float, float]:
    a = 1 - ci
    if method == "percentile":
        lo, hi = np.quantile(boot, [a / 2, 1 - a / 2])
        return float(lo), float(hi)
    if method != "bca":
        raise ValueError(f"unknown interval method {method!r}")
    if jack is None:
        raise ValueError("BCa needs jackknife values")
    prop = (np.sum(boot < estimate) + 0.5 * np.sum(boot == estimate)) / boot.size
    z0 = ndtri(np.clip(prop, 1e-10, 1 - 1e-10))
    jack = jack[np.isfinite(jack)]
    d = jack.mean() - jack
    den = 6.0 * np.sum(d**2) ** 1.5
    acc = float(np.sum(d**3) / den) if den > 0 else 0.0
    z = ndtri(np.array([a / 2, 1 - a / 2]))
    adj = ndtr(z0 + (z0 + z) / (1 - acc * (z0 + z)))
    lo, hi = np.quantile(boot, adj)
    return float(lo), float(hi)
