"""Multi-group categorical CFA by DWLS / ULS, as lavaan 0.6-14 (private; delta parameterization).

Per group ``g`` the latent responses follow ``y* = Lambda eta + eps`` with latent means
``alpha_g`` and scale factors ``Delta_g`` (lavaan's ``~*~``); the implied statistics are

* thresholds ``(tau_g - Lambda_g alpha_g) Delta_g`` (item intercepts fixed at 0),
* correlations ``Delta_i Delta_j (Lambda Psi Lambda' + Theta)_ij`` (off the diagonal),

and the residual variances ``1 / Delta_i^2 - diag(Lambda Psi Lambda')`` are not free.  As
lavaan: without ``group_equal = "thresholds"`` the scale factors are 1 and the latent means
0 in every group; with it, the thresholds are equal across groups and the scale factors
and latent means are free in every group but the first.  The fit function is lavaan's
``sum_g (n_g - 1) e_g' W_g e_g / N`` (``chisq = N`` times it).  Linear ``==`` constraints
among the structural parameters (across groups too) are imposed by reparametrisation
``x = x_p + K theta`` (:meth:`SemModel.set_constraints`); the sandwich and the scaled-shifted
test use the Jacobians in ``theta``, which equals lavaan's constrained (bordered) information.
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
from .wls import _scaled_shifted, gauss_newton, remap_constraints


class GroupsProblem:
    """The parameter vector ``x = (structural, thresholds, scale factors)`` over all groups."""

    def __init__(self, model: SemModel, stats_: list[OrdinalStats], estimator: str, th_index, dl_index,
                 theta: bool = False, eq_thresholds: bool = False):
        self.model = model
        self.theta = theta
        self.eq_thresholds = eq_thresholds
        self.stats = stats_
        self.estimator = estimator
        self.g = len(stats_)
        self.p = len(stats_[0].names)
        self.ii, self.jj = offdiag_index(self.p)
        self.th_item = np.concatenate([np.full(len(t), i) for i, t in enumerate(stats_[0].th)]).astype(int)
        self.nth = len(self.th_item)
        # continuous items among the ordered ones: "thresholds" -(intercept + Lambda alpha), their
        # variances fitted, scale factor 1
        self.num = stats_[0].num_mask
        self.th_sign = np.where(self.num[self.th_item], -1.0, 1.0)
        self.num_idx = np.flatnonzero(self.num)
        self.nvar = len(self.num_idx)
        self.ns = model.nx
        self.th_index = th_index  # per group: index (into the threshold block) of each threshold
        self.dl_index = dl_index  # per group: index of each item's scale factor, -1 = fixed at 1
        self.ntau = int(max(ix.max() for ix in th_index)) + 1
        self.ndl = int(max([ix.max() for ix in dl_index] + [-1])) + 1
        self.npar = self.ns + self.ntau + self.ndl
        self.s = [st.wls_obs for st in stats_]
        if estimator in ("ULSMV", "ULS"):
            self.w = [np.ones(len(s)) for s in self.s]
        else:
            self.w = [1.0 / np.diag(st.gamma) for st in stats_]
        self.n = np.array([st.n for st in stats_], dtype=float)
        self.ntotal = float(self.n.sum())

    def split(self, x):
        return x[: self.ns], x[self.ns:self.ns + self.ntau], x[self.ns + self.ntau:]

    def _scale_of(self, sigma) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            d = 1.0 / np.sqrt(np.diag(sigma))
        return np.where(self.num, 1.0, d)

    def scales(self, x, g) -> np.ndarray:
        if self.theta:
            return self._scale_of(self.model.implied(x[: self.ns])[g][0])
        dl = self.split(x)[2]
        ix = self.dl_index[g]
        return np.where(ix >= 0, dl[np.maximum(ix, 0)] if dl.size else 1.0, 1.0)

    def implied(self, x) -> list[np.ndarray]:
        xs, tau, _ = self.split(x)
        out = []
        for g, (sigma, mu) in enumerate(self.model.implied(xs)):
            if self.theta:
                d = self._scale_of(sigma)
            else:
                d = self.scales(x, g)
            sg = self.th_sign
            t = sg * (tau[self.th_index[g]] - sg * mu[self.th_item]) * d[self.th_item]
            r = sigma[self.ii, self.jj] * d[self.ii] * d[self.jj]
            out.append(np.concatenate([t, np.diag(sigma)[self.num_idx], r]))
        return out

    def jacobians(self, x) -> list[np.ndarray]:
        xs, tau, _ = self.split(x)
        imp = self.model.implied(xs)
        out = []
        for g, (ds, dm) in enumerate(self.model.delta(xs)):
            sigma, mu = imp[g]
            d = self.scales(x, g)
            ti = self.th_item
            nv = self.nth + self.nvar
            jac = np.zeros((nv + len(self.ii), self.npar))
            # thresholds (a continuous item: -(intercept + mu))
            jac[: self.nth, : self.ns] = -(dm[:, ti] * d[ti][None, :]).T
            jac[np.arange(self.nth), self.ns + self.th_index[g]] += self.th_sign * d[ti]
            jac[self.nth:nv, : self.ns] = np.einsum("kii->ki", ds)[:, self.num_idx].T
            ix = self.dl_index[g]
            t_raw = tau[self.th_index[g]] - mu[ti]
            for q in range(self.nth):
                if ix[ti[q]] >= 0:
                    jac[q, self.ns + self.ntau + ix[ti[q]]] += t_raw[q]
            # correlations (covariances with continuous items)
            ii, jj = self.ii, self.jj
            jac[nv:, : self.ns] = (ds[:, ii, jj] * (d[ii] * d[jj])[None, :]).T
            if self.theta:  # the scale factors diag(Sigma*)^-1/2 depend on the parameters
                dd = -0.5 * np.einsum("kii->ki", ds) * (d**3)[None, :] * (~self.num)[None, :]  # d Delta_i
                jac[: self.nth, : self.ns] += (dd[:, ti] * t_raw[None, :]).T
                rho_raw = sigma[ii, jj]
                jac[nv:, : self.ns] += (rho_raw[None, :] * (dd[:, ii] * d[jj][None, :]
                                                            + dd[:, jj] * d[ii][None, :])).T
            for k, (i, j) in enumerate(zip(ii, jj)):
                if ix[i] >= 0:
                    jac[nv + k, self.ns + self.ntau + ix[i]] += sigma[i, j] * d[j]
                if ix[j] >= 0:
                    jac[nv + k, self.ns + self.ntau + ix[j]] += sigma[i, j] * d[i]
            out.append(jac)
        return out

    def weights(self) -> np.ndarray:
        """lavaan's group weights of the fit function: (n_g - 1) / N."""
        return (self.n - 1) / self.ntotal

    def objective(self, x) -> float:
        f = 0.0
        for wg, s, w, imp in zip(self.weights(), self.s, self.w, self.implied(x)):
            e = s - imp
            f += wg * float(e @ (w * e))
        return f if np.isfinite(f) else np.inf

    def fit(self, x0, max_iter=500, tol=1e-12):
        def normal_equations(x):
            a = np.zeros((self.npar, self.npar))
            grad = np.zeros(self.npar)
            for wg, s, w, imp, jac in zip(self.weights(), self.s, self.w, self.implied(x), self.jacobians(x)):
                jw = jac * w[:, None]
                a += wg * jac.T @ jw
                grad += wg * jw.T @ (s - imp)
            return a, grad

        return gauss_newton(self.objective, normal_equations, x0.copy(), max_iter=max_iter, tol=tol)


