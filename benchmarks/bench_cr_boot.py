"""Benchmark the bootstrap of composite reliability of continuous CFA fits against lavaan 0.6-14 +
semTools 0.5-6.

Tasks (each resample a refit of the CFA on N respondents drawn with replacement):

* Holzinger-Swineford 3-factor ML CFA (n = 301), 1000 percentile-bootstrap resamples of
  ``compRelSEM(fit)`` (obs.var = TRUE): custval ``composite_reliability(fit,
  conventions="semtools_observed", ci_method="bootstrap", n_boot=1000)`` (serial) against
  ``lavaan::bootstrapLavaan(fit, R = 1000, FUN = function(f) semTools::compRelSEM(f))``.  The
  random draws differ (numpy vs R): the compared numbers are the point estimates; the
  bootstrap standard errors of both are in the note.
* the same fit, 50 resamples drawn by custval and refitted by both (R: ``cfa(model,
  data[rows, ])`` and ``compRelSEM`` in a loop over custval's rows): the compared numbers are the
  50 x 3 replicate values themselves.
* bfi agreeableness + conscientiousness (10 items, keyed, n = 2800 with skipped answers), FIML
  (lavaan ``missing = "ml"``), 100 resamples, as the first task.

Run: ``.venv/bin/python benchmarks/bench_cr_boot.py``.
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
from custval._sem.ml_boot import replicate_rows
from custval.cfa import CFA
from custval.validity import composite_reliability

HS_MODEL = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
AC_MODEL = "agree =~ A1 + A2 + A3 + A4 + A5; consc =~ C1 + C2 + C3 + C4 + C5"


def _custval(data, model, n_boot, **kw):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CFA(model, **kw).fit(data)
            return composite_reliability(fit, conventions="semtools_observed", ci_method="bootstrap",
                                         n_boot=n_boot, seed=1, progress=False)

    return time_median(run, repeat=1, warmup=0)


def _r_boot(path, model, n_boot, extra=""):
    return run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(semTools); library(jsonlite)}})
d <- read.csv("{path}")
set.seed(1)
t <- timed({{ fit <- cfa("{model}", data = d{extra}); list(est = compRelSEM(fit),
  boot = bootstrapLavaan(fit, R = {n_boot}, FUN = function(f) compRelSEM(f))) }}, 1)
cat(toJSON(list(sec = t$sec, est = unname(t$value$est), se = unname(apply(t$value$boot, 2, sd)),
                n_ok = nrow(t$value$boot)), auto_unbox = TRUE, digits = NA), "\\n")
""")


def main() -> None:
    bench = Bench(
        "cr_boot",
        title="Bootstrap of composite reliability (ML, FIML)",
        description=(
            "Percentile-bootstrap resamples of compRelSEM (obs.var = TRUE) after an ML or FIML CFA, each a "
            "refit on N respondents drawn with replacement: custval.validity.composite_reliability(fit, "
            "ci_method='bootstrap') (serial) against lavaan 0.6-14 bootstrapLavaan(fit, FUN = compRelSEM) "
            "(semTools 0.5-6). Max abs diff: the point estimates (the draws differ), except on the row "
            "'same rows', where R refits custval's resamples and the 50 x 3 replicate values are compared. "
            "One run on a shared 2-core machine: timings are noisy."
        ),
    )
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    keyed = bfi[items].astype(float).copy()
    for it in ("A1", "C4", "C5"):
        keyed[it] = 7 - keyed[it]
    keyed = keyed[keyed.notna().any(axis=1)].reset_index(drop=True)
    r_ok = have_r("lavaan", "semTools", "jsonlite")
    tasks = [("HS 3-factor ML, 1000 resamples", hs, HS_MODEL, 1000, {}, ""),
             ("bfi A + C FIML, 100 resamples", keyed, AC_MODEL, 100, {"missing": "fiml"}, ', missing = "ml"')]
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        for task, data, model, n_boot, kw, extra in tasks:
            sec, res = _custval(data, model, n_boot, **kw)
            t = res.table
            bench.add(task, "custval", sec, values=t["estimate"].to_numpy(), reference=True,
                      note="bootstrap se " + ", ".join(f"{v:.4f}" for v in t["se"]))
            if not r_ok:
                bench.skip(task, "R bootstrapLavaan + compRelSEM", "Rscript, lavaan or semTools not available")
                continue
            path = Path(tmp) / "data.csv"
            data.to_csv(path, index=False)
            out = _r_boot(path, model, n_boot, extra)
            bench.add(task, "R bootstrapLavaan + compRelSEM", out["sec"], values=np.asarray(out["est"]),
                      note="bootstrap se " + ", ".join(f"{v:.4f}" for v in out["se"])
                      + f"; {out['n_ok']} resamples kept")
            ratios[task] = bench.ratios(task, "custval")
        # the same resamples refitted by both
        task = "HS 3-factor ML, same rows (50 resamples)"
        fit = CFA(HS_MODEL).fit(hs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sec, res = time_median(lambda: composite_reliability(
                fit, conventions="semtools_observed", ci_method="bootstrap", n_boot=50, seed=1, progress=False),
                repeat=1, warmup=0)
        bench.add(task, "custval", sec, values=res.boot.ravel(), reference=True, note="resamples only")
        if r_ok:
            rows = pd.DataFrame({f"r{b}": r + 1 for b, r in enumerate(replicate_rows(fit, 50, 1))})
            rpath = Path(tmp) / "rows.csv"
            rows.to_csv(rpath, index=False)
            hs.to_csv(Path(tmp) / "data.csv", index=False)
            out = run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(semTools); library(jsonlite)}})
d <- read.csv("{Path(tmp) / 'data.csv'}"); rows <- read.csv("{rpath}")
t <- timed(t(sapply(rows, function(r) compRelSEM(cfa("{HS_MODEL}", data = d[r, ])))), 1)
cat(toJSON(list(sec = t$sec, boot = as.vector(t(t$value))), auto_unbox = TRUE, digits = NA), "\\n")
""")
            bench.add(task, "R cfa + compRelSEM on the same rows", out["sec"], values=np.asarray(out["boot"]),
                      note="replicate values compared")
            ratios[task] = bench.ratios(task, "custval")
    bench.extra["ratios"] = ratios
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
