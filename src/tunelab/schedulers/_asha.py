"""ASHA: asynchronous successive halving (Ray's and Orca's ``async_hyperband``).

Every trial gets the budget ``max_t``. Rungs sit at ``grace_period * eta**k`` (below
``max_t``); when a trial reaches a rung, its result is compared with those recorded
there before it, and it continues only if it is in the top ``1/eta`` of them. The first
arrivals at a rung always continue, so nothing waits for a rung to fill: this is the
"stopping" variant of Li et al. (2020), the one Ray Tune implements. With ``brackets > 1``
trials are spread over brackets whose first rung is ``eta`` times later each.

The cores, :func:`rung_levels` and :func:`passes_rung`, are pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunelab.schedulers._base import Decision, NewTrial, Outcome, Reported, Resume, Scheduler, TrialView
from tunelab.tuners._checks import check_float, check_int


def rung_levels(grace_period: int, eta: float, max_t: int) -> list[int]:
    """Resource levels of the rungs below ``max_t``: ``grace_period * eta**k``, rounded, distinct."""
    levels: list[int] = []
    k = 0
    while True:
        level = int(round(grace_period * eta**k))
        if level >= max_t:
            return levels
        if not levels or level > levels[-1]:
            levels.append(level)
        k += 1


def passes_rung(loss: float, recorded: Sequence[float], eta: float) -> bool:
    """Whether ``loss`` is in the top ``1/eta`` of ``recorded`` (the losses seen at the rung before it).

    An empty rung lets everything pass (Ray's cutoff: the ``1 - 1/eta`` quantile).
    """
    if len(recorded) == 0:
        return True
    cutoff = float(np.nanpercentile(np.asarray(recorded, dtype=float), 100.0 / eta))
    return loss <= cutoff


class ASHAScheduler(Scheduler):
    """Asynchronous successive halving; Ray's argument names (``max_t``, ``grace_period``, ``reduction_factor``)."""

    name = "asha"
    assigns_budgets = True

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        max_t: int = 100,
        grace_period: int = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
    ) -> None:
        super().__init__(mode=mode, seed=seed)
        label = "scheduler 'asha'"
        self.max_t = check_int(label, "max_t", max_t, 1)
        self.grace_period = check_int(label, "grace_period", grace_period, 1)
        self.eta = check_float(label, "reduction_factor", reduction_factor, 1.0, open_low=True)
        self.brackets = check_int(label, "brackets", brackets, 1)
        if self.grace_period > self.max_t:
            raise ValueError(f"grace_period <= max_t must hold, but got grace_period={grace_period}, max_t={max_t}")
        #: Per bracket: rung level -> {trial number: loss recorded there}.
        self.rungs: list[dict[int, dict[int, float]]] = []
        for s in range(self.brackets):
            levels = rung_levels(int(round(self.grace_period * self.eta**s)), self.eta, self.max_t)
            self.rungs.append({level: {} for level in levels})
        self._bracket_of: dict[int, int] = {}
        # Ray's bracket weights: a bracket with fewer rungs gets fewer trials.
        sizes = np.array([len(r) + 1 for r in self.rungs], dtype=float)
        self._weights = sizes / sizes.sum()

    def next_trial(self) -> NewTrial:
        return NewTrial(budget=self.max_t)

    def on_start(self, number: int, params: Mapping[str, Any], action: NewTrial | Resume) -> None:
        super().on_start(number, params, action)
        self._bracket_of[number] = self._draw_bracket()

    def restore(
        self,
        number: int,
        params: Mapping[str, Any],
        curve: Sequence[tuple[int, Reported]],
        outcome: Outcome | None,
        value: Reported,
        plan: NewTrial | Resume,
    ) -> None:
        """Replay a recorded trial as it ran: its bracket drawn in start order, its results recorded at the rungs.

        A trial that was stopped early heard nothing after its stop, so its replay ends at
        the first rung it does not pass (among the trials numbered before it).
        """
        self._bracket_of[number] = self._draw_bracket()
        super().restore(number, params, (), None, None, plan)
        for resource, v in curve:
            if self.on_result(number, resource, v) is Decision.STOP and outcome is Outcome.STOPPED:
                break
        if outcome is not None:
            self.on_end(number, outcome, value)

    def _draw_bracket(self) -> int:
        return 0 if self.brackets == 1 else int(self.rng.choice(self.brackets, p=self._weights))

    def _decide(self, view: TrialView, resource: int) -> Decision:
        rungs = self.rungs[self._bracket_of.get(view.number, 0)]
        for level in sorted(rungs, reverse=True):
            recorded = rungs[level]
            if resource >= level and view.number not in recorded:
                loss = view.losses[-1]
                ok = passes_rung(loss, list(recorded.values()), self.eta)
                recorded[view.number] = loss
                return Decision.CONTINUE if ok else Decision.STOP
        return Decision.CONTINUE

    def describe(self) -> str:
        levels = ", ".join(str(level) for level in self.rungs[0])
        return f"asha (rungs at {levels}; max_t={self.max_t}, eta={self.eta:g})"
