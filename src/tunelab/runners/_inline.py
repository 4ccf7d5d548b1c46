"""The inline runner: a function trial is called in the engine's own process (``trial.isolation: inline``).

The cheapest way to run a trial, for objectives that take microseconds, or that need
what only this process holds (a model in memory, a framework that must not be forked).
What it gives up: crash isolation (a segfault or ``os._exit`` in the trial ends the
experiment; ``tunelab resume`` runs that trial again), and stopping a running trial
(``start`` returns once the call has ended, so a timeout, an early stop or a cancel
cannot cut it short; ``tunelab.should_stop()`` is always false). Exceptions are caught
and fail only their trial, as in the other runners. Trials run one after another
whatever the concurrency.

During the call the trial's environment variables are set and its working folder is
``trial.code_dir``; both are put back afterwards, and the states of :mod:`random`'s and
numpy's global generators (each trial seeds them) when the experiment ends. What it prints
goes to its log files. Reports are checked and decoded as the trial channel does, but are
kept in memory: a trial that dies with the engine is run again on resume.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Sequence

from tunelab.errors import TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._files import STDERR_FILE, STDOUT_FILE, prepare_trial_dir, stderr_tail
from tunelab.runners._function_trial import GeneratorStates, borrowed_process, call_function, trial_context
from tunelab.runners._local import LocalRunner
from tunelab.runners._processes import process_start_time
from tunelab.trial import _context
from tunelab.trial._channel import BadReport, Report, decode, encode

__all__ = ["InlineRunner"]


class _MemoryContext(_context.TrialContext):
    """A trial context whose reports are kept in a list (through the channel's encoding and decoding)."""

    def __init__(self, context: _context.TrialContext) -> None:
        super().__init__(**{name: getattr(context, name) for name in _FIELDS})
        self.reports: list[Report | BadReport] = []

    def should_stop(self) -> bool:
        return False

    def _write(self, report: Report) -> None:
        self.reports.append(decode(encode(report)))  # the same checks as a report through the file


_FIELDS = (
    "params",
    "trial_dir",
    "number",
    "experiment_id",
    "seed",
    "result_labels",
    "budget",
    "checkpoint_dir",
    "attempt",
)


class _InlineHandle(TrialHandle):
    """A trial that has already run: its exit status and reports are known when the handle is made."""

    def __init__(self, job: TrialJob, status: int, reports: list[Report | BadReport], pid_start: str | None) -> None:
        self.job = job
        self.pid = os.getpid()
        self.pid_start = pid_start
        self._status = status
        self._reports = reports

    def poll(self) -> int | None:
        return self._status

    def read_reports(self) -> list[Report | BadReport]:
        reports, self._reports = self._reports, []
        return reports

    def stop(self, grace: float) -> None:
        """It has ended already."""

    def request_stop(self) -> None:
        """It has ended already."""

    def failure_detail(self) -> str:
        return stderr_tail(self.job.trial_dir) if self._status else ""


class InlineRunner(Runner):
    """Calls function trials in this process; see the module's documentation for what that gives up."""

    def __init__(self) -> None:
        self._processes = LocalRunner()  # only to recover trials an earlier engine ran as processes
        self._pid_start = process_start_time(os.getpid())
        self._generators = GeneratorStates()  # put back once, when the experiment ends (trials seed them)

    def start(self, job: TrialJob) -> TrialHandle:
        if job.function is None:
            raise TrialStartError("trial.isolation: 'inline' runs function trials; this trial is a command")
        try:  # the folder is made when something goes in it: an earlier attempt's files, a checkpoint, logs
            if job.attempt > 1 or job.checkpoint_from is not None or job.checkpoint_params:
                prepare_trial_dir(job, called=True)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the trial folder {job.trial_dir}: {exc.strerror or exc}") from exc
        context = _MemoryContext(trial_context(job))
        out, err = io.StringIO(), io.StringIO()
        with borrowed_process(job, signals=False), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = call_function(job, context, reported=lambda: bool(context.reports))
        for text, name in ((out.getvalue(), STDOUT_FILE), (err.getvalue(), STDERR_FILE)):
            if text:
                job.trial_dir.mkdir(parents=True, exist_ok=True)
                with open(job.trial_dir / name, "a", encoding="utf-8", errors="replace") as log:
                    log.write(text)
        return _InlineHandle(job, status, context.reports, self._pid_start)

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        if any(not isinstance(handle, _InlineHandle) for handle in handles):
            super().wait(handles, timeout)
        # An inline trial has ended when it is handed out: there is never anything to wait for.

    def close(self) -> None:
        self._generators.restore()
        self._processes.close()

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        if pid == os.getpid():  # it ran here, in an engine that failed: nothing of it is left to stop
            return Recovered()
        return self._processes.recover(job, pid, pid_start, grace)
