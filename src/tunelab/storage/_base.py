"""The storage contract.

Storage keeps every experiment, trial, parameter set, intermediate report, result and
state change, written at the moment it happens so that a killed engine loses nothing
it had recorded. Only the engine writes trial data; other processes (the CLI's ``stop``,
the dashboard) may only read, set an experiment's ``stop_requested`` flag, or queue a
:class:`Request` that the engine carries out and closes.

Implementations must make each method call atomic and durable once it returns (or, inside
:meth:`Storage.batch`, once the batch ends), and
must be usable from several processes at once (readers beside one writer). Storage
shared by several engines (``shared: true`` experiments, PostgreSQL) must also keep
concurrent writers apart: :meth:`Storage.create_trial` refuses a number that is taken,
and :meth:`Storage.claim_trial` gives a waiting trial to one caller only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from tunelab.errors import StorageError
from tunelab.storage._records import (
    ExperimentRecord,
    IntermediateResult,
    Phase,
    Request,
    RequestKind,
    TrialRecord,
    TrialState,
)

#: How many warnings a trial keeps, and how long each may be (a trial printing junk cannot grow storage).
MAX_TRIAL_WARNINGS = 20
MAX_WARNING_CHARS = 300


class TrialNumberTaken(StorageError):
    """Another engine created a trial with this number first (it is never handed out twice)."""

    def __init__(self, experiment_id: str, number: int) -> None:
        super().__init__(f"storage: trial {number} of experiment {experiment_id!r} exists already")
        self.experiment_id = experiment_id
        self.number = number


class Storage(ABC):
    # ------------------------------------------------------------ experiments
    @abstractmethod
    def create_experiment(
        self,
        experiment_id: str,
        *,
        name: str,
        config: Mapping[str, Any],
        format: str,
        experiment_dir: str,
        warnings: tuple[str, ...] = (),
    ) -> ExperimentRecord: ...

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> ExperimentRecord:
        """Raises :class:`tunelab.errors.ExperimentNotFound` for an unknown id."""

    @abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]:
        """All experiments, newest first."""

    @abstractmethod
    def update_experiment(self, experiment_id: str, **fields: Any) -> None:
        """Set fields of :class:`ExperimentRecord`; a ``phase`` change is also logged as an event."""

    @abstractmethod
    def request_stop(self, experiment_id: str) -> None:
        """Ask the engine running this experiment to stop it (it polls the flag)."""

    @abstractmethod
    def add_request(self, experiment_id: str, kind: RequestKind, payload: Mapping[str, Any] | None = None) -> int:
        """Queue a request for the engine (cancel a trial, change limits, add a trial); returns its id."""

    @abstractmethod
    def get_requests(self, experiment_id: str, *, open_only: bool = True) -> list[Request]: ...

    @abstractmethod
    def close_request(self, request_id: int, outcome: str) -> None:
        """Mark a request handled (by the engine), with a line saying what was done."""

    # ------------------------------------------------------------ trials
    @abstractmethod
    def create_trial(self, record: TrialRecord) -> None:
        """Raises :class:`TrialNumberTaken` if the experiment has a trial with this number already."""

    def claim_trial(self, experiment_id: str, number: int | None = None) -> TrialRecord | None:
        """Atomically move a WAITING trial (``number``, or the lowest waiting one) to RUNNING.

        Returns the claimed trial, or None when it is not waiting (another engine claimed
        it). No event is logged: the claimant's next ``update_trial`` records the start.
        """
        raise StorageError(f"storage: {type(self).__name__} cannot share an experiment between engines")

    @abstractmethod
    def update_trial(self, experiment_id: str, number: int, **fields: Any) -> None:
        """Set fields of :class:`TrialRecord`; a ``state`` change is also logged as an event."""

    @abstractmethod
    def add_intermediate(self, experiment_id: str, number: int, result: IntermediateResult) -> None:
        """Append an intermediate result to the curve of ``result.attempt`` (kept apart from other attempts')."""

    @abstractmethod
    def get_intermediate(
        self, experiment_id: str, number: int, attempt: int | None = None
    ) -> tuple[IntermediateResult, ...]:
        """The intermediate results of one attempt of a trial (None: its current attempt), in the order stored."""

    @abstractmethod
    def add_trial_warning(self, experiment_id: str, number: int, text: str) -> None:
        """Record a warning about a trial (shown with it in ``TrialRecord.warnings``).

        A trial keeps its first :data:`MAX_TRIAL_WARNINGS` warnings, each cut to
        :data:`MAX_WARNING_CHARS` characters; the last kept one says how many were dropped.
        """

    @abstractmethod
    def get_trials(
        self, experiment_id: str, *, states: tuple[TrialState, ...] | None = None, with_intermediate: bool = False
    ) -> list[TrialRecord]:
        """Trials ordered by number; ``with_intermediate`` fills in each trial's current attempt's curve."""

    @abstractmethod
    def get_trial(self, experiment_id: str, number: int) -> TrialRecord:
        """One trial with the intermediate results of its current attempt."""

    @abstractmethod
    def get_events(self, experiment_id: str, number: int | None = None) -> list[tuple[float, str, str]]:
        """State history ``(time, state or phase, message)``, of one trial or of the experiment."""

    def delete_experiment(self, experiment_id: str) -> None:
        """Remove an experiment and everything stored about it (trials, reports, events, requests).

        Raises :class:`tunelab.errors.ExperimentNotFound` for an unknown id. Its folder on disk
        is not storage's to remove (``tunelab delete`` does that).
        """
        raise StorageError(f"storage: {type(self).__name__} cannot delete experiments")

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release connections; the default does nothing."""

    def batch(self) -> AbstractContextManager[None]:
        """Group the writes made inside the block into one transaction: all of them are durable when the block
        ends (none if it raises), and readers see them together.

        The engine batches what it records in one tick (the reports it read, the trials that ended) and
        acts on them (starts the next trial, says a trial has finished) only after the block. A write
        that fails inside the block (:class:`TrialNumberTaken`) undoes only itself. Only the thread that
        opened a batch writes in it; others wait for it. The default makes each call its own transaction.
        """
        return nullcontext()

    def set_phase(self, experiment_id: str, phase: Phase, message: str = "", **fields: Any) -> None:
        self.update_experiment(experiment_id, phase=phase, message=message, **fields)
