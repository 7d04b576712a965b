"""Careless-response screening: per-respondent indices and flags, nobody deleted.

Indices (Curran, 2016; Meade & Craig, 2012), all on the *raw* answers in the
instrument's item order (reverse keying is not applied: straight-lining on
raw answers is what careless responding looks like).  When the codebook gives
items their own scales (1-5 and 1-7 items in one survey), a longstring run
ends where the scale changes, and straight-lining and irv use the answers
mapped linearly from each item's scale onto the instrument's scale (the
Mahalanobis distance does not depend on such a mapping):

``longstring``
    Length of the longest run of identical consecutive answers over all items
    (Johnson, 2005; Meade & Craig's "LongString", maximum version).  A missing
    answer ends a run.
``straight_<construct>`` / ``n_straight``
    The respondent gave the same answer to every item of a construct (at
    least 2 answered items of a construct with 2 or more items).
``irv``
    Intra-individual response variability: the standard deviation (n − 1
    denominator) of the respondent's answers over all answered items (Dunn,
    Heggestad, Shanock, & Theilgard, 2018; Curran, 2016).
``mahalanobis`` / ``mahalanobis_p`` / ``mahalanobis_df``
    D² = (x − m)' S⁻¹ (x − m) with the item means m and covariance matrix S.
    With missing data, m are the item means of all valid answers, S is the
    pairwise covariance matrix (R ``cov(x, use = "pairwise")``), and each
    respondent's D² uses only the items they answered (the matching sub-vector
    and sub-matrix); the p-value is the upper tail of χ² with df = number of
    answered items (Meade & Craig, 2012, used χ² p < .001 as outlier flag).
``share_missing``
    Share of the instrument's items left unanswered.
``duration`` / ``speeder``
    Response time from the ``duration`` column and whether it is below
    ``speed_fraction`` × the median duration (Greszki, Meyer, & Schoen, 2015,
    discuss 30–50 % of the median).

References
----------
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses
in survey data. *Journal of Experimental Social Psychology, 66*, 4–19.
Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey
data. *Psychological Methods, 17*(3), 437–455.
Johnson, J. A. (2005). Ascertaining the validity of individual protocols from
web-based personality inventories. *Journal of Research in Personality, 39*(1),
103–129.
Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018).
Intra-individual response variability as an indicator of insufficient effort
responding. *Journal of Business and Psychology, 33*(1), 105–121.
Greszki, R., Meyer, M., & Schoen, H. (2015). Exploring the effects of removing
"too fast" responses and respondents from web surveys. *Public Opinion
Quarterly, 79*(2), 471–503.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._results import ResultMixin
from ._sem.spec import as_instrument
from ._stats import relcore as core
from .exceptions import DataValidationError, SingularMatrixError, SpecificationError

__all__ = ["ScreenResult", "screen"]


@dataclass(frozen=True, eq=False)
class ScreenResult(ResultMixin):
    """Careless-response indices and flags; nobody is removed.

    Attributes
    ----------
    flags : DataFrame
        One row per respondent (same index as the data): the indices and a flag per rule.
    summary_table : DataFrame
        One row per rule: its definition, its cutoff and how many respondents it flags.
    n : int
        Respondents screened.
    n_flagged : int
        Respondents flagged by at least one rule.
    cutoffs : dict
        The cutoff of each rule, as applied.
    r_call : str
        The R calls that give the same indices.
    convention : str
        How the indices are computed (shown by ``summary()``).

    See Also
    --------
    custval.screening.screen : The function that returns it.
    """

    flags: pd.DataFrame = field(repr=False)
    summary_table: pd.DataFrame = field(repr=False)
    n: int = 0
    n_flagged: int = 0
    cutoffs: dict = field(default_factory=dict)
    r_call: str = "careless::longstring(x); careless::irv(x); stats::mahalanobis(x, m, S)"
    convention: str = "indices on raw answers in codebook order; nobody is removed"

    _title = "Careless-response screening"

    def to_frame(self) -> pd.DataFrame:
        return self.flags

    def _display_frame(self) -> pd.DataFrame:
        return self.summary_table


def _longstring(x: np.ndarray, scales=None) -> np.ndarray:
    """Longest run of identical consecutive non-missing answers per row.

    Parameters
    ----------
    x : ndarray
        Respondents × items, NaN for missing.
    scales : sequence, optional
        One hashable per column, e.g. ``(min, max)``: a run ends where the
        response scale changes (a 5 on a 1-5 item and a 5 on a 1-7 item are not
        the same answer).

    Returns
    -------
    ndarray
        The longest run per row.
    """
    n, p = x.shape
    best = np.zeros(n, dtype=int)
    run = np.zeros(n, dtype=int)
    prev = np.full(n, np.nan)
    for j in range(p):
        cur = x[:, j]
        same = cur == prev  # False when either is NaN
        if scales is not None and j > 0 and scales[j] != scales[j - 1]:
            same = np.zeros(n, dtype=bool)
        run = np.where(np.isnan(cur), 0, np.where(same, run + 1, 1))
        best = np.maximum(best, run)
        prev = cur
    return best


def _irv(x: np.ndarray) -> np.ndarray:
    """Within-person sd (n − 1) over answered items; NaN with fewer than 2 answers.

    Parameters
    ----------
    x : ndarray
        Respondents × items, NaN for missing.

    Returns
    -------
    ndarray
        The sd per row.
    """
    k = (~np.isnan(x)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(x, axis=1) / k
        ss = np.nansum((x - m[:, None]) ** 2, axis=1)
        out = np.sqrt(ss / (k - 1))
    out[k < 2] = np.nan
    return out


def _mahalanobis(x: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    """D² on each row's answered items (pairwise mean/covariance) and its df.

    Parameters
    ----------
    x : ndarray
        Respondents × items, NaN for missing.
    names : sequence of str
        The item names, for error messages.

    Returns
    -------
    d2, df : ndarray
        Squared Mahalanobis distance per row and its degrees of freedom (the
        number of items the row answered).
    """
    miss = np.isnan(x)
    cov, nij = core.covariance(x, pairwise=True)
    core.check_pair_counts(nij, names)
    w = np.linalg.eigvalsh(cov)
    if w[0] <= 1e-10 * max(w[-1], 1e-300):
        core.check_singular(core.cov2cor(cov), names, what="the Mahalanobis distance")
        raise SingularMatrixError(
            f"the item covariance matrix is not positive definite (smallest eigenvalue {w[0]:.3g}); "
            "the Mahalanobis distance needs S⁻¹"
        )
    mean = np.nanmean(x, axis=0)
    d = x - mean
    d2 = np.full(x.shape[0], np.nan)
    df = (~miss).sum(axis=1)
    # group rows by missingness pattern: one solve per pattern
    patterns, inverse = np.unique(miss, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    for g, pat in enumerate(patterns):
        rows = np.flatnonzero(inverse == g)
        obs = ~pat
        if not obs.any():
            continue
        s = cov[np.ix_(obs, obs)]
        dd = d[np.ix_(rows, obs)]
        sol = np.linalg.solve(s, dd.T)
        d2[rows] = np.einsum("ij,ji->i", dd, sol)
    return d2, df


def _own_scales(instrument, items, x):
    """Per-item (min, max) (None without mixed scales) and the answers on the instrument's scale.

    With items on different scales, each answer is mapped linearly from its
    item's own min..max onto the instrument's ``scale_min..scale_max`` so that
    straight-lining and irv compare like with like; otherwise ``x`` is
    returned unchanged.
    """
    getter = getattr(instrument, "item_scale", None)
    if getter is None:
        return None, x
    sc = [getter(i) for i in items]
    bounds = [(s.min, s.max) for s in sc]
    if len(set(bounds)) <= 1:
        return None, x
    lo = np.array([b[0] for b in bounds], dtype=float)
    hi = np.array([b[1] for b in bounds], dtype=float)
    tlo, thi = float(instrument.scale_min), float(instrument.scale_max)
    return bounds, tlo + (x - lo) * (thi - tlo) / (hi - lo)


def screen(
    data,
    instrument,
    *,
    duration: str | None = None,
    longstring_cutoff: int | None = None,
    mahalanobis_alpha: float = 0.001,
    max_missing: float = 0.5,
    speed_fraction: float = 0.5,
    straight_min_constructs: int | None = None,
) -> ScreenResult:
    """Flag possibly careless respondents without deleting anyone.

    Parameters
    ----------
    data : DataFrame
        Raw answers (one row per respondent) with the instrument's items.
    instrument
        Supplies ``constructs`` (item order = codebook order): an Instrument, a
        shipped instrument's name or the path of a YAML codebook.
    duration : str, optional
        Name of a column with the completion time (any unit).
    longstring_cutoff : int, optional
        Flag ``longstring >= cutoff``; default: half of the items, rounded up.
    mahalanobis_alpha : float
        Flag D² with χ² p-value below this (default .001).
    max_missing : float
        Flag a share of unanswered items above this (default 0.5).
    speed_fraction : float
        Flag durations below this fraction of the median duration.
    straight_min_constructs : int, optional
        Flag straight-lining on at least this many constructs; default: half of
        the multi-item constructs, rounded up (one identical-answer construct
        alone is often a genuine extreme answer).

    Returns
    -------
    ScreenResult
        ``flags`` (indices, one boolean ``flag_*`` column per rule and
        ``n_flags``) and ``summary_table`` (per rule: definition, cutoff, number and
        percent flagged).  See the module docstring for each definition.

    See Also
    --------
    custval.ingest.read_survey : Read and validate the export first.
    custval.items.item_analysis : Item statistics of the screened data.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.screening import screen
    >>> class Bfi:
    ...     constructs = {s: tuple(f"{s}{i}" for i in range(1, 6)) for s in "ACENO"}
    >>> bfi = load_dataset("bfi").data
    >>> res = screen(bfi, Bfi())
    >>> print(res.summary_table[["n_flagged"]])
                     n_flagged
    rule
    longstring               4
    straight_lining          7
    mahalanobis             94
    missing                  4
    any                    100
    >>> # In R: careless::longstring(x); stats::mahalanobis(x, colMeans(x), cov(x))  (complete data)
    """
    df = core.as_frame(data)
    instrument = as_instrument(instrument)
    constructs = {str(c): tuple(v) for c, v in instrument.constructs.items()}
    items = [i for v in constructs.values() for i in v]
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise SpecificationError(f"item(s) of the instrument not in the data: {', '.join(absent)}")
    if not (0 < mahalanobis_alpha < 1 and 0 <= max_missing <= 1 and 0 < speed_fraction < 1):
        raise SpecificationError(
            "mahalanobis_alpha and speed_fraction must lie in (0, 1) and max_missing in [0, 1]; got "
            f"{mahalanobis_alpha!r}, {speed_fraction!r}, {max_missing!r}"
        )
    core.prepare_items(df[items], nan_policy="pairwise", min_items=2, check_constant=False,
                       require_n_gt_p=False)
    x = df[items].to_numpy(dtype=float, na_value=np.nan)
    n, p = x.shape
    cutoff = int(np.ceil(p / 2)) if longstring_cutoff is None else int(longstring_cutoff)
    out = pd.DataFrame(index=df.index)
    scales, xs = _own_scales(instrument, items, x)
    out["longstring"] = _longstring(x, scales)
    raw, x = x, xs  # straight-lining and irv on one common scale (the same array without mixed scales)
    pos = 0
    straight_cols = []
    for cid, its in constructs.items():
        k = len(its)
        xb = x[:, pos: pos + k]
        pos += k
        if k < 2:
            continue
        answered = (~np.isnan(xb)).sum(axis=1)
        # rows with no answer in this construct: all-NaN slice (not straight-lining; masked below)
        filled = np.where(np.isnan(xb), np.inf, xb)
        same = ((filled.min(axis=1) == np.where(np.isnan(xb), -np.inf, xb).max(axis=1))
                if answered.any() else np.zeros(n, bool))
        col = f"straight_{cid}"
        out[col] = same & (answered >= 2)
        straight_cols.append(col)
    out["n_straight"] = out[straight_cols].sum(axis=1).astype(int) if straight_cols else 0
    s_cut = (int(np.ceil(len(straight_cols) / 2)) if straight_min_constructs is None
             else int(straight_min_constructs))
    s_cut = max(s_cut, 1)
    out["irv"] = _irv(x)
    d2, dfree = _mahalanobis(raw, items)
    out["mahalanobis"] = d2
    out["mahalanobis_df"] = dfree
    out["mahalanobis_p"] = np.where(dfree > 0, stats.chi2.sf(d2, np.maximum(dfree, 1)), np.nan)
    out["share_missing"] = np.isnan(raw).sum(axis=1) / p
    rules = {
        "longstring": (out["longstring"] >= cutoff,
                       "longest run of identical consecutive answers (Johnson, 2005)", f">= {cutoff}"),
        "straight_lining": (out["n_straight"] >= s_cut,
                            "same answer to every item of a construct, counted over constructs",
                            f">= {s_cut} construct(s)"),
        "mahalanobis": (out["mahalanobis_p"] < mahalanobis_alpha,
                        "D² on answered items, pairwise mean/covariance, chi² df = items answered",
                        f"p < {mahalanobis_alpha:g}"),
        "missing": (out["share_missing"] > max_missing, "share of items unanswered", f"> {max_missing:g}"),
    }
    if duration is not None:
        if duration not in df.columns:
            raise SpecificationError(f"duration column {duration!r} not in the data")
        dur = pd.to_numeric(df[duration], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(dur) & df[duration].notna().to_numpy())
        if bad.size:
            raise DataValidationError(
                f"duration column {duration!r} has non-numeric values in {bad.size} row(s) "
                f"(0-based positions {bad[:5].tolist()})"
            )
        if (dur[~np.isnan(dur)] < 0).any():
            raise DataValidationError(f"duration column {duration!r} has negative values")
        med = float(np.nanmedian(dur))
        out["duration"] = dur
        out["speeder"] = dur < speed_fraction * med
        rules["speeder"] = (out["speeder"], f"duration below {speed_fraction:g} × median ({med:g})",
                            f"< {speed_fraction * med:g}")
    for name, (flag, _, _) in rules.items():
        out[f"flag_{name}"] = flag.to_numpy(dtype=bool)
    flag_cols = [f"flag_{r}" for r in rules]
    out["n_flags"] = out[flag_cols].sum(axis=1).astype(int)
    summary = pd.DataFrame(
        {
            "definition": [d for _, d, _ in rules.values()],
            "cutoff": [c for _, _, c in rules.values()],
            "n_flagged": [int(f.sum()) for f, _, _ in rules.values()],
        },
        index=pd.Index(list(rules), name="rule"),
    )
    summary["percent"] = 100.0 * summary["n_flagged"] / n
    summary.loc["any"] = ["flagged by at least one rule", "", int((out["n_flags"] > 0).sum()),
                          100.0 * (out["n_flags"] > 0).sum() / n]
    return ScreenResult(
        flags=out, summary_table=summary, n=n, n_flagged=int((out["n_flags"] > 0).sum()),
        cutoffs={"longstring": cutoff, "straight_min_constructs": s_cut, "mahalanobis_alpha": mahalanobis_alpha, "max_missing": max_missing,
                 "speed_fraction": speed_fraction},
    )
