"""Keyword arguments people bring from Optuna and Ray Tune to the Python API.

The rule, one for every such keyword: where another library's keyword means exactly what
one of tunelab's means, ``optimize()`` and ``Experiment()`` accept it as an alias
(``direction="maximize"`` is ``mode="max"``, ``n_trials`` and ``num_samples`` are
``max_trials``, ``n_jobs`` is ``concurrency``); where the meaning differs, the call is
refused with a hint that says what to write instead (``directions``, ``timeout``). An alias
given together with the name it stands for is refused, naming both. ``metric`` and ``mode``
are tunelab's own keys (Ray Tune's meaning). Config files keep one spelling per key: there
such a keyword is an unknown field whose error suggests tunelab's key (:data:`SUGGEST`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunelab.errors import ConfigError

#: alias -> (tunelab's key, whose keyword it is)
ALIASES: dict[str, tuple[str, str]] = {
    "direction": ("mode", "Optuna"),
    "n_trials": ("max_trials", "Optuna"),
    "num_samples": ("max_trials", "Ray Tune"),
    "n_jobs": ("concurrency", "Optuna"),
}

#: keywords whose meaning differs from any one of tunelab's, with what to write instead
HINTS: dict[str, str] = {
    "directions": (
        "tunelab names each objective: objectives={'accuracy': 'max', 'latency': 'min'} "
        "(the objective then returns a dict of them)"
    ),
    "timeout": (
        "use max_duration= for the experiment's time limit (Optuna's timeout), "
        "or trial={'timeout': ...} for each trial's"
    ),
    "time_budget_s": "use max_duration= (Ray Tune's time_budget_s), e.g. max_duration='30m' or 1800",
}


def familiar_keywords(settings: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """``settings`` with every alias renamed to tunelab's key, or a :class:`ConfigError` naming the keyword."""
    result = dict(settings)
    for key in settings:
        if key in HINTS:
            raise ConfigError(f"{source}: {key}: not a tunelab setting; {HINTS[key]}")
    for alias, (key, origin) in ALIASES.items():
        if alias not in result:
            continue
        if key in result:
            raise ConfigError(f"{source}: {alias} and {key}: give one ({alias} is {origin}'s name for {key})")
        others = [a for a, (k, _) in ALIASES.items() if k == key and a != alias and a in result]
        if others:
            raise ConfigError(f"{source}: {alias} and {others[0]}: give one ({key})")
        result[key] = result.pop(alias)
    return result


#: For a config file's unknown field: the tunelab key to suggest for another library's keyword.
SUGGEST: dict[str, str] = {
    **{alias: key for alias, (key, _) in ALIASES.items()},
    "directions": "objectives",
    "timeout": "max_duration",
    "time_budget_s": "max_duration",
}
