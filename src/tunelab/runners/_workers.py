"""Reusable trial workers (``trial.isolation: worker``, the default for function trials).

A small pool of worker processes per experiment runs many function trials each, so a
cheap trial pays for a pipe message instead of a fork. A worker is forked from the
engine once (or started by a fork server when other threads run here: see
:func:`~tunelab.runners._local.start_method`), in its own session, and then waits for
jobs on a pipe. Its stdout and stderr point at its own two files in the register of
workers (below), emptied before each job; the trial's handle copies what they gain to the
trial's log files as the trial runs and when it ends (so a trial that prints nothing gets
no log files, a file made per trial costing about a millisecond on some disks). For each
trial it installs the trial's context, environment, seed and working folder, calls the function,
puts back what the trial changed in the process (:func:`~tunelab.runners._function_trial.borrowed_process`:
environment, working folder, ``sys.path``, signal handlers and timers; every trial seeds the
random generators), and writes the exit status to a second pipe. Reports travel through the trial
channel (the trial's reports file), as from any process, so nothing is lost when a
worker dies. A worker trial writes no pid file: each worker is noted once, when it
starts, in its experiment's register of workers (``trials/.workers``), and a resume that
finds a trial RUNNING without a stored pid stops every worker left there before it reads
the trial's reports (:meth:`WorkerRunner.recover`).

Crash isolation is kept: a trial that crashes its worker (a segfault, ``os._exit``, a
signal) ends with that exit code as a process trial would, and the worker is replaced
for the next trial; a stop or a timeout is SIGTERM to the worker's process group, then
SIGKILL after the grace period, and that worker is not reused. A worker whose memory
(peak resident set) has grown by more than ``memory_growth`` bytes since its first trial
retires after the trial that made it grow, so a leak in the objective cannot grow
without bound. Idle workers exit when the engine's end of their pipe closes (the engine
closed the runner, or died). What a worker cannot put back (modules the trial imported,
threads it left running) stays for its next trials; ``trial.isolation: process`` forks a
fresh process per trial instead.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tunelab._atomic import write_json
from tunelab.errors import TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._files import (
    REPORTS_FILE,
    STDERR_FILE,
    STDOUT_FILE,
    FoldersAhead,
    prepare_trial_dir,
    read_pid_file,
)
from tunelab.runners._function_trial import redirect_output, run_trial
from tunelab.runners._local import LocalRunner, _import_numpy_random, _LocalHandle, start_method
from tunelab.runners._processes import is_same_process_alive, process_start_time, signal_group, stop_orphan
from tunelab.trial._channel import read_all

__all__ = ["DEFAULT_MEMORY_GROWTH", "WorkerRunner"]

logger = logging.getLogger("tunelab")

#: A worker that has grown by more than this since its first trial is replaced (bytes).
DEFAULT_MEMORY_GROWTH = 1 << 30
_CLOSE_GRACE = 2.0
#: The register of live workers, in the experiment's trials folder (see :func:`worker_register`).
_REGISTER = ".workers"
#: A worker's output streams and the trial log each is copied to.
_STREAMS = ("stdout", "stderr")
_LOG_FILES = {"stdout": STDOUT_FILE, "stderr": STDERR_FILE}
#: The second byte of a worker's status message: it takes another job, or it ends now.
_READY, _RETIRING = 1, 2


class _Worker:
    """The engine's end of one worker process: its job pipe, its status pipe and the process."""

    def __init__(
        self,
        function: Callable[..., Any],
        method: str,
        others: list[_Worker],
        memory_growth: int,
        code_dir: Path,
        register: Path,
    ) -> None:
        context: Any = multiprocessing.get_context(method)
        jobs_r, jobs_w = context.Pipe(duplex=False)
        done_r, done_w = context.Pipe(duplex=False)
        if method == "fork":
            _import_numpy_random()
            # The engine's ends of this worker's pipes and of the others': a worker must see end of file on its
            # job pipe once the engine's end closes, so it holds no copy of any engine end.
            close = [fd for worker in others for fd in (worker.jobs.fileno(), worker.done.fileno())]
            close += [jobs_w.fileno(), done_r.fileno()]
            payload: Any = function
            args: tuple[Any, ...] = (jobs_r, done_w, payload, None, False, close, memory_growth, register)
        else:  # a fork server's child imports the function's module again: its folder may hold it
            path = [str(code_dir), *(p for p in sys.path if p != str(code_dir))]
            numpy = "numpy" in sys.modules
            args = (jobs_r, done_w, pickle.dumps(function), path, numpy, [], memory_growth, register)
        self.process = context.Process(target=_worker_main, args=args, daemon=False)
        try:
            self.process.start()
        except OSError as exc:
            raise TrialStartError(f"cannot start a worker process for the trial function: {exc}") from exc
        finally:
            jobs_r.close()
            done_w.close()
        self.jobs: Connection = jobs_w
        self.done: Connection = done_r
        os.set_blocking(done_r.fileno(), False)
        assert self.process.pid is not None
        self.pid: int = self.process.pid
        self.start_time = process_start_time(self.pid)
        self.function = function
        self.method = method
        self.entry: Path | None = None  # its file in the register of workers
        #: Its own stdout and stderr files (it makes them), copied to each trial's logs by the trial's handle.
        self.logs = tuple(_spool(register, self.pid, name) for name in _STREAMS)

    def unregister(self) -> None:
        """It has ended: its files leave the register."""
        if self.entry is not None:
            self.entry.unlink(missing_ok=True)
            self.entry = None
        for log in self.logs:
            log.unlink(missing_ok=True)

    def send(self, job: TrialJob) -> bool:
        """Hand the worker a job; False when it has died (its pipe is closed).

        Its log files are emptied first (it is idle: its last trial's output has been copied), its stdout's
        begun with the job's header (:func:`_spool_header`), which tells a resume whose output it holds.
        """
        try:
            fd = os.open(self.logs[0], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)  # the worker appends to it
            try:
                os.write(fd, _spool_header(job))
            finally:
                os.close(fd)
            os.truncate(self.logs[1], 0)
        except FileNotFoundError:  # a new worker makes its stderr file
            pass
        except OSError:
            return False
        try:
            self.jobs.send_bytes(pickle.dumps(dataclasses.replace(job, function=None)))
        except OSError:
            return False
        return True

    def idle_and_alive(self) -> bool:
        """It waits for a job: not ended, and nothing (not even an end of file) in its status pipe."""
        if self.process.exitcode is not None:
            return False
        try:
            os.read(self.done.fileno(), 1)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False  # a status with no trial running, or its end of file: either way, not reusable

    def close(self) -> None:
        """Let it end (end of file on its job pipe); SIGTERM, then SIGKILL, if it does not."""
        self.jobs.close()
        self.process.join(_CLOSE_GRACE if self.process.exitcode is None else 0)
        if self.process.exitcode is None:
            signal_group(self.pid, signal.SIGTERM)
            self.process.join(_CLOSE_GRACE)
        if self.process.exitcode is None:
            signal_group(self.pid, signal.SIGKILL)
            self.process.join(_CLOSE_GRACE)
        self.done.close()


