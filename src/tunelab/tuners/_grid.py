"""Grid search: every combination of the discrete values, continuous ranges on an even grid."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from tunelab.errors import SearchSpaceError, SearchSpaceExhausted, TunerError
from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner


class GridTooLargeError(SearchSpaceError, TunerError):
    """The space's grid has more points than :data:`MAX_GRID_POINTS`.

    A :class:`SearchSpaceError` (the space is what is too large) that is also a
    :class:`TunerError`, so that ``create_tuner`` passes it on as it is.
    """


#: The largest grid the grid tuner walks; a larger one is refused with its size (random
#: search or TPE sample such a space instead of enumerating it).
MAX_GRID_POINTS = 10**6


class GridTuner(Tuner):
    """Enumerates the space in order; the experiment ends DONE when the grid is used up.

    ``n_points`` is how many evenly spaced values a continuous parameter gets (on the log
    scale for log-scaled ones); a mapping gives it per parameter (Auptimizer's ``n``).
    A grid of more than :data:`MAX_GRID_POINTS` points is refused with a
    :class:`SearchSpaceError` that states its size; points are computed one at a time.
    """

    first_from_prior = False  # the grid starts at its first point

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
        for name, count in per_name.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 2:
                raise TunerError(f"grid: n_points[{name!r}] must be an integer >= 2, got {count!r}")
        check_grid_size(space, default, per_name)
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


def check_grid_size(space: SearchSpace, n_points: int = 5, per_name: Mapping[str, int] | None = None) -> int:
    """The number of grid points, or :class:`GridTooLargeError` past :data:`MAX_GRID_POINTS` (counted, not listed).

    For a config check that wants the grid tuner's verdict without building the tuner.
    """
    per_name = per_name or {}
    sizes = {
        name: SearchSpace({name: domain}).grid_size(per_name.get(name, n_points)) for name, domain in space.items()
    }
    total = 1
    for size in sizes.values():
        total *= size
    if total > MAX_GRID_POINTS:
        largest = max(sizes, key=lambda name: sizes[name])
        raise GridTooLargeError(
            f"search_space: the grid has {_count(total)} points, more than the grid tuner's limit of "
            f"{MAX_GRID_POINTS} ({largest!r} alone has {_count(sizes[largest])}); use random or tpe to sample "
            "it, or make it coarser (a larger q or step, fewer n_points)"
        )
    return total


def _count(n: int) -> str:
    """An exact count, or its order of magnitude when it has more than 30 digits."""
    digits = len(str(n)) if n < 10**4000 else None
    if digits is not None and digits <= 30:
        return str(n)
    return f"about 10**{digits - 1}" if digits is not None else "more than 10**4000"
