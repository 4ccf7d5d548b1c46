"""The reading commands (list, show, trials, best, stop, view) and the CLI's error handling,
in process through click's CliRunner over histories written straight into storage."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tunelab.cli import main
from tunelab.server._liveness import ENGINE_SILENT_AFTER, engine_liveness, phase_label
from tunelab.storage import ExperimentRecord, Phase, SQLiteStorage, TrialRecord, TrialState, best_trial

T0 = 1_800_000_000.0  # a fixed "now" for the liveness rule


def add_trial(store: SQLiteStorage, eid: str, number: int, state: TrialState, value: float | None, **params: Any):
    store.create_trial(TrialRecord(eid, number, TrialState.WAITING, params or {"x": number}, created_at=T0 - 100))
    store.update_trial(eid, number, state=state, value=value, started_at=T0 - 90 + number, ended_at=T0 - 80 + number)


def write_history(path: Path, eid: str = "exp-tie", mode: str = "min") -> SQLiteStorage:
    """Trial 1 early-stopped with a value better than any finished one; trials 0 and 2 tie;
    trial 4 "succeeded" with -inf, which is no score; trial 3 failed."""
    store = SQLiteStorage(path)
    store.create_experiment(
        eid, name="tie", config={"mode": mode, "max_trials": 6}, format="tunelab", experiment_dir=str(path.parent)
    )
    worst = 9.0 if mode == "min" else -9.0
    add_trial(store, eid, 0, TrialState.SUCCEEDED, 0.5)
    add_trial(store, eid, 1, TrialState.EARLY_STOPPED, 0.1 if mode == "min" else 0.9)
    add_trial(store, eid, 2, TrialState.SUCCEEDED, 0.5)
    add_trial(store, eid, 3, TrialState.FAILED, None)
    add_trial(store, eid, 4, TrialState.SUCCEEDED, -math.inf if mode == "min" else math.inf)
    add_trial(store, eid, 5, TrialState.SUCCEEDED, worst)
    store.set_phase(eid, Phase.DONE, "max_trials reached", ended_at=T0)
    return store


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _no_token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNELAB_TOKEN", raising=False)


# ---------------------------------------------------------------- one rule for "best"
@pytest.mark.parametrize("mode", ["min", "max"])
def test_best_show_and_list_name_the_trial_the_storage_rule_names(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "db.sqlite"
    store = write_history(db, mode=mode)
    expected = best_trial(store.get_trials("exp-tie"), mode)
    store.close()
    assert expected is not None and expected.number == 0  # the earlier of the tie, not the early-stopped trial

    best = json.loads(cli("best", "exp-tie", "--json", "--storage", str(db)).output)
    assert best["trial"] == 0 and best["value"] == 0.5 and best["params"] == {"x": 0}
    shown = json.loads(cli("show", "exp-tie", "--json", "--storage", str(db)).output)
    assert shown["best"]["trial"] == 0
    [listed] = json.loads(cli("list", "--json", "--storage", str(db)).output)
    assert listed["best"]["trial"] == 0 and listed["best"]["value"] == 0.5
    assert "0.5 (trial 0)" in cli("list", "--storage", str(db)).output
    assert "best value 0.5 (trial 0)" in cli("best", "exp-tie", "--storage", str(db)).output


def test_best_without_a_finished_trial_says_why(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e", name="e", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    add_trial(store, "e", 0, TrialState.EARLY_STOPPED, 0.1)
    store.close()
    result = CliRunner().invoke(main, ["best", "e", "--storage", str(db)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: experiment e has no successful trial yet (1 early-stopped trial do not count: their values are partial)"
    )


# ---------------------------------------------------------------- readers never create storage
@pytest.mark.parametrize(
    "args",
    [["show", "x"], ["trials", "x"], ["best", "x"], ["stop", "x"], ["view", "x", "--port", "0"], ["resume", "x"]],
)
def test_readers_on_missing_storage_create_nothing(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "new" / "dir" / "path.db"
    result = CliRunner().invoke(main, [*args, "--storage", str(db)])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"error: no experiments stored at {str(db)!r}"
    assert not (tmp_path / "new").exists()


def test_list_on_missing_storage_says_so_and_creates_nothing(tmp_path: Path, tunelab_home: Path) -> None:
    db = tmp_path / "new" / "path.db"
    result = CliRunner().invoke(main, ["list", "--storage", str(db)])
    assert result.exit_code == 0 and result.output.strip() == f"no experiments stored at {str(db)!r}"
    as_json = CliRunner().invoke(main, ["list", "--json"])  # the default storage, under $TUNELAB_HOME
    assert as_json.exit_code == 0 and as_json.stdout.strip() == "[]"
    assert not (tmp_path / "new").exists() and not tunelab_home.exists()


def test_unknown_id_names_the_closest_and_suggests_list(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    write_history(db).close()
    result = CliRunner().invoke(main, ["show", "exp-tei", "--storage", str(db)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: no experiment with id 'exp-tei' in {db}; did you mean 'exp-tie'?; "
        f"`tunelab list --storage {db}` shows the stored experiments"
    )


# ---------------------------------------------------------------- the last line of defence
def test_unexpected_error_is_one_line_with_a_debug_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "db.sqlite"
    write_history(db).close()

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SQLiteStorage, "get_trials", locked)
    result = CliRunner().invoke(main, ["show", "exp-tie", "--storage", str(db)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: internal error: OperationalError: database is locked "
        "(rerun with `tunelab --debug ...` for the traceback)"
    )
    debug = CliRunner().invoke(main, ["--debug", "show", "exp-tie", "--storage", str(db)])
    assert isinstance(debug.exception, sqlite3.OperationalError)  # the traceback is there to see


# ---------------------------------------------------------------- control characters
def test_control_characters_in_names_keys_and_messages_are_escaped(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    evil = "\x1b]0;owned\x07\x1b[2J"
    store.create_experiment("e", name="n" + evil, config={"mode": "min"}, format="tunelab", experiment_dir="d")
    store.create_trial(TrialRecord("e", 0, TrialState.WAITING, {"k" + evil: 1.0}))
    store.update_trial("e", 0, state=TrialState.SUCCEEDED, value=1.0, message="m" + evil, ended_at=T0)
    store.set_phase("e", Phase.ERROR, "boom" + evil)
    store.close()
    for args in (["list"], ["show", "e"], ["trials", "e"], ["best", "e"]):
        output = cli(*args, "--storage", str(db)).output
        assert "\x1b" not in output and "\x07" not in output, args
    assert "k\\x1b]0;owned\\x07" in cli("best", "e", "--storage", str(db)).output


# ---------------------------------------------------------------- dead engine
def running_record(**fields: Any) -> ExperimentRecord:
    base: dict[str, Any] = dict(
        id="e1", name="e1", phase=Phase.RUNNING, config={}, started_at=T0 - 600, heartbeat_at=T0 - 5
    )
    return ExperimentRecord(**{**base, **fields})


def test_liveness_rule_with_fixed_clock() -> None:
    never = lambda pid: pytest.fail("no pid check for another host")  # noqa: E731
    assert engine_liveness(running_record(), now=T0).responding
    edge = running_record(heartbeat_at=T0 - ENGINE_SILENT_AFTER)
    assert engine_liveness(edge, now=T0).responding
    silent = engine_liveness(running_record(heartbeat_at=T0 - 45), now=T0, is_alive=never)
    assert not silent.responding and silent.since == T0 - 45 and silent.reason == "no heartbeat for 45 s"
    assert engine_liveness(running_record(heartbeat_at=T0 - 3 * 86400), now=T0).reason == "no heartbeat for 3 days"
    # a fresh heartbeat, but the engine's process on this host is gone
    gone = running_record(engine_pid=4242, engine_host="here")
    dead = engine_liveness(gone, now=T0, host="here", is_alive=lambda pid: pid != 4242)
    assert not dead.responding and dead.since == T0 - 5 and "4242" in dead.reason
    assert engine_liveness(gone, now=T0, host="elsewhere", is_alive=never).responding
    assert engine_liveness(gone, now=T0, host="here", is_alive=lambda pid: True).responding
    # no heartbeat ever: the start is the last sign of life
    assert engine_liveness(running_record(heartbeat_at=None), now=T0).since == T0 - 600
    for phase in Phase:
        if phase != Phase.RUNNING:
            assert engine_liveness(running_record(phase=phase, heartbeat_at=T0 - 9999), now=T0).responding
    label = phase_label(running_record(), engine_liveness(running_record(heartbeat_at=T0 - 45), now=T0), str)
    assert label == f"RUNNING (engine not responding since {T0 - 45}; `tunelab resume e1` continues it)"


def test_show_and_list_say_the_engine_is_not_responding(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e1", name="e1", config={"mode": "min"}, format="tunelab", experiment_dir="d")
    store.create_experiment("e2", name="e2", config={"mode": "min"}, format="tunelab", experiment_dir="d")
    # e1: its engine wrote one heartbeat long ago and then died without a word
    store.set_phase("e1", Phase.RUNNING, started_at=1000.0, heartbeat_at=1000.0, engine_pid=None, engine_host=None)
    store.set_phase("e2", Phase.ERROR, "a trial failed")
    store.close()
    shown = json.loads(cli("show", "e1", "--json", "--storage", str(db)).output)
    assert shown["phase"] == "RUNNING" and shown["engine_responding"] is False
    assert shown["engine_silent_since"] == 1000.0
    assert shown["phase_label"].startswith("RUNNING (engine not responding since ")
    assert shown["phase_label"].endswith("; `tunelab resume e1` continues it)")
    text = cli("show", "e1", "--storage", str(db), env={"COLUMNS": "300"}).output
    assert "engine not responding since" in text and "tunelab resume e1" in text
    listed = {i["id"]: i for i in json.loads(cli("list", "--json", "--storage", str(db)).output)}
    assert listed["e1"]["engine_responding"] is False and listed["e2"]["phase_label"] == "ERROR"
    assert "engine not responding" in cli("list", "--storage", str(db), env={"COLUMNS": "300"}).output


# ---------------------------------------------------------------- tokens and exit codes
def test_token_from_environment_or_file_never_needs_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunelab.cli import _options

    seen: list[Any] = []
    monkeypatch.setattr("tunelab.server.Dashboard", lambda store, options: seen.append(options) or _Fake())
    db = tmp_path / "db.sqlite"
    write_history(db).close()
    assert cli("view", "--storage", str(db), env={"TUNELAB_TOKEN": "from-the-env"}).exit_code == 0
    (tmp_path / "token").write_text("from-a-file\n")
    assert cli("view", "--storage", str(db), "--token-file", str(tmp_path / "token")).exit_code == 0
    result = cli("view", "--storage", str(db), "--token", "on-the-line")
    assert "visible to other users" in result.output
    assert [o.token for o in seen] == ["from-the-env", "from-a-file", "on-the-line"]
    both = CliRunner().invoke(main, ["view", "--storage", str(db), "--token", "x" * 9, "--token-file", "t"])
    assert both.exit_code == 2 and "give --token or --token-file, not both" in both.output
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(Exception, match="is empty"):
        _options.read_token_file(str(tmp_path / "empty"))


class _Fake:
    notes = ["dashboard: fake"]

    def serve_forever(self) -> None:
        pass


def test_run_exits_nonzero_when_the_experiment_ends_in_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import tunelab.engine

    class Ended:
        warnings: tuple[str, ...] = ()
        format = "tunelab"
        id = "e9"

        def __init__(self, phase: str) -> None:
            self.phase = phase

        def create(self) -> str:
            return "e9"

        def run(self, **kwargs: Any) -> Any:
            return SimpleNamespace(
                experiment_id="e9",
                phase=Phase(self.phase),
                message="no trial succeeded",
                best_value=None,
                best_params=None,
            )

    for phase, code in [("ERROR", 1), ("DONE", 0), ("TIMEOUT", 0), ("STOPPED", 0)]:
        monkeypatch.setattr(tunelab.engine.Experiment, "from_file", classmethod(lambda cls, *a, p=phase, **k: Ended(p)))
        result = CliRunner().invoke(main, ["run", str(tmp_path / "c.yml"), "-q"])
        assert result.exit_code == code, (phase, result.output)
        assert f"experiment e9 ended {phase}: no trial succeeded" in result.output


def test_stop_on_a_dead_engine_says_nothing_will_act_on_it(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e1", name="e1", config={"mode": "min"}, format="tunelab", experiment_dir="d")
    store.set_phase("e1", Phase.RUNNING, started_at=1000.0, heartbeat_at=1000.0)
    store.close()
    output = cli("stop", "e1", "--storage", str(db)).output
    assert "stop requested for experiment e1" in output
    assert "its engine is not responding" in output and "`tunelab resume e1`" in output
    store = SQLiteStorage(db)
    assert store.get_experiment("e1").stop_requested
    store.close()


def test_progress_lines_escape_what_trials_and_the_engine_wrote() -> None:
    import io

    from rich.console import Console

    from tunelab.cli._progress import LiveProgress, summary_line
    from tunelab.engine import Progress

    evil = "\x1b[2J[bold red]x"
    p = Progress(
        Phase.RUNNING,
        10,
        None,
        1.0,
        best_value=1.0,
        best_params={"k": evil},
        best_number=0,
        waiting_reason="all slots busy " + evil,
    )
    line = summary_line("e1", p)
    assert "\x1b" not in line and "waiting: all slots busy \\x1b[2J" in line
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    live = LiveProgress("e1", console)
    live.on_progress(p)
    live.close()
    assert "\x1b[2J" not in buffer.getvalue() and "[bold red]x" in buffer.getvalue()  # shown, not obeyed
