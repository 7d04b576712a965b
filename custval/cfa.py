"""Confirmatory factor analysis with lavaan's numbers.

:class:`CFA` fits a confirmatory factor model written in lavaan syntax by
maximum likelihood (ML), robust ML (MLR: Huber-White standard errors and the
Yuan-Bentler scaled test) and full-information ML for incomplete data
(``missing="fiml"``, lavaan's ``missing = "ml"``), in one or several groups.
It reports what ``lavaan::cfa()`` reports: the parameter table of
``parameterEstimates(fit, standardized = TRUE)``, ``fitMeasures(fit)``,
``modindices(fit)``, ``residuals(fit)`` and ``lavInspect(fit, "r2")``,
including defined parameters (``:=``, delta-method standard errors) and linear
equality constraints (``==``).

The parser, the matrix model, the estimator, robust corrections, fit measures,
standardization and modification indices live in private modules
(``_lavaan_syntax``, ``_sem_model``, ``_ml``, ``_robust``, ``_fit_measures``,
``_standardize``, ``_modindices``).
"""

from __future__ import annotations

import functools
import html
import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

from ._keys import is_instrument, warn_opposite
from ._sem import esem, ordinal, wls, wls_mg
from ._sem import fit_measures as fm
from ._sem.ml import MLProblem, em_saturated, loglik_group, make_group_data, warn_not_converged
from ._sem.model import SemModel, start_values
from ._sem.robust import first_order_groups, sandwich, yb_trace
from ._sem.spec import model_and_data
from ._sem.standardize import standardize, standardize_nox
from ._sem.syntax import build_partable
from ._sem.twolevel import build_twolevel_partable, fit_cfa, level_variables, split_levels
from ._sem.twolevel_missing import fit_cfa_missing
from .exceptions import (
    ConstantItemError,
    DataValidationError,
    HeywoodWarning,
    IdentificationError,
    InsufficientDataError,
    MissingDataWarning,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
    SpecificationError,
)

__all__ = ["CFA"]


def _id_column(data: pd.DataFrame, column: str, what: str) -> pd.Series:
    """The group or cluster column, which must exist and have a value in every row."""
    if column not in data.columns:
        raise SpecificationError(f"{what} column {column!r} is not in the data")
    col = data[column]
    if col.isna().any():
        rows = [int(i) for i in np.flatnonzero(col.isna().to_numpy())[:10]]
        raise DataValidationError(
            f"{int(col.isna().sum())} row(s) have no value in the {what} column {column!r} "
            f"(0-based positions, first 10: {rows}); every row needs a {what}")
    return col


def _twolevel_empty_rows(ids: pd.Series, keep: np.ndarray, cluster: str, what: str = "any model item") -> str:
    """The warning text for rows without any answer excluded from a two-level FIML fit,
    naming the clusters left with no answered row."""
    rows = np.flatnonzero(~keep)
    shown = [int(r) for r in rows[:10]]
    text = (f"{len(rows)} row(s) with no answer to {what} were excluded (they carry no "
            f"information; 0-based positions, first 10: {shown})")
    gone = pd.unique(ids[~keep][~ids[~keep].isin(ids[keep])])
    if len(gone):
        names = [_plain(g) for g in gone[:10]]
        text += (f"; {len(gone)} {cluster!r} cluster(s) have no answered row and drop out of the "
                 f"analysis (first 10: {names})")
    return text


def _plain(label):
    """A group label as a plain Python value for messages (``3``, not ``np.int64(3)``)."""
    return label.item() if isinstance(label, np.generic) else label


def _where(lab) -> str:
    """`` in group 'A'`` for a group label, nothing for a single-group model."""
    return "" if lab is None else f" in group {_plain(lab)!r}"


def _check_finite(items: pd.DataFrame) -> None:
    """Infinite item values are a data error naming the columns and rows (index labels)."""
    try:  # one pass over all columns; the columns one by one only to name the problems
        if not np.isinf(items.to_numpy(dtype=float)).any():
            return
    except (TypeError, ValueError):
        pass
    problems, lines = [], []
    for c in items.columns:
        bad = np.isinf(items[c].to_numpy(dtype=float))
        if bad.any():
            rows = [_plain(r) for r in items.index[bad]]
            vals = [float(v) for v in items[c].to_numpy(dtype=float)[bad]]
            problems.append({"rule": "finite", "column": c, "rows": rows, "row_counting": "index labels",
                             "values": vals, "n": len(rows), "allowed": "finite numbers or NaN (missing)"})
            lines.append(f"column {c!r}: {len(rows)} infinite value(s) at rows (index labels) {rows[:10]}"
                         f"{' ...' if len(rows) > 10 else ''}: {sorted(set(vals))}")
    if problems:
        raise DataValidationError(
            "CFA needs finite item scores (NaN for a missing answer); "
            + "; ".join(lines), problems=problems)


def _check_group_items(y: np.ndarray, names: list[str], lab, cov: np.ndarray | None = None) -> None:
    """Named checks of one group's complete item matrix before the covariance is used.

    Fewer cases than items, a constant item and two identical (r = +-1) items each
    make the sample covariance matrix singular; the message names what.  ``cov``: the
    N-denominator covariance matrix of complete data when already computed (the
    standard deviations and correlations are taken from it instead of another pass
    over the rows).
    """
    y = y[~np.isnan(y).all(axis=1)]
    n, p = y.shape
    incomplete = bool(np.isnan(y).any())
    if cov is not None and not incomplete and n > p:
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        bad = ~(sd > 1e-12 * np.maximum(1.0, np.abs(y).max(axis=0)))
        if not bad.any():
            r = cov / np.outer(sd, sd)
            iu, ju = np.triu_indices(p, k=1)
            if not (np.abs(r[iu, ju]) > 1 - 1e-10).any():
                return
        # a problem: the checks below name it
    if n <= p and not incomplete:
        raise InsufficientDataError(
            f"{n} usable case(s){_where(lab)} for {p} items: n must exceed the number of items "
            f"(the sample covariance matrix of {p} items is singular with n <= {p}); collect more "
            "data or fit fewer items")
    answered = (~np.isnan(y)).sum(axis=0)
    if (answered < 2).any():
        few = [f"{names[j]} ({int(answered[j])} answer{'' if answered[j] == 1 else 's'})"
               for j in np.flatnonzero(answered < 2)]
        raise InsufficientDataError(
            f"item(s) {', '.join(few)} have fewer than two answers among the {n} usable cases{_where(lab)}: "
            "their variance cannot be estimated there (a question skipped by everybody, or not asked, "
            "in that group); drop the item or the group")
    const = []
    for j in range(p):
        col = y[:, j][~np.isnan(y[:, j])]
        if col.size and not col.std() > 1e-12 * max(1.0, np.abs(col).max()):
            const.append(f"{names[j]} (every value {col[0]:g})")
    if const:
        raise ConstantItemError(
            f"item(s) {', '.join(const)} are constant in the {n} usable cases{_where(lab)}: a constant "
            "item has no variance to explain; remove it from the model")
    if n < 2:
        return
    with np.errstate(invalid="ignore", divide="ignore"):
        r = pd.DataFrame(y).corr(min_periods=3).to_numpy() if incomplete else np.corrcoef(y, rowvar=False)
    iu, ju = np.triu_indices(p, k=1)
    same = np.abs(r[iu, ju]) > 1 - 1e-10
    if same.any():
        pairs = [f"{names[i]} and {names[j]} (r = {r[i, j]:+.6f})" for i, j in zip(iu[same], ju[same])]
        raise NotPositiveDefiniteError(
            f"the sample covariance matrix of the items{_where(lab)} is not positive definite: "
            f"perfectly correlated item pair(s) {'; '.join(pairs[:10])} (a duplicated column?); "
            "keep one item of each pair")


def _model_items(data: pd.DataFrame, observed: list[str]) -> pd.DataFrame:
    """The model's observed variables from `data`: present, numeric and finite."""
    absent = [v for v in observed if v not in data.columns]
    if absent:
        raise SpecificationError(
            f"item(s) {absent} are in the model but not in the data; data columns: {list(data.columns)}"
        )
    items = data[observed]
    bad = [c for c, dtype in zip(observed, items.dtypes) if not pd.api.types.is_numeric_dtype(dtype)]
    if bad:
        raise DataValidationError(f"item(s) {bad} are not numeric; CFA needs numeric item scores")
    _check_finite(items)
    return items


def _check_sample_cov(labels: list, groups: list) -> None:
    """Each group's sample covariance matrix is positive definite."""
    for lab, gd in zip(labels, groups):
        ev = np.linalg.eigvalsh(gd.sample_cov)
        if not ev.min() > 1e-10 * max(ev.max(), 1e-300):
            raise NotPositiveDefiniteError(
                f"the sample covariance matrix of the items{_where(lab)} "
                f"is not positive definite (smallest eigenvalue {ev.min():.3g}); check for constant "
                "or perfectly collinear items"
            )


def _fix_covariates(pt: pd.DataFrame, model, groups: list, observed: list[str]) -> None:
    """fixed.x: the covariates' (co)variances and means are their sample values (N
    denominator), per group, and are not counted as data (lavaan's ndat) nor as free
    parameters; written into the model's and the table's ustart."""
    exo_rows = np.flatnonzero(pt["exo"].to_numpy() == 1)
    if not len(exo_rows):
        return
    for k in exo_rows:
        r = pt.iloc[k]
        gd = groups[int(r["group"]) - 1]
        i = observed.index(r["lhs"])
        val = gd.sample_mean[i] if r["op"] == "~1" else gd.sample_cov[i, observed.index(r["rhs"])]
        model.ustart[k] = val
    pt.loc[exo_rows, "ustart"] = model.ustart[exo_rows]


