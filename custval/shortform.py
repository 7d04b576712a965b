"""Item reduction: choose the k items of a construct that make the best short form.

:func:`short_form` searches the subsets of k items of one construct's item pool for the
one that best keeps reliability (omega), a one-factor structure (the fit of a one-factor
CFA of the short form), the correlation with the full scale and content coverage (the
facets the codebook assigns to the items), by exhaustive enumeration where the pool
allows it and by ant-colony optimisation (the MAX-MIN ant system of R's stuart)
otherwise.  The choice is made on a calibration half of the respondents and every
criterion is reported on both halves.

Examples
--------
>>> import custval
>>> ds = custval.load_dataset("mobi")
>>> res = custval.short_form(ds.data, ds.instrument, construct="PERQ", n_items=4)
>>> res.items
('PERQ1', 'PERQ4', 'PERQ5', 'PERQ7')
>>> # In R: stuart::bruteforce(mobi, list(PERQ = paste0("PERQ", 1:7)), 4)
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._results import ResultMixin
from .exceptions import (
    ConstantItemError,
    IdentificationError,
    InsufficientDataError,
    MissingDataWarning,
    SpecificationError,
)

__all__ = ["ShortFormResult", "short_form"]

METHODS = ("auto", "exhaustive", "aco")
_ROWS = ("omega", "cfi", "rmsea", "srmr", "chisq", "df", "r_full", "coverage", "objective")


@dataclasses.dataclass(frozen=True, eq=False)
class ShortFormResult(ResultMixin):
    """The short form chosen by :func:`short_form`, its criteria on both halves and the search.

    Attributes
    ----------
    construct : str
        The construct whose items were reduced.
    items : tuple of str
        The chosen items, in codebook order.
    pool : tuple of str
        The construct's item pool, in codebook order.
    n_items : int
        k, the number of items chosen.
    method : str
        ``"exhaustive"`` or ``"aco"`` (the method used; ``"auto"`` resolved).
    criteria : pandas.DataFrame
        One row per criterion (``omega``, ``cfi``, ``rmsea``, ``srmr``, ``chisq``, ``df``,
        ``r_full``, ``coverage``, ``objective``), columns ``calibration`` and ``validation``
        (the halves; ``validation`` NaN with ``holdout=0``) and ``full_pool_calibration``
        (the same criteria of all pool items, for comparison).
    candidates : pandas.DataFrame
        The best ``top`` subsets found, ranked by their calibration objective: ``rank``,
        ``items`` (joined by ``+``) and every criterion on the calibration half
        (``*_calibration``) and the objective on the validation half.
    search_log : pandas.DataFrame
        Exhaustive: one row (subsets evaluated, eligible).  ACO: one row per colony
        (``colony``, ``n_new``, ``n_evaluated``, ``best_in_colony``, ``global_best``,
        ``improved``, ``pheromone_min``, ``pheromone_max``).
    n_subsets : int
        The number of possible short forms: C(n, k), or with ``keep``/``drop`` C(free, k - kept).
    n_evaluated : int
        Subsets whose criteria were computed.
    n_eligible : int
        Evaluated subsets eligible for selection (converged proper one-factor solution,
        every required facet covered).
    stop_reason : str
        Why the search ended.
    weights : dict
        Weight of each criterion in the objective as used (``coverage`` is 0 when the pool has
        no facets or with ``coverage="require"``).
    targets : dict
        ``(side, m, s)`` of each criterion's desirability.
    facets : dict
        Item -> facet (only items with a facet).
    required_facets : tuple of str
        The facets whose coverage is scored (or required, see ``coverage``).
    covered_facets : tuple of str
        The required facets the chosen items cover.
    coverage : str
        ``"score"`` (a criterion) or ``"require"`` (a constraint).
    just_identified : bool
        k = 3: the one-factor CFA has no degrees of freedom (fit is perfect by construction).
    n_rows : int
        Rows given.
    n : int
        Rows used (complete on the pool's items).
    n_calibration, n_validation : int
        Rows of each half.
    excluded : pandas.DataFrame
        The rows not used: ``row`` (the data's index label), the id (with ``id_column``)
        and ``reason``; ``n_rows == n + len(excluded)``.
    seed : int
        Seed of the split and of the ant colony.
    holdout : float
        Share of the rows held out for validation.
    calibration_rows, validation_rows : tuple
        The data's index labels of the rows in each half, in data order (e.g. to fit the
        CFA of the short form on the validation half: ``data.loc[list(res.validation_rows)]``).
    notes : tuple of str
        What the reader must know (just-identified short form, excluded subsets, ...).
    convention : str
        The objective's formula.
    r_call : str
        The closest R call.

    See Also
    --------
    custval.shortform.short_form : Computes it.
    custval.shortform.ShortFormResult.instrument : The short form as an Instrument.
    """

    construct: str
    items: tuple[str, ...]
    pool: tuple[str, ...]
    n_items: int
    method: str
    criteria: pd.DataFrame
    candidates: pd.DataFrame
    search_log: pd.DataFrame
    n_subsets: int
    n_evaluated: int
    n_eligible: int
    stop_reason: str
    weights: dict
    targets: dict
    facets: dict
    required_facets: tuple[str, ...]
    covered_facets: tuple[str, ...]
    coverage: str
    just_identified: bool
    n_rows: int
    n: int
    n_calibration: int
    n_validation: int
    excluded: pd.DataFrame
    seed: int
    holdout: float
    calibration_rows: tuple = ()
    validation_rows: tuple = ()
    notes: tuple[str, ...] = ()
    convention: str = ""
    r_call: str = ""
    _source: Any = dataclasses.field(default=None, repr=False, compare=False)

    _title = "Short form"

    def to_frame(self) -> pd.DataFrame:
        """The criteria of the chosen short form on both halves (and of the full pool).

        Returns
        -------
        pandas.DataFrame
            :attr:`criteria`.

        See Also
        --------
        custval.shortform.ShortFormResult.summary : The same as text.
        """
        return self.criteria

    def _shown_title(self) -> str:
        return f"Short form of {self.construct}: {' + '.join(self.items)} ({self.method})"

    def _notes(self) -> list[str]:
        out = [f"{self.n_items} of {len(self.pool)} items; {self.n_evaluated} of {self.n_subsets} subsets "
               f"evaluated ({self.stop_reason}); rows: {self.n_rows} given = {self.n} used "
               f"({self.n_calibration} calibration, {self.n_validation} validation) + "
               f"{len(self.excluded)} excluded"]
        out += [f"Note: {n}" for n in self.notes]
        return [*out, *super()._notes()]

    def summary(self, *, digits: int = 3) -> str:
        """The criteria on both halves, the best candidates and the notes, as plain text.

        Parameters
        ----------
        digits : int, default 3
            Decimals shown (display only; the result keeps every digit).

        Returns
        -------
        str
            The text.

        See Also
        --------
        custval.shortform.ShortFormResult.to_frame : The criteria as a frame.
        """
        text = super().summary(digits=digits)
        cols = ["rank", "items", "omega_calibration", "rmsea_calibration", "r_full_calibration",
                "objective_calibration", "objective_validation"]
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            top = self.candidates[cols].head(5).round(digits).to_string(index=False)
        return f"{text}\n\nBest candidates (calibration half):\n{top}"

    def _repr_html_(self) -> str:
        cols = ["rank", "items", "omega_calibration", "rmsea_calibration", "r_full_calibration",
                "objective_calibration", "objective_validation"]
        table = self.candidates[cols].head(5).to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        return super()._repr_html_() + f"<div><small>Best candidates (calibration half)</small>{table}</div>"

    def instrument(self, *, other_constructs: bool = False):
        """The short form as an :class:`~custval.Instrument` (e.g. for :func:`custval.make_questionnaire`).

        Parameters
        ----------
        other_constructs : bool, default False
            Keep the instrument's other constructs (complete); by default the short-form
            instrument has the reduced construct only.

        Returns
        -------
        Instrument
            Named ``<name>_short``, with the chosen items of the construct (wording,
            keying, scale and facets as in the codebook).

        See Also
        --------
        custval.questionnaire.make_questionnaire : Print it as a questionnaire.

        Examples
        --------
        >>> import custval
        >>> ds = custval.load_dataset("mobi")
        >>> res = custval.short_form(ds.data, ds.instrument, construct="PERQ", n_items=4)
        >>> res.instrument().constructs
        {'PERQ': ('PERQ1', 'PERQ4', 'PERQ5', 'PERQ7')}
        >>> # In R: no equivalent (a codebook restricted to the chosen items)
        """
        inst = self._source
        if inst is None or not hasattr(inst, "construct_defs"):
            raise SpecificationError("this result was computed from an object that is not an Instrument; "
                                     "build the short form with Instrument.from_dict(...)")
        keep = set(self.items)
        cons, items = [], []
        for c in inst.construct_defs:
            if c.id == self.construct:
                cons.append(dataclasses.replace(c, items=tuple(i for i in c.items if i in keep)))
            elif other_constructs:
                cons.append(c)
        wanted = {i for c in cons for i in c.items}
        items = tuple(i for i in inst.item_defs if i.id in wanted)
        name = inst.name if inst.name.endswith("_short") else f"{inst.name}_short"
        return dataclasses.replace(inst, name=name, construct_defs=tuple(cons), item_defs=items, source=None)


# --------------------------------------------------------------------------- helpers
def _check_options(n_items, method, holdout, weights, targets, coverage, top, ants, colonies, evaporation,
                   pbest, max_colonies, max_exhaustive):
    from ._stats import itemsel

    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)):
        raise SpecificationError(f"n_items must be an integer (the number of items to keep); got {n_items!r}")
    if method not in METHODS:
        raise SpecificationError(f"method must be one of {METHODS}; got {method!r}")
    if not isinstance(holdout, (int, float)) or isinstance(holdout, bool) or not 0 <= holdout < 1:
        raise SpecificationError(f"holdout must be a share in [0, 1) of the rows held out; got {holdout!r}")
    if coverage not in ("score", "require"):
        raise SpecificationError(f"coverage must be 'score' or 'require'; got {coverage!r}")
    w = dict(itemsel.DEFAULT_WEIGHTS)
    if weights is not None:
        if not isinstance(weights, Mapping):
            raise SpecificationError(f"weights must be a mapping {{criterion: weight}}; got {weights!r}")
        bad = [c for c in weights if c not in itemsel.CRITERIA]
        if bad:
            raise SpecificationError(f"unknown criterion(s) in weights: {', '.join(map(repr, bad))}; "
                                     f"criteria: {', '.join(itemsel.CRITERIA)}")
        for c, v in weights.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise SpecificationError(f"weights[{c!r}] must be a finite number >= 0; got {v!r}")
            w[c] = float(v)
    if not any(w.values()):
        raise SpecificationError("every weight is 0: the objective cannot rank the subsets")
    t = dict(itemsel.DEFAULT_TARGETS)
    if targets is not None:
        for c, v in dict(targets).items():
            if c not in t:
                raise SpecificationError(f"targets: unknown criterion {c!r}; criteria with a target: "
                                         f"{', '.join(t)}")
            try:
                m, s = (float(v[0]), float(v[1]))
            except (TypeError, ValueError, IndexError):
                raise SpecificationError(f"targets[{c!r}] must be a pair (m, s); got {v!r}") from None
            if not (math.isfinite(m) and math.isfinite(s) and s > 0):
                raise SpecificationError(f"targets[{c!r}]: m finite and s > 0 needed; got {v!r}")
            t[c] = (t[c][0], m, s)
    for name, val, lo in (("top", top, 1), ("ants", ants, 1), ("colonies", colonies, 1),
                          ("max_colonies", max_colonies, 1), ("max_exhaustive", max_exhaustive, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < lo:
            raise SpecificationError(f"{name} must be an integer >= {lo}; got {val!r}")
    if not 0 < evaporation < 1:
        raise SpecificationError(f"evaporation must lie in (0, 1); got {evaporation!r}")
    if not 0 < pbest < 1:
        raise SpecificationError(f"pbest must lie in (0, 1); got {pbest!r}")
    return w, t


def _facets(instrument, pool, facets, required_facets, coverage):
    found: dict[str, str] = {}
    defs = {i.id: i for i in getattr(instrument, "item_defs", ())}
    for iid in pool:
        fac = getattr(defs.get(iid), "facet", None)
        if fac is not None:
            found[iid] = fac
    if facets is not None:
        if not isinstance(facets, Mapping):
            raise SpecificationError(f"facets must be a mapping {{item: facet}}; got {facets!r}")
        bad = [i for i in facets if i not in pool]
        if bad:
            raise SpecificationError(f"facets given for item(s) not in the pool: {', '.join(map(repr, bad))}; "
                                     f"pool: {', '.join(pool)}")
        found.update({str(k): str(v) for k, v in facets.items()})
    present = list(dict.fromkeys(found[i] for i in pool if i in found))
    if required_facets is None:
        required = tuple(present)
    else:
        required = tuple([required_facets] if isinstance(required_facets, str) else required_facets)
        bad = [f for f in required if f not in present]
        if bad:
            raise SpecificationError(
                f"required facet(s) {', '.join(map(repr, bad))} are covered by no item of the pool; "
                + (f"facets of the pool: {', '.join(present)}" if present else
                   "no item of the pool has a facet (codebook 'facet:' or facets=)"))
    if coverage == "require" and not required:
        raise SpecificationError("coverage='require' but no item of the pool has a facet "
                                 "(codebook 'facet:' or facets=)")
    return found, required


def _prepare(data, instrument, construct, nan_policy, id_column=None):
    from ._keys import keyed_once
    from ._sem.spec import as_instrument
    from ._stats import relcore as core

    instrument = as_instrument(instrument)
    cons = {str(c): tuple(v) for c, v in instrument.constructs.items()}
    if construct is None:
        if len(cons) != 1:
            raise SpecificationError(f"name the construct to shorten: construct=...; constructs: {', '.join(cons)}")
        construct = next(iter(cons))
    if construct not in cons:
        raise SpecificationError(f"construct {construct!r} is not in the instrument; constructs: {', '.join(cons)}")
    if nan_policy not in ("listwise", "raise"):
        raise SpecificationError(f"nan_policy must be 'listwise' or 'raise'; got {nan_policy!r}")
    pool = cons[construct]
    df = core.as_frame(data)
    missing_cols = [i for i in pool if i not in df.columns]
    if missing_cols:
        raise SpecificationError(f"item(s) of construct {construct} not in the data: {', '.join(missing_cols)}; "
                                 f"the data have {len(df.columns)} columns")
    if id_column is not None and id_column not in df.columns:
        raise SpecificationError(f"id_column {id_column!r} is not a column of the data")
    keyed = keyed_once(df[list(pool)], instrument)[list(pool)]
    core.prepare_items(keyed, nan_policy="raise" if nan_policy == "raise" else "pairwise", min_items=1,
                       check_constant=False, require_n_gt_p=False)
    x = keyed.to_numpy(dtype=float, na_value=np.nan)
    miss = np.isnan(x)
    bad_rows = np.flatnonzero(miss.any(axis=1))
    excluded = pd.DataFrame({
        "row": [df.index[i] for i in bad_rows],
        "reason": ["missing answer to " + ", ".join(pool[j] for j in np.flatnonzero(miss[i])) for i in bad_rows],
    }, columns=["row", "reason"])
    if id_column is not None:
        excluded.insert(1, id_column, df[id_column].to_numpy()[bad_rows])
    if len(bad_rows):
        per_item = {pool[j]: int(miss[:, j].sum()) for j in np.flatnonzero(miss.any(axis=0))}
        warnings.warn(
            f"short_form: {len(bad_rows)} of {len(df)} rows excluded (listwise) for a missing answer to an item "
            f"of {construct} (per item: {per_item}); result.excluded lists them", MissingDataWarning, stacklevel=3)
    complete = ~miss.any(axis=1)
    return instrument, construct, pool, x[complete], excluded, len(df), tuple(df.index[complete])


def _keep_drop(pool, keep, drop, k, construct):
    keep = [keep] if isinstance(keep, str) else list(keep)
    drop = [drop] if isinstance(drop, str) else list(drop)
    for name, given in (("keep", keep), ("drop", drop)):
        bad = [i for i in given if i not in pool]
        if bad:
            raise SpecificationError(f"{name}: item(s) {', '.join(map(repr, bad))} are not items of {construct} "
                                     f"({', '.join(pool)})")
    both = [i for i in keep if i in drop]
    if both:
        raise SpecificationError(f"item(s) {', '.join(both)} are both in keep and in drop")
    if len(keep) >= k:
        raise SpecificationError(f"keep names {len(keep)} items for a short form of {k}: nothing left to choose")
    free = np.array([j for j, i in enumerate(pool) if i not in keep and i not in drop], dtype=np.int64)
    if len(free) < k - len(keep):
        raise SpecificationError(f"after drop ({', '.join(drop)}) {len(free) + len(keep)} items of {construct} "
                                 f"remain for a short form of {k}")
    kept_idx = np.array(sorted(pool.index(i) for i in keep), dtype=np.int64)
    return kept_idx, free


def _check_half(x, pool, what):
    from ._stats import relcore as core

    const, lo = core.constant_items(x)
    if const.size:
        raise ConstantItemError(f"constant item(s) in the {what} ({len(x)} rows): "
                                f"{core.describe_constant(const, lo, pool)}; a constant item has no correlation "
                                "with the others: drop it from the pool or use more rows")
    if len(x) <= len(pool) + 1:
        raise InsufficientDataError(f"{len(x)} rows in the {what} for a pool of {len(pool)} items: need more rows "
                                    "than items in each half (lower holdout or use more respondents)")
    r = np.corrcoef(x, rowvar=False)
    core.check_singular(r, pool, what=f"short_form ({what})")


# --------------------------------------------------------------------------- main
def short_form(
    data,
    instrument,
    *,
    construct: str | None = None,
    n_items: int,
    method: str = "auto",
    seed: int = 0,
    holdout: float = 0.5,
    weights: Mapping[str, float] | None = None,
    targets: Mapping[str, tuple[float, float]] | None = None,
    facets: Mapping[str, str] | None = None,
    required_facets=None,
    coverage: str = "score",
    keep=(),
    drop=(),
    allow_improper: bool = False,
    nan_policy: str = "listwise",
    id_column: str | None = None,
    top: int = 10,
    max_exhaustive: int = 200_000,
    ants: int = 16,
    colonies: int = 64,
    evaporation: float = 0.95,
    pbest: float = 0.005,
    max_colonies: int = 2000,
    progress: bool | None = None,
) -> ShortFormResult:
    r"""Choose the ``n_items`` items of a construct that make the best short form, cross-validated.

    Every subset S of k = ``n_items`` items of the construct's pool is scored on the
    calibration half of the respondents by a weighted sum of desirabilities, as the
    objective functions of R's stuart (Schultze, 2017):

    .. math:: f(S) = \sum_c w_c\, d_c(x_c(S)),\qquad d_c(x) = \Phi\!\left(\frac{x - m_c}{s_c}\right)
        \ \text{(higher is better)}\ \text{or}\ \Phi\!\left(\frac{m_c - x}{s_c}\right)
        \ \text{(lower is better)},

    with Φ the standard normal CDF and the criteria x_c:

    * ``omega``: McDonald's omega total of the k items (one-factor minres, observed
      variance, psych's ``omega.tot``, as :func:`custval.omega`; the batched solver runs to
      the minres minimum, psych stops at R optim's tolerance: they agree to about 3e-7); default w = 1,
      (m, s) = (.80, .075), stuart's composite-reliability default;
    * ``rmsea``, ``srmr``, ``cfi``: fit of the one-factor CFA of the k items by maximum
      likelihood, as ``lavaan::cfa("F =~ x1 + ... + xk")`` (a vectorised Fisher-scoring
      fit on the correlation matrix; equal to :class:`custval.CFA` and to lavaan 0.6-14 on
      the same items: chi-square to 1e-9, SRMR to 2e-8, where lavaan's own optimiser stops);
      default w = .5, .5, 0 and (m, s) = (.05, .015), (.05, .015), (.95, .03), stuart's
      defaults (its preset objective weighs reliability 1 and RMSEA and SRMR .5);
    * ``r_full``: Pearson correlation of the sum of the k (keyed) items with the sum of
      the whole pool (the part-whole correlation, overlap included); w = 1,
      (m, s) = (.90, .05);
    * ``coverage``: the share of the required facets (by default every facet the
      codebook's ``facet:`` or ``facets=`` assigns to the pool's items) that S covers,
      entered linearly (d = share); w = 1; without facets it adds nothing.

    ``coverage="require"`` makes covering every required facet a constraint instead.
    A subset whose one-factor ML solution is improper (a negative residual variance)
    or did not converge is not eligible unless ``allow_improper=True``.  k = 3 makes
    the one-factor CFA just identified: chi-square, RMSEA and SRMR are 0 and CFI 1 for
    every subset, so the fit criteria do not discriminate and the result notes it; for
    k < 3 the CFA is not identified (an error).

    Search: ``method="exhaustive"`` evaluates all C(n, k) subsets (vectorised, in
    chunks); ``"aco"`` runs the MAX-MIN ant system (Stützle, 1998) of ``stuart::mmas``
    with its defaults (16 ants per colony, evaporation .95, pbest .005, iteration-best
    deposit on the items, pheromone limits τ_max = f_best / (1 − ρ) and τ_min as stuart)
    until ``colonies`` colonies bring no better subset (or the pheromones converge), as in
    the ant-colony item selection of Leite, Huang & Marcoulides (2008); each subset is
    evaluated once (a cache), ants of a colony at once.  ``"auto"`` (default) is
    exhaustive when C(n, k) ≤ ``max_exhaustive``, else ACO.  Ties are broken by codebook
    order (the subset listed first by :func:`itertools.combinations` wins).

    Cross-validation: the complete rows are split at random (``seed``) into a validation
    half (share ``holdout``) and a calibration half; the search uses the calibration half
    only, and the criteria of the chosen short form and of the ``top`` candidates are
    reported on both (``holdout=0``: no validation, the columns are NaN).  The result names
    the rows of each half (``calibration_rows``, ``validation_rows``), so that further
    analyses (an EFA of the pool, the CFA of the short form) can use the same halves.

    Parameters
    ----------
    data : pandas.DataFrame
        The answers, one row per respondent (raw: the instrument's reverse keys are applied).
    instrument : Instrument, str or Path
        An Instrument, a shipped instrument's name or a codebook path.
    construct : str, optional
        The construct to shorten; may be omitted (None) only when the instrument has one construct.
    n_items : int
        k, the number of items to keep (3 <= k < the pool size).
    method : {"auto", "exhaustive", "aco"}, default "auto"
        Search method (see above).
    seed : int, default 0
        Seed of the split and of the ant colony.
    holdout : float, default 0.5
        Share of the complete rows held out for validation, in [0, 1).
    weights : mapping of str to float, optional
        Weights of ``omega``, ``rmsea``, ``srmr``, ``cfi``, ``r_full``, ``coverage``
        that replace the defaults above (None: the defaults; name only those to change).
    targets : mapping of str to (float, float), optional
        ``(m, s)`` of a criterion's desirability, replacing the defaults above (None: defaults).
    facets : mapping of str to str, optional
        Item -> facet, added to (and overriding) the codebook's ``facet:`` keys; None: the
        codebook's facets only.
    required_facets : str or sequence of str, optional
        The facets to cover; None: every facet of the pool.
    coverage : {"score", "require"}, default "score"
        Coverage as a criterion of the objective, or as a constraint.
    keep : str or sequence of str, default ()
        Items every short form must contain (e.g. a marker item); the search chooses the others.
    drop : str or sequence of str, default ()
        Items no short form may contain (e.g. items an expert panel judged not essential); they
        still count in the full scale of ``r_full``.
    allow_improper : bool, default False
        Let subsets with an improper (Heywood) or non-converged one-factor solution be chosen.
    nan_policy : {"listwise", "raise"}, default "listwise"
        ``"listwise"``: rows with a missing answer to a pool item are excluded (listed in
        ``excluded`` with the items, and a :class:`~custval.exceptions.MissingDataWarning`);
        ``"raise"``: they are an error.
    id_column : str, optional
        A respondent-id column of ``data``: ``excluded`` then names each excluded row by its
        id too; None: by the row's index label only.
    top : int, default 10
        Number of ranked candidate subsets reported.
    max_exhaustive : int, default 200000
        Largest C(n, k) searched exhaustively with ``method="auto"`` or ``"exhaustive"``.
    ants, colonies, evaporation, pbest, max_colonies : int, int, float, float, int
        ACO settings: ants per colony (16), colonies without improvement before stopping
        (64), the share of pheromone kept per colony (.95), stuart's pbest (.005) and a cap
        on all colonies (2000).
    progress : bool, optional
        Progress bar (tqdm.auto); None: shown for searches of more than 20,000 subsets or
        200 colonies.

    Returns
    -------
    ShortFormResult
        The chosen items, the criteria on both halves, the ranked candidates and the search log.

    Raises
    ------
    IdentificationError
        ``n_items`` < 3 (a one-factor CFA of 2 items is not identified).
    SpecificationError
        An unknown construct or option, ``n_items`` not smaller than the pool, an item not
        in the data, ``method="exhaustive"`` with more than ``max_exhaustive`` subsets, or a
        required facet no item covers.
    ConstantItemError
        An item is constant in the rows used or in one half.
    InsufficientDataError
        A half has no more rows than the pool has items.
    SingularMatrixError
        The pool's correlation matrix is singular in a half.
    DataValidationError
        Non-numeric items, or missing answers with ``nan_policy="raise"``.

    Warns
    -----
    MissingDataWarning
        Rows excluded for missing answers.

    See Also
    --------
    custval.reliability.omega : Omega of one set of items.
    custval.cfa.CFA : Fit the chosen short form.
    custval.questionnaire.make_questionnaire : Print the short form (``result.instrument()``).

    References
    ----------
    Leite, W. L., Huang, I.-C., & Marcoulides, G. A. (2008). Item selection for the development
    of short forms of scales using an ant colony optimization algorithm. *Multivariate Behavioral
    Research, 43*(3), 411–431.
    Schultze, M. (2017). *Constructing subtests using ant colony optimization* (Doctoral
    dissertation). Freie Universität Berlin.  R package stuart.
    Stützle, T. (1998). *Local search algorithms for combinatorial problems* (Doctoral
    dissertation). TU Darmstadt.
    Smith, G. T., McCarthy, D. M., & Anderson, K. G. (2000). On the sins of short-form
    development. *Psychological Assessment, 12*(1), 102–111.

    Examples
    --------
    >>> import custval
    >>> ds = custval.load_dataset("mobi")
    >>> res = custval.short_form(ds.data, ds.instrument, construct="PERQ", n_items=4, seed=1)
    >>> res.items, res.n_calibration, res.n_validation
    (('PERQ4', 'PERQ5', 'PERQ6', 'PERQ7'), 125, 125)
    >>> print(res.criteria.loc[["omega", "rmsea", "r_full"]].round(3))
               calibration  validation  full_pool_calibration
    criterion
    omega            0.848       0.780                  0.881
    rmsea            0.000       0.142                  0.137
    r_full           0.961       0.958                  1.000
    >>> aco = custval.short_form(ds.data, ds.instrument, construct="PERQ", n_items=4, seed=1,
    ...                          method="aco")
    >>> aco.items == res.items
    True
    >>> # In R: stuart::bruteforce(d, list(PERQ = paste0("PERQ", 1:7)), 4, objective = ...)
    >>> #       stuart::mmas(d, list(PERQ = paste0("PERQ", 1:7)), 4)
    """
    from ._stats import itemsel

    w, t = _check_options(n_items, method, holdout, weights, targets, coverage, top, ants, colonies,
                          evaporation, pbest, max_colonies, max_exhaustive)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise SpecificationError(f"seed must be an integer; got {seed!r}")
    inst, construct, pool, x, excluded, n_rows, labels = _prepare(data, instrument, construct, nan_policy, id_column)
    p, k = len(pool), int(n_items)
    if k < 3:
        raise IdentificationError(
            f"n_items={k}: a one-factor CFA of {k} item(s) is not identified (it needs at least 3 items; "
            "3 items are just identified, 4 or more can be tested)")
    if k >= p:
        raise SpecificationError(f"n_items={k} but construct {construct} has {p} items ({', '.join(pool)}): "
                                 "a short form keeps fewer items than the pool")
    fac_map, required = _facets(inst, pool, facets, required_facets, coverage)
    if coverage == "require" and len(required) > k:
        raise SpecificationError(f"{len(required)} required facets ({', '.join(required)}) cannot be covered "
                                 f"by {k} items")
    kept_idx, free = _keep_drop(pool, keep, drop, k, construct)
    k_free = k - len(kept_idx)

    def full_sets(sub_free):
        """Free-item subsets -> pool positions (the kept items added), each row sorted."""
        sub_free = np.asarray(sub_free, dtype=np.int64).reshape(-1, k_free)
        rows = np.concatenate([np.broadcast_to(kept_idx, (len(sub_free), len(kept_idx))),
                               free[sub_free]], axis=1)
        return np.sort(rows, axis=1)

    total = math.comb(len(free), k_free)
    if method == "auto":
        method = "exhaustive" if total <= max_exhaustive else "aco"
    elif method == "exhaustive" and total > max_exhaustive:
        raise SpecificationError(f"C({p}, {k}) = {total} subsets exceed max_exhaustive={max_exhaustive}; use "
                                 "method='aco' or raise max_exhaustive")
    # ------------------------------------------------------------------ split
    n = len(x)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    order = rng.permutation(n)
    n_val = int(round(holdout * n))
    val_rows, cal_rows = np.sort(order[:n_val]), np.sort(order[n_val:])
    xc, xv = x[cal_rows], x[val_rows]
    _check_half(xc, pool, "calibration half" if n_val else "data")
    if n_val:
        _check_half(xv, pool, "validation half")
    facet_list = [fac_map.get(i) for i in pool]
    cal = itemsel.Pool(xc, facet_list, required)
    val = itemsel.Pool(xv, facet_list, required) if n_val else None

    def eligible(cr):
        ok = np.isfinite(cr["omega"]) & np.isfinite(cr["rmsea"])
        if not allow_improper:
            ok &= cr["converged"] & ~cr["improper"]
        if coverage == "require" and required:
            ok &= cr["coverage"] >= 1.0
        return ok

    score_w = dict(w)
    if coverage == "require" or not required:
        score_w["coverage"] = 0.0

    def evaluate(subsets):
        cr = cal.criteria(subsets)
        f = itemsel.objective(cr, score_w, t)
        return np.where(eligible(cr), f, np.nan), cr

    show = progress
    log_rows: list[dict] = []
    if method == "exhaustive":
        subsets = full_sets(itemsel.all_subsets(len(free), k_free))
        chunk = 4096
        if show is None:
            show = total > 20_000
        bar = _bar(show, total=total, desc=f"short_form {construct}: {total} subsets")
        values = np.empty(total)
        for start in range(0, total, chunk):
            part = subsets[start:start + chunk]
            values[start:start + chunk] = evaluate(part)[0]
            if bar is not None:
                bar.update(len(part))
        if bar is not None:
            bar.close()
        evaluated = subsets
        n_evaluated = total
        stop_reason = "every subset evaluated"
        log_rows.append({"n_subsets": total, "n_evaluated": total, "n_eligible": int(np.isfinite(values).sum())})
    else:
        if show is None:
            show = max_colonies > 200 and total > 20_000
        bar = _bar(show, total=None, desc=f"short_form {construct}: ant colonies")
        aco_rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
        best, _, cache, log_rows, stop_reason = itemsel.mmas(
            lambda s: evaluate(full_sets(s))[0], len(free), k_free, rng=aco_rng, ants=int(ants), colonies=int(colonies),
            evaporation=float(evaporation), pbest=float(pbest), max_colonies=int(max_colonies), progress=bar)
        if bar is not None:
            bar.close()
        found = sorted(cache.values())
        evaluated = full_sets([s for s, _ in found])
        values = np.array([v for _, v in found])
        n_evaluated = len(evaluated)
    lex = np.lexsort(evaluated.T[::-1])  # codebook (lexicographic) order of the item positions
    evaluated, values = evaluated[lex], values[lex]
    ok = np.isfinite(values)
    if not ok.any():
        raise SpecificationError(
            f"no subset of {k} items of {construct} is eligible: every one-factor solution is improper or did "
            "not converge" + (", or misses a required facet" if coverage == "require" else "")
            + "; allow_improper=True lets them be chosen")
    # ranking: objective descending, then lexicographic codebook order (evaluated is sorted)
    rank_order = np.lexsort((np.arange(len(values)), -np.where(ok, values, -np.inf)))
    rank_order = rank_order[ok[rank_order]][:top]
    chosen = evaluated[rank_order[0]]
    top_sets = evaluated[rank_order]
    crit_c = _one_by_one(cal, top_sets)
    obj_c = itemsel.objective(crit_c, score_w, t)
    if val is not None:
        crit_v = _one_by_one(val, top_sets)
        obj_v = itemsel.objective(crit_v, score_w, t)
    else:
        crit_v, obj_v = None, np.full(len(top_sets), np.nan)
    full = cal.criteria(np.arange(p)[None, :])
    full_obj = itemsel.objective(full, score_w, t)

    def column(cr, obj, i):
        if cr is None:
            return [np.nan] * len(_ROWS)
        return [float(cr[c][i]) for c in _ROWS[:-1]] + [float(obj[i])]

    criteria = pd.DataFrame({"calibration": column(crit_c, obj_c, 0),
                             "validation": column(crit_v, obj_v, 0),
                             "full_pool_calibration": column(full, full_obj, 0)},
                            index=pd.Index(_ROWS, name="criterion"))
    cand = {"rank": np.arange(1, len(top_sets) + 1),
            "items": [" + ".join(pool[j] for j in s) for s in top_sets]}
    for c in _ROWS[:-1]:
        cand[f"{c}_calibration"] = crit_c[c]
    cand["objective_calibration"] = obj_c
    cand["objective_validation"] = obj_v
    candidates = pd.DataFrame(cand)
    items = tuple(pool[j] for j in chosen)
    covered = tuple(f for f in required if any(fac_map.get(i) == f for i in items))
    notes = []
    if k == 3:
        notes.append("k = 3: the one-factor CFA of the short form is just identified (df = 0); chi-square, "
                     "RMSEA and SRMR are 0 and CFI is 1 for every subset, so the fit criteria do not "
                     "discriminate between subsets")
    n_bad = int((~ok).sum())
    if n_bad:
        notes.append(f"{n_bad} evaluated subset(s) not eligible (improper or non-converged one-factor solution"
                     + (", or a required facet missing" if coverage == "require" else "") + ")")
    if not required:
        notes.append("no item of the pool has a facet: coverage is not scored")
    if len(kept_idx):
        notes.append("kept in every candidate: " + ", ".join(pool[j] for j in kept_idx))
    dropped = [i for j, i in enumerate(pool) if j not in set(free.tolist()) and j not in set(kept_idx.tolist())]
    if dropped:
        notes.append("dropped from the search (still in the full scale): " + ", ".join(dropped))
    if method == "aco":
        notes.append("ant-colony search: the best subset found, not guaranteed optimal "
                     f"({n_evaluated} of {total} subsets evaluated)")
    conv = ("objective = " + " + ".join(
        f"{wt:g}*" + ("coverage" if c == "coverage" else
                      f"Phi(({c} - {t[c][1]:g})/{t[c][2]:g})" if t[c][0] == "top"
                      else f"Phi(({t[c][1]:g} - {c})/{t[c][2]:g})")
        for c, wt in score_w.items() if wt) + "; omega = psych omega.tot (one-factor minres); fit = one-factor "
        "ML CFA (lavaan); r_full = cor(sum of short form, sum of pool)")
    r_call = (f"stuart::{'bruteforce' if method == 'exhaustive' else 'mmas'}(calibration, "
              f"list({construct} = c({', '.join(repr(i) for i in pool)})), {k}); "
              "stuart::crossvalidate(selection, calibration, validation)")
    return ShortFormResult(
        construct=construct, items=items, pool=tuple(pool), n_items=k, method=method, criteria=criteria,
        candidates=candidates, search_log=pd.DataFrame(log_rows), n_subsets=total, n_evaluated=int(n_evaluated),
        n_eligible=int(ok.sum()), stop_reason=stop_reason, weights=dict(score_w), targets=dict(t),
        facets={i: fac_map[i] for i in pool if i in fac_map}, required_facets=tuple(required),
        covered_facets=covered, coverage=coverage, just_identified=k == 3, n_rows=int(n_rows), n=int(n),
        n_calibration=int(len(cal_rows)), n_validation=int(n_val), excluded=excluded, seed=int(seed),
        holdout=float(holdout), calibration_rows=tuple(labels[i] for i in cal_rows),
        validation_rows=tuple(labels[i] for i in val_rows), notes=tuple(notes), convention=conv, r_call=r_call, _source=inst,
    )


def _one_by_one(pool, sets):
    """Criteria of each subset fitted on its own, so that the reported numbers of a subset do not
    depend on which other subsets shared its batch (the search's batched solvers stop together)."""
    parts = [pool.criteria(s[None, :]) for s in sets]
    return {key: np.concatenate([np.atleast_1d(p[key]) for p in parts]) for key in parts[0]}


def _bar(show, *, total, desc):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)
