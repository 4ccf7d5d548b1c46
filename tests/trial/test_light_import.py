"""A trial process that imports tunelab (or tunelab's nni module) and reports loads only the trial API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tunelab.trial._compat_path import SHIMS_DIR

#: What a trial that only reports must not pay for: the rest of tunelab, and the heavier standard modules.
HEAVY = ("logging", "typing", "pathlib", "dataclasses", "inspect", "importlib", "threading", "numpy", "pydantic")
TRIAL_API = {"tunelab", "tunelab.errors", "tunelab.trial", "tunelab.trial._channel", "tunelab.trial._context"}


def _loaded(code: str, tmp_path) -> set[str]:
    """The modules ``code`` adds to a fresh interpreter's, reporting into a trial folder of ``tmp_path``."""
    (tmp_path / "params.json").write_text(json.dumps({"params": {"x": 1.0}, "number": 0, "attempt": 1}))
    probe = "import sys; before = set(sys.modules)\n" + code + "\nprint(repr(sorted(set(sys.modules) - before)))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "TUNELAB_TRIAL_DIR": str(tmp_path), "PYTHONPATH": str(SHIMS_DIR)},
        timeout=120,
    )
    return set(eval(out.stdout.strip().splitlines()[-1]))  # our own probe's repr of a list of names


@pytest.mark.parametrize(
    "code",
    [
        "import tunelab; tunelab.report_final(tunelab.get_params()['x'])",
        "import tunelab; tunelab.report(0.5, step=0); tunelab.should_stop()",
        "import nni; nni.report_final_result(nni.get_next_parameter()['x'])",
        "from aup import BasicConfig, print_result; print_result(1.0)",  # reported at exit, as Auptimizer does
    ],
)
def test_a_reporting_trial_loads_only_the_trial_api(code, tmp_path):
    loaded = _loaded(code, tmp_path)
    assert (tmp_path / "reports.jsonl").read_text().count("\n") >= 1  # the trial reported
    ours = {name for name in loaded if name.split(".")[0] in ("tunelab", "nni", "aup")}
    assert ours - {"nni", "aup", "aup.aup"} == TRIAL_API, sorted(ours)
    assert not [name for name in loaded if name.split(".")[0] in HEAVY], sorted(loaded)


def test_the_rest_of_tunelab_is_there_when_asked_for(tmp_path):
    loaded = _loaded("import tunelab; tunelab.hp; tunelab.get_checkpoint_dir()", tmp_path)
    assert "tunelab.hp" in loaded and "logging" in loaded
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import tunelab, logging; tunelab.Experiment; print(logging.getLogger('tunelab').handlers)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "NullHandler" in out.stdout  # the library's logger stays quiet unless the application configures it
