"""The alignment optimisation of Asparouhov & Muthén (2014), for one factor at a time.

Input: the configural estimates of one factor, loadings ``lam`` and intercepts ``nu`` as
(groups x items) arrays from a model with factor mean 0 and variance 1 in every group, and the
group sizes ``n``.  For factor means ``alpha`` and factor standard deviations ``psi`` the aligned
parameters are ``lam_g / psi_g`` and ``nu_g - alpha_g lam_g / psi_g``; the loss is

    F = sum_items sum_{g < h} sqrt(n_g n_h) [ f(dlam_gh) + f(dnu_gh) ],
    f(d) = (d^2 + eps) ** (power / 2),

the component loss function (CLF) ``f(d) = sqrt(sqrt(d^2 + eps))`` for ``power = 0.5``.
sirt's ``invariance.alignment`` minimises the same function up to the factor
``2 / (sum_g sqrt(n_g))^2`` (it normalises the weights per item and counts both orders of a
pair); :func:`sirt_fopt` converts.

Parameterisations: ``"FIXED"`` fixes the reference group's mean 0 and SD 1 and estimates the
others; ``"FREE"`` estimates every mean and every SD but the reference group's.  The minimiser
is the public :func:`scipy.optimize.minimize` (L-BFGS-B, analytic gradient, SDs bounded below by
0.01 as sirt) from several starts (sirt's median start and seeded random ones); the best value
is kept (the first start among those within a relative 1e-9 of it, so the choice does not hang
on the last bits of a floating-point sum) and polished to a tight tolerance.  The loss and its gradient use element-wise numpy
only (no BLAS); L-BFGS-B's own vector updates use BLAS, so the last bits of the optimum may
differ between CPUs (tests/test_alignment.py: within 1e-11 under another OpenBLAS kernel).

Standard errors follow sirt (``vcov =``): the optimum ``x(theta)`` is an implicit function of
the configural estimates ``theta``; ``dx/dtheta = -H_xx^-1 H_xtheta`` and
``V_x = A V_theta A'`` with the groups' sampling covariances of (loadings, intercepts).  sirt
differentiates numerically; here the second derivatives are analytic.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize

PSI_MIN = 0.01  # sirt's lower bound of the factor SD


@dataclasses.dataclass
class AlignSolution:
    alpha: np.ndarray  # factor means (G,)
    psi: np.ndarray  # factor SDs (G,)
    fopt: float  # loss at the optimum (custval's scale: weights sqrt(n_g n_h), each pair once)
    converged: bool
    n_starts: int
    n_at_best: int  # starts that reached the best value (relative 1e-6)
    values: np.ndarray  # loss reached from each start
    free_alpha: np.ndarray  # bool (G,)
    free_psi: np.ndarray  # bool (G,)
    message: str


def clf(d: np.ndarray, power: float, eps: float) -> np.ndarray:
    return (d * d + eps) ** (power / 2.0)


def _d1(d, power, eps):
    return power * d * (d * d + eps) ** (power / 2.0 - 1.0)


def _d2(d, power, eps):
    s = d * d + eps
    return power * s ** (power / 2.0 - 2.0) * ((power - 1.0) * d * d + eps)


def _weights(n: np.ndarray) -> np.ndarray:
    w = np.sqrt(np.asarray(n, dtype=float))
    W = w[:, None] * w[None, :]
    np.fill_diagonal(W, 0.0)
    return W


def _uv(lam, nu, alpha, psi):
    u = lam / psi[:, None]
    v = nu - alpha[:, None] * u
    return u, v


def loss(lam, nu, n, alpha, psi, power=0.5, eps=0.01) -> float:
    """F(alpha, psi): each pair of groups once, weight sqrt(n_g n_h)."""
    W = _weights(n)
    u, v = _uv(lam, nu, alpha, psi)
    du = u[:, None, :] - u[None, :, :]
    dv = v[:, None, :] - v[None, :, :]
    tot = (W[:, :, None] * (clf(du, power, eps) + clf(dv, power, eps))).sum()
    return float(tot / 2.0)  # the full (g, h) sum counts each pair twice


def _grad_uv(W, u, v, power, eps):
    du = u[:, None, :] - u[None, :, :]
    dv = v[:, None, :] - v[None, :, :]
    gu = (W[:, :, None] * _d1(du, power, eps)).sum(axis=1)
    gv = (W[:, :, None] * _d1(dv, power, eps)).sum(axis=1)
    return gu, gv, du, dv


def _clf_and_d1(d, power, eps):
    """f(d) and f'(d) with one power: f' = power d f / (d^2 + eps)."""
    s = d * d
    s += eps
    f = np.sqrt(np.sqrt(s)) if power == 0.5 else s ** (power / 2.0)
    return f, power * d * f / s


class _Pairs:
    """The pairs g < h of G groups and their weights sqrt(n_g n_h), for the loss and gradient."""

    def __init__(self, n):
        w = np.sqrt(np.asarray(n, dtype=float))
        self.G = len(w)
        self.iu, self.ju = np.triu_indices(self.G, k=1)
        self.w = (w[self.iu] * w[self.ju])[:, None]


def _grad_full(lam, nu, pairs, alpha, psi, power, eps):
    """Loss and gradient with respect to (alpha (G), psi (G)); element-wise numpy and ordered
    sums (``np.bincount``) only, so the same numbers on every CPU."""
    if not isinstance(pairs, _Pairs):  # a weight matrix (tests): rebuild the pairs from it
        pairs = _pairs_from_weights(pairs)
    G, n_items = lam.shape
    u, v = _uv(lam, nu, alpha, psi)
    iu, ju, w = pairs.iu, pairs.ju, pairs.w
    fu, d1u = _clf_and_d1(u[iu] - u[ju], power, eps)
    fv, d1v = _clf_and_d1(v[iu] - v[ju], power, eps)
    f = float((w * (fu + fv)).sum())
    d1u *= w
    d1v *= w
    cols = np.arange(n_items)[None, :]
    ii = (iu[:, None] * n_items + cols).ravel()
    jj = (ju[:, None] * n_items + cols).ravel()
    size = G * n_items
    gu = (np.bincount(ii, d1u.ravel(), size) - np.bincount(jj, d1u.ravel(), size)).reshape(G, n_items)
    gv = (np.bincount(ii, d1v.ravel(), size) - np.bincount(jj, d1v.ravel(), size)).reshape(G, n_items)
    g_alpha = -(gv * u).sum(axis=1)
    g_psi = (-(gu * u) + gv * alpha[:, None] * u).sum(axis=1) / psi
    return f, g_alpha, g_psi


def _pairs_from_weights(W):
    p = _Pairs(np.ones(W.shape[0]))
    p.w = W[p.iu, p.ju][:, None]
    return p


def sirt_fopt(fopt: float, n: np.ndarray) -> float:
    """custval's loss on sirt's scale (weights normalised per item, both orders of a pair)."""
    s = np.sqrt(np.asarray(n, dtype=float)).sum()
    return 2.0 * fopt / (s * s)


def align(lam, nu, n, *, method="FIXED", reference=0, power=0.5, eps=0.01, starts=10,
          seed=0, gtol=1e-10) -> AlignSolution:
    """Minimise the alignment loss; see the module docstring."""
    lam = np.asarray(lam, dtype=float)
    nu = np.asarray(nu, dtype=float)
    G = lam.shape[0]
    W = _weights(n)
    pairs = _Pairs(n)
    free_alpha = np.ones(G, dtype=bool)
    free_psi = np.ones(G, dtype=bool)
    free_psi[reference] = False
    if method == "FIXED":
        free_alpha[reference] = False
    na = int(free_alpha.sum())

    def unpack(x):
        alpha = np.zeros(G)
        psi = np.ones(G)
        alpha[free_alpha] = x[:na]
        psi[free_psi] = x[na:]
        return alpha, psi

    def fun(x):
        alpha, psi = unpack(x)
        f, ga, gp = _grad_full(lam, nu, pairs, alpha, psi, power, eps)
        return f, np.concatenate([ga[free_alpha], gp[free_psi]])

    # sirt's start: medians of the configural loadings / intercepts relative to the reference
    med_l = np.median(lam, axis=1)
    med_n = np.median(nu, axis=1)
    psi0 = np.clip(med_l / med_l[reference], PSI_MIN, None)
    alpha0 = med_n - med_n[reference]
    x_start = [np.concatenate([alpha0[free_alpha], psi0[free_psi]])]
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    for _ in range(max(int(starts), 1) - 1):
        a = alpha0 + rng.normal(0.0, 0.5, G)
        p = np.clip(psi0 * np.exp(rng.normal(0.0, 0.3, G)), PSI_MIN * 2, None)
        if method == "FIXED":
            a[reference] = 0.0
        x_start.append(np.concatenate([a[free_alpha], p[free_psi]]))
    bounds = [(None, None)] * na + [(PSI_MIN, None)] * int(free_psi.sum())
    from .._stats.relcore import single_thread_blas

    results = []
    # L-BFGS-B's small vector updates: BLAS threads only add overhead
    with single_thread_blas():
        for x0 in x_start:
            res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                    options={"maxiter": 20000, "maxcor": 30, "ftol": 1e-12,
                                             "gtol": 1e-8})
            results.append(res)
        values = np.array([r.fun for r in results])
        best = float(values.min())
        tol = 1e-9 * max(abs(best), 1.0)
        k = int(np.flatnonzero(values <= best + tol)[0])
        res = results[k]
        # polish the best start to a tight tolerance (the starts stop at a relative 1e-12 change)
        res2 = optimize.minimize(fun, res.x, jac=True, method="L-BFGS-B", bounds=bounds,
                                 options={"maxiter": 20000, "maxcor": 50, "ftol": 0.0, "gtol": gtol})
    if res2.fun <= res.fun:
        res = res2
    alpha, psi = unpack(res.x)
    _, g = fun(res.x)
    at_bound = np.zeros_like(g, dtype=bool)
    at_bound[na:] = res.x[na:] <= PSI_MIN * (1 + 1e-12)
    gnorm = float(np.max(np.abs(g[~at_bound]))) if (~at_bound).any() else 0.0
    converged = gnorm <= 1e-6 * max(1.0, float(W.sum()) / 2)
    n_best = int((values <= best + 1e-6 * max(abs(best), 1.0)).sum())
    return AlignSolution(alpha=alpha, psi=psi, fopt=float(res.fun), converged=bool(converged),
                         n_starts=len(x_start), n_at_best=n_best, values=values,
                         free_alpha=free_alpha, free_psi=free_psi,
                         message=f"largest |gradient| {gnorm:.2e}")


# --------------------------------------------------------------------------- second derivatives
def _hessians(lam, nu, n, alpha, psi, power, eps):
    """H_xx (2G x 2G, x = (alpha, psi)) and H_xtheta (2G x 2GI, theta = per group
    (lam_1..lam_I, nu_1..nu_I), sirt's order) of the loss, analytic."""
    G, n_items = lam.shape
    W = _weights(n)
    u, v = _uv(lam, nu, alpha, psi)
    gu, gv, du, dv = _grad_uv(W, u, v, power, eps)
    # Hessian in (u, v) for item i: Laplacian form L[g,h] = -W f''(d_gh), L[g,g] = sum_h W f''
    Lu = -W[:, :, None] * _d2(du, power, eps)  # (G, G, n_items)
    Lv = -W[:, :, None] * _d2(dv, power, eps)
    idx = np.arange(G)
    Lu[idx, idx, :] = 0.0
    Lv[idx, idx, :] = 0.0
    Lu[idx, idx, :] = -Lu.sum(axis=1)
    Lv[idx, idx, :] = -Lv.sum(axis=1)
    # first derivatives of (u, v) with respect to x for each (g, i): only group g's alpha, psi
    du_dpsi = -u / psi[:, None]  # (G, n_items)
    dv_dalpha = -u
    dv_dpsi = alpha[:, None] * u / psi[:, None]
    Hxx = np.zeros((2 * G, 2 * G))
    for i in range(n_items):
        # Jx for item i: rows g (u_gi), columns alpha (0..G-1), psi (G..2G-1)
        Ju = np.zeros((G, 2 * G))
        Ju[idx, G + idx] = du_dpsi[:, i]
        Jv = np.zeros((G, 2 * G))
        Jv[idx, idx] = dv_dalpha[:, i]
        Jv[idx, G + idx] = dv_dpsi[:, i]
        Hxx += Ju.T @ Lu[:, :, i] @ Ju + Jv.T @ Lv[:, :, i] @ Jv
    # second derivatives of the map times the gradient in (u, v)
    d2u_pp = 2 * u / psi[:, None] ** 2
    d2v_ap = u / psi[:, None]
    d2v_pp = -2 * alpha[:, None] * u / psi[:, None] ** 2
    Hxx[G + idx, G + idx] += (gu * d2u_pp + gv * d2v_pp).sum(axis=1)
    cross = (gv * d2v_ap).sum(axis=1)
    Hxx[idx, G + idx] += cross
    Hxx[G + idx, idx] += cross
    # H_xtheta: theta index of (g, lam_i) = g*2I + i, of (g, nu_i) = g*2I + n_items + i
    Hxt = np.zeros((2 * G, 2 * G * n_items))
    du_dlam = 1 / psi  # (G,)
    dv_dlam = -alpha / psi
    for i in range(n_items):
        Ju = np.zeros((G, 2 * G))
        Ju[idx, G + idx] = du_dpsi[:, i]
        Jv = np.zeros((G, 2 * G))
        Jv[idx, idx] = dv_dalpha[:, i]
        Jv[idx, G + idx] = dv_dpsi[:, i]
        col_l = idx * 2 * n_items + i
        col_n = idx * 2 * n_items + n_items + i
        # K for item i: u depends on lam (col_l), v on lam and nu
        Ku = np.zeros((G, 2 * G * n_items))
        Ku[idx, col_l] = du_dlam
        Kv = np.zeros((G, 2 * G * n_items))
        Kv[idx, col_l] = dv_dlam
        Kv[idx, col_n] = 1.0
        Hxt += Ju.T @ Lu[:, :, i] @ Ku + Jv.T @ Lv[:, :, i] @ Kv
        # mixed second derivatives of the map: d2u/dpsi dlam = -1/psi^2,
        # d2v/dalpha dlam = -1/psi, d2v/dpsi dlam = alpha/psi^2
        Hxt[G + idx, col_l] += gu[:, i] * (-1 / psi ** 2) + gv[:, i] * (alpha / psi ** 2)
        Hxt[idx, col_l] += gv[:, i] * (-1 / psi)
    return Hxx, Hxt


def vcov(lam, nu, n, sol: AlignSolution, vtheta: np.ndarray, power=0.5, eps=0.01):
    """Sampling covariance of the free (alpha, psi), in the order alpha[free], psi[free], from
    the configural estimates' covariance ``vtheta`` (2GI x 2GI, sirt's order)."""
    Hxx, Hxt = _hessians(np.asarray(lam, float), np.asarray(nu, float), n, sol.alpha, sol.psi,
                         power, eps)
    keep = np.concatenate([sol.free_alpha, sol.free_psi])
    H = Hxx[np.ix_(keep, keep)]
    A = -np.linalg.pinv(H) @ Hxt[keep]
    return A @ vtheta @ A.T


def r2(lam, nu, alpha, psi):
    """Asparouhov & Muthén's (2014) R² per item for loadings and intercepts, and sirt's overall
    R² (``es.invariance["R2", ]``).  Returns (r2_lambda (I,), r2_nu (I,), sirt_lambda, sirt_nu)."""
    u, v = _uv(lam, nu, alpha, psi)
    m_l = u.mean(axis=0)
    m_n = v.mean(axis=0)
    expl_l = psi[:, None] * m_l[None, :]
    expl_n = m_n[None, :] + alpha[:, None] * m_l[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r_l = 1 - (lam - expl_l).var(axis=0) / lam.var(axis=0)
        r_n = 1 - (nu - expl_n).var(axis=0) / nu.var(axis=0)
    s_l = 1 - ((lam - expl_l) ** 2).sum() / (lam ** 2).sum()
    s_n = 1 - ((nu - expl_n) ** 2).sum() / (nu ** 2).sum()
    return r_l, r_n, float(s_l), float(s_n)
