"""The scheduler contract as a test suite, and the simulated trial loop it drives schedulers with.

:class:`SimulatedRun` is the engine in miniature: it fills free slots with what
:meth:`~tunelab.schedulers.Scheduler.next_trial` gives, then ends one running trial, which
reports its whole curve at its end. :func:`check_every_cut` restores a fresh scheduler at
every point of such a run (as ``tunelab resume`` does after a crash) and compares it with
the one that ran on. :class:`SchedulerContract` holds the checks every assessor and
scheduler passes; subclass it with a ``make_scheduler`` fixture, a callable
``make_scheduler(mode="min")`` returning a fresh, seeded scheduler over :data:`SPACE`::

    import pytest
    from tunelab.testing.schedulers import SchedulerContract

    class TestMyScheduler(SchedulerContract):
        @pytest.fixture
        def make_scheduler(self):
            return lambda mode="min": MyScheduler(mode=mode, seed=0)

A scheduler with a plan that ends (PBT ends when every member reached ``max_t``) sets
the ``ends_by_itself`` fixture to True: a :class:`~tunelab.schedulers.Wait` while nothing
runs ends the experiment, so for every other scheduler it is a stall.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from tunelab.schedulers import Decision, NewTrial, Outcome, Resume, Scheduler, Wait
from tunelab.space import SearchSpace, parse_search_space

__all__ = [
    "SPACE",
    "SchedulerContract",
    "SchedulerFactory",
    "SimulatedRun",
    "SimulatedTrial",
    "check_every_cut",
    "check_waits_end",
    "stored_plan",
]

#: The space simulated trials draw from: ``q`` in [0, 1); a trial's loss falls towards ``q``.
SPACE: SearchSpace = parse_search_space({"q": {"_type": "uniform", "_value": [0.0, 1.0]}})

SchedulerFactory = Callable[..., Scheduler]
Values = Callable[[float, int], "float | None"]
Started = tuple[int, str, "int | None", "int | None", "int | None", dict[str, Any], "str | None"]


def default_values(q: float, resource: int) -> float | None:
    """A learning curve that falls towards ``q``."""
    return q + 1.0 / resource


@dataclass
class SimulatedTrial:
    params: dict[str, Any]
    plan: NewTrial | Resume
    curve: list[tuple[int, float | None]] = field(default_factory=list)
    outcome: Outcome | None = None
    value: float | None = None


class SimulatedRun:
    """The engine in miniature: fill the free slots, then end one running trial (it reports all at its end).

    ``q`` of a fresh configuration comes from a fixed sequence; a trial with ``q > fail_above``
    fails. A trial without a budget trains for ``epochs``; ``values(q, resource)`` is what it
    reports (None or NaN allowed). ``order`` picks which running trial ends next; ``configs`` is
    how many fresh configurations the tuner has (None: endless). ``unknown`` makes every step
    also report results for trial numbers never started. Each action the scheduler gives is
    checked: a :class:`Resume` continues a trial that ended with a usable result.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        concurrency: int = 3,
        max_trials: int = 60,
        order: Callable[[int], int] = lambda n: 0,
        configs: int | None = None,
        epochs: int = 9,
        values: Values = default_values,
        fail_above: float = 0.9,
        unknown: bool = False,
    ) -> None:
        self.scheduler = scheduler
        self.concurrency = concurrency
        self.max_trials = max_trials
        self.order = order
        self.configs = configs
        self.epochs = epochs
        self.values = values
        self.fail_above = fail_above
        self.unknown = unknown
        self.trials: dict[int, SimulatedTrial] = {}
        self.running: list[int] = []
        self.fresh = 0
        #: Why the last :meth:`step` started nothing more: "wait", "max_trials", "configs" or "" (slots full).
        self.held = ""
        self.last_wait: Wait | None = None

    def _options(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "max_trials": self.max_trials,
            "order": self.order,
            "configs": self.configs,
            "epochs": self.epochs,
            "values": self.values,
            "fail_above": self.fail_above,
            "unknown": self.unknown,
        }

    def step(self) -> bool:
        """Start what the scheduler gives, then end one trial; False when nothing is left to run."""
        self.held = ""
        while len(self.running) < self.concurrency:
            if len(self.trials) >= self.max_trials:
                self.held = "max_trials"
                break
            action = self.scheduler.next_trial()
            self._check(action)
            if isinstance(action, Wait):
                self.held, self.last_wait = "wait", action
                break
            if isinstance(action, NewTrial) and action.params is None and self.configs is not None:
                if self.fresh >= self.configs:
                    self.scheduler.on_unused(action)
                    self.held = "configs"
                    break
            number = len(self.trials)
            if isinstance(action, Resume) or action.params is not None:
                params = dict(action.params or {})
            else:
                params = {"q": round(float(np.random.default_rng(self.fresh).random()), 6)}
                self.fresh += 1
            self.scheduler.on_start(number, params, action)
            self.trials[number] = SimulatedTrial(params, action)
            self.running.append(number)
        if self.unknown:
            self._report_unknown()
        if not self.running:
            return False
        self._end(self.running.pop(self.order(len(self.running))))
        return True

    def _check(self, action: Any) -> None:
        assert isinstance(action, (NewTrial, Resume, Wait)), f"next_trial gave {action!r}"
        if not isinstance(action, Resume):
            return
        assert action.parent in self.trials, f"{action!r} continues a trial never started"
        source = action.parent if action.checkpoint_from is None else action.checkpoint_from
        assert source in self.trials, f"{action!r} copies the checkpoint of a trial never started"
        ended = self.trials[source]
        assert ended.outcome is not None, f"{action!r} copies the checkpoint of trial {source}, still running"
        usable = ended.outcome is not Outcome.FAILED and ended.value is not None and not math.isnan(ended.value)
        assert usable, f"{action!r} continues trial {source}, which ended {ended.outcome} with value {ended.value}"

    def _report_unknown(self) -> None:
        number = 10_000 + len(self.trials)
        for resource, value in ((1, 0.5), (2, float("nan")), (3, None)):
            decision = self.scheduler.on_result(number, resource, value)
            assert isinstance(decision, Decision), f"on_result gave {decision!r}"
        self.scheduler.on_end(number, Outcome.FAILED, None)
        self.scheduler.on_end(number + 1, Outcome.COMPLETED, 0.5)

    def _end(self, number: int) -> None:
        trial = self.trials[number]
        start = 0
        if isinstance(trial.plan, Resume) and trial.plan.checkpoint_from is not None:
            start = self.trials[trial.plan.checkpoint_from].plan.budget or 0
        q = trial.params["q"]
        outcome = Outcome.COMPLETED
        budget = trial.plan.budget or self.epochs
        for resource in range(start + 1, budget + 1):
            value = self.values(q, resource)
            trial.curve.append((resource, value))
            decision = self.scheduler.on_result(number, resource, value)
            assert isinstance(decision, Decision), f"on_result gave {decision!r}"
            if decision is Decision.STOP:
                trial.curve.append((resource + 1, value))  # reported in its grace period, after the stop
                outcome = Outcome.STOPPED
                break
        if q > self.fail_above:
            outcome = Outcome.FAILED
        trial.outcome = outcome
        trial.value = None if outcome is Outcome.FAILED or not trial.curve else trial.curve[-1][1]
        self.scheduler.on_end(number, outcome, trial.value)

    def resumed(self, scheduler: Scheduler) -> SimulatedRun:
        """This run as ``tunelab resume`` continues it: a restored scheduler, the same trials, same slots."""
        for number, trial in sorted(self.trials.items()):
            scheduler.restore(number, trial.params, trial.curve, trial.outcome, trial.value, stored_plan(trial))
        twin = SimulatedRun(scheduler, **self._options())
        twin.trials = {
            n: SimulatedTrial(dict(t.params), t.plan, list(t.curve), t.outcome, t.value) for n, t in self.trials.items()
        }
        twin.running = list(self.running)
        twin.fresh = self.fresh
        return twin

    def finish(self) -> list[Started]:
        """Run to the end; the trials started from here on, with how each ended."""
        first = len(self.trials)
        while self.step():
            pass
        return [_started(n, self.trials[n]) for n in range(first, len(self.trials))]


