"""Benchmark custval.cfa.CFA against lavaan and semopy.

Tasks
-----
1. Holzinger-Swineford 3-factor model (n = 301), ML.
2. Simulated 6-factor x 5-item model (n = 5,000, seeded; labelled simulated), ML.
3. bfi five-factor model with missing data, FIML (lavaan ``missing = "ml"``), ML and MLR.

Each tool fits the model from the raw data (including its own sample
statistics and standard errors); lavaan is timed inside R with
``system.time``.  Compared numbers: the free loadings (custval is the
reference).  semopy runs at its defaults (``Model.fit()``, MLW objective).

Run: ``.venv/bin/python benchmarks/bench_cfa.py``.
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


def _semopy_loadings(model: str, data: pd.DataFrame):
    import semopy

    def run():
        m = semopy.Model(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(data)
            return m.inspect()

    sec, est = time_median(run, repeat=3)
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


def bench_task(bench: Bench, task: str, model: str, data: pd.DataFrame, repeat: int, *,
               kwargs: dict | None = None, r_args: str = "", r_repeat: int = 3, semopy: bool = True) -> None:
    kwargs = kwargs or {}
    sec, fit = time_median(lambda: CFA(model, **kwargs).fit(data), repeat=repeat)
    bench.add(task, "custval", sec, values=_custval_loadings(fit), reference=True,
              note=f"Fisher scoring + Newton, {fit.n_iter_} iterations, SEs and all fit measures")
    if not semopy:
        bench.skip(task, "semopy", "no FIML in semopy's default Model.fit()")
    else:
        try:
            sec_s, vals = _semopy_loadings(model, data)
            bench.add(task, "semopy 2.3.11 (defaults)", sec_s, values=vals, note="MLW objective, Model.fit()")
        except ImportError:
            bench.skip(task, "semopy", "semopy not installed")
    if not have_r("lavaan", "jsonlite"):
        bench.skip(task, "R lavaan", "Rscript/lavaan not installed")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        data.to_csv(fh, index=False)
        path = fh.name
    code = f"""
suppressPackageStartupMessages({{library(lavaan); library(jsonlite)}})
d <- read.csv("{path}")
model <- "{model}"
t <- timed(cfa(model, data = d{r_args}), {r_repeat})
fm <- fitMeasures(t$value, c("chisq", "cfi", "rmsea", "srmr"))
pe <- parameterEstimates(t$value)
est <- pe$est[pe$op == "=~" & pe$se > 0]
cat(toJSON(list(sec = t$sec, est = est), auto_unbox = TRUE, digits = NA), "\\n")
"""
    try:
        out = run_r(code)
    finally:
        Path(path).unlink(missing_ok=True)
    bench.add(task, "R lavaan::cfa", out["sec"], values=out["est"], note=f"nlminb, default options{r_args}")


def main() -> None:
    bench = Bench(
        "cfa",
        title="Confirmatory factor analysis (ML)",
        description=(
            "Time to fit a CFA by ML from raw data (estimates, SEs, fit measures) with custval, "
            "semopy and lavaan. Max abs diff compares the free loadings with custval's. "
            "The machine has 2 cores shared with other jobs: timings are noisy."
        ),
    )
    hs = pd.read_csv(RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv")
    bench_task(bench, "HS39 3-factor, n = 301", HS, hs, repeat=7)
    data, model = simulated_six_factor()
    bench_task(bench, "6 factors x 5 items, n = 5,000 (simulated)", model, data, repeat=5)
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    bfi_model = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
    bench_task(bench, "bfi 5 factors x 5 items, FIML, n = 2,800", bfi_model, bfi, repeat=3,
               kwargs={"missing": "fiml"}, r_args=', missing = "ml"', r_repeat=3, semopy=False)
    bench_task(bench, "bfi 5 factors x 5 items, FIML + MLR, n = 2,800", bfi_model, bfi, repeat=3,
               kwargs={"missing": "fiml", "estimator": "MLR"}, r_args=', missing = "ml", estimator = "MLR"',
               r_repeat=1, semopy=False)
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