class _WorkerHandle(_LocalHandle):
    """One trial running in a worker: it ends when the worker writes its status, or when the worker dies."""

    def __init__(self, runner: WorkerRunner, worker: _Worker, job: TrialJob) -> None:
        super().__init__(job)
        self._runner = runner
        self._worker = worker
        self.pid = worker.pid
        self.pid_start = worker.start_time
        self._fd = worker.done.fileno()
        self._copied = [len(_spool_header(job)), 0]  # what of the worker's stdout and stderr files is copied

    def poll(self) -> int | None:
        if self._exit_code is None:
            self._exit_code = self._poll_process()
            if self._exit_code is None and self._kill_at is not None and time.monotonic() >= self._kill_at:
                signal_group(self.pid, signal.SIGKILL)
            if self._exit_code is None:
                self._copy_logs()  # as it runs: `tunelab logs -f` follows it
        return self._exit_code

    def _copy_logs(self) -> None:
        """Append what the trial printed since the last look (in its worker's own files) to the trial's logs.

        The trial's log files are made only when it prints something: a file made per trial costs
        about a millisecond on some disks, and most cheap trials print nothing. The worker's files
        are emptied before it gets its next job, which is only after its last trial's end was seen.
        """
        for position, (spool, name) in enumerate(zip(self._worker.logs, _STREAMS, strict=True)):
            try:
                if os.stat(spool).st_size <= self._copied[position]:  # nothing new (one system call, no file opened)
                    continue
                with open(spool, "rb") as source:
                    source.seek(self._copied[position])
                    data = source.read()
            except OSError:
                continue
            if data:
                try:
                    with open(self.job.trial_dir / _LOG_FILES[name], "ab") as log:
                        log.write(data)
                except OSError as exc:  # the trial's folder is gone or full: the output stays in the worker's file
                    logger.debug("trial %d: could not copy its %s: %s", self.job.number, name, exc)
                    continue
                self._copied[position] += len(data)

    def _poll_process(self) -> int | None:
        worker = self._worker
        try:
            data = os.read(worker.done.fileno(), 2)
        except BlockingIOError:
            return None
        except OSError:
            data = b""
        if data:
            # The trial ended by itself. A worker that was sent SIGTERM for it may be dying now: not reused.
            ready = data[1:] == bytes([_READY])
            self._copy_logs()
            self._runner._ended(worker, reuse=ready and self._kill_at is None)
            return data[0]
        code = worker.process.exitcode  # its status pipe closed: the worker died with the trial
        if code is None:
            self._fd = worker.process.sentinel  # readable once it can be reaped (a moment from now)
            return None
        signal_group(self.pid, signal.SIGKILL)  # what the trial started goes with it
        self._copy_logs()
        self._runner._ended(worker, reuse=False)
        return code

    def fileno(self) -> int:
        return self._fd


