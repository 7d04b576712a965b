"""Construct validity: HTMT, cross-loadings, composite reliability, AVE,
Fornell-Larcker, a common-method factor check and a measurement table.

Every coefficient names its convention and the equivalent R call.  The
closed forms follow semTools (``htmt``, ``compRelSEM``, ``AVE``) to machine
precision; see ``tests/r/validity.R`` for the golden values.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._results import ResultMixin
from ._sem.spec import as_instrument, measurement_blocks, model_and_data
from ._stats.htmt import htmt_from_correlations, multinomial_weights, weighted_correlations
from .exceptions import (
    BootstrapWarning,
    ConstantItemError,
    ConstantItemWarning,
    DataValidationError,
    FewItemsWarning,
    HeywoodWarning,
    InsufficientDataError,
    MissingDataWarning,
    MixedIndicatorsWarning,
    NotPositiveDefiniteWarning,
    ReverseKeyWarning,
    SpecificationError,
)

__all__ = [
    "CommonMethodResult",
    "ConstructReliabilityResult",
    "CrossLoadingsResult",
    "FornellLarckerResult",
    "HTMTResult",
    "MeasurementTable",
    "ave",
    "common_method_cfa",
    "composite_reliability",
    "cross_loadings",
    "fornell_larcker",
    "htmt",
    "cr_ave",
    "measurement_table",
    "omega_hierarchical",
]

#: Henseler, Ringle & Sarstedt (2015) thresholds: strict HTMT.85, liberal HTMT.90.
HTMT_THRESHOLDS = (0.85, 0.90)


# --------------------------------------------------------------------------- blocks
def _blocks(spec) -> dict[str, tuple[str, ...]]:
    """Constructs -> items from an Instrument, lavaan syntax or a mapping (:mod:`custval._sem.spec`),
    each item in one construct, at least two constructs."""
    blocks = measurement_blocks(spec)
    seen: dict[str, str] = {}
    for construct, items in blocks.items():
        if len(items) == 0:
            raise SpecificationError(f"construct {construct!r} has no items")
        for item in items:
            if item in seen and seen[item] != construct:
                raise SpecificationError(
                    f"item {item!r} is listed under both {seen[item]!r} and {construct!r}; "
                    "HTMT and cross-loadings need each item in exactly one construct"
                )
            seen[item] = construct
    if len(blocks) < 2:
        raise SpecificationError(
            f"at least two constructs are needed; got {len(blocks)} ({', '.join(blocks)})"
        )
    return blocks


@dataclasses.dataclass(frozen=True)
class _Data:
    x: np.ndarray
    items: tuple[str, ...]
    n_rows: int
    n_used: int
    n_excluded: int


def _prepare(data, items: tuple[str, ...], spec, *, nan_policy: str, what: str) -> _Data:
    """Validated complete-case item matrix; never imputes.  Reverse-keyed items of an
    Instrument are recoded as ``min + max - x`` of the item's own scale (as ``Instrument.keyed``),
    except those a frame from ``Instrument.keyed`` records as keyed already."""
    if nan_policy != "listwise":
        raise SpecificationError(f"nan_policy must be 'listwise' (semTools' missing = \"listwise\"); "
                                 f"got {nan_policy!r}")
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise SpecificationError(
            f"{len(absent)} item(s) of the model are not columns of the data: {', '.join(absent)}"
        )
    frame = data.loc[:, list(items)]
    bad = [c for c in items if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataValidationError(
            f"{what} needs numeric items; non-numeric column(s): {', '.join(bad)} "
            f"(dtypes: {', '.join(str(frame[c].dtype) for c in bad)})",
            problems=[{"rule": "numeric", "column": c, "rows": None, "row_counting": None,
                       "values": None, "n": None, "allowed": "numbers"} for c in bad],
        )
    x = frame.to_numpy(dtype=float)
    if np.isinf(x).any():
        cols = [items[j] for j in np.flatnonzero(np.isinf(x).any(axis=0))]
        raise DataValidationError(f"infinite values in item(s) {', '.join(cols)}; allowed: finite numbers or NaN")
    codes = tuple(getattr(spec, "missing_codes", ()) or ()) + tuple(getattr(spec, "dont_know_codes", ()) or ())
    if codes:
        hits = [c for j, c in enumerate(items) if np.isin(x[:, j], codes).any()]
        if hits:
            raise DataValidationError(
                f"item(s) {', '.join(hits)} contain the declared missing/don't-know code(s) "
                f"{', '.join(map(str, codes))}; convert them to NaN first (custval.read_survey does) - "
                "they are not numbers to correlate"
            )
    # a frame from Instrument.keyed (attrs record) is not keyed a second time
    from ._keys import keyed_marker

    mark = keyed_marker(data)
    done = set(mark["items"]) if mark is not None else set()
    reverse = [c for c in items if c in (getattr(spec, "reverse_items", None) or ()) and c not in done]
    if reverse:
        # reverse keying as Instrument.keyed: min + max - x of each item's own scale (after the code check)
        from .scoring import key_codes

        x = key_codes(x, spec, items=items, skip=done)
    complete = ~np.isnan(x).any(axis=1)
    n_rows = x.shape[0]
    n_used = int(complete.sum())
    if n_used < n_rows:
        per_item = {c: int(np.isnan(x[:, j]).sum()) for j, c in enumerate(items) if np.isnan(x[:, j]).any()}
        warnings.warn(
            f"{what}: listwise deletion drops {n_rows - n_used} of {n_rows} rows with a missing item "
            f"(missing per item: {per_item}); {n_used} rows used",
            MissingDataWarning,
            stacklevel=3,
        )
    x = x[complete]
    if n_used < 3:
        raise InsufficientDataError(f"{what} needs at least 3 complete rows; {n_used} of {n_rows} are complete")
    sd = x.std(axis=0)
    const = [c for j, c in enumerate(items) if not sd[j] > 0]
    if const:
        raise ConstantItemError(
            f"item(s) {', '.join(const)} are constant in the {n_used} complete rows; "
            "their correlations are undefined"
        )
    return _Data(x=x, items=items, n_rows=n_rows, n_used=n_used, n_excluded=n_rows - n_used)


# --------------------------------------------------------------------------- HTMT
def _percentile(boot: np.ndarray, q) -> np.ndarray:
    """Percentile of bootstrap draws along axis 0 ignoring failed (NaN) draws.

    numpy's default (linear) interpolation; ``custval._stats.bootstrap`` did not
    exist when this was written, so this small helper is kept private here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(boot, q, axis=0)


def _htmt_verdict(bound: float, thresholds: tuple[float, float]) -> str:
    strict, liberal = thresholds
    if not np.isfinite(bound):
        return "undefined"
    if bound < strict:
        return f"established (< {strict:g})"
    if bound < liberal:
        return f"established only at the liberal {liberal:g} threshold"
    return f"not established (>= {liberal:g})"


@dataclasses.dataclass(frozen=True, eq=False)
class HTMTResult(ResultMixin):
    """Heterotrait-monotrait ratios with bootstrap intervals.

    ``matrix`` is the k × k HTMT matrix (as semTools::htmt); ``table`` has one
    row per construct pair with ``estimate, se, ci_low, ci_high`` (two-sided
    percentile interval at ``ci``), ``upper_bound`` (the one-sided percentile
    bound at ``ci``, Franke & Sarstedt, 2019), ``n`` and ``verdict``.

    Attributes
    ----------
    matrix : pandas.DataFrame
        The k × k HTMT matrix.
    table : pandas.DataFrame
        One row per construct pair: ``estimate, se, ci_low, ci_high, upper_bound, n, verdict``.
    kind : str
        ``"htmt"`` or ``"htmt2"``.
    absolute : bool
        Whether absolute correlations were used.
    ci : float
        Interval level.
    n_boot : int
        Bootstrap resamples drawn (0: none).
    n_boot_failed : int
        Resamples with a constant item (undefined HTMT), left out of the intervals.
    seed : int
        Seed of the resampling.
    n : int
        Rows used (complete cases).
    n_excluded : int
        Rows excluded (listwise deletion).
    thresholds : tuple of float
        The (strict, liberal) thresholds.
    verdict : str
        The conclusion in words.
    convention : str
        What was computed, in words.
    r_call : str
        The equivalent semTools call.
    boot : numpy.ndarray or None
        The bootstrap replicates (resamples × pairs); ``None`` without a bootstrap.

    See Also
    --------
    custval.validity.htmt : The function that returns it.
    """

    _table_kind = "htmt"  # read by custval.tables.discriminant_table

    matrix: pd.DataFrame
    table: pd.DataFrame
    kind: str
    absolute: bool
    ci: float
    n_boot: int
    n_boot_failed: int
    seed: int
    n: int
    n_excluded: int
    thresholds: tuple[float, float]
    verdict: str
    convention: str
    r_call: str
    boot: np.ndarray | None = dataclasses.field(default=None, repr=False)

    _title = "HTMT (discriminant validity)"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    @property
    def established(self) -> bool:
        """True when every pair's upper bound is below the strict threshold.

        See Also
        --------
        custval.validity.htmt : Computes the ratios and the verdict.
        """
        return bool((self.table["upper_bound"] < self.thresholds[0]).all())


