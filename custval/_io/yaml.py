"""YAML loading that remembers where every key came from.

The codebook loader reads YAML with ruamel.yaml's round-trip loader, which
keeps the position of every mapping key and sequence item.  :func:`load_yaml`
returns plain Python data (dicts, lists, scalars) plus a :class:`LineMap` that
answers "on which 1-based line is ``constructs[2].items[0].pair``?".  pydantic
error locations (tuples such as ``("constructs", 2, "items", 0, "pair")``) are
translated into the same key path and line by :meth:`LineMap.locate`.

Limits: YAML aliases are expanded when the data is converted, so a small file
of nested aliases ("billion laughs") could grow without bound; the conversion
stops at :data:`MAX_VALUES` values and :data:`MAX_DEPTH` levels of nesting
and raises :class:`YamlSyntaxError` instead (a codebook needs a few thousand
values and about ten levels).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

__all__ = ["LineMap", "YamlSyntaxError", "format_key", "load_yaml"]

Loc = tuple[Any, ...]

#: most values (mappings, sequences and scalars, aliases counted each time they are used)
MAX_VALUES = 200_000
#: deepest nesting of mappings and sequences
MAX_DEPTH = 64


class YamlSyntaxError(ValueError):
    """The file is not valid YAML; ``line`` is 1-based (``None`` if unknown)."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class DictKey(int):
    """An integer that is a mapping key (a scale code), not a list position."""


def format_key(loc: Iterable[Any]) -> str:
    """``("constructs", 2, "items", 0, "pair")`` -> ``"constructs[2].items[0].pair"``."""
    out = ""
    for part in loc:
        if type(part) is int:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class LineMap:
    """Key path -> 1-based line, plus the plain data to walk pydantic locations.

    ``lines`` maps a location tuple to the line of that key (for a mapping key)
    or of that item (for a sequence item).  The empty tuple is line 1.
    """

    def __init__(self, data: Any, lines: dict[Loc, int], text: str | None = None):
        self.data = data
        self.lines = lines
        self.text = text

    def raw(self, loc: Loc) -> str | None:
        """The value of the scalar key ``loc`` as written in the file (``None`` if unknown).

        Used to keep ``version: 1.10`` as the text ``"1.10"`` (YAML reads it as the number 1.1).
        """
        line = self.lines.get(tuple(loc))
        if self.text is None or line is None or not loc:
            return None
        lines = self.text.splitlines()
        if not 0 < line <= len(lines):
            return None
        m = re.match(rf"\s*{re.escape(str(loc[-1]))}\s*:\s*(.*?)\s*(#.*)?$", lines[line - 1])
        if m is None or not m.group(1) or m.group(1)[0] in "&*!|>'\"[{":
            return None
        return m.group(1)

    def line(self, loc: Loc) -> int | None:
        """Line of ``loc`` or of its nearest enclosing key that has a line."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def resolve(self, loc: Iterable[Any], *, missing_key: bool = False) -> Loc:
        """Keep the parts of a pydantic ``loc`` that exist in the data.

        pydantic inserts tags into locations (union members such as ``"str"``,
        ``"function-after[...]"``, ``"[key]"`` for a dict key); they are dropped
        by walking the actual data.  With ``missing_key`` the last part (the
        name of a required key that is absent) is kept.
        """
        parts = list(loc)
        tail: list[Any] = []
        if missing_key and parts:
            tail = [parts.pop()]
        node = self.data
        out: list[Any] = []
        for part in parts:
            if isinstance(node, dict):
                key = _dict_key(node, part)
                if key is _NOT_FOUND:
                    continue
                out.append(DictKey(key) if type(key) is int else key)
                node = node[key]
            elif isinstance(node, list) and isinstance(part, int) and not isinstance(part, bool):
                if 0 <= part < len(node):
                    out.append(part)
                    node = node[part]
            # scalars: remaining parts are pydantic tags
        return tuple(out + tail)

    def locate(self, loc: Iterable[Any], *, missing_key: bool = False) -> tuple[str, int | None]:
        """(key path, 1-based line) of a pydantic error location."""
        resolved = self.resolve(loc, missing_key=missing_key)
        return format_key(resolved), self.line(resolved[:-1] if missing_key else resolved)


_NOT_FOUND = object()


def _dict_key(node: dict, part: Any) -> Any:
    if part in node:
        return part
    # pydantic reports dict keys as they were validated; YAML may hold 1 or "1"
    for alt in (str(part),) + ((int(part),) if isinstance(part, str) and part.lstrip("-").isdigit() else ()):
        if alt in node:
            return alt
    return _NOT_FOUND


class _Budget:
    """Counts converted values; stops alias bombs and runaway nesting."""

    def __init__(self):
        self.values = 0

    def spend(self, loc: Loc, lines: dict[Loc, int]) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlSyntaxError(
                f"the YAML expands to more than {MAX_VALUES:,} values (aliases such as *name are "
                "copied each time they are used); a codebook needs far fewer, so this file is "
                "refused (check for nested anchors &name / aliases *name)", _line_of(loc[:1], lines))
        if len(loc) > MAX_DEPTH:
            raise YamlSyntaxError(
                f"the YAML is nested more than {MAX_DEPTH} levels deep (a codebook needs about "
                "ten)", _line_of(loc, lines))


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None


def _plain(node: Any, loc: Loc, lines: dict[Loc, int], budget: _Budget | None = None) -> Any:
    """Convert ruamel containers to dict/list, recording line numbers."""
    if budget is None:
        budget = _Budget()
    budget.spend(loc, lines)
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            key_loc = loc + (key,)
            try:
                lines[key_loc] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):  # pragma: no cover - merged keys
                pass
            out[key] = _plain(value, key_loc, lines, budget)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            item_loc = loc + (i,)
            try:
                lines[item_loc] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):  # pragma: no cover
                pass
            out_list.append(_plain(value, item_loc, lines, budget))
        return out_list
    if isinstance(node, str):
        return str(node)  # ruamel scalar string subclasses -> str
    if isinstance(node, (bool, ScalarBoolean)):  # ScalarBoolean (anchored true) is an int
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def load_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Read a YAML file; return (plain data, :class:`LineMap`).

    Raises :class:`YamlSyntaxError` (with the 1-based line) for invalid YAML,
    for YAML that expands to more than :data:`MAX_VALUES` values (alias bombs)
    or is nested more than :data:`MAX_DEPTH` levels, and :class:`OSError` when
    the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8")
    yaml = YAML(typ="rt")
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or str(exc)
        raise YamlSyntaxError(f"invalid YAML: {problem}", line) from exc
    except YAMLError as exc:  # e.g. duplicate keys without a mark
        raise YamlSyntaxError(f"invalid YAML: {exc}", None) from exc
    except RecursionError:
        raise YamlSyntaxError(
            f"the YAML is nested too deeply to read (more than {MAX_DEPTH} levels are refused; "
            "a codebook needs about ten)", None) from None
    lines: dict[Loc, int] = {(): 1}
    data = _plain(node, (), lines)
    return data, LineMap(data, lines, text)
