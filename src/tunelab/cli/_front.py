"""``tunelab best`` for several objectives: every trial of the Pareto front, and the knee as the suggested choice.

The front and the knee follow the one rule of :mod:`tunelab.storage._best`; ``--json`` prints
the shape ``best_params.json`` has (:func:`tunelab.storage._best.front_summary`) plus each
front trial's secondary metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tunelab.errors import TunelabError, escape
from tunelab.storage import ExperimentRecord, TrialRecord, TrialState, knee_trial, pareto_front
from tunelab.storage._best import front_summary


def front_data(record: ExperimentRecord, trials: list[TrialRecord], objectives: Mapping[str, str]) -> dict[str, Any]:
    """The front of ``trials`` as ``tunelab best --json`` prints it; a TunelabError when no trial competes."""
    front = pareto_front(trials, objectives)
    knee = knee_trial(trials, objectives)
    if not front or knee is None:
        succeeded = [t for t in trials if t.state == TrialState.SUCCEEDED]
        infeasible = sum(not t.feasible for t in succeeded)
        note = f" ({infeasible} succeeded but broke the constraints)" if infeasible else ""
        raise TunelabError(f"experiment {escape(record.id)} has no successful feasible trial yet{note}")
    data = front_summary(record.id, objectives, [(t.number, t.values or {}, t.params) for t in front], knee.number)
    metrics = {t.number: dict(t.metrics) for t in front}
    for entry in data["front"]:
        entry["metrics"] = metrics[entry["trial"]]
    data["finished"] = sum(t.state == TrialState.SUCCEEDED for t in trials)
    data["infeasible"] = sum(t.state == TrialState.SUCCEEDED and not t.feasible for t in trials)
    return data


def front_lines(data: Mapping[str, Any]) -> list[str]:
    """The front for a terminal: one line per trial (its objective values), the knee marked, then its parameters."""
    objectives = data["objectives"]
    heading = ", ".join(f"{escape(name)} ({direction})" for name, direction in objectives.items())
    count = len(data["front"])
    lines = [
        f"Pareto front: {count} trial{'' if count == 1 else 's'} of {data['finished']} that succeeded; {heading}"
        + (f"; {data['infeasible']} infeasible left out" if data["infeasible"] else "")
    ]
    for entry in data["front"]:
        values = "  ".join(f"{escape(name)}={_number(entry['values'].get(name))}" for name in objectives)
        mark = "  <- suggested (knee)" if entry["trial"] == data["trial"] else ""
        lines.append(f"  trial {entry['trial']}: {values}{mark}")
    lines.append(f"suggested trial {data['trial']} ({data['rule'].removeprefix('suggested single choice: ')}):")
    for key, value in data["params"].items():
        lines.append(f"  {escape(key)} = {json.dumps(value, default=str)}")
    return lines


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"
