"""Storage.batch: the engine's writes of one tick as one transaction (SQLite), durable when the block ends."""

from __future__ import annotations

import pytest

from tunelab.errors import StorageError
from tunelab.storage import SQLiteStorage, TrialNumberTaken, TrialRecord, TrialState


@pytest.fixture
def stores(tmp_path):
    writer = SQLiteStorage(tmp_path / "s.db")
    writer.create_experiment("e1", name="e", config={}, format="tunelab", experiment_dir=str(tmp_path))
    reader = SQLiteStorage(tmp_path / "s.db")
    yield writer, reader
    writer.close()
    reader.close()


def _states(store) -> dict[int, TrialState]:
    return {t.number: t.state for t in store.get_trials("e1")}


def test_a_batch_is_seen_whole_once_it_ends(stores):
    writer, reader = stores
    with writer.batch():
        writer.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"x": 1}))
        writer.update_trial("e1", 0, state=TrialState.RUNNING)
        with writer.batch():  # nested: part of the outer one
            writer.create_trial(TrialRecord("e1", 1, TrialState.WAITING, {"x": 2}))
        assert _states(writer) == {0: TrialState.RUNNING, 1: TrialState.WAITING}  # the writer reads its own
        assert _states(reader) == {}  # nothing is visible (or durable) before the end
    assert _states(reader) == {0: TrialState.RUNNING, 1: TrialState.WAITING}


def test_a_failed_write_undoes_only_itself_and_an_exception_undoes_the_batch(stores):
    writer, reader = stores
    with writer.batch():
        writer.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {}))
        with pytest.raises(TrialNumberTaken):
            writer.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {}))
        writer.update_trial("e1", 0, state=TrialState.SUCCEEDED, value=1.0)
    assert _states(reader) == {0: TrialState.SUCCEEDED}
    with pytest.raises(RuntimeError), writer.batch():
        writer.update_trial("e1", 0, state=TrialState.FAILED)
        raise RuntimeError("the engine failed mid-tick")
    assert _states(reader) == {0: TrialState.SUCCEEDED} == _states(writer)
    writer.update_trial("e1", 0, message="after")  # the connection is usable again
    assert reader.get_trial("e1", 0).message == "after"


def test_a_write_that_fails_half_way_undoes_the_whole_batch(stores, monkeypatch):
    """Writes inside a batch take no savepoint: one that fails after changing a row must not leave half of itself."""
    writer, reader = stores
    writer.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {}))

    def broken_warning(conn, experiment_id, number, text):
        raise OSError("disk gone")  # after the UPDATE of the trial row succeeded

    monkeypatch.setattr(writer, "_add_warning", broken_warning)
    with pytest.raises(StorageError, match="half-way"), writer.batch():
        writer.update_trial("e1", 0, message="before")
        with pytest.raises(OSError):
            writer.update_trial("e1", 0, state=TrialState.SUCCEEDED, metrics={"m": "x" * 70_000})
    assert _states(reader) == {0: TrialState.WAITING} and reader.get_trial("e1", 0).message == ""
    writer.update_trial("e1", 0, message="after")  # usable again
    assert reader.get_trial("e1", 0).message == "after"
