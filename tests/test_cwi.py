"""The Customer Wisdom Instrument (custval/instruments/cwi.yaml): content rules of the
provider/customer design, checked on the YAML itself and through custval.load_instrument."""

from __future__ import annotations

import importlib.util
from collections import Counter

import pytest
from ruamel.yaml import YAML

from custval._io.paths import INSTRUMENTS_DIR

CWI = INSTRUMENTS_DIR / "cwi.yaml"
FORMS = ("provider", "customer")
BOTH_SIDES = {"CPROC", "CQUAL", "MGMT", "OPER", "DIGI", "COCR"}
PROVIDER_ONLY = {"OPROC", "OQUAL"}
FI_SCALE = {
    1: "Täysin eri mieltä", 2: "Eri mieltä", 3: "Jokseenkin eri mieltä",
    4: "Ei samaa eikä eri mieltä", 5: "Jokseenkin samaa mieltä", 6: "Samaa mieltä",
    7: "Täysin samaa mieltä",
}

needs_loader = pytest.mark.skipif(
    importlib.util.find_spec("custval.codebook") is None,
    reason="custval.codebook (Instrument loader) not built yet",
)


@pytest.fixture(scope="module")
def doc():
    with CWI.open(encoding="utf-8") as fh:
        return YAML(typ="safe").load(fh)


@pytest.fixture(scope="module")
def items(doc):
    """item id -> dict(construct, perspective, pair, reverse, text) from the raw YAML."""
    out = {}
    for construct in doc["constructs"]:
        for item in construct["items"]:
            assert item["id"] not in out, f"duplicate item id {item['id']}"
            out[item["id"]] = {
                "construct": construct["id"],
                "perspective": item.get("perspective", construct.get("perspective")),
                "pair": item.get("pair"),
                "reverse": item.get("reverse", False),
                "text": item["text"],
            }
    return out


# --------------------------------------------------------------------------- raw YAML
def test_header_scale_and_missing_codes(doc):
    assert doc["format"] == "custval-codebook/1" and doc["name"] == "cwi"
    assert doc["languages"] == ["en", "fi"]
    assert set(doc["forms"]) == set(FORMS)
    assert (doc["scale"]["min"], doc["scale"]["max"]) == (1, 7)
    assert doc["scale"]["labels"]["fi"] == FI_SCALE
    assert doc["scale"]["labels"]["en"][1] == "Strongly disagree"
    assert doc["scale"]["labels"]["en"][7] == "Strongly agree"
    assert sorted(doc["scale"]["labels"]["en"]) == list(range(1, 8))
    dont_know = doc["missing"]["dont_know"]
    assert dont_know["codes"] == [8]
    assert dont_know["labels"] == {"en": ["Don't know"], "fi": ["En osaa sanoa", "EOS"]}
    # the rationale and the literature are in the description
    for needle in ("Grönroos, C. (2006)", "Grönroos, C. (2017)", "Heinonen, K., & Strandvik"):
        assert needle in doc["description"]


def test_constructs(doc):
    ids = [c["id"] for c in doc["constructs"]]
    assert set(ids) == BOTH_SIDES | PROVIDER_ONLY and len(ids) == 8
    for construct in doc["constructs"]:
        assert set(construct["label"]) == {"en", "fi"}
        assert set(construct["definition"]) == {"en", "fi"}


def test_every_item_has_en_and_fi_text(items):
    for iid, item in items.items():
        assert item["text"].get("en", "").strip(), iid
        assert item["text"].get("fi", "").strip(), iid
        assert item["text"]["en"] != item["text"]["fi"], iid


def test_item_ids_name_their_construct_and_form(items):
    for iid, item in items.items():
        prefix, suffix = iid.split("_")
        assert prefix == item["construct"]
        assert item["perspective"] in FORMS
        assert suffix[0] == {"provider": "P", "customer": "C"}[item["perspective"]]


def test_at_least_four_items_per_construct_per_form(items):
    counts = Counter((i["construct"], i["perspective"]) for i in items.values())
    for construct in BOTH_SIDES:
        for form in FORMS:
            assert counts[(construct, form)] >= 4, (construct, form)
    for construct in PROVIDER_ONLY:
        assert counts[(construct, "provider")] >= 4
        assert counts[(construct, "customer")] == 0


def test_pairs_are_mutual_across_perspectives(items):
    paired = {iid: i for iid, i in items.items() if i["pair"]}
    assert len(paired) == 2 * 29
    for iid, item in paired.items():
        twin = items[item["pair"]]
        assert twin["pair"] == iid
        assert twin["perspective"] != item["perspective"]
        assert twin["construct"] == item["construct"]
        assert twin["reverse"] == item["reverse"]
    # every customer item has a provider twin; unpaired provider items are the documented ones
    assert all(i["pair"] for i in items.values() if i["perspective"] == "customer")
    unpaired = sorted(iid for iid, i in items.items() if not i["pair"])
    assert unpaired == sorted([f"OPROC_P{k}" for k in range(1, 6)]
                              + [f"OQUAL_P{k}" for k in range(1, 6)] + ["MGMT_P5"])


def test_one_or_two_reverse_items_per_form(items):
    for form in FORMS:
        n = sum(1 for i in items.values() if i["perspective"] == form and i["reverse"])
        assert 1 <= n <= 2, form


# --------------------------------------------------------------------------- loader
@needs_loader
def test_loads_and_splits_into_forms():
    import custval

    inst = custval.load_instrument("cwi")
    assert inst.name == "cwi"
    assert len(inst.items) == 69
    provider, customer = inst.form("provider"), inst.form("customer")
    assert len(provider.items) == 40 and len(customer.items) == 29
    assert set(provider.items) | set(customer.items) == set(inst.items)
    assert all(inst.item(i).perspective == "provider" for i in provider.items)
    assert all(inst.item(i).perspective == "customer" for i in customer.items)
    assert set(provider.constructs) == BOTH_SIDES | PROVIDER_ONLY
    assert set(customer.constructs) == BOTH_SIDES
    for form in (provider, customer):
        for construct, construct_items in form.constructs.items():
            assert len(construct_items) >= 4, construct
    assert inst.reverse_items == frozenset({"CPROC_P5", "CPROC_C5", "COCR_P5", "COCR_C5"})


@needs_loader
def test_loaded_pairs_are_mutual():
    import custval

    inst = custval.load_instrument("cwi")
    pairs = inst.pairs()
    assert len(pairs) == 29
    for row in pairs.itertuples(index=False):
        p, c = inst.item(row.provider_item), inst.item(row.customer_item)
        assert (p.perspective, c.perspective) == ("provider", "customer")
        assert p.pair == c.id and c.pair == p.id
        assert p.construct == c.construct == row.construct


@needs_loader
def test_loaded_texts_and_labels():
    import custval

    inst = custval.load_instrument("cwi")
    for iid in inst.items:
        text = inst.item(iid).text
        assert text["en"].strip() and text["fi"].strip(), iid
    assert inst.scale_labels("fi") == FI_SCALE
    assert inst.scale_labels("en")[4] == "Neither agree nor disagree"
    assert tuple(inst.dont_know_codes) == (8,)
    assert tuple(inst.dont_know_labels["fi"]) == ("En osaa sanoa", "EOS")
    assert tuple(inst.dont_know_labels["en"]) == ("Don't know",)
    assert (inst.scale_min, inst.scale_max) == (1, 7)
