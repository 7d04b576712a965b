"""Benchmark: how long ``import custval`` (and a first use) takes in a fresh interpreter.

Every statement runs in a new ``python -c`` process (so nothing is cached in
``sys.modules``); the operating system's file cache is warm (a warm-up run comes
first), which is what a user sees from the second start on.  Per statement:

* seconds = median wall time of ``--repeat`` whole processes (interpreter start
  included; the ``python -c pass`` row is that start alone);
* the note gives the process's CPU time (user + system, median), the median time
  of the statement itself inside the process (``time.perf_counter`` around it),
  the cumulative ``-X importtime`` figure of the top-level modules it imports,
  and what it loaded (custval modules, pandas, scipy.stats,
  matplotlib).

With ``--before REV`` (default: the commit before the package became lazy) the
same statements also run against that revision's ``custval/`` (``git archive``
into a temporary directory), interleaved with the current tree so that the
machine's load affects both alike.

    .venv/bin/python benchmarks/bench_import.py [--repeat 10] [--before 74f4084]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _common import Bench

ROOT = Path(__file__).resolve().parents[1]
#: the last commit at which ``import custval`` imported reliability, invariance and questionnaire
#: (and with them numpy, pandas and scipy.stats) to bind functions named like their modules.
BEFORE = "74f4084"

STATEMENTS = {
    "python -c pass (interpreter start)": "pass",
    "import custval": "import custval",
    "import custval; custval.cronbach_alpha": "import custval; custval.cronbach_alpha",
    "import custval.reliability": "import custval.reliability",
    "import custval.ingest": "import custval.ingest",
}

CHILD = r"""
import sys, time, json
before = set(sys.modules)
t0 = time.perf_counter()
exec(compile(sys.argv[1], "<statement>", "exec"))
sec = time.perf_counter() - t0
new = set(sys.modules) - before
print(json.dumps({"sec": sec, "custval": sorted(m for m in new if m.split(".")[0] == "custval"),
                  "heavy": sorted(m for m in ("numpy", "pandas", "scipy.stats", "scipy.optimize", "matplotlib")
                                  if m in new)}))
"""


def _env(src: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(src)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(src: Path, stmt: str) -> tuple[float, float, dict]:
    """Wall and CPU (user + system) seconds of one fresh process running ``stmt``, and what it reports."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, stmt], capture_output=True, text=True, env=_env(src),
                          cwd=src, check=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    return wall, cpu, json.loads(proc.stdout.strip().splitlines()[-1])


def _top_level_imports(src: Path, stmt: str) -> dict[str, int]:
    """``{module: cumulative microseconds}`` of the top-level imports ``python -X importtime`` reports."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], capture_output=True, text=True,
                          env=_env(src), cwd=src, check=True)
    out = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # not nested in another import
            out[name.strip()] = int(cumulative)
    return out


def importtime(src: Path, stmt: str) -> float:
    """Seconds ``-X importtime`` gives to the imports of ``stmt`` (those of interpreter start left out)."""
    start = _top_level_imports(src, "pass")
    return sum(us for name, us in _top_level_imports(src, stmt).items() if name not in start) / 1e6


def checkout(rev: str, into: Path) -> Path:
    """``custval/`` of git revision ``rev`` extracted under ``into``."""
    archive = into / "src.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "archive", rev, "custval"], cwd=ROOT, stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--before", default=BEFORE, help="git revision to compare with ('' for none)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"custval": ROOT}
        if args.before:
            found = subprocess.run(["git", "rev-parse", "--short", "--verify", "--quiet", f"{args.before}^{{commit}}"],
                                   cwd=ROOT, capture_output=True, text=True)
            if found.returncode == 0:
                rev = found.stdout.strip()
                trees[f"custval at {rev} (before)"] = checkout(rev, Path(tmp))
            else:  # e.g. a shallow clone or an unpacked wheel: measure the current tree only
                print(f"revision {args.before!r} not found: no 'before' rows", file=sys.stderr)
        results: dict[tuple[str, str], dict] = {}
        for task, stmt in STATEMENTS.items():
            tools = {"python": ROOT} if stmt == "pass" else trees
            for tool, src in tools.items():
                run_once(src, stmt)  # warm the file cache
                results[(task, tool)] = {"wall": [], "cpu": [], "sec": [], "info": None,
                                         "importtime": importtime(src, stmt) if stmt != "pass" else None}
            for _ in range(args.repeat):  # interleaved, so that load drifts hit every tree alike
                for tool, src in tools.items():
                    wall, cpu, info = run_once(src, stmt)
                    r = results[(task, tool)]
                    r["wall"].append(wall)
                    r["cpu"].append(cpu)
                    r["sec"].append(info["sec"])
                    r["info"] = info

    bench = Bench(
        "import",
        title="Import time",
        description=(
            f"Wall time of a fresh `python -c \"<statement>\"` process, median of {args.repeat} runs after a "
            "warm-up (warm file cache), interpreter start included (the first row is the start alone). Note: "
            "the statement's own time inside the process (median), the `-X importtime` cumulative time of "
            "its top-level imports (one run), the process's CPU time (user + system, median; steadier than "
            "wall time on a shared machine) and what it loaded. Before: the package bound "
            "`custval.reliability`, `custval.invariance` and `custval.questionnaire` to functions at import, "
            "which imported those modules (and numpy, pandas, scipy.stats) on every `import custval`; now "
            "`import custval` imports only `custval.exceptions` and every public name is imported on first "
            "use, and `custval.reliability` takes its F and normal quantiles from scipy.special instead of "
            "importing scipy.stats. Python "
            f"{sys.version.split()[0]}, {os.cpu_count()} shared CPUs (other jobs running): timings are noisy."
        ),
    )
    for (task, tool), r in results.items():
        info = r["info"]
        loaded = f"{len(info['custval'])} custval module(s)"
        if info["heavy"]:
            loaded += " + " + ", ".join(info["heavy"])
        note = f"process CPU {statistics.median(r['cpu']):.3f} s"
        if r["importtime"] is not None:
            note += (f"; in-process {statistics.median(r['sec']):.3f} s; -X importtime {r['importtime']:.3f} s; "
                     f"{loaded}")
        bench.add(task, tool, statistics.median(r["wall"]), note=note)
    bench.extra["raw"] = {f"{task} | {tool}": r for (task, tool), r in results.items()}
    path = bench.write()
    print(bench.table())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
