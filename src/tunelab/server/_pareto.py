"""The API's view of several objectives: every finished trial's values, the Pareto front and its knee,
the hypervolume over time. "Best" follows the one rule of :mod:`tunelab.storage._best`; the numbers
come from :mod:`tunelab.pareto` (no second non-dominated sort or hypervolume here).

The hypervolume is measured against one reference point for the whole history (the worst
value of each objective among the competing trials plus a tenth of its range,
:func:`tunelab.pareto.reference_point`), so its curve only ever rises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from tunelab.storage import KNEE_RULE, TrialRecord, TrialState, front_and_knee, objectives_of, trial_losses

#: The most points of the hypervolume curve computed (evenly spread over the trials that competed).
MAX_HYPERVOLUME_POINTS = 200


class ParetoPoint(BaseModel):
    number: int
    state: str
    values: dict[str, float | None]
    params: dict[str, Any]
    feasible: bool
    violation: float | None = Field(None, description="By how much it broke the constraints (<= 0: it met them).")
    competes: bool = Field(description="Succeeded, feasible, every objective finite: it may be on the front.")
    on_front: bool
    rank: int | None = Field(
        None, description="Non-dominated rank among competing trials (0: the front; null: not competing)."
    )


class Hypervolume(BaseModel):
    finished: list[int] = Field(description="How many trials had competed when each value was measured.")
    numbers: list[int] = Field(description="The trial whose end each value was measured after.")
    times: list[float] = Field(description="Seconds since the experiment started.")
    values: list[float]
    reference: list[float] | None = Field(description="The reference point, as losses (maximised objectives negated).")


class ParetoFront(BaseModel):
    objectives: dict[str, str]
    constraints: dict[str, str]
    points: list[ParetoPoint] = Field(description="Every trial that ended with a value of each objective.")
    front: list[int]
    knee: int | None
    rule: str
    hypervolume: Hypervolume


def pareto_view(trials: list[TrialRecord], config: Mapping[str, Any], origin: float) -> ParetoFront | None:
    """The Pareto view of an experiment's trials, or None when it has one objective."""
    from tunelab.pareto import hypervolume_curve, nondominated_ranks, reference_point

    objectives = objectives_of(config)
    if objectives is None:
        return None
    competing = [(t, losses) for t in trials if (losses := trial_losses(t, objectives)) is not None]
    front, knee = front_and_knee(trials, objectives)
    on_front = {t.number for t in front}
    ranks = nondominated_ranks([row for _, row in competing]).tolist() if competing else []
    rank_of = {t.number: int(r) for (t, _), r in zip(competing, ranks, strict=True)}
    points = [
        ParetoPoint(
            number=t.number,
            state=t.state.value,
            values={name: _finite((t.values or {}).get(name)) for name in objectives},
            params=_plain(dict(t.params)),
            feasible=t.feasible,
            violation=t.violation,
            competes=t.number in rank_of,
            on_front=t.number in on_front,
            rank=rank_of.get(t.number),
        )
        for t in trials
        if t.values is not None and t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
    ]
    curve = Hypervolume(finished=[], numbers=[], times=[], values=[], reference=None)
    if competing:
        # The hypervolume of the trials that had ended (the front kept as they came: the same rule)
        # at up to MAX_HYPERVOLUME_POINTS marks against one reference point for the whole history.
        by_end = sorted(competing, key=lambda pair: (pair[0].ended_at or 0.0, pair[0].number))
        reference = reference_point([losses for _, losses in by_end])
        count = len(by_end)
        stride = max(1, -(-count // MAX_HYPERVOLUME_POINTS))
        marks = sorted({*range(stride, count + 1, stride), count})
        values = hypervolume_curve([losses for _, losses in by_end], reference, marks)
        curve.reference = [float(v) for v in reference]
        curve.finished = marks
        curve.numbers = [by_end[k - 1][0].number for k in marks]
        curve.times = [float(by_end[k - 1][0].ended_at or origin) - origin for k in marks]
        curve.values = [float(v) for v in values]
    return ParetoFront(
        objectives=dict(objectives),
        constraints={str(k): str(v) for k, v in (config.get("constraints") or {}).items()},
        points=points,
        front=sorted(on_front),
        knee=None if knee is None else knee.number,
        rule=KNEE_RULE,
        hypervolume=curve,
    )


def _finite(value: float | None) -> float | None:
    import math

    return value if value is not None and math.isfinite(value) else None


def _plain(value: Any) -> Any:
    from tunelab.server._app import _jsonable

    return _jsonable(value)
