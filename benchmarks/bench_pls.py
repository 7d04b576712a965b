"""Benchmark custval.PLS against seminr (PLS path modelling).

Tasks
-----
1. ECSI model on mobi (7 constructs, 24 items, n = 250): one PLS fit.
2. The same model, PLSc (seminr ``reflective()``): one fit.
3. ECSI PLS bootstrap, 500 resamples.

seminr is not installed here; its R code is evaluated from a source tree given by
``SEMINR_SRC`` (as in ``tests/r/pls.R``: ``R/*.R`` with the ``seminr::`` prefixes
removed).  Without ``SEMINR_SRC`` or Rscript the seminr rows are skipped.  seminr's
``bootstrap_model()`` needs an installed seminr for its parallel workers, so the
bootstrap row runs its per-resample work (``set.seed(seed + i); sample.int(n,
replace = TRUE); estimate_pls(...)``) serially on one core; custval then resamples
the same rows (``indices=``), so the bootstrap SDs are compared exactly.  Compared
numbers: the 12 path coefficients (task 1, 2) and their bootstrap SDs (task 3).

Run: ``SEMINR_SRC=/path/to/seminr .venv/bin/python benchmarks/bench_pls.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval._io.paths import RAW_DATA_DIR
from custval.pls import PLS
from tests._seminr import seminr_reference

N_BOOT = 500

R_SETUP = r"""
suppressPackageStartupMessages(library(jsonlite))
seminr <- new.env()
for (f in sort(list.files(file.path("{src}", "R"), pattern = "[.]R$", full.names = TRUE))) {{
  eval(parse(text = gsub("seminr::", "", readLines(f, warn = FALSE), fixed = TRUE), keep.source = FALSE),
       envir = seminr)
}}
attach(seminr, name = "seminr_src", warn.conflicts = FALSE)
mobi <- read.csv(file.path("custval", "_data", "mobi", "mobi.csv"))
blocks <- list(Image = multi_items("IMAG", 1:5), Expectation = multi_items("CUEX", 1:3),
               Quality = multi_items("PERQ", 1:7), Value = multi_items("PERV", 1:2),
               Satisfaction = multi_items("CUSA", 1:3), Complaints = "CUSCO",
               Loyalty = multi_items("CUSL", 1:3))
mm <- function(kind) do.call(constructs, unname(lapply(names(blocks), function(k)
  if (kind == "composite") composite(k, blocks[[k]]) else reflective(k, blocks[[k]]))))
sm <- relationships(
  paths(from = "Image",        to = c("Expectation", "Satisfaction", "Loyalty")),
  paths(from = "Expectation",  to = c("Quality", "Value", "Satisfaction")),
  paths(from = "Quality",      to = c("Value", "Satisfaction")),
  paths(from = "Value",        to = c("Satisfaction")),
  paths(from = "Satisfaction", to = c("Complaints", "Loyalty")),
  paths(from = "Complaints",   to = "Loyalty"))
