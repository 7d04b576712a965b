"""Instrument codebooks: constructs, items, keying, scale, languages.

An :class:`Instrument` is the machine-readable codebook of a survey
instrument: which items measure which construct, the item wording in each
language, which items are reverse-keyed, the response scale and the codes
that mean "missing" or "don't know".  Instruments are immutable.  They come
from a YAML codebook (:func:`load_instrument`; the format is documented in
``custval/instruments/README.md``) or from a plain mapping
(:meth:`Instrument.from_dict`).

Shipped instruments: ``bfi`` (25 IPIP Big-Five items of psychTools::bfi),
``ecsi`` (the ECSI mobile-phone survey, data ``mobi``), ``corp_rep`` (the
corporate-reputation survey of Hair et al.) and ``cwi`` (Customer Wisdom
Instrument); :func:`list_instruments` lists them.

Examples
--------
>>> import custval
>>> bfi = custval.load_instrument("bfi")
>>> bfi
<Instrument bfi 1.0: 5 constructs, 25 items (7 reverse-keyed), scale 1..6, languages en, fi>
>>> bfi.constructs["A"]
('A1', 'A2', 'A3', 'A4', 'A5')
>>> sorted(bfi.reverse_items)
['A1', 'C4', 'C5', 'E1', 'E2', 'O2', 'O5']
>>> print(bfi.model_syntax(constructs=["A", "C"]))
A =~ A1 + A2 + A3 + A4 + A5
C =~ C1 + C2 + C3 + C4 + C5
>>> # In R: psych::make.keys(psychTools::bfi, psychTools::bfi.keys) and
>>> # lavaan syntax 'A =~ A1 + A2 + A3 + A4 + A5'
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ._io import codebook_schema as schema
from ._io.paths import INSTRUMENTS_DIR
from ._io.yaml import LineMap, YamlSyntaxError, format_key, load_yaml
from .exceptions import CodebookError, DatasetNotFoundError, SpecificationError

__all__ = ["Construct", "Instrument", "Item", "Scale", "Variable", "list_instruments", "load_instrument"]


# --------------------------------------------------------------------------- helpers
class FrozenMap(Mapping):
    """A read-only, hashable mapping (keeps insertion order).

    See Also
    --------
    custval.codebook.Instrument : Uses it for its read-only mappings.
    """

    __slots__ = ("_d", "_h")

    def __init__(self, data: Mapping | Iterable = ()):
        self._d = dict(data)
        self._h = None

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self) -> Iterator:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(tuple(self._d.items()))
        return self._h

    def __eq__(self, other) -> bool:
        if isinstance(other, Mapping):
            return dict(self._d) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._d)


def _num(value):
    """Integral floats become ints so that scale codes print as 1..7, not 1.0..7.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------- records
@dataclasses.dataclass(frozen=True)
class Scale:
    """A response scale: ``min``, ``max`` and the labels of its codes per language.

    Reverse keying on this scale maps ``x`` to ``min + max - x`` (:meth:`reverse`).

    Attributes
    ----------
    min, max : int or float
        The lowest and highest code.
    labels : mapping of str to mapping of int to str
        Language -> {code: label}; empty when the codebook gives no labels.

    See Also
    --------
    custval.codebook.Item : The items answered on a scale.

    Examples
    --------
    >>> from custval.codebook import Scale
    >>> s = Scale(1, 5)
    >>> str(s), s.reverse(2), s.codes
    ('1..5', 4, (1, 2, 3, 4, 5))
    """

    min: int | float
    max: int | float
    labels: Mapping[str, Mapping[int, str]] = dataclasses.field(default_factory=lambda: FrozenMap())

    def reverse(self, x):
        """``min + max - x`` (works on numbers, numpy arrays and pandas objects; NaN stays NaN).

        Parameters
        ----------
        x : float, ndarray, Series or DataFrame
            Answers on this scale.

        Returns
        -------
        same type as ``x``
            The reversed answers.

        See Also
        --------
        custval.scoring.key_codes : The reverse keying of a numeric array.
        """
        return self.min + self.max - x

    @property
    def codes(self) -> tuple:
        """The whole-number codes ``min, min + 1, ..., max``.

        See Also
        --------
        custval.codebook.Scale.reverse : Reverse a code.
        """
        return tuple(range(int(self.min), int(self.max) + 1))

    def __str__(self) -> str:
        return f"{self.min}..{self.max}"


@dataclasses.dataclass(frozen=True)
class Item:
    """One survey item.

    Attributes
    ----------
    id : str
        The item id (= its data column).
    construct : str
        The id of its construct.
    text : mapping of str to str
        Language code -> item wording.
    reverse : bool
        The item is reverse-keyed.
    perspective : str or None
        ``"provider"`` or ``"customer"`` for instruments with two forms, else ``None``.
    pair : str or None
        The id of the twin item in the other form.
    scale : Scale or None
        The item's response scale (its own ``scale:``, else its construct's, else the
        instrument's; ``None`` only for an Item built by hand, which then uses the
        instrument's scale).
    facet : str or None
        The content facet (sub-domain) of its construct the item covers (``facet:`` in
        the codebook), e.g. ``"speed"`` or ``"empathy"``; :func:`custval.short_form`
        keeps facets covered.  ``None`` when the codebook gives none.
    content_validity : mapping or None
        An expert panel's verdict from the codebook's optional ``content_validity:`` field
        (``verdict`` ``"keep"``/``"drop"``, and ``kind``, ``n_raters``, ``i_cvi`` or ``cvr``
        when given; see :meth:`custval.content.ContentValidityResult.to_codebook`), else ``None``.

    See Also
    --------
    custval.codebook.Construct : The construct an item belongs to.
    custval.codebook.Scale : The item's response scale.
    """

    id: str
    construct: str
    text: Mapping[str, str]
    reverse: bool = False
    perspective: str | None = None
    pair: str | None = None
    scale: Scale | None = None
    facet: str | None = None
    content_validity: Mapping | None = None


@dataclasses.dataclass(frozen=True)
class Construct:
    """One construct (scale): its id, label and definition per language, and item ids.

    Attributes
    ----------
    id : str
        The construct id (lavaan's latent variable name).
    label : mapping of str to str
        Language -> label.
    definition : mapping of str to str or None
        Language -> definition.
    items : tuple of str
        Its item ids, in codebook order.
    perspective : str or None
        ``"provider"`` or ``"customer"`` for instruments with two forms, else ``None``.
    scale : Scale or None
        The construct's response scale (its own ``scale:``, else the instrument's); an
        item may override it.

    See Also
    --------
    custval.codebook.Instrument : The codebook that holds the constructs.
    custval.codebook.Item : One item of a construct.
    """

    id: str
    label: Mapping[str, str]
    definition: Mapping[str, str] | None
    items: tuple[str, ...]
    perspective: str | None = None
    scale: Scale | None = None


