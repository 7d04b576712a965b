"""Private engine of :func:`custval.short_form`: criteria of many item subsets at once, and MMAS.

Every criterion of a subset of k items is computed from the pool's correlation (and
covariance) matrix, for a whole batch of subsets at once:

* ``omega``: psych's ``omega.tot`` of a one-factor minres model (the batched Gauss-Newton
  solver of :func:`custval._stats.omega.omega1_batch`, the one ``custval.omega`` uses);
* the one-factor CFA fit by maximum likelihood, as ``lavaan::cfa('F =~ x1 + ... + xk')``
  (:func:`ml1_batch`): Fisher scoring on (λ, ψ) in the correlation metric (ML is scale
  free, so chi-square and every fit index equal the covariance fit), with step halving
  that keeps the implied matrix positive definite and the discrepancy decreasing;
  chi-square = N · F_ML (lavaan's ``likelihood = "normal"``), CFI against the independence
  model, RMSEA with N, SRMR of the correlation residuals (lavaan's ``srmr``);
* ``r_full``: the correlation of the k-item sum with the sum of the whole pool;
* ``coverage``: the share of the required facets the subset covers.

The ant-colony search is the MAX-MIN ant system of Stützle (1998) as R's stuart uses it
(``stuart::mmas``): pheromone per item, iteration-best deposit, evaporation, pheromone
limits from ``pbest``; ants draw their k items by the Gumbel-top-k trick (sequential
sampling without replacement with probabilities proportional to the pheromones), so a
colony is one vectorised draw from one seeded generator.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import ndtr

from .omega import omega1_batch
from .relcore import single_thread_blas

#: criterion -> (side, m, s): desirability Φ((x - m)/s) ("top") or Φ((m - x)/s) ("bottom")
DEFAULT_TARGETS = {
    "omega": ("top", 0.80, 0.075),  # stuart::fixedobjective's crel
    "cfi": ("top", 0.95, 0.03),  # stuart's cfi
    "rmsea": ("bottom", 0.05, 0.015),  # stuart's rmsea
    "srmr": ("bottom", 0.05, 0.015),  # stuart's srmr
    "r_full": ("top", 0.90, 0.05),  # custval's choice
}
#: weights of the default objective (stuart::objective.preset weighs crel 1, rmsea and srmr .5)
DEFAULT_WEIGHTS = {"omega": 1.0, "rmsea": 0.5, "srmr": 0.5, "cfi": 0.0, "r_full": 1.0, "coverage": 1.0}
CRITERIA = ("omega", "cfi", "rmsea", "srmr", "r_full", "coverage")


def n_subsets(n: int, k: int) -> int:
    return math.comb(n, k)


def all_subsets(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n) in lexicographic order, as an int array (C, k)."""
    count = math.comb(n, k)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)),
                       dtype=np.int64, count=count * k)
    return flat.reshape(count, k)


def submatrices(m: np.ndarray, subsets: np.ndarray) -> np.ndarray:
    return m[subsets[:, :, None], subsets[:, None, :]]


# --------------------------------------------------------------------------- one-factor ML
def _disc(lam, psi, r, logdet_r):
    """F_ML of Sigma = lam lam' + diag(psi) for each row, by the Woodbury identity (O(k^2) per row).

    Sigma is positive definite iff no psi is negative, or exactly one is and det(Sigma) > 0
    (a rank-one update of diag(psi) has at most one eigenvalue below the smallest psi); rows
    that are not, or that have a psi within 1e-10 of 0, get +inf.
    """
    k = lam.shape[1]
    out = np.full(lam.shape[0], np.inf)
    neg = (psi < 0).sum(axis=1)
    ok = (neg <= 1) & (np.abs(psi) > 1e-10).all(axis=1)
    if not ok.any():
        return out
    la, pa, ra = lam[ok], psi[ok], r[ok]
    v = la / pa
    q = 1.0 + np.einsum("bi,bi->b", la, v)
    sign = np.where(neg[ok] == 1, -1.0, 1.0) * np.sign(q)
    good = sign > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        logdet = np.log(np.abs(pa)).sum(axis=1) + np.log(np.abs(q))
        diag_r = np.diagonal(ra, axis1=1, axis2=2)
        tr = (diag_r / pa).sum(axis=1) - np.einsum("bi,bij,bj->b", v, ra, v) / q
        f = logdet + tr - logdet_r[ok] - k
    out[np.flatnonzero(ok)[good]] = f[good]
    return out


