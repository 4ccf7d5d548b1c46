"""What only SQLite does: files, schema versions of a file, URL parsing."""

from __future__ import annotations

import sqlite3

import pytest
from old_schema import VERSION_2_ROWS, check_version_2_upgraded, schema_as_of

from tunelab.errors import StorageError
from tunelab.storage import SCHEMA_VERSION, SQLiteStorage, TrialRecord, TrialState, open_storage
from tunelab.storage._sqlite import _SCHEMA

#: The tables as schema version 1 made them: trials had no budget, parent or checkpoint_from.
VERSION_1 = schema_as_of(1, _SCHEMA)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 99"):
        SQLiteStorage(path)


def test_version_1_database_gains_the_trial_plan_columns(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(VERSION_1)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO experiments (id, name, phase, config, format, created_at, experiment_dir)"
            " VALUES ('e1', 'old', 'DONE', '{}', 'tunelab', 0, '/x')"
        )
        conn.execute("INSERT INTO trials (experiment_id, number, state, params) VALUES ('e1', 0, 'SUCCEEDED', '{}')")
    conn.close()
    store = SQLiteStorage(path)
    [old] = store.get_trials("e1")
    assert old.state == TrialState.SUCCEEDED and (old.budget, old.parent, old.checkpoint_from) == (None, None, None)
    store.create_trial(TrialRecord("e1", 1, TrialState.WAITING, {}, budget=4, parent=0, checkpoint_from=0))
    assert store.get_trial("e1", 1).parent == 0
    store.close()
    SQLiteStorage(path).close()  # opening it again finds nothing left to upgrade
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()


def test_version_2_database_keeps_attempts_apart_after_the_upgrade(tmp_path):
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(schema_as_of(2, _SCHEMA))
        for statement in VERSION_2_ROWS:
            conn.execute(statement)
    conn.close()
    store = SQLiteStorage(path)
    check_version_2_upgraded(store)
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
    SQLiteStorage(path, create=False).close()  # nothing left to upgrade


def test_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_text("this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a tunelab database"):
        SQLiteStorage(path)


def test_unsupported_url():
    with pytest.raises(StorageError, match="unsupported URL scheme 'mysql'"):
        open_storage("mysql://host/db")


def test_plain_path_and_sqlite_url_open_the_same_file(tmp_path):
    open_storage(tmp_path / "a.db").create_experiment("e1", name="n", config={}, format="tunelab", experiment_dir="/x")
    assert [e.id for e in open_storage(f"sqlite:///{tmp_path / 'a.db'}").list_experiments()] == ["e1"]
