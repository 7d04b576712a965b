"""Checks for the custval teaching exercises.

Every exercise notebook imports :func:`check` and calls it in its ``check`` cells.  A check compares
one of the student's variables with a value the check cell computes on its own, and fails with
:class:`CheckFailed` (an ``AssertionError``, the grading signal of notebook graders) whose message
says what the variable should hold, what it holds, and a hint.

>>> check("n_items", 5, expected=5, what="the number of A items")
n_items: correct
>>> check("alpha_A", None, expected=0.70, what="Cronbach's alpha of the keyed A items",
...       hint="did you key the reverse items?")
Traceback (most recent call last):
...
_checks.CheckFailed: alpha_A should be Cronbach's alpha of the keyed A items; got None -- replace the placeholder `alpha_A = None` with your code (did you key the reverse items?)

Set the environment variable ``CUSTVAL_TEACHING_HIDE_EXPECTED=1`` before starting Jupyter to keep
the expected values out of the messages (for graded work).
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["CheckFailed", "check", "check_true"]

#: whether a failed check shows the expected value (off with CUSTVAL_TEACHING_HIDE_EXPECTED=1)
SHOW_EXPECTED = os.environ.get("CUSTVAL_TEACHING_HIDE_EXPECTED", "") in ("", "0")


class CheckFailed(AssertionError):
    """A student's answer does not pass a check; the message says what was expected and why."""


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.6g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame of {value.shape[0]} rows x {value.shape[1]} columns"
    if isinstance(value, pd.Series):
        return f"a Series of length {len(value)}"
    if isinstance(value, list | tuple | set | frozenset) and len(value) <= 12:
        return repr(sorted(value, key=str) if isinstance(value, set | frozenset) else value)
    return f"a {type(value).__name__}"


def _placeholder_text(name: str) -> str:
    """'replace the placeholder `x = None` ...' for ``x``, ``x['col']`` or ``x.attr``."""
    var = re.match(r"([A-Za-z_]\w*)(?:\[|\.|$)", name)
    if var is None:
        return "replace the placeholder with your code"
    return f"replace the placeholder `{var.group(1)} = None` with your code"


def _fail(name: str, what: str, value, detail: str = "", hint: str | None = None) -> None:
    msg = f"{name} should be {what}; got {_describe(value)}"
    if detail:
        msg += f" ({detail})"
    if hint:
        msg += f" -- {hint}"
    raise CheckFailed(msg)


def _as_number(name: str, what: str, value, hint):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        if hasattr(value, "estimate"):
            _fail(name, what, value, hint="a result object: take the number from it, e.g. its .estimate")
        if isinstance(value, pd.Series | pd.DataFrame) and value.size == 1:
            _fail(name, what, value, hint="a one-element table: take the number out of it with .item()")
        _fail(name, what, value, "a number was expected", hint)
    return float(value)


