"""Measurement invariance across groups: the guided configural → metric →
scalar → strict sequence, partial invariance and latent mean differences.

Each level is a multi-group :class:`custval.cfa.CFA` with lavaan's
``group.equal`` constraints; adjacent levels are compared with the
likelihood-ratio (chi-square difference) test of ``lavaan::lavTestLRT`` --
for ``estimator="MLR"`` the Satorra-Bentler (2001) scaled difference -- and
with the changes in CFI, RMSEA and SRMR judged by stated criteria.  Incomplete
respondents are excluded listwise or kept by full-information ML (``missing="fiml"``,
lavaan ``missing = "ml"``).  Ordered items (``estimator="WLSMV", ordered=True``) follow the
Wu & Estabrook (2016) ladder configural → thresholds → metric → scalar (→ strict, theta
parameterization) with ``semTools::measEq.syntax``'s identification and lavaan's scaled-shifted
difference tests, for polytomous and binary items, complete cases or pairwise.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ._results import ResultMixin
from ._sem.spec import measurement_blocks, model_and_data, one_statement_per_line
from .exceptions import (
    ConvergenceWarning,
    CustvalError,
    FewItemsWarning,
    IdentificationError,
    InsufficientDataError,
    InvarianceWarning,
    MissingDataWarning,
    SpecificationError,
)

__all__ = [
    "CRITERIA",
    "InvarianceResult",
    "measurement_invariance",
    "ScaledDifferenceResult",
    "rank_invariance_candidates",
    "scaled_difference_test",
]

#: constraints added level by level (lavaan ``group.equal`` names)
LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
_NEW_TYPE = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}

#: the Wu & Estabrook (2016) ladder for ordered items (``measEq.syntax`` ``group.equal``)
ORDINAL_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
    "strict": ("thresholds", "loadings", "intercepts", "residuals"),
}
#: the levels fitted by default with ordered items (``"strict"`` on request, theta only)
ORDINAL_DEFAULT = ("configural", "thresholds", "metric", "scalar")

#: the decision rules on offer; ``criteria=`` takes one name or a tuple (all must pass)
CRITERIA: dict[str, str] = {
    "chen2007": (
        "Chen (2007), N > 300: non-invariance when CFI drops by >= .010 together with RMSEA rising by "
        ">= .015 or SRMR rising by >= .030 (metric) / >= .010 (scalar, strict)"
    ),
    "cheung_rensvold2002": "Cheung & Rensvold (2002): non-invariance when CFI drops by more than .01",
    "chisq": "chi-square difference test (scaled for MLR): non-invariance when p < alpha",
}

_REFERENCES = (
    "Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance. "
    "Structural Equation Modeling, 14(3), 464-504. https://doi.org/10.1080/10705510701301834; "
    "Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing "
    "measurement invariance. Structural Equation Modeling, 9(2), 233-255. "
    "https://doi.org/10.1207/S15328007SEM0902_5"
)


# --------------------------------------------------------------------------- helpers
def _split_free(free) -> tuple[tuple[str, ...], dict[str, tuple]]:
    """``free`` as (parameters free in every group, {parameter: groups it is free in})."""
    if isinstance(free, str):
        free = (free,)
    everywhere: list[str] = []
    named: dict[str, tuple] = {}
    items = free.items() if isinstance(free, Mapping) else [
        (e, None) if isinstance(e, str) else tuple(e) for e in free
    ]
    for entry in items:
        if len(entry) != 2:
            raise SpecificationError(f"free= entries are 'param' or ('param', [groups]); got {entry!r}")
        param, groups = entry
        (norm,) = _normalize_free((param,))
        if groups is None:
            everywhere.append(norm)
        else:
            groups = (groups,) if isinstance(groups, str) else tuple(groups)
            if not groups:
                raise SpecificationError(f"free={{{param!r}: ...}} names no group")
            named[norm] = groups
    return tuple(everywhere), named


def _named_at(named: dict, equal: tuple[str, ...]) -> dict:
    """The per-group releases whose parameter type (loadings, intercepts, residuals) ``equal``
    equates; the others are free in every group at that level anyway."""
    def kind(param):
        return "loadings" if " =~ " in param else "intercepts" if param.endswith(" ~ 1") else "residuals"
    return {p: g for p, g in named.items() if kind(p) in equal}


def _normalize_free(free) -> tuple[str, ...]:
    """``free`` entries as ``'lhs op rhs'`` (``'x3 ~ 1'``, ``'visual =~ x2'``, ``'x3 ~~ x3'``)."""
    if isinstance(free, str):
        free = (free,)
    out = []
    for entry in free:
        if not isinstance(entry, str):
            raise SpecificationError(
                f"free= takes parameter strings such as 'x3 ~ 1' or 'visual =~ x2'; got {entry!r}"
            )
        th = re.fullmatch(r"\s*([A-Za-z_.][\w.]*)\s*\|\s*(t[0-9]+)\s*", entry)
        if th:  # a threshold of an ordered item, lavaan's "item|t2"
            out.append(f"{th.group(1)}|{th.group(2)}")
            continue
        m = re.fullmatch(r"\s*([A-Za-z_.][\w.]*)\s*(=~|~~|~)\s*([A-Za-z_.0-9][\w.]*)\s*", entry)
        if not m:
            raise SpecificationError(
                f"cannot read the parameter {entry!r} in free=; use 'item ~ 1' (intercept), "
                "'factor =~ item' (loading), 'item ~~ item' (residual variance) or 'item|t2' (threshold "
                "of an ordered item)"
            )
        lhs, op, rhs = m.groups()
        if op == "~" and rhs != "1":
            raise SpecificationError(f"{entry!r}: only intercepts ('item ~ 1') can be freed with '~'")
        out.append(f"{lhs} {op} {rhs}")
    return tuple(out)


def _group_specific(syntax: str, blocks: dict, named: dict, labels: list, marker: bool = True) -> str:
    """Rewrite ``syntax`` so that each parameter in ``named`` is free in the named groups and
    equal across the others, through per-group labels (lavaan ``c(a, a, b)*x``); ``marker=False``
    (latent variances fixed instead, as the ordinal ladder's ``std.lv``) lets the first loading be released."""
    if not named:
        return syntax
    lines = one_statement_per_line(syntax).split("\n")  # continuation lines joined, comments dropped
    str_labels = [str(g) for g in labels]
    for n, (param, groups) in enumerate(named.items()):
        unknown = [g for g in groups if str(g) not in str_labels]
        if unknown:
            raise SpecificationError(
                f"free={{{param!r}: {list(groups)}}}: unknown group(s) {unknown}; groups are {str_labels}"
            )
        names = {str(g) for g in groups}
        mods = [f"cv{n}g{k}" if lab in names else f"cv{n}eq" for k, lab in enumerate(str_labels)]
        mod = f"c({', '.join(mods)})"
        lhs, op, rhs = param.split(" ")
        if op == "~":
            lines.append(f"{lhs} ~ {mod}*1")
        elif op == "~~":
            if lhs != rhs:
                raise SpecificationError(f"{param!r}: only residual variances ('x ~~ x') can be freed per group")
            lines.append(f"{lhs} ~~ {mod}*{lhs}")
        else:
            if lhs not in blocks or rhs not in blocks[lhs]:
                raise SpecificationError(f"{param!r} is not a loading of the model")
            if marker and blocks[lhs][0] == rhs:
                raise SpecificationError(
                    f"{param!r} is the marker loading (fixed at 1 in every group); free another loading"
                )
            done = False
            for i, line in enumerate(lines):
                code = line.split("#", 1)[0]
                if "=~" not in code or code.split("=~", 1)[0].strip() != lhs:
                    continue
                left, right = code.split("=~", 1)
                terms = right.split("+")
                for j, term in enumerate(terms):
                    if term.strip() == rhs:
                        terms[j] = f" {mod}*{rhs} "
                        done = True
                    elif term.strip().endswith(f"*{rhs}"):
                        raise SpecificationError(
                            f"{param!r} already has a modifier in the model ({term.strip()!r}); "
                            "label it per group in the syntax instead"
                        )
                lines[i] = f"{left}=~{'+'.join(terms)}"
            if not done:
                raise SpecificationError(f"could not find {param!r} in the model syntax")
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class ScaledDifferenceResult(ResultMixin):
    r"""Satorra-Bentler (2001) scaled chi-square difference test of two nested models.

    ``chisq_diff`` is the scaled difference :math:`T_d` (also ``estimate``), ``df_diff``
    the difference in degrees of freedom, ``scaling_factor`` :math:`c_d` and ``p_value``
    the upper tail of :math:`\chi^2_{df_{diff}}` at :math:`T_d`.  A non-positive
    :math:`c_d` makes the test undefined: ``chisq_diff`` and ``p_value`` are NaN and
    ``note`` says why.

    Attributes
    ----------
    chisq_diff : float
        The scaled difference statistic :math:`T_d`; NaN when :math:`c_d \le 0`.
    df_diff : float
        Difference in degrees of freedom.
    scaling_factor : float
        The scaling factor :math:`c_d` of the difference.
    p_value : float
        Upper tail of :math:`\chi^2_{df_{diff}}` at :math:`T_d`; NaN when :math:`c_d \le 0`.
    note : str
        Why the test is undefined, or ``""``.
    r_call : str
        The equivalent lavaan call.
    convention : str
        The formulas used.

    See Also
    --------
    custval.invariance.scaled_difference_test : The function that returns it.
    """

    chisq_diff: float
    df_diff: float
    scaling_factor: float
    p_value: float
    note: str = ""
    r_call: str = 'lavaan::lavTestLRT(fit0, fit1, method = "satorra.bentler.2001")'
    convention: str = "c_d = (df1 c1 - df0 c0) / (df1 - df0), T_d = (T1 - T0) / c_d; model 0 less restricted"

    _title = "Scaled chi-square difference test (Satorra-Bentler 2001)"

    @property
    def estimate(self) -> float:
        """The scaled difference statistic (same as ``chisq_diff``).

        See Also
        --------
        custval.invariance.scaled_difference_test : Computes the statistic.
        """
        return self.chisq_diff

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"estimate": [self.chisq_diff], "df": [self.df_diff], "scaling_factor": [self.scaling_factor],
             "p_value": [self.p_value]},
            index=["chisq_diff"],
        )

    def _notes(self) -> list[str]:
        return [*super()._notes(), *([f"Note: {self.note}"] if self.note else [])]


