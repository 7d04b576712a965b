"""Smoke test of an installed custval wheel, run by ``make wheel-test``.

``make wheel-test`` builds the wheel, installs it (with the locked dependencies only) into a
fresh virtual environment in a temporary folder and runs this file from an empty folder with
``python -I - < tests/wheel_smoke.py``, so the checkout is not importable and nothing is read
from it.  Not a pytest module: it runs only as a script.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path


def main() -> None:
    import numpy as np

    import custval

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    package = Path(custval.__file__).resolve().parent
    if package.parent != site:
        sys.exit(f"custval was imported from {package}, not from the environment's {site}")

    names = list(custval.list_datasets().index)
    for name in names:  # every shipped dataset is in the wheel and matches its README's SHA-256
        ds = custval.load_dataset(name, with_instrument=False)
        if site not in ds.path.resolve().parents:
            sys.exit(f"dataset {name} was read from {ds.path}, outside the installed package")
        for doc in ("README.md", "PROVENANCE.md"):
            if not (ds.path.parent / doc).is_file():
                sys.exit(f"dataset {name}: {doc} (origin and licence) is not in the wheel")

    bfi = custval.load_dataset("bfi")
    cwi = custval.load_instrument("cwi")
    if not cwi.items:
        sys.exit("load_instrument('cwi') returned an instrument without items")

    scale_reliability = getattr(custval, "scale_reliability", None) or custval.reliability
    table = scale_reliability(bfi.data, bfi.instrument, n_boot=50, seed=1)
    if list(table.index) != list(bfi.instrument.constructs):
        sys.exit(f"reliability rows {list(table.index)} are not the bfi constructs")
    # alpha of every construct recomputed here from the keyed, complete answers
    keyed = bfi.instrument.keyed(bfi.data)
    for construct, items in bfi.instrument.constructs.items():
        x = keyed[list(items)].dropna().to_numpy(dtype=float)
        k = x.shape[1]
        alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
        if not np.isclose(table.at[construct, "alpha"], alpha, rtol=0, atol=1e-10):
            sys.exit(f"alpha of {construct}: {table.at[construct, 'alpha']} != {alpha}")
        if not table.at[construct, "alpha_ci_low"] < alpha < table.at[construct, "alpha_ci_high"]:
            sys.exit(f"alpha of {construct} lies outside its bootstrap interval")

    print(f"custval {getattr(custval, '__version__', '?')} from {package}: {len(names)} datasets, "
          f"cwi with {len(cwi.items)} items, alpha of {len(table)} bfi scales: "
          + ", ".join(f"{c} {a:.3f}" for c, a in table["alpha"].items()))


if __name__ == "__main__":
    main()
