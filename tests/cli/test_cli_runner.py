"""`tunelab run --runner/--ray-address`: where trials run, for every config format, from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import tunelab.cli
from tunelab.storage import SQLiteStorage, TrialState

NNI = {
    "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
    "trialCommand": "python3 trial.py",
    "trialConcurrency": 1,
    "maxTrialNumber": 2,
    "tuner": {"name": "Random"},
    "trainingService": {"platform": "local"},
}
TUNELAB = {
    "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    "trial": {"command": "python3 trial.py"},
    "max_trials": 2,
    "runner": "ray",
    "ray": {"address": "auto", "resources_per_trial": {"cpu": 2}},
}


@pytest.fixture
def started(monkeypatch):
    """The experiments `tunelab run` would start (the engine is not run: no Ray needed)."""
    seen = []
    monkeypatch.setattr(tunelab.cli, "_run_engine", lambda experiment, **_: seen.append(experiment))
    monkeypatch.delenv("TUNELAB_RAY_ADDRESS", raising=False)
    return seen


def _write(folder: Path, data: dict) -> Path:
    (folder / "trial.py").write_text("import nni\nnni.report_final_result(nni.get_next_parameter()['x'])\n")
    path = folder / "config.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _run(path: Path, tmp_path: Path, *args: str):
    return CliRunner().invoke(
        tunelab.cli.main, ["run", str(path), "-q", "--storage", str(tmp_path / "db.sqlite"), *args]
    )


@pytest.mark.parametrize(
    ("args", "runner", "address"),
    [
        (["--runner", "ray"], "ray", None),
        (["--ray-address", "auto"], "ray", "auto"),
        (["--ray-address", "127.0.0.1:6379", "--runner", "ray"], "ray", "127.0.0.1:6379"),
        (["--ray-address", "local"], "ray", None),
        ([], "local", None),
    ],
)
def test_an_nni_config_runs_where_the_command_line_says(tmp_path, started, args, runner, address):
    result = _run(_write(tmp_path, NNI), tmp_path, *args)
    assert result.exit_code == 0, result.output
    [experiment] = started
    assert (experiment.config.runner, experiment.config.ray.address) == (runner, address)


def test_the_command_line_beats_the_environment_and_keeps_the_files_ray_settings(tmp_path, started, monkeypatch):
    monkeypatch.setenv("TUNELAB_RAY_ADDRESS", "auto")
    assert _run(_write(tmp_path, NNI), tmp_path, "--runner", "local").exit_code == 0
    assert started[-1].config.runner == "local"
    assert _run(_write(tmp_path, TUNELAB), tmp_path, "--ray-address", "10.0.0.5:6379").exit_code == 0
    ray = started[-1].config.ray
    assert (ray.address, dict(ray.resources_per_trial)) == ("10.0.0.5:6379", {"cpu": 2})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runner", "kubernetes"], "'--runner': 'kubernetes' is not one of 'local', 'ray'"),
        (["--runner", "local", "--ray-address", "auto"], "--ray-address runs the trials on Ray"),
        (["--ray-address", " "], "--ray-address"),
    ],
)
def test_a_bad_runner_option_is_a_one_line_error_naming_it(tmp_path, started, args, message):
    result = _run(_write(tmp_path, NNI), tmp_path, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not started


def test_runner_local_runs_an_nni_experiment_here_although_the_environment_names_a_cluster(tmp_path):
    """End to end, real trial processes: the NNI script runs unchanged, locally, to DONE."""
    path = _write(tmp_path, NNI)
    env = {**os.environ, "TUNELAB_RAY_ADDRESS": "auto", "TUNELAB_HOME": str(tmp_path / "home")}
    db = tmp_path / "db.sqlite"
    argv = [sys.executable, "-m", "tunelab.cli", "run", str(path), "-q", "--storage", str(db), "--runner", "local"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0 and "ended DONE" in done.stderr, done.stderr
    store = SQLiteStorage(db)
    [experiment] = store.list_experiments()
    assert experiment.config["runner"] == "local"
    trials = store.get_trials(experiment.id)
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 2
    store.close()
