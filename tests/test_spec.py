"""One model and instrument layer (custval._sem.spec) and no import cycles.

The same measurement model, given as lavaan syntax (comments, continuation lines, saved by a
Windows editor: BOM, CRLF), as the shipped Instrument and as a ``{construct: [items]}``
mapping, gives the same estimates in every function that takes a model, and the same bad
model the same error type everywhere.  The data are the shipped bfi export written as a
survey platform writes it and read with ``custval.read_survey``.
"""

from __future__ import annotations

import ast
import functools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import custval
from custval._io.paths import RAW_DATA_DIR
from custval._sem.spec import as_instrument, as_syntax, measurement_blocks
from custval.cfa import CFA
from custval.exceptions import (
    DatasetNotFoundError,
    ModelSyntaxError,
    SpecificationError,
)
from custval.gaps import (
    benchmark_firms,
    cocreation_segments,
    form_invariance,
    latent_perception_gap,
    perception_gap,
    readiness,
)
from custval.invariance import measurement_invariance as invariance
from custval.pls import PLS
from custval.validity import common_method_cfa, cross_loadings, htmt

PACKAGE = Path(custval.__file__).parent

# the bfi measurement model as a researcher types it: comments, a statement continued on
# the next line (trailing '+' or a leading '+'), a marker modifier, '!' comments
BFI_SYNTAX = """\
# IPIP Big Five (bfi), five traits
A =~ A1 + A2 + A3 +
     A4 + A5                 # agreeableness
C =~ 1*C1 + C2 + C3 + C4 + C5
E =~ E1 + E2 + E3
   + E4 + E5                 ! extraversion
N =~ N1 + N2 + N3 + N4 + N5; O =~ O1 + O2 +
     O3 + O4 + O5
"""


def _export(path, text: str) -> None:
    """Write text as a Windows export: UTF-8 with BOM, CRLF line ends."""
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))


@functools.cache
def _bfi_text() -> str:
    return (RAW_DATA_DIR / "bfi" / "bfi.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bfi(tmp_path_factory):
    """(answers as read, keyed answers, instrument): complete cases on the items and gender."""
    path = tmp_path_factory.mktemp("bfi") / "bfi_export.csv"
    _export(path, _bfi_text())
    inst = custval.load_instrument("bfi")
    df = custval.read_survey(path, inst, id_column="id")
    items = list(inst.items)
    complete = df[[*items, "gender"]].notna().all(axis=1)
    df = df.loc[complete].reset_index(drop=True)
    return df, inst.keyed(df), inst


@pytest.fixture(scope="module")
def models(bfi, tmp_path_factory):
    """The same model three ways (+ the syntax as read from a Windows-saved file)."""
    _, _, inst = bfi
    path = tmp_path_factory.mktemp("model") / "bfi_model.lav"
    _export(path, BFI_SYNTAX)
    from_file = path.read_text(encoding="utf-8")  # the BOM stays in the text
    assert from_file.startswith("\ufeff") and "\r\n" in path.read_bytes().decode("utf-8")
    return {"syntax": BFI_SYNTAX, "file": from_file, "dict": {c: list(v) for c, v in inst.constructs.items()}}


# --------------------------------------------------------------------------- the layer
def test_measurement_blocks_reads_the_parser_table():
    text = (
        "\ufeff# a comment line\r\n"
        "F =~ NA*x1 + a*x2 +\r\n"
        "     start(.5)*x3   ! continued\r\n"
        "G =~ c(l1, l2)*y1 + y2\n"
        "  + y3\n"
        "F ~~ G; x1 ~~ x2\n"
        "G ~ F\n"
        "a == 1\n"
        "d := a * 2\n"
    )
    assert measurement_blocks(text) == {"F": ("x1", "x2", "x3"), "G": ("y1", "y2", "y3")}
    # the mapping and an Instrument give the same blocks
    assert measurement_blocks({"F": ["x1", "x2", "x3"], "G": ("y1", "y2", "y3")}) == measurement_blocks(text)
    inst = custval.load_instrument("ecsi")
    assert measurement_blocks(inst) == inst.constructs
    assert as_syntax(inst) == inst.model_syntax()
    assert as_syntax({"F": ["x1", "x2"], "G": ["y1"]}, constructs=["G"]) == "G =~ y1"


def test_measurement_blocks_errors_quote_the_line_as_cfa_does():
    bad = "F =~ x1 + x2 +\n   + x3\nG =~ y1"  # continued line with an empty term
    with pytest.raises(ModelSyntaxError) as blocks_err:
        measurement_blocks(bad)
    with pytest.raises(ModelSyntaxError) as cfa_err:
        CFA(bad).fit(pd.DataFrame(np.eye(4) + 1, columns=["x1", "x2", "x3", "y1"]))
    assert str(blocks_err.value) == str(cfa_err.value)
    assert "line 1" in str(blocks_err.value) and "'F =~ x1 + x2 + + x3'" in str(blocks_err.value)
    with pytest.raises(ModelSyntaxError, match=r"line 2: 'F =~ x2 \+ x3': parameter 'F =~ x2' is specified twice"):
        measurement_blocks("F =~ x1 + x2\nF =~ x2 + x3")
    with pytest.raises(ModelSyntaxError, match="defines no latent variable"):
        measurement_blocks("F ~~ G")
    with pytest.raises(ModelSyntaxError, match="'C 2' is not a variable name"):
        measurement_blocks({"C": ["C1", "C 2"]})
    with pytest.raises(ModelSyntaxError, match="expected a list of item names"):
        measurement_blocks({"C": "C1 + C2"})
    with pytest.raises(ModelSyntaxError, match="has no items"):
        measurement_blocks({"C": []})
    with pytest.raises(SpecificationError, match="must be lavaan model syntax"):
        measurement_blocks(42)


def test_as_instrument_takes_an_instrument_a_name_or_a_codebook_path(tmp_path):
    inst = custval.load_instrument("cwi")
    own = tmp_path / "codebooks" / "cwi copy.yaml"
    own.parent.mkdir()
    own.write_bytes(Path(inst.source).read_bytes())
    assert as_instrument(inst) is inst
    assert as_instrument("cwi") is inst
    assert as_instrument(own).constructs == inst.constructs
    assert as_instrument(str(own)).constructs == inst.constructs
    with pytest.raises(DatasetNotFoundError, match="unknown instrument 'cwii'"):
        as_instrument("cwii")
    for not_an_instrument in ("CPROC =~ CPROC_P1 + CPROC_P2", {"CPROC": ["CPROC_P1", "CPROC_P2"]}):
        with pytest.raises(SpecificationError, match="no scale, answer codes or provider/customer pairs"):
            as_instrument(not_an_instrument)


# --------------------------------------------------------------------------- same model, same numbers
def _same(a: pd.DataFrame | pd.Series, b, what: str) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=0, atol=1e-12,
                               err_msg=what)