class WorkerRunner(Runner):
    """Function trials in reused worker processes; command trials (and recovery) as :class:`LocalRunner` does.

    ``memory_growth``: bytes a worker may grow by before it is replaced (None: no limit).
    """

    def __init__(self, *, memory_growth: int | None = DEFAULT_MEMORY_GROWTH) -> None:
        self.memory_growth = memory_growth
        self._processes = LocalRunner()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._fork_reasons: set[str] = set()
        self._ahead = FoldersAhead()

    @property
    def workers(self) -> list[int]:
        """The pids of the live workers (idle or running a trial)."""
        return [worker.pid for worker in (*self._idle, *self._busy)]

    def make_ahead(self, trial_dir: Path) -> None:
        self._ahead.make(trial_dir)

    def start(self, job: TrialJob) -> TrialHandle:
        self._ahead.used(job.trial_dir)
        if job.function is None:
            return self._processes.start(job)
        try:
            prepare_trial_dir(job, called=True)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the trial folder {job.trial_dir}: {exc.strerror or exc}") from exc
        worker = self._idle_worker(job.function)
        while worker is None or not worker.send(job):
            if worker is not None:
                self._retire(worker)
            worker = self._spawn(job)
        self._busy.append(worker)
        # No pid file per trial (a file made per trial costs about a millisecond on some disks): the worker is
        # in the register of its experiment's workers, which a resume stops before it reads the trial's reports.
        return _WorkerHandle(self, worker, job)

    def _idle_worker(self, function: Callable[..., Any]) -> _Worker | None:
        while self._idle:
            worker = self._idle.pop()
            if worker.function is function and worker.idle_and_alive():
                return worker
            self._retire(worker)
        return None

    def _spawn(self, job: TrialJob) -> _Worker:
        assert job.function is not None
        method, why = start_method(job)
        if method == "fork" and threading.active_count() > 1 and why not in self._fork_reasons:
            self._fork_reasons.add(why)
            logger.info("trial workers are forked although other threads run: %s", why)
        register = worker_register(job.trial_dir)
        try:
            register.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrialStartError(f"cannot make the register of trial workers {register}: {exc}") from exc
        others = [*self._idle, *self._busy]
        worker = _Worker(job.function, method, others, self.memory_growth or 0, job.code_dir, register)
        try:
            write_json(register / f"{worker.pid}.json", {"pid": worker.pid, "start_time": worker.start_time})
        except OSError as exc:
            self._retire(worker)
            raise TrialStartError(f"cannot note the trial worker in {job.trial_dir.parent}: {exc}") from exc
        worker.entry = register / f"{worker.pid}.json"
        return worker

    def _ended(self, worker: _Worker, *, reuse: bool) -> None:
        if worker in self._busy:
            self._busy.remove(worker)
        if reuse:
            self._idle.append(worker)
        else:
            self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        worker.jobs.close()  # an idle worker ends at once; a dying one is reaped below
        if worker.process.exitcode is None:
            signal_group(worker.pid, signal.SIGKILL)
        worker.process.join(_CLOSE_GRACE)
        worker.done.close()
        worker.unregister()

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        """A trial of an engine that died. Without its pid (stored, or in a process trial's pid file) it ran in
        one of that engine's workers, not known which: every worker left in the register is stopped first."""
        register = worker_register(job.trial_dir)
        if pid or read_pid_file(job.trial_dir, job.attempt) is not None:
            recovered = self._processes.recover(job, pid, pid_start, grace)
            _rescue_output(job, register)
            return recovered
        was_alive = False
        for entry in sorted(register.glob("*.json")) if register.is_dir() else []:
            try:
                noted = json.loads(entry.read_text())
                orphan, start_time = int(noted["pid"]), noted.get("start_time")
            except (OSError, ValueError, KeyError, TypeError):
                continue
            was_alive = stop_orphan(orphan, start_time, grace) or was_alive
            entry.unlink(missing_ok=True)
        _rescue_output(job, register)
        return Recovered(
            reports=tuple(read_all(job.trial_dir / REPORTS_FILE, attempt=job.attempt)), was_alive=was_alive
        )

    def close(self) -> None:
        workers, self._idle, self._busy = [*self._idle, *self._busy], [], []
        for worker in workers:
            worker.jobs.close()  # every idle worker starts ending at once
        for worker in workers:
            worker.close()
            worker.unregister()
        self._ahead.remove_unused()
        self._processes.close()


