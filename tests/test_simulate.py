"""Tests of custval.simulate.case_study (simulated data, labelled so)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval import load_instrument
from custval.exceptions import SpecificationError
from custval.simulate import DEFAULT_DESIGN, case_study


def test_shapes_labels_and_codes():
    cs = case_study(seed=3)
    inst = load_instrument("cwi")
    for side, df in (("provider", cs.provider), ("customer", cs.customer)):
        assert list(df.columns[:4]) == ["respondent_id", "firm", "role", "account"]
        assert list(df.columns[4:]) == list(inst.form(side).items)
        assert df.attrs["custval"]["simulated"] is True
        assert df.attrs["custval"]["seed"] == 3
        vals = df.iloc[:, 4:].to_numpy()
        ok = np.isnan(vals) | np.isin(vals, [1, 2, 3, 4, 5, 6, 7, 8])
        assert ok.all()
        assert (vals == 8).any() and np.isnan(vals).any()
    assert "simulated" in cs.summary()
    n_firms = len(DEFAULT_DESIGN["firms"])
    assert cs.provider["firm"].nunique() == n_firms
    assert len(cs.provider) == n_firms * (DEFAULT_DESIGN["n_managers"] + DEFAULT_DESIGN["n_staff"])
    # every customer account is one of the firm's accounts that a provider respondent may serve
    assert set(cs.customer["account"]).issubset({f"{f['name']}-A{j + 1:02d}" for f in DEFAULT_DESIGN["firms"]
                                                  for j in range(DEFAULT_DESIGN["n_accounts"])})


def test_careless_are_straight_liners():
    cs = case_study(seed=4)
    both = pd.concat([cs.provider, cs.customer])
    care = both[both["respondent_id"].isin(cs.careless_ids)].iloc[:, 4:]
    assert len(care) == sum(DEFAULT_DESIGN["careless"].values())
    for _, row in care.iterrows():
        answered = row[(row.notna()) & (row != 8)]
        assert answered.nunique() == 1


def test_deterministic_and_seed_sensitive():
    a, b, c = case_study(seed=5), case_study(seed=5), case_study(seed=6)
    pd.testing.assert_frame_equal(a.provider, b.provider)
    pd.testing.assert_frame_equal(a.customer, b.customer)
    assert not a.customer.equals(c.customer)
    pd.testing.assert_frame_equal(a.gaps, c.gaps)  # the truth does not depend on the seed


def test_truth_by_design():
    cs = case_study(design={"manager_shift": 0.0, "non_invariant": None, "account_sd": 0.0}, seed=0)
    gaps = cs.gaps.set_index(["firm", "construct"])
    for f in DEFAULT_DESIGN["firms"]:
        lat = gaps.loc[f["name"], "latent_gap"]
        np.testing.assert_allclose(lat.to_numpy(), f["readiness_gap"], atol=1e-12)
        # observed gap has the sign of the latent one and is zero when the latent gap is zero
        obs = gaps.loc[f["name"], "gap"].to_numpy()
        if f["readiness_gap"] == 0:
            np.testing.assert_allclose(obs, 0.0, atol=1e-12)
        else:
            assert (obs > 0).all()


def test_large_sample_matches_truth():
    design = {"firms": [{"name": "F1", "offset": 0.0, "readiness_gap": 0.5}], "n_managers": 1500,
              "n_staff": 1500, "n_accounts": 1000, "customers_per_account": 4, "careless": {"provider": 0, "customer": 0},
              "missing": {"mcar": 0.0, "dont_know": {"provider": 0.0, "customer": 0.0}}}
    cs = case_study(design=design, seed=1)
    inst = load_instrument("cwi")
    keyed = inst.form("customer").keyed(cs.customer)
    truth = cs.population.query("group == 'customer'").set_index("construct")["estimate"]
    for c, items in inst.form("customer").constructs.items():
        assert abs(keyed[list(items)].mean(axis=1).mean() - truth[c]) < 0.05


def test_non_invariant_item_differs():
    cs = case_study(seed=0)
    assert cs.non_invariant_item == "CQUAL_C2"
    gaps = cs.gaps.set_index(["firm", "construct"])["gap"]
    # the shifted intercept makes the customer CQUAL twin look worse than the latent gap says
    assert (gaps.xs("CQUAL", level="construct") > gaps.xs("CPROC", level="construct")).all()


def test_bad_design():
    with pytest.raises(SpecificationError, match="unknown key"):
        case_study(design={"n_firms": 3})
    with pytest.raises(SpecificationError, match="non_invariant"):
        case_study(design={"non_invariant": {"item": "CQUAL_P2", "loading": 1, "intercept": 0}})


def test_yaml_design(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("n_managers: 2\nn_staff: 3\nfirms:\n  - {name: X, offset: 0, readiness_gap: 0.3}\n")
    cs = case_study(design=p, seed=0)
    assert len(cs.provider) == 5 and set(cs.provider["firm"]) == {"X"}
