"""Expected improvement over a model of log costs, as SMAC3's ``EI(log=True)`` computes it.

The forest predicts ``log(cost)`` with mean ``m`` and standard deviation ``s``; taken as
log-normal, the improvement of the cost over the incumbent's ``exp(eta)`` has expectation
``exp(eta) * Phi(v) - exp(m + s^2 / 2) * Phi(v - s)`` with ``v = (eta - m) / s``
(Hutter, Hoos, Leyton-Brown and Murphy 2009; ``smac/acquisition/function/expected_improvement.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

#: Below this standard deviation a prediction is taken as certain.
_TINY_STD = 1e-12


def log_space_ei(mean: np.ndarray, var: np.ndarray, eta: float) -> np.ndarray:
    """EI (in cost units) of predictions ``mean``, ``var`` of log costs, below the incumbent's log cost ``eta``.

    Where the variance is zero the improvement is certain: ``max(exp(eta) - exp(mean), 0)``.
    Never negative (rounding is clipped).
    """
    mean = np.asarray(mean, dtype=float)
    std = np.sqrt(np.maximum(np.asarray(var, dtype=float), 0.0))
    certain = std < _TINY_STD
    s = np.where(certain, 1.0, std)
    v = (eta - mean) / s
    with np.errstate(over="ignore"):
        ei = np.exp(eta) * ndtr(v) - np.exp(0.5 * s**2 + mean) * ndtr(v - s)
    ei = np.where(certain, np.exp(eta) - np.exp(mean), ei)
    return np.maximum(np.nan_to_num(ei, nan=0.0, posinf=0.0), 0.0)
