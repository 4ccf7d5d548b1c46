"""The engine end to end through the Python API, with function and command trials."""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.errors import ConfigError
from tunelab.storage import Phase, RequestKind, TrialState, open_storage


def quadratic(params):
    for step in range(3):
        tunelab.report((params["x"] - 1) ** 2 + 3 - step, step=step)
    return (params["x"] - 1) ** 2


def test_optimize_returns_best_and_all_trials():
    result = optimize(quadratic, {"x": hp.uniform(-5, 5)}, tuner="random", max_trials=12, concurrency=2, seed=0)
    assert result.phase == Phase.DONE
    assert len(result.trials) == 12
    assert all(t.state == TrialState.SUCCEEDED for t in result.trials)
    best = min(result.trials, key=lambda t: t.value)
    assert result.best_value == best.value and result.best_params == best.params
    assert all(len(t.intermediate) == 3 for t in result.trials)
    assert result.trials[0].intermediate[1].value == pytest.approx((result.trials[0].params["x"] - 1) ** 2 + 2)


def test_seeded_runs_are_reproducible_and_trials_get_seeds():
    def seeds(params):
        return float(tunelab.get_trial_seed() % 1000)

    a = optimize(seeds, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=4, seed=3)
    b = optimize(seeds, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=4, seed=3)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.value for t in a.trials] == [t.value for t in b.trials]
    assert len({t.seed for t in a.trials}) == 4


def test_maximize_mode():
    result = optimize(lambda p: p["x"], {"x": hp.uniform(0, 1)}, tuner="random", max_trials=6, mode="max", seed=0)
    assert result.best_value == max(t.value for t in result.trials)


def test_exhausted_space_ends_done_and_says_so():
    result = optimize(lambda p: p["a"], {"a": hp.choice([1, 2, 3])}, tuner="grid", max_trials=10)
    assert result.phase == Phase.DONE
    assert len(result.trials) == 3
    assert "exhausted" in result.message


def test_failing_trial_ends_experiment_in_error_with_stderr_tail():
    def boom(params):
        raise RuntimeError("the model diverged")

    result = optimize(boom, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=5)
    assert result.phase == Phase.ERROR
    assert "trial 0 failed" in result.message and "the model diverged" in result.message


def test_retries_then_ignore(tmp_path):
    marker = tmp_path / "attempts"

    def flaky(params):
        with open(marker, "a") as handle:
            handle.write("x")
        if len(marker.read_text()) % 2 == 1:  # every first attempt fails
            raise RuntimeError("transient")
        return 1.0

    result = optimize(flaky, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=3, failure={"retries": 1})
    assert result.phase == Phase.DONE
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 3
    assert [t.attempt for t in result.trials] == [2, 2, 2]

    result = optimize(
        lambda p: 1 / 0, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=3, failure={"retries": 1, "ignore": True}
    )
    # Failures are ignored, but an experiment in which nothing succeeded found nothing: ERROR, not DONE.
    assert result.phase == Phase.ERROR
    assert "no trial succeeded" in result.message and "ZeroDivisionError" in result.message
    assert [t.state for t in result.trials] == [TrialState.FAILED] * 3
    assert all("ZeroDivisionError" in t.message for t in result.trials)


def test_crash_of_a_trial_process_does_not_kill_the_engine():
    def crash(params):
        if params["x"] > 0.5:
            os._exit(9)
        return params["x"]

    result = optimize(crash, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=8, seed=2, failure={"ignore": True})
    states = {t.state for t in result.trials}
    assert states == {TrialState.SUCCEEDED, TrialState.FAILED}
    assert all("exit code 9" in t.message for t in result.trials if t.state == TrialState.FAILED)


def test_per_trial_timeout():
    def slow(params):
        time.sleep(30)

    start = time.monotonic()
    result = optimize(
        slow, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=1, trial={"timeout": 0.5}, failure={"ignore": True}
    )
    assert time.monotonic() - start < 10
    assert result.trials[0].state == TrialState.FAILED and "timed out" in result.trials[0].message


