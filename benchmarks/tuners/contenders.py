"""The tuners in the race, behind one batch ask/tell interface.

tunelab's own tuners and the Optuna and Hyperopt adapters go through
:func:`tunelab.create_tuner`; scikit-optimize gets a small adapter here (benchmark only).
A contender whose package is missing is reported as skipped, not silently dropped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelab.space import Choice, Float, Int, Normal, parse_search_space
from tunelab.tuners import Tuner, create_tuner


class Driver:
    """Ask for ``q`` configurations at once (they stay pending together), then tell their losses."""

    def ask(self, q: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def tell(self, results: list[tuple[dict[str, Any], float]]) -> None:
        raise NotImplementedError


class TunelabDriver(Driver):
    def __init__(self, tuner: Tuner) -> None:
        self.tuner = tuner
        self._ids: list[int] = []

    def ask(self, q: int) -> list[dict[str, Any]]:
        batch = self.tuner.suggest_batch(q)
        self._ids.extend(trial_id for trial_id, _ in batch.trials)
        return batch.params

    def tell(self, results: list[tuple[dict[str, Any], float]]) -> None:
        for trial_id, (_, loss) in zip(self._ids, results, strict=True):
            self.tuner.observe(trial_id, loss)
        self._ids = []

    def restore(self, history: list[tuple[dict[str, Any], float]]) -> None:
        for i, (params, loss) in enumerate(history):
            self.tuner.restore(i, params, loss)


class SkoptDriver(Driver):
    """scikit-optimize's GP (``gp_minimize``'s defaults, acquisition optimized by sampling); flat spaces only."""

    def __init__(self, space: dict[str, Any], seed: int) -> None:
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        parsed = parse_search_space(space)
        dims = []
        for name, d in parsed.items():
            if isinstance(d, Choice):
                if d.is_nested:
                    raise ValueError("scikit-optimize has no conditional spaces")
                dims.append(Categorical(list(range(len(d.options))), name=name))
            elif isinstance(d, Int) and not d.log:
                dims.append(Integer(d.low, d.high, name=name))
            elif isinstance(d, (Float, Int)):
                dims.append(Real(d.internal_low, d.internal_high, name=name))
            elif isinstance(d, Normal):
                dims.append(Real(d.mu - 4 * d.sigma, d.mu + 4 * d.sigma, name=name))
        self._space = parsed
        self._opt = Optimizer(
            dims, base_estimator="GP", n_initial_points=10, acq_optimizer="sampling", random_state=seed
        )

    def _decode(self, x: list[Any]) -> dict[str, Any]:
        params = {}
        for (name, d), v in zip(self._space.items(), x, strict=True):
            if isinstance(d, Choice):
                params[name] = d.options[int(v)]
            elif isinstance(d, Int) and not d.log:
                params[name] = int(v)
            else:
                params[name] = d.from_internal(float(v))
        return params

    def _encode(self, params: dict[str, Any]) -> list[Any]:
        return [
            d.index(params[n])
            if isinstance(d, Choice)
            else int(params[n])
            if isinstance(d, Int) and not d.log
            else d.to_internal(params[n])
            for n, d in self._space.items()
        ]

    def ask(self, q: int) -> list[dict[str, Any]]:
        xs = self._opt.ask(n_points=q) if q > 1 else [self._opt.ask()]
        return [self._decode(x) for x in xs]

    def tell(self, results: list[tuple[dict[str, Any], float]]) -> None:
        self._opt.tell([self._encode(p) for p, _ in results], [float(v) for _, v in results])

    def restore(self, history: list[tuple[dict[str, Any], float]]) -> None:
        self.tell(history)


class SMAC3Driver(Driver):
    """SMAC3's own ``HyperparameterOptimizationFacade`` through its ask/tell interface (benchmark only).

    Each leaf of the space becomes one ConfigSpace hyperparameter on tunelab's internal scale
    (the logarithm for log parameters, which SMAC3's model and neighbourhoods see as its own
    log scale), integers as integers, choices as categoricals, nested choices as conditions on
    their parent. ``deterministic=True``: the objectives are, so the intensifier never asks
    a configuration again on a new seed. SMAC3 clashes with nothing here but is run from its
    own virtual environment (see docs/tuners.md).
    """

    def __init__(self, space: dict[str, Any], seed: int, max_trials: int) -> None:
        import tempfile

        from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Integer
        from ConfigSpace import Float as CSFloat
        from smac import HyperparameterOptimizationFacade, Scenario

        self._space = parse_search_space(space)
        self._cs = ConfigurationSpace(seed=seed)
        self._names: dict[str, str] = {}
        hps: dict[str, Any] = {}
        for i, leaf in enumerate(self._space.leaves):
            d, name = leaf.domain, f"h{i}"
            if isinstance(d, Choice):
                hp: Any = Categorical(name, list(range(len(d.options))))
            elif isinstance(d, Int) and not d.log and d.step == 1:
                hp = Integer(name, (d.low, d.high))
            elif isinstance(d, (Float, Int)):
                hp = CSFloat(name, (d.internal_low, d.internal_high))
            else:
                raise ValueError(f"no SMAC3 hyperparameter for {type(d).__name__}")
            self._names[leaf.key] = name
            hps[leaf.key] = hp
            self._cs.add(hp)
        for leaf in self._space.leaves:
            if leaf.condition:
                parent, option = leaf.condition[-1]
                self._cs.add(EqualsCondition(hps[leaf.key], hps[parent], option))
        self._scenario = Scenario(
            self._cs,
            deterministic=True,
            n_trials=max_trials,
            seed=seed,
            output_directory=Path(tempfile.mkdtemp(prefix="smac3-bench-")),
        )
        self._facade = HyperparameterOptimizationFacade
        self._built: Any = None
        self._infos: list[Any] = []

    @property
    def _smac(self) -> Any:
        """The facade, built at the first ask or tell; after a restore its initial design is one point,
        so that the suggestion timing measures SMAC3's model, not a queued Sobol design."""
        if self._built is None:
            n_configs = 1 if self._restoring else None
            design = self._facade.get_initial_design(self._scenario, n_configs=n_configs)
            self._built = self._facade(
                self._scenario,
                lambda config, seed=0: 0.0,
                initial_design=design,
                overwrite=True,
                logging_level=50,
            )
        return self._built

    _restoring = False

    def _decode(self, config: Any) -> dict[str, Any]:
        values = dict(config)
        flat = {key: float(values[name]) for key, name in self._names.items() if name in values}
        return self._space.decode(flat)

    def ask(self, q: int) -> list[dict[str, Any]]:
        self._infos = [self._smac.ask() for _ in range(q)]
        return [self._decode(info.config) for info in self._infos]

    def tell(self, results: list[tuple[dict[str, Any], float]]) -> None:
        from smac.runhistory.dataclasses import TrialValue

        for info, (_, loss) in zip(self._infos, results, strict=True):
            self._smac.tell(info, TrialValue(cost=float(loss)))
        self._infos = []

    def restore(self, history: list[tuple[dict[str, Any], float]]) -> None:
        from ConfigSpace import Configuration, UniformFloatHyperparameter
        from smac.runhistory.dataclasses import TrialInfo, TrialValue

        self._restoring = True
        for params, loss in history:
            flat = self._space.encode(params)
            values: dict[str, Any] = {}
            for key, x in flat.items():
                name = self._names[key]
                values[name] = float(x) if isinstance(self._cs[name], UniformFloatHyperparameter) else int(round(x))
            config = Configuration(self._cs, values=values)
            self._smac.tell(TrialInfo(config, seed=0), TrialValue(cost=float(loss)))


