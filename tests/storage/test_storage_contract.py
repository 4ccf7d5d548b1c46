"""The storage contract (:mod:`tunelab.testing.storages`), run against SQLite and PostgreSQL alike."""

from __future__ import annotations

from tunelab.testing.storages import StorageContract


class TestStorages(StorageContract):
    """Every check of the contract, over ``make_storage`` of each backend (conftest.py)."""
