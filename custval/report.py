"""The report step: the validation dossier, and notebook helpers (figures saved once and shown
once, warnings on one line).

:func:`dossier` writes one self-contained HTML file with every measurement check of an
instrument on one data set, for reviewers and for the firms themselves (also on the command
line: ``custval report DATA --instrument CODEBOOK --out FILE.html``).

Notebooks call the helpers instead of defining their own, so every notebook saves figures the same
way (PNG and SVG in ``reports/figures``) and prints warnings without machine-specific paths,
which keeps re-executed output identical across machines (nbval).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._results import ResultMixin
from .exceptions import SpecificationError

__all__ = ["Dossier", "difference_bound", "dossier", "expected_warnings", "format_difference",
           "one_line_warnings", "show_figure"]

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
    None
        Nothing, so that a notebook cell ending in this call shows the figure and not the
        paths of the saved files (which name the machine's folders);
        :func:`custval.plots.save_figure` returns them.

    See Also
    --------
    custval.plots.save_figure : Saves the figure and returns the paths.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt, tempfile
    >>> fig, ax = plt.subplots()
    >>> print(show_figure(fig, "example", directory=tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    Figure(...)
    None
    >>> # In R: ggplot2::ggsave() followed by print().
    """
    import matplotlib.pyplot as plt

    from .plots import save_figure

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    save_figure(fig, name, directory=directory)
    try:
        from IPython.display import display
    except ImportError:  # outside IPython: saving is enough
        pass
    else:
        display(fig)
    plt.close(fig)


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


@dataclass(frozen=True, eq=False)
class Dossier(ResultMixin):
    """A validation dossier: the HTML page and the numbers, deviations and JARS items in it.

    Attributes
    ----------
    html : str
        The self-contained HTML page (styles and figures inside; no external resource, no script).
    path : str or None
        Where the page was written (``None`` when ``out`` was not given).
    numbers : DataFrame
        Every number written into the page, indexed by the key of its cell (the page's
        ``data-key`` attribute, ``section|row|column``): ``value`` (unrounded, as in the
        cell's ``data-value``), ``n``, ``convention`` and ``r_call``.
    deviations : DataFrame
        One row per deviation from the measurement plan: ``rule``, ``planned``, ``done``, ``reason``.
    jars : DataFrame
        The APA JARS-Quant measurement items: ``area``, ``item``, ``status``
        (``filled`` / ``partial`` / ``missing``) and ``reported``.
    warnings : tuple of (str, str)
        Every custval warning issued while computing (class name, message); listed in the page.
    seed : int
        The seed of every resampling step.
    n_boot : int
        Bootstrap resamples of the alpha/omega intervals and of HTMT.
    results : dict
        The result objects each section was written from (``"screen"``, ``"items"``,
        ``"reliability"``, ``"parallel_analysis"``, ``"map"``, ``"efa"``, ``"cfa"``, ``"cr_ave"``,
        ``"htmt"``, ``"invariance"``, ``"gaps"`` ...).

    See Also
    --------
    custval.report.dossier : The function that returns it.
    """

    html: str = field(repr=False)
    path: str | None
    numbers: pd.DataFrame = field(repr=False)
    deviations: pd.DataFrame = field(repr=False)
    jars: pd.DataFrame = field(repr=False)
    warnings: tuple = field(repr=False)
    seed: int
    n_boot: int
    results: dict = field(repr=False, compare=False)

    _title = "Validation dossier"

    def to_frame(self) -> pd.DataFrame:
        return self.numbers

    def _display_frame(self) -> pd.DataFrame:
        return self.deviations


