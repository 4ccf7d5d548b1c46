"""Reading results: ``tunelab trials`` (columns, --columns, --sort, --state), ``tunelab trial``,
``tunelab logs`` (with --follow driven by an injected wait) and ``tunelab delete``, through
click's CliRunner over histories written straight into storage."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tunelab import Experiment
from tunelab.cli import main
from tunelab.cli._logs import follow
from tunelab.runners._files import trial_log_path
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

T0 = 1_800_000_000.0


def cli(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=input)


def write_branches(tmp_path: Path, eid: str = "exp-br", budgets: bool = False) -> Path:
    """Four trials over a nested choice (rf or gbm, both with a ``depth``) and a plain nested dict."""
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    folder = tmp_path / "exp"
    store.create_experiment(eid, name="branches", config={"mode": "max"}, format="tunelab", experiment_dir=str(folder))
    rows = [
        (TrialState.SUCCEEDED, 0.8, {"_name": "rf", "depth": 3}, {"acc_std": 0.01}),
        (TrialState.FAILED, None, {"_name": "gbm", "depth": 7, "eta": 0.3}, {}),
        (TrialState.SUCCEEDED, 0.9, {"_name": "gbm", "depth": 5, "eta": 0.1}, {"acc_std": 0.02}),
        (TrialState.EARLY_STOPPED, 0.7, {"_name": "rf", "depth": 9}, {}),
    ]
    for number, (state, value, model, metrics) in enumerate(rows):
        params = {"model": model, "opt": {"beta": 0.5 + number / 10}}
        trial_dir = folder / "trials" / str(number)
        trial_dir.mkdir(parents=True)
        store.create_trial(
            TrialRecord(eid, number, TrialState.WAITING, params, budget=(3**number if budgets else None))
        )
        store.update_trial(
            eid,
            number,
            state=state,
            value=value,
            metrics=metrics,
            started_at=T0 + number,
            ended_at=T0 + number + 2,
            trial_dir=str(trial_dir),
            message="Traceback: boom" if state == TrialState.FAILED else "",
        )
    store.set_phase(eid, Phase.DONE, "max_trials reached", ended_at=T0 + 10)
    store.close()
    return db


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- tunelab trials
def test_each_branch_parameter_has_its_own_column(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    rows = csv_rows(cli("trials", "exp-br", "--format", "csv", "--storage", str(db)).output)
    assert list(rows[0])[:3] == ["number", "state", "value"]
    assert "budget" not in rows[0]  # no scheduler gave budgets
    assert {k for k in rows[0] if k.startswith("param_")} == {
        "param_model",
        "param_model=rf/depth",
        "param_model=gbm/depth",
        "param_model=gbm/eta",
        "param_opt/beta",
    }
    assert [r["param_model=rf/depth"] for r in rows] == ["3", "", "", "9"]
    assert [r["param_model=gbm/depth"] for r in rows] == ["", "7", "5", ""]
    assert rows[2]["metric_acc_std"] == "0.02"

    table = cli("trials", "exp-br", "--storage", str(db)).output
    header = next(line for line in table.splitlines() if "state" in line)
    for name in ("model=rf/depth", "model=gbm/eta", "opt/beta", "acc_std", "message"):
        assert name in table.replace("\n", "") or name in header


def test_budget_column_when_a_scheduler_assigned_budgets(tmp_path: Path) -> None:
    db = write_branches(tmp_path, budgets=True)
    rows = csv_rows(cli("trials", "exp-br", "--format", "csv", "--storage", str(db)).output)
    assert [r["budget"] for r in rows] == ["1", "3", "9", "27"]
    assert "budget" in cli("trials", "exp-br", "--storage", str(db)).output


def test_state_sort_and_columns(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    args = ["trials", "exp-br", "--format", "csv", "--storage", str(db)]
    done = csv_rows(cli(*args, "--state", "succeeded").output)
    assert [r["number"] for r in done] == ["0", "2"]
    both = csv_rows(cli(*args, "--state", "Succeeded,early_stopped").output)
    assert [r["number"] for r in both] == ["0", "2", "3"]
    assert [r["number"] for r in csv_rows(cli(*args, "--state", "failed", "--state", "succeeded").output)] == [
        "0",
        "1",
        "2",
    ]

    by_value = csv_rows(cli(*args, "--sort", "-value").output)
    assert [r["number"] for r in by_value] == ["2", "0", "3", "1"]  # descending, the empty value last
    ascending = csv_rows(cli(*args, "--sort", "value").output)
    assert [r["number"] for r in ascending] == ["3", "0", "2", "1"]
    by_param = csv_rows(cli(*args, "--sort", "opt/beta").output)
    assert [r["number"] for r in by_param] == ["0", "1", "2", "3"]
    by_branch = csv_rows(cli(*args, "--sort", "-model").output)
    assert [r["param_model"] for r in by_branch] == ["rf", "rf", "gbm", "gbm"]

    picked = cli(*args, "--columns", "number,value,model=gbm/eta,acc_std").output
    assert picked.splitlines()[0] == "number,value,param_model=gbm/eta,metric_acc_std"
    as_json = json.loads(cli("trials", "exp-br", "--format", "json", "--sort", "-value", "--storage", str(db)).output)
    assert [t["number"] for t in as_json] == [2, 0, 3, 1]

    table = cli("trials", "exp-br", "--columns", "#,state", "--state", "failed", "--storage", str(db)).output
    assert "FAILED" in table and "SUCCEEDED" not in table and "opt/beta" not in table
    assert "1 of 4" in " ".join(table.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--state", "succeded"], "error: --state: 'succeded' is not a trial state; did you mean 'SUCCEEDED'?"),
        (["--sort", "valeu"], "error: --sort: no column 'valeu'; did you mean 'value'?"),
        (["--columns", "number,model=rf/dept"], "error: --columns: no column 'model=rf/dept'; did you mean"),
        (["--format", "json", "--columns", "value"], "error: --columns: only for --format table or csv"),
        (["--columns", " , "], "error: --columns: name at least one column"),
    ],
)
def test_bad_filters_name_the_option(tmp_path: Path, args: list[str], message: str) -> None:
    db = write_branches(tmp_path)
    result = cli("trials", "exp-br", *args, "--storage", str(db))
    assert result.exit_code != 0
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_long_values_wrap_in_their_own_column_and_wide_tables_split(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e", name="e", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    long_text = "layer-" * 30
    store.create_trial(TrialRecord("e", 0, TrialState.WAITING, {"arch": long_text, "lr": 0.001}))
    store.update_trial("e", 0, state=TrialState.SUCCEEDED, value=1.0)
    store.close()
    args = ["trials", "e", "--columns", "number,arch,lr", "--storage", str(db)]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "60"})
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
    assert len(cells) > 3  # the arch cell folds over several lines
    assert "".join(row[1] for row in cells) == long_text  # nothing cut
    assert cells[0][2] == "0.001"  # the lr column keeps its value beside it
    assert max(len(line) for line in result.output.splitlines()) <= 60

    many = {f"parameter_{i}": i for i in range(12)}
    store = SQLiteStorage(db)
    store.create_trial(TrialRecord("e", 1, TrialState.WAITING, many))
    store.close()
    wide = CliRunner().invoke(main, ["trials", "e", "--storage", str(db)], env={"COLUMNS": "80"}).output
    assert max(len(line) for line in wide.splitlines()) <= 80
    assert "(columns 1 of" in wide and all(f"parameter_{i}" in wide for i in range(12))
    assert "message" not in wide  # no trial has one: no empty column for it


def test_no_trials_to_show_says_so(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    none = cli("trials", "exp-br", "--state", "canceled,waiting", "--storage", str(db))
    assert none.exit_code == 0
    assert none.output.strip() == "experiment exp-br has no trials in state canceled, waiting yet (it has 4)"
    store = SQLiteStorage(db)
    store.create_experiment("new", name="new", config={}, format="tunelab", experiment_dir=str(tmp_path / "n"))
    store.close()
    assert cli("trials", "new", "--storage", str(db)).output.strip() == "experiment new has no trials yet"


# ---------------------------------------------------------------- tunelab trial
def test_one_trial_in_full(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    (tmp_path / "exp" / "trials" / "1" / "stderr.log").write_text("Traceback\nValueError: boom\n")
    text = cli("trial", "exp-br", "1", "--storage", str(db)).output
    assert text.splitlines()[0] == "trial 1 of experiment exp-br: FAILED"
    assert "model=gbm/eta = 0.3" in text and "opt/beta = 0.6" in text
    assert "message:  Traceback: boom" in text
    history = text[text.index("history:") :]
    assert history.index("WAITING") < history.index("FAILED")
    assert f"stderr:   {trial_log_path(tmp_path / 'exp' / 'trials' / '1', 'stderr')} (27 bytes)" in text
    assert "stdout.log (not written)" in text
    assert "logs:     tunelab logs exp-br 1 --stderr" in text

    data = json.loads(cli("trial", "exp-br", "2", "--json", "--storage", str(db)).output)
    assert data["value"] == 0.9 and data["metrics"] == {"acc_std": 0.02}
    assert [h["state"] for h in data["history"]] == ["WAITING", "SUCCEEDED"]

    missing = cli("trial", "exp-br", "7", "--storage", str(db))
    assert missing.exit_code == 1
    assert missing.output.strip() == "error: experiment exp-br has no trial 7: its trials are numbered 0 to 3"


# ---------------------------------------------------------------- tunelab logs
def test_logs_print_stdout_or_stderr(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    folder = tmp_path / "exp" / "trials" / "0"
    (folder / "stdout.log").write_bytes(b"fold 0: 0.8\nfold 1: \xff0.9\n")
    (folder / "stderr.log").write_text("warning: slow\n")
    out = CliRunner().invoke(main, ["logs", "exp-br", "0", "--storage", str(db)])
    assert out.exit_code == 0 and out.stdout_bytes == b"fold 0: 0.8\nfold 1: \xff0.9\n"
    assert cli("logs", "exp-br", "0", "--stderr", "--storage", str(db)).output == "warning: slow\n"
    none = cli("logs", "exp-br", "1", "--storage", str(db))
    assert none.exit_code == 1 and "wrote no stdout log" in none.output


def test_logs_of_a_trial_not_started_say_so(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e", name="e", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    store.create_trial(TrialRecord("e", 0, TrialState.WAITING, {"x": 1}))
    store.close()
    result = cli("logs", "e", "0", "--storage", str(db))
    assert result.output.strip() == "error: trial 0 of e has not started yet (WAITING): no logs"


def test_follow_prints_what_is_appended_until_the_trial_ends(tmp_path: Path) -> None:
    path = tmp_path / "stdout.log"
    path.write_text("epoch 1\n")
    out = io.BytesIO()
    looks: list[int] = []
    notes: list[str] = []
    state = {"ended": False}

    def wait(seconds: float) -> None:  # the trial writes between two looks; the third look ends it
        looks.append(len(out.getvalue()))
        if len(looks) == 1:
            with open(path, "a") as handle:
                handle.write("epoch 2\n")
        elif len(looks) == 2:
            pass  # nothing new: still following
        else:
            with open(path, "a") as handle:
                handle.write("done\n")
            state["ended"] = True

    follow(path, out, lambda: state["ended"], sleep=wait, note=notes.append)
    assert out.getvalue() == b"epoch 1\nepoch 2\ndone\n"  # what it wrote as it ended is printed too
    assert looks == [8, 16, 16] and notes == []


def test_follow_waits_for_the_file_and_restarts_with_a_new_attempt(tmp_path: Path) -> None:
    path = tmp_path / "stdout.log"
    out = io.BytesIO()
    notes: list[str] = []
    steps = iter(["create", "rotate", "end"])
    state = {"ended": False}

    def wait(seconds: float) -> None:
        step = next(steps)
        if step == "create":
            path.write_text("attempt 1, long line\n")
        elif step == "rotate":
            path.rename(tmp_path / "stdout.attempt1.log")
            path.write_text("attempt 2\n")
        else:
            state["ended"] = True

    follow(path, out, lambda: state["ended"], sleep=wait, note=notes.append)
    assert out.getvalue() == b"attempt 1, long line\nattempt 2\n"
    assert notes == ["--- stdout.log was started again (a new attempt) ---"]


def test_logs_follow_ends_when_the_trial_has_ended(tmp_path: Path) -> None:
    db = write_branches(tmp_path)
    (tmp_path / "exp" / "trials" / "2" / "stdout.log").write_text("all of it\n")
    result = cli("logs", "exp-br", "2", "--follow", "--storage", str(db))
    assert result.exit_code == 0 and result.output == "all of it\n"


# ---------------------------------------------------------------- tunelab delete
def test_delete_asks_then_removes_storage_records_and_folder(tmp_path: Path, tunelab_home: Path) -> None:
    db = write_branches(tmp_path)
    folder = tmp_path / "exp"
    (folder / "best_params.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")  # not tunelab's: kept
    refused = cli("delete", "exp-br", "--storage", str(db), input="n\n")
    assert refused.exit_code == 1 and "delete experiment exp-br (branches, DONE, 4 trials)" in refused.output
    assert (folder / "trials").is_dir() and "exp-br" in cli("list", "--storage", str(db)).output

    result = cli("delete", "exp-br", "--storage", str(db), input="y\n")
    assert result.exit_code == 0, result.output
    assert "deleted experiment exp-br" in result.output
    assert f"kept {folder}: it holds files tunelab did not write" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert "exp-br" not in cli("list", "--storage", str(db)).output
    again = cli("show", "exp-br", "--storage", str(db))
    assert again.exit_code == 1 and "no experiment" in again.output


def test_delete_yes_removes_the_default_folder_whole(tmp_path: Path, tunelab_home: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    for eid in ("aaa", "bbb"):
        folder = tunelab_home / "experiments" / eid
        (folder / "trials" / "0").mkdir(parents=True)
        (folder / "anything").write_text("x")
        store.create_experiment(eid, name=eid, config={}, format="tunelab", experiment_dir=str(folder))
        store.set_phase(eid, Phase.STOPPED)
    store.close()
    result = cli("delete", "aa", "--yes", "--storage", str(db))
    assert result.exit_code == 0, result.output
    assert not (tunelab_home / "experiments" / "aaa").exists()
    assert (tunelab_home / "experiments" / "bbb" / "anything").exists()
    listed = cli("list", "--storage", str(db)).output
    assert "bbb" in listed and "aaa" not in listed


def test_delete_keeps_a_folder_another_experiment_uses(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    shared = tmp_path / "out"
    (shared / "trials").mkdir(parents=True)
    for eid in ("one", "two"):
        store.create_experiment(eid, name=eid, config={}, format="tunelab", experiment_dir=str(shared))
        store.set_phase(eid, Phase.DONE)
    store.close()
    result = cli("delete", "one", "-y", "--storage", str(db))
    assert result.exit_code == 0 and "another stored experiment uses it too" in result.output
    assert (shared / "trials").is_dir()


def test_delete_refuses_a_running_experiment(tmp_path: Path) -> None:
    import os
    import socket

    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("live", name="live", config={}, format="tunelab", experiment_dir=str(tmp_path / "x"))
    store.update_experiment(
        "live",
        phase=Phase.RUNNING,
        engine_pid=os.getpid(),
        engine_host=socket.gethostname(),
        heartbeat_at=time.time(),
    )
    store.close()
    result = cli("delete", "live", "--yes", "--storage", str(db))
    assert result.exit_code == 1
    assert result.output.strip() == "error: experiment live is running; `tunelab stop live` first, then delete it"
    assert "live" in cli("list", "--storage", str(db)).output


# ---------------------------------------------------------------- --follow on a real running trial
TRIAL = """
import pathlib, sys, time
import tunelab
print("epoch 1", flush=True)
release = pathlib.Path(sys.argv[1])
while not release.exists():  # the test lets the trial end when it has seen the first line
    time.sleep(0.05)