def ml1_batch(r: np.ndarray, n_obs: int, *, start: np.ndarray | None = None, tol: float = 1e-10,
              maxit: int = 200) -> dict:
    """One-factor ML CFA of each correlation matrix of a stack (B, k, k), vectorised.

    The ML discrepancy of one factor can have more than one minimum when a subset mixes
    two clusters of items; where the fit from the minres loadings ``start`` misfits
    (RMSEA > .05), is improper or did not converge, a second start anchored on the first
    item (as lavaan's marker) is fitted and the lower minimum is kept.

    Returns loadings (standardized, = lavaan's std.all), residual variances, chisq, df,
    cfi, rmsea, srmr, F_ML, converged and improper (a residual variance below 0).
    """
    r = np.asarray(r, dtype=float)
    if start is None:
        start = omega1_batch(r)["loadings"]
    start = np.where(np.isfinite(start), start, 0.5)
    first = np.abs(r[:, 0, 1:]).max(axis=1) if r.shape[1] > 1 else np.ones(r.shape[0])
    l1 = np.sqrt(np.clip(first, 0.09, 0.9))
    anchor = np.clip(r[:, 0, :] / l1[:, None], -0.95, 0.95)
    anchor[:, 0] = l1
    a = _ml1(r, n_obs, start, tol, maxit)
    # a second minimum needs a misfitting first one: refit from the anchor where the first
    # solution misfits (RMSEA > .05), is improper or did not converge
    redo = (a["rmsea"] > 0.05) | a["improper"] | ~a["converged"]
    if a["df"] > 0 and redo.any():
        j = np.flatnonzero(redo)
        b = _ml1(r[j], n_obs, anchor[j], tol, maxit)
        better = ((b["f"] < a["f"][j] - 1e-12) & b["converged"]) | (~a["converged"][j] & b["converged"])
        for key, val in a.items():
            if isinstance(val, np.ndarray) and val.shape[:1] == redo.shape:
                val[j[better]] = b[key][better]
    return a


