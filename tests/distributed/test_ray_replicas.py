"""Distributed trials on the Ray runner: one Ray task per replica, reserved together in a placement group.

One single-node cluster on 127.0.0.1 serves the module, with 4 CPUs and 2 declared GPUs (Ray
hands tasks their CUDA_VISIBLE_DEVICES from them; nothing here uses a real GPU).
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from tunelab.errors import TrialStartError  # noqa: E402
from tunelab.runners import TrialJob  # noqa: E402
from tunelab.runners._base import Distributed, Replica  # noqa: E402
from tunelab.testing._replicas import ReplicaContract  # noqa: E402
from tunelab.testing._runners import RunnerCase  # noqa: E402
from tunelab.trial._channel import Report  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(600)]
PATIENCE = 240.0


@pytest.fixture(scope="module")
def runner(loopback_ray):
    from tunelab.runners._ray import RayRunner

    runner = RayRunner(address=loopback_ray, resources_per_trial={"cpu": 1}, stop_grace=1.0)
    try:
        yield runner
    finally:
        runner.close()


def _job(tmp_path: Path, script: str, replicas: tuple[Replica, ...], framework: str = "pytorch", **fields) -> TrialJob:
    code = tmp_path / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "trial.py").write_text(textwrap.dedent(script))
    return TrialJob(
        experiment_id="e",
        number=fields.pop("number", 0),
        attempt=1,
        params={"x": 1},
        trial_dir=tmp_path / "trial",
        code_dir=code,
        command=f"{sys.executable} trial.py",
        distributed=Distributed(framework, replicas, stop_grace=fields.pop("grace", 5.0)),
        **fields,
    )


def _finish(runner, handle) -> int:
    deadline = time.monotonic() + PATIENCE
    while (code := handle.poll()) is None:
        assert time.monotonic() < deadline, "the trial did not end"
        runner.wait([handle], 0.5)
    return code


def _wait_for(paths: list[Path]) -> list[int]:
    deadline = time.monotonic() + PATIENCE
    while not all(p.exists() and p.read_text() for p in paths):
        assert time.monotonic() < deadline, f"gave up waiting for {paths}"
        time.sleep(0.05)
    return [int(p.read_text()) for p in paths]


ENVIRONMENT = """
    import json, os, tunelab
    keys = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "CUDA_VISIBLE_DEVICES", "ROLE")
    print(json.dumps({k: os.environ.get(k) for k in keys}), flush=True)
    tunelab.report_final(100 + int(os.environ["RANK"]), gpus=os.environ.get("CUDA_VISIBLE_DEVICES"))
"""


def test_replicas_get_the_local_runners_variables_and_one_gpu_each(runner, tmp_path):
    replicas = (Replica("master", 1, env={"ROLE": "m"}, gpus=1), Replica("worker", 1, env={"ROLE": "w"}, gpus=1))
    job = _job(tmp_path, ENVIRONMENT, replicas)
    handle = runner.start(job)
    assert _finish(runner, handle) == 0, handle.failure_detail()
    (report,) = [r for r in handle.read_reports() if isinstance(r, Report)]
    assert report.value == 100  # rank 0's report is the trial's; rank 1's stays in its own folder
    seen = [json.loads((job.trial_dir / name).read_text()) for name in ("stdout.log", "stdout.rank1.log")]
    assert [(s["RANK"], s["LOCAL_RANK"], s["WORLD_SIZE"], s["ROLE"]) for s in seen] == [
        ("0", "0", "2", "m"),
        ("1", "1", "2", "w"),
    ]
    assert {s["MASTER_ADDR"] for s in seen} == {"127.0.0.1"} and len({s["MASTER_PORT"] for s in seen}) == 1
    gpus = [s["CUDA_VISIBLE_DEVICES"] for s in seen]
    assert sorted(gpus) == ["0", "1"], gpus  # one GPU of the bundle each, not the same one
    assert (job.trial_dir / "replicas" / "rank1" / "reports.jsonl").exists()
    assert "running on Ray node" in (job.trial_dir / "stderr.rank1.log").read_text()


LOOPING = """
    import os, time, tunelab
    rank = os.environ["RANK"]
    open(os.path.join(os.environ["PID_DIR"], f"rank{rank}.pid"), "w").write(str(os.getpid()))
    while not (os.environ.get("POLITE") and tunelab.should_stop()):
        time.sleep(0.05)
    tunelab.report_final(int(rank))
"""


def test_a_group_the_cluster_cannot_hold_is_a_start_error(runner, tmp_path):
    with pytest.raises(TrialStartError, match=r"replica rank 0 \(master\) needs CPU=1, GPU=3"):
        runner.start(_job(tmp_path, ENVIRONMENT, (Replica("master", 1, gpus=3), Replica("worker", 1))))
    with pytest.raises(TrialStartError, match=r"the 5 replicas need CPU=5 together"):
        runner.start(_job(tmp_path, ENVIRONMENT, (Replica("master", 1), Replica("worker", 4))))


def test_a_trial_stopped_while_its_group_waits_never_starts(runner, tmp_path):
    """Two trials of three replicas each on four CPUs: the second waits for the first's bundles."""
    first = _job(tmp_path / "a", LOOPING, (Replica("worker", 3),), env={"PID_DIR": str(tmp_path / "a")}, number=1)
    second = _job(tmp_path / "b", LOOPING, (Replica("worker", 3),), env={"PID_DIR": str(tmp_path / "b")}, number=2)
    running = runner.start(first)
    _wait_for([tmp_path / "a" / f"rank{rank}.pid" for rank in range(3)])
    waiting = runner.start(second)
    waiting.stop(grace=1.0)
    assert _finish(runner, waiting) == -15
    assert not any((tmp_path / "b" / f"rank{rank}.pid").exists() for rank in range(3))
    running.stop(grace=1.0)
    assert _finish(runner, running) != 0


class _Shared:
    """The module's one RayRunner, handed to every check; closing it is the module fixture's job."""

    def __init__(self, runner):
        self._runner = runner

    def __getattr__(self, name):
        return getattr(self._runner, name)

    def close(self):
        pass


class TestRayReplicaContract(ReplicaContract):
    """What the local runner does with replicas (tests/runners/test_replicas_contract.py), on Ray."""

    @pytest.fixture
    def runner_case(self, runner):
        shared = _Shared(runner)
        return RunnerCase("ray-command", lambda: shared, processes=False, patience=PATIENCE)
