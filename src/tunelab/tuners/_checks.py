"""Argument checks shared by the tuners' constructors: they state the rule and show the value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tunelab.errors import TunerError


def check_int(tuner: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise TunerError(f"{tuner}: {name} must be an integer >= {minimum}, but got {value!r}")
    return int(value)


def check_float(
    tuner: str, name: str, value: Any, low: float, high: float = math.inf, *, open_low: bool = False
) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        upper = f" and <= {high}" if high < math.inf else ""
        raise TunerError(f"{tuner}: {name} must be a number {bound}{upper}, but got {value!r}")
    return float(value)


def check_choice(tuner: str, name: str, value: Any, allowed: Sequence[str]) -> str:
    lowered = str(value).strip().lower() if isinstance(value, str) else value
    if lowered not in allowed:
        raise TunerError(f"{tuner}: {name} must be one of {', '.join(map(repr, allowed))}, but got {value!r}")
    return lowered


def check_optional_bool(tuner: str, name: str, value: Any) -> bool | None:
    """``value`` if it is True, False or None (the tuner chooses)."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise TunerError(f"{tuner}: {name} must be true, false or null, but got {value!r}")
    return None if value is None else bool(value)
