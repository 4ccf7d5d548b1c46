"""The storage contract, run against SQLite and PostgreSQL alike (see conftest.py)."""

from __future__ import annotations

import math
import threading

import pytest

from tunelab.errors import ExperimentNotFound, StorageError
from tunelab.storage import (
    IntermediateResult,
    Phase,
    RequestKind,
    TrialNumberTaken,
    TrialRecord,
    TrialState,
    open_storage,
)


def make(storage, experiment_id="e1"):
    return storage.create_experiment(
        experiment_id, name="demo", config={"mode": "min"}, format="tunelab", experiment_dir="/tmp/x"
    )


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
    with pytest.raises(ExperimentNotFound):
        storage.update_experiment("nope", message="x")


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
    with pytest.raises(StorageError, match="unknown trial field"):
        storage.update_trial("e1", 0, colour="red")
    with pytest.raises(StorageError, match="no trial 7"):
        storage.update_trial("e1", 7, state=TrialState.RUNNING)


def test_budget_and_lineage_are_kept(storage):
    make(storage)
    storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1}, budget=3))
    storage.create_trial(TrialRecord("e1", 1, TrialState.WAITING, {"x": 1}, budget=9, parent=0, checkpoint_from=0))
    storage.create_trial(TrialRecord("e1", 2, TrialState.WAITING, {"x": 2}))
    storage.update_trial("e1", 1, state=TrialState.RUNNING)
    fresh, promoted, plain = storage.get_trials("e1")
    assert (fresh.budget, fresh.parent, fresh.checkpoint_from) == (3, None, None)
    assert (promoted.budget, promoted.parent, promoted.checkpoint_from) == (9, 0, 0)
    assert (plain.budget, plain.parent, plain.checkpoint_from) == (None, None, None)
    assert storage.get_trial("e1", 1).budget == 9


def test_infinite_values_and_big_seeds_are_kept(storage):
    make(storage)
    storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}, seed=2**31 - 1))
    storage.update_trial("e1", 0, value=float("inf"))
    assert math.isinf(storage.get_trial("e1", 0).value)
    assert storage.get_trial("e1", 0).seed == 2**31 - 1
    storage.update_trial("e1", 0, value=0.1 + 0.2)
    assert storage.get_trial("e1", 0).value == 0.1 + 0.2  # double precision, not float4


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


def test_second_connection_sees_committed_writes(storage, storage_url):
    make(storage)
    reader = open_storage(storage_url)
    storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {"x": 1}))
    assert reader.get_trials("e1")[0].params == {"x": 1}
    reader.close()


def test_a_trial_number_is_never_created_twice(storage):
    make(storage)
    storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1}))
    with pytest.raises(TrialNumberTaken, match="trial 0 of experiment 'e1' exists already"):
        storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 2}))
    assert storage.get_trial("e1", 0).params == {"x": 1}


def test_claim_moves_one_waiting_trial_to_running(storage):
    make(storage)
    for number in range(3):
        storage.create_trial(TrialRecord("e1", number, TrialState.WAITING, {"n": number}))
    assert storage.claim_trial("e1", 1).number == 1
    assert storage.claim_trial("e1", 1) is None  # claimed already
    assert storage.claim_trial("e1").number == 0
    assert storage.claim_trial("e1").state == TrialState.RUNNING
    assert storage.claim_trial("e1") is None


def test_concurrent_writers_claim_each_trial_once_and_lose_no_update(storage_url):
    """Four connections in threads race to claim 40 trials and write curves to shared trials."""
    setup = open_storage(storage_url)
    make(setup)
    for number in range(40):
        setup.create_trial(TrialRecord("e1", number, TrialState.WAITING, {"n": number}))
    claimed: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        store = open_storage(storage_url)
        barrier.wait()
        while (trial := store.claim_trial("e1")) is not None:
            claimed[index].append(trial.number)
            store.add_intermediate("e1", trial.number % 2, IntermediateResult(index, float(trial.number)))
        store.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = sorted(n for numbers in claimed for n in numbers)
    assert everything == list(range(40))  # every trial claimed, none twice
    curves = [len(setup.get_trial("e1", n).intermediate) for n in (0, 1)]
    assert curves == [20, 20]  # no intermediate result lost
    assert all(t.state == TrialState.RUNNING for t in setup.get_trials("e1"))
    setup.close()