def _index_blocks(stats_, group_equal, group_partial, theta=False):
    """Threshold and scale-factor parameter indices per group (lavaan's group.equal rules)."""
    g = len(stats_)
    names = stats_[0].th_names
    eq = "thresholds" in group_equal
    eq_int = "intercepts" in group_equal  # the continuous items' intercepts
    partial = {str(p).replace(" ", "") for p in group_partial}
    th_index, nxt, first = [], 0, {}
    for gg in range(g):
        ix = np.zeros(len(names), dtype=int)
        for q, (v, t) in enumerate(names):
            key = f"{v}~1" if t == "~1" else f"{v}|{t}"
            if (eq_int if t == "~1" else eq) and gg > 0 and key not in partial:
                ix[q] = first[key]
            else:
                ix[q] = nxt
                first.setdefault(key, nxt)
                nxt += 1
        th_index.append(ix)
    p = len(stats_[0].names)
    ordm = ~stats_[0].num_mask  # continuous items have no scale factor
    dl_index, nxt = [], 0
    for gg in range(g):
        if eq and gg > 0 and not theta:
            ix = np.full(p, -1)
            ix[ordm] = np.arange(nxt, nxt + int(ordm.sum()))
            dl_index.append(ix)
            nxt += int(ordm.sum())
        else:
            dl_index.append(np.full(p, -1))
    return th_index, dl_index


def struct_partable_mg(pt: pd.DataFrame, observed, latent, group_equal, theta=False, ordered=None) -> pd.DataFrame:
    """Residual variances not free (theta: 1, free in groups 2+ with equal thresholds), item
    intercepts 0, latent means free in groups 2+ only with equal thresholds (lavaan); free
    numbers renumbered (shared numbers kept shared).  With continuous items among them
    (``ordered`` names the ordered ones) only the ordered items' residual variances are fixed;
    every item intercept is fixed here (a continuous item's is in the threshold block)."""
    pt = pt.copy()
    resvar = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(observed if ordered is None else ordered)
    if (resvar & (pt["user"] == 1) & (pt["free"] > 0)).any():
        raise SpecificationError("the residual variances of ordered items are not free parameters (delta: 1 "
                                 "minus the explained variance; theta: 1); remove those lines")
    pt.loc[resvar, ["free", "ustart"]] = [0, 1.0 if theta else 0.0]
    if theta and "thresholds" in group_equal:
        rest = resvar & (pt["group"] > 1)
        top = int(pt["free"].max()) + 1
        pt.loc[rest, "free"] = np.arange(top, top + int(rest.sum()))
    ov_int = (pt["op"] == "~1") & pt["lhs"].isin(observed)
    pt.loc[ov_int, ["free", "ustart"]] = [0, 0.0]
    lv_mean = (pt["op"] == "~1") & pt["lhs"].isin(latent)
    if "thresholds" in group_equal:
        g1 = lv_mean & (pt["group"] == 1)
        pt.loc[g1, ["free", "ustart"]] = [0, 0.0]
        rest = lv_mean & (pt["group"] > 1)
        # a distinct free mean per group (not shared by group_equal "means")
        top = int(pt["free"].max()) + 1
        pt.loc[rest, "free"] = np.arange(top, top + int(rest.sum()))
    else:
        pt.loc[lv_mean, ["free", "ustart"]] = [0, 0.0]
    old = pt["free"].to_numpy()
    mapping = {}
    for f in old:
        if f > 0 and f not in mapping:
            mapping[f] = len(mapping) + 1
    pt["free"] = [mapping.get(f, 0) for f in old]
    return pt


