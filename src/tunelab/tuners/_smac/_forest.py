"""SMAC's random forest: bootstrapped regression trees over log-scaled costs, mean and variance across trees.

The trees are grown by scikit-learn's ``DecisionTreeRegressor`` (the ``sklearn`` extra), by
default with random thresholds (``splitter="random"``: at each node the best of one random cut
per input, as SMAC3 2.4's forest grows them), which spreads the trees' predictions where data
is sparse;
prediction does not go back to scikit-learn: the fitted trees are stacked into flat node
arrays and every row descends every tree at once in numpy, which is what keeps a
suggestion (tens of thousands of forest evaluations) within milliseconds.

With ``log_y`` the targets are logarithms of scaled costs and each leaf holds the
logarithm of the *mean cost* of its samples, ``log(mean(exp(y)))``, not the mean of the
logarithms: SMAC3 does the same (``smac/model/random_forest/random_forest.py``), so that a
leaf's value is a cost on the log scale rather than a geometric mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunelab.errors import TunerError

#: SMAC3's ``VERY_SMALL_NUMBER``, which keeps the best cost off ``log(0)``.
_VERY_SMALL = 1e-10
#: SMAC3's ``scale_percentage``: the offset below the best cost is the gap to this percentile.
_PERCENTILE = 5.0
#: The least offset below the best cost, as a fraction of the cost range: the best point sits at
#: most ``log(1 / _MIN_GAP)`` (~4.6) log units below the worst.
_MIN_GAP = 0.01


def _tree_class() -> Any:
    try:
        from sklearn.tree import DecisionTreeRegressor
    except ImportError:
        raise TunerError(
            "smac: the random forest needs scikit-learn: pip install 'tunelab[sklearn]' (or scikit-learn)"
        ) from None
    return DecisionTreeRegressor


@contextmanager
def _fast_fit() -> Iterator[None]:
    """scikit-learn without its per-call parameter validation (the arguments are checked by the tuner)."""
    import sklearn

    with sklearn.config_context(skip_parameter_validation=True):
        yield


def _grow(
    tree_class: Any,
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    n: int,
    bootstrap: bool,
    min_samples_split: int,
    min_samples_leaf: int,
    max_features: float,
    max_depth: int | None,
    splitter: str,
) -> tuple[Any, np.ndarray]:
    """One tree on a bootstrap sample; the tree and the sample's indices."""
    sample = rng.integers(0, n, n) if bootstrap else np.arange(n)
    tree = tree_class(
        min_samples_split=min_samples_split,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        max_depth=max_depth,
        splitter=splitter,
        random_state=int(rng.integers(2**31 - 1)),
    )
    tree.fit(x[sample], y[sample], check_input=False)
    return tree, sample


def log_scale(costs: np.ndarray) -> np.ndarray:
    """Costs as SMAC3's ``RunHistoryLogScaledEncoder`` gives them to the forest.

    ``log((c - low) / (max - low))`` with ``low`` below the best cost by the gap between
    the best and the 5th percentile (so the best cost is not sent to minus infinity),
    at least 1% of the cost range (not in SMAC3: see below), less a tiny constant. Equal
    costs all map to 0. ``costs`` must be finite.
    """
    costs = np.asarray(costs, dtype=float)
    if costs.size == 0:
        return costs.copy()
    best, worst = float(costs.min()), float(costs.max())
    spread = worst - best
    if spread <= 1e-12 * max(1.0, abs(best)):
        return np.zeros(costs.size)
    gap = float(np.percentile(costs, _PERCENTILE)) - best
    # SMAC3 has no floor on the gap. Without one, a run that has refined one basin (its best
    # costs a hair apart) puts the best point ~7-20 log units below the rest and the EI
    # threshold with it, so that hair-splitting differences inside the basin dominate the
    # forest and the search keeps refining there. The floor bounds the best point's depth;
    # it does not by itself give EI to an unexplored branch (the forest is sure of the
    # branches it has seen).
    low = best - max(gap, _MIN_GAP * spread) - _VERY_SMALL
    return np.log((costs - low) / (worst - low))


@dataclass(frozen=True)
class Forest:
    """Fitted trees as flat arrays: node ``k`` sends a row to ``children[2k]`` when
    ``x[feature[k]] <= threshold[k]``, else to ``children[2k + 1]``.

    A leaf's children are the leaf itself, so descending ``depth`` times lands every row on
    a leaf of every tree. ``roots[t]`` is the root node of tree ``t``.
    """

    children: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    is_leaf: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        *,
        n_trees: int = 10,
        bootstrap: bool = True,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_features: float = 1.0,
        max_depth: int | None = None,
        log_y: bool = True,
        splitter: str = "random",
    ) -> Forest:
        """Grow ``n_trees`` trees on bootstrap samples of ``(x, y)``; ``y`` is on the log scale when ``log_y``.

        ``splitter``: "random" (a random threshold per input, the best of them: SMAC3's) or "best"
        (every threshold between observed values).
        """
        tree_class = _tree_class()
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=float)
        n = len(y)
        if n == 0:
            raise ValueError("a forest needs at least one observation")
        x = np.ascontiguousarray(x)
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("left", "right", "feature", "threshold", "value")}
        roots, depth, offset = [], 0, 0
        with _fast_fit():
            trees = [
                _grow(
                    tree_class,
                    x,
                    y,
                    rng,
                    n,
                    bootstrap,
                    min_samples_split,
                    min_samples_leaf,
                    max_features,
                    max_depth,
                    splitter,
                )
                for _ in range(n_trees)
            ]
        for tree, sample in trees:
            t = tree.tree_
            nodes = np.arange(t.node_count)
            leaf = t.children_left < 0
            if log_y:
                reached = t.apply(x[sample])
                total = np.bincount(reached, weights=np.exp(y[sample]), minlength=t.node_count)
                count = np.bincount(reached, minlength=t.node_count)
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = np.where(count > 0, np.log(total / np.maximum(count, 1)), 0.0)
            else:
                value = t.value[:, 0, 0].astype(float)
            parts["left"].append(np.where(leaf, nodes, t.children_left) + offset)
            parts["right"].append(np.where(leaf, nodes, t.children_right) + offset)
            parts["feature"].append(np.where(leaf, 0, t.feature))
            parts["threshold"].append(np.where(leaf, np.inf, t.threshold))
            parts["value"].append(value)
            roots.append(offset)
            depth = max(depth, int(t.max_depth))
            offset += t.node_count
        arrays = {k: np.concatenate(v) for k, v in parts.items()}
        children = np.stack([arrays.pop("left"), arrays.pop("right")], axis=1).ravel()
        is_leaf = children[0::2] == np.arange(len(arrays["feature"]))
        return cls(**arrays, children=children, roots=np.array(roots), depth=depth, is_leaf=is_leaf)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree, shape ``(n, n_trees)`` (global node ids)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float32))
        n, width = x.shape
        flat = x.ravel()
        nodes = np.broadcast_to(self.roots, (n, self.n_trees)).copy()
        base = (np.arange(n) * width)[:, None]
        for step in range(self.depth):
            go_right = flat[base + self.feature[nodes]] > self.threshold[nodes]
            nodes = self.children[2 * nodes + go_right]
            if step % 4 == 3 and self.is_leaf[nodes].all():
                break
        return nodes

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance over the trees of each row's prediction (SMAC3's sklearn-based forest)."""
        values = self.value[self.apply(x)]
        return values.mean(axis=1), values.var(axis=1)
