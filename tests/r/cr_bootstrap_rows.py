"""Write the first bootstrap resamples of custval's composite_reliability(..., ci_method="bootstrap")
as row positions, for tests/r/cr_bootstrap.R to refit in lavaan on exactly the same rows.

Run from the repository root (then Rscript tests/r/cr_bootstrap.R):
    PYTHONPATH=$PWD python tests/r/cr_bootstrap_rows.py

Writes tests/golden/validity/cr_boot_rows_<set>.csv: one column per resample (r1, r2, ...),
one row per respondent of the resample, the value a 1-based position into the rows the fit
used (group after group; HS: the 301 rows in file order, by school for the two-group fit,
Pasteur first; bfi: every row with an answer to one of the ten items, in file order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SETS = {
    # name: (n_boot asked, seed, replicates written)
    "hs": (1000, 20261207, 20),
    "hs_school": (1000, 7, 10),
    "bfi_fiml": (1000, 11, 10),
}


def fits():
    """The fits of the comparison (also used by tests/test_cr_bootstrap.py)."""
    import custval
    from custval.cfa import CFA

    hs = custval.load_dataset("holzinger_swineford1939").data
    m = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
    bfi = custval.load_dataset("bfi").data
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    keyed = bfi[items].astype(float).copy()
    for it in ("A1", "C4", "C5"):
        keyed[it] = 7 - keyed[it]
    keyed = keyed[keyed.notna().any(axis=1)]
    ac = "agree =~ A1 + A2 + A3 + A4 + A5; consc =~ C1 + C2 + C3 + C4 + C5"
    return {
        "hs": CFA(m).fit(hs),
        "hs_school": CFA(m, group="school").fit(hs),
        "bfi_fiml": CFA(ac, missing="fiml").fit(keyed),
    }


def main() -> None:
    from custval._sem.ml_boot import replicate_rows

    out = Path("tests/golden/validity")
    for name, fit in fits().items():
        n_boot, seed, k = SETS[name]
        rows = replicate_rows(fit, n_boot, seed)[:k]
        frame = pd.DataFrame({f"r{b + 1}": np.asarray(r) + 1 for b, r in enumerate(rows)})
        frame.to_csv(out / f"cr_boot_rows_{name}.csv", index=False)


if __name__ == "__main__":
    main()
