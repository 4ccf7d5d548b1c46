"""Distributed trials on the local runner: one process per replica, each with its framework's environment."""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tunelab.runners import LocalRunner, TrialJob, is_same_process_alive
from tunelab.runners._base import Distributed, Replica
from tunelab.runners._files import replica_processes
from tunelab.trial._channel import Report

pytestmark = pytest.mark.timeout(300)
PATIENCE = 120.0


def _job(tmp_path: Path, script: str, replicas: tuple[Replica, ...], framework: str = "pytorch", **fields) -> TrialJob:
    code = tmp_path / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "trial.py").write_text(textwrap.dedent(script))
    return TrialJob(
        experiment_id="e",
        number=0,
        attempt=1,
        params={"x": 1},
        trial_dir=tmp_path / "trial",
        code_dir=code,
        command=f"{sys.executable} trial.py",
        distributed=Distributed(framework, replicas, stop_grace=fields.pop("grace", 5.0)),
        **fields,
    )


def _wait_until(predicate, what):
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.02)


def _finish(runner, handle) -> int:
    deadline = time.monotonic() + PATIENCE
    while (code := handle.poll()) is None:
        assert time.monotonic() < deadline, "the trial did not end"
        runner.wait([handle], 0.2)
    return code


def _pid(path: Path) -> int:
    return int(path.read_text())


def test_pytorch_ranks_start_with_the_master_and_share_one_port():
    spec = Distributed("pytorch", (Replica("worker", 2, env={"A": "1"}), Replica("master", 1, command="python m.py")))
    processes = replica_processes(spec, "python w.py", [29500])
    assert [(p.rank, p.role, p.index, p.command) for p in processes] == [
        (0, "master", 0, "python m.py"),
        (1, "worker", 0, "python w.py"),
        (2, "worker", 1, "python w.py"),
    ]
    for p in processes:
        assert p.env["MASTER_ADDR"] == "127.0.0.1" and p.env["MASTER_PORT"] == "29500"
        assert (p.env["RANK"], p.env["LOCAL_RANK"], p.env["WORLD_SIZE"]) == (str(p.rank), str(p.rank), "3")
    assert "A" not in processes[0].env and processes[1].env["A"] == "1"


def test_tensorflow_gets_tf_config_with_one_port_per_cluster_member():
    spec = Distributed("tensorflow", (Replica("worker", 2), Replica("evaluator", 1), Replica("chief", 1)))
    processes = replica_processes(spec, "python t.py", [1001, 1002, 1003])
    configs = [json.loads(p.env["TF_CONFIG"]) for p in processes]
    cluster = {"chief": ["127.0.0.1:1001"], "worker": ["127.0.0.1:1002", "127.0.0.1:1003"]}
    assert all(c["cluster"] == cluster for c in configs)
    assert [c["task"] for c in configs] == [
        {"type": "chief", "index": 0},
        {"type": "worker", "index": 0},
        {"type": "worker", "index": 1},
        {"type": "evaluator", "index": 0},
    ]
    assert "RANK" not in processes[0].env
    with pytest.raises(ValueError, match="needs 3 ports, got 1"):
        replica_processes(spec, "python t.py", [1001])


def test_every_replica_runs_with_its_environment_and_only_rank_0_reports_count(tmp_path):
    script = """
        import os, tunelab
        rank = int(os.environ["RANK"])
        print("rank", rank, os.environ["WORLD_SIZE"], os.environ["MASTER_PORT"], tunelab.get_params()["x"])
        tunelab.report_final(100 + rank)
    """
    job = _job(tmp_path, script, (Replica("worker", 2),))
    runner = LocalRunner()
    handle = runner.start(job)
    assert _finish(runner, handle) == 0
    reports = handle.read_reports()
    assert [r.value for r in reports if isinstance(r, Report)] == [100]
    out0 = (job.trial_dir / "stdout.log").read_text().split()
    out1 = (job.trial_dir / "stdout.rank1.log").read_text().split()
    assert out0[:3] == ["rank", "0", "2"] and out1[:3] == ["rank", "1", "2"]
    assert out0[3] == out1[3] and out0[4] == out1[4] == "1"  # one MASTER_PORT; rank 1 reads the params too


