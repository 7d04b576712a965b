"""Group comparisons and prediction for PLS path models (private).

Machinery behind :func:`custval.pls.micom`, :func:`custval.pls.mga` and
:func:`custval.pls.plspredict`.  Everything that re-estimates the model many
times (permutations of the group labels, bootstrap resamples within groups,
training sets of the cross-validation) goes through
:func:`custval._sem.pls.estimate_from_correlations`: the PLS algorithm depends on
the data only through the item correlation matrix, and the correlation matrix of
any subset of rows is a weighted correlation of the pooled data (weights 0/1 or
resampling counts), so all re-estimations are iterated at once as arrays.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import (
    ConstantItemError,
    ConvergenceWarning,
    DataValidationError,
    InsufficientDataError,
    SpecificationError,
)
from . import pls as _pls

#: re-estimations per batch (bounds memory at about CHUNK x p^2 doubles per group)
CHUNK = 250


# --------------------------------------------------------------------------- preparation
@dataclass
class Prepared:
    """The pooled fit and the data as the group machinery needs it."""

    fit: object  # a fitted custval.pls.PLS
    x: np.ndarray  # n x p, rows used by the pooled fit, columns in spec.items order
    labels: np.ndarray  # n ints, 0..G-1
    groups: list  # the group values, in label order
    sizes: np.ndarray  # G


#: permuted statistics within this relative distance of the observed one are ties: with Likert
#: data many permutations give the same group means, and which side of the observed value such a
#: tie falls on would otherwise depend on the last bit of the arithmetic (the BLAS kernel)
TIE_TOLERANCE = 1e-10


def _tie(x):
    """The tie margin around ``x`` (:data:`TIE_TOLERANCE` relative, at least absolute)."""
    return TIE_TOLERANCE * np.maximum(1.0, np.abs(x))


def pls_from(pls_cls, model, data, *, who: str):
    """A fitted :class:`custval.pls.PLS` on ``data``: ``model`` is model syntax, an
    Instrument/mapping (then without ``paths`` this fails in PLS) or a PLS estimator whose
    settings are used (it is refitted on ``data``; the given object is not changed).  ``pls_cls`` is
    :class:`custval.pls.PLS` (passed in: this module is imported by custval.pls)."""
    PLS = pls_cls
    if isinstance(model, PLS):
        params = dict(
            model=model.model, paths=model.paths, weighting=model.weighting, mode=model.mode,
            consistent=model.consistent, missing=model.missing, max_iter=model.max_iter, tol=model.tol,
        )
        return PLS(**params).fit(data)
    if not isinstance(model, str):
        raise SpecificationError(
            f"{who}: model must be PLS model syntax (str) or a custval.pls.PLS estimator; got "
            f"{type(model).__name__}. For an Instrument, pass PLS(instrument, paths=...)"
        )
    return PLS(model).fit(data)


def rows_used(fit, data: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows of ``data`` the pooled fit used (all, unless listwise deletion)."""
    if fit.n_excluded_ == 0:
        return np.ones(len(data), dtype=bool)
    return ~data[fit.items_].isna().any(axis=1).to_numpy()


def group_labels(data: pd.DataFrame, group, *, who: str) -> tuple[pd.Series, str]:
    """The group of every row of ``data`` (a column name or an array-like of ``len(data)``)."""
    if isinstance(group, str):
        if group not in data.columns:
            raise SpecificationError(f"{who}: group={group!r} is not a column of the data")
        return data[group], group
    if isinstance(group, pd.Series) and not group.index.equals(data.index):
        raise DataValidationError(
            f"{who}: the group Series has an index different from the data's; align it (or pass .to_numpy())"
        )
    values = pd.Series(np.asarray(group), index=data.index) if not isinstance(group, pd.Series) else group
    if len(values) != len(data):
        raise DataValidationError(f"{who}: group has {len(values)} values for {len(data)} rows of data")
    return values, str(values.name) if values.name is not None else "group"


