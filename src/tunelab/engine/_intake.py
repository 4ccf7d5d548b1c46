"""Intake: what a running attempt reports, turned into stored results and the scheduler's decisions.

Each look at an attempt reads the reports it wrote since the last look. Intermediate
results are stored (with their attempt) and shown to the scheduler, whose decision may
stop the trial early or, once it reached its budget, ask it to end; a bad line becomes a
warning on the trial. A stop decision counts only while it can still matter: not once
the trial has exited, and not for reports read together with (so written before) its
final result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tunelab._clock import Clock
from tunelab.engine._attempt import Attempt, Scoring, score
from tunelab.engine._outcome import Scored, StopCause
from tunelab.schedulers import Decision, Scheduler
from tunelab.schedulers._base import Reported
from tunelab.storage import IntermediateResult, Storage
from tunelab.trial._channel import BadReport, Report, ReportKind

logger = logging.getLogger("tunelab")


class Intake:
    """Reads attempts for one experiment; the engine's thread only."""

    def __init__(
        self,
        storage: Storage,
        experiment_id: str,
        scheduler: Scheduler,
        clock: Clock,
        scoring: Scoring,
        grace: float,
    ) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.scheduler = scheduler
        self.clock = clock
        self.scoring = scoring
        self.grace = grace
        #: Takes a define-by-run trial's space reports (the engine's discovery); None ignores them.
        self.on_space: Callable[[Attempt, Report], None] | None = None

    def read(self, attempt: Attempt, *, exited: bool = False) -> None:
        """Take in what ``attempt`` reported since the last look (``exited``: it has ended, so nothing is decided)."""
        reports = attempt.handle.read_reports()
        decides = not exited and attempt.final is None
        decides = decides and not any(getattr(r, "kind", None) is ReportKind.FINAL for r in reports)
        for report in reports:
            if isinstance(report, BadReport):
                self._warn(attempt, f"report ignored: {report.reason}")
                if report.kind is ReportKind.FINAL:
                    attempt.final, attempt.final_before_stop = Scored(None, {}, report.reason), attempt.stop is None
                continue
            if report.kind is ReportKind.SPACE:
                if self.on_space is not None:
                    self.on_space(attempt, report)
                continue
            scored = score(report, self.scoring)
            if report.kind is ReportKind.FINAL:
                attempt.final, attempt.final_before_stop = scored, attempt.stop is None
                continue
            step = report.step or 0
            result = IntermediateResult(
                step, scored.value, scored.metrics, report.time, attempt.attempt, values=scored.values
            )
            self.storage.add_intermediate(self.experiment_id, attempt.number, result)
            if scored.problem:
                self._warn(attempt, f"step {step}: {scored.problem}")
            elif scored.value is not None:
                attempt.last_intermediate, attempt.last_metrics = scored.value, scored.metrics
                attempt.last_scored = scored
                self._assess(attempt, step, scored.value if scored.values is None else scored.values, decides)

    def enforce(self, attempt: Attempt, timeout: float | None) -> None:
        """Stop an attempt past its ``trial.timeout``, or one that reached its budget and did not end by itself."""
        now = self.clock.monotonic()
        if attempt.stop is not None:
            return
        if attempt.deadline is not None and now >= attempt.deadline:
            attempt.stop_for(StopCause.TIMEOUT, f"timed out after {timeout or 0.0:g} s", self.grace)
        elif attempt.budget_reached_at is not None and now >= attempt.budget_reached_at + self.grace:
            message = f"reached its budget ({attempt.budget}) and was stopped after {self.grace:g} s"
            attempt.stop_for(StopCause.BUDGET, message, self.grace)

    def _assess(self, attempt: Attempt, step: int, value: Reported, decides: bool) -> None:
        if attempt.stop is not None:  # being stopped already: what it reports now changes nothing
            return
        resource = step + 1
        decision = self.scheduler.on_result(attempt.number, resource, value)
        if not decides:
            return
        if decision is Decision.STOP:
            message = f"stopped early by {self.scheduler.name} after step {step}"
            logger.info("trial %d: %s", attempt.number, message)
            attempt.stop_for(StopCause.SCHEDULER, message, self.grace)
        elif attempt.budget is not None and resource >= attempt.budget and attempt.budget_reached_at is None:
            attempt.budget_reached_at = self.clock.monotonic()
            attempt.handle.request_stop()

    def _warn(self, attempt: Attempt, text: str) -> None:
        self.storage.add_trial_warning(self.experiment_id, attempt.number, text)
