"""Private numerical core shared by items, reliability, omega and the bootstrap.

Everything here works on *stacks* of covariance matrices (shape ``(..., p, p)``)
so that the same code computes a point estimate (a stack of one) and a
bootstrap distribution (a stack of thousands) without Python loops.

Data preparation (``prepare_items``) validates the input once and reports
exactly which rows are used and why the others are excluded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from ..exceptions import (
    ConstantItemError,
    DataValidationError,
    FewItemsWarning,
    InsufficientDataError,
    NegativeCovarianceWarning,
    SingularMatrixError,
    SpecificationError,
)

NAN_POLICIES = ("listwise", "pairwise", "raise")

_CONTROLLER = None


def single_thread_blas():
    """Context manager limiting BLAS to one thread.

    Many tiny matrix operations (5 × 5 eigen-decompositions, L-BFGS-B's vector
    updates) are several times slower with multi-threaded BLAS on a busy
    machine; large products are left alone.
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except Exception:  # threadpoolctl missing or unsupported: run as is
        import contextlib

        return contextlib.nullcontext()


# --------------------------------------------------------------------------- input
@dataclass(frozen=True)
class Prepared:
    """Validated item data: ``x`` (rows used × items, float, NaN = missing)."""

    x: np.ndarray
    names: tuple[str, ...]
    n_rows: int  # rows given
    n_used: int  # rows that enter the statistic
    n_excluded: int  # rows dropped (listwise: incomplete; pairwise: all items missing)
    nan_policy: str
    has_missing: bool
    colsum: np.ndarray | None = None  # column sums of x when complete (computed by the validation pass)


def as_frame(items, names=None) -> pd.DataFrame:
    """``items`` as a DataFrame (an array gets the names ``item1..itemp``)."""
    if isinstance(items, pd.DataFrame):
        return items
    arr = np.asarray(items)
    if arr.ndim != 2:
        raise SpecificationError(
            f"items must be a 2-D table (respondents × items); got an array with {arr.ndim} dimension(s)"
        )
    cols = list(names) if names is not None else [f"item{i + 1}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=cols)


def prepare_items(
    items,
    *,
    nan_policy: str = "listwise",
    min_items: int = 2,
    check_constant: bool = True,
    require_n_gt_p: bool = True,
) -> Prepared:
    """Validate a respondents × items table and apply ``nan_policy``.

    Raises a custval error that names the offending item(s) for: non-numeric
    columns, an item without valid values, a constant item, too few rows.
    """
    if nan_policy not in NAN_POLICIES:
        raise SpecificationError(f"nan_policy must be one of {NAN_POLICIES}; got {nan_policy!r}")
    df = as_frame(items)
    names = tuple(str(c) for c in df.columns)
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise SpecificationError(f"item names must be unique; duplicated: {dup}")
    if len(names) < min_items:
        raise InsufficientDataError(
            f"at least {min_items} items are needed; got {len(names)} ({', '.join(names) or 'none'})"
        )
    bad = [c for c, dt in zip(df.columns, df.dtypes)
           if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt))]
    if bad:
        problems = [
            {"rule": "numeric", "column": str(c), "rows": None, "row_counting": None,
             "values": str(df[c].dtype), "n": int(len(df)), "allowed": "numeric dtype"}
            for c in bad
        ]
        raise DataValidationError(
            "items must be numeric; non-numeric column(s): "
            + ", ".join(f"{c} (dtype {df[c].dtype})" for c in bad),
            problems=problems,
        )
    x = df.to_numpy(dtype=float, na_value=np.nan)
    n_rows = x.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is located below
        colsum = x.sum(axis=0)
    if n_rows and np.isfinite(colsum).all():
        # fast path (one pass): finite column sums mean no NaN and no inf
        return _prepared_complete(x, names, nan_policy, check_constant, require_n_gt_p, colsum)
    if np.isinf(x).any():
        check_magnitude(df, power=2, n=n_rows, force=True)  # names column, rows and values
    n_rows = x.shape[0]
    miss = np.isnan(x)
    n_valid = (~miss).sum(axis=0)
    empty = [names[j] for j in np.flatnonzero(n_valid == 0)]
    if empty:
        raise InsufficientDataError(
            f"item(s) without any valid value (0 of {n_rows} rows): {', '.join(empty)}"
        )
    has_missing = bool(miss.any())
    if nan_policy == "raise" and has_missing:
        counts = {names[j]: int(miss[:, j].sum()) for j in np.flatnonzero(miss.any(axis=0))}
        rows = np.flatnonzero(miss.any(axis=1))
        raise DataValidationError(
            f"missing values with nan_policy='raise': {len(rows)} row(s) (0-based positions, first: "
            f"{rows[:5].tolist()}) have NaN; per item: {counts}. Use nan_policy='listwise' or 'pairwise'.",
            problems=[{"rule": "no_missing", "column": k, "rows": None, "row_counting": "0-based position",
                       "values": "NaN", "n": v, "allowed": "no missing values"} for k, v in counts.items()],
        )
    if nan_policy == "listwise":
        keep = ~miss.any(axis=1)
    else:
        keep = ~miss.all(axis=1)
    xu = x if keep.all() else x[keep]  # no copy of complete data
    n_used = int(keep.sum())
    _check_usable(xu, n_used, names, nan_policy, check_constant, require_n_gt_p)
    return Prepared(
        x=xu, names=names, n_rows=n_rows, n_used=n_used, n_excluded=n_rows - n_used,
        nan_policy=nan_policy, has_missing=bool(np.isnan(xu).any()),
    )


