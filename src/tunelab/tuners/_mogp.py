"""A GP for several objectives: ParEGO's random scalarisations (Knowles 2006) on tunelab's GP tuner.

Every suggestion draws a weight vector uniformly from the simplex, scalarises each
finished trial's losses with the augmented Chebyshev function
``max_j(w_j f_j) + rho * sum_j(w_j f_j)`` (each objective scaled to [0, 1] over the finished
trials), and takes the GP tuner's next point for that single objective: Matern-5/2 GP,
log-EI, pending trials conditioned on at the GP's mean (kriging believer). Over many
suggestions the weights sweep the whole front. Infeasible trials count as failed ones
(the GP sees them at the worst value), so the search leaves infeasible regions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tunelab.space import SearchSpace
from tunelab.tuners._checks import check_float
from tunelab.tuners._gp import GPTuner
from tunelab.tuners._motpe import LossHistory


def chebyshev(losses: np.ndarray, weights: np.ndarray, rho: float) -> np.ndarray:
    """Augmented Chebyshev scalarisation of ``(n, m)`` losses (NaN rows stay NaN), objectives scaled to [0, 1]."""
    ok = ~np.isnan(losses).any(axis=1)
    out = np.full(len(losses), np.nan)
    if not ok.any():
        return out
    low, high = losses[ok].min(axis=0), losses[ok].max(axis=0)
    scaled = (losses[ok] - low) / np.where(high > low, high - low, 1.0)
    weighted = scaled * weights
    out[ok] = weighted.max(axis=1) + rho * weighted.sum(axis=1)
    return out


class MOGPTuner(GPTuner):
    """ParEGO: the GP tuner on a random augmented-Chebyshev scalarisation per suggestion.

    ``rho`` is the weight of the sum term (ParEGO's 0.05), which keeps weakly dominated
    points from scoring as well as the ones that dominate them. The other arguments are the
    GP tuner's.
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        n_initial_points: int = 10,
        n_candidates: int = 1000,
        n_restarts: int = 5,
        max_points: int = 300,
        max_fit_points: int = 120,
        rho: float = 0.05,
    ) -> None:
        super().__init__(
            space,
            mode=mode,
            seed=seed,
            n_initial_points=n_initial_points,
            n_candidates=n_candidates,
            n_restarts=n_restarts,
            max_points=max_points,
            max_fit_points=max_fit_points,
        )
        if objectives is not None:  # GPTuner takes one objective; the base class records them here
            from tunelab.objectives import normalize_objectives

            self.objectives = normalize_objectives(objectives)
        self.rho = check_float("mogp", "rho", rho, 0.0)
        n_objectives = 1 if self.objectives is None else len(self.objectives)
        self._losses = LossHistory(n_objectives)
        self._weights = np.full(n_objectives, 1.0 / n_objectives)

    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The GP's rows, and each trial's losses scalarised with this suggestion's weights (infeasible: failed)."""
        rows, _ = super()._training_data()
        losses, violations = self._losses.arrays(tuple(self.history))
        losses[violations > 0] = np.nan
        return rows, chebyshev(losses, self._weights, self.rho)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        self._weights = np.random.default_rng(rng.integers(2**63)).dirichlet(np.ones(len(self._weights)))
        # Each scalarisation is a new target: fit the kernel afresh, so that the suggestion depends
        # on the history alone (a resumed tuner suggests what the original would have).
        self._new_target()
        return super()._propose(rng)