def prepare(pls_cls, model, data, group, *, who: str, min_groups: int = 2) -> Prepared:
    """Fit the pooled model and check every group: at least as many respondents as indicators,
    no constant indicator within a group, no missing group label."""
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"{who}: data must be a pandas DataFrame with one column per item")
    values, gname = group_labels(data, group, who=who)
    missing = values.isna().to_numpy()
    if missing.any():
        pos = np.flatnonzero(missing)
        raise DataValidationError(
            f"{who}: {pos.size} row(s) have no value in the grouping {gname!r} (0-based positions "
            f"{pos[:10].tolist()}{' ...' if pos.size > 10 else ''}); give them a group or drop them before the call"
        )
    fit = pls_from(pls_cls, model, data, who=who)
    keep = rows_used(fit, data)
    values = values[keep]
    try:
        groups = sorted(pd.unique(values))
    except TypeError:  # mixed types: order of first appearance
        groups = list(pd.unique(values))
    if len(groups) < min_groups:
        raise InsufficientDataError(
            f"{who}: the grouping {gname!r} has {len(groups)} group(s) ({groups}) in the rows used; "
            f"at least {min_groups} are needed"
        )
    code = {g: i for i, g in enumerate(groups)}
    labels = np.array([code[v] for v in values], dtype=np.intp)
    groups = [g.item() if isinstance(g, np.generic) else g for g in groups]  # plain Python values
    x = fit._x
    items = fit.items_
    p = len(items)
    sizes = np.bincount(labels, minlength=len(groups))
    for gi, g in enumerate(groups):
        if sizes[gi] < p:
            raise InsufficientDataError(
                f"{who}: group {g!r} of {gname!r} has {sizes[gi]} respondent(s), fewer than the {p} indicators "
                "of the model; a group needs at least as many respondents as indicators. Merge it with another "
                "group or leave it out"
            )
        xg = x[labels == gi]
        sd = xg.std(axis=0, ddof=1)
        const = [items[j] for j in range(p) if not sd[j] > 0]
        if const:
            raise ConstantItemError(
                f"{who}: indicator(s) {const} are constant within group {g!r} of {gname!r} (value "
                f"{[float(xg[0, items.index(c)]) for c in const]}); the model cannot be estimated in that group. "
                "Remove the indicator from the model or merge the group"
            )
    return Prepared(fit, x, labels, groups, sizes)


def settings(fit) -> dict:
    return dict(scheme=fit.weighting, max_iter=int(fit.max_iter), tol=float(fit.tol),
                consistent=fit._consistent_set)


def estimate_group(fit, xg: np.ndarray, *, who: str, name) -> _pls.PLSRaw:
    """The model estimated on one group's rows (the same algorithm and settings as the pooled fit)."""
    raw = _pls.estimate(xg, fit._spec, fit.modes_, **settings(fit))
    if not raw.converged:
        warnings.warn(
            f"{who}: PLS did not converge in group {name!r} ({raw.n_iter} iterations); its estimates are from "
            "the last iteration", ConvergenceWarning, stacklevel=4,
        )
    return raw


