"""Each integration example runs as a user would run it, and reports what it promises."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, *needs: str) -> str:
    missing = [m for m in needs if importlib.util.find_spec(m) is None]  # checked without importing
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=240, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _best_and_held_out(out: str) -> tuple[float, float]:
    match = re.search(r"best trial accuracy: ([\d.]+); best model on held-out data: ([\d.]+)", out)
    assert match, out
    return float(match[1]), float(match[2])


def test_sklearn_search_example():
    out = _run("sklearn_search/search_svm.py", "sklearn")
    assert float(re.search(r"held-out accuracy: ([\d.]+)", out)[1]) > 0.95


def test_torch_autoestimator_example():
    best, held_out = _best_and_held_out(_run("torch_autoestimator/tune_lenet.py", "torch", "sklearn"))
    assert held_out >= best - 1e-9 and held_out > 0.85


def test_keras_autoestimator_example():
    best, held_out = _best_and_held_out(_run("keras_autoestimator/tune_mlp.py", "keras", "torch", "sklearn"))
    assert held_out >= best - 1e-9 and held_out > 0.85


def test_xgboost_lightgbm_example():
    out = _run("xgboost_lightgbm/tune_boosters.py", "xgboost", "lightgbm", "sklearn")
    for name in ("xgboost", "lightgbm"):
        match = re.search(rf"{name}: best validation logloss ([\d.]+) .*; (\d+) stopped early", out)
        assert match and float(match[1]) < 0.2, out
