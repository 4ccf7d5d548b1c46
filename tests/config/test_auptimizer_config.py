"""Auptimizer experiment.json files."""

from __future__ import annotations

import json

import pytest

from tunelab.config import load_config, load_config_dict
from tunelab.errors import ConfigError, NotImplementedTunerError, SearchSpaceError, TunerError

#: The example of Auptimizer's "Configure HPO Algorithm" page, with its one typo fixed
#: (``"workingdir:"./"``, which no JSON parser accepts; see the test below).
SEED = """\
{
 "proposer": "random",
 "n_samples": 10,
 "random_seed": 1,
 "script": "auto.py",
 "parameter_config": [
   {
     "name": "x",
     "range": [
       -5,
       5
     ],
     "type": "float"
   }
 ],
 "resource": "cpu",
 "resource_args": {
   "save_model": true
 },
 "job_failure": {
   "job_retries": 3,
   "ignore_fail": true
 },
 "n_parallel": 3,
 "target":"min",
 "workingdir":"./"
}
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "auto.py").write_text("print('#Auptimizer:0')\n")
    return tmp_path


def config(folder, **changes):
    data = json.loads(SEED)
    data.update(changes)
    for key, value in list(data.items()):
        if value is None:
            del data[key]
    return load_config_dict(data, base_dir=folder)


def test_seed_example(folder, write):
    loaded = load_config(write("experiment.json", SEED))
    c = loaded.config
    assert loaded.format == "auptimizer"
    assert (c.tuner.name, c.max_trials, c.concurrency, c.seed, c.mode) == ("random", 10, 3, 1, "min")
    assert c.search_space == [{"name": "x", "range": [-5, 5], "type": "float"}]
    assert c.trial.command == "python3 auto.py"
    assert c.trial.code_dir == folder
    assert c.trial.compat == ["aup"] and c.trial.params_as_argv
    assert (c.failure.retries, c.failure.ignore) == (3, True)
    assert c.save_best_model and loaded.warnings == ()


def test_seed_typo_is_a_one_line_json_error_with_the_line(write):
    path = write("experiment.json", SEED.replace('"workingdir":"./"', '"workingdir:"./"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:26:15:")
    assert "invalid JSON" in str(info.value)


def test_defaults(folder):
    c = config(folder, target=None, n_samples=None, n_parallel=None, job_failure=None, proposer=None).config
    assert (c.mode, c.max_trials, c.concurrency, c.tuner.name) == ("max", 10, 1, "random")
    assert (c.failure.retries, c.failure.ignore) == (0, False)
    # Auptimizer retries 3 times once a job_failure block is given without job_retries.
    assert config(folder, job_failure={"ignore_fail": True}).config.failure.retries == 3


def test_workingdir_and_non_python_scripts(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "run.sh").write_text("#!/bin/sh\n")
    c = config(tmp_path, workingdir="jobs", script="run.sh").config
    assert c.trial.code_dir == tmp_path / "jobs"
    assert c.trial.command == "./run.sh"


@pytest.mark.parametrize(("proposer", "tuner"), [("random", "random"), ("spearmint", "gp"), ("hyperopt", "tpe")])
def test_proposers_map_to_tuners(folder, proposer, tuner):
    assert config(folder, proposer=proposer).config.tuner.name == tuner


def test_hyperopt_random_engine(folder):
    assert config(folder, proposer="hyperopt", engine="random").config.tuner.name == "random"


@pytest.mark.parametrize("proposer", ["bohb", "hyperband", "eas"])
def test_proposers_not_built_yet_say_so(folder, proposer):
    with pytest.raises(NotImplementedTunerError, match=f"config: proposer: tuner '{proposer}'.*not available"):
        config(folder, proposer=proposer)


def test_sequence_uses_n_as_grid_points_and_runs_the_whole_grid(folder):
    params = [
        {"name": "x", "range": [-5, 5], "type": "float", "n": 3},
        {"name": "y", "range": [0, 1], "type": "float", "interval": 0.25},
        {"name": "k", "range": [0, 10], "type": "int", "interval": 5},
        {"name": "m", "range": [1, 3], "type": "int"},
        {"name": "c", "range": ["a", "b"], "type": "choice"},
    ]
    loaded = config(folder, proposer="sequence", parameter_config=params)
    c = loaded.config
    assert c.tuner.name == "grid" and c.tuner.args == {"n_points": {"x": 3}}
    assert c.max_trials is None
    assert any(w.startswith("n_samples: the sequence proposer runs its whole grid") for w in loaded.warnings)
    by_name = {p["name"]: p for p in c.search_space}
    assert by_name["y"] == {"name": "y", "type": "choice", "range": [0, 0.25, 0.5, 0.75, 1.0]}
    assert by_name["k"]["range"] == [0, 5, 10]
    assert by_name["m"] == {"name": "m", "range": [1, 3], "type": "int"}


def test_resources_and_resource_args(folder):
    loaded = config(folder, resource="gpu", resource_args={
        "multi_res_labels": ["flops", "params"], "track_intermediate_results": True,
        "early_stop": {"aup_policy": "bandit"}, "node_mapping": {"1": "user@host"},
    })
    assert loaded.config.trial.result_labels == ["flops", "params"]
    text = "\n".join(loaded.warnings)
    assert "resource: 'gpu' resources are not supported" in text
    assert "resource_args.early_stop: Auptimizer's early stopping is not supported yet" in text
    assert "resource_args.node_mapping" in text
    assert "track_intermediate_results" not in text


@pytest.mark.parametrize(
    ("changes", "message", "error"),
    [
        ({"script": None}, "config: script: this field is required", ConfigError),
        ({"script": "missing.py"}, "config: script: 'missing.py' not found in workingdir", ConfigError),
        ({"n_sample": 3}, "config: n_sample: unknown field; did you mean 'n_samples'?", ConfigError),
        ({"n_samples": "10"}, "config: n_samples: expected an integer, got '10'", ConfigError),
        ({"n_parallel": 0}, "config: n_parallel: must be >= 1, got 0", ConfigError),
        ({"random_seed": -1}, "config: random_seed: must be >= 0, got -1", ConfigError),
        ({"target": "minimum"}, "config: target: expected 'min' or 'max', got 'minimum'", ConfigError),
        ({"proposer": "randomm"}, "config: proposer: unknown tuner 'randomm'; did you mean 'random'?", TunerError),
        ({"resource": "tpu"}, "config: resource: expected one of cpu, gpu, aws, node, passive", ConfigError),
        ({"job_failure": {"retries": 1}}, "config: job_failure.retries: unknown field; did you mean 'job_retries'?",
         ConfigError),
        ({"job_failure": {"ignore_fail": "yes"}}, "config: job_failure.ignore_fail: expected true or false", ConfigError),
        ({"resource_args": {"multi_res_labels": "flops"}}, "config: resource_args.multi_res_labels: expected a list",
         ConfigError),
        ({"parameter_config": None}, "config: parameter_config: this field is required", ConfigError),
        ({"parameter_config": [{"name": "x", "range": [5, -5], "type": "float"}]}, "parameter_config.x:",
         SearchSpaceError),
        ({"parameter_config": [{"name": "x", "range": [0, 1], "type": "double"}]},
         "parameter_config.x.type: expected float, int or choice", SearchSpaceError),
        ({"proposer": "hyperopt", "engine": "anneal"}, "config: engine: expected 'tpe' or 'random'", ConfigError),
    ],
)
def test_bad_input_is_one_line_naming_the_field(folder, changes, message, error):
    with pytest.raises(error) as info:
        config(folder, **changes)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
