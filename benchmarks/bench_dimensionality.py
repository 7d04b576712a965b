"""Benchmark: parallel analysis, 100 iterations, bfi (custval vs R psych::fa.parallel vs a factor_analyzer loop).

Run: ``.venv/bin/python benchmarks/bench_dimensionality.py`` (or ``make bench``).
Writes ``benchmarks/results/dimensionality.json`` and the README section.

Data: the 25 bfi items with their missing values (pairwise correlations, as
psych's default), n = 2,800.  Every tool does the same work per iteration:
one column-wise resample and one normal simulated data set, their
correlation eigenvalues and a one-factor minres solution of each.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import Bench, have_r, run_r, time_median

from custval._io.paths import RAW_DATA_DIR
from custval.dimensionality import parallel_analysis

N_ITER = 100
QUANT = 0.95


def load_bfi() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "bfi" / "bfi.csv").loc[:, "A1":"O5"]


def factor_analyzer_loop(df: pd.DataFrame, n_iter: int = N_ITER, seed: int = 0):
    """Parallel analysis written with factor_analyzer 0.5.1 (no parallel analysis of its own).

    ``FactorAnalyzer.fit`` raises a TypeError with scikit-learn >= 1.6, so the
    loop calls its private ``_fit_factor_analysis`` on each correlation matrix.
    """
    from factor_analyzer import FactorAnalyzer

    rng = np.random.default_rng(seed)
    x = df.to_numpy(float)
    n, p = x.shape

    def fa_values(r):
        fa = FactorAnalyzer(n_factors=1, rotation=None, method="minres", is_corr_matrix=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            L = fa._fit_factor_analysis(np.array(r, dtype=float, copy=True))  # it writes into r
        rr = r.copy()
        np.fill_diagonal(rr, (L**2).sum(axis=1))
        return np.linalg.eigvalsh(rr)[::-1]

    r_obs = pd.DataFrame(x).corr().to_numpy()
    pc_obs, fa_obs = np.linalg.eigvalsh(r_obs)[::-1], fa_values(r_obs)
    sim_pc, sim_fa = [], []
    for _ in range(n_iter):
        xs = x[rng.integers(0, n, size=(n, p)), np.arange(p)]
        rs = pd.DataFrame(xs).corr().to_numpy()
        np.linalg.eigvalsh(rs)
        fa_values(rs)
        rn = np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
        sim_pc.append(np.linalg.eigvalsh(rn)[::-1])
        sim_fa.append(fa_values(rn))
    q_pc, q_fa = np.quantile(sim_pc, QUANT, axis=0), np.quantile(sim_fa, QUANT, axis=0)
    ncomp = int(np.argmin(pc_obs > q_pc))
    nfact = int(np.argmin(fa_obs > q_fa))
    return fa_obs, nfact, ncomp


R_CODE = r"""
suppressPackageStartupMessages(library(psych)); options(mc.cores = {cores})
x <- read.csv("custval/_data/bfi/bfi.csv")[, 2:26]
set.seed(1)
st <- system.time(v <- suppressMessages(fa.parallel(x, n.iter = {niter}, plot = FALSE)))
cat(jsonlite::toJSON(list(sec = st[["elapsed"]],
  cpu = sum(st[c("user.self", "sys.self", "user.child", "sys.child")], na.rm = TRUE),
  fa_values = as.numeric(v$fa.values), nfact = v$nfact, ncomp = v$ncomp),
  auto_unbox = TRUE, digits = NA), "\n")
"""


def _cpu(fn):
    """CPU seconds of ``fn()`` (the shared 2-core machine makes wall time noisy)."""
    t0 = time.process_time()
    value = fn()
    return time.process_time() - t0, value


def main():
    bench = Bench(
        "dimensionality",
        title="Dimensionality: parallel analysis",
        description=(
            f"Parallel analysis with {N_ITER} iterations (resampled + normal simulated data, PC and "
            "one-factor minres FA eigenvalues) on the 25 bfi items with their NAs (pairwise "
            "correlations, n = 2,800). custval: `parallel_analysis(df, n_iter=100)` (BLAS limited to one "
            "thread). psych: `fa.parallel(x, n.iter = 100)` with `mc.cores = 1` (single core, the fair "
            "comparison) and with psych's default forking over 2 cores. factor_analyzer 0.5.1 has no "
            "parallel analysis: a Python loop over its minres (its `fit` is broken with scikit-learn "
            "1.9, so the private `_fit_factor_analysis` is called). max abs diff = largest difference "
            "of the observed FA eigenvalues from custval's; the note gives the suggested numbers "
            "(factors, components) and CPU seconds (user + system, including R's forked children): on "
            "the shared machine CPU time is the steadier comparison."
        ),
    )
    df = load_bfi()
    task = f"parallel analysis, bfi 25 items, n.iter = {N_ITER}"
    sec, res = time_median(lambda: parallel_analysis(df, n_iter=N_ITER, seed=0), repeat=3)
    cpu = float(np.median([_cpu(lambda: parallel_analysis(df, n_iter=N_ITER, seed=0))[0] for _ in range(3)]))
    bench.add(task, "custval", sec, values=res.eigenvalues["fa_observed"].to_numpy(), reference=True,
              note=f"suggests {res.n_factors} factors, {res.n_components} components; CPU {cpu:.2f} s")

    t_fa, (fa_obs, nf, nc) = time_median(lambda: factor_analyzer_loop(df), repeat=1, warmup=0)
    bench.add(task, "factor_analyzer loop", t_fa, values=fa_obs,
              note=f"suggests {nf} factors, {nc} components; pandas pairwise correlations")

    ratios = {"factor_analyzer_over_custval": t_fa / sec, "custval_cpu_seconds": cpu}
    if have_r("psych", "jsonlite"):
        for cores, label in ((1, "R psych::fa.parallel (1 core)"), (2, "R psych::fa.parallel (2 cores)")):
            out = run_r(R_CODE.replace("{cores}", str(cores)).replace("{niter}", str(N_ITER))
                        .replace("{repeat}", "1"))
            bench.add(task, label, out["sec"], values=out["fa_values"],
                      note=f"suggests {out['nfact']} factors, {out['ncomp']} components; CPU {out['cpu']:.2f} s")
            ratios[f"psych_{cores}core_over_custval"] = out["sec"] / sec
            ratios[f"psych_{cores}core_over_custval_cpu"] = out["cpu"] / cpu
    else:
        bench.skip(task, "R psych::fa.parallel", "Rscript/psych not installed")
    bench.extra["ratios"] = ratios
    path = bench.write()
    print(bench.table())
    print({k: round(v, 2) for k, v in ratios.items()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
