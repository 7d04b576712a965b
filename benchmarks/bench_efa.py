"""Benchmark custval.EFA(convention="lavaan") against lavaan::efa() (EFA with random starts).

Task: lavaan's EFA tutorial, items x1-x9 of Holzinger & Swineford (1939), n = 301, ML,
geomin (epsilon .001), 30 random starting rotations, standard errors and fit measures:
``EFA(k, method="ml", rotation="geomin", rotation_kwargs={"epsilon": 0.001}, n_starts=30,
convention="lavaan")`` vs ``lavaan::efa(data, nfactors = k)`` for k = 1, 2, 3 (one fit each).
Compared numbers: the standardised loadings (max abs diff; lavaan stops its rotation at
gpa.tol = 1e-5, so its own answer moves by about 3e-6 between R seeds).

Run: ``.venv/bin/python benchmarks/bench_efa.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval import load_dataset
from custval.efa import EFA

R_CODE = r"""
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
hs <- read.csv(file.path("custval", "_data", "holzinger_swineford1939", "holzinger_swineford1939.csv"))
hs <- hs[, paste0("x", 1:9)]
set.seed(1)
t <- timed(efa(data = hs, nfactors = %d, output = "lavaan"), 10)
cat(toJSON(list(sec = t$sec, std = as.numeric(t(lavInspect(t$value, "std")$lambda))),
           auto_unbox = TRUE, digits = NA), "\n")
"""


def main() -> None:
    bench = Bench(
        "efa",
        title="EFA with random starts: custval vs lavaan::efa()",
        description=(
            "lavaan's EFA tutorial (Holzinger-Swineford x1-x9, n = 301): ML, geomin epsilon .001, "
            "30 random starting rotations, bordered standard errors and fit measures, one fit per number "
            "of factors. custval: EFA(k, method='ml', rotation='geomin', rotation_kwargs={'epsilon': 0.001}, "
            "n_starts=30, convention='lavaan'); lavaan 0.6-14: efa(data, nfactors = k). max abs diff = "
            "standardised loadings (lavaan's own seed-to-seed spread is about 3e-6)."
        ),
    )
    hs = load_dataset("holzinger_swineford1939").data.loc[:, "x1":"x9"]
    r_ok = have_r("lavaan", "jsonlite")
    for k in (1, 2, 3):
        task = f"EFA, {k} factor(s), 30 random starts, SEs + fit"

        def fit(k=k):
            return EFA(k, method="ml", rotation="geomin", rotation_kwargs={"epsilon": 0.001}, n_starts=30,
                       seed=1, convention="lavaan").fit(hs)

        sec, efa = time_median(fit, repeat=5)
        bench.add(task, "custval", sec, values=efa.loadings_.to_numpy().ravel(), reference=True,
                  note=f"winning start {efa.start_}")
        if not r_ok:
            bench.skip(task, "R lavaan::efa", "Rscript or lavaan not available")
            continue
        out = run_r(R_CODE % k)
        bench.add(task, "R lavaan::efa", out["sec"], values=np.array(out["std"]), note="rstarts = 30 (R's RNG)")
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
