"""Benchmark the bootstrap of the ordinal reliabilities against lavaan 0.6-14 + semTools 0.5-6.

Task: 100 percentile-bootstrap resamples of Green & Yang's ordinal omega and the latent-response
omega of a WLSMV CFA (bfi agreeableness + conscientiousness, 10 items, 6 categories, n = 2632,
items keyed), each resample a full two-stage refit (thresholds, polychorics, Gamma, DWLS):

* custval: ``composite_reliability(fit, ci_method="bootstrap", n_boot=100)`` (serial);
* R: ``lavaan::bootstrapLavaan(fit, R = 100, FUN = function(f) c(compRelSEM(f),
  compRelSEM(f, ord.scale = FALSE)))`` (the same procedure; semTools has no bootstrap of its own).

The random draws differ (numpy vs R), so the compared numbers are the point estimates (equal to
``compRelSEM``); the bootstrap standard errors of both are reported in the note.

Run: ``.venv/bin/python benchmarks/bench_ordinal_boot.py``.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.validity import composite_reliability

N_BOOT = 100


def main() -> None:
    bench = Bench(
        "ordinal_boot",
        title="Bootstrap of the ordinal reliabilities",
        description=(
            f"{N_BOOT} bootstrap resamples of compRelSEM's ordinal and latent-response omega after a WLSMV "
            "CFA (bfi A + C, 10 items, n = 2632), each a full two-stage refit: custval.validity."
            "composite_reliability(fit, ci_method='bootstrap') against lavaan 0.6-14 bootstrapLavaan(fit, "
            "FUN = compRelSEM) (semTools 0.5-6). Max abs diff: the point estimates (the draws differ). One "
            "run on a shared 2-core machine: timings are noisy."
        ),
    )
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    data = bfi.dropna(subset=items).copy()
    for it in ("A1", "C4", "C5"):
        data[it] = 7 - data[it]
    model = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
    task = f"bfi A + C, {N_BOOT} resamples"

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CFA(model, ordered=True).fit(data)
            return composite_reliability(fit, ci_method="bootstrap", n_boot=N_BOOT, seed=1, progress=False)

    sec, res = time_median(run, repeat=1, warmup=0)
    t = res.table
    bench.add(task, "custval", sec, values=t["estimate"].to_numpy(), reference=True,
              note="bootstrap se " + ", ".join(f"{v:.4f}" for v in t["se"]))
    if not have_r("lavaan", "semTools", "jsonlite"):
        bench.skip(task, "R bootstrapLavaan + compRelSEM", "Rscript, lavaan or semTools not available")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bfi.csv"
            data.to_csv(path, index=False)
            out = run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(semTools); library(jsonlite)}})
d <- read.csv("{path}")
m <- "{model.replace(chr(10), '; ')}"
rel <- function(f) {{ a <- compRelSEM(f); b <- compRelSEM(f, ord.scale = FALSE); c(a[1], b[1], a[2], b[2]) }}
set.seed(1)
t <- timed({{ fit <- cfa(m, data = d, ordered = TRUE); list(est = rel(fit),
  boot = bootstrapLavaan(fit, R = {N_BOOT}, FUN = rel)) }}, 1)
cat(toJSON(list(sec = t$sec, est = unname(t$value$est), se = unname(apply(t$value$boot, 2, sd))),
           auto_unbox = TRUE, digits = NA), "\\n")
""")
            bench.add(task, "R bootstrapLavaan + compRelSEM", out["sec"], values=np.asarray(out["est"]),
                      note="bootstrap se " + ", ".join(f"{v:.4f}" for v in out["se"]))
    bench.extra["ratios"] = {task: bench.ratios(task, "custval")}
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