def htmt(
    data: pd.DataFrame,
    instrument_or_model,
    *,
    kind: str = "htmt",
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    absolute: bool = True,
    nan_policy: str = "listwise",
    thresholds: tuple[float, float] = HTMT_THRESHOLDS,
    progress: bool = False,
) -> HTMTResult:
    r"""Heterotrait-monotrait ratio of correlations with bootstrap intervals.

    For constructs :math:`a, b` with items :math:`i \in a, j \in b`,

    .. math:: \mathrm{HTMT}_{ab} = \frac{\bar r_{ab}}{\sqrt{\bar r_{aa}\,\bar r_{bb}}}

    where :math:`\bar r_{ab}` is the mean of the :math:`|r_{ij}|` between the
    two blocks and :math:`\bar r_{aa}` the mean of the off-diagonal
    correlations within block :math:`a`.  ``kind="htmt"`` uses arithmetic
    means (Henseler, Ringle & Sarstedt, 2015); ``kind="htmt2"`` geometric
    means (Roemer, Schuberth & Henseler, 2021), which do not assume
    tau-equivalent items.  Correlations are Pearson's on the complete cases
    (listwise deletion, as ``semTools::htmt(missing = "listwise")``), and
    their absolute values are used (semTools' ``absolute = TRUE`` default;
    ``kind="htmt2"`` always uses absolute values).  A construct with a
    single item has no monotrait correlation: its row is NaN (with a
    :class:`~custval.exceptions.FewItemsWarning`), as in semTools.

    Intervals: ``n_boot`` ordinary nonparametric bootstrap resamples of the
    complete rows (``numpy.random.default_rng(seed)``), computed all at
    once as weighted correlation matrices.  ``ci_low``/``ci_high`` are the
    two-sided percentile interval at level ``ci``; ``upper_bound`` is the
    one-sided percentile bound (the ``ci`` quantile, the 95th percentile by
    default), which Franke & Sarstedt (2019) compare with the thresholds
    0.85 (strict) and 0.90 (liberal).  ``se`` is the bootstrap standard
    deviation.  With ``n_boot=0`` the verdict uses the point estimate.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric items (missing as NaN).
    instrument_or_model : Instrument, str or dict
        Instrument, lavaan syntax (``=~`` lines) or ``{construct: items}``.
    kind : {"htmt", "htmt2"}, default "htmt"
        Arithmetic or geometric means.
    ci : float, default 0.95
        Interval level in (0, 1).
    n_boot : int, default 2000
        Number of bootstrap resamples (0 = none).
    seed : int, default 0
        Seed of the resampling.
    absolute : bool, default True
        Use absolute correlations (semTools default) for ``kind="htmt"``.
    nan_policy : {"listwise"}, default "listwise"
        Only listwise deletion (semTools' ``missing = "listwise"``); the rows dropped are warned about.
    thresholds : tuple of float, default (0.85, 0.90)
        The (strict, liberal) thresholds.
    progress : bool, default False
        Show a progress bar over resample chunks.

    Returns
    -------
    HTMTResult

    Raises
    ------
    SpecificationError
        An unknown ``kind``, a ``ci`` outside (0, 1) or a negative ``n_boot``.

    Warns
    -----
    FewItemsWarning
        A construct with a single item (its HTMT values are NaN).
    ConstantItemWarning
        Bootstrap resamples with a constant item, left out of the intervals.

    See Also
    --------
    custval.validity.fornell_larcker : The Fornell-Larcker criterion.
    custval.validity.cross_loadings : Item-construct correlations.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science, 43*(1), 115-135. https://doi.org/10.1007/s11747-014-0403-8

    Franke, G., & Sarstedt, M. (2019). Heuristics versus statistics in discriminant validity
    testing: A comparison of four procedures. *Internet Research, 29*(3), 430-447.
    https://doi.org/10.1108/IntR-12-2017-0515

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. *Industrial Management
    & Data Systems, 121*(12), 2637-2650. https://doi.org/10.1108/IMDS-02-2021-0082

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.validity import htmt
    >>> mobi = load_dataset("mobi").data
    >>> blocks = {"IMAG": ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"],
    ...           "CUSA": ["CUSA1", "CUSA2", "CUSA3"],
    ...           "CUSL": ["CUSL1", "CUSL2", "CUSL3"]}
    >>> res = htmt(mobi, blocks, n_boot=500, seed=1)
    >>> print(res.matrix.round(3))
           IMAG   CUSA   CUSL
    IMAG  1.000  0.910  0.867
    CUSA  0.910  1.000  0.957
    CUSL  0.867  0.957  1.000
    >>> cols = ["construct_a", "construct_b", "upper_bound", "verdict"]
    >>> print(res.table[cols].round(3).to_string(index=False))
    construct_a construct_b  upper_bound                  verdict
           IMAG        CUSA        0.967 not established (>= 0.9)
           IMAG        CUSL        1.020 not established (>= 0.9)
           CUSA        CUSL        1.095 not established (>= 0.9)

    In R: ``semTools::htmt(model, data = mobi, htmt2 = FALSE)`` (point estimates).
    """
    if kind not in ("htmt", "htmt2"):
        raise SpecificationError(f"kind must be 'htmt' or 'htmt2'; got {kind!r}")
    if not (0 < ci < 1):
        raise SpecificationError(f"ci must be in (0, 1); got {ci!r}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise SpecificationError(f"n_boot must be a non-negative integer; got {n_boot!r}")
    n_boot = int(n_boot)
    strict, liberal = (float(t) for t in thresholds)
    blocks = _blocks(instrument_or_model)
    items = tuple(i for its in blocks.values() for i in its)
    prep = _prepare(data, items, instrument_or_model, nan_policy=nan_policy, what="htmt")
    single = [c for c, its in blocks.items() if len(its) < 2]
    if single:
        warnings.warn(
            f"construct(s) {', '.join(single)} have a single item: no monotrait correlation, "
            "so their HTMT values are NaN (as in semTools::htmt)",
            FewItemsWarning,
            stacklevel=2,
        )
    names = list(blocks)
    pos = {it: j for j, it in enumerate(items)}
    index = [np.array([pos[i] for i in its]) for its in blocks.values()]

    ones = np.ones((1, prep.n_used))
    r0 = weighted_correlations(prep.x, ones)
    est = htmt_from_correlations(r0, index, kind=kind, absolute=absolute)[0]
    matrix = pd.DataFrame(est, index=names, columns=names)

    iu, ju = np.triu_indices(len(names), k=1)
    boot = None
    n_failed = 0
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        chunks = range(0, n_boot, 500)
        if progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc="HTMT bootstrap", unit="chunk")
        parts = []
        for start in chunks:
            w = multinomial_weights(rng, prep.n_used, min(500, n_boot - start))
            rb = weighted_correlations(prep.x, w)
            parts.append(htmt_from_correlations(rb, index, kind=kind, absolute=absolute)[:, iu, ju])
        boot = np.concatenate(parts, axis=0)
        defined = np.isfinite(est[iu, ju])
        n_failed = int((~np.isfinite(boot[:, defined])).any(axis=1).sum())
        if n_failed:
            warnings.warn(
                f"htmt: {n_failed} of {n_boot} bootstrap resamples had a constant item (undefined "
                "correlation) and are left out of the intervals; recorded in n_boot_failed",
                ConstantItemWarning,
                stacklevel=2,
            )
        lo, hi = _percentile(boot, [(1 - ci) / 2, (1 + ci) / 2])
        upper = _percentile(boot, ci)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(boot, axis=0, ddof=1)
    else:
        lo = hi = se = np.full(len(iu), np.nan)
        upper = est[iu, ju]
    table = pd.DataFrame(
        {
            "construct_a": [names[i] for i in iu],
            "construct_b": [names[j] for j in ju],
            "estimate": est[iu, ju],
            "se": se,
            "ci_low": lo,
            "ci_high": hi,
            "upper_bound": upper,
            "n": prep.n_used,
        }
    )
    table["verdict"] = [_htmt_verdict(b, (strict, liberal)) for b in table["upper_bound"]]
    finite_b = table["upper_bound"][np.isfinite(table["upper_bound"])]
    if finite_b.empty:
        overall = "undefined"
    else:
        worst = float(finite_b.max())
        overall = _htmt_verdict(worst, (strict, liberal)) + " for every pair" if worst < liberal else (
            f"not established for {int((finite_b >= liberal).sum())} of {len(finite_b)} pairs"
        )
    basis = "one-sided bootstrap upper bound" if n_boot else "point estimate (no bootstrap)"
    convention = (
        f"{'HTMT2 (geometric means)' if kind == 'htmt2' else 'HTMT (arithmetic means)'} of "
        f"{'absolute ' if absolute or kind == 'htmt2' else ''}Pearson correlations, listwise; "
        f"verdict from the {basis} at {ci:g} against {strict:g}/{liberal:g} "
        "(Henseler et al., 2015; Franke & Sarstedt, 2019)"
    )
    r_call = f"semTools::htmt(model, data, missing = 'listwise', absolute = {str(absolute).upper()}, htmt2 = {str(kind == 'htmt2').upper()})"
    return HTMTResult(
        matrix=matrix, table=table, kind=kind, absolute=absolute, ci=ci, n_boot=n_boot,
        n_boot_failed=n_failed, seed=seed, n=prep.n_used, n_excluded=prep.n_excluded,
        thresholds=(strict, liberal), verdict=overall, convention=convention, r_call=r_call,
        boot=boot,
    )


# --------------------------------------------------------------------------- cross-loadings
@dataclasses.dataclass(frozen=True, eq=False)
class CrossLoadingsResult(ResultMixin):
    """Item-construct correlations.

    ``loadings``: items × constructs correlations; ``table``: per item its
    construct, the own correlation, the largest other one and whether the own
    one is the largest (``ok``).

    Attributes
    ----------
    loadings : pandas.DataFrame
        Items × constructs correlations.
    table : pandas.DataFrame
        One row per item: its construct, own correlation, ``max_other`` and ``ok``.
    corrected : bool
        Whether the item was left out of its own construct's score.
    n : int
        Rows used (complete cases).
    n_excluded : int
        Rows excluded (listwise deletion).
    verdict : str
        The conclusion in words.
    convention : str
        What was computed, in words.
    r_call : str
        The equivalent R code.

    See Also
    --------
    custval.validity.cross_loadings : The function that returns it.
    """

    loadings: pd.DataFrame
    table: pd.DataFrame
    corrected: bool
    n: int
    n_excluded: int
    verdict: str
    convention: str
    r_call: str

    _title = "Cross-loadings (item-construct correlations)"

    def to_frame(self) -> pd.DataFrame:
        return self.loadings.join(self.table.set_index("item")[["construct", "max_other", "ok"]])


def cross_loadings(
    data: pd.DataFrame, instrument, *, corrected: bool = False, nan_policy: str = "listwise"
) -> CrossLoadingsResult:
    r"""Correlations of every item with every construct's unit-weighted mean score.

    The construct score is the mean of the construct's items (after reverse
    keying when ``instrument`` is an Instrument with reverse items).  The
    correlation of an item with its own construct includes the item in the
    score (``corrected=False``, the usual cross-loading table) or leaves it
    out (``corrected=True``: the item-rest correlation).  An item passes when
    its own correlation exceeds every other one (Chin, 1998).  These are
    *mean-score* cross-loadings, not PLS or factor-score cross-loadings,
    so they differ from SmartPLS output.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric items (missing as NaN; listwise deletion).
    instrument : Instrument, str or dict
        Instrument, lavaan syntax or ``{construct: items}``.
    corrected : bool, default False
        Leave the item out of its own construct's score.
    nan_policy : {"listwise"}, default "listwise"
        Only listwise deletion; the rows dropped are warned about.

    Returns
    -------
    CrossLoadingsResult

    See Also
    --------
    custval.validity.htmt : Heterotrait-monotrait ratios.
    custval.validity.fornell_larcker : The Fornell-Larcker criterion.

    References
    ----------
    Chin, W. W. (1998). The partial least squares approach to structural equation modeling.
    In G. A. Marcoulides (Ed.), *Modern methods for business research* (pp. 295-336). Erlbaum.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.validity import cross_loadings
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> res = cross_loadings(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]})
    >>> print(res.loadings.round(3))
          visual  textual
    item
    x1     0.767    0.376
    x2     0.726    0.178
    x3     0.778    0.156
    x4     0.302    0.900
    x5     0.226    0.916
    x6     0.330    0.888

    In R: ``cor(items, sapply(blocks, function(b) rowMeans(items[, b])))``.
    """
    blocks = _blocks(instrument)
    items = tuple(i for its in blocks.values() for i in its)
    prep = _prepare(data, items, instrument, nan_policy=nan_policy, what="cross_loadings")
    pos = {it: j for j, it in enumerate(items)}
    x = prep.x
    names = list(blocks)
    out = np.empty((len(items), len(names)))
    for k, its in enumerate(blocks.values()):
        idx = [pos[i] for i in its]
        score = x[:, idx].mean(axis=1)
        for j, item in enumerate(items):
            s = score
            if corrected and item in its:
                rest = [pos[i] for i in its if i != item]
                if not rest:
                    out[j, k] = np.nan
                    continue
                s = x[:, rest].mean(axis=1)
            out[j, k] = np.corrcoef(x[:, j], s)[0, 1]
    loadings = pd.DataFrame(out, index=pd.Index(items, name="item"), columns=names)
    owner = {i: c for c, its in blocks.items() for i in its}
    rows = []
    for item in items:
        own = loadings.at[item, owner[item]]
        others = loadings.loc[item].drop(owner[item])
        rows.append(
            {
                "item": item,
                "construct": owner[item],
                "own": own,
                "max_other": float(others.abs().max()),
                "max_other_construct": str(others.abs().idxmax()),
                "ok": bool(abs(own) > others.abs().max()),
            }
        )
    table = pd.DataFrame(rows)
    failing = table.loc[~table["ok"], "item"].tolist()
    verdict = (
        "every item correlates most with its own construct"
        if not failing
        else f"{len(failing)} item(s) correlate more with another construct: {', '.join(failing)}"
    )
    convention = (
        "Pearson correlation of each item with unit-weighted construct mean scores"
        + (" (own construct: item-rest score)" if corrected else " (own construct score includes the item)")
        + "; listwise"
    )
    return CrossLoadingsResult(
        loadings=loadings, table=table, corrected=corrected, n=prep.n_used,
        n_excluded=prep.n_excluded, verdict=verdict, convention=convention,
        r_call="cor(items, sapply(blocks, function(b) rowMeans(items[, b])))",
    )


# --------------------------------------------------------------------------- CFA-based: CR, AVE
def _square(m, names) -> pd.DataFrame:
    if isinstance(m, pd.DataFrame):
        return m.loc[list(names), list(names)].astype(float)
    arr = np.asarray(m, dtype=float)
    return pd.DataFrame(arr, index=list(names), columns=list(names)).loc[list(names), list(names)]


def _group_item(obj, key, pos):
    if isinstance(obj, Mapping):
        if key in obj:
            return obj[key]
        return list(obj.values())[pos]
    if isinstance(obj, (list, tuple)):
        return obj[pos]
    return obj


@dataclasses.dataclass(frozen=True)
class _Parts:
    group: object
    lam: pd.DataFrame  # items × factors (unstandardised)
    std: pd.DataFrame  # items × factors (std.all)
    phi: pd.DataFrame  # factors × factors
    theta: pd.DataFrame  # items × items residual covariances
    sample: pd.DataFrame
    implied: pd.DataFrame
    n: int


