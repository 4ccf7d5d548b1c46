"""The Python API as people use it: ``print(result)``, ``trials_dataframe()`` (against Optuna's
own), the progress display and its ``verbose`` switch, ``Experiment.load`` by prefix, the
keywords of Optuna and Ray Tune, and what a function objective hears when it returns no result."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path
from typing import Any

import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.engine import _display
from tunelab.engine._result import trials_dataframe
from tunelab.errors import ConfigError, ExperimentNotFound, TunelabError
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

SPACE = {"x": hp.uniform(-2, 2), "opt": hp.choice([{"_name": "sgd", "lr": hp.loguniform(1e-3, 1)}, {"_name": "adam"}])}


def quadratic(params: dict[str, Any]) -> float:
    return float(params["x"] ** 2)


def with_metric(params: dict[str, Any]) -> dict[str, float]:
    return {"default": float(params["x"] ** 2), "acc": 0.5}


# ---------------------------------------------------------------- print(result)
def test_print_result_is_a_short_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = optimize(quadratic, {"x": hp.uniform(-2, 2)}, tuner="random", max_trials=12, seed=1, verbose=False)
    text = str(result)
    lines = text.splitlines()
    assert lines[0] == f"experiment {result.experiment_id} ended DONE" + (
        f": {result.message}" if result.message else ""
    )
    assert result.best_trial is not None and result.best_value is not None
    assert f"best:   {result.best_value:.6g} (trial {result.best_trial.number})" in text
    assert "trials: 12 (succeeded 12)" in text
    assert len(lines) <= 5 and "TrialRecord" not in text and "intermediate" not in text
    short = repr(result)
    assert short.startswith(f"Result(experiment_id={result.experiment_id!r}, phase=DONE") and "trials=12" in short
    assert "TrialRecord" not in short
    assert capsys.readouterr().err == ""  # verbose=False: no progress


def test_summary_of_an_experiment_where_nothing_succeeded() -> None:
    def broken(params: dict[str, Any]) -> float:
        raise ValueError("boom")

    result = optimize(broken, {"x": hp.uniform(0, 1)}, max_trials=2, verbose=False, failure={"ignore": True})
    assert result.phase == Phase.ERROR
    assert "best:   none (no trial succeeded)" in str(result) and "trials: 2 (failed 2)" in str(result)


def test_summary_of_several_objectives_shows_the_knees_values() -> None:
    from tunelab.engine import Result

    knee = TrialRecord("e", 1, TrialState.SUCCEEDED, {"x": 0.5}, value=0.9, values={"acc": 0.9, "lat": 12.0})
    other = TrialRecord("e", 0, TrialState.FAILED, {"x": 0.1})
    result = Result("e", Phase.DONE, "", {"x": 0.5}, None, knee, [other, knee], [knee], {"acc": 0.9, "lat": 12.0})
    text = str(result)
    assert 'best:   acc 0.9, lat 12 (trial 1) {"x": 0.5}' in text and "trials: 2 (succeeded 1, failed 1)" in text
    assert repr(result) == "Result(experiment_id='e', phase=DONE, best_value=None, trials=2)"


# ---------------------------------------------------------------- trials_dataframe
def test_trials_dataframe_has_optunas_shape() -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is in the test extra")
    optuna = pytest.importorskip("optuna", reason="the differential check needs the real Optuna")
    result = optimize(with_metric, SPACE, tuner="random", max_trials=6, seed=2, verbose=False)
    frame = result.trials_dataframe()
    assert list(frame["number"]) == [t.number for t in result.trials]
    assert list(frame["value"]) == pytest.approx([t.value for t in result.trials])
    assert set(frame["state"]) == {"SUCCEEDED"} and list(frame["user_attrs_acc"]) == [0.5] * 6

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -2, 2)
        opt = trial.suggest_categorical("opt", ["sgd", "adam"])
        if opt == "sgd":
            trial.suggest_float("opt=sgd/lr", 1e-3, 1, log=True)
        trial.set_user_attr("acc", 0.5)
        return x**2

    study.optimize(objective, n_trials=6)
    theirs = study.trials_dataframe()
    assert set(frame.columns) == set(theirs.columns), "the same columns as Optuna's trials_dataframe()"
    fixed = ["number", "value", "datetime_start", "datetime_complete", "duration"]
    assert list(frame.columns[:5]) == fixed == list(theirs.columns[:5]) and frame.columns[-1] == "state"
    for column in ("datetime_start", "datetime_complete"):
        assert pandas.api.types.is_datetime64_any_dtype(frame[column])
    assert pandas.api.types.is_timedelta64_dtype(frame["duration"])
    assert (frame["duration"] >= pandas.Timedelta(0)).all()
    sgd = frame["params_opt"] == "sgd"
    assert frame.loc[sgd, "params_opt=sgd/lr"].notna().all() and frame.loc[~sgd, "params_opt=sgd/lr"].isna().all()


def test_trials_dataframe_budget_and_unfinished_trials() -> None:
    pytest.importorskip("pandas", reason="pandas is in the test extra")
    trials = [
        TrialRecord("e", 0, TrialState.SUCCEEDED, {"x": 1}, value=0.5, started_at=100.0, ended_at=103.5, budget=3),
        TrialRecord("e", 1, TrialState.WAITING, {"x": 2}),
    ]
    frame = trials_dataframe(trials)
    assert list(frame.columns) == [
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration",
        "params_x",
        "budget",
        "state",
    ]
    assert frame["duration"][0].total_seconds() == 3.5 and frame["duration"].isna()[1]
    assert math.isnan(frame["value"][1]) and frame["state"].tolist() == ["SUCCEEDED", "WAITING"]


def test_trials_dataframe_of_several_objectives_has_a_column_per_objective() -> None:
    pytest.importorskip("pandas", reason="pandas is in the test extra")
    optuna = pytest.importorskip("optuna", reason="the differential check needs the real Optuna")
    values = {"acc": 0.9, "lat": 12.0}
    trials = [TrialRecord("e", 0, TrialState.SUCCEEDED, {"x": 0.5}, value=0.9, values=values)]
    ours = list(trials_dataframe(trials).columns)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        study.set_metric_names(["acc", "lat"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 12.0), n_trials=1)
    assert ours == list(study.trials_dataframe().columns)
    assert trials_dataframe(trials)["values_lat"].tolist() == [12.0]


def test_trials_dataframe_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def no_pandas(name: str, *args: Any) -> Any:
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_pandas)
    with pytest.raises(TunelabError, match=r"^trials_dataframe\(\) needs pandas: pip install pandas$"):
        trials_dataframe([])


# ---------------------------------------------------------------- progress and verbose
def test_progress_is_a_line_per_finished_trial_and_verbose_false_silences_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = optimize(quadratic, {"x": hp.uniform(-1, 1)}, tuner="random", max_trials=3, seed=0)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(f"[{result.experiment_id}]")]
    assert any("trials 3/3" in line and "DONE" in line for line in lines), err
    assert 2 <= len(lines) <= 6  # the phase changes, and finished trials at most four a second; not one per event

    Experiment(objective=quadratic, search_space={"x": hp.uniform(-1, 1)}, max_trials=2).run(verbose=False)
    assert capsys.readouterr().err == ""


def test_progress_display_for_terminal_jupyter_and_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    assert isinstance(_display.make_progress("e"), _display.PlainProgress)  # pytest's stderr is no terminal
    assert _display.make_progress("e", quiet=True) is None
    monkeypatch.setattr("rich.console._is_jupyter", lambda: True)
    jupyter = _display.make_progress("e")
    assert isinstance(jupyter, _display.PlainProgress) and jupyter.stream is sys.stdout
    monkeypatch.setattr("rich.console._is_jupyter", lambda: False)
    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    live = _display.make_progress("e")
    assert isinstance(live, _display.LiveProgress)
    live.close()


# ---------------------------------------------------------------- names and load
def test_default_name_is_the_objectives_and_load_takes_a_prefix() -> None:
    named = optimize(quadratic, {"x": hp.uniform(-1, 1)}, max_trials=1, verbose=False)
    anonymous = optimize(lambda p: p["x"], {"x": hp.uniform(-1, 1)}, max_trials=1, verbose=False)
    store = SQLiteStorage(tunelab.storage.tunelab_home() / "tunelab.db")
    assert store.get_experiment(named.experiment_id).name == "quadratic"
    assert store.get_experiment(anonymous.experiment_id).name == anonymous.experiment_id
    store.close()

    by_prefix = Experiment.load(named.experiment_id[:5])  # two random ids share 5 characters once in 60 million
    assert by_prefix.id == named.experiment_id and by_prefix.best_value == named.best_value
    assert Experiment.load("quadratic").id == named.experiment_id
    assert Experiment.load("latest").id == anonymous.experiment_id
    with pytest.raises(ExperimentNotFound, match="`tunelab list` shows the stored experiments"):
        Experiment.load("zzzzzzzz")


# ---------------------------------------------------------------- familiar keywords
def test_optuna_and_ray_keywords_are_aliases() -> None:
    best = optimize(lambda p: p["x"], {"x": hp.uniform(0, 1)}, direction="maximize", n_trials=4, verbose=False)
    assert len(best.trials) == 4 and best.best_value == max(t.value for t in best.trials if t.value is not None)
    ray = optimize(quadratic, {"x": hp.uniform(0, 1)}, num_samples=2, n_jobs=2, verbose=False)
    assert len(ray.trials) == 2
    experiment = Experiment(objective=quadratic, search_space={"x": hp.uniform(0, 1)}, n_trials=7, direction="minimize")
    assert experiment.config.max_trials == 7 and experiment.config.mode == "min"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"n_trials": 4, "max_trials": 5},
            "n_trials and max_trials: give one (n_trials is Optuna's name for max_trials)",
        ),
        ({"num_samples": 4, "n_trials": 5}, "n_trials and num_samples: give one (max_trials)"),
        ({"direction": "maximize", "mode": "min"}, "direction and mode: give one"),
        ({"directions": ["maximize", "minimize"]}, "directions: not a tunelab setting; tunelab names each objective"),
        ({"timeout": 60}, "timeout: not a tunelab setting; use max_duration="),
    ],
)
def test_conflicting_or_different_keywords_are_refused_with_a_hint(settings: dict[str, Any], message: str) -> None:
    pattern = message.replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ConfigError, match="^optimize: " + pattern):
        optimize(quadratic, {"x": hp.uniform(0, 1)}, verbose=False, **settings)
    with pytest.raises(ConfigError, match="^Experiment: " + pattern):
        Experiment(objective=quadratic, search_space={"x": hp.uniform(0, 1)}, **settings)


def test_a_metric_as_in_ray_names_the_reported_key() -> None:
    def report(params: dict[str, Any]) -> dict[str, float]:
        return {"loss": params["x"], "acc": 1 - params["x"]}

    result = optimize(report, {"x": hp.uniform(0, 1)}, metric="acc", mode="max", max_trials=3, verbose=False)
    assert all(t.value is not None and t.value == pytest.approx(1 - t.params["x"]) for t in result.trials)


# ---------------------------------------------------------------- function objectives without a result
@pytest.mark.parametrize(
    ("objective", "message"),
    [
        (lambda p: None, "the objective function returned None and reported nothing: return the value to optimize"),
        (lambda p: "0.93", "the objective function returned '0.93' (str), which is no result"),
    ],
)
def test_a_function_objective_without_a_number_hears_it_in_function_terms(objective: Any, message: str) -> None:
    result = optimize(objective, {"x": hp.uniform(0, 1)}, max_trials=1, verbose=False)
    assert result.phase == Phase.ERROR
    [trial] = result.trials
    assert trial.state == TrialState.FAILED and message in trial.message
    assert trial.message.startswith("the objective failed: ")  # not "exit code 1: trial failed: ..."
    assert "report_final" not in trial.message and "exit code" not in trial.message


def test_a_function_that_reports_as_it_runs_may_return_none() -> None:
    def curve(params: dict[str, Any]) -> None:
        for step in range(3):
            tunelab.report(params["x"] + step, step=step)

    result = optimize(curve, {"x": hp.uniform(0, 1)}, max_trials=2, verbose=False)
    assert result.phase == Phase.DONE and all(t.state == TrialState.SUCCEEDED for t in result.trials)


@pytest.mark.parametrize(
    ("key", "suggested"),
    [("direction", "mode"), ("n_trials", "max_trials"), ("num_samples", "max_trials"), ("n_jobs", "concurrency"),
     ("directions", "objectives"), ("time_budget_s", "max_duration")],
)  # fmt: skip
def test_a_config_file_refuses_other_libraries_keys_and_names_tunelabs(
    tmp_path: Path, key: str, suggested: str
) -> None:
    from tunelab.config import load_config

    path = tmp_path / "config.yml"
    path.write_text(f"search_space: {{x: {{_type: uniform, _value: [0, 1]}}}}\ntrial: {{function: m:f}}\n{key}: 1\n")
    with pytest.raises(ConfigError, match=f"{key}: unknown field; did you mean '{suggested}'\\?"):
        load_config(path)
