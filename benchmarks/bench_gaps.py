"""Benchmark custval.gaps: account-matched perception gaps with a cluster bootstrap.

Task: a SIMULATED six-firm CWI study (``custval.simulate.case_study(seed=0)``, 144
provider and 183 customer respondents, 60 accounts); construct scores, account
means, provider-minus-customer gaps per firm and paired construct (36 gaps) and
2,000 bootstrap resamples of the accounts per firm.

Tools: custval (all resamples at once as a count matrix times the account
differences); a plain numpy loop over resamples (what one would write by hand);
base R (``rowMeans``/``tapply`` for the gaps, a ``sample()`` loop for the bootstrap).
Compared numbers: the 36 point estimates (the resamples differ between random
number generators).

Run: ``.venv/bin/python benchmarks/bench_gaps.py``.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Bench, have_r, run_r, time_median

from custval import load_instrument
from custval.exceptions import InvarianceWarning
from custval.gaps import _pairs, _scores, perception_gap
from custval.simulate import case_study

N_BOOT = 2000
TASK = f"account-matched gaps, 6 firms x 6 constructs, {N_BOOT} cluster resamples"


def custval_gaps(prov, cust, inst):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InvarianceWarning)
        return perception_gap(prov, cust, inst, n_boot=N_BOOT, seed=0).table["estimate"].to_numpy()


def numpy_loop(prov, cust, inst):
    """Hand-written: account differences, then one resample at a time."""
    pitems, citems = _pairs(inst)
    ps = _scores(prov, inst.form("provider"), pitems)
    cs = _scores(cust, inst.form("customer"), citems)
    rng = np.random.default_rng(0)
    out = []
    for firm in sorted(set(prov["firm"])):
        pa = ps[prov["firm"] == firm].groupby(prov["account"][prov["firm"] == firm]).mean()
        ca = cs[cust["firm"] == firm].groupby(cust["account"][cust["firm"] == firm]).mean()
        d = (pa - ca.reindex(pa.index)).dropna().to_numpy()
        boots = np.empty((N_BOOT, d.shape[1]))
        for b in range(N_BOOT):
            boots[b] = d[rng.integers(0, len(d), len(d))].mean(axis=0)
        np.quantile(boots, [0.025, 0.975], axis=0)
        out.append(d.mean(axis=0))
    return np.concatenate(out)


R_CODE = """
prov <- read.csv("{p}", stringsAsFactors = FALSE); cust <- read.csv("{c}", stringsAsFactors = FALSE)
rev_items <- c("CPROC_P5", "COCR_P5", "CPROC_C5", "COCR_C5")
for (v in intersect(rev_items, names(prov))) prov[[v]] <- 8 - prov[[v]]
for (v in intersect(rev_items, names(cust))) cust[[v]] <- 8 - cust[[v]]
cons <- c("CPROC", "CQUAL", "MGMT", "OPER", "DIGI", "COCR")
run <- function() {{
  est <- c()
  for (f in sort(unique(prov$firm))) {{
    D <- NULL
    for (cc in cons) {{
      pi <- grep(paste0("^", cc, "_P"), names(prov), value = TRUE); ci <- grep(paste0("^", cc, "_C"), names(cust), value = TRUE)
      k <- intersect(sub(".*_P", "", pi), sub(".*_C", "", ci))
      ps <- rowMeans(prov[prov$firm == f, paste0(cc, "_P", k)], na.rm = TRUE)
      cs <- rowMeans(cust[cust$firm == f, paste0(cc, "_C", k)], na.rm = TRUE)
      pa <- tapply(ps, prov$account[prov$firm == f], mean, na.rm = TRUE)
      ca <- tapply(cs, cust$account[cust$firm == f], mean, na.rm = TRUE)
      acc <- intersect(names(pa), names(ca)); D <- cbind(D, pa[acc] - ca[acc])
    }}
    boots <- t(replicate({n_boot}, colMeans(D[sample.int(nrow(D), replace = TRUE), , drop = FALSE], na.rm = TRUE)))
    apply(boots, 2, quantile, c(.025, .975))
    est <- c(est, colMeans(D, na.rm = TRUE))
  }}
  est
}}
t <- timed(run(), 3)
cat(jsonlite::toJSON(list(sec = t$sec, value = unname(t$value)), auto_unbox = TRUE, digits = NA))
"""


def main() -> None:
    inst = load_instrument("cwi")
    prov, cust = case_study(seed=0).validated()
    bench = Bench("gaps", title="Perception gaps (cluster bootstrap)", description=__doc__.split("\n\n")[1])
    sec, val = time_median(lambda: custval_gaps(prov, cust, inst), repeat=5)
    bench.add(TASK, "custval", sec, values=val, reference=True, note="vectorised resampling counts")
    sec, val = time_median(lambda: numpy_loop(prov, cust, inst), repeat=3)
    bench.add(TASK, "numpy loop", sec, values=val, note="one resample at a time")
    if have_r("jsonlite"):
        with tempfile.TemporaryDirectory() as tmp:
            p, c = Path(tmp) / "p.csv", Path(tmp) / "c.csv"
            prov.to_csv(p, index=False)
            cust.to_csv(c, index=False)
            res = run_r(R_CODE.format(p=p, c=c, n_boot=N_BOOT))
        bench.add(TASK, "R (base, sample loop)", res["sec"], values=res["value"])
    else:
        bench.skip(TASK, "R (base, sample loop)", "Rscript not installed")
    print(bench.table())
    bench.write()


if __name__ == "__main__":
    main()
