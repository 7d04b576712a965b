"""Matching the provider and customer rows of dyadic survey files by their key columns (private).

Keys (``firm``, ``account``) are identifiers: they are compared as text, exactly, with one
allowance for how files are read -- a whole number read as a number equals its digits
(``123`` and ``"123"``, ``123.0`` and ``"123"``).  Nothing else is equated.  Keys of one side
that have no exact partner are *unmatched*; an unmatched provider key and an unmatched customer
key that become equal after :func:`normalise_key` are reported as a *near-miss* (both spellings),
never matched automatically.
"""

from __future__ import annotations

import numbers
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["differs_by", "key_text", "near_misses", "normalise_key", "row_keys"]

#: hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign,
#: small and full-width hyphen-minus: all read as "-" when looking for near-misses
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_SPACE = re.compile(r"\s+")  # str patterns match Unicode whitespace, NBSP (U+00A0) included


def key_text(v) -> str | None:
    """The text of one key value; ``None`` when missing or blank.  A whole number gives its digits."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if np.isnan(f):
            return None
        return str(int(f)) if f.is_integer() else repr(f)
    t = str(v)
    return None if not _SPACE.sub("", t) else t  # an empty (or blank) cell is no key


_STEPS = ("Unicode composition", "dash", "whitespace", "case", "leading zeros")


def _apply(text: str, skip: str | None = None) -> tuple[str, tuple[str, ...]]:
    how = []

    def step(name, before, after):
        if name == skip:
            return before
        if after != before:
            how.append(name)
        return after

    t = step("Unicode composition", text, unicodedata.normalize("NFC", text))
    t = step("dash", t, t.translate(_DASHES))
    t = step("whitespace", t, _SPACE.sub(" ", t).strip())
    t = step("case", t, t.casefold())
    if t.isdigit() and t.isascii() and len(t) > 1 and t.startswith("0"):
        t = step("leading zeros", t, t.lstrip("0") or "0")
    return t, tuple(how)


def normalise_key(text: str) -> tuple[str, tuple[str, ...]]:
    """The key with the usual export slips undone, and which slips were undone.

    Steps: Unicode NFC composition ("Unicode composition"); dash and minus variants -> ``-``
    ("dash"); every run of whitespace (NBSP too) -> one space, ends stripped ("whitespace");
    case folded ("case"); a key of digits only loses its leading zeros ("leading zeros").

    Examples
    --------
    >>> from custval._gaps.dyads import normalise_key
    >>> normalise_key("\\u00a0Acme\\u2013Oy ")
    ('acme-oy', ('dash', 'whitespace', 'case'))
    >>> normalise_key("000123")
    ('123', ('leading zeros',))
    """
    return _apply(text)


def differs_by(a: str, b: str) -> tuple[str, ...]:
    """The slips that separate two spellings equal once normalised: the steps without which
    they would still differ.

    Examples
    --------
    >>> from custval._gaps.dyads import differs_by
    >>> differs_by("ACME\\u20131", "ACME-1"), differs_by("00123", "123")
    (('dash',), ('leading zeros',))
    """
    if a == b:
        return ()
    out = tuple(s for s in _STEPS if _apply(a, skip=s)[0] != _apply(b, skip=s)[0])
    return out or tuple(dict.fromkeys((*_apply(a)[1], *_apply(b)[1])))


def row_keys(df: pd.DataFrame, cols) -> list:
    """Per row, the tuple of key texts (``None`` when any key column is missing in the row)."""
    parts = [[key_text(v) for v in df[c].tolist()] for c in cols]
    return [None if any(p is None for p in k) else tuple(k) for k in zip(*parts)]


def near_misses(provider_only, customer_only) -> list[tuple[tuple, tuple, tuple]]:
    """Pairs (provider key, customer key, slips) of unmatched keys equal once normalised."""
    def norm(key):
        return tuple(normalise_key(p)[0] for p in key)

    by_norm: dict = {}
    for k in customer_only:
        by_norm.setdefault(norm(k), []).append(k)
    out = []
    for pk in provider_only:
        for ck in by_norm.get(norm(pk), ()):
            how = tuple(dict.fromkeys(h for a, b in zip(pk, ck) for h in differs_by(a, b)))
            out.append((pk, ck, how))
    return out
