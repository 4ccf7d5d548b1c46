"""How ``tunelab-v3.db`` was made: run with tunelab at schema version 3 (commit 8630351), before multi-objective.

    TUNELAB_HOME=$(mktemp -d) .venv/bin/python tests/storage/assets/make_v3_db.py tests/storage/assets/tunelab-v3.db

A real experiment (function trials, median stopping) of six trials: intermediate reports with
metrics, secondary metrics on the final results (``latency_ms``, ``params``), one trial
that fails (NaN) and early-stopped ones. The upgrade test opens a copy with today's code.
"""

from __future__ import annotations

import sys

import tunelab
from tunelab import hp


def objective(params: dict) -> float:
    x = params["x"]
    for epoch in range(3):
        tunelab.report(x * (epoch + 1) / 3, step=epoch, latency_ms=10.0 + epoch)
    if x > 0.8:
        return float("nan")
    return tunelab.report_final({"default": x, "latency_ms": 12.5 * x, "params": 100 + int(1000 * x)})


if __name__ == "__main__":
    result = tunelab.optimize(
        objective,
        {"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=6,
        mode="max",
        seed=3,
        name="v3-asset",
        storage=sys.argv[1],
        failure={"ignore": True},
        scheduler={"name": "median", "args": {"start_step": 1}},
    )
    print(result.experiment_id, result.phase, [(t.number, t.state.value, t.value) for t in result.trials])
