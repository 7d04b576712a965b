"""Messy input for micom, mga and plspredict: a survey export (UTF-8 BOM, CRLF, quoted text
column) with a tiny segment, an indicator constant within a segment, blank segment cells and
missing item values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval import PLS, load_dataset
from custval.exceptions import (
    ConstantItemError,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)
from custval.pls import mga, micom, plspredict

MODEL = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"


def _export(path, frame: pd.DataFrame) -> pd.DataFrame:
    """Write as a platform export (BOM, CRLF, every text field quoted) and read it back."""
    text = frame.to_csv(index=False, quoting=1, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return pd.read_csv(path, encoding="utf-8-sig")


@pytest.fixture
def survey():
    mobi = load_dataset("mobi", with_instrument=False).data.copy()
    mobi.insert(0, "segment", np.where(mobi["CUEX1"] >= 8, "Loyal \"core\"", "Occasional"))
    return mobi


def test_a_segment_with_fewer_respondents_than_indicators_is_an_error_naming_it(tmp_path, survey):
    survey.loc[survey.index[:4], "segment"] = "Pilot"
    df = _export(tmp_path / "export.csv", survey)
    for fn in (micom, mga):
        with pytest.raises(InsufficientDataError, match=r"group 'Pilot' of 'segment' has 4 respondent\(s\), "
                                                      r"fewer than the 5 indicators"):
            fn(df, MODEL, group="segment")


def test_an_indicator_constant_within_a_segment_is_an_error_naming_both(tmp_path, survey):
    survey.loc[survey["segment"] == "Occasional", "CUSL3"] = 6
    df = _export(tmp_path / "export.csv", survey)
    with pytest.raises(ConstantItemError, match=r"\['CUSL3'\] are constant within group 'Occasional' of "
                                                r"'segment' \(value \[6.0\]\)"):
        micom(df, MODEL, group="segment", permutations=20)
    with pytest.raises(ConstantItemError, match="CUSL3.*'Occasional'"):
        mga(df, MODEL, group="segment", method="welch", n_boot=20)


def test_blank_segment_cells_are_an_error_with_their_positions(tmp_path, survey):
    survey.loc[survey.index[[3, 17]], "segment"] = None
    df = _export(tmp_path / "export.csv", survey)
    with pytest.raises(DataValidationError, match=r"2 row\(s\) have no value in the grouping 'segment' "
                                                  r"\(0-based positions \[3, 17\]\)"):
        micom(df, MODEL, group="segment")


def test_one_segment_or_an_unknown_column_is_an_error(tmp_path, survey):
    survey["segment"] = "All"
    df = _export(tmp_path / "export.csv", survey)
    with pytest.raises(InsufficientDataError, match=r"'segment' has 1 group\(s\) \(\['All'\]\)"):
        mga(df, MODEL, group="segment")
    with pytest.raises(SpecificationError, match="group='Segment' is not a column"):
        mga(df, MODEL, group="Segment")
    with pytest.raises(SpecificationError, match="method='bootstrap'; allowed"):
        mga(df, MODEL, group="segment", method="bootstrap")


def test_listwise_deletion_keeps_groups_aligned_with_the_rows_used(tmp_path, survey):
    survey["IMAG2"] = survey["IMAG2"].astype(float)
    survey.loc[survey.index[[0, 5, 9]], "IMAG2"] = np.nan
    df = _export(tmp_path / "export.csv", survey)
    with pytest.warns(MissingDataWarning, match="3 row"):
        res = micom(df, PLS(MODEL, missing="listwise"), group="segment", permutations=30)
    kept = df.drop(index=df.index[[0, 5, 9]])
    assert res.configural["n"].to_dict() == kept["segment"].value_counts().to_dict()
    assert res.configural["n"].sum() == len(df) - 3
    with pytest.raises(DataValidationError, match="missing values in item"):
        micom(df, MODEL, group="segment")


def test_given_permutations_and_folds_are_checked(survey):
    with pytest.raises(SpecificationError, match=r"integer array of row orders of shape \(B, 250\)"):
        micom(survey, MODEL, group="segment", permutations=np.zeros((5, 10), dtype=int))
    with pytest.raises(SpecificationError, match="permutation of 0..249"):
        micom(survey, MODEL, group="segment", permutations=np.zeros((5, 250), dtype=int))
    with pytest.raises(SpecificationError, match="folds=500; between 2 and the 250 rows used"):
        plspredict(survey, MODEL, folds=500)


def test_a_training_fold_with_a_constant_indicator_is_an_error_naming_the_fold(survey):
    survey["CUSL3"] = 5
    survey.loc[survey.index[:3], "CUSL3"] = [1, 2, 3]  # varies only in the first rows
    folds = np.repeat(np.arange(5), 50)  # the 3 varying rows are all in fold 1
    with pytest.raises(InsufficientDataError, match=r"training set\(s\) \(repetition, fold\) \[\(1, 1\)\]"):
        plspredict(survey, MODEL, folds=folds)
