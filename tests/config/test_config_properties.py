"""Properties: durations round-trip, one space reads alike in every format, junk gives ConfigError."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunelab.config import format_duration, load_config, load_config_dict, parse_duration
from tunelab.errors import ConfigError
from tunelab.space import parse_auptimizer, parse_nni

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(min_value=1, max_value=10**8))
def test_whole_second_durations_round_trip(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


@FAST
@given(st.integers(min_value=1, max_value=10**9).map(lambda ms: ms / 1000))
def test_fractional_durations_round_trip(seconds):
    assert math.isclose(parse_duration(format_duration(seconds)), seconds, rel_tol=0, abs_tol=1e-6)


# --- one NNI space, every format -------------------------------------------------------------

_bounds = (
    st.tuples(
        st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: round(x, 3)),
        st.floats(0.01, 1e3, allow_nan=False).map(lambda x: round(x, 3)),
    )
    .map(lambda t: [t[0], round(t[0] + t[1], 3)])
    .filter(lambda b: b[0] < b[1])
)


@st.composite
def nni_entry(draw) -> dict[str, Any]:
    kind = draw(st.sampled_from(["choice", "uniform", "loguniform", "randint", "quniform", "normal"]))
    if kind == "choice":
        values = draw(
            st.lists(
                st.one_of(st.integers(-9, 9), st.text("abc", min_size=1, max_size=3)),
                min_size=1,
                max_size=4,
                unique=True,
            )
        )
        return {"_type": "choice", "_value": values}
    if kind == "randint":
        low = draw(st.integers(-100, 100))
        return {"_type": "randint", "_value": [low, low + draw(st.integers(1, 50))]}
    if kind == "loguniform":
        low = draw(st.floats(1e-4, 10).map(lambda x: round(x, 4)))
        return {"_type": "loguniform", "_value": [low, round(low * draw(st.floats(1.5, 1e3)), 4)]}
    if kind == "normal":
        return {"_type": "normal", "_value": [draw(st.floats(-10, 10)), draw(st.floats(0.1, 10))]}
    low, high = draw(_bounds)
    if kind == "quniform":
        return {"_type": "quniform", "_value": [low, high, round((high - low) / draw(st.integers(1, 10)), 3) or 0.001]}
    return {"_type": "uniform", "_value": [low, high]}


nni_spaces = st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), nni_entry(), min_size=1, max_size=5)

TRIAL = Path(__file__)  # any existing file serves as the Auptimizer script


def _as_auptimizer(space: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The same space in Auptimizer's spelling, when it has one (int ranges include the top)."""
    entries = []
    for name, entry in space.items():
        kind, value = entry["_type"], entry["_value"]
        if kind == "choice":
            entries.append({"name": name, "range": value, "type": "choice"})
        elif kind == "uniform":
            entries.append({"name": name, "range": value, "type": "float"})
        elif kind == "randint":
            entries.append({"name": name, "range": [value[0], value[1] - 1], "type": "int"})
        else:
            return None
    return entries


@FAST
@given(nni_spaces)
def test_a_valid_nni_space_reads_alike_in_every_format(space):
    expected = parse_nni(space)
    text = json.dumps(space)
    tunelab = {"search_space": space, "trial": {"command": "python3 t.py"}, "tuner": "random"}
    nni = {"searchSpace": space, "trialCommand": "python3 t.py", "tuner": {"name": "Random"}}
    nni_snake = {"search_space": text, "trial_command": "python3 t.py", "tuner": {"name": "Random"}}
    t9k = {
        "apiVersion": "tensorstack.dev/v1beta1",
        "kind": "AutoTuneExperiment",
        "spec": {
            "searchSpace": text,
            "tuner": {"builtinTunerName": "Random"},
            "trainingConfig": {"tasks": [{"template": {"spec": {"containers": [{"command": ["python3", "t.py"]}]}}}]},
        },
    }
    for data in (tunelab, nni, nni_snake, t9k):
        assert load_config_dict(data).config.space() == expected
    entries = _as_auptimizer(space)
    if entries is not None:
        aup = {"script": TRIAL.name, "parameter_config": entries}
        config = load_config_dict(aup, base_dir=TRIAL.parent).config
        assert config.space() == parse_auptimizer(entries) == expected


# --- junk never escapes as anything but ConfigError -----------------------------------------