def _we_design(stats_, group_equal, group_partial, theta, partial_groups=None):
    """The Wu & Estabrook (2016) design of ``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016")``.

    Returns ``(th_index, nu_free, scale_free)``: per group the threshold parameter indices,
    and per group and item whether the item intercept and the scale factor (theta: residual
    variance) are free.  In group ``g > 1``, with ``n_eq`` of the item's thresholds equal to the
    first group's (measEq.syntax's ``nEqThr``), ``eq_int`` its intercept equal and ``eq_res``
    its residual variance equal: the intercept is free when ``n_eq >= 1`` and not ``eq_int``;
    the scale when ``n_eq >= 2`` or (``n_eq >= 1`` and ``eq_int``), and not ``eq_res``.  A binary
    item (one threshold) therefore gets a free intercept once its threshold is equal and a free
    scale only once its intercept is equal too.  ``partial_groups`` ({``"x|t1"`` or ``"x~1"``:
    0-based group indices}) releases a threshold or an intercept in the named groups only.

    A continuous item among them (its intercept is the ``(x, "~1")`` entry of the threshold
    block) follows measEq.syntax's continuous rules: its intercept is free in every group and
    equal across groups with ``"intercepts"`` (scalar), its scale factor is 1, and its residual
    variance (a structural parameter) is free in every group and equal with ``"residuals"``."""
    partial_groups = partial_groups or {}
    g = len(stats_)
    names = stats_[0].th_names
    eq_th = "thresholds" in group_equal
    eq_nu = "intercepts" in group_equal
    partial = {str(p).replace(" ", "") for p in group_partial}
    th_index, nxt, shared = [], 0, {}
    for gg in range(g):
        ix = np.zeros(len(names), dtype=int)
        for q, (v, t) in enumerate(names):
            key = f"{v}~1" if t == "~1" else f"{v}|{t}"
            if (eq_nu if t == "~1" else eq_th) and key not in partial and gg not in partial_groups.get(key, ()):
                if key not in shared:
                    shared[key] = nxt
                    nxt += 1
                ix[q] = shared[key]
            else:
                ix[q] = nxt
                nxt += 1
        th_index.append(ix)
    th_item = np.concatenate([np.full(len(t), i) for i, t in enumerate(stats_[0].th)]).astype(int)
    p = len(stats_[0].names)
    nu_free = np.zeros((g, p), dtype=bool)
    scale_free = np.zeros((g, p), dtype=bool)
    num = stats_[0].num_mask
    for gg in range(1, g):
        same = th_index[gg] == th_index[0]
        for i, v in enumerate(stats_[0].names):
            if num[i]:  # a continuous item: intercept in the threshold block, scale factor 1
                continue
            n_th = int(np.sum(th_item == i))
            n_eq = int(np.sum(same[th_item == i]))
            if n_th >= 2 and n_eq == 1:
                raise SpecificationError(
                    f"item {v!r} keeps exactly one threshold equal across groups: free all of its thresholds or "
                    "keep at least two equal (Wu & Estabrook, 2016)")
            eq_int = ("intercepts" in group_equal and f"{v}~1" not in partial
                      and gg not in partial_groups.get(f"{v}~1", ()))
            eq_res = "residuals" in group_equal and f"{v}~~{v}" not in partial
            nu_free[gg, i] = n_eq >= 1 and not eq_int
            scale_free[gg, i] = (n_eq >= 2 or (n_eq >= 1 and eq_int)) and not eq_res
    return th_index, nu_free, scale_free


def struct_partable_we(pt: pd.DataFrame, observed, latent, group_equal, theta, nu_free, scale_free,
                       partial_groups=None, ordered=None) -> pd.DataFrame:
    """The structural parameter table under ``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016",
    ID.fac = "std.lv")``: latent variances 1 and means 0 in group 1; the item intercepts (and,
    theta, the residual variances) free where :func:`_we_design` says; with equal loadings the
    latent variances of the other groups free, with equal intercepts their latent means.  A
    loading in ``partial_groups`` (``{"f=~x": 0-based groups}``) gets its own parameter in the
    named groups while the other groups share one.  ``ordered`` names the ordered items when
    continuous items are among them: only the ordered items' residual variances are fixed (a
    continuous item's stays free, shared across groups with ``group_equal`` "residuals")."""
    pt = pt.copy()
    if "loadings" in group_equal:
        for key, groups in (partial_groups or {}).items():
            if "=~" not in key:
                continue
            f, x = key.split("=~")
            rows = (pt["op"] == "=~") & (pt["lhs"] == f) & (pt["rhs"] == x) & (pt["group"] - 1).isin(sorted(groups))
            rows &= pt["free"] > 0
            top = int(pt["free"].max()) + 1
            pt.loc[rows, "free"] = np.arange(top, top + int(rows.sum()))
    resvar = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(observed if ordered is None else ordered)
    if (resvar & (pt["user"] == 1) & (pt["free"] > 0)).any():
        raise SpecificationError("the residual variances of ordered items are not free parameters (delta: 1 "
                                 "minus the explained variance; theta: 1); remove those lines")
    pt.loc[resvar, ["free", "ustart"]] = [0, 1.0 if theta else 0.0]
    ov_int = (pt["op"] == "~1") & pt["lhs"].isin(observed)
    pt.loc[ov_int, ["free", "ustart"]] = [0, 0.0]
    lv_mean = (pt["op"] == "~1") & pt["lhs"].isin(latent)
    pt.loc[lv_mean, ["free", "ustart"]] = [0, 0.0]
    lv_var = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(latent)
    later = pt["group"] > 1
    pos = {v: i for i, v in enumerate(observed)}
    grp = pt["group"].to_numpy() - 1
    item = pt["lhs"].map(lambda v: pos.get(v, -1)).to_numpy()

    def where(table):
        return pd.Series([bool(table[gg, i]) if i >= 0 else False for gg, i in zip(grp, item)], index=pt.index)

    free_now = []
    if theta:
        free_now.append(resvar & where(scale_free))
    free_now.append(ov_int & where(nu_free))
    if "loadings" in group_equal:
        free_now.append(lv_var & later)
    if "intercepts" in group_equal:
        free_now.append(lv_mean & later)
    for mask in free_now:
        top = int(pt["free"].max()) + 1
        pt.loc[mask, "free"] = np.arange(top, top + int(mask.sum()))
    old = pt["free"].to_numpy()
    mapping = {}
    for f in old:
        if f > 0 and f not in mapping:
            mapping[f] = len(mapping) + 1
    pt["free"] = [mapping.get(f, 0) for f in old]
    return pt


