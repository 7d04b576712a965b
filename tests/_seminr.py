"""seminr's reference numbers (``tests/golden/pls/seminr*.json``) as labelled frames.

The files are written by ``tests/r/pls.R``, which evaluates seminr 2.3.1's own R code
(commit ae2524aa) on the shipped data.  They are test fixtures, so the reader lives here and
not in the library; ``benchmarks/bench_pls.py`` imports it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SEMINR_JSON = Path(__file__).resolve().parent / "golden" / "pls" / "seminr.json"
SEMINR_BOOTSTRAP_JSON = SEMINR_JSON.with_name("seminr_bootstrap.json")


def _frame(obj) -> pd.DataFrame:
    rows = obj["rows"]
    cols = obj["cols"] if isinstance(obj["cols"], list) else [obj["cols"]]
    values = np.array(obj["values"], dtype=float).reshape(len(rows), len(cols))
    return pd.DataFrame(values, index=rows, columns=cols)


def _cases(bootstrap: bool) -> tuple[Path, dict]:
    path = SEMINR_BOOTSTRAP_JSON if bootstrap else SEMINR_JSON
    content = json.loads(path.read_text(encoding="utf-8"))
    return path, (content if bootstrap else content["cases"])


def seminr_cases(*, bootstrap: bool = False) -> list[str]:
    """The case names of ``seminr.json`` (``seminr_bootstrap.json`` with ``bootstrap=True``)."""
    return list(_cases(bootstrap)[1])


def seminr_reference(case: str, *, bootstrap: bool = False) -> dict:
    """seminr's estimates for one case of ``seminr.json`` (case names: :func:`seminr_cases`).

    A dict: ``call`` (the seminr call), ``dataset``, ``syntax`` and ``options`` (the
    equivalent custval model and :class:`custval.PLS` arguments), ``n``, ``iterations``
    (seminr's 0-based loop index) and labelled DataFrames ``weights``, ``loadings``,
    ``paths``, ``rsquared`` (rows Rsq, AdjRsq), ``rho_a``, ``reliability`` (alpha, rhoC, AVE,
    rhoA), ``htmt``, ``construct_cors`` (and ``scores`` for some cases).  With
    ``bootstrap=True`` (``seminr_bootstrap.json``; cases ``"ecsi_pls"`` and ``"ecsi_plsc"``,
    100 resamples): ``call``, ``nboot``, ``seed``, ``indices`` (0-based row positions of
    every resample, for :meth:`custval.PLS.bootstrap`) and DataFrames ``paths``,
    ``loadings``, ``weights`` with seminr's columns and row labels ``"from  ->  to"``.
    """
    path, cases = _cases(bootstrap)
    if case not in cases:
        raise KeyError(f"no seminr reference case {case!r} in {path.name}; available: {list(cases)}")
    out = dict(cases[case])
    for key, value in out.items():
        if isinstance(value, dict) and "rows" in value and "values" in value:
            out[key] = _frame(value)
    if "indices" in out:
        out["indices"] = np.asarray(out["indices"], dtype=np.int64) - 1  # R's indices are 1-based
    return out
