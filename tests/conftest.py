"""Shared fixtures: paths to the committed golden values and raw data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from custval._io.paths import RAW_DATA_DIR

TESTS_DIR = Path(__file__).resolve().parent
GOLDEN_DIR = TESTS_DIR / "golden"


def load_golden(area: str, name: str) -> dict:
    """Golden values written by ``tests/r/<area>.R`` into ``tests/golden/<area>/<name>.json``."""
    path = GOLDEN_DIR / area / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture
def golden():
    return load_golden


@pytest.fixture
def raw_dir() -> Path:
    return RAW_DATA_DIR


def pytest_report_header(config):
    """Name the BLAS kernel in use: the numerical tests also run under other OpenBLAS kernels."""
    import os

    from threadpoolctl import threadpool_info

    kernels = sorted({f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()
                      if i.get("user_api") == "blas"})
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return f"BLAS: {', '.join(kernels) or 'unknown'}" + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


requires_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
