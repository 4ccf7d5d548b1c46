"""The multi-objective tuner contract: results per objective, failures, constraints, seeds, restores, quality.

Subclass :class:`MultiObjectiveTunerContract` with a ``make_tuner`` fixture, a factory
``make_tuner(space, *, objectives, seed=0) -> Tuner``; :data:`MO_TUNER_CASES` lists
tunelab's multi-objective tuners with arguments that keep the suite fast. The one-objective
contract (:mod:`tunelab.testing.tuners`) runs them too, without ``objectives``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from tunelab import pareto
from tunelab.errors import ReportError
from tunelab.tuners import Tuner, create_tuner

__all__ = ["MO_TUNER_CASES", "ZDT1_SPACE", "MultiObjectiveTunerContract", "hypervolume_of", "run_mo", "zdt1"]

#: (id, registry name, extra arguments)
MO_TUNER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("motpe", "motpe", {"n_startup_jobs": 8}),
    ("nsga2", "nsga2", {"population_size": 8}),
    ("nsga3", "nsga3", {"population_size": 8}),
    ("mogp", "mogp", {"n_initial_points": 8, "n_candidates": 200, "n_restarts": 1}),
    ("random", "random", {}),
    ("auto", "auto", {"max_trials": 40}),
]

ZDT1_SPACE: dict[str, Any] = {f"x{i}": {"_type": "uniform", "_value": [0.0, 1.0]} for i in range(4)}
TWO = {"f1": "min", "f2": "min"}


def zdt1(params: Mapping[str, Any]) -> dict[str, float]:
    """ZDT1 (Zitzler, Deb and Thiele 2000) over four parameters; the front is ``f2 = 1 - sqrt(f1)``."""
    x = np.array([params[f"x{i}"] for i in range(4)])
    g = 1.0 + 9.0 * x[1:].sum() / 3.0
    return {"f1": float(x[0]), "f2": float(g * (1.0 - math.sqrt(x[0] / g)))}


def run_mo(tuner: Tuner, objective: Callable[[dict[str, Any]], Any], n: int) -> list[dict[str, Any]]:
    """Suggest and observe ``n`` trials in sequence; the suggestions."""
    suggested = []
    for _ in range(n):
        trial_id, params = tuner.suggest()
        suggested.append(params)
        tuner.observe(trial_id, objective(params))
    return suggested


def hypervolume_of(tuner: Tuner, reference: tuple[float, ...]) -> float:
    """The hypervolume of the tuner's feasible finished trials (losses), against ``reference``."""
    rows = [o.losses for o in tuner.history if o.losses is not None and o.feasible]
    return pareto.hypervolume(np.asarray(rows, dtype=float).reshape(len(rows), len(reference)), reference)


