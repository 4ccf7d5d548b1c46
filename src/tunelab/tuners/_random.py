"""Random search: every parameter drawn from its prior.

Parameters made with ``hp.grid_search`` are enumerated instead of drawn, as Ray and
Orca users expect: trial ``k`` gets the ``k``-th combination of the grid values
(cycling), and the other parameters are drawn.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tunelab.space import Branch, Choice, SearchSpace
from tunelab.tuners._base import Tuner


class RandomTuner(Tuner):
    def __init__(self, space: SearchSpace, *, mode: str = "min", seed: int | None = None) -> None:
        super().__init__(space, mode=mode, seed=seed)
        grid_names = [n for n, d in space.items() if isinstance(d, Choice) and d.grid_search]
        self._grid_names = grid_names
        self._grid = list(itertools.product(*(space[n].options for n in grid_names)))  # type: ignore[attr-defined]

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        params = self.space.sample(rng)
        if self._grid_names:
            combo = self._grid[self.n_suggested % len(self._grid)]
            for name, option in zip(self._grid_names, combo, strict=True):
                params[name] = option.value(option.space.sample(rng)) if isinstance(option, Branch) else option
        return params
