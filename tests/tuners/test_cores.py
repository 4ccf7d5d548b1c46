"""The algorithm cores as pure functions, and the arguments each tuner takes."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad
from scipy.stats import norm

from tunelab.errors import TunerError
from tunelab.space import parse_search_space
from tunelab.tuners import create_tuner
from tunelab.tuners._auto import choose
from tunelab.tuners._gp._acquisition import log_ei, log_h
from tunelab.tuners._gp._model import Posterior, default_theta, neg_log_marginal
from tunelab.tuners._gp._tuner import warp
from tunelab.tuners._tpe._core import n_below, split
from tunelab.tuners._tpe._parzen import fit_parzen, log_pdf, sample
from tunelab.tuners._tpe._tuner import constant_lie
from tunelab.tuners._unit import CATEGORICAL, NUMERIC


@pytest.mark.parametrize("bandwidth", ["neighbour", "scott"])
@pytest.mark.parametrize("d", [1, 2])
def test_parzen_density_integrates_to_one(d: int, bandwidth: str) -> None:
    rng = np.random.default_rng(0)
    parzen = fit_parzen(
        rng.random((7, d)), np.ones(7), np.full(d, NUMERIC), np.zeros(d, int), prior_weight=1.0, bandwidth=bandwidth
    )
    grid = (np.arange(400) + 0.5) / 400
    points = np.stack(np.meshgrid(*[grid] * d), axis=-1).reshape(-1, d)
    assert np.mean(np.exp(log_pdf(parzen, points))) == pytest.approx(1.0, abs=1e-2)
    drawn = sample(parzen, rng, 500)
    assert drawn.min() >= 0 and drawn.max() <= 1


def test_neighbour_bandwidth_is_the_larger_gap_per_column_clipped_below() -> None:
    points = np.array([[0.1, 0.9], [0.2, 0.5], [0.5, 0.1]])
    parzen = fit_parzen(points, np.ones(3), np.full(2, NUMERIC), np.zeros(2, int), prior_weight=1.0)
    # gaps 0.1 and 0.3 in the first column; the smallest width is 1 / (3 + 2) = 0.2
    np.testing.assert_allclose(parzen.sigmas[:3, 0], [0.2, 0.3, 0.3])
    np.testing.assert_allclose(parzen.sigmas[:3, 1], [0.4, 0.4, 0.4])
    assert parzen.sigmas[3].tolist() == [1.0, 1.0]  # the prior


def test_categorical_parzen_favours_observed_options() -> None:
    points = np.array([[0.125], [0.125], [0.625]])  # options 0, 0, 2 of 4
    parzen = fit_parzen(points, np.ones(3), np.array([CATEGORICAL]), np.array([4]), prior_weight=1.0)
    probs = np.exp(log_pdf(parzen, np.array([[0.125], [0.375], [0.625], [0.875]])))
    assert probs.sum() == pytest.approx(1.0)
    assert probs[0] > probs[2] > probs[1] == pytest.approx(probs[3])


def test_split_puts_failures_last_and_counts_like_hyperopt() -> None:
    losses = np.array([3.0, np.nan, 1.0, -np.inf, 2.0, np.inf])
    good, bad = split(losses, gamma=1.0, linear_forgetting=25)
    assert n_below(6, 1.0, 25) == 3
    assert list(good) == [2, 3, 4] and 1 in bad and 5 in bad
    assert len(split(np.full(4, np.nan), 1.0, 25)[0]) == 0


@pytest.mark.parametrize(
    ("liar", "mode", "expected"),
    [
        ("best", "min", 1.0),
        ("worst", "min", 5.0),
        ("mean", "min", 3.0),
        ("min", "min", 1.0),
        ("max", "min", 5.0),
        ("min", "max", 5.0),
        ("max", "max", 1.0),
    ],
)
def test_constant_liar_types_including_nni_legacy(liar: str, mode: str, expected: float) -> None:
    tuner = create_tuner(
        "tpe", {"x": {"_type": "uniform", "_value": [0, 1]}}, optimize_mode=mode, tpe_args={"constant_liar_type": liar}
    )
    assert constant_lie(np.array([1.0, 5.0, 3.0, np.nan]), tuner._liar) == expected


def test_tpe_accepts_nni_tpe_args_and_rejects_bad_ones() -> None:
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    tuner = create_tuner(
        "TPE",
        space,
        optimize_mode="maximize",
        seed=3,
        tpe_args={
            "constant_liar_type": "mean",
            "n_startup_jobs": 3,
            "n_ei_candidates": 12,
            "linear_forgetting": 10,
            "prior_weight": 0.5,
            "gamma": 0.3,
        },
    )
    assert (tuner.mode, tuner.seed, tuner.n_ei_candidates, tuner.gamma) == ("max", 3, 12, 0.3)
    with pytest.raises(TunerError, match="constant_liar_type"):
        create_tuner("tpe", space, constant_liar_type="median")
    with pytest.raises(TunerError, match="gamma"):
        create_tuner("tpe", space, gamma=0)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e4, 40))
def test_log_h_matches_the_direct_formula_where_that_is_finite(z: float) -> None:
    direct = norm.pdf(z) + z * norm.cdf(z)
    value = float(log_h(np.array([z]))[0])
    assert math.isfinite(value)
    if direct > 1e-250:
        assert value == pytest.approx(math.log(direct), rel=1e-6, abs=1e-9)


def test_log_ei_stays_finite_far_from_the_incumbent() -> None:
    values = log_ei(np.array([0.0, 50.0, 1e4]), np.array([1.0, 1.0, 1e-3]), best=-1.0)
    assert np.all(np.isfinite(values)) and values[0] > values[1] > values[2]


def test_gp_marginal_likelihood_gradient_is_exact() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((25, 3))
    y = np.sin(4 * x).sum(axis=1)
    theta = default_theta(3) + rng.normal(size=5) * 0.3
    err = check_grad(lambda t: neg_log_marginal(t, x, y)[0], lambda t: neg_log_marginal(t, x, y)[1], theta)
    assert err < 1e-3


def test_gp_posterior_interpolates_and_gradients_match() -> None:
    rng = np.random.default_rng(2)
    x = rng.random((15, 2))
    y = np.cos(3 * x[:, 0]) + x[:, 1]
    theta = np.array([math.log(0.4), math.log(0.4), 0.0, math.log(1e-6)])
    post = Posterior.fit(theta, x, y)
    mean, std = post.predict(x)
    np.testing.assert_allclose(mean, y, atol=1e-3)
    probe = rng.random((1, 2))
    m, s, dm, ds = post.predict_with_grad(probe)
    assert (
        check_grad(lambda v: post.predict(v[None])[0][0], lambda v: post.predict_with_grad(v[None])[2][0], probe[0])
        < 1e-4
    )
    assert (
        check_grad(lambda v: post.predict(v[None])[1][0], lambda v: post.predict_with_grad(v[None])[3][0], probe[0])
        < 1e-4
    )


def test_warp_handles_failures_infinities_and_constants() -> None:
    y = warp(np.array([1.0, np.nan, np.inf, -np.inf, 1e9]))
    assert np.all(np.isfinite(y)) and y[2] == y[4] and y[3] == y.min()
    assert np.all(warp(np.full(5, 3.0)) == 0)


@pytest.mark.parametrize(
    ("space", "max_trials", "concurrency", "chosen"),
    [
        ({"x": {"_type": "uniform", "_value": [0, 1]}}, 50, 1, "gp"),
        ({"x": {"_type": "uniform", "_value": [0, 1]}}, None, 1, "tpe"),
        ({"x": {"_type": "uniform", "_value": [0, 1]}}, 50, 64, "tpe"),
        ({"x": {"_type": "choice", "_value": [1, 2]}}, 50, 1, "tpe"),
        ({"x": {"_type": "choice", "_value": [{"_name": "a"}, {"_name": "b"}]}}, 50, 1, "tpe"),
        (  # conditional but mostly numeric: the GP keeps branches apart
            {
                "m": {
                    "_type": "choice",
                    "_value": [
                        {"_name": "a", "u": {"_type": "uniform", "_value": [0, 1]}},
                        {
                            "_name": "b",
                            "v": {"_type": "loguniform", "_value": [1e-3, 1]},
                            "w": {"_type": "randint", "_value": [1, 9]},
                        },
                    ],
                }
            },
            50,
            1,
            "gp",
        ),
        (
            {
                "m": {
                    "_type": "choice",
                    "_value": [
                        {"_name": "a", "u": {"_type": "choice", "_value": [1, 2]}},
                        {
                            "_name": "b",
                            "v": {"_type": "choice", "_value": [1, 2]},
                            "w": {"_type": "uniform", "_value": [0, 1]},
                        },
                    ],
                }
            },
            50,
            1,
            "tpe",
        ),
    ],
)
def test_auto_picks_by_space_budget_and_concurrency(
    space: dict, max_trials: int | None, concurrency: int, chosen: str
) -> None:
    assert choose(parse_search_space(space), max_trials, concurrency)[0] == chosen


def test_auto_logs_its_choice(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tunelab.tuners"):
        tuner = create_tuner("auto", {"x": {"_type": "uniform", "_value": [0, 1]}}, max_trials=30, concurrency=2)
    assert tuner.chosen == "gp" and tuner.reason in caplog.text and "picked gp" in caplog.text


def test_cmaes_refuses_a_choice_only_space() -> None:
    pytest.importorskip("cmaes")
    with pytest.raises(TunerError, match="no numeric parameter"):
        create_tuner("cmaes", {"x": {"_type": "choice", "_value": [1, 2]}})


def test_evolution_checks_its_sizes() -> None:
    with pytest.raises(TunerError, match="sample_size <= population_size"):
        create_tuner("evolution", {"x": {"_type": "uniform", "_value": [0, 1]}}, population_size=4, sample_size=5)


def test_optuna_adapter_runs_a_named_sampler() -> None:
    pytest.importorskip("optuna")
    tuner = create_tuner("optuna", {"x": {"_type": "uniform", "_value": [0, 1]}}, seed=0, sampler="RandomSampler")
    trial_id, params = tuner.suggest()
    tuner.observe(trial_id, params["x"])
    with pytest.raises(TunerError, match="unknown sampler"):
        create_tuner("optuna", {"x": {"_type": "uniform", "_value": [0, 1]}}, sampler="NoSuchSampler")
