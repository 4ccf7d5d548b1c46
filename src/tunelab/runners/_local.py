"""The local runner: every trial is a process on this machine, in its own process group.

Command trials are started from an argv list (a shell only when the command uses shell
syntax). Function trials run in a child process, so a crash, a segfault or ``os._exit`` in
one trial cannot take the engine down, and they report through the same file channel as
commands do. The child is forked (fast), except when other threads run in this process
(the dashboard's, say): forking a threaded process can deadlock the child, so it then
comes from a fork server when the function can be pickled (see :func:`start_method`).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import pickle
import re
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Literal

from tunelab.errors import TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._files import (
    AUP_CONFIG_FILE,
    REPLICA_SPEC_FILE,
    REPORTS_FILE,
    STDERR_FILE,
    STDOUT_FILE,
    STOP_FILE,
    FoldersAhead,
    free_ports,
    ports_needed,
    prepare_replica_dirs,
    prepare_trial_dir,
    read_pid_file,
    replica_dir,
    replica_environment,
    replica_log_name,
    replica_processes,
    stderr_tail,
    trial_environment,
    write_pid_file,
)
from tunelab.runners._function_trial import redirect_output, run_trial
from tunelab.runners._gpus import replica_devices
from tunelab.runners._processes import process_start_time, signal_group, stop_orphan
from tunelab.trial._channel import BadReport, Report, ReportReader, read_all

logger = logging.getLogger("tunelab")

_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]#~=%{}\n]")


def command_argv(command: str) -> list[str]:
    """An argv list for a command string: split it, or hand it to ``sh -c`` if it needs a shell."""
    stripped = command.strip()
    if _SHELL_SYNTAX.search(stripped.replace("'", "").replace('"', "")) is None:
        try:
            return shlex.split(stripped)
        except ValueError:
            pass
    return ["/bin/sh", "-c", stripped]


class _LocalHandle(TrialHandle):
    def __init__(self, job: TrialJob) -> None:
        self.job = job
        self._reader = ReportReader(job.trial_dir / REPORTS_FILE, attempt=job.attempt)
        self._kill_at: float | None = None
        self._exit_code: int | None = None

    def read_reports(self) -> list[Report | BadReport]:
        if self._exit_code is not None:  # it writes no more: an unfinished last line is reported too
            return self._reader.finish()
        return self._reader.read()

    def request_stop(self) -> None:
        if self._exit_code is None:
            (self.job.trial_dir / STOP_FILE).touch()

    def stop(self, grace: float) -> None:
        if self._exit_code is not None:
            return
        (self.job.trial_dir / STOP_FILE).touch()
        signal_group(self.pid, signal.SIGTERM)
        if self._kill_at is None:
            self._kill_at = time.monotonic() + max(0.0, grace)

    def poll(self) -> int | None:
        if self._exit_code is None:
            self._exit_code = self._poll_process()
            if self._exit_code is None and self._kill_at is not None and time.monotonic() >= self._kill_at:
                signal_group(self.pid, signal.SIGKILL)
            elif self._exit_code is not None:
                # A trial's own children may outlive it; they belong to the trial, so they go too.
                signal_group(self.pid, signal.SIGKILL)
        return self._exit_code

    def failure_detail(self) -> str:
        return stderr_tail(self.job.trial_dir)

    def _poll_process(self) -> int | None:
        raise NotImplementedError


class _CommandHandle(_LocalHandle):
    def __init__(self, job: TrialJob) -> None:
        super().__init__(job)
        argv = self._argv()
        if not job.code_dir.is_dir():
            raise TrialStartError(f"cannot start {argv[0]!r}: trial.code_dir {job.code_dir} is not a folder")
        with open(job.trial_dir / STDOUT_FILE, "ab") as out, open(job.trial_dir / STDERR_FILE, "ab") as err:
            try:
                self._process = subprocess.Popen(
                    argv,
                    cwd=job.code_dir,
                    env=trial_environment(job),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:
                why = exc.strerror or str(exc)
                err.write(f"tunelab: cannot start {argv[0]!r}: {why}\n".encode())
                raise TrialStartError(f"cannot start {argv[0]!r}: {why} (trial.command)") from exc
        self.pid = self._process.pid
        try:
            self._pidfd: int | None = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def _argv(self) -> list[str]:
        argv = command_argv(self.job.command or "")
        if not argv:
            raise TrialStartError("trial.command is empty")
        if self.job.params_as_argv:
            argv = [*argv, str(self.job.trial_dir / AUP_CONFIG_FILE)]
        return argv

    def _poll_process(self) -> int | None:
        code = self._process.poll()
        if code is not None and self._pidfd is not None and self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        return code

    def fileno(self) -> int:
        return self._pidfd if self._pidfd is not None else -1


class _ReplicaHandle(_CommandHandle):
    """A distributed trial: a launcher process (the group leader, whose pid is the trial's) runs every replica.

    The replicas run in the launcher's process group, so a stop, a SIGKILL and a resume's
    orphan stop reach all of them. Rank 0 writes the trial's logs and reports; the others
    write ``stdout.rankN.log``/``stderr.rankN.log``, and their reports go to their own folder
    (``replicas/rankN``) and are ignored. One replica failing stops the others.
    """

    def _argv(self) -> list[str]:
        job = self.job
        assert job.distributed is not None
        prepare_replica_dirs(job)
        base = trial_environment(job)
        processes = replica_processes(job.distributed, job.command or "", free_ports(ports_needed(job.distributed)))
        gpus = {replica.role: replica.gpus for replica in job.distributed.replicas}
        visible = job.env.get("CUDA_VISIBLE_DEVICES")  # the trial's GPUs (GpuRunner): each replica gets its own
        devices = None if visible is None else replica_devices(visible, [gpus[p.role] for p in processes])
        replicas = []
        for process in processes:
            argv = command_argv(process.command)
            if not argv:
                raise TrialStartError(f"the command of replica {process.rank} ({process.role}) is empty")
            if job.params_as_argv:
                argv = [*argv, str(job.trial_dir / AUP_CONFIG_FILE)]
            env = replica_environment(job, process)
            if devices is not None:
                env["CUDA_VISIBLE_DEVICES"] = devices[process.rank]
            replicas.append(
                {
                    "rank": process.rank,
                    "name": f"rank {process.rank} ({process.role} {process.index})",
                    "argv": argv,
                    "env": {k: v for k, v in env.items() if base.get(k) != v},
                    "stdout": str(job.trial_dir / replica_log_name(STDOUT_FILE, process.rank)),
                    "stderr": str(job.trial_dir / replica_log_name(STDERR_FILE, process.rank)),
                }
            )
        spec = {"grace": job.distributed.stop_grace, "replicas": replicas}
        path = job.trial_dir / REPLICA_SPEC_FILE
        path.write_text(json.dumps(spec))
        launch = (
            "import sys; from tunelab.runners._local import launch_replicas; sys.exit(launch_replicas(sys.argv[1]))"
        )
        return [sys.executable, "-c", launch, str(path)]

    def _stop_files(self) -> None:
        (self.job.trial_dir / STOP_FILE).touch()
        for rank in range(1, self.job.distributed.world_size if self.job.distributed else 1):
            folder = replica_dir(self.job.trial_dir, rank)
            if folder.is_dir():
                (folder / STOP_FILE).touch()

    def request_stop(self) -> None:
        if self._exit_code is None:
            self._stop_files()

    def stop(self, grace: float) -> None:
        if self._exit_code is None:
            self._stop_files()
        super().stop(grace)


_LAUNCH = "import sys; from tunelab.runners._local import launch_replicas; sys.exit(launch_replicas(sys.argv[1]))"


def launch_replicas(spec_path: str) -> int:
    """Body of a distributed trial's launcher: start every replica, wait for all, stop all when one fails.

    Returns the exit code of the first replica that failed (one killed by a signal is passed
    on by the launcher dying of the same signal), else 0. SIGTERM (a stop) reaches the
    replicas through the process group; the launcher then waits for them, and kills the
    ones still running ``grace`` seconds later.
    """
    spec = json.loads(Path(spec_path).read_text())
    grace = float(spec["grace"])
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    asked: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: asked.append(signum))
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a replica ended: wakes the wait below
    processes: list[subprocess.Popen[bytes]] = []
    names: list[str] = []
    failure: tuple[int, int] | None = None  # (position, exit code) of the first replica that failed
    deadline: float | None = None

    def stop_others(why: str) -> None:
        nonlocal deadline
        if deadline is None:
            if not asked:  # a stop was asked for: every replica got SIGTERM already, and none failed by itself
                print(f"tunelab: {why}; stopping the other replicas", file=sys.stderr, flush=True)
            deadline = time.monotonic() + grace
            for process in processes:
                if process.poll() is None:
                    process.terminate()

    for replica in spec["replicas"]:
        try:
            with open(replica["stdout"], "ab") as out, open(replica["stderr"], "ab") as err:
                process = subprocess.Popen(
                    replica["argv"],
                    env={**os.environ, **replica["env"]},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                )
        except OSError as exc:
            failure = (len(processes), 127)
            names.append(replica["name"])
            stop_others(f"cannot start replica {replica['name']}: {exc.strerror or exc}")
            break
        processes.append(process)
        names.append(replica["name"])
    codes: dict[int, int] = {}
    while len(codes) < len(processes):
        for position, process in enumerate(processes):
            if position in codes:
                continue
            code = process.poll()
            if code is None:
                continue
            codes[position] = code
            if code != 0 and failure is None:
                failure = (position, code)
                stop_others(f"replica {names[position]} exited with code {code}")
        if len(codes) == len(processes):
            break
        if asked and deadline is None:
            deadline = time.monotonic() + grace
        if deadline is not None and time.monotonic() >= deadline:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        timeout = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
        try:
            ready, _, _ = select.select([wake_r], [], [], timeout)
        except InterruptedError:
            ready = []
        if ready:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
    if failure is None:
        return 0
    position, code = failure
    if position > 0 and not asked:
        tail = stderr_tail(
            Path(spec["replicas"][position]["stderr"]).parent, Path(spec["replicas"][position]["stderr"]).name
        )
        print(f"tunelab: replica {names[position]} failed (exit code {code}): {tail}", file=sys.stderr, flush=True)
    if code < 0:
        signal.set_wakeup_fd(-1)
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code if 0 < code < 256 else 1


class _FunctionHandle(_LocalHandle):
    def __init__(self, job: TrialJob, method: str) -> None:
        super().__init__(job)
        self.start_method = method
        if method == "fork":
            _import_numpy_random()
            args: tuple[Any, ...] = (job.trial_dir, job, None, False)
        else:  # the job travels pickled and is unpickled in the child, after its logs are set up
            # numpy is seeded as a forked child would find it: imported when the engine had it.
            path = [str(job.code_dir), *(p for p in sys.path if p != str(job.code_dir))]  # its module may live there
            args = (job.trial_dir, pickle.dumps(job), path, "numpy" in sys.modules)
        context: Any = multiprocessing.get_context(method)
        self._process = context.Process(target=_function_child, args=args, daemon=False)
        try:
            self._process.start()
        except OSError as exc:
            raise TrialStartError(f"cannot start a process for the trial function: {exc}") from exc
        assert self._process.pid is not None
        self.pid = self._process.pid

    def _poll_process(self) -> int | None:
        code = self._process.exitcode
        if code is not None:
            self._process.join(0)
        return code

    def fileno(self) -> int:
        return self._process.sentinel


def start_method(job: TrialJob) -> tuple[str, str]:
    """How a function trial's child is made: ``("fork", why)`` or ``("forkserver", why)``.

    Forking is fast, but a process with other threads (a dashboard) may hold a lock in one
    of them that the child then waits on forever (Python 3.12 warns). A fork server's
    children start clean; they need the job pickled, and they import the main script again,
    so that must be guarded by ``if __name__ == "__main__"``.
    """
    if threading.active_count() <= 1:
        return "fork", "no other thread runs"
    function = job.function
    module = getattr(function, "__module__", None)
    if module == "__main__":
        return "fork", "the function is defined in the main script, which a fork server cannot import"
    try:
        pickle.dumps(job)
    except Exception as exc:  # noqa: BLE001 - any pickling failure means "fork it"
        return "fork", f"the trial cannot be pickled ({type(exc).__name__}: {str(exc)[:120]})"
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path and getattr(main, "__spec__", None) is None and not _guarded(path):
        return "fork", f'the main script {path} has no `if __name__ == "__main__":` guard'
    return "forkserver", "other threads run in this process"


def _guarded(path: str) -> bool:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return False
    return re.search(r"__name__\s*==\s*['\"]__main__['\"]", text) is not None


def _import_numpy_random() -> None:
    """numpy 2 imports ``numpy.random`` on first use (about 20 ms): once here, not in every trial."""
    if "numpy" in sys.modules and "numpy.random" not in sys.modules:
        import numpy.random  # noqa: F401


def _function_child(trial_dir: Path, payload: TrialJob | bytes, sys_path: list[str] | None, import_numpy: bool) -> None:
    """Body of a function trial's process: own session, then the trial (:func:`run_trial`), then exit."""
    os.setsid()
    status = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if sys_path is not None:
            sys.path[:] = sys_path
        job: TrialJob = pickle.loads(payload) if isinstance(payload, bytes) else payload
        if import_numpy:  # seeded as a forked child would find it: imported when the engine had it
            import numpy  # noqa: F401
        status = run_trial(job)
    except BaseException:  # noqa: BLE001 - unpickling the job failed: its failure, never the engine's
        redirect_output(trial_dir)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


class LocalRunner(Runner):
    """Runs command and function trials as processes on this machine.

    ``recover`` finds an interrupted trial by its pid and the kernel's start time, stops it
    if it still runs (SIGTERM to its group, SIGKILL after the grace period) and returns every
    report its attempt wrote.
    """

    def __init__(self, *, function_start: Literal["auto", "fork"] = "auto") -> None:
        #: ``auto``: :func:`start_method` picks; ``fork`` always forks (inside a Ray task, whose function
        #: may be importable only through what cloudpickle shipped, and whose main module is Ray's).
        self.function_start = function_start
        self._fork_reasons: set[str] = set()
        self._ahead = FoldersAhead()

    def make_ahead(self, trial_dir: Path) -> None:
        self._ahead.make(trial_dir)

    def close(self) -> None:
        self._ahead.remove_unused()

    def start(self, job: TrialJob) -> TrialHandle:
        self._ahead.used(job.trial_dir)
        try:
            prepare_trial_dir(job)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the trial folder {job.trial_dir}: {exc.strerror or exc}") from exc
        if job.function is not None:
            method, why = start_method(job) if self.function_start == "auto" else ("fork", "asked to fork")
            if (
                self.function_start == "auto"
                and method == "fork"
                and threading.active_count() > 1
                and why not in self._fork_reasons
            ):
                self._fork_reasons.add(why)
                logger.info("function trials are forked although other threads run: %s", why)
            handle: _LocalHandle = _FunctionHandle(job, method)
        elif not job.command:
            raise TrialStartError("the trial has neither a command nor a function (trial.command)")
        elif job.distributed is not None and job.distributed.world_size > 1:
            handle = _ReplicaHandle(job)
        else:
            handle = _CommandHandle(job)
        handle.pid_start = process_start_time(handle.pid)
        write_pid_file(job.trial_dir, job.attempt, handle.pid, handle.pid_start)
        return handle

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        if not pid:  # the engine died before it stored the pid: the trial's folder knows it
            pid, pid_start = read_pid_file(job.trial_dir, job.attempt) or (None, None)
        was_alive = bool(pid) and stop_orphan(int(pid or 0), pid_start, grace)
        return Recovered(
            reports=tuple(read_all(job.trial_dir / REPORTS_FILE, attempt=job.attempt)), was_alive=was_alive
        )
