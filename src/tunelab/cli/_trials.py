"""How ``tunelab trials`` and ``tunelab trial`` show trials: one column per parameter and
metric, filters by state, sorting, and one trial in full.

Parameter columns are named as the dashboard names them (:func:`tunelab.server._names.flatten_params`:
``opt/beta``, ``model=rf/max_depth``). The CSV keeps its ``param_<name>`` and
``metric_<name>`` headers; ``--columns`` and ``--sort`` take either form, or the bare name.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tunelab.errors import ConfigError, TunelabError, did_you_mean
from tunelab.errors import escape as _escape
from tunelab.runners._files import trial_log_path
from tunelab.server._names import flatten_params
from tunelab.storage import ExperimentRecord, Storage, TrialRecord, TrialState

#: The columns every trial has, in the order they are shown (``budget`` only when a scheduler gave one).
FIXED = ("number", "state", "value", "budget", "attempt", "duration", "started", "message")
#: What the table shows unless ``--columns`` says otherwise (then the parameters and metrics, message last).
DEFAULT_FIXED = ("number", "state", "value", "budget")


@dataclass(frozen=True)
class Column:
    """A column: its key in a row (``param_opt/beta``), its header and what kind of value it holds."""

    key: str
    header: str
    kind: str  # "fixed", "param" or "metric"


def _time(stamp: float | None) -> str | None:
    return None if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _cell(value: Any) -> Any:
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value


def rows_of(trials: Sequence[TrialRecord]) -> tuple[list[Column], list[dict[str, Any]]]:
    """Every column (fixed ones, each flat parameter, each metric) and one row per trial."""
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    flats = []
    for t in trials:
        flat = flatten_params(t.params)
        flats.append(flat)
        params.update(dict.fromkeys(flat))
        metrics.update(dict.fromkeys(str(k) for k in t.metrics))
    fixed = [f for f in FIXED if f != "budget" or any(t.budget is not None for t in trials)]
    columns = [Column(f, f, "fixed") for f in fixed]
    columns += [Column(f"param_{name}", name, "param") for name in params]
    columns += [Column(f"metric_{name}", name, "metric") for name in metrics]
    rows = []
    for t, flat in zip(trials, flats, strict=True):
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.value,
            "value": t.value,
            "budget": t.budget,
            "attempt": t.attempt,
            "duration": t.duration,
            "started": _time(t.started_at),
            "message": t.message or t.wait_reason,
        }
        row.update({f"param_{name}": _cell(flat.get(name)) for name in params})
        row.update({f"metric_{name}": _cell(t.metrics.get(name)) for name in metrics})
        rows.append(row)
    return columns, rows


def pick_columns(
    columns: list[Column], spec: str | None, *, table: bool, rows: Sequence[dict[str, Any]] = ()
) -> list[Column]:
    """The columns ``--columns a,b,c`` names (in that order), or the default set: for the table,
    number, state, value and budget, the parameters and metrics, duration, and the message
    unless no shown trial has one."""
    if spec is None:
        if not table:
            return columns
        fixed = [c for c in columns if c.kind == "fixed" and c.key in DEFAULT_FIXED]
        rest = [c for c in columns if c.kind != "fixed"]
        last = [c for c in columns if c.key == "duration"]
        if any(row["message"] for row in rows):
            last += [c for c in columns if c.key == "message"]
        return fixed + rest + last
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise ConfigError("--columns: name at least one column, e.g. --columns number,value")
    return [find_column(columns, name, "--columns") for name in names]


def find_column(columns: list[Column], name: str, option: str) -> Column:
    """A column by its key (``param_lr``), its header (``lr``), or ``#`` for the number."""
    name = "number" if name == "#" else name
    for column in columns:
        if name == column.key:
            return column
    for column in columns:  # a bare name: parameters first, then metrics
        if name == column.header:
            return column
    known = [c.header for c in columns]
    raise ConfigError(f"{option}: no column {_escape(name)!r}{did_you_mean(name, known)} (columns: {', '.join(known)})")


