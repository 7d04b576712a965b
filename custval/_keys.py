"""Reverse keying for the models: which items enter a fit reverse-keyed, and checks of it.

One rule for every estimator that takes an instrument as its model (CFA, PLS,
HTMT, cross-loadings, invariance, the gap functions): the items the instrument
declares reverse-keyed enter as ``min + max - x of its own scale`` (:meth:`Instrument.keyed
<custval.Instrument.keyed>`), exactly once.  A frame returned by
``Instrument.keyed`` carries a record of the items it recoded in
``df.attrs["custval_keyed"]`` (``{"instrument": name, "items": [...]}``); such a frame is
not keyed again.

:func:`apply_keys` returns the data to fit and a :class:`Keying` record;
:func:`opposite_loadings` / :func:`warn_opposite` find the items that load
against the other indicators of their factor (the signature of a reverse-worded
item that was not reverse-keyed, or of one keyed twice) and raise a
:class:`~custval.exceptions.ReverseKeyWarning` naming them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .exceptions import ReverseKeyWarning

KEYED_ATTR = "custval_keyed"

#: an item loads "against" its factor when its standardized loading has the opposite sign of
#: the factor's other indicators and is at least this large in absolute value
MIN_ABS_LOADING = 0.2


def is_instrument(obj) -> bool:
    """True for an :class:`~custval.Instrument` (or an object with its keying interface)."""
    return all(hasattr(obj, a) for a in ("reverse_items", "keyed", "constructs", "model_syntax"))


def declared_on_reading(data) -> tuple[str | None, tuple[str, ...]]:
    """(instrument, items it declares reverse-keyed) from the provenance of ``read_survey``.

    ``read_survey`` records the codebook's reverse keys without applying them; a frame
    without that record gives ``(None, ())``.
    """
    attrs = getattr(data, "attrs", None) or {}
    rec = (attrs.get("custval") or {}).get("instrument") if isinstance(attrs, Mapping) else None
    if not isinstance(rec, Mapping) or not rec.get("reverse_items"):
        return None, ()
    return rec.get("name"), tuple(rec["reverse_items"])


def keyed_marker(data) -> dict | None:
    """The keying record of a frame returned by ``Instrument.keyed`` (``None`` when it has none)."""
    attrs = getattr(data, "attrs", None) or {}
    mark = attrs.get(KEYED_ATTR)
    if isinstance(mark, Mapping) and "items" in mark:
        return {"instrument": mark.get("instrument"), "items": tuple(mark["items"])}
    return None


def mark_keyed(out: pd.DataFrame, before, instrument: str, recoded: Iterable[str]) -> None:
    """Record in ``out.attrs`` that ``recoded`` were reverse-keyed (in place).

    Keying is its own inverse, so an item recoded in a frame that was already keyed
    is no longer keyed: the record is the symmetric difference with the input's record.
    """
    prev = keyed_marker(before)
    items = set(recoded) ^ set(prev["items"] if prev else ())
    out.attrs = dict(out.attrs)
    if items:
        out.attrs[KEYED_ATTR] = {"instrument": instrument, "items": sorted(items)}
    else:
        out.attrs.pop(KEYED_ATTR, None)


@dataclasses.dataclass(frozen=True)
class Keying:
    """How the reverse-keyed items entered a fit.

    ``instrument``: name of the instrument whose keys apply (``None`` for model syntax).
    ``source``: ``"model"`` (keyed by the estimator from the instrument), ``"data"``
    (the frame came from ``Instrument.keyed``), or ``"none"`` (model syntax on a frame
    without a keying record: unknown whether reverse-worded items were keyed).
    ``reversed``: items entered as ``min + max - x of its own scale``.
    ``declared``: items the instrument declares reverse-keyed.
    """

    instrument: str | None
    source: str
    reversed: tuple[str, ...] = ()
    declared: tuple[str, ...] = ()

    def restrict(self, items: Iterable[str]) -> Keying:
        keep = set(items)
        return dataclasses.replace(self, reversed=tuple(i for i in self.reversed if i in keep),
                                   declared=tuple(i for i in self.declared if i in keep))

    def note(self) -> str:
        """One line for a summary."""
        rev = ", ".join(self.reversed) or "none"
        if self.source == "model":
            return f"reverse-keyed from instrument {self.instrument!r} (min + max - x of its own scale): {rev}"
        if self.source == "data":
            return f"data reverse-keyed before fitting (Instrument.keyed, {self.instrument!r}): {rev}"
        read = (f"; the data were read with instrument {self.instrument!r}, which declares "
                f"{', '.join(self.declared)} reverse-keyed" if self.declared else "")
        return ("model syntax on data without a keying record: reverse-worded items enter as they are "
                f"(pass the Instrument as the model to apply its reverse keys){read}")


def apply_keys(data, model) -> tuple[pd.DataFrame, Keying]:
    """The data to fit and how they are keyed.

    ``model`` an Instrument: its reverse items are keyed with ``Instrument.keyed``,
    unless ``data`` carries the record of ``Instrument.keyed`` (already keyed; declared
    items missing from that record are keyed now).  Otherwise ``data`` is returned
    unchanged, with its record if it has one.
    """
    mark = keyed_marker(data)
    if not is_instrument(model):
        if mark is None:  # data read with a codebook say which items it declares reverse-keyed
            name, declared = declared_on_reading(data)
            return data, Keying(name, "none", declared=declared)
        return data, Keying(mark["instrument"], "data", reversed=tuple(mark["items"]))
    name = getattr(model, "name", None)
    declared = tuple(i for i in model.items if i in model.reverse_items) if hasattr(model, "items") \
        else tuple(sorted(model.reverse_items))
    present = tuple(i for i in declared if i in getattr(data, "columns", ()))
    out = keyed_once(data, model)
    if mark is None:
        return out, Keying(name, "model", reversed=present, declared=declared)
    todo = [i for i in present if i not in set(mark["items"])]
    rev = tuple(i for i in present) + tuple(i for i in mark["items"] if i not in present)
    return out, Keying(name, "data" if not todo else "model", reversed=rev, declared=declared)


def keyed_once(data, instrument):
    """``instrument.keyed(data)``, except for items ``data`` records as keyed already.

    ``Instrument.keyed`` is its own inverse (keying a keyed frame gives back the
    answers); an analysis that keys its input must not undo keys a caller applied, so
    the items in the frame's keying record are left as they are and the others keyed.
    """
    mark = keyed_marker(data)
    if mark is None:
        return instrument.keyed(data)
    done = set(mark["items"])
    todo = [i for i in data.columns if i in instrument.reverse_items and i not in done]
    if not todo:
        return data
    out = instrument.keyed(data)
    for c in data.columns:  # restore the columns that were keyed already
        if c in done and c in instrument.reverse_items:
            out[c] = data[c]
    mark_keyed(out, None, getattr(instrument, "name", None), sorted(done | set(todo)))
    return out


def opposite_loadings(loadings: pd.DataFrame, *, declared: Iterable[str] = ()) -> dict[str, list]:
    """Items whose loading has the opposite sign of their factor's other indicators.

    ``loadings``: items x factors (standardized; 0 where an item does not load).  Only
    items loading on one factor count (a cross-loading, method or general factor has
    no reference direction).  The factor's direction is the sign of the sum of the
    loadings of its items that are not in ``declared`` (all its items when every one is
    declared); an item against it with ``|loading| >= MIN_ABS_LOADING`` is returned as
    ``{factor: [(item, loading), ...]}``.  Factors with fewer than three such items are
    skipped.
    """
    declared = set(declared)
    lam = loadings.fillna(0.0)
    # plain arrays: label lookups (lam.at) cost milliseconds per fitted model
    values = lam.to_numpy(dtype=float)
    items = list(lam.index)
    single = np.flatnonzero((np.abs(values) > 1e-12).sum(axis=1) == 1)
    out: dict[str, list] = {}
    for col, f in enumerate(lam.columns):
        own = [r for r in single if abs(values[r, col]) > 1e-12]
        if len(own) < 3:
            continue
        ref_items = [r for r in own if items[r] not in declared] or own
        direction = np.sign(sum(values[r, col] for r in ref_items))
        if direction == 0:
            continue
        bad = [(items[r], float(values[r, col])) for r in own
               if np.sign(values[r, col]) == -direction and abs(values[r, col]) >= MIN_ABS_LOADING]
        if bad:
            out[str(f)] = bad
    return out


def _listing(found: dict[str, list]) -> str:
    return "; ".join(f"{f}: " + ", ".join(f"{i} ({v:+.2f})" for i, v in its) for f, its in found.items())


def warn_opposite(loadings: pd.DataFrame, keying: Keying, what: str, *, stacklevel: int = 3,
                  warn: bool = True) -> str | None:
    """Warn (ReverseKeyWarning) about items that load against their factor; returns the message.

    With an instrument, declared reverse items that still load against their factor
    after keying point to data keyed twice (or a wrongly declared key); without one,
    any item against its factor points to a reverse-worded item that was not keyed.
    ``warn=False`` only returns the message.
    """
    found = opposite_loadings(loadings, declared=keying.declared)
    if not found:
        return None
    items = [i for its in found.values() for i, _ in its]
    unkeyed = [i for i in items if i in keying.declared]
    if keying.source == "none" and keying.declared:
        if not unkeyed:
            return None  # items the codebook does not declare reverse-keyed: ItemKeyingWarning's business
        msg = (
            f"{what}: item(s) {', '.join(unkeyed)}, which instrument {keying.instrument!r} (the codebook "
            f"the data were read with) declares reverse-keyed, were fitted as answered and load against "
            f"the other indicators of their factor ({_listing(found)}): their composite reliability, "
            "AVE and HTMT are wrong until they are keyed. Pass the Instrument as the model (e.g. "
            "CFA(inst).fit(df)) or fit inst.keyed(df)"
        )
    elif keying.instrument is not None and keying.source in ("model", "data"):
        keyed_twice = [i for i in items if i in keying.reversed]
        if not keyed_twice:
            return None  # items the instrument does not declare reverse-keyed: ItemKeyingWarning's business
        msg = (
            f"{what}: item(s) {', '.join(keyed_twice)}, declared reverse-keyed by instrument "
            f"{keying.instrument!r} and entered as min + max - x of its own scale, load against the other "
            f"indicators of their factor ({_listing(found)}). Were the data reverse-keyed before "
            "(keyed twice)? Pass the raw answers with the Instrument as the model, or inst.keyed(df) "
            "with model syntax, not both"
        )
    else:
        msg = (
            f"{what}: item(s) {', '.join(items)} load against the other indicators of their factor "
            f"({_listing(found)}): reverse-worded items that were not reverse-keyed? Their composite "
            "reliability, AVE and HTMT are wrong until they are keyed. Pass the Instrument as the model "
            "(e.g. CFA(inst).fit(df)) or fit inst.keyed(df); if the negative loadings are intended, "
            "ignore this ReverseKeyWarning"
        )
    if warn:
        warnings.warn(msg, ReverseKeyWarning, stacklevel=stacklevel)
    return msg


def fit_reversed(fit, declared: Iterable[str] = ()) -> tuple[set[str] | None, set[str]]:
    """What a fitted model knows about its keying: (keyed items or None if unknown, items
    found loading against their factor among ``declared``)."""
    keying = getattr(fit, "keying_", None)
    known = set(keying.reversed) if keying is not None and keying.source != "none" else None
    against: set[str] = set()
    lams = fit._std_loadings() if hasattr(fit, "_std_loadings") else []
    for lam in lams[:1]:
        found = opposite_loadings(lam, declared=declared)
        against = {i for its in found.values() for i, _ in its if i in set(declared)}
    return known, against


def check_fit_keying(fit, instrument, keyed_frame, what: str, *, stacklevel: int = 3,
                     consequence: str = "would describe other items and are not reported",
                     ) -> tuple[list, str | None]:
    """Do a fitted CFA and statistics computed on ``keyed_frame`` use the same reverse keys?

    ``keyed_frame`` is the frame the other statistics used (its ``Instrument.keyed``
    record tells which items were recoded; without one, or with ``None``, the
    instrument's reverse items).  Returns ``(factors affected, message)`` and warns
    (:class:`~custval.exceptions.ReverseKeyWarning`) on a mismatch; ``([], None)`` when
    they agree or nothing can be told.
    """
    items = list(getattr(fit, "observed_", []) or [])
    if not items or not hasattr(instrument, "reverse_items"):
        return [], None
    mark = keyed_marker(keyed_frame)
    stat_keyed = set(mark["items"]) if mark is not None else set(instrument.reverse_items)
    declared = [i for i in items if i in instrument.reverse_items]
    known, against = fit_reversed(fit, declared)
    if known is not None:
        differ = sorted((set(known) ^ stat_keyed) & set(items))
        how = "the CFA was fitted with {} reverse-keyed".format(", ".join(sorted(known & set(items))) or "no item")
    else:
        differ = sorted(i for i in against if i in stat_keyed)
        how = ("the CFA was fitted on data without a keying record, where these items load against "
               "their factor (not reverse-keyed)")
    if not differ:
        return [], None
    pe = fit.params_
    loads = pe[(pe["op"] == "=~") & pe["rhs"].isin(differ)]
    affected = list(dict.fromkeys(loads["lhs"]))
    msg = (
        f"{what}: item(s) {', '.join(differ)} are keyed differently in the CFA and in instrument "
        f"{getattr(instrument, 'name', '')!r} ({how}; the instrument's keys, used by the other statistics: "
        f"{', '.join(sorted(stat_keyed & set(items))) or 'none'}): composite reliability and AVE of "
        f"{', '.join(affected) or 'these factors'} {consequence}. "
        "Refit with the Instrument as the model, e.g. CFA(inst).fit(df)"
    )
    warnings.warn(msg, ReverseKeyWarning, stacklevel=stacklevel)
    return affected, msg
