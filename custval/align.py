"""Alignment across many groups (firms): approximate measurement invariance.

With ten to two hundred firms the exact invariance ladder of
:func:`custval.invariance.measurement_invariance` usually stops at the configural
level: a few intercepts or loadings differ in a few firms, and scalar invariance
fails.  The alignment optimisation of Asparouhov & Muthén (2014) compares factor
means and variances across the firms anyway: it starts from the configural model
(every firm's own loadings and intercepts, factor mean 0 and variance 1 in each
firm) and chooses each firm's factor mean and variance so that the aligned
measurement parameters are as similar across firms as possible under a loss that
tolerates a few large differences and penalises many small ones (the component
loss function, CLF).  This is Mplus' ``ANALYSIS: ALIGNMENT = FIXED / FREE`` and
sirt's ``invariance.alignment``.

* :func:`alignment` (also ``custval.alignment``) — the configural fits, the alignment, standard errors,
  the approximate-invariance table and R² summaries, as an
  :class:`AlignmentResult`;
* :func:`alignment_plot` — aligned means with intervals per firm.

References
----------
Asparouhov, T., & Muthén, B. (2014). Multiple-group factor analysis alignment.
*Structural Equation Modeling, 21*(4), 495-508.
https://doi.org/10.1080/10705511.2014.919210

Robitzsch, A. (2026). sirt: Supplementary item response theory models (R package
4.3-21), ``invariance.alignment``.
"""

from __future__ import annotations

import dataclasses
import html
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ._results import DISPLAY_DIGITS, ResultMixin
from ._sem import alignment as _al
from ._sem.spec import model_and_data
from .exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    CustvalWarning,
    InsufficientDataError,
    InvarianceWarning,
    SpecificationError,
)

__all__ = ["AlignmentResult", "alignment", "alignment_plot"]

