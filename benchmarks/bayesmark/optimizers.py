"""Bayesmark optimizer wrappers (``bayesmark.abstract_optimizer.AbstractOptimizer``) for the contenders.

tunelab's ``auto``, ``tpe``, ``gp`` and ``smac`` and Optuna's samplers (through tunelab's
Optuna adapter, at Optuna's defaults) read Bayesmark's ``api_config`` as a tunelab space:
``int`` as ``integer`` (or ``logint``), ``real`` as ``uniform``, ``loguniform`` or
``logituniform`` after its ``space``, ``bool`` and ``cat`` as choices. HEBO gets its own
design space (``pow`` for log reals, ``num`` on the logit for logit reals). Bayesmark's
baselines are its own ``bayesmark.builtin_opt`` wrappers, unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from bayesmark.abstract_optimizer import AbstractOptimizer

from tunelab.space import parse_search_space
from tunelab.tuners import create_tuner


def tunelab_space(api_config: dict[str, Any]) -> dict[str, Any]:
    """Bayesmark's ``api_config`` in tunelab's NNI-style spelling."""
    space: dict[str, Any] = {}
    for name, conf in api_config.items():
        kind, scale = conf["type"], conf.get("space", "linear")
        if kind in ("bool", "cat"):
            values = [False, True] if kind == "bool" else list(conf["values"])
            space[name] = {"_type": "choice", "_value": values}
            continue
        low, high = conf["range"]
        if kind == "int":
            space[name] = {"_type": "logint" if scale == "log" else "integer", "_value": [int(low), int(high), 1]}
        elif scale == "log":
            space[name] = {"_type": "loguniform", "_value": [low, high]}
        elif scale == "logit":
            space[name] = {"_type": "logituniform", "_value": [low, high]}
        else:
            space[name] = {"_type": "uniform", "_value": [low, high]}
    return space


class TunelabOptimizer(AbstractOptimizer):
    """A tunelab tuner through ``suggest_batch``: a batch of ``n`` stays pending until Bayesmark observes it."""

    primary_import = "tunelab"
    tuner = "auto"
    tuner_args: dict[str, Any] = {}

    def __init__(self, api_config: dict[str, Any], seed: int = 0, n_calls: int = 16, n_suggestions: int = 8) -> None:
        super().__init__(api_config)
        args = dict(self.tuner_args)
        if self.tuner == "auto":
            args.update(max_trials=n_calls * n_suggestions, concurrency=n_suggestions)
        elif self.tuner == "smac":
            args.update(max_trials=n_calls * n_suggestions)
        self._tuner = create_tuner(self.tuner, parse_search_space(tunelab_space(api_config)), seed=seed, **args)
        self._pending: dict[str, int] = {}

    def suggest(self, n_suggestions: int = 1) -> list[dict[str, Any]]:
        batch = self._tuner.suggest_batch(n_suggestions)
        out = []
        for trial_id, params in batch.trials:
            self._pending[_key(params)] = trial_id
            out.append(params)
        while len(out) < n_suggestions:  # Bayesmark insists on n; only a finite space runs out
            out.append(self._tuner.space.sample(np.random.default_rng(len(out))))
        return out

    def observe(self, X: list[dict[str, Any]], y: list[float]) -> None:
        for params, value in zip(X, y, strict=True):
            trial_id = self._pending.pop(_key(params), None)
            if trial_id is not None:
                self._tuner.observe(trial_id, float(value) if np.isfinite(value) else None)


def _key(params: dict[str, Any]) -> str:
    return repr(sorted(params.items()))


def tunelab_optimizer(name: str, **tuner_args: Any) -> type[TunelabOptimizer]:
    return type(f"Tunelab_{name}", (TunelabOptimizer,), {"tuner": name, "tuner_args": tuner_args})


class HEBOOptimizer(AbstractOptimizer):
    """HEBO 0.3.6 at its defaults (``HEBO(space)``, ``rand_sample`` = its default), as in its Bayesmark entry."""

    primary_import = "hebo"

    def __init__(self, api_config: dict[str, Any], seed: int = 0, n_calls: int = 16, n_suggestions: int = 8) -> None:
        super().__init__(api_config)
        import torch
        from hebo.design_space.design_space import DesignSpace
        from hebo.optimizers.hebo import HEBO

        np.random.seed(seed)
        torch.manual_seed(seed)
        self._conf = api_config
        params = []
        for name, conf in api_config.items():
            kind, scale = conf["type"], conf.get("space", "linear")
            if kind in ("bool", "cat"):
                values = [False, True] if kind == "bool" else list(conf["values"])
                params.append({"name": name, "type": "cat", "categories": [str(v) for v in values]})
                continue
            low, high = conf["range"]
            if kind == "int":
                params.append({"name": name, "type": "int", "lb": int(low), "ub": int(high)})
            elif scale == "log":
                params.append({"name": name, "type": "pow", "lb": low, "ub": high})
            elif scale == "logit":
                params.append({"name": name, "type": "num", "lb": _logit(low), "ub": _logit(high)})
            else:
                params.append({"name": name, "type": "num", "lb": low, "ub": high})
        self._opt = HEBO(DesignSpace().parse(params), scramble_seed=seed)

    def _to_bayesmark(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, conf in self._conf.items():
            value = row[name]
            kind, scale = conf["type"], conf.get("space", "linear")
            if kind in ("bool", "cat"):
                values = [False, True] if kind == "bool" else list(conf["values"])
                out[name] = next(v for v in values if str(v) == str(value))
            elif kind == "int":
                out[name] = int(value)
            else:
                low, high = conf["range"]
                x = 1 / (1 + math.exp(-float(value))) if scale == "logit" else float(value)
                out[name] = min(max(x, low), high)
        return out

    def suggest(self, n_suggestions: int = 1) -> list[dict[str, Any]]:
        self._last = self._opt.suggest(n_suggestions=n_suggestions)
        return [self._to_bayesmark(row) for row in self._last.to_dict("records")]

    def observe(self, X: list[dict[str, Any]], y: list[float]) -> None:
        values = np.array([v if np.isfinite(v) else np.nanmax([u for u in y if np.isfinite(u)] or [1e10]) for v in y])
        self._opt.observe(self._last, values.reshape(-1, 1))


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def baselines() -> dict[str, tuple[type[AbstractOptimizer], dict[str, Any]]]:
    """Bayesmark's own wrappers at the settings of its ``builtin_opt/config.py`` (those whose package imports)."""
    import importlib

    from bayesmark.builtin_opt.config import CONFIG

    out = {}
    for name, (module, kwargs) in CONFIG.items():
        try:
            mod = importlib.import_module(f"bayesmark.builtin_opt.{module[:-3]}")
        except Exception:  # noqa: BLE001 - a peer whose package is broken is listed as missing
            continue
        out[name] = (mod.opt_wrapper, kwargs)
    return out
