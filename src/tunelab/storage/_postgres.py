"""PostgreSQL storage: one experiment shared by tunelab processes on several machines.

The tables are SQLite's (``_sqlite.py``), with PostgreSQL's types, and the SQL of every
method is shared with SQLite (``_sql.py``). Every method is one
transaction. What makes concurrent writers safe:

* a trial number is taken by inserting its row; the primary key refuses a second
  insert of the same number, so no number is ever handed out twice (the loser hears
  :class:`TrialNumberTaken` and asks again);
* :meth:`claim_trial` moves a WAITING trial to RUNNING with ``SELECT ... FOR UPDATE
  SKIP LOCKED``, so two workers never claim the same trial and neither blocks on the other;
* updates set named columns of one row (no read-modify-write in Python), and an
  intermediate result's sequence number is taken under the trial row's lock, so no
  update is lost.

Needs ``pip install tunelab[postgres]`` (psycopg 3).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tunelab.errors import StorageError
from tunelab.storage._sql import SCHEMA_VERSION, SQLStorage, upgrade_schema
from tunelab.storage._sqlite import _SCHEMA as SQLITE_SCHEMA

#: SQLite's tables in PostgreSQL's types: 8-byte floats, serial ids (events get one to keep their order).
_SCHEMA = (
    SQLITE_SCHEMA.replace(" REAL", " DOUBLE PRECISION")
    .replace("id INTEGER PRIMARY KEY AUTOINCREMENT", "id BIGSERIAL PRIMARY KEY")
    .replace(
        "CREATE TABLE IF NOT EXISTS events (\n", "CREATE TABLE IF NOT EXISTS events (\n    id BIGSERIAL PRIMARY KEY,\n"
    )
)

#: Key of the advisory lock that serializes schema creation between processes.
_SCHEMA_LOCK = 0x74756E656C6162  # "tunelab"


def _sql(text: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (no statement here has a literal ``?``)."""
    return text.replace("?", "%s")


class _Cursor:
    """A psycopg cursor that takes SQLite's ``?`` placeholders, as :class:`SQLStorage` writes them."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> Any:
        return self._cursor.execute(_sql(sql), args)

    def script(self, sql: str) -> None:
        """Run statements as written (no placeholders)."""
        self._cursor.execute(sql)


class PostgresStorage(SQLStorage):
    """Storage in a PostgreSQL database; safe for several engines (workers) writing at once."""

    _skip_locked = " FOR UPDATE SKIP LOCKED"
    _row_lock = " FOR UPDATE"
    _event_order = "id"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError:
            raise StorageError("storage: PostgreSQL needs psycopg; pip install 'tunelab[postgres]'") from None
        self._psycopg = psycopg
        self._integrity_errors = (psycopg.errors.UniqueViolation,)
        self.url = url
        self.path = _redact(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StorageError(f"storage: cannot connect to {self.path}: {str(exc).strip()}") from None
        self._dict_row = dict_row
        self._lock = threading.RLock()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _migrate(self) -> None:
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            cur.script(_SCHEMA)
            row = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                cur.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StorageError(
                    f"storage: {self.path} has schema version {row[0]}, newer than this tunelab "
                    f"understands ({SCHEMA_VERSION}); upgrade tunelab"
                )
            else:
                upgrade_schema(cur, int(row[0]))

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield _Cursor(cur)
            except self._psycopg.OperationalError as exc:
                raise StorageError(f"storage: {self.path}: {str(exc).strip()}") from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock, self._conn.cursor(row_factory=self._dict_row) as cur:
            cur.execute(_sql(sql), args)
            return cur.fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        rest = f"{user}:***@{host}" if ":" in credentials else f"{user}@{host}"
    return scheme + sep + rest
