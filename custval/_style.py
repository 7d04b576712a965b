"""custval's figure style: a small rc context and colour-blind-safe palettes.

The style is applied with :func:`style` (a ``matplotlib.rc_context``), never by
changing the global ``rcParams``, so importing custval does not restyle a
user's other figures.
"""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib as mpl
import numpy as np

#: Okabe & Ito (2008) qualitative palette, safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermilion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}

#: Diverging colour map for signed statistics (loadings, correlations): ColorBrewer RdBu,
#: negative = red, positive = blue (colour-blind safe per ColorBrewer).
DIVERGING_CMAP = "RdBu"
#: Sequential colour map for non-negative statistics (HTMT): ColorBrewer Blues (CVD safe);
#: outlines on it are drawn in Okabe-Ito vermilion, which contrasts with every blue.
SEQUENTIAL_CMAP = "Blues"
#: Neutral (scale-midpoint) colour in Likert bars.
NEUTRAL = "#BDBDBD"

RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text in SVG (editable, searchable)
    "svg.hashsalt": "custval",  # deterministic SVG ids
    "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO.values())),
}


@contextmanager
def style():
    """Context in which custval draws its figures."""
    with mpl.rc_context(RC):
        yield


def likert_colors(n_categories: int) -> list[tuple[float, float, float, float]]:
    """Diverging colours for ``n`` ordered categories (brown = low, teal = high).

    Taken from ColorBrewer BrBG (colour-blind safe), skipping its near-white
    centre so that every category stays visible on a white background; an odd
    middle category (the neutral point) is grey.
    """
    cmap = mpl.colormaps["BrBG"]
    half = n_categories // 2
    low = [cmap(v) for v in np.linspace(0.05, 0.36, half)] if half > 1 else [cmap(0.25)] * half
    high = [cmap(v) for v in np.linspace(0.64, 0.95, half)] if half > 1 else [cmap(0.75)] * half
    middle = [mpl.colors.to_rgba(NEUTRAL)] if n_categories % 2 else []
    return low + middle + high


def text_color(rgba) -> str:
    """Black or white, whichever reads better on ``rgba`` (WCAG relative luminance)."""
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if lum > 0.179 else "white"
