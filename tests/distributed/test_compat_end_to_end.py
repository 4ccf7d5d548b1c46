"""Issue 15's end-to-end cases, on the local runner and on Ray: other systems' files and scripts as they are.

An NNI Python-API driver started with ``tunelab python``, an NNI v1 config, a ``MetisTuner``
and a ``SMAC`` config, an Auptimizer ``@aup_args`` script from its ``experiment.json``, an
Orca script with only ``bigdl.orca`` imports, and a T9k PyTorch job with two replicas. On Ray,
every case shares the module's one single-node cluster on 127.0.0.1: configs that cannot name
a runner reach it through ``TUNELAB_RAY_ADDRESS`` (or ``Experiment.from_file(runner="ray")``),
the Orca script through ``RAY_ADDRESS``. Each trial proves where it ran (the Ray node line in
its stderr) and that the compatibility module it imports is tunelab's.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import tunelab
from tunelab import Experiment
from tunelab.storage import Phase, TrialState, open_storage

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
SHIMS = Path(tunelab.__file__).parent / "trial" / "_shims"
RUNNERS = ["local", "ray"]


@pytest.fixture(params=RUNNERS)
def where(request, monkeypatch):
    """``local``, or ``ray`` with ``TUNELAB_RAY_ADDRESS`` pointing at the module's cluster (its address)."""
    if request.param == "local":
        monkeypatch.delenv("TUNELAB_RAY_ADDRESS", raising=False)
        return None
    pytest.importorskip("ray")
    address = request.getfixturevalue("loopback_ray")
    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", address)
    return address


NNI_TRIAL = """
    import nni
    print("nni from", nni.__file__, flush=True)
    params = nni.get_next_parameter()
    x, y = params["x"], params["y"]
    for step in range(3):
        nni.report_intermediate_result(-(x - 0.3) ** 2 * (step + 1))
    nni.report_final_result({"default": -(x - 0.3) ** 2 + (0.5 if y == "b" else 0.0), "y": y})
"""
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "choice", "_value": ["a", "b"]}}


def _folder(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "trial.py").write_text(textwrap.dedent(NNI_TRIAL))
    (tmp_path / "search_space.json").write_text(json.dumps(SPACE))
    return tmp_path


def _check(trials, where: str | None, count: int, *, module: str | None = "nni") -> None:
    """Every trial succeeded with a finite value, ran where it should, and imported tunelab's module."""
    assert len(trials) == count, [(t.state, t.error) for t in trials]
    for trial in trials:
        assert trial.state == TrialState.SUCCEEDED, (trial.state, trial.error, trial.message)
        assert trial.value is not None and math.isfinite(trial.value)
        stderr = (Path(trial.trial_dir) / "stderr.log").read_text()
        assert ("running on Ray node" in stderr) == (where is not None), stderr[-2000:]
        if module is not None:
            stdout = (Path(trial.trial_dir) / "stdout.log").read_text()
            assert f"{module} from {SHIMS}" in stdout, stdout[-2000:]


def _run_file(path: Path, tmp_path: Path, **overrides):
    result = Experiment.from_file(path, storage=f"sqlite:///{tmp_path}/db.sqlite", **overrides).run()
    assert result.phase == Phase.DONE, result.message
    return result


