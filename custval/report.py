"""Notebook helpers for the report step: figures saved once and shown once, warnings on one line.

Notebooks call these instead of defining their own, so every notebook saves figures the same
way (PNG and SVG in ``reports/figures``) and prints warnings without machine-specific paths,
which keeps re-executed output identical across machines (nbval).
"""

from __future__ import annotations

import warnings

__all__ = ["one_line_warnings", "show_figure"]


def _one_line(message, category, filename, lineno, file=None, line=None):
    print(f"{category.__name__}: {message}")


def one_line_warnings() -> None:
    """Print every warning as ``Class: message`` (no file path or line number).

    Examples
    --------
    >>> import warnings
    >>> one_line_warnings()
    >>> from custval.exceptions import FewItemsWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("always")
    ...     warnings.warn("construct CUSA has 1 item", FewItemsWarning)
    FewItemsWarning: construct CUSA has 1 item
    >>> warnings.showwarning = warnings._showwarning_orig  # restore the default display

    # In R: no equivalent (R prints warnings without file paths already).
    """
    warnings.showwarning = _one_line


def show_figure(fig_or_ax, name: str, directory=None):
    """Save a figure (PNG and SVG, via :func:`custval.plots.save_figure`), show it once, close it.

    ``fig_or_ax`` is a matplotlib Figure or Axes; ``name`` the file stem in
    ``reports/figures`` (or ``directory``).  Returns the saved paths.

    # In R: ggplot2::ggsave() followed by print().
    """
    import matplotlib.pyplot as plt

    from .plots import save_figure

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    paths = save_figure(fig, name, directory)
    try:
        from IPython.display import display
    except ImportError:  # outside IPython: saving is enough
        pass
    else:
        display(fig)
    plt.close(fig)
    return paths
