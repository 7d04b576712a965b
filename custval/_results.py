"""Shared behaviour of custval's frozen result objects.

Results are frozen dataclasses that mix in :class:`ResultMixin`.  They keep
every number unrounded; rounding happens only in :meth:`summary` and
:meth:`_repr_html_`.
"""

from __future__ import annotations

import dataclasses
import html

import numpy as np
import pandas as pd

#: The one column vocabulary shared by every custval table.
COLUMNS = ("estimate", "se", "ci_low", "ci_high", "p_value", "n")

DISPLAY_DIGITS = 3


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, str, bool, np.integer, np.floating, np.bool_)) or value is None


class ResultMixin:
    """``to_frame()``, ``summary()`` and ``_repr_html_()`` for a frozen dataclass.

    Subclasses may override :meth:`to_frame`; the default puts every scalar
    field in a one-row frame.  ``_title`` names the result in displays.

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
