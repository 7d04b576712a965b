"""Reliability of two-level (within / between) measurement models.

:func:`multilevel_omega` gives coefficient omega of each factor at each level of
a two-level :class:`custval.CFA` (Geldhof, Preacher & Zyphur, 2014): the
within-cluster reliability of a composite's within component and the
between-cluster reliability of its cluster-mean component, as semTools'
``compRelSEM(fit)`` reports them for a multilevel lavaan model.  The items'
ICC(1) are the fit's ``icc_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .exceptions import SpecificationError

__all__ = ["multilevel_omega"]


def multilevel_omega(fit, *, obs_var: bool = True, config=(), shared=()) -> pd.DataFrame:
    """Omega of each factor at each level of a two-level CFA (Geldhof et al., 2014; Lai, 2021).

    For factor ``f`` with indicators ``I`` at level ``l`` (within or between)::

        omega_l = 1' (Lambda_f psi_f Lambda_f') 1 / 1' S_l[I, I] 1

    the variance of the sum of ``I`` due to ``f`` over the total variance of
    that sum at that level: with ``obs_var=True`` (semTools' default) the
    saturated model's level covariance matrix (the fit's ``sample_cov_``, the
    fully maximised H1; semTools uses lavaan's EM estimate of it, which stops a
    little short of the maximum, so the third decimal can differ), with
    ``obs_var=False`` the model-implied one.

    Constructs named in ``config`` (configural: the same factor name and
    indicators at both levels, Stapleton, Yang & Hancock, 2016) add Lai's
    (2021) ``omega_W`` (as above, within) and ``omega_2L``, the reliability of
    the composite of raw scores, ``1'(C_W + C_B)1 / 1'(S_W + S_B)1``.
    Constructs named in ``shared`` (a between factor, e.g. a firm's climate
    rated by its staff) add ``omega_B = 1'C_B 1 / (1'S_B 1 + 1'S_W 1 mean(1/n_j))``,
    the reliability of the cluster-mean composite for the between construct,
    and ``IRR = 1'S_B 1 / (1'S_B 1 + 1'S_W 1 mean(1/n_j))``.

    Parameters
    ----------
    fit : custval.CFA
        A fitted two-level CFA (a model with ``level:`` blocks, fitted with ``cluster=``).
    obs_var : bool, default True
        Denominator from the saturated (observed) level covariance (semTools'
        ``obs.var = TRUE``) or from the model-implied one.
    config : sequence of str
        Configural constructs (factor named at both levels with the same indicators).
    shared : sequence of str
        Shared constructs (factors of level 2).

    Returns
    -------
    pandas.DataFrame
        One row per factor, level and coefficient: ``construct``, ``level``
        (``"within"``, ``"between"`` or ``"total"``), ``coefficient``
        (``"omega"`` (Geldhof), ``"omega_W"``, ``"omega_2L"``, ``"omega_B"``,
        ``"IRR"``), ``value``, ``n_items``.

    Raises
    ------
    SpecificationError
        ``fit`` is not a fitted two-level CFA, or a ``config`` / ``shared``
        construct is not a factor at the levels it needs (named).

    See Also
    --------
    custval.cfa.CFA : Two-level models with ``level:`` blocks and ``cluster=``.
    custval.validity.composite_reliability : Omega of a single-level CFA.

    Notes
    -----
    Convention: Geldhof, Preacher & Zyphur's (2014) level-specific omega and
    Lai's (2021) ``omega_2L`` / ``omega_B`` / ``IRR``, as
    ``semTools::compRelSEM(fit, config = ..., shared = ...)`` (``tau.eq =
    FALSE``) on a lavaan two-level model; residual covariances among a
    factor's indicators count in the denominator only.

    References
    ----------
    Geldhof, G. J., Preacher, K. J., & Zyphur, M. J. (2014). Reliability
    estimation in a multilevel confirmatory factor analysis framework.
    *Psychological Methods, 19*(1), 72-91.
    Lai, M. H. C. (2021). Composite reliability of multilevel data: It's about
    observed scores and construct meanings. *Psychological Methods, 26*(1), 90-102.
    Stapleton, L. M., Yang, J. S., & Hancock, G. R. (2016). Construct meaning in
    multilevel settings. *Journal of Educational and Behavioral Statistics,
    41*(5), 481-520.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custval import CFA, multilevel_omega
    >>> rng = np.random.default_rng(1)
    >>> firm = np.repeat(np.arange(80), 6)
    >>> y = (rng.normal(size=(480, 1)) @ [[1, .8, .9]] + rng.normal(0, .6, (80, 1))[firm] @ [[1, .9, .8]]
    ...      + rng.normal(0, .7, (480, 3)) + rng.normal(0, .3, (80, 3))[firm])
    >>> data = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(firm=firm)
    >>> fit = CFA("level: 1\\n fw =~ y1 + y2 + y3\\nlevel: 2\\n fb =~ y1 + y2 + y3", cluster="firm").fit(data)
    >>> multilevel_omega(fit, shared=["fb"])[["construct", "level", "coefficient", "n_items"]]
      construct    level coefficient  n_items
    0        fw   within       omega        3
    1        fb  between       omega        3
    2        fb  between     omega_B        3
    3        fb  between         IRR        3

    # In R: semTools::compRelSEM(lavaan::cfa(model, data, cluster = "firm"), shared = "fb")
    """
    tl = getattr(fit, "_twolevel", None)
    if tl is None:
        raise SpecificationError(
            "multilevel_omega needs a fitted two-level CFA (a model with 'level:' blocks fitted with "
            "cluster=); for a single-level CFA use custval.validity.composite_reliability")
    config = [config] if isinstance(config, str) else list(config)
    shared = [shared] if isinstance(shared, str) else list(shared)
    model, x = tl["model"], fit.x_
    mats = model.matrices(x)
    implied = model.implied(x)
    observed = list(fit.observed_)
    pt = tl["pt"]
    # over all variables: a within-only (between-only) variable has no between (within) variance
    total = {lev: (fit.sample_cov_[name].reindex(index=observed, columns=observed, fill_value=0.0).to_numpy()
                   if obs_var else implied[lev - 1][0])
             for lev, name in ((1, "within"), (2, "between"))}

    def block(f, lev):
        mm = pt[(pt["level"] == lev) & (pt["op"] == "=~") & (pt["lhs"] == f)]
        if mm.empty:
            return None, None
        items = [observed.index(v) for v in mm["rhs"]]
        gm = mats[lev - 1]
        j = model.latent.index(f)
        lam = gm.lam[items, j]
        return items, float(lam.sum() ** 2 * gm.psi[j, j])

    rows = []
    for lev, name in ((1, "within"), (2, "between")):
        mm = pt[(pt["level"] == lev) & (pt["op"] == "=~")]
        for f in dict.fromkeys(mm["lhs"]):
            items, common = block(f, lev)
            rows.append({"construct": f, "level": name, "coefficient": "omega",
                         "value": common / total[lev][np.ix_(items, items)].sum(), "n_items": len(items)})
    for f in config:
        i1, c1 = block(f, 1)
        i2, c2 = block(f, 2)
        if i1 is None or i2 is None or i1 != i2:
            raise SpecificationError(
                f"configural construct {f!r}: needs a factor of that name at both levels with the same "
                "indicators (e.g. 'level: 1  f =~ y1 + y2 + y3' and 'level: 2  f =~ y1 + y2 + y3')")
        s1, s2 = total[1][np.ix_(i1, i1)].sum(), total[2][np.ix_(i1, i1)].sum()
        rows.append({"construct": f, "level": "within", "coefficient": "omega_W", "value": c1 / s1,
                     "n_items": len(i1)})
        rows.append({"construct": f, "level": "total", "coefficient": "omega_2L", "value": (c1 + c2) / (s1 + s2),
                     "n_items": len(i1)})
    inv_n = float(np.mean(1.0 / tl["cd"].nj))
    for f in shared:
        i2, c2 = block(f, 2)
        if i2 is None:
            raise SpecificationError(f"shared construct {f!r} is not a factor of 'level: 2'")
        s1, s2 = total[1][np.ix_(i2, i2)].sum(), total[2][np.ix_(i2, i2)].sum()
        denom = s2 + s1 * inv_n
        rows.append({"construct": f, "level": "between", "coefficient": "omega_B", "value": c2 / denom,
                     "n_items": len(i2)})
        rows.append({"construct": f, "level": "between", "coefficient": "IRR", "value": s2 / denom,
                     "n_items": len(i2)})
    return pd.DataFrame(rows)
