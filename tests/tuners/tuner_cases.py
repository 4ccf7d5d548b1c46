"""The tuners the contract suite runs, a space with every parameter type, and a loss over it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tunelab.tuners import Tuner

#: (id, registry name, extra arguments, optional module it needs)
TUNER_CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("random", "random", {}, None),
    ("tpe", "tpe", {"n_startup_jobs": 5}, None),
    ("tpe-univariate", "tpe", {"n_startup_jobs": 5, "multivariate": False}, None),
    ("gp", "gp", {"n_initial_points": 5, "n_candidates": 200, "n_restarts": 2}, None),
    ("evolution", "evolution", {"population_size": 8, "sample_size": 3}, None),
    ("anneal", "anneal", {}, None),
    ("cmaes", "cmaes", {}, "cmaes"),
    ("auto", "auto", {"max_trials": 40}, None),
    ("optuna", "optuna", {}, "optuna"),
    ("hyperopt", "hyperopt", {"n_startup_jobs": 5}, "hyperopt"),
]

TunerFactory = Callable[..., Tuner]

MIXED_SPACE: dict[str, Any] = {
    "u": {"_type": "uniform", "_value": [-1.0, 2.0]},
    "qu": {"_type": "quniform", "_value": [0.0, 1.0, 0.25]},
    "lu": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "qlu": {"_type": "qloguniform", "_value": [1.0, 1000.0, 5.0]},
    "n": {"_type": "normal", "_value": [0.0, 2.0]},
    "qn": {"_type": "qnormal", "_value": [10.0, 3.0, 1.0]},
    "ln": {"_type": "lognormal", "_value": [0.0, 1.0]},
    "qln": {"_type": "qlognormal", "_value": [1.0, 0.5, 0.5]},
    "ri": {"_type": "randint", "_value": [-3, 7]},
    "c": {"_type": "choice", "_value": ["relu", 3, None, [1, 2]]},
    "nest": {
        "_type": "choice",
        "_value": [
            {
                "_name": "sgd",
                "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
                "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
            },
            {"_name": "adam", "beta": {"_type": "choice", "_value": [0.9, 0.99]}},
            {"_name": "none"},
        ],
    },
}


def mixed_loss(params: Mapping[str, Any]) -> float:
    nest = params["nest"]
    value = (params["u"] - 0.5) ** 2 + math.log(params["lu"]) ** 2 / 10 + abs(params["ri"] - 2)
    if nest["_name"] == "sgd":
        value += (math.log10(nest["lr"]) + 2) ** 2 + nest["momentum"]
    return value + (0.0 if params["c"] == "relu" else 1.0)


def run(tuner: Tuner, loss: Callable[[dict[str, Any]], float], n: int) -> list[dict[str, Any]]:
    """Suggest and observe ``n`` trials in sequence; the suggestions."""
    suggested = []
    for _ in range(n):
        trial_id, params = tuner.suggest()
        suggested.append(params)
        tuner.observe(trial_id, loss(params))
    return suggested
