"""The define-by-run example runs as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "define_by_run" / "optuna_style.py"


def test_the_optuna_style_example_finds_a_good_model(tmp_path):
    pytest.importorskip("sklearn", reason="the example tunes scikit-learn models (the sklearn extra)")
    env = {"TUNELAB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "6"], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("best accuracy ") and float(line.split()[2]) > 0.85
    assert "'classifier'" in line
