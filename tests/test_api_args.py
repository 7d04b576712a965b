"""The public API keeps its own argument rules (docs/conventions.md).

Every public callable -- the names in ``custval.__all__`` and the ``__all__`` of each public
module, classes' public methods included -- is inspected with :func:`inspect.signature`:

1. at most the first two parameters are positional (data and instrument/model, or one of
   them); every option is keyword-only.  A positional parameter with a default is an option
   and must be keyword-only, except the few listed in ``POSITIONAL_EXCEPTIONS`` with a reason;
2. the randomness parameter is called ``seed``;
3. missing-data handling has one name per kind of method: functions and estimators that fit a
   lavaan / seminr model take lavaan's ``missing=`` (``"listwise"``, ``"fiml"``, ...); every
   closed-form statistic takes ``nan_policy=``; no other name is used;
4. where data and an instrument (or model) are both taken, the data come first;
5. defaults are stated: an option whose default is ``None`` says in its docstring what None means.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import pytest

import custval

PUBLIC_MODULES = (
    "codebook", "ingest", "screening", "items", "reliability", "dimensionality", "correlation", "efa",
    "cfa", "validity", "invariance", "pls", "gaps", "scoring", "simulate", "tables", "plots",
    "plots_gaps", "questionnaire", "processed", "datasets", "report",
    "shortform",
    "content", "retest", "criterion",
    "planning",
    "align",
    "multilevel",
)

#: (qualified name, reason) of callables allowed more than two positional parameters, a
#: positional parameter with a default, or ``*args``.  Each entry is a deliberate choice.
POSITIONAL_EXCEPTIONS: dict[str, str] = {
    "perception_gap": "two data sets (provider and customer answers), then the instrument: data first",
    "benchmark_firms": "two data sets (provider and customer answers), then the instrument: data first",
    "form_invariance": "two data sets (provider and customer answers), then the instrument: data first",
    "latent_perception_gap": "two data sets (provider and customer answers), then the instrument: data first",
    "item_analysis": "the instrument is the second argument; without it the data's columns are the items",
    "harman_single_factor": "the instrument is the second argument; without it every column is an item",
    "estimator_advice": "the instrument is the second argument; without it the data's columns are the items",
    "EFA.fit": "scikit-learn's estimator protocol fit(X, y=None)",
    "simulate.case_study": "the design is the one input (None: the documented default design)",
    "tables.format_number": "a formatter's (value, digits), as round(value, digits)",
    "tables.format_p": "a formatter's (value, digits), as round(value, digits)",
    "Instrument.title": "a lookup by language: inst.title('fi')",
    "Instrument.scale_labels": "a lookup by language: inst.scale_labels('fi')",
    "tables.APATable.with_notes": "notes are a variadic list: table.with_notes('a', 'b')",
    "report.expected_warnings": "warning classes are a variadic list, as warnings.catch_warnings / pytest.warns",
    "invariance.scaled_difference_test": "a formula of six numbers in Satorra & Bentler's (2001) order",
}

#: closed-form statistics take ``nan_policy``; these fit a lavaan / seminr model and take ``missing``
SEM_ESTIMATORS = frozenset({"CFA", "PLS", "measurement_invariance", "rank_invariance_candidates",
                            "alignment"})
MISSING_NAMES = {"missing", "nan_policy"}
OTHER_MISSING_NAMES = {"na_action", "na_rm", "dropna", "missing_data", "na_policy", "nan_handling",
                       "handle_missing", "missing_policy", "listwise", "pairwise"}
RANDOM_NAMES = {"random_state", "rng", "random_seed", "seed_value", "random", "rs", "state"}
DATA_NAMES = ("data", "df", "frame", "provider", "customer", "x")
INSTRUMENT_NAMES = ("instrument", "inst", "model", "instrument_or_model", "instrument_or_items", "cfa",
                    "spec", "form")


def _is_record(cls) -> bool:
    """Dataclass records (results, codebook entries) are built by custval and read by users."""
    return dataclasses.is_dataclass(cls)


def _public_callables():
    seen: dict[int, tuple[str, object]] = {}

    def add(qual, obj):
        if id(obj) in seen:
            return
        seen[id(obj)] = (qual, obj)
        if inspect.isclass(obj):
            for name, _member in inspect.getmembers(obj):
                if name.startswith("_"):
                    continue
                raw = inspect.getattr_static(obj, name)
                if isinstance(raw, (staticmethod, classmethod)):
                    raw = raw.__func__
                if inspect.isfunction(raw) and raw.__module__.startswith("custval"):
                    seen.setdefault(id(raw), (f"{qual}.{name}", raw))

    for name in custval.__all__:
        obj = getattr(custval, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue
        add(name, obj)
    for mod_name in PUBLIC_MODULES:
        mod = importlib.import_module(f"custval.{mod_name}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            add(f"{mod_name}.{name}", obj)
    return sorted(seen.values(), key=lambda t: t[0])


CALLABLES = _public_callables()


def _signature(qual, obj):
    """Parameters without self/cls; None for a record's constructor."""
    if inspect.isclass(obj):
        if _is_record(obj):
            return None
        params = list(inspect.signature(obj.__init__).parameters.values())[1:]
    else:
        params = list(inspect.signature(obj).parameters.values())
        if params and params[0].name in ("self", "cls"):
            params = params[1:]
    return params


