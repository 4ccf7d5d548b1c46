"""The pure functions behind the charts."""

from __future__ import annotations

import numpy as np

from tunelab.server._analysis import MISSING, assign_slots, best_so_far, flatten_params, importance
from tunelab.storage import TrialState


def test_flatten_nested_choice() -> None:
    flat = flatten_params({"opt": {"_name": "adam", "lr": 0.1, "beta": {"_name": "b1", "v": 2}}, "w": [1, 2], "n": 3})
    assert flat == {
        "opt": "adam",
        "opt=adam/lr": 0.1,
        "opt=adam/beta": "b1",
        "opt=adam/beta=b1/v": 2,
        "w": "[1, 2]",
        "n": 3,
    }
    assert MISSING  # the name the UI shows for an absent conditional value


def test_branches_never_share_a_column_and_plain_dicts_nest() -> None:
    rf = flatten_params({"model": {"_name": "rf", "depth": 3}, "opt": {"beta": 0.9, "eps": {"v": 1e-8}}})
    gbm = flatten_params({"model": {"_name": "gbm", "depth": 5}, "empty": {}})
    assert rf == {"model": "rf", "model=rf/depth": 3, "opt/beta": 0.9, "opt/eps/v": 1e-8}
    assert gbm == {"model": "gbm", "model=gbm/depth": 5, "empty": "{}"}


def test_best_so_far_by_mode() -> None:
    assert best_so_far([3, 1, 2, 0.5], "min") == [3, 1, 1, 0.5]
    assert best_so_far([3, 1, 4, 0.5], "max") == [3, 3, 4, 4]
    assert best_so_far([], "min") == []


def test_best_so_far_counts_only_succeeded_finite_values() -> None:
    done, early, failed = TrialState.SUCCEEDED, TrialState.EARLY_STOPPED, TrialState.FAILED
    states = [early, done, early, failed, done, done]
    assert best_so_far([0.1, 3, 0.2, None, float("-inf"), 2], "min", states) == [None, 3, 3, 3, 3, 2]
    assert best_so_far([9, 3, 8, None, float("inf"), 4], "max", states) == [None, 3, 3, 3, 3, 4]


def test_slots_reuse_freed_rows() -> None:
    starts = [0, 0, 1, 2, 2.5]
    ends = [1, 3, 2, 4, 3]
    slots = assign_slots(starts, ends)
    assert slots == [0, 1, 0, 0, 2]
    for i in range(len(starts)):  # no two overlapping intervals share a row
        for j in range(i):
            if slots[i] == slots[j]:
                assert ends[j] <= starts[i] or ends[i] <= starts[j]


def test_importance_finds_the_parameter_that_matters() -> None:
    rng = np.random.default_rng(0)
    x, noise, cat = rng.uniform(-1, 1, 300), rng.uniform(0, 1, 300), rng.choice(["a", "b", "c"], 300)
    y = x**2 * 10 + (cat == "b") * 2 + rng.normal(0, 0.1, 300)
    scores = importance({"x": list(x), "noise": list(noise), "cat": list(cat)}, list(y))
    assert abs(sum(scores.values()) - 1) < 1e-9
    assert scores["x"] > scores["cat"] > scores["noise"]
    assert scores["noise"] < 0.05


def test_importance_needs_enough_trials_and_handles_absent_values() -> None:
    assert importance({"x": [1, 2, 3]}, [1.0, 2.0, 3.0]) == {}
    scores = importance({"x": [None, 1.0] * 10, "y": [1] * 20}, [float(i % 2) for i in range(20)])
    assert scores["x"] == 1.0 and scores["y"] == 0.0
