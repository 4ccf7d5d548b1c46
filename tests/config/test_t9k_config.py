"""T9k AutoTuneExperiment resources, run as local command trials."""

from __future__ import annotations

import copy

import pytest
import yaml

from tunelab.config import load_config, load_config_dict
from tunelab.errors import ConfigError, SearchSpaceError, TunerError

#: The example of T9k's AutoTuneExperiment documentation, verbatim (trailing space included).
SEED = """\
apiVersion: tensorstack.dev/v1beta1
kind: AutoTuneExperiment
metadata:
  name: experiment-sample
spec:
  maxExecSeconds: 7200
  maxTrialNum: 50
  trialConcurrency: 3
  searchSpace: |-
    {
      "batch_size": {"_type": "choice", "_value": [512, 1024, 2048, 4096, 8092]},
      "learning_rate": {"_type": "choice", "_value": [0.0001, 0.001, 0.01, 0.1]}
    }
  trainingConfig:
    type: tensorflow
    tasks:
      - type: worker
        replicas: 1
        template:
          spec:
            securityContext:
              runAsUser: 1000
            containers:
              - command:
                  - python3
                  - dist_mnist.py
                workingDir: /mnt/mnist-distributed
                imagePullPolicy: IfNotPresent
                image: t9kpublic/tensorflow-1.15.2:tuner-2.23
                name: tensorflow
  tuner:
    builtinTunerName: TPE
    classArgs: |-
      {
        "optimize_mode": "minimize", 
        "constant_liar_type": "min"
      }
"""


def seed_dict() -> dict:
    return yaml.safe_load(SEED)


def container(data: dict) -> dict:
    return data["spec"]["trainingConfig"]["tasks"][0]["template"]["spec"]["containers"][0]


def test_seed_example_verbatim(write):
    loaded = load_config_dict(seed_dict(), format="t9k")
    config = loaded.config
    assert loaded.format == "t9k"
    assert config.name == "experiment-sample"
    assert (config.max_duration, config.max_trials, config.concurrency) == (7200, 50, 3)
    assert config.search_space["batch_size"]["_value"] == [512, 1024, 2048, 4096, 8092]
    assert config.mode == "min"
    assert (config.tuner.name, config.tuner.args) == ("TPE", {"constant_liar_type": "min"})
    assert config.trial.command == "python3 dist_mnist.py"
    assert str(config.trial.code_dir) == "/mnt/mnist-distributed"
    assert config.trial.compat == ["nni"]


def test_seed_example_warns_about_what_runs_only_on_a_cluster():
    warnings = "\n".join(load_config_dict(seed_dict()).warnings)
    for field in ("securityContext", "imagePullPolicy", ".image:"):
        assert field in warnings


def test_a_working_dir_inside_the_image_cannot_run_here(write):
    """The trials could not start (``run`` fails on the folder), so the file is rejected, naming workingDir."""
    with pytest.raises(ConfigError, match=r"containers\[0\]\.workingDir: '/mnt/mnist-distributed' is not a directory"):
        load_config(write("experiment.yaml", SEED))


def test_relative_working_dir_args_and_env(tmp_path):
    data = seed_dict()
    (tmp_path / "code").mkdir()
    c = container(data)
    c.update(
        workingDir="code",
        command=["python3", "train.py"],
        args=["--epochs", "2 3"],
        env=[{"name": "A", "value": 1}, {"name": "B", "valueFrom": {"secretKeyRef": {}}}],
    )
    for key in ("image", "imagePullPolicy"):
        del c[key]
    loaded = load_config_dict(data, base_dir=tmp_path)
    assert loaded.config.trial.command == "python3 train.py --epochs '2 3'"
    assert loaded.config.trial.code_dir == tmp_path / "code"
    assert loaded.config.trial.env == {"A": "1"}
    assert any("env[1]" in w for w in loaded.warnings)