def stored_plan(trial: SimulatedTrial) -> NewTrial | Resume:
    """The plan as the engine rebuilds it from storage (no note, no proposed parameters)."""
    plan = trial.plan
    if isinstance(plan, Resume):
        return Resume(plan.parent, dict(trial.params), plan.budget, checkpoint_from=plan.checkpoint_from)
    return NewTrial(budget=plan.budget)


def _started(number: int, trial: SimulatedTrial) -> Started:
    plan = trial.plan
    parent = plan.parent if isinstance(plan, Resume) else None
    source = plan.checkpoint_from if isinstance(plan, Resume) else None
    outcome = None if trial.outcome is None else trial.outcome.value
    return number, type(plan).__name__, plan.budget, parent, source, trial.params, outcome


def _shape(action: NewTrial | Resume | Wait) -> tuple[str, int | None, int | None]:
    return type(action).__name__, getattr(action, "budget", None), getattr(action, "parent", None)


def views(scheduler: Scheduler) -> dict[int, Any]:
    """What any scheduler remembers of its trials (the default state :func:`check_every_cut` compares)."""
    return {
        n: (dict(v.params), v.budget, v.outcome, v.final_loss, v.running)
        for n, v in sorted(scheduler.trials.items())
        if n < 10_000
    }


def check_every_cut(
    make: Callable[[], Scheduler],
    state: Callable[[Any], Any] = views,
    *,
    same_future: bool = True,
    **options: Any,
) -> int:
    """Restore at every point of a run: the same state there, and the same trials started afterwards.

    ``state`` picks what must match (by default what every scheduler remembers of each trial);
    the future compared is each later trial's plan, parameters and how it ended. Without
    ``same_future`` (a scheduler whose proposals are drawn afresh after a restore) only the next
    action's kind, budget and parent must match. ``options`` go to :class:`SimulatedRun`.
    Returns the run's length in steps.
    """
    whole = SimulatedRun(make(), **options)
    steps = 0
    while whole.step():
        steps += 1
    for cut in range(steps + 1):
        live = SimulatedRun(make(), **options)
        for _ in range(cut):
            live.step()
        resumed = live.resumed(make())
        assert state(resumed.scheduler) == state(live.scheduler), f"state after restoring at step {cut}"
        if same_future:
            assert resumed.finish() == live.finish(), f"trials started after restoring at step {cut}"
        else:
            nxt, expected = resumed.scheduler.next_trial(), live.scheduler.next_trial()
            assert _shape(nxt) == _shape(expected), f"next action after restoring at step {cut}"
    return steps


