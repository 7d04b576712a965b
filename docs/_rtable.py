"""The table "custval call -> R call", generated from the docstrings' ``In R:`` lines.

Every public function, class and method whose docstring has an ``# In R: ...`` line (in its
Examples, or after them) gets one row; continuation lines are the comment lines right below it.
Imported by ``docs/conf.py`` at the start of every build, so the table follows the docstrings.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

# the parser of ``In R:`` lines lives in the package (the validation dossier uses it too)
from custval._rlines import r_lines

#: the public modules, one API page each (``docs/api/<name>.rst``)
PUBLIC_MODULES = (
    "codebook", "ingest", "processed", "datasets", "screening", "items", "scoring",
    "reliability", "dimensionality", "correlation", "efa", "cfa", "validity", "invariance",
    "align", "pls", "gaps", "simulate", "tables", "plots", "plots_gaps", "questionnaire", "report",
    "pipeline", "exceptions",
    "shortform",
    "content", "retest", "criterion",
    "planning",
    "multilevel",
)

def _objects(module):
    name = module.__name__
    yield name, module
    for attr, obj in vars(module).items():
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isfunction(obj):
            yield f"{name}.{attr}", obj
        elif inspect.isclass(obj):
            yield f"{name}.{attr}", obj
            for meth, member in vars(obj).items():
                if meth.startswith("_"):
                    continue
                func = member.fget if isinstance(member, property) else member
                func = getattr(func, "__func__", func)
                if inspect.isfunction(func):
                    yield f"{name}.{attr}.{meth}", func


def r_table() -> list[tuple[str, str, str, bool]]:
    """Return ``(module, custval object, R call, is code)`` for every ``In R:`` line of the API.

    Returns
    -------
    list of tuple
        In the order of :data:`PUBLIC_MODULES`, then of definition in each module.
    """
    rows = []
    for short in PUBLIC_MODULES:
        module = importlib.import_module(f"custval.{short}")
        seen = set()
        for qualname, obj in _objects(module):
            for call, is_code in r_lines(inspect.getdoc(obj) if obj is not module else module.__doc__):
                if (qualname, call) not in seen:
                    seen.add((qualname, call))
                    rows.append((short, qualname, call, is_code))
    return rows


def _cell(text: str, is_code: bool) -> str:
    text = text.replace("|", "\\|")
    if not is_code:  # reST ``code`` -> Markdown `code`
        return re.sub(r"``(.+?)``", r"`\1`", text).rstrip(".")
    ticks = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def write_r_table(path: Path) -> int:
    """Write the table as a MyST Markdown fragment; return the number of rows.

    Parameters
    ----------
    path : Path
        The file to write (included by ``docs/guide/r-equivalents.md``).

    Returns
    -------
    int
        Rows written.
    """
    rows = r_table()
    out = ["| custval | R |", "|---|---|"]
    for _module, qualname, call, is_code in rows:
        out.append(f"| {{py:obj}}`{qualname.removeprefix('custval.')} <{qualname}>` "
                   f"| {_cell(call, is_code)} |")
    text = "\n".join(out) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return len(rows)
