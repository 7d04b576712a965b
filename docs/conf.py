"""Sphinx configuration of the custval documentation (``make docs``).

The notebooks are rendered from their committed, executed outputs (``nb_execution_mode = "off"``):
building the site runs no analysis.  They are copied from ``notebooks/`` into ``docs/notebooks/``
(not tracked) at the start of every build, and the table of R equivalents is generated from the
docstrings' ``In R:`` lines into ``docs/guide/r-equivalents-table.md`` (not tracked).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

from _rtable import write_r_table  # noqa: E402

import custval  # noqa: E402

project = "custval"
author = "custval developers"
copyright = "custval developers, GPL-3.0-or-later"
release = custval.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
root_doc = "index"

# --- notebooks: the committed outputs, never executed here -----------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# --- API pages ----------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Docstring layout checked on every object documented on the site (a violation fails the build).
# tests/test_docs.py checks more (every parameter documented, a Returns section) module by module.
numpydoc_validation_checks = {
    "GL02",  # closing quotes on their own line
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "PR02",  # a documented parameter that does not exist
    "PR06",  # types spelled "str", "int", "bool", not "string", "integer", "boolean"
    "PR10",  # "name : type" with a space before the colon
    "SA04",  # a See Also entry without a description
    "SS03",  # the summary ends with a period
    "YD01",  # a generator documents Yields
}
# module constants (``CRITERIA``, ``DEFAULT_DESIGN``) are data documented by one sentence
numpydoc_validation_exclude = {r"\.[A-Z][A-Z0-9_]*$"}

# --- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"custval {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # the table of R equivalents gets the full width
    "secondary_sidebar_items": {"**": ["page-toc"], "guide/r-equivalents": []},
}
html_static_path = ["_static"]
html_css_files = ["custval.css"]
html_show_sourcelink = False


# APA references italicise the journal and volume and put the issue right after them:
# "*Psychometrika, 35*(4)".  reST needs an escaped space between "*" and "(", which the
# docstrings do not carry; insert it outside ``literal`` spans.
_EMPHASIS_THEN_PAREN = re.compile(r"(?<=[^\s*])\*(?=\()")


def _apa_issue_numbers(app, what, name, obj, options, lines) -> None:
    for i, line in enumerate(lines):
        parts = line.split("``")
        parts[::2] = [_EMPHASIS_THEN_PAREN.sub(r"*\\ ", part) for part in parts[::2]]
        lines[i] = "``".join(parts)


def _copy_notebooks(app) -> None:
    """Copy ``notebooks/*.ipynb`` (committed outputs) next to the docs sources."""
    target = DOCS / "notebooks"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, target / nb.name)


def setup(app):
    app.connect("autodoc-process-docstring", _apa_issue_numbers)
    _copy_notebooks(app)
    write_r_table(DOCS / "guide" / "r-equivalents-table.md")