def _close(a: float, b: float, tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _same(value, expected, tol: float) -> bool:
    """Whether ``value`` equals ``expected`` (numbers to ``tol``); never raises."""
    try:
        if isinstance(expected, bool):
            return isinstance(value, bool | np.bool_) and bool(value) == expected
        if isinstance(expected, numbers.Real):
            return (isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
                    and _close(float(value), float(expected), tol))
        if isinstance(expected, str):
            return isinstance(value, str) and value == expected
        if isinstance(expected, set | frozenset):
            return isinstance(value, list | tuple | set | frozenset | pd.Index | np.ndarray) and \
                set(value) == set(expected)
        if isinstance(expected, list | tuple):
            return (isinstance(value, list | tuple | pd.Index | np.ndarray | pd.Series)
                    and len(value) == len(expected)
                    and all(_same(v, e, tol) for v, e in zip(list(value), expected)))
        if isinstance(expected, Mapping):
            return (isinstance(value, Mapping) and set(value) == set(expected)
                    and all(_same(value[k], expected[k], tol) for k in expected))
        if isinstance(expected, pd.Series | pd.DataFrame):
            if type(value) is not type(expected) or value.shape != expected.shape:
                return False
            if isinstance(expected, pd.Series):
                pd.testing.assert_series_equal(value, expected, check_names=False, check_dtype=False,
                                               rtol=tol, atol=tol)
            else:
                pd.testing.assert_frame_equal(value, expected, check_dtype=False, rtol=tol, atol=tol)
            return True
        return bool(value == expected)
    except (AssertionError, TypeError, ValueError):
        return False


def check(name: str, value, *, expected, what: str, hint: str | None = None, tol: float = 1e-6,
          wrong: Mapping | Iterable[tuple] | None = None) -> None:
    """Check a student's variable against the expected value.

    Parameters
    ----------
    name : str
        The variable's name, as the student wrote it (used in the message).
    value : object
        The student's value.
    expected : object
        What ``value`` should be: a number (compared to ``tol``, relative and absolute), a bool,
        a str, a set (any order), a list or tuple (in order), a dict, a pandas Series or DataFrame
        (values to ``tol``), or a class (``value`` must be an instance of it).
    what : str
        What the variable should hold, in words ("Cronbach's alpha of the keyed A items").
    hint : str, optional
        Said when the answer is missing or wrong.
    tol : float, default 1e-6
        Tolerance for numbers.
    wrong : dict or list of (value, hint) pairs, optional
        Known wrong answers and the hint for each: ``{alpha_unkeyed: "key A1 first"}`` (pairs for
        values that cannot be dict keys, such as Series); compared like ``expected``.

    Raises
    ------
    CheckFailed
        When ``value`` is None (the placeholder left in place) or differs from ``expected``.
    """
    if value is None and expected is not None:
        raise CheckFailed(f"{name} should be {what}; got None -- {_placeholder_text(name)}"
                          + (f" ({hint})" if hint else ""))
    if isinstance(expected, type):
        if not isinstance(value, expected):
            _fail(name, what, value, f"expected a {expected.__module__.split('.')[0]}.{expected.__name__}",
                  hint)
        print(f"{name}: correct")
        return
    if isinstance(expected, numbers.Real) and not isinstance(expected, bool):
        _as_number(name, what, value, hint)
    if not _same(value, expected, tol):
        for bad, bad_hint in (wrong.items() if isinstance(wrong, Mapping) else wrong or ()):
            if _same(value, bad, tol):
                _fail(name, what, value, "", bad_hint)
        detail = f"expected {_describe(expected)}" if SHOW_EXPECTED else "not the expected value"
        if isinstance(expected, pd.Series | pd.DataFrame) and hasattr(value, "shape") \
                and value.shape != expected.shape:
            detail = f"expected shape {expected.shape}, got shape {value.shape}"
        _fail(name, what, value, detail, hint)
    print(f"{name}: correct")


def check_true(name: str, condition: bool | Callable[[], bool], *, what: str, hint: str | None = None,
               value=...) -> None:
    """Check a condition about a student's answer (for answers with more than one right form).

    Parameters
    ----------
    name : str
        The variable the condition is about.
    condition : bool or callable
        The condition, or a function returning it (called here; an exception it raises counts as
        a failed check, so ``lambda: x.shape[0] == 3`` fails cleanly when ``x`` is None).
    what : str
        What the variable should be, in words.
    hint : str, optional
        Said when the condition does not hold.
    value : object, optional
        The variable itself: when it is None (the placeholder left in place) the message says so.

    Raises
    ------
    CheckFailed
        When the condition does not hold.
    """
    if value is None:
        raise CheckFailed(f"{name} should be {what}; got None -- {_placeholder_text(name)}"
                          + (f" ({hint})" if hint else ""))
    if callable(condition):
        try:
            condition = condition()
        except Exception as exc:  # the student's value is not even of the right kind
            raise CheckFailed(f"{name} should be {what}; checking it raised "
                              f"{type(exc).__name__}: {exc}" + (f" -- {hint}" if hint else "")) from None
    if not condition:
        raise CheckFailed(f"{name} should be {what}" + (f" -- {hint}" if hint else ""))
    print(f"{name}: correct")