def test_one_replica_failing_fails_the_trial_and_stops_the_others(tmp_path):
    script = """
        import os, sys, time
        rank = int(os.environ["RANK"])
        folder = os.environ["PID_DIR"]
        if rank == 0:
            open(os.path.join(folder, "rank0.tmp"), "w").write(str(os.getpid()))
            os.replace(os.path.join(folder, "rank0.tmp"), os.path.join(folder, "rank0.pid"))
            while True:
                time.sleep(0.1)
        while not os.path.exists(os.path.join(folder, "rank0.pid")):
            time.sleep(0.01)
        print("rank 1 gives up", file=sys.stderr)
        sys.exit(3)
    """
    job = _job(tmp_path, script, (Replica("master", 1), Replica("worker", 1)), env={"PID_DIR": str(tmp_path)})
    runner = LocalRunner()
    handle = runner.start(job)
    assert _finish(runner, handle) == 3
    assert not is_same_process_alive(_pid(tmp_path / "rank0.pid"), None)
    detail = handle.failure_detail()
    assert "replica rank 1 (worker 0) exited with code 3" in detail
    assert "rank 1 gives up" in detail


def _looping(kind: str) -> str:
    return f"""
        import os, time, tunelab
        rank = int(os.environ["RANK"])
        open(os.path.join(os.environ["PID_DIR"], f"rank{{rank}}.pid"), "w").write(str(os.getpid()))
        while {"not tunelab.should_stop()" if kind == "ask" else "True"}:
            time.sleep(0.05)
        tunelab.report_final(rank)
    """


def _started(tmp_path: Path, count: int) -> list[int]:
    paths = [tmp_path / f"rank{rank}.pid" for rank in range(count)]
    _wait_until(lambda: all(p.exists() and p.read_text() for p in paths), "every replica started")
    return [_pid(p) for p in paths]


def test_stop_reaches_every_replica(tmp_path):
    job = _job(tmp_path, _looping("loop"), (Replica("worker", 2),), env={"PID_DIR": str(tmp_path)})
    runner = LocalRunner()
    handle = runner.start(job)
    pids = _started(tmp_path, 2)
    handle.stop(grace=60.0)
    assert _finish(runner, handle) < 0
    assert not any(is_same_process_alive(pid, None) for pid in pids)


def test_request_stop_reaches_every_replica(tmp_path):
    job = _job(tmp_path, _looping("ask"), (Replica("worker", 2),), env={"PID_DIR": str(tmp_path)})
    runner = LocalRunner()
    handle = runner.start(job)
    _started(tmp_path, 2)
    handle.request_stop()
    assert _finish(runner, handle) == 0
    assert [r.value for r in handle.read_reports() if isinstance(r, Report)] == [0]
    assert (job.trial_dir / "replicas" / "rank1" / "reports.jsonl").exists()  # its own, ignored


def test_recover_stops_every_replica_of_an_interrupted_trial(tmp_path):
    job = _job(tmp_path, _looping("loop"), (Replica("worker", 2),), env={"PID_DIR": str(tmp_path)})
    runner = LocalRunner()
    handle = runner.start(job)
    pids = _started(tmp_path, 2)
    recovered = LocalRunner().recover(job, None, None, grace=60.0)  # the pid comes from the pid file
    assert recovered.was_alive
    assert not any(is_same_process_alive(pid, None) for pid in pids)
    handle.poll()


def test_a_second_attempt_sets_aside_the_replicas_logs(tmp_path):
    script = """
        import os
        print("attempt", os.environ["RANK"])
    """
    job = _job(tmp_path, script, (Replica("worker", 2),))
    runner = LocalRunner()
    assert _finish(runner, runner.start(job)) == 0
    from dataclasses import replace

    second = replace(job, attempt=2)
    assert _finish(runner, runner.start(second)) == 0
    assert (job.trial_dir / "stdout.attempt1.rank1.log").read_text().strip() == "attempt 1"
    assert (job.trial_dir / "stdout.rank1.log").read_text().strip() == "attempt 1"


TORCH_TRIAL = """
    import os
    import tunelab
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")  # MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE from the environment
    rank = dist.get_rank()
    x = tunelab.get_params()["x"]
    tensor = torch.tensor([float(rank + 1) * x])
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    tunelab.report_final(float(tensor.item()), world=dist.get_world_size(), local_rank=int(os.environ["LOCAL_RANK"]))
    dist.destroy_process_group()
"""


def test_a_real_two_process_torch_distributed_trial(tmp_path):
    pytest.importorskip("torch.distributed")
    job = _job(tmp_path, TORCH_TRIAL, (Replica("master", 1), Replica("worker", 1)))
    runner = LocalRunner()
    handle = runner.start(job)
    assert _finish(runner, handle) == 0, handle.failure_detail()
    (report,) = [r for r in handle.read_reports() if isinstance(r, Report)]
    assert report.value == 3.0  # (0 + 1) * 1 + (1 + 1) * 1, summed over both ranks
    assert report.metrics == {"world": 2, "local_rank": 0}


