"""Messy input for the models: reverse keys, degenerate item columns, improper solutions.

The bfi export is written as a survey platform writes it (UTF-8 BOM, CRLF, quoted
header) and read with ``custval.read_survey``; the other files are small exports
built from the shipped data.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

import custval
from custval._io.paths import RAW_DATA_DIR
from custval.cfa import CFA
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    HeywoodWarning,
    InsufficientDataError,
    ItemKeyingWarning,
    MissingDataWarning,
    NotPositiveDefiniteError,
    ReverseKeyWarning,
)
from custval.reliability import scale_reliability
from custval.validity import ave, composite_reliability, htmt, measurement_table

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _export(path, text: str) -> None:
    """Write text as a platform export: UTF-8 with BOM, CRLF line ends."""
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))


@functools.cache
def _bfi_export_text() -> str:
    return (RAW_DATA_DIR / "bfi" / "bfi.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bfi(tmp_path_factory):
    path = tmp_path_factory.mktemp("bfi") / "bfi_export.csv"
    _export(path, _bfi_export_text())
    inst = custval.load_instrument("bfi")
    return custval.read_survey(path, inst, id_column="id"), inst


def _quiet(fn, *args, **kwargs):
    """Call with the listwise-deletion MissingDataWarning (asserted elsewhere) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        return fn(*args, **kwargs)


def _cr(fit, construct):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReverseKeyWarning)
        return composite_reliability(fit, conventions="semtools_observed").wide().at[construct, "semtools_observed"]


# --------------------------------------------------------------------------- reverse keys
def test_cfa_of_the_instrument_applies_its_reverse_keys(bfi):
    df, inst = bfi
    before = df.copy()
    with pytest.warns(ReverseKeyWarning, match="declares reverse-keyed"):
        raw_fit = _quiet(CFA(inst.model_syntax()).fit, df)
    inst_fit = _quiet(CFA(inst).fit, df)
    keyed_fit = _quiet(CFA(inst.model_syntax()).fit, inst.keyed(df))
    # the numbers: unkeyed C4/C5 cancel C1-C3 (CR near 0); keyed, CR is that of
    # the keyed items, computed the same way as from inst.keyed(df)
    assert _cr(raw_fit, "C") < 0.1 and _cr(raw_fit, "E") < 0.1 and _cr(raw_fit, "O") < 0.1
    assert _cr(inst_fit, "C") > 0.7
    assert _cr(inst_fit, "C") == pytest.approx(_cr(keyed_fit, "C"), rel=1e-12)
    np.testing.assert_allclose(inst_fit.params_["est"], keyed_fit.params_["est"], rtol=1e-10, atol=1e-12)
    assert inst_fit.reverse_keyed_ == ("A1", "C4", "C5", "E1", "E2", "O2", "O5")
    assert inst_fit.instrument_ is inst and inst_fit.keying_.source == "model"
    assert "reverse-keyed from instrument 'bfi'" in inst_fit.summary()
    pd.testing.assert_frame_equal(df, before)  # the answers passed in are not changed


def test_syntax_fit_of_unkeyed_items_declared_reverse_on_reading_warns(bfi):
    # read_survey records the codebook's reverse keys; a model of the unkeyed items where they
    # load against their factor warns at fit time, naming them and the instrument
    df, inst = bfi
    assert df.attrs["custval"]["instrument"]["reverse_items"] == sorted(inst.reverse_items)
    with pytest.warns(ReverseKeyWarning, match=r"A1, C4, C5, E1, E2, O2, O5, which instrument 'bfi'"):
        fit = _quiet(CFA(inst.model_syntax()).fit, df)
    assert fit.keying_.source == "none" and fit.keying_.declared == tuple(sorted(inst.reverse_items))
    assert "declares A1, C4, C5, E1, E2, O2, O5 reverse-keyed" in fit.summary()
    # keyed by the caller: nothing to warn about; the same data without a reading record (a
    # dataset, a frame built in code): the syntax fit does not know the codebook, so it only notes
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReverseKeyWarning)
        _quiet(CFA(inst.model_syntax()).fit, inst.keyed(df))
        bare = df.copy()
        bare.attrs = {}
        quiet_fit = _quiet(CFA(inst.model_syntax()).fit, bare)
    assert quiet_fit.keying_notes_ and not quiet_fit.keying_.declared


