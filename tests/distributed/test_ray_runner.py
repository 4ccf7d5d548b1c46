"""The runner and replica contracts (tunelab.testing) over the Ray runner, on a private local cluster it starts.

Command trials with ``import nni`` / ``from aup import ...`` run on Ray as they do locally (item 17):
both runners build the trial's environment, shims on PYTHONPATH included, with one function.
"""

from __future__ import annotations

import os

import pytest

ray = pytest.importorskip("ray")

from tunelab.testing._replicas import ReplicaContract  # noqa: E402
from tunelab.testing._runners import RunnerCase, RunnerContract  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(600)]

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


class _Shared:
    """The module's one RayRunner, handed to every check; closing it is the module fixture's job."""

    def __init__(self, runner):
        self._runner = runner

    def __getattr__(self, name):
        return getattr(self._runner, name)

    def close(self):
        pass


@pytest.fixture(scope="module")
def ray_runner():
    if ray.is_initialized():
        pytest.skip("this process is already connected to another Ray cluster")
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    from tunelab.runners._ray import RayRunner

    runner = RayRunner(address=None, resources_per_trial={"cpu": 0.25}, stop_grace=0.5)
    try:
        yield runner
    finally:
        runner.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _case(ray_runner) -> RunnerCase:
    shared = _Shared(ray_runner)
    return RunnerCase(
        "ray-command",
        lambda: shared,
        processes=False,
        pid_start=lambda handle: None,
        recovers_live_trials=False,
        start_errors=False,
    )


class TestRayRunnerContract(RunnerContract):
    @pytest.fixture
    def runner_case(self, ray_runner):
        return _case(ray_runner)


class TestRayReplicaContract(ReplicaContract):
    """Distributed trials as on the local runner (tests/runners/test_replicas_contract.py): one Ray task per
    replica in a placement group."""

    @pytest.fixture
    def runner_case(self, ray_runner):
        return _case(ray_runner)
