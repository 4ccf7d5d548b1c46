"""What the engine tells progress displays: counts, the best trial so far, time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tunelab._atomic import write_json
from tunelab.storage import Phase, TrialState, competes, is_better
from tunelab.storage._best import front_positions, front_summary, grow_front, value_losses


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
    #: With several objectives: how many trials are on the Pareto front (``best_*`` is its knee, no single value).
    front_size: int | None = None

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.early_stopped + self.canceled


class Listener(Protocol):
    """Told of progress by the engine's thread after every change; must return quickly (it must not block)."""

    def on_progress(self, progress: Progress) -> None: ...


@dataclass
class Tally:
    """Counts of ended trials and the best one, kept as trials end (no pass over the history).

    With ``objectives`` the best is the Pareto front of the competing trials (``front``, by
    trial number) and its knee (``best_number`` and ``best_params``; ``best_value`` stays None).
    """

    mode: str
    objectives: Mapping[str, str] | None = None
    succeeded: int = 0
    failed: int = 0
    early_stopped: int = 0
    canceled: int = 0
    first_failure: str = ""
    best_number: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] | None = None
    #: Several objectives: each trial on the front's number -> (values, losses, params).
    competing: dict[int, tuple[dict[str, float], tuple[float, ...], dict[str, Any]]] = field(default_factory=dict)
    front: list[int] = field(default_factory=list)
    _infeasible: int = 0

    def add(
        self,
        number: int,
        state: TrialState,
        value: float | None,
        params: Mapping[str, Any],
        message: str,
        values: Mapping[str, float | None] | None = None,
        violation: float | None = None,
    ) -> None:
        if state == TrialState.SUCCEEDED:
            self.succeeded += 1
        elif state == TrialState.FAILED:
            self.failed += 1
            self.first_failure = self.first_failure or message
        elif state == TrialState.EARLY_STOPPED:
            self.early_stopped += 1
        elif state == TrialState.CANCELED:
            self.canceled += 1
        if self.objectives is not None:
            self._add_to_front(number, state, values, violation, params)
        elif value is not None and competes(state, value):
            current = (
                None if self.best_value is None or self.best_number is None else (self.best_value, self.best_number)
            )
            if is_better(value, number, current, self.mode):
                self.best_number, self.best_value, self.best_params = number, value, dict(params)

    def _add_to_front(
        self,
        number: int,
        state: TrialState,
        values: Mapping[str, float | None] | None,
        violation: float | None,
        params: Mapping[str, Any],
    ) -> None:
        if state == TrialState.SUCCEEDED and violation is not None and violation > 0:
            self._infeasible += 1
        losses = value_losses(values, self.objectives or {})
        if state != TrialState.SUCCEEDED or losses is None or (violation is not None and violation > 0):
            return
        grown = grow_front([(n, self.competing[n][1]) for n in self.front], number, losses)
        if grown is None:  # dominated: the front (and its knee) stay
            return
        kept = {n for n, _ in grown}
        self.competing = {n: entry for n, entry in self.competing.items() if n in kept}
        self.competing[number] = (
            {k: float(v) for k, v in (values or {}).items() if v is not None},
            losses,
            dict(params),
        )
        self.front = [n for n, _ in grown]
        _, knee = front_positions([losses for _, losses in grown])
        if knee is not None:
            self.best_number, self.best_params = self.front[knee], self.competing[self.front[knee]][2]

    @property
    def infeasible(self) -> int:
        """Succeeded trials that broke the constraints (several objectives), counted as they end."""
        return self._infeasible

    @property
    def ended(self) -> int:
        """Trials that ran to an end of their own (canceled ones do not count)."""
        return self.succeeded + self.failed + self.early_stopped


def write_best(directory: Path, experiment_id: str, tally: Tally, metric: str) -> None:
    """``best_params.json``: the best trial under the one rule (:mod:`tunelab.storage._best`), written atomically."""
    if tally.best_number is None:
        return
    artifact: dict[str, Any] = {
        "experiment_id": experiment_id,
        "trial": tally.best_number,
        "value": tally.best_value,
        "mode": tally.mode,
        "metric": metric,
        "params": tally.best_params,
    }
    if tally.objectives is not None:
        front = [(n, tally.competing[n][0], tally.competing[n][2]) for n in tally.front]
        artifact = front_summary(experiment_id, tally.objectives, front, tally.best_number)
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "best_params.json", artifact)
