"""Figures: the expected artists are drawn and PNG + SVG files are written.

Inputs are small seeded simulated frames (labelled simulated) or the real
mobi / bfi answers read with pandas.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from custval import plots
from custval._io.paths import RAW_DATA_DIR
from custval.exceptions import DataValidationError, SpecificationError
from custval.tables import MINUS


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(RAW_DATA_DIR / "mobi" / "mobi.csv")


class FakeItem:
    def __init__(self, text):
        self.text = {"en": text}


class FakeInstrument:
    """Duck-typed stand-in for custval.codebook.Instrument (the contract in the team brief)."""

    scale_min, scale_max = 1, 10
    constructs = {"IMAG": ("IMAG1", "IMAG2", "IMAG3"), "CUEX": ("CUEX1", "CUEX2")}
    reverse_items = frozenset({"CUEX2"})

    @property
    def items(self):
        return tuple(i for its in self.constructs.values() for i in its)

    def scale_labels(self, lang="en"):
        return {1: "Totally disagree", 10: "Totally agree"}

    def item(self, iid):
        return FakeItem(f"Wording of {iid}")


# --------------------------------------------------------------------------- Likert
def _segment_widths(ax) -> np.ndarray:
    """categories x items matrix of bar widths (percent)."""
    return np.array([[p.get_width() for p in c.patches] for c in ax.containers])


def test_likert_bars_percentages_and_centre(mobi):
    items = ["CUEX1", "CUEX2", "CUEX3"]
    ax = plots.likert_bars(mobi, items, scale=(1, 10))
    assert len(ax.containers) == 10 and all(len(c) == 3 for c in ax.containers)
    widths = _segment_widths(ax)
    expected = np.array([[np.mean(mobi[i] == code) * 100 for i in items] for code in range(1, 11)])
    np.testing.assert_allclose(widths, expected, atol=1e-12)
    # each bar starts at minus the share of codes 1..5 (even scale: no neutral category)
    lefts = np.array([p.get_x() for p in ax.containers[0].patches])
    np.testing.assert_allclose(lefts, -expected[:5].sum(axis=0), atol=1e-12)
    # order: first item on top
    assert [t.get_text() for t in ax.get_yticklabels()] == items
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    # totals annotated on both sides
    texts = {t.get_text() for t in ax.texts}
    assert f"{expected[5:, 2].sum():.0f}%" in texts
    legend = ax.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [str(c) for c in range(1, 11)]


def test_likert_bars_odd_scale_splits_neutral():
    rng = np.random.default_rng(3)  # simulated 5-point answers
    df = pd.DataFrame({"a": rng.integers(1, 6, 200), "b": rng.integers(1, 6, 200)})
    ax = plots.likert_bars(df, ["a", "b"], scale=(1, 5), labels={3: "Neutral"})
    pct = np.array([[np.mean(df[c] == k) * 100 for c in "ab"] for k in range(1, 6)])
    first_start = np.array([p.get_x() for p in ax.containers[0].patches])
    np.testing.assert_allclose(first_start, -(pct[:2].sum(axis=0) + pct[2] / 2), atol=1e-12)
    neutral_start = np.array([p.get_x() for p in ax.containers[2].patches])
    np.testing.assert_allclose(neutral_start, -pct[2] / 2, atol=1e-12)  # centred on 0
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "3 = Neutral" in labels and "1" in labels


def test_likert_bars_with_instrument(mobi):
    inst = FakeInstrument()
    ax = plots.likert_bars(mobi, inst, wording=True)
    assert len(ax.containers[0]) == 5
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0].startswith("IMAG1") and "Wording of IMAG1" in ticks[0]
    assert ticks[4].startswith("CUEX2 (R)")
    assert len(ax.lines) >= 2  # zero line + construct separator
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "1 = Totally disagree" in labels and "10 = Totally agree" in labels
    one = plots.likert_bars(mobi, inst, construct="CUEX")
    assert len(one.containers[0]) == 2 and one.get_title(loc="left") == "CUEX"


def test_likert_bars_missing_values_show_n():
    df = pd.DataFrame({"a": [1, 2, 3, np.nan], "b": [4, 4, 1, 2]})  # simulated
    ax = plots.likert_bars(df, ["a", "b"], scale=(1, 4))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (n = 3)", "b (n = 4)"]
    np.testing.assert_allclose(_segment_widths(ax)[:, 0], [100 / 3, 100 / 3, 100 / 3, 0])


def test_likert_bars_errors(mobi):
    with pytest.raises(SpecificationError, match="scale="):
        plots.likert_bars(mobi, ["CUEX1"])
    with pytest.raises(DataValidationError, match="not columns"):
        plots.likert_bars(mobi, ["NOPE"], scale=(1, 10))
    bad = mobi[["CUEX1"]].copy()
    bad.loc[7, "CUEX1"] = -99
    with pytest.raises(DataValidationError, match=r"'CUEX1'.*rows \(0-based positions\) \[7\].*-99"):
        plots.likert_bars(bad, ["CUEX1"], scale=(1, 10))
    with pytest.raises(SpecificationError, match="not in the instrument"):
        plots.likert_bars(mobi, FakeInstrument(), construct="XX")


# --------------------------------------------------------------------------- scree
def test_scree_plot_suggestion_and_lines():
    obs = [3.2, 1.6, 1.05, 0.6, 0.3]  # simulated eigenvalues
    mean = [1.3, 1.15, 1.0, 0.9, 0.8]
    q95 = [1.4, 1.25, 1.1, 0.95, 0.85]
    ax = plots.scree_plot(obs, simulated=mean, quantile=q95, kind="pca")
    assert len(ax.lines) >= 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), obs)
    # 1.05 > mean 1.0 but < q95 1.1: the quantile is the reference -> 2
    assert [t.get_text() for t in ax.texts] == ["2 components suggested"]
    ax2 = plots.scree_plot(obs, simulated=mean, kind="fa")
    assert [t.get_text() for t in ax2.texts] == ["3 factors suggested"]
    ax3 = plots.scree_plot(obs, kind="fa")  # no reference: no suggestion
    assert len(ax3.texts) == 0
    with pytest.raises(SpecificationError, match="has 2 values"):
        plots.scree_plot(obs, simulated=[1, 2])


def test_scree_plot_from_parallel_frame():
    ev = pd.DataFrame({"fa_observed": [2.0, 0.5, 0.1], "fa_simulated_mean": [0.3, 0.2, 0.1],
                       "fa_simulated_q": [0.4, 0.3, 0.2]}, index=[1, 2, 3])  # simulated
    ax = plots.scree_plot(ev)
    assert [t.get_text() for t in ax.texts] == ["2 factors suggested"]
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [0.4, 0.3, 0.2])


# --------------------------------------------------------------------------- heatmaps
def _annotations(ax):
    return [t.get_text() for t in ax.texts if t.get_gid() == "custval-annotation"]


def test_loadings_heatmap_annotations_and_limits():
    lam = pd.DataFrame({"F1": [0.81, 0.7, 0.1, -0.44], "F2": [0.05, 0.25, 0.66, 0.3]},
                       index=["a", "b", "c", "d"])  # simulated
    ax = plots.loadings_heatmap(lam, blank_below=0.2)
    assert sorted(_annotations(ax)) == sorted([".81", ".70", MINUS + ".44", ".25", ".66", ".30"])
    mesh = ax.collections[0]
    assert mesh.get_clim() == (-1, 1)
    assert plots.loadings_heatmap(lam).texts and len(_annotations(plots.loadings_heatmap(lam))) == 8


def test_loadings_heatmap_long_form():
    long = pd.DataFrame({"construct": ["A", "A", "B"], "item": ["x", "y", "z"], "std_estimate": [0.7, 0.8, 0.9]})
    ax = plots.loadings_heatmap(long)
    assert sorted(_annotations(ax)) == [".70", ".80", ".90"]  # empty cells not annotated
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]


def test_htmt_heatmap_threshold_outline():
    names = ["A", "B", "C", "D"]
    h = pd.DataFrame([[1, 0.5, 0.9, 0.2], [0.5, 1, 0.86, 1.02], [0.9, 0.86, 1, 0.4],
                      [0.2, 1.02, 0.4, 1]], index=names, columns=names)  # simulated
    ax = plots.htmt_heatmap(h, threshold=0.85)
    outlines = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "custval-above-threshold"]
    assert len(outlines) == 3  # .90, .86, 1.02
    assert sorted(_annotations(ax)) == sorted(["0.50", "0.90", "0.86", "0.20", "1.02", "0.40"])
    assert len(plots.htmt_heatmap(h, threshold=0.95).patches) == 1
    with pytest.raises(SpecificationError, match="square"):
        plots.htmt_heatmap(h.iloc[:, :3])


# --------------------------------------------------------------------------- invariance
def test_invariance_plot_bars_and_criteria():
    inv = pd.DataFrame({"level": ["configural", "metric", "scalar", "strict"],
                        "delta_cfi": [np.nan, -0.004, -0.017, -0.002],
                        "delta_rmsea": [np.nan, 0.001, 0.02, 0.0]})  # simulated
    fig = plots.invariance_plot(inv)
    ax_cfi, ax_rmsea = fig.axes
    assert len(ax_cfi.patches) == 3
    np.testing.assert_allclose([p.get_height() for p in ax_cfi.patches], [-0.004, -0.017, -0.002])
    hatched = [p.get_hatch() for p in ax_cfi.patches]
    assert hatched == [None, "//", None]
    ys = {round(line.get_ydata()[0], 6) for line in ax_cfi.lines}
    assert -0.01 in ys
    assert {round(line.get_ydata()[0], 6) for line in ax_rmsea.lines} >= {0.015}
    assert [t.get_text() for t in ax_cfi.get_xticklabels()] == ["Configural", "Metric", "Scalar", "Strict"]
    assert (ax_cfi.get_title(loc="left"), ax_rmsea.get_title(loc="left")) == ("ΔCFI", "ΔRMSEA")
    assert ax_cfi.get_ylabel().startswith("ΔCFI") and ax_rmsea.get_ylabel().startswith("ΔRMSEA")
    only_cfi = plots.invariance_plot(inv.drop(columns="delta_rmsea"))
    assert len(only_cfi.axes) == 1
    with pytest.raises(SpecificationError, match="delta_cfi"):
        plots.invariance_plot(inv.drop(columns=["delta_cfi"]))


# --------------------------------------------------------------------------- saving
def test_save_figure_png_and_svg(tmp_path, mobi):
    ax = plots.likert_bars(mobi, ["CUSL1", "CUSL2"], scale=(1, 10))
    paths = plots.save_figure(ax, "likert_cusl.png", directory=tmp_path / "figs")
    assert [p.name for p in paths] == ["likert_cusl.png", "likert_cusl.svg"]
    png, svg = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "CUSL2" in text  # text kept as text
    first = svg.read_bytes()
    plots.save_figure(ax, "likert_cusl", directory=tmp_path / "figs", formats=("svg",))
    assert svg.read_bytes() == first  # deterministic SVG
    with pytest.raises(SpecificationError, match="Figure or Axes"):
        plots.save_figure("not a figure", "x", directory=tmp_path)


def test_save_figure_default_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(plots._paths, "FIGURES_DIR", tmp_path / "reports" / "figures")
    fig, ax = plt.subplots()
    paths = plots.save_figure(fig, "blank")
    assert all(p.parent == tmp_path / "reports" / "figures" and p.exists() for p in paths)


def test_style_does_not_leak():
    before = dict(matplotlib.rcParams)
    plots.scree_plot([2.0, 1.0, 0.5], simulated=[1.1, 1.0, 0.9])
    assert dict(matplotlib.rcParams) == before


def test_likert_bars_rejects_text_codes():
    df = pd.DataFrame({"a": ["1", "2", "3"]})
    with pytest.raises(DataValidationError, match="numeric response codes"):
        plots.likert_bars(df, ["a"], scale=(1, 5))
    half = pd.DataFrame({"a": [1.0, 2.5, 3.0]})
    with pytest.raises(DataValidationError, match=r"rows \(0-based positions\) \[1\]"):
        plots.likert_bars(half, ["a"], scale=(1, 5))


def test_scree_plot_none_suggested():
    ax = plots.scree_plot([0.9, 0.5, 0.2], simulated=[1.0, 0.9, 0.8], kind="pca")
    assert [t.get_text() for t in ax.texts] == ["No component exceeds the reference"]
