"""Trial functions of the multi-objective dashboard tests, in a module of their own (see server_trials.py)."""

from __future__ import annotations

import time
from typing import Any

import tunelab


def two_objectives(params: dict[str, Any]) -> dict[str, float]:
    """accuracy (max) grows with x, size (min) too, so most trials are trade-offs; size past 6 breaks the
    constraint ``model_mb <= 60``; x > 0.9 diverges (NaN accuracy: the trial fails)."""
    x = float(params["x"])
    size = 10 * x * x + float(params["w"])
    for step in range(3):
        tunelab.report({"accuracy": x * (step + 1) / 3, "size": size}, step=step)
    return {"accuracy": float("nan") if x > 0.9 else x, "size": size, "model_mb": 10 * size}


def slow_two_objectives(params: dict[str, Any]) -> dict[str, float]:
    """As :func:`two_objectives`, about half a second each, so the dashboard sees it run."""
    time.sleep(0.5)
    return two_objectives(params)
