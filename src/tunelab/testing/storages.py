"""The storage contract as a test suite: run it against any :class:`~tunelab.storage.Storage`.

As Optuna's ``optuna.testing.pytest_storages``, the suite needs one fixture that hands out a
fresh, empty store: subclass :class:`StorageContract` in a test module and give it a
``make_storage`` fixture, a callable that opens a *new connection* to that one store on
each call (two calls must see each other's writes)::

    import pytest
    from tunelab.testing.storages import StorageContract

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def make_storage(self, tmp_path):
            return lambda: MyStorage(tmp_path / "db")

Every ``test_*`` method then runs against it. :meth:`StorageContract.test_concurrent_writers`
is for storages shared between engines; set ``shared = False`` on the subclass to skip it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator

import pytest

from tunelab.errors import ExperimentNotFound, StorageError
from tunelab.storage import (
    IntermediateResult,
    Phase,
    RequestKind,
    Storage,
    TrialNumberTaken,
    TrialRecord,
    TrialState,
)
from tunelab.storage._base import MAX_TRIAL_WARNINGS, MAX_WARNING_CHARS

StorageFactory = Callable[[], Storage]

__all__ = ["StorageContract", "StorageFactory", "make_experiment"]


def make_experiment(storage: Storage, experiment_id: str = "e1") -> None:
    """Create a small experiment to hang trials on."""
    storage.create_experiment(
        experiment_id, name="demo", config={"mode": "min"}, format="tunelab", experiment_dir="/tmp/x"
    )


class StorageContract:
    """The checks every storage passes; subclass it with a ``make_storage`` fixture (see the module docstring)."""

    #: Whether the storage lets several engines share an experiment (claim_trial, concurrent writers).
    shared = True

    @pytest.fixture
    def storage(self, make_storage: StorageFactory) -> Iterator[Storage]:
        store = make_storage()
        yield store
        store.close()

    # ------------------------------------------------------------ experiments
    def test_experiment_round_trip_and_phase_events(self, storage: Storage) -> None:
        make_experiment(storage)
        record = storage.get_experiment("e1")
        assert record.phase == Phase.PENDING and record.config == {"mode": "min"}
        storage.set_phase("e1", Phase.RUNNING)
        storage.set_phase("e1", Phase.DONE, "all trials done")
        assert storage.get_experiment("e1").message == "all trials done"
        assert [e[1] for e in storage.get_events("e1")] == ["PENDING", "RUNNING", "DONE"]
        assert [r.id for r in storage.list_experiments()] == ["e1"]

    def test_unknown_experiment_and_duplicates(self, storage: Storage) -> None:
        with pytest.raises(ExperimentNotFound, match="no experiment with id 'nope'"):
            storage.get_experiment("nope")
        make_experiment(storage)
        with pytest.raises(StorageError, match="exists already"):
            make_experiment(storage)
        with pytest.raises(StorageError, match="unknown experiment field"):
            storage.update_experiment("e1", colour="red")
        with pytest.raises(ExperimentNotFound):
            storage.update_experiment("nope", message="x")

    def test_requests_are_queued_and_closed(self, storage: Storage) -> None:
        make_experiment(storage)
        request_id = storage.add_request("e1", RequestKind.CANCEL_TRIAL, {"number": 3})
        [request] = storage.get_requests("e1")
        assert request.id == request_id and request.payload == {"number": 3}
        storage.close_request(request_id, "trial 3 is being stopped")
        assert storage.get_requests("e1") == []
        assert storage.get_requests("e1", open_only=False)[0].outcome == "trial 3 is being stopped"
        storage.request_stop("e1")
        assert storage.get_experiment("e1").stop_requested

    def test_delete_removes_one_experiment_and_all_it_holds(self, storage: Storage) -> None:
        make_experiment(storage, "gone")
        make_experiment(storage, "kept")
        for eid in ("gone", "kept"):
            storage.create_trial(TrialRecord(eid, 0, TrialState.WAITING, {"x": 1}))
            storage.update_trial(eid, 0, state=TrialState.RUNNING)
            storage.add_intermediate(eid, 0, IntermediateResult(step=1, value=0.5, time=1.0))
            storage.add_request(eid, RequestKind.CANCEL_TRIAL, {"number": 0})
        storage.delete_experiment("gone")
        assert [r.id for r in storage.list_experiments()] == ["kept"]
        with pytest.raises(ExperimentNotFound):
            storage.get_experiment("gone")
        assert storage.get_trials("gone") == [] and storage.get_events("gone") == []
        assert storage.get_events("gone", 0) == [] and storage.get_requests("gone") == []
        assert storage.get_intermediate("gone", 0, attempt=1) == ()
        kept = storage.get_trial("kept", 0)
        assert kept.state == TrialState.RUNNING and len(kept.intermediate) == 1
        assert len(storage.get_requests("kept")) == 1 and storage.get_events("kept", 0)
        with pytest.raises(ExperimentNotFound):
            storage.delete_experiment("gone")
        make_experiment(storage, "gone")  # the id may be used again
        assert storage.get_trials("gone") == []

    # ------------------------------------------------------------ trials
    def test_trials_intermediate_and_state_history(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1.5, "opt": {"_name": "sgd"}}, seed=42))
        storage.update_trial("e1", 0, state=TrialState.RUNNING, started_at=10.0)
        for step, value in enumerate([3.0, 2.0, float("nan")]):
            storage.add_intermediate("e1", 0, IntermediateResult(step, value, {"acc": step / 10}))
        storage.update_trial("e1", 0, state=TrialState.SUCCEEDED, value=1.0, metrics={"acc": 0.9}, ended_at=12.5)
        trial = storage.get_trial("e1", 0)
        assert trial.params == {"x": 1.5, "opt": {"_name": "sgd"}}
        assert trial.value == 1.0 and trial.metrics == {"acc": 0.9} and trial.seed == 42
        assert [r.value for r in trial.intermediate][:2] == [3.0, 2.0] and trial.intermediate[2].value is None
        assert trial.intermediate[1].metrics == {"acc": 0.1}
        assert trial.duration == 2.5 and trial.id == "e1-0"
        assert [e[1] for e in storage.get_events("e1", 0)] == ["WAITING", "RUNNING", "SUCCEEDED"]
        assert storage.get_trials("e1", states=(TrialState.FAILED,)) == []
        [listed] = storage.get_trials("e1", with_intermediate=True)
        assert len(listed.intermediate) == 3
        with pytest.raises(StorageError, match="unknown trial field"):
            storage.update_trial("e1", 0, colour="red")
        with pytest.raises(StorageError, match="no trial 7"):
            storage.update_trial("e1", 7, state=TrialState.RUNNING)

    def test_a_curve_is_its_current_attempts_only(self, storage: Storage) -> None:
        """A retried trial reports steps 0.. again: its curve never mixes runs, earlier runs stay readable."""
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
        storage.create_trial(TrialRecord("e1", 1, TrialState.RUNNING, {}))
        for step in range(5):
            storage.add_intermediate("e1", 0, IntermediateResult(step, float(step), attempt=1))
        storage.add_intermediate("e1", 1, IntermediateResult(0, 9.0))
        storage.update_trial("e1", 0, attempt=2)
        for step in range(2):
            storage.add_intermediate("e1", 0, IntermediateResult(step, 10.0 + step, attempt=2))
        current = storage.get_trial("e1", 0)
        assert [(r.step, r.value, r.attempt) for r in current.intermediate] == [(0, 10.0, 2), (1, 11.0, 2)]
        listed = storage.get_trials("e1", with_intermediate=True)
        assert [[r.step for r in t.intermediate] for t in listed] == [[0, 1], [0]]
        assert [r.step for r in storage.get_intermediate("e1", 0, attempt=1)] == [0, 1, 2, 3, 4]
        assert [r.value for r in storage.get_intermediate("e1", 0)] == [10.0, 11.0]  # None: the current attempt
        assert storage.get_intermediate("e1", 0, attempt=3) == ()
        with pytest.raises(StorageError, match="no trial 5"):
            storage.get_intermediate("e1", 5)

    def test_trial_warnings_are_kept_bounded(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
        storage.create_trial(TrialRecord("e1", 1, TrialState.RUNNING, {}))
        assert storage.get_trial("e1", 0).warnings == ()
        storage.add_trial_warning("e1", 0, "reports.jsonl line 3 is not JSON: '{oops'")
        storage.add_trial_warning("e1", 0, "x" * 10_000)
        first, long = storage.get_trial("e1", 0).warnings
        assert first == "reports.jsonl line 3 is not JSON: '{oops'"
        assert len(long) == MAX_WARNING_CHARS and long.endswith("...")
        for i in range(MAX_TRIAL_WARNINGS + 5):
            storage.add_trial_warning("e1", 1, f"warning {i}")
        kept = storage.get_trials("e1")[1].warnings
        assert list(kept[:MAX_TRIAL_WARNINGS]) == [f"warning {i}" for i in range(MAX_TRIAL_WARNINGS)]
        assert kept[MAX_TRIAL_WARNINGS:] == ("5 more warnings not kept",)
        with pytest.raises(StorageError, match="no trial 7"):
            storage.add_trial_warning("e1", 7, "x")

    def test_huge_metrics_are_not_stored(self, storage: Storage) -> None:
        """A metric of megabytes would make every page of trials that large: it is dropped, with a warning."""
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
        storage.add_intermediate("e1", 0, IntermediateResult(0, 1.0, {"blob": "x" * 1_000_000}))
        storage.update_trial("e1", 0, value=1.0, metrics={"blob": "y" * 1_000_000})
        trial = storage.get_trial("e1", 0)
        assert trial.intermediate[0].value == 1.0 and trial.intermediate[0].metrics == {}
        assert trial.value == 1.0 and trial.metrics == {}
        assert [w.split(":")[0] for w in trial.warnings] == ["report at step 0", "final result"]

    def test_budget_and_lineage_are_kept(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1}, budget=3))
        storage.create_trial(TrialRecord("e1", 1, TrialState.WAITING, {"x": 1}, budget=9, parent=0, checkpoint_from=0))
        storage.create_trial(TrialRecord("e1", 2, TrialState.WAITING, {"x": 2}))
        storage.update_trial("e1", 1, state=TrialState.RUNNING)
        fresh, promoted, plain = storage.get_trials("e1")
        assert (fresh.budget, fresh.parent, fresh.checkpoint_from) == (3, None, None)
        assert (promoted.budget, promoted.parent, promoted.checkpoint_from) == (9, 0, 0)
        assert (plain.budget, plain.parent, plain.checkpoint_from) == (None, None, None)
        assert storage.get_trial("e1", 1).budget == 9

    def test_infinite_values_and_big_seeds_are_kept(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}, seed=2**31 - 1))
        storage.update_trial("e1", 0, value=float("inf"))
        value = storage.get_trial("e1", 0).value
        assert value is not None and math.isinf(value)
        assert storage.get_trial("e1", 0).seed == 2**31 - 1
        storage.update_trial("e1", 0, value=0.1 + 0.2)
        assert storage.get_trial("e1", 0).value == 0.1 + 0.2  # double precision, not float4

    def test_objective_values_keep_their_order_and_violation(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
        storage.create_trial(TrialRecord("e1", 1, TrialState.RUNNING, {}))
        values = {"latency_ms": 12.5, "accuracy": 0.93, "size": float("inf")}
        storage.update_trial("e1", 0, state=TrialState.SUCCEEDED, value=12.5, values=values, violation=2.5)
        storage.update_trial("e1", 1, state=TrialState.SUCCEEDED, value=1.0)
        mo, single = storage.get_trials("e1")
        assert mo.values == values and list(mo.values) == ["latency_ms", "accuracy", "size"]
        assert mo.violation == 2.5 and not mo.feasible and mo.value == 12.5
        assert single.values is None and single.violation is None and single.feasible
        storage.update_trial("e1", 0, violation=0.0, values={"latency_ms": float("nan"), "accuracy": 0.5})
        assert storage.get_trial("e1", 0).feasible and storage.get_trial("e1", 0).violation == 0.0
        assert storage.get_trial("e1", 0).values == {"latency_ms": None, "accuracy": 0.5}  # NaN as None, as value

    def test_intermediate_reports_keep_their_objective_values(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {}))
        for step in range(3):
            report = IntermediateResult(step, 0.1 * step, {"x": 1}, values={"b": 0.1 * step, "a": 3.0 - step})
            storage.add_intermediate("e1", 0, report)
        storage.add_intermediate("e1", 0, IntermediateResult(3, 0.4))
        curve = storage.get_trial("e1", 0).intermediate
        assert [r.values for r in curve[:3]] == [{"b": 0.1 * s, "a": 3.0 - s} for s in range(3)]
        assert list(curve[0].values or ()) == ["b", "a"] and curve[3].values is None
        assert storage.get_trials("e1", with_intermediate=True)[0].intermediate == curve
        assert storage.get_intermediate("e1", 0, attempt=1) == curve

    def test_second_connection_sees_committed_writes(self, storage: Storage, make_storage: StorageFactory) -> None:
        make_experiment(storage)
        reader = make_storage()
        storage.create_trial(TrialRecord("e1", 0, TrialState.RUNNING, {"x": 1}))
        storage.add_trial_warning("e1", 0, "seen")
        assert reader.get_trials("e1")[0].params == {"x": 1}
        assert reader.get_trial("e1", 0).warnings == ("seen",)
        reader.close()

    def test_a_trial_number_is_never_created_twice(self, storage: Storage) -> None:
        make_experiment(storage)
        storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1}))
        with pytest.raises(TrialNumberTaken, match="trial 0 of experiment 'e1' exists already"):
            storage.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 2}))
        assert storage.get_trial("e1", 0).params == {"x": 1}

    # ------------------------------------------------------------ shared experiments
    def test_claim_moves_one_waiting_trial_to_running(self, storage: Storage) -> None:
        if not self.shared:
            pytest.skip("the storage is not shared between engines")
        make_experiment(storage)
        for number in range(3):
            storage.create_trial(TrialRecord("e1", number, TrialState.WAITING, {"n": number}))
        claimed = storage.claim_trial("e1", 1)
        assert claimed is not None and claimed.number == 1
        assert storage.claim_trial("e1", 1) is None  # claimed already
        first = storage.claim_trial("e1")
        assert first is not None and first.number == 0
        last = storage.claim_trial("e1")
        assert last is not None and last.state == TrialState.RUNNING
        assert storage.claim_trial("e1") is None

    def test_concurrent_writers(self, make_storage: StorageFactory) -> None:
        """Four connections in threads race to claim 40 trials and write curves to shared trials."""
        if not self.shared:
            pytest.skip("the storage is not shared between engines")
        setup = make_storage()
        make_experiment(setup)
        for number in range(40):
            setup.create_trial(TrialRecord("e1", number, TrialState.WAITING, {"n": number}))
        claimed: list[list[int]] = [[] for _ in range(4)]
        barrier = threading.Barrier(4)

        def worker(index: int) -> None:
            store = make_storage()
            barrier.wait()
            while (trial := store.claim_trial("e1")) is not None:
                claimed[index].append(trial.number)
                store.add_intermediate("e1", trial.number % 2, IntermediateResult(index, float(trial.number)))
                store.add_trial_warning("e1", trial.number % 2, f"from {index}")
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
        assert [len(setup.get_trial("e1", n).warnings) for n in (0, 1)] == [MAX_TRIAL_WARNINGS] * 2
        assert all(t.state == TrialState.RUNNING for t in setup.get_trials("e1"))
        setup.close()
