"""The documentation site's sources and the one list of dependencies.

``make docs`` builds the site with every warning an error; these tests check, without building it,
what the build cannot: that every public module has an API page, that every third-party package
the library imports is a declared dependency, that the hashed lock pins every declared requirement,
and that the docstrings of every public module keep the numpydoc layout
(Parameters / Returns / See Also) beyond the subset the build enforces everywhere.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import custval

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

from _rtable import PUBLIC_MODULES, _objects, r_lines, r_table  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = (ROOT / "requirements.lock").read_text(encoding="utf-8")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(req: str) -> str:
    return _norm(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0))


def _declared(extras: bool) -> set[str]:
    project = PYPROJECT["project"]
    names = {_req_name(r) for r in project["dependencies"]}
    if extras:
        for reqs in project["optional-dependencies"].values():
            names |= {_req_name(r) for r in reqs}
    return names


def _third_party_imports(path: Path) -> dict[str, bool]:
    """Top-level module -> whether every import of it is optional (inside ``try: ... except ImportError``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    optional_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
            for h in node.handlers
        ):
            for stmt in node.body:
                optional_nodes |= {id(n) for n in ast.walk(stmt)}
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods = [node.module.split(".")[0]]
        else:
            continue
        for mod in mods:
            if mod in sys.stdlib_module_names or mod == "custval":
                continue
            found[mod] = found.get(mod, True) and id(node) in optional_nodes
    return found


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions_of(module: str) -> set[str]:
    dists = _distributions().get(module)
    if not dists:
        pytest.fail(f"{module!r} is imported but no installed distribution provides it")
    return {_norm(d) for d in dists}  # e.g. ruamel: ruamel.yaml and ruamel.yaml.clib


def test_every_library_import_is_a_declared_dependency():
    required, extras = _declared(extras=False), _declared(extras=True)
    problems = []
    for path in sorted((ROOT / "custval").rglob("*.py")):
        for module, optional in _third_party_imports(path).items():
            dists = _distributions_of(module)
            if dists & required or (optional and dists & extras):
                continue
            dist = ", ".join(sorted(dists))
            where = "an extra" if optional else "[project] dependencies"
            problems.append(f"{path.relative_to(ROOT)} imports {module} ({dist}), not in {where}")
    assert not problems, "\n".join(problems)


def test_benchmark_and_test_imports_are_declared():
    declared = _declared(extras=True)
    local = {p.stem for folder in ("benchmarks", "tests", "docs") for p in (ROOT / folder).rglob("*.py")}
    problems = []
    for folder in ("benchmarks", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module in _third_party_imports(path):
                if module in local | {"tests", "benchmarks"}:
                    continue  # a helper module of the suite itself
                dists = _distributions_of(module)
                if not dists & declared:
                    problems.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(dists))})")
    assert not problems, "imported but declared nowhere in pyproject.toml:\n" + "\n".join(problems)


def test_notebook_imports_are_in_the_notebooks_extra():
    """A teacher who installs ``custval[notebooks]`` can run every notebook."""
    extra = {_req_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["notebooks"]}
    available = _declared(extras=False) | extra
    problems = []
    for path in sorted((ROOT / "notebooks").glob("*.py")):
        for module in _third_party_imports(path):
            dists = _distributions_of(module)
            if not dists & available:
                problems.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(dists))})")
    assert not problems, "imported by a notebook but not in custval[notebooks]:\n" + "\n".join(problems)


def test_packages_only_benchmarks_use_are_not_library_dependencies():
    required = _declared(extras=False)
    bench = {_req_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["bench"]}
    assert bench and not bench & required
    library = {
        d
        for p in (ROOT / "custval").rglob("*.py")
        for m in _third_party_imports(p)
        for d in _distributions_of(m)
    }
    assert not bench & library, f"the library imports {bench & library}: declare them as dependencies"


