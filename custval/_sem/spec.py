"""The model and instrument arguments of custval's public functions (private).

Every public function that takes a measurement model (:class:`~custval.cfa.CFA`,
:class:`~custval.pls.PLS`, :func:`~custval.validity.htmt`,
:func:`~custval.validity.cross_loadings`, :func:`~custval.validity.common_method_cfa`,
:func:`~custval.invariance.invariance`) reads it here, and every function that takes an
instrument (the gap functions, ``read_survey``, the questionnaire) loads it here, so that
one model is read one way everywhere and gives the same errors:

* lavaan model syntax: read by the one parser, :mod:`custval._sem.syntax` (comments
  after ``#`` or ``!``, statements split by ``;`` or new lines, a statement continued on the
  next line after a trailing ``+`` or operator, modifiers ``1*x``, ``NA*x``, ``a*x``,
  ``start(.5)*x``, ``c(a, b)*x``);
* an :class:`~custval.Instrument`: its ``model_syntax()``; its reverse keys apply
  (:func:`custval._keys.apply_keys`, once);
* a mapping ``{construct: [items]}``: one ``construct =~ item + item`` line per construct,
  no reverse keys (an ``Instrument.from_dict`` with ``reverse=`` keys them).

:func:`as_syntax` gives the syntax, :func:`measurement_blocks` the ``=~`` part as
``{factor: (indicators, ...)}``, :func:`model_and_data` the syntax with the data to fit
(keyed as the model says), and :func:`as_instrument` an Instrument from an Instrument, a
shipped instrument's name or a codebook path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from .._keys import Keying, apply_keys, is_instrument
from ..exceptions import ModelSyntaxError, SpecificationError
from .syntax import _IDENT, NO_LATENT, parse, split_statements, syntax_error

MODEL_KINDS = "lavaan model syntax ('F =~ x1 + x2 + x3'), an Instrument or a mapping {construct: [items]}"


def _is_name(text) -> bool:
    return isinstance(text, str) and bool(_IDENT.match(text))


def _mapping_syntax(model: Mapping, constructs=None) -> str:
    """``{construct: [items]}`` as lavaan syntax; bad names are a ModelSyntaxError naming them."""
    if not model:
        raise ModelSyntaxError("the model mapping is empty; expected {construct: [items]}, e.g. "
                               "{'visual': ['x1', 'x2', 'x3']}")
    lines = []
    for construct, items in model.items():
        if not _is_name(construct):
            raise ModelSyntaxError(f"construct {construct!r} of the model mapping is not a variable name "
                                   "(letters, digits, '_' and '.', not starting with a digit)")
        if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
            raise ModelSyntaxError(f"construct {construct!r}: expected a list of item names, got {items!r}")
        items = list(items)
        if not items:
            raise ModelSyntaxError(f"construct {construct!r} of the model mapping has no items")
        bad = [i for i in items if not _is_name(i)]
        if bad:
            raise ModelSyntaxError(f"construct {construct!r}: {', '.join(map(repr, bad))} "
                                   f"{'is not a variable name' if len(bad) == 1 else 'are not variable names'}")
        lines.append((construct, f"{construct} =~ {' + '.join(items)}"))
    if constructs is not None:
        wanted = [constructs] if isinstance(constructs, str) else list(constructs)
        own = [c for c, _ in lines]
        bad = [c for c in wanted if c not in own]
        if bad:
            raise SpecificationError(f"construct(s) {', '.join(map(repr, bad))} not in the model; "
                                     f"constructs: {', '.join(own)}")
        lines = [(c, text) for c, text in lines if c in wanted]
    return "\n".join(text for _, text in lines)


def as_syntax(model, constructs=None) -> str:
    """lavaan model syntax of ``model`` (syntax, an Instrument or ``{construct: [items]}``).

    Syntax is returned as given (its line numbers stay those of the caller's text);
    ``constructs`` selects constructs of an Instrument or a mapping.
    """
    if isinstance(model, str):
        if constructs is not None:
            raise SpecificationError("constructs= selects constructs of an Instrument or a mapping, not of syntax")
        return model
    if isinstance(model, Mapping):
        return _mapping_syntax(model, constructs)
    if hasattr(model, "model_syntax"):
        return model.model_syntax() if constructs is None else model.model_syntax(constructs=constructs)
    if isinstance(getattr(model, "constructs", None), Mapping):  # an object with the Instrument's blocks
        return _mapping_syntax(model.constructs, constructs)
    raise SpecificationError(f"the model must be {MODEL_KINDS}; got {type(model).__name__}")


def statements(model) -> list:
    """The parsed statements of ``model`` (:func:`custval._sem.syntax.parse`)."""
    return parse(as_syntax(model))


def measurement_blocks(model) -> dict[str, tuple[str, ...]]:
    """``{factor: (indicators, ...)}`` from the ``=~`` statements of ``model``, in order, modifiers
    dropped.  A model without ``=~`` or an indicator listed twice for a factor is a
    :class:`~custval.exceptions.ModelSyntaxError` (quoting the line, as :class:`~custval.cfa.CFA`)."""
    blocks: dict[str, list[str]] = {}
    for s in statements(model):
        if s.op != "=~":
            continue
        its = blocks.setdefault(s.lhs, [])
        if s.rhs in its:
            raise syntax_error(s.line, s.lineno, f"parameter '{s.lhs} =~ {s.rhs}' is specified twice")
        its.append(s.rhs)
    if not blocks:
        raise ModelSyntaxError(NO_LATENT)
    return {f: tuple(its) for f, its in blocks.items()}


def one_statement_per_line(syntax: str) -> str:
    """``syntax`` with comments stripped and each statement on one line (continuation lines
    joined), for code that rewrites statements."""
    return "\n".join(text for text, _ in split_statements(syntax))


def model_and_data(model, data) -> tuple[str, object, Keying]:
    """The model's syntax, the data to fit and how they are keyed: an Instrument's reverse-keyed
    items enter as ``min + max - x`` of their own scale, once (:func:`custval._keys.apply_keys`);
    syntax and mappings fit the columns as they are."""
    syntax = as_syntax(model)
    if not hasattr(data, "columns"):
        return syntax, data, Keying(None, "none")
    data, keying = apply_keys(data, model)
    return syntax, data, keying


def _looks_like_syntax(text: str) -> bool:
    """Model syntax rather than an instrument's name or a codebook path (``~/x.yaml`` is a path)."""
    return "=~" in text or "\n" in text or bool(re.search(r"[\w.]\s*<?~", text))


def as_instrument(x, *, what: str = "instrument"):
    """An :class:`~custval.Instrument` from an Instrument, a shipped instrument's name or the
    path of a YAML codebook (:func:`custval.codebook.load_instrument`).

    Model syntax or a ``{construct: [items]}`` mapping is a
    :class:`~custval.exceptions.SpecificationError`: it has no scale, answer codes or item pairs.
    """
    if is_instrument(x) or (not isinstance(x, Mapping)
                            and any(hasattr(x, a) for a in ("constructs", "items", "keyed"))):
        return x  # an Instrument, or an object with the part of its interface the caller uses
    if isinstance(x, Path) or (isinstance(x, str) and not _looks_like_syntax(x)):
        from ..codebook import load_instrument

        return load_instrument(x)
    allowed = (f"{what} must be an Instrument, the name of a shipped instrument (custval.list_instruments()) "
               "or the path of a YAML codebook")
    if isinstance(x, (str, Mapping)):
        kind = "model syntax" if isinstance(x, str) else "a mapping {construct: [items]}"
        raise SpecificationError(f"{allowed}; {kind} has no scale, answer codes or provider/customer pairs. "
                                 "Build one with custval.Instrument.from_dict(...) or a codebook")
    raise SpecificationError(f"{allowed}; got {type(x).__name__}")
