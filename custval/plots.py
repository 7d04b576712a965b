"""Publication figures for survey validation, drawn with matplotlib and seaborn.

* :func:`likert_bars` — diverging stacked bars of the answers, one bar per item;
* :func:`scree_plot` — eigenvalues with the parallel-analysis reference line;
* :func:`loadings_heatmap` — a loading matrix, annotated, diverging around 0;
* :func:`htmt_heatmap` — HTMT ratios (lower triangle), values above a threshold outlined;
* :func:`invariance_plot` — ΔCFI (and ΔRMSEA) across invariance levels with Chen's criteria;
* :func:`simple_slopes_plot` — simple-slope lines of a PLS moderation;
* :func:`ipma_map` — importance-performance map of a PLS fit;
* :func:`save_figure` — PNG (200 dpi) and SVG into ``reports/figures/``.

Every function draws inside custval's style context (no global ``rcParams``
change), uses colour-blind-safe palettes, and returns the Axes (or Figure) so
that it can be adjusted further.  Numbers in annotations follow APA style
(no leading zero for statistics bounded by 1); nothing is rounded except the
printed text.  The functions work with the non-interactive Agg backend.

Options every plotting function shares (keyword-only):

ax : matplotlib Axes or None, default None
    Draw into this Axes (None: a new figure and Axes).
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch, Rectangle

from ._io import paths as _paths
from ._style import (
    DIVERGING_CMAP,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    likert_colors,
    style,
    text_color,
)
from .exceptions import DataValidationError, SpecificationError
from .tables import format_number

__all__ = [
    "htmt_heatmap",
    "invariance_plot",
    "ipma_map",
    "likert_bars",
    "loadings_heatmap",
    "save_figure",
    "scree_plot",
    "simple_slopes_plot",
]


# --------------------------------------------------------------------------- saving
def save_figure(fig, name: str, *, directory=None, formats: Sequence[str] = ("png", "svg"),
                dpi: int = 200) -> tuple[Path, ...]:
    """Save a figure as PNG and SVG.

    Parameters
    ----------
    fig : Figure or Axes
        What to save (an Axes saves its figure).
    name : str
        File name without suffix (a given ``.png``/``.svg`` suffix is dropped).
    directory : path, optional
        Target folder, created if needed.  Default:
        ``custval._io.paths.FIGURES_DIR`` (``reports/figures/``).
    formats : sequence of str
        File types written.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    tuple of Path
        The files written, in the order of ``formats``.

    See Also
    --------
    custval.report.show_figure : Save, show once and close.

    Notes
    -----
    SVG text is kept as text and element ids are seeded, and no creation date
    is written, so re-running a notebook gives identical SVG files.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([1, 2, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = save_figure(fig, "example", directory=tmp)
    ...     print([p.name for p in paths])
    ['example.png', 'example.svg']
    >>> plt.close(fig)
    >>> # In R: ggplot2::ggsave("example.png", dpi = 200); ggplot2::ggsave("example.svg")
    """
    if isinstance(fig, mpl.axes.Axes):
        fig = fig.figure
    if not isinstance(fig, mpl.figure.Figure):
        raise SpecificationError(f"save_figure needs a matplotlib Figure or Axes; got {type(fig).__name__}.")
    stem = Path(str(name))
    if stem.suffix.lower() in (".png", ".svg", ".pdf"):
        stem = stem.with_suffix("")
    folder = Path(directory) if directory is not None else _paths.FIGURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        fmt = fmt.lower().lstrip(".")
        path = folder / f"{stem.name}.{fmt}"
        meta = {"Software": None} if fmt == "png" else {"Date": None}
        with style():
            fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        out.append(path)
    return tuple(out)


# --------------------------------------------------------------------------- Likert bars
def _resolve_items(instrument_or_items, construct, scale, labels, lang):
    """Items, scale (min, max), category labels and wording from an Instrument or a list."""
    wording: dict[str, str] = {}
    title = None
    reverse: frozenset[str] = frozenset()
    blocks: list[int] = []
    if hasattr(instrument_or_items, "constructs") and hasattr(instrument_or_items, "scale_min"):
        inst = instrument_or_items
        reverse = frozenset(getattr(inst, "reverse_items", ()) or ())
        if construct is not None:
            if construct not in inst.constructs:
                raise SpecificationError(
                    f"construct {construct!r} is not in the instrument; constructs: {list(inst.constructs)}."
                )
            items = list(inst.constructs[construct])
            title = construct
            if hasattr(inst, "construct"):
                try:
                    lab = getattr(inst.construct(construct), "label", None)
                    if isinstance(lab, Mapping):
                        lab = lab.get(lang) or next(iter(lab.values()), None)
                    if lab:
                        title = str(lab)
                except (AttributeError, KeyError, TypeError):  # a label is optional decoration
                    title = construct
        else:
            items = [i for its in inst.constructs.values() for i in its]
            blocks = list(np.cumsum([len(its) for its in inst.constructs.values()])[:-1])
        own = getattr(inst, "item_scale", None)
        if scale is None and own is not None:  # the items' own scale (codebook scale: per construct/item)
            scales = {(own(i).min, own(i).max) for i in items}
            if len(scales) > 1:
                raise SpecificationError(
                    f"the items are answered on different scales ({', '.join(f'{a}..{b}' for a, b in sorted(scales))}); "
                    "plot one construct at a time (construct=) or pass scale=(min, max).")
            scale = scales.pop()
            if labels is None and hasattr(inst, "scale_labels"):
                labels = dict(inst.scale_labels(lang, item=items[0]) or {})
        if scale is None:
            scale = (inst.scale_min, inst.scale_max)
        if labels is None and hasattr(inst, "scale_labels"):
            labels = dict(inst.scale_labels(lang) or {})
        for iid in items:
            try:
                text = inst.item(iid).text
                text = text.get(lang) if isinstance(text, Mapping) else text
                if text:
                    wording[iid] = str(text)
            except (AttributeError, KeyError):
                pass
    else:
        if isinstance(instrument_or_items, str):
            raise SpecificationError("give a list of item names (or an Instrument), not a single string.")
        items = [str(i) for i in instrument_or_items]
        if construct is not None:
            title = construct
        if scale is None:
            raise SpecificationError(
                "likert_bars needs the response scale: pass scale=(min, max) with a list of items "
                "(or pass an Instrument, which knows its scale)."
            )
    lo, hi = scale
    if not (float(lo).is_integer() and float(hi).is_integer() and hi > lo):
        raise SpecificationError(f"scale must be two integers (min, max) with min < max; got {scale!r}.")
    return items, (int(lo), int(hi)), dict(labels or {}), wording, title, reverse, blocks


def _likert_counts(data: pd.DataFrame, items, lo, hi) -> tuple[pd.DataFrame, pd.Series]:
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise DataValidationError(
            f"items {missing} are not columns of the data (columns: {list(data.columns)[:30]})."
        )
    codes = list(range(lo, hi + 1))
    counts = {}
    n = {}
    for item in items:
        if not pd.api.types.is_numeric_dtype(data[item]) or pd.api.types.is_bool_dtype(data[item]):
            raise DataValidationError(
                f"item {item!r} has dtype {data[item].dtype}; likert_bars needs numeric response codes "
                f"{lo}..{hi} (read the survey with custval.read_survey, which converts and checks them)."
            )
        col = data[item]
        bad = col.notna() & ~col.isin(codes)
        if bad.any():
            pos = np.flatnonzero(bad.to_numpy())
            vals = sorted({str(v) for v in data[item][bad].tolist()})
            raise DataValidationError(
                f"item {item!r}: {len(pos)} value(s) outside the response codes {lo}..{hi} at rows "
                f"(0-based positions) {pos[:10].tolist()}{' ...' if len(pos) > 10 else ''}: {vals[:10]}. "
                "Declare missing codes in the codebook (ingest turns them into NaN) or fix the data."
            )
        valid = col.dropna()
        n[item] = len(valid)
        if n[item] == 0:
            raise DataValidationError(f"item {item!r} has no valid answers; nothing to plot.")
        counts[item] = valid.value_counts().reindex(codes, fill_value=0)
    return pd.DataFrame(counts).T, pd.Series(n)


def likert_bars(
    data: pd.DataFrame,
    instrument_or_items,
    *,
    construct: str | None = None,
    labels: Mapping[int, str] | None = None,
    scale: tuple[int, int] | None = None,
    wording: bool = False,
    lang: str = "en",
    wrap: int = 48,
    annotate: bool = True,
    ax=None,
):
    """Diverging stacked bars of Likert answers, centred on the scale midpoint.

    One horizontal bar per item (codebook order, top to bottom).  Each bar
    shows the percentage of valid answers per response category; categories
    below the midpoint extend to the left, those above to the right, and an
    odd middle (neutral) category is split half and half across 0 (Heiberger
    & Robbins, 2014).  With ``annotate`` the totals below and above the
    midpoint are printed at the ends of each bar.

    Parameters
    ----------
    data : DataFrame
        Answers, one column per item, integer codes (NaN = missing, excluded
        per item; the valid *n* is shown when it differs between items).
    instrument_or_items : Instrument or sequence of str
        An Instrument (duck-typed: ``constructs``, ``scale_min``,
        ``scale_max``, ``scale_labels(lang)``, ``item(id).text``) or a list of
        item names (then ``scale=`` is required).
    construct : str, optional
        With an Instrument: plot this construct's items (its label is the title).
    labels : mapping, optional
        Response code -> label for the legend (default: the instrument's
        ``scale_labels(lang)``; codes without a label show the code only).
    scale : (int, int), optional
        Lowest and highest response code (default: the instrument's).
    wording : bool
        Show the item wording (wrapped at ``wrap`` characters) next to the id.
    lang : str
        Language of the wording and labels.
    wrap : int
        Characters per line of the wording.
    annotate : bool
        Print the totals below and above the midpoint at the ends of each bar.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        One ``BarContainer`` per response category in ``ax.containers``.

    Raises
    ------
    DataValidationError
        An item is not in the data, has no valid answer, or has values outside
        the response codes (the message names the item, rows and values).

    See Also
    --------
    custval.items.item_analysis : Item statistics of the same answers.

    References
    ----------
    Heiberger, R. M., & Robbins, N. B. (2014). Design of diverging stacked bar
    charts for Likert scales and other applications. *Journal of Statistical
    Software, 57*(5), 1–32. https://doi.org/10.18637/jss.v057.i05

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> mobi = load_dataset("mobi").data
    >>> ax = likert_bars(mobi, ["CUEX1", "CUEX2", "CUEX3"], scale=(1, 10), construct="Expectation")
    >>> len(ax.containers), len(ax.containers[0])     # 10 categories x 3 items
    (10, 3)
    >>> # In R: HH::likert(t(sapply(mobi[, c("CUEX1","CUEX2","CUEX3")], table)))
    """
    items, (lo, hi), labels, texts, title, reverse, blocks = _resolve_items(
        instrument_or_items, construct, scale, labels, lang
    )
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"likert_bars needs a DataFrame of answers; got {type(data).__name__}.")
    counts, n = _likert_counts(data, items, lo, hi)
    pct = counts.div(n, axis=0) * 100.0
    codes = list(counts.columns)
    k = len(codes)
    mid = (lo + hi) / 2
    low_codes = [c for c in codes if c < mid]
    high_codes = [c for c in codes if c > mid]
    neutral = [c for c in codes if c == mid]
    left_total = pct[low_codes].sum(axis=1) + (pct[neutral].sum(axis=1) / 2 if neutral else 0)
    right_total = 100.0 - left_total
    colors = likert_colors(k)
    m = len(items)
    with style():
        if ax is None:
            width = 9.0 if wording else 7.5
            fig, ax = plt.subplots(figsize=(width, 0.42 * m + 1.9), layout="constrained")
        start = -left_total.to_numpy()
        y = np.arange(m)
        for code, color in zip(codes, colors):
            w = pct[code].to_numpy()
            ax.barh(y, w, left=start, height=0.72, color=color, edgecolor="white", linewidth=0.5,
                    label=_legend_label(code, labels))
            start = start + w
        ax.axvline(0, color="#333333", linewidth=0.9, zorder=3)
        pad = 12 if annotate else 3
        left_lim = min(100.0, 10 * math.ceil((float(left_total.max()) + pad) / 10))
        right_lim = min(100.0, 10 * math.ceil((float(right_total.max()) + pad) / 10))
        ax.set_xlim(-left_lim - (pad if left_lim >= 100 else 0), right_lim + (pad if right_lim >= 100 else 0))
        step = 20 if max(left_lim, right_lim) > 60 else 10
        ticks = np.arange(-math.floor(left_lim / step) * step, right_lim + 1, step)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{abs(t):.0f}%" for t in ticks])
        ax.xaxis.grid(True)
        ax.set_axisbelow(True)
        if annotate:
            for yi, (lt, rt) in enumerate(zip(left_total, right_total)):
                ax.text(-lt - 1.2, yi, f"{lt:.0f}%", ha="right", va="center", fontsize=8, color="#333333")
                ax.text(rt + 1.2, yi, f"{rt:.0f}%", ha="left", va="center", fontsize=8, color="#333333")
        for b in blocks:  # separate the constructs of a whole instrument
            ax.axhline(b - 0.5, color="#999999", linewidth=0.6, linestyle="-")
        varying_n = n.nunique() > 1
        ticklabels = []
        for item in items:
            lab = item + (" (R)" if item in reverse else "")
            if varying_n:
                lab += f" (n = {n[item]:,})"
            if wording and item in texts:
                lab = f"{lab}  " + "\n".join(textwrap.wrap(texts[item], wrap))
            ticklabels.append(lab)
        ax.set_yticks(y)
        ax.set_yticklabels(ticklabels)
        ax.set_ylim(m - 0.4, -0.6)  # first item on top
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        xlabel = f"% of answers: codes {_span(low_codes)} left of 0, {_span(high_codes)} right"
        if neutral:
            xlabel += f", {neutral[0]} split at 0"
        if not varying_n:
            xlabel += f" (n = {int(n.iloc[0]):,})"
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title, loc="left")
        handles, leg_labels = ax.get_legend_handles_labels()
        chars = sum(len(t) + 4 for t in leg_labels)
        width_chars = 11 * ax.figure.get_figwidth()
        nrows = max(1, math.ceil(chars / width_chars))
        ncol = math.ceil(k / nrows)
        order = [r * ncol + c for c in range(ncol) for r in range(nrows) if r * ncol + c < k]
        handles = [handles[i] for i in order]
        leg_labels = [leg_labels[i] for i in order]
        kw = {"ncol": ncol, "title": "Response", "handlelength": 1.2, "columnspacing": 1.0}
        if reverse & set(items):
            kw["title"] = "Response (R = reverse-keyed item, answers as given)"
        fig = ax.figure
        if type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine":
            fig.legend(handles, leg_labels, loc="outside lower center", **kw)
        else:
            ax.legend(handles, leg_labels, loc="upper center", bbox_to_anchor=(0.5, -0.18), **kw)
    return ax


def _span(codes: list[int]) -> str:
    if not codes:
        return "none"
    return str(codes[0]) if len(codes) == 1 else f"{codes[0]}–{codes[-1]}"


def _legend_label(code: int, labels: Mapping) -> str:
    lab = labels.get(code, labels.get(str(code)))
    return f"{code} = {lab}" if lab else str(code)


# --------------------------------------------------------------------------- scree
def _scree_inputs(observed, simulated, quantile, kind, quantile_level, n_suggested):
    """Accept arrays, or a parallel-analysis result / frame with <kind>_observed columns."""
    frame = getattr(observed, "eigenvalues", None)
    if isinstance(frame, pd.DataFrame):
        quantile_level = getattr(observed, "quantile", quantile_level)
        if n_suggested is None:
            n_suggested = getattr(observed, "n_factors" if kind == "fa" else "n_components", None)
        observed = frame
    if isinstance(observed, pd.DataFrame):
        prefix = "fa" if kind == "fa" else "pc"
        cols = {c.lower(): c for c in map(str, observed.columns)}
        def pick(*names):
            for nm in names:
                if nm in cols:
                    return observed[cols[nm]]
            return None
        obs = pick(f"{prefix}_observed", "observed")
        if obs is None:
            raise SpecificationError(
                f"scree_plot: the frame has no '{prefix}_observed' or 'observed' column "
                f"(columns: {list(observed.columns)})."
            )
        if simulated is None:
            simulated = pick(f"{prefix}_simulated_mean", "simulated_mean", "simulated")
        if quantile is None:
            quantile = pick(f"{prefix}_simulated_q", "simulated_q", "quantile")
        observed = obs
    obs = np.asarray(observed, dtype=float).ravel()
    sim = None if simulated is None else np.asarray(simulated, dtype=float).ravel()
    q = None if quantile is None else np.asarray(quantile, dtype=float).ravel()
    for name, arr in (("simulated", sim), ("quantile", q)):
        if arr is not None and len(arr) != len(obs):
            raise SpecificationError(
                f"scree_plot: {name} has {len(arr)} values but there are {len(obs)} observed eigenvalues."
            )
    return obs, sim, q, quantile_level, n_suggested


def scree_plot(
    observed,
    *,
    simulated=None,
    quantile=None,
    kind: str = "fa",
    quantile_level: float = 0.95,
    n_suggested: int | None = None,
    ax=None,
):
    """Scree plot with the parallel-analysis reference.

    Parameters
    ----------
    observed : array-like, DataFrame or parallel-analysis result
        Observed eigenvalues in decreasing order.  A frame (or an object with
        an ``eigenvalues`` frame, such as
        :class:`custval.dimensionality.ParallelAnalysisResult`) supplies
        ``<kind>_observed``, ``<kind>_simulated_mean`` and
        ``<kind>_simulated_q`` columns (``pc`` for ``kind="pca"``).
    simulated : array-like, optional
        Mean eigenvalues of random data (dashed line).
    quantile : array-like, optional
        A quantile of the random eigenvalues (dotted line; the reference for
        the suggestion when given, psych's rule).
    kind : {"fa", "pca"}
        Common-factor or principal-component eigenvalues (labels; for
        ``"pca"`` without simulations the Kaiser line at 1 is the reference).
    n_suggested : int, optional
        Override the suggested number (default: the number of leading
        observed eigenvalues greater than the reference).
    quantile_level : float
        The level of ``quantile``, for the legend.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    custval.dimensionality.parallel_analysis : The reference eigenvalues.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = scree_plot([3.1, 1.4, 0.5, 0.2], simulated=[1.2, 1.1, 1.0, 0.9], kind="pca")  # simulated
    >>> [t.get_text() for t in ax.texts]
    ['2 components suggested']
    >>> # In R: psych::fa.parallel(x, fa = "pc")
    """
    if kind not in ("fa", "pca"):
        raise SpecificationError(f"kind must be 'fa' or 'pca'; got {kind!r}.")
    obs, sim, q, quantile_level, n_suggested = _scree_inputs(
        observed, simulated, quantile, kind, quantile_level, n_suggested
    )
    x = np.arange(1, len(obs) + 1)
    unit = "factor" if kind == "fa" else "component"
    reference = q if q is not None else sim
    if reference is None and kind == "pca":
        reference = np.ones_like(obs)
    if n_suggested is None and reference is not None:
        above = obs > reference
        n_suggested = int(len(obs) if above.all() else np.argmin(above))
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
        ax.plot(x, obs, "-o", color=OKABE_ITO["blue"], markersize=5, linewidth=1.6,
                label="Observed data", zorder=3)
        if sim is not None:
            ax.plot(x, sim, "--", color=OKABE_ITO["vermilion"], linewidth=1.4, label="Random data: mean")
        if q is not None:
            ax.plot(x, q, ":", color=OKABE_ITO["vermilion"], linewidth=1.8,
                    label=f"Random data: {round(quantile_level * 100)}th percentile")
        if sim is None and q is None and kind == "pca":
            ax.axhline(1, color="#777777", linestyle="--", linewidth=1.0, label="Eigenvalue = 1 (Kaiser)")
        if obs.min() < 0:
            ax.axhline(0, color="#999999", linewidth=0.7)
        if n_suggested == 0:
            ax.text(0.02, 0.04, f"No {unit} exceeds the reference", transform=ax.transAxes, fontsize=9)
        if n_suggested:
            yv = obs[n_suggested - 1]
            ax.plot([n_suggested], [yv], "o", markersize=11, markerfacecolor="none",
                    markeredgecolor=OKABE_ITO["black"], markeredgewidth=1.4, zorder=4)
            span = float(np.nanmax(obs) - min(0.0, float(np.nanmin(obs))))
            ax.annotate(
                f"{n_suggested} {unit}{'s' if n_suggested != 1 else ''} suggested",
                xy=(n_suggested, yv), xytext=(n_suggested + max(1.0, len(obs) * 0.08), yv + 0.18 * span),
                arrowprops={"arrowstyle": "->", "color": "#333333", "linewidth": 1.0},
                fontsize=9, ha="left", va="bottom",
            )
        ax.set_xlabel("Factor number" if kind == "fa" else "Component number")
        ax.set_ylabel("Eigenvalue" + (" (common factors)" if kind == "fa" else " (principal components)"))
        step = 1 if len(obs) <= 15 else (2 if len(obs) <= 30 else 5)
        ax.set_xticks(np.arange(1, len(obs) + 1, step))
        ax.yaxis.grid(True)
        ax.set_axisbelow(True)
        title = "Scree plot" + (" with parallel analysis" if sim is not None or q is not None else "")
        ax.set_title(title, loc="left")
        ax.legend(loc="upper right")
    return ax


# --------------------------------------------------------------------------- heatmaps
def _apa_annotation(v: float, bounded: bool, digits: int = 2) -> str:
    return format_number(v, digits, bounded=bounded)


def _annotate_cells(ax, values: np.ndarray, mask: np.ndarray, cmap, norm, bounded: bool, digits: int,
                    fontsize: float) -> int:
    count = 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if mask[i, j] or not np.isfinite(values[i, j]):
                continue
            color = text_color(cmap(norm(values[i, j])))
            ax.text(j + 0.5, i + 0.5, _apa_annotation(values[i, j], bounded, digits), ha="center",
                    va="center", fontsize=fontsize, color=color, gid="custval-annotation")
            count += 1
    return count


def _wide_loadings(loadings) -> pd.DataFrame:
    if not isinstance(loadings, pd.DataFrame):
        raise SpecificationError(f"loadings must be a DataFrame; got {type(loadings).__name__}.")
    cols = {str(c).lower(): c for c in loadings.columns}
    if "op" in cols and "lhs" in cols and "rhs" in cols:  # a parameter table (CFA.params_)
        loadings = loadings[loadings[cols["op"]].astype(str) == "=~"].rename(
            columns={cols["lhs"]: "construct", cols["rhs"]: "item"})
        cols = {str(c).lower(): c for c in loadings.columns}
    if "construct" in cols and "item" in cols:
        value = next((cols[c] for c in ("std_estimate", "std_all", "est_std", "std_loading", "loading",
                                        "estimate") if c in cols), None)
        if value is None:
            raise SpecificationError(f"no loading column in {list(loadings.columns)}.")
        wide = loadings.pivot_table(index=cols["item"], columns=cols["construct"], values=value,
                                    aggfunc="first", sort=False)
        wide = wide.reindex(index=list(dict.fromkeys(loadings[cols["item"]])),
                            columns=list(dict.fromkeys(loadings[cols["construct"]])))
        wide.index.name = None
        wide.columns.name = None
        return wide
    nonnum = [c for c in loadings.columns if not pd.api.types.is_numeric_dtype(loadings[c])]
    if nonnum:
        raise SpecificationError(f"a wide loading matrix must be numeric; columns {nonnum} are not.")
    return loadings.drop(columns=[c for c in ("h2", "u2", "com") if c in loadings.columns])


def loadings_heatmap(loadings: pd.DataFrame, *, blank_below: float | None = None, digits: int = 2,
                     title: str | None = "Standardized loadings", ax=None):
    """Heatmap of a loading matrix: annotated, diverging colours centred at 0, limits ±1.

    Parameters
    ----------
    loadings : DataFrame
        Items × factors (wide), or long with ``construct``, ``item`` and a
        loading column (``std_estimate`` ... ``estimate``), which is pivoted;
        missing cells (an item does not load on a factor) stay blank.
    blank_below : float, optional
        Cells with absolute loading below this are left white and unlabelled.
    digits : int
        Decimals in the annotations (APA: no leading zero).
    title : str or None
        The plot title (``None``: no title).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Annotations are ``Text`` artists with gid ``"custval-annotation"``.

    See Also
    --------
    custval.efa.EFA : Exploratory loadings.
    custval.tables.loadings_table : The loadings as an APA table.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> lam = pd.DataFrame({"F1": [0.8, 0.7, 0.1], "F2": [0.05, 0.2, -0.6]}, index=["a", "b", "c"])
    >>> ax = loadings_heatmap(lam, blank_below=0.3)       # simulated
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "custval-annotation")
    ['.70', '.80', '−.60']
    >>> # In R: psych::cor.plot(fa(x, 2)$loadings)  (similar)
    """
    wide = _wide_loadings(loadings)
    values = wide.to_numpy(dtype=float)
    mask = ~np.isfinite(values)
    if blank_below is not None:
        mask |= np.abs(np.nan_to_num(values)) < blank_below
    cmap = mpl.colormaps[DIVERGING_CMAP]
    norm = mpl.colors.Normalize(vmin=-1, vmax=1)
    r, c = values.shape
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(max(3.8, 1.0 * c + 2.6), max(2.6, 0.34 * r + 1.4)),
                                 layout="constrained")
        with warnings.catch_warnings():  # seaborn 0.13 calls a deprecated Colormap.set_bad
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(pd.DataFrame(np.where(mask, np.nan, values), index=wide.index, columns=wide.columns),
                        ax=ax, cmap=cmap, vmin=-1, vmax=1, center=0, annot=False, linewidths=0.6,
                        linecolor="white", cbar_kws={"label": "Loading", "shrink": 0.8, "ticks": [-1, -0.5, 0, 0.5, 1]},
                        square=False)
        cbar = ax.collections[0].colorbar
        cbar.ax.set_yticklabels(["−1", "−.5", "0", ".5", "1"])
        _annotate_cells(ax, values, mask, cmap, norm, True, digits, 8.5 if r <= 25 else 7)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="both", length=0)
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
        ax.xaxis.tick_top()
        ax.set_xticklabels(ax.get_xticklabels(), rotation=0)
        for spine in ("left", "bottom"):
            ax.spines[spine].set_visible(False)
        if title:
            ax.set_title(title, loc="left", pad=22)
        if blank_below is not None:
            ax.set_xlabel(f"|loading| < {format_number(blank_below, 2, bounded=True)} not shown", fontsize=8)
    return ax


def htmt_heatmap(htmt: pd.DataFrame, *, threshold: float = 0.85, digits: int = 2,
                 title: str | None = "Heterotrait–monotrait ratios (HTMT)", ax=None):
    """Lower-triangle heatmap of HTMT ratios; cells above ``threshold`` are outlined.

    HTMT is a ratio that can exceed 1, so annotations keep the leading zero.
    The colour scale runs from 0 to max(1, largest ratio); the threshold is
    marked on the colour bar.  Henseler et al. (2015) suggest .85 (conceptually
    distinct constructs) or .90 (similar constructs).

    Parameters
    ----------
    htmt : DataFrame
        Constructs × constructs HTMT ratios (only the lower triangle is read).
    threshold : float
        Cells above it are outlined and the value is marked on the colour bar.
    digits : int
        Decimals in the annotations.
    title : str or None
        The plot title (``None``: no title).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Outlines are ``Rectangle`` patches with gid ``"custval-above-threshold"``.

    See Also
    --------
    custval.validity.htmt : The ratios plotted.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for
    assessing discriminant validity in variance-based structural equation
    modeling. *Journal of the Academy of Marketing Science, 43*(1), 115–135.
    https://doi.org/10.1007/s11747-014-0403-8

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> h = pd.DataFrame([[1, .62, .9], [.62, 1, .7], [.9, .7, 1]], index=list("ABC"), columns=list("ABC"))
    >>> ax = htmt_heatmap(h)                              # simulated
    >>> sum(p.get_gid() == "custval-above-threshold" for p in ax.patches)
    1
    >>> # In R: semTools::htmt(model, data)  (values only; no plot)
    """
    if not isinstance(htmt, pd.DataFrame) and isinstance(getattr(htmt, "matrix", None), pd.DataFrame):
        htmt = htmt.matrix  # custval.validity.HTMTResult
    if not isinstance(htmt, pd.DataFrame) or htmt.shape[0] != htmt.shape[1] or \
            list(map(str, htmt.index)) != list(map(str, htmt.columns)):
        raise SpecificationError("htmt must be a square DataFrame with the same constructs on rows and columns.")
    values = htmt.to_numpy(dtype=float)
    k = len(values)
    mask = np.triu(np.ones((k, k), dtype=bool))  # diagonal and upper triangle hidden
    lower = values[~mask]
    vmax = max(1.0, float(np.nanmax(lower)) if lower.size else 1.0)
    cmap = mpl.colormaps[SEQUENTIAL_CMAP]
    norm = mpl.colors.Normalize(vmin=0, vmax=vmax)
    names = [str(c) for c in htmt.columns]
    with style():
        if ax is None:
            side = max(3.6, 0.75 * k + 2.2)
            _, ax = plt.subplots(figsize=(side + 1.0, side), layout="constrained")
        shown = pd.DataFrame(np.where(mask, np.nan, values), index=names, columns=names)
        # drop the empty first row and last column of a lower triangle
        shown = shown.iloc[1:, :-1]
        sub = values[1:, :-1]
        submask = mask[1:, :-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(shown, ax=ax, cmap=cmap, vmin=0, vmax=vmax, linewidths=0.8, linecolor="white",
                        cbar_kws={"label": "HTMT", "shrink": 0.8}, square=True)
        _annotate_cells(ax, sub, submask, cmap, norm, False, digits, 9 if k <= 8 else 7.5)
        n_out = 0
        for i in range(sub.shape[0]):
            for j in range(sub.shape[1]):
                if not submask[i, j] and np.isfinite(sub[i, j]) and sub[i, j] > threshold:
                    ax.add_patch(Rectangle((j + 0.06, i + 0.06), 0.88, 0.88, fill=False,
                                           edgecolor=OKABE_ITO["vermilion"], linewidth=2.4,
                                           gid="custval-above-threshold", zorder=5))
                    n_out += 1
        cbar = ax.collections[0].colorbar
        cbar.ax.axhline(threshold, color=OKABE_ITO["vermilion"], linewidth=2)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="both", length=0)
        ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
        ax.set_xticklabels(ax.get_xticklabels(), rotation=45 if max(map(len, names)) > 5 else 0,
                           ha="right" if max(map(len, names)) > 5 else "center")
        if title:
            ax.set_title(title, loc="left")
        thr = format_number(threshold, 2, bounded=True)
        handle = Patch(facecolor="none", edgecolor=OKABE_ITO["vermilion"], linewidth=2.0,
                       label=f"HTMT > {thr}: " + (f"{n_out} pair{'s' if n_out != 1 else ''}" if n_out else "none"))
        ax.legend(handles=[handle], loc="upper right", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    return ax


# --------------------------------------------------------------------------- invariance
def _delta_tick(v: float, _pos=None) -> str:
    return "0" if abs(v) < 1e-12 else format_number(v, 3, bounded=True)


_DCFI = ("delta_cfi", "d_cfi", "cfi_diff")
_DRMSEA = ("delta_rmsea", "d_rmsea", "rmsea_diff")


def invariance_plot(invariance: pd.DataFrame, *, cfi_criterion: float = -0.010,
                    rmsea_criterion: float = 0.015,
                    title: str | None = "Change in fit across invariance levels"):
    """ΔCFI per invariance level with the −.010 criterion (Chen, 2007); ΔRMSEA in a second panel.

    Parameters
    ----------
    invariance : DataFrame
        One row per level in order (index or ``level`` column), with
        ``delta_cfi`` and optionally ``delta_rmsea`` (change from the previous,
        less constrained model; the first level's NaN is not drawn).
    cfi_criterion, rmsea_criterion : float
        Chen (2007): a ΔCFI of −.010 or less together with a ΔRMSEA of .015 or
        more (or a ΔSRMR of .030 for metric, .010 for scalar invariance)
        indicates non-invariance.  Each panel marks its own criterion; bars
        beyond it are drawn in vermilion and hatched (readable in greyscale).
    title : str or None
        The plot title (``None``: no title).

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per panel (ΔCFI, then ΔRMSEA when present).

    See Also
    --------
    custval.invariance.measurement_invariance : The sequence plotted.
    custval.tables.invariance_table : The same sequence as an APA table.

    References
    ----------
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of
    measurement invariance. *Structural Equation Modeling, 14*(3), 464–504.
    https://doi.org/10.1080/10705510701301834

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> inv = pd.DataFrame({"delta_cfi": [float("nan"), -0.004, -0.017],
    ...                     "delta_rmsea": [float("nan"), -0.002, 0.007]},
    ...                    index=["configural", "metric", "scalar"])   # simulated
    >>> fig = invariance_plot(inv)
    >>> [len(ax.patches) for ax in fig.axes]
    [2, 2]
    >>> # In R: no direct equivalent (semTools::compareFit gives the numbers)
    """
    if not isinstance(invariance, pd.DataFrame) and hasattr(invariance, "to_frame"):
        invariance = invariance.to_frame()  # e.g. custval.invariance.InvarianceResult
    if not isinstance(invariance, pd.DataFrame):
        raise SpecificationError(f"invariance_plot needs a DataFrame; got {type(invariance).__name__}.")
    frame = invariance
    cols = {str(c).lower().replace(".", "_"): c for c in frame.columns}
    if "level" in cols:
        frame = frame.set_index(cols["level"])
    dcfi = next((cols[c] for c in _DCFI if c in cols), None)
    drmsea = next((cols[c] for c in _DRMSEA if c in cols), None)
    if dcfi is None:
        raise SpecificationError(f"invariance_plot needs a 'delta_cfi' column; got {list(invariance.columns)}.")
    levels = [str(i) for i in frame.index]
    panels = [(dcfi, cfi_criterion, "ΔCFI", "below")]
    if drmsea is not None:
        panels.append((drmsea, rmsea_criterion, "ΔRMSEA", "above"))
    with style():
        fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 1.0, 3.8),
                                 layout="constrained", squeeze=False)
        for ax, (col, crit, label, side) in zip(axes[0], panels):
            vals = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
            keep = np.isfinite(vals)
            xs = np.arange(len(levels))
            fails = (vals < crit) if side == "below" else (vals > crit)
            for x, v, bad in zip(xs[keep], vals[keep], fails[keep]):
                ax.bar(x, v, width=0.6, color=OKABE_ITO["vermilion"] if bad else OKABE_ITO["blue"],
                       hatch="//" if bad else None, edgecolor="white" if not bad else "#7a2e00",
                       linewidth=0.8)
                value_text = format_number(v, 3, bounded=True)
                if value_text == format_number(crit, 3, bounded=True) and v != crit:
                    value_text = format_number(v, 4, bounded=True)  # do not print a value as its criterion
                ax.annotate(value_text, (x, v), xytext=(0, 3 if v >= 0 else -3),
                            textcoords="offset points", ha="center", va="bottom" if v >= 0 else "top",
                            fontsize=8.5)
            for x in xs[~keep]:
                ax.annotate("baseline", (x, 0), xytext=(0, 3), textcoords="offset points", ha="center",
                            va="bottom", fontsize=8, color="#555555", style="italic")
            ax.axhline(0, color="#333333", linewidth=0.8)
            ax.axhline(crit, color="#333333", linestyle="--", linewidth=1.1)
            crit_txt = format_number(crit, 3, bounded=True)
            ax.set_xticks(xs)
            ax.set_xticklabels([lv.capitalize() if lv.islower() else lv for lv in levels])
            finite = vals[keep]
            lo = min(0.0, crit, float(finite.min()) if finite.size else 0.0)
            hi = max(0.0, crit, float(finite.max()) if finite.size else 0.0)
            span = max(hi - lo, 0.01)
            ax.set_ylim(lo - 0.22 * span, hi + 0.22 * span)
            # the criterion label goes over the first level's slot (the baseline, no bar)
            ax.annotate(f"criterion {crit_txt}", (-0.55, crit), xytext=(0, 2 if side == "above" else -2),
                        textcoords="offset points", ha="left", va="bottom" if side == "above" else "top",
                        fontsize=8, color="#333333")
            ax.set_xlim(-0.6, len(levels) - 0.4)
            ax.set_ylabel(f"{label} (vs. previous level)")
            ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(_delta_tick))
            ax.yaxis.grid(True)
            ax.set_axisbelow(True)
            ax.set_title(label, loc="left")
        ok = Patch(facecolor=OKABE_ITO["blue"], label="Within criterion")
        bad = Patch(facecolor=OKABE_ITO["vermilion"], hatch="//", edgecolor="#7a2e00", label="Beyond criterion")
        fig.legend(handles=[ok, bad], loc="outside lower center", ncol=2)
        if title:
            fig.suptitle(title + " (criteria: Chen, 2007)", x=0.02, ha="left", fontsize=11, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- PLS moderation
def simple_slopes_plot(fit, interaction: str, *, target: str | None = None,
                       levels: Sequence[float] = (-1.0, 0.0, 1.0), title: str | None = None, ax=None):
    """Simple-slope lines of a PLS moderation ``Y ~ A + B + A:B``.

    One line per moderator level (standard deviations of ``B``), ``Y = intercept +
    slope * A`` over ``A`` from -2 to +2 standard deviations, from
    :meth:`custval.pls.PLS.simple_slopes` (seminr's ``slope_analysis()``).

    Parameters
    ----------
    fit : custval.pls.PLS
        A fitted PLS model with the interaction term.
    interaction : str
        The term, ``"A:B"`` (``A`` on the x axis, ``B`` the moderator).
    target : str, optional
        The construct on the y axis when the term predicts more than one.
    levels : sequence of float
        Moderator levels in standard deviations.
    title : str or None
        Plot title; default names the three constructs.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        One ``Line2D`` per level with gid ``"custval-slope"``; the legend gives each slope.

    See Also
    --------
    custval.pls.PLS.simple_slopes : The slopes and intercepts drawn.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from custval import PLS, load_dataset
    >>> mobi = load_dataset("mobi", with_instrument=False).data
    >>> fit = PLS('''Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    ...              Expectation =~ CUEX1 + CUEX2 + CUEX3
    ...              Satisfaction =~ CUSA1 + CUSA2 + CUSA3
    ...              Satisfaction ~ Image + Expectation + Image:Expectation''').fit(mobi)
    >>> ax = simple_slopes_plot(fit, "Image:Expectation")
    >>> sum(line.get_gid() == "custval-slope" for line in ax.lines)
    3
    >>> # In R: seminr::slope_analysis(fit, dv = "Satisfaction", moderator = "Expectation", iv = "Image")
    """
    table = fit.simple_slopes(interaction, target=target, levels=levels)
    iv, mod, tgt = table.attrs["iv"], table.attrs["moderator"], table.attrs["target"]
    x = np.linspace(-2, 2, 2)
    colors = [OKABE_ITO["vermilion"], OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["green"],
              OKABE_ITO["purple"], OKABE_ITO["orange"]]
    dashes = ["--", "-", ":", "-.", (0, (5, 1)), (0, (1, 1))]
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(5.2, 4.0), layout="constrained")
        for k, row in enumerate(table.itertuples(index=False)):
            level = "mean" if row.moderator_sd == 0 else f"{row.moderator_sd:+g} SD"
            ax.plot(x, row.intercept + row.slope * x, color=colors[k % len(colors)], linestyle=dashes[k % len(dashes)],
                    linewidth=2, gid="custval-slope",
                    label=f"{mod} at {level} (slope {format_number(row.slope, 2)})")
        ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
        ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
        ax.set_xlabel(f"{iv} (SD)")
        ax.set_ylabel(f"{tgt} (SD)")
        ax.set_xlim(-2, 2)
        ax.legend(loc="best", frameon=False, fontsize=8.5)
        b = float(fit.paths_.at[interaction, tgt])
        ax.set_title(title if title is not None else
                     f"{iv} → {tgt}, moderated by {mod}\ninteraction {interaction}: {format_number(b, 3)}",
                     loc="left", fontsize=10.5)
    return ax


def ipma_map(result, *, level: str = "constructs", title: str | None = None, ax=None):
    """Importance-performance map of a PLS fit (:meth:`custval.pls.PLS.ipma`).

    Importance (unstandardised total effect on the target) on the x axis, performance
    (0-100) on the y axis, one labelled point per construct or indicator; dashed lines at
    the mean importance and mean performance split the map into the four quadrants of
    Ringle & Sarstedt (2016): the lower-right one (important, low performance) is where
    managerial action pays most.

    Parameters
    ----------
    result : custval.pls.IPMAResult
        The analysis to draw.
    level : {"constructs", "indicators"}
        Which rows to draw.
    title : str or None
        Plot title; default names the target and the level.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        The points are one ``PathCollection`` with gid ``"custval-ipma"``.

    Raises
    ------
    SpecificationError
        ``level`` is neither "constructs" nor "indicators".

    See Also
    --------
    custval.pls.PLS.ipma : The numbers drawn.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from custval import PLS, load_dataset
    >>> ds = load_dataset("mobi")
    >>> fit = PLS('''Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    ...              Value =~ PERV1 + PERV2
    ...              Satisfaction =~ CUSA1 + CUSA2 + CUSA3
    ...              Satisfaction ~ Image + Value''').fit(ds.data)
    >>> ax = ipma_map(fit.ipma(target="Satisfaction", instrument=ds.instrument))
    >>> [c.get_gid() for c in ax.collections]
    ['custval-ipma']
    >>> # In R: cSEM::doIPMA(fit); plot(ipma)  (cSEM's plot)
    """
    if level not in ("constructs", "indicators"):
        raise SpecificationError(f"level={level!r}; 'constructs' or 'indicators'")
    frame = result.constructs if level == "constructs" else result.indicators
    labels = [str(i) if level == "constructs" else str(i[1]) for i in frame.index]
    x = frame["importance"].to_numpy(float)
    y = frame["performance"].to_numpy(float)
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(5.6, 4.4), layout="constrained")
        if level == "indicators":
            groups = list(dict.fromkeys(c for c, _ in frame.index))
            palette = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermilion", "purple", "black", "sky")]
            colors = [palette[groups.index(c) % len(palette)] for c, _ in frame.index]
        else:
            colors = OKABE_ITO["blue"]
        ax.scatter(x, y, s=46, color=colors, edgecolor="white", linewidth=0.8, zorder=3, gid="custval-ipma")
        for xi, yi, lab in zip(x, y, labels):
            ax.annotate(lab, (xi, yi), xytext=(5, 4), textcoords="offset points", fontsize=8.5)
        ax.axvline(float(np.mean(x)), color="0.6", linestyle="--", linewidth=1, zorder=1)
        ax.axhline(float(np.mean(y)), color="0.6", linestyle="--", linewidth=1, zorder=1)
        span = max(float(x.max() - min(0.0, float(x.min()))), 1e-9)
        ax.set_xlim(min(0.0, float(x.min())) - 0.05 * span, float(x.max()) + 0.25 * span)
        lo, hi = float(y.min()), float(y.max())
        pad = max(5.0, 0.15 * (hi - lo))
        ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad))
        ax.set_xlabel(f"Importance (total effect on {result.target})")
        ax.set_ylabel("Performance (0–100)")
        if level == "indicators":
            handles = [Patch(color=palette[k % len(palette)], label=g) for k, g in enumerate(groups)]
            ax.legend(handles=handles, frameon=False, fontsize=8, loc="best")
        ax.set_title(title if title is not None else
                     f"Importance-performance map: {result.target} ({level})", loc="left", fontsize=10.5)
    return ax