def _cfa_parts(cfa) -> list[_Parts]:
    """Per-group Lambda, Phi, Theta, sample and implied covariance from a fitted CFA."""
    pe = getattr(cfa, "params_", None)
    if pe is None:
        raise SpecificationError("a fitted custval.cfa.CFA is needed (call .fit(data) first)")
    pe = pe.copy()
    if "group" not in pe.columns:
        pe["group"] = 1
    factors = list(dict.fromkeys(pe.loc[pe["op"] == "=~", "lhs"]))
    items = list(dict.fromkeys(pe.loc[pe["op"] == "=~", "rhs"]))
    higher = [f for f in factors if set(pe.loc[(pe["op"] == "=~") & (pe["lhs"] == f), "rhs"]) & set(factors)]
    if higher:
        raise SpecificationError(
            f"higher-order factor(s) {', '.join(higher)} (measured by other factors): CR, AVE and the "
            "Fornell-Larcker criterion are computed here for first-order models only (semTools: "
            "compRelSEM(fit, higher = ...)); fit the first-order model for them")
    groups = list(dict.fromkeys(pe["group"]))
    n_obs = getattr(cfa, "n_obs_", None)
    out = []
    for pos, g in enumerate(groups):
        sub = pe[pe["group"] == g]
        lam = pd.DataFrame(0.0, index=items, columns=factors)
        std = lam.copy()
        for r in sub[sub["op"] == "=~"].itertuples():
            lam.at[r.rhs, r.lhs] = float(r.est)
            std.at[r.rhs, r.lhs] = float(getattr(r, "std_all", np.nan))
        phi = pd.DataFrame(0.0, index=factors, columns=factors)
        theta = pd.DataFrame(0.0, index=items, columns=items)
        for r in sub[sub["op"] == "~~"].itertuples():
            if r.lhs in factors and r.rhs in factors:
                phi.at[r.lhs, r.rhs] = phi.at[r.rhs, r.lhs] = float(r.est)
            elif r.lhs in items and r.rhs in items:
                theta.at[r.lhs, r.rhs] = theta.at[r.rhs, r.lhs] = float(r.est)
        labels = list(getattr(cfa, "group_labels_", []) or [])
        # the moments are keyed by group label: the label, not the table's group number (labels 2, 1)
        key = labels[pos] if len(groups) > 1 and pos < len(labels) else g
        sample = _square(_group_item(cfa.sample_cov_, key, pos), items)
        implied = _square(_group_item(cfa.implied_cov_, key, pos), items)
        n = _group_item(n_obs, key, pos) if n_obs is not None else np.nan
        label = labels[pos] if len(groups) > 1 and pos < len(labels) else g
        out.append(_Parts(label, lam, std, phi, theta, sample, implied, int(n) if np.isfinite(n) else -1))
    return out


_CONVENTIONS = {
    "ordinal": (
        "Green & Yang (2009) categorical omega of the summed item scores, as semTools::compRelSEM(fit) "
        "for ordered items (ord.scale = TRUE, obs.var = TRUE): the model-implied over the observed "
        "(polychoric) covariance of the item scores, both from bivariate-normal cell probabilities at "
        "the thresholds",
        "semTools::{fn}(fit)  # ordered items, ord.scale = TRUE",
    ),
    "latent_response": (
        "omega of the latent responses y* (semTools::compRelSEM(fit, ord.scale = FALSE)): common "
        "variance over the polychoric total variance of the items",
        "semTools::{fn}(fit, ord.scale = FALSE)",
    ),
    "semtools_observed": (
        "semTools::compRelSEM/AVE with obs.var = TRUE: common variance over the *observed* (sample) "
        "total variance of the items",
        "semTools::{fn}(fit, obs.var = TRUE)",
    ),
    "semtools_implied": (
        "semTools::compRelSEM/AVE with obs.var = FALSE: common variance over the *model-implied* total "
        "variance (includes residual covariances)",
        "semTools::{fn}(fit, obs.var = FALSE)",
    ),
    "fornell_larcker": (
        "Fornell & Larcker (1981) / SmartPLS formula from standardized loadings; ignores residual "
        "covariances: CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2)), AVE = mean(l^2)",
        "(sum(l))^2 / ((sum(l))^2 + sum(1 - l^2)) with l = standardizedSolution(fit) loadings",
    ),
}


@dataclasses.dataclass(frozen=True, eq=False)
class ConstructReliabilityResult(ResultMixin):
    """CR or AVE per construct in several conventions (long ``table``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group, construct and convention, with the ``estimate``.
    statistic : str
        ``"cr"`` or ``"ave"``.
    conventions : dict
        ``{convention: what it computes}``, in the order asked for.
    verdict : str
        The conclusion in words (from the first convention).
    method : str
        The interval method: ``"none"`` or e.g. ``"percentile bootstrap (1000 resamples, seed 0)"``
        (then ``table`` has ``se``, ``ci_low`` and ``ci_high``).
    ci : float
        Confidence level of the intervals.
    n_boot_failed : int
        Bootstrap resamples without a value (an empty category, a failed or non-converged fit).
    boot : numpy.ndarray or None
        The bootstrap replicates (resamples x rows of ``table``; NaN for a failed resample);
        ``None`` without a bootstrap.
    notes : tuple of str
        How many resamples failed and why.

    See Also
    --------
    custval.validity.composite_reliability : Returns it for CR.
    custval.validity.ave : Returns it for AVE.
    """

    table: pd.DataFrame
    statistic: str
    conventions: dict
    verdict: str
    method: str = "none"
    ci: float = 0.95
    n_boot_failed: int = 0
    boot: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)
    notes: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def wide(self) -> pd.DataFrame:
        """Constructs × conventions (one column per convention; extra index level per group).

        Returns
        -------
        pandas.DataFrame
            The estimates, constructs (and groups) by conventions.

        See Also
        --------
        custval.validity.cr_ave : CR and AVE side by side.
        """
        idx = ["group", "construct"] if self.table["group"].nunique() > 1 else ["construct"]
        return self.table.pivot_table(index=idx, columns="convention", values="estimate", sort=False,
                                     dropna=False)

    def _display_frame(self) -> pd.DataFrame:
        if self.method != "none":
            cols = ["construct", "convention", "estimate", "se", "ci_low", "ci_high"]
            return self.table[(["group"] if self.table["group"].nunique() > 1 else []) + cols]
        return self.wide()

    def _notes(self) -> list[str]:
        extra = ([f"intervals: {self.method}, {self.ci:.0%}"] if self.method != "none" else []) + list(self.notes)
        return [f"{k}: {v}" for k, v in self.conventions.items()] + [self.verdict] + extra

    @property
    def _title(self) -> str:  # type: ignore[override]
        return {"cr": "Composite reliability", "ave": "Average variance extracted"}[self.statistic]


def _improper(parts: list[_Parts]) -> list[str]:
    """Why a CFA solution is improper: negative (residual) variances, a latent covariance
    matrix that is not positive definite; one text per problem and group."""
    out = []
    for part in parts:
        where = "" if len(parts) == 1 else f" in group {part.group!r}"
        th = {i: part.theta.at[i, i] for i in part.theta.index if part.theta.at[i, i] < 0}
        if th:
            out.append("negative residual variance of " + ", ".join(f"{i} ({v:.4g})" for i, v in th.items())
                       + where)
        ph = {f: part.phi.at[f, f] for f in part.phi.index if part.phi.at[f, f] < 0}
        if ph:
            out.append("negative latent variance of " + ", ".join(f"{f} ({v:.4g})" for f, v in ph.items())
                       + where)
        ev = np.linalg.eigvalsh(part.phi.to_numpy())
        if not ph and len(ev) and ev.min() < 0:
            out.append(f"latent covariance matrix not positive definite{where} (smallest eigenvalue "
                       f"{ev.min():.4g})")
    return out


def _against(cfa, parts: list[_Parts], what: str) -> list[str]:
    """Factors with items loading against the others (unkeyed reverse items); warns once."""
    from ._keys import Keying, warn_opposite

    if not parts:
        return []
    keying = getattr(cfa, "keying_", None) or Keying(None, "none")
    lam = parts[0].std.where(parts[0].lam != 0, 0.0)
    lam = lam.loc[[i for i in lam.index if i not in lam.columns]]  # observed items, not first-order factors
    msg = warn_opposite(lam, keying, what, stacklevel=5)
    if not msg:
        return []
    from ._keys import opposite_loadings

    return list(opposite_loadings(lam, declared=keying.declared))


def _construct_stat(cfa, statistic: str, conventions, instrument=None) -> ConstructReliabilityResult:
    if isinstance(conventions, str):
        conventions = (conventions,)
    conventions = tuple(conventions)
    bad = [c for c in conventions if c not in _CONVENTIONS]
    if bad or not conventions:
        raise SpecificationError(f"unknown convention(s) {bad}; choose from {', '.join(_CONVENTIONS)}")
    ordinal_fit = getattr(cfa, "sample_th_", None) is not None
    continuous = set(getattr(cfa, "continuous_", None) or ()) if ordinal_fit else set()
    cat_conv = [c for c in conventions if c in ("ordinal", "latent_response")]
    if cat_conv and not ordinal_fit:
        raise SpecificationError(
            f"convention(s) {cat_conv} need a CFA fitted with ordered items (CFA(model, ordered=True)); "
            "this fit treats the items as continuous")
    rows = []
    single: list[str] = []
    xload: list[str] = []
    parts = _cfa_parts(cfa)
    mixed = _mixed_factors(parts[0].lam, continuous) if statistic == "cr" else []
    if mixed:
        _check_mixed(parts[0].lam, mixed, continuous, conventions)
    improper = _improper(parts)
    what = "composite_reliability" if statistic == "cr" else "ave"
    mismatch = None
    if instrument is not None:
        from ._keys import check_fit_keying

        instrument = as_instrument(instrument)  # a name is loaded, not ignored
        mismatch = check_fit_keying(cfa, instrument, None, what, stacklevel=4,
                                    consequence="describe other items than the instrument's keyed scale")[1]
    against = [] if mismatch else _against(cfa, parts, what)
    for part in parts:
        lam = part.lam
        for f in lam.columns:
            idx = [i for i in lam.index if lam.at[i, f] != 0]
            if len(idx) < 2:
                single.append(f)
            multi = [i for i in idx if (lam.loc[i].round(5) != 0).sum() > 1]
            for conv in conventions:
                val = _stat_value(cfa, part, f, conv, statistic, ordinal_fit, continuous)
                if statistic == "ave" and multi and conv != "fornell_larcker":
                    xload.append(f)
                rows.append({"group": part.group, "construct": f, "convention": conv, "estimate": val,
                             "n_items": len(idx), "n": part.n,
                             "r_call": _CONVENTIONS[conv][1].format(fn="compRelSEM" if statistic == "cr" else "AVE")})
    if single:
        warnings.warn(
            f"construct(s) {', '.join(dict.fromkeys(single))} have fewer than two items: "
            f"{statistic.upper()} is not reported (NaN), as semTools (dropSingle = TRUE)",
            FewItemsWarning,
            stacklevel=3,
        )
    table = pd.DataFrame(rows)
    cut = 0.7 if statistic == "cr" else 0.5
    main = table[table["convention"] == conventions[0]]
    low = main.loc[main["estimate"] < cut, "construct"].unique().tolist()
    name = "CR" if statistic == "cr" else "AVE"
    verdict = (
        f"every {name} ({conventions[0]}) reaches {cut}"
        if not low
        else f"{name} ({conventions[0]}) below {cut} for: {', '.join(low)}"
    )
    undefined = [c for c in conventions if c != "fornell_larcker"]
    if mixed and undefined:
        if not low:
            verdict = f"every defined {name} ({conventions[0]}) reaches {cut}"
        verdict += (f"; undefined (NaN) for {', '.join(mixed)} in {', '.join(undefined)} (ordered and continuous "
                    "indicators, as semTools::compRelSEM)")
    if xload:
        verdict += f"; AVE undefined for {', '.join(dict.fromkeys(xload))} (cross-loading indicators)"
    if mismatch:
        verdict = f"not interpretable: {mismatch.split(': ', 1)[1]} (as computed: {verdict})"
    if against:
        verdict = (f"{name} of {', '.join(against)} not interpretable: item(s) load against the other "
                   f"indicators of their factor (reverse-worded items not reverse-keyed?; as computed: {verdict})")
    if improper:
        heywood = any("negative" in t for t in improper)
        verdict = (f"improper solution ({'; '.join(improper)}): the {name} values "
                   + ("are not interpretable" if heywood else "come from an inadmissible solution")
                   + f" (as computed: {verdict})")
        if heywood:
            warnings.warn(
                f"{'composite_reliability' if statistic == 'cr' else 'ave'}: the CFA solution is improper "
                f"({'; '.join(improper)}); the {name} values are reported but not interpretable",
                HeywoodWarning, stacklevel=3)
    return ConstructReliabilityResult(
        table=table, statistic=statistic, conventions={c: _CONVENTIONS[c][0] for c in conventions},
        verdict=verdict,
    )


def _mixed_factors(lam: pd.DataFrame, continuous: set) -> list[str]:
    """The factors measured by both ordered and continuous items (of a fit with both kinds)."""
    if not continuous:
        return []
    out = []
    for f in lam.columns:
        idx = [i for i in lam.index if lam.at[i, f] != 0]
        if len(idx) >= 2 and any(i in continuous for i in idx) and any(i not in continuous for i in idx):
            out.append(f)
    return out