@pytest.mark.parametrize(
    ("trial", "message"),
    [
        (
            {"function": "m:f", "distributed": {"framework": "pytorch", "replicas": [{"role": "worker", "count": 2}]}},
            "distributed trials run a command, not a function",
        ),
        (
            {"distributed": {"framework": "pytorch", "replicas": [{"role": "worker", "count": 2}]}},
            r"distributed.replicas\[0\].command: needed when trial.command is not given",
        ),
        (
            {"command": "x", "distributed": {"framework": "jax", "replicas": [{"role": "worker"}]}},
            "trial.distributed.framework",
        ),
        (
            {"command": "x", "distributed": {"framework": "pytorch", "replicas": [{"role": "worker", "count": 0}]}},
            r"trial.distributed.replicas.0.count",
        ),
    ],
)
def test_a_distributed_trial_config_that_cannot_run_is_an_error_naming_the_field(trial, message):
    from tunelab.config import load_config_dict
    from tunelab.errors import ConfigError

    data = {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": trial, "max_trials": 1}
    with pytest.raises(ConfigError, match=message):
        load_config_dict(data)


def test_the_engine_hands_the_runner_the_distributed_trial(tmp_path):
    from tunelab.config import load_config_dict
    from tunelab.runners._files import distributed_job

    trial = {
        "command": "python3 t.py",
        "stop_grace": "7s",
        "distributed": {"framework": "xgboost", "replicas": [{"role": "master"}, {"role": "worker", "count": 2}]},
    }
    config = load_config_dict({"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": trial}).config
    spec = distributed_job(config.trial)
    assert spec == Distributed("xgboost", (Replica("master", 1), Replica("worker", 2)), stop_grace=7.0)
    assert spec.world_size == 3


def test_a_replica_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    script = """
        import os, signal, sys, time
        folder = os.environ["PID_DIR"]
        if os.environ["RANK"] == "0":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            open(os.path.join(folder, "rank0.tmp"), "w").write(str(os.getpid()))
            os.replace(os.path.join(folder, "rank0.tmp"), os.path.join(folder, "rank0.pid"))
            while True:
                time.sleep(0.1)
        while not os.path.exists(os.path.join(folder, "rank0.pid")):
            time.sleep(0.01)
        sys.exit(1)
    """
    job = _job(tmp_path, script, (Replica("worker", 2),), env={"PID_DIR": str(tmp_path)}, grace=0.2)
    runner = LocalRunner()
    handle = runner.start(job)
    assert _finish(runner, handle) == 1
    assert not is_same_process_alive(_pid(tmp_path / "rank0.pid"), None)


def test_each_local_replica_sees_only_its_own_gpus(tmp_path):
    """As on Ray: the trial holds GPUs 3 and 5 (CUDA_VISIBLE_DEVICES from the GPU runner), each worker asks for one."""
    script = """
        import os, tunelab
        print(os.environ["RANK"], os.environ["CUDA_VISIBLE_DEVICES"])
        tunelab.report_final(0.0)
    """
    job = _job(tmp_path, script, (Replica("master", 1, gpus=1), Replica("worker", 2, gpus=0.5)))
    job = dataclasses.replace(job, env={"CUDA_VISIBLE_DEVICES": "3,5"})
    runner = LocalRunner()
    handle = runner.start(job)
    assert _finish(runner, handle) == 0
    seen = [
        (job.trial_dir / name).read_text().split() for name in ("stdout.log", "stdout.rank1.log", "stdout.rank2.log")
    ]
    assert seen == [["0", "3"], ["1", "5"], ["2", "5"]]


def test_an_experiment_on_two_of_its_gpus_gives_each_replica_one(tmp_path):
    """End to end through the engine: gpu_indices names the GPUs (no nvidia-smi needed), each replica asks for one."""
    from tunelab import Experiment

    code = tmp_path / "code"
    code.mkdir()
    (code / "t.py").write_text(
        "import os, tunelab\n"
        "print(os.environ['CUDA_VISIBLE_DEVICES'])\n"
        "tunelab.report_final(float(os.environ['RANK']))\n"
    )
    replicas = [{"role": "master", "gpus": 1}, {"role": "worker", "gpus": 1}]
    experiment = Experiment(
        search_space={"x": {"_type": "uniform", "_value": [0, 1]}},
        trial={
            "command": f"{sys.executable} t.py",
            "code_dir": str(code),
            "distributed": {"framework": "pytorch", "replicas": replicas},
        },
        max_trials=1,
        gpus_per_trial=2,
        gpu_indices=[3, 5],
        storage=str(tmp_path / "db.sqlite"),
        experiment_dir=str(tmp_path / "exp"),
    )
    result = experiment.run(verbose=False)
    [trial] = result.trials
    assert trial.value == 0.0
    folder = Path(trial.trial_dir)
    assert [(folder / n).read_text().split() for n in ("stdout.log", "stdout.rank1.log")] == [["3"], ["5"]]
