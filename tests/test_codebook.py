"""Instrument codebooks: shipped instruments, the API, and every validation rule."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import custval
from custval import CodebookError, Instrument, list_instruments, load_instrument
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import DatasetNotFoundError, SpecificationError

SHIPPED = ("bfi", "ecsi", "corp_rep", "cwi")

# A valid codebook; the faulty variants below change one line.  Line numbers
# in the expectations are 1-based lines of this text.
BASE = """\
format: custval-codebook/1
name: demo
version: "1.0"
title: {en: "Demo", fi: "Demo"}
citation: "Nobody (2026). Demo."
languages: [en, fi]
scale:
  min: 1
  max: 7
  labels:
    en: {1: "Strongly disagree", 7: "Strongly agree"}
    fi: {1: "Täysin eri mieltä", 7: "Täysin samaa mieltä"}
missing:
  codes: [-99]
  dont_know: {codes: [8], labels: {en: ["Don't know"], fi: ["En osaa sanoa"]}}
forms:
  provider: {label: {en: "Provider", fi: "Tarjoaja"}, respondents: "staff"}
  customer: {label: {en: "Customer", fi: "Asiakas"}, respondents: "customers"}
constructs:
  - id: UND
    label: {en: "Understanding", fi: "Ymmärrys"}
    items:
      - id: UND_P1
        text: {en: "We understand them.", fi: "Ymmärrämme heitä."}
        perspective: provider
        pair: UND_C1
      - id: UND_C1
        text: {en: "They understand us.", fi: "He ymmärtävät meitä."}
        perspective: customer
        pair: UND_P1
      - id: UND_P2
        text: {en: "We know little.", fi: "Tiedämme vähän."}
        perspective: provider
        reverse: true
  - id: OWN
    label: {en: "Own", fi: "Oma"}
    perspective: provider
    items:
      - id: OWN_P1
        text: {en: "We know ourselves.", fi: "Tunnemme itsemme."}
      - id: OWN_P2
        text: {en: "We know our bottlenecks.", fi: "Tunnemme pullonkaulamme."}
