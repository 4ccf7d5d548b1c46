"""The runner contract: *where and how* a trial executes, never what it tries.

The engine hands a runner a :class:`TrialJob` and gets a :class:`TrialHandle` back. The
handle tells when the trial ends (``poll``), returns the reports the trial wrote since
the last call (``read_reports``) and stops it (``stop``: a cooperative STOP file and
SIGTERM to the trial's process group at once, SIGKILL after a grace period). All handle
methods are non-blocking; ``fileno`` gives something ``select`` can wait on so the engine
wakes the moment a trial exits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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

    def trial_params(self) -> dict[str, Any]:
        """The parameters the trial sees: ``params``, plus the budget under ``budget_param`` when both are set."""
        params = dict(self.params)
        if self.budget is not None and self.budget_param:
            params[self.budget_param] = self.budget
        return params


class TrialHandle(ABC):
    job: TrialJob
    pid: int

    @abstractmethod
    def poll(self) -> int | None:
        """The exit code once the trial has ended (negative: killed by that signal), else None."""

    @abstractmethod
    def read_reports(self) -> list[dict[str, Any]]:
        """Reports written since the last call, oldest first."""

    @abstractmethod
    def stop(self, grace: float) -> None:
        """Ask the trial to end now; it is killed if still running ``grace`` seconds later."""

    @abstractmethod
    def fileno(self) -> int:
        """A descriptor that becomes readable when the trial's process ends."""

    def request_stop(self) -> None:
        """Ask the trial to end by itself (the STOP file ``tunelab.should_stop()`` reads), without a signal."""
        from tunelab.trial._context import STOP_FILE

        (self.job.trial_dir / STOP_FILE).touch()


class Runner(ABC):
    @abstractmethod
    def start(self, job: TrialJob) -> TrialHandle: ...

    def wait_reason(self) -> str:
        """Why no further trial can start now (e.g. every GPU is taken); empty when one can."""
        return ""

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Release resources; trials still running are the engine's to stop first."""