def test_cfa_same_model_three_ways(bfi, models):
    raw, keyed, inst = bfi
    ref = CFA(models["syntax"]).fit(keyed)
    for name, model in models.items():
        fit = CFA(model).fit(keyed)
        _same(fit.params_["est"], ref.params_["est"], name)
        assert fit.fit_measures_["chisq"] == pytest.approx(ref.fit_measures_["chisq"], abs=1e-9)
    fit = CFA(inst).fit(raw)  # the Instrument keys the raw answers itself
    _same(fit.params_["est"], ref.params_["est"], "instrument")
    assert set(fit.reverse_keyed_) == set(inst.reverse_items)


def test_htmt_and_cross_loadings_same_model_three_ways(bfi, models):
    raw, keyed, inst = bfi
    ref_h = htmt(keyed, models["syntax"], n_boot=50, seed=3)
    ref_x = cross_loadings(keyed, models["syntax"])
    for name, model in [*models.items(), ("instrument", inst)]:
        data = raw if name == "instrument" else keyed
        _same(htmt(data, model, n_boot=50, seed=3).table[["estimate", "upper_bound"]],
              ref_h.table[["estimate", "upper_bound"]], name)
        _same(cross_loadings(data, model).loadings, ref_x.loadings, name)


def test_invariance_same_model_three_ways(bfi, models):
    raw, keyed, inst = bfi
    model = "C =~ C1 + C2 +\n  C3 + C4 + C5   # conscientiousness\nN =~ N1 + N2 + N3 + N4 + N5"
    sub = {c: list(inst.constructs[c]) for c in ("C", "N")}
    two = custval.Instrument.from_dict(sub, scale=(1, 6), reverse=["C4", "C5"], name="bfi_cn")
    # partial invariance with a loading freed in one group rewrites the statement that was continued
    free = {"C =~ C3": [1]}
    ref = invariance(keyed, model, group="gender", free=free, stop=False)
    for name, m, data in (("dict", sub, keyed), ("instrument", two, raw)):
        res = invariance(data, m, group="gender", free=free, stop=False)
        _same(res.table[["chisq", "df", "cfi", "rmsea"]], ref.table[["chisq", "df", "cfi", "rmsea"]], name)
    # the loading freed in one group: the metric model has one equality constraint less
    plain = invariance(keyed, model, group="gender", stop=False)
    assert plain.table["df"].iloc[1] == ref.table["df"].iloc[1] + 1


