"""NSGA-II (Deb et al. 2002) and NSGA-III (Deb and Jain 2014) as steady-state ask/tell tuners.

The first ``population_size`` suggestions are random. After that, every suggestion is a
child of two parents drawn by binary tournament from the *elite*: the best
``population_size`` finished trials of the whole history by Deb's constrained
non-dominated sorting (feasible first, then by rank), the last front cut by crowding
distance (NSGA-II) or by niching around Das-Dennis reference directions (NSGA-III). The
elite of the whole history equals NSGA-II's (mu + lambda) survivor selection done one
trial at a time, and it is a function of the history alone, so a resumed tuner continues
exactly. Children come from uniform crossover (each parameter from either parent with
probability ``swapping_prob``, applied with probability ``crossover_prob``) and mutation
(each parameter redrawn from its prior with probability ``mutation_prob``, by default one
over the number of parameters), as Optuna's NSGAIISampler does by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import numpy as np

from tunelab import pareto
from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_choice, check_float, check_int
from tunelab.tuners._motpe import LossHistory
from tunelab.tuners._unit import CONSTANT, RowCache, UnitSpace

SELECTIONS = ("auto", "crowding", "reference")


def das_dennis(n_objectives: int, divisions: int) -> np.ndarray:
    """Das and Dennis's reference directions: every point of the simplex with coordinates in steps of 1/divisions."""
    points = []
    for bars in combinations(range(divisions + n_objectives - 1), n_objectives - 1):
        edges = (-1, *bars, divisions + n_objectives - 1)
        points.append([edges[i + 1] - edges[i] - 1 for i in range(n_objectives)])
    return np.asarray(points, dtype=float) / divisions


def reference_directions(n_objectives: int, population_size: int) -> np.ndarray:
    """The Das-Dennis set with the most divisions giving at most ``population_size`` directions (at least 1)."""
    if n_objectives == 1:
        return np.ones((1, 1))
    divisions = 1
    while math.comb(divisions + n_objectives, n_objectives - 1) <= population_size:
        divisions += 1
    return das_dennis(n_objectives, divisions)


