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


def multilevel_omega(fit, *, obs_var: bool = True) -> pd.DataFrame:
    """Omega of each factor at each level of a two-level CFA (Geldhof et al., 2014).

    For factor ``f`` with indicators ``I`` at level ``l`` (within or between)::

        omega_l = 1' (Lambda_f psi_f Lambda_f') 1 / 1' S_l[I, I] 1

    the variance of the sum of ``I`` due to ``f`` over the total variance of
    that sum at that level: with ``obs_var=True`` (semTools' default) the
    saturated model's level covariance matrix (the fit's ``sample_cov_``, the
    fully maximised H1; semTools uses lavaan's EM estimate of it, which stops a
    little short of the maximum, so the third decimal can differ), with
    ``obs_var=False`` the model-implied one.

    Parameters
    ----------
    fit : custval.CFA
        A fitted two-level CFA (a model with ``level:`` blocks, fitted with ``cluster=``).
    obs_var : bool, default True
        Denominator from the saturated (observed) level covariance (semTools'
        ``obs.var = TRUE``) or from the model-implied one.

    Returns
    -------
    pandas.DataFrame
        One row per factor and level: ``construct``, ``level`` (``"within"`` /
        ``"between"``), ``omega``, ``n_items``.

    Raises
    ------
    SpecificationError
        ``fit`` is not a fitted two-level CFA.

    See Also
    --------
    custval.cfa.CFA : Two-level models with ``level:`` blocks and ``cluster=``.
    custval.validity.composite_reliability : Omega of a single-level CFA.

    Notes
    -----
    Convention: Geldhof, Preacher & Zyphur's (2014) level-specific omega, the
    same as ``semTools::compRelSEM(fit)`` (``obs.var = TRUE``,
    ``tau.eq = FALSE``) on a lavaan two-level model; residual covariances among
    a factor's indicators count in the denominator only.  Lai's (2021)
    ``omega_2L`` for configural and ``omega_B`` for shared constructs are not
    computed here.

    References
    ----------
    Geldhof, G. J., Preacher, K. J., & Zyphur, M. J. (2014). Reliability
    estimation in a multilevel confirmatory factor analysis framework.
    *Psychological Methods, 19*(1), 72-91.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custval import CFA, multilevel_omega
    >>> rng = np.random.default_rng(1)
    >>> firm = np.repeat(np.arange(80), 6)
    >>> y = (rng.normal(size=(480, 1)) @ [[1, .8, .9]] + rng.normal(0, .6, (80, 1))[firm] @ [[1, .9, .8]]
    ...      + rng.normal(0, .7, (480, 3)) + rng.normal(0, .15, (80, 3))[firm])
    >>> data = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(firm=firm)
    >>> fit = CFA("level: 1\\n fw =~ y1 + y2 + y3\\nlevel: 2\\n fb =~ y1 + y2 + y3", cluster="firm").fit(data)
    >>> multilevel_omega(fit)[["construct", "level", "n_items"]]
      construct    level  n_items
    0        fw   within        3
    1        fb  between        3

    # In R: semTools::compRelSEM(lavaan::cfa(model, data, cluster = "firm"))
    """
    tl = getattr(fit, "_twolevel", None)
    if tl is None:
        raise SpecificationError(
            "multilevel_omega needs a fitted two-level CFA (a model with 'level:' blocks fitted with "
            "cluster=); for a single-level CFA use custval.validity.composite_reliability")
    model, x = tl["model"], fit.x_
    mats = model.matrices(x)
    implied = model.implied(x)
    observed = list(fit.observed_)
    pt = tl["pt"]
    rows = []
    for lev, name in ((1, "within"), (2, "between")):
        gm = mats[lev - 1]
        total = fit.sample_cov_[name].to_numpy() if obs_var else implied[lev - 1][0]
        mm = pt[(pt["level"] == lev) & (pt["op"] == "=~")]
        for f in dict.fromkeys(mm["lhs"]):
            items = [observed.index(v) for v in mm.loc[mm["lhs"] == f, "rhs"]]
            j = model.latent.index(f)
            lam = gm.lam[items, j]
            common = lam.sum() ** 2 * gm.psi[j, j]
            denom = total[np.ix_(items, items)].sum()
            rows.append({"construct": f, "level": name, "omega": float(common / denom), "n_items": len(items)})
    return pd.DataFrame(rows)