def _excepted(qual: str) -> bool:
    return qual in POSITIONAL_EXCEPTIONS or qual.split(".", 1)[-1] in POSITIONAL_EXCEPTIONS


def _base(qual: str) -> str:
    """The function or class name at the root (``CFA.fit`` -> ``CFA``, ``cfa.CFA`` -> ``CFA``)."""
    parts = qual.split(".")
    return parts[1] if parts[0] in PUBLIC_MODULES and len(parts) > 1 else parts[0]


def test_the_inspection_covers_the_api():
    names = {q for q, _ in CALLABLES}
    for must in ("score", "keyed", "scoring.score", "scoring.keyed", "measurement_table", "CFA", "CFA.fit",
                 "Instrument.score", "PLS.bootstrap", "EFA", "htmt", "tables.loadings_table"):
        assert any(n == must or n.endswith("." + must) for n in names | {n.split(".", 1)[-1] for n in names}), must
    assert len(CALLABLES) > 120


@pytest.mark.parametrize("qual,obj", CALLABLES, ids=[q for q, _ in CALLABLES])
def test_options_are_keyword_only(qual, obj):
    params = _signature(qual, obj)
    if params is None:
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = [p for p in params if p.kind is p.VAR_POSITIONAL]
    with_default = [p.name for p in positional if p.default is not p.empty]
    problems = []
    if len(positional) > 2:
        problems.append(f"{len(positional)} positional parameters ({', '.join(p.name for p in positional)})")
    if with_default:
        problems.append(f"positional option(s) {', '.join(with_default)} (make them keyword-only)")
    if variadic:
        problems.append(f"*{variadic[0].name}")
    if problems and not _excepted(qual):
        pytest.fail(f"{qual}{inspect.signature(obj)}: " + "; ".join(problems))


def test_positional_exceptions_are_still_needed():
    """An exception that no callable needs any more is removed from the list."""
    by_name = {}
    for q, obj in CALLABLES:
        by_name.setdefault(q, obj)
        by_name.setdefault(q.split(".", 1)[-1], obj)
    for name in POSITIONAL_EXCEPTIONS:
        assert name in by_name, f"{name} is not a public callable"
        params = _signature(name, by_name[name])
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        needs = (len(positional) > 2 or any(p.default is not p.empty for p in positional)
                 or any(p.kind is p.VAR_POSITIONAL for p in params))
        assert needs, f"{name} keeps the rule now: drop it from POSITIONAL_EXCEPTIONS"


@pytest.mark.parametrize("qual,obj", CALLABLES, ids=[q for q, _ in CALLABLES])
def test_randomness_is_called_seed(qual, obj):
    params = _signature(qual, obj) or []
    bad = [p.name for p in params if p.name in RANDOM_NAMES or ("seed" in p.name and p.name != "seed")]
    assert not bad, f"{qual}: randomness is `seed=`, not {bad}"
    for p in params:
        if p.name == "seed":
            assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, f"{qual}: seed is a keyword with a default"


