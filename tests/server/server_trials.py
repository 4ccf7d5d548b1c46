"""Trial functions of the dashboard tests, in a module of their own.

A function trial started from a fork server is imported again in its child process, by
its module's name; test modules here import ``conftest`` by name, which another test
folder's ``conftest`` may answer there. This module imports nothing of the tests.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import tunelab


def curve_objective(params: dict[str, Any]) -> float:
    """Reports a short learning curve, prints a line, and fails for large x."""
    print(f"training with x={params['x']:.3f} <b>opt</b>={params['opt']}", flush=True)
    if params["x"] > 4:
        print("diverged", file=sys.stderr, flush=True)
        raise RuntimeError("diverged")
    for step in range(5):
        tunelab.report((params["x"] - 1) ** 2 + 1 / (step + 1), step=step, accuracy=step / 5)
    return (params["x"] - 1) ** 2 + params["lr"]


def training(params: dict[str, Any]) -> float:
    """A slow trial: ten reports and log lines over about a second; x == 2.5 runs for a minute."""
    loss = 1.0
    for step in range(600 if params["x"] == 2.5 else 10):
        loss = (params["x"] - 1) ** 2 / 10 + 1 / (step + 1 + params["lr"] * 100)
        tunelab.report(loss, step=step)
        print(f"epoch {step} loss={loss:.4f} <b>bold?</b>", flush=True)
        time.sleep(0.1)
    return loss


def slow_objective(params: dict[str, Any]) -> float:
    time.sleep(0.3)
    return params["x"] ** 2


def square(params: dict[str, Any]) -> float:
    return params["x"] ** 2