def _check_usable(x, n_used, names, nan_policy, check_constant, require_n_gt_p) -> None:
    """Raise when the ``n_used`` rows ``x`` cannot give the statistic: no more rows than items
    (``require_n_gt_p``), a constant item (``check_constant``) or fewer than 2 rows."""
    if require_n_gt_p and n_used <= len(names):
        raise InsufficientDataError(
            f"{n_used} respondent(s) ({nan_policy} use) but {len(names)} items: need more respondents "
            "than items for this statistic"
        )
    if check_constant:
        check_constant_items(x, names)
    if n_used < 2:
        raise InsufficientDataError(f"{n_used} usable respondent(s); at least 2 are needed")


def _prepared_complete(x, names, nan_policy, check_constant, require_n_gt_p, colsum=None) -> Prepared:
    n = x.shape[0]
    _check_usable(x, n, names, nan_policy, check_constant, require_n_gt_p)
    return Prepared(x=x, names=names, n_rows=n, n_used=n, n_excluded=0, nan_policy=nan_policy,
                    has_missing=False, colsum=colsum)


def check_constant_items(x: np.ndarray, names) -> None:
    """Raise :class:`ConstantItemError` naming every item with zero variance."""
    const, lo = constant_items(x)
    if const.size:
        raise ConstantItemError(
            f"constant item(s) have zero variance, the statistic is undefined: {describe_constant(const, lo, names)}"
        )


def describe_constant(const, lo, names) -> str:
    """``"A3 (every valid answer = 4), ..."`` for the constant items ``const``."""
    return ", ".join(f"{names[j]} (every valid answer = {lo[j]:g})" for j in const)


