"""The integrations import their frameworks only when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "keras", "sklearn", "xgboost", "lightgbm")


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return eval(out)  # a list literal printed by the child


def test_autoestimator_and_integrations_do_not_import_frameworks():
    assert _loaded_after("import tunelab, tunelab.integrations; tunelab.AutoEstimator") == []
