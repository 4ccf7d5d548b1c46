"""The GP tuner: Sobol start, Matern-5/2 GP on warped outputs, log-EI, kriging believer for pending trials."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc, yeojohnson
from threadpoolctl import ThreadpoolController

from tunelab.space import SearchSpace
from tunelab.tuners._base import Tuner
from tunelab.tuners._checks import check_int
from tunelab.tuners._gp._acquisition import log_ei, log_ei_grad
from tunelab.tuners._gp._features import Features
from tunelab.tuners._gp._model import Posterior, default_theta, fit_theta
from tunelab.tuners._unit import CATEGORICAL, NUMERIC, RowCache, UnitSpace, rows_of


class GPTuner(Tuner):
    """Gaussian-process Bayesian optimization.

    The first ``n_initial_points`` suggestions come from a scrambled Sobol sequence. Then
    a Matern-5/2 ARD GP is fitted to the losses (failed or non-finite ones replaced by the
    worst finite loss, then Yeo-Johnson warped and standardized) and the next point
    maximizes log-EI: ``n_candidates`` random and local candidates are scored, the best
    few refined by L-BFGS-B over the numeric inputs with choices held fixed, and the result
    snapped onto legal values. Pending trials are conditioned on at the GP's mean
    (kriging believer), which flattens EI around them.

    Cost: hyperparameters are fitted on at most ``max_fit_points`` observations (the best
    quarter and an even spread of the rest) and refitted every few trials once the history
    is long; the posterior uses at most ``max_points`` observations.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        n_initial_points: int = 10,
        n_candidates: int = 1000,
        n_restarts: int = 5,
        max_points: int = 300,
        max_fit_points: int = 120,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        self.n_initial_points = check_int("gp", "n_initial_points", n_initial_points, 1)
        self.n_candidates = check_int("gp", "n_candidates", n_candidates, 1)
        self.n_restarts = check_int("gp", "n_restarts", n_restarts, 0)
        self.max_points = check_int("gp", "max_points", max_points, 10)
        self.max_fit_points = check_int("gp", "max_fit_points", max_fit_points, 10)
        self._unit = UnitSpace(space)
        self._cache = RowCache(self._unit)
        self._features = Features(self._unit)
        self._gls = len(self._features.categorical) == 0
        self._theta: np.ndarray | None = None
        self._theta_at = -1
        self._exploring: set[bytes] = set()

    # ---------------------------------------------------------------- for subclasses
    def _training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The history's rows in the unit cube and the one loss per row the GP is fitted to (NaN: failed)."""
        return self._cache.arrays(self.history)

    def _new_target(self) -> None:
        """The losses mean something new from now on (another scalarisation): the next fit starts afresh."""
        self._theta = None

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        # One BLAS thread: the GP's matrices (at most max_points rows) gain nothing from more,
        # and on a busy machine spinning BLAS threads made a suggestion at 300 trials over 10
        # parameters take 2.9 s of wall time instead of 0.23 s (benchmarks/results/gp-bounds.md).
        with _blas().limit(limits=1, user_api="blas"):
            return self._propose_limited(rng)

    def _propose_limited(self, rng: np.random.Generator) -> dict[str, Any]:
        rows, losses = self._training_data()
        ok = ~np.isnan(losses)
        if ok.sum() < 2 or len(self.history) + len(self.pending) < self.n_initial_points or self._features.width == 0:
            return self._initial(rng)
        y = warp(losses)
        keep = _subsample(y, self.max_points, rng)
        x = self._features(rows[keep])
        y = y[keep]
        theta = self._update_theta(x, y, rng)
        # Two prior means take turns on numeric spaces: the likelihood's (GLS), which on plateau
        # data predicts the plateau where nothing was tried, so unexplored corners stop looking
        # promising; and the sample mean, optimistic about far-off regions. With choices, the
        # sample mean only: a pessimistic prior keeps a GP from trying the other options.
        prior = None if self._gls and self.n_suggested % 2 == 0 else float(np.mean(y))
        post = Posterior.fit(theta, x, y, prior)
        pending_rows = rows_of(self._unit, list(self.pending.values()))
        if self.pending:
            believed = self._features(pending_rows)
            mean, _ = post.predict(believed)
            x, y = np.vstack([x, believed]), np.append(y, mean)
            post = Posterior.fit(theta, x, y, post.mean)
        best = float(np.min(y[: len(keep)]))
        top = rows[keep][np.argsort(y[: len(keep)])[:5]]
        tried = _row_keys(np.vstack([rows, pending_rows]))
        if _stalled(losses, self._unit.dim) or (
            _repeating(rows, REPEAT_ROUNDS) and not self._exploring & _row_keys(pending_rows)
        ):
            row = self._explore(post, pending_rows, tried, rng)
            self._exploring = _row_keys(row)  # one exploration in flight at a time
            return self._unit.decode(row)
        return self._unit.decode(self._maximize(post, best, top, pending_rows, tried, rng))

    def _explore(self, post: Posterior, pending: np.ndarray, tried: set[bytes], rng: np.random.Generator) -> np.ndarray:
        """The random candidate the GP knows least about (largest posterior std): a step out of a stall."""
        unit = self._unit
        cands = unit.random(rng, self.n_candidates)
        cands = np.where(unit.active(cands), cands, np.nan)
        _, std = post.predict(self._features(cands))
        scores = np.where(_untried(cands, tried), _exclude_near(std, cands, pending), -np.inf)
        return cands[int(np.argmax(scores))]

    def _initial(self, rng: np.random.Generator) -> dict[str, Any]:
        index = self.n_suggested
        if index >= self.n_initial_points or self._unit.dim == 0:
            return self.space.sample(rng)
        m = max(1, int(np.ceil(np.log2(self.n_initial_points))))
        sobol = qmc.Sobol(self._unit.dim, scramble=True, seed=self._entropy % 2**32).random_base2(m)
        params = self._unit.decode(self._unit.snap(sobol[index]))
        return self.space.sample(rng) if self._is_seen(params) else params

    def _update_theta(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The kernel hyperparameters for ``(x, y)``: refitted every few observations, else the last fit."""
        n = len(self.history)
        every = 1 if n < 100 else 5 if n < 300 else 10
        if self._theta is not None and self._theta.size == x.shape[1] + 2 and n - self._theta_at < every:
            return self._theta
        fit = _subsample(y, self.max_fit_points, rng)
        starts = [default_theta(x.shape[1])]
        # A warm start only on long histories: below 100 trials the fit depends on the history
        # alone, so a resumed tuner (with no last fit) suggests what the original would have.
        if self._theta is not None and self._theta.size == x.shape[1] + 2 and n >= 100:
            starts.insert(0, self._theta)
        self._theta = theta = fit_theta(x[fit], y[fit], starts, gls=self._gls)
        self._theta_at = n
        return theta

    def _maximize(
        self,
        post: Posterior,
        best: float,
        top: np.ndarray,
        pending: np.ndarray,
        tried: set[bytes],
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The snapped unit row with the highest log-EI found by sampling, then gradient refinement.

        Rows within ``MIN_GAP`` of a pending trial are ruled out: when the GP is sure of
        the optimum, the kriging believer alone still lets a batch crowd around it. Rows
        tried before are ruled out too, inside the search, so that a filling finite space
        never costs repeated searches; once every candidate is a tried row, the untried
        configurations themselves are the candidates.
        """
        unit, feats = self._unit, self._features
        local = _perturb(top, unit, rng, max(1, self.n_candidates // (4 * max(len(top), 1))))
        cands = np.vstack([unit.random(rng, self.n_candidates), local])
        cands = cands[unit.active(cands).any(axis=1)] if unit.is_conditional else cands
        cands = np.where(unit.active(cands), cands, np.nan)
        fresh = _untried(cands, tried)
        if not fresh.any() and self.space.cardinality is not None:
            cands = self._untried_configurations(2 * self.n_candidates)
            fresh = np.ones(len(cands), dtype=bool)
        if not len(cands):
            return unit.random(rng, 1)[0]  # nothing left: the base class reports the space exhausted
        scores = _exclude_near(log_ei(*post.predict(feats(cands)), best), cands, pending)
        scores = np.where(fresh, scores, -np.inf)
        order = np.argsort(-scores)
        starts = cands[order[: self.n_restarts]]
        best_row, best_score = cands[order[0]], scores[order[0]]
        if self.n_restarts and len(feats.numeric):
            refined = unit.snap(self._refine(post, best, starts))
            refined = np.where(unit.active(refined), refined, np.nan)
            refined_scores = _exclude_near(log_ei(*post.predict(feats(refined)), best), refined, pending)
            refined_scores = np.where(_untried(refined, tried), refined_scores, -np.inf)
            i = int(np.argmax(refined_scores))
            if refined_scores[i] > best_score:
                best_row = refined[i]
        return best_row

    def _untried_configurations(self, limit: int) -> np.ndarray:
        """Unit rows of up to ``limit`` configurations of a finite space that were never suggested."""
        rows = [self._unit.encode(p) for p in itertools.islice(self.space.grid(), _GRID_SCAN) if not self._is_seen(p)]
        return np.vstack(rows[:limit]) if rows else np.empty((0, self._unit.dim))

    def _refine(self, post: Posterior, best: float, starts: np.ndarray) -> np.ndarray:
        """L-BFGS-B on the active numeric leaves of each start, all starts in one problem."""
        feats = self._features
        num = feats.numeric
        free = ~np.isnan(starts[:, num])  # (s, n_num)
        base = feats(starts)
        x0 = np.nan_to_num(starts[:, num], nan=0.5)
        n_num = len(num)

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            x = base.copy()
            x[:, :n_num] = np.where(free, flat.reshape(x0.shape), x0)
            mean, std, dmean, dstd = post.predict_with_grad(x)
            value, grad = log_ei_grad(mean, std, dmean, dstd, best)
            g = np.where(free, grad[:, :n_num], 0.0)
            return -float(np.sum(value)), -g.ravel()

        result = minimize(
            objective, x0.ravel(), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * x0.size, options={"maxiter": 50}
        )
        out = starts.copy()
        out[:, num] = np.where(free, result.x.reshape(x0.shape), starts[:, num])
        return out


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS and OpenMP libraries, found once (a limit on them then costs microseconds)."""
    return ThreadpoolController()


#: How close (largest coordinate difference in the unit cube) a suggestion may come to a pending one.
MIN_GAP = 0.02

#: How close (largest coordinate difference in the unit cube) a trial counts as a repeat of an earlier one.
REPEAT_GAP = 1e-3

#: After this many repeats in a row (:func:`_repeating`), one suggestion explores.
REPEAT_ROUNDS = 3

#: How many configurations of a finite space are scanned for untried ones once random candidates find none.
_GRID_SCAN = 100_000


def _stalled(losses: np.ndarray, dim: int) -> bool:
    """True once per ``2 * dim + 5`` finished trials in a row that did not improve on the best.

    Log-EI can keep proposing refinements of one basin that all return the same value (a
    plateau, a flat optimum); then one suggestion in that many is spent on pure exploration.
    """
    patience = 2 * dim + 5
    finite = np.where(np.isfinite(losses), losses, np.inf)
    if finite.size <= patience or not np.isfinite(finite).any():
        return False
    since = finite.size - 1 - int(np.argmin(finite))  # argmin: the first time the best was reached
    return since >= patience and since % patience == 0


def _reflect(u: np.ndarray) -> np.ndarray:
    """Coordinates folded back into [0, 1] at the bounds (a step of 0.03 past 1 lands at 0.97).

    Clipping would put every step that crosses a bound exactly on it: near a wall, half the
    local candidates would sit on it, whatever the model says about the wall.
    """
    u = np.abs(u)
    return np.clip(1.0 - np.abs(1.0 - u), 0.0, 1.0)


def _repeating(rows: np.ndarray, k: int) -> bool:
    """True when each of the last ``k`` rows lies within ``REPEAT_GAP`` of an earlier row.

    Log-EI on a noisy plateau or a flat optimum can keep proposing points a hair apart
    from tried ones (tried rows themselves are ruled out, their neighbours are not); each
    returns what the last one did, so the search has stalled whether or not the noise
    makes a new best of one of them.
    """
    if len(rows) <= k:
        return False
    filled = np.nan_to_num(rows, nan=-1.0)
    for i in range(len(rows) - k, len(rows)):
        gap = np.max(np.abs(filled[:i] - filled[i]), axis=1)
        if gap.min() >= REPEAT_GAP:
            return False
    return True


def _row_keys(rows: np.ndarray) -> set[bytes]:
    """Hashable keys of snapped unit rows (rounded, NaN as -1), to tell tried rows in O(1)."""
    return {row.tobytes() for row in _rounded(rows)}


def _rounded(rows: np.ndarray) -> np.ndarray:
    return np.round(np.nan_to_num(np.atleast_2d(rows), nan=-1.0), 9) + 0.0


def _untried(rows: np.ndarray, tried: set[bytes]) -> np.ndarray:
    """Mask of the rows that are not tried rows."""
    return np.array([row.tobytes() not in tried for row in _rounded(rows)], dtype=bool)


def _exclude_near(scores: np.ndarray, rows: np.ndarray, pending: np.ndarray) -> np.ndarray:
    if pending.size == 0:
        return scores
    diff = np.abs(np.nan_to_num(rows, nan=-1.0)[:, None, :] - np.nan_to_num(pending, nan=-1.0)[None, :, :])
    near = np.max(diff, axis=2).min(axis=1) < MIN_GAP
    return np.where(near, -np.inf, scores)


def warp(losses: np.ndarray) -> np.ndarray:
    """Losses as GP targets: failures and infinities set to the worst (or best) finite loss,
    Yeo-Johnson transformed to tame heavy tails, standardized."""
    finite = losses[np.isfinite(losses)]
    if finite.size == 0:
        return np.zeros(losses.size)
    y = np.where(np.isnan(losses) | (losses == np.inf), finite.max(), losses)
    y = np.where(y == -np.inf, finite.min(), y)
    std = y.std()
    if std < 1e-12 * max(1.0, abs(y.mean())):
        return np.zeros(y.size)
    y = (y - y.mean()) / std
    with np.errstate(all="ignore"):
        warped = yeojohnson(y)[0]
    if np.all(np.isfinite(warped)) and warped.std() > 1e-12:
        y = warped
    return (y - y.mean()) / y.std()


def _subsample(y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``cap`` observations: the best quarter of the cap, then a random draw of the rest."""
    if y.size <= cap:
        return np.arange(y.size)
    order = np.argsort(y, kind="stable")
    n_best = cap // 4
    rest = rng.choice(order[n_best:], size=cap - n_best, replace=False)
    return np.sort(np.concatenate([order[:n_best], rest]))


def _perturb(rows: np.ndarray, unit: UnitSpace, rng: np.random.Generator, per_row: int) -> np.ndarray:
    """Local candidates around good rows: Gaussian steps on numeric leaves, occasional choice flips."""
    if rows.size == 0:
        return np.empty((0, unit.dim))
    base = np.repeat(rows, per_row, axis=0)
    base = np.where(np.isnan(base), rng.random(base.shape), base)
    scale = rng.choice([0.01, 0.05, 0.2], size=(len(base), 1))
    numeric = unit.kinds == NUMERIC
    step = rng.normal(size=base.shape) * scale
    base[:, numeric] = _reflect(base[:, numeric] + step[:, numeric])
    flip = (rng.random(base.shape) < 0.15) & (unit.kinds == CATEGORICAL)
    base[flip] = rng.random(int(flip.sum()))
    return unit.snap(base)
