"""The runner contract for distributed trials: what every runner owes a trial with several replicas.

Each check starts a ``trial.distributed`` job (:class:`~tunelab.runners._base.Distributed`)
on a :class:`~tunelab.testing._runners.RunnerCase` of kind ``command`` and checks what the
local runner does with one: every replica runs with its framework's variables, rank 0's
reports are the trial's, one replica failing fails the trial and stops the others, a stop or
a stop request reaches every replica, and a real two-process ``torch.distributed`` (gloo)
trial sums over both ranks. The replicas write into the check's folder, so a Ray case must
run on nodes that share this machine's disk (a cluster on this machine).

Nothing here imports pytest; :class:`ReplicaContract` turns the checks into tests.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelab.runners._base import Distributed, Replica, TrialJob
from tunelab.testing._runners import NotApplicable, RunnerCase, RunnerContract, _as_test, _Run
from tunelab.trial._channel import Report

__all__ = ["REPLICA_TRIAL", "ReplicaContract", "replica_checks", "replica_job", "replica_pids"]

#: The replicas' script; ``params["script"]`` says what each does, ``params["folder"]`` is shared by them:
#:   env      prints its framework variables as JSON, reports final 100 + its rank
#:   fail     rank 0 notes its pid and runs until killed; rank 1 waits for that, then exits 3
#:   loop     notes its pid, runs until killed (or, with ``polite``, until should_stop), reports its rank
#:   torch    joins a gloo process group and reports the all_reduce sum of (rank + 1) * x
REPLICA_TRIAL = r"""
import json, os, sys, time
import tunelab

params = tunelab.get_params()
script, folder = params["script"], params["folder"]
rank = int(os.environ.get("RANK", json.loads(os.environ.get("TF_CONFIG", '{"task": {"index": 0}}'))["task"]["index"]))

def note_pid():
    path = os.path.join(folder, f"rank{rank}.pid")
    with open(path + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(path + ".tmp", path)

if script == "env":
    keys = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "TF_CONFIG", "ROLE")
    keys += ("CUDA_VISIBLE_DEVICES",)
    print(json.dumps({key: os.environ.get(key) for key in keys}), flush=True)
    tunelab.report_final(100.0 + rank)
elif script == "fail":
    if rank == 0:
        note_pid()
        while True:
            time.sleep(0.05)
    while not os.path.exists(os.path.join(folder, "rank0.pid")):
        time.sleep(0.01)
    print("rank 1 gives up", file=sys.stderr, flush=True)
    sys.exit(3)
elif script == "loop":
    note_pid()
    while not (params.get("polite") and tunelab.should_stop()):
        time.sleep(0.05)
    tunelab.report_final(float(rank))
elif script == "torch":
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")  # MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE from the environment
    tensor = torch.tensor([float(dist.get_rank() + 1) * params["x"]])
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    tunelab.report_final(float(tensor.item()), world=dist.get_world_size(), local_rank=int(os.environ["LOCAL_RANK"]))
    dist.destroy_process_group()