def _lock_pins() -> dict[str, str]:
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{m.group(1)} is pinned without a hash"
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def test_lock_is_compiled_from_pyproject_and_pins_every_declared_requirement():
    from packaging.requirements import Requirement

    header = LOCK.splitlines()[:2]
    assert "pyproject.toml" in header[1] and "--generate-hashes" in header[1], header
    assert not (ROOT / "requirements.in").exists(), "pyproject.toml is the one list of dependencies"
    pins = _lock_pins()
    project = PYPROJECT["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("custval")]
    problems = []
    for text in reqs:
        req = Requirement(text)
        version = pins.get(_norm(req.name))
        if version is None:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"requirements.lock pins {req.name}=={version}, outside {req.specifier}")
    for name in ("hatchling", "editables", "sphinx", "numpydoc", "myst-nb", "threadpoolctl"):
        if name not in pins:
            problems.append(f"{name} is not in requirements.lock")
    assert not problems, "\n".join(problems)


def test_min_lock_pins_every_dependency_at_its_lower_bound():
    from packaging.requirements import Requirement
    from packaging.version import Version

    text = (ROOT / "requirements-min.lock").read_text(encoding="utf-8")
    assert "--resolution lowest-direct" in text.splitlines()[1]
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{m.group(1)} is pinned without a hash"
            pins[_norm(m.group(1))] = m.group(2)
    problems = []
    for req in map(Requirement, PYPROJECT["project"]["dependencies"]):
        lower = [s.version for s in req.specifier if s.operator == ">="]
        if not lower:
            problems.append(f"{req.name} declares no lower bound")
        elif Version(pins.get(_norm(req.name), "0")) != Version(lower[0]):
            problems.append(f"requirements-min.lock pins {req.name}=={pins.get(_norm(req.name))}, "
                            f"not its lower bound {lower[0]}")
    assert not problems, "\n".join(problems)


# --- the site's sources -------------------------------------------------------------------------


def test_every_public_module_has_an_api_page():
    public = set(custval._SUBMODULES) | {"exceptions"}
    public |= {m.removeprefix("custval.") for m in custval._EXPORTS.values()}
    assert public == set(PUBLIC_MODULES), "docs/_rtable.py PUBLIC_MODULES must list every public module"
    index = (DOCS / "api" / "index.rst").read_text(encoding="utf-8")
    for name in public:
        page = DOCS / "api" / f"{name}.rst"
        assert page.exists(), f"no API page for custval.{name}"
        assert f".. automodule:: custval.{name}\n" in page.read_text(encoding="utf-8")
        assert re.search(rf"^   {name}$", index, re.M), f"api/index.rst does not list {name}"


def test_site_includes_the_messy_data_page_and_every_notebook():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in ("guide/workflow", "messy-data", "guide/conventions", "guide/r-equivalents",
                 "notebooks", "api/index"):
        assert re.search(rf"^{re.escape(page)}$", index, re.M), page
    assert "notebooks/*" in (DOCS / "notebooks.md").read_text(encoding="utf-8")
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert 'nb_execution_mode = "off"' in conf  # the committed outputs, never executed here
    assert sorted((ROOT / "notebooks").glob("*.ipynb")), "no notebooks to render"


def test_r_lines_reads_comment_and_prose_forms():
    doc = '''Fit a model.

    Examples
    --------
    >>> fit = CFA(model).fit(df)

    # In R: fit <- lavaan::cfa(model, data = d,
    #                          estimator = "MLR")
    #       fitMeasures(fit)

    In R: ``semTools::AVE(fit)`` and
    ``obs.var = FALSE``.
    '''
    assert r_lines(inspect.cleandoc(doc)) == [
        ('fit <- lavaan::cfa(model, data = d, estimator = "MLR"); fitMeasures(fit)', True),
        ("``semTools::AVE(fit)`` and ``obs.var = FALSE``.", False),
    ]


def test_r_table_covers_the_main_estimators():
    rows = {(qualname, call) for _, qualname, call, _ in r_table()}
    names = {q for q, _ in rows}
    for expected in ("custval.cfa.CFA", "custval.efa.EFA", "custval.pls.PLS",
                     "custval.dimensionality.kmo", "custval.validity.htmt"):
        assert expected in names, f"{expected} has no 'In R:' line"
    assert any("lavaan::cfa" in call for q, call in rows if q == "custval.cfa.CFA")


