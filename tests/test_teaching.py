"""The teaching exercises: solutions run, student notebooks are up to date and fail helpfully.

``teaching/solutions/NN-name.py`` are jupytext notebooks whose cells are tagged ``solution`` and
``check``; ``teaching/make_exercises.py`` (``make exercises``) writes ``teaching/student/*.ipynb``
from them.  Here every solution notebook is executed (every check must pass), the committed student
notebooks must equal a fresh ``make exercises``, and every student notebook, run unchanged, must stop
at a ``check`` cell with a ``CheckFailed`` that says what is expected (not at a NameError or another
error in a cell the student did not touch).
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path

import jupytext
import pytest
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "teaching"
SOLUTIONS = sorted((TEACHING / "solutions").glob("[0-9]*.py"))
STUDENT = TEACHING / "student"
TIMEOUT = 120


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, TEACHING / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


make_exercises = _module("make_exercises")
checks = _module("_checks")


def _execute(nb, cwd: Path):
    """Run the notebook cell by cell; return (index of the failing cell or None, its error output)."""
    ep = ExecutePreprocessor(timeout=TIMEOUT, kernel_name="python3")
    try:
        ep.preprocess(nb, {"metadata": {"path": str(cwd)}})
    except CellExecutionError:
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    return i, out
        raise
    return None, None


def test_there_are_at_least_four_exercises_with_solutions_and_checks():
    assert len(SOLUTIONS) >= 4
    for path in SOLUTIONS:
        tags = [t for c in jupytext.read(path).cells for t in c.metadata.get("tags", [])]
        assert tags.count("solution") >= 2 and tags.count("check") >= 2, path.name


def test_student_notebooks_are_up_to_date(tmp_path):
    out = tmp_path / "student"
    assert make_exercises.main(["--out", str(out)]) == 0
    fresh = sorted(p.name for p in out.glob("*.ipynb"))
    assert fresh == sorted(p.name for p in STUDENT.glob("*.ipynb")), "run `make exercises`"
    for name in fresh:
        assert (out / name).read_text(encoding="utf-8") == (STUDENT / name).read_text(encoding="utf-8"), (
            f"teaching/student/{name} is out of date: run `make exercises`")
    assert make_exercises.main(["--check"]) == 0


def test_student_notebooks_hold_no_solution_and_no_output():
    for path in SOLUTIONS:
        student = jupytext.read(STUDENT / f"{path.stem}.ipynb")
        solution = jupytext.read(path)
        assert len(student.cells) == len(solution.cells)
        for s_cell, cell in zip(solution.cells, student.cells):
            assert cell.metadata.get("tags", []) == s_cell.metadata.get("tags", [])
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None
            if "solution" in cell.metadata.get("tags", []):
                assert cell.source != s_cell.source
                if cell.cell_type == "code":
                    assert cell.source.startswith(make_exercises.PLACEHOLDER)
            else:
                assert cell.source == s_cell.source


def test_placeholders_assign_none_to_every_name_the_solution_defines():
    src = ("fit = custval.CFA(inst).fit(df)\nx, (y, *z) = 1, (2, 3)\nfor i in range(3):\n    pass\n"
           "with open('f') as fh:\n    pass\ndef helper():\n    return 1\ncfi = fit.fit_measures_['cfi']\n"
           "cfi += 0\nd['k'] = 1\n_hidden = 2\n")
    assert make_exercises.student_source(src, "t") == "\n".join(
        ["# YOUR CODE HERE", *(f"{n} = None" for n in ["fit", "x", "y", "z", "i", "fh", "helper", "cfi"])])
    # names assigned inside with/if/try blocks count; helper names no later cell reads are left out
    src = ("with warnings.catch_warnings(record=True) as caught:\n    df = read(path)\n"
           "if df is not None:\n    n = len(df)\nelse:\n    n = 0\ntry:\n    m = 1\nexcept ValueError:\n    m = 2\n")
    assert make_exercises.student_source(src, "t") == "# YOUR CODE HERE\ncaught = None\ndf = None\nn = None\nm = None"
    assert make_exercises.student_source(src, "t", keep={"df", "m", "check"}) == "# YOUR CODE HERE\ndf = None\nm = None"
    scaffold = "rows = []\nfor firm in firms:\n    ### BEGIN SOLUTION\n    gap = f(firm)\n    ### END SOLUTION\n    rows.append(gap)\n"
    assert make_exercises.student_source(scaffold, "t") == (
        "rows = []\nfor firm in firms:\n    # YOUR CODE HERE\n    gap = None\n    rows.append(gap)")
    with pytest.raises(make_exercises.ExerciseError, match="never closed"):
        make_exercises.student_source("### BEGIN SOLUTION\nx = 1\n", "t.py, cell 3")
    with pytest.raises(make_exercises.ExerciseError, match="not valid Python"):
        make_exercises.student_source("x = (1,\n", "t.py, cell 3")


def test_check_messages_say_what_is_expected_and_why():
    with pytest.raises(checks.CheckFailed, match=r"alpha_A should be Cronbach's alpha of the keyed A "
                       r"items; got None -- replace the placeholder `alpha_A = None` with your code "
                       r"\(did you key the reverse items\?\)"):
        checks.check("alpha_A", None, expected=0.70, what="Cronbach's alpha of the keyed A items",
                     hint="did you key the reverse items?")
    with pytest.raises(checks.CheckFailed, match="got 0.43 -- key A1 first"):
        checks.check("alpha_A", 0.43, expected=0.70, what="alpha", wrong={0.43: "key A1 first"})
    with pytest.raises(checks.CheckFailed, match=r"got 0.5 \(expected 0.7\)"):
        checks.check("alpha_A", 0.5, expected=0.70, what="alpha")

    class Result:
        estimate = 0.7
    with pytest.raises(checks.CheckFailed, match=r"take the number from it, e.g. its .estimate"):
        checks.check("alpha_A", Result(), expected=0.70, what="alpha")
    with pytest.raises(checks.CheckFailed, match=r"replace the placeholder `keyed = None`"):
        checks.check("keyed['PRICE3']", None, expected=1.0, what="PRICE3 keyed")
    with pytest.raises(checks.CheckFailed, match="checking it raised TypeError"):
        checks.check_true("df", lambda: len(None) == 3, what="a frame")
    assert issubclass(checks.CheckFailed, AssertionError)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_notebook_runs_and_passes_every_check(path):
    nb = jupytext.read(path)
    failed, error = _execute(nb, path.parent)
    assert failed is None, f"{path.name}: cell {failed + 1} failed: {error['ename']}: {error['evalue']}"
    n_checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert all(any("correct" in o.get("text", "") for o in c.outputs) for c in n_checks)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_unchanged_student_notebook_fails_its_first_check_helpfully(path):
    nb = jupytext.read(STUDENT / f"{path.stem}.ipynb")
    first_check = next(i for i, c in enumerate(nb.cells) if "check" in c.metadata.get("tags", []))
    failed, error = _execute(nb, STUDENT)
    assert failed is not None, f"{path.stem}.ipynb runs through without any answer"
    assert failed == first_check, (
        f"{path.stem}.ipynb stops at cell {failed + 1} ({error['ename']}: {error['evalue']}), "
        f"not at its first check cell {first_check + 1}")
    assert error["ename"] == "CheckFailed", f"{error['ename']}: {error['evalue']}"
    assert " should be " in error["evalue"] and "got None" in error["evalue"], error["evalue"]


def test_exercise_data_are_what_make_data_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_data", TEACHING / "data" / "make_data.py")
    make_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_data)
    make_data.main(tmp_path)
    for name in ("cafe_export.csv", "cafe_late_answers.csv"):
        assert (tmp_path / name).read_bytes() == (TEACHING / "data" / name).read_bytes(), (
            f"teaching/data/{name} differs from what teaching/data/make_data.py writes")


def test_checker_docstring_examples():
    result = doctest.testmod(checks)
    assert result.attempted >= 2 and result.failed == 0


def test_a_common_mistake_gets_its_own_hint():
    """Alpha of the raw agreeableness items (A1 not keyed) is named as such in exercise 2."""
    path = next(p for p in SOLUTIONS if p.stem.startswith("02"))
    solution = jupytext.read(path)
    nb = jupytext.read(STUDENT / f"{path.stem}.ipynb")
    tasks = [i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", [])]
    nb.cells[tasks[0]].source = solution.cells[tasks[0]].source  # task 1 done right
    nb.cells[tasks[1]].source = ("alpha_A = custval.cronbach_alpha(bfi[A_items]).estimate\n"
                                 "alpha_A_raw = alpha_A")
    failed, error = _execute(nb, STUDENT)
    assert error is not None and error["ename"] == "CheckFailed", error
    assert "alpha_A should be Cronbach's alpha of the keyed A items; got 0.43" in error["evalue"]
    assert "did you key the reverse items?" in error["evalue"]