def _active_set_mg(prob, x, converged, iters, con_a, con_b, ineq_g, ineq_h, max_iter):
    """Linear inequality constraints ``G x >= h`` over the structural parameters of several groups
    by the active-set loop of the single-group fit (``custval._sem.wls.active_set_loop``)."""
    from .wls import active_set_loop

    model = prob.model

    def problem():
        return GroupsProblem(model, prob.stats, prob.estimator, prob.th_index, prob.dl_index, prob.theta,
                             prob.eq_thresholds)

    saved = (model.con_k, model.con_xp, model.nx)
    model.set_constraints(np.zeros((0, model.nfree)), np.zeros(0))
    free_prob = problem()
    free_prob.model = copy.copy(model)
    model.con_k, model.con_xp, model.nx = saved
    state = {"prob": prob, "x": x, "converged": converged, "iters": iters}

    def gradient(xf):
        return -2 * sum(wg * j.T @ (w * (s - imp)) for wg, j, w, s, imp in
                        zip(free_prob.weights(), free_prob.jacobians(xf), free_prob.w, free_prob.s,
                            free_prob.implied(xf)))

    def refit(active, xs, rest):
        model.set_constraints(np.vstack([con_a, ineq_g[active]]), np.concatenate([con_b, ineq_h[active]]))
        p = problem()
        xx, conv, more = p.fit(np.concatenate([model.reduce(xs), rest]), max_iter=max_iter)
        state.update(prob=p, x=xx, converged=conv, iters=state["iters"] + more)
        return model.full(xx[: p.ns]), xx[p.ns:]

    active = active_set_loop(model.full(x[: prob.ns]), x[prob.ns:], con_a, ineq_g, ineq_h, gradient, refit)
    return state["prob"], state["x"], state["converged"], state["iters"], active


