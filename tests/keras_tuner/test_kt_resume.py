"""A KerasTuner-style search killed with SIGKILL continues where it was (overwrite=False), running nothing twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunelab.storage import TrialState, open_storage

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tunelab import keras_tuner

    here = Path(sys.argv[1])

    class Search(keras_tuner.Tuner):
        def run_trial(self, trial, *args, **kwargs):
            with open(here / "ran.log", "a") as log:
                log.write(trial.trial_id + "\\n")
            if trial.trial_id == "2" and not (here / "killed").exists():
                (here / "killed").touch()
                os.kill(os.getpid(), signal.SIGKILL)  # the whole search dies in the middle of trial 2
            x = trial.hyperparameters.get("x")
            return (x - 1.0) ** 2

    hp = keras_tuner.HyperParameters()
    hp.Float("x", -3.0, 3.0)
    tuner = Search(hyperparameters=hp, max_trials=4, seed=5, directory=here, project_name="killed_search")
    tuner.search()
    print("best", tuner.get_best_hyperparameters()[0].values["x"])
    """
)


@pytest.mark.slow
def test_resume_after_sigkill_runs_the_interrupted_trial_once_more(tmp_path: Path) -> None:
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, timeout=240)
    assert first.returncode == -9
    second = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, timeout=240)
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert (tmp_path / "ran.log").read_text().split() == ["0", "1", "2", "2", "3"]
    marker = json.loads((tmp_path / "killed_search" / "tunelab_experiment.json").read_text())
    trials = open_storage(None).get_trials(marker["experiment_id"])
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 4
    assert [t.attempt for t in trials] == [1, 1, 2, 1]
    third = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, timeout=240)
    assert third.returncode == 0 and b"nothing to run" in third.stdout
    assert len((tmp_path / "ran.log").read_text().split()) == 5


HYPERBAND = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tunelab import keras_tuner

    here = Path(sys.argv[1])

    class Search(keras_tuner.Hyperband):
        def run_trial(self, trial, *args, **kwargs):
            with open(here / "ran.log", "a") as log:
                log.write(f"{trial.trial_id}:{trial.budget}\\n")
            if trial.trial_id == "3" and not (here / "killed").exists():
                (here / "killed").touch()
                os.kill(os.getpid(), signal.SIGKILL)  # dies while running the promoted configuration
            return (trial.hyperparameters.get("x") - 1.0) ** 2 / trial.budget

    hp = keras_tuner.HyperParameters()
    hp.Float("x", -3.0, 3.0)
    tuner = Search(hyperparameters=hp, max_epochs=3, factor=3, seed=2, directory=here, project_name="hb")
    tuner.search()
    """
)


@pytest.mark.slow
def test_hyperband_resumes_after_sigkill_without_losing_its_brackets(tmp_path: Path) -> None:
    script = tmp_path / "hb.py"
    script.write_text(HYPERBAND)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, timeout=240)
    assert first.returncode == -9
    second = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, capture_output=True, timeout=240)
    assert second.returncode == 0, second.stderr.decode()[-2000:]  # KerasTuner's Hyperband: KeyError here
    ran = (tmp_path / "ran.log").read_text().split()
    assert ran == ["0:1", "1:1", "2:1", "3:3", "3:3", "4:3", "5:3"]
    marker = json.loads((tmp_path / "hb" / "tunelab_experiment.json").read_text())
    trials = open_storage(None).get_trials(marker["experiment_id"])
    assert [(t.state, t.budget, t.attempt) for t in trials] == [
        (TrialState.SUCCEEDED, 1, 1),
        (TrialState.SUCCEEDED, 1, 1),
        (TrialState.SUCCEEDED, 1, 1),
        (TrialState.SUCCEEDED, 3, 2),
        (TrialState.SUCCEEDED, 3, 1),
        (TrialState.SUCCEEDED, 3, 1),
    ]
    assert trials[3].parent is not None and dict(trials[3].params) == dict(trials[trials[3].parent].params)
