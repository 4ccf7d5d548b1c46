"""tunelab.keras_tuner's tuners: searches stored as tunelab experiments, KerasTuner's results API, failures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tunelab import keras_tuner
from tunelab.errors import ConfigError, ExperimentFailed
from tunelab.storage import TrialState, open_storage


def _quadratic_space() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.Float("x", -3.0, 3.0)
    return hp


class Quadratic(keras_tuner.Tuner):
    """A black-box objective, KerasTuner's run_trial example: (x - 1)^2, minimized."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
        x = trial.hyperparameters.get("x")
        return (x - 1.0) ** 2


def test_random_search_is_a_stored_experiment_with_epochs_as_reports(
    tmp_path: Path, data: Any, build_model: Any
) -> None:
    x, y = data
    tuner = keras_tuner.RandomSearch(
        build_model, objective="val_accuracy", max_trials=3, seed=1, directory=tmp_path, project_name="quick"
    )
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    store = open_storage(None)
    (record,) = [e for e in store.list_experiments() if e.name == "quick"]
    assert record.phase.value == "DONE" and record.experiment_dir == str(tmp_path / "quick")
    trials = store.get_trials(record.id, with_intermediate=True)
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 3
    for trial in trials:
        assert [r.step for r in trial.intermediate] == [0, 1]  # one report per epoch
        assert trial.value == max(r.value for r in trial.intermediate)  # the best epoch, as KerasTuner scores
        assert set(trial.params) == {"units", "lr"} and trial.params["units"] in (4, 8, 12, 16)
    best = max(trials, key=lambda t: (t.value, -t.number))
    (hp,) = tuner.get_best_hyperparameters(1)
    assert hp.values == dict(best.params)
    assert tuner.oracle.get_best_trials(1)[0].trial_id == str(best.number)
    (model,) = tuner.get_best_models(1)
    assert (tmp_path / "quick" / "trials" / str(best.number) / "checkpoint" / "model.weights.h5").is_file()
    accuracy = model.evaluate(x[150:], y[150:], verbose=0)[1]
    assert accuracy == pytest.approx(best.value, abs=1e-6)  # the weights of the best epoch, on its validation rows


def test_results_summary_and_space_summary_print_kerastuner_layouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tuner = Quadratic(hyperparameters=_quadratic_space(), max_trials=3, seed=0, directory=tmp_path, project_name="q")
    tuner.search_space_summary()
    tuner.search()
    tuner.results_summary(2)
    out = capsys.readouterr().out
    assert "Default search space size: 1" in out and "x (Float)" in out
    assert out.count("summary\nHyperparameters:") == 2 and "Score: " in out
    assert 'Objective(name="default_objective", direction="min")' in out


def test_gp_finds_the_minimum_of_a_black_box_run_trial(tmp_path: Path) -> None:
    tuner = keras_tuner.BayesianOptimization(
        hyperparameters=_quadratic_space(), max_trials=12, num_initial_points=4, seed=3, directory=tmp_path
    )
    tuner.run_trial = Quadratic.run_trial.__get__(tuner)  # type: ignore[method-assign]
    tuner.search()
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score < 0.05 and abs(best.hyperparameters.get("x") - 1.0) < 0.25
    assert tuner.oracle.experiment.config.tuner.name == "gp"
    assert tuner.oracle.experiment.config.tuner.args == {"n_initial_points": 4}


def test_ucb_settings_the_gp_cannot_honour_warn_once_naming_them(tmp_path: Path) -> None:
    with pytest.warns(
        UserWarning, match=r"alpha=0\.01 and beta=5\.0 change nothing: .*log expected improvement"
    ) as seen:
        keras_tuner.BayesianOptimization(hyperparameters=_quadratic_space(), alpha=0.01, beta=5.0, directory=tmp_path)
    assert len(seen) == 1
    with pytest.warns(UserWarning, match=r"^BayesianOptimization: beta=1 change"):
        keras_tuner.oracles.BayesianOptimizationOracle(hyperparameters=_quadratic_space(), beta=1)
    # KerasTuner's defaults, given or not, say nothing (warnings are errors in this suite).
    keras_tuner.oracles.BayesianOptimizationOracle(hyperparameters=_quadratic_space(), alpha=1e-4, beta=2.6)