_METHODS = ("FIXED", "FREE")


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, eq=False)
class AlignmentResult(ResultMixin):
    """Aligned factor means and variances per group, and how invariant each parameter is.

    Attributes
    ----------
    means : pandas.DataFrame
        One row per construct and group: ``construct, group, estimate, se, ci_low,
        ci_high, p_value, n, fixed, noninvariant`` (the factor mean on the reference
        group's scale; ``p_value`` tests mean = 0, i.e. equal to the reference group under
        ``"FIXED"``; ``fixed`` marks the reference group's fixed mean: se 0 as lavaan, and
        p_value NaN, as there is nothing to test; ``noninvariant``: how many of the construct's loadings and intercepts are
        non-invariant in that group, see ``invariance``).  Group labels are text in every
        table of the result (``str`` of the group value: integer firm ids 7, 44 come back as
        ``"7"``, ``"44"``; convert before merging with the data).
    variances : pandas.DataFrame
        The same for the factor variances (the reference group's variance is 1); ``se``
        by the delta method from the factor SD (``2 psi se(psi)``); ``p_value`` is NaN in
        every row (a test of a variance against 0 says nothing here).
    invariance : pandas.DataFrame
        One row per construct, item, parameter (``"loading"``, ``"intercept"``) and group:
        ``estimate`` (the aligned parameter), ``se``, ``invariant`` (bool), ``set_mean``
        (the mean of the parameter over the invariant groups), ``n_invariant``.
    r2 : pandas.DataFrame
        Asparouhov & Muthén's (2014) R² per construct, item and parameter (``r2_loading``,
        ``r2_intercept``: the share of the configural parameter's variance across groups
        that the groups' factor means and variances explain; NaN when the configural
        estimates do not vary across groups).
    r2_overall : pandas.DataFrame
        sirt's summary per construct (``es.invariance``): ``r2_loadings``,
        ``r2_intercepts`` (1 - sum of squared residuals / sum of squares) and the
        average R² over items (Mplus prints the per-parameter R² and their average).
    aligned_loadings, aligned_intercepts : pandas.DataFrame
        The aligned parameters, rows = (construct, group), columns = items (NaN for items of
        other constructs).
    configural : pandas.DataFrame
        The configural estimates used: construct, group, item, loading, intercept, their
        SEs and n.
    loss : pandas.DataFrame
        Per construct: the loss at the optimum (custval's scale, and sirt's ``fopt``), the
        number of starts, how many reached the best value, and whether it converged.
    method : str
        ``"FIXED"`` or ``"FREE"``.
    reference : str
        The group whose variance (and, under FIXED, mean) is fixed.
    group : str
        The grouping column.
    n_per_group : dict
        ``{group: rows used}``.
    power, eps : float
        The loss ``f(d) = (d^2 + eps)^(power / 2)``.
    seed, starts : int
        The random starts.
    ci : float
        Interval level.
    n_rows, n_used : int
        Rows in, rows used.
    n_excluded : dict
        ``{reason: rows}`` excluded.
    convention, r_call : str
        The conventions in words; the equivalent R / Mplus calls.
    mean_vcov : dict
        ``{construct: DataFrame}``: the sampling covariance matrix of the aligned means
        (groups × groups, in the order of ``means``; the rows and columns of a fixed mean are
        0), from the same implicit-function formula as ``means["se"]`` (its diagonal is
        ``se ** 2``).  Needed for statements about several groups at once (differences,
        ranks): the aligned means share the reference group's sampling error.

    See Also
    --------
    custval.align.alignment : The function that returns it.
    custval.align.alignment_plot : Its figure.
    """

    means: pd.DataFrame
    variances: pd.DataFrame
    invariance: pd.DataFrame
    r2: pd.DataFrame
    r2_overall: pd.DataFrame
    aligned_loadings: pd.DataFrame
    aligned_intercepts: pd.DataFrame
    configural: pd.DataFrame
    loss: pd.DataFrame
    method: str
    reference: str
    group: str
    n_per_group: dict
    power: float
    eps: float
    seed: int
    starts: int
    ci: float
    n_rows: int
    n_used: int
    n_excluded: dict
    convention: str
    r_call: str
    mean_vcov: dict = dataclasses.field(default_factory=dict)

    _title = "Alignment (approximate measurement invariance)"

    def to_frame(self) -> pd.DataFrame:
        """Means and variances in one long frame.

        Returns
        -------
        pandas.DataFrame
            ``construct, group, parameter`` ("mean" / "variance"), ``estimate, se, ci_low,
            ci_high, p_value, n, fixed, noninvariant``.

        See Also
        --------
        custval.align.AlignmentResult.invariance_table : The invariance of each parameter.
        """
        m = self.means.assign(parameter="mean")
        v = self.variances.assign(parameter="variance")
        cols = ["construct", "group", "parameter", "estimate", "se", "ci_low", "ci_high",
                "p_value", "n", "fixed", "noninvariant"]
        return pd.concat([m, v], ignore_index=True)[cols]

    def invariance_table(self) -> pd.DataFrame:
        """The approximate-invariance table in Mplus' layout.

        Returns
        -------
        pandas.DataFrame
            One row per construct, item and parameter, one column per group holding the
            group's name when the parameter is invariant there and ``(name)`` when not, and
            ``n_invariant``.

        See Also
        --------
        custval.align.AlignmentResult.comparable : The share of non-invariant parameters per group.
        """
        inv = self.invariance
        rows = []
        groups = list(self.n_per_group)
        for (c, it, par), sub in inv.groupby(["construct", "item", "parameter"], sort=False):
            flags = dict(zip(sub["group"], sub["invariant"]))
            rows.append({"construct": c, "item": it, "parameter": par,
                         **{g: (g if flags[g] else f"({g})") for g in groups},
                         "n_invariant": int(sum(flags.values()))})
        return pd.DataFrame(rows).set_index(["construct", "item", "parameter"])

    def comparable(self, *, max_noninvariant: float = 0.25) -> pd.DataFrame:
        """Which groups' aligned means can be compared.

        Parameters
        ----------
        max_noninvariant : float, default 0.25
            The largest share of non-invariant loadings and intercepts of a construct in a
            group for its aligned mean to count as comparable (Asparouhov & Muthén (2014)
            find the alignment trustworthy up to about 25% non-invariance).

        Returns
        -------
        pandas.DataFrame
            ``construct, group, noninvariant, parameters, share_noninvariant, comparable``.

        See Also
        --------
        custval.align.AlignmentResult.invariance_table : The parameters behind the counts.
        """
        inv = self.invariance
        out = (inv.assign(noninv=~inv["invariant"])
               .groupby(["construct", "group"], sort=False)["noninv"].agg(["sum", "size"]).reset_index())
        out["share_noninvariant"] = out["sum"] / out["size"]
        out["comparable"] = out["share_noninvariant"] <= max_noninvariant
        return out.rename(columns={"sum": "noninvariant", "size": "parameters"})

    def _display_frame(self) -> pd.DataFrame:
        m = self.means.set_index(["construct", "group"])[["estimate", "se", "ci_low", "ci_high"]]
        v = self.variances.set_index(["construct", "group"])[["estimate", "se"]]
        out = m.rename(columns={"estimate": "mean", "se": "se_mean"}).join(
            v.rename(columns={"estimate": "variance", "se": "se_variance"}))
        out["n"] = self.means.set_index(["construct", "group"])["n"]
        out["noninvariant"] = self.means.set_index(["construct", "group"])["noninvariant"]
        return out

    def _notes(self) -> list[str]:
        notes = []
        for _, row in self.r2_overall.iterrows():
            notes.append(f"{row['construct']}: R² loadings {row['r2_loadings']:.3f}, intercepts "
                         f"{row['r2_intercepts']:.3f} (sirt); average R² (Asparouhov & Muthén) "
                         f"loadings {row['mean_r2_loading']:.3f}, intercepts {row['mean_r2_intercept']:.3f}")
        inv = self.invariance
        share = 1 - inv["invariant"].mean()
        notes.append(f"Non-invariant parameters: {int((~inv['invariant']).sum())} of {len(inv)} "
                     f"({share:.1%}); Asparouhov & Muthén (2014) trust the aligned means up to about 25%")
        notes.append(f"Rows: {self.n_rows} in = {self.n_used} used + {self.n_rows - self.n_used} excluded "
                     f"({', '.join(f'{v} {k}' for k, v in self.n_excluded.items()) or 'none'})")
        notes.extend(super()._notes())
        return notes

    def summary(self, *, digits: int = DISPLAY_DIGITS) -> str:
        """The aligned means and variances, the notes, then the invariance table, as text.

        Parameters
        ----------
        digits : int, default 3
            Digits shown (rounded for display only).

        Returns
        -------
        str

        See Also
        --------
        custval.align.AlignmentResult.to_frame : The unrounded numbers.
        """
        text = super().summary(digits=digits)
        with pd.option_context("display.width", 120, "display.max_columns", 60):
            tab = self.invariance_table().to_string()
        return f"{text}\nApproximate invariance ((group) = non-invariant):\n{tab}"

    def _repr_html_(self) -> str:
        base = super()._repr_html_()
        tab = self.invariance_table().to_html()
        return base[:-len("</div>")] + (f"<br><strong>{html.escape('Approximate invariance')}</strong>"
                                        f"{tab}</div>")

    def plot(self, **kwargs):
        """Draw the aligned means with intervals.

        Parameters
        ----------
        **kwargs
            Options of :func:`alignment_plot` (``construct``, ``sort``, ``ax``, ``title``).

        Returns
        -------
        matplotlib.axes.Axes

        See Also
        --------
        custval.align.alignment_plot : The function drawn with.
        """
        return alignment_plot(self, **kwargs)


