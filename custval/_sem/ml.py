"""Normal-theory ML and FIML for CFA: objective, gradient, information (private).

Data are stored per group as missing-data *patterns* (complete data are one
pattern).  For a pattern with observed variables ``o``, ``n_p`` cases, mean
``ybar_p`` and ``N``-denominator covariance ``S_p``::

    -2 logl_p = n_p [p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 (S_p + d d'))],
    d = ybar_p - mu_o.

The objective is ``f(x) = -logl(x) / N``; for complete data this equals
lavaan's ``fmin = sum_g (n_g / N) F_ML,g / 2`` up to a constant, so the
gradient and Hessian are lavaan's.  Without a mean structure (single group,
complete data) ``mu`` is the sample mean.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import ConvergenceWarning, NotPositiveDefiniteError

LOG2PI = np.log(2.0 * np.pi)


@dataclass
class Pattern:
    obs: np.ndarray  # int indices of observed variables
    n: int
    mean: np.ndarray
    cov: np.ndarray  # N-denominator
    y: np.ndarray  # raw rows (n x p_o)
    ix: tuple | None = None  # cached np.ix_(obs, obs)
    flat: np.ndarray | None = None  # cached flat index into a p x p matrix


@dataclass
class GroupData:
    n: int
    patterns: list[Pattern]
    complete: bool
    sample_cov: np.ndarray  # complete data: S (N); FIML: EM estimate
    sample_mean: np.ndarray
    n_rows_empty: int = 0
    extra: dict = field(default_factory=dict)
    batch: PatternBatch | None = None  # several patterns: their stacked arrays (pattern_batch)
    cache: dict = field(default_factory=dict)  # results that depend on the data only (h1 information)


class PatternBatch:
    """The missing-data patterns of a group as stacked ``(P, p)`` / ``(P, p, p)`` arrays.

    Every pattern's vectors and matrices are embedded in the full ``p`` variables
    with zeros for its missing ones (``mask``), so that the log-likelihood, its
    gradient and the information of all patterns are a few array operations
    instead of a Python loop over patterns: ``Sigma_oo^-1`` embedded is zero
    outside ``o x o``, and products with it only see the observed block.  The
    inverses themselves are computed per pattern size (stacked Cholesky
    factors, the same LAPACK routine as one pattern at a time).
    """

    def __init__(self, gd: GroupData, p: int):
        pats = gd.patterns
        self.p = p
        self.n = np.array([pt.n for pt in pats], dtype=float)
        self.n_obs = np.array([len(pt.obs) for pt in pats], dtype=float)
        self.mask = np.zeros((len(pats), p))
        self.mean = np.zeros((len(pats), p))
        self.cov = np.zeros((len(pats), p, p))
        for k, pt in enumerate(pats):
            self.mask[k, pt.obs] = 1.0
            self.mean[k, pt.obs] = pt.mean
            self.cov[k][np.ix_(pt.obs, pt.obs)] = pt.cov
        # patterns of equal size: their indices and observed variables (P_k x p_o)
        sizes = np.array([len(pt.obs) for pt in pats])
        self.by_size = []
        for size in np.unique(sizes):
            ids = np.flatnonzero(sizes == size)
            self.by_size.append((ids, np.array([pats[k].obs for k in ids], dtype=int).reshape(len(ids), size)))

    def inverses(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``Sigma_oo^-1`` of every pattern embedded in ``(P, p, p)`` and ``log|Sigma_oo|`` ``(P,)``."""
        si = np.zeros((len(self.n), self.p, self.p))
        ld = np.zeros(len(self.n))
        for ids, obs in self.by_size:
            block = sigma[obs[:, :, None], obs[:, None, :]]
            try:
                c = np.linalg.cholesky(block)
            except np.linalg.LinAlgError as exc:
                raise NotPositiveDefiniteError("model-implied covariance matrix is not positive definite") from exc
            ci = np.linalg.inv(c)
            si[ids[:, None, None], obs[:, :, None], obs[:, None, :]] = np.matmul(ci.transpose(0, 2, 1), ci)
            ld[ids] = 2.0 * np.log(np.diagonal(c, axis1=1, axis2=2)).sum(axis=1)
        return si, ld

    def deviations(self, mu: np.ndarray | None) -> np.ndarray:
        """Pattern means minus ``mu`` (zero for missing variables; zero without ``mu``)."""
        if mu is None:
            return np.zeros_like(self.mean)
        return self.mean - mu[None, :] * self.mask

    def moments(self, d: np.ndarray) -> np.ndarray:
        """``S_p + d d'`` of every pattern (embedded)."""
        return self.cov + d[:, :, None] * d[:, None, :]

    def loglik(self, sigma: np.ndarray, mu: np.ndarray | None, inverses) -> float:
        si, ld = inverses
        w = self.moments(self.deviations(mu))
        quad = np.einsum("kij,kij->k", si, w)
        return float(np.sum(-0.5 * self.n * (self.n_obs * LOG2PI + ld + quad)))

    def grad(self, sigma: np.ndarray, mu: np.ndarray | None, inverses):
        si, _ = inverses
        d = self.deviations(mu)
        w = self.moments(d)
        gs = 0.5 * np.einsum("k,kij->ij", self.n, si - si @ w @ si)
        gm = -np.einsum("k,kij,kj->i", self.n, si, d)
        return gs, gm


