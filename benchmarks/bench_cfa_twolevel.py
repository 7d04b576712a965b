"""Benchmark the two-level CFA (custval.CFA with level blocks) against lavaan 0.6-14.

Tasks
-----
1. The golden balanced data (60 firms x 8 respondents, 6 items; tests/golden/cfa_twolevel).
2. The golden unbalanced data (70 firms of 2-15 respondents, string firm ids).
3. A larger simulated study: 200 firms of 5-40 respondents (about 4,500 respondents).
4. Within-only and between-only variables: the golden unbalanced data of
   tests/r/cfa_twolevel_wb.R (70 firms of 2-15), a within-only item ``xw`` and a
   firm-level variable ``z`` (model ``MODEL_WB``, 21 parameters).
5. Missing answers by FIML: the golden MCAR data of tests/r/cfa_twolevel_fiml.R (60 firms of
   4-25, 10-20% missing per item), ``missing="fiml"`` against lavaan's ``missing = "ml"``
   (lavaan is given the rows sorted by firm without empty rows, which its optimiser needs).

Model: two within-firm factors, one between-firm factor (31 parameters).  Both tools
fit the model, the saturated (H1) and the baseline model and compute standard errors
from the observed information.  Compared numbers: the parameter estimates (max abs
diff) and, in the note, the chi-square difference (lavaan's H1 is an EM stopped at a
1e-4 gain; custval maximises it fully).

Run: ``.venv/bin/python benchmarks/bench_cfa_twolevel.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval import CFA

GOLD = Path(__file__).resolve().parents[1] / "tests" / "golden" / "cfa_twolevel"
MODEL = """
level: 1
  fw1 =~ y1 + y2 + y3
  fw2 =~ y4 + y5 + y6
level: 2
  fb =~ y1 + y2 + y3 + y4 + y5 + y6
"""
MODEL_WB = """
level: 1
  fw =~ y1 + y2 + y3 + xw
level: 2
  fb =~ y1 + y2 + y3 + z
"""


def _large(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 41, 200)
    firm = np.repeat(np.arange(200), sizes)
    n = len(firm)
    lw = np.zeros((6, 2))
    lw[:3, 0], lw[3:, 1] = [1, .8, .9], [1, .7, .85]
    eta = rng.multivariate_normal([0, 0], [[1, .3], [.3, 1]], n)
    fb = rng.normal(0, np.sqrt(.4), 200)
    yb = np.outer(fb, [1, .9, .8, .7, .9, 1.1]) + rng.normal(0, np.sqrt(.05), (200, 6)) + 3
    y = eta @ lw.T + rng.normal(0, np.sqrt(.5), (n, 6)) + yb[firm]
    d = pd.DataFrame(y.round(6), columns=[f"y{i}" for i in range(1, 7)])
    d.insert(0, "firm", [f"firm_{j:03d}" for j in firm])
    return d.sample(frac=1, random_state=seed).reset_index(drop=True)


def main() -> None:
    bench = Bench(
        "cfa_twolevel",
        title="Two-level CFA (respondents in firms)",
        description=(
            "custval.CFA(model, cluster='firm') with level blocks against lavaan 0.6-14's "
            "cfa(model, data, cluster = 'firm') (nlminb, EM for the saturated model), 6 items, two "
            "within factors and one between factor (31 parameters); the last task has a within-only item "
            "and a between-only (firm-level) variable, one factor per level (21 parameters); the FIML task uses "
            "missing answers (custval missing='fiml', lavaan missing = 'ml'). Both compute the saturated and "
            "baseline models and observed-information standard errors. Max abs diff: the parameter "
            "estimates (lavaan run with its default nlminb tolerances, which stop within ~1e-5 of "
            "the maximum; at tight tolerances the goldens agree to 1e-8). 2 shared cores: timings are noisy."
        ),
    )
    r_ok = have_r("lavaan", "jsonlite")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("balanced: 60 firms x 8 (n = 480)", pd.read_csv(GOLD / "balanced.csv"), MODEL),
                 ("unbalanced: 70 firms of 2-15 (n = 589)", pd.read_csv(GOLD / "unbalanced.csv"), MODEL)]
        large = _large()
        cases.append((f"unbalanced: 200 firms of 5-40 (n = {len(large)})", large, MODEL))
        wb = pd.read_csv(GOLD / "wb_unbalanced.csv")
        cases.append((f"within-only + between-only: 70 firms of 2-15 (n = {len(wb)})", wb, MODEL_WB))
        mcar = pd.read_csv(GOLD.parent / "cfa_twolevel_fiml" / "mcar.csv")
        mcar = mcar[mcar.drop(columns="firm").notna().any(axis=1)].sort_values("firm", kind="stable")
        cases.append((f"missing answers (MCAR), FIML: 60 firms of 4-25 (n = {len(mcar)})", mcar, MODEL))
        for task, data, model in cases:
            fiml = task.startswith("missing answers")
            path = Path(tmp) / "data.csv"
            data.to_csv(path, index=False)
            miss = "fiml" if fiml else "listwise"
            sec, fit = time_median(lambda d=data, m=model, ms=miss: CFA(m, cluster="firm", missing=ms).fit(d),
                                   repeat=5)
            est = fit.params_["est"].to_numpy()
            bench.add(task, "custval", sec, values=est, reference=True,
                      note=f"chisq {fit.fit_measures_['chisq']:.4f}")
            if not r_ok:
                bench.skip(task, "R lavaan::cfa", "Rscript with lavaan not available")
                continue
            out = run_r(f"""
suppressPackageStartupMessages({{library(lavaan); library(jsonlite)}})
d <- read.csv("{path}")
model <- "{model}"
t <- timed(cfa(model, data = d, cluster = "firm"{', missing = "ml"' if fiml else ''}), 5)
cat(toJSON(list(sec = t$sec, est = parameterEstimates(t$value)$est,
                chisq = fitMeasures(t$value, "chisq")[[1]]), auto_unbox = TRUE, digits = NA), "\\n")
""")
            bench.add(task, "R lavaan::cfa", out["sec"], values=np.asarray(out["est"]),
                      note=f"chisq {out['chisq']:.4f} " + ("(nlminb H1); missing = \"ml\"" if fiml else "(EM H1)"))
    for t in dict.fromkeys(r.task for r in bench.rows):
        bench.extra.setdefault("ratios", {})[t] = bench.ratios(t, "custval")
    path = bench.write()
    print(bench.table())
    print("written", path)


if __name__ == "__main__":
    main()
