"""Categorical-indicator CFA by (diagonally) weighted least squares, as lavaan (private).

The model of the latent responses ``y*`` (delta parameterization, lavaan's default for
``ordered =``): ``Sigma* = Lambda Psi Lambda' + Theta`` with unit diagonal (the residual
variances are ``1 - diag(Lambda Psi Lambda')``, not free), thresholds ``tau`` free (one per
cut between observed categories).  The fitted statistics are ``s = (thresholds,
polychoric correlations below the diagonal)`` and their asymptotic covariance ``Gamma``
(:mod:`custval._sem.ordinal`).

* ``F = (s - sigma)' W (s - sigma)`` with ``W = diag(Gamma)^-1`` (DWLS; ``WLSMV``) or
  ``I`` (ULS; ``ULSMV``), minimised by Gauss-Newton; ``chisq = N F``.
* ``se = "robust.sem"``: ``V = A^-1 (Delta' W Gamma W Delta) A^-1 / N``, ``A = Delta' W
  Delta`` (expected information).
* ``test = "scaled.shifted"`` (Asparouhov & Muthén, 2010): ``U = W - W Delta A^-1
  Delta' W``, ``a = sqrt(df / tr((U Gamma)^2))``, ``chisq.scaled = a chisq + df - a tr(U
  Gamma)``, ``chisq.scaling.factor = 1 / a``; the baseline model has free thresholds and
  zero correlations.
* Continuous items mixed in (lavaan's numeric ``ov.types``): ``s`` also has minus their
  means (in the threshold block) and their variances, the correlations become covariances
  ``r_ij sd_i sd_j``; their intercepts and residual variances are free and their scale
  factors 1 (theta too).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ConvergenceWarning, HeywoodWarning, IdentificationError, SpecificationError
from . import fit_measures as fm
from .model import SemModel, start_values
from .ordinal import OrdinalStats, offdiag_index
from .standardize import standardize

ORDINAL_ESTIMATORS = ("WLSMV", "DWLS", "ULSMV", "ULS")



def gauss_newton(objective, normal_equations, x: np.ndarray, *, max_iter: int = 500,
                 tol: float = 1e-12) -> tuple[np.ndarray, bool, int]:
    """Gauss-Newton with step halving for a fixed-weight least-squares fit (DWLS, ULS; one or
    several groups): ``normal_equations(x)`` gives ``(J' W J, J' W e)``.  Returns the estimate,
    whether it converged and the iterations used."""
    f = objective(x)
    for it in range(1, max_iter + 1):
        a, g = normal_equations(x)
        try:
            step = np.linalg.solve(a + 1e-12 * np.eye(len(a)) * np.trace(a) / len(a), g)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - caught by the identification check
            raise IdentificationError("the DWLS information matrix is singular: the model is not identified") from exc
        t = 1.0
        while True:
            xn = x + t * step
            fn = objective(xn)
            if fn <= f + 1e-15 * max(1.0, f) or t < 1e-8:
                break
            t /= 2
        x, f_old, f = xn, f, fn
        if np.max(np.abs(t * step)) < tol * max(1.0, np.max(np.abs(x))) or (
                abs(f_old - f) < 1e-15 * max(f, 1e-300) and np.max(np.abs(t * step)) < 1e-9):
            return x, True, it
    return x, False, max_iter

class OrdinalProblem:
    """DWLS / ULS fit of a delta-parameterized factor model to one group's ordinal statistics."""

    def __init__(self, model: SemModel, st: OrdinalStats, estimator: str, parameterization: str = "delta"):
        self.model = model
        self.st = st
        self.estimator = estimator
        self.theta = parameterization == "theta"
        # the item of every threshold
        self.th_item = np.concatenate([np.full(len(t), i) for i, t in enumerate(st.th)]).astype(int)
        self.p = len(st.names)
        self.ii, self.jj = offdiag_index(self.p)
        self.nth = len(st.th_flat)
        # continuous items among ordered ones (lavaan's numeric ov.types): their "threshold" is
        # minus their mean (the parameter is the intercept), their variances are fitted too, and
        # their scale factor is 1 in both parameterizations
        self.num = st.num_mask
        self.ordm = (~self.num).astype(float)
        self.th_sign = np.where(self.num[self.th_item], -1.0, 1.0)
        self.num_idx = np.flatnonzero(self.num)
        self.nvar = len(self.num_idx)
        self.ns = model.nx  # structural parameters (after constraints)
        self.npar = self.ns + self.nth
        self.s = st.wls_obs
        if estimator in ("ULSMV", "ULS"):
            self.w = np.ones(len(self.s))
        else:
            self.w = 1.0 / np.diag(st.gamma)
        self.n = st.n

    def implied(self, x: np.ndarray) -> np.ndarray:
        """(standardized thresholds, correlations) implied by ``x = (structural, thresholds)``.

        Delta: Sigma* has unit diagonal by construction (only its off-diagonal is used).
        Theta: Sigma* = Lambda Psi Lambda' + Theta with unit residual variances, rescaled by
        the scale factors ``Delta = diag(Sigma*)^-1/2``: thresholds ``tau Delta``,
        correlations ``Delta Sigma* Delta``.
        """
        sigma = self.model.implied(x[: self.ns])[0][0]
        tau = x[self.ns:]
        var = np.diag(sigma)[self.num_idx]
        if not self.theta:
            return np.concatenate([self.th_sign * tau, var, sigma[self.ii, self.jj]])
        d = self._scale_of(sigma)
        return np.concatenate([self.th_sign * tau * d[self.th_item], var,
                               sigma[self.ii, self.jj] * d[self.ii] * d[self.jj]])

    def _scale_of(self, sigma: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):  # a line-search step may leave the region
            d = 1.0 / np.sqrt(np.diag(sigma))
        return np.where(self.num, 1.0, d)

    def scales(self, x: np.ndarray) -> np.ndarray:
        """lavaan's scale factors (``~*~``): 1 (delta) or diag(Sigma*)^-1/2 (theta); 1 for a
        continuous item."""
        if not self.theta:
            return np.ones(self.p)
        return self._scale_of(self.model.implied(x[: self.ns])[0][0])

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        ds = self.model.delta(x[: self.ns])[0][0]  # ns x p x p
        d = np.zeros((len(self.s), self.npar))
        nth, nv = self.nth, self.nth + self.nvar
        dd = np.einsum("kii->ki", ds)  # ns x p: d sigma_ii
        d[nth:nv, : self.ns] = dd[:, self.num_idx].T
        if not self.theta:
            d[: nth, self.ns:] = np.diag(self.th_sign)
            d[nv:, : self.ns] = ds[:, self.ii, self.jj].T
            return d
        sigma = self.model.implied(x[: self.ns])[0][0]
        sv = np.diag(sigma)
        sc = self._scale_of(sigma)
        tau = x[self.ns:]
        ddo = dd * self.ordm[None, :]  # the scale factors of continuous items are constant
        ti = self.th_item
        d[: nth, self.ns:] = np.diag(self.th_sign * sc[ti])
        d[: nth, : self.ns] = (-0.5 * self.th_sign * tau * sc[ti] ** 3)[:, None] * ddo[:, ti].T
        ii, jj = self.ii, self.jj
        rho = sigma[ii, jj] * sc[ii] * sc[jj]
        d[nv:, : self.ns] = (ds[:, ii, jj] * (sc[ii] * sc[jj])[None, :]
                             - 0.5 * rho[None, :] * (ddo[:, ii] / sv[ii] + ddo[:, jj] / sv[jj])).T
        return d

    def objective(self, x: np.ndarray) -> float:
        e = self.s - self.implied(x)
        f = float(e @ (self.w * e))
        return f if np.isfinite(f) else np.inf

    def fit(self, x0: np.ndarray, max_iter: int = 500, tol: float = 1e-12) -> tuple[np.ndarray, bool, int]:
        """Gauss-Newton with step halving (the weight is fixed, so GN converges quadratically
        near a good fit)."""
        x = np.concatenate([x0, self.st.th_flat / self.scales(np.concatenate([x0, self.st.th_flat]))[self.th_item]])

        def normal_equations(x):
            d = self.jacobian(x)
            dw = d * self.w[:, None]
            return d.T @ dw, dw.T @ (self.s - self.implied(x))

        return gauss_newton(self.objective, normal_equations, x, max_iter=max_iter, tol=tol)

    def information(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self.jacobian(x)
        return d, d.T @ (d * self.w[:, None])


def _robust(prob: OrdinalProblem, x: np.ndarray):
    """Robust vcov, the test statistics' traces, the model's Delta."""
    d, a = prob.information(x)
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError as exc:
        raise IdentificationError("the information matrix is singular: the model is not identified") from exc
    gam = prob.st.gamma
    wd = d * prob.w[:, None]
    b = wd.T @ gam @ wd
    # lavaan scales the WLS fit function by (n - 1) / n (lav_model_objective), so its
    # information is (n - 1)/n A and the sandwich divides by n - 1
    if prob.estimator in ("WLSMV", "ULSMV"):
        vcov = a_inv @ b @ a_inv / (prob.n - 1)
    else:
        vcov = a_inv / (prob.n - 1)
    u = np.diag(prob.w) - wd @ a_inv @ wd.T
    ug = u @ gam
    return vcov, a, a_inv, float(np.trace(ug)), float(np.sum(ug * ug.T))


def _scaled_shifted(chisq, df, tr_ug, tr_ug2):
    if df <= 0:
        # a just-identified model: lavaan 0.6-14 reports the unscaled statistic as chisq.scaled
        # (its scaling factor NA), so the .scaled indices are those of a perfect fit, not NA
        return chisq, np.nan, np.nan
    if not tr_ug2 > 0:
        return np.nan, np.nan, np.nan
    a = np.sqrt(df / tr_ug2)
    shift = df - a * tr_ug
    return chisq * a + shift, 1.0 / a, shift


def struct_partable(pt: pd.DataFrame, observed: list[str], parameterization: str = "delta",
                    continuous: tuple = ()) -> pd.DataFrame:
    """The parameter table of the latent-response model: the ordered items' residual variances
    are not free (delta: 1 minus the explained variance; theta: fixed at 1); a continuous item's
    intercept row (``x ~ 1``) is fixed here (its intercept is in the threshold block); free
    numbers renumbered."""
    pt = pt.copy()
    cont_int = (pt["op"] == "~1") & pt["lhs"].isin(list(continuous))
    pt.loc[cont_int, ["free", "ustart"]] = [0, 0.0]
    resvar = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(observed)
    if (resvar & (pt["user"] == 1) & (pt["free"] > 0)).any():
        bad = pt.loc[resvar & (pt["user"] == 1), "lhs"].tolist()
        raise SpecificationError(
            f"the residual variances of ordered items ({', '.join(bad)}) are not free parameters in the "
            f"{parameterization} parameterization (delta: 1 minus the explained variance; theta: 1); "
            "remove those lines")
    pt.loc[resvar, "free"] = 0
    pt.loc[resvar, "ustart"] = 1.0 if parameterization == "theta" else 0.0
    old = pt["free"].to_numpy()
    mapping = {}
    for f in old:
        if f > 0 and f not in mapping:
            mapping[f] = len(mapping) + 1
    pt["free"] = [mapping.get(f, 0) for f in old]
    return pt


def remap_constraints(pt: pd.DataFrame, spt: pd.DataFrame, con_a: np.ndarray, nfree: int,
                      kind: str = "'=='") -> np.ndarray:
    """The rows ``A`` of linear ``==`` (``kind``: or ``<`` / ``>``) constraints over the free numbers of ``pt`` (the parsed
    table) renumbered as in ``spt`` (the latent-response table, one or several groups); a
    constraint on a parameter that is not free there (a residual variance or an intercept of an
    ordered item) is an error naming it."""
    old_free, new_free = pt["free"].to_numpy(), spt["free"].to_numpy()
    a_new = np.zeros((con_a.shape[0], nfree))
    for f_old in range(1, con_a.shape[1] + 1):
        col = con_a[:, f_old - 1]
        if not np.any(col):
            continue
        rows = np.flatnonzero(old_free == f_old)
        f_new = new_free[rows]
        if f_new.size == 0 or f_new[0] == 0:
            r = pt.iloc[rows[0]] if rows.size else None
            what = "" if r is None else f" ({r['lhs']} {r['op']} {r['rhs']})".replace(" )", ")")
            raise SpecificationError(
                f"an {kind} constraint involves a parameter{what} that is not free with ordered items (their "
                "residual variances are 1 minus the explained variance (delta) or 1 (theta), their intercepts "
                "0; a continuous item's intercept is estimated with the thresholds and cannot be constrained "
                "yet); constrain loadings, factor (co)variances or latent means instead")
        a_new[:, f_new[0] - 1] += col
    return a_new


def active_set_loop(xs, rest, con_a, ineq_g, ineq_h, gradient, refit) -> list[int]:
    """Linear inequality constraints ``G x >= h`` over the structural parameters ``xs`` by an
    active-set loop, as the ML fit (``custval.cfa.CFA._active_set``): the most violated constraint
    is imposed as an equality (by reparametrisation) and the model refitted; an active constraint
    with a negative Lagrange multiplier is released; until the KKT conditions hold.

    ``gradient(x_full)`` is the discrepancy's gradient of the unconstrained model (structural
    parameters first); ``refit(active, xs, rest)`` refits under ``==`` plus the active rows of
    ``G`` and returns the new ``(xs, rest)``.  Returns the active constraints."""
    active: list[int] = []
    for _ in range(4 * len(ineq_h) + 4):
        slack = ineq_g @ xs - ineq_h
        tol = 1e-9 * np.maximum(1.0, np.abs(ineq_h))
        viol = [k for k in range(len(slack)) if k not in active and slack[k] < -tol[k]]
        if viol:
            active.append(min(viol, key=lambda k: slack[k]))
        elif active:
            grad = gradient(np.concatenate([xs, rest]))
            lhs = np.vstack([con_a, ineq_g[active]]).T
            mu = np.linalg.lstsq(lhs, grad[: ineq_g.shape[1]], rcond=None)[0][con_a.shape[0]:]
            if mu.min() >= -1e-8:
                break
            active.pop(int(np.argmin(mu)))
        else:
            break
        xs, rest = refit(active, xs, rest)
    return sorted(active)


def _active_set(prob, x, converged, iters, con_a, con_b, ineq_g, ineq_h, max_iter):
    """:func:`active_set_loop` for one group; returns the problem of the final active set, its
    estimates, convergence, iterations and the active constraints."""
    model = prob.model
    free = copy.copy(model)
    free.set_constraints(np.zeros((0, model.nfree)), np.zeros(0))
    free_prob = OrdinalProblem(free, prob.st, prob.estimator, "theta" if prob.theta else "delta")
    state = {"prob": prob, "x": x, "converged": converged, "iters": iters}

    def gradient(xf):
        return -2 * free_prob.jacobian(xf).T @ (free_prob.w * (free_prob.s - free_prob.implied(xf)))

    def refit(active, xs, tau):
        model.set_constraints(np.vstack([con_a, ineq_g[active]]), np.concatenate([con_b, ineq_h[active]]))
        p = OrdinalProblem(model, prob.st, prob.estimator, "theta" if prob.theta else "delta")
        xx, conv, more = p.fit(model.reduce(xs), max_iter=max_iter)
        state.update(prob=p, x=xx, converged=conv, iters=state["iters"] + more)
        return model.full(xx[: p.ns]), xx[p.ns:]

    active = active_set_loop(model.full(x[: prob.ns]), x[prob.ns:], con_a, ineq_g, ineq_h, gradient, refit)
    return state["prob"], state["x"], state["converged"], state["iters"], active


def fit_ordinal(est, syntax: str, items: pd.DataFrame, st: OrdinalStats, estimator: str, extras, pt, observed,
                latent, std_lv: bool, max_iter: int, parameterization: str = "delta"):
    """Fit, standard errors, tables; sets the fitted attributes of ``est`` (a CFA)."""
    theta = parameterization == "theta"
    # the ordered items (with continuous ones mixed in, only their residual variances are not free)
    ordered = [v for v, nm in zip(st.names, st.num_mask) if not nm]
    spt = struct_partable(pt, ordered, parameterization, continuous=tuple(v for v in observed if v not in ordered))
    model = SemModel(spt, observed, latent, 1)
    con_a, con_b, con_text = extras["constraints"]
    con_a = remap_constraints(pt, spt, con_a, model.nfree) if con_a.shape[0] else np.zeros((0, model.nfree))
    if con_a.shape[0]:
        # linear '==' constraints over the structural parameters, renumbered as in spt
        model.set_constraints(con_a, con_b)
    est.constraints_ = list(con_text)
    ineq_g, ineq_h, ineq_text = extras["inequalities"]
    ineq_g = (remap_constraints(pt, spt, ineq_g, model.nfree, "'<' / '>'") if len(ineq_h)
              else np.zeros((0, model.nfree)))
    est.inequalities_, est.active_inequalities_ = list(ineq_text), []
    prob = OrdinalProblem(model, st, estimator, parameterization)
    npar = prob.npar
    ndat = len(prob.s)
    df = ndat - npar
    if df < 0:
        raise IdentificationError(
            f"the model has {npar} free parameters (including {prob.nth} thresholds) but the ordinal data "
            f"give only {ndat} statistics (thresholds and polychoric correlations): not identified")
    x0 = start_values(model, [(st.cov, np.zeros(len(observed)))], std_lv)
    x, converged, iters = prob.fit(x0, max_iter=max_iter)
    if len(ineq_h):
        prob, x, converged, iters, active = _active_set(prob, x, converged, iters, con_a, con_b, ineq_g, ineq_h,
                                                        max_iter)
        est.active_inequalities_ = [ineq_text[k] for k in active]
        model = prob.model
    est._ineq_slack = ineq_g @ model.full(x[: prob.ns]) - ineq_h
    if not converged:
        warnings.warn(f"CFA ({estimator}) did not converge in {iters} iterations; the estimates are not a "
                      "minimum", ConvergenceWarning, stacklevel=3)
    vcov_int, a, a_inv, tr_ug, tr_ug2 = _robust(prob, x)
    ev = np.linalg.eigvalsh(a)
    if not ev.min() > 1e-10 * ev.max():
        hint = ""
        if theta:
            # theta fixes the residual variances at 1, so a solution whose latent responses would
            # explain more than all their variance (a Heywood case under delta) runs off to infinity
            hint = ("; with parameterization='theta' this is also what an improper solution looks like: fit "
                    "parameterization='delta' to see whether a latent response has a negative residual "
                    "variance (a Heywood case, e.g. a factor with two items)")
        raise IdentificationError(
            f"the information matrix is singular at the estimates: the model is not identified{hint}")
    f = prob.objective(x)
    n = st.n
    # lavaan: fmin = (n - 1) / (2 n) F, chisq = 2 n fmin = (n - 1) F
    chisq = (n - 1) * f
    # residual variances of the latent responses (delta): 1 - explained
    xs = x[: prob.ns]
    sig0 = model.implied(xs)[0][0]
    resvar_rows = np.flatnonzero(((spt["op"] == "~~") & (spt["lhs"] == spt["rhs"]) & spt["lhs"].isin(ordered)).to_numpy())
    ov = {v: i for i, v in enumerate(observed)}
    if not theta:
        for k in resvar_rows:
            i = ov[spt.iloc[k]["lhs"]]
            model.ustart[k] = 1.0 - sig0[i, i]
        sig0 = model.implied(xs)[0][0]
    est.converged_, est.n_iter_ = converged, iters
    est._ord = dict(model=model, prob=prob, x=x, spt=spt, chisq=chisq, df=df, tr_ug=tr_ug, tr_ug2=tr_ug2,
                    vcov_int=vcov_int, npar=npar, f=f)
    # the distinct free parameters: structural ones through the '==' constraints (x = x_p + K theta)
    x_full = np.concatenate([model.full(x[: prob.ns]), x[prob.ns:]])
    t = np.eye(len(x))
    if model.con_k is not None:
        t = np.zeros((len(x_full), len(x)))
        t[: model.nfree, : prob.ns] = model.con_k
        t[model.nfree:, prob.ns:] = np.eye(prob.nth)
    vcov_full = t @ vcov_int @ t.T
    est.params_, order = _params(est, model, spt, prob, x, x_full, vcov_full)
    est.x_ = x_full[order]
    est.vcov_ = vcov_full[np.ix_(order, order)]
    est.information_ = a if model.con_k is not None else a[np.ix_(order, order)]
    est.fit_measures_ = _fit_measures(est, prob, x, chisq, df, npar, tr_ug, tr_ug2, f)
    sc = prob.scales(x)
    sigma = sig0 * np.outer(sc, sc)  # the implied correlations of the latent responses
    est.scales_ = pd.Series(sc, index=observed)
    est.implied_cov_ = pd.DataFrame(sigma, index=observed, columns=observed)
    est.sample_cov_ = pd.DataFrame(st.cov, index=observed, columns=observed)
    is_th = np.array([t != "~1" for _, t in st.th_names], dtype=bool)
    est.sample_th_ = pd.Series(st.th_flat[is_th], index=[f"{v}|{t}" for v, t in st.th_names if t != "~1"])
    est.implied_mean_ = est.sample_mean_ = None
    if st.mixed:
        # lavaan's sampstat mean / implied mean: the continuous items' means, 0 for ordered items
        num = st.num_mask
        est.sample_mean_ = pd.Series([t[0] if nm else 0.0 for t, nm in zip(st.th, num)], index=observed)
        nu = dict(zip([v for v, t in st.th_names if t == "~1"], x[prob.ns:][~is_th]))
        est.implied_mean_ = pd.Series([nu.get(v, 0.0) for v in observed], index=observed)
    est.gamma_ = pd.DataFrame(st.gamma, index=_wls_names(st), columns=_wls_names(st))
    est.n_obs_ = {"all": n}
    # R2 of the latent responses: explained over total variance of y*
    # (theta: residual variance 1 of a total diag(Sigma*) = sc^-2; delta: 1 - the residual)
    resid = {spt.iloc[k]["lhs"]: model.ustart[k] for k in resvar_rows}
    # a continuous item: 1 - its residual variance over its implied variance
    rv = model.row_values(xs)
    cont_res = {spt.iloc[k]["lhs"]: rv[k] for k in np.flatnonzero(
        ((spt["op"] == "~~") & (spt["lhs"] == spt["rhs"]) & spt["lhs"].isin(observed)
         & ~spt["lhs"].isin(ordered)).to_numpy())}
    r2 = pd.Series([1.0 - cont_res[v] / sig0[ov[v], ov[v]] if v in cont_res
                    else 1.0 - (sc[ov[v]] ** 2 if theta else resid[v]) for v in observed], index=observed, name="all")
    est.r2_ = r2.to_frame()
    neg = [v for v in observed if r2[v] > 1.0]
    est.notes_ = []
    if neg:
        msg = (f"the latent responses of {', '.join(neg)} have negative residual variances (1 - explained "
               "variance < 0, a Heywood case): the solution is improper")
        est.notes_.append(msg)
        warnings.warn(msg, HeywoodWarning, stacklevel=3)


def _wls_names(st: OrdinalStats) -> list[str]:
    """lavaan's names of the fitted statistics (``lavInspect(fit, "gamma")``'s dimnames)."""
    ii, jj = offdiag_index(len(st.names))
    return ([f"{v}~1" if t == "~1" else f"{v}|{t}" for v, t in st.th_names]
            + [f"{v}~~{v}" for v, nm in zip(st.names, st.num_mask) if nm]
            + [f"{st.names[j]}~~{st.names[i]}" for i, j in zip(ii, jj)])


def _params(est, model: SemModel, spt: pd.DataFrame, prob: OrdinalProblem, x_opt: np.ndarray, x: np.ndarray,
            vcov: np.ndarray):
    """lavaan's parameterEstimates(fit, standardized = TRUE) rows; ``x`` and ``vcov`` over the
    distinct free parameters (structural, thresholds), ``x_opt`` the optimizer's vector."""
    ns = model.nfree
    xs = x[:ns]
    st = prob.st
    est_rows = model.row_values(xs)
    std_lv, std_all = standardize(model, xs, est_rows)
    se_int = np.sqrt(np.clip(np.diag(vcov), 0, None))
    free = spt["free"].to_numpy()
    rows = []

    def add(lhs, op, rhs, label, idx, value, slv, sall):
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, group=1, label=label, _idx=idx, est=value,
                         se=(se_int[idx] if idx >= 0 else 0.0), std_lv=slv, std_all=sall))

    user = spt["user"].to_numpy() == 1

    mean_q = {v: q for q, (v, t) in enumerate(st.th_names) if t == "~1"}
    sd_all = np.sqrt(np.diag(model.implied(xs)[0][0]))
    done_means = set()

    def mean_row(v, label=""):
        i = st.names.index(v)
        val = x[ns + mean_q[v]]
        add(v, "~1", "", label, ns + mean_q[v], val, val, val / sd_all[i])
        done_means.add(v)

    def struct_rows(mask):
        for k in np.flatnonzero(mask):
            r = spt.iloc[k]
            label = r["label"] if isinstance(r["label"], str) else ""
            if r["op"] == "~1" and r["lhs"] in mean_q:  # a continuous item's intercept, written out
                mean_row(r["lhs"], label)
                continue
            idx = int(free[k]) - 1 if free[k] > 0 else -1
            add(r["lhs"], r["op"], r["rhs"], label, idx, est_rows[k], std_lv[k], std_all[k])

    struct_rows(user)
    sc = prob.scales(x_opt)
    for q, (v, t) in enumerate(st.th_names):
        if t == "~1":  # a continuous item's intercept: reported with the intercepts
            continue
        val = x[ns + q]
        add(v, "|", t, "", ns + q, val, val, val * sc[prob.th_item[q]])
    struct_rows(~user)
    num = st.num_mask
    for i, v in enumerate(st.names):
        if not num[i]:
            add(v, "~*~", v, "", -1, sc[i], sc[i], 1.0)
    for v in st.names:
        if v in mean_q:
            if v not in done_means:
                mean_row(v)
        elif not ((spt["op"] == "~1") & (spt["lhs"] == v) & user).any():
            add(v, "~1", "", "", -1, 0.0, 0.0, 0.0)
    for v in model.latent:
        add(v, "~1", "", "", -1, 0.0, 0.0, 0.0)
    tab = pd.DataFrame(rows)
    # lavaan's free numbering: the table's order
    idx = tab["_idx"].to_numpy()
    order, free_col = [], np.zeros(len(tab), dtype=int)
    seen = {}
    for r, i in enumerate(idx):
        if i >= 0:
            if i not in seen:
                seen[i] = len(seen) + 1
                order.append(i)
            free_col[r] = seen[i]
    tab["free"] = free_col
    e = tab["est"].to_numpy()
    se = tab["se"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((free_col > 0) & (se > 0), e / se, np.nan)
    crit = stats.norm.ppf(0.975)
    tab["z"] = z
    tab["p_value"] = 2 * stats.norm.sf(np.abs(z))
    tab["ci_low"] = e - crit * se
    tab["ci_high"] = e + crit * se
    tab = tab[["lhs", "op", "rhs", "group", "label", "free", "est", "se", "z", "p_value", "ci_low", "ci_high",
               "std_lv", "std_all"]]
    if est._definitions:
        # defined parameters (:=): delta-method standard errors with the robust vcov, the
        # definitions evaluated on the standardized rows (lavaan's parameterEstimates)
        d_est, d_se = est._defined_delta(lambda xx: model.row_values(xx[:ns]), x, vcov)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_z = np.where(d_se > 0, d_est / d_se, np.nan)
        defs = pd.DataFrame({
            "lhs": [d[0] for d in est._definitions], "op": ":=", "rhs": [d[1] for d in est._definitions],
            "group": 1, "label": [d[0] for d in est._definitions], "free": 0, "est": d_est, "se": d_se,
            "z": d_z, "p_value": 2 * stats.norm.sf(np.abs(d_z)), "ci_low": d_est - crit * d_se,
            "ci_high": d_est + crit * d_se, "std_lv": est._defined_values(std_lv),
            "std_all": est._defined_values(std_all)})
        tab = pd.concat([tab, defs], ignore_index=True)
    return tab, np.array(order, dtype=int)


def _fit_measures(est, prob: OrdinalProblem, x, chisq, df, npar, tr_ug, tr_ug2, f) -> pd.Series:
    ntotal = prob.n
    # lavaan's lav_utils_get_ntotal: N - G for the (D)WLS / ULS estimators (RMSEA, Hoelter)
    n = ntotal - 1
    st = prob.st
    out: dict[str, float] = {}
    out["npar"] = float(npar)
    out["fmin"] = f * (ntotal - 1) / (2 * ntotal)
    out["chisq"] = chisq
    out["df"] = float(df)
    uls = prob.estimator in ("ULS", "ULSMV")
    # the unscaled ULS statistic has no chi-square reference distribution: lavaan reports NA
    out["pvalue"] = float(stats.chi2.sf(chisq, df)) if df > 0 and not uls else np.nan
    scaled = prob.estimator in ("WLSMV", "ULSMV")
    if scaled:
        x2s, c, shift = _scaled_shifted(chisq, df, tr_ug, tr_ug2)
        out["chisq.scaled"] = x2s
        out["df.scaled"] = float(df)
        out["pvalue.scaled"] = float(stats.chi2.sf(x2s, df)) if df > 0 else np.nan
        out["chisq.scaling.factor"] = c
    # baseline: free thresholds (means, variances), zero correlations (covariances)
    nth = prob.nth + prob.nvar
    r = prob.s[nth:]
    w = prob.w[nth:]
    x2b = (ntotal - 1) * float(np.sum(w * r * r))
    dfb = float(len(r))
    out["baseline.chisq"] = x2b
    out["baseline.df"] = dfb
    out["baseline.pvalue"] = np.nan if uls else float(stats.chi2.sf(x2b, dfb))
    if scaled:
        ug = w[:, None] * st.gamma[nth:, nth:]
        x2bs, cb, _ = _scaled_shifted(x2b, dfb, float(np.trace(ug)), float(np.sum(ug * ug.T)))
        out["baseline.chisq.scaled"] = x2bs
        out["baseline.df.scaled"] = dfb
        out["baseline.pvalue.scaled"] = float(stats.chi2.sf(x2bs, dfb))
        out["baseline.chisq.scaling.factor"] = cb
    out["cfi"] = fm.cfi(chisq, df, x2b, dfb)
    out["tli"] = fm.tli(chisq, df, x2b, dfb)
    if scaled:
        out["cfi.scaled"] = fm.cfi(x2s, df, x2bs, dfb)
        out["tli.scaled"] = fm.tli(x2s, df, x2bs, dfb)
    out["nnfi"] = out["tli"]
    out["rfi"] = fm.rfi(chisq, df, x2b, dfb)
    out["nfi"] = fm.nfi(chisq, df, x2b, dfb)
    out["pnfi"] = fm.pnfi(chisq, df, x2b, dfb)
    out["ifi"] = fm.ifi(chisq, df, x2b, dfb)
    out["rni"] = fm.rni(chisq, df, x2b, dfb)
    if scaled:
        out["nnfi.scaled"] = out["tli.scaled"]
        out["rfi.scaled"] = fm.rfi(x2s, df, x2bs, dfb)
        out["nfi.scaled"] = fm.nfi(x2s, df, x2bs, dfb)
        out["pnfi.scaled"] = fm.pnfi(x2s, df, x2bs, dfb)
        out["ifi.scaled"] = fm.ifi(x2s, df, x2bs, dfb)
        out["rni.scaled"] = fm.rni(x2s, df, x2bs, dfb)
    out["rmsea"] = fm.rmsea(chisq, df, n)
    lo, hi = fm.rmsea_ci(chisq, df, n)
    out["rmsea.ci.lower"], out["rmsea.ci.upper"], out["rmsea.ci.level"] = lo, hi, 0.9
    out["rmsea.pvalue"] = fm.rmsea_pvalue(chisq, df, n)
    out["rmsea.close.h0"] = 0.05
    out["rmsea.notclose.pvalue"] = fm.rmsea_notclose_pvalue(chisq, df, n)
    out["rmsea.notclose.h0"] = 0.08
    if scaled:
        out["rmsea.scaled"] = fm.rmsea(x2s, df, n)
        lo, hi = fm.rmsea_ci(x2s, df, n)
        out["rmsea.ci.lower.scaled"], out["rmsea.ci.upper.scaled"] = lo, hi
        out["rmsea.pvalue.scaled"] = fm.rmsea_pvalue(x2s, df, n)
        out["rmsea.notclose.pvalue.scaled"] = fm.rmsea_notclose_pvalue(x2s, df, n)
    if scaled and not st.mixed:
        _robust_indices(prob, x, chisq, df, x2b, dfb, n, out)
    elif scaled:  # lavaan 0.6-14 reports NA with continuous items among the ordered ones
        for key in ("cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust",
                    "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                    "rmsea.notclose.pvalue.robust"):
            out[key] = np.nan
    # residual correlations (thresholds fit exactly); with continuous items lavaan's rmr uses
    # the raw residuals, srmr / crmr those over the sample SDs (cor.bentler), and the
    # "total" versions add the ordered items' thresholds only
    e = prob.s - prob.implied(x)
    e_std = _standardized_residuals(prob, e) if st.mixed else e
    p = prob.p
    th_ord = ~prob.num[prob.th_item]
    nth_o = int(th_ord.sum())
    ssq_raw = float(np.sum(e[nth:] ** 2))
    ssq = float(np.sum(e_std[nth:] ** 2))
    ssq_th = float(np.sum(e[: prob.nth][th_ord] ** 2))
    nmom = p * (p + 1) / 2
    out["rmr"] = np.sqrt((ssq_raw + ssq_th) / (nmom + nth_o))
    out["rmr_nomean"] = np.sqrt(ssq_raw / nmom)
    out["srmr"] = np.sqrt(ssq / nmom)
    out["srmr_bentler"] = np.sqrt((ssq + ssq_th) / (nmom + nth_o))
    out["srmr_bentler_nomean"] = out["srmr"]
    out["crmr"] = np.sqrt((ssq + ssq_th) / (p * (p - 1) / 2 + nth_o))
    out["crmr_nomean"] = np.sqrt(ssq / (p * (p - 1) / 2))
    out["cn_05"] = fm.hoelter_cn(chisq, df, n, 0.05)
    out["cn_01"] = fm.hoelter_cn(chisq, df, n, 0.01)
    out["ntotal"] = float(ntotal)
    return pd.Series(out, dtype=float)


def _standardized_residuals(prob: OrdinalProblem, e: np.ndarray) -> np.ndarray:
    """The residuals of a mixed fit on lavaan's ``cor.bentler`` scale: covariances over the
    sample SDs, continuous items' means over theirs (ordered items have SD 1)."""
    st = prob.st
    sd = np.sqrt(st.var)
    out = e.copy()
    out[: prob.nth] = e[: prob.nth] / sd[prob.th_item]
    nv = prob.nth + prob.nvar
    out[prob.nth:nv] = e[prob.nth:nv] / st.var[prob.num_idx]
    out[nv:] = e[nv:] / (sd[prob.ii] * sd[prob.jj])
    return out


def _robust_indices(prob: OrdinalProblem, x, chisq, df, x2b, dfb, n, out: dict) -> None:
    """lavaan's ``.robust`` CFI / TLI / RNI / RMSEA for categorical data (``lav_fit_catml_dwls``,
    Savalei, 2021): the ML discrepancy of the polychoric matrix at the DWLS estimates (lavaan's
    catML, evaluated without refitting) with its correction ``c = tr(U' V U Gamma) / df``."""
    st = prob.st
    nth = prob.nth
    r = st.cor
    p = prob.p
    ev = np.linalg.eigvalsh(r)
    if ev.min() < np.sqrt(np.finfo(float).eps):
        # lavaan returns NA here (lav_fit_catml_dwls with check.pd = TRUE)
        return
    if not float(len(prob.ii)) - float(prob.ns) > 0:
        # a just-identified model (df 0, e.g. one factor with three items): lavaan 0.6-14 reports
        # a perfect fit (1 and 0) with NA p-values; the correction c = tr(...) / df is undefined
        out.update({"cfi.robust": 1.0, "tli.robust": 1.0, "nnfi.robust": 1.0, "rni.robust": 1.0,
                    "rmsea.robust": 0.0, "rmsea.ci.lower.robust": 0.0, "rmsea.ci.upper.robust": 0.0,
                    "rmsea.pvalue.robust": np.nan, "rmsea.notclose.pvalue.robust": np.nan})
        return
    sig = np.eye(p)
    sig[prob.ii, prob.jj] = sig[prob.jj, prob.ii] = prob.implied(x)[nth:]  # implied correlations
    si = np.linalg.inv(sig)
    ntot = prob.n
    f_ml = np.linalg.slogdet(sig)[1] + np.trace(r @ si) - np.linalg.slogdet(r)[1] - p
    xx3 = ntot * f_ml
    df3 = float(len(prob.ii)) - float(prob.ns)
    ii, jj = prob.ii, prob.jj
    v = si[np.ix_(ii, ii)] * si[np.ix_(jj, jj)] + si[np.ix_(ii, jj)] * si[np.ix_(jj, ii)]
    d, a = prob.information(x)
    # lavaan's inverted.information of the WLS fit, as lav_fit_catml_dwls uses it
    e_inv = np.linalg.inv(a)
    dc = d[nth:]
    wc = prob.w[nth:]
    wiu = np.eye(len(wc)) - dc @ e_inv @ dc.T * wc[None, :]
    gam = st.gamma[nth:, nth:]
    ks = float(np.trace(wiu.T @ v @ wiu @ gam))
    c3 = ks / df3
    xx3_scaled = xx3 / c3
    xx3_null = -ntot * np.linalg.slogdet(r)[1]
    c3_null = float(np.trace(gam)) / dfb
    out["cfi.robust"] = fm.cfi(xx3, df, xx3_null, dfb, c3, c3_null)
    out["tli.robust"] = fm.tli(xx3, df, xx3_null, dfb, c3, c3_null)
    out["nnfi.robust"] = out["tli.robust"]
    out["rni.robust"] = fm.rni(xx3, df, xx3_null, dfb, c3, c3_null)
    out["rmsea.robust"] = fm.rmsea(xx3, df3, n, c_hat=c3)
    lo, hi = fm.rmsea_ci(xx3_scaled, df3, n, c_hat=c3)
    out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
    out["rmsea.pvalue.robust"] = fm.rmsea_pvalue(xx3_scaled, df3, n, c_hat=c3)
    out["rmsea.notclose.pvalue.robust"] = fm.rmsea_notclose_pvalue(xx3_scaled, df3, n, c_hat=c3)