def batch_information(batch: PatternBatch, sigma, mu, inv, dflat, dm, observed: bool, means: bool) -> np.ndarray:
    """The pattern sum of :meth:`MLProblem._information` for all patterns of a group at once.

    Per pattern the information is ``n/2 sum D_k[a,b] S[x,a] R[b,y] D_l[x,y]`` (``S``:
    ``Sigma_oo^-1`` embedded, ``R``: ``S`` or, observed, ``S (2 W - Sigma) S``): the
    pattern sum of ``S[a,x] R[b,y]`` is one ``(p^2 x P) (P x p^2)`` product, rearranged
    to ``(a,b) x (x,y)`` and contracted with ``Delta`` (``dflat``, ``k x p^2``) once
    (memory ``p^4``: used up to 40 variables).  ``dm``: the mean part of ``Delta``.
    """
    p = batch.p
    si, _ = inv
    dev = batch.deviations(mu if means else None)
    if observed:
        right = si @ (2 * batch.moments(dev) - sigma[None, :, :]) @ si
    else:
        right = si
    a = (si * batch.n[:, None, None]).reshape(len(batch.n), p * p)
    w = (a.T @ right.reshape(len(batch.n), p * p)).reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)
    info = 0.5 * dflat @ w @ dflat.T
    if means:
        info += dm @ np.einsum("k,kij->ij", batch.n, si) @ dm.T
        if observed:
            u = np.einsum("kij,kj->ki", si, dev)
            v = (a.T @ u).reshape(p, p * p)  # V[a, (x, y)] = sum_k n_k S_k[a, x] u_k[y]
            cross = dm @ v @ dflat.T
            info += cross + cross.T
    return info


def pattern_batch(gd: GroupData, p: int) -> PatternBatch | None:
    """The group's :class:`PatternBatch` (built once), or None for complete data or when the
    stacked arrays would be large (many patterns of many variables)."""
    if len(gd.patterns) < 2 or len(gd.patterns) * p * p > 4_000_000:
        return None
    if gd.batch is None:
        gd.batch = PatternBatch(gd, p)
    return gd.batch


