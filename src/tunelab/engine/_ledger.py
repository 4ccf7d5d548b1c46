"""The ledger: every trial's record, from its creation to its verdict, written to storage as it happens.

It keeps what the scheduler started each trial for (its plan) and how often each failed,
applies the failure policy to a verdict, and tells the tuner, the scheduler and the tally
of every trial that ends. What follows from a verdict for the loop (run it again, end
the experiment) it returns as a :class:`Settled`, so it never touches the engine's queue.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunelab._clock import Clock
from tunelab.config import FailureConfig
from tunelab.engine._outcome import FailureAction, Verdict, failure_action
from tunelab.engine._progress import Tally
from tunelab.engine._setup import scheduler_outcome
from tunelab.schedulers import NewTrial, Resume, Scheduler
from tunelab.storage import Storage, TrialRecord, TrialState
from tunelab.tuners import Tuner

logger = logging.getLogger("tunelab")


@dataclass(frozen=True)
class Settled:
    """What a verdict asks of the loop: run the trial again (as ``attempt``, waiting for ``reason``), or abort."""

    again: bool = False
    attempt: int = 0
    reason: str = ""
    abort: str | None = None


class Ledger:
    """The records of one experiment's trials; the engine's thread only."""

    def __init__(
        self,
        storage: Storage,
        experiment_id: str,
        clock: Clock,
        tuner: Tuner,
        scheduler: Scheduler,
        tally: Tally,
        failure: FailureConfig,
    ) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.clock = clock
        self.tuner = tuner
        self.scheduler = scheduler
        self.tally = tally
        self.failure = failure
        self.plans: dict[int, NewTrial | Resume] = {}  # what the scheduler started each trial for
        self.failures: dict[int, int] = {}

    def create(
        self,
        number: int,
        params: dict[str, Any],
        action: NewTrial | Resume,
        seed: int,
        folder: Path,
        *,
        started_at: float | None = None,
    ) -> None:
        """Record a new trial for what the scheduler started it for: WAITING, or with ``started_at`` RUNNING
        (its first attempt, started once the record is durable; one row written instead of two)."""
        self.plans[number] = action
        self.scheduler.on_start(number, params, action)
        running = started_at is not None
        self.storage.create_trial(
            TrialRecord(
                experiment_id=self.experiment_id,
                number=number,
                state=TrialState.RUNNING if running else TrialState.WAITING,
                params=params,
                seed=seed,
                started_at=started_at,
                message=self.note(number) if running else "",
                wait_reason="" if running else "proposed; starting",
                trial_dir=str(folder),
                budget=action.budget,
                parent=action.parent if isinstance(action, Resume) else None,
                checkpoint_from=action.checkpoint_from if isinstance(action, Resume) else None,
            )
        )

    def note(self, number: int) -> str:
        """What the scheduler started the trial for, in words (empty for a plain new trial)."""
        return getattr(self.plans.get(number), "note", "")

    def settle(self, number: int, params: dict[str, Any], attempt: int, verdict: Verdict) -> Settled:
        """Record a verdict: a final state, a retry under the failure policy, or a wait to run again."""
        if verdict.state is None:
            self.wait(number, verdict.message)
            return Settled(again=True, attempt=attempt + 1, reason=verdict.message)
        abort = None
        if verdict.failure:
            failures = self.failures[number] = self.failures.get(number, 0) + 1
            action = failure_action(failures, self.failure.retries, self.failure.ignore)
            if action is FailureAction.RETRY:
                reason = f"retry {failures} of {self.failure.retries} after: {verdict.message}"
                logger.info("trial %d failed; %s", number, reason)
                self.wait(number, reason, message=verdict.message)
                return Settled(again=True, attempt=attempt + 1, reason=reason)
            if action is FailureAction.ABORT:
                abort = f"trial {number} failed ({verdict.message})"
        self.finish(number, params, verdict)
        return Settled(abort=abort)

    def wait(self, number: int, reason: str, *, message: str = "") -> None:
        """The trial waits (to be retried, or run again on resume)."""
        fields: dict[str, Any] = {"message": message} if message else {}
        self.storage.update_trial(
            self.experiment_id,
            number,
            state=TrialState.WAITING,
            wait_reason=reason,
            ended_at=self.clock.time(),
            **fields,
        )

    def finish(self, number: int, params: dict[str, Any], verdict: Verdict) -> None:
        """Record a final state, and tell the tally, the scheduler and the tuner."""
        state = verdict.state
        if state is None:
            raise ValueError("finish() needs a final state")
        note = self.note(number)
        message = f"{note}; {verdict.message}" if note and verdict.message else note or verdict.message
        objectives: dict[str, Any] = {}
        if verdict.values is not None or verdict.violation is not None:
            objectives = {"values": verdict.values, "violation": verdict.violation}
        self.storage.update_trial(
            self.experiment_id,
            number,
            state=state,
            value=verdict.value,
            metrics=dict(verdict.metrics),
            message=message,
            ended_at=self.clock.time(),
            **objectives,
        )
        self.tally.add(number, state, verdict.value, params, message, verdict.values, verdict.violation)
        told = self.told(verdict.value, verdict.values)
        self.scheduler.on_end(number, scheduler_outcome(state), told)
        if state == TrialState.CANCELED:
            self.tuner.forget(number)
        else:
            self.tuner.observe(number, told, violation=verdict.violation or 0.0)

    def told(self, value: float | None, values: Mapping[str, float | None] | None) -> Any:
        """What the tuner and the scheduler hear of a result: the value, or with several objectives each one's."""
        if self.tuner.objectives is None:
            return value
        return None if value is None or values is None else dict(values)
