"""The storage contract, against SQLite (PostgreSQL will join this parametrization)."""

from __future__ import annotations

import math
import sqlite3

import pytest

from tunelab.errors import ExperimentNotFound, StorageError
from tunelab.storage import IntermediateResult, Phase, RequestKind, SQLiteStorage, TrialRecord, TrialState, open_storage


def make(storage, experiment_id="e1"):
    return storage.create_experiment(experiment_id, name="demo", config={"mode": "min"}, format="tunelab", experiment_dir="/tmp/x")


def test_experiment_round_trip_and_phase_events(storage):
    record = make(storage)
    assert record.phase == Phase.PENDING and record.config == {"mode": "min"}
    storage.set_phase("e1", Phase.RUNNING)
    storage.set_phase("e1", Phase.DONE, "all trials done")
    assert storage.get_experiment("e1").message == "all trials done"
    assert [e[1] for e in storage.get_events("e1")] == ["PENDING", "RUNNING", "DONE"]
    assert [r.id for r in storage.list_experiments()] == ["e1"]


def test_unknown_experiment_and_duplicates(storage):
    with pytest.raises(ExperimentNotFound, match="no experiment with id 'nope'"):
        storage.get_experiment("nope")
    make(storage)
    with pytest.raises(StorageError, match="exists already"):
        make(storage)
    with pytest.raises(StorageError, match="unknown experiment field"):
        storage.update_experiment("e1", colour="red")


def test_trials_intermediate_and_state_history(storage):
    make(storage)
    storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1.5, "opt": {"_name": "sgd"}}, seed=42))
    storage.update_trial("e1", 0, state=TrialState.RUNNING, started_at=10.0)
    for step, value in enumerate([3.0, 2.0, float("nan")]):
        storage.add_intermediate("e1", 0, IntermediateResult(step, value, {"acc": step / 10}))
    storage.update_trial("e1", 0, state=TrialState.SUCCEEDED, value=1.0, metrics={"acc": 0.9}, ended_at=12.5)
    trial = storage.get_trial("e1", 0)
    assert trial.params == {"x": 1.5, "opt": {"_name": "sgd"}}
    assert trial.value == 1.0 and trial.metrics == {"acc": 0.9} and trial.seed == 42
    assert [r.value for r in trial.intermediate][:2] == [3.0, 2.0] and trial.intermediate[2].value is None
    assert trial.duration == 2.5 and trial.id == "e1-0"
    assert [e[1] for e in storage.get_events("e1", 0)] == ["WAITING", "RUNNING", "SUCCEEDED"]
    assert storage.get_trials("e1", states=(TrialState.FAILED,)) == []
    [listed] = storage.get_trials("e1", with_intermediate=True)
    assert len(listed.intermediate) == 3


def test_infinite_values_are_kept(storage):
    make(storage)
    storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
    storage.update_trial("e1", 0, value=float("inf"))
    assert math.isinf(storage.get_trial("e1", 0).value)


def test_requests_are_queued_and_closed(storage):
    make(storage)
    request_id = storage.add_request("e1", RequestKind.CANCEL_TRIAL, {"number": 3})
    [request] = storage.get_requests("e1")
    assert request.id == request_id and request.payload == {"number": 3}
    storage.close_request(request_id, "trial 3 is being stopped")
    assert storage.get_requests("e1") == []
    assert storage.get_requests("e1", open_only=False)[0].outcome == "trial 3 is being stopped"
    storage.request_stop("e1")
    assert storage.get_experiment("e1").stop_requested


def test_second_connection_sees_committed_writes(tmp_path):
    writer = SQLiteStorage(tmp_path / "s.db")
    make(writer)
    reader = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    writer.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {"x": 1}))
    assert reader.get_trials("e1")[0].params == {"x": 1}


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
