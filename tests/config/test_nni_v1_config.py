"""NNI's v1 config format, read as NNI 3.0 converts it to v2 (``nni/experiment/config/convert.py``)."""

from __future__ import annotations

import json
import textwrap

import pytest

from tunelab.config import load_config, load_config_dict
from tunelab.errors import ConfigError, NotImplementedTunerError, SearchSpaceError

SPACE = {
    "batch_size": {"_type": "choice", "_value": [16, 32, 64]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
}

#: NNI's examples/trials/mnist-tfv1/config_assessor.yml with a GPU setting, localConfig and logDir added.
V1 = """
authorName: default
experimentName: example_mnist
trialConcurrency: 2
maxExecDuration: 1h
maxTrialNum: 50
maxTrialDuration: 10m
#choice: local, remote, pai
trainingServicePlatform: local
searchSpacePath: space/search_space.json
useAnnotation: false
multiThread: false
versionCheck: true
tuner:
  builtinTunerName: TPE
  classArgs:
    optimize_mode: maximize
    seed: 3
assessor:
  builtinAssessorName: Curvefitting
  classArgs:
    epoch_num: 20
    threshold: 0.9
trial:
  command: python3 mnist.py
  codeDir: code
  gpuNum: 1
localConfig:
  gpuIndices: 0,1
  maxTrialNumPerGpu: 2
  useActiveGpu: true
"""

#: The same experiment written by hand in NNI's v2 format.
V2 = """
experimentName: example_mnist
trialConcurrency: 2
maxExperimentDuration: 1h
maxTrialNumber: 50
maxTrialDuration: 10m
searchSpaceFile: space/search_space.json
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
    seed: 3
assessor:
  name: Curvefitting
  classArgs:
    epoch_num: 20
    threshold: 0.9
trialCommand: python3 mnist.py
trialCodeDirectory: code
trialGpuNumber: 1
trainingService:
  platform: local
  gpuIndices: 0,1
  maxTrialNumberPerGpu: 2
  useActiveGpu: true
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "space").mkdir()
    (tmp_path / "space" / "search_space.json").write_text(json.dumps(SPACE))
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "mnist.py").write_text("")
    return tmp_path


def test_a_v1_config_and_its_v2_equivalent_give_the_same_experiment(folder, monkeypatch):
    (folder / "v1.yml").write_text(V1)
    (folder / "v2.yml").write_text(V2)
    monkeypatch.chdir("/")  # relative paths follow the config file, not the working directory
    v1 = load_config_dict(_read(folder / "v1.yml"), base_dir=folder)
    v2 = load_config_dict(_read(folder / "v2.yml"), base_dir=folder)
    assert v1.format == v2.format == "nni"
    assert v1.config == v2.config
    config = v1.config
    assert config.search_space == SPACE
    assert config.trial.code_dir == folder / "code"
    assert (config.max_trials, config.concurrency, config.max_duration, config.trial.timeout) == (50, 2, 3600, 600)
    assert (config.gpus_per_trial, config.gpu_indices, config.max_trials_per_gpu) == (1, [0, 1], 2)
    assert (config.mode, config.seed, config.tuner.name, config.assessor.name) == ("max", 3, "TPE", "Curvefitting")
    assert any(w.startswith("multiThread:") for w in v1.warnings)
    assert any(w.startswith("versionCheck:") for w in v1.warnings)


def test_a_v1_config_file_loads_with_the_startup_checks(folder):
    (folder / "config.yml").write_text(V1.replace("gpuNum: 1", "gpuNum: 0").replace("  gpuIndices: 0,1\n", ""))
    loaded = load_config(folder / "config.yml")
    assert loaded.config.trial.command == "python3 mnist.py"
    assert loaded.config.max_trials == 50


def _read(path):
    from tunelab.config._load import read_config_file

    return read_config_file(path)


def v1(**changes):
    data = {
        "authorName": "default",
        "experimentName": "x",
        "trialConcurrency": 1,
        "trainingServicePlatform": "local",
        "searchSpacePath": "search_space.json",
        "useAnnotation": False,
        "tuner": {"builtinTunerName": "Random"},
        "trial": {"command": "python3 trial.py", "codeDir": "."},
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def space_file(tmp_path):
    (tmp_path / "search_space.json").write_text(json.dumps(SPACE))
    return tmp_path


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"useAnnotation": True}, ConfigError, "useAnnotation: annotations .* are not supported"),
        (
            {"tuner": {"codeDir": ".", "classFileName": "my_tuner.py", "className": "MyTuner"}},
            ConfigError,
            "tuner.codeDir: custom NNI algorithm classes .* are not supported",
        ),
        (
            {"advisor": {"codeDir": ".", "classFileName": "a.py", "className": "A"}, "tuner": None},
            ConfigError,
            "advisor.codeDir: custom NNI algorithm classes .*builtinAdvisorName: BOHB",
        ),
        ({"maxTrialNum": 0}, ConfigError, "maxTrialNum: must be >= 1"),
        ({"maxExecDuration": "soon"}, ConfigError, "maxExecDuration: "),
        ({"searchSpacePath": "missing.json"}, ConfigError, "searchSpacePath: file .*missing.json.* does not exist"),
        ({"searchSpacePath": None}, ConfigError, "searchSpacePath: this field is required"),
        ({"trial": {"codeDir": "."}}, ConfigError, "trial.command: this field is required"),
        ({"trial": {"command": "python3 trial.py", "gpuNum": -1}}, ConfigError, "trial.gpuNum: must be >= 0"),
        (
            {"trial": {"command": "x", "codeDr": "."}},
            ConfigError,
            "trial.codeDr: unknown field; did you mean 'codeDir'",
        ),
        ({"tuner": {"builtinTunerName": "TPE", "classArgs": {"optimize_mode": "up"}}}, ConfigError, "tuner.classArgs"),
        ({"tuner": {"builtinTunerName": "Tpee"}}, ConfigError, "tuner.builtinTunerName: unknown tuner 'Tpee'"),
        ({"localConfig": {"maxTrialNumPerGpu": 0}}, ConfigError, "localConfig.maxTrialNumPerGpu: must be >= 1"),
        ({"localConfig": {"gpuIndex": 0}}, ConfigError, "localConfig.gpuIndex: unknown field"),
        ({"multiPhase": True}, ConfigError, "multiPhase: multi-phase experiments are not supported"),
        ({"maxTrialNumber": 3}, ConfigError, "maxTrialNumber: unknown field"),
        ({"trainingServicePlatform": 3}, ConfigError, "trainingServicePlatform: expected a non-empty string"),
    ],
)
def test_v1_errors_name_the_v1_field(space_file, changes, error, message):
    with pytest.raises(error, match=message) as info:
        load_config_dict(v1(**changes), base_dir=space_file)
    assert "\n" not in str(info.value)


def test_v1_fields_in_a_v2_config_say_which_format_they_belong_to():
    v2 = {"searchSpace": SPACE, "trialCommand": "python3 trial.py", "tuner": {"name": "TPE"}, "maxTrialNum": 3}
    with pytest.raises(ConfigError, match=r"maxTrialNum: a field of NNI's v1 format \(v2: maxTrialNumber\)"):
        load_config_dict(v2)


def test_v1_other_platforms_are_warnings_and_run_here(space_file):
    data = v1(
        trainingServicePlatform="pai",
        trial={"command": "python3 trial.py", "codeDir": ".", "gpuNum": 1, "cpuNum": 2, "image": "msranni/nni"},
        paiConfig={"userName": "me", "host": "10.1.1.1"},
    )
    loaded = load_config_dict(data, base_dir=space_file)
    assert loaded.config.trial.command == "python3 trial.py"
    assert loaded.config.gpus_per_trial in (None, 0)
    joined = " | ".join(loaded.warnings)
    for field in ("paiConfig:", "trial.cpuNum:", "trial.image:", "trainingServicePlatform:", "trial.gpuNum:"):
        assert field in joined


def test_v1_kubeflow_runs_the_worker_command_with_a_warning(space_file):
    trial = {"codeDir": ".", "worker": {"replicas": 2, "command": "python3 dist.py", "gpuNum": 1, "image": "x"}}
    loaded = load_config_dict(v1(trainingServicePlatform="kubeflow", trial=trial), base_dir=space_file)
    assert loaded.config.trial.command == "python3 dist.py"
    assert any(w.startswith("trial.worker.command: runs as one local process") for w in loaded.warnings)
    assert not any(w.startswith("trial.worker:") for w in loaded.warnings)


def test_empty_search_space_is_an_error_unless_the_tuner_reports_first():
    v2 = {"searchSpace": {}, "trialCommand": "python3 trial.py", "tuner": {"name": "TPE"}}
    with pytest.raises(SearchSpaceError, match="searchSpace: the search space is empty, so the trial would get no"):
        load_config_dict(v2)
    # NNI's network_morphism examples leave the space empty: the tuner brings its own.
    with pytest.raises(NotImplementedTunerError, match="'NetworkMorphism' .* not available in tunelab; the nearest"):
        load_config_dict({**v2, "tuner": {"name": "NetworkMorphism", "classArgs": {"task": "cv"}}})
    with pytest.raises(ConfigError, match="tuner.className: custom NNI algorithm classes"):
        load_config_dict({**v2, "tuner": {"className": "customer_tuner.CustomerTuner", "codeDirectory": "."}})


def test_t9k_configs_keep_their_v1_algorithm_names():
    data = {
        "apiVersion": "tensorstack.dev/v1beta1",
        "kind": "AutoTuneExperiment",
        "spec": {
            "maxTrialNum": 5,
            "searchSpace": json.dumps(SPACE),
            "trainingConfig": {"tasks": [{"template": {"spec": {"containers": [{"command": ["python3", "t.py"]}]}}}]},
        },
    }
    data["spec"]["tuner"] = {"builtinTunerName": "MetisTuner", "classArgs": '{"optimize_mode": "maximize"}'}
    data["spec"]["assessor"] = {"builtinAssessorName": "Medianstop", "classArgs": {"start_step": 2}}
    loaded = load_config_dict(data)
    assert (loaded.config.tuner.name, loaded.config.mode, loaded.config.assessor.name) == (
        "MetisTuner",
        "max",
        "Medianstop",
    )
    assert any("NNI's Metis" in w and "GP" in w for w in loaded.warnings)


def test_v1_config_with_a_pbt_tuner_sets_checkpoint_params(space_file):
    loaded = load_config_dict(
        v1(tuner={"builtinTunerName": "PBTTuner", "classArgs": {"population_size": 4, "all_checkpoint_dir": "/x"}}),
        base_dir=space_file,
    )
    assert loaded.config.scheduler.name == "pbt" and loaded.config.scheduler.checkpoint_params
    assert any(w.startswith("tuner.classArgs.all_checkpoint_dir: ignored") for w in loaded.warnings)


def test_a_v1_yaml_file_is_detected_without_a_format(write, tmp_path):
    write("search_space.json", json.dumps(SPACE))
    write("trial.py", "")
    path = write("config.yml", textwrap.dedent(V1).replace("space/", "").replace("codeDir: code", "codeDir: ."))
    path.write_text(path.read_text().replace("gpuNum: 1", "gpuNum: 0").replace("  gpuIndices: 0,1\n", ""))
    (tmp_path / "mnist.py").write_text("")
    assert load_config(path).format == "nni"


def test_detection_tells_v1_configs_from_tunelab_yaml():
    from tunelab.config import detect_format

    assert detect_format({"authorName": "me", "trial": {"command": "x"}}) == "nni"
    assert detect_format({"trainingServicePlatform": "local"}) == "nni"
    assert detect_format({"trial": {"command": "x"}, "description": "a misspelt field"}) == "tunelab"


def test_v1_advisors_become_schedulers_with_nnis_budget_parameter(space_file):
    advisor = {"builtinAdvisorName": "Hyperband", "classArgs": {"R": 9, "eta": 3, "optimize_mode": "maximize"}}
    config = load_config_dict(v1(tuner=None, advisor=advisor), base_dir=space_file).config
    assert (config.scheduler.name, config.scheduler.budget_param, config.tuner.name) == (
        "hyperband",
        "TRIAL_BUDGET",
        "random",
    )
    assert config.mode == "max"
    with pytest.raises(ConfigError, match="advisor.builtinAdvisorName: this field is required"):
        load_config_dict(v1(tuner=None, advisor={"classArgs": {}}), base_dir=space_file)
