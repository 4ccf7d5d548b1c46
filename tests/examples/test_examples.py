"""Every example runs end to end, through the CLI as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunelab.storage import Phase, TrialState, open_storage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tunelab.cli", *args], capture_output=True, text=True, timeout=600)


def run_example(config: Path, overrides: str = ""):
    result = run_cli("run", str(config), "-q")
    assert result.returncode == 0, result.stderr
    store = open_storage()
    [experiment] = store.list_experiments()
    trials = store.get_trials(experiment.id, with_intermediate=True)
    store.close()
    return experiment, trials, result


def test_quickstart(tmp_path):
    experiment, trials, result = run_example(EXAMPLES / "quickstart" / "config.yml")
    assert experiment.phase == Phase.DONE and len(trials) == 20
    succeeded = [t for t in trials if t.state == TrialState.SUCCEEDED]
    assert len(succeeded) >= 18
    assert max(t.value for t in succeeded) > 0.95  # an SVM on digits, tuned
    assert all(len(t.intermediate) == 3 and "worst_fold" in t.metrics for t in succeeded)
    # Each fold is reported as it is computed (an assessor could stop after the first), not all at the end.
    assert all(t.intermediate[0].time < t.intermediate[1].time < t.intermediate[2].time for t in succeeded)
    # The demo shows the tuner improving on its first trial (tpe, seed 0: trial 0 scores 0.945, the best 0.958).
    assert trials[0].state == TrialState.SUCCEEDED and max(t.value for t in succeeded) > trials[0].value + 0.005
    best = json.loads((Path(experiment.experiment_dir) / "best_params.json").read_text())
    assert best["value"] == max(t.value for t in succeeded)


def test_quickstart_script_runs_alone():
    script = EXAMPLES / "quickstart" / "train.py"
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=script.parent
    )
    assert result.returncode == 0 and "[tunelab] final result:" in result.stderr


def test_nni_example_runs_unmodified():
    experiment, trials, result = run_example(EXAMPLES / "nni_mnist_style" / "config.yml")
    assert experiment.format == "nni" and experiment.phase == Phase.DONE
    assert len(trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all(t.intermediate for t in trials)
    assert experiment.config["mode"] == "max"


def test_t9k_example_runs_locally():
    # One worker replica runs as one local process: nothing to warn about (several replicas: tests/runners).
    experiment, trials, result = run_example(EXAMPLES / "t9k" / "experiment.yaml")
    assert experiment.format == "t9k" and experiment.phase == Phase.DONE
    assert "warning:" not in result.stderr
    assert len(trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert experiment.config["mode"] == "min"


def test_auptimizer_example_runs_unmodified():
    experiment, trials, result = run_example(EXAMPLES / "auptimizer" / "experiment.json")
    assert experiment.format == "auptimizer" and experiment.phase == Phase.DONE
    assert len(trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all("train_accuracy" in t.metrics for t in trials)


@pytest.mark.parametrize(
    "config",
    ["quickstart/config.yml", "nni_mnist_style/config.yml", "t9k/experiment.yaml", "auptimizer/experiment.json"],
)
def test_examples_validate(config):
    result = run_cli("validate", str(EXAMPLES / config))
    assert result.returncode == 0, result.stderr