def test_max_duration_ends_in_timeout():
    def slow(params):
        time.sleep(0.3)
        return 1.0

    result = optimize(slow, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=None, max_duration=1.0)
    assert result.phase == Phase.TIMEOUT
    assert 1 <= sum(t.state == TrialState.SUCCEEDED for t in result.trials) <= 4


def test_dict_results_and_a_named_metric():
    result = optimize(
        lambda p: {"default": p["x"], "accuracy": 1 - p["x"]},
        {"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=4,
        metric="accuracy",
        mode="max",
        seed=1,
    )
    best = result.best_trial
    assert best.value == pytest.approx(1 - best.params["x"])
    assert best.metrics["default"] == pytest.approx(best.params["x"])


def test_enqueued_configuration_runs_first():
    result = optimize(lambda p: p["x"], {"x": hp.uniform(0, 1)}, tuner="random", max_trials=3, enqueue=[{"x": 0.25}])
    assert result.trials[0].params == {"x": 0.25}


def test_best_params_artifact_and_load_best():
    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)}, objective=lambda p: p["x"], tuner="random", max_trials=3
    )
    result = experiment.run()
    artifact = json.loads((Path(experiment.record.experiment_dir) / "best_params.json").read_text())
    assert artifact["params"] == result.best_params and artifact["value"] == result.best_value
    assert tunelab.load_best(experiment.record.experiment_dir) == result.best_params
    assert tunelab.load_best(experiment.id) == result.best_params


def test_bad_experiment_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="give an objective function"):
        Experiment(search_space={"x": hp.uniform(0, 1)})
    with pytest.raises(ConfigError, match="Experiment: concurency: unknown field"):
        Experiment(search_space={"x": hp.uniform(0, 1)}, objective=abs, concurency=2)
    with pytest.raises(ConfigError, match="trial.code_dir"):
        Experiment(search_space={"x": hp.uniform(0, 1)}, trial={"command": "true", "code_dir": "/no/such/dir"})


def write_script(folder: Path, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(textwrap.dedent(body))


def test_command_trials_report_through_the_trial_api(tmp_path):
    write_script(
        tmp_path,
        """
        import os, tunelab
        p = tunelab.get_params()
        for epoch in range(3):
            tunelab.report(p["x"] * epoch, step=epoch, loss=1.0 / (epoch + 1))
        print("seed", os.environ["TUNELAB_TRIAL_SEED"])
        tunelab.report_final(p["x"] * 10, accuracy=0.5)
        """,
    )
    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        trial={"command": "python3 train.py", "code_dir": str(tmp_path)},
        tuner="random",
        max_trials=4,
        concurrency=2,
        seed=0,
    )
    result = experiment.run()
    assert result.phase == Phase.DONE
    for trial in result.trials:
        assert trial.value == pytest.approx(trial.params["x"] * 10)
        assert trial.metrics == {"accuracy": 0.5}
        assert [r.metrics["loss"] for r in trial.intermediate] == pytest.approx([1.0, 0.5, 1 / 3])
        folder = Path(trial.trial_dir)
        assert json.loads((folder / "params.json").read_text())["params"] == trial.params
        assert (folder / "stdout.log").read_text().strip() == f"seed {trial.seed}"


def test_unmodified_nni_trial_script_runs(tmp_path):
    write_script(
        tmp_path,
        """
        import nni
        params = nni.get_next_parameter()
        for i in range(2):
            nni.report_intermediate_result(params["x"] + i)
        nni.report_final_result({"default": params["x"], "other": nni.get_sequence_id()})
        assert nni.get_trial_id().endswith(str(nni.get_sequence_id()))
        assert nni.get_experiment_id()
        """,
    )
    experiment = Experiment(
        search_space={"x": {"_type": "uniform", "_value": [0, 1]}},
        trial={"command": "python3 train.py", "code_dir": str(tmp_path), "compat": ["nni"]},
        tuner="random",
        max_trials=3,
    )
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    assert [t.metrics["other"] for t in result.trials] == [0, 1, 2]
    assert all(len(t.intermediate) == 2 for t in result.trials)


