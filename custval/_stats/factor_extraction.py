"""Unrotated factor extraction (minres, ML, principal axis) and fit statistics, as ``psych:::fac``.

This is a line-by-line port of psych 2.2.9's ``fac()`` / ``factor.stats()``.
factor_analyzer is not used: its "principal" method is PCA rather than
principal-axis factoring, its minres stops at a different point, and its
``fit`` raises a TypeError with scikit-learn >= 1.6.

Matching psych exactly needs the same optimiser: psych minimises with R's
``optim(method = "L-BFGS-B")`` with ``parscale = 0.01``, ``lmm = 5``,
``factr = 1e7`` and ``pgtol = 0``; scipy's L-BFGS-B is the same algorithm
(Byrd, Lu, Nocedal & Zhu, 1995), so with the same scaling and tolerances it
takes the same steps and stops at the same point.  Note that psych's minres
"gradient" is not the gradient of its residual function (it is the
principal-axis fixed-point residual, the gradient of half the residual sum of
squares *including* the diagonal); we use it anyway, because that is what
defines psych's solution.

Where that run's stop is not a well-defined minimum, its position depends on
rounding (the BLAS kernel of the CPU), so it is not used as the answer: a run
that stops abnormally restarts with the public ``scipy.optimize.minimize``,
and a run that still fails, or a minres solution with a uniqueness at a bound
(where the two gradients differ), is continued with the exact gradient of
psych's objective to a point where the projected gradient is below
``KKT_TOL`` (see :func:`_lbfgsb`).  The residual sum of squares is then at or
below psych's and the solution is the same on every CPU.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
from scipy import optimize, stats
from scipy.linalg import lapack

from ..exceptions import NotPositiveDefiniteError, NotPositiveDefiniteWarning, SingularMatrixError

EPS = np.finfo(float).eps
METHODS = ("minres", "ml", "pa")


# --------------------------------------------------------------------------- matrix checks
def _eigh_desc(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eigh(a)
    return w[::-1], v[:, ::-1]


def _top_eigh(a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenpairs (descending) via LAPACK dsyevr: 5x faster than a full eigh."""
    p = a.shape[0]
    w, z, m, _isuppz, info = lapack.dsyevr(a, compute_v=1, range="I", il=p - k + 1, iu=p)
    if info != 0 or m != k:
        w, z = _eigh_desc(a)
        return w[:k], z[:, :k]
    return w[:k][::-1], z[:, :k][:, ::-1]


def _involved(v: np.ndarray, names, k: int = 6) -> str:
    idx = np.argsort(-np.abs(v))[:k]
    idx = [i for i in idx if abs(v[i]) > 0.1] or list(idx[:2])
    return ", ".join(str(names[i]) for i in idx)


def checked_inverse(r: np.ndarray, names, *, what: str) -> np.ndarray:
    """Inverse of a correlation matrix; a clear error naming the items when it is singular."""
    w, v = _eigh_desc(r)
    if np.min(np.abs(w)) <= 1e-12 * max(w[0], 1.0):
        raise SingularMatrixError(
            f"{what}: the correlation matrix is singular (an eigenvalue is "
            f"{w[np.argmin(np.abs(w))]:.3g}); items involved in the linear dependency: "
            f"{_involved(v[:, np.argmin(np.abs(w))], names)}. Drop one of them."
        )
    if w[-1] < 0:
        warnings.warn(
            f"{what}: the (pairwise) correlation matrix is not positive definite (smallest eigenvalue "
            f"{w[-1]:.3g}; items most involved: {_involved(v[:, -1], names)}); the result uses it as is, "
            "as psych does. Consider nan_policy='listwise'.",
            NotPositiveDefiniteWarning,
            stacklevel=3,
        )
    return np.linalg.inv(r)