def test_common_method_cfa_same_model_three_ways(bfi, models):
    raw, keyed, inst = bfi
    ref = common_method_cfa(keyed, models["syntax"])
    for name, m, data in (("file", models["file"], keyed), ("dict", models["dict"], keyed),
                          ("instrument", inst, raw)):
        res = common_method_cfa(data, m)
        _same(res.fit[["chisq", "df", "cfi"]], ref.fit[["chisq", "df", "cfi"]], name)
        assert res.method_variance == pytest.approx(ref.method_variance, abs=1e-10)


def test_pls_same_model_three_ways(bfi):
    raw, keyed, inst = bfi
    syntax = """# PLS: modifiers have no meaning here
A =~ A1 + A2 + A3 +
     A4 + A5
C =~ C1 + C2 + C3 + C4 + C5 ! conscientiousness
E =~ E1 + E2 + E3
   + E4 + E5
N =~ N1 + N2 + N3 + N4 + N5
"""
    paths = "N ~ C + E\nA ~ N"
    ref = PLS(syntax + paths).fit(keyed)
    sub = {c: list(inst.constructs[c]) for c in ("A", "C", "E", "N")}
    everything = {c: list(v) for c, v in inst.constructs.items()}  # O is in no path: left out
    for name, m, data in (("dict", sub, keyed), ("dict of all", everything, keyed), ("instrument", inst, raw)):
        fit = PLS(m, paths=paths).fit(data)
        _same(fit.paths_.loc[ref.paths_.index, ref.paths_.columns], ref.paths_, name)
        _same(fit.weights_.loc[ref.weights_.index, ref.weights_.columns], ref.weights_, name)
    with pytest.raises(SpecificationError, match="needs the structural paths"):
        PLS(sub).fit(keyed)
    with pytest.raises(SpecificationError, match="paths= is for an Instrument or a mapping"):
        PLS(syntax + paths, paths=paths).fit(keyed)


def test_composite_reliability_checks_keys_of_an_instrument_given_by_name(bfi):
    raw, keyed, inst = bfi
    with pytest.warns(custval.exceptions.ReverseKeyWarning, match="declares reverse-keyed"):
        unkeyed_fit = CFA(inst.model_syntax()).fit(raw)  # syntax on the raw answers: not keyed
    texts = []
    for given in (inst, "bfi", inst.source):
        with pytest.warns(custval.exceptions.ReverseKeyWarning, match="keyed differently") as rec:
            res = custval.composite_reliability(unkeyed_fit, instrument=given)
        texts.append((str(rec[0].message), res.verdict))
    assert texts[0] == texts[1] == texts[2]
    with pytest.raises(SpecificationError, match="no scale, answer codes"):
        custval.composite_reliability(unkeyed_fit, instrument={"C": ["C1", "C2", "C3"]})


def test_instrument_functions_take_a_name_or_codebook_path_alike(bfi, tmp_path):
    raw, _, inst = bfi
    own = tmp_path / "my codebooks" / "bfi.yaml"
    own.parent.mkdir()
    own.write_bytes(Path(inst.source).read_bytes())
    calls = {
        "screen": lambda i: custval.screen(raw, i).flags,
        "item_analysis": lambda i: custval.item_analysis(raw, i),
        "reliability": lambda i: custval.scale_reliability(raw, i, ci_method=None),
        "harman_single_factor": lambda i: pd.Series({"share": custval.harman_single_factor(raw, i).estimate}),
    }
    for name, call in calls.items():
        ref = call(inst)
        for given in ("bfi", own):
            pd.testing.assert_frame_equal(pd.DataFrame(call(given)), pd.DataFrame(ref), obj=f"{name}({given})")
        with pytest.raises(SpecificationError, match="no scale, answer codes"):
            call({c: list(v) for c, v in inst.constructs.items()})


# --------------------------------------------------------------------------- same bad model, same error
def _fitters(keyed):
    return {
        "CFA": lambda m: CFA(m).fit(keyed),
        "htmt": lambda m: htmt(keyed, m, n_boot=0),
        "cross_loadings": lambda m: cross_loadings(keyed, m),
        "invariance": lambda m: invariance(keyed, m, group="gender"),
        "common_method_cfa": lambda m: common_method_cfa(keyed, m),
        "PLS": lambda m: PLS(m, paths=None if isinstance(m, (str, int)) else "N ~ C").fit(keyed),
    }


@pytest.mark.parametrize("bad, error, text", [
    ("C =~ C1 + C2 +\n  + C3\nN =~ N1 + N2 + N3\nN ~ C", ModelSyntaxError, "line 1"),
    ({"C": ["C1", "C 2"], "N": ["N1", "N2"]}, ModelSyntaxError, "'C 2' is not a variable name"),
    ({"C": [], "N": ["N1", "N2"]}, ModelSyntaxError, "construct 'C' of the model mapping has no items"),
    ({"C": "C1 + C2", "N": ["N1", "N2"]}, ModelSyntaxError, "expected a list of item names"),
    (42, SpecificationError, "must be lavaan model syntax"),
])
def test_the_same_bad_model_gives_the_same_error_everywhere(bfi, bad, error, text):
    _, keyed, _ = bfi
    for name, fit in _fitters(keyed).items():
        with pytest.raises(error, match=text):
            fit(bad)
        if error is SpecificationError:
            with pytest.raises(SpecificationError) as info:
                fit(bad)
            assert not isinstance(info.value, ModelSyntaxError), name


