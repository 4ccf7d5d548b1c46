"""Resume: rebuild an engine's state from storage alone, after a stop, a crash or SIGKILL.

* Finished trials are replayed into the tuner, the scheduler (with the budget and parent
  each was started with, and its curve of the attempt that finished) and the tally.
* A trial that was RUNNING when the previous engine died is asked of the runner
  (:meth:`Runner.recover`): a process still alive is stopped (SIGTERM, then SIGKILL after
  the grace period). If that attempt wrote a valid final result, the trial is finished
  from its reports (nothing is run twice); otherwise it runs again as a new attempt,
  with the same budget and checkpoint.
* A trial that was WAITING (a retry, or one interrupted by Ctrl-C, ``tunelab stop`` or
  max_duration) runs again. It already counts against ``max_trials``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from tunelab.engine._attempt import score
from tunelab.engine._outcome import Scored, StopCause, TrialEnd, Verdict, classify
from tunelab.engine._setup import scheduler_outcome
from tunelab.schedulers import NewTrial, Resume
from tunelab.storage import IntermediateResult, TrialRecord, TrialState
from tunelab.trial._channel import BadReport, ReportKind

if TYPE_CHECKING:
    from tunelab.engine._loop import Engine

logger = logging.getLogger("tunelab")

_RUN_AGAIN = "run again after an interruption"


def stored_plan(record: TrialRecord) -> NewTrial | Resume:
    """What the scheduler started a stored trial for, rebuilt from its budget, parent and checkpoint source."""
    if record.parent is None or record.budget is None:
        return NewTrial(budget=record.budget)
    return Resume(record.parent, dict(record.params), record.budget, checkpoint_from=record.checkpoint_from)


def restore(engine: Engine) -> None:
    """Replay every stored trial of the engine's experiment into it."""
    from tunelab.engine._loop import Queued

    for record in engine.storage.get_trials(engine.experiment_id, with_intermediate=True):
        number, params = record.number, dict(record.params)
        engine.created = max(engine.created, number + 1)
        plan = stored_plan(record)
        engine.plans[number] = plan
        if record.state.is_final:
            curve = [(r.step + 1, engine.ledger.told(r.value, r.values)) for r in record.intermediate]
            value = record.value if record.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) else None
            values = record.values if value is not None else None
            told = engine.ledger.told(value, values)
            engine.tuner.restore(number, params, told, violation=record.violation or 0.0)
            engine.scheduler.restore(number, params, curve, scheduler_outcome(record.state), told, plan)
            engine.tally.add(number, record.state, record.value, params, record.message, values, record.violation)
            continue
        engine.tuner.restore(number, params, pending=True)
        verdict, curve = _recover(engine, record) if record.state == TrialState.RUNNING else (None, [])
        engine.scheduler.restore(number, params, curve if verdict else [], None, None, plan)
        if verdict is not None:
            engine.settle(number, params, record.attempt, verdict)
            continue
        attempt = record.attempt + 1 if record.started_at is not None else record.attempt
        engine.queue.append(Queued(number, params, attempt, _RUN_AGAIN))
        engine.storage.update_trial(engine.experiment_id, number, state=TrialState.WAITING, wait_reason=_RUN_AGAIN)


def _recover(engine: Engine, record: TrialRecord) -> tuple[Verdict | None, list[tuple[int, float | None]]]:
    """The verdict on a trial that was running, from what its attempt wrote (None: it runs again), and its curve."""
    job = engine.job(record.number, dict(record.params), record.attempt)
    found = engine.runner.recover(job, record.pid, record.pid_start, engine.stop_grace)
    if found.was_alive:
        logger.info("trial %d outlived the previous engine; it was stopped", record.number)
    stored = len(record.intermediate)  # rows of this attempt already in storage
    seen = 0
    final: Scored | None = None
    last: Scored | None = None
    curve: list[tuple[int, float | None]] = []
    for report in found.reports:
        if isinstance(report, BadReport):
            if seen >= stored:
                engine.storage.add_trial_warning(
                    engine.experiment_id, record.number, f"report ignored: {report.reason}"
                )
            if report.kind is ReportKind.FINAL:
                final = Scored(None, {}, report.reason)
            continue
        if report.kind is ReportKind.SPACE:  # what it declared was taken in when it ran, or it runs again
            continue
        scored = score(report, engine.intake.scoring)
        if report.kind is ReportKind.FINAL:
            final = scored
            continue
        seen += 1
        curve.append(((report.step or 0) + 1, engine.ledger.told(scored.value, scored.values)))
        if seen > stored:
            result = IntermediateResult(
                report.step or 0, scored.value, scored.metrics, report.time, record.attempt, values=scored.values
            )
            engine.storage.add_intermediate(engine.experiment_id, record.number, result)
        if scored.usable:
            last = scored
    end = TrialEnd(
        exit_code=0,
        final=final,
        last_intermediate=None if last is None else last.value,
        last_metrics={} if last is None else last.metrics,
        last_values=None if last is None else last.values,
        last_violation=None if last is None else last.violation,
    )
    if final is None:
        if record.budget is not None and last is not None and curve and curve[-1][0] >= record.budget:
            # It trained to its budget before the interruption: as when the engine sees it end at its budget.
            verdict = classify(dataclasses.replace(end, stop=StopCause.BUDGET))
            return dataclasses.replace(verdict, message="reached its budget before an interruption"), curve
        return None, curve  # interrupted before it finished: it runs again
    verdict = classify(end)
    if verdict.state == TrialState.SUCCEEDED:
        verdict = dataclasses.replace(verdict, message="recovered after an interruption")
    return verdict, curve
