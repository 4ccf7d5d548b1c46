"""The GP explores (issue 17): local candidates do not pile onto the walls, repeats set off the stall guard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import numpy as np
import pytest

from tunelab.space import parse_search_space
from tunelab.tuners._gp._tuner import REPEAT_GAP, REPEAT_ROUNDS, GPTuner, _perturb, _reflect, _repeating
from tunelab.tuners._unit import UnitSpace

SPACE = parse_search_space({f"x{i}": {"_type": "uniform", "_value": [0, 1]} for i in range(4)})
CENTRE = np.array([0.3, 0.6, 0.45, 0.7])


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread: the GP's small matrices gain nothing from more, and on a shared machine
    the extra threads only oversubscribe the cores (these tests took 2-5x longer)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn's dependency, usually there
        limits: Any = nullcontext()
    else:
        limits = threadpool_limits(1)
    with limits:
        yield


def _bump(params: dict[str, Any]) -> float:
    """0 over almost all of the box, a narrow dip to -1 at ``CENTRE``."""
    x = np.array([params[f"x{i}"] for i in range(4)])
    return -float(np.exp(-np.sum((x - CENTRE) ** 2) / (2 * 0.08**2)))


def test_reflect_folds_steps_back_inside_instead_of_onto_the_bound() -> None:
    assert np.allclose(_reflect(np.array([-0.03, 1.03, 0.5, 0.0, 1.0])), [0.03, 0.97, 0.5, 0.0, 1.0])


def test_local_candidates_around_a_row_at_the_wall_mostly_leave_it() -> None:
    unit = UnitSpace(SPACE)
    at_wall = np.array([[0.0, 0.0, 1.0, 0.5]])
    cands = _perturb(at_wall, unit, np.random.default_rng(0), 400)
    on_wall = np.mean((cands[:, :3] == 0.0) | (cands[:, :3] == 1.0))
    assert on_wall < 0.02  # clipping put about half of them exactly on it


def test_proposals_on_a_flat_objective_with_a_narrow_bump_are_not_mostly_at_the_bounds() -> None:
    unit = UnitSpace(SPACE)
    tuner = GPTuner(SPACE, seed=0, n_candidates=300)
    walls = []
    for i in range(20):
        trial_id, params = tuner.suggest()
        tuner.observe(trial_id, _bump(params))
        if i >= tuner.n_initial_points:
            row = unit.encode(params)
            walls.append(int(np.sum((row < 0.005) | (row > 0.995))))
    assert np.mean(np.array(walls) >= 2) <= 0.25


def test_repeating_needs_every_one_of_the_last_rows_near_an_earlier_one() -> None:
    rng = np.random.default_rng(1)
    rows = rng.random((10, 3))
    near = rows[4] + REPEAT_GAP / 4
    repeats = np.vstack([rows, near, near + REPEAT_GAP / 8, rows[2] - REPEAT_GAP / 4])
    assert _repeating(repeats, 3)
    assert not _repeating(repeats, 4)  # the row before the three is new
    assert not _repeating(np.vstack([repeats[:-1], rng.random((1, 3))]), 3)
    assert not _repeating(repeats[:3], 3)  # too short a history


def _history_ending_in_repeats(tuner: GPTuner, n_repeats: int) -> None:
    rng = np.random.default_rng(2)
    for i in range(12):
        params = {f"x{j}": float(v) for j, v in enumerate(rng.random(4))}
        tuner.restore(i, params, _bump(params))
    last = {f"x{j}": float(v) for j, v in enumerate(rng.random(4))}
    tuner.restore(12, last, _bump(last))
    for k in range(n_repeats):
        params = {key: value + (k + 1) * REPEAT_GAP / 10 for key, value in last.items()}
        tuner.restore(13 + k, params, _bump(params))


@pytest.mark.parametrize("n_repeats", [REPEAT_ROUNDS, REPEAT_ROUNDS - 1])
def test_the_stall_guard_explores_after_repeated_proposals(monkeypatch: pytest.MonkeyPatch, n_repeats: int) -> None:
    explored: list[np.ndarray] = []
    original = GPTuner._explore

    def spy(self: GPTuner, *args: Any) -> np.ndarray:
        explored.append(row := original(self, *args))
        return row

    monkeypatch.setattr(GPTuner, "_explore", spy)
    tuner = GPTuner(SPACE, seed=0)
    _history_ending_in_repeats(tuner, n_repeats)
    tuner.suggest_batch(3)
    # Three repeats in a row: one exploration, and only one while it is pending; fewer: none.
    assert len(explored) == (1 if n_repeats == REPEAT_ROUNDS else 0)


def test_an_optimum_on_a_bound_is_still_reached() -> None:
    # Reflected local candidates never land on a bound; the gradient refinement still does.
    space = parse_search_space(
        {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [-1, 1]}}
    )
    tuner = GPTuner(space, seed=0, n_candidates=300)
    best = np.inf
    for _ in range(20):
        trial_id, params = tuner.suggest()
        value = params["x"] + (params["y"] - 0.2) ** 2
        tuner.observe(trial_id, value)
        best = min(best, value)
    assert best < 1e-3
