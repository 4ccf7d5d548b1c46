"""The trial channel: every byte a trial may write decodes to a Report or a BadReport, in bounded memory."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tunelab
from tunelab.errors import ReportError
from tunelab.trial import _context
from tunelab.trial._channel import (
    MAX_LINE_BYTES,
    MAX_METRICS_BYTES,
    MAX_STEP,
    REPORTS_FILE,
    BadReport,
    Report,
    ReportKind,
    ReportReader,
    decode,
    encode,
    read_all,
)

GOOD = b'{"kind":"intermediate","step":3,"value":0.5,"metrics":{"loss":1.0},"time":1.5,"attempt":2}'


def _line(**fields):
    record = {"kind": "intermediate", "step": 1, "value": 0.5, "metrics": {}, "time": 1.0, **fields}
    return json.dumps(record, allow_nan=True).encode()


def test_a_valid_line_decodes_to_a_report():
    assert decode(GOOD) == Report(ReportKind.INTERMEDIATE, 0.5, 3, {"loss": 1.0}, 1.5, 2)
    old = b'{"kind": "final", "value": 0.9, "metrics": {}, "time": 2.0}'  # written before reports had an attempt
    assert decode(old + b"\n") == Report(ReportKind.FINAL, 0.9, None, {}, 2.0, 1)


MALFORMED = [
    ("step non-integer", _line(step=1.5), "step must be an integer"),
    ("step a string", _line(step="3"), "step must be an integer"),
    ("step a boolean", _line(step=True), "step must be an integer"),
    ("step negative", _line(step=-1), "step must be between 0 and 2**63-1"),
    ("step huge", _line(step=2**63), "step must be between 0 and 2**63-1"),
    ("step 10**40", _line(step=10**40), "an integer of 41 digits"),
    ("step infinite", _line(step=float("inf")), "step must be an integer"),
    ("step missing", b'{"kind":"intermediate","value":1}', "needs a step"),
    ("metrics a list", _line(metrics=[1, 2]), "metrics must be a JSON object, got an array"),
    ("metrics a string", _line(metrics="x"), "metrics must be a JSON object, got a string"),
    ("metrics too big", _line(metrics={"m": "x" * MAX_METRICS_BYTES}), f"at most {MAX_METRICS_BYTES}"),
    ("not an object", b"[1, 2, 3]", "not a JSON object but an array"),
    ("a bare number", b"0.5", "not a JSON object but a number"),
    ("not JSON", b"accuracy=0.9", "not JSON"),
    ("truncated JSON", GOOD[:40], "not JSON"),
    ("invalid UTF-8", b'{"kind":"final","value":1,"x":"\xff\xfe"}', "not UTF-8"),
    ("oversized integer", b'{"kind":"final","value":' + b"9" * 5000 + b"}", "not JSON this reader accepts"),
    ("value integer beyond float", _line(value=10**400), "too large for a float"),
    ("deeply nested", b'{"kind":"final","value":1,"metrics":' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
    ("value a string", _line(value="0.9"), "value must be a number or null, got a string"),
    ("value a dict", _line(value={"default": 1}), "value must be a number or null, got an object"),
    ("value a boolean", _line(value=True), "value must be a number or null, got a boolean"),
    ("value NaN", _line(value=float("nan")), "value is NaN"),
    ("value Infinity", _line(value=float("inf")), "value is Infinity"),
    ("value 1e999", b'{"kind":"final","value":1e999}', "value is Infinity"),
    ("value -Infinity", _line(value=float("-inf")), "value is -Infinity"),
    ("unknown kind", _line(kind="partial"), "kind must be one of 'intermediate', 'final', 'space', got 'partial'"),
    ("kind missing", b'{"value": 1}', "kind must be one of"),
    ("kind a list", _line(kind=["final"]), "kind must be one of"),
    ("time a string", _line(time="now"), "time must be a finite number"),
    ("time NaN", _line(time=float("nan")), "time must be a finite number"),
    ("time huge integer", _line(time=10**400), "time must be a finite number"),
    ("attempt zero", _line(attempt=0), "attempt must be a positive integer"),
    ("attempt a float", _line(attempt=1.0), "attempt must be a positive integer"),
    ("line too long", _line(metrics={"m": "x" * MAX_LINE_BYTES}), f"line longer than {MAX_LINE_BYTES} bytes"),
    ("control characters", b"\x1b[31mboom\x00", "not JSON"),
]


@pytest.mark.parametrize(("line", "reason"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_each_malformed_line_is_a_bad_report_with_a_one_line_reason(line, reason):
    bad = decode(line)
    assert isinstance(bad, BadReport), bad
    assert bad.reason and "\n" not in bad.reason and len(bad.reason) < 200
    assert bad.excerpt.isprintable() and len(bad.excerpt) <= 80
    if reason is not None:
        assert reason in bad.reason


def test_a_bad_report_says_which_kind_it_meant_when_it_said():
    assert decode(_line(kind="final", value=float("nan"))).kind is ReportKind.FINAL
    assert decode(b"[1]").kind is None


VALID = st.builds(
    Report,
    kind=st.sampled_from([ReportKind.INTERMEDIATE, ReportKind.FINAL]),  # space reports: test_space_report.py
    value=st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(2**53), 2**53),  # values travel as floats
    step=st.integers(0, MAX_STEP),
    metrics=st.dictionaries(
        st.text(max_size=10),
        st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
        max_size=5,
    ),
    time=st.floats(0, 2e9),
    attempt=st.integers(1, 100),
)


@given(VALID)
def test_valid_reports_round_trip(report):
    line = encode(report)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == report


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_written_and_come_back_as_bad_reports_of_their_kind(value):
    line = encode(Report(ReportKind.FINAL, value))
    assert b"NaN" in line or b"Infinity" in line
    bad = decode(line)
    assert isinstance(bad, BadReport) and bad.kind is ReportKind.FINAL and "value is" in bad.reason


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (Report(ReportKind.INTERMEDIATE, 1.0, step=None), "needs a step"),
        (Report(ReportKind.INTERMEDIATE, 1.0, step=10**20), "between 0 and 2**63-1"),
        (Report(ReportKind.INTERMEDIATE, 1.0, step=-3), "between 0 and 2**63-1"),
        (Report(ReportKind.FINAL, "high"), "value must be a number"),  # type: ignore[arg-type]
        (Report(ReportKind.FINAL, 1.0, metrics=[1]), "metrics must be a mapping"),  # type: ignore[arg-type]
        (Report(ReportKind.FINAL, 1.0, metrics={"m": object()}), "metrics must be JSON values"),
        (Report(ReportKind.FINAL, 1.0, metrics={"m": "x" * MAX_METRICS_BYTES}), "at most 16384"),
        (Report(ReportKind.FINAL, 1.0, time=math.nan), "time must be a finite number"),
        (Report(ReportKind.FINAL, 10**400), "value must fit in a float, got an integer of 401 digits"),
        (Report(ReportKind.FINAL, 1.0, time=10**400), "time must be a finite number"),
        (Report(ReportKind.FINAL, 1.0, attempt=0), "attempt must be a positive integer"),
        (Report("final", 1.0), "ReportKind"),  # type: ignore[arg-type]
    ],
)
def test_encode_refuses_what_decode_would_refuse(report, message):
    with pytest.raises(ReportError, match=message.replace("*", r"\*")):
        encode(report)


_ANYTHING = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.lists(st.integers())


@given(
    st.builds(
        Report,
        kind=st.sampled_from(ReportKind) | _ANYTHING,
        value=_ANYTHING,
        step=_ANYTHING,
        metrics=st.dictionaries(st.text(max_size=3), _ANYTHING, max_size=3) | _ANYTHING,
        time=_ANYTHING,
        attempt=_ANYTHING,
    )
)
def test_encode_either_refuses_with_a_report_error_or_writes_what_decodes_back(report):
    try:
        line = encode(report)
    except ReportError as exc:
        assert "\n" not in str(exc)
        return
    back = decode(line)
    if isinstance(back, BadReport):  # only a non-finite value is written and refused on reading
        assert back.reason.startswith("value is") and not math.isfinite(report.value)
    else:  # numbers travel as floats
        value = None if report.value is None else float(report.value)
        assert back == report._replace(value=value, time=float(report.time))


# Bytes near valid reports: the shapes a buggy trial or a torn write produces.
_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_NEAR_VALID = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["intermediate", "final", "FINAL", ""]) | _JSONISH,
        "step": st.integers(-5, 2**64) | _JSONISH,
        "value": st.floats() | st.integers(-(10**400), 10**400) | _JSONISH,
        "metrics": st.dictionaries(st.text(max_size=5), _JSONISH, max_size=4) | _JSONISH,
        "time": st.floats() | _JSONISH,
        "attempt": st.integers(-2, 5) | _JSONISH,
    },
).map(lambda d: json.dumps(d, allow_nan=True).encode())
_CHUNKS = st.lists(
    st.binary(max_size=200) | _NEAR_VALID | st.sampled_from([b"\n", b"\r\n", GOOD, b"[" * 3000, b"9" * 5000]),
    max_size=12,
)


def _check_rules(items):
    for item in items:
        assert isinstance(item, (Report, BadReport))
        if isinstance(item, Report):
            assert item.value is None or (isinstance(item.value, float) and math.isfinite(item.value))
            assert item.kind is not ReportKind.INTERMEDIATE or (type(item.step) is int and 0 <= item.step <= MAX_STEP)
            assert isinstance(item.metrics, dict) and math.isfinite(item.time) and item.attempt >= 1
        else:
            assert "\n" not in item.reason


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=_CHUNKS, joiner=st.sampled_from([b"", b"\n"]))
def test_any_bytes_written_in_any_pieces_read_back_as_reports_or_bad_reports(tmp_path, chunks, joiner):
    path = tmp_path / REPORTS_FILE
    path.write_bytes(b"")
    reader = ReportReader(path)
    items = []
    for chunk in chunks:  # the reader sees the file grow write by write
        with open(path, "ab") as handle:
            handle.write(chunk + joiner)
        items += reader.read()
        assert reader.buffered <= MAX_LINE_BYTES
    _check_rules(items)
    items += reader.finish()
    _check_rules(items)
    complete = [line for line in path.read_bytes().split(b"\n")[:-1] if line.strip()]
    assert read_all(path) == [decode(line) for line in complete]  # no complete line is lost or changed


def test_a_50_mb_line_without_newline_is_one_bad_report_and_is_not_buffered(tmp_path):
    path = tmp_path / REPORTS_FILE
    path.write_bytes(GOOD + b"\n")
    reader = ReportReader(path)
    assert reader.read() == [decode(GOOD)]
    block = b"x" * (1024 * 1024)
    items = []
    with open(path, "ab") as handle:
        for _ in range(50):
            handle.write(block)
            handle.flush()
            items += reader.read()
            assert reader.buffered <= MAX_LINE_BYTES
    assert len(items) == 1 and items[0].reason == f"line longer than {MAX_LINE_BYTES} bytes"
    with open(path, "ab") as handle:  # the rest of the long line is skipped; the next line is read again
        handle.write(b"tail of the long line\n" + GOOD + b"\n")
    assert reader.read() == [decode(GOOD)]
    assert reader.buffered == 0


def test_an_incomplete_last_line_waits_for_its_newline(tmp_path):
    path = tmp_path / REPORTS_FILE
    path.write_bytes(GOOD[:30])
    reader = ReportReader(path)
    assert reader.read() == [] and reader.buffered == 30
    with open(path, "ab") as handle:
        handle.write(GOOD[30:] + b"\n" + GOOD[:5])
    assert reader.read() == [decode(GOOD)]
    assert read_all(path) == [decode(GOOD)]  # recovery reads complete lines from the start
    last = reader.finish()  # the writer ended: the torn line is reported, once
    assert len(last) == 1 and "no newline" in last[0].reason and reader.finish() == []


def test_a_reader_checks_the_attempt(tmp_path):
    path = tmp_path / REPORTS_FILE
    path.write_bytes(
        encode(Report(ReportKind.FINAL, 1.0, attempt=1)) + encode(Report(ReportKind.FINAL, 2.0, attempt=2))
    )
    items = ReportReader(path, attempt=2).read()
    assert isinstance(items[0], BadReport) and "attempt 1 in the file of attempt 2" in items[0].reason
    assert items[1] == Report(ReportKind.FINAL, 2.0, attempt=2)
    assert ReportReader(tmp_path / "missing.jsonl").read() == []


# The trial side: the API writes through encode and refuses what the engine would refuse.


@pytest.fixture
def in_trial(tmp_path):
    (tmp_path / "params.json").write_text(json.dumps({"params": {}, "attempt": 3, "result_labels": ["a"]}))
    context = _context.TrialContext(params={}, trial_dir=tmp_path, result_labels=["a"], attempt=3)
    _context.activate(context)
    yield tmp_path
    _context.activate(None)


def _written(folder):
    return read_all(folder / REPORTS_FILE)


def test_the_trial_api_keeps_nni_and_auptimizer_values_and_writes_the_attempt(in_trial):
    tunelab.report(1, step=2)
    tunelab.report({"default": 0.5, "loss": 2})
    tunelab.report_final([0.9, 7, 8])
    assert _written(in_trial) == [
        Report(ReportKind.INTERMEDIATE, 1.0, 2, {}, _written(in_trial)[0].time, 3),
        Report(ReportKind.INTERMEDIATE, 0.5, 3, {"loss": 2}, _written(in_trial)[1].time, 3),
        Report(ReportKind.FINAL, 0.9, None, {"a": 7, "result_2": 8}, _written(in_trial)[2].time, 3),
    ]


def test_a_context_read_from_the_environment_knows_its_attempt(in_trial, monkeypatch):
    _context.activate(None)
    monkeypatch.setenv(_context.ENV_TRIAL_DIR, str(in_trial))
    assert _context.current().attempt == 3


@pytest.mark.parametrize(
    ("call", "message", "is_type_error"),
    [
        (
            lambda: tunelab.report(0.5, step=10**20),
            r"step must be between 0 and 2\*\*63-1, got 100000000000000000000",
            0,
        ),
        (lambda: tunelab.report(0.5, step=-1), "step must be between", 0),
        (lambda: tunelab.report(0.5, step=1.5), "step must be an integer, got 1.5", 0),
        (lambda: tunelab.report(0.5, step=float("inf")), "step must be an integer", 0),
        (lambda: tunelab.report(0.5, step="3"), "step must be an integer", 1),
        (lambda: tunelab.report_final("high"), "must be a number", 1),
        (lambda: tunelab.report({}), "'default' key", 1),
        (lambda: tunelab.report_final([]), "at least the main value", 1),
        (lambda: tunelab.report_final(10**400), "must fit in a float", 0),
        (lambda: tunelab.report_final(1.0, blob="x" * MAX_METRICS_BYTES), "at most 16384", 0),
    ],
)
def test_the_trial_api_raises_a_report_error_naming_the_problem(in_trial, call, message, is_type_error):
    with pytest.raises(ReportError, match=message) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError) == bool(is_type_error)
    assert not (in_trial / REPORTS_FILE).exists()


def test_integral_float_steps_and_nan_results_are_still_accepted(in_trial):
    tunelab.report(0.1, step=4.0)
    tunelab.report_final(float("nan"))  # a diverged loss is the trial's result; the engine fails it with a message
    written = _written(in_trial)
    assert written[0].step == 4 and isinstance(written[1], BadReport) and written[1].reason == "value is NaN"


def test_reading_50_mb_at_once_takes_a_few_mb_of_memory(tmp_path):
    import tracemalloc

    path = tmp_path / REPORTS_FILE
    with open(path, "wb") as handle:
        handle.write(b"y" * (50 * 1024 * 1024) + b"\n" + GOOD + b"\n")
    reader = ReportReader(path)
    tracemalloc.start()
    try:
        items = reader.read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [type(i) for i in items] == [BadReport, Report]
    assert peak < 8 * 1024 * 1024  # the old reader held the whole 50 MB (and the engine reached 268 MB)
