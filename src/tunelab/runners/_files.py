"""A trial's folder, owned by the runners: its layout, its preparation and the environment a trial gets.

One folder per trial (``<experiment>/trials/<number>`` as the engine names it) holds
``params.json`` (what the trial reads), ``stdout.log``, ``stderr.log`` and ``reports.jsonl``
(what it writes) and, while a stop is asked for, ``STOP``. The files of an earlier attempt
are renamed ``stdout.attempt1.log`` and so on when the next attempt starts. Every runner
uses this module, so the engine and the dashboard never need the names.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from tunelab._atomic import write_json
from tunelab.errors import escape
from tunelab.runners._base import REPLICA_ROLES, Distributed, Replica, TrialJob
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
    "FoldersAhead",
    "ReplicaProcess",
    "distributed_job",
    "prepare_trial_dir",
    "replica_processes",
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


def stderr_tail(trial_dir: str | os.PathLike[str], name: str = STDERR_FILE) -> str:
    """The last few non-empty lines of a trial's stderr (from its last 4 KiB), joined with `` | ``.

    ``name`` is the file in ``trial_dir`` (a replica's, ``stderr.rank1.log``).
    """
    try:
        with open(Path(trial_dir) / name, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-_TAIL_LINES:]
    return " | ".join(escape(line, 500) for line in lines)


class FoldersAhead:
    """Trial folders a runner made before their trials started (:meth:`~tunelab.runners.Runner.make_ahead`),
    each with its empty reports file (which the trial would make: a file made costs as much as a folder).

    Only a folder this made is noted, so only such a folder, holding nothing else, is removed by
    :meth:`remove_unused`.
    """

    def __init__(self) -> None:
        self._made: set[Path] = set()
        self._last: Path | None = None  # asked for again at every look while the engine waits: tried once

    def make(self, folder: Path) -> None:
        if folder == self._last:
            return
        self._last = folder
        try:
            folder.mkdir(parents=True)
        except OSError:  # there already (not this runner's to remove), or it cannot be made: the start says why
            return
        self._made.add(folder)
        try:
            os.close(os.open(folder / REPORTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except OSError:  # the trial makes it, as without a folder made ahead
            pass

    def used(self, folder: Path) -> None:
        """A trial starts in ``folder``: it stays."""
        self._made.discard(folder)

    def remove_unused(self) -> None:
        for folder in self._made:
            reports = folder / REPORTS_FILE
            try:
                if reports.stat().st_size == 0:
                    reports.unlink()
            except OSError:
                pass
            try:
                folder.rmdir()
            except OSError:  # something was put in it meanwhile
                pass
        self._made.clear()


def prepare_trial_dir(job: TrialJob, *, called: bool = False) -> None:
    """Write the parameters file and set aside the logs and reports of an earlier attempt.

    ``called``: a function called in a process that is already running (a worker, the engine),
    which gets its parameters with the call; no parameters file is written then, and the
    checkpoint folder is made by ``tunelab.get_checkpoint_dir()`` when the trial asks for it
    (here only when it starts from another trial's checkpoint, or its params name the folder).
    Raises ``OSError`` when the folder cannot be written; runners turn it into a
    :class:`~tunelab.errors.TrialStartError`.
    """
    try:
        job.trial_dir.mkdir(parents=True)  # a new, empty folder: nothing of an earlier attempt to set aside
    except FileExistsError:
        if job.attempt > 1:
            for name in (STDOUT_FILE, STDERR_FILE, REPORTS_FILE):
                old = job.trial_dir / name
                if old.exists():
                    stem, dot, suffix = name.partition(".")
                    old.rename(job.trial_dir / f"{stem}.attempt{job.attempt - 1}{dot}{suffix}")
        (job.trial_dir / STOP_FILE).unlink(missing_ok=True)
    if job.checkpoint_dir is not None and (not called or job.checkpoint_from or job.checkpoint_params):
        _prepare_checkpoint(job.checkpoint_dir, job.checkpoint_from)
    if called:
        return
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


# --- distributed trials: several processes per trial ------------------------------------------

#: The folder of the replicas other than rank 0 (their params, reports and STOP; their reports are ignored).
REPLICAS_DIR = "replicas"
#: What the launcher of a distributed trial starts (written by the local runner, read by the launcher).
REPLICA_SPEC_FILE = "replicas.json"
_HOST = "127.0.0.1"


@dataclasses.dataclass(frozen=True)
class ReplicaProcess:
    """One process of a distributed trial: its rank, its role and index within the role, what it runs.

    ``env`` holds the framework's variables and the replica's own ``env`` (added to the trial's).
    """

    rank: int
    role: str
    index: int
    command: str
    env: dict[str, str]


def replica_log_name(name: str, rank: int) -> str:
    """``stdout.log`` for rank 0, ``stdout.rank1.log`` for rank 1 (and likewise for ``stderr.log``)."""
    if rank == 0:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}.rank{rank}{dot}{suffix}"


def replica_dir(trial_dir: Path, rank: int) -> Path:
    """Where a replica's ``TUNELAB_TRIAL_DIR`` points: the trial's folder for rank 0, its own folder otherwise."""
    return trial_dir if rank == 0 else trial_dir / REPLICAS_DIR / f"rank{rank}"


def ports_needed(distributed: Distributed) -> int:
    """Free local ports a trial needs: one (``MASTER_PORT``), or one per TensorFlow cluster member."""
    if distributed.framework == "tensorflow":
        return sum(r.count for r in distributed.replicas if r.role != "evaluator")
    return 1


def free_ports(count: int, host: str = _HOST) -> list[int]:
    """``count`` distinct TCP ports free on ``host`` now (the replicas bind them a moment later)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def replica_processes(
    distributed: Distributed,
    command: str,
    ports: Sequence[int],
    hosts: Sequence[str] | None = None,
    local_ranks: Sequence[int] | None = None,
) -> list[ReplicaProcess]:
    """Every process of a distributed trial in rank order, each with its framework's environment.

    Ranks follow the framework's role order (:data:`REPLICA_ROLES`: PyTorch's and XGBoost's
    ``master`` first, TensorFlow's ``chief``), then the index within the role. PyTorch and
    XGBoost get ``MASTER_ADDR``, ``MASTER_PORT`` (``ports[0]``), ``RANK``, ``WORLD_SIZE`` and
    ``LOCAL_RANK`` (on one machine, the local rank is the rank); TensorFlow gets
    ``TF_CONFIG`` with the cluster (every role but ``evaluator``, one port each) and its task.
    ``hosts`` and ``local_ranks`` (one per rank) place the replicas on several machines (a Ray
    placement group): ``ports`` are then on their ranks' hosts (rank 0's for ``MASTER_PORT``).
    """
    order = REPLICA_ROLES[distributed.framework]
    replicas: list[Replica] = sorted(distributed.replicas, key=lambda r: order.index(r.role))
    needed = ports_needed(distributed)
    if len(ports) < needed:
        raise ValueError(f"{distributed.framework} needs {needed} ports, got {len(ports)}")
    world = distributed.world_size
    where = list(hosts) if hosts is not None else [_HOST] * world
    local = list(local_ranks) if local_ranks is not None else list(range(world))
    if len(where) != world or len(local) != world:
        raise ValueError(f"{world} replicas need {world} hosts and local ranks, got {len(where)} and {len(local)}")
    cluster: dict[str, list[str]] = {}
    if distributed.framework == "tensorflow":
        free, first = iter(ports), 0
        for replica in replicas:
            if replica.role != "evaluator":
                cluster[replica.role] = [f"{where[first + i]}:{next(free)}" for i in range(replica.count)]
            first += replica.count
    processes: list[ReplicaProcess] = []
    for replica in replicas:
        for index in range(replica.count):
            rank = len(processes)
            env: dict[str, str]
            if distributed.framework == "tensorflow":
                task: dict[str, Any] = {"type": replica.role, "index": index}
                env = {"TF_CONFIG": json.dumps({"cluster": cluster, "task": task}, sort_keys=True)}
            else:
                env = {
                    "MASTER_ADDR": where[0],
                    "MASTER_PORT": str(ports[0]),
                    "RANK": str(rank),
                    "WORLD_SIZE": str(world),
                    "LOCAL_RANK": str(local[rank]),
                }
            env.update(replica.env)
            processes.append(ReplicaProcess(rank, replica.role, index, replica.command or command, env))
    return processes


def prepare_replica_dirs(job: TrialJob) -> None:
    """Set aside the replicas' logs of an earlier attempt, and give each replica past rank 0 its folder."""
    shutil.rmtree(job.trial_dir / REPLICAS_DIR, ignore_errors=True)
    if job.distributed is None:
        return
    for rank in range(1, job.distributed.world_size):
        for name in (STDOUT_FILE, STDERR_FILE):
            old = job.trial_dir / replica_log_name(name, rank)
            if job.attempt > 1 and old.exists():
                stem, dot, suffix = old.name.partition(".")
                old.rename(job.trial_dir / f"{stem}.attempt{job.attempt - 1}{dot}{suffix}")
        folder = replica_dir(job.trial_dir, rank)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(job.trial_dir / PARAMS_FILE, folder / PARAMS_FILE)


def replica_environment(job: TrialJob, process: ReplicaProcess, base: dict[str, str] | None = None) -> dict[str, str]:
    """A replica's environment: the trial's (its own folder past rank 0), then the framework's variables."""
    own = dataclasses.replace(job, trial_dir=replica_dir(job.trial_dir, process.rank))
    return {**trial_environment(own, base), **process.env}


def distributed_job(trial: Any) -> Distributed | None:
    """The runner's :class:`Distributed` for a :class:`~tunelab.config.TrialConfig` (None: one process)."""
    spec = trial.distributed
    if spec is None:
        return None
    replicas = tuple(Replica(r.role, r.count, r.command, dict(r.env), r.gpus) for r in spec.replicas)
    return Distributed(spec.framework, replicas, float(trial.stop_grace or 0.0))
