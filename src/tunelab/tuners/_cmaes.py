"""CMA-ES through the ``cmaes`` package, in the unit cube.

CMA-ES proposes generations of ``population_size`` points; tunelab tells it each
generation once that many trials have finished, in the order they finished, so the
optimizer's state is a function of the history and a resumed experiment continues the
same run. CMA-ES only uses the ranking of a generation's losses, so failed trials are
told as ranking last and infinities need no care. Choices are searched through their
bins of the unit interval (an ordinal relaxation); a space with no numeric parameter is
refused, since TPE serves it better.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import rankdata

from tunelab.errors import TunerError
from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_float, check_int
from tunelab.tuners._unit import CONSTANT, NUMERIC, RowCache, UnitSpace


class CMAESTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        sigma0: float = 0.3,
        population_size: int | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        from cmaes import CMA  # optional dependency: the cmaes extra

        self._unit = UnitSpace(space)
        if not (self._unit.kinds == NUMERIC).any():
            raise TunerError("cmaes: the search space has no numeric parameter; use tpe for choice-only spaces")
        self.sigma0 = check_float("cmaes", "sigma0", sigma0, 0.0, 1.0, open_low=True)
        self._columns = np.flatnonzero(self._unit.kinds != CONSTANT)
        dim = max(2, len(self._columns))  # cmaes needs two dimensions
        default_pop = 4 + math.floor(3 * math.log(dim))
        self.population_size = check_int(
            "cmaes", "population_size", default_pop if population_size is None else population_size, 2
        )
        self._cma = CMA(
            mean=np.full(dim, 0.5),
            sigma=self.sigma0,
            bounds=np.tile([0.0, 1.0], (dim, 1)),
            seed=self._entropy % 2**31,
            population_size=self.population_size,
        )
        self._cache = RowCache(self._unit)
        self._told = 0

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        self._tell_finished_generations()
        self._cma.reseed_rng(int(rng.integers(2**31 - 1)))
        x = self._cma.ask()
        row = np.full(self._unit.dim, 0.5)
        row[self._columns] = x[: len(self._columns)]
        return self._unit.decode(self._unit.snap(row))

    def _tell_finished_generations(self) -> None:
        rows, losses = self._cache.arrays(self.history)
        pop = self.population_size
        dim = self._cma.dim
        while self._told + pop <= len(rows):
            block = slice(self._told, self._told + pop)
            x = np.full((pop, dim), 0.5)
            x[:, : len(self._columns)] = np.nan_to_num(rows[block][:, self._columns], nan=0.5)
            keys = np.where(np.isnan(losses[block]), np.inf, losses[block])
            ranks = rankdata(keys, method="ordinal").astype(float)
            self._cma.tell(list(zip(x, ranks, strict=True)))
            self._told += pop