def _check_mixed(lam: pd.DataFrame, mixed: list[str], continuous: set, conventions) -> None:
    """A fit with ordered and continuous items: semTools::compRelSEM's omegas are NA for a factor
    with both kinds of indicators.  Error when no factor has a value, else a warning."""
    def items(f):
        idx = [i for i in lam.index if lam.at[i, f] != 0]
        return (f"{f} (ordered: {', '.join(i for i in idx if i not in continuous)}; continuous: "
                f"{', '.join(i for i in idx if i in continuous)})")

    multi = [f for f in lam.columns if (lam[f] != 0).sum() >= 2]
    semtools = [c for c in conventions if c != "fornell_larcker"]
    if not semtools:
        return
    what = "; ".join(items(f) for f in mixed)
    if set(multi) <= set(mixed) and len(semtools) == len(conventions):
        raise SpecificationError(
            f"composite reliability is undefined for factors measured by both ordered and continuous items, "
            f"and every factor of this fit is: {what}.  semTools::compRelSEM returns NA for them (neither the "
            "categorical omega of ordered items nor the omega of continuous scores applies to such a sum); "
            "fit the items of a factor either all as ordered or all as continuous, or ask for "
            "conventions=('fornell_larcker',)")
    warnings.warn(
        f"composite_reliability: undefined (NaN) for factor(s) measured by both ordered and continuous items, "
        f"as semTools::compRelSEM (NA): {what}; the other factors get the categorical omega (all items "
        "ordered) or the continuous omega (all items continuous)",
        MixedIndicatorsWarning, stacklevel=4)


def _stat_value(cfa, part: _Parts, f, conv: str, statistic: str, ordinal_fit: bool, continuous=()) -> float:
    """CR or AVE of factor ``f`` in group ``part`` in one convention (NaN with fewer than two
    indicators; the bootstrap of an ordinal fit computes its replicates with it too).  With
    ``continuous`` items in an ordinal fit (semTools::compRelSEM): a CR of a factor with both
    ordered and continuous indicators is NaN except in ``fornell_larcker``; one with only
    continuous indicators gets the continuous omega in every semTools convention (``ordinal``
    and ``latent_response`` as ``semtools_observed``)."""
    lam, std, phi = part.lam, part.std, part.phi
    idx = [i for i in lam.index if lam.at[i, f] != 0]
    multi = [i for i in idx if (lam.loc[i].round(5) != 0).sum() > 1]
    if len(idx) < 2:
        return np.nan
    if continuous and statistic == "cr" and conv != "fornell_larcker":
        n_cont = sum(i in continuous for i in idx)
        if 0 < n_cont < len(idx):
            return np.nan
        if n_cont == len(idx) and conv in ("ordinal", "latent_response"):
            conv = "semtools_observed"
    if conv == "fornell_larcker":
        lstd = std.loc[idx, f].to_numpy()
        if statistic == "cr":
            s = lstd.sum() ** 2
            return s / (s + (1 - lstd**2).sum())
        return float(np.mean(lstd**2))
    if conv == "ordinal":
        if statistic != "cr":
            raise SpecificationError("the 'ordinal' convention is a composite reliability (CR) "
                                     "convention; AVE has no categorical version")
        lf = lam.loc[idx, f].to_numpy()
        sc = _scales(cfa, part, idx)  # theta parameterization: y* on the correlation scale
        return _omega_categorical(np.outer(lf * sc, lf * sc) * phi.at[f, f],
                                  part.sample.loc[idx, idx].to_numpy(),
                                  [_thresholds(cfa, part, i) * s_ for i, s_ in zip(idx, sc)])
    sigma = part.sample if conv in ("semtools_observed", "latent_response") else part.implied
    if ordinal_fit:  # correlations of y* -> its covariances (theta parameterization)
        sc = _scales(cfa, part, idx)
        sigma = sigma.loc[idx, idx] / np.outer(sc, sc)
    lf = lam.loc[idx, f].to_numpy()
    if statistic == "cr":
        # all of the factor's indicators; only this factor's common variance
        return float(lf.sum() ** 2 * phi.at[f, f] / sigma.loc[idx, idx].to_numpy().sum())
    if multi:
        return np.nan  # semTools::AVE is undefined with cross-loading indicators
    return float((lf**2).sum() * phi.at[f, f] / np.trace(sigma.loc[idx, idx].to_numpy()))


def _thresholds(cfa, part, item) -> np.ndarray:
    """The item's thresholds in the group of ``part`` (``op == "|"`` rows of an ordinal fit)."""
    pe = cfa.params_
    sel = (pe["op"] == "|") & (pe["lhs"] == item)
    if "group" in pe.columns and pe.loc[sel, "group"].nunique() > 1:
        labels = list(getattr(cfa, "group_labels_", []) or [])
        g = labels.index(part.group) + 1 if part.group in labels else part.group
        sel &= pe["group"] == g
    return pe.loc[sel, "est"].to_numpy(dtype=float)


def _scales(cfa, part, items) -> np.ndarray:
    """lavaan's scale factors (``~*~`` rows) of ``items``: 1 in the delta parameterization."""
    pe = cfa.params_
    sel = pe["op"] == "~*~"
    if "group" in pe.columns and pe.loc[sel, "group"].nunique() > 1:
        labels = list(getattr(cfa, "group_labels_", []) or [])
        sel &= pe["group"] == (labels.index(part.group) + 1 if part.group in labels else part.group)
    sc = dict(zip(pe.loc[sel, "lhs"], pe.loc[sel, "est"]))
    return np.array([float(sc.get(i, 1.0)) for i in items])


def _omega_categorical(common: np.ndarray, total: np.ndarray, thresholds: list[np.ndarray]) -> float:
    """semTools' ``omegaCat`` (Green & Yang, 2009) in the delta parameterization.

    ``sum_jk sum_cc' [Phi2(t_jc, t_kc'; r_jk) - Phi(t_jc) Phi(t_kc')]`` with ``r`` the common
    covariance of the latent responses (numerator) and their observed correlation (denominator;
    1 on the diagonal, where ``Phi2(a, b; 1) = Phi(min(a, b))``).
    """
    from scipy.special import ndtr

    from ._stats.polychoric import _bvnu

    d = np.sqrt(np.diag(total))
    total = total / np.outer(d, d)

    def phi2(a, b, r):
        a, b = np.meshgrid(a, b, indexing="ij")
        if r >= 1:
            return ndtr(np.minimum(a, b))
        return _bvnu(-a, -b, float(r))

    num = den = 0.0
    for j, tj in enumerate(thresholds):
        for k, tk in enumerate(thresholds):
            marg = ndtr(tj).sum() * ndtr(tk).sum()
            num += phi2(tj, tk, common[j, k]).sum() - marg
            den += phi2(tj, tk, total[j, k]).sum() - marg
    return float(num / den)


