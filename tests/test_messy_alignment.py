"""Messy input for custval.alignment: survey exports with firm names as typed, missing
answers, respondents without a firm, too few firms or respondents, and firms where the
configural model cannot be estimated.

The exports are written as a spreadsheet or survey platform writes them (UTF-8 BOM, CRLF,
semicolons, a quoted header, blank = no answer) and read back with pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import custval
from custval.exceptions import (
    ConstantItemError,
    ConvergenceError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

ITEMS = ["cv1", "cv2", "cv3", "cv4", "cv5"]
MODEL = "value =~ cv1 + cv2 + cv3 + cv4 + cv5"
FIRMS = ["Café Nord", "Müller & Söhne GmbH", "O'Brien Ltd", "Kauppa \"Helmi\" Oy", "Tienda Sur",
         "Nordic Parts AB"]


def _likert(seed: int, sizes: dict[str, int], means: dict[str, float]) -> pd.DataFrame:
    """Seven-point answers from a one-factor model; the fourth firm reads cv2 a point higher."""
    rng = np.random.default_rng(seed)
    rows = []
    for firm, n in sizes.items():
        eta = means[firm] + rng.normal(size=n)
        y = 4 + eta[:, None] * np.array([0.9, 0.8, 1.0, 0.7, 0.85]) + rng.normal(scale=0.8, size=(n, 5))
        if firm == FIRMS[3]:
            y[:, 1] += 1.0
        y = np.clip(np.rint(y), 1, 7).astype(int)
        frame = pd.DataFrame(y, columns=ITEMS)
        frame.insert(0, "firm", firm)
        frame.insert(0, "respondent", [f"R{len(rows) * 1000 + i:05d}" for i in range(n)])
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def _write_export(path, frame: pd.DataFrame) -> None:
    """UTF-8 BOM, CRLF, semicolons, quoted header and text, blank = no answer."""
    def cell(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, str):
            return '"' + v.replace('"', '""') + '"'
        return str(int(v))

    lines = [";".join(f'"{c}"' for c in frame.columns)]
    lines += [";".join(cell(v) for v in row) for row in frame.astype(object).itertuples(index=False)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def _read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype={"respondent": str, "firm": str})


@pytest.fixture
def export(tmp_path):
    sizes = dict(zip(FIRMS, [160, 140, 180, 150, 170, 155]))
    means = dict(zip(FIRMS, [0.0, 0.3, -0.2, 0.1, 0.5, -0.4]))
    df = _likert(5, sizes, means).astype({c: float for c in ITEMS})
    df.loc[[3, 200, 401], "cv3"] = np.nan  # skipped questions
    df.loc[[17, 630], "firm"] = np.nan  # respondents who did not name their firm
    path = tmp_path / "firm_survey_export.csv"
    _write_export(path, df)
    return path, df


def test_messy_export_rows_are_accounted_for_and_firm_names_kept(export):
    path, written = export
    df = _read(path)
    assert df["firm"].isna().sum() == 2 and df[ITEMS].isna().sum().sum() == 3  # nothing lost on reading
    with pytest.warns(MissingDataWarning) as record:
        res = custval.alignment(df[["firm", *ITEMS]], MODEL, group="firm")
    text = " ".join(str(w.message) for w in record)
    assert "2 of 955 rows have no value in the group column 'firm'" in text
    assert "3 of 953 rows" in text and "listwise" in text
    assert res.n_rows == 955 and res.n_used == 950
    assert res.n_excluded == {"no group": 2, "incomplete items (listwise)": 3}
    assert res.n_rows == res.n_used + sum(res.n_excluded.values())
    assert list(res.means["group"]) == FIRMS  # names as typed, in order of appearance
    assert sum(res.n_per_group.values()) == res.n_used
    # the firm whose respondents read cv2 a point higher is the one flagged for that intercept
    inv = res.invariance.set_index(["item", "parameter", "group"])
    assert not inv.loc[("cv2", "intercept", FIRMS[3]), "invariant"]
    assert "Rows: 955 in = 950 used + 5 excluded" in res.summary()
    # respondent ids are personal data: never in the result
    assert "R0" not in res.summary() and "R0" not in res._repr_html_()


def test_two_firms_are_an_error_naming_them(tmp_path):
    df = _likert(1, {"Alpha Oy": 200, "Beta AB": 220}, {"Alpha Oy": 0, "Beta AB": 0.2})
    path = tmp_path / "two_firms.csv"
    _write_export(path, df)
    with pytest.raises(InsufficientDataError, match=r"at least 3 groups.*got 2 \('Alpha Oy', 'Beta AB'\)"
                                                    r".*measurement_invariance"):
        custval.alignment(_read(path), MODEL, group="firm")


def test_a_firm_with_too_few_respondents_is_named(tmp_path):
    sizes = {"Alpha Oy": 200, "Beta AB": 210, "Gamma GmbH": 9, "Delta SA": 190}
    df = _likert(2, sizes, dict.fromkeys(sizes, 0.0))
    path = tmp_path / "small_firm.csv"
    _write_export(path, df)
    with pytest.raises(InsufficientDataError, match=r"'Gamma GmbH': 9.*merge or drop") as err:
        custval.alignment(_read(path), MODEL, group="firm")
    assert "Alpha Oy" not in str(err.value)


def test_a_firm_where_the_configural_model_does_not_converge_is_named(export, monkeypatch):
    # the optimiser is made to report non-convergence for the firm with 150 respondents (a real
    # non-convergence depends on the optimiser's path and cannot be provoked reliably)
    from custval.cfa import CFA

    original = CFA._estimate

    def estimate(self, model, problem, groups, meanstructure, extras):
        theta, converged, iters = original(self, model, problem, groups, meanstructure, extras)
        if any(gd.n == 150 for gd in groups):
            return theta, False, iters
        return theta, converged, iters

    monkeypatch.setattr(CFA, "_estimate", estimate)
    path, _ = export
    df = _read(path).dropna()
    with pytest.raises(ConvergenceError, match="did not converge in firm 'Kauppa \"Helmi\" Oy' \\(n = 150\\)"):
        custval.alignment(df[["firm", *ITEMS]], MODEL, group="firm")


def test_an_item_constant_in_one_firm_is_named(export):
    path, _ = export
    df = _read(path).dropna()
    df.loc[df["firm"] == "Tienda Sur", "cv4"] = 5.0  # a firm whose version of the form fixed cv4
    with pytest.raises(ConstantItemError, match="Tienda Sur.*cv4"):
        custval.alignment(df[["firm", *ITEMS]], MODEL, group="firm")


def test_bad_options_and_models_are_errors_that_say_what_is_allowed(export):
    path, _ = export
    df = _read(path).dropna()[["firm", *ITEMS]]
    with pytest.raises(SpecificationError, match="'FIXED' or 'FREE'.*'fixed'"):
        custval.alignment(df, MODEL, group="firm", method="fixed")
    with pytest.raises(SpecificationError, match="reference 'Cafe Nord' is not a group of 'firm'.*Café Nord"):
        custval.alignment(df, MODEL, group="firm", reference="Cafe Nord")
    with pytest.raises(SpecificationError, match="item 'cv3' loads on 'a' and 'b'"):
        custval.alignment(df, "a =~ cv1 + cv2 + cv3\nb =~ cv3 + cv4 + cv5", group="firm")
    with pytest.raises(SpecificationError, match="group column 'company' is not in the data"):
        custval.alignment(df, MODEL, group="company")


def test_fiml_keeps_respondents_who_skipped_a_question(export):
    path, _ = export
    df = _read(path)[["firm", *ITEMS]]
    with pytest.warns(MissingDataWarning, match="2 of 955 rows have no value in the group column"):
        res = custval.alignment(df, MODEL, group="firm", missing="fiml")
    assert res.n_used == 953 and res.n_excluded == {"no group": 2}
    assert "fiml" in res.convention
    listwise = custval.alignment(df.dropna(), MODEL, group="firm")
    # three skipped answers among 950 respondents move the aligned means only a little
    np.testing.assert_allclose(res.means["estimate"], listwise.means["estimate"], atol=0.02)
