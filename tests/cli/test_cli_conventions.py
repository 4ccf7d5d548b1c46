"""CLI conventions (issue 19): experiments by prefix, name or `latest`; global options after
the command; help with examples and defaults; overrides; hints at the end of a run; one
progress line per finished trial. In process through click's CliRunner over stored
experiments, plus one real run that is extended with `resume --max-trials`."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tunelab.cli import _hints, main
from tunelab.cli._progress import PlainProgress
from tunelab.engine import Progress
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

T0 = 1_800_000_000.0


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stored(tmp_path: Path) -> Path:
    """Three experiments: y64i2k3q ('phase', oldest), y6a0bbbb ('phase', newest of that
    name), zz000000 ('other', the newest of all); each with one trial valued by its order."""
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    for order, (eid, name) in enumerate([("y64i2k3q", "phase"), ("y6a0bbbb", "phase"), ("zz000000", "other")]):
        store.create_experiment(
            eid, name=name, config={"mode": "min", "max_trials": 3}, format="tunelab", experiment_dir=str(tmp_path)
        )
        store.create_trial(TrialRecord(eid, 0, TrialState.WAITING, {"x": order}, created_at=T0))
        store.update_trial(eid, 0, state=TrialState.SUCCEEDED, value=float(order), started_at=T0, ended_at=T0 + 1)
        store.set_phase(eid, Phase.DONE, "", ended_at=T0 + 2)
    store.close()
    with sqlite3.connect(db) as connection:  # distinct creation times: the newest is certain
        for order, eid in enumerate(["y64i2k3q", "y6a0bbbb", "zz000000"]):
            connection.execute("UPDATE experiments SET created_at = ? WHERE id = ?", (T0 + order, eid))
    return db


# ---------------------------------------------------------------- 1. experiments by prefix, name or latest
@pytest.mark.parametrize(
    ("ref", "expected"),
    [("y64", "y64i2k3q"), ("y6a", "y6a0bbbb"), ("phase", "y6a0bbbb"), ("other", "zz000000"), ("latest", "zz000000")],
)
def test_every_reading_command_accepts_a_prefix_a_name_or_latest(tmp_path: Path, ref: str, expected: str) -> None:
    db = str(stored(tmp_path))
    assert json.loads(cli("show", ref, "--json", "--storage", db).output)["id"] == expected
    assert json.loads(cli("best", ref, "--json", "--storage", db).output)["experiment_id"] == expected
    [trial] = json.loads(cli("trials", ref, "--format", "json", "--storage", db).output)
    assert trial["value"] == float(["y64i2k3q", "y6a0bbbb", "zz000000"].index(expected))
    stop = cli("stop", ref, "--storage", db)
    assert f"experiment {expected} has already ended DONE" in stop.output


def test_an_ambiguous_prefix_lists_the_candidates(tmp_path: Path) -> None:
    db = str(stored(tmp_path))
    result = CliRunner().invoke(main, ["show", "y6", "--storage", db])
    assert result.exit_code == 1
    line = result.output.strip()
    assert line.startswith("error: ambiguous: 'y6' matches ") and line.endswith("; give more characters")
    assert "y64i2k3q (phase, DONE)" in line and "y6a0bbbb (phase, DONE)" in line and "zz000000" not in line


def test_an_unknown_experiment_suggests_tunelab_list(tmp_path: Path) -> None:
    db = str(stored(tmp_path))
    result = CliRunner().invoke(main, ["best", "q1", "--storage", db])
    assert result.exit_code == 1 and "`tunelab list --storage" in result.output
    result = CliRunner().invoke(main, ["resume", "nope", "--storage", db])
    assert result.exit_code == 1 and "tunelab list" in result.output


# ---------------------------------------------------------------- 2. options anywhere, help
def test_global_options_may_follow_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(stored(tmp_path))
    levels: list[int] = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kw: levels.append(kw["level"]))
    assert cli("show", "-v", "latest", "--json", "--storage", db).exit_code == 0
    assert cli("list", "--storage", db, "--debug").exit_code == 0
    assert cli("--verbose", "list", "--storage", db).exit_code == 0
    assert levels == [logging.INFO, logging.DEBUG, logging.INFO]


def test_an_option_value_and_arguments_after_double_dash_are_not_taken_for_global_flags() -> None:
    ctx = main.make_context("tunelab", ["list"], resilient_parsing=True)
    hoist = main.hoist_global_flags  # type: ignore[attr-defined]
    assert hoist(ctx, ["run", "--name", "-v", "c.yml", "--debug"]) == ["--debug", "run", "--name", "-v", "c.yml"]
    assert hoist(ctx, ["run", "c.yml", "--", "-v"]) == ["run", "c.yml", "--", "-v"]
    assert hoist(ctx, ["python", "train.py", "-v"]) == ["python", "train.py", "-v"]


def test_help_has_an_example_and_the_defaults() -> None:
    for name in main.commands:
        if name == "python":
            continue
        text = cli(name, "--help").output
        assert f"Example: tunelab {name}" in text, name
    assert "[default: 8080]" in cli("view", "--help").output
    trials_help = " ".join(cli("trials", "--help").output.split())
    assert "csv: one column per parameter and metric" in trials_help and "[default: table]" in trials_help
    summary = cli("--help").output.split("Commands:")[1]
    assert "..." not in summary
    assert "Continue a stopped, timed-out or killed experiment." in summary


# ---------------------------------------------------------------- 3. overrides are checked as the file is
def test_run_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text("search_space: {x: {_type: uniform, _value: [0, 1]}}\ntrial: {command: python3 -c pass}\n")
    db = tmp_path / "db.sqlite"
    result = CliRunner().invoke(main, ["run", str(config), "--max-duration", "soon", "--storage", str(db)])
    assert result.exit_code != 0 and "max_duration" in result.output
    result = CliRunner().invoke(main, ["run", str(config), "--concurrency", "0", "--storage", str(db)])
    assert result.exit_code == 2 and "--concurrency" in result.output
    assert not db.exists() or not SQLiteStorage(db).list_experiments()


# ---------------------------------------------------------------- 5. hints and progress
def test_a_stopped_experiment_says_how_to_resume_and_how_many_trials_wait(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite")
    store.create_experiment("s1", name="s", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    for number, state in enumerate([TrialState.SUCCEEDED, TrialState.WAITING, TrialState.WAITING]):
        store.create_trial(TrialRecord("s1", number, TrialState.WAITING, {"x": number}, created_at=T0))
        store.update_trial("s1", number, state=state, value=1.0 if state == TrialState.SUCCEEDED else None)
    store.set_phase("s1", Phase.STOPPED, "stopped by the user", ended_at=T0)
    (tmp_path / "best_params.json").write_text("{}")
    hints = "\n".join(_hints(store, store.get_experiment("s1")))
    assert "tunelab resume s1 (2 trials wait to run again)" in hints
    assert str(tmp_path / "best_params.json") in hints
    assert "tunelab trials s1" in hints and "tunelab view s1" in hints
    store.set_phase("s1", Phase.TIMEOUT, "max_duration reached", ended_at=T0)
    assert "tunelab resume s1 --max-duration" in "\n".join(_hints(store, store.get_experiment("s1")))
    store.close()


def snapshot(running: int, succeeded: int, phase: Phase = Phase.RUNNING) -> Progress:
    return Progress(phase=phase, max_trials=4, max_duration=None, elapsed=0.0, running=running, succeeded=succeeded)


def test_plain_progress_prints_one_line_per_finished_trial_and_one_every_ten_seconds() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = PlainProgress("e", stream, clock=lambda: now[0])
    progress.on_progress(snapshot(0, 0))  # first line
    progress.on_progress(snapshot(1, 0))  # a trial starts: no line
    progress.on_progress(snapshot(2, 0))
    now[0] = 4.0
    progress.on_progress(snapshot(1, 1))  # a trial finishes: a line
    progress.on_progress(snapshot(2, 1))  # the next starts: no line
    now[0] = 14.5
    progress.on_progress(snapshot(2, 1))  # nothing changed for 10 s: a line
    now[0] = 15.0
    progress.on_progress(snapshot(2, 1))
    progress.on_progress(snapshot(0, 4, Phase.DONE))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert [line.split(" | ")[1].split(" (")[0] for line in lines] == [
        "trials 0/4",
        "trials 1/4",
        "trials 1/4",
        "trials 4/4",
    ]


def test_resume_with_a_longer_max_duration_continues_a_timed_out_experiment(tmp_path: Path) -> None:
    from tunelab.engine import Experiment

    (tmp_path / "train.py").write_text("import tunelab\ntunelab.report_final(tunelab.get_params()['x'])\n")
    config = tmp_path / "c.yml"
    config.write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"
        f"trial: {{command: python3 train.py, code_dir: {tmp_path}}}\n"
        "tuner: random\nmax_trials: 3\nmax_duration: 5s\n"
    )
    db = tmp_path / "db.sqlite"
    experiment = Experiment.from_file(config, storage=str(db))
    eid = experiment.create()
    store = experiment.storage
    store.set_phase(eid, Phase.TIMEOUT, "max_duration (5 s) reached after 0 trials", ended_at=T0)
    store.update_experiment(eid, elapsed=5.0)
    store.close()

    same = CliRunner().invoke(main, ["resume", eid[:4], "-q", "--storage", str(db)])
    assert "ended TIMEOUT" in same.output and f"tunelab resume {eid} --max-duration" in same.output
    longer = CliRunner().invoke(main, ["resume", eid[:4], "-q", "--max-duration", "1h", "--storage", str(db)])
    assert longer.exit_code == 0 and "ended DONE" in longer.output, longer.output
    store = SQLiteStorage(db)
    assert [t.state for t in store.get_trials(eid)] == [TrialState.SUCCEEDED] * 3
    assert store.get_experiment(eid).config["max_duration"] == 3600
    store.close()


@pytest.mark.parametrize("keep", [False, True])
def test_port_says_when_the_dashboard_goes_down_and_keep_serving_serves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    from types import SimpleNamespace

    import tunelab.cli
    import tunelab.engine

    db = stored(tmp_path)
    store = SQLiteStorage(db)
    served: list[Any] = []

    class Ended:
        warnings: tuple[str, ...] = ()
        format = "tunelab"
        id = "zz000000"
        storage = store

        def create(self) -> str:
            return self.id

        def run(self, **kwargs: Any) -> Any:
            assert kwargs["dashboard"].port == 8123
            return SimpleNamespace(
                experiment_id=self.id, phase=Phase.DONE, message="", best_value=2.0, best_params={"x": 2}
            )

    monkeypatch.setattr(tunelab.engine.Experiment, "from_file", classmethod(lambda cls, *a, **k: Ended()))
    monkeypatch.setattr(tunelab.cli, "_serve", lambda store, options: served.append(options.port))
    args = ["run", str(tmp_path / "c.yml"), "-q", "--port", "8123"] + (["--keep-serving"] if keep else [])
    result = CliRunner().invoke(main, args)
    store.close()
    assert result.exit_code == 0, result.output
    if keep:
        assert "keeps serving after the experiment ends, until Ctrl-C" in result.output and served == [8123]
    else:
        assert "the dashboard goes down when the experiment ends" in result.output and served == []