def composite_reliability(
    cfa, *, conventions=("semtools_observed", "semtools_implied", "fornell_larcker"), instrument=None,
    ci_method: str | None = None, n_boot: int = 1000, seed: int = 0, ci: float = 0.95,
    progress: bool | None = None, executor=None,
) -> ConstructReliabilityResult:
    r"""Composite (construct) reliability of every factor of a fitted CFA, in labelled conventions.

    ``semtools_observed`` / ``semtools_implied`` (``semTools::compRelSEM``):

    .. math:: \omega_f = \frac{(\sum_i \lambda_{if})^2 \phi_{ff}}{\mathbf 1'\Sigma_f \mathbf 1}

    with :math:`\Sigma_f` the sample (``obs.var = TRUE``; the ML sample
    covariance with N in the denominator) or model-implied (``obs.var =
    FALSE``, which includes residual covariances) covariance of the
    factor's indicators.  ``fornell_larcker`` is the formula of Fornell &
    Larcker (1981) used by SmartPLS, from standardized loadings
    :math:`l_i`: :math:`(\sum l_i)^2 / ((\sum l_i)^2 + \sum (1 - l_i^2))`;
    it ignores residual covariances.  The verdict compares the first
    convention with 0.70 (Hair et al., 2017).  Factors with one indicator
    are NaN with a :class:`~custval.exceptions.FewItemsWarning`.

    The verdict says instead that the values are not interpretable when the
    solution is improper (a negative residual or latent variance, also warned
    as :class:`~custval.exceptions.HeywoodWarning`; a latent covariance matrix
    that is not positive definite, which the CFA warned about when fitted) or
    when items load against the other indicators of their factor, the mark
    of reverse-worded items fitted without their reverse keys
    (:class:`~custval.exceptions.ReverseKeyWarning`; fit ``CFA(instrument)``
    to apply an instrument's keys).  With ``instrument`` given (an Instrument,
    a shipped instrument's name or a codebook path), the fit's
    keying is checked against the instrument's reverse keys: items keyed
    differently (e.g. a fit of model syntax on raw answers, where they load
    against their factor) are named in a ReverseKeyWarning and the verdict;
    without it (``instrument=None``) the keying is not checked.

    Parameters
    ----------
    cfa : CFA
        A fitted :class:`~custval.cfa.CFA`.
    conventions : tuple of str, default ("semtools_observed", "semtools_implied", "fornell_larcker")
        The conventions computed, in order; the first one gives the verdict.
    instrument : Instrument, str, Path or None, default None
        The instrument whose reverse keys the fit is checked against; ``None``: not checked.
    ci_method : {None, "bootstrap", "bca"}, default None
        Bootstrap intervals (see below; ML, MLR and FIML fits and fits with ordered items):
        ``"bootstrap"`` (percentile) or ``"bca"`` (bias-corrected and accelerated; the
        acceleration from N leave-one-out refits); ``None``: none.
    n_boot : int, default 1000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling (``numpy.random.SeedSequence``).
    ci : float, default 0.95
        Confidence level.
    progress : bool or None, default None
        Progress bar (``tqdm.auto``) over the resamples; ``None``: shown.
    executor : None, concurrent.futures.Executor or dask.distributed.Client, default None
        Where the resamples run (``None``: serially); the values do not depend on it.

    Returns
    -------
    ConstructReliabilityResult
        ``.table`` long (with ``se``, ``ci_low``, ``ci_high`` after a bootstrap), ``.wide()``
        constructs × conventions.

    Raises
    ------
    SpecificationError
        An unknown convention, an unknown ``ci_method``, or a bootstrap asked of a fit with
        clustered respondents (``cluster=``, ``level:`` blocks) or with continuous items among
        ordered ones; a fit with ordered and continuous items whose every factor is measured by
        both kinds (no value is defined).

    Warns
    -----
    FewItemsWarning
        A factor with one indicator (NaN).
    MixedIndicatorsWarning
        A factor measured by ordered and continuous items (NaN, as semTools::compRelSEM).
    HeywoodWarning
        A negative residual or latent variance.
    ReverseKeyWarning
        Items load against their factor, or are keyed differently from ``instrument``.
    BootstrapWarning
        Bootstrap resamples without a value (counted by reason in ``n_boot_failed`` and
        ``notes``), or with an improper solution (counted, kept).

    See Also
    --------
    custval.validity.ave : Average variance extracted.
    custval.reliability.omega : Omega from a minres factor analysis.
    custval.validity.measurement_table : CR, AVE, HTMT and fit in one table.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research, 18*(1), 39-50.

    Raykov, T. (1997). Estimation of composite reliability for congeneric measures.
    *Applied Psychological Measurement, 21*(2), 173-184.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import composite_reliability
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
    >>> print(composite_reliability(fit).wide().round(3))
    convention  semtools_observed  semtools_implied  fornell_larcker
    construct
    visual                  0.612             0.625            0.626
    textual                 0.885             0.885            0.885
    speed                   0.686             0.688            0.691

    In R: ``semTools::compRelSEM(fit, obs.var = TRUE)`` and ``obs.var = FALSE``.

    Bootstrap intervals (``ci_method="bootstrap"`` or ``"bca"``; semTools' ``compRelSEM``
    has none) for ML, MLR and FIML (``missing="fiml"``) fits, one group or several, in every
    convention: each of ``n_boot`` resamples draws N respondents with replacement from the
    rows the fit used (within each group of a multi-group fit, so every group keeps its
    size), seeded by ``seed``, and refits the same model with the same options from the
    same starting values as a fresh fit (FIML: the EM moments of the resample), then computes
    CR with the formulas above.  A resample's values are therefore exactly those of
    ``composite_reliability(CFA(model, ...).fit(rows))`` for its rows.  With
    :math:`\hat\omega^*_1, \dots, \hat\omega^*_B` the values of the resamples that have one,

    .. math:: \mathrm{se} = \operatorname{sd}(\hat\omega^*_b), \qquad
              [\mathrm{ci\_low}, \mathrm{ci\_high}] = [Q_{\alpha/2}(\hat\omega^*),
              Q_{1-\alpha/2}(\hat\omega^*)], \quad \alpha = 1 - \mathrm{ci}

    (percentiles with numpy's linear interpolation; ``"bca"``: the bias-corrected and
    accelerated limits, with the bias from the share of resamples below the estimate and the
    acceleration from the N leave-one-out refits): the same interval code as the ordinal
    bootstrap below.  A resample whose fit fails (a singular covariance matrix, a constant
    item, an unidentified solution) or does not converge has no value; such resamples are
    counted by reason (``n_boot_failed``, ``notes``), left out and warned about
    (BootstrapWarning), and when they are more than half the intervals are NaN.  A resample
    with an improper solution (a negative variance, a Heywood case) keeps its values, as in
    lavaan's ``bootstrapLavaan``, and is counted in a BootstrapWarning.  The values depend
    only on ``seed`` (the resamples run in tasks seeded by children of ``SeedSequence(seed)``,
    serially or on ``executor``).  Fits with ``cluster=`` or ``level:`` blocks are refused
    (their respondents are not independent).

    >>> import warnings
    >>> from custval.exceptions import BootstrapWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", BootstrapWarning)
    ...     res = composite_reliability(fit, conventions=("semtools_observed", "fornell_larcker"),
    ...                                 ci_method="bootstrap", n_boot=200, seed=1, progress=False)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    composite_reliability: 1 of 200 bootstrap resamples give an improper solution ...
    >>> print(res.table[["construct", "convention", "estimate", "se", "ci_low", "ci_high"]].round(2))
      construct         convention  estimate    se  ci_low  ci_high
    0    visual  semtools_observed      0.61  0.04    0.54     0.69
    1    visual    fornell_larcker      0.63  0.04    0.56     0.69
    2   textual  semtools_observed      0.89  0.01    0.86     0.90
    3   textual    fornell_larcker      0.89  0.01    0.86     0.90
    4     speed  semtools_observed      0.69  0.05    0.57     0.75
    5     speed    fornell_larcker      0.69  0.03    0.61     0.75

    In R (other random draws, so other limits):
    ``boot <- lavaan::bootstrapLavaan(fit, R = 200, FUN = function(f) semTools::compRelSEM(f))``
    and ``apply(boot, 2, quantile, c(0.025, 0.975))``.  On the same resampled rows, lavaan's
    refits give the same values (to its convergence tolerance, ~1e-6; tests/r/cr_bootstrap.R).

    A fit with ordered items (``CFA(model, ordered=True)``, WLSMV) gets
    semTools' conventions for ordinal indicators by default: ``ordinal``,
    Green & Yang's (2009) reliability of the summed item scores
    (``compRelSEM(fit)``, ``ord.scale = TRUE``, ``obs.var = TRUE``), and
    ``latent_response``, the omega of the latent responses y* (``ord.scale =
    FALSE``: common variance over the polychoric total); ``semtools_implied``
    on such a fit is the y* omega over the model-implied correlations:

    >>> corp = load_dataset("corp_rep").data.replace(-99, float("nan"))
    >>> items = [f"{c}_{i}" for c in ("like", "comp") for i in (1, 2, 3)]
    >>> fit = CFA("LIKE =~ like_1 + like_2 + like_3; COMP =~ comp_1 + comp_2 + comp_3",
    ...           ordered=True).fit(corp.dropna(subset=items))
    >>> print(composite_reliability(fit).wide().round(3))
    convention  ordinal  latent_response
    construct
    LIKE          0.831            0.857
    COMP          0.813            0.839

    In R: ``semTools::compRelSEM(fit)`` and ``compRelSEM(fit, ord.scale = FALSE)``
    with ``fit <- lavaan::cfa(model, data, ordered = TRUE)``.

    A fit with ordered and continuous items together (``CFA(model, ordered=[items])``) is
    treated factor by factor as ``semTools::compRelSEM`` 0.5-6 does: a factor whose
    indicators are all ordered gets the ordinal conventions above; a factor whose indicators
    are all continuous gets the continuous omega (sum of loadings squared times the factor
    variance over the sum of the items' sample covariance matrix) in ``ordinal``,
    ``latent_response`` and ``semtools_observed`` alike (``semtools_implied``: over the
    model-implied one); a factor measured by both kinds is undefined: NaN in every semTools
    convention (compRelSEM returns NA; neither the categorical omega of summed categories
    nor the continuous omega applies to a sum of categories and scores), named in a
    :class:`~custval.exceptions.MixedIndicatorsWarning` and in the verdict.  When every
    factor is such a mix, no value is defined and a SpecificationError names the factors and
    their items.  ``fornell_larcker`` (from standardized loadings) is computed for every
    factor.  Bootstrap intervals are not available for such fits.  Here the 0-10
    recommendation score loads with two five-point items:

    >>> import numpy as np
    >>> import warnings
    >>> from custval.exceptions import MixedIndicatorsWarning
    >>> rng = np.random.default_rng(7)
    >>> eta = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=600)
    >>> def five(x):
    ...     return np.digitize(x, [-1.6, -0.8, 0.1, 0.9]) + 1
    >>> survey = pd.DataFrame({f"q{j}": five(0.75 * eta[:, 0] + 0.66 * rng.normal(size=600))
    ...                        for j in (1, 2, 3)})
    >>> for j in (4, 5):
    ...     survey[f"q{j}"] = five(0.75 * eta[:, 1] + 0.66 * rng.normal(size=600))
    >>> survey["nps"] = np.clip(np.round(7 + 1.5 * eta[:, 1] + rng.normal(size=600)), 0, 10)
    >>> mixed_fit = CFA("SERVICE =~ q1 + q2 + q3; LOYALTY =~ q4 + q5 + nps",
    ...                 ordered=["q1", "q2", "q3", "q4", "q5"]).fit(survey)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", MixedIndicatorsWarning)
    ...     mixed = composite_reliability(mixed_fit)
    >>> print(mixed.wide().round(3))
    convention  ordinal  latent_response
    construct
    SERVICE       0.735            0.768
    LOYALTY         NaN              NaN
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    composite_reliability: undefined (NaN) for factor(s) measured by both ordered and continuous items, ...

    In R: ``semTools::compRelSEM(lavaan::cfa(model, data, ordered = c("q1", "q2", "q3",
    "q4", "q5")))`` (NA for LOYALTY).

    Bootstrap intervals of the ordinal reliabilities (``ci_method="bootstrap"`` or ``"bca"``;
    semTools has none): each of ``n_boot`` resamples draws N respondents with replacement
    (within each group of a multi-group fit), seeded by ``seed``, and repeats the whole
    two-stage fit on them: thresholds and polychoric correlations (lavaan's, with their
    Gamma), the DWLS (ULS) estimates from the same starting values as a fit of the data, and
    the reliabilities.  A resample's value is exactly ``composite_reliability(CFA(model,
    ordered=True).fit(data.iloc[rows]))`` for its rows; the point estimates are unchanged.
    ``se`` is the standard deviation of the resample values, ``ci_low`` / ``ci_high`` their
    percentiles (or BCa limits).  A resample in which a category of an item is empty (the
    fit would have fewer thresholds, so another reliability), the fit fails or does not
    converge has no value: such resamples are counted by reason (``n_boot_failed``,
    ``notes``), left out of the interval and warned about (BootstrapWarning); when they are
    more than half, the intervals are NaN.  The values depend only on ``seed``: resamples
    are cut into tasks, each seeded by a child of ``SeedSequence(seed)``, which run serially
    or on ``executor``.

    Here some resamples lack one of the seven categories (sparse extremes): they are kept,
    fitted with the categories they use, and counted in a BootstrapWarning:

    >>> import warnings
    >>> from custval.exceptions import BootstrapWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", BootstrapWarning)
    ...     res = composite_reliability(fit, ci_method="bootstrap", n_boot=50, seed=1, progress=False)
    >>> print(res.table[["construct", "convention", "estimate", "se", "ci_low", "ci_high"]].round(2))
      construct       convention  estimate    se  ci_low  ci_high
    0      LIKE          ordinal      0.83  0.02    0.80     0.87
    1      LIKE  latent_response      0.86  0.02    0.83     0.89
    2      COMP          ordinal      0.81  0.02    0.77     0.86
    3      COMP  latent_response      0.84  0.02    0.80     0.88
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    composite_reliability: 19 of 50 bootstrap resamples lack a category of an item; ...

    No R function gives these intervals; the same procedure in R is
    ``lavaan::bootstrapLavaan(fit, R = 1000, FUN = function(f) semTools::compRelSEM(f))``
    with percentile limits (other random draws, so other values).

    Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using
    structural equation modeling: An alternative to coefficient alpha.
    *Psychometrika, 74*(1), 155-167.
    """
    if (getattr(cfa, "sample_th_", None) is not None
            and tuple(np.atleast_1d(conventions)) == ("semtools_observed", "semtools_implied", "fornell_larcker")):
        # a fit with ordered items: semTools' default for it (ord.scale = TRUE) and the y* version
        conventions = ("ordinal", "latent_response")
    _check_boot_options(cfa, ci_method, n_boot, ci, "composite_reliability")
    res = _construct_stat(cfa, "cr", conventions, instrument)
    if ci_method is None:
        return res
    return _bootstrap(cfa, res, "cr", ci_method=ci_method, n_boot=int(n_boot), seed=seed, ci=ci,
                      progress=progress, executor=executor)


def _check_boot_options(cfa, ci_method, n_boot, ci, what: str) -> None:
    if ci_method not in (None, "bootstrap", "bca"):
        raise SpecificationError(f"ci_method={ci_method!r}; allowed: None, 'bootstrap' (percentile), 'bca'")
    if ci_method is None:
        return
    if getattr(cfa, "continuous_", None) and getattr(cfa, "sample_th_", None) is not None:
        raise SpecificationError(
            f"bootstrap intervals of {what} are not available for a fit with continuous items "
            f"among the ordered ones (continuous: {', '.join(cfa.continuous_)}); they are for fits with every "
            "item ordered (CFA(model, ordered=True)) or every item continuous")
    if getattr(cfa, "sample_th_", None) is not None:
        if getattr(cfa, "_ord_boot", None) is None or what != "composite_reliability":
            raise SpecificationError(
                f"bootstrap intervals of {what} are not available for this fit with ordered items"
                + ("" if what == "composite_reliability" else " (AVE has no categorical version)"))
    else:
        from ._sem.ml_boot import check_bootable

        check_bootable(cfa)
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 2:
        raise SpecificationError(f"n_boot must be an integer of at least 2, got {n_boot!r}")
    if not 0 < ci < 1:
        raise SpecificationError(f"ci must be between 0 and 1, got {ci!r}")


def _bootstrap(cfa, res: ConstructReliabilityResult, statistic: str, *, ci_method, n_boot, seed, ci, progress,
               executor) -> ConstructReliabilityResult:
    """``res`` with bootstrap se / intervals: the ordinal two-stage refit (custval._sem.ordinal_boot)
    or the ML / MLR / FIML refit (custval._sem.ml_boot), through the same interval code."""
    from ._sem.ordinal_boot import run

    conventions = tuple(res.conventions)
    fns = (_cfa_parts, _stat_value, _omega_categorical)
    job, desc, reasons = None, "ordinal CFA", None
    if getattr(cfa, "sample_th_", None) is None:
        from ._sem import ml_boot

        job = ml_boot.make_job(cfa, statistic, conventions, len(res.table), (_cfa_parts, _stat_value, _improper))
        desc, reasons = f"{cfa._estimator} CFA", ml_boot.REASONS
    table, boot, n_failed, notes, method = run(cfa, res.table, conventions, fns, ci_method=ci_method, n_boot=n_boot,
                                               seed=seed, ci=ci, progress=progress, executor=executor, job=job,
                                               desc=desc, reasons=reasons)
    what = "composite_reliability" if statistic == "cr" else "ave"
    for note in notes:
        warnings.warn(f"{what}: {note}", BootstrapWarning, stacklevel=3)
    return dataclasses.replace(res, table=table, method=method, ci=ci, n_boot_failed=n_failed, boot=boot,
                               notes=tuple(notes))


