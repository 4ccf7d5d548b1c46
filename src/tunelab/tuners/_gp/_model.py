"""A Gaussian process with a Matern-5/2 ARD kernel, fitted by marginal likelihood: pure array code.

Inputs live in the unit cube; outputs are expected standardized. Hyperparameters are
``log`` lengthscales (one per input), ``log`` signal variance and ``log`` noise variance,
fitted with L-BFGS-B on the exact log marginal likelihood and its analytic gradient,
under a weak log-normal prior on the lengthscales that keeps fits sane with few points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

_SQRT5 = math.sqrt(5.0)
LOG_LENGTH_BOUNDS = (math.log(0.01), math.log(20.0))
LOG_SIGNAL_BOUNDS = (math.log(0.05), math.log(20.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
_LENGTH_PRIOR_MU, _LENGTH_PRIOR_SD = math.log(0.5), 1.5


def default_theta(dim: int) -> np.ndarray:
    return np.concatenate([np.full(dim, math.log(0.5)), [0.0, math.log(1e-3)]])


def matern52(x1: np.ndarray, x2: np.ndarray, lengths: np.ndarray, signal: float) -> np.ndarray:
    """The kernel matrix between rows of ``x1`` and ``x2``."""
    r = _distance(x1 / lengths, x2 / lengths)
    return signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r**2) * np.exp(-_SQRT5 * r)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def neg_log_marginal(theta: np.ndarray, x: np.ndarray, y: np.ndarray, gls: bool = True) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus prior, and its gradient in ``theta``.

    With ``gls`` the constant prior mean is profiled out (:func:`gls_mean`), else it is 0.
    """
    n, dim = x.shape
    lengths, signal, noise = np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1])
    scaled = x / lengths
    r = _distance(scaled, scaled)
    e = np.exp(-_SQRT5 * r)
    kf = signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r**2) * e
    k = kf + (noise + 1e-8) * np.eye(n)
    try:
        chol = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    if gls:
        y = y - gls_mean(chol, y)  # the constant mean profiled out (its gradient term vanishes at the optimum)
    alpha = cho_solve((chol, True), y)
    value = 0.5 * y @ alpha + np.sum(np.log(np.diag(chol))) + 0.5 * n * math.log(2 * math.pi)
    w = np.outer(alpha, alpha) - cho_solve((chol, True), np.eye(n))
    # d K / d log l_j = A * (x_j - x_j')^2 / l_j^2 with A = signal * 5/3 * (1 + sqrt5 r) e^{-sqrt5 r}
    m = w * (signal * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e)
    mx = m @ scaled
    grad_len = np.sum(scaled**2 * m.sum(axis=1)[:, None], axis=0) - np.sum(scaled * mx, axis=0)
    grad = np.empty_like(theta)
    grad[:dim] = -grad_len
    grad[dim] = -0.5 * np.sum(w * kf)
    grad[dim + 1] = -0.5 * noise * np.trace(w)
    # log-normal prior on the lengthscales
    dev = (theta[:dim] - _LENGTH_PRIOR_MU) / _LENGTH_PRIOR_SD
    value += 0.5 * float(dev @ dev)
    grad[:dim] += dev / _LENGTH_PRIOR_SD
    return float(value), grad


def gls_mean(chol: np.ndarray, y: np.ndarray) -> float:
    """The constant prior mean that maximizes the likelihood, ``1'K^-1 y / 1'K^-1 1``, within the data's range.

    Where most observations sit on a plateau (a model that fails the same way over much of
    the box), this is close to the plateau, not to the sample mean: unexplored corners are
    then predicted as what most of the box gives, and stop looking promising.
    """
    kinv1 = cho_solve((chol, True), np.ones(len(y)))
    # Clustered points make the estimate extrapolate (an ill-conditioned K): it stays within the data.
    return float(np.clip(kinv1 @ y / kinv1.sum(), np.min(y), np.max(y)))


def fit_theta(
    x: np.ndarray, y: np.ndarray, starts: list[np.ndarray], maxiter: int = 50, gls: bool = True
) -> np.ndarray:
    """The best hyperparameters found by L-BFGS-B from each of ``starts``."""
    dim = x.shape[1]
    bounds = [LOG_LENGTH_BOUNDS] * dim + [LOG_SIGNAL_BOUNDS, LOG_NOISE_BOUNDS]
    best, best_value = starts[0], math.inf
    for start in starts:
        start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
        result = minimize(
            neg_log_marginal,
            start,
            args=(x, y, gls),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": maxiter},
        )
        if result.fun < best_value:
            best, best_value = result.x, float(result.fun)
    return best


@dataclass(frozen=True)
class Posterior:
    """The GP conditioned on ``(x, y)`` with fixed hyperparameters."""

    x: np.ndarray
    lengths: np.ndarray
    signal: float
    chol: np.ndarray
    alpha: np.ndarray
    mean: float = 0.0

    @classmethod
    def fit(cls, theta: np.ndarray, x: np.ndarray, y: np.ndarray, mean: float | None = None) -> Posterior:
        """The posterior with prior mean ``mean``, or the likelihood's (:func:`gls_mean`) when None."""
        dim = x.shape[1]
        lengths, signal, noise = np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1])
        k = matern52(x, x, lengths, signal) + (noise + 1e-8) * np.eye(len(x))
        jitter = 1e-8
        while True:
            try:
                chol = np.linalg.cholesky(k + jitter * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                jitter *= 10
        mean = gls_mean(chol, y) if mean is None else mean
        return cls(x, lengths, signal, chol, cho_solve((chol, True), y - mean), mean)

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at rows ``xs``."""
        ks = matern52(xs, self.x, self.lengths, self.signal)
        mean = self.mean + ks @ self.alpha
        v = solve_triangular(self.chol, ks.T, lower=True)
        var = np.maximum(self.signal - np.sum(v**2, axis=0), 1e-12)
        return mean, np.sqrt(var)

    def predict_with_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, std and their gradients (shape ``(n, dim)``) at rows ``xs``."""
        diff = (xs[:, None, :] - self.x[None, :, :]) / self.lengths**2  # (n, m, dim)
        r = _distance(xs / self.lengths, self.x / self.lengths)
        e = np.exp(-_SQRT5 * r)
        ks = self.signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r**2) * e
        dks = -(5.0 / 3.0) * self.signal * ((1.0 + _SQRT5 * r) * e)[:, :, None] * diff  # d k / d xs
        mean = self.mean + ks @ self.alpha
        dmean = np.einsum("nmd,m->nd", dks, self.alpha)
        kinv_ks = cho_solve((self.chol, True), ks.T).T  # (n, m)
        var = np.maximum(self.signal - np.sum(ks * kinv_ks, axis=1), 1e-12)
        std = np.sqrt(var)
        dvar = -2.0 * np.einsum("nmd,nm->nd", dks, kinv_ks)
        return mean, std, dmean, dvar / (2.0 * std[:, None])