# --------------------------------------------------------------------------- the gap functions
@pytest.fixture(scope="module")
def case():
    from custval.simulate import case_study

    return case_study(seed=0).validated()


def test_gap_functions_take_an_instrument_its_name_or_its_codebook(case, tmp_path):
    prov, cust = case
    inst = custval.load_instrument("cwi")
    own = tmp_path / "cwi.yaml"
    own.write_bytes(Path(inst.source).read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", custval.exceptions.InvarianceWarning)
        ref = perception_gap(prov, cust, inst, n_boot=100, seed=1).table
        for given in ("cwi", own):
            _same(perception_gap(prov, cust, given, n_boot=100, seed=1).table[["estimate", "se"]],
                  ref[["estimate", "se"]], str(given))
    r_ref = readiness(prov, inst, n_boot=100, seed=1).table
    _same(readiness(prov, own, n_boot=100, seed=1).table[["estimate"]], r_ref[["estimate"]], "readiness")
    s_ref = cocreation_segments(cust, inst, k=2)
    assert (cocreation_segments(cust, "cwi", k=2).labels == s_ref.labels).all()


@pytest.mark.parametrize("bad", ["CPROC =~ CPROC_P1 + CPROC_P2 +\n  CPROC_P3",
                                 {"CPROC": ["CPROC_P1", "CPROC_P2", "CPROC_P3"]}])
def test_gap_functions_ask_for_the_scale_of_a_model_the_same_way(case, bad):
    prov, cust = case
    calls = {
        "perception_gap": lambda: perception_gap(prov, cust, bad, n_boot=100),
        "readiness": lambda: readiness(prov, bad, n_boot=100),
        "cocreation_segments": lambda: cocreation_segments(cust, bad, k=2),
        "benchmark_firms": lambda: benchmark_firms(prov, cust, bad, n_boot=100),
        "form_invariance": lambda: form_invariance(prov, cust, bad),
        "latent_perception_gap": lambda: latent_perception_gap(prov, cust, bad, invariance=None),
    }
    for name, call in calls.items():
        with pytest.raises(SpecificationError, match=r"pass scale=\(min, max\)") as info:
            call()
        assert "model syntax" in str(info.value) or "mapping" in str(info.value), name


# --------------------------------------------------------------------------- import cycles
def _import_graph() -> dict[str, set[str]]:
    """custval module -> custval modules it imports, by dotted name under ``custval``
    (``cfa``, ``_sem.spec``; module level and inside functions; ``if TYPE_CHECKING:``
    imports and ``custval/__init__.py``'s lazy exports are not edges)."""
    init = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    exports: dict[str, str] = {}
    for node in ast.walk(init):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_EXPORTS":
            exports = {k.value: v.value.removeprefix("custval.") for k, v in zip(node.value.keys, node.value.values)}
    assert exports, "custval/__init__.py has no _EXPORTS table"
    files: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path  # the package itself is ""
    modules = set(files) - {""}

    def target(name: str) -> str:
        """The module a dotted name belongs to (a name inside a module maps to the module)."""
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or "__init__"

    graph: dict[str, set[str]] = {}
    for name in sorted(modules):
        path = files[name]
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                type_only |= {id(n) for n in ast.walk(node)}
        out: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.split(".") if package else []
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                elif node.module and node.module.split(".")[0] == "custval":
                    base = node.module.partition(".")[2]
                else:
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}" if base else alias.name
                    if full in modules:
                        out.add(full)
                    elif not base:  # from custval import Name: the module that defines it
                        out.add(target(exports.get(alias.name, "__init__")))
                    else:
                        out.add(target(base))
            elif isinstance(node, ast.Import):
                out |= {target(a.name.partition(".")[2]) for a in node.names if a.name.startswith("custval.")}
        graph[name] = out - {name, "__init__", ""}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_among_custval_modules():
    graph = _import_graph()
    assert {"_sem.spec", "_gaps.inputs", "_sem.syntax"} <= set(graph)
    assert all("_sem.spec" in graph[m] for m in ("validity", "invariance", "cfa", "pls", "_gaps.inputs"))
    cycles = _cycles(graph)
    detail = {tuple(c): {m: sorted(graph[m] & set(c)) for m in c} for c in cycles}
    assert cycles == [], f"import cycles among custval modules: {detail}"
