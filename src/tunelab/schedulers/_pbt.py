"""Population-based training (Jaderberg et al. 2017; NNI's PBTTuner, Orca's ``pbt``).

A population of ``population_size`` configurations trains in generations of
``perturbation_interval`` resource units. When a whole generation has ended, members in
the bottom ``quantile_fraction`` *exploit* a member of the top fraction (they continue
from a copy of its checkpoint folder, with its hyperparameters) and *explore* (each
hyperparameter is resampled from the space with ``resample_probability``, otherwise
multiplied by one of ``perturbation_factors`` and kept inside its domain; a choice moves
to a neighbouring option). The others continue from their own checkpoint. Each
generation of each member is a new trial, as in NNI, with the budget
``(generation + 1) * perturbation_interval``; the run ends at ``max_t``.

:func:`perturb` and :func:`exploit_pairs` are the pure cores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunelab.schedulers._base import Action, NewTrial, Outcome, Reported, Resume, Scheduler, TrialView, Wait
from tunelab.space import Choice, Float, Int, Normal, SearchSpace, parse_search_space
from tunelab.tuners._checks import check_float, check_int


def perturb(
    space: SearchSpace,
    params: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    resample_probability: float,
    factors: Sequence[float],
    names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``params`` with each top-level hyperparameter (``names``, default all) resampled or perturbed in the space."""
    out = dict(params)
    fresh = space.sample(rng)
    for name in names if names is not None else list(space):
        domain = space[name]
        if name not in out:
            continue
        if rng.random() < resample_probability:
            out[name] = fresh[name]
        elif isinstance(domain, (Float, Int, Normal)):
            factor = float(factors[int(rng.integers(len(factors)))])
            value = float(out[name]) * factor
            if isinstance(domain, (Float, Int)):
                value = min(max(value, domain.low), domain.high)
            if getattr(domain, "log", False):
                value = max(value, 1e-300)
            out[name] = domain.from_internal(domain.to_internal(value))
        elif isinstance(domain, Choice) and not domain.is_nested and len(domain.options) > 1:
            index = domain.options.index(out[name]) if out[name] in domain.options else 0
            step = 1 if rng.random() < 0.5 else -1
            out[name] = domain.options[min(max(index + step, 0), len(domain.options) - 1)]
    return out


def exploit_pairs(losses: Mapping[int, float], fraction: float, rng: np.random.Generator) -> dict[int, int]:
    """``{loser: winner}``: each member of the bottom ``fraction`` gets a random member of the top ``fraction``.

    A member without a finite loss (failed, or it reported NaN) is never a winner: nothing is copied from it.
    """
    ranked = sorted(losses, key=lambda n: (losses[n], n))
    k = int(math.floor(len(ranked) * fraction))
    if k == 0 or len(ranked) < 2:
        return {}
    top, bottom = [n for n in ranked[:k] if math.isfinite(losses[n])], ranked[-k:]
    if not top:
        return {}
    return {loser: top[int(rng.integers(len(top)))] for loser in bottom}