def fit_ordinal_groups(est, stats_, labels, estimator, extras, pt, observed, latent, std_lv, max_iter,
                       group_equal, group_partial, parameterization="delta", identification="lavaan"):
    """Multi-group fit; sets the fitted attributes of ``est`` (a CFA).  ``identification`` is
    ``"lavaan"`` (lavaan 0.6-14's defaults) or ``"wu_estabrook2016"`` (measEq.syntax's)."""
    theta = parameterization == "theta"
    g = len(stats_)
    ordered = [v for v, nm in zip(stats_[0].names, stats_[0].num_mask) if not nm]
    if identification == "wu_estabrook2016":
        if "residuals" in group_equal and not theta:
            raise SpecificationError(
                "residual variances cannot be tested for invariance across groups with parameterization='delta' "
                "(as semTools::measEq.syntax): use parameterization='theta'")
        th_index, nu_free, scale_free = _we_design(stats_, group_equal, group_partial, theta,
                                                   getattr(est, "_partial_groups", None))
        spt = struct_partable_we(pt, observed, latent, group_equal, theta, nu_free, scale_free,
                                 getattr(est, "_partial_groups", None), ordered=ordered)
        dl_index, nxt = [], 0
        for gg in range(g):
            ix = np.full(len(observed), -1)
            if not theta:
                for i in np.flatnonzero(scale_free[gg]):
                    ix[i] = nxt
                    nxt += 1
            dl_index.append(ix)
    else:
        spt = struct_partable_mg(pt, observed, latent, group_equal, theta, ordered=ordered)
        th_index, dl_index = _index_blocks(stats_, group_equal, group_partial, theta)
    model = SemModel(spt, observed, latent, g)
    con_a, con_b, con_text = extras["constraints"]
    con_a = remap_constraints(pt, spt, con_a, model.nfree) if con_a.shape[0] else np.zeros((0, model.nfree))
    if con_a.shape[0]:
        # linear '==' constraints over the structural parameters (one and several groups),
        # imposed by reparametrisation x = x_p + K theta as in the single-group fit
        model.set_constraints(con_a, con_b)
    est.constraints_ = list(con_text)
    ineq_g, ineq_h, ineq_text = extras["inequalities"]
    ineq_g = (remap_constraints(pt, spt, ineq_g, model.nfree, "'<' / '>'") if len(ineq_h)
              else np.zeros((0, model.nfree)))
    est.inequalities_, est.active_inequalities_ = list(ineq_text), []
    prob = GroupsProblem(model, stats_, estimator, th_index, dl_index, theta, "thresholds" in group_equal)
    npar_reported = prob.npar  # lavaan's npar: active inequality constraints are not subtracted
    ndat = sum(len(s) for s in prob.s)
    df = ndat - prob.npar
    if df < 0:
        raise IdentificationError(f"the model has {prob.npar} free parameters but the ordinal data give only "
                                  f"{ndat} statistics: not identified")
    x0s = start_values(model, [(st.cov, np.zeros(len(observed))) for st in stats_], std_lv)
    tau0 = np.zeros(prob.ntau)
    for gg, st in enumerate(stats_):
        tau0[th_index[gg]] = st.th_flat if gg == 0 else tau0[th_index[gg]]
        if gg > 0:
            fresh = np.setdiff1d(th_index[gg], np.concatenate(th_index[:gg]))
            pos = np.flatnonzero(np.isin(th_index[gg], fresh))
            tau0[th_index[gg][pos]] = st.th_flat[pos]
    x0 = np.concatenate([x0s, tau0, np.ones(prob.ndl)])
    x, converged, iters = prob.fit(x0, max_iter=max_iter)
    if len(ineq_h):
        prob, x, converged, iters, active = _active_set_mg(prob, x, converged, iters, con_a, con_b, ineq_g,
                                                           ineq_h, max_iter)
        est.active_inequalities_ = [ineq_text[k] for k in active]
    est._ineq_slack = ineq_g @ model.full(x[: prob.ns]) - ineq_h
    if not converged:
        warnings.warn(f"CFA ({estimator}) did not converge in {iters} iterations", ConvergenceWarning, stacklevel=3)
    jacs = prob.jacobians(x)
    # lavaan: groups weighted by n_g / N, the sandwich divided by N - G (single group: N - 1)
    fg = prob.n / prob.ntotal
    a = sum(f * j.T @ (j * w[:, None]) for f, j, w in zip(fg, jacs, prob.w))
    ev = np.linalg.eigvalsh(a)
    if not ev.min() > 1e-10 * ev.max():
        raise IdentificationError("the information matrix is singular at the estimates: the model is not identified")
    a_inv = np.linalg.inv(a)
    robust = estimator in ("WLSMV", "ULSMV")
    b = sum(f * (j * w[:, None]).T @ st.gamma @ (j * w[:, None]) for f, j, w, st in zip(fg, jacs, prob.w, stats_))
    vcov = (a_inv @ b @ a_inv if robust else a_inv) / (prob.ntotal - g)
    f = prob.objective(x)
    chisq = prob.ntotal * f
    # residual variances (delta): 1 / Delta^2 - explained
    xs = x[: prob.ns]
    imp = model.implied(xs)
    is_resvar = (spt["op"] == "~~") & (spt["lhs"] == spt["rhs"]) & spt["lhs"].isin(observed)
    resvar = np.flatnonzero((is_resvar & spt["lhs"].isin(ordered)).to_numpy())
    all_resvar = np.flatnonzero(is_resvar.to_numpy())
    ov = {v: i for i, v in enumerate(observed)}
    for k in resvar:
        if theta:
            break
        gg = int(spt.iloc[k]["group"]) - 1
        i = ov[spt.iloc[k]["lhs"]]
        d = prob.scales(x, gg)[i]
        model.ustart[k] = 1.0 / d**2 - imp[gg][0][i, i]
    est.converged_, est.n_iter_ = converged, iters
    # the distinct free parameters: structural ones through the '==' constraints; the robust
    # vcov of the constrained fit is K V_theta K' (lavaan's constrained information)
    x_full = np.concatenate([model.full(xs), x[prob.ns:]])
    t = np.eye(len(x))
    if model.con_k is not None:
        t = np.zeros((len(x_full), len(x)))
        t[: model.nfree, : prob.ns] = model.con_k
        t[model.nfree:, prob.ns:] = np.eye(len(x) - prob.ns)
    vcov_full = t @ vcov @ t.T
    est.params_, order = _params_mg(est, model, spt, prob, x, vcov_full, x_full)
    # what custval._sem.ordinal_extras needs (x: the distinct free parameters; order: lavaan's
    # order of the full parameter vector)
    est._ord_mg = dict(model=model, prob=prob, x=x, spt=spt, order=order, a_inv=a_inv,
                       constrained=model.con_k is not None)
    est.x_ = x_full[order]
    est.vcov_ = vcov_full[np.ix_(order, order)]
    est.information_ = a if model.con_k is not None else a[np.ix_(order, order)]
    # what a scaled difference test between nested fits needs (lavaan's lav_test_diff_Satorra2000)
    est._wls_parts = {"jacobians": jacs, "weights": prob.w, "gamma": [st.gamma for st in stats_],
                      "n": prob.n.copy(), "information": a}
    est.fit_measures_ = _fit_measures_mg(prob, x, chisq, df, jacs, a_inv, f, npar_reported)
    imp = model.implied(xs)
    est.implied_cov_, est.sample_cov_, est.sample_th_, est.scales_, r2 = {}, {}, {}, {}, {}
    sample_mean, implied_mean = {}, {}
    notes = []
    for gg, (lab, st) in enumerate(zip(labels, stats_)):
        d = prob.scales(x, gg)
        sig = imp[gg][0] * np.outer(d, d)
        est.implied_cov_[lab] = pd.DataFrame(sig, index=observed, columns=observed)
        est.sample_cov_[lab] = pd.DataFrame(st.cov, index=observed, columns=observed)
        is_th = np.array([t != "~1" for _, t in st.th_names], dtype=bool)
        est.sample_th_[lab] = pd.Series(st.th_flat[is_th], index=[f"{v}|{t}" for v, t in st.th_names if t != "~1"])
        if st.mixed:
            sample_mean[lab] = pd.Series([t[0] if nm else 0.0 for t, nm in zip(st.th, st.num_mask)], index=observed)
            tau_g = x[prob.ns:prob.ns + prob.ntau][prob.th_index[gg]]
            mu_g = imp[gg][1]
            implied_mean[lab] = pd.Series([tau_g[list(st.th_names).index((v, "~1"))] + mu_g[i] if st.num_mask[i]
                                           else 0.0 for i, v in enumerate(observed)], index=observed)
        est.scales_[lab] = pd.Series(d, index=observed)
        rv = model.row_values(xs)
        resid = {spt.iloc[k]["lhs"]: rv[k] for k in all_resvar if int(spt.iloc[k]["group"]) == gg + 1}
        # explained over total variance (of the latent response or the continuous item)
        r2[lab] = pd.Series([1.0 - resid[v] / imp[gg][0][ov[v], ov[v]] for v in observed], index=observed)
        neg = [v for v in observed if resid[v] < 0]
        if neg:
            notes.append(f"the latent responses of {', '.join(neg)} in group {lab!r} have negative residual "
                         "variances (a Heywood case): the solution is improper")
    est.r2_ = pd.DataFrame(r2)
    est.implied_mean_ = est.sample_mean_ = None
    if stats_[0].mixed:
        est.sample_mean_, est.implied_mean_ = sample_mean, implied_mean
    est.gamma_ = {lab: st.gamma for lab, st in zip(labels, stats_)}
    if stats_[0].mixed:  # labelled as lavaan's lavInspect(fit, "gamma")
        from .wls import _wls_names

        est.gamma_ = {lab: pd.DataFrame(st.gamma, index=_wls_names(st), columns=_wls_names(st))
                      for lab, st in zip(labels, stats_)}
    est.n_obs_ = {lab: st.n for lab, st in zip(labels, stats_)}
    est.notes_ = notes
    for msg in notes:
        warnings.warn(msg, HeywoodWarning, stacklevel=3)


