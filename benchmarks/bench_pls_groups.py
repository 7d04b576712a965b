"""Benchmark custval.pls.micom, mga and plspredict against per-permutation refit loops.

Tasks (mobi, 4 constructs, 14 items, n = 250, split by ``CUEX1 >= 8`` into 108 / 142):

1. MICOM with 1,000 permutations.
2. Permutation MGA with 1,000 permutations.
3. Henseler's PLS-MGA with 1,000 bootstrap resamples per group.
4. PLSpredict, 10 folds x 10 repetitions.

Peers: the algorithm's plain loop in Python (``custval.pls.PLS().fit`` on every group of every
permutation, every resample, every training fold), and seminr 2.3.1 in R (its R code evaluated
from ``SEMINR_SRC`` as in ``tests/r/pls.R``): ``estimate_pls()`` per group and permutation
(seminr has no MICOM/permutation MGA; cSEM's testMICOM/testMGD do exactly this loop), and
``predict_pls(noFolds = 10, reps = 10)``.  The R loops run 200 permutations (timing scaled x5,
said in the note).  The loops use the same permutations / folds as custval, so the compared
numbers (MICOM: ``c`` quantiles and p values; MGA: p values; PLSpredict: predictions) are
differences between implementations, not Monte Carlo noise.

Run: ``SEMINR_SRC=/path/to/seminr .venv/bin/python benchmarks/bench_pls_groups.py``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval._io.paths import RAW_DATA_DIR
from custval._sem import pls_groups as _g
from custval.pls import PLS, mga, micom, plspredict

B = 1000
B_R = 200
SYNTAX = "\n".join([
    "Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
    "Expectation =~ CUEX1 + CUEX2 + CUEX3",
    "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
    "Loyalty =~ CUSL1 + CUSL2 + CUSL3",
    "Satisfaction ~ Image + Expectation",
    "Loyalty ~ Satisfaction + Image",
])
PATHS = [("Image", "Satisfaction"), ("Expectation", "Satisfaction"), ("Satisfaction", "Loyalty"),
         ("Image", "Loyalty")]

R_SETUP = r"""
suppressPackageStartupMessages(library(jsonlite))
seminr <- new.env()
for (f in sort(list.files(file.path("{src}", "R"), pattern = "[.]R$", full.names = TRUE))) {{
  eval(parse(text = gsub("seminr::", "", readLines(f, warn = FALSE), fixed = TRUE), keep.source = FALSE),
       envir = seminr)
}}
attach(seminr, name = "seminr_src", warn.conflicts = FALSE)
mobi <- read.csv(file.path("custval", "_data", "mobi", "mobi.csv"))
mm <- constructs(
  composite("Image", multi_items("IMAG", 1:5)), composite("Expectation", multi_items("CUEX", 1:3)),
  composite("Satisfaction", multi_items("CUSA", 1:3)), composite("Loyalty", multi_items("CUSL", 1:3)))
sm <- relationships(paths(from = c("Image", "Expectation"), to = "Satisfaction"),
                    paths(from = c("Satisfaction", "Image"), to = "Loyalty"))
