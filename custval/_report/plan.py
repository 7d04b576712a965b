"""The measurement plan: decision rules fixed before the data (``custval-plan/1`` YAML).

A plan names, before anyone looks at the answers, how the validation will be run: the CFA
estimator by the number of scale points, which screened respondents are excluded, how many
factors to retain, the invariance criteria, the HTMT bound and what happens to weak items.
:func:`custval.report.dossier` follows it and lists every deviation with its reason.

Example (every key optional except ``format``)::

    format: custval-plan/1
    estimator:
      min_categories: 5      # items with fewer scale points are ordinal
      continuous: ML         # ML or MLR
      ordinal: WLSMV         # WLSMV (the dossier runs MLR and records the deviation)
    missing: listwise        # listwise or fiml
    exclusions:
      rules: [missing, mahalanobis]   # screening rules whose flagged respondents are excluded
      max_missing: 0.5
      mahalanobis_alpha: 0.001
    retention:
      rule: parallel_analysis          # parallel_analysis, map or fixed
      n_iter: 100
    invariance:
      criteria: chen2007
      levels: [configural, metric, scalar]
    htmt:
      bound: 0.85
    item_drop:
      policy: keep                     # keep (flag only) or drop
      min_loading: 0.4
      min_items: 3
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._io.yaml import YamlSyntaxError, load_yaml
from ..exceptions import SpecificationError

FORMAT = "custval-plan/1"
#: screening rules of :func:`custval.screen` a plan may use to exclude respondents
SCREEN_RULES = ("longstring", "straight_lining", "mahalanobis", "missing", "speed")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EstimatorRule(_Model):
    """CFA estimator by the number of scale points of the items."""

    min_categories: int = Field(5, ge=2, le=101)
    continuous: Literal["ML", "MLR"] = "ML"
    ordinal: Literal["WLSMV", "ML", "MLR"] = "WLSMV"


class Exclusions(_Model):
    """Screening rules whose flagged respondents are excluded (none by default: flag only)."""

    rules: list[Literal["longstring", "straight_lining", "mahalanobis", "missing", "speed"]] = []
    max_missing: float = Field(0.5, gt=0, le=1)
    mahalanobis_alpha: float = Field(0.001, gt=0, lt=1)
    longstring_cutoff: int | None = Field(None, ge=2)
    duration: str | None = None


class Retention(_Model):
    """How many factors the EFA retains."""

    rule: Literal["parallel_analysis", "map", "fixed"] = "parallel_analysis"
    k: int | None = Field(None, ge=1)
    n_iter: int = Field(100, ge=10, le=5000)


class InvarianceRule(_Model):
    """Measurement-invariance levels and criteria across the groups of ``group``."""

    criteria: Literal["chen2007", "chisq", "cheung_rensvold2002"] = "chen2007"
    levels: list[Literal["configural", "metric", "scalar", "strict"]] = [
        "configural", "metric", "scalar"]
    required: bool = False


class HTMTRule(_Model):
    """Discriminant validity: the one-sided bootstrap upper bound of every HTMT must stay below."""

    bound: float = Field(0.85, gt=0, le=1)


class ItemDrop(_Model):
    """What happens to items whose standardized CFA loading is below ``min_loading``."""

    policy: Literal["keep", "drop"] = "keep"
    min_loading: float = Field(0.4, gt=0, lt=1)
    min_items: int = Field(3, ge=1)


class MeasurementPlan(_Model):
    """A measurement plan (``custval-plan/1``); every rule has a default used when it is absent."""

    format: Literal["custval-plan/1"]
    title: str | None = None
    estimator: EstimatorRule | Literal["ML", "MLR", "WLSMV"] = EstimatorRule()
    missing: Literal["listwise", "fiml"] = "listwise"
    exclusions: Exclusions = Exclusions()
    retention: Retention = Retention()
    invariance: InvarianceRule = InvarianceRule()
    htmt: HTMTRule = HTMTRule()
    item_drop: ItemDrop = ItemDrop()


def default_plan() -> MeasurementPlan:
    """The rules used when no plan is given (they were not fixed before the data)."""
    return MeasurementPlan(format=FORMAT)


def load_plan(path) -> tuple[MeasurementPlan, str]:
    """Read and check a plan file; return the plan and the file's SHA-256.

    Raises
    ------
    SpecificationError
        Naming the file, every faulty key with its line, and what is allowed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecificationError(f"{path}: the measurement plan cannot be read ({exc.strerror or exc})") from None
    try:
        data, lines = load_yaml(path)
    except YamlSyntaxError as exc:
        where = f" line {exc.line}" if getattr(exc, "line", None) else ""
        raise SpecificationError(f"{path}{where}: {exc}") from None
    except UnicodeDecodeError:
        raise SpecificationError(f"{path}: the measurement plan is not UTF-8 text") from None
    if not isinstance(data, dict):
        raise SpecificationError(f"{path}: a measurement plan is a YAML mapping starting with "
                                 f"'format: {FORMAT}'")
    try:
        plan = MeasurementPlan.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        nested = {e["loc"][0] for e in errors if len(e["loc"]) > 2}
        for err in errors:
            if err.get("type") == "literal_error" and len(err["loc"]) <= 2 and err["loc"][0] in nested:
                continue  # the other member of a union (estimator: a name or a rule)
            missing = err.get("type") == "missing"
            key, line = lines.locate(err["loc"], missing_key=missing)
            msg = err.get("msg", "invalid value")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key (not part of the custval-plan/1 format; check the spelling)"
            elif missing:
                msg = "required key is missing"
            elif key == "format":
                msg = f"format must be {FORMAT!r}"
            else:
                msg = f"{msg}; got {err.get('input')!r}"
            problems.append(f"  {key or '(top)'}" + (f" (line {line})" if line else "") + f": {msg}")
        raise SpecificationError(f"{path}: the measurement plan has {len(problems)} problem(s):\n"
                                 + "\n".join(dict.fromkeys(problems))) from None
    if plan.retention.rule == "fixed" and plan.retention.k is None:
        key_line = lines.line(("retention", "rule"))
        raise SpecificationError(f"{path} line {key_line}: retention.rule is 'fixed' but retention.k "
                                 "(the number of factors) is not given")
    return plan, hashlib.sha256(raw).hexdigest()