def _params_mg(est, model, spt, prob: GroupsProblem, x_opt, vcov, x=None):
    """lavaan's parameterEstimates rows; ``x`` and ``vcov`` over the distinct free parameters
    (structural, thresholds, scale factors), ``x_opt`` the optimizer's vector."""
    x = x_opt if x is None else x
    ns = model.nfree
    xs = x[:ns]
    est_rows = model.row_values(xs)
    std_lv, std_all = standardize(model, xs, est_rows)
    se_int = np.sqrt(np.clip(np.diag(vcov), 0, None))
    free = spt["free"].to_numpy()
    user = spt["user"].to_numpy() == 1
    rows = []
    st0 = prob.stats[0]
    tau = x[ns:ns + prob.ntau]
    imp = model.implied(xs)
    for gg in range(prob.g):
        grp = spt["group"].to_numpy() == gg + 1
        d = prob.scales(x_opt, gg)
        sd = np.sqrt(np.diag(imp[gg][0]))  # the latent responses' SD (1 / Delta)

        ths, mean_rows = [], {}
        for q, (v, t) in enumerate(st0.th_names):
            k = ns + int(prob.th_index[gg][q])
            val = tau[prob.th_index[gg][q]]
            i = prob.th_item[q]
            row = dict(lhs=v, op="|", rhs=t, group=gg + 1, label="", _idx=k, est=val, std_lv=val, std_all=val / sd[i])
            if t == "~1":  # a continuous item's intercept: reported with the intercepts
                mean_rows[v] = dict(row, op="~1", rhs="")
            else:
                ths.append(row)

        def struct(mask, gg=gg, mean_rows=mean_rows):
            for k in np.flatnonzero(mask):
                r = spt.iloc[k]
                label = r["label"] if isinstance(r["label"], str) else ""
                if r["op"] == "~1" and r["lhs"] in mean_rows:  # a continuous item's intercept
                    rows.append(dict(mean_rows[r["lhs"]], label=label))
                    continue
                idx = int(free[k]) - 1 if free[k] > 0 else -1
                rows.append(dict(lhs=r["lhs"], op=r["op"], rhs=r["rhs"], group=gg + 1, label=label, _idx=idx,
                                 est=est_rows[k], std_lv=std_lv[k], std_all=std_all[k]))

        struct(user & grp)
        rows.extend(ths)
        struct(~user & grp & (spt["op"].to_numpy() != "~1"))
        for i, v in enumerate(st0.names):
            if prob.num[i]:
                continue
            ix = prob.dl_index[gg][i]
            rows.append(dict(lhs=v, op="~*~", rhs=v, group=gg + 1, label="",
                             _idx=(ns + prob.ntau + ix) if ix >= 0 else -1, est=d[i], std_lv=d[i], std_all=1.0))
        struct(~user & grp & (spt["op"].to_numpy() == "~1") & spt["lhs"].isin(model.observed).to_numpy())
        struct(~user & grp & (spt["op"].to_numpy() == "~1") & ~spt["lhs"].isin(model.observed).to_numpy())
    tab = pd.DataFrame(rows)
    idx = tab["_idx"].to_numpy()
    tab["se"] = np.where(idx >= 0, se_int[np.maximum(idx, 0)], 0.0)
    order, free_col, seen = [], np.zeros(len(tab), dtype=int), {}
    for r, i in enumerate(idx):
        if i >= 0:
            if i not in seen:
                seen[i] = len(seen) + 1
                order.append(i)
            free_col[r] = seen[i]
    tab["free"] = free_col
    e, se = tab["est"].to_numpy(), tab["se"].to_numpy()
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
        # defined parameters (:=, group 0 as lavaan's): delta-method standard errors with the
        # robust vcov, the definitions evaluated on the standardized rows too
        d_est, d_se = est._defined_delta(lambda xx: model.row_values(xx[:ns]), x, vcov)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_z = np.where(d_se > 0, d_est / d_se, np.nan)
        defs = pd.DataFrame({
            "lhs": [d[0] for d in est._definitions], "op": ":=", "rhs": [d[1] for d in est._definitions],
            "group": 0, "label": [d[0] for d in est._definitions], "free": 0, "est": d_est, "se": d_se,
            "z": d_z, "p_value": 2 * stats.norm.sf(np.abs(d_z)), "ci_low": d_est - crit * d_se,
            "ci_high": d_est + crit * d_se, "std_lv": est._defined_values(std_lv),
            "std_all": est._defined_values(std_all)})
        tab = pd.concat([tab, defs], ignore_index=True)
    return tab, np.array(order, dtype=int)


