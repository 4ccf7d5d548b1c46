"""Forest inputs and SMAC3's acquisition search: one-exchange neighbours and local search from good points.

Rows are unit-cube rows (:mod:`tunelab.tuners._unit`) with NaN where a conditional leaf
is inactive. A neighbour changes one active leaf, as ConfigSpace's
``get_one_exchange_neighbourhood`` does: a real or integer moves by a Gaussian step of the
walk's current width (plus, for integers and quantized values, to the grid values on
either side), a choice takes each of its other options; leaves that the change activates
get their default value (ConfigSpace's ``change_hp_value``: the middle of the range, the
first option) and leaves it deactivates are dropped, so every neighbour is a legal
configuration.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tunelab.tuners._unit import CATEGORICAL, NUMERIC, UnitSpace, choice_index

#: Gaussian neighbours per real or integer leaf (ConfigSpace's ``num_neighbors``).
N_GAUSSIAN = 4
#: Larger discrete leaves than this are walked by Gaussian steps only.
_MAX_GRID = 1024
#: The inactive marker: below every unit coordinate, so a tree can split it off.
INACTIVE = -1.0

Score = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Encoder:
    """Forest inputs from unit rows: every searchable leaf's coordinate (-1 where inactive), plus one-hot
    columns for choices of three or more options, so that one split can set a single option apart."""

    def __init__(self, unit: UnitSpace) -> None:
        self.columns = np.flatnonzero((unit.kinds == NUMERIC) | (unit.kinds == CATEGORICAL))
        self.onehot = [(j, int(unit.n_options[j])) for j in self.columns if unit.n_options[j] >= 3]
        self.width = len(self.columns) + sum(n for _, n in self.onehot)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(rows)
        blocks = [np.nan_to_num(rows[:, self.columns], nan=INACTIVE)]
        for j, n in self.onehot:
            idx = choice_index(rows[:, j], n)
            blocks.append(np.where(idx[:, None] < 0, INACTIVE, (idx[:, None] == np.arange(n)).astype(float)))
        return np.hstack(blocks)


class Neighbourhood:
    """One-exchange neighbours of unit rows (see the module docstring)."""

    def __init__(self, unit: UnitSpace) -> None:
        self.unit = unit
        self.numeric = [int(j) for j in np.flatnonzero(unit.kinds == NUMERIC)]
        self.categorical = [int(j) for j in np.flatnonzero(unit.kinds == CATEGORICAL)]
        self.defaults = defaults(unit)
        #: The sorted legal unit coordinates of integer and quantized leaves with few values.
        self.grids: dict[int, np.ndarray] = {}
        probe = np.linspace(0.0, 1.0, 8 * _MAX_GRID + 1)[:, None]
        for j in self.numeric:
            grid = np.unique(unit.snap(probe, columns=[j])[:, 0])
            if len(grid) <= _MAX_GRID:
                self.grids[j] = grid

    def __call__(self, rows: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(neighbours, owner)``: legal snapped rows that differ from their row ``rows[owner]``."""
        blocks: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        for j in self.numeric:
            r = np.flatnonzero(~np.isnan(rows[:, j]))
            if r.size == 0:
                continue
            base = np.repeat(rows[r], N_GAUSSIAN, axis=0)
            step = rng.normal(size=len(base)) * np.repeat(sigma[r], N_GAUSSIAN)
            base[:, j] = np.clip(base[:, j] + step, 0.0, 1.0)
            blocks.append(base)
            owners.append(np.repeat(r, N_GAUSSIAN))
            grid = self.grids.get(j)
            if grid is not None:
                u = rows[r, j]
                below = grid[np.maximum(np.searchsorted(grid, u - 1e-9) - 1, 0)]
                above = grid[np.minimum(np.searchsorted(grid, u + 1e-9), len(grid) - 1)]
                for values in (below, above):
                    moved = rows[r].copy()
                    moved[:, j] = values
                    blocks.append(moved)
                    owners.append(r)
        for j in self.categorical:
            r = np.flatnonzero(~np.isnan(rows[:, j]))
            n = int(self.unit.n_options[j])
            if r.size == 0:
                continue
            base = np.repeat(rows[r], n, axis=0)
            base[:, j] = np.tile((np.arange(n) + 0.5) / n, r.size)
            blocks.append(base)
            owners.append(np.repeat(r, n))
        if not blocks:
            return np.empty((0, rows.shape[1])), np.empty(0, dtype=int)
        neighbours = fix_activity(self.unit, np.vstack(blocks), self.defaults)
        owner = np.concatenate(owners)
        same = np.all((neighbours == rows[owner]) | (np.isnan(neighbours) & np.isnan(rows[owner])), axis=1)
        return neighbours[~same], owner[~same]


