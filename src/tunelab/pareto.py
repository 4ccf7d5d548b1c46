"""Pareto utilities for several objectives: pure functions over ``(n, m)`` arrays of losses.

Every function takes losses, each objective turned so that *smaller is better* (an
objective to maximise is negated first; :func:`tunelab.objectives.objective_losses` does
it), one row per trial. Rows must be finite: a failed or non-finite trial is the caller's
to leave out, as are infeasible ones (they are never on the front; see
:func:`constrained_ranks` for tuners that still rank them).

``a`` dominates ``b`` when ``a`` is no worse in every objective and better in at least one;
equal rows do not dominate each other, so duplicates share a rank.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "as_loss_matrix",
    "constrained_ranks",
    "crowding_distance",
    "dominates",
    "front_indices",
    "hypervolume",
    "hypervolume_contributions",
    "hypervolume_curve",
    "knee_index",
    "nondominated_ranks",
    "pareto_front_mask",
    "reference_point",
]

#: Rows compared at once when building the domination matrix (bounds memory to ~chunk * n * m).
_CHUNK = 1024

#: Up to this many rows of four or more objectives, the domination matrix is faster than the
#: sweep's per-row array tests (measured here: 500 rows of 4 objectives 23 against 34 ms,
#: 1000 rows 82 against 46 ms).
_MATRIX_ROWS = 512


def _as_losses(losses: ArrayLike, *, name: str = "losses") -> NDArray[np.float64]:
    array = np.asarray(losses, dtype=float)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 1)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected an (n, m) array of losses, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"{name}: row {bad} is not finite ({array[bad].tolist()}); leave failed trials out")
    return array


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """Whether loss vector ``a`` dominates ``b`` (no worse everywhere, better somewhere)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(x <= y) and np.any(x < y))


def _domination_matrix(points: NDArray[np.float64]) -> NDArray[np.bool_]:
    """``d[i, j]``: row ``i`` dominates row ``j`` (built in blocks of rows to bound the temporaries)."""
    n = len(points)
    matrix = np.empty((n, n), dtype=bool)
    for start in range(0, n, _CHUNK):
        block = points[start : start + _CHUNK, None, :]
        no_worse = np.all(block <= points[None, :, :], axis=2)
        better = np.any(block < points[None, :, :], axis=2)
        matrix[start : start + _CHUNK] = no_worse & better
    return matrix


def nondominated_ranks(losses: ArrayLike) -> NDArray[np.int64]:
    """Each row's non-domination rank: 0 for the Pareto front, 1 for the front without it, and so on.

    Two objectives: a sweep in O(n log n) (:func:`_ranks2`). More: a sweep in lexicographic
    order with a binary search over the fronts (:func:`_ranks_sweep`), O(n log^2 n) for three
    objectives and O(m n^2) comparisons at worst for more, in O(n m) memory; with four or more
    objectives and at most ``_MATRIX_ROWS`` rows, Deb's sort on the domination matrix
    (:func:`_ranks_by_matrix`), faster there.
    """
    points = _as_losses(losses)
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if points.shape[1] == 1:  # one objective: ranks of the distinct values
        _, inverse = np.unique(points[:, 0], return_inverse=True)
        return inverse.astype(np.int64).reshape(n)
    if points.shape[1] == 2:
        return _ranks2(points)
    if points.shape[1] > 3 and n <= _MATRIX_ROWS:
        return _ranks_by_matrix(points)
    return _ranks_sweep(points)


def _ranks_by_matrix(points: NDArray[np.float64]) -> NDArray[np.int64]:
    """Deb's fast non-dominated sort (NSGA-II) on the domination matrix, any number of objectives.

    O(m n^2) time and O(n^2) memory: the reference the sweeps are tested against.
    """
    n = len(points)
    ranks = np.full(n, -1, dtype=np.int64)
    matrix = _domination_matrix(points)
    counts = matrix.sum(axis=0)
    unranked = np.ones(n, dtype=bool)
    rank = 0
    while unranked.any():
        current = unranked & (counts == 0)
        ranks[current] = rank
        unranked &= ~current
        counts = counts - matrix[current].sum(axis=0)
        rank += 1
    return ranks


