"""Several objectives: how they are declared and how a reported result becomes losses.

An experiment's objectives are an ordered mapping of name to direction,
``{"accuracy": "max", "latency_ms": "min"}``; a single ``mode`` stays the one-objective
form. A result for several objectives is a mapping with a value for every objective
(extra keys are secondary metrics), or a sequence of values in the objectives' order.
Its *losses* are the values each turned so that smaller is better (maximised objectives
negated), the form :mod:`tunelab.pareto`, the tuners and the schedulers work with.

The rules match the single-objective ones: a missing objective or a value that is not a
number is an error naming the objective; a NaN or infinite value makes the result
unusable (the trial counts as failed), never a point on the front.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunelab.errors import ConfigError, ReportError, did_you_mean
from tunelab.tuners._base import Mode, normalize_mode

__all__ = ["ObjectiveResult", "normalize_objectives", "objective_losses"]


def normalize_objectives(objectives: Any, *, field: str = "objectives") -> dict[str, Mode]:
    """``{name: "min" | "max"}`` in the order given; a one-line :class:`ConfigError` naming the field otherwise.

    Directions accept what ``mode`` accepts (``min``/``max``, NNI's ``minimize``/``maximize``).
    """
    if not isinstance(objectives, Mapping) or not objectives:
        raise ConfigError(
            f"{field}: expected a mapping of objective name to 'min' or 'max' "
            f"(e.g. {{accuracy: max, latency_ms: min}}), got {objectives!r}"
        )
    result: dict[str, Mode] = {}
    for name, direction in objectives.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{field}: objective names must be non-empty strings, got {name!r}")
        if name == "default":
            raise ConfigError(f"{field}: 'default' is NNI's key for a single result; name the objective")
        try:
            result[name] = normalize_mode(direction)
        except ConfigError:
            raise ConfigError(f"{field}.{name}: expected 'min' or 'max', got {direction!r}") from None
    return result


@dataclass(frozen=True)
class ObjectiveResult:
    """A result for several objectives: the values as reported, their losses and the secondary metrics.

    ``values`` and ``losses`` are None when some objective's value is NaN or infinite.
    """

    values: tuple[float, ...] | None
    losses: tuple[float, ...] | None
    metrics: Mapping[str, Any]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ReportError(f"objective {name!r}: expected a number, got {value!r}")
    return float(value)


def objective_losses(value: Any, objectives: Mapping[str, Mode]) -> ObjectiveResult:
    """A reported result (a mapping or a sequence in the objectives' order) as values, losses and metrics.

    Raises :class:`ReportError` for a missing objective or a value that is not a number.
    """
    names = list(objectives)
    metrics: dict[str, Any] = {}
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        if missing:
            extra = [str(k) for k in value if k not in objectives]
            hint = did_you_mean(missing[0], extra)
            raise ReportError(
                f"objective {missing[0]!r} is missing from the result{hint} "
                f"(got keys {sorted(map(str, value))}; objectives: {', '.join(names)})"
            )
        raw = [_number(n, value[n]) for n in names]
        metrics = {k: v for k, v in value.items() if k not in objectives}
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != len(names):
            raise ReportError(f"expected {len(names)} objective values ({', '.join(names)}), got {len(value)}")
        raw = [_number(n, v) for n, v in zip(names, value, strict=True)]
    elif len(names) == 1:
        raw = [_number(names[0], value)]
    else:
        raise ReportError(f"a result for objectives {', '.join(names)} must be a mapping of them, got {value!r}")
    if not all(math.isfinite(v) for v in raw):
        return ObjectiveResult(None, None, metrics)
    losses = tuple(v if objectives[n] == "min" else -v for n, v in zip(names, raw, strict=True))
    return ObjectiveResult(tuple(raw), losses, metrics)