# --------------------------------------------------------------------------- batched estimation
def subset_correlations(x: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Correlation matrices (B, p, p) of the row subsets (or resamples) given by ``member`` (B, n)
    weights; ``NaN`` where an item is constant in a subset."""
    from .._stats.htmt import weighted_correlations

    return weighted_correlations(x, member)


def batch_estimates(fit, x: np.ndarray, member: np.ndarray) -> _pls.PLSBatch:
    """PLS estimates of every row subset in ``member`` (B, n), all at once; ``ok`` is False where the
    estimation failed (a constant item, no convergence, or non-finite estimates such as PLSc paths
    from a negative rho_A)."""
    s = subset_correlations(x, member)
    with np.errstate(invalid="ignore", divide="ignore"):  # e.g. a negative rho_A under PLSc: marked not ok
        est = _pls.estimate_from_correlations(s, fit._spec, fit.modes_, **settings(fit))
    est.ok &= np.isfinite(est.paths).all(axis=(1, 2)) & np.isfinite(est.weights).all(axis=(1, 2))
    est.ok &= np.isfinite(est.loadings).all(axis=(1, 2))
    return est


def permutation_labels(rng: np.random.Generator, labels: np.ndarray, b: int) -> np.ndarray:
    """``b`` random permutations of the group labels (b, n); group sizes are kept."""
    return rng.permuted(np.broadcast_to(labels, (b, labels.size)), axis=1)


def chunks(total: int, progress: bool, desc: str):
    it = range(0, total, CHUNK)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=desc, unit="chunk", total=len(it))
    return it


def grouped_batch(fit, x, perm_labels: np.ndarray, n_groups: int):
    """Weights (B, G, p, k), paths (B, G, k, k) and ok (B,) of every group under every labelling."""
    b = perm_labels.shape[0]
    weights, paths, ok = [], [], np.ones(b, dtype=bool)
    for g in range(n_groups):
        est = batch_estimates(fit, x, (perm_labels == g).astype(float))
        weights.append(est.weights)
        paths.append(est.paths)
        ok &= est.ok
    return np.stack(weights, axis=1), np.stack(paths, axis=1), ok


def pairs(n_groups: int) -> list[tuple[int, int]]:
    return list(itertools.combinations(range(n_groups), 2))


def quantile7(a: np.ndarray, q, axis: int = 0) -> np.ndarray:
    """R's default quantile (type 7), numpy's "linear"."""
    return np.quantile(a, q, axis=axis)


# --------------------------------------------------------------------------- MICOM
def compositional_c(s_pooled: np.ndarray, w1: np.ndarray, w2: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """c = cor(Z w1, Z w2) per construct for weights (..., p, k) and the pooled item correlations."""
    w1 = w1 * mask
    w2 = w2 * mask
    s_w2 = s_pooled @ w2
    s_w1 = s_pooled @ w1
    num = (w1 * s_w2).sum(axis=-2)
    v1 = (w1 * s_w1).sum(axis=-2)
    v2 = (w2 * s_w2).sum(axis=-2)
    return num / np.sqrt(v1 * v2)


def mean_var_stats(scores: np.ndarray, member: np.ndarray):
    """Means (B, G, k) and variances (ddof 1) of the scores (n, k) in the groups ``member`` (B, G, n)."""
    cnt = member.sum(axis=-1)[..., None]
    m = member @ scores / cnt
    m2 = member @ (scores * scores)
    var = (m2 - cnt * m * m) / (cnt - 1)
    return m, var


# --------------------------------------------------------------------------- MGA
def henseler_p(boot1: np.ndarray, boot2: np.ndarray) -> np.ndarray:
    """Henseler et al. (2009) PLS-MGA: ``1 - mean(Theta(2 mean1 - b1_i - 2 mean2 + b2_j))`` over all
    pairs ``(i, j)`` of bootstrap draws (B1, m) and (B2, m) (seminr ``estimate_pls_mga``'s
    ``pls_mga_p``); the one-sided p value for "group 1 > group 2".  Counted with sorting, not
    with the B1 x B2 pairs."""
    m = boot1.shape[1]
    out = np.empty(m)
    for j in range(m):
        a = 2 * boot1[:, j].mean() - boot1[:, j]  # Theta(a_i - (2 mean2 - b2_j)) = 1 when a_i > c_j
        c = np.sort(2 * boot2[:, j].mean() - boot2[:, j])
        # number of pairs with a_i - c_j > 0: for each a_i, the c_j strictly below it
        below = np.searchsorted(c, a, side="left")
        out[j] = 1.0 - below.sum() / (a.size * c.size)
    return out


def welch(diff, se1, se2, n1, n2):
    """Welch-Satterthwaite test of a path difference as cSEM's ``"Nitzl"`` approach and SmartPLS:
    ``t = diff / sqrt((n1-1)/n1 se1^2 + (n2-1)/n2 se2^2)``,
    ``df = round((...)^2 / ((n1-1)/n1^2 se1^4 + (n2-1)/n2^2 se2^4) - 2)``."""
    from scipy import stats

    v = (n1 - 1) / n1 * se1**2 + (n2 - 1) / n2 * se2**2
    t = diff / np.sqrt(v)
    df = np.round(v**2 / ((n1 - 1) / n1**2 * se1**4 + (n2 - 1) / n2**2 * se2**4) - 2)
    return t, df, 2 * stats.t.sf(np.abs(t), df)


# --------------------------------------------------------------------------- PLSpredict
def fold_labels(rng: np.random.Generator, n: int, folds: int, repetitions: int) -> np.ndarray:
    """(repetitions, n) fold numbers 0..folds-1: each repetition shuffles the rows and cuts them
    into ``folds`` consecutive, nearly equal parts (seminr's ``cut(seq(1, n), breaks = folds)``)."""
    base = r_cut(n, folds)
    out = np.empty((repetitions, n), dtype=np.intp)
    for r in range(repetitions):
        order = rng.permutation(n)
        out[r, order] = base
    return out


def r_cut(n: int, folds: int) -> np.ndarray:
    """R's ``cut(seq(1, n), breaks = folds, labels = FALSE)`` - 1 (0-based fold of position i)."""
    lo, hi = 1.0, float(n)
    d = hi - lo
    breaks = np.linspace(lo, hi, folds + 1)
    breaks[0] -= d / 1000
    breaks[-1] += d / 1000
    pos = np.arange(1, n + 1, dtype=float)
    return np.searchsorted(breaks, pos, side="left") - 1


def ols_predict(xtr: np.ndarray, ytr: np.ndarray, wtr: np.ndarray, xall: np.ndarray) -> np.ndarray:
    """Weighted (0/1) least squares with intercept for a batch: xtr (n, q) shared, weights (B, n),
    y (n, e); returns predictions (B, n, e) for all rows ``xall`` (n, q)."""
    n = xtr.shape[0]
    x1 = np.column_stack([np.ones(n), xtr])
    xa = np.column_stack([np.ones(xall.shape[0]), xall])
    g = np.einsum("bn,ni,nj->bij", wtr, x1, x1)
    h = np.einsum("bn,ni,ne->bie", wtr, x1, ytr)
    try:
        coef = np.linalg.solve(g, h)  # (B, q+1, e)
    except np.linalg.LinAlgError:
        from ..exceptions import SingularMatrixError

        raise SingularMatrixError(
            "plspredict: the linear benchmark cannot be estimated in a training set: its predictor items are "
            "collinear there (an item is a linear combination of others); drop an item or use fewer folds"
        ) from None
    return np.einsum("ni,bie->bne", xa, coef)


# --------------------------------------------------------------------------- runners
def _perm_matrix(permutations, labels: np.ndarray, rng, *, who: str) -> np.ndarray:
    """Permuted labels (B, n): ``permutations`` is a count or an integer array (B, n) of row orders
    (0-based; row ``i`` of permutation ``b`` gets the group of row ``permutations[b, i]``)."""
    n = labels.size
    if isinstance(permutations, (int, np.integer)) and not isinstance(permutations, bool):
        if permutations < 2:
            raise SpecificationError(f"{who}: permutations={permutations!r}; at least 2 are needed (1,000 or more "
                                     "recommended; Henseler et al., 2016, suggest 5,000)")
        return permutation_labels(rng, labels, int(permutations))
    idx = np.asarray(permutations)
    if idx.ndim != 2 or idx.shape[1] != n or not np.issubdtype(idx.dtype, np.integer):
        raise SpecificationError(
            f"{who}: permutations must be a count or an integer array of row orders of shape (B, {n}); got "
            f"{getattr(idx, 'shape', None)}")
    if not (np.sort(idx, axis=1) == np.arange(n)).all():
        raise SpecificationError(f"{who}: every row of permutations must be a permutation of 0..{n - 1}")
    return labels[idx]


def _drop_failed(ok: np.ndarray, total: int, who: str, what: str) -> None:
    n_failed = int((~ok).sum())
    if n_failed:
        warnings.warn(
            f"{who}: {n_failed} of {total} {what} could not be estimated in every group (a constant indicator "
            f"in a group, no convergence or non-finite estimates) and were excluded; the reference distribution uses the other "
            f"{int(ok.sum())}", ConvergenceWarning, stacklevel=4,
        )
    if ok.sum() < 2:
        raise InsufficientDataError(f"{who}: fewer than 2 {what} could be estimated")


def run_micom(prep: Prepared, *, permutations, seed: int, alpha: float, progress: bool, pooled: str = "standardized",
              who: str = "micom"):
    fit, x, labels, groups = prep.fit, prep.x, prep.labels, prep.groups
    spec = fit._spec
    cons = spec.constructs
    _, _, mask, _, _ = _pls._layout(spec)
    n_groups = len(groups)
    rng = np.random.default_rng(seed)
    perm = _perm_matrix(permutations, labels, rng, who=who)
    b = perm.shape[0]

    raws = [estimate_group(fit, x[labels == g], who=who, name=groups[g]) for g in range(n_groups)]
    # composites of step 2 on the pooled data: standardised (correlations) or raw (covariances, cSEM)
    s_pooled = np.corrcoef(x, rowvar=False) if pooled == "standardized" else np.cov(x, rowvar=False)
    fixed = np.array([len(spec.blocks[c]) == 1 or fit.modes_[c] == "unit" for c in cons])

    w_perm = np.empty((b, n_groups, x.shape[1], len(cons)))
    ok = np.ones(b, dtype=bool)
    for start in chunks(b, progress, "MICOM permutations"):
        w, _, okc = grouped_batch(fit, x, perm[start : start + CHUNK], n_groups)
        w_perm[start : start + CHUNK] = w
        ok[start : start + CHUNK] = okc
    _drop_failed(ok, b, who, "permutations")

    scores = fit.scores_.to_numpy()
    member_obs = (labels[None, :] == np.arange(n_groups)[:, None]).astype(float)[None]
    member_perm = (perm[:, None, :] == np.arange(n_groups)[None, :, None]).astype(float)
    m_obs, v_obs = mean_var_stats(scores, member_obs)
    m_perm, v_perm = mean_var_stats(scores, member_perm)
    m_perm, v_perm, w_perm = m_perm[ok], v_perm[ok], w_perm[ok]

    comp, means, variances, verdict = [], [], [], []
    for g1, g2 in pairs(n_groups):
        c_obs = compositional_c(s_pooled, raws[g1].weights, raws[g2].weights, mask)
        c_ref = compositional_c(s_pooled, w_perm[:, g1], w_perm[:, g2], mask)
        c_obs = np.where(fixed, 1.0, c_obs)
        c_ref = np.where(fixed, 1.0, c_ref)
        q = quantile7(c_ref, alpha, axis=0)
        p_c = (c_ref <= c_obs + _tie(c_obs)).mean(axis=0)
        d_obs = m_obs[0, g1] - m_obs[0, g2]
        d_ref = m_perm[:, g1] - m_perm[:, g2]
        lv_obs = np.log(v_obs[0, g1]) - np.log(v_obs[0, g2])
        lv_ref = np.log(v_perm[:, g1]) - np.log(v_perm[:, g2])
        lo, hi = alpha / 2, 1 - alpha / 2
        for j, c in enumerate(cons):
            key = (groups[g1], groups[g2], c)
            invariant = bool(c_obs[j] >= q[j] - _tie(q[j]))
            comp.append((*key, c_obs[j], q[j], p_c[j], invariant, int(ok.sum())))
            row = {}
            for name, obs, ref, out in (("mean", d_obs[j], d_ref[:, j], means),
                                        ("variance", lv_obs[j], lv_ref[:, j], variances)):
                ci_low, ci_high = quantile7(ref, [lo, hi])
                t = _tie(obs)
                p = float((ref > abs(obs) + t).mean() + (ref < -abs(obs) - t).mean())
                equal = bool(ci_low - _tie(ci_low) <= obs <= ci_high + _tie(ci_high))
                row[name] = equal
                out.append((*key, obs, ci_low, ci_high, p, equal, int(ok.sum())))
            v = "none" if not invariant else ("full" if row["mean"] and row["variance"] else "partial")
            verdict.append((*key, True, invariant, row["mean"], row["variance"], v))
    idx = ["group_1", "group_2", "construct"]
    frames = {
        "compositional": pd.DataFrame(comp, columns=[*idx, "c", "c_quantile", "p_value", "invariant", "permutations"]),
        "means": pd.DataFrame(means, columns=[*idx, "estimate", "ci_low", "ci_high", "p_value", "equal",
                                              "permutations"]),
        "variances": pd.DataFrame(variances, columns=[*idx, "estimate", "ci_low", "ci_high", "p_value", "equal",
                                                      "permutations"]),
        "verdict": pd.DataFrame(verdict, columns=[*idx, "configural", "compositional", "equal_means",
                                                  "equal_variances", "invariance"]),
    }
    frames = {k: v.set_index(idx) for k, v in frames.items()}
    frames["configural"] = pd.DataFrame(
        [(g, int(prep.sizes[i]), raws[i].n_iter, raws[i].converged) for i, g in enumerate(groups)],
        columns=["group", "n", "iterations", "converged"]).set_index("group")
    return frames, b - int(ok.sum())


def _path_index(spec) -> list[tuple[int, int, str, str]]:
    col = {c: j for j, c in enumerate(spec.constructs)}
    return [(col[s], col[t], s, t) for s, t in spec.paths]


def group_bootstrap(fit, x, labels, g, n_boot, rng, progress, who, name):
    """Bootstrap paths (B_ok, k, k) of group ``g`` (resampling within the group)."""
    from .._stats.bootstrap import resample_counts

    rows = np.flatnonzero(labels == g)
    out, oks = [], []
    for start in chunks(n_boot, progress, f"bootstrap group {name}"):
        bb = min(CHUNK, n_boot - start)
        counts = np.zeros((bb, x.shape[0]))
        counts[:, rows] = resample_counts(rng, bb, rows.size)
        est = batch_estimates(fit, x, counts)
        out.append(est.paths)
        oks.append(est.ok)
    ok = np.concatenate(oks)
    n_failed = int((~ok).sum())
    if n_failed:
        warnings.warn(f"{who}: {n_failed} of {n_boot} bootstrap resamples of group {name!r} were excluded "
                      "(a constant indicator, no convergence or non-finite estimates such as a negative rho_A under "
                      "PLSc)", ConvergenceWarning, stacklevel=4)
    if ok.sum() < 2:
        raise InsufficientDataError(f"{who}: fewer than 2 bootstrap resamples of group {name!r} could be estimated")
    return np.concatenate(out)[ok]


def run_mga(prep: Prepared, *, method: str, permutations, n_boot: int, seed: int, progress: bool, who: str = "mga"):
    fit, x, labels, groups = prep.fit, prep.x, prep.labels, prep.groups
    n_groups = len(groups)
    rng = np.random.default_rng(seed)
    raws = [estimate_group(fit, x[labels == g], who=who, name=groups[g]) for g in range(n_groups)]
    pidx = _path_index(fit._spec)
    rr = [r for r, _, _, _ in pidx]
    cc = [c for _, c, _, _ in pidx]
    est = np.array([[raw.paths[r, c] for r, c, _, _ in pidx] for raw in raws])  # (G, m)
    n_used = None
    if method == "permutation":
        perm = _perm_matrix(permutations, labels, rng, who=who)
        b = perm.shape[0]
        ref = np.empty((b, n_groups, len(pidx)))
        ok = np.ones(b, dtype=bool)
        for start in chunks(b, progress, "MGA permutations"):
            _, paths, okc = grouped_batch(fit, x, perm[start : start + CHUNK], n_groups)
            ref[start : start + CHUNK] = paths[:, :, rr, cc]
            ok[start : start + CHUNK] = okc
        _drop_failed(ok, b, who, "permutations")
        ref = ref[ok]
        n_used = int(ok.sum())
    else:
        boots = [group_bootstrap(fit, x, labels, g, n_boot, rng, progress, who, groups[g])[:, rr, cc]
                 for g in range(n_groups)]
    rows = []
    for g1, g2 in pairs(n_groups):
        diff = est[g1] - est[g2]
        n1, n2 = int(prep.sizes[g1]), int(prep.sizes[g2])
        if method == "permutation":
            d_ref = ref[:, g1] - ref[:, g2]
            t = _tie(diff)
            p = (d_ref >= np.abs(diff) - t).mean(axis=0) + (d_ref <= -np.abs(diff) + t).mean(axis=0)
            stat = {"p_value": p, "permutations": np.full(diff.size, n_used)}
        elif method == "henseler":
            p1 = henseler_p(boots[g1], boots[g2])
            stat = {"boot_mean_1": boots[g1].mean(axis=0), "boot_mean_2": boots[g2].mean(axis=0),
                    "p_one_sided": p1, "p_value": 2 * np.minimum(p1, 1 - p1),
                    "n_boot_1": np.full(diff.size, len(boots[g1])), "n_boot_2": np.full(diff.size, len(boots[g2]))}
        else:
            se1, se2 = boots[g1].std(axis=0, ddof=1), boots[g2].std(axis=0, ddof=1)
            t, df, p = welch(diff, se1, se2, n1, n2)
            stat = {"se_1": se1, "se_2": se2, "t": t, "df": df, "p_value": p}
        for j, (_, _, s, tname) in enumerate(pidx):
            row = {"group_1": groups[g1], "group_2": groups[g2], "from": s, "to": tname,
                   "estimate_1": est[g1, j], "estimate_2": est[g2, j], "estimate": diff[j]}
            row.update({k: v[j] for k, v in stat.items()})
            row.update({"n_1": n1, "n_2": n2})
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["group_1", "group_2", "from", "to"])
    groups_frame = pd.DataFrame(
        [(g, int(prep.sizes[i]), raws[i].n_iter, raws[i].converged) for i, g in enumerate(groups)],
        columns=["group", "n", "iterations", "converged"]).set_index("group")
    return table, groups_frame


def _batch_predict(fit, x, train: np.ndarray, technique: str, endo_cols: np.ndarray):
    """Item predictions (B, n, e) of the endogenous items for every row, from models trained on the
    rows weighted 1 in ``train`` (B, n); also the training means of those items (B, e) and ok (B,)."""
    spec = fit._spec
    cons = spec.constructs
    k = len(cons)
    endo = [cons.index(c) for c in spec.endogenous]
    exo = [j for j in range(k) if j not in endo]
    est = batch_estimates(fit, x, train)
    ntr = train.sum(axis=1)[:, None]
    mean = train @ x / ntr
    var = (train @ (x * x) - ntr * mean * mean) / (ntr - 1)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant training item: marked not ok
        z = (x[None] - mean[:, None, :]) / sd[:, None, :]
        scores = z @ est.weights  # (B, n, k)
    paths = est.paths
    if technique == "earliest":
        eye = np.eye(k)
        total = np.linalg.inv(eye - paths) - eye
        pred = scores[:, :, exo] @ total[:, exo][:, :, endo]
    else:
        pred = scores @ paths[:, :, endo]
    load = est.loadings[:, endo_cols][:, :, endo]  # (B, e, |endo|)
    items = pred @ load.transpose(0, 2, 1)
    items = items * sd[:, None, endo_cols] + mean[:, None, endo_cols]
    return items, mean[:, endo_cols], est.ok


def run_plspredict(fit, *, fold_matrix: np.ndarray, technique: str, benchmark: str, progress: bool,
                   who: str = "plspredict"):
    x = fit._x
    spec = fit._spec
    n, p = x.shape
    items = spec.items
    endo_cons = spec.endogenous
    endo_items = [i for c in endo_cons for i in spec.blocks[c]]
    endo_cols = np.array([items.index(i) for i in endo_items])
    exo_items = [i for c in spec.constructs if c not in endo_cons for i in spec.blocks[c]]
    exo_cols = np.array([items.index(i) for i in exo_items])
    reps, _ = fold_matrix.shape
    n_folds = int(fold_matrix.max()) + 1
    tasks = [(r, f) for r in range(reps) for f in range(n_folds)]
    train = np.stack([(fold_matrix[r] != f).astype(float) for r, f in tasks])
    pls_pred = np.zeros((reps, n, len(endo_cols)))
    lm_pred = np.zeros_like(pls_pred)
    naive = np.zeros_like(pls_pred)
    ok_all = np.ones(len(tasks), dtype=bool)
    xc = x - x.mean(axis=0)  # centring does not change OLS predictions; it helps their accuracy
    step = max(1, min(CHUNK, int(5e6 // max(1, n * p))))
    it = range(0, len(tasks), step)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="PLSpredict", unit="chunk", total=len(it))
    for start in it:
        sl = slice(start, start + step)
        tr = train[sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            items_hat, means, ok = _batch_predict(fit, x, tr, technique, endo_cols)
        ok_all[sl] = ok
        if not ok.all():
            break
        if benchmark == "exogenous":
            lm = ols_predict(xc[:, exo_cols], x[:, endo_cols], tr, xc[:, exo_cols])
        else:  # seminr: each endogenous construct's items on every other item of the model
            parts = []
            for c in endo_cons:
                own = [items.index(i) for i in spec.blocks[c]]
                others = [j for j in range(p) if j not in own]
                parts.append(ols_predict(xc[:, others], x[:, own], tr, xc[:, others]))
            lm = np.concatenate(parts, axis=2)
        for b_local, (r, f) in enumerate(tasks[sl]):
            test = fold_matrix[r] == f
            pls_pred[r, test] = items_hat[b_local, test]
            lm_pred[r, test] = lm[b_local, test]
            naive[r, test] = means[b_local]
    if not ok_all.all():
        bad = [tasks[i] for i in np.flatnonzero(~ok_all)]
        raise InsufficientDataError(
            f"{who}: the model could not be estimated on {len(bad)} training set(s) (repetition, fold) "
            f"{[(r + 1, f + 1) for r, f in bad[:5]]}: a constant indicator in the training rows or no "
            "convergence; use fewer folds")
    y = x[:, endo_cols]
    out = {}
    preds = {"PLS": pls_pred.mean(axis=0), "LM": lm_pred.mean(axis=0)}
    naive_m = naive.mean(axis=0)
    sse_naive = ((y - naive_m) ** 2).sum(axis=0)
    for name in ("PLS", "LM"):
        e = y - preds[name]
        out[name] = pd.DataFrame({
            "q2_predict": 1 - (e**2).sum(axis=0) / sse_naive,
            "rmse": np.sqrt((e**2).mean(axis=0)),
            "mae": np.abs(e).mean(axis=0),
        }, index=pd.Index(endo_items, name="item"))
    out["CVPAT"] = cvpat(y, preds["PLS"], {"IA": naive_m, "LM": preds["LM"]})
    return out, preds, endo_items, exo_items


def cvpat(y: np.ndarray, pls_pred: np.ndarray, benchmarks: dict) -> pd.DataFrame:
    """CVPAT (Liengaard et al., 2021; Sharma et al., 2023) against each benchmark: per observation the
    loss ``L_i`` = mean squared prediction error over the endogenous indicators; ``D_i = L_bench,i -
    L_PLS,i``; ``t = mean(D) / (sd(D) / sqrt(n))`` with ``n - 1`` df; one-sided p for "PLS predicts
    better" (``1 - pt(t, n - 1)``) and the two-sided p (cSEM ``testCVPAT``)."""
    from scipy import stats

    n = y.shape[0]
    loss_pls = ((y - pls_pred) ** 2).mean(axis=1)
    rows = []
    for name, pred in benchmarks.items():
        loss_b = ((y - pred) ** 2).mean(axis=1)
        d = loss_b - loss_pls
        se = d.std(ddof=1) / np.sqrt(n)
        t = d.mean() / se
        rows.append((name, loss_pls.mean(), loss_b.mean(), d.mean(), se, t, n - 1,
                     float(stats.t.sf(t, n - 1)), float(2 * stats.t.sf(abs(t), n - 1)), n))
    return pd.DataFrame(rows, columns=["benchmark", "loss_pls", "loss_benchmark", "estimate", "se", "t", "df",
                                       "p_value", "p_two_sided", "n"]).set_index("benchmark")
