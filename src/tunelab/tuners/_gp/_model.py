"""A Gaussian process with a Matern-5/2 ARD kernel, fitted by marginal likelihood: pure array code.

Inputs live in the unit cube; outputs are expected standardized. Hyperparameters are
``log`` lengthscales (one per input), ``log`` signal variance and ``log`` noise variance,
then, for the ``warped`` input columns, the ``log`` shapes of their Kumaraswamy warps
(``log a`` of each, then ``log b`` of each; :mod:`._warping`). They are fitted together with
L-BFGS-B on the exact log marginal likelihood and its analytic gradient, under a weak
log-normal prior on the lengthscales that keeps fits sane with few points and one centred
on the identity on the warps' shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.optimize import minimize

from tunelab.tuners._gp._warping import LOG_SHAPE_BOUNDS, Warp, kumaraswamy_grads, log_prior

_SQRT5 = math.sqrt(5.0)
LOG_LENGTH_BOUNDS = (math.log(0.01), math.log(20.0))
LOG_SIGNAL_BOUNDS = (math.log(0.05), math.log(20.0))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))
_LENGTH_PRIOR_MU, _LENGTH_PRIOR_SD = math.log(0.5), 1.5


def default_theta(dim: int, n_warped: int = 0) -> np.ndarray:
    """The starting hyperparameters: lengthscales 0.5, unit signal, noise 1e-3, warps the identity."""
    return np.concatenate([np.full(dim, math.log(0.5)), [0.0, math.log(1e-3)], np.zeros(2 * n_warped)])


def theta_bounds(dim: int, n_warped: int = 0) -> list[tuple[float, float]]:
    """L-BFGS-B's bounds on each entry of theta."""
    return [LOG_LENGTH_BOUNDS] * dim + [LOG_SIGNAL_BOUNDS, LOG_NOISE_BOUNDS] + [LOG_SHAPE_BOUNDS] * (2 * n_warped)


def matern52(x1: np.ndarray, x2: np.ndarray, lengths: np.ndarray, signal: float) -> np.ndarray:
    """The kernel matrix between rows of ``x1`` and ``x2``."""
    r = _distance(x1 / lengths, x2 / lengths)
    return signal * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r**2) * np.exp(-_SQRT5 * r)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))


