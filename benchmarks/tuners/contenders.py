"""The tuners in the race, behind one batch ask/tell interface.

tunelab's own tuners and the Optuna and Hyperopt adapters go through
:func:`tunelab.create_tuner`; scikit-optimize gets a small adapter here (benchmark only).
A contender whose package is missing is reported as skipped, not silently dropped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
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
        out = []
        for _ in range(q):
            trial_id, params = self.tuner.suggest()
            self._ids.append(trial_id)
            out.append(params)
        return out

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
        extra = {"max_trials": max_trials, "concurrency": concurrency} if name == "auto" else {}
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
    Contender("random", _tunelab("random")),
    Contender("optuna-tpe", _tunelab("optuna"), needs="optuna"),
    Contender("optuna-tpe-mv", _tunelab("optuna", sampler_args={"multivariate": True, "group": True}), needs="optuna"),
    Contender("optuna-gp", _tunelab("optuna", sampler="GPSampler"), needs="torch", slow=True),
    Contender("hyperopt-tpe", _tunelab("hyperopt"), needs="hyperopt"),
    Contender("skopt-gp", lambda space, seed, m, c: SkoptDriver(space, seed), needs="skopt", slow=True),
]
