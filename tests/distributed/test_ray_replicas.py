"""Distributed trials on the Ray runner, beyond the replica contract (tests/distributed/test_ray_runner.py).

One single-node cluster on 127.0.0.1 serves the module, with 4 CPUs and 2 declared GPUs (Ray
hands tasks their CUDA_VISIBLE_DEVICES from them; nothing here uses a real GPU).
"""

from __future__ import annotations

import json
import time

import pytest

ray = pytest.importorskip("ray")

from tunelab.errors import TrialStartError  # noqa: E402
from tunelab.runners._base import Replica  # noqa: E402
from tunelab.testing._replicas import replica_job, replica_pids  # noqa: E402
from tunelab.testing._runners import RunnerCase  # noqa: E402
from tunelab.trial._channel import Report  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(600)]
PATIENCE = 240.0
#: Only builds the jobs (the runner is the module's).
CASE = RunnerCase("ray-command", lambda: None, processes=False, patience=PATIENCE)


@pytest.fixture(scope="module")
def runner(loopback_ray):
    from tunelab.runners._ray import RayRunner

    runner = RayRunner(address=loopback_ray, resources_per_trial={"cpu": 1}, stop_grace=1.0)
    try:
        yield runner
    finally:
        runner.close()


def _finish(runner, handle) -> int:
    deadline = time.monotonic() + PATIENCE
    while (code := handle.poll()) is None:
        assert time.monotonic() < deadline, "the trial did not end"
        runner.wait([handle], 0.5)
    return code


def test_replicas_get_their_nodes_address_and_one_gpu_each(runner, tmp_path):
    replicas = (Replica("master", 1, env={"ROLE": "m"}, gpus=1), Replica("worker", 1, env={"ROLE": "w"}, gpus=1))
    job = replica_job(CASE, tmp_path, "env", replicas)
    handle = runner.start(job)
    assert _finish(runner, handle) == 0, handle.failure_detail()
    assert [r.value for r in handle.read_reports() if isinstance(r, Report)] == [100.0]
    seen = [json.loads((job.trial_dir / name).read_text()) for name in ("stdout.log", "stdout.rank1.log")]
    assert [(s["RANK"], s["LOCAL_RANK"], s["ROLE"]) for s in seen] == [("0", "0", "m"), ("1", "1", "w")]
    assert {s["MASTER_ADDR"] for s in seen} == {"127.0.0.1"}  # rank 0's node, on loopback
    gpus = [s["CUDA_VISIBLE_DEVICES"] for s in seen]
    assert sorted(gpus) == ["0", "1"], gpus  # one GPU of its bundle each, not the same one
    assert "running on Ray node" in (job.trial_dir / "stderr.rank1.log").read_text()


def test_a_group_the_cluster_cannot_hold_is_a_start_error(runner, tmp_path):
    with pytest.raises(TrialStartError, match=r"replica rank 0 \(master\) needs CPU=1, GPU=3"):
        runner.start(replica_job(CASE, tmp_path, "env", (Replica("master", 1, gpus=3), Replica("worker", 1))))
    with pytest.raises(TrialStartError, match=r"the 5 replicas need CPU=5 together"):
        runner.start(replica_job(CASE, tmp_path, "env", (Replica("master", 1), Replica("worker", 4))))


def test_a_trial_stopped_while_its_group_waits_never_starts(runner, tmp_path):
    """Two trials of three replicas each on four CPUs: the second waits for the first's bundles."""
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    running = runner.start(replica_job(CASE, first_dir, "loop", (Replica("worker", 3),)))
    replica_pids(CASE, first_dir, 3)
    waiting = runner.start(replica_job(CASE, second_dir, "loop", (Replica("worker", 3),)))
    waiting.stop(grace=1.0)
    assert _finish(runner, waiting) == -15
    assert not list(second_dir.glob("rank*.pid"))
    running.stop(grace=1.0)
    assert _finish(runner, running) != 0