@dataclasses.dataclass(frozen=True)
class Variable:
    """A non-item column declared under ``variables:`` (covariate, group, firm, role, rating).

    :func:`custval.read_survey` checks the column against all of the attributes.

    Attributes
    ----------
    name : str
        The column name.
    type : {"integer", "number", "categorical", "text"}
        What the column holds.
    label : mapping of str to str or None
        Language -> label.
    description : str or None
        Free text from the codebook.
    min, max : int, float or None
        Bounds of a number (either may be ``None``).
    categories : tuple
        The allowed values of a categorical variable.
    category_labels : mapping
        Their labels, when the codebook gives ``{code: label}``.
    missing : tuple
        Codes or texts that mean missing.
    required : bool
        The column must be in the data.

    See Also
    --------
    custval.codebook.Instrument : The codebook that declares the variables.
    custval.codebook.Item : A survey item (the other kind of column).
    """

    name: str
    type: str
    label: Mapping[str, str] | None = None
    description: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    categories: tuple = ()
    category_labels: Mapping = dataclasses.field(default_factory=lambda: FrozenMap())
    missing: tuple = ()
    required: bool = True

    def allowed(self) -> str:
        """The allowed values in words (used in error messages).

        Returns
        -------
        str
            E.g. ``"whole numbers 1..7"`` or ``"one of 1 (yes), 2 (no)"``.

        See Also
        --------
        custval.ingest.read_survey : Names the allowed values in its errors.
        """
        if self.type == "categorical":
            text = "one of " + ", ".join(
                f"{c} ({self.category_labels[c]})" if c in self.category_labels else str(c)
                for c in self.categories)
        elif self.type == "text":
            text = "any text"
        else:
            kind = "whole numbers" if self.type == "integer" else "numbers"
            if self.min is not None and self.max is not None:
                text = f"{kind} {self.min}..{self.max}"
            elif self.min is not None:
                text = f"{kind} >= {self.min}"
            elif self.max is not None:
                text = f"{kind} <= {self.max}"
            else:
                text = kind
        if self.missing:
            text += f"; declared missing codes {list(self.missing)}"
        return text


