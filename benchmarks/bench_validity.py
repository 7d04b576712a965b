"""Benchmark custval.validity / custval.invariance against semTools and lavaan.

Tasks
-----
1. HTMT with 2,000 bootstrap resamples, ECSI measurement model on mobi
   (custval: all resamples at once as weighted correlation matrices;
   R: ``boot::boot`` around ``semTools::htmt``).  Compared numbers: the point
   estimates (the resamples differ between the two random number generators).
2. The four-level invariance sequence (configural, metric, scalar, strict) on
   Holzinger-Swineford with group = school, ML (custval.invariance vs four
   ``lavaan::cfa`` fits + ``lavTestLRT``).  Compared numbers: chi-square of the
   four levels.

Run: ``.venv/bin/python benchmarks/bench_validity.py``.
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
from custval.validity import htmt

ECSI = """
  IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
  CUEX =~ CUEX1 + CUEX2 + CUEX3
  PERQ =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
  PERV =~ PERV1 + PERV2
  CUSA =~ CUSA1 + CUSA2 + CUSA3
  CUSL =~ CUSL1 + CUSL2 + CUSL3
"""
HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
N_BOOT = 2000


def bench_htmt(bench: Bench) -> None:
    task = f"HTMT, {N_BOOT} bootstrap resamples, ECSI (mobi, 23 items)"
    mobi = pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")
    sec, res = time_median(lambda: htmt(mobi, ECSI, n_boot=N_BOOT, seed=0), repeat=5)
    iu = np.triu_indices(6, k=1)
    bench.add(task, "custval", sec, values=res.matrix.to_numpy()[iu], reference=True,
              note="vectorised weighted correlations")
    if not have_r("semTools", "boot", "jsonlite"):
        bench.skip(task, "R semTools::htmt + boot", "Rscript/semTools/boot not installed")
        return
    code = f"""
suppressPackageStartupMessages({{library(semTools); library(boot); library(jsonlite)}})
mobi <- read.csv("custval/_data/mobi/mobi.csv")
model <- "{ECSI}"
stat <- function(d, i) {{ h <- htmt(model, data = d[i, ], htmt2 = FALSE); h[upper.tri(h)] }}
set.seed(1)
t <- timed(boot(mobi, stat, R = {N_BOOT}), 1)
est <- htmt(model, data = mobi, htmt2 = FALSE)
cat(toJSON(list(sec = t$sec, est = est[upper.tri(est)]), auto_unbox = TRUE, digits = NA), "\\n")
"""
    out = run_r(code)
    # R's upper.tri is column-major; reorder to numpy's row-major upper triangle
    k = 6
    cols = [(i, j) for j in range(k) for i in range(k) if i < j]
    order = {pair: n for n, pair in enumerate(cols)}
    r_vals = np.array([out["est"][order[(i, j)]] for i, j in zip(*iu)])
    bench.add(task, "R semTools::htmt + boot", out["sec"], values=r_vals, note="boot::boot, R = 2000, one run")


def bench_invariance(bench: Bench) -> None:
    task = "invariance sequence (4 levels), HS39, group = school, ML"
    try:
        import custval.cfa  # noqa: F401  (the estimator the sequence fits)
        from custval.invariance import measurement_invariance
    except ImportError as exc:  # the CFA estimator is not there yet
        bench.skip(task, "custval", f"custval.invariance unavailable ({exc})")
        return
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return measurement_invariance(hs, HS, group="school", estimator="ML", stop=False)

    sec, res = time_median(run, repeat=3)
    bench.add(task, "custval", sec, values=res.table["chisq"].to_numpy(), reference=True)
    if not have_r("lavaan", "semTools", "jsonlite"):
        bench.skip(task, "R lavaan", "Rscript/lavaan not installed")
        return
    code = f"""
suppressPackageStartupMessages({{library(lavaan); library(jsonlite)}})
hs <- read.csv("custval/_data/holzinger_swineford1939/holzinger_swineford1939.csv")
model <- "{HS}"
run <- function() {{
  eq <- list("", "loadings", c("loadings", "intercepts"), c("loadings", "intercepts", "residuals"))
  fits <- lapply(eq, function(e) cfa(model, data = hs, group = "school", group.equal = e))
  lrt <- lavTestLRT(fits[[1]], fits[[2]], fits[[3]], fits[[4]])
  sapply(fits, function(f) fitMeasures(f, "chisq"))
}}
t <- timed(run(), 5)
cat(toJSON(list(sec = t$sec, chisq = unname(t$value)), auto_unbox = TRUE, digits = NA), "\\n")
"""
    out = run_r(code)
    bench.add(task, "R lavaan (4 fits + lavTestLRT)", out["sec"], values=out["chisq"])


def main() -> None:
    bench = Bench(
        "validity",
        title="Validity and measurement invariance",
        description=(
            "HTMT bootstrap (ECSI model, mobi, 2,000 resamples) and the four-level invariance "
            "sequence on Holzinger-Swineford (group = school). Differences compare point estimates "
            "(HTMT) and chi-squares (invariance) with custval."
        ),
    )
    bench_htmt(bench)
    bench_invariance(bench)
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