def _ml1(r, n_obs, start, tol, maxit):
    b, k, _ = r.shape
    idx = np.arange(k)
    with single_thread_blas():
        sign, logdet_r = np.linalg.slogdet(r)
        lam = start.copy()
        psi = np.maximum(1.0 - lam**2, 0.005)
        f = _disc(lam, psi, r, logdet_r)
        active = np.ones(b, dtype=bool)
        converged = np.zeros(b, dtype=bool)
        for _ in range(maxit):
            if not active.any():
                break
            a = np.flatnonzero(active)
            la, pa, ra = lam[a], psi[a], r[a]
            v = la / pa  # Woodbury: W = diag(1/psi) - v v' / (1 + lam'v)
            w = -v[:, :, None] * v[:, None, :] / (1.0 + np.einsum("bi,bi->b", la, v))[:, None, None]
            w[:, idx, idx] += 1.0 / pa
            m = w - w @ ra @ w
            u = np.einsum("bij,bj->bi", w, la)
            c = np.einsum("bi,bi->b", la, u)
            grad = np.concatenate([2 * np.einsum("bij,bj->bi", m, la), m[:, idx, idx]], axis=1)
            h = np.empty((len(a), 2 * k, 2 * k))
            h[:, :k, :k] = 2 * (c[:, None, None] * w + u[:, :, None] * u[:, None, :])
            h[:, :k, k:] = 2 * w * u[:, None, :]
            h[:, k:, :k] = np.swapaxes(h[:, :k, k:], 1, 2)
            h[:, k:, k:] = w * w
            try:
                step = np.linalg.solve(h, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = (np.linalg.pinv(h) @ grad[..., None])[..., 0]
            # step halving: accept the first step length that lowers F (and keeps Sigma PD)
            t = np.ones(len(a))
            new_l, new_p = la - step[:, :k], pa - step[:, k:]
            f_old = f[a]
            f_new = np.full(len(a), np.inf)
            todo = np.ones(len(a), dtype=bool)
            for _h in range(30):
                j = np.flatnonzero(todo)
                if not j.size:
                    break
                nl = la[j] - t[j, None] * step[j, :k]
                npsi = pa[j] - t[j, None] * step[j, k:]
                fj = _disc(nl, npsi, ra[j], logdet_r[a][j])
                good = fj <= f_old[j] + 1e-14
                new_l[j[good]], new_p[j[good]], f_new[j[good]] = nl[good], npsi[good], fj[good]
                todo[j[good]] = False
                t[j[~good]] *= 0.5
            moved = ~todo
            lam[a[moved]], psi[a[moved]], f[a[moved]] = new_l[moved], new_p[moved], f_new[moved]
            size = np.max(np.abs(step), axis=1) * t
            done = (size < tol) | (moved & (np.abs(f_old - f_new) < 1e-15)) | todo
            converged[a[done & ~todo]] = True
            converged[a[todo & (np.max(np.abs(grad), axis=1) < 1e-8)]] = True
            active[a[done]] = False
    flip = np.sign(lam.sum(axis=1))
    flip[flip == 0] = 1
    lam = lam * flip[:, None]
    sigma = lam[:, :, None] * lam[:, None, :]
    sigma[:, idx, idx] += psi
    sd = np.sqrt(np.abs(np.diagonal(sigma, axis1=1, axis2=2)))
    std = lam / sd
    df = k * (k - 3) // 2
    f = np.maximum(f, 0.0)
    chisq = n_obs * f
    if df == 0:  # just identified: the fit is perfect by construction
        chisq = np.zeros(b)
    chisq_b = -n_obs * logdet_r
    df_b = k * (k - 1) // 2
    with np.errstate(divide="ignore", invalid="ignore"):
        num = np.maximum(chisq - df, 0.0)
        den = np.maximum(np.maximum(chisq - df, chisq_b - df_b), 0.0)
        cfi = np.where(den > 0, 1.0 - num / den, 1.0)
        rmsea = np.sqrt(num / (df * n_obs)) if df > 0 else np.zeros(b)
        implied = sigma / (sd[:, :, None] * sd[:, None, :])
        tri = np.tril_indices(k)
        res = (r - implied)[:, tri[0], tri[1]]
        srmr = np.sqrt(np.mean(res**2, axis=1))
    return {"loadings": std, "lambda": lam, "psi": psi, "f": f, "chisq": chisq, "df": df, "cfi": cfi,
            "rmsea": rmsea, "srmr": srmr, "converged": converged & np.isfinite(f),
            "improper": (psi < 0).any(axis=1)}


# --------------------------------------------------------------------------- criteria
class Pool:
    """The pool's moments on one sample (calibration or validation half)."""

    def __init__(self, x: np.ndarray, facets: list[str | None], required: tuple[str, ...]):
        self.n = x.shape[0]
        self.cov = np.cov(x, rowvar=False)
        sd = np.sqrt(np.diag(self.cov))
        self.cor = self.cov / np.outer(sd, sd)
        np.fill_diagonal(self.cor, 1.0)
        self.total_cov = self.cov.sum(axis=1)  # cov(x_i, total)
        self.total_var = self.cov.sum()
        self.required = required
        p = len(facets)
        self.facet_hits = np.zeros((p, len(required)), dtype=bool)
        for i, fac in enumerate(facets):
            for j, req in enumerate(required):
                self.facet_hits[i, j] = fac == req

    def criteria(self, subsets: np.ndarray) -> dict:
        """Every criterion of each subset (rows of item positions)."""
        rs = submatrices(self.cor, subsets)
        om = omega1_batch(rs)
        fit = ml1_batch(rs, self.n, start=om["loadings"])
        cs = submatrices(self.cov, subsets)
        var_s = cs.sum(axis=(1, 2))
        r_full = self.total_cov[subsets].sum(axis=1) / np.sqrt(var_s * self.total_var)
        if self.required:
            covered = self.facet_hits[subsets].any(axis=1)  # (B, n_required)
            coverage = covered.mean(axis=1)
        else:
            coverage = np.full(len(subsets), np.nan)
        return {"omega": om["omega_total"], "cfi": fit["cfi"], "rmsea": fit["rmsea"], "srmr": fit["srmr"],
                "chisq": fit["chisq"], "df": np.full(len(subsets), fit["df"]), "r_full": r_full,
                "coverage": coverage, "converged": fit["converged"], "improper": fit["improper"],
                "min_loading": fit["loadings"].min(axis=1)}


def objective(crit: dict, weights: dict, targets: dict) -> np.ndarray:
    """Σ_c w_c d_c(x_c): d_c the normal-CDF desirability of the criterion, coverage linear."""
    total = np.zeros(len(crit["omega"]))
    for name, w in weights.items():
        if w == 0:
            continue
        x = crit[name]
        if name == "coverage":
            d = np.nan_to_num(x, nan=0.0)
        else:
            side, m, s = targets[name]
            d = ndtr((x - m) / s) if side == "top" else ndtr((m - x) / s)
        total = total + w * d
    return total


# --------------------------------------------------------------------------- search
def masks(subsets: np.ndarray) -> np.ndarray:
    """One integer bit mask per subset (item j -> bit j), the key of the evaluation cache."""
    return np.bitwise_or.reduce(np.left_shift(np.int64(1), subsets.astype(np.int64)), axis=1)


def mmas(evaluate, n: int, k: int, *, rng: np.random.Generator, ants: int, colonies: int,
         evaporation: float, pbest: float, max_colonies: int, progress=None):
    """MAX-MIN ant system over k-subsets of n items (stuart::mmas with nodes, ib deposit).

    ``evaluate(subsets) -> objective values`` (NaN: not eligible, deposits 0).  Returns the
    global best subset, its value, the cache {mask: (subset, value)} and the colony log.
    """
    tau = np.ones(n)
    cache: dict[int, tuple[tuple[int, ...], float]] = {}
    best_set, best_val = None, -np.inf
    avg = np.mean(np.arange(n, n - k - 1, -1))  # stuart: mean of n:(n - k)
    p_dec = pbest ** (1.0 / k)
    tau_min = tau_max = None
    log = []
    since = 0
    colony = 0
    reason = "maximum number of colonies reached"
    while colony < max_colonies:
        colony += 1
        keys = np.log(tau)[None, :] + rng.gumbel(size=(ants, n))
        chosen = np.sort(np.argpartition(-keys, k - 1, axis=1)[:, :k], axis=1)
        mk = masks(chosen)
        new = [i for i, m in enumerate(mk) if int(m) not in cache]
        # distinct new subsets, first occurrence
        seen, first = set(), []
        for i in new:
            if int(mk[i]) not in seen:
                seen.add(int(mk[i]))
                first.append(i)
        if first:
            vals = evaluate(chosen[first])
            for i, v in zip(first, vals):
                cache[int(mk[i])] = (tuple(int(j) for j in chosen[i]), float(v))
        values = np.array([cache[int(m)][1] for m in mk])
        dep = np.nan_to_num(values, nan=0.0)
        ib = int(np.argmax(dep))  # first ant with the largest value
        ib_val = dep[ib]
        improved = ib_val > best_val or best_set is None
        if improved:
            best_set, best_val = tuple(int(j) for j in chosen[ib]), float(ib_val)
            tau_max = best_val / (1 - evaporation) if best_val > 0 else 1.0
            tau_min = tau_max * (1 - p_dec) / ((avg - 1) * p_dec)
            since = 0
        else:
            since += 1
        tau = tau * evaporation
        tau[chosen[ib]] += ib_val
        tau = np.clip(tau, tau_min, tau_max)
        log.append({"colony": colony, "n_new": len(first), "n_evaluated": len(cache),
                    "best_in_colony": float(ib_val), "global_best": best_val,
                    "improved": bool(improved), "pheromone_min": float(tau.min()),
                    "pheromone_max": float(tau.max())})
        if progress is not None:
            progress.update(1)
        at_bounds = np.isclose(tau, tau_min, rtol=1e-6) | np.isclose(tau, tau_max, rtol=1e-6)
        if at_bounds.all() and np.isclose(tau, tau_max, rtol=1e-6).sum() == k:
            reason = "converged: every pheromone at its lower or upper limit"
            break
        if since >= colonies:
            reason = f"no better subset in {colonies} colonies"
            break
    return best_set, best_val, cache, log, reason
