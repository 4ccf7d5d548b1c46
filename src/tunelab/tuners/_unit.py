"""The unit-cube view of a search space that model-based tuners search in.

Every leaf of the space (nested ones included) gets one coordinate in ``[0, 1]``:

* bounded reals and integers: their internal coordinate (the logarithm when log-scaled)
  scaled linearly, so that a log parameter is searched on the log scale;
* normal-prior reals: the prior's CDF of the internal coordinate, so the prior becomes
  uniform and a coordinate of 0.5 is the prior mean;
* choices: option ``k`` of ``n`` occupies the bin ``[k/n, (k+1)/n)`` (stored at its centre);
* constants: 0.5, ignored.

A configuration is a row with NaN in the coordinates of inactive (conditional) leaves.
:meth:`UnitSpace.snap` moves rows onto legal values (rounding integers, quantizing,
centring choices) without leaving the array world, so tuners can score exactly the
points they will propose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from tunelab.space import Choice, Fixed, Float, Int, Leaf, Normal, SearchSpace

_EPS = 1e-9

#: Leaf kinds as the array code sees them.
NUMERIC, CATEGORICAL, CONSTANT = 0, 1, 2


class UnitSpace:
    """Converts configurations of ``space`` to unit-cube rows and back."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        leaves = space.leaves
        #: NUMERIC, CATEGORICAL or CONSTANT per leaf.
        self.kinds = np.array([_kind(leaf) for leaf in leaves], dtype=np.int8)
        #: How many options each choice leaf has (0 for the others).
        self.n_options = np.array(
            [len(leaf.domain.options) if isinstance(leaf.domain, Choice) else 0 for leaf in leaves], dtype=int
        )
        index = {leaf.key: i for i, leaf in enumerate(leaves)}
        self._conditions = [[(index[key], option) for key, option in leaf.condition] for leaf in leaves]

    @property
    def leaves(self) -> tuple[Leaf, ...]:
        return self.space.leaves

    @property
    def dim(self) -> int:
        return len(self.space.leaves)

    @property
    def searchable(self) -> np.ndarray:
        """Indices of the leaves that are not constants."""
        return np.flatnonzero(self.kinds != CONSTANT)

    @property
    def is_conditional(self) -> bool:
        return self.space.is_conditional

    # ------------------------------------------------------------------ rows
    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """The unit row of a configuration; NaN where a leaf is inactive."""
        flat = self.space.encode(params)
        row = np.full(self.dim, np.nan)
        for i, leaf in enumerate(self.leaves):
            if leaf.key in flat:
                row[i] = _to_unit(leaf, flat[leaf.key])
        return row

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        """The configuration at a unit row; NaN or out-of-range coordinates are made legal."""
        flat: dict[str, float] = {}
        for i, leaf in enumerate(self.leaves):
            u = float(row[i])
            flat[leaf.key] = _from_unit(leaf, 0.5 if np.isnan(u) else u)
        return self.space.decode(flat)

    def active(self, rows: np.ndarray) -> np.ndarray:
        """Boolean mask of the leaves each row's choices activate (rows may hold NaN anywhere)."""
        rows = np.atleast_2d(rows)
        mask = np.ones(rows.shape, dtype=bool)
        for j, condition in enumerate(self._conditions):
            for parent, option in condition:
                mask[:, j] &= choice_index(rows[:, parent], int(self.n_options[parent])) == option
        return mask

    def snap(self, rows: np.ndarray, columns: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Rows moved onto legal values (integers rounded, quantized, choice bins centred), clipped to [0, 1].

        With ``columns``, ``rows`` holds only those leaves' coordinates, in that order.
        """
        rows = np.clip(np.array(rows, dtype=float, copy=True), 0.0, 1.0)
        out = np.atleast_2d(rows)
        columns = range(self.dim) if columns is None else columns
        for c, j in enumerate(columns):
            out[:, c] = _snap_column(self.leaves[j], out[:, c], int(self.n_options[j]))
        return rows

    def random(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` snapped rows drawn uniformly from the cube (the prior of every leaf, for normal ones too)."""
        return self.snap(rng.random((n, self.dim)))


def choice_index(u: np.ndarray, n_options: int) -> np.ndarray:
    """The option index of choice coordinates (NaN -> -1)."""
    idx = np.floor(np.nan_to_num(u, nan=-1.0) * n_options).astype(int)
    idx = np.minimum(idx, n_options - 1)
    return np.where(np.isnan(u), -1, np.maximum(idx, 0))


def _kind(leaf: Leaf) -> int:
    if isinstance(leaf.domain, Choice):
        return CATEGORICAL if len(leaf.domain.options) > 1 else CONSTANT
    if isinstance(leaf.domain, Fixed):
        return CONSTANT
    return NUMERIC


def _bounds(domain: Any) -> tuple[float, float]:
    return domain.internal_low, domain.internal_high


def _to_unit(leaf: Leaf, x: float) -> float:
    d = leaf.domain
    if isinstance(d, (Float, Int)):
        lo, hi = _bounds(d)
        return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))
    if isinstance(d, Normal):
        return float(np.clip(ndtr((x - d.mu) / d.sigma), _EPS, 1 - _EPS))
    if isinstance(d, Choice):
        return (x + 0.5) / len(d.options)
    return 0.5


