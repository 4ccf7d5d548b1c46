"""The local runner beyond the contract: zombies, start errors, attempts, stderr tails, how function trials start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tunelab.errors import TrialStartError
from tunelab.runners import (
    LocalRunner,
    TrialJob,
    is_same_process_alive,
    process_start_time,
    stderr_tail,
    stop_orphan,
    trial_environment,
    trial_log_path,
)
from tunelab.runners._files import SHIMS_DIR
from tunelab.runners._local import start_method
from tunelab.testing._runners import contract_trial
from tunelab.trial._channel import BadReport, Report, ReportKind, encode

pytestmark = pytest.mark.timeout(300)
PATIENCE = 120.0


def _state(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _wait_until(predicate, what):
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.02)


def _job(tmp_path, **fields):
    code = tmp_path / "code"
    code.mkdir(parents=True, exist_ok=True)
    base = dict(experiment_id="e", number=0, attempt=1, params={}, trial_dir=tmp_path / "trial", code_dir=code)
    return TrialJob(**{**base, **fields})


def test_a_zombie_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    start = process_start_time(child.pid)
    assert start is not None
    _wait_until(lambda: _state(child.pid) == "Z", "the child exited (unreaped)")
    try:
        assert not is_same_process_alive(child.pid, start)  # the old check read the start time and said alive
        assert not is_same_process_alive(child.pid, None)
    finally:
        child.wait()


def test_a_live_process_is_alive_only_with_its_own_start_time():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    try:
        start = process_start_time(child.pid)
        assert is_same_process_alive(child.pid, start)
        assert not is_same_process_alive(child.pid, str(int(start) + 1))  # a reused pid
        assert not is_same_process_alive(None, None) and not is_same_process_alive(0, None)
    finally:
        child.kill()
        child.wait()


def test_stop_orphan_sends_sigterm_before_sigkill(tmp_path):
    marker = tmp_path / "terminated"
    code = (
        "import signal, sys, time, pathlib\n"
        f"def on_term(*_): pathlib.Path({str(marker)!r}).write_text('yes'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        f"pathlib.Path({str(tmp_path / 'ready')!r}).touch()\n"
        "while True: time.sleep(0.02)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    _wait_until(lambda: (tmp_path / "ready").exists(), "the orphan installed its handler")
    assert stop_orphan(child.pid, process_start_time(child.pid), grace=PATIENCE)
    child.wait()
    assert marker.read_text() == "yes"  # the old resume SIGKILLed it: no handler ran
    assert not stop_orphan(child.pid, "0", grace=0)


def test_a_missing_program_is_a_start_error_naming_it(tmp_path):
    job = _job(tmp_path, command="pyhton3 train.py")
    with pytest.raises(TrialStartError, match=r"^cannot start 'pyhton3': No such file or directory \(trial.command\)$"):
        LocalRunner().start(job)
    assert "cannot start 'pyhton3'" in trial_log_path(job.trial_dir, "stderr").read_text()


def test_a_missing_code_dir_is_a_start_error_naming_it(tmp_path):
    job = _job(tmp_path, command=f"{sys.executable} -c pass", code_dir=tmp_path / "nowhere")
    with pytest.raises(TrialStartError, match="trial.code_dir .*nowhere is not a folder"):
        LocalRunner().start(job)


def test_an_unwritable_trial_folder_is_a_start_error(tmp_path):
    (tmp_path / "file").write_text("")
    job = _job(tmp_path, command=f"{sys.executable} -c pass", trial_dir=tmp_path / "file" / "trial")
    with pytest.raises(TrialStartError, match="cannot prepare the trial folder"):
        LocalRunner().start(job)


def test_a_second_attempt_reads_only_its_own_reports(tmp_path):
    job = _job(tmp_path, command=f"{sys.executable} -c pass", attempt=2)
    job.trial_dir.mkdir()
    old = encode(Report(ReportKind.FINAL, 1.0, attempt=1))
    (job.trial_dir / "reports.jsonl").write_bytes(old)
    (job.trial_dir / "stderr.log").write_text("attempt 1 failed\n")
    handle = LocalRunner().start(job)
    _wait_until(lambda: handle.poll() is not None, "the trial ended")
    assert (job.trial_dir / "reports.attempt1.jsonl").read_bytes() == old
    assert (job.trial_dir / "stderr.attempt1.log").read_text() == "attempt 1 failed\n"
    assert handle.read_reports() == [] and handle.failure_detail() == ""
    with open(job.trial_dir / "reports.jsonl", "ab") as out:  # a process of attempt 1 still writing
        out.write(old)
    late = handle.read_reports()
    assert len(late) == 1 and isinstance(late[0], BadReport) and "attempt 1" in late[0].reason


def test_stderr_tail_is_the_last_eight_lines_of_the_last_4_kib_on_one_line(tmp_path):
    lines = [f"line {i}" for i in range(2000)] + ["", "Traceback: \x1b[31mboom\x1b[0m", "   "]
    (tmp_path / "stderr.log").write_text("\n".join(lines))
    tail = stderr_tail(tmp_path)
    assert tail.startswith("line 1993 | ") and tail.endswith("Traceback: \\x1b[31mboom\\x1b[0m")
    assert tail.count(" | ") == 7 and "\n" not in tail
    assert stderr_tail(tmp_path / "missing") == ""


def test_trial_log_path_names_the_current_attempts_logs(tmp_path):
    assert trial_log_path(tmp_path, "stdout") == tmp_path / "stdout.log"
    assert trial_log_path(str(tmp_path), "stderr") == tmp_path / "stderr.log"
    with pytest.raises(ValueError, match="stream must be 'stdout' or 'stderr'"):
        trial_log_path(tmp_path, "both")  # type: ignore[arg-type]


def test_one_environment_for_every_runner_puts_the_shims_first(tmp_path):
    job = _job(tmp_path, compat=("nni",), env={"PYTHONPATH": "/mine", "A": "1"}, seed=7)
    env = trial_environment(job, base={"PATH": "/bin", "PYTHONPATH": "/base"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(SHIMS_DIR), "/mine"]
    assert env["A"] == "1" and env["TUNELAB_TRIAL_SEED"] == "7" and env["NNI_TRIAL_SEQ_ID"] == "0"
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert "PYTHONPATH" not in trial_environment(_job(tmp_path), base={"PATH": "/bin"})


def _closure_trial():
    value = 3.0
    return lambda params: value


@pytest.fixture
def other_thread():
    done = threading.Event()
    thread = threading.Thread(target=done.wait, daemon=True)
    thread.start()
    yield
    done.set()
    thread.join()


def test_function_trials_fork_when_no_other_thread_runs(tmp_path, monkeypatch):
    # Earlier tests in the same process may leave threads behind (a dashboard, Ray): count only this one.
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert start_method(_job(tmp_path, function=contract_trial))[0] == "fork"


def test_function_trials_come_from_a_fork_server_when_other_threads_run(tmp_path, other_thread):
    assert start_method(_job(tmp_path, function=contract_trial)) == ("forkserver", "other threads run in this process")
    method, why = start_method(_job(tmp_path, function=_closure_trial()))
    assert method == "fork" and "cannot be pickled" in why


def test_an_unpicklable_function_still_runs_forked_and_the_reason_is_logged(tmp_path, other_thread, caplog):
    caplog.set_level("INFO", logger="tunelab")
    job = _job(tmp_path, function=_closure_trial())
    handle = LocalRunner().start(job)
    _wait_until(lambda: handle.poll() is not None, "the trial ended")
    assert handle.poll() == 0 and [r.value for r in handle.read_reports()] == [3.0]
    assert handle.start_method == "fork" and "cannot be pickled" in caplog.text


def test_a_fork_server_trial_reports_and_gets_its_attempt(tmp_path, other_thread):
    job = _job(tmp_path, function=contract_trial, params={"script": "quick"}, attempt=1)
    handle = LocalRunner().start(job)
    assert handle.start_method == "forkserver"
    _wait_until(lambda: handle.poll() is not None, "the trial ended")
    reports = handle.read_reports()
    assert handle.poll() == 0 and [(r.kind, r.value) for r in reports][-1] == (ReportKind.FINAL, 2.0)
    assert "something went wrong" in handle.failure_detail()


def test_request_stop_asks_without_a_signal(tmp_path):
    job = _job(tmp_path, function=contract_trial, params={"script": "polite"})
    handle = LocalRunner().start(job)
    _wait_until(lambda: (job.trial_dir / "reports.jsonl").exists(), "the first report")
    handle.request_stop()
    _wait_until(lambda: handle.poll() is not None, "the trial ended by itself")
    assert handle.poll() == 0  # no signal: it ended on its own
    assert [r.value for r in handle.read_reports()] == [0.0, 1.0]


def _numpy_draw(params):
    import numpy

    return float(numpy.random.random())


def test_a_fork_server_trial_seeds_numpy_as_a_forked_one_does(tmp_path, other_thread):
    import numpy  # noqa: F401 - the engine's process has numpy, so trials get it seeded

    values = {}
    for method_thread in ("forkserver", "fork"):
        job = _job(tmp_path / method_thread, function=_numpy_draw, seed=11)
        if method_thread == "fork":
            from tunelab.runners import prepare_trial_dir
            from tunelab.runners._local import _FunctionHandle

            prepare_trial_dir(job)
            handle = _FunctionHandle(job, "fork")
        else:
            handle = LocalRunner().start(job)
            assert handle.start_method == "forkserver"
        _wait_until(lambda h=handle: h.poll() is not None, "the trial ended")
        values[method_thread] = [r.value for r in handle.read_reports()]
    assert values["forkserver"] == values["fork"] and len(values["fork"]) == 1


def test_a_runner_asked_to_fork_forks_even_with_other_threads(tmp_path, other_thread):
    handle = LocalRunner(function_start="fork").start(
        _job(tmp_path, function=contract_trial, params={"script": "quick"})
    )
    assert handle.start_method == "fork"
    _wait_until(lambda: handle.poll() is not None, "the trial ended")
    assert handle.poll() == 0