def checked_logdet(r: np.ndarray, names, *, what: str) -> float:
    """log|R|; a clear error naming the items when |R| <= 0."""
    w, v = _eigh_desc(r)
    if w[-1] <= 1e-12 * max(w[0], 1.0):
        kind = "singular" if abs(w[-1]) <= 1e-12 * max(w[0], 1.0) else "not positive definite"
        err = SingularMatrixError if kind == "singular" else NotPositiveDefiniteError
        raise err(
            f"{what}: the correlation matrix is {kind} (smallest eigenvalue {w[-1]:.3g}), so ln|R| is "
            f"undefined; items most involved: {_involved(v[:, -1], names)}"
        )
    sign, logdet = np.linalg.slogdet(r)
    return float(logdet)


def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """``psych::cor.smooth``: raise eigenvalues below ``eig_tol`` and rescale to a correlation matrix."""
    w, v = _eigh_desc(r)
    if w.min() >= EPS:
        return r, False
    w = np.where(w < eig_tol, 100 * eig_tol, w)
    w = w * len(w) / w.sum()
    x = (v * w) @ v.T
    d = np.sqrt(np.diag(x))
    return x / np.outer(d, d), True


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^+)``, clipped to [0, 1] as ``psych::smc``."""
    u, s, vt = np.linalg.svd(r)
    keep = s > max(np.sqrt(EPS) * s[0], 0)
    pinv = (vt[keep].T / s[keep]) @ u[:, keep].T
    out = 1 - 1 / np.diag(pinv)
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------- objective functions
def _minres_fn(psi, s, nf):
    s2 = s.copy()
    s2[np.diag_indices_from(s2)] = 1 - psi
    w, v = _eigh_desc(s2)
    w = np.where(w < EPS, 100 * EPS, w)
    load = v[:, :nf] * np.sqrt(w[:nf])
    res = s2 - load @ load.T
    il = np.tril_indices_from(res, -1)
    return float(np.sum(res[il] ** 2))


def _minres_gr(psi, s, nf):
    w, v = _eigh_desc(s - np.diag(psi))
    load = v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0))
    return np.sum(load**2, axis=1) + psi - np.diag(s)


def _ml_fn(psi, s, nf):
    sc = 1 / np.sqrt(psi)
    w = np.linalg.eigvalsh(s * np.outer(sc, sc))[::-1]
    e = w[nf:]
    return float(-(np.sum(np.log(e) - e) - nf + s.shape[0]))


def _ml_load(psi, s, nf):
    sc = 1 / np.sqrt(psi)
    w, v = _eigh_desc(s * np.outer(sc, sc))
    load = v[:, :nf] * np.sqrt(np.maximum(w[:nf] - 1, 0))
    return np.sqrt(psi)[:, None] * load


def _ml_gr(psi, s, nf):
    load = _ml_load(psi, s, nf)
    g = np.sum(load**2, axis=1) + psi - np.diag(s)
    return g / psi**2


def _minres_fg(psi, s, nf):
    """``fit.residuals`` and ``FAgr.minres`` from one eigendecomposition (for a correlation matrix
    ``S - diag(psi)`` is the matrix with ``1 - psi`` on its diagonal, so both share it).
    Written lean: parallel analysis calls it thousands of times."""
    p = s.shape[0]
    s2 = s.copy()
    s2.flat[:: p + 1] = 1.0 - psi
    w, v = _top_eigh(s2, nf)
    load = v * np.sqrt(np.where(w < EPS, 100 * EPS, w))
    res = s2 - load @ load.T
    rd = res.flat[:: p + 1]
    f = float((np.sum(res * res) - np.dot(rd, rd)) / 2)  # sum over i > j (res is symmetric)
    load_g = v * np.sqrt(np.maximum(w, 0))
    g = np.einsum("ij,ij->i", load_g, load_g) + psi - 1.0
    return f, g


LOWER = 0.005  # psych's lower bound for a uniqueness
_PS = 0.01  # psych's parscale
# optim's defaults for L-BFGS-B as psych calls it: lmm = 5, factr = 1e7, pgtol = 0, maxit = 100
_PSYCH_OPTIONS = {"maxcor": 5, "ftol": 1e7 * EPS, "gtol": 0.0, "maxiter": 100, "maxfun": 15000}
#: a solution is a minimum when its projected gradient (in uniqueness units) is at most this
KKT_TOL = 1e-8


def _minres_exact_fg(psi, s, nf):
    """psych's minres objective ``fit.residuals`` and its exact gradient.

    psych's ``FAgr.minres`` is ``-diag(R)`` with ``R = S* - LL'`` the residual
    matrix (``S*`` = ``S`` with ``1 - psi`` on the diagonal): the gradient of
    half the *full* residual sum of squares.  The objective sums the
    off-diagonal residuals only, so the two agree where the diagonal residuals
    vanish (an interior solution) but not when a uniqueness sits at a bound
    (a Heywood case), where psych's line search then stops short of the
    minimum.  With ``R = V_B diag(l_B) V_B'`` (eigenpairs beyond the first
    ``nf``) the Daleckii-Krein formula gives
    ``d/dpsi_j sum_i R_ii^2 / 2 = diag(R)_j - (V (M o G) V')_jj`` with
    ``M = V' diag(R) V`` and ``G`` the divided differences of
    ``g(l) = l`` (B block), ``0`` (first nf).
    """
    p = s.shape[0]
    a = s.copy()
    a.flat[:: p + 1] = 1.0 - psi
    w, v = _eigh_desc(a)
    load = v[:, :nf] * np.sqrt(np.where(w[:nf] < EPS, 100 * EPS, w[:nf]))
    res = a - load @ load.T
    rd = res.flat[:: p + 1].copy()
    f = float((np.sum(res * res) - np.dot(rd, rd)) / 2)
    top = np.arange(p) < nf
    g_dd = np.ones((p, p))
    g_dd[np.ix_(top, top)] = 0.0
    gap = w[:nf, None] - w[None, nf:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(gap != 0, -w[None, nf:] / gap, 0.0)
    g_dd[:nf, nf:] = cross
    g_dd[nf:, :nf] = cross.T
    m = v.T @ (rd[:, None] * v)
    g = -rd + np.einsum("jk,kl,jl->j", v, m * g_dd, v)
    return f, g


def _projected_gradient(x, g, lo, hi):
    """The projected gradient of a box-constrained problem (zero at a KKT point)."""
    return np.where(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)), 0.0, g)


class _Best:
    """Wraps ``f, g = fg(x)`` and keeps the lowest point evaluated ("the best point so far")."""

    def __init__(self, fg):
        self.fg, self.x, self.f, self.nfev = fg, None, np.inf, 0

    def __call__(self, x):
        f, g = self.fg(x)
        self.nfev += 1
        if np.isfinite(f) and f < self.f:
            self.x, self.f = np.array(x, dtype=float), float(f)
        return f, g


def _psych_objective(fn, gr, s, nf):
    """``z -> (f, g)`` as psych's ``optim`` call sees it: ``psi = z * parscale`` and psych's gradient."""
    ps = _PS
    if fn is _minres_fn and np.allclose(np.diag(s), 1.0):

        def fun(z):
            f, g = _minres_fg(z * ps, s, nf)
            return f, g * ps

    else:

        def fun(z):
            return fn(z * ps, s, nf), gr(z * ps, s, nf) * ps

    return fun


def _lbfgsb(fn, gr, start, upper, s, nf):
    """R's ``optim(start, fn, gr, method = "L-BFGS-B", lower = .005, upper, parscale = .01)``, made robust.

    1. psych's run: L-BFGS-B with psych's scaling and tolerances (the fast
       ``setulb`` loop on the scipy versions it was checked against,
       ``SETULB_VERIFIED_SCIPY``; the public ``scipy.optimize.minimize``
       otherwise), which reproduces psych's solution.
    2. If that run stops in any other way than a clean convergence (a line
       search failure, the iteration limit, an unknown task code), it is
       restarted with the public ``scipy.optimize.minimize`` from the best
       point so far (a fresh L-BFGS memory).
    3. If the restart also fails, or (minres) a uniqueness ends at a bound --
       where psych's gradient is not the gradient of its objective, so the
       L-BFGS-B stop is not a minimum -- the objective is minimised with its
       exact gradient to a projected gradient <= ``KKT_TOL``
       (:func:`_polish`).  The result's ``fallback`` says which steps ran.
    """
    ps = _PS
    p = len(start)
    minres = fn is _minres_fn
    fun = _psych_objective(fn, gr, s, nf)
    lo, hi = LOWER / ps, upper / ps
    z0 = np.clip(np.asarray(start, float) / ps, lo, hi)
    best = _Best(fun)
    out = _setulb_loop(best, z0, lo, hi)
    if out is None:  # a scipy version the fast loop was not checked against, or its private API changed
        r = optimize.minimize(best, z0, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * p,
                              options=_PSYCH_OPTIONS)
        out = (r.x, _Result(int(r.nit), bool(r.success), str(r.message)))
    z, info = out
    steps = []
    if not info.success:
        steps.append(f"psych's L-BFGS-B run stopped without converging ({info.message})")
        z = z0 if best.x is None else best.x
        r = optimize.minimize(best, z, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * p,
                              options=_PSYCH_OPTIONS)
        z = z if best.x is None else best.x
        info = _Result(info.nit + int(r.nit), bool(r.success), str(r.message))
        steps.append(f"restarted with scipy.optimize.minimize from the best point: {r.message}")
    psi = z * ps
    at_bound = bool(np.any((psi <= LOWER * (1 + 1e-9)) | (psi >= upper * (1 - 1e-9))))
    if not info.success or (minres and at_bound):
        if minres:
            exact = lambda x: _minres_exact_fg(x, s, nf)  # noqa: E731
        else:
            exact = lambda x: (fn(x, s, nf), gr(x, s, nf))  # noqa: E731
        if info.success:
            steps.append("a uniqueness is at a bound, where psych's minres gradient is not the gradient "
                         "of the residual sum of squares")
        psi, ok, pg, nit = _polish(exact, psi, LOWER, upper)
        steps.append(f"minimised with the exact gradient (projected gradient {pg:.1e})")
        info = _Result(info.nit + nit, ok,
                       "CONVERGENCE" if ok else f"no minimum found: projected gradient {pg:.1e} > {KKT_TOL:g}")
    info.fallback = "; ".join(steps) or None
    return psi, info


def _polish(fg, x0, lo, hi, *, restarts: int = 4):
    """Minimise ``fg`` (value, exact gradient) on ``[lo, hi]`` from ``x0`` to a KKT point.

    Public ``scipy.optimize.minimize(method="L-BFGS-B")`` at tight tolerances,
    restarted from its best point (fresh memory) until the projected gradient
    is at most ``KKT_TOL``; if it is still larger, projected Newton steps on
    the free variables (Hessian by central differences of the gradient).
    Returns ``(x, ok, |projected gradient|_inf, iterations)``.
    """
    p = len(x0)
    best = _Best(fg)
    f0, g0 = best(np.clip(np.asarray(x0, float), lo, hi))
    if best.x is None:  # the objective is not finite at the start
        return np.asarray(x0, float), False, float("inf"), 0
    nit = 0
    pg = np.max(np.abs(_projected_gradient(best.x, g0, lo, hi)))
    for _ in range(restarts):
        if pg <= KKT_TOL:
            break
        r = optimize.minimize(best, best.x, jac=True, method="L-BFGS-B", bounds=[(lo, hi)] * p,
                              options={"maxcor": 10, "ftol": 0.0, "gtol": KKT_TOL / 10, "maxiter": 1000,
                                       "maxfun": 5000})
        nit += int(r.nit)
        prev, pg = pg, np.max(np.abs(_projected_gradient(best.x, fg(best.x)[1], lo, hi)))
        if pg >= prev:
            break
    for _ in range(restarts * 5):
        if pg <= KKT_TOL:
            break
        x = best.x
        f, g = fg(x)
        free = ~(((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)))
        idx = np.flatnonzero(free)
        h = np.empty((len(idx), len(idx)))
        for k, i in enumerate(idx):
            e = np.zeros(p)
            e[i] = 1e-6 * max(1.0, abs(x[i]))
            h[:, k] = (fg(x + e)[1][idx] - fg(x - e)[1][idx]) / (2 * e[i])
        h = (h + h.T) / 2
        wv, vv = np.linalg.eigh(h)
        wv = np.maximum(wv, 1e-8 * max(wv.max(), 1e-12))  # keep the step a descent direction
        step = np.zeros(p)
        step[idx] = -(vv / wv) @ (vv.T @ g[idx])
        t, moved = 1.0, False
        for _ls in range(30):
            f_new, _ = best(np.clip(x + t * step, lo, hi))
            if f_new < f:
                moved = True
                break
            t /= 2
        nit += 1
        pg = np.max(np.abs(_projected_gradient(best.x, fg(best.x)[1], lo, hi)))
        if not moved:
            break
    return best.x, bool(pg <= KKT_TOL), float(pg), nit


#: scipy releases (major, minor) whose private ``scipy.optimize._lbfgsb.setulb`` the fast loop
#: below was checked against: on these it takes the same iterates as the public
#: ``scipy.optimize.minimize(method="L-BFGS-B")`` (tests/test_efa_robust.py).  Any other scipy
#: version uses the public ``minimize`` (same solution, slower parallel analysis).
SETULB_VERIFIED_SCIPY = frozenset({(1, 16), (1, 17)})


def _scipy_version() -> tuple[int, int] | None:
    """``(major, minor)`` of the installed scipy, or ``None`` if its version string is unusual."""
    import scipy

    match = re.match(r"(\d+)\.(\d+)", getattr(scipy, "__version__", ""))
    return None if match is None else (int(match[1]), int(match[2]))


def _setulb_verified() -> bool:
    """Whether the fast ``setulb`` loop may be used with the installed scipy."""
    return _scipy_version() in SETULB_VERIFIED_SCIPY


class _Result:
    def __init__(self, nit, success, message):
        self.nit, self.success, self.message = nit, success, message
        self.fallback = None


def _setulb_loop(fg, x0, lo, hi, *, m=5, factr=1e7, maxiter=100, maxls=20):
    """The loop of ``scipy.optimize.minimize(method="L-BFGS-B")`` without its per-call overhead.

    Parallel analysis fits hundreds of small minres models, where scipy's
    wrapper (ScalarFunction, bounds conversion) costs more than the fit.
    Same Fortran/C routine, same arguments, same iterates; returns ``None``
    (caller falls back to ``optimize.minimize``) if the installed scipy is not
    one of ``SETULB_VERIFIED_SCIPY``, or if scipy's private routine is
    unavailable or has another signature.  Only task code 4 (CONVERGENCE)
    counts as success; any other stop, including a code this loop does not
    know, is reported as unsuccessful so that the caller falls back.
    """
    if not _setulb_verified():
        return None
    try:
        from scipy.optimize import _lbfgsb
    except ImportError:  # pragma: no cover
        return None
    n = len(x0)
    x = np.clip(np.array(x0, dtype=np.float64), lo, hi)
    low = np.full(n, lo, dtype=np.float64)
    up = np.full(n, hi, dtype=np.float64)
    nbd = np.full(n, 2, dtype=np.int32)
    f = np.array(0.0, dtype=np.float64)
    g = np.zeros(n, dtype=np.float64)
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, np.float64)
    iwa = np.zeros(3 * n, dtype=np.int32)
    task = np.zeros(2, dtype=np.int32)
    ln_task = np.zeros(2, dtype=np.int32)
    lsave = np.zeros(4, dtype=np.int32)
    isave = np.zeros(44, dtype=np.int32)
    dsave = np.zeros(29, dtype=np.float64)
    nit = nfev = 0
    try:
        while True:
            _lbfgsb.setulb(m, x, low, up, nbd, f, g, factr, 0.0, wa, iwa, task, lsave, isave, dsave,
                           maxls, ln_task)
            if task[0] == 3:
                fv, gv = fg(x)
                f = np.array(fv, dtype=np.float64)
                g = np.asarray(gv, dtype=np.float64)
                nfev += 1
            elif task[0] == 1:
                nit += 1
                if nit >= maxiter:
                    task[0], task[1] = 5, 504
            else:
                break
            if nfev > 15000:
                task[0], task[1] = 5, 502
                break
    except (TypeError, ValueError):  # pragma: no cover - scipy changed its private API
        return None
    ok = bool(task[0] == 4 and np.all(np.isfinite(x)))
    return x, _Result(nit, ok, "CONVERGENCE" if ok else f"L-BFGS-B stopped (task {int(task[0])}, {int(task[1])})")


def one_factor_values(r: np.ndarray) -> np.ndarray:
    """``extract(r, 1, "minres").values`` without the bookkeeping (parallel analysis calls it often).

    Same optimisation as :func:`extract` (psych's run, then the fallback of
    :func:`_lbfgsb` when that run stops abnormally or at a bound).
    """
    p = r.shape[0]
    s_smc = smc(r)
    start = 1.0 - s_smc
    upper = max(s_smc.max(), 1.0)
    psi, _info = _lbfgsb(_minres_fn, _minres_gr, start, upper, r, 1)
    s2 = r.copy()
    s2.flat[:: p + 1] = 1.0 - psi
    w, v = _top_eigh(s2, 1)
    h2 = v[:, 0] ** 2 * max(w[0], 0.0)
    s2.flat[:: p + 1] = h2
    return np.linalg.eigvalsh(s2)[::-1]


class Extraction:
    """Unrotated solution: ``loadings`` (sign-normalised), eigenvalues, psi and bookkeeping."""

    def __init__(self, loadings, values, e_values, psi, n_iter, converged, message, fallback=None):
        self.loadings = loadings
        self.values = values  # eigenvalues of R with communalities on the diagonal (psych $values)
        self.e_values = e_values  # eigenvalues of R (psych $e.values)
        self.psi = psi  # optimiser's uniquenesses (minres/ml) or 1 - final communalities (pa)
        self.n_iter = n_iter
        self.converged = converged
        self.message = message
        self.fallback = fallback  # None, or what was done after psych's L-BFGS-B run (see _lbfgsb)


def extract(r: np.ndarray, nf: int, method: str, *, min_err: float = 0.001, max_iter: int = 50) -> Extraction:
    """Unrotated factor loadings of ``r`` (a correlation matrix), exactly as ``psych:::fac``."""
    p = r.shape[0]
    e_values = np.linalg.eigvalsh(r)[::-1]
    fallback = None
    if method in ("minres", "ml"):
        s_smc = smc(r)
        upper = max(s_smc.max(), 1.0)
        start = np.diag(r) - s_smc
        if method == "minres":
            psi, res = _lbfgsb(_minres_fn, _minres_gr, start, upper, r, nf)
            s2 = r.copy()
            s2[np.diag_indices(p)] -= psi
            w, v = _eigh_desc(s2)
            load = v[:, :nf] * np.sqrt(np.maximum(w[:nf], 0))
        else:
            psi, res = _lbfgsb(_ml_fn, _ml_gr, start, upper, r, nf)
            load = _ml_load(psi, r, nf)
        n_iter, converged, message = int(res.nit), bool(res.success), str(res.message)
        fallback = res.fallback
        s3 = r.copy()
        s3[np.diag_indices(p)] = np.sum(load**2, axis=1)
        values = np.linalg.eigvalsh(s3)[::-1]
    elif method == "pa":
        rmat = r.copy()
        if nf <= p:
            rmat[np.diag_indices(p)] = smc(r)
        comm = np.trace(rmat)
        err = comm
        i = 1
        converged = True
        while err > min_err:
            w, v = _eigh_desc(rmat)
            with np.errstate(invalid="ignore"):
                load = v[:, :nf] * np.sqrt(w[:nf])
            new = np.sum(load**2, axis=1)
            comm1 = new.sum()
            rmat[np.diag_indices(p)] = new
            err = abs(comm - comm1)
            if np.isnan(err):
                break
            comm = comm1
            i += 1
            if i > max_iter:
                converged = False
                err = 0
        values = w
        psi = 1 - np.sum(load**2, axis=1)
        n_iter, message = i - 1, ("converged" if converged else f"maximum iteration ({max_iter}) exceeded")
    else:  # pragma: no cover - validated by the caller
        raise ValueError(method)
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    load = load * signs
    return Extraction(load, values, e_values, psi, n_iter, converged, message, fallback)


# --------------------------------------------------------------------------- fit statistics
def fa_stats(r, loadings, phi, n_obs, np_obs, alpha: float = 0.1) -> dict:
    """``psych::factor.stats`` (the numbers ``print.psych.fa`` shows)."""
    p, nf = loadings.shape
    model = loadings @ loadings.T if phi is None else loadings @ phi @ loadings.T
    residual = r - model
    r2 = np.sum(r * r)
    rstar2 = np.sum(residual * residual)
    dof = p * (p - 1) / 2 - p * nf + nf * (nf - 1) / 2
    np.fill_diagonal(residual, 0.0)
    out: dict = {"dof": dof}
    rstar_off = np.sum(residual**2 * np_obs)
    r2off_m = r * r * np_obs
    r2_off = r2off_m.sum() - np.trace(r2off_m)
    nh = stats.hmean(np_obs.ravel())
    out["echisq"] = rstar_off
    out["nh"] = nh
    out["rms"] = np.sqrt(rstar_off / (nh * p * (p - 1)))
    if dof > 0:
        out["crms"] = np.sqrt(rstar_off / (2 * nh * dof))
        out["ebic"] = rstar_off - dof * np.log(nh)
    else:
        out["crms"] = out["ebic"] = np.nan
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    m = model.copy()
    m[np.diag_indices(p)] = np.diag(r)
    m, _ = cor_smooth(m)
    rs, _ = cor_smooth(r)
    try:
        minvr = np.linalg.solve(m, rs)
    except np.linalg.LinAlgError:
        minvr = np.eye(p)
    sign, logdet = np.linalg.slogdet(minvr)
    objective = np.trace(minvr) - (logdet if sign > 0 else np.nan) - p
    out["objective"] = objective
    nm = (n_obs - 1) - (2 * p + 5) / 6 - (2 * nf) / 3
    chisq = objective * nm
    if chisq < 0:
        chisq = 0.0
    out["chisq"] = chisq
    out["p_value"] = stats.chi2.sf(chisq, dof) if dof > 0 else np.nan
    sign0, logdet0 = np.linalg.slogdet(rs)
    f0 = np.trace(rs) - logdet0 - p
    mm = objective / dof if dof != 0 else np.nan
    m0 = f0 * 2 / (p * (p - 1))
    out["null_chisq"] = f0 * ((n_obs - 1) - (2 * p + 5) / 6)
    out["null_dof"] = p * (p - 1) / 2
    out["tli"] = (m0 - mm) / (m0 - 1 / nm)
    if dof > 0:
        rmsea = np.sqrt(max(chisq / (dof * n_obs) - 1 / (n_obs - 1), 0))
        tail = alpha / 2
        hi = max(n_obs, chisq) + 2 * n_obs

        rmsea_u = 0.0
        if stats.chi2.cdf(chisq, dof) > tail:
            rmsea_u = _rmsea_bound(chisq, dof, n_obs, tail, hi)
        rmsea_l = 0.0
        if stats.chi2.cdf(chisq, dof) > 1 - tail:
            rmsea_l = _rmsea_bound(chisq, dof, n_obs, 1 - tail, hi)
        if not np.isnan(rmsea_u) and rmsea_u < rmsea:
            rmsea_u = np.nan
        if not np.isnan(rmsea_l) and rmsea_l > rmsea:
            rmsea_l = np.nan
        out["rmsea"] = rmsea
        out["rmsea_low"] = rmsea_l
        out["rmsea_high"] = rmsea_u
        out["bic"] = chisq - dof * np.log(n_obs)
        out["sabic"] = chisq - dof * np.log((n_obs + 2) / 24)
    else:
        out.update(rmsea=np.nan, rmsea_low=np.nan, rmsea_high=np.nan, bic=np.nan, sabic=np.nan)
    return out


def _rmsea_bound(chisq, dof, n_obs, target, hi):
    def fn(x):
        return stats.ncx2.cdf(chisq, dof, x) - target if x > 0 else stats.chi2.cdf(chisq, dof) - target

    try:
        root = optimize.brentq(fn, 0.0, hi, xtol=1e-10)
    except ValueError:
        return np.nan
    return float(np.sqrt(root / (n_obs - 1) / dof))