# --------------------------------------------------------------------------- configural fits
def _fit_cfa(sub, syntax, estimator, missing, group=None):
    from .cfa import CFA

    return CFA(syntax, std_lv=True, meanstructure=True, estimator=estimator, missing=missing,
               group=group).fit(sub)


def _relay(caught, prefix):
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            continue
        if issubclass(w.category, CustvalWarning):
            warnings.warn(f"{prefix}{w.message}", w.category, stacklevel=4)
        else:
            warnings.warn(w.message, w.category, stacklevel=4)


def _diagnose(data, syntax, group, groups, estimator, missing):
    """Fit the configural model group by group to name the groups where it fails."""
    from .exceptions import CustvalError

    bad = []
    for g in groups:
        sub = data.loc[data[group] == g].drop(columns=[group])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = _fit_cfa(sub, syntax, estimator, missing)
            except CustvalError as err:
                raise type(err)(f"configural model in {group} {g!r} (n = {len(sub)}): {err}") from err
        if not bool(getattr(fit, "converged_", True)):
            bad.append(f"{g!r} (n = {len(sub)})")
            continue
        _relay(caught, f"configural model in {group} {g!r}: ")
    if bad:
        raise ConvergenceError(
            f"the configural model did not converge in {group} {', '.join(bad)}; alignment needs "
            f"every {group}'s own loadings and intercepts: drop or merge these {group}s, or simplify "
            "the model")


def _configural(data, syntax, blocks, group, groups, estimator, missing):
    """The configural model (factor means 0, variances 1 in every group; lavaan
    ``cfa(group =, std.lv = TRUE)``), fitted once for all groups; where it fails or does not
    converge, the groups are fitted one by one to name the culprits.  Returns
    ``{group: {construct: (lam (I,), nu (I,), V (2I x 2I) of (lam, nu), reflected)}}``."""
    from .exceptions import CustvalError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = _fit_cfa(data, syntax, estimator, missing, group=group)
        except CustvalError:
            fit = None
    if fit is None or not bool(getattr(fit, "converged_", True)):
        _diagnose(data, syntax, group, groups, estimator, missing)
        if fit is None:  # every group fits alone: the joint fit's error stands
            _fit_cfa(data, syntax, estimator, missing, group=group)
        raise ConvergenceError(f"the configural model did not converge across the {len(groups)} "
                               f"{group}s although each {group} converges alone")
    _relay(caught, "configural model: ")
    pe = fit.params_
    labels = list(fit.group_labels_)
    vc = np.asarray(fit.vcov_)
    out = {}
    for g in groups:
        gi = labels.index(g) + 1 if g in labels else [str(x) for x in labels].index(str(g)) + 1
        pg = pe[pe["group"] == gi]
        per = {}
        for c, items in blocks.items():
            lam = np.empty(len(items))
            nu = np.empty(len(items))
            idx = []
            for i, it in enumerate(items):
                r = pg[(pg["op"] == "=~") & (pg["lhs"] == c) & (pg["rhs"] == it)].iloc[0]
                lam[i] = r["est"]
                idx.append(int(r["free"]))
            for i, it in enumerate(items):
                r = pg[(pg["op"] == "~1") & (pg["lhs"] == it)].iloc[0]
                nu[i] = r["est"]
                idx.append(int(r["free"]))
            idx = np.array(idx) - 1
            V = vc[np.ix_(idx, idx)]
            flip = lam.sum() < 0  # a reflected solution (std_lv leaves the sign free)
            if flip:
                lam = -lam
                s = np.concatenate([-np.ones(len(items)), np.ones(len(items))])
                V = V * s[:, None] * s[None, :]
            per[c] = (lam, nu, V, bool(flip))
        out[g] = per
    return out


