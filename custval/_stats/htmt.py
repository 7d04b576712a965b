"""Private engine for HTMT and its bootstrap.

All bootstrap resamples are computed at once: a resample is a vector of
multinomial counts ``w`` (how often each respondent is drawn), so its
covariance matrix is a *weighted* covariance of the original data.  With the
column products ``Z[:, (i, j)] = x_i * x_j`` of the centred data, the second
moments of every resample are one matrix product ``W @ Z``; no resampled data
set is ever built.
"""

from __future__ import annotations

import numpy as np

from .bootstrap import resample_counts

#: rows of W handled per matrix product (bounds memory at about chunk × p² doubles)
_CHUNK = 500


def weighted_correlations(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Correlation matrices of the resamples given by ``weights``.

    Parameters
    ----------
    x : (n, p) complete data.
    weights : (B, n) non-negative counts, each row summing to n.

    Returns
    -------
    (B, p, p) correlation matrices (diagonal set to exactly 1).
    """
    n, p = x.shape
    xc = x - x.mean(axis=0)
    iu, ju = np.triu_indices(p)
    z = xc[:, iu] * xc[:, ju]  # (n, p(p+1)/2)
    var_ref = (xc**2).mean(axis=0)
    out = np.empty((weights.shape[0], p, p))
    for start in range(0, weights.shape[0], _CHUNK):
        w = weights[start : start + _CHUNK]
        tot = w.sum(axis=1, keepdims=True)
        m = (w @ xc) / tot  # (c, p)
        s2 = (w @ z) / tot  # (c, p(p+1)/2)
        cov = s2 - m[:, iu] * m[:, ju]
        full = np.empty((w.shape[0], p, p))
        full[:, iu, ju] = cov
        full[:, ju, iu] = cov
        var = np.diagonal(full, axis1=1, axis2=2).copy()
        # a resample in which an item is constant: its variance is rounding noise, its
        # correlations undefined (NaN), never +-inf
        var[var <= 1e-10 * var_ref] = np.nan
        sd = np.sqrt(var)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = full / sd[:, :, None] / sd[:, None, :]
        idx = np.arange(p)
        r[:, idx, idx] = 1.0
        out[start : start + w.shape[0]] = r
    return out


def htmt_from_correlations(
    r: np.ndarray, blocks: list[np.ndarray], *, kind: str = "htmt", absolute: bool = True
) -> np.ndarray:
    """HTMT matrices (…, k, k) from correlation matrices (…, p, p).

    ``blocks`` holds, per construct, the column indices of its items.  The
    arithmetic (``kind="htmt"``, Henseler et al., 2015) or geometric
    (``kind="htmt2"``, Roemer et al., 2021) mean of the off-diagonal
    within-construct correlations and of all between-construct correlations
    enter ``mean_ab / sqrt(mean_aa * mean_bb)``, exactly as semTools::htmt.
    Constructs with one item get NaN (no monotrait correlation exists).
    """
    r = np.asarray(r, dtype=float)
    if absolute or kind == "htmt2":  # semTools: abs(R) whenever absolute or htmt2
        r = np.abs(r)
    if kind == "htmt2":
        with np.errstate(divide="ignore"):
            r = np.log(r)
    k = len(blocks)
    p = r.shape[-1]
    g = np.zeros((p, k))
    for j, idx in enumerate(blocks):
        g[idx, j] = 1.0
    sums = g.T @ r @ g  # (…, k, k): block sums incl. the diagonal of R
    sizes = np.array([len(b) for b in blocks], dtype=float)
    diag_val = 0.0 if kind == "htmt2" else 1.0  # log(1) or 1 on the diagonal of R
    counts = np.outer(sizes, sizes)
    within_sum = np.diagonal(sums, axis1=-2, axis2=-1) - sizes * diag_val
    with np.errstate(invalid="ignore", divide="ignore"):
        within = within_sum / (sizes * (sizes - 1))
        between = sums / counts
    if kind == "htmt2":
        within = np.exp(within)
        between = np.exp(between)
    within = np.where(sizes > 1, within, np.nan)
    with np.errstate(invalid="ignore"):
        out = between / np.sqrt(within[..., :, None] * within[..., None, :])
    idx = np.arange(k)
    out[..., idx, idx] = np.where(sizes > 1, 1.0, np.nan)
    return out


def multinomial_weights(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) counts of an ordinary nonparametric bootstrap (Efron, 1979).

    The shared engine's ``custval._stats.bootstrap.resample_counts`` (same stream).
    """
    return resample_counts(rng, n_boot, n)
