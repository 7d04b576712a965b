"""Matrix representation of a CFA/SEM (LISREL 'all-y', private).

Per group::

    eta   = alpha + B eta + zeta,       cov(zeta) = Psi
    y     = nu + Lambda eta + eps,      cov(eps)  = Theta
    Sigma = Lambda A Psi A' Lambda' + Theta,   A = (I - B)^-1
    mu    = nu + Lambda A alpha

``x`` is the vector of distinct free parameters (rows constrained equal share
one entry).  :meth:`SemModel.delta` returns the analytic Jacobians
``d vec(Sigma) / d x`` and ``d mu / d x``.

General linear equality constraints ``A x = b`` (lavaan's ``==`` rows) are
imposed by reparametrisation, as lavaan does for linear constraints
(``lav_model``'s ``eq.constraints.K``): ``x = x_p + K theta`` with ``K`` an
orthonormal basis of the null space of ``A`` and ``x_p`` the minimum-norm
solution of ``A x = b``.  The optimizer works on ``theta`` (``nx`` entries;
``nfree`` is the length of ``x``); every method accepts either ``theta`` or a
full ``x`` that satisfies the constraints and returns derivatives with respect
to ``theta``.  Without constraints ``theta = x``.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import IdentificationError, SingularMatrixError, SpecificationError


@dataclass
class GroupMatrices:
    lam: np.ndarray
    theta: np.ndarray
    psi: np.ndarray
    beta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray


# table structure (observed, latent, groups, and the group/op/lhs/rhs/free columns) ->
# what SemModel derives from it (_structure); read-only, shared by the models of one structure
_STRUCTURES: dict = {}


def _structure(columns, observed: list[str], latent: list[str], exo: list[str], free: np.ndarray) -> dict:
    """The rows as (group0, matrix, i, j), their index arrays per matrix (``kind[name] =
    (row, g, i, j, k)``, ``k = free - 1``, -1: fixed) and the covariates' phantom entries."""
    ov = {v: i for i, v in enumerate(observed)}
    lv = {f: i for i, f in enumerate(latent)}
    rows = []
    for group, op, lhs, rhs in zip(*columns[:4]):
        g = int(group) - 1
        if op == "=~":
            if rhs in lv:
                rows.append((g, "beta", lv[rhs], lv[lhs]))
            else:
                rows.append((g, "lam", ov[rhs], lv[lhs]))
        elif op == "~":
            if lhs in lv:
                rows.append((g, "beta", lv[lhs], lv[rhs]))
            else:  # an indicator on a covariate (direct effect): a loading on its phantom
                rows.append((g, "lam", ov[lhs], lv[rhs]))
        elif op == "~~":
            if lhs in lv:
                rows.append((g, "psi", lv[lhs], lv[rhs]))
            else:
                rows.append((g, "theta", ov[lhs], ov[rhs]))
        elif op == "~1":
            if lhs in lv:
                rows.append((g, "alpha", lv[lhs], 0))
            else:
                rows.append((g, "nu", ov[lhs], 0))
    # index arrays of the rows per matrix, so that SemModel.matrices and SemModel.delta
    # fill all entries of a kind at once instead of looping over the table in Python
    names = np.array([r[1] for r in rows], dtype=object)
    arr = np.array([(g, i, j) for (g, _n, i, j) in rows], dtype=int).reshape(-1, 3)
    kind = {}
    for name in ("lam", "theta", "psi", "beta", "nu", "alpha"):
        row = np.flatnonzero(names == name)
        kind[name] = tuple(a.copy() for a in (row, arr[row, 0], arr[row, 1], arr[row, 2], free[row] - 1))
        for a in kind[name]:
            a.setflags(write=False)
    return {
        "rows": tuple(rows), "kind": kind,
        "phantom": tuple((ov[v], lv[v]) for v in exo),
        "exo_lv": np.array([lv[v] for v in exo], dtype=int),
        "exo_ov": np.array([ov[v] for v in exo], dtype=int),
        "meanstructure": "~1" in columns[1],
        "has_beta": any(r[1] == "beta" for r in rows),
        "plan": None,
        "curvature": None,
        "pieces": None,
    }