def _ranks2(points: NDArray[np.float64]) -> NDArray[np.int64]:
    """Non-domination ranks of two-objective rows in O(n log n).

    Equal rows share a rank, so the distinct rows are ranked and the rank handed back to each
    copy. Taken in order of the first loss (then the second), every row that dominates one
    comes before it, and an earlier distinct row dominates a later one exactly when its
    second loss is no larger. Front ``k`` is kept as the smallest second loss among its rows
    so far; these minima never decrease with ``k``, and front ``k`` dominates the next row
    exactly when its minimum is no larger than the row's second loss, so the row's rank is
    the number of fronts whose minimum is at most its second loss (a binary search, as in
    patience sorting).
    """
    unique, inverse = np.unique(points, axis=0, return_inverse=True)  # sorted by the first loss, then the second
    minima: list[float] = []
    ranks = np.empty(len(unique), dtype=np.int64)
    for i, second in enumerate(unique[:, 1].tolist()):
        k = bisect.bisect_right(minima, second)
        if k == len(minima):
            minima.append(second)
        else:
            minima[k] = second
        ranks[i] = k
    return ranks[inverse.reshape(-1)]


def _ranks_sweep(points: NDArray[np.float64]) -> NDArray[np.int64]:
    """Non-domination ranks of three or more objectives, by a sweep over the distinct rows.

    Taken in lexicographic order, every row that dominates one comes before it, and an
    earlier distinct row dominates a later one exactly when it is no worse in the objectives
    after the first. A row's rank is one more than the largest rank among the earlier rows
    dominating it; since each row of front ``k`` is dominated by one of front ``k - 1``,
    the fronts dominating a row are the first few, so its rank is found by a binary search
    over the fronts, each asked whether one of its rows dominates the row (three objectives:
    :class:`_Staircase`; more: :class:`_Block`). Equal rows share a rank (compared with
    ``==``, so ``-0.0`` equals ``0.0``).
    """
    n, m = points.shape
    order = np.lexsort(points.T[::-1])  # by the first loss, then the second, ...
    ordered = points[order]
    distinct = np.ones(n, dtype=bool)
    distinct[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    rest = ordered[distinct, 1:]
    fronts: list[_Front] = []
    ranks = np.empty(len(rest), dtype=np.int64)
    make: Callable[[int], _Front] = _Staircase if m == 3 else _Block
    for i, row in enumerate(rest.tolist() if m == 3 else rest):
        low, high = 0, len(fronts)
        while low < high:
            mid = (low + high) // 2
            if fronts[mid].dominates(row):
                low = mid + 1
            else:
                high = mid
        if low == len(fronts):
            fronts.append(make(m - 1))
        fronts[low].add(row)
        ranks[i] = low
    out = np.empty(n, dtype=np.int64)
    out[order] = ranks[np.cumsum(distinct) - 1]
    return out


class _Front(Protocol):
    """The rows of one front seen so far (in the objectives after the first)."""

    def dominates(self, row: Any) -> bool:
        """Whether one of them is no worse than ``row`` in every objective."""
        ...

    def add(self, row: Any) -> None:
        """Add a row none of them dominates."""
        ...


class _Staircase:
    """The rows of one front seen so far, reduced to their minima in the last two objectives.

    Kept sorted by the second loss (rising; the third then falls), so whether one of them is
    no worse than a row in both is one binary search.
    """

    def __init__(self, _dims: int) -> None:
        self.second: list[float] = []
        self.neg_third: list[float] = []  # rising

    def dominates(self, row: list[float]) -> bool:
        j = bisect.bisect_right(self.second, row[0]) - 1
        return j >= 0 and -self.neg_third[j] <= row[1]

    def add(self, row: list[float]) -> None:
        """Add a row none of the staircase dominates; the minima it covers leave."""
        start = bisect.bisect_left(self.second, row[0])
        stop = bisect.bisect_right(self.neg_third, -row[1], lo=start)
        self.second[start:stop] = [row[0]]
        self.neg_third[start:stop] = [-row[1]]


class _Block:
    """The rows of one front seen so far, in the objectives after the first, as a growing array."""

    def __init__(self, dims: int) -> None:
        self.rows = np.empty((8, dims))
        self.size = 0

    def dominates(self, row: NDArray[np.float64]) -> bool:
        return bool(np.any(np.all(self.rows[: self.size] <= row, axis=1)))

    def add(self, row: NDArray[np.float64]) -> None:
        if self.size == len(self.rows):
            self.rows = np.concatenate([self.rows, np.empty_like(self.rows)])
        self.rows[self.size] = row
        self.size += 1


def pareto_front_mask(losses: ArrayLike) -> NDArray[np.bool_]:
    """True for the rows no other row dominates (the Pareto front; duplicates of a front point included)."""
    return nondominated_ranks(losses) == 0


def constrained_ranks(losses: ArrayLike, violations: ArrayLike) -> NDArray[np.int64]:
    """Ranks under Deb's constrained domination (NSGA-II's constraint handling).

    A feasible row (violation <= 0) beats every infeasible one; feasible rows are ranked by
    :func:`nondominated_ranks`; infeasible rows come after all of them, ordered by their
    total violation (equal violations share a rank).
    """
    points = _as_losses(losses)
    violation = np.asarray(violations, dtype=float).reshape(-1)
    if violation.shape != (len(points),):
        raise ValueError(f"violations: expected {len(points)} values, got {violation.shape[0]}")
    if np.any(np.isnan(violation)):
        raise ValueError("violations: NaN is not a violation amount")
    feasible = violation <= 0
    ranks = np.zeros(len(points), dtype=np.int64)
    if feasible.any():
        ranks[feasible] = nondominated_ranks(points[feasible])
    start = int(ranks[feasible].max()) + 1 if feasible.any() else 0
    if (~feasible).any():
        _, order = np.unique(violation[~feasible], return_inverse=True)
        ranks[~feasible] = start + order.reshape(-1)
    return ranks


def reference_point(losses: ArrayLike, *, margin: float = 0.1) -> NDArray[np.float64]:
    """The default reference point for hypervolume: the worst value of each objective plus ``margin`` of its range.

    An objective whose values are all equal gets ``margin * max(1, |value|)`` instead, so the
    reference point is always strictly worse than every row.
    """
    points = _as_losses(losses)
    if len(points) == 0:
        raise ValueError("losses: a reference point needs at least one row")
    worst, best = points.max(axis=0), points.min(axis=0)
    spread = worst - best
    flat = spread <= 0
    spread[flat] = np.maximum(1.0, np.abs(worst[flat]))
    return np.asarray(worst + margin * spread, dtype=float)


def _check_reference(points: NDArray[np.float64], reference: ArrayLike) -> NDArray[np.float64]:
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if ref.shape != (points.shape[1],):
        raise ValueError(f"reference: expected {points.shape[1]} values (one per objective), got {ref.shape[0]}")
    if not np.all(np.isfinite(ref)):
        raise ValueError(f"reference: must be finite, got {ref.tolist()}")
    return ref


def hypervolume(losses: ArrayLike, reference: ArrayLike) -> float:
    """The volume dominated by the rows and bounded by ``reference`` (exact).

    Rows not strictly better than the reference in every objective add nothing. Two
    objectives: an O(n log n) sweep; more: slicing along the last objective (HSO), each slice
    a hypervolume of one dimension less over the front of the rows below it.
    """
    points = _as_losses(losses)
    ref = _check_reference(points, reference)
    inside = points[np.all(points < ref, axis=1)]
    return _hv(inside, ref)


def _hv(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    if len(points) == 0:
        return 0.0
    m = points.shape[1]
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    if m == 2:
        return _hv2(points, ref)
    if m == 3:
        return _hv3(points, ref)
    points = points[nondominated_ranks(points) == 0]
    points = np.unique(points, axis=0)
    order = np.argsort(points[:, -1], kind="stable")
    points = points[order]
    volume = 0.0
    for i in range(len(points)):
        top = ref[-1] if i + 1 == len(points) else points[i + 1, -1]
        height = top - points[i, -1]
        if height > 0:
            volume += height * _hv(points[: i + 1, :-1], ref[:-1])
    return float(volume)


def _hv2(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Sorted by the first loss, each point adds the strip between its second loss and the best one before it."""
    ordered = points[np.lexsort((points[:, 1], points[:, 0]))]
    best_before = np.minimum.accumulate(np.concatenate([[ref[1]], ordered[:-1, 1]]))
    strips = (ref[0] - ordered[:, 0]) * np.maximum(best_before - ordered[:, 1], 0.0)
    return float(strips.sum())


def _hv3(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Three objectives in O(n log n) (plus list moves): a sweep up the third loss over a staircase.

    Taken in order of the third loss (then the first, then the second), each point joins a
    :class:`_Staircase2` of the first two losses; the volume between it and the next point's
    third loss (the reference's after the last) is the staircase's area times that height.
    A point some earlier one dominates (or equals) leaves the staircase as it was.
    """
    ordered = points[np.lexsort((points[:, 1], points[:, 0], points[:, 2]))].tolist()
    staircase = _Staircase2(float(ref[0]), float(ref[1]))
    volume = 0.0
    for i, (x, y, z) in enumerate(ordered):
        staircase.add(x, y)
        top = ordered[i + 1][2] if i + 1 < len(ordered) else float(ref[2])
        volume += staircase.area * (top - z)
    return volume


class _Staircase2:
    """The front of two-objective points added so far, and the area it dominates up to a reference.

    Kept as a staircase: the first losses strictly rising, the second strictly falling. Adding a
    point removes the steps it dominates and adds the area only it dominates, walked step by
    step (every term non-negative, so the area never falls by rounding). Points must be strictly
    better than the reference in both losses.
    """

    def __init__(self, ref_first: float, ref_second: float) -> None:
        self.ref_first, self.ref_second = ref_first, ref_second
        self.first: list[float] = []
        self.second: list[float] = []
        self.area = 0.0

    def add(self, x: float, y: float) -> bool:
        """Add the point ``(x, y)``; False when a step is no worse in both (nothing changes)."""
        first, second = self.first, self.second
        j = bisect.bisect_right(first, x) - 1
        if j >= 0 and second[j] <= y:
            return False
        start = bisect.bisect_left(first, x)  # steps from here on with a second loss >= y: dominated by (x, y)
        stop = start
        level = second[start - 1] if start > 0 else self.ref_second
        left, added = x, 0.0
        while stop < len(first) and second[stop] >= y:
            added += (first[stop] - left) * (level - y)
            left, level = first[stop], second[stop]
            stop += 1
        right = first[stop] if stop < len(first) else self.ref_first
        added += (right - left) * (level - y)
        first[start:stop] = [x]
        second[start:stop] = [y]
        self.area += added
        return True


def hypervolume_curve(losses: ArrayLike, reference: ArrayLike, marks: Sequence[int]) -> NDArray[np.float64]:
    """The hypervolume of the first ``k`` rows against ``reference``, for each ``k`` in ``marks``.

    The rows are taken in order (as trials ended) and the front kept as they come, so the whole
    curve costs about one pass: with two objectives each row joins a staircase whose area is
    updated by what only the row adds (:class:`_Staircase2`); with more, a row no kept row is
    no worse than joins the kept front (the rows it dominates leave), and the front's exact
    hypervolume (:func:`hypervolume`) is measured at a mark when the front changed since the
    last one. Equal to :func:`hypervolume` of each prefix (up to rounding). ``marks`` must
    rise strictly, each between 1 and the number of rows.
    """
    points = _as_losses(losses)
    ref = _check_reference(points, reference)
    wanted = [int(k) for k in marks]
    if any(not 1 <= k <= len(points) for k in wanted) or np.any(np.diff(wanted) <= 0):
        raise ValueError(f"marks: expected strictly rising counts between 1 and {len(points)}, got {wanted}")
    inside = np.all(points < ref, axis=1)
    values = np.zeros(len(wanted))
    if points.shape[1] == 2:
        staircase = _Staircase2(float(ref[0]), float(ref[1]))
        done = 0
        for i, k in enumerate(wanted):
            for x, y in points[done:k][inside[done:k]].tolist():
                staircase.add(x, y)
            values[i], done = staircase.area, k
        return values
    front = np.empty((0, points.shape[1]))
    done, value, changed = 0, 0.0, False
    for i, k in enumerate(wanted):
        for start in range(done, k, _CHUNK // 4):
            block = points[start : min(k, start + _CHUNK // 4)]
            # rows the front is no worse than stay so as it grows: leave them out at once
            block = block[inside[start : start + len(block)] & ~_weakly_dominated(block, front)]
            for row in block:
                if len(front) and np.any(np.all(front <= row, axis=1)):
                    continue
                front = np.concatenate([front[~np.all(row <= front, axis=1)], row[None, :]])
                changed = True
        if changed:
            value, changed = _hv(front, ref), False
        values[i], done = value, k
    return values


def _weakly_dominated(rows: NDArray[np.float64], front: NDArray[np.float64]) -> NDArray[np.bool_]:
    """For each of ``rows``, whether a row of ``front`` is no worse in every objective."""
    if len(front) == 0:
        return np.zeros(len(rows), dtype=bool)
    found = np.zeros(len(rows), dtype=bool)
    step = max(1, _CHUNK * _CHUNK // (len(rows) * rows.shape[1]))  # temporaries of about a million cells
    for start in range(0, len(front), step):
        found |= np.any(np.all(front[None, start : start + step] <= rows[:, None], axis=2), axis=1)
    return found


def hypervolume_contributions(losses: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """Each row's exclusive hypervolume: how much :func:`hypervolume` drops without it.

    A row's exclusive part is its box minus the other rows' boxes, computed as its box's
    volume less the hypervolume of the others clipped to it (``max(row, other)``). Dominated
    rows and duplicates contribute 0; a front row also loses what only it dominated.
    """
    points = _as_losses(losses)
    ref = _check_reference(points, reference)
    n = len(points)
    contributions = np.zeros(n)
    for i in np.flatnonzero((nondominated_ranks(points) == 0) & np.all(points < ref, axis=1)):
        others = np.delete(points, i, axis=0)
        clipped = np.maximum(others, points[i])
        contributions[i] = float(np.prod(ref - points[i])) - hypervolume(clipped, ref)
    return np.maximum(contributions, 0.0)


def crowding_distance(losses: ArrayLike) -> NDArray[np.float64]:
    """NSGA-II's crowding distance of each row among the rows given (usually one front).

    Per objective, the rows are sorted; the two extremes get infinity and every other row
    the gap between its neighbours divided by the objective's range; the distances are
    summed over objectives. An objective whose values are all equal adds nothing.
    """
    points = _as_losses(losses)
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        distance[:] = np.inf
        return distance
    for k in range(m):
        order = np.argsort(points[:, k], kind="stable")
        column = points[order, k]
        spread = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if spread <= 0:
            continue
        distance[order[1:-1]] += (column[2:] - column[:-2]) / spread
    return distance


def knee_index(losses: ArrayLike) -> int:
    """The "knee" of the front: the suggested single choice among trade-offs.

    The rule: take the Pareto front, scale each objective to [0, 1] over the front (best 0,
    worst 1; an objective equal on the whole front scales to 0), and pick the front point
    closest (Euclidean) to the ideal point (0, ..., 0). Ties go to the lowest row index.
    Returns the row index in ``losses``.
    """
    points = _as_losses(losses)
    if len(points) == 0:
        raise ValueError("losses: the knee needs at least one row")
    front = np.flatnonzero(pareto_front_mask(points))
    sub = points[front]
    low, high = sub.min(axis=0), sub.max(axis=0)
    spread = np.where(high > low, high - low, 1.0)
    scaled = (sub - low) / spread
    return int(front[int(np.argmin(np.sqrt((scaled**2).sum(axis=1))))])


def front_indices(losses: ArrayLike) -> list[int]:
    """Row indices of the Pareto front, in row order."""
    return [int(i) for i in np.flatnonzero(pareto_front_mask(losses))]


def as_loss_matrix(rows: Sequence[Sequence[float]], n_objectives: int) -> NDArray[np.float64]:
    """Rows of losses as an ``(n, n_objectives)`` array (an empty history included)."""
    if not rows:
        return np.zeros((0, n_objectives))
    return _as_losses(np.asarray(rows, dtype=float).reshape(len(rows), n_objectives))
