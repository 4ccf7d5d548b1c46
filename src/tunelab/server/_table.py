"""The trials table: one cached snapshot of an experiment's trials, filtered, sorted and
paged on the server so that the browser only ever holds one page, even at 10,000 trials."""

from __future__ import annotations

import csv
import io
import json
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunelab.server._analysis import is_number
from tunelab.server._names import flatten_params
from tunelab.storage import ExperimentRecord, Phase, Storage, TrialRecord, TrialState

#: Sort keys besides ``param:NAME`` and ``metric:NAME``.
BASE_SORT_KEYS = ("number", "state", "value", "duration", "started_at", "ended_at", "attempt")
_STATE_ORDER = {state: i for i, state in enumerate(TrialState)}


class Row:
    """A trial as the table shows it, with flat parameter names (search text made on first use)."""

    __slots__ = ("trial", "params", "_search_text")

    def __init__(self, trial: TrialRecord, params: dict[str, Any]) -> None:
        self.trial = trial
        self.params = params
        self._search_text: str | None = None

    @property
    def search_text(self) -> str:
        if self._search_text is None:
            t = self.trial
            parts = [str(t.number), t.state.value, json.dumps(self.params, default=str), t.message]
            self._search_text = " ".join(parts).lower()
        return self._search_text

    def as_json(self, now: float) -> dict[str, Any]:
        t = self.trial
        end = t.ended_at if t.ended_at is not None else (now if t.state == TrialState.RUNNING else None)
        return {
            "number": t.number,
            "state": t.state.value,
            "value": _json_number(t.value),
            "params": {k: _json_number(v) for k, v in self.params.items()},
            "metrics": {k: _json_number(v) for k, v in t.metrics.items()},
            "attempt": t.attempt,
            "budget": t.budget,
            "parent": t.parent,
            "checkpoint_from": t.checkpoint_from,
            "started_at": t.started_at,
            "ended_at": t.ended_at,
            "duration": None if t.started_at is None or end is None else end - t.started_at,
            "message": t.message,
            "wait_reason": t.wait_reason,
        }


