"""Auptimizer experiment.json files."""

from __future__ import annotations

import json

import pytest

from tunelab.config import load_config, load_config_dict
from tunelab.errors import ConfigError, NotImplementedTunerError, SearchSpaceError, TunerError
from tunelab.schedulers import build_scheduler

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


def test_eas_proposer_says_it_is_not_available(folder):
    with pytest.raises(NotImplementedTunerError, match="config: proposer: tuner 'eas'.*not available"):
        config(folder, proposer="eas")


def test_hyperband_proposer_is_the_hyperband_scheduler(folder):
    loaded = config(folder, proposer="hyperband", max_iter=9, eta=3, skip_last=1)
    c = loaded.config
    assert c.tuner.name == "random"
    assert (c.scheduler.name, c.scheduler.args, c.scheduler.budget_param) == (
        "hyperband",
        {"max_iter": 9, "eta": 3},
        "n_iterations",
    )
    # Auptimizer runs every rung of brackets s=2,1,0 for max_iter 9: (9+3+1) + (5+1) + 3 jobs.
    assert c.max_trials == 22
    assert any(w.startswith("n_samples: the hyperband proposer decides") for w in loaded.warnings)
    assert any(w.startswith("skip_last") for w in loaded.warnings)
    build_scheduler(c)


def test_bohb_proposer_is_the_bohb_scheduler(folder):
    c = config(folder, proposer="bohb", min_budget=1, max_budget=9, n_iterations=2, top_n_percent=20).config
    assert (c.scheduler.name, c.scheduler.budget_param) == ("bohb", "n_iterations")
    assert c.scheduler.args == {"min_budget": 1, "max_budget": 9, "eta": 3, "top_n_percent": 20}
    assert c.max_trials == 13 + 6  # brackets s=2 and s=1
    build_scheduler(c)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"proposer": "bohb"}, "config: min_budget: budgets are whole units"),
        ({"proposer": "hyperband", "eta": 1}, "config: eta: expected a number above 1, got 1"),
        ({"proposer": "hyperband", "engine": "sequence"}, "config: engine: the hyperband proposer draws"),
        ({"proposer": "hyperband", "max_iter": "81"}, "config: max_iter: expected a number above 1"),
        ({"proposer": "random", "max_iter": 9}, "config: max_iter: unknown field"),
        (
            {"proposer": "hyperband", "parameter_config": [{"name": "tid", "range": [0, 1], "type": "float"}]},
            "config: parameter_config: 'tid' and 'n_iterations' are reserved",
        ),
    ],
)
def test_bandit_proposer_errors_name_the_field(folder, changes, message):
    with pytest.raises(ConfigError) as info:
        config(folder, **changes)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("early_stop", "name", "args"),
    [
        (
            {"aup_policy": "bandit", "aup_policy_steps": 2, "bandit_factor": 0.5},
            "bandit",
            {"aup_policy_steps": 2, "bandit_factor": 0.5},
        ),
        (
            {"aup_policy": "median", "aup_policy_steps": 1, "warmup": 2},
            "median",
            {"aup_policy_steps": 1, "warmup": 2, "include_running": True},
        ),
        (
            {"aup_policy": "curve_fitting", "aup_policy_steps": 1, "curve_fitting_max_iters": 20},
            "curvefitting",
            {"aup_policy_steps": 1, "curve_fitting_max_iters": 20, "warmup": 3},
        ),
    ],
)
def test_early_stop_becomes_an_assessor(folder, early_stop, name, args):
    c = config(folder, resource_args={"early_stop": early_stop}).config
    assert (c.assessor.name, c.assessor.args) == (name, args)
    build_scheduler(c)


