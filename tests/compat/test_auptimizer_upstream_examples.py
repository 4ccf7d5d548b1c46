"""Auptimizer users' experiments, started as Auptimizer starts them: ``python -m aup experiment.json``.

The scripts and configs in examples/auptimizer_upstream_style are written the way
Auptimizer's own ``Examples/`` are (``@aup_args`` functions called with ``sys.argv[1]``,
``[res, x, y]`` with ``multi_res_labels``, BOHB settings with ``""`` for a default, the
``*init*`` convention, ``resource: passive``), on offline data. ``python -m aup`` runs with
tunelab's compatibility folder on ``PYTHONPATH``, which is what ``tunelab python`` sets up.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunelab.storage import Phase, TrialState, open_storage

ROOT = Path(__file__).resolve().parents[2]
SHIMS = ROOT / "src" / "tunelab" / "trial" / "_shims"
EXAMPLE = ROOT / "examples" / "auptimizer_upstream_style"


def python_m_aup(*args: str, cwd: Path = EXAMPLE) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SHIMS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "aup", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def run_aup(config: str, cwd: Path = EXAMPLE) -> tuple:
    done = python_m_aup(config, cwd=cwd)
    assert done.returncode == 0, done.stderr
    store = open_storage()
    [experiment] = store.list_experiments()
    trials = store.get_trials(experiment.id, with_intermediate=True)
    store.close()
    return experiment, trials, done


def rosenbrock(x: float, y: float, a: float = 1, b: float = 100) -> float:
    return (a - x) * (a - x) + b * (y - x * x) * (y - x * x)


def test_rosenbrock_with_aup_args_runs_from_its_experiment_json():
    experiment, trials, done = run_aup("experiment_random.json")
    assert experiment.format == "auptimizer" and experiment.phase == Phase.DONE
    assert "ended DONE" in done.stderr and "warning" not in done.stderr
    assert len(trials) == 8 and all(t.state == TrialState.SUCCEEDED for t in trials)
    for trial in trials:
        assert trial.value == pytest.approx(rosenbrock(trial.params["x"], trial.params["y"]))
        assert "#Auptimizer:" in (Path(trial.trial_dir) / "stderr.log").read_text()  # printed as Auptimizer prints
    assert experiment.config["mode"] == "min"
    best = min(trials, key=lambda t: t.value)
    assert json.loads((Path(experiment.experiment_dir) / "best_params.json").read_text())["params"] == best.params


def test_multiple_results_are_kept_under_their_labels():
    experiment, trials, _ = run_aup("experiment_mult_res.json")
    assert experiment.phase == Phase.DONE and len(trials) == 6
    for trial in trials:
        assert trial.state == TrialState.SUCCEEDED
        assert trial.metrics["x"] == pytest.approx(trial.params["x"])
        assert trial.metrics["y"] == pytest.approx(trial.params["y"])
        assert trial.value == pytest.approx(rosenbrock(trial.params["x"], trial.params["y"]))


def test_bohb_config_as_upstream_writes_it_runs_with_budgets():
    experiment, trials, done = run_aup("experiment_bohb.json")
    assert experiment.phase == Phase.DONE and "min_points_in_model" not in done.stderr
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    assert sorted({t.budget for t in trials}) == [1, 3]  # n_iterations from min_budget 1 to max_budget 3


def test_init_functions_intermediate_results_and_saved_model():
    pytest.importorskip("sklearn")
    experiment, trials, _ = run_aup("experiment_digits.json")
    assert experiment.phase == Phase.DONE and len(trials) == 6  # the sequence proposer's whole grid
    for trial in trials:
        assert trial.state == TrialState.SUCCEEDED
        assert len(trial.intermediate) == 5  # a print_result per epoch, then the returned value (as Auptimizer)
        assert trial.value == pytest.approx(trial.intermediate[-1].value)
    best = max(trials, key=lambda t: t.value)
    with open(Path(experiment.experiment_dir) / "best_model" / "model" / "model.pkl", "rb") as handle:
        model = pickle.load(handle)  # written by aup_save_model's function, in the model folder
    assert model.alpha == best.params["alpha"] and model.loss == best.params["loss"]
    assert not (EXAMPLE / "aup_models").exists() and not (EXAMPLE / "model.pkl").exists()


def test_passive_resource_runs_the_jobs_and_says_so():
    experiment, trials, done = run_aup("experiment_passive.json")
    assert "warning: resource: 'passive'" in done.stderr and "by hand" in done.stderr
    assert experiment.phase == Phase.DONE and len(trials) == 3
    assert all(t.state == TrialState.SUCCEEDED for t in trials)


def test_a_job_run_by_hand_prints_its_result_as_auptimizer_does(tmp_path):
    """Passive mode's other half: the user runs the script on a job file and reads the printed result."""
    (tmp_path / "job.json").write_text(json.dumps({"x": 1.0, "y": 2.0, "job_id": 0}))
    env = {**os.environ, "PYTHONPATH": str(SHIMS)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "rosenbrock_hpo.py"), str(tmp_path / "job.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "\n#Auptimizer:100.0\n"


def test_tf_flags_style_script_with_aup_flags(tmp_path):
    pytest.importorskip("absl")
    (tmp_path / "rosenbrock_flags.py").write_text(
        textwrap.dedent(
            """
            from absl import app, flags
            from aup import aup_flags

            flags.DEFINE_float("x", 0, "x value")
            flags.DEFINE_float("y", 0, "y value")
            FLAGS = flags.FLAGS

            def rosenbrock(x, y, a=1, b=100):
                return (a-x)*(a-x) + b*(y-x*x)*(y-x*x)

            @aup_flags(FLAGS)
            def main(unused):
                return rosenbrock(FLAGS.x, FLAGS.y)

            if __name__ == "__main__":
                app.run(main)
            """
        )
    )
    (tmp_path / "experiment.json").write_text(
        json.dumps(
            {
                "proposer": "random",
                "n_samples": 3,
                "random_seed": 2,
                "script": "rosenbrock_flags.py",
                "target": "min",
                "parameter_config": [
                    {"name": "x", "range": [-2, 2], "type": "float"},
                    {"name": "y", "range": [-2, 2], "type": "float"},
                ],
            }
        )
    )
    experiment, trials, _ = run_aup("experiment.json", cwd=tmp_path)
    assert experiment.phase == Phase.DONE and len(trials) == 3
    for trial in trials:  # the flags got the job's values (Auptimizer's own aup_flags leaves the defaults)
        assert trial.state == TrialState.SUCCEEDED
        assert trial.value == pytest.approx(rosenbrock(trial.params["x"], trial.params["y"]))


def test_test_flag_checks_the_config_and_runs_nothing():
    done = python_m_aup("experiment_random.json", "--test", "--user", "me")
    assert done.returncode == 0, done.stderr
    assert "warning: --user is an Auptimizer database/scheduling setting; tunelab ignores it" in done.stderr
    store = open_storage()
    assert store.list_experiments() == []
    store.close()


def test_a_wrong_config_is_one_line_naming_the_field(tmp_path):
    (tmp_path / "train.py").write_text("")
    (tmp_path / "experiment.json").write_text(
        json.dumps({"proposer": "random", "script": "train.py", "target": "minimum", "parameter_config": []})
    )
    done = python_m_aup("experiment.json", cwd=tmp_path)
    assert done.returncode != 0
    assert "target: expected 'min' or 'max', got 'minimum'" in done.stderr
    assert "Traceback" not in done.stderr


def test_auptimizer_options_map_onto_tunelab_commands():
    spec = importlib.util.spec_from_file_location("aup_main_under_test", SHIMS / "aup" / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # by path: no module named aup enters this process
    tunelab_argv = module.tunelab_argv
    assert tunelab_argv(["e.json"]) == (["run", "e.json"], [])
    assert tunelab_argv(["e.json", "--log", "debug", "--launch_dashboard", "--dashboard_port", "9000"])[0] == [
        "--debug",
        "run",
        "e.json",
        "--port",
        "9000",
    ]
    assert tunelab_argv(["e.json", "--resume", "abc123"])[0] == ["resume", "abc123"]
    assert tunelab_argv(["e.json", "--test", "--log", "info"])[0] == ["-v", "validate", "e.json"]
    command, warnings = tunelab_argv(["e.json", "--aup_folder", ".aup", "--sleep", "2"])
    assert command == ["run", "e.json"] and [w.split()[0] for w in warnings] == ["--aup_folder", "--sleep"]
    with pytest.raises(SystemExit, match="--dashboard_port given without --launch_dashboard"):
        tunelab_argv(["e.json", "--dashboard_port", "9000"])
