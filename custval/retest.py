"""Test-retest reliability: intraclass correlations, SEM and smallest detectable change.

The same respondents answer the instrument twice; :func:`test_retest` matches them by id
and reports, per construct score and per item, the intraclass correlations of the two-way
ANOVA model as ``psych::ICC(x, lmer = FALSE)`` (Shrout & Fleiss, 1979; McGraw & Wong,
1996), the Pearson correlation, the standard error of measurement and the smallest
detectable change (de Vet et al., 2006).  Respondents who answered one wave only are
reported by id and count, never dropped silently.

References
----------
McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass correlation
coefficients. *Psychological Methods, 1*(1), 30-46.

Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing rater
reliability. *Psychological Bulletin, 86*(2), 420-428.

de Vet, H. C. W., Terwee, C. B., Knol, D. L., & Bouter, L. M. (2006). When to use agreement
versus reliability measures. *Journal of Clinical Epidemiology, 59*, 1033-1039.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
from scipy.special import fdtrc, fdtri, ndtri, stdtr

from ._results import ResultMixin
from .exceptions import (
    ConstantItemWarning,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

__all__ = ["RetestResult", "icc_table", "test_retest"]

#: the ICC forms reported for a test-retest design (psych::ICC's type names)
ICC_TYPES = ("ICC2", "ICC3", "ICC2k", "ICC3k")
_SHOW = 10


# --------------------------------------------------------------------------- ICC as psych::ICC
def _icc(x: np.ndarray, alpha: float) -> dict[str, dict[str, float]]:
    """psych::ICC(x, lmer = FALSE, alpha = alpha)$results for a complete n x k matrix."""
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_tot = ((x - grand) ** 2).sum()
    ss_err = ss_tot - ss_rows - ss_cols
    df_b, df_j, df_e = n - 1, k - 1, (n - 1) * (k - 1)
    msb, msj, mse = ss_rows / df_b, ss_cols / df_j, ss_err / df_e
    msw = (ss_cols + ss_err) / (df_j + df_e)
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f11 = msb / msw
    df11n, df11d = n - 1, n * (k - 1)
    f21 = msb / mse
    df21n, df21d = n - 1, (n - 1) * (k - 1)
    p11 = float(fdtrc(df11n, df11d, f11))
    p21 = float(fdtrc(df21n, df21d, f21))
    q = 1 - alpha / 2
    f1l = f11 / fdtri(df11n, df11d, q)
    f1u = f11 * fdtri(df11d, df11n, q)
    f3l = f21 / fdtri(df21n, df21d, q)
    f3u = f21 * fdtri(df21d, df21n, q)
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = fdtri(n - 1, v, q)
    f2l = fdtri(v, n - 1, q)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    row = {
        "ICC1": (icc1, f11, df11n, df11d, p11, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        "ICC2": (icc2, f21, df21n, df21d, p21, l2, u2),
        "ICC3": (icc3, f21, df21n, df21d, p21, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        "ICC1k": (icc1k, f11, df11n, df11d, p11, 1 - 1 / f1l, 1 - 1 / f1u),
        "ICC2k": (icc2k, f21, df21n, df21d, p21, l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        "ICC3k": (icc3k, f21, df21n, df21d, p21, 1 - 1 / f3l, 1 - 1 / f3u),
    }
    keys = ("estimate", "f", "df1", "df2", "p_value", "ci_low", "ci_high")
    return {t: {kk: float(vv) for kk, vv in zip(keys, vals)} for t, vals in row.items()}


def icc_table(x, *, level: float = 0.95) -> pd.DataFrame:
    """The six intraclass correlations of an n x k table of complete ratings, as ``psych::ICC``.

    Two-way ANOVA without interaction (``lmer = FALSE``): with mean squares between
    subjects ``MSB``, between occasions/raters ``MSJ``, residual ``MSE`` and within subjects
    ``MSW``, ``ICC(2,1) = (MSB - MSE) / (MSB + (k-1) MSE + k (MSJ - MSE) / n)`` (absolute
    agreement), ``ICC(3,1) = (MSB - MSE) / (MSB + (k-1) MSE)`` (consistency), and their
    average-measure forms; F-based confidence intervals of McGraw & Wong (1996) as psych
    computes them (``ICC2``'s from Satterthwaite's degrees of freedom).

    Parameters
    ----------
    x : pandas.DataFrame or numpy.ndarray
        ``n`` subjects x ``k`` occasions (or raters), no missing values.
    level : float, default 0.95
        Confidence level (psych's ``alpha = 1 - level``).

    Returns
    -------
    pandas.DataFrame
        Index ``type`` (``ICC1``, ``ICC2``, ``ICC3``, ``ICC1k``, ``ICC2k``, ``ICC3k``), columns
        ``estimate, f, df1, df2, p_value, ci_low, ci_high``.

    See Also
    --------
    test_retest : Matches two survey waves and reports these per construct and item.

    Examples
    --------
    >>> import numpy as np
    >>> from custval.retest import icc_table
    >>> x = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
    ...               [6, 2, 4, 7]], dtype=float)           # Shrout & Fleiss (1979), Table 2
    >>> icc_table(x).loc[["ICC2", "ICC3"], "estimate"].round(2).tolist()
    [0.29, 0.71]

    # In R: psych::ICC(x, lmer = FALSE)
    """
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise SpecificationError(f"icc_table needs an n x k table with n >= 2 and k >= 2; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataValidationError("icc_table needs complete ratings: the table has missing or infinite values")
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1; got {level!r}")
    res = _icc(arr, 1 - level)
    frame = pd.DataFrame.from_dict(res, orient="index")
    frame.index.name = "type"
    return frame


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class RetestResult(ResultMixin):
    """Test-retest reliability per construct score and per item.

    Attributes
    ----------
    table : pandas.DataFrame
        Long table, index (``level`` "construct"/"item", ``variable``, ``coefficient``
        ``ICC2``/``ICC3``/``ICC2k``/``ICC3k``/``r``), columns ``estimate, ci_low, ci_high, f,
        df1, df2, p_value, n`` (ICCs as ``psych::ICC(lmer = FALSE)``; ``r`` Pearson's with a
        Fisher-z interval as ``cor.test``).
    agreement : pandas.DataFrame
        One row per (level, variable): ``n``, ``sd`` (pooled over the two waves), ``sem``
        and ``sdc``.
    n_time1, n_time2 : int
        Respondents (rows) in each wave.
    n_matched : int
        Respondents in both waves.
    unmatched_time1, unmatched_time2 : tuple
        Ids found in one wave only (empty tuples when the id column looks like personal
        data; the counts are then in ``n_unmatched_time1`` / ``n_unmatched_time2``).
    n_unmatched_time1, n_unmatched_time2 : int
        How many respondents answered one wave only.
    id : str
        The id column.
    level : float
        Confidence level.
    convention : str
        Which ICC, SD and rules were used.
    r_call : str
        The equivalent R call.

    See Also
    --------
    test_retest : Computes this result.
    icc_table : The six ICCs of one complete table.
    """

    table: pd.DataFrame
    agreement: pd.DataFrame
    n_time1: int
    n_time2: int
    n_matched: int
    unmatched_time1: tuple
    unmatched_time2: tuple
    n_unmatched_time1: int
    n_unmatched_time2: int
    id: str
    level: float
    convention: str
    r_call: str

    _title = "Test-retest reliability"

    def to_frame(self) -> pd.DataFrame:
        """One row per construct score and item: the four ICCs, r, SEM and SDC.

        Returns
        -------
        pandas.DataFrame
            Index (``level``, ``variable``); columns ``n``, ``icc2_1``, ``icc3_1``, ``icc2_k``,
            ``icc3_k``, ``pearson_r``, ``sd``, ``sem``, ``sdc``.

        See Also
        --------
        test_retest : Computes this result (its ``table`` has every coefficient with interval and F test).
        """
        est = self.table["estimate"].unstack("coefficient")
        names = {"ICC2": "icc2_1", "ICC3": "icc3_1", "ICC2k": "icc2_k", "ICC3k": "icc3_k", "r": "pearson_r"}
        est = est[list(names)].rename(columns=names)
        out = pd.concat([self.agreement[["n"]], est, self.agreement[["sd", "sem", "sdc"]]], axis=1)
        return out.loc[self.agreement.index]

    def _notes(self) -> list[str]:
        shown = [f"matched {self.n_matched} of {self.n_time1} (wave 1) and {self.n_time2} (wave 2) respondents by "
                 f"{self.id!r}; {self.n_unmatched_time1} in wave 1 only, {self.n_unmatched_time2} in wave 2 only"]
        return shown + super()._notes()


# --------------------------------------------------------------------------- input checks
def _ids(frame: pd.DataFrame, id: str, wave: str) -> pd.Series:
    if not isinstance(frame, pd.DataFrame):
        raise SpecificationError(f"{wave} must be a pandas DataFrame; got {type(frame).__name__}")
    if id not in frame.columns:
        raise SpecificationError(f"{wave} has no id column {id!r}; columns: {list(frame.columns)[:20]}; "
                                 f"pass id= to name the respondent id column")
    ids = frame[id]
    blank = ids.isna() | ids.astype(str).str.strip().eq("")
    if blank.any():
        rows = [int(i) + 1 for i in np.flatnonzero(blank.to_numpy())]
        raise DataValidationError(
            f"{wave}: {len(rows)} row(s) have no {id!r} (data rows {rows[:_SHOW]}, counting from 1); "
            f"a respondent without an id cannot be matched across waves",
            [{"rule": "missing_id", "column": id, "rows": rows, "row_counting": "data rows from 1",
              "values": [], "n": len(rows), "allowed": "an id on every row"}])
    return ids


def _key(ids: pd.Series, as_text: bool) -> pd.Series:
    return ids.astype(str).str.strip() if as_text else ids


def _check_items(frame: pd.DataFrame, items: list[str], wave: str) -> None:
    missing = [i for i in items if i not in frame.columns]
    if missing:
        raise SpecificationError(f"{wave} has no column(s) {missing[:_SHOW]}")
    bad = [i for i in items if not pd.api.types.is_numeric_dtype(frame[i]) or pd.api.types.is_bool_dtype(frame[i])]
    if bad:
        from .criterion import _not_numbers

        shown = {c: _not_numbers(frame[c]) for c in bad}
        raise DataValidationError(
            f"{wave}: item column(s) {bad[:_SHOW]} are not numeric (e.g. {shown}); read the file with "
            f"custval.read_survey and its codebook so that missing-value codes and texts are handled",
            [{"rule": "numeric", "column": c, "rows": [], "row_counting": "data rows from 1",
              "values": shown[c], "n": len(shown[c]), "allowed": "numbers or empty"} for c in bad])


def _pair_stats(x1: np.ndarray, x2: np.ndarray, name: str, alpha: float, rows: list, agree: list,
                level_name: str) -> None:
    ok = ~(np.isnan(x1) | np.isnan(x2))
    a, b = x1[ok], x2[ok]
    n = int(ok.sum())
    nan = {"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "f": math.nan, "df1": math.nan,
           "df2": math.nan, "p_value": math.nan, "n": n}
    if n < 3:
        warnings.warn(f"test_retest: {level_name} {name!r} has {n} respondent(s) with an answer in both waves; "
                      f"its ICCs, r, SEM and SDC are NaN (at least 3 are needed)", MissingDataWarning, stacklevel=4)
        for t in (*ICC_TYPES, "r"):
            rows.append({"level": level_name, "variable": name, "coefficient": t, **nan})
        agree.append({"level": level_name, "variable": name, "n": n, "sd": math.nan, "sem": math.nan,
                      "sdc": math.nan})
        return
    x = np.column_stack([a, b])
    if np.ptp(x[:, 0]) == 0 or np.ptp(x[:, 1]) == 0:
        warnings.warn(f"test_retest: {level_name} {name!r} has the same value for every matched respondent in "
                      f"{'wave 1' if np.ptp(x[:, 0]) == 0 else 'wave 2'}; its ICCs and r are undefined (NaN)",
                      ConstantItemWarning, stacklevel=4)
        for t in (*ICC_TYPES, "r"):
            rows.append({"level": level_name, "variable": name, "coefficient": t, **nan})
        agree.append({"level": level_name, "variable": name, "n": n, "sd": float(np.sqrt(
            (np.var(a, ddof=1) + np.var(b, ddof=1)) / 2)), "sem": math.nan, "sdc": math.nan})
        return
    icc = _icc(x, alpha)
    for t in ICC_TYPES:
        rows.append({"level": level_name, "variable": name, "coefficient": t, **icc[t], "n": n})
    r = float(np.corrcoef(a, b)[0, 1])
    z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
    zc = _z(1 - alpha / 2)
    se = 1 / math.sqrt(n - 3) if n > 3 else math.inf
    t_stat = r * math.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    p = float(2 * stdtr(n - 2, -abs(t_stat)))
    rows.append({"level": level_name, "variable": name, "coefficient": "r", "estimate": r,
                 "ci_low": math.tanh(z - zc * se), "ci_high": math.tanh(z + zc * se), "f": math.nan,
                 "df1": math.nan, "df2": float(n - 2), "p_value": p, "n": n})
    sd = float(np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2))
    sem = sd * math.sqrt(max(1 - icc["ICC2"]["estimate"], 0.0))
    agree.append({"level": level_name, "variable": name, "n": n, "sd": sd, "sem": sem,
                  "sdc": 1.96 * math.sqrt(2) * sem})


def _z(p: float) -> float:
    return float(ndtri(p))


# --------------------------------------------------------------------------- the function
def test_retest(
    time1,
    time2,
    *,
    instrument=None,
    id: str = "id",
    items=None,
    level: float = 0.95,
) -> RetestResult:
    """Test-retest reliability of construct scores and items from two survey waves.

    Respondents are matched by ``id``; those in one wave only are reported (ids and counts)
    and left out.  Per construct score and per item, over the respondents answering it in
    both waves (``n``):

    * ICC(2,1), ICC(3,1), ICC(2,k), ICC(3,k) of the two-way ANOVA model with F-based
      intervals, exactly as ``psych::ICC(cbind(t1, t2), lmer = FALSE)`` (Shrout & Fleiss,
      1979; McGraw & Wong, 1996): ICC(2,1) is absolute agreement (a shift between waves
      lowers it), ICC(3,1) consistency; ``k = 2`` forms are for the mean of both waves;
    * Pearson's r with a Fisher-z interval and t-test p-value, as ``cor.test(t1, t2)``;
    * ``SEM = SD * sqrt(1 - ICC(2,1))`` with ``SD`` the pooled standard deviation of the two
      waves, ``sqrt((var1 + var2) / 2)`` (sample variances, n - 1), and the smallest
      detectable change ``SDC = 1.96 * sqrt(2) * SEM`` (de Vet et al., 2006), in the units
      of the item or score.

    Construct scores are the means of the keyed items (reverse items as ``min + max - x``
    when ``instrument`` is an :class:`~custval.Instrument`), computed only for respondents who
    answered every item of the construct in that wave.

    Parameters
    ----------
    time1, time2 : pandas.DataFrame
        The two waves, one row per respondent, with the id column and the item columns
        (as read by :func:`custval.read_survey`).
    instrument : Instrument, lavaan syntax or mapping, optional
        Gives the items and constructs; an Instrument also keys reverse items.  Constructs
        none of whose items are in the waves are left out; a construct with only part of
        its items is an error.  Default None: items only, no construct scores.
    id : str, default "id"
        The respondent id column of both waves.  Ids are compared as values when both
        columns are numeric, else as stripped text.  When the column is personal data
        (recorded so by :func:`custval.read_survey`, or looking like e-mail addresses or
        names), unmatched respondents are only counted, never listed.
    items : list of str, optional
        The items to analyse; default None: the instrument's items, or without an instrument
        every column of wave 1 (except ``id``) that wave 2 also has.
    level : float, default 0.95
        Confidence level (psych's ``alpha = 1 - level``).

    Returns
    -------
    RetestResult
        ``table`` (every coefficient with interval), ``agreement`` (SD, SEM, SDC), the
        matching counts and unmatched ids; ``to_frame()`` gives one row per variable.

    Raises
    ------
    custval.exceptions.DataValidationError
        A row without an id, an id twice in one wave (naming the ids), a non-numeric item.
    custval.exceptions.InsufficientDataError
        Fewer than 3 respondents in both waves.

    See Also
    --------
    icc_table : The six ICCs of one complete n x k table.
    custval.reliability.cronbach_alpha : Internal consistency within one wave.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval.retest import test_retest
    >>> t1 = pd.DataFrame({"id": [1, 2, 3, 4, 5, 6], "q1": [4, 2, 5, 3, 1, 4]})
    >>> t2 = pd.DataFrame({"id": [6, 5, 4, 3, 2, 9], "q1": [5, 1, 3, 5, 3, 2]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = test_retest(t1, t2)
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    test_retest: 1 respondent(s) answered wave 1 only and 1 wave 2 only; they are left out
    (wave 1 only: [1]; wave 2 only: [9])
    >>> res.n_matched, res.unmatched_time1, res.unmatched_time2
    (5, (1,), (9,))
    >>> float(round(res.to_frame().loc[("item", "q1"), "icc2_1"], 4))
    0.9259

    # In R: m <- merge(t1, t2, by = "id"); psych::ICC(m[c("q1.x", "q1.y")], lmer = FALSE)
    """
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1; got {level!r}")
    alpha = 1 - level
    ids1, ids2 = _ids(time1, id, "time1"), _ids(time2, id, "time2")
    as_text = not (pd.api.types.is_numeric_dtype(ids1) and pd.api.types.is_numeric_dtype(ids2))
    k1, k2 = _key(ids1, as_text), _key(ids2, as_text)
    from ._io.pii import detect_personal_columns

    def _recorded(frame):  # read_survey's record of personal-data columns (platform-known included)
        rec = frame.attrs.get("custval", {}) if isinstance(frame.attrs.get("custval"), dict) else {}
        return id in {p.get("column") for p in rec.get("personal_data_columns", []) or [] if isinstance(p, dict)}

    personal = (_recorded(time1) or _recorded(time2) or bool(detect_personal_columns(time1[[id]]))
                or bool(detect_personal_columns(time2[[id]])))
    for wave, keys in (("time1", k1), ("time2", k2)):
        dup = keys[keys.duplicated()].unique().tolist()
        if dup:
            shown = f"{len(dup)} id(s)" if personal else f"id(s) {dup[:_SHOW]}"
            raise DataValidationError(
                f"{wave}: {shown} appear on more than one row of {id!r}; each respondent must be one row per "
                f"wave (remove or merge the duplicate submissions first)",
                [{"rule": "duplicate_id", "column": id, "rows": [], "row_counting": "ids",
                  "values": [] if personal else dup, "n": len(dup), "allowed": "unique ids"}])

    blocks: dict[str, tuple[str, ...]] = {}
    if instrument is not None:
        from ._sem.spec import measurement_blocks

        blocks = measurement_blocks(instrument)
    if items is None:
        if blocks:  # the instrument's items in either wave (a construct not retested is left out)
            items = [i for its in blocks.values() for i in its if i in time1.columns or i in time2.columns]
        else:
            items = [c for c in time1.columns if c != id and c in time2.columns]
    items = [str(i) for i in items]
    if not items:
        raise SpecificationError("test_retest found no item columns shared by both waves")
    _check_items(time1, items, "time1")
    _check_items(time2, items, "time2")

    s1, s2 = set(k1), set(k2)
    only1 = [v for v in k1 if v not in s2]
    only2 = [v for v in k2 if v not in s1]
    matched = [v for v in k1 if v in s2]
    if len(matched) < 3:
        raise InsufficientDataError(
            f"test_retest needs at least 3 respondents in both waves; {len(matched)} of {len(k1)} (wave 1) and "
            f"{len(k2)} (wave 2) share an {id!r}" + (f"; wave 1 ids start {list(k1[:3])}, wave 2 ids start "
                                                     f"{list(k2[:3])}" if not personal else ""))
    a = time1.set_axis(k1.to_numpy(), axis=0).loc[matched, items]
    b = time2.set_axis(k2.to_numpy(), axis=0).loc[matched, items]
    if instrument is not None and hasattr(instrument, "keyed"):
        from ._keys import keyed_once

        a, b = keyed_once(a, instrument), keyed_once(b, instrument)
    rows: list = []
    agree: list = []
    for c, its in blocks.items():
        absent = [i for i in its if i not in items]
        if len(absent) == len(its):
            continue
        if absent:
            raise SpecificationError(
                f"construct {c!r}: item(s) {absent} are not in both waves (or not in items=); a score from "
                f"part of its items is a different score -- retest every item of {c!r} or analyse items only")
        its = list(its)
        sc1 = a[its].to_numpy(dtype=float).mean(axis=1)  # NaN unless every item answered
        sc2 = b[its].to_numpy(dtype=float).mean(axis=1)
        _pair_stats(sc1, sc2, c, alpha, rows, agree, "construct")
    for it in items:
        _pair_stats(a[it].to_numpy(dtype=float), b[it].to_numpy(dtype=float), it, alpha, rows, agree, "item")
    table = pd.DataFrame(rows).set_index(["level", "variable", "coefficient"])
    agreement = pd.DataFrame(agree).set_index(["level", "variable"])
    if only1 or only2:
        shown = "" if personal else (f" (wave 1 only: {only1[:_SHOW]}{' ...' if len(only1) > _SHOW else ''}; "
                                     f"wave 2 only: {only2[:_SHOW]}{' ...' if len(only2) > _SHOW else ''})")
        warnings.warn(f"test_retest: {len(only1)} respondent(s) answered wave 1 only and {len(only2)} wave 2 only; "
                      f"they are left out{shown}", MissingDataWarning, stacklevel=2)
    unmatched1 = () if personal else tuple(v.item() if hasattr(v, "item") else v for v in only1)
    unmatched2 = () if personal else tuple(v.item() if hasattr(v, "item") else v for v in only2)
    convention = ("ICCs of the two-way ANOVA model as psych::ICC(lmer = FALSE) with F-based intervals; "
                  "SEM = SD_pooled * sqrt(1 - ICC(2,1)), SD_pooled = sqrt((var_t1 + var_t2) / 2); "
                  "SDC = 1.96 * sqrt(2) * SEM; scores = mean of keyed items, all items answered")
    return RetestResult(
        table=table, agreement=agreement, n_time1=int(len(k1)), n_time2=int(len(k2)), n_matched=len(matched),
        unmatched_time1=unmatched1, unmatched_time2=unmatched2, n_unmatched_time1=len(only1),
        n_unmatched_time2=len(only2), id=id, level=float(level), convention=convention,
        r_call=f"m <- merge(time1, time2, by = \"{id}\"); psych::ICC(m[c(\"q.x\", \"q.y\")], lmer = FALSE)  # q: an item")


test_retest.__test__ = False  # a statistic named test_*, not a test for pytest to collect
