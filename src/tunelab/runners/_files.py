"""A trial's folder, owned by the runners: its layout, its preparation and the environment a trial gets.

One folder per trial (``<experiment>/trials/<number>`` as the engine names it) holds
``params.json`` (what the trial reads), ``stdout.log``, ``stderr.log`` and ``reports.jsonl``
(what it writes) and, while a stop is asked for, ``STOP``. The files of an earlier attempt
are renamed ``stdout.attempt1.log`` and so on when the next attempt starts. Every runner
uses this module, so the engine and the dashboard never need the names.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Literal

from tunelab._atomic import write_json
from tunelab.errors import escape
from tunelab.runners._base import TrialJob
from tunelab.trial import _compat_path, _context
from tunelab.trial._channel import REPORTS_FILE

__all__ = [
    "AUP_CONFIG_FILE",
    "PARAMS_FILE",
    "REPORTS_FILE",
    "SHIMS_DIR",
    "STDERR_FILE",
    "STDOUT_FILE",
    "STOP_FILE",
    "prepare_trial_dir",
    "read_pid_file",
    "stderr_tail",
    "trial_environment",
    "trial_log_path",
    "write_pid_file",
]

#: The compatibility modules (``import nni``, ``from aup import ...``, ``bigdl.orca.automl``).
SHIMS_DIR = _compat_path.SHIMS_DIR
STDOUT_FILE = "stdout.log"
STDERR_FILE = "stderr.log"
PARAMS_FILE = _context.PARAMS_FILE
STOP_FILE = _context.STOP_FILE
AUP_CONFIG_FILE = "aup_config.json"
PID_FILE = "pid"
_LOGS = {"stdout": STDOUT_FILE, "stderr": STDERR_FILE}
_TAIL_BYTES = 4096
_TAIL_LINES = 8


def trial_log_path(trial_dir: str | os.PathLike[str], stream: Literal["stdout", "stderr"]) -> Path:
    """Where a trial's ``stdout`` or ``stderr`` is written (the current attempt's)."""
    try:
        return Path(trial_dir) / _LOGS[stream]
    except KeyError:
        raise ValueError(f"stream must be 'stdout' or 'stderr', got {escape(repr(stream))}") from None


def stderr_tail(trial_dir: str | os.PathLike[str]) -> str:
    """The last few non-empty lines of a trial's stderr (from its last 4 KiB), joined with `` | ``."""
    try:
        with open(Path(trial_dir) / STDERR_FILE, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-_TAIL_LINES:]
    return " | ".join(escape(line, 500) for line in lines)


def prepare_trial_dir(job: TrialJob) -> None:
    """Write the parameters file and set aside the logs and reports of an earlier attempt.

    Raises ``OSError`` when the folder cannot be written; runners turn it into a
    :class:`~tunelab.errors.TrialStartError`.
    """
    job.trial_dir.mkdir(parents=True, exist_ok=True)
    if job.attempt > 1:
        for name in (STDOUT_FILE, STDERR_FILE, REPORTS_FILE):
            old = job.trial_dir / name
            if old.exists():
                stem, dot, suffix = name.partition(".")
                old.rename(job.trial_dir / f"{stem}.attempt{job.attempt - 1}{dot}{suffix}")
    (job.trial_dir / STOP_FILE).unlink(missing_ok=True)
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
    write_json(job.trial_dir / PARAMS_FILE, data)
    if job.params_as_argv:
        write_json(job.trial_dir / AUP_CONFIG_FILE, {**job.trial_params(), "job_id": job.number})


def _prepare_checkpoint(folder: Path, source: Path | None) -> None:
    """The trial's checkpoint folder; a copy of ``source`` when it continues another trial's run."""
    if source is not None and source.is_dir() and source.resolve() != folder.resolve():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder, symlinks=True)
    folder.mkdir(parents=True, exist_ok=True)


def trial_environment(job: TrialJob, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a trial process gets, wherever it runs (every runner builds it here).

    ``base`` is the environment to start from (this process's by default): the job's
    ``env``, the ``TUNELAB_*`` variables, the interpreter's folder first on ``PATH``, the
    compatibility modules first on ``PYTHONPATH`` when the job asks for NNI or Auptimizer
    (the trial API it asks for always, since that is how it talks to the engine; the others
    only where their real package is not installed, as for ``tunelab python``:
    :func:`tunelab.trial._compat_path.with_shims`), and NNI's ``NNI_*`` variables.
    """
    env = {**(os.environ if base is None else base), **job.env}
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
    if job.compat:
        env = _compat_path.with_shims(env, force=job.compat)
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


def write_pid_file(trial_dir: Path, attempt: int, pid: int, start_time: str | None) -> None:
    """Note which process runs this attempt, so a resume finds it even if the engine died before storing it."""
    write_json(trial_dir / PID_FILE, {"attempt": attempt, "pid": pid, "start_time": start_time})


def read_pid_file(trial_dir: Path, attempt: int) -> tuple[int, str | None] | None:
    """The process that ran ``attempt`` of the trial in ``trial_dir``, as :func:`write_pid_file` noted it."""
    try:
        data = json.loads((trial_dir / PID_FILE).read_text())
        if data.get("attempt") == attempt and isinstance(data.get("pid"), int):
            return data["pid"], data.get("start_time")
    except (OSError, ValueError, AttributeError):
        pass
    return None
