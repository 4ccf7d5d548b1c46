"""The local runner: every trial is a process on this machine, in its own process group.

Command trials are started from an argv list (a shell only when the command uses shell
syntax). Function trials run in a forked child, so a crash, a segfault or ``os._exit`` in
one trial cannot take the engine down, and they report through the same file channel as
commands do.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import shlex
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from tunelab.errors import TrialFailed
from tunelab.runners._base import Runner, TrialHandle, TrialJob
from tunelab.runners._processes import signal_group
from tunelab.trial import _context

_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\"'*?\[\]#~=%{}\n]")
SHIMS_DIR = Path(__file__).resolve().parent.parent / "trial" / "_shims"
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"
AUP_CONFIG_FILE = "aup_config.json"


def command_argv(command: str) -> list[str]:
    """An argv list for a command string: split it, or hand it to ``sh -c`` if it needs a shell."""
    stripped = command.strip()
    if _SHELL_SYNTAX.search(stripped.replace("'", "").replace('"', "")) is None:
        try:
            return shlex.split(stripped)
        except ValueError:
            pass
    return ["/bin/sh", "-c", stripped]


def prepare_trial_dir(job: TrialJob) -> None:
    """Write the parameters file and set aside the logs of an earlier attempt."""
    job.trial_dir.mkdir(parents=True, exist_ok=True)
    if job.attempt > 1:
        for name in (STDOUT_FILE, STDERR_FILE, _context.REPORTS_FILE):
            old = job.trial_dir / name
            if old.exists():
                stem, dot, suffix = name.partition(".")
                old.rename(job.trial_dir / f"{stem}.attempt{job.attempt - 1}{dot}{suffix}")
    (job.trial_dir / _context.STOP_FILE).unlink(missing_ok=True)
    if job.checkpoint_dir is not None:
        _prepare_checkpoint(job.checkpoint_dir, job.checkpoint_from)
    data = {
        "experiment_id": job.experiment_id,
        "number": job.number,
        "attempt": job.attempt,
        "seed": job.seed,
        "params": job.trial_params(),
        "result_labels": list(job.result_labels),
        "budget": job.budget,
        "checkpoint_dir": None if job.checkpoint_dir is None else str(job.checkpoint_dir),
    }
    _write_json(job.trial_dir / _context.PARAMS_FILE, data)
    if job.params_as_argv:
        _write_json(job.trial_dir / AUP_CONFIG_FILE, {**job.trial_params(), "job_id": job.number})


def _prepare_checkpoint(folder: Path, source: Path | None) -> None:
    """The trial's checkpoint folder; a copy of ``source`` when it continues another trial's run."""
    if source is not None and source.is_dir() and source.resolve() != folder.resolve():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder, symlinks=True)
    folder.mkdir(parents=True, exist_ok=True)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=repr))
    os.replace(tmp, path)


def trial_environment(job: TrialJob) -> dict[str, str]:
    env = {**os.environ, **job.env}
    env[_context.ENV_TRIAL_DIR] = str(job.trial_dir)
    env[_context.ENV_TRIAL_NUMBER] = str(job.number)
    env[_context.ENV_EXPERIMENT_ID] = job.experiment_id
    if job.seed is not None:
        env[_context.ENV_TRIAL_SEED] = str(job.seed)
    if job.budget is not None:
        env[_context.ENV_TRIAL_BUDGET] = str(job.budget)
    if job.checkpoint_dir is not None:
        env[_context.ENV_CHECKPOINT_DIR] = str(job.checkpoint_dir)
    # Trials run with the interpreter (and virtual environment) tunelab runs in.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    paths = [str(SHIMS_DIR)] if job.compat else []
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    if "nni" in job.compat:
        env.update(
            NNI_PLATFORM="local",
            NNI_EXP_ID=job.experiment_id,
            NNI_TRIAL_JOB_ID=f"{job.experiment_id}-{job.number}",
            NNI_TRIAL_SEQ_ID=str(job.number),
            NNI_OUTPUT_DIR=str(job.trial_dir),
            NNI_SYS_DIR=str(job.trial_dir),
        )
    return env


class _ReportTail:
    """Reads the complete lines appended to a trial's reports file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        data = self.partial + chunk
        lines = data.split(b"\n")
        self.partial = lines.pop()
        reports = []
        for line in lines:
            if line.strip():
                try:
                    reports.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return reports


