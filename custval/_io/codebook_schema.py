"""pydantic models of the ``custval-codebook/1`` YAML format.

These models check the *structure* of a codebook (required keys, types,
identifiers, no unknown keys anywhere: ``extra="forbid"``).  Rules that relate
one part of the codebook to another (duplicate ids, pairs, label codes within
the scale, ...) are checked afterwards by ``custval.codebook._cross_check`` so
that every message can name the exact key.  The format is documented in
``custval/instruments/README.md``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
)

FORMAT = "custval-codebook/1"

#: instrument and dataset names: lower-case identifiers
Name = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]*$")]
#: construct and item ids: identifiers that are also valid lavaan / R names
Identifier = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z][A-Za-z0-9_.]*$")]
#: language codes such as ``en``, ``fi``, ``sv``, ``pt-BR``
Lang = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a finite number written without quotes; got {value!r}")
    return value


#: a number written as a YAML number (a quoted "1" is an error, a bool too)
Number = Annotated[Any, AfterValidator(_number)]
Perspective = Literal["provider", "customer"]


def _text_as_mapping(value):
    """A plain string is the English text: ``"x"`` == ``{en: "x"}``."""
    if isinstance(value, str):
        return {"en": value}
    return value


#: text in one or more languages; a plain string means English
LangText = Annotated[dict[Lang, StrictStr], BeforeValidator(_text_as_mapping)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


Code = Annotated[int, Field(strict=True)]
ScaleLabels = dict[Lang, dict[Code, StrictStr]]


class OwnScaleModel(_Model):
    """``scale:`` under a construct or an item: overrides the instrument's scale."""

    min: Number
    max: Number
    labels: ScaleLabels | None = None


class ContentValidityModel(_Model):
    """``content_validity:`` under an item: an expert panel's verdict (custval.content_validity)."""

    kind: Literal["relevance", "essential"] | None = None
    n_raters: Annotated[int, Field(strict=True, ge=1)] | None = None
    i_cvi: Annotated[float, Field(ge=0, le=1)] | None = None
    cvr: Annotated[float, Field(ge=-1, le=1)] | None = None
    verdict: Literal["keep", "drop"]


class ItemModel(_Model):
    id: Identifier
    text: LangText
    reverse: StrictBool = False
    perspective: Perspective | None = None
    pair: Identifier | None = None
    scale: OwnScaleModel | None = None
    # the content facet the item covers (custval.short_form keeps facets covered)
    facet: Identifier | None = None
    content_validity: ContentValidityModel | None = None


class ConstructModel(_Model):
    id: Identifier
    label: LangText
    definition: LangText | None = None
    perspective: Perspective | None = None
    scale: OwnScaleModel | None = None
    items: list[ItemModel] = Field(min_length=1)


class ScaleModel(_Model):
    min: Number
    max: Number
    labels: ScaleLabels | None = None
    # survey-platform answer codes (LimeSurvey "A1"/"AO01"): {code: number} or a regular
    # expression with one group (the number), e.g. 'AO?0*(\d+)'; read_survey(answer_codes=)
    answer_codes: dict[StrictStr, Number] | StrictStr | None = None


class DontKnowModel(_Model):
    codes: list[Number] = Field(min_length=1)
    labels: dict[Lang, list[StrictStr]] | None = None


class MissingModel(_Model):
    codes: list[Number] = Field(default_factory=list)
    dont_know: DontKnowModel | None = None


class FormModel(_Model):
    label: LangText | None = None
    respondents: StrictStr | None = None


VariableType = Literal["integer", "number", "categorical", "text"]


class VariableModel(_Model):
    """A non-item column (covariate, group, firm, role, global rating) under ``variables:``."""

    type: VariableType
    label: LangText | None = None
    description: StrictStr | None = None
    min: Number | None = None
    max: Number | None = None
    # allowed values: a list of codes/texts, or {code: label}
    categories: list[Code | StrictStr] | dict[Code | StrictStr, StrictStr] | None = None
    missing: list[Number | StrictStr] = Field(default_factory=list)
    required: StrictBool = True


class CodebookModel(_Model):
    format: Literal["custval-codebook/1"]
    name: Name
    version: StrictStr
    title: LangText
    citation: StrictStr
    description: StrictStr | None = None
    languages: list[Lang] = Field(min_length=1)
    dataset: Name | None = None
    scale: ScaleModel
    missing: MissingModel | None = None
    forms: dict[Perspective, FormModel] | None = None
    constructs: list[ConstructModel] = Field(min_length=1)
    variables: dict[StrictStr, VariableModel] | None = None
