"""The gap functions take a model the way every other custval function does: an Instrument (or
its name), lavaan syntax with continuation lines and comments, ``{construct: [items]}`` or
``{construct: {"provider": [...], "customer": [...]}}`` (the last three with ``scale=``), and
give the same numbers for the same measurement."""

from __future__ import annotations

import pandas as pd
import pytest

import custval
from custval import Instrument
from custval.exceptions import InvarianceWarning, SpecificationError
from custval.gaps import (
    benchmark_firms,
    cocreation_segments,
    form_invariance,
    perception_gap,
    readiness,
)
from custval.simulate import case_study

CWI = custval.load_instrument("cwi")
PAIRS = CWI.pairs()
TWIN = dict(zip(PAIRS["customer_item"], PAIRS["provider_item"]))


def _plain_keyed(df: pd.DataFrame) -> pd.DataFrame:
    """The instrument's reverse items keyed (min + max - x), as plain numbers with no record of it:
    what a researcher without the codebook would hold."""
    out = CWI.keyed(df).copy()
    out.attrs = {}
    return out


@pytest.fixture(scope="module")
def study():
    prov, cust = case_study(seed=11).validated()
    return {"prov": prov, "cust": cust, "kprov": _plain_keyed(prov), "kcust": _plain_keyed(cust)}


def _forms_mapping() -> dict:
    """The paired constructs of the cwi as ``{construct: {"provider": [...], "customer": [...]}}``."""
    return {c: {"provider": list(g["provider_item"]), "customer": list(g["customer_item"])}
            for c, g in PAIRS.groupby("construct", sort=False)}


def _mirror_syntax() -> str:
    """The paired provider items as lavaan syntax, one construct spread over continuation lines."""
    lines = ["# the provider wording; the customer export uses the same column names"]
    for c, g in PAIRS.groupby("construct", sort=False):
        items = list(g["provider_item"])
        lines.append(f"{c} =~ {' + '.join(items[:2])} +")
        lines.append(f"      {' + '.join(items[2:])}   # continued")
    return "\n".join(lines)


def _assert_same(a, b):
    pd.testing.assert_frame_equal(a.table.reset_index(drop=True), b.table.reset_index(drop=True), check_exact=True)


def test_perception_gap_is_the_same_for_every_way_of_giving_the_model(study):
    with pytest.warns(InvarianceWarning):
        ref = perception_gap(study["prov"], study["cust"], CWI, n_boot=200, seed=3)
    with pytest.warns(InvarianceWarning):
        by_forms = perception_gap(study["kprov"], study["kcust"], _forms_mapping(), scale=(1, 7), n_boot=200, seed=3)
    inst = Instrument.from_dict(_forms_mapping(), scale=(1, 7))
    with pytest.warns(InvarianceWarning):
        by_inst = perception_gap(study["kprov"], study["kcust"], inst, n_boot=200, seed=3)
    mirrored = study["kcust"].rename(columns=TWIN)
    with pytest.warns(InvarianceWarning):
        by_syntax = perception_gap(study["kprov"], mirrored, _mirror_syntax(), scale=(1, 7), n_boot=200, seed=3)
    blocks = {c: list(g["provider_item"]) for c, g in PAIRS.groupby("construct", sort=False)}
    with pytest.warns(InvarianceWarning):
        by_dict = perception_gap(study["kprov"], mirrored, blocks, scale=(1, 7), n_boot=200, seed=3)
    assert len(ref.table) > 0
    for other in (by_forms, by_inst, by_syntax, by_dict):
        _assert_same(ref, other)


