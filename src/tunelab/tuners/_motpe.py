"""Multi-objective TPE (MOTPE, Ozaki et al. 2020/2022, as Optuna's TPESampler with several objectives).

The history is split into good and bad trials by non-dominated rank (feasible trials
first, Deb's constrained domination); within the rank that crosses the good set's size,
the good ones are chosen greedily by hypervolume (hypervolume subset selection). Each good
trial's kernel is weighted by its hypervolume contribution to the good set; then TPE's step
(fit l(x) and g(x), keep the candidate maximising l/g) runs on tunelab's Parzen machinery.

With three or more objectives each parameter is modelled on its own (univariate TPE, as
Optuna's TPESampler does by default with several objectives). The front is then a surface,
and choosing each coordinate separately presumably recombines good trials from different
parts of it, where kernels over all parameters at once stay near single good trials: on
DTLZ2 (3 objectives, 200 trials, 10 seeds) the joint kernels reached 0.46 hypervolume, the
univariate ones 0.61. With two objectives the joint kernels are kept: ahead on ZDT2 (9.26
against 8.39), level on ZDT1 (``benchmarks/results/multiobjective.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunelab import pareto
from tunelab.space import SearchSpace
from tunelab.tuners._base import Observation, Tuner
from tunelab.tuners._checks import check_choice, check_float, check_int, check_optional_bool
from tunelab.tuners._tpe import _core
from tunelab.tuners._tpe._parzen import forgetting_weights
from tunelab.tuners._tpe._tuner import _groups
from tunelab.tuners._unit import RowCache, UnitSpace, rows_of

#: The smallest kernel weight of a good trial (a trial adding no hypervolume still counts a little).
_MIN_WEIGHT = 1e-12


class LossHistory:
    """Every observation's losses, violation and failure as arrays, built once per observation."""

    def __init__(self, n_objectives: int) -> None:
        self.m = n_objectives
        self._losses: list[tuple[float, ...]] = []
        self._violations: list[float] = []

    def arrays(self, history: tuple[Observation, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(losses, violations)``: an ``(n, m)`` array (NaN rows for failed trials) and ``(n,)``."""
        for obs in history[len(self._losses) :]:
            self._losses.append(obs.losses if obs.losses is not None else (math.nan,) * self.m)
            self._violations.append(max(0.0, obs.violation))
        if not self._losses:
            return np.zeros((0, self.m)), np.zeros(0)
        return np.asarray(self._losses, dtype=float), np.asarray(self._violations, dtype=float)


def n_good(n: int, gamma: float, max_good: int) -> int:
    """The good set's size, ``min(ceil(gamma * n), max_good)``.

    Optuna 5.1's multi-objective rule is ``ceil(0.1 * n)`` with no cap; the cap (25 by default,
    Optuna's single-objective one) bounds the suggestion time and changes nothing below 250 trials.
    """
    return min(math.ceil(gamma * n), max_good)


def greedy_hssp(points: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Indices of ``k`` mutually non-dominated rows chosen greedily to maximise their hypervolume.

    Two objectives: exact gains, all candidates at once (a front sorted by the first loss stays
    a staircase when clipped to a candidate). More: gains measured on a fixed sample of the
    box below the reference point (:func:`_sample_cover`), exact enough to rank candidates.
    """
    n = len(points)
    if k >= n:
        return np.arange(n)
    if points.shape[1] == 2:
        return _greedy_hssp2(points, k, reference)
    cover = _sample_cover(points, reference)
    covered = np.zeros(cover.shape[1], dtype=bool)
    chosen: list[int] = []
    for _ in range(k):
        gains = (cover & ~covered).sum(axis=1).astype(float)
        gains[chosen] = -1.0
        best = int(np.argmax(gains))
        chosen.append(best)
        covered |= cover[best]
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _greedy_hssp2(points: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    order = np.lexsort((points[:, 1], points[:, 0]))
    front = points[order]
    boxes = np.prod(np.maximum(reference - front, 0.0), axis=1)
    chosen = np.zeros(len(front), dtype=bool)
    for _ in range(k):
        selected = front[chosen]
        gains = boxes.copy()
        if len(selected):
            x = np.maximum(selected[None, :, 0], front[:, None, 0])  # (candidates, selected), x rising
            y = np.maximum(selected[None, :, 1], front[:, None, 1])  # y falling
            above = np.concatenate([np.full((len(front), 1), reference[1]), y[:, :-1]], axis=1)
            gains -= ((reference[0] - x) * np.maximum(above - y, 0.0)).sum(axis=1)
        gains[chosen] = -1.0
        chosen[int(np.argmax(gains))] = True
    return np.sort(order[chosen])


#: Sample points per row of the box used to measure hypervolume gains with three or more objectives.
_COVER_SAMPLES = 2048


def _sample_cover(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``cover[i, s]``: whether row ``i`` dominates sample ``s`` of the box between the rows' best and the reference.

    The samples are a fixed draw (seed 0), so the same history gives the same suggestion.
    """
    low = points.min(axis=0)
    unit = np.random.default_rng(0).random((_COVER_SAMPLES, points.shape[1]))
    samples = low + unit * (reference - low)
    return np.all(points[:, None, :] <= samples[None, :, :], axis=2)


def hssp_reference(tied: np.ndarray, feasible: np.ndarray, size: int) -> np.ndarray:
    """The reference point of the selection of ``size`` rows of ``tied`` (the rank that crosses the good set's size).

    The feasible history's worst plus a tenth of its range (:func:`tunelab.pareto.reference_point`).
    Taken from the tied rank alone (Optuna 5.1: 1.1 times its worst; or its worst plus a tenth
    of its range, or plus its range over ``size - 1``), it did no better over 10-20 seeds on DTLZ2,
    ZDT1 and ZDT2 and lost on ZDT2 (``benchmarks/multiobjective_motpe_variants.py``, whose
    variants replace this function, hence the arguments this rule does not use).
    """
    return pareto.reference_point(feasible)


def split_multi(losses: np.ndarray, violations: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (time order) of the ``k`` good trials and the rest; failed trials (NaN rows) are never good.

    Ranks are Deb's constrained ranks; the rank that crosses ``k`` is cut by greedy
    hypervolume subset selection (feasible) or in time order (infeasible ties).
    """
    usable = np.flatnonzero(~np.isnan(losses).any(axis=1))
    k = min(k, len(usable))
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.arange(len(losses))
    ranks = pareto.constrained_ranks(losses[usable], violations[usable])
    good: list[int] = []
    for rank in range(int(ranks.max()) + 1):
        members = usable[ranks == rank]
        need = k - len(good)
        if len(members) <= need:
            good.extend(int(i) for i in members)
        else:
            if violations[members[0]] <= 0 and losses.shape[1] > 1:
                feasible = usable[violations[usable] <= 0]
                reference = hssp_reference(losses[members], losses[feasible], need)
                members = members[greedy_hssp(losses[members], need, reference)]
            good.extend(int(i) for i in members[:need])
        if len(good) >= k:
            break
    below = np.sort(np.asarray(good, dtype=np.int64))
    return below, np.setdiff1d(np.arange(len(losses)), below)


def good_weights(losses: np.ndarray, violations: np.ndarray) -> np.ndarray:
    """Kernel weights of the good trials: hypervolume contribution relative to the largest.

    Optuna's rule before version 5 (5.1 weighs them equally; with the univariate model of three
    objectives the two did alike on DTLZ2, 0.61 and 0.62 hypervolume at 200 trials over 10
    seeds, and with the joint kernels of two the contributions did better on ZDT1 and ZDT2).

    Infeasible good trials and ties get the minimum weight; one objective, or a good set
    adding no volume, gets equal weights.
    """
    n, m = losses.shape
    feasible = violations <= 0
    if m == 1 or feasible.sum() <= 1:
        return np.where(feasible, 1.0, _MIN_WEIGHT)
    reference = pareto.reference_point(losses[feasible])
    contributions = np.zeros(n)
    if m == 2:
        contributions[feasible] = pareto.hypervolume_contributions(losses[feasible], reference)
    else:  # the share of the sampled box that only this row dominates
        cover = _sample_cover(losses[feasible], reference)
        contributions[feasible] = (cover & (cover.sum(axis=0) == 1)).sum(axis=1)
    top = contributions.max()
    if top <= 0:
        return np.where(feasible, 1.0, _MIN_WEIGHT)
    return np.clip(contributions / top, _MIN_WEIGHT, 1.0)


class MOTPETuner(Tuner):
    """Multi-objective TPE; one objective (no ``objectives``) is TPE with Optuna's split.

    ``gamma`` and ``max_good``: the good set holds ``min(ceil(gamma * n), max_good)`` trials
    (0.1 and 25; see :func:`n_good`). ``n_startup_jobs`` random trials come
    first. Pending trials count as bad ones (``constant_liar="worst"``, Optuna's constant
    liar) so parallel suggestions spread out; ``none`` ignores them. ``multivariate``: model
    the parameters jointly (True) or one at a time (False); None (the default) models them
    jointly with one or two objectives and one at a time with three or more.
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        n_startup_jobs: int = 10,
        n_ei_candidates: int = 24,
        gamma: float = 0.1,
        max_good: int = 25,
        prior_weight: float = 1.0,
        constant_liar: str = "worst",
        multivariate: bool | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed, objectives=objectives)
        self.n_startup_jobs = check_int("motpe", "n_startup_jobs", n_startup_jobs, 0)
        self.n_ei_candidates = check_int("motpe", "n_ei_candidates", n_ei_candidates, 1)
        self.gamma = check_float("motpe", "gamma", gamma, 0.0, 1.0, open_low=True)
        self.max_good = check_int("motpe", "max_good", max_good, 1)
        self.prior_weight = check_float("motpe", "prior_weight", prior_weight, 0.0, open_low=True)
        self.constant_liar = check_choice("motpe", "constant_liar", constant_liar, ("worst", "none"))
        self._unit = UnitSpace(space)
        self._rows = RowCache(self._unit)
        n_objectives = 1 if self.objectives is None else len(self.objectives)
        joint = check_optional_bool("motpe", "multivariate", multivariate)
        self.multivariate = n_objectives <= 2 if joint is None else joint
        self._losses = LossHistory(n_objectives)
        self._groups = _groups(self._unit, self.multivariate)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        history = self.history
        if len(history) + len(self.pending) < self.n_startup_jobs or not self._groups:
            return self.space.sample(rng)
        rows, _ = self._rows.arrays(history)
        losses, violations = self._losses.arrays(history)
        below, above = split_multi(losses, violations, n_good(len(history), self.gamma, self.max_good))
        if below.size == 0:  # nothing succeeded yet
            return self.space.sample(rng)
        weights = np.ones(len(rows))
        weights[below] = good_weights(losses[below], violations[below])
        if self.pending and self.constant_liar == "worst":
            pending = rows_of(self._unit, list(self.pending.values()))
            above = np.concatenate([above, np.arange(len(rows), len(rows) + len(pending))])
            rows = np.vstack([rows, pending])
            weights = np.append(weights, np.ones(len(pending)))
        weights[above] = forgetting_weights(len(above), 25)
        row = _core.propose_from_split(
            rows,
            below,
            above,
            self._unit.kinds,
            self._unit.n_options,
            self._groups,
            rng,
            self._unit.snap,
            n_candidates=self.n_ei_candidates,
            weights=lambda part: weights[part],
            prior_weight=self.prior_weight,
        )
        return self._unit.decode(row)
