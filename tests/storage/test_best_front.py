"""The front and knee of a stored history (one sort) against the front kept as trials end (the engine's rule)."""

from __future__ import annotations

import numpy as np
import pytest

from tunelab.pareto import knee_index
from tunelab.storage import TrialRecord, TrialState, front_and_knee, knee_trial, pareto_front, trial_losses
from tunelab.storage._best import grow_front

OBJECTIVES = {"accuracy": "max", "size": "min", "latency": "min"}


def history(kind: str, n: int, m: int, seed: int) -> list[TrialRecord]:
    rng = np.random.default_rng(seed)
    names = list(OBJECTIVES)[:m]
    grid = np.round(rng.random((n, m)) * 3) / 3 if kind == "tied" else rng.random((n, m))
    if kind == "duplicated":
        grid = grid[rng.integers(0, n // 3 + 1, n)]
    states = [TrialState.SUCCEEDED, TrialState.SUCCEEDED, TrialState.EARLY_STOPPED, TrialState.FAILED]
    trials = []
    for number in rng.permutation(n).tolist():  # stored out of number order
        values = {name: float(v) for name, v in zip(names, grid[number], strict=True)}
        violation = 1.0 if rng.random() < 0.1 else None  # some infeasible: never on the front
        state = states[int(rng.integers(0, len(states)))]
        trials.append(TrialRecord("e", number, state, {"n": number}, values=values, violation=violation))
    return trials


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("kind", ["random", "tied", "duplicated"])
def test_front_and_knee_is_the_front_grown_trial_by_trial(kind: str, m: int) -> None:
    objectives = dict(list(OBJECTIVES.items())[:m])
    for seed in range(5):
        trials = history(kind, 60, m, seed)
        grown: list[tuple[int, tuple[float, ...]]] = []
        for trial in sorted(trials, key=lambda t: t.number):
            if (losses := trial_losses(trial, objectives)) is not None:
                grown = grow_front(grown, trial.number, losses) or grown
        front, knee = front_and_knee(trials, objectives)
        assert [t.number for t in front] == [n for n, _ in grown]
        assert knee is not None and knee.number == grown[knee_index([row for _, row in grown])][0]
        assert pareto_front(trials, objectives) == front and knee_trial(trials, objectives) == knee


def test_no_competing_trial_means_no_front_and_no_knee() -> None:
    failed = TrialRecord("e", 0, TrialState.FAILED, {}, values={"accuracy": 1.0, "size": 1.0})
    assert front_and_knee([failed], {"accuracy": "max", "size": "min"}) == ([], None)
