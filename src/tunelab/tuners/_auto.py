"""``auto``, the default tuner: picks an algorithm from the space, the budget and the concurrency.

The rules follow the benchmark in ``benchmarks/tuners`` (see ``docs/tuners.md``):
a GP wins on small budgets over low-dimensional, mostly numeric spaces, conditional ones
included (inactive branches get fixed inputs, so they never blur the model); TPE is the
safe choice for choice-heavy, high-dimensional or long experiments, and scales to
thousands of trials at a few milliseconds per suggestion.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunelab.space import SearchSpace
from tunelab.tuners._base import Observation, Tuner
from tunelab.tuners._checks import check_int
from tunelab.tuners._unit import CATEGORICAL, NUMERIC, UnitSpace

logger = logging.getLogger("tunelab.tuners")

#: Above these, a GP costs more than it brings.
GP_MAX_TRIALS = 300
GP_MAX_DIMS = 20
GP_MAX_CONCURRENCY = 16


def choose(space: SearchSpace, max_trials: int | None, concurrency: int) -> tuple[str, dict[str, Any], str]:
    """``(tuner name, its arguments, why)`` for an experiment."""
    unit = UnitSpace(space)
    n_num = int(np.sum(unit.kinds == NUMERIC))
    n_cat = int(np.sum(unit.kinds == CATEGORICAL))
    dims = n_num + n_cat
    tpe: tuple[str, dict[str, Any]] = ("tpe", {})
    if dims == 0:
        return ("random", {}, "the search space has no parameter to model")
    if n_num == 0:
        return (*tpe, "every parameter is a choice, which TPE models natively")
    if n_cat > n_num:
        return (*tpe, f"{n_cat} of {dims} parameters are choices")
    if dims > GP_MAX_DIMS:
        return (*tpe, f"{dims} parameters are more than a GP handles well (> {GP_MAX_DIMS})")
    if max_trials is None or max_trials > GP_MAX_TRIALS:
        budget = "no trial limit" if max_trials is None else f"max_trials={max_trials} > {GP_MAX_TRIALS}"
        return (*tpe, f"{budget}: TPE stays fast on long histories")
    if concurrency > GP_MAX_CONCURRENCY:
        return (*tpe, f"concurrency={concurrency} > {GP_MAX_CONCURRENCY}: TPE suggests faster than trials finish")
    shape = "conditional, " if space.is_conditional else ""
    return ("gp", {}, f"{dims} {shape}mostly numeric parameters and a budget of {max_trials} trials suit a GP")


#: With several objectives, a GP (ParEGO) pays off up to this many trials; MOTPE beyond.
MOGP_MAX_TRIALS = 200


def choose_multi(
    space: SearchSpace, n_objectives: int, max_trials: int | None, concurrency: int
) -> tuple[str, dict[str, Any], str]:
    """``(tuner name, its arguments, why)`` for an experiment with several objectives."""
    unit = UnitSpace(space)
    n_num = int(np.sum(unit.kinds == NUMERIC))
    n_cat = int(np.sum(unit.kinds == CATEGORICAL))
    dims = n_num + n_cat
    if dims == 0:
        return ("random", {}, "the search space has no parameter to model")
    if n_objectives >= 4:
        return ("nsga3", {}, f"{n_objectives} objectives: NSGA-III's reference directions keep the front spread")
    if (
        max_trials is not None
        and max_trials <= MOGP_MAX_TRIALS
        and n_num >= n_cat
        and dims <= GP_MAX_DIMS
        and concurrency <= GP_MAX_CONCURRENCY
    ):
        return ("mogp", {}, f"{dims} mostly numeric parameters and a budget of {max_trials} trials suit a GP")
    return ("motpe", {}, f"{n_objectives} objectives over {dims} parameters: MOTPE stays fast on long histories")


class AutoTuner(Tuner):
    """Delegates every call to the tuner :func:`choose` (:func:`choose_multi` for several objectives) picks.

    ``.chosen`` and ``.reason`` say which and why.
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
        max_trials: int | None = None,
        concurrency: int = 1,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed, objectives=objectives)
        self.max_trials = None if max_trials is None else check_int("auto", "max_trials", max_trials, 1)
        self.concurrency = check_int("auto", "concurrency", concurrency, 1)
        from tunelab.tuners._registry import create_tuner

        if self.objectives is not None and len(self.objectives) > 1:
            name, args, reason = choose_multi(space, len(self.objectives), self.max_trials, self.concurrency)
            args = {**args, "objectives": dict(self.objectives)}
        else:
            name, args, reason = choose(space, self.max_trials, self.concurrency)
            if self.objectives is not None:
                mode = next(iter(self.objectives.values()))
        self.chosen: str = name
        self.reason: str = reason
        self.inner: Tuner = create_tuner(name, space, mode=None if "objectives" in args else mode, seed=seed, **args)
        logger.info("auto tuner picked %s: %s", name, reason)

    def suggest(self) -> tuple[int, dict[str, Any]]:
        return self.inner.suggest()

    def observe(self, trial_id: int, value: Any, *, violation: float = 0.0) -> None:
        self.inner.observe(trial_id, value, violation=violation)

    def enqueue(self, params: Mapping[str, Any]) -> None:
        self.inner.enqueue(params)

    def restore(
        self,
        trial_id: int,
        params: Mapping[str, Any],
        value: Any = None,
        *,
        pending: bool = False,
        violation: float = 0.0,
    ) -> None:
        self.inner.restore(trial_id, params, value, pending=pending, violation=violation)

    def forget(self, trial_id: int) -> None:
        self.inner.forget(trial_id)

    @property
    def history(self) -> tuple[Observation, ...]:
        return self.inner.history

    @property
    def pending(self) -> Mapping[int, Mapping[str, Any]]:
        return self.inner.pending

    @property
    def n_suggested(self) -> int:
        return self.inner.n_suggested

    def best(self) -> Observation | None:
        return self.inner.best()

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:  # never called: suggest is delegated
        return self.inner._propose(rng)
