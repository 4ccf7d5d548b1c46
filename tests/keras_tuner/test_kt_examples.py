"""The examples of examples/keras_tuner and examples/tfx, run as a user runs them (KERAS_BACKEND=torch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tunelab.storage import Phase, TrialState, open_storage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=800)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _experiment(name: str) -> tuple[object, list[object]]:
    store = open_storage(None)
    (record,) = [e for e in store.list_experiments() if e.name == name]
    return record, store.get_trials(record.id, with_intermediate=True)


def test_quickstart_with_only_the_import_changed(tmp_path: Path) -> None:
    done = _run([sys.executable, str(EXAMPLES / "keras_tuner" / "quickstart.py")], tmp_path)
    assert "best: {'units':" in done.stdout
    record, trials = _experiment("untitled_project")
    assert record.phase == Phase.DONE and record.experiment_dir == str(tmp_path / "untitled_project")
    # Three units to choose from: the space is used up after three trials (KerasTuner stops there too).
    assert "exhausted after 3 trials" in record.message
    assert len(trials) == 3 and all(len(t.intermediate) == 5 for t in trials)  # five epochs each, as reports


def test_custom_fit_grows_the_space_with_what_fit_declares(tmp_path: Path) -> None:
    _run([sys.executable, str(EXAMPLES / "keras_tuner" / "custom_fit.py")], tmp_path)
    record, trials = _experiment("custom_fit")
    assert all(set(t.params) == {"units", "batch_size", "shuffle"} for t in trials)
    assert [d["config"]["name"] for d in record.config["define_by_run"]] == ["units", "batch_size", "shuffle"]


def test_hyperband_with_early_stopping_example(tmp_path: Path) -> None:
    done = _run([sys.executable, str(EXAMPLES / "keras_tuner" / "hyperband_early_stopping.py")], tmp_path)
    assert "accuracy of the best model" in done.stdout
    _, trials = _experiment("hyperband")
    assert len(trials) == 6 and any(t.parent is not None for t in trials)
    assert all(t.state == TrialState.SUCCEEDED for t in trials)


def test_tfx_module_tuned_then_trained(tmp_path: Path) -> None:
    tfx = EXAMPLES / "tfx"
    tunelab = str(Path(sys.executable).with_name("tunelab"))
    _run([sys.executable, str(tfx / "make_data.py"), "data"], tmp_path)
    _run(
        [
            tunelab, "tfx-tune", str(tfx / "module.py"), "--working-dir", "work",
            "--train-files", "data/train.npz", "--eval-files", "data/eval.npz",
            "--custom-config", '{"max_trials": 3}',
        ],
        tmp_path,
    )  # fmt: skip
    best = tmp_path / "work" / "best_hyperparameters" / "best_hyperparameters.txt"
    config = json.loads(best.read_text())
    assert set(config["values"]) == {"units", "dropout", "learning_rate"}
    trained = subprocess.run(
        [tunelab, "python", str(tfx / "train.py"), str(best), str(tmp_path / "data"), str(tmp_path / "serving")],
        cwd=tfx,
        env={**os.environ, "KERAS_BACKEND": "torch"},
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "eval accuracy with" in trained.stdout and (tmp_path / "serving" / "model.keras").is_file()
