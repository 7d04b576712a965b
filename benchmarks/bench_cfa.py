"""Benchmark custval.cfa.CFA against lavaan and semopy.

Tasks
-----
1. Holzinger-Swineford 3-factor model (n = 301), ML.
2. Simulated 6-factor x 5-item model (n = 5,000, seeded; labelled simulated), ML.
3. bfi five-factor model with missing data, FIML (lavaan ``missing = "ml"``), ML and MLR.

Every timing covers the same outputs: the fit from the raw data frame, the
estimates with standard errors and the standardized solution, the test
statistics and the fit measures (with the baseline model):

* custval: ``CFA(model).fit(data)`` (``params_`` with ``std_all``, ``fit_measures_``);
* lavaan 0.6-14: ``cfa()`` + ``fitMeasures()`` + ``parameterEstimates(standardized = TRUE)``,
  timed inside R with ``system.time`` (the note gives ``cfa()`` alone);
* semopy (defaults, MLW objective): ``Model.fit()`` + ``inspect(std_est=True)`` +
  ``calc_stats()``; with missing data its FIML objective (``Model.fit(obj="FIML")``),
  once, reported as it ends; it has no MLR.

Each timing is the minimum of repeated runs (after a warm-up) on a shared
2-core machine; the one-minute load average before and after each task is
recorded.  Compared numbers: the free loadings (custval is the reference).

Run: ``.venv/bin/python benchmarks/bench_cfa.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r

from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def simulated_six_factor(n: int = 5000, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Simulated data: 6 factors (correlation 0.3), 5 items each, loadings 0.5-0.9."""
    rng = np.random.default_rng(seed)
    k, m = 6, 5
    lam = np.zeros((k * m, k))
    for f in range(k):
        lam[f * m:(f + 1) * m, f] = rng.uniform(0.5, 0.9, size=m)
    phi = np.full((k, k), 0.3) + 0.7 * np.eye(k)
    theta = np.diag(1 - np.sum(lam**2, axis=1) * 1.0)
    sigma = lam @ phi @ lam.T + theta
    y = rng.multivariate_normal(np.zeros(k * m), sigma, size=n)
    cols = [f"y{f + 1}_{i + 1}" for f in range(k) for i in range(m)]
    model = "\n".join(f"F{f + 1} =~ " + " + ".join(cols[f * m:(f + 1) * m]) for f in range(k))
    return pd.DataFrame(y, columns=cols).round(6), model


def _custval_loadings(fit) -> np.ndarray:
    p = fit.params_
    return p.loc[(p["op"] == "=~") & (p["free"] > 0), "est"].to_numpy()


def time_min(fn, *, repeat: int, warmup: int = 1):
    """Minimum seconds of ``repeat`` calls of ``fn()`` after ``warmup`` calls; (seconds, last value)."""
    value = None
    for _ in range(warmup):
        value = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return float(min(times)), value


def _semopy_loadings(model: str, data: pd.DataFrame, repeat: int):
    import semopy

    def run():
        m = semopy.Model(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(data)
            est = m.inspect(std_est=True)
            semopy.calc_stats(m)
            return est

    sec, est = time_min(run, repeat=repeat)
    lo = est[est["op"] == "~"]
    # semopy lists loadings as item ~ factor; keep the model's factor/item order
    order = []
    for line in model.splitlines():
        if "=~" not in line:
            continue
        f, items = (s.strip() for s in line.split("=~"))
        for item in [s.strip() for s in items.split("+")][1:]:
            order.append(float(lo[(lo["lval"] == item) & (lo["rval"] == f)]["Estimate"].iloc[0]))
    return sec, np.array(order)


def _semopy_fiml_run(model: str, data: pd.DataFrame, queue) -> None:
    """In a child process: semopy's FIML fit, its estimates and statistics; puts
    ``("ok", seconds, loadings)`` or ``("failed", seconds, reason)`` on ``queue``."""
    import semopy

    m = semopy.Model(model)
    t0 = time.perf_counter()
    res = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = m.fit(data, obj="FIML")
            if not getattr(res, "success", True):
                raise RuntimeError("not converged")
            est = m.inspect(std_est=True)
            semopy.calc_stats(m)
    except Exception as exc:  # semopy's own failure is the finding here
        what = ("did not converge" if res is not None and not getattr(res, "success", True)
                else f"failed ({type(exc).__name__})")
        queue.put(("failed", time.perf_counter() - t0, f"{what} (solver: {getattr(res, 'message', '?')})"))
        return
    sec = time.perf_counter() - t0
    lo = est[est["op"] == "~"]
    vals = []
    for line in model.splitlines():
        f, items = (x.strip() for x in line.split("=~"))
        for item in [x.strip() for x in items.split("+")][1:]:
            vals.append(float(lo[(lo["lval"] == item) & (lo["rval"] == f)]["Estimate"].iloc[0]))
    queue.put(("ok", sec, vals))


def _semopy_fiml(bench: Bench, task: str, model: str, data: pd.DataFrame, limit: float = 120.0) -> None:
    """semopy's FIML objective (``Model.fit(obj="FIML")``), once, in a child process stopped
    after ``limit`` seconds: a row if it converges, else the reason."""
    import multiprocessing as mp

    try:
        import semopy  # noqa: F401
    except ImportError:
        bench.skip(task, "semopy", "semopy not installed")
        return
    tool = "semopy 2.3.11 Model.fit(obj='FIML')"
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_semopy_fiml_run, args=(model, data, queue))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        bench.skip(task, tool, f"not finished after {limit:.0f} s (stopped)")
        return
    status, sec, payload = queue.get() if not queue.empty() else ("failed", float("nan"), "no result")
    if status == "ok":
        bench.add(task, tool, sec, values=payload, note="one run")
    else:
        bench.skip(task, tool, f"{payload}, after {sec:.1f} s")


