"""The R calls named in docstrings' ``In R:`` lines.

Used by the documentation's table "custval call -> R call" (``docs/_rtable.py``) and by the
validation dossier (:func:`custval.report.dossier`), which names the R equivalent of every number.
"""

from __future__ import annotations

import re

_IN_R = re.compile(r"^\s*(?:>>>\s*)?#\s*In R:\s*(.*)$")  # a comment in the Examples
_MORE = re.compile(r"^\s*(?:>>>\s*)?#\s?(.*)$")
_IN_R_PROSE = re.compile(r"^\s*In R:\s*(.*)$")  # a paragraph "In R: ``call``"
_OPEN = (",", "(", "+", " and", "=", "%>%")


def r_lines(doc: str | None) -> list[tuple[str, bool]]:
    """Return the R calls named in a docstring's ``In R:`` lines.

    Parameters
    ----------
    doc : str or None
        A docstring.

    Returns
    -------
    list of tuple of (str, bool)
        One entry per ``In R:`` line: its text with the continuation lines (R code lines joined
        by ``;``, a call broken over lines joined by a space), and whether the text is R code
        (a comment line) or prose with ````code```` spans (a paragraph).
    """
    out: list[tuple[str, bool]] = []
    lines = (doc or "").splitlines()
    i = 0
    while i < len(lines):
        code, prose = _IN_R.match(lines[i]), _IN_R_PROSE.match(lines[i])
        i += 1
        if code:
            text = code.group(1).strip()
            while i < len(lines) and not _IN_R.match(lines[i]) and (more := _MORE.match(lines[i])):
                part = more.group(1).strip()
                if part:
                    text += (" " if text.endswith((*_OPEN, ";")) else "; ") + part
                i += 1
            out.append((text, True))
        elif prose:
            text = prose.group(1).strip()
            while i < len(lines) and lines[i].strip():
                text += " " + lines[i].strip()
                i += 1
            out.append((text, False))
    return out
