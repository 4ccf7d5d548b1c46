"""One running attempt of one trial, as the engine follows it, and the scoring of its reports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tunelab.config import ExperimentConfig
from tunelab.config._constraints import REPORTED, Constraint, parse_constraint
from tunelab.config._constraints import violation as constraint_violation
from tunelab.engine._outcome import Scored, StopCause, TrialEnd
from tunelab.errors import ReportError
from tunelab.objectives import objective_losses
from tunelab.runners import TrialHandle
from tunelab.trial._channel import Report, ReportKind


@dataclass(frozen=True)
class Scoring:
    """What a report is scored on: one ``metric``, or several ``objectives`` (name -> "min"/"max") and constraints."""

    metric: str = "default"
    objectives: Mapping[str, Literal["min", "max"]] | None = None
    constraints: tuple[Constraint, ...] = ()

    @classmethod
    def of(cls, config: ExperimentConfig) -> Scoring:
        constraints = tuple(parse_constraint(name, bound) for name, bound in config.constraints.items())
        return cls(config.metric, dict(config.objectives) if config.objectives else None, constraints)


def score(report: Report, scoring: Scoring) -> Scored:
    """A report's objective value: its value, the metric the config names (``metric:``), or several objectives."""
    if scoring.objectives is not None:
        return _score_objectives(report, scoring)
    metric = scoring.metric
    metrics: dict[str, Any] = dict(report.metrics)
    if metric == "default" and report.value is None and metrics and report.kind is ReportKind.FINAL:
        keys = sorted(metrics)[:10]
        return Scored(None, metrics, f"a dict result needs a 'default' key for the main value, got keys {keys}")
    value = report.value
    if metric != "default":
        if metric not in metrics:
            names = ", ".join(sorted(["default", *metrics])[:10])
            return Scored(None, metrics, f"the report has no metric {metric!r} (it has: {names})")
        if value is not None:
            metrics.setdefault("default", value)
        raw = metrics.pop(metric)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return Scored(None, metrics, f"metric {metric!r} is {raw!r:.60}, not a number")
        value = float(raw)
    if value is not None and not math.isfinite(value):
        return Scored(None, metrics, f"the value is {value!r}, not a finite number")
    return Scored(value, metrics)


def _score_objectives(report: Report, scoring: Scoring) -> Scored:
    """Every objective's value from a dict report, by the single-objective rules, and the constraint violation.

    A report's main value (NNI's ``default``, the head of an Auptimizer list, a plain number)
    is the first objective's when the report has no key of that name, so unmodified NNI and
    Auptimizer scripts promote their secondary results (``multi_res_labels``) to objectives by
    name. A missing objective or one that is not a finite number makes the report unusable. A
    final report lacking a constraint's metric is unusable too; an intermediate one then
    counts as infeasible (infinite violation), should the trial end valued by it.
    """
    objectives = scoring.objectives or {}
    reported: dict[str, Any] = dict(report.metrics)
    if report.value is not None:
        reported.setdefault(next(iter(objectives)), report.value)
        reported.setdefault("default", report.value)
    try:
        result = objective_losses(reported, objectives)
    except ReportError as exc:
        return Scored(None, reported, str(exc))
    metrics = {k: v for k, v in result.metrics.items() if not (k == "default" and report.value is not None)}
    if result.values is None:
        bad = next(n for n in objectives if not math.isfinite(float(reported[n])))
        return Scored(None, metrics, f"objective {bad!r} is {float(reported[bad])!r}, not a finite number")
    values = dict(zip(objectives, result.values, strict=True))
    violation: float | None = None
    if scoring.constraints or REPORTED in metrics:
        violation, problem = constraint_violation({**metrics, **values}, scoring.constraints)
        if violation is None:
            if report.kind is ReportKind.FINAL:
                return Scored(None, metrics, problem)
            violation = math.inf
    return Scored(result.values[0], metrics, values=values, violation=violation)


@dataclass
class Attempt:
    """A trial attempt that the runner is executing, and what the engine has seen of it so far."""

    number: int
    attempt: int
    params: dict[str, Any]
    handle: TrialHandle
    deadline: float | None  # on the engine's monotonic clock
    budget: int | None = None
    final: Scored | None = None
    final_before_stop: bool = True
    last_intermediate: float | None = None
    last_metrics: Mapping[str, Any] = field(default_factory=dict)
    last_scored: Scored | None = None  # the last usable intermediate report, as scored
    stop: StopCause | None = None
    stop_message: str = ""
    budget_reached_at: float | None = None  # when it reported its budget and was asked to end
    budget_stop_sent: bool = False

    def stop_for(self, cause: StopCause, message: str, grace: float) -> None:
        """Stop it (SIGTERM, then SIGKILL after ``grace``) for ``cause``, unless it is already being stopped."""
        if self.stop is None:
            self.stop, self.stop_message = cause, message
        self.handle.stop(grace)

    def end(self, exit_code: int) -> TrialEnd:
        return TrialEnd(
            exit_code=exit_code,
            final=self.final,
            final_before_stop=self.final_before_stop,
            last_intermediate=self.last_intermediate,
            last_metrics=self.last_metrics,
            last_values=None if self.last_scored is None else self.last_scored.values,
            last_violation=None if self.last_scored is None else self.last_scored.violation,
            stop=self.stop,
            stop_message=self.stop_message,
        )