# --- docstring layout ---------------------------------------------------------------------------

#: checked by ``make docs`` on every documented object (docs/conf.py numpydoc_validation_checks)
SITE_CHECKS = {"GL02", "GL06", "GL07", "PR02", "PR06", "PR10", "SA04", "SS03", "YD01"}
#: checked here, in every public module, on every public function, method and class: every
#: parameter documented (PR01, not for classes: they list their fields under Attributes), a
#: Returns section (RT01) and a See Also section (SA01)
FULL_CHECKS = SITE_CHECKS | {"PR01", "RT01", "SA01"}
FULL_MODULES = tuple(PUBLIC_MODULES)


def _validate(modules, checks):
    from numpydoc.validate import validate

    problems = []
    for short in modules:
        module = importlib.import_module(f"custval.{short}")
        for qualname, obj in _objects(module):
            if obj is module or re.search(r"\.[A-Z][A-Z0-9_]*$", qualname):
                continue
            own = checks
            if inspect.isclass(obj):
                own = checks - {"PR01"}  # result classes document their fields as Attributes
            for code, msg in validate(qualname)["errors"]:
                if code in own:
                    problems.append(f"{qualname}: {code} {msg}")
    return problems


def test_docstrings_of_every_public_module_keep_the_site_layout():
    problems = _validate(PUBLIC_MODULES, SITE_CHECKS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", FULL_MODULES)
def test_docstrings_document_parameters_returns_and_see_also(module):
    problems = _validate([module], FULL_CHECKS)
    assert not problems, "\n".join(problems)


def test_every_top_level_export_has_see_also():
    from numpydoc.validate import validate

    problems = []
    for name in custval.__all__:
        obj = getattr(custval, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # __version__, the exceptions module
        qualname = f"{obj.__module__}.{obj.__qualname__}"
        problems += [f"custval.{name} ({qualname}): {msg}"
                     for code, msg in validate(qualname)["errors"] if code in {"SA01", "SA04"}]
    assert not problems, "\n".join(problems)


def _resolve(name: str):
    parts = name.split(".")
    for i in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = inspect.getattr_static(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def test_see_also_entries_name_documented_functions_and_classes():
    import warnings

    from numpydoc.docscrape import NumpyDocString

    problems = []
    for short in PUBLIC_MODULES:
        module = importlib.import_module(f"custval.{short}")
        for qualname, obj in _objects(module):
            doc = inspect.getdoc(obj.fget if isinstance(obj, property) else obj) or ""
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # module docstrings have free-form headings
                see_also = NumpyDocString(doc)["See Also"]
            for funcs, _ in see_also:
                for name, _ in funcs:
                    full = name if name.startswith("custval.") else f"custval.{short}.{name}"
                    target = _resolve(full)
                    if isinstance(target, (staticmethod, classmethod)):
                        target = target.__func__
                    if not (inspect.isclass(target) or inspect.isfunction(target)
                            or isinstance(target, property)):
                        problems.append(f"{qualname}: See Also {name} is not a function, method or class")
    assert not problems, "\n".join(problems)


def _undocumented_fields(cls) -> list[str]:
    import dataclasses

    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(cls, config={"show_class_members": False})
    documented = {n.strip() for sec in ("Attributes", "Parameters") for p in doc[sec]
                  for n in p.name.split(",")}
    return [f.name for f in dataclasses.fields(cls)
            if not f.name.startswith("_") and f.name not in documented]


@pytest.mark.parametrize("module", FULL_MODULES)
def test_result_classes_document_every_field(module):
    import dataclasses

    mod = importlib.import_module(f"custval.{module}")
    problems = [f"{qualname}: {missing}"
                for qualname, obj in _objects(mod)
                if inspect.isclass(obj) and dataclasses.is_dataclass(obj)
                and (missing := _undocumented_fields(obj))]
    assert not problems, "fields missing from the Attributes section:\n" + "\n".join(problems)
