"""Control requests: what a user may change or ask of a running experiment, and the checks on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tunelab._clock import Clock
from tunelab.errors import TunelabError, escape
from tunelab.storage import Request, RequestKind, Storage


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


class ControlTarget(Protocol):
    """What requests act on: the engine's limits and two of its operations."""

    limits: Limits

    def cancel(self, number: int) -> str: ...

    def add_trial(self, params: Mapping[str, Any]) -> str: ...


class Controls:
    """Requests from other processes (the CLI, the dashboard) to a running engine, read from storage.

    ``poll`` acts on every open request (each gets a one-line outcome) and says whether a
    stop was asked for; it reads storage at most every ``interval`` seconds.
    """

    def __init__(
        self, storage: Storage, experiment_id: str, clock: Clock, target: ControlTarget, interval: float = 0.5
    ) -> None:
        self.storage = storage
        self.experiment_id = experiment_id
        self.clock = clock
        self.target = target
        self.interval = interval
        self._next = 0.0

    def poll(self) -> bool:
        now = self.clock.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        for request in self.storage.get_requests(self.experiment_id):
            self.storage.close_request(request.id, self.handle(request))
        return self.storage.get_experiment(self.experiment_id).stop_requested

    def handle(self, request: Request) -> str:
        payload = request.payload
        try:
            if request.kind == RequestKind.CANCEL_TRIAL:
                return self.target.cancel(int(payload["number"]))
            if request.kind == RequestKind.UPDATE_LIMITS:
                outcome = self.target.limits.update(payload)
                self.persist_limits()
                return outcome
            if request.kind == RequestKind.ADD_TRIAL:
                return self.target.add_trial(payload["params"])
        except (KeyError, TypeError, ValueError, TunelabError) as exc:
            return f"rejected: {escape(exc)}"
        return f"rejected: unknown request {escape(request.kind)}"

    def persist_limits(self) -> None:
        """Keep changed limits in the stored config, so a resume honours them."""
        config = dict(self.storage.get_experiment(self.experiment_id).config)
        config.update(self.target.limits.as_config())
        self.storage.update_experiment(self.experiment_id, config=config)
