"""What SQLite and PostgreSQL storage share: the SQL of every method, JSON columns, row decoding.

A backend gives :class:`SQLStorage` a ``_transaction()`` context that yields something
with ``execute(sql, args) -> cursor`` taking ``?`` placeholders, a ``_query(sql, args)``
for reads, and the few clauses in which the two dialects differ.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tunelab.errors import ExperimentNotFound, StorageError
from tunelab.storage._base import MAX_TRIAL_WARNINGS, MAX_WARNING_CHARS, Storage, TrialNumberTaken
from tunelab.storage._records import (
    ExperimentRecord,
    IntermediateResult,
    Phase,
    Request,
    RequestKind,
    TrialRecord,
    TrialState,
)

SCHEMA_VERSION = 4

#: What brings a database of the version before each key up to it (run inside the opener's transaction).
_UPGRADES: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE trials ADD COLUMN budget INTEGER",
        "ALTER TABLE trials ADD COLUMN parent INTEGER",
        "ALTER TABLE trials ADD COLUMN checkpoint_from INTEGER",
    ),
    3: (
        # Intermediate results are kept per attempt. Older rows of a trial that ran more than
        # once mix its attempts, which nothing can tell apart now: attempt 0, "not known".
        "ALTER TABLE intermediate ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1",
        "UPDATE intermediate SET attempt = 0 WHERE EXISTS (SELECT 1 FROM trials t"
        " WHERE t.experiment_id = intermediate.experiment_id AND t.number = intermediate.number AND t.attempt > 1)",
        "ALTER TABLE trials ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE trials ADD COLUMN warnings_dropped INTEGER NOT NULL DEFAULT 0",
    ),
    4: (
        # Several objectives: each trial's and each report's values by objective name (NULL for
        # one objective, as every older row has), and by how much the trial broke its constraints.
        "ALTER TABLE trials ADD COLUMN objective_values TEXT",
        "ALTER TABLE trials ADD COLUMN violation REAL",
        "ALTER TABLE intermediate ADD COLUMN objective_values TEXT",
    ),
}

#: A metrics mapping whose JSON is longer than this is not stored (the engine caps a report far below it).
MAX_METRICS_CHARS = 64 * 1024

_EVENT = "INSERT INTO events (experiment_id, number, time, state, message) VALUES (?, ?, ?, ?, ?)"
_EXPERIMENT_EVENT = "INSERT INTO events (experiment_id, number, time, state, message) VALUES (?, NULL, ?, ?, ?)"

_EXPERIMENT_FIELDS = {
    "name", "phase", "message", "started_at", "ended_at", "elapsed", "experiment_dir", "engine_pid",
    "engine_host", "heartbeat_at", "stop_requested", "waiting_reason", "config", "warnings",
}  # fmt: skip
_TRIAL_FIELDS = {
    "state", "params", "value", "metrics", "attempt", "seed", "started_at", "ended_at", "message",
    "wait_reason", "trial_dir", "pid", "pid_start", "values", "violation",
}  # fmt: skip
#: Record fields stored under another column name (``values`` is an SQL keyword).
_COLUMNS = {"values": "objective_values"}
_JSON_FIELDS = {"config", "params", "metrics", "warnings"}


def upgrade_schema(conn: Any, found: int) -> None:
    """Bring a database of schema version ``found`` (not newer than this tunelab's) up to :data:`SCHEMA_VERSION`."""
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for statement in _UPGRADES[version]:
            conn.execute(statement)
    if found < SCHEMA_VERSION:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_default, allow_nan=True)


def _default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def _metrics_json(metrics: Mapping[str, Any]) -> tuple[str, str]:
    """The metrics as stored, and a warning when they were too large to store (then ``{}``)."""
    text = _dumps(dict(metrics))
    if len(text) <= MAX_METRICS_CHARS:
        return text, ""
    return "{}", f"metrics of {len(text)} characters not stored (the limit is {MAX_METRICS_CHARS})"


