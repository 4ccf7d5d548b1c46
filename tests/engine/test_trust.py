"""No confident wrong answers: the defects of issue 14, each reproduced through the public API.

These run real function trials (a fork each, milliseconds); nothing here depends on the
machine's speed: trials that must be running at a given moment wait on files, not sleeps.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.storage import Phase, TrialState, best_trial
from tunelab.trial import _context
from tunelab.trial._channel import REPORTS_FILE


def _raw(line: bytes) -> None:
    """Write bytes straight into this trial's report channel, as a buggy or hostile trial might."""
    folder = _context.current().trial_dir
    assert folder is not None
    with open(folder / REPORTS_FILE, "ab") as handle:
        handle.write(line)


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), float("-inf"), "0.9", {"accuracy": 0.9}, [], None],
    ids=["nan", "inf", "-inf", "string", "dict-without-default", "empty-list", "none-then-exit"],
)
def test_a_final_result_that_is_not_a_finite_number_is_not_a_success(bad):
    def objective(params):
        if params["i"] == 1:
            return 0.5
        tunelab.report_final(bad) if bad is not None else None
        return None

    result = optimize(
        objective, {"i": hp.choice([0, 1])}, tuner="grid", max_trials=2, mode="min", failure={"ignore": True}
    )
    states = {t.params["i"]: t for t in result.trials}
    bad_trial = states[0]
    assert bad_trial.state == TrialState.FAILED, bad_trial
    assert bad_trial.value is None
    assert bad_trial.message, "a failed trial says why"
    assert result.best_value == 0.5 and result.best_params == {"i": 1}
    assert result.phase == Phase.DONE


def test_minus_infinity_never_becomes_the_best_value():
    result = optimize(
        lambda p: float("-inf") if p["i"] == 0 else float(p["i"]),
        {"i": hp.choice([0, 1, 2])},
        tuner="grid",
        max_trials=3,
        mode="min",
        failure={"ignore": True},
    )
    assert result.best_value == 1.0
    assert math.isfinite(result.best_value)


def test_nothing_succeeded_is_an_error_not_done():
    result = optimize(
        lambda p: float("nan"), {"x": hp.uniform(0, 1)}, tuner="random", max_trials=3, failure={"ignore": True}
    )
    assert result.phase == Phase.ERROR
    assert "no trial succeeded" in result.message
    assert result.best_params is None


def test_a_trial_command_that_cannot_start_ends_the_experiment_in_error(tmp_path):
    (tmp_path / "train.py").write_text("import tunelab\ntunelab.report_final(1.0)\n")
    experiment = Experiment(
        search_space={"x": hp.uniform(0, 1)},
        trial={"command": "definitely-not-a-program-xyz train.py", "code_dir": str(tmp_path)},
        max_trials=5,
        failure={"retries": 2, "ignore": True},
    )
    try:
        result = experiment.run()
    except tunelab.errors.ConfigError as exc:  # caught before any trial ran: as good
        assert "trial.command" in str(exc)
        return
    assert result.phase == Phase.ERROR
    assert "could not start" in result.message
    assert len(result.trials) == 1, "it stops at the first trial, without retrying what cannot start"


def test_an_early_stopped_trial_is_never_the_best():
    # Trials 0 and 1 score 0.9 on their first fold, 0.0 on the second: mean 0.45. Trial 2 scores 0.5 on its
    # first fold, below the median, and is stopped there: its 0.5 is one fold, not a result, and must not win.
    def objective(params):
        if params["i"] < 2:
            tunelab.report(0.9, step=0)
            tunelab.report(0.0, step=1)
            return 0.45
        tunelab.report(0.5, step=0)
        deadline = time.monotonic() + 120
        while not tunelab.should_stop() and time.monotonic() < deadline:  # the engine's decision is the event
            time.sleep(0.01)
        return None

    experiment = Experiment(
        search_space={"i": hp.choice([0, 1, 2])},
        objective=objective,
        tuner="grid",
        max_trials=3,
        mode="max",
        concurrency=1,
        scheduler={"name": "median", "args": {"start_step": 0, "min_samples_required": 1}},
    )
    result = experiment.run()
    trials = {t.params["i"]: t for t in result.trials}
    assert trials[2].state == TrialState.EARLY_STOPPED and trials[2].value == 0.5
    assert result.best_value == 0.45
    assert result.best_trial.number == trials[0].number, "ties go to the earlier trial"
    artifact = json.loads((Path(experiment.record.experiment_dir) / "best_params.json").read_text())
    assert artifact["trial"] == result.best_trial.number == best_trial(result.trials, "max").number