def parse_states(given: Sequence[str]) -> set[TrialState] | None:
    """``--state succeeded,failed`` (repeatable, any case) as states; None when not given."""
    if not given:
        return None
    names = [part.strip() for item in given for part in item.split(",") if part.strip()]
    known = [s.value for s in TrialState]
    states = set()
    for name in names:
        if name.upper() not in known:
            raise ConfigError(
                f"--state: {_escape(name)!r} is not a trial state{did_you_mean(name.upper(), known)} "
                f"({', '.join(k.lower() for k in known)})"
            )
        states.add(TrialState(name.upper()))
    return states


def sort_rows(rows: list[dict[str, Any]], columns: list[Column], spec: str | None) -> list[dict[str, Any]]:
    """Rows ordered by ``--sort COLUMN`` (``-COLUMN``: descending); empty cells last either way."""
    if spec is None:
        return rows
    descending = spec.startswith("-")
    column = find_column(columns, spec[1:] if descending else spec, "--sort")

    numbers: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    empty: list[dict[str, Any]] = []
    for row in rows:
        value = row[column.key]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            empty.append(row)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers.append(row)
        else:
            texts.append(row)
    numbers.sort(key=lambda r: r[column.key], reverse=descending)
    texts.sort(key=lambda r: str(r[column.key]), reverse=descending)
    return numbers + texts + empty


def format_cell(column: Column, value: Any) -> str:
    if value is None:
        return "-"
    if column.key == "duration":
        return f"{value:.1f}s"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


#: Columns whose cells never wrap.
_NO_WRAP = ("number", "state", "value", "started")


def column_widths(columns: list[Column], rows: list[dict[str, Any]]) -> dict[str, int]:
    """The width each column needs at least: its longest cell where cells do not wrap, else
    its header or longest cell up to 24 characters (longer ones fold)."""
    widths = {}
    for column in columns:
        longest = max((len(format_cell(column, row[column.key])) for row in rows), default=1)
        header = 1 if column.key == "number" else len(column.header)
        widths[column.key] = max(longest, header) if column.key in _NO_WRAP else min(max(longest, header), 24)
    return widths


def column_groups(columns: list[Column], widths: dict[str, int], width: int) -> list[list[Column]]:
    """Columns in groups that each fit ``width`` (every group starts with ``#`` when shown), so that
    a wide table is printed as several narrower ones rather than cut at the terminal's edge."""
    keys = [c for c in columns if c.key == "number"]
    start = 1 + sum(widths[c.key] + 3 for c in keys)
    groups: list[list[Column]] = []
    current: list[Column] = []
    used = start
    for column in columns:
        if column.key == "number":
            continue
        need = widths[column.key] + 3
        if current and used + need > width:
            groups.append(keys + current)
            current, used = [], start
        current.append(column)
        used += need
    if current or not groups:
        groups.append(keys + current)
    return groups


def print_table(title: str, columns: list[Column], rows: list[dict[str, Any]]) -> None:
    """A rich table in which each column wraps on its own (long values fold, messages wrap at
    60 characters); columns that do not fit beside each other go to a further table."""
    from rich.console import Console
    from rich.markup import escape as markup
    from rich.table import Table

    console = Console()
    widths = column_widths(columns, rows)
    groups = column_groups(columns, widths, console.width)
    for index, group in enumerate(groups):
        part = f" (columns {index + 1} of {len(groups)})" if len(groups) > 1 else ""
        table = Table(title=markup(title + part))
        for column in group:
            numeric = column.key in ("number", "value", "budget", "attempt", "duration")
            table.add_column(
                "#" if column.key == "number" else markup(_escape(column.header, 200)),
                justify="right" if numeric else "left",
                no_wrap=column.key in _NO_WRAP,
                overflow="fold",
                max_width=60 if column.key == "message" else None,
                min_width=widths[column.key],
            )
        for row in rows:
            table.add_row(*(markup(_escape(format_cell(c, row[c.key]), 2000)) for c in group))
        console.print(table)


# --------------------------------------------------------------------------- one trial


