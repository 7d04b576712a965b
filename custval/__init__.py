"""custval: build and validate customer-value and customer-wisdom survey instruments.

The public API lives in this namespace and follows a researcher's workflow:
codebook → ingest → screening → items → reliability → efa → cfa → validity →
gaps → report.  Public submodules are reachable as attributes
(``custval.validity.htmt``, ``custval.reliability.cronbach_alpha``); no public function
is named like a submodule (the reliability table is :func:`scale_reliability`, the
invariance sequence :func:`measurement_invariance`, the printable form
:func:`make_questionnaire`).

``import custval`` itself imports only :mod:`custval.exceptions` (no numpy, pandas or
scipy): every public name and submodule is imported on first use, so a script that
needs one function pays for that function's dependencies only.  ``dir(custval)`` and
``from custval import *`` list and bind every public name.
"""

from __future__ import annotations

import importlib

from . import exceptions  # cheap, and needed for warning filters
from .exceptions import CodebookError, DataValidationError

# public name -> module that defines it.  One line per name; keep grouped by module.
_EXPORTS: dict[str, str] = {
    # codebook
    "Instrument": "custval.codebook",
    "Construct": "custval.codebook",
    "Item": "custval.codebook",
    "Scale": "custval.codebook",
    "Variable": "custval.codebook",
    "load_instrument": "custval.codebook",
    "list_instruments": "custval.codebook",
    # scoring
    "ScoreResult": "custval.scoring",
    # ingest / processed data / datasets
    "read_survey": "custval.ingest",
    "validate_frame": "custval.ingest",
    "write_processed": "custval.processed",
    "read_processed": "custval.processed",
    "load_dataset": "custval.datasets",
    "list_datasets": "custval.datasets",
    "Dataset": "custval.datasets",
    # screening / items / reliability
    "screen": "custval.screening",
    "item_analysis": "custval.items",
    "estimator_advice": "custval.items",
    "collapse_categories": "custval.items",
    "cronbach_alpha": "custval.reliability",
    "guttman_lambda6": "custval.reliability",
    "split_half": "custval.reliability",
    "omega": "custval.reliability",
    "scale_reliability": "custval.reliability",
    # content validity (expert panel)
    "content_validity": "custval.content",
    # test-retest
    "test_retest": "custval.retest",
    # known-groups and criterion validity
    "known_groups": "custval.criterion",
    "criterion_validity": "custval.criterion",
    # dimensionality / efa
    "kmo": "custval.dimensionality",
    "bartlett": "custval.dimensionality",
    "parallel_analysis": "custval.dimensionality",
    "velicer_map": "custval.dimensionality",
    "harman_single_factor": "custval.dimensionality",
    "polychoric": "custval.correlation",
    "EFA": "custval.efa",
    # cfa
    "CFA": "custval.cfa",
    "multilevel_omega": "custval.multilevel",
    # pls
    "PLS": "custval.pls",
    "micom": "custval.pls",
    "mga": "custval.pls",
    "plspredict": "custval.pls",
    # validity / invariance
    "htmt": "custval.validity",
    "cross_loadings": "custval.validity",
    "composite_reliability": "custval.validity",
    "omega_hierarchical": "custval.validity",
    "ave": "custval.validity",
    "fornell_larcker": "custval.validity",
    "common_method_cfa": "custval.validity",
    "measurement_table": "custval.validity",
    "measurement_invariance": "custval.invariance",
    "rank_invariance_candidates": "custval.invariance",
    "alignment": "custval.align",
    # gaps / questionnaire
    "readiness": "custval.gaps",
    "perception_gap": "custval.gaps",
    "cocreation_segments": "custval.gaps",
    "benchmark_firms": "custval.gaps",
    "form_invariance": "custval.gaps",
    "latent_perception_gap": "custval.gaps",
    "make_questionnaire": "custval.questionnaire",
    # item reduction
    "short_form": "custval.shortform",
    "ShortFormResult": "custval.shortform",
    "data_entry_template": "custval.questionnaire",
    "export_survey": "custval.questionnaire",
    "dynamic_fit_cutoffs": "custval.planning",
    # report
    "dossier": "custval.report",
    "simulate_study": "custval.planning",
    "StudyPlanResult": "custval.planning",
}

# Public submodules reachable as attributes (``custval.validity.htmt``) without an explicit import.
# No public function is named like a submodule: ``custval.reliability`` is always the module.
_SUBMODULES = frozenset({
    "codebook", "scoring", "ingest", "processed", "datasets", "screening", "items", "reliability",
    "dimensionality", "correlation", "efa", "cfa", "pls", "validity", "invariance", "gaps", "simulate",
    "tables", "plots", "plots_gaps", "questionnaire", "report", "pipeline",
    "shortform",
    "content", "retest", "criterion",
    "planning",
    "multilevel",
    "align",
})

__all__ = ["CodebookError", "DataValidationError", "__version__", "exceptions", *_EXPORTS]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # not at import: it costs ~10 ms

    try:
        return version("custval")
    except PackageNotFoundError:  # a source checkout that is not installed
        return "0.1.0"


def __getattr__(name: str):
    """Import a public name's module (or a public submodule) on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        if name in _SUBMODULES:
            return importlib.import_module(f"custval.{name}")
        if name == "__version__":
            value = globals()["__version__"] = _version()
            return value
        raise AttributeError(f"module 'custval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES | {"__version__"})

