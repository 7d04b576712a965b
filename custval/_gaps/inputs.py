"""Input checks and provider-customer row matching shared by the gap functions (private):
:mod:`custval.gaps` and :mod:`custval._gaps.latent` (``latent_perception_gap``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._keys import KEYED_ATTR, keyed_marker
from ..exceptions import CodebookError, DataValidationError, SpecificationError


def simulated_input(*frames) -> bool:
    """True when any input frame is labelled simulated (``attrs["custval"]["simulated"]``, as
    :func:`custval.simulate.case_study` labels its exports); results carry the label on."""
    return any(bool((getattr(df, "attrs", {}) or {}).get("custval", {}).get("simulated", False)) for df in frames)


def _check_columns(df: pd.DataFrame, cols, side: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{side} data must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataValidationError(f"{side} data lacks column(s) {missing}",
                                  problems=[{"rule": "missing_column", "column": c, "rows": [],
                                             "row_counting": "data row", "values": [], "n": 0,
                                             "allowed": "a column of this name"} for c in missing])


def _bare(df: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without attrs (pandas deep-copies attrs on every column access), except
    the small keying record of ``Instrument.keyed`` (items keyed already are not keyed again)."""
    mark = keyed_marker(df)
    out = df.copy(deep=False)
    out.attrs = {}
    if mark is not None:
        out.attrs[KEYED_ATTR] = {"instrument": mark["instrument"], "items": list(mark["items"])}
    return out


def _version(df: pd.DataFrame):
    info = df.attrs.get("custval", {}) if isinstance(df.attrs, dict) else {}
    inst = info.get("instrument") if isinstance(info, dict) else None
    if isinstance(inst, dict):
        return inst.get("name"), str(inst.get("version"))
    return None


def _check_versions(inst, **frames) -> None:
    seen = {side: _version(df) for side, df in frames.items() if _version(df) is not None}
    want = (inst.name, str(inst.version))
    bad = {side: v for side, v in seen.items() if v != want}
    if bad:
        raise CodebookError(
            "forms from different instrument versions: "
            + "; ".join(f"{side} data was read with {v[0]} version {v[1]}" for side, v in bad.items())
            + f"; the instrument given is {want[0]} version {want[1]}. Re-read the data with the matching "
            "codebook version.")


_HIDDEN = "<personal data, not shown>"


def _personal_key_columns(frames, cols) -> set:
    """Key columns that look like personal data: flagged by read_survey (``attrs``) or by
    custval's personal-data rules on the column itself."""
    from .._io.pii import detect_personal_columns

    out = set()
    for df in frames:
        info = (getattr(df, "attrs", {}) or {}).get("custval", {})
        for p in (info.get("personal_data_columns") or []) if isinstance(info, dict) else []:
            if isinstance(p, dict) and p.get("column") in cols:
                out.add(p["column"])
        out |= {p["column"] for p in detect_personal_columns(_bare(df[list(cols)]))}
    return out


def _source_path(df) -> str | None:
    """The file a frame was read from (custval.read_survey provenance), if known."""
    info = (getattr(df, "attrs", {}) or {}).get("custval", {})
    src = info.get("source") if isinstance(info, dict) else None
    return str(src["path"]) if isinstance(src, dict) and src.get("path") else None