print("epoch 2", flush=True)
tunelab.report_final(1.0)
"""


@pytest.mark.slow
def test_logs_follow_a_running_trial_until_it_ends(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    release = tmp_path / "release"
    db = tmp_path / "db.sqlite"
    experiment = Experiment(
        search_space={"x": {"_type": "choice", "_value": [1]}},
        trial={"command": f"{sys.executable} trial.py {release}", "code_dir": str(tmp_path), "timeout": "5m"},
        max_trials=1,
        storage=str(db),
        experiment_dir=str(tmp_path / "exp"),
    )
    eid = experiment.create()
    runner = threading.Thread(target=experiment.run, kwargs={"verbose": False}, daemon=True)
    runner.start()
    store = SQLiteStorage(db)
    try:
        start = time.monotonic()
        while not (store.get_trials(eid) and store.get_trials(eid)[0].state == TrialState.RUNNING):
            assert time.monotonic() - start < 120, "the trial never started"
            time.sleep(0.05)
        follower = subprocess.Popen(
            [sys.executable, "-m", "tunelab.cli", "logs", eid, "0", "--follow", "--storage", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert follower.stdout is not None
        assert follower.stdout.readline() == "epoch 1\n"  # printed while the trial still runs
        assert follower.poll() is None  # and it keeps following
        release.write_text("go")
        out, err = follower.communicate(timeout=120)
        assert follower.returncode == 0, err
        assert out == "epoch 2\n"  # the rest, then it ended by itself with the trial
    finally:
        release.write_text("go")
        runner.join(timeout=120)
        store.close()
    assert experiment.trials[0].state == TrialState.SUCCEEDED