@pytest.mark.parametrize("qual,obj", CALLABLES, ids=[q for q, _ in CALLABLES])
def test_one_name_for_missing_data(qual, obj):
    params = _signature(qual, obj) or []
    names = {p.name for p in params}
    assert not names & OTHER_MISSING_NAMES, f"{qual}: missing data are handled by `missing=` or `nan_policy=`"
    base = _base(qual)
    if base in SEM_ESTIMATORS:
        assert "nan_policy" not in names, f"{qual} fits a lavaan/seminr model: lavaan's `missing=`"
    else:
        assert "missing" not in names, f"{qual} is a closed-form statistic: `nan_policy=`, not `missing=`"
    for p in params:
        if p.name in MISSING_NAMES:
            assert p.kind is p.KEYWORD_ONLY and isinstance(p.default, str), (
                f"{qual}: {p.name} is keyword-only with its default stated")


def test_sem_estimators_take_missing():
    for name in SEM_ESTIMATORS:
        obj = getattr(custval, name)
        sig = inspect.signature(obj)
        assert "missing" in sig.parameters, name


@pytest.mark.parametrize("qual,obj", CALLABLES, ids=[q for q, _ in CALLABLES])
def test_data_come_before_the_instrument(qual, obj):
    params = _signature(qual, obj) or []
    names = [p.name for p in params]
    data = [i for i, n in enumerate(names) if n in DATA_NAMES]
    inst = [i for i, n in enumerate(names) if n in INSTRUMENT_NAMES]
    if data and inst:
        assert max(data) < min(inst), f"{qual}{inspect.signature(obj)}: data first, then the instrument/model"


def test_scoring_and_measurement_table_take_data_first():
    from custval import scoring, validity

    assert list(inspect.signature(scoring.score).parameters)[:2] == ["data", "inst"]
    assert list(inspect.signature(scoring.keyed).parameters)[:2] == ["data", "inst"]
    assert list(inspect.signature(scoring.key_codes).parameters)[:2] == ["x", "inst"]
    assert list(inspect.signature(validity.measurement_table).parameters)[:2] == ["data", "cfa"]
    assert list(inspect.signature(custval.read_survey).parameters)[:2] == ["path", "instrument"]


def _param_doc(doc: str, name: str) -> str | None:
    """The text of ``name``'s entry in a numpydoc Parameters section (None if it is not there)."""
    head = rf"^([ \t]*)(?:\w+, *)*{re.escape(name)}(?:, *\w+)* *:[^\n]*"
    m = re.search(head + r"\n((?:\1[ \t]+[^\n]*\n?)*)", doc + "\n", re.MULTILINE)
    return None if m is None else m.group(0)


#: options documented once in their module's docstring ("Options every builder shares")
SHARED_OPTIONS = {"custval.tables": {"title", "number", "notes", "construct_labels"},
                  "custval.plots": {"ax"}, "custval.plots_gaps": {"ax", "figsize"}}


def _none_options():
    out = []
    for qual, obj in CALLABLES:
        params = _signature(qual, obj) or []
        doc = inspect.getdoc(obj) or ""
        module = importlib.import_module(obj.__module__)
        for p in params:
            if p.default is None:
                shared = p.name in SHARED_OPTIONS.get(module.__name__, ())
                out.append((qual, p.name, inspect.getdoc(module) if shared else doc))
    return out


@pytest.mark.parametrize("qual,name,doc", _none_options(), ids=[f"{q}:{n}" for q, n, _ in _none_options()])
def test_a_none_default_is_explained(qual, name, doc):
    entry = _param_doc(doc, name)
    if entry is None and "Parameters\n---" not in doc:  # a short docstring that explains in prose
        sentences = re.split(r"(?<=[.;])\s+", doc.split("Examples\n---")[0])
        entry = " ".join(x for x in sentences if f"``{name}``" in x or f"``{name}=" in x) or None
    assert entry is not None, f"{qual}: option {name!r} (default None) is not documented"
    assert re.search(r"\bNone\b|optional|default|without|otherwise", entry), (
        f"{qual}: the docstring of {name!r} does not say what None means:\n{entry}")


# --------------------------------------------------------------------------- column vocabulary
#: custval's words for these concepts; any of the other spellings is an error outside lavaan's tables
BANNED_COLUMNS = {"ci_lower", "ci_upper", "ci.lower", "ci.upper", "lower", "upper", "low", "high", "lo", "hi",
                  "pval", "pvalue", "p.value", "p", "pr", "sig", "ci95", "ci_95", "ci90", "stderr", "std_err",
                  "std_error", "se_", "nobs", "n_obs", "est"}
#: lavaan's fitMeasures names, used in fit tables that sit beside lavaan's (docs/conventions.md)
LAVAAN_FIT = {"npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic"}
#: lavaan's parameterEstimates names kept in CFA.params_
LAVAAN_PARAMS = {"lhs", "op", "rhs", "group", "label", "free", "est", "std_lv", "std_all"}