class HEBODriver(Driver):
    """HEBO 0.3.6 at its defaults (``HEBO(space, scramble_seed=seed)``); flat spaces only (benchmark only).

    Each leaf becomes one HEBO parameter on tunelab's internal scale (``num`` between the
    internal bounds, so log and logit parameters are searched on their own scale), integers
    as ``int``, choices as ``cat`` over option indices. HEBO needs numpy < 1.25: run the
    benchmark from the venv ``benchmarks/bayesmark/make_hebo_venv.sh`` builds.
    """

    def __init__(self, space: dict[str, Any], seed: int) -> None:
        import numpy as np
        import torch
        from hebo.design_space.design_space import DesignSpace
        from hebo.optimizers.hebo import HEBO

        self._space = parse_search_space(space)
        if self._space.is_conditional:
            raise ValueError("HEBO has no conditional spaces")
        params: list[dict[str, Any]] = []
        for i, leaf in enumerate(self._space.leaves):
            d, name = leaf.domain, f"h{i}"
            if isinstance(d, Choice):
                params.append({"name": name, "type": "cat", "categories": [str(k) for k in range(len(d.options))]})
            elif isinstance(d, Int) and not d.log and d.step == 1:
                params.append({"name": name, "type": "int", "lb": d.low, "ub": d.high})
            elif isinstance(d, (Float, Int)):
                params.append({"name": name, "type": "num", "lb": d.internal_low, "ub": d.internal_high})
            elif isinstance(d, Normal):
                params.append({"name": name, "type": "num", "lb": d.mu - 4 * d.sigma, "ub": d.mu + 4 * d.sigma})
        np.random.seed(seed)
        torch.manual_seed(seed)
        self._opt = HEBO(DesignSpace().parse(params), scramble_seed=seed)
        self._last: Any = None

    def _decode(self, row: dict[str, Any]) -> dict[str, Any]:
        return self._space.decode({leaf.key: float(row[f"h{i}"]) for i, leaf in enumerate(self._space.leaves)})

    def _frame(self, configs: list[dict[str, Any]]) -> Any:
        import pandas as pd

        rows = []
        for params in configs:
            flat = self._space.encode(params)
            leaves = enumerate(self._space.leaves)
            rows.append({f"h{i}": _hebo_value(leaf.domain, flat[leaf.key]) for i, leaf in leaves})
        return pd.DataFrame(rows)

    def ask(self, q: int) -> list[dict[str, Any]]:
        self._last = self._opt.suggest(n_suggestions=q)
        return [self._decode(row) for row in self._last.to_dict("records")]

    def tell(self, results: list[tuple[dict[str, Any], float]]) -> None:
        import numpy as np

        self._opt.observe(self._last, np.array([[float(v)] for _, v in results]))

    def restore(self, history: list[tuple[dict[str, Any], float]]) -> None:
        import numpy as np

        self._opt.observe(self._frame([p for p, _ in history]), np.array([[float(v)] for _, v in history]))


