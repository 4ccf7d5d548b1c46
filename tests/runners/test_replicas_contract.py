"""The distributed-trial contract (tunelab.testing._replicas) over the local runner, plain and GPU-wrapped."""

from __future__ import annotations

import pytest

from tunelab.runners import GpuAllocator, GpuRunner, LocalRunner
from tunelab.testing._replicas import ReplicaContract
from tunelab.testing._runners import RunnerCase

pytestmark = pytest.mark.timeout(300)

CASES = [
    RunnerCase("local-command", LocalRunner),
    RunnerCase("gpu-command", lambda: GpuRunner(LocalRunner(), GpuAllocator([0, 1], gpus_per_trial=1))),
]


class TestLocalReplicaContract(ReplicaContract):
    @pytest.fixture(params=CASES, ids=lambda case: case.name)
    def runner_case(self, request):
        return request.param