def _scaled_difference(chisq0, df0, c0, chisq1, df1, c1) -> tuple[float, float]:
    """``(T_d, c_d)`` of :func:`scaled_difference_test`; ``T_d`` is NaN when ``c_d`` is not positive."""
    if df0 == 0:  # a just-identified model 0 has no scaling factor: lavaan sets c0 = 1 (it drops out)
        c0 = 1.0
    cd = (df1 * c1 - df0 * c0) / (df1 - df0)
    if not cd > 0:
        return float("nan"), float(cd)
    return float((chisq1 - chisq0) / cd), float(cd)


def scaled_difference_test(chisq0, df0, c0, chisq1, df1, c1) -> ScaledDifferenceResult:
    r"""Satorra-Bentler (2001) scaled chi-square difference.

    Model 0 is the less restricted (smaller df).  With the scaling factors
    :math:`c = T/T_{\mathrm{scaled}}` (lavaan's ``chisq.scaling.factor``),

    .. math:: c_d = \frac{df_1 c_1 - df_0 c_0}{df_1 - df_0},\quad
              T_d = \frac{T_1 - T_0}{c_d}

    as ``lavaan::lavTestLRT(method = "satorra.bentler.2001")``; the p-value is the
    upper tail of :math:`\chi^2` with :math:`df_1 - df_0` degrees of freedom.  A
    just-identified model 0 (:math:`df_0 = 0`) has no scaling factor; as lavaan, ``c0``
    is then taken as 1 (it drops out of :math:`c_d`).

    Parameters
    ----------
    chisq0, df0, c0 : float
        Unscaled chi-square, degrees of freedom and scaling factor of the less
        restricted model.
    chisq1, df1, c1 : float
        The same for the more restricted model.

    Returns
    -------
    ScaledDifferenceResult
        ``chisq_diff`` (:math:`T_d`), ``df_diff``, ``scaling_factor`` (:math:`c_d`),
        ``p_value``.  A non-positive :math:`c_d` makes the test undefined: ``chisq_diff``
        and ``p_value`` are NaN, with the reason in ``note``.

    Raises
    ------
    SpecificationError
        ``df1`` is not larger than ``df0`` (the models are not nested in that order).

    See Also
    --------
    custval.invariance.measurement_invariance : Uses this test for MLR fits.

    Examples
    --------
    >>> res = scaled_difference_test(100.0, 48, 1.10, 110.0, 54, 1.08)
    >>> print(round(res.chisq_diff, 4), round(res.scaling_factor, 4), res.df_diff, round(res.p_value, 4))
    10.8696 0.92 6 0.0925

    In R: ``lavaan::lavTestLRT(fit0, fit1, method = "satorra.bentler.2001")``.
    """
    if not df1 > df0:
        raise SpecificationError(
            f"scaled_difference_test: model 0 must be the less restricted one (df0 < df1); got df0 = {df0}, "
            f"df1 = {df1}")
    t, cd = _scaled_difference(chisq0, df0, c0, chisq1, df1, c1)
    ddf = df1 - df0
    note = ""
    if np.isnan(t):
        note = f"the scaled difference is undefined: its scaling factor c_d = {cd:.4g} is not positive"
    p = float(stats.chi2.sf(t, ddf)) if np.isfinite(t) else float("nan")
    return ScaledDifferenceResult(chisq_diff=t, df_diff=ddf, scaling_factor=cd, p_value=p, note=note)


def _satorra2000(fit1, fit0) -> tuple[float, float]:
    """lavaan's scaled-shifted difference test of two nested (D)WLS fits with ordered items
    (``lav_test_diff_Satorra2000(m1, m0, H1 = TRUE, A.method = "delta", scaled.shifted =
    TRUE)``, ``lavTestLRT``'s default for WLSMV).  ``fit1`` is the less restricted model; every
    matrix is taken at its estimates except ``Delta0``.  Returns ``(T_d, df_d)``."""
    p1, p0 = fit1._wls_parts, fit0._wls_parts
    t1, r1 = float(fit1.fit_measures_["chisq"]), float(fit1.fit_measures_["df"])
    t0, r0 = float(fit0.fit_measures_["chisq"]), float(fit0.fit_measures_["df"])
    m = r0 - r1
    if m <= 0:
        return float(t0 - t1), m
    d1 = np.vstack(p1["jacobians"])
    # the restrictions: the orthogonal complement of H = Delta1^+ Delta0 (lavaan's A)
    h = np.linalg.pinv(d1) @ np.vstack(p0["jacobians"])
    u, sv, _ = np.linalg.svd(h)
    rank = int(np.sum(sv > max(h.shape) * np.finfo(float).eps * sv[0]))
    a = u[:, rank:].T
    p_inv = np.linalg.inv(p1["information"])
    apa = a @ p_inv @ a.T
    tol = np.sqrt(np.finfo(float).eps)
    a = a[~((np.abs(apa.sum(axis=0)) < tol) & (np.abs(apa.sum(axis=1)) < tol))]
    paap = p_inv @ a.T @ np.linalg.pinv(a @ p_inv @ a.T) @ a @ p_inv
    fg = p1["n"] / p1["n"].sum()
    tr = sum(f * float(np.trace((w[:, None] * gm * w[None, :]) @ j @ paap @ j.T))
             for f, j, w, gm in zip(fg, p1["jacobians"], p1["weights"], p1["gamma"]))
    v = np.concatenate(p1["weights"])
    ug = (v[:, None] * (d1 @ paap @ d1.T) * v[None, :]) @ linalg.block_diag(
        *[f * gm for f, gm in zip(fg, p1["gamma"])])
    tr2 = float(np.sum(ug * ug.T))
    if not tr2 > 0:
        return float("nan"), m
    scale = np.sqrt(m / tr2)
    return float((t0 - t1) * scale + m - scale * tr), m


def _get(fm, *names):
    for name in names:
        if name in fm.index and pd.notna(fm[name]):
            return float(fm[name])
    return float("nan")


def _fit_row(level: str, cfa, estimator: str) -> dict:
    fm = cfa.fit_measures_
    row = {
        "level": level,
        "npar": _get(fm, "npar"),
        "chisq": _get(fm, "chisq"),
        "df": _get(fm, "df"),
        "pvalue": _get(fm, "pvalue"),
        "cfi": _get(fm, "cfi"),
        "tli": _get(fm, "tli"),
        "rmsea": _get(fm, "rmsea"),
        "srmr": _get(fm, "srmr"),
    }
    if estimator == "WLSMV":
        row.update(
            chisq_scaled=_get(fm, "chisq.scaled"),
            scaling_factor=_get(fm, "chisq.scaling.factor"),
            pvalue_scaled=_get(fm, "pvalue.scaled"),
            cfi_scaled=_get(fm, "cfi.scaled"),
            tli_scaled=_get(fm, "tli.scaled"),
            rmsea_scaled=_get(fm, "rmsea.scaled"),
        )
    if estimator == "MLR":
        row.update(
            chisq_scaled=_get(fm, "chisq.scaled"),
            scaling_factor=_get(fm, "chisq.scaling.factor"),
            pvalue_scaled=_get(fm, "pvalue.scaled"),
            cfi_robust=_get(fm, "cfi.robust"),
            tli_robust=_get(fm, "tli.robust"),
            rmsea_robust=_get(fm, "rmsea.robust"),
            cfi_scaled=_get(fm, "cfi.scaled"),
            rmsea_scaled=_get(fm, "rmsea.scaled"),
        )
    return row