class _LocalHandle(TrialHandle):
    def __init__(self, job: TrialJob) -> None:
        self.job = job
        self._tail = _ReportTail(job.trial_dir / _context.REPORTS_FILE)
        self._kill_at: float | None = None
        self._exit_code: int | None = None

    def read_reports(self) -> list[dict[str, Any]]:
        return self._tail.read()

    def stop(self, grace: float) -> None:
        if self._exit_code is not None:
            return
        (self.job.trial_dir / _context.STOP_FILE).touch()
        signal_group(self.pid, signal.SIGTERM)
        if self._kill_at is None:
            self._kill_at = time.monotonic() + grace

    def poll(self) -> int | None:
        if self._exit_code is None:
            self._exit_code = self._poll_process()
            if self._exit_code is None and self._kill_at is not None and time.monotonic() >= self._kill_at:
                signal_group(self.pid, signal.SIGKILL)
            elif self._exit_code is not None:
                # A trial's own children may outlive it; they belong to the trial, so they go too.
                signal_group(self.pid, signal.SIGKILL)
        return self._exit_code

    def _poll_process(self) -> int | None:
        raise NotImplementedError


class _CommandHandle(_LocalHandle):
    def __init__(self, job: TrialJob) -> None:
        super().__init__(job)
        import subprocess

        argv = command_argv(job.command or "")
        if job.params_as_argv:
            argv = [*argv, str(job.trial_dir / AUP_CONFIG_FILE)]
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
                err.write(f"tunelab: cannot start {argv[0]!r}: {exc.strerror}\n".encode())
                raise
        self.pid = self._process.pid
        try:
            self._pidfd: int | None = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None

    def _poll_process(self) -> int | None:
        code = self._process.poll()
        if code is not None and self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = -1
        return code

    def fileno(self) -> int:
        return self._pidfd if self._pidfd is not None else -1


class _FunctionHandle(_LocalHandle):
    def __init__(self, job: TrialJob) -> None:
        super().__init__(job)
        _import_numpy_random()
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_function_child, args=(job,), daemon=False)
        self._process.start()
        assert self._process.pid is not None
        self.pid = self._process.pid

    def _poll_process(self) -> int | None:
        code = self._process.exitcode
        if code is not None:
            self._process.join(0)
        return code

    def fileno(self) -> int:
        return self._process.sentinel


def _import_numpy_random() -> None:
    """numpy 2 imports ``numpy.random`` on first use (about 20 ms): once here, not in every trial."""
    if "numpy" in sys.modules and "numpy.random" not in sys.modules:
        import numpy.random  # noqa: F401


def _function_child(job: TrialJob) -> None:
    """Body of a function trial's process: own session, own logs, the trial context, then the call."""
    os.setsid()
    status = 0
    try:
        out = os.open(job.trial_dir / STDOUT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        err = os.open(job.trial_dir / STDERR_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(out, 1)
        os.dup2(err, 2)
        # The engine's sys.stdout may be a wrapper (pytest, notebooks); the trial writes to its own files.
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        trial_env = trial_environment(job)
        os.environ.update({k: v for k, v in trial_env.items() if k.startswith(("TUNELAB_", "NNI_")) or k in job.env})
        context = _context.TrialContext(
            params=job.trial_params(),
            trial_dir=job.trial_dir,
            number=job.number,
            experiment_id=job.experiment_id,
            seed=job.seed,
            result_labels=list(job.result_labels),
            budget=job.budget,
            checkpoint_dir=job.checkpoint_dir,
        )
        _context.activate(context)
        if job.seed is not None:
            random.seed(job.seed)
            if "numpy" in sys.modules:
                sys.modules["numpy"].random.seed(job.seed % 2**32)
        os.chdir(job.code_dir)
        assert job.function is not None
        result = job.function(job.trial_params())
        if result is not None:
            context.report_final(result)
    except TrialFailed as exc:
        print(f"trial failed: {exc}", file=sys.stderr)
        status = 1
    except BaseException:  # noqa: BLE001 - a trial's crash is reported, never raised in the engine
        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


class LocalRunner(Runner):
    """Runs command and function trials as processes on this machine."""

    def start(self, job: TrialJob) -> TrialHandle:
        prepare_trial_dir(job)
        if job.function is not None:
            return _FunctionHandle(job)
        return _CommandHandle(job)
