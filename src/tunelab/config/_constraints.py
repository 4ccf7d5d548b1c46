"""Constraints of a multi-objective experiment: bounds on reported metrics, and a trial's own ``constraint`` value.

A config's ``constraints: {model_mb: "<= 50", recall: ">= 0.8"}`` bounds metrics (or
objectives) a trial reports; a trial may also report ``constraint=`` itself, a number or a
list of numbers each of which must be <= 0 (Optuna's convention). A trial's *violation* is
by how much it broke them all together: the sum of ``max(0, value - bound)`` over ``<=``
bounds, ``max(0, bound - value)`` over ``>=`` bounds and ``max(0, c)`` over its own values.
A violation of 0 is feasible; an infeasible trial is kept, and is never on the Pareto front.
A constraint's metric missing from the final report, or not a finite number, makes the
trial's result unusable (as a missing objective does).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The metric a trial reports its own constraint values under.
REPORTED = "constraint"

_BOUND = re.compile(r"\s*(<=|>=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*")


@dataclass(frozen=True)
class Constraint:
    """``metric <= bound`` (``at_most``) or ``metric >= bound``."""

    metric: str
    at_most: bool
    bound: float

    def violation(self, value: float) -> float:
        return max(0.0, value - self.bound) if self.at_most else max(0.0, self.bound - value)


def parse_constraint(metric: str, text: Any) -> Constraint:
    """``"<= 50"`` or ``">= 0.8"``; a ValueError naming the field and the rule otherwise."""
    match = _BOUND.fullmatch(text) if isinstance(text, str) else None
    if match is None or not math.isfinite(float(match.group(2))):
        raise ValueError(f'constraints.{metric}: expected "<= number" or ">= number", got {text!r:.80}')
    return Constraint(metric, match.group(1) == "<=", float(match.group(2)))


def violation(metrics: Mapping[str, Any], constraints: tuple[Constraint, ...]) -> tuple[float | None, str]:
    """How much ``metrics`` (a final report's, objectives included) break ``constraints`` and the trial's own
    ``constraint`` values; ``(None, problem)`` when a value needed is missing or not a finite number."""
    total = 0.0
    for constraint in constraints:
        value = metrics.get(constraint.metric)
        if value is None:
            names = ", ".join(sorted(map(str, metrics))[:10])
            return None, f"the report has no metric {constraint.metric!r} for constraints (it has: {names})"
        number = _finite(value)
        if number is None:
            return None, f"constraint metric {constraint.metric!r} is {value!r:.60}, not a finite number"
        total += constraint.violation(number)
    own = metrics.get(REPORTED)
    if own is not None:
        for value in own if isinstance(own, list) else [own]:
            number = _finite(value)
            if number is None:
                return None, f"the reported constraint value {value!r:.60} is not a finite number"
            total += max(0.0, number)
    return total, ""


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
