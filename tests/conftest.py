"""Shared fixtures: every test gets its own TUNELAB_HOME, so nothing touches ~/.tunelab."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tunelab.storage import SQLiteStorage


@pytest.fixture(autouse=True)
def tunelab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "tunelab-home"
    monkeypatch.setenv("TUNELAB_HOME", str(home))
    monkeypatch.delenv("TUNELAB_STORAGE", raising=False)
    monkeypatch.delenv("TUNELAB_TRIAL_DIR", raising=False)
    return home


@pytest.fixture
def storage(tmp_path: Path) -> SQLiteStorage:
    store = SQLiteStorage(tmp_path / "test.db")
    yield store
    store.close()


@pytest.fixture
def python() -> str:
    """The interpreter running the tests (trials and CLI runs use the same)."""
    return sys.executable