def test_resources_and_aistore_are_warnings():
    data = seed_dict()
    container(data)["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    data["spec"]["aistore"] = {"folder": "abc", "secret": "aistore-secret"}
    warnings = "\n".join(load_config_dict(data).warnings)
    assert "containers[0].resources: only nvidia.com/gpu is used locally" in warnings
    assert "spec.aistore" in warnings
    assert "replicas" not in warnings and load_config_dict(data).config.trial.distributed is None


def test_worker_replicas_become_a_distributed_trial_and_the_warning_names_what_is_left():
    data = seed_dict()
    data["spec"]["trainingConfig"]["tasks"][0]["replicas"] = 4
    loaded = load_config_dict(data)
    distributed = loaded.config.trial.distributed
    assert distributed is not None and distributed.framework == "tensorflow"
    assert [(r.role, r.count, r.command) for r in distributed.replicas] == [("worker", 4, "python3 dist_mnist.py")]
    warnings = "\n".join(loaded.warnings)
    assert "placement groups) is not supported" not in warnings and "local processes" not in warnings
    assert "replicas requested; each trial runs one local process" not in warnings


def test_a_pytorch_master_and_workers_keep_their_own_commands_env_and_gpus():
    data = seed_dict()
    training = data["spec"]["trainingConfig"]
    training["type"] = "pytorch"
    master = training["tasks"][0]
    master["type"] = "master"
    container(data).update(command=["python3", "train.py"], env=[{"name": "ROLE", "value": "m"}])
    container(data)["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    worker = copy.deepcopy(master)
    worker.update(type="worker", replicas=2)
    worker["template"]["spec"]["containers"][0].update(args=["--worker"], env=[{"name": "ROLE", "value": "w"}])
    training["tasks"].append(worker)
    loaded = load_config_dict(data)
    trial = loaded.config.trial
    assert trial.command == "python3 train.py"
    assert [(r.role, r.count, r.command, r.env) for r in trial.distributed.replicas] == [
        ("master", 1, "python3 train.py", {"ROLE": "m"}),
        ("worker", 2, "python3 train.py --worker", {"ROLE": "w"}),
    ]
    assert loaded.config.gpus_per_trial == 3
    assert [r.gpus for r in trial.distributed.replicas] == [1, 1]  # each replica's own, locally as on Ray
    assert not any("GPU" in w for w in loaded.warnings)  # nothing differs from T9k's placement to warn of


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.update(type="mpi"), r"trainingConfig.type: expected one of pytorch, tensorflow, xgboost"),
        (lambda t: t["tasks"][0].update(replicas=0), r"tasks\[0\].replicas: expected a whole number >= 1, got 0"),
        (lambda t: t["tasks"][0].update(type="wrker"), r"replicas\[0\].role: .*did you mean 'worker'\?"),
        (lambda t: t["tasks"][0].update(type="chief"), r"replicas\[0\].count: a chief has 1 replica, got 2"),
        (lambda t: t["tasks"].append(copy.deepcopy(t["tasks"][0])), r"replicas\[1\].role: 'worker' is given twice"),
    ],
)
def test_replicas_that_cannot_run_are_errors_naming_the_field(change, message):
    data = seed_dict()
    data["spec"]["trainingConfig"]["tasks"][0]["replicas"] = 2
    change(data["spec"]["trainingConfig"])
    with pytest.raises(ConfigError, match=message):
        load_config_dict(data)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_two_worker_pytorch_job_runs_a_real_torch_distributed_trial(tmp_path):
    """Two gloo processes per trial; the all_reduce sum (rank 0's report) is the trial's value."""
    pytest.importorskip("torch.distributed")
    import sys
    import textwrap

    from tunelab import Experiment
    from tunelab.storage import TrialState

    (tmp_path / "train.py").write_text(
        textwrap.dedent("""
        import os
        import nni
        import torch
        import torch.distributed as dist

        params = nni.get_next_parameter()
        dist.init_process_group("gloo")
        tensor = torch.tensor([params["x"] * (dist.get_rank() + 1)])
        dist.all_reduce(tensor)
        nni.report_final_result({"default": float(tensor.item()), "world": dist.get_world_size()})
        dist.destroy_process_group()
    """)
    )
    data = seed_dict()
    data["spec"].update(maxTrialNum=2, trialConcurrency=1, searchSpace='{"x": {"_type": "choice", "_value": [1, 2]}}')
    data["spec"]["tuner"] = {"builtinTunerName": "GridSearch"}
    data["spec"]["trainingConfig"] = {
        "type": "pytorch",
        "tasks": [
            {
                "type": "worker",
                "replicas": 2,
                "template": {"spec": {"containers": [{"command": [sys.executable, "train.py"], "workingDir": "."}]}},
            }
        ],
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(data))
    result = Experiment.from_file(tmp_path / "experiment.yaml", storage=f"sqlite:///{tmp_path}/db.sqlite").run()
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 2, [t.error for t in result.trials]
    values = sorted((t.params["x"], t.value, t.metrics["world"]) for t in result.trials)
    assert values == [(1, 3.0, 2), (2, 6.0, 2)]  # x * 1 + x * 2 over the two ranks