def _difference(prev: dict, cur: dict, estimator: str, fits=None) -> dict:
    ddf = cur["df"] - prev["df"]
    note = ""
    if estimator == "WLSMV":
        if cur["df"] < prev["df"]:
            # not nested (binary items under Wu & Estabrook's identification: the scalar model
            # frees their scale factors); lavTestLRT sorts the pair by df, as here
            d, ddf = _satorra2000(fits[1], fits[0])
            note = (f"not nested in the previous level: this level has {prev['df'] - cur['df']:g} df fewer; the "
                    "difference is lavTestLRT's for the pair sorted by df (previous level as the restricted model)")
        else:
            d, ddf = _satorra2000(*fits)
            if ddf == 0:
                note = "0 df: the same fit as the previous level (equivalent models)"
        cfi_key, rmsea_key = "cfi_scaled", "rmsea_scaled"
    elif estimator == "MLR":
        d, _ = _scaled_difference(prev["chisq"], prev["df"], prev["scaling_factor"],
                                  cur["chisq"], cur["df"], cur["scaling_factor"])
        cfi_key = "cfi_robust" if np.isfinite(cur["cfi_robust"]) else "cfi_scaled"
        rmsea_key = "rmsea_robust" if np.isfinite(cur["rmsea_robust"]) else "rmsea_scaled"
    else:
        d = cur["chisq"] - prev["chisq"]
        cfi_key, rmsea_key = "cfi", "rmsea"
    p = float(stats.chi2.sf(d, ddf)) if ddf > 0 and np.isfinite(d) else float("nan")
    return {
        "delta_chisq": d,
        "delta_df": ddf,
        "p_value": p,
        "delta_cfi": cur[cfi_key] - prev[cfi_key],
        "delta_rmsea": cur[rmsea_key] - prev[rmsea_key],
        "delta_srmr": cur["srmr"] - prev["srmr"],
        **({"note": note} if note else {}),
    }


def _passes(level: str, diff: dict, criteria, alpha: float) -> tuple[bool, str]:
    if callable(criteria):
        ok = bool(criteria(level, diff))
        return ok, "user criterion"
    names = (criteria,) if isinstance(criteria, str) else tuple(criteria)
    reasons = []
    ok_all = True
    for name in names:
        if name == "chen2007":
            srmr_cut = 0.030 if level == "metric" else 0.010
            fail = diff["delta_cfi"] <= -0.010 and (
                diff["delta_rmsea"] >= 0.015 or diff["delta_srmr"] >= srmr_cut
            )
            reasons.append(
                f"Chen 2007: dCFI {diff['delta_cfi']:+.4f}, dRMSEA {diff['delta_rmsea']:+.4f}, "
                f"dSRMR {diff['delta_srmr']:+.4f} (SRMR cut {srmr_cut:.3f})"
            )
        elif name == "cheung_rensvold2002":
            fail = diff["delta_cfi"] < -0.01
            reasons.append(f"Cheung & Rensvold 2002: dCFI {diff['delta_cfi']:+.4f}")
        elif name == "chisq":
            fail = diff["p_value"] < alpha
            reasons.append(f"chi-square difference p = {diff['p_value']:.4g} (alpha {alpha:g})")
        else:
            raise SpecificationError(
                f"unknown criterion {name!r}; choose from {', '.join(CRITERIA)} or pass a callable"
            )
        ok_all = ok_all and not fail
    return ok_all, "; ".join(reasons)


_MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml", "pairwise": "pairwise"}


def _check_missing(missing: str) -> str:
    if missing not in _MISSING or missing == "pairwise":
        raise SpecificationError(
            f"missing must be 'listwise' (complete cases) or 'fiml' (full-information ML, lavaan "
            f"missing = 'ml'); got {missing!r}"
        )
    return _MISSING[missing]


def _plain_label(label):
    """A group label as a plain Python value for messages (``3``, not ``np.int64(3)``)."""
    return label.item() if isinstance(label, np.generic) else label


