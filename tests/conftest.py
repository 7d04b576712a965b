"""Shared fixtures: paths to the committed golden values and raw data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from custval._paths import RAW_DATA_DIR

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


requires_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