"""


def replica_job(
    case: RunnerCase,
    folder: Path,
    script: str,
    replicas: tuple[Replica, ...],
    framework: str = "pytorch",
    **params: Any,
) -> TrialJob:
    """A distributed contract job running :data:`REPLICA_TRIAL` (``script``) in ``folder``."""
    if case.kind != "command":
        raise NotApplicable("distributed trials run a command")
    grace = float(params.pop("grace", 5.0))
    base = case.job(folder, script)
    (base.code_dir / "replica.py").write_text(REPLICA_TRIAL)
    return dataclasses.replace(
        base,
        command=f"{sys.executable} replica.py",
        params={"script": script, "folder": str(folder), **params},
        distributed=Distributed(framework, replicas, stop_grace=grace),
    )


def replica_pids(case: RunnerCase, folder: Path, count: int) -> list[int]:
    """The pids the first ``count`` ranks of a ``fail`` or ``loop`` job noted, once all of them did."""
    paths = [folder / f"rank{rank}.pid" for rank in range(count)]
    deadline = time.monotonic() + case.patience
    while not all(path.exists() for path in paths):
        if time.monotonic() > deadline:
            raise AssertionError(f"{case.name}: gave up waiting until every replica started")
        time.sleep(0.05)
    return [int(path.read_text()) for path in paths]


def _alive(pids: list[int]) -> list[int]:
    from tunelab.runners._processes import is_same_process_alive

    return [pid for pid in pids if is_same_process_alive(pid, None)]


def _finals(run: _Run) -> list[tuple[float | None, dict[str, object]]]:
    return [(r.value, dict(r.metrics)) for r in run.reports if isinstance(r, Report) and r.kind.value == "final"]


def check_replicas_get_their_framework_variables_and_rank_0_reports(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        replicas = (Replica("worker", 2, env={"ROLE": "w"}), Replica("master", 1, env={"ROLE": "m"}))
        run = _Run(case, runner, replica_job(case, folder, "env", replicas))
        assert run.end() == 0, run.handle.failure_detail()
        assert _finals(run) == [(100.0, {})]  # rank 0's report; the others' stay in their own folders
        trial_dir = run.job.trial_dir
        names = ["stdout.log", "stdout.rank1.log", "stdout.rank2.log"]
        seen = [json.loads((trial_dir / name).read_text().strip().splitlines()[-1]) for name in names]
        assert [(s["RANK"], s["WORLD_SIZE"], s["ROLE"]) for s in seen] == [
            ("0", "3", "m"),
            ("1", "3", "w"),
            ("2", "3", "w"),
        ]
        assert len({(s["MASTER_ADDR"], s["MASTER_PORT"]) for s in seen}) == 1
        assert sorted(s["LOCAL_RANK"] for s in seen) == ["0", "1", "2"]  # one machine: each its own
        assert (trial_dir / "replicas" / "rank1" / "reports.jsonl").exists()
    finally:
        runner.close()


def check_tensorflow_replicas_get_tf_config(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        replicas = (Replica("worker", 2), Replica("chief", 1))
        run = _Run(case, runner, replica_job(case, folder, "env", replicas, framework="tensorflow"))
        assert run.end() == 0, run.handle.failure_detail()
        names = ["stdout.log", "stdout.rank1.log", "stdout.rank2.log"]
        configs = [json.loads(json.loads((run.job.trial_dir / n).read_text())["TF_CONFIG"]) for n in names]
        cluster = configs[0]["cluster"]
        assert sorted(cluster) == ["chief", "worker"] and len(cluster["worker"]) == 2
        assert len(set(cluster["chief"] + cluster["worker"])) == 3  # one address each
        assert all(config["cluster"] == cluster for config in configs)
        tasks = [config["task"] for config in configs]
        assert tasks == [{"type": "chief", "index": 0}, {"type": "worker", "index": 0}, {"type": "worker", "index": 1}]
    finally:
        runner.close()


def check_one_replica_failing_fails_the_trial_and_stops_the_others(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        replicas = (Replica("master", 1), Replica("worker", 1))
        run = _Run(case, runner, replica_job(case, folder, "fail", replicas, grace=1.0))
        assert run.end() == 3
        assert _alive(replica_pids(case, folder, 1)) == []
        detail = run.handle.failure_detail()
        assert "replica rank 1 (worker 0) exited with code 3" in detail, detail
        assert "rank 1 gives up" in detail, detail
    finally:
        runner.close()


def check_a_stop_reaches_every_replica(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, replica_job(case, folder, "loop", (Replica("worker", 2),)))
        pids = replica_pids(case, folder, 2)
        run.handle.stop(60.0)
        assert run.end() != 0
        assert _alive(pids) == []
    finally:
        runner.close()


def check_a_stop_request_reaches_every_replica(case: RunnerCase, folder: Path) -> None:
    runner = case.make_runner()
    try:
        run = _Run(case, runner, replica_job(case, folder, "loop", (Replica("worker", 2),), polite=True))
        replica_pids(case, folder, 2)
        run.handle.request_stop()
        assert run.end() == 0, run.handle.failure_detail()
        assert _finals(run) == [(0.0, {})]
    finally:
        runner.close()


def check_a_real_two_process_torch_distributed_trial(case: RunnerCase, folder: Path) -> None:
    if importlib.util.find_spec("torch") is None:
        raise NotApplicable("torch is not installed")
    runner = case.make_runner()
    try:
        replicas = (Replica("master", 1), Replica("worker", 1))
        run = _Run(case, runner, replica_job(case, folder, "torch", replicas, x=1.5))
        assert run.end() == 0, run.handle.failure_detail()
        assert _finals(run) == [(4.5, {"world": 2, "local_rank": 0})]  # (0 + 1) * 1.5 + (1 + 1) * 1.5
    finally:
        runner.close()


def replica_checks() -> list[Callable[[RunnerCase, Path], None]]:
    """Every check of the distributed-trial contract, each ``check(case, empty_folder)``."""
    return [
        check_replicas_get_their_framework_variables_and_rank_0_reports,
        check_tensorflow_replicas_get_tf_config,
        check_one_replica_failing_fails_the_trial_and_stops_the_others,
        check_a_stop_reaches_every_replica,
        check_a_stop_request_reaches_every_replica,
        check_a_real_two_process_torch_distributed_trial,
    ]


class ReplicaContract:
    """The distributed-trial contract as pytest tests: subclass it and give it a ``runner_case`` fixture.

    A check that does not apply to the case (not a command runner, no torch) is skipped.
    """

    _run = RunnerContract._run


for _check in replica_checks():
    setattr(ReplicaContract, _as_test(_check).__name__, _as_test(_check))
del _check
