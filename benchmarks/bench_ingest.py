"""Benchmark: reading a large gzip survey CSV (time and peak memory).

A simulated file (``tests/_survey_fixtures.write_big_csv_gzip``: id + 10 items on
1..5, ~2% empty cells) of 1,000,000 rows (``--rows`` to change) is read by

* ``custval.read_survey`` (streaming pyarrow reader, every check of the instrument),
* ``pandas.read_csv`` with its defaults (no checks; NA strings coerced silently),
* ``pandas.read_csv(dtype=str, keep_default_na=False)`` (text only, what a careful
  reader starts from, before any validation),
* R ``read.csv(gzfile(...))`` and ``data.table::fread`` when Rscript (and data.table)
  are installed.

Each run is a fresh subprocess so that its peak RSS growth (``VmHWM`` after
the imports) is measured alone; seconds are the median of ``--repeat`` runs.
``max abs diff`` compares the item means and missing counts with custval's.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import Bench, have_r, run_r

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

N_ITEMS = 10

PY_RUN = r"""
import json, sys, time
import numpy as np, pandas as pd, pyarrow, pyarrow.csv, openpyxl, pyreadstat
import custval
from custval.ingest import read_survey
path, tool = sys.argv[1], sys.argv[2]
items = [f"Q{j + 1}" for j in range(10)]
inst = custval.Instrument.from_dict({"Q": items}, scale=(1, 5))
before = peak_rss()
t0 = time.perf_counter()
if tool == "custval":
    df = read_survey(path, inst, id_column="id")
elif tool == "pandas":
    df = pd.read_csv(path)
else:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
sec = time.perf_counter() - t0
grow = peak_rss() - before
x = df[items].replace("", np.nan).astype(float).to_numpy() if tool == "text" else \
    df[items].to_numpy(dtype=float)
values = list(np.nanmean(x, axis=0)) + list(np.isnan(x).sum(axis=0).astype(float))
print(json.dumps({"sec": sec, "rss_growth": grow, "rows": len(df),
                  "result_bytes": int(df.memory_usage(deep=True).sum()), "values": values}))
"""


def py_run(path: Path, tool: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _peak_rss_code() + PY_RUN, str(path), tool], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def r_code(path: Path, fread: bool, repeat: int) -> str:
    reader = (f'data.table::fread("{path}", data.table = FALSE)' if fread else
              f'read.csv(gzfile("{path}"))')
    return f"""
items <- paste0("Q", 1:{N_ITEMS})
t <- timed({reader}, {repeat})
x <- as.matrix(t$value[, items])
v <- c(colMeans(x, na.rm = TRUE), colSums(is.na(x)))
cat(jsonlite::toJSON(list(sec = t$sec, values = unname(v)), auto_unbox = TRUE, digits = NA))
"""


def _peak_rss_code() -> str:
    from _survey_fixtures import PEAK_RSS_CODE  # peak_rss(): VmHWM of the measuring process

    return PEAK_RSS_CODE


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    import _survey_fixtures as F

    task = f"read {args.rows:,} rows x {N_ITEMS} items, gzip CSV"
    bench = Bench(
        "ingest", title="Ingest: large gzip survey CSV",
        description=(
            f"Simulated gzip CSV, {args.rows:,} rows (id + {N_ITEMS} items on 1..5, ~2% empty "
            "cells). Each Python run is a fresh process; the note gives the peak RSS growth "
            "during the read and the size of the result. custval runs every check of "
            "the instrument (codes, range, duplicate ids, personal data) and records "
            "provenance; pandas defaults do no checks and turn NA strings into NaN silently. "
            "max abs diff = item means and missing counts vs custval."))
    with tempfile.TemporaryDirectory() as d:
        path = F.write_big_csv_gzip(Path(d) / "big.csv.gz", args.rows)
        size_mb = path.stat().st_size / 2**20
        for tool, label in (("custval", "custval.read_survey"),
                            ("pandas", "pandas.read_csv (defaults)"),
                            ("text", "pandas.read_csv(dtype=str, keep_default_na=False)")):
            runs = [py_run(path, tool) for _ in range(args.repeat)]
            sec = float(np.median([r["sec"] for r in runs]))
            grow = float(np.median([r["rss_growth"] for r in runs])) / 2**20
            res = runs[-1]["result_bytes"] / 2**20
            bench.add(task, label, sec, values=runs[-1]["values"], reference=tool == "custval",
                      note=f"peak RSS +{grow:.0f} MB; result {res:.0f} MB; file {size_mb:.1f} MB")
            bench.extra.setdefault("memory_mb", {})[label] = {"rss_growth": grow, "result": res}
        for fread, label in ((False, "R read.csv(gzfile)"), (True, "R data.table::fread")):
            if not have_r("jsonlite", *(["data.table"] if fread else [])):
                bench.skip(task, label, "Rscript or package not installed")
                continue
            out = run_r(r_code(path, fread, args.repeat))
            bench.add(task, label, out["sec"], values=out["values"],
                      note="timed inside R (system.time, median)")
    bench.extra["ratios_vs_pandas"] = bench.ratios(task, "pandas.read_csv (defaults)")
    print(bench.table())
    print(bench.write())


if __name__ == "__main__":
    main()
