"""custval.report.expected_warnings: expected typed warnings summarised once, others passed on."""

from __future__ import annotations

import io
import warnings

import pytest

from custval.exceptions import HeywoodWarning, MissingDataWarning, SpecificationError
from custval.report import expected_warnings


def test_expected_warnings_are_counted_once_per_class():
    buf = io.StringIO()
    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        with expected_warnings(HeywoodWarning, stream=buf):
            for g in range(4):
                warnings.warn(f"negative residual variance in group {g}", HeywoodWarning, stacklevel=2)
    assert outer == []  # nothing escapes
    assert buf.getvalue() == "HeywoodWarning (expected, 4x): negative residual variance in group 0\n"


def test_unexpected_warnings_pass_through():
    buf = io.StringIO()
    with pytest.warns(MissingDataWarning, match="8 rows"):
        with expected_warnings(HeywoodWarning, stream=buf):
            warnings.warn("8 rows excluded", MissingDataWarning, stacklevel=2)
            warnings.warn("Heywood", HeywoodWarning, stacklevel=2)
    assert buf.getvalue().startswith("HeywoodWarning (expected, 1x)")


def test_errors_propagate_and_summary_still_printed():
    buf = io.StringIO()
    with pytest.raises(ValueError, match="boom"), expected_warnings(HeywoodWarning, stream=buf):
        warnings.warn("Heywood", HeywoodWarning, stacklevel=2)
        raise ValueError("boom")
    assert "HeywoodWarning (expected, 1x): Heywood" in buf.getvalue()


def test_needs_warning_classes():
    with pytest.raises(SpecificationError, match="Warning classes"):
        with expected_warnings():
            pass
    with pytest.raises(SpecificationError, match="Warning classes"):
        with expected_warnings("HeywoodWarning"):
            pass
