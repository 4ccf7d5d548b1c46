"""Storage: every experiment, trial, report and state change, written as it happens."""

from __future__ import annotations

import os
from pathlib import Path

from tunelab.storage._base import Storage, TrialNumberTaken
from tunelab.storage._best import (
    KNEE_RULE,
    best_trial,
    competes,
    front_and_knee,
    is_better,
    knee_trial,
    objectives_of,
    pareto_front,
    trial_losses,
)
from tunelab.storage._records import (
    ExperimentRecord,
    IntermediateResult,
    Phase,
    Request,
    RequestKind,
    TrialRecord,
    TrialState,
)
from tunelab.storage._sqlite import SCHEMA_VERSION, SQLiteStorage, StorageNotFound

__all__ = [
    "KNEE_RULE",
    "SCHEMA_VERSION",
    "ExperimentRecord",
    "IntermediateResult",
    "Phase",
    "Request",
    "RequestKind",
    "SQLiteStorage",
    "Storage",
    "StorageNotFound",
    "TrialRecord",
    "TrialNumberTaken",
    "TrialState",
    "best_trial",
    "competes",
    "default_storage_path",
    "front_and_knee",
    "is_better",
    "knee_trial",
    "objectives_of",
    "open_storage",
    "pareto_front",
    "trial_losses",
    "tunelab_home",
]


def tunelab_home() -> Path:
    """``$TUNELAB_HOME``, or ``~/.tunelab``."""
    return Path(os.environ.get("TUNELAB_HOME") or Path.home() / ".tunelab").expanduser()


def default_storage_path() -> Path:
    return tunelab_home() / "tunelab.db"


def open_storage(url: str | os.PathLike[str] | None = None, *, create: bool = True) -> Storage:
    """Open storage by URL or path: ``None`` (the default file), ``sqlite:///path``, a plain path,
    or ``postgresql://user:password@host:port/database`` (needs ``tunelab[postgres]``).

    ``create=False`` is for readers: a missing SQLite file raises :class:`StorageNotFound`
    instead of being made (with its folders). A PostgreSQL database is never created.
    """
    if url is None:
        return SQLiteStorage(default_storage_path(), create=create)
    text = str(url)
    if text.startswith("sqlite:///"):
        return SQLiteStorage(text.removeprefix("sqlite:///") or default_storage_path(), create=create)
    if text.startswith(("postgresql://", "postgres://")):
        from tunelab.storage._postgres import PostgresStorage

        return PostgresStorage(text)
    if "://" in text:
        from tunelab.errors import StorageError

        scheme = text.split("://", 1)[0]
        raise StorageError(
            f"storage: unsupported URL scheme {scheme!r} (use a file path, sqlite:///path or postgresql://...)"
        )
    return SQLiteStorage(text, create=create)
