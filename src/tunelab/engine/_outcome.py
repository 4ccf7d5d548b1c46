"""How a trial ended, as a state, a value and a message: pure functions with table tests.

:func:`classify` maps what the engine saw of one attempt (its exit code, its last final
report, its last intermediate value, and why the engine stopped it, if it did) to a
:class:`Verdict`. :func:`failure_action` decides what a failure leads to under the
failure policy, and :func:`final_phase` whether an ended experiment really is DONE.

The rules, in order:

1. Stopped by the user's cancel: CANCELED, no value (the tuner forgets it).
2. A valid final result written before any stop was asked for is a result: SUCCEEDED
   (a stop decision that arrives after a trial's last report does not undo it), unless
   the process then exited with an error by itself (FAILED, as NNI and Ray do).
3. Stopped because the experiment ended (Ctrl-C, ``tunelab stop``, max_duration, another
   trial's failure): no verdict; the trial waits to run again on resume (it was created,
   so it counts once against ``max_trials``, and runs again rather than being lost).
4. Stopped by the scheduler or assessor: EARLY_STOPPED, valued by a final result it sent
   after the stop or else by its last intermediate result (the tuner learns from it; it
   never competes for best).
5. Timed out: FAILED.
6. Reached its budget and was stopped after the grace period: SUCCEEDED with its final or
   last intermediate result.
7. Exit code 0: SUCCEEDED with the final result; with no final result, SUCCEEDED with the
   last intermediate one (Ray Tune's convention); a final result that is not a finite
   number, or nothing reported at all, is FAILED with a message saying so.
8. Any other exit code or signal: FAILED.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tunelab.storage import Phase, TrialState


class StopCause(enum.Enum):
    """Why the engine stopped a running trial."""

    SCHEDULER = "scheduler"  # an assessor or scheduler decided it is not worth continuing
    BUDGET = "budget"  # it reported its budget and did not end by itself
    TIMEOUT = "timeout"  # trial.timeout passed
    CANCELED = "canceled"  # the user canceled this trial
    INTERRUPTED = "interrupted"  # the experiment is ending (stop, Ctrl-C, max_duration, error)


@dataclass(frozen=True)
class Scored:
    """A report's objective value (``None`` when it has none) and metrics; ``problem`` says why it is unusable."""

    value: float | None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""
    values: Mapping[str, float] | None = None  # several objectives: each one's value (``value`` is the first)
    violation: float | None = None  # by how much it broke the constraints (None: there are none)

    @property
    def usable(self) -> bool:
        return not self.problem and self.value is not None and math.isfinite(self.value)


@dataclass(frozen=True)
class TrialEnd:
    """What the engine saw of one ended attempt."""

    exit_code: int
    final: Scored | None = None  # the last final report, valid or not
    final_before_stop: bool = True  # the final report was read before any stop was asked for
    last_intermediate: float | None = None  # the last finite intermediate value
    last_metrics: Mapping[str, Any] = field(default_factory=dict)  # and the metrics reported with it
    last_values: Mapping[str, float] | None = None  # and its objective values, with several objectives
    last_violation: float | None = None
    stop: StopCause | None = None
    stop_message: str = ""


@dataclass(frozen=True)
class Verdict:
    """``state`` None: no verdict, the trial waits to run again. ``failure``: the failure policy applies."""

    state: TrialState | None
    value: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""
    values: Mapping[str, float] | None = None
    violation: float | None = None

    @property
    def failure(self) -> bool:
        return self.state == TrialState.FAILED


