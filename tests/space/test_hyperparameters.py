"""The define-by-run object: KerasTuner's and Optuna's vocabularies, KerasTuner's config format, bad declarations."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tunelab
from tunelab.errors import SearchSpaceError
from tunelab.space import DiscoveredSpace, HyperParameters, parse_search_space
from tunelab.space import hyperparameters as hpm
from tunelab.tuners import create_tuner

KT_PYTHON = Path(os.environ.get("TUNELAB_KT_PYTHON", "/work/venvs/kt/bin/python"))


def _declare(hp: HyperParameters) -> None:
    hp.Int("a", 1, 10)
    hp.Int("b", 2, 32, step=2, sampling="log", default=4)
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("d", 0, 0.5, step=0.1)
    hp.Choice("m", ["x", "y"])
    hp.Boolean("flag")
    hp.Fixed("f", 3)
    with hp.conditional_scope("m", ["y"]):
        hp.Int("u", 1, 4)


def test_unset_values_are_kerastuner_defaults_and_inactive_is_none():
    hp = HyperParameters()
    assert hp.Int("a", 3, 9) == 3
    assert hp.Float("lr", 0.5, 2.0) == 0.5
    assert hp.Choice("m", ["x", "y"]) == "x"
    assert hp.Boolean("flag") is False
    assert hp.Fixed("f", "k") == "k"
    with hp.conditional_scope("m", ["y"]):
        assert hp.Int("u", 1, 4) is None
    assert hp.values == {"a": 3, "lr": 0.5, "m": "x", "flag": False, "f": "k"}
    assert hp.is_active("a") and not hp.is_active("u")
    with pytest.raises(ValueError, match="inactive"):
        hp.get("u")
    with pytest.raises(KeyError, match="did you mean 'lr'"):
        hp.get("lrr")
    with pytest.raises(KeyError, match="nothing is declared yet.*or give a search_space"):
        HyperParameters()["lr"]  # an objective written for a dict of params, run without a search_space
    assert tunelab.HyperParameters is HyperParameters


def test_optuna_vocabulary_is_the_same_object():
    trial = HyperParameters()
    trial.values = {"lr": 0.01, "n": 4, "clf": "rf"}
    assert trial.suggest_float("lr", 1e-4, 1e-1, log=True) == 0.01
    assert trial.suggest_int("n", 1, 8) == 4
    assert trial.suggest_categorical("clf", ["svm", "rf"]) == "rf"
    assert [p.class_name for p in trial.space] == ["Float", "Int", "Choice"]
    assert trial.space[0].sampling == "log" and trial.params == trial.values
    with pytest.raises(SearchSpaceError, match="'q'.*step and log"):
        trial.suggest_float("q", 1, 2, step=0.5, log=True)


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda hp: (hp.Int("x", 1, 5), hp.Int("x", 1, 6)), "'x' is declared twice with different ranges"),
        (lambda hp: hp.Int("x", 5, 1), "'x': min_value <= max_value"),
        (lambda hp: hp.Choice("c", []), "'c': values is empty"),
        (lambda hp: hp.Int("x", 0, 7, step=3), "'x': step=3 does not divide"),
        (lambda hp: hp.suggest_float("y", 0.0, 1.0, step=0.3), "'y': step=0.3 does not divide"),
        (lambda hp: hp.Float("lr", 0, 1, sampling="log"), "'lr': sampling='log' needs min_value > 0"),
        (lambda hp: hp.Float("lr", 0, 1, sampling="cubic"), "'lr': sampling must be one of"),
        (lambda hp: hp.Int("k", 1.5, 3), "'k': min_value must be an integer"),
        (lambda hp: hp.Choice("c", [1, 2], default=3), "'c': default 3 is not one of"),
        (lambda hp: hp.Float("t", 1.0, 1.0 + 1e-13), "'t': the range"),
        (lambda hp: hp.conditional_scope("nope", [1]).__enter__(), "parent 'nope' is not declared"),
    ],
)
def test_bad_declarations_are_one_line_errors_naming_the_parameter(declare, message):
    with pytest.raises(SearchSpaceError, match=message) as info:
        declare(HyperParameters())
    assert "\n" not in str(info.value)


def test_the_same_declaration_twice_is_one_parameter():
    hp = HyperParameters()
    hp.values = {"x": 2}
    assert hp.Int("x", 1, 5) == 2 and hp.suggest_int("x", 1, 5) == 2
    assert len(hp.space) == 1


def test_config_round_trip_and_copy():
    hp = HyperParameters()
    _declare(hp)
    config = hp.get_config()
    again = HyperParameters.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert hp.copy().values == hp.values
    with pytest.raises(SearchSpaceError, match="unknown hyperparameter class 'Integer'; did you mean 'Int'"):
        HyperParameters.from_config({"space": [{"class_name": "Integer", "config": {}}], "values": {}})


def test_declarations_map_onto_the_space_model_and_back():
    hp = HyperParameters()
    _declare(hp)
    found = DiscoveredSpace(hp.space)
    declared = parse_search_space(
        {
            "a": tunelab.hp.randint(1, 11),
            "b": tunelab.hp.choice([2, 4, 8, 16, 32]),
            "lr": tunelab.hp.loguniform(1e-4, 1e-1),
            "d": tunelab.hp.quniform(0, 0.5, 0.1),
            "m": {"_type": "choice", "_value": ["x", {"_name": "y", "u": {"_type": "randint", "_value": [1, 5]}}]},
            "flag": tunelab.hp.choice([True, False]),
            "f": 3,
        }
    )
    assert found.space == declared
    params = found.params({"m": "y", "u": 3})
    assert params["m"] == {"_name": "y", "u": 3} and params["a"] == 1  # defaults fill what is missing
    assert found.values(params) == {**hp.values, "m": "y", "u": 3}
    assert DiscoveredSpace.from_config(found.get_config()) == found


def test_a_continuous_parent_keeps_its_children_top_level():
    hp = HyperParameters()
    hp.Float("x", 0, 1)
    with hp.conditional_scope("x", [0.5]):
        hp.Int("k", 1, 3)
    assert list(DiscoveredSpace(hp.space).space) == ["x", "k"]


def test_same_name_in_two_branches_is_two_leaves():
    hp = HyperParameters()
    hp.Choice("model", ["cnn", "mlp"])
    with hp.conditional_scope("model", ["cnn"]):
        hp.Int("units", 8, 64, step=8)
    with hp.conditional_scope("model", ["mlp"]):
        hp.Int("units", 16, 128, step=16)
    space = DiscoveredSpace(hp.space).space
    assert [leaf.key for leaf in space.leaves] == ["model", "model/cnn/units", "model/mlp/units"]
    values = DiscoveredSpace(hp.space).values({"model": {"_name": "mlp", "units": 32}})
    assert values == {"model": "mlp", "units": 32}


def test_grown_space_refuses_a_redeclaration_with_another_range():
    first = DiscoveredSpace([hpm.Int("x", 1, 5)])
    assert first.grown([hpm.Int("x", 1, 5)]) is first
    assert len(first.grown([hpm.Float("y", 0, 1)])) == 2
    with pytest.raises(SearchSpaceError, match="'x' is declared with a different range"):
        first.grown([hpm.Int("x", 1, 6)])


def test_random_draws_line_up_with_a_random_tuner_on_the_declared_space():
    """The trial's sampler draws in declaration order from the tuner's generator: the same values."""

    def objective(hp: HyperParameters) -> None:
        hp.Float("lr", 1e-4, 1e-1, sampling="log")
        hp.Int("layers", 1, 4)
        hp.Choice("act", ["relu", "tanh"])

    probe = HyperParameters()
    objective(probe)
    space = DiscoveredSpace(probe.space).space
    tuner = create_tuner("random", space, seed=7)
    for number in range(3):
        _, suggested = tuner.suggest()
        rng = np.random.default_rng([7, number, 0])
        hp = HyperParameters()
        hp.sampler = lambda p, rng=rng: p.domain().sample(rng)
        objective(hp)
        assert hp.values == suggested


KT_SCRIPT = r"""
import json, sys
import keras_tuner as kt
config = json.loads(sys.stdin.read())
hp = kt.HyperParameters.from_config(config)
mine = kt.HyperParameters()
mine.Int('a', 1, 10); mine.Int('b', 2, 32, step=2, sampling='log', default=4)
mine.Float('lr', 1e-4, 1e-1, sampling='log'); mine.Float('d', 0, 0.5, step=0.1)
mine.Choice('m', ['x', 'y']); mine.Boolean('flag'); mine.Fixed('f', 3)
with mine.conditional_scope('m', ['y']):
    mine.Int('u', 1, 4)
