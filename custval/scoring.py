"""Reverse keying and construct (scale) scores.

:meth:`Instrument.keyed <custval.Instrument.keyed>` and
:meth:`Instrument.score <custval.Instrument.score>` delegate here.

Missing-data rule (custval never imputes)
-----------------------------------------
For each respondent and construct with ``k`` items, ``n_valid`` is the number
of answered (non-NaN) items.

* ``method="mean"``: the score is the mean of the valid keyed items when
  ``n_valid >= min_items`` (default ``min_items=1``), else NaN.  With the
  default this is exactly ``psych::scoreItems(keys, x, totals = FALSE,
  impute = "none", min = , max = )$scores`` (psych averages the available
  items).  Note psych's *default* ``impute = "median"`` fills missing answers
  with item medians before averaging; custval never does that.
* ``method="sum"``: by default (``min_items=None``) the sum of the ``k`` keyed
  items when all ``k`` are valid, else NaN (R: ``rowSums(keyed)``).  With
  ``min_items = m < k`` the score is the *prorated sum* ``mean(valid items) * k``
  when ``n_valid >= m`` (a sum on the metric of ``k`` items).  psych's
  ``totals = TRUE, impute = "none"`` instead sums whatever items are present,
  which makes totals of respondents with missing answers incomparable; custval
  agrees with it on complete rows only.
* A construct with fewer items than ``min_items`` needs all of its items.

Rows are never dropped: every input row gets a score row (NaN when not
scored), and ``n_valid`` / ``n_scored`` report what was used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._results import ResultMixin
from .exceptions import DataValidationError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Instrument

__all__ = ["ScoreResult", "key_codes", "keyed", "score"]

_MAX_SHOWN = 10
ROW_COUNTING = "index labels of the DataFrame"


@dataclasses.dataclass(frozen=True, eq=False)
class ScoreResult(ResultMixin):
    """Construct scores with the counts behind them.

    Attributes
    ----------
    scores : DataFrame
        Index = the data's index, one column per construct (NaN = not scored).
    n_valid : DataFrame
        Number of valid (answered) items per respondent and construct.
    method : str
        ``"mean"`` or ``"sum"``.
    min_items : int, dict or None
        As requested.
    required : Series
        Valid items a respondent needed per construct (after the rules).
    n_items : Series
        Number of items per construct.
    rule : str
        The missing-data rule in words.
    n : int
        Rows in the data (= rows of ``scores``).
    n_scored : Series
        Respondents with a score, per construct.
    r_call : str
        The equivalent R call.

    See Also
    --------
    custval.scoring.score : The function that returns it.
    custval.reliability.scale_reliability : Reliability of the constructs scored.
    """

    scores: pd.DataFrame
    n_valid: pd.DataFrame
    method: str
    min_items: int | dict | None
    required: pd.Series
    n_items: pd.Series
    rule: str
    n: int
    n_scored: pd.Series
    r_call: str

    _title = "Construct scores"

    def to_frame(self) -> pd.DataFrame:
        """The scores as a frame.

        Returns
        -------
        DataFrame
            Index = the data's index, one column per construct.

        See Also
        --------
        custval.scoring.score : The function that returns the result.
        """
        return self.scores

    def _display_frame(self) -> pd.DataFrame:
        desc = pd.DataFrame({
            "n_items": self.n_items,
            "min_items": self.required,
            "n": self.n,
            "n_scored": self.n_scored,
            "mean": self.scores.mean(),
            "sd": self.scores.std(),
            "min": self.scores.min(),
            "max": self.scores.max(),
        })
        desc.index.name = "construct"
        return desc

    def _notes(self) -> list[str]:
        return [f"Rule: {self.rule}", *super()._notes()]


# --------------------------------------------------------------------------- validation
def _check_frame(data) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    return data


def _shown(values: Iterable) -> str:
    values = list(values)
    head = ", ".join(map(repr, values[:_MAX_SHOWN]))
    return head + (f", ... ({len(values)} in all)" if len(values) > _MAX_SHOWN else "")


def _item_scale(inst, item):
    """(min, max) of an item's own scale; duck-typed instruments without item scales use theirs."""
    getter = getattr(inst, "item_scale", None)
    if getter is not None:
        sc = getter(item)
        return sc.min, sc.max
    return inst.scale_min, inst.scale_max