def _how(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def classify(end: TrialEnd) -> Verdict:
    """The verdict on one ended attempt (see the module docstring for the rules)."""
    final = end.final if end.final is not None and end.final.usable else None
    if end.stop is StopCause.CANCELED:
        return Verdict(TrialState.CANCELED, message=end.stop_message or "canceled by the user")
    if final is not None and (end.final_before_stop or end.stop is None):
        if end.exit_code == 0 or end.stop is not None:
            return _valued(TrialState.SUCCEEDED, final)
        return Verdict(
            TrialState.FAILED, metrics=final.metrics, message=f"{_how(end.exit_code)} after reporting its final result"
        )
    if end.stop is StopCause.INTERRUPTED:
        return Verdict(None, message=end.stop_message or "interrupted; runs again on resume")
    if end.stop is StopCause.SCHEDULER:
        if final is not None:
            return _valued(TrialState.EARLY_STOPPED, final, end.stop_message)
        return _last(TrialState.EARLY_STOPPED, end, end.stop_message)
    if end.stop is StopCause.TIMEOUT:
        return Verdict(TrialState.FAILED, message=end.stop_message or "timed out")
    if end.exit_code != 0 and end.stop is None:
        return Verdict(TrialState.FAILED, message=_how(end.exit_code))
    if end.final is not None and final is None:
        return Verdict(TrialState.FAILED, metrics=end.final.metrics, message=_unusable(end.final))
    if final is not None:
        return _valued(TrialState.SUCCEEDED, final, end.stop_message)
    if end.stop is StopCause.BUDGET:
        if end.last_intermediate is not None:
            return _last(TrialState.SUCCEEDED, end, end.stop_message)
        return Verdict(
            TrialState.FAILED, message=f"{end.stop_message or 'stopped at its budget'}; {_how(end.exit_code)}"
        )
    if end.last_intermediate is not None:
        return _last(TrialState.SUCCEEDED, end, "no final result reported; the last intermediate result counts")
    return Verdict(TrialState.FAILED, message="exited without reporting a result (call tunelab.report_final)")


def _valued(state: TrialState, final: Scored, message: str = "") -> Verdict:
    return Verdict(state, final.value, final.metrics, message, final.values, final.violation)


def _last(state: TrialState, end: TrialEnd, message: str) -> Verdict:
    """Valued by the last intermediate result."""
    return Verdict(state, end.last_intermediate, end.last_metrics, message, end.last_values, end.last_violation)


def _unusable(final: Scored) -> str:
    if final.problem:
        return f"its final result is unusable: {final.problem}"
    if final.value is None:
        return "its final result has no value"
    return f"its final result is {final.value!r}, not a finite number"


class FailureAction(enum.Enum):
    RETRY = "retry"  # run the trial again (a new attempt)
    FAIL = "fail"  # record it FAILED and go on (failure.ignore)
    ABORT = "abort"  # record it FAILED and end the experiment in ERROR


def failure_action(failures: int, retries: int, ignore: bool) -> FailureAction:
    """What the ``failures``-th failure of one trial leads to, under ``failure.retries`` and ``failure.ignore``."""
    if failures <= retries:
        return FailureAction.RETRY
    return FailureAction.FAIL if ignore else FailureAction.ABORT


def final_phase(
    phase: Phase, message: str, *, succeeded: int, failed: int, first_failure: str, infeasible: int = 0
) -> tuple[Phase, str]:
    """An experiment that would end DONE with no successful trial ends in ERROR: nothing was found.

    ``infeasible``: how many of the ``succeeded`` broke the constraints (several objectives);
    when all did, no trial can be on the Pareto front, and that is nothing found too.
    """
    if phase == Phase.DONE and succeeded > 0 and infeasible >= succeeded:
        many = f"all {succeeded} trials that succeeded" if succeeded > 1 else "the only trial that succeeded"
        return Phase.ERROR, f"no trial met the constraints: {many} broke them"
    if phase != Phase.DONE or succeeded > 0:
        return phase, message
    if failed:
        why = f"all {failed} finished trials failed" if failed > 1 else "the only finished trial failed"
        detail = f"; first failure: {first_failure}" if first_failure else ""
        return Phase.ERROR, f"no trial succeeded: {why}{detail}"
    return Phase.ERROR, f"no trial succeeded{': ' + message if message else ''}"
