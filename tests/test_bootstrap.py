"""The vectorised bootstrap engine reproduces a plain resampling loop exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _relhelp import BFI_SCALES, bfi

from custval._stats import bootstrap as bt
from custval._stats import relcore as core


def _loop_reference(x, blocks, n_boot, seed, pairwise):
    """Plain loop over the same resamples: R's cov/cor(use = "pairwise") of each resample."""
    rng = np.random.default_rng(seed)
    out = [[] for _ in blocks]
    for start in range(0, n_boot, bt.CHUNK):
        b = min(bt.CHUNK, n_boot - start)
        w = bt.resample_counts(rng, b, x.shape[0])
        for row in w:
            xi = np.repeat(x, row.astype(int), axis=0)
            for j, blk in enumerate(blocks):
                xb = xi[:, blk]
                df = pd.DataFrame(xb)
                c = df.cov().to_numpy()  # pandas pairwise == R pairwise
                r = df.corr().to_numpy()
                out[j].append((c, r))
    return out


@pytest.mark.parametrize("pairwise", [False, True])
def test_engine_equals_loop(pairwise):
    d = bfi()
    items = BFI_SCALES["A"] + BFI_SCALES["N"]
    x = d[items].to_numpy(float)[:300]
    if not pairwise:
        x = x[~np.isnan(x).any(axis=1)]
    blocks = [list(range(5)), list(range(5, 10))]
    got = {}

    def fn(c, r):
        got.setdefault("c", []).append(c)
        got.setdefault("r", []).append(r)
        return {"alpha": core.alpha_raw(c)}

    res = bt.bootstrap_blocks(x, blocks, fn, n_boot=7, seed=3, pairwise=pairwise)
    ref = _loop_reference(x, blocks, 7, 3, pairwise)
    for j in range(2):
        c_engine = got["c"][j]
        r_engine = got["r"][j]
        for b in range(7):
            np.testing.assert_allclose(c_engine[b], ref[j][b][0], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(r_engine[b], ref[j][b][1], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(res.values["alpha"][j], core.alpha_raw(np.stack([c for c, _ in ref[j]])),
                                   rtol=1e-10)


def test_seeded_and_chunk_independent_counts():
    a = bt.bootstrap_coefficients(np.random.default_rng(1).normal(size=(200, 4)), {"alpha": [[0, 1, 2, 3]]},
                                  n_boot=600, seed=9)
    b = bt.bootstrap_coefficients(np.random.default_rng(1).normal(size=(200, 4)), {"alpha": [[0, 1, 2, 3]]},
                                  n_boot=600, seed=9)
    np.testing.assert_array_equal(a.values["alpha"][0], b.values["alpha"][0])
    c = bt.bootstrap_coefficients(np.random.default_rng(1).normal(size=(200, 4)), {"alpha": [[0, 1, 2, 3]]},
                                  n_boot=600, seed=10)
    assert not np.array_equal(a.values["alpha"][0], c.values["alpha"][0])


def test_counts_sum_to_n():
    w = bt.resample_counts(np.random.default_rng(0), 50, 77)
    assert w.shape == (50, 77) and (w.sum(axis=1) == 77).all()


def test_jackknife_equals_leave_one_out():
    x = np.random.default_rng(2).normal(size=(40, 3)) + np.arange(3)
    design = bt._Design(x, [[0, 1, 2]], False)

    def fn(c, r):
        return {"alpha": core.alpha_raw(c)}

    jk = bt.jackknife_blocks(x, design, fn)["alpha"][0]
    loo = [core.alpha_raw(np.cov(np.delete(x, i, axis=0), rowvar=False)) for i in range(40)]
    np.testing.assert_allclose(jk, loo, rtol=1e-10)


def test_intervals():
    rng = np.random.default_rng(0)
    boot = rng.normal(0.8, 0.02, 4000)
    lo, hi = bt.interval(boot, 0.8, ci=0.9)
    np.testing.assert_allclose([lo, hi], np.quantile(boot, [0.05, 0.95]))
    jack = rng.normal(0.8, 0.001, 100)
    blo, bhi = bt.interval(boot, 0.8, ci=0.9, method="bca", jack=jack)
    assert blo < 0.8 < bhi
    assert abs(blo - lo) < 0.01 and abs(bhi - hi) < 0.01
