"""A SIGKILLed engine whose trials run in live workers: the workers end, a resume loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tunelab.runners import is_same_process_alive
from tunelab.storage import Phase, SQLiteStorage, TrialState

pytestmark = pytest.mark.timeout(300)

TUNELAB = [sys.executable, "-m", "tunelab.cli"]
PATIENCE = 120.0

TRIAL = textwrap.dedent(
    """
    import os, time
    from pathlib import Path
    import tunelab

    HERE = Path(__file__).parent

    def objective(params):
        number = int(tunelab.get_trial_id().rsplit("-", 1)[1])
        with open(HERE / "runs.log", "a") as log:
            log.write(f"{number} {os.getpid()}\\n")
        tunelab.report(params["x"], step=0)
        while number >= 3 and (HERE / "hold").exists():  # the engine is killed while these wait
            time.sleep(0.02)
        return params["x"] ** 2
    """
)


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting until {what}"
        time.sleep(0.05)


def test_sigkilled_engine_with_live_workers_then_resume(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "gated.py").write_text(TRIAL)
    (project / "hold").touch()
    (project / "config.yml").write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"
        f"trial: {{function: 'gated:objective', code_dir: {str(project)!r}}}\n"
        "tuner: {name: random, args: {seed: 0}}\n"
        "max_trials: 8\nconcurrency: 2\n"
    )
    db = tmp_path / "db.sqlite"
    engine = subprocess.Popen(
        [*TUNELAB, "run", str(project / "config.yml"), "-q", "--storage", str(db)], stderr=subprocess.DEVNULL
    )
    store = SQLiteStorage(db)
    try:

        def runs() -> list[tuple[int, int]]:
            if not (project / "runs.log").exists():
                return []
            words = (project / "runs.log").read_text().split()
            return [(int(n), int(pid)) for n, pid in zip(words[::2], words[1::2], strict=False)]

        def held() -> list:
            experiments = store.list_experiments()
            if not experiments or sum(n >= 3 for n, _ in runs()) < 2:
                return []
            trials = store.get_trials(experiments[0].id, states=(TrialState.RUNNING,))
            return [t for t in trials if t.pid and t.number >= 3]

        _wait(lambda: len(held()) == 2, "two trials wait, each in a worker")
        workers = {(t.pid, t.pid_start) for t in held()}
        before = {t.number for t in store.get_trials(store.list_experiments()[0].id, states=(TrialState.SUCCEEDED,))}
        assert before == {0, 1, 2}
        assert len({pid for _, pid in runs()}) <= 3 and engine.pid not in {pid for _, pid in runs()}
        engine.send_signal(signal.SIGKILL)
        engine.wait()
        experiment = store.list_experiments()[0]
        assert experiment.phase == Phase.RUNNING  # nobody recorded an end: it was killed
        assert all(is_same_process_alive(pid, start) for pid, start in workers)  # orphaned, mid-trial

        (project / "hold").unlink()
        resumed = subprocess.run(
            [*TUNELAB, "resume", experiment.id, "-q", "--storage", str(db)],
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
        assert resumed.returncode == 0, resumed.stderr
        trials = store.get_trials(experiment.id)
        assert sorted(t.number for t in trials) == list(range(8))
        assert all(t.state is TrialState.SUCCEEDED for t in trials)
        assert all(t.value == pytest.approx(t.params["x"] ** 2) for t in trials)
        counts = [n for n, _ in runs()]
        assert all(counts.count(n) == 1 for n in before)  # nothing finished ran twice
        assert store.get_experiment(experiment.id).phase == Phase.DONE
        _wait(lambda: not any(is_same_process_alive(pid, start) for pid, start in workers), "the orphans ended")
    finally:
        store.close()
        if engine.poll() is None:
            engine.kill()