est <- function(d) suppressMessages(estimate_pls(d, mm, sm))
pooled <- est(mobi)
items <- pooled$mmVariables; cons <- colnames(pooled$path_coef)
z <- scale(as.matrix(mobi[, items]))
id <- ifelse(mobi$CUEX1 >= 8, 2L, 1L)
pf <- c("Image", "Expectation", "Satisfaction", "Image"); pt <- c("Satisfaction", "Satisfaction", "Loyalty", "Loyalty")
"""


def _loop_groups(data: pd.DataFrame, labels: np.ndarray, perms: np.ndarray):
    """The plain loop: PLS().fit in both groups of every permuted grouping; c per construct and path
    differences."""
    pooled = PLS(SYNTAX).fit(data)
    items, cons = pooled.items_, pooled.constructs_
    x = data[items].to_numpy(float)
    z = (x - x.mean(0)) / x.std(0, ddof=1)
    cs, ds = [], []
    for p in perms:
        lab = labels[p]
        with warnings.catch_warnings():  # CUSL2 loads negatively in some permuted groups
            warnings.simplefilter("ignore")
            f = [PLS(SYNTAX).fit(data[lab == g]) for g in (0, 1)]
        s = [z @ fi.weights_.loc[items, cons].to_numpy() for fi in f]
        cs.append([np.corrcoef(s[0][:, j], s[1][:, j])[0, 1] for j in range(len(cons))])
        ds.append([f[0].paths_.at[a, b] - f[1].paths_.at[a, b] for a, b in PATHS])
    return np.array(cs), np.array(ds)


def main() -> None:
    bench = Bench(
        "pls_groups",
        title="PLS group comparisons and prediction (MICOM, MGA, PLSpredict)",
        description=(
            "mobi (4 constructs, 14 items, n = 250) split by CUEX1 >= 8 (108 / 142). custval estimates all "
            "permutations / resamples / training folds at once from weighted item correlation matrices; the "
            "peers refit the model once per group and permutation (Python: custval.pls.PLS().fit; R: seminr "
            "2.3.1 estimate_pls(), evaluated from source, on one core), on the same permutations, resamples "
            "and folds. Max abs diff: MICOM c quantiles and p values, MGA p values, PLSpredict predictions. "
            "R loops ran 200 permutations and are scaled x5 (note). 2 shared cores: timings are noisy."
        ),
    )
    mobi = pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")
    group = (mobi["CUEX1"] >= 8).to_numpy()
    labels = group.astype(int)
    rng = np.random.default_rng(1)
    perms = np.stack([rng.permutation(len(mobi)) for _ in range(B)])
    src = os.environ.get("SEMINR_SRC", "")
    r_ok = bool(src) and Path(src, "R").is_dir() and have_r("jsonlite")

    # ---- MICOM and permutation MGA
    t0 = time.perf_counter()
    loop_c, loop_d = _loop_groups(mobi, labels, perms)
    loop_sec = time.perf_counter() - t0
    sec, res = time_median(lambda: micom(mobi, SYNTAX, group=group, permutations=perms), repeat=3)
    c_obs = res.compositional["c"].to_numpy()
    cv_vals = np.concatenate([res.compositional["c_quantile"], res.compositional["p_value"]])
    task = f"MICOM, {B} permutations"
    bench.add(task, "custval micom", sec, values=cv_vals, reference=True, note="batched")
    loop_vals = np.concatenate([np.quantile(loop_c, 0.05, axis=0), (loop_c <= c_obs).mean(0)])
    bench.add(task, "Python loop (PLS().fit per group)", loop_sec, values=loop_vals,
              note=f"{2 * B} fits; x{loop_sec / sec:.0f} custval")
    sec_m, res_m = time_median(lambda: mga(mobi, SYNTAX, group=group, permutations=perms), repeat=3)
    task_m = f"MGA permutation, {B} permutations"
    d_obs = res_m.paths["estimate"].to_numpy()
    bench.add(task_m, "custval mga", sec_m, values=res_m.paths["p_value"], reference=True, note="batched")
    loop_p = (loop_d >= np.abs(d_obs)).mean(0) + (loop_d <= -np.abs(d_obs)).mean(0)
    bench.add(task_m, "Python loop (PLS().fit per group)", loop_sec, values=loop_p,
              note=f"same loop as MICOM (c and paths from the same fits); x{loop_sec / sec_m:.0f} custval")
    if r_ok:
        perm_r = "\n".join("c(" + ",".join(str(v + 1) for v in p) + ")," for p in perms[:B_R])
        out = run_r(R_SETUP.format(src=src) + f"""