def check_waits_end(run: SimulatedRun, *, ends_by_itself: bool, max_steps: int = 2_000) -> None:
    """Drive ``run`` to its end: every :class:`Wait` is followed by a start once running trials end.

    The engine ends an experiment when the scheduler says Wait and nothing runs; unless the
    scheduler's plan ends by itself, that is a stall (a rung waiting for results that never
    come). Where the plan does end, the end must hold: asking again still gives Wait.
    """
    for _ in range(max_steps):
        if not run.step():
            break
    else:
        raise AssertionError(f"the run did not end within {max_steps} steps")
    if run.held != "wait":
        return  # ended by the limits (max_trials, the tuner's configurations), not by the scheduler
    assert ends_by_itself, (
        f"{run.scheduler.name} waits with nothing running after {len(run.trials)} trials: "
        f"{run.last_wait.reason if run.last_wait else ''}"
    )
    assert isinstance(run.scheduler.next_trial(), Wait), "the end did not hold: a trial starts after it"


def _nan_or_none(q: float, resource: int) -> float | None:
    """Some trials report NaN, some None, some a NaN at the end only; the others a curve."""
    band = int(q * 10)
    if band in (2, 3):
        return math.nan
    if band == 4:
        return None
    if band == 5 and resource >= 3:
        return math.nan
    return q + 1.0 / resource


class SchedulerContract:
    """The checks every assessor and scheduler passes; subclass it with ``make_scheduler`` (module docstring)."""

    @pytest.fixture
    def ends_by_itself(self) -> bool:
        """Whether the scheduler's plan ends (then a Wait with nothing running is its end)."""
        return False

    def test_restored_at_every_cut_continues_the_same(self, make_scheduler: SchedulerFactory) -> None:
        check_every_cut(make_scheduler, concurrency=3, max_trials=24)

    def test_restored_at_every_cut_of_a_shuffled_run_with_failures(self, make_scheduler: SchedulerFactory) -> None:
        draws = [int(x) for x in np.random.default_rng(3).integers(0, 1000, size=64)]
        check_every_cut(
            make_scheduler, concurrency=2, max_trials=20, order=lambda n: draws[n * 7 % 64] % n, fail_above=0.7
        )

    def test_nan_and_none_values_are_survived_and_never_continued(
        self, make_scheduler: SchedulerFactory, ends_by_itself: bool
    ) -> None:
        for mode in ("min", "max"):
            check_waits_end(
                SimulatedRun(make_scheduler(mode=mode), values=_nan_or_none, max_trials=40),
                ends_by_itself=ends_by_itself,
            )

    def test_every_trial_reporting_nan(self, make_scheduler: SchedulerFactory, ends_by_itself: bool) -> None:
        run = SimulatedRun(make_scheduler(), values=lambda q, r: math.nan, max_trials=30)
        check_waits_end(run, ends_by_itself=ends_by_itself)

    def test_results_of_unknown_trials_change_nothing_it_started(
        self, make_scheduler: SchedulerFactory, ends_by_itself: bool
    ) -> None:
        check_waits_end(SimulatedRun(make_scheduler(), unknown=True, max_trials=30), ends_by_itself=ends_by_itself)

    @pytest.mark.parametrize("concurrency", [1, 4])
    def test_waits_end(self, make_scheduler: SchedulerFactory, ends_by_itself: bool, concurrency: int) -> None:
        """Endless configurations: a Wait is followed, once running trials end, by a start (or the plan's end)."""
        run = SimulatedRun(make_scheduler(), concurrency=concurrency, max_trials=80, fail_above=0.8)
        check_waits_end(run, ends_by_itself=ends_by_itself)

    def test_waits_end_when_the_tuner_runs_out_and_more_configurations_come(
        self, make_scheduler: SchedulerFactory, ends_by_itself: bool
    ) -> None:
        run = SimulatedRun(make_scheduler(), concurrency=2, max_trials=60, configs=4)
        check_waits_end(run, ends_by_itself=ends_by_itself)
        run.configs = None  # a user added configurations: the scheduler goes on
        check_waits_end(run, ends_by_itself=ends_by_itself)

    def test_waits_end_after_a_restore(self, make_scheduler: SchedulerFactory, ends_by_itself: bool) -> None:
        for cut in (3, 7, 12):
            live = SimulatedRun(make_scheduler(), concurrency=3, max_trials=60)
            for _ in range(cut):
                live.step()
            check_waits_end(live.resumed(make_scheduler()), ends_by_itself=ends_by_itself)
