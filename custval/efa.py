"""Exploratory factor analysis with psych's or lavaan's numbers: ``EFA(n_factors, ...).fit(data)``.

``EFA`` reproduces ``psych::fa`` (psych 2.2.9, GPArotation 2022.10-2): the same
extraction (minres, ML, principal axis, with SMC starting values and R's
L-BFGS-B optimiser), the same rotations (GPArotation's gradient projection
for oblimin/quartimin/geomin/target/bi-quartimin, ``stats::varimax``, psych's
Kaiser-normalised Promax), the same sign and order normalisation and the same
fit statistics.  ``tests/test_efa.py`` checks every method × rotation pair
against ``tests/r/dimensionality.R``.

With ``convention="lavaan"`` it reproduces ``lavaan::efa()`` (lavaan 0.6-14):
exact ML on the covariance matrix, rotation of the standardised loadings from
random starts, lavaan's column order and signs, the standard errors of the
rotated solution and ``fitMeasures()`` (``tests/test_efa_lavaan.py`` against
``tests/r/efa_lavaan.R``).
"""

from __future__ import annotations

import html
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._stats import efa_lavaan as _efa_lavaan
from ._stats import factor_extraction as fx
from ._stats import rotation as rot
from .correlation import correlation_input
from .exceptions import (
    ConvergenceWarning,
    HeywoodWarning,
    NotPositiveDefiniteError,
    NotPositiveDefiniteWarning,
    SingularMatrixError,
    SpecificationError,
)

__all__ = ["EFA"]


def _target_matrix(target, names, nf: int):
    """A target (DataFrame items x factors, or array), aligned to ``names``; NaN = unspecified."""
    if isinstance(target, pd.DataFrame):
        idx = [str(i) for i in target.index]
        missing = [n for n in names if n not in idx]
        extra = [i for i in idx if i not in names]
        if missing or extra or len(set(idx)) != len(idx):
            raise SpecificationError(
                "rotation_kwargs['target'] must have one row per item analysed"
                + (f"; missing rows: {', '.join(missing)}" if missing else "")
                + (f"; rows that are not items analysed: {', '.join(extra)}" if extra else "")
                + ("; duplicated rows" if len(set(idx)) != len(idx) else "")
            )
        tab = target.copy()
        tab.index = idx
        tab = tab.loc[list(names)]
        cols = [str(c) for c in tab.columns]
        try:
            t = tab.to_numpy(dtype=float)
        except (TypeError, ValueError):
            bad = [c for c in tab.columns if not pd.api.types.is_numeric_dtype(tab[c])]
            raise SpecificationError(
                f"rotation_kwargs['target'] must be numeric (NaN for unspecified cells); column(s) "
                f"{', '.join(map(str, bad))} are not"
            ) from None
    else:
        try:
            t = np.array(target, dtype=float)
        except (TypeError, ValueError):
            raise SpecificationError(
                "rotation_kwargs['target'] must be a numeric items x factors array or DataFrame "
                "(NaN for unspecified cells)"
            ) from None
        cols = None
    if t.ndim != 2 or t.shape != (len(names), nf):
        raise SpecificationError(
            f"rotation_kwargs['target'] has shape {t.shape}; it must be {len(names)} items x {nf} factors"
        )
    if np.isinf(t).any():
        i, j = np.argwhere(np.isinf(t))[0]
        raise SpecificationError(
            f"rotation_kwargs['target'] has an infinite value for item {names[i]}, factor {j + 1}; "
            "use NaN for an unspecified cell"
        )
    if np.isnan(t).all():
        raise SpecificationError("rotation_kwargs['target'] specifies no cell (all NaN)")
    return t, cols

_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA"}
NAN_POLICIES = ("pairwise", "listwise", "raise")
CONVENTIONS = ("psych", "lavaan")
#: rotation_kwargs accepted by each rotation (``orthogonal`` by every gradient-projection rotation)
_ROTATION_KEYS = {
    "geomin": ("epsilon", "delta"), "bigeomin": ("epsilon", "delta"), "oblimin": ("gamma",),
    "target": ("target",), "quartimin": (), "biquartimin": (), "varimax": (), "promax": (),
}


