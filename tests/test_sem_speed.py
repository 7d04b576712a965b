"""The fast paths of the ML machinery give the numbers of the plain computations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custval._sem.syntax import build_partable

MODEL = "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ textual\nd := 2*a"


def test_partable_copies_are_independent():
    """The table of a model text is built once; every caller gets its own copy to modify."""
    pt, observed, latent, extras = build_partable(MODEL, ngroups=2, with_extras=True)
    reference = pt.copy()
    pt.loc[:, "ustart"] = -99.0
    pt.loc[0, "lhs"] = "changed"
    observed.append("zz")
    extras["label_rows"]["new"] = 0
    extras["constraints"][0].resize((0, 0), refcheck=False)
    again, observed2, _, extras2 = build_partable(MODEL, ngroups=2, with_extras=True)
    pd.testing.assert_frame_equal(again, reference)
    assert "zz" not in observed2 and "new" not in extras2["label_rows"]
    assert extras2["constraints"][0].shape == (0, int(again["free"].max()))
    assert again is not pt
    # lists as options are the same options as tuples
    a = build_partable(MODEL, ngroups=2, group_equal=["loadings"])[0]
    b = build_partable(MODEL, ngroups=2, group_equal=("loadings",))[0]
    pd.testing.assert_frame_equal(a, b)
    assert int(a["free"].max()) < int(again["free"].max())
