"""Two tunelab workers on one PostgreSQL experiment: every trial runs exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import pytest

from tunelab import Experiment, hp
from tunelab.errors import ConfigError
from tunelab.storage import Phase, TrialState, open_storage

pytestmark = pytest.mark.slow

#: Each trial notes which engine runs it, then waits until trials of both workers have started: the first
#: worker cannot finish everything before the second joins, however slowly the second one starts.
TRIAL = """
import os, sys, time, tunelab
number = int(os.environ["TUNELAB_TRIAL_NUMBER"])
with open(sys.argv[1], "a") as log:
    log.write(f"{number} {os.getppid()}\\n")
deadline = time.monotonic() + 120
while len({p[1] for p in map(str.split, open(sys.argv[1]).read().splitlines()) if len(p) == 2}) < 2:
    if time.monotonic() > deadline:
        sys.exit("the second worker never started a trial")
    time.sleep(0.01)
tunelab.report(tunelab.get_params()["x"], step=0)
tunelab.report_final(tunelab.get_params()["x"])
"""


WORKER = """
import sys
from tunelab import Experiment
experiment = Experiment.load(sys.argv[1], storage=sys.argv[2])
result = experiment.run() if sys.argv[3] == "first" else experiment.work()
print(result.phase.value)
"""


def _worker(experiment_id: str, url: str, role: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, experiment_id, url, role], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_two_workers_run_every_trial_exactly_once(postgres_url, tmp_path):
    (tmp_path / "trial.py").write_text(TRIAL)
    log = tmp_path / "runs.log"
    experiment = Experiment(
        trial={"command": f"{sys.executable} trial.py {log}", "code_dir": str(tmp_path)},
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=16,
        concurrency=2,
        seed=4,
        shared=True,
        storage=postgres_url,
        experiment_dir=tmp_path / "exp",
    )
    experiment_id = experiment.create()
    experiment.storage.close()
    first = _worker(experiment_id, postgres_url, "first")
    store = open_storage(postgres_url)
    deadline = time.monotonic() + 60
    while store.get_experiment(experiment_id).phase != Phase.RUNNING:
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _worker(experiment_id, postgres_url, "join")
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [process.returncode for process in (first, second)] == [0, 0], outputs

    trials = store.get_trials(experiment_id, with_intermediate=True)
    assert [t.number for t in trials] == list(range(16))
    assert all(t.state == TrialState.SUCCEEDED and t.value == t.params["x"] for t in trials)
    assert all(t.attempt == 1 and len(t.intermediate) == 1 for t in trials)
    runs = [line.split() for line in log.read_text().splitlines()]
    assert Counter(int(number) for number, _ in runs) == Counter(range(16))  # each trial ran exactly once
    assert len({engine for _, engine in runs}) == 2  # and both workers ran some
    for trial in trials:
        assert [e[1] for e in store.get_events(experiment_id, trial.number)].count("RUNNING") == 1
    assert store.get_experiment(experiment_id).phase == Phase.DONE
    store.close()


def test_work_needs_a_shared_experiment(tmp_path):
    experiment = Experiment(objective=lambda p: 1.0, search_space={"x": hp.uniform(0, 1)}, max_trials=1)
    experiment.create()
    with pytest.raises(ConfigError, match="created with shared=True"):
        experiment.work()