def elite(
    losses: np.ndarray,
    violations: np.ndarray,
    size: int,
    *,
    selection: str,
    rng: np.random.Generator,
    directions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indices, ranks, crowding)`` of the ``size`` survivors among the rows (all of them when fewer).

    Fronts of :func:`tunelab.pareto.constrained_ranks` are taken whole while they fit; the
    front that does not fit is cut by crowding distance (largest first, ties in row order)
    or by :func:`niche_select` around ``directions``.
    """
    ranks = pareto.constrained_ranks(losses, violations)
    chosen: list[int] = []
    for rank in range(int(ranks.max()) + 1 if len(ranks) else 0):
        members = np.flatnonzero(ranks == rank)
        need = size - len(chosen)
        if len(members) <= need:
            chosen.extend(int(i) for i in members)
        elif selection == "reference" and directions is not None and violations[members[0]] <= 0:
            chosen.extend(int(i) for i in niche_select(losses, np.asarray(chosen), members, need, directions, rng))
        else:
            distance = pareto.crowding_distance(losses[members])
            order = np.lexsort((members, -distance))
            chosen.extend(int(i) for i in members[order[:need]])
        if len(chosen) >= size:
            break
    indices = np.asarray(chosen, dtype=np.int64)
    crowding = np.zeros(len(indices))
    for rank in np.unique(ranks[indices]):
        in_rank = ranks[indices] == rank
        crowding[in_rank] = pareto.crowding_distance(losses[indices[in_rank]])
    return indices, ranks[indices], crowding


def niche_select(
    losses: np.ndarray,
    chosen: np.ndarray,
    last: np.ndarray,
    need: int,
    directions: np.ndarray,
    rng: np.random.Generator,
) -> list[int]:
    """NSGA-III's niching: ``need`` rows of the last front ``last``, filling the least crowded directions first.

    Objectives are translated to the ideal point and scaled by their range over the rows
    considered; each row joins the direction nearest to it (perpendicular distance). A
    direction with no chosen row takes its nearest candidate, one that has some takes a
    random candidate; directions without candidates are skipped.
    """
    pool = np.concatenate([chosen, last]).astype(np.int64)
    sub = losses[pool]
    ideal = sub.min(axis=0)
    spread = np.where(sub.max(axis=0) > ideal, sub.max(axis=0) - ideal, 1.0)
    scaled = (sub - ideal) / spread
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    along = scaled @ unit.T  # (rows, directions)
    perpendicular = np.sqrt(np.maximum((scaled**2).sum(axis=1, keepdims=True) - along**2, 0.0))
    nearest = np.argmin(perpendicular, axis=1)
    distance = perpendicular[np.arange(len(pool)), nearest]
    counts = np.bincount(nearest[: len(chosen)], minlength=len(directions))
    candidates = list(range(len(chosen), len(pool)))
    picked: list[int] = []
    while len(picked) < need:
        live = np.unique(nearest[candidates])
        low = counts[live].min()
        direction = int(rng.choice(live[counts[live] == low]))
        members = [c for c in candidates if nearest[c] == direction]
        if counts[direction] == 0:
            pick = min(members, key=lambda c: (distance[c], c))
        else:
            pick = int(rng.choice(members))
        picked.append(int(pool[pick]))
        candidates.remove(pick)
        counts[direction] += 1
    return picked


class NSGATuner(Tuner):
    """NSGA-II, or NSGA-III with ``selection="reference"`` (``auto``: reference directions from 4 objectives on)."""

    multi_objective = True
    _name = "nsga2"
    _default_selection = "auto"

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        population_size: int = 50,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        mutation_prob: float | None = None,
        selection: str | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed, objectives=objectives)
        name = self._name
        self.population_size = check_int(name, "population_size", population_size, 2)
        self.crossover_prob = check_float(name, "crossover_prob", crossover_prob, 0.0, 1.0)
        self.swapping_prob = check_float(name, "swapping_prob", swapping_prob, 0.0, 1.0)
        self._unit = UnitSpace(space)
        searchable = max(1, int(np.sum(self._unit.kinds != CONSTANT)))
        self.mutation_prob = (
            1.0 / searchable if mutation_prob is None else check_float(name, "mutation_prob", mutation_prob, 0.0, 1.0)
        )
        chosen = check_choice(
            name, "selection", self._default_selection if selection is None else selection, SELECTIONS
        )
        n_objectives = 1 if self.objectives is None else len(self.objectives)
        if chosen == "auto":
            chosen = "reference" if n_objectives >= 4 else "crowding"
        self.selection = chosen
        self.directions = reference_directions(n_objectives, self.population_size) if chosen == "reference" else None
        self._rows = RowCache(self._unit)
        self._losses = LossHistory(n_objectives)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        history = self.history
        if self.n_suggested < self.population_size:
            return self.space.sample(rng)
        rows, _ = self._rows.arrays(history)
        losses, violations = self._losses.arrays(history)
        usable = np.flatnonzero(~np.isnan(losses).any(axis=1))
        if len(usable) < 2:
            return self.space.sample(rng)
        picked, ranks, crowding = elite(
            losses[usable],
            violations[usable],
            self.population_size,
            selection=self.selection,
            rng=rng,
            directions=self.directions,
        )
        parents = [usable[picked[_tournament(ranks, crowding, rng)]] for _ in range(2)]
        child = self._child(rows[parents[0]], rows[parents[1]], rng)
        return self._unit.decode(child)

    def _child(self, first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        child = first.copy()
        if rng.random() < self.crossover_prob:
            swap = rng.random(len(child)) < self.swapping_prob
            child[swap] = second[swap]
        fresh = rng.random(len(child))
        mutate = (rng.random(len(child)) < self.mutation_prob) | np.isnan(child)
        child[mutate] = fresh[mutate]
        return self._unit.snap(child)


def _tournament(ranks: np.ndarray, crowding: np.ndarray, rng: np.random.Generator) -> int:
    """Binary tournament: the lower rank wins, then the larger crowding distance, then the first drawn."""
    a, b = (int(i) for i in rng.integers(0, len(ranks), size=2))
    if (ranks[b], -crowding[b]) < (ranks[a], -crowding[a]):
        return b
    return a


class NSGA3Tuner(NSGATuner):
    """NSGA-III: NSGA-II with the last front cut around Das-Dennis reference directions."""

    _name = "nsga3"
    _default_selection = "reference"
