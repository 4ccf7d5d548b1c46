"""A define-by-run experiment killed with SIGKILL resumes with its discovered space (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from tunelab import Experiment
from tunelab.storage import Phase, TrialState, open_storage

OBJECTIVE = """
def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    kind = trial.Choice("kind", ["a", "b"])
    with trial.conditional_scope("kind", ["b"]):
        y = trial.Int("y", 1, 3)
    return x * x + (y or 0)
"""

DRIVER = """
import sys
from dbr_objective import objective
from tunelab import Experiment
experiment = Experiment(objective=objective, max_trials=10**6, seed=1, storage=sys.argv[1], concurrency=2,
                        isolation="process", name="killed")
print(experiment.create(), flush=True)
experiment.run(verbose=False)
"""


def test_sigkill_then_resume_keeps_the_discovered_space(tmp_path):
    (tmp_path / "dbr_objective.py").write_text(textwrap.dedent(OBJECTIVE))
    (tmp_path / "driver.py").write_text(textwrap.dedent(DRIVER))
    db = str(tmp_path / "db.sqlite")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    driver = subprocess.Popen(
        [sys.executable, str(tmp_path / "driver.py"), db], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert driver.stdout is not None
        experiment_id = driver.stdout.readline().strip()
        store = open_storage(db)
        deadline = time.monotonic() + 300  # generous: a loaded machine
        while time.monotonic() < deadline:
            done = [t for t in store.get_trials(experiment_id) if t.state is TrialState.SUCCEEDED]
            if len(done) >= 4:
                break
            driver.poll()
            assert driver.returncode is None, "the driver ended before it was killed"
            time.sleep(0.2)  # polling storage for an event, not timing anything
        else:
            raise AssertionError("no four trials finished within 300 s")
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=60)
        if driver.stdout is not None:
            driver.stdout.close()
    sys.path.insert(0, str(tmp_path))
    try:
        from dbr_objective import objective  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    experiment = Experiment.load(experiment_id, storage=db, objective=objective)
    assert experiment.discovered is not None
    assert [d.name for d in experiment.discovered.declarations] == ["x", "kind", "y"]
    before = len(experiment.trials)
    result = experiment.resume(limits={"max_trials": before + 3}, verbose=False)
    assert result.phase is Phase.DONE, result.message
    assert len(result.trials) == before + 3
    space = experiment.config.space()
    for trial in result.trials:
        assert trial.state is TrialState.SUCCEEDED, (trial.number, trial.message)
        space.validate(trial.params)
    store.close()
