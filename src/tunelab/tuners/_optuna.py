"""Any Optuna sampler behind tunelab's ask/tell (the ``optuna`` extra).

Each suggestion is an Optuna trial asked from an in-memory study that minimizes the
loss; nested choices become conditional parameters named ``choice/option/param``.
Normal-prior parameters are searched over the prior's central 99.99% (Optuna has no
normal distribution); quantized and log-integer ones are searched continuously and
rounded by the domain, as Optuna does not allow those step combinations.
Trials tunelab did not ask for (enqueued, restored) are added to the study as finished.
Samplers keep their state in the study, so the adapter builds the sampler anew for each
suggestion, seeded from tunelab's generator (a ``seed`` in ``sampler_args`` wins).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from tunelab.space import KEY_SEPARATOR, Branch, Choice, Fixed, Float, Int, LogitFloat, Normal, SearchSpace
from tunelab.tuners._base import Observation, Tuner

_NORMAL_SPAN = 3.9  # standard deviations each side


class OptunaTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        sampler: str = "TPESampler",
        sampler_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        import optuna

        cls = getattr(optuna.samplers, sampler, None)
        if cls is None or not isinstance(cls, type):
            from tunelab.errors import TunerError

            raise TunerError(f"optuna: unknown sampler {sampler!r} (e.g. TPESampler, CmaEsSampler, GPSampler)")
        self.sampler = sampler
        self.sampler_args = dict(sampler_args or {})
        self._sampler_cls = cls
        self._optuna = optuna
        with _quiet():
            self._study = optuna.create_study(direction="minimize", sampler=cls(**self.sampler_args))
        self._asked: dict[int, Any] = {}  # tunelab trial id -> optuna trial
        self._unclaimed: Any = None

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        if self._unclaimed is not None:  # the base class rejected the last proposal as a duplicate
            self._study.tell(self._unclaimed, state=self._optuna.trial.TrialState.FAIL)
        # A fresh sampler seeded from tunelab's per-suggestion generator: the suggestion then
        # depends on the seed and the history only, in this process or after a resume.
        args = {"seed": int(rng.integers(2**31 - 1)), **self.sampler_args}
        self._study.sampler = self._sampler_cls(**args)
        trial = self._study.ask()
        self._unclaimed = trial
        return _suggest(trial, self.space, "")

    def suggest(self) -> tuple[int, dict[str, Any]]:
        queued = bool(self._queue)
        trial_id, params = super().suggest()
        if not queued and self._unclaimed is not None:
            self._asked[trial_id] = self._unclaimed
            self._unclaimed = None
        return trial_id, params

    def _after_observe(self, observation: Observation) -> None:
        trial = self._asked.pop(observation.trial_id, None)
        state = self._optuna.trial.TrialState
        loss = observation.loss
        if trial is not None:
            if loss is None or math.isinf(loss):
                self._study.tell(trial, state=state.FAIL)
            else:
                with _quiet():
                    self._study.tell(trial, loss)
            return
        params, dists = _flatten(self.space, observation.params, "")
        ok = loss is not None and math.isfinite(loss)
        self._study.add_trial(
            self._optuna.trial.create_trial(
                params=params,
                distributions=dists,
                value=loss if ok else None,
                state=state.COMPLETE if ok else state.FAIL,
            )
        )


@contextmanager
def _quiet() -> Iterator[None]:
    """Optuna's per-trial INFO lines, silenced for one call without changing the user's logging for good."""
    optuna_logger = logging.getLogger("optuna")
    level = optuna_logger.level
    optuna_logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        optuna_logger.setLevel(level)


def _distribution(domain: Any) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(domain, LogitFloat):  # Optuna has no logit scale: it searches the logit itself
        return FloatDistribution(domain.internal_low, domain.internal_high)
    if isinstance(domain, Float):
        if domain.q is not None and not domain.log and _divides(domain.high - domain.low, domain.q):
            return FloatDistribution(domain.low, domain.high, step=domain.q)
        return FloatDistribution(domain.low, domain.high, log=domain.log)
    if isinstance(domain, Int):
        if domain.log:
            return (
                IntDistribution(domain.low, domain.high, log=True)
                if domain.step == 1
                else FloatDistribution(domain.internal_low, domain.internal_high)
            )
        return IntDistribution(domain.low, domain.high, step=domain.step)
    if isinstance(domain, Normal):
        return FloatDistribution(domain.mu - _NORMAL_SPAN * domain.sigma, domain.mu + _NORMAL_SPAN * domain.sigma)
    return CategoricalDistribution(list(range(len(domain.options))))


def _divides(span: float, q: float) -> bool:
    return abs(span / q - round(span / q)) < 1e-9


def _to_value(domain: Any, raw: Any) -> Any:
    if isinstance(domain, Choice):
        return domain.options[int(raw)]
    if isinstance(domain, Int) and domain.log and domain.step != 1:
        return domain.from_internal(raw)
    if isinstance(domain, (Normal, LogitFloat)):
        return domain.from_internal(raw)
    return domain.from_internal(domain.to_internal(raw))


def _to_raw(domain: Any, value: Any) -> Any:
    if isinstance(domain, Choice):
        return domain.index(value)
    if isinstance(domain, (Normal, LogitFloat)) or (isinstance(domain, Int) and domain.log and domain.step != 1):
        dist = _distribution(domain)
        return min(max(domain.to_internal(value), dist.low), dist.high)
    return value


def _ask(trial: Any, key: str, dist: Any) -> Any:
    """One parameter through Optuna's public suggest API."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(key, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(key, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(key, dist.low, dist.high, step=dist.step, log=dist.log)


def _suggest(trial: Any, space: SearchSpace, prefix: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, domain in space.items():
        if isinstance(domain, Fixed):
            params[name] = domain.value
            continue
        key = prefix + name
        value = _to_value(domain, _ask(trial, key, _distribution(domain)))
        if isinstance(value, Branch):
            value = value.value(_suggest(trial, value.space, f"{key}{KEY_SEPARATOR}{value.name}{KEY_SEPARATOR}"))
        params[name] = value
    return params


def _flatten(space: SearchSpace, params: Any, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna's flat parameters and distributions of a configuration."""
    flat: dict[str, Any] = {}
    dists: dict[str, Any] = {}
    for name, domain in space.items():
        if isinstance(domain, Fixed):
            continue
        key = prefix + name
        flat[key], dists[key] = _to_raw(domain, params[name]), _distribution(domain)
        if isinstance(domain, Choice):
            option = domain.options[domain.index(params[name])]
            if isinstance(option, Branch):
                sub = {k: v for k, v in params[name].items() if k != "_name"}
                f, d = _flatten(option.space, sub, f"{key}{KEY_SEPARATOR}{option.name}{KEY_SEPARATOR}")
                flat.update(f)
                dists.update(d)
    return flat, dists