class MultiObjectiveTunerContract:
    """The checks every multi-objective tuner passes; subclass it with a ``make_tuner`` fixture."""

    @pytest.fixture
    def beats_random_search(self) -> bool:
        return True

    def test_results_per_objective_become_losses(self, make_tuner: Callable[..., Tuner]) -> None:
        tuner = make_tuner(ZDT1_SPACE, objectives={"accuracy": "max", "size": "min"})
        first, _ = tuner.suggest()
        second, _ = tuner.suggest()
        tuner.observe(first, {"accuracy": 0.9, "size": 12, "latency": 3.0})
        tuner.observe(second, [0.5, 3.0])
        by_id = {o.trial_id: o for o in tuner.history}
        assert by_id[first].losses == (-0.9, 12.0) and by_id[first].metrics == {"latency": 3.0}
        assert by_id[first].value == 0.9 and by_id[first].loss == -0.9
        assert by_id[second].losses == (-0.5, 3.0)

    def test_a_missing_objective_is_an_error_naming_it(self, make_tuner: Callable[..., Tuner]) -> None:
        tuner = make_tuner(ZDT1_SPACE, objectives={"accuracy": "max", "size": "min"})
        trial_id, _ = tuner.suggest()
        with pytest.raises(ReportError, match="objective 'size' is missing.*did you mean 'sizes'"):
            tuner.observe(trial_id, {"accuracy": 0.9, "sizes": 1})
        with pytest.raises(ReportError, match="objective 'size': expected a number"):
            tuner.observe(trial_id, {"accuracy": 0.9, "size": "big"})
        assert trial_id in tuner.pending  # still waiting for a proper result
        tuner.observe(trial_id, {"accuracy": 0.9, "size": 1})

    @pytest.mark.parametrize(
        "values",
        [
            pytest.param([None] * 14, id="all-failed"),
            pytest.param([{"f1": math.nan, "f2": 1.0}, {"f1": 1.0, "f2": math.inf}] * 7, id="non-finite"),
            pytest.param([{"f1": 1.0, "f2": 1.0}] * 14, id="all-equal"),
            pytest.param([{"f1": float(i), "f2": float(-i)} for i in range(14)], id="one-front"),
        ],
    )
    def test_degenerate_histories_are_survived(self, make_tuner: Callable[..., Tuner], values: list[Any]) -> None:
        tuner = make_tuner(ZDT1_SPACE, objectives=TWO, seed=4)
        for value in values:
            trial_id, _ = tuner.suggest()
            tuner.observe(trial_id, value)
        if values[0] is None or not math.isfinite(sum(values[0].values())):
            assert all(o.failed and o.losses is None for o in tuner.history[:2])
        for _ in range(3):
            tuner.space.validate(tuner.suggest()[1])

    def test_same_seed_and_history_give_the_same_suggestions(self, make_tuner: Callable[..., Tuner]) -> None:
        first = run_mo(make_tuner(ZDT1_SPACE, objectives=TWO, seed=11), zdt1, 14)
        second = run_mo(make_tuner(ZDT1_SPACE, objectives=TWO, seed=11), zdt1, 14)
        assert first == second

    def test_restored_history_with_violations_gives_the_same_next_suggestion(
        self, make_tuner: Callable[..., Tuner]
    ) -> None:
        original = make_tuner(ZDT1_SPACE, objectives=TWO, seed=5)
        for i in range(14):
            trial_id, params = original.suggest()
            original.observe(trial_id, zdt1(params), violation=max(0.0, params["x1"] - 0.5) if i % 2 else 0.0)
        resumed = make_tuner(ZDT1_SPACE, objectives=TWO, seed=5)
        for obs in original.history:
            value = None if obs.value is None else dict(zip(TWO, np.asarray(obs.losses), strict=True))
            resumed.restore(obs.trial_id, obs.params, value, violation=obs.violation)
        assert [o.violation for o in resumed.history] == [o.violation for o in original.history]
        assert resumed.suggest() == original.suggest()

    def test_pending_trials_do_not_pile_up(self, make_tuner: Callable[..., Tuner]) -> None:
        tuner = make_tuner(ZDT1_SPACE, objectives=TWO, seed=2)
        run_mo(tuner, zdt1, 14)
        batch = [tuner.suggest()[1] for _ in range(6)]
        points = np.array([[p[f"x{i}"] for i in range(4)] for p in batch])
        gaps = np.linalg.norm(points[:, None] - points[None, :], axis=-1)[np.triu_indices(len(points), 1)]
        assert np.median(gaps) > 0.01, points

    def test_four_objectives_are_searched(self, make_tuner: Callable[..., Tuner]) -> None:
        objectives = {f"f{j}": "min" for j in range(4)}
        tuner = make_tuner(ZDT1_SPACE, objectives=objectives, seed=1)
        for params in run_mo(tuner, lambda p: [p[f"x{j}"] + 0.1 * p[f"x{(j + 1) % 4}"] for j in range(4)], 16):
            tuner.space.validate(params)
        assert all(o.losses is not None and len(o.losses) == 4 for o in tuner.history)

    def test_beats_random_search_on_zdt1(self, make_tuner: Callable[..., Tuner], beats_random_search: bool) -> None:
        if not beats_random_search:
            pytest.skip("a baseline")
        reference = (1.1, 10.0)
        tuned, baseline = [], []
        for seed in range(3):
            tuner = make_tuner(ZDT1_SPACE, objectives=TWO, seed=seed)
            run_mo(tuner, zdt1, 40)
            tuned.append(hypervolume_of(tuner, reference))
            random = create_tuner("random", ZDT1_SPACE, objectives=TWO, seed=seed)
            run_mo(random, zdt1, 40)
            baseline.append(hypervolume_of(random, reference))
        assert np.median(tuned) > np.median(baseline), (tuned, baseline)
