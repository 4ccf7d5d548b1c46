"""Multi-objective median stopping: stop a trial dominated by the median curve point of every objective.

At each check (from ``start_step`` on, every ``interval`` resource units, as the
one-objective ``median`` rule), the rule takes, for each objective separately, the median
over the other trials of their running average up to this resource (trials that completed,
or also running ones with ``include_running``), which makes one *median point*. A trial
whose best value so far in each objective is dominated by that point (no better in any
objective, worse in at least one) is stopped. With one objective this is the ``median``
rule (NNI's Medianstop, Ray's MedianStoppingRule).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tunelab import pareto
from tunelab.schedulers._base import TrialView
from tunelab.schedulers._rules import _Periodic
from tunelab.tuners._checks import check_int


def median_point(curves: list[np.ndarray]) -> np.ndarray:
    """Per objective, the median over trials of each trial's mean loss (``curves``: one ``(reports, m)`` array each)."""
    return np.median(np.asarray([curve.mean(axis=0) for curve in curves]), axis=0)


def dominated_by_median(best: np.ndarray, curves: list[np.ndarray]) -> bool:
    """Whether ``best`` (a trial's best loss so far per objective) is dominated by the median point of ``curves``."""
    return pareto.dominates(median_point(curves), best)


class MOMedianStop(_Periodic):
    """Stop a trial dominated by the other trials' median point (see the module docstring)."""

    name = "momedian"
    multi_objective = True

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        start_step: int = 0,
        interval: int = 1,
        min_samples_required: int = 1,
        include_running: bool = False,
    ) -> None:
        super().__init__(mode=mode, seed=seed, start_step=start_step, interval=interval)
        if objectives is not None:
            from tunelab.objectives import normalize_objectives

            self.objectives = normalize_objectives(objectives)
        self.min_samples_required = check_int(
            f"scheduler {self.name!r}", "min_samples_required", min_samples_required, 1
        )
        self.include_running = bool(include_running)

    def _behind(self, view: TrialView, resource: int) -> bool:
        mine = [v for r, v in zip(view.resources, view.vectors, strict=True) if r <= resource]
        curves = []
        for other in self._peers(view, resource, completed_only=not self.include_running):
            reports = [v for r, v in zip(other.resources, other.vectors, strict=True) if r <= resource]
            if reports:
                curves.append(np.asarray(reports, dtype=float))
        if not mine or len(curves) < self.min_samples_required:
            return False
        return dominated_by_median(np.asarray(mine, dtype=float).min(axis=0), curves)
