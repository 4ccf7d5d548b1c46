"""What only PostgreSQL does: URLs, connection errors, schema versions on a server."""

from __future__ import annotations

import pytest
from old_schema import VERSION_2_ROWS, check_version_2_upgraded, schema_as_of

from tunelab.errors import StorageError
from tunelab.storage import SCHEMA_VERSION, TrialState, open_storage

pytest.importorskip("psycopg")


@pytest.fixture
def pg_url(postgres_server_url):
    if postgres_server_url is None:
        pytest.skip("PostgreSQL is not available")
    from tunelab.testing import fresh_database

    return fresh_database(postgres_server_url)


def test_unreachable_server_is_one_line_without_the_password():
    with pytest.raises(StorageError, match=r"cannot connect to postgresql://me:\*\*\*@127.0.0.1:1/db") as info:
        open_storage("postgresql://me:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)


def test_newer_schema_is_refused_and_postgres_scheme_alias(pg_url):
    import psycopg

    open_storage(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 99"):
        open_storage(pg_url.replace("postgresql://", "postgres://"))


def test_version_1_database_gains_the_trial_plan_columns(pg_url):
    import psycopg

    from tunelab.storage._postgres import _SCHEMA

    old_tables = schema_as_of(1, _SCHEMA)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(old_tables)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute(
            "INSERT INTO experiments (id, name, phase, config, format, created_at, experiment_dir)"
            " VALUES ('e1', 'old', 'DONE', '{}', 'tunelab', 0, '/x')"
        )
        conn.execute("INSERT INTO trials (experiment_id, number, state, params) VALUES ('e1', 0, 'SUCCEEDED', '{}')")
    store = open_storage(pg_url)
    [old] = store.get_trials("e1")
    assert old.state == TrialState.SUCCEEDED and old.budget is None and old.parent is None
    store.close()
    open_storage(pg_url).close()  # opening it again finds nothing left to upgrade
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)


def test_version_2_database_keeps_attempts_apart_after_the_upgrade(pg_url):
    import psycopg

    from tunelab.storage._postgres import _SCHEMA

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(schema_as_of(2, _SCHEMA))
        for statement in VERSION_2_ROWS:
            conn.execute(statement)
    store = open_storage(pg_url)
    check_version_2_upgraded(store)
    store.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)


def test_two_processes_open_the_schema_at_once(pg_url):
    import threading

    errors = []

    def opener():
        try:
            open_storage(pg_url).close()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