@functools.lru_cache(maxsize=64)
def _identification_draws(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The two uniform(-1, 1) vectors of ``np.random.default_rng(0)`` that perturb the start
    values in the identification check (read-only; a new generator costs ~0.1 ms a fit)."""
    rng = np.random.default_rng(0)
    u1, u2 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    u1.setflags(write=False)
    u2.setflags(write=False)
    return u1, u2


@functools.cache
def _blas_controller():
    """One threadpoolctl controller per process: building one scans the loaded libraries
    (~1 ms, as much as a small fit's optimizer); the BLAS libraries are loaded with
    numpy and scipy, before the first fit."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _single_thread_blas():
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return _blas_controller().limit(limits=1, user_api="blas")

_ESTIMATORS = ("ML", "MLR")
ORDINAL_ESTIMATORS = wls.ORDINAL_ESTIMATORS
_MISSING = ("listwise", "fiml")


class CFA:
    """Confirmatory factor analysis (lavaan-compatible ML / MLR / FIML).

    Parameters
    ----------
    model : str, Instrument or dict
        lavaan model syntax (``=~``, ``~~``, ``~`` between latent variables
        and on observed covariates (see Notes), ``~ 1``, fixed values ``1*x``, ``NA*x``, labels, ``start()``,
        ``c(...)`` per group, linear equality constraints ``==`` among labels
        and numbers such as ``a == b``, ``a == 2*b``, ``a + b == 1``,
        ``m1 == 0``, and defined parameters ``name := expression``), or any
        object with a ``model_syntax()`` method such as
        :class:`custval.Instrument`, or a mapping ``{factor: [items]}`` (one
        ``factor =~ item + item`` line each).  A statement continues on the next
        line after a trailing ``+`` or operator; ``#`` and ``!`` start comments.
        An Instrument also gives its reverse
        keys: its reverse-keyed items are fitted as ``min + max - x`` of
        their own scale (:meth:`Instrument.keyed <custval.Instrument.keyed>`), once: a
        frame returned by ``Instrument.keyed`` is not keyed again.  Model
        syntax fits the columns as they are.  A ``:=`` expression may use labels,
        numbers, parameters defined above it, ``+ - * / ^``, parentheses and
        ``sqrt``, ``exp``, ``log``, ``abs``; it is parsed, never evaluated as
        code.  Linear inequality constraints (``a > 0``, ``a < b``) are
        imposed by an active-set method; nonlinear ``==``, ``<`` or ``>``
        constraints raise :class:`~custval.exceptions.ModelSyntaxError`.
        Exploratory (ESEM) blocks ``efa("b1")*F1 + efa("b1")*F2 =~ x1 + ...``
        are fitted and rotated as lavaan's ``cfa(model, data, rotation =
        "geomin")`` (see "Exploratory (ESEM) blocks" in the Notes).
    estimator : {"ML", "MLR", "WLSMV", "DWLS", "ULSMV", "ULS"}, optional
        ``"ML"``: standard errors from the expected information (observed
        information under FIML), as lavaan.  ``"MLR"``: Huber-White sandwich
        standard errors with the observed information and the Yuan-Bentler
        (Mplus variant) scaled chi-square, as lavaan's ``estimator = "MLR"``.
        With ordered items (``ordered=``): ``"WLSMV"`` (DWLS estimates, robust
        standard errors, scaled-and-shifted test), ``"DWLS"`` (standard errors
        from the expected information, unscaled test), ``"ULSMV"`` / ``"ULS"``
        (unweighted least squares); see "Ordered items" in the Notes.  The
        default (``None``) is ``"ML"``, or ``"WLSMV"`` when ``ordered`` is given,
        as lavaan.
    ordered : bool or list of str
        lavaan's ``ordered =``: ``True`` treats every item of the model as
        ordered categories (Likert answers as categories, not numbers), a list
        names them; items not in the list are continuous (for example a 0-100
        rating next to five-point items; one group or several, listwise or
        pairwise; see "Ordered and continuous items" in the Notes).  Values must be whole
        numbers; the
        categories are the values observed (lavaan's thresholds ``t1..t(K-1)``).
        With an Instrument as the model, a value outside an item's scale points
        is an error.
    parameterization : {"delta", "theta"}
        The scale of the latent responses with ordered items: ``"delta"``
        (lavaan's default) fixes their variances at 1, so the items' residual
        variances are 1 minus the explained variance (not free parameters);
        ``"theta"`` fixes their residual variances at 1, and the scale factors
        ``~*~`` are ``diag(Sigma*)^-1/2`` (``scales_``).  Same fit, other scale.
    missing : {"listwise", "fiml", "pairwise"}
        ``"listwise"`` drops incomplete rows (reported in ``n_excluded_`` with
        a :class:`~custval.exceptions.MissingDataWarning`); ``"fiml"`` uses
        every case with at least one observed item (lavaan ``missing = "ml"``;
        ``"ml"`` is accepted as a synonym), also in two-level models (level
        blocks, see "Two-level models with missing answers" in the Notes);
        ``"pairwise"`` (ordered items only, lavaan's ``missing = "pairwise"``)
        estimates each threshold and polychoric from the answers available.
    group : str, optional
        Column defining groups (ordered by first appearance, as lavaan).
    std_lv : bool
        Identify the latent scales by unit variances instead of fixing the
        first loading to 1 (lavaan ``std.lv``).
    group_equal : tuple of str
        lavaan ``group.equal``: any of "loadings", "intercepts", "means",
        "residuals", "residual.covariances", "lv.variances", "lv.covariances",
        "regressions".  With equal intercepts the latent means are free in
        every group but the first.
    group_partial : tuple of str
        lavaan ``group.partial``: parameters exempt from ``group_equal``,
        e.g. ``("visual=~x2", "x3~1")``.
    meanstructure : bool
        Add intercepts in a single-group complete-data fit (automatic with
        groups, FIML or clusters).
    cluster : str, optional
        Column of cluster ids (e.g. the customer account or the firm) for
        cluster-robust standard errors and test statistics of a single-level
        model, as lavaan's ``cfa(..., cluster = "account", estimator = "MLR")``
        (``se = "robust.cluster"``): in the first-order information the
        casewise scores are summed within each of the C clusters of a group
        and scaled by sqrt(C / (C - 1)), ``B = sum_c s_c s_c' C / ((C - 1) n)``
        (Muthén & Satorra, 1995); estimates are unchanged.  Needs
        ``estimator="MLR"`` and complete data; ``n_clusters_`` reports C per
        group.  Muthén, B. O., & Satorra, A. (1995). Complex sample data in
        structural equation modeling. *Sociological Methodology, 25*, 267-316.

        When the model has lavaan's level blocks (``level: 1`` / ``level: 2``,
        or ``level: within`` / ``level: between``), ``cluster`` names the
        level-2 units (e.g. ``"firm"``) and the model is a two-level CFA fitted
        by ML, as lavaan 0.6-14's ``cfa(model, data, cluster = "firm")``; see
        Notes.  The cluster ids may be strings or integers and the rows need
        not be sorted by cluster.  A variable named only in ``level: 1`` is
        within-only (no between part), one named only in ``level: 2`` is
        between-only (one value per cluster, e.g. firm size), as in lavaan.

    Attributes
    ----------
    params_ : DataFrame
        lhs, op, rhs, group (1-based), label, free, est, se, z, p_value,
        ci_low, ci_high, std_lv, std_all: ``parameterEstimates(fit,
        standardized = TRUE)`` without the ``==`` rows.  Defined parameters
        are rows with op ``":="`` (lhs: the name, rhs: the expression, group
        0 with several groups, as lavaan); their std_lv / std_all are the
        definition evaluated on the standardized parameters.  With ESEM
        blocks: the rotated solution (lavaan's ``free`` numbers of the echelon
        model, so the block's ``user = 7`` rows have ``free`` 0 but an
        estimate and a standard error) and ``est_unrotated``.
    rotation_, efa_blocks_ : dict
        With ESEM blocks: per block the geomin criterion at the solution and
        the winning random start; per block its factors.
    constraints_ : list of str
        The general linear ``==`` constraints imposed by reparametrisation
        (``label == label`` is imposed by sharing one parameter and is not
        listed); :meth:`summary` shows their slack.
    inequalities_, active_inequalities_ : list of str
        The ``<`` / ``>`` constraints, and those that bind at the solution.
    fit_measures_ : Series
        lavaan's ``fitMeasures(fit)`` names (chisq, df, pvalue, cfi, tli,
        rmsea, rmsea.ci.lower, rmsea.ci.upper, rmsea.pvalue, srmr, aic, bic,
        logl, ntotal, ...; with MLR also chisq.scaled,
        chisq.scaling.factor, cfi.robust, tli.robust, rmsea.robust, ...).
    implied_cov_, implied_mean_, sample_cov_, sample_mean_ :
        Labelled DataFrame / Series (a dict keyed by group label when there
        are several groups).  Under FIML the "sample" moments are the EM
        estimates of the saturated model, as lavaan's ``sampstat``.
    n_obs_ : dict
        Cases used per group label; ``n_excluded_`` rows dropped (listwise).
    sample_th_, gamma_, scales_ :
        With ordered items: the sample thresholds (``"item|t1"``, ...), lavaan's
        Gamma (NACOV) of (thresholds, polychorics) and the scale factors
        (``~*~``), per group label with several groups; ``sample_th_`` is
        ``None`` for a fit with continuous items.  With continuous items mixed
        in, ``gamma_`` also covers their means (``"x~1"``, as minus the mean)
        and variances (``"x~~x"``), ``sample_cov_`` is lavaan's ``cov``
        (correlations rescaled by the continuous items' SDs) and
        ``sample_mean_`` / ``implied_mean_`` their means (0 for ordered items).
    continuous_ : list of str
        The items fitted as continuous in a fit with ordered items
        (``ordered=`` naming only some items); empty otherwise.
    r2_ : DataFrame
        R² per item (and per endogenous latent), one column per group.
    covariates_ : list of str
        The observed exogenous covariates (fixed.x, see Notes); ``params_``
        then also has lavaan's ``std_nox`` column (``std_all`` without
        rescaling the covariates).
    x_ : ndarray
        Estimates of the distinct free parameters (``free`` column).
    vcov_ : ndarray
        Covariance matrix of ``x_`` (singular under general ``==``
        constraints: ``K V_theta K'``, see Notes).
    notes_ : list of str
        Improper-solution notes (a latent covariance matrix that is not
        positive definite); each is also raised as a
        :class:`~custval.exceptions.NotPositiveDefiniteWarning`, as lavaan
        warns, and shown by :meth:`summary`.
    instrument_, keying_, reverse_keyed_ :
        The Instrument given as the model (else ``None``); how reverse-keyed
        items entered (``keying_.source``: ``"model"`` keyed here, ``"data"``
        keyed by ``Instrument.keyed`` before, ``"none"`` model syntax on data
        without a keying record); the items fitted as ``min + max - x of its own scale``.
    keying_notes_ : list of str
        Items whose standardized loading (>= 0.2 in absolute value) has the
        opposite sign of their factor's other indicators (factors with at
        least three indicators that load on that factor only).  With an
        Instrument, a declared reverse item found here was keyed twice and
        raises a :class:`~custval.exceptions.ReverseKeyWarning`; with model
        syntax the finding is recorded and shown by :meth:`summary` (the
        estimates are lavaan's), and :func:`~custval.validity.composite_reliability`
        / :func:`~custval.validity.ave` warn when they use the fit.

    Raises
    ------
    DataValidationError
        An infinite item value (names the column and the rows, index labels).
    ConstantItemError
        An item with one value in all usable cases (of a group).
    InsufficientDataError
        No more usable cases than items (the sample covariance matrix is then
        singular), or fewer than the free parameters.
    NotPositiveDefiniteError
        Two items correlate perfectly (named; e.g. a column exported twice) or
        the sample covariance matrix is otherwise singular.

    See Also
    --------
    custval.efa.EFA : Exploratory factor analysis.
    custval.validity.measurement_table : The measurement section of a paper from a fitted CFA.
    custval.invariance.measurement_invariance : Invariance across groups.

    Notes
    -----
    ML minimises ``F = sum_g (n_g/N) [log|Sigma_g| + tr(S_g Sigma_g^-1)
    - log|S_g| - p + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)] / 2`` with
    ``S_g`` the covariance with denominator ``n_g`` (not ``n_g - 1``), by
    Fisher scoring to a relative step of 1e-11; ``chisq = 2 N F``.  RMSEA is
    ``sqrt(max(chisq/(N df) - 1/N, 0)) sqrt(G)`` with ``N`` (lavaan), SRMR is
    lavaan's default ``srmr`` (Bentler's, with the mean residuals when there is
    a mean structure).  Robust CFI/TLI/RMSEA follow Brosseau-Liard & Savalei
    (2014) and Brosseau-Liard, Savalei & Li (2012) as lavaan's ``*.robust``;
    under FIML they are Savalei's FIML-corrected versions (lavaan's
    ``lav_fit_fiml_corrected``: "V3" with MLR, "V6" with ML).  The FIML
    saturated model is estimated by EM with lavaan's start values and stopping
    rule (change < 1e-5), so the chi-square is lavaan's.

    Identification: lavaan's ``cfa()`` defaults are applied, including
    ``auto.fix.single`` (the indicator of a single-indicator factor has its
    residual variance fixed to 0).  Before fitting, the rank of the Jacobian
    of the implied moments is checked at a seeded random point near the start
    values (a deficit there means the model is identified for no parameter
    values); after fitting, the information matrix is checked at the
    estimates.  Either failure raises
    :class:`~custval.exceptions.IdentificationError` naming the parameters
    involved; lavaan instead warns "could not compute standard errors" in the
    second case.  The start values themselves are not checked: factor
    covariances start at 0, where a 2-indicator factor or a method factor is
    not yet identified.  The scoring steps are damped (Levenberg-Marquardt),
    which keeps such models from stalling in a degenerate region.

    Known differences from lavaan: the optimizer (Fisher scoring, then Newton
    steps) converges further than lavaan's default nlminb; where nlminb stops
    early (gradient ~1e-6, e.g. the ECSI model on mobi) the estimates differ
    by up to ~3e-5.  Equality constraints are imposed by reparametrisation
    (shared parameters) instead of lavaan's ``==`` rows; estimates, standard
    errors and test statistics are the same.  Nonlinear ``==``, ``<``, ``>``
    constraints are not supported, and modification indices are not
    available when a general linear ``==`` constraint or an active inequality
    is present.  A parameter that the constraints determine
    (``m1 == 0``) gets ``se = 0`` and NaN z; lavaan prints NA or 0 there
    depending on rounding.

    Observed covariates (MIMIC models): ``F ~ z1 + z2`` regresses a latent
    variable on observed exogenous covariates (e.g. ``SAT ~ tenure +
    gender``), and ``x ~ z`` with ``x`` an indicator adds a direct effect
    (the MIMIC test of differential item functioning).  As lavaan's
    defaults (``fixed.x = TRUE``, ``conditional.x = FALSE``) the covariates'
    variances, covariances and (with a mean structure) means are fixed at
    their sample values (denominator ``n``) and are not free parameters;
    their moments are not counted as data either (``df = ndat - npar``,
    ``ndat`` without the covariates' moments), ``logl`` is conditional on
    the covariates, the baseline model keeps their covariances, and the
    Yuan-Bentler trace leaves their moments out of the saturated model.
    Internally each covariate is a latent variable with loading 1 and no
    residual variance.  ``std_all`` scales by the covariates' sample standard
    deviations, ``std_lv`` and ``std_nox`` leave them unscaled.  Residual
    covariances among latent outcomes are free (lavaan's ``auto.cov.y``);
    latent outcomes and exogenous factors are not correlated.  Covariates
    must be exogenous (not indicators, not outcomes) and their rows cannot be
    written in the model; ``missing="fiml"`` is not available with
    covariates yet.  :meth:`modification_indices` then covers cross-loadings
    and residual covariances of the indicators (not onto an indicator with a
    direct effect, as lavaan); lavaan's list also has latent covariances and
    regressions, which custval does not generate.
    Checked against lavaan 0.6-14 (ML, MLR, groups, ``group.equal``
    including "regressions", direct effects) at ~1e-9.

    Linear equality constraints ``A x = b`` over the distinct free
    parameters ``x`` (``a == 2*b``, ``a + b == 1``) are imposed as lavaan
    imposes linear constraints, by reparametrisation: ``x = x_p + K theta``
    with ``K`` an orthonormal basis of the null space of ``A`` and ``x_p``
    the minimum-norm solution; the model is fitted in ``theta``,
    ``V_x = K V_theta K'`` (under MLR ``V_theta`` is the sandwich), and each
    independent constraint adds one degree of freedom (``npar`` = free
    parameters minus the rank of ``A``, lavaan's ``npar``).

    Linear inequality constraints ``G x >= h`` (``a > 0.7``) are handled by
    an active-set loop: the most violated constraint is imposed as an
    equality and the model refitted, an active constraint with a negative
    Lagrange multiplier is released, until the KKT conditions hold.  Active
    constraints are imposed like ``==`` for the estimates and standard
    errors but, as in lavaan, do not change ``npar`` or ``df``.  lavaan's
    own constrained optimizer (nlminb.constr) stops ~1e-5 short of this
    solution; the goldens evaluate lavaan at the converged solution.

    Defined parameters ``d = f(x)`` (``:=``) are reported with delta-method
    standard errors ``se(d) = sqrt(J V_x J')``, ``J = df/dx`` by central
    differences (step ``1e-6 max(1, |x_k|)``); for an indirect effect
    ``a*b`` this is Sobel's (1982) first-order standard error
    ``sqrt(b^2 se_a^2 + a^2 se_b^2 + 2 a b cov_ab)``.  Under MLR ``V_x`` is
    the sandwich, as in lavaan's ``parameterEstimates``.  In
    :meth:`standardized_solution` the definition is evaluated on the
    standardized parameters (lavaan's ``standardizedSolution``) with the
    delta-method standard error of that composite.

    Ordered items (``ordered=``, lavaan's categorical CFA): the items are cut
    versions of normal latent responses ``y*``.  lavaan's two-stage estimates are
    computed first: each item's thresholds from its marginal proportions, each
    pair's polychoric correlation by maximum likelihood with the thresholds
    fixed (lavaan's ``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``;
    these are not :func:`custval.correlation.polychoric`'s ``psych``
    correlations), and their asymptotic covariance ``Gamma`` from the casewise
    scores (Muthén, 1984; lavaan's ``muthen1984``).  The model is fitted to
    ``s = (thresholds, correlations)`` by minimising ``(s - sigma)' W (s -
    sigma)`` with ``W = diag(Gamma)^-1`` (DWLS) or ``I`` (ULS); as lavaan,
    ``chisq = (N - 1) F`` and RMSEA / Hoelter's N use ``N - 1``.  WLSMV / ULSMV
    standard errors are the sandwich ``A^-1 Delta' W Gamma W Delta A^-1 / (N -
    1)`` with ``A = Delta' W Delta`` (lavaan's ``se = "robust.sem"``), and
    ``chisq.scaled`` is lavaan's ``test = "scaled.shifted"`` (Asparouhov &
    Muthén, 2010): ``a chisq + df - a tr(U Gamma)``, ``a = sqrt(df / tr((U
    Gamma)^2))``, ``chisq.scaling.factor = 1 / a``.  The baseline model has
    free thresholds and zero correlations; ``cfi.scaled`` etc. use the scaled
    statistics of both; ``srmr`` is the root mean square of the correlation
    residuals below and on the diagonal.  ``params_`` has lavaan's rows: the
    thresholds (``op == "|"``, ``rhs`` ``t1``, ``t2``, ...), the residual
    variances (fixed, ``1 - R²``), the scale factors (``~*~``, 1) and the zero
    intercepts and latent means; ``sample_cov_`` is the polychoric matrix,
    ``sample_th_`` the thresholds, ``gamma_`` lavaan's ``lavInspect(fit,
    "gamma")``, ``implied_cov_`` the implied correlations of the latent
    responses, ``scales_`` the scale factors (dicts keyed by group label with
    several groups).

    ``missing="pairwise"`` keeps every row with an answer (thresholds from the
    answers to each item, polychorics from the rows that answered both, the
    total N), as lavaan's ``missing = "pairwise"``; labels, ``:=`` (delta-
    method standard errors from the robust covariance) and linear ``==``
    constraints among the structural parameters work as with ML.  The
    ``.robust`` CFI / TLI / RNI / RMSEA are lavaan's for categorical data
    (``lav_fit_catml_dwls``; Savalei, 2021): the normal-theory ML discrepancy
    of the polychoric matrix at the DWLS estimates with the correction ``c =
    tr(U' V U Gamma) / df``; they are NaN when a polychoric matrix is not
    positive definite, as in lavaan.

    Several groups (``group=``): every category of
    every item must be used in every group (lavaan's rule; an empty one is a
    :class:`~custval.exceptions.DataValidationError` naming the item, the
    group and the counts).  As lavaan 0.6-14, without ``group_equal`` the
    groups are fitted side by side (scale factors 1, latent means 0); with
    ``group_equal=("thresholds", ...)`` the thresholds are equal across groups
    (``group_partial`` may free one, e.g. ``"A1|t2"``) and the scale factors
    and latent means of the other groups are free (theta: their residual
    variances instead of the scale factors); item intercepts stay 0.
    The fit function weights group g by ``(n_g - 1) / N`` and the sandwich is
    divided by ``N - G``, as lavaan.  With equal thresholds the ``.robust``
    fit indices are NaN, as in lavaan 0.6-14 (its catML refit fails there).
    Labels shared across groups (``c(a, a)*x``) and linear ``==`` constraints
    across groups (``a1 == a2``, ``l1 == 0.9*l2``, ``a + b == 1``) on loadings,
    factor (co)variances and latent means are imposed by the same
    reparametrisation as with one group; the robust standard errors and the
    scaled-shifted test are those of the constrained model (lavaan's
    ``se = "robust.sem"`` from the constrained information), ``df`` counts each
    independent constraint, and ``npar`` is lavaan's (free parameters minus
    constraints); defined parameters (``:=``) of several groups are reported
    with ``group`` 0, as lavaan.  A constraint on a parameter that is not free with ordered
    items (a residual variance, an item intercept) is a
    :class:`~custval.exceptions.SpecificationError` naming it.
    Linear ``<`` / ``>`` constraints on the structural parameters of a fit
    with ordered items (one group or several) use the active-set loop of the
    ML fit (an active constraint is imposed like ``==`` for the estimates,
    the robust standard errors and the scaled-shifted test, but does not
    change ``npar`` or ``df``; the bound parameter gets se 0, where lavaan
    reports NA with one group): equal to lavaan 0.6-14's
    ``cfa(..., ordered = TRUE)`` with ``a < -2`` at 1e-5.
    Not available with ordered items yet: covariates,
    clusters, and a mix of ordered and continuous items in the invariance
    ladder (the ordinal invariance ladder is
    :func:`custval.invariance.measurement_invariance` with ``ordered=True``).

    Ordered and continuous items (``ordered=`` naming only some items), as
    lavaan 0.6-14 (``muthen1984`` with numeric and ordered ``ov.types``): each
    continuous item contributes its mean and ML variance (divisor N), each
    pair a polychoric (both ordered), polyserial (two-step ML with the
    continuous item's mean and variance and the ordered item's thresholds
    fixed; lavaan's ``lav_bvmix_cor_twostep_fit``, bounds +-0.995) or Pearson
    (both continuous) correlation; the fitted statistics are (thresholds and
    minus the means, the continuous items' variances, the covariances
    ``r_ij sd_i sd_j``), with Gamma from the case-wise scores of all of them.
    The continuous items' intercepts (``x ~ 1``) and residual variances are
    free parameters, their scale factor is 1 (no ``~*~`` row) and they have no
    thresholds.  With several groups the continuous items' intercepts are
    free in every group, or equal across groups with ``group_equal``
    containing ``"intercepts"`` (``group_partial`` ``"x~1"`` frees one); with
    ``"thresholds"`` the scale factors of the ordered items only and the
    latent means are free in the other groups, as lavaan.  With
    ``missing="pairwise"`` a continuous item's mean and variance come from its
    answers, polyserial correlations from the rows that answered both, and
    the correlation of two continuous items is Pearson's when neither has a
    missing answer, else lavaan's two-step ML correlation of the rows that
    answered both (means and variances fixed; ``lav_bvreg_cor_twostep_fit``);
    a missing answer scores 0 in Gamma.  ``srmr`` is
    lavaan's over the residual covariances divided by
    the sample SDs, ``rmr`` over the raw ones; the ``.robust`` indices are NaN
    (lavaan 0.6-14 reports NA).  A continuous item with two distinct values
    is a :class:`~custval.exceptions.SpecificationError` (its mean and
    variance are one statistic: list it in ``ordered=``); a text column
    (a decimal comma) a :class:`~custval.exceptions.DataValidationError`.
    :func:`custval.validity.composite_reliability` does not take such a fit
    yet.  Known divergence: lavaan's polyserial search (``nlminb``) stops up
    to ~2e-7 short of the maximum that custval finds (the score is 0 there),
    and its pairwise ML correlation of two continuous items up to ~1e-6,
    which moves lavaan's estimates by up to ~1e-6 and its test statistics by
    up to ~8e-7 relative; on lavaan's own sample statistics the fits agree to
    ~1e-8.  Known
    divergence: in the two-group theta model with equal thresholds lavaan's
    nlminb stops ~1e-5 short of the minimum (lavaan's own chisq is lower at
    custval's estimates).

    Checked against lavaan 0.6-14 on bfi (6 categories; complete, pairwise,
    two groups), corp_rep (7 points) and a skewed simulated set (2 to 4
    categories), delta and theta: estimates and standard errors to ~1e-8,
    test statistics to ~1e-7 relative (the remaining difference is lavaan's
    polychoric search, which stops ~1e-8 short).
    Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square
    correction. Mplus technical appendix.  Muthén, B. (1984). A general
    structural equation model with dichotomous, ordered categorical, and
    continuous latent variable indicators. *Psychometrika, 49*(1), 115-132.
    Savalei, V. (2021). Improving fit indices in structural equation modeling
    with categorical data. *Multivariate Behavioral Research, 56*(3), 390-407.

    Exploratory (ESEM) blocks (lavaan 0.6-14, ``rotation = "geomin"`` and
    its ``rotation.args`` defaults: oblique, ``geomin.epsilon = .001``,
    ``rstarts = 30``, ``std.ov = TRUE``, ``reflect = TRUE``,
    ``order.lv.by = "index"``, ``rotation.se = "bordered"``): the factors of
    a block have unit variance, all their loadings on the block's items are
    free, and the block is identified for the ML fit by the echelon pattern
    (the k-th factor's first k - 1 loadings and the block's factor
    covariances fixed to 0; ``user = 7`` in ``partable_``).  The fit
    (``fit_measures_``, lavaan's ``npar`` and ``df``) is that of this model.
    Each block's loadings, standardised by ``diag(Lambda Lambda' + Theta)``,
    are then rotated by geomin from the identity and 29 random orthogonal
    starts (``seed`` 0; the lowest criterion wins and is continued to the
    stationary point, see :mod:`custval._stats.efa_lavaan`), the columns
    reflected to a positive sum and ordered by the mean index of their
    items, and the factor covariances transformed (``Psi -> H' Psi H``, also
    the covariances with the CFA factors).  Standard errors (``se``) are
    lavaan's bordered ones: the inverse of the expected information of the
    model with every loading and correlation of the block free, bordered by
    the Jacobian (Richardson) of the rotation's stationarity conditions,
    lavaan's constraint function included (it standardises without the
    factor correlations).  :meth:`standardized_solution` uses the bordered
    matrix with the exact stationarity conditions (the delta method through
    the rotation); lavaan's ``se.std`` computes that by forward differences of
    step .001 of re-rotations, within about 1e-3 of custval's.  A model of one
    efa block is ``lavaan::efa()`` (:class:`custval.EFA` with
    ``convention="lavaan"``).  Regressions among the latent variables
    (``lavaan::sem()``; ``B -> H' B H^-T``) are supported.  ESEM blocks need
    one group, ML with listwise deletion, continuous items, no ``==`` /
    ``:=`` rows and no higher-order factors on or in a block.
    Asparouhov, T., & Muthén, B. (2009). Exploratory structural equation
    modeling. *Structural Equation Modeling, 16*(3), 397-438.

    Fit measures also include lavaan's rfi, nfi, pnfi, ifi, rni (and their
    ``.scaled`` / ``.robust`` versions), srmr_mplus, Hoelter's cn_05 / cn_01,
    gfi, agfi, pgfi, mfi and ecvi, with lavaan's formulas.

    **Two-level models** (level blocks with ``cluster=``; ML, complete cases
    or FIML (below), one group; a level block may have factors or
    only (co)variances, e.g. a saturated between model ``y1 ~~ y1 + y2``).  The likelihood is lavaan's
    (``lav_mvnorm_cluster_loglik_samplestats_2l``; Muthén & Asparouhov):
    ``y_ij = mu + b_j + w_ij`` with ``cov(w) = Sigma_W`` (the level-1 model)
    and ``cov(b) = Sigma_B`` (the level-2 model), for balanced and unbalanced
    clusters.  As in lavaan 0.6-14 (``lav_mvnorm_cluster_implied22l``), an item
    named only in ``level: 1`` is *within-only*: it has no between part (its
    row of ``Sigma_B`` is 0, so its cluster means vary by sampling only) and
    its mean is its level-1 intercept (free); a variable named only in
    ``level: 2`` is *between-only*: a cluster-level variable such as firm size,
    which must take one value in each cluster (an error names the clusters
    where it does not; lavaan would silently use its cluster means), and enters
    the likelihood jointly with the cluster means of the other items.  The
    saturated model then has ``Sigma_W`` over the level-1 variables
    (``p_W``) and ``Sigma_B`` over the level-2 variables (``p_B``), and
    ``df = p_W (p_W + 1) / 2 + p_B (p_B + 1) / 2 + p - npar``;
    ``sample_cov_`` / ``implied_cov_`` and ``srmr_within`` / ``srmr_between``
    cover each level's variables, ``icc_`` the level-1 variables (0 for a
    within-only item, as ``lavInspect(fit, "icc")``), and ``r2_`` is NaN at the
    level a variable is absent from.  lavaan's conventions: a factor has its own name at each level
    (or the same name at both, a different latent variable per level), the
    first loading of each factor is fixed at 1 per level,
    item intercepts are 0 at level 1 and free at level 2 (``params_`` has a
    ``level`` column; ``std_all`` standardizes with each level's implied
    variances).  The estimates maximise the likelihood (BFGS, then Newton steps
    to a gradient below 1e-9 per respondent); standard errors come from the
    observed information, the Hessian of the log-likelihood (lavaan's default
    ``information = "observed"``, ``h1.information = "structured"``).
    ``fit_measures_``: ``chisq = 2 (logl_H1 - logl)`` with
    ``df = p (p + 1) + p - npar`` (every item at both levels); the baseline model has diagonal
    ``Sigma_W`` and ``Sigma_B``; RMSEA, BIC and ``ntotal`` use the number of
    respondents, not clusters; ``srmr_within`` / ``srmr_between`` are the
    root mean squared correlation residuals of each level against the
    saturated model's ``Sigma_W`` / ``Sigma_B`` (lavaan's
    ``lav_fit_srmr_twolevel``) and ``srmr`` is their sum.  ``sample_cov_`` /
    ``implied_cov_`` are dicts with ``"within"`` and ``"between"``;
    ``icc_`` the items' ICC(1) ``s_B / (s_B + s_W)`` from the saturated model;
    ``r2_`` the items' R² per level (columns ``within``, ``between``);
    ``n_clusters_`` the number of clusters.

    The saturated (H1) log-likelihood is maximised fully.  lavaan 0.6-14 takes
    it from an EM (``lav_mvnorm_cluster_em_sat``) that stops when an iteration
    gains less than 1e-4, a little short of the maximum; its ``chisq`` (and
    baseline chi-square, CFI, TLI, RMSEA, SRMR) are therefore slightly
    smaller.  On the simulated nested data of the tests (480 and 589
    respondents, 6 items) lavaan's H1 loglik is 0.037 and 0.055 below the
    maximum, so custval's ``chisq`` is 0.074 and 0.110 larger (13.251 vs
    13.177 and 22.633 vs 22.523); everything of the H0 model (estimates, SEs,
    ``logl``, AIC, BIC) agrees with lavaan to 1e-7.  Modification indices,
    residuals and :meth:`standardized_solution` are single-level tools.
    With within-only and between-only variables (the goldens of
    ``tests/r/cfa_twolevel_wb.R``) lavaan's H1 falls short of the maximum by
    8e-5 to 1.2e-3; the estimates and SEs agree to 7e-8, ``logl`` to 1e-11.

    **Two-level models with missing answers** (``missing="fiml"``, lavaan's
    ``cfa(model, data, cluster = "firm", missing = "ml")``): each respondent
    contributes the items they answered; the answered values of a cluster are
    normal with covariance ``D_j + Z_j Sigma_B Z_j'`` (``D_j`` block diagonal
    with each respondent's ``Sigma_W`` restricted to their answered items,
    ``Z_j`` selecting them), lavaan's
    ``lav_mvnorm_cluster_missing_loglik_samplestats_2l``, evaluated in closed
    form per cluster (Woodbury) with an analytic gradient; with complete data it
    is the complete-data likelihood.  Rows with no answer to any model item carry
    no information: they are excluded and counted (``n_excluded_``, a
    :class:`~custval.exceptions.MissingDataWarning` naming their positions and
    any cluster left with no answered row, which drops out of
    ``n_clusters_``).  Standard errors from the observed information
    (lavaan's defaults here too: ``information = "observed"``,
    ``h1.information = "structured"``).  ``df``, the baseline and the fit
    indices are as for complete data; ``sample_cov_`` / ``sample_mean_`` and
    ``icc_`` come from the saturated model fitted to the incomplete data.
    lavaan 0.6-14 fits that saturated (H1) model not by its EM but as an
    unrestricted model by nlminb with ``rel.tol = 1e-7``, which also stops a
    little short of the maximum; custval maximises it fully, so its ``chisq``
    is a little larger (goldens of ``tests/r/cfa_twolevel_fiml.R``, 870 and
    779 respondents in 60 firms, 10-20% of the answers missing, MCAR and MAR:
    22.458 vs 22.448 and 10.961 vs 10.952), equal to the chi-square against
    the H1 maximised in R with lavaan's own likelihood to 1e-9; estimates and
    SEs agree with lavaan to 4e-8, ``logl`` to 1e-11.  Within-only items work
    as with complete data (checked against lavaan's default fit, whose own
    stopping point limits the agreement to 3e-6).  Between-only variables
    (e.g. firm size, named only in ``level: 2``) work as in lavaan: each
    cluster's answers are conditioned on its observed between-only values
    (``Sigma_B`` of the level-1 items becomes ``S_yy - S_yz S_zz^-1 S_zy`` and
    their mean is shifted by ``S_yz S_zz^-1 (z_j - mu_z)``, with the marginal
    density of ``z_j`` added); a cluster whose value is blank in every row has
    it missing and contributes its answers only; blank cells in some of a
    cluster's rows are not a second value, two different values are an error
    (:class:`~custval.exceptions.DataValidationError`, as with complete data);
    a row that answers no level-1 item carries nothing of its own and is
    excluded and counted (goldens of ``tests/r/cfa_twolevel_fiml_between.R``,
    561 respondents in 70 firms, 15% of the items missing, the firm variable
    missing for 4 firms: estimates and SEs agree with lavaan to 3e-8, ``logl``
    to 1e-11).
    lavaan 0.6-14 itself needs the rows sorted by cluster and no empty rows
    here (otherwise its optimiser stops at the start); custval does not.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
    *Journal of Statistical Software, 48*(2), 1-36.
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for
    mean and covariance structure analysis with nonnormal missing data.
    *Sociological Methodology, 30*, 165-200.
    Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit
    indices for nonnormality. *Multivariate Behavioral Research, 49*(5), 460-470.
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects
    in structural equation models. *Sociological Methodology, 13*, 290-312.

    Examples
    --------
    The Holzinger & Swineford (1939) three-factor model of the lavaan tutorial:

    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.cfa import CFA
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> model = '''
    ...   visual  =~ x1 + x2 + x3
    ...   textual =~ x4 + x5 + x6
    ...   speed   =~ x7 + x8 + x9
    ... '''
    >>> fit = CFA(model).fit(hs)
    >>> print(fit.fit_measures_[["chisq", "df", "cfi", "tli", "rmsea", "srmr"]].round(3).to_string())
    chisq    85.306
    df       24.000
    cfi       0.931
    tli       0.896
    rmsea     0.092
    srmr      0.065
    >>> print(fit.params_.loc[1, ["lhs", "op", "rhs", "est", "se"]].to_string())
    lhs      visual
    op           =~
    rhs          x2
    est    0.553500...
    se     0.099665...

    # In R: fit <- lavaan::cfa(model, data = HolzingerSwineford1939)
    #       fitMeasures(fit, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))

    A two-level CFA of respondents nested in firms (two factors within
    firms, one between firms), on simulated data:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> firm = np.repeat(np.arange(80), 6)
    >>> fw = rng.normal(size=(480, 2)); fb = rng.normal(0, 0.6, 80)[firm]
    >>> lw = np.array([[1, .8, .9, 0, 0, 0], [0, 0, 0, 1, .7, .8]])
    >>> y = fw @ lw + np.outer(fb, [1, .9, .8, .7, .9, 1]) + rng.normal(0, .3, (80, 6))[firm] + rng.normal(0, .7, (480, 6))
    >>> nested = pd.DataFrame(y, columns=[f"y{i}" for i in range(1, 7)]).assign(firm=firm)
    >>> two_level = '''
    ... level: 1
    ...   fw1 =~ y1 + y2 + y3
    ...   fw2 =~ y4 + y5 + y6
    ... level: 2
    ...   fb =~ y1 + y2 + y3 + y4 + y5 + y6
    ... '''
    >>> fit2 = CFA(two_level, cluster="firm").fit(nested)
    >>> print(fit2.fit_measures_[["npar", "df", "ntotal"]].to_string())
    npar       31.0
    df         17.0
    ntotal    480.0
    >>> print(fit2.params_.query("level == 2 and op == '=~'")[["lhs", "rhs", "est"]].round(2).to_string(index=False))
    lhs rhs  est
     fb  y1 1.00
     fb  y2 ...

    # In R: fit2 <- lavaan::cfa(two_level, data = nested, cluster = "firm")
    #       fitMeasures(fit2, c("npar", "df", "ntotal"))

    A within-only item (``tenure``, named only at level 1) and a between-only
    variable (``size``, one value per firm, named only at level 2):

    >>> nested3 = nested.assign(tenure=0.7 * fw[:, 0] + rng.normal(0, .7, 480),
    ...                         size=4 + fb + rng.normal(0, .8, 80)[firm])
    >>> wb = '''
    ... level: 1
    ...   fw1 =~ y1 + y2 + y3 + tenure
    ...   fw2 =~ y4 + y5 + y6
    ... level: 2
    ...   fb =~ y1 + y2 + y3 + y4 + y5 + y6 + size
    ... '''
    >>> fit3 = CFA(wb, cluster="firm").fit(nested3)
    >>> print(fit3.fit_measures_[["npar", "df"]].to_string())
    npar    37.0
    df      27.0
    >>> print(fit3.icc_["tenure"], list(fit3.sample_cov_["between"].columns))
    0.0 ['y1', 'y2', 'y3', 'y4', 'y5', 'y6', 'size']

    # In R: fit3 <- lavaan::cfa(wb, data = nested3, cluster = "firm")
    #       fitMeasures(fit3, c("npar", "df")); lavInspect(fit3, "icc")

    With skipped answers (15% of the answers missing at random), full-information
    ML keeps every respondent who answered at least one item:

    >>> holes = nested.copy()
    >>> holes.iloc[:, :6] = holes.iloc[:, :6].mask(rng.random((480, 6)) < 0.15)
    >>> fit4 = CFA(two_level, cluster="firm", missing="fiml").fit(holes)
    >>> print(fit4.fit_measures_[["npar", "df", "ntotal"]].to_string())
    npar       31.0
    df         17.0
    ntotal    480.0

    # In R: fit4 <- lavaan::cfa(two_level, data = holes[order(holes$firm), ],
    #                           cluster = "firm", missing = "ml")
    #       fitMeasures(fit4, c("npar", "df", "ntotal"))

    ESEM: an exploratory block of two factors on x1-x6 and the
    confirmatory speed factor (the lavaan ESEM tutorial):

    >>> esem = '''
    ...   efa("efa")*visual + efa("efa")*textual =~ x1 + x2 + x3 + x4 + x5 + x6
    ...   speed =~ x7 + x8 + x9
    ... '''
    >>> fit_esem = CFA(esem).fit(hs)
    >>> print(fit_esem.fit_measures_[["npar", "chisq", "df", "cfi"]].round(3).to_string())
    npar     25.000
    chisq    64.144
    df       20.000
    cfi       0.950
    >>> p = fit_esem.params_.set_index(["lhs", "op", "rhs"])
    >>> print(p.loc[[("textual", "=~", "x1"), ("visual", "~~", "textual")], ["est", "se"]].round(3).to_string())
                           est     se
    lhs     op rhs
    textual =~ x1        0.299  0.081
    visual  ~~ textual   0.281  0.087

    # In R: fit <- lavaan::cfa(esem, data = HolzingerSwineford1939, rotation = "geomin")
    #       parameterEstimates(fit)

    Labelled loadings, a defined product and difference (``:=``) with
    delta-method standard errors, and a linear constraint (``==``):

    >>> model_def = '''
    ...   visual  =~ x1 + a*x2 + b*x3
    ...   textual =~ x4 + x5 + x6
    ...   speed   =~ x7 + x8 + x9
    ...   ab := a*b
    ...   d := a - b
    ... '''
    >>> fit = CFA(model_def).fit(hs)
    >>> defined = fit.params_[fit.params_["op"] == ":="]
    >>> print(defined[["lhs", "rhs", "est", "se", "std_all"]].round(4).to_string(index=False))
    lhs rhs     est     se  std_all
     ab a*b  0.4037 0.1118   0.2462
      d a-b -0.1759 0.1141  -0.1575
    >>> fit_eq = CFA(model_def + "a + b == 2").fit(hs)
    >>> a_plus_b = fit_eq.params_.loc[1, "est"] + fit_eq.params_.loc[2, "est"]
    >>> print(int(fit_eq.fit_measures_["df"]), round(a_plus_b, 8))
    25 2.0

    # In R: fit <- lavaan::cfa(model_def, data = HolzingerSwineford1939)
    #       parameterEstimates(fit, standardized = TRUE)
    #       fit_eq <- lavaan::cfa(paste(model_def, "a + b == 2"), data = HolzingerSwineford1939)

    A MIMIC model: two factors regressed on age (years) and sex, observed
    covariates whose (co)variances are fixed at the sample values:

    >>> model_mimic = model + '''
    ...   visual  ~ ageyr
    ...   textual ~ ageyr + sex
    ... '''
    >>> fit = CFA(model_mimic).fit(hs)
    >>> reg = fit.params_[fit.params_["op"] == "~"]
    >>> print(reg[["lhs", "op", "rhs", "est", "se", "std_all", "std_nox"]].round(3).to_string(index=False))
        lhs op   rhs    est    se  std_all  std_nox
     visual  ~ ageyr -0.035 0.059   -0.041   -0.039
    textual  ~ ageyr -0.207 0.058   -0.217   -0.207
    textual  ~   sex  0.196 0.112    0.098    0.196
    >>> print(fit.fit_measures_[["npar", "chisq", "df", "cfi"]].round(3).to_string())
    npar      22.000
    chisq    170.298
    df        41.000
    cfi        0.862

    # In R: fit <- lavaan::cfa(model_mimic, data = HolzingerSwineford1939)  # fixed.x = TRUE
    #       parameterEstimates(fit, standardized = TRUE)  # std.all, std.nox
    #       fitMeasures(fit, c("npar", "chisq", "df", "cfi"))

    Agreeableness and conscientiousness items of bfi (six categories) as
    ordered categories, lavaan's WLSMV:

    >>> bfi = load_dataset("bfi").data
    >>> ac = '''
    ...   A =~ A1 + A2 + A3 + A4 + A5
    ...   C =~ C1 + C2 + C3 + C4 + C5
    ... '''
    >>> items = [f"{f}{i}" for f in "AC" for i in range(1, 6)]
    >>> fit = CFA(ac, ordered=True).fit(bfi.dropna(subset=items))
    >>> print(fit.fit_measures_[["chisq", "chisq.scaled", "chisq.scaling.factor", "cfi.scaled",
    ...                          "rmsea.scaled", "srmr"]].round(3).to_string())
    chisq                   449.278
    chisq.scaled            593.496
    chisq.scaling.factor      0.764
    cfi.scaled                0.946
    rmsea.scaled              0.079
    srmr                      0.051
    >>> th = fit.params_[fit.params_["op"] == "|"]
    >>> print(th.head(3)[["lhs", "op", "rhs", "est", "se"]].round(3).to_string(index=False))
    lhs op rhs    est    se
     A1  |  t1 -0.439 0.025
     A1  |  t2  0.322 0.025
     A1  |  t3  0.734 0.027

    # In R: fit <- lavaan::cfa(ac, data = bfi[complete.cases(bfi[, items]), ],
    #                          ordered = TRUE)   # estimator = "WLSMV"
    #       fitMeasures(fit, c("chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"))

    Some items as ordered categories, the others as numbers (their intercepts
    and residual variances are free, the pairs' correlations polyserial):

    >>> mixed = CFA(ac, ordered=["A1", "A2", "A3", "C1", "C2"]).fit(bfi.dropna(subset=items))
    >>> print(mixed.continuous_)
    ['A4', 'A5', 'C3', 'C4', 'C5']
    >>> p = mixed.params_
    >>> print(p[(p["op"] == "~1") & (p["free"] > 0)][["lhs", "est", "se"]].round(3).to_string(index=False))
    lhs   est    se
     A4 4.680 0.042
     A5 4.548 0.030
     C3 4.291 0.029
     C4 2.559 0.031
     C5 3.319 0.032
    >>> print(mixed.fit_measures_[["chisq", "df", "chisq.scaled"]].round(3).to_string())
    chisq           314.001
    df               34.000
    chisq.scaled    479.443

    # In R: lavaan::cfa(ac, data = bfi[complete.cases(bfi[, items]), ],
    #                   ordered = c("A1", "A2", "A3", "C1", "C2"))
    """

    r_call = "lavaan::cfa(model, data, estimator = 'ML')"

    def __init__(
        self,
        model,
        *,
        estimator: str | None = None,
        missing: str = "listwise",
        group: str | None = None,
        std_lv: bool = False,
        group_equal: tuple[str, ...] | list[str] = (),
        group_partial: tuple[str, ...] | list[str] = (),
        meanstructure: bool = False,
        max_iter: int = 1000,
        cluster: str | None = None,
        ordered: bool | list[str] | tuple[str, ...] = False,
        parameterization: str = "delta",
    ):
        self.model = model
        self.ordered = ordered
        self.parameterization = parameterization
        self.cluster = cluster
        self.estimator = estimator
        self.missing = missing
        self.group = group
        self.std_lv = std_lv
        self.group_equal = group_equal
        self.group_partial = group_partial
        self.meanstructure = meanstructure
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame) -> CFA:
        """Fit the model to ``data`` (one row per respondent); returns ``self``.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per respondent, one column per observed variable of the model (and the
            ``group`` / ``cluster`` columns when given); other columns are ignored.  With
            level blocks the rows may be in any order and the cluster ids strings or integers.

        Returns
        -------
        CFA
            ``self``, with the fitted attributes set.

        Raises
        ------
        SpecificationError
            An unsupported ``estimator`` or ``missing``, a model item missing from ``data``,
            or a model that cannot be fitted.
        DataValidationError
            ``data`` is not a DataFrame, or a model item is not numeric.
        InsufficientDataError
            Two-level models: a cluster with a single respondent (named), or fewer than 3 clusters.
        DataValidationError
            Two-level models: a between-only variable that takes more than one value
            within a cluster (the variable, the first clusters and rows named).
        ConstantItemError
            Two-level models: an item with no within-cluster variance, or a between-only
            variable with the same value in every cluster.

        Warns
        -----
        MissingDataWarning
            Rows with missing values were excluded (listwise deletion); with
            ``missing="fiml"``, rows with no answer to any model item (to any
            level-1 item when the model has between-only variables) were excluded
            (and the clusters left with no answered row are named).
        ConvergenceWarning
            The optimiser did not converge.

        See Also
        --------
        custval.cfa.CFA.summary : The fitted model as text.
        """
        # The matrices are small: multi-threaded BLAS only adds overhead (and
        # slows down by an order of magnitude on a busy machine).
        with _single_thread_blas():
            return self._fit(data)

    def _fit(self, data: pd.DataFrame) -> CFA:
        # options and data -> model -> data per group -> estimates -> standard errors -> tables
        self.sample_th_ = None
        self.continuous_ = []
        self._vcov_std = self.efa_blocks_ = None
        self._ord = self._ord_mg = self._ord_boot = None  # an ordinal fit's internals (set by it)
        if self._is_ordinal():
            return self._fit_ordinal(data)
        estimator, missing = self._check_options(data)
        # an Instrument as the model: its reverse items enter keyed (once; see custval._keys)
        syntax, data, keying = model_and_data(self.model, data)
        if split_levels(syntax) is not None:
            return self._fit_twolevel(syntax, data, keying, estimator, missing)
        group_equal = (self.group_equal,) if isinstance(self.group_equal, str) else tuple(self.group_equal)
        group_partial = (self.group_partial,) if isinstance(self.group_partial, str) else tuple(self.group_partial)
        clusters = self._clusters(data, estimator, missing)
        if self.group is not None:
            labels = list(pd.unique(_id_column(data, self.group, "group")))
        else:
            labels = [None]
        ngroups = len(labels)
        # lavaan adds the mean structure with several groups, FIML or clusters
        meanstructure = bool(self.meanstructure or ngroups > 1 or missing == "fiml" or clusters is not None)
        pt, observed, latent, extras = build_partable(
            syntax, ngroups=ngroups, std_lv=self.std_lv, meanstructure=meanstructure,
            group_equal=group_equal, group_partial=group_partial, with_extras=True,
        )
        items = _model_items(data, observed)
        model = self._sem_model(pt, observed, latent, ngroups, extras, missing)
        exo = extras["exo"]

        groups, n_excluded = self._group_data(data, items, labels, clusters, model, missing)
        if n_excluded:
            warnings.warn(
                f"{n_excluded} row(s) with missing {'item' if not exo else 'item or covariate'} values were excluded "
                + ("(listwise deletion); use missing='fiml' to keep incomplete rows" if missing == "listwise"
                   else "(no observed item: nothing for FIML to use; lavaan ignores these empty cases too)"),
                MissingDataWarning,
                stacklevel=2,
            )
        _check_sample_cov(labels, groups)
        _fix_covariates(pt, model, groups, observed)
        p = len(observed)
        px = len(exo)
        n_moments = ngroups * (p * (p + 1) // 2 + (p if meanstructure else 0)
                               - px * (px + 1) // 2 - (px if meanstructure else 0))
        model.check_identification_counts(n_moments)
        problem = MLProblem(model, groups)

        theta, converged, iters = self._estimate(model, problem, groups, meanstructure, extras)
        if not converged:
            warn_not_converged("CFA (ML)", iters)
        self.converged_, self.n_iter_ = converged, iters
        # x_: the distinct free parameters (the 'free' column); with general
        # '==' constraints the optimizer works on theta (x = x_p + K theta)
        x = model.full(theta)
        self.x_ = x

        e_info, info, e_inv, scores, vcov = self._standard_errors(problem, model, theta, groups,
                                                                  estimator, missing)
        self.vcov_ = vcov
        self.information_ = info

        # ---- tables
        self._problem, self._model, self._groups, self._labels = problem, model, groups, labels
        self._estimator, self._missing, self._meanstructure = estimator, missing, meanstructure
        self._group_equal = group_equal
        self._e_info, self._e_inv, self._b0 = e_info, e_inv, scores
        self.params_ = self._parameter_table(model, pt, x, vcov, ngroups, exo)
        self._moment_tables(model, x, groups, labels, observed, meanstructure, clusters)
        self.n_excluded_ = n_excluded
        self.group_labels_ = [("all" if lab is None else lab) for lab in labels]
        self.fit_measures_ = self._fit_measures()
        self.r2_ = self._r2()
        self._heywood()
        if esem.blocks(pt):  # exploratory (ESEM) blocks: rotate the echelon solution (lavaan's rotation)
            esem.rotate(self, seed=0)
        self.instrument_ = self.model if is_instrument(self.model) else None
        self.keying_ = keying.restrict(observed)
        self.reverse_keyed_ = self.keying_.reversed
        self._check_keying()
        return self

    def _is_ordinal(self) -> bool:
        """Ordered items (``ordered=``) or an ordinal estimator (WLSMV, DWLS, ULSMV)."""
        est = None if self.estimator is None else str(self.estimator).upper()
        ordered = self.ordered
        has_ordered = ordered is True or (isinstance(ordered, (list, tuple)) and len(ordered) > 0)
        return has_ordered or est in ORDINAL_ESTIMATORS

    def _fit_ordinal(self, data: pd.DataFrame) -> CFA:
        """Categorical-indicator CFA (lavaan ``ordered =``); see :mod:`custval._sem.wls`."""
        estimator = "WLSMV" if self.estimator is None else str(self.estimator).upper()
        if estimator not in ORDINAL_ESTIMATORS:
            raise SpecificationError(
                f"estimator={self.estimator!r} is not supported with ordered items; allowed: 'WLSMV' (DWLS "
                "estimates, robust standard errors, scaled-shifted test), 'DWLS', 'ULSMV', 'ULS'")
        if self.ordered is False or self.ordered is None:
            raise SpecificationError(
                f"estimator={self.estimator!r} fits ordered items: give ordered=True (every item of the model) "
                "or the list of ordered items")
        if self.parameterization not in ("delta", "theta"):
            raise SpecificationError(
                f"parameterization={self.parameterization!r} is not supported; allowed: 'delta', 'theta'")
        if self.cluster is not None:
            raise SpecificationError("cluster= is not supported with ordered items yet")
        if self.missing not in ("listwise", "pairwise"):
            raise SpecificationError(
                f"missing={self.missing!r} is not supported with ordered items; allowed: 'listwise', 'pairwise'")
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("data must be a pandas DataFrame with one column per item")
        self._scale_points(data)  # an Instrument's scale points, on the raw answers
        syntax, data, keying = model_and_data(self.model, data)
        group_equal = (self.group_equal,) if isinstance(self.group_equal, str) else tuple(self.group_equal)
        group_partial = (self.group_partial,) if isinstance(self.group_partial, str) else tuple(self.group_partial)
        labels = [None] if self.group is None else list(pd.unique(_id_column(data, self.group, "group")))
        pt, observed, latent, extras = build_partable(
            syntax, ngroups=len(labels), std_lv=self.std_lv, meanstructure=len(labels) > 1, with_extras=True,
            group_equal=tuple(e for e in group_equal if e not in ("thresholds", "intercepts")),
            group_partial=tuple(e for e in group_partial if "|" not in e))
        if extras["exo"]:
            raise SpecificationError(
                f"observed covariates ({', '.join(extras['exo'])}) are not supported with ordered items yet")
        if esem.blocks(pt):
            raise SpecificationError("exploratory (ESEM) blocks, efa(\"block\")*factor, are supported with "
                                     "continuous items (ML) only, not with ordered items yet")
        cont: list[str] = []
        if self.ordered is not True:
            ordered = [self.ordered] if isinstance(self.ordered, str) else list(self.ordered)
            unknown = [v for v in ordered if v not in observed]
            if unknown:
                raise SpecificationError(f"ordered item(s) {unknown} are not observed variables of the model "
                                         f"({', '.join(observed)})")
            cont = [v for v in observed if v not in ordered]
        items = data[observed] if all(v in data.columns for v in observed) else _model_items(data, observed)
        if self.missing == "pairwise":
            # lavaan's missing = "pairwise": every row with an answer stays; thresholds use the
            # answers to the item, polychorics the rows that answered both items
            keep = ~items.isna().all(axis=1).to_numpy()
            how = "no answer to any item of the model"
        else:
            keep = ~items.isna().any(axis=1).to_numpy()
            how = "missing item values were excluded (listwise deletion); missing='pairwise' keeps them"
        n_excluded = int((~keep).sum())
        if n_excluded:
            warnings.warn(f"{n_excluded} row(s) with {how}" + (" were excluded" if self.missing == "pairwise" else ""),
                          MissingDataWarning, stacklevel=3)
        if keep.sum() <= len(observed):
            raise InsufficientDataError(
                f"{int(keep.sum())} usable row(s) ({'with an answer' if self.missing == 'pairwise' else 'complete'}) "
                f"for {len(observed)} ordered items; collect more data, fit fewer items"
                + ("" if self.missing == "pairwise" else ", or use missing='pairwise'"))
        if cont:
            gcol = None if len(labels) == 1 else data[self.group].to_numpy()[keep]
            return self._fit_mixed(syntax, items[keep], cont, estimator, extras, pt, observed, latent, keying,
                                   n_excluded, labels, gcol, group_equal, group_partial)
        codes, lev = ordinal.categories(items[keep])
        # what a bootstrap of the fit resamples (custval._sem.ordinal_boot): the keyed rows used
        self._ord_boot = dict(syntax=syntax, items=items[keep], codes=codes, levels=lev,
                              group=None if len(labels) == 1 else data[self.group].to_numpy()[keep],
                              labels=labels)
        if len(labels) > 1:
            gcol = data[self.group].to_numpy()[keep]
            stats_ = []
            for lab in labels:
                sub = codes[gcol == lab]
                ordinal.check_group_categories(sub, observed, lev, _plain(lab))
                stats_.append(ordinal.ordinal_stats(sub, observed, lev, group=_plain(lab)))
            self.partable_, self.observed_, self.latent_ = pt, observed, latent
            self.covariates_, self.constraints_ = [], []
            self.inequalities_, self.active_inequalities_ = [], []
            self._definitions, self._label_rows = extras["definitions"], extras["label_rows"]
            self._estimator, self._missing, self._meanstructure = estimator, self.missing, True
            self._labels, self._group_equal = labels, group_equal
            wls_mg.fit_ordinal_groups(self, stats_, labels, estimator, extras, pt, observed, latent, self.std_lv,
                                      self.max_iter, group_equal, group_partial, self.parameterization,
                                      getattr(self, "_identification", "lavaan"))
            self.n_excluded_ = n_excluded
            self.group_labels_ = labels
            self.instrument_ = self.model if is_instrument(self.model) else None
            self.keying_ = keying.restrict(observed)
            self.reverse_keyed_ = self.keying_.reversed
            self._check_keying()
            return self
        st = ordinal.ordinal_stats(codes, observed, lev)
        self.partable_, self.observed_, self.latent_ = pt, observed, latent
        self.covariates_, self.constraints_ = [], []
        self.inequalities_, self.active_inequalities_ = [], []
        self._definitions, self._label_rows = extras["definitions"], extras["label_rows"]
        self._estimator, self._missing, self._meanstructure = estimator, self.missing, True
        self._labels, self._group_equal = [None], ()
        wls.fit_ordinal(self, syntax, items, st, estimator, extras, pt, observed, latent, self.std_lv,
                        self.max_iter, self.parameterization)
        self.n_excluded_ = n_excluded
        self.group_labels_ = ["all"]
        self.instrument_ = self.model if is_instrument(self.model) else None
        self.keying_ = keying.restrict(observed)
        self.reverse_keyed_ = self.keying_.reversed
        self._check_keying()
        return self

    def _fit_mixed(self, syntax, items, cont, estimator, extras, pt, observed, latent, keying, n_excluded,
                   labels, gcol, group_equal, group_partial) -> CFA:
        """Ordered and continuous items together (``ordered=`` names only some items), complete
        rows: lavaan's ``muthen1984`` statistics (:func:`custval._sem.ordinal.mixed_stats`), one
        group or several."""
        bad = [v for v in cont if not pd.api.types.is_numeric_dtype(items[v])]
        if bad:
            raise DataValidationError(
                f"continuous item(s) {bad} are not numeric (dtypes {[str(items[v].dtype) for v in bad]}); "
                "a continuous item needs numbers (a text column: check the export's decimal mark or a "
                "label such as 'N/A' left in the column; or list the item in ordered=)")
        values = np.zeros(items.shape)
        for k, v in enumerate(observed):
            if v in cont:
                values[:, k] = items[v].to_numpy(dtype=float, na_value=np.nan)
        infinite = [v for k, v in enumerate(observed) if v in cont and np.isinf(values[:, k]).any()]
        if infinite:
            raise DataValidationError(f"continuous item(s) {infinite} have infinite values; a continuous item "
                                      "needs finite numbers")
        def distinct(k):
            col = values[:, k]
            return np.unique(col[~np.isnan(col)])

        two = [f"{v} ({', '.join(f'{u:g}' for u in distinct(k))})" for k, v in enumerate(observed)
               if v in cont and len(distinct(k)) == 2]
        if two:
            raise SpecificationError(
                f"continuous item(s) {'; '.join(two)} have two distinct values: the mean and the variance of a "
                "two-valued item carry the same information (variance = p(1 - p)), so their asymptotic "
                "covariance is singular; list the item(s) in ordered= (a binary item is an ordered item with "
                "one threshold)")
        num = np.array([v in cont for v in observed])
        ordered = [v for v in observed if v not in cont]
        codes_o, lev_o = ordinal.categories(items[ordered])
        codes = np.zeros(values.shape, dtype=np.int64)
        levels = []
        for k, v in enumerate(observed):
            if num[k]:
                levels.append(np.zeros(0))
            else:
                codes[:, k] = codes_o[:, ordered.index(v)]
                levels.append(lev_o[ordered.index(v)])
        self.partable_, self.observed_, self.latent_ = pt, observed, latent
        self.covariates_, self.constraints_ = [], []
        self.inequalities_, self.active_inequalities_ = [], []
        self._definitions, self._label_rows = extras["definitions"], extras["label_rows"]
        self._estimator, self._missing, self._meanstructure = estimator, self.missing, True
        if gcol is not None:
            ordm = ~num
            stats_ = []
            for lab in labels:
                rows = gcol == lab
                ordinal.check_group_categories(codes[rows][:, ordm], ordered, [lv for lv, o in zip(levels, ordm) if o],
                                               _plain(lab))
                stats_.append(ordinal.mixed_stats(values[rows], codes[rows], observed, levels, num, group=_plain(lab)))
            self._labels, self._group_equal = labels, group_equal
            wls_mg.fit_ordinal_groups(self, stats_, labels, estimator, extras, pt, observed, latent, self.std_lv,
                                      self.max_iter, group_equal, group_partial, self.parameterization,
                                      getattr(self, "_identification", "lavaan"))
            self.group_labels_ = labels
        else:
            st = ordinal.mixed_stats(values, codes, observed, levels, num)
            self._labels, self._group_equal = [None], ()
            wls.fit_ordinal(self, syntax, items, st, estimator, extras, pt, observed, latent, self.std_lv,
                            self.max_iter, self.parameterization)
            self.group_labels_ = ["all"]
        self.continuous_ = list(cont)
        self.n_excluded_ = n_excluded
        self.instrument_ = self.model if is_instrument(self.model) else None
        self.keying_ = keying.restrict(observed)
        self.reverse_keyed_ = self.keying_.reversed
        self._check_keying()
        return self

    def _scale_points(self, data: pd.DataFrame) -> dict | None:
        """An Instrument's scale points per item, checked on the raw (unkeyed) answers."""
        if not is_instrument(self.model):
            return None
        levels = {}
        for v in self.model.item_scales:
            sc = self.model.item_scale(v)
            if v in data.columns and float(sc.min).is_integer() and float(sc.max).is_integer():
                levels[v] = list(range(int(sc.min), int(sc.max) + 1))
        ordinal.categories(data[list(levels)], levels=levels)
        return levels

    def _fit_twolevel(self, syntax, data, keying, estimator, missing) -> CFA:
        """A model with 'level:' blocks: two-level ML (custval._sem.twolevel), lavaan 0.6-14's conventions."""
        if self.cluster is None:
            raise SpecificationError(
                "the model has 'level:' blocks (a two-level model) but no cluster= column: name the "
                "column of the level-2 units, e.g. CFA(model, cluster='firm')")
        if estimator != "ML" or missing not in ("listwise", "fiml") or self.group is not None:
            raise SpecificationError(
                "two-level models (level blocks) are fitted by ML (missing='listwise' or 'fiml') in one "
                f"group; got estimator={self.estimator!r}, missing={self.missing!r}, group={self.group!r}")
        ids = _id_column(data, self.cluster, "cluster")
        pt2, observed, _ = build_twolevel_partable(syntax, std_lv=self.std_lv)
        items = _model_items(data, observed)
        if missing == "fiml":
            # a row answers a level-1 item or carries nothing of its own (a between-only value
            # is the cluster's, read from its other rows)
            level1 = [v for v in observed if v not in set(level_variables(pt2, observed)[1])]
            keep = items[level1].notna().any(axis=1).to_numpy()
            n_excluded = int((~keep).sum())
            if n_excluded:
                what = "any model item" if len(level1) == len(observed) else (
                    "any level-1 item (a between-only value alone is the cluster's, read from its other rows)")
                warnings.warn(_twolevel_empty_rows(ids, keep, self.cluster, what), MissingDataWarning,
                              stacklevel=3)
            res = fit_cfa_missing(syntax, items[keep], ids[keep], cluster=self.cluster, std_lv=self.std_lv,
                                  rows=np.flatnonzero(keep))
        else:
            keep = items.notna().all(axis=1).to_numpy()
            n_excluded = int((~keep).sum())
            if n_excluded:
                kept = set(ids[keep])
                gone = [c for c in pd.unique(ids) if c not in kept]
                lost = (f"; {len(gone)} {self.cluster!r} cluster(s) lost every row and are not in the fit "
                        f"(first 10: {[_plain(c) for c in gone[:10]]})" if gone else "")
                warnings.warn(
                    f"{n_excluded} row(s) with missing item values were excluded (listwise deletion){lost}",
                    MissingDataWarning, stacklevel=3)
            res = fit_cfa(syntax, items[keep], ids[keep], cluster=self.cluster, std_lv=self.std_lv,
                          rows=np.flatnonzero(keep))
        if not res["converged_"]:
            warn_not_converged("CFA (two-level ML)", res["n_iter_"])
        for name, value in res.items():
            setattr(self, name, value)
        self._estimator, self._missing, self._meanstructure = "ML", missing, True
        self._group_equal, self._definitions = (), []
        self.observed_ = observed
        self.latent_ = list(dict.fromkeys(self.params_.loc[self.params_["op"] == "=~", "lhs"]))
        self.covariates_, self.constraints_, self.notes_ = [], [], []
        p = self.params_
        for r in p[(p["op"] == "~~") & (p["lhs"] == p["rhs"]) & (p["est"] < 0)].itertuples():
            kind = "residual variance" if r.lhs in observed else "latent variance"
            level = "level 1 (within)" if r.level == 1 else f"level 2 (between {self.cluster})"
            warnings.warn(
                f"Heywood case: negative {kind} of {r.lhs!r} at {level}: {r.est:.6g}; results are returned "
                "but the solution is improper (lavaan warns the same)", HeywoodWarning, stacklevel=3)
        self.n_excluded_ = n_excluded
        self.group_labels_ = ["all"]
        self.instrument_ = self.model if is_instrument(self.model) else None
        self.keying_ = keying.restrict(observed)
        self.reverse_keyed_ = self.keying_.reversed
        return self

    def _single_level_only(self, what: str) -> None:
        if hasattr(self, "_twolevel"):
            raise SpecificationError(
                f"CFA.{what}() is not available for two-level models yet; params_ has the estimates "
                "(std_all per level) and fit_measures_ the fit")

    def _check_options(self, data) -> tuple[str, str]:
        """The estimator and missing-data options, checked and normalised; `data` is a frame."""
        estimator = "ML" if self.estimator is None else str(self.estimator).upper()
        if estimator not in _ESTIMATORS:
            raise SpecificationError(f"estimator={self.estimator!r} is not supported; allowed: 'ML', 'MLR'")
        missing = {"ml": "fiml"}.get(self.missing, self.missing)
        if missing not in _MISSING:
            raise SpecificationError(f"missing={self.missing!r} is not supported; allowed: 'listwise', 'fiml'")
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("data must be a pandas DataFrame with one column per item")
        return estimator, missing

    def _sem_model(self, pt, observed, latent, ngroups, extras, missing) -> SemModel:
        """The model of the parameter table, with its equality constraints; what it records."""
        exo = extras["exo"]
        if exo and missing == "fiml":
            raise SpecificationError(
                f"observed covariates in regressions ({', '.join(exo)}) are not supported with missing='fiml' "
                "yet (lavaan's fixed.x with missing = 'ml' conditions on the covariates); use "
                "missing='listwise'"
            )
        model = SemModel(pt, observed, latent, ngroups, exo=exo)
        con_a, con_b, con_text = extras["constraints"]
        model.set_constraints(con_a, con_b)
        self.constraints_ = list(con_text)
        self._definitions, self._label_rows = extras["definitions"], extras["label_rows"]
        self.partable_ = pt
        self.observed_, self.latent_ = observed, latent
        self.covariates_ = list(exo)
        return model

    def _clusters(self, data: pd.DataFrame, estimator: str, missing: str) -> pd.Series | None:
        """The cluster ids (cluster-robust MLR, lavaan's cluster = for single-level models)."""
        if self.cluster is None:
            return None
        if estimator != "MLR":
            raise SpecificationError(
                f"cluster={self.cluster!r} on a model without 'level:' blocks needs estimator='MLR' "
                f"(cluster-robust sandwich and scaled test, lavaan's se = 'robust.cluster'); got "
                f"estimator={self.estimator!r}. For a two-level model (within- and between-{self.cluster} "
                "factors) write the model in 'level: 1' / 'level: 2' blocks")
        if missing != "listwise":
            raise SpecificationError(
                "cluster= on a model without 'level:' blocks (cluster-robust MLR) is supported with "
                "complete data (missing='listwise'), not with missing='fiml'; a two-level model written in "
                "'level: 1' / 'level: 2' blocks can be fitted with missing='fiml'")
        return _id_column(data, self.cluster, "cluster")

    def _group_data(self, data, items, labels, clusters, model, missing) -> tuple[list, int]:
        """Each group's data and sample moments (EM moments with FIML); the rows excluded."""
        ngroups = len(labels)
        n_excluded = 0
        groups = []
        for lab in labels:
            sub = items if lab is None else items[data[self.group] == lab]
            y = sub.to_numpy(dtype=float)
            cl = None if clusters is None else clusters.loc[sub.index].to_numpy()
            if missing == "listwise":
                keep = ~np.isnan(y).any(axis=1)
                n_excluded += int((~keep).sum())
                y = y[keep]
                cl = None if cl is None else cl[keep]
            if cl is not None and len(pd.unique(cl)) < 2:
                raise InsufficientDataError(
                    f"cluster column {self.cluster!r} has {len(pd.unique(cl))} cluster(s)"
                    f"{'' if lab is None else f' in group {_plain(lab)!r}'}; cluster-robust standard errors "
                    "need at least two (many more for trustworthy ones)")
            if y.shape[0] > y.shape[1] and not np.isnan(y).any():  # checked with its covariance matrix
                gd = make_group_data(y, fiml=missing == "fiml", cluster=cl)
                _check_group_items(y, list(items.columns), lab, gd.sample_cov)
            else:
                _check_group_items(y, list(items.columns), lab)
                gd = make_group_data(y, fiml=missing == "fiml", cluster=cl)
            n_excluded += gd.n_rows_empty
            if gd.n < model.nx / ngroups or gd.n < 2:
                raise InsufficientDataError(
                    f"{gd.n} usable case(s){_where(lab)}, fewer than the model's free parameters "
                    f"({model.nx}{'' if ngroups == 1 else f' in {ngroups} groups'}); collect more data or "
                    "simplify the model"
                )
            if missing == "fiml" and not gd.complete:
                mu, sig = em_saturated(gd)
                gd.sample_cov, gd.sample_mean = sig, mu
            groups.append(gd)
        return groups, n_excluded

    def _estimate(self, model, problem, groups, meanstructure, extras) -> tuple[np.ndarray, bool, int]:
        """ML estimates (theta), with the inequality constraints by active set; lavaan's npar."""
        con_a, con_b, _ = extras["constraints"]
        x0 = start_values(model, [(gd.sample_cov, gd.sample_mean) for gd in groups], self.std_lv)
        self._check_structurally_identified(model, x0, meanstructure)
        theta, converged, iters = problem.fit(x0, max_iter=self.max_iter)
        ineq_g, ineq_h, ineq_text = extras["inequalities"]
        self.inequalities_ = list(ineq_text)
        self.active_inequalities_ = []
        if len(ineq_h):
            theta, converged, iters, active = self._active_set(
                model, problem, theta, converged, iters, con_a, con_b, ineq_g, ineq_h
            )
            self.active_inequalities_ = [ineq_text[k] for k in active]
        self._ineq_slack = ineq_g @ model.full(theta) - ineq_h
        # lavaan's npar: free parameters minus the rank of the equality
        # constraints (active inequality constraints are not subtracted)
        self._npar = model.nfree - (np.linalg.matrix_rank(con_a) if con_a.shape[0] else 0)
        return theta, converged, iters

    def _standard_errors(self, problem, model, theta, groups, estimator, missing):
        """Expected and used information, its inverse, casewise scores (MLR) and the vcov of x."""
        e_info = problem.expected_information(theta)
        self._check_identified(e_info, model)
        use_observed = estimator == "MLR" or missing == "fiml"
        info = problem.observed_information(theta) if use_observed else e_info
        try:
            e_inv = np.linalg.inv(info)
        except np.linalg.LinAlgError as exc:
            raise IdentificationError("the information matrix is singular: the model is not identified") from exc
        scores = first_order_groups(problem.casewise_scores(theta), groups) if estimator == "MLR" else None
        vcov = sandwich(e_inv, scores, groups, problem.ntotal) if estimator == "MLR" else e_inv / problem.ntotal
        if model.con_k is not None:
            vcov = model.con_k @ vcov @ model.con_k.T
        return e_info, info, e_inv, scores, vcov

    def _parameter_table(self, model, pt, x, vcov, ngroups, exo) -> pd.DataFrame:
        """params_: estimates, SEs, z, p, Wald CIs and standardized values; defined parameters."""
        est = model.row_values(x)
        se = np.zeros(len(pt))
        free = pt["free"].to_numpy()
        se[free > 0] = np.sqrt(np.clip(np.diag(vcov), 0, None))[free[free > 0] - 1]
        if model.con_k is not None:
            # a parameter the constraints determine completely ('a == 0.5')
            # has no sampling variance: se 0 (exactly), z and p NaN; lavaan
            # reports NA or 0 there, depending on the rounding of its vcov
            determined = np.linalg.norm(model.con_k, axis=1) < 1e-10
            se[(free > 0) & determined[np.maximum(free, 1) - 1]] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where((free > 0) & (se > 0), est / se, np.nan)
        # stats.norm.sf / ppf through their special functions (same values, without the
        # distribution object's ~0.2 ms of argument handling per call)
        pval = 2 * special.ndtr(-np.abs(z))
        crit = special.ndtri(0.975)
        std_lv_col, std_all_col = standardize(model, x, est)
        # the table's columns as arrays (their dtypes kept; no index alignment to do)
        col = {c: pt[c].array for c in ("lhs", "op", "rhs", "group", "label", "free")}
        params = pd.DataFrame(
            {
                "lhs": col["lhs"], "op": col["op"], "rhs": col["rhs"], "group": col["group"],
                "label": col["label"], "free": col["free"], "est": est, "se": se, "z": z,
                "p_value": pval, "ci_low": est - crit * se, "ci_high": est + crit * se,
                "std_lv": std_lv_col, "std_all": std_all_col,
            }
        )
        if exo:
            # lavaan's std.nox: std.all without rescaling the covariates
            params["std_nox"] = standardize_nox(model, x, est)
        if self._definitions:
            d_est, d_se = self._defined_delta(lambda xx: model.row_values(xx), x, vcov)
            with np.errstate(divide="ignore", invalid="ignore"):
                d_z = np.where(d_se > 0, d_est / d_se, np.nan)
            defs = pd.DataFrame(
                {
                    "lhs": [d[0] for d in self._definitions], "op": ":=", "rhs": [d[1] for d in self._definitions],
                    "group": 0 if ngroups > 1 else 1, "label": [d[0] for d in self._definitions], "free": 0,
                    "est": d_est, "se": d_se, "z": d_z, "p_value": 2 * stats.norm.sf(np.abs(d_z)),
                    "ci_low": d_est - crit * d_se, "ci_high": d_est + crit * d_se,
                    "std_lv": self._defined_values(std_lv_col), "std_all": self._defined_values(std_all_col),
                }
            )
            params = pd.concat([params, defs], ignore_index=True)
        return params

    def _moment_tables(self, model, x, groups, labels, observed, meanstructure, clusters) -> None:
        """Implied and sample moments, cases and clusters, per group (plain with one group)."""
        implied = model.implied(x)
        self._implied = implied
        # one index built (~0.1 ms each from strings), a copy for every table (their names independent)
        index = pd.Index(observed)
        ngroups = len(labels)

        def per_group(values):
            return values[0] if ngroups == 1 else dict(zip(labels, values))

        def frame(mat):
            return pd.DataFrame(mat, index=index.copy(), columns=index.copy())

        def series(vec):
            return pd.Series(vec, index=index.copy())

        self.implied_cov_ = per_group([frame(s) for s, _ in implied])
        self.implied_mean_ = per_group([series(m if meanstructure else gd.sample_mean)
                                        for (_, m), gd in zip(implied, groups)])
        self.sample_cov_ = per_group([frame(gd.sample_cov) for gd in groups])
        self.sample_mean_ = per_group([series(gd.sample_mean) for gd in groups])
        self.n_obs_ = {("all" if lab is None else lab): gd.n for lab, gd in zip(labels, groups)}
        self.n_clusters_ = (None if clusters is None else
                            {("all" if lab is None else lab): int(len(np.unique(gd.extra["cluster"])))
                             for lab, gd in zip(labels, groups)})

    def _std_loadings(self) -> list[pd.DataFrame]:
        """Standardized loadings (observed items x factors) per group."""
        # What ``sub.pivot_table(index="rhs", columns="lhs", values="std_all", aggfunc="first",
        # sort=False).fillna(0.0)`` gives (items and factors in order of appearance, rows and
        # columns without a value dropped), built with numpy: pivot_table costs milliseconds.
        p = self.params_
        observed = set(self.observed_)
        op, rhs, lhs = p["op"].to_numpy(object), p["rhs"].to_numpy(object), p["lhs"].to_numpy(object)
        # not the loadings of a higher-order factor
        is_lo = (op == "=~") & np.fromiter((r in observed for r in rhs), bool, len(rhs))
        group, value = p["group"].to_numpy(), p["std_all"].to_numpy(float)
        out = []
        for g in range(1, len(self.group_labels_) + 1):
            rows = np.flatnonzero(is_lo & (group == g))
            items = list(dict.fromkeys(rhs[rows]))
            factors = list(dict.fromkeys(lhs[rows]))
            mat = np.full((len(items), len(factors)), np.nan)
            i_of, f_of = {v: k for k, v in enumerate(items)}, {v: k for k, v in enumerate(factors)}
            for r in rows[::-1]:  # the first non-missing value of a cell wins ('first')
                if not np.isnan(value[r]):
                    mat[i_of[rhs[r]], f_of[lhs[r]]] = value[r]
            keep_i, keep_f = ~np.isnan(mat).all(axis=1), ~np.isnan(mat).all(axis=0)
            lam = pd.DataFrame(mat[keep_i][:, keep_f], index=pd.Index(np.array(items, object)[keep_i], name="rhs"),
                               columns=pd.Index(np.array(factors, object)[keep_f], name="lhs"))
            out.append(lam.fillna(0.0))
        return out

    def _check_keying(self) -> None:
        """Items that load against the other indicators of their factor (``keying_notes_``).

        With an instrument as the model (or data keyed by ``Instrument.keyed``) a
        declared reverse item that still loads against its factor was keyed twice:
        :class:`~custval.exceptions.ReverseKeyWarning`.  With model syntax on data
        without a keying record the finding is only recorded (the estimates are
        lavaan's); :func:`~custval.validity.composite_reliability`, :func:`~custval.validity.ave`
        and :func:`~custval.validity.measurement_table` warn when they use such a fit.
        """
        self.keying_notes_ = []
        p = self.params_
        observed = set(self.observed_)
        rhs = p["rhs"].to_numpy(object)
        first = ((p["op"].to_numpy(object) == "=~") & (p["group"].to_numpy() == 1)
                 & np.fromiter((r in observed for r in rhs), bool, len(rhs)))
        std = p["std_all"].to_numpy(float)[first]
        if np.all(std[~np.isnan(std)] > 1e-12):  # no item loads against another: nothing to find
            return
        for lam in self._std_loadings()[:1]:
            # model syntax on data of unknown keying: noted only (a negative loading may be intended);
            # warned when the codebook the data were read with declares the item reverse-keyed
            msg = warn_opposite(lam, self.keying_, "CFA", stacklevel=5,
                                warn=self.keying_.source != "none" or bool(self.keying_.declared))
            if msg:
                self.keying_notes_.append(msg)

    # ------------------------------------------------------------------ inequality constraints
    def _active_set(self, model, problem, theta, converged, iters, con_a, con_b, ineq_g, ineq_h):
        """Linear inequality constraints ``G x >= h`` by an active-set loop.

        The most violated constraint joins the active set (imposed as an
        equality by reparametrisation) and the model is refitted; an active
        constraint whose Lagrange multiplier is negative is released.  Stops
        when the solution is feasible and every multiplier is >= 0 (KKT).
        """
        active: list[int] = []
        x = model.full(theta)
        for _ in range(4 * len(ineq_h) + 4):
            slack = ineq_g @ x - ineq_h
            tol = 1e-9 * np.maximum(1.0, np.abs(ineq_h))
            viol = [k for k in range(len(slack)) if k not in active and slack[k] < -tol[k]]
            if viol:
                active.append(min(viol, key=lambda k: slack[k]))
            elif active:
                mu = self._multipliers(model, problem, x, con_a, ineq_g[active])
                if mu.min() >= -1e-8:
                    break
                active.pop(int(np.argmin(mu)))
            else:
                break
            model.set_constraints(np.vstack([con_a, ineq_g[active]]), np.concatenate([con_b, ineq_h[active]]))
            theta, converged, more = problem.fit(model.reduce(x), max_iter=self.max_iter)
            iters += more
            x = model.full(theta)
        return theta, converged, iters, sorted(active)

    @staticmethod
    def _multipliers(model, problem, x, con_a, g_active) -> np.ndarray:
        """Lagrange multipliers of the active inequality constraints (``grad f = A'l + G'mu``)."""
        saved = (model.con_k, model.con_xp, model.nx)
        model.con_k, model.con_xp, model.nx = None, None, model.nfree
        try:
            grad = problem.gradient(x)
        finally:
            model.con_k, model.con_xp, model.nx = saved
        lhs = np.vstack([con_a, g_active]).T
        coef = np.linalg.lstsq(lhs, grad, rcond=None)[0]
        return coef[con_a.shape[0]:]

    # ------------------------------------------------------------------ defined parameters
    def _defined_values(self, row_values: np.ndarray) -> np.ndarray:
        """Values of the ``:=`` parameters given the values of the table's rows."""
        from ._sem.syntax import evaluate

        env = {lab: row_values[i] for lab, i in self._label_rows.items()}
        out = []
        for name, _rhs, node in self._definitions:
            env[name] = float(evaluate(node, env))
            out.append(env[name])
        return np.array(out, dtype=float)

    def _defined_delta(self, rows_of, x: np.ndarray, vcov: np.ndarray):
        """Delta-method estimates and standard errors of ``:=`` parameters.

        ``rows_of(x)`` gives the row values the definitions use (raw or
        standardized); ``J = d def / d x`` by central differences (step
        ``1e-6 max(1, |x_k|)``) and ``se = sqrt(diag(J V J'))``.
        """
        return _delta_method(lambda xx: self._defined_values(rows_of(xx)), x, vcov)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _involved(model: SemModel, null_vector: np.ndarray) -> str:
        if model.con_k is not None and len(null_vector) == model.nx:
            null_vector = model.con_k @ null_vector
        v = np.abs(null_vector)
        pars = np.flatnonzero(v > 0.1 * v.max()) + 1
        return ", ".join(
            sorted({f"{r.lhs}{r.op}{r.rhs} (group {r.group})" for r in model.pt.itertuples() if r.free in pars})
        )

    @classmethod
    def _check_structurally_identified(cls, model: SemModel, x0: np.ndarray, meanstructure: bool) -> None:
        """Rank of the Jacobian of the model moments at a random point near the starts.

        The rank of ``d (vech Sigma, mu) / d x`` is maximal for almost every
        ``x``; a rank deficit at a random point (seeded) therefore means the
        model is not identified for any values of its parameters.  The start
        values themselves are not used: with zero factor covariances a
        2-indicator factor (identified through its covariances) or a method
        factor model is singular there although it is identified (lavaan
        checks the information at the estimates).
        """
        if model.nx == 0:
            return
        u1, u2 = _identification_draws(x0.size)
        xr = x0 * (1 + 0.2 * u1) + 0.1 * u2
        p = model.p
        iu = np.triu_indices(p)
        blocks = []
        for ds, dm in model.delta(xr):
            blocks.append(ds[:, iu[0], iu[1]])
            if meanstructure:
                blocks.append(dm)
        jac = np.hstack(blocks)
        norm = np.linalg.norm(jac, axis=1)
        if not (norm > 0).all():
            zero = np.zeros(model.nx)
            zero[norm == 0] = 1.0
            raise IdentificationError(
                "the model is not identified: these parameters do not enter the model-implied moments: "
                + cls._involved(model, zero)
            )
        u, sv, _ = np.linalg.svd(jac / norm[:, None], full_matrices=False)
        if sv[-1] < 1e-8 * sv[0]:
            raise IdentificationError(
                "the model is not identified (for any parameter values: the Jacobian of the implied moments "
                "is rank deficient); parameters involved: " + cls._involved(model, u[:, -1])
                + " (fix a loading or a latent variance per factor, or add constraints)"
            )

    @classmethod
    def _check_identified(cls, info: np.ndarray, model: SemModel) -> None:
        """Information matrix at the estimates (lavaan: 'could not compute standard errors! The
        information matrix could not be inverted'; custval refuses instead of returning no SEs)."""
        ev, vec = np.linalg.eigh(info)
        if ev[0] < 1e-9 * max(ev[-1], 1e-300):
            raise IdentificationError(
                "the model is not identified at the estimates (empirical underidentification: the "
                "information matrix is singular at the solution); parameters involved: "
                + cls._involved(model, vec[:, 0])
                + " (fix a loading or a latent variance per factor, or add constraints)"
            )

    def _heywood(self) -> None:
        # A latent covariance matrix that is not positive definite is recorded
        # in notes_ and warned about, as lavaan warns ("covariance matrix of
        # latent variables is not positive definite"); callers such as
        # validity.common_method_cfa that judge admissibility themselves
        # silence it and warn once.
        self.notes_ = []
        for g, (phi, _) in enumerate(self._model.lv_moments(self.x_)):
            ev = np.linalg.eigvalsh(phi)
            if ev.min() < 0:
                where = "" if self._model.ngroups == 1 else f" in group {_plain(self.group_labels_[g])!r}"
                self.notes_.append(
                    f"the model-implied covariance matrix of the latent variables{where} is not positive "
                    f"definite (smallest eigenvalue {ev.min():.4g}); inspect the latent correlations"
                )
                warnings.warn(
                    f"CFA: {self.notes_[-1]} (a latent correlation beyond ±1 or a linear dependence among "
                    "factors; lavaan warns the same). Results are returned; the solution is improper.",
                    NotPositiveDefiniteWarning,
                    stacklevel=3,
                )
        p = self.params_
        # masks on numpy arrays: pandas' string comparisons cost milliseconds per fit
        lhs = p["lhs"].to_numpy(object)
        is_neg = ((p["op"].to_numpy(object) == "~~") & (lhs == p["rhs"].to_numpy(object))
                  & (p["est"].to_numpy(float) < 0))
        for r in p[is_neg].itertuples() if is_neg.any() else ():
            kind = "residual variance" if r.lhs in self.observed_ else "latent variance"
            where = "" if self._model.ngroups == 1 else f" in group {_plain(self.group_labels_[r.group - 1])!r}"
            warnings.warn(
                f"Heywood case: negative {kind} of {r.lhs!r}{where}: {r.est:.6g}; results are returned "
                "but the solution is improper",
                HeywoodWarning,
                stacklevel=3,
            )

    def _r2(self) -> pd.DataFrame:
        """R² of every indicator (1 - theta_ii / sigma_ii) and endogenous latent (1 - psi_kk / phi_kk)."""
        model = self._model
        mats = model.matrices(self.x_)
        lvm = model.lv_moments(self.x_)
        cols = {}
        for g, lab in enumerate(self.group_labels_):
            sigma, _ = self._implied[g]
            phi, _ = lvm[g]
            ind = sorted({i for (gg, name, i, _j) in model.rows if gg == g and name == "lam"})
            endo = sorted({i for (gg, name, i, _j) in model.rows if gg == g and name == "beta"})
            vals = {self.observed_[i]: 1 - mats[g].theta[i, i] / sigma[i, i] for i in ind}
            vals.update({self.latent_[k]: 1 - mats[g].psi[k, k] / phi[k, k] for k in endo})
            cols[lab] = pd.Series(vals, dtype=float)
        out = pd.DataFrame(cols)
        out.index.name = "variable"
        return out

    # ------------------------------------------------------------------ fit measures
    def _fit_measures(self) -> pd.Series:
        from ._sem.fit_measures import compute_fit_measures

        return compute_fit_measures(self)

    # ------------------------------------------------------------------ public extras
    def modification_indices(self, *, minimum_value: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """Modification indices as ``lavaan::modindices(fit)``.

        Columns lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all (expected
        information, as lavaan's default ``information = "expected"``).
        Candidates are the absent cross-loadings and residual covariances
        (plus the fixed marker loadings when loadings are equal across groups,
        as lavaan lists them).  A candidate whose freeing would leave the
        model unidentified (its conditional information ``V`` below
        ``eps^(1/3)``, e.g. the residual covariance of a two-indicator
        factor's items) has no MI; as ``modindices(na.remove = TRUE)`` it is
        left out, and the removed candidates are listed in
        ``attrs["not_identified"]``.  Verified against lavaan for complete-data
        ML fits (one and several groups, with equality constraints).  With
        observed covariates the candidates are the same (the covariates get
        none, nor do loadings onto an indicator with a direct effect); lavaan
        additionally lists latent covariances and regressions.

        With ordered items (a WLSMV / DWLS / ULSMV fit) the
        candidates are the cross-loadings and residual covariances of the
        latent responses y*, as ``modindices(fit)`` on lavaan's ``ordered =``
        fit: ``I = Delta' W Delta`` (W the DWLS weights, the identity for
        ULS) over (thresholds, polychoric correlations), ``g = Delta' W (s -
        sigma)``, ``V`` as above, ``MI = N (c g)^2 / V`` and ``EPC = c g /
        V`` with ``c = (N - 1) / N`` (lavaan's WLS objective); ``sepc_all``
        scales by the standard deviations of y* and of the factors (residual
        standard deviations for covariances).  Verified against lavaan 0.6-14
        at 1e-6 when evaluated at lavaan's estimates, polychorics and weights;
        at custval's own (which differ by ~1e-8) small MIs differ by up to
        1e-4 relative.  Several groups: candidates per group, groups weighted
        as in lavaan (information by n_g / N, gradient by (n_g - 1) / N), plus
        the fixed marker loadings when loadings are equal and the fixed
        intercepts of the latent responses when thresholds are equal.  With
        linear ``==`` constraints (one group or several) ``I_mm^-1`` is lavaan's
        inverted information of the constrained fit, ``K (K' I_mm K)^-1 K'``
        (``K`` the null space of the constraints), and the fixed markers
        whose release the constraints identify are candidates too (lavaan's
        list; the others are not identified and not listed).

        Parameters
        ----------
        minimum_value : float, default 0.0
            Only rows with ``mi >= minimum_value`` (as ``modindices(minimum.value = )``).
        sort : bool, default False
            Sort by ``mi``, largest first (as ``modindices(sort. = TRUE)``).

        Returns
        -------
        pandas.DataFrame
            One row per candidate parameter.

        Raises
        ------
        SpecificationError
            The model has general linear equality constraints and continuous
            items (with ordered items, one group or several, they are
            supported).

        See Also
        --------
        custval.cfa.CFA.residuals : Residual correlations.
        custval.invariance.rank_invariance_candidates : Which equality constraint to release.

        Examples
        --------
        >>> import pandas as pd
        >>> from custval import load_dataset
        >>> from custval.cfa import CFA
        >>> hs = load_dataset("holzinger_swineford1939").data
        >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
        >>> mi = fit.modification_indices(sort=True)
        >>> print(mi.iloc[0][["lhs", "op", "rhs", "mi", "sepc_all"]].to_string())
        lhs           visual
        op                =~
        rhs               x9
        mi         36.411...
        sepc_all    0.515...

        # In R: modindices(fit, sort. = TRUE)
        """
        if getattr(self, "sample_th_", None) is not None:
            return self._ordinal_modindices(minimum_value, sort)
        self._single_level_only("modification_indices")
        if getattr(self, "efa_blocks_", None):
            raise SpecificationError("CFA.modification_indices() is not available for a model with exploratory "
                                     "(ESEM) blocks: every loading of a block is already free")
        from ._sem.modindices import modification_indices

        if self._model.con_k is not None:
            raise SpecificationError(
                "modification indices are not available for models with general linear equality "
                f"constraints ({'; '.join(self.constraints_)}); 'label == label' and 'label == number' are supported"
            )
        out = modification_indices(self)
        undefined = out["mi"].isna()
        dropped = [f"{r.lhs} {r.op} {r.rhs}" + ("" if self._model.ngroups == 1 else f" (group {r.group})")
                   for r in out[undefined].itertuples()]
        out = out[~undefined].reset_index(drop=True)
        out = out[out["mi"] >= minimum_value] if minimum_value > 0 else out
        out.attrs["not_identified"] = dropped
        return out.sort_values("mi", ascending=False) if sort else out

    def _ordinal_modindices(self, minimum_value: float, sort: bool) -> pd.DataFrame:
        from ._sem import ordinal_extras

        ordinal_extras._check(self, "modification_indices")
        out = ordinal_extras.modification_indices(self)
        undefined = out["mi"].isna()
        out.attrs["not_identified"] = [f"{r.lhs} {r.op} {r.rhs}" for r in out[undefined].itertuples()]
        out = out[~undefined].reset_index(drop=True)
        out = out[out["mi"] >= minimum_value] if minimum_value > 0 else out
        return out.sort_values("mi", ascending=False) if sort else out

    def standardized_solution(self, *, level: float = 0.95) -> pd.DataFrame:
        """Completely standardized solution with delta-method standard errors.

        As ``lavaan::standardizedSolution(fit, type = "std.all")``: columns
        lhs, op, rhs, group, label, estimate (= ``params_["std_all"]``), se,
        z, p_value, ci_low, ci_high.  With ``s(x)`` the standardized values
        as a function of the free parameters and ``V`` = :attr:`vcov_`,
        ``se = sqrt(diag(J V J'))``, ``J = ds/dx`` (central differences,
        step ``1e-6 max(1, |x|)``; lavaan differentiates numerically too).
        Under MLR ``V`` is the sandwich, as in lavaan.  Rows whose
        standardized value does not depend on the parameters (fixed zero
        covariances) get ``se = 0`` and NaN z / p.  Defined parameters
        (``:=`` rows) are the definition evaluated on the standardized
        parameters, with the delta-method standard error of that composite
        (as lavaan's ``standardizedSolution``).  With ordered items the rows
        are lavaan's (thresholds ``|`` standardized by the
        standard deviation of y*, scale factors ``~*~`` 1, residual variances
        of y* ``1 - R2`` re-derived at every point of the derivative) and
        ``V`` is the robust (``robust.sem``) covariance; equal to lavaan
        0.6-14's ``standardizedSolution(fit)`` at 1e-6 (delta, theta, WLSMV,
        ULSMV, two groups with and without equal thresholds and loadings, two
        groups with a linear ``==`` constraint: there ``x_`` and ``vcov_`` are
        the full parameter vector and its constrained covariance).

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of ``ci_low`` / ``ci_high``.

        Returns
        -------
        pandas.DataFrame
            One row per parameter.

        See Also
        --------
        custval.validity.measurement_table : Standardized loadings in a paper's table.

        Examples
        --------
        >>> import pandas as pd
        >>> from custval import load_dataset
        >>> from custval.cfa import CFA
        >>> hs = load_dataset("holzinger_swineford1939").data
        >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
        >>> print(fit.standardized_solution().loc[0, ["lhs", "op", "rhs", "estimate", "se"]].to_string())
        lhs            visual
        op                 =~
        rhs                x1
        estimate     0.772...
        se           0.055...

        # In R: standardizedSolution(fit, type = "std.all")
        """
        self._single_level_only("standardized_solution")
        from ._sem.standardize import standardize

        model, x = getattr(self, "_model", None), self.x_

        def std_rows(xx):
            return standardize(model, xx, model.row_values(xx))[1]

        def std_all(xx):
            rows = std_rows(xx)
            return np.concatenate([rows, self._defined_values(rows)]) if self._definitions else rows

        if getattr(self, "sample_th_", None) is not None:  # ordered items (custval._sem.ordinal_extras)
            from ._sem import ordinal_extras

            ordinal_extras._check(self, "standardized_solution")
            std_all = ordinal_extras.std_all_function(self)
        # ESEM: the bordered covariance matrix with the exact stationarity conditions (custval._sem.esem)
        vstd = getattr(self, "_vcov_std", None)
        est, se = _delta_method(std_all, x, self.vcov_ if vstd is None else vstd)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        crit = stats.norm.ppf(0.5 + level / 2)
        pt = self.params_
        return pd.DataFrame(
            {
                "lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "group": pt["group"], "label": pt["label"],
                "estimate": est, "se": se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z)),
                "ci_low": est - crit * se, "ci_high": est + crit * se,
            }
        )

    def residuals(self, *, type: str = "cor", z: bool = False) -> dict:
        """Residual moments per group, as ``lavaan::residuals(fit, type)``.

        ``type``: "raw" (S - Sigma), "cor" / "cor.bollen" (observed minus
        implied correlations), "cor.bentler" (both rescaled by the observed
        variances; the residuals behind SRMR).  Returns ``{"cov": DataFrame,
        "mean": Series or None}`` (a dict of those keyed by group label when
        there are several groups).  ``z=True`` (with ``type="cor.bentler"``,
        ML or MLR, complete data, no clusters) adds ``"cov_z"`` / ``"mean_z"``:
        the standardized residuals of ``lavaan::lavResiduals(fit)`` (residual
        / its standard error; residuals below 1e-4 are left as they are, as
        lavaan does; under MLR the standard errors use the sandwich ACOV of the
        sample moments and the observed h1 information, as lavaan).

        With ordered items ``"cov"`` is the observed minus the
        model-implied polychoric correlation matrix of the latent responses
        (every ``type`` gives it: their variances are 1), ``"mean"`` is 0 and
        ``"th"`` the threshold residuals (names ``item|t1`` ...), as
        ``residuals(fit)``; ``z=True`` adds ``"cov_z"`` / ``"th_z"`` of
        ``lavResiduals(fit)``: ``ACOV = Q (Gamma / N) Q'``, ``Q = I - Delta
        A^-1 Delta' W`` (several groups: per group, as lavaan).

        Parameters
        ----------
        type : {"cor", "raw", "cor.bollen", "cor.bentler"}, default "cor"
            Which residuals (see above).
        z : bool, default False
            Add the standardized residuals ``"cov_z"`` / ``"mean_z"`` (needs
            ``type="cor.bentler"``).

        Returns
        -------
        dict
            ``{"cov": DataFrame, "mean": Series or None}`` (plus ``"cov_z"`` /
            ``"mean_z"`` with ``z=True``; ordered items: ``"th"`` and ``"th_z"``),
            or a dict of those keyed by group label.

        Raises
        ------
        SpecificationError
            An unknown ``type``, or ``z=True`` where the standardized residuals are not
            available.

        See Also
        --------
        custval.cfa.CFA.modification_indices : Modification indices.

        Examples
        --------
        >>> import pandas as pd
        >>> from custval import load_dataset
        >>> from custval.cfa import CFA
        >>> hs = load_dataset("holzinger_swineford1939").data
        >>> fit = CFA("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9").fit(hs)
        >>> res = fit.residuals(type="cor.bentler", z=True)
        >>> print(round(res["cov"].loc["x7", "x8"], 3), round(res["cov_z"].loc["x7", "x8"], 3))
        0.075 4.823

        # In R: lavResiduals(fit)$cov["x7", "x8"]; lavResiduals(fit)$cov.z["x7", "x8"]
        """
        self._single_level_only("residuals")
        kind = {"cor": "cor.bollen"}.get(type, type)
        if kind not in ("raw", "cor.bollen", "cor.bentler"):
            raise SpecificationError(f"type={type!r}; allowed: 'raw', 'cor', 'cor.bollen', 'cor.bentler'")
        if getattr(self, "sample_th_", None) is not None:  # ordered items (custval._sem.ordinal_extras)
            from ._sem import ordinal_extras

            ordinal_extras._check(self, "residuals")
            if z and kind != "cor.bentler":
                raise SpecificationError("z=True needs type='cor.bentler' (lavaan::lavResiduals' default)")
            return ordinal_extras.residuals(self, z=z)
        zs = None
        if z:
            if self._missing != "listwise" or self.cluster is not None:
                raise SpecificationError(
                    "standardized residuals (z=True) are available for complete data (ML or MLR) without "
                    "clusters only"
                )
            if kind != "cor.bentler":
                raise SpecificationError("z=True needs type='cor.bentler' (lavaan::lavResiduals' default)")
            zs = fm.standardized_residuals(self, kind)
        out = {}
        for g, lab in enumerate(self.group_labels_):
            gd = self._groups[g]
            sigma, mu = self._implied[g]
            rc, rm = fm.residuals(gd.sample_cov, gd.sample_mean, sigma, mu if self._meanstructure else None, kind)
            out[lab] = {
                "cov": pd.DataFrame(rc, index=self.observed_, columns=self.observed_),
                "mean": None if rm is None else pd.Series(rm, index=self.observed_),
            }
            if zs is not None:
                out[lab]["cov_z"] = pd.DataFrame(zs[g][0], index=self.observed_, columns=self.observed_)
                out[lab]["mean_z"] = None if zs[g][1] is None else pd.Series(zs[g][1], index=self.observed_)
        return out[self.group_labels_[0]] if len(out) == 1 else out

    # ------------------------------------------------------------------ display
    def summary(self, *, digits: int = 3) -> str:
        """Text output in lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` layout.

        Parameters
        ----------
        digits : int, default 3
            Decimals shown.

        Returns
        -------
        str
            The report; the fitted attributes keep the unrounded values.

        See Also
        --------
        custval.cfa.CFA.fit : Fit the model first.
        """
        from ._sem.report import summary_text

        return summary_text(self, digits)

    def __str__(self) -> str:
        return self.summary() if hasattr(self, "params_") else repr(self)

    def __repr__(self) -> str:
        return f"CFA(estimator={self.estimator!r}, missing={self.missing!r}, group={self.group!r})"

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        from ._sem.report import summary_html

        return summary_html(self)

    def _row_loglik(self) -> float:  # pragma: no cover - used by reports
        return sum(
            loglik_group(gd, s, m if self._meanstructure else None) for gd, (s, m) in zip(self._groups, self._implied)
        )

    def _yb(self, x, groups, h1_moments, means, b0_groups, e_inv):
        return yb_trace(groups, h1_moments, means, b0_groups, e_inv, self._problem.ntotal)


def _delta_method(f, x: np.ndarray, vcov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and its delta-method standard errors ``sqrt(diag(J V J'))``, with ``J = df/dx``
    by central differences (step ``1e-6 max(1, |x_k|)``; a non-finite derivative counts as 0)."""
    est = f(x)
    jac = np.zeros((len(est), len(x)))
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = np.zeros(len(x))
        e[k] = h
        jac[:, k] = (f(x + e) - f(x - e)) / (2 * h)
    jac[~np.isfinite(jac)] = 0.0
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    return est, se
