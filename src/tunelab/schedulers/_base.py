"""The scheduler contract: *when* a trial stops and *how much budget* it gets.

A scheduler never touches storage, processes or clocks; it sees numbers. The engine:

1. asks :meth:`Scheduler.next_trial` what to start when a slot is free. The answer is a
   :class:`NewTrial` (a fresh configuration, from the tuner unless the scheduler proposes
   one itself, with an optional budget), a :class:`Resume` (an existing configuration
   continued with a larger budget from a checkpoint: a Hyperband promotion, a PBT
   generation) or a :class:`Wait` (nothing now, e.g. synchronous Hyperband waiting for a
   rung to fill);
2. tells it which trial number that became (:meth:`Scheduler.on_start`);
3. asks for a :class:`Decision` on every intermediate result (:meth:`Scheduler.on_result`):
   ``CONTINUE`` or ``STOP`` (the trial ends EARLY_STOPPED; its last intermediate value
   is its result);
4. tells it how each trial ended (:meth:`Scheduler.on_end`);
5. on resume, before asking for anything, replays every stored trial with
   :meth:`Scheduler.restore`, so that the scheduler continues where it stopped.

``resource`` is how far a trial got: ``step + 1`` of its report (epochs done when steps
count epochs from 0). A budget is a resource level the trial should train up to in total;
a trial that reaches its budget has done its share and is asked to end (SUCCEEDED).

Values arrive as reported; :attr:`Scheduler.mode` says which direction is better and
:meth:`Scheduler.loss` turns a value into "smaller is better". Schedulers are not
thread-safe: one engine thread drives each.

Several objectives: a scheduler whose class sets ``multi_objective`` takes ``objectives``
(``{"accuracy": "max", "params": "min"}``, see :mod:`tunelab.objectives`) and then gets,
wherever a value goes (:meth:`Scheduler.on_result`, :meth:`Scheduler.on_end`, the curve
and value of :meth:`Scheduler.restore`), a mapping of objective name to the value as
reported (a :data:`Reported`). :meth:`Scheduler.losses_of` turns it into a tuple of losses
(None when some value is missing or not finite: the report is ignored, as NaN is for one
objective); each :class:`TrialView` keeps them in ``vectors`` and ``final_vector``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import numpy as np

from tunelab.tuners._base import Mode, normalize_mode

if TYPE_CHECKING:
    from tunelab.space import SearchSpace

#: A reported value as a scheduler gets it: a number (one objective), a mapping of objective
#: name to number (several objectives), or None (no usable value).
Reported: TypeAlias = float | Mapping[str, Any] | None


class Decision(str, enum.Enum):
    """What happens to a running trial after one of its intermediate results."""

    CONTINUE = "continue"
    STOP = "stop"


class Outcome(str, enum.Enum):
    """How a trial ended, as a scheduler needs to know it."""

    COMPLETED = "completed"  # ended by itself or at its budget: its value is its result
    STOPPED = "stopped"  # stopped early by a scheduler: its last intermediate value counts
    FAILED = "failed"  # failed or canceled: no value


@dataclass(frozen=True)
class NewTrial:
    """Start a fresh configuration: from the tuner, or ``params`` the scheduler proposes."""

    budget: int | None = None
    params: Mapping[str, Any] | None = None
    note: str = ""


@dataclass(frozen=True)
class Resume:
    """Continue a configuration with a larger budget, starting from a copy of a checkpoint folder.

    ``parent`` is the trial being continued; ``checkpoint_from`` the trial whose checkpoint
    folder the new run starts from (the parent itself, or a better trial in PBT's exploit).
    """

    parent: int
    params: Mapping[str, Any]
    budget: int
    checkpoint_from: int | None
    note: str = ""


@dataclass(frozen=True)
class Wait:
    """Start nothing now; ``reason`` is shown to the user."""

    reason: str


Action = NewTrial | Resume | Wait


@dataclass
class TrialView:
    """What a scheduler remembers of one trial: its curve and how it ended."""

    number: int
    params: Mapping[str, Any]
    budget: int | None = None
    resources: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    outcome: Outcome | None = None
    final_loss: float | None = None
    #: Every objective's loss per report, parallel to ``resources`` (``(loss,)`` for one objective).
    vectors: list[tuple[float, ...]] = field(default_factory=list)
    final_vector: tuple[float, ...] | None = None

    @property
    def running(self) -> bool:
        return self.outcome is None

    def best_until(self, resource: int) -> float | None:
        """The best loss reported at or before ``resource``."""
        values = [v for r, v in zip(self.resources, self.losses, strict=True) if r <= resource and not math.isnan(v)]
        return min(values) if values else None

    def loss_at(self, resource: int) -> float | None:
        """The last loss reported at or before ``resource``."""
        found = None
        for r, v in zip(self.resources, self.losses, strict=True):
            if r <= resource and not math.isnan(v):
                found = v
        return found


class Scheduler:
    """Base class: FIFO behaviour (every trial runs to its end); see the module docstring."""

    #: A short name for messages.
    name = "fifo"
    #: True when the scheduler gives budgets (its trials should honour ``get_budget()``).
    assigns_budgets = False
    #: True when the scheduler takes ``objectives`` (ranks trials on several objectives).
    multi_objective: ClassVar[bool] = False

    def __init__(
        self, *, mode: str = "min", seed: int | None = None, objectives: Mapping[str, str] | None = None
    ) -> None:
        self.mode = normalize_mode(mode)
        self.seed = seed
        #: The objectives (name -> direction, in order), or None for the one-objective form.
        self.objectives: dict[str, Mode] | None = None
        if objectives is not None:
            from tunelab.objectives import normalize_objectives

            self.objectives = normalize_objectives(objectives)
        self.rng = np.random.default_rng(seed)
        self.trials: dict[int, TrialView] = {}

    # ---------------------------------------------------------------- the engine calls these
    def next_trial(self) -> Action:
        """What to start in a free slot."""
        return NewTrial()

    def on_start(self, number: int, params: Mapping[str, Any], action: NewTrial | Resume) -> None:
        """The trial ``number`` was started for ``action``."""
        self.trials[number] = TrialView(number, dict(params), budget=action.budget)

    def on_unused(self, action: NewTrial | Resume) -> None:
        """An action from :meth:`next_trial` that the engine could not carry out (the tuner had nothing left)."""

    def on_space(self, space: SearchSpace, params: Mapping[int, Mapping[str, Any]]) -> None:
        """A define-by-run space grew, or trials drew values for parameters it had not given them.

        ``params`` holds those trials' complete parameters now. Schedulers that propose from the
        space (BOHB, PBT) extend it here.
        """
        for number, complete in params.items():
            if number in self.trials:
                self.trials[number].params = dict(complete)

    def on_result(self, number: int, resource: int, value: Reported) -> Decision:
        """An intermediate result; record it and decide."""
        view = self._view(number)
        losses = self.losses_of(value)
        if losses is None:
            return Decision.CONTINUE
        self._record(view, int(resource), losses)
        return self._decide(view, int(resource))

    def on_end(self, number: int, outcome: Outcome, value: Reported) -> None:
        """The trial ended; ``value`` is its result (None when it failed)."""
        view = self._view(number)
        view.outcome = outcome
        view.final_vector = self.losses_of(value)
        view.final_loss = None if view.final_vector is None else view.final_vector[0]
        self._ended(view)

    def restore(
        self,
        number: int,
        params: Mapping[str, Any],
        curve: Sequence[tuple[int, Reported]],
        outcome: Outcome | None,
        value: Reported,
        plan: NewTrial | Resume,
    ) -> None:
        """Replay a trial recorded before (on resume): what it was started for, its curve, how it ended if it did.

        The engine restores trials in number order, the order they were started in; ``plan``
        is rebuilt from the stored budget, parent and checkpoint source, so that budget
        schedulers can put each trial back in its bracket, rung or lineage.
        """
        self.trials[number] = TrialView(number, dict(params), budget=plan.budget)
        self._replay(number, curve, outcome, value)

    def _replay(
        self, number: int, curve: Sequence[tuple[int, Reported]], outcome: Outcome | None, value: Reported
    ) -> None:
        """A restored trial's results as the scheduler heard them, then its end.

        A trial stopped early reports on in its grace period, which the scheduler no longer
        heard: its curve is replayed through :meth:`on_result` up to the stop. Other curves are
        recorded as they are, without asking for decisions nobody acted on.
        """
        view = self.trials[number]
        for resource, v in curve:
            if outcome is Outcome.STOPPED:
                if self.on_result(number, resource, v) is Decision.STOP:
                    break
            elif (losses := self.losses_of(v)) is not None:
                self._record(view, int(resource), losses)
        if outcome is not None:
            self.on_end(number, outcome, value)

    def describe(self) -> str:
        return self.name

    def trials_for(self, configurations: int) -> int:
        """Trials it takes to try ``configurations`` fresh configurations, continuations included.

        Ray's ``num_samples`` (Orca's ``n_sampling``) counts configurations, tunelab's
        ``max_trials`` counts trials; a scheduler that continues a configuration as a new trial
        (Hyperband's promotions, PBT's generations) needs more trials than configurations.
        """
        return configurations

    # ---------------------------------------------------------------- for subclasses
    def _decide(self, view: TrialView, resource: int) -> Decision:
        return Decision.CONTINUE

    def _ended(self, view: TrialView) -> None:
        """Hook for schedulers that act when a trial ends."""

    def losses_of(self, value: Reported) -> tuple[float, ...] | None:
        """A reported value as losses, one per objective; None when it is not usable.

        One objective: ``(loss,)``, None for None or NaN. Several: a mapping (or a sequence in
        the objectives' order) with a finite value for each; None otherwise.
        """
        if self.objectives is None:
            if isinstance(value, Mapping):
                raise TypeError(f"scheduler {self.name!r} was given several objective values without objectives")
            usable = _usable(value)
            return None if usable is None else (self.loss(usable),)
        if value is None:
            return None
        from tunelab.errors import ReportError
        from tunelab.objectives import objective_losses

        try:
            return objective_losses(value, self.objectives).losses
        except ReportError:
            return None

    def _record(self, view: TrialView, resource: int, losses: tuple[float, ...]) -> None:
        view.resources.append(resource)
        view.losses.append(losses[0])
        view.vectors.append(losses)

    def loss(self, value: float) -> float:
        value = float(value)
        return value if self.mode == "min" else -value

    def value(self, loss: float) -> float:
        return loss if self.mode == "min" else -loss

    def _view(self, number: int) -> TrialView:
        view = self.trials.get(number)
        if view is None:  # a trial the scheduler did not see start (tolerated: started before it existed)
            view = self.trials[number] = TrialView(number, {})
        return view


def _usable(value: Any) -> float | None:
    """The value as a float; None for no usable value: None or NaN (of any float type, numpy's included)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


class FIFOScheduler(Scheduler):
    """No early stopping: trials run in submission order to their end (the default)."""

    name = "fifo"
    multi_objective = True

    def __init__(
        self, *, mode: str = "min", seed: int | None = None, objectives: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(mode=mode, seed=seed, objectives=objectives)


class Combined(Scheduler):
    """A budget scheduler plus an assessor: the scheduler decides what starts, either may stop."""

    def __init__(self, scheduler: Scheduler, assessor: Scheduler) -> None:
        super().__init__(mode=scheduler.mode, seed=scheduler.seed, objectives=scheduler.objectives)
        self.scheduler, self.assessor = scheduler, assessor
        self.assigns_budgets = scheduler.assigns_budgets
        self.name = f"{scheduler.name}+{assessor.name}"

    def next_trial(self) -> Action:
        return self.scheduler.next_trial()

    def on_start(self, number: int, params: Mapping[str, Any], action: NewTrial | Resume) -> None:
        self.scheduler.on_start(number, params, action)
        self.assessor.on_start(number, params, action)

    def on_unused(self, action: NewTrial | Resume) -> None:
        self.scheduler.on_unused(action)

    def on_space(self, space: SearchSpace, params: Mapping[int, Mapping[str, Any]]) -> None:
        self.scheduler.on_space(space, params)
        self.assessor.on_space(space, params)

    def on_result(self, number: int, resource: int, value: Reported) -> Decision:
        first = self.scheduler.on_result(number, resource, value)
        second = self.assessor.on_result(number, resource, value)
        return Decision.STOP if Decision.STOP in (first, second) else Decision.CONTINUE

    def on_end(self, number: int, outcome: Outcome, value: Reported) -> None:
        self.scheduler.on_end(number, outcome, value)
        self.assessor.on_end(number, outcome, value)

    def restore(
        self,
        number: int,
        params: Mapping[str, Any],
        curve: Sequence[tuple[int, Reported]],
        outcome: Outcome | None,
        value: Reported,
        plan: NewTrial | Resume,
    ) -> None:
        if outcome is not Outcome.STOPPED:
            self.scheduler.restore(number, params, curve, outcome, value, plan)
            self.assessor.restore(number, params, curve, outcome, value, plan)
            return
        # Stopped by either: neither heard what it reported after the stop. Replay both up to it.
        self.scheduler.restore(number, params, (), None, None, plan)
        self.assessor.restore(number, params, (), None, None, plan)
        for resource, v in curve:
            if self.on_result(number, resource, v) is Decision.STOP:
                break
        self.on_end(number, outcome, value)

    def describe(self) -> str:
        return f"{self.scheduler.describe()} with {self.assessor.describe()}"

    def trials_for(self, configurations: int) -> int:
        return self.scheduler.trials_for(configurations)
