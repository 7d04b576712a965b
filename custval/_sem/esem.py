"""ESEM blocks of a CFA (private): lavaan 0.6-14's ``efa("block")*factor`` syntax.

lavaan fits an exploratory block of m factors with the k-th factor's first k - 1
loadings and the block's factor covariances fixed to 0 (the echelon
identification, ``user = 7`` rows; :func:`custval._sem.syntax._efa_echelon`),
then rotates each block (``lav_model_efa_rotate``: the block's loadings
standardised by ``diag(Lambda Lambda' + Theta)``, rotation with random starts,
reflection and ``order.lv.by = "index"``; :mod:`custval._stats.efa_lavaan`) and
transforms the factor covariances (``Psi -> H' Psi H``) and the regressions among
the latent variables (``B -> H' B H^-T``).  The standard errors
are ``rotation.se = "bordered"``: the expected information of the model with
every loading and factor correlation of the block free, bordered by the
Jacobian of the rotation's stationarity conditions.  The fit is the fit of the
echelon model (a rotation does not change it).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._stats import efa_lavaan as el
from .._stats import rotation as rot
from ..exceptions import ConvergenceWarning, SpecificationError
from .ml import MLProblem
from .model import SemModel

#: lavaan 0.6-14's rotation.args for ESEM (lavOptions("rotation.args"))
ROTATION = "geomin"
EPSILON = 0.001
N_STARTS = 30


def blocks(pt) -> list[tuple[str, list[str], list[str]]]:
    """``(block, factors, items)`` per efa block (factors in order, items in the model's order)."""
    if "efa" not in pt:
        return []
    out = []
    lo = pt[(pt["op"] == "=~") & (pt["efa"] != "")]
    for b in dict.fromkeys(lo["efa"]):
        sub = lo[lo["efa"] == b]
        out.append((b, list(dict.fromkeys(sub["lhs"])), list(dict.fromkeys(sub["rhs"]))))
    return out


def rotate(cfa, *, seed=None) -> None:
    """Rotate the fitted echelon solution of ``cfa`` in place: params_, x_, vcov_ of the rotated model."""
    model, pt, groups = cfa._model, cfa.partable_, cfa._groups
    if cfa._definitions or model.con_k is not None or len(groups) != 1:
        raise SpecificationError(
            "exploratory (ESEM) blocks are supported in models with one group, without '==' constraints "
            "or ':=' definitions")
    if cfa._estimator != "ML" or cfa._missing != "listwise":
        raise SpecificationError("exploratory (ESEM) blocks are supported with estimator='ML' and "
                                 "missing='listwise' (lavaan's rotation.se = 'bordered' of ML)")
    vgq = rot.criterion(ROTATION, delta=EPSILON)
    x = cfa.x_
    gm = model.matrices(x)[0]
    lv = {f: i for i, f in enumerate(model.latent)}
    ov = {v: i for i, v in enumerate(model.observed)}
    hg = np.eye(model.m)
    info_blocks = []
    for b, lvs, items in blocks(pt):
        li = [lv[f] for f in lvs]
        oi = [ov[v] for v in items]
        if len(li) < 2:
            continue
        a = gm.lam[np.ix_(oi, li)]
        ov_var = np.sum(a**2, axis=1) + np.diag(gm.theta)[oi]
        a_std = a / np.sqrt(ov_var)[:, None]
        L, phi, conv, f, best, fs = el.rotate_best(a_std, vgq, orthogonal=False, n_starts=N_STARTS, seed=seed,
                                                   lavaan=True)
        if not conv:
            warnings.warn(f"geomin rotation of efa block {b!r} did not converge", ConvergenceWarning,
                          stacklevel=4)
        # lav_matrix_rotate reflects and orders the columns of the unstandardised loadings
        L, phi, _order, _signs = el.reflect_order(L * np.sqrt(ov_var)[:, None], phi)
        # L = a H^-T  ->  H^-T = a^+ L
        h_inv_t = np.linalg.lstsq(a, L, rcond=None)[0]
        hg[np.ix_(li, li)] = np.linalg.inv(h_inv_t).T
        info_blocks.append((b, li, oi, f, best))
    lam_r = gm.lam @ np.linalg.inv(hg).T
    psi_r = hg.T @ gm.psi @ hg
    # the rotated model: the echelon rows free (lavaan's PT.new)
    # (numbered in row order; rows sharing a parameter through a label keep sharing it)
    pt_full = pt.copy()
    ids: dict = {}
    fr = np.zeros(len(pt), dtype=int)
    for k, (f0, user) in enumerate(zip(pt["free"].to_numpy(), pt["user"].to_numpy())):
        key = ("free", int(f0)) if f0 > 0 else (("echelon", k) if user == 7 else None)
        if key is not None:
            fr[k] = ids.setdefault(key, len(ids) + 1)
    pt_full["free"] = fr
    model_full = SemModel(pt_full, model.observed, model.latent[: len(model.latent) - len(model.exo)], 1,
                          exo=model.exo)
    hg_inv = np.linalg.inv(hg)
    # lavaan: BETA <- t(H) %*% t(solve(H, t(BETA)))
    beta_r = hg.T @ gm.beta @ hg_inv.T
    mats = {"lam": lam_r, "psi": psi_r, "theta": gm.theta, "nu": gm.nu, "alpha": hg.T @ gm.alpha, "beta": beta_r}
    x_rot = np.zeros(model_full.nfree)
    for (_g, name, i, j), fidx in zip(model_full.rows, fr):
        if fidx > 0:
            x_rot[fidx - 1] = mats[name][i] if name in ("nu", "alpha") else mats[name][i, j]
    problem = MLProblem(model_full, groups)
    info = problem.expected_information(x_rot)

    def border(xx, lavaan=True):
        g2 = model_full.matrices(xx)[0]
        out = []
        for _b, li, oi, _f, _best in info_blocks:
            a = g2.lam[np.ix_(oi, li)]
            phi = g2.psi[np.ix_(li, li)]
            # lavaan standardises with tcrossprod(A) + THETA (no Phi): its constraints are not quite the
            # stationarity conditions of the oblique rotation; with Phi they are (the delta method)
            ov_var = np.sum(a**2, axis=1) if lavaan else np.einsum("ij,jk,ik->i", a, phi, a)
            out.append(el.border_block(a, ov_var + np.diag(g2.theta)[oi], phi, vgq, False))
        return np.concatenate(out) if out else np.zeros(0)

    hjac = el.richardson_jacobian(border, x_rot)
    vcov = el.bordered_inverse(info, hjac, problem.ntotal)
    hjac_std = el.richardson_jacobian(lambda xx: border(xx, False), x_rot)
    cfa._vcov_std = el.bordered_inverse(info, hjac_std, problem.ntotal)
    exo = cfa.covariates_
    est_unrot = cfa.params_["est"].to_numpy()
    params = cfa._parameter_table(model_full, pt_full, x_rot, vcov, 1, exo)
    params["free"] = pt["free"].to_numpy()  # lavaan's free numbers: those of the echelon model
    params["est_unrotated"] = est_unrot
    cfa.params_ = params
    cfa.x_unrotated_ = x
    cfa.x_, cfa.vcov_ = x_rot, vcov
    cfa.information_ = info
    cfa._model, cfa._problem = model_full, problem
    cfa.rotation_ = {b: {"criterion": f, "start": best} for b, _li, _oi, f, best in info_blocks}
    cfa.efa_blocks_ = {b: lvs for b, lvs, _items in blocks(pt)}