class SemModel:
    """Maps the parameter table onto per-group matrices."""

    def __init__(self, partable: pd.DataFrame, observed: list[str], latent: list[str], ngroups: int,
                 exo: list[str] | tuple[str, ...] = ()):
        self.pt = partable
        self.observed = list(observed)
        # observed exogenous covariates (fixed.x) enter as "phantom" latent
        # variables of the same name: loading 1 on their observed variable, no
        # residual variance, their (co)variances and means in Psi / alpha
        self.exo = list(exo)
        self.latent = list(latent) + self.exo
        latent = self.latent
        self.p = len(observed)
        self.m = len(latent)
        self.ngroups = ngroups
        self.con_k: np.ndarray | None = None
        self.con_xp: np.ndarray | None = None
        # plain column lists (itertuples over the table costs milliseconds per fit)
        columns = tuple(tuple(partable[c].tolist()) for c in ("group", "op", "lhs", "rhs", "free"))
        self.nx = int(max(columns[4])) if columns[4] else 0
        self.nfree = self.nx
        self.free = np.asarray(columns[4], dtype=int)
        self.ustart = partable["ustart"].to_numpy(float).copy()
        # what depends on the table's structure only is built once per structure
        key = (tuple(self.observed), tuple(latent), tuple(self.exo), ngroups, columns)
        struct = _STRUCTURES.get(key)
        if struct is None:
            struct = _structure(columns, self.observed, latent, self.exo, self.free)
            if len(_STRUCTURES) >= 256:
                _STRUCTURES.clear()
            _STRUCTURES[key] = struct
        self._struct = struct
        self.rows = list(struct["rows"])  # per row: (group0, matrix, i, j)
        self.phantom = list(struct["phantom"])
        self.exo_lv = struct["exo_lv"].copy()
        self.exo_ov = struct["exo_ov"].copy()
        self.meanstructure = struct["meanstructure"]
        self.has_beta = struct["has_beta"]
        self._kind = struct["kind"]

    # ------------------------------------------------------------------ constraints
    def set_constraints(self, a: np.ndarray, b: np.ndarray) -> None:
        """Impose ``A x = b`` by ``x = x_p + K theta`` (null space of ``A`` by SVD)."""
        if a.shape[0] == 0:
            self.con_k = self.con_xp = None
            self.nx = self.nfree
            return
        u, sv, vt = np.linalg.svd(a, full_matrices=True)
        rank = int(np.sum(sv > 1e-10 * sv[0]))
        xp = np.linalg.lstsq(a, b, rcond=None)[0]
        if np.max(np.abs(a @ xp - b)) > 1e-8 * max(1.0, np.max(np.abs(b))):
            raise SpecificationError(
                "the equality constraints ('==') contradict each other: no parameter values satisfy all of them"
            )
        self.con_k = vt[rank:].T.copy()
        self.con_xp = xp
        self.con_a, self.con_b = a, b
        self.nx = self.con_k.shape[1]

    def full(self, x: np.ndarray) -> np.ndarray:
        """The distinct free parameters ``x`` (``theta`` mapped through the constraints)."""
        x = np.asarray(x, dtype=float)
        if self.con_k is None or len(x) == self.nfree:
            return x
        return self.con_xp + self.con_k @ x

    def reduce(self, x_full: np.ndarray) -> np.ndarray:
        """``theta`` of a full parameter vector (its projection onto the constraint set)."""
        x_full = np.asarray(x_full, dtype=float)
        if self.con_k is None:
            return x_full
        return self.con_k.T @ (x_full - self.con_xp)

    def _contract(self, arr: np.ndarray) -> np.ndarray:
        """Derivatives w.r.t. ``x`` (first axis) -> w.r.t. ``theta``."""
        if self.con_k is None:
            return arr
        return np.tensordot(self.con_k.T, arr, axes=(1, 0))

    # ------------------------------------------------------------------ matrices
    def row_values(self, x: np.ndarray) -> np.ndarray:
        x = self.full(x)
        vals = self.ustart.copy()
        sel = self.free > 0
        vals[sel] = x[self.free[sel] - 1]
        return vals

    def matrices(self, x: np.ndarray) -> list[GroupMatrices]:
        p, m, ng = self.p, self.m, self.ngroups
        vals = self.row_values(x)
        lam = np.zeros((ng, p, m))
        for i, j in self.phantom:
            lam[:, i, j] = 1.0
        theta, psi, beta = np.zeros((ng, p, p)), np.zeros((ng, m, m)), np.zeros((ng, m, m))
        nu, alpha = np.zeros((ng, p)), np.zeros((ng, m))
        for name, mat in (("lam", lam), ("beta", beta)):
            row, g, i, j, _k = self._kind[name]
            mat[g, i, j] = vals[row]
        for name, mat in (("theta", theta), ("psi", psi)):  # symmetric
            row, g, i, j, _k = self._kind[name]
            mat[g, i, j] = vals[row]
            mat[g, j, i] = vals[row]
        for name, vec in (("nu", nu), ("alpha", alpha)):
            row, g, i, _j, _k = self._kind[name]
            vec[g, i] = vals[row]
        return [GroupMatrices(lam[g], theta[g], psi[g], beta[g], nu[g], alpha[g]) for g in range(ng)]

    @staticmethod
    def _a(gm: GroupMatrices) -> np.ndarray:
        m = gm.beta.shape[0]
        if not gm.beta.any():
            return np.eye(m)
        try:
            return np.linalg.inv(np.eye(m) - gm.beta)
        except np.linalg.LinAlgError as exc:  # pragma: no cover - pathological input
            raise SingularMatrixError("I - B (latent regressions) is singular: the model has a loop") from exc

    def _la(self, gm: GroupMatrices) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Lambda A, A Psi A', A alpha)`` with ``A = (I - B)^-1``; without latent regressions
        ``A = I`` and the products are the matrices themselves (a product with the identity
        changes no bit, so they are not computed)."""
        if not gm.beta.any():
            return gm.lam, gm.psi, gm.alpha
        a = self._a(gm)
        return gm.lam @ a, a @ gm.psi @ a.T, a @ gm.alpha

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for gm in self._mats(x):
            la, _phi, _ealpha = self._la(gm)
            sigma = la @ gm.psi @ la.T + gm.theta
            mu = gm.nu + la @ gm.alpha
            out.append((sigma, mu))
        return out

    def lv_moments(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied covariance and mean of the latent variables per group."""
        out = []
        for gm in self._mats(x):
            _la, phi, ealpha = self._la(gm)
            out.append((phi.copy(), ealpha.copy()))
        return out

    # ------------------------------------------------------------------ derivatives
    def _free_rows(self, name: str):
        """Group, matrix indices and free-parameter index of the free rows of matrix ``name``."""
        _row, g, i, j, k = self._kind[name]
        sel = k >= 0
        return g[sel], i[sel], j[sel], k[sel]

    def _mats(self, x: np.ndarray) -> list[GroupMatrices]:
        """:meth:`matrices` for the model's own computations (:meth:`implied`, :meth:`delta`,
        :meth:`lv_moments`), which read them only: the last point's matrices are reused (the
        optimizer asks for the implied moments and the Jacobian at the same point)."""
        x = np.asarray(x, dtype=float)
        key = (x.tobytes(), self.ustart.tobytes())
        hit = getattr(self, "_mats_cache", None)
        if hit is not None and hit[0] == key and hit[1] is self.con_k:
            return hit[2]
        mats = self.matrices(x)
        self._mats_cache = (key, self.con_k, mats)
        return mats

    def _delta_plan(self):
        """What :meth:`delta` adds where, built once per model (the table does not change).

        Every contribution to ``dSigma`` (group, x, p, p) and ``dmu`` (group, x, p) is a
        product of two entries of the per-point vector ``src = (vec LA, vec L Phi, vec
        A alpha, 1, 0)`` (``LA = Lambda (I - B)^-1``), plus a second product for the latent
        regressions (``t + t'``).  Returns the flat target positions, in the order of the
        rows (lam, theta, psi, beta for Sigma; lam, beta, nu, alpha for mu), and the
        ``src`` indices of the factors.
        """
        if self._struct.get("plan") is not None:
            return self._struct["plan"]
        p, m, nx, ng = self.p, self.m, self.nfree, self.ngroups
        q = np.arange(p)
        o_la, o_lphi, o_eal = 0, ng * p * m, 2 * ng * p * m
        one = o_eal + ng * m
        zero = one + 1

        def cell(g, k, r, c):  # flat position of ds[g, k, r, c]
            return ((g * nx + k) * p + r) * p + c

        def col(a):
            return a[:, None]

        def col2(a):
            return a[:, None, None]

        def la(g, r, i):  # src index of LA[g, r, i]
            return o_la + (g * p + r) * m + i

        def lphi(g, r, j):
            return o_lphi + (g * p + r) * m + j

        def full(a, shape):
            return np.broadcast_to(a, shape).ravel()

        pos, u, v = [], [], []  # Sigma: products src[u] * src[v]

        def add(target, uu, vv, store=(pos, u, v)):
            shape = np.broadcast(target, uu, vv).shape
            store[0].append(full(target, shape))
            store[1].append(full(uu, shape))
            store[2].append(full(vv, shape))

        g, i, j, k = self._free_rows("lam")  # rows i and columns i of Sigma: (L Phi)[:, j]
        add(cell(col(g), col(k), col(i), q), lphi(col(g), q, col(j)), one)
        add(cell(col(g), col(k), q, col(i)), lphi(col(g), q, col(j)), one)
        g, i, j, k = self._free_rows("theta")
        off = i != j
        add(cell(g, k, i, j), one, one)
        add(cell(g[off], k[off], j[off], i[off]), one, one)
        g, i, j, k = self._free_rows("psi")  # outer(LA[:, i], LA[:, j]), then its transpose
        add(cell(col2(g), col2(k), col(q), q), la(col2(g), col(q), col2(i)), la(col2(g), q, col2(j)))
        off = i != j
        g, i, j, k = g[off], i[off], j[off], k[off]
        add(cell(col2(g), col2(k), col(q), q), la(col2(g), q, col2(i)), la(col2(g), col(q), col2(j)))
        # latent regressions: t + t' with t = outer(LA[:, i], (L Phi)[:, j])
        b_pos, b_u, b_v, b_u2, b_v2 = [], [], [], [], []
        g, i, j, k = self._free_rows("beta")
        add(cell(col2(g), col2(k), col(q), q), la(col2(g), col(q), col2(i)), lphi(col2(g), q, col2(j)),
            store=(b_pos, b_u, b_v))
        add(cell(col2(g), col2(k), col(q), q), la(col2(g), q, col2(i)), lphi(col2(g), col(q), col2(j)),
            store=([], b_u2, b_v2))
        m_pos, m_u, m_v = [], [], []
        store = (m_pos, m_u, m_v)
        g, i, j, k = self._free_rows("lam")
        add((g * nx + k) * p + i, o_eal + g * m + j, one, store=store)
        g, i, j, k = self._free_rows("beta")
        add((col(g) * nx + col(k)) * p + q, la(col(g), q, col(i)), o_eal + col(g) * m + col(j), store=store)
        g, i, _j, k = self._free_rows("nu")
        add((g * nx + k) * p + i, one, one, store=store)
        g, i, _j, k = self._free_rows("alpha")
        add((col(g) * nx + col(k)) * p + q, la(col(g), q, col(i)), one, store=store)

        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0, dtype=int)

        plan = {
            "s_pos": cat(pos + b_pos), "s_u": cat(u), "s_v": cat(v),
            "b_u": cat(b_u), "b_v": cat(b_v), "b_u2": cat(b_u2), "b_v2": cat(b_v2),
            "m_pos": cat(m_pos), "m_u": cat(m_u), "m_v": cat(m_v), "zero": zero,
        }
        for arr in plan.values():
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)  # shared by the models of one structure
        self._struct["plan"] = plan
        return plan

    def delta(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group ``(dSigma, dmu)``: arrays of shape (nx, p, p) and (nx, p).

        Every free row adds its derivative to the block of its free parameter (rows that
        share a parameter, as equal labels do, accumulate).  All contributions are
        products of entries of ``LA``, ``L Phi`` and ``A alpha`` at fixed positions
        (:meth:`_delta_plan`, built once), gathered at once and summed into place by one
        ``np.bincount`` (which adds in list order, so the sums are deterministic); a
        Python loop over the rows costs milliseconds per call.
        """
        p, nx, ng = self.p, self.nfree, self.ngroups
        mats = self._mats(x)
        la_all, lphi_all, ealpha_all = [], [], []
        for gm in mats:
            la, phi, ealpha = self._la(gm)
            la_all.append(la)
            lphi_all.append(gm.lam @ phi)  # p x m
            ealpha_all.append(ealpha)
        plan = self._delta_plan()
        src = np.concatenate([np.ravel(la_all), np.ravel(lphi_all), np.ravel(ealpha_all), [1.0, 0.0]])
        s_val = src[plan["s_u"]] * src[plan["s_v"]]
        if len(plan["b_u"]):
            s_val = np.concatenate([s_val, src[plan["b_u"]] * src[plan["b_v"]] + src[plan["b_u2"]] * src[plan["b_v2"]]])
        ds = np.bincount(plan["s_pos"], s_val, minlength=ng * nx * p * p)
        dm = np.bincount(plan["m_pos"], src[plan["m_u"]] * src[plan["m_v"]], minlength=ng * nx * p)
        ds, dm = ds.reshape(ng, nx, p, p), dm.reshape(ng, nx, p)
        out = [(ds[gg], dm[gg]) for gg in range(ng)]
        if self.con_k is not None:
            out = [(self._contract(d_s), self._contract(d_m)) for d_s, d_m in out]
        return out

    def delta_mean(self, x: np.ndarray) -> list[np.ndarray]:
        """The ``dmu`` part of :meth:`delta` alone (per group, ``nx x p``)."""
        p, nx, ng = self.p, self.nfree, self.ngroups
        plan = self._delta_plan()
        parts = [self._la(gm) for gm in self._mats(x)]
        lphi_all = [gm.lam @ phi for gm, (_la, phi, _e) in zip(self._mats(x), parts)]
        src = np.concatenate([np.ravel([q[0] for q in parts]), np.ravel(lphi_all), np.ravel([q[2] for q in parts]),
                              [1.0, 0.0]])
        dm = np.bincount(plan["m_pos"], src[plan["m_u"]] * src[plan["m_v"]], minlength=ng * nx * p)
        dm = dm.reshape(ng, nx, p)
        return [dm[g] if self.con_k is None else self._contract(dm[g]) for g in range(ng)]

    def pieces(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``dSigma / dx_k`` as sums of symmetric rank-2 pieces ``a b' + b a'``, per group.

        Returns per group ``(A, B, k)``: ``p x R`` arrays of the pieces' vectors and the
        0-based free parameter of each piece (rows sharing a parameter give it several
        pieces): a loading ``lambda_ij`` is ``e_i`` and column ``j`` of ``Lambda A Psi A'``,
        a residual (co)variance ``e_i`` and ``e_j`` (``e_i / 2`` on the diagonal), a latent
        (co)variance columns ``i`` and ``j`` of ``Lambda A`` (one halved on the diagonal), a
        latent regression ``beta_ij`` column ``i`` of ``Lambda A`` and column ``j`` of
        ``Lambda A Psi A'``.  The same derivatives as :meth:`delta` (without the
        constraint basis), in a form whose information needs only ``p x R`` products.
        """
        p = self.p
        if self._struct.get("pieces") is None:
            self._struct["pieces"] = self._pieces_plan()
        out = []
        for (a_cols, b_cols, b_scale, k), gm in zip(self._struct["pieces"], self._mats(x)):
            la, phi, _ealpha = self._la(gm)
            src = np.hstack([np.eye(p), la, gm.lam @ phi])  # columns: e_1..e_p, LA, L Phi
            out.append((src[:, a_cols], src[:, b_cols] * b_scale, k))
        return out

    def _pieces_plan(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per group the columns of ``(I_p, Lambda A, Lambda A Psi A')`` that are the pieces'
        ``a`` and ``b`` vectors (:meth:`pieces`), the factor of ``b`` and the parameter."""
        p, m = self.p, self.m
        plan = []
        for g in range(self.ngroups):
            a_cols, b_cols, scale, ks = [], [], [], []
            for name in ("lam", "theta", "psi", "beta"):
                gg, i, j, k = self._free_rows(name)
                sel = gg == g
                i, j, k = i[sel], j[sel], k[sel]
                half = np.where(i == j, 0.5, 1.0)
                if name == "lam":  # e_i and column j of L Phi
                    a, b, f = i, p + m + j, np.ones(len(i))
                elif name == "theta":  # e_i and e_j (halved on the diagonal)
                    a, b, f = i, j, half
                elif name == "psi":  # columns i and j of LA (halved on the diagonal)
                    a, b, f = p + i, p + j, half
                else:  # column i of LA and column j of L Phi
                    a, b, f = p + i, p + m + j, np.ones(len(i))
                a_cols.append(a)
                b_cols.append(b)
                scale.append(f)
                ks.append(k)
            arrays = tuple(np.concatenate(v) for v in (a_cols, b_cols, scale, ks))
            for arr in arrays:
                arr.setflags(write=False)
            plan.append(arrays)
        return plan

    def curvature(self, x: np.ndarray, grads, means: bool) -> np.ndarray:
        """``sum_ij G_ij d2 Sigma_ij / dx dx' + g_mu' d2 mu / dx dx'`` (no latent regressions).

        ``grads``: per group ``(G, g_mu)``, the gradient of the fit function with
        respect to Sigma (p x p) and mu.  With ``B = 0`` only loading x loading,
        loading x Psi and loading x alpha pairs have second derivatives:
        ``2 G_ik Phi_jl``, ``2 (G Lambda)_ik delta_lj (+ sym.)`` and
        ``g_mu,i delta_jk``.
        """
        nx = self.nfree
        out = np.zeros((nx, nx))
        mats = self.matrices(x)
        if self._struct.get("curvature") is None:  # the rows as arrays, once per table structure
            self._struct["curvature"] = (
                np.array([(g, f, i, j) for (g, _name, i, j), f in zip(self.rows, self.free)], dtype=int).reshape(-1, 4),
                np.array([r[1] for r in self.rows]))
        rows, names = self._struct["curvature"]
        for g, (gsig, gmu) in enumerate(grads):
            gm = mats[g]
            sel = rows[:, 0] == g
            lam = rows[sel & (names == "lam") & (rows[:, 1] > 0)]
            if len(lam) == 0:
                continue
            fa, ia, ja = lam[:, 1] - 1, lam[:, 2], lam[:, 3]
            # loading x loading
            block = 2 * gsig[np.ix_(ia, ia)] * gm.psi[np.ix_(ja, ja)]
            np.add.at(out, (fa[:, None], fa[None, :]), block)
            # loading x psi (both orders)
            gl = gsig @ gm.lam  # p x m
            psi = rows[sel & (names == "psi") & (rows[:, 1] > 0)]
            if len(psi):
                fb, kb, lb = psi[:, 1] - 1, psi[:, 2], psi[:, 3]
                val = 2 * gl[np.ix_(ia, kb)] * (ja[:, None] == lb[None, :])
                off = kb != lb
                val += np.where(off[None, :], 2 * gl[np.ix_(ia, lb)] * (ja[:, None] == kb[None, :]), 0.0)
                np.add.at(out, (fa[:, None], fb[None, :]), val)
                np.add.at(out, (fb[:, None], fa[None, :]), val.T)
            if means:
                alpha = rows[sel & (names == "alpha") & (rows[:, 1] > 0)]
                if len(alpha):
                    fb, kb = alpha[:, 1] - 1, alpha[:, 2]
                    val = gmu[ia][:, None] * (ja[:, None] == kb[None, :])
                    np.add.at(out, (fa[:, None], fb[None, :]), val)
                    np.add.at(out, (fb[:, None], fa[None, :]), val.T)
        if self.con_k is not None:
            out = self.con_k.T @ out @ self.con_k
        return out

    def check_identification_counts(self, n_moments: int) -> None:
        if self.nx > n_moments:
            raise IdentificationError(
                f"the model has {self.nx} free parameters but the data give only {n_moments} "
                "sample moments: the model is not identified (negative degrees of freedom)"
            )


def start_values(model: SemModel, sample: list[tuple[np.ndarray, np.ndarray]], std_lv: bool) -> np.ndarray:
    """Simple starting values (lavaan-like): half the observed variance as residual
    variance, loadings from covariances with the marker, zero covariances."""
    pt = model.pt
    vals = np.zeros(len(pt))
    counts = np.zeros(model.nfree)
    x0 = np.zeros(model.nfree)
    ov = {v: i for i, v in enumerate(model.observed)}
    # the table's rows as plain tuples (itertuples over the table costs milliseconds per fit)
    Row = namedtuple("Row", "op lhs rhs start")
    all_rows = [Row(*r) for r in zip(*(pt[c].tolist() for c in Row._fields))]
    group_col = pt["group"].to_numpy()
    for g in range(model.ngroups):
        s, m = sample[g]
        sel = group_col == g + 1
        sub = [all_rows[k] for k in np.flatnonzero(sel)]
        # marker of each latent: first indicator that is observed
        marker = {}
        for r in sub:
            if r.op == "=~" and r.rhs in ov and r.lhs not in marker:
                marker[r.lhs] = ov[r.rhs]
        psi0 = {}
        for f, k in marker.items():
            psi0[f] = 1.0 if std_lv else max(0.5 * s[k, k], 0.05)
        for idx, r in zip(np.flatnonzero(sel), sub):
            v = 0.0
            if r.op == "=~":
                if r.rhs in ov and r.lhs in marker:
                    k, i = marker[r.lhs], ov[r.rhs]
                    if std_lv:
                        sgn = 1.0 if (i == k or s[i, k] >= 0) else -1.0
                        v = sgn * np.sqrt(max(0.5 * s[i, i], 1e-4))
                    else:
                        v = s[i, k] / psi0[r.lhs] if i != k else 1.0
                else:
                    v = 1.0
            elif r.op == "~~" and r.lhs == r.rhs:
                v = 0.5 * s[ov[r.lhs], ov[r.lhs]] if r.lhs in ov else psi0.get(r.lhs, 0.05)
            elif r.op == "~1":
                v = m[ov[r.lhs]] if r.lhs in ov else 0.0
            if isinstance(r.start, float) and not np.isnan(r.start):
                v = r.start
            vals[idx] = v
    for f, v in zip(model.free, vals):
        if f > 0:
            x0[f - 1] += v
            counts[f - 1] += 1
    # with general linear constraints: the closest point that satisfies them
    return model.reduce(x0 / np.maximum(counts, 1))
