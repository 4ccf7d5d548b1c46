"""The outcome rules as a table: what the engine saw of an attempt -> state, value, message."""

from __future__ import annotations

import math

import pytest

from tunelab.engine._outcome import (
    FailureAction,
    Scored,
    StopCause,
    TrialEnd,
    classify,
    failure_action,
    final_phase,
)
from tunelab.storage import Phase, TrialState

OK = Scored(0.9, {"loss": 0.1})
NAN = Scored(None, {}, "the value is nan, not a finite number")

S, F, E, C = TrialState.SUCCEEDED, TrialState.FAILED, TrialState.EARLY_STOPPED, TrialState.CANCELED

TABLE = [
    # (what happened, expected state, expected value, a word the message must hold)
    (TrialEnd(0, final=OK), S, 0.9, ""),
    (TrialEnd(0, last_intermediate=0.5), S, 0.5, "last intermediate"),
    (TrialEnd(0), F, None, "without reporting"),
    (TrialEnd(0, final=NAN), F, None, "not a finite number"),
    (TrialEnd(0, final=Scored(math.inf)), F, None, "not a finite number"),
    (TrialEnd(0, final=Scored(None)), F, None, "no value"),
    (TrialEnd(0, final=NAN, last_intermediate=0.5), F, None, "unusable"),
    (TrialEnd(3), F, None, "exit code 3"),
    (TrialEnd(-11), F, None, "signal 11"),
    (TrialEnd(3, final=OK), F, None, "after reporting its final result"),
    # item 4: all epochs and the final were reported before the stop decision arrived
    (TrialEnd(-15, final=OK, final_before_stop=True, stop=StopCause.SCHEDULER), S, 0.9, ""),
    (TrialEnd(-15, last_intermediate=0.4, stop=StopCause.SCHEDULER, stop_message="by median"), E, 0.4, "median"),
    (TrialEnd(0, final=OK, final_before_stop=False, stop=StopCause.SCHEDULER), E, 0.9, ""),
    (TrialEnd(-15, final=OK, stop=StopCause.CANCELED), C, None, "canceled"),
    (TrialEnd(-15, last_intermediate=0.4, stop=StopCause.TIMEOUT, stop_message="timed out"), F, None, "timed out"),
    (TrialEnd(-15, final=OK, stop=StopCause.TIMEOUT), S, 0.9, ""),
    (TrialEnd(-9, last_intermediate=0.7, stop=StopCause.BUDGET, stop_message="reached its budget"), S, 0.7, "budget"),
    (TrialEnd(-9, stop=StopCause.BUDGET), F, None, "signal 9"),
    (TrialEnd(-9, final=NAN, stop=StopCause.BUDGET), F, None, "unusable"),
    # item 6: an interrupted trial has no verdict: it waits to run again
    (TrialEnd(-15, last_intermediate=0.7, stop=StopCause.INTERRUPTED), None, None, "resume"),
    (TrialEnd(-15, final=OK, stop=StopCause.INTERRUPTED), S, 0.9, ""),
]


@pytest.mark.parametrize(("end", "state", "value", "word"), TABLE)
def test_classify(end: TrialEnd, state: TrialState | None, value: float | None, word: str) -> None:
    verdict = classify(end)
    assert verdict.state == state
    assert verdict.value == value
    assert word in verdict.message
    assert "\n" not in verdict.message


def test_a_verdict_never_succeeds_without_a_finite_value() -> None:
    for end, *_ in TABLE:
        verdict = classify(end)
        if verdict.state == TrialState.SUCCEEDED:
            assert verdict.value is not None and math.isfinite(verdict.value)


@pytest.mark.parametrize(
    ("failures", "retries", "ignore", "action"),
    [
        (1, 0, False, FailureAction.ABORT),
        (1, 0, True, FailureAction.FAIL),
        (1, 2, False, FailureAction.RETRY),
        (2, 2, False, FailureAction.RETRY),
        (3, 2, False, FailureAction.ABORT),
        (3, 2, True, FailureAction.FAIL),
    ],
)
def test_failure_policy(failures: int, retries: int, ignore: bool, action: FailureAction) -> None:
    assert failure_action(failures, retries, ignore) is action


def test_an_experiment_in_which_nothing_succeeded_is_not_done() -> None:
    phase, message = final_phase(Phase.DONE, "", succeeded=0, failed=20, first_failure="could not start: 'pyhton3'")
    assert phase == Phase.ERROR
    assert "no trial succeeded" in message and "pyhton3" in message
    assert final_phase(Phase.DONE, "", succeeded=1, failed=19, first_failure="x") == (Phase.DONE, "")
    assert final_phase(Phase.TIMEOUT, "max_duration", succeeded=0, failed=0, first_failure="")[0] == Phase.TIMEOUT
    assert final_phase(Phase.DONE, "exhausted", succeeded=0, failed=0, first_failure="")[0] == Phase.ERROR


def test_a_trial_valued_by_its_last_intermediate_result_keeps_that_reports_metrics() -> None:
    end = TrialEnd(0, last_intermediate=0.5, last_metrics={"loss": 0.7, "epoch": 9})
    assert classify(end).metrics == {"loss": 0.7, "epoch": 9}
    stopped = TrialEnd(-15, last_intermediate=0.5, last_metrics={"loss": 0.7}, stop=StopCause.SCHEDULER)
    assert classify(stopped).metrics == {"loss": 0.7}
