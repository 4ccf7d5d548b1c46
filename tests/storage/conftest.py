"""Storage tests run against every backend: SQLite always, PostgreSQL when a server can be started.

As Optuna's ``pytest_storages.py`` does, the ``storage_url`` fixture hands out a fresh,
empty store of each kind, and ``storage`` opens it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "distributed"))

from pgserver import fresh_database, postgres_server  # noqa: E402

from tunelab.storage import open_storage  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def storage_url(request, tmp_path, postgres_server_url):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if postgres_server_url is None:
        pytest.skip("PostgreSQL is not available (install the postgresql package and psycopg)")
    return fresh_database(postgres_server_url)


@pytest.fixture
def storage(storage_url):
    store = open_storage(storage_url)
    yield store
    store.close()
