"""One running attempt of one trial, as the engine follows it, and the scoring of its reports."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tunelab.engine._outcome import Scored, StopCause, TrialEnd
from tunelab.runners import TrialHandle
from tunelab.trial._channel import Report


def score(report: Report, metric: str) -> Scored:
    """The objective value of a report: its value, or the metric the config names (``metric:``)."""
    metrics: dict[str, Any] = dict(report.metrics)
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
            stop=self.stop,
            stop_message=self.stop_message,
        )
