"""scikit-optimize's Bayesian optimization behind tunelab's ask/tell (Orca's and Ray's ``skopt``).

skopt searches tunelab's unit-cube view of the space (:class:`~tunelab.tuners._unit.UnitSpace`):
one ``Real(0, 1)`` per numeric leaf (log-scaled leaves on their log scale, normal priors
through their CDF) and one ``Categorical`` of option indices per choice, so nested
choices work too (an inactive leaf is told at the cube's centre and ignored when decoded).
Each suggestion builds a fresh ``skopt.Optimizer`` seeded from tunelab's generator and tells
it every finished trial, so a suggestion depends only on the seed and the history, here or
after a resume. Failed trials are told at the worst loss seen; pending ones at the best
(the constant liar ``cl_min`` skopt uses for parallel asks), so parallel trials spread out.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_int
from tunelab.tuners._unit import CATEGORICAL, CONSTANT, UnitSpace, choice_index

_ACQUISITIONS = ("gp_hedge", "EI", "PI", "LCB")
_ESTIMATORS = ("GP", "RF", "ET", "GBRT")


class SkoptTuner(Tuner):
    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        n_initial_points: int = 10,
        base_estimator: str = "GP",
        acq_func: str = "gp_hedge",
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        import skopt

        self.n_initial_points = check_int("skopt", "n_initial_points", n_initial_points, 1)
        if base_estimator not in _ESTIMATORS:
            raise ValueError(f"base_estimator must be one of {', '.join(_ESTIMATORS)}, but got {base_estimator!r}")
        if acq_func not in _ACQUISITIONS:
            raise ValueError(f"acq_func must be one of {', '.join(_ACQUISITIONS)}, but got {acq_func!r}")
        self.base_estimator, self.acq_func = base_estimator, acq_func
        self._skopt = skopt
        self._unit = UnitSpace(space)
        self._columns = [
            j
            for j in range(self._unit.dim)
            if self._unit.kinds[j] != CONSTANT
            and not (self._unit.kinds[j] == CATEGORICAL and self._unit.n_options[j] < 2)
        ]

    def _dimensions(self) -> list[Any]:
        from skopt.space import Categorical, Real

        dims: list[Any] = []
        for j in self._columns:
            if self._unit.kinds[j] == CATEGORICAL:
                dims.append(Categorical(list(range(int(self._unit.n_options[j]))), transform="onehot"))
            else:
                dims.append(Real(0.0, 1.0))
        return dims

    def _point(self, params: Any) -> list[Any]:
        """A configuration as an skopt point (inactive leaves at the centre)."""
        row = self._unit.encode(params)
        point: list[Any] = []
        for j in self._columns:
            u = 0.5 if np.isnan(row[j]) else float(row[j])
            if self._unit.kinds[j] == CATEGORICAL:
                point.append(int(choice_index(np.array([u]), int(self._unit.n_options[j]))[0]))
            else:
                point.append(min(max(u, 0.0), 1.0))
        return point

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        row = np.full(self._unit.dim, 0.5)
        if self._columns:
            point = self._ask(rng)
            for j, x in zip(self._columns, point, strict=True):
                n = int(self._unit.n_options[j])
                row[j] = (int(x) + 0.5) / n if self._unit.kinds[j] == CATEGORICAL else float(x)
        return self._unit.decode(self._unit.snap(row))

    def _ask(self, rng: np.random.Generator) -> list[Any]:
        finished = [(o.params, o.loss) for o in self._history]
        losses = [loss for _, loss in finished if loss is not None and np.isfinite(loss)]
        worst = max(losses) if losses else 0.0
        best = min(losses) if losses else 0.0
        points, values = [], []
        for params, loss in finished:
            points.append(self._point(params))
            values.append(float(loss) if loss is not None and np.isfinite(loss) else worst)
        for params in self._pending.values():
            points.append(self._point(params))
            values.append(best)
        optimizer = self._skopt.Optimizer(
            self._dimensions(),
            base_estimator=self.base_estimator,
            acq_func=self.acq_func,
            n_initial_points=self.n_initial_points,
            random_state=int(rng.integers(2**31 - 1)),
        )
        with warnings.catch_warnings():
            # skopt warns when it proposes a point it was told already; tunelab rejects duplicates itself.
            warnings.simplefilter("ignore", UserWarning)
            if points:
                optimizer.tell(points, values)
            return list(optimizer.ask())