def test_an_nni_v1_config(where, tmp_path):
    folder = _folder(tmp_path)
    config = {
        "authorName": "default",
        "experimentName": "v1-end-to-end",
        "trialConcurrency": 2,
        "maxExecDuration": "1h",
        "maxTrialNum": 3,
        "trainingServicePlatform": "local",
        "searchSpacePath": "search_space.json",
        "useAnnotation": False,
        "tuner": {"builtinTunerName": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        "trial": {"command": "python3 trial.py", "codeDir": ".", "gpuNum": 0},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    experiment = Experiment.from_file(folder / "config.yml", storage=f"sqlite:///{tmp_path}/db.sqlite")
    assert experiment.config.runner == ("ray" if where else "local") and experiment.config.mode == "max"
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    _check(result.trials, where, 3)
    assert all(len(t.intermediate) == 3 for t in result.trials)


@pytest.mark.parametrize(("tuner", "warned"), [("MetisTuner", "NNI's Metis"), ("SMAC", None)])
def test_metis_and_smac_configs(where, tmp_path, tuner, warned):
    folder = _folder(tmp_path)
    config = {
        "searchSpaceFile": "search_space.json",
        "trialCommand": "python3 trial.py",
        "trialConcurrency": 2,
        "maxTrialNumber": 5,
        "tuner": {"name": tuner, "classArgs": {"optimize_mode": "maximize"}},
        "trainingService": {"platform": "local"},
    }
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    experiment = Experiment.from_file(folder / "config.yml", storage=f"sqlite:///{tmp_path}/db.sqlite")
    assert experiment.config.tuner.name == tuner  # NNI's name, resolved when the tuner is built
    if warned:
        assert any(warned in w and "tunelab's GP tuner" in w for w in experiment.warnings), experiment.warnings
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    _check(result.trials, where, 5)
    assert {t.params["y"] for t in result.trials} <= {"a", "b"}


NNI_DRIVER = """
    import sys
    from pathlib import Path

    from nni.experiment import Experiment

    experiment = Experiment("local")
    experiment.config.experiment_name = "driver"
    experiment.config.trial_command = "python3 trial.py"
    experiment.config.trial_code_directory = Path(__file__).parent
    experiment.config.search_space = {
        "x": {"_type": "uniform", "_value": [0, 1]},
        "y": {"_type": "choice", "_value": ["a", "b"]},
    }
    experiment.config.tuner.name = "TPE"
    experiment.config.tuner.class_args["optimize_mode"] = "maximize"
    experiment.config.max_trial_number = 3
    experiment.config.trial_concurrency = 2
    ok = experiment.run(int(sys.argv[1]))
    print("ended", ok, experiment.id, experiment.get_status(), len(experiment.export_data()), flush=True)
    experiment.stop()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tunelab_python(args: list[str], cwd: Path, home: Path, timeout: float, **env: str) -> subprocess.CompletedProcess:
    """``tunelab python ARGS`` as a user runs it: no PYTHONPATH of their own, storage under ``home``."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "python", *args],
        cwd=cwd,
        env={**base, "TUNELAB_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stored(home: Path):
    store = open_storage(home / "tunelab.db", create=False)
    (record,) = store.list_experiments()
    return record, store.get_trials(record.id)


def test_an_nni_python_api_driver_with_tunelab_python(where, tmp_path):
    pytest.importorskip("uvicorn")
    folder = _folder(tmp_path / "code")
    (folder / "main.py").write_text(textwrap.dedent(NNI_DRIVER))
    home = tmp_path / "home"
    result = _tunelab_python(["main.py", str(_free_port())], folder, home, timeout=500)
    assert result.returncode == 0, result.stderr[-4000:]
    ended = result.stdout.strip().splitlines()[-1].split()
    assert ended[0] == "ended" and ended[1] == "True" and ended[3] == "DONE" and ended[4] == "3", result.stdout
    record, trials = _stored(home)
    assert record.format == "nni" and record.config["runner"] == ("ray" if where else "local")
    _check(trials, where, 3)


def test_an_auptimizer_aup_args_script_from_its_experiment_json(where, tmp_path):
    from tunelab.engine import Experiment as Engine

    experiment = Engine.from_file(
        ROOT / "examples" / "auptimizer_upstream_style" / "experiment_random.json",
        storage=f"sqlite:///{tmp_path}/db.sqlite",
        experiment_dir=str(tmp_path / "experiment"),
    )
    assert experiment.config.runner == ("ray" if where else "local")
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    _check(result.trials, where, 8, module=None)
    for trial in result.trials:  # rosenbrock(x, y) as the decorated function returned it
        x, y = trial.params["x"], trial.params["y"]
        assert trial.value == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2)


def test_an_orca_script_with_only_bigdl_orca_imports_joins_the_cluster(request, tmp_path):
    """``init_orca_context`` joins the cluster of ``RAY_ADDRESS``; the trials are Ray tasks (the local runner's
    run of the same script is in tests/integrations/test_orca_upstream.py)."""
    pytest.importorskip("torch")
    pytest.importorskip("ray")
    address = request.getfixturevalue("loopback_ray")
    script = ROOT / "examples" / "orca_upstream_style" / "autoestimator_pytorch.py"
    home = tmp_path / "home"
    result = _tunelab_python(
        [str(script), "--trials", "2", "--cpus_per_trial", "1", "--cores", "2"],
        tmp_path,
        home,
        timeout=500,
        RAY_ADDRESS=address,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Evaluate: accuracy is" in result.stdout
    record, trials = _stored(home)
    assert record.config["runner"] == "ray"
    _check(trials, "ray", 2, module=None)


T9K_TRIAL = """
    import nni
    import torch
    import torch.distributed as dist

    params = nni.get_next_parameter()
    dist.init_process_group("gloo")
    tensor = torch.tensor([params["x"] * (dist.get_rank() + 1)])
    dist.all_reduce(tensor)
    print("nni from", nni.__file__, flush=True)
    nni.report_final_result({"default": float(tensor.item()), "world": dist.get_world_size()})
    dist.destroy_process_group()
"""


def test_a_t9k_pytorch_job_with_two_replicas(where, tmp_path):
    pytest.importorskip("torch.distributed")
    (tmp_path / "train.py").write_text(textwrap.dedent(T9K_TRIAL))
    container = {"name": "train", "image": "t9k/mnist:latest", "command": ["python3", "train.py"], "workingDir": "."}
    resource = {
        "apiVersion": "tensorstack.dev/v1beta1",
        "kind": "AutoTuneExperiment",
        "metadata": {"name": "t9k-replicas"},
        "spec": {
            "maxExecSeconds": 3600,
            "maxTrialNum": 2,
            "trialConcurrency": 1,
            "searchSpace": json.dumps({"x": {"_type": "choice", "_value": [1, 2]}}),
            "tuner": {"builtinTunerName": "GridSearch"},
            "trainingConfig": {
                "type": "pytorch",
                "tasks": [{"type": "worker", "replicas": 2, "template": {"spec": {"containers": [container]}}}],
            },
        },
    }
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(resource))
    result = _run_file(tmp_path / "experiment.yaml", tmp_path)
    _check(result.trials, where, 2)
    assert sorted((t.params["x"], t.value, t.metrics["world"]) for t in result.trials) == [(1, 3.0, 2), (2, 6.0, 2)]
    if where:
        for trial in result.trials:
            assert "running on Ray node" in (Path(trial.trial_dir) / "stderr.rank1.log").read_text()