def _from_unit(leaf: Leaf, u: float) -> float:
    d = leaf.domain
    u = min(max(u, 0.0), 1.0)
    if isinstance(d, (Float, Int)):
        lo, hi = _bounds(d)
        return lo + u * (hi - lo)
    if isinstance(d, Normal):
        return d.mu + d.sigma * float(ndtri(min(max(u, _EPS), 1 - _EPS)))
    if isinstance(d, Choice):
        return float(choice_index(np.array([u]), len(d.options))[0])
    return 0.0


def _snap_column(leaf: Leaf, u: np.ndarray, n_options: int) -> np.ndarray:
    d = leaf.domain
    nan = np.isnan(u)
    if isinstance(d, Choice):
        return np.where(nan, np.nan, (choice_index(u, n_options) + 0.5) / n_options)
    if isinstance(d, Fixed):
        return np.where(nan, np.nan, 0.5)
    if not isinstance(d, (Float, Int, Normal)):
        raise TypeError(f"no unit-cube coordinate for a {type(d).__name__} domain")
    q = None if isinstance(d, Int) else d.q
    if q is None and not isinstance(d, Int):
        return u  # an unquantized real is legal wherever it lies
    if isinstance(d, Normal):
        lo, hi = 0.0, 1.0
        x = d.mu + d.sigma * ndtri(np.clip(np.nan_to_num(u, nan=0.5), _EPS, 1 - _EPS))
    else:
        lo, hi = _bounds(d)
        x = lo + np.nan_to_num(u, nan=0.5) * (hi - lo)
    value = np.exp(np.minimum(x, 700.0)) if d.log else x
    if isinstance(d, Int):
        last = d.high - (d.high - d.low) % d.step
        value = np.clip(np.round((value - d.low) / d.step) * d.step + d.low, d.low, last)
    elif q is not None:  # always, for a Float or a Normal here
        value = np.round(value / q) * q
        if isinstance(d, Float):
            value = np.clip(value, d.low, d.high)
    if d.log:
        x = np.log(np.maximum(value, 1e-300))
    else:
        x = value
    if isinstance(d, Normal):
        snapped = np.clip(ndtr((x - d.mu) / d.sigma), _EPS, 1 - _EPS)
    else:
        snapped = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return np.where(nan, np.nan, snapped)


def rows_of(unit: UnitSpace, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Unit rows of several configurations, shape ``(n, dim)``."""
    if not configs:
        return np.empty((0, unit.dim))
    return np.vstack([unit.encode(c) for c in configs])


class RowCache:
    """The history as arrays, encoded once per observation (history only grows)."""

    def __init__(self, unit: UnitSpace) -> None:
        self.unit = unit
        self._rows: list[np.ndarray] = []
        self._losses: list[float] = []

    def arrays(self, history: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, losses)`` of the observations; a failed trial's loss is NaN."""
        for obs in history[len(self._rows) :]:
            self._rows.append(self.unit.encode(obs.params))
            self._losses.append(np.nan if obs.loss is None else float(obs.loss))
        if not self._rows:
            return np.empty((0, self.unit.dim)), np.empty(0)
        return np.vstack(self._rows), np.array(self._losses)
