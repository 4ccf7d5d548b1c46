"""Input warping: a Kumaraswamy CDF per numeric input (Snoek et al. 2014; HEBO; BoTorch's ``Warp``).

A warped input ``x`` in [0, 1] becomes ``F(x) = 1 - (1 - x^a)^b``, monotone from 0 to 1,
the identity at ``a = b = 1``. With ``a < 1`` the start of the range is stretched (a
parameter whose useful values are its first few percent, on whatever scale it is
searched); with ``b < 1`` the end. The shapes are fitted with the kernel's
hyperparameters, as ``log a`` and ``log b`` under a log-normal prior centred on the
identity, LogNormal(0, 0.75 ** 0.5), the prior BoTorch's input-warping examples use.

Inputs are first squeezed into ``[EPS, 1 - EPS]`` (as BoTorch's ``Warp`` does), so the
CDF and its derivatives stay finite at the bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Inputs are mapped into [EPS, 1 - EPS] before warping.
EPS = 1e-7

#: Bounds of the fitted ``log a`` and ``log b``.
LOG_SHAPE_BOUNDS = (math.log(0.1), math.log(10.0))

#: Standard deviation of the normal prior on ``log a`` and ``log b`` (mean 0: the identity).
SHAPE_PRIOR_SD = math.sqrt(0.75)


def _squeeze(x: np.ndarray) -> np.ndarray:
    return EPS + (1.0 - 2.0 * EPS) * np.clip(x, 0.0, 1.0)


def kumaraswamy(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - (1 - x^a)^b`` per column (``a``, ``b`` broadcast over the rows)."""
    return -np.expm1(b * np.log1p(-(_squeeze(x) ** a)))


def kumaraswamy_grads(
    x: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CDF and its derivatives in ``log a``, ``log b`` and ``x``, elementwise."""
    s = _squeeze(x)
    log_s = np.log(s)
    xa = np.exp(a * log_s)  # s^a
    log_rest = np.log1p(-xa)  # log(1 - s^a)
    rest_b = np.exp(b * log_rest)  # (1 - s^a)^b
    rest_b1 = np.exp((b - 1.0) * log_rest)  # (1 - s^a)^(b - 1)
    value = 1.0 - rest_b
    d_log_a = a * b * rest_b1 * xa * log_s  # a * dF/da
    d_log_b = -b * rest_b * log_rest  # b * dF/db
    d_x = (1.0 - 2.0 * EPS) * a * b * np.exp((a - 1.0) * log_s) * rest_b1
    return value, d_log_a, d_log_b, d_x


@dataclass(frozen=True)
class Warp:
    """Kumaraswamy warps of some columns of a GP input matrix; the other columns pass through."""

    columns: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def from_log_shapes(cls, columns: np.ndarray, log_shapes: np.ndarray) -> Warp:
        """From ``log a`` of every column, then ``log b`` of every column (the GP's theta layout)."""
        k = len(columns)
        return cls(np.asarray(columns, dtype=int), np.exp(log_shapes[:k]), np.exp(log_shapes[k:]))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if not len(self.columns):
            return x
        out = np.array(x, dtype=float, copy=True)
        out[:, self.columns] = kumaraswamy(x[:, self.columns], self.a, self.b)
        return out

    def with_slope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The warped rows and ``dF/dx`` per entry (1 in columns that are not warped)."""
        out = np.array(x, dtype=float, copy=True)
        slope = np.ones_like(out)
        if len(self.columns):
            value, _, _, d_x = kumaraswamy_grads(x[:, self.columns], self.a, self.b)
            out[:, self.columns] = value
            slope[:, self.columns] = d_x
        return out, slope


def log_prior(log_shapes: np.ndarray) -> tuple[float, np.ndarray]:
    """The negative log prior of ``log a`` and ``log b`` (up to a constant) and its gradient."""
    dev = log_shapes / SHAPE_PRIOR_SD
    return 0.5 * float(dev @ dev), dev / SHAPE_PRIOR_SD
