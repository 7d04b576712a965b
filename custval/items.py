"""Item analysis: descriptive statistics, item-total correlations and alpha if deleted.

One row per item, the numbers of ``psych::describe`` and ``psych::alpha``
(``tests/r/reliability.R`` holds the reference calls).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._sem.spec import as_instrument
from ._stats import relcore as core
from .exceptions import (
    ConstantItemWarning,
    DataValidationError,
    ItemKeyingWarning,
    SparseCategoryWarning,
    SpecificationError,
)

__all__ = ["collapse_categories", "estimator_advice", "item_analysis"]

COLUMNS = (
    "construct", "n", "mean", "sd", "median", "min", "max", "skew", "kurtosis",
    "pct_floor", "pct_ceiling", "raw_r", "r_cor", "r_drop", "alpha_if_deleted", "mean_r",
)


def _describe(x: np.ndarray, mom: dict | None = None) -> dict[str, np.ndarray]:
    """psych::describe (type = 3) per column, ignoring NaN (``mom``: complete-data moments)."""
    if mom is not None:  # complete data: one chunked pass (no full-size temporaries)
        n = float(mom["n"])
        sd = np.sqrt(mom["m2"] / (n - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            skew = mom["m3"] / (n * sd**3)
            kurt = mom["m4"] / (n * sd**4) - 3.0
        return {
            "n": np.full(x.shape[1], n), "mean": mom["mean"], "sd": sd,
            "median": np.array([np.median(x[:, j]) for j in range(x.shape[1])]),
            "min": mom["min"], "max": mom["max"], "skew": skew, "kurtosis": kurt,
        }
    n = (~np.isnan(x)).sum(axis=0).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=0)
        dev = x - mean
        sd = np.sqrt(np.nansum(dev**2, axis=0) / (n - 1))
        skew = np.nansum(dev**3, axis=0) / (n * sd**3)
        kurt = np.nansum(dev**4, axis=0) / (n * sd**4) - 3.0
        out = {
            "n": n, "mean": mean, "sd": sd, "median": np.nanmedian(x, axis=0),
            "min": np.nanmin(x, axis=0), "max": np.nanmax(x, axis=0), "skew": skew, "kurtosis": kurt,
        }
    return out


def _describe_counts(counts: list) -> dict[str, np.ndarray]:
    """``_describe`` of complete integer items from their value counts (no sort, no power passes).

    Same formulas as the data path; the median is numpy's (mean of the two middle
    values for even n), read from the cumulative counts.
    """
    rows = [core.describe_counts(v, c) for v, c in counts]

    def col(key):
        return np.array([r[key] for r in rows], dtype=float)

    n, m2, m3, m4 = col("n"), col("m2"), col("m3"), col("m4")
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(m2 / (n - 1))
        skew = m3 / (n * sd**3)
        kurt = m4 / (n * sd**4) - 3.0
    return {"n": n, "mean": col("mean"), "sd": sd, "median": col("median"), "min": col("min"),
            "max": col("max"), "skew": skew, "kurtosis": kurt}


def _scale_block(x: np.ndarray | None, names, nan_policy: str, cov: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Item-total statistics of one scale (psych::alpha ``item.stats`` / ``alpha.drop``)."""
    k = len(names)
    nan = np.full(k, np.nan)
    if k < 2:
        return {"raw_r": nan, "r_cor": nan, "r_drop": nan, "alpha_if_deleted": nan, "mean_r": nan}
    if cov is not None:  # complete data: everything follows from C
        c, pairwise = cov, False
    else:
        if nan_policy == "listwise":
            x = x[~np.isnan(x).any(axis=1)]
        pairwise = bool(np.isnan(x).any())
        c, nij = core.covariance(x, pairwise=pairwise)
        if pairwise:
            core.check_pair_counts(nij, names)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = core.cov2cor(c)
        csum = c.sum()
        colsum = c.sum(axis=0)
        diag = np.diag(c)
        # r.drop: covariance of item with the sum of the others over sqrt(var_i * var(rest))
        v_rest = csum - 2 * colsum + diag
        r_drop = (colsum - diag) / np.sqrt(diag * v_rest)
        # alpha if deleted (raw alpha of C[-i, -i])
        tr = np.trace(c)
        alpha_del = (1 - (tr - diag) / v_rest) * ((k - 1) / (k - 2)) if k > 2 else nan.copy()
        # r.cor: colSums(RC)/sqrt(sum(RC)) with RC = R, diag(RC) = smc(R)
        try:
            rc = r.copy()
            np.fill_diagonal(rc, core.smc(r))
            r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
        except np.linalg.LinAlgError:
            r_cor = nan.copy()
        # raw.r: cor(rowMeans(x, na.rm = TRUE), x, use = "pairwise"); with complete data
        # cov(x_j, mean) = colSum_j(C)/k and var(mean) = 1'C1/k², so raw.r = colSum_j(C)/sqrt(C_jj 1'C1)
        if pairwise:
            with warnings.catch_warnings():  # a row without answers has no mean (left out below)
                warnings.simplefilter("ignore", RuntimeWarning)
                total = np.nanmean(x, axis=1)
            raw_r = np.array([_pair_cor(total, x[:, j]) for j in range(k)])
        else:
            raw_r = colsum / np.sqrt(diag * csum)
        mean_r = (r.sum(axis=0) - 1.0) / (k - 1)
    return {"raw_r": raw_r, "r_cor": r_cor, "r_drop": r_drop, "alpha_if_deleted": alpha_del, "mean_r": mean_r}


