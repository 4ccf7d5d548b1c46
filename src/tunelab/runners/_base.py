"""The runner contract: *where and how* a trial executes, never what it tries.

The engine hands a runner a :class:`TrialJob` and gets a :class:`TrialHandle` back. The
handle tells when the trial ends (``poll``), returns the typed reports the trial wrote
since the last call (``read_reports``, decoded by :mod:`tunelab.trial._channel`) and stops
it (``stop``: SIGTERM to the trial's process group at once, SIGKILL after a grace period).
All handle methods are non-blocking; :meth:`Runner.wait` blocks the engine until a trial
may have news. A runner owns its trial folders: what the engine needs from them (reports,
a failure's detail, what an interrupted trial left) it asks the runner for.
"""

from __future__ import annotations

import select
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelab.trial._channel import BadReport, Report

#: The roles each framework's replicas may take, in rank order (the first present role holds rank 0),
#: and the roles that have exactly one replica.
REPLICA_ROLES: dict[str, tuple[str, ...]] = {
    "pytorch": ("master", "worker"),
    "xgboost": ("master", "worker"),
    "tensorflow": ("chief", "worker", "ps", "evaluator"),
}
SINGLE_ROLES = ("master", "chief")


@dataclass(frozen=True)
class Replica:
    """``count`` processes of one role of a distributed trial; ``command`` None runs the trial's command.

    ``gpus``: what each of these processes gets: its placement-group bundle on the Ray runner, its
    own of the trial's GPUs on the local runner (:func:`~tunelab.runners._gpus.replica_devices`).
    """

    role: str
    count: int = 1
    command: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    gpus: float = 0.0


@dataclass(frozen=True)
class Distributed:
    """A trial run as several processes, each with its framework's environment (``trial.distributed``).

    ``framework`` is a key of :data:`REPLICA_ROLES`; ``stop_grace`` is how long the other
    replicas get between SIGTERM and SIGKILL when one of them fails.
    """

    framework: str
    replicas: tuple[Replica, ...]
    stop_grace: float = 5.0

    @property
    def world_size(self) -> int:
        return sum(replica.count for replica in self.replicas)