def _match_dyads(provider, customer, match, strict, who: str = "perception_gap"):
    """Exact matching of the provider and customer rows by their key columns.

    Returns ``(p_use, c_use, p_keys, c_keys, excluded, near, personal, n_excluded, files)``:
    boolean arrays of the rows in exactly matched units, the key text tuples per row, the
    excluded rows (one record per side, key and reason, with the 1-based data rows), the
    near-misses (DataFrame), the key columns that look like personal data, ``{side: {reason:
    rows}}`` and the label of each side's file.  ``strict`` raises on any unmatched key or row
    without a key.
    """
    from .dyads import key_text, near_misses, row_keys

    key_cols = ["firm", "account"] if match == "account" else ["firm"]
    unit = key_cols[-1]
    paths = {side: _source_path(df) for side, df in (("provider", provider), ("customer", customer))}
    files = {side: side + (f" ({Path(p).name})" if p else "") for side, p in paths.items()}
    pk, ck = row_keys(provider, key_cols), row_keys(customer, key_cols)
    pset, cset = {k for k in pk if k is not None}, {k for k in ck if k is not None}
    matched = pset & cset
    p_only, c_only = sorted(pset - cset), sorted(cset - pset)
    c_firms, p_firms = {k[0] for k in cset}, {k[0] for k in pset}
    near = near_misses(p_only, c_only)
    # key values are shown only for unmatched keys: check for personal data only then
    unmatched = bool(p_only or c_only) or None in pk or None in ck
    personal = _personal_key_columns((provider, customer), key_cols) if unmatched else set()

    def show(col, key_value):
        return _HIDDEN if col in personal else key_value

    groups: dict = {}
    for side, keys, df, other_firms in (("provider", pk, provider, c_firms), ("customer", ck, customer, p_firms)):
        raw = {c: df[c].tolist() for c in key_cols}
        for i, k in enumerate(keys):
            if k is not None and k in matched:
                continue
            if k is None:
                absent = [c for c in key_cols if key_text(raw[c][i]) is None]
                reason = f"no {' and no '.join(absent)} in the row"
                disp = {c: (None if c in absent else show(c, raw[c][i])) for c in key_cols}
                gkey = (side, reason, tuple(absent))
            elif side == "provider":
                if k[0] not in other_firms:
                    reason, disp = "no customer responses for this firm", {"firm": show("firm", raw["firm"][i])}
                    if match == "account":
                        disp["account"] = None
                    gkey = (side, reason, k[:1])
                else:
                    reason = "provider account without customer responses"
                    disp = {c: show(c, raw[c][i]) for c in key_cols}
                    gkey = (side, reason, k)
            else:
                if match == "account" and k[0] in other_firms:
                    reason = "customer account matches no provider account of its firm"
                else:
                    reason = "customer firm matches no provider firm"
                disp = {c: show(c, raw[c][i]) for c in key_cols}
                gkey = (side, reason, k)
            g = groups.setdefault(gkey, {"side": side, **{c: disp.get(c) for c in key_cols},
                                         "n_rows": 0, "reason": reason, "rows": []})
            g["n_rows"] += 1
            g["rows"].append(i + 1)
    excluded = list(groups.values())
    n_rows = {"provider": {}, "customer": {}}
    for g in excluded:
        n_rows[g["side"]][g["reason"]] = n_rows[g["side"]].get(g["reason"], 0) + g["n_rows"]
    near_rows = []
    for pkey, ckey, how in near:
        rec = {}
        for j, c in enumerate(key_cols):
            rec[f"{c}_provider"] = _HIDDEN if c in personal else pkey[j]
            rec[f"{c}_customer"] = _HIDDEN if c in personal else ckey[j]
        rec.update(differs_by=", ".join(how), provider_rows=sum(k == pkey for k in pk),
                   customer_rows=sum(k == ckey for k in ck))
        near_rows.append(rec)
    near_df = pd.DataFrame(near_rows, columns=[*(f"{c}_{s}" for c in key_cols for s in ("provider", "customer")),
                                               "differs_by", "provider_rows", "customer_rows"])
    p_use = np.array([k is not None and k in matched for k in pk], dtype=bool)
    c_use = np.array([k is not None and k in matched for k in ck], dtype=bool)
    if strict and excluded:
        order = {"customer": 0, "provider": 1}
        excluded_sorted = sorted(excluded, key=lambda g: order[g["side"]])
        lines, problems = [], []
        for g in excluded_sorted:
            what = (", ".join(f"{c} {g[c]!r}" for c in key_cols if g.get(c) is not None) or "(no key)")
            lines.append(f"  {files[g['side']]}: {what}: {g['reason']} ({g['n_rows']} row(s), data rows "
                         f"{g['rows'][:10]})")
            problems.append({"rule": "missing_key" if g["reason"].endswith("in the row") else "unmatched_key",
                             "column": unit, "side": g["side"], "path": paths[g["side"]], "rows": g["rows"],
                             "row_counting": "data row",
                             "values": [] if personal else [g.get(c) for c in key_cols], "n": g["n_rows"],
                             "allowed": f"a {'/'.join(key_cols)} key present in both the provider and the customer data"})
        if near_rows:
            lines.append("  near-misses (equal once case, spaces, leading zeros or dashes are ignored; not "
                         "matched automatically):")
            lines += [f"    {_near_text(r, key_cols)}" for r in near_rows]
        raise DataValidationError(
            f"{who}(strict=True): {sum(g['n_rows'] for g in excluded)} row(s) whose "
            f"{'/'.join(key_cols)} key has no exact partner in the other file"
            + (f" (column(s) {sorted(personal)} look like personal data: values not shown)" if personal else "")
            + ":\n" + "\n".join(lines)
            + "\nFix the key codes in the files, or call with strict=False to analyse the exactly matched "
            "pairs and report the rest.", problems=problems)
    return p_use, c_use, pk, ck, excluded, near_df, personal, n_rows, files


