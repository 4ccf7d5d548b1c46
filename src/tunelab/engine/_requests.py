"""The limits a user may change while an experiment runs, and the checks on such a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Limits:
    """``max_trials`` counts created trials (a retried or re-run trial counts once); None is no limit."""

    max_trials: int | None
    max_duration: float | None
    concurrency: int

    def update(self, payload: Mapping[str, Any]) -> str:
        """Apply an UPDATE_LIMITS request; raises ValueError (the request is rejected) on a bad value."""
        from tunelab.config import parse_duration

        max_trials, max_duration, concurrency = self.max_trials, self.max_duration, self.concurrency
        changes = []
        if "max_trials" in payload:
            value = payload["max_trials"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"max_trials must be an integer >= 1 or null, got {value!r}")
            max_trials = value
            changes.append(f"max_trials={max_trials}")
        if "max_duration" in payload:
            max_duration = parse_duration(payload["max_duration"])
            changes.append(f"max_duration={max_duration}")
        if "concurrency" in payload:
            value = payload["concurrency"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"concurrency must be an integer >= 1, got {value!r}")
            concurrency = value
            changes.append(f"concurrency={value}")
        self.max_trials, self.max_duration, self.concurrency = max_trials, max_duration, concurrency
        return "set " + ", ".join(changes) if changes else "nothing to change"

    def as_config(self) -> dict[str, Any]:
        return {"max_trials": self.max_trials, "max_duration": self.max_duration, "concurrency": self.concurrency}
