"""The Ray runner: each trial attempt is a Ray task on a cluster, with the resources it asks for.

The task runs the trial exactly as :class:`LocalRunner` would (a command in its own process
group, or a function in a forked child) in a scratch folder on whichever node Ray picks,
and streams back what the trial writes: reports, stdout and stderr. Here a thread per
trial appends them to the trial's own folder, so the engine reads reports from
``reports.jsonl`` as it does for local trials, while they happen, and a resumed engine
finds them there. Stops travel the other way through a small actor that the task polls:
the trial gets its STOP file and SIGTERM on its node, and SIGKILL after the grace period;
a task that does not end by then is cancelled by Ray.

A node that dies takes its tasks with it: their trials end with a failure the engine's
failure policy handles (retry or not), and the experiment goes on. Trials are tasks of
this driver; if the driver dies Ray ends them, and ``tunelab resume`` reconnects (the
address is in the stored config) and runs them again. The runner warms the cluster's
worker processes when it starts (one no-op task per slot that imports tunelab), so the
first trial in each does not pay for that import.

A trial with several replicas runs one task per replica in a placement group
(:mod:`tunelab.runners._ray_replicas`). This module and that one are the only ones that
import ``ray`` (``pip install tunelab[ray]``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tunelab.errors import ConfigError, TrialStartError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._files import REPORTS_FILE, STDERR_FILE, STDOUT_FILE, prepare_trial_dir, stderr_tail
from tunelab.runners._local import LocalRunner
from tunelab.trial._channel import BadReport, Report, ReportReader, read_all

logger = logging.getLogger("tunelab")

#: How often a remote trial checks for a stop request (seconds).
_STOP_POLL = 0.25
#: The longest a remote trial waits before sending what its trial wrote (seconds).
_FLUSH = 0.05
_STANDARD = {"cpu": "num_cpus", "gpu": "num_gpus", "memory": "memory"}
#: Warm-up at the runner's start: at most this many tasks, each holding its worker this long (seconds),
#: all of them given up to this long to end.
_WARM_SLOTS, _WARM_HOLD, _WARM_TIMEOUT = 16, 0.2, 60.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("runner: ray needs Ray; pip install 'tunelab[ray]'") from None
    return ray


@contextlib.contextmanager
def _single_node_on_loopback(active: bool) -> Iterator[None]:
    """Keep a cluster that ``ray.init`` starts on 127.0.0.1.

    Ray resolves ``127.0.0.1`` to the machine's outward address unless its single-node switch
    is set; the driver read that switch when it imported ray and the processes Ray starts read
    it from the environment, so both are set, and only while ``ray.init`` runs. There is no
    public setting for this.
    """
    if not active:
        yield
        return
    from ray._private import ray_constants

    name = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    saved_env, saved_flag = os.environ.get(name), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[name], ray_constants.ENABLE_RAY_CLUSTER = "0", False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        if saved_env is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved_env


def check_reachable(address: str | None, where: str, timeout: float = 10.0) -> None:
    """Refuse at once a ``host:port`` (or ``ray://host:port``) where nothing listens.

    ``ray.init`` would retry such an address for minutes before it gives up. ``auto``, None
    and addresses without a port are left to Ray.
    """
    if not address or address == "auto":
        return
    host, _, port = address.split("://")[-1].rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"{where}: no Ray cluster answers at {address!r} ({exc.strerror or exc}); "
            "start one (ray start --head) or give the address it printed"
        ) from None


def task_options(resources_per_trial: Mapping[str, float]) -> dict[str, Any]:
    """Ray task options for Orca-style ``resources_per_trial`` (``cpu``, ``gpu``, ``memory``, custom)."""
    options: dict[str, Any] = {"num_cpus": 1}
    custom: dict[str, float] = {}
    for name, amount in resources_per_trial.items():
        key = _STANDARD.get(name.lower())
        if key is not None:
            options[key] = amount
        else:
            custom[name] = float(amount)
    if custom:
        options["resources"] = custom
    return options


def _listed(resource: str) -> bool:
    """A resource worth naming in a message (not Ray's per-node and per-bundle bookkeeping)."""
    return "/" not in resource and "node:" not in resource and "_group_" not in resource


class _ByteTail:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> bytes:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return b""
        self.offset += len(chunk)
        return chunk


def _remote_trial(job: TrialJob, board_name: str, key: str, grace: float) -> Iterator[dict[str, Any]]:
    """Body of the Ray task: run the trial here, yield what it writes, end with its exit code."""
    import ray

    scratch = Path(tempfile.mkdtemp(prefix=f"tunelab-{job.experiment_id}-{job.number}-"))
    code_dir = job.code_dir if job.code_dir.is_dir() else Path.cwd()  # runtime_env working_dir
    # The attempt stays the job's: the trial writes it in every report, and the driver checks it.
    local = dataclasses.replace(job, trial_dir=scratch, code_dir=code_dir)
    try:
        handle = LocalRunner(function_start="fork").start(local)
    except TrialStartError as exc:
        yield {"stderr": f"tunelab: cannot start the trial on {socket.gethostname()}: {exc}\n".encode(), "exit": 127}
        shutil.rmtree(scratch, ignore_errors=True)
        return
    yield {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": handle.pid}
    out, err = _ByteTail(scratch / STDOUT_FILE), _ByteTail(scratch / STDERR_FILE)
    reports = _ByteTail(scratch / REPORTS_FILE)
    # The board exists once the driver has stopped some trial. It is asked without waiting for
    # its answer, so a slow board never holds up the trial's output or the news that it ended.
    board: Any = None
    question: Any = None
    next_check, asked, code = time.monotonic() + _STOP_POLL, "", None
    try:
        while True:
            code = handle.poll()
            message: dict[str, Any] = {"reports": reports.read(), "stdout": out.read(), "stderr": err.read()}
            if code is not None:
                message["exit"] = code
                yield message
                return
            if any(message.values()):
                yield message
            if question is not None and ray.wait([question], timeout=0)[0]:
                try:
                    wanted = ray.get(question)
                except Exception:  # noqa: BLE001 - without the board the trial runs on; Ray cancels it if need be
                    wanted = ""
                question = None
                if wanted == "stop":
                    handle.stop(grace)
                elif wanted == "ask" and not asked:
                    handle.request_stop()
                asked = wanted or asked
            now = time.monotonic()
            if question is None and asked != "stop" and now >= next_check:
                next_check = now + _STOP_POLL
                board = board or _find_board(board_name)
                if board is not None:
                    question = board.wanted.remote(key)
            fd = handle.fileno()
            if fd >= 0:
                select.select([fd], [], [], _FLUSH)
            else:
                time.sleep(_FLUSH)
    finally:
        if code is None:  # cancelled: the trial must not outlive its task
            handle.stop(0)
            handle.poll()
        shutil.rmtree(scratch, ignore_errors=True)


def _warm_worker() -> None:
    """Body of a warm-up task: import what :func:`_remote_trial` runs, then hold the worker a moment, so that
    the other warm-up tasks land on other worker processes."""
    import tunelab.runners._local  # noqa: F401 - and the trial API, which it imports

    time.sleep(_WARM_HOLD)


def _find_board(name: str) -> Any:
    import ray

    try:
        return ray.get_actor(name)
    except ValueError:  # not created yet: no trial was stopped so far
        return None


def _ship_by_value(function: Any) -> None:
    """Send a user's objective with its module's code, so nodes need not import that module."""
    import sys

    from ray import cloudpickle

    module = sys.modules.get(getattr(function, "__module__", "") or "")
    path = getattr(module, "__file__", None) or ""
    if module is None or module.__name__ == "__main__" or module.__name__.split(".")[0] == "tunelab":
        return
    if "site-packages" in path or "dist-packages" in path:
        return
    cloudpickle.register_pickle_by_value(module)


class _StopBoard:
    """A tiny actor: which trials the driver wants stopped (a remote trial polls it).

    Created on the first stop, not with the runner: an actor holds a worker process of its
    own, and one taken at start-up would make the first trials wait for a new worker.
    """

    def __init__(self) -> None:
        self._wanted: dict[str, str] = {}

    def stop(self, key: str, how: str) -> None:
        """``how``: ``ask`` (the STOP file only) or ``stop`` (SIGTERM, then SIGKILL after the grace period)."""
        if self._wanted.get(key) != "stop":
            self._wanted[key] = how

    def wanted(self, key: str) -> str:
        return self._wanted.get(key, "")

    def forget(self, key: str) -> None:
        self._wanted.pop(key, None)


class _Stream:
    """One Ray task running a trial (or one replica of it): what it sends is appended to files of the trial's folder.

    A thread follows the task's messages; ``on_output`` is called when reports arrived, ``on_exit``
    once with the exit code, after everything the task sent has been written.
    """

    def __init__(
        self,
        runner: RayRunner,
        task_job: TrialJob,
        key: str,
        grace: float,
        files: tuple[Path, Path, Path],
        on_output: Callable[[], None],
        on_exit: Callable[[int], None],
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.node: str | None = None
        self.host: str | None = None
        self.exit: int | None = None
        self.started = threading.Event()
        self._ray = runner.ray
        self._stdout, self._stderr, self._reports = files
        self._on_output, self._on_exit = on_output, on_exit
        task = runner.remote_trial.options(**options) if options else runner.task
        self.generator = task.remote(task_job, runner.board_name, key, grace)
        self._thread = threading.Thread(target=self._follow, name=f"tunelab-ray-{key}", daemon=True)
        self._thread.start()

    def _follow(self) -> None:
        ray = self._ray
        code = 1
        try:
            for ref in self.generator:
                message = ray.get(ref)
                if "node" in message:
                    self.node, self.host = message["node"], message["host"]
                    self.started.set()
                    with open(self._stderr, "ab") as handle:
                        handle.write(f"tunelab: running on Ray node {self.node} ({self.host})\n".encode())
                for name, path in (("stdout", self._stdout), ("stderr", self._stderr), ("reports", self._reports)):
                    if message.get(name):
                        with open(path, "ab") as handle:
                            handle.write(message[name])
                if message.get("reports"):
                    self._on_output()
                if "exit" in message:
                    code = message["exit"]
        except Exception as exc:  # noqa: BLE001 - a lost node or a cancelled task ends the trial, not the engine
            cancelled = type(exc).__name__ == "TaskCancelledError"
            code = -15 if cancelled else 1
            if not cancelled:
                where = f" on {self.host}" if self.host else ""
                with open(self._stderr, "ab") as handle:
                    handle.write(
                        f"tunelab: the Ray task running this trial{where} was lost: {type(exc).__name__}: "
                        f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}\n".encode()
                    )
        finally:
            self.exit = code
            self.started.set()
            self._on_exit(code)

    def cancel(self, force: bool) -> None:
        self._ray.cancel(self.generator, force=force)

    def join(self) -> None:
        self._thread.join()


class _WakingHandle(TrialHandle):
    """A trial whose news come from threads: they make :meth:`fileno` readable (:meth:`RayRunner.wait` drains it)."""

    def __init__(self, runner: RayRunner, job: TrialJob) -> None:
        self.job = job
        self.pid = 0  # the process is not on this machine
        self._runner = runner
        self._key = f"{job.experiment_id}/{job.number}/{job.attempt}"
        self._reader = ReportReader(job.trial_dir / REPORTS_FILE, attempt=job.attempt)
        self._exit: int | None = None
        self._kill_at: float | None = None
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def _wake(self) -> None:
        """Make :meth:`fileno` readable: the trial reported or ended."""
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def _drain(self) -> None:
        """Forget earlier news while the trial runs; once it ended, its descriptor stays readable."""
        if self._exit is None and self._wake_read >= 0:
            with contextlib.suppress(BlockingIOError, OSError):
                os.read(self._wake_read, 4096)

    def read_reports(self) -> list[Report | BadReport]:
        if self._exit is not None:  # the follower threads wrote everything before setting the exit code
            return self._reader.finish()
        return self._reader.read()

    def failure_detail(self) -> str:
        return stderr_tail(self.job.trial_dir)

    def fileno(self) -> int:
        return self._wake_read

    def _close(self, keys: Sequence[str]) -> None:
        if self._wake_read >= 0:
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1
            if self._runner.has_board:
                for key in keys:
                    self._runner.board().forget.remote(key)


class _RayHandle(_WakingHandle):
    """A trial running as one Ray task."""

    def __init__(self, runner: RayRunner, job: TrialJob) -> None:
        super().__init__(runner, job)
        folder = job.trial_dir
        self._stream = _Stream(
            runner,
            job,
            self._key,
            runner.stop_grace,
            (folder / STDOUT_FILE, folder / STDERR_FILE, folder / REPORTS_FILE),
            on_output=self._wake,
            on_exit=self._ended,
        )

    @property
    def node(self) -> str | None:
        return self._stream.node

    @property
    def host(self) -> str | None:
        return self._stream.host

    def _ended(self, code: int) -> None:
        self._exit = code
        self._wake()

    def poll(self) -> int | None:
        if self._exit is None and self._kill_at is not None and time.monotonic() >= self._kill_at:
            self._kill_at = None
            self._stream.cancel(force=True)
        if self._exit is not None:
            self._stream.join()
            self._close([self._key])
        return self._exit

    def request_stop(self) -> None:
        self._runner.board().stop.remote(self._key, "ask")

    def stop(self, grace: float) -> None:
        if self._exit is not None:
            return
        if not self._stream.started.is_set():  # still queued in Ray: nothing ran yet
            self._stream.cancel(force=False)
        self._runner.board().stop.remote(self._key, "stop")
        if self._kill_at is None:
            self._kill_at = time.monotonic() + grace + 5.0  # the node's own SIGKILL comes first


class RayRunner(Runner):
    """Runs trials as Ray tasks.

    ``address``: ``auto``, ``ray://host:port``, ``host:port``, or None to start a local cluster.
    ``placement_strategy``: how a distributed trial's replicas are placed (Ray's ``PACK``,
    ``SPREAD``, ``STRICT_PACK``, ``STRICT_SPREAD``).
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        resources_per_trial: Mapping[str, float] | None = None,
        runtime_env: Mapping[str, Any] | None = None,
        stop_grace: float = 5.0,
        init_kwargs: Mapping[str, Any] | None = None,
        placement_strategy: str = "PACK",
    ) -> None:
        self.ray = _ray()
        self.placement_strategy = placement_strategy
        self.address = address
        self.resources_per_trial = dict(resources_per_trial or {"cpu": 1})
        self.options = task_options(self.resources_per_trial)
        if runtime_env:
            self.options["runtime_env"] = dict(runtime_env)
        self.stop_grace = stop_grace
        self._owns_ray = False
        if not self.ray.is_initialized():
            kwargs: dict[str, Any] = {"address": address, "log_to_driver": False}
            if address is None:  # a private cluster on this machine, reachable on loopback only
                kwargs.update(include_dashboard=False, _node_ip_address="127.0.0.1")
            elif address.split("://")[-1].rsplit(":", 1)[0] in ("127.0.0.1", "localhost"):
                kwargs["_node_ip_address"] = "127.0.0.1"  # a loopback cluster: this driver stays on loopback too
            check_reachable(address, "ray.address")
            with _single_node_on_loopback(address is None):
                self.ray.init(**{**kwargs, **(init_kwargs or {})})
            self._owns_ray = True
        self._check_fits()
        self.remote_trial = self.ray.remote(max_retries=0)(_remote_trial)
        self.task = self.remote_trial.options(**self.options)
        self.board_name = f"tunelab-stop-board-{uuid.uuid4().hex}"
        self._board: Any = None
        self._warm_up()

    def _warm_up(self) -> None:
        """One no-op task per slot the cluster has for a trial, before the first trial: each Ray worker process
        imports what a trial's task needs now, so the first trial in each does not pay for it."""
        per_trial = float(self.options.get("num_cpus") or 0)
        cpus = float(self.ray.cluster_resources().get("CPU", 0))
        slots = max(1, min(_WARM_SLOTS, int(cpus // per_trial) if per_trial else 1))
        warm = self.ray.remote(max_retries=0)(_warm_worker).options(**self.options)
        try:
            self.ray.get([warm.remote() for _ in range(slots)], timeout=_WARM_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - a slow or busy cluster: the trials warm the workers instead
            logger.info("the Ray workers were not warmed up (%s); the first trials import tunelab", exc)

    @property
    def has_board(self) -> bool:
        return self._board is not None

    def board(self) -> Any:
        """The stop board, created on first use on the driver's node (it must not die with a worker node)."""
        if self._board is None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = NodeAffinitySchedulingStrategy(node_id=self.ray.get_runtime_context().get_node_id(), soft=True)
            actor = self.ray.remote(num_cpus=0, scheduling_strategy=here)(_StopBoard)
            self._board = actor.options(name=self.board_name).remote()
        return self._board

    def _check_fits(self) -> None:
        total = self.ray.cluster_resources()
        wanted = {"CPU": self.options.get("num_cpus", 0), "GPU": self.options.get("num_gpus", 0)}
        wanted.update(self.options.get("resources", {}))
        missing = [f"{name}={amount:g}" for name, amount in wanted.items() if amount and total.get(name, 0) < amount]
        if missing:
            raise ConfigError(
                f"ray.resources_per_trial: no node of the cluster has {', '.join(missing)} "
                f"(cluster: {', '.join(f'{k}={v:g}' for k, v in sorted(total.items()) if _listed(k))})"
            )

    def start(self, job: TrialJob) -> TrialHandle:
        try:
            prepare_trial_dir(job)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the trial folder {job.trial_dir}: {exc.strerror or exc}") from exc
        if job.function is not None:
            _ship_by_value(job.function)
        if job.distributed is not None and job.distributed.world_size > 1:
            from tunelab.runners._ray_replicas import ReplicaGroupHandle

            return ReplicaGroupHandle(self, job)
        return _RayHandle(self, job)

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        """Block until a trial reported or ended (its follower thread wakes a pipe), or ``timeout`` passes."""
        ray_handles = [h for h in handles if isinstance(h, _WakingHandle)]
        if any(h._exit is not None for h in ray_handles):
            return
        fds = [h.fileno() for h in ray_handles if h.fileno() >= 0]
        try:
            if fds:
                select.select(fds, [], [], max(0.0, timeout))
            elif timeout > 0:
                time.sleep(timeout)
        except InterruptedError:
            pass
        for handle in ray_handles:
            handle._drain()

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        """A trial of a driver that died: Ray ended its task with the driver, so only its reports remain."""
        return Recovered(reports=tuple(read_all(job.trial_dir / REPORTS_FILE, attempt=job.attempt)), was_alive=False)

    def close(self) -> None:
        try:
            if self._board is not None:
                self.ray.kill(self._board)
        except Exception as exc:  # noqa: BLE001 - the cluster may be gone already
            logger.debug("could not end the stop board: %s", exc)
        if self._owns_ray:
            self.ray.shutdown()
