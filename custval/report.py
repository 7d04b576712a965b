"""Notebook helpers for the report step: figures saved once and shown once, warnings on one line.

Notebooks call these instead of defining their own, so every notebook saves figures the same
way (PNG and SVG in ``reports/figures``) and prints warnings without machine-specific paths,
which keeps re-executed output identical across machines (nbval).
"""

from __future__ import annotations

import contextlib
import math
import warnings

from .exceptions import SpecificationError

__all__ = ["difference_bound", "expected_warnings", "format_difference", "one_line_warnings",
           "show_figure"]

#: Differences from a reference below this are floating-point noise: their digits change with the
#: CPU's BLAS kernel, so they are shown as a bound, never as digits.
NOISE_FLOOR = 1e-12


def _one_line(message, category, filename, lineno, file=None, line=None):
    print(f"{category.__name__}: {message}")


def one_line_warnings() -> None:
    """Print every warning as ``Class: message`` (no file path or line number).

    See Also
    --------
    custval.report.expected_warnings : Collect the expected warnings of a block.

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


def difference_bound(x: float, *, floor: float = NOISE_FLOOR) -> float:
    """The smallest power of ten at or above ``|x|``, and at least ``floor``.

    A difference between custval and a reference (R) is shown by its order of magnitude: the
    digits of a difference near rounding error vary between CPUs (BLAS kernels sum in different
    orders), the bound does not.  Sort rows by this bound (with a stable sort), not by the raw
    difference, so their order does not change between machines either.

    Parameters
    ----------
    x : float
        A difference (its absolute value is used).
    floor : float, default=1e-12
        Differences below this are reported as ``floor``.

    Returns
    -------
    float
        ``10 ** ceil(log10(|x|))``, at least ``floor``; NaN stays NaN.

    See Also
    --------
    custval.report.format_difference : The bound as text.

    Examples
    --------
    >>> difference_bound(6.7e-16), difference_bound(3.2e-7), difference_bound(-0.02)
    (1e-12, 1e-06, 0.1)

    # In R: no equivalent (printing a difference rounds it: signif(x, 1)).
    """
    x = abs(float(x))
    if math.isnan(x):
        return x
    if x < floor:
        return floor
    bound = 10.0 ** math.ceil(math.log10(x))
    return bound if bound >= x else bound * 10.0


def format_difference(x: float, *, floor: float = NOISE_FLOOR) -> str:
    """A difference from a reference for display: ``"< 1e-12"``, ``"< 1e-06"``, ``"= 0"``.

    The bound of :func:`difference_bound` is printed (``"<= 1e-06"`` when the difference is
    exactly a power of ten), so a notebook shows the same text on every machine.  An exact zero
    prints as ``"= 0"``; a missing value as ``"n/a"``.

    Parameters
    ----------
    x : float
        The difference (its absolute value is used).
    floor : float
        Differences below ``floor`` print as ``"< floor"``.

    Returns
    -------
    str
        The bound as text.

    See Also
    --------
    difference_bound : The bound as a number.

    Examples
    --------
    >>> [format_difference(d) for d in (6.7e-16, 2.5e-15, 3.2e-07, 0.0, 1e-3)]
    ['< 1e-12', '< 1e-12', '< 1e-06', '= 0', '<= 0.001']

    # In R: no equivalent.
    """
    x = abs(float(x))
    if math.isnan(x):
        return "n/a"
    if x == 0.0:
        return "= 0"
    bound = difference_bound(x, floor=floor)
    return f"{'<=' if bound == x else '<'} {bound:g}"


def show_figure(fig_or_ax, name: str, *, directory=None):
    """Save a figure (PNG and SVG, via :func:`custval.plots.save_figure`), show it once, close it.

    Parameters
    ----------
    fig_or_ax : matplotlib Figure or Axes
        The figure (or an Axes of it).
    name : str
        The file stem.
    directory : path, optional
        Where to save (None: ``reports/figures``).

    Returns
    -------
    list of Path
        The saved files.

    # In R: ggplot2::ggsave() followed by print().

    See Also
    --------
    custval.plots.save_figure : Saves the figure.
    """
    import matplotlib.pyplot as plt

    from .plots import save_figure

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    paths = save_figure(fig, name, directory=directory)
    try:
        from IPython.display import display
    except ImportError:  # outside IPython: saving is enough
        pass
    else:
        display(fig)
    plt.close(fig)
    return paths


@contextlib.contextmanager
def expected_warnings(*categories: type[Warning], stream=None):
    """Collect the expected warnings of a block and print one line per class instead.

    Procedures that refit a model many times (an invariance sequence, a ranking of
    partial-invariance candidates) repeat the same warning at every refit.  Inside this
    context, warnings of the given ``categories`` (typed custval warnings such as
    :class:`~custval.exceptions.HeywoodWarning`) are counted and, when the block ends,
    summarised as ``Class (expected, n x): first message``; the warning is not lost, only
    not repeated.  Every other warning is passed on unchanged when the block ends, so an
    unexpected warning still shows (or fails a test).  The summary goes to ``stream``
    (default: standard output, which notebooks keep).

    Parameters
    ----------
    *categories : type
        The expected warning classes (subclasses of :class:`Warning`).
    stream : file-like, optional
        Where the summary is printed; standard output by default.

    Yields
    ------
    None
        The block runs inside the context.

    Raises
    ------
    SpecificationError
        No warning class was given.

    See Also
    --------
    custval.report.one_line_warnings : Print every warning on one line.

    Examples
    --------
    >>> import warnings
    >>> from custval.exceptions import HeywoodWarning
    >>> with expected_warnings(HeywoodWarning):
    ...     for group in ("A", "B", "C"):
    ...         warnings.warn(f"Heywood case in group {group}", HeywoodWarning)
    HeywoodWarning (expected, 3x): Heywood case in group A

    # In R: withCallingHandlers(expr, warning = function(w) {...; invokeRestart("muffleWarning")})
    """
    import sys

    if not categories or not all(isinstance(c, type) and issubclass(c, Warning) for c in categories):
        raise SpecificationError(
            f"expected_warnings() needs one or more Warning classes (e.g. HeywoodWarning); got {categories!r}"
        )
    counts: dict[type, list] = {}
    passed_on: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                for w in caught:
                    if issubclass(w.category, categories):
                        counts.setdefault(w.category, [0, str(w.message)])[0] += 1
                    else:
                        passed_on.append(w)
    finally:
        for w in passed_on:  # outside the recording context: the caller's filters apply
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        out = sys.stdout if stream is None else stream
        for cat, (n, first) in counts.items():
            print(f"{cat.__name__} (expected, {n}x): {first}", file=out)
