"""Several engines (workers) on one experiment, coordinated through shared storage only.

Optuna's multi-worker model: every worker runs the usual loop with its own tuner and
runner, on any machine that reaches the storage (PostgreSQL). What keeps them apart:

* before proposing, a worker replays what the others did (finished trials into its tuner,
  running ones as pending), so the limits count every worker's trials and no
  configuration is proposed twice from a stale view;
* a trial number is taken by creating its row; if another worker took it first, storage
  refuses (:class:`TrialNumberTaken`) and the worker replays and proposes again;
* a trial runs only after its worker claimed it (WAITING -> RUNNING in one atomic step),
  so a trial waiting for a retry runs on one worker only, whichever claims it.

The first worker is ``Experiment(..., shared=True).run()``; others join with
``Experiment.load(id, storage=url).work()`` or ``tunelab worker ID --storage URL``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tunelab.engine._loop import Engine
from tunelab.storage import TrialNumberTaken, TrialRecord, TrialState

logger = logging.getLogger("tunelab")

_SYNC_SECONDS = 0.5


class SharedEngine(Engine):
    """An engine that shares its experiment with other workers; ``join`` for a worker that did not create it."""

    def __init__(self, *args: Any, join: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._join = join
        self._mine: set[int] = set()
        self._foreign: dict[int, TrialState] = {}
        self._next_sync = 0.0

    def restore(self) -> None:
        if self._join:
            self._sync(force=True)  # another worker's running trials are theirs, not interrupted ones
        else:
            super().restore()

    def _sync(self, *, force: bool = False) -> None:
        """Replay the other workers' trials into this worker's tuner, counts and best."""
        now = time.monotonic()
        if not force and now < self._next_sync:
            return
        self._next_sync = now + _SYNC_SECONDS
        for record in self.storage.get_trials(self.experiment_id):
            self.created = max(self.created, record.number + 1)
            if record.number in self._mine or record.number in self.active:
                continue
            self._replay(record)

    def _replay(self, record: TrialRecord) -> None:
        seen = self._foreign.get(record.number)
        if seen is not None and seen.is_final:
            return
        if record.state.is_final:
            value = record.value if record.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) else None
            if seen is None:
                self.tuner.restore(record.number, record.params, value)
            else:
                self.tuner.observe(record.number, value)
            self.tally.add(record.number, record.state, record.value, record.params, record.message)
        elif seen is None:
            self.tuner.restore(record.number, record.params, pending=True)
        self._foreign[record.number] = record.state

    def _fill_slots(self) -> None:
        self._sync()
        try:
            super()._fill_slots()
        except TrialNumberTaken as exc:
            logger.info("trial %d was created by another worker first; proposing again", exc.number)
            self.tuner.forget(exc.number)
            self._sync(force=True)

    def start(self, number: int, params: dict[str, Any], attempt: int) -> None:
        if self.storage.claim_trial(self.experiment_id, number) is None:
            logger.info("trial %d was claimed by another worker", number)
            return
        self._mine.add(number)
        super().start(number, params, attempt)
