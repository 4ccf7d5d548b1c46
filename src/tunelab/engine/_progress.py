"""What the engine tells progress displays: counts, the best trial so far, time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tunelab._atomic import write_json
from tunelab.storage import Phase, TrialState, competes, is_better


@dataclass
class Progress:
    """A snapshot for progress displays: counts, best so far, time."""

    phase: Phase
    max_trials: int | None
    max_duration: float | None
    elapsed: float
    succeeded: int = 0
    failed: int = 0
    early_stopped: int = 0
    canceled: int = 0
    running: int = 0
    waiting: int = 0
    best_value: float | None = None
    best_params: dict[str, Any] | None = None
    best_number: int | None = None
    waiting_reason: str = ""

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.early_stopped + self.canceled


class Listener(Protocol):
    """Told of progress by the engine's thread after every change; must return quickly (it must not block)."""

    def on_progress(self, progress: Progress) -> None: ...


@dataclass
class Tally:
    """Counts of ended trials and the best one, kept as trials end (no pass over the history)."""

    mode: str
    succeeded: int = 0
    failed: int = 0
    early_stopped: int = 0
    canceled: int = 0
    first_failure: str = ""
    best_number: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] | None = None

    def add(self, number: int, state: TrialState, value: float | None, params: Mapping[str, Any], message: str) -> None:
        if state == TrialState.SUCCEEDED:
            self.succeeded += 1
        elif state == TrialState.FAILED:
            self.failed += 1
            self.first_failure = self.first_failure or message
        elif state == TrialState.EARLY_STOPPED:
            self.early_stopped += 1
        elif state == TrialState.CANCELED:
            self.canceled += 1
        if value is not None and competes(state, value):
            current = (
                None if self.best_value is None or self.best_number is None else (self.best_value, self.best_number)
            )
            if is_better(value, number, current, self.mode):
                self.best_number, self.best_value, self.best_params = number, value, dict(params)

    @property
    def ended(self) -> int:
        """Trials that ran to an end of their own (canceled ones do not count)."""
        return self.succeeded + self.failed + self.early_stopped


def write_best(directory: Path, experiment_id: str, tally: Tally, metric: str) -> None:
    """``best_params.json``: the best trial under the one rule (:mod:`tunelab.storage._best`), written atomically."""
    if tally.best_number is None:
        return
    artifact = {
        "experiment_id": experiment_id,
        "trial": tally.best_number,
        "value": tally.best_value,
        "mode": tally.mode,
        "metric": metric,
        "params": tally.best_params,
    }
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "best_params.json", artifact)
