"""docs/messy-data.md names real rules, exceptions and warnings (the page cannot drift from the code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import custval.exceptions as ex

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "messy-data.md"


def _source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "custval").rglob("*.py"))


def test_page_is_linked_from_the_readme():
    assert "docs/messy-data.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_exception_and_warning_named_exists():
    names = set(re.findall(r"`([A-Z][A-Za-z]+(?:Error|Warning))`", PAGE.read_text(encoding="utf-8")))
    assert len(names) >= 10
    missing = sorted(n for n in names if not isinstance(getattr(ex, n, None), type))
    assert not missing, f"docs/messy-data.md names classes custval.exceptions lacks: {missing}"


def test_every_rule_named_is_a_rule_of_the_code():
    text = PAGE.read_text(encoding="utf-8")
    rules = set()
    for m in re.finditer(r"rules?\s+((?:`[a-z_]+`(?:,\s+|\s+and\s+|\s+or\s+)?)+)", text):
        rules |= set(re.findall(r"`([a-z_]+)`", m.group(1)))
    assert len(rules) >= 20
    src = _source()
    # a rule is a quoted name in the code, or built from a quoted prefix (f"unknown_qualtrics_{...}")
    prefixes = {p for p in re.findall(r'f"([a-z_]{8,})\{', src)}
    missing = sorted(r for r in rules if f'"{r}"' not in src and f"'{r}'" not in src
                     and not any(r.startswith(p) for p in prefixes))
    assert not missing, f"docs/messy-data.md names rules the code does not have: {missing}"


@pytest.mark.parametrize("name", ["excluded_rows", "format_difference", "optimizer_fallback_",
                                  "reverse_keyed_", "near_misses", "n_boot_failed", "p_holm"])
def test_named_api_exists(name):
    assert name in _source()
