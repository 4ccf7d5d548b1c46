"""MO-ASHA: asynchronous successive halving over several objectives (Schmucker et al. 2021, Syne Tune's MOASHA).

As :class:`~tunelab.schedulers.ASHAScheduler` (rungs at ``grace_period * eta**k`` below
``max_t``, every trial budgeted ``max_t``, first arrivals at a rung always continue), but
a trial reaching a rung is compared with the trials recorded there on all objectives:
the trials at the rung, itself included, are ordered by non-dominated rank, within a rank
by ``tie_break`` (``hypervolume``: exclusive hypervolume contribution within the rank,
against the default reference point of the rung's losses; ``crowding``: crowding
distance), larger first, exact ties going to the arriving trial and then to the earlier
one. The trial continues if it is among the first ``floor(n / eta)`` of the ``n`` trials at
the rung: the top ``floor(n / eta)`` of Li et al.'s ASHA, counted in trials rather than by a
percentile of the losses; so while a rung holds fewer than ``eta`` trials (the arriving
one included) only its first arrival continues. (Rounding up let more than ``1/eta`` through at small rungs, 1 of 2 and
2 of 4, which spent epochs on trials the rung's rule meant to stop.)

``mohyperband`` spreads trials over Hyperband's brackets (each bracket's first rung ``eta``
times later than the previous one's), drawn in start order, as ASHA with ``brackets > 1``
does: Hyperband brackets over MO-ASHA, asynchronous.

The core, :func:`mo_passes_rung`, is a pure function. Rungs are rebuilt exactly on resume:
trials are replayed in start order, each bracket drawn again from the seeded generator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from tunelab import pareto
from tunelab.schedulers._asha import ASHAScheduler, rung_levels
from tunelab.schedulers._base import Decision, TrialView
from tunelab.tuners._checks import check_choice

TIE_BREAKS = ("hypervolume", "crowding")


def rung_order(losses: np.ndarray, tie_break: str, arriving: int | None = None) -> list[int]:
    """Row indices of ``losses`` (one row per trial at a rung, in arrival order) from best to worst.

    By non-dominated rank, then ``tie_break`` (larger first), then the ``arriving`` row, then row order.
    """
    ranks = pareto.nondominated_ranks(losses)
    score = np.zeros(len(losses))
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if tie_break == "crowding":
            score[members] = pareto.crowding_distance(losses[members])
        elif len(members) > 1:
            reference = pareto.reference_point(losses)
            score[members] = pareto.hypervolume_contributions(losses[members], reference)
    return sorted(range(len(losses)), key=lambda i: (ranks[i], -score[i], i != arriving, i))


def mo_passes_rung(losses: Sequence[float], recorded: Sequence[Sequence[float]], eta: float, tie_break: str) -> bool:
    """Whether a trial with ``losses`` reaching a rung where ``recorded`` are continues (see the module docstring)."""
    if len(recorded) == 0:
        return True
    rows = np.asarray([*recorded, losses], dtype=float)
    arriving = len(rows) - 1
    keep = math.floor(len(rows) / eta + 1e-9)  # 33 / 2.2 is 15, not 14.999...
    return rung_order(rows, tie_break, arriving).index(arriving) < keep


class MOASHAScheduler(ASHAScheduler):
    """Asynchronous successive halving ranking trials on several objectives; ASHA's arguments plus ``tie_break``."""

    name = "moasha"
    multi_objective = True

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        max_t: int = 100,
        grace_period: int = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
        tie_break: str = "hypervolume",
    ) -> None:
        super().__init__(
            mode=mode,
            seed=seed,
            max_t=max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            brackets=brackets,
        )
        if objectives is not None:
            from tunelab.objectives import normalize_objectives

            self.objectives = normalize_objectives(objectives)
        self.tie_break = check_choice(f"scheduler {self.name!r}", "tie_break", tie_break, TIE_BREAKS)
        #: Per bracket: rung level -> {trial number: losses recorded there}.
        self.vector_rungs: list[dict[int, dict[int, tuple[float, ...]]]] = [
            {level: {} for level in rungs} for rungs in self.rungs
        ]

    def _decide(self, view: TrialView, resource: int) -> Decision:
        rungs = self.vector_rungs[self._bracket_of.get(view.number, 0)]
        for level in sorted(rungs, reverse=True):
            recorded = rungs[level]
            if resource >= level and view.number not in recorded:
                losses = view.vectors[-1]
                ok = mo_passes_rung(losses, list(recorded.values()), self.eta, self.tie_break)
                recorded[view.number] = losses
                self.rungs[self._bracket_of.get(view.number, 0)][level][view.number] = losses[0]
                return Decision.CONTINUE if ok else Decision.STOP
        return Decision.CONTINUE

    def describe(self) -> str:
        levels = ", ".join(str(level) for level in self.rungs[0])
        brackets = f", {self.brackets} brackets" if self.brackets > 1 else ""
        return (
            f"{self.name} (rungs at {levels}; max_t={self.max_t}, eta={self.eta:g}{brackets}, ties by {self.tie_break})"
        )


class MOHyperbandScheduler(MOASHAScheduler):
    """Hyperband brackets over MO-ASHA: ``brackets`` defaults to every bracket Hyperband would have."""

    name = "mohyperband"

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        max_t: int = 81,
        grace_period: int = 1,
        reduction_factor: float = 3,
        brackets: int | None = None,
        tie_break: str = "hypervolume",
    ) -> None:
        if brackets is None:
            from tunelab.tuners._checks import check_float, check_int

            label = f"scheduler {self.name!r}"
            levels = rung_levels(
                check_int(label, "grace_period", grace_period, 1),
                check_float(label, "reduction_factor", reduction_factor, 1.0, open_low=True),
                check_int(label, "max_t", max_t, 1),
            )
            brackets = max(1, len(levels))
        super().__init__(
            mode=mode,
            seed=seed,
            objectives=objectives,
            max_t=max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            brackets=brackets,
            tie_break=tie_break,
        )
