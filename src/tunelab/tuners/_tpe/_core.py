"""One TPE step over arrays: split the history, fit l(x) and g(x), pick the candidate maximizing l/g."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from tunelab.tuners._tpe._parzen import fit_parzen, forgetting_weights, log_pdf, sample

#: Snaps candidate rows (holding the given columns) onto legal values.
Snap = Callable[[np.ndarray, Sequence[int] | np.ndarray], np.ndarray]


def n_below(n: int, gamma: float, linear_forgetting: int) -> int:
    """How many observations form the good set: Hyperopt's and NNI's ``ceil(gamma * sqrt(n))``."""
    count = math.ceil(gamma * math.sqrt(n))
    return min(count, linear_forgetting) if linear_forgetting > 0 else count


def split(losses: np.ndarray, gamma: float, linear_forgetting: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (in time order) of the good and the bad observations.

    NaN losses (failed trials) rank after every number and are never good, so regions
    where trials crash are avoided; ``+inf`` and ``-inf`` rank as the numbers they are.
    """
    finite = ~np.isnan(losses)
    key = np.where(finite, losses, np.inf)
    order = np.lexsort((~finite, key))  # by loss, NaN after +inf; stable in time
    k = min(n_below(len(losses), gamma, linear_forgetting), int(finite.sum()))
    return np.sort(order[:k]), np.sort(order[k:])


def propose(
    rows: np.ndarray,
    losses: np.ndarray,
    kinds: np.ndarray,
    n_options: np.ndarray,
    groups: Sequence[np.ndarray],
    rng: np.random.Generator,
    snap: Snap,
    *,
    gamma: float = 0.25,
    n_candidates: int = 24,
    linear_forgetting: int = 25,
    prior_weight: float = 1.0,
) -> np.ndarray:
    """The next unit row given the history ``rows`` (NaN where inactive) and their ``losses``.

    Each group of columns (one column per group for univariate TPE) is modelled jointly on
    the observations where it is active, and its best candidate is chosen independently
    of the other groups, as Hyperopt does for the nodes of a conditional space.
    """
    below, above = split(losses, gamma, linear_forgetting)
    return propose_from_split(
        rows,
        below,
        above,
        kinds,
        n_options,
        groups,
        rng,
        snap,
        n_candidates=n_candidates,
        weights=lambda part: forgetting_weights(len(part), linear_forgetting),
        prior_weight=prior_weight,
    )


def propose_from_split(
    rows: np.ndarray,
    below: np.ndarray,
    above: np.ndarray,
    kinds: np.ndarray,
    n_options: np.ndarray,
    groups: Sequence[np.ndarray],
    rng: np.random.Generator,
    snap: Snap,
    *,
    n_candidates: int,
    weights: Callable[[np.ndarray], np.ndarray],
    prior_weight: float,
) -> np.ndarray:
    """The TPE step once the history is split into the good rows ``below`` and the bad ``above``.

    ``weights(indices)`` gives the kernels' weights of those rows (multi-objective TPE weighs
    the good ones by their hypervolume contributions).
    """
    out = np.full(rows.shape[1], np.nan)
    for cols in groups:
        sub = rows[:, cols]
        active = ~np.isnan(sub).any(axis=1)
        b = below[active[below]]
        a = above[active[above]]
        good, bad = (
            fit_parzen(sub[part], weights(part), kinds[cols], n_options[cols], prior_weight=prior_weight)
            for part in (b, a)
        )
        candidates = snap(sample(good, rng, n_candidates), cols)
        score = log_pdf(good, candidates) - log_pdf(bad, candidates)
        out[cols] = candidates[int(np.argmax(score))]
    return out
