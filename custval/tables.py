r"""APA 7 tables for notebooks and manuscripts.

Every builder takes a plain, labelled :class:`pandas.DataFrame` (the shapes are
documented per builder) and returns an :class:`APATable`: a frozen result that
keeps the **unrounded** numbers (:meth:`APATable.to_frame`) next to the
formatted cells.  Rounding happens here and only here, for display.

An :class:`APATable` renders as HTML in Jupyter (table number in bold, title in
italics, horizontal rules only, notes under *Note.*) and exports to LaTeX
(booktabs), Markdown (pipe table), Word-friendly HTML (inline styles that
survive copy-and-paste into Word) and Word documents (:meth:`APATable.to_docx`,
with python-docx); :meth:`APATable.save` picks the format from the file suffix.

Number formatting follows the APA Publication Manual (7th ed., sections 6.36
and 7.21):

* statistics that cannot exceed 1 in absolute value (correlations, loadings,
  alpha, CR, AVE, CFI, TLI, RMSEA, SRMR, *p*) are written without a leading
  zero (``.87``, ``−.45``); a value whose magnitude reaches 1 after rounding
  is written in full (``1.00``, a Heywood loading ``1.03``);
* statistics that can exceed 1 (means, *SD*, χ², HTMT) keep the leading zero;
* *p* values are exact to three decimals, below .001 as ``< .001``;
* negative numbers use the minus sign (U+2212), numbers of 1,000 or more get
  a thousands comma;
* two decimals for correlations, loadings and reliabilities, three for fit
  indices and *p*.

Options every builder shares (keyword-only):

title : str or None
    The table's title (None: the builder's default title).
number : int or None, default None
    The table number printed above the title (None: no number).
notes : sequence of str, str or None, default None
    Notes under the table (None: the builder's default notes; ``()``: none).
construct_labels : mapping, Instrument or None, default None
    Display labels of the constructs (see :func:`construct_label_map`; None: the ids).

Text in titles, column labels, cells and notes may use a tiny markup:
``*italic*`` and ``**bold**`` (statistical symbols such as *M*, *SD*, *p* are
italic in APA style).

References
----------
American Psychological Association. (2020). *Publication manual of the
American Psychological Association* (7th ed.). https://doi.org/10.1037/0000165-000

In R, the closest tools are ``papaja::apa_table()`` (any data frame to an APA
table in R Markdown) and ``apaTables`` (correlation and regression tables to
Word); neither formats psychometric result objects directly.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._results import ResultMixin
from .exceptions import DataValidationError, SpecificationError

__all__ = [
    "MINUS",
    "APATable",
    "apa_table",
    "construct_label_map",
    "discriminant_table",
    "fit_table",
    "format_number",
    "format_p",
    "invariance_table",
    "item_table",
    "loadings_table",
    "reliability_table",
]

#: The minus sign APA asks for (U+2212), used in every rendered number.
MINUS = "\u2212"

_SPEC_RE = re.compile(r"^(int|num|prop|p|text)(?::(\d))?$")


# --------------------------------------------------------------------------- numbers
def _is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_number(value, digits: int = 2, *, bounded: bool = False) -> str:
    """Format one number for an APA table (display only; the value is not changed).

    Parameters
    ----------
    value : float
        The number.  Missing values (None, NaN, pd.NA) give ``""``.
    digits : int
        Decimals shown.
    bounded : bool
        True for a statistic that cannot exceed 1 in absolute value
        (correlation, loading, reliability, fit index): the leading zero is
        dropped when the rounded magnitude is below 1.

    Returns
    -------
    str
        The text, with the minus sign U+2212 for negatives, a thousands comma,
        and no "negative zero".

    See Also
    --------
    custval.tables.format_p : Format a p value.

    Examples
    --------
    >>> format_number(0.4567, 2, bounded=True)
    '.46'
    >>> format_number(-0.4567, 2, bounded=True)
    '−.46'
    >>> format_number(1.0349, 2, bounded=True)   # a Heywood loading keeps its 1
    '1.03'
    >>> format_number(1234.5678, 2)
    '1,234.57'
    >>> format_number(-0.0004, 2)
    '0.00'
    >>> # In R: papaja::printnum(0.4567, gt1 = FALSE)  ->  ".46"
    """
    if _is_missing(value):
        return ""
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    text = f"{x:,.{digits}f}"
    negative = text.startswith("-")
    body = text.lstrip("-")
    if negative and not any(ch in "123456789" for ch in body):
        negative = False  # "-0.00" is zero
    if bounded and body.startswith("0."):
        body = body[1:]
    return (MINUS if negative else "") + body


def format_p(value, digits: int = 3, *, threshold: float = 0.001) -> str:
    """Format a *p* value the APA way: no leading zero, ``< .001`` below the threshold.

    Values that round to 1 are shown as ``> .999`` (``> .99`` with two digits).

    Parameters
    ----------
    value : float
        The p value; a missing value gives an empty string.
    digits : int
        Decimals shown.
    threshold : float
        Smaller values are shown as ``< threshold``.

    Returns
    -------
    str
        The formatted p value.

    See Also
    --------
    custval.tables.format_number : Format any other number.

    Examples
    --------
    >>> format_p(0.0342)
    '.034'
    >>> format_p(0.00042)
    '< .001'
    >>> format_p(0.9999)
    '> .999'
    >>> # In R: papaja::printp(c(0.0342, 0.00042))  ->  ".034" "< .001"
    """
    if _is_missing(value):
        return ""
    p = float(value)
    if not 0.0 <= p <= 1.0:
        raise DataValidationError(
            f"a p value must lie in [0, 1]; got {p!r}. Pass p values, not test statistics."
        )
    if p < threshold:
        return "< " + format_number(threshold, max(digits, _decimals(threshold)), bounded=True)
    text = f"{p:.{digits}f}"
    if text.startswith("1"):
        return "> ." + "9" * digits
    return text[1:]


def _decimals(x: float) -> int:
    text = f"{x:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _parse_spec(spec: str) -> tuple[str, int]:
    m = _SPEC_RE.match(spec)
    if not m:
        raise SpecificationError(
            f"unknown column format {spec!r}; allowed: 'int', 'num:d', 'prop:d', 'p', 'p:d', "
            "'text' (d = decimals, e.g. 'prop:2')."
        )
    kind, digits = m.group(1), m.group(2)
    default = {"int": 0, "num": 2, "prop": 2, "p": 3, "text": 0}[kind]
    return kind, int(digits) if digits is not None else default


def _format_value(value, spec: str, column: str = "") -> str:
    kind, digits = _parse_spec(spec)
    if _is_missing(value):
        return ""
    if kind == "text":
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "int":
        return format_number(x, 0 if float(x).is_integer() else 2)
    if kind == "p":
        try:
            return format_p(x, digits)
        except DataValidationError as err:
            raise DataValidationError(f"column {column!r}: {err}") from None
    return format_number(x, digits, bounded=kind == "prop")


def _format_column(values: pd.Series, spec: str, column: str = "") -> list[str]:
    return [_format_value(v, spec, column) for v in values.tolist()]


def _bracket(low, high, spec: str) -> str:
    if _is_missing(low) and _is_missing(high):
        return ""
    return f"[{_format_value(low, spec)}, {_format_value(high, spec)}]"


def _none_known(who: str, what: str, known, frame: pd.DataFrame, hint: str = "") -> SpecificationError:
    """The error for a frame that holds none of the statistics a table knows."""
    return SpecificationError(
        f"{who}: none of the known {what} {list(known)} is in the frame "
        f"(columns: {list(frame.columns)}){hint}."
    )


def _formatted_columns(
    frame: pd.DataFrame, shown, columns: Mapping[str, tuple[str, str]], intervals, ci_level: float
) -> tuple[dict, dict]:
    """Format the shown columns under their headings; where a column's interval
    columns are both present (``intervals``: column -> (low, high, label)), the
    interval follows the value in brackets and the heading says its level."""
    body, formats = {}, {}
    for c in shown:
        head, spec = columns[c]
        text = _format_column(frame[c], spec, c)
        formats[c] = spec
        if c in intervals and {intervals[c][0], intervals[c][1]} <= set(frame.columns):
            low, high, label = intervals[c]
            head = f"{label} [{round(ci_level * 100)}% CI]"
            text = [
                f"{t} {_bracket(lo, hi, spec)}".strip()
                for t, lo, hi in zip(text, frame[low], frame[high])
            ]
            formats[low] = formats[high] = spec
        body[head] = text
    return body, formats


def _abbreviation_note(shown, abbrev: Mapping[str, str], with_ci: bool) -> list[str]:
    """The default note spelling out the abbreviations of the shown columns."""
    parts = [abbrev[c] for c in shown if c in abbrev]
    if with_ci:
        parts.append("CI = confidence interval")
    return ["; ".join(parts) + "."] if parts else []


# --------------------------------------------------------------------------- markup
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"\*(.+?)\*")
_MINUS_RE = re.compile(r"(?<![\w.])-(?=[\d.]\d*)")

_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = [
    ("√AVE", r"$\sqrt{\mathrm{AVE}}$"),
    ("χ²", r"$\chi^2$"),
    (MINUS, "$-$"),
    ("<", "$<$"),
    (">", "$>$"),
    ("≥", r"$\geq$"),
    ("≤", r"$\leq$"),
    ("±", r"$\pm$"),
    ("×", r"$\times$"),
    ("√", r"$\surd$"),
    ("Δ", r"$\Delta$"),
    ("α", r"$\alpha$"),
    ("β", r"$\beta$"),
    ("λ", r"$\lambda$"),
    ("ω", r"$\omega$"),
    ("ρ", r"$\rho$"),
    ("χ", r"$\chi$"),
    ("²", r"$^2$"),
    ("—", "---"),
    ("–", "--"),
    ("∞", r"$\infty$"),
]


def _minus(text: str) -> str:
    return _MINUS_RE.sub(MINUS, text)


def _html(text: str) -> str:
    out = html.escape(_minus(str(text)), quote=False)
    out = _BOLD.sub(r"<b>\1</b>", out)
    return _ITALIC.sub(r"<i>\1</i>", out)


def _latex(text: str) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in _minus(str(text)))
    for uni, tex in _LATEX_UNICODE:
        out = out.replace(uni, tex)
    out = re.sub(r"(?<!\\)\$\$", "", out)  # "$\\Delta$$\\chi^2$" -> one math group
    out = _BOLD.sub(r"\\textbf{\1}", out)
    return _ITALIC.sub(r"\\textit{\1}", out)


_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # what could open an HTML tag or comment
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # what could be read as an HTML entity


def _markdown(text: str) -> str:
    """Cell text for a Markdown table, ``|`` escaped.

    Markdown renders raw HTML, so text that could open a tag (``<script>``,
    ``<img ...>``, ``<!--``) or form an entity (``&lt;``) is escaped; ``p < .001``
    stays as it is.
    """
    out = _MD_ENTITY.sub("&amp;", _minus(str(text)))
    return _MD_TAG.sub("&lt;", out).replace("|", r"\|")


def _plain(text: str) -> str:
    out = _BOLD.sub(r"\1", _minus(str(text)))
    return _ITALIC.sub(r"\1", out)


# --------------------------------------------------------------------------- the table
@dataclasses.dataclass(frozen=True, eq=False)
class APATable(ResultMixin):
    """An APA 7 table: unrounded numbers plus their formatted display.

    Attributes
    ----------
    frame : DataFrame
        The numbers the table shows, unrounded (what :meth:`to_frame` returns).
    cells : DataFrame
        The formatted text of every cell (strings); its index is the stub
        column (row labels), its columns the column headings (with ``*italic*``
        markup).  Derived from ``frame`` by the builder; never edited by hand.
    title : str
        The table title (shown in italics, title case).
    number : int or None
        The table number ("Table 1"); None omits the number line.
    notes : tuple of str
        General notes, printed after *Note.*
    formats : mapping
        Column of ``frame`` -> display format used (``"int"``, ``"num:d"``,
        ``"prop:d"`` for statistics bounded by 1, ``"p"``, ``"text"``).
    spanners : tuple of (label, tuple of column headings)
        Column spanners: a label centred over consecutive columns of ``cells``.
    group_rows : tuple of int
        Positions of rows in ``cells`` that head a group of rows (e.g. a
        construct above its items); the rows that follow are indented.
    stub_label : str
        Heading of the stub (row-label) column.

    See Also
    --------
    custval.tables.apa_table : Any labelled frame as an APA table.
    """

    frame: pd.DataFrame
    cells: pd.DataFrame
    title: str
    number: int | None = None
    notes: tuple[str, ...] = ()
    formats: Mapping[str, str] = dataclasses.field(default_factory=dict)
    spanners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    group_rows: tuple[int, ...] = ()
    stub_label: str = ""

    def __post_init__(self):
        cols = [str(c) for c in self.cells.columns]
        for label, members in self.spanners:
            idx = [cols.index(m) if m in cols else -1 for m in members]
            if -1 in idx or idx != list(range(idx[0], idx[0] + len(idx))):
                raise SpecificationError(
                    f"spanner {label!r} must cover consecutive columns of the table; got "
                    f"{list(members)} for columns {cols}."
                )
        for pos in self.group_rows:
            if not 0 <= pos < len(self.cells):
                raise SpecificationError(
                    f"group row position {pos} is outside the table's {len(self.cells)} rows."
                )

    # ---- ResultMixin interface
    @property
    def _title(self) -> str:  # type: ignore[override]
        return self.title

    def to_frame(self) -> pd.DataFrame:
        """The unrounded numbers.

        Returns
        -------
        DataFrame
            A copy of the numbers behind the table.

        See Also
        --------
        custval.tables.APATable.summary : The formatted table as text.
        """
        return self.frame.copy()

    def with_number(self, number: int | None) -> APATable:
        """The same table with another table number.

        Parameters
        ----------
        number : int or None
            The new number (``None``: no number).

        Returns
        -------
        APATable
            A new table; this one is unchanged.

        See Also
        --------
        custval.tables.APATable.with_notes : The same table with more notes.
        """
        return dataclasses.replace(self, number=number)

    def with_notes(self, *notes: str) -> APATable:
        """The same table with these notes appended.

        Parameters
        ----------
        *notes : str
            Notes added after the existing ones.

        Returns
        -------
        APATable
            A new table; this one is unchanged.

        See Also
        --------
        custval.tables.APATable.with_number : The same table with another number.
        """
        return dataclasses.replace(self, notes=(*self.notes, *notes))

    # ---- helpers
    def _heading(self) -> str:
        return f"Table {self.number}" if self.number is not None else ""

    def _rows(self):
        group = set(self.group_rows)
        first_group = min(group) if group else None
        for pos, (label, row) in enumerate(zip(self.cells.index, self.cells.itertuples(index=False))):
            kind = "group" if pos in group else ("member" if first_group is not None and pos > first_group else "plain")
            yield kind, str(label), [str(v) for v in row]

    def _spanner_cells(self) -> list[tuple[str, int]]:
        """(label, width) over the non-stub columns; blank label = no spanner."""
        cols = [str(c) for c in self.cells.columns]
        out: list[tuple[str, int]] = []
        i = 0
        starts = {members[0]: (label, len(members)) for label, members in self.spanners}
        while i < len(cols):
            if cols[i] in starts:
                label, width = starts[cols[i]]
                out.append((label, width))
                i += width
            else:
                out.append(("", 1))
                i += 1
        return out

    # ---- text
    def summary(self, *, digits: int | None = None) -> str:
        """Plain text: the Markdown rendering without markup.

        Parameters
        ----------
        digits : int, optional
            Not used: the table's column formats fix the decimals.

        Returns
        -------
        str
            The table as text.

        See Also
        --------
        custval.tables.APATable.to_markdown : The same with Markdown markup.
        """
        return _plain(self.to_markdown()).rstrip("\n")

    # ---- HTML
    def to_html(self, *, word: bool = False) -> str:
        """HTML with inline styles (APA look).

        ``word=True`` gives a complete HTML document in Times New Roman 12 pt
        whose table pastes into Word with its rules (borders are set on the
        cells, which Word keeps); ``word=False`` gives the fragment shown in
        notebooks.

        Parameters
        ----------
        word : bool
            A complete document for Word instead of a fragment.

        Returns
        -------
        str
            The HTML.

        See Also
        --------
        custval.tables.APATable.save : Write the table to a file.
        """
        font = "font-family:'Times New Roman',Times,serif;" + ("font-size:12pt;" if word else "")
        rule = "1px solid #000"
        pad = "padding:3px 8px;"
        cell_base = pad + "background:transparent !important;border:none;"
        lines = [f'<div class="custval-apa-table" style="{font}margin:0.5em 0;">']
        if self.number is not None:
            lines.append(f'<p style="{font}margin:0 0 0.4em 0;font-weight:bold;">{_html(self._heading())}</p>')
        lines.append(f'<p style="{font}margin:0 0 0.6em 0;font-style:italic;">{_html(self.title)}</p>')
        lines.append(f'<table style="{font}border-collapse:collapse;border:none;margin:0;">')
        lines.append("<thead>")
        has_spanners = bool(self.spanners)
        top = f"border-top:{rule};"
        if has_spanners:
            cells = [f'<th style="{cell_base}{top}"></th>']
            for label, width in self._spanner_cells():
                under = f"border-bottom:{rule};" if label else ""
                cells.append(
                    f'<th colspan="{width}" style="{cell_base}{top}{under}text-align:center;'
                    f'font-weight:normal;">{_html(label)}</th>'
                )
            lines.append('<tr style="background:transparent !important;">' + "".join(cells) + "</tr>")
        head_top = "" if has_spanners else top
        header = [
            f'<th style="{cell_base}{head_top}border-bottom:{rule};text-align:left;font-weight:normal;">'
            f"{_html(self.stub_label)}</th>"
        ]
        for col in self.cells.columns:
            header.append(
                f'<th style="{cell_base}{head_top}border-bottom:{rule};text-align:center;'
                f'font-weight:normal;">{_html(col)}</th>'
            )
        lines.append('<tr style="background:transparent !important;">' + "".join(header) + "</tr>")
        lines.append("</thead>")
        lines.append("<tbody>")
        rows = list(self._rows())
        for i, (kind, label, values) in enumerate(rows):
            last = f"border-bottom:{rule};" if i == len(rows) - 1 else ""
            indent = "padding-left:2em;" if kind == "member" else ""
            stub = _html(label)
            if kind == "group":
                stub = f"<i>{stub}</i>"
            tds = [f'<td style="{cell_base}{last}{indent}text-align:left;">{stub}</td>']
            tds += [f'<td style="{cell_base}{last}text-align:center;">{_html(v)}</td>' for v in values]
            lines.append('<tr style="background:transparent !important;">' + "".join(tds) + "</tr>")
        lines.append("</tbody></table>")
        if self.notes:
            note = " ".join(_html(n) for n in self.notes)
            lines.append(f'<p style="{font}margin:0.4em 0 0 0;"><i>Note.</i> {note}</p>')
        lines.append("</div>")
        body = "\n".join(lines)
        if not word:
            return body
        title = html.escape(_plain(f"{self._heading()} {self.title}".strip()))
        return (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
        )

    def _repr_html_(self) -> str:
        return self.to_html(word=False)

    # ---- LaTeX
    def to_latex(self, *, float_env: bool = True, label: str | None = None) -> str:
        r"""LaTeX source with booktabs rules (``\usepackage{booktabs}`` needed).

        ``float_env=True`` wraps the tabular in a ``table`` float whose
        ``\caption`` carries the title (the apa7 document class then typesets
        "Table n" in bold and the title in italics; LaTeX numbers the table).
        ``float_env=False`` writes the number and title as text above the
        tabular, for documents without floats.

        Parameters
        ----------
        float_env : bool
            Wrap the tabular in a ``table`` float.
        label : str, optional
            A ``\label`` for cross-references (with ``float_env``; None: no label).

        Returns
        -------
        str
            The LaTeX source.

        See Also
        --------
        custval.tables.APATable.save : Write the table to a file.
        """
        ncol = len(self.cells.columns)
        out = ["% APA 7 table; needs \\usepackage{booktabs}"]
        if float_env:
            out += ["\\begin{table}[htbp]", "\\centering", f"\\caption{{{_latex(self.title)}}}"]
            if label:
                out.append(f"\\label{{{label}}}")
        else:
            if self.number is not None:
                out.append(f"\\noindent\\textbf{{{_latex(self._heading())}}}\\\\[0.5ex]")
            out.append(f"\\noindent\\textit{{{_latex(self.title)}}}\\\\[1ex]")
        out.append("\\begin{tabular}{l" + "c" * ncol + "}")
        out.append("\\toprule")
        if self.spanners:
            parts, rules, col = [""], [], 2
            for lab, width in self._spanner_cells():
                if lab:
                    parts.append(f"\\multicolumn{{{width}}}{{c}}{{{_latex(lab)}}}")
                    rules.append(f"\\cmidrule(lr){{{col}-{col + width - 1}}}")
                else:
                    parts.append("")
                col += width
            out.append(" & ".join(parts) + " \\\\")
            out.append(" ".join(rules))
        out.append(" & ".join([_latex(self.stub_label), *(_latex(c) for c in self.cells.columns)]) + " \\\\")
        out.append("\\midrule")
        for kind, lab, values in self._rows():
            stub = _latex(lab)
            if kind == "group":
                stub = f"\\textit{{{stub}}}"
            elif kind == "member":
                stub = f"\\quad {stub}"
            out.append(" & ".join([stub, *(_latex(v) for v in values)]) + " \\\\")
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        if self.notes:
            note = " ".join(_latex(n) for n in self.notes)
            out.append("\\par\\smallskip")
            out.append(
                "\\begin{minipage}{\\linewidth}\\footnotesize\\textit{Note.} " + note + "\\end{minipage}"
            )
        if float_env:
            out.append("\\end{table}")
        return "\n".join(out) + "\n"

    # ---- Markdown
    def to_markdown(self) -> str:
        """A Markdown pipe table (GitHub / pandoc), with number, title and note.

        Column spanners have no Markdown form; they are written as a line
        above the table instead.  Group rows show their label in bold.

        Returns
        -------
        str
            The Markdown source.

        See Also
        --------
        custval.tables.APATable.save : Write the table to a file.
        """
        head = [self.stub_label, *map(str, self.cells.columns)]
        body = []
        for kind, lab, values in self._rows():
            stub = f"**{lab}**" if kind == "group" else lab
            body.append([stub, *values])
        out = []
        if self.number is not None:
            out += [f"**{self._heading()}**", ""]
        out += [f"*{_markdown(self.title)}*", ""]
        if self.spanners:
            spans = "; ".join(f"{lab}: {', '.join(m)}" for lab, m in self.spanners)
            out += [_markdown(f"Column groups — {spans}"), ""]
        out.append("| " + " | ".join(_markdown(h) for h in head) + " |")
        out.append("| :--- | " + " | ".join(":---:" for _ in head[1:]) + " |")
        for row in body:
            out.append("| " + " | ".join(_markdown(v) for v in row) + " |")
        if self.notes:
            out += ["", "*Note.* " + " ".join(_markdown(n) for n in self.notes)]
        return "\n".join(out) + "\n"

    # ---- Word
    def to_docx(self, path) -> Path:
        """Write the table as a Word document (``.docx``) in APA 7 style.

        "Table n" in bold, the title in italics on the next line, then the table in
        Times New Roman 12 pt with horizontal rules only: above the column headings,
        below them (and under each column spanner), and below the last row; no vertical
        rules.  The numbers are the cells as the table formats them (decimals, no
        leading zero for statistics bounded by 1, the minus sign); a column of numbers
        is aligned on the decimal point (a decimal tab stop), text is centred, the stub
        is left-aligned with the rows of a group indented under the group's italic
        label.  The heading rows repeat on each page.  *Note.* and the notes follow.
        Copy the table from this file into the manuscript; its rules and alignment
        come along.

        Parameters
        ----------
        path : str or Path
            The ``.docx`` file to write (replaced if it exists).

        Returns
        -------
        Path
            The path written.

        Raises
        ------
        MissingDependencyError
            python-docx is not installed (``pip install python-docx``).
        SpecificationError
            ``path`` does not end in ``.docx``.

        See Also
        --------
        custval.tables.APATable.to_html : HTML for Word (``word=True``).
        custval.tables.APATable.save : Picks the format from the suffix.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> import pandas as pd
        >>> from custval.tables import apa_table
        >>> t = apa_table(pd.DataFrame({"M": [4.123, 10.5], "r": [0.456, -0.1]}, index=["A", "B"]),
        ...               "Means and Correlations", formats={"M": "num:2", "r": "prop:2"},
        ...               labels={"M": "*M*", "r": "*r*"}, number=2, notes=["Simulated data."])
        >>> out = t.to_docx(pathlib.Path(tempfile.mkdtemp()) / "table2.docx")  # doctest: +SKIP
        >>> import docx  # doctest: +SKIP
        >>> [c.text for c in docx.Document(out).tables[0].rows[2].cells]  # doctest: +SKIP
        ['B', '10.50', '−.10']
        >>> # In R: papaja::apa_table() in an R Markdown document knitted to Word
        """
        from ._io.word import write_docx

        path = Path(path)
        if path.suffix.lower() != ".docx":
            raise SpecificationError(f"to_docx writes a .docx file; got {path.name!r}.")
        return write_docx(self, path, minus=_minus)

    # ---- files
    def save(self, path) -> Path:
        """Write the table; the format follows the suffix.

        ``.html``/``.htm``: Word-friendly HTML; ``.docx``: a Word document
        (:meth:`to_docx`); ``.tex``: LaTeX; ``.md``: Markdown; ``.csv``: the
        unrounded numbers.  Parent folders are created.

        Parameters
        ----------
        path : str or Path
            The file to write.

        Returns
        -------
        Path
            The path written.

        Raises
        ------
        SpecificationError
            An unknown suffix.

        See Also
        --------
        custval.tables.APATable.to_html : The HTML rendering.
        custval.tables.APATable.to_latex : The LaTeX rendering.
        custval.tables.APATable.to_docx : The Word rendering.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".docx":
            path.parent.mkdir(parents=True, exist_ok=True)
            return self.to_docx(path)
        writers = {
            ".html": lambda: self.to_html(word=True),
            ".htm": lambda: self.to_html(word=True),
            ".tex": self.to_latex,
            ".md": self.to_markdown,
        }
        if suffix not in writers and suffix != ".csv":
            raise SpecificationError(
                f"cannot save an APA table as {path.name!r}: unknown suffix {suffix!r}; "
                "allowed: .html, .htm, .docx, .tex, .md, .csv."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            self.frame.to_csv(path)
        else:
            path.write_text(writers[suffix](), encoding="utf-8")
        return path


# --------------------------------------------------------------------------- generic builder
def apa_table(
    frame: pd.DataFrame,
    title: str,
    *,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
    notes: Sequence[str] | str = (),
    number: int | None = None,
    stub_label: str = "",
    spanners: Sequence[tuple[str, Sequence[str]]] = (),
) -> APATable:
    """Any labelled frame as an APA table.

    Parameters
    ----------
    frame : DataFrame
        Rows become table rows (the index is the stub), unrounded numbers.
    title : str
        Table title.
    formats : mapping, optional
        Column -> format: ``"int"``, ``"num:d"`` (leading zero kept),
        ``"prop:d"`` (bounded by 1: no leading zero), ``"p"`` or ``"text"``.
        Numeric columns default to ``"num:2"``, others to ``"text"``.
    labels : mapping, optional
        Column -> heading (``*italic*`` markup allowed).
    columns : sequence, optional
        Columns shown, in order (default: all).  ``to_frame()`` keeps all.
    notes, number, stub_label, spanners
        See :class:`APATable` (spanners name headings after ``labels``).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.tables.APATable : The object returned.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"r": [0.456, -0.1], "p": [0.0004, 0.21]}, index=["A-B", "A-C"])
    >>> t = apa_table(df, "Correlations", formats={"r": "prop:2", "p": "p"},
    ...               labels={"r": "*r*", "p": "*p*"}, number=1)
    >>> print(t.summary())
    Table 1
    <BLANKLINE>
    Correlations
    <BLANKLINE>
    |  | r | p |
    | :--- | :---: | :---: |
    | A-B | .46 | < .001 |
    | A-C | −.10 | .210 |
    >>> t.to_frame().loc["A-B", "r"]          # unrounded
    np.float64(0.456)
    >>> # In R: papaja::apa_table(df)  (no psychometric formatting)
    """
    if not isinstance(frame, pd.DataFrame):
        raise SpecificationError(f"apa_table needs a DataFrame; got {type(frame).__name__}.")
    formats = dict(formats or {})
    labels = dict(labels or {})
    shown = list(columns) if columns is not None else list(frame.columns)
    unknown = [c for c in shown if c not in frame.columns]
    if unknown:
        raise SpecificationError(f"columns {unknown} are not in the frame (columns: {list(frame.columns)}).")
    used: dict[str, str] = {}
    cells = {}
    for col in shown:
        spec = formats.get(col) or ("num:2" if pd.api.types.is_numeric_dtype(frame[col]) else "text")
        used[str(col)] = spec
        cells[labels.get(col, str(col))] = _format_column(frame[col], spec, str(col))
    cell_frame = pd.DataFrame(cells, index=[str(i) for i in frame.index])
    return APATable(
        frame=frame.copy(),
        cells=cell_frame,
        title=title,
        number=number,
        notes=_as_notes(notes),
        formats=used,
        spanners=tuple((lab, tuple(m)) for lab, m in spanners),
        stub_label=stub_label,
    )


def _as_notes(notes) -> tuple[str, ...]:
    if notes is None:
        return ()
    if isinstance(notes, str):
        return (notes,)
    return tuple(str(n) for n in notes)


def _normalise(frame: pd.DataFrame, aliases: Mapping[str, str], known) -> pd.DataFrame:
    """Rename the columns that name a known statistic to custval's vocabulary.

    Matching ignores case and treats '.' and spaces as '_' (``r.drop`` ->
    ``r_drop``, ``rmsea.ci.lower`` -> ``rmsea_ci_low``); other columns keep
    their names.
    """
    known = set(known) | set(aliases.values())
    keys = {col: re.sub(r"[.\s]+", "_", str(col).strip().lower()) for col in frame.columns}
    exact = {k for k in keys.values() if k in known}  # a column with the canonical name wins
    rename = {}
    taken: dict[str, object] = {}
    for col, key in keys.items():
        if key not in exact:
            key = aliases.get(key, key)
            if key not in known or key in exact:
                continue  # unknown, or an alias of a statistic that is present by name (nnfi/tli)
        if key in taken:
            raise SpecificationError(
                f"columns {taken[key]!r} and {col!r} name the same statistic {key!r}; keep one."
            )
        taken[key] = col
        rename[col] = key
    return frame.rename(columns=rename)


def _as_frame(obj, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.Series):
        return obj.to_frame().T
    if isinstance(obj, pd.DataFrame):
        return obj
    if hasattr(obj, "to_frame"):
        return _as_frame(obj.to_frame(), what)
    raise SpecificationError(f"{what} needs a DataFrame (or a Series); got {type(obj).__name__}.")


# --------------------------------------------------------------------------- item statistics
_ITEM_ALIASES = {
    "std": "sd", "skewness": "skew", "kurt": "kurtosis", "r_drop_": "r_drop",
    "alpha_drop": "alpha_if_deleted", "alpha_if_item_deleted": "alpha_if_deleted",
    "raw_alpha": "alpha_if_deleted", "factor": "construct", "scale": "construct",
}
#: column -> (heading, format); the order is the table's column order.
ITEM_COLUMNS: dict[str, tuple[str, str]] = {
    "n": ("*n*", "int"),
    "mean": ("*M*", "num:2"),
    "sd": ("*SD*", "num:2"),
    "median": ("*Mdn*", "num:2"),
    "min": ("Min", "int"),
    "max": ("Max", "int"),
    "skew": ("Skew", "num:2"),
    "kurtosis": ("Kurtosis", "num:2"),
    "pct_floor": ("Floor %", "num:1"),
    "pct_ceiling": ("Ceiling %", "num:1"),
    "raw_r": ("Item–total *r*", "prop:2"),
    "r_cor": ("*r* cor", "prop:2"),
    "r_drop": ("Corrected item–total *r*", "prop:2"),
    "mean_r": ("Mean inter-item *r*", "prop:2"),
    "alpha_if_deleted": ("α if deleted", "prop:2"),
}
ITEM_DEFAULT = ("n", "mean", "sd", "skew", "kurtosis", "r_drop", "alpha_if_deleted")


def item_table(
    item_stats: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    construct_labels=None,
    title: str = "Item Descriptive Statistics and Item–Total Correlations",
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """APA table of item statistics (one row per item, grouped by construct).

    Parameters
    ----------
    item_stats : DataFrame
        One row per item, indexed by item id, as returned by
        :func:`custval.items.item_analysis`.  Known columns (any subset):
        ``construct, n, mean, sd, median, min, max, skew, kurtosis, pct_floor,
        pct_ceiling, raw_r, r_cor, r_drop, mean_r, alpha_if_deleted`` (psych
        names such as ``r.drop`` are accepted).  With a ``construct`` column
        the rows are grouped under their construct (when there is more
        than one).
    columns : sequence, optional
        Columns to show.  Default: those of ``n, mean, sd, skew, kurtosis,
        r_drop, alpha_if_deleted`` that are present; other columns stay in
        ``to_frame()``.  Unknown columns may be named here and are shown with
        two decimals.
    construct_labels : mapping or Instrument, optional
        Construct id -> label for the group rows (see :func:`construct_label_map`).
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.items.item_analysis : The statistics tabulated.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> stats = pd.DataFrame(   # simulated statistics
    ...     {"construct": ["VAL", "VAL", "SAT"], "n": [250, 248, 250], "mean": [5.123, 4.9, 6.0],
    ...      "sd": [1.234, 1.5, 0.9], "r_drop": [0.6123, -0.05, np.nan],
    ...      "alpha_if_deleted": [0.8, 0.9, np.nan]},
    ...     index=["VAL1", "VAL2", "SAT1"])
    >>> print(item_table(stats))
    Item Descriptive Statistics and Item–Total Correlations
    <BLANKLINE>
    | Item | n | M | SD | Corrected item–total r | α if deleted |
    | :--- | :---: | :---: | :---: | :---: | :---: |
    | VAL |  |  |  |  |  |
    | VAL1 | 250 | 5.12 | 1.23 | .61 | .80 |
    | VAL2 | 248 | 4.90 | 1.50 | −.05 | .90 |
    | SAT |  |  |  |  |  |
    | SAT1 | 250 | 6.00 | 0.90 |  |  |
    <BLANKLINE>
    Note. Corrected item–total r = correlation of the item with the sum of the other items of its scale. α if deleted = Cronbach's α of the scale without the item.
    >>> # In R: papaja::apa_table(psych::alpha(x)$item.stats)  (no direct equivalent)
    """
    frame = _normalise(_as_frame(item_stats, "item_table"), _ITEM_ALIASES, [*ITEM_COLUMNS, "construct"])
    if columns is None:
        shown = [c for c in ITEM_DEFAULT if c in frame.columns]
    else:
        shown = [_ITEM_ALIASES.get(c, c) for c in columns]
        unknown = [c for c in shown if c not in frame.columns]
        if unknown:
            raise SpecificationError(
                f"item_table: columns {unknown} are not in the item statistics "
                f"(columns: {list(frame.columns)})."
            )
    if not shown:
        raise _none_known(
            "item_table", "item statistics", ITEM_COLUMNS, frame, "; name the columns to show with columns="
        )
    specs = {c: ITEM_COLUMNS.get(c, (c, "num:2"))[1] for c in shown}
    heads = {c: ITEM_COLUMNS.get(c, (c, ""))[0] for c in shown}
    if any(not pd.api.types.is_numeric_dtype(frame[c]) for c in shown if specs[c] != "text"):
        bad = [c for c in shown if not pd.api.types.is_numeric_dtype(frame[c])]
        raise DataValidationError(f"item_table: columns {bad} are not numeric.")
    body = {heads[c]: _format_column(frame[c], specs[c], c) for c in shown}
    rows = pd.DataFrame(body, index=[str(i) for i in frame.index])
    group_rows: tuple[int, ...] = ()
    if "construct" in frame.columns and frame["construct"].nunique() > 1:
        rows, group_rows = _grouped(rows, frame["construct"].astype(str).tolist(), construct_labels)
    default_notes = []
    if "r_drop" in shown:
        default_notes.append("Corrected item–total *r* = correlation of the item with the sum of the other items of its scale.")
    if "alpha_if_deleted" in shown:
        default_notes.append("α if deleted = Cronbach's α of the scale without the item.")
    return APATable(
        frame=frame.copy(),
        cells=rows,
        title=title,
        number=number,
        notes=_as_notes(default_notes if notes is None else notes),
        formats=specs,
        group_rows=group_rows,
        stub_label="Item",
    )


def construct_label_map(labels, *, lang: str = "en") -> dict[str, str]:
    """Construct id -> display label from a mapping or an Instrument.

    ``labels`` may be a mapping of id -> text, a mapping of id -> {language:
    text} (the codebook's form), or an Instrument (duck-typed:
    ``constructs`` and ``construct(id).label``).  Language dictionaries give
    the ``lang`` entry, else their first one.

    Parameters
    ----------
    labels : mapping or Instrument
        The labels, in one of the forms above.
    lang : str
        The language picked from language dictionaries.

    Returns
    -------
    dict of str to str
        Construct id -> label.

    See Also
    --------
    custval.codebook.Instrument : The codebook that holds the labels.

    Examples
    --------
    >>> construct_label_map({"IMAG": {"en": "Image", "fi": "Imago"}, "CUEX": "Expectations"})
    {'IMAG': 'Image', 'CUEX': 'Expectations'}
    """
    if labels is None:
        return {}
    if hasattr(labels, "constructs") and hasattr(labels, "construct"):
        labels = {cid: getattr(labels.construct(cid), "label", cid) for cid in labels.constructs}
    if not isinstance(labels, Mapping):
        raise SpecificationError(
            f"construct_labels must be a mapping or an Instrument; got {type(labels).__name__}."
        )
    out = {}
    for key, value in labels.items():
        if isinstance(value, Mapping):
            value = value.get(lang) or next(iter(value.values()), key)
        out[str(key)] = str(value)
    return out


def _grouped(rows: pd.DataFrame, groups: list[str], labels):
    """Insert a group row before each run of equal group ids (order of first appearance)."""
    labels = construct_label_map(labels)
    order = list(dict.fromkeys(groups))
    blocks, positions, pos = [], [], 0
    for g in order:
        members = rows.iloc[[i for i, gi in enumerate(groups) if gi == g]]
        head = pd.DataFrame([[""] * rows.shape[1]], columns=rows.columns, index=[labels.get(g, g)])
        positions.append(pos)
        blocks += [head, members]
        pos += 1 + len(members)
    return pd.concat(blocks), tuple(positions)


# --------------------------------------------------------------------------- loadings
_LOADING_ALIASES = {
    "factor": "construct", "lhs": "construct", "latent": "construct", "rhs": "item",
    "indicator": "item", "variable": "item", "pvalue": "p_value", "p": "p_value",
    "ci_lower": "ci_low", "ci_upper": "ci_high", "std_err": "se", "est": "estimate",
}
_LOADING_VALUE = ("std_estimate", "std_all", "est_std", "std_loading", "loading", "estimate")


def _mapping(values, what: str) -> dict[str, float]:
    if values is None:
        return {}
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise SpecificationError(f"{what} must be one value per construct (a Series or dict).")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return {str(k): v for k, v in values.items()}
    if isinstance(values, Mapping):
        return {str(k): v for k, v in values.items()}
    raise SpecificationError(f"{what} must be a dict or Series keyed by construct; got {type(values).__name__}.")


def loadings_table(
    loadings: pd.DataFrame,
    *,
    cr=None,
    ave=None,
    blank_below: float | None = None,
    construct_labels=None,
    digits: int = 2,
    title: str = "Standardized Factor Loadings, Composite Reliability, and Average Variance Extracted",
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """APA table of standardized loadings with CR and AVE per construct.

    Parameters
    ----------
    loadings : DataFrame
        Either **long** (CFA): one row per loading with columns ``construct``
        and ``item`` (or a two-level index ``(construct, item)``), the
        standardized loading in the first present of ``std_estimate, std_all,
        est_std, std_loading, loading, estimate``, and optionally ``se``,
        ``p_value``, ``ci_low``/``ci_high``.  Rows are grouped under their
        construct, whose group row carries CR and AVE.
        Or **wide** (EFA pattern matrix): items × factors, all numeric, with
        optional ``h2``/``u2`` columns; CR and AVE then become rows below.
    cr, ave : dict or Series, optional
        Composite reliability and average variance extracted per construct.
    blank_below : float, optional
        Wide form: loadings with absolute value below this are left blank
        (the frame keeps them).
    construct_labels : mapping or Instrument, optional
        Construct id -> label (see :func:`construct_label_map`).
    digits : int
        Decimals shown.
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.validity.measurement_table : The measurement section as frames.

    Examples
    --------
    >>> import pandas as pd
    >>> lam = pd.DataFrame({"construct": ["VAL"] * 3 + ["SAT"] * 2,   # simulated
    ...                     "item": ["V1", "V2", "V3", "S1", "S2"],
    ...                     "std_estimate": [0.81, 0.7649, 0.5, 0.9, 0.88]})
    >>> t = loadings_table(lam, cr={"VAL": 0.7512, "SAT": 0.884}, ave={"VAL": 0.5, "SAT": 0.792})
    >>> print(t.cells)
        Loading   CR  AVE
    VAL           .75  .50
    V1      .81
    V2      .76
    V3      .50
    SAT           .88  .79
    S1      .90
    S2      .88
    >>> # In R: papaja::apa_table(lavaan::standardizedSolution(fit))  (no direct equivalent)
    """
    frame = _as_frame(loadings, "loadings_table")
    if isinstance(frame.index, pd.MultiIndex) and frame.index.nlevels == 2:
        frame = frame.reset_index()
        frame = frame.rename(columns={frame.columns[0]: "construct", frame.columns[1]: "item"})
    long = _normalise(
        frame, _LOADING_ALIASES, ["construct", "item", "se", "p_value", "ci_low", "ci_high", "op", "group",
                                  "free", *_LOADING_VALUE]
    )
    if {"construct", "item"} <= set(long.columns):
        frame = long
        if "op" in frame.columns:  # a parameter table (lavaan parameterEstimates / CFA.params_)
            frame = frame[frame["op"].astype(str) == "=~"].drop(columns="op").reset_index(drop=True)
            if frame.empty:
                raise SpecificationError("loadings_table: the parameter table has no '=~' (loading) rows.")
        if "group" in frame.columns:
            if frame["group"].nunique() > 1:
                raise SpecificationError(
                    "loadings_table: the loadings come from several groups "
                    f"({sorted(map(str, frame['group'].unique()))}); pass one group's rows."
                )
            frame = frame.drop(columns="group")
    cr_map, ave_map = _mapping(cr, "cr"), _mapping(ave, "ave")
    prop = f"prop:{digits}"
    if {"construct", "item"} <= set(frame.columns):
        return _long_loadings(frame, cr_map, ave_map, prop, construct_labels, title, number, notes)
    if "construct" in frame.columns or "item" in frame.columns:
        raise SpecificationError(
            "loadings_table: a long loadings frame needs both 'construct' and 'item' columns; "
            f"got columns {list(loadings.columns)}."
        )
    return _wide_loadings(frame, cr_map, ave_map, prop, blank_below, construct_labels, title, number, notes)


def _long_loadings(frame, cr_map, ave_map, prop, labels, title, number, notes):
    value = next((c for c in _LOADING_VALUE if c in frame.columns), None)
    if value is None:
        raise SpecificationError(
            f"loadings_table: no loading column; expected one of {list(_LOADING_VALUE)}, "
            f"got {list(frame.columns)}."
        )
    constructs = frame["construct"].astype(str).tolist()
    extra = sorted(set(cr_map) - set(constructs)) + sorted(set(ave_map) - set(constructs))
    if extra:
        raise SpecificationError(
            f"loadings_table: CR/AVE given for constructs {sorted(set(extra))} that have no loadings "
            f"(constructs: {list(dict.fromkeys(constructs))})."
        )
    out = frame.copy()
    out["cr"] = [cr_map.get(c, np.nan) for c in constructs]
    out["ave"] = [ave_map.get(c, np.nan) for c in constructs]
    fixed = np.zeros(len(frame), dtype=bool)
    if "free" in frame.columns:  # lavaan: free == 0 marks a fixed parameter (SE 0, no test)
        fixed = (pd.to_numeric(frame["free"], errors="coerce").fillna(0) == 0).to_numpy()
        inf = [c for c in ("se", "p_value", "ci_low", "ci_high", "z") if c in frame.columns]
        frame = frame.copy()
        frame.loc[fixed, inf] = np.nan
    # With an unstandardized estimate next to a standardized column, SE/p/CI belong to the
    # unstandardized estimate (as in lavaan's parameterEstimates): show B, SE, beta, p.
    both = value != "estimate" and "estimate" in frame.columns
    body: dict[str, list[str]] = {}
    formats: dict[str, str] = {}
    if both:
        body["*B*"] = _format_column(frame["estimate"], "num:2", "estimate")
        formats["estimate"] = "num:2"
    if "se" in frame.columns:
        body["*SE*"] = _format_column(frame["se"], "num:3" if not both else "num:2", "se")
        formats["se"] = "num:3" if not both else "num:2"
    if both and {"ci_low", "ci_high"} <= set(frame.columns):
        body["95% CI"] = [_bracket(lo, hi, "num:2") for lo, hi in zip(frame["ci_low"], frame["ci_high"])]
        formats["ci_low"] = formats["ci_high"] = "num:2"
    body["β" if both else "Loading"] = _format_column(frame[value], prop, value)
    formats[value] = prop
    if "p_value" in frame.columns:
        body["*p*"] = _format_column(frame["p_value"], "p", "p_value")
        formats["p_value"] = "p"
    if not both and {"ci_low", "ci_high"} <= set(frame.columns):
        body["95% CI"] = [_bracket(lo, hi, prop) for lo, hi in zip(frame["ci_low"], frame["ci_high"])]
        formats["ci_low"] = formats["ci_high"] = prop
    show_cr, show_ave = bool(cr_map), bool(ave_map)
    if show_cr:
        body["CR"] = [""] * len(frame)
        formats["cr"] = prop
    if show_ave:
        body["AVE"] = [""] * len(frame)
        formats["ave"] = prop
    rows = pd.DataFrame(body, index=frame["item"].astype(str).tolist())
    rows, group_rows = _grouped(rows, constructs, labels)
    for pos, c in zip(group_rows, dict.fromkeys(constructs)):
        if show_cr:
            rows.iloc[pos, rows.columns.get_loc("CR")] = _format_value(cr_map.get(c), prop)
        if show_ave:
            rows.iloc[pos, rows.columns.get_loc("AVE")] = _format_value(ave_map.get(c), prop)
    if both:
        default = ["*B* = unstandardized loading; β = standardized loading (std.all)."]
        if "se" in frame.columns or "p_value" in frame.columns:
            default.append("*SE*, *p* and CI refer to *B*.")
        if fixed.any() or ("se" in frame.columns and frame["se"].isna().any()):
            default.append("Loadings without *SE* are fixed for identification.")
    else:
        default = ["Loadings are standardized."]
    if show_cr or show_ave:
        default.append("CR = composite reliability; AVE = average variance extracted.")
    if "95% CI" in body:
        default.append("CI = confidence interval.")
    return APATable(
        frame=out, cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats=formats,
        group_rows=group_rows, stub_label="Construct and item",
    )


def _wide_loadings(frame, cr_map, ave_map, prop, blank_below, labels, title, number, notes):
    nonnum = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if nonnum:
        raise SpecificationError(
            f"loadings_table: a wide loading matrix must be all numeric; columns {nonnum} are not. "
            "For a long frame give 'construct' and 'item' columns."
        )
    labels = construct_label_map(labels)
    factors = [c for c in frame.columns if c not in ("h2", "u2", "com")]
    extra = sorted((set(cr_map) | set(ave_map)) - set(map(str, factors)))
    if extra:
        raise SpecificationError(
            f"loadings_table: CR/AVE given for {extra}, which are not factors of the matrix {factors}."
        )
    body, formats = {}, {}
    for f in factors:
        vals = frame[f]
        text = _format_column(vals, prop, str(f))
        if blank_below is not None:
            text = ["" if (not _is_missing(v) and abs(v) < blank_below) else t for v, t in zip(vals, text)]
        body[labels.get(str(f), str(f))] = text
        formats[str(f)] = prop
    for c, head in (("h2", "*h*²"), ("u2", "*u*²")):
        if c in frame.columns:
            body[head] = _format_column(frame[c], prop, c)
            formats[c] = prop
    rows = pd.DataFrame(body, index=[str(i) for i in frame.index])
    bottom = []
    for name, mp in (("CR", cr_map), ("AVE", ave_map)):
        if mp:
            vals = [_format_value(mp.get(str(f)), prop) for f in factors]
            vals += [""] * (rows.shape[1] - len(factors))
            bottom.append(pd.DataFrame([vals], columns=rows.columns, index=[name]))
    if bottom:
        rows = pd.concat([rows, *bottom])
    default = ["Loadings are standardized (pattern coefficients)."]
    if blank_below is not None:
        default.append(f"Loadings with absolute value below {format_number(blank_below, 2, bounded=True)} are omitted.")
    if cr_map or ave_map:
        default.append("CR = composite reliability; AVE = average variance extracted.")
    out = frame.copy()
    return APATable(
        frame=out, cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats=formats, stub_label="Item",
    )


# --------------------------------------------------------------------------- discriminant validity
def _square(matrix, what: str) -> pd.DataFrame:
    if not isinstance(matrix, pd.DataFrame):
        raise SpecificationError(f"{what} must be a square DataFrame labelled by construct.")
    if matrix.shape[0] != matrix.shape[1] or list(map(str, matrix.index)) != list(map(str, matrix.columns)):
        raise SpecificationError(
            f"{what} must be square with the same construct labels, in the same order, on rows and "
            f"columns; got rows {list(matrix.index)} and columns {list(matrix.columns)}."
        )
    return matrix


def discriminant_table(
    matrix: pd.DataFrame,
    *,
    kind: str = "fornell_larcker",
    diag=None,
    ave=None,
    ci_high: pd.DataFrame | None = None,
    ci_level: float = 0.95,
    threshold: float = 0.85,
    digits: int = 2,
    construct_labels=None,
    title: str | None = None,
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """Fornell–Larcker or HTMT matrix as an APA table (lower triangle).

    Rows are numbered constructs ("1. Image"), columns their numbers.

    Parameters
    ----------
    matrix : DataFrame
        Square, constructs × constructs: latent correlations for
        ``kind="fornell_larcker"``, HTMT ratios for ``kind="htmt"``.  Only the
        lower triangle is read for display.
    diag : dict or Series, optional
        Fornell–Larcker: the square roots of the AVEs, shown in bold on the
        diagonal.  Give ``ave=`` instead to pass the AVEs themselves.
    ave : dict or Series, optional
        Fornell–Larcker: the AVEs, whose square roots are shown on the diagonal
        (None: ``diag`` or, without it, no diagonal).
    ci_high : DataFrame, optional
        HTMT: upper bounds of the bootstrap confidence interval, shown in
        brackets after each ratio.
    threshold : float
        HTMT: ratios above it are listed in the note (Henseler et al., 2015,
        use .85 or .90).
    kind : {"fornell_larcker", "htmt"}
        What ``matrix`` holds.
    ave : dict or Series, optional
        Fornell–Larcker: the AVEs (their square roots go on the diagonal).
    ci_level : float
        The level of the confidence intervals, for the column headings and notes.
    digits : int
        Decimals shown.
    construct_labels : mapping or Instrument, optional
        Construct id -> label (see :func:`construct_label_map`).
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.validity.fornell_larcker : The Fornell-Larcker criterion.
    custval.validity.htmt : Heterotrait-monotrait ratios.

    Notes
    -----
    Correlations are bounded by 1 and written without leading zero; HTMT is
    a ratio that can exceed 1 and keeps it.  The Fornell–Larcker criterion
    holds for a pair when both √AVEs exceed the absolute correlation
    (Fornell & Larcker, 1981); pairs that fail are named in the note.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame([[1, 0.62, 0.4], [0.62, 1, 0.75], [0.4, 0.75, 1]],
    ...                  index=["A", "B", "C"], columns=["A", "B", "C"])   # simulated
    >>> t = discriminant_table(r, ave={"A": 0.55, "B": 0.49, "C": 0.6})
    >>> print(t.cells)
             1      2      3
    1. A  **.74**
    2. B   .62  **.70**
    3. C   .40    .75  **.77**
    >>> t.notes[-1]
    'The Fornell–Larcker criterion is not met for: B–C.'
    >>> # In R: semTools::discriminantValidity(fit)  (table layout: no direct equivalent)
    """
    upper_note = None
    if not isinstance(matrix, pd.DataFrame) and getattr(matrix, "_table_kind", "") in ("htmt", "fornell_larcker"):
        matrix, kind, diag, ci_high, ci_level, threshold, upper_note = _from_result(
            matrix, kind, diag, ci_high, ci_level, threshold
        )
    if kind not in ("fornell_larcker", "htmt"):
        raise SpecificationError(f"kind must be 'fornell_larcker' or 'htmt'; got {kind!r}.")
    m = _square(matrix, "discriminant_table: matrix")
    names = [str(c) for c in m.columns]
    labels = construct_label_map(construct_labels)
    k = len(names)
    vals = m.to_numpy(dtype=float)
    if diag is not None and ave is not None:
        raise SpecificationError("give either diag= (√AVE) or ave=, not both.")
    if kind == "htmt" and (diag is not None or ave is not None):
        raise SpecificationError("an HTMT table has no diagonal values; diag/ave are for Fornell–Larcker.")
    if ci_high is not None:
        if kind != "htmt":
            raise SpecificationError("ci_high= is for kind='htmt'.")
        ci = _square(ci_high, "discriminant_table: ci_high").loc[m.index, m.columns].to_numpy(dtype=float)
    d = None
    if ave is not None:
        amap = _mapping(ave, "ave")
        bad = {c: amap.get(c) for c in names if c in amap and not 0 <= float(amap[c]) <= 1}
        if bad:
            raise DataValidationError(f"AVE must lie in [0, 1]; got {bad}.")
        d = np.array([math.sqrt(amap[c]) if c in amap else np.nan for c in names])
    elif diag is not None:
        dmap = _mapping(diag, "diag")
        d = np.array([float(dmap.get(c, np.nan)) for c in names])
    spec = f"prop:{digits}" if kind == "fornell_larcker" else f"num:{digits}"
    cells = [[""] * k for _ in range(k)]
    for i in range(k):
        for j in range(i):
            text = _format_value(vals[i, j], spec)
            if ci_high is not None and not _is_missing(ci[i, j]):
                text += f" [{_format_value(ci[i, j], spec)}]"
            cells[i][j] = text
        if kind == "fornell_larcker" and d is not None and not _is_missing(d[i]):
            cells[i][i] = f"**{_format_value(d[i], spec)}**"
        else:
            cells[i][i] = "—"
    rows = pd.DataFrame(
        cells, index=[f"{i + 1}. {labels.get(n, n)}" for i, n in enumerate(names)],
        columns=[str(i + 1) for i in range(k)],
    )
    if kind == "fornell_larcker":
        default = ["Below the diagonal: correlations between constructs."]
        if d is not None:
            default.append("Diagonal (bold): square root of the average variance extracted (√AVE).")
            fails = [
                f"{names[j]}–{names[i]}" for i in range(k) for j in range(i)
                if abs(vals[i, j]) >= min(d[i], d[j])
            ]
            if fails:
                default.append("The Fornell–Larcker criterion is not met for: " + ", ".join(fails) + ".")
        title = title or "Discriminant Validity: Fornell–Larcker Criterion"
    else:
        default = ["Heterotrait–monotrait ratios of correlations (HTMT; Henseler et al., 2015)."]
        if ci_high is not None:
            default.append(upper_note or (
                f"In brackets: upper bound of the {round(ci_level * 100)}% bootstrap confidence interval."
            ))
        above = [f"{names[j]}–{names[i]}" for i in range(k) for j in range(i) if vals[i, j] > threshold]
        thr = format_number(threshold, 2, bounded=True)
        default.append(
            f"HTMT above {thr} for: " + ", ".join(above) + "." if above else f"No HTMT value exceeds {thr}."
        )
        title = title or "Discriminant Validity: Heterotrait–Monotrait Ratios"
    out = m.copy()
    return APATable(
        frame=out, cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats={c: spec for c in names},
        stub_label="Construct",
    )


def _from_result(result, kind, diag, ci_high, ci_level, threshold):
    """Matrix and options from a custval.validity HTMTResult or FornellLarckerResult (by ``_table_kind``)."""
    table = result.table
    m = result.matrix
    if result._table_kind == "htmt":
        names = [str(c) for c in m.columns]
        up = pd.DataFrame(np.nan, index=names, columns=names)
        for a, b, u in zip(table["construct_a"], table["construct_b"], table["upper_bound"]):
            up.loc[str(a), str(b)] = up.loc[str(b), str(a)] = u
        has_boot = bool(getattr(result, "n_boot", 0))
        level = float(getattr(result, "ci", ci_level))
        thresholds = getattr(result, "thresholds", (threshold,))
        note = (f"In brackets: one-sided {round(level * 100)}% percentile bootstrap upper bound "
                f"({getattr(result, 'n_boot', '')} resamples; Franke & Sarstedt, 2019).")
        return (m, "htmt", None, up if has_boot and ci_high is None else ci_high, level,
                float(thresholds[0]), note)
    if result._table_kind == "fornell_larcker":
        if isinstance(m.index, pd.MultiIndex):
            raise SpecificationError("discriminant_table: pass one group's Fornell–Larcker matrix.")
        d = pd.Series(np.diag(m.to_numpy(dtype=float)), index=[str(c) for c in m.columns])
        return m, "fornell_larcker", d if diag is None else diag, ci_high, ci_level, threshold, None
    raise SpecificationError(
        f"discriminant_table: cannot read a {type(result).__name__}; pass the matrix as a DataFrame."
    )


# --------------------------------------------------------------------------- fit indices
_FIT_ALIASES = {
    "chi2": "chisq", "chi_square": "chisq", "chisquare": "chisq", "dof": "df", "pvalue": "p_value",
    "p": "p_value", "chisq_p": "p_value", "nnfi": "tli", "rmsea_ci_lower": "rmsea_ci_low",
    "rmsea_ci_upper": "rmsea_ci_high", "rmsea_low": "rmsea_ci_low", "rmsea_high": "rmsea_ci_high",
    "rmsea_lower": "rmsea_ci_low", "rmsea_upper": "rmsea_ci_high", "ntotal": "n",
}
_FIT_COLUMNS = {
    "n": ("*N*", "int"),
    "chisq": ("χ²", "num:2"),
    "df": ("*df*", "int"),
    "p_value": ("*p*", "p"),
    "cfi": ("CFI", "prop:3"),
    "tli": ("TLI", "prop:3"),
    "rmsea": ("RMSEA", "prop:3"),
    "srmr": ("SRMR", "prop:3"),
    "aic": ("AIC", "num:2"),
    "bic": ("BIC", "num:2"),
}


# lavaan fitMeasures names of the scaled (Yuan-Bentler / Satorra-Bentler) and robust
# (Brosseau-Liard & Savalei) versions, mapped onto the table's columns by ``fit_table(version=...)``.
_FIT_VERSIONS = {
    "scaled": {"chisq.scaled": "chisq", "pvalue.scaled": "pvalue", "cfi.scaled": "cfi",
               "tli.scaled": "tli", "rmsea.scaled": "rmsea", "rmsea.ci.lower.scaled": "rmsea.ci.lower",
               "rmsea.ci.upper.scaled": "rmsea.ci.upper"},
    "robust": {"chisq.scaled": "chisq", "pvalue.scaled": "pvalue", "cfi.robust": "cfi",
               "tli.robust": "tli", "rmsea.robust": "rmsea", "rmsea.ci.lower.robust": "rmsea.ci.lower",
               "rmsea.ci.upper.robust": "rmsea.ci.upper"},
}
_FIT_VERSION_NOTES = {
    "scaled": "χ² is the scaled (Yuan–Bentler) statistic; CFI, TLI and RMSEA are computed from scaled χ² values.",
    "robust": "χ² is the scaled (Yuan–Bentler) statistic; CFI, TLI and RMSEA are the robust versions "
              "(Brosseau-Liard & Savalei, 2014; Brosseau-Liard et al., 2012).",
}


def _fit_version(frame: pd.DataFrame, version: str) -> pd.DataFrame:
    if version == "standard":
        return frame
    if version not in _FIT_VERSIONS:
        raise SpecificationError(
            f"fit_table: version={version!r} is not known; allowed: 'standard', 'scaled', 'robust'."
        )
    mapping = {k: v for k, v in _FIT_VERSIONS[version].items() if k in frame.columns}
    if not mapping:
        raise SpecificationError(
            f"fit_table: version={version!r} needs lavaan's {version} columns "
            f"({', '.join(_FIT_VERSIONS[version])}); none is in the frame (fit with estimator='MLR')."
        )
    frame = frame.drop(columns=[v for v in mapping.values() if v in frame.columns])
    return frame.rename(columns=mapping)


def fit_table(
    fit: pd.DataFrame,
    *,
    version: str = "standard",
    ci_level: float = 0.90,
    title: str = "Model Fit Indices",
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """APA table of fit indices, one row per model.

    Parameters
    ----------
    fit : DataFrame or Series
        Rows = models (index = model names); columns, any subset of ``n,
        chisq, df, p_value, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high,
        srmr, aic, bic`` (lavaan ``fitMeasures`` names such as ``pvalue``,
        ``rmsea.ci.lower`` are accepted).  A Series is one model.
    version : {"standard", "scaled", "robust"}, default "standard"
        Which version of the test statistic and indices to show when the frame
        holds lavaan's MLR columns: ``"scaled"`` takes ``chisq.scaled``,
        ``cfi.scaled``, ... and ``"robust"`` takes ``chisq.scaled`` with
        ``cfi.robust``, ``tli.robust``, ``rmsea.robust``.  A table note says which.
    ci_level : float
        The level of the RMSEA confidence interval, for the column headings and notes.
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.cfa.CFA : The fitted models.

    Notes
    -----
    CFI, TLI, RMSEA and SRMR are written without leading zero (conventional;
    TLI can exceed 1, which is then written in full, e.g. ``1.004``).  The
    RMSEA's confidence interval follows it in brackets.

    Examples
    --------
    >>> import pandas as pd
    >>> fit = pd.DataFrame({"chisq": [85.306, 300.2], "df": [24, 27], "pvalue": [1.2e-8, 0.0],
    ...                     "cfi": [0.9306, 0.7], "tli": [0.896, 0.6], "rmsea": [0.0921, 0.18],
    ...                     "rmsea.ci.lower": [0.071, 0.16], "rmsea.ci.upper": [0.114, 0.2],
    ...                     "srmr": [0.0652, 0.15]}, index=["Three factors", "One factor"])
    >>> print(fit_table(fit).cells.iloc[0].tolist())
    ['85.31', '24', '< .001', '.931', '.896', '.092 [.071, .114]', '.065']
    >>> # In R: papaja::apa_table(lavaan::fitMeasures(fit))  (no direct equivalent)
    """
    frame = _as_frame(fit, "fit_table")
    frame = _normalise(_fit_version(frame, version), _FIT_ALIASES, _FIT_COLUMNS)
    shown = [c for c in _FIT_COLUMNS if c in frame.columns]
    if not shown:
        raise _none_known("fit_table", "fit indices", _FIT_COLUMNS, frame)
    has_ci = {"rmsea_ci_low", "rmsea_ci_high"} <= set(frame.columns)
    body, formats = _formatted_columns(
        frame, shown, _FIT_COLUMNS, {"rmsea": ("rmsea_ci_low", "rmsea_ci_high", "RMSEA")}, ci_level
    )
    rows = pd.DataFrame(body, index=[str(i) for i in frame.index])
    abbrev = {
        "cfi": "CFI = comparative fit index", "tli": "TLI = Tucker–Lewis index",
        "rmsea": "RMSEA = root mean square error of approximation",
        "srmr": "SRMR = standardized root mean square residual",
        "aic": "AIC = Akaike information criterion", "bic": "BIC = Bayesian information criterion",
    }
    default = _abbreviation_note(shown, abbrev, has_ci and "rmsea" in shown)
    if version != "standard":
        default.append(_FIT_VERSION_NOTES[version])
    return APATable(
        frame=frame.copy(), cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats=formats, stub_label="Model",
    )


# --------------------------------------------------------------------------- invariance
_INV_ALIASES = {
    **_FIT_ALIASES,
    "pvalue": "model_pvalue",  # the model's chi-square p, not the difference test's
    "d_chisq": "delta_chisq", "chisq_diff": "delta_chisq", "delta_chi2": "delta_chisq",
    "d_df": "delta_df", "df_diff": "delta_df", "delta_p": "p_value", "p_diff": "p_value",
    "pr_>chisq": "p_value", "pr(>chisq)": "p_value",
    "d_cfi": "delta_cfi", "cfi_diff": "delta_cfi", "d_rmsea": "delta_rmsea",
    "rmsea_diff": "delta_rmsea", "d_srmr": "delta_srmr", "srmr_diff": "delta_srmr",
    "decision": "verdict", "holds": "verdict", "invariant": "verdict", "model": "level",
}
_INV_FIT = {
    "chisq": ("χ²", "num:2"), "df": ("*df*", "int"), "cfi": ("CFI", "prop:3"),
    "rmsea": ("RMSEA", "prop:3"), "srmr": ("SRMR", "prop:3"),
}
_INV_DELTA = {
    "delta_chisq": ("Δχ²", "num:2"), "delta_df": ("Δ*df*", "int"), "p_value": ("*p*", "p"),
    "delta_cfi": ("ΔCFI", "prop:3"), "delta_rmsea": ("ΔRMSEA", "prop:3"),
    "delta_srmr": ("ΔSRMR", "prop:3"),
}


def invariance_table(
    invariance: pd.DataFrame,
    *,
    title: str = "Measurement Invariance Across Groups",
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """APA table of a measurement-invariance sequence.

    Parameters
    ----------
    invariance : DataFrame
        One row per level (configural, metric, scalar, strict ...), in order;
        the level names are the index or a ``level`` column.  Known columns:
        model fit ``chisq, df, cfi, rmsea, srmr``; comparison with the previous
        level ``delta_chisq, delta_df, p_value`` (of the χ² difference test),
        ``delta_cfi, delta_rmsea, delta_srmr``; ``verdict`` (text, or
        True/False for invariance supported / not supported).
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.invariance.measurement_invariance : The sequence tabulated.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> inv = pd.DataFrame({   # simulated
    ...     "chisq": [120.5, 131.2, 160.8], "df": [48, 54, 60], "cfi": [0.962, 0.958, 0.941],
    ...     "rmsea": [0.061, 0.059, 0.066], "delta_chisq": [np.nan, 10.7, 29.6],
    ...     "delta_df": [np.nan, 6, 6], "p_value": [np.nan, 0.098, 0.00004],
    ...     "delta_cfi": [np.nan, -0.004, -0.017], "delta_rmsea": [np.nan, -0.002, 0.007],
    ...     "verdict": [True, True, False]}, index=["Configural", "Metric", "Scalar"])
    >>> print(invariance_table(inv).cells.loc["Scalar"].tolist())
    ['160.80', '60', '.941', '.066', '29.60', '6', '< .001', '−.017', '.007', 'Not supported']
    >>> # In R: semTools::compareFit(configural, metric, scalar)  (layout: no direct equivalent)
    """
    frame = _normalise(
        _as_frame(invariance, "invariance_table"), _INV_ALIASES, [*_INV_FIT, *_INV_DELTA, "verdict", "level", "model_pvalue"]
    )
    if "level" in frame.columns:
        frame = frame.set_index("level")
    fit_cols = [c for c in _INV_FIT if c in frame.columns]
    delta_cols = [c for c in _INV_DELTA if c in frame.columns]
    if not fit_cols and not delta_cols:
        raise SpecificationError(
            f"invariance_table: no known columns; expected some of {list(_INV_FIT) + list(_INV_DELTA)} "
            f"(got {list(frame.columns)})."
        )
    body, formats = {}, {}
    for c in fit_cols + delta_cols:
        head, spec = {**_INV_FIT, **_INV_DELTA}[c]
        body[head] = _format_column(frame[c], spec, c)
        formats[c] = spec
    if "verdict" in frame.columns:
        v = frame["verdict"]
        body["Decision"] = [
            "" if _is_missing(x) else ("Supported" if x is True or x is np.True_ else
                                         "Not supported" if x is False or x is np.False_ else str(x))
            for x in v.tolist()
        ]
        formats["verdict"] = "text"
    rows = pd.DataFrame(body, index=[str(i) for i in frame.index])
    spanners = []
    if fit_cols and delta_cols:
        spanners = [
            ("Model fit", tuple(_INV_FIT[c][0] for c in fit_cols)),
            ("Comparison with previous model", tuple(_INV_DELTA[c][0] for c in delta_cols)),
        ]
    default = [
        "Δ = change from the previous, less constrained model; *p* refers to the χ² difference test.",
        "Non-invariance is indicated by ΔCFI ≤ −.010 together with ΔRMSEA ≥ .015 or ΔSRMR ≥ .030 "
        "(metric) / .010 (scalar, strict) (Chen, 2007).",
    ]
    return APATable(
        frame=frame.copy(), cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats=formats,
        spanners=tuple(spanners), stub_label="Model",
    )


# --------------------------------------------------------------------------- reliability
_REL_ALIASES = {
    "k": "n_items", "items": "n_items", "nitems": "n_items", "raw_alpha": "alpha",
    "cronbach_alpha": "alpha", "alpha_ci_lower": "alpha_ci_low", "alpha_ci_upper": "alpha_ci_high",
    "alpha_lower": "alpha_ci_low", "alpha_upper": "alpha_ci_high", "omega_t": "omega_total",
    "omega": "omega_total", "omega_hierarchical": "omega_h", "g6": "lambda6", "g6_smc": "lambda6",
    "composite_reliability": "cr", "rho_c": "cr", "mean_r": "average_r",
    "omega_ci_lower": "omega_ci_low", "omega_ci_upper": "omega_ci_high",
}
_REL_COLUMNS = {
    "n": ("*n*", "int"), "n_items": ("*k*", "int"), "alpha": ("α", "prop:2"),
    "std_alpha": ("Std. α", "prop:2"), "lambda6": ("λ6", "prop:2"),
    "omega_total": ("ω total", "prop:2"), "omega_h": ("ω hierarchical", "prop:2"),
    "cr": ("CR", "prop:2"), "ave": ("AVE", "prop:2"), "average_r": ("Mean *r*", "prop:2"),
}


def reliability_table(
    reliability: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    ci_level: float = 0.95,
    construct_labels=None,
    title: str = "Reliability and Convergent Validity of the Scales",
    number: int | None = None,
    notes: Sequence[str] | str | None = None,
) -> APATable:
    """APA table of reliability coefficients, one row per construct.

    Parameters
    ----------
    reliability : DataFrame
        Rows = constructs; columns, any subset of ``n_items, n, alpha,
        alpha_ci_low, alpha_ci_high, std_alpha, lambda6, omega_total, omega_h,
        cr, ave, average_r`` (``raw_alpha``, ``k``, ``omega``,
        ``composite_reliability`` ... accepted), e.g. the frame of
        :func:`custval.reliability.scale_reliability`.  With ``alpha_ci_low`` /
        ``alpha_ci_high`` (``omega_ci_low`` / ``omega_ci_high``) alpha (omega)
        is shown as ``.85 [.82, .88]``.
    columns : sequence, optional
        Coefficients to show, in order (default: every known one present).
    ci_level : float
        The level of the confidence intervals, for the column headings and notes.
    construct_labels : mapping or Instrument, optional
        Construct id -> label (see :func:`construct_label_map`).
    title, number, notes : optional
        Table title, number and notes below it (see :class:`APATable`).

    Returns
    -------
    APATable
        The formatted table; ``to_frame()`` keeps the unrounded numbers.

    See Also
    --------
    custval.reliability.scale_reliability : The coefficients tabulated.

    Examples
    --------
    >>> import pandas as pd
    >>> rel = pd.DataFrame({"n_items": [5, 3], "alpha": [0.8512, 0.6], "alpha_ci_low": [0.82, 0.5],
    ...                     "alpha_ci_high": [0.88, 0.7], "omega_total": [0.87, 0.66]},
    ...                    index=["Image", "Expectation"])   # simulated
    >>> print(reliability_table(rel))
    Reliability and Convergent Validity of the Scales
    <BLANKLINE>
    | Scale | k | α [95% CI] | ω total |
    | :--- | :---: | :---: | :---: |
    | Image | 5 | .85 [.82, .88] | .87 |
    | Expectation | 3 | .60 [.50, .70] | .66 |
    <BLANKLINE>
    Note. k = number of items; α = Cronbach's alpha; ω = McDonald's omega; CI = confidence interval.
    >>> # In R: papaja::apa_table(psych::alpha(x)$total)  (no direct equivalent)
    """
    frame = _normalise(
        _as_frame(reliability, "reliability_table"), _REL_ALIASES,
        [*_REL_COLUMNS, "alpha_ci_low", "alpha_ci_high", "omega_ci_low", "omega_ci_high"],
    )
    if columns is not None:
        wanted = [_REL_ALIASES.get(c, c) for c in columns]
        unknown = [c for c in wanted if c not in frame.columns or c not in _REL_COLUMNS]
        if unknown:
            raise SpecificationError(
                f"reliability_table: cannot show {unknown}; known coefficients present: "
                f"{[c for c in _REL_COLUMNS if c in frame.columns]}."
            )
    shown = [c for c in _REL_COLUMNS if c in frame.columns]
    if not shown:
        raise _none_known("reliability_table", "coefficients", _REL_COLUMNS, frame)
    order = ["n_items", "n"] + [c for c in _REL_COLUMNS if c not in ("n_items", "n")]
    shown = [c for c in order if c in shown] if columns is None else wanted
    labels = construct_label_map(construct_labels)
    has_ci = {"alpha_ci_low", "alpha_ci_high"} <= set(frame.columns)
    has_omega_ci = {"omega_ci_low", "omega_ci_high"} <= set(frame.columns)
    body, formats = _formatted_columns(
        frame, shown, _REL_COLUMNS,
        {"alpha": ("alpha_ci_low", "alpha_ci_high", "α"),
         "omega_total": ("omega_ci_low", "omega_ci_high", "ω total")},
        ci_level,
    )
    rows = pd.DataFrame(body, index=[labels.get(str(i), str(i)) for i in frame.index])
    abbrev = {
        "n_items": "*k* = number of items", "alpha": "α = Cronbach's alpha",
        "std_alpha": "Std. α = standardized alpha", "lambda6": "λ6 = Guttman's lambda 6",
        "omega_total": "ω = McDonald's omega", "omega_h": "ω hierarchical = omega hierarchical",
        "cr": "CR = composite reliability", "ave": "AVE = average variance extracted",
        "average_r": "Mean *r* = mean inter-item correlation",
    }
    default = _abbreviation_note(
        shown, abbrev, (has_ci and "alpha" in shown) or (has_omega_ci and "omega_total" in shown)
    )
    return APATable(
        frame=frame.copy(), cells=rows, title=title, number=number,
        notes=_as_notes(default if notes is None else notes), formats=formats, stub_label="Scale",
    )