def test_benchmark_firms_takes_the_forms_mapping_like_an_instrument(study):
    forms = _forms_mapping()  # the pairs, and the constructs asked of providers only
    for c, items in CWI.form("provider").constructs.items():
        forms.setdefault(c, {"provider": list(items)})
    with pytest.warns(InvarianceWarning):
        ref = benchmark_firms(study["kprov"], study["kcust"], Instrument.from_dict(forms, scale=(1, 7)),
                              n_boot=100, seed=1)
    with pytest.warns(InvarianceWarning):
        got = benchmark_firms(study["kprov"], study["kcust"], forms, scale=(1, 7), n_boot=100, seed=1)
    with pytest.warns(InvarianceWarning):
        cwi = benchmark_firms(study["prov"], study["cust"], CWI, n_boot=100, seed=1)
    for other in (got, cwi):
        pd.testing.assert_frame_equal(ref.to_frame().reset_index(drop=True), other.to_frame().reset_index(drop=True),
                                      check_exact=True)


def test_readiness_and_segments_take_a_one_form_model(study):
    prov_form = CWI.form("provider")
    syntax = "\n".join(f"{c} =~ {' + '.join(its[:3])} +\n    {' + '.join(its[3:])}"
                       for c, its in prov_form.constructs.items())
    one_form = Instrument.from_dict({c: {"provider": list(i)} for c, i in prov_form.constructs.items()}, scale=(1, 7))
    ref = readiness(study["kprov"], one_form, n_boot=100)
    got = readiness(study["kprov"], syntax, scale=(1, 7), n_boot=100)
    _assert_same(ref, got)
    cust_form = CWI.form("customer")
    one_form = Instrument.from_dict({c: {"customer": list(i)} for c, i in cust_form.constructs.items()}, scale=(1, 7))
    seg_ref = cocreation_segments(study["kcust"], one_form, k=2)
    seg = cocreation_segments(study["kcust"], {c: list(i) for c, i in cust_form.constructs.items()}, scale=(1, 7), k=2)
    pd.testing.assert_frame_equal(seg_ref.to_frame(), seg.to_frame(), check_exact=True)


def test_form_invariance_takes_the_forms_mapping(study):
    forms = {"CQUAL": _forms_mapping()["CQUAL"]}
    ref = form_invariance(study["kprov"], study["kcust"], Instrument.from_dict(forms, scale=(1, 7)),
                          levels=("configural", "metric"))
    got = form_invariance(study["kprov"], study["kcust"], forms, scale=(1, 7), levels=("configural", "metric"))
    pd.testing.assert_frame_equal(ref.invariance.to_frame(), got.invariance.to_frame(), check_exact=True)


def test_syntax_without_a_scale_says_what_to_add(study):
    with pytest.raises(SpecificationError, match=r"pass scale=\(min, max\)"):
        perception_gap(study["kprov"], study["kcust"], _mirror_syntax())
    with pytest.raises(SpecificationError, match="scale= is for a model given as syntax"):
        perception_gap(study["prov"], study["cust"], CWI, scale=(1, 7))


def test_forms_of_unequal_length_cannot_be_paired(study):
    bad = {"CQUAL": {"provider": ["CQUAL_P1", "CQUAL_P2", "CQUAL_P3"], "customer": ["CQUAL_C1", "CQUAL_C2"]}}
    with pytest.raises(SpecificationError, match="3 provider and 2 customer items"):
        perception_gap(study["kprov"], study["kcust"], bad, scale=(1, 7))
    with pytest.raises(SpecificationError, match="the forms are 'provider' and 'customer'"):
        perception_gap(study["kprov"], study["kcust"], {"CQUAL": {"staff": ["CQUAL_P1"]}}, scale=(1, 7))


def test_a_mirror_item_out_of_scale_is_named_by_its_column(study):
    cust = study["kcust"].rename(columns=TWIN)
    first = PAIRS["provider_item"].iloc[0]
    cust.loc[cust.index[2], first] = 9
    with pytest.warns(InvarianceWarning), \
            pytest.raises(custval.DataValidationError, match=rf"customer data: (.|\n)*{first}: 1 value\(s\) \[9.0\]"):
        perception_gap(study["kprov"], cust, _mirror_syntax(), scale=(1, 7), n_boot=100)
