"""A runner whose trials the driver's thread runs: the caller of the search trains, the engine decides.

KerasTuner trains in the process that calls ``search()`` (a Keras model cannot, in general, be
pickled into another process), and a real ``keras_tuner.Tuner`` asks its oracle for one trial at
a time (``create_trial``), reports epochs (``update_trial``) and ends it (``end_trial``). Both are
*driver-driven*: the caller decides when a trial runs. tunelab's engine is the other way round: it
asks the tuner and hands the trial to a runner. :class:`DriverRunner` joins the two. The engine runs
in a thread of its own (:class:`tunelab.engine.Session`) and "starts" a trial by queueing its job;
the driver takes the job (:meth:`DriverRunner.next_trial`), runs it inside :meth:`DriverTrial.context`,
writes its reports through the ordinary trial channel (the trial's ``reports.jsonl``, so a SIGKILL of
the driver loses nothing the trial reported: ``tunelab.report``, ``tunelab.report_final``) and ends it
(:meth:`DriverTrial.finish` or :meth:`DriverTrial.fail`). Everything else (tuner, scheduler, failure
policy, storage, resume) is the engine's, unchanged: the driver never writes to storage.
"""

from __future__ import annotations

import os
import queue
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tunelab.errors import TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._files import STDERR_FILE, STOP_FILE, prepare_trial_dir, stderr_tail
from tunelab.runners._function_trial import active_context, trial_context
from tunelab.trial import _context
from tunelab.trial._channel import REPORTS_FILE, BadReport, Report, ReportReader, read_all

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STOPPED", "DriverRunner", "DriverTrial"]

#: Exit codes a driver-side trial ends with: success, an exception, stopped before or while it ran.
EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, -15


class DriverTrial(TrialHandle):
    """One attempt the engine started and the driver runs; the engine's handle and the driver's trial at once.

    The engine's thread calls the :class:`TrialHandle` methods; the driver's thread calls
    :meth:`context`, :meth:`finish` and reads :attr:`stop_requested`.
    """

    def __init__(self, job: TrialJob, runner: DriverRunner) -> None:
        self.job = job
        self.pid = os.getpid()
        self._runner = runner
        self._reader = ReportReader(job.trial_dir / REPORTS_FILE, attempt=job.attempt)
        self._exit_code: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.taken = False

    # ------------------------------------------------------------------ engine side
    def poll(self) -> int | None:
        return self._exit_code

    def read_reports(self) -> list[Report | BadReport]:
        return self._reader.finish() if self._exit_code is not None else self._reader.read()

    def stop(self, grace: float) -> None:
        """Ask the driver to end the trial; one it has not taken yet ends now, unrun."""
        self.request_stop()
        with self._lock:
            if not self.taken and self._exit_code is None:
                self._exit_code = EXIT_STOPPED
        self._runner.wake()

    def request_stop(self) -> None:
        if self._exit_code is None:
            self._stop.set()
            (self.job.trial_dir / STOP_FILE).touch()

    def failure_detail(self) -> str:
        return stderr_tail(self.job.trial_dir)

    # ------------------------------------------------------------------ driver side
    @property
    def stop_requested(self) -> bool:
        """True once the engine asked this trial to end (a stop, a timeout, an early stop): end it soon."""
        return self._stop.is_set()

    @property
    def params(self) -> dict[str, Any]:
        return self.job.trial_params()

    def hyperparameters(self) -> Any:
        """The trial's ``HyperParameters`` (inside :meth:`context`): the engine's values, and a parameter it
        did not know drawn here and reported back, so the space grows (a define-by-run experiment)."""
        function = self.job.function
        make = getattr(function, "hyperparameters", None)
        if make is None:
            raise TypeError("the experiment is not define-by-run: its trials get parameters, not HyperParameters")
        return make(self.job.trial_params())

    def take(self) -> bool:
        """Claim the trial for running; False if the engine stopped it first."""
        with self._lock:
            if self._exit_code is not None:
                return False
            self.taken = True
            return True

    @contextmanager
    def context(self) -> Iterator[_context.TrialContext]:
        """The trial API (``tunelab.report``, ``get_budget``, ``get_checkpoint_dir``) for this trial while it runs."""
        context = trial_context(self.job)
        with active_context(context):
            yield context

    def fail(self, exc: BaseException) -> None:
        """End the trial as failed by ``exc``; its traceback goes to the trial's stderr log."""
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with open(self.job.trial_dir / STDERR_FILE, "a", encoding="utf-8") as log:
            log.write(text)
        self.finish(EXIT_FAILED)

    def finish(self, exit_code: int = EXIT_OK) -> None:
        """End the trial; the engine reads its last reports and settles it."""
        with self._lock:
            if self._exit_code is None:
                self._exit_code = exit_code
        self._runner.wake()


class DriverRunner(Runner):
    """A runner whose trials the driver's thread runs (see the module docstring). One driver thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[DriverTrial | None] = queue.Queue()
        self._news = threading.Event()
        self._left = False
        self._current: DriverTrial | None = None

    def start(self, job: TrialJob) -> TrialHandle:
        try:
            prepare_trial_dir(job)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the trial folder {job.trial_dir}: {exc.strerror or exc}") from exc
        trial = DriverTrial(job, self)
        if self._left:
            trial.finish(EXIT_STOPPED)
        else:
            self._jobs.put(trial)
        return trial

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        # Without a trial to wait for the engine asks for no wait at all; once the driver has left, that
        # would spin until the engine notices the stop, so it waits a little.
        self._news.wait(max(timeout, 0.05) if self._left else timeout)
        self._news.clear()

    def wait_reason(self) -> str:
        return "the driver stopped running trials" if self._left else ""

    def wake(self) -> None:
        self._news.set()

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        # The trial ran in the driver that died with the engine: nothing of it still runs.
        return Recovered(reports=tuple(read_all(job.trial_dir / REPORTS_FILE, attempt=job.attempt)), was_alive=False)

    def close(self) -> None:
        self._jobs.put(None)

    # ------------------------------------------------------------------ driver side
    def next_trial(self) -> DriverTrial | None:
        """The next trial to run (blocking); None once the engine has ended."""
        while True:
            trial = self._jobs.get()
            if trial is None:
                self._jobs.put(None)  # every later call sees the end too
                return None
            if trial.take():
                self._current = trial
                return trial

    def leave(self, alive: Callable[[], bool]) -> None:
        """The driver runs no more trials (the experiment is being stopped): the one it was running and
        those queued end as stopped.

        The running one ends once the engine has asked it to (it then counts as interrupted and runs
        again on resume, not as failed), or when the engine (``alive``) has ended.
        """
        self._left = True
        current = self._current
        if current is not None and current.poll() is None:
            while alive() and not current._stop.wait(0.1):
                pass
            current.finish(EXIT_STOPPED)
        while True:
            try:
                trial = self._jobs.get_nowait()
            except queue.Empty:
                break
            if trial is None:
                self._jobs.put(None)
                break
            trial.finish(EXIT_STOPPED)
        self.wake()