class PBTScheduler(Scheduler):
    """Synchronous population-based training; see the module docstring."""

    name = "pbt"
    assigns_budgets = True

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any],
        *,
        mode: str = "min",
        seed: int | None = None,
        population_size: int = 8,
        perturbation_interval: int = 4,
        max_t: int = 40,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        hyperparam_mutations: Sequence[str] | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(mode=mode, seed=seed)
        label = "scheduler 'pbt'"
        self.space = space if isinstance(space, SearchSpace) else parse_search_space(space)
        self.population_size = check_int(label, "population_size", population_size, 2)
        self.max_t = check_int(label, "max_t", max_t, 1)
        # The interval follows the budget: with fewer epochs than the interval (Orca's default is one
        # epoch) every member trains max_t in one generation and nothing is perturbed, as in Ray's PBT.
        interval = check_int(label, "perturbation_interval", perturbation_interval, 1)
        self.perturbation_interval = min(interval, self.max_t)
        self.quantile_fraction = check_float(label, "quantile_fraction", quantile_fraction, 0.0, 0.5)
        self.resample_probability = check_float(label, "resample_probability", resample_probability, 0.0, 1.0)
        factors = list(perturbation_factors)
        if not factors or any(isinstance(f, bool) or not isinstance(f, (int, float)) or f <= 0 for f in factors):
            raise ValueError(f"perturbation_factors must be positive numbers, but got {perturbation_factors!r}")
        self.factors = factors
        names = None if hyperparam_mutations is None else list(hyperparam_mutations)
        for name in names or []:
            if name not in self.space:
                raise ValueError(f"hyperparam_mutations: {name!r} is not a parameter of the search space")
        self.names = names
        #: member index -> the trial number of its latest generation.
        self.latest: dict[int, int] = {}
        self._member_of: dict[int, int] = {}
        self.generation = 0
        self._to_start: list[NewTrial | Resume] = [NewTrial(budget=self.budget(0)) for _ in range(self.population_size)]
        self._issued: list[int] = []  # member index per issued action, in order
        self._next_member = 0
        self.exploits: list[tuple[int, int]] = []  # (new trial's parent, checkpoint source)

    def trials_for(self, configurations: int) -> int:
        """Every generation of each configuration is a trial (the population is the configurations)."""
        return configurations * math.ceil(self.max_t / self.perturbation_interval)

    def budget(self, generation: int) -> int:
        return min(self.max_t, (generation + 1) * self.perturbation_interval)

    def next_trial(self) -> Action:
        if self._to_start:
            action = self._to_start.pop(0)
            if isinstance(action, NewTrial):
                self._issued.append(self._next_member)
                self._next_member += 1
            else:
                self._issued.append(self._member_of[action.parent])
            return action
        if self.budget(self.generation) >= self.max_t and self._generation_done():
            return Wait(f"pbt: every member reached max_t={self.max_t}")
        if not self.latest and not self._issued and self._next_member > 0:
            return Wait("pbt: no member is left (each failed or reported no usable value, with none better to copy)")
        ended = sum(1 for n in self.latest.values() if not self.trials[n].running)
        return Wait(f"pbt: generation {self.generation} waits for its members ({ended} of {len(self.latest)} ended)")

    def on_space(self, space: SearchSpace, params: Mapping[int, Mapping[str, Any]]) -> None:
        super().on_space(space, params)
        self.space = space

    def on_start(self, number: int, params: Mapping[str, Any], action: NewTrial | Resume) -> None:
        super().on_start(number, params, action)
        member = self._issued.pop(0)
        self.latest[member] = number
        self._member_of[number] = member

    def on_unused(self, action: NewTrial | Resume) -> None:
        self._issued.pop(0)

    def restore(
        self,
        number: int,
        params: Mapping[str, Any],
        curve: Sequence[tuple[int, Reported]],
        outcome: Outcome | None,
        value: Reported,
        plan: NewTrial | Resume,
    ) -> None:
        """Put a recorded trial back in its member's lineage, then replay it.

        Restoring the last member of a generation runs the same exploit/explore step as
        before, with the same random draws when the scheduler has a seed, and queues the next
        generation; the trials of it that were started take their queued places, with the
        parameters and checkpoint source they were started with.
        """
        member = self._restored_member(plan)
        if member is not None:
            self.latest[member] = number
            self._member_of[number] = member
        super().restore(number, params, curve, outcome, value, plan)

    def _restored_member(self, plan: NewTrial | Resume) -> int | None:
        """The member whose queued action started ``plan`` (taken off the queue); None for a trial of no member."""
        if isinstance(plan, NewTrial):
            fresh = next((a for a in self._to_start if isinstance(a, NewTrial)), None)
            if fresh is None:
                return None
            self._to_start.remove(fresh)
            self._next_member += 1
            return self._next_member - 1
        queued = next((a for a in self._to_start if isinstance(a, Resume) and a.parent == plan.parent), None)
        if queued is None:
            return None
        self._to_start.remove(queued)
        # What ran wins (without a seed they may differ).
        if queued.checkpoint_from is not None and (queued.parent, queued.checkpoint_from) in self.exploits:
            self.exploits.remove((queued.parent, queued.checkpoint_from))
        if plan.checkpoint_from is not None and plan.checkpoint_from != plan.parent:
            self.exploits.append((plan.parent, plan.checkpoint_from))
        return self._member_of[plan.parent]

    def _generation_done(self) -> bool:
        return (
            not self._to_start
            and not self._issued
            and bool(self.latest)
            and all(not self.trials[n].running for n in self.latest.values())
        )

    def _ended(self, view: TrialView) -> None:
        if self.budget(self.generation) >= self.max_t or not self._generation_done():
            return
        losses = {}
        for number in self.latest.values():
            loss = self.trials[number].final_loss
            losses[number] = math.inf if loss is None else loss
        pairs = exploit_pairs(losses, self.quantile_fraction, self.rng)
        self.generation += 1
        budget = self.budget(self.generation)
        for member in sorted(self.latest):
            number = self.latest[member]
            if not math.isfinite(losses[number]) and number not in pairs:
                del self.latest[member]  # a failed member without a better one to copy drops out
                continue
            params: Mapping[str, Any]
            if number in pairs:
                source = pairs[number]
                params = perturb(
                    self.space,
                    self.trials[source].params,
                    self.rng,
                    resample_probability=self.resample_probability,
                    factors=self.factors,
                    names=self.names,
                )
                note = f"exploits trial {source} (copies its checkpoint) and explores new hyperparameters"
                self.exploits.append((number, source))
            else:
                source, params, note = number, self.trials[number].params, "continues from its own checkpoint"
            self._to_start.append(
                Resume(number, params, budget, checkpoint_from=source, note=f"pbt generation {self.generation}: {note}")
            )

    def describe(self) -> str:
        return (
            f"pbt (population {self.population_size}, interval {self.perturbation_interval}, max_t {self.max_t}, "
            f"quantile {self.quantile_fraction:g})"
        )
