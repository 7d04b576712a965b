"""Where the package's shipped files and the project's data, reports and figures live.

Files that ship with custval live inside the package: the datasets (``DATASETS_DIR``,
``custval/_data/<name>/`` with the CSV, its ``README.md`` and ``PROVENANCE.md``) and the
instruments (``INSTRUMENTS_DIR``, ``custval/instruments/*.yaml``).  Library code reads
nothing else from disk unless a caller passes a path.

Notebooks and scripts of a project take the project's own folders (``data/processed``,
``reports``, ``notebooks``) from here, never from the working directory.  The project root
is ``$CUSTVAL_PROJECT_ROOT`` when set; otherwise the source checkout that holds this package
(the folder with ``pyproject.toml``) when custval runs from one; otherwise (an installed
wheel) the working directory at import.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
INSTRUMENTS_DIR = PACKAGE_DIR / "instruments"
#: The shipped datasets, one folder per dataset (read them with ``custval.load_dataset``).
DATASETS_DIR = PACKAGE_DIR / "_data"
#: The project's untouched raw inputs are the shipped datasets: one copy of the bytes, kept
#: inside the package so that an installed wheel has them too.
RAW_DATA_DIR = DATASETS_DIR


def project_root() -> Path:
    env = os.environ.get("CUSTVAL_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    if (PACKAGE_DIR.parent / "pyproject.toml").is_file():
        return PACKAGE_DIR.parent
    return Path.cwd().resolve()


PROJECT_ROOT = project_root()
DATA_DIR = PROJECT_ROOT / "data"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
FIGURES_DIR = REPORTS_DIR / "figures"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