def test_exit_without_result_fails_and_intermediate_only_counts(tmp_path):
    write_script(
        tmp_path,
        """
        import tunelab
        p = tunelab.get_params()
        if p["mode"] == "intermediate":
            tunelab.report(0.7)
        """,
    )
    experiment = Experiment(
        search_space={"mode": hp.grid_search(["nothing", "intermediate"])},
        trial={"command": "python3 train.py", "code_dir": str(tmp_path)},
        tuner="grid",
        failure={"ignore": True},
    )
    result = experiment.run()
    by_mode = {t.params["mode"]: t for t in result.trials}
    assert by_mode["nothing"].state == TrialState.FAILED and "without reporting" in by_mode["nothing"].message
    assert by_mode["intermediate"].state == TrialState.SUCCEEDED and by_mode["intermediate"].value == 0.7


def test_stop_and_requests_from_another_thread(tmp_path):
    def slow(params):
        time.sleep(0.2)
        return params["x"]

    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)}, objective=slow, tuner="random", max_trials=3, concurrency=1
    )
    experiment_id = experiment.create()
    store = open_storage()

    def steer():
        time.sleep(0.3)
        store.add_request(experiment_id, RequestKind.UPDATE_LIMITS, {"max_trials": 100, "concurrency": 2})
        store.add_request(experiment_id, RequestKind.ADD_TRIAL, {"params": {"x": 0.123}})
        store.add_request(experiment_id, RequestKind.ADD_TRIAL, {"params": {"x": 7}})
        time.sleep(1.5)
        experiment.stop()

    thread = threading.Thread(target=steer)
    thread.start()
    result = experiment.run()
    thread.join()
    assert result.phase == Phase.STOPPED
    assert len(result.trials) > 3
    assert any(t.params == {"x": 0.123} for t in result.trials)
    outcomes = [r.outcome for r in store.get_requests(experiment_id, open_only=False)]
    assert outcomes[0] == "set max_trials=100, concurrency=2"
    assert outcomes[1] == "queued to run next"
    assert outcomes[2].startswith("rejected: parameter 'x': 7")
    assert store.get_experiment(experiment_id).config["max_trials"] == 100


def test_from_file_merges_a_settings_group_override_and_replaces_the_rest(tmp_path):
    path = tmp_path / "config.yml"
    (tmp_path / "train.py").write_text("import tunelab\ntunelab.report_final(1.0)\n")
    path.write_text(
        textwrap.dedent(
            """
            search_space: {x: {_type: uniform, _value: [0, 1]}, y: {_type: choice, _value: [1, 2]}}
            trial: {command: python train.py, timeout: 30, env: {A: "1"}}
            tuner: {name: tpe, args: {n_startup_jobs: 5}}
            failure: {retries: 2}
            ray: {address: 127.0.0.1:6379, resources_per_trial: {cpu: 2}}
            """
        )
    )
    experiment = Experiment.from_file(
        path,
        runner="ray",
        ray={"address": "auto"},
        trial={"timeout": 60},
        failure={"ignore": True},
        tuner={"name": "random"},
        search_space={"z": {"_type": "uniform", "_value": [0, 1]}},
    )
    config = experiment.config
    assert (config.runner, config.ray.address, dict(config.ray.resources_per_trial)) == ("ray", "auto", {"cpu": 2})
    assert (config.trial.command, config.trial.timeout, dict(config.trial.env)) == ("python train.py", 60, {"A": "1"})
    assert (config.failure.retries, config.failure.ignore) == (2, True)
    assert (config.tuner.name, dict(config.tuner.args)) == ("random", {})  # a tuner's args go with its name
    assert list(config.space()) == ["z"]
    with pytest.raises(ConfigError, match="ray"):
        Experiment.from_file(path, ray={"adress": "auto"})