def _check_items(inst: Instrument, data: pd.DataFrame, cols: list[str]) -> None:
    """Numeric and within each item's own scale; collect every problem, raise once."""
    problems: list[dict] = []
    messages: list[str] = []
    dup = sorted({c for c in cols if int((data.columns == c).sum()) > 1})
    if dup:
        raise DataValidationError(
            f"item column(s) {', '.join(dup)} occur more than once in the data; columns must be unique",
            problems=[{"rule": "duplicate_column", "column": c, "rows": None, "row_counting": None,
                       "values": None, "n": None, "allowed": "one column per item"} for c in dup],
        )
    codes = set(inst.missing_codes) | set(inst.dont_know_codes)
    for c in cols:
        lo, hi = _item_scale(inst, c)
        s = data[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            problems.append({"rule": "numeric", "column": c, "rows": None, "row_counting": None,
                             "values": None, "n": None, "allowed": f"numbers {lo}..{hi} or NaN"})
            messages.append(f"column {c!r} has dtype {s.dtype}, not numeric (custval does not coerce; "
                            "convert with pandas.to_numeric after checking the values)")
            continue
        x = s.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(x) & ~((x >= lo) & (x <= hi))
        if bad.any():
            rows = list(s.index[bad])
            vals = [v.item() if hasattr(v, "item") else v for v in s[bad].tolist()]
            vals = [int(v) if isinstance(v, float) and v.is_integer() else v for v in vals]
            hint = ""
            hits = sorted({v for v in vals if v in codes})
            if hits:
                hint = (f" ({', '.join(map(str, hits))} is a declared missing/don't-know code: "
                        "convert it to NaN first, e.g. with custval.read_survey)")
            problems.append({"rule": "range", "column": c, "rows": rows, "row_counting": ROW_COUNTING,
                             "values": vals, "n": len(rows), "allowed": f"{lo}..{hi} or NaN"})
            messages.append(f"column {c!r}: {len(rows)} value(s) outside the scale {lo}..{hi} at rows "
                            f"(index labels) {_shown(rows)}: values {_shown(vals)}{hint}")
    if problems:
        raise DataValidationError(
            f"{len(messages)} item column(s) do not fit instrument {inst.name!r}:\n  "
            + "\n  ".join(messages),
            problems=problems,
        )


# --------------------------------------------------------------------------- keying
def key_codes(x: np.ndarray, inst: Instrument, *, items, skip=()) -> np.ndarray:
    """Reverse keying of a numeric array: the one place custval computes ``min + max - x``.

    ``x`` has one column per id in ``items`` (rows = respondents); the columns
    of reverse-keyed items become ``min + max - x`` of that item's own scale
    (:meth:`custval.Instrument.item_scale`), NaN stays NaN.  Items in ``skip``
    (keyed already, e.g. recorded by :func:`keyed` in a frame's attrs) are left
    as they are.  Nothing is validated (:func:`keyed` validates a frame first).

    Parameters
    ----------
    inst : Instrument
        Gives the reverse-keyed items and their scales.
    items : sequence of str
        The item id of each column of ``x``.
    x : ndarray
        Respondents × items.
    skip : iterable of str
        Items keyed already.

    Returns
    -------
    ndarray
        A new float array.

    See Also
    --------
    custval.scoring.keyed : Reverse keying of a frame by its instrument.

    Examples
    --------
    >>> import numpy as np
    >>> from custval import Instrument
    >>> from custval.scoring import key_codes
    >>> inst = Instrument.from_dict({"CON": ["c1"], "INT": ["i1"]}, scale=(1, 7),
    ...                             reverse=["c1", "i1"], scales={"CON": (1, 5)})
    >>> key_codes(np.array([[2.0, 2.0]]), inst, items=["c1", "i1"])
    array([[4., 6.]])
    """
    out = np.array(x, dtype=float, copy=True)
    items = list(items)
    if out.ndim != 2 or out.shape[1] != len(items):
        raise SpecificationError(f"key_codes: x must have one column per item ({len(items)}); "
                                 f"got shape {out.shape}")
    rev = set(inst.reverse_items) - set(skip)
    for j, item in enumerate(items):  # the same rule as keyed()
        if item in rev:
            lo, hi = _item_scale(inst, item)
            out[:, j] = lo + hi - out[:, j]
    return out


def keyed(data: pd.DataFrame, inst: Instrument) -> pd.DataFrame:
    """Copy of ``data`` with the reverse items recoded as ``min + max - x`` of their own scale.

    See :meth:`custval.Instrument.keyed`.  The instrument's item columns
    present in ``data`` are validated; at least one must be present.

    Parameters
    ----------
    inst : Instrument
        Gives the reverse-keyed items and their scales.
    data : DataFrame
        The answers.

    Returns
    -------
    DataFrame
        A copy; the keyed items are recorded in its ``attrs``.

    See Also
    --------
    custval.scoring.key_codes : The recoding of one array.
    custval.scoring.score : Construct scores from the keyed items.
    """
    data = _check_frame(data)
    present = [i for i in inst.items if i in data.columns]
    if not present:
        raise DataValidationError(
            f"none of the {len(inst.items)} items of instrument {inst.name!r} is a column of the data "
            f"(items: {_shown(inst.items)}; columns: {_shown([str(c) for c in data.columns])})",
            problems=[{"rule": "missing_column", "column": None, "rows": None, "row_counting": None,
                       "values": None, "n": len(inst.items), "allowed": list(inst.items)}],
        )
    _check_items(inst, data, present)
    out = data.copy()
    for c in present:
        if c in inst.reverse_items:
            lo, hi = _item_scale(inst, c)
            out[c] = (lo + hi) - out[c]  # pandas arithmetic: the column keeps its dtype
    from ._keys import mark_keyed

    mark_keyed(out, data, inst.name, [c for c in present if c in inst.reverse_items])
    return out


# --------------------------------------------------------------------------- scoring
def _required(min_items, method: str, n_items: dict[str, int]) -> dict[str, int]:
    def check(value, where):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise SpecificationError(f"{where} must be a whole number >= 1; got {value!r}")
        return int(value)

    if min_items is None:
        return {c: (1 if method == "mean" else k) for c, k in n_items.items()}
    if isinstance(min_items, Mapping):
        bad = [c for c in min_items if c not in n_items]
        if bad:
            raise SpecificationError(
                f"min_items names construct(s) {', '.join(map(repr, bad))} that are not scored; "
                f"scored constructs: {', '.join(n_items)}"
            )
        out = {}
        for c, k in n_items.items():
            if c in min_items:
                out[c] = min(check(min_items[c], f"min_items[{c!r}]"), k)
            else:
                out[c] = 1 if method == "mean" else k
        return out
    m = check(min_items, "min_items")
    return {c: min(m, k) for c, k in n_items.items()}


def score(data: pd.DataFrame, inst: Instrument, *, method: str = "mean", min_items=None,
          constructs: Iterable[str] | None = None) -> ScoreResult:
    """Construct scores from item responses (reverse items keyed first).

    Parameters
    ----------
    data : DataFrame
        Respondents x items; every item of the scored constructs must be a
        column (numeric, within the scale, NaN = missing).
    inst : Instrument
    method : {"mean", "sum"}, default "mean"
    min_items : int, dict {construct: int} or None, default None
        Valid items a respondent needs to get a score.  None: 1 for
        ``"mean"``, all items for ``"sum"``.  See the module's missing-data rule.
    constructs : iterable of str or None, default None
        Score only these constructs (None: all, codebook order).

    Returns
    -------
    ScoreResult

    See Also
    --------
    custval.scoring.keyed : The reverse keying applied first.
    custval.reliability.scale_reliability : Reliability of the constructs scored.

    Notes
    -----
    ``mean = sum(valid keyed items) / n_valid``; reverse items are keyed as
    ``min + max - x`` of their own scale (:meth:`custval.Instrument.item_scale`).  Nothing is imputed (Revelle, 2022, describes
    psych's imputing alternatives).

    Revelle, W. (2022). *psych: Procedures for psychological, psychometric, and
    personality research* (R package version 2.2.9). Northwestern University.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import Instrument
    >>> inst = Instrument.from_dict({"VAL": ["V1", "V2", "V3"]}, scale=(1, 7), reverse=["V3"])
    >>> df = pd.DataFrame({"V1": [7, 5, None], "V2": [6, None, None], "V3": [1, 3, 4]})
    >>> res = inst.score(df)
    >>> print(res.scores.round(3))
         VAL
    0  6.667
    1  5.000
    2  4.000
    >>> print(inst.score(df, min_items=2).scores["VAL"].tolist())
    [6.666666666666667, 5.0, nan]
    >>> print(inst.score(df, method="sum").scores["VAL"].tolist())
    [20.0, nan, nan]
    >>> # In R: psych::scoreItems(c(1, 1, -1), df, totals = FALSE, impute = "none",
    >>> #                         min = 1, max = 7)$scores
    """
    data = _check_frame(data)
    if method not in ("mean", "sum"):
        raise SpecificationError(f"method must be 'mean' or 'sum'; got {method!r}")
    wanted = inst._select(constructs)
    blocks = {c: inst.constructs[c] for c in wanted}
    needed = [i for items in blocks.values() for i in items]
    absent = [i for i in needed if i not in data.columns]
    if absent:
        raise DataValidationError(
            f"{len(absent)} item(s) of the scored constructs are not columns of the data: "
            f"{', '.join(absent)}",
            problems=[{"rule": "missing_column", "column": c, "rows": None, "row_counting": None,
                       "values": None, "n": None, "allowed": "a column per item"} for c in absent],
        )
    n_items = {c: len(v) for c, v in blocks.items()}
    required = _required(min_items, method, n_items)
    from ._keys import keyed_once

    k_data = keyed_once(data.loc[:, needed], inst)  # a frame keyed by the caller is not keyed again
    x = k_data.to_numpy(dtype=float, na_value=np.nan)
    scores = {}
    counts = {}
    pos = 0
    for c, items in blocks.items():
        k = len(items)
        block = x[:, pos:pos + k]
        pos += k
        valid = ~np.isnan(block)
        nv = valid.sum(axis=1)
        total = np.where(valid, block, 0.0).sum(axis=1)
        ok = nv >= required[c]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / nv
        if method == "mean":
            value = mean
        elif required[c] >= k:
            value = total
        else:
            value = mean * k
        scores[c] = np.where(ok, value, np.nan)
        counts[c] = nv
    index = data.index
    scores_df = pd.DataFrame(scores, index=index, columns=list(blocks))
    counts_df = pd.DataFrame(counts, index=index, columns=list(blocks))
    n_scored = scores_df.notna().sum().astype(int)
    sc = [_item_scale(inst, i) for i in needed]
    if len(set(sc)) == 1:
        lo, hi = sc[0]
    else:  # psych takes one min / max per item
        lo = "c(" + ", ".join(str(a) for a, _ in sc) + ")"
        hi = "c(" + ", ".join(str(b) for _, b in sc) + ")"
    if method == "mean":
        rule = ("mean of the valid keyed items; a respondent is scored when at least min_items items "
                "are valid (default 1; a construct with fewer items needs all of them), otherwise NaN; "
                "nothing is imputed")
        r_call = (f'psych::scoreItems(keys, x, totals = FALSE, impute = "none", min = {lo}, '
                  f"max = {hi})$scores (same values for min_items = 1; otherwise set rows with fewer "
                  "valid items to NA)")
    else:
        rule = ("sum of the keyed items when all items are valid, otherwise NaN; with min_items m "
                "smaller than the k items: prorated sum = mean of the valid items * k when at least "
                "m are valid; nothing is imputed")
        r_call = ("rowSums(keyed items) for complete rows (NA otherwise); psych::scoreItems(keys, x, "
                  'totals = TRUE, impute = "none") agrees on complete rows only')
    return ScoreResult(
        scores=scores_df,
        n_valid=counts_df,
        method=method,
        min_items=dict(min_items) if isinstance(min_items, Mapping) else min_items,
        required=pd.Series(required, name="min_items", dtype=int),
        n_items=pd.Series(n_items, name="n_items", dtype=int),
        rule=rule,
        n=len(index),
        n_scored=n_scored.rename("n_scored"),
        r_call=r_call,
    )
