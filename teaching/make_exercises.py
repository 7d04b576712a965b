"""Write the student notebooks from the solution notebooks (``make exercises``).

Every ``teaching/solutions/NN-name.py`` (a jupytext percent notebook) becomes
``teaching/student/NN-name.ipynb``:

* a code cell tagged ``solution`` is replaced by a placeholder: ``# YOUR CODE HERE`` and
  ``name = None`` for every name the solution assigns at the top level and a later check (or
  other non-solution) cell reads, so the notebook runs to the next ``check`` cell, which then
  fails with a message saying what ``name`` should hold.  When
  the cell marks its solution with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines, only the
  part between them is replaced and the rest of the cell (the scaffold) is kept;
* a markdown cell tagged ``solution`` (a written answer) becomes "*Write your answer here.*";
* cells tagged ``check`` and every other cell are kept as they are;
* outputs and execution counts are cleared; cell ids are numbered, so the output is the same on
  every run (``--check`` compares it with the committed notebooks).

Usage::

    python teaching/make_exercises.py                 # writes teaching/student/*.ipynb
    python teaching/make_exercises.py --out DIR       # writes DIR/*.ipynb
    python teaching/make_exercises.py --check         # exit 1 if teaching/student is out of date
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
SOLUTIONS = HERE / "solutions"
STUDENT = HERE / "student"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PLACEHOLDER = "# YOUR CODE HERE"
ANSWER_PLACEHOLDER = "*Write your answer here.*"


class ExerciseError(ValueError):
    """A solution notebook that cannot be turned into an exercise (message names file and cell)."""


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Tuple | ast.List):
        return [n for elt in node.elts for n in _targets(elt)]
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    return []  # attribute or subscript assignment: changes an existing object, defines no name


def assigned_names(source: str) -> list[str]:
    """Names a block of code assigns in its own scope, in order of first assignment.

    Assignments inside ``with``, ``for``, ``while``, ``if`` and ``try`` blocks count; those inside
    function and class bodies do not.
    """
    names: list[str] = []
    _collect(ast.parse(source).body, names)
    return names


def _collect(body: list[ast.stmt], names: list[str]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            found = [n for t in stmt.targets for n in _targets(t)]
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            found = _targets(stmt.target)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            found = _targets(stmt.target)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            found = [n for item in stmt.items if item.optional_vars is not None
                     for n in _targets(item.optional_vars)]
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found = [stmt.name]
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            found = [(a.asname or a.name).split(".")[0] for a in stmt.names]
        else:
            found = []
        names += [n for n in found if n not in names and not n.startswith("_")]
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for field in ("body", "orelse", "finalbody"):
                _collect(getattr(stmt, field, []) or [], names)
            for handler in getattr(stmt, "handlers", []) or []:
                _collect(handler.body, names)


def used_names(source: str) -> set[str]:
    """Every name a block of code reads (``ast.Name`` in load context), nested scopes included."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics: no name is taken from it
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _placeholder(solution: str, indent: str = "", keep: set[str] | None = None) -> list[str]:
    names = assigned_names(solution)
    if keep is not None:
        names = [n for n in names if n in keep]
    return [indent + PLACEHOLDER] + [f"{indent}{n} = None" for n in names]


def student_source(source: str, where: str, keep: set[str] | None = None) -> str:
    """The placeholder version of one solution cell's source.

    ``keep``: the names later cells read; only those of the solution's names get a placeholder
    ``name = None`` (helper variables of the solution are left out).  None keeps every name.
    """
    lines = source.splitlines()
    marked = [i for i, line in enumerate(lines) if line.strip() in (BEGIN, END)]
    if not marked:
        try:
            return "\n".join(_placeholder(source, keep=keep))
        except SyntaxError as exc:
            raise ExerciseError(f"{where}: the solution is not valid Python ({exc})") from None
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == END:
            raise ExerciseError(f"{where}: '{END}' without a '{BEGIN}' before it (line {i + 1})")
        if lines[i].strip() != BEGIN:
            out.append(lines[i])
            i += 1
            continue
        start = i
        try:
            stop = next(j for j in range(start + 1, len(lines)) if lines[j].strip() in (BEGIN, END))
        except StopIteration:
            raise ExerciseError(f"{where}: '{BEGIN}' on line {start + 1} is never closed") from None
        if lines[stop].strip() != END:
            raise ExerciseError(f"{where}: '{BEGIN}' on line {stop + 1} inside another solution block")
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        block = "\n".join(line[len(indent):] if line.startswith(indent) else line
                          for line in lines[start + 1: stop])
        try:
            out += _placeholder(block, indent, keep)
        except SyntaxError as exc:
            raise ExerciseError(f"{where}: the solution block on lines {start + 2}-{stop} is not "
                                f"valid Python on its own ({exc})") from None
        i = stop + 1
    return "\n".join(out)


def make_exercise(solution_path: Path) -> nbformat.NotebookNode:
    """The student notebook of one solution notebook."""
    nb = jupytext.read(solution_path)
    n_solutions = n_checks = 0
    for k, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get("tags", []))
        where = f"{solution_path.name}, cell {k + 1}"
        if "solution" in tags and "check" in tags:
            raise ExerciseError(f"{where}: a cell is either a solution or a check, not both")
        if "solution" in tags:
            n_solutions += 1
            later = set().union(*(used_names(c.source) for c in nb.cells[k + 1:]
                                  if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])))
            cell.source = (student_source(cell.source, where, keep=later) if cell.cell_type == "code"
                           else ANSWER_PLACEHOLDER)
        n_checks += "check" in tags
        cell.id = f"cell-{k:03d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {"tags": tags} if tags else {}
    if not n_solutions or not n_checks:
        raise ExerciseError(f"{solution_path.name}: {n_solutions} solution and {n_checks} check cells; "
                            "an exercise needs at least one of each")
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {
        "display_name": "Python 3", "language": "python", "name": "python3"}),
        "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def render(solution_path: Path) -> str:
    """The student notebook of one solution notebook, as the text written to disk."""
    return nbformat.writes(make_exercise(solution_path)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="folder of solution .py files")
    parser.add_argument("--out", type=Path, default=STUDENT, help="folder the .ipynb files go to")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a student notebook is missing or out of date")
    args = parser.parse_args(argv)
    sources = sorted(args.solutions.glob("[0-9]*.py"))
    if not sources:
        print(f"no solution notebooks (NN-name.py) in {args.solutions}", file=sys.stderr)
        return 1
    stale = []
    for src in sources:
        text = render(src)
        target = args.out / f"{src.stem}.ipynb"
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"{src.relative_to(src.parent.parent)} -> {target}")
    expected = {f"{s.stem}.ipynb" for s in sources}
    extra = sorted(p.name for p in args.out.glob("*.ipynb") if p.name not in expected) if args.out.exists() else []
    if args.check and (stale or extra):
        print("student notebooks out of date (run `make exercises`): " + ", ".join(stale + extra),
              file=sys.stderr)
        return 1
    if extra and not args.check:
        print(f"note: {args.out} also holds {', '.join(extra)} (no solution notebook)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