def test_cr_of_unkeyed_reverse_items_warns_and_says_so(bfi):
    df, inst = bfi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReverseKeyWarning)  # at fit time: the test above
        fit = _quiet(CFA(inst.model_syntax()).fit, df)
    assert fit.keying_.source == "none" and fit.keying_notes_
    with pytest.warns(ReverseKeyWarning, match=r"C4.*C5.*Pass the Instrument as the model") as rec:
        res = composite_reliability(fit)
    assert "not interpretable" in res.verdict and "C" in res.verdict.split(" not ")[0]
    assert "every CR" not in res.verdict.split("as computed")[0]
    assert issubclass(rec[0].category, ItemKeyingWarning)  # catchable with the item-keying family
    with pytest.warns(ReverseKeyWarning, match="O2"):
        ave(fit)


def test_keyed_frame_is_not_keyed_again(bfi):
    df, inst = bfi
    keyed = inst.keyed(df)
    assert keyed.attrs["custval_keyed"] == {"instrument": "bfi", "items": sorted(inst.reverse_items)}
    assert "custval_keyed" not in inst.keyed(keyed).attrs  # keying twice gives back the answers
    once = _quiet(CFA(inst).fit, df)
    again = _quiet(CFA(inst).fit, keyed)
    assert again.keying_.source == "data"
    np.testing.assert_array_equal(once.params_["est"], again.params_["est"])
    # htmt and cross-loadings do not key a keyed frame again either
    a = _quiet(htmt, df, inst, n_boot=0, absolute=False)
    b = _quiet(htmt, keyed, inst, n_boot=0, absolute=False)
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-12)
    assert (a.matrix.to_numpy()[np.triu_indices(5, 1)] != 0).all()


def test_keyed_export_read_back_and_keyed_again_warns(bfi, tmp_path):
    # a keyed frame written to CSV and read back has lost its keying record: the
    # instrument's keys applied a second time turn the reverse items around again
    df, inst = bfi
    path = tmp_path / "bfi_keyed.csv"
    inst.keyed(df).to_csv(path, index=False)
    back = custval.read_survey(path, inst, id_column="id")
    assert "custval_keyed" not in back.attrs
    with pytest.warns(ReverseKeyWarning, match=r"A1, C4, C5, E1, E2, O2, O5, declared reverse-keyed.*keyed twice"):
        _quiet(CFA(inst).fit, back)


def test_reliability_with_a_cfa_of_unkeyed_items_warns(bfi):
    df, inst = bfi
    sub = inst  # every construct
    with pytest.warns(ReverseKeyWarning, match="declares reverse-keyed"):
        bad = _quiet(CFA(inst.model_syntax()).fit, df)
    good = _quiet(CFA(inst).fit, df)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = scale_reliability(df, sub, cfa=bad, ci_method=None)
    msgs = [str(w.message) for w in caught if w.category is ReverseKeyWarning]
    assert any(m.startswith("reliability: item(s) A1, C4, C5, E1, E2, O2, O5 are keyed differently") for m in msgs)
    assert np.isnan(table.loc[["A", "C", "E", "O"], "composite_reliability"]).all()
    assert table.at["N", "composite_reliability"] == pytest.approx(_cr(bad, "N"), rel=1e-12)
    assert "CR/AVE not reported" in table.at["C", "note"]
    assert table.at["C", "alpha"] > 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReverseKeyWarning)
        table = scale_reliability(df, sub, cfa=good, ci_method=None)
    assert table.at["C", "composite_reliability"] == pytest.approx(_cr(good, "C"), rel=1e-12)


def test_measurement_table_keys_the_data_as_the_fit(bfi):
    df, inst = bfi
    fit = _quiet(CFA(inst).fit, df)
    mt = _quiet(measurement_table, df, fit, n_boot=0)
    keyed = inst.keyed(df)
    c = keyed[list(inst.constructs["C"])].dropna().to_numpy(float)
    cov = np.cov(c, rowvar=False)
    alpha = 5 / 4 * (1 - np.trace(cov) / cov.sum())
    assert mt.constructs.at["C", "alpha"] == pytest.approx(alpha, rel=1e-12)
    assert any("reverse-keyed from instrument 'bfi'" in n for n in mt.notes)
    # model syntax fitted on inst.keyed(df), then the raw answers: alpha would describe other
    # items than CR; without the instrument they cannot be keyed here, so it is an error
    fit_keyed = _quiet(CFA(inst.model_syntax()).fit, keyed)
    assert fit_keyed.keying_.source == "data"
    with pytest.raises(custval.exceptions.SpecificationError, match=r"fitted with item\(s\) A1, C4, C5"):
        _quiet(measurement_table, df, fit_keyed, n_boot=0)


