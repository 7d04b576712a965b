"""Numerical kernels shared by the public modules: bootstrap resampling, factor extraction
and rotation, HTMT, omega, polychoric correlations and the reliability core."""