def test_early_stop_errors_name_the_field(folder):
    with pytest.raises(ConfigError, match=r"^config: resource_args.early_stop.aup_policy: unknown policy 'medain'"):
        config(folder, resource_args={"early_stop": {"aup_policy": "medain", "aup_policy_steps": 1}})


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
    loaded = config(
        folder,
        resource="gpu",
        resource_args={
            "multi_res_labels": ["flops", "params"],
            "track_intermediate_results": True,
            "early_stop": {"aup_policy": "bandit", "aup_policy_steps": 1},
            "node_mapping": {"1": "user@host"},
        },
    )
    assert loaded.config.trial.result_labels == ["flops", "params"]
    text = "\n".join(loaded.warnings)
    assert "resource: 'gpu' resources are not supported" in text
    assert "resource_args.early_stop" not in text
    assert loaded.config.assessor.name == "bandit"
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
        (
            {"job_failure": {"retries": 1}},
            "config: job_failure.retries: unknown field; did you mean 'job_retries'?",
            ConfigError,
        ),
        (
            {"job_failure": {"ignore_fail": "yes"}},
            "config: job_failure.ignore_fail: expected true or false",
            ConfigError,
        ),
        (
            {"resource_args": {"multi_res_labels": "flops"}},
            "config: resource_args.multi_res_labels: expected a list",
            ConfigError,
        ),
        ({"parameter_config": None}, "config: parameter_config: this field is required", ConfigError),
        (
            {"parameter_config": [{"name": "x", "range": [5, -5], "type": "float"}]},
            "parameter_config.x:",
            SearchSpaceError,
        ),
        (
            {"parameter_config": [{"name": "x", "range": [0, 1], "type": "double"}]},
            "parameter_config.x.type: expected float, int or choice",
            SearchSpaceError,
        ),
        ({"proposer": "hyperopt", "engine": "anneal"}, "config: engine: expected 'tpe' or 'random'", ConfigError),
        (
            {"proposer": "passive"},
            'config: proposer: Auptimizer has no \'passive\' proposer (its passive mode is "resource": "passive"',
            ConfigError,
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field(folder, changes, message, error):
    with pytest.raises(error) as info:
        config(folder, **changes)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


#: Auptimizer's Examples/2dfunc_diff_opt/experiment_bohb.json as published ("" for the default).
UPSTREAM_BOHB = """\
{
  "name": "./2dfunc_diff_opt/experiment_bohb.json",
  "script": "auto.py",
  "resource": "cpu",
  "n_parallel": 5,
  "target": "min",
  "workingdir": "./",
  "proposer": "bohb",
    "n_iterations": 3,
  "min_points_in_model": "",
  "top_n_percent": 15,
  "num_samples": 64,
  "random_fraction": 0.3333333333333333,
  "bandwidth_factor": 3,
  "min_bandwidth": 0.001,
  "eta": 3,
  "min_budget": 1,
  "max_budget": 9,
  "parameter_config": [
    {"name": "x", "range": [0, 1], "type": "float"},
    {"name": "y", "range": [0, 1], "type": "float"}
  ]
}
"""


def test_bohb_config_as_auptimizer_writes_it_loads_with_the_defaults(folder):
    loaded = load_config_dict(json.loads(UPSTREAM_BOHB), base_dir=folder)
    c = loaded.config
    assert (c.scheduler.name, c.scheduler.budget_param, c.mode, c.concurrency) == ("bohb", "n_iterations", "min", 5)
    assert "min_points_in_model" not in c.scheduler.args  # "" is Auptimizer's "use the default"
    assert c.scheduler.args["top_n_percent"] == 15 and c.scheduler.args["max_budget"] == 9
    assert not loaded.warnings
    build_scheduler(c)


def test_an_empty_bandit_setting_other_than_min_points_in_model_warns_and_uses_the_default(folder):
    data = {**json.loads(UPSTREAM_BOHB), "top_n_percent": "", "min_points_in_model": 0}
    loaded = load_config_dict(data, base_dir=folder)
    assert "top_n_percent" not in loaded.config.scheduler.args
    assert "min_points_in_model" not in loaded.config.scheduler.args  # falsy, as Auptimizer's BOHB reads it
    assert list(loaded.warnings) == ["top_n_percent: empty; the bohb proposer's default is used"]


def test_passive_resource_warns_that_jobs_are_not_started_by_hand(folder):
    loaded = config(folder, resource="passive")
    [warning] = [w for w in loaded.warnings if w.startswith("resource:")]
    assert "start each job by hand" in warning and "runs each job itself" in warning