# --------------------------------------------------------------------------- invariance tests
def _invariant_set(est, se, p_pair=0.01, p_set=0.001, max_iter=100):
    """Approximate invariance of one parameter across groups, in the manner of Asparouhov &
    Muthén (2014): (1) pairwise z-tests; starting from the pair with the largest p-value, add
    the group whose smallest pairwise p-value with the members is largest while it exceeds
    ``p_pair``; (2) test every group against the mean of the set (z-test with the variance of
    the difference, the mean including the group when it is a member) at ``p_set``; repeat (2)
    until the set no longer changes.  Returns a bool array."""
    G = len(est)
    d = est[:, None] - est[None, :]
    s = np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(d) / s)
    np.fill_diagonal(p, -1.0)
    i, j = np.unravel_index(int(np.argmax(p)), p.shape)
    member = np.zeros(G, dtype=bool)
    if p[i, j] > p_pair:
        member[[i, j]] = True
        while True:
            cand = ~member
            if not cand.any():
                break
            minp = np.where(cand, np.min(np.where(member[None, :], p, np.inf), axis=1), -np.inf)
            k = int(np.argmax(minp))
            if minp[k] <= p_pair:
                break
            member[k] = True
    else:
        member[int(np.argmin(se))] = True
    for _ in range(max_iter):
        k = int(member.sum())
        m = est[member].mean()
        var_m = (se[member] ** 2).sum() / k ** 2
        # var(est_g - m): members share their own variance with the mean
        var_d = np.where(member, se ** 2 * (1 - 2 / k) + var_m, se ** 2 + var_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            pv = 2 * stats.norm.sf(np.abs(est - m) / np.sqrt(np.clip(var_d, 1e-300, None)))
        new = pv > p_set
        if not new.any():
            break
        if np.array_equal(new, member):
            break
        member = new
    return member, float(est[member].mean())


# --------------------------------------------------------------------------- public API
def alignment(
    data: pd.DataFrame,
    model,
    *,
    group: str = "firm",
    method: str = "FIXED",
    reference=None,
    estimator: str = "ML",
    missing: str = "listwise",
    power: float = 0.5,
    eps: float = 0.01,
    starts: int = 10,
    seed: int = 0,
    ci: float = 0.95,
    p_pairwise: float = 0.01,
    p_set: float = 0.001,
) -> AlignmentResult:
    r"""Align factor means and variances across many groups (Asparouhov & Muthén, 2014).

    1. **Configural model**, group by group: each group's own loadings
       :math:`\lambda_{gi}` and intercepts :math:`\nu_{gi}` with factor mean 0 and
       variance 1 (lavaan ``cfa(model, group = group, std.lv = TRUE)``, Mplus' configural
       start; fitting the groups one at a time gives the same estimates as the multi-group
       configural model, which has no cross-group constraints).  A factor whose loadings
       come out negative in a group (a reflected solution) is turned round.
    2. **Alignment**, per construct: for factor means :math:`\alpha_g` and SDs
       :math:`\psi_g` the aligned parameters are :math:`\lambda_{gi}/\psi_g` and
       :math:`\nu_{gi} - \alpha_g\lambda_{gi}/\psi_g`; the loss

       .. math:: F = \sum_i \sum_{g<h} \sqrt{n_g n_h}\,\big[f(\Delta\lambda_{i,gh})
                 + f(\Delta\nu_{i,gh})\big],\qquad f(d) = (d^2 + \varepsilon)^{p/2}

       is minimised; with the defaults ``power=0.5``, ``eps=0.01`` this is Mplus' CLF
       :math:`f(d) = \sqrt{\sqrt{d^2 + 0.01}}` (the default).  sirt's
       ``invariance.alignment`` uses the same loss with ``align.pow = c(.5, .5)``; its
       default ``eps = 0.001`` is ``eps=0.001`` here (and sirt's default weights are 1
       per group, not :math:`\sqrt{n_g}`).  ``method="FIXED"`` fixes the reference
       group's mean at 0 and variance at 1; ``"FREE"`` estimates every mean and fixes
       only the reference group's variance (identified only when loadings differ
       across groups; with nearly invariant loadings the result warns and FIXED is the
       choice, as in Mplus).
    3. **Standard errors**: the aligned means and SDs are implicit functions of the
       configural estimates; their covariance is
       :math:`A V_\theta A'` with :math:`A = -H_{xx}^{-1}H_{x\theta}` (sirt's ``vcov =``
       argument; here with analytic second derivatives) and :math:`V_\theta` the
       groups' sampling covariances of loadings and intercepts.  Intervals are Wald
       intervals; variances get ``se = 2 psi se(psi)``.
    4. **Approximate invariance** per parameter, in the manner of Mplus (Asparouhov &
       Muthén, 2014): pairwise z-tests of the aligned parameter (standard errors from the
       group's configural covariance, the group's mean and SD held fixed) build an
       initial set of groups not different at ``p_pairwise`` (0.01); then each group is
       tested against the mean of the set at ``p_set`` (0.001) until the set is stable.
       Mplus' own code is not public: this follows the published description, and sirt
       has no such table.
    5. **R²** (Asparouhov & Muthén, 2014): for every item,
       :math:`R^2_\nu = 1 - V_g(\nu_{gi} - \bar\nu_i - \alpha_g\bar\lambda_i)/V_g(\nu_{gi})`
       and :math:`R^2_\lambda = 1 - V_g(\lambda_{gi} - \psi_g\bar\lambda_i)/V_g(\lambda_{gi})`
       (bars: average aligned parameters); values near 1 mean near invariance.  sirt's
       overall R² (``es.invariance``) is also reported.

    The optimiser is :func:`scipy.optimize.minimize` (L-BFGS-B, analytic gradient, SDs
    at least 0.01 as sirt) from ``starts`` starting points: sirt's (medians of the
    configural parameters relative to the reference group) and ``starts - 1`` seeded random
    ones; the best optimum wins (the first start within a relative 1e-9 of it, so the choice
    does not depend on the CPU's rounding) and is polished to a tight tolerance.

    Parameters
    ----------
    data : pandas.DataFrame
        The items and the group column, one row per respondent.
    model : str, Instrument or dict
        lavaan measurement syntax, an Instrument or ``{construct: items}``; every item loads
        on one construct (alignment is done construct by construct).
    group : str, default "firm"
        The grouping column (groups in order of first appearance, as lavaan).
    method : {"FIXED", "FREE"}, default "FIXED"
        Mplus' ``ALIGNMENT = FIXED`` or ``FREE``.
    reference : optional
        The reference group (default: the first group).
    estimator : {"ML", "MLR"}, default "ML"
        Estimator of the configural fits (MLR: sandwich standard errors).
    missing : {"listwise", "fiml"}, default "listwise"
        As :func:`custval.invariance.measurement_invariance`.
    power : float, default 0.5
        The exponent :math:`p` of the loss (sirt's ``align.pow``); 0.5 is Mplus' CLF.
    eps : float, default 0.01
        :math:`\varepsilon` of the loss (Mplus: 0.01; sirt's default 0.001).
    starts : int, default 10
        Starting points of the optimiser.
    seed : int, default 0
        Seed of the random starts (numpy ``SeedSequence``).
    ci : float, default 0.95
        Level of the Wald intervals.
    p_pairwise, p_set : float, default 0.01, 0.001
        Levels of the two stages of the invariance tests.

    Returns
    -------
    AlignmentResult

    Raises
    ------
    InsufficientDataError
        Fewer than three groups (with two, use
        :func:`~custval.invariance.measurement_invariance` and partial invariance), or a
        group with no more respondents than the configural model has parameters (the
        message names the groups).
    ConvergenceError
        The configural model does not converge in a group (named).
    SpecificationError
        An unknown ``method``, a reference that is not a group, an item loading on two
        constructs, a construct with fewer than two items.

    Warns
    -----
    MissingDataWarning
        Rows without a group or (listwise) with a missing item are excluded, counted.
    InvarianceWarning
        Under ``"FREE"``, the means are nearly unidentified (nearly invariant loadings).
    ConvergenceWarning
        The alignment optimiser stopped short of a stationary point.

    See Also
    --------
    custval.invariance.measurement_invariance : The exact invariance ladder.
    custval.align.alignment_plot : Aligned means with intervals per group.

    References
    ----------
    Asparouhov, T., & Muthén, B. (2014). Multiple-group factor analysis alignment.
    *Structural Equation Modeling, 21*(4), 495-508. https://doi.org/10.1080/10705511.2014.919210

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custval.align import alignment
    >>> rng = np.random.default_rng(1)   # simulated: 6 firms with true means 0, .2, .5, 0, -.2, .1
    >>> frames = []
    >>> for k, mu in enumerate([0, 0.2, 0.5, 0.0, -0.2, 0.1]):
    ...     eta = mu + rng.normal(size=150)
    ...     y = 3 + 0.8 * eta[:, None] + rng.normal(scale=0.6, size=(150, 4))
    ...     frames.append(pd.DataFrame(y, columns=["v1", "v2", "v3", "v4"]).assign(firm=f"F{k + 1}"))
    >>> res = alignment(pd.concat(frames), "value =~ v1 + v2 + v3 + v4", group="firm")
    >>> print(res.means[["group", "estimate", "se"]].round(2).to_string(index=False))
    group  estimate   se
       F1      0.00 0.00
       F2      0.31 0.14
       F3      0.81 0.14
       F4      0.14 0.13
       F5     -0.11 0.14
       F6      0.22 0.13
    >>> # (F1's sample happens to lie .2 below its true mean: every other firm is measured from it)
    >>> # In R: sirt::invariance.alignment(lambda, nu, wgt = sqrt(N), align.pow = c(.5, .5), eps = .01)
    """
    from .invariance import _check_groups, _check_missing

    if method not in _METHODS:
        raise SpecificationError(f"method must be 'FIXED' or 'FREE' (Mplus' ALIGNMENT = ...); got {method!r}")
    if estimator not in ("ML", "MLR"):
        raise SpecificationError(f"estimator must be 'ML' or 'MLR'; got {estimator!r}")
    if not (power > 0 and eps > 0):
        raise SpecificationError(f"power and eps must be positive; got power={power!r}, eps={eps!r}")
    if not (isinstance(starts, (int, np.integer)) and starts >= 1):
        raise SpecificationError(f"starts must be a positive integer; got {starts!r}")
    if not 0 < ci < 1:
        raise SpecificationError(f"ci must be between 0 and 1; got {ci!r}")
    missing = _check_missing(missing)
    syntax, data, _keying = model_and_data(model, data)
    if isinstance(data, pd.DataFrame) and group in data.columns:
        n_groups = data[group].dropna().nunique()
        if n_groups < 3:
            raise InsufficientDataError(
                f"alignment needs at least 3 groups in {group!r}; got {n_groups} "
                f"({', '.join(map(repr, data[group].dropna().unique()))}). With two groups compare "
                "them with custval.invariance.measurement_invariance (partial invariance, free=...)")
    data, blocks, counts, acc = _check_groups(data, group, syntax, missing)
    owner = {}
    for c, items in blocks.items():
        if len(items) < 2:
            raise SpecificationError(f"construct {c!r} has a single item ({items[0]}): alignment needs at "
                                     "least two items per construct")
        for it in items:
            if it in owner:
                raise SpecificationError(f"item {it!r} loads on {owner[it]!r} and {c!r}: alignment is done "
                                         "construct by construct and needs every item on one construct")
            owner[it] = c
    groups = list(dict.fromkeys(data[group]))
    labels = [str(g) for g in groups]
    if reference is None:
        ref = 0
    else:
        if str(reference) not in labels:
            raise SpecificationError(f"reference {reference!r} is not a group of {group!r}; groups: "
                                     f"{', '.join(labels[:20])}{' ...' if len(labels) > 20 else ''}")
        ref = labels.index(str(reference))
    n = np.array([int(counts[g]) for g in groups], dtype=float)
    conf = _configural(data[[group, *owner]], syntax, blocks, group, groups, estimator, missing)
    z = stats.norm.ppf(0.5 + ci / 2)

    means, variances, inv_rows, r2_rows, overall, loss_rows, conf_rows = [], [], [], [], [], [], []
    al_l, al_n = [], []
    mean_vcov = {}
    all_items = list(owner)
    for c, items in blocks.items():
        lam = np.array([conf[g][c][0] for g in groups])
        nu = np.array([conf[g][c][1] for g in groups])
        n_it = len(items)
        sol = _al.align(lam, nu, n, method=method, reference=ref, power=power, eps=eps,
                        starts=starts, seed=seed)
        if not sol.converged:
            warnings.warn(f"alignment of {c!r} stopped short of a stationary point ({sol.message}); "
                          "the aligned means are not reliable", ConvergenceWarning, stacklevel=2)
        G = len(groups)
        vtheta = np.zeros((2 * G * n_it, 2 * G * n_it))
        for k, g in enumerate(groups):
            s = slice(k * 2 * n_it, (k + 1) * 2 * n_it)
            vtheta[s, s] = conf[g][c][2]
        V = _al.vcov(lam, nu, n, sol, vtheta, power, eps)
        se_x = np.sqrt(np.clip(np.diag(V), 0, None))
        na = int(sol.free_alpha.sum())
        se_alpha = np.zeros(G)
        se_alpha[sol.free_alpha] = se_x[:na]
        se_psi = np.zeros(G)
        se_psi[sol.free_psi] = se_x[na:]
        free_a = np.flatnonzero(sol.free_alpha)
        vm = np.zeros((G, G))
        vm[np.ix_(free_a, free_a)] = (V[:na, :na] + V[:na, :na].T) / 2  # symmetric; the diagonal is as is
        mean_vcov[c] = pd.DataFrame(vm, index=labels, columns=labels)
        if method == "FREE":
            _check_free_identified(lam, nu, n, sol, power, eps, c)
        # aligned parameters and their SEs (the group's alpha, psi held fixed)
        u = lam / sol.psi[:, None]
        v = nu - sol.alpha[:, None] * u
        noninv = np.zeros(G, dtype=int)
        for i, it in enumerate(items):
            for par, est in (("loading", u[:, i]), ("intercept", v[:, i])):
                ses = np.empty(G)
                for k, g in enumerate(groups):
                    Vg = conf[g][c][2]
                    vl, vn, cln = Vg[i, i], Vg[n_it + i, n_it + i], Vg[i, n_it + i]
                    a, p_ = sol.alpha[k], sol.psi[k]
                    ses[k] = (np.sqrt(vl) / p_ if par == "loading"
                              else np.sqrt(max(vn + (a / p_) ** 2 * vl - 2 * (a / p_) * cln, 0.0)))
                member, set_mean = _invariant_set(est, ses, p_pairwise, p_set)
                noninv += ~member
                for k in range(len(groups)):
                    inv_rows.append({"construct": c, "item": it, "parameter": par, "group": labels[k],
                                     "estimate": float(est[k]), "se": float(ses[k]),
                                     "invariant": bool(member[k]), "set_mean": set_mean,
                                     "n_invariant": int(member.sum())})
        r_l, r_n, s_l, s_n = _al.r2(lam, nu, sol.alpha, sol.psi)
        for i, it in enumerate(items):
            r2_rows.append({"construct": c, "item": it, "r2_loading": float(r_l[i]),
                            "r2_intercept": float(r_n[i])})
        overall.append({"construct": c, "r2_loadings": s_l, "r2_intercepts": s_n,
                        "mean_r2_loading": float(np.nanmean(r_l)) if np.isfinite(r_l).any() else np.nan,
                        "mean_r2_intercept": float(np.nanmean(r_n)) if np.isfinite(r_n).any() else np.nan})
        loss_rows.append({"construct": c, "loss": sol.fopt, "sirt_fopt": _al.sirt_fopt(sol.fopt, n),
                          "starts": sol.n_starts, "starts_at_best": sol.n_at_best,
                          "converged": sol.converged})
        for k, g in enumerate(groups):
            fixed_m = not sol.free_alpha[k]
            means.append({"construct": c, "group": labels[k], "estimate": float(sol.alpha[k]),
                          "se": float(se_alpha[k]), "n": int(n[k]), "fixed": fixed_m,
                          "noninvariant": int(noninv[k])})
            var = float(sol.psi[k] ** 2)
            variances.append({"construct": c, "group": labels[k], "estimate": var,
                              "se": float(2 * sol.psi[k] * se_psi[k]), "n": int(n[k]),
                              "fixed": not sol.free_psi[k], "noninvariant": int(noninv[k])})
            row_l = dict.fromkeys(all_items, np.nan)
            row_n = dict.fromkeys(all_items, np.nan)
            for i, it in enumerate(items):
                row_l[it] = float(u[k, i])
                row_n[it] = float(v[k, i])
                Vg = conf[g][c][2]
                conf_rows.append({"construct": c, "group": labels[k], "item": it,
                                  "loading": float(lam[k, i]), "se_loading": float(np.sqrt(Vg[i, i])),
                                  "intercept": float(nu[k, i]), "se_intercept": float(np.sqrt(Vg[n_it + i, n_it + i])),
                                  "reflected": bool(conf[g][c][3]), "n": int(n[k])})
            al_l.append({"construct": c, "group": labels[k], **row_l})
            al_n.append({"construct": c, "group": labels[k], **row_n})

    def _wald(rows):
        f = pd.DataFrame(rows)
        f["ci_low"] = f["estimate"] - z * f["se"]
        f["ci_high"] = f["estimate"] + z * f["se"]
        with np.errstate(divide="ignore", invalid="ignore"):
            zz = np.where(f["se"] > 0, f["estimate"] / f["se"].where(f["se"] > 0, 1.0), np.nan)
        f["p_value"] = np.where(f["fixed"], np.nan, 2 * stats.norm.sf(np.abs(zz)))
        return f[["construct", "group", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
                  "fixed", "noninvariant"]]

    mean_f = _wald(means)
    var_f = _wald(variances)
    var_f["p_value"] = np.nan  # a variance's test against 0 says nothing here
    ref_label = labels[ref]
    conv = (f"{method}: reference {group} {ref_label!r} has factor "
            f"{'mean 0 and ' if method == 'FIXED' else ''}variance 1; loss (d^2 + {eps:g})^({power:g}/2) "
            f"weighted by sqrt(n_g n_h) over loadings and intercepts; configural fits with factor mean 0, "
            f"variance 1 per {group} ({estimator}, {missing}); p_value of a mean tests mean = 0; "
            f"invariance: pairwise p > {p_pairwise:g}, then against the set mean p > {p_set:g}")
    r_call = ("sirt::invariance.alignment(lambda, nu, wgt = matrix(sqrt(N), G, I), align.pow = c(.5, .5), "
              f"eps = {eps:g}, meth = 1)  # FIXED, SDs psi0 = sqrt(variances); Mplus: ANALYSIS: "
              f"TYPE = MIXTURE; ESTIMATOR = ML; ALIGNMENT = {method}({ref_label});")
    return AlignmentResult(
        means=mean_f, variances=var_f, invariance=pd.DataFrame(inv_rows), r2=pd.DataFrame(r2_rows),
        r2_overall=pd.DataFrame(overall),
        aligned_loadings=pd.DataFrame(al_l).set_index(["construct", "group"]),
        aligned_intercepts=pd.DataFrame(al_n).set_index(["construct", "group"]),
        configural=pd.DataFrame(conf_rows), loss=pd.DataFrame(loss_rows), method=method,
        reference=ref_label, group=group, n_per_group={labels[k]: int(n[k]) for k in range(len(groups))},
        power=float(power), eps=float(eps), seed=int(seed), starts=int(starts), ci=float(ci),
        n_rows=int(acc["n_rows"]), n_used=int(acc["n_used"]), n_excluded=dict(acc["n_excluded"]),
        convention=conv, r_call=r_call, mean_vcov=mean_vcov,
    )


def _check_free_identified(lam, nu, n, sol, power, eps, construct):
    """FREE: the loss barely changes when every mean moves together (nearly invariant
    loadings); Mplus then advises FIXED."""
    Hxx, _ = _al._hessians(lam, nu, n, sol.alpha, sol.psi, power, eps)
    G = len(sol.alpha)
    keep = np.concatenate([sol.free_alpha, sol.free_psi])
    H = Hxx[np.ix_(keep, keep)]
    ev = np.linalg.eigvalsh((H + H.T) / 2)
    if ev[0] <= 1e-6 * ev[-1]:
        warnings.warn(
            f"FREE alignment of {construct!r}: the factor means are nearly unidentified (the loss is "
            f"flat when all {G} means move together: the loadings are nearly invariant); use "
            "method='FIXED'", InvarianceWarning, stacklevel=3)


# --------------------------------------------------------------------------- figure
def alignment_plot(result: AlignmentResult, *, construct: str | None = None, sort: bool = True,
                   ax=None, title: str | None = None):
    """Aligned factor means with Wald intervals per group, one row per group.

    Groups whose share of non-invariant parameters exceeds 25% (see
    :meth:`AlignmentResult.comparable`) are drawn in vermilion with open markers; the
    reference group (fixed mean under ``"FIXED"``) is a grey diamond without interval.

    Parameters
    ----------
    result : AlignmentResult
        From :func:`alignment`.
    construct : str, optional
        The construct to draw (default: the first).
    sort : bool, default True
        Order groups by their aligned mean (else in data order).
    ax : matplotlib Axes, optional
        Draw into this Axes (default: a new figure).
    title : str, optional
        The title (default: names the construct and the method).

    Returns
    -------
    matplotlib.axes.Axes

    See Also
    --------
    custval.align.alignment : The numbers drawn.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> # res = alignment(data, model, group="firm"); ax = alignment_plot(res)
    >>> # In R: no direct equivalent (sirt::invariance.alignment gives the numbers)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from ._style import OKABE_ITO, style

    if not isinstance(result, AlignmentResult):
        raise SpecificationError(f"alignment_plot needs an AlignmentResult; got {type(result).__name__}")
    constructs = list(dict.fromkeys(result.means["construct"]))
    c = constructs[0] if construct is None else construct
    if c not in constructs:
        raise SpecificationError(f"construct {c!r} is not in the result; constructs: {', '.join(constructs)}")
    m = result.means[result.means["construct"] == c].reset_index(drop=True)
    comp = result.comparable().set_index(["construct", "group"]).loc[c]
    m["comparable"] = m["group"].map(comp["comparable"]).astype(bool)
    if sort:
        m = m.sort_values("estimate", kind="mergesort").reset_index(drop=True)
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, max(2.6, 0.28 * len(m) + 1.4)), layout="constrained")
        y = np.arange(len(m))
        for k, r in m.iterrows():
            if r["fixed"]:
                ax.plot(r["estimate"], k, marker="D", color="#777777", markersize=6, linestyle="none")
                continue
            col = OKABE_ITO["blue"] if r["comparable"] else OKABE_ITO["vermilion"]
            ax.plot([r["ci_low"], r["ci_high"]], [k, k], color=col, linewidth=1.6)
            ax.plot(r["estimate"], k, marker="o", markersize=5.5, linestyle="none",
                    color=col, markerfacecolor=col if r["comparable"] else "white")
        ax.axvline(0, color="#333333", linewidth=0.8, linestyle="--")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{g} (n={n})" for g, n in zip(m["group"], m["n"])])
        ax.set_ylim(-0.7, len(m) - 0.3)
        ax.xaxis.grid(True)
        ax.set_axisbelow(True)
        lvl = f"{result.ci:.0%}".replace(".0%", "%")
        ax.set_xlabel(f"Aligned factor mean ({lvl} Wald interval; reference {result.reference!r} = 0)"
                      if result.method == "FIXED" else f"Aligned factor mean ({lvl} Wald interval)")
        handles = []
        free = m.loc[~m["fixed"].astype(bool)]
        if free["comparable"].any():
            handles.append(Line2D([], [], color=OKABE_ITO["blue"], marker="o",
                                  label="comparable (≤ 25% non-invariant)"))
        if (~free["comparable"]).any():
            handles.append(Line2D([], [], color=OKABE_ITO["vermilion"], marker="o", markerfacecolor="white",
                                  label="> 25% of its parameters non-invariant"))
        if m["fixed"].any():
            handles.append(Line2D([], [], color="#777777", marker="D", linestyle="none", label="reference (fixed)"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.55 / max(ax.get_position().height * ax.figure.get_figheight(), 0.8)),
                  ncol=len(handles), fontsize=8, handlelength=1.6, columnspacing=1.2)
        ax.set_title(title if title is not None else f"{c}: aligned means by {result.group} ({result.method})",
                     loc="left")
    return ax
