"""KerasTuner's ``Trial`` as a search's user sees it: its id, hyperparameters, status, score and metrics."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tunelab.storage import TrialRecord, TrialState, competes, is_better

__all__ = ["Trial", "TrialStatus", "ranked"]


class TrialStatus:
    """KerasTuner's status names (``keras_tuner.engine.trial.TrialStatus``)."""

    RUNNING = "RUNNING"
    IDLE = "IDLE"
    INVALID = "INVALID"
    STOPPED = "STOPPED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


_STATUS = {
    TrialState.WAITING: TrialStatus.IDLE,
    TrialState.RUNNING: TrialStatus.RUNNING,
    TrialState.SUCCEEDED: TrialStatus.COMPLETED,
    TrialState.FAILED: TrialStatus.FAILED,
    TrialState.EARLY_STOPPED: TrialStatus.STOPPED,
    TrialState.CANCELED: TrialStatus.STOPPED,
}


class Trial:
    """One trial: ``trial_id`` (tunelab's trial number, as text), ``hyperparameters``, ``status``, ``score``.

    ``metrics`` holds the last value of every metric the trial reported; ``best_step`` the
    epoch its score comes from; ``trial_dir`` its folder (checkpoints, logs).
    """

    def __init__(
        self,
        hyperparameters: Any,
        trial_id: str,
        status: str = TrialStatus.RUNNING,
        *,
        score: float | None = None,
        best_step: int | None = None,
        metrics: Mapping[str, Any] | None = None,
        message: str = "",
        trial_dir: Path | None = None,
        budget: int | None = None,
    ) -> None:
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.status = status
        self.score = score
        self.best_step = best_step
        self.metrics = dict(metrics or {})
        self.message = message
        self.trial_dir = trial_dir
        self.budget = budget

    @classmethod
    def from_record(cls, record: TrialRecord, hyperparameters: Any) -> Trial:
        metrics = {k: v for k, v in record.metrics.items() if not k.startswith("tunelab/")}
        best_step = record.metrics.get("tunelab/best_step")
        return cls(
            hyperparameters,
            str(record.number),
            _STATUS[record.state],
            score=record.value,
            best_step=int(best_step) if isinstance(best_step, (int, float)) else None,
            metrics=metrics,
            message=record.message,
            trial_dir=Path(record.trial_dir) if record.trial_dir else None,
            budget=record.budget,
        )

    def summary(self, objective_name: str) -> str:
        """The block ``results_summary`` prints for this trial (KerasTuner's layout)."""
        lines = [f"Trial {self.trial_id} summary", "Hyperparameters:"]
        lines += [f"{name}: {value}" for name, value in self.hyperparameters.values.items()]
        if self.score is not None:
            lines.append(f"Score: {self.score}")
        elif self.message:
            lines.append(self.message.splitlines()[-1] if self.message.splitlines() else self.message)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score!r})"


def ranked(records: Iterable[TrialRecord], mode: str) -> list[TrialRecord]:
    """Competing trials best first, by tunelab's one rule of "best" (:mod:`tunelab.storage._best`)."""
    contenders = [r for r in records if r.value is not None and competes(r.state, r.value)]

    def order(a: TrialRecord, b: TrialRecord) -> int:
        assert a.value is not None and b.value is not None
        if is_better(a.value, a.number, (b.value, b.number), mode):
            return -1
        return 1 if is_better(b.value, b.number, (a.value, a.number), mode) else 0

    return sorted(contenders, key=functools.cmp_to_key(order))


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
