"""The GP's Kumaraswamy input warping (issue 17): the warp, its gradients, and what the fit gains."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import check_grad
from scipy.stats import qmc

from tunelab.space import parse_search_space
from tunelab.tuners._gp._features import Features
from tunelab.tuners._gp._model import (
    Posterior,
    default_theta,
    fit_theta,
    fit_theta_selecting_warps,
    neg_log_marginal,
)
from tunelab.tuners._gp._tuner import GPTuner
from tunelab.tuners._gp._warping import EPS, Warp, kumaraswamy, kumaraswamy_grads
from tunelab.tuners._unit import UnitSpace


@pytest.mark.parametrize(("a", "b"), [(0.1, 1.0), (1.0, 0.1), (0.3, 4.0), (5.0, 0.5), (10.0, 10.0)])
def test_the_warp_is_monotone_within_0_and_1(a: float, b: float) -> None:
    x = np.linspace(0.0, 1.0, 2001)
    f = kumaraswamy(x, np.array(a), np.array(b))
    assert np.all(np.diff(f) >= 0.0) and f[-1] > f[0]
    assert 0.0 <= f[0] and f[-1] <= 1.0  # the inputs are squeezed into [EPS, 1 - EPS] first
    assert np.all(kumaraswamy_grads(x, np.array(a), np.array(b))[3] >= 0.0)


def test_the_warp_is_the_identity_at_a_b_1() -> None:
    x = np.linspace(0.0, 1.0, 101)
    assert np.allclose(kumaraswamy(x, np.array(1.0), np.array(1.0)), x, atol=2 * EPS)
    warp = Warp.from_log_shapes(np.array([1]), np.zeros(2))
    rows = np.random.default_rng(0).random((5, 3))
    assert np.allclose(warp(rows), rows, atol=2 * EPS)


def test_a_below_1_stretches_the_start_b_below_1_the_end() -> None:
    assert kumaraswamy(np.array(0.02), np.array(0.25), np.array(1.0)) > 0.3
    assert kumaraswamy(np.array(0.98), np.array(1.0), np.array(0.25)) < 0.7


def test_the_warps_derivatives_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.01, 0.99, 50)
    la, lb = rng.normal(size=50) * 0.8, rng.normal(size=50) * 0.8
    _, d_log_a, d_log_b, d_x = kumaraswamy_grads(x, np.exp(la), np.exp(lb))
    h = 1e-6

    def f(x: np.ndarray, la: np.ndarray, lb: np.ndarray) -> np.ndarray:
        return kumaraswamy(x, np.exp(la), np.exp(lb))

    assert np.allclose(d_log_a, (f(x, la + h, lb) - f(x, la - h, lb)) / (2 * h), rtol=1e-5, atol=1e-8)
    assert np.allclose(d_log_b, (f(x, la, lb + h) - f(x, la, lb - h)) / (2 * h), rtol=1e-5, atol=1e-8)
    assert np.allclose(d_x, (f(x + h, la, lb) - f(x - h, la, lb)) / (2 * h), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("gls", [False, True])
def test_the_marginal_likelihoods_gradient_in_the_warps_shapes_is_exact(gls: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((25, 4))
    y = np.sin(4 * x).sum(axis=1)
    warped = np.array([0, 2, 3])
    theta = default_theta(4, len(warped)) + rng.normal(size=4 + 2 + 6) * 0.3

    def value(t: np.ndarray) -> float:
        return neg_log_marginal(t, x, y, gls, warped)[0]

    def grad(t: np.ndarray) -> np.ndarray:
        return neg_log_marginal(t, x, y, gls, warped)[1]

    scale = np.linalg.norm(grad(theta))
    assert check_grad(value, grad, theta, epsilon=1e-6) < 1e-4 * max(1.0, scale)


def test_the_posteriors_input_gradients_include_the_warp() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((20, 3))
    y = np.cos(3 * x).sum(axis=1)
    warped = np.array([0, 1])
    theta = np.concatenate([np.log([0.4, 0.5, 0.6]), [0.0, math.log(1e-4)], np.log([0.4, 2.0, 1.5, 0.6])])
    post = Posterior.fit(theta, x, y, warped=warped)
    xs = rng.uniform(0.05, 0.95, (6, 3))
    mean, std, dmean, dstd = post.predict_with_grad(xs)
    assert np.allclose(mean, post.predict(xs)[0]) and np.allclose(std, post.predict(xs)[1])
    h = 1e-6
    for j in range(3):
        step = np.zeros(3)
        step[j] = h
        up, down = post.predict(xs + step), post.predict(xs - step)
        assert np.allclose(dmean[:, j], (up[0] - down[0]) / (2 * h), rtol=1e-4, atol=1e-6)
        assert np.allclose(dstd[:, j], (up[1] - down[1]) / (2 * h), rtol=1e-4, atol=1e-6)


def _warped_toy(x: np.ndarray) -> np.ndarray:
    """Fast oscillation in the first few percent of input 0 (its useful range), slow elsewhere."""
    g = kumaraswamy(x[:, 0], np.array(0.25), np.array(1.0))
    return np.sin(3 * math.pi * g) + x[:, 1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_fit_recovers_a_warped_function_better_than_without(seed: int) -> None:
    x = qmc.Sobol(2, seed=seed).random_base2(5)
    y = _warped_toy(x)
    test = np.random.default_rng(seed).random((500, 2))
    errors = []
    for warped in (np.array([], dtype=int), np.array([0, 1])):
        theta = fit_theta(x, y, [default_theta(2, len(warped))], warped=warped)
        post = Posterior.fit(theta, x, y, warped=warped)
        errors.append(float(np.sqrt(np.mean((post.predict(test)[0] - _warped_toy(test)) ** 2))))
        if len(warped):
            a, b = np.exp(theta[4:6]), np.exp(theta[6:])
            assert a[0] < 0.5 and abs(math.log(a[1])) < 0.3 and np.all(np.abs(np.log(b)) < 0.3)
    assert errors[1] < 0.5 * errors[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_warps_are_kept_where_the_data_need_them_and_dropped_where_not(seed: int) -> None:
    x = qmc.Sobol(2, seed=seed).random_base2(5)
    theta = fit_theta_selecting_warps(x, _warped_toy(x), [default_theta(2, 2)], np.array([0, 1]))
    assert math.exp(theta[4]) < 0.5  # input 0's start stretched
    # A smooth bowl on 16 points in 4 dimensions: 8 shape parameters do not pay for themselves.
    x = qmc.Sobol(4, seed=seed).random_base2(4)
    y = np.sum((x - 0.5) ** 2, axis=1)
    theta = fit_theta_selecting_warps(x, y, [default_theta(4, 4)], np.arange(4))
    assert theta.size == 4 + 2 + 8 and np.all(theta[6:] == 0.0)


def test_only_real_valued_inputs_are_warped() -> None:
    space = parse_search_space(
        {
            "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
            "opt": {"_type": "choice", "_value": ["sgd", "adam"]},
            "layers": {"_type": "randint", "_value": [1, 8]},
            "dropout": {"_type": "uniform", "_value": [0, 0.5]},
        }
    )
    unit = UnitSpace(space)
    features = Features(unit)
    names = [unit.leaves[j].key for j in features.numeric]
    assert sorted(names[c] for c in features.warped) == ["dropout", "lr"]


def test_the_tuner_fits_warps_and_suggests_inside_the_box() -> None:
    space = parse_search_space(
        {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
    )
    tuner = GPTuner(space, seed=0, n_initial_points=5, n_candidates=200)
    for _ in range(12):
        trial_id, params = tuner.suggest()
        assert 0.0 <= params["x"] <= 1.0 and 0.0 <= params["y"] <= 1.0
        tuner.observe(trial_id, float(_warped_toy(np.array([[params["x"], params["y"]]]))[0]))
    assert tuner._theta is not None and tuner._theta.size == 2 + 2 + 4
