"""Two-level (within / between) confirmatory factor analysis by ML (private).

The likelihood is lavaan's (``lav_mvnorm_cluster_loglik_samplestats_2l``,
Muthén & Asparouhov's two-level normal model): respondent ``i`` of cluster
``j`` (``n_j`` respondents, ``J`` clusters, ``N`` respondents) is
``y_ij = mu + b_j + w_ij`` with ``cov(w) = Sigma_W`` and ``cov(b) = Sigma_B``.
With the pooled within-cluster covariance ``S_PW`` (divisor ``N - J``) and
the cluster means ``ybar_j``::

    -2 logl = N p log(2 pi) + (N - J) [log|Sigma_W| + tr(Sigma_W^-1 S_PW)]
              + sum_j log|V_j| + n_j (ybar_j - mu)' V_j^-1 (ybar_j - mu),
    V_j = Sigma_W + n_j Sigma_B.

Clusters of equal size share ``V_j``: the sums run over the distinct sizes.

Within-only and between-only variables (lavaan's ``lav_mvnorm_cluster_implied22l``):
a variable named only in the ``level: 1`` block has no between part (its rows of
``Sigma_B`` are 0; its mean is its level-1 intercept), a variable named only in
the ``level: 2`` block (constant within each cluster, e.g. firm size) has no
within part (its rows of ``Sigma_W`` are 0).  The cluster term is then written
with ``M_j = Sigma_B + Sigma_W / n_j`` (the covariance of the cluster vector
``u_j``: the between-only values and the cluster means of the other variables)::

    -2 logl = (N p_W + J p_Z) log(2 pi) + (N - J) [log|S_W| + tr(S_W^-1 S_PW)]
              + sum_j log|M_j| + p_W log n_j + (u_j - mu)' M_j^-1 (u_j - mu),

with ``S_W`` and ``S_PW`` restricted to the ``p_W`` level-1 variables and ``p_Z``
between-only variables; without between-only variables ``n_j^p M_j = V_j`` and
this is the formula above.
The model is a two-"block" :class:`~custval._sem.model.SemModel` (block 1 =
level 1 = within, block 2 = level 2 = between); the gradient with respect to
the parameters is the analytic gradient with respect to ``Sigma_W``,
``Sigma_B`` and ``mu`` chained through the model's Jacobians
(:meth:`SemModel.delta`).  The saturated (H1) model has free ``Sigma_W``,
``Sigma_B`` and ``mu``; it is maximised to a gradient of 1e-9, further than
lavaan 0.6-14's EM (``lav_mvnorm_cluster_em_sat``, stopped at a loglik gain
below 1e-4), so the chi-square is a little smaller than lavaan's (see
:class:`custval.CFA`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from ..exceptions import (
    ConstantItemError,
    DataValidationError,
    InsufficientDataError,
    ModelSyntaxError,
    NotPositiveDefiniteError,
    SpecificationError,
)
from .model import SemModel, start_values
from .syntax import build_partable, parse

LOG2PI = np.log(2 * np.pi)


# --------------------------------------------------------------------------- data
@dataclass
class ClusterData:
    """Sufficient statistics of two-level data (complete cases)."""

    n: int  # respondents
    nclusters: int
    p: int
    s_pw: np.ndarray  # pooled within-cluster covariance (divisor N - J)
    sizes: np.ndarray  # distinct cluster sizes
    counts: np.ndarray  # clusters of each size
    m1: np.ndarray  # per size: sum of the cluster means (k x p)
    m2: np.ndarray  # per size: sum of ybar ybar' (k x p x p)
    ybar: np.ndarray  # cluster means (J x p)
    nj: np.ndarray  # cluster sizes (J)
    labels: list  # cluster ids in order of ybar
    w_idx: np.ndarray | None = None  # the level-1 variables (all but the between-only ones)
    b_idx: np.ndarray | None = None  # the level-2 variables (all but the within-only ones)

    def __post_init__(self):
        if self.w_idx is None:
            self.w_idx = np.arange(self.p)
        if self.b_idx is None:
            self.b_idx = np.arange(self.p)


def cluster_data(y: np.ndarray, ids: np.ndarray, within_only=(), between_only=()) -> ClusterData:
    """The within / between sufficient statistics of items ``y`` (N x p) nested in ``ids``.

    ``within_only`` / ``between_only``: column indices of the variables of one level only.
    """
    codes, labels = pd.factorize(pd.Series(ids), sort=False)
    n, p = y.shape
    nclus = len(labels)
    nj = np.bincount(codes, minlength=nclus)
    sums = np.zeros((nclus, p))
    np.add.at(sums, codes, y)
    ybar = sums / nj[:, None]
    dev = y - ybar[codes]
    s_pw = dev.T @ dev / (n - nclus)
    sizes, inv = np.unique(nj, return_inverse=True)
    k = len(sizes)
    counts = np.bincount(inv, minlength=k)
    m1 = np.zeros((k, p))
    np.add.at(m1, inv, ybar)
    m2 = np.zeros((k, p, p))
    np.add.at(m2, inv, ybar[:, :, None] * ybar[:, None, :])
    w_idx = np.array([j for j in range(p) if j not in set(between_only)], dtype=int)
    b_idx = np.array([j for j in range(p) if j not in set(within_only)], dtype=int)
    return ClusterData(n, nclus, p, s_pw, sizes, counts, m1, m2, ybar, nj, list(labels), w_idx, b_idx)


def _chol_inv_logdet(s: np.ndarray):
    """Inverse and log-determinant of a positive definite matrix, or None if it is not."""
    try:
        c = np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        return None
    ci = np.linalg.inv(c)
    return ci.T @ ci, 2.0 * np.log(np.diag(c)).sum()


def loglik(cd: ClusterData, sw: np.ndarray, sb: np.ndarray, mu: np.ndarray, grad: bool = False):
    """Two-level log-likelihood (and its gradient w.r.t. ``Sigma_W``, ``Sigma_B``, ``mu``).

    ``sw`` / ``sb`` are p x p over all variables (0 in the rows of the variables
    absent from a level).  Returns ``-inf`` (and no gradient) when ``Sigma_W`` (of
    the level-1 variables) or a cluster covariance ``M_s`` is not positive definite.
    The matrix gradients treat the entries of the symmetric matrices as distinct (``dl/dS_ij``
    for each ``(i, j)``), so ``sum(G * dSigma)`` chains them through a Jacobian.
    """
    if not (np.isfinite(sw).all() and np.isfinite(sb).all() and np.isfinite(mu).all()):
        return (-np.inf, None) if grad else -np.inf
    w = cd.w_idx
    pw = len(w)
    sww = sw[np.ix_(w, w)]
    r = _chol_inv_logdet(sww)
    if r is None:
        return (-np.inf, None) if grad else -np.inf
    wi, wld = r
    nw = cd.n - cd.nclusters
    spw = cd.s_pw[np.ix_(w, w)]
    m2 = -(nw * (wld + np.sum(wi * spw)))
    if grad:
        gw = np.zeros_like(sw)
        gw[np.ix_(w, w)] = -0.5 * nw * (wi - wi @ spw @ wi)
        gb = np.zeros_like(sb)
        gmu = np.zeros_like(mu)
    # all cluster sizes at once: M_s = Sigma_B + Sigma_W / s, (k, p, p)
    sz, cnt = cd.sizes.astype(float), cd.counts.astype(float)
    try:
        c = np.linalg.cholesky(sb[None] + sw[None] / sz[:, None, None])
    except np.linalg.LinAlgError:
        return (-np.inf, None) if grad else -np.inf
    ci = np.linalg.inv(c)
    vi = np.swapaxes(ci, 1, 2) @ ci
    vld = 2.0 * np.log(np.diagonal(c, axis1=1, axis2=2)).sum(axis=1) + pw * np.log(sz)
    a1, mm = cd.m1, cd.m1[:, :, None] * mu[None, None, :]
    q = cd.m2 - mm - np.swapaxes(mm, 1, 2) + cnt[:, None, None] * np.outer(mu, mu)[None]
    m2 -= float(cnt @ vld + np.einsum("kij,kij->", vi, q))
    if grad:
        t = cnt[:, None, None] * vi - vi @ q @ vi
        gb -= 0.5 * t.sum(axis=0)
        gw[np.ix_(w, w)] -= 0.5 * np.tensordot(1.0 / sz, t, axes=1)[np.ix_(w, w)]
        gmu += np.einsum("kij,kj->i", vi, a1 - cnt[:, None] * mu[None])
    ll = 0.5 * m2 - 0.5 * (cd.n * pw + cd.nclusters * (cd.p - pw)) * LOG2PI
    return (ll, (gw, gb, gmu)) if grad else ll


# --------------------------------------------------------------------------- syntax
_LEVEL_NAMES = {"1": 1, "within": 1, "2": 2, "between": 2}


def split_levels(text: str) -> list[tuple[int, str]] | None:
    """The ``level: 1`` / ``level: 2`` (or ``within`` / ``between``) blocks of lavaan syntax.

    Returns ``None`` when the syntax has no ``level:`` line, else ``[(1, text), (2, text)]``.
    """
    if not isinstance(text, str):
        return None
    blocks: list[list] = []
    head: list[tuple[int, str]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0].split("!", 1)[0].strip()
        lower = code.replace(" ", "").lower()
        if lower.startswith("level:"):
            name = lower[len("level:"):]
            if name not in _LEVEL_NAMES:
                raise ModelSyntaxError(
                    f"model syntax error in line {lineno}: {line.strip()!r}: unknown level {name!r}; "
                    "allowed: 'level: 1' / 'level: 2' (or 'level: within' / 'level: between')")
            blocks.append([_LEVEL_NAMES[name], [], lineno, line.strip()])
        elif blocks:
            blocks[-1][1].append(line)
        elif code:
            head.append((lineno, line.strip()))
    if not blocks:
        return None
    if head:
        lineno, line = head[0]
        raise ModelSyntaxError(
            f"model syntax error in line {lineno}: {line!r} comes before the first 'level:' line; "
            "in a two-level model every statement belongs to 'level: 1' or 'level: 2'")
    levels = [b[0] for b in blocks]
    if sorted(levels) != [1, 2]:
        raise ModelSyntaxError(
            f"a two-level model needs exactly one 'level: 1' (within) and one 'level: 2' (between) block; "
            f"got levels {levels} (lines {[b[2] for b in blocks]})")
    out = sorted(((b[0], "\n".join(b[1])) for b in blocks), key=lambda t: t[0])
    for lev, body in out:
        if not body.strip():
            raise ModelSyntaxError(f"the 'level: {lev}' block of the model is empty")
    return out


def build_twolevel_partable(text: str, *, std_lv: bool = False):
    """Parameter table of a two-level model: ``(partable, observed, latent)``.

    Each level's block is built as a one-group model with a mean structure
    (:func:`custval._sem.syntax.build_partable`); ``group`` is the level (the
    model's block) and ``level`` names it.  lavaan's conventions: the items'
    intercepts are fixed at 0 at level 1 and free at level 2, latent means are 0;
    a factor named at both levels (a configural construct) is a different latent
    variable at each level (its own loadings and variance per block).  A variable
    named at one level only is within-only (level 1: its intercept is free at
    level 1) or between-only (level 2); ``observed`` lists the level-1 variables,
    then the between-only ones (see :func:`level_variables`).
    """
    blocks = split_levels(text)
    if blocks is None:
        raise ModelSyntaxError("the model has no 'level:' blocks")
    tables, observed, latent = [], [], []
    offset = 0
    for lev, body in blocks:
        stmts = parse(body)
        bad = [s for s in stmts if s.op in ("==", ":=", "<", ">", "~")]
        if bad:
            s = bad[0]
            raise SpecificationError(
                f"line {s.line!r} (level {lev}): two-level models support '=~', '~~' and '~ 1' statements; "
                "regressions, constraints and defined parameters are not supported with level blocks")
        factors = {st.lhs for st in stmts if st.op == "=~"}
        mixed = [st for st in stmts if st.op == "~~" and ((st.lhs in factors) != (st.rhs in factors))]
        if mixed:
            st = mixed[0]
            f, v = (st.lhs, st.rhs) if st.lhs in factors else (st.rhs, st.lhs)
            raise SpecificationError(
                f"line {st.line!r} (level {lev}): a covariance between factor {f!r} and observed variable "
                f"{v!r} is not supported; the same model is the loading '{f} =~ ... + {v}' (for a "
                f"between-only variable such as firm size, e.g. 'fb =~ y1 + y2 + y3 + {v}')")
        if factors:
            pt, ov, lv = build_partable(body, std_lv=std_lv, meanstructure=True)
        else:
            pt, ov, lv = _observed_block(stmts, lev)
        pt = pt.copy()
        pt["group"] = lev
        pt["level"] = lev
        if lev == 1:
            # lavaan: the means of the items of both levels live at level 2 (within
            # intercepts 0); a within-only variable keeps its level-1 intercept
            level2 = _block_observed(parse(blocks[1][1]))
            sel = (pt["op"] == "~1") & pt["lhs"].isin([v for v in ov if v in level2])
            pt.loc[sel, "free"] = 0
            pt.loc[sel, "ustart"] = 0.0
        free = pt["free"].to_numpy()
        if lev == 1:
            # renumber 1..k after fixing the intercepts, keeping shared numbers shared
            uniq = sorted(set(free[free > 0]))
            remap = {f: i + 1 for i, f in enumerate(uniq)}
            pt["free"] = [remap.get(f, 0) for f in free]
        else:
            pt["free"] = np.where(free > 0, free + offset, 0)
        offset = int(pt["free"].max())
        tables.append(pt)
        observed.append(ov)
        latent.extend(f for f in lv if f not in latent)  # a name may be used at both levels
    for lev, ov in ((1, observed[0]), (2, observed[1])):
        clash = [v for v in ov if v in latent]
        if clash:
            raise SpecificationError(
                f"{clash[0]!r} is a factor at one level and an observed variable at level {lev}; "
                "name the factors of the two levels differently from the items")
    pt = pd.concat(tables, ignore_index=True)
    pt["id"] = np.arange(1, len(pt) + 1)
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    return pt, list(observed[0]) + [v for v in observed[1] if v not in observed[0]], latent


def _block_observed(stmts) -> set[str]:
    """The observed variables of one level block (names that are not factors)."""
    factors = {st.lhs for st in stmts if st.op == "=~"}
    names = set()
    for st in stmts:
        for name in (st.lhs, st.rhs):
            if name and name not in factors:
                names.add(name)
    return names


def level_variables(pt: pd.DataFrame, observed: list[str]) -> tuple[list[str], list[str]]:
    """The within-only and the between-only variables of a two-level parameter table.

    A variable is at a level when that level's block has its intercept row (every
    observed variable of a block gets one).
    """
    at = {lev: set(pt.loc[(pt["level"] == lev) & (pt["op"] == "~1"), "lhs"]) for lev in (1, 2)}
    return ([v for v in observed if v in at[1] and v not in at[2]],
            [v for v in observed if v in at[2] and v not in at[1]])


def _observed_block(stmts, lev: int):
    """A level block without factors (e.g. a saturated between model ``y1 ~~ y1 + y2``):
    its (co)variances, lavaan's default variances and the intercepts."""
    from .syntax import _group_rows, _Variables

    observed: list[str] = []
    for st in stmts:
        for name in (st.lhs, st.rhs):
            if name and name not in observed:
                observed.append(name)
    labelled = [st for st in stmts if st.mod.label or st.mod.start]
    if labelled:
        raise SpecificationError(
            f"line {labelled[0].line!r} (level {lev}): labels and start values are supported in level blocks "
            "with factors ('=~') only")
    v = _Variables(latent=[], observed=observed, exo_ov=[], exo_lv=[], lv_y=[], single_ind=set())
    pt = pd.DataFrame(_group_rows(stmts, v, 0, 1, False, True))
    pt["exo"] = 0
    pt.insert(0, "id", np.arange(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    fixed = pt["fixed"].to_numpy(bool)
    pt["free"] = np.where(fixed, 0, np.cumsum(~fixed))
    return pt.drop(columns=["fixed"]), observed, []


# --------------------------------------------------------------------------- estimation
class TwoLevelProblem:
    """The two-level ML problem of a :class:`SemModel` with two blocks (within, between)."""

    def __init__(self, model: SemModel, cd: ClusterData):
        self.model, self.cd = model, cd

    def moments(self, x):
        (sw, mw), (sb, mb) = self.model.implied(x)
        return sw, sb, mw + mb

    def loglik(self, x) -> float:
        sw, sb, mu = self.moments(x)
        return loglik(self.cd, sw, sb, mu)

    def gradient(self, x) -> np.ndarray:
        """Analytic gradient of the log-likelihood w.r.t. the free parameters."""
        sw, sb, mu = self.moments(x)
        ll, g = loglik(self.cd, sw, sb, mu, grad=True)
        if g is None:
            return np.full(self.model.nx, np.nan)
        gw, gb, gmu = g
        (dsw, dmw), (dsb, dmb) = self.model.delta(x)
        return (np.tensordot(dsw, gw, axes=([1, 2], [0, 1])) + np.tensordot(dsb, gb, axes=([1, 2], [0, 1]))
                + (dmw + dmb) @ gmu)

    def hessian(self, x, h: float = 1e-6) -> np.ndarray:
        """Hessian of the log-likelihood: central differences of the analytic gradient."""
        return _fd_hessian(self.gradient, x, h)


def _fd_hessian(grad, x, h):
    k = len(x)
    out = np.zeros((k, k))
    for i in range(k):
        step = h * max(1.0, abs(x[i]))
        e = np.zeros(k)
        e[i] = step
        out[i] = (grad(x + e) - grad(x - e)) / (2 * step)
    return 0.5 * (out + out.T)


def _maximise(f, g, x0, n, tol=1e-9, max_newton=50):
    """Maximise ``f`` (gradient ``g``): BFGS on ``-f / n``, then Newton steps on the
    finite-difference Hessian of the analytic gradient until ``max|g| / n < tol``."""

    def obj(x):
        with np.errstate(over="ignore", invalid="ignore"):
            v = f(x)
            if not np.isfinite(v):
                return np.inf, np.zeros_like(x)
            return -v / n, -g(x) / n

    res = optimize.minimize(obj, x0, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
    x = res.x
    iters = int(res.nit)
    converged = False
    for _ in range(max_newton):
        gr = g(x) / n
        gmax = np.max(np.abs(gr))
        if gmax < tol:
            converged = True
            break
        hs = _fd_hessian(g, x, 1e-6) / n
        if not np.all(np.isfinite(hs)):
            break  # no finite curvature here (LAPACK would print to stderr on NaN)
        try:
            step = np.linalg.lstsq(hs, -gr, rcond=1e-12)[0]
        except np.linalg.LinAlgError:
            break
        fx = f(x)
        t, fn = 1.0, -np.inf
        while t > 1e-8:
            xn = x + t * step
            with np.errstate(over="ignore", invalid="ignore"):
                fn = f(xn)
            if np.isfinite(fn) and fn > fx:
                break
            t /= 2
        if not (np.isfinite(fn) and fn > fx):
            # no ascent left: a maximum on the boundary of the parameter space
            # (a singular between covariance matrix) where the gradient of the
            # parametrisation cannot vanish; accepted when it is small
            converged = gmax < 1e-6
            break
        x = xn
        iters += 1
        if fn - fx < 1e-13 * max(1.0, abs(fx)) and gmax < 1e-6:
            converged = True
            break
    return x, converged, iters


def between_start(cd: ClusterData) -> tuple[np.ndarray, np.ndarray]:
    """Moment estimates of ``Sigma_B`` (made positive definite over the level-2
    variables, 0 in the rows of the within-only ones) and ``mu`` for starting values."""
    mu = cd.ybar.mean(axis=0)
    dev = cd.ybar - mu
    s_between = dev.T @ dev / max(cd.nclusters - 1, 1)
    b = cd.b_idx
    sbb = (s_between - cd.s_pw / np.mean(cd.nj))[np.ix_(b, b)]
    w, v = np.linalg.eigh(sbb)
    floor = 0.01 * np.diag(cd.s_pw)[cd.w_idx].mean()
    sb = np.zeros((cd.p, cd.p))
    sb[np.ix_(b, b)] = (v * np.maximum(w, floor)) @ v.T
    return sb, mu


def fit_model(model: SemModel, cd: ClusterData, std_lv: bool):
    """ML estimates of a two-block model: ``(x, converged, iterations, problem)``."""
    sb, mu = between_start(cd)
    only_w = np.setdiff1d(cd.w_idx, cd.b_idx)
    mw = np.zeros(cd.p)
    mw[only_w] = mu[only_w]  # a within-only variable's mean is its level-1 intercept
    x0 = start_values(model, [(cd.s_pw, mw), (sb, mu)], std_lv)
    problem = TwoLevelProblem(model, cd)
    x, conv, iters = _maximise(problem.loglik, problem.gradient, x0, cd.n)
    if not conv:
        # lavaan's kind of start (both levels from the pooled within covariance, latent
        # variances 0.05): with little between variance the first path can run along a
        # ridge (a between loading growing while the factor variance shrinks to 0) that
        # never reaches the maximum lavaan finds, which may lie at a negative variance
        x1 = start_values(model, [(cd.s_pw, mw), (cd.s_pw, mu)], std_lv)
        pt = model.pt
        lv_var = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(model.latent) & (pt["free"] > 0)
        x1[pt.loc[lv_var, "free"].to_numpy(dtype=int) - 1] = 0.05
        x2, conv2, iters2 = _maximise(problem.loglik, problem.gradient, x1, cd.n)
        with np.errstate(all="ignore"):
            better = np.isfinite(problem.loglik(x2)) and (
                conv2 or not np.isfinite(problem.loglik(x)) or problem.loglik(x2) > problem.loglik(x))
        if better:
            x, conv, iters = x2, conv2, iters + iters2
    return x, conv, iters, problem


def _vech_idx(p):
    return np.tril_indices(p)


def saturated(cd: ClusterData, diagonal: bool = False):
    """The unrestricted (H1) or independence (baseline, ``diagonal=True``) two-level model.

    Parametrised by the Cholesky factors of ``Sigma_W`` (over the level-1
    variables) and ``Sigma_B`` (over the level-2 variables), log diagonal, and
    ``mu``; maximised fully.  Returns ``(logl, Sigma_W, Sigma_B, mu, converged)``
    (p x p, 0 in the rows of the variables absent from a level).
    """
    p = cd.p
    wv, bv = cd.w_idx, cd.b_idx
    pw, pb = len(wv), len(bv)
    if diagonal:
        iw, ib = (np.arange(pw), np.arange(pw)), (np.arange(pb), np.arange(pb))
    else:
        iw, ib = _vech_idx(pw), _vech_idx(pb)
    kw, kb = len(iw[0]), len(ib[0])
    dw, db = np.flatnonzero(iw[0] == iw[1]), np.flatnonzero(ib[0] == ib[1])

    def unpack(t):
        lw = np.zeros((pw, pw))
        lb = np.zeros((pb, pb))
        a, b = t[:kw].copy(), t[kw:kw + kb].copy()
        a[dw], b[db] = np.exp(a[dw]), np.exp(b[db])
        lw[iw] = a
        lb[ib] = b
        return lw, lb, t[kw + kb:]

    def full(lw, lb):
        sw, sb = np.zeros((p, p)), np.zeros((p, p))
        sw[np.ix_(wv, wv)] = lw @ lw.T
        sb[np.ix_(bv, bv)] = lb @ lb.T
        return sw, sb

    def f(t):
        lw, lb, mu = unpack(t)
        return loglik(cd, *full(lw, lb), mu)

    def g(t):
        lw, lb, mu = unpack(t)
        ll, gr = loglik(cd, *full(lw, lb), mu, grad=True)
        if gr is None:
            return np.full(len(t), np.nan)
        gw, gb, gmu = gr
        gw, gb = gw[np.ix_(wv, wv)], gb[np.ix_(bv, bv)]
        dlw = ((gw + gw.T) @ lw)[iw]
        dlb = ((gb + gb.T) @ lb)[ib]
        dlw[dw] *= lw[iw][dw]
        dlb[db] *= lb[ib][db]
        return np.concatenate([dlw, dlb, gmu])

    sb, mu = between_start(cd)
    sw = cd.s_pw[np.ix_(wv, wv)]
    sb = sb[np.ix_(bv, bv)]
    if diagonal:
        sw, sb = np.diag(np.diag(sw)), np.diag(np.diag(sb))
    lw0, lb0 = np.linalg.cholesky(sw)[iw], np.linalg.cholesky(sb)[ib]
    lw0[dw], lb0[db] = np.log(lw0[dw]), np.log(lb0[db])
    t, conv, _ = _maximise(f, g, np.concatenate([lw0, lb0, mu]), cd.n)
    lw, lb, mu = unpack(t)
    return (f(t), *full(lw, lb), mu, conv)


def check_clusters(cd: ClusterData, cluster: str, names: list[str]) -> None:
    """Named errors for data two-level ML cannot use."""
    single = [lab for lab, n in zip(cd.labels, cd.nj) if n < 2]
    if single:
        shown = [lab.item() if isinstance(lab, np.generic) else lab for lab in single[:10]]
        raise InsufficientDataError(
            f"{len(single)} {cluster!r} cluster(s) have a single respondent (first 10: {shown}); a two-level "
            f"CFA separates within-{cluster} from between-{cluster} variance, which a {cluster} with one "
            f"respondent cannot inform: exclude these {cluster}s or collect more respondents")
    if cd.nclusters < 3:
        raise InsufficientDataError(
            f"the data have {cd.nclusters} {cluster!r} cluster(s); a two-level CFA needs many clusters "
            "(at least 3 here, far more in practice) to estimate between-cluster covariances")
    wv = np.diag(cd.s_pw)
    const = [names[j] for j in cd.w_idx if not wv[j] > 1e-12 * max(1.0, np.abs(cd.ybar[:, j]).max())]
    if const:
        raise ConstantItemError(
            f"item(s) {const} do not vary within any {cluster!r} cluster: no within-{cluster} variance to "
            f"model (a {cluster}-level variable belongs in 'level: 2' only, as a between-only variable)")
    only_b = np.setdiff1d(cd.b_idx, cd.w_idx)
    flat = [names[j] for j in only_b if not np.ptp(cd.ybar[:, j]) > 0]
    if flat:
        raise ConstantItemError(
            f"between-only variable(s) {flat} take the same value in every {cluster!r} cluster: no "
            f"between-{cluster} variance to model")
    ev = np.linalg.eigvalsh(cd.s_pw[np.ix_(cd.w_idx, cd.w_idx)])
    if not ev.min() > 1e-10 * ev.max():
        raise NotPositiveDefiniteError(
            f"the pooled within-{cluster} covariance matrix of the items is not positive definite "
            f"(smallest eigenvalue {ev.min():.3g}); check for collinear items")


def check_between_only(y: np.ndarray, ids: np.ndarray, names: list[str], between_only: list[str],
                       cluster: str, rows: np.ndarray | None = None) -> None:
    """A between-only variable must be constant within each cluster: an error names the
    variable, the first clusters where it takes more than one value and the rows (0-based
    positions ``rows`` in the data) that depart from the cluster's most common value.

    lavaan 0.6-14 would silently use its cluster means; custval does not average it.
    """
    if not between_only:
        return
    rows = np.arange(len(y)) if rows is None else np.asarray(rows)
    codes, labels = pd.factorize(pd.Series(ids), sort=False)
    for v in between_only:
        col = y[:, names.index(v)]
        lo = np.full(len(labels), np.inf)
        hi = np.full(len(labels), -np.inf)
        np.minimum.at(lo, codes, col)
        np.maximum.at(hi, codes, col)
        bad = np.flatnonzero(hi > lo)
        if len(bad):
            shown = []
            for k in bad[:5]:
                lab = labels[k].item() if isinstance(labels[k], np.generic) else labels[k]
                members = np.flatnonzero(codes == k)
                vals, counts = np.unique(col[members], return_counts=True)
                modal = vals[np.argmax(counts)]
                odd = members[col[members] != modal]
                pos = [int(r) for r in rows[odd][:3]]
                shown.append(f"{lab!r}: {modal:.6g} in {counts.max()} of {len(members)} rows, other values "
                             f"in rows {pos}{' ...' if len(odd) > 3 else ''}")
            raise DataValidationError(
                f"between-only variable {v!r} (named only in 'level: 2') varies within {len(bad)} "
                f"{cluster!r} cluster(s) (0-based row positions; first {min(len(bad), 5)}: "
                f"{'; '.join(shown)}); a between-only variable must take one value per {cluster} "
                f"(e.g. firm size): correct the data, or name {v!r} at both levels if it is a "
                "respondent-level item")


def between_variance_check(cd: ClusterData, names: list[str], latent_b: list[str],
                           pt: pd.DataFrame, cluster: str) -> None:
    """A level-2 construct whose items have no between-cluster variance is an error naming it.

    An item has no between variance when its cluster means vary no more than its
    within-cluster variance predicts: the one-way ANOVA ratio
    ``F = MS_between / MS_within <= 1`` (ICC(1) <= 0).  A between factor all of
    whose items are so cannot be estimated.
    """
    grand = (cd.ybar * cd.nj[:, None]).sum(axis=0) / cd.n
    msb = (cd.nj[:, None] * (cd.ybar - grand) ** 2).sum(axis=0) / (cd.nclusters - 1)
    ratio = np.full(cd.p, np.inf)  # a between-only variable has between variance (checked)
    ratio[cd.w_idx] = msb[cd.w_idx] / np.diag(cd.s_pw)[cd.w_idx]
    ov = {v: i for i, v in enumerate(names)}
    mm = pt[(pt["level"] == 2) & (pt["op"] == "=~")]
    for f in latent_b:
        items = [r for r in mm.loc[mm["lhs"] == f, "rhs"] if r in ov]
        if items and all(ratio[ov[i]] <= 1.0 for i in items):
            shown = ", ".join(f"{i} (F = {ratio[ov[i]]:.3g})" for i in items)
            raise SpecificationError(
                f"level-2 construct {f!r}: its items have no between-{cluster} variance: their {cluster} "
                f"means vary no more than the within-{cluster} variance predicts (one-way ANOVA "
                f"F = MS_between / MS_within <= 1: {shown}); a between-{cluster} factor cannot be "
                f"estimated: remove {f!r} from 'level: 2' or fit a single-level model (were the "
                f"scores centred within {cluster} before export?)")


def icc(cd: ClusterData, sw: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """ICC(1) of each item from the two-level (H1) variances: ``s_B / (s_B + s_W)``."""
    vb, vw = np.diag(sb), np.diag(sw)
    return vb / (vb + vw)


# --------------------------------------------------------------------------- CFA
def _force_pd(sigma: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """lavaan's ``lav_matrix_symmetric_force_pd``: eigenvalues below ``tol`` times the largest raised to it.

    ``lav_fit_srmr_twolevel`` applies it to the model-implied between matrix, so a Heywood
    case (a negative implied between variance) still gives lavaan's finite ``srmr_between``.
    """
    if sigma.shape[0] == 1:
        return np.maximum(sigma, tol)
    ev, vec = np.linalg.eigh(sigma)
    top = abs(ev[-1])
    ev = np.where(ev / top < tol, tol * top, ev)
    return (vec * ev) @ vec.T


def _srmr(s: np.ndarray, sigma: np.ndarray) -> float:
    """lavaan's per-level SRMR (``lav_fit_srmr_twolevel``): correlation residuals, no means."""
    ds, dm = np.sqrt(np.diag(s)), np.sqrt(np.diag(sigma))
    r = s / np.outer(ds, ds) - sigma / np.outer(dm, dm)
    iu = np.tril_indices(len(s))
    return float(np.sqrt(np.sum(r[iu] ** 2) / len(iu[0])))


def fit_cfa(syntax: str, items: pd.DataFrame, ids: pd.Series, *, cluster: str, std_lv: bool,
            rows: np.ndarray | None = None) -> dict:
    """Fit a two-level CFA; the fitted attributes of :class:`custval.CFA` as a dict.

    ``items``: the model's items (rows with a missing item already excluded), ``ids``: the
    cluster of each row (same index), ``rows``: their 0-based positions in the data (for messages).
    """
    pt, observed, latent = build_twolevel_partable(syntax, std_lv=std_lv)
    w_only, b_only = level_variables(pt, observed)
    y = items[observed].to_numpy(dtype=float)
    check_between_only(y, ids.to_numpy(), observed, b_only, cluster, rows)
    cd = cluster_data(y, ids.to_numpy(), [observed.index(v) for v in w_only], [observed.index(v) for v in b_only])
    check_clusters(cd, cluster, observed)
    model = SemModel(pt, observed, latent, 2)
    p = cd.p
    pw, pb = len(cd.w_idx), len(cd.b_idx)
    npar = model.nx
    n_h1 = pw * (pw + 1) // 2 + pb * (pb + 1) // 2 + p
    model.check_identification_counts(n_h1)
    latent_b = [f for f in latent if f in set(pt.loc[pt["level"] == 2, "lhs"])]
    between_variance_check(cd, observed, latent_b, pt, cluster)
    h1_logl, h1_sw, h1_sb, h1_mu, h1_conv = saturated(cd)
    if not h1_conv:
        import warnings

        from ..exceptions import ConvergenceWarning

        warnings.warn(
            "two-level CFA: the saturated (H1) model did not reach a gradient of 1e-9 per respondent; "
            "chisq and the fit indices may be inexact (a between covariance matrix near singular?)",
            ConvergenceWarning, stacklevel=4)
    x, converged, iters, problem = fit_model(model, cd, std_lv)
    logl, params, vcov, info, ev = estimates_table(model, pt, problem, x, cd.n, iters, cluster)
    # ---- fit measures (lavaan's names)
    base_logl, *_ = saturated(cd, diagonal=True)
    (sw, mw), (sb, mb) = model.implied(x)
    wv, bv = cd.w_idx, cd.b_idx
    out = fit_measures_2l(logl=logl, h1_logl=h1_logl, base_logl=base_logl, npar=npar, n_h1=n_h1,
                          base_npar=pw + pb + p, n=cd.n, h1_sw=h1_sw, h1_sb=h1_sb, sw=sw, sb=sb, wv=wv, bv=bv)
    n = cd.n
    # lavaan's fmin for two-level ML: the objective -logl / N without the 2 pi constant
    out["fmin"] = -(logl + 0.5 * (n * pw + cd.nclusters * (p - pw)) * LOG2PI) / n
    out = pd.Series(out, dtype=float)
    names = observed
    wn, bn = [names[j] for j in wv], [names[j] for j in bv]
    mats = model.matrices(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2w = np.where(np.isin(np.arange(p), wv), 1 - np.diag(mats[0].theta) / np.diag(sw), np.nan)
        r2b = np.where(np.isin(np.arange(p), bv), 1 - np.diag(mats[1].theta) / np.diag(sb), np.nan)
    return {
        "params_": params,
        "fit_measures_": out,
        "x_": model.full(x), "vcov_": vcov, "information_": info,
        "converged_": bool(converged), "n_iter_": iters,
        "implied_cov_": {"within": pd.DataFrame(sw[np.ix_(wv, wv)], index=wn, columns=wn),
                         "between": pd.DataFrame(sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "implied_mean_": pd.Series(mw + mb, index=names),
        "sample_cov_": {"within": pd.DataFrame(h1_sw[np.ix_(wv, wv)], index=wn, columns=wn),
                        "between": pd.DataFrame(h1_sb[np.ix_(bv, bv)], index=bn, columns=bn)},
        "sample_mean_": pd.Series(h1_mu, index=names),
        # lavInspect(fit, "icc"): the level-1 variables (0 for a within-only one)
        "icc_": pd.Series(icc(cd, h1_sw, h1_sb)[wv], index=wn, name="icc"),
        # R² of each item per level (lavInspect(fit, "r2")): 1 - residual / implied variance;
        # NaN at the level a within-only or between-only variable is absent from
        "r2_": pd.DataFrame({"within": r2w, "between": r2b}, index=names),
        "n_obs_": {"all": n}, "n_clusters_": {"all": cd.nclusters},
        "_twolevel": {"model": model, "problem": problem, "cd": cd, "pt": pt, "h1_converged": h1_conv,
                      "min_information_eigenvalue": float(ev.min())},
    }


def estimates_table(model: SemModel, pt: pd.DataFrame, problem, x: np.ndarray, n: int, iters: int, cluster: str):
    """Log-likelihood, ``params_`` (lavaan's rows with a ``level`` column; observed-information
    standard errors), vcov, information per respondent and its eigenvalues at the estimates ``x``
    of a two-level fit (complete data or FIML: ``problem`` has ``loglik`` and ``hessian``)."""
    from scipy import stats

    from .standardize import standardize

    logl = problem.loglik(x)
    hess = problem.hessian(x)
    if not np.all(np.isfinite(hess)):
        from ..exceptions import ConvergenceError

        raise ConvergenceError(
            f"two-level CFA: the estimation did not converge ({iters} iterations) and stopped where the "
            "log-likelihood has no finite curvature (estimates running off to infinity, typically a "
            f"level-2 factor with almost no between-{cluster} variance): check the ICCs "
            "(custval.multilevel) and consider a saturated level 2 or a single-level model with "
            "cluster-robust standard errors")
    info = -hess / n
    try:
        vcov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        vcov = np.full_like(hess, np.nan)
    ev = np.linalg.eigvalsh(info)
    est = model.row_values(x)
    free = pt["free"].to_numpy()
    se = np.zeros(len(pt))
    se[free > 0] = np.sqrt(np.clip(np.diag(vcov), 0, None))[free[free > 0] - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((free > 0) & (se > 0), est / se, np.nan)
    crit = stats.norm.ppf(0.975)
    std_lv_col, std_all_col = standardize(model, x, est)
    params = pd.DataFrame({
        "lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "level": pt["level"],
        "group": 1, "label": pt["label"], "free": pt["free"], "est": est, "se": se, "z": z,
        "p_value": 2 * stats.norm.sf(np.abs(z)), "ci_low": est - crit * se, "ci_high": est + crit * se,
        "std_lv": std_lv_col, "std_all": std_all_col,
    })
    return logl, params, vcov, info, ev


def fit_measures_2l(*, logl, h1_logl, base_logl, npar, n_h1, base_npar, n, h1_sw, h1_sb, sw, sb, wv, bv) -> dict:
    """lavaan's fit measures of a two-level fit (``fmin`` left NaN for the caller)."""
    from scipy import stats

    from . import fit_measures as fm

    df = n_h1 - npar
    # lavaan (lav_model_test: chisq.group[chisq.group < 0] <- 0) reports 0 when the model fits
    # better than the saturated model, which happens when the implied between matrix is not
    # positive definite (a Heywood case at level 2; the saturated Sigma_B is)
    chisq = max(2 * (h1_logl - logl), 0.0)
    base_df = n_h1 - base_npar
    base_chisq = 2 * (h1_logl - base_logl)
    srmr_w = _srmr(h1_sw[np.ix_(wv, wv)], sw[np.ix_(wv, wv)])
    srmr_b = _srmr(h1_sb[np.ix_(bv, bv)], _force_pd(sb[np.ix_(bv, bv)]))
    lo, hi = fm.rmsea_ci(chisq, df, n)
    out = {
        "npar": npar, "fmin": np.nan, "chisq": chisq, "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline.chisq": base_chisq, "baseline.df": base_df,
        "baseline.pvalue": float(stats.chi2.sf(base_chisq, base_df)),
        "cfi": fm.cfi(chisq, df, base_chisq, base_df), "tli": fm.tli(chisq, df, base_chisq, base_df),
        "logl": logl, "unrestricted.logl": h1_logl,
        "aic": -2 * logl + 2 * npar, "bic": -2 * logl + npar * np.log(n), "ntotal": n,
        "bic2": -2 * logl + npar * np.log((n + 2) / 24),
        "rmsea": fm.rmsea(chisq, df, n), "rmsea.ci.lower": lo, "rmsea.ci.upper": hi, "rmsea.ci.level": 0.9,
        "rmsea.pvalue": fm.rmsea_pvalue(chisq, df, n), "rmsea.close.h0": 0.05,
        "rmsea.notclose.pvalue": fm.rmsea_notclose_pvalue(chisq, df, n), "rmsea.notclose.h0": 0.08,
        "srmr": srmr_w + srmr_b, "srmr_within": srmr_w, "srmr_between": srmr_b,
    }
    out.update({"nnfi": out["tli"], "rfi": fm.rfi(chisq, df, base_chisq, base_df),
                "nfi": fm.nfi(chisq, df, base_chisq, base_df), "pnfi": fm.pnfi(chisq, df, base_chisq, base_df),
                "ifi": fm.ifi(chisq, df, base_chisq, base_df), "rni": fm.rni(chisq, df, base_chisq, base_df)})
    return out
