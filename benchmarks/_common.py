"""Shared helpers for ``benchmarks/bench_*.py``.

* :func:`time_median` — median wall time of repeated calls (after a warm-up);
* :func:`run_r` — run an R snippet with ``Rscript`` (timing inside R with
  ``system.time`` over repeats) and parse the JSON it prints; returns ``None``
  when R (or a package) is missing;
* :class:`Bench` — collects rows (task, tool, seconds, largest absolute
  difference of the tool's numbers from the reference tool) and writes
  ``benchmarks/results/<name>.json`` plus a table section in
  ``benchmarks/README.md`` between ``<!-- bench:<name> -->`` markers.

Example::

    from _common import Bench, time_median
    bench = Bench("reliability", title="Reliability")
    sec, value = time_median(lambda: f(x), repeat=5)
    bench.add("alpha, 6 scales", "custval", sec, values=value, reference=True)
    bench.write()
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"


def time_median(fn, *, repeat: int = 5, warmup: int = 1):
    """Median seconds of ``repeat`` calls of ``fn()`` after ``warmup`` calls; returns (seconds, last value)."""
    value = None
    for _ in range(warmup):
        value = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), value


def peak_memory(fn) -> tuple[float, object]:
    """Peak bytes allocated by Python/numpy (tracemalloc) during ``fn()``; returns (bytes, value)."""
    tracemalloc.start()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak), value


def have_r(*packages: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    if not packages:
        return True
    pkgs = ", ".join(f'"{p}"' for p in packages)
    code = f"q(status = as.integer(!all(sapply(c({pkgs}), requireNamespace, quietly = TRUE))))"
    return subprocess.run(["Rscript", "-e", code], capture_output=True).returncode == 0


def run_r(code: str, *, timeout: float = 3600) -> dict | None:
    """Run R ``code`` that prints one JSON object on its last stdout line; ``None`` without Rscript.

    Helper available inside ``code``: ``timed(expr, times)`` returns the median
    elapsed seconds of ``times`` evaluations and the value of the last one::

        t <- timed(psych::alpha(x), 5); cat(jsonlite::toJSON(list(sec = t$sec), auto_unbox = TRUE, digits = NA))
    """
    if shutil.which("Rscript") is None:
        return None
    prelude = (
        "timed <- function(expr, times = 3) { e <- substitute(expr); env <- parent.frame();\n"
        "  v <- NULL; s <- numeric(times)\n"
        "  for (i in seq_len(times)) s[i] <- system.time(v <- eval(e, env))[['elapsed']]\n"
        "  list(sec = median(s), value = v) }\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(prelude + code)
        path = fh.name
    try:
        proc = subprocess.run(["Rscript", path], capture_output=True, text=True, timeout=timeout,
                              cwd=BENCH_DIR.parent)
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{proc.stderr[-2000:]}")
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.strip()]
    return json.loads(lines[-1])


@dataclass
class Row:
    task: str
    tool: str
    seconds: float | None
    max_abs_diff: float | None = None
    note: str = ""
    skipped: bool = False


@dataclass
class Bench:
    """Collect benchmark rows and write the results JSON and README section."""

    name: str
    title: str = ""
    description: str = ""
    rows: list[Row] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _refs: dict = field(default_factory=dict)
    stat: str = "median"  # which statistic of the repeated timings the seconds are (table header)

    def add(self, task: str, tool: str, seconds: float | None, *, values=None, reference: bool = False,
            note: str = "", skipped: bool = False) -> Row:
        """Add a row; ``values`` are compared (max |diff|) with the task's ``reference=True`` row."""
        diff = None
        if values is not None:
            v = np.asarray(values, dtype=float).ravel()
            if reference:
                self._refs[task] = v
                diff = 0.0
            elif task in self._refs:
                diff = float(np.max(np.abs(v - self._refs[task])))
        row = Row(task, tool, seconds, diff, note, skipped)
        self.rows.append(row)
        return row

    def skip(self, task: str, tool: str, reason: str) -> Row:
        return self.add(task, tool, None, note=f"skipped: {reason}", skipped=True)

    def ratios(self, task: str, base_tool: str) -> dict[str, float]:
        """seconds(tool) / seconds(base_tool) for every timed tool of ``task``."""
        base = next((r.seconds for r in self.rows if r.task == task and r.tool == base_tool), None)
        if not base:
            return {}
        return {r.tool: r.seconds / base for r in self.rows if r.task == task and r.seconds}

    def to_dict(self) -> dict:
        tasks = list(dict.fromkeys(r.task for r in self.rows))
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "cpus": os.cpu_count(), "numpy": np.__version__},
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rows": [r.__dict__ for r in self.rows],
            "tasks": tasks,
            **self.extra,
        }

    def table(self) -> str:
        out = [f"| task | tool | {self.stat} s | × fastest | max abs diff | note |", "|---|---|---:|---:|---:|---|"]
        for task in dict.fromkeys(r.task for r in self.rows):
            rows = [r for r in self.rows if r.task == task]
            fastest = min((r.seconds for r in rows if r.seconds), default=None)
            for r in rows:
                sec = "—" if r.seconds is None else f"{r.seconds:.4g}"
                ratio = "—" if (r.seconds is None or not fastest) else f"{r.seconds / fastest:.1f}"
                diff = "—" if r.max_abs_diff is None else f"{r.max_abs_diff:.2g}"
                out.append(f"| {task} | {r.tool} | {sec} | {ratio} | {diff} | {r.note} |")
        return "\n".join(out)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.json"
        path.write_text(json.dumps(self.to_dict(), indent=2, default=float) + "\n", encoding="utf-8")
        update_readme(self.name, self.title or self.name, self.description, self.table())
        return path


def update_readme(name: str, title: str, description: str, table: str) -> None:
    """Replace (or append) the README section between ``<!-- bench:name -->`` markers."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = f"{start}\n## {title}\n\n{description}\n\n{table}\n\n_Written by `benchmarks/bench_{name}.py`; " \
           f"{time.strftime('%Y-%m-%d', time.gmtime())}._\n{end}"
    text = README.read_text(encoding="utf-8") if README.exists() else (
        "# Benchmarks\n\nRun `make bench`. Each `bench_<area>.py` writes `results/<area>.json` and its "
        "section below. Timings are medians of repeated runs on a shared 2-core machine (noisy).\n"
    )
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body, text)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    README.write_text(text, encoding="utf-8")
