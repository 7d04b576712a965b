"""Standardized solutions as lavaan's ``standardizedSolution()`` (private).

``std_lv`` rescales the latent variables to unit (model-implied) variance;
``std_all`` also rescales the observed variables by their model-implied
standard deviations (``lavaan:::lav_standardize_lv`` / ``lav_standardize_all``).
"""

from __future__ import annotations

import numpy as np


def standardize(model, x: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (std_lv, std_all) for every row of the parameter table."""
    implied = model.implied(x)
    lvm = model.lv_moments(x)
    mats = model.matrices(x)
    std_lv = np.full(len(est), np.nan)
    std_all = np.full(len(est), np.nan)
    for r, ((g, name, i, j), value) in enumerate(zip(model.rows, est)):
        sigma, _mu = implied[g]
        phi, _ = lvm[g]
        sd_lv = np.sqrt(np.clip(np.diag(phi), 0, None))
        sd_ov = np.sqrt(np.clip(np.diag(sigma), 0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            if name == "lam":
                std_lv[r] = value * sd_lv[j]
                std_all[r] = value * sd_lv[j] / sd_ov[i]
            elif name == "beta":
                std_lv[r] = value * sd_lv[j] / sd_lv[i]
                std_all[r] = std_lv[r]
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
