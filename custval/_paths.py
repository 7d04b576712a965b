"""Where the project's data, reports and figures live.

Notebooks and scripts take their paths from here, never from the working
directory.  The project root is ``$CUSTVAL_PROJECT_ROOT`` when set, otherwise
the checkout that holds this package (the folder with ``pyproject.toml`` and
``data/``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INSTRUMENTS_DIR = PACKAGE_DIR / "instruments"


def project_root() -> Path:
    env = os.environ.get("CUSTVAL_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    return PACKAGE_DIR.parent


PROJECT_ROOT = project_root()
DATA_DIR = PROJECT_ROOT / "data"
RAW_DATA_DIR = DATA_DIR / "raw"
PROCESSED_DATA_DIR = DATA_DIR / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
FIGURES_DIR = REPORTS_DIR / "figures"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
