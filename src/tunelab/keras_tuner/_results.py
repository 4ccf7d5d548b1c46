"""What ``run_trial`` or ``HyperModel.fit`` returned, as KerasTuner reads it: metrics, the best epoch, the score.

A number is the objective's value; a dict maps metric names to values; a Keras ``History``
gives the metrics of its best epoch for the objective; a list (``executions_per_trial``)
is averaged. Anything else, a missing objective metric or a value that is not a finite
number is a :class:`~tunelab.errors.TrialFailed` naming what was returned.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from tunelab.errors import TrialFailed
from tunelab.keras_tuner._objective import DefaultObjective, Objective

__all__ = ["Scored", "best_epoch", "score_results"]


class Scored:
    """The score of one trial (finite), the metrics it comes with and the epoch they are from."""

    def __init__(self, value: float, metrics: dict[str, float], best_step: int) -> None:
        self.value, self.metrics, self.best_step = value, metrics, best_step


def _number(value: Any, what: str) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrialFailed(f"{what} is {value!r:.80}, not a number")
    return float(value)


def best_epoch(history: Mapping[str, list[Any]], objective: Objective) -> tuple[dict[str, float], int]:
    """The metrics of the best epoch of a ``History.history`` for ``objective``, and that epoch."""
    epochs = max((len(v) for v in history.values()), default=0)
    best: tuple[dict[str, float], int] | None = None
    for epoch in range(epochs):
        logs = {k: _number(v[epoch], f"metric {k!r}") for k, v in history.items() if epoch < len(v)}
        if not objective.has_value(logs):
            continue
        value = objective.get_value(logs)
        logs.setdefault(objective.name, value)
        if best is None or (math.isfinite(value) and objective.better_than(value, best[0][objective.name])):
            best = (logs, epoch)
    if best is None:
        names = ", ".join(sorted(history)) or "none"
        raise TrialFailed(f"the History has no {objective.name!r} (objective) in any epoch; its metrics: {names}")
    return best


def _metrics(results: Any, objective: Objective, source: str) -> tuple[dict[str, float], int]:
    if results is None:
        raise TrialFailed(f"{source} returned None; did you forget to return the metrics (or the History)?")
    if isinstance(results, bool):
        raise TrialFailed(f"{source} returned {results!r}, not a number")
    if isinstance(results, (int, float)) or (hasattr(results, "item") and not hasattr(results, "history")):
        return {objective.name: _number(results, f"the value {source} returned")}, 0
    if isinstance(results, Mapping):
        if isinstance(objective, DefaultObjective) and objective.name not in results:
            raise TrialFailed(
                f"{source} returned a dict but the search has no objective; return a number, or give objective="
            )
        metrics = {str(k): _number(v, f"metric {k!r}") for k, v in results.items()}
        if not objective.has_value(metrics):
            raise TrialFailed(f"{source} returned no {objective.name!r} (the objective); it has: {', '.join(metrics)}")
        metrics.setdefault(objective.name, objective.get_value(metrics))
        return metrics, 0
    history = getattr(results, "history", None)
    if isinstance(history, Mapping):
        return best_epoch(history, objective)
    raise TrialFailed(
        f"{source} returned {type(results).__name__}; expected a number, a dict of metrics, "
        "a Keras History or a list of them"
    )


def score_results(results: Any, objective: Objective, source: str = "run_trial") -> Scored:
    """KerasTuner's ``convert_to_metrics_dict`` and ``get_best_step``, checked: the score is a finite number."""
    if isinstance(results, list):
        if not results:
            raise TrialFailed(f"{source} returned an empty list")
        parts = [_metrics(item, objective, source) for item in results]
        names = set(parts[0][0]).intersection(*(set(m) for m, _ in parts[1:]))
        metrics = {name: statistics.fmean(m[name] for m, _ in parts) for name in parts[0][0] if name in names}
        step = int(statistics.mean(step for _, step in parts))
    else:
        metrics, step = _metrics(results, objective, source)
    value = metrics.get(objective.name)
    if value is None:
        value = objective.get_value(metrics)
    if not math.isfinite(value):
        raise TrialFailed(f"the objective {objective.name!r} is {value}, not a finite number")
    return Scored(value, metrics, step)
