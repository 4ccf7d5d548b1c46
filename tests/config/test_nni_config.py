"""NNI v2 configs: the YAML nnictl takes and the Python API's snake_case fields."""

from __future__ import annotations

import json

import pytest

from tunelab.config import load_config, load_config_dict
from tunelab.errors import ConfigError, NotImplementedTunerError, TunerError
from tunelab.schedulers import build_scheduler

CONFIG = """
experimentName: mnist-pytorch
searchSpaceFile: search_space.json
trialCommand: python3 model.py
trialCodeDirectory: .
trialGpuNumber: 0
trialConcurrency: 2
maxTrialNumber: 10
maxExperimentDuration: 1h
maxTrialDuration: 5m
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
    seed: 7
assessor:
  name: Medianstop
  classArgs:
    optimize_mode: maximize
    start_step: 2
trainingService:
  platform: local
"""
SPACE = {
    "features": {"_type": "choice", "_value": [128, 256, 512, 1024]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
    "momentum": {"_type": "uniform", "_value": [0, 1]},
}


def minimal(**changes):
    data = {"searchSpace": SPACE, "trialCommand": "python3 model.py", "tuner": {"name": "Random"}}
    data.update(changes)
    return data


def test_full_config(write, tmp_path):
    write("search_space.json", json.dumps(SPACE))
    write("model.py", "")
    loaded = load_config(write("config.yml", CONFIG))
    config = loaded.config
    assert loaded.format == "nni"
    assert loaded.warnings == ()
    assert config.name == "mnist-pytorch"
    assert config.search_space == SPACE
    assert config.trial.command == "python3 model.py"
    assert config.trial.code_dir == tmp_path
    assert config.trial.timeout == 300
    assert config.trial.compat == ["nni"]
    assert (config.max_trials, config.max_duration, config.concurrency) == (10, 3600, 2)
    assert config.mode == "max" and config.seed == 7
    assert (config.tuner.name, config.tuner.args) == ("TPE", {})
    assert (config.assessor.name, config.assessor.args) == ("Medianstop", {"start_step": 2})


def test_relative_paths_follow_the_config_file(write, tmp_path):
    write("exp/space/ss.json", json.dumps(SPACE))
    write("exp/code/model.py", "")
    path = write(
        "exp/config.yml",
        """
        searchSpaceFile: space/ss.json
        trialCommand: python3 model.py
        trialCodeDirectory: code
        tuner: {name: Random}
    """,
    )
    config = load_config(path).config
    assert config.trial.code_dir == tmp_path / "exp" / "code"
    assert config.search_space == SPACE


@pytest.mark.parametrize(
    ("name", "mode"),
    [("TPE", "min"), ("Anneal", "min"), ("Random", "max"), ("GridSearch", "max"), ("Evolution", "max")],
)
def test_nni_default_modes(name, mode):
    assert load_config_dict(minimal(tuner={"name": name})).config.mode == mode


def test_snake_case_keys_of_the_python_api():
    data = {
        "search_space": SPACE,
        "trial_command": "python3 model.py",
        "trial_code_directory": ".",
        "trial_concurrency": 3,
        "max_trial_number": 4,
        "max_experiment_duration": "2h",
        "tuner": {"name": "TPE", "class_args": {"optimize_mode": "maximize"}},
        "training_service": {"platform": "local"},
    }
    loaded = load_config_dict(data)
    assert loaded.format == "nni"
    assert (loaded.config.concurrency, loaded.config.max_trials, loaded.config.max_duration) == (3, 4, 7200)
    assert loaded.config.mode == "max"


def test_inline_search_space_and_grid_args():
    config = load_config_dict(minimal(tuner={"name": "GridSearch"})).config
    assert config.tuner.name == "GridSearch" and config.search_space == SPACE


def test_remote_platform_and_its_gpus_are_warnings():
    loaded = load_config_dict(
        minimal(
            trialGpuNumber=1,
            trainingService={"platform": "remote", "machineList": [{"host": "x"}]},
            nniManagerIp="10.0.0.1",
        )
    )
    text = "\n".join(loaded.warnings)
    assert "'remote' is not supported; trials run on this machine" in text
    assert "trialGpuNumber: meant for the remote platform" in text
    assert "nniManagerIp" in text
    assert loaded.config.gpus_per_trial == 0


@pytest.mark.parametrize(
    ("service", "top", "expected"),
    [
        ({"useActiveGpu": True, "gpuIndices": [0, 2]}, {"trialGpuNumber": 1}, (1, [0, 2], None)),
        ({"gpuIndices": "1,3", "maxTrialNumberPerGpu": 2, "trialGpuNumber": 1}, {}, (1, [1, 3], 2)),
        ({"gpuIndices": 0}, {"trialGpuNumber": 2}, (2, [0], None)),
        ({}, {"trialGpuNumber": 0}, (0, None, None)),
    ],
)
def test_local_gpu_settings_become_gpu_scheduling(service, top, expected):
    loaded = load_config_dict(minimal(trainingService={"platform": "local", **service}, **top))
    c = loaded.config
    assert (c.gpus_per_trial, c.gpu_indices, c.max_trials_per_gpu) == expected
    assert not any("GPU" in w for w in loaded.warnings)


def test_use_active_gpu_false_says_what_it_means():
    loaded = load_config_dict(minimal(trialGpuNumber=1, trainingService={"platform": "local", "useActiveGpu": False}))
    assert any(w.startswith("trainingService.useActiveGpu: tunelab does not watch") for w in loaded.warnings)


@pytest.mark.parametrize(
    ("tuner", "scheduler", "args"),
    [
        (
            {"name": "Hyperband", "classArgs": {"R": 27, "eta": 3, "optimize_mode": "minimize"}},
            "hyperband",
            {"R": 27, "eta": 3},
        ),
        (
            {"name": "BOHB", "classArgs": {"min_budget": 1, "max_budget": 9, "eta": 3, "top_n_percent": 20}},
            "bohb",
            {"min_budget": 1, "max_budget": 9, "eta": 3, "top_n_percent": 20},
        ),
        (
            {"name": "PBTTuner", "classArgs": {"population_size": 4, "factor": 0.2}},
            "pbt",
            {"population_size": 4, "perturbation_factors": [1.2, 0.8], "perturbation_interval": 1, "max_t": 10**6},
        ),
    ],
)
@pytest.mark.parametrize("key", ["tuner", "advisor"])
def test_scheduler_like_tuners_become_schedulers(tuner, scheduler, args, key):
    changes = {"tuner": None, key: tuner}
    config = load_config_dict(minimal(**changes)).config
    assert config.tuner.name == "random"
    assert (config.scheduler.name, config.scheduler.args) == (scheduler, args)
    # NNI's Hyperband and BOHB advisors put the budget in the params as TRIAL_BUDGET; its PBT gives none.
    assert config.scheduler.budget_param == (None if scheduler == "pbt" else "TRIAL_BUDGET")
    assert config.mode == ("min" if tuner["name"] == "Hyperband" else "max")  # NNI's default: maximize
    build_scheduler(config)


def test_scheduler_like_tuner_with_bad_arguments_names_the_field():
    with pytest.raises(ConfigError, match=r"^config: .*advisor.*unknown argument 'RR'"):
        load_config_dict(minimal(tuner=None, advisor={"name": "Hyperband", "classArgs": {"RR": 3}}))
    with pytest.raises(ConfigError, match=r"tuner.classArgs.factor: expected a number in \(0, 1\)"):
        load_config_dict(minimal(tuner={"name": "PBTTuner", "classArgs": {"factor": 3}}))


def test_missing_code_directory_is_an_error(tmp_path):
    """``run`` cannot start trials in a folder that does not exist, so loading the file fails too."""
    with pytest.raises(ConfigError, match=r"trialCodeDirectory: '.*nowhere' is not a directory"):
        load_config_dict(minimal(trialCodeDirectory="nowhere"), base_dir=tmp_path, startup=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"maxTrialNumbr": 3}, "config: maxTrialNumbr: unknown field; did you mean 'maxTrialNumber'?"),
        ({"maxTrialNumber": "ten"}, "config: maxTrialNumber: expected an integer, got 'ten'"),
        ({"maxTrialNumber": 0}, "config: maxTrialNumber: must be >= 1, got 0"),
        ({"trialConcurrency": True}, "config: trialConcurrency: expected an integer, got True"),
        ({"maxExperimentDuration": "soon"}, "config: maxExperimentDuration: expected a duration"),
        ({"maxTrialDuration": -5}, "config: maxTrialDuration: a duration must be positive"),
        ({"trialCommand": None}, "config: trialCommand: this field is required"),
        ({"trialCommand": ""}, "config: trialCommand: expected a non-empty string"),
        ({"searchSpace": None}, "config: searchSpace: this field is required"),
        ({"searchSpaceFile": "ss.json"}, "config: searchSpaceFile: give either searchSpace or searchSpaceFile"),
        ({"searchSpace": {"lr": {"_type": "uniform", "_value": [1, 0]}}}, "searchSpace.lr: uniform"),
        ({"tuner": None}, "config: tuner: this field is required"),
        ({"tuner": {"name": "TPEE"}}, "config: tuner.name: unknown tuner 'TPEE'; did you mean 'tpe'?"),
        (
            {"tuner": {"name": "Random", "classArgs": {"optimize_mode": "up"}}},
            "config: tuner.classArgs.optimize_mode: expected 'minimize' or 'maximize'",
        ),
        (
            {"tuner": {"name": "GridSearch", "classArgs": {"n_point": 3}}},
            "config: tuner.classArgs: tuner 'GridSearch': unknown argument 'n_point'; did you mean 'n_points'?",
        ),
        ({"tuner": {"name": "Random", "classArgs": {"seed": "x"}}}, "config: tuner.classArgs.seed"),
        ({"tuner": {"name": "Random", "className": "my.Tuner"}}, "config: tuner.className: custom NNI algorithm"),
        (
            {"tuner": {"name": "Random", "clasArgs": {}}},
            "config: tuner.clasArgs: unknown field; did you mean 'classArgs'?",
        ),
        (
            {"trainingService": {"platform": "local", "gpuIndex": 0}},
            "config: trainingService.gpuIndex: unknown field; did you mean 'gpuIndices'?",
        ),
        ({"assessor": {"name": "Medianstop", "classArgs": "{bad"}}, "config: assessor.classArgs: not valid JSON"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(changes, message):
    with pytest.raises(ConfigError) as info:
        load_config_dict(minimal(**changes))
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_unknown_and_unavailable_tuners_keep_their_error_class():
    with pytest.raises(TunerError):
        load_config_dict(minimal(tuner={"name": "Nonsense"}))
    with pytest.raises(NotImplementedTunerError, match="tuner.name: tuner 'PPOTuner'.*not available"):
        load_config_dict(minimal(tuner={"name": "PPOTuner"}))
    with pytest.raises(NotImplementedTunerError, match="advisor.name"):
        load_config_dict(minimal(tuner=None, advisor={"name": "PPOTuner"}))


def test_search_space_file_errors_name_the_file(write):
    bad = write("ss.json", "{not json")
    with pytest.raises(ConfigError, match=r"searchSpaceFile: .*ss.json:1:2: not valid JSON"):
        load_config_dict(minimal(searchSpace=None, searchSpaceFile=str(bad)))
    with pytest.raises(ConfigError, match="searchSpaceFile: file .* does not exist"):
        load_config_dict(minimal(searchSpace=None, searchSpaceFile="missing.json"))
