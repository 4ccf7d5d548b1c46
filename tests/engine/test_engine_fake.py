"""The engine on a virtual timeline: limits, timeouts, stops and resume, in milliseconds and independent of load."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunelab import hp
from tunelab.engine import Progress
from tunelab.runners import TrialJob
from tunelab.storage import Phase, Storage, TrialState
from tunelab.testing import FakeTrial
from tunelab.trial._channel import ReportKind

SPACE = {"x": hp.uniform(0, 1)}


def curve_trial(job: TrialJob) -> FakeTrial:
    """Ten epochs, one a second; the value at epoch k is x + 1 / (k + 1); the final result is x."""
    x = float(job.params["x"])
    return FakeTrial(reports=[(k + 1.0, x + 1.0 / (k + 1)) for k in range(10)], final=(10.5, x))


def test_a_run_on_the_fake_runner_takes_no_real_time(fake):
    exp = fake(curve_trial, search_space=SPACE, tuner="random", seed=1, max_trials=20, concurrency=4)
    record = exp.run()
    assert record.phase == Phase.DONE
    trials = exp.trials
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 20
    assert all([r.step for r in t.intermediate] == list(range(10)) for t in trials)
    assert all(t.value == t.params["x"] for t in trials)
    assert exp.clock.monotonic() == pytest.approx(5 * 10.5)  # 20 trials, 4 at a time, 10.5 s each


def test_trial_timeout_fails_the_trial_on_the_virtual_clock(fake):
    def slow(job: TrialJob) -> FakeTrial:
        return FakeTrial(reports=[(1.0, 0.5)], final=(1000.0, 0.1))

    exp = fake(slow, search_space=SPACE, tuner="random", max_trials=2, trial={"timeout": 30}, failure={"ignore": True})
    record = exp.run()
    assert all(t.state == TrialState.FAILED and "timed out after 30 s" in t.message for t in exp.trials)
    assert record.phase == Phase.ERROR and "no trial succeeded" in record.message
    assert exp.clock.monotonic() < 100


def test_max_duration_ends_in_timeout_and_resume_reruns_the_interrupted_trials(fake):
    exp = fake(curve_trial, search_space=SPACE, tuner="random", seed=3, max_trials=10, concurrency=2, max_duration=25)
    record = exp.run()
    assert record.phase == Phase.TIMEOUT
    interrupted = [t for t in exp.trials if t.state == TrialState.WAITING]
    assert interrupted, "trials running at the deadline wait to run again"
    assert all(t.state != TrialState.CANCELED for t in exp.trials)
    exp.storage.add_request(exp.id, __import__("tunelab").storage.RequestKind.UPDATE_LIMITS, {"max_duration": None})
    # A resume with the limit lifted finishes all ten, each exactly once.
    settings_ = dict(exp.storage.get_experiment(exp.id).config)
    assert settings_["max_trials"] == 10
    exp.experiment.config = exp.experiment.config.model_copy(update={"max_duration": None})
    record = exp.run(resume=True)
    trials = exp.trials
    assert record.phase == Phase.DONE
    assert len(trials) == 10 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all([r.step for r in t.intermediate] == list(range(10)) for t in trials), "no mixed curves"
    assert {t.number for t in trials if t.attempt == 2} == {t.number for t in interrupted}


def test_an_interrupt_leaves_running_trials_to_run_again_on_resume(fake):
    """Ctrl-C (item 6): running trials are not CANCELED; they do not count twice and run again on resume."""

    def staggered(job: TrialJob) -> FakeTrial:  # trials of different lengths, so some run when Ctrl-C comes
        return FakeTrial(reports=[(k + 1.0, 0.5) for k in range(10)], final=(10.5 + job.number % 3, 0.5))

    exp = fake(staggered, search_space=SPACE, tuner="random", seed=5, max_trials=30, concurrency=3)
    engine = exp.engine()

    class CtrlC:
        def on_progress(self, progress: Progress) -> None:
            if progress.succeeded >= 7:
                engine._on_interrupt()

    engine.listener = CtrlC()
    record = engine.run()
    assert record.phase == Phase.STOPPED
    states = Counter(t.state for t in exp.trials)
    assert states[TrialState.CANCELED] == 0 and states[TrialState.WAITING] >= 1
    record = exp.run(resume=True)
    trials = exp.trials
    assert record.phase == Phase.DONE
    assert len(trials) == 30 and all(t.state == TrialState.SUCCEEDED for t in trials)


def test_a_stop_decision_after_the_last_report_does_not_undo_a_success(fake):
    """Item 4: all epochs and the final result were written before the assessor's verdict arrived."""

    def burst(job: TrialJob) -> FakeTrial:
        x = float(job.params["x"])
        return FakeTrial(reports=[(5.0, x * (k + 1)) for k in range(10)], final=(5.0, x * 10), end=5.0)

    exp = fake(
        burst,
        search_space={"x": hp.choice([1.0, 2.0, 0.5, 0.25])},
        tuner="grid",
        max_trials=4,
        mode="max",
        scheduler={"name": "median", "args": {"start_step": 0}},
    )
    exp.run()
    assert [t.state for t in exp.trials] == [TrialState.SUCCEEDED] * 4


