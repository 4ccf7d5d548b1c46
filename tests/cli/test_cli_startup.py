"""The small commands import only what they need: ``tunelab list``, ``show``, ``best`` and
``trials`` run in a fresh interpreter without numpy, scipy, pandas or pydantic (start time
is measured by ``benchmarks/cli_startup.py``, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

HEAVY = ("numpy", "scipy", "pandas", "pydantic", "fastapi", "yaml")
PROBE = """
import json, sys
from tunelab.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


@pytest.mark.parametrize("args", [["list"], ["show", "e1"], ["best", "e1"], ["trials", "e1"], ["trial", "e1", "0"]])
def test_small_commands_import_neither_numpy_nor_scipy(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    store.create_experiment("e1", name="e1", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    store.create_trial(TrialRecord("e1", 0, TrialState.WAITING, {"opt": {"_name": "adam", "lr": 0.1}}))
    store.update_trial("e1", 0, state=TrialState.SUCCEEDED, value=0.5)
    store.set_phase("e1", Phase.DONE)
    store.close()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args, "--storage", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    assert report["heavy"] == [], f"tunelab {' '.join(args)} imported {report['heavy']}"