def _near_text(rec: dict, key_cols) -> str:
    prov = "/".join(repr(rec[f"{c}_provider"]) if rec[f"{c}_provider"] != _HIDDEN else _HIDDEN for c in key_cols)
    cust = "/".join(repr(rec[f"{c}_customer"]) if rec[f"{c}_customer"] != _HIDDEN else _HIDDEN for c in key_cols)
    return (f"provider {prov} vs customer {cust} (differs by {rec['differs_by']}; "
            f"{rec['provider_rows']} and {rec['customer_rows']} row(s))")


def _exclusion_message(excluded: pd.DataFrame, near: pd.DataFrame, key_cols, personal, files,
                       who: str = "perception_gap") -> str:
    """One message for the rows left out of a perception gap and the near-miss keys."""
    parts = []
    for (side, reason), g in excluded.groupby(["side", "reason"], sort=False):
        n = int(g["n_rows"].sum())
        if reason == "no answer on any paired item" or reason.startswith("no firm") or reason.startswith("no account"):
            parts.append(f"{files[side]}: {n} row(s) with {reason} (data rows {sum(g['rows'], [])[:10]})")
            continue
        cols = [c for c in key_cols if g[c].notna().any()]
        keys = [" ".join(f"{c} {getattr(r, c)!r}" for c in cols) for r in g.itertuples()]
        shown = (f"{len(keys)} key(s) (column(s) {sorted(personal)} look like personal data: values not shown)"
                 if personal else "; ".join(f"{k} ({r} row(s))" for k, r in zip(keys[:10], g["n_rows"]))
                 + (f"; ... {len(keys) - 10} more" if len(keys) > 10 else ""))
        parts.append(f"{files[side]}: {n} row(s), {reason}: {shown}")
    msg = f"{who}: rows left out (exact key matches only): " + " | ".join(parts) if parts else \
        f"{who}: every key matched"
    if len(near):
        if personal:
            msg += (f". {len(near)} near-miss key pair(s) (equal once case, spaces, leading zeros or dashes "
                    "are ignored; values not shown: personal data); not matched automatically")
        else:
            msg += (". Near-misses, not matched automatically (fix the key codes if they are the same unit): "
                    + "; ".join(_near_text(r, key_cols) for r in near.to_dict("records")[:10]))
    return msg + ". strict=True makes any unmatched key an error."


