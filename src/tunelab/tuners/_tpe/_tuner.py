"""The TPE tuner: NNI's ``tpe_args``, constant-liar handling of pending trials, conditional spaces."""

from __future__ import annotations

from typing import Any

import numpy as np

from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_choice, check_float, check_int
from tunelab.tuners._tpe import _core
from tunelab.tuners._unit import CONSTANT, RowCache, UnitSpace, rows_of

#: NNI's current vocabulary plus the legacy one (min/max/mean) of NNI's old HyperoptTuner.
LIAR_TYPES = ("best", "worst", "mean", "min", "max", "none")


class TPETuner(Tuner):
    """Tree-structured Parzen estimator (Bergstra et al. 2011), as NNI and Hyperopt define its arguments.

    ``gamma``: the good set holds ``ceil(gamma * sqrt(n))`` observations (at most
    ``linear_forgetting``), Hyperopt's and NNI's rule. ``multivariate`` (the default, as in
    Optuna since version 4) models the parameters of each level of a conditional space
    jointly, so it sees how they interact; ``False`` models them one at a time as NNI and
    Hyperopt do. The defaults differ from NNI's (``n_startup_jobs=20``, ``gamma=0.25``,
    univariate): ours did better in the benchmark (``benchmarks/tuners``); pass NNI's
    values to reproduce NNI.

    Pending trials count as observed with a made-up loss (the constant liar), so parallel
    suggestions do not pile onto one point. ``constant_liar_type``: ``best``, ``worst`` or
    ``mean`` of the losses seen so far (NNI's spelling), or the legacy ``min``/``max``,
    which mean the minimum/maximum *reported value* as in NNI's old HyperoptTuner:
    ``min`` is ``best`` when minimizing and ``worst`` when maximizing; ``none`` disables it.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        constant_liar_type: str | None = "worst",
        n_startup_jobs: int = 10,
        n_ei_candidates: int = 24,
        linear_forgetting: int = 25,
        prior_weight: float = 1.0,
        gamma: float = 1.0,
        multivariate: bool = True,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        liar = check_choice(
            "tpe", "constant_liar_type", "none" if constant_liar_type is None else constant_liar_type, LIAR_TYPES
        )
        self.constant_liar_type = liar
        self.n_startup_jobs = check_int("tpe", "n_startup_jobs", n_startup_jobs, 0)
        self.n_ei_candidates = check_int("tpe", "n_ei_candidates", n_ei_candidates, 1)
        self.linear_forgetting = check_int("tpe", "linear_forgetting", linear_forgetting, 0)
        self.prior_weight = check_float("tpe", "prior_weight", prior_weight, 0.0, open_low=True)
        self.gamma = check_float("tpe", "gamma", gamma, 0.0, open_low=True)
        self.multivariate = bool(multivariate)
        self._unit = UnitSpace(space)
        self._cache = RowCache(self._unit)
        self._groups = _groups(self._unit, self.multivariate)

    @property
    def _liar(self) -> str:
        """The liar in best/worst/mean terms, legacy spellings resolved against the mode."""
        if self.constant_liar_type == "min":
            return "best" if self.mode == "min" else "worst"
        if self.constant_liar_type == "max":
            return "worst" if self.mode == "min" else "best"
        return self.constant_liar_type

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        if len(self.history) + len(self.pending) < self.n_startup_jobs or not self._groups:
            return self.space.sample(rng)
        rows, losses = self._cache.arrays(self.history)
        lie = constant_lie(losses, self._liar)
        if self.pending and lie is not None:
            pending = rows_of(self._unit, list(self.pending.values()))
            rows = np.vstack([rows, pending])
            losses = np.append(losses, np.full(len(pending), lie))
        row = _core.propose(
            rows,
            losses,
            self._unit.kinds,
            self._unit.n_options,
            self._groups,
            rng,
            self._unit.snap,
            gamma=self.gamma,
            n_candidates=self.n_ei_candidates,
            linear_forgetting=self.linear_forgetting,
            prior_weight=self.prior_weight,
        )
        return self._unit.decode(row)


def constant_lie(losses: np.ndarray, liar: str) -> float | None:
    """The loss pending trials pretend to have, or None (no liar, or nothing finite seen yet)."""
    finite = losses[np.isfinite(losses)]
    if liar == "none" or finite.size == 0:
        return None
    if liar == "best":
        return float(finite.min())
    if liar == "worst":
        return float(finite.max())
    return float(finite.mean())


def _groups(unit: UnitSpace, multivariate: bool) -> list[np.ndarray]:
    """Columns modelled together: each leaf alone, or the leaves sharing a condition."""
    searchable = [j for j in range(unit.dim) if unit.kinds[j] != CONSTANT]
    if not multivariate:
        return [np.array([j]) for j in searchable]
    by_condition: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for j in searchable:
        by_condition.setdefault(unit.leaves[j].condition, []).append(j)
    return [np.array(cols) for cols in by_condition.values()]