def ave(
    cfa, *, conventions=("semtools_observed", "semtools_implied", "fornell_larcker"), instrument=None,
    ci_method: str | None = None, n_boot: int = 1000, seed: int = 0, ci: float = 0.95,
    progress: bool | None = None, executor=None,
) -> ConstructReliabilityResult:
    r"""Average variance extracted of every factor of a fitted CFA, in labelled conventions.

    ``semtools_*`` (``semTools::AVE``):
    :math:`\mathrm{AVE}_f = \phi_{ff}\sum_i \lambda_{if}^2 / \operatorname{tr}\Sigma_f`
    with :math:`\Sigma_f` sample (``obs.var = TRUE``) or model-implied
    (``obs.var = FALSE``); undefined (NaN) when an indicator loads on more
    than one factor, as in semTools.  ``fornell_larcker``: the mean squared
    standardized loading (Fornell & Larcker, 1981; SmartPLS).  The verdict
    compares the first convention with 0.50; an improper solution or items
    loading against their factor are warned about and stated in the verdict
    instead, as in :func:`composite_reliability`.  ``instrument`` checks the fit's keying
    as there (None: not checked).

    Parameters
    ----------
    cfa : CFA
        A fitted :class:`~custval.cfa.CFA`.
    conventions : tuple of str, default ("semtools_observed", "semtools_implied", "fornell_larcker")
        The conventions computed, in order; the first one gives the verdict.
    instrument : Instrument, str, Path or None, default None
        The instrument whose reverse keys the fit is checked against; ``None``: not checked.
    ci_method : {None, "bootstrap", "bca"}, default None
        Bootstrap intervals of an ML, MLR or FIML fit, as :func:`composite_reliability`'s:
        ``"bootstrap"`` (percentile) or ``"bca"``; ``None``: none.
    n_boot : int, default 1000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling (``numpy.random.SeedSequence``).
    ci : float, default 0.95
        Confidence level.
    progress : bool or None, default None
        Progress bar (``tqdm.auto``) over the resamples; ``None``: shown.
    executor : None, concurrent.futures.Executor or dask.distributed.Client, default None
        Where the resamples run (``None``: serially); the values do not depend on it.

    Returns
    -------
    ConstructReliabilityResult
        ``.table`` long (with ``se``, ``ci_low``, ``ci_high`` after a bootstrap), ``.wide()``
        constructs × conventions.

    Raises
    ------
    SpecificationError
        An unknown convention or ``ci_method``; a bootstrap of a fit with ordered items (AVE
        has no categorical version) or with clustered respondents.

    Warns
    -----
    FewItemsWarning
        A factor with one indicator (NaN).
    HeywoodWarning
        A negative residual or latent variance.
    ReverseKeyWarning
        Items load against their factor, or are keyed differently from ``instrument``.
    BootstrapWarning
        Bootstrap resamples without a value (counted by reason), or with an improper
        solution (counted, kept).

    See Also
    --------
    custval.validity.composite_reliability : Composite reliability (the bootstrap is described there).
    custval.validity.fornell_larcker : The square root of AVE against the latent correlations.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research, 18*(1), 39-50.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import ave
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
    >>> print(ave(fit).wide().round(3))
    convention  semtools_observed  semtools_implied  fornell_larcker
    construct
    visual                  0.371             0.371            0.371
    textual                 0.721             0.721            0.720
    speed                   0.424             0.424            0.430

    In R: ``semTools::AVE(fit, obs.var = TRUE)`` and ``obs.var = FALSE``.

    On a fit with ordered and continuous items together (``CFA(model, ordered=[items])``)
    every factor gets a value, as ``semTools::AVE`` 0.5-6 computes it: the common variance
    over the trace of the factor's items' covariance matrix, with the ordered items' latent
    responses at variance 1 and the continuous items on their own scale (so a factor mixing
    both kinds weighs its continuous items by their variances).

    Bootstrap intervals (each resample refits the model on N respondents drawn with
    replacement; see :func:`composite_reliability`):

    >>> import warnings
    >>> from custval.exceptions import BootstrapWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", BootstrapWarning)  # one Heywood resample, kept
    ...     res = ave(fit, conventions="semtools_observed", ci_method="bca", n_boot=200, seed=1,
    ...               progress=False)
    >>> print(res.table[["construct", "estimate", "se", "ci_low", "ci_high"]].round(2))
      construct  estimate    se  ci_low  ci_high
    0    visual      0.37  0.04    0.28     0.43
    1   textual      0.72  0.02    0.68     0.76
    2     speed      0.42  0.04    0.35     0.50

    In R: ``lavaan::bootstrapLavaan(fit, R = 200, FUN = function(f) semTools::AVE(f))`` with
    percentile limits (R has no BCa for it; other random draws, so other values).
    """
    _check_boot_options(cfa, ci_method, n_boot, ci, "ave")
    res = _construct_stat(cfa, "ave", conventions, instrument)
    if ci_method is None:
        return res
    return _bootstrap(cfa, res, "ave", ci_method=ci_method, n_boot=int(n_boot), seed=seed, ci=ci,
                      progress=progress, executor=executor)


@dataclasses.dataclass(frozen=True, eq=False)
class FornellLarckerResult(ResultMixin):
    """sqrt(AVE) on the diagonal, latent correlations below it.

    Attributes
    ----------
    matrix : pandas.DataFrame
        sqrt(AVE) on the diagonal, latent correlations off it (stacked by group when there
        are several).
    table : pandas.DataFrame
        One row per group and construct: ``sqrt_ave``, ``max_abs_correlation``, ``with``
        (the construct it is reached with) and ``ok`` (NA where AVE is undefined).
    convention : str
        The AVE convention, in words.
    verdict : str
        The conclusion in words.
    r_call : str
        The equivalent R code.

    See Also
    --------
    custval.validity.fornell_larcker : The function that returns it.
    """

    _table_kind = "fornell_larcker"  # read by custval.tables.discriminant_table

    matrix: pd.DataFrame
    table: pd.DataFrame
    convention: str
    verdict: str
    r_call: str

    _title = "Fornell-Larcker criterion"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _display_frame(self) -> pd.DataFrame:
        return self.matrix


def fornell_larcker(cfa, *, convention: str = "fornell_larcker") -> FornellLarckerResult:
    r"""Fornell-Larcker criterion: :math:`\sqrt{\mathrm{AVE}_f}` against the latent correlations.

    Discriminant validity holds for factor :math:`f` when
    :math:`\sqrt{\mathrm{AVE}_f} > |\rho_{fg}|` for every other factor
    :math:`g` (Fornell & Larcker, 1981), with :math:`\rho` the model's latent
    correlations.  ``convention`` picks the AVE (see :func:`ave`).  Henseler
    et al. (2015) show the criterion misses many violations; report
    :func:`htmt` too.  Single-group fits only use their one group; with
    several groups ``table`` has a row per group.

    Parameters
    ----------
    cfa : CFA
        A fitted :class:`~custval.cfa.CFA`.
    convention : str, default "fornell_larcker"
        The AVE convention (see :func:`ave`).

    Returns
    -------
    FornellLarckerResult
        ``.matrix`` and ``.table`` (one row per group and construct) with the verdict.

    See Also
    --------
    custval.validity.ave : Average variance extracted.
    custval.validity.htmt : Heterotrait-monotrait ratios (recommended beside it).

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import fornell_larcker
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
    >>> res = fornell_larcker(fit)
    >>> print(res.matrix.round(3))
             visual  textual  speed
    visual    0.609    0.459  0.471
    textual   0.459    0.848  0.283
    speed     0.471    0.283  0.656
    >>> print(res.verdict)
    established: every sqrt(AVE) exceeds the construct's latent correlations

    In R: ``sqrt(semTools::AVE(fit))`` beside ``lavInspect(fit, "cor.lv")``.
    """
    av = ave(cfa, conventions=(convention,)).table
    rows = []
    mats = []
    for part in _cfa_parts(cfa):
        phi = part.phi.to_numpy()
        sd = np.sqrt(np.diag(phi))
        cor = pd.DataFrame(phi / np.outer(sd, sd), index=part.phi.index, columns=part.phi.columns)
        a = av[av["group"] == part.group].set_index("construct")["estimate"]
        m = cor.copy()
        for f in m.index:
            m.at[f, f] = np.sqrt(a.get(f, np.nan))
            others = cor.loc[f].drop(f).abs()
            rows.append({"group": part.group, "construct": f, "sqrt_ave": m.at[f, f],
                         "max_abs_correlation": float(others.max()) if len(others) else np.nan,
                         "with": str(others.idxmax()) if len(others) else "",
                         # undefined (NA) where AVE is, e.g. a single-item construct
                         "ok": (pd.NA if not np.isfinite(m.at[f, f])
                                else bool(m.at[f, f] > others.max()) if len(others) else True)})
        mats.append(m)
    table = pd.DataFrame(rows)
    table["ok"] = table["ok"].astype("boolean")
    bad = table.loc[table["ok"].eq(False).fillna(False), "construct"].unique().tolist()
    undefined = table.loc[table["ok"].isna(), "construct"].unique().tolist()
    verdict = ("established: every sqrt(AVE) exceeds the construct's latent correlations" if not bad
               else f"not established for: {', '.join(bad)}")
    if undefined:
        verdict += f"; undefined for {', '.join(undefined)} (AVE undefined, e.g. a single item)"
    npd = [str(p.group) for p in _cfa_parts(cfa) if np.linalg.eigvalsh(p.phi.to_numpy()).min() < 0]
    if npd:
        verdict += ("; note: the latent covariance matrix is not positive definite"
                    + ("" if len(npd) == 1 and len(mats) == 1 else f" (group {', '.join(npd)})")
                    + ", so latent correlations are not interpretable")
    return FornellLarckerResult(
        matrix=mats[0] if len(mats) == 1 else pd.concat(mats, keys=[p.group for p in _cfa_parts(cfa)]),
        table=table, convention=_CONVENTIONS[convention][0], verdict=verdict,
        r_call="sqrt(semTools::AVE(fit)); lavInspect(fit, 'cor.lv')",
    )


# --------------------------------------------------------------------------- common method factor
def _fit_table(fits: dict) -> pd.DataFrame:
    names = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]
    rows = []
    for label, fit in fits.items():
        fm = fit.fit_measures_
        rows.append({"model": label, **{k: float(fm[k]) if k in fm.index else np.nan for k in names}})
    return pd.DataFrame(rows).set_index("model")


@dataclasses.dataclass(frozen=True, eq=False)
class CommonMethodResult(ResultMixin):
    """Trait model vs the same model with an unmeasured common method factor.

    Attributes
    ----------
    fit : pandas.DataFrame
        Fit measures of both models, one row per model.
    loadings : pandas.DataFrame
        One row per item: standardized loading without and with the method factor, the
        method loading and the ``change``.
    delta_cfi : float
        CFI with the method factor minus CFI without it.
    delta_chisq, delta_df, p_value : float
        The chi-square difference test of the two models.
    method_variance : float
        Mean squared standardized method loading.
    max_loading_change : float
        Largest absolute change of a standardized trait loading.
    equal_loadings : bool
        Whether the method loadings were constrained to be equal.
    verdict : str
        The conclusion in words (heuristics, stated as such).
    convention : str
        The method-factor model and the method variance, in words.
    r_call : str
        The equivalent lavaan calls.
    model_syntax : str
        The lavaan syntax of the model with the method factor.
    fits : dict
        The fitted models, ``{"traits": CFA, "traits + method": CFA}``.

    See Also
    --------
    custval.validity.common_method_cfa : The function that returns it.
    """

    fit: pd.DataFrame
    loadings: pd.DataFrame
    delta_cfi: float
    delta_chisq: float
    delta_df: float
    p_value: float
    method_variance: float
    max_loading_change: float
    equal_loadings: bool
    verdict: str
    convention: str
    r_call: str
    model_syntax: str
    # the fitted models, for inspection; their numbers are in ``fit`` and ``loadings``, so two results
    # compare equal when those are equal (a CFA estimator compares by identity)
    fits: dict = dataclasses.field(repr=False, default_factory=dict, compare=False)

    _title = "Common method factor (unmeasured latent method construct)"

    def to_frame(self) -> pd.DataFrame:
        return self.loadings

    def _display_frame(self) -> pd.DataFrame:
        return self.fit