def test_invariance_and_pls_with_the_instrument(bfi):
    from custval import PLS
    from custval.invariance import measurement_invariance

    df, inst = bfi
    keyed = inst.keyed(df)
    model = inst.model_syntax(constructs=["C", "E"])
    small = custval.Instrument.from_dict({"C": list(inst.constructs["C"]), "E": list(inst.constructs["E"])},
                                         scale=(1, 6), reverse=["C4", "C5", "E1", "E2"], name="bfi_ce")
    a = _quiet(measurement_invariance, df, small, group="gender", levels=("configural", "metric"))
    b = _quiet(measurement_invariance, keyed, model, group="gender", levels=("configural", "metric"))
    np.testing.assert_allclose(a.table["chisq"], b.table["chisq"], rtol=1e-10)
    assert "reverse-keyed from instrument 'bfi_ce'" in a.convention
    p1 = _quiet(PLS(small, paths="C ~ E", missing="listwise").fit, df)
    p2 = _quiet(PLS(model + "\nC ~ E", missing="listwise").fit, keyed)
    np.testing.assert_allclose(p1.reliability_, p2.reliability_, rtol=1e-10)
    assert p1.reverse_keyed_ == ("C4", "C5", "E1", "E2")
    with pytest.warns(ReverseKeyWarning, match="C4"):
        _quiet(PLS(model + "\nC ~ E", missing="listwise").fit, df)
    with pytest.raises(custval.exceptions.SpecificationError, match="paths"):
        PLS(small).fit(df)


# --------------------------------------------------------------------------- degenerate items
@pytest.fixture(scope="module")
def hs_text():
    return (RAW_DATA_DIR / "holzinger_swineford1939" / "holzinger_swineford1939.csv").read_text(encoding="utf-8")


def _read(path):
    return pd.read_csv(path, encoding="utf-8-sig")


def test_constant_item_is_named(tmp_path, hs_text):
    df = pd.read_csv(pd.io.common.StringIO(hs_text))
    df["x4"] = 3.0  # an item everybody answered the same way
    path = tmp_path / "hs_const.csv"
    _export(path, df.to_csv(index=False))
    with pytest.raises(ConstantItemError, match=r"x4 \(every value 3\) are constant in the 301 usable cases:"):
        CFA(HS_MODEL).fit(_read(path))


def test_fewer_respondents_than_items(tmp_path, hs_text):
    path = tmp_path / "hs_pilot.csv"
    _export(path, "\n".join(hs_text.splitlines()[:6]) + "\n")  # a pilot with 5 respondents
    with pytest.raises(InsufficientDataError) as err:
        CFA(HS_MODEL).fit(_read(path))
    assert "5 usable case(s) for 9 items" in str(err.value)
    assert "group None" not in str(err.value)
    # the free-parameter check names no group for a single-group model either
    path = tmp_path / "hs_15.csv"
    _export(path, "\n".join(hs_text.splitlines()[:16]) + "\n")
    with pytest.raises(InsufficientDataError, match=r"^15 usable case\(s\), fewer than the model's free"):
        CFA(HS_MODEL).fit(_read(path))


def test_duplicated_column_is_named(tmp_path, hs_text):
    df = pd.read_csv(pd.io.common.StringIO(hs_text))
    df["x3b"] = df["x3"]  # the same question exported twice under two names
    path = tmp_path / "hs_dup.csv"
    _export(path, df.to_csv(index=False))
    with pytest.raises(NotPositiveDefiniteError, match=r"x3 and x3b \(r = \+1\.000000\)"):
        CFA("visual =~ x1 + x2 + x3 + x3b").fit(_read(path))


def test_infinite_value_is_a_data_error(tmp_path, hs_text):
    lines = hs_text.splitlines()
    header = lines[0].split(",")
    j = [h.strip('"') for h in header].index("x5")
    for k in (3, 10):  # data rows 2 and 9 (0-based): a division by zero in the export
        cells = lines[k].split(",")
        cells[j] = "inf"
        lines[k] = ",".join(cells)
    path = tmp_path / "hs_inf.csv"
    _export(path, "\n".join(lines) + "\n")
    df = _read(path)
    assert np.isinf(df["x5"]).sum() == 2
    with pytest.raises(DataValidationError, match=r"column 'x5': 2 infinite value\(s\) at rows \(index labels\) \[2, 9\]") as err:
        CFA(HS_MODEL).fit(df)
    assert err.value.problems[0]["column"] == "x5" and err.value.problems[0]["rows"] == [2, 9]


