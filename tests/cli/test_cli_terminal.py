"""The progress display on a real terminal: ``tunelab run`` and ``optimize()`` inside tmux draw
one rich panel redrawn in place (not a line per update), end on the final phase, and the CLI
prints its hints after it. Skipped where tmux is missing."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a real terminal"),
]

TRIAL = "import tunelab\np = tunelab.get_params()\ntunelab.report(p['x'], step=0)\ntunelab.report_final(p['x'] ** 2)\n"
CONFIG = """search_space: {x: {_type: uniform, _value: [-1, 1]}}
trial: {command: python3 trial.py, code_dir: .}
tuner: random
max_trials: 4
concurrency: 2
"""
SCRIPT = """import tunelab
from tunelab import hp
tunelab.optimize(lambda p: p["x"] ** 2, {"x": hp.uniform(-1, 1)}, tuner="random", max_trials=3, name="in-tmux")
"""


def in_tmux(command: str, cwd: Path, home: Path) -> str:
    """Run ``command`` in a detached 120x40 tmux pane of a private server; the pane's text when it ends."""
    socket, channel = f"tunelab-{uuid.uuid4().hex[:8]}", "ended"
    tmux = ["tmux", "-L", socket]
    body = f"cd {shlex.quote(str(cwd))} && export TUNELAB_HOME={shlex.quote(str(home))} && {command}"
    script = f"{body}; tmux -L {socket} wait-for -S {channel}; sleep 600"
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", "bash", "-c", script], check=True)
    try:
        subprocess.run([*tmux, "wait-for", channel], check=True, timeout=300)
        return subprocess.run([*tmux, "capture-pane", "-p"], check=True, capture_output=True, text=True).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def test_tunelab_run_draws_one_panel_in_place_then_the_hints(tmp_path: Path) -> None:
    (tmp_path / "trial.py").write_text(TRIAL)
    (tmp_path / "config.yml").write_text(CONFIG)
    tunelab = Path(sys.executable).with_name("tunelab")
    pane = in_tmux(f"{shlex.quote(str(tunelab))} run config.yml", tmp_path, tmp_path / "home")
    assert pane.count("tunelab experiment ") == 1, pane  # one panel, redrawn in place
    assert ": DONE" in pane and "4 of 4 done" in pane and "4 succeeded, 0 failed" in pane, pane
    assert "┌" in pane and "│ best" in pane  # drawn by rich, not plain lines
    assert not any(line.startswith("[") for line in pane.splitlines())  # no plain progress lines
    after = pane[pane.index("ended DONE") :]
    assert "best parameters:" in after and "next:            tunelab trials" in after


def test_optimize_shows_the_panel_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "tune.py").write_text(SCRIPT)
    pane = in_tmux(f"{shlex.quote(sys.executable)} tune.py", tmp_path, tmp_path / "home")
    assert pane.count("tunelab experiment ") == 1, pane
    assert ": DONE" in pane and "3 of 3 done" in pane, pane
