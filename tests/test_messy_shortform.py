"""short_form on real survey exports: BOM, CRLF, semicolons, blanks, declared codes, reverse keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval import load_dataset, read_survey, short_form
from custval.exceptions import ConstantItemError, MissingDataWarning


def _write_export(path, frame: pd.DataFrame) -> None:
    """A spreadsheet-style CSV export: UTF-8 BOM, CRLF, semicolons, quoted header, blank = no answer."""
    lines = [";".join(f'"{c}"' for c in frame.columns)]
    for row in frame.itertuples(index=False):
        lines.append(";".join("" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in row))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


@pytest.fixture()
def mobi_export(tmp_path):
    """The mobi answers as a messy export: blanks in PERQ items, a '99' no-answer code."""
    ds = load_dataset("mobi")
    raw = ds.data.astype(object).copy()
    raw.insert(0, "Respondent ID", [f"M{i:04d}" for i in range(1, len(raw) + 1)])
    raw.loc[[4, 120], "PERQ3"] = np.nan
    raw.loc[200, "PERQ6"] = 99
    path = tmp_path / "mobi export.csv"
    _write_export(path, raw)
    return path, ds


def test_rows_in_equal_rows_used_plus_rows_excluded_with_ids(mobi_export):
    path, ds = mobi_export
    df = read_survey(path, ds.instrument, id_column="Respondent ID", missing_codes=[99])
    assert len(df) == 250
    with pytest.warns(MissingDataWarning, match=r"3 of 250 rows excluded .*'PERQ3': 2, 'PERQ6': 1"):
        res = short_form(df, ds.instrument, construct="PERQ", n_items=4, id_column="Respondent ID")
    assert res.n_rows == res.n + len(res.excluded) == 250
    assert res.n_calibration + res.n_validation == res.n == 247
    assert res.excluded["Respondent ID"].tolist() == ["M0005", "M0121", "M0201"]
    assert res.excluded["reason"].tolist() == ["missing answer to PERQ3", "missing answer to PERQ3",
                                               "missing answer to PERQ6"]
    # the file itself is untouched, and the result equals the one from the clean frame minus those rows
    clean = ds.data.drop(index=[4, 120, 200])
    direct = short_form(clean, ds.instrument, construct="PERQ", n_items=4)
    assert direct.items == res.items
    assert np.allclose(direct.criteria.to_numpy(), res.criteria.to_numpy(), equal_nan=True)


def test_reverse_keyed_items_enter_keyed_once(tmp_path):
    """bfi's A1 is reverse-keyed: read from an export, keyed by the instrument, it is selected as
    from the frame keyed by hand, and a frame keyed by Instrument.keyed is not keyed twice."""
    ds = load_dataset("bfi")
    items = [f"{c}{i}" for c in "ACENO" for i in range(1, 6)]
    raw = ds.data[["id", *items]].iloc[:900]
    path = tmp_path / "bfi.csv"
    lines = [";".join(f'"{c}"' for c in raw.columns)] + [
        ";".join("" if pd.isna(v) else str(int(v)) for v in r) for r in raw.itertuples(index=False)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    df = read_survey(path, ds.instrument, id_column="id")
    with pytest.warns(MissingDataWarning):
        a = short_form(df, ds.instrument, construct="A", n_items=3)
    with pytest.warns(MissingDataWarning):
        b = short_form(ds.instrument.keyed(df), ds.instrument, construct="A", n_items=3)
    assert a == b  # keyed once: the same selection, criteria and candidates
    unkeyed = custval.Instrument.from_dict({"A": ["A1", "A2", "A3", "A4", "A5"]}, scale=(1, 6))
    with pytest.warns(MissingDataWarning):
        c = short_form(df, unkeyed, construct="A", n_items=3)
    # without the reverse key A1 lowers the full-scale sum: r_full of the full pool changes
    assert c.criteria.loc["r_full", "calibration"] != a.criteria.loc["r_full", "calibration"]


def test_an_item_constant_in_one_half_is_named(tmp_path):
    """A small pilot where one item barely varies: constant in the validation half, named."""
    rng = np.random.default_rng(0)
    n = 24
    z = rng.standard_normal((n, 1))
    x = np.clip(np.round(4 + 1.2 * z + rng.standard_normal((n, 5))), 1, 7)
    x[:, 4] = 4
    x[3, 4] = 5  # one respondent differs
    inst = custval.Instrument.from_dict({"PIL": [f"p{i}" for i in range(1, 6)]}, scale=(1, 7))
    data = pd.DataFrame(x, columns=[f"p{i}" for i in range(1, 6)])
    with pytest.raises(ConstantItemError, match=r"p5 \(every valid answer = 4\)"):
        short_form(data, inst, n_items=3, seed=0)


def test_an_undeclared_code_in_the_answers_is_an_error_naming_column_and_row(mobi_export):
    """A '99' left in the answers (the file read without missing_codes=) is never scored as an answer."""
    path, ds = mobi_export
    frame = pd.read_csv(path, sep=";", encoding="utf-8-sig")  # read by hand: the 99 stays a number
    assert frame.loc[200, "PERQ6"] == 99
    with pytest.raises(custval.DataValidationError, match=r"column 'PERQ6': 1 value\(s\) outside the scale "
                                                          r"1..10 at rows \(index labels\) 200: values 99"):
        short_form(frame, ds.instrument, construct="PERQ", n_items=4)
