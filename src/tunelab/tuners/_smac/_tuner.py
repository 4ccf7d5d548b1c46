"""The SMAC tuner: Sobol start, random forest on log-scaled costs, log-space EI, local and sorted random search."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import qmc

from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_choice, check_float, check_int
from tunelab.tuners._smac._acquisition import log_space_ei
from tunelab.tuners._smac._forest import Forest, _tree_class, log_scale
from tunelab.tuners._smac._search import Encoder, Neighbourhood, local_search, random_rows
from tunelab.tuners._unit import RowCache, UnitSpace, rows_of

LIAR_TYPES = ("best", "worst", "mean", "none")
SPLITTERS = ("random", "best")

#: How close (largest unit-cube coordinate difference) a suggestion may come to a pending one.
MIN_GAP = 0.02
#: Stands in for NaN (inactive) while start points are deduplicated.
_NAN_KEY = -7.0


class SMACTuner(Tuner):
    """Sequential model-based algorithm configuration, as SMAC3's hyperparameter-optimization facade runs it.

    * **Initial design**: ``n_initial_points`` scrambled Sobol points; by default SMAC3's
      rule, ``min(10 * dims, max_trials / 4)``, or ``min(10 * dims, 10)`` without a trial limit.
    * **Surrogate**: ``n_trees`` regression trees on bootstrap samples, a random
      ``ratio_features`` of the inputs considered at each split (0.5; SMAC3's HPO facade: 1),
      each split at a random threshold (the best of one random cut per input, SMAC3 2.4's
      ``splitter="random"``), grown until leaves hold ``min_samples_leaf`` points
      (SMAC3: 10 trees, split 2, leaf 1), fitted to log-scaled costs;
      the prediction is the mean over the trees and its uncertainty their variance. Inactive
      conditional parameters get an out-of-range input (SMAC3's imputation), choices their
      index plus one-hot inputs. Failed trials count as the worst cost seen.
    * **Acquisition**: EI of the cost under the forest's log-normal prediction (SMAC3's
      ``EI(log=True)``, ``xi=0``, the incumbent's value the lowest cost predicted for an observed
      configuration), maximized by local search (SMAC3's ``LocalAndSortedRandomSearch``) from
      the ``n_local_starts`` observed configurations of highest EI, as many of lowest predicted
      cost and the ``n_local_starts`` best of ``n_candidates`` random ones. The walks' end
      points, highest EI first, are the challengers, then the random ones by EI.
    * **Interleaving** (SMAC3's ``ChallengerList`` and ``ConfigSelector``): a suggestion is a
      random configuration with probability ``random_fraction`` (SMAC3's
      ``ProbabilityRandomDesign(0.2)``), else the next challenger not tried or pending, and once
      none is left, random. The forest is fitted again after
      ``retrain_after`` suggestions: 1 by default, where SMAC3's HPO facade hands out 8 per fit
      (measured worse in sequential runs: docs/tuners.md).
    * **Pending trials** enter the forest with a made-up cost (``constant_liar_type``) and
      no suggestion comes within ``MIN_GAP`` of one; SMAC3 itself has no batch mode.

    NNI's ``SMACTuner`` arguments (``optimize_mode``, ``config_dedup``) are accepted;
    ``config_dedup`` changes nothing, since no tunelab tuner repeats a configuration.

    Not taken from SMAC3: its intensifier re-runs configurations on new seeds or
    instances; a tunelab trial is run once and never repeated. SMAC3 scores 10,000 random
    challengers; the default here is 5,000, to keep a suggestion within tens of milliseconds.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        n_initial_points: int | None = None,
        max_trials: int | None = None,
        n_trees: int = 10,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        ratio_features: float = 0.5,
        random_fraction: float = 0.2,
        n_candidates: int = 5000,
        n_local_starts: int = 10,
        max_local_steps: int = 30,
        constant_liar_type: str = "worst",
        config_dedup: bool = False,
        splitter: str = "random",
        retrain_after: int = 1,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        _tree_class()  # the sklearn extra, or a TunerError naming it
        self.max_trials = None if max_trials is None else check_int("smac", "max_trials", max_trials, 1)
        self.n_initial_points = (
            None if n_initial_points is None else check_int("smac", "n_initial_points", n_initial_points, 0)
        )
        self.n_trees = check_int("smac", "n_trees", n_trees, 1)
        self.min_samples_split = check_int("smac", "min_samples_split", min_samples_split, 2)
        self.min_samples_leaf = check_int("smac", "min_samples_leaf", min_samples_leaf, 1)
        self.ratio_features = check_float("smac", "ratio_features", ratio_features, 0.0, 1.0, open_low=True)
        self.random_fraction = check_float("smac", "random_fraction", random_fraction, 0.0, 1.0)
        self.n_candidates = check_int("smac", "n_candidates", n_candidates, 1)
        self.n_local_starts = check_int("smac", "n_local_starts", n_local_starts, 0)
        self.max_local_steps = check_int("smac", "max_local_steps", max_local_steps, 0)
        self.constant_liar_type = check_choice("smac", "constant_liar_type", constant_liar_type, LIAR_TYPES)
        #: NNI's SMACTuner argument, accepted as it is: a tunelab tuner never proposes a configuration twice.
        self.config_dedup = bool(config_dedup)
        self.splitter = check_choice("smac", "splitter", splitter, SPLITTERS)
        self.retrain_after = check_int("smac", "retrain_after", retrain_after, 1)
        #: The last fit's challengers not yet handed out (None: fit again at the next model-based draw).
        self._challengers: list[np.ndarray] | None = None
        self._since_fit = self.retrain_after
        self._unit = UnitSpace(space)
        self._cache = RowCache(self._unit)
        self._encode = Encoder(self._unit)
        self._neighbours = Neighbourhood(self._unit)
        #: Where the last proposal came from: "initial", "random" or "model" (for tests and logs).
        self.last_origin = ""

    @property
    def n_initial(self) -> int:
        """How many suggestions the initial design makes."""
        if self.n_initial_points is not None:
            return self.n_initial_points
        dims = max(1, len(self._unit.searchable))
        if self.max_trials is None:
            return min(10 * dims, 10)
        return max(1, min(10 * dims, int(0.25 * self.max_trials)))

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        rows, losses = self._cache.arrays(self.history)
        if len(self.history) + len(self.pending) < self.n_initial or self._encode.width == 0:
            return self._initial(rng)
        if not np.isfinite(losses).any():
            self.last_origin = "random"
            return self.space.sample(rng)
        if self._since_fit >= self.retrain_after:
            self._challengers, self._since_fit = None, 0
        self._since_fit += 1
        # SMAC3's ChallengerList and ConfigSelector: a suggestion is a random configuration with
        # probability random_fraction, else the next challenger not tried or pending; once the
        # list runs dry, random configurations until the next fit. (SMAC3 draws the random chance
        # again for each challenger it passes over, which on a discrete space, where most are
        # tried, makes nearly every suggestion random.)
        pending = rows_of(self._unit, list(self.pending.values()))
        if rng.random() >= self.random_fraction:
            if self._challengers is None:  # fitted only when a challenger is wanted
                self._challengers = self._challenger_list(rows, losses, rng)
            while self._challengers:
                row = self._challengers.pop(0)
                params = self._unit.decode(row)
                if not self._is_seen(params) and not (len(pending) and _near(row[None, :], pending)[0]):
                    self.last_origin = "model"
                    return params
        self.last_origin = "random"
        return self.space.sample(rng)

    def _challenger_list(self, rows: np.ndarray, losses: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """Fit the forest to the history (and the pending trials' made-up costs); the local search's end
        points, highest EI first."""
        y = log_scale(_impute(losses))
        x = self._encode(rows)
        pending = rows_of(self._unit, list(self.pending.values()))
        lie = _lie(y, self.constant_liar_type)
        if len(pending) and lie is not None:
            x = np.vstack([x, self._encode(pending)])
            y = np.append(y, np.full(len(pending), lie))
        forest = Forest.fit(
            x,
            y,
            rng,
            n_trees=self.n_trees,
            min_samples_split=self.min_samples_split,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.ratio_features,
            splitter=self.splitter,
        )
        # SMAC3's incumbent value: the lowest predicted (not observed) cost among the observed configurations
        eta = float(forest.predict(x[: len(rows)])[0].min())
        return self._maximize(forest, eta, rows, rng)

    def _initial(self, rng: np.random.Generator) -> dict[str, Any]:
        self.last_origin = "initial"
        index = self.n_suggested
        dim = self._unit.dim
        if index >= self.n_initial or dim == 0:
            return self.space.sample(rng)
        m = max(1, int(np.ceil(np.log2(max(self.n_initial, 2)))))
        sobol = qmc.Sobol(dim, scramble=True, seed=self._entropy % 2**32).random_base2(m)
        return self._unit.decode(self._unit.snap(sobol[index]))

    def _maximize(self, forest: Forest, eta: float, rows: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """SMAC3's ``LocalAndSortedRandomSearch``: local search from the observed configurations of highest EI
        and of lowest predicted cost and from the random ones of highest EI; its end points by EI, then mean,
        and then the random configurations by EI."""
        encode = self._encode

        def score(candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean, var = forest.predict(encode(candidates))
            return log_space_ei(mean, var, eta), mean

        randoms = random_rows(self._unit, rng, self.n_candidates)
        r_ei, r_mean = score(randoms)
        k = self.n_local_starts
        if k == 0:  # the sorted random search alone
            return list(randoms[np.lexsort((r_mean, -r_ei))])
        o_ei, o_mean = score(rows)
        tie = rng.random(len(rows))
        starts = np.vstack(
            [
                rows[np.lexsort((tie, o_mean, -o_ei))[:k]],  # highest EI first
                rows[np.lexsort((tie, o_mean))[:k]],  # lowest predicted cost first
                randoms[np.lexsort((r_mean, -r_ei))[:k]],
            ]
        )
        starts = np.unique(np.nan_to_num(starts, nan=_NAN_KEY), axis=0)
        starts[starts == _NAN_KEY] = np.nan
        walked, ei, mean = local_search(starts, score, self._neighbours, rng, max_steps=self.max_local_steps)
        # Then the sorted random search's own list: on a discrete space the walks often all end at
        # tried configurations, and the forest should still choose among the untried ones.
        return list(walked[np.lexsort((mean, -ei))]) + list(randoms[np.lexsort((r_mean, -r_ei))])


def _impute(losses: np.ndarray) -> np.ndarray:
    """Costs for the forest: failures and +inf as the worst finite cost, -inf as the best."""
    finite = losses[np.isfinite(losses)]
    costs = np.where(np.isnan(losses) | (losses == np.inf), finite.max(), losses)
    return np.where(costs == -np.inf, finite.min(), costs)


def _lie(y: np.ndarray, liar: str) -> float | None:
    if liar == "none":
        return None
    if liar == "best":
        return float(y.min())
    if liar == "worst":
        return float(y.max())
    return float(y.mean())


def _near(rows: np.ndarray, pending: np.ndarray) -> np.ndarray:
    diff = np.abs(np.nan_to_num(rows, nan=-1.0)[:, None, :] - np.nan_to_num(pending, nan=-1.0)[None, :, :])
    return np.max(diff, axis=2).min(axis=1) < MIN_GAP
