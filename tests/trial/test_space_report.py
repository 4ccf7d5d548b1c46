"""Space reports: what a define-by-run trial declares travels to the engine, checked on both ends."""

from __future__ import annotations

import json

import pytest

from tunelab.errors import ReportError
from tunelab.space import DiscoveredSpace, HyperParameters
from tunelab.space.hyperparameters import Float, serialize
from tunelab.trial import _context
from tunelab.trial._channel import (
    MAX_DECLARATIONS,
    REPORTS_FILE,
    BadReport,
    Report,
    ReportKind,
    decode,
    encode,
    read_all,
)
from tunelab.trial._define_by_run import DefineByRun

DECLARED = ({"class_name": "Float", "config": serialize(Float("lr", 0.1, 1.0))["config"]},)


def _space_line(**fields):
    record = {"kind": "space", "declared": list(DECLARED), "drawn": {"lr": 0.5}, "time": 1.0, **fields}
    return json.dumps(record).encode()


def test_a_space_report_round_trips():
    report = Report(ReportKind.SPACE, None, None, {}, 2.0, 1, DECLARED, {"lr": 0.5})
    assert decode(encode(report)) == report


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (_space_line(value=1.0), "a space report has no value"),
        (_space_line(step=3), "a space report has no step"),
        (_space_line(declared=[]), "declared must be a list of 1 to"),
        (_space_line(declared=[DECLARED[0]] * (MAX_DECLARATIONS + 1)), "declared must be a list of 1 to"),
        (_space_line(declared=["Int"]), "a declaration must be an object with a class_name"),
        (_space_line(declared=[{"class_name": "Int", "config": {}}]), "needs a config object with a name"),
        (_space_line(drawn=[1]), "drawn must be an object"),
        (json.dumps({"kind": "final", "value": 1, "declared": list(DECLARED)}).encode(), "only a space report"),
    ],
)
def test_a_malformed_space_report_is_a_bad_report(line, reason):
    bad = decode(line)
    assert isinstance(bad, BadReport) and reason in bad.reason


def test_the_trial_refuses_to_write_a_space_report_that_breaks_the_rules():
    with pytest.raises(ReportError, match="declared must be a list"):
        encode(Report(ReportKind.SPACE, None, None, {}, 1.0, 1, (), {}))
    with pytest.raises(ReportError, match="not finite"):
        encode(Report(ReportKind.SPACE, None, None, {}, 1.0, 1, DECLARED, {"lr": float("nan")}))


@pytest.fixture
def in_trial(tmp_path):
    context = _context.TrialContext(params={}, trial_dir=tmp_path, number=4, attempt=2)
    _context.activate(context)
    yield tmp_path
    _context.activate(None)


def test_a_define_by_run_trial_reports_only_what_the_engine_did_not_give_it(in_trial):
    known = HyperParameters()
    known.Float("lr", 0.1, 1.0)
    declarations = DiscoveredSpace(known.space).get_config()

    def objective(hp: HyperParameters) -> float:
        lr = hp.Float("lr", 0.1, 1.0)
        units = hp.Int("units", 8, 64, step=8)
        with hp.conditional_scope("units", [8]):
            hp.Boolean("tiny")
        return lr * units

    function = DefineByRun(objective, declarations, seed=5)
    value = function({"lr": 0.25})
    *reports, path = read_all(in_trial / REPORTS_FILE)
    assert [r.declared[0]["config"]["name"] for r in reports] == ["units", "tiny"]
    # The last report is the call's path: what it read, in order, for the engine to see Python's branches.
    assert path.kind is ReportKind.SPACE and path.declared == () and path.used[:2] == ("lr", "units")
    assert path.used == (("lr", "units", "tiny") if reports[0].drawn["units"] == 8 else ("lr", "units"))
    units = reports[0].drawn["units"]
    assert value == 0.25 * units and units in range(8, 65, 8)
    assert all(r.kind is ReportKind.SPACE and r.attempt == 2 for r in reports)
    assert reports[1].drawn == ({"tiny": reports[1].drawn["tiny"]} if units == 8 else {})
    # The same seed and trial number draw the same values; unseeded, new parameters get their defaults.
    again = DefineByRun(objective, declarations, seed=5).hyperparameters({"lr": 0.25})
    objective(again)
    assert again.values["units"] == units
    unseeded = DefineByRun(objective, declarations, seed=None).hyperparameters({})
    objective(unseeded)
    assert unseeded.values == {"lr": 0.1, "units": 8, "tiny": False}


def test_outside_an_experiment_declarations_are_not_written(tmp_path):
    _context.activate(None)
    assert DefineByRun(lambda hp: hp.Float("x", 0, 1), [], seed=None)({}) == 0.0
