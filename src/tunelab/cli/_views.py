"""How the CLI shows experiments and trials: rich tables for people, dicts for ``--json``.

"Best" is :func:`tunelab.storage.best_trial` (the rule the engine, ``best_params.json`` and
the dashboard use); whether a RUNNING experiment's engine still runs is
:func:`tunelab.server._liveness.engine_liveness` (the dashboard's rule too). Every text a
user or a trial wrote (names, keys, messages) has its control characters escaped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape as _markup
from rich.table import Table

from tunelab.errors import escape as _escape
from tunelab.server._liveness import engine_liveness, phase_label
from tunelab.storage import ExperimentRecord, Storage, TrialRecord, TrialState, best_trial, objectives_of, pareto_front


def escape(text: object, limit: int = 10_000) -> str:
    """Text for a rich table cell: control characters escaped, then rich markup."""
    return _markup(_escape(text, limit))


def _console() -> Console:
    return Console()


def _time(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _engine(record: ExperimentRecord, now: float | None) -> dict[str, Any]:
    liveness = engine_liveness(record, now=now)
    return {
        "phase_label": phase_label(record, liveness, _time),
        "engine_responding": liveness.responding,
        "engine_silent_since": liveness.since if not liveness.responding else None,
        "engine_note": liveness.reason,
    }


def _best(trials: list[TrialRecord], config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The best trial; with several objectives the Pareto front's knee (``value`` None, ``front`` its size)."""
    objectives = objectives_of(config)
    best = best_trial(trials, str(config.get("mode", "min")), objectives)
    if best is None:
        return None
    found = {"trial": best.number, "value": best.value, "params": dict(best.params)}
    if objectives:
        found.update(value=None, values=dict(best.values or {}), front=len(pareto_front(trials, objectives)))
    return found


def _best_text(best: Mapping[str, Any]) -> str:
    if best.get("front") is not None:
        return f"front of {best['front']}, knee trial {best['trial']}"
    return f"{best['value']:.6g} (trial {best['trial']})"


def experiment_items(store: Storage, *, now: float | None = None) -> list[dict[str, Any]]:
    """What ``list`` prints, newest first, as plain data."""
    items = []
    for record in store.list_experiments():
        mode = str(record.config.get("mode", "min"))
        items.append(
            {
                "id": record.id,
                "name": record.name,
                "phase": record.phase.value,
                **_engine(record, now),
                "created_at": record.created_at,
                "message": record.message,
                "mode": mode,
                "best": _best(store.get_trials(record.id), record.config),
            }
        )
    return items


def experiments_table(items: list[dict[str, Any]]) -> None:
    table = Table(title="experiments")
    for column in ("id", "name", "phase", "best", "created", "message"):
        table.add_column(column)
    for item in items:
        best = item["best"]
        table.add_row(
            escape(item["id"]),
            escape(item["name"]),
            escape(item["phase_label"]),
            "-" if best is None else _best_text(best),
            _time(item["created_at"]),
            escape(item["message"], 60),
        )
    _console().print(table)


def experiment_summary(store: Storage, experiment_id: str, *, now: float | None = None) -> dict[str, Any]:
    """Everything ``show`` prints, as plain data."""
    record = store.get_experiment(experiment_id)
    trials = store.get_trials(experiment_id)
    config = dict(record.config)
    counts = {state.value: sum(t.state == state for t in trials) for state in TrialState}
    waiting = [{"trial": t.number, "reason": t.wait_reason} for t in trials if t.state == TrialState.WAITING]
    return {
        "id": record.id,
        "name": record.name,
        "phase": record.phase.value,
        **_engine(record, now),
        "message": record.message,
        "format": record.format,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "elapsed": record.elapsed,
        "max_trials": config.get("max_trials"),
        "max_duration": config.get("max_duration"),
        "concurrency": config.get("concurrency"),
        "trials": counts,
        "total_trials": len(trials),
        "waiting_reason": record.waiting_reason,
        "waiting_trials": waiting,
        "best": _best(trials, config),
        "experiment_dir": record.experiment_dir,
        "warnings": list(record.warnings),
        "config": config,
    }


def show_experiment(s: dict[str, Any]) -> None:
    table = Table(title=f"experiment {s['id']} ({escape(s['name'])})", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("phase", escape(s["phase_label"]) + (f": {escape(s['message'])}" if s["message"] else ""))
    limit = s["max_trials"] or "no limit"
    done = sum(v for k, v in s["trials"].items() if k not in ("WAITING", "RUNNING"))
    table.add_row(
        "trials", f"{done} of {limit} finished; " + ", ".join(f"{k.lower()} {v}" for k, v in s["trials"].items() if v)
    )
    duration = s["max_duration"]
    table.add_row("time", f"{s['elapsed']:.1f} s elapsed" + (f" of {duration:g} s" if duration else ""))
    table.add_row("concurrency", str(s["concurrency"]))
    if s["waiting_reason"]:
        table.add_row("waiting", escape(s["waiting_reason"]))
    for item in s["waiting_trials"]:
        table.add_row(f"trial {item['trial']} waits", escape(item["reason"] or "-"))
    if s["best"]:
        table.add_row("best", f"{_best_text(s['best'])} {escape(_short(s['best']['params'], 200))}")
    table.add_row("folder", escape(s["experiment_dir"]))
    table.add_row("format", escape(s["format"]))
    for warning in s["warnings"]:
        table.add_row("warning", escape(warning))
    table.add_row("created", _time(s["created_at"]))
    table.add_row("ended", _time(s["ended_at"]))
    _console().print(table)