# --------------------------------------------------------------------------- instrument
@dataclasses.dataclass(frozen=True)
class Instrument:
    """An immutable instrument codebook.

    Build one with :func:`load_instrument` (YAML) or :meth:`from_dict`;
    the constructor itself does not validate.

    Attributes
    ----------
    name, version : str
        The instrument's name and version.
    titles : mapping of str to str
        Language -> title (see :meth:`title`).
    citation : str
        APA citation of the instrument or its source.
    description : str or None
        Free text from the codebook.
    languages : tuple of str
        Languages every text of the codebook is given in (``en`` first).
    dataset : str or None
        The shipped dataset (``custval.load_dataset``) the instrument belongs to.
    scale_min, scale_max : int or float
        The instrument's response scale, the default of every item; reverse keying maps ``x``
        to ``min + max - x`` of the item's own scale (:meth:`item_scale`), which is this one
        unless the codebook gives the construct or item its own ``scale:``.
    missing_codes, dont_know_codes : tuple of numbers
        Codes that mean "missing" / "don't know"; both become missing on ingest.
    dont_know_labels : mapping of language -> tuple of str
        Answer texts that mean "don't know", per language.
    labels : mapping of str to mapping of int to str
        Language -> {code: label} of the instrument's scale (see :meth:`scale_labels`).
    construct_defs, item_defs : tuple of Construct, tuple of Item
        The constructs and items in codebook order (see :meth:`construct`, :meth:`item`).
    answer_codes : mapping of str -> number, str or None
        Answer codes of a survey platform (``scale: answer_codes:`` in the YAML): a mapping
        ``{"A1": 1, ...}`` or a regular expression with one group (``'AO?0*(\\d+)'``);
        :func:`custval.read_survey` uses it when its own ``answer_codes=`` is not given.
    forms : mapping of perspective -> {"label": {lang: str}, "respondents": str}
        The forms of an instrument with provider and customer versions.
    perspective : str or None
        Set on a sub-instrument made by :meth:`form`.
    source : str or None
        The YAML file the instrument was read from.
    variables : mapping of str -> Variable
        Non-item columns declared under ``variables:`` (type, range or
        categories, missing codes); :func:`custval.read_survey` validates them.

    See Also
    --------
    custval.codebook.load_instrument : Load and validate a codebook.
    custval.ingest.read_survey : Read a survey export against an instrument.

    Notes
    -----
    ``scale_min``/``scale_max`` are the instrument's (top-level) scale.  A
    construct or an item may declare its own ``scale:`` (a privacy survey with
    concern items 1-5 and intention items 1-7); :meth:`item_scale` gives the
    scale an item uses, and validation, reverse keying (``min + max - x`` of
    the item's own scale), floor/ceiling, questionnaires and templates use it.
    """

    name: str
    version: str
    titles: Mapping[str, str]
    citation: str
    description: str | None
    languages: tuple[str, ...]
    dataset: str | None
    scale_min: int | float
    scale_max: int | float
    labels: Mapping[str, Mapping[int, str]]
    missing_codes: tuple
    dont_know_codes: tuple
    dont_know_labels: Mapping[str, tuple[str, ...]]
    forms: Mapping[str, Mapping[str, Any]]
    construct_defs: tuple[Construct, ...]
    item_defs: tuple[Item, ...]
    perspective: str | None = None
    source: str | None = dataclasses.field(default=None, compare=False)
    answer_codes: Mapping[str, float] | str | None = None
    variables: Mapping[str, Variable] = dataclasses.field(default_factory=lambda: FrozenMap())

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(
        cls,
        mapping: Mapping[str, Sequence[str]],
        *,
        scale: tuple[float, float],
        reverse: Iterable[str] = (),
        name: str = "custom",
        version: str = "1.0",
        title: str | Mapping[str, str] | None = None,
        citation: str = "",
        description: str | None = None,
        texts: Mapping[str, str | Mapping[str, str]] | None = None,
        labels: Mapping | None = None,
        missing_codes: Iterable[float] = (),
        dont_know_codes: Iterable[float] = (),
        languages: Sequence[str] = ("en",),
        dataset: str | None = None,
        scales: Mapping[str, tuple[float, float]] | None = None,
    ) -> Instrument:
        """An instrument from ``{construct: [item, ...]}``.

        Parameters
        ----------
        mapping : mapping of str to (sequence of str or mapping)
            Construct id -> its item ids (= data columns).  A construct asked on the two
            forms of a provider/customer instrument maps to ``{"provider": [...],
            "customer": [...]}``: the items get those perspectives, and the i-th provider
            item is paired with the i-th customer item (the twins of
            :meth:`Instrument.pairs`); give one key for a construct on one form only.
        scale : (min, max)
            The response scale, e.g. ``(1, 7)``.
        reverse : iterable of item ids
            Reverse-keyed items; each must be an item of ``mapping``.
        name, version, title, citation, description, dataset : str, optional
            Metadata, as the same keys of a YAML codebook.
        texts : mapping of str to (str or mapping), optional
            Item id -> text (a str is English, or ``{lang: str}``).  Items without a
            text get their id as English text.
        labels : mapping, optional
            Scale labels, ``{code: label}`` (English) or ``{lang: {code: label}}``.
        missing_codes, dont_know_codes : iterable of float
            Numeric codes meaning missing / don't know.
        languages : sequence of str
            Languages of the texts (``en`` is required).
        scales : mapping of str to (min, max), optional
            Construct or item id -> its scale, where it differs from ``scale`` (an
            item's entry wins over its construct's), e.g. ``{"PRCON": (1, 5)}`` in a
            1-7 survey.

        Returns
        -------
        Instrument
            Checked by the same rules as a YAML codebook.

        Raises
        ------
        CodebookError
            Whose ``key`` names the offending argument (``line`` is ``None``).

        See Also
        --------
        custval.codebook.Instrument.from_yaml : An instrument from a codebook file.

        Examples
        --------
        >>> from custval import Instrument
        >>> inst = Instrument.from_dict({"VAL": ["VAL1", "VAL2", "VAL3"]}, scale=(1, 7),
        ...                             reverse=["VAL3"])
        >>> inst.constructs, sorted(inst.reverse_items), inst.scale_max
        ({'VAL': ('VAL1', 'VAL2', 'VAL3')}, ['VAL3'], 7)
        >>> mixed = Instrument.from_dict({"CON": ["c1", "c2"], "INT": ["i1"]}, scale=(1, 7),
        ...                              scales={"CON": (1, 5)})
        >>> str(mixed.item_scale("c1")), str(mixed.item_scale("i1"))
        ('1..5', '1..7')
        >>> forms = Instrument.from_dict({"PROC": {"provider": ["p1", "p2"], "customer": ["c1", "c2"]},
        ...                               "MGMT": {"provider": ["m1", "m2", "m3"]}}, scale=(1, 7))
        >>> print(forms.pairs())
          construct provider_item customer_item
        0      PROC            p1            c1
        1      PROC            p2            c2
        >>> Instrument.from_dict({"VAL": ["VAL1"]}, scale=(7, 1))
        Traceback (most recent call last):
        ...
        custval.exceptions.CodebookError: scale[1]: scale max (1) must be greater than min (7)
        >>> # In R: psych::make.keys(3, list(VAL = c("VAL1", "VAL2", "-VAL3")))
        """
        if not isinstance(mapping, Mapping) or not mapping:
            raise CodebookError("mapping must be a non-empty {construct: [items]} mapping",
                                key="mapping")
        try:
            lo, hi = scale
        except (TypeError, ValueError):
            raise CodebookError(f"scale must be a (min, max) pair; got {scale!r}", key="scale") from None
        reverse = [reverse] if isinstance(reverse, str) else list(reverse)
        texts = dict(texts or {})
        scales = dict(scales or {})

        def own_scale(key):
            try:
                s_lo, s_hi = scales[key]
            except (TypeError, ValueError):
                raise CodebookError(f"scales[{key!r}] must be a (min, max) pair; got {scales[key]!r}",
                                    key=f"scales[{key!r}]") from None
            return {"min": s_lo, "max": s_hi}

        constructs = []
        all_items: list[str] = []
        sides_used: list[str] = []
        for cid, items in mapping.items():
            if isinstance(items, Mapping):
                item_list = _form_items(cid, items, texts, reverse, scales, own_scale, all_items, sides_used)
                constructs.append({"id": cid, "label": {lang: str(cid) for lang in languages},
                                   "items": item_list})
                if cid in scales:
                    constructs[-1]["scale"] = own_scale(cid)
                continue
            if isinstance(items, str) or not isinstance(items, Iterable):
                raise CodebookError(
                    f"the items of construct {cid!r} must be a list of item ids; got {items!r}",
                    key=f"mapping[{cid!r}]",
                )
            item_list = []
            for iid in items:
                all_items.append(iid)
                text = texts.get(iid, iid)
                item_list.append({"id": iid, "text": text, "reverse": iid in reverse})
                if iid in scales:
                    item_list[-1]["scale"] = own_scale(iid)
            constructs.append({"id": cid, "label": {lang: str(cid) for lang in languages},
                               "items": item_list})
            if cid in scales:
                constructs[-1]["scale"] = own_scale(cid)
        known = set(all_items)
        unknown_rev = [r for r in reverse if r not in known]
        if unknown_rev:
            raise CodebookError(
                f"reverse item(s) {', '.join(map(repr, unknown_rev))} are not items of the instrument "
                f"(items: {', '.join(all_items)})",
                key="reverse",
            )
        unknown_sc = [k for k in scales if k not in known and k not in mapping]
        if unknown_sc:
            raise CodebookError(f"scales given for {', '.join(map(repr, unknown_sc))}, which is neither "
                                "a construct nor an item of the instrument", key="scales")
        unknown_txt = [t for t in texts if t not in known]
        if unknown_txt:
            raise CodebookError(f"texts given for unknown item(s) {', '.join(map(repr, unknown_txt))}",
                                key="texts")
        if labels is not None and labels and all(not isinstance(v, Mapping) for v in labels.values()):
            labels = {"en": dict(labels)}
        if title is None:
            title = {lang: name for lang in languages}
        data: dict[str, Any] = {
            "format": schema.FORMAT,
            "name": name,
            "version": version,
            "title": title,
            "citation": citation,
            "languages": list(languages),
            "scale": {"min": lo, "max": hi},
            "constructs": constructs,
        }
        if sides_used:
            data["forms"] = {side: {"label": {lang: f"{side.capitalize()} form" for lang in languages}}
                             for side in ("provider", "customer") if side in sides_used}
        if description is not None:
            data["description"] = description
        if dataset is not None:
            data["dataset"] = dataset
        if labels:
            data["scale"]["labels"] = labels
        missing: dict[str, Any] = {}
        if list(missing_codes):
            missing["codes"] = list(missing_codes)
        if list(dont_know_codes):
            missing["dont_know"] = {"codes": list(dont_know_codes)}
        if missing:
            data["missing"] = missing
        return _build(data, path=None, linemap=None, keyname=_dict_keyname(data))

    @classmethod
    def from_yaml(cls, path: str | Path) -> Instrument:
        """Read and validate a YAML codebook file (see :func:`load_instrument`).

        Parameters
        ----------
        path : str or Path
            The YAML file.

        Returns
        -------
        Instrument
            The checked instrument.

        Raises
        ------
        CodebookError
            Every problem of the file at once, with its key and line.

        See Also
        --------
        custval.codebook.load_instrument : Load a shipped instrument or a codebook path.
        """
        return load_instrument(Path(path))

    # ------------------------------------------------------------------ structure
    @property
    def items(self) -> tuple[str, ...]:
        """Item ids in codebook order.

        See Also
        --------
        custval.codebook.Instrument.constructs : Item ids per construct.
        """
        return tuple(i.id for i in self.item_defs)

    @property
    def constructs(self) -> dict[str, tuple[str, ...]]:
        """Construct id -> its item ids, in codebook order (a new dict on each call).

        See Also
        --------
        custval.codebook.Instrument.items : All item ids in codebook order.
        """
        return {c.id: c.items for c in self.construct_defs}

    @property
    def reverse_items(self) -> frozenset[str]:
        """Ids of the reverse-keyed items.

        See Also
        --------
        custval.codebook.Instrument.keyed : Recode the reverse items.
        """
        return frozenset(i.id for i in self.item_defs if i.reverse)

    @property
    def scale(self) -> Scale:
        """The instrument's (top-level) response :class:`Scale`; the default of every item.

        See Also
        --------
        custval.codebook.Instrument.item_scale : The scale of one item.
        """
        return Scale(self.scale_min, self.scale_max, self.labels)

    def item_scale(self, iid: str) -> Scale:
        """The :class:`Scale` item ``iid`` is answered on (its own, its construct's or the instrument's).

        Parameters
        ----------
        iid : str
            An item id.

        Returns
        -------
        Scale
            The item's scale.

        See Also
        --------
        custval.codebook.Instrument.item_scales : The scale of every item.

        Examples
        --------
        >>> from custval import Instrument
        >>> inst = Instrument.from_dict({"PRCON": ["privcon1"], "INT": ["intent1"]}, scale=(1, 7),
        ...                             scales={"PRCON": (1, 5)})
        >>> inst.item_scale("privcon1").max, inst.item_scale("intent1").max
        (5, 7)
        """
        return self.item(iid).scale or self.scale

    @property
    def item_scales(self) -> dict[str, Scale]:
        """Item id -> its :class:`Scale`, in codebook order (a new dict on each call).

        See Also
        --------
        custval.codebook.Instrument.mixed_scales : Whether the items' scales differ.
        """
        top = self.scale
        return {i.id: (i.scale or top) for i in self.item_defs}

    @property
    def mixed_scales(self) -> bool:
        """True when some item's scale differs from the instrument's (min or max).

        See Also
        --------
        custval.codebook.Instrument.item_scales : The scale of every item.
        """
        return any((s.min, s.max) != (self.scale_min, self.scale_max) for s in self.item_scales.values())

    def construct(self, cid: str) -> Construct:
        """The :class:`Construct` ``cid``.

        Parameters
        ----------
        cid : str
            A construct id.

        Returns
        -------
        Construct
            Its items, label and scale.

        See Also
        --------
        custval.codebook.Instrument.item : One item.
        """
        for c in self.construct_defs:
            if c.id == cid:
                return c
        raise SpecificationError(
            f"{cid!r} is not a construct of instrument {self.name!r}; "
            f"constructs: {', '.join(c.id for c in self.construct_defs)}"
        )

    def item(self, iid: str) -> Item:
        """The :class:`Item` ``iid``.

        Parameters
        ----------
        iid : str
            An item id.

        Returns
        -------
        Item
            Its construct, texts, keying and form.

        See Also
        --------
        custval.codebook.Instrument.construct : One construct.
        """
        for i in self.item_defs:
            if i.id == iid:
                return i
        raise SpecificationError(
            f"{iid!r} is not an item of instrument {self.name!r}; items: {', '.join(self.items)}"
        )

    def _lang(self, lang: str) -> str:
        if lang not in self.languages:
            raise SpecificationError(
                f"language {lang!r} is not in instrument {self.name!r}; languages: "
                f"{', '.join(self.languages)}"
            )
        return lang

    def title(self, lang: str = "en") -> str:
        """The instrument's title in ``lang``.

        Parameters
        ----------
        lang : str
            A language of the codebook.

        Returns
        -------
        str
            The title.

        See Also
        --------
        custval.codebook.Instrument.summary : A plain-text overview.
        """
        return self.titles[self._lang(lang)]

    def scale_labels(self, lang: str = "en", *, item: str | None = None) -> dict[int, str]:
        """Scale code -> label in ``lang`` (empty when the codebook declares no labels).

        ``item`` selects the labels of that item's own scale (None: the instrument's common
        scale; see :meth:`item_scale`).

        Parameters
        ----------
        lang : str
            A language of the codebook.
        item : str, optional
            An item id: the labels of its own scale.

        Returns
        -------
        dict of int to str
            Code -> label.

        See Also
        --------
        custval.codebook.Instrument.scale : The instrument's response scale.

        Examples
        --------
        >>> from custval import load_instrument
        >>> load_instrument("bfi").scale_labels("fi")[6]
        'Kuvaa minua erittäin hyvin'
        >>> # In R: no equivalent (psychTools documents the labels in ?bfi)
        """
        self._lang(lang)
        labels = self.labels if item is None else self.item_scale(item).labels
        return dict(labels.get(lang, {}))

    # ------------------------------------------------------------------ data
    def keyed(self, data: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``data`` with reverse items recoded as ``min + max - x`` of their own scale.

        Each item's scale is :meth:`item_scale` (``scale_min..scale_max`` unless
        the construct or item declares its own).  Only the instrument's item
        columns present in ``data`` are checked (numeric, within the item's
        scale; NaN allowed) and only the
        reverse items are recoded; other columns are returned unchanged, NaN
        stays NaN.  Nothing is coerced: a non-numeric item column, or a value
        outside the scale (e.g. an unconverted missing code such as -99), raises
        :class:`~custval.DataValidationError` naming the column, the rows (index
        labels of ``data``) and the values.  Keying twice gives back the data.

        The result records the recoded items in ``attrs["custval_keyed"]``
        (``{"instrument": name, "items": [...]}``; keying a keyed frame again
        removes them from the record).  :class:`~custval.CFA`, :class:`~custval.PLS`,
        :func:`~custval.validity.htmt` and :func:`~custval.invariance.measurement_invariance`
        given the instrument as their model key the data themselves and do not key
        such a frame a second time.

        Parameters
        ----------
        data : DataFrame
            The answers (not changed).

        Returns
        -------
        DataFrame
            A copy with the reverse items recoded.

        Raises
        ------
        DataValidationError
            A non-numeric item column or a value outside the item's scale.

        See Also
        --------
        custval.scoring.keyed : The same as a function.

        Examples
        --------
        >>> import pandas as pd
        >>> from custval import Instrument
        >>> inst = Instrument.from_dict({"VAL": ["V1", "V2"]}, scale=(1, 7), reverse=["V2"])
        >>> inst.keyed(pd.DataFrame({"V1": [1, 7], "V2": [2, None]}))
           V1   V2
        0   1  6.0
        1   7  NaN
        >>> # In R: psych::reverse.code(c(1, -1), x, mini = 1, maxi = 7)
        """
        from .scoring import keyed

        return keyed(data, self)

    def score(self, data: pd.DataFrame, *, method: str = "mean", min_items=None,
              constructs: Iterable[str] | None = None):
        """Construct scores; see :func:`custval.scoring.score` (returns a ScoreResult).

        Parameters
        ----------
        data : DataFrame
            The answers.
        method : {"mean", "sum"}
            Mean or sum of the keyed items.
        min_items : int or mapping, optional
            Fewest answered items for a score (per construct with a mapping); None: 1
            for ``"mean"``, all items for ``"sum"``.
        constructs : iterable of str, optional
            Score only these constructs (None: all).

        Returns
        -------
        ScoreResult
            The scores with the number of valid items behind each.

        See Also
        --------
        custval.scoring.score : The function this method calls.
        """
        from .scoring import score

        return score(data, self, method=method, min_items=min_items, constructs=constructs)

    # ------------------------------------------------------------------ models and forms
    def model_syntax(self, *, constructs: Iterable[str] | None = None) -> str:
        """lavaan measurement syntax, one ``F =~ x1 + x2`` line per construct.

        Parameters
        ----------
        constructs : iterable of str, optional
            Only these constructs (None: all, in codebook order).

        Returns
        -------
        str
            The model syntax, for :class:`~custval.cfa.CFA` or ``lavaan::cfa``.

        See Also
        --------
        custval.cfa.CFA : Fits the syntax (or the instrument itself).

        Examples
        --------
        >>> from custval import Instrument
        >>> inst = Instrument.from_dict({"A": ["a1", "a2"], "B": ["b1", "b2", "b3"]}, scale=(1, 5))
        >>> print(inst.model_syntax())
        A =~ a1 + a2
        B =~ b1 + b2 + b3
        >>> # In R: lavaan::cfa("A =~ a1 + a2\\nB =~ b1 + b2 + b3", data = x)
        """
        wanted = self._select(constructs)
        return "\n".join(f"{c} =~ {' + '.join(self.constructs[c])}" for c in wanted)

    def _select(self, constructs: Iterable[str] | None) -> list[str]:
        own = self.constructs
        if constructs is None:
            return list(own)
        wanted = [constructs] if isinstance(constructs, str) else list(constructs)
        bad = [c for c in wanted if c not in own]
        if bad:
            raise SpecificationError(
                f"construct(s) {', '.join(map(repr, bad))} not in instrument {self.name!r}; "
                f"constructs: {', '.join(own)}"
            )
        if not wanted:
            raise SpecificationError("constructs is empty; name at least one construct")
        return wanted

    def form(self, perspective: str) -> Instrument:
        """The sub-instrument with the items of one perspective (``provider``/``customer``).

        Constructs without items in that form are left out; ``pair`` still names
        the twin item in the other form.

        Parameters
        ----------
        perspective : {"provider", "customer"}
            The form.

        Returns
        -------
        Instrument
            The sub-instrument.

        See Also
        --------
        custval.codebook.Instrument.pairs : The twin items of the two forms.

        Examples
        --------
        >>> from custval import load_instrument
        >>> cwi = load_instrument("cwi")
        >>> customer = cwi.form("customer")
        >>> customer.perspective, len(customer.items), list(customer.constructs)[:3]
        ('customer', 29, ['CPROC', 'CQUAL', 'MGMT'])
        >>> print(customer.item("CPROC_C1").text["fi"])
        Tämä toimittaja ymmärtää päivittäiset liiketoimintaprosessimme.
        >>> # In R: no equivalent; select the columns, e.g. x[, grepl("_C[0-9]$", names(x))]
        """
        present = sorted({i.perspective for i in self.item_defs if i.perspective})
        if perspective not in present:
            raise SpecificationError(
                f"instrument {self.name!r} has no {perspective!r} form; "
                + (f"forms: {', '.join(present)}" if present else "it has no forms (no item has a perspective)")
            )
        keep = [i for i in self.item_defs if i.perspective == perspective]
        kept_ids = {i.id for i in keep}
        cons = tuple(
            dataclasses.replace(c, items=tuple(i for i in c.items if i in kept_ids))
            for c in self.construct_defs
            if any(i in kept_ids for i in c.items)
        )
        forms = FrozenMap({k: v for k, v in self.forms.items() if k == perspective})
        return dataclasses.replace(self, construct_defs=cons, item_defs=tuple(keep), forms=forms,
                                   perspective=perspective)

    def pairs(self) -> pd.DataFrame:
        """Paired (twin) items of the provider and customer forms.

        One row per pair, in the provider items' codebook order: ``construct``
        (of the provider item), ``provider_item``, ``customer_item``.

        Returns
        -------
        DataFrame
            Columns ``construct``, ``provider_item``, ``customer_item``.

        See Also
        --------
        custval.codebook.Instrument.form : The items of one form.

        Examples
        --------
        >>> from custval import load_instrument
        >>> print(load_instrument("cwi").pairs().head(3))
          construct provider_item customer_item
        0     CPROC      CPROC_P1      CPROC_C1
        1     CPROC      CPROC_P2      CPROC_C2
        2     CPROC      CPROC_P3      CPROC_C3
        >>> # In R: no equivalent (a data frame of the twin columns' names)
        """
        by_id = {i.id: i for i in self.item_defs}
        rows = [
            {"construct": i.construct, "provider_item": i.id, "customer_item": i.pair}
            for i in self.item_defs
            if i.perspective == "provider" and i.pair is not None and i.pair in by_id
        ]
        return pd.DataFrame(rows, columns=["construct", "provider_item", "customer_item"])

    # ------------------------------------------------------------------ display
    def to_frame(self) -> pd.DataFrame:
        """One row per item: construct, item, reverse, perspective, pair, scale_min, scale_max, text_en.

        ``scale_min``/``scale_max`` are the item's own scale (:meth:`item_scale`).

        Returns
        -------
        DataFrame
            One row per item, in codebook order.

        See Also
        --------
        custval.codebook.Instrument.summary : A plain-text overview.
        """
        scales = self.item_scales
        rows = [
            {"construct": i.construct, "item": i.id, "reverse": i.reverse,
             "perspective": i.perspective, "pair": i.pair, "scale_min": scales[i.id].min,
             "scale_max": scales[i.id].max, "text_en": i.text.get("en")}
            for i in self.item_defs
        ]
        return pd.DataFrame(rows, columns=["construct", "item", "reverse", "perspective", "pair",
                                           "scale_min", "scale_max", "text_en"])

    def _scales_text(self) -> str:
        if not self.mixed_scales:
            return f"scale {self.scale_min}..{self.scale_max}"
        counts: dict[str, int] = {}
        for s in self.item_scales.values():
            counts[str(s)] = counts.get(str(s), 0) + 1
        return "scales " + ", ".join(f"{k} ({n} item{'s' if n != 1 else ''})" for k, n in counts.items())

    def _header(self) -> str:
        form = f" ({self.perspective} form)" if self.perspective else ""
        n_rev = len(self.reverse_items)
        return (
            f"{self.name} {self.version}{form}: {len(self.construct_defs)} constructs, "
            f"{len(self.item_defs)} items ({n_rev} reverse-keyed), {self._scales_text()}, "
            f"languages {', '.join(self.languages)}"
        )

    def __repr__(self) -> str:
        return f"<Instrument {self._header()}>"

    def summary(self) -> str:
        """Plain-text overview: title, citation, scale, constructs with their items.

        Returns
        -------
        str
            The overview (``print(inst.summary())``).

        See Also
        --------
        custval.codebook.Instrument.to_frame : One row per item.
        """
        lines = [f"{self.title()} — {self._header()}"]
        if self.dataset:
            lines.append(f"Dataset: {self.dataset}")
        lines.append(f"Citation: {self.citation}")
        labels = self.labels.get("en", {})
        if labels:
            lines.append("Scale labels: " + "; ".join(f"{k} = {v}" for k, v in labels.items()))
        if self.missing_codes:
            lines.append(f"Missing codes: {', '.join(map(str, self.missing_codes))}")
        if self.dont_know_codes:
            lines.append(f"Don't-know codes: {', '.join(map(str, self.dont_know_codes))}")
        scales = self.item_scales
        for c in self.construct_defs:
            label = c.label.get("en", "") if c.label else ""

            c_scale = c.scale or self.scale
            names = [i + ("(R)" if i in self.reverse_items else "")
                     + (f"[{scales[i]}]" if self.mixed_scales and scales[i] != c_scale else "")
                     for i in c.items]
            cs = f" [scale {c_scale}]" if self.mixed_scales else ""
            lines.append(f"{c.id} ({label}){cs}: " + ", ".join(names))
        for v in self.variables.values():
            lines.append(f"Variable {v.name} ({v.type}): {v.allowed()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.title()} — {self._header()}")
        table = self.to_frame().to_html(index=False, na_rep="")
        cite = html.escape(self.citation)
        return f"<div><strong>{head}</strong><br><small>{cite}</small>{table}</div>"


# --------------------------------------------------------------------------- validation
def _dict_keyname(data: dict):
    """Key names for from_dict errors: the argument that caused them."""
    cids = [c["id"] for c in data["constructs"]]

    def keyname(loc: tuple) -> str:
        if not loc:
            return "mapping"
        head = loc[0]
        if head == "constructs" and len(loc) >= 2:
            cid = cids[loc[1]] if isinstance(loc[1], int) and loc[1] < len(cids) else loc[1]
            if len(loc) >= 4 and loc[2] == "items":
                item = data["constructs"][loc[1]]["items"][loc[3]]["id"] if isinstance(loc[3], int) else loc[3]
                if len(loc) >= 5 and loc[4] == "text":
                    return f"texts[{item!r}]"
                if len(loc) >= 5 and loc[4] == "reverse":
                    return "reverse"
                if len(loc) >= 5 and loc[4] == "scale":
                    return f"scales[{item!r}]"
                return f"mapping[{cid!r}][{loc[3]}]"
            if len(loc) >= 3 and loc[2] == "scale":
                return f"scales[{cid!r}]"
            return f"mapping[{cid!r}]"
        if head == "scale" and len(loc) >= 2:
            return {"min": "scale[0]", "max": "scale[1]"}.get(loc[1], "labels")
        if head == "missing":
            return "dont_know_codes" if "dont_know" in loc else "missing_codes"
        return format_key(loc)

    return keyname


class _Problems:
    """Collects (message, loc) pairs and raises one CodebookError for all of them."""

    def __init__(self, path, linemap: LineMap | None, keyname):
        self.path = path
        self.linemap = linemap
        self.keyname = keyname
        self.found: list[tuple[str, str, int | None]] = []

    def add(self, message: str, loc: tuple, *, missing_key: bool = False) -> None:
        if self.linemap is not None:
            key, line = self.linemap.locate(loc, missing_key=missing_key)
        else:
            key, line = (self.keyname(tuple(loc)) if self.keyname else format_key(loc)), None
        if (key, message) not in {(k, m) for m, k, _ in self.found}:
            self.found.append((message, key, line))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        self.found.sort(key=lambda f: f[2] if f[2] is not None else 0)
        texts = [_where(self.path, key, line) + msg for msg, key, line in self.found]
        _, key, line = self.found[0]
        if len(texts) == 1:
            message = texts[0]
        else:
            message = f"{len(texts)} problems in the codebook:\n  " + "\n  ".join(texts)
        err = CodebookError(message, path=self.path, key=key, line=line)
        err.problems = [{"message": m, "key": k, "line": ln} for m, k, ln in self.found]
        raise err


def _where(path, key: str | None, line: int | None) -> str:
    parts = []
    if path is not None:
        parts.append(f"{path}" + (f", line {line}" if line is not None else ""))
    if key:
        parts.append(key)
    return (": ".join(parts) + ": ") if parts else ""


def _pydantic_message(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (not part of the custval-codebook/1 format; check the spelling)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error" and err.get("loc", ("",))[0] == "format":
        return f"format must be {schema.FORMAT!r}"
    if err.get("loc", ("",))[0] == "version" and len(err.get("loc", ())) == 1:
        return (f"version must be text such as \"1.0\" (quotes keep it as written); got "
                f"{err.get('input')!r}")
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        return f"{err.get('input')!r} is not a valid identifier (must match {pattern})"
    msg = err.get("msg", "invalid value")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg


def _version_text(data: dict, linemap: LineMap | None) -> None:
    """``version: 1.0`` (a YAML number) -> the text as written, ``"1.0"``.

    YAML reads an unquoted 1.0 as a number (and 1.10 as 1.1); the version is
    kept exactly as written in the file.  A number that did not come from a
    file (``from_dict``) becomes its usual text.
    """
    v = data.get("version")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return
    raw = linemap.raw(("version",)) if linemap is not None else None
    data["version"] = raw if raw is not None else str(v)


def _build(data: Any, *, path, linemap: LineMap | None, keyname=None) -> Instrument:
    problems = _Problems(path, linemap, keyname)
    if not isinstance(data, dict):
        problems.add(f"a codebook must be a YAML mapping at the top level; got {type(data).__name__}", ())
        problems.raise_if_any()
    _version_text(data, linemap)
    try:
        model = schema.CodebookModel.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.add(_pydantic_message(err), tuple(err["loc"]), missing_key=err["type"] == "missing")
        problems.raise_if_any()
        raise  # pragma: no cover - unreachable
    _cross_check(model, problems)
    problems.raise_if_any()
    return _instrument(model, path)


def _cross_check(m: schema.CodebookModel, problems: _Problems) -> None:
    """Referential rules that pydantic's per-field checks cannot see."""
    langs = list(m.languages)
    if "en" not in langs:
        problems.add("languages must include 'en'", ("languages",))
    seen_lang = set()
    for k, lang in enumerate(langs):
        if lang in seen_lang:
            problems.add(f"language {lang!r} is listed twice", ("languages", k))
        seen_lang.add(lang)

    def text(value, loc, what):
        if value is None:
            return
        if "en" not in value:
            problems.add(f"{what} has no 'en' text (English is always required)", loc)
        for lang in langs:
            if lang != "en" and lang not in value:
                problems.add(f"{what} has no {lang!r} text (every text needs every language "
                             f"in languages: {', '.join(langs)})", loc)
        for lang in value:
            if lang not in langs:
                problems.add(f"{what} has a {lang!r} text but {lang!r} is not in languages "
                             f"({', '.join(langs)})", loc + (lang,))

    text(m.title, ("title",), "title")

    def check_scale(sc, loc, what):
        lo, hi = sc.min, sc.max
        if not lo < hi:
            problems.add(f"{what} max ({_num(hi)}) must be greater than min ({_num(lo)})", loc + ("max",))
        if sc.labels is not None:
            text(sc.labels, loc + ("labels",), f"{what} labels")
            for lang, labs in sc.labels.items():
                for code in labs:
                    if not lo <= code <= hi:
                        problems.add(f"label code {code} is outside the {what} {_num(lo)}..{_num(hi)}",
                                     loc + ("labels", lang, code))

    # every scale of the codebook (top level, constructs, items): a missing code is no answer of any
    check_scale(m.scale, ("scale",), "scale")
    scales = [(m.scale, "scale")]
    for ci, c in enumerate(m.constructs):
        if c.scale is not None:
            check_scale(c.scale, ("constructs", ci, "scale"), f"scale of construct {c.id!r}")
            scales.append((c.scale, f"scale of construct {c.id!r}"))
        for ii, it in enumerate(c.items):
            if it.scale is not None:
                check_scale(it.scale, ("constructs", ci, "items", ii, "scale"), f"scale of item {it.id!r}")
                scales.append((it.scale, f"scale of item {it.id!r}"))

    def inside(code):
        for sc, what in scales:
            if sc.min <= code <= sc.max:
                return f"{what} {_num(sc.min)}..{_num(sc.max)}"
        return None

    if m.missing is not None:
        for k, code in enumerate(m.missing.codes):
            if (where := inside(code)) is not None:
                problems.add(f"missing code {_num(code)} lies inside the {where}; "
                             "a missing code must not be a valid answer", ("missing", "codes", k))
        if m.missing.dont_know is not None:
            dk = m.missing.dont_know
            for k, code in enumerate(dk.codes):
                if (where := inside(code)) is not None:
                    problems.add(f"don't-know code {_num(code)} lies inside the {where}",
                                 ("missing", "dont_know", "codes", k))
                if code in m.missing.codes:
                    problems.add(f"code {_num(code)} is declared both as missing and as don't know",
                                 ("missing", "dont_know", "codes", k))
            if dk.labels is not None:
                text(dk.labels, ("missing", "dont_know", "labels"), "don't-know labels")
    if m.forms is not None:
        for p, form in m.forms.items():
            text(form.label, ("forms", p, "label"), f"label of form {p!r}")

    # ids, membership, perspectives, pairs
    construct_at: dict[str, int] = {}
    item_at: dict[str, tuple[int, int]] = {}
    for ci, c in enumerate(m.constructs):
        cloc = ("constructs", ci)
        if c.id in construct_at:
            problems.add(f"duplicate construct id {c.id!r} (first at constructs[{construct_at[c.id]}])",
                         cloc + ("id",))
        else:
            construct_at[c.id] = ci
        text(c.label, cloc + ("label",), f"label of construct {c.id!r}")
        text(c.definition, cloc + ("definition",), f"definition of construct {c.id!r}")
        if c.perspective is not None and (m.forms is None or c.perspective not in m.forms):
            problems.add(f"perspective {c.perspective!r} is not declared under forms",
                         cloc + ("perspective",))
        for ii, it in enumerate(c.items):
            iloc = cloc + ("items", ii)
            if it.id in item_at:
                pci, pii = item_at[it.id]
                if pci == ci:
                    problems.add(f"duplicate item id {it.id!r} (first at constructs[{pci}].items[{pii}])",
                                 iloc + ("id",))
                else:
                    problems.add(
                        f"item {it.id!r} is listed in two constructs: {m.constructs[pci].id!r} "
                        f"(constructs[{pci}].items[{pii}]) and {c.id!r}; an item measures one construct",
                        iloc + ("id",),
                    )
            else:
                item_at[it.id] = (ci, ii)
            text(it.text, iloc + ("text",), f"text of item {it.id!r}")
            if it.perspective is not None and (m.forms is None or it.perspective not in m.forms):
                problems.add(f"perspective {it.perspective!r} is not declared under forms",
                             iloc + ("perspective",))
    clash = sorted(set(construct_at) & set(item_at))
    for cid in clash:
        ci, ii = item_at[cid]
        problems.add(f"item id {cid!r} is also a construct id; lavaan needs distinct names",
                     ("constructs", ci, "items", ii, "id"))

    def persp(ci, ii):
        c = m.constructs[ci]
        return c.items[ii].perspective or c.perspective

    for ci, c in enumerate(m.constructs):
        for ii, it in enumerate(c.items):
            if it.pair is None:
                continue
            loc = ("constructs", ci, "items", ii, "pair")
            if it.pair not in item_at:
                problems.add(f"pair {it.pair!r} of item {it.id!r} is not an item of the instrument", loc)
                continue
            if it.pair == it.id:
                problems.add(f"item {it.id!r} is paired with itself", loc)
                continue
            pci, pii = item_at[it.pair]
            twin = m.constructs[pci].items[pii]
            mine, theirs = persp(ci, ii), persp(pci, pii)
            if mine is None or theirs is None or mine == theirs:
                problems.add(
                    f"paired items must have different perspectives (provider/customer); "
                    f"{it.id!r} has {mine!r}, {twin.id!r} has {theirs!r}", loc)
            if twin.pair != it.id:
                theirs_txt = f"names {twin.pair!r}" if twin.pair is not None else "has no pair"
                problems.add(
                    f"pairing is not mutual: {it.id!r} names {twin.id!r} as its pair but {twin.id!r} "
                    f"{theirs_txt} (at constructs[{pci}].items[{pii}])", loc)

    for name, v in (m.variables or {}).items():
        vloc = ("variables", name)
        if name in item_at:
            problems.add(f"variable {name!r} is also an item of the instrument; declare it once "
                         "(items are checked against their scale)", vloc)
        if not name.strip() or name != name.strip():
            problems.add(f"variable name {name!r} must be a column name without leading or trailing "
                         "spaces", vloc)
        text(v.label, vloc + ("label",), f"label of variable {name!r}")
        if v.type == "categorical":
            if not v.categories:
                problems.add("a categorical variable needs its categories (a list of codes, or "
                             "{code: label})", vloc + ("categories",), missing_key=v.categories is None)
            for key in ("min", "max"):
                if getattr(v, key) is not None:
                    problems.add(f"{key} is for integer and number variables; a categorical variable "
                                 "lists its categories", vloc + (key,))
        else:
            if v.categories is not None:
                problems.add(f"categories are for categorical variables; this one has type {v.type!r}",
                             vloc + ("categories",))
            if v.type == "text":
                for key in ("min", "max"):
                    if getattr(v, key) is not None:
                        problems.add(f"{key} is for integer and number variables; this one has type "
                                     "'text'", vloc + (key,))
            elif v.min is not None and v.max is not None and not v.min < v.max:
                problems.add(f"variable max ({_num(v.max)}) must be greater than min ({_num(v.min)})",
                             vloc + ("max",))
        cats = list(v.categories or ())
        for k, code in enumerate(v.missing):
            bad = None
            if isinstance(code, str):
                bad = code in [str(c) for c in cats]
            elif v.type in ("integer", "number"):
                bad = ((v.min is None or code >= v.min) and (v.max is None or code <= v.max)
                       and (v.min is not None or v.max is not None))
            elif v.type == "categorical":
                bad = code in [c for c in cats if not isinstance(c, str)]
            if bad:
                problems.add(f"missing code {_num(code) if not isinstance(code, str) else repr(code)} of "
                             f"variable {name!r} is also an allowed value", vloc + ("missing", k))


