"""The fake runner the engine's tests run on: scripted trials on a virtual clock."""

from __future__ import annotations

import pytest

from tunelab._clock import Clock
from tunelab.errors import TrialStartError
from tunelab.runners import TrialJob
from tunelab.testing._runners import FakeClock, FakeRunner, FakeTrial
from tunelab.trial._channel import BadReport, Report, ReportKind


def _job(number=0, attempt=1, **params):
    return TrialJob("e", number, attempt, params, trial_dir=None, code_dir=None)  # type: ignore[arg-type]


def test_the_fake_clock_is_a_clock_that_moves_only_when_told():
    clock: Clock = FakeClock(start=5.0, epoch=1000.0)
    assert (clock.monotonic(), clock.time()) == (5.0, 1005.0)
    clock.sleep(2.5)
    assert (clock.monotonic(), clock.time()) == (7.5, 1007.5)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)


def test_wait_jumps_to_each_scripted_event_and_reports_arrive_on_time():
    clock = FakeClock()
    trial = FakeTrial(reports=[(10.0, 0.5), (20.0, 0.6)], final=(30.0, 0.7), raw_lines=[(15.0, b"not json")], end=40.0)
    runner = FakeRunner(clock, lambda job: trial)
    handle = runner.start(_job(x=1))
    seen = []
    while handle.poll() is None:
        runner.wait([handle], timeout=1000.0)
        seen.append((clock.monotonic(), handle.read_reports()))
    assert [t for t, _ in seen] == [10.0, 15.0, 20.0, 30.0, 40.0]
    first, bad = seen[0][1][0], seen[1][1][0]
    assert first == Report(ReportKind.INTERMEDIATE, 0.5, 0, {}, clock.time() - 40.0 + 10.0, 1)
    assert isinstance(bad, BadReport) and bad.reason.startswith("not JSON")
    assert seen[3][1][0].kind is ReportKind.FINAL and seen[4][1] == [] and handle.poll() == 0
    assert runner.jobs[0].params == {"x": 1}


def test_wait_moves_by_the_timeout_when_nothing_is_scripted_sooner():
    clock = FakeClock()
    runner = FakeRunner(clock, lambda job: FakeTrial(end=100.0))
    handle = runner.start(_job())
    runner.wait([handle], timeout=3.0)
    assert clock.monotonic() == 3.0 and handle.poll() is None
    runner.wait([], timeout=2.0)
    assert clock.monotonic() == 5.0


def test_stop_ends_the_trial_after_its_delay_or_kills_it_after_the_grace_period():
    clock = FakeClock()
    scripts = {0: FakeTrial(end=100.0, stop_delay=2.0), 1: FakeTrial(end=100.0, on_sigterm="ignore")}
    runner = FakeRunner(clock, lambda job: scripts[job.number])
    obeys, ignores = runner.start(_job(0)), runner.start(_job(1))
    obeys.stop(grace=10.0)
    ignores.stop(grace=10.0)
    runner.wait([obeys, ignores], 1000.0)
    assert clock.monotonic() == 2.0 and obeys.poll() == -15 and ignores.poll() is None
    runner.wait([ignores], 1000.0)
    assert clock.monotonic() == 10.0 and ignores.poll() == -9
    assert ignores.signals == ["SIGTERM", "SIGKILL"]


def test_a_trial_ends_as_scripted_when_that_comes_before_the_stop():
    clock = FakeClock()
    runner = FakeRunner(clock, lambda job: FakeTrial(final=(1.0, 0.3), end=1.0, exit_code=3, stop_delay=5.0))
    handle = runner.start(_job())
    handle.stop(grace=10.0)
    runner.wait([handle], 1000.0)
    assert clock.monotonic() == 1.0 and handle.poll() == 3 and [r.value for r in handle.read_reports()] == [0.3]


def test_start_errors_and_recovery_of_a_trial_the_previous_engine_left():
    clock = FakeClock()
    scripts = {
        0: FakeTrial(fail_to_start="no such program"),
        1: FakeTrial(reports=[(1.0, 0.1), (50.0, 0.2)], end=100.0, on_sigterm="ignore"),
    }
    runner = FakeRunner(clock, lambda job: scripts[job.number])
    with pytest.raises(TrialStartError, match="no such program"):
        runner.start(_job(0))
    handle = runner.start(_job(1))
    clock.advance(10.0)
    recovered = runner.recover(_job(1), handle.pid, None, grace=5.0)
    assert recovered.was_alive and [r.value for r in recovered.reports] == [0.1]
    assert clock.monotonic() == 15.0  # it ignored SIGTERM: recovery waited out the grace period
    assert not runner.recover(_job(1), handle.pid, None, grace=5.0).was_alive
    assert runner.recover(_job(2), 4242, None, grace=5.0).reports == ()
    assert [job.number for job in runner.jobs] == [0, 1]


def test_non_finite_scripted_values_travel_through_the_real_channel():
    runner = FakeRunner(FakeClock(), lambda job: FakeTrial(final=(1.0, float("nan"))))
    handle = runner.start(_job(attempt=2))
    runner.wait([handle], 10.0)
    (bad,) = handle.read_reports()
    assert isinstance(bad, BadReport) and bad.reason == "value is NaN" and bad.kind is ReportKind.FINAL
