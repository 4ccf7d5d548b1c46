"""Immutable records and state enums shared by storage, engine, CLI and server."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Phase(str, enum.Enum):
    """Experiment phases, T9k's five plus STOPPED for a user's stop."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"
    STOPPED = "STOPPED"

    @property
    def is_final(self) -> bool:
        return self not in (Phase.PENDING, Phase.RUNNING)


class TrialState(str, enum.Enum):
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    EARLY_STOPPED = "EARLY_STOPPED"
    CANCELED = "CANCELED"

    @property
    def is_final(self) -> bool:
        return self not in (TrialState.WAITING, TrialState.RUNNING)


@dataclass(frozen=True)
class IntermediateResult:
    """One intermediate report of a trial; ``attempt`` is the run of the trial that sent it (1, then each retry).

    Attempts are kept apart so that a retried or re-run trial's curve never mixes the
    steps of an earlier run with its own. Rows stored before tunelab recorded attempts
    (schema version 2 and older) of a trial that had run more than once carry
    ``attempt = 0``: which run sent them is not known.

    ``values`` holds a multi-objective report's value of each objective, in the order the
    experiment declared them (None for one objective, whose value is ``value``).
    """

    step: int
    value: float | None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    time: float = 0.0
    attempt: int = 1
    values: Mapping[str, float | None] | None = None


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: ``number`` is its sequence number within the experiment (NNI's sequence id).

    ``budget`` is the resource a scheduler gave it (None without one); ``parent`` the trial
    it continues (a Hyperband promotion, a PBT generation; None for a fresh configuration)
    and ``checkpoint_from`` the trial whose checkpoint folder it starts from (the parent, or
    the better trial a PBT member exploits). They are stored so that a resumed experiment
    re-runs the trial with the same plan and its scheduler can rebuild brackets and lineages.

    ``intermediate`` holds the reports of the current ``attempt`` only (earlier attempts'
    are read with :meth:`Storage.get_intermediate`); ``warnings`` are lines the engine
    recorded about the trial, such as report lines it could not read (oldest first).

    With several objectives, ``values`` maps each objective's name to the trial's value of
    it (in the declared order) and ``value`` repeats the first one; ``violation`` says by how
    much the trial broke the experiment's constraints (0 or less: it met them; None: there are
    none, or the trial has no result).
    """

    experiment_id: str
    number: int
    state: TrialState
    params: Mapping[str, Any]
    value: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    seed: int | None = None
    created_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    message: str = ""
    wait_reason: str = ""
    trial_dir: str = ""
    pid: int | None = None
    pid_start: str | None = None
    budget: int | None = None
    parent: int | None = None
    checkpoint_from: int | None = None
    intermediate: tuple[IntermediateResult, ...] = ()
    warnings: tuple[str, ...] = ()
    values: Mapping[str, float | None] | None = None
    violation: float | None = None

    @property
    def id(self) -> str:
        """A globally unique id, ``<experiment>-<number>``."""
        return f"{self.experiment_id}-{self.number}"

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at
        return None if end is None else end - self.started_at

    @property
    def feasible(self) -> bool:
        """Whether it met the experiment's constraints (True when there are none); an infeasible trial is never best."""
        return self.violation is None or self.violation <= 0


@dataclass(frozen=True)
class ExperimentRecord:
    id: str
    name: str
    phase: Phase
    config: Mapping[str, Any]
    format: str = "tunelab"
    message: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    elapsed: float = 0.0
    experiment_dir: str = ""
    engine_pid: int | None = None
    engine_host: str | None = None
    heartbeat_at: float | None = None
    stop_requested: bool = False
    waiting_reason: str = ""
    warnings: tuple[str, ...] = ()


class RequestKind(str, enum.Enum):
    """What a user may ask of a running experiment from another process (CLI, dashboard)."""

    CANCEL_TRIAL = "cancel_trial"  # payload: {"number": int}
    UPDATE_LIMITS = "update_limits"  # payload: any of {"max_trials", "max_duration", "concurrency"}
    ADD_TRIAL = "add_trial"  # payload: {"params": {...}}


@dataclass(frozen=True)
class Request:
    """A request to the engine; it sets ``handled_at`` and an ``outcome`` line when it acts on it."""

    id: int
    experiment_id: str
    kind: RequestKind
    payload: Mapping[str, Any]
    created_at: float
    handled_at: float | None = None
    outcome: str = ""