def test_the_assessor_stops_the_worst_trials_under_the_stated_mode(fake):
    def by_x(job: TrialJob) -> FakeTrial:
        x = float(job.params["x"])
        return FakeTrial(reports=[(k + 1.0, x) for k in range(10)], final=(10.5, x))

    exp = fake(
        by_x,
        search_space={"x": hp.choice([0.1, 0.3, 0.15, 0.9, 0.8])},
        tuner="grid",
        max_trials=5,
        concurrency=1,
        mode="min",
        assessor={"name": "median", "args": {"start_step": 2, "min_samples_required": 2}},
    )
    exp.run()
    states = {t.params["x"]: t.state for t in exp.trials}
    assert states[0.1] == states[0.3] == states[0.15] == TrialState.SUCCEEDED
    assert states[0.9] == states[0.8] == TrialState.EARLY_STOPPED  # the worst under minimize
    best = exp.experiment.best_trial
    assert best is not None and best.params == {"x": 0.1}


def test_a_trial_that_cannot_start_ends_the_experiment_at_once(fake):
    exp = fake(
        lambda job: FakeTrial(fail_to_start="no such program 'pyhton3'"),
        search_space=SPACE,
        tuner="random",
        max_trials=20,
        failure={"retries": 3, "ignore": True},
    )
    record = exp.run()
    assert record.phase == Phase.ERROR and "pyhton3" in record.message
    assert len(exp.runner.jobs) == 1


def test_bad_channel_lines_become_warnings_and_a_bad_final_fails_the_trial(fake):
    def noisy(job: TrialJob) -> FakeTrial:
        lines = [(1.0, b'{"kind": "intermediate", "step": -4, "value": 1}\n'), (2.0, b"\x00\x01garbage\n")]
        if job.params["x"] < 0.5:
            lines.append((3.0, b'{"kind": "final", "value": NaN}\n'))
            return FakeTrial(reports=[(0.5, 0.3)], raw_lines=lines, end=4.0)
        return FakeTrial(reports=[(0.5, 0.3)], raw_lines=lines, final=(3.0, 0.7))

    exp = fake(noisy, search_space={"x": hp.choice([0.1, 0.9])}, tuner="grid", max_trials=2, failure={"ignore": True})
    record = exp.run()
    assert record.phase == Phase.DONE
    low, high = sorted(exp.trials, key=lambda t: t.params["x"])
    assert low.state == TrialState.FAILED and "NaN" in low.message
    assert high.state == TrialState.SUCCEEDED and high.value == 0.7
    assert len(high.warnings) == 2


# ----------------------------------------------------------------------------- kill anywhere, then resume
class Killed(BaseException):
    """What SIGKILL is to the engine: nothing after it runs (every later storage call raises too)."""


class DyingStorage:
    """A storage proxy that "kills the engine" at its ``at``-th call: that call and every later one raise."""

    def __init__(self, inner: Storage, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls >= self.at:
                raise Killed(name)
            return attr(*args, **kwargs)

        return call


SCHEDULERS: list[dict[str, Any] | None] = [
    None,
    {"name": "median", "args": {"start_step": 2}},
    {"name": "asha", "args": {"max_t": 9, "grace_period": 1, "reduction_factor": 3}},
    {"name": "hyperband", "args": {"max_t": 9, "reduction_factor": 3}},
]


def budget_trial(job: TrialJob) -> FakeTrial:
    """Reports one epoch a second up to its budget (10 without one); the value improves with x and epochs."""
    x = float(job.params["x"])
    epochs = job.budget or 10
    return FakeTrial(reports=[(k + 1.0, x + 1.0 / (k + 1)) for k in range(epochs)], final=(epochs + 0.5, x))


def _ran_to_its_end(handle: Any) -> bool:
    """A fake attempt that wrote its final result, or trained to its budget, before it ended."""
    if handle.poll() is None:
        return False
    delivered = [report for t, report in handle._events if t <= handle.end_time]
    steps = [r.step for r in delivered if getattr(r, "kind", None) is ReportKind.INTERMEDIATE]
    budget = handle.job.budget
    return any(getattr(r, "kind", None) is ReportKind.FINAL for r in delivered) or (
        budget is not None and bool(steps) and max(steps) + 1 >= budget
    )


def _settings(scheduler: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = dict(search_space=SPACE, tuner="random", seed=11, max_trials=12, concurrency=3)
    if scheduler is not None:
        out["scheduler"] = scheduler
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheduler=st.sampled_from(SCHEDULERS),
    kill_at=st.integers(min_value=1, max_value=400),
    second_kill=st.one_of(st.none(), st.integers(min_value=1, max_value=200)),
)
def test_killed_at_any_storage_call_then_resumed_loses_nothing_and_runs_nothing_twice(
    fake, scheduler, kill_at, second_kill
):
    exp = fake(budget_trial, **_settings(scheduler))
    for at in (kill_at, second_kill):
        if at is None:
            continue
        try:
            exp.engine(storage=DyingStorage(exp.storage, at)).run(
                resume=exp.storage.get_experiment(exp.id).phase != Phase.PENDING
            )
        except Killed:
            pass
    record = exp.run(resume=exp.storage.get_experiment(exp.id).phase != Phase.PENDING)
    assert record.phase == Phase.DONE, record.message
    trials = exp.trials
    assert len(trials) == 12
    # No result lost or misreported: every trial ended with the value its script gives, from its own curve.
    for t in trials:
        assert t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED), t
        if t.state == TrialState.SUCCEEDED:  # its final result, or (asked to stop at its budget) its last epoch's
            assert t.value == t.params["x"] or t.value == t.intermediate[-1].value, t
        steps = [r.step for r in t.intermediate]
        assert steps == list(range(len(steps))), f"mixed curve {steps}"
        assert len({r.attempt for r in t.intermediate}) <= 1
    # Nothing run twice: no trial ran to its end in two attempts (an attempt that finished is recovered, not rerun).
    complete = Counter(h.job.number for h in exp.runner.handles if _ran_to_its_end(h))
    assert all(count == 1 for count in complete.values()), complete
