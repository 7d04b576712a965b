"""Modification indices as ``lavaan::modindices()`` (private).

The model is extended by every absent cross-loading (``f =~ x``) and every
absent residual covariance (``x ~~ y``), fixed at 0.  With ``I`` the expected
information of the extended model at the estimates (per case) and ``g`` the
gradient of the fit function::

    V   = I_ee - I_em I_mm^-1 I_me
    MI  = N g_e^2 / diag(V)
    EPC = -g_e / diag(V)

``sepc.all`` rescales the EPC by the model-implied standard deviations
(latent and observed) for loadings and by the residual standard deviations
for residual covariances (``cov.std = TRUE``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ml import MLProblem
from .model import SemModel


def modification_indices(fit) -> pd.DataFrame:
    model, pt = fit._model, fit.partable_
    observed, latent = fit.observed_, fit.latent_
    covariates = list(getattr(fit, "covariates_", ()))
    # candidates: loadings on and residual covariances of the indicators (not
    # of the fixed.x covariates)
    indicators = [v for v in observed if v not in covariates]
    direct = set(pt.loc[(pt["op"] == "~") & pt["lhs"].isin(indicators), "lhs"])
    ngroups = model.ngroups
    existing = set()
    for r in pt.itertuples():
        if r.op == "~~":
            existing.add((r.group, r.op, frozenset((r.lhs, r.rhs))))
        else:
            existing.add((r.group, r.op, r.lhs, r.rhs))
    extra = []
    for g in range(1, ngroups + 1):
        for f in latent:
            for v in indicators:
                # (lavaan proposes no loadings onto an indicator with a direct effect, 'x ~ z')
                if (g, "=~", f, v) not in existing and v not in direct:
                    extra.append({"lhs": f, "op": "=~", "rhs": v, "group": g})
        for i, v1 in enumerate(indicators):
            for v2 in indicators[i + 1 :]:
                if (g, "~~", frozenset((v1, v2))) not in existing:
                    extra.append({"lhs": v1, "op": "~~", "rhs": v2, "group": g})
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]
    if not extra:
        return pd.DataFrame(columns=cols)
    base = pt[["lhs", "op", "rhs", "group", "free", "ustart"]].copy()
    # lavaan also lists the fixed marker loadings when loadings are constrained
    # equal across groups (freeing one is then identified)
    freed = []
    if ngroups > 1 and "loadings" in tuple(getattr(fit, "_group_equal", ())):
        freed = list(np.flatnonzero(((base["op"] == "=~") & (base["free"] == 0)).to_numpy()))
    ext = pd.DataFrame(extra)
    start_ext = np.zeros(len(ext))
    if freed:
        fixed_rows = base.iloc[freed][["lhs", "op", "rhs", "group"]]
        start_ext = np.concatenate([base["ustart"].to_numpy()[freed], start_ext])
        ext = pd.concat([fixed_rows, ext], ignore_index=True)
        base = base.drop(index=base.index[freed])
    ext["free"] = model.nx + 1 + np.arange(len(ext))
    ext["ustart"] = np.nan
    ext_pt = pd.concat([base, ext], ignore_index=True)
    ext_model = SemModel(ext_pt, observed, latent, ngroups, exo=covariates)
    ext_model.meanstructure = model.meanstructure
    problem = MLProblem(ext_model, fit._groups)
    x_ext = np.concatenate([fit.x_, start_ext])
    info = problem.expected_information(x_ext)
    grad = problem.gradient(x_ext)
    m = model.nx
    i_mm = info[:m, :m]
    i_em = info[m:, :m]
    v = info[m:, m:] - i_em @ np.linalg.solve(i_mm, i_em.T)
    vd = np.diag(v).copy()
    vd[vd < np.finfo(float).eps ** (1 / 3)] = np.nan
    ge = grad[m:]
    n = problem.ntotal
    mi = n * ge**2 / vd
    d = -n * ge
    d[np.abs(d) < 1e-15] = 1.0
    epc = mi / d
    # standardization
    implied = model.implied(fit.x_)
    lvm = model.lv_moments(fit.x_)
    mats = model.matrices(fit.x_)
    sepc_lv = np.empty(len(ext))
    sepc_all = np.empty(len(ext))
    for k, r in enumerate(ext.itertuples()):
        g = r.group - 1
        sigma, _ = implied[g]
        phi, _ = lvm[g]
        if r.op == "=~":
            j, i = latent.index(r.lhs), observed.index(r.rhs)
            sd_lv = np.sqrt(phi[j, j])
            sepc_lv[k] = epc[k] * sd_lv
            sepc_all[k] = epc[k] * sd_lv / np.sqrt(sigma[i, i])
        else:
            i, j = observed.index(r.lhs), observed.index(r.rhs)
            th = mats[g].theta
            sepc_lv[k] = epc[k]
            sepc_all[k] = epc[k] / np.sqrt(th[i, i] * th[j, j])
    out = ext[["lhs", "op", "rhs", "group"]].copy()
    out["mi"], out["epc"], out["sepc_lv"], out["sepc_all"] = mi, epc, sepc_lv, sepc_all
    return out.reset_index(drop=True)