def _scale(sc, parent: Scale | None = None) -> Scale:
    """A :class:`Scale` from a model; a scale with the parent's min/max and no labels keeps its labels."""
    if sc.labels is None and parent is not None and (sc.min, sc.max) == (parent.min, parent.max):
        labels = parent.labels
    else:
        labels = FrozenMap({lang: FrozenMap(sorted(v.items())) for lang, v in (sc.labels or {}).items()})
    return Scale(_num(sc.min), _num(sc.max), labels)


def _variable(name: str, v: schema.VariableModel) -> Variable:
    cats = v.categories
    if isinstance(cats, dict):
        labels, cats = FrozenMap(cats), tuple(cats)
    else:
        labels, cats = FrozenMap(), tuple(cats or ())
    return Variable(name=name, type=v.type, label=FrozenMap(v.label) if v.label else None,
                    description=v.description,
                    min=_num(v.min) if v.min is not None else None,
                    max=_num(v.max) if v.max is not None else None,
                    categories=cats, category_labels=labels,
                    missing=tuple(c if isinstance(c, str) else _num(c) for c in v.missing),
                    required=v.required)


def _instrument(m: schema.CodebookModel, path) -> Instrument:
    items: list[Item] = []
    cons: list[Construct] = []
    top = _scale(m.scale)
    for c in m.constructs:
        c_scale = _scale(c.scale, top) if c.scale is not None else top
        for it in c.items:
            items.append(Item(id=it.id, construct=c.id, text=FrozenMap(it.text), reverse=it.reverse,
                              perspective=it.perspective or c.perspective, pair=it.pair,
                              scale=_scale(it.scale, c_scale) if it.scale is not None else c_scale,
                              facet=it.facet,
                              content_validity=(FrozenMap(it.content_validity.model_dump(exclude_none=True))
                                                if it.content_validity is not None else None)))
        cons.append(Construct(
            id=c.id,
            label=FrozenMap(c.label),
            definition=FrozenMap(c.definition) if c.definition is not None else None,
            items=tuple(it.id for it in c.items),
            perspective=c.perspective,
            scale=c_scale,
        ))
    labels = top.labels
    missing_codes: tuple = ()
    dk_codes: tuple = ()
    dk_labels: dict = {}
    if m.missing is not None:
        missing_codes = tuple(_num(x) for x in m.missing.codes)
        if m.missing.dont_know is not None:
            dk_codes = tuple(_num(x) for x in m.missing.dont_know.codes)
            dk_labels = {k: tuple(v) for k, v in (m.missing.dont_know.labels or {}).items()}
    forms = FrozenMap({
        p: FrozenMap({"label": FrozenMap(f.label) if f.label else None, "respondents": f.respondents})
        for p, f in (m.forms or {}).items()
    })
    langs = tuple(["en"] + [lang for lang in m.languages if lang != "en"])
    return Instrument(
        name=m.name, version=m.version, titles=FrozenMap(m.title), citation=m.citation,
        description=m.description, languages=langs, dataset=m.dataset,
        scale_min=_num(m.scale.min), scale_max=_num(m.scale.max), labels=labels,
        missing_codes=missing_codes, dont_know_codes=dk_codes, dont_know_labels=FrozenMap(dk_labels),
        forms=forms, construct_defs=tuple(cons), item_defs=tuple(items),
        source=str(path) if path is not None else None,
        answer_codes=(FrozenMap({k: _num(v) for k, v in m.scale.answer_codes.items()})
                      if isinstance(m.scale.answer_codes, dict) else m.scale.answer_codes),
        variables=FrozenMap({name: _variable(name, v) for name, v in (m.variables or {}).items()}),
    )