@pytest.mark.parametrize("tuner_name", ["tpe", "evolution", "anneal"])
def test_any_tunelab_tuner_can_drive_the_search(tmp_path: Path, tuner_name: str) -> None:
    tuner = Quadratic(hyperparameters=_quadratic_space(), max_trials=4, tuner=tuner_name, seed=0, directory=tmp_path)
    tuner.search()
    assert tuner.oracle.experiment.config.tuner.name == tuner_name
    assert len(tuner.oracle.records()) == 4


def test_a_dict_of_metrics_with_an_objective_to_maximize(tmp_path: Path) -> None:
    class Scores(keras_tuner.Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
            x = trial.hyperparameters.get("x")
            return {"score": -abs(x), "other": 2.0}

    tuner = Scores(
        hyperparameters=_quadratic_space(),
        objective=keras_tuner.Objective("score", "max"),
        max_trials=4,
        seed=1,
        directory=tmp_path,
    )
    tuner.search()
    records = tuner.oracle.records()
    assert tuner.oracle.experiment.config.mode == "max"
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == max(r.value for r in records) and best.metrics["other"] == 2.0


def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path: Path) -> None:
    class Flaky(keras_tuner.Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            if trial.trial_id == "1":
                raise ValueError("boom in trial 1")
            if trial.trial_id == "2":
                return math.nan
            return 1.0

    tuner = Flaky(hyperparameters=_quadratic_space(), max_trials=4, directory=tmp_path)
    tuner.search()
    states = {r.number: r for r in tuner.oracle.records()}
    assert states[1].state == TrialState.FAILED and "boom in trial 1" in states[1].message
    assert states[2].state == TrialState.FAILED and "not a finite number" in states[2].message
    assert states[0].state == states[3].state == TrialState.SUCCEEDED


def test_consecutive_failures_stop_the_search_and_nothing_succeeded_is_an_error(tmp_path: Path) -> None:
    class Broken(keras_tuner.Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            raise RuntimeError("always")

    tuner = Broken(
        hyperparameters=_quadratic_space(), max_trials=10, max_consecutive_failed_trials=2, directory=tmp_path
    )
    with pytest.raises(RuntimeError, match="consecutive failures exceeded the limit of 2"):
        tuner.search()
    assert len(tuner.oracle.records()) == 2
    none_ok = Broken(hyperparameters=_quadratic_space(), max_trials=2, project_name="b", directory=tmp_path)
    with pytest.raises(ExperimentFailed, match="no trial of b succeeded"):
        none_ok.search()


def test_retries_run_a_failed_trial_again(tmp_path: Path) -> None:
    runs: list[str] = []

    class Once(keras_tuner.Tuner):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            runs.append(trial.trial_id)
            if runs.count(trial.trial_id) == 1:
                raise RuntimeError("first attempt fails")
            return 0.5

    tuner = Once(hyperparameters=_quadratic_space(), max_trials=2, max_retries_per_trial=1, directory=tmp_path)
    tuner.search()
    assert runs == ["0", "0", "1", "1"]
    assert [(r.state, r.attempt) for r in tuner.oracle.records()] == [(TrialState.SUCCEEDED, 2)] * 2


def test_grid_search_runs_each_combination_once_and_a_rerun_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[Any, ...]] = []

    class Grid(keras_tuner.GridSearch):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            hp = trial.hyperparameters
            seen.append((hp.get("a"), hp.get("b")))
            return float(hp.get("a")) + (0.5 if hp.get("b") else 0.0)

    hp = keras_tuner.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Boolean("b")
    Grid(hyperparameters=hp, max_trials=20, directory=tmp_path, project_name="g").search()
    assert sorted(seen) == sorted((a, b) for a in (1, 2, 3) for b in (False, True))
    again = Grid(hyperparameters=hp, max_trials=20, directory=tmp_path, project_name="g")  # KerasTuner: KeyError here
    again.search()
    assert len(seen) == 6 and "nothing to run" in capsys.readouterr().out
    assert again.get_best_hyperparameters()[0].values == {"a": 1, "b": False}


def test_a_finished_search_reloaded_with_a_larger_max_trials_continues_to_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """KerasTuner reads max_trials from the constructor on reload (overwrite=False), not from the project."""
    first = Quadratic(hyperparameters=_quadratic_space(), max_trials=3, seed=1, directory=tmp_path, project_name="m")
    first.search()
    before = [r.params for r in first.oracle.records()]
    more = Quadratic(hyperparameters=_quadratic_space(), max_trials=5, seed=1, directory=tmp_path, project_name="m")
    more.search()
    records = more.oracle.records()
    assert more.experiment_id == first.experiment_id
    assert [r.number for r in records] == [0, 1, 2, 3, 4] and all(r.state == TrialState.SUCCEEDED for r in records)
    assert [r.params for r in records[:3]] == before
    assert more.oracle.experiment.config.max_trials == 5
    assert open_storage(None).get_experiment(more.experiment_id).config["max_trials"] == 5  # stored for tunelab resume
    # The same limit again, or a smaller one: nothing to run, nothing lost.
    for limit in (5, 2):
        again = Quadratic(hyperparameters=_quadratic_space(), max_trials=limit, directory=tmp_path, project_name="m")
        again.search()
        assert "nothing to run" in capsys.readouterr().out and len(again.oracle.records()) == 5


def test_overwrite_starts_a_new_experiment(tmp_path: Path) -> None:
    first = Quadratic(hyperparameters=_quadratic_space(), max_trials=2, directory=tmp_path, project_name="o")
    first.search()
    second = Quadratic(
        hyperparameters=_quadratic_space(), max_trials=3, directory=tmp_path, project_name="o", overwrite=True
    )
    second.search()
    assert second.experiment_id != first.experiment_id and len(second.oracle.records()) == 3


def test_parallel_trials_run_in_processes(tmp_path: Path) -> None:
    tuner = Quadratic(hyperparameters=_quadratic_space(), max_trials=4, concurrency=2, seed=0, directory=tmp_path)
    tuner.search()
    records = tuner.oracle.records()
    assert len(records) == 4 and all(r.state == TrialState.SUCCEEDED for r in records)
    assert tuner.oracle.experiment.config.concurrency == 2
    for record in records:
        assert record.value == pytest.approx((record.params["x"] - 1.0) ** 2)


def test_bad_arguments_are_one_line_errors_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown argument 'max_trial'; did you mean 'max_trials'\?"):
        keras_tuner.RandomSearch(max_trial=3, hyperparameters=_quadratic_space())
    with pytest.raises(ConfigError, match="executions_per_trial: must be an integer >= 1"):
        Quadratic(hyperparameters=_quadratic_space(), executions_per_trial=0)
    with pytest.raises(ConfigError, match="could not infer the direction .* 'my_metric'"):
        keras_tuner.RandomSearch(objective="my_metric", hyperparameters=_quadratic_space())
    with pytest.raises(ConfigError, match="hyperparameters: give the search space"):
        keras_tuner.RandomSearch(tune_new_entries=False)
    with pytest.raises(ConfigError, match="factor: must be an integer >= 2"):
        keras_tuner.Hyperband(factor=1, hyperparameters=_quadratic_space())


def test_ctrl_c_in_a_trial_stops_the_search_and_the_trial_runs_again_on_resume(tmp_path: Path) -> None:
    interrupted: list[str] = []

    class Interrupted(Quadratic):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            if trial.trial_id == "1" and not interrupted:
                interrupted.append(trial.trial_id)
                raise KeyboardInterrupt
            return super().run_trial(trial)

    def make() -> Interrupted:
        return Interrupted(hyperparameters=_quadratic_space(), max_trials=3, directory=tmp_path, project_name="c")

    first = make()
    with pytest.raises(KeyboardInterrupt):
        first.search()
    assert first.oracle.experiment.phase.value == "STOPPED"
    assert [(r.state, r.attempt) for r in first.oracle.records()] == [
        (TrialState.SUCCEEDED, 1),
        (TrialState.WAITING, 1),
    ]
    second = make()
    second.search()
    assert [(r.state, r.attempt) for r in second.oracle.records()] == [
        (TrialState.SUCCEEDED, 1),
        (TrialState.SUCCEEDED, 2),
        (TrialState.SUCCEEDED, 1),
    ]