"""


def _line_of(text: str, fragment: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return i
    raise LookupError(fragment)


def _write(tmp_path, text: str):
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# --------------------------------------------------------------------------- valid codebooks
def test_base_codebook_loads(tmp_path):
    inst = load_instrument(_write(tmp_path, BASE))
    assert inst.name == "demo" and inst.version == "1.0"
    assert inst.items == ("UND_P1", "UND_C1", "UND_P2", "OWN_P1", "OWN_P2")
    assert inst.constructs == {"UND": ("UND_P1", "UND_C1", "UND_P2"), "OWN": ("OWN_P1", "OWN_P2")}
    assert inst.reverse_items == frozenset({"UND_P2"})
    assert inst.scale_min == 1 and inst.scale_max == 7
    assert isinstance(inst.scale_min, int)
    assert inst.scale_labels("fi") == {1: "Täysin eri mieltä", 7: "Täysin samaa mieltä"}
    assert inst.missing_codes == (-99,)
    assert inst.dont_know_codes == (8,)
    assert inst.dont_know_labels["fi"] == ("En osaa sanoa",)
    assert inst.languages == ("en", "fi")
    assert inst.title("fi") == "Demo"
    # construct perspective is the default of its items
    assert inst.item("OWN_P1").perspective == "provider"
    assert inst.item("UND_C1") == custval.Item(
        id="UND_C1", construct="UND", text={"en": "They understand us.", "fi": "He ymmärtävät meitä."},
        reverse=False, perspective="customer", pair="UND_P1", scale=inst.scale,
    )
    # an item without its own scale carries the instrument's (labels included)
    assert inst.item("UND_C1").scale.labels == inst.labels
    c = inst.construct("UND")
    assert c.label["fi"] == "Ymmärrys" and c.items == ("UND_P1", "UND_C1", "UND_P2")
    assert inst.source == str(tmp_path / "demo.yaml")


def test_forms_and_pairs(tmp_path):
    inst = load_instrument(_write(tmp_path, BASE))
    prov = inst.form("provider")
    assert prov.items == ("UND_P1", "UND_P2", "OWN_P1", "OWN_P2")
    assert prov.perspective == "provider"
    cust = inst.form("customer")
    assert cust.constructs == {"UND": ("UND_C1",)}
    assert list(cust.forms) == ["customer"]
    pairs = inst.pairs()
    assert pairs.to_dict("records") == [
        {"construct": "UND", "provider_item": "UND_P1", "customer_item": "UND_C1"}
    ]
    assert prov.pairs().empty and list(prov.pairs().columns) == ["construct", "provider_item",
                                                                 "customer_item"]
    with pytest.raises(SpecificationError, match="no 'manager' form"):
        inst.form("manager")
    with pytest.raises(SpecificationError, match="has no forms"):
        load_instrument("bfi").form("provider")


def test_immutable_and_hashable(tmp_path):
    inst = load_instrument(_write(tmp_path, BASE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.name = "x"
    with pytest.raises(TypeError):
        inst.item("UND_P1").text["en"] = "changed"
    # a returned constructs dict is a copy
    d = inst.constructs
    d["UND"] = ()
    assert inst.constructs["UND"] == ("UND_P1", "UND_C1", "UND_P2")
    assert hash(inst) == hash(load_instrument(_write(tmp_path, BASE)))


def test_plain_string_text_means_english(tmp_path):
    text = BASE.replace('languages: [en, fi]', 'languages: [en]')
    # drop every fi text so that the one-language codebook is valid
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("fi:")]
    text = "\n".join(lines) + "\n"
    text = (text.replace('{en: "Demo", fi: "Demo"}', '"Demo"')
            .replace(', fi: "Ymmärrämme heitä."', "").replace(', fi: "He ymmärtävät meitä."', "")
            .replace(', fi: "Tiedämme vähän."', "").replace(', fi: "Ymmärrys"', "")
            .replace(', fi: "Oma"', "").replace(', fi: "Tunnemme itsemme."', "")
            .replace(', fi: "Tunnemme pullonkaulamme."', "")
            .replace(', fi: ["En osaa sanoa"]', "").replace(', fi: "Tarjoaja"', "")
            .replace(', fi: "Asiakas"', ""))
    inst = load_instrument(_write(tmp_path, text))
    assert inst.title() == "Demo" and inst.languages == ("en",)
    with pytest.raises(SpecificationError, match="language 'fi' is not in"):
        inst.title("fi")


# --------------------------------------------------------------------------- faulty codebooks
FAULTS = [
    # (name, old, new, expected key, line fragment in the faulty text, message fragment)
    ("duplicate item id", "      - id: OWN_P2", "      - id: OWN_P1",
     "constructs[1].items[1].id", None, "duplicate item id 'OWN_P1'"),
    ("item in two constructs", "      - id: OWN_P2", "      - id: UND_P2",
     "constructs[1].items[1].id", None, "listed in two constructs"),
    ("pair does not exist", "        pair: UND_C1", "        pair: UND_C9",
     "constructs[0].items[0].pair", "pair: UND_C9", "'UND_C9' of item 'UND_P1' is not an item"),
    ("pair not mutual", "        pair: UND_P1", "        pair: UND_P2",
     "constructs[0].items[0].pair", "pair: UND_C1", "not mutual"),
    ("pair with the same perspective", "        perspective: customer", "        perspective: provider",
     "constructs[0].items[0].pair", "pair: UND_C1", "different perspectives"),
    ("min >= max", "  max: 7", "  max: 1", "scale.max", "  max: 1", "greater than min"),
    ("min == max", "  min: 1", "  min: 7", "scale.max", "  max: 7", "greater than min"),
    ("unknown top-level key", "citation:", "citaton:", "citaton", "citaton:", "unknown key"),
    ("unknown nested key", "        reverse: true", "        reversed: true",
     "constructs[0].items[2].reversed", "reversed: true", "unknown key"),
    ("unknown key in scale", "  max: 7", "  max: 7\n  step: 1", "scale.step", "  step: 1", "unknown key"),
    ("label code out of range", '    en: {1: "Strongly disagree", 7: "Strongly agree"}',
     '    en: {1: "Strongly disagree", 9: "Strongly agree"}', "scale.labels.en.9",
     '9: "Strongly agree"', "label code 9 is outside the scale 1..7"),
    ("missing en text", '        text: {en: "We know ourselves.", fi: "Tunnemme itsemme."}',
     '        text: {fi: "Tunnemme itsemme."}', "constructs[1].items[0].text",
     'text: {fi: "Tunnemme itsemme."}', "has no 'en' text"),
    ("missing fi text", '        text: {en: "We know ourselves.", fi: "Tunnemme itsemme."}',
     '        text: {en: "We know ourselves."}', "constructs[1].items[0].text",
     'text: {en: "We know ourselves."}', "no 'fi' text"),
    ("language not declared", '        text: {en: "We know ourselves.", fi: "Tunnemme itsemme."}',
     '        text: {en: "We know ourselves.", fi: "Tunnemme itsemme.", sv: "Vi"}',
     "constructs[1].items[0].text.sv", 'sv: "Vi"', "'sv' is not in languages"),
    ("missing required key", '      - id: OWN_P1\n', '      - idx: OWN_P1\n',
     "constructs[1].items[0].idx", "idx: OWN_P1", "unknown key"),
    ("missing required item id", "      - id: OWN_P2\n        text:", "      - text:",
     "constructs[1].items[1].id", "      - text: {en: \"We know our bottl", "required key is missing"),
    ("wrong format", "format: custval-codebook/1", "format: custval-codebook/2", "format",
     "format:", "format must be 'custval-codebook/1'"),
    # an unquoted version such as 1.0 is accepted as written (test_unquoted_version_kept_as_written);
    # a version that is not text or a number is still an error
    ("version not a string", 'version: "1.0"', "version: true", "version", "version: true",
     "version must be text"),
    ("quoted number", "  min: 1", '  min: "1"', "scale.min", '  min: "1"', "finite number"),
    ("bad identifier", "  - id: OWN\n", "  - id: 2OWN\n", "constructs[1].id", "  - id: 2OWN",
     "not a valid identifier"),
    ("reverse not a bool", "        reverse: true", "        reverse: yes please",
     "constructs[0].items[2].reverse", "reverse: yes please", "boolean"),
    ("undeclared perspective", "    perspective: provider\n    items:",
     "    perspective: manager\n    items:", "constructs[1].perspective", "perspective: manager",
     "provider"),
    ("missing code inside the scale", "  codes: [-99]", "  codes: [-99, 4]", "missing.codes[1]",
     "  codes: [-99, 4]", "inside the scale"),
    ("no en in languages", "languages: [en, fi]", "languages: [fi]", "languages",
     "languages: [fi]", "must include 'en'"),
    ("item id equals construct id", "      - id: OWN_P2", "      - id: OWN",
     "constructs[1].items[1].id", "      - id: OWN\n        text: {en: \"We know our bottl",
     "also a construct id"),
    ("empty item list", "    items:\n      - id: OWN_P1\n        text: {en: \"We know ourselves.\", fi: \"Tunnemme itsemme.\"}\n      - id: OWN_P2\n        text: {en: \"We know our bottlenecks.\", fi: \"Tunnemme pullonkaulamme.\"}\n",
     "    items: []\n", "constructs[1].items", "    items: []", "at least 1 item"),
]


@pytest.mark.parametrize(("old", "new", "key", "fragment", "message"),
                         [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_faulty_codebook_names_file_key_and_line(tmp_path, old, new, key, fragment, message):
    text = _replace(old, new)
    path = _write(tmp_path, text)
    with pytest.raises(CodebookError) as info:
        load_instrument(path)
    err = info.value
    keys = [p["key"] for p in err.problems]
    assert key in keys, (keys, str(err))
    problem = err.problems[keys.index(key)]
    if fragment is None:
        fragment = new.strip().splitlines()[0]
        # the *second* occurrence is the offending one
        lines = [i for i, ln in enumerate(text.splitlines(), 1) if fragment in ln]
        expected_line = lines[-1]
    elif "\n" in fragment:
        first, second = fragment.split("\n")
        all_lines = text.splitlines()
        expected_line = next(i for i in range(1, len(all_lines))
                             if first in all_lines[i - 1] and second in all_lines[i])
    else:
        expected_line = _line_of(text, fragment)
    assert problem["line"] == expected_line, (problem, str(err))
    assert message in problem["message"], problem
    assert err.path == path
    assert str(path) in str(err) and key in str(err) and f"line {expected_line}" in str(err)


def test_first_problem_sets_key_and_line(tmp_path):
    text = _replace("  max: 7", "  max: 1")
    err = pytest.raises(CodebookError, load_instrument, _write(tmp_path, text)).value
    assert (err.key, err.line) == ("scale.max", _line_of(text, "  max: 1"))


def test_several_problems_reported_at_once(tmp_path):
    text = _replace("        pair: UND_C1", "        pair: UND_C9").replace(
        '{1: "Strongly disagree", 7: "Strongly agree"}\n    fi', '{0: "Strongly disagree", 7: "Strongly agree"}\n    fi')
    err = pytest.raises(CodebookError, load_instrument, _write(tmp_path, text)).value
    assert "3 problems" in str(err)
    # the dangling pair also makes UND_C1's pairing one-sided
    assert [p["key"] for p in err.problems] == [
        "scale.labels.en.0", "constructs[0].items[0].pair", "constructs[0].items[1].pair"]
    # sorted by line: scale comes first
    assert err.key == "scale.labels.en.0" and err.line == 11


def test_invalid_yaml_gives_line(tmp_path):
    text = _replace("  min: 1", "  min: [1")
    err = pytest.raises(CodebookError, load_instrument, _write(tmp_path, text)).value
    assert err.line is not None and err.line >= _line_of(text, "  min: [1")
    assert "invalid YAML" in str(err)


def test_duplicate_yaml_key_is_an_error(tmp_path):
    text = _replace('citation: "Nobody (2026). Demo."', 'citation: "a"\ncitation: "b"')
    err = pytest.raises(CodebookError, load_instrument, _write(tmp_path, text)).value
    assert "invalid YAML" in str(err) and err.line == _line_of(text, 'citation: "b"')


def test_top_level_not_a_mapping(tmp_path):
    err = pytest.raises(CodebookError, load_instrument, _write(tmp_path, "- a\n- b\n")).value
    assert "mapping" in str(err)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(CodebookError, match="cannot read"):
        load_instrument(tmp_path / "absent.yaml")
    with pytest.raises(DatasetNotFoundError) as info:
        load_instrument("no_such_instrument")
    for name in SHIPPED:
        assert name in str(info.value)


# --------------------------------------------------------------------------- from_dict
def test_from_dict_basic():
    inst = Instrument.from_dict({"VAL": ["VAL1", "VAL2", "VAL3"]}, scale=(1, 7), reverse=["VAL3"])
    assert inst.name == "custom"
    assert inst.items == ("VAL1", "VAL2", "VAL3")
    assert inst.reverse_items == frozenset({"VAL3"})
    assert inst.item("VAL1").text == {"en": "VAL1"}
    assert inst.scale_labels() == {}
    assert inst.source is None


def test_from_dict_options():
    inst = Instrument.from_dict(
        {"A": ["a1", "a2"]}, scale=(0, 4), name="mine", texts={"a1": "First"},
        labels={0: "never", 4: "always"}, missing_codes=[-9], dont_know_codes=[9],
    )
    assert inst.name == "mine" and inst.item("a1").text["en"] == "First"
    assert inst.scale_labels() == {0: "never", 4: "always"}
    assert inst.missing_codes == (-9,) and inst.dont_know_codes == (9,)


@pytest.mark.parametrize(
    ("kwargs", "key", "message"),
    [
        ({"mapping": {"A": ["a1", "a1"]}}, "mapping['A'][1]", "duplicate item id"),
        ({"mapping": {"A": ["a1"], "B": ["a1"]}}, "mapping['B'][0]", "two constructs"),
        ({"reverse": ["zz"]}, "reverse", "'zz' are not items"),
        ({"scale": (5, 1)}, "scale[1]", "greater than min"),
        ({"scale": (1, "7")}, "scale[1]", "finite number"),
        ({"mapping": {"A": ["a 1"]}}, "mapping['A'][0]", "not a valid identifier"),
        ({"labels": {9: "x"}}, "labels", "outside the scale"),
        ({"mapping": {"A": "a1"}}, "mapping['A']", "list of item ids"),
        ({"missing_codes": [3]}, "missing_codes", "inside the scale"),
        ({"texts": {"zz": "x"}}, "texts", "unknown item"),
        ({"mapping": {}}, "mapping", "non-empty"),
    ],
)
def test_from_dict_errors_name_the_key(kwargs, key, message):
    args = {"mapping": {"A": ["a1", "a2"]}, "scale": (1, 5)}
    args.update(kwargs)
    mapping = args.pop("mapping")
    with pytest.raises(CodebookError) as info:
        Instrument.from_dict(mapping, **args)
    err = info.value
    assert err.line is None and err.path is None
    assert err.key == key, str(err)
    assert message in str(err)


# --------------------------------------------------------------------------- API details
def test_model_syntax_subset_and_errors():
    inst = load_instrument("corp_rep")
    assert inst.model_syntax(constructs=["COMP"]) == "COMP =~ comp_1 + comp_2 + comp_3"
    assert inst.model_syntax(constructs="CUSA") == "CUSA =~ cusa"
    with pytest.raises(SpecificationError, match="'XX'"):
        inst.model_syntax(constructs=["XX"])
    with pytest.raises(SpecificationError):
        inst.construct("XX")
    with pytest.raises(SpecificationError):
        inst.item("XX")


def test_display():
    bfi = load_instrument("bfi")
    frame = bfi.to_frame()
    assert list(frame.columns) == ["construct", "item", "reverse", "perspective", "pair", "scale_min",
                                   "scale_max", "text_en"]
    assert set(frame["scale_min"]) == {bfi.scale_min} and set(frame["scale_max"]) == {bfi.scale_max}
    assert len(frame) == 25 and frame["reverse"].sum() == 7
    assert frame.set_index("item").loc["A1", "text_en"] == "Am indifferent to the feelings of others."
    assert "Revelle" in bfi.summary() and "A1(R)" in bfi.summary()
    html = bfi._repr_html_()
    assert "<table" in html and "Very Inaccurate" not in html  # labels are in summary, not table
    assert "Very Inaccurate" in bfi.summary()
    assert repr(bfi).startswith("<Instrument bfi")


def test_list_instruments_and_cache():
    names = list_instruments()
    assert set(SHIPPED) <= set(names)
    assert load_instrument("bfi") is load_instrument("bfi")


# --------------------------------------------------------------------------- shipped instruments
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instrument_loads(name):
    inst = load_instrument(name)
    assert inst.name == name
    assert inst.citation and inst.description
    assert "en" in inst.languages
    for item in inst.item_defs:
        for lang in inst.languages:
            assert item.text[lang].strip()


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "cwi"])
def test_shipped_items_exist_in_dataset_header(name):
    inst = load_instrument(name)
    assert inst.dataset is not None
    header = pd.read_csv(RAW_DATA_DIR / inst.dataset / f"{inst.dataset}.csv", nrows=0).columns
    missing = [i for i in inst.items if i not in header]
    assert missing == []


def test_bfi_content():
    bfi = load_instrument("bfi")
    assert bfi.constructs == {k: tuple(f"{k}{i}" for i in range(1, 6)) for k in "ACENO"}
    assert bfi.reverse_items == frozenset({"A1", "C4", "C5", "E1", "E2", "O2", "O5"})
    assert (bfi.scale_min, bfi.scale_max) == (1, 6)
    assert bfi.scale_labels()[1] == "Very Inaccurate" and bfi.scale_labels()[6] == "Very Accurate"
    assert bfi.item("O3").text["en"] == "Carry the conversation to a higher level."


def test_ecsi_content():
    ecsi = load_instrument("ecsi")
    assert len(ecsi.items) == 24 and ecsi.dataset == "mobi"
    assert ecsi.constructs["COMPL"] == ("CUSCO",)
    assert ecsi.constructs["PERQ"] == tuple(f"PERQ{i}" for i in range(1, 8))
    assert (ecsi.scale_min, ecsi.scale_max) == (1, 10)
    assert ecsi.reverse_items == frozenset()


def test_corp_rep_content():
    cr = load_instrument("corp_rep")
    assert cr.missing_codes == (-99,)
    assert (cr.scale_min, cr.scale_max) == (1, 7)
    assert cr.constructs["COMP"] == ("comp_1", "comp_2", "comp_3")
    assert cr.constructs["CUSA"] == ("cusa",)
    assert cr.constructs["CUSL"] == ("cusl_1", "cusl_2", "cusl_3")
    assert cr.constructs["LIKE"] == ("like_1", "like_2", "like_3")