# --------------------------------------------------------------------------- loading
_CACHE: dict[tuple, Instrument] = {}


def list_instruments() -> list[str]:
    """Names of the shipped instruments (``custval/instruments/<name>.yaml``).

    Returns
    -------
    list of str
        Instrument names, for :func:`load_instrument`.

    See Also
    --------
    custval.codebook.load_instrument : Load one of them.

    Examples
    --------
    >>> from custval import list_instruments
    >>> "bfi" in list_instruments()
    True
    >>> # In R: no equivalent; psychTools ships bfi.keys and bfi.dictionary for one instrument
    """
    return sorted(p.stem for p in INSTRUMENTS_DIR.glob("*.yaml"))


def _is_path(spec) -> bool:
    if isinstance(spec, Path):
        return True
    s = str(spec)
    return "/" in s or "\\" in s or s.endswith((".yaml", ".yml", ".lss", ".qsf"))


def load_instrument(name_or_path: str | Path) -> Instrument:
    """Load and validate an instrument codebook.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A shipped instrument's name (see :func:`list_instruments`), the path
        of a YAML codebook file, or of a LimeSurvey ``.lss`` / Qualtrics ``.qsf``
        survey file written by :func:`custval.questionnaire.export_survey` (the
        wording, labels and definitions as the platform file has them, the rest
        from the codebook kept in the file).

    Returns
    -------
    Instrument

    Raises
    ------
    DatasetNotFoundError
        Unknown instrument name (the message lists the shipped names).
    CodebookError
        The file cannot be read, is not valid YAML, or breaks a rule of the
        format; ``path``, ``key`` (e.g. ``constructs[2].items[0].pair``) and
        the 1-based ``line`` locate the problem.

    See Also
    --------
    custval.codebook.list_instruments : Names of the shipped instruments.
    custval.codebook.Instrument : The object returned.

    Examples
    --------
    >>> from custval import load_instrument
    >>> ecsi = load_instrument("ecsi")
    >>> ecsi.constructs["CUSA"], ecsi.scale_min, ecsi.scale_max
    (('CUSA1', 'CUSA2', 'CUSA3'), 1, 10)
    >>> load_instrument("nope")
    Traceback (most recent call last):
    ...
    custval.exceptions.DatasetNotFoundError: unknown instrument 'nope'; shipped instruments: ...
    >>> # In R: keys <- psych::make.keys(mobi, list(CUSA = c("CUSA1", "CUSA2", "CUSA3")))
    """
    if _is_path(name_or_path):
        path = Path(name_or_path).expanduser().resolve()
    else:
        name = str(name_or_path)
        path = INSTRUMENTS_DIR / f"{name}.yaml"
        if not path.is_file():
            raise DatasetNotFoundError(
                f"unknown instrument {name!r}; shipped instruments: {', '.join(list_instruments())} "
                "(or give the path of a YAML codebook)"
            )
    try:
        stat = path.stat()
    except OSError as exc:
        raise CodebookError(f"{path}: cannot read the codebook file ({exc.strerror})", path=path) from None
    if path.suffix.lower() in (".lss", ".qsf"):
        from ._io.survey_platforms import read_survey_file

        return read_survey_file(path, platform="limesurvey" if path.suffix.lower() == ".lss"
                                else "qualtrics",
                                build=lambda data, where: _build(data, path=where, linemap=None))
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    try:
        data, linemap = load_yaml(path)
    except YamlSyntaxError as exc:
        raise CodebookError(_where(path, None, exc.line) + str(exc), path=path, line=exc.line) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CodebookError(f"{path}: cannot read the codebook file ({exc})", path=path) from None
    inst = _build(data, path=path, linemap=linemap)
    _CACHE[cache_key] = inst
    return inst


