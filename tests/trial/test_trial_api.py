"""The trial API outside an experiment, and its report file format inside one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import tunelab
from tunelab.trial import _context


@pytest.fixture(autouse=True)
def fresh_context():
    _context.activate(None)
    yield
    _context.activate(None)


def test_outside_an_experiment_defaults_and_printed_reports(capsys):
    assert tunelab.get_params({"lr": 0.1}) == {"lr": 0.1}
    tunelab.report(0.5, loss=1.2)
    tunelab.report_final({"default": 0.9, "f1": 0.8})
    assert not tunelab.should_stop()
    err = capsys.readouterr().err
    assert "[tunelab] step 0: 0.5, loss=1.2" in err and "[tunelab] final result: 0.9, f1=0.8" in err


def test_reports_are_json_lines_in_the_trial_folder(tmp_path):
    (tmp_path / "params.json").write_text(
        json.dumps({"params": {"x": 1}, "number": 4, "experiment_id": "abc", "result_labels": ["x", "y"]})
    )
    context = _context.TrialContext(
        params={"x": 1}, trial_dir=tmp_path, number=4, experiment_id="abc", result_labels=["x", "y"]
    )
    _context.activate(context)
    assert tunelab.get_params({"x": 0, "other": 2}) == {"x": 1, "other": 2}
    assert tunelab.get_trial_id() == "abc-4"
    tunelab.report(1.0)
    tunelab.report(2.0, step=7)
    tunelab.report(3.0)
    tunelab.report_final([0.9, 10, 20, 30])
    lines = [json.loads(line) for line in (tmp_path / "reports.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines[:3]] == [0, 7, 8]
    assert lines[3] == {**lines[3], "kind": "final", "value": 0.9, "metrics": {"x": 10, "y": 20, "result_3": 30}}
    (tmp_path / "STOP").touch()
    assert tunelab.should_stop()


def test_bad_results_are_type_errors(tmp_path):
    _context.activate(_context.TrialContext(params={}, trial_dir=tmp_path))
    with pytest.raises(TypeError, match="must be a number"):
        tunelab.report_final("high")
    with pytest.raises(TypeError, match="'default' key"):
        tunelab.report({})


def test_import_tunelab_is_light():
    heavy = "('numpy', 'scipy', 'pydantic', 'rich', 'click')"
    code = f"import sys, tunelab; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_complete():
    for name in tunelab.__all__:
        assert getattr(tunelab, name) is not None, name
    with pytest.raises(AttributeError):
        tunelab.no_such_thing  # noqa: B018
