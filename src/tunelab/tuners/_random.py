"""Random search: every parameter drawn from its prior.

Parameters made with ``hp.grid_search`` are enumerated instead of drawn, as Ray and
Orca users expect: trial ``k`` gets the ``k``-th combination of the grid values
(cycling), and the other parameters are drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunelab.space import Branch, Choice, SearchSpace
from tunelab.tuners._base import Tuner


class RandomTuner(Tuner):
    multi_objective = True  # it ignores results, so any number of objectives
    first_from_prior = False  # every draw is from the prior already (grid_search values enumerated)

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed, objectives=objectives)
        grids = [(n, d) for n, d in space.items() if isinstance(d, Choice) and d.grid_search]
        self._grid_names = [n for n, _ in grids]
        # The combinations are numbered, never listed: 30 grids of 10 values are 10**30 of them.
        self._grid_options = [d.options for _, d in grids]
        self._grid_size = math.prod(len(options) for options in self._grid_options)

    def _combo(self, index: int) -> list[Any]:
        """The ``index``-th combination in ``itertools.product`` order (the last grid varies fastest)."""
        combo: list[Any] = [None] * len(self._grid_options)
        for i in range(len(self._grid_options) - 1, -1, -1):
            index, rest = divmod(index, len(self._grid_options[i]))
            combo[i] = self._grid_options[i][rest]
        return combo

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        params = self.space.sample(rng)
        if self._grid_names:
            combo = self._combo(self.n_suggested % self._grid_size)
            for name, option in zip(self._grid_names, combo, strict=True):
                params[name] = option.value(option.space.sample(rng)) if isinstance(option, Branch) else option
        return params