def common_method_cfa(
    data: pd.DataFrame,
    model,
    *,
    estimator: str = "ML",
    equal_loadings: bool = True,
    method_factor: str = "CMF",
    loading_change: float = 0.20,
    method_variance_cut: float = 0.25,
) -> CommonMethodResult:
    r"""Common-latent-factor check: refit the CFA with an added method factor.

    The method factor loads on every item, is **orthogonal** to all trait
    factors, and by default has **equal loadings** (one label for all: the
    unmeasured latent method construct, ULMC, of Williams, Cote & Buckley,
    1989, and Podsakoff et al., 2003).  Reported: both fits and their
    :math:`\Delta\mathrm{CFI}` and chi-square difference, the change of every
    standardized trait loading, and the method variance (mean squared
    standardized method loading).  The verdict uses heuristics, stated as
    such: a standardized loading change above ``loading_change`` (0.20) or a
    method variance above ``method_variance_cut`` (0.25; Williams et al.,
    1989, report a median of 25% in their review) signal that common method
    variance may bias the estimates.  Neither is a test; Podsakoff et al.
    (2003) recommend procedural remedies first.

    Parameters
    ----------
    data : pandas.DataFrame
        The items, one row per respondent.
    model : str, Instrument or dict
        lavaan measurement syntax, an Instrument or ``{construct: items}``.
        An Instrument's reverse-keyed items are fitted as ``min + max - x`` of its own scale
        (not again on a frame from ``Instrument.keyed``).
    estimator : {"ML", "MLR"}, default "ML"
        Estimator of both fits.
    equal_loadings : bool, default True
        Constrain the method loadings to be equal (``False``: free, first fixed at 1).
    method_factor : str, default "CMF"
        Name of the added factor.
    loading_change : float, default 0.20
        A standardized trait loading changing by more than this flags common method variance.
    method_variance_cut : float, default 0.25
        A method variance above this flags common method variance.

    Returns
    -------
    CommonMethodResult
        Both fits, the loading changes, the method variance and the verdict.

    Raises
    ------
    SpecificationError
        ``method_factor`` is already a factor of the model.

    Warns
    -----
    NotPositiveDefiniteWarning
        The method-factor solution is inadmissible (latent covariance matrix not positive
        definite); the verdict says so.

    See Also
    --------
    custval.dimensionality.harman_single_factor : Harman's single-factor test.

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y., & Podsakoff, N. P. (2003). Common method
    biases in behavioral research. *Journal of Applied Psychology, 88*(5), 879-903.

    Williams, L. J., Cote, J. A., & Buckley, M. R. (1989). Lack of method variance in
    self-reported affect and perceptions at work: Reality or artifact? *Journal of Applied
    Psychology, 74*(3), 462-468.

    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2017). *A primer on partial
    least squares structural equation modeling (PLS-SEM)* (2nd ed.). Sage.

    Examples
    --------
    The corporate-reputation reflective constructs (Hair et al., 2017), complete cases:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.validity import common_method_cfa
    >>> corp = load_dataset("corp_rep").data.replace(-99, np.nan)
    >>> blocks = {"COMP": ["comp_1", "comp_2", "comp_3"], "LIKE": ["like_1", "like_2", "like_3"],
    ...           "CUSL": ["cusl_1", "cusl_2", "cusl_3"]}
    >>> corp = corp.dropna(subset=[i for its in blocks.values() for i in its])
    >>> res = common_method_cfa(corp, blocks)
    >>> print(res.fit[["chisq", "df", "cfi"]].round(3))
                      chisq    df    cfi
    model
    traits           90.257  24.0  0.954
    traits + method  48.272  23.0  0.983
    >>> print(round(res.delta_cfi, 4), round(res.method_variance, 3))
    0.0282 0.375

    In R: ``lavaan::cfa(paste(model, "CMF =~ m*x1 + m*x2 + ...", "CMF ~~ 0*F1 + 0*F2"), data)``.
    """
    from .cfa import CFA

    syntax, data, _ = model_and_data(model, data)  # an Instrument's reverse keys apply
    blocks = measurement_blocks(syntax)
    if method_factor in blocks:
        raise SpecificationError(f"method_factor name {method_factor!r} is already a factor of the model")
    items = list(dict.fromkeys(i for its in blocks.values() for i in its))
    terms = [f"m*{i}" if equal_loadings else i for i in items]
    cmf_syntax = "\n".join(
        [syntax.strip(), f"{method_factor} =~ {' + '.join(terms)}",
         f"{method_factor} ~~ {' + '.join('0*' + f for f in blocks)}"]
    )
    base = CFA(syntax, estimator=estimator).fit(data)
    with warnings.catch_warnings():
        # admissibility of the method-factor model is judged (and warned about) below
        warnings.simplefilter("ignore", NotPositiveDefiniteWarning)
        cmf = CFA(cmf_syntax, estimator=estimator).fit(data)
    fit = _fit_table({"traits": base, "traits + method": cmf})
    fb, fc = fit.loc["traits"], fit.loc["traits + method"]
    d_chi = float(fb["chisq"] - fc["chisq"])
    d_df = float(fb["df"] - fc["df"])
    from scipy import stats

    p = float(stats.chi2.sf(d_chi, d_df)) if d_df > 0 else np.nan

    def std_loadings(f):
        pe = f.params_
        pe = pe[pe["op"] == "=~"]
        return pe.set_index(["lhs", "rhs"])["std_all"].astype(float)

    sb, sc = std_loadings(base), std_loadings(cmf)
    rows = []
    for f, its in blocks.items():
        for i in its:
            rows.append({"item": i, "construct": f, "std_base": sb[(f, i)], "std_with_method": sc[(f, i)],
                         "method_loading": sc[(method_factor, i)]})
    loadings = pd.DataFrame(rows)
    loadings["change"] = loadings["std_with_method"] - loadings["std_base"]
    mv = float(np.mean(loadings["method_loading"] ** 2))
    max_change = float(loadings["change"].abs().max())
    # admissibility of the method-factor solution (a common failure of this model)
    pe = cmf.params_
    lvs = [*blocks, method_factor]
    cov = pe[(pe["op"] == "~~") & pe["lhs"].isin(lvs) & pe["rhs"].isin(lvs)]
    phi = pd.DataFrame(0.0, index=lvs, columns=lvs)
    for r in cov.itertuples():
        phi.at[r.lhs, r.rhs] = phi.at[r.rhs, r.lhs] = float(r.est)
    eig = float(np.linalg.eigvalsh(phi.to_numpy()).min())
    problems = []
    if eig <= 0:
        sd = np.sqrt(np.clip(np.diag(phi.to_numpy()), 1e-300, None))
        cor = phi.to_numpy() / np.outer(sd, sd)
        i, j = np.unravel_index(np.argmax(np.abs(cor - np.eye(len(lvs)))), cor.shape)
        problems.append(
            f"the method-factor solution is inadmissible: latent covariance matrix not positive definite "
            f"(smallest eigenvalue {eig:.4g}; {lvs[i]}-{lvs[j]} correlation {cor[i, j]:.3f}), so its "
            "loadings cannot be interpreted"
        )
        warnings.warn("common_method_cfa: " + problems[-1], NotPositiveDefiniteWarning, stacklevel=2)
    flags = []
    if max_change > loading_change:
        big = loadings.loc[loadings["change"].abs() > loading_change, "item"].tolist()
        flags.append(f"standardized loadings change by more than {loading_change:g} for {', '.join(big)}")
    if mv > method_variance_cut:
        flags.append(f"method variance {mv:.3f} exceeds {method_variance_cut:g}")
    verdict = ("no sign of substantial common method variance (heuristics: "
               f"max loading change {max_change:.3f} <= {loading_change:g}, method variance {mv:.3f} <= "
               f"{method_variance_cut:g})") if not flags else "possible common method variance: " + "; ".join(flags)
    if problems:
        verdict = "not interpretable: " + "; ".join(problems) + f" (heuristics would say: {verdict})"
    return CommonMethodResult(
        fit=fit, loadings=loadings, delta_cfi=float(fc["cfi"] - fb["cfi"]), delta_chisq=d_chi,
        delta_df=d_df, p_value=p, method_variance=mv, max_loading_change=max_change,
        equal_loadings=equal_loadings, verdict=verdict,
        convention=("method factor on all items, orthogonal to the traits, "
                    + ("equal loadings (ULMC)" if equal_loadings else "free loadings")
                    + "; method variance = mean squared standardized method loading"),
        r_call="lavaan::cfa(cmf_model, data); lavTestLRT(traits, traits_method)",
        model_syntax=cmf_syntax, fits={"traits": base, "traits + method": cmf},
    )


# --------------------------------------------------------------------------- measurement table
@dataclasses.dataclass(frozen=True, eq=False)
class MeasurementTable(ResultMixin):
    """The frames of a paper's measurement section (``frames`` keeps them in order).

    Attributes
    ----------
    loadings : pandas.DataFrame
        Standardized loadings with SE and p, per item.
    constructs : pandas.DataFrame
        Per construct: items, alpha, CR, AVE and sqrt(AVE).
    htmt : pandas.DataFrame
        The HTMT matrix with the bootstrap upper bounds below the diagonal.
    fornell_larcker : pandas.DataFrame
        sqrt(AVE) on the diagonal, latent correlations off it.
    fit : pandas.Series
        The fit measures.
    notes : tuple of str
        Warnings and conventions stated under the tables.

    See Also
    --------
    custval.validity.measurement_table : The function that returns it.
    """

    loadings: pd.DataFrame
    constructs: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    fit: pd.Series
    notes: tuple[str, ...]

    _title = "Measurement model"

    @property
    def frames(self) -> dict:
        return {"Standardized loadings": self.loadings, "Reliability and convergent validity": self.constructs,
                "HTMT": self.htmt, "Fornell-Larcker": self.fornell_larcker, "Fit": self.fit.to_frame("value")}

    def to_frame(self) -> pd.DataFrame:
        return self.constructs

    def summary(self, *, digits: int = 3) -> str:
        parts = [self._title, "=" * len(self._title)]
        with pd.option_context("display.width", 140, "display.max_columns", 50):
            for name, frame in self.frames.items():
                parts += ["", name, "-" * len(name), frame.round(digits).to_string()]
        parts += ["", *self.notes]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        import html as _html

        body = "".join(
            f"<h4>{_html.escape(k)}</h4>" + v.to_html(float_format=lambda x: f"{x:.3f}", na_rep="")
            for k, v in self.frames.items()
        )
        notes = "".join(f"<br><small>{_html.escape(n)}</small>" for n in self.notes)
        return f"<div><strong>{self._title}</strong>{body}{notes}</div>"


def _alpha(x: np.ndarray) -> float:
    """Raw Cronbach's alpha of complete data (psych::alpha raw_alpha)."""
    k = x.shape[1]
    c = np.cov(x, rowvar=False)
    return float(k / (k - 1) * (1 - np.trace(c) / c.sum()))


