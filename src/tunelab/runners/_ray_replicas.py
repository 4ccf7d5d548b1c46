"""Distributed trials on the Ray runner: one Ray task per replica, reserved together in a placement group.

A trial with several replicas (``trial.distributed``; a T9k job's ``master``/``worker`` tasks)
asks Ray for a placement group with one bundle per replica (the CPUs, memory and custom
resources of ``ray.resources_per_trial``, and the replica's own ``gpus``), so either every
replica gets its resources or none starts. Once the group is ready, a probe in each bundle
tells on which node (and address) each rank landed; the replicas then get the same variables
as on the local runner (:func:`~tunelab.runners._files.replica_processes`: ``MASTER_ADDR``
is rank 0's node, ``MASTER_PORT`` a port free there, ``LOCAL_RANK`` the rank among the
trial's replicas on the same node; TensorFlow's ``TF_CONFIG`` with each member's node and
port), and each runs as a Ray task in its bundle, as a one-process trial does
(:func:`tunelab.runners._ray._remote_trial`), with Ray's ``CUDA_VISIBLE_DEVICES`` for its GPUs.

Rank 0's output and reports are the trial's; rank N writes ``stdout.rankN.log`` and
``stderr.rankN.log``, and its reports go to ``replicas/rankN`` (ignored), as on the local
runner. One replica failing stops the others (SIGTERM, SIGKILL after ``stop_grace``) and the
trial fails with its exit code. The group is removed when the last replica has ended.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from typing import TYPE_CHECKING, Any

from tunelab.errors import TrialStartError
from tunelab.runners._base import TrialJob
from tunelab.runners._files import (
    REPORTS_FILE,
    STDERR_FILE,
    STDOUT_FILE,
    free_ports,
    ports_needed,
    prepare_replica_dirs,
    replica_dir,
    replica_log_name,
    replica_processes,
    stderr_tail,
)
from tunelab.runners._ray import _listed, _Stream, _WakingHandle

if TYPE_CHECKING:
    from tunelab.runners._ray import RayRunner

#: How often the launcher looks whether the trial was stopped while its placement group waits (seconds).
_READY_POLL = 0.5


def _where() -> tuple[str, str]:
    """Body of a probe task: the node it runs on and that node's address."""
    import ray

    return ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address()


def bundles(runner: RayRunner, job: TrialJob) -> list[dict[str, float]]:
    """One placement-group bundle per replica, in rank order: the runner's per-trial resources, the replica's GPUs.

    Raises :class:`TrialStartError` when a bundle fits no node, or all of them together do not
    fit the cluster (the group would wait forever).
    """
    assert job.distributed is not None
    base: dict[str, float] = {"CPU": float(runner.options.get("num_cpus", 1))}
    if runner.options.get("memory"):
        base["memory"] = float(runner.options["memory"])
    base.update({name: float(amount) for name, amount in runner.options.get("resources", {}).items()})
    gpus = {replica.role: replica.gpus for replica in job.distributed.replicas}
    roles = [process.role for process in _layout(job, [0] * ports_needed(job.distributed))]
    out = [{**base, **({"GPU": float(gpus[role])} if gpus[role] else {})} for role in roles]
    out = [{name: amount for name, amount in bundle.items() if amount} for bundle in out]
    nodes = [node["Resources"] for node in runner.ray.nodes() if node.get("Alive")]
    total = runner.ray.cluster_resources()
    for rank, bundle in enumerate(out):
        if not any(all(node.get(k, 0) >= v for k, v in bundle.items()) for node in nodes):
            raise TrialStartError(
                f"replica rank {rank} ({roles[rank]}) needs {_show(bundle)}, which no node of the Ray cluster has "
                f"(cluster: {_show({k: v for k, v in total.items() if _listed(k)})})"
            )
    summed: dict[str, float] = {}
    for bundle in out:
        for name, amount in bundle.items():
            summed[name] = summed.get(name, 0.0) + amount
    short = {name: amount for name, amount in summed.items() if total.get(name, 0) < amount}
    if short:
        raise TrialStartError(
            f"the {len(out)} replicas need {_show(summed)} together, more than the Ray cluster has "
            f"(cluster: {_show({k: v for k, v in total.items() if _listed(k)})})"
        )
    return out