def _alpha_if_deleted_all(xb, mom, nan_policy, names) -> np.ndarray:
    """Raw alpha of the k − 1 other items for every item, constant items included (they count in k − 1).

    Uses the covariances of all k items (a constant item has a zero row), the
    same pairwise / listwise covariances as :func:`_scale_block`.  NaN only
    where the other items are all constant (their total has no variance).
    """
    if mom is not None:
        c = mom["cov"]
    else:
        x = xb[~np.isnan(xb).any(axis=1)] if nan_policy == "listwise" else xb
        c, nij = core.covariance(x, pairwise=bool(np.isnan(x).any()))
        if np.isnan(x).any():
            core.check_pair_counts(nij, names)
    k = c.shape[0]
    diag = np.diag(c)
    v_rest = c.sum() - 2 * c.sum(axis=0) + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (1 - (np.trace(c) - diag) / v_rest) * ((k - 1) / (k - 2))
    out[~(v_rest > 0)] = np.nan
    return out


def _pair_cor(a, b) -> float:
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    return float((a @ b) / np.sqrt((a @ a) * (b @ b)))


def _item_bounds(instrument) -> tuple[dict, dict]:
    """Item -> floor / ceiling: the item's own scale (duck-typed instruments: their one scale)."""
    getter = getattr(instrument, "item_scale", None)
    floor, ceiling = {}, {}
    for i in (i for its in instrument.constructs.values() for i in its):
        sc = getter(i) if getter is not None else None
        floor[i] = sc.min if sc is not None else instrument.scale_min
        ceiling[i] = sc.max if sc is not None else instrument.scale_max
    return floor, ceiling


