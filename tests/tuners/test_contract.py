"""The contract every tuner keeps: legal proposals, seeds, pending trials, degenerate histories."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tuner_cases import MIXED_SPACE, TUNER_CASES, TunerFactory, mixed_loss, run

from tunelab.tuners import create_tuner
from tunelab.tuners._unit import UnitSpace

SPHERE = {f"x{i}": {"_type": "uniform", "_value": [-5.0, 5.0]} for i in range(3)}


def sphere(params: dict) -> float:
    return float(sum((params[f"x{i}"] - 1.0) ** 2 for i in range(3)))


def test_every_parameter_type_stays_inside_the_space(make_tuner: TunerFactory) -> None:
    tuner = make_tuner(MIXED_SPACE, seed=3)
    branches = set()
    for params in run(tuner, mixed_loss, 20):
        tuner.space.validate(params)  # also rejects keys of inactive branches
        branches.add(params["nest"]["_name"])
        assert isinstance(params["ri"], int)
        assert params["qu"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert len(branches) >= 2


def test_nested_choice_only_carries_the_active_branch(make_tuner: TunerFactory) -> None:
    tuner = make_tuner({"opt": MIXED_SPACE["nest"]}, seed=1)
    for params in run(tuner, lambda p: 0.0 if p["opt"]["_name"] == "sgd" else 1.0, 15):
        expected = {"sgd": {"_name", "lr", "momentum"}, "adam": {"_name", "beta"}, "none": {"_name"}}
        assert set(params["opt"]) == expected[params["opt"]["_name"]]


def test_same_seed_and_history_give_the_same_suggestions(make_tuner: TunerFactory) -> None:
    first = run(make_tuner(MIXED_SPACE, seed=11), mixed_loss, 12)
    second = run(make_tuner(MIXED_SPACE, seed=11), mixed_loss, 12)
    assert first == second


def test_restored_history_gives_the_same_next_suggestion(make_tuner: TunerFactory) -> None:
    original = make_tuner(SPHERE, seed=5)
    run(original, sphere, 12)
    resumed = make_tuner(SPHERE, seed=5)
    for obs in original.history:
        resumed.restore(obs.trial_id, obs.params, obs.value)
    assert resumed.suggest() == original.suggest()


def test_pending_trials_do_not_pile_up(make_tuner: TunerFactory) -> None:
    space = {"x": {"_type": "uniform", "_value": [0.0, 1.0]}, "y": {"_type": "uniform", "_value": [0.0, 1.0]}}
    tuner = make_tuner(space, seed=2)
    run(tuner, lambda p: (p["x"] - 0.2) ** 2 + (p["y"] - 0.7) ** 2, 15)
    batch = [tuner.suggest()[1] for _ in range(6)]
    points = np.array([[p["x"], p["y"]] for p in batch])
    gaps = np.linalg.norm(points[:, None] - points[None, :], axis=-1)[np.triu_indices(len(points), 1)]
    assert len({json.dumps(p, sort_keys=True) for p in batch}) == len(batch)
    assert np.median(gaps) > 0.01, points


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([1.0] * 14, id="all-equal"),
        pytest.param([math.nan, 1.0, math.inf, -1.0, None, 2.0] * 2 + [0.5, 0.5], id="nan-inf-failed"),
        pytest.param([None] * 14, id="all-failed"),
        pytest.param([math.inf, -math.inf] * 7, id="infinities"),
        pytest.param([{"default": float(i), "acc": 0.1} for i in range(14)], id="nni-dicts"),
    ],
)
def test_degenerate_histories_are_survived(make_tuner: TunerFactory, values: list) -> None:
    tuner = make_tuner(MIXED_SPACE, seed=4, mode="max")
    for value in values:
        trial_id, params = tuner.suggest()
        tuner.observe(trial_id, value)
    for _ in range(3):
        tuner.space.validate(tuner.suggest()[1])


def test_beats_random_search_on_an_easy_function(make_tuner: TunerFactory) -> None:
    if make_tuner.tuner_name == "random":  # type: ignore[attr-defined]
        pytest.skip("the baseline itself")
    tuned, baseline = [], []
    for seed in range(3):
        tuned.append(min(sphere(p) for p in run(make_tuner(SPHERE, seed=seed), sphere, 30)))
        baseline.append(min(sphere(p) for p in run(create_tuner("random", SPHERE, seed=seed), sphere, 30)))
    assert np.median(tuned) < np.median(baseline)


def test_maximize_mode_climbs(make_tuner: TunerFactory) -> None:
    tuner = make_tuner(SPHERE, seed=0, mode="max")
    run(tuner, lambda p: -sphere(p), 25)
    best = tuner.best()
    assert best is not None and best.value == max(o.value for o in tuner.history)


_SCRIPT = """
import json, sys
sys.path.insert(0, {here!r})
from tuner_cases import MIXED_SPACE, TUNER_CASES, mixed_loss, run
from tunelab.tuners import create_tuner
out = {{}}
for case_id, name, args, needs in TUNER_CASES:
    try:
        tuner = create_tuner(name, MIXED_SPACE, seed=21, **args)
    except Exception:
        continue
    out[case_id] = run(tuner, mixed_loss, 8)
print(json.dumps(out, sort_keys=True))
"""


def test_a_seed_reproduces_in_a_fresh_process() -> None:
    root = str(Path(__file__).resolve().parents[2])
    script = _SCRIPT.format(here=str(Path(__file__).resolve().parent))
    runs = [
        json.loads(
            subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root).stdout
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    here = {}
    for case_id, name, args, _needs in TUNER_CASES:
        if case_id in runs[0]:
            here[case_id] = run(create_tuner(name, MIXED_SPACE, seed=21, **args), mixed_loss, 8)
    assert json.loads(json.dumps(here, sort_keys=True)) == runs[0]


def test_unit_rows_round_trip_through_every_domain() -> None:
    from tunelab.space import parse_search_space

    space = parse_search_space(MIXED_SPACE)
    unit = UnitSpace(space)
    rng = np.random.default_rng(0)
    for _ in range(50):
        params = space.sample(rng)
        row = unit.encode(params)
        assert np.all((row[~np.isnan(row)] >= 0) & (row[~np.isnan(row)] <= 1))
        assert json.dumps(unit.decode(row), sort_keys=True) == json.dumps(params, sort_keys=True) or all(
            np.isclose(a, b) if isinstance(a, float) else a == b
            for a, b in zip(unit.decode(row).values(), params.values(), strict=True)
        )
        np.testing.assert_allclose(unit.snap(row), row, equal_nan=True, atol=1e-9)