def _fit_measures_mg(prob: GroupsProblem, x, chisq, df, jacs, a_inv, f, npar=None) -> pd.Series:
    ntot = prob.ntotal
    g = prob.g
    n = ntot - g  # lavaan's N - G for the (D)WLS estimators
    fg = prob.n / ntot
    out = {"npar": float(npar if npar is not None else prob.npar), "fmin": f / 2, "chisq": chisq, "df": float(df)}
    uls = prob.estimator in ("ULS", "ULSMV")
    out["pvalue"] = float(stats.chi2.sf(chisq, df)) if df > 0 and not uls else np.nan
    scaled = prob.estimator in ("WLSMV", "ULSMV")
    # U Gamma over all groups (lavaan: W_g weighted by n_g/N, Gamma_g by N/n_g)
    wall = np.concatenate([fgi * w for fgi, w in zip(fg, prob.w)])
    dall = np.vstack(jacs)
    gam = [st.gamma / fgi for st, fgi in zip(prob.stats, fg)]
    sizes = [len(s) for s in prob.s]
    gall = np.zeros((sum(sizes), sum(sizes)))
    o = 0
    for gm, sz in zip(gam, sizes):
        gall[o:o + sz, o:o + sz] = gm
        o += sz
    wd = dall * wall[:, None]
    u = np.diag(wall) - wd @ a_inv @ wd.T
    ug = u @ gall
    if scaled:
        x2s, c, _ = _scaled_shifted(chisq, df, float(np.trace(ug)), float(np.sum(ug * ug.T)))
        out.update({"chisq.scaled": x2s, "df.scaled": float(df), "pvalue.scaled": float(stats.chi2.sf(x2s, df)),
                    "chisq.scaling.factor": c})
    nth = prob.nth + prob.nvar  # thresholds, means and variances: free in the baseline model
    x2b = sum((ng - 1) * float(np.sum(w[nth:] * s[nth:] ** 2)) for ng, w, s in zip(prob.n, prob.w, prob.s))
    dfb = float(g * len(prob.ii))
    out.update({"baseline.chisq": x2b, "baseline.df": dfb,
                "baseline.pvalue": np.nan if uls else float(stats.chi2.sf(x2b, dfb))})
    if scaled:
        ub = np.concatenate([np.r_[np.zeros(nth), fgi * w[nth:]] for fgi, w in zip(fg, prob.w)])
        ugb = ub[:, None] * gall
        x2bs, cb, _ = _scaled_shifted(x2b, dfb, float(np.trace(ugb)), float(np.sum(ugb * ugb.T)))
        out.update({"baseline.chisq.scaled": x2bs, "baseline.df.scaled": dfb,
                    "baseline.pvalue.scaled": float(stats.chi2.sf(x2bs, dfb)), "baseline.chisq.scaling.factor": cb})
    versions = [("", chisq, x2b)] + ([(".scaled", x2s, x2bs)] if scaled else [])
    for suffix, x2, x2n in versions:
        out["cfi" + suffix] = fm.cfi(x2, df, x2n, dfb)
        out["tli" + suffix] = fm.tli(x2, df, x2n, dfb)
    for suffix, x2, x2n in versions:
        out["nnfi" + suffix] = out["tli" + suffix]
        out["rfi" + suffix] = fm.rfi(x2, df, x2n, dfb)
        out["nfi" + suffix] = fm.nfi(x2, df, x2n, dfb)
        out["pnfi" + suffix] = fm.pnfi(x2, df, x2n, dfb)
        out["ifi" + suffix] = fm.ifi(x2, df, x2n, dfb)
        out["rni" + suffix] = fm.rni(x2, df, x2n, dfb)
    for suffix, x2, _ in versions:
        out["rmsea" + suffix] = fm.rmsea(x2, df, n, g)
        lo, hi = fm.rmsea_ci(x2, df, n, g)
        out["rmsea.ci.lower" + suffix], out["rmsea.ci.upper" + suffix] = lo, hi
        if not suffix:
            out["rmsea.ci.level"] = 0.9
        out["rmsea.pvalue" + suffix] = fm.rmsea_pvalue(x2, df, n, g)
        out["rmsea.notclose.pvalue" + suffix] = fm.rmsea_notclose_pvalue(x2, df, n, g)
    mixed = prob.stats[0].mixed
    if scaled and not mixed:
        _robust_indices_mg(prob, x, chisq, df, dfb, n, g, fg, jacs, a_inv, out)
    elif scaled:  # lavaan 0.6-14 reports NA with continuous items among the ordered ones
        out.update(dict.fromkeys(["cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust",
                                  "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust",
                                  "rmsea.notclose.pvalue.robust"], np.nan))
    # residuals: rmr raw, srmr / crmr over the sample SDs (continuous items); the "total"
    # versions add the ordered items' thresholds only
    keys = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean")
    acc = dict.fromkeys(keys, 0.0)
    p = prob.p
    th_ord = ~prob.num[prob.th_item]
    nth_o = int(th_ord.sum())
    ii, jj = prob.ii, prob.jj
    nmom, ncor = p * (p + 1) / 2, p * (p - 1) / 2
    for fgi, s, imp, st in zip(fg, prob.s, prob.implied(x), prob.stats):
        e = s - imp
        sd = np.sqrt(st.var) if mixed else np.ones(p)
        ssq_raw = float(np.sum(e[nth:] ** 2))
        ssq = float(np.sum((e[nth:] / (sd[ii] * sd[jj])) ** 2))
        ssq_th = float(np.sum(e[: prob.nth][th_ord] ** 2))
        acc["rmr"] += fgi * np.sqrt((ssq_raw + ssq_th) / (nmom + nth_o))
        acc["rmr_nomean"] += fgi * np.sqrt(ssq_raw / nmom)
        acc["srmr_bentler"] += fgi * np.sqrt((ssq + ssq_th) / (nmom + nth_o))
        acc["srmr_bentler_nomean"] += fgi * np.sqrt(ssq / nmom)
        acc["crmr"] += fgi * np.sqrt((ssq + ssq_th) / (ncor + nth_o))
        acc["crmr_nomean"] += fgi * np.sqrt(ssq / ncor)
    out.update({k: acc[k] for k in ("rmr", "rmr_nomean", "crmr", "crmr_nomean")})
    out["srmr"] = out["srmr_bentler_nomean"] = acc["srmr_bentler_nomean"]
    out["srmr_bentler"] = acc["srmr_bentler"]
    out["cn_05"] = fm.hoelter_cn(chisq, df, n, 0.05)
    out["cn_01"] = fm.hoelter_cn(chisq, df, n, 0.01)
    out["ntotal"] = ntot
    return pd.Series(out, dtype=float)