def test_ties_pick_the_same_trial_in_every_reader():
    experiment = Experiment(
        search_space={"i": hp.choice([0, 1, 2, 3])},
        objective=lambda p: 1.0 if p["i"] in (1, 3) else 0.0,
        tuner="grid",
        max_trials=4,
        mode="max",
    )
    result = experiment.run()
    artifact = json.loads((Path(experiment.record.experiment_dir) / "best_params.json").read_text())
    winners = [t.number for t in result.trials if t.value == 1.0]
    assert artifact["trial"] == result.best_trial.number == min(winners)


@pytest.mark.parametrize(
    "line",
    [
        b'{"kind": "intermediate", "step": "three", "value": 1}\n',
        b'{"kind": "intermediate", "step": 100000000000000000000, "value": 1}\n',
        b'{"kind": "intermediate", "step": -1, "value": 1}\n',
        b'{"kind": "intermediate", "step": Infinity, "value": 1}\n',
        b'{"kind": "intermediate", "step": 1, "value": 1, "metrics": [1, 2]}\n',
        b"[1, 2, 3]\n",
        b'{"kind": "final", "value": 1' + b"9" * 5000 + b"}\n",
        b"[" * 100000 + b"\n",
        b"\xff\xfe not utf-8\n",
        b'{"kind": "final", "value": 0.5, "metrics": {"blob": "' + b"x" * 100000 + b'"}}\n',
        b"x" * 300000,  # no newline at all
    ],
    ids=[
        "step-str",
        "step-huge",
        "step-negative",
        "step-inf",
        "metrics-list",
        "not-object",
        "huge-int",
        "deep-json",
        "not-utf8",
        "huge-metric",
        "endless-line",
    ],
)
def test_any_bytes_in_the_channel_leave_the_engine_running(line):
    def objective(params):
        if params["i"] == 0:
            tunelab.report(0.25, step=0)
            _raw(line)
        return float(params["i"])

    result = optimize(objective, {"i": hp.choice([0, 1, 2])}, tuner="grid", max_trials=3, mode="min")
    assert result.phase == Phase.DONE
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 3
    first = result.trials[0]
    assert first.value == 0.0, "a bad line after the good ones spoils nothing"
    assert [r.step for r in first.intermediate] == [0]
    assert first.warnings, "the bad line is recorded as a warning on the trial"
    assert all("\n" not in w and len(w) <= 300 for w in first.warnings)


def test_report_with_a_step_out_of_range_is_refused_in_the_trial():
    def objective(params):
        try:
            tunelab.report(0.5, step=10**20)
        except ValueError as exc:
            return 1.0 if "step" in str(exc) else 0.0
        return 0.0

    result = optimize(objective, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=1, mode="max")
    assert result.best_value == 1.0


def test_a_final_result_sent_before_the_stop_decision_counts_as_success():
    # Each trial reports all its steps and its final result in one go; the median rule would stop
    # the worse ones on their last step, but their final results were written before any decision.
    def objective(params):
        for step in range(10):
            tunelab.report(params["x"] * (step + 1), step=step)
        tunelab.report_final(params["x"] * 10)

    result = optimize(
        objective,
        {"x": hp.choice([1.0, 2.0, 3.0, 0.5, 0.25])},
        tuner="grid",
        max_trials=5,
        mode="max",
        concurrency=1,
        scheduler={"name": "median", "args": {"start_step": 0}},
    )
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 5
    assert result.best_params == {"x": 3.0}


def test_a_trial_function_is_imported_without_leaving_its_folder_on_sys_path(tmp_path):
    import sys

    (tmp_path / "helpers_for_trial.py").write_text("def square(x):\n    return x * x\n")
    (tmp_path / "objective_module.py").write_text(
        "def objective(params):\n"
        "    from helpers_for_trial import square  # imported when the trial runs, from its own folder\n"
        "    return square(params['x'])\n"
    )
    before = list(sys.path)
    experiment = Experiment(
        search_space={"x": hp.choice([2.0, 3.0])},
        trial={"function": "objective_module:objective", "code_dir": str(tmp_path)},
        tuner="grid",
        max_trials=2,
        mode="max",
    )
    assert sys.path == before
    result = experiment.run()
    assert result.best_value == 9.0
    assert sys.path == before
