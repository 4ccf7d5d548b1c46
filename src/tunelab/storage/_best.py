"""The one rule for "best", used by the engine, ``best_params.json``, the CLI, the API and the dashboard.

Only a trial that ended SUCCEEDED with a finite value competes: an early-stopped trial's
value is its last intermediate result (one epoch, one fold), not a finished score, and a
failed or canceled trial has none. Among equal values the earlier trial (lower number) wins,
so every reader of the same history names the same trial.

With several objectives (``objectives`` in the config) "best" is the Pareto front of the
finished, feasible trials (:func:`pareto_front`, computed with :mod:`tunelab.pareto`), and
the single best trial, where one is asked for, is its knee (:func:`knee_trial`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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


def best_trial(
    trials: Iterable[TrialRecord], mode: str, objectives: Mapping[str, str] | None = None
) -> TrialRecord | None:
    """The best of ``trials`` under the rule above (the knee with ``objectives``), or None when none competes."""
    if objectives:
        return knee_trial(trials, objectives)
    best: TrialRecord | None = None
    key: tuple[float, int] | None = None
    for trial in trials:
        if trial.value is not None and competes(trial.state, trial.value):
            if is_better(trial.value, trial.number, key, mode):
                best, key = trial, (trial.value, trial.number)
    return best


# ---------------------------------------------------------------- several objectives
#: How the one suggested choice among the front's trade-offs is picked (``best_params.json`` states it).
KNEE_RULE = (
    "the knee of the Pareto front: each objective scaled to [0, 1] over the front (best 0, worst 1), "
    "the front trial closest to the ideal point (0, ..., 0); ties go to the lower trial number"
)


def objectives_of(config: Mapping[str, Any]) -> dict[str, str] | None:
    """The objectives a stored config declares (name -> "min"/"max", in order); None for one objective (``mode``)."""
    found = config.get("objectives")
    return dict(found) if isinstance(found, Mapping) and found else None


def value_losses(values: Mapping[str, float | None] | None, objectives: Mapping[str, str]) -> tuple[float, ...] | None:
    """Objective values as losses (smaller is better), or None unless every objective's value is finite."""
    if values is None:
        return None
    losses = []
    for name, direction in objectives.items():
        value = values.get(name)
        if value is None or not math.isfinite(value):
            return None
        losses.append(value if direction == "min" else -value)
    return tuple(losses)


def trial_losses(trial: TrialRecord, objectives: Mapping[str, str]) -> tuple[float, ...] | None:
    """A trial's values as losses, or None when it may not be on the front.

    Only a trial that ended SUCCEEDED, met the constraints and has a finite value of every
    objective competes, by the same rule as one objective's :func:`competes`.
    """
    if trial.state != TrialState.SUCCEEDED or not trial.feasible:
        return None
    return value_losses(trial.values, objectives)


def front_positions(losses: Sequence[tuple[float, ...]]) -> tuple[list[int], int | None]:
    """The positions in ``losses`` (competing trials in number order) on the front, and the knee's position."""
    from tunelab.pareto import front_indices, knee_index

    if not losses:
        return [], None
    return front_indices(losses), knee_index(losses)


def grow_front(
    front: Sequence[tuple[int, tuple[float, ...]]], number: int, losses: tuple[float, ...]
) -> list[tuple[int, tuple[float, ...]]] | None:
    """The front (``(trial number, losses)`` by number) once trial ``number`` competes too; None when it
    is dominated (the front stays). The front of all trials is the front of the old front and the new one,
    so keeping the front as trials end is the same rule as :func:`pareto_front` over the whole history."""
    import numpy as np

    if not front:
        return [(number, losses)]
    # tunelab.pareto.dominates, for the newcomer against every kept row at once.
    kept, new = np.asarray([row for _, row in front], dtype=float), np.asarray(losses, dtype=float)
    if np.any(np.all(kept <= new, axis=1) & np.any(kept < new, axis=1)):
        return None
    beaten = np.all(new <= kept, axis=1) & np.any(new < kept, axis=1)
    return sorted([*(row for row, out in zip(front, beaten, strict=True) if not out), (number, losses)])


def front_and_knee(
    trials: Iterable[TrialRecord], objectives: Mapping[str, str]
) -> tuple[list[TrialRecord], TrialRecord | None]:
    """:func:`pareto_front` and :func:`knee_trial` at once (one non-dominated sort of the competing trials).

    The same rule as keeping the front as trials end (:func:`grow_front`, the engine's tally):
    the front of the whole history is its rank-0 rows, whatever order they came in.
    """
    by_number = sorted(trials, key=lambda t: t.number)
    competing = [(t, losses) for t in by_number if (losses := trial_losses(t, objectives)) is not None]
    positions, knee = front_positions([losses for _, losses in competing])
    return [competing[i][0] for i in positions], None if knee is None else competing[knee][0]


def pareto_front(trials: Iterable[TrialRecord], objectives: Mapping[str, str]) -> list[TrialRecord]:
    """The competing trials no other competing trial dominates (equal ones all stay), by trial number."""
    return front_and_knee(trials, objectives)[0]


def knee_trial(trials: Iterable[TrialRecord], objectives: Mapping[str, str]) -> TrialRecord | None:
    """The front's suggested single choice under :data:`KNEE_RULE`, or None when no trial competes."""
    return front_and_knee(trials, objectives)[1]


def front_summary(
    experiment_id: str,
    objectives: Mapping[str, str],
    front: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]],
    knee: int,
) -> dict[str, Any]:
    """The front as ``best_params.json`` and ``tunelab best --json`` give it: each ``(trial, values, params)``,
    and the knee as the suggested single choice (``trial``, ``values``, ``params``, which ``load_best`` reads)."""
    by_number = {number: (dict(values), dict(params)) for number, values, params in front}
    return {
        "experiment_id": experiment_id,
        "objectives": dict(objectives),
        "trial": knee,
        "values": by_number[knee][0],
        "params": by_number[knee][1],
        "rule": f"suggested single choice: {KNEE_RULE}",
        "front": [{"trial": n, "values": v, "params": p} for n, (v, p) in by_number.items()],
    }