def test_container_gpus_become_gpus_per_trial():
    data = seed_dict()
    container(data)["resources"] = {"requests": {"cpu": 1}, "limits": {"nvidia.com/gpu": "2"}}
    assert load_config_dict(data).config.gpus_per_trial == 2
    container(data)["resources"] = {"limits": {"nvidia.com/gpu": "many"}}
    with pytest.raises(ConfigError, match=r"resources.limits.nvidia.com/gpu: expected a number, got 'many'"):
        load_config_dict(data)


def test_hyperband_tuner_is_a_scheduler():
    data = seed_dict()
    data["spec"]["tuner"] = {"builtinTunerName": "Hyperband", "classArgs": '{"R": 9, "eta": 3}'}
    config = load_config_dict(data).config
    assert config.tuner.name == "random"
    assert (config.scheduler.name, config.scheduler.args) == ("hyperband", {"R": 9, "eta": 3})


def test_assessor_and_default_mode():
    data = seed_dict()
    data["spec"]["tuner"] = {"builtinTunerName": "Random"}
    data["spec"]["assessor"] = {"builtinAssessorName": "Medianstop", "classArgs": '{"start_step": 3}'}
    config = load_config_dict(data).config
    assert config.mode == "max"  # NNI's Random maximizes unless told otherwise
    assert (config.assessor.name, config.assessor.args) == ("Medianstop", {"start_step": 3})


def _set(path: str, value):
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = container(data) if key == "container" else node[key]
        node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "message", "error"),
    [
        (
            _set("spec.searchSpace", '{"batch_size": {"_type": "choice", "_value": [1, 2]'),
            "spec.searchSpace: not valid JSON",
            SearchSpaceError,
        ),
        (
            _set("spec.searchSpace", '{"lr": {"_type": "uniform", "_value": [1]}}'),
            "spec.searchSpace.lr: uniform needs a _value list of 2 numbers",
            SearchSpaceError,
        ),
        (
            _set("spec.tuner.classArgs", '{"optimize_mode": "minimize",}'),
            "spec.tuner.classArgs: not valid JSON (Expecting property name",
            ConfigError,
        ),
        (_set("spec.tuner.builtinTunerName", "TPEE"), "spec.tuner.builtinTunerName: unknown tuner 'TPEE'", TunerError),
        (
            _set("spec.tuner.classArgs", '{"optimize_mode": "minimize", "n_startup_job": 3}'),
            "spec.tuner.classArgs: tuner 'TPE': unknown argument 'n_startup_job'",
            TunerError,
        ),
        (_set("spec.maxTrialNum", "50"), "spec.maxTrialNum: expected an integer, got '50'", ConfigError),
        (_set("spec.maxExecSeconds", "two hours"), "spec.maxExecSeconds: expected a duration", ConfigError),
        (
            _set("spec.maxTrialNumber", 5),
            "spec.maxTrialNumber: unknown field; did you mean 'maxTrialNum'?",
            ConfigError,
        ),
        (_set("spec.container.command", None), "containers[0].command: this field is required", ConfigError),
        (_set("spec.container.command", {"a": 1}), "containers[0].command: expected a list of strings", ConfigError),
        (_set("spec.trainingConfig.tasks", []), "spec.trainingConfig.tasks: expected a non-empty list", ConfigError),
        (_set("spec.trainingConfig", None), "spec.trainingConfig: this field is required", ConfigError),
        (_set("spec.tuner", None), "spec.tuner: this field is required", ConfigError),
        (_set("kind", "TrainingJob"), "kind: expected 'AutoTuneExperiment'", ConfigError),
        (
            _set("spec.assessor", {"builtinAssessorName": "Medianstop", "classArg": "{}"}),
            "spec.assessor.classArg: unknown field; did you mean 'classArgs'?",
            ConfigError,
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_field(change, message, error):
    data = seed_dict()
    change(data)
    with pytest.raises(error) as info:
        load_config_dict(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_t9k_names_the_tuner_before_an_empty_space():
    data = seed_dict()
    data["spec"]["searchSpace"] = "{}"
    with pytest.raises(SearchSpaceError, match="spec.searchSpace: the search space is empty, so the trial would get"):
        load_config_dict(data)
    data["spec"]["tuner"] = {"builtinTunerName": "NetworkMorphism"}
    with pytest.raises(TunerError, match="spec.tuner.builtinTunerName: tuner 'NetworkMorphism'.*the nearest is"):
        load_config_dict(data)