def _values_json(values: Mapping[str, Any] | None) -> str | None:
    """Objective values as stored: a JSON object in the objectives' order, NaN as null; None for one objective."""
    if values is None:
        return None
    return _dumps({str(name): _finite_or_none(value) for name, value in values.items()})


def _values(text: str | None) -> dict[str, float | None] | None:
    return None if text is None else dict(json.loads(text))


def _finite_or_none(value: Any) -> float | None:
    """NaN is stored as NULL; infinities are kept."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class SQLStorage(Storage):
    """The storage methods in SQL common to SQLite and PostgreSQL; see the module docstring."""

    path: Any
    #: The driver's exceptions for a violated primary key.
    _integrity_errors: tuple[type[BaseException], ...] = ()
    #: Appended to the claim query (``FOR UPDATE SKIP LOCKED`` where rows can be locked).
    _skip_locked = ""
    #: Appended to a query that must lock the row it reads (``FOR UPDATE``).
    _row_lock = ""
    #: The column that orders events as they were written.
    _event_order = "rowid"

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        raise NotImplementedError

    # ------------------------------------------------------------ experiments
    def create_experiment(
        self,
        experiment_id: str,
        *,
        name: str,
        config: Mapping[str, Any],
        format: str,
        experiment_dir: str,
        warnings: tuple[str, ...] = (),
    ) -> ExperimentRecord:
        now = time.time()
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO experiments (id, name, phase, config, format, created_at, experiment_dir, warnings)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        experiment_id,
                        name,
                        Phase.PENDING.value,
                        _dumps(dict(config)),
                        format,
                        now,
                        experiment_dir,
                        _dumps(list(warnings)),
                    ),
                )
            except self._integrity_errors:
                raise StorageError(f"storage: experiment {experiment_id!r} exists already") from None
            conn.execute(_EXPERIMENT_EVENT, (experiment_id, now, Phase.PENDING.value, "created"))
        return self.get_experiment(experiment_id)

    def get_experiment(self, experiment_id: str) -> ExperimentRecord:
        rows = self._query("SELECT * FROM experiments WHERE id = ?", (experiment_id,))
        if not rows:
            raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self.path}")
        return _experiment(rows[0])

    def list_experiments(self) -> list[ExperimentRecord]:
        return [_experiment(r) for r in self._query("SELECT * FROM experiments ORDER BY created_at DESC")]

    def update_experiment(self, experiment_id: str, **fields: Any) -> None:
        unknown = set(fields) - _EXPERIMENT_FIELDS
        if unknown:
            raise StorageError(f"storage: unknown experiment field {sorted(unknown)[0]!r}")
        columns, values = _assignments(fields)
        with self._transaction() as conn:
            cursor = conn.execute(f"UPDATE experiments SET {columns} WHERE id = ?", (*values, experiment_id))
            if cursor.rowcount == 0:
                raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self.path}")
            if "phase" in fields:
                conn.execute(
                    _EXPERIMENT_EVENT,
                    (experiment_id, time.time(), Phase(fields["phase"]).value, fields.get("message", "")),
                )

    def delete_experiment(self, experiment_id: str) -> None:
        with self._transaction() as conn:
            for table in ("intermediate", "events", "requests", "trials"):
                conn.execute(f"DELETE FROM {table} WHERE experiment_id = ?", (experiment_id,))
            cursor = conn.execute("DELETE FROM experiments WHERE id = ?", (experiment_id,))
            if cursor.rowcount == 0:
                raise ExperimentNotFound(f"no experiment with id {experiment_id!r} in {self.path}")

    def request_stop(self, experiment_id: str) -> None:
        self.update_experiment(experiment_id, stop_requested=True)

    def add_request(self, experiment_id: str, kind: RequestKind, payload: Mapping[str, Any] | None = None) -> int:
        self.get_experiment(experiment_id)
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO requests (experiment_id, kind, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                (experiment_id, RequestKind(kind).value, _dumps(dict(payload or {})), time.time()),
            )
            return int(cursor.fetchone()[0])

    def get_requests(self, experiment_id: str, *, open_only: bool = True) -> list[Request]:
        sql = "SELECT * FROM requests WHERE experiment_id = ?" + (" AND handled_at IS NULL" if open_only else "")
        return [
            Request(
                id=r["id"],
                experiment_id=r["experiment_id"],
                kind=RequestKind(r["kind"]),
                payload=json.loads(r["payload"]),
                created_at=r["created_at"],
                handled_at=r["handled_at"],
                outcome=r["outcome"],
            )
            for r in self._query(sql + " ORDER BY id", (experiment_id,))
        ]

    def close_request(self, request_id: int, outcome: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE requests SET handled_at = ?, outcome = ? WHERE id = ?", (time.time(), outcome, request_id)
            )

    # ------------------------------------------------------------ trials
    def create_trial(self, record: TrialRecord) -> None:
        now = record.created_at or time.time()
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO trials (experiment_id, number, state, params, attempt, seed, created_at, started_at,"
                    " message, wait_reason, trial_dir, budget, parent, checkpoint_from)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.experiment_id,
                        record.number,
                        record.state.value,
                        _dumps(dict(record.params)),
                        record.attempt,
                        record.seed,
                        now,
                        record.started_at,
                        record.message,
                        record.wait_reason,
                        record.trial_dir,
                        record.budget,
                        record.parent,
                        record.checkpoint_from,
                    ),
                )
            except self._integrity_errors:
                raise TrialNumberTaken(record.experiment_id, record.number) from None
            conn.execute(
                _EVENT,
                (record.experiment_id, record.number, now, record.state.value, record.wait_reason or record.message),
            )

    def claim_trial(self, experiment_id: str, number: int | None = None) -> TrialRecord | None:
        # SQLite: BEGIN IMMEDIATE takes the write lock first; PostgreSQL: the row lock, skipping rows others hold.
        with self._transaction() as conn:
            sql = "SELECT number FROM trials WHERE experiment_id = ? AND state = ?"
            args: tuple[Any, ...] = (experiment_id, TrialState.WAITING.value)
            if number is not None:
                sql, args = sql + " AND number = ?", (*args, number)
            row = conn.execute(sql + " ORDER BY number LIMIT 1" + self._skip_locked, args).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE trials SET state = ?, started_at = ?, wait_reason = '' WHERE experiment_id = ? AND number = ?",
                (TrialState.RUNNING.value, time.time(), experiment_id, row[0]),
            )
        return self.get_trial(experiment_id, row[0])

    def update_trial(self, experiment_id: str, number: int, **fields: Any) -> None:
        unknown = set(fields) - _TRIAL_FIELDS
        if unknown:
            raise StorageError(f"storage: unknown trial field {sorted(unknown)[0]!r}")
        if "value" in fields:
            fields["value"] = _finite_or_none(fields["value"])
        if "values" in fields:
            fields["values"] = _values_json(fields["values"])
        warning = ""
        if "metrics" in fields:
            _, warning = _metrics_json(fields["metrics"])
            if warning:
                fields["metrics"] = {}
        columns, values = _assignments(fields)
        with self._transaction() as conn:
            cursor = conn.execute(
                f"UPDATE trials SET {columns} WHERE experiment_id = ? AND number = ?", (*values, experiment_id, number)
            )
            if cursor.rowcount == 0:
                raise StorageError(f"storage: no trial {number} in experiment {experiment_id!r}")
            if warning:
                self._add_warning(conn, experiment_id, number, f"final result: {warning}")
            if "state" in fields:
                message = fields.get("message") or fields.get("wait_reason") or ""
                conn.execute(
                    _EVENT,
                    (experiment_id, number, time.time(), TrialState(fields["state"]).value, message),
                )

    def add_intermediate(self, experiment_id: str, number: int, result: IntermediateResult) -> None:
        metrics, warning = _metrics_json(result.metrics)
        with self._transaction() as conn:
            # PostgreSQL: the trial row's lock orders writers of one curve (SQLite's write lock does already).
            conn.execute(
                "SELECT number FROM trials WHERE experiment_id = ? AND number = ?" + self._row_lock,
                (experiment_id, number),
            )
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM intermediate WHERE experiment_id = ? AND number = ?",
                (experiment_id, number),
            ).fetchone()
            conn.execute(
                "INSERT INTO intermediate (experiment_id, number, seq, step, value, metrics, time, attempt,"
                " objective_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    experiment_id,
                    number,
                    seq,
                    result.step,
                    _finite_or_none(result.value),
                    metrics,
                    result.time or time.time(),
                    result.attempt,
                    _values_json(result.values),
                ),
            )
            if warning:
                self._add_warning(conn, experiment_id, number, f"report at step {result.step}: {warning}")

    def get_intermediate(
        self, experiment_id: str, number: int, attempt: int | None = None
    ) -> tuple[IntermediateResult, ...]:
        if attempt is None:
            attempt = self.get_trial(experiment_id, number).attempt
        rows = self._query(
            "SELECT step, value, metrics, time, attempt, objective_values FROM intermediate"
            " WHERE experiment_id = ? AND number = ? AND attempt = ? ORDER BY seq",
            (experiment_id, number, attempt),
        )
        return tuple(_intermediate(r) for r in rows)

    def add_trial_warning(self, experiment_id: str, number: int, text: str) -> None:
        with self._transaction() as conn:
            self._add_warning(conn, experiment_id, number, text)

    def _add_warning(self, conn: Any, experiment_id: str, number: int, text: str) -> None:
        # PostgreSQL: the row lock makes the read-modify-write of the list safe against other writers.
        row = conn.execute(
            "SELECT warnings FROM trials WHERE experiment_id = ? AND number = ?" + self._row_lock,
            (experiment_id, number),
        ).fetchone()
        if row is None:
            raise StorageError(f"storage: no trial {number} in experiment {experiment_id!r}")
        kept = json.loads(row[0])
        if len(kept) >= MAX_TRIAL_WARNINGS:
            conn.execute(
                "UPDATE trials SET warnings_dropped = warnings_dropped + 1 WHERE experiment_id = ? AND number = ?",
                (experiment_id, number),
            )
            return
        text = str(text)
        if len(text) > MAX_WARNING_CHARS:
            text = text[: MAX_WARNING_CHARS - 3] + "..."
        conn.execute(
            "UPDATE trials SET warnings = ? WHERE experiment_id = ? AND number = ?",
            (_dumps([*kept, text]), experiment_id, number),
        )

    def get_trials(
        self, experiment_id: str, *, states: tuple[TrialState, ...] | None = None, with_intermediate: bool = False
    ) -> list[TrialRecord]:
        sql, args = "SELECT * FROM trials WHERE experiment_id = ?", [experiment_id]
        if states:
            sql += f" AND state IN ({', '.join('?' * len(states))})"
            args += [s.value for s in states]
        rows = self._query(sql + " ORDER BY number", tuple(args))
        curves: dict[int, list[IntermediateResult]] = {}
        if with_intermediate:
            # Each trial's current attempt only: a retried trial's curve never mixes its runs.
            for r in self._query(
                "SELECT i.number, i.step, i.value, i.metrics, i.time, i.attempt, i.objective_values FROM intermediate i"
                " JOIN trials t ON t.experiment_id = i.experiment_id AND t.number = i.number AND t.attempt = i.attempt"
                " WHERE i.experiment_id = ? ORDER BY i.number, i.seq",
                (experiment_id,),
            ):
                curves.setdefault(r["number"], []).append(_intermediate(r))
        return [_trial(r, tuple(curves.get(r["number"], ()))) for r in rows]

    def get_trial(self, experiment_id: str, number: int) -> TrialRecord:
        rows = self._query("SELECT * FROM trials WHERE experiment_id = ? AND number = ?", (experiment_id, number))
        if not rows:
            raise StorageError(f"storage: no trial {number} in experiment {experiment_id!r}")
        curve = self._query(
            "SELECT step, value, metrics, time, attempt, objective_values FROM intermediate"
            " WHERE experiment_id = ? AND number = ? AND attempt = ? ORDER BY seq",
            (experiment_id, number, rows[0]["attempt"]),
        )
        return _trial(rows[0], tuple(_intermediate(r) for r in curve))

    def get_events(self, experiment_id: str, number: int | None = None) -> list[tuple[float, str, str]]:
        if number is None:
            rows = self._query(
                "SELECT time, state, message FROM events WHERE experiment_id = ? AND number IS NULL ORDER BY "
                + self._event_order
                + "",
                (experiment_id,),
            )
        else:
            rows = self._query(
                "SELECT time, state, message FROM events WHERE experiment_id = ? AND number = ? ORDER BY "
                + self._event_order
                + "",
                (experiment_id, number),
            )
        return [(r["time"], r["state"], r["message"]) for r in rows]


def _assignments(fields: Mapping[str, Any]) -> tuple[str, list[Any]]:
    columns, values = [], []
    for key, value in fields.items():
        if key in _JSON_FIELDS:
            value = _dumps(value if key != "warnings" else list(value))
        elif hasattr(value, "value") and isinstance(value, (Phase, TrialState)):
            value = value.value
        elif isinstance(value, bool):
            value = int(value)
        columns.append(f"{_COLUMNS.get(key, key)} = ?")
        values.append(value)
    return ", ".join(columns), values


def _experiment(row: Mapping[str, Any]) -> ExperimentRecord:
    return ExperimentRecord(
        id=row["id"],
        name=row["name"],
        phase=Phase(row["phase"]),
        config=json.loads(row["config"]),
        format=row["format"],
        message=row["message"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        elapsed=row["elapsed"],
        experiment_dir=row["experiment_dir"],
        engine_pid=row["engine_pid"],
        engine_host=row["engine_host"],
        heartbeat_at=row["heartbeat_at"],
        stop_requested=bool(row["stop_requested"]),
        waiting_reason=row["waiting_reason"],
        warnings=tuple(json.loads(row["warnings"])),
    )


def _intermediate(row: Mapping[str, Any]) -> IntermediateResult:
    return IntermediateResult(
        step=row["step"],
        value=row["value"],
        metrics=json.loads(row["metrics"]),
        time=row["time"],
        attempt=row["attempt"],
        values=_values(row["objective_values"]),
    )


def _trial(row: Mapping[str, Any], curve: tuple[IntermediateResult, ...]) -> TrialRecord:
    return TrialRecord(
        experiment_id=row["experiment_id"],
        number=row["number"],
        state=TrialState(row["state"]),
        params=json.loads(row["params"]),
        value=row["value"],
        metrics=json.loads(row["metrics"]),
        attempt=row["attempt"],
        seed=row["seed"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        message=row["message"],
        wait_reason=row["wait_reason"],
        trial_dir=row["trial_dir"],
        pid=row["pid"],
        pid_start=row["pid_start"],
        budget=row["budget"],
        parent=row["parent"],
        checkpoint_from=row["checkpoint_from"],
        intermediate=curve,
        warnings=_warnings(row),
        values=_values(row["objective_values"]),
        violation=row["violation"],
    )


def _warnings(row: Mapping[str, Any]) -> tuple[str, ...]:
    kept = tuple(json.loads(row["warnings"]))
    dropped = row["warnings_dropped"]
    if dropped:
        kept += (f"{dropped} more warning{'s' if dropped != 1 else ''} not kept",)
    return kept
