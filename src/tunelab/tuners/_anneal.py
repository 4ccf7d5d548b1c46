"""Annealing as in Hyperopt's ``anneal`` (NNI's Anneal tuner).

Each parameter is drawn near its value in one good past trial: the trial is picked by
rank with a geometric law (mean rank ``avg_best_idx``), and the neighbourhood shrinks
as ``1 / (1 + shrink_coef * n)`` with ``n`` the trials that used the parameter, so the
search narrows as evidence grows. Parameters are handled one at a time, like Hyperopt's
nodes, so conditional parameters look only at the trials where they were active.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_float
from tunelab.tuners._unit import CATEGORICAL, CONSTANT, RowCache, UnitSpace


class AnnealTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        avg_best_idx: float = 2.0,
        shrink_coef: float = 0.1,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        self.avg_best_idx = check_float("anneal", "avg_best_idx", avg_best_idx, 1.0)
        self.shrink_coef = check_float("anneal", "shrink_coef", shrink_coef, 0.0)
        self._unit = UnitSpace(space)
        self._cache = RowCache(self._unit)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        rows, losses = self._cache.arrays(self.history)
        if not np.isfinite(losses).any() and not (losses == -np.inf).any():
            return self.space.sample(rng)
        row = anneal_row(
            rows,
            losses,
            self._unit.kinds,
            self._unit.n_options,
            rng,
            avg_best_idx=self.avg_best_idx,
            shrink_coef=self.shrink_coef,
        )
        return self._unit.decode(self._unit.snap(row))


def anneal_row(
    rows: np.ndarray,
    losses: np.ndarray,
    kinds: np.ndarray,
    n_options: np.ndarray,
    rng: np.random.Generator,
    *,
    avg_best_idx: float,
    shrink_coef: float,
) -> np.ndarray:
    """One new unit row from the history (NaN where a leaf was inactive; NaN loss = failed)."""
    out = rng.random(int(rows.shape[1]))
    keys = np.where(np.isnan(losses), np.inf, losses)
    for j in range(rows.shape[1]):
        if kinds[j] == CONSTANT:
            continue
        seen = np.flatnonzero(~np.isnan(rows[:, j]) & ~np.isnan(losses))
        if seen.size == 0:
            continue
        ranked = seen[np.argsort(keys[seen], kind="stable")]
        pick = ranked[min(int(rng.geometric(1.0 / avg_best_idx)) - 1, ranked.size - 1)]
        center = rows[pick, j]
        shrink = 1.0 / (1.0 + shrink_coef * seen.size)
        if kinds[j] == CATEGORICAL:
            out[j] = center if rng.random() >= shrink else (int(rng.integers(n_options[j])) + 0.5) / n_options[j]
        else:
            low, high = max(0.0, center - shrink / 2), min(1.0, center + shrink / 2)
            out[j] = rng.uniform(low, high)
    return out