def _robust_indices_mg(prob: GroupsProblem, x, chisq, df, dfb, n, g, fg, jacs, a_inv, out) -> None:
    """lavaan's categorical ``.robust`` indices over groups (``lav_fit_catml_dwls``); NaN with equal
    thresholds (lavaan's catML refit fails there: its ``==`` rows name removed thresholds)."""
    keys = ["cfi.robust", "tli.robust", "nnfi.robust", "rni.robust", "rmsea.robust", "rmsea.ci.lower.robust",
            "rmsea.ci.upper.robust", "rmsea.pvalue.robust", "rmsea.notclose.pvalue.robust"]
    if prob.eq_thresholds or any(not np.linalg.eigvalsh(st.cor).min() >= np.sqrt(np.finfo(float).eps) for st in prob.stats):
        out.update(dict.fromkeys(keys, np.nan))
        return
    if df <= 0:  # just identified: lavaan 0.6-14 reports a perfect fit (1, 0, CI 0-0; p-values NA)
        out.update(dict(zip(keys, [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, np.nan, np.nan])))
        return
    nth, p = prob.nth, prob.p
    ii, jj = prob.ii, prob.jj
    xx3 = xx3_null = 0.0
    vs, ws, gs, ds = [], [], [], []
    for gg, (st, imp) in enumerate(zip(prob.stats, prob.implied(x))):
        sig = np.eye(p)
        sig[ii, jj] = sig[jj, ii] = imp[nth:]
        si = np.linalg.inv(sig)
        r = st.cor
        xx3 += st.n * (np.linalg.slogdet(sig)[1] + np.trace(r @ si) - np.linalg.slogdet(r)[1] - p)
        xx3_null += -st.n * np.linalg.slogdet(r)[1]
        vs.append(fg[gg] * (si[np.ix_(ii, ii)] * si[np.ix_(jj, jj)] + si[np.ix_(ii, jj)] * si[np.ix_(jj, ii)]))
        ws.append(fg[gg] * prob.w[gg][nth:])
        gs.append(st.gamma[nth:, nth:] / fg[gg])
        ds.append(jacs[gg][nth:])
    k = len(ii)
    big = lambda mats: _bdiag(mats, k)  # noqa: E731
    v_all, g_all = big(vs), big(gs)
    w_all = np.concatenate(ws)
    d_all = np.vstack(ds)
    wiu = np.eye(len(w_all)) - d_all @ a_inv @ d_all.T * w_all[None, :]
    df3 = float(df)
    c3 = float(np.trace(wiu.T @ v_all @ wiu @ g_all)) / df3
    c3_null = float(np.trace(g_all)) / dfb
    out["cfi.robust"] = fm.cfi(xx3, df, xx3_null, dfb, c3, c3_null)
    out["tli.robust"] = out["nnfi.robust"] = fm.tli(xx3, df, xx3_null, dfb, c3, c3_null)
    out["rni.robust"] = fm.rni(xx3, df, xx3_null, dfb, c3, c3_null)
    out["rmsea.robust"] = fm.rmsea(xx3, df3, n, g, c_hat=c3)
    lo, hi = fm.rmsea_ci(xx3 / c3, df3, n, g, c_hat=c3)
    out["rmsea.ci.lower.robust"], out["rmsea.ci.upper.robust"] = lo, hi
    out["rmsea.pvalue.robust"] = fm.rmsea_pvalue(xx3 / c3, df3, n, g, c_hat=c3)
    out["rmsea.notclose.pvalue.robust"] = fm.rmsea_notclose_pvalue(xx3 / c3, df3, n, g, c_hat=c3)


def _bdiag(mats, k):
    out = np.zeros((k * len(mats), k * len(mats)))
    for i, m in enumerate(mats):
        out[i * k:(i + 1) * k, i * k:(i + 1) * k] = m
    return out