def dossier(data, instrument, *, out=None, plan=None, group: str | None = None, seed: int = 0,
            customer_data=None, form: str | None = None, id_column: str | None = None,
            n_boot: int = 500, overwrite: bool = False) -> Dossier:
    """Validate an instrument on one data set and write everything into one HTML file.

    The page, for a reader who does not write code, has: the measurement plan and every
    deviation from it with its reason; how the file was read and which rows were left out and
    why; careless-response screening and the exclusions the plan asks for; item analysis;
    reliability (alpha, omega) with bootstrap intervals; dimensionality (parallel analysis,
    Velicer's MAP, EFA with the plan's number of factors); the CFA of the codebook's structure
    with its fit; CR, AVE and HTMT; measurement invariance when `group` is given; perception
    gaps when a `customer_data` form is given; the APA JARS-Quant measurement items (Appelbaum et al.,
    2018) filled in from the results, with what is missing marked; the warnings of the run; and
    the seed, the versions (custval, numpy, scipy, pandas, matplotlib) and the SHA-256 of the
    data file, the codebook, the plan and the lock file (``requirements.lock`` found in the
    folder of the data, of the codebook or the working folder, or one of their parents; else
    "not available").  Each section states its n, its convention and its R equivalent; every
    number carries its unrounded value in a ``data-value`` attribute.

    The page is one file: styles inline, figures as embedded SVG images, no script and no
    external resource, so it opens offline and can be mailed.  Custval warnings issued while
    computing are recorded in the page (and in :attr:`Dossier.warnings`), not re-issued.

    Parameters
    ----------
    data : str, Path or DataFrame
        A survey export, read with :func:`custval.read_survey` (so messy exports work), or a
        frame (validated with :func:`custval.validate_frame` unless it came from them).
    instrument : Instrument, str or Path
        The codebook (an :class:`custval.Instrument`, a shipped name or a YAML path).
    out : str or Path, optional
        Where to write the HTML page; nothing is written when omitted.
    plan : str, Path or MeasurementPlan, optional
        A measurement plan (``custval-plan/1`` YAML, see the guide "A validation dossier for
        reviewers and firms"): estimator by scale points, exclusion rules, factor-retention
        rule, invariance criteria, HTMT bound, item-drop policy.  Without one, custval's
        defaults are used and the page says they were not fixed before the data.
    group : str, optional
        A column of the data: measurement invariance across its groups.
    seed : int, default 0
        Seed of every resampling step (bootstrap intervals, parallel analysis).
    customer_data : str, Path or DataFrame, optional
        The customer form's answers when `data` holds the provider form of an instrument with
        provider/customer pairs: adds :func:`custval.gaps.perception_gap` (units matched by
        its default ``match="account"``).
    form : {"provider", "customer"}, optional
        For an instrument with provider and customer forms: the form `data` holds; the
        measurement sections use that form's items.  Default ``"provider"``.
    id_column : str, optional
        Respondent id column, passed to :func:`custval.read_survey`.
    n_boot : int, default 500
        Bootstrap resamples for the alpha/omega intervals and HTMT (a modest count that keeps
        the dossier of bfi, 2800 x 25, under about 20 s; stated in the page).
    overwrite : bool, default False
        Write over an existing `out`; otherwise an existing file is an error.

    Returns
    -------
    Dossier
        The page and the numbers, deviations and JARS items in it.

    Raises
    ------
    SpecificationError
        `out` exists and `overwrite` is False; the plan is faulty (every problem with its key and
        line); `group` is not a column.
    DataValidationError
        The data do not satisfy the codebook (from :func:`custval.read_survey`).

    See Also
    --------
    custval.ingest.read_survey : Reads the export.
    custval.screening.screen : The careless-response screening.
    custval.reliability.scale_reliability : Alpha and omega per construct.
    custval.cfa.CFA : The confirmatory factor analysis.
    custval.validity.htmt : Discriminant validity.

    Examples
    --------
    >>> import custval
    >>> ds = custval.load_dataset("bfi")
    >>> d = custval.report.dossier(ds.data.iloc[:400], ds.instrument, n_boot=50)
    >>> d.html.startswith("<!DOCTYPE html>"), "<script" in d.html
    (True, False)
    >>> float(d.numbers.loc["reliability|A|alpha", "value"]) > 0.5
    True

    # In R: no single equivalent (each section names its R call: psych::alpha, psych::fa.parallel,
    # lavaan::cfa, semTools::htmt, semTools::measEq.syntax)
    """
    from ._report.dossier import build

    if out is not None:
        out = Path(out)
        if out.exists() and not overwrite:
            raise SpecificationError(f"{out} exists; it is not written over (pass overwrite=True, "
                                     "or --overwrite on the command line)")
        if not out.parent.is_dir():
            raise SpecificationError(f"{out}: the folder {out.parent} does not exist")
    run = build(data, instrument, plan=plan, group=group, seed=seed, customer=customer_data,
                id_column=id_column, n_boot=n_boot, form=form)
    if out is not None:
        tmp = out.with_name(out.name + ".part")
        tmp.write_text(run.html, encoding="utf-8")
        os.replace(tmp, out)
    return Dossier(html=run.html, path=None if out is None else str(out), numbers=run.numbers,
                   deviations=run.deviations, jars=run.jars, warnings=run.warnings, seed=seed,
                   n_boot=n_boot, results=run.results)
