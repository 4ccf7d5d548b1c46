"""The one rule for "best", used by the engine, ``best_params.json``, the CLI, the API and the dashboard.

Only a trial that ended SUCCEEDED with a finite value competes: an early-stopped trial's
value is its last intermediate result (one epoch, one fold), not a finished score, and a
failed or canceled trial has none. Among equal values the earlier trial (lower number) wins,
so every reader of the same history names the same trial.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tunelab.storage._records import TrialRecord, TrialState


def competes(state: TrialState, value: float | None) -> bool:
    """Whether a trial that ended in ``state`` with ``value`` may be the best."""
    return state == TrialState.SUCCEEDED and value is not None and math.isfinite(value)


def is_better(value: float, number: int, than: tuple[float, int] | None, mode: str) -> bool:
    """Whether trial ``number`` with ``value`` beats ``than`` = (value, number) under ``mode`` ("min"/"max")."""
    if than is None:
        return True
    best_value, best_number = than
    if value != best_value:
        return value < best_value if mode == "min" else value > best_value
    return number < best_number


def best_trial(trials: Iterable[TrialRecord], mode: str) -> TrialRecord | None:
    """The best of ``trials`` under the rule above, or None when none competes."""
    best: TrialRecord | None = None
    key: tuple[float, int] | None = None
    for trial in trials:
        if trial.value is not None and competes(trial.state, trial.value):
            if is_better(trial.value, trial.number, key, mode):
                best, key = trial, (trial.value, trial.number)
    return best
