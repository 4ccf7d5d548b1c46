"""save_best_model and Auptimizer's save_model: the best configuration runs again and its model is kept."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunelab
from tunelab import hp
from tunelab.storage import Phase, TrialState, open_storage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run_cli(config: Path) -> tuple:
    result = subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "run", str(config), "-q"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    store = open_storage()
    [experiment] = store.list_experiments()
    trials = store.get_trials(experiment.id, with_intermediate=True)
    store.close()
    return experiment, trials, result


def test_auptimizer_example_keeps_the_best_model():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    experiment, trials, result = _run_cli(EXAMPLES / "auptimizer" / "experiment.json")
    assert experiment.format == "auptimizer" and experiment.phase == Phase.DONE
    assert "save_model" not in result.stderr  # no "not supported" warning any more
    assert len(trials) == 6 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all(0 < t.metrics["train_accuracy"] <= 1 for t in trials)  # the secondary result, by its label
    best = max(trials, key=lambda t: t.value)

    folder = Path(experiment.experiment_dir)
    artifact = json.loads((folder / "best_params.json").read_text())
    assert artifact["params"] == best.params and artifact["model_dir"] == str(folder / "best_model" / "model")
    with open(folder / "best_model" / "model" / "model.pkl", "rb") as handle:
        model = pickle.load(handle)  # written by the example a moment ago
    x, y = load_digits(return_X_y=True)
    _, x_test, _, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    assert model.score(x_test, y_test) == pytest.approx(best.value)
    summary = json.loads((folder / "best_model" / "best_model.json").read_text())
    assert summary["trial"] == best.number and summary["exit_code"] == 0
    assert summary["value"] == pytest.approx(best.value)
    assert tunelab.load_best(folder) == best.params


def test_decorated_auptimizer_script_with_labels_intermediates_and_aup_save_model(tmp_path):
    script = tmp_path / "auto.py"
    script.write_text(
        textwrap.dedent(
            """
            import aup
            from aup import aup_args, aup_save_model, print_result

            def save(text):
                with open("weights.txt", "w") as handle:  # relative: lands in the model folder
                    handle.write(text)

            @aup_args
            def main(x, y):
                for epoch in range(3):
                    print_result([-(x - 1) ** 2 * (epoch + 1), epoch, y])  # tracked intermediate results
                aup_save_model(save, f"x={x}")
                return [-(x - 1) ** 2, abs(x), y * 2]

            main()
            """
        )
    )
    (tmp_path / "experiment.json").write_text(
        json.dumps(
            {
                "proposer": "random",
                "n_samples": 4,
                "random_seed": 0,
                "script": "auto.py",
                "parameter_config": [
                    {"name": "x", "range": [-3, 3], "type": "float"},
                    {"name": "y", "range": [1, 3], "type": "int"},
                ],
                "resource_args": {
                    "save_model": True,
                    "track_intermediate_results": True,
                    "multi_res_labels": ["magnitude", "double_y"],
                },
                "target": "max",
            }
        )
    )
    experiment, trials, _ = _run_cli(tmp_path / "experiment.json")
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    for trial in trials:
        assert trial.metrics["magnitude"] == pytest.approx(abs(trial.params["x"]))
        assert trial.metrics["double_y"] == 2 * trial.params["y"]
        assert len(trial.intermediate) >= 3
    best = max(trials, key=lambda t: t.value)
    saved = Path(experiment.experiment_dir) / "best_model" / "model" / "weights.txt"
    assert saved.read_text() == f"x={best.params['x']}"
    assert not (tmp_path / "weights.txt").exists()


def _objective(params):
    folder = tunelab.get_checkpoint_dir()
    if folder is not None:
        (folder / "model.json").write_text(json.dumps(params))
    return (params["x"] - 0.5) ** 2


def test_function_experiment_with_save_best_model(tmp_path):
    experiment = tunelab.Experiment(
        objective=_objective,
        search_space={"x": hp.uniform(-2, 2)},
        max_trials=5,
        seed=0,
        save_best_model=True,
        experiment_dir=tmp_path / "exp",
    )
    result = experiment.run()
    saved = json.loads((tmp_path / "exp" / "best_model" / "model" / "model.json").read_text())
    assert saved == result.best_params
    assert len(result.trials) == 5  # the re-run is not a trial


def test_nothing_is_rerun_without_a_successful_trial(tmp_path):
    def failing(params):
        raise RuntimeError("boom")

    experiment = tunelab.Experiment(
        objective=failing,
        search_space={"x": hp.uniform(0, 1)},
        max_trials=2,
        failure={"ignore": True},
        save_best_model=True,
        experiment_dir=tmp_path / "exp",
    )
    experiment.run()
    assert not (tmp_path / "exp" / "best_model").exists()
    assert experiment.save_best_model() is None
