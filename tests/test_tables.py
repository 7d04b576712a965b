"""APA tables: number formatting, builders and the four renderings.

Inputs are small simulated frames (seeded) or statistics computed here with
pandas from the real mobi data; no result depends on another custval module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custval import tables
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import DataValidationError, SpecificationError
from custval.tables import (
    MINUS,
    APATable,
    apa_table,
    discriminant_table,
    fit_table,
    format_number,
    format_p,
    invariance_table,
    item_table,
    loadings_table,
    reliability_table,
)


# --------------------------------------------------------------------------- formatting rules
@pytest.mark.parametrize(
    ("value", "digits", "bounded", "expected"),
    [
        (0.4567, 2, True, ".46"),
        (-0.4567, 2, True, MINUS + ".46"),
        (0.4567, 2, False, "0.46"),
        (0.9999, 2, True, "1.00"),  # rounds to 1: written in full
        (1.0349, 2, True, "1.03"),  # Heywood loading
        (-0.001, 2, True, ".00"),  # no negative zero
        (12345.678, 1, False, "12,345.7"),
        (3, 0, False, "3"),
        (np.nan, 2, True, ""),
        (None, 2, True, ""),
    ],
)
def test_format_number(value, digits, bounded, expected):
    assert format_number(value, digits, bounded=bounded) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.0342, ".034"), (0.00099, "< .001"), (0.001, ".001"), (0.0, "< .001"), (0.5, ".500"),
     (0.99996, "> .999"), (1.0, "> .999"), (np.nan, "")],
)
def test_format_p(p, expected):
    assert format_p(p) == expected


def test_format_p_two_digits_and_bad_values():
    assert format_p(0.0342, 2) == ".03"
    with pytest.raises(DataValidationError, match="p value must lie in"):
        format_p(1.5)
    df = pd.DataFrame({"p": [0.2, -0.1]})
    with pytest.raises(DataValidationError, match="column 'p'"):
        apa_table(df, "x", formats={"p": "p"})


def test_unknown_format_spec_is_an_error():
    with pytest.raises(SpecificationError, match="unknown column format"):
        apa_table(pd.DataFrame({"a": [1.0]}), "x", formats={"a": "percent"})


# --------------------------------------------------------------------------- the result object
@pytest.fixture
def sim_fit() -> pd.DataFrame:
    """Simulated fit indices of three models (values drawn with a fixed seed)."""
    rng = np.random.default_rng(0)
    n = 3
    rmsea = rng.uniform(0.03, 0.09, n)
    return pd.DataFrame(
        {
            "chisq": rng.uniform(50, 3000, n),
            "df": [24, 32, 51],
            "pvalue": [0.0004123, 0.04567, 0.5],
            "cfi": rng.uniform(0.85, 0.99, n),
            "tli": [0.91234, 1.0042, 0.95],
            "rmsea": rmsea,
            "rmsea.ci.lower": rmsea - 0.012345,
            "rmsea.ci.upper": rmsea + 0.015678,
            "srmr": rng.uniform(0.02, 0.08, n),
        },
        index=["One factor", "Two factors", "Three factors"],
    )


def test_frame_is_kept_unrounded(sim_fit):
    t = fit_table(sim_fit)
    frame = t.to_frame()
    assert frame.loc["One factor", "cfi"] == sim_fit.loc["One factor", "cfi"]
    assert frame.loc["One factor", "rmsea_ci_low"] == sim_fit.loc["One factor", "rmsea.ci.lower"]
    frame.iloc[0, 0] = -1  # a copy: the table is unchanged
    assert t.to_frame().iloc[0, 0] == sim_fit.iloc[0, 0]
    with pytest.raises(AttributeError):
        t.number = 3  # frozen


def test_fit_table_cells(sim_fit):
    t = fit_table(sim_fit, number=3)
    row = t.cells.loc["One factor"]
    cfi = sim_fit.loc["One factor", "cfi"]
    assert row["CFI"] == f"{cfi:.3f}"[1:]
    assert row["*p*"] == "< .001"
    assert t.cells.loc["Two factors", "*p*"] == ".046"
    assert t.cells.loc["Two factors", "TLI"] == "1.004"  # TLI above 1 written in full
    r = sim_fit.loc["Three factors", "rmsea"]
    lo, hi = r - 0.012345, r + 0.015678
    def apa3(v):
        return f"{v:.3f}".removeprefix("0")

    assert t.cells.loc["Three factors", "RMSEA [90% CI]"] == f"{apa3(r)} [{apa3(lo)}, {apa3(hi)}]"
    chisq = sim_fit.loc["One factor", "chisq"]
    assert row["χ²"] == f"{chisq:,.2f}"
    assert list(t.cells.columns) == ["χ²", "*df*", "*p*", "CFI", "TLI", "RMSEA [90% CI]", "SRMR"]


def test_fit_table_from_series_and_error():
    s = pd.Series({"chisq": 10.0, "df": 5, "cfi": 0.99}, name="M1")
    t = fit_table(s)
    assert t.cells.index.tolist() == ["M1"]
    with pytest.raises(SpecificationError, match="none of the known fit indices"):
        fit_table(pd.DataFrame({"foo": [1.0]}))


def test_exports_contain_the_numbers(sim_fit, tmp_path):
    t = fit_table(sim_fit, number=4, title="Fit of Competing Models")
    cfi = f"{sim_fit.loc['One factor', 'cfi']:.3f}"[1:]
    md, tex, html_frag, word = t.to_markdown(), t.to_latex(), t._repr_html_(), t.to_html(word=True)
    for text in (md, tex, html_frag, word):
        assert cfi in text
        assert "1.004" in text
    # markdown: number, italic title, pipe table, note
    assert md.startswith("**Table 4**\n\n*Fit of Competing Models*")
    assert "| Model | χ² | *df* |" in md
    assert "*Note.* CFI = comparative fit index" in md
    # LaTeX: booktabs, escaped symbols, caption
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "\\caption{Fit of Competing Models}" in tex
    assert "$\\chi^2$" in tex and "$<$ .001" in tex
    assert "|" not in tex.split("\\begin{tabular}")[1].split("}")[0]  # no vertical rules
    # HTML: APA look
    assert "<p" in html_frag and "font-weight:bold;\">Table 4</p>" in html_frag
    assert "font-style:italic;\">Fit of Competing Models</p>" in html_frag
    assert "<i>Note.</i>" in html_frag
    assert "border-left" not in html_frag and "border-right" not in html_frag
    assert "&lt; .001" in html_frag
    assert word.startswith("<!DOCTYPE html>") and "font-size:12pt" in word
    # save by suffix
    for suffix in (".md", ".tex", ".html", ".csv"):
        path = t.save(tmp_path / "sub" / f"fit{suffix}")
        assert path.exists() and path.stat().st_size > 0
    assert (tmp_path / "sub" / "fit.html").read_text(encoding="utf-8") == word
    back = pd.read_csv(tmp_path / "sub" / "fit.csv", index_col=0)
    np.testing.assert_allclose(back["cfi"], sim_fit["cfi"], rtol=1e-14)
    with pytest.raises(SpecificationError, match="unknown suffix"):
        t.save(tmp_path / "fit.xlsx")


def test_with_number_and_notes(sim_fit):
    t = fit_table(sim_fit).with_number(7).with_notes("Estimator: ML.")
    assert t.number == 7 and t.notes[-1] == "Estimator: ML."
    assert "**Table 7**" in t.to_markdown()
    assert "Table 7" in t.to_latex(float_env=False)
    assert "\\begin{table}" not in t.to_latex(float_env=False)


def test_negative_numbers_use_minus_sign_everywhere():
    df = pd.DataFrame({"r": [-0.25]}, index=["x"])
    t = apa_table(df, "Neg", formats={"r": "prop:2"})
    assert t.cells.iloc[0, 0] == MINUS + ".25"
    assert "$-$.25" in t.to_latex()
    assert MINUS + ".25" in t.to_html()


def test_spanner_must_be_consecutive():
    df = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    with pytest.raises(SpecificationError, match="consecutive"):
        apa_table(df, "x", spanners=[("S", ("a", "c"))])


# --------------------------------------------------------------------------- item table on real data
@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")


def _item_stats(df: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    """Item statistics computed here with pandas (corrected item-total r, alpha if deleted)."""
    rows = []
    for construct, items in groups.items():
        x = df[items]
        total = x.sum(axis=1)
        for item in items:
            rest = x.drop(columns=item)
            k = rest.shape[1]
            alpha = k / (k - 1) * (1 - rest.var().sum() / rest.sum(axis=1).var())
            rows.append({
                "item": item, "construct": construct, "n": int(x[item].notna().sum()),
                "mean": x[item].mean(), "sd": x[item].std(), "skew": x[item].skew(),
                "kurtosis": x[item].kurt(), "r_drop": x[item].corr(total - x[item]),
                "alpha_if_deleted": alpha, "extra_stat": 1.23456,
            })
    return pd.DataFrame(rows).set_index("item")


def test_item_table_real_data(mobi):
    groups = {"IMAG": [f"IMAG{i}" for i in range(1, 6)], "CUEX": ["CUEX1", "CUEX2", "CUEX3"]}
    stats = _item_stats(mobi, groups)
    t = item_table(stats, construct_labels={"IMAG": "Image", "CUEX": "Expectation"}, number=1)
    assert t.group_rows == (0, 6)
    assert t.cells.index.tolist() == ["Image", *groups["IMAG"], "Expectation", *groups["CUEX"]]
    assert t.cells.loc["IMAG1", "*M*"] == f"{mobi['IMAG1'].mean():.2f}"
    r = stats.loc["CUEX3", "r_drop"]
    expected = format_number(r, 2, bounded=True)
    assert t.cells.loc["CUEX3", "Corrected item–total *r*"] == expected
    assert not expected.startswith("0")
    assert "extra_stat" not in " ".join(t.cells.columns)  # not a default column ...
    assert t.to_frame().loc["IMAG1", "extra_stat"] == 1.23456  # ... but kept in the frame
    t2 = item_table(stats, columns=["mean", "extra_stat"])
    assert t2.cells.loc["IMAG1", "extra_stat"] == "1.23"
    html = t.to_html()
    assert "padding-left:2em" in html  # items indented under their construct
    assert "<i>Image</i>" in html


def test_item_table_accepts_psych_names_and_single_scale():
    stats = pd.DataFrame({"r.drop": [0.5, 0.6], "mean": [1.0, 2.0]}, index=["a", "b"])
    t = item_table(stats)
    assert t.cells.loc["a", "Corrected item–total *r*"] == ".50"
    one = pd.DataFrame({"construct": ["scale", "scale"], "mean": [1.0, 2.0]}, index=["a", "b"])
    assert item_table(one).group_rows == ()
    with pytest.raises(SpecificationError, match="not in the item statistics"):
        item_table(stats, columns=["nope"])


# --------------------------------------------------------------------------- loadings
def test_loadings_table_long():
    lam = pd.DataFrame({
        "construct": ["VAL"] * 3 + ["SAT"] * 2, "item": ["V1", "V2", "V3", "S1", "S2"],
        "std_estimate": [0.81234, 0.7649, -0.4, 0.9, 1.02], "se": [0.03, 0.04, 0.05, 0.02, 0.01],
        "pvalue": [0.0, 0.0, 0.0012, 0.0, 0.0],
    })
    t = loadings_table(lam, cr=pd.Series({"VAL": 0.75, "SAT": 0.95}), ave={"VAL": 0.5, "SAT": 0.9})
    assert t.group_rows == (0, 4)
    assert t.cells.loc["V1", "Loading"] == ".81"
    assert t.cells.loc["V3", "Loading"] == MINUS + ".40"
    assert t.cells.loc["S2", "Loading"] == "1.02"
    assert t.cells.loc["V3", "*p*"] == ".001"
    assert t.cells.iloc[0]["CR"] == ".75" and t.cells.iloc[4]["AVE"] == ".90"
    assert t.cells.loc["V1", "CR"] == ""
    assert t.to_frame()["std_estimate"].iloc[0] == 0.81234
    assert t.to_frame().loc[0, "cr"] == 0.75
    with pytest.raises(SpecificationError, match="no loadings"):
        loadings_table(lam, cr={"OTHER": 0.7})


def test_loadings_table_multiindex_and_wide():
    idx = pd.MultiIndex.from_tuples([("F1", "a"), ("F1", "b"), ("F2", "c")])
    t = loadings_table(pd.DataFrame({"loading": [0.7, 0.6, 0.8]}, index=idx))
    assert t.cells.index.tolist() == ["F1", "a", "b", "F2", "c"]
    wide = pd.DataFrame({"MR1": [0.8, 0.05, 0.3], "MR2": [-0.1, 0.7, 0.25], "h2": [0.6, 0.5, 0.2]},
                        index=["x1", "x2", "x3"])
    t = loadings_table(wide, cr={"MR1": 0.8}, blank_below=0.3)
    assert t.cells.loc["x1", "MR2"] == ""  # |-.10| < .30
    assert t.cells.loc["x3", "MR1"] == ".30"  # not below
    assert t.cells.loc["CR", "MR1"] == ".80"
    assert t.cells.loc["x1", "*h*²"] == ".60"
    assert t.to_frame().loc["x1", "MR2"] == -0.1
    with pytest.raises(SpecificationError, match="both 'construct' and 'item'"):
        loadings_table(pd.DataFrame({"construct": ["A"], "loading": [0.5]}))


# --------------------------------------------------------------------------- discriminant validity
def _corr_matrix(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 4)) @ np.array(
        [[1, 0.6, 0.3, 0.2], [0, 0.8, 0.4, 0.1], [0, 0, 0.9, 0.5], [0, 0, 0, 0.9]]
    )
    names = ["IMAG", "CUEX", "PERQ", "CUSA"]
    return pd.DataFrame(np.corrcoef(x, rowvar=False), index=names, columns=names)


def test_fornell_larcker_table():
    r = _corr_matrix()
    ave = {"IMAG": 0.3, "CUEX": 0.6, "PERQ": 0.7, "CUSA": 0.8}
    t = discriminant_table(r, ave=ave)
    assert t.cells.index.tolist() == ["1. IMAG", "2. CUEX", "3. PERQ", "4. CUSA"]
    assert t.cells.iloc[0, 0] == f"**{format_number(np.sqrt(0.3), 2, bounded=True)}**"
    assert t.cells.iloc[2, 1] == format_number(r.iloc[2, 1], 2, bounded=True)
    assert t.cells.iloc[1, 2] == ""  # upper triangle blank
    fails = [f"{r.columns[j]}–{r.columns[i]}" for i in range(4) for j in range(i)
             if abs(r.iloc[i, j]) >= min(np.sqrt(ave[r.columns[i]]), np.sqrt(ave[r.columns[j]]))]
    if fails:
        assert t.notes[-1].endswith(", ".join(fails) + ".")
    else:
        assert "not met" not in " ".join(t.notes)
    same = discriminant_table(r, diag={k: np.sqrt(v) for k, v in ave.items()})
    assert same.cells.equals(t.cells)
    assert "<b>" in t.to_html() and "\\textbf{" in t.to_latex()
    with pytest.raises(DataValidationError, match="AVE must lie"):
        discriminant_table(r, ave={"IMAG": 1.3})


def test_htmt_table_keeps_leading_zero_and_brackets():
    r = _corr_matrix().abs()
    r.iloc[3, 0] = r.iloc[0, 3] = 1.0712
    up = r + 0.0567
    t = discriminant_table(r, kind="htmt", ci_high=up, threshold=0.85)
    v = r.iloc[2, 1]
    assert t.cells.iloc[2, 1] == f"{v:.2f} [{v + 0.0567:.2f}]"
    assert t.cells.iloc[2, 1].startswith("0.")
    assert t.cells.iloc[3, 0].startswith("1.07")
    assert t.cells.iloc[1, 1] == "—"
    assert "IMAG–CUSA" in t.notes[-1]
    with pytest.raises(SpecificationError, match="square"):
        discriminant_table(r.iloc[:, :3], kind="htmt")
    with pytest.raises(SpecificationError, match="kind must be"):
        discriminant_table(r, kind="htmt2")


# --------------------------------------------------------------------------- invariance / reliability
def test_invariance_table():
    inv = pd.DataFrame({
        "level": ["configural", "metric", "scalar"], "chisq": [120.5, 131.2, 160.8], "df": [48, 54, 60],
        "cfi": [0.962, 0.958, 0.941], "rmsea": [0.061, 0.059, 0.066],
        "chisq_diff": [np.nan, 10.7, 29.6], "df_diff": [np.nan, 6, 6],
        "p_diff": [np.nan, 0.098, 0.00004], "cfi_diff": [np.nan, -0.004, -0.017],
        "rmsea_diff": [np.nan, -0.002, 0.007], "decision": [True, True, False],
    })
    t = invariance_table(inv)
    assert t.cells.index.tolist() == ["configural", "metric", "scalar"]
    assert t.cells.loc["scalar", "ΔCFI"] == MINUS + ".017"
    assert t.cells.loc["configural", "ΔCFI"] == ""
    assert t.cells.loc["scalar", "Decision"] == "Not supported"
    assert [s[0] for s in t.spanners] == ["Model fit", "Comparison with previous model"]
    tex = t.to_latex()
    assert "\\cmidrule(lr){2-5}" in tex and "$\\Delta\\chi^2$" in tex
    assert 'colspan="4"' in t.to_html()


def test_reliability_table():
    rel = pd.DataFrame({"raw_alpha": [0.8512, 0.6], "alpha_ci_low": [0.82, 0.5],
                        "alpha_ci_high": [0.88, 0.7], "k": [5, 3], "ave": [0.5, 0.41]},
                       index=["IMAG", "CUEX"])
    t = reliability_table(rel, construct_labels={"IMAG": "Image"})
    assert list(t.cells.columns) == ["*k*", "α [95% CI]", "AVE"]
    assert t.cells.loc["Image", "α [95% CI]"] == ".85 [.82, .88]"
    assert t.to_frame().loc["IMAG", "alpha"] == 0.8512


def test_apatable_is_a_result():
    t = apa_table(pd.DataFrame({"a": [0.5]}), "T")
    assert isinstance(t, APATable)
    assert "T" in str(t) and "0.50" in str(t)


# --------------------------------------------------------------------------- results of other custval modules
def test_loadings_table_from_parameter_table():
    """A lavaan parameterEstimates-like frame (values of lavaan's HS39 three-factor model)."""
    pe = pd.DataFrame({
        "lhs": ["visual", "visual", "visual", "visual"], "op": ["=~", "=~", "=~", "~~"],
        "rhs": ["x1", "x2", "x3", "x1"], "free": [0, 1, 2, 3], "est": [1.0, 0.554, 0.729, 0.549],
        "se": [0.0, 0.100, 0.109, 0.114], "p_value": [np.nan, 2.9e-8, 2.7e-11, 1e-6],
        "ci_low": [1.0, 0.358, 0.516, 0.3], "ci_high": [1.0, 0.749, 0.943, 0.8],
        "std_all": [0.772, 0.424, 0.581, 0.404],
    })
    t = loadings_table(pe, cr={"visual": 0.61}, ave={"visual": 0.37})
    assert list(t.cells.columns) == ["*B*", "*SE*", "95% CI", "β", "*p*", "CR", "AVE"]
    assert t.cells.index.tolist() == ["visual", "x1", "x2", "x3"]  # the ~~ row is not a loading
    assert t.cells.loc["x1", "*SE*"] == "" and t.cells.loc["x1", "95% CI"] == ""  # fixed marker
    assert t.cells.loc["x2", "*B*"] == "0.55" and t.cells.loc["x2", "β"] == ".42"
    assert t.cells.loc["x2", "95% CI"] == "[0.36, 0.75]"  # unstandardized: leading zero kept
    assert "fixed for identification" in " ".join(t.notes)
    assert t.to_frame().loc[0, "se"] == 0.0  # the frame keeps lavaan's values


def test_fit_table_with_lavaan_duplicates():
    fm = pd.Series({"chisq": 85.306, "df": 24.0, "pvalue": 8.5e-9, "cfi": 0.931, "tli": 0.896,
                    "nnfi": 0.896, "rmsea": 0.092, "srmr": 0.065}, name="HS")
    t = fit_table(fm)
    assert t.cells.loc["HS", "TLI"] == ".896"


def test_discriminant_table_from_result_objects():
    from types import SimpleNamespace

    names = ["visual", "textual", "speed"]
    m = pd.DataFrame([[1, 0.42, 0.47], [0.42, 1, 0.29], [0.47, 0.29, 1]], index=names, columns=names)
    tab = pd.DataFrame({"construct_a": ["visual", "visual", "textual"],
                        "construct_b": ["textual", "speed", "speed"],
                        "estimate": [0.42, 0.47, 0.29], "upper_bound": [0.55, 0.58, 0.40]})
    # a result declares its kind (custval's table protocol); the builder does not guess it from columns
    res = SimpleNamespace(_table_kind="htmt", matrix=m, table=tab, n_boot=200, ci=0.95, thresholds=(0.85, 0.90))
    t = discriminant_table(res)
    assert t.cells.iloc[2, 1] == "0.29 [0.40]"
    assert "one-sided 95%" in " ".join(t.notes)
    fl_m = pd.DataFrame([[0.61, 0.46, 0.63], [0.46, 0.85, 0.28], [0.63, 0.28, 0.66]],
                        index=names, columns=names)
    fl = SimpleNamespace(_table_kind="fornell_larcker", matrix=fl_m,
                         table=pd.DataFrame({"construct": names, "sqrt_ave": [0.61, 0.85, 0.66]}))
    t = discriminant_table(fl)
    assert [t.cells.iloc[i, i] for i in range(3)] == ["**.61**", "**.85**", "**.66**"]
    assert t.notes[-1] == "The Fornell–Larcker criterion is not met for: visual–speed."


def test_invariance_table_model_p_and_difference_p():
    inv = pd.DataFrame({"level": ["configural", "metric"], "chisq": [115.9, 124.0], "df": [48, 54],
                        "pvalue": [1e-7, 2e-7], "p_value": [np.nan, 0.224], "delta_cfi": [np.nan, -0.002],
                        "verdict": ["baseline", "holds"]})
    t = invariance_table(inv)
    assert t.cells.loc["metric", "*p*"] == ".224"
    assert t.cells.loc["metric", "Decision"] == "holds"


def test_reliability_table_omega_ci_and_columns():
    rel = pd.DataFrame({"n": [2432], "n_items": [5], "alpha": [0.814], "omega_total": [0.819],
                        "omega_ci_low": [0.80], "omega_ci_high": [0.83], "std_alpha": [0.815]},
                       index=["N"])
    t = reliability_table(rel)
    assert t.cells.loc["N", "ω total [95% CI]"] == ".82 [.80, .83]"
    assert t.cells.loc["N", "*n*"] == "2,432"
    t2 = reliability_table(rel, columns=["omega_total", "alpha"])
    assert list(t2.cells.columns) == ["ω total [95% CI]", "α"]
    with pytest.raises(SpecificationError, match="cannot show"):
        reliability_table(rel, columns=["cr"])


def test_construct_labels_from_codebook_shapes():
    from types import SimpleNamespace

    from custval.tables import construct_label_map

    inst = SimpleNamespace(
        constructs={"IMAG": ("IMAG1",), "CUEX": ("CUEX1",)},
        construct=lambda cid: SimpleNamespace(label={"en": {"IMAG": "Image", "CUEX": "Expectation"}[cid],
                                                     "fi": "x"}),
    )
    assert construct_label_map(inst) == {"IMAG": "Image", "CUEX": "Expectation"}
    assert construct_label_map(inst, lang="fi") == {"IMAG": "x", "CUEX": "x"}
    stats = pd.DataFrame({"construct": ["IMAG", "CUEX"], "mean": [7.6, 7.5]}, index=["IMAG1", "CUEX1"])
    assert item_table(stats, construct_labels=inst).cells.index.tolist() == ["Image", "IMAG1", "Expectation", "CUEX1"]
    with pytest.raises(SpecificationError, match="construct_labels"):
        construct_label_map(["IMAG"])


def test_fit_table_shows_the_requested_mlr_version_and_says_so():
    # lavaan fitMeasures names of an MLR fit (values simulated for the test)
    fit = pd.Series({"chisq": 100.0, "df": 24, "pvalue": 0.001, "cfi": 0.90, "tli": 0.85,
                     "rmsea": 0.10, "srmr": 0.06, "chisq.scaled": 90.0, "pvalue.scaled": 0.002,
                     "cfi.scaled": 0.91, "tli.scaled": 0.86, "rmsea.scaled": 0.095,
                     "cfi.robust": 0.92, "tli.robust": 0.88, "rmsea.robust": 0.09})
    standard = tables.fit_table(fit)
    robust = tables.fit_table(fit, version="robust")
    scaled = tables.fit_table(fit, version="scaled")
    assert standard.cells.iloc[0]["CFI"] == ".900"
    assert robust.cells.iloc[0]["CFI"] == ".920" and robust.cells.iloc[0]["χ²"] == "90.00"
    assert scaled.cells.iloc[0]["CFI"] == ".910" and scaled.cells.iloc[0]["RMSEA"] == ".095"
    assert any("robust versions" in n for n in robust.notes)
    with pytest.raises(SpecificationError, match="version"):
        tables.fit_table(fit, version="bogus")
    with pytest.raises(SpecificationError, match="MLR"):
        tables.fit_table(fit.drop([k for k in fit.index if "." in k]), version="robust")