@dataclass(frozen=True)
class TrialJob:
    """Everything a runner needs to start one attempt of one trial."""

    experiment_id: str
    number: int
    attempt: int
    params: Mapping[str, Any]
    trial_dir: Path
    code_dir: Path
    seed: int | None = None
    command: str | None = None
    function: Callable[[dict[str, Any]], Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    compat: tuple[str, ...] = ()
    params_as_argv: bool = False
    result_labels: tuple[str, ...] = ()
    #: The resource level (epochs, steps) the trial should train up to, when a scheduler gives budgets.
    budget: int | None = None
    #: The parameter the budget is added under in the trial's params (NNI's ``TRIAL_BUDGET``); None adds none.
    budget_param: str | None = None
    #: A folder the trial may save checkpoints in (``tunelab.get_checkpoint_dir()``).
    checkpoint_dir: Path | None = None
    #: A checkpoint folder copied into ``checkpoint_dir`` before the trial starts (promotion, PBT exploit).
    checkpoint_from: Path | None = None
    #: Add NNI PBTTuner's ``save_checkpoint_dir`` (``checkpoint_dir``) and ``load_checkpoint_dir``
    #: (``checkpoint_from``, else ``checkpoint_dir``) to the params.
    checkpoint_params: bool = False
    #: Several processes per trial (a command trial only); None runs one.
    distributed: Distributed | None = None

    def trial_params(self) -> dict[str, Any]:
        """The parameters the trial sees: ``params``, plus the budget under ``budget_param`` when both are set.

        With ``checkpoint_params``, also NNI PBT's checkpoint folders (as NNI's ``pbt_tuner.py`` gives them).
        """
        params = dict(self.params)
        if self.budget is not None and self.budget_param:
            params[self.budget_param] = self.budget
        if self.checkpoint_params and self.checkpoint_dir is not None:
            params["save_checkpoint_dir"] = str(self.checkpoint_dir)
            params["load_checkpoint_dir"] = str(self.checkpoint_from or self.checkpoint_dir)
        return params


@dataclass(frozen=True)
class Recovered:
    """What a runner found of a trial that was running when the previous engine died.

    ``reports`` are everything the trial's current attempt wrote (oldest first);
    ``was_alive`` says whether its process was still running (it has been stopped since,
    SIGTERM first, SIGKILL after the grace period). A zombie (exited, not reaped) is not alive.
    """

    reports: tuple[Report | BadReport, ...] = ()
    was_alive: bool = False


class TrialHandle(ABC):
    """One running attempt of one trial. Every method returns at once (none blocks).

    Only the engine's thread calls a handle. After ``poll`` returned an exit code the
    handle may still be asked for the last reports (``read_reports``) and for
    ``failure_detail``; ``stop`` and ``request_stop`` then do nothing.
    """

    job: TrialJob
    pid: int
    #: The kernel's start time of ``pid`` (what the engine stores with it) when the runner knows it; None: the
    #: engine reads it (:func:`~tunelab.runners.process_start_time`).
    pid_start: str | None = None

    @abstractmethod
    def poll(self) -> int | None:
        """The exit code once the trial has ended (negative: killed by that signal), else None."""

    @abstractmethod
    def read_reports(self) -> list[Report | BadReport]:
        """Reports this attempt wrote since the last call, oldest first (incremental; never raises)."""

    @abstractmethod
    def stop(self, grace: float) -> None:
        """End the trial now: SIGTERM (or the runner's equivalent) at once, SIGKILL ``grace`` seconds later."""

    @abstractmethod
    def request_stop(self) -> None:
        """Ask the trial to end by itself (``tunelab.should_stop()`` turns true), without a signal."""

    def failure_detail(self) -> str:
        """One line that helps explain a failure (the tail of the trial's stderr); empty when there is none."""
        return ""

    def fileno(self) -> int:
        """A descriptor that becomes readable when the trial ends, for :meth:`Runner.wait`; -1 if none."""
        return -1


class Runner(ABC):
    """Where and how trials run. Runners own their trial folders' layout; the engine never opens them.

    Only the engine's thread calls a runner.
    """

    @abstractmethod
    def start(self, job: TrialJob) -> TrialHandle:
        """Start one attempt. Raises :class:`~tunelab.errors.TrialStartError` when it cannot start at all.

        Call it only while :meth:`wait_reason` is empty; a runner asked to start a trial it
        has no room for (no free GPU) raises :class:`~tunelab.errors.RunnerError`.
        """

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        """Block until one of ``handles`` may have news (it ended, it reported) or ``timeout`` seconds pass."""
        fds = [fd for fd in (handle.fileno() for handle in handles) if fd >= 0]
        try:
            if fds:
                select.select(fds, [], [], timeout)
            elif timeout > 0:
                time.sleep(timeout)
        except InterruptedError:
            pass

    @abstractmethod
    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        """A trial that was RUNNING when the previous engine died: stop it if it still runs, return what it wrote.

        ``job`` describes the attempt that was running (its number, attempt and folder),
        ``pid``/``pid_start`` the process recorded when it started. A live trial gets SIGTERM
        and up to ``grace`` seconds to end (so a final result it writes then is kept) before
        SIGKILL: this call may block that long. The reports are read from the start of the
        attempt's reports file, after the trial has ended.
        """

    def wait_reason(self) -> str:
        """Why no further trial can start now (e.g. every GPU is taken); empty when one can."""
        return ""

    def make_ahead(self, trial_dir: Path) -> None:  # noqa: B027 - an optional hook
        """The folder of the trial the engine expects to start next, named while the engine waits for news.

        A runner that makes its trials' folders may make this one now, so that the trial's start does not
        wait for it (making a folder can take a millisecond on a busy disk); :meth:`close` removes one
        made and never used. Default: nothing.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release resources; trials still running are the engine's to stop first. Idempotent."""