def _bad_columns(columns, allowed=frozenset()) -> list[str]:
    bad = []
    for col in columns:
        c = str(col).strip()
        low = c.lower()
        if c in allowed:
            continue
        if low in BANNED_COLUMNS or re.search(r"(_lower|_upper|[_.]pval|[_.]pvalue|_p|ci_?95|ci_?90)$", low):
            bad.append(c)
        elif re.search(r"_(low|high)$", low) and not re.search(r"(^|_)ci_(low|high)$", low):
            bad.append(c)
    return bad


def _frame_columns(obj) -> list[str]:
    import pandas as pd

    frame = obj.to_frame() if hasattr(obj, "to_frame") and not isinstance(obj, pd.DataFrame) else obj
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    return [*map(str, frame.columns), *[str(n) for n in frame.index.names if n is not None]]


@pytest.fixture(scope="module")
def sampled_results():
    """Every kind of public result, computed on small real data (HS 1939) and the simulated CWI study."""
    import warnings

    import numpy as np
    import pandas as pd

    from custval import tables
    from custval.simulate import case_study

    hs = custval.load_dataset("holzinger_swineford1939").data
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    items = hs[[f"x{i}" for i in range(1, 10)]]
    inst = custval.Instrument.from_dict({"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                                         "speed": ["x7", "x8", "x9"]}, scale=(-10, 20))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = custval.CFA(model).fit(hs)
        out["cronbach_alpha"] = custval.cronbach_alpha(items[["x1", "x2", "x3"]], n_boot=50)
        out["omega"] = custval.omega(items[["x1", "x2", "x3", "x4", "x5", "x6"]], n_boot=20)
        out["split_half"] = custval.split_half(items[["x1", "x2", "x3"]])
        out["scale_reliability"] = custval.scale_reliability(items, inst, n_boot=20)
        out["kmo"] = custval.kmo(items)
        out["bartlett"] = custval.bartlett(items)
        out["parallel_analysis"] = custval.parallel_analysis(items, n_iter=10)
        out["velicer_map"] = custval.velicer_map(items)
        out["harman_single_factor"] = custval.harman_single_factor(items)
        out["item_analysis"] = custval.item_analysis(items, inst)
        out["screen"] = custval.screen(items, inst)
        out["polychoric"] = custval.polychoric(pd.DataFrame(np.round(items.iloc[:, :3].clip(0, 6))))
        out["score"] = inst.score(hs)
        out["htmt"] = custval.htmt(hs, model, n_boot=20)
        out["cross_loadings"] = custval.cross_loadings(hs, inst)
        out["composite_reliability"] = custval.composite_reliability(fit)
        out["ave"] = custval.ave(fit)
        out["fornell_larcker"] = custval.fornell_larcker(fit)
        mt = custval.measurement_table(hs, fit, n_boot=20)
        out["measurement_table"] = mt
        out["measurement_table.loadings"] = mt.loadings
        out["CFA.standardized_solution"] = fit.standardized_solution()
        out["CFA.modification_indices"] = fit.modification_indices()
        out["common_method_cfa"] = custval.common_method_cfa(hs, model)
        out["rank_invariance_candidates"] = custval.rank_invariance_candidates(hs, model, group="school",
                                                                               level="metric")
        pls = custval.PLS(model + "\ntextual ~ visual\nspeed ~ textual").fit(hs)
        out["PLS"] = pls
        boot = pls.bootstrap(n_boot=20)
        out["PLS.bootstrap"] = boot
        out["PLS.bootstrap.paths"] = boot.paths
        out["EFA.loadings_"] = custval.EFA(3).fit(items).loadings_
        prov, cust = case_study(seed=0).validated()
        cwi = custval.load_instrument("cwi")
        out["readiness"] = custval.readiness(prov, cwi, n_boot=100)
        out["perception_gap"] = custval.perception_gap(prov, cust, cwi, n_boot=100)
        out["benchmark_firms.ranking"] = custval.benchmark_firms(prov, cust, cwi, n_boot=100).ranking
        out["cocreation_segments"] = custval.cocreation_segments(cust, cwi, k=2)
        out["tables.loadings_table"] = tables.loadings_table(fit.params_)
        out["content_validity"] = custval.content_validity(
            pd.DataFrame({"q1": [4, 3, 4, 2], "q2": [1, 3, 4, 4]}, index=["e1", "e2", "e3", "e4"]))
        out["test_retest"] = custval.test_retest(hs[["id", "x1", "x2"]], hs[["id", "x1", "x2"]].iloc[::-1])
        out["test_retest.table"] = out["test_retest"].table
        out["known_groups"] = custval.known_groups(hs, inst, group="school")
        out["known_groups.table"] = out["known_groups"].table
        out["criterion_validity"] = custval.criterion_validity(hs, inst, criteria=["ageyr"])
        # lavaan's own tables: their lavaan names are allowed, custval's vocabulary for the rest
        out["CFA.params_"] = (fit.params_, LAVAAN_PARAMS)
        out["measurement_invariance"] = (custval.measurement_invariance(
            hs, model, group="school", levels=("configural", "metric")), LAVAAN_FIT)
    return out


#: known columns outside the vocabulary ("result:column"), each with the reason it stays
VOCABULARY_EXCEPTIONS: dict[str, str] = {
    "screen:mahalanobis_p": "a screening flag's p; to become mahalanobis_p_value with the screening "
                            "indices' new return shape",
}


def test_result_columns_use_one_vocabulary(sampled_results):
    problems = {}
    for name, value in sampled_results.items():
        obj, allowed = value if isinstance(value, tuple) else (value, frozenset())
        bad = [c for c in _bad_columns(_frame_columns(obj), allowed) if f"{name}:{c}" not in VOCABULARY_EXCEPTIONS]
        if bad:
            problems[name] = bad
    assert not problems, f"columns outside custval's vocabulary (estimate, se, ci_low, ci_high, p_value, n): {problems}"


def test_results_with_an_estimate_carry_the_vocabulary(sampled_results):
    """Where a result has an interval it is ci_low/ci_high next to estimate; a p is p_value."""
    seen_interval = seen_p = 0
    for value in sampled_results.values():
        obj = value[0] if isinstance(value, tuple) else value
        cols = set(_frame_columns(obj))
        if {"ci_low", "ci_high"} <= cols:
            seen_interval += 1
            assert "estimate" in cols or "est" in cols
        seen_p += "p_value" in cols
    assert seen_interval >= 5 and seen_p >= 5


def test_vocabulary_exceptions_are_still_needed(sampled_results):
    for key in VOCABULARY_EXCEPTIONS:
        name, col = key.split(":")
        assert col in _frame_columns(sampled_results[name]), f"{key} is gone: drop the exception"


def test_the_vocabulary_check_catches_other_spellings():
    assert _bad_columns(["estimate", "se", "ci_lower", "pval", "p", "CI95", "upper", "alpha_low"]) == [
        "ci_lower", "pval", "p", "CI95", "upper", "alpha_low"]
    assert _bad_columns(["alpha_ci_low", "rank_ci_high", "ci_low", "p_value", "n_provider"]) == []
    assert _bad_columns(["pvalue", "chisq"], LAVAAN_FIT) == []


def test_discriminant_table_reads_results_by_their_kind(sampled_results):
    """The builder dispatches on the result's _table_kind, not on its columns."""
    from custval import tables
    from custval.exceptions import SpecificationError

    ht = sampled_results["htmt"]
    fl = sampled_results["fornell_larcker"]
    assert ht._table_kind == "htmt" and fl._table_kind == "fornell_larcker"
    t = tables.discriminant_table(ht)
    assert any("upper bound" in n for n in t.notes)
    t_fl = tables.discriminant_table(fl)
    assert t_fl.to_frame().shape == (3, 3)

    class LookAlike:  # HTMT-like columns but no declared kind: not guessed from its columns
        matrix = ht.matrix
        table = ht.table

    with pytest.raises((SpecificationError, TypeError)):
        tables.discriminant_table(LookAlike())


def test_conventions_page_states_the_rules_and_every_exception():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text(encoding="utf-8")
    for rule in ("seed=", "missing=", "nan_policy=", "keyword-only", "estimate", "ci_low", "ci_high",
                 "p_value", "_table_kind"):
        assert rule in page, rule
    for name in POSITIONAL_EXCEPTIONS:
        short = name.rsplit(".", 1)[-1]
        assert short in page, f"docs/conventions.md does not mention the exception {name}"
    for name in SEM_ESTIMATORS:
        assert name in page, name