class EFA:
    r"""Exploratory factor analysis, identical to ``psych::fa``.

    The common factor model :math:`R = \Lambda \Phi \Lambda' + \Psi` is fitted
    to the item correlation matrix :math:`R`:

    * ``method="minres"`` minimises the off-diagonal residuals
      :math:`\sum_{i<j} (r_{ij} - \hat r_{ij})^2` (Harman, 1976), psych's default;
    * ``method="ml"`` minimises :math:`\operatorname{tr}(\hat R^{-1}R) - \ln|\hat R^{-1}R| - p`
      (Jöreskog, 1967);
    * ``method="pa"`` iterates principal axes with SMC starting communalities
      until the sum of communalities changes by less than .001 (max 50 steps).

    The unrotated solution is then rotated: ``"oblimin"`` (gamma = 0, psych's
    default), ``"quartimin"``, ``"geomin"`` (delta = .01, GPArotation's default;
    ``rotation_kwargs={"epsilon": .001}`` is lavaan's), ``"target"``
    (``GPArotation::targetQ``; with NaN cells = ``pstQ``, a partially specified
    target), ``"biquartimin"`` (``GPArotation::bifactorQ``) or ``"bigeomin"``
    (lavaan's bi-geomin; GPArotation 2022.10-2 has none) by gradient projection
    (Bernaards & Jennrich, 2005; Jennrich & Bentler, 2011, 2012), oblique unless
    ``rotation_kwargs={"orthogonal": True}`` (``targetT``, ``bifactorT``), or
    ``"promax"`` (m = 4, Kaiser normalised) or ``"varimax"``.  Columns are
    flipped so their sums are positive and ordered by the variance they account
    for, :math:`\operatorname{diag}(\Phi\Lambda'\Lambda)`, as psych does --
    except for ``"target"`` (columns, signs and names are the target's) and the
    bifactor rotations (the first column stays the general factor).

    ``convention="lavaan"`` reproduces ``lavaan::efa(data, nfactors, rotation)``
    (lavaan 0.6-14, ``rotation.args`` defaults: oblique, ``std.ov = TRUE``,
    ``row.weights = "none"``, ``algorithm = "gpa"``, ``gpa.tol = 1e-5``,
    ``geomin.epsilon = .001``, ``rstarts = 30``): the ML solution of the
    covariance matrix (divisor N) to a projected gradient of 1e-8; the
    standardised loadings rotated from ``n_starts`` starts (the identity and
    ``n_starts - 1`` random orthogonal matrices drawn from ``seed``; lavaan
    draws 30 with R's RNG), keeping the lowest criterion value (values within
    1e-9 relative are ties, the earliest start wins) and continuing it to a
    projected gradient of 1e-7; columns with a negative sum reflected and
    ordered by the mean row index of the items loading at least .8 of the
    column's largest absolute loading (lavaan's ``order.lv.by = "index"``),
    named ``f1``, ``f2``...  A different ``seed`` gives the same solution as
    long as one start reaches the best minimum; lavaan's own answers under
    different R seeds differ by up to 3e-6, custval's agree with them to 1e-5.
    Standard errors (``params_["se"]``) are lavaan's ``rotation.se = "bordered"``
    ones (expected information bordered by the rotation's stationarity
    conditions, Jennrich, 1973), reproduced with lavaan 0.6-14's constraint
    function (which standardises with :math:`\operatorname{diag}(\Lambda\Lambda'+\Theta)`,
    leaving out :math:`\Phi`).  The standardised ones (``loadings_se_``,
    ``params_["se.std"]``) are the delta method through the rotation (the
    bordered matrix with the exact stationarity conditions, and the exact
    Jacobian of the standardisation); lavaan computes the same quantity with
    forward differences of step .001 of re-rotated solutions, so its printed
    values agree with custval's to about 1e-3 (to 5e-5 when lavaan is refitted
    with ``gpa.tol = 1e-7`` and a step of 1e-4).  ``fit_`` then holds lavaan's ``fitMeasures()`` (``chisq = 2 N F_ML``,
    no Bartlett correction, unlike psych).

    Parameters
    ----------
    n_factors : int
        Number of factors.
    method : {"minres", "ml", "pa"}
        Extraction method (psych's ``fm``).
    rotation : {"oblimin", "geomin", "promax", "varimax", "quartimin", None}
        Rotation (psych's ``rotate``; ``None`` = ``"none"``).
    cor : {"pearson", "polychoric"}
        Correlations analysed (psych's ``cor = "cor"`` or ``"poly"``).
    nan_policy : {"pairwise", "listwise", "raise"}
        ``"pairwise"`` is psych's ``use = "pairwise"``.
    seed : int, default 0
        Seed of the random starting rotations, used only when ``n_starts > 1``.
    n_starts : int, default 1
        Number of starts of the gradient-projection rotation: the first is the
        identity (GPArotation's default, so the default is deterministic), the
        others random orthogonal matrices (Haar, from ``numpy.random.default_rng(seed)``);
        the start with the lowest criterion wins (ties within 1e-9 relative: the
        earliest).  lavaan's ``rstarts = 30`` corresponds to ``n_starts=30``.
    rotation_kwargs : dict, optional
        Options of the rotation: ``{"epsilon": e}`` (alias ``"delta"``) for
        ``"geomin"`` / ``"bigeomin"`` (default .01 with ``convention="psych"``,
        .001 with ``"lavaan"``), ``{"gamma": g}`` for ``"oblimin"``,
        ``{"target": T}`` for ``"target"`` (items × factors DataFrame whose rows
        are matched to the items by name, or an array in item order; NaN =
        unspecified cell; a column whose specified cells are all zero gets a
        positive sum, the others keep the sign the target gives them),
        ``{"orthogonal": True}`` for any gradient-projection rotation.
    convention : {"psych", "lavaan"}, default "psych"
        Whose numbers: ``psych::fa`` or ``lavaan::efa`` (``method="ml"`` only;
        incomplete rows are an error unless ``nan_policy="listwise"``, as lavaan
        drops them).  The default rotation stays psych's ``"oblimin"``; lavaan's
        default is ``rotation="geomin"``.

    Attributes
    ----------
    loadings_ : DataFrame
        Pattern loadings (items × factors; columns ``MR1``... as psych names them).
    structure_ : DataFrame
        Structure loadings :math:`\Lambda\Phi`.
    phi_ : DataFrame
        Factor correlations (identity for orthogonal or no rotation).
    communalities_ : Series
        :math:`h^2 = \operatorname{diag}(\Lambda\Phi\Lambda')` (psych's ``communality``).
        factor_analyzer 0.5.1 reports row sums of squared pattern loadings
        instead, which is wrong under oblique rotation.
    uniquenesses_ : Series
        :math:`\operatorname{diag}(R - \Lambda\Phi\Lambda')`.
    variance_ : DataFrame
        SS loadings, proportion and cumulative variance (psych's ``Vaccounted``).
    fit_ : Series
        ``rmsr`` (root mean square of the off-diagonal residuals), ``crms``,
        ``chisq``, ``df``, ``p_value``, ``tli``, ``rmsea`` (with ``rmsea_low``,
        ``rmsea_high``, 90% interval), ``bic``, ``objective``, ``echisq``,
        ``ebic``, ``null_chisq``, ``null_df``, ``fit``, ``fit_off``, as psych
        prints them (computed for every method; psych prints the likelihood
        chi-square for all methods too).
    eigenvalues_ : Series
        Eigenvalues of :math:`R` (psych's ``e.values``).
    params_ : DataFrame
        ``convention="lavaan"`` only: lavaan's parameter table (``lhs, op, rhs,
        est, se, z, pvalue, ci.lower, ci.upper, std.all, se.std``), ``est`` in
        the items' metric.
    loadings_se_ : DataFrame
        ``convention="lavaan"`` only: standard errors of the standardised loadings.
    criterion_ : float
        Rotation criterion at the solution (gradient-projection rotations).
    start_ : int
        Index of the winning start (0 = the identity).
    common_eigenvalues_ : Series
        Eigenvalues of :math:`R` with communalities on the diagonal (psych's ``values``).
    correlation_ : DataFrame
        The correlation matrix analysed.
    n_obs_ : int
        Rows used.
    optimizer_fallback_ : str or None
        ``None`` when psych's L-BFGS-B run (same algorithm, scaling and
        tolerances as ``optim`` in psych) converged cleanly, so the solution is
        psych's.  Otherwise what was done: a run that stopped abnormally (line
        search failure, iteration limit) is restarted with
        ``scipy.optimize.minimize`` from its best point; if that also fails, or
        a minres uniqueness ends at the .005 bound (where psych's minres
        gradient is not the gradient of its residual sum of squares, so
        psych's run stops short of the minimum), the residual sum of squares is
        minimised with its exact gradient until the projected gradient is
        below 1e-8.  The result is then a true minimum, the same on every CPU,
        with a residual sum of squares at or below psych's; in a Heywood case
        its loadings can differ from psych's in the third or fourth decimal.

    Warns
    -----
    HeywoodWarning
        An item's communality reaches 1 (uniqueness at or below the .005 bound);
        the item is named.  With ``method="minres"`` psych's optimiser stops
        short of the minimum in such a case; custval goes on to the minimum
        (see ``optimizer_fallback_``), so its loadings can differ from psych's
        in the third or fourth decimal while its residual sum of squares is
        lower.
    ConvergenceWarning
        Extraction or rotation did not converge (for extraction: not even the
        fallback described under ``optimizer_fallback_`` reached a minimum).

    See Also
    --------
    custval.dimensionality.parallel_analysis : How many factors to extract.
    custval.cfa.CFA : Confirmatory factor analysis.

    References
    ----------
    Asparouhov, T., & Muthén, B. (2009). Exploratory structural equation modeling.
    *Structural Equation Modeling, 16*(3), 397–438.
    Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and
    software for arbitrary rotation criteria in factor analysis. *Educational and
    Psychological Measurement, 65*(5), 676–696.
    Harman, H. H. (1976). *Modern factor analysis* (3rd ed.). University of Chicago Press.
    Jennrich, R. I. (1973). Standard errors for obliquely rotated factor loadings.
    *Psychometrika, 38*(4), 593–604.
    Jennrich, R. I., & Bentler, P. M. (2011). Exploratory bi-factor analysis.
    *Psychometrika, 76*(4), 537–549.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
    *Journal of Statistical Software, 48*(2), 1–36.
    Revelle, W. (2024). *psych: Procedures for psychological, psychometric, and
    personality research* (R package).

    Examples
    --------
    >>> import pandas as pd, custval
    >>> from custval import load_dataset
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> efa = custval.EFA(3, method="minres", rotation="oblimin").fit(hs.loc[:, "x1":"x9"])
    >>> print(efa.loadings_.round(2))
         MR1   MR3   MR2
    x1  0.20  0.59  0.03
    x2  0.04  0.51 -0.12
    x3 -0.06  0.69  0.02
    x4  0.85  0.02  0.01
    x5  0.89 -0.06  0.01
    x6  0.81  0.08 -0.01
    x7  0.04 -0.15  0.74
    x8 -0.03  0.13  0.69
    x9  0.03  0.38  0.46

    # In R: psych::fa(hs[, paste0("x", 1:9)], nfactors = 3, fm = "minres", rotate = "oblimin")

    lavaan's EFA tutorial (geomin, epsilon .001, 30 random starts):

    >>> lav = custval.EFA(3, method="ml", rotation="geomin", rotation_kwargs={"epsilon": 0.001},
    ...                   n_starts=30, seed=1, convention="lavaan").fit(hs.loc[:, "x1":"x9"])
    >>> print(lav.loadings_.round(3))
          f1     f2     f3
    x1  0.611  0.170  0.012
    x2  0.534  0.033 -0.141
    x3  0.705 -0.094  0.002
    x4  0.009  0.844  0.004
    x5 -0.083  0.895  0.009
    x6  0.069  0.810 -0.015
    x7 -0.255  0.010  0.775
    x8  0.011 -0.074  0.744
    x9  0.312 -0.002  0.481
    >>> print(lav.fit_[["chisq", "df", "cfi", "rmsea", "aic"]].round(3).to_dict())
    {'chisq': 22.897, 'df': 12.0, 'cfi': 0.988, 'rmsea': 0.055, 'aic': 7479.081}

    # In R: lavaan::efa(data = HolzingerSwineford1939[, 7:15], nfactors = 3)
    """

    def __init__(
        self,
        n_factors: int,
        *,
        method: str = "minres",
        rotation: str | None = "oblimin",
        cor: str = "pearson",
        nan_policy: str = "pairwise",
        seed: int = 0,
        n_starts: int = 1,
        rotation_kwargs: dict | None = None,
        convention: str = "psych",
    ):
        self.n_factors = n_factors
        self.method = method
        self.rotation = rotation
        self.cor = cor
        self.nan_policy = nan_policy
        self.seed = seed
        self.n_starts = n_starts
        self.rotation_kwargs = rotation_kwargs
        self.convention = convention

    # ------------------------------------------------------------------ fitting
    def _validate(self):
        if self.method not in fx.METHODS:
            raise SpecificationError(f"method must be one of {fx.METHODS}; got {self.method!r}")
        if self.rotation is not None and self.rotation not in rot.ROTATIONS:
            raise SpecificationError(
                f"rotation must be one of {rot.ROTATIONS} or None; got {self.rotation!r}"
            )
        if self.nan_policy not in NAN_POLICIES:
            raise SpecificationError(f"nan_policy must be one of {NAN_POLICIES}; got {self.nan_policy!r}")
        if not isinstance(self.n_factors, (int, np.integer)) or self.n_factors < 1:
            raise SpecificationError(f"n_factors must be a positive integer; got {self.n_factors!r}")
        if not isinstance(self.n_starts, (int, np.integer)) or self.n_starts < 1:
            raise SpecificationError(f"n_starts must be a positive integer; got {self.n_starts!r}")
        if self.convention not in CONVENTIONS:
            raise SpecificationError(f"convention must be one of {CONVENTIONS}; got {self.convention!r}")
        if self.convention == "lavaan":
            if self.method != "ml":
                raise SpecificationError(
                    f"convention='lavaan' reproduces lavaan::efa(), which estimates by maximum likelihood: "
                    f"use method='ml' (got method={self.method!r})"
                )
            if self.cor != "pearson":
                raise SpecificationError("convention='lavaan' analyses the covariance matrix: use cor='pearson'")
            if self.rotation in ("promax", "varimax"):
                raise SpecificationError(
                    f"convention='lavaan' supports the gradient-projection rotations {rot.GPA_ROTATIONS} "
                    "(orthogonal ones with rotation_kwargs={'orthogonal': True}) or None; "
                    f"use convention='psych' for rotation={self.rotation!r}"
                )

    def _rotation_options(self, names) -> dict:
        """``rotation_kwargs`` checked and translated to :func:`custval._stats.rotation.criterion`'s names."""
        kw = dict(self.rotation_kwargs or {})
        rot_name = self.rotation
        allowed = _ROTATION_KEYS.get(rot_name, ()) + (("orthogonal",) if rot_name in rot.GPA_ROTATIONS else ())
        bad = sorted(set(kw) - set(allowed))
        if bad or (kw and rot_name is None):
            raise SpecificationError(
                f"rotation_kwargs {bad or sorted(kw)} not understood for rotation={rot_name!r}; "
                f"allowed: {list(allowed) or 'none'}"
            )
        out: dict = {}
        if rot_name in ("geomin", "bigeomin"):
            if "epsilon" in kw and "delta" in kw:
                raise SpecificationError("give geomin's epsilon once: 'epsilon' or its alias 'delta', not both")
            eps = kw.get("epsilon", kw.get("delta", 0.001 if self.convention == "lavaan" else 0.01))
            if not isinstance(eps, (int, float, np.floating)) or not np.isfinite(eps) or eps <= 0:
                raise SpecificationError(f"geomin's epsilon must be a positive number; got {eps!r}")
            out["delta"] = float(eps)
        if rot_name == "oblimin" and "gamma" in kw:
            g = kw["gamma"]
            if not isinstance(g, (int, float, np.floating)) or not np.isfinite(g):
                raise SpecificationError(f"oblimin's gamma must be a finite number; got {g!r}")
            out["gamma"] = float(g)
        if rot_name == "target":
            if "target" not in kw:
                raise SpecificationError(
                    "rotation='target' needs rotation_kwargs={'target': T}: items x factors, "
                    "NaN where the loading is left unspecified"
                )
            out["target"], self._target_columns = _target_matrix(kw["target"], names, int(self.n_factors))
        if "orthogonal" in kw:
            if not isinstance(kw["orthogonal"], (bool, np.bool_)):
                raise SpecificationError(f"rotation_kwargs['orthogonal'] must be True or False; got {kw['orthogonal']!r}")
            out["orthogonal"] = bool(kw["orthogonal"])
        return out

    def fit(self, data, y=None) -> EFA:
        """Fit the factor model to ``data``.

        Parameters
        ----------
        data : DataFrame
            Respondents × items.
        y : None
            Ignored (scikit-learn's estimator signature).

        Returns
        -------
        EFA
            ``self``, with the fitted attributes set.

        See Also
        --------
        custval.dimensionality.parallel_analysis : How many factors to extract.
        custval.efa.EFA.summary : The fitted model as text.
        """
        self._validate()
        ci = correlation_input(data, nan_policy=self.nan_policy, cor=self.cor)
        names = list(ci.names)
        p = len(names)
        nf = int(self.n_factors)
        if nf >= p:
            raise SpecificationError(f"n_factors = {nf} but only {p} items: use fewer factors than items")
        self._target_columns = None
        self._rot_opts = self._rotation_options(names)
        if self.convention == "lavaan":
            return self._fit_lavaan(ci, names)
        r = ci.r
        w, v = fx._eigh_desc(r)
        if abs(w[-1]) <= 1e-12 * w[0]:
            raise SingularMatrixError(
                f"EFA: the correlation matrix is singular (smallest eigenvalue {w[-1]:.3g}); items in the "
                f"linear dependency: {fx._involved(v[:, -1], names)}. Drop one of them."
            )
        if w[-1] < 0:
            if self.method == "ml":
                raise NotPositiveDefiniteError(
                    f"EFA(method='ml'): the {self.nan_policy} correlation matrix is not positive definite "
                    f"(smallest eigenvalue {w[-1]:.3g}; items most involved: {fx._involved(v[:, -1], names)}); "
                    "use nan_policy='listwise' or method='minres'"
                )
            warnings.warn(
                f"EFA: the {self.nan_policy} correlation matrix is not positive definite (smallest eigenvalue "
                f"{w[-1]:.3g}; items most involved: {fx._involved(v[:, -1], names)}); fit statistics use "
                "psych's cor.smooth of it",
                NotPositiveDefiniteWarning,
                stacklevel=2,
            )
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # small matrices: BLAS threads only add overhead
            ex = fx.extract(r, nf, self.method)
        if not ex.converged:
            steps = f" ({ex.fallback})" if ex.fallback else ""
            warnings.warn(
                f"EFA(method={self.method!r}) did not converge: {ex.message}{steps}", ConvergenceWarning,
                stacklevel=2,
            )
        L0 = ex.loadings
        if nf == 1:
            L, phi, rot_conv = L0, None, True
        else:
            L, phi, rot_conv = self._rotate(L0)
        if not rot_conv:
            warnings.warn(
                f"{self.rotation} rotation did not converge in 1000 iterations", ConvergenceWarning, stacklevel=2
            )
        # psych: flip signs so that column sums are positive, then order by variance accounted for
        # (not for a target rotation, whose signs and columns are the target's, nor for a bifactor
        # rotation, whose first column is the general factor)
        signs = np.sign(L.sum(axis=0))
        signs[signs == 0] = 1
        if self.rotation == "target" and nf > 1:  # a column with a non-zero target keeps its sign
            t = self._rot_opts["target"]
            signs[np.any(np.nan_to_num(t) != 0, axis=0)] = 1
        L = L * signs
        if phi is not None:
            phi = phi * np.outer(signs, signs)
        labels = np.array([f"{_PREFIX[self.method]}{k + 1}" for k in range(nf)])
        if self._target_columns is not None and nf > 1:
            labels = np.array(self._target_columns, dtype=object)
        if nf > 1 and self.rotation not in rot.FIXED_COLUMNS:
            ev = np.sum(L**2, axis=0) if phi is None else np.diag(phi @ L.T @ L)
            order = np.argsort(-ev, kind="stable")
            L = L[:, order]
            labels = labels[order]
            if phi is not None:
                phi = phi[np.ix_(order, order)]
        model = L0 @ L0.T
        communality = np.diag(model)
        uniq = np.diag(r - model)
        # Heywood: the optimiser's uniqueness sits at psych's lower bound (.005), or an
        # ultra-Heywood communality > 1 (psych warns only for the latter)
        at_bound = (ex.psi <= 0.005 + 1e-8) if self.method != "pa" else np.zeros(p, bool)
        heywood = [names[i] for i in np.flatnonzero(at_bound | (communality >= 1.0))]
        if heywood:
            warnings.warn(
                "Heywood case: uniqueness at the .005 bound or communality >= 1 for "
                + ", ".join(f"{n} (h2 = {communality[names.index(n)]:.3f})" for n in heywood)
                + "; the solution is improper: try fewer factors or drop the item(s)",
                HeywoodWarning,
                stacklevel=2,
            )
        phi_full = np.eye(nf) if phi is None else phi
        cols = list(labels)
        self.loadings_ = pd.DataFrame(L, index=names, columns=cols)
        self.structure_ = pd.DataFrame(L @ phi_full, index=names, columns=cols)
        self.phi_ = pd.DataFrame(phi_full, index=cols, columns=cols)
        self.communalities_ = pd.Series(communality, index=names, name="communality")
        self.uniquenesses_ = pd.Series(uniq, index=names, name="uniqueness")
        vx = np.sum(L**2, axis=0) if phi is None else np.diag(phi @ L.T @ L)
        vtotal = np.sum(communality + uniq)
        var = {"SS loadings": vx, "Proportion Var": vx / vtotal}
        if nf > 1:
            var["Cumulative Var"] = np.cumsum(vx / vtotal)
            var["Proportion Explained"] = vx / vx.sum()
            var["Cumulative Proportion"] = np.cumsum(vx / vx.sum())
        self.variance_ = pd.DataFrame(var, index=cols).T
        st = fx.fa_stats(r, L, phi, ci.n_obs, ci.np_obs)
        self.fit_ = pd.Series(
            {
                "rmsr": st["rms"], "crms": st["crms"], "chisq": st["chisq"], "df": st["dof"],
                "p_value": st["p_value"], "tli": st["tli"], "rmsea": st["rmsea"],
                "rmsea_low": st["rmsea_low"], "rmsea_high": st["rmsea_high"], "bic": st["bic"],
                "sabic": st["sabic"], "objective": st["objective"], "echisq": st["echisq"],
                "ebic": st["ebic"], "null_chisq": st["null_chisq"], "null_df": st["null_dof"],
                "fit": st["fit"], "fit_off": st["fit_off"], "n": ci.n_obs,
            },
            name="fit",
        )
        self.eigenvalues_ = pd.Series(ex.e_values, index=range(1, p + 1), name="eigenvalue")
        self.common_eigenvalues_ = pd.Series(ex.values, index=range(1, p + 1), name="common_eigenvalue")
        self.correlation_ = pd.DataFrame(r, index=names, columns=names)
        self.n_obs_ = ci.n_obs
        self.n_excluded_ = ci.n_excluded
        self.n_iter_ = ex.n_iter
        self.optimizer_fallback_ = ex.fallback
        self.converged_ = bool(ex.converged and rot_conv)
        self.unrotated_loadings_ = pd.DataFrame(
            L0, index=names, columns=[f"{_PREFIX[self.method]}{k + 1}" for k in range(nf)]
        )
        rot_r = "none" if self.rotation is None else self.rotation
        cor_r = "" if self.cor == "pearson" else ', cor = "poly"'
        self.r_call_ = f'psych::fa(x, nfactors = {nf}, fm = "{self.method}", rotate = "{rot_r}"{cor_r})'
        return self

    def _rotate(self, L0):
        opts = dict(self._rot_opts)
        self.start_ = 0
        if self.rotation in rot.GPA_ROTATIONS:
            orthogonal = opts.pop("orthogonal", False)
            vgq = rot.criterion(self.rotation, **opts)
            L, phi, conv, f, best, _fs = _efa_lavaan.rotate_best(
                L0, vgq, orthogonal=orthogonal, n_starts=int(self.n_starts), seed=self.seed, lavaan=False
            )
            self.criterion_, self.start_ = f, best
            return L, phi, conv
        L, phi, _, conv = rot.rotate(L0, self.rotation)
        return L, phi, conv

    def _fit_lavaan(self, ci, names) -> EFA:
        """``lavaan::efa()`` (lavaan 0.6-14): see :mod:`custval._stats.efa_lavaan`."""
        nf = int(self.n_factors)
        p = len(names)
        incomplete = int(np.isnan(np.asarray(ci.x, float)).any(axis=1).sum())
        if incomplete and self.nan_policy == "pairwise":
            raise SpecificationError(
                f"convention='lavaan': {incomplete} row(s) have missing item values; lavaan::efa() "
                "drops incomplete rows (missing = 'listwise'): use nan_policy='listwise' (or 'raise')"
            )
        npar = p * nf + p - nf * (nf - 1) // 2
        pstar = p * (p + 1) // 2
        if npar > pstar:
            raise SpecificationError(
                f"n_factors = {nf} with {p} items has {npar} free parameters but the covariance matrix "
                f"has only {pstar} distinct elements: lavaan::efa() refuses it; use fewer factors"
            )
        x = np.asarray(ci.x, float)
        x = x[~np.isnan(x).any(axis=1)]
        n = x.shape[0]
        s_cov = np.cov(x, rowvar=False, ddof=0)
        r = ci.r
        w, v = fx._eigh_desc(r)
        if w[-1] <= 1e-12 * w[0]:
            raise SingularMatrixError(
                f"EFA: the correlation matrix is singular (smallest eigenvalue {w[-1]:.3g}); items in the "
                f"linear dependency: {fx._involved(v[:, -1], names)}. Drop one of them."
            )
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            A, psi, ok, ex = _efa_lavaan.ml_exact(r, nf)
        if not ok:
            warnings.warn(
                "EFA(convention='lavaan'): the ML extraction did not reach a point with projected gradient "
                "<= 1e-6", ConvergenceWarning, stacklevel=3,
            )
        at_bound = psi <= fx.LOWER + 1e-8
        if at_bound.any():
            warnings.warn(
                "Heywood case: uniqueness at the .005 bound for "
                + ", ".join(names[i] for i in np.flatnonzero(at_bound))
                + " (lavaan's bounds = 'pos.var' allows smaller ones, so its solution differs); "
                "the solution is improper: try fewer factors or drop the item(s)",
                HeywoodWarning, stacklevel=3,
            )
        ov_c = np.sum(A**2, axis=1) + psi  # lavaan's std.ov: diag(Lambda Lambda' + Theta)
        a_std = A / np.sqrt(ov_c)[:, None]
        opts = dict(self._rot_opts)
        orthogonal = bool(opts.pop("orthogonal", False)) or self.rotation is None or nf == 1
        self.start_, self.criterion_, self.start_criteria_ = 0, np.nan, None
        conv = True
        if nf > 1 and self.rotation is not None:
            vgq = rot.criterion(self.rotation, **opts)
            L, phi, conv, f, best, fs = _efa_lavaan.rotate_best(
                a_std, vgq, orthogonal=orthogonal, n_starts=int(self.n_starts), seed=self.seed, lavaan=True
            )
            self.criterion_, self.start_, self.start_criteria_ = f, best, fs
            if not conv:
                warnings.warn(f"{self.rotation} rotation did not converge", ConvergenceWarning, stacklevel=3)
            L, phi, _order, _signs = _efa_lavaan.reflect_order(L, phi)
        else:
            vgq = None
            L, phi = a_std, None
            if nf > 1:
                L, _ph, _order, _signs = _efa_lavaan.reflect_order(L, None)
        phi_full = np.eye(nf) if phi is None else phi
        # covariance metric (lavaan's est) and the bordered standard errors
        d = np.sqrt(np.diag(s_cov))
        sd_model = d * np.sqrt(ov_c)
        lam = L * sd_model[:, None]
        theta = d**2 * psi
        phi_lower = [] if orthogonal else [phi_full[i, j] for i, j in _efa_lavaan._phi_index(nf)]
        xr = np.concatenate([lam.ravel(), theta, phi_lower])
        se = se_std = None
        if vgq is not None:
            with threadpool_limits(limits=1):
                vc = _efa_lavaan.bordered_vcov(xr, p, nf, orthogonal, vgq, n)
                vc_std = _efa_lavaan.bordered_vcov(xr, p, nf, orthogonal, vgq, n, lavaan=False)
                jac = _efa_lavaan.standardized_jacobian(xr, p, nf, orthogonal)
        else:  # one factor or no rotation: the plain inverse information (the model is identified)
            if nf > 1:
                raise SpecificationError(
                    "convention='lavaan' with rotation=None is not identified beyond one factor; "
                    "choose a rotation"
                )
            info = _efa_lavaan.expected_information(xr, p, nf, True)
            vc = vc_std = np.linalg.inv(info) / n
            jac = _efa_lavaan.standardized_jacobian(xr, p, nf, True)
        se = np.sqrt(np.clip(np.diag(vc), 0, None))
        se_std = np.sqrt(np.clip(np.diag(jac @ vc_std @ jac.T), 0, None))
        est_std = _efa_lavaan.standardized(xr, p, nf, orthogonal)
        cols = [f"f{k + 1}" for k in range(nf)]
        rows = []
        for j in range(nf):
            for i in range(p):
                rows.append((cols[j], "=~", names[i], i * nf + j))
        for i in range(p):
            rows.append((names[i], "~~", names[i], p * nf + i))
        for j in range(nf):
            rows.append((cols[j], "~~", cols[j], None))
        for k, (i, j) in enumerate(_efa_lavaan._phi_index(nf)):
            rows.append((cols[j], "~~", cols[i], "zero" if orthogonal else p * nf + p + k))
        z975 = stats.norm.ppf(0.975)
        recs = []
        for lhs, op, rhs, idx in rows:
            if idx is None or idx == "zero":  # fixed: factor variances 1, orthogonal covariances 0
                v = 1.0 if idx is None else 0.0
                recs.append((lhs, op, rhs, v, 0.0, np.nan, np.nan, v, v, v, 0.0))
                continue
            e, sv, es, ss = xr[idx], se[idx], est_std[idx], se_std[idx]
            zv = e / sv if sv > 0 else np.nan
            pv = 2 * stats.norm.sf(abs(zv)) if sv > 0 else np.nan
            recs.append((lhs, op, rhs, e, sv, zv, pv, e - z975 * sv, e + z975 * sv, es, ss))
        self.params_ = pd.DataFrame(
            recs, columns=["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                           "std.all", "se.std"],
        )
        sigma = lam @ phi_full @ lam.T + np.diag(theta)
        self.fit_ = pd.Series(_efa_lavaan.fit_measures(s_cov, sigma, n, npar), name="fit")
        self.loadings_ = pd.DataFrame(L, index=names, columns=cols)
        self.loadings_se_ = pd.DataFrame(se_std[: p * nf].reshape(p, nf), index=names, columns=cols)
        self.structure_ = pd.DataFrame(L @ phi_full, index=names, columns=cols)
        self.phi_ = pd.DataFrame(phi_full, index=cols, columns=cols)
        h2 = np.diag(L @ phi_full @ L.T)
        self.communalities_ = pd.Series(h2, index=names, name="communality")
        self.uniquenesses_ = pd.Series(est_std[p * nf : p * nf + p], index=names, name="uniqueness")
        vx = np.diag(phi_full @ L.T @ L)
        var = {"SS loadings": vx, "Proportion Var": vx / p}
        if nf > 1:
            var["Cumulative Var"] = np.cumsum(vx / p)
            var["Proportion Explained"] = vx / vx.sum()
            var["Cumulative Proportion"] = np.cumsum(vx / vx.sum())
        self.variance_ = pd.DataFrame(var, index=cols).T
        self.eigenvalues_ = pd.Series(ex.e_values, index=range(1, p + 1), name="eigenvalue")
        s3 = r.copy()
        s3[np.diag_indices(p)] = np.sum(A**2, axis=1)
        self.common_eigenvalues_ = pd.Series(np.linalg.eigvalsh(s3)[::-1], index=range(1, p + 1),
                                             name="common_eigenvalue")
        self.correlation_ = pd.DataFrame(r, index=names, columns=names)
        self.n_obs_ = n
        self.n_excluded_ = ci.n_excluded
        self.n_iter_ = ex.n_iter
        self.optimizer_fallback_ = None
        self.converged_ = bool(ok and conv)
        self.unrotated_loadings_ = pd.DataFrame(A, index=names, columns=cols)
        rot_r = "none" if self.rotation is None else self.rotation
        args = []
        if "delta" in self._rot_opts and self._rot_opts["delta"] != 0.001:
            args.append(f"geomin.epsilon = {self._rot_opts['delta']:g}")
        if self._rot_opts.get("orthogonal"):
            args.append("orthogonal = TRUE")
        if "target" in self._rot_opts:
            args.append("target = T")
        if "gamma" in self._rot_opts:
            args.append(f"oblimin.gamma = {self._rot_opts['gamma']:g}")
        ra = f", rotation.args = list({', '.join(args)})" if args else ""
        self.r_call_ = f'lavaan::efa(data = x, nfactors = {nf}, rotation = "{rot_r}"{ra})'
        return self

    # ------------------------------------------------------------------ display
    def _check_fitted(self):
        if not hasattr(self, "loadings_"):
            raise SpecificationError("this EFA is not fitted yet: call .fit(data) first")

    def _display_loadings(self, cut: float = 0.3, digits: int = 2) -> pd.DataFrame:
        tab = self.loadings_.round(digits).astype(object)
        tab = tab.where(self.loadings_.abs() >= cut, "")
        tab["h2"] = self.communalities_.round(digits)
        tab["u2"] = self.uniquenesses_.round(digits)
        return tab

    def summary(self, *, cut: float = 0.3, digits: int = 2) -> str:
        """Pattern loadings, variance accounted for and fit, as text.

        Parameters
        ----------
        cut : float
            Loadings with an absolute value below ``cut`` are blanked, for display only.
        digits : int
            Decimals shown.

        Returns
        -------
        str
            The printed summary (``print(fit.summary())``), like ``print(psych::fa(...))``.

        See Also
        --------
        custval.efa.EFA.fit : Fit the model first.
        """
        self._check_fitted()
        f = self.fit_
        lines = [
            f"Exploratory factor analysis: {self.n_factors} factor(s), method = {self.method}, "
            f"rotation = {self.rotation}, n = {self.n_obs_}",
            self._display_loadings(cut, digits).to_string(),
            "",
            self.variance_.round(digits).to_string(),
        ]
        if self.phi_ is not None and self.rotation in rot.OBLIQUE and self.n_factors > 1:
            lines += ["", "Factor correlations (phi):", self.phi_.round(digits).to_string()]
        if getattr(self, "convention", "psych") == "lavaan":
            lines += [
                "",
                f"chi-square({f['df']:.0f}) = {f['chisq']:.3f}, p = {f['pvalue']:.3g}; CFI = {f['cfi']:.3f}; "
                f"TLI = {f['tli']:.3f}; RMSEA = {f['rmsea']:.3f} [{f['rmsea.ci.lower']:.3f}, "
                f"{f['rmsea.ci.upper']:.3f}]; SRMR = {f['srmr']:.3f}; AIC = {f['aic']:.3f}; BIC = {f['bic']:.3f}",
                "Standard errors of the standardised loadings:",
                self.loadings_se_.round(digits + 1).to_string(),
                f"Loadings below {cut} blanked for display only. In R: {self.r_call_}",
            ]
            return "\n".join(lines)
        lines += [
            "",
            f"RMSR = {f['rmsr']:.3f}; chi-square({f['df']:.0f}) = {f['chisq']:.2f}, p = {f['p_value']:.3g}; "
            f"TLI = {f['tli']:.3f}; RMSEA = {f['rmsea']:.3f} [{f['rmsea_low']:.3f}, {f['rmsea_high']:.3f}]; "
            f"BIC = {f['bic']:.2f}",
            f"Loadings below {cut} blanked for display only. In R: {self.r_call_}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "loadings_") else "not fitted"
        return f"EFA(n_factors={self.n_factors}, method={self.method!r}, rotation={self.rotation!r}, {state})"

    def _repr_html_(self) -> str:
        if not hasattr(self, "loadings_"):
            return html.escape(repr(self))
        f = self.fit_
        body = self._display_loadings().to_html(na_rep="")
        var = self.variance_.to_html(float_format=lambda x: f"{x:.2f}")
        first = f"RMSR = {f['rmsr']:.3f}" if "rmsr" in f.index else f"CFI = {f['cfi']:.3f}; SRMR = {f['srmr']:.3f}"
        note = (
            f"{first}; TLI = {f['tli']:.3f}; RMSEA = {f['rmsea']:.3f}; BIC = {f['bic']:.2f}. "
            f"Loadings below .30 blanked for display only. In R: {self.r_call_}"
        )
        title = html.escape(
            f"EFA: {self.n_factors} factor(s), {self.method}, rotation = {self.rotation}, n = {self.n_obs_}"
        )
        return f"<div><strong>{title}</strong>{body}{var}<br><small>{html.escape(note)}</small></div>"
