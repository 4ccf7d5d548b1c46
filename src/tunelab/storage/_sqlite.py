"""Embedded SQLite storage, the default.

Write-ahead logging with ``synchronous=NORMAL`` makes every committed write survive a
killed process (only a power cut may lose the last transactions), lets readers such as
``tunelab show`` or the dashboard read while an engine writes, and keeps writes cheap: a
commit appends to the log without waiting for the disk (``synchronous=FULL`` would add an
fsync per commit, a few milliseconds on most disks, for protection against power loss only).
:meth:`SQLiteStorage.batch` makes the engine's writes of one tick one transaction (a
failed write inside it undoes only itself), so a commit is paid per tick, not per write. See
docs/isolation.md.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tunelab.errors import StorageError
from tunelab.storage._sql import SCHEMA_VERSION, SQLStorage, upgrade_schema

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    config TEXT NOT NULL,
    format TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    elapsed REAL NOT NULL DEFAULT 0,
    experiment_dir TEXT NOT NULL,
    engine_pid INTEGER,
    engine_host TEXT,
    heartbeat_at REAL,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    waiting_reason TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS trials (
    experiment_id TEXT NOT NULL REFERENCES experiments(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    attempt INTEGER NOT NULL DEFAULT 1,
    seed INTEGER,
    created_at REAL,
    started_at REAL,
    ended_at REAL,
    message TEXT NOT NULL DEFAULT '',
    wait_reason TEXT NOT NULL DEFAULT '',
    trial_dir TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    pid_start TEXT,
    budget INTEGER,
    parent INTEGER,
    checkpoint_from INTEGER,
    warnings TEXT NOT NULL DEFAULT '[]',
    warnings_dropped INTEGER NOT NULL DEFAULT 0,
    objective_values TEXT,
    violation REAL,
    PRIMARY KEY (experiment_id, number)
);
CREATE TABLE IF NOT EXISTS intermediate (
    experiment_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    time REAL NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    objective_values TEXT,
    PRIMARY KEY (experiment_id, number, seq)
);
CREATE TABLE IF NOT EXISTS events (
    experiment_id TEXT NOT NULL,
    number INTEGER,
    time REAL NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_by_trial ON events (experiment_id, number);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    handled_at REAL,
    outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS open_requests ON requests (experiment_id, handled_at);
"""


class StorageNotFound(StorageError):
    """``create=False`` and there is no storage file: nothing was ever stored there."""


class SQLiteStorage(SQLStorage):
    """Storage in one SQLite file; safe for one writing engine and any number of readers.

    ``create=False`` (for commands that only read) opens an existing file and never makes
    one or its folders: a missing file raises :class:`StorageNotFound`.
    """

    _integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path).expanduser()
        if not create and not self.path.is_file():
            raise StorageNotFound(f"no experiments stored at {str(self.path)!r}")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                target, uri = str(self.path), False
            else:  # mode=rw: never creates the file, even if it vanishes after the check above
                target, uri = f"file:{quote(str(self.path.absolute()))}?mode=rw", True
            self._conn = sqlite3.connect(target, timeout=30.0, isolation_level=None, check_same_thread=False, uri=uri)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"storage: cannot open {str(self.path)!r}: {exc}") from None
        self._lock = threading.RLock()
        self._batches = 0  # depth of the batch() blocks open (the lock's holder's)
        self._poisoned = False  # a write in the open batch failed after changing something
        self._begun = False  # the open batch has written (its transaction has begun)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"storage: {str(self.path)!r} is not a tunelab database ({exc})") from None

    def _migrate(self) -> None:
        # executescript commits on its own, so it runs outside _transaction().
        self._conn.executescript(_SCHEMA)
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StorageError(
                f"storage: {str(self.path)!r} has schema version {row[0]}, newer than this tunelab "
                f"understands ({SCHEMA_VERSION}); upgrade tunelab"
            )
        elif int(row[0]) < SCHEMA_VERSION:
            with self._transaction() as conn:  # the write lock: one opener upgrades, the others find it done
                (found,) = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                upgrade_schema(conn, int(found))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._batches:
                # Inside a batch a write that fails undoes only itself with no savepoint (two statements per
                # write saved): every write fails, if it does, at its first statement, which SQLite undoes
                # alone. One that failed after changing something poisons the batch, which then rolls back.
                if not self._begun:  # the batch's transaction begins with its first write
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._begun = True
                changes = self._conn.total_changes
                try:
                    yield self._conn
                except BaseException:
                    if self._conn.total_changes != changes:
                        self._poisoned = True
                    raise
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            if self._batches:  # nested: part of the outer batch
                self._batches += 1
                try:
                    yield
                finally:
                    self._batches -= 1
                return
            # BEGIN IMMEDIATE waits for the first write: a tick that records nothing takes no lock, commits nothing.
            self._batches, self._poisoned, self._begun = 1, False, False
            try:
                yield
            except BaseException:
                self._batches = 0
                if self._begun:
                    self._conn.execute("ROLLBACK")
                raise
            self._batches = 0
            if self._begun and self._poisoned:
                self._conn.execute("ROLLBACK")
                raise StorageError("storage: a write in this batch failed half-way; the whole batch was undone")
            if self._begun:
                self._conn.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._conn.execute(sql, args)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


__all__ = ["SCHEMA_VERSION", "SQLiteStorage", "StorageNotFound"]
