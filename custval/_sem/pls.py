"""PLS path modelling: model syntax and the PLS/PLSc algorithm (private).

The public estimator is :class:`custval.pls.PLS`.  This module holds

* a small parser for the PLS model syntax (``F =~ a + b`` mode A block,
  ``F <~ a + b`` mode B block, ``Y ~ X1 + X2`` structural paths), and
* the estimation itself, written to replicate seminr 2.3.1 step by step
  (``R/estimate_simplePLS.R``, ``R/library.R``, ``R/feature_consistent.R``,
  ``R/compute_metrics.R``): the same start weights, the same order of
  updates, standardisation with the ``n - 1`` standard deviation and the same
  stopping rule, so that custval and seminr stop after the same iteration and
  agree to rounding error rather than to the convergence tolerance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import ModelSyntaxError, SingularMatrixError, SpecificationError
from .syntax import split_statements

_IDENT = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_OPS = ("=~", "<~", "~")
MODES = ("A", "B", "unit")
SCHEMES = ("path", "factorial", "centroid")


# --------------------------------------------------------------------------- syntax
@dataclass
class PLSSpec:
    """A parsed PLS model.

    ``constructs`` in order of first appearance in a measurement line;
    ``blocks[c]`` the items of construct ``c`` in syntax order; ``modes[c]``
    the outer weighting mode derived from the operator (``=~`` -> "A",
    ``<~`` -> "B"); ``operator[c]`` the operator used; ``paths`` the
    (source, target) pairs in syntax order.
    """

    constructs: list[str] = field(default_factory=list)
    blocks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    operator: dict[str, str] = field(default_factory=dict)
    paths: list[tuple[str, str]] = field(default_factory=list)
    #: interaction constructs ``"A:B" -> (A, B)`` named in structural lines, in order
    interactions: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: higher-order constructs ``HOC -> (LOC1, LOC2, ...)`` (a measurement line naming constructs)
    hocs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def items(self) -> list[str]:
        """The observed items (blocks of the constructs that are not higher-order), in order."""
        return [i for c in self.constructs if c not in self.hocs for i in self.blocks[c]]

    @property
    def endogenous(self) -> list[str]:
        seen: list[str] = []
        for _, t in self.paths:
            if t not in seen:
                seen.append(t)
        return seen

    def predecessors(self, target: str) -> list[str]:
        return [s for s, t in self.paths if t == target]


def _err(line: str, lineno: int, what: str) -> ModelSyntaxError:
    return ModelSyntaxError(f"PLS model syntax error in line {lineno}: {line!r}: {what}")


def parse_pls_syntax(text: str) -> PLSSpec:
    """Parse PLS model syntax into a :class:`PLSSpec` (checks names and structure)."""
    if not isinstance(text, str) or not text.strip():
        raise ModelSyntaxError(
            "the PLS model syntax is empty; expected measurement lines such as 'Image =~ IMAG1 + IMAG2' "
            "(or 'F <~ x1 + x2' for a mode B block) and structural lines such as 'Satisfaction ~ Image'"
        )
    spec = PLSSpec()
    where: dict[str, tuple[str, int]] = {}
    item_owner: dict[str, str] = {}
    path_lines: list[tuple[str, str, str, int]] = []
    shared: list[tuple[str, str, str, str, int]] = []
    for line, lineno in split_statements(text):
        op = next((o for o in _OPS if o in line), None)
        if op is None:
            raise _err(line, lineno, "no operator found; expected '=~' (mode A), '<~' (mode B) or '~' (paths)")
        lhs, rhs = (s.strip() for s in line.split(op, 1))
        for other in _OPS:
            if other in rhs:
                raise _err(line, lineno, f"more than one operator ({op!r} and {other!r}); write one statement a line")
        if not _IDENT.match(lhs):
            raise _err(line, lineno, f"left-hand side {lhs!r} must be a single construct name")
        terms = [t.strip() for t in rhs.split("+")]
        if not rhs or any(not t for t in terms):
            raise _err(line, lineno, "expected names joined by '+' after the operator (no empty terms)")
        for t in terms:
            if "*" in t:
                raise _err(line, lineno, f"{t!r}: modifiers ('1*x', labels) have no meaning in PLS; give plain names"
                           + (" (an interaction term is written 'A:B')" if op == "~" else ""))
            if op == "~" and ":" in t:
                parts = [u.strip() for u in t.split(":")]
                if len(parts) != 2 or not all(_IDENT.match(u) for u in parts):
                    raise _err(line, lineno, f"{t!r}: an interaction term joins two construct names, 'A:B'")
                if parts[0] == parts[1]:
                    raise _err(line, lineno, f"{t!r}: the interaction of construct {parts[0]!r} with itself "
                               "(a quadratic term) is not supported; an interaction joins two different constructs")
                continue
            if not _IDENT.match(t):
                raise _err(line, lineno, f"{t!r} is not a variable name")
        if op == "~":
            terms = [":".join(u.strip() for u in t.split(":")) for t in terms]
        if len(set(terms)) != len(terms):
            raise _err(line, lineno, "a name is listed twice")
        if op == "~":
            path_lines.extend((t, lhs, line, lineno) for t in terms)
            continue
        if lhs in spec.blocks:
            raise _err(
                line, lineno, f"construct {lhs!r} is already defined in line {where[lhs][1]} ({where[lhs][0]!r})"
            )
        for t in terms:
            if t in item_owner:
                shared.append((t, item_owner[t], lhs, line, lineno))
                continue
            item_owner[t] = lhs
        spec.constructs.append(lhs)
        spec.blocks[lhs] = tuple(terms)
        spec.modes[lhs] = "A" if op == "=~" else "B"
        spec.operator[lhs] = op
        where[lhs] = (line, lineno)
        if op == "<~" and len(terms) == 1:
            raise _err(line, lineno, "a mode B block needs at least two items (seminr: 'You cannot define a "
                       "single item construct as mode B'); use '=~' for a single item")

    _find_hocs(spec, where)
    for item, first, second, line, lineno in shared:
        if item in spec.blocks:
            continue  # a lower-order construct named twice: reported by _find_hocs
        hoc_of = {loc: h for h, locs in spec.hocs.items() for loc in locs}
        if first in hoc_of and hoc_of.get(first) == hoc_of.get(second):
            raise _err(line, lineno, f"item {item!r} measures both {first!r} and {second!r}, the lower-order "
                       f"constructs of the higher-order construct {hoc_of[first]!r}; lower-order constructs must "
                       "not share items")
        raise _err(line, lineno, f"item {item!r} already measures {first!r}; an item belongs to one block")
    hoc_of = {loc: h for h, locs in spec.hocs.items() for loc in locs}
    for src, tgt, line, lineno in path_lines:
        if ":" in src:
            iv, mod = src.split(":")
            for name in (iv, mod):
                if name not in spec.blocks:
                    raise _err(line, lineno, f"interaction {src!r}: {name!r} has no measurement line")
                if name in spec.hocs:
                    raise _err(line, lineno, f"interaction {src!r}: {name!r} is a higher-order construct; "
                               "interactions with higher-order constructs are not supported")
            swapped = f"{mod}:{iv}"
            if swapped in spec.interactions:
                raise _err(line, lineno, f"{src!r} and {swapped!r} are the same interaction")
            spec.interactions.setdefault(src, (iv, mod))
            if src not in spec.blocks:
                spec.blocks[src] = ()
                spec.modes[src] = "A"
                spec.operator[src] = ":"
            if (src, tgt) in spec.paths:
                raise _err(line, lineno, f"the path {src} -> {tgt} is given twice")
            spec.paths.append((src, tgt))
            continue
        for name in (src, tgt):
            if name not in spec.blocks:
                hint = f" ({name!r} is an item of {item_owner[name]!r})" if name in item_owner else ""
                raise _err(line, lineno, f"{name!r} has no measurement line ('{name} =~ ...'){hint}")
            if name in hoc_of:
                raise _err(line, lineno, f"{name!r} is a lower-order construct of the higher-order construct "
                           f"{hoc_of[name]!r}; give the paths of {hoc_of[name]!r} instead (two-stage and "
                           "repeated-indicator estimation route them to its dimensions)")
        if src == tgt:
            raise _err(line, lineno, f"{src!r} cannot predict itself")
        if (src, tgt) in spec.paths:
            raise _err(line, lineno, f"the path {src} -> {tgt} is given twice")
        if (tgt, src) in spec.paths:
            raise _err(line, lineno, f"{src} -> {tgt} and {tgt} -> {src}: reciprocal paths are not supported")
        spec.paths.append((src, tgt))
    if not spec.blocks:
        raise ModelSyntaxError("the PLS model has no measurement line ('F =~ x1 + x2' or 'F <~ x1 + x2')")
    if not spec.paths:
        raise ModelSyntaxError(
            "the PLS model has no structural path ('Y ~ X'); PLS path modelling needs at least one"
        )
    for name, (iv, mod) in spec.interactions.items():
        spec.constructs.append(name)
        targets = [t for s_, t in spec.paths if s_ == name]
        for part in (iv, mod):
            for t in targets:
                if (part, t) not in spec.paths:
                    raise SpecificationError(
                        f"the interaction {name!r} predicts {t!r} but {part!r} does not: give the main effects "
                        f"too ('{t} ~ {iv} + {mod} + {name}'); a moderation model without them is misspecified "
                        "(Hair et al., 2022, ch. 7)")
    in_paths = {c for p in spec.paths for c in p} | set(hoc_of)
    loose = [c for c in spec.constructs if c not in in_paths]
    if loose:
        raise SpecificationError(
            f"construct(s) {loose} are in no structural path; PLS estimates only constructs connected by "
            "paths (seminr drops them silently). Add a path or remove the measurement line"
        )
    _check_acyclic(spec)
    return spec


def _find_hocs(spec: PLSSpec, where: dict) -> None:
    """Measurement lines whose right side names constructs define higher-order constructs."""
    for c in list(spec.constructs):
        named = [t for t in spec.blocks[c] if t in spec.blocks]
        if not named:
            continue
        line, lineno = where[c]
        if len(named) != len(spec.blocks[c]):
            items = [t for t in spec.blocks[c] if t not in spec.blocks]
            raise _err(line, lineno, f"{c!r} is measured by constructs {named} and items {items}: a higher-order "
                       "construct is measured by lower-order constructs only")
        if len(named) < 2:
            raise _err(line, lineno, f"higher-order construct {c!r} needs at least two lower-order constructs")
        for loc in named:
            if loc in spec.hocs:
                raise _err(line, lineno, f"{loc!r} is itself a higher-order construct; third-order constructs "
                           "are not supported")
            other = next((h for h, locs in spec.hocs.items() if loc in locs), None)
            if other is not None:
                raise _err(line, lineno, f"lower-order construct {loc!r} already belongs to the higher-order "
                           f"construct {other!r}")
        spec.hocs[c] = tuple(named)
    for c in spec.hocs:
        for loc in spec.hocs[c]:
            if loc in spec.hocs:
                line, lineno = where[c]
                raise _err(line, lineno, f"{loc!r} is itself a higher-order construct; third-order constructs "
                           "are not supported")


def _check_acyclic(spec: PLSSpec) -> None:
    remaining = {c: set(spec.predecessors(c)) for c in spec.constructs}
    while remaining:
        free = [c for c, pred in remaining.items() if not pred]
        if not free:
            # name one cycle: follow predecessors until a construct repeats
            start = sorted(remaining)[0]
            chain, node = [start], start
            while True:
                node = sorted(remaining[node])[0]
                if node in chain:
                    cycle = [*chain[chain.index(node):], node]
                    break
                chain.append(node)
            raise SpecificationError(
                f"the structural model has a feedback loop: {' <- '.join(cycle)} (constructs involved: "
                f"{sorted(remaining)}); only recursive models are supported"
            )
        for c in free:
            del remaining[c]
        for pred in remaining.values():
            pred.difference_update(free)


# --------------------------------------------------------------------------- algorithm
def standardize(x: np.ndarray) -> np.ndarray:
    """Centre and divide by the ``n - 1`` standard deviation (R's ``scale(x, TRUE, TRUE)``)."""
    x = x - x.mean(axis=0)
    sd = np.sqrt((x * x).sum(axis=0) / (x.shape[0] - 1))
    return x / sd


@dataclass
class PLSRaw:
    """Unlabelled output of :func:`estimate` (columns follow ``spec.constructs``)."""

    weights: np.ndarray  # p x k
    scores: np.ndarray  # n x k
    loadings: np.ndarray  # p x k
    paths: np.ndarray  # k x k, [source, target]
    r2: np.ndarray  # k (NaN for exogenous)
    score_cor: np.ndarray  # k x k (disattenuated under PLSc)
    rho_a: np.ndarray  # k
    n_iter: int
    converged: bool
    weight_change: float


def _inner_weights(y: np.ndarray, adj: np.ndarray, spec_idx, scheme: str) -> np.ndarray:
    """seminr's ``path_weighting`` / ``path_factorial`` (and Lohmöller's centroid scheme)."""
    n = y.shape[0]
    r = (y.T @ y) / (n - 1)
    if scheme == "factorial":
        return r * (adj + adj.T)
    if scheme == "centroid":
        return np.sign(r) * (adj + adj.T)
    inner = r * adj.T  # successors: weighted by their correlation
    for t, preds in spec_idx:  # predecessors: multiple-regression weights
        yp = y[:, preds]
        inner[preds, t] = np.linalg.solve(yp.T @ yp, yp.T @ y[:, t])
    return inner


def _layout(spec: PLSSpec):
    """Index the model: construct -> column, construct -> its item rows, the item x
    construct block mask, the path adjacency matrix and, per endogenous construct,
    the columns of its predecessors."""
    cons = spec.constructs
    k = len(cons)
    col = {c: j for j, c in enumerate(cons)}
    rows: dict[str, np.ndarray] = {}
    start = 0
    for c in cons:
        rows[c] = np.arange(start, start + len(spec.blocks[c]))
        start += len(spec.blocks[c])
    mask = np.zeros((start, k))
    for c in cons:
        mask[rows[c], col[c]] = 1.0
    adj = np.zeros((k, k))
    for src, tgt in spec.paths:
        adj[col[src], col[tgt]] = 1.0
    spec_idx = [(col[t], [col[x] for x in spec.predecessors(t)]) for t in spec.endogenous]
    return col, rows, mask, adj, spec_idx


def estimate(
    x: np.ndarray,
    spec: PLSSpec,
    modes: dict[str, str],
    *,
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
    consistent: frozenset[str] = frozenset(),
    scaled: bool = True,
    rescale: frozenset[str] = frozenset(),
) -> PLSRaw:
    """Run the PLS algorithm on ``x`` (n x p, columns in ``spec.items`` order).

    ``x`` must already be free of missing values and constant columns.  ``scaled=False``
    centres the items without dividing by their standard deviations (plspm ``scaled =
    FALSE``): the weights then apply to the centred items in their own units.
    """
    n = x.shape[0]
    cons = spec.constructs
    k = len(cons)
    col, rows, mask, adj, spec_idx = _layout(spec)

    z = standardize(x) if scaled else x - x.mean(axis=0)
    # Mode B: the inverse item correlation matrix of each block, computed once.
    inv_r = {}
    for c in cons:
        if modes[c] == "B":
            zb = z[:, rows[c]]
            rb = (zb.T @ zb) / (n - 1)
            if np.linalg.cond(rb) > 1e12:
                raise SingularMatrixError(
                    f"mode B block {c!r}: the correlation matrix of its items {list(spec.blocks[c])} is singular "
                    "(an item is a linear combination of the others); drop an item or use mode A ('=~')"
                )
            inv_r[c] = np.linalg.inv(rb)

    w = mask.copy()
    converged = False
    change = np.inf
    it = 0
    while it < max_iter:
        it += 1
        y = _scale_checked(z @ w, cons, "outer")
        inner = _inner_weights(y, adj, spec_idx, scheme)
        proxy = _scale_checked(y @ inner, cons, "inner")
        last = w
        w = np.zeros_like(mask)
        for c in cons:
            j, r = col[c], rows[c]
            mode = modes[c]
            if mode == "A":
                w[r, j] = z[:, r].T @ proxy[:, j] / (n - 1)
            elif mode == "B":
                w[r, j] = inv_r[c] @ (z[:, r].T @ proxy[:, j] / (n - 1))
            else:  # unit weights
                w[r, j] = 1.0
        s = z @ w
        w = w / np.sqrt((s * s).sum(axis=0) / (n - 1))
        change = float(np.abs(w - last).sum())
        if change < tol:
            converged = True
            break

    scores = z @ w
    loadings = (z.T @ scores) / (n - 1) * mask
    if not scaled:  # loadings are correlations; rho_A from the standardised items and weights
        sd = np.sqrt((z * z).sum(axis=0) / (n - 1))
        loadings = loadings / sd[:, None]
        w_std, z = w * sd[:, None], z / sd
    else:
        w_std = w
    scale = {}
    for c in rescale:  # seminr adjust_interaction (Henseler & Chin, 2010)
        j, r = col[c], rows[c]
        sd_items = x[:, r].std(axis=0, ddof=1)
        lam = np.abs(loadings[r, j])
        scale[c] = float((sd_items * lam).sum() / lam.sum())
        scores[:, j] = scores[:, j] * scale[c]
        loadings[r, j] = loadings[r, j] * scale[c]
    score_cor = np.corrcoef(scores, rowvar=False)
    paths = np.zeros((k, k))
    for t, preds in spec_idx:
        sp = scores[:, preds]
        paths[preds, t] = np.linalg.solve(sp.T @ sp, sp.T @ scores[:, t])

    rho = np.ones(k)
    for c in cons:
        if modes[c] != "B" and len(spec.blocks[c]) > 1 and c not in rescale:  # interactions: 1 (seminr)
            rho[col[c]] = rho_a(w_std[rows[c], col[c]], z[:, rows[c]])

    if consistent:
        # Only the common factors are disattenuated (Dijkstra & Henseler, 2015); composites keep
        # a reliability of 1.  seminr divides by rho_A of every mode A construct instead, which
        # is the same whenever all mode A constructs are reflective (see custval.pls.PLS Notes).
        rho_c = np.array([rho[col[c]] if c in consistent else 1.0 for c in cons])
        adjust = np.sqrt(np.outer(rho_c, rho_c))
        np.fill_diagonal(adjust, 1.0)
        score_cor = score_cor / adjust
        for t, preds in spec_idx:
            paths[preds, t] = np.linalg.solve(score_cor[np.ix_(preds, preds)], score_cor[preds, t])
        for c in consistent:
            wc = w[rows[c], col[c]]
            loadings[rows[c], col[c]] = wc * np.sqrt(rho[col[c]]) / (wc @ wc)

    r2 = np.full(k, np.nan)
    for t, preds in spec_idx:
        sub = preds + [t]
        inv = np.linalg.inv(score_cor[np.ix_(sub, sub)])
        r2[t] = 1.0 - 1.0 / inv[-1, -1]
    raw = PLSRaw(w, scores, loadings, paths, r2, score_cor, rho, it, converged, change)
    raw.scale = scale
    return raw


def _scale_checked(v: np.ndarray, cons: list[str], what: str) -> np.ndarray:
    sd = v.std(axis=0, ddof=1)
    bad = [c for c, s in zip(cons, sd) if not s > 0]
    if bad:
        raise SingularMatrixError(
            f"the {what} proxy of construct(s) {bad} has zero variance during the PLS iterations; "
            "check the items of these blocks"
        )
    return standardize(v)


def rho_a(w: np.ndarray, zb: np.ndarray) -> float:
    """Dijkstra-Henseler rho_A of one block from its weights ``w`` and standardised items ``zb``.

    ``rho_A = (w'w)^2 * w'(S - diag S)w / w'(ww' - diag(ww'))w`` with ``S`` the item
    correlation matrix (seminr ``compute_construct_rhoA``).
    """
    n = zb.shape[0]
    s = (zb.T @ zb) / (n - 1)
    np.fill_diagonal(s, 0.0)
    aa = np.outer(w, w)
    np.fill_diagonal(aa, 0.0)
    return float((w @ w) ** 2 * (w @ s @ w) / (w @ aa @ w))


def standardized_alpha(zb: np.ndarray) -> float:
    """Cronbach's alpha from the item correlation matrix (seminr ``cronbachs_alpha``)."""
    k = zb.shape[1]
    if k == 1:
        return 1.0
    r = np.corrcoef(zb, rowvar=False)
    return float(k / (k - 1) * (1 - np.trace(r) / r.sum()))


def dillon_goldstein_rho(zb: np.ndarray) -> float:
    """plspm's Dillon-Goldstein rho of a block: from the correlations of the standardised items with
    the block's first principal component (plspm ``get_unidim``; 1 for a single item)."""
    k = zb.shape[1]
    if k == 1:
        return 1.0
    r = np.corrcoef(zb, rowvar=False)
    vals, vecs = np.linalg.eigh(r)
    c = vecs[:, -1] * np.sqrt(vals[-1])  # item-component correlations
    num = c.sum() ** 2
    return float(num / (num + k - (c**2).sum()))


def rho_c_ave(lam: np.ndarray) -> tuple[float, float]:
    """rho_C (Dillon-Goldstein / composite reliability) and AVE from loadings (1, 1 for one item)."""
    if lam.size == 1:
        return 1.0, 1.0
    s = lam.sum()
    return float(s**2 / (s**2 + (1 - lam**2).sum())), float((lam**2).mean())


# --------------------------------------------------------------------------- bootstrap (batched)
@dataclass
class PLSBatch:
    """Estimates of ``B`` resamples: ``weights``/``loadings`` (B, p, k), ``paths`` (B, k, k)."""

    weights: np.ndarray
    loadings: np.ndarray
    paths: np.ndarray
    ok: np.ndarray  # (B,) estimable and converged
    score_cor: np.ndarray | None = None  # (B, k, k) construct correlations (disattenuated under PLSc)


def _diag(a: np.ndarray) -> np.ndarray:
    return np.diagonal(a, axis1=-2, axis2=-1)


def estimate_from_correlations(
    s: np.ndarray,
    spec: PLSSpec,
    modes: dict[str, str],
    *,
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
    consistent: frozenset[str] = frozenset(),
    covariance: bool = False,
    rescale: frozenset[str] = frozenset(),
    item_sd: np.ndarray | None = None,
) -> PLSBatch:
    """The PLS algorithm of :func:`estimate` for a stack of item correlation matrices ``s`` (B, p, p).

    Every quantity of the algorithm is a function of the item correlation matrix of the
    standardised data: with ``Y = Z W``, ``cov(Y) = W'SW``, ``cov(Z, Y E) = S W E`` and
    ``var(Y E) = diag(E' R_Y E)``.  So all resamples are iterated at once as (B, ...) arrays;
    each resample stops at its own iteration by the same rule as :func:`estimate`.
    Resamples whose matrix has NaN (a constant item) or that do not converge are marked
    ``ok = False``.
    """
    b, p, _ = s.shape
    cons = spec.constructs
    k = len(cons)
    col, rows, mask, adj, spec_idx = _layout(spec)

    ok = np.isfinite(s).all(axis=(1, 2))
    s = np.where(ok[:, None, None], s, np.eye(p))  # placeholders, discarded at the end
    inv_b = {}
    for c in cons:
        if modes[c] == "B":
            sb = s[:, rows[c][:, None], rows[c]]
            cond = np.linalg.cond(sb)
            ok &= cond < 1e12
            inv_b[c] = np.linalg.inv(np.where((cond < 1e12)[:, None, None], sb, np.eye(len(rows[c]))))

    w = np.broadcast_to(mask, (b, p, k)).copy()
    active = ok.copy()
    converged = np.zeros(b, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sa, wa = s[idx], w[idx]
        c_y = wa.transpose(0, 2, 1) @ sa @ wa
        sd = np.sqrt(_diag(c_y))
        wn = wa / sd[:, None, :]
        r_y = c_y / sd[:, :, None] / sd[:, None, :]
        if scheme == "factorial":
            e = r_y * (adj + adj.T)
        elif scheme == "centroid":
            e = np.sign(r_y) * (adj + adj.T)
        else:
            e = r_y * adj.T
            for t, preds in spec_idx:
                e[:, preds, t] = np.linalg.solve(r_y[:, preds][:, :, preds], r_y[:, preds, t][..., None])[..., 0]
        var_v = _diag(e.transpose(0, 2, 1) @ r_y @ e)
        g = sa @ wn @ e / np.sqrt(var_v)[:, None, :]
        new = np.zeros_like(wa)
        for c in cons:
            j, r = col[c], rows[c]
            if modes[c] == "A":
                new[:, r, j] = g[:, r, j]
            elif modes[c] == "B":
                new[:, r, j] = (inv_b[c][idx] @ g[:, r, j][..., None])[..., 0]
            else:
                new[:, r, j] = 1.0
        new = new / np.sqrt(_diag(new.transpose(0, 2, 1) @ sa @ new))[:, None, :]
        change = np.abs(new - wa).sum(axis=(1, 2))
        w[idx] = new
        done = change < tol
        converged[idx[done]] = True
        active[idx[done]] = False
    ok &= converged

    r_s = w.transpose(0, 2, 1) @ s @ w  # unit diagonal: the weights are normalised
    loadings = (s @ w) * mask
    if covariance:  # s holds covariances of centred items: loadings as correlations
        loadings = loadings / np.sqrt(_diag(s))[:, :, None]
    scale = np.ones((b, k))
    for c in rescale:  # seminr adjust_interaction, per resample (item_sd: (B, p) raw item sds)
        j, r = col[c], rows[c]
        lam = np.abs(loadings[:, r, j])
        scale[:, j] = (item_sd[:, r] * lam).sum(axis=1) / lam.sum(axis=1)
        loadings[:, r, j] = loadings[:, r, j] * scale[:, j][:, None]
    if consistent:
        rho = np.ones((b, k))
        for c in consistent:
            if len(rows[c]) > 1:
                wc = w[:, rows[c], col[c]]
                sb = s[:, rows[c][:, None], rows[c]].copy()
                sb[:, np.arange(len(rows[c])), np.arange(len(rows[c]))] = 0.0
                ww = (wc * wc).sum(axis=1)
                num = np.einsum("bi,bij,bj->b", wc, sb, wc)
                den = ww**2 - (wc**4).sum(axis=1)  # w'(ww' - diag ww')w
                rho[:, col[c]] = ww**2 * num / den
            wc = w[:, rows[c], col[c]]
            loadings[:, rows[c], col[c]] = wc * np.sqrt(rho[:, col[c]])[:, None] / (wc * wc).sum(axis=1)[:, None]
        adjust = np.sqrt(rho[:, :, None] * rho[:, None, :])
        adjust[:, np.arange(k), np.arange(k)] = 1.0
        r_s = r_s / adjust
    paths = np.zeros((b, k, k))
    for t, preds in spec_idx:
        paths[:, preds, t] = np.linalg.solve(r_s[:, preds][:, :, preds], r_s[:, preds, t][..., None])[..., 0]
    if rescale and not consistent:  # OLS on rescaled scores: the interaction's coefficient / scale
        paths = paths / scale[:, :, None]
    return PLSBatch(w, loadings, paths, ok, r_s)


# --------------------------------------------------------------------------- interactions, higher-order
INTERACTIONS = ("two_stage", "product_indicator", "orthogonal")
HOC_METHODS = ("two_stage", "repeated_indicators")


def flat_spec(constructs, blocks, modes, paths) -> PLSSpec:
    """A plain PLS model (no interaction, no higher-order construct) from its parts."""
    spec = PLSSpec()
    spec.constructs = list(constructs)
    spec.blocks = {c: tuple(blocks[c]) for c in constructs}
    spec.modes = {c: modes[c] for c in constructs}
    spec.operator = {c: "=~" if modes[c] != "B" else "<~" for c in constructs}
    spec.paths = list(paths)
    return spec


@dataclass
class Plan:
    """How a model with interactions or higher-order constructs is estimated.

    ``final`` is the plain model estimated last; its data columns are built by
    :meth:`columns` from the observed items (``spec.items``) and, for two-stage
    approaches, the construct scores of the plain model ``stage1``.  ``sources[j]``
    says what column ``j`` of the final data is: ``("item", i)`` observed item ``i``;
    ``("prod", i, k)`` product of standardised items; ``("ortho", i, k, name)`` the
    same product residualised on the items of both constructs of interaction ``name``;
    ``("sprod", a, b)`` product of stage-1 scores ``a`` and ``b``; ``("score", a)`` a
    stage-1 score.  ``item_names`` labels the final columns; ``locs`` lists the
    lower-order constructs estimated in stage 1 only (two-stage higher-order).
    """

    spec: PLSSpec
    final: PLSSpec
    stage1: PLSSpec | None
    sources: list[tuple]
    item_names: list[str]
    interaction: str
    hoc: str
    locs: tuple[str, ...] = ()

    @property
    def stage1_items(self) -> list[int]:
        base = self.spec.items
        return [base.index(i) for i in self.stage1.items] if self.stage1 is not None else []

    def columns(self, x: np.ndarray, counts: np.ndarray, w1: np.ndarray | None = None):
        """The final model's data for each resample: (B, n, p') from ``x`` (n, p) and
        resampling counts (B, n); ``w1`` (B, p1, k1) the stage-1 weights."""
        b, n = counts.shape[0], x.shape[0]
        tot = counts.sum(axis=1, keepdims=True)  # n for a resample, n - 1 for a jackknife sample
        m = counts @ x / tot
        xc = x[None] - m[:, None, :]
        sd = np.sqrt(np.einsum("bn,bnp->bp", counts, xc * xc) / (tot - 1))
        z = xc / sd[:, None, :]
        scores = None
        if w1 is not None:
            scores = z[:, :, self.stage1_items] @ w1
            cons1 = self.stage1.constructs
        out = np.empty((b, n, len(self.sources)))
        ortho_cache: dict[str, np.ndarray] = {}
        for j, src in enumerate(self.sources):
            kind = src[0]
            if kind == "item":
                out[:, :, j] = x[None, :, src[1]]
            elif kind == "prod":
                out[:, :, j] = z[:, :, src[1]] * z[:, :, src[2]]
            elif kind == "ortho":
                name = src[3]
                if name not in ortho_cache:
                    iv, mod = self.spec.interactions[name]
                    base = self.spec.items
                    cols = [base.index(i) for i in (*self.spec.blocks[iv], *self.spec.blocks[mod])]
                    ortho_cache[name] = np.concatenate([np.ones((b, n, 1)), z[:, :, cols]], axis=2)
                r = ortho_cache[name]
                y = z[:, :, src[1]] * z[:, :, src[2]]
                rc = r * counts[:, :, None]
                beta = np.linalg.solve(rc.transpose(0, 2, 1) @ r, (rc.transpose(0, 2, 1) @ y[..., None]))
                out[:, :, j] = y - (r @ beta)[..., 0]
            elif kind == "sprod":
                out[:, :, j] = scores[:, :, cons1.index(src[1])] * scores[:, :, cons1.index(src[2])]
            else:  # score
                out[:, :, j] = scores[:, :, cons1.index(src[1])]
        return out


def make_plan(spec: PLSSpec, modes: dict[str, str], *, interaction: str, hoc: str) -> Plan:
    """The estimation plan of a model with interaction terms or higher-order constructs."""
    base = spec.items
    plain = [c for c in spec.constructs if c not in spec.interactions and c not in spec.hocs]
    sources: list[tuple] = [("item", base.index(i)) for i in base]
    names = list(base)
    blocks = {c: spec.blocks[c] for c in plain}
    final_cons = list(plain)
    paths = [p for p in spec.paths if p[0] not in spec.interactions]
    stage1 = None
    locs: tuple[str, ...] = ()
    if spec.hocs:
        locs = tuple(loc for h in spec.hocs for loc in spec.hocs[h])
        if hoc == "two_stage":
            # stage 1: every higher-order construct replaced by its dimensions (seminr
            # substitute_dimensions_for_HOC: antecedents -> each dimension, each dimension -> outcomes)
            p1: list[tuple[str, str]] = []
            for s, t in paths:
                srcs = spec.hocs.get(s, (s,))
                tgts = spec.hocs.get(t, (t,))
                p1.extend((a, b) for a in srcs for b in tgts if (a, b) not in p1)
            stage1 = flat_spec(plain, blocks, modes, p1)
            keep = [c for c in plain if c not in locs]
            sources = [("item", base.index(i)) for c in keep for i in spec.blocks[c]]
            names = [i for c in keep for i in spec.blocks[c]]
            final_cons = []
            for c in spec.constructs:
                if c in spec.hocs:
                    final_cons.append(c)
                    blocks[c] = spec.hocs[c]
                    sources += [("score", loc) for loc in spec.hocs[c]]
                    names += list(spec.hocs[c])
                elif c in keep:
                    final_cons.append(c)
        else:  # repeated indicators: the HOC is measured by all items of its dimensions
            final_cons = []
            for c in spec.constructs:
                if c in spec.interactions:
                    continue
                final_cons.append(c)
                if c in spec.hocs:
                    items = tuple(i for loc in spec.hocs[c] for i in spec.blocks[loc])
                    blocks[c] = items
            sources = [("item", base.index(i)) for c in final_cons for i in blocks[c]]
            names = [i for c in final_cons for i in blocks[c]]
            for h, dims in spec.hocs.items():
                for loc in dims:
                    paths.append((loc, h) if modes[h] == "B" else (h, loc))
            locs = ()
    if spec.interactions:
        first = flat_spec(plain, blocks, modes, paths)
        if interaction == "two_stage":
            stage1 = first
        for name, (iv, mod) in spec.interactions.items():
            final_cons.append(name)
            if interaction == "two_stage":
                item = f"{name}_intxn"
                blocks[name] = (item,)
                sources.append(("sprod", iv, mod))
                names.append(item)
            else:
                items = []
                for a in spec.blocks[iv]:
                    for b in spec.blocks[mod]:
                        items.append(f"{a}*{b}")
                        sources.append(("prod", base.index(a), base.index(b)) if interaction == "product_indicator"
                                       else ("ortho", base.index(a), base.index(b), name))
                blocks[name] = tuple(items)
                names += items
        paths = list(spec.paths)
    fmodes = {c: modes.get(c, "A") for c in final_cons}
    final = flat_spec(final_cons, blocks, fmodes, paths)
    # the final data columns follow final.items (block order); a repeated item has one source
    source_of = dict(zip(names, sources))
    names2 = list(final.items)
    return Plan(spec, final, stage1, [source_of[i] for i in names2], names2, interaction, hoc, locs)


def batch_correlations(d: np.ndarray, counts: np.ndarray, *, center_only: bool = False) -> np.ndarray:
    """Weighted correlation (or, ``center_only``, covariance) matrices of (B, n, p) data."""
    tot = counts.sum(axis=1)
    m = np.einsum("bn,bnp->bp", counts, d) / tot[:, None]
    dc = d - m[:, None, :]
    cov = (dc * counts[:, :, None]).transpose(0, 2, 1) @ dc / (tot - 1)[:, None, None]
    if center_only:
        return cov
    sd = np.sqrt(_diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / sd[:, :, None] / sd[:, None, :]
    small = sd <= 1e-12 * max(1.0, float(np.nanmax(sd)) if sd.size else 1.0)
    r[small[:, :, None] | small[:, None, :]] = np.nan
    idx = np.arange(r.shape[1])
    r[:, idx, idx] = np.where(small, np.nan, 1.0)
    return r