def _check_groups(data: pd.DataFrame, group: str, syntax: str, missing: str = "listwise"):
    """Validate the data and exclude, with one warning each, rows without a group and rows the
    chosen missing-data method cannot use (listwise: any model item missing; FIML: every model
    item missing).  Returns ``(data, blocks, counts, accounting)``; ``accounting`` holds
    ``n_rows`` (rows in), ``n_used`` and ``n_excluded`` ({reason: rows})."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    if group not in data.columns:
        raise SpecificationError(f"group column {group!r} is not in the data")
    n_rows = len(data)
    excluded: dict[str, int] = {}
    missing_g = data[group].isna()
    if missing_g.any():
        rows = [int(i) for i in np.flatnonzero(missing_g.to_numpy())[:10]]
        warnings.warn(
            f"{int(missing_g.sum())} of {len(data)} rows have no value in the group column {group!r} "
            f"and are excluded (0-based positions, first 10: {rows})",
            MissingDataWarning,
            stacklevel=3,
        )
        excluded["no group"] = int(missing_g.sum())
        data = data.loc[~missing_g]
    blocks = measurement_blocks(syntax)
    for construct, items in blocks.items():
        if len(items) < 2:
            warnings.warn(
                f"construct {construct!r} has a single item ({items[0]}): its loading is fixed, so "
                "metric invariance says nothing about it",
                FewItemsWarning,
                stacklevel=3,
            )
    items = list(dict.fromkeys(i for its in blocks.values() for i in its))
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SpecificationError(f"item(s) of the model are not columns of the data: {', '.join(absent)}")
    na = data[items].isna()
    drop = na.any(axis=1) if missing == "listwise" else na.all(axis=1)
    labels_in = list(dict.fromkeys(data[group]))  # a group all of whose rows are excluded is named below
    if drop.any():
        pos = [int(i) for i in np.flatnonzero(drop.to_numpy())[:10]]
        what = (
            "at least one missing model item (listwise deletion; missing='fiml' keeps them)"
            if missing == "listwise" else "no observed model item (FIML needs at least one)"
            if missing == "fiml" else "no answer to any model item (pairwise deletion needs at least one)"
        )
        warnings.warn(
            f"{int(drop.sum())} of {len(data)} rows with a group have {what} and are excluded "
            f"(0-based positions among those rows, first 10: {pos})",
            MissingDataWarning,
            stacklevel=3,
        )
        excluded["incomplete items (listwise)" if missing == "listwise" else "no observed item"] = int(drop.sum())
        data = data.loc[~drop.to_numpy()]
    p = len(items)
    k = len(blocks)
    n_load = sum(len(v) - 1 for v in blocks.values())
    npar_group = p + p + n_load + k * (k + 1) // 2  # configural, per group
    counts = data[group].value_counts(sort=False)
    if len(counts) < 2:
        raise InsufficientDataError(f"the group column {group!r} has {len(counts)} group(s); need >= 2")
    emptied = [g for g in labels_in if counts.get(g, 0) == 0]
    if emptied:  # excluded rows took every respondent of these groups: name them, never drop them
        why = ("every row has a missing model item (listwise deletion; missing='fiml' keeps rows with at least "
               "one answer)" if missing == "listwise" else "no row answers any model item")
        raise InsufficientDataError(
            f"{group}(s) {', '.join(repr(_plain_label(g)) for g in emptied)} have no respondent left under "
            f"missing={missing!r}: {why}; drop them from the data or collect their answers")
    small = {str(g): int(counts.get(g, 0)) for g in labels_in if counts.get(g, 0) <= max(npar_group, p)}
    if small:
        raise InsufficientDataError(
            f"group(s) {small} (n per group, rows used under missing={missing!r}) have no more "
            f"respondents than the {npar_group} free parameters the configural model estimates in "
            f"each group ({p} items, {k} factors); merge or drop these groups"
        )
    accounting = {"n_rows": n_rows, "n_used": int(len(data)), "n_excluded": excluded}
    return data, blocks, counts, accounting


def _fit(syntax, data, group, estimator, equal, partial, missing="listwise"):
    from .cfa import CFA

    return CFA(
        syntax, estimator=estimator, missing=missing, group=group, group_equal=tuple(equal),
        group_partial=tuple(partial),
    ).fit(data)


def _fit_ordinal(syntax, data, group, equal, partial, parameterization, missing="listwise",
                 partial_groups=None, ordered=True):
    """One level of the Wu & Estabrook (2016) ladder (WLSMV, ``measEq.syntax``'s identification);
    ``partial_groups`` ({``"x|t1"`` / ``"x~1"``: 0-based group indices}) releases thresholds and
    intercepts in the named groups only; ``ordered`` is ``True`` or the list of ordered items
    (the others continuous)."""
    from .cfa import CFA

    cfa = CFA(syntax, estimator="WLSMV", ordered=ordered, group=group, std_lv=True, group_equal=tuple(equal),
              group_partial=tuple(partial), parameterization=parameterization, missing=missing)
    cfa._identification = "wu_estabrook2016"
    cfa._partial_groups = partial_groups or {}
    with warnings.catch_warnings():
        if missing == "pairwise":  # the rows without any answer are reported once by the ladder
            warnings.filterwarnings("ignore", message=r".*no answer to any item of the model",
                                    category=MissingDataWarning)
        return cfa.fit(data)


def _ordinal_per_group(free_named: dict, labels: list, continuous=()) -> tuple[dict, dict]:
    """Per-group releases with ordered items: ``({}, partial_groups)``.  Thresholds
    (``"x|t1"``), intercepts (``"x ~ 1"``) and loadings (``"f =~ x"``) go to the Wu & Estabrook
    design as ``{"x|t1" / "x~1" / "f=~x": 0-based group indices}`` (the parameter is released
    in the named groups only at the levels that equate it; the other groups share one).  The
    intercept of a ``continuous`` item is free in the first group too, so it can be released
    there."""
    str_labels = [str(g) for g in labels]
    loadings, partial_groups = {}, {}
    for param, groups in free_named.items():
        unknown = [g for g in groups if str(g) not in str_labels]
        if unknown:
            raise SpecificationError(
                f"free={{{param!r}: {list(groups)}}}: unknown group(s) {unknown}; groups are {str_labels}")
        idx = {str_labels.index(str(g)) for g in groups}
        if "|" in param:
            partial_groups[param] = idx
        elif param.endswith(" ~ 1"):
            if 0 in idx and param[:-4].strip() not in continuous:
                raise SpecificationError(
                    f"free={{{param!r}: {list(groups)}}}: with ordered items the intercepts of the first group "
                    f"({str_labels[0]!r}, the reference of the Wu & Estabrook identification) are fixed at 0; name "
                    "only other groups, or free the intercept in every group")
            partial_groups[param.replace(" ", "")] = idx
        elif " =~ " in param:
            partial_groups[param.replace(" ", "")] = idx
        else:
            raise SpecificationError(
                f"free={{{param!r}: ...}}: with ordered items only thresholds ('x|t1'), intercepts ('x ~ 1') and "
                "loadings ('f =~ x') can be released in some groups only")
    return loadings, partial_groups


def _ordered_arg(ordered):
    """``ordered=`` as ``False``, ``True`` or a list of item names (a single name is a list)."""
    if ordered is True or ordered is False or ordered is None:
        return bool(ordered)
    if isinstance(ordered, str):
        return [ordered]
    try:
        items = list(ordered)
    except TypeError:
        raise SpecificationError(f"ordered must be True, False or a list of item names; got {ordered!r}") from None
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise SpecificationError(f"ordered must be True, False or a list of item names; got non-names {bad}")
    return items


def _ordered_items(ordered, blocks: dict) -> tuple:
    """``(ordered, continuous)``: ``True`` when every item of the model is ordered, else the list
    of ordered items; the continuous items of the model in model order."""
    items = list(dict.fromkeys(i for its in blocks.values() for i in its))
    if ordered is True:
        return True, []
    unknown = [v for v in ordered if v not in items]
    if unknown:
        raise SpecificationError(f"ordered item(s) {unknown} are not items of the model ({', '.join(items)})")
    continuous = [v for v in items if v not in ordered]
    if not continuous:
        return True, []
    return [v for v in items if v in ordered], continuous


def _r_items(ordered) -> str:
    if ordered is True:
        return "items"
    return "c(" + ", ".join(f"'{v}'" for v in ordered) + ")"


def _converged(cfa) -> bool:
    return bool(getattr(cfa, "converged_", True))


def _latent_means(cfa, ci: float) -> pd.DataFrame:
    """Latent means of the non-reference groups (reference group fixed at 0) with Wald SEs."""
    pe = cfa.params_
    lv = list(dict.fromkeys(pe.loc[pe["op"] == "=~", "lhs"]))
    rows = pe[(pe["op"] == "~1") & (pe["lhs"].isin(lv))].copy()
    groups = list(dict.fromkeys(pe["group"]))
    ref = groups[0]
    rows = rows[rows["group"] != ref]
    labels = list(getattr(cfa, "group_labels_", groups))
    label_of = dict(zip(groups, labels))
    z = stats.norm.ppf(0.5 + ci / 2)
    out = pd.DataFrame(
        {
            "construct": rows["lhs"].to_numpy(),
            "group": [label_of.get(g, g) for g in rows["group"]],
            "reference": label_of.get(ref, ref),
            "estimate": rows["est"].to_numpy(dtype=float),
            "se": rows["se"].to_numpy(dtype=float),
        }
    )
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["p_value"] = 2 * stats.norm.sf(np.abs(out["estimate"] / out["se"]))
    # standardised by the reference group's latent SD (a latent Cohen's d)
    var = pe[(pe["op"] == "~~") & (pe["lhs"] == pe["rhs"]) & (pe["group"] == ref)].set_index("lhs")["est"]
    out["std"] = out["estimate"] / np.sqrt(out["construct"].map(var).astype(float))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class InvarianceResult(ResultMixin):
    """The invariance sequence: one row per level in ``table``.

    ``fits`` holds the fitted :class:`custval.cfa.CFA` per level (left out of ``==``: the
    numbers are in ``table``, and an estimator compares by identity); ``n_per_group`` the rows
    used per group; ``missing`` the missing-data method ("listwise" or "fiml"); ``n_rows``
    (rows in) = ``n_used`` + the rows in ``n_excluded`` ({reason: rows}: "no group",
    "incomplete items (listwise)" or "no observed item").

    Attributes
    ----------
    table : pandas.DataFrame
        One row per level fitted: fit measures, the difference test and the change in
        CFI / RMSEA / SRMR against the previous level, and the level's verdict.
    fits : dict
        ``{level: fitted CFA}``.
    highest : str or None
        The highest level that holds; ``None`` when the configural model did not converge.
    verdict : str
        The conclusion in words.
    latent_means : pandas.DataFrame or None
        Latent means against the reference group, from the scalar model (``None`` when
        scalar invariance does not hold).
    latent_means_level : str or None
        The level whose model gives ``latent_means`` (``"scalar"``), or ``None``.
    estimator : str
        ``"ML"``, ``"MLR"`` or ``"WLSMV"`` (ordered items).
    group : str
        The grouping column.
    n_per_group : dict
        ``{group: rows used}``.
    free : tuple of str
        Parameters released for partial invariance.
    criteria : str
        The decision criteria applied.
    difference_test : str
        The chi-square difference test used (plain or Satorra-Bentler scaled).
    convention : str
        The decision rule in words.
    r_call : str
        The equivalent lavaan / semTools calls.
    missing : str
        ``"listwise"`` or ``"fiml"``.
    n_rows : int or None
        Rows in; ``None`` when not recorded.
    n_used : int or None
        Rows used; ``None`` when not recorded.
    n_excluded : dict
        ``{reason: rows}`` excluded.

    See Also
    --------
    custval.invariance.measurement_invariance : The function that returns it.
    """

    table: pd.DataFrame
    fits: dict = dataclasses.field(compare=False)  # fitted models (estimators compare by identity)
    highest: str | None
    verdict: str
    latent_means: pd.DataFrame | None
    latent_means_level: str | None
    estimator: str
    group: str
    n_per_group: dict
    free: tuple[str, ...]
    criteria: str
    difference_test: str
    convention: str
    r_call: str
    missing: str = "listwise"
    n_rows: int | None = None
    n_used: int | None = None
    n_excluded: dict = dataclasses.field(default_factory=dict)

    _title = "Measurement invariance"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _notes(self) -> list[str]:
        notes = [f"Verdict: {self.verdict}", *super()._notes()]
        if self.n_rows is not None:
            excl = ", ".join(f"{v} {k}" for k, v in self.n_excluded.items()) or "none"
            notes.append(f"Rows: {self.n_rows} in = {self.n_used} used ({self.missing}) + "
                         f"{self.n_rows - self.n_used} excluded ({excl})")
        if self.latent_means is not None:
            with pd.option_context("display.width", 120):
                lm = self.latent_means[["construct", "group", "estimate", "se", "p_value", "std"]]
                notes.append(f"Latent means ({self.latent_means_level} model; reference "
                             f"{self.latent_means['reference'].iloc[0]} = 0):\n{lm.round(3).to_string(index=False)}")
        return notes

    def _display_frame(self) -> pd.DataFrame:
        fit_cols = (["chisq", "df", "chisq_scaled", "scaling_factor", "cfi_robust", "rmsea_robust"]
                    if self.estimator == "MLR" else
                    ["chisq", "df", "chisq_scaled", "cfi_scaled", "rmsea_scaled"] if self.estimator == "WLSMV"
                    else ["chisq", "df", "cfi", "rmsea"])
        cols = ["level", *fit_cols, "srmr", "delta_chisq", "delta_df", "p_value",
                "delta_cfi", "delta_rmsea", "delta_srmr", "verdict"]
        return self.table[[c for c in cols if c in self.table.columns]].set_index("level")


def measurement_invariance(
    data: pd.DataFrame,
    model,
    *,
    group: str,
    levels: tuple[str, ...] | None = None,
    estimator: str = "ML",
    missing: str = "listwise",
    free=(),
    criteria: str | tuple[str, ...] | Callable = "chen2007",
    alpha: float = 0.05,
    stop: bool = True,
    ci: float = 0.95,
    ordered: bool = False,
    parameterization: str = "delta",
) -> InvarianceResult:
    r"""Test configural, metric, scalar and strict invariance in sequence.

    Level :math:`m` adds lavaan ``group.equal`` constraints (metric:
    loadings; scalar: + intercepts; strict: + residual variances) and is
    compared with the previous level by

    * the chi-square difference :math:`\Delta\chi^2 = \chi^2_m - \chi^2_{m-1}`
      on :math:`\Delta df` (``estimator="ML"``), or the Satorra-Bentler (2001)
      scaled difference (``estimator="MLR"``), as ``lavaan::lavTestLRT``;
    * :math:`\Delta\mathrm{CFI}`, :math:`\Delta\mathrm{RMSEA}`,
      :math:`\Delta\mathrm{SRMR}` (for MLR the robust CFI/RMSEA of
      Brosseau-Liard & Savalei when available, else the scaled ones).

    A level *holds* when ``criteria`` are met (default ``"chen2007"``; see
    :data:`CRITERIA`).  The sequence stops at the first level that fails
    unless ``stop=False``.  ``free=`` releases parameters in every group
    (lavaan ``group.partial``: ``"x3 ~ 1"`` an intercept, ``"visual =~ x2"`` a
    loading, ``"x3 ~~ x3"`` a residual variance) for partial invariance;
    :func:`rank_invariance_candidates` suggests which.  Groups can be
    segments, firms or informant types (managers, operational staff,
    customers).  Latent mean differences (reference = first group, whose
    means are fixed at 0; Wald SEs and intervals; ``std`` divides by the
    reference group's latent SD) are reported from the scalar (or partial
    scalar) model once it holds.

    Parameters
    ----------
    data : pandas.DataFrame
        The items and the group column, one row per respondent.
    model : str, Instrument or dict
        lavaan measurement syntax, an Instrument or ``{construct: items}``.
        An Instrument's reverse-keyed items are fitted as ``min + max - x of its own scale``
        (not again on a frame from ``Instrument.keyed``).
    group : str
        Name of the grouping column.
    levels : tuple of str, optional
        Levels to fit, in order.  Default: ``("configural", "metric", "scalar", "strict")``,
        or with ordered items ``("configural", "thresholds", "metric", "scalar")`` (add
        ``"strict"`` with ``parameterization="theta"``).
    estimator : {"ML", "MLR", "WLSMV"}, default "ML"
        Estimator of every fit; ``"WLSMV"`` with ``ordered=True``.
    missing : {"listwise", "fiml", "pairwise"}, default "listwise"
        ``"listwise"`` (default; rows with any missing model item are excluded, with a
        :class:`~custval.exceptions.MissingDataWarning`), ``"pairwise"`` (ordered items only,
        lavaan's ``missing = "pairwise"``: every row with at least one answer is kept, each
        threshold uses the answers to its item and each polychoric correlation the rows that
        answered both items; rows without any answer are excluded with a MissingDataWarning and
        counted in ``n_excluded["no observed item"]``) or ``"fiml"`` (full-information ML,
        lavaan ``missing = "ml"``; ``"ml"`` is accepted as an alias): every row with at least
        one observed model item is used, which is unbiased when the data are missing at random
        (MAR; Enders & Bandalos, 2001).  Under FIML the chi-square is the likelihood ratio
        against the EM-estimated saturated model, CFI/TLI/RMSEA use the FIML baseline, the MLR
        robust indices are lavaan's FIML-corrected ones, and the MLR difference test is the
        Satorra-Bentler (2001) scaled difference of those statistics -- what
        ``lavTestLRT`` computes by default for ``missing = "ml"``.  The result reports
        ``n_rows`` (rows in) = ``n_used`` + the rows in ``n_excluded`` (by reason).
    free : str, tuple of str, mapping or pairs
        Parameters released for partial invariance: a string or a tuple of strings
        (free in every group, lavaan ``group.partial``), or a mapping
        ``{"x3 ~ 1": ["Grant-White"]}`` / pairs ``("x3 ~ 1", ["managers"])`` that free the
        parameter in the named groups only while it stays equal across the others
        (per-group labels, lavaan ``x3 ~ c(a, a, b)*1``).  With ordered items a mapping
        releases thresholds (``{"b2|t1": ["phone"]}``), loadings and intercepts (not in the
        first group, whose intercepts identify the latent responses) in the named groups only;
        see ``ordered``.
    criteria : str, tuple of str or callable, default "chen2007"
        A name in :data:`CRITERIA`, a tuple of names (all must pass) or
        ``callable(level, diff) -> bool``.
    alpha : float, default 0.05
        Level of the chi-square difference test when ``"chisq"`` is a criterion.
    stop : bool, default True
        Stop at the first level that fails.
    ci : float, default 0.95
        Level of the latent-mean Wald intervals.
    ordered : bool or list of str, default False
        ``True`` (with ``estimator="WLSMV"``): every item is an ordered category (lavaan
        ``ordered =``) and the Wu & Estabrook (2016) ladder is run -- configural, ``thresholds``
        (thresholds equal), ``metric`` (+ loadings), ``scalar`` (+ intercepts) -- with the
        identification of ``semTools::measEq.syntax(ID.cat = "Wu.Estabrook.2016", ID.fac =
        "std.lv")``: latent variances 1 and means 0 in the first group; once the thresholds are
        equal the item intercepts and scale factors (theta: residual variances) are free in the
        other groups, once the loadings are equal their latent variances, and once the
        intercepts are equal (all 0) their latent means.  Adjacent levels are compared by
        lavaan's scaled-shifted difference test (``lavTestLRT``'s default for WLSMV,
        ``lav_test_diff_Satorra2000``), dCFI / dRMSEA use the scaled indices.  ``free=``
        takes thresholds (``"A1|t2"``) for partial threshold invariance, and loadings and
        intercepts (``"A =~ A2"``, ``"C3 ~ 1"``: free in the other groups) as with ML.

        The intercept and scale of each item in each later group follow measEq.syntax's rule,
        with ``n_eq`` the item's thresholds equal to the first group's: the intercept is free when
        ``n_eq >= 1`` and the intercepts are not equal; the scale factor (theta: residual variance)
        when ``n_eq >= 2``, or ``n_eq >= 1`` with equal intercepts, and residual variances not
        equal.  So an item with all its thresholds free keeps its intercept and scale fixed, and
        a polytomous item with exactly one equal threshold is a SpecificationError (free all of
        its thresholds or keep two equal).  **Binary items** (two categories, one threshold) and
        mixtures of binary and polytomous items follow the same rule: a binary item's intercept is
        freed at the thresholds level, which is then the configural model reparametrised (0 df,
        the same chi-square; Wu & Estabrook, 2016), and its scale factor only at the scalar level,
        so with binary items the scalar model is *not nested* in the metric one (fewer df): its
        difference is lavTestLRT's for the pair sorted by df and an InvarianceWarning says so.
        **Strict** (``"strict"`` in ``levels``) equates the residual variances, which needs
        ``parameterization="theta"`` (they are all fixed at 1; measEq.syntax refuses delta).
        A release in some groups only (a mapping in ``free``) is applied group by group:
        ``n_eq`` is counted in each group (released thresholds are not equal to the first
        group's there), as measEq.syntax would do with that group's ``group.partial``.
        Missing answers: ``missing="listwise"`` or ``"pairwise"``.  Every category of every
        item must be used in every group (a DataValidationError names the item, group and
        counts).

        A list of item names (``ordered=["A1", "A2"]``, lavaan ``ordered = c("A1", "A2")``) runs
        the same ladder with the other items **continuous** (numeric columns; e.g. a 0-10
        recommendation score next to five-point items), as ``semTools::measEq.syntax(ordered =
        items, ID.cat = "Wu.Estabrook.2016")`` writes it: the ordered items follow the rules
        above; a continuous item's intercept is free in every group up to the ``scalar`` level
        (equal from there), its residual variance free in every group up to the ``strict`` level
        (equal there; ``strict`` still needs ``parameterization="theta"``, as measEq.syntax), its
        scale factor is 1.  The sample statistics are lavaan's for mixed items (means,
        variances, polyserial and Pearson correlations; see :class:`custval.cfa.CFA`).  A
        continuous item's intercept can be released (``"r1 ~ 1"``), also in the first group
        alone.  Listing every item is the same as ``True``.
    parameterization : {"delta", "theta"}, default "delta"
        Scale of the latent responses with ordered items (as :class:`custval.cfa.CFA`).

    Returns
    -------
    InvarianceResult

    Raises
    ------
    SpecificationError
        An unknown ``estimator``, level or criterion, or ``levels`` out of order; with ordered
        items ``"strict"`` under ``parameterization="delta"``, a per-group release of an
        ordered item's intercept in the first group or of a residual variance, an unknown group
        in ``free``, an ``ordered`` name that is not an item of the model.
    DataValidationError
        With ordered items, a category of an item is empty in one group (named with its counts);
        with ``ordered=[items]``, a continuous item that is not numeric (named with its dtype).

    Warns
    -----
    ConvergenceWarning
        A level's model did not converge; the sequence stops there.
    InvarianceWarning
        With ordered items, a level has fewer df than the previous one (binary items: scalar
        after metric), so the two are not nested.
    MissingDataWarning
        Rows excluded: no group, or incomplete (listwise) / without any answer (pairwise, FIML).

    See Also
    --------
    custval.invariance.rank_invariance_candidates : Which constraint to release for partial invariance.
    custval.gaps.form_invariance : Invariance between the provider and customer forms.

    References
    ----------
    Enders, C. K., & Bandalos, D. L. (2001). The relative performance of full information maximum
    likelihood estimation for missing data in structural equation models. *Structural Equation
    Modeling, 8*(3), 430-457.

    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
    *Structural Equation Modeling, 14*(3), 464-504.

    Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. *Structural Equation Modeling, 9*(2), 233-255.

    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. *Psychometrika, 66*(4), 507-514.

    Vandenberg, R. J., & Lance, C. E. (2000). A review and synthesis of the measurement
    invariance literature. *Organizational Research Methods, 3*(1), 4-70.

    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika, 81*(4),
    1014-1045.

    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of moment
    structures. In R. D. H. Heijmans et al. (Eds.), *Innovations in multivariate statistical
    analysis* (pp. 233-247). Kluwer.

    Examples
    --------
    >>> import pandas as pd
    >>> from custval import load_dataset
    >>> from custval.invariance import measurement_invariance
    >>> hs = load_dataset("holzinger_swineford1939").data
    >>> model = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...          "speed": ["x7", "x8", "x9"]}
    >>> res = measurement_invariance(hs, model, group="school")
    >>> cols = ["level", "chisq", "df", "delta_chisq", "p_value", "delta_cfi", "verdict"]
    >>> print(res.table[cols].round(4).to_string(index=False))
         level    chisq   df  delta_chisq  p_value  delta_cfi  verdict
    configural 115.8513 48.0          NaN      NaN        NaN baseline
        metric 124.0435 54.0       8.1922   0.2244    -0.0025    holds
        scalar 164.1028 60.0      40.0593   0.0000    -0.0385    fails
    >>> print(res.verdict)
    metric invariance holds; scalar fails; latent means are not compared (needs scalar invariance)

    Partial scalar invariance with the x3 and x7 intercepts free, then latent means:

    >>> res = measurement_invariance(hs, model, group="school", free=("x3 ~ 1", "x7 ~ 1"), levels=("configural", "metric", "scalar"))
    >>> print(res.verdict)
    scalar invariance holds with x3 ~ 1; x7 ~ 1 free (partial invariance)
    >>> print(res.latent_means[["construct", "group", "estimate", "se"]].round(3).to_string(index=False))
    construct       group  estimate    se
       visual Grant-White     0.051 0.129
      textual Grant-White     0.576 0.117
        speed Grant-White    -0.071 0.089

    With missing answers, ``missing="fiml"`` keeps the incomplete rows that listwise deletion
    drops (here 10 of the 301 rows lose x1):

    >>> import numpy as np
    >>> hs_na = hs.copy()
    >>> hs_na.loc[np.arange(0, 300, 30), "x1"] = np.nan
    >>> res = measurement_invariance(hs_na, model, group="school", missing="fiml", levels=("configural", "metric"))
    >>> print(res.n_rows, res.n_used, res.n_excluded)
    301 301 {}
    >>> print(res.table[["level", "chisq", "df", "delta_chisq"]].round(4).to_string(index=False))
         level    chisq   df  delta_chisq
    configural 113.6477 48.0          NaN
        metric 121.8862 54.0       8.2384

    Ordered items (bfi's six-category agreeableness and conscientiousness items by gender),
    the Wu & Estabrook (2016) ladder with scaled-shifted difference tests:

    >>> bfi = load_dataset("bfi").data
    >>> items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    >>> ac = {"A": items[:5], "C": items[5:]}
    >>> res = measurement_invariance(bfi.dropna(subset=items + ["gender"]), ac, group="gender",
    ...                              estimator="WLSMV", ordered=True, criteria="chisq", stop=False)
    >>> print(res.table[["level", "chisq", "df", "delta_chisq", "delta_df", "p_value"]].round(4).to_string(index=False))
         level    chisq    df  delta_chisq  delta_df  p_value
    configural 494.9444  68.0          NaN       NaN      NaN
    thresholds 510.4384  98.0      34.3708      30.0   0.2663
        metric 540.3375 106.0      21.0140       8.0   0.0071
        scalar 604.8400 114.0      44.3689       8.0   0.0000

    Yes/no items (binary) from a two-channel survey, the strict level under theta: the
    thresholds level has the configural fit (0 df), and the scalar level frees the binary
    items' scale factors (fewer df than metric, flagged as not nested):

    >>> import warnings
    >>> from custval.exceptions import InvarianceWarning
    >>> yn = pd.DataFrame({"channel": ["web"] * 600 + ["phone"] * 600})
    >>> rng = np.random.default_rng(3)
    >>> eta = rng.normal(size=1200)
    >>> for k in range(1, 6):
    ...     yn[f"b{k}"] = (0.7 * eta + 0.7 * rng.normal(size=1200) > 0.2 * k - 0.5).astype(int)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", InvarianceWarning)
    ...     res = measurement_invariance(yn, {"F": ["b1", "b2", "b3", "b4", "b5"]}, group="channel",
    ...                                  estimator="WLSMV", ordered=True, parameterization="theta",
    ...                                  levels=("configural", "thresholds", "metric", "scalar", "strict"),
    ...                                  criteria="chisq", stop=False)
    >>> print(res.table[["level", "df", "delta_df"]].to_string(index=False))
         level   df  delta_df
    configural 10.0       NaN
    thresholds 10.0       0.0
        metric 14.0       4.0
        scalar 13.0       1.0
        strict 18.0       5.0

    Five items ordered and five treated as continuous (``ordered=[items]``): the continuous
    items' intercepts are equated at the scalar level only:

    >>> mixed = measurement_invariance(bfi.dropna(subset=items + ["gender"]), ac, group="gender",
    ...                                estimator="WLSMV", ordered=["A1", "A2", "A3", "C1", "C2"],
    ...                                criteria="chisq", stop=False)
    >>> print(mixed.table[["level", "chisq", "df", "delta_chisq", "delta_df"]].round(4).to_string(index=False))
         level    chisq   df  delta_chisq  delta_df
    configural 344.5479 68.0          NaN       NaN
    thresholds 350.6503 83.0      13.4080      15.0
        metric 399.9992 91.0      31.4189       8.0
        scalar 447.2291 99.0      48.2956       8.0

    In R: ``lavaan::cfa(model, data, group = "school", group.equal = ...)`` per level and
    ``lavaan::lavTestLRT(configural, metric, scalar, strict)``; with ordered items
    ``semTools::measEq.syntax(model, data, ordered = items, ID.fac = "std.lv", ID.cat =
    "Wu.Estabrook.2016", group = "gender", group.equal = ..., return.fit = TRUE)`` per level
    and ``lavaan::lavTestLRT(configural, thresholds, metric, scalar)``; with some items
    continuous the same with ``ordered = c("A1", "A2", "A3", "C1", "C2")``
    (``tests/r/invariance_ordinal_mixed.R``).
    """
    estimator = str(estimator).upper()
    ordered = _ordered_arg(ordered)
    ordinal = bool(ordered) or estimator == "WLSMV"
    if ordinal and (estimator != "WLSMV" or not ordered):
        raise SpecificationError(
            "ordered items are tested with estimator='WLSMV' and ordered=True (every item of the model) or "
            f"ordered=[items] (the others continuous); got estimator={estimator!r}, ordered={ordered!r}")
    if not ordinal and estimator not in ("ML", "MLR"):
        raise SpecificationError(f"estimator must be 'ML', 'MLR' or, with ordered=True, 'WLSMV'; got {estimator!r}")
    if parameterization not in ("delta", "theta"):
        raise SpecificationError(f"parameterization must be 'delta' or 'theta'; got {parameterization!r}")
    if ordinal and missing not in ("listwise", "pairwise"):
        raise SpecificationError("the ordinal invariance ladder uses complete cases (missing='listwise') or every "
                                 f"answer (missing='pairwise', lavaan's pairwise polychorics); got missing={missing!r}")
    missing = missing if ordinal else _check_missing(missing)
    ladder = ORDINAL_LEVELS if ordinal else LEVELS
    levels = (ORDINAL_DEFAULT if ordinal else tuple(ladder)) if levels is None else tuple(levels)
    unknown = [lv for lv in levels if lv not in ladder]
    if unknown or not levels:
        raise SpecificationError(f"unknown level(s) {unknown}; choose from {', '.join(ladder)}")
    order = list(ladder)
    if [order.index(lv) for lv in levels] != sorted(order.index(lv) for lv in levels):
        raise SpecificationError(f"levels must be in the order {', '.join(ladder)}; got {levels}")
    if not callable(criteria):
        for name in (criteria,) if isinstance(criteria, str) else criteria:
            if name not in CRITERIA:
                raise SpecificationError(f"unknown criterion {name!r}; choose from {', '.join(CRITERIA)}")
    if ordinal and "strict" in levels and parameterization != "theta":
        raise SpecificationError(
            "the strict level (equal residual variances) with ordered items needs parameterization='theta': "
            "under 'delta' the residual variances are not parameters (semTools::measEq.syntax refuses it too)")
    free_all, free_named = _split_free(free)
    if any("|" in f for f in (*free_all, *free_named)) and not ordinal:
        raise SpecificationError("thresholds ('item|t2') can be freed only with ordered items (ordered=True)")
    syntax, data, keying = model_and_data(model, data)
    data, blocks, counts, accounting = _check_groups(data, group, syntax, missing)
    partial_groups = None
    continuous: list[str] = []
    if ordinal:
        ordered, continuous = _ordered_items(ordered, blocks)
        labelled, partial_groups = _ordinal_per_group(free_named, list(pd.unique(data[group])), continuous)
        syntax = _group_specific(syntax, blocks, labelled, list(pd.unique(data[group])), marker=False)
        free = (*free_all, *labelled)
    else:
        _group_specific(syntax, blocks, free_named, list(pd.unique(data[group])))  # checks the releases
        free = (*free_all, *free_named)  # lavaan group.partial: exempt from group.equal

    rows: list[dict] = []
    fits: dict = {}
    highest = None
    stopped = None
    for i, level in enumerate(levels):
        if ordinal:
            try:
                fit = _fit_ordinal(syntax, data, group, ORDINAL_LEVELS[level], free, parameterization, missing,
                                   partial_groups, ordered)
            except IdentificationError as exc:  # name the level (the earlier levels were fitted)
                done = f" (fitted: {', '.join(levels[:i])})" if i else ""
                stop = f"; levels={tuple(levels[:i])!r} stops before it" if i else ""
                raise IdentificationError(f"the {level} model of the invariance ladder{done}: {exc}{stop}") from exc
        else:
            # per-group labels only where the level equates that type (with 3+ groups they would
            # otherwise equate the other groups' parameters already in the configural model)
            lab_syntax = _group_specific(syntax, blocks, _named_at(free_named, LEVELS[level]),
                                         list(pd.unique(data[group])))
            fit = _fit(lab_syntax, data, group, estimator, LEVELS[level], free, missing)
        fits[level] = fit
        if not _converged(fit):
            culprit = (_diagnose_groups(syntax, data, group, estimator, missing, ordered)
                       if level == "configural" else "")
            warnings.warn(
                f"the {level} model did not converge{culprit}; the sequence stops here",
                ConvergenceWarning,
                stacklevel=2,
            )
            row = _fit_row(level, fit, estimator)
            row["verdict"] = "did not converge"
            rows.append(row)
            stopped = level
            break
        row = _fit_row(level, fit, estimator)
        row["notes"] = "; ".join(getattr(fit, "notes_", []) or [])  # e.g. inadmissible latent covariances
        if i == 0:
            row.update(delta_chisq=np.nan, delta_df=np.nan, p_value=np.nan, delta_cfi=np.nan,
                       delta_rmsea=np.nan, delta_srmr=np.nan)
            row["verdict"] = "baseline"
            row["reason"] = (
                f"first level, judged by its own fit: CFI {row['cfi']:.3f}, RMSEA {row['rmsea']:.3f}, "
                f"SRMR {row['srmr']:.3f} (e.g. Hu & Bentler, 1999: CFI >= .95, RMSEA <= .06, SRMR <= .08)"
            )
            highest = level
        else:
            diff = _difference(rows[-1], row, estimator, fits=(fits[levels[i - 1]], fit))
            note = diff.pop("note", "")
            row.update(diff)
            ok, reason = _passes(level, diff, criteria, alpha)
            row["verdict"] = "holds" if ok else "fails"
            row["reason"] = reason + (f" ({note})" if note else "")
            if note.startswith("not nested"):
                warnings.warn(
                    f"the {level} model is {note}; with binary items Wu & Estabrook's (2016) {level} level frees "
                    "their scale factors, so its difference test is not a test of the added equality constraints",
                    InvarianceWarning, stacklevel=2)
            if ok and stopped is None:
                highest = level
            if not ok and stopped is None:
                stopped = level
        rows.append(row)
        if stopped is not None and stop:
            break
    table = pd.DataFrame(rows)

    lm_level = None
    latent = None
    # latent means from the scalar model (strict invariance is not needed to compare them)
    if highest is not None and order.index(highest) >= order.index("scalar") and "scalar" in fits:
        lm_level = "scalar"
        latent = _latent_means(fits[lm_level], ci)
    crit_text = (
        "user criterion" if callable(criteria)
        else "; ".join(CRITERIA[c] for c in ((criteria,) if isinstance(criteria, str) else criteria))
    )
    released = [*free_all, *(f"{p} in {', '.join(map(str, g))}" for p, g in free_named.items())]
    partial = f" with {'; '.join(released)} free (partial invariance)" if released else ""
    if highest is None:
        verdict = "configural model did not converge"
    elif stopped is None:
        verdict = f"{highest} invariance holds{partial}"
    else:
        verdict = f"{highest} invariance holds{partial}; {stopped} fails"
    if latent is None and highest in ("configural", "metric"):
        verdict += "; latent means are not compared (needs scalar invariance)"
    test = "Satorra-Bentler (2001) scaled difference" if estimator == "MLR" else "chi-square difference (LRT)"
    r_missing = ", missing = 'ml'" if missing == "fiml" else ""
    if ordinal:
        test = "scaled-shifted difference (Satorra, 2000; lavTestLRT's default for WLSMV)"
        return InvarianceResult(
            table=table, fits=fits, highest=highest, verdict=verdict, latent_means=latent,
            latent_means_level=lm_level, estimator=estimator, group=group,
            n_per_group={str(k): int(v) for k, v in counts.items()}, free=(*free_all, *free_named),
            criteria=crit_text, difference_test=test,
            convention=(f"Wu & Estabrook (2016) identification ({parameterization} parameterization, latent "
                        "variances 1 and means 0 in the first group"
                        + (f"; continuous items {', '.join(continuous)}: intercepts equal from the scalar level, "
                           "residual variances from the strict level, as measEq.syntax" if continuous else "")
                        + f"); {test}; dCFI/dRMSEA scaled; criteria: "
                        f"{crit_text} (derived for continuous items under ML); missing data: "
                        + ("pairwise (thresholds from each item's answers, polychorics from the rows answering "
                           "both items; lavaan missing = 'pairwise')" if missing == "pairwise" else "listwise deletion")
                        + ("" if keying.source == "none" else "; " + keying.restrict(
                            [i for its in blocks.values() for i in its]).note())),
            r_call=(
                f"semTools::measEq.syntax(model, data, ordered = {_r_items(ordered)}, parameterization = "
                f"'{parameterization}', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', group = '{group}', "
                "group.equal = ..., group.partial = ...) per level, fitted by lavaan::cfa(syntax, data, ordered = "
                f"{_r_items(ordered)}, group = '{group}', estimator = 'WLSMV', parameterization = '{parameterization}'"
                + (", missing = 'pairwise'" if missing == "pairwise" else "") + "); "
                f"lavaan::lavTestLRT({', '.join(levels)})"
            ),
            missing=missing, n_rows=accounting["n_rows"], n_used=accounting["n_used"],
            n_excluded=accounting["n_excluded"],
        )
    return InvarianceResult(
        table=table, fits=fits, highest=highest, verdict=verdict, latent_means=latent,
        latent_means_level=lm_level, estimator=estimator, group=group,
        n_per_group={str(k): int(v) for k, v in counts.items()}, free=free, criteria=crit_text,
        difference_test=test,
        convention=f"{test}; dCFI/dRMSEA " + ("robust (scaled if unavailable)" if estimator == "MLR" else "ML")
        + f"; criteria: {crit_text}; missing data: "
        + ("FIML (every row with an observed item)" if missing == "fiml" else "listwise deletion")
        + ("" if keying.source == "none" else "; " + keying.restrict(
            [i for its in blocks.values() for i in its]).note()),
        r_call=(
            f"lavaan::cfa(model, data, group = '{group}', estimator = '{estimator}'{r_missing}, "
            "group.equal = ...); lavaan::lavTestLRT(configural, metric, scalar, strict)"
        ),
        missing=missing,
        n_rows=accounting["n_rows"],
        n_used=accounting["n_used"],
        n_excluded=accounting["n_excluded"],
    )


def _diagnose_groups(syntax, data, group, estimator, missing="listwise", ordered=True) -> str:
    """Fit each group alone to name the group(s) where the model fails."""
    from .cfa import CFA

    bad = []
    for g, sub in data.groupby(group, sort=False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                opts = {"ordered": ordered, "missing": missing} if estimator == "WLSMV" else {"missing": missing}
                fit = CFA(syntax, estimator=estimator, **opts).fit(sub.drop(columns=[group]))
                if not _converged(fit):
                    bad.append(str(g))
            except CustvalError as exc:
                bad.append(f"{g} ({type(exc).__name__}: {exc})")
    return f" (fitted alone, the model fails in group(s): {', '.join(bad)})" if bad else ""


# --------------------------------------------------------------------------- candidates
def _candidates(blocks: dict, kind: str, free: tuple[str, ...]) -> list[str]:
    items = list(dict.fromkeys(i for its in blocks.values() for i in its))
    if kind == "loadings":
        cands = [f"{f} =~ {i}" for f, its in blocks.items() for i in its[1:]]
    elif kind == "intercepts":
        cands = [f"{i} ~ 1" for i in items]
    elif kind == "residuals":
        cands = [f"{i} ~~ {i}" for i in items]
    else:
        raise SpecificationError(f"unknown parameter type {kind!r}")
    return [c for c in cands if c not in free]


def rank_invariance_candidates(
    data: pd.DataFrame,
    model,
    *,
    group: str,
    level: str = "scalar",
    estimator: str = "ML",
    missing: str = "listwise",
    free=(),
    progress: bool = False,
    ordered: bool = False,
    parameterization: str = "delta",
) -> pd.DataFrame:
    r"""Rank the equality constraints of ``level`` by how much releasing each improves fit.

    For every parameter constrained at ``level`` (metric: non-marker loadings;
    scalar: intercepts; strict: residual variances) not yet in ``free``, the
    ``level`` model is refitted with that parameter free across groups and
    compared with the constrained model by the likelihood-ratio test
    (Satorra-Bentler scaled for MLR).  Rows are sorted by the difference
    statistic, largest first: the top row is the first candidate for partial
    invariance (Byrne, Shavelson & Muthén, 1989).  The refit LR statistic is
    asymptotically equivalent to lavaan's univariate score test
    (``lavTestScore``), which ranks the same candidates without refitting;
    the two statistics are close but not identical.  ``missing`` is
    ``"listwise"`` or ``"fiml"``, as in :func:`measurement_invariance`.

    Parameters
    ----------
    data : pandas.DataFrame
        The items and the group column, one row per respondent.
    model : str, Instrument or dict
        lavaan measurement syntax, an Instrument or ``{construct: items}``.
    group : str
        Name of the grouping column.
    level : {"scalar", "metric", "strict"}, default "scalar"
        The level whose equality constraints are ranked (with ordered items also
        ``"thresholds"``).
    estimator : {"ML", "MLR"}, default "ML"
        Estimator; MLR uses the Satorra-Bentler scaled difference (``"WLSMV"`` with ordered items).
    missing : {"listwise", "fiml"}, default "listwise"
        Missing-data method, as in :func:`measurement_invariance` (with ordered items
        ``"listwise"`` or ``"pairwise"``).
    free : str, tuple of str, mapping or pairs, default ()
        Parameters already released, as in :func:`measurement_invariance` (with ordered items
        also thresholds and releases in some groups only); they are not candidates.
    progress : bool, default False
        Show a progress bar over the refits (needs ``tqdm``).
    ordered : bool or list of str, default False
        ``True`` with ``estimator="WLSMV"``: the ordinal ladder of :func:`measurement_invariance`
        (levels ``"thresholds"``: each threshold; ``"metric"``: every loading, the latent
        variances being fixed at 1 in the first group; ``"scalar"``: intercepts), each release
        compared with the constrained model by lavaan's scaled-shifted difference test;
        ``"strict"`` (``parameterization="theta"`` only): each residual variance.  Each
        candidate is released in every group.  A threshold whose release would leave a
        polytomous item exactly one equal threshold is skipped.  With binary items the
        identification moves with the release (releasing a binary item's threshold fixes its
        intercept again; releasing its intercept at the scalar level fixes its scale factor
        again, as measEq.syntax does), so those candidates differ by 0 df from the
        constrained model: their ``p_value`` is NaN and only ``delta_chisq`` ranks them.
        A list of items: those are ordered, the others continuous (as in
        :func:`measurement_invariance`); at ``"scalar"`` the continuous items' intercepts are
        candidates too, at ``"strict"`` their residual variances, at ``"thresholds"`` only the
        ordered items' thresholds.
    parameterization : {"delta", "theta"}, default "delta"
        Scale of the latent responses with ordered items.

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``parameter, delta_chisq, delta_df, p_value, delta_cfi, rank``.

    Raises
    ------
    SpecificationError
        An unknown ``level``, ``estimator`` or ``missing``; with ordered items ``"strict"``
        under ``parameterization="delta"``.
    InsufficientDataError
        The ``level`` model does not converge.

    Warns
    -----
    InvarianceWarning
        No constraints of ``level`` are left to release.

    See Also
    --------
    custval.invariance.measurement_invariance : The invariance sequence.

    References
    ----------
    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: The issue of partial measurement invariance.
    *Psychological Bulletin, 105*(3), 456-466.

    In R: ``lavaan::lavTestScore(fit)`` (score tests) or refits with ``group.partial``.
    """
    if ordered or str(estimator).upper() == "WLSMV":
        return _rank_ordinal(data, model, group=group, level=level, estimator=estimator, missing=missing,
                             free=free, progress=progress, ordered=ordered, parameterization=parameterization)
    if level not in _NEW_TYPE:
        raise SpecificationError(f"level must be one of {', '.join(_NEW_TYPE)}; got {level!r}")
    if estimator not in ("ML", "MLR"):
        raise SpecificationError(f"estimator must be 'ML' or 'MLR'; got {estimator!r}")
    missing = _check_missing(missing)
    free_all, free_named = _split_free(free)
    syntax, data, _ = model_and_data(model, data)
    data, blocks, _, _ = _check_groups(data, group, syntax, missing)
    syntax = _group_specific(syntax, blocks, _named_at(free_named, LEVELS[level]), list(pd.unique(data[group])))
    free = (*free_all, *free_named)
    base = _fit(syntax, data, group, estimator, LEVELS[level], free, missing)
    if not _converged(base):
        raise InsufficientDataError(f"the {level} model did not converge; cannot rank candidates")
    base_row = _fit_row(level, base, estimator)
    cands = _candidates(blocks, _NEW_TYPE[level], free)
    it = cands
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(cands, desc="candidates", unit="refit")
    out = []
    for cand in it:
        fit = _fit(syntax, data, group, estimator, LEVELS[level], (*free, cand), missing)
        row = _fit_row(level, fit, estimator)
        diff = _difference(row, base_row, estimator)  # released model is the less restricted one
        out.append(
            {
                "parameter": cand,
                "delta_chisq": diff["delta_chisq"],
                "delta_df": diff["delta_df"],
                "p_value": diff["p_value"],
                "delta_cfi": -diff["delta_cfi"],
                "converged": _converged(fit),
            }
        )
    if not out:
        warnings.warn(f"no {level} constraints left to release", InvarianceWarning, stacklevel=2)
        return pd.DataFrame(columns=["parameter", "delta_chisq", "delta_df", "p_value", "delta_cfi", "rank"])
    res = pd.DataFrame(out).sort_values("delta_chisq", ascending=False, ignore_index=True)
    res["rank"] = np.arange(1, len(res) + 1)
    return res


def _rank_ordinal(data, model, *, group, level, estimator, missing, free, progress, ordered,
                  parameterization) -> pd.DataFrame:
    """:func:`rank_invariance_candidates` for ordered items (WLSMV, Wu & Estabrook's ladder)."""
    ordered = _ordered_arg(ordered)
    if str(estimator).upper() != "WLSMV" or not ordered:
        raise SpecificationError(
            "ordered items are ranked with estimator='WLSMV' and ordered=True (every item of the model) or "
            f"ordered=[items] (the others continuous); got estimator={estimator!r}, ordered={ordered!r}")
    if level not in ("thresholds", "metric", "scalar", "strict"):
        raise SpecificationError(
            f"with ordered items level must be 'thresholds', 'metric', 'scalar' or 'strict'; got {level!r}")
    if level == "strict" and parameterization != "theta":
        raise SpecificationError(
            "the strict level (equal residual variances) with ordered items needs parameterization='theta'")
    if missing not in ("listwise", "pairwise"):
        raise SpecificationError("the ordinal invariance ladder uses complete cases (missing='listwise') or every "
                                 f"answer (missing='pairwise'); got missing={missing!r}")
    free_all, free_named = _split_free(free)
    syntax, data, _ = model_and_data(model, data)
    data, blocks, _, _ = _check_groups(data, group, syntax, missing)
    ordered, continuous = _ordered_items(ordered, blocks)
    labelled, partial_groups = _ordinal_per_group(free_named, list(pd.unique(data[group])), continuous)
    syntax = _group_specific(syntax, blocks, labelled, list(pd.unique(data[group])), marker=False)
    free = (*free_all, *labelled)
    taken = {*free, *(k.replace("~1", " ~ 1") for k in partial_groups)}
    base = _fit_ordinal(syntax, data, group, ORDINAL_LEVELS[level], free, parameterization, missing,
                        partial_groups, ordered)
    if not _converged(base):
        raise InsufficientDataError(f"the {level} model did not converge; cannot rank candidates")
    items = list(dict.fromkeys(i for its in blocks.values() for i in its))
    if level == "thresholds":
        th = list(next(iter(base.sample_th_.values())).index)
        cands = [t for t in th if t not in taken]
    elif level == "metric":
        cands = [f"{f} =~ {i}" for f, its in blocks.items() for i in its if f"{f} =~ {i}" not in taken]
    elif level == "scalar":
        cands = [f"{i} ~ 1" for i in items if f"{i} ~ 1" not in taken]
    else:
        cands = [f"{i} ~~ {i}" for i in items if f"{i} ~~ {i}" not in taken]
    it = cands
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(cands, desc="candidates", unit="refit")
    base_row = _fit_row(level, base, "WLSMV")
    out = []
    for cand in it:
        try:
            fit = _fit_ordinal(syntax, data, group, ORDINAL_LEVELS[level], (*free, cand), parameterization,
                               missing, partial_groups, ordered)
        except SpecificationError:  # would leave exactly one equal threshold of the item
            continue
        row = _fit_row(level, fit, "WLSMV")
        d, ddf = _satorra2000(fit, base)
        out.append({
            "parameter": cand, "delta_chisq": d, "delta_df": ddf,
            "p_value": float(stats.chi2.sf(d, ddf)) if ddf > 0 and np.isfinite(d) else float("nan"),
            "delta_cfi": row["cfi_scaled"] - base_row["cfi_scaled"], "converged": _converged(fit),
        })
    if not out:
        warnings.warn(f"no {level} constraints left to release", InvarianceWarning, stacklevel=3)
        return pd.DataFrame(columns=["parameter", "delta_chisq", "delta_df", "p_value", "delta_cfi", "rank"])
    res = pd.DataFrame(out).sort_values("delta_chisq", ascending=False, ignore_index=True)
    res["rank"] = np.arange(1, len(res) + 1)
    return res
