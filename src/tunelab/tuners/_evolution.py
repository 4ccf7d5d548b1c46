"""Regularized (aging) evolution (Real et al. 2019), NNI's ``population_size``.

The population is the ``population_size`` most recently finished trials: the oldest
dies as each new one finishes, whatever its score, which keeps the search from resting
on one lucky early result. A parent is the best of ``sample_size`` members drawn at
random; the child changes one active parameter of it. Until the population is full,
suggestions are random.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunelab.errors import TunerError
from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_int
from tunelab.tuners._unit import CATEGORICAL, CONSTANT, RowCache, UnitSpace


class EvolutionTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        population_size: int = 20,
        sample_size: int = 5,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        self.population_size = check_int("evolution", "population_size", population_size, 2)
        self.sample_size = check_int("evolution", "sample_size", sample_size, 1)
        if self.sample_size > self.population_size:
            raise TunerError(
                "evolution: sample_size <= population_size must hold, but got "
                f"sample_size={self.sample_size}, population_size={self.population_size}"
            )
        self._unit = UnitSpace(space)
        self._cache = RowCache(self._unit)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        if len(self.history) < self.population_size:
            return self.space.sample(rng)
        rows, losses = self._cache.arrays(self.history)
        start = len(rows) - self.population_size
        parent = rows[start + tournament(losses[start:], self.sample_size, rng)]
        return self._unit.decode(mutate(parent, self._unit, rng))


def tournament(losses: np.ndarray, sample_size: int, rng: np.random.Generator) -> int:
    """Index of the best of ``sample_size`` members drawn without replacement (failures lose)."""
    drawn = rng.choice(losses.size, size=sample_size, replace=False)
    keys = np.where(np.isnan(losses[drawn]), np.inf, losses[drawn])
    return int(drawn[np.argmin(keys)])


def mutate(parent: np.ndarray, unit: UnitSpace, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``parent`` with one active leaf changed; leaves it activates get random values.

    A numeric leaf takes a Gaussian step half the time (scale 0.1 of its range) and a
    fresh value otherwise; a choice switches to another option.
    """
    child = np.where(np.isnan(parent), rng.random(parent.size), parent)
    active = unit.active(parent)[0] & (unit.kinds != CONSTANT)
    candidates = np.flatnonzero(active)
    if candidates.size == 0:
        return unit.snap(child)
    j = int(rng.choice(candidates))
    if unit.kinds[j] == CATEGORICAL:
        n = int(unit.n_options[j])
        current = min(int(child[j] * n), n - 1)
        other = (current + 1 + int(rng.integers(n - 1))) % n
        child[j] = (other + 0.5) / n
    elif rng.random() < 0.5:
        child[j] = np.clip(child[j] + 0.1 * rng.normal(), 0.0, 1.0)
    else:
        child[j] = rng.random()
    return unit.snap(child)