print(json.dumps({"read": hp.get_config(), "theirs": mine.get_config()}))
"""


@pytest.mark.skipif(not KT_PYTHON.exists(), reason=f"real keras-tuner not installed ({KT_PYTHON} missing)")
def test_config_is_exactly_kerastuners_both_ways():
    hp = HyperParameters()
    _declare(hp)
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    out = subprocess.run(
        [str(KT_PYTHON), "-c", KT_SCRIPT],
        input=json.dumps(hp.get_config()),
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["theirs"] == hp.get_config()  # what KerasTuner writes is what we write
    assert data["read"] == hp.get_config()  # KerasTuner reads ours unchanged
    assert HyperParameters.from_config(data["theirs"]).get_config() == data["theirs"]


KT_SAMPLES = r"""
import json, sys
import keras_tuner as kt
hp = kt.HyperParameters()
hp.Int('a', 1, 10); hp.Int('b', 2, 32, step=2, sampling='log'); hp.Int('c', 0, 30, step=5)
hp.Float('lr', 1e-4, 1e-1, sampling='log'); hp.Float('d', 0, 0.5, step=0.1)
hp.Float('r', 1, 100, sampling='reverse_log')
hp.Choice('m', ['x', 'y', 'z']); hp.Boolean('flag'); hp.Fixed('f', 3)
with hp.conditional_scope('m', ['y', 'z']):
    hp.Int('u', 1, 4)
    with hp.conditional_scope('u', [2]):
        hp.Choice('w', [0.5, 1.5])
