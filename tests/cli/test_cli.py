"""The `tunelab` command as a user drives it: real processes, real trials, SIGKILL and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tunelab.storage import Phase, SQLiteStorage, TrialState

TUNELAB = [sys.executable, "-m", "tunelab.cli"]


def tunelab(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([*TUNELAB, *args], capture_output=True, text=True, timeout=120, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"tunelab {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def make_project(
    folder: Path, *, sleep: float = 0.0, max_trials: int = 6, concurrency: int = 2, extra: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(
        textwrap.dedent(
            f"""
            import os, time, tunelab
            p = tunelab.get_params()
            with open("runs.log", "a") as log:
                log.write(f"{{os.environ['TUNELAB_TRIAL_NUMBER']}}\\n")
            for step in range(3):
                time.sleep({sleep} / 3)
                tunelab.report(p["x"] + step, step=step)
            if p.get("fail"):
                raise SystemExit("boom: " + str(p["x"]))
            tunelab.report_final(p["x"] ** 2)
            """
        )
    )
    config = folder / "config.yml"
    config.write_text(
        textwrap.dedent(
            f"""
            name: cli-test
            search_space:
              x: {{_type: uniform, _value: [-2, 2]}}
            trial: {{command: python3 train.py, code_dir: .}}
            tuner: {{name: random, args: {{seed: 1}}}}
            max_trials: {max_trials}
            concurrency: {concurrency}
            """
        )
        + extra
    )
    return config


@pytest.fixture
def opened():
    stores = []

    def open_(path):
        stores.append(SQLiteStorage(path))
        return stores[-1]

    yield open_
    for store in stores:
        store.close()


def only_experiment(store: SQLiteStorage):
    [record] = store.list_experiments()
    return record


def test_run_list_show_trials_best(tmp_path):
    config = make_project(tmp_path / "proj")
    run = tunelab("run", str(config), "--storage", str(tmp_path / "db.sqlite"))
    assert "ended DONE" in run.stderr
    listed = json.loads(tunelab("list", "--json", "--storage", str(tmp_path / "db.sqlite")).stdout)
    assert [e["phase"] for e in listed] == ["DONE"] and listed[0]["name"] == "cli-test"
    experiment_id = listed[0]["id"]
    storage = ["--storage", str(tmp_path / "db.sqlite")]

    shown = json.loads(tunelab("show", experiment_id, "--json", *storage).stdout)
    assert shown["trials"]["SUCCEEDED"] == 6 and shown["phase"] == "DONE"

    trials = json.loads(tunelab("trials", experiment_id, "--format", "json", *storage).stdout)
    assert len(trials) == 6
    for trial in trials:
        assert trial["value"] == pytest.approx(trial["params"]["x"] ** 2)
        assert [r["value"] for r in trial["intermediate"]] == pytest.approx(
            [trial["params"]["x"] + s for s in range(3)]
        )

    csv_text = tunelab("trials", experiment_id, "--format", "csv", *storage).stdout
    assert csv_text.splitlines()[0].startswith("number,state,value") and len(csv_text.splitlines()) == 7

    best = json.loads(tunelab("best", experiment_id, "--json", *storage).stdout)
    assert best["value"] == min(t["value"] for t in trials)
    artifact = json.loads((Path(shown["experiment_dir"]) / "best_params.json").read_text())
    assert artifact["params"] == best["params"]
    assert "best value" in tunelab("best", experiment_id, *storage).stdout
    assert "trials" in tunelab("trials", experiment_id, *storage).stdout
    assert experiment_id in tunelab("list", *storage).stdout


def test_failing_trial_exits_nonzero_with_stderr_tail(tmp_path):
    config = make_project(tmp_path / "proj", max_trials=3, concurrency=1)
    text = config.read_text().replace(
        "x: {_type: uniform, _value: [-2, 2]}",
        "x: {_type: uniform, _value: [-2, 2]}\n  fail: {_type: choice, _value: [true]}",
    )
    config.write_text(text)
    run = tunelab("run", str(config), "-q", check=False)
    assert run.returncode == 1
    assert "ended ERROR" in run.stderr and "boom" in run.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        ("search_space: {x: {_type: uniform, _value: [1, 0]}}\ntrial: {command: 'true'}\n", "search_space"),
        ("search_space: {x: 1}\ntrial: {command: 'true'}\nconcurency: 2\n", "concurency: unknown field"),
        ("search_space: {x: 1}\ntrial: {command: 'true'}\ntuner: {name: tpee}\n", "did you mean 'tpe'"),
        ("search_space: {x: 1}\ntrial: {command: 'true'}\nmax_trials: many\n", "max_trials"),
        ("search_space: [\n", "invalid YAML"),
    ],
)
def test_bad_configs_get_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.yml"
    path.write_text(content)
    for command in ("validate", "run"):
        result = tunelab(command, str(path), check=False)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr


def test_validate_accepts_good_config(tmp_path):
    config = make_project(tmp_path / "proj")
    result = tunelab("validate", str(config))
    assert "valid tunelab config" in result.stdout


def test_unknown_experiment_and_bad_arguments(tmp_path):
    result = tunelab("show", "nope", check=False)
    default = f"{os.environ['TUNELAB_HOME']}/tunelab.db"
    assert result.returncode == 1 and result.stderr.strip() == f"error: no experiments stored at {default!r}"
    assert not Path(default).exists()
    result = tunelab("trials", "x", "--format", "xml", check=False)
    assert result.returncode == 2 and "'xml' is not one of" in result.stderr


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("kill_after", [2, 5])
def test_sigkill_mid_experiment_then_resume_loses_nothing(tmp_path, kill_after, opened):
    project = tmp_path / "proj"
    config = make_project(project, sleep=0.6, max_trials=8, concurrency=2)
    db = tmp_path / "db.sqlite"
    engine = subprocess.Popen([*TUNELAB, "run", str(config), "-q", "--storage", str(db)], stderr=subprocess.DEVNULL)
    store = opened(db)
    wait_for(
        lambda: (
            store.list_experiments()
            and len(store.get_trials(store.list_experiments()[0].id, states=(TrialState.SUCCEEDED,))) >= kill_after
        )
    )
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    experiment = only_experiment(store)
    assert experiment.phase == Phase.RUNNING  # nobody recorded an end: it was killed
    before = {
        t.number: t for t in store.get_trials(experiment.id, with_intermediate=True) if t.state == TrialState.SUCCEEDED
    }
    assert len(before) >= kill_after

    resumed = tunelab("resume", experiment.id, "-q", "--storage", str(db))
    assert "ended DONE" in resumed.stderr
    after = {t.number: t for t in store.get_trials(experiment.id, with_intermediate=True)}
    assert sorted(after) == list(range(8))
    assert all(t.state == TrialState.SUCCEEDED for t in after.values())
    for number, trial in before.items():  # nothing finished was lost or changed
        assert after[number].value == trial.value and after[number].intermediate == trial.intermediate
    runs = (project / "runs.log").read_text().split()
    for number in before:  # nothing finished ran twice
        assert runs.count(str(number)) == 1
    for trial in after.values():
        assert trial.value == pytest.approx(trial.params["x"] ** 2)
    assert only_experiment(store).phase == Phase.DONE
    assert only_experiment(store).elapsed > 0


def test_stop_from_another_process_then_resume(tmp_path, opened):
    config = make_project(tmp_path / "proj", sleep=0.6, max_trials=6, concurrency=1)
    db = tmp_path / "db.sqlite"
    engine = subprocess.Popen([*TUNELAB, "run", str(config), "-q", "--storage", str(db)], stderr=subprocess.DEVNULL)
    store = opened(db)
    wait_for(
        lambda: (
            store.list_experiments()
            and store.get_trials(store.list_experiments()[0].id, states=(TrialState.SUCCEEDED,))
        )
    )
    experiment_id = only_experiment(store).id
    assert "stop requested" in tunelab("stop", experiment_id, "--storage", str(db)).stderr
    assert engine.wait(timeout=60) == 0
    assert only_experiment(store).phase == Phase.STOPPED
    states = [t.state for t in store.get_trials(experiment_id)]
    # The trial the stop interrupted is not canceled: it waits to run again.
    assert TrialState.CANCELED not in states
    assert all(s in (TrialState.SUCCEEDED, TrialState.WAITING) for s in states)
    tunelab("resume", experiment_id, "-q", "--storage", str(db))
    final = store.get_trials(experiment_id)
    assert only_experiment(store).phase == Phase.DONE
    assert len(final) == 6 and all(t.state == TrialState.SUCCEEDED for t in final)


def test_plain_progress_lines_when_not_a_terminal(tmp_path):
    config = make_project(tmp_path / "proj", max_trials=2)
    run = tunelab("run", str(config))
    assert "trials 2/2 (succeeded 2" in run.stderr and "| best " in run.stderr


HYPERBAND_TRAIN = textwrap.dedent(
    """
    import json, os, time, tunelab
    p = tunelab.get_params()
    budget = tunelab.get_budget()
    number = int(os.environ["TUNELAB_TRIAL_NUMBER"])
    state = tunelab.get_checkpoint_dir() / "state.json"
    saved = json.loads(state.read_text()) if state.exists() else {"epoch": 0, "lineage": []}
    with open("runs.log", "a") as log:
        log.write(f"{number}\\n")
    for epoch in range(saved["epoch"], budget):
        time.sleep(0.15)
        tunelab.report(p["x"] + 1.0 / (epoch + 1), step=epoch)
    lineage = saved["lineage"] + [number]
    state.write_text(json.dumps({"epoch": budget, "lineage": lineage}))
    print(json.dumps({"budget": budget, "start": saved["epoch"], "lineage": lineage}))
    tunelab.report_final(p["x"] + 1.0 / budget)
    """
)

#: Serial Hyperband over R=4, eta=2: brackets of 4+2+1, 3+1 and 3 trials, the trial limit ends it after one cycle.
HYPERBAND_CONFIG = textwrap.dedent(
    """
    name: hyperband-resume
    search_space:
      x: {_type: choice, _value: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}
    trial: {command: python3 train.py, code_dir: .}
    tuner: {name: grid}
    scheduler: {name: hyperband, args: {R: 4, eta: 2, exec_mode: serial}}
    max_trials: 14
    concurrency: 2
    """
)


def make_hyperband_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(HYPERBAND_TRAIN)
    (folder / "config.yml").write_text(HYPERBAND_CONFIG)
    return folder / "config.yml"


def trial_plans(trials: list[dict]) -> dict[int, tuple]:
    """What each trial was: its configuration, budget, parent, checkpoint source and result."""
    return {t["number"]: (t["params"]["x"], t["budget"], t["parent"], t["checkpoint_from"], t["value"]) for t in trials}


@pytest.fixture(scope="module")
def uninterrupted_hyperband(tmp_path_factory) -> dict[int, tuple]:
    root = tmp_path_factory.mktemp("uninterrupted")
    config = make_hyperband_project(root / "proj")
    env = {**os.environ, "TUNELAB_HOME": str(root / "home")}
    storage = ["--storage", str(root / "db.sqlite")]
    tunelab("run", str(config), "-q", *storage, env=env)
    [listed] = json.loads(tunelab("list", "--json", *storage, env=env).stdout)
    return trial_plans(json.loads(tunelab("trials", listed["id"], "--format", "json", *storage, env=env).stdout))


def test_uninterrupted_hyperband_runs_its_brackets(uninterrupted_hyperband):
    budgets = [plan[1] for _, plan in sorted(uninterrupted_hyperband.items())]
    assert budgets == [1, 1, 1, 1, 2, 2, 4, 2, 2, 2, 4, 4, 4, 4]
    promoted = {n: plan[2] for n, plan in uninterrupted_hyperband.items() if plan[2] is not None}
    assert promoted == {4: 0, 5: 1, 6: 4, 10: 7}  # the best of each complete rung, best first


@pytest.mark.parametrize("kill_after", [5, 8])
def test_sigkill_mid_hyperband_then_resume_keeps_the_plan(tmp_path, kill_after, opened, uninterrupted_hyperband):
    project = tmp_path / "proj"
    config = make_hyperband_project(project)
    db = tmp_path / "db.sqlite"
    engine = subprocess.Popen([*TUNELAB, "run", str(config), "-q", "--storage", str(db)], stderr=subprocess.DEVNULL)
    store = opened(db)
    wait_for(
        lambda: (
            store.list_experiments()
            and len(store.get_trials(store.list_experiments()[0].id, states=(TrialState.SUCCEEDED,))) >= kill_after
        )
    )
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    experiment = only_experiment(store)
    assert experiment.phase == Phase.RUNNING
    before = {t.number: t for t in store.get_trials(experiment.id) if t.state == TrialState.SUCCEEDED}

    resumed = tunelab("resume", experiment.id, "-q", "--storage", str(db))
    assert "ended DONE" in resumed.stderr
    trials = json.loads(tunelab("trials", experiment.id, "--format", "json", "--storage", str(db)).stdout)
    assert all(t["state"] == "SUCCEEDED" for t in trials)
    # The same trials with the same budgets, parents and results as a run nobody killed.
    assert trial_plans(trials) == uninterrupted_hyperband
    after = {t["number"]: t for t in trials}
    for number, trial in before.items():  # finished trials kept their plan and result, and did not run again
        kept = after[number]
        assert (kept["budget"], kept["parent"], kept["value"]) == (trial.budget, trial.parent, trial.value)
    runs = (project / "runs.log").read_text().split()
    assert all(runs.count(str(number)) == 1 for number in before)
    # Every trial, run again or not, trained to its stored budget; promotions from their parent's checkpoint.
    out = {n: json.loads((Path(t["trial_dir"]) / "stdout.log").read_text()) for n, t in after.items()}
    for number, trial in after.items():
        assert out[number]["budget"] == trial["budget"]
        if trial["parent"] is not None:
            assert out[number]["start"] == after[trial["parent"]]["budget"]
            assert out[number]["lineage"] == out[trial["parent"]]["lineage"] + [number]


def test_run_overrides_then_resume_extends_a_done_experiment(tmp_path):
    config = make_project(tmp_path / "proj", max_trials=6)
    storage = ["--storage", str(tmp_path / "db.sqlite")]
    run = tunelab("run", "-q", str(config), "--max-trials", "2", "--name", "extended", "--seed", "3", *storage)
    assert "ended DONE" in run.stderr
    assert "best_params.json" in run.stderr and "tunelab resume" in run.stderr
    [record] = SQLiteStorage(tmp_path / "db.sqlite").list_experiments()
    assert record.name == "extended" and record.config["max_trials"] == 2 and record.config["seed"] == 3
    assert f"tunelab trials {record.id}" in run.stderr and f"tunelab view {record.id}" in run.stderr

    again = tunelab("resume", "extended", *storage, check=False)
    assert again.returncode != 0 and "trial limit (2) is reached" in again.stderr
    assert "--max-trials N" in again.stderr

    resumed = tunelab("resume", "extended", "-v", "--max-trials", "4", *storage)
    assert "ended DONE" in resumed.stderr
    store = SQLiteStorage(tmp_path / "db.sqlite")
    trials = store.get_trials(record.id)
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 4
    assert store.get_experiment(record.id).config["max_trials"] == 4
    store.close()
    runs = (tmp_path / "proj" / "runs.log").read_text().split()
    assert sorted(runs) == ["0", "1", "2", "3"]