def _paired_items(inst, constructs) -> tuple[pd.DataFrame, list | None]:
    """The instrument's provider/customer item pairs and the constructs asked for
    (a list, or None for all), checked: the instrument has pairs, each construct has some."""
    pairs = inst.pairs()
    if pairs.empty:
        raise SpecificationError(f"instrument {inst.name!r} has no paired provider/customer items")
    if constructs is not None:
        constructs = list(constructs)
        unknown = [c for c in constructs if c not in set(pairs["construct"])]
        if unknown:
            raise SpecificationError(f"constructs {unknown} have no paired items; allowed: "
                                     f"{', '.join(dict.fromkeys(pairs['construct']))}")
    return pairs, constructs


# --------------------------------------------------------------------------- the instrument argument
class MirrorForms:
    """Provider and customer forms that ask the same items under the same column names.

    Built from model syntax or a ``{construct: [items]}`` mapping given to a gap function with
    ``scale=``: each item is its own twin (``pairs()`` lists it on both sides), and both forms
    are the one instrument the model describes.  Everything else is the wrapped
    :class:`~custval.Instrument`'s.
    """

    perspective = None

    def __init__(self, instrument) -> None:
        self._instrument = instrument

    def __getattr__(self, name):
        return getattr(self._instrument, name)

    def __repr__(self) -> str:
        return f"MirrorForms({self._instrument!r})"

    def form(self, perspective: str):
        if perspective not in ("provider", "customer"):
            raise SpecificationError(f"the forms are 'provider' and 'customer'; got {perspective!r}")
        return self._instrument

    def pairs(self) -> pd.DataFrame:
        rows = [(c, it, it) for c, its in self._instrument.constructs.items() for it in its]
        return pd.DataFrame(rows, columns=["construct", "provider_item", "customer_item"])


def gap_instrument(instrument, *, scale=None):
    """The instrument of a gap analysis, from any of the model arguments custval accepts.

    * an :class:`~custval.Instrument`, a shipped instrument's name or a codebook path: as given
      (``scale=`` must then be ``None``: the codebook carries the scales);
    * ``{construct: {"provider": [...], "customer": [...]}}`` with ``scale=(min, max)``: the two
      forms, twins paired by position (:meth:`custval.Instrument.from_dict`);
    * lavaan syntax (continuation lines, comments and modifiers as everywhere) or
      ``{construct: [items]}`` with ``scale=(min, max)``: the same items under the same column
      names in the provider and customer data (:class:`MirrorForms`).  Items enter as coded:
      syntax says nothing of reverse keys, so key such items first or use an Instrument.
    """
    from .._sem.spec import _looks_like_syntax, as_instrument, measurement_blocks

    is_model = isinstance(instrument, Mapping) or (isinstance(instrument, str) and _looks_like_syntax(instrument))
    if not is_model:
        if scale is not None:
            raise SpecificationError(
                "scale= is for a model given as syntax or a mapping; an Instrument or codebook carries its "
                f"own scales (got scale={scale!r})")
        return as_instrument(instrument)
    if scale is None:
        kind = "model syntax" if isinstance(instrument, str) else "a mapping"
        raise SpecificationError(
            f"{kind} says which items measure which construct, not the response scale the gap analysis checks "
            "and keys them on: pass scale=(min, max), e.g. scale=(1, 7), or give an Instrument or codebook")
    from ..codebook import Instrument

    if isinstance(instrument, Mapping) and any(isinstance(v, Mapping) for v in instrument.values()):
        try:
            return Instrument.from_dict(instrument, scale=scale, name="custom")
        except CodebookError as err:
            raise SpecificationError(f"the forms mapping: {err}") from None
    blocks = measurement_blocks(instrument)
    try:
        inst = Instrument.from_dict({c: list(its) for c, its in blocks.items()}, scale=scale, name="custom")
    except CodebookError as err:
        raise SpecificationError(f"the model: {err}") from None
    return MirrorForms(inst)
