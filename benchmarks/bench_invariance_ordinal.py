"""Benchmark the ordinal invariance ladder (custval.invariance.measurement_invariance with
ordered=True) against semTools::measEq.syntax + lavaan 0.6-14 + lavTestLRT.

Tasks (the Wu & Estabrook (2016) ladder configural -> thresholds -> metric -> scalar, WLSMV,
delta parameterization, scaled-shifted difference tests):

1. bfi agreeableness + conscientiousness by gender, 10 items, 6 categories, n = 2632;
2. the simulated two-group set of the goldens (tests/golden/invariance_ordinal/sim_thresholds.csv),
   8 items, 5 categories, n = 1300.

Each tool's time covers the four fits from the raw data frame and the three difference tests
(R: measEq.syntax per level, cfa(), lavTestLRT()).  Compared numbers: chisq.scaled of every
level and the three scaled-shifted difference statistics; the largest absolute difference is
reported.

Run: ``.venv/bin/python benchmarks/bench_invariance_ordinal.py``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval._io.paths import RAW_DATA_DIR
from custval.invariance import measurement_invariance

REPO = Path(__file__).resolve().parents[1]


def _values(res) -> np.ndarray:
    t = res.table
    return np.concatenate([t["chisq_scaled"].to_numpy(), t["delta_chisq"].to_numpy()[1:]])


def main() -> None:
    bench = Bench(
        "invariance_ordinal",
        title="Ordinal invariance ladder (WLSMV)",
        description=(
            "custval.invariance.measurement_invariance(..., estimator='WLSMV', ordered=True) against "
            "semTools::measEq.syntax(ID.cat = 'Wu.Estabrook.2016') + lavaan 0.6-14 cfa() per level + "
            "lavTestLRT(): four fits and three scaled-shifted difference tests from the raw data frame. "
            "Max abs diff: chisq.scaled of every level and the difference statistics. One run on a shared "
            "2-core machine: timings are noisy."
        ),
    )
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    ac = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    sim_path = REPO / "tests" / "golden" / "invariance_ordinal" / "sim_thresholds.csv"
    sets = [
        ("bfi A + C by gender: 10 items, 6 categories, n = 2632",
         bfi.dropna(subset=[*ac, "gender"]), "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5",
         ac, "gender", RAW_DATA_DIR / "bfi" / "bfi.csv"),
        ("simulated two groups: 8 items, 5 categories, n = 1300", pd.read_csv(sim_path),
         "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8", [f"q{i}" for i in range(1, 9)], "group", sim_path),
    ]
    r_ok = have_r("lavaan", "semTools", "jsonlite")
    for task, data, model, items, group, path in sets:
        def run(data=data, model=model, group=group):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return measurement_invariance(data, model, group=group, estimator="WLSMV", ordered=True,
                                              stop=False)

        sec, res = time_median(run, repeat=3)
        bench.add(task, "custval", sec, values=_values(res), reference=True)
        if not r_ok:
            bench.skip(task, "R measEq.syntax + lavaan + lavTestLRT", "Rscript, lavaan or semTools not available")
            continue
        r_items = "c(" + ", ".join(f'"{v}"' for v in items) + ")"
        out = run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(semTools); library(jsonlite)}})
d <- read.csv("{path}")
d <- d[complete.cases(d[, c({r_items}, "{group}")]), ]
m <- "{model.replace(chr(10), '; ')}"
ladder <- function() {{
  eq <- list("", "thresholds", c("thresholds", "loadings"), c("thresholds", "loadings", "intercepts"))
  fits <- lapply(eq, function(ge) measEq.syntax(m, data = d, ordered = {r_items}, ID.fac = "std.lv",
    ID.cat = "Wu.Estabrook.2016", group = "{group}", group.equal = ge, return.fit = TRUE))
  list(fits = fits, lrt = do.call(lavTestLRT, unname(fits)))
}}
t <- timed(ladder(), 1)
v <- c(sapply(t$value$fits, function(f) fitMeasures(f, "chisq.scaled")[[1]]), t$value$lrt[["Chisq diff"]][-1])
cat(toJSON(list(sec = t$sec, est = unname(v)), auto_unbox = TRUE, digits = NA), "\\n")
""")
        bench.add(task, "R measEq.syntax + lavaan + lavTestLRT", out["sec"], values=out["est"],
                  note="one run (R), median of 3 (custval)")
    for t in dict.fromkeys(r.task for r in bench.rows):
        bench.extra.setdefault("ratios", {})[t] = bench.ratios(t, "custval")
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