def constant_items(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the items with zero variance (every valid answer equal) and each item's value there."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = x[0]
        if not np.isnan(first).any():  # cheap screen: only columns equal to row 0 everywhere qualify
            head = x[: min(len(x), 64)]  # (a missing answer does not break constancy)
            cand = np.flatnonzero([((head[:, j] == first[j]) | np.isnan(head[:, j])).all()
                                   for j in range(x.shape[1])])
            cand = [j for j in cand if np.nanmin(x[:, j]) == np.nanmax(x[:, j])]
            lo = first
            const = np.array(cand, dtype=int)
        else:
            lo = np.nanmin(x, axis=0)
            hi = np.nanmax(x, axis=0)
            const = np.flatnonzero(lo == hi)
    return const, lo


# --------------------------------------------------------------------------- magnitude (overflow)
def overflow_limit(n: int, p: int, power: int = 2) -> float:
    """Largest |value| for which sums of ``power``-th powers and cross-products stay finite.

    Covariances (power 2) and the bootstrap's weighted sums of n rows of p items
    stay below the largest double with a margin when every |x| is at most
    (max_double / (16 n² p²))^(1/power); kurtosis needs ``power = 4``.
    """
    n, p = max(int(n), 1), max(int(p), 1)
    return float((np.finfo(float).max / (16.0 * n * n * p * p)) ** (1.0 / power))


def check_magnitude(items, *, power: int = 2, n: int | None = None, rows=None, force: bool = False) -> None:
    """Raise :class:`DataValidationError` naming the column, rows and values that are too large.

    ``items``: the DataFrame as given (its index labels name the rows);
    ``rows``: a boolean mask of the rows used (default all); values beyond
    :func:`overflow_limit` (and infinite values) are reported.  With ``force``
    an error is raised even when no single value passes the limit (the sums
    overflowed anyway).
    """
    df = as_frame(items)
    used = df if rows is None else df[np.asarray(rows, dtype=bool)]
    n = len(used) if n is None else n
    limit = overflow_limit(n, df.shape[1], power)
    problems, parts = [], []
    for col in used.columns:
        v = used[col].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.abs(v) > limit
        if bad.any():
            labels = [lab.item() if hasattr(lab, "item") else lab for lab in used.index[bad]]
            vals = v[bad].tolist()
            problems.append({"rule": "finite_moments", "column": str(col), "rows": labels[:50],
                             "row_counting": "index labels of the DataFrame", "values": vals[:50],
                             "n": int(bad.sum()), "allowed": f"finite values within ±{limit:.3g}"})
            parts.append(f"{col!r} at rows (index labels) {labels[:10]}: values {[f'{x:g}' for x in vals[:10]]}")
    if not problems and not force:
        return
    what = {2: "variances and covariances", 4: "skewness and kurtosis (4th powers)"}.get(power, "moments")
    if problems:
        msg = (f"item values too large to compute {what} in double precision (they overflow): "
               + "; ".join(parts) + f". Allowed: finite values within ±{limit:.3g} for {n} rows and "
               f"{df.shape[1]} items; check for a data-entry or export error (e.g. a code such as 1e300 or inf)")
    else:
        msg = (f"the {what} of the items overflow double precision (values of very large magnitude); "
               f"columns: {', '.join(map(str, used.columns))}")
    raise DataValidationError(msg, problems=problems)


def check_cov_finite(c: np.ndarray, items, *, n: int, rows=None) -> None:
    """After a covariance matrix: raise the :func:`check_magnitude` error if it overflowed (cheap check)."""
    limit = overflow_limit(n, c.shape[0], 2)
    finite = np.isfinite(c)
    if finite.all() and float(np.abs(c).max()) <= limit * limit:
        return
    if np.isinf(c).any() or (finite.any() and float(np.abs(c[finite]).max()) > limit * limit):
        check_magnitude(items, power=2, n=n, rows=rows, force=True)
    else:  # NaN: an overflow (inf - inf) or an undefined pairwise entry, reported by the caller's checks
        check_magnitude(items, power=2, n=n, rows=rows)


# --------------------------------------------------------------------------- covariances
def covariance(x: np.ndarray, *, pairwise: bool | None = None,
               colsum: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix (n − 1 denominator) and the pairwise counts.

    With missing values and ``pairwise``, each entry uses the rows where both
    items are observed, with means over those same rows — exactly R's
    ``cov(x, use = "pairwise")``.  ``colsum``: the column sums of ``x`` if
    already known (saves a pass over the data).
    """
    n, p = x.shape
    if colsum is None:
        colsum = x.sum(axis=0)
    if np.isfinite(colsum).all():
        cov = gram_cov(x, colsum)
        if cov is None:
            cov = complete_moments(x, powers=False)["cov"]
        return cov, np.full((p, p), n, dtype=float)
    miss = np.isnan(x)
    if pairwise is None:
        pairwise = bool(miss.any())
    if not pairwise:
        raise ValueError("covariance: missing values need pairwise=True")
    m = (~miss).astype(float)
    shift = np.nanmean(x, axis=0)
    x0 = np.where(miss, 0.0, x - shift)
    nij = m.T @ m
    sxy = x0.T @ x0
    sx = x0.T @ m  # sx[i, j]: sum of x_i over rows where i and j are observed
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * sx.T / nij) / (nij - 1)
    return cov, nij


# raw cross-products lose about log10(ratio) digits to cancellation, ratio = Σx² / Σ(x − x̄)²;
# 1e3 keeps >= 12 significant digits (Likert items: ratio ~ 10-60)
_GRAM_MAX_RATIO = 1e3


def gram_cov(x: np.ndarray, colsum: np.ndarray | None = None, *, exact: bool = False) -> np.ndarray | None:
    """Covariance (n − 1) of complete data from the raw cross-products X'X, without a copy.

    One symmetric BLAS product over the data, C = (X'X − s s'/n)/(n − 1) with the
    column sums s.  Returned only when it is accurate: ``exact`` data (integer
    codes, so every product and partial sum is an integer below 2^53 and X'X is
    exact) or when the cancellation ratio Σx²/Σ(x − x̄)² of every column is at
    most ``_GRAM_MAX_RATIO``; otherwise ``None`` (use :func:`complete_moments`,
    which centres chunk by chunk).
    """
    n, p = x.shape
    if n < 2:
        return None
    if colsum is None:
        colsum = x.sum(axis=0)
    with single_thread_blas():
        xtx = x.T @ x
    mean = colsum / n
    ss = np.diagonal(xtx)
    css = ss - colsum * mean
    if exact:
        if not (ss.max() < 2.0**53):
            return None
    elif not (np.all(css > 0) and np.all(ss <= _GRAM_MAX_RATIO * css)):
        return None
    return (xtx - np.outer(colsum, colsum) / n) / (n - 1)


def integer_codes(x: np.ndarray) -> tuple[np.ndarray, list] | None:
    """Small-integer copy of a complete block of integer codes and the value counts of each column.

    Returns ``(codes, [(values, counts), ...])`` or ``None`` when a column holds
    a value that is not an integer in [-32768, 32767] (the caller then uses the
    general path).  The copy is int8 (an eighth of the data's size) when every
    code fits, else int16 (a quarter).
    """
    n, p = x.shape
    if n == 0:
        return None
    for dtype in (np.int8, np.int16):
        codes = np.empty((n, p), dtype=dtype, order="F")
        counts = []
        for j in range(p):
            vc = integer_counts(x[:, j], out=codes[:, j])
            if vc is None:
                break
            counts.append(vc)
        else:
            return codes, counts
        col = x[:, len(counts)]
        if dtype is np.int16 or not (np.all(col == np.round(col)) and np.abs(col).max() < 2**15):
            return None  # not integer codes, or too large for int16
    return None


def gram_cov_codes(codes: np.ndarray, colsum: np.ndarray, maxabs: float) -> np.ndarray | None:
    """Covariance (n − 1) from integer codes, exact cross-products in float32 BLAS chunks.

    A chunk of m rows with |code| <= M has every product and partial sum an
    integer below m·M² <= 2^24, so the single-precision product is exact; the
    chunks are accumulated in double precision (exact below 2^53).  ``None``
    when the codes are too large for chunks of at least 1,024 rows.
    """
    n, p = codes.shape
    chunk = min(1 << 14, int(2**24 // max(maxabs * maxabs, 1.0)))
    if n < 2 or chunk < 1024 or n * maxabs * maxabs >= 2.0**53:
        return None
    xtx = np.zeros((p, p))
    with single_thread_blas():
        for start in range(0, n, chunk):
            c = codes[start : start + chunk].astype(np.float32)
            xtx += c.T @ c
    return (xtx - np.outer(colsum, colsum) / n) / (n - 1)


def integer_counts(col: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(values, counts)`` of a complete 1-D column of integer codes in [-32768, 32767], else None.

    The column is cast to int16 (or into ``out``, whose integer type sets the
    range) and compared back with the original, so a fractional, out-of-range
    or non-finite value returns ``None`` (the caller then uses the general
    path).  ``values`` runs over every integer from the minimum to the maximum
    (zero counts included).
    """
    if col.size == 0:
        return None
    ci = np.empty(col.shape, dtype=np.int16) if out is None else out
    with np.errstate(invalid="ignore", over="ignore"):
        np.copyto(ci, col, casting="unsafe")
    if not np.array_equal(ci, col):
        return None
    lo, hi = int(ci.min()), int(ci.max())
    span = hi - lo + 1
    if span <= 16:  # a few vectorised comparisons beat a scatter into bins
        counts = np.array([np.count_nonzero(ci == v) for v in range(lo, hi + 1)], dtype=np.int64)
    else:
        counts = np.bincount((ci.astype(np.intp) - lo), minlength=span).astype(np.int64)
    return np.arange(lo, hi + 1, dtype=float), counts


def describe_counts(values: np.ndarray, counts: np.ndarray) -> dict:
    """n, mean, central sums m2..m4, min, max, median of data given by value counts.

    Exactly the statistics of the expanded data: the median follows numpy's
    rule (the middle value, or the mean of the two middle values for even n).
    """
    n = int(counts.sum())
    mean = float((values * counts).sum()) / n
    dev = values - mean
    d2 = dev * dev
    m2, m3, m4 = (counts * d2).sum(), (counts * d2 * dev).sum(), (counts * d2 * d2).sum()
    cum = np.cumsum(counts)

    def order_stat(k):  # 0-based k-th smallest value
        return values[np.searchsorted(cum, k, side="right")]

    if n % 2:
        median = order_stat(n // 2)
    else:
        median = (order_stat(n // 2 - 1) + order_stat(n // 2)) / 2
    nz = np.flatnonzero(counts)
    return {"n": n, "mean": mean, "m2": m2, "m3": m3, "m4": m4,
            "min": values[nz[0]], "max": values[nz[-1]], "median": float(median)}


def complete_moments(x: np.ndarray, chunk: int = 1 << 15, powers: bool = True) -> dict:
    """Means, covariance and central power sums of complete data in one chunked pass.

    Rows are processed in chunks around a fixed shift (the mean of the first
    rows), so memory stays at one chunk beyond the data and cancellation is
    negligible.  Returns n, mean, cov (n − 1), m2, m3, m4 (central sums
    Σ(x − x̄)^r per column), min, max.
    """
    with single_thread_blas():  # many mid-size products: threads only contend on a shared machine
        return _complete_moments(x, chunk, powers)


def _complete_moments(x: np.ndarray, chunk: int, powers: bool = True) -> dict:
    n, p = x.shape
    shift = x[: min(n, 4096)].mean(axis=0)
    xtx = np.zeros((p, p))
    s1 = np.zeros(p)
    s2 = np.zeros(p)
    s3 = np.zeros(p)
    s4 = np.zeros(p)
    lo = np.full(p, np.inf)
    hi = np.full(p, -np.inf)
    for start in range(0, n, chunk):
        c = x[start: start + chunk] - shift
        xtx += c.T @ c
        s1 += c.sum(axis=0)
        if powers:
            c2 = c * c
            s2 += c2.sum(axis=0)
            s3 += (c2 * c).sum(axis=0)
            s4 += (c2 * c2).sum(axis=0)
            lo = np.minimum(lo, c.min(axis=0))
            hi = np.maximum(hi, c.max(axis=0))
    m1 = s1 / n
    cov = (xtx - np.outer(s1, s1) / n) / (n - 1)
    m2 = s2 - s1 * m1
    m3 = s3 - 3 * m1 * s2 + 2 * n * m1**3
    m4 = s4 - 4 * m1 * s3 + 6 * m1**2 * s2 - 3 * n * m1**4
    if powers and x.size <= 1 << 22:  # small data: exact two-pass central moments (no expansion error)
        dev = x - (shift + m1)
        d2 = dev * dev
        m2, m3, m4 = d2.sum(axis=0), (d2 * dev).sum(axis=0), (d2 * d2).sum(axis=0)
    return {"n": n, "mean": shift + m1, "cov": cov, "m2": m2, "m3": m3, "m4": m4,
            "min": lo + shift, "max": hi + shift}


def pairwise_cor(x: np.ndarray) -> np.ndarray:
    """R's ``cor(x, use = "pairwise")``: each r_ij from the rows where both items are observed
    (means *and* standard deviations over those rows).  Differs from ``cov2cor`` of the
    pairwise covariance, which uses each item's variance over all its valid rows."""
    miss = np.isnan(x)
    if not miss.any():
        return cov2cor(covariance(x)[0])
    m = (~miss).astype(float)
    x0 = np.where(miss, 0.0, x - np.nanmean(x, axis=0))
    nij = m.T @ m
    sx = x0.T @ m
    sxx = (x0**2).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cxy = sxy - sx * sx.T / nij
        vx = sxx - sx**2 / nij
        r = cxy / np.sqrt(vx * vx.T)
    np.fill_diagonal(r, 1.0)
    return r


def check_pair_counts(nij: np.ndarray, names) -> None:
    p = nij.shape[0]
    bad = [(names[i], names[j], int(nij[i, j])) for i in range(p) for j in range(i + 1, p) if nij[i, j] < 2]
    if bad:
        detail = ", ".join(f"{a}–{b} (n = {k})" for a, b, k in bad[:10])
        raise InsufficientDataError(
            f"pairwise covariance undefined: item pair(s) observed together in fewer than 2 rows: {detail}"
        )


def cov2cor(c: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    return c / (d[..., :, None] * d[..., None, :])


# --------------------------------------------------------------------------- coefficients (stacked)
def _tr(c):
    return np.trace(c, axis1=-2, axis2=-1)


def _sum(c):
    return c.sum(axis=(-2, -1))


def alpha_raw(c: np.ndarray) -> np.ndarray:
    """Cronbach's alpha from covariance matrices: k/(k−1)·(1 − tr C / 1'C1)."""
    k = c.shape[-1]
    return (1.0 - _tr(c) / _sum(c)) * (k / (k - 1))


def alpha_std(r: np.ndarray) -> np.ndarray:
    """Standardised alpha from correlation matrices: k/(k−1)·(1 − k / 1'R1)."""
    k = r.shape[-1]
    return (1.0 - k / _sum(r)) * (k / (k - 1))


def average_r(r: np.ndarray) -> np.ndarray:
    k = r.shape[-1]
    return (_sum(r) - k) / (k * (k - 1))


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations 1 − 1/diag(R⁻¹), clipped to [0, 1] as psych::smc.

    psych uses a pseudo-inverse (``Pinv``); for a non-singular R that is the
    inverse.  Singular matrices are rejected earlier (``check_singular``).
    """
    inv = np.linalg.inv(r)
    s = 1.0 - 1.0 / np.diagonal(inv, axis1=-2, axis2=-1)
    return np.clip(s, 0.0, 1.0)


def lambda6(r: np.ndarray) -> np.ndarray:
    """Guttman's lambda-6 (psych ``G6(smc)``): 1 − (k − Σ smc) / 1'R1."""
    k = r.shape[-1]
    return 1.0 - (k - smc(r).sum(axis=-1)) / _sum(r)


def duhachek_q(c: np.ndarray) -> np.ndarray:
    """Duhachek & Iacobucci (2004) asymptotic variance term Q (psych ``alpha``):

    Q = 2k²/((k−1)²(1'C1)³) · [1'C1 (tr C² + (tr C)²) − 2 tr C · 1'C²1]
    and se(alpha) = sqrt(Q / n).
    """
    k = c.shape[-1]
    s = _sum(c)
    c2 = c @ c
    return (2 * k**2 / ((k - 1) ** 2 * s**3)) * (s * (_tr(c2) + _tr(c) ** 2) - 2 * _tr(c) * _sum(c2))


def regular_cor(r: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Which matrices of a stack (B, p, p) of correlation matrices have an inverse.

    True where every entry is finite (an item constant in the sample makes its
    correlations NaN) and the smallest eigenvalue exceeds ``tol`` (fewer
    distinct rows than items, or collinear items, make R singular): the
    criterion statistics that need R⁻¹ (SMCs, minres, lambda-6) use.
    """
    r = np.asarray(r, dtype=float)
    finite = np.isfinite(r).all(axis=(-2, -1))
    out = np.zeros(r.shape[:-2], dtype=bool)
    if finite.any():
        out[finite] = np.linalg.eigvalsh(r[finite])[..., 0] > tol
    return out


def check_singular(r: np.ndarray, names, *, what: str = "this statistic", tol: float = 1e-10) -> None:
    """Raise :class:`SingularMatrixError` naming collinear items (never a LinAlgError)."""
    p = r.shape[0]
    if not np.isfinite(r).all():
        raise SingularMatrixError(f"the correlation matrix has undefined entries; {what} cannot be computed")
    pairs = [
        (names[i], names[j], r[i, j]) for i in range(p) for j in range(i + 1, p) if abs(r[i, j]) > 1 - 1e-12
    ]
    if pairs:
        detail = ", ".join(f"{a} and {b} (r = {v:.12g})" for a, b, v in pairs)
        raise SingularMatrixError(f"perfectly collinear items, {what} needs R⁻¹: {detail}")
    w, v = np.linalg.eigh(r)
    if w[0] < tol:
        vec = v[:, 0]
        involved = [names[j] for j in np.flatnonzero(np.abs(vec) > 1e-6)]
        raise SingularMatrixError(
            f"the item correlation matrix is singular (smallest eigenvalue {w[0]:.3g} < {tol:g}); "
            f"{what} needs R⁻¹. Items in the linear dependency: {', '.join(involved)}"
        )


def warn_scale(c: np.ndarray, names, label: str = "the scale") -> None:
    """Typed warnings for fewer than 3 items and a negative average covariance."""
    k = c.shape[0]
    if k < 3:
        warnings.warn(
            f"{label} has {k} items ({', '.join(names)}); alpha and omega are weakly informative "
            "for fewer than 3 items",
            FewItemsWarning,
            stacklevel=3,
        )
    avg = (c.sum() - np.trace(c)) / (k * (k - 1))
    if avg < 0:
        warnings.warn(
            f"{label}: the average inter-item covariance is negative ({avg:.4g}), so alpha is "
            "negative or meaningless; check the item keying",
            NegativeCovarianceWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------- split halves
def split_half_values(r: np.ndarray, splits: str = "all") -> np.ndarray:
    """Split-half reliabilities 4·r_AB / 1'R1 (Rulon/Flanagan in correlation metric), per split.

    ``splits="all"`` uses every distinct split into ⌊k/2⌋ and ⌈k/2⌉ items;
    ``splits="psych"`` reproduces psych::splitHalf's enumeration, which for an
    odd number of items visits only the first half (lexicographic order) of the
    ``choose(k, ⌊k/2⌋)`` splits — it then depends on the order of the items.
    """
    k = r.shape[-1]
    m = k // 2
    combos = list(combinations(range(k), m))
    if splits == "all":
        if k % 2 == 0:  # every split appears twice (A and its complement)
            combos = [c for c in combos if 0 in c]
    elif splits == "psych":
        count = round(len(combos)) / 2
        combos = combos[: int(np.ceil(count))]
    else:
        raise SpecificationError(f"splits must be 'all' or 'psych'; got {splits!r}")
    a = np.zeros((len(combos), k))
    for i, c in enumerate(combos):
        a[i, list(c)] = 1.0
    b = 1.0 - a
    rab = np.einsum("si,...ij,sj->...s", a, r, b)
    out = 4.0 * rab / _sum(r)[..., None]
    return out
