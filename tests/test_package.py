import ast
import importlib
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import custval


def test_every_public_name_resolves():
    missing = []
    for name, module in custval._EXPORTS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError:
            missing.append(f"{module} (for {name})")
            continue
        if not hasattr(mod, name):
            missing.append(f"{module}.{name}")
    assert not missing, "public names that do not resolve: " + ", ".join(missing)


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = custval.nope


def test_submodules_named_like_a_statistic_are_modules():
    import custval.invariance
    import custval.questionnaire
    import custval.reliability

    for name in ("reliability", "invariance", "questionnaire"):
        attr = getattr(custval, name)
        assert isinstance(attr, types.ModuleType), f"custval.{name} is {attr!r}, not the module"
        assert not callable(attr)
    assert custval.validity.htmt is importlib.import_module("custval.validity").htmt


RENAMED = {  # function -> module that defines it (the module keeps its old name)
    "scale_reliability": "reliability",
    "measurement_invariance": "invariance",
    "make_questionnaire": "questionnaire",
}


def test_import_submodule_as_alias_gives_the_module_and_its_functions():
    import custval.invariance as inv
    import custval.questionnaire as q
    import custval.reliability as r

    assert r.__name__ == "custval.reliability" and callable(r.cronbach_alpha)
    assert custval.reliability.cronbach_alpha is r.cronbach_alpha is custval.cronbach_alpha
    assert custval.reliability.omega is custval.omega
    assert inv.rank_invariance_candidates is custval.rank_invariance_candidates
    assert q.data_entry_template is custval.data_entry_template
    assert custval.questionnaire.make_questionnaire is q.make_questionnaire


@pytest.mark.parametrize("function, module", sorted(RENAMED.items()))
def test_renamed_functions_are_exported(function, module):
    mod = importlib.import_module(f"custval.{module}")
    assert custval._EXPORTS[function] == f"custval.{module}"
    assert getattr(custval, function) is getattr(mod, function)
    assert callable(getattr(custval, function))
    assert function in custval.__all__ and function in mod.__all__
    assert function in dir(custval)
    assert module in dir(custval)
    assert module not in custval._EXPORTS  # the module name is not also a function


def test_no_public_name_is_also_a_submodule_name():
    assert not set(custval._EXPORTS) & custval._SUBMODULES
    on_disk = {p.stem for p in Path(custval.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
    assert not set(custval._EXPORTS) & on_disk
    # every public module is reachable as an attribute without an explicit import
    assert on_disk - {"exceptions"} <= custval._SUBMODULES


def test_dir_lists_public_names_submodules_and_version():
    listed = set(dir(custval))
    assert set(custval.__all__) <= listed
    assert custval._SUBMODULES <= listed
    assert isinstance(custval.__version__, str) and custval.__version__


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter importing this checkout; it prints one dict literal."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return ast.literal_eval(proc.stdout.strip().splitlines()[-1])


HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "pyarrow", "openpyxl", "ruamel")


def test_import_custval_imports_no_submodule_and_no_scientific_stack():
    out = _fresh("""
        import sys
        before = set(sys.modules)
        import custval
        new = sorted(set(sys.modules) - before)
        print({"new": new, "file": custval.__file__})
    """)
    assert out["file"].startswith(str(Path(__file__).resolve().parent.parent))
    ours = {m for m in out["new"] if m.split(".")[0] == "custval"}
    assert ours == {"custval", "custval.exceptions"}, ours
    heavy = [m for m in out["new"] if m.split(".")[0] in HEAVY]
    assert not heavy, heavy
    assert "importlib.metadata" not in out["new"]  # __version__ is read on first use


def test_first_use_imports_only_what_it_needs():
    out = _fresh("""
        import sys
        import custval
        custval.cronbach_alpha
        after_alpha = set(sys.modules)
        import custval.ingest
        after_ingest = set(sys.modules)
        print({"alpha": sorted(after_alpha), "ingest": sorted(after_ingest - after_alpha)})
    """)
    alpha = set(out["alpha"])
    assert {"custval.reliability", "pandas"} <= alpha
    for absent in ("custval.cfa", "custval.invariance", "custval.questionnaire", "custval.plots",
                   "matplotlib", "scipy.stats", "scipy.optimize"):
        assert absent not in alpha, absent
    for absent in ("matplotlib", "scipy.stats", "scipy.optimize", "custval.cfa"):
        assert absent not in out["ingest"], absent


def test_star_import_binds_every_public_name():
    out = _fresh("""
        import types
        from custval import *
        ns = dict(globals())
        print({"missing": [n for n in __import__("custval").__all__ if n not in ns],
               "kinds": {n: type(ns[n]).__name__ for n in ("scale_reliability", "measurement_invariance",
                                                           "make_questionnaire", "exceptions")},
               "module_names": sorted(n for n in ("reliability", "invariance", "questionnaire") if n in ns)})
    """)
    assert out["missing"] == []
    assert out["kinds"] == {"scale_reliability": "function", "measurement_invariance": "function",
                            "make_questionnaire": "function", "exceptions": "module"}
    assert out["module_names"] == []  # the modules are not star-exported, and no function shadows them
