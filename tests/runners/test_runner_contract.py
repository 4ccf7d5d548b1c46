"""The runner contract (tunelab.testing) over every runner that runs here: local, GPU-wrapped, fake."""

from __future__ import annotations

import threading

import pytest

from tunelab.runners import GpuAllocator, GpuRunner, LocalRunner
from tunelab.runners._inline import InlineRunner
from tunelab.runners._workers import WorkerRunner
from tunelab.testing._runners import FakeClock, FakeRunner, RunnerCase, RunnerContract, contract_behaviour

pytestmark = pytest.mark.timeout(300)


class _Threaded:
    """A runner in a process with another thread running (as with the dashboard): fork-server children."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[call-arg]
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._done.wait, daemon=True)
        self._thread.start()

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        self._done.set()
        self._thread.join()


class _ThreadedWorkerRunner(_Threaded, WorkerRunner):
    pass


class _ThreadedLocalRunner(_Threaded, LocalRunner):
    pass


CASES = [
    RunnerCase("local-command", LocalRunner),
    RunnerCase("local-function", LocalRunner, kind="function"),
    RunnerCase("local-function-threaded", _ThreadedLocalRunner, kind="function"),
    RunnerCase("worker-function", WorkerRunner, kind="function"),
    RunnerCase("worker-function-threaded", _ThreadedWorkerRunner, kind="function"),
    RunnerCase("worker-command", WorkerRunner),
    RunnerCase("inline-function", InlineRunner, kind="function", processes=False, isolated=False, stoppable=False),
    RunnerCase("gpu-command", lambda: GpuRunner(LocalRunner(), GpuAllocator([0, 1], gpus_per_trial=0.5))),
    RunnerCase(
        "fake",
        lambda: FakeRunner(FakeClock(), contract_behaviour),
        kind="fake",
        processes=False,
        pid_start=lambda handle: None,
    ),
]


class TestRunnerContract(RunnerContract):
    @pytest.fixture(params=CASES, ids=lambda case: case.name)
    def runner_case(self, request):
        return request.param