def _hebo_value(domain: Any, x: float) -> Any:
    if isinstance(domain, Choice):
        return str(int(x))
    if isinstance(domain, Int) and not domain.log and domain.step == 1:
        return int(x)
    return float(x)


@dataclass(frozen=True)
class Contender:
    name: str
    build: Callable[[dict[str, Any], int, int, int], Driver]  # (space, seed, max_trials, concurrency)
    needs: str | None = None
    ours: bool = False
    slow: bool = False  # minutes per run: scheduled first
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.needs is None or importlib.util.find_spec(self.needs) is not None


def _tunelab(name: str, **args: Any) -> Callable[[dict[str, Any], int, int, int], Driver]:
    def build(space: dict[str, Any], seed: int, max_trials: int, concurrency: int) -> Driver:
        extra: dict[str, Any] = {}
        if name == "auto":
            extra = {"max_trials": max_trials, "concurrency": concurrency}
        elif name == "smac":  # SMAC3 sizes its initial design from the scenario's n_trials
            extra = {"max_trials": max_trials}
        return TunelabDriver(create_tuner(name, space, seed=seed, **args, **extra))

    return build


def _optuna_gp_available() -> bool:
    return importlib.util.find_spec("optuna") is not None and importlib.util.find_spec("torch") is not None


CONTENDERS: list[Contender] = [
    Contender("tunelab-auto", _tunelab("auto"), ours=True),
    Contender("tunelab-tpe", _tunelab("tpe"), ours=True),
    Contender("tunelab-tpe-uv", _tunelab("tpe", multivariate=False), ours=True),
    Contender("tunelab-gp", _tunelab("gp"), ours=True),
    Contender("tunelab-cmaes", _tunelab("cmaes"), needs="cmaes", ours=True),
    Contender("tunelab-evolution", _tunelab("evolution"), ours=True),
    Contender("tunelab-anneal", _tunelab("anneal"), ours=True),
    Contender("tunelab-smac", _tunelab("smac"), needs="sklearn", ours=True),
    Contender("random", _tunelab("random")),
    Contender("optuna-tpe", _tunelab("optuna"), needs="optuna"),
    Contender("optuna-tpe-mv", _tunelab("optuna", sampler_args={"multivariate": True, "group": True}), needs="optuna"),
    Contender("optuna-gp", _tunelab("optuna", sampler="GPSampler"), needs="torch", slow=True),
    Contender("hyperopt-tpe", _tunelab("hyperopt"), needs="hyperopt"),
    Contender("skopt-gp", lambda space, seed, m, c: SkoptDriver(space, seed), needs="skopt", slow=True),
    Contender("smac3", lambda space, seed, m, c: SMAC3Driver(space, seed, m), needs="smac", slow=True),
    Contender("hebo", lambda space, seed, m, c: HEBODriver(space, seed), needs="hebo", slow=True),
]
