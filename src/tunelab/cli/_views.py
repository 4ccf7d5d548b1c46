"""How the CLI shows experiments and trials: rich tables for people, dicts for ``--json``."""

from __future__ import annotations

import json
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tunelab.engine import best_trial
from tunelab.storage import ExperimentRecord, Storage, TrialRecord, TrialState

_console = Console()


def _time(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def experiments_table(records: list[ExperimentRecord]) -> None:
    table = Table(title="experiments")
    for column in ("id", "name", "phase", "created", "message"):
        table.add_column(column)
    for r in records:
        table.add_row(r.id, escape(r.name), r.phase.value, _time(r.created_at), escape(r.message[:60]))
    _console.print(table)


def experiment_summary(store: Storage, experiment_id: str) -> dict[str, Any]:
    """Everything ``show`` prints, as plain data."""
    record = store.get_experiment(experiment_id)
    trials = store.get_trials(experiment_id)
    config = dict(record.config)
    counts = {state.value: sum(t.state == state for t in trials) for state in TrialState}
    best = best_trial(trials, config.get("mode", "min"))
    waiting = [{"trial": t.number, "reason": t.wait_reason} for t in trials if t.state == TrialState.WAITING]
    return {
        "id": record.id,
        "name": record.name,
        "phase": record.phase.value,
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
        "best": None if best is None else {"trial": best.number, "value": best.value, "params": best.params},
        "experiment_dir": record.experiment_dir,
        "warnings": list(record.warnings),
        "config": config,
    }


def show_experiment(s: dict[str, Any]) -> None:
    table = Table(title=f"experiment {s['id']} ({escape(s['name'])})", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("phase", s["phase"] + (f": {escape(s['message'])}" if s["message"] else ""))
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
        table.add_row(
            "best", f"{s['best']['value']:.6g} (trial {s['best']['trial']}) {escape(_short(s['best']['params'], 200))}"
        )
    table.add_row("folder", escape(s["experiment_dir"]))
    table.add_row("format", s["format"])
    for warning in s["warnings"]:
        table.add_row("warning", escape(warning))
    table.add_row("created", _time(s["created_at"]))
    table.add_row("ended", _time(s["ended_at"]))
    _console.print(table)


def trial_rows(trials: list[TrialRecord]) -> list[dict[str, Any]]:
    """Flat rows for CSV: one column per parameter and metric."""
    param_names: list[str] = []
    metric_names: list[str] = []
    for t in trials:
        param_names += [k for k in t.params if k not in param_names]
        metric_names += [k for k in t.metrics if k not in metric_names]
    rows = []
    for t in trials:
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.value,
            "value": t.value,
            "attempt": t.attempt,
            "duration": t.duration,
            "message": t.message,
        }
        for name in param_names:
            value = t.params.get(name)
            row[f"param_{name}"] = json.dumps(value) if isinstance(value, (dict, list)) else value
        for name in metric_names:
            row[f"metric_{name}"] = t.metrics.get(name)
        rows.append(row)
    return rows


def trials_table(trials: list[TrialRecord]) -> None:
    table = Table(title="trials")
    for column in ("#", "state", "value", "duration", "params", "message"):
        table.add_column(column)
    for t in trials:
        value = "-" if t.value is None else f"{t.value:.6g}"
        duration = "-" if t.duration is None else f"{t.duration:.1f}s"
        note = t.message or t.wait_reason
        table.add_row(str(t.number), t.state.value, value, duration, escape(_short(dict(t.params))), escape(note[:50]))
    _console.print(table)