# --------------------------------------------------------------------------- improper solutions
def test_cr_and_ave_of_an_improper_solution_say_so(tmp_path):
    # Simulated (seeded) answers whose correlations (.6, .6, .3) imply a loading above 1
    # for item a (negative residual variance), exported and read back
    rng = np.random.default_rng(3)
    corr = np.array([[1, 0.6, 0.6], [0.6, 1, 0.3], [0.6, 0.3, 1]])
    df = pd.DataFrame(rng.multivariate_normal(np.zeros(3), corr, size=2000), columns=["a", "b", "c"])
    path = tmp_path / "sim.csv"
    _export(path, df.to_csv(index=False))
    with pytest.warns(HeywoodWarning):
        fit = CFA("F =~ a + b + c").fit(_read(path))
    with pytest.warns(HeywoodWarning, match=r"composite_reliability: the CFA solution is improper.*'?a'? \(-0\."):
        res = composite_reliability(fit)
    assert res.verdict.startswith("improper solution (negative residual variance of a (-0.")
    assert "not interpretable" in res.verdict
    assert res.wide().at["F", "semtools_observed"] > 0.7  # the value itself would have passed
    with pytest.warns(HeywoodWarning, match="ave: the CFA solution is improper"):
        res = ave(fit)
    assert res.verdict.startswith("improper solution")


def test_higher_order_factor_with_a_negative_facet_is_no_keying_alarm(bfi):
    # Neuroticism correlates negatively with the other domains: a second-order factor
    # loading negatively on N is a legitimate model, not a reverse-keying problem
    df, inst = bfi
    keyed = inst.keyed(df)
    model = inst.model_syntax() + "\nG =~ A + C + E + N + O"
    fit = _quiet(CFA(model).fit, keyed)
    lo = fit.params_[(fit.params_["op"] == "=~") & (fit.params_["lhs"] == "G")].set_index("rhs")["std_all"]
    assert np.sign(lo["N"]) != np.sign(lo[["A", "C", "E", "O"]].sum())
    assert fit.keying_notes_ == []
    # CR of a higher-order model is an explicit error, not a KeyError from inside pandas
    with pytest.raises(custval.exceptions.SpecificationError, match="higher-order factor.*G"):
        composite_reliability(fit)


def test_cr_of_a_non_positive_definite_latent_covariance_says_so(tmp_path):
    from custval.exceptions import NotPositiveDefiniteWarning
    from tests.conftest import load_golden

    path = tmp_path / "mobi_export.csv"
    _export(path, (RAW_DATA_DIR / "mobi" / "mobi.csv").read_text(encoding="utf-8"))
    model = load_golden("validity", "reliability")["mobi_ecsi"]["model"]
    with pytest.warns(NotPositiveDefiniteWarning, match="latent variables is not positive definite"):
        fit = CFA(model).fit(_read(path))
    res = composite_reliability(fit)  # the fit warned already; the verdict says it
    assert res.verdict.startswith("improper solution (latent covariance matrix not positive definite")
    assert "inadmissible" in res.verdict


def test_cr_given_the_instrument_checks_the_fit_keys(bfi):
    df, inst = bfi
    with pytest.warns(ReverseKeyWarning, match="declares reverse-keyed"):
        bad = _quiet(CFA(inst.model_syntax()).fit, df)
    with pytest.warns(ReverseKeyWarning) as rec:
        res = composite_reliability(bad, instrument=inst)
    assert len(rec) == 1  # one warning: the instrument check replaces the loading-sign one
    assert str(rec[0].message).startswith(
        "composite_reliability: item(s) A1, C4, C5, E1, E2, O2, O5 are keyed differently in the CFA and in "
        "instrument 'bfi'")
    assert res.verdict.startswith("not interpretable: item(s) A1, C4")
    good = _quiet(CFA(inst).fit, df)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReverseKeyWarning)
        res = ave(good, instrument=inst)
    assert not res.verdict.startswith("not interpretable")
    with pytest.warns(ReverseKeyWarning, match="keyed differently"):
        mt = _quiet(measurement_table, df, bad, n_boot=0, instrument=inst)
    assert any(n.startswith("CR: not interpretable: item(s) A1") for n in mt.notes)


def test_invariance_on_keyed_answers_without_record_warns(bfi, tmp_path):
    from custval.invariance import measurement_invariance

    df, inst = bfi
    path = tmp_path / "bfi_keyed_by_hand.csv"
    inst.keyed(df).to_csv(path, index=False)  # keyed elsewhere, saved: the record is gone
    back = custval.read_survey(path, inst, id_column="id")
    with pytest.warns(ReverseKeyWarning, match=r"declared reverse-keyed by instrument 'bfi'.*keyed twice"):
        _quiet(measurement_invariance, back, inst, group="gender", levels=("configural",))
