"""Figures for customer-wisdom gap analysis (results of :mod:`custval.gaps`).

* :func:`wisdom_map` — per firm and construct, the provider's view and the customers'
  view of the same firm joined by a line (a dumbbell plot), gap CI in the label;
* :func:`readiness_quadrant` — understanding of the customers vs understanding of the firm's
  own (CPROC vs OPROC), one point per firm (and role), the diagonal marking equal understanding;
* :func:`role_comparison` — managers minus operational staff per readiness index, with CIs;
* :func:`segment_profiles` — mean COCR item profile per co-creation segment;
* :func:`latent_gap_plot` — latent-mean gaps per firm with CIs, beside the observed-score effect sizes.

Every function draws inside custval's style context, uses the Okabe-Ito palette
and returns the Axes (or Figure).  Save with :func:`custval.plots.save_figure`.

Options every function shares (keyword-only):

ax : matplotlib Axes or None, default None
    Draw into this Axes (None: a new figure and Axes).
figsize : (float, float) or None, default None
    Size of a new figure in inches (None: sized to the number of firms and panels).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ._style import OKABE_ITO, style
from .exceptions import SpecificationError

__all__ = ["latent_gap_plot", "readiness_quadrant", "role_comparison", "segment_profiles", "wisdom_map"]

PROVIDER_COLOR = OKABE_ITO["blue"]
CUSTOMER_COLOR = OKABE_ITO["orange"]


def _labelled(title: str, result) -> str:
    """The title, marked when the result comes from simulated data (custval.simulate)."""
    if getattr(result, "simulated", None) is True and "simulated" not in title.lower():
        return f"{title} (simulated data)"
    return title


def _table(result, needed, what):
    table = getattr(result, "table", result)
    if not isinstance(table, pd.DataFrame):
        raise SpecificationError(f"{what}: pass a result of custval.gaps or its table, got {type(result).__name__}")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SpecificationError(f"{what}: the table lacks column(s) {missing}")
    return table


def wisdom_map(gaps, *, title: str | None = "Customer-wisdom map: provider vs customer view", figsize=None):
    """Dumbbell plot of the provider's and the customers' view per firm (rows) and construct (panels).

    Parameters
    ----------
    gaps : PerceptionGapResult or DataFrame
        From :func:`custval.perception_gap` (columns firm, construct, provider, customer,
        estimate, ci_low, ci_high).
    title : str or None
        The plot title (``None``: no title).
    figsize : (float, float), optional
        Figure size in inches; by default it grows with the number of firms and panels.

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    custval.gaps.perception_gap : The gaps plotted.

    Examples
    --------
    >>> import warnings, matplotlib
    >>> matplotlib.use("Agg")
    >>> from custval import load_instrument
    >>> from custval.gaps import perception_gap
    >>> from custval.plots_gaps import wisdom_map
    >>> from custval.simulate import case_study
    >>> prov, cust = case_study(seed=0).validated()
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     g = perception_gap(prov, cust, load_instrument("cwi"), n_boot=200)
    >>> fig = wisdom_map(g)
    >>> len(fig.axes)
    6
    >>> # In R: ggplot(d, aes(y = firm)) + geom_segment(aes(x = customer, xend = provider)) + facet_wrap(~construct)
    """
    t = _table(gaps, ["firm", "construct", "provider", "customer", "estimate", "ci_low", "ci_high"], "wisdom_map")
    cons = list(dict.fromkeys(t["construct"]))
    firms = list(dict.fromkeys(t["firm"]))
    ncol = min(3, len(cons))
    nrow = int(np.ceil(len(cons) / ncol))
    lo = float(np.nanmin(t[["provider", "customer"]].to_numpy())) - 0.3
    hi = float(np.nanmax(t[["provider", "customer"]].to_numpy())) + 0.3
    with style():
        fig, axes = plt.subplots(nrow, ncol, figsize=figsize or (4.0 * ncol, 0.45 * len(firms) * nrow + 1.6),
                                 sharex=True, sharey=True, squeeze=False)
        for ax, c in zip(axes.ravel(), cons):
            d = t[t["construct"] == c].set_index("firm").loc[firms]
            y = np.arange(len(firms))
            ax.hlines(y, d["customer"], d["provider"], color="0.6", lw=2, zorder=1)
            ax.scatter(d["customer"], y, color=CUSTOMER_COLOR, s=36, zorder=2, label="Customers' view")
            ax.scatter(d["provider"], y, color=PROVIDER_COLOR, s=36, zorder=3, label="Provider's self-view")
            for yi, (_, r) in zip(y, d.iterrows()):
                ax.annotate(f"{r['estimate']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]",
                            (hi, yi), xytext=(0, 6), textcoords="offset points", ha="right", fontsize=7,
                            color="0.3")
            ax.set_title(c)
            ax.set_yticks(y, firms)
            ax.set_xlim(lo, hi)
            ax.invert_yaxis() if ax is axes.ravel()[0] else None
            ax.grid(axis="x", color="0.9")
        for ax in axes.ravel()[len(cons):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("Mean score (1-7)")
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
        if title:
            fig.suptitle(_labelled(title, gaps))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def readiness_quadrant(readiness, *, x: str = "OPROC", y: str = "CPROC", ax=None,
                       title: str | None = "Readiness quadrant"):
    """Understanding of the customers (y, default CPROC) against understanding of the firm's own (x, OPROC).

    One point per group (firm, and role as the marker) at the group means of the
    two construct scores.  Points above the diagonal understand their customers'
    processes better than their own (outside-in); below it, inside-out.  Use
    ``x="OQUAL", y="CQUAL"`` for quality.

    Parameters
    ----------
    readiness : ReadinessResult or DataFrame
        A :func:`custval.readiness` result (its ``construct_means``) or a frame with
        ``firm``, optionally ``role``, and the two construct columns (rows are averaged).
    x, y : str
        The constructs on the horizontal and vertical axes.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    title : str or None
        The plot title (``None``: no title).

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    custval.gaps.readiness : The indices plotted.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from custval.plots_gaps import readiness_quadrant
    >>> s = pd.DataFrame({"firm": ["A", "A", "B"], "OPROC": [5, 6, 4], "CPROC": [4, 5, 5]})
    >>> ax = readiness_quadrant(s)
    >>> ax.get_xlabel()
    'Understanding of own processes (OPROC)'
    >>> # In R: ggplot(m, aes(OPROC, CPROC, label = firm)) + geom_point() + geom_abline()
    """
    scores = getattr(readiness, "construct_means", readiness)
    scores = _table(scores, ["firm", x, y], "readiness_quadrant")
    keys = [k for k in ("firm", "role") if k in scores.columns]
    m = scores.groupby(keys)[[x, y]].mean().reset_index()
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(5.2, 5.0))
        lo = float(np.nanmin(m[[x, y]].to_numpy())) - 0.4
        hi = float(np.nanmax(m[[x, y]].to_numpy())) + 0.4
        ax.plot([lo, hi], [lo, hi], color="0.6", ls="--", lw=1, zorder=0)
        ax.text(hi, hi, "  equal\n  understanding", fontsize=7, color="0.4", va="top", ha="right")
        markers = {"manager": "s", "staff": "o"}
        colors = [v for k, v in OKABE_ITO.items() if k != "yellow"]  # yellow is too faint on white
        firms = list(dict.fromkeys(m["firm"]))
        for _, r in m.iterrows():
            col = colors[firms.index(r["firm"]) % len(colors)]
            ax.scatter(r[x], r[y], color=col, marker=markers.get(r.get("role"), "o"), s=50, zorder=2)
            ax.annotate(str(r["firm"]), (r[x], r[y]), xytext=(4, 3), textcoords="offset points", fontsize=8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(f"Understanding of own processes ({x})")
        ax.set_ylabel(f"Understanding of customers' processes ({y})")
        ax.text(lo + 0.05, hi - 0.05, "outside-in", fontsize=8, color="0.35", va="top")
        ax.text(hi - 0.05, lo + 0.05, "inside-out", fontsize=8, color="0.35", ha="right")
        if "role" in m.columns:
            for role, mk in markers.items():
                ax.scatter([], [], marker=mk, color="0.3", label=role)
            ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1, 0.08))
        if title:
            ax.set_title(_labelled(title, readiness))
    return ax


def role_comparison(readiness, *, ax=None, title: str | None = "Managers minus operational staff"):
    """Forest plot of the manager-minus-staff difference per firm and readiness index, with CIs.

    Parameters
    ----------
    readiness : ReadinessResult or DataFrame
        A :func:`custval.readiness` result computed ``by=("firm", "role")`` (its
        ``role_difference``) or a frame with firm, index, estimate, ci_low, ci_high.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    title : str or None
        The plot title (``None``: no title).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    SpecificationError
        The readiness result has no role difference.

    See Also
    --------
    custval.gaps.readiness : The role differences plotted.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from custval import load_instrument
    >>> from custval.gaps import readiness
    >>> from custval.plots_gaps import role_comparison
    >>> from custval.simulate import case_study
    >>> prov, _ = case_study(seed=0).validated()
    >>> ax = role_comparison(readiness(prov, load_instrument("cwi"), n_boot=200))
    >>> ax.get_xlabel()
    'Manager - staff (score points)'
    >>> # In R: ggplot(d, aes(estimate, firm, xmin = ci_low, xmax = ci_high)) + geom_pointrange() + facet_wrap(~index)
    """
    t = getattr(readiness, "role_difference", readiness)
    if t is None:
        raise SpecificationError("role_comparison: the readiness result has no role difference (use by with 'role')")
    t = _table(t, ["firm", "index", "estimate", "ci_low", "ci_high"], "role_comparison")
    idx = list(dict.fromkeys(t["index"]))
    firms = list(dict.fromkeys(t["firm"]))
    colors = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermilion")]
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 0.5 * len(firms) + 1.5))
        step = 0.8 / max(len(idx), 1)
        for k, name in enumerate(idx):
            d = t[t["index"] == name].set_index("firm").loc[firms]
            yy = np.arange(len(firms)) + (k - (len(idx) - 1) / 2) * step
            ax.errorbar(d["estimate"], yy, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt="o", ms=4, color=colors[k % len(colors)], capsize=2, label=name.replace("_", " "))
        ax.axvline(0, color="0.5", lw=1)
        ax.set_yticks(np.arange(len(firms)), firms)
        ax.invert_yaxis()
        ax.set_xlabel("Manager - staff (score points)")
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if title:
            ax.set_title(_labelled(title, readiness))
    return ax


def segment_profiles(segments, *, ax=None, title: str | None = "Co-creation segments"):
    """Mean keyed COCR item scores per segment (lines), segment sizes in the legend.

    Parameters
    ----------
    segments : SegmentResult
        The result of :func:`custval.cocreation_segments` (its ``profiles`` and ``sizes``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    title : str or None
        The plot title (``None``: no title).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    SpecificationError
        ``segments`` is not a co-creation segmentation result.

    See Also
    --------
    custval.gaps.cocreation_segments : The segments plotted.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from custval import load_instrument
    >>> from custval.gaps import cocreation_segments
    >>> from custval.plots_gaps import segment_profiles
    >>> from custval.simulate import case_study
    >>> _, cust = case_study(seed=0).validated()
    >>> ax = segment_profiles(cocreation_segments(cust, load_instrument("cwi"), k=2))
    >>> len(ax.get_lines())
    2
    >>> # In R: matplot(t(profiles), type = "b")
    """
    prof = getattr(segments, "profiles", None)
    sizes = getattr(segments, "sizes", None)
    if prof is None or sizes is None:
        raise SpecificationError("segment_profiles: pass the result of custval.cocreation_segments")
    cols = [c for c in prof.columns if c != "COCR_score"]
    colors = list(OKABE_ITO.values())
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 3.8))
        x = np.arange(len(cols))
        for k, (seg, row) in enumerate(prof[cols].iterrows()):
            n, share = sizes.loc[seg, "n"], sizes.loc[seg, "share"]
            ax.plot(x, row.to_numpy(), marker="o", color=colors[k % len(colors)],
                    label=f"Segment {seg} (n = {n}, {share:.0%})")
        ax.set_xticks(x, cols)
        ax.set_ylim(1, 7)
        ax.set_ylabel("Mean keyed score (1-7)")
        ax.legend(frameon=False, fontsize=8)
        if title:
            ax.set_title(_labelled(title, segments))
    return ax


def latent_gap_plot(latent, *, observed=None, truth=None, title: str | None = "Latent-mean perception gaps",
                    figsize=None):
    """Latent-mean gaps per firm (rows) and construct (panels) with CIs, beside observed-score effect sizes.

    Parameters
    ----------
    latent : LatentGapResult or DataFrame
        From :func:`custval.gaps.latent_perception_gap` with ``by="firm"`` (firm, construct,
        estimate, ci_low, ci_high): provider minus customer in provider latent SD units.  An
        undefined firm-construct (NaN estimate; its ``reason`` in the table) is labelled
        "undefined (see reason)" in its row.
    observed : PerceptionGapResult or DataFrame, optional
        From :func:`custval.perception_gap` (``match="firm"``): its ``effect_size`` (Cohen's *d*,
        pooled observed SD) is drawn as an open marker.
    truth : DataFrame, optional
        firm, construct, truth (e.g. the simulated population value), drawn as a cross.
    title : str or None
        The plot title (``None``: no title).
    figsize : (float, float), optional
        Figure size in inches; by default it grows with the number of firms and panels.

    Returns
    -------
    matplotlib.figure.Figure

    See Also
    --------
    custval.gaps.latent_perception_gap : The latent-mean gaps plotted.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from custval.plots_gaps import latent_gap_plot
    >>> t = pd.DataFrame({"firm": ["F1", "F2"], "construct": "CPROC", "estimate": [0.1, 0.8],
    ...                   "ci_low": [-0.4, 0.2], "ci_high": [0.6, 1.4]})
    >>> fig = latent_gap_plot(t)
    >>> fig.axes[0].get_xlabel()
    'Provider - customer (SD units)'
    >>> # In R: ggplot(d, aes(estimate, firm, xmin = ci_low, xmax = ci_high)) + geom_pointrange() + facet_wrap(~construct)
    """
    t = _table(latent, ["firm", "construct", "estimate", "ci_low", "ci_high"], "latent_gap_plot")
    obs = None if observed is None else _table(observed, ["firm", "construct", "effect_size"], "latent_gap_plot")
    cons = list(dict.fromkeys(t["construct"]))
    firms = list(dict.fromkeys(t["firm"]))
    ncol = min(3, len(cons))
    nrow = int(np.ceil(len(cons) / ncol))
    with style():
        fig, axes = plt.subplots(nrow, ncol, figsize=figsize or (3.6 * ncol, 0.42 * len(firms) * nrow + 1.8),
                                 sharex=True, sharey=True, squeeze=False)
        y = np.arange(len(firms))
        for ax, c in zip(axes.ravel(), cons):
            d = t[t["construct"] == c].set_index("firm").reindex(firms)
            ax.errorbar(d["estimate"], y, xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                        fmt="o", ms=5, color=PROVIDER_COLOR, capsize=2, label="Latent gap (95% CI)", zorder=3)
            # an undefined firm-construct (too few complete respondents) is labelled, not left blank
            for yi in y[d["estimate"].isna().to_numpy() & d.index.isin(t.loc[t["construct"] == c, "firm"])]:
                ax.text(0.02, yi, "undefined (see reason)", transform=ax.get_yaxis_transform(), va="center",
                        fontsize=7, color="0.35")
            if obs is not None:
                o = obs[obs["construct"] == c].set_index("firm").reindex(firms)
                ax.scatter(o["effect_size"], y + 0.25, facecolors="none", edgecolors=CUSTOMER_COLOR, s=30,
                           label="Observed-score d", zorder=2)
            if truth is not None:
                tr = truth[truth["construct"] == c].set_index("firm").reindex(firms)
                ax.scatter(tr["truth"], y, marker="x", color="0.2", s=30, label="Simulated truth", zorder=4)
            ax.axvline(0, color="0.5", lw=1)
            ax.set_title(c)
            ax.set_yticks(y, firms)
            ax.grid(axis="x", color="0.9")
        axes.ravel()[0].invert_yaxis()
        for k, ax in enumerate(axes.ravel()):
            if k >= len(cons):
                ax.set_visible(False)
            elif k + ncol >= len(cons):  # lowest visible panel of its column
                ax.tick_params(labelbottom=True)
                ax.set_xlabel("Provider - customer (SD units)")
        handles, labels = axes.ravel()[0].get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("Latent"))
        fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower center",
                   ncol=len(labels), frameon=False)
        if title:
            fig.suptitle(_labelled(title, latent))
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
