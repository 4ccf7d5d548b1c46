"""What a config file must get right before any trial runs: program, script, folder, file reading, messages."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tunelab.config import load_config, load_config_dict
from tunelab.config._check import check_command
from tunelab.errors import ConfigError

SPACE = "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("")
    (tmp_path / "model.py").write_text("")
    return tmp_path


def load(folder: Path, text: str, name: str = "c.yml"):
    path = folder / name
    path.write_text(text)
    return load_config(path)


# ------------------------------------------------------------------ the trial's program and script
def test_a_misspelled_program_is_one_line_naming_trial_command_with_a_suggestion(project):
    with pytest.raises(ConfigError) as info:
        load(project, SPACE + "trial: {command: pyhton3 train.py}\n")
    message = str(info.value)
    assert "trial.command: program 'pyhton3' not found" in message
    assert message.endswith("did you mean 'python3'?") and "\n" not in message


def test_a_misspelled_script_suggests_the_script_in_code_dir(project):
    with pytest.raises(
        ConfigError, match=r"trial\.command: script 'trian\.py' not found .*did you mean 'train\.py'\?$"
    ):
        load(project, SPACE + "trial: {command: python3 trian.py}\n")


def test_scripts_in_subfolders_are_suggested_by_path(project):
    (project / "src").mkdir()
    (project / "src" / "train.py").write_text("")
    with pytest.raises(ConfigError, match=r"did you mean 'src/train\.py'\?"):
        load(project, SPACE + "trial: {command: python3 src/trian.py}\n")


def test_nni_names_its_own_field(project):
    text = "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\ntrialCommand: pyhton3 model.py\ntuner: {name: TPE}\n"
    with pytest.raises(ConfigError, match=r"config\.yml: trialCommand: program 'pyhton3' not found"):
        load(project, text, "config.yml")


@pytest.mark.parametrize(
    "command",
    [
        "pyhton3 train.py | tee log",  # a shell pipeline: /bin/sh runs it, not second-guessed
        "FOO=1 python3 train.py",  # an assignment: a shell command too
        "./run.sh",  # a program relative to code_dir
        "python3 -m train",  # no script argument
        "python3 -u trian.py",  # argv[1] is an option: only argv[1] is taken as the script
        "sh -c 'exit 0'",
    ],
)
def test_what_is_not_flagged(project, command):
    (project / "run.sh").write_text("#!/bin/sh\n")
    (project / "run.sh").chmod(0o755)
    check_command(command, project, where="trial.command")


def test_the_trials_own_path_is_searched(project, tmp_path_factory):
    tools = tmp_path_factory.mktemp("tools")
    (tools / "mytrainer").write_text("#!/bin/sh\n")
    (tools / "mytrainer").chmod(0o755)
    with pytest.raises(ConfigError, match="program 'mytrainer' not found"):
        check_command("mytrainer --fast", project, where="trial.command")
    check_command("mytrainer --fast", project, env={"PATH": f"{tools}{os.pathsep}/usr/bin"}, where="trial.command")


def test_ray_trials_run_elsewhere_so_their_program_is_not_looked_for(project):
    """With ``runner: ray`` the command runs on the cluster's machines; only Ray itself must be here."""
    import importlib.util

    text = SPACE + "trial: {command: cluster-only-python train.py}\nrunner: ray\n"
    if importlib.util.find_spec("ray") is None:
        with pytest.raises(ConfigError, match="runner: ray needs Ray"):
            load(project, text)
    else:
        assert load(project, text).config.runner == "ray"
    with pytest.raises(ConfigError, match="program 'cluster-only-python' not found"):
        load(project, text.replace("runner: ray", "runner: local"))


def test_a_missing_absolute_program_is_flagged(project):
    with pytest.raises(ConfigError, match="program '/no/such/bin/python3' not found"):
        check_command("/no/such/bin/python3 train.py", project, where="trial.command")


def test_in_memory_configs_skip_the_machine_checks_unless_asked(project):
    data = {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": "pyhton3 train.py"}
    assert load_config_dict(data, base_dir=project).config.trial.command == "pyhton3 train.py"
    with pytest.raises(ConfigError, match="did you mean 'python3'"):
        load_config_dict(data, base_dir=project, startup=True)


def test_a_trial_function_must_import(project):
    (project / "objectives.py").write_text("def f(params):\n    return params['x']\n")
    load(project, SPACE + "trial: {function: 'objectives:f'}\n")
    with pytest.raises(ConfigError, match=r"trial\.function: cannot import 'objectives:g'"):
        load(project, SPACE + "trial: {function: 'objectives:g'}\n")


def test_a_file_without_a_trial_is_an_error(project):
    with pytest.raises(ConfigError, match=r"c\.yml: trial: give trial\.command"):
        load(project, SPACE)


# ------------------------------------------------------------------ reading the file
def test_validate_dev_zero_ends_with_one_line():
    """In a child with 2 GB of address space and a time limit, so the old endless read cannot hurt."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "tunelab.cli", "validate", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == "error: /dev/zero: not a regular file (a device, a pipe or a socket); give a config file"
    )


def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "config.yml"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(outcome, fifo), daemon=True)
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # it blocked opening the FIFO: release it before failing
        with open(fifo, "w"):
            pass
        pytest.fail("load_config blocked on a FIFO")
    assert isinstance(outcome[0], ConfigError) and "not a regular file" in str(outcome[0])


def _capture(outcome: list[BaseException], path: Path) -> None:
    try:
        load_config(path)
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        outcome.append(exc)


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "config.yml"
    with open(path, "wb") as handle:
        handle.truncate(11 * 1024 * 1024)  # sparse: no 11 MB written
    with pytest.raises(ConfigError, match=r"too large for a config file \(at most 10 MB\)"):
        load_config(path)


# ------------------------------------------------------------------ control characters in messages
@pytest.mark.parametrize(
    "data",
    [
        {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": "true", "max\x1b[31mtrials": 3},
        {"searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trialCommand": "true", "max\x1b[2Jtrial": 3},
        {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": {"command": "true", "cod\rdir": "."}},
    ],
)
def test_control_characters_in_keys_are_escaped(tmp_path, data):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "unknown field" in message
    assert all(ch.isprintable() for ch in message), repr(message)
    assert "\\x1b" in message or "\\r" in message


def test_a_tuner_whose_package_is_missing_cannot_run_so_the_file_is_rejected(project, monkeypatch):
    """``run`` would fail building it; a stored config with that tuner still reads (to show results)."""
    import importlib.util

    from tunelab.config import build_config

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    with pytest.raises(ConfigError, match=r"c\.yml: tuner\.name: tuner 'optuna' needs the package 'optuna'"):
        load(project, SPACE + "trial: {command: python3 train.py}\ntuner: optuna\n")
    stored = {"search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}, "trial": "true", "tuner": "optuna"}
    assert build_config(stored).tuner.name == "optuna"
