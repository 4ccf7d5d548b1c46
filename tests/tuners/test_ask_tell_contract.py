"""The base tuner through random, grid and batch: names, arguments, enumeration (the contract: tunelab.testing)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tunelab import hp
from tunelab.errors import NotImplementedTunerError, SearchSpaceExhausted, TunerError
from tunelab.tuners import create_tuner, resolve_tuner_name

SPACE = {
    "x": hp.uniform(-5, 5),
    "lr": hp.loguniform(1e-4, 1e-1),
    "n": hp.randint(1, 8),
    "act": hp.choice(["relu", "tanh"]),
    "opt": hp.choice([hp.branch("sgd", momentum=hp.uniform(0, 1)), hp.branch("adam")]),
}


def run_ask_tell(tuner, n, objective):
    for _ in range(n):
        trial_id, params = tuner.suggest()
        tuner.observe(trial_id, objective(params))


@pytest.mark.parametrize(
    "typed, canonical",
    [
        ("TPE", "tpe"),
        ("Random", "random"),
        ("GridSearch", "grid"),
        ("BatchTuner", "batch"),
        ("sequence", "grid"),
        ("passive", "batch"),
        ("spearmint", "gp"),
        ("bayesopt", "gp"),
        ("skopt", "gp"),
        ("random_search", "random"),
        ("Grid-Search", "grid"),
    ],
)
def test_alias_table(typed, canonical):
    assert resolve_tuner_name(typed) == canonical


def test_unknown_and_unbuilt_tuners_have_clear_errors():
    with pytest.raises(TunerError, match="did you mean 'random'"):
        resolve_tuner_name("randon")
    with pytest.raises(NotImplementedTunerError, match="PPO tuner.* is not available in tunelab"):
        resolve_tuner_name("PPOTuner")
    assert resolve_tuner_name("SMAC") == "smac"  # built since issue 15


def test_misspelled_argument_is_an_error():
    with pytest.raises(TunerError, match="unknown argument 'n_point'; did you mean 'n_points'"):
        create_tuner("grid", SPACE, n_point=3)


def test_nni_class_args_are_translated():
    tuner = create_tuner("random", SPACE, optimize_mode="maximize", seed=3)
    assert tuner.mode == "max" and tuner.seed == 3
    with pytest.raises(TunerError, match="contradicts"):
        create_tuner("random", SPACE, mode="min", optimize_mode="maximize")


def test_random_is_reproducible_and_respects_the_space():
    a = create_tuner("random", SPACE, seed=7)
    b = create_tuner("random", SPACE, seed=7)
    space = a.space
    for _ in range(30):
        (ia, pa), (ib, pb) = a.suggest(), b.suggest()
        assert pa == pb and ia == ib
        space.validate(pa)
        a.observe(ia, pa["x"])
        b.observe(ib, pb["x"])


def test_reproducible_in_another_process():
    code = (
        "from tunelab import hp; from tunelab.tuners import create_tuner;"
        "t = create_tuner('random', {'x': hp.uniform(0, 1)}, seed=11);"
        "print([t.suggest()[1]['x'] for _ in range(3)])"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    local = create_tuner("random", {"x": hp.uniform(0, 1)}, seed=11)
    assert outputs == {str([local.suggest()[1]["x"] for _ in range(3)]) + "\n"}


def test_grid_enumerates_then_is_exhausted():
    tuner = create_tuner("grid", {"a": hp.choice([1, 2, 3]), "b": hp.randint(0, 2)})
    seen = []
    with pytest.raises(SearchSpaceExhausted):
        while True:
            trial_id, params = tuner.suggest()
            seen.append((params["a"], params["b"]))
            tuner.observe(trial_id, 0.0)
    assert sorted(seen) == [(a, b) for a in (1, 2, 3) for b in (0, 1)]


def test_grid_puts_continuous_ranges_on_an_even_grid():
    tuner = create_tuner("grid", {"x": hp.loguniform(1, 100)}, n_points=3)
    values = [tuner.suggest()[1]["x"] for _ in range(3)]
    assert np.allclose(values, [1, 10, 100])


def test_grid_points_per_parameter():
    tuner = create_tuner("grid", {"x": hp.uniform(0, 1), "y": hp.uniform(0, 1)}, n_points={"x": 2, "y": 3})
    points = []
    with pytest.raises(SearchSpaceExhausted):
        while True:
            points.append(tuner.suggest()[1])
    assert len(points) == 6


def test_batch_tuner_nni_form():
    configs = [{"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 64}]
    tuner = create_tuner("BatchTuner", {"combine_params": {"_type": "choice", "_value": configs}})
    assert [tuner.suggest()[1] for _ in range(2)] == configs
    with pytest.raises(SearchSpaceExhausted):
        tuner.suggest()


def test_batch_tuner_rejects_other_spaces():
    with pytest.raises(TunerError, match="combine_params"):
        create_tuner("batch", SPACE)


def test_no_configuration_is_proposed_twice():
    tuner = create_tuner("random", {"a": hp.choice([1, 2, 3]), "b": hp.choice(["u", "v"])}, seed=0)
    seen = set()
    with pytest.raises(SearchSpaceExhausted):
        for _ in range(7):
            trial_id, params = tuner.suggest()
            key = (params["a"], params["b"])
            assert key not in seen
            seen.add(key)
    assert len(seen) == 6


def test_restore_replays_history_and_continues_ids():
    first = create_tuner("random", SPACE, seed=5)
    run_ask_tell(first, 5, lambda p: p["x"])
    resumed = create_tuner("random", SPACE, seed=5)
    for observation in first.history:
        resumed.restore(observation.trial_id, observation.params, observation.value)
    assert resumed.n_suggested == 5
    assert resumed.suggest() == first.suggest()


def test_random_search_enumerates_grid_search_values():
    tuner = create_tuner("random", {"width": hp.grid_search([8, 16, 32]), "lr": hp.uniform(0, 1)}, seed=0)
    assert [tuner.suggest()[1]["width"] for _ in range(6)] == [8, 16, 32, 8, 16, 32]
