"""Benchmark custval.cfa.CFA with ordered items (WLSMV) against lavaan 0.6-14.

Tasks (one WLSMV fit each, lavaan's defaults: delta parameterization, robust.sem,
scaled-shifted test):

1. bfi agreeableness + conscientiousness, 2 factors x 5 items, 6 categories, n = 2632;
2. the five bfi factors, 25 items, 6 categories, n = 2436;
3. the skewed simulated set of the goldens (tests/golden/cfa_ordinal/sim_skewed.csv):
   3 factors x 4 items, 2-4 categories, n = 600;
4. a larger simulated set: 8 factors x 5 items, 5 categories, n = 2000 (numpy seed 16,
   written to a temporary CSV that R reads).

Each tool's time covers the whole fit from the raw data frame (thresholds, polychorics,
Gamma, estimates, standard errors, test statistics).  Compared numbers: every free
parameter estimate (lavaan's ``coef(fit)`` order) plus ``chisq.scaled``; the largest
absolute difference is reported.

Run: ``.venv/bin/python benchmarks/bench_wlsmv.py``.
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

REPO = Path(__file__).resolve().parents[1]


def _model(factors: dict[str, list[str]]) -> str:
    return "\n".join(f"{f} =~ " + " + ".join(items) for f, items in factors.items())


def _large(seed: int = 16, n: int = 2000, nf: int = 8, k: int = 5) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    phi = np.full((nf, nf), 0.3) + 0.7 * np.eye(nf)
    eta = rng.multivariate_normal(np.zeros(nf), phi, size=n)
    data, factors = {}, {}
    for f in range(nf):
        factors[f"F{f + 1}"] = []
        for j in range(k):
            lam = 0.55 + 0.07 * j
            ystar = lam * eta[:, f] + np.sqrt(1 - lam**2) * rng.normal(size=n)
            name = f"y{f + 1}_{j + 1}"
            data[name] = np.searchsorted(np.sort(rng.normal(-0.3, 0.9, size=4)), ystar) + 1
            factors[f"F{f + 1}"].append(name)
    return pd.DataFrame(data), factors


def _values(fit: CFA) -> np.ndarray:
    p = fit.params_
    free = p[p["free"] > 0].drop_duplicates("free").sort_values("free")
    return np.concatenate([free["est"].to_numpy(), [fit.fit_measures_["chisq.scaled"]]])


def main() -> None:
    bench = Bench(
        "wlsmv",
        title="Ordinal CFA (WLSMV)",
        description=(
            "custval.cfa.CFA(model, ordered=True) against lavaan 0.6-14 cfa(model, ordered = TRUE) (WLSMV: "
            "two-stage thresholds and polychorics, Gamma, DWLS, robust.sem, scaled-shifted test), whole fit "
            "from the raw data frame. Max abs diff: all free estimates and chisq.scaled. One run on a shared "
            "2-core machine (single-threaded BLAS for custval): timings are noisy."
        ),
    )
    bfi = pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv")
    sets = []
    ac = {"A": [f"A{i}" for i in range(1, 6)], "C": [f"C{i}" for i in range(1, 6)]}
    sets.append(("bfi A + C: 10 items, 6 categories, n = 2632", ac, "bfi"))
    big5 = {f: [f"{f}{i}" for i in range(1, 6)] for f in "ACENO"}
    sets.append(("bfi Big Five: 25 items, 6 categories, n = 2436", big5, "bfi"))
    sim = pd.read_csv(REPO / "tests" / "golden" / "cfa_ordinal" / "sim_skewed.csv")
    simf = {f"F{f}": [f"q{i}" for i in range(4 * f - 3, 4 * f + 1)] for f in (1, 2, 3)}
    sets.append(("skewed simulation: 12 items, 2-4 categories, n = 600", simf, "sim"))
    large, largef = _large()
    sets.append(("simulation: 40 items, 8 factors, 5 categories, n = 2000", largef, "large"))
    frames = {"bfi": bfi, "sim": sim, "large": large}
    r_ok = have_r("lavaan", "jsonlite")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for key, frame in frames.items():
            paths[key] = Path(tmp) / f"{key}.csv"
            frame.to_csv(paths[key], index=False)
        for task, factors, key in sets:
            items = [v for vs in factors.values() for v in vs]
            data = frames[key].dropna(subset=items)
            model = _model(factors)

            def run(model=model, data=data):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return CFA(model, ordered=True).fit(data)

            sec, fit = time_median(run, repeat=3)
            bench.add(task, "custval", sec, values=_values(fit), reference=True,
                      note=f"{fit.n_iter_} Gauss-Newton iterations")
            if not r_ok:
                bench.skip(task, "R lavaan::cfa(ordered = TRUE)", "Rscript or lavaan not available")
                continue
            r_items = "c(" + ", ".join(f'"{v}"' for v in items) + ")"
            out = run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(jsonlite)}})
d <- read.csv("{paths[key]}")
d <- d[complete.cases(d[, {r_items}]), ]
m <- "{model.replace(chr(10), '; ')}"
t <- timed(cfa(m, data = d, ordered = TRUE), 3)
cat(toJSON(list(sec = t$sec, est = c(unname(coef(t$value)), fitMeasures(t$value, "chisq.scaled")[[1]])),
           auto_unbox = TRUE, digits = NA), "\\n")
""")
            bench.add(task, "R lavaan::cfa(ordered = TRUE)", out["sec"], values=out["est"],
                      note="estimator = WLSMV (default for ordered)")
    for t in dict.fromkeys(r.task for r in bench.rows):
        bench.extra.setdefault("ratios", {})[t] = bench.ratios(t, "custval")
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