samples = {p.name: [p.random_sample(seed) for seed in range(200)] for p in hp.space}
actives = []
for values in [{'m': 'x'}, {'m': 'y', 'u': 2}, {'m': 'z', 'u': 3}]:
    hp.values = dict(values)
    actives.append([hp.is_active(p) for p in hp.space])
print(json.dumps({"config": hp.get_config(), "samples": samples, "actives": actives}))
"""


@pytest.mark.skipif(not KT_PYTHON.exists(), reason=f"real keras-tuner not installed ({KT_PYTHON} missing)")
def test_kerastuners_draws_are_inside_our_domains_and_its_conditions_hold_as_ours():
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    out = subprocess.run(
        [str(KT_PYTHON), "-c", KT_SAMPLES], capture_output=True, text=True, timeout=600, env=env, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    hp = HyperParameters.from_config(data["config"])
    for declared in hp.space:
        domain = declared.domain()
        for value in data["samples"][declared.name]:
            assert domain.contains(value), (declared.name, value, domain.describe())
    for values, expected in zip([{"m": "x"}, {"m": "y", "u": 2}, {"m": "z", "u": 3}], data["actives"], strict=True):
        hp.values = dict(values)
        assert [hp.is_active(p) for p in hp.space] == expected
    space = DiscoveredSpace(hp.space)
    leaves = [leaf.key for leaf in space.space.leaves]
    assert "m/y/u" in leaves and "m/y/u/2/w" in leaves and "m/z/u/2/w" in leaves


def test_reverse_log_floats_are_denser_near_max_and_reverse_log_ints_warn():
    hp = HyperParameters()
    hp.Float("r", 1.0, 100.0, sampling="reverse_log")
    (declared,) = hp.space
    domain = declared.domain()
    assert domain.describe() == {"_type": "reverseloguniform", "_value": [1.0, 100.0]}
    assert parse_search_space({"r": domain.describe()})["r"] == domain  # stored and read back alike
    # KerasTuner's formula: value = max + min - min * (max / min) ** (1 - prob)
    low, high = domain.internal_low, domain.internal_high
    assert domain.from_internal(low + 0.5 * (high - low)) == pytest.approx(91.0)
    assert domain.contains(100.0) and domain.contains(1.0) and not domain.contains(100.5)
    with pytest.warns(hpm.ReverseLogWarning, match="'k': an Int with sampling='reverse_log' and no step"):
        HyperParameters().Int("k", 1, 64, sampling="reverse_log")
    stepped = HyperParameters()
    stepped.Int("s", 1, 64, step=2, sampling="reverse_log")  # a choice of KerasTuner's values: no warning
    assert stepped.space[0].domain().options == (1, 33, 49, 57, 61, 63, 64)
    with pytest.raises(SearchSpaceError, match="reverse-log-scaled range needs low > 0"):
        parse_search_space({"r": {"_type": "reverseloguniform", "_value": [0.0, 1.0]}})
