"""Validity against external information: known groups and criteria.

Two kinds of evidence every scale-development paper reports beside the factor structure
(MacKenzie, Podsakoff & Podsakoff, 2011):

* :func:`known_groups`: groups that theory says must differ on a construct do differ;
  Cohen's d and Hedges' g of the construct scores with noncentral-t intervals, as
  ``psych::cohen.d``;
* :func:`criterion_validity`: construct scores correlate with criteria measured
  otherwise (age, tenure, spending, a global rating); Pearson's r with Fisher-z intervals,
  as ``cor.test`` (and ``psych::corr.test``).

Scores are the instrument's construct scores (:meth:`custval.Instrument.score`, the mean of
the answered keyed items unless ``min_items`` says otherwise).

References
----------
Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
Erlbaum.

Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
estimators. *Journal of Educational Statistics, 6*(2), 107-128.

MacKenzie, S. B., Podsakoff, P. M., & Podsakoff, N. P. (2011). Construct measurement and
validation procedures in MIS and behavioral research. *MIS Quarterly, 35*(2), 293-334.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtri, stdtr
from scipy.stats import nct

from ._keys import is_instrument
from ._results import ResultMixin
from .exceptions import (
    ConvergenceWarning,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

__all__ = ["CriterionValidityResult", "KnownGroupsResult", "criterion_validity", "known_groups"]

_SHOW = 10


def _scores(data, instrument, constructs, min_items) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    if not is_instrument(instrument):
        raise SpecificationError(
            "instrument must be a custval Instrument (it scores the constructs with their reverse keys); "
            f"got {type(instrument).__name__}")
    from .scoring import score

    return score(data, instrument, min_items=min_items, constructs=constructs).scores


def _not_numbers(col: pd.Series) -> list[str]:
    """Up to three values of ``col`` that are not numbers (texts that do not read as one)."""
    out = []
    for v in col.dropna().unique():
        if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)):
            continue
        try:
            float(str(v).strip())
        except ValueError:
            out.append(repr(v))
        else:
            if isinstance(v, (bool, np.bool_)):
                out.append(repr(v))
        if len(out) == 3:
            break
    return out


# --------------------------------------------------------------------------- effect sizes
def _noncentral_ci(est: float, n1: int, n2: int, alpha: float) -> tuple[float, float]:
    """psych::cohen.d.ci: the noncentrality parameters whose t distribution puts the observed
    t = est / sqrt(1/n1 + 1/n2) at the 1 - alpha/2 and alpha/2 quantiles, back on the d scale."""
    scale = math.sqrt(1 / n1 + 1 / n2)
    t = est / scale
    df = n1 + n2 - 2
    lo_b, hi_b = min(-5.0, -abs(t) * 10), max(5.0, abs(t) * 10)

    def root(p):
        # the cdf falls with the noncentrality, so the root is unique; search outwards from t
        # (scipy's noncentral t is NaN far in its tails) within psych's bracket
        f = lambda x: float(nct.cdf(t, df, x)) - p  # noqa: E731
        k = 2.0
        while True:
            a, b = max(lo_b, t - k), min(hi_b, t + k)
            fa, fb = f(a), f(b)
            if np.isfinite(fa) and np.isfinite(fb) and fa * fb <= 0:
                return brentq(f, a, b, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
            if a <= lo_b and b >= hi_b:
                warnings.warn(f"known_groups: no noncentral-t interval limit in psych's search range "
                              f"[{lo_b:.3g}, {hi_b:.3g}] for t = {t:.4g}, df = {df}; the limit is NaN "
                              f"(psych reports NA)", ConvergenceWarning, stacklevel=4)
                return math.nan
            k *= 2

    return root(1 - alpha / 2) * scale, root(alpha / 2) * scale


@dataclasses.dataclass(frozen=True, eq=False)
class KnownGroupsResult(ResultMixin):
    """Standardised mean differences of construct scores between two known groups.

    Attributes
    ----------
    table : pandas.DataFrame
        Index (``construct``, ``coefficient`` ``cohen_d`` / ``hedges_g``); columns
        ``estimate, ci_low, ci_high, t, df, p_value, n``.  The difference is the second group
        minus the first.
    descriptives : pandas.DataFrame
        Index (``construct``, ``group``); columns ``n``, ``mean``, ``sd``.
    verdicts : pandas.DataFrame
        Index ``construct``: ``expected`` (``"higher"``/``"lower"``: the second group
        relative to the first) and ``verdict`` (``"supported"`` when the interval of d
        excludes 0 in the expected direction, ``"contradicted"`` in the other, else
        ``"not shown"``); empty without ``expected``.
    group : str
        The grouping column.
    groups : tuple
        The two groups, in the order of the difference (second minus first).
    n_excluded : dict
        Rows left out, by reason.
    level : float
        Confidence level.
    convention : str
        The formulas, in words.
    r_call : str
        The equivalent R call.

    See Also
    --------
    known_groups : Computes this result.
    """

    table: pd.DataFrame
    descriptives: pd.DataFrame
    verdicts: pd.DataFrame
    group: str
    groups: tuple
    n_excluded: dict
    level: float
    convention: str
    r_call: str

    _title = "Known-groups validity"

    def to_frame(self) -> pd.DataFrame:
        """One row per construct: group sizes and means, d and g with intervals, p and verdict.

        Returns
        -------
        pandas.DataFrame
            Index ``construct``.

        See Also
        --------
        known_groups : Computes the result.
        """
        d = self.table.xs("cohen_d", level="coefficient")
        g = self.table.xs("hedges_g", level="coefficient")
        desc = self.descriptives
        g1, g2 = self.groups
        out = pd.DataFrame({
            "n_1": desc.xs(g1, level="group")["n"], "mean_1": desc.xs(g1, level="group")["mean"],
            "n_2": desc.xs(g2, level="group")["n"], "mean_2": desc.xs(g2, level="group")["mean"],
            "cohen_d": d["estimate"], "d_ci_low": d["ci_low"], "d_ci_high": d["ci_high"],
            "hedges_g": g["estimate"], "g_ci_low": g["ci_low"], "g_ci_high": g["ci_high"],
            "p_value": d["p_value"]})
        if len(self.verdicts):
            out = out.join(self.verdicts)
        return out

    def _notes(self) -> list[str]:
        g1, g2 = self.groups
        notes = [f"Difference = {self.group} {g2!r} minus {self.group} {g1!r}"]
        if self.n_excluded:
            notes.append("Excluded rows: " + ", ".join(f"{v} {k}" for k, v in self.n_excluded.items()))
        return notes + super()._notes()


def _group_column(data: pd.DataFrame, group: str, groups) -> tuple[tuple, pd.Series, dict]:
    if group not in data.columns:
        raise SpecificationError(f"group column {group!r} is not in the data; columns: {list(data.columns)[:20]}")
    col = data[group]
    blank = col.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)
    col = col.mask(blank)  # an empty answer is no group value (counted below), never a group
    present = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(col.dropna())]
    if groups is None:
        if len(present) != 2:
            raise SpecificationError(
                f"group column {group!r} has {len(present)} values {sorted(map(str, present))[:_SHOW]}; known-groups "
                f"validity compares two: pass groups=(first, second) (the difference is second minus first)")
        try:
            groups = tuple(sorted(present))
        except TypeError:
            groups = tuple(sorted(present, key=str))
    else:
        groups = tuple(groups)
        if len(groups) != 2 or groups[0] == groups[1]:
            raise SpecificationError(f"groups must be two different values of {group!r}; got {groups!r}")
        absent = [g for g in groups if not (col == g).any()]
        if absent:
            raise DataValidationError(
                f"group column {group!r} has no row with value(s) {absent}; its values are "
                f"{sorted(map(str, present))[:_SHOW]}",
                [{"rule": "group_value", "column": group, "rows": [], "row_counting": "data rows from 1",
                  "values": absent, "n": len(absent), "allowed": sorted(map(str, present))}])
    excluded = {}
    n_missing = int(col.isna().sum())
    if n_missing:
        excluded[f"without a {group!r} value"] = n_missing
    n_other = int((col.notna() & ~col.isin(groups)).sum())
    if n_other:
        excluded[f"in other {group!r} groups"] = n_other
    return groups, col, excluded


def known_groups(
    data,
    instrument,
    *,
    group: str,
    groups=None,
    expected: Mapping | None = None,
    constructs=None,
    min_items=None,
    level: float = 0.95,
) -> KnownGroupsResult:
    """Known-groups validity: Cohen's d and Hedges' g of construct scores between two groups.

    For each construct score, with group sizes ``n1, n2``, means ``m1, m2`` and standard
    deviations ``s1, s2`` (n - 1), as ``psych::cohen.d(scores, group)``:

    * ``d = (m2 - m1) / sqrt(((n1-1) s1^2 + (n2-1) s2^2) / (n1 + n2))`` (psych's ``cohen.d``:
      the pooled variance over ``N``);
    * ``g = (m2 - m1) / sqrt(((n1-1) s1^2 + (n2-1) s2^2) / (n1 + n2 - 2))`` (psych's
      ``hedges.g``: the pooled variance over ``N - 2``, no small-sample correction);
    * ``t = g / sqrt(1/n1 + 1/n2)`` (Student's pooled t test, ``df = N - 2``) and its
      two-sided p-value;
    * intervals from the noncentral t distribution (``psych::cohen.d.ci``): the
      noncentrality parameters that put ``est / sqrt(1/n1 + 1/n2)`` at the ``1 - alpha/2``
      and ``alpha/2`` quantiles, times ``sqrt(1/n1 + 1/n2)``.  psych finds them with
      ``uniroot`` at its default tolerance (about 1e-4 in the noncentrality); custval solves
      to machine precision, so its limits differ from psych's in the 4th-7th decimal.

    Respondents without a group value or without a score drop out (counted in
    ``n_excluded`` and per construct in ``n``).

    Parameters
    ----------
    data : pandas.DataFrame
        The answers (as read by :func:`custval.read_survey`) with the group column.
    instrument : Instrument
        Scores the constructs (reverse items keyed).
    group : str
        The column that defines the groups.
    groups : tuple, optional
        The two groups ``(first, second)``; the difference is second minus first.  Default
        None: the column must hold exactly two values, taken in sorted order (as psych).
    expected : mapping, optional
        ``{construct: "higher" | "lower"}``: the second group's expected position; adds a
        verdict per construct.  Default None: no verdicts.
    constructs : list of str, optional
        Constructs to analyse; default None: all.
    min_items : int or mapping, optional
        Passed to :meth:`custval.Instrument.score`; default None: a score from at least one
        answered item.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    KnownGroupsResult
        Effect sizes with intervals, group descriptives and verdicts.

    Raises
    ------
    custval.exceptions.SpecificationError
        Unknown group column, not two groups.
    custval.exceptions.InsufficientDataError
        A group with fewer than 2 scored respondents on a construct.

    See Also
    --------
    criterion_validity : Correlations of construct scores with criteria.
    custval.scoring.score : How construct scores are formed.

    Examples
    --------
    >>> import custval
    >>> data = custval.load_dataset("bfi").data
    >>> inst = custval.load_instrument("bfi")
    >>> res = custval.known_groups(data, inst, group="gender", expected={"A": "higher"})
    >>> row = res.to_frame().loc["A"]
    >>> [round(float(row[c]), 3) for c in ("cohen_d", "d_ci_low", "d_ci_high")], row["verdict"]
    ([0.452, 0.372, 0.531], 'supported')

    # In R: psych::cohen.d(scores, group = bfi$gender)
    """
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1; got {level!r}")
    alpha = 1 - level
    scores = _scores(data, instrument, constructs, min_items)
    groups, col, excluded = _group_column(data, group, groups)
    if expected is not None:
        bad = {k: v for k, v in expected.items() if v not in ("higher", "lower") or k not in scores.columns}
        if bad:
            raise SpecificationError(f"expected must map constructs {list(scores.columns)} to 'higher' or 'lower'; "
                                     f"got {bad}")
    if excluded:
        warnings.warn("known_groups: rows left out: " + ", ".join(f"{v} {k}" for k, v in excluded.items()),
                      MissingDataWarning, stacklevel=2)
    rows, desc, verdicts = [], [], []
    for c in scores.columns:
        s = scores[c].to_numpy(dtype=float)
        xs = [s[(col == g).to_numpy() & ~np.isnan(s)] for g in groups]
        n1, n2 = len(xs[0]), len(xs[1])
        if min(n1, n2) < 2:
            raise InsufficientDataError(
                f"known_groups: construct {c!r} has {n1} scored respondent(s) in {group} {groups[0]!r} and {n2} in "
                f"{groups[1]!r}; each group needs at least 2")
        m1, m2 = xs[0].mean(), xs[1].mean()
        v1, v2 = xs[0].var(ddof=1), xs[1].var(ddof=1)
        for g, x, m, v in zip(groups, xs, (m1, m2), (v1, v2)):
            desc.append({"construct": c, "group": g, "n": len(x), "mean": float(m), "sd": float(math.sqrt(v))})
        ss = (n1 - 1) * v1 + (n2 - 1) * v2
        if ss == 0:
            raise InsufficientDataError(
                f"known_groups: construct {c!r} has the same score for every respondent of both groups; "
                f"a standardised difference is undefined")
        n = n1 + n2
        d = (m2 - m1) / math.sqrt(ss / n)
        g_ = (m2 - m1) / math.sqrt(ss / (n - 2))
        t = g_ / math.sqrt(1 / n1 + 1 / n2)
        p = float(2 * stdtr(n - 2, -abs(t)))
        for name, est in (("cohen_d", d), ("hedges_g", g_)):
            lo, hi = _noncentral_ci(est, n1, n2, alpha)
            rows.append({"construct": c, "coefficient": name, "estimate": float(est), "ci_low": lo, "ci_high": hi,
                         "t": float(t), "df": float(n - 2), "p_value": p, "n": n})
        if expected is not None and c in expected:
            lo, hi = _noncentral_ci(d, n1, n2, alpha)
            sign = 1 if expected[c] == "higher" else -1
            verdict = ("supported" if (sign > 0 and lo > 0) or (sign < 0 and hi < 0)
                       else "contradicted" if (sign > 0 and hi < 0) or (sign < 0 and lo > 0) else "not shown")
            verdicts.append({"construct": c, "expected": expected[c], "verdict": verdict})
    table = pd.DataFrame(rows).set_index(["construct", "coefficient"])
    descriptives = pd.DataFrame(desc).set_index(["construct", "group"])
    verdict_frame = (pd.DataFrame(verdicts).set_index("construct") if verdicts
                     else pd.DataFrame({"expected": pd.Series(dtype=object), "verdict": pd.Series(dtype=object)},
                                       index=pd.Index([], name="construct")))
    convention = ("d = (m2 - m1) / pooled SD over N (psych cohen.d); g = (m2 - m1) / pooled SD over N - 2 "
                  "(psych hedges.g, no small-sample correction); noncentral-t intervals as psych::cohen.d.ci, "
                  "solved to machine precision")
    return KnownGroupsResult(
        table=table, descriptives=descriptives, verdicts=verdict_frame, group=group, groups=groups,
        n_excluded=excluded, level=float(level), convention=convention,
        r_call=f"psych::cohen.d(scores, group = data${group}, alpha = {alpha:.10g})")


# --------------------------------------------------------------------------- correlations
@dataclasses.dataclass(frozen=True, eq=False)
class CriterionValidityResult(ResultMixin):
    """Correlations of construct scores with criterion variables.

    Attributes
    ----------
    table : pandas.DataFrame
        Index (``construct``, ``criterion``); columns ``estimate`` (Pearson's r), ``ci_low``,
        ``ci_high`` (Fisher z), ``t``, ``df``, ``p_value``, ``n`` (pairwise complete).
    level : float
        Confidence level.
    convention : str
        The formulas, in words.
    r_call : str
        The equivalent R call.

    See Also
    --------
    criterion_validity : Computes this result.
    """

    table: pd.DataFrame
    level: float
    convention: str
    r_call: str

    _title = "Criterion validity"

    def to_frame(self) -> pd.DataFrame:
        """The correlation table.

        Returns
        -------
        pandas.DataFrame
            :attr:`table`, a copy.

        See Also
        --------
        criterion_validity : Computes the result.
        """
        return self.table.copy()

    def wide(self) -> pd.DataFrame:
        """The correlations as a constructs x criteria matrix.

        Returns
        -------
        pandas.DataFrame
            Pearson's r, constructs as rows and criteria as columns.

        See Also
        --------
        CriterionValidityResult.to_frame : With intervals, p-values and n.
        """
        return self.table["estimate"].unstack("criterion")


def criterion_validity(
    data,
    instrument,
    *,
    criteria,
    constructs=None,
    min_items=None,
    level: float = 0.95,
) -> CriterionValidityResult:
    """Criterion validity: Pearson correlations of construct scores with criteria, with intervals.

    For each construct score and criterion, over the respondents with both (pairwise
    complete, ``n``), as ``cor.test(score, criterion)``: ``r``; the Fisher-z interval
    ``tanh(atanh(r) -/+ z_(1-alpha/2) / sqrt(n - 3))``; ``t = r sqrt((n - 2) / (1 - r^2))``
    with ``df = n - 2`` and its two-sided p-value (``psych::corr.test`` gives the same r,
    interval and unadjusted p).

    Parameters
    ----------
    data : pandas.DataFrame
        The answers and the criterion columns.
    instrument : Instrument
        Scores the constructs (reverse items keyed).
    criteria : list of str
        Numeric criterion columns of ``data`` (a single name is accepted).
    constructs : list of str, optional
        Constructs to analyse; default None: all.
    min_items : int or mapping, optional
        Passed to :meth:`custval.Instrument.score`; default None: a score from at least one
        answered item.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    CriterionValidityResult
        One row per construct and criterion.

    Raises
    ------
    custval.exceptions.SpecificationError
        A criterion that is not a column, or is an item of the instrument.
    custval.exceptions.DataValidationError
        A criterion column that is not numeric (naming the column and example values).

    See Also
    --------
    known_groups : Differences between groups that theory says must differ.
    custval.correlation.polychoric : Correlations of ordinal items.

    Examples
    --------
    >>> import custval
    >>> data = custval.load_dataset("bfi").data
    >>> inst = custval.load_instrument("bfi")
    >>> res = custval.criterion_validity(data, inst, criteria=["age"], constructs=["A", "C"])
    >>> res.to_frame()[["estimate", "ci_low", "ci_high", "n"]].round(3)
                        estimate  ci_low  ci_high     n
    construct criterion
    A         age          0.186   0.149    0.221  2800
    C         age          0.118   0.081    0.154  2800

    # In R: cor.test(scores$A, bfi$age)   # or psych::corr.test(scores, bfi["age"])
    """
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1; got {level!r}")
    if isinstance(criteria, str):
        criteria = [criteria]
    criteria = list(criteria)
    if not criteria:
        raise SpecificationError("criteria must name at least one column")
    if isinstance(data, pd.DataFrame):
        absent = [c for c in criteria if c not in data.columns]
        if absent:
            raise SpecificationError(f"criterion column(s) {absent} are not in the data; columns: "
                                     f"{list(data.columns)[:20]}")
    scores = _scores(data, instrument, constructs, min_items)
    items = set(instrument.items)
    own = [c for c in criteria if c in items]
    if own:
        raise SpecificationError(f"criterion column(s) {own} are items of the instrument; a criterion is measured "
                                 f"outside the scale")
    bad = [c for c in criteria if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])]
    if bad:
        shown = {c: _not_numbers(data[c]) for c in bad}
        raise DataValidationError(
            f"criterion column(s) {bad} are not numeric (e.g. {shown}); code them as numbers or read them "
            f"with their missing-value codes declared",
            [{"rule": "numeric", "column": c, "rows": [], "row_counting": "data rows from 1",
              "values": shown[c], "n": len(shown[c]), "allowed": "numbers or empty"} for c in bad])
    zc = float(ndtri(1 - (1 - level) / 2))
    rows = []
    for c in scores.columns:
        s = scores[c].to_numpy(dtype=float)
        for cr in criteria:
            y = data[cr].to_numpy(dtype=float)
            ok = ~(np.isnan(s) | np.isnan(y))
            n = int(ok.sum())
            if n < 4:
                raise InsufficientDataError(
                    f"criterion_validity: construct {c!r} and criterion {cr!r} have {n} respondent(s) with both; "
                    f"a correlation with an interval needs at least 4")
            a, b = s[ok], y[ok]
            if np.ptp(a) == 0 or np.ptp(b) == 0:
                raise InsufficientDataError(
                    f"criterion_validity: {'construct ' + repr(c) if np.ptp(a) == 0 else 'criterion ' + repr(cr)} "
                    f"is constant over the {n} respondents with both; the correlation is undefined")
            r = float(np.corrcoef(a, b)[0, 1])
            r = min(1.0, max(-1.0, r))
            if abs(r) < 1:
                z, se = math.atanh(r), 1 / math.sqrt(n - 3)
                lo, hi = math.tanh(z - zc * se), math.tanh(z + zc * se)
                t = r * math.sqrt((n - 2) / (1 - r * r))
                p = float(2 * stdtr(n - 2, -abs(t)))
            else:
                lo = hi = r
                t, p = math.copysign(math.inf, r), 0.0
            rows.append({"construct": c, "criterion": cr, "estimate": r, "ci_low": lo, "ci_high": hi, "t": t,
                         "df": float(n - 2), "p_value": p, "n": n})
    table = pd.DataFrame(rows).set_index(["construct", "criterion"])
    return CriterionValidityResult(
        table=table, level=float(level),
        convention="Pearson r, pairwise complete; Fisher-z interval and t test as cor.test",
        r_call=f"cor.test(score, criterion, conf.level = {level:.10g})")