def neg_log_marginal(
    theta: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    gls: bool = True,
    warped: np.ndarray | tuple[int, ...] = (),
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood plus priors, and its gradient in ``theta``.

    With ``gls`` the constant prior mean is profiled out (:func:`gls_mean`), else it is 0.
    ``warped`` are the columns of ``x`` whose Kumaraswamy shapes end ``theta``.
    """
    n, dim = x.shape
    cols = np.asarray(warped, dtype=int)
    n_warped = len(cols)
    lengths, signal, noise = np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1])
    if n_warped:
        x = np.array(x, dtype=float, copy=True)
        a, b = np.exp(theta[dim + 2 : dim + 2 + n_warped]), np.exp(theta[dim + 2 + n_warped :])
        x[:, cols], d_log_a, d_log_b, _ = kumaraswamy_grads(x[:, cols], a, b)
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
    m_sum = m.sum(axis=1)
    grad_len = np.sum(scaled**2 * m_sum[:, None], axis=0) - np.sum(scaled * mx, axis=0)
    grad = np.empty_like(theta)
    grad[:dim] = -grad_len
    grad[dim] = -0.5 * np.sum(w * kf)
    grad[dim + 1] = -0.5 * noise * np.trace(w)
    # log-normal prior on the lengthscales
    dev = (theta[:dim] - _LENGTH_PRIOR_MU) / _LENGTH_PRIOR_SD
    value += 0.5 * float(dev @ dev)
    grad[:dim] += dev / _LENGTH_PRIOR_SD
    if n_warped:
        # d value / d z_ij = sum_k m_ik (z_ij - z_kj) / l_j^2 for a warped input z, then the chain rule
        d_z = (scaled[:, cols] * m_sum[:, None] - mx[:, cols]) / lengths[cols]
        grad[dim + 2 : dim + 2 + n_warped] = np.sum(d_z * d_log_a, axis=0)
        grad[dim + 2 + n_warped :] = np.sum(d_z * d_log_b, axis=0)
        prior_value, prior_grad = log_prior(theta[dim + 2 :])
        value += prior_value
        grad[dim + 2 :] += prior_grad
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
    x: np.ndarray,
    y: np.ndarray,
    starts: list[np.ndarray],
    maxiter: int = 50,
    gls: bool = True,
    warped: np.ndarray | tuple[int, ...] = (),
) -> np.ndarray:
    """The best hyperparameters found by L-BFGS-B from each of ``starts``."""
    bounds = theta_bounds(x.shape[1], len(warped))
    best, best_value = starts[0], math.inf
    for start in starts:
        start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
        result = minimize(
            neg_log_marginal,
            start,
            args=(x, y, gls, warped),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": maxiter},
        )
        if result.fun < best_value:
            best, best_value = result.x, float(result.fun)
    return best


def fit_theta_selecting_warps(
    x: np.ndarray,
    y: np.ndarray,
    starts: list[np.ndarray],
    warped: np.ndarray | tuple[int, ...],
    maxiter: int = 50,
    gls: bool = True,
) -> np.ndarray:
    """Hyperparameters fitted with the warps of ``warped`` and without; the warps kept only if they pay.

    Warps are kept when they lower the fit's objective (negative log marginal likelihood plus
    priors) by more than one nat per shape parameter (Akaike's penalty); else the fit without
    warps is returned, with identity shapes. With few points in several dimensions the shapes
    otherwise bend the inputs to fit noise and the GP extrapolates from them.
    """
    dim, n_warped = x.shape[1], len(warped)
    with_warps = fit_theta(x, y, starts, maxiter, gls, warped)
    if not n_warped:
        return with_warps
    plain = fit_theta(x, y, [start[: dim + 2] for start in starts], maxiter, gls)
    gain = neg_log_marginal(plain, x, y, gls)[0] - neg_log_marginal(with_warps, x, y, gls, warped)[0]
    return with_warps if gain > 2 * n_warped else np.concatenate([plain, np.zeros(2 * n_warped)])


@dataclass(frozen=True)
class Posterior:
    """The GP conditioned on ``(x, y)`` with fixed hyperparameters.

    ``x`` holds the training inputs as the kernel sees them, after ``warp``; the methods
    take inputs before it.
    """

    x: np.ndarray
    lengths: np.ndarray
    signal: float
    chol: np.ndarray
    alpha: np.ndarray
    mean: float = 0.0
    warp: Warp | None = None

    @classmethod
    def fit(
        cls,
        theta: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        mean: float | None = None,
        warped: np.ndarray | tuple[int, ...] = (),
    ) -> Posterior:
        """The posterior with prior mean ``mean``, or the likelihood's (:func:`gls_mean`) when None.

        ``warped`` are the columns whose Kumaraswamy shapes end ``theta`` (:func:`neg_log_marginal`).
        """
        dim = x.shape[1]
        lengths, signal, noise = np.exp(theta[:dim]), math.exp(theta[dim]), math.exp(theta[dim + 1])
        warp = Warp.from_log_shapes(np.asarray(warped, dtype=int), theta[dim + 2 :]) if len(warped) else None
        x = x if warp is None else warp(x)
        k = matern52(x, x, lengths, signal) + (noise + 1e-8) * np.eye(len(x))
        jitter = 1e-8
        while True:
            try:
                chol = np.linalg.cholesky(k + jitter * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                jitter *= 10
        mean = gls_mean(chol, y) if mean is None else mean
        return cls(x, lengths, signal, chol, cho_solve((chol, True), y - mean), mean, warp)

    def predict(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at rows ``xs``."""
        xs = xs if self.warp is None else self.warp(xs)
        ks = matern52(xs, self.x, self.lengths, self.signal)
        mean = self.mean + ks @ self.alpha
        v = solve_triangular(self.chol, ks.T, lower=True)
        var = np.maximum(self.signal - np.sum(v**2, axis=0), 1e-12)
        return mean, np.sqrt(var)

    def predict_with_grad(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, std and their gradients (shape ``(n, dim)``) at rows ``xs``."""
        slope = None
        if self.warp is not None:
            xs, slope = self.warp.with_slope(xs)
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
        dstd = dvar / (2.0 * std[:, None])
        if slope is not None:
            dmean, dstd = dmean * slope, dstd * slope
        return mean, std, dmean, dstd
