"""Hyperopt's TPE behind tunelab's ask/tell (the ``hyperopt`` extra), as NNI's old HyperoptTuner used it.

Hyperopt labels are tunelab's flat keys (``choice/option/param`` for nested ones), so a
suggestion's ``vals`` decode straight into a configuration and every finished trial,
whoever proposed it, is handed back to Hyperopt as a finished trial document.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tunelab.space import KEY_SEPARATOR, Branch, Choice, Fixed, Float, Int, LogitFloat, Normal, SearchSpace
from tunelab.tuners._base import Observation, Tuner
from tunelab.tuners._checks import check_int


class HyperoptTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        n_startup_jobs: int = 20,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        import hyperopt

        self.n_startup_jobs = check_int("hyperopt", "n_startup_jobs", n_startup_jobs, 0)
        self._hp = hyperopt
        self._domain = hyperopt.base.Domain(lambda _: 0.0, _expression(space, ""))
        self._trials = hyperopt.Trials()
        self._tid = 0

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        from functools import partial

        suggest = partial(self._hp.tpe.suggest, n_startup_jobs=self.n_startup_jobs)
        docs = suggest([10**9 + self.n_suggested], self._domain, self._trials, int(rng.integers(2**31 - 1)))
        vals = {k: v[0] for k, v in docs[0]["misc"]["vals"].items() if len(v)}
        return _decode(self.space, vals, "")

    def _after_observe(self, observation: Observation) -> None:
        vals: dict[str, list[Any]] = {key: [] for key in _labels(self.space)}
        for key, raw in _encode(self.space, observation.params, "").items():
            vals[key] = [raw]
        tid = self._tid
        self._tid += 1
        loss = observation.loss
        if loss is None or math.isnan(loss) or loss == math.inf:
            result = {"status": self._hp.STATUS_FAIL}
        else:
            result = {"status": self._hp.STATUS_OK, "loss": max(loss, -1e300)}
        misc = {
            "tid": tid,
            "cmd": self._domain.cmd,
            "workdir": None,
            "idxs": {k: [tid] if v else [] for k, v in vals.items()},
            "vals": vals,
        }
        docs = self._trials.new_trial_docs([tid], [None], [result], [misc])
        docs[0]["state"] = self._hp.JOB_STATE_DONE
        self._trials.insert_trial_docs(docs)
        self._trials.refresh()


def _expression(space: SearchSpace, prefix: str) -> dict[str, Any]:
    from hyperopt import hp

    expr: dict[str, Any] = {}
    for name, d in space.items():
        key = prefix + name
        if isinstance(d, Fixed):
            continue
        if isinstance(d, Float):
            lo, hi = d.internal_low, d.internal_high
            if d.q is None:
                expr[name] = hp.loguniform(key, lo, hi) if d.log else hp.uniform(key, lo, hi)
            else:
                expr[name] = hp.qloguniform(key, lo, hi, d.q) if d.log else hp.quniform(key, lo, hi, d.q)
        elif isinstance(d, Int):
            if d.log:
                expr[name] = hp.qloguniform(key, d.internal_low, d.internal_high, 1)
            else:
                expr[name] = hp.randint(key, (d.high - d.low) // d.step + 1)
        elif isinstance(d, Normal):
            if d.q is None:
                expr[name] = hp.lognormal(key, d.mu, d.sigma) if d.log else hp.normal(key, d.mu, d.sigma)
            else:
                expr[name] = (hp.qlognormal if d.log else hp.qnormal)(key, d.mu, d.sigma, d.q)
        elif isinstance(d, Choice):
            options = [
                _expression(o.space, f"{key}{KEY_SEPARATOR}{o.name}{KEY_SEPARATOR}") if isinstance(o, Branch) else i
                for i, o in enumerate(d.options)
            ]
            expr[name] = hp.choice(key, options)
    return expr


def _labels(space: SearchSpace) -> list[str]:
    return [leaf.key for leaf in space.leaves if not isinstance(leaf.domain, Fixed)]


def _decode(space: SearchSpace, vals: dict[str, Any], prefix: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, d in space.items():
        key = prefix + name
        if isinstance(d, Fixed):
            params[name] = d.value
        elif isinstance(d, Choice):
            option = d.options[int(vals[key])]
            if isinstance(option, Branch):
                option = option.value(_decode(option.space, vals, f"{key}{KEY_SEPARATOR}{option.name}{KEY_SEPARATOR}"))
            params[name] = option
        elif isinstance(d, Int) and not d.log:
            params[name] = d.low + d.step * int(vals[key])
        elif isinstance(d, LogitFloat):  # drawn uniformly on the logit itself
            params[name] = d.from_internal(float(vals[key]))
        elif isinstance(d, (Float, Int)):
            value = min(max(float(vals[key]), d.low), d.high)
            params[name] = d.from_internal(d.to_internal(value))
        else:
            params[name] = d.from_internal(d.to_internal(float(vals[key])))
    return params


def _encode(space: SearchSpace, params: Any, prefix: str) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, d in space.items():
        key = prefix + name
        value = params[name]
        if isinstance(d, Fixed):
            continue
        if isinstance(d, Choice):
            index = d.index(value)
            raw[key] = index
            option = d.options[index]
            if isinstance(option, Branch):
                sub = {k: v for k, v in value.items() if k != "_name"}
                raw.update(_encode(option.space, sub, f"{key}{KEY_SEPARATOR}{option.name}{KEY_SEPARATOR}"))
        elif isinstance(d, Int) and not d.log:
            raw[key] = (int(value) - d.low) // d.step
        elif isinstance(d, LogitFloat):
            raw[key] = d.to_internal(value)
        else:
            raw[key] = float(value)
    return raw