def trial_details(store: Storage, record: ExperimentRecord, number: int) -> dict[str, Any]:
    """Everything ``tunelab trial`` prints, as plain data."""
    trials = store.get_trials(record.id)
    numbers = [t.number for t in trials]
    if number not in numbers:
        have = f"its trials are numbered {numbers[0]} to {numbers[-1]}" if numbers else "it has no trials yet"
        raise TunelabError(f"experiment {_escape(record.id)} has no trial {number}: {have}")
    t = store.get_trial(record.id, number)
    logs = {}
    if t.trial_dir:
        streams: tuple[Literal["stdout", "stderr"], ...] = ("stdout", "stderr")
        for stream in streams:
            path = trial_log_path(t.trial_dir, stream)
            logs[stream] = {"path": str(path), "bytes": path.stat().st_size if path.is_file() else None}
    return {
        "experiment_id": record.id,
        **trial_json(t),
        "duration": t.duration,
        "history": [
            {"time": at, "state": state, "message": text} for at, state, text in store.get_events(record.id, number)
        ],
        "logs": logs,
    }


def trial_json(t: TrialRecord) -> dict[str, Any]:
    """A trial as ``tunelab trials --format json`` gives it (every field, its current attempt's reports)."""
    return {
        "id": t.id,
        "number": t.number,
        "state": t.state.value,
        "params": dict(t.params),
        "value": t.value,
        "metrics": dict(t.metrics),
        "attempt": t.attempt,
        "seed": t.seed,
        "budget": t.budget,
        "parent": t.parent,
        "checkpoint_from": t.checkpoint_from,
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "message": t.message,
        "wait_reason": t.wait_reason,
        "trial_dir": t.trial_dir,
        "intermediate": [
            {"step": r.step, "value": r.value, "metrics": dict(r.metrics), "time": r.time} for r in t.intermediate
        ],
        "warnings": list(t.warnings),
    }


def trial_lines(d: dict[str, Any]) -> list[str]:
    """``tunelab trial`` as lines of text (every text a trial or user wrote escaped)."""
    e = _escape
    lines = [f"trial {d['number']} of experiment {e(d['experiment_id'])}: {d['state']}"]
    lines.append(f"  value:    {'-' if d['value'] is None else format(d['value'], '.6g')}")
    if d["message"] or d["wait_reason"]:
        lines.append(f"  message:  {e(d['message'] or d['wait_reason'], 4000)}")
    lines.append("  params:")
    lines += [f"    {e(k)} = {e(json.dumps(v, default=str))}" for k, v in flatten_params(d["params"]).items()]
    if d["metrics"]:
        lines.append("  metrics:")
        lines += [f"    {e(k)} = {e(json.dumps(v, default=str))}" for k, v in d["metrics"].items()]
    plan = [f"attempt {d['attempt']}", f"seed {d['seed']}"]
    plan += [f"{k} {d[k]}" for k in ("budget", "parent", "checkpoint_from") if d[k] is not None]
    lines.append("  run:      " + ", ".join(plan))
    duration = "" if d["duration"] is None else f" ({d['duration']:.1f} s)"
    lines.append(f"  time:     started {_time(d['started_at']) or '-'}, ended {_time(d['ended_at']) or '-'}{duration}")
    curve = d["intermediate"]
    if curve:
        last = curve[-1]
        value = "-" if last["value"] is None else format(last["value"], ".6g")
        lines.append(f"  reports:  {len(curve)} intermediate, the last at step {last['step']}: {value}")
    for warning in d["warnings"]:
        lines.append(f"  warning:  {e(warning)}")
    lines.append("  history:")
    for item in d["history"]:
        note = f"  {e(item['message'], 300)}" if item["message"] else ""
        lines.append(f"    {_time(item['time'])}  {item['state']}{note}")
    if d["trial_dir"]:
        lines.append(f"  folder:   {e(d['trial_dir'])}")
        for stream, log in d["logs"].items():
            size = "not written" if log["bytes"] is None else f"{log['bytes']} bytes"
            lines.append(f"  {stream + ':':9} {e(log['path'])} ({size})")
        flag = " --stderr" if d["state"] == TrialState.FAILED.value else ""
        lines.append(f"  logs:     tunelab logs {e(d['experiment_id'])} {d['number']}{flag}")
    else:
        lines.append("  folder:   none yet (the trial has not started)")
    return lines