_BASES: list[dict[str, Any]] = [
    {
        "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
        "trialCommand": "python3 t.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 3,
        "maxExperimentDuration": "1h",
        "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        "assessor": {"name": "Medianstop", "classArgs": {}},
        "trainingService": {"platform": "local"},
    },
    {
        "apiVersion": "tensorstack.dev/v1beta1",
        "kind": "AutoTuneExperiment",
        "metadata": {"name": "e"},
        "spec": {
            "maxExecSeconds": 60,
            "maxTrialNum": 3,
            "trialConcurrency": 1,
            "searchSpace": '{"x": {"_type": "choice", "_value": [1, 2]}}',
            "tuner": {"builtinTunerName": "TPE", "classArgs": '{"optimize_mode": "minimize"}'},
            "trainingConfig": {
                "type": "pytorch",
                "tasks": [
                    {
                        "replicas": 1,
                        "template": {"spec": {"containers": [{"command": ["python3", "t.py"], "workingDir": "."}]}},
                    }
                ],
            },
        },
    },
    {
        "proposer": "sequence",
        "n_samples": 3,
        "n_parallel": 1,
        "random_seed": 0,
        "script": TRIAL.name,
        "workingdir": ".",
        "target": "min",
        "resource": "cpu",
        "resource_args": {"multi_res_labels": ["a"]},
        "job_failure": {"job_retries": 1, "ignore_fail": True},
        "parameter_config": [
            {"name": "x", "range": [0, 1], "type": "float", "n": 3},
            {"name": "k", "range": [1, 9], "type": "int", "interval": 2},
        ],
    },
    {
        "name": "t",
        "search_space": {"x": {"_type": "randint", "_value": [0, 5]}},
        "trial": {"command": "x"},
        "tuner": {"name": "grid", "args": {"n_points": 3}},
        "mode": "max",
        "max_duration": "1m",
        "failure": {"retries": 1},
    },
]

_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=8)
    | st.sampled_from(["{", "[1]", "1h", "-1s", "TPE", "grid", "min", "local", '{"a": 1}', "python3 t.py"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["_type", "_value", "name", "classArgs", "n_points", "platform", "command", "x"])
            | st.text(max_size=4),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, prefix + (i,))
    return out


@st.composite
def mutated_configs(draw) -> dict[str, Any]:
    data = copy.deepcopy(draw(st.sampled_from(_BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        node = data
        for key in parents:
            node = node[key]
        if draw(st.booleans()) and isinstance(node, dict):
            node.pop(last, None)
        else:
            node[last] = draw(_junk)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_mutated_configs_raise_only_config_errors(data):
    try:
        load_config_dict(data, base_dir=TRIAL.parent)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@pytest.fixture(scope="module")
def junk_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("junk")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=200),
        mutated_configs().map(lambda d: yaml.safe_dump(d)),
        _junk.map(lambda d: json.dumps(d, allow_nan=True)),
    ),
    st.sampled_from([".yml", ".json"]),
)
def test_junk_files_raise_only_config_errors(junk_dir, text, suffix):
    path = junk_dir / f"config{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


def _fake_trial(job):
    from tunelab.testing import FakeTrial

    epochs = min(job.budget or 3, 30)
    return FakeTrial(reports=[(k + 1.0, 0.5 + 0.01 * k) for k in range(epochs)], final=(epochs + 0.5, 0.5))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_a_config_that_validates_runs_trials_on_the_fake_runner(data):
    """Validation decides: a config it accepts starts and ends trials (virtual time, a few trials at most)."""
    from tunelab import Experiment
    from tunelab.engine import Engine
    from tunelab.storage import Phase
    from tunelab.testing import FakeClock, FakeRunner

    try:
        loaded = load_config_dict(data, base_dir=TRIAL.parent)
        experiment = Experiment(loaded.config, format=loaded.format)
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    experiment_id = experiment.create()
    clock = FakeClock()
    engine = Engine(
        storage=experiment.storage,
        experiment_id=experiment_id,
        config=experiment.config,
        objective=experiment.objective,
        runner=FakeRunner(clock, _fake_trial),
        clock=clock,
    )

    class AfterThree:
        def on_progress(self, progress):
            if progress.finished >= 3:
                engine._on_interrupt()

    engine.listener = AfterThree()
    record = engine.run()
    assert record.phase in (Phase.DONE, Phase.STOPPED), record.message
    ended = [t for t in experiment.trials if t.state.is_final]
    assert ended, "at least one trial ran to an end"