def _load() -> float:
    return float(os.getloadavg()[0])


def bench_task(bench: Bench, task: str, model: str, data: pd.DataFrame, repeat: int, *,
               kwargs: dict | None = None, r_args: str = "", semopy: bool | str = True) -> None:
    kwargs = kwargs or {}
    load_before = _load()
    sec, fit = time_min(lambda: CFA(model, **kwargs).fit(data), repeat=repeat)
    bench.add(task, "custval", sec, values=_custval_loadings(fit), reference=True,
              note=f"{fit.n_iter_} iterations (Fisher scoring, then Newton)")
    if semopy == "fiml":
        _semopy_fiml(bench, task, model, data)
    elif not semopy:
        bench.skip(task, "semopy", "no MLR (Yuan-Bentler scaled test with FIML) in semopy")
    else:
        try:
            sec_s, vals = _semopy_loadings(model, data, repeat)
            bench.add(task, "semopy 2.3.11 (defaults)", sec_s, values=vals,
                      note="MLW objective; fit + inspect(std_est) + calc_stats")
        except ImportError:
            bench.skip(task, "semopy", "semopy not installed")
    if not have_r("lavaan", "jsonlite"):
        bench.skip(task, "R lavaan", "Rscript/lavaan not installed")
        bench.extra.setdefault("load_average", {})[task] = [load_before, _load()]
        return
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        data.to_csv(fh, index=False)
        path = fh.name
    code = f"""
suppressPackageStartupMessages({{library(lavaan); library(jsonlite)}})
d <- read.csv("{path}")
model <- "{model}"
all_outputs <- function() {{
  fit <- cfa(model, data = d{r_args})
  fm <- fitMeasures(fit)
  pe <- parameterEstimates(fit, standardized = TRUE)
  fit
}}
v <- all_outputs()  # warm-up
s_all <- replicate({repeat}, system.time(all_outputs())[["elapsed"]])
s_fit <- replicate({repeat}, system.time(cfa(model, data = d{r_args}))[["elapsed"]])
pe <- parameterEstimates(v)
est <- pe$est[pe$op == "=~" & pe$se > 0]
cat(toJSON(list(sec = min(s_all), sec_fit = min(s_fit), est = est), auto_unbox = TRUE, digits = NA), "\\n")
"""
    try:
        out = run_r(code)
    finally:
        Path(path).unlink(missing_ok=True)
    bench.add(task, "R lavaan::cfa", out["sec"], values=out["est"],
              note=f"cfa() + fitMeasures() + parameterEstimates(standardized = TRUE); cfa() alone {out['sec_fit']:.4g} s"
                   f"{'; ' + r_args.strip(', ') if r_args else ''}")
    bench.extra.setdefault("load_average", {})[task] = [load_before, _load()]


def main() -> None:
    bench = Bench(
        "cfa",
        title="Confirmatory factor analysis (ML)",
        description=(
            "Time to fit a CFA by ML from raw data with custval, semopy and lavaan 0.6-14, each timing "
            "covering the same outputs: estimates, SEs, standardized solution, test statistics and fit "
            "measures (lavaan: cfa() + fitMeasures() + parameterEstimates(standardized = TRUE), cfa() alone in "
            "the note; semopy: fit + inspect(std_est=True) + calc_stats). Minimum of repeated runs, all tools "
            "in one run. Max abs diff compares the free loadings with custval's. The machine has 2 cores "
            "shared with other jobs: timings are noisy; LOAD."
        ),
        stat="min",
    )
    bench.extra["timing_statistic"] = "minimum of repeated runs after a warm-up"
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    bench_task(bench, "HS39 3-factor, n = 301", HS, hs, repeat=15)
    data, model = simulated_six_factor()
    bench_task(bench, "6 factors x 5 items, n = 5,000 (simulated)", model, data, repeat=10)
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    bfi_model = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
    bench_task(bench, "bfi 5 factors x 5 items, FIML, n = 2,800", bfi_model, bfi, repeat=5,
               kwargs={"missing": "fiml"}, r_args=', missing = "ml"', semopy="fiml")
    bench_task(bench, "bfi 5 factors x 5 items, FIML + MLR, n = 2,800", bfi_model, bfi, repeat=3,
               kwargs={"missing": "fiml", "estimator": "MLR"}, r_args=', missing = "ml", estimator = "MLR"',
               semopy=False)
    loads = [v for pair in bench.extra.get("load_average", {}).values() for v in pair]
    if loads:
        bench.description = bench.description.replace(
            "LOAD", f"one-minute load average {min(loads):.1f}-{max(loads):.1f} during the run")
    else:
        bench.description = bench.description.replace("; LOAD", "")
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
