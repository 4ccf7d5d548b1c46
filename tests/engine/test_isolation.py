"""trial.isolation: function trials inline (in the engine's process), in reused workers, or a process each."""

from __future__ import annotations

import os
import random
import signal
import time

import numpy
import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.errors import ConfigError
from tunelab.runners import create_runner
from tunelab.runners._factory import isolation_of
from tunelab.runners._inline import InlineRunner
from tunelab.storage import Phase, TrialState

SPACE = {"x": hp.uniform(-5, 5)}


def test_inline_trials_run_in_this_process_and_report_through_the_api():
    pids = []
    model = {"weights": [1.0, 2.0]}  # what a fork could not share back: the trial changes it in place

    def objective(params):
        pids.append(os.getpid())
        model["weights"].append(params["x"])
        for step in range(3):
            tunelab.report(params["x"] ** 2 + 3 - step, step=step)
        return params["x"] ** 2

    result = optimize(objective, SPACE, tuner="random", max_trials=6, concurrency=2, seed=0, isolation="inline")
    assert result.phase == Phase.DONE
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 6
    assert set(pids) == {os.getpid()} and len(model["weights"]) == 8
    assert all(len(t.intermediate) == 3 for t in result.trials)
    assert result.best_value == min(t.value for t in result.trials)


def test_an_inline_exception_fails_only_its_trial_with_the_traceback():
    def objective(params):
        if params["x"] < 0:
            raise ValueError(f"negative x {params['x']:.3f}")
        return params["x"]

    result = optimize(
        objective, SPACE, tuner="random", max_trials=10, seed=1, isolation="inline", failure={"ignore": True}
    )
    states = {t.state for t in result.trials}
    assert states == {TrialState.SUCCEEDED, TrialState.FAILED}
    failed = next(t for t in result.trials if t.state is TrialState.FAILED)
    assert "ValueError: negative x" in failed.message
    assert result.phase == Phase.DONE and result.best_value >= 0


def test_inline_trials_leave_the_process_as_they_found_it():
    cwd, env = os.getcwd(), dict(os.environ)

    def objective(params):
        os.environ["TUNELAB_ISOLATION_LEAK"] = "1"
        assert os.environ["TUNELAB_TRIAL_NUMBER"] == str(tunelab.get_trial_id().rsplit("-", 1)[1])
        return 0.0

    optimize(objective, SPACE, tuner="random", max_trials=2, isolation="inline")
    assert os.getcwd() == cwd and dict(os.environ) == env


def test_inline_trials_are_seeded_and_the_generators_put_back_when_the_experiment_ends():
    random.seed(123)
    numpy.random.seed(456)
    before = random.random(), numpy.random.random()
    random.seed(123)
    numpy.random.seed(456)
    draws = []

    def objective(params):
        draws.append((random.random(), numpy.random.random()))
        return params["x"]

    optimize(objective, SPACE, tuner="random", max_trials=3, seed=5, isolation="inline")
    again = []
    optimize(
        lambda p: again.append((random.random(), numpy.random.random())) or 0.0,
        SPACE,
        max_trials=3,
        seed=5,
        tuner="random",
        isolation="inline",
    )
    assert draws == again and len(set(draws)) == 3  # each trial seeded by its own seed, as in a worker
    assert (
        random.random(),
        numpy.random.random(),
    ) == before  # the engine's process finds its generators as it left them


def test_isolation_defaults_worker_for_functions_process_for_commands(tmp_path):
    function = Experiment(objective=abs, search_space=SPACE)
    command = Experiment(search_space=SPACE, trial={"command": "true", "code_dir": str(tmp_path)})
    assert isolation_of(function.config) == "worker"
    assert isolation_of(command.config) == "process"
    inline = Experiment(objective=abs, search_space=SPACE, isolation="inline")
    assert inline.config.trial.isolation == "inline" and isinstance(create_runner(inline.config), InlineRunner)
    nested = Experiment(objective=abs, search_space=SPACE, trial={"isolation": "process"})
    assert isolation_of(nested.config) == "process"


def test_a_bad_isolation_is_a_one_line_error_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"trial\.isolation.*'process', 'worker' or 'inline'") as info:
        Experiment(objective=abs, search_space=SPACE, isolation="inlined")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="isolation: 'inline' runs function trials") as info:
        Experiment(search_space=SPACE, trial={"command": "true", "code_dir": str(tmp_path), "isolation": "inline"})
    assert "\n" not in str(info.value)


def _killed_on_second(params):
    if tunelab.get_trial_id().endswith("-1"):
        os.kill(os.getpid(), signal.SIGKILL)
    return float(os.getpid())


@pytest.mark.parametrize("isolation", ["worker", "process"])
def test_a_sigkilled_worker_fails_only_its_trial(isolation):
    result = optimize(
        _killed_on_second, SPACE, tuner="random", max_trials=5, seed=0, isolation=isolation, failure={"ignore": True}
    )
    states = [t.state for t in result.trials]
    assert states == [TrialState.SUCCEEDED, TrialState.FAILED] + [TrialState.SUCCEEDED] * 3
    assert result.trials[1].message == "killed by signal 9"
    pids = {t.value for t in result.trials if t.state is TrialState.SUCCEEDED}
    assert len(pids) == (2 if isolation == "worker" else 4)  # a new worker after the kill; else one per trial


def _hangs_first(params):
    if tunelab.get_trial_id().endswith("-0"):
        time.sleep(600)  # past trial.timeout: the worker is stopped and replaced
    return float(os.getpid())


def test_a_worker_hanging_past_the_timeout_is_replaced_and_only_its_trial_fails():
    result = optimize(
        _hangs_first,
        SPACE,
        tuner="random",
        max_trials=3,
        seed=0,
        trial={"timeout": 1.0, "stop_grace": 0.5},
        failure={"ignore": True},
    )
    first, *rest = result.trials
    assert "timed out" in first.message
    assert [t.state for t in rest] == [TrialState.SUCCEEDED] * 2
    assert len({t.value for t in rest}) == 1  # the next trials share the new worker


@pytest.mark.parametrize("isolation", ["worker", "process"])
def test_the_next_trials_folder_made_while_the_engine_waits_is_used_or_removed(tmp_path, isolation):
    """The engine names the next trial's folder while it waits (Runner.make_ahead); the experiment's trials
    folder ends with one folder per trial, whether the experiment ran out of trials or ended in an error."""

    def objective(params):
        if params["x"] > 4:
            raise ValueError("x too large")
        return params["x"]

    for name, limit in (("done", 4), ("error", 40)):
        folder = tmp_path / name
        result = Experiment(
            search_space=SPACE,
            objective=objective,
            tuner="random",
            max_trials=limit,
            seed=3,
            isolation=isolation,
            experiment_dir=str(folder),
            storage=str(tmp_path / "db.sqlite"),
        ).run(verbose=False)
        assert result.phase == (Phase.DONE if name == "done" else Phase.ERROR)
        made = sorted(int(p.name) for p in (folder / "trials").iterdir() if not p.name.startswith("."))
        assert made == sorted(t.number for t in result.trials)