path_vec <- function(pc, from, to) mapply(function(a, b) pc[a, b], from, to)
"""


def _paths(fit: PLS, order) -> np.ndarray:
    return np.array([fit.paths_.at[a, b] for a, b in order])


def main() -> None:
    bench = Bench(
        "pls",
        title="PLS path modelling (PLS-SEM, PLSc, bootstrap)",
        description=(
            "The ECSI model on mobi (7 constructs, 24 items, n = 250) with custval.PLS and seminr 2.3.1 "
            "(R code evaluated from source, path weighting, stopCriterion = 7). Max abs diff: the 12 path "
            "coefficients, and for the bootstrap their SDs over the same resampled rows. seminr's "
            "bootstrap_model() would spread its resamples over parallel workers; here its per-resample "
            "work runs on one core (the machine has 2 shared cores: timings are noisy)."
        ),
    )
    mobi = pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")
    syntax = seminr_reference("ecsi_pls")["syntax"]
    order = PLS(syntax).fit(mobi).to_frame()[["from", "to"]].itertuples(index=False)
    order = [tuple(o) for o in order]
    src = os.environ.get("SEMINR_SRC", "")
    r_ok = bool(src) and Path(src, "R").is_dir() and have_r("jsonlite")
    r_from = "c(" + ", ".join(f'"{a}"' for a, _ in order) + ")"
    r_to = "c(" + ", ".join(f'"{b}"' for _, b in order) + ")"

    for task, consistent, kind in (
        ("ECSI PLS fit, n = 250", False, "composite"),
        ("ECSI PLSc fit, n = 250", True, "reflective"),
    ):
        sec, fit = time_median(lambda c=consistent: PLS(syntax, consistent=c).fit(mobi), repeat=20)
        bench.add(task, "custval", sec, values=_paths(fit, order), reference=True,
                  note=f"{fit.n_iter_} iterations")
        if not r_ok:
            bench.skip(task, "R seminr::estimate_pls", "Rscript or SEMINR_SRC (seminr source tree) not available")
            continue
        out = run_r(R_SETUP.format(src=src) + f"""
t <- timed(suppressMessages(estimate_pls(mobi, mm("{kind}"), sm)), 20)
cat(toJSON(list(sec = t$sec, est = unname(path_vec(t$value$path_coef, {r_from}, {r_to}))),
           auto_unbox = TRUE, digits = NA), "\\n")
""")
        bench.add(task, "R seminr::estimate_pls", out["sec"], values=out["est"], note=f"{kind}()")

    task = f"ECSI PLS bootstrap, {N_BOOT} resamples"
    fit = PLS(syntax).fit(mobi)
    if r_ok:
        out = run_r(R_SETUP.format(src=src) + f"""
fit <- suppressMessages(estimate_pls(mobi, mm("composite"), sm))
idx <- matrix(0L, {N_BOOT}, nrow(mobi)); est <- matrix(0, {N_BOOT}, {len(order)})
s <- system.time(for (i in seq_len({N_BOOT})) {{
  set.seed(123 + i); ix <- sample.int(nrow(mobi), replace = TRUE); idx[i, ] <- ix
  b <- suppressMessages(estimate_pls(mobi[ix, ], mm("composite"), sm))
  est[i, ] <- path_vec(b$path_coef, {r_from}, {r_to})
}})[["elapsed"]]
cat(toJSON(list(sec = s, sd = apply(est, 2, sd), idx = idx), auto_unbox = TRUE, digits = NA), "\\n")
""")
        indices = np.array(out["idx"]) - 1
        sec, boot = time_median(lambda: fit.bootstrap(indices=indices), repeat=5)
        sds = np.array([boot.paths.at[(a, b), "se"] for a, b in order])
        bench.add(task, "custval (seminr's resamples)", sec, values=sds, reference=True,
                  note="all resamples at once from their correlation matrices")
        bench.add(task, "R seminr (bootstrap_model's loop, 1 core)", out["sec"], values=out["sd"],
                  note="set.seed(123 + i); sample.int; estimate_pls")
    else:
        sec, boot = time_median(lambda: fit.bootstrap(n_boot=N_BOOT, seed=0), repeat=5)
        bench.add(task, "custval", sec, reference=True, note="all resamples at once")
        bench.skip(task, "R seminr", "Rscript or SEMINR_SRC (seminr source tree) not available")
    sec, _ = time_median(lambda: fit.bootstrap(n_boot=5000, seed=0), repeat=3)
    bench.add("ECSI PLS bootstrap, 5,000 resamples", "custval", sec, note="numpy resampling, seed 0")

    for t in dict.fromkeys(r.task for r in bench.rows):
        base = next(r.tool for r in bench.rows if r.task == t)
        bench.extra.setdefault("ratios", {})[t] = bench.ratios(t, base)
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
