"""Reusable trial workers: many trials per process, a crashed, stopped or grown worker replaced."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

import tunelab
from tunelab import hp, optimize
from tunelab.runners import TrialJob
from tunelab.runners._workers import WorkerRunner
from tunelab.storage import Phase, TrialState
from tunelab.trial._channel import Report

pytestmark = pytest.mark.timeout(300)

PATIENCE = 120.0


def pid_and_params(params):
    tunelab.report_final(float(os.getpid()), **params)


def crash_on_odd(params):
    if params["n"] % 2:
        os._exit(7)
    tunelab.report_final(float(os.getpid()))


def hog(params):
    global _HELD
    _HELD = bytearray(params["mb"] << 20)  # kept after the trial, as a leak is
    tunelab.report_final(float(os.getpid()))


def sleeper(params):
    tunelab.report(0.0, step=0)
    time.sleep(600)


def _job(tmp_path: Path, number: int, function, **params) -> TrialJob:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    return TrialJob("w", number, 1, params, tmp_path / "trials" / str(number), code, function=function)


def _run(runner: WorkerRunner, job: TrialJob) -> tuple[int, list]:
    handle = runner.start(job)
    deadline = time.monotonic() + PATIENCE
    reports = []
    while (code := handle.poll()) is None:
        assert time.monotonic() < deadline, "the trial never ended"
        runner.wait([handle], 1.0)
        reports += handle.read_reports()
    reports += handle.read_reports()
    return code, [r for r in reports if isinstance(r, Report)]


def test_one_worker_runs_many_trials_with_their_own_params(tmp_path):
    runner = WorkerRunner()
    try:
        pids = set()
        for number in range(5):
            code, reports = _run(runner, _job(tmp_path, number, pid_and_params, n=number))
            assert code == 0 and reports[-1].metrics == {"n": number}
            pids.add(int(reports[-1].value))
        assert len(pids) == 1 and pids != {os.getpid()}
        assert runner.workers == list(pids)
    finally:
        runner.close()
    assert runner.workers == []


def test_a_crashed_worker_fails_only_its_trial_and_is_replaced(tmp_path):
    runner = WorkerRunner()
    try:
        results = [_run(runner, _job(tmp_path, n, crash_on_odd, n=n)) for n in range(4)]
        assert [code for code, _ in results] == [0, 7, 0, 7]
        survivors = [int(reports[-1].value) for code, reports in results if code == 0]
        assert len(set(survivors)) == 2  # the second even trial had a new worker
    finally:
        runner.close()


def test_a_worker_that_grew_past_the_limit_is_replaced_after_its_trial(tmp_path):
    runner = WorkerRunner(memory_growth=16 << 20)
    try:
        first = _run(runner, _job(tmp_path, 0, hog, mb=1))
        grown = _run(runner, _job(tmp_path, 1, hog, mb=64))
        after = _run(runner, _job(tmp_path, 2, hog, mb=1))
        assert [first[0], grown[0], after[0]] == [0, 0, 0]  # the trial that grew it still succeeded
        assert first[1][-1].value == grown[1][-1].value != after[1][-1].value
        assert "it is replaced" in (tmp_path / "trials" / "1" / "stderr.log").read_text()
    finally:
        runner.close()


def test_a_stopped_trial_takes_its_worker_and_the_next_trial_gets_a_new_one(tmp_path):
    runner = WorkerRunner()
    try:
        handle = runner.start(_job(tmp_path, 0, sleeper))
        deadline = time.monotonic() + PATIENCE
        while not handle.read_reports():
            assert time.monotonic() < deadline
            runner.wait([handle], 0.5)
        stopped = handle.pid
        handle.stop(60.0)
        while handle.poll() is None:
            assert time.monotonic() < deadline
            runner.wait([handle], 1.0)
        assert handle.poll() == -signal.SIGTERM
        code, reports = _run(runner, _job(tmp_path, 1, pid_and_params))
        assert code == 0 and int(reports[-1].value) != stopped
    finally:
        runner.close()


def test_optimize_runs_function_trials_in_workers_by_default():
    def objective(params):
        return float(os.getpid())

    result = optimize(objective, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=8, concurrency=2, seed=0)
    assert result.phase == Phase.DONE
    assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 8
    pids = {t.value for t in result.trials}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # two workers at most, each ran several trials


def test_an_objective_defined_in_a_closure_runs_in_workers():
    offset = 0.5

    def objective(params):  # not picklable: it reaches the workers by fork
        return params["x"] + offset

    result = optimize(objective, {"x": hp.uniform(0, 1)}, tuner="random", max_trials=4, seed=0)
    assert result.phase == Phase.DONE and all(t.value >= 0.5 for t in result.trials)


class _OtherThread:
    """Another thread runs (as a dashboard's would): workers come from the fork server."""

    def __enter__(self):
        import threading

        self.done = threading.Event()
        self.thread = threading.Thread(target=self.done.wait, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def _load(folder: Path, name: str, text: str):
    """Import ``name`` from ``folder`` without leaving the folder on sys.path (as trial.function's loader does)."""
    import importlib
    import sys

    (folder / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


def test_a_fork_server_worker_imports_the_function_from_its_code_dir(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    module = _load(
        code, "tunelab_worker_objective", "import os\ndef objective(params):\n    return float(os.getpid())\n"
    )
    runner = WorkerRunner()
    try:
        with _OtherThread():
            code_, reports = _run(runner, _job(tmp_path, 0, module.objective))
        assert code_ == 0 and reports[-1].value != float(os.getpid())
    finally:
        runner.close()


def test_a_function_a_worker_cannot_load_fails_its_trial_saying_why(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    module = _load(code, "tunelab_worker_vanishing", "def objective(params):\n    return 1.0\n")
    (code / "tunelab_worker_vanishing.py").unlink()  # the fork server's child cannot import it again
    runner = WorkerRunner()
    try:
        with _OtherThread():
            handle = runner.start(_job(tmp_path, 0, module.objective))
            deadline = time.monotonic() + PATIENCE
            while handle.poll() is None:
                assert time.monotonic() < deadline
                runner.wait([handle], 1.0)
        assert handle.poll() == 1
        assert "could not be loaded in a worker process" in handle.failure_detail()
        assert "ModuleNotFoundError" in handle.failure_detail()
    finally:
        runner.close()


def test_a_resume_without_the_trials_pid_stops_the_dead_engines_workers_from_their_register(tmp_path):
    """A worker trial has no pid file: if the engine died before storing its pid, the register of workers says
    which processes to stop before the trial's reports are read (so it cannot run on beside its rerun)."""
    from tunelab.runners._processes import is_same_process_alive
    from tunelab.runners._workers import worker_register

    old = WorkerRunner()  # the engine that "died"
    try:
        job = _job(tmp_path, 0, sleeper)
        handle = old.start(job)
        deadline = time.monotonic() + PATIENCE
        while not handle.read_reports():
            assert time.monotonic() < deadline
            old.wait([handle], 0.5)
        assert not (job.trial_dir / "pid").exists()
        entries = list(worker_register(job.trial_dir).glob("*.json"))
        assert [e.stem for e in entries] == [str(handle.pid)]
        found = WorkerRunner().recover(job, None, None, grace=30.0)
        assert found.was_alive and not is_same_process_alive(handle.pid, handle.pid_start)
        assert [r.step for r in found.reports if isinstance(r, Report)] == [0]
        assert not any(worker_register(job.trial_dir).glob("*.json"))
    finally:
        old.close()
    runner = WorkerRunner()
    try:
        assert _run(runner, _job(tmp_path, 1, pid_and_params))[0] == 0
    finally:
        runner.close()
    assert not any(worker_register(job.trial_dir).glob("*.json"))  # a closed runner's workers leave the register


def chatty(params):
    print(f"out {params['n']}")
    print(f"err {params['n']}", file=sys.stderr)
    sys.stdout.flush()
    if params.get("crash"):
        os.write(2, b"about to crash\n")
        os._exit(3)
    if params.get("wait"):
        while not tunelab.should_stop():
            time.sleep(0.01)
    tunelab.report_final(1.0)


def quiet(params):
    tunelab.report_final(2.0)


def test_a_trials_output_reaches_its_own_logs_as_it_runs_and_a_quiet_trial_makes_none(tmp_path):
    runner = WorkerRunner()
    try:
        for number in range(3):  # one worker: each trial's logs hold only its own lines
            assert _run(runner, _job(tmp_path, number, chatty, n=number))[0] == 0
            folder = tmp_path / "trials" / str(number)
            assert (folder / "stdout.log").read_text() == f"out {number}\n"
            assert (folder / "stderr.log").read_text() == f"err {number}\n"
        assert _run(runner, _job(tmp_path, 3, quiet))[0] == 0
        assert not (tmp_path / "trials" / "3" / "stdout.log").exists()
        assert not (tmp_path / "trials" / "3" / "stderr.log").exists()
        handle = runner.start(_job(tmp_path, 4, chatty, n=4, wait=True))  # followed while it runs
        log = tmp_path / "trials" / "4" / "stdout.log"
        deadline = time.monotonic() + PATIENCE
        while not (log.exists() and log.read_text() == "out 4\n"):
            assert time.monotonic() < deadline and handle.poll() is None
            runner.wait([handle], 0.05)
        handle.request_stop()
        while handle.poll() is None:
            assert time.monotonic() < deadline
            runner.wait([handle], 0.5)
        code, _ = _run(runner, _job(tmp_path, 5, chatty, n=5, crash=True))  # its worker dies: its output stays
        assert code == 3
        assert (tmp_path / "trials" / "5" / "stderr.log").read_text() == "err 5\nabout to crash\n"
    finally:
        runner.close()


def talker(params):
    print("before", flush=True)
    tunelab.report(0.0, step=0)
    go = Path(params["go"])
    deadline = time.monotonic() + PATIENCE
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    print("after", flush=True)
    print("late err", file=sys.stderr, flush=True)
    tunelab.report(1.0, step=1)
    time.sleep(600)


def test_what_a_worker_trial_printed_after_the_dead_engines_last_look_reaches_its_logs_on_resume(tmp_path):
    from tunelab.runners._workers import worker_register
    from tunelab.trial._channel import read_all

    old = WorkerRunner()  # the engine that "died": it looks at the trial once, then never again
    try:
        job = _job(tmp_path, 0, talker, go=str(tmp_path / "go"))
        handle = old.start(job)
        deadline = time.monotonic() + PATIENCE
        while not handle.read_reports():
            assert time.monotonic() < deadline
            old.wait([handle], 0.5)
        while not (job.trial_dir / "stdout.log").exists():  # the engine's look copies what it printed so far
            assert time.monotonic() < deadline and handle.poll() is None
            old.wait([handle], 0.05)
        (tmp_path / "go").touch()
        while len(read_all(job.trial_dir / "reports.jsonl")) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        WorkerRunner().recover(job, None, None, grace=30.0)
        assert (job.trial_dir / "stdout.log").read_text() == "before\nafter\n"
        assert (job.trial_dir / "stderr.log").read_text() == "late err\n"
        assert not list(worker_register(job.trial_dir).glob(f"{handle.pid}.*"))
    finally:
        old.close()


def test_a_dead_workers_output_is_rescued_while_it_is_still_a_zombie(tmp_path):
    """A worker killed on resume can stay a zombie a moment (its parent, or init, reaps it later): it writes
    no more, so what it printed goes to the trial's logs like a reaped worker's."""
    import subprocess

    from tunelab.runners._processes import process_start_time
    from tunelab.runners._workers import _rescue_output, _spool_header, worker_register

    job = _job(tmp_path, 0, talker)
    job.trial_dir.mkdir(parents=True)
    (job.trial_dir / "stdout.log").write_text("before\n")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + PATIENCE
        while Path(f"/proc/{child.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert process_start_time(child.pid) is not None  # not reaped: still listed
        register = worker_register(job.trial_dir)
        register.mkdir(parents=True, exist_ok=True)
        (register / f"{child.pid}.stdout").write_bytes(_spool_header(job) + b"before\nafter\n")
        _rescue_output(job, register)
        assert (job.trial_dir / "stdout.log").read_text() == "before\nafter\n"
        assert not list(register.glob(f"{child.pid}.*"))
    finally:
        child.wait()
