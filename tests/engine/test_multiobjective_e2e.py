"""End to end: the MLP-on-digits example with two objectives (accuracy against parameter count),
real trial processes, the engine SIGKILLed mid-run (after three trials finished or were stopped)
and resumed with ``tunelab resume``.

The front after the resume is the front of all trials by the one rule; trials finished before
the kill are kept exactly; ``best_params.json`` and ``tunelab best --json`` name the same
front and knee. With MO-ASHA registered the experiment runs under it; until then under fifo
(said in the skip reason of the scheduler check).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tunelab.schedulers._registry import SCHEDULERS
from tunelab.storage import Phase, SQLiteStorage, TrialState, knee_trial, pareto_front

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multiobjective"
TUNELAB = [sys.executable, "-m", "tunelab.cli"]
OBJECTIVES = {"accuracy": "max", "params": "min"}
MOASHA = "moasha" in SCHEDULERS


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    shutil.copytree(EXAMPLE, folder)
    config = yaml.safe_load((folder / "config.yml").read_text())
    config.update(max_trials=10, concurrency=2, max_duration="15m")
    config["search_space"]["width"]["_value"] = [8, 16, 32]  # small nets: quick epochs on a loaded machine
    if MOASHA:
        config["scheduler"] = {"name": "moasha", "args": {"max_t": 9, "grace_period": 1, "reduction_factor": 3}}
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def test_sigkill_mid_run_then_resume_keeps_the_front(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    env = {**os.environ, "TUNELAB_HOME": str(tmp_path / "home")}
    engine = subprocess.Popen(
        [*TUNELAB, "run", str(project / "config.yml"), "-q", "--storage", str(db)],
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for(lambda: db.exists(), timeout=120)
        store = SQLiteStorage(db)

        def finished() -> int:  # MO-ASHA stops most trials at a rung: EARLY_STOPPED is finished too
            experiments = store.list_experiments()
            ended = (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
            return len(store.get_trials(experiments[0].id, states=ended)) if experiments else 0

        wait_for(lambda: finished() >= 3, timeout=400)
        engine.send_signal(signal.SIGKILL)
        engine.wait(timeout=60)
    finally:
        if engine.poll() is None:
            engine.kill()
    [experiment] = store.list_experiments()
    assert experiment.phase == Phase.RUNNING  # nobody recorded an end: it was killed
    before = {t.number: t for t in store.get_trials(experiment.id) if t.state.is_final}
    assert sum(t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) for t in before.values()) >= 3

    resumed = subprocess.run(
        [*TUNELAB, "resume", experiment.id, "-q", "--storage", str(db)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert "ended DONE" in resumed.stderr, resumed.stderr
    trials = store.get_trials(experiment.id, with_intermediate=True)
    assert [t.number for t in trials] == list(range(10)) and all(t.state.is_final for t in trials)
    for number, trial in before.items():  # nothing finished was lost or changed
        after = trials[number]
        assert (after.state, after.values, after.violation) == (trial.state, trial.values, trial.violation)
    for trial in trials:
        if trial.state == TrialState.SUCCEEDED:
            assert set(trial.values or {}) == set(OBJECTIVES) and trial.violation is not None
            assert trial.feasible == ((trial.values or {})["params"] <= 20000)
            assert [set(r.values or {}) for r in trial.intermediate] == [set(OBJECTIVES)] * len(trial.intermediate)
    front, knee = pareto_front(trials, OBJECTIVES), knee_trial(trials, OBJECTIVES)
    assert front and knee is not None
    best = json.loads((Path(store.get_experiment(experiment.id).experiment_dir) / "best_params.json").read_text())
    assert [e["trial"] for e in best["front"]] == [t.number for t in front] and best["trial"] == knee.number
    shown = subprocess.run(
        [*TUNELAB, "best", experiment.id, "--json", "--storage", str(db)], capture_output=True, text=True, env=env
    )
    assert json.loads(shown.stdout)["front"] == [{**e, "metrics": {}} for e in best["front"]]
    store.close()


@pytest.mark.skipif(not MOASHA, reason="MO-ASHA (the 'moasha' scheduler) is not registered yet")
def test_the_example_runs_under_moasha() -> None:
    config = yaml.safe_load((EXAMPLE / "config.yml").read_text())
    assert config["scheduler"]["name"] == "moasha"