def defaults(unit: UnitSpace) -> np.ndarray:
    """ConfigSpace's default of each leaf as a unit coordinate: the middle of a range (on the log
    scale for log parameters, the mean of a normal prior), the first option of a choice."""
    return np.where(unit.n_options > 0, 0.5 / np.maximum(unit.n_options, 1), 0.5)


def fix_activity(unit: UnitSpace, rows: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Rows made legal: newly active leaves set to ``fill`` (one value per leaf), inactive ones NaN, snapped."""
    rows = np.array(rows, dtype=float, copy=True)
    if unit.is_conditional:
        for _ in range(len(unit.leaves) + 1):  # a filled choice may activate leaves below it
            missing = unit.active(rows) & np.isnan(rows)
            if not missing.any():
                break
            rows = np.where(missing, fill[None, :], rows)
        rows[~unit.active(rows)] = np.nan
    return unit.snap(rows)


def random_rows(unit: UnitSpace, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` legal rows drawn uniformly, inactive leaves NaN."""
    rows = unit.random(rng, n)
    return np.where(unit.active(rows), rows, np.nan) if unit.is_conditional else rows


def best_per_owner(owner: np.ndarray, keys: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(owners, index of each owner's first row)`` with rows ordered by ``keys`` (``np.lexsort``: last key first)."""
    order = np.lexsort((*keys, owner))
    sorted_owner = owner[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_owner)) + 1] if len(order) else np.empty(0, dtype=int)
    return sorted_owner[first], order[first]


def local_search(
    starts: np.ndarray,
    score: Score,
    neighbourhood: Neighbourhood,
    rng: np.random.Generator,
    *,
    max_steps: int = 30,
    plateau_steps: int = 10,
    sigma0: float = 0.05,
    sigma_min: float = 5e-3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hill-climb the acquisition from every start at once; ``(rows, ei, mean)`` where each walk ended.

    ``score(rows) -> (ei, predicted mean)``. Each step moves a walk to its best neighbour
    (higher EI, then lower mean) when that improves on it; on a plateau (equal EI, common
    with a forest) it moves to a random equal neighbour at most ``plateau_steps`` times in
    a row (SMAC3's plateau walk); otherwise it halves its Gaussian step, and stops once the
    step is below ``sigma_min``, after ``max_steps`` steps at most.
    """
    current = np.array(starts, dtype=float, copy=True)
    ei, mean = score(current)
    sigma = np.full(len(current), sigma0)
    plateau = np.zeros(len(current), dtype=int)
    alive = np.ones(len(current), dtype=bool)
    for _ in range(max_steps):
        walkers = np.flatnonzero(alive)
        if walkers.size == 0:
            break
        neighbours, owner = neighbourhood(current[walkers], sigma[walkers], rng)
        if len(neighbours) == 0:
            break
        n_ei, n_mean = score(neighbours)
        tie = rng.random(len(neighbours))
        who, best = best_per_owner(owner, (n_mean, -n_ei))
        _, any_equal = best_per_owner(owner, (tie, -n_ei))
        stuck = np.ones(walkers.size, dtype=bool)
        stuck[who] = False
        alive[walkers[stuck]] = False
        w = walkers[who]
        tol = 1e-12 * np.maximum(np.abs(ei[w]), 1e-300)
        improved = (n_ei[best] > ei[w] + tol) | ((np.abs(n_ei[best] - ei[w]) <= tol) & (n_mean[best] < mean[w] - 1e-12))
        flat = ~improved & (np.abs(n_ei[any_equal] - ei[w]) <= tol) & (plateau[w] < plateau_steps)
        move = np.where(improved, best, any_equal)
        go = improved | flat
        current[w[go]] = neighbours[move[go]]
        ei[w[go]], mean[w[go]] = n_ei[move[go]], n_mean[move[go]]
        plateau[w[improved]] = 0
        plateau[w[flat]] += 1
        shrink = w[~go]
        sigma[shrink] *= 0.5
        alive[shrink[sigma[shrink] < sigma_min]] = False
    return current, ei, mean
