"""The GP's prior mean and its stall guard (issue 17)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tunelab.space import parse_search_space
from tunelab.tuners._gp._model import Posterior, default_theta, fit_theta
from tunelab.tuners._gp._tuner import GPTuner, _stalled, warp


def _plateau_data() -> tuple[np.ndarray, np.ndarray]:
    """Most points on a plateau, a cluster of good ones; warped as the tuner warps losses."""
    rng = np.random.default_rng(0)
    x = rng.random((30, 2)) * 0.5  # every point in the lower-left quarter
    x[:6] = 0.1 + 0.05 * rng.random((6, 2))
    y = np.ones(30)
    y[:6] = -np.linspace(1, 3, 6)
    return x, warp(y)


def test_the_likelihoods_prior_mean_predicts_the_plateau_where_nothing_was_tried() -> None:
    x, y = _plateau_data()
    theta = fit_theta(x, y, [default_theta(2)])
    far = np.array([[1.0, 1.0]])
    plateau = float(np.max(y))
    gls = Posterior.fit(theta, x, y)
    sample = Posterior.fit(theta, x, y, float(np.mean(y)))
    assert abs(gls.predict(far)[0][0] - plateau) < 0.15
    assert sample.predict(far)[0][0] < plateau - 0.4  # the sample mean is optimistic there
    assert np.min(y) <= gls.mean <= np.max(y)
    # Both interpolate the data alike.
    assert np.allclose(gls.predict(x)[0], y, atol=0.1)
    assert np.allclose(sample.predict(x)[0], y, atol=0.1)


def test_stall_guard_fires_once_per_patience_window_without_improvement() -> None:
    dim = 2
    patience = 2 * dim + 5
    losses = np.concatenate([[5.0, 1.0], np.full(patience, 2.0)])
    assert _stalled(losses, dim)
    assert not _stalled(losses[:-1], dim)
    assert not _stalled(np.append(losses, 2.0), dim)  # once per window, not every trial after it
    assert _stalled(np.concatenate([losses, np.full(patience, 3.0)]), dim)
    assert not _stalled(np.append(losses, 0.5), dim)  # an improvement resets it
    assert not _stalled(np.full(20, np.nan), dim)


def test_the_gp_suggests_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    seen: list[int] = []
    original = Posterior.fit

    def spy(cls: type[Posterior], *args: Any, **kwargs: Any) -> Posterior:
        seen.extend(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
        return original(*args, **kwargs)

    monkeypatch.setattr(Posterior, "fit", classmethod(spy))
    space = parse_search_space(
        {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
    )
    tuner = GPTuner(space, seed=0, n_initial_points=3, n_candidates=50)
    for _ in range(4):
        trial_id, params = tuner.suggest()
        tuner.observe(trial_id, params["x"] + params["y"])
    assert seen and set(seen) == {1}
