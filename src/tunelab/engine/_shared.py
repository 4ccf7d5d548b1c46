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
from typing import TYPE_CHECKING

from tunelab.storage import TrialNumberTaken, TrialRecord, TrialState

if TYPE_CHECKING:
    from tunelab.engine._loop import Engine

logger = logging.getLogger("tunelab")

_SYNC_SECONDS = 0.5


class Workers:
    """The engine's collaborator when it shares its experiment with other workers.

    The engine calls it at three points: ``restore`` on resume (a joining worker replays the
    others' trials instead of treating their running trials as interrupted), ``before_filling``
    before it proposes (replay what the others did), and ``claim`` before it starts a trial.
    ``join`` is for a worker that did not create the experiment.
    """

    def __init__(self, *, join: bool = False) -> None:
        self.join = join
        self._mine: set[int] = set()
        self._foreign: dict[int, TrialState] = {}
        self._next_sync = 0.0

    def restore(self, engine: Engine) -> bool:
        """True when it restored the engine (a joining worker); False: the engine restores as usual."""
        if self.join:
            self.sync(engine, force=True)  # another worker's running trials are theirs, not interrupted ones
        return self.join

    def sync(self, engine: Engine, *, force: bool = False) -> None:
        """Replay the other workers' trials into this worker's tuner, counts and best."""
        now = engine.clock.monotonic()
        if not force and now < self._next_sync:
            return
        self._next_sync = now + _SYNC_SECONDS
        for record in engine.storage.get_trials(engine.experiment_id):
            engine.created = max(engine.created, record.number + 1)
            if record.number in self._mine or record.number in engine.active:
                continue
            self._replay(engine, record)

    def _replay(self, engine: Engine, record: TrialRecord) -> None:
        seen = self._foreign.get(record.number)
        if seen is not None and seen.is_final:
            return
        if record.state.is_final:
            value = record.value if record.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) else None
            told = engine.ledger.told(value, record.values)
            violation = record.violation or 0.0
            if seen is None:
                engine.tuner.restore(record.number, record.params, told, violation=violation)
            else:
                engine.tuner.observe(record.number, told, violation=violation)
            engine.tally.add(
                record.number,
                record.state,
                record.value,
                record.params,
                record.message,
                record.values,
                record.violation,
            )
        elif seen is None:
            engine.tuner.restore(record.number, record.params, pending=True)
        self._foreign[record.number] = record.state

    def taken(self, engine: Engine, error: TrialNumberTaken) -> None:
        """Another worker created the trial number this one proposed: forget it and replay."""
        logger.info("trial %d was created by another worker first; proposing again", error.number)
        engine.tuner.forget(error.number)
        self.sync(engine, force=True)

    def claim(self, engine: Engine, number: int) -> bool:
        """Take trial ``number`` for this worker (WAITING -> RUNNING in one step); False if another has it."""
        if engine.storage.claim_trial(engine.experiment_id, number) is None:
            logger.info("trial %d was claimed by another worker", number)
            return False
        self._mine.add(number)
        return True