def _keyed_as_fit(cfa, data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with the reverse keys the CFA was fitted with (alpha and HTMT must describe
    the same items as CR and AVE).  A fit from an Instrument keys raw answers the same
    way; a keying that cannot be matched is an error naming the items."""
    from ._keys import apply_keys, keyed_marker

    keying = getattr(cfa, "keying_", None)
    if keying is None or keying.source == "none" or not isinstance(data, pd.DataFrame):
        return data
    items = set(getattr(cfa, "observed_", ()))
    mark = keyed_marker(data)
    have = (set(mark["items"]) if mark else set()) & items
    want = set(keying.reversed) & items
    if have == want:
        return data
    inst = getattr(cfa, "instrument_", None)
    if inst is not None and have <= want:
        return apply_keys(data, inst)[0]
    raise SpecificationError(
        f"the CFA was fitted with item(s) {', '.join(sorted(want)) or 'none'} reverse-keyed, these data have "
        f"{', '.join(sorted(have)) or 'none'} reverse-keyed (attrs['custval_keyed']): alpha and HTMT would "
        f"describe differently keyed items ({', '.join(sorted(want ^ have))}). Pass the data the CFA was "
        "fitted on (or the raw answers with a CFA fitted as CFA(instrument))")


def measurement_table(data: pd.DataFrame, cfa, *, n_boot: int = 2000, seed: int = 0,
                      instrument=None) -> MeasurementTable:
    r"""Everything a paper's measurement section reports, as labelled frames.

    * ``loadings``: standardized loadings (``std_all``) with SE and p of the
      unstandardized estimates, per item;
    * ``constructs``: items, Cronbach's alpha (raw, complete cases), CR and
      AVE (semTools observed-variance convention and Fornell-Larcker formula),
      sqrt(AVE);
    * ``htmt``: the HTMT matrix (arithmetic, absolute correlations) with the
      one-sided bootstrap upper bounds below the diagonal;
    * ``fornell_larcker``: sqrt(AVE) on the diagonal, latent correlations off it;
    * ``fit``: chi-square, df, p, CFI, TLI, RMSEA, SRMR (+ scaled for MLR).

    ``data`` are reverse-keyed as the CFA was: a fit of an Instrument (``CFA(inst)``)
    keys raw answers itself, so pass the raw answers (or ``inst.keyed(df)``); data keyed
    differently from the fit raise :class:`~custval.exceptions.SpecificationError`.
    Items that load against their factor (reverse-worded items fitted unkeyed) and an
    improper solution are warned about and stated in the notes (see
    :func:`composite_reliability`); ``instrument`` checks the fit's keys against an
    instrument's, as there.

    Parameters
    ----------
    data : DataFrame
        The data the CFA was fitted on (raw or keyed as the fit was).
    cfa : CFA
        A fitted :class:`~custval.cfa.CFA`.
    n_boot : int, default 2000
        Bootstrap resamples for the HTMT upper bounds.
    seed : int, default 0
        Seed of the bootstrap.
    instrument : Instrument or None, default None
        None: the fit's keys are not checked against an instrument.

    Returns
    -------
    MeasurementTable
        The frames ``loadings``, ``constructs``, ``htmt``, ``fornell_larcker``, ``fit`` and
        the ``notes``.

    Raises
    ------
    SpecificationError
        ``data`` are reverse-keyed differently from the fit.

    See Also
    --------
    custval.validity.composite_reliability : Composite reliability in several conventions.
    custval.validity.htmt : HTMT with bootstrap intervals.
    custval.validity.fornell_larcker : The Fornell-Larcker criterion.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import measurement_table
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
    >>> mt = measurement_table(hs, fit, n_boot=200)
    >>> print(mt.constructs[["alpha", "cr_semtools", "ave_semtools"]].round(3))
               alpha  cr_semtools  ave_semtools
    construct
    visual     0.626        0.612         0.371
    textual    0.883        0.885         0.721
    speed      0.688        0.686         0.424

    In R: ``standardizedSolution(fit)``, ``psych::alpha``, ``semTools::compRelSEM``,
    ``semTools::AVE``, ``semTools::htmt``, ``fitMeasures(fit)``.
    """
    data = _keyed_as_fit(cfa, data)
    pe = cfa.params_
    lo = pe[pe["op"] == "=~"]
    blocks: dict[str, list[str]] = {}
    for r in lo.itertuples():
        if r.rhs not in blocks.setdefault(r.lhs, []):
            blocks[r.lhs].append(r.rhs)
    cols = [c for c in ("lhs", "rhs", "group", "est", "se", "p_value", "std_all") if c in lo.columns]
    if "group" in cols and lo["group"].nunique() == 1:
        cols.remove("group")
    loadings = lo[cols].rename(columns={"lhs": "construct", "rhs": "item", "est": "estimate"}).reset_index(drop=True)
    cr_res = composite_reliability(cfa, conventions=("semtools_observed", "fornell_larcker"),
                                   instrument=instrument)
    cr = cr_res.wide()
    with warnings.catch_warnings():  # composite_reliability warned about the same fit
        warnings.simplefilter("ignore", HeywoodWarning)
        warnings.simplefilter("ignore", ReverseKeyWarning)
        av = ave(cfa, conventions=("semtools_observed", "fornell_larcker")).wide()
    rows = []
    for f, its in blocks.items():
        sub = data[its].dropna()
        rows.append({
            "construct": f, "n_items": len(its),
            "alpha": _alpha(sub.to_numpy(float)) if len(its) > 1 else np.nan,
            "cr_semtools": cr["semtools_observed"].get(f, np.nan),
            "cr_fornell_larcker": cr["fornell_larcker"].get(f, np.nan),
            "ave_semtools": av["semtools_observed"].get(f, np.nan),
            "ave_fornell_larcker": av["fornell_larcker"].get(f, np.nan),
        })
    constructs = pd.DataFrame(rows).set_index("construct")
    constructs["sqrt_ave"] = np.sqrt(constructs["ave_fornell_larcker"])
    multi = {f: its for f, its in blocks.items() if len(its) > 1}
    notes = []
    if len(multi) >= 2:
        h = htmt(data, multi, n_boot=n_boot, seed=seed)
        hm = h.matrix.copy()
        for r in h.table.itertuples():
            hm.at[r.construct_b, r.construct_a] = r.upper_bound
        notes.append("HTMT: point estimates above the diagonal, one-sided bootstrap upper bounds below; "
                     + h.verdict)
    else:
        hm = pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HeywoodWarning)
        warnings.simplefilter("ignore", ReverseKeyWarning)
        fl = fornell_larcker(cfa)
    fm = cfa.fit_measures_
    keys = ["chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled", "cfi", "tli", "rmsea", "srmr",
            "cfi.robust", "rmsea.robust"]
    fit = pd.Series({k: float(fm[k]) for k in keys if k in fm.index}, name="value")
    keying = getattr(cfa, "keying_", None)
    if keying is not None and keying.source != "none":
        notes.append("keying: " + keying.note())
    notes += [f"CR: {cr_res.verdict}"] if cr_res.verdict.startswith(("improper", "CR of", "not interp")) else []
    notes += ["alpha: raw Cronbach's alpha on complete cases (psych::alpha raw_alpha)",
              "CR/AVE semtools: semTools obs.var = TRUE; fornell_larcker: standardized-loading formula",
              "Fornell-Larcker: " + fl.verdict]
    return MeasurementTable(loadings=loadings, constructs=constructs, htmt=hm, fornell_larcker=fl.matrix,
                            fit=fit, notes=tuple(notes))


def omega_hierarchical(cfa, *, general: str | None = None) -> pd.DataFrame:
    r"""Omega hierarchical, omega_hs and omega total of a fitted bifactor CFA (semTools' convention).

    The CFA is a bifactor model: a general factor measured by every item and
    specific factors measured by disjoint subsets of the items, all factors
    uncorrelated (lavaan's ``cfa(..., orthogonal = TRUE)``; in custval's syntax
    fix every factor covariance, ``g ~~ 0*s1``).  For each factor :math:`f`
    with unstandardised loadings :math:`\lambda_{if}` on its items :math:`I_f`
    and variance :math:`\psi_f`

    .. math:: \omega_f = \frac{(\sum_{i \in I_f} \lambda_{if})^2 \psi_f}{\mathbf 1' S_{I_f} \mathbf 1},

    the share of the variance of the raw sum of the factor's items due to
    that factor: omega hierarchical for the general factor, omega_hs for a
    specific one; ``total`` is :math:`\mathbf 1'\Lambda\Psi\Lambda'\mathbf 1 / \mathbf 1'S\mathbf 1`
    over all items (omega total).  This is
    ``semTools::compRelSEM(fit, return.total = TRUE)`` (semTools 0.5-6) with the
    observed covariance matrix :math:`S` (divisor N, ``obs.var = TRUE``, column
    ``omega``) and with the model-implied :math:`\hat\Sigma` (``obs.var = FALSE``,
    column ``omega_implied``: the formula of Rodriguez, Reise & Haviland, 2016,
    applied to the raw items rather than standardised ones).  ``attrs["ecv"]``
    is the explained common variance of the general factor,
    :math:`\sum\lambda_g^2 / \sum_f \sum\lambda_f^2` with standardised
    loadings (Rodriguez et al., 2016).

    Parameters
    ----------
    cfa : custval.cfa.CFA
        A fitted single-group bifactor CFA.
    general : str, optional
        The general factor; by default the one factor measured by every item.

    Returns
    -------
    DataFrame
        Index: the general factor, the specific factors, ``total``; columns
        ``role`` (``general`` / ``specific`` / ``total``), ``n_items``, ``omega``,
        ``omega_implied``.  ``attrs``: ``ecv``, ``general``.

    Raises
    ------
    SpecificationError
        The fit is multi-group; no (or more than one) factor is measured by every
        item and ``general`` is not given; an item loads on two specific factors;
        two factors are allowed to correlate (their covariance is named).

    See Also
    --------
    custval.validity.composite_reliability : The same ratio for the factors of any CFA.
    custval.reliability.omega : Omega of one set of items from an EFA (psych).

    References
    ----------
    Rodriguez, A., Reise, S. P., & Haviland, M. G. (2016). Evaluating bifactor models:
    Calculating and interpreting statistical indices. *Psychological Methods, 21*(2), 137–150.

    Examples
    --------
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import omega_hierarchical
    >>> bfi = load_dataset("bfi").data
    >>> items = [f"{s}{i}" for s in "ACE" for i in range(1, 6)]
    >>> x = bfi[items].dropna().copy()
    >>> x[["A1", "C4", "C5", "E1", "E2"]] = 7 - x[["A1", "C4", "C5", "E1", "E2"]]
    >>> model = ("g =~ " + " + ".join(items) + "\n"
    ...          "sA =~ A1 + A2 + A3 + A4 + A5\nsC =~ C1 + C2 + C3 + C4 + C5\nsE =~ E1 + E2 + E3 + E4 + E5\n"
    ...          "g ~~ 0*sA\ng ~~ 0*sC\ng ~~ 0*sE\nsA ~~ 0*sC\nsA ~~ 0*sE\nsC ~~ 0*sE")
    >>> om = omega_hierarchical(CFA(model, std_lv=True).fit(x))
    >>> print(om[["omega", "omega_implied"]].round(3))
           omega  omega_implied
    g      0.585          0.597
    sA     0.307          0.306
    sC     0.620          0.619
    sE     0.311          0.311
    total  0.833          0.850
    >>> round(om.attrs["ecv"], 3)
    0.468

    # In R: semTools::compRelSEM(cfa(model, x, orthogonal = TRUE, std.lv = TRUE), return.total = TRUE)
    """
    pt = cfa.params_
    if "group" in pt.columns and pt["group"].nunique() > 1:
        raise SpecificationError("omega_hierarchical needs a single-group CFA")
    load = pt[pt["op"] == "=~"]
    observed = list(cfa.observed_)
    factors = list(dict.fromkeys(load["lhs"]))
    items_of = {f: list(load.loc[load["lhs"] == f, "rhs"]) for f in factors}
    if general is None:
        full = [f for f in factors if set(items_of[f]) == set(observed)]
        if len(full) != 1:
            raise SpecificationError(
                "omega_hierarchical: " + ("no factor is" if not full else f"{', '.join(full)} are all")
                + " measured by every item; name the general factor with general=..."
            )
        general = full[0]
    if general not in factors:
        raise SpecificationError(f"omega_hierarchical: general={general!r} is not a factor of the CFA ({factors})")
    specific = [f for f in factors if f != general]
    seen: dict = {}
    for f in specific:
        for it in items_of[f]:
            if it in seen:
                raise SpecificationError(
                    f"omega_hierarchical: item {it} loads on the specific factors {seen[it]} and {f}; a bifactor "
                    "model has one specific factor per item"
                )
            seen[it] = f
    cov = pt[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & pt["lhs"].isin(factors) & pt["rhs"].isin(factors)]
    free_cov = cov[(cov["free"] != 0) | (cov["est"].abs() > 0)]
    if len(free_cov):
        pairs = ", ".join(f"{a} ~~ {b}" for a, b in zip(free_cov["lhs"], free_cov["rhs"]))
        raise SpecificationError(
            f"omega_hierarchical needs uncorrelated factors (lavaan's orthogonal = TRUE); fix {pairs} to 0 "
            "(e.g. 'g ~~ 0*s1')"
        )
    var = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(factors)]
    psi = {f: float(var.loc[var["lhs"] == f, "est"].iloc[0]) for f in factors}
    s = cfa.sample_cov_.loc[observed, observed].to_numpy(float)
    sig = cfa.implied_cov_.loc[observed, observed].to_numpy(float)
    idx = {v: k for k, v in enumerate(observed)}
    lam = np.zeros((len(observed), len(factors)))
    for f_i, f in enumerate(factors):
        sub = load[load["lhs"] == f]
        for it, est in zip(sub["rhs"], sub["est"]):
            lam[idx[it], f_i] = est
    rows = {}
    for f in [general, *specific]:
        k = [idx[it] for it in items_of[f]]
        num = float(lam[k, factors.index(f)].sum() ** 2 * psi[f])
        rows[f] = ("general" if f == general else "specific", len(k),
                   num / float(s[np.ix_(k, k)].sum()), num / float(sig[np.ix_(k, k)].sum()))
    common = float(np.sum(lam @ np.diag([psi[f] for f in factors]) @ lam.T))
    rows["total"] = ("total", len(observed), common / float(s.sum()), common / float(sig.sum()))
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["role", "n_items", "omega", "omega_implied"])
    std = load["std_all"].to_numpy(float)
    out.attrs["ecv"] = float(np.sum(std[load["lhs"].to_numpy() == general] ** 2) / np.sum(std**2))
    out.attrs["general"] = general
    return out


def cr_ave(cfa, *, convention: str = "semtools_observed") -> pd.DataFrame:
    """Construct-indexed ``composite_reliability`` and ``ave`` of a fitted single-group CFA.

    One DataFrame (index: constructs; columns ``composite_reliability``, ``ave``): the
    shape ``custval.reliability.scale_reliability(..., cfa=fit)`` joins as its CR/AVE
    columns.  ``convention`` is one of ``semtools_observed`` (default,
    ``semTools::compRelSEM(fit)``/``AVE(fit)``), ``semtools_implied`` or
    ``fornell_larcker`` (see :func:`composite_reliability`).  The APA table of
    reliability coefficients is :func:`custval.tables.reliability_table`.

    Parameters
    ----------
    cfa : custval.cfa.CFA
        A fitted single-group CFA.
    convention : {"semtools_observed", "semtools_implied", "fornell_larcker"}, default "semtools_observed"
        The CR and AVE convention (see :func:`composite_reliability`).

    Returns
    -------
    DataFrame
        Index ``construct``; columns ``composite_reliability`` and ``ave``.

    Raises
    ------
    SpecificationError
        A multi-group fit (use :func:`composite_reliability` and :func:`ave`).

    See Also
    --------
    custval.validity.composite_reliability : CR in several conventions.
    custval.validity.ave : AVE in several conventions.

    Examples
    --------
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> from custval.validity import cr_ave
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
    >>> print(cr_ave(fit).round(3))
               composite_reliability    ave
    construct
    visual                     0.612  0.371
    textual                    0.885  0.721
    speed                      0.686  0.424
    >>> # In R: semTools::compRelSEM(fit); semTools::AVE(fit)
    """
    cr = composite_reliability(cfa, conventions=(convention,)).table
    with warnings.catch_warnings():  # composite_reliability warned about the same fit
        warnings.simplefilter("ignore", HeywoodWarning)
        warnings.simplefilter("ignore", ReverseKeyWarning)
        av = ave(cfa, conventions=(convention,)).table
    if cr["group"].nunique() > 1:
        raise SpecificationError("cr_ave needs a single-group CFA; use composite_reliability()")
    return pd.DataFrame(
        {"composite_reliability": cr.set_index("construct")["estimate"],
         "ave": av.set_index("construct")["estimate"]}
    )
