"""Messy input for PLS interaction terms, higher-order constructs and unstandardised PLS.

The mobi export is written as a survey platform writes it (UTF-8 BOM, CRLF, quoted header) and
read with ``custval.read_survey`` and the shipped ECSI codebook; bad models raise custval errors
naming the construct or item.
"""

from __future__ import annotations

import numpy as np
import pytest

import custval
from custval import PLS
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import ModelSyntaxError, SpecificationError

BLOCKS = """
Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation  =~ CUEX1 + CUEX2 + CUEX3
Value        =~ PERV1 + PERV2
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
"""


@pytest.fixture(scope="module")
def mobi_export(tmp_path_factory):
    text = (RAW_DATA_DIR / "mobi" / "mobi.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    header = ",".join(f'"{h.strip(chr(34))}"' for h in lines[0].split(","))
    path = tmp_path_factory.mktemp("mobi") / "mobi_export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([header, *lines[1:]]).encode("utf-8") + b"\r\n")
    return custval.read_survey(path, "ecsi")


def test_export_gives_the_shipped_numbers(mobi_export):
    model = BLOCKS + "Satisfaction ~ Image + Expectation + Value + Image:Expectation"
    raw = np.genfromtxt(RAW_DATA_DIR / "mobi" / "mobi.csv", delimiter=",", names=True)
    assert len(mobi_export) == raw.shape[0] == 250
    for method in ("two_stage", "product_indicator", "orthogonal"):
        fit = PLS(model, interaction=method).fit(mobi_export)
        assert fit.n_ == 250 and fit.n_excluded_ == 0
        assert "Image:Expectation" in fit.paths_.index
        assert fit.interaction_scale_.index.tolist() == ["Image:Expectation"]


@pytest.mark.parametrize(
    "paths, match",
    [
        ("Satisfaction ~ Image + Expectation + Image:Image", r"'Image:Image'.*'Image' with itself"),
        ("Satisfaction ~ Image + Image : Image", r"'Image' with itself"),
        ("Satisfaction ~ Image + Image*Expectation", r"interaction term is written 'A:B'"),
        ("Satisfaction ~ Image + Expectation + Image:Quality", r"'Quality' has no measurement line"),
        ("Satisfaction ~ Image + Expectation + Image:Expectation + Expectation:Image", "same interaction"),
    ],
)
def test_bad_interactions_name_the_construct(mobi_export, paths, match):
    with pytest.raises(ModelSyntaxError, match=match):
        PLS(BLOCKS + paths).fit(mobi_export)


def test_interaction_without_its_main_effects_is_an_error(mobi_export):
    with pytest.raises(SpecificationError, match=r"'Expectation' does not.*main effects"):
        PLS(BLOCKS + "Satisfaction ~ Image + Value + Image:Expectation\nValue ~ Expectation").fit(mobi_export)


def test_higher_order_constructs_whose_dimensions_share_items(mobi_export):
    model = """
    Image =~ IMAG1 + IMAG2 + IMAG3
    Trust =~ IMAG3 + IMAG4 + IMAG5
    Reputation =~ Image + Trust
    Satisfaction =~ CUSA1 + CUSA2 + CUSA3
    Satisfaction ~ Reputation
    """
    with pytest.raises(ModelSyntaxError, match=r"item 'IMAG3' measures both 'Image' and 'Trust'.*'Reputation'"):
        PLS(model).fit(mobi_export)


@pytest.mark.parametrize(
    "extra, paths, match",
    [
        ("Reputation =~ Image + IMAG1", "Satisfaction ~ Reputation", r"measured by constructs \['Image'\] and items"),
        ("Reputation =~ Image + Value", "Satisfaction ~ Reputation + Image",
         r"'Image' is a lower-order construct of the higher-order construct 'Reputation'"),
        ("Reputation =~ Image + Value\nBrand =~ Image + Expectation", "Satisfaction ~ Reputation + Brand",
         r"'Image' already belongs to the higher-order construct 'Reputation'"),
        ("Reputation =~ Image", "Satisfaction ~ Reputation", "at least two lower-order"),
    ],
)
def test_bad_higher_order_constructs(mobi_export, extra, paths, match):
    with pytest.raises(ModelSyntaxError, match=match):
        PLS(BLOCKS + extra + "\n" + paths).fit(mobi_export)


def test_cyclic_model_names_the_loop(mobi_export):
    with pytest.raises(SpecificationError, match=r"feedback loop: .*Expectation.*Value.*Satisfaction"):
        PLS(BLOCKS + "Value ~ Expectation\nSatisfaction ~ Value + Image\nExpectation ~ Satisfaction").fit(mobi_export)


def test_options_checked(mobi_export):
    model = BLOCKS + "Satisfaction ~ Image + Expectation + Value"
    with pytest.raises(SpecificationError, match="interaction='product'"):
        PLS(model, interaction="product").fit(mobi_export)
    with pytest.raises(SpecificationError, match="hoc='embedded'"):
        PLS(model, hoc="embedded").fit(mobi_export)
    with pytest.raises(SpecificationError, match="consistent PLS needs standardised items"):
        PLS(model, consistent=True, standardize=False).fit(mobi_export)
    with pytest.raises(SpecificationError, match="not supported in one model"):
        PLS(BLOCKS + "Reputation =~ Image + Value\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\n"
            "Satisfaction ~ Reputation + Expectation + Loyalty + Expectation:Loyalty").fit(mobi_export)
    with pytest.raises(ModelSyntaxError, match="'Reputation' is a higher-order construct"):
        PLS(BLOCKS + "Reputation =~ Image + Value\nSatisfaction ~ Reputation + Expectation + "
            "Reputation:Expectation").fit(mobi_export)


def test_bootstrap_of_interaction_and_hoc_models_on_the_export(mobi_export):
    """Bootstrap runs through the construction in every resample; seeded, no failures."""
    model = BLOCKS + "Satisfaction ~ Image + Expectation + Value + Image:Expectation"
    fit = PLS(model).fit(mobi_export)
    a = fit.bootstrap(n_boot=200, seed=3)
    assert a.n_failed == 0 and a.n_boot == 200
    assert a.paths.loc[("Image:Expectation", "Satisfaction"), "ci_low"] < fit.paths_.at["Image:Expectation", "Satisfaction"]
    b = fit.bootstrap(n_boot=200, seed=3)
    assert a.paths.equals(b.paths)
    hoc = PLS(BLOCKS.replace("Satisfaction =~ CUSA1 + CUSA2 + CUSA3", "") + "Satisfaction =~ Image + Value\n"
              "Loyalty =~ CUSL1 + CUSL2 + CUSL3\nSatisfaction ~ Expectation\nLoyalty ~ Satisfaction").fit(mobi_export)
    hb = hoc.bootstrap(n_boot=100, seed=1)
    # the dimensions' loadings (stage 1) and the higher-order construct's (stage 2) both get intervals
    assert ("Image", "IMAG1") in hb.loadings.index and ("Satisfaction", "Image") in hb.loadings.index
