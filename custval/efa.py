"""Exploratory factor analysis with psych's numbers: ``EFA(n_factors, ...).fit(data)``.

``EFA`` reproduces ``psych::fa`` (psych 2.2.9, GPArotation 2022.10-2): the same
extraction (minres, ML, principal axis, with SMC starting values and R's
L-BFGS-B optimiser), the same rotations (GPArotation's gradient projection
for oblimin/quartimin/geomin, ``stats::varimax``, psych's Kaiser-normalised
Promax), the same sign and order normalisation and the same fit statistics.
``tests/test_efa.py`` checks every method × rotation pair against
``tests/r/dimensionality.R``.
"""

from __future__ import annotations

import html
import warnings

import numpy as np
import pandas as pd

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

_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA"}
NAN_POLICIES = ("pairwise", "listwise", "raise")


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
    default), ``"quartimin"``, ``"geomin"`` (delta = .01) by gradient projection
    from the identity (Bernaards & Jennrich, 2005), ``"promax"`` (m = 4, Kaiser
    normalised) or ``"varimax"``.  Columns are flipped so their sums are
    positive and ordered by the variance they account for,
    :math:`\operatorname{diag}(\Phi\Lambda'\Lambda)`, as psych does.

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
        others random orthogonal matrices; the start with the lowest criterion wins.

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
    Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms and
    software for arbitrary rotation criteria in factor analysis. *Educational and
    Psychological Measurement, 65*(5), 676–696.
    Harman, H. H. (1976). *Modern factor analysis* (3rd ed.). University of Chicago Press.
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
    ):
        self.n_factors = n_factors
        self.method = method
        self.rotation = rotation
        self.cor = cor
        self.nan_policy = nan_policy
        self.seed = seed
        self.n_starts = n_starts

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
        signs = np.sign(L.sum(axis=0))
        signs[signs == 0] = 1
        L = L * signs
        if phi is not None:
            phi = phi * np.outer(signs, signs)
        labels = np.array([f"{_PREFIX[self.method]}{k + 1}" for k in range(nf)])
        if nf > 1:
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
        if self.rotation in ("oblimin", "quartimin", "geomin"):
            best = rot.gpf_oblique(L0, self.rotation)
            if self.n_starts > 1:
                crit = rot._CRITERIA[self.rotation]
                best_f = crit(best[0])[1]
                rng = np.random.default_rng(self.seed)
                k = L0.shape[1]
                for _ in range(self.n_starts - 1):
                    q, _r = np.linalg.qr(rng.standard_normal((k, k)))
                    cand = rot.gpf_oblique(L0, self.rotation, tmat=q)
                    f = crit(cand[0])[1]
                    if cand[3] and f < best_f - 1e-12:
                        best, best_f = cand, f
            L, phi, _, conv = best
            return L, phi, conv
        L, phi, _, conv = rot.rotate(L0, self.rotation)
        return L, phi, conv

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
        note = (
            f"RMSR = {f['rmsr']:.3f}; TLI = {f['tli']:.3f}; RMSEA = {f['rmsea']:.3f}; BIC = {f['bic']:.2f}. "
            f"Loadings below .30 blanked for display only. In R: {self.r_call_}"
        )
        title = html.escape(
            f"EFA: {self.n_factors} factor(s), {self.method}, rotation = {self.rotation}, n = {self.n_obs_}"
        )
        return f"<div><strong>{title}</strong>{body}{var}<br><small>{html.escape(note)}</small></div>"