def _json_number(value: Any) -> Any:
    """Infinities and NaN are not JSON; send them as strings the UI shows as they are."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


@dataclass
class Snapshot:
    experiment: ExperimentRecord
    rows: list[Row]
    param_names: list[str]
    metric_names: list[str]
    taken_at: float = field(default_factory=time.monotonic)

    @property
    def trials(self) -> list[TrialRecord]:
        return [r.trial for r in self.rows]


def make_row(trial: TrialRecord) -> Row:
    return Row(trial, flatten_params(trial.params))


class SnapshotCache:
    """Trials read at most every ``max_age`` seconds per experiment while it runs, and
    once for an ended one (until its phase, end or heartbeat changes, as on a resume)."""

    def __init__(self, storage: Storage, max_age: float = 0.5) -> None:
        self.storage = storage
        self.max_age = max_age
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[Any, ...], Snapshot]] = {}

    def get(self, experiment_id: str) -> Snapshot:
        record = self.storage.get_experiment(experiment_id)
        key = (record.phase, record.ended_at, record.heartbeat_at, record.elapsed)
        with self._lock:
            cached = self._cache.get(experiment_id)
        if cached is not None and cached[0] == key:
            fresh = record.phase.is_final or time.monotonic() - cached[1].taken_at < self.max_age
            if fresh:
                cached[1].experiment = record
                return cached[1]
        trials = self.storage.get_trials(experiment_id)
        rows = [make_row(t) for t in trials]
        param_names: dict[str, None] = {}
        metric_names: dict[str, None] = {}
        for row in rows:
            param_names.update(dict.fromkeys(row.params))
            metric_names.update(dict.fromkeys(row.trial.metrics))
        snapshot = Snapshot(record, rows, list(param_names), list(metric_names))
        with self._lock:
            self._cache[experiment_id] = (key, snapshot)
        return snapshot


@dataclass(frozen=True)
class RangeFilter:
    """``key:low:high`` with key ``value``, ``duration``, ``number``, ``param:NAME`` or
    ``metric:NAME``; an empty bound is open."""

    key: str
    low: float | None
    high: float | None

    @classmethod
    def parse(cls, text: str) -> RangeFilter:
        parts = text.rsplit(":", 2)
        if len(parts) != 3 or not parts[0]:
            raise ValueError(f"range filter must read KEY:LOW:HIGH (either bound may be empty), got {text!r}")
        key, low, high = parts
        try:
            lo = float(low) if low.strip() else None
            hi = float(high) if high.strip() else None
        except ValueError:
            raise ValueError(f"range filter {text!r}: bounds must be numbers") from None
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"range filter {text!r}: low <= high must hold, got low={lo}, high={hi}")
        _check_key(key)
        return cls(key, lo, hi)

    def accepts(self, row: Row, now: float) -> bool:
        value = _field(row, self.key, now)
        if not is_number(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def _check_key(key: str) -> None:
    if key in BASE_SORT_KEYS or (key.startswith(("param:", "metric:")) and len(key) > key.index(":") + 1):
        return
    raise ValueError(f"unknown column {key!r}: use one of {', '.join(BASE_SORT_KEYS)}, param:NAME or metric:NAME")


def _field(row: Row, key: str, now: float) -> Any:
    t = row.trial
    if key == "number":
        return t.number
    if key == "state":
        return _STATE_ORDER[t.state]
    if key == "value":
        return t.value
    if key == "duration":
        end = t.ended_at if t.ended_at is not None else (now if t.state == TrialState.RUNNING else None)
        return None if t.started_at is None or end is None else end - t.started_at
    if key in ("started_at", "ended_at", "attempt"):
        return getattr(t, key)
    kind, _, name = key.partition(":")
    return row.params.get(name) if kind == "param" else t.metrics.get(name)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text, both before missing values."""
    if is_number(value):
        return (0, float(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (2, 0.0)
    if isinstance(value, float):  # an infinity
        return (0, value)
    return (1, str(value))


@dataclass(frozen=True)
class Query:
    states: tuple[TrialState, ...] = ()
    search: str = ""
    ranges: tuple[RangeFilter, ...] = ()
    sort: str = "number"
    descending: bool = False

    def select(self, rows: Sequence[Row], now: float) -> list[Row]:
        _check_key(self.sort)
        needle = self.search.strip().lower()
        chosen: Iterable[Row] = rows
        if self.states:
            states = set(self.states)
            chosen = (r for r in chosen if r.trial.state in states)
        if needle:
            chosen = (r for r in chosen if needle in r.search_text)
        for f in self.ranges:
            chosen = [r for r in chosen if f.accepts(r, now)]
        result = list(chosen)
        if self.sort == "number":  # storage gives them in order
            if self.descending:
                result.reverse()
        else:
            present = [r for r in result if _sort_key(_field(r, self.sort, now))[0] < 2]
            missing = [r for r in result if _sort_key(_field(r, self.sort, now))[0] == 2]
            present.sort(key=lambda r: _sort_key(_field(r, self.sort, now)), reverse=self.descending)
            result = present + missing  # missing values last in either direction
        return result


def to_csv(rows: Sequence[Row], param_names: Sequence[str], metric_names: Sequence[str], now: float) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "number",
            "state",
            "value",
            *[f"param:{p}" for p in param_names],
            *[f"metric:{m}" for m in metric_names],
            "started_at",
            "ended_at",
            "duration",
            "attempt",
            "message",
        ]
    )
    for row in rows:
        data = row.as_json(now)
        writer.writerow(
            [
                data["number"],
                data["state"],
                _cell(data["value"]),
                *[_cell(row.params.get(p)) for p in param_names],
                *[_cell(row.trial.metrics.get(m)) for m in metric_names],
                _cell(data["started_at"]),
                _cell(data["ended_at"]),
                _cell(data["duration"]),
                data["attempt"],
                _cell(data["message"]),
            ]
        )
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """Numbers as they are; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def is_live(record: ExperimentRecord) -> bool:
    return record.phase in (Phase.PENDING, Phase.RUNNING)
