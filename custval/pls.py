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

__all__ = ["IPMAResult", "PLS", "PLSBootstrapResult", "micom", "MICOMResult", "mga", "MGAResult", "plspredict",
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

        Interaction terms: ``Y ~ A + B + A:B`` (the main effects ``A`` and ``B``
        must predict ``Y`` too); the construct is labelled ``"A:B"``.
        Higher-order constructs: a measurement line whose right side names
        constructs, ``HOC =~ LOC1 + LOC2`` (mode A) or ``HOC <~ LOC1 + LOC2``
        (mode B); the lower-order constructs are in no path themselves (give the
        paths of ``HOC``), belong to one higher-order construct and do not share items.
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
    interaction : {"two_stage", "product_indicator", "orthogonal"}
        How an interaction term ``A:B`` is measured (seminr
        ``interaction_term(iv, moderator, method = ...)``, mode A).  "two_stage"
        (default, recommended by Hair et al., 2022): the model without
        interactions is estimated first and the term's single indicator
        ``"A:B_intxn"`` is the product of the two construct scores.
        "product_indicator": all products ``x*y`` of the standardised items of
        ``A`` and ``B``.  "orthogonal": those products residualised on all items
        of ``A`` and ``B`` (Henseler & Chin, 2010).  (seminr 2.3.1's own default is
        ``product_indicator``.)
    hoc : {"two_stage", "repeated_indicators"}
        How a higher-order construct is estimated.  "two_stage" (default; seminr
        ``higher_composite(..., method = two_stage)``): stage 1 estimates the model
        with the higher-order construct replaced by its dimensions (its
        antecedents point to every dimension, every dimension to its outcomes);
        stage 2 measures it by the dimensions' scores.  "repeated_indicators"
        (Lohmöller, 1989; Becker et al., 2012): one model in which it is measured
        by all items of its dimensions, with paths ``HOC -> LOC`` for ``=~`` and
        ``LOC -> HOC`` for ``<~``.
    standardize : bool
        ``True`` (default; seminr, SmartPLS): items are standardised.  ``False``
        (plspm ``scaled = FALSE``): items are only centred, so items with larger
        variances weigh more in mode A and ``weights_`` are in the items' units
        (scores stay standardised; loadings stay correlations).  Not with
        ``consistent``.

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
        from the PLSc loadings of common factors), ``rho_A``; and plspm's
        ``dg_rho`` (``unidim$DG.rho``: Dillon-Goldstein's rho from the loadings
        of the block's first principal component, not from the PLS loadings as
        ``rhoC`` is, which seminr and SmartPLS also call Dillon-Goldstein's rho; plspm
        prints 0 for mode B blocks, custval the same formula as for any block, though
        internal consistency is not expected of a formative block).  With two-stage higher-order
        constructs it has a row for every construct of both levels, as seminr's.
    gof_ : float
        plspm's goodness of fit (Tenenhaus et al., 2005): ``sqrt(mean communality
        of the multi-item blocks x mean R²)``.
    redundancy_ : DataFrame
        plspm's ``outer_model``, one row per (construct, item): ``weight, loading,
        communality`` (loading²) and ``redundancy`` (communality x R² of the
        construct, 0 for exogenous constructs).
    inner_summary_ : DataFrame
        plspm's ``inner_summary``: ``type, r2, block_communality, mean_redundancy``.
    path_inference_ : DataFrame or None
        plspm's ``inner_model``: per (to, from) the OLS regression of the scores
        (statsmodels) with ``estimate, se, t, p_value, n``, intercept included.
        These are the classical tests plspm prints, not bootstrap tests; the
        intercept's ``se`` is plspm's times ``sqrt((n - 1)/n)`` (plspm's scores have
        variance 1 with the ``n`` denominator), slopes are identical.  ``None``
        under PLSc (OLS on composites does not test the corrected paths).
    interactions_, hocs_ : dict
        The interaction terms ``{"A:B": (A, B)}`` and higher-order constructs
        ``{HOC: (LOC, ...)}`` of the model.
    interaction_scale_ : Series
        Per interaction term, seminr's scale ``a = sum(sd_i |lambda_i|) /
        sum(|lambda_i|)`` over its indicators (the raw, unstandardised products):
        the term's score is multiplied by ``a`` before the paths are estimated, so
        ``paths_`` gives the coefficient of the product of the standardised
        constructs (Henseler & Chin, 2010), the one simple slopes use; its
        coefficient as a standardised term is ``paths_ x a``.  The term's
        ``loadings_`` are seminr's covariances with that rescaled score (the
        correlations times ``a``).  Empty without interactions.
    htmt_ : DataFrame
        seminr's ``HTMT(fit)`` of the constructs (symmetric, diagonal 1): a single item's
        monotrait mean is taken as 1 (semTools and :func:`custval.validity.htmt` give
        NaN there).  With two-stage higher-order constructs it covers both levels: the
        dimensions with their items, the higher-order construct with the dimensions'
        scores as its items, as seminr's.
    first_stage_ : PLS or None
        For two-stage interactions and higher-order constructs, the fitted first
        stage (the lower-order level: its ``reliability_``, ``loadings_``,
        ``construct_cor_`` for validity); ``None`` otherwise.
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
    Each resample repeats the construction of interaction terms and both
    stages, as seminr's ``bootstrap_model()`` does (tested on seminr's resamples).

    Conventions of the peers, where they differ.  Interactions: seminr rescales
    the interaction score (``interaction_scale_``) so that its path is the
    coefficient of the product of standardised constructs; SmartPLS 4 reports
    by default the path of the standardised product term (``paths_ x a``); cSEM
    estimates interactions as products of composites inside its own model
    (``A.B``) and standardises them.  seminr keeps the term a composite with
    ``rho_A = 1`` under PLSc (custval too).  Higher-order constructs: seminr
    and SmartPLS two-stage use the first-stage scores of the dimensions as
    indicators (custval too; SmartPLS's "embedded two-stage" estimates stage 1
    without the higher-order construct's antecedents, which differs when it
    has any); cSEM's ``.approach_2ndorder = "2stage"`` is the same idea for
    composites; repeated indicators follow Becker et al. (2012).  Interaction
    terms together with higher-order constructs in one model are not supported.
    plspm: scores are scaled with the ``n`` denominator (custval, seminr: ``n - 1``),
    so plspm's weights are custval's times ``sqrt(n/(n - 1))`` with
    ``standardize=False``; plspm flips a score whose block loads mostly
    negatively (custval, seminr do not); plspm stops on ``sum((|w_old| -
    |w_new|)^2) < tol``.  Tests compare with plspm at its fixed point.

    References
    ----------
    Becker, J.-M., Klein, K., & Wetzels, M. (2012). Hierarchical latent
    variable models in PLS-SEM. *Long Range Planning, 45*(5-6), 359-394.
    Dijkstra, T. K., & Henseler, J. (2015). Consistent partial least squares
    path modeling. *MIS Quarterly, 39*(2), 297-316.
    Henseler, J., & Chin, W. W. (2010). A comparison of approaches for the
    analysis of interaction effects between latent variables using partial
    least squares path modeling. *Structural Equation Modeling, 17*(1), 82-109.
    Tenenhaus, M., Esposito Vinzi, V., Chatelin, Y.-M., & Lauro, C. (2005). PLS
    path modeling. *Computational Statistics & Data Analysis, 48*(1), 159-205.
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

    A moderation (two-stage interaction) and a higher-order construct:

    >>> moderated = PLS(model.replace("Image + Expectation + Value",
    ...                               "Image + Expectation + Value + Image:Expectation")).fit(mobi)
    >>> round(float(moderated.paths_.at["Image:Expectation", "Satisfaction"]), 4)
    -0.0431
    >>> hoc = PLS('''
    ...   Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
    ...   Value =~ PERV1 + PERV2
    ...   Expectation =~ CUEX1 + CUEX2 + CUEX3
    ...   Satisfaction =~ Image + Value
    ...   Loyalty =~ CUSL1 + CUSL2 + CUSL3
    ...   Satisfaction ~ Expectation
    ...   Loyalty ~ Satisfaction
    ... ''').fit(mobi)
    >>> print(hoc.reliability_.loc[["Satisfaction", "Image", "Value"], ["rhoC", "AVE"]].round(3).to_string())
                   rhoC    AVE
    construct
    Satisfaction  0.858  0.752
    Image         0.819  0.478
    Value         0.918  0.849
    >>> round(PLS(model, standardize=False).fit(mobi).gof_, 4)
    0.5723

    # In R: interaction_term(iv = "Image", moderator = "Expectation", method = two_stage);
    #       higher_composite("Satisfaction", c("Image", "Value"), method = two_stage) (seminr);
    #       plspm::plspm(mobi, path_matrix, blocks, scaled = FALSE, scheme = "path")$gof
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
        interaction: str = "two_stage",
        hoc: str = "two_stage",
        standardize: bool = True,
    ):
        self.model = model
        self.paths = paths
        self.interaction = interaction
        self.hoc = hoc
        self.standardize = standardize
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

        if self.interaction not in _pls.INTERACTIONS:
            raise SpecificationError(f"interaction={self.interaction!r}; allowed: {list(_pls.INTERACTIONS)}")
        if self.hoc not in _pls.HOC_METHODS:
            raise SpecificationError(f"hoc={self.hoc!r}; allowed: {list(_pls.HOC_METHODS)}")
        if self.standardize not in (True, False):
            raise SpecificationError(f"standardize={self.standardize!r}; True or False")
        syntax = self._syntax()
        spec = _pls.parse_pls_syntax(syntax)
        if spec.interactions and spec.hocs:
            raise SpecificationError(
                f"interaction terms {list(spec.interactions)} together with higher-order constructs "
                f"{list(spec.hocs)} are not supported in one model; estimate the higher-order model first and "
                "use its scores")
        modes = self._modes(spec)
        consistent = self._consistent(spec, modes)
        if consistent and not self.standardize:
            raise SpecificationError(
                "consistent PLS needs standardised items (rho_A and the disattenuation are defined on "
                "correlations); use standardize=True with consistent")
        if isinstance(data, pd.DataFrame):
            data, keying = apply_keys(data, self.model)
        x, index, n_excluded, repairs = self._data(data, spec)
        settings = dict(scheme=self.weighting, max_iter=int(self.max_iter), tol=float(self.tol))

        plan = None
        self.first_stage_ = None
        if spec.interactions or spec.hocs or not self.standardize:
            plan = _pls.make_plan(spec, modes, interaction=self.interaction, hoc=self.hoc)
            w1 = None
            if plan.stage1 is not None:
                s1 = plan.stage1
                cons1 = consistent & set(s1.constructs)
                raw1 = _pls.estimate(x[:, plan.stage1_items], s1, {c: modes[c] for c in s1.constructs},
                                     consistent=cons1, **settings)
                self._warn_convergence(raw1, "the first stage of ")
                w1 = raw1.weights[None]
                first = PLS(self.model, weighting=self.weighting, mode=self.mode, consistent=self.consistent,
                            missing=self.missing, max_iter=self.max_iter, tol=self.tol, paths=self.paths)
                first._excluded_index = self._excluded_index
                first._store(s1, {c: modes[c] for c in s1.constructs}, cons1, raw1, x[:, plan.stage1_items],
                             index, n_excluded, repairs)
                self.first_stage_ = first
            xf = plan.columns(x, np.ones((1, x.shape[0])), w1)[0]
            est_spec = plan.final
            est_modes = dict(est_spec.modes)
            est_cons = frozenset(c for c in consistent if c in est_spec.constructs)
            bad = [plan.item_names[j] for j in range(xf.shape[1]) if not xf[:, j].std() > 0]
            if bad:
                raise ConstantItemError(f"the indicator(s) {bad} of the model are constant in the {x.shape[0]} rows "
                                        "used; they cannot be standardised")
            raw = _pls.estimate(xf, est_spec, est_modes, consistent=est_cons, scaled=bool(self.standardize),
                                rescale=frozenset(spec.interactions), **settings)
            self.interaction_scale_ = pd.Series(raw.scale, name="scale", dtype=float)
            self._warn_convergence(raw, "")
            self._store(est_spec, est_modes, est_cons, raw, xf, index, n_excluded, repairs)
            self._combine(plan, x)
        else:
            raw = _pls.estimate(x, spec, modes, consistent=consistent, **settings)
            self._warn_convergence(raw, "")
            self._store(spec, modes, consistent, raw, x, index, n_excluded, repairs)
        self._x_items, self._plan, self._full_spec = x, plan, spec
        self.interactions_ = dict(spec.interactions)
        self.hocs_ = dict(spec.hocs)
        self._check_keying(keying.restrict(spec.items))
        return self

    def _warn_convergence(self, raw, what: str) -> None:
        if not raw.converged:
            warnings.warn(
                f"{what}PLS did not converge in {raw.n_iter} iterations (last change of the outer weights "
                f"{raw.weight_change:.3g} >= tol = {self.tol:g}); the estimates are from the last iteration. "
                "Raise max_iter or check the model (e.g. blocks with nearly uncorrelated items)",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _combine(self, plan, x) -> None:
        """Labels of a model estimated through a plan: repeated items collapsed into one row;
        for a two-stage higher-order model the lower-order constructs added from stage 1."""
        if len(set(self.items_)) != len(self.items_):
            self.weights_ = self.weights_.groupby(level=0, sort=False).sum()
            self.loadings_ = self.loadings_.groupby(level=0, sort=False).sum()
            self.items_ = list(self.weights_.index)
        if plan.hoc == "two_stage" and plan.locs:
            fs = self.first_stage_
            locs = list(plan.locs)
            loc_items = [i for c in locs for i in fs._spec.blocks[c]]
            for name in ("weights_", "loadings_"):
                top = getattr(self, name)
                low = getattr(fs, name).loc[loc_items, locs]
                frame = pd.concat([top, low], axis=0).fillna(0.0)
                setattr(self, name, frame.loc[[*top.index, *loc_items], [*top.columns, *locs]])
            self.scores_ = pd.concat([self.scores_, fs.scores_[locs]], axis=1)
            # HTMT at both levels on the second-stage data plus the dimensions' items (seminr HTMT())
            xs = [self._x, *[fs._x[:, [fs._spec.items.index(i)]] for i in loc_items]]
            blocks, start = [], 0
            for c in self.constructs_:
                blocks.append(np.arange(start, start + len(self._spec.blocks[c])))
                start += len(self._spec.blocks[c])
            for c in locs:
                blocks.append(np.arange(start, start + len(fs._spec.blocks[c])))
                start += len(fs._spec.blocks[c])
            self.htmt_ = _seminr_htmt(np.hstack(xs), blocks, [*self.constructs_, *locs])
            self.reliability_ = pd.concat([self.reliability_, fs.reliability_.loc[locs]])
            self.rho_a_ = pd.concat([self.rho_a_, fs.rho_a_[locs]])
            self.modes_.update({c: fs.modes_[c] for c in locs})

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
        full = getattr(self, "_full_spec", None)
        skip = set(full.interactions) | set(full.hocs) if full is not None else set()
        observed = [i for i in self.loadings_.index if full is None or i in set(full.items)]
        mode_a = [c for c in self.loadings_.columns if self.modes_.get(c) == "A" and c not in skip]
        msg = warn_opposite(self.loadings_.loc[observed, mode_a], keying, "PLS", stacklevel=4)
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
        if self.consistent is True:  # interaction terms stay composites (seminr: rho_A of 1)
            return frozenset(c for c in spec.constructs if modes[c] == "A" and c not in spec.interactions)
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
            dg = _pls.dillon_goldstein_rho(z[:, block])
            rel.append((_pls.standardized_alpha(z[:, block]), rc, ave, raw.rho_a[cons.index(c)], dg))
        self.reliability_ = pd.DataFrame(
            rel, index=pd.Index(cons, name="construct"), columns=["alpha", "rhoC", "AVE", "rho_A", "dg_rho"]
        )
        self._plspm_statistics(spec, raw, consistent)
        blocks, start = [], 0
        for c in cons:
            blocks.append(np.arange(start, start + len(spec.blocks[c])))
            start += len(spec.blocks[c])
        self.htmt_ = _seminr_htmt(x, blocks, cons)
        self.n_, self.n_excluded_ = int(n), int(n_excluded)
        self.excluded_index_ = self._excluded_index
        self.n_iter_, self.converged_, self.weight_change_ = int(raw.n_iter), bool(raw.converged), raw.weight_change
        self.repairs_ = tuple(repairs)
        self._x, self._spec, self._consistent_set = x, spec, frozenset(consistent)

    def _plspm_statistics(self, spec, raw, consistent) -> None:
        """plspm's outer model (communality, redundancy), inner summary, GoF and OLS path tests."""
        cons = spec.constructs
        r2 = pd.Series(0.0, index=cons)
        r2[self.r2_.index] = self.r2_["r2"]
        rows, pos = [], 0
        for c in cons:
            for i in spec.blocks[c]:
                lam = float(raw.loadings[pos, cons.index(c)])
                rows.append((c, i, float(raw.weights[pos, cons.index(c)]), lam, lam**2, lam**2 * r2[c]))
                pos += 1
        outer = pd.DataFrame(rows, columns=["construct", "item", "weight", "loading", "communality", "redundancy"])
        self.redundancy_ = outer.set_index(["construct", "item"])
        by = outer.groupby("construct", sort=False)
        self.inner_summary_ = pd.DataFrame({
            "type": ["endogenous" if c in self.r2_.index else "exogenous" for c in cons],
            "r2": r2.to_numpy(),
            "block_communality": by["communality"].mean()[cons].to_numpy(),
            "mean_redundancy": by["redundancy"].mean()[cons].to_numpy(),
        }, index=pd.Index(cons, name="construct"))
        multi = outer[outer["construct"].map(lambda c: len(spec.blocks[c]) > 1)]
        self.gof_ = float(np.sqrt(multi["communality"].mean() * self.r2_["r2"].mean())) if len(multi) else np.nan
        if consistent:
            self.path_inference_ = None  # OLS on composite scores does not test PLSc paths
            return
        import statsmodels.api as sm

        out = []
        for t in spec.endogenous:
            preds = spec.predecessors(t)
            xmat = sm.add_constant(pd.DataFrame(raw.scores[:, [cons.index(p) for p in preds]], columns=preds),
                                   has_constant="add")
            res = sm.OLS(raw.scores[:, cons.index(t)], xmat).fit()
            for term in ["const", *preds]:
                out.append((t, "Intercept" if term == "const" else term, float(res.params[term]),
                            float(res.bse[term]), float(res.tvalues[term]), float(res.pvalues[term]),
                            int(res.nobs)))
        self.path_inference_ = pd.DataFrame(
            out, columns=["to", "from", "estimate", "se", "t", "p_value", "n"]).set_index(["to", "from"])

    # ------------------------------------------------------------------ moderation
    def simple_slopes(self, interaction: str, *, target: str | None = None,
                      levels: Iterable[float] = (-1.0, 0.0, 1.0)) -> pd.DataFrame:
        """Simple slopes of a moderation: the effect of ``A`` on the target at levels of ``B``.

        With the paths of ``Y ~ A + B + A:B`` (``paths_``; seminr's convention, the
        coefficient of the product of standardised constructs), the line of ``Y`` on ``A``
        at ``B = m`` standard deviations is ``slope = b_A + b_AB m`` and ``intercept =
        b_B m`` (seminr ``slope_analysis()``, the lines of ``plot_interaction()``).

        Parameters
        ----------
        interaction : str
            The interaction term, ``"A:B"``: ``A`` the independent variable, ``B`` the
            moderator.
        target : str, optional
            The construct it predicts; required when it predicts more than one.
        levels : iterable of float
            Moderator levels in standard deviations (default -1, 0, +1).

        Returns
        -------
        pandas.DataFrame
            One row per level: ``moderator_sd, slope, intercept`` with attributes
            ``iv``, ``moderator``, ``target`` in ``df.attrs``.

        Raises
        ------
        SpecificationError
            ``interaction`` is not a term of the model, or ``target`` is missing or not
            predicted by it.

        See Also
        --------
        custval.plots.simple_slopes_plot : The lines as a figure.

        Examples
        --------
        >>> from custval import PLS, load_dataset
        >>> mobi = load_dataset("mobi", with_instrument=False).data
        >>> model = '''
        ...   Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
        ...   Expectation =~ CUEX1 + CUEX2 + CUEX3
        ...   Satisfaction =~ CUSA1 + CUSA2 + CUSA3
        ...   Satisfaction ~ Image + Expectation + Image:Expectation
        ... '''
        >>> print(PLS(model).fit(mobi).simple_slopes("Image:Expectation").round(3).to_string(index=False))
         moderator_sd  slope  intercept
                 -1.0  0.630     -0.215
                  0.0  0.586      0.000
                  1.0  0.543      0.215

        # In R: seminr::slope_analysis(fit, dv = "Satisfaction", moderator = "Expectation",
        #       iv = "Image")  (plot_interaction() draws the same lines)
        """
        self._check_fitted()
        if interaction not in getattr(self, "interactions_", {}):
            raise SpecificationError(
                f"{interaction!r} is not an interaction term of the model; terms: {list(self.interactions_)}")
        iv, mod = self.interactions_[interaction]
        targets = [t for s_, t in self.paths_list_ if s_ == interaction]
        if target is None:
            if len(targets) != 1:
                raise SpecificationError(f"{interaction!r} predicts {targets}; give target=")
            target = targets[0]
        if target not in targets:
            raise SpecificationError(f"{interaction!r} does not predict {target!r}; it predicts {targets}")
        b_iv = float(self.paths_.at[iv, target])
        b_mod = float(self.paths_.at[mod, target])
        b_int = float(self.paths_.at[interaction, target])
        m = np.asarray(list(levels), dtype=float)
        out = pd.DataFrame({"moderator_sd": m, "slope": b_iv + b_int * m, "intercept": b_mod * m})
        out.attrs.update(iv=iv, moderator=mod, target=target)
        return out

    # ------------------------------------------------------------------ IPMA
    def ipma(self, *, target: str, scales=None, instrument=None) -> IPMAResult:
        r"""Importance-performance map analysis (IPMA) of the constructs and indicators for ``target``.

        Performance is the mean of a 0-100 rescaled score, importance the unstandardised
        total effect on ``target`` (Ringle & Sarstedt, 2016; SmartPLS's IPMA; cSEM
        ``doIPMA()``).  Each indicator is rescaled with its response scale,
        ``x' = 100 (x - min) / (max - min)``, where ``min`` and ``max`` are the ends of the
        scale the item is answered on (1 and 10 for mobi), never the observed extremes.

        Parameters
        ----------
        target : str
            The target construct (an endogenous construct of the model).
        scales : tuple or dict, optional
            ``(min, max)`` of every item, or ``{item: (min, max)}``.  Default: the scales of
            the codebook, from ``instrument`` or from the model when it is an
            :class:`~custval.Instrument`.
        instrument : Instrument, optional
            The codebook whose item scales to use.

        Returns
        -------
        IPMAResult
            ``constructs``: one row per construct with a total effect on ``target``,
            columns ``importance, performance, n`` (the target's own performance is
            ``target_performance``); ``indicators``: one row per (construct, item) of
            those constructs with ``weight`` (the rescaled weight, summing to 1 per
            construct), ``importance`` (weight x the construct's importance),
            ``performance`` (mean of the rescaled item), ``n``.

        Raises
        ------
        SpecificationError
            ``target`` is not an endogenous construct; no scale is known for an item; an
            outer weight is negative (IPMA needs positive weights: a reverse-worded item
            not keyed, or a mode B block with a suppressor); the model has interaction terms
            or higher-order constructs (not supported).
        DataValidationError
            An item has values outside the scale given for it.

        See Also
        --------
        custval.plots.ipma_map : The map as a figure.

        Notes
        -----
        With standardised weights ``w_i`` (``weights_``) and ``sd'_i`` the standard
        deviation of the rescaled item, the rescaled weights are ``v_i = (w_i / sd'_i) /
        sum_j (w_j / sd'_j)``, so the construct's rescaled score ``sum v_i x'_i`` lies in
        0-100 and is a linear function of its PLS score.  The unstandardised path
        ``s -> t`` is the path in ``paths_`` times ``sd(t') / sd(s')`` of the rescaled
        scores; importance is the total effect ``(I - B)^-1 - I`` of those paths (for a
        PLSc fit, of the PLSc paths, as SmartPLS).  Indicator importance is ``v_i`` times
        its construct's importance.

        References
        ----------
        Ringle, C. M., & Sarstedt, M. (2016). Gain more insight from your PLS-SEM
        results: The importance-performance map analysis. *Industrial Management & Data
        Systems, 116*(9), 1865-1886.

        Examples
        --------
        >>> from custval import PLS, load_dataset
        >>> ds = load_dataset("mobi")
        >>> model = '''
        ...   Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
        ...   Expectation  =~ CUEX1 + CUEX2 + CUEX3
        ...   Value        =~ PERV1 + PERV2
        ...   Satisfaction =~ CUSA1 + CUSA2 + CUSA3
        ...   Satisfaction ~ Image + Expectation + Value
        ... '''
        >>> res = PLS(model).fit(ds.data).ipma(target="Satisfaction", instrument=ds.instrument)
        >>> print(res.constructs[["importance", "performance"]].round(2).to_string())
                     importance  performance
        construct
        Image              0.47        73.59
        Expectation        0.18        72.47
        Value              0.22        62.37

        # In R: cSEM::doIPMA(csem(mobi, model), .level_of_interest = "Satisfaction")
        #       (cSEM rescales with the observed min/max unless told the scale)
        """
        self._check_fitted()
        full = self._full_spec
        if full.interactions or full.hocs:
            raise SpecificationError(
                "IPMA of a model with interaction terms or higher-order constructs is not supported")
        if target not in self.r2_.index:
            raise SpecificationError(
                f"target {target!r} is not an endogenous construct; endogenous: {list(self.r2_.index)}")
        x = self._x_items if self._plan is not None else self._x
        items = full.items
        bounds = self._ipma_scales(items, scales, instrument)
        lo = np.array([bounds[i][0] for i in items], dtype=float)
        hi = np.array([bounds[i][1] for i in items], dtype=float)
        outside = [(i, float(x[:, j].min()), float(x[:, j].max())) for j, i in enumerate(items)
                   if x[:, j].min() < lo[j] or x[:, j].max() > hi[j]]
        if outside:
            raise DataValidationError(
                "values outside the response scale given for IPMA: "
                + "; ".join(f"{i}: observed {a:g}..{b:g}, scale {bounds[i][0]:g}..{bounds[i][1]:g}"
                            for i, a, b in outside))
        xr = 100 * (x - lo) / (hi - lo)
        sd_r = xr.std(axis=0, ddof=1)
        cons = self.constructs_
        col = {i: j for j, i in enumerate(items)}
        # standardised weights: weights_ are in item units when standardize=False
        sd_x = x.std(axis=0, ddof=1)
        negative = []
        v = {}
        scores = {}
        for c in cons:
            idx = [col[i] for i in full.blocks[c]]
            w = self.weights_.loc[list(full.blocks[c]), c].to_numpy(float)
            w_std = w if self.standardize else w * sd_x[idx]
            negative += [(c, i, float(a)) for i, a in zip(full.blocks[c], w_std) if a < 0]
            u = w_std / sd_r[idx]
            v[c] = u / u.sum()
            scores[c] = xr[:, idx] @ v[c]
        if negative:
            raise SpecificationError(
                "IPMA needs positive outer weights (Ringle & Sarstedt, 2016); negative: "
                + ", ".join(f"{i} of {c} ({a:.3f})" for c, i, a in negative)
                + ". Reverse-key the item or remove it")
        sd_c = np.array([scores[c].std(ddof=1) for c in cons])
        b = self.paths_.to_numpy(float) * sd_c[None, :] / sd_c[:, None]
        k = len(cons)
        total = np.linalg.inv(np.eye(k) - b) - np.eye(k)
        t = cons.index(target)
        reach = [c for c in cons if c != target and abs(total[cons.index(c), t]) > 0]
        n = int(x.shape[0])
        cframe = pd.DataFrame(
            {"importance": [float(total[cons.index(c), t]) for c in reach],
             "performance": [float(scores[c].mean()) for c in reach], "n": n},
            index=pd.Index(reach, name="construct"))
        rows = []
        for c in reach:
            for i, vi in zip(full.blocks[c], v[c]):
                rows.append((c, i, float(vi), float(vi * cframe.at[c, "importance"]),
                             float(xr[:, col[i]].mean()), n))
        iframe = pd.DataFrame(rows, columns=["construct", "item", "weight", "importance", "performance", "n"])
        return IPMAResult(
            constructs=cframe, indicators=iframe.set_index(["construct", "item"]), target=target,
            target_performance=float(scores[target].mean()),
            scales=tuple((i, float(bounds[i][0]), float(bounds[i][1])) for i in items),
            method_note=("performance: mean of the 0-100 rescaled score (response-scale ends); importance: "
                         "unstandardised total effect on the target (Ringle & Sarstedt, 2016)"),
        )

    def _ipma_scales(self, items, scales, instrument) -> dict:
        from ._keys import is_instrument

        if scales is not None:
            if isinstance(scales, Mapping):
                missing = [i for i in items if i not in scales]
                if missing:
                    raise SpecificationError(f"scales gives no (min, max) for item(s) {missing}")
                out = {i: tuple(scales[i]) for i in items}
            else:
                pair = tuple(scales)
                out = {i: pair for i in items}
        else:
            inst = instrument if instrument is not None else (self.model if is_instrument(self.model) else None)
            if inst is None:
                raise SpecificationError(
                    "IPMA rescales every item with its response scale; give scales=(min, max) (e.g. (1, 10) for "
                    "mobi), scales={item: (min, max)} or instrument= (a codebook). The observed minimum and "
                    "maximum are not used")
            known = inst.item_scales
            unknown = [i for i in items if i not in known]
            if unknown:
                raise SpecificationError(f"item(s) {unknown} are not in the codebook {inst.name!r}")
            out = {i: (known[i].min, known[i].max) for i in items}
        bad = [i for i, p in out.items() if len(p) != 2 or not float(p[1]) > float(p[0])]
        if bad:
            raise SpecificationError(f"scales need (min, max) with max > min; got {[(i, out[i]) for i in bad]}")
        return {i: (float(p[0]), float(p[1])) for i, p in out.items()}

    # ------------------------------------------------------------------ bootstrap
    def bootstrap(
        self,
        *,
        n_boot: int = 2000,
        seed: int = 0,
        ci: float = 0.95,
        indices=None,
        progress: bool = False,
        ci_method: str = "percentile",
    ) -> PLSBootstrapResult:
        r"""Bootstrap standard errors and percentile or BCa intervals of the PLS estimates.

        Paths, loadings, weights, total and indirect effects, R² and HTMT.

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
        ci_method : {"percentile", "bca"}
            Percentile intervals (seminr, SmartPLS's default) or bias-corrected and
            accelerated intervals (Efron, 1987; the acceleration from the jackknife,
            every row left out once and estimated in batches as the resamples are).

        Returns
        -------
        PLSBootstrapResult
            ``paths``, ``loadings``, ``weights``, ``total_effects``,
            ``indirect_effects`` (total minus direct, for pairs joined by a chain of
            two or more paths), ``r2`` and ``htmt`` (seminr's convention, every pair
            of ``htmt_``, both levels of a two-stage higher-order model): one row per
            parameter with
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
        plan = self._plan
        x = self._x if plan is None else self._x_items
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
        if ci_method not in ("percentile", "bca"):
            raise SpecificationError(f"ci_method={ci_method!r}; 'percentile' or 'bca'")
        size = 250 if plan is None else int(max(1, min(250, 4e6 // (n * max(1, len(plan.sources))))))
        chunks = range(0, int(n_boot), size)
        if progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc="PLS bootstrap", unit="chunk")
        targets = self._boot_targets()
        parts = [self._boot_batch(x, counts[start : start + size], targets) for start in chunks]
        ok = np.concatenate([p_["ok"] for p_ in parts])
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
        jack = None
        if ci_method == "bca":  # jackknife: every row left out once, estimated in batches
            jparts = []
            for start in range(0, n, size):
                stop = min(n, start + size)
                c = np.ones((stop - start, n))
                c[np.arange(stop - start), np.arange(start, stop)] = 0.0
                jparts.append(self._boot_batch(x, c, targets))
            jack = {name: np.concatenate([j[name] for j in jparts]) for name in targets}
            jok = np.concatenate([j["ok"] for j in jparts])
            jack = {name: v[jok] for name, v in jack.items()}
        from ._stats.bootstrap import _interval

        tables = {}
        for name, (labels, index_names, est) in targets.items():
            vals = np.concatenate([p_[name] for p_ in parts])[ok]
            rows = []
            for j, lab in enumerate(labels):
                v = vals[:, j]
                e = float(est[j])
                se = float(v.std(ddof=1))
                if ci_method == "bca" and se > 0:
                    lo, hi = _interval(v, e, ci=ci, method="bca", jack=jack[name][:, j])
                else:
                    lo, hi = (float(q) for q in np.quantile(v, ((1 - ci) / 2, (1 + ci) / 2)))
                rows.append((*lab, e, float(v.mean()), se, e / se if se > 0 else np.nan, lo, hi, self.n_))
            frame = pd.DataFrame(rows, columns=[*index_names, "estimate", "boot_mean", "se", "t", "ci_low",
                                                "ci_high", "n"])
            tables[name] = frame.set_index(list(index_names))
        return PLSBootstrapResult(
            paths=tables["paths"], loadings=tables["loadings"], weights=tables["weights"],
            total_effects=tables["total_effects"], indirect_effects=tables["indirect_effects"],
            r2=tables["r2"], htmt=tables["htmt"],
            n_boot=int(ok.sum()), n_failed=n_failed, seed=None if indices is not None else int(seed), ci=float(ci),
            r_call=(
                f"summary(seminr::bootstrap_model(fit, nboot = {n_boot}"
                + (f", seed = {seed}))" if indices is None else "))  (resamples given by indices)")
                + f"; fit <- {self.r_call}"
            ),
            method_note=(("BCa intervals (Efron, 1987; acceleration from the jackknife)" if ci_method == "bca"
                          else "percentile intervals (R quantile type 7)")
                         + "; se = bootstrap SD (n_boot - 1); t = estimate / se"),
            ci_method=ci_method,
        )

    def _boot_targets(self) -> dict:
        """Per table: labels, index names and the fit's estimates of the bootstrapped parameters."""
        spec = self._spec
        cons = spec.constructs
        out = {}
        labels = list(self.paths_list_)
        out["paths"] = (labels, ("from", "to"), np.array([self.paths_.at[a, b] for a, b in labels]))
        outer = [(c, i) for c in cons for i in spec.blocks[c]]
        if self._plan is not None and self._plan.locs:  # two-stage higher-order: the dimensions' items
            fs = self.first_stage_
            outer += [(c, i) for c in self._plan.locs for i in fs._spec.blocks[c]]
        for name, est in (("loadings", self.loadings_), ("weights", self.weights_)):
            out[name] = (outer, ("construct", "item"), np.array([est.at[i, c] for c, i in outer]))
        te = self.total_effects_
        direct = self.paths_
        total = [(a, b) for a in cons for b in cons if a != b and te.at[a, b] != 0]
        out["total_effects"] = (total, ("from", "to"), np.array([te.at[a, b] for a, b in total]))
        adj = np.zeros((len(cons), len(cons)), dtype=int)
        for a, b in labels:
            adj[cons.index(a), cons.index(b)] = 1
        longer, power = np.zeros_like(adj), adj.copy()
        for _ in range(len(cons)):  # pairs joined by a chain of two or more paths
            power = (power @ adj > 0).astype(int)
            longer |= power
        ind = [(a, b) for a, b in total if longer[cons.index(a), cons.index(b)]]
        out["indirect_effects"] = (ind, ("from", "to"),
                                   np.array([te.at[a, b] - direct.at[a, b] for a, b in ind]))
        endo = list(self.r2_.index)
        out["r2"] = ([(t,) for t in endo], ("construct",), self.r2_["r2"].to_numpy(float))
        names = list(self.htmt_.index)  # with two-stage higher-order constructs: both levels
        pairs = [(a, b) for j, a in enumerate(names) for b in names[j + 1:]]
        out["htmt"] = (pairs, ("construct_a", "construct_b"), np.array([self.htmt_.at[a, b] for a, b in pairs]))
        return out

    def _boot_batch(self, x: np.ndarray, c: np.ndarray, targets: dict) -> dict:
        """The bootstrapped parameters of the resamples given by counts ``c`` (B, n), flattened as
        in ``targets``, and ``ok`` (resample estimable and converged)."""
        plan = self._plan
        spec = self._spec
        cons = spec.constructs
        settings = dict(scheme=self.weighting, max_iter=int(self.max_iter), tol=float(self.tol))
        first = None
        if plan is None:
            s = weighted_correlations(x, c)
            part = _pls.estimate_from_correlations(s, spec, self.modes_, consistent=self._consistent_set,
                                                   **settings)
        else:
            w1, ok1 = None, np.ones(c.shape[0], dtype=bool)
            if plan.stage1 is not None:
                fs = self.first_stage_
                first = _pls.estimate_from_correlations(
                    weighted_correlations(x[:, plan.stage1_items], c), plan.stage1, fs.modes_,
                    consistent=fs._consistent_set, **settings)
                w1, ok1 = first.weights, first.ok
            with np.errstate(invalid="ignore", divide="ignore"):
                d = plan.columns(x, c, w1)
                s = _pls.batch_correlations(d, c, center_only=not self.standardize)
            item_sd = None
            if plan.spec.interactions:
                tot = c.sum(axis=1)
                m = np.einsum("bn,bnp->bp", c, d) / tot[:, None]
                item_sd = np.sqrt(np.einsum("bn,bnp->bp", c, (d - m[:, None, :]) ** 2) / (tot - 1)[:, None])
            part = _pls.estimate_from_correlations(
                s, spec, {k: v for k, v in self.modes_.items() if k in cons},
                consistent=self._consistent_set, covariance=not self.standardize,
                rescale=frozenset(plan.spec.interactions), item_sd=item_sd, **settings)
            part.ok &= ok1
        b = c.shape[0]
        k = len(cons)
        col = {name: j for j, name in enumerate(cons)}
        out = {"ok": part.ok}
        out["paths"] = np.stack([part.paths[:, col[a], col[t]] for a, t in targets["paths"][0]], axis=1) \
            if targets["paths"][0] else np.zeros((b, 0))
        pos = {}
        p_ = 0
        for cc in cons:
            for i in spec.blocks[cc]:
                pos.setdefault((cc, i), p_)
                p_ += 1
        pos1 = {}
        if first is not None and plan.locs:
            p_ = 0
            for cc in plan.stage1.constructs:
                for i in plan.stage1.blocks[cc]:
                    pos1[(cc, i)] = p_
                    p_ += 1
        for name in ("loadings", "weights"):
            arr = getattr(part, name)
            cols = []
            for cc, i in targets[name][0]:
                if (cc, i) in pos:
                    cols.append(arr[:, pos[(cc, i)], col[cc]])
                else:
                    cols.append(getattr(first, name)[:, pos1[(cc, i)], plan.stage1.constructs.index(cc)])
            out[name] = np.stack(cols, axis=1)
        with np.errstate(invalid="ignore"):
            eye = np.eye(k)
            good = np.isfinite(part.paths).all(axis=(1, 2))
            paths = np.where(good[:, None, None], part.paths, 0.0)
            total = np.linalg.inv(eye - paths) - eye
        out["total_effects"] = np.stack([total[:, col[a], col[t]] for a, t in targets["total_effects"][0]], axis=1) \
            if targets["total_effects"][0] else np.zeros((b, 0))
        out["indirect_effects"] = np.stack(
            [total[:, col[a], col[t]] - paths[:, col[a], col[t]] for a, t in targets["indirect_effects"][0]],
            axis=1) if targets["indirect_effects"][0] else np.zeros((b, 0))
        r = np.where(np.isfinite(part.score_cor), part.score_cor, 0.0)
        r2 = []
        for (t,) in targets["r2"][0]:
            preds = [col[a] for a, u in self.paths_list_ if u == t]
            rpp = r[:, preds][:, :, preds] + np.where(good, 0.0, 1.0)[:, None, None] * np.eye(len(preds))
            rpt = r[:, preds, col[t]]
            r2.append((rpt * np.linalg.solve(rpp, rpt[..., None])[..., 0]).sum(axis=1))
        out["r2"] = np.stack(r2, axis=1)
        # HTMT (seminr's convention) from the resample's item correlations
        blocks, start = [], 0
        for cc in cons:
            blocks.append(np.arange(start, start + len(spec.blocks[cc])))
            start += len(spec.blocks[cc])
        names = list(cons)
        if plan is not None and plan.locs:  # the dimensions with their own items, as in htmt_
            items = plan.spec.items
            extra = [items.index(i) for loc in plan.locs for i in plan.spec.blocks[loc]]
            with np.errstate(invalid="ignore", divide="ignore"):
                dd = np.concatenate([d, np.broadcast_to(x[None][:, :, extra], (b, *x[:, extra].shape))], axis=2)
                s = _pls.batch_correlations(dd, c)
            for loc in plan.locs:
                blocks.append(np.arange(start, start + len(plan.spec.blocks[loc])))
                start += len(plan.spec.blocks[loc])
                names.append(loc)
        elif not self.standardize:
            sd = np.sqrt(_pls._diag(s))
            s = s / sd[:, :, None] / sd[:, None, :]
        ra = np.abs(s)
        col = {name: j for j, name in enumerate(names)}
        within = np.stack([np.ones(b) if len(bl) == 1 else
                           (ra[:, bl][:, :, bl].sum(axis=(1, 2)) - len(bl)) / (len(bl) * (len(bl) - 1))
                           for bl in blocks], axis=1)
        h = []
        for a, t in targets["htmt"][0]:
            i, j = col[a], col[t]
            h.append(ra[:, blocks[i]][:, :, blocks[j]].mean(axis=(1, 2)) / np.sqrt(within[:, i] * within[:, j]))
        out["htmt"] = np.stack(h, axis=1) if h else np.zeros((b, 0))
        return out

    # ------------------------------------------------------------------ display
    @property
    def convention(self) -> str:
        kind = "PLSc (common factors: " + ", ".join(self.common_factors_) + ")" if self.common_factors_ else "PLS"
        scaling = "items standardised (sd with n - 1)" if self.standardize else "items centred, not scaled"
        return f"{kind}; {self.weighting} inner weighting; {scaling}; stop when sum|dW| < {self.tol:g}"

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
        call += "  # mm: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
        for iv, mod in getattr(self, "interactions_", {}).values():
            call += f"; interaction_term(iv = {iv!r}, moderator = {mod!r}, method = {self.interaction})"
        for h, locs in getattr(self, "hocs_", {}).items():
            call += (f"; higher_composite({h!r}, c({', '.join(map(repr, locs))}), method = two_stage)"
                     if self.hoc == "two_stage" else f"; {h}: repeated indicators (no seminr call)")
        if not self.standardize:
            call = ("plspm::plspm(data, path_matrix, blocks, scheme = "
                    f"{self.weighting!r}, scaled = FALSE)  # seminr has no unstandardised PLS")
        return call

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
                f"GoF (plspm, Tenenhaus et al., 2005) = {self.gof_:.{digits}f}",
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


def _seminr_htmt(x: np.ndarray, blocks: list[np.ndarray], names: list[str]) -> pd.DataFrame:
    """seminr's ``HTMT()``: mean absolute heterotrait correlation over the geometric mean of the
    mean absolute monotrait correlations, a single item's monotrait mean taken as 1."""
    r = np.abs(np.corrcoef(x, rowvar=False))
    within = []
    for b in blocks:
        m = len(b)
        within.append(1.0 if m == 1 else float((r[np.ix_(b, b)].sum() - m) / (m * (m - 1))))
    k = len(blocks)
    out = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = r[np.ix_(blocks[i], blocks[j])].mean() / np.sqrt(within[i] * within[j])
    return pd.DataFrame(out, index=names, columns=names)


@dataclasses.dataclass(frozen=True, eq=False)
class PLSBootstrapResult(ResultMixin):
    """Bootstrap of a :class:`PLS` fit (see :meth:`PLS.bootstrap`); ``to_frame()`` gives the paths.

    Attributes
    ----------
    paths, loadings, weights, total_effects, indirect_effects, r2, htmt : pandas.DataFrame
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
    ci_method : str
        "percentile" or "bca".

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
    total_effects: pd.DataFrame | None = None
    indirect_effects: pd.DataFrame | None = None
    r2: pd.DataFrame | None = None
    htmt: pd.DataFrame | None = None
    ci_method: str = "percentile"

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


@dataclasses.dataclass(frozen=True, eq=False)
class IPMAResult(ResultMixin):
    """Importance-performance map of a :class:`PLS` fit (see :meth:`PLS.ipma`).

    Attributes
    ----------
    constructs : pandas.DataFrame
        Per construct reaching the target: ``importance`` (unstandardised total effect),
        ``performance`` (0-100), ``n``.
    indicators : pandas.DataFrame
        Per (construct, item): ``weight`` (rescaled, summing to 1 per construct),
        ``importance``, ``performance``, ``n``.
    target : str
        The target construct.
    target_performance : float
        Mean 0-100 score of the target.
    scales : tuple
        ``(item, min, max)`` used for the rescaling.
    method_note : str
        How the numbers are computed.

    See Also
    --------
    custval.pls.PLS.ipma : The method that returns it.
    custval.plots.ipma_map : The map as a figure.
    """

    constructs: pd.DataFrame
    indicators: pd.DataFrame
    target: str
    target_performance: float
    scales: tuple
    method_note: str

    _title = "Importance-performance map"

    def to_frame(self) -> pd.DataFrame:
        return self.constructs