perms <- rbind({perm_r[:-1]})
cs <- matrix(0, nrow(perms), length(cons)); ds <- matrix(0, nrow(perms), 4)
s <- system.time(for (b in seq_len(nrow(perms))) {{
  lab <- id[perms[b, ]]; f1 <- est(mobi[lab == 1, ]); f2 <- est(mobi[lab == 2, ])
  cs[b, ] <- diag(cor(z %*% f1$outer_weights[items, cons], z %*% f2$outer_weights[items, cons]))
  ds[b, ] <- mapply(function(a, b2) f1$path_coef[a, b2] - f2$path_coef[a, b2], pf, pt)
}})[["elapsed"]]
cat(toJSON(list(sec = s, c = cs, d = ds), auto_unbox = TRUE, digits = NA), "\\n")
""")
        r_c, r_d = np.array(out["c"]), np.array(out["d"])
        sub = micom(mobi, SYNTAX, group=group, permutations=perms[:B_R])
        sub_m = mga(mobi, SYNTAX, group=group, permutations=perms[:B_R])
        diff_c = float(np.max(np.abs(np.concatenate([
            sub.compositional["c_quantile"] - np.quantile(r_c, 0.05, axis=0),
            sub.compositional["p_value"] - (r_c <= c_obs).mean(0)]))))
        diff_d = float(np.max(np.abs(sub_m.paths["p_value"].to_numpy()
                                     - ((r_d >= np.abs(d_obs)).mean(0) + (r_d <= -np.abs(d_obs)).mean(0)))))
        r_sec = out["sec"] * B / B_R
        bench.add(task, "R seminr estimate_pls loop", r_sec,
                  note=f"{B_R} permutations x5; diff vs custval on those {B_R}: {diff_c:.2g}; x{r_sec / sec:.0f}")
        bench.add(task_m, "R seminr estimate_pls loop", r_sec,
                  note=f"same loop; diff vs custval on those {B_R}: {diff_d:.2g}; x{r_sec / sec_m:.0f}")
    else:
        for t in (task, task_m):
            bench.skip(t, "R seminr", "Rscript or SEMINR_SRC (seminr source tree) not available")

    # ---- Henseler's PLS-MGA: bootstrap of each group
    task_h = f"MGA Henseler, {B} resamples per group"
    sec_h, res_h = time_median(lambda: mga(mobi, SYNTAX, group=group, method="henseler", n_boot=B, seed=3),
                               repeat=3)
    bench.add(task_h, "custval mga(method='henseler')", sec_h, reference=True, note="batched")
    t0 = time.perf_counter()
    rng = np.random.default_rng(3)
    for g in (0, 1):
        d = mobi[labels == g].reset_index(drop=True)
        for _ in range(B):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                PLS(SYNTAX).fit(d.iloc[rng.integers(0, len(d), len(d))])
    loop_h = time.perf_counter() - t0
    bench.add(task_h, "Python loop (PLS().fit per resample)", loop_h, note=f"{2 * B} fits; x{loop_h / sec_h:.0f}")

    # ---- PLSpredict
    task_p = "PLSpredict, 10 folds x 10 repetitions"
    sec_p, res_p = time_median(lambda: plspredict(mobi, SYNTAX, folds=10, repetitions=10, seed=5), repeat=5)
    folds = _g.fold_labels(np.random.default_rng(5), len(mobi), 10, 10)
    endo = ["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL2", "CUSL3"]
    exo = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5", "CUEX1", "CUEX2", "CUEX3"]
    bench.add(task_p, "custval plspredict", sec_p, values=res_p.predictions["PLS"][endo], reference=True,
              note="earliest antecedents; batched")

    def loop_predict():
        pred = np.zeros((10, len(mobi), len(endo)))
        for r in range(10):
            for f in range(10):
                tr, te = mobi[folds[r] != f], mobi[folds[r] == f]
                fit = PLS(SYNTAX).fit(tr)
                mu, sd = tr[fit.items_].mean(), tr[fit.items_].std()
                zt = ((te[fit.items_] - mu) / sd).to_numpy()
                s = zt @ fit.weights_.to_numpy()
                k = len(fit.constructs_)
                total = np.linalg.inv(np.eye(k) - fit.paths_.to_numpy()) - np.eye(k)
                exo_c = [fit.constructs_.index(c) for c in ("Image", "Expectation")]
                endo_c = [fit.constructs_.index(c) for c in ("Satisfaction", "Loyalty")]
                ps = s[:, exo_c] @ total[np.ix_(exo_c, endo_c)]
                lam = fit.loadings_.loc[endo].to_numpy()[:, endo_c]
                pred[r, folds[r] == f] = ps @ lam.T * sd[endo].to_numpy() + mu[endo].to_numpy()
                xtr = np.column_stack([np.ones(len(tr)), tr[exo].to_numpy(float)])
                np.linalg.lstsq(xtr, tr[endo].to_numpy(float), rcond=None)  # the LM benchmark
        return pred.mean(0)

    sec_l, pred_l = time_median(loop_predict, repeat=1, warmup=0)
    bench.add(task_p, "Python loop (PLS().fit per training set)", sec_l, values=pred_l,
              note=f"100 fits + LM; x{sec_l / sec_p:.0f}")
    if r_ok:
        out = run_r(R_SETUP.format(src=src) + """
set.seed(7)
s <- system.time(pr <- suppressMessages(predict_pls(pooled, technique = predict_EA, noFolds = 10, reps = 10)))[["elapsed"]]
set.seed(7); order <- sample(nrow(mobi), nrow(mobi))
cat(toJSON(list(sec = s, order = order - 1L, pls = unname(as.matrix(pr$PLS_out_of_sample)),
                items = colnames(pr$PLS_out_of_sample)), auto_unbox = TRUE, digits = NA), "\\n")
""")
        order = np.array(out["order"])
        fm = np.empty(order.size, dtype=int)
        fm[order] = _g.r_cut(order.size, 10)
        same = plspredict(mobi, SYNTAX, folds=fm, benchmark="seminr")
        diff = float(np.max(np.abs(same.predictions["PLS"][out["items"]].to_numpy() - np.array(out["pls"]))))
        bench.add(task_p, "R seminr predict_pls(noFolds = 10, reps = 10)", out["sec"],
                  note=f"seminr repeats one split 10 times; diff vs custval on its folds: {diff:.2g}; "
                       f"x{out['sec'] / sec_p:.0f}")
    else:
        bench.skip(task_p, "R seminr predict_pls", "Rscript or SEMINR_SRC (seminr source tree) not available")

    for t in dict.fromkeys(r.task for r in bench.rows):
        base = next(r.tool for r in bench.rows if r.task == t)
        bench.extra.setdefault("ratios", {})[t] = bench.ratios(t, base)
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
