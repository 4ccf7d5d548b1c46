"""Synchronous Hyperband (Li et al. 2018; NNI's Hyperband, Ray's HyperBandScheduler, Auptimizer's hyperband).

Brackets ``s = s_max .. 0`` run successive halving: ``n`` configurations start with the
budget ``r``; when every one of them has ended, the best ``n / eta`` are promoted to the
budget ``r * eta``, resuming from their checkpoint folders, and so on up to
``max_budget``. A promotion is a new trial (as in NNI) that continues the configuration:
the scheduler answers :class:`Resume` with the parent's number, and the runner copies the
parent's checkpoint folder into the new trial's. While a rung waits for its last results
the next bracket may start (``exec_mode='parallelism'``, NNI's default) or the slot stays
idle (``'serial'``). Brackets cycle until the experiment's limits end it.

:func:`bracket_plan` is the pure core: the ``(n_i, r_i)`` of every rung of a bracket.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunelab.schedulers._base import Action, NewTrial, Outcome, Reported, Resume, Scheduler, TrialView, Wait
from tunelab.tuners._checks import check_choice, check_float, check_int


def max_bracket(max_budget: float, min_budget: float, eta: float) -> int:
    """``s_max = floor(log_eta(max_budget / min_budget))``."""
    return int(math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9))


def bracket_plan(s: int, s_max: int, max_budget: float, eta: float) -> list[tuple[int, int]]:
    """``[(n_i, r_i), ...]`` for bracket ``s``: ``n = ceil((s_max+1)/(s+1) * eta**s)``, ``r = max_budget * eta**-s``."""
    n = int(math.ceil((s_max + 1) / (s + 1) * eta**s - 1e-9))
    r = max_budget * eta ** (-s)
    plan = []
    for i in range(s + 1):
        n_i = max(1, int(math.floor(n * eta ** (-i) + 1e-9)))
        r_i = max(1, int(round(r * eta**i)))
        plan.append((n_i, r_i))
    return plan


@dataclass
class _Rung:
    size: int
    budget: int
    to_start: deque[int] = field(default_factory=deque)  # parents to promote (rungs above 0)
    fresh: int = 0  # configurations still to draw (rung 0)
    members: set[int] = field(default_factory=set)
    results: dict[int, float] = field(default_factory=dict)

    @property
    def issued(self) -> int:
        return len(self.members)

    def complete(self) -> bool:
        return self.fresh == 0 and not self.to_start and len(self.results) == len(self.members)


@dataclass
class _Bracket:
    index: int
    s: int
    rungs: list[_Rung]
    current: int = 0

    @property
    def done(self) -> bool:
        return self.current >= len(self.rungs)


class HyperbandScheduler(Scheduler):
    """Synchronous Hyperband; see the module docstring. Budgets are whole resource units."""

    name = "hyperband"
    assigns_budgets = True

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        max_budget: int = 81,
        min_budget: int = 1,
        eta: float = 3,
        exec_mode: str = "parallelism",
    ) -> None:
        super().__init__(mode=mode, seed=seed)
        label = f"scheduler {self.name!r}"
        self.max_budget = check_int(label, "max_budget", max_budget, 1)
        self.min_budget = check_int(label, "min_budget", min_budget, 1)
        self.eta = check_float(label, "eta", eta, 1.0, open_low=True)
        self.exec_mode = check_choice(label, "exec_mode", exec_mode, ("parallelism", "serial"))
        if self.min_budget > self.max_budget:
            raise ValueError(
                f"min_budget <= max_budget must hold, but got min_budget={min_budget}, max_budget={max_budget}"
            )
        self.s_max = max_bracket(self.max_budget, self.min_budget, self.eta)
        self.brackets: list[_Bracket] = []
        self._opened = 0
        self._issued: deque[tuple[_Bracket, _Rung]] = deque()
        self._where: dict[int, tuple[_Bracket, _Rung]] = {}

    # ---------------------------------------------------------------- engine calls
    def next_trial(self) -> Action:
        for bracket in self.brackets:
            action = self._action(bracket)
            if action is not None:
                return action
        if self.exec_mode == "parallelism" or not self.brackets:
            bracket = self._open()
            action = self._action(bracket)
            if action is not None:
                return action
        waiting = self.brackets[0]
        rung = waiting.rungs[waiting.current]
        return Wait(
            f"{self.name}: bracket {waiting.index} waits for rung {waiting.current} "
            f"(budget {rung.budget}): {len(rung.results)} of {rung.size} results in"
        )

    def on_start(self, number: int, params: Mapping[str, Any], action: NewTrial | Resume) -> None:
        super().on_start(number, params, action)
        if not self._issued:  # not one of ours (restored, or started before the scheduler existed)
            return
        bracket, rung = self._issued.popleft()
        rung.members.add(number)
        self._where[number] = (bracket, rung)

    def on_unused(self, action: NewTrial | Resume) -> None:
        """An action the engine could not carry out (the tuner had nothing left): shrink its rung."""
        bracket, rung = self._issued.popleft()
        self._shrink(bracket, rung)

    def restore(
        self,
        number: int,
        params: Mapping[str, Any],
        curve: Sequence[tuple[int, Reported]],
        outcome: Outcome | None,
        value: Reported,
        plan: NewTrial | Resume,
    ) -> None:
        """Put a recorded trial back in the rung it was started in, then replay it (its end may fill the rung)."""
        where = self._restored_rung(plan)
        if where is not None:
            where[1].members.add(number)
            self._where[number] = where
        super().restore(number, params, curve, outcome, value, plan)

    def _restored_rung(self, plan: NewTrial | Resume) -> tuple[_Bracket, _Rung] | None:
        """The rung that issued ``plan``, found as :meth:`next_trial` found it; None for a trial of no bracket.

        A promotion belongs to the rung above its parent's, which restoring the parent's rung
        mates (all numbered before it) has filled already. A fresh configuration belongs to
        the open bracket's first rung. Where the tuner ran out, that rung was cut short
        (:meth:`on_unused`), which storage does not record: a promotion out of it, or a fresh
        configuration with another budget (the next bracket's), shows it.
        """
        if isinstance(plan, Resume):
            found = self._where.get(plan.parent)
            if found is None:
                return None
            bracket, below = found
            if below.fresh > 0:
                self._shrink(bracket, below)
            level = bracket.rungs.index(below) + 1
            if bracket.done or level != bracket.current or plan.parent not in bracket.rungs[level].to_start:
                return None
            rung = bracket.rungs[level]
            rung.to_start.remove(plan.parent)
            return bracket, rung
        if plan.budget is None:
            return None
        filling = next((b for b in self.brackets if b.current == 0 and b.rungs[0].fresh > 0), None)
        if filling is not None and filling.rungs[0].budget == plan.budget:
            rung = filling.rungs[0]
        else:
            if self._plan(self._next_s())[0][1] != plan.budget:
                return None
            if filling is not None:
                self._shrink(filling, filling.rungs[0])
            filling = self._open()
            rung = filling.rungs[0]
        rung.fresh -= 1
        return filling, rung

    def _ended(self, view: TrialView) -> None:
        where = self._where.get(view.number)
        if where is None:
            return
        bracket, rung = where
        loss = view.final_loss
        rung.results[view.number] = math.inf if loss is None or view.outcome is Outcome.FAILED else loss
        self._advance(bracket)

    def trials_for(self, configurations: int) -> int:
        """Whole brackets in the order they open, then the first rung of a last, partial one."""
        trials, left, opened = 0, configurations, 0
        while left > 0:
            plan = self._plan(self.s_max - (opened % (self.s_max + 1)))
            opened += 1
            fresh = plan[0][0]
            trials += sum(n for n, _ in plan) if fresh <= left else left
            left -= min(fresh, left)
        return trials

    # ---------------------------------------------------------------- internals
    def _next_s(self) -> int:
        """The ``s`` of the bracket :meth:`_open` opens next: brackets cycle ``s = s_max .. 0``."""
        return self.s_max - (self._opened % (self.s_max + 1))

    def _plan(self, s: int) -> list[tuple[int, int]]:
        return bracket_plan(s, self.s_max, self.max_budget, self.eta)

    def _open(self) -> _Bracket:
        s = self._next_s()
        rungs = [_Rung(size=n, budget=r) for n, r in self._plan(s)]
        rungs[0].fresh = rungs[0].size
        bracket = _Bracket(index=self._opened, s=s, rungs=rungs)
        self._opened += 1
        self.brackets.append(bracket)
        return bracket

    def _action(self, bracket: _Bracket) -> Action | None:
        if bracket.done:
            return None
        rung = bracket.rungs[bracket.current]
        if rung.fresh > 0:
            rung.fresh -= 1
            self._issued.append((bracket, rung))
            params = self._propose(rung.budget)
            note = f"bracket {bracket.index} (s={bracket.s}), rung {bracket.current}, budget {rung.budget}"
            return NewTrial(budget=rung.budget, params=params, note=note)
        if rung.to_start:
            parent = rung.to_start.popleft()
            self._issued.append((bracket, rung))
            note = (
                f"promoted from trial {parent} to budget {rung.budget} "
                f"(bracket {bracket.index}, rung {bracket.current})"
            )
            return Resume(parent, self.trials[parent].params, rung.budget, checkpoint_from=parent, note=note)
        return None

    def _shrink(self, bracket: _Bracket, rung: _Rung) -> None:
        """Issue no more fresh configurations in ``rung``: it is complete with those it has."""
        rung.fresh = 0
        rung.size = rung.issued
        self._advance(bracket)

    def _advance(self, bracket: _Bracket) -> None:
        """Promote the best of a complete rung; drop finished brackets."""
        while not bracket.done and bracket.rungs[bracket.current].complete():
            rung = bracket.rungs[bracket.current]
            bracket.current += 1
            if bracket.done:
                break
            following = bracket.rungs[bracket.current]
            ranked = sorted(rung.results, key=lambda n: (rung.results[n], n))
            ranked = [n for n in ranked if math.isfinite(rung.results[n])][: following.size]
            following.size = len(ranked)
            following.to_start.extend(ranked)
        if bracket.done and bracket in self.brackets:
            self.brackets.remove(bracket)

    def _propose(self, budget: int) -> Mapping[str, Any] | None:
        """Parameters for a fresh configuration; None lets the tuner choose (BOHB overrides this)."""
        return None

    def describe(self) -> str:
        return (
            f"{self.name} (max_budget={self.max_budget}, min_budget={self.min_budget}, "
            f"eta={self.eta:g}, {self.s_max + 1} brackets)"
        )
