"""Fixtures for distributed tests: a PostgreSQL server started once per session."""

from __future__ import annotations

import pytest

from tunelab.testing import fresh_database, postgres_server


@pytest.fixture(scope="session")
def postgres_server_url():
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url):
    if postgres_server_url is None:
        pytest.skip("PostgreSQL is not available (install the postgresql package and psycopg)")
    return fresh_database(postgres_server_url)
