"""Grid search: every combination of the discrete values, continuous ranges on an even grid."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from tunelab.errors import SearchSpaceExhausted, TunerError
from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner


class GridTuner(Tuner):
    """Enumerates the space in order; the experiment ends DONE when the grid is used up.

    ``n_points`` is how many evenly spaced values a continuous parameter gets (on the log
    scale for log-scaled ones); a mapping gives it per parameter (Auptimizer's ``n``).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        n_points: int | Mapping[str, int] = 5,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        default, per_name = (n_points, {}) if isinstance(n_points, int) else (5, dict(n_points))
        if isinstance(default, bool) or default < 2:
            raise TunerError(f"grid: n_points must be an integer >= 2, got {n_points!r}")
        unknown = set(per_name) - set(space)
        if unknown:
            raise TunerError(f"grid: n_points names unknown parameter '{sorted(unknown)[0]}'")
        self._points = self._iterate(default, per_name)

    def _iterate(self, default: int, per_name: dict[str, int]) -> Iterator[dict[str, Any]]:
        if not per_name:
            yield from self.space.grid(default)
            return
        # Per-parameter resolution: enumerate each top-level parameter on its own grid.
        columns = []
        for name, domain in self.space.items():
            sub = SearchSpace({name: domain})
            columns.append([p[name] for p in sub.grid(per_name.get(name, default))])
        for combo in itertools.product(*columns):
            yield dict(zip(self.space, combo, strict=True))

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        for params in self._points:
            if not self._is_seen(params):
                return params
        raise SearchSpaceExhausted("every point of the grid has been tried")