def _spool_header(job: TrialJob) -> bytes:
    """The first line of a worker's stdout file while it runs ``job``: a NUL, the trial's folder, its attempt."""
    return b"\0" + os.fsencode(job.trial_dir) + f"\t{job.attempt}\n".encode()


def _rescue_output(job: TrialJob, register: Path) -> None:
    """After the engine died: what ``job`` printed in a worker after the engine's last look, appended to the
    trial's logs from the worker's files (the logs hold what was copied before: the rest follows it), which
    are removed then, as are a dead worker's files whose output its trial's logs already hold."""
    for stdout in register.glob("*.stdout") if register.is_dir() else []:
        stderr = stdout.with_suffix(".stderr")
        try:
            with open(stdout, "rb") as handle:
                header = handle.readline()
            if is_same_process_alive(int(stdout.stem), None):
                continue  # a live worker's (another engine's, sharing the experiment); a zombie writes no more
        except (OSError, ValueError):
            continue
        folder, _, attempt = header[1:-1].partition(b"\t")
        if not header.startswith(b"\0") or not attempt.isdigit():
            continue
        mine = header == _spool_header(job)
        logs = Path(os.fsdecode(folder))
        left = [
            _unlogged(spool, logs / name, len(header) if spool is stdout else 0)
            for spool, name in ((stdout, STDOUT_FILE), (stderr, STDERR_FILE))
        ]
        if mine:
            for data, name in zip(left, (STDOUT_FILE, STDERR_FILE), strict=True):
                if data:
                    with open(job.trial_dir / name, "ab") as log:
                        log.write(data)
        elif any(left):
            continue  # another trial's, recovered after this one
        for spool in (stdout, stderr):
            spool.unlink(missing_ok=True)


def _unlogged(spool: Path, log: Path, start: int) -> bytes:
    """What of a worker's output file (from ``start``) its trial's log does not hold yet."""
    try:
        copied = log.stat().st_size
    except OSError:
        copied = 0
    try:
        with open(spool, "rb") as handle:
            handle.seek(start + copied)
            return handle.read()
    except OSError:
        return b""


def _spool(register: Path, pid: int, stream: str) -> Path:
    """A worker's own stdout or stderr file, in the register."""
    return register / f"{pid}.{stream}"


def worker_register(trial_dir: Path) -> Path:
    """The folder noting an experiment's live trial workers (one file each: pid and start time), beside its trials."""
    return trial_dir.parent / _REGISTER


def _worker_main(
    jobs: Connection,
    done: Connection,
    payload: Callable[..., Any] | bytes,
    sys_path: list[str] | None,
    import_numpy: bool,
    close: list[int],
    memory_growth: int,
    register: Path,
) -> None:
    """Body of a worker process: take jobs until the engine's end of the pipe closes."""
    os.setsid()
    for fd in close:  # the other workers' pipes: their ends must close when the engine's do
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    here = os.getpid()
    redirect_output(register, (f"{here}.stdout", f"{here}.stderr"))  # its own logs (_spool), emptied per job
    status_fd = done.fileno()
    function: Callable[..., Any] | None = None
    baseline: int | None = None
    while True:
        try:
            job: TrialJob = pickle.loads(jobs.recv_bytes())
        except (EOFError, OSError):
            break
        if function is None:  # unpickled with the first job, so that a failure is that trial's (in its stderr)
            try:
                if sys_path is not None:
                    sys.path[:] = sys_path
                function = pickle.loads(payload) if isinstance(payload, bytes) else payload
                if import_numpy:
                    import numpy  # noqa: F401
            except BaseException:  # noqa: BLE001 - this worker cannot run trials: it fails one and ends
                redirect_output(job.trial_dir)
                print("tunelab: the trial function could not be loaded in a worker process:", file=sys.stderr)
                traceback.print_exc()
                sys.stderr.flush()
                os.write(status_fd, bytes([1, _RETIRING]))
                break
        status = run_trial(dataclasses.replace(job, function=function), redirect=False)
        rss = _resident_bytes()
        baseline = rss if baseline is None else baseline
        grown = memory_growth > 0 and rss - baseline > memory_growth
        if grown:
            print(
                f"tunelab: this trial's worker grew by {(rss - baseline) >> 20} MiB (more than "
                f"{memory_growth >> 20} MiB); it is replaced",
                file=sys.stderr,
                flush=True,
            )
        os.write(status_fd, bytes([status & 0xFF, _RETIRING if grown else _READY]))  # one write: atomic
        if grown:
            break
    os._exit(0)


def _resident_bytes() -> int:
    """The worker's peak resident memory so far (bytes; it only grows, as a leak does)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
