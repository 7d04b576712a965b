"""Standardized solution, residuals and modification indices of an ordinal fit (one or several
groups), as lavaan 0.6-14 computes them for ``ordered =`` (DWLS / ULS) fits (private).

* ``standardizedSolution(fit)``: the ``std.all`` values as a function of the free parameters
  (lavaan's order, ``fit.x_``), re-derived at every point (the residual variances of the
  latent responses in the delta parameterization are ``1 - explained``, the thresholds
  ``tau / sqrt(diag Sigma*)`` in the theta parameterization); delta-method standard errors
  with the robust ``vcov_``.
* ``residuals(fit)``: observed minus model-implied polychoric correlations (diagonal 0) and
  thresholds (``th``; the means are 0).  The standardized residuals of ``lavResiduals`` use
  ``ACOV = Q (Gamma / N) Q'`` with ``Q = I - Delta A^-1 Delta' W`` (``A = Delta' W Delta``,
  ``W`` the DWLS weights or the identity for ULS; lavaan's ``lav_residuals_acov`` with its
  ``h1`` information the diagonal weight).
* ``modindices(fit)``: the model is extended by the absent cross-loadings and residual
  covariances of the latent responses; with ``J`` the Jacobian of (thresholds, correlations)
  at the estimates, ``I = J' W J`` and ``g = J' W (s - sigma)``::

      V = I_ee - I_em I_mm^-1 I_me,   MI = N (c g_e)^2 / V,   EPC = c g_e / V,   c = (N - 1) / N

  (several groups: the information weighted by ``n_g / N``, the gradient by ``(n_g - 1) / N``;
  lavaan's ``modindices``: the expected information of the extended WLS fit and its
  ``gradient.logl``, the gradient of lavaan's WLS objective, which is ``(N - 1) / N`` times
  ``(s - sigma)' W (s - sigma) / 2``).  ``sepc.all`` divides the EPC of a loading by the
  model-implied standard deviation of y* (1 in the delta parameterization) and multiplies it by
  the factor's; the EPC of a residual covariance is divided by the residual standard deviations
  of the two latent responses (``cov.std = TRUE``).

Linear ``==`` constraints (``x = x_p + K theta``), one group or several: the standardized values are
functions of the full parameter vector (``fit.x_``, whose ``vcov_`` is ``K V_theta K'``), evaluated
on a copy of the model without the constraints; the MIs use lavaan's inverted information of the
constrained fit, ``K (K' I_mm K)^-1 K'``, in ``V`` (lavaan's ``modindices``: ``I22.inv`` is
``lavTech(fit, "inverted.information")``, the augmented information inverted), and the fixed
marker loadings are candidates too (lavaan frees every fixed parameter; the markers whose
release the constraints identify keep a V above eps^(1/3), the others are dropped, as lavaan's
``na.remove``).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..exceptions import SpecificationError
from .model import SemModel
from .standardize import standardize


def _check(fit, what: str) -> None:
    if getattr(fit, "_ord", None) is None and getattr(fit, "_ord_mg", None) is None:
        raise SpecificationError(f"CFA.{what}() needs a fitted CFA (call .fit(data) first)")


def _mg(fit) -> bool:
    return getattr(fit, "_ord_mg", None) is not None


def _internal_index(fit) -> np.ndarray:
    """For each distinct free parameter in lavaan's order (``fit.x_``), its position in the
    internal vector (structural parameters over the model's free numbers, then thresholds)."""
    od = fit._ord
    spt, st, model = od["spt"], od["prob"].st, od["model"]
    key = {(r.lhs, r.op, r.rhs): int(r.free) - 1 for r in spt.itertuples() if r.free > 0}
    th = {(v, t): model.nfree + q for q, (v, t) in enumerate(st.th_names)}
    seen, order = set(), []
    pe = fit.params_
    for r in pe.itertuples():
        if r.free <= 0 or r.free in seen:
            continue
        seen.add(r.free)
        order.append(th[(r.lhs, r.rhs)] if r.op == "|" else key[(r.lhs, r.op, r.rhs)])
    return np.array(order, dtype=int)


def _rows_at(fit, x_full: np.ndarray):
    """(model with the residual variances of y* at x, structural values per table row,
    std_all per table row, scale factors) at the internal vector ``x_full``."""
    od = fit._ord
    spt, prob = od["spt"], od["prob"]
    model = copy.copy(od["model"])
    model.ustart = spt["ustart"].to_numpy(float).copy()
    xs = x_full[: model.nfree]
    observed = list(fit.observed_)
    sig0 = model.implied(xs)[0][0]
    if not prob.theta:
        ov = {v: i for i, v in enumerate(observed)}
        resvar = np.flatnonzero(((spt["op"] == "~~") & (spt["lhs"] == spt["rhs"])
                                 & spt["lhs"].isin(observed)).to_numpy())
        for k in resvar:
            i = ov[spt.iloc[k]["lhs"]]
            model.ustart[k] = 1.0 - sig0[i, i]
        sc = np.ones(len(observed))
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            sc = 1.0 / np.sqrt(np.diag(sig0))
    est_rows = model.row_values(xs)
    std_all = standardize(model, xs, est_rows)[1]
    return model, est_rows, std_all, sc


def std_all_function(fit):
    """``f(x_)``: the std.all value of every row of ``fit.params_`` (lavaan's order of rows)."""
    if _mg(fit):
        return _std_all_function_mg(fit)
    od = fit._ord
    spt, st, model = od["spt"], od["prob"].st, od["model"]
    order = _internal_index(fit)
    n_int = model.nfree + len(st.th_flat)
    pe = fit.params_
    spt_row = {(r.lhs, r.op, r.rhs): k for k, r in enumerate(spt.itertuples())}
    th_pos = {(v, t): q for q, (v, t) in enumerate(st.th_names)}
    item = {v: i for i, v in enumerate(fit.observed_)}
    kinds = []
    for r in pe.itertuples():
        if r.op in ("=~", "~~", "~"):
            kinds.append(("row", spt_row[(r.lhs, r.op, r.rhs)]))
        elif r.op == "|":
            kinds.append(("th", th_pos[(r.lhs, r.rhs)], item[r.lhs]))
        elif r.op == "~*~":
            kinds.append(("one",))
        elif r.op == "~1":
            kinds.append(("zero",))
        elif r.op == ":=":
            kinds.append(("def",))
        else:  # pragma: no cover - no other rows in an ordinal fit
            raise SpecificationError(f"unexpected row {r.lhs} {r.op} {r.rhs} in an ordinal fit")
    n_def = sum(k[0] == "def" for k in kinds)
    x_full0 = np.zeros(n_int)
    # parameters fixed by '==' constraints are not in x_: they keep their values (x_full of the fit)
    x_full0[order] = fit.x_

    def f(xv: np.ndarray) -> np.ndarray:
        x_full = x_full0.copy()
        x_full[order] = xv
        _m, _rows, std_all, sc = _rows_at(fit, x_full)
        tau = x_full[model.nfree:]
        out = np.empty(len(kinds))
        for k, kind in enumerate(kinds):
            if kind[0] == "row":
                out[k] = std_all[kind[1]]
            elif kind[0] == "th":
                out[k] = tau[kind[1]] * sc[kind[2]]
            elif kind[0] == "one":
                out[k] = 1.0
            elif kind[0] == "zero":
                out[k] = 0.0
        if n_def:
            out[[k for k, kind in enumerate(kinds) if kind[0] == "def"]] = fit._defined_values(std_all)
        return out

    return f


def residuals(fit, z: bool = False) -> dict:
    """``{"cov": DataFrame, "mean": Series, "th": Series}`` (plus ``cov_z`` / ``th_z``); a dict
    of those by group label for several groups."""
    if _mg(fit):
        return _residuals_mg(fit, z)
    od = fit._ord
    prob, x = od["prob"], od["x"]
    st = prob.st
    observed = list(fit.observed_)
    p, nth = prob.p, prob.nth
    e = prob.s - prob.implied(x)
    cov = np.zeros((p, p))
    cov[prob.ii, prob.jj] = cov[prob.jj, prob.ii] = e[nth:]
    names = [f"{v}|{t}" for v, t in st.th_names]
    out = {"cov": pd.DataFrame(cov, index=observed, columns=observed),
           "mean": pd.Series(np.zeros(p), index=observed), "th": pd.Series(e[:nth], index=names)}
    if z:
        d, a = prob.information(x)
        a_inv = np.linalg.pinv(a)
        acov_est = d @ a_inv @ d.T
        q = np.eye(len(e)) - acov_est * prob.w[None, :]
        acov = q @ (st.gamma / st.n) @ q.T
        dg = np.diag(acov).copy()
        dg[~np.isfinite(dg) | (dg < 0)] = np.nan
        se = np.sqrt(dg)
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = np.where(np.abs(e) < 1e-4, e, e / se)  # lavaan leaves residuals below 1e-4 as they are
        cz = np.zeros((p, p))
        cz[prob.ii, prob.jj] = cz[prob.jj, prob.ii] = zz[nth:]
        out["cov_z"] = pd.DataFrame(cz, index=observed, columns=observed)
        out["th_z"] = pd.Series(zz[:nth], index=names)
    return out


def modification_indices(fit, x_full: np.ndarray | None = None, s: np.ndarray | None = None,
                         w: np.ndarray | None = None) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` for an ordinal fit (one group; with '==' constraints too): MI, EPC, sEPC
    (at the estimates, or at the internal vector ``x_full``: structural parameters, thresholds;
    ``s`` and ``w`` replace the sample statistics, thresholds then correlations, and the weights)."""
    from .wls import OrdinalProblem

    if _mg(fit):
        return _modification_indices_mg(fit, x_full, s, w)
    od = fit._ord
    spt, prob = od["spt"], od["prob"]
    if x_full is None:
        x_full = np.concatenate([od["model"].full(od["x"][: prob.ns]), od["x"][prob.ns:]])
    model = _rows_at(fit, x_full)[0]
    con_k = model.con_k
    observed, latent = list(fit.observed_), list(fit.latent_)
    existing = set()
    for r in spt.itertuples():
        existing.add((r.op, frozenset((r.lhs, r.rhs))) if r.op == "~~" else (r.op, r.lhs, r.rhs))
    extra = [{"lhs": f, "op": "=~", "rhs": v} for f in latent for v in observed if ("=~", f, v) not in existing]
    extra += [{"lhs": v1, "op": "~~", "rhs": v2} for i, v1 in enumerate(observed) for v2 in observed[i + 1:]
              if ("~~", frozenset((v1, v2))) not in existing]
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]
    ext = pd.DataFrame(extra, columns=["lhs", "op", "rhs"])
    ext["group"] = 1
    base = spt.copy()
    ns = model.nfree
    keep = np.arange(len(base))
    start_ext = np.zeros(len(ext))
    # with '==' constraints lavaan also lists the fixed marker loadings whose release the
    # constraints identify (a2 + a3 == -3.6 fixes the factor's scale); the others get V ~ 0 and
    # are dropped below, as lavaan drops them
    freed = np.flatnonzero(((base["op"] == "=~") & (base["free"] == 0)).to_numpy()) if con_k is not None else []
    if len(freed):
        ext = pd.concat([base.iloc[freed][["lhs", "op", "rhs"]].assign(group=1), ext], ignore_index=True)
        start_ext = np.concatenate([model.ustart[freed], start_ext])
        keep = np.setdiff1d(keep, freed)
        base = base.iloc[keep].reset_index(drop=True)
    if ext.empty:
        return pd.DataFrame(columns=cols)
    ext_rows = ext.copy()
    for c in base.columns:
        if c not in ext_rows.columns:
            ext_rows[c] = base[c].iloc[0] if c in ("block", "level") else (0 if c != "label" else "")
    ext_rows["free"] = ns + 1 + np.arange(len(ext))
    ext_rows["ustart"] = np.nan
    ext_rows["user"] = 10
    ext_pt = pd.concat([base, ext_rows[base.columns]], ignore_index=True)
    ext_model = SemModel(ext_pt, observed, latent, 1)
    # the residual variances of y* as at the estimates (delta: 1 - explained)
    ext_model.ustart[: len(base)] = model.ustart[keep]
    ext_prob = OrdinalProblem(ext_model, prob.st, prob.estimator, "theta" if prob.theta else "delta")
    x = x_full
    x_ext = np.concatenate([x[:ns], start_ext, x[ns:]])
    jac = ext_prob.jacobian(x_ext)
    w = ext_prob.w if w is None else w
    info = jac.T @ (jac * w[:, None])  # lavaan's expected information of the extended model
    grad = jac.T @ (w * ((ext_prob.s if s is None else s) - ext_prob.implied(x_ext)))
    ne = len(ext)
    e_idx = np.arange(ns, ns + ne)
    m_idx = np.concatenate([np.arange(ns), np.arange(ns + ne, len(x_ext))])
    i_mm = info[np.ix_(m_idx, m_idx)]
    i_em = info[np.ix_(e_idx, m_idx)]
    if con_k is None:
        v = info[np.ix_(e_idx, e_idx)] - i_em @ np.linalg.solve(i_mm, i_em.T)
    else:
        # lavaan's inverted information of the constrained fit: K (K' I K)^-1 K'
        t = np.zeros((len(m_idx), con_k.shape[1] + len(m_idx) - ns))
        t[:ns, : con_k.shape[1]] = con_k
        t[ns:, con_k.shape[1]:] = np.eye(len(m_idx) - ns)
        i_em_t = i_em @ t
        v = info[np.ix_(e_idx, e_idx)] - i_em_t @ np.linalg.solve(t.T @ i_mm @ t, i_em_t.T)
    vd = np.diag(v).copy()
    vd[vd < np.finfo(float).eps ** (1 / 3)] = np.nan
    n = prob.n
    # lavaan's score of the WLS fit function is -(n - 1)/n g (its objective is (n - 1)/n times
    # e' W e / 2), its information J' W J: MI = N ((n-1)/n g)^2 / V, EPC = (n-1)/n g / V
    score = (n - 1) / n * grad[e_idx]
    mi = n * score**2 / vd
    d = n * score
    d[np.abs(d) < 1e-15] = 1.0
    epc = mi / d
    # standardization: sd of the factor and of y* (1 in the delta parameterization), residual sds
    xs = x[:ns]
    lvm = model.lv_moments(xs)[0][0]
    sigma = model.implied(xs)[0][0]
    th = model.matrices(xs)[0].theta
    sepc_lv = np.empty(ne)
    sepc_all = np.empty(ne)
    for k, r in enumerate(ext.itertuples()):
        if r.op == "=~":
            j, i = latent.index(r.lhs), observed.index(r.rhs)
            sd_lv = np.sqrt(lvm[j, j])
            sepc_lv[k] = epc[k] * sd_lv
            sepc_all[k] = epc[k] * sd_lv / np.sqrt(sigma[i, i])
        else:
            i, j = observed.index(r.lhs), observed.index(r.rhs)
            sepc_lv[k] = epc[k]
            sepc_all[k] = epc[k] / np.sqrt(th[i, i] * th[j, j])
    out = ext[["lhs", "op", "rhs", "group"]].copy()
    out["mi"], out["epc"], out["sepc_lv"], out["sepc_all"] = mi, epc, sepc_lv, sepc_all
    if len(freed):
        out = out[~(np.arange(ne) < len(freed)) | np.isfinite(vd)]
    return out.reset_index(drop=True)



# --------------------------------------------------------------------------- several groups
def _free_parts(fit):
    """``(model, prob, x, t)`` of a multi-group fit over its full vector of free parameters.

    Without ``==`` constraints: the fitted model and problem, ``x`` the estimates, ``t`` None.
    With them (``x = x_p + K theta``): copies of both without the constraints, ``x`` the full
    internal vector (structural parameters, thresholds, scale factors) at the estimates, and
    ``t = d x / d theta`` (``K`` for the structural block, the identity for the others)."""
    from .wls_mg import GroupsProblem

    om = fit._ord_mg
    model, prob, x = om["model"], om["prob"], om["x"]
    if model.con_k is None:
        return model, prob, x, None
    free = copy.copy(model)
    free.set_constraints(np.zeros((0, model.nfree)), np.zeros(0))
    free_prob = GroupsProblem(free, prob.stats, prob.estimator, prob.th_index, prob.dl_index, prob.theta,
                              prob.eq_thresholds)
    x_full = np.concatenate([model.full(x[: prob.ns]), x[prob.ns:]])
    t = np.zeros((len(x_full), len(x)))
    t[: model.nfree, : prob.ns] = model.con_k
    t[model.nfree:, prob.ns:] = np.eye(len(x) - prob.ns)
    return free, free_prob, x_full, t


def _resvar_model(fit, x: np.ndarray, model=None, prob=None):
    """The multi-group model with the residual variances of y* at ``x`` (delta: 1 / Delta^2 -
    explained; theta: fixed at 1), as ``custval._sem.wls_mg.fit_ordinal_groups`` sets them
    (``model`` / ``prob``: those of :func:`_free_parts`, by default the fitted ones)."""
    om = fit._ord_mg
    spt = om["spt"]
    prob = om["prob"] if prob is None else prob
    model = copy.copy(om["model"] if model is None else model)
    model.ustart = spt["ustart"].to_numpy(float).copy()
    if not prob.theta:
        observed = list(fit.observed_)
        ov = {v: i for i, v in enumerate(observed)}
        imp = model.implied(x[: prob.ns])
        resvar = np.flatnonzero(((spt["op"] == "~~") & (spt["lhs"] == spt["rhs"])
                                 & spt["lhs"].isin(observed)).to_numpy())
        for k in resvar:
            gg = int(spt.iloc[k]["group"]) - 1
            i = ov[spt.iloc[k]["lhs"]]
            model.ustart[k] = 1.0 / prob.scales(x, gg)[i] ** 2 - imp[gg][0][i, i]
    return model


def _std_all_function_mg(fit):
    om = fit._ord_mg
    spt, order = om["spt"], om["order"]
    # with '==' constraints: x_ (and vcov_) hold the full vector, the values are those of the model
    # without the constraints at that vector
    free_model, prob, x0, _t = _free_parts(fit)
    ns, ntau = prob.ns, prob.ntau
    spt_row = {(r.lhs, r.op, r.rhs, int(r.group)): k for k, r in enumerate(spt.itertuples())}
    th_pos = {(v, t): q for q, (v, t) in enumerate(prob.stats[0].th_names)}
    kinds = []
    for r in fit.params_.itertuples():
        if r.op == "|":
            q = th_pos[(r.lhs, r.rhs)]
            kinds.append(("th", int(r.group) - 1, q, int(prob.th_item[q])))
        elif r.op == "~*~":
            kinds.append(("one",))
        elif (r.lhs, r.op, r.rhs, int(r.group)) in spt_row:
            kinds.append(("row", spt_row[(r.lhs, r.op, r.rhs, int(r.group))]))
        else:
            raise SpecificationError(f"standardized_solution: row {r.lhs} {r.op} {r.rhs} (group {r.group}) "
                                     "of a multi-group ordinal fit is not supported")
    def f(xv: np.ndarray) -> np.ndarray:
        x = x0.copy()
        x[order] = xv
        xs = x[:ns]
        model = _resvar_model(fit, x, free_model, prob)
        std_all = standardize(model, xs, model.row_values(xs))[1]
        sd = [np.sqrt(np.diag(sig)) for sig, _ in model.implied(xs)]
        tau = x[ns:ns + ntau]
        out = np.empty(len(kinds))
        for k, kind in enumerate(kinds):
            if kind[0] == "row":
                out[k] = std_all[kind[1]]
            elif kind[0] == "th":
                g, q, i = kind[1:]
                out[k] = tau[prob.th_index[g][q]] / sd[g][i]
            else:
                out[k] = 1.0
        return out

    return f


def _residuals_mg(fit, z: bool) -> dict:
    om = fit._ord_mg
    prob, x = om["prob"], om["x"]
    observed = list(fit.observed_)
    p, nth = prob.p, prob.nth
    imps = prob.implied(x)
    names = [f"{v}|{t}" for v, t in prob.stats[0].th_names]
    if z:
        jacs = prob.jacobians(x)
        fg = prob.n / prob.ntotal
        a_inv = np.linalg.pinv(sum(f * j.T @ (j * w[:, None]) for f, j, w in zip(fg, jacs, prob.w)))
    out = {}
    for g, lab in enumerate(fit.group_labels_):
        e = prob.s[g] - imps[g]
        cov = np.zeros((p, p))
        cov[prob.ii, prob.jj] = cov[prob.jj, prob.ii] = e[nth:]
        res = {"cov": pd.DataFrame(cov, index=observed, columns=observed),
               "mean": pd.Series(np.zeros(p), index=observed), "th": pd.Series(e[:nth], index=names)}
        if z:
            # lavaan's lav_residuals_acov: ACOV.obs = NACOV_g / N (the total N), ACOV.est = (n_g / N)
            # Delta_g A^-1 Delta_g'
            jac = jacs[g]
            q = np.eye(len(e)) - fg[g] * (jac @ a_inv @ jac.T) * prob.w[g][None, :]
            acov = q @ (prob.stats[g].gamma / prob.ntotal) @ q.T
            res.update(_z(e, acov, nth, p, prob.ii, prob.jj, observed, names))
        out[lab] = res
    return out


def _z(e, acov, nth, p, ii, jj, observed, names) -> dict:
    dg = np.diag(acov).copy()
    dg[~np.isfinite(dg) | (dg < 0)] = np.nan
    se = np.sqrt(dg)
    with np.errstate(divide="ignore", invalid="ignore"):
        zz = np.where(np.abs(e) < 1e-4, e, e / se)  # lavaan leaves residuals below 1e-4 as they are
    cz = np.zeros((p, p))
    cz[ii, jj] = cz[jj, ii] = zz[nth:]
    return {"cov_z": pd.DataFrame(cz, index=observed, columns=observed), "th_z": pd.Series(zz[:nth], index=names)}


def _modification_indices_mg(fit, x=None, s=None, w=None) -> pd.DataFrame:
    from .wls_mg import GroupsProblem

    om = fit._ord_mg
    spt = om["spt"]
    free_model, prob, x_est, t = _free_parts(fit)
    x = x_est if x is None else x
    ns = prob.ns
    model = _resvar_model(fit, x, free_model, prob)
    observed, latent = list(fit.observed_), list(fit.latent_)
    ngroups = prob.g
    existing = set()
    for r in spt.itertuples():
        g = int(r.group)
        existing.add((g, r.op, frozenset((r.lhs, r.rhs))) if r.op == "~~" else (g, r.op, r.lhs, r.rhs))
    extra = []
    for g in range(1, ngroups + 1):
        extra += [{"lhs": f, "op": "=~", "rhs": v, "group": g} for f in latent for v in observed
                  if (g, "=~", f, v) not in existing]
        extra += [{"lhs": v1, "op": "~~", "rhs": v2, "group": g} for i, v1 in enumerate(observed)
                  for v2 in observed[i + 1:] if (g, "~~", frozenset((v1, v2))) not in existing]
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]
    base = spt.copy()
    keep = np.arange(len(base))
    start_ext = np.zeros(len(extra))
    ext = pd.DataFrame(extra, columns=["lhs", "op", "rhs", "group"])
    # lavaan also lists the fixed marker loadings when loadings are equal across groups, and the
    # (fixed at 0) intercepts of the latent responses when thresholds are
    fixed = (base["free"] == 0).to_numpy()
    markers = (base["op"] == "=~").to_numpy() & fixed
    # (and with '==' constraints, which may tie the scales of a factor across groups: the markers
    # whose release is not identified get V ~ 0 and are dropped below, as lavaan drops them)
    if "loadings" not in tuple(getattr(fit, "_group_equal", ())) and t is None:
        markers[:] = False
    intercepts = ((base["op"] == "~1") & base["lhs"].isin(observed)).to_numpy() & fixed & bool(prob.eq_thresholds)
    freed = np.flatnonzero(markers | intercepts)
    if len(freed):
        ext = pd.concat([base.iloc[freed][["lhs", "op", "rhs", "group"]], ext], ignore_index=True)
        start_ext = np.concatenate([model.ustart[freed], start_ext])
        keep = np.setdiff1d(keep, freed)
        base = base.iloc[keep].reset_index(drop=True)
    if ext.empty:
        return pd.DataFrame(columns=cols)
    ext_rows = ext.copy()
    for c in base.columns:
        if c not in ext_rows.columns:
            ext_rows[c] = base[c].iloc[0] if c in ("block", "level") else (0 if c != "label" else "")
    ext_rows["free"] = ns + 1 + np.arange(len(ext))
    ext_rows["ustart"] = np.nan
    ext_rows["user"] = 10
    ext_rows["group"] = ext["group"].to_numpy()
    ext_pt = pd.concat([base, ext_rows[base.columns]], ignore_index=True)
    ext_model = SemModel(ext_pt, observed, latent, ngroups)
    ext_model.ustart[: len(base)] = model.ustart[keep]
    ext_prob = GroupsProblem(ext_model, prob.stats, prob.estimator, prob.th_index, prob.dl_index, prob.theta,
                             prob.eq_thresholds)
    ne = len(ext)
    x_ext = np.concatenate([x[:ns], start_ext, x[ns:]])
    jacs = ext_prob.jacobians(x_ext)
    imps = ext_prob.implied(x_ext)
    ws = ext_prob.w if w is None else w
    ss = ext_prob.s if s is None else s
    fg = prob.n / prob.ntotal
    info = sum(f * j.T @ (j * wg[:, None]) for f, j, wg in zip(fg, jacs, ws))
    # lavaan's gradient of the WLS objective: groups weighted by (n_g - 1) / N
    grad = sum(c * j.T @ (wg * (sg - ig)) for c, j, wg, sg, ig in zip((prob.n - 1) / prob.ntotal, jacs, ws, ss, imps))
    e_idx = np.arange(ns, ns + ne)
    m_idx = np.concatenate([np.arange(ns), np.arange(ns + ne, len(x_ext))])
    i_mm = info[np.ix_(m_idx, m_idx)]
    i_em = info[np.ix_(e_idx, m_idx)]
    if t is None:
        v = info[np.ix_(e_idx, e_idx)] - i_em @ np.linalg.solve(i_mm, i_em.T)
    else:
        # '==' constraints: lavaan's inverted information of the constrained fit (the augmented
        # matrix [I H'; H 0] inverted, its upper-left block), which is K (K' I K)^-1 K'
        i_em_t = i_em @ t
        v = info[np.ix_(e_idx, e_idx)] - i_em_t @ np.linalg.solve(t.T @ i_mm @ t, i_em_t.T)
    vd = np.diag(v).copy()
    vd[vd < np.finfo(float).eps ** (1 / 3)] = np.nan
    score = grad[e_idx]
    n = prob.ntotal
    mi = n * score**2 / vd
    d = n * score
    d[np.abs(d) < 1e-15] = 1.0
    epc = mi / d
    xs = x[:ns]
    lvm = model.lv_moments(xs)
    imp = model.implied(xs)
    mats = model.matrices(xs)
    sepc_lv = np.empty(ne)
    sepc_all = np.empty(ne)
    for k, r in enumerate(ext.itertuples()):
        g = int(r.group) - 1
        if r.op == "=~":
            j, i = latent.index(r.lhs), observed.index(r.rhs)
            sd_lv = np.sqrt(lvm[g][0][j, j])
            sepc_lv[k] = epc[k] * sd_lv
            sepc_all[k] = epc[k] * sd_lv / np.sqrt(imp[g][0][i, i])
        elif r.op == "~1":  # an intercept of a latent response: in its standard deviations
            i = observed.index(r.lhs)
            sepc_lv[k] = epc[k]
            sepc_all[k] = epc[k] / np.sqrt(imp[g][0][i, i])
        else:
            i, j = observed.index(r.lhs), observed.index(r.rhs)
            th = mats[g].theta
            sepc_lv[k] = epc[k]
            sepc_all[k] = epc[k] / np.sqrt(th[i, i] * th[j, j])
    out = ext[["lhs", "op", "rhs", "group"]].copy()
    out["group"] = out["group"].astype(int)
    out["mi"], out["epc"], out["sepc_lv"], out["sepc_all"] = mi, epc, sepc_lv, sepc_all
    if t is not None and len(freed):
        out = out[~(np.arange(ne) < len(freed)) | np.isfinite(vd)]
    return out.reset_index(drop=True)
