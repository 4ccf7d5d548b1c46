"""Parzen estimators over unit-cube columns: the density model of TPE, as pure array code.

A :class:`Parzen` is a weighted mixture of product kernels, one per observation plus one
for the prior. Numeric columns get Gaussians truncated to ``[0, 1]``; choice columns get
categorical kernels that keep ``prior_weight / (m + 1)`` of their mass spread over every
option. Each numeric column's bandwidths follow Hyperopt's adaptive rule (a kernel is as
wide as the larger gap to its sorted neighbours, clipped), column by column also when the
columns are modelled jointly, as Optuna's TPE does since version 4; ``bandwidth="scott"``
gives every kernel the one width of Scott's rule instead, as in BOHB's estimator
(Falkner et al. 2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from tunelab.tuners._unit import CATEGORICAL, choice_index

_PRIOR_MU = 0.5
_PRIOR_SIGMA = 1.0
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class Parzen:
    """A mixture over ``d`` columns with ``k`` components (the last one is the prior)."""

    log_weights: np.ndarray  # (k,)
    log_coef: np.ndarray  # (k,): log weight plus the numeric kernels' log normalizers
    mus: np.ndarray  # (k, d); for a choice column, the option index (-1 for the prior)
    sigmas: np.ndarray  # (k, d); unused for choice columns
    kinds: np.ndarray  # (d,)
    n_options: np.ndarray  # (d,)
    smoothing: float  # categorical kernel mass spread over all options


def logsumexp(a: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``log(sum(exp(a)))``, stable; plain numpy because SciPy's is slow on small arrays."""
    peak = np.max(a, axis=axis, keepdims=True)
    peak[~np.isfinite(peak)] = 0.0
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out.squeeze(axis=axis) if axis is not None else out.reshape(())


def forgetting_weights(n: int, linear_forgetting: int) -> np.ndarray:
    """Hyperopt's weights for ``n`` observations in time order.

    Older ones ramp down past the last ``linear_forgetting``.
    """
    if n <= linear_forgetting or linear_forgetting <= 0:
        return np.ones(n)
    return np.concatenate([np.linspace(1.0 / n, 1.0, n - linear_forgetting), np.ones(linear_forgetting)])


def fit_parzen(
    points: np.ndarray,
    weights: np.ndarray,
    kinds: np.ndarray,
    n_options: np.ndarray,
    *,
    prior_weight: float,
    bandwidth: str = "neighbour",
) -> Parzen:
    """The estimator of ``points`` (shape ``(m, d)``, unit coordinates) with per-point ``weights``."""
    m, d = points.shape
    mus = np.vstack([points, np.full((1, d), _PRIOR_MU)])
    sigmas = np.ones((m + 1, d)) * _PRIOR_SIGMA
    log_w = np.log(np.append(weights, prior_weight) + 1e-300)
    log_w -= float(logsumexp(log_w))
    numeric = kinds != CATEGORICAL
    min_sigma = _PRIOR_SIGMA / min(100.0, 1.0 + m + 1)
    if m and bandwidth == "scott":
        sigmas[:m, numeric] = max(0.2 * m ** (-1.0 / (d + 4)), min_sigma)
    elif m:
        for j in np.flatnonzero(numeric):
            sigmas[:m, j] = _neighbour_bandwidth(points[:, j], min_sigma)
    cat = ~numeric
    if cat.any():
        for j in np.flatnonzero(cat):
            mus[:m, j] = choice_index(points[:, j], int(n_options[j]))
        mus[m, cat] = -1
    smoothing = prior_weight / (m + 1)
    mu, sigma = mus[:, numeric], sigmas[:, numeric]
    mass = ndtr((1.0 - mu) / sigma) - ndtr(-mu / sigma)
    log_coef = log_w - np.sum(np.log(sigma * np.maximum(mass, 1e-300)) + _LOG_SQRT_2PI, axis=1)
    return Parzen(log_w, log_coef, mus, sigmas, kinds, n_options, smoothing)


def _neighbour_bandwidth(x: np.ndarray, min_sigma: float) -> np.ndarray:
    """Each point's kernel as wide as the larger gap to its sorted neighbours (the ends: their one gap)."""
    if len(x) == 1:
        return np.array([max(x[0], 1.0 - x[0], min_sigma)])
    order = np.argsort(x, kind="stable")
    gaps = np.diff(x[order])
    sig = np.empty_like(x)
    sig[order] = np.maximum(np.concatenate([gaps[:1], gaps]), np.concatenate([gaps, gaps[-1:]]))
    return np.clip(sig, min_sigma, _PRIOR_SIGMA)


def log_pdf(parzen: Parzen, x: np.ndarray) -> np.ndarray:
    """Log density of rows ``x`` (shape ``(n, d)``) under the mixture."""
    total = parzen.log_coef[None, :]
    for j in range(x.shape[1]):
        total = total + _column_log_kernel(parzen, j, x[:, j])
    return logsumexp(total, axis=1)


def _column_log_kernel(parzen: Parzen, j: int, xj: np.ndarray) -> np.ndarray:
    """``(n, k)`` log kernel values of column ``j`` (numeric ones without their normalizer)."""
    mu, sigma = parzen.mus[:, j], parzen.sigmas[:, j]
    if parzen.kinds[j] == CATEGORICAL:
        n_opt = int(parzen.n_options[j])
        idx = choice_index(xj, n_opt)
        eps = parzen.smoothing
        hit = idx[:, None] == mu[None, :]
        prior = mu[None, :] < 0
        p = np.where(prior, 1.0 / n_opt, (hit + eps) / (1.0 + n_opt * eps))
        return np.log(np.maximum(p, 1e-300))
    z = (xj[:, None] - mu[None, :]) * (1.0 / sigma)[None, :]
    z *= z
    z *= -0.5
    return z


def sample(parzen: Parzen, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows drawn from the mixture."""
    weights = np.exp(parzen.log_weights)
    comp = rng.choice(weights.size, size=n, p=weights / weights.sum())
    d = parzen.mus.shape[1]
    out = np.empty((n, d))
    for j in range(d):
        mu, sigma = parzen.mus[comp, j], parzen.sigmas[comp, j]
        if parzen.kinds[j] == CATEGORICAL:
            n_opt = int(parzen.n_options[j])
            eps = parzen.smoothing
            keep = rng.random(n) < 1.0 / (1.0 + n_opt * eps)
            idx = np.where((mu >= 0) & keep, mu, rng.integers(n_opt, size=n)).astype(int)
            out[:, j] = (idx + 0.5) / n_opt
            continue
        lo, hi = ndtr(-mu / sigma), ndtr((1.0 - mu) / sigma)
        u = lo + rng.random(n) * (hi - lo)
        out[:, j] = np.clip(mu + sigma * ndtri(np.clip(u, 1e-300, 1 - 1e-16)), 0.0, 1.0)
    return out