def _form_items(cid, forms, texts, reverse, scales, own_scale, all_items, sides_used) -> list[dict]:
    """The item entries of ``{"provider": [...], "customer": [...]}`` for
    :meth:`Instrument.from_dict`: perspectives set, twins paired by position."""
    unknown = [k for k in forms if k not in ("provider", "customer")]
    lists: dict[str, list[str]] = {}
    for side, items in forms.items():
        if side in unknown:
            continue
        if isinstance(items, str) or not isinstance(items, Iterable):
            raise CodebookError(f"the {side} items of construct {cid!r} must be a list of item ids; "
                                f"got {items!r}", key=f"mapping[{cid!r}][{side!r}]")
        lists[side] = list(items)
    if unknown or not lists:
        raise CodebookError(f"construct {cid!r}: the forms are 'provider' and 'customer'; got "
                            f"{', '.join(map(repr, forms)) or 'none'}", key=f"mapping[{cid!r}]")
    paired = len(lists) == 2
    if paired and len(lists["provider"]) != len(lists["customer"]):
        raise CodebookError(
            f"construct {cid!r}: {len(lists['provider'])} provider and {len(lists['customer'])} customer "
            "items; the forms pair their items by position, so both lists need the same length (a "
            "construct asked on one form only gives that form alone)", key=f"mapping[{cid!r}]")
    out = []
    for side, items in lists.items():
        if side not in sides_used:
            sides_used.append(side)
        twins = lists["customer" if side == "provider" else "provider"] if paired else [None] * len(items)
        for iid, twin in zip(items, twins):
            all_items.append(iid)
            entry = {"id": iid, "text": texts.get(iid, iid), "reverse": iid in reverse, "perspective": side}
            if twin is not None:
                entry["pair"] = twin
            if iid in scales:
                entry["scale"] = own_scale(iid)
            out.append(entry)
    return out
