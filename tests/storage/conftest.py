"""Storage tests run against every backend: SQLite always, PostgreSQL when a server can be started.

``storage_url`` hands out a fresh, empty store of each kind (as Optuna's ``pytest_storages``);
``make_storage`` opens connections to it, which is what :class:`tunelab.testing.storages.StorageContract` needs.
"""

from __future__ import annotations

import pytest

from tunelab.storage import open_storage
from tunelab.testing import fresh_database, postgres_server

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
def make_storage(storage_url):
    return lambda: open_storage(storage_url)
