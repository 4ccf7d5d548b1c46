"""Schema version 3 (the release before several objectives) upgraded to today's, on a database that release wrote.

``assets/tunelab-v3.db`` is a real experiment written by tunelab at schema version 3 (see
``assets/make_v3_db.py``). SQLite opens a copy of the file; PostgreSQL gets the same rows
in version 3's tables. Both must read every old trial as it was, as one objective, and take
multi-objective writes afterwards.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from old_schema import schema_as_of

from tunelab.storage import SCHEMA_VERSION, IntermediateResult, Storage, TrialState, open_storage

ASSET = Path(__file__).parent / "assets" / "tunelab-v3.db"
TABLES = ("meta", "experiments", "trials", "intermediate", "events", "requests")


def _rows(table: str, copy: Path) -> tuple[list[str], list[tuple]]:
    """A table's columns and rows, read from a copy of the asset (opening the asset would leave WAL files by it)."""
    if not copy.exists():
        shutil.copyfile(ASSET, copy)
    with sqlite3.connect(copy) as conn:
        cursor = conn.execute(f"SELECT * FROM {table}")
        found = [d[0] for d in cursor.description], cursor.fetchall()
    conn.close()
    return found


def _check_upgraded(store: Storage) -> None:
    [experiment] = store.list_experiments()
    assert experiment.name == "v3-asset" and experiment.config["mode"] == "max"
    trials = store.get_trials(experiment.id, with_intermediate=True)
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 4 + [TrialState.FAILED, TrialState.SUCCEEDED]
    for trial in trials:
        # Every old trial is a one-objective trial: value and metrics as written, no objective values.
        assert trial.values is None and trial.violation is None and trial.feasible
        assert [r.step for r in trial.intermediate] == [0, 1, 2]
        assert all(r.values is None and r.metrics["latency_ms"] >= 10 for r in trial.intermediate)
    done = trials[0]
    assert done.value == pytest.approx(0.0856491671436244) and done.metrics["params"] == 185
    assert "NaN" in trials[4].message and trials[4].value is None
    # New writes carry several objectives.
    store.update_trial(experiment.id, 5, values={"accuracy": 0.9, "params": 236.0}, violation=1.5)
    store.add_intermediate(experiment.id, 5, IntermediateResult(3, 0.9, values={"accuracy": 0.9, "params": 236.0}))
    upgraded = store.get_trial(experiment.id, 5)
    assert upgraded.values == {"accuracy": 0.9, "params": 236.0} and upgraded.violation == 1.5
    assert upgraded.intermediate[-1].values == {"accuracy": 0.9, "params": 236.0}


def test_the_asset_is_a_version_3_database(tmp_path):
    assert _rows("meta", tmp_path / "copy.db")[1] == [("schema_version", "3")]
    assert SCHEMA_VERSION == 4


def test_sqlite_file_of_version_3_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(ASSET, path)
    store = open_storage(path)
    _check_upgraded(store)
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
    conn.close()
    store = open_storage(path)  # opening it again finds nothing left to upgrade
    assert not store.get_trial(store.list_experiments()[0].id, 5).feasible
    store.close()


def test_postgres_database_of_version_3_is_upgraded(postgres_server_url, tmp_path):
    psycopg = pytest.importorskip("psycopg")
    if postgres_server_url is None:
        pytest.skip("PostgreSQL is not available")
    from tunelab.storage._postgres import _SCHEMA
    from tunelab.testing import fresh_database

    url = fresh_database(postgres_server_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema_as_of(3, _SCHEMA))
        for table in TABLES:
            columns, rows = _rows(table, tmp_path / "copy.db")
            names = ", ".join(columns)
            marks = ", ".join(["%s"] * len(columns))
            for row in rows:
                conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", row)
    store = open_storage(url)
    _check_upgraded(store)
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