def _show(resources: dict[str, float]) -> str:
    return ", ".join(f"{name}={amount:g}" for name, amount in sorted(resources.items()))


def _layout(
    job: TrialJob, ports: list[int], hosts: list[str] | None = None, local_ranks: list[int] | None = None
) -> list[Any]:
    assert job.distributed is not None
    return replica_processes(job.distributed, job.command or "", ports, hosts, local_ranks)


class ReplicaGroupHandle(_WakingHandle):
    """A distributed trial on Ray: a placement group, then one :class:`_Stream` per replica.

    A launcher thread waits for the group, places the ranks and starts the replicas; the
    follower threads note each replica's end. ``poll`` gives the trial's exit code once every
    replica has ended: the first failure's, else 0.
    """

    def __init__(self, runner: RayRunner, job: TrialJob) -> None:
        from ray.util.placement_group import placement_group

        super().__init__(runner, job)
        assert job.distributed is not None
        self._world = job.distributed.world_size
        self._grace = job.distributed.stop_grace
        self._keys = [f"{self._key}/rank{rank}" for rank in range(self._world)]
        self._bundles = bundles(runner, job)
        try:
            prepare_replica_dirs(job)
        except OSError as exc:
            raise TrialStartError(f"cannot prepare the replicas' folders in {job.trial_dir}: {exc}") from exc
        self._group = placement_group(self._bundles, strategy=runner.placement_strategy)
        self._lock = threading.Lock()
        self._streams: list[_Stream] = []
        self._codes: dict[int, int] = {}
        self._names: list[str] = []
        self._failure: tuple[int, int] | None = None
        self._stopping = False
        self._launched = False
        self._thread = threading.Thread(target=self._launch, name=f"tunelab-ray-replicas-{job.number}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ launcher thread
    def _launch(self) -> None:
        try:
            started = self._start_replicas()
        except Exception as exc:  # noqa: BLE001 - a lost cluster or a failed probe fails this trial only
            self._note(f"tunelab: cannot start the replicas on Ray: {type(exc).__name__}: {exc}")
            started = False
            with self._lock:
                self._failure = self._failure or (0, 1)
        if not started:
            self._finish()

    def _start_replicas(self) -> bool:
        """Wait for the group, place the ranks, start every replica; False when stopped before any started."""
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        ray = self._runner.ray
        ready = self._group.ready()
        while not ray.wait([ready], timeout=_READY_POLL)[0]:
            if self._stopping:
                return False
        job = self.job
        assert job.distributed is not None

        def in_bundle(rank: int) -> dict[str, Any]:
            strategy = PlacementGroupSchedulingStrategy(self._group, placement_group_bundle_index=rank)
            return {"num_cpus": 0, "scheduling_strategy": strategy}

        probe = ray.remote(max_retries=0)(_where)
        places = ray.get([probe.options(**in_bundle(rank)).remote() for rank in range(self._world)])
        nodes = [node for node, _ in places]
        hosts = [host for _, host in places]
        local_ranks = [nodes[:rank].count(nodes[rank]) for rank in range(self._world)]
        ports = self._ports(job, nodes, hosts, local_ranks, in_bundle)
        processes = _layout(job, ports, hosts, local_ranks)
        with self._lock:
            if self._stopping:
                return False
            for process, bundle in zip(processes, self._bundles, strict=True):
                rank = process.rank
                self._names.append(f"rank {rank} ({process.role} {process.index})")
                task_job = dataclasses.replace(
                    job,
                    distributed=None,
                    command=process.command,
                    env={**job.env, **process.env},
                    # Rank 0 copies the checkpoint it starts from; the others find it there (one node or not).
                    checkpoint_from=job.checkpoint_from if rank == 0 else None,
                )
                folder = job.trial_dir
                files = (
                    folder / replica_log_name(STDOUT_FILE, rank),
                    folder / replica_log_name(STDERR_FILE, rank),
                    replica_dir(folder, rank) / REPORTS_FILE,
                )
                options: dict[str, Any] = {
                    "num_cpus": bundle.get("CPU", 0),
                    "num_gpus": bundle.get("GPU", 0),
                    "scheduling_strategy": PlacementGroupSchedulingStrategy(
                        self._group, placement_group_bundle_index=rank
                    ),
                }
                if bundle.get("memory"):
                    options["memory"] = bundle["memory"]
                if "runtime_env" in self._runner.options:
                    options["runtime_env"] = self._runner.options["runtime_env"]
                custom = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}
                if custom:
                    options["resources"] = custom
                self._streams.append(
                    _Stream(
                        self._runner,
                        task_job,
                        self._keys[rank],
                        self._grace,
                        files,
                        on_output=self._wake if rank == 0 else _nothing,
                        on_exit=functools.partial(self._replica_ended, rank),
                        options=options,
                    )
                )
            self._launched = True
        return True

    def _ports(
        self, job: TrialJob, nodes: list[str], hosts: list[str], local_ranks: list[int], in_bundle: Any
    ) -> list[int]:
        """The ports the layout needs, each free on its rank's node: rank 0's, or every TensorFlow member's."""
        assert job.distributed is not None
        ray = self._runner.ray
        needed = ports_needed(job.distributed)
        roles = [process.role for process in _layout(job, [0] * needed, hosts, local_ranks)]
        members = (
            [0]
            if job.distributed.framework != "tensorflow"
            else [r for r, role in enumerate(roles) if role != "evaluator"]
        )
        wanted: dict[str, list[int]] = {}
        for rank in members:
            wanted.setdefault(nodes[rank], []).append(rank)
        finder = ray.remote(max_retries=0)(free_ports)
        asked = {
            node: finder.options(**in_bundle(ranks[0])).remote(len(ranks), hosts[ranks[0]])
            for node, ranks in wanted.items()
        }
        port_of: dict[int, int] = {}
        for node, ranks in wanted.items():
            port_of.update(zip(ranks, ray.get(asked[node]), strict=True))
        return [port_of[rank] for rank in members]

    # ------------------------------------------------------------------ follower threads
    def _replica_ended(self, rank: int, code: int) -> None:
        with self._lock:
            self._codes[rank] = code
            first_failure = code != 0 and self._failure is None
            if first_failure:
                self._failure = (rank, code)
            done = len(self._codes) == self._world
        if first_failure and not self._stopping:
            self._note(f"tunelab: replica {self._names[rank]} exited with code {code}; stopping the other replicas")
            for other, key in enumerate(self._keys):
                if other != rank:
                    self._runner.board().stop.remote(key, "stop")
            self._kill_at = self._kill_at or time.monotonic() + self._grace + 5.0
        self._wake()
        if done:
            self._finish()

    def _finish(self) -> None:
        """Every replica ended (or none started): release the group, note a failure's detail, set the exit code."""
        from ray.util.placement_group import remove_placement_group

        try:
            remove_placement_group(self._group)
        except Exception:  # noqa: BLE001 - the cluster may be gone already
            pass
        failure = self._failure
        if failure is not None and failure[0] > 0 and not self._stopping:
            rank, code = failure
            tail = stderr_tail(self.job.trial_dir, replica_log_name(STDERR_FILE, rank))
            self._note(f"tunelab: replica {self._names[rank]} failed (exit code {code}): {tail}")
        if failure is not None:
            self._exit = failure[1]
        else:
            self._exit = 0 if self._launched else -15
        self._wake()

    def _note(self, line: str) -> None:
        with open(self.job.trial_dir / STDERR_FILE, "ab") as handle:
            handle.write(f"{line}\n".encode())

    # ------------------------------------------------------------------ the engine's thread
    def poll(self) -> int | None:
        if self._exit is None and self._kill_at is not None and time.monotonic() >= self._kill_at:
            self._kill_at = None
            for stream in list(self._streams):
                if stream.exit is None:
                    stream.cancel(force=True)
        if self._exit is not None:
            self._thread.join()
            for stream in list(self._streams):
                stream.join()
            self._close(self._keys)
        return self._exit

    def request_stop(self) -> None:
        if self._exit is None:
            for key in self._keys:
                self._runner.board().stop.remote(key, "ask")

    def stop(self, grace: float) -> None:
        if self._exit is not None:
            return
        self._stopping = True
        for key in self._keys:
            self._runner.board().stop.remote(key, "stop")
        if self._kill_at is None:
            self._kill_at = time.monotonic() + grace + 5.0  # the nodes' own SIGKILL comes first


def _nothing() -> None:
    pass
