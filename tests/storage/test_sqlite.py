"""What only SQLite does: files, schema versions of a file, URL parsing."""

from __future__ import annotations

import sqlite3

import pytest

from tunelab.errors import StorageError
from tunelab.storage import SQLiteStorage, open_storage


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 99"):
        SQLiteStorage(path)


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