def make_group_data(y: np.ndarray, fiml: bool, cluster: np.ndarray | None = None) -> GroupData:
    """Split a data matrix (NaN = missing) into patterns.

    ``cluster`` (one id per row, complete data only) is kept in
    ``extra["cluster"]`` for cluster-robust first-order information.
    """
    n_all, p = y.shape
    miss = np.isnan(y)
    empty = miss.all(axis=1)
    y = y[~empty]
    miss = miss[~empty]
    n = y.shape[0]
    if not miss.any():
        mean = y.mean(axis=0)
        yc = y - mean
        cov = yc.T @ yc / n
        pat = Pattern(np.arange(p), n, mean, cov, y)
        gd = GroupData(n, [pat], True, cov, mean, int(empty.sum()))
        if cluster is not None:
            gd.extra["cluster"] = np.asarray(cluster)[~empty]
        return gd
    codes, inverse = np.unique(miss, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    patterns = []
    for k, code in enumerate(codes):
        rows = y[inverse == k][:, ~code]
        obs = np.flatnonzero(~code)
        m = rows.mean(axis=0)
        rc = rows - m
        patterns.append(Pattern(obs, rows.shape[0], m, rc.T @ rc / rows.shape[0], rows))
    gd = GroupData(n, patterns, False, np.full((p, p), np.nan), np.full(p, np.nan), int(empty.sum()))
    gd.extra["y"] = y
    return gd


# --------------------------------------------------------------------------- moments
def _inv_logdet(sigma: np.ndarray) -> tuple[np.ndarray, float]:
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError as exc:
        raise NotPositiveDefiniteError("model-implied covariance matrix is not positive definite") from exc
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * np.log(np.diag(c)).sum()


def pattern_inverses(gd: GroupData, sigma: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """``(Sigma_oo^-1, log|Sigma_oo|)`` of every missing-data pattern of a group."""
    return [_inv_logdet(sigma[getattr(pt, "ix", None) or np.ix_(pt.obs, pt.obs)]) for pt in gd.patterns]


def loglik_group(gd: GroupData, sigma: np.ndarray, mu: np.ndarray | None, inverses=None) -> float:
    """Log-likelihood of a group; ``inverses``: its :func:`pattern_inverses` when known
    (with a :class:`PatternBatch`, the batch's ``(Sigma_oo^-1, log|Sigma_oo|)`` arrays)."""
    batch = pattern_batch(gd, sigma.shape[0]) if not isinstance(inverses, list) else None
    if batch is not None:
        return batch.loglik(sigma, mu, batch.inverses(sigma) if inverses is None else inverses)
    if inverses is None:
        inverses = pattern_inverses(gd, sigma)
    total = 0.0
    for pt, (si, ld) in zip(gd.patterns, inverses):
        o = pt.obs
        d = pt.mean - (mu[o] if mu is not None else pt.mean)
        w = pt.cov + np.outer(d, d)
        total += -0.5 * pt.n * (len(o) * LOG2PI + ld + np.sum(si * w))
    return total


def grad_moments(gd: GroupData, sigma: np.ndarray, mu: np.ndarray | None, inverses=None):
    """d(-logl)/dSigma (full symmetric p x p, entries treated as distinct) and d(-logl)/dmu.

    ``inverses``: the group's :func:`pattern_inverses` when known."""
    batch = pattern_batch(gd, sigma.shape[0]) if not isinstance(inverses, list) else None
    if batch is not None:
        return batch.grad(sigma, mu, batch.inverses(sigma) if inverses is None else inverses)
    if inverses is None:
        inverses = pattern_inverses(gd, sigma)
    p = sigma.shape[0]
    gs = np.zeros((p, p))
    gm = np.zeros(p)
    for pt, (si, _) in zip(gd.patterns, inverses):
        o = pt.obs
        ix = getattr(pt, "ix", None) or np.ix_(o, o)
        d = pt.mean - (mu[o] if mu is not None else pt.mean)
        w = pt.cov + np.outer(d, d)
        gs[ix] += 0.5 * pt.n * (si - si @ w @ si)
        gm[o] += -pt.n * (si @ d)
    return gs, gm


class MLProblem:
    """Objective ``-logl(x)/N`` over all groups, with analytic derivatives.

    The optimizer asks for the objective, the gradient and the information at the
    same point (the accepted step's objective, then the next iteration's gradient
    and information): the implied moments, their pattern-wise inverses and the
    Jacobian ``Delta`` of the last point are kept (:meth:`_moments`, :meth:`_delta`)
    rather than recomputed; the numbers are the same.
    """

    def __init__(self, model, groups: list[GroupData]):
        self.model = model
        self.groups = groups
        self.ntotal = sum(g.n for g in groups)
        self.means = model.meanstructure
        p = model.p
        for gd in groups:
            for pt in gd.patterns:
                o = pt.obs
                pt.ix = np.ix_(o, o)
                pt.flat = (o[:, None] + o[None, :] * p).ravel()
        self._cache: dict = {}

    def _cached(self, what: str, x: np.ndarray, compute):
        """``compute(x)``, reused while ``x`` (and the model's constraint basis) is unchanged."""
        x = np.asarray(x, dtype=float)
        # the constraint basis is compared by identity (it is replaced, never modified, by
        # SemModel.set_constraints; the cache holds a reference, so the id cannot be reused)
        key = (x.tobytes(), x.shape, self.model.con_k)
        hit = self._cache.get(what)
        if hit is not None and hit[0][0] == key[0] and hit[0][1] == key[1] and hit[0][2] is key[2]:
            return hit[1]
        value = compute(x)
        self._cache[what] = (key, value)
        return value

    def _moments(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, list]]:
        """Per group ``(Sigma, mu, inverses)`` at ``x`` (NotPositiveDefiniteError if not PD): the
        :func:`pattern_inverses`, or the :class:`PatternBatch` arrays of a group with several patterns."""
        def compute(xx):
            out = []
            for gd, (sigma, mu) in zip(self.groups, self.model.implied(xx)):
                batch = pattern_batch(gd, self.model.p)
                out.append((sigma, mu, pattern_inverses(gd, sigma) if batch is None else batch.inverses(sigma)))
            return out
        return self._cached("moments", x, compute)

    @staticmethod
    def _per_pattern(gd: GroupData, inv) -> list[tuple[np.ndarray, float]]:
        """``(Sigma_oo^-1, log|Sigma_oo|)`` per pattern from either form of the inverses."""
        if gd.batch is None or isinstance(inv, list):
            return inv
        si, ld = inv
        return [(si[k][pt.ix], ld[k]) for k, pt in enumerate(gd.patterns)]

    def _delta(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return self._cached("delta", x, self.model.delta)

    def loglik(self, x: np.ndarray) -> float:
        total = 0.0
        for gd, (sigma, mu, inv) in zip(self.groups, self._moments(x)):
            total += loglik_group(gd, sigma, mu if self.means else None, inv)
        return total

    def objective(self, x: np.ndarray) -> float:
        return -self.loglik(x) / self.ntotal

    def _by_pieces(self) -> bool:
        """Complete data in every group: derivatives from the rank-2 pieces of ``dSigma``
        (:meth:`SemModel.pieces`), without the full Jacobian ``Delta``."""
        return hasattr(self.model, "pieces") and all(gd.complete and len(gd.patterns) == 1 for gd in self.groups)

    def _jacobians(self, x: np.ndarray) -> list:
        """Per group ``(dSigma, dmu)`` (``dSigma`` None when the pieces are used)."""
        if self._by_pieces():
            dms = self._cached("delta_mean", x, self.model.delta_mean)
            return [(None, dm) for dm in dms]
        return self._delta(x)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        g = np.zeros(self.model.nx)
        pieces = self._cached("pieces", x, self.model.pieces) if self._by_pieces() else None
        for k, (gd, (sigma, mu, inv), (ds, dm)) in enumerate(zip(self.groups, self._moments(x), self._jacobians(x))):
            gs, gm = grad_moments(gd, sigma, mu if self.means else None, inv)
            if ds is None:
                # d/dx_k of sum G * D_k with D_k = sum (a b' + b a'), G symmetric: 2 a' G b per piece
                a, b, idx = pieces[k]
                per_piece = 2.0 * np.einsum("ir,ir->r", a, gs @ b)
                gx = np.bincount(idx, per_piece, minlength=self.model.nfree)
                g += gx if self.model.con_k is None else self.model.con_k.T @ gx
            else:
                g += ds.reshape(ds.shape[0], -1) @ gs.ravel()
            if self.means:
                g += dm @ gm
        return g / self.ntotal

    def _information(self, x: np.ndarray, observed: bool) -> np.ndarray:
        """Delta' H Delta with H the (expected or observed) Hessian in the moments."""
        nx = self.model.nx
        info = np.zeros((nx, nx))
        pieces = self._cached("pieces", x, self.model.pieces) if self._by_pieces() else None
        for g, (gd, (sigma, mu, inv), (ds, dm)) in enumerate(zip(self.groups, self._moments(x), self._jacobians(x))):
            if ds is None:
                info += self._complete_information(gd.patterns[0], sigma, mu, inv[0][0], pieces[g], dm, observed)
                continue
            dflat = ds.reshape(nx, -1)
            if gd.batch is not None and not isinstance(inv, list) and self.model.p <= 40:
                info += batch_information(gd.batch, sigma, mu, inv, dflat, dm, observed, self.means)
                continue
            for pt, (si, _) in zip(gd.patterns, self._per_pattern(gd, inv)):
                o = pt.obs
                po = len(o)
                sig_oo = sigma[pt.ix]
                d = dflat[:, pt.flat].reshape(nx, po, po)
                if observed:
                    center = mu[o] if self.means else pt.mean
                    dev = pt.mean - center
                    w = pt.cov + np.outer(dev, dev)
                    right = si @ (2 * w - sig_oo) @ si
                else:
                    right = si
                mm = si @ d @ right
                info += 0.5 * pt.n * mm.reshape(nx, -1) @ d.reshape(nx, -1).T
                if self.means:
                    dmo = dm[:, o]
                    info += pt.n * dmo @ si @ dmo.T
                    if observed:
                        u = si @ dev
                        cross = pt.n * (dmo @ si) @ (d @ u).T
                        info += cross + cross.T
        return info / self.ntotal

    def _complete_information(self, pt: Pattern, sigma, mu, si, pieces, dm, observed: bool) -> np.ndarray:
        """:meth:`_information` of complete data from the rank-2 pieces of ``dSigma``
        (:meth:`SemModel.pieces`): with ``D_k = sum (a b' + b a')`` and ``R`` = ``S`` (expected)
        or ``S (2 W - Sigma) S`` (observed), ``tr(S D_k R D_l)`` is a sum of four products of
        ``p x R`` bilinear forms, so the information costs ``O(p^2 R)`` instead of
        ``O(p^3 k)``; the same numbers up to rounding."""
        a, b, k = pieces
        nfree = self.model.nfree
        if observed:
            center = mu if self.means else pt.mean
            dev = pt.mean - center
            right = si @ (2 * (pt.cov + np.outer(dev, dev)) - sigma) @ si
        else:
            right = si
        sa, sb, ra, rb = si @ a, si @ b, right @ a, right @ b
        s_ba, s_aa, s_bb, s_ab = b.T @ sa, a.T @ sa, b.T @ sb, a.T @ sb
        r_ba, r_bb, r_aa, r_ab = b.T @ ra, b.T @ rb, a.T @ ra, a.T @ rb
        pp = r_ba * s_ba.T + r_bb * s_aa.T + r_aa * s_bb.T + r_ab * s_ab.T
        q = np.zeros((len(k), nfree))
        q[np.arange(len(k)), k] = 1.0
        info = 0.5 * pt.n * (q.T @ pp @ q)
        kk = self.model.con_k
        if kk is not None:
            info = kk.T @ info @ kk
        if self.means:
            info += pt.n * dm @ si @ dm.T
            if observed:
                u = si @ dev
                du = (a * (b.T @ u) + b * (a.T @ u)) @ q  # p x nfree: column l is D_l u
                if kk is not None:
                    du = du @ kk
                cross = pt.n * (dm @ si) @ du
                info += cross + cross.T
        return info

    def expected_information(self, x: np.ndarray) -> np.ndarray:
        """Expected (per-N) information; for FIML the pattern-wise expected information."""
        return self._information(x, observed=False)

    def observed_information(self, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """Hessian of the objective (per-N observed information).

        ``Delta' H Delta`` with ``H`` the analytic Hessian in the moments plus
        the curvature of the model, ``sum_k g_k d2 m_k / dx dx'``, which is
        obtained by a 4-point difference of the analytic Jacobian ``Delta``
        (lavaan differentiates the whole gradient numerically with the same
        rule, ``lavaan:::lav_model_hessian``; the two agree to ~1e-9).
        """
        base = self._information(x, observed=True)
        gmom = []
        for gd, (sigma, mu, inv) in zip(self.groups, self._moments(x)):
            gs, gm = grad_moments(gd, sigma, mu if self.means else None, inv)
            gmom.append((gs.ravel(), gm))

        def contracted(xx):
            out = np.zeros(len(xx))
            for (ds, dm), (gs, gm) in zip(self.model.delta(xx), gmom):
                out += ds.reshape(ds.shape[0], -1) @ gs
                if self.means:
                    out += dm @ gm
            return out / self.ntotal

        nx = len(x)
        if hasattr(self.model, "curvature") and not self.model.has_beta:
            curv = self.model.curvature(x, [(gs.reshape(self.model.p, -1), gm) for gs, gm in gmom],
                                        self.means) / self.ntotal
        else:
            curv = np.zeros((nx, nx))
            for j in range(nx):
                e = np.zeros(nx)
                e[j] = h
                curv[:, j] = (contracted(x - 2 * e) - 8 * contracted(x - e) + 8 * contracted(x + e)
                              - contracted(x + 2 * e)) / (12 * h)
        hess = base + curv
        return (hess + hess.T) / 2

    def casewise_scores(self, x: np.ndarray) -> list[np.ndarray]:
        """Per group: (n_g x nx) derivatives of each case's log-likelihood."""
        nx = self.model.nx
        out = []
        for gd, (_sigma, mu, inv), (ds, dm) in zip(self.groups, self._moments(x), self._delta(x)):
            dflat = ds.reshape(nx, -1)
            rows = []
            for pt, (si, _) in zip(gd.patterns, self._per_pattern(gd, inv)):
                o = pt.obs
                po = len(o)
                center = mu[o] if self.means else pt.mean
                z = (pt.y - center) @ si
                d = dflat[:, pt.flat]  # nx x po^2
                zz = (z[:, :, None] * z[:, None, :]).reshape(pt.n, po * po)
                sc = 0.5 * (zz @ d.T - (d @ si.ravel())[None, :])
                if self.means:
                    sc = sc + z @ dm[:, o].T
                rows.append(sc)
            out.append(np.vstack(rows))
        return out

    # ------------------------------------------------------------------ optimizer
    def fit(self, x0: np.ndarray, max_iter: int = 1000, tol: float = 1e-10) -> tuple[np.ndarray, bool, int]:
        """Fisher scoring with step halving; Newton steps (observed information) near the optimum.

        The scoring steps are damped (Levenberg-Marquardt: ``(I + lam diag(I))
        step = g``, ``lam`` = 0.1 far from the optimum, shrinking as the
        steps shrink).  Undamped steps (or least-squares steps where the
        information is singular, as at start values with zero factor
        covariances) can run into a degenerate region -- e.g. a trait factor
        whose loadings vanish in a method-factor model -- and stall there.
        Once a step changes no parameter by more than 1% (relative), Newton steps take
        over (back to scoring when a Newton step is not a descent direction): scoring
        converges only linearly when the model does not fit exactly.  The stopping rule
        (relative step below ``tol``) makes the estimates the optimum's, whichever steps
        led there.
        """
        x = np.asarray(x0, float).copy()
        try:
            f = self.objective(x)
        except NotPositiveDefiniteError:
            f = np.inf
        converged = False
        newton = False
        lam = 0.1
        it = 0
        while it < max_iter:
            it += 1
            g = self.gradient(x)
            info = self.observed_information(x) if newton else self.expected_information(x)
            if not newton:
                info = info + lam * np.diag(np.diag(info))
            try:
                step = np.linalg.solve(info, g)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(info, g, rcond=None)[0]
            if newton and not np.dot(step, g) > 0:  # not a descent direction: back to scoring
                newton = False
                step = np.linalg.lstsq(self.expected_information(x), g, rcond=None)[0]
            t = 1.0
            while True:
                xn = x - t * step
                try:
                    fn = self.objective(xn)
                except NotPositiveDefiniteError:
                    fn = np.inf
                if np.isfinite(fn) and fn <= f + 1e-15 * max(1.0, abs(f)):
                    break
                t /= 2
                if t < 1e-10:
                    break
            rel = np.max(np.abs(t * step)) / max(1.0, np.max(np.abs(x)))
            if t < 1e-10:
                converged = bool(np.max(np.abs(g)) < 1e-7)
                break
            x, f = xn, fn
            lam = min(0.1, rel) if t == 1.0 else 0.1
            if rel < tol:
                converged = True
                break
            if rel < 1e-2:
                newton = True
        return x, converged, it


def warn_not_converged(what: str, iterations: int) -> None:
    warnings.warn(
        f"{what} did not converge after {iterations} iterations; estimates are not reliable",
        ConvergenceWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------- FIML h1
def em_saturated(gd: GroupData, max_iter: int = 500, tol: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Saturated mean/covariance under missing data by EM.

    Mirrors ``lavaan:::lav_mvnorm_missing_h1_estimate_moments`` (start: means
    and N-denominator variances of the observed values, diagonal covariance;
    stop when the largest change in (mu, vech(Sigma)) is below ``tol`` = 1e-5,
    at most 500 iterations), so that the h1 log-likelihood and chi-square
    equal lavaan's.
    """
    y = gd.extra["y"]
    n, p = y.shape
    mu0 = np.nanmean(y, axis=0)
    var0 = np.nanmean((y - mu0) ** 2, axis=0)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma0 = np.diag(var0)
    mu, sigma = mu0.copy(), sigma0.copy()
    iu = np.triu_indices(p)
    # the E-step from each pattern's sufficient statistics (n, mean, N-denominator
    # covariance), as lavaan's lav_mvnorm_missing_estep: the sums over a pattern's rows of
    # the completed values and their cross-products need no pass over the rows; the
    # patterns with the same number of observed variables are processed together
    t1_fixed, t2_fixed = np.zeros(p), np.zeros((p, p))
    by_size: dict[int, list] = {}
    for pt in gd.patterns:
        o = pt.obs
        t1_fixed[o] += pt.n * pt.mean
        t2_fixed[np.ix_(o, o)] += pt.n * (pt.cov + np.outer(pt.mean, pt.mean))
        if len(o) < p:
            by_size.setdefault(len(o), []).append(pt)
    sizes = []
    for pats in by_size.values():
        obs = np.array([pt.obs for pt in pats], dtype=int)
        missing = np.ones((len(pats), p), dtype=bool)
        for k, pt in enumerate(pats):
            missing[k, pt.obs] = False
        mis = np.nonzero(missing)[1].reshape(len(pats), p - obs.shape[1])
        nn = np.array([pt.n for pt in pats], dtype=float)
        sizes.append((obs, mis, nn, np.array([pt.mean for pt in pats]), np.array([pt.cov for pt in pats])))
    for _ in range(max_iter):
        t1 = t1_fixed.copy()
        t2 = t2_fixed.copy()
        mo_sum = np.zeros((p, p))
        for obs, mis, nn, ybar, cov in sizes:
            oo = (obs[:, :, None], obs[:, None, :])
            mo = (mis[:, :, None], obs[:, None, :])
            mm = (mis[:, :, None], mis[:, None, :])
            s_mo = sigma[mo]
            beta = s_mo @ np.linalg.inv(sigma[oo])
            c = ybar - mu[obs]
            mu_m = mu[mis]
            bc = np.einsum("kij,kj->ki", beta, c)
            np.add.at(t1, mis, nn[:, None] * (mu_m + bc))  # the completed missing values' means
            # sum over rows of yhat_m y_o' (added to both off-diagonal blocks below)
            cross = mu_m[:, :, None] * ybar[:, None, :] + beta @ (cov + c[:, :, None] * ybar[:, None, :])
            np.add.at(mo_sum, mo, nn[:, None, None] * cross)
            sc = cov + c[:, :, None] * c[:, None, :]
            cmis = sigma[mm] - beta @ s_mo.transpose(0, 2, 1)
            second = (mu_m[:, :, None] * mu_m[:, None, :] + mu_m[:, :, None] * bc[:, None, :]
                      + bc[:, :, None] * mu_m[:, None, :] + beta @ sc @ beta.transpose(0, 2, 1) + cmis)
            np.add.at(t2, mm, nn[:, None, None] * second)
        t2 += mo_sum + mo_sum.T
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        ev = np.linalg.eigvalsh(sigma)
        if np.any(ev < 1e-6):
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        delta = np.max(np.abs(np.concatenate([mu - mu0, sigma[iu] - sigma0[iu]])))
        if delta < tol:
            break
        mu0, sigma0 = mu, sigma
    return mu, sigma
