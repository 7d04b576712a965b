"""Standardized solutions as lavaan's ``standardizedSolution()`` (private).

``std_lv`` rescales the latent variables to unit (model-implied) variance;
``std_all`` also rescales the observed variables by their model-implied
standard deviations (``lavaan:::lav_standardize_lv`` / ``lav_standardize_all``).
``std_nox`` (:func:`standardize_nox`) is ``std_all`` without rescaling the
observed exogenous covariates (``lav_standardize_all_nox``).

Observed covariates (fixed.x) are "phantom" latent variables in the model
(``model.exo_lv``): for ``std_lv`` they keep their raw scale, as observed
variables do in lavaan; for ``std_all`` their standard deviation is the
sample one (their implied variance).
"""

from __future__ import annotations

import numpy as np


def standardize(model, x: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (std_lv, std_all) for every row of the parameter table."""
    return _standardize(model, x, est, nox=False)


def standardize_nox(model, x: np.ndarray, est: np.ndarray) -> np.ndarray:
    """``std.nox`` for every row: ``std_all`` with the covariates left unscaled."""
    return _standardize(model, x, est, nox=True)[1]


def _standardize(model, x: np.ndarray, est: np.ndarray, nox: bool) -> tuple[np.ndarray, np.ndarray]:
    exo = np.asarray(getattr(model, "exo_lv", ()), dtype=int)
    exo_set = set(exo.tolist())
    implied = model.implied(x)
    lvm = model.lv_moments(x)
    mats = model.matrices(x)
    std_lv = np.full(len(est), np.nan)
    std_all = np.full(len(est), np.nan)
    scales = []  # per group: the standard deviations the rows are scaled by
    for (sigma, _mu), (phi, _) in zip(implied, lvm):
        sd_lv = np.sqrt(np.clip(np.diag(phi), 0, None))
        sd_ov = np.sqrt(np.clip(np.diag(sigma), 0, None))
        # std_lv scale of the latent variables: covariates keep their raw scale
        sd_l1 = sd_lv.copy()
        sd_l1[exo] = 1.0
        scales.append((sd_lv, sd_ov, sd_l1, sd_l1 if nox else sd_lv))
    for r, ((g, name, i, j), value) in enumerate(zip(model.rows, est)):
        sigma, _mu = implied[g]
        phi, _ = lvm[g]
        sd_lv, sd_ov, sd_l1, sd_all = scales[g]
        with np.errstate(divide="ignore", invalid="ignore"):
            if name in ("psi", "alpha") and i in exo_set:
                # a covariate's fixed (co)variance or mean
                std_lv[r] = value
                if nox:
                    std_all[r] = value
                elif name == "alpha":
                    std_all[r] = value / sd_lv[i]
                else:
                    std_all[r] = value / (sd_lv[i] * sd_lv[j])
            elif name == "lam":
                std_lv[r] = value * sd_l1[j]
                std_all[r] = value * sd_all[j] / sd_ov[i]
            elif name == "beta":
                std_lv[r] = value * sd_l1[j] / sd_lv[i]
                std_all[r] = value * sd_all[j] / sd_lv[i]
            elif name == "psi":
                if i == j:
                    std_lv[r] = value / phi[i, i]
                else:  # covariances are scaled by the (residual) variances (cov.std = TRUE)
                    psi = mats[g].psi
                    std_lv[r] = value / np.sqrt(psi[i, i] * psi[j, j])
                std_all[r] = std_lv[r]
            elif name == "theta":
                std_lv[r] = value
                if i == j:
                    std_all[r] = value / sigma[i, i]
                else:
                    th = mats[g].theta
                    std_all[r] = value / np.sqrt(th[i, i] * th[j, j])
            elif name == "nu":
                std_lv[r] = value
                std_all[r] = value / sd_ov[i]
            elif name == "alpha":
                std_lv[r] = value / sd_lv[i]
                std_all[r] = std_lv[r]
    return std_lv, std_all
