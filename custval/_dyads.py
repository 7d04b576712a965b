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

__all__ = ["key_text", "normalise_key", "near_misses", "row_keys"]

#: hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar, minus sign,
#: small and full-width hyphen-minus: all read as "-" when looking for near-misses
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_SPACE = re.compile(r"\s+")  # str patterns match Unicode whitespace, NBSP (U+00A0) included


def key_text(v) -> str | None:
    """The text of one key value; ``None`` when missing.  A whole number gives its digits."""
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
    return str(v)


def normalise_key(text: str) -> tuple[str, tuple[str, ...]]:
    """The key with the usual export slips undone, and which slips that were.

    Steps: Unicode NFC composition ("Unicode composition"); dash and minus variants -> ``-`` ("dash"); every run of whitespace (NBSP too) -> one
    space, ends stripped ("whitespace"); case folded ("case"); a key of digits only loses its
    leading zeros ("leading zeros").

    Examples
    --------
    >>> from custval._dyads import normalise_key
    >>> normalise_key("\\u00a0Acme\\u2013Oy ")
    ('acme-oy', ('dash', 'whitespace', 'case'))
    >>> normalise_key("000123")
    ('123', ('leading zeros',))
    """
    how = []
    u = unicodedata.normalize("NFC", text)
    if u != text:
        how.append("Unicode composition")
    t = u.translate(_DASHES)
    if t != u:
        how.append("dash")
    s = _SPACE.sub(" ", t).strip()
    if s != t:
        how.append("whitespace")
    c = s.casefold()
    if c != s:
        how.append("case")
    if c.isdigit() and c.isascii() and len(c) > 1 and c.startswith("0"):
        c = c.lstrip("0") or "0"
        how.append("leading zeros")
    return c, tuple(how)


def row_keys(df: pd.DataFrame, cols) -> list:
    """Per row, the tuple of key texts (``None`` when any key column is missing in the row)."""
    parts = [[key_text(v) for v in df[c].tolist()] for c in cols]
    return [None if any(p is None for p in k) else tuple(k) for k in zip(*parts)]


def near_misses(provider_only, customer_only) -> list[tuple[tuple, tuple, tuple]]:
    """Pairs (provider key, customer key, slips) of unmatched keys equal once normalised."""
    def norm(key):
        parts = [normalise_key(p) for p in key]
        return tuple(p[0] for p in parts), tuple(dict.fromkeys(h for p in parts for h in p[1]))

    by_norm: dict = {}
    for k in customer_only:
        by_norm.setdefault(norm(k)[0], []).append(k)
    out = []
    for pk in provider_only:
        npk, how_p = norm(pk)
        for ck in by_norm.get(npk, ()):
            how_c = norm(ck)[1]
            how = tuple(dict.fromkeys((*how_p, *how_c)))
            out.append((pk, ck, how))
    return out
