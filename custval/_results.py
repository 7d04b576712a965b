"""Shared behaviour of custval's frozen result objects.

Results are frozen dataclasses (declared ``@dataclass(frozen=True, eq=False)`` so that
the mixin's comparison is used) that mix in :class:`ResultMixin`.  They keep every
number unrounded; rounding happens only in :meth:`summary` and :meth:`_repr_html_`.

Two results are equal when they are of the same type and every field is exactly
equal: arrays, Series and DataFrames compare by shape, dtype, labels and values, with
NaN equal to NaN in the same place (no tolerance).  The hash is consistent with that
equality (a digest of the type and every field's values), so results can be
dictionary keys and set members.  A result holding a DataFrame can still be changed
in place (``res.table.iloc[0, 0] = 0``); its hash then changes too, so do not change
a result that is a dictionary key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import math

import numpy as np
import pandas as pd

#: The one column vocabulary shared by every custval table.
COLUMNS = ("estimate", "se", "ci_low", "ci_high", "p_value", "n")

DISPLAY_DIGITS = 3


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, str, bool, np.integer, np.floating, np.bool_)) or value is None


# --------------------------------------------------------------------------- value equality and hash
_NAN = ("custval-nan",)  # one digest for every NaN (NaN == NaN inside results)
_NA = ("custval-na",)


def _is_na(value) -> bool:
    return value is pd.NA or value is pd.NaT


def _float_equal(a, b) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _array_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind == "O":
        return all(values_equal(x, y) for x, y in zip(a.ravel(), b.ravel()))
    return bool(np.array_equal(a, b))


def _index_equal(a: pd.Index, b: pd.Index) -> bool:
    return a.dtype == b.dtype and list(a.names) == list(b.names) and bool(a.equals(b))


def values_equal(a, b) -> bool:
    """Exact, NaN-aware equality of two field values (the rule of ``ResultMixin.__eq__``)."""
    if a is b:
        return True
    if isinstance(a, (pd.DataFrame, pd.Series, pd.Index, np.ndarray)) or isinstance(
            b, (pd.DataFrame, pd.Series, pd.Index, np.ndarray)):
        if type(a) is not type(b):
            return False
        if isinstance(a, np.ndarray):
            return _array_equal(a, b)
        if isinstance(a, pd.Index):
            return _index_equal(a, b)
        if not _index_equal(a.index, b.index):
            return False
        if isinstance(a, pd.Series):
            return a.name == b.name and a.dtype == b.dtype and bool(a.equals(b))
        return (_index_equal(a.columns, b.columns) and bool(a.dtypes.equals(b.dtypes))
                and bool(a.equals(b)))
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        return _float_equal(float(a), float(b))
    if _is_na(a) or _is_na(b):
        return a is b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    try:
        out = a == b
        return bool(out)
    except (TypeError, ValueError):  # an object whose == is elementwise or refuses
        return False


def _array_digest(a: np.ndarray):
    if a.dtype.kind == "O":
        return ("O", a.shape, tuple(value_digest(v) for v in a.ravel()))
    if a.dtype.kind in "fc":  # -0.0 -> 0.0 and one NaN bit pattern (equal values, different bytes)
        a = np.where(np.isnan(a), np.nan, a + 0).astype(a.dtype, copy=False)
    if a.dtype.kind in "fciub":
        data = np.ascontiguousarray(a).tobytes()
    else:  # strings, dates: the bytes of the values as stored
        data = repr(a.tolist()).encode()
    return (a.dtype.str, a.shape, hashlib.blake2b(data, digest_size=16).digest())


def value_digest(value):
    """A hashable digest of a field value; values equal by :func:`values_equal` have equal digests."""
    if value is None or isinstance(value, (str, bytes, bool, int)):
        return value
    if isinstance(value, (float, np.floating)):
        return _NAN if math.isnan(value) else float(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if _is_na(value):
        return _NA
    if isinstance(value, np.ndarray):
        return _array_digest(value)
    if isinstance(value, pd.Index):
        return ("index", _array_digest(np.asarray(value.to_numpy())))
    if isinstance(value, pd.Series):
        return ("series", value_digest(value.index), _array_digest(np.asarray(value.to_numpy())))
    if isinstance(value, pd.DataFrame):
        cols = tuple(_array_digest(np.asarray(value.iloc[:, j].to_numpy())) for j in range(value.shape[1]))
        return ("frame", value_digest(value.index), value_digest(value.columns), cols)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(value_digest(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((value_digest(k), value_digest(v)) for k, v in value.items()))
    try:
        return hash(value)
    except TypeError:  # unhashable and not one of the above: equal values share the type
        return ("unhashable", type(value).__qualname__)


def _is_frozen_dataclass(obj) -> bool:
    params = getattr(type(obj), "__dataclass_params__", None)
    return params is not None and params.frozen


class ValueEqualityMixin:
    """``==`` and ``hash`` by value for a frozen dataclass (see :class:`ResultMixin`).

    Declare the class ``@dataclass(frozen=True, eq=False)`` so that the dataclass does not
    replace these methods; a class that is not a frozen dataclass keeps identity semantics.
    """

    def __eq__(self, other):
        if not _is_frozen_dataclass(self):
            return self is other
        if other is self:
            return True
        if type(other) is not type(self):
            return NotImplemented
        return all(values_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self) if f.compare)  # type: ignore[arg-type]

    def __hash__(self) -> int:
        if not _is_frozen_dataclass(self):
            return object.__hash__(self)
        return hash((type(self).__module__, type(self).__qualname__,
                     *(value_digest(getattr(self, f.name))
                       for f in dataclasses.fields(self) if f.compare)))  # type: ignore[arg-type]


class ResultMixin(ValueEqualityMixin):
    """``to_frame()``, ``summary()``, ``_repr_html_()``, ``==`` and ``hash`` for a frozen dataclass.

    Subclasses may override :meth:`to_frame`; the default puts every scalar
    field in a one-row frame.  ``_title`` names the result in displays.

    A frozen dataclass result compares by value: same type and every field exactly
    equal (NaN equal to NaN; arrays and frames by dtype, labels and values; fields
    declared ``compare=False``, such as bootstrap replicates and fitted models, are
    left out); it hashes consistently with that.  Declare it
    ``@dataclass(frozen=True, eq=False)`` so that the dataclass does not replace
    these methods.  Any other class using the mixin (a mutable estimator such as
    :class:`custval.PLS`) keeps identity comparison and hash.

    Table protocol: ``_table_kind`` names what a builder in :mod:`custval.tables`
    reads from the result (``"htmt"``, ``"fornell_larcker"``; empty for a result no
    builder reads specially, which the builders take through :meth:`to_frame`).
    The builders dispatch on it and never guess a result's kind from its columns.
    """

    _title: str = ""
    _table_kind: str = ""

    def to_frame(self) -> pd.DataFrame:
        row = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if _is_scalar(getattr(self, f.name))
        }
        return pd.DataFrame([row])

    def _display_frame(self) -> pd.DataFrame:
        return self.to_frame()

    def _shown_title(self) -> str:
        title = self._title or type(self).__name__
        # a result computed from simulated data carries simulated=True (other results may use
        # the name for something else, e.g. parallel analysis' simulated eigenvalues)
        if getattr(self, "simulated", None) is True and "simulated" not in title.lower():
            title = f"{title} (SIMULATED data)"
        return title

    def _notes(self) -> list[str]:
        notes = []
        for name in ("r_call", "convention", "method_note"):
            value = getattr(self, name, None)
            if isinstance(value, str) and value:
                label = {"r_call": "In R", "convention": "Convention", "method_note": "Method"}[name]
                notes.append(f"{label}: {value}")
        for repair in getattr(self, "repairs", ()) or ():
            notes.append(f"Repair: {repair}")
        return notes

    def summary(self, *, digits: int = DISPLAY_DIGITS) -> str:
        """A plain-text table, rounded for display only."""
        title = self._shown_title()
        frame = self._display_frame()
        with pd.option_context("display.width", 120, "display.max_columns", 50):
            text = frame.round(digits).to_string()
        parts = [title, "-" * len(title), text, *self._notes()]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        title = html.escape(self._shown_title())
        table = self._display_frame().to_html(float_format=lambda v: f"{v:.{DISPLAY_DIGITS}f}", na_rep="")
        notes = "".join(f"<br><small>{html.escape(n)}</small>" for n in self._notes())
        return f"<div><strong>{title}</strong>{table}{notes}</div>"
