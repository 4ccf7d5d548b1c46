"""BOHB: Hyperband whose fresh configurations come from a density model (Falkner et al. 2018).

NNI's BOHB, Orca's ``hb_bohb``, Auptimizer's ``bohb``. For each budget the scheduler keeps
the configurations that ran with it and their results. When the largest budget with
enough results (``min_points_in_model + 2``) exists, a fresh configuration is the best of
``num_samples`` candidates drawn from the good configurations' Parzen estimator (widened
by ``bandwidth_factor``), scored by ``l(x) / g(x)``; a ``random_fraction`` of them, and
all before a model exists, come from the experiment's tuner (random search by default).
The density model is the TPE tuner's joint Parzen estimator with one Scott's-rule
bandwidth for every kernel, as in BOHB's paper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from tunelab.schedulers._base import Outcome
from tunelab.schedulers._hyperband import HyperbandScheduler
from tunelab.space import SearchSpace, parse_search_space
from tunelab.tuners._checks import check_float, check_int
from tunelab.tuners._tpe._parzen import fit_parzen, log_pdf, sample
from tunelab.tuners._unit import UnitSpace


def propose_bohb(
    unit: UnitSpace,
    rows: np.ndarray,
    losses: np.ndarray,
    rng: np.random.Generator,
    *,
    top_n_percent: float,
    min_points: int,
    num_samples: int,
    bandwidth_factor: float,
    min_bandwidth: float,
) -> np.ndarray:
    """The unit row maximizing ``l(x) / g(x)`` among ``num_samples`` draws from the widened ``l``."""
    rows = np.where(np.isnan(rows), 0.5, rows)
    order = np.argsort(losses, kind="stable")
    n = len(losses)
    n_good = max(min_points, int(top_n_percent * n) // 100)
    n_bad = max(min_points, int((100 - top_n_percent) * n) // 100)
    good, bad = rows[order[:n_good]], rows[order[-n_bad:]]
    kinds, n_options = unit.kinds, unit.n_options
    l_model, g_model = (
        fit_parzen(part, np.ones(len(part)), kinds, n_options, prior_weight=1.0, bandwidth="scott")
        for part in (good, bad)
    )
    l_model = dataclasses.replace(l_model, sigmas=np.maximum(l_model.sigmas, min_bandwidth))
    wide = dataclasses.replace(l_model, sigmas=l_model.sigmas * bandwidth_factor)
    candidates = unit.snap(sample(wide, rng, num_samples))
    score = log_pdf(l_model, candidates) - log_pdf(g_model, candidates)
    return candidates[int(np.argmax(score))]


class BOHBScheduler(HyperbandScheduler):
    """Hyperband with a model-based proposer; NNI's BOHB arguments."""

    name = "bohb"

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any],
        *,
        mode: str = "min",
        seed: int | None = None,
        max_budget: int = 81,
        min_budget: int = 1,
        eta: float = 3,
        exec_mode: str = "parallelism",
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
    ) -> None:
        super().__init__(
            mode=mode, seed=seed, max_budget=max_budget, min_budget=min_budget, eta=eta, exec_mode=exec_mode
        )
        label = "scheduler 'bohb'"
        self.unit = UnitSpace(space if isinstance(space, SearchSpace) else parse_search_space(space))
        dim = len(self.unit.searchable)
        self.min_points_in_model = (
            dim + 1 if min_points_in_model is None else check_int(label, "min_points_in_model", min_points_in_model, 1)
        )
        self.top_n_percent = check_float(label, "top_n_percent", top_n_percent, 0.0, 100.0, open_low=True)
        self.num_samples = check_int(label, "num_samples", num_samples, 1)
        self.random_fraction = check_float(label, "random_fraction", random_fraction, 0.0, 1.0)
        self.bandwidth_factor = check_float(label, "bandwidth_factor", bandwidth_factor, 0.0, open_low=True)
        self.min_bandwidth = check_float(label, "min_bandwidth", min_bandwidth, 0.0)
        self.model_proposals = 0

    def on_space(self, space: SearchSpace, params: Mapping[int, Mapping[str, Any]]) -> None:
        super().on_space(space, params)
        if space != self.unit.space:
            self.unit = UnitSpace(space)

    def _observations(self) -> dict[int, tuple[list[Mapping[str, Any]], list[float]]]:
        by_budget: dict[int, tuple[list[Mapping[str, Any]], list[float]]] = {}
        for view in self.trials.values():
            if view.budget is None or view.outcome is None or view.outcome is Outcome.FAILED or view.final_loss is None:
                continue
            params, losses = by_budget.setdefault(view.budget, ([], []))
            params.append(view.params)
            losses.append(view.final_loss)
        return by_budget

    def _propose(self, budget: int) -> Mapping[str, Any] | None:
        # Seeded, the draws depend on the trial number only, so a resumed experiment proposes
        # what the uninterrupted one would have (the scheduler's state is its history).
        rng = self.rng if self.seed is None else np.random.default_rng([self.seed, len(self.trials)])
        if len(self.unit.searchable) == 0 or rng.random() < self.random_fraction:
            return None
        usable = [(b, obs) for b, obs in self._observations().items() if len(obs[1]) >= self.min_points_in_model + 2]
        if not usable:
            return None
        _, (configs, losses) = max(usable, key=lambda item: item[0])
        rows = np.vstack([self.unit.encode(c) for c in configs])
        row = propose_bohb(
            self.unit,
            rows,
            np.asarray(losses),
            rng,
            top_n_percent=self.top_n_percent,
            min_points=self.min_points_in_model,
            num_samples=self.num_samples,
            bandwidth_factor=self.bandwidth_factor,
            min_bandwidth=self.min_bandwidth,
        )
        self.model_proposals += 1
        return self.unit.decode(row)