def item_analysis(data, instrument=None, *, items=None, nan_policy: str = "pairwise") -> pd.DataFrame:
    r"""Item statistics, item-total correlations and alpha if an item is deleted.

    One row per item (indexed by item id) with the columns

    * ``n, mean, sd, median, min, max``: valid answers and their statistics
      (sd with the n − 1 denominator);
    * ``skew, kurtosis``: psych::describe's default ``type = 3``,
      :math:`b_1 = m_3/s^3` and :math:`b_2 = m_4/s^4 - 3` with central moments
      :math:`m_r = \sum (x-\bar x)^r/n` and the sample sd *s* (n − 1);
    * ``pct_floor, pct_ceiling``: percent of valid answers at the minimum /
      maximum of the item's own scale (``Instrument.item_scale``; the
      instrument's ``scale_min`` / ``scale_max`` unless the codebook gives the
      construct or item its own ``scale:``; without an instrument: at the
      observed minimum / maximum of all items);
    * ``raw_r``: correlation of the item with the scale mean (psych ``raw.r``);
    * ``r_cor``: item-total correlation corrected for item overlap and
      reliability (psych ``r.cor``: R with the SMCs on its diagonal);
    * ``r_drop``: corrected item-total correlation, item vs. the sum of the other
      items, from the covariance matrix (psych ``r.drop``);
    * ``alpha_if_deleted``: raw alpha of the scale without the item (psych
      ``alpha.drop$raw_alpha``); NaN for a two-item scale, where one item is
      left (psych then reports the ratio C12/C22, which is not an alpha).
      A constant item still counts in the scale: its row gives the alpha of
      the other items, and the other rows the alpha of k − 1 items including
      it (psych::alpha instead drops a constant item from the scale first, so
      its ``alpha.drop`` has no row for it and k − 2 items in the others);
    * ``mean_r``: the item's mean correlation with the other items of its scale.

    With an ``instrument`` (an Instrument, a shipped instrument's name or a codebook
    path), reverse items are recoded by ``instrument.keyed`` and
    the scale statistics are computed within each construct (column
    ``construct``); without one, ``items`` (or all columns) form one scale named
    ``"scale"``.  Rows follow the instrument's codebook order, otherwise the
    order given; no value depends on the order of the items.  So ``instrument=None``
    (the default) means one scale, and ``items=None`` means every column of ``data``
    (with an instrument: its items).

    Complete integer codes (any Likert scale) take a faster path with the same
    numbers: the descriptive statistics, median included, come from each
    item's value counts, and the covariance matrix from exact integer
    cross-products; other data are sorted and centred as usual.

    Parameters
    ----------
    data : DataFrame
        Respondents × items (other columns are ignored when an instrument or
        ``items`` names the items).
    instrument : Instrument, optional
        Gives the constructs, reverse keys and item scales.
    items : sequence of str, optional
        Without an instrument: the item columns (default: all columns).
    nan_policy : {"pairwise", "listwise"}
        ``"pairwise"`` (psych's default) uses pairwise covariances;
        ``"listwise"`` uses the rows complete on each construct's items.

    Returns
    -------
    DataFrame
        One row per item, the columns above.

    Raises
    ------
    DataValidationError
        Values whose powers overflow double precision (e.g. ``1e300``; inf),
        naming the column, rows and values.

    Warns
    -----
    ItemKeyingWarning
        An item correlates negatively with the rest of its scale (``r_drop < 0``)
        but is not declared reverse-keyed, or a declared reverse item does so after
        keying (it looks reversed already in the data).
    ConstantItemWarning
        A constant item (its correlations are then NaN).

    See Also
    --------
    custval.reliability.cronbach_alpha : Alpha with its confidence interval.
    custval.reliability.scale_reliability : Reliability of every construct of an instrument.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.items import item_analysis
    >>> bfi = load_dataset("bfi").data
    >>> ia = item_analysis(bfi, items=["N1", "N2", "N3", "N4", "N5"])
    >>> print(ia[["mean", "skew", "r_drop", "alpha_if_deleted"]].round(3))
           mean   skew  r_drop  alpha_if_deleted
    item
    N1    2.929  0.371   0.667             0.758
    N2    3.508 -0.077   0.653             0.763
    N3    3.217  0.151   0.675             0.755
    N4    3.186  0.197   0.543             0.795
    N5    2.970  0.374   0.486             0.813
    >>> # In R: psych::describe(x); psych::alpha(x)$item.stats; psych::alpha(x)$alpha.drop
    """
    if nan_policy not in ("pairwise", "listwise"):
        raise SpecificationError(f"nan_policy must be 'pairwise' or 'listwise'; got {nan_policy!r}")
    df = core.as_frame(data)
    if instrument is not None:
        instrument = as_instrument(instrument)
        constructs = {str(c): tuple(v) for c, v in instrument.constructs.items()}
        if items is not None:
            wanted = set(items)
            constructs = {c: tuple(i for i in v if i in wanted) for c, v in constructs.items()}
            constructs = {c: v for c, v in constructs.items() if v}
        reverse = frozenset(instrument.reverse_items)
        floor, ceiling = _item_bounds(instrument)
    else:
        cols = list(items) if items is not None else [str(c) for c in df.columns]
        constructs = {"scale": tuple(cols)}
        reverse = frozenset()
        floor = ceiling = None
    all_items = [i for v in constructs.values() for i in v]
    missing_cols = [i for i in all_items if i not in df.columns]
    if missing_cols:
        raise SpecificationError(f"item(s) not in the data: {', '.join(missing_cols)}")
    sub = df[all_items]
    if instrument is not None:
        from ._keys import keyed_once

        sub = keyed_once(sub, instrument)[all_items]
    prep = core.prepare_items(sub, nan_policy="pairwise", min_items=1, check_constant=False,
                              require_n_gt_p=False)
    if prep.colsum is not None:  # complete data: the validated array and its column sums
        x_all, sums_all = prep.x, prep.colsum
    else:
        x_all, sums_all = sub.to_numpy(dtype=float, na_value=np.nan), None  # a view for a float frame
    stats = []
    col_lo, col_hi = [], []  # per-item min / max of all valid answers (before listwise deletion)
    pos = 0
    for cid, its in constructs.items():
        k = len(its)
        xb = x_all[:, pos : pos + k]
        colsum = xb.sum(axis=0) if sums_all is None else sums_all[pos : pos + k]
        pos += k
        has_nan = not np.isfinite(colsum).all()  # one cheap pass (inputs hold no inf)
        if has_nan:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                col_lo.append(np.nanmin(xb, axis=0))
                col_hi.append(np.nanmax(xb, axis=0))
        if nan_policy == "listwise" and has_nan:
            xb = xb[~np.isnan(xb).any(axis=1)]
            has_nan = False
            colsum = xb.sum(axis=0)
            if len(xb) < 2:
                raise core.InsufficientDataError(
                    f"construct {cid}: {len(xb)} of {len(x_all)} rows answer all its items "
                    f"({', '.join(its)}); nan_policy='listwise' needs at least 2 (use 'pairwise')")
        coded = None if has_nan else core.integer_codes(xb)
        counts = None if coded is None else coded[1]
        if coded is None:  # not small integer codes: values whose 4th powers overflow are data errors
            with warnings.catch_warnings():  # (no full-size temporary: max and min, not abs)
                warnings.simplefilter("ignore", RuntimeWarning)
                big = max(np.nanmax(xb), -np.nanmin(xb)) if xb.size else 0.0
            if big > core.overflow_limit(len(xb), k, power=4):
                rows = None if len(xb) == len(sub) else ~sub.iloc[:, pos - k : pos].isna().any(axis=1).to_numpy()
                core.check_magnitude(sub.iloc[:, pos - k : pos], power=4, n=len(xb), rows=rows, force=True)
        if coded is not None:  # integer codes: describe from value counts, C from exact cross-products
            desc = _describe_counts(counts)
            maxabs = max(np.abs(desc["min"]).max(), np.abs(desc["max"]).max())
            cov = core.gram_cov_codes(coded[0], colsum, maxabs)
            del coded
            if cov is None:
                cov = core.gram_cov(xb, colsum, exact=True)
            if cov is None:
                cov = core.complete_moments(xb, powers=False)["cov"]
            mom = {"cov": cov}
        else:
            mom = None if has_nan else core.complete_moments(xb)
            desc = _describe(xb, mom)
        if len(col_lo) == len(stats):  # complete block: its min / max are those of all answers
            col_lo.append(desc["min"])
            col_hi.append(desc["max"])
        stats.append((cid, its, xb, mom, desc, counts))
    if floor is None:  # the observed minimum / maximum of all items
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            floor, ceiling = np.nanmin(np.concatenate(col_lo)), np.nanmax(np.concatenate(col_hi))
    frames = []
    for cid, its, xb, mom, desc, counts in stats:
        k = len(its)
        if isinstance(floor, dict):  # each item's own scale (keying maps it onto itself)
            fl = np.array([floor[i] for i in its], dtype=float)
            ce = np.array([ceiling[i] for i in its], dtype=float)
        else:
            fl, ce = np.full(k, floor, dtype=float), np.full(k, ceiling, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            valid = desc["n"]
            if counts is not None:
                at_floor = np.array([c[(v == f)].sum() for (v, c), f in zip(counts, fl)], dtype=float)
                at_ceiling = np.array([c[(v == h)].sum() for (v, c), h in zip(counts, ce)], dtype=float)
            else:
                at_floor, at_ceiling = (xb == fl).sum(axis=0), (xb == ce).sum(axis=0)
            pct_floor = 100.0 * at_floor / valid
            pct_ceiling = 100.0 * at_ceiling / valid
        const = desc["min"] == desc["max"]
        for j in np.flatnonzero(const):
            warnings.warn(
                f"item {its[j]} is constant (every valid answer = {desc['min'][j]:g}); its "
                "correlations (raw_r, r_cor, r_drop, mean_r) are undefined (NaN); alpha_if_deleted is given "
                "for every item of the scale, the constant one counted in it",
                ConstantItemWarning, stacklevel=2,
            )
        block = {key: np.full(k, np.nan) for key in ("raw_r", "r_cor", "r_drop", "alpha_if_deleted", "mean_r")}
        ok = ~const
        if ok.sum() >= 2:
            sel = np.flatnonzero(ok)
            cov = None if mom is None else mom["cov"][np.ix_(sel, sel)]
            # complete data: the scale statistics follow from C alone (no copy of the data)
            xs = None if cov is not None else (xb if ok.all() else xb[:, sel])
            res = _scale_block(xs, [its[j] for j in sel], nan_policy, cov)
            for key, val in res.items():
                block[key][ok] = val
        if const.any() and k > 2:  # alpha of the scale as scored without each item (constant ones count)
            block["alpha_if_deleted"] = _alpha_if_deleted_all(xb, mom, nan_policy, its)
        frame = pd.DataFrame({"construct": cid, **desc}, index=list(its))
        frame["pct_floor"] = pct_floor
        frame["pct_ceiling"] = pct_ceiling
        for key, val in block.items():
            frame[key] = val
        frames.append(frame)
        for item, rd in zip(its, block["r_drop"]):
            if np.isfinite(rd) and rd < 0:
                if item in reverse:
                    msg = (f"item {item} is declared reverse-keyed but, after reverse-scoring, it correlates "
                           f"{rd:.3f} with the rest of {cid}: it may already be reversed in the data")
                else:
                    msg = (f"item {item} correlates {rd:.3f} with the rest of {cid} but is not declared "
                           "reverse-keyed")
                warnings.warn(msg, ItemKeyingWarning, stacklevel=2)
    out = pd.concat(frames)
    out.index.name = "item"
    out["n"] = out["n"].astype(int)
    return out[list(COLUMNS)]


RHEMTULLA_2012 = (
    "Rhemtulla, M., Brosseau-Liard, P. E., & Savalei, V. (2012). When can categorical variables be "
    "treated as continuous? A comparison of robust continuous and categorical SEM estimation methods "
    "under suboptimal conditions. Psychological Methods, 17(3), 354-373. https://doi.org/10.1037/a0029315"
)


def _skew3(x: np.ndarray) -> float:
    """psych::describe's skew (type 3): m3 / s^3 with the n - 1 sd."""
    x = x[~np.isnan(x)]
    if len(x) < 3 or np.std(x) == 0:
        return float("nan")
    d = x - x.mean()
    return float(np.mean(d**3) / np.std(x, ddof=1) ** 3)


def estimator_advice(
    data: pd.DataFrame,
    instrument=None,
    *,
    items=None,
    group: str | None = None,
    min_count: int = 10,
    skew_cut: float = 1.0,
) -> pd.DataFrame:
    r"""Which estimator suits each Likert item: ordinal (WLSMV) or (robust) ML, and its sparse categories.

    One row per item (indexed by item id) with

    * ``n_categories``: the scale points -- from the codebook (``Instrument.item_scale``:
      ``max - min + 1``) when an ``instrument`` is given, else the distinct answers observed.
      When every answer (and the scale's maximum) lies on a coarser grid of a codebook scale
      of more than 11 points -- a short scale stored rescaled, e.g. a 6-point item as 0, 20, ..., 100 on a
      0..100 scale -- the grid's points are the categories, and ``reason`` says so;
    * ``n_observed``: the distinct answers observed;
    * ``skew``: psych::describe's skew (type 3, as :func:`item_analysis`);
    * ``recommendation`` and ``reason``, by Rhemtulla, Brosseau-Liard & Savalei (2012): fewer
      than 5 categories -> ``"WLSMV"`` (treat the answers as ordered categories); 5 or more
      with ``|skew| <= skew_cut`` -> ``"ML/MLR"`` (treating them as continuous is fine); 5 or
      more but skewed -> ``"WLSMV or MLR"`` (asymmetric thresholds bias ML estimates; the
      ordinal estimator is preferred, robust ML acceptable).  ``skew_cut`` is custval's
      operationalisation of "asymmetric", not a value from the paper;
    * ``sparse``: the categories with fewer than ``min_count`` answers, overall or in any
      group of ``group`` (``"Customer: 1 (0), 2 (4)"``; a code of the codebook's scale that
      nobody chose counts as 0), or ``""``.

    Nothing is collapsed: sparse or empty categories are reported (and warned about with a
    :class:`~custval.exceptions.SparseCategoryWarning` naming item, group and counts); merge
    them only on request with :func:`collapse_categories`, which records the change.  The
    frame's ``attrs["recommendation"]`` is the advice for the whole model (``"WLSMV"`` when
    any item asks for it) and ``attrs["reference"]`` the reference.

    Parameters
    ----------
    data : pandas.DataFrame
        Item answers (integer codes), one row per respondent.
    instrument : Instrument, str or None, default None
        The codebook (its item scales give the number of categories); ``None``: the observed
        categories.
    items : list of str, optional
        Items to check; default the instrument's items, or every column but ``group``.
    group : str, optional
        A grouping column: sparse categories are reported per group too.
    min_count : int, default 10
        A category with fewer answers than this is reported as sparse.
    skew_cut : float, default 1.0
        ``|skew|`` above which a 5+-category item counts as asymmetric.

    Returns
    -------
    pandas.DataFrame
        ``n_categories, n_observed, skew, recommendation, reason, sparse`` per item.

    Raises
    ------
    DataValidationError
        An item column is missing, or holds a non-numeric or non-integer answer.

    Warns
    -----
    SparseCategoryWarning
        Some categories are empty or sparse (by item and group).

    See Also
    --------
    custval.items.collapse_categories : Merge categories on request, recorded.
    custval.cfa.CFA : ``ordered=True`` fits the ordinal (WLSMV) model.

    References
    ----------
    Rhemtulla, M., Brosseau-Liard, P. E., & Savalei, V. (2012). When can categorical variables
    be treated as continuous? *Psychological Methods, 17*(3), 354-373.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval.items import estimator_advice
    >>> df = pd.DataFrame({"q1": [1, 2, 2, 3, 4, 4, 4, 4] * 5, "q2": [1, 2, 3, 4, 5, 3, 2, 4] * 5})
    >>> adv = estimator_advice(df, min_count=1)
    >>> print(adv[["n_categories", "recommendation"]].to_string())
        n_categories recommendation
    q1             4          WLSMV
    q2             5         ML/MLR

    In R: ``psych::describe(x)$skew`` and ``table(x)`` per item (the rule is Rhemtulla et al.'s).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    inst = as_instrument(instrument) if instrument is not None else None
    if items is None:
        items = ([i for its in inst.constructs.values() for i in its] if inst is not None
                 else [c for c in data.columns if c != group])
    items = list(items)
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise DataValidationError(f"item(s) not in the data: {', '.join(absent)}")
    if group is not None and group not in data.columns:
        raise DataValidationError(f"group column {group!r} is not in the data")
    rows, notes = [], []
    for item in items:
        col = pd.to_numeric(data[item], errors="coerce")
        bad = col.isna() & data[item].notna()
        x = col.to_numpy(dtype=float)
        frac = ~np.isnan(x) & (x != np.round(x))
        if bad.any() or frac.any():
            pos = np.flatnonzero(bad.to_numpy() | frac)[:10].tolist()
            raise DataValidationError(
                f"column {item!r} has non-integer answers at rows {pos}: ordered categories are integer codes")
        observed = np.unique(x[~np.isnan(x)])
        grid = ""
        if inst is not None:
            sc = inst.item_scale(item)
            codes = np.arange(sc.min, sc.max + 1)
            # a short scale stored rescaled (a 6-point item as 0, 20, ..., 100 on a 0..100 codebook
            # scale): the answers sit on a coarser grid that spans the scale; its points are the
            # categories (else 101 "categories" would call any such item continuous)
            if (observed.size > 1 and float(sc.min).is_integer() and float(sc.max).is_integer()
                    and sc.max - sc.min + 1 > 11):  # short scales (up to 0..10) are taken as they are
                step = int(np.gcd.reduce((np.append(observed, sc.max) - sc.min).astype(np.int64)))
                if step > 1:
                    codes = np.arange(sc.min, sc.max + 1, step)
                    grid = f" (the answers use every {step}th code of the codebook's {sc.min:g}..{sc.max:g})"
        else:
            codes = observed
        k = len(codes)
        skew = _skew3(x)
        if k < 5:
            rec, why = "WLSMV", f"{k} categories{grid} (< 5): treat as ordered categories"
        elif not abs(skew) > skew_cut:
            rec, why = "ML/MLR", f"{k} categories{grid}, |skew| {abs(skew):.2f} <= {skew_cut:g}: continuous is fine"
        else:
            rec, why = "WLSMV or MLR", (f"{k} categories{grid} but |skew| {abs(skew):.2f} > {skew_cut:g}: ordinal "
                                        "estimator preferred, robust ML acceptable")
        parts = []
        frames = [("all", x)] if group is None else [("all", x)] + [
            (str(g), x[(data[group] == g).to_numpy()]) for g in pd.unique(data[group].dropna())]
        for lab, xs in frames:
            counts = {c: int(np.sum(xs == c)) for c in codes}
            low = [f"{c:g} ({n})" for c, n in counts.items() if n < min_count]
            if low:
                parts.append(f"{lab}: {', '.join(low)}")
        sparse = "; ".join(parts)
        if sparse:
            notes.append(f"{item}: {sparse}")
        rows.append({"item": item, "n_categories": k, "n_observed": len(observed), "skew": skew,
                     "recommendation": rec, "reason": why, "sparse": sparse})
    out = pd.DataFrame(rows).set_index("item")
    out.index.name = None
    if notes:
        warnings.warn(
            f"categories with fewer than {min_count} answers (category (count), by group): {' | '.join(notes)}; "
            "nothing was collapsed (collapse_categories merges them on request, recorded)",
            SparseCategoryWarning, stacklevel=2)
    recs = set(out["recommendation"])
    out.attrs["recommendation"] = ("WLSMV" if "WLSMV" in recs else
                                   "WLSMV or MLR" if "WLSMV or MLR" in recs else "ML/MLR")
    out.attrs["reference"] = RHEMTULLA_2012
    return out


def collapse_categories(data: pd.DataFrame, collapse: dict) -> pd.DataFrame:
    """Merge answer categories of ordered items on request, and record it.

    ``collapse={"loy_2": {1: 2}}`` recodes the answers 1 of ``loy_2`` as 2 (e.g. an empty or
    sparse category merged with its neighbour).  The input is not changed; the returned copy
    carries the record in ``attrs["collapsed"]``: one dict per recode with ``item``, ``from``,
    ``to`` and ``rows`` (how many answers changed).  custval never collapses categories by
    itself (see :func:`estimator_advice`); report the record with the results.

    Parameters
    ----------
    data : pandas.DataFrame
        Item answers.
    collapse : dict
        ``{item: {from_code: to_code, ...}}``.

    Returns
    -------
    pandas.DataFrame
        A copy with the recoded answers and ``attrs["collapsed"]``.

    Raises
    ------
    DataValidationError
        An item is not a column, or a target code is not an answer already in use (merging
        must join an existing category).

    See Also
    --------
    custval.items.estimator_advice : Finds the sparse categories.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval.items import collapse_categories
    >>> df = pd.DataFrame({"q1": [1, 2, 2, 3, 3, 3], "q2": [1, 1, 2, 2, 3, 3]})
    >>> out = collapse_categories(df, {"q1": {1: 2}})
    >>> print(out["q1"].tolist(), out.attrs["collapsed"])
    [2, 2, 2, 3, 3, 3] [{'item': 'q1', 'from': 1, 'to': 2, 'rows': 1}]

    In R: ``x[x == 1] <- 2`` (what lavaan users do by hand).
    """
    if not isinstance(collapse, dict) or not all(isinstance(v, dict) for v in collapse.values()):
        raise DataValidationError("collapse must be {item: {from_code: to_code}}, e.g. {'loy_2': {1: 2}}")
    out = data.copy()
    record = list(data.attrs.get("collapsed", []))
    for item, mapping in collapse.items():
        if item not in out.columns:
            raise DataValidationError(f"collapse names {item!r}, which is not a column of the data")
        before = out[item].copy()
        used = set(before.dropna().unique().tolist())
        for src, dst in mapping.items():
            if dst not in used:
                raise DataValidationError(
                    f"collapse {item!r}: target {dst!r} is not an answer in use ({sorted(used)}); merge into an "
                    "existing category")
            hit = before == src
            out.loc[hit, item] = dst
            record.append({"item": item, "from": src, "to": dst, "rows": int(hit.sum())})
    out.attrs["collapsed"] = record
    return out
