"""Assessors: rules that stop a trial whose curve falls behind the others'.

They decide on intermediate results only; every trial starts without a budget and runs
to its end unless a rule stops it. Each rule looks at a trial at ``resource`` (its
``step + 1``) and compares it with what the other trials had reached at the same
resource, as NNI's Medianstop, Ray's MedianStoppingRule and Auptimizer's
median/bandit/truncation policies do.
"""

from __future__ import annotations

import math

import numpy as np

from tunelab.schedulers._base import Decision, Outcome, Scheduler, TrialView
from tunelab.tuners._checks import check_float, check_int


class _Periodic(Scheduler):
    """A rule applied from ``start_step`` on, every ``interval`` resource units."""

    def __init__(self, *, mode: str = "min", seed: int | None = None, start_step: int = 0, interval: int = 1) -> None:
        super().__init__(mode=mode, seed=seed)
        label = f"scheduler {self.name!r}"
        self.start_step = check_int(label, "start_step", start_step, 0)
        self.interval = check_int(label, "interval", interval, 1)

    def _due(self, resource: int) -> bool:
        return resource >= max(self.start_step, 1) and (resource - self.start_step) % self.interval == 0

    def _decide(self, view: TrialView, resource: int) -> Decision:
        if not self._due(resource):
            return Decision.CONTINUE
        return Decision.STOP if self._behind(view, resource) else Decision.CONTINUE

    def _behind(self, view: TrialView, resource: int) -> bool:
        raise NotImplementedError

    def _peers(self, view: TrialView, resource: int, *, completed_only: bool) -> list[TrialView]:
        """Other trials that reported at ``resource`` or later."""
        peers = []
        for other in self.trials.values():
            if other is view or not other.resources or max(other.resources) < resource:
                continue
            if completed_only and other.outcome is not Outcome.COMPLETED:
                continue
            peers.append(other)
        return peers


class MedianStop(_Periodic):
    """Stop a trial whose best result so far is worse than the median of the others' running averages.

    NNI's Medianstop: from ``start_step`` on, compare with the running averages (at the
    same step) of the trials that *completed*. Ray's MedianStoppingRule and Auptimizer's
    median policy also count trials still running (``include_running``) and wait for
    ``min_samples_required`` of them.

    With an even number of averages the median is their middle pair's mean (``np.median``, as
    Ray's rule), or with ``worse_middle`` the worse of that pair, as NNI's Medianstop takes it
    (``nni/algorithms/hpo/medianstop_assessor.py``); NNI's spellings ``Medianstop`` and
    ``MedianstopAssessor`` get ``worse_middle`` by default.
    """

    name = "median"

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        start_step: int = 0,
        interval: int = 1,
        min_samples_required: int = 1,
        include_running: bool = False,
        worse_middle: bool = False,
    ) -> None:
        super().__init__(mode=mode, seed=seed, start_step=start_step, interval=interval)
        self.min_samples_required = check_int("scheduler 'median'", "min_samples_required", min_samples_required, 1)
        self.include_running = bool(include_running)
        self.worse_middle = bool(worse_middle)

    def _behind(self, view: TrialView, resource: int) -> bool:
        best = view.best_until(resource)
        averages = []
        for other in self._peers(view, resource, completed_only=not self.include_running):
            losses = [v for r, v in zip(other.resources, other.losses, strict=True) if r <= resource]
            if losses:
                averages.append(float(np.mean(losses)))
        if best is None or len(averages) < self.min_samples_required:
            return False
        if self.worse_middle:  # losses: the larger of the middle pair is the worse one
            return best > sorted(averages)[len(averages) // 2]
        return best > float(np.median(averages))


class BanditStop(_Periodic):
    """Auptimizer's bandit policy: stop when the best so far is not within ``bandit_factor`` of the global best."""

    name = "bandit"

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        start_step: int = 0,
        interval: int = 1,
        bandit_factor: float = 0.5,
    ) -> None:
        super().__init__(mode=mode, seed=seed, start_step=start_step, interval=interval)
        self.bandit_factor = check_float("scheduler 'bandit'", "bandit_factor", bandit_factor, 0.0, 1.0, open_low=True)

    def _behind(self, view: TrialView, resource: int) -> bool:
        mine = view.best_until(resource)
        found = [o.best_until(resource) for o in self._peers(view, resource, completed_only=False)]
        others = [v for v in found if v is not None]
        if mine is None or not others:
            return False
        mine_v, best_v = self.value(mine), self.value(min(others))
        if self.mode == "max":  # e.g. accuracy 0.4 against 0.5 * 0.9
            return mine_v < self.bandit_factor * best_v
        return mine_v > best_v / self.bandit_factor


class TruncationStop(_Periodic):
    """Auptimizer's truncation policy: stop trials in the worst ``truncation_percentage`` at each check."""

    name = "truncation"

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        start_step: int = 0,
        interval: int = 1,
        truncation_percentage: float = 0.3,
    ) -> None:
        super().__init__(mode=mode, seed=seed, start_step=start_step, interval=interval)
        self.truncation_percentage = check_float(
            "scheduler 'truncation'", "truncation_percentage", truncation_percentage, 0.0, 1.0, open_low=True
        )

    def _behind(self, view: TrialView, resource: int) -> bool:
        mine = view.best_until(resource)
        others = [o.best_until(resource) for o in self._peers(view, resource, completed_only=False)]
        losses = sorted(v for v in others if v is not None)
        if mine is None:
            return False
        n = len(losses) + 1
        cut = math.floor(n * self.truncation_percentage)
        rank = sum(1 for v in losses if v < mine)  # how many are strictly better
        return cut > 0 and rank >= n - cut
