"""Log expected improvement (Ament et al. 2023, "Unexpected Improvements to Expected Improvement").

EI underflows to exactly zero far from the incumbent, which leaves a gradient search
nothing to follow; its logarithm computed this way stays finite and smooth everywhere.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfcx, log_ndtr

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LOG_SQRT_PI_2 = 0.5 * math.log(math.pi / 2)
_BIG = 1e6


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z * Phi(z))``, accurate for every ``z``."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    mid = z > -1.0
    zm = z[mid]
    out[mid] = np.log(np.exp(-0.5 * zm**2 - _LOG_SQRT_2PI) + zm * np.exp(log_ndtr(zm)))
    low = ~mid
    zl = z[low]
    # phi(z) * (1 - |z| * Phi(z)/phi(z)) with the Mills ratio from erfcx
    inner = np.log(erfcx(-zl / math.sqrt(2)) * np.abs(zl)) + _LOG_SQRT_PI_2
    tail = -0.5 * zl**2 - _LOG_SQRT_2PI
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = tail + np.log(-np.expm1(inner))
    asymptotic = tail - 2.0 * np.log(np.abs(zl))
    out[low] = np.where((zl > -_BIG) & np.isfinite(exact), exact, asymptotic)
    return out


def log_ei(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Log EI of minimization below ``best``."""
    return log_h((best - mean) / std) + np.log(std)


def log_ei_grad(
    mean: np.ndarray, std: np.ndarray, dmean: np.ndarray, dstd: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray]:
    """Log EI and its gradient, given the posterior's and their gradients."""
    z = (best - mean) / std
    lh = log_h(z)
    # d log h / dz = Phi(z) / h(z)
    dlh = np.exp(log_ndtr(z) - lh)
    dz = -(dmean + z[:, None] * dstd) / std[:, None]
    return lh + np.log(std), dlh[:, None] * dz + dstd / std[:, None]
