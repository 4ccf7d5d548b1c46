"""tunelab.pareto against hand-computed cases, brute-force references and Optuna's implementations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tunelab.pareto import (
    _ranks_by_matrix,
    _ranks_sweep,
    constrained_ranks,
    crowding_distance,
    dominates,
    front_indices,
    hypervolume,
    hypervolume_contributions,
    hypervolume_curve,
    knee_index,
    nondominated_ranks,
    pareto_front_mask,
    reference_point,
)


def brute_ranks(points: np.ndarray) -> np.ndarray:
    """Peel fronts by the definition: a row is on the current front if no remaining row dominates it."""
    remaining = set(range(len(points)))
    ranks = np.full(len(points), -1)
    rank = 0
    while remaining:
        front = [i for i in remaining if not any(dominates(points[j], points[i]) for j in remaining)]
        ranks[front] = rank
        remaining -= set(front)
        rank += 1
    return ranks


def brute_hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Volume of the union of boxes, cell by cell on the grid of all coordinates."""
    axes = [np.unique(np.append(points[:, k][points[:, k] < ref[k]], ref[k])) for k in range(points.shape[1])]
    volume = 0.0
    for cell in itertools.product(*(range(len(a) - 1) for a in axes)):
        low = np.array([axes[k][c] for k, c in enumerate(cell)])
        high = np.array([axes[k][c + 1] for k, c in enumerate(cell)])
        if np.any(np.all(points <= low, axis=1)):
            volume += float(np.prod(high - low))
    return volume


def test_ranks_hand_computed() -> None:
    losses = [[1, 4], [2, 2], [4, 1], [3, 3], [2, 2], [4, 4], [5, 5]]
    assert nondominated_ranks(losses).tolist() == [0, 0, 0, 1, 0, 2, 3]
    assert pareto_front_mask(losses).tolist() == [True, True, True, False, True, False, False]
    assert front_indices(losses) == [0, 1, 2, 4]


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_ranks_match_the_definition(m: int) -> None:
    rng = np.random.default_rng(m)
    points = rng.integers(0, 6, size=(60, m)).astype(float)  # many ties and duplicates
    assert nondominated_ranks(points).tolist() == brute_ranks(points).tolist()


@pytest.mark.parametrize("kind", ["continuous", "tied", "duplicated", "signed zeros and negatives"])
def test_two_objective_sweep_matches_the_general_sort(kind: str) -> None:
    """The O(n log n) sweep for two objectives against the domination-matrix sort it replaces."""
    rng = np.random.default_rng(len(kind))
    for n in (1, 2, 3, 7, 40, 300):
        points = rng.random((n, 2))
        if kind == "tied":
            points = rng.integers(0, 4, size=(n, 2)).astype(float)  # equal firsts, equal seconds, equal rows
        elif kind == "duplicated":
            points = np.repeat(rng.random((max(1, n // 3), 2)), 3, axis=0)[rng.permutation(3 * max(1, n // 3))]
        elif kind == "signed zeros and negatives":
            points = np.round(rng.random((n, 2)), 1) * rng.choice([-1.0, 1.0], size=(n, 2))
        assert nondominated_ranks(points).tolist() == _ranks_by_matrix(points).tolist()


@pytest.mark.parametrize("m", [3, 4, 5])
@pytest.mark.parametrize("kind", ["continuous", "tied", "duplicated", "signed zeros and negatives"])
def test_sweep_of_three_or_more_objectives_matches_the_general_sort(m: int, kind: str) -> None:
    """The lexicographic sweep with a binary search over fronts against the domination-matrix sort."""
    rng = np.random.default_rng(10 * m + len(kind))
    for n in (1, 2, 3, 7, 40, 300):
        points = rng.random((n, m))
        if kind == "tied":
            points = rng.integers(0, 3, size=(n, m)).astype(float)  # equal columns, equal rows
        elif kind == "duplicated":
            points = np.repeat(rng.random((max(1, n // 3), m)), 3, axis=0)[rng.permutation(3 * max(1, n // 3))]
        elif kind == "signed zeros and negatives":
            points = np.round(rng.random((n, m)), 1) * rng.choice([-1.0, 1.0], size=(n, m))
        expected = _ranks_by_matrix(points).tolist()
        assert _ranks_sweep(points).tolist() == expected
        assert nondominated_ranks(points).tolist() == expected  # the sweep, or the matrix for few rows of 4+


def test_many_rows_of_four_objectives_take_the_sweep() -> None:
    points = np.round(np.random.default_rng(4).random((600, 4)), 1)  # above _MATRIX_ROWS, with ties
    assert nondominated_ranks(points).tolist() == _ranks_by_matrix(points).tolist()


def test_three_objective_sweep_by_hand() -> None:
    # -0.0 equals 0.0 (the rows are duplicates); a tie in the first loss where the second decides;
    # a row dominated only in the third objective; a chain of 30 fronts
    losses = [[0.0, 1, 1], [-0.0, 1, 1], [0, 0, 2], [0, 1, 2], [1, 1, 0], [1, 1, 1], [2, 2, 2], [0, 2, 0]]
    assert nondominated_ranks(losses).tolist() == [0, 0, 0, 1, 0, 1, 2, 0]
    assert nondominated_ranks([[k, -k, k] for k in range(5)]).tolist() == [0] * 5
    assert nondominated_ranks([[k, k, k] for k in range(30)][::-1]).tolist() == list(range(30))[::-1]


def test_two_objective_sweep_by_hand() -> None:
    # a chain along one axis, equal rows, a tie in the first loss and one in the second
    losses = [[0, 3], [1, 2], [1, 3], [0, 3], [2, 2], [3, 0], [0.0, 4], [-0.0, 4]]
    assert nondominated_ranks(losses).tolist() == [0, 0, 1, 0, 1, 0, 1, 1]
    # many fronts: each row dominates the next
    assert nondominated_ranks([[k, k] for k in range(50)]).tolist() == list(range(50))


def test_constrained_ranks_with_two_objectives_and_ties() -> None:
    rng = np.random.default_rng(11)
    losses = rng.integers(0, 3, size=(80, 2)).astype(float)
    violations = np.where(rng.random(80) < 0.3, rng.integers(1, 3, size=80), 0.0)
    ranks = constrained_ranks(losses, violations)
    feasible = violations <= 0
    assert ranks[feasible].tolist() == _ranks_by_matrix(losses[feasible]).tolist()
    assert ranks[~feasible].min() > ranks[feasible].max()


def test_ranks_of_nothing_and_of_bad_input() -> None:
    assert nondominated_ranks(np.zeros((0, 2))).tolist() == []
    with pytest.raises(ValueError, match="row 1 is not finite"):
        nondominated_ranks([[1.0, 2.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"\(n, m\) array"):
        nondominated_ranks([[[1.0]]])


def test_hypervolume_two_objectives_by_hand() -> None:
    # boxes to (5, 5): (1,4) -> 4x1, (2,2) adds 3x2, (4,1) adds 1x1
    assert hypervolume([[1, 4], [2, 2], [4, 1], [3, 3]], [5, 5]) == pytest.approx(11.0)
    assert hypervolume([[6, 1], [1, 5]], [5, 5]) == 0.0  # none strictly inside the reference
    assert hypervolume(np.zeros((0, 2)), [1, 1]) == 0.0
    assert hypervolume([[0, 0]], [2, 3]) == pytest.approx(6.0)


@pytest.mark.parametrize(("m", "n"), [(2, 12), (3, 9), (3, 1), (4, 6)])
def test_hypervolume_matches_brute_force(m: int, n: int) -> None:
    rng = np.random.default_rng(10 * m + n)
    for _ in range(5):
        points = rng.random((n, m))
        ref = np.full(m, 1.05)
        assert hypervolume(points, ref) == pytest.approx(brute_hypervolume(points, ref), rel=1e-12)


def test_hypervolume_three_objectives_by_hand() -> None:
    # two unit-cube corners: boxes 2x2x1 and 1x1x2 overlapping in 1x1x1 -> 4 + 2 - 1
    assert hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2]) == pytest.approx(5.0)


def slicing_hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """HSO by the definition, any number of objectives: slices along the last objective, each the
    hypervolume of one dimension less of the rows below it (1-D: the best row's distance)."""
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 1:
        return float(ref[0] - points[:, 0].min())
    levels = np.unique(np.append(points[:, -1], ref[-1]))
    return sum(
        float(high - low) * slicing_hypervolume(points[points[:, -1] <= low, :-1], ref[:-1])
        for low, high in itertools.pairwise(levels)
    )


@pytest.mark.parametrize("kind", ["random", "tied", "duplicated"])
def test_three_objective_sweep_matches_slicing(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    for n in (1, 2, 5, 40, 150):
        points = rng.random((n, 3))
        if kind == "tied":
            points = np.round(points * 5) / 5  # ties in every objective, rows on the reference's faces
        if kind == "duplicated":
            points = np.concatenate([points, points[rng.integers(0, n, n)]])
        ref = np.full(3, 1.0 if kind == "tied" else 1.05)
        assert hypervolume(points, ref) == pytest.approx(slicing_hypervolume(points, ref), rel=1e-12, abs=1e-15)


def previous_curve(points: np.ndarray, ref: np.ndarray, marks: list[int]) -> list[float]:
    """The /pareto view's curve before hypervolume_curve: the front grown trial by trial
    (tunelab.storage's grow_front), its whole hypervolume measured again at each mark."""
    from tunelab.storage._best import grow_front

    front: list[tuple[int, tuple[float, ...]]] = []
    values = []
    for k, row in enumerate(points.tolist(), start=1):
        front = grow_front(front, k, tuple(row)) or front
        if k in marks:
            values.append(hypervolume([r for _, r in front], ref))
    return values


@pytest.mark.parametrize("m", [2, 3, 4])
@pytest.mark.parametrize("kind", ["random", "tied", "duplicated", "sorted"])
def test_hypervolume_curve_matches_each_prefix(m: int, kind: str) -> None:
    rng = np.random.default_rng(10 * m + len(kind))
    n = 120 if m < 4 else 48
    points = rng.random((n, m))
    if kind == "tied":
        points = np.round(points * 4) / 4
    if kind == "duplicated":
        points = np.repeat(points[: n // 4], 4, axis=0)[rng.permutation(n)]
    if kind == "sorted":  # each row better than the last: the front is replaced at every step
        points = np.sort(points, axis=0)[::-1]
    ref = reference_point(points) if kind != "tied" else np.full(m, 1.0)  # tied: rows on the reference too
    every = list(range(1, n + 1))
    curve = hypervolume_curve(points, ref, every)
    assert curve == pytest.approx([hypervolume(points[:k], ref) for k in every], rel=1e-12, abs=1e-15)
    marks = [1, 7, 8, n // 2, n]
    assert hypervolume_curve(points, ref, marks) == pytest.approx(previous_curve(points, ref, marks), rel=1e-12)
    assert np.all(np.diff(curve) >= 0)


def test_hypervolume_curve_by_hand() -> None:
    # (2,2) -> 3x3 = 9; (1,4) adds 1x1 ([1,2]x[4,5]); (3,3) nothing; (4,1) adds 1x1; (0,0) covers all: 25;
    # (6,0) is not inside the reference
    rows = [[2, 2], [1, 4], [3, 3], [4, 1], [0, 0], [6, 0]]
    assert hypervolume_curve(rows, [5, 5], [1, 2, 3, 4, 5, 6]).tolist() == [9.0, 10.0, 10.0, 11.0, 25.0, 25.0]
    assert hypervolume_curve(rows, [5, 5], [2, 6]).tolist() == [10.0, 25.0]
    for marks in ([0], [3, 3], [4, 2], [7]):
        with pytest.raises(ValueError, match="marks: expected strictly rising counts between 1 and 6"):
            hypervolume_curve(rows, [5, 5], marks)


def test_hypervolume_rejects_a_bad_reference() -> None:
    with pytest.raises(ValueError, match="reference: expected 2 values"):
        hypervolume([[1, 2]], [3, 3, 3])


@pytest.mark.parametrize("m", [2, 3])
def test_contributions_are_leave_one_out(m: int) -> None:
    rng = np.random.default_rng(m)
    points = rng.random((10, m))
    points[3] = points[2]  # a duplicate contributes nothing
    ref = np.full(m, 1.1)
    total = hypervolume(points, ref)
    expected = [total - hypervolume(np.delete(points, i, axis=0), ref) for i in range(len(points))]
    assert hypervolume_contributions(points, ref) == pytest.approx(expected, abs=1e-12)
    assert hypervolume_contributions(points, ref)[[2, 3]].tolist() == [0.0, 0.0]


def test_contributions_by_hand() -> None:
    contributions = hypervolume_contributions([[1, 4], [2, 2], [4, 1], [3, 3]], [5, 5])
    # (2,2) alone covers [2,4)x[2,4) less the corner [3,4)x[3,4) that the dominated (3,3) also covers
    assert contributions.tolist() == pytest.approx([1.0, 3.0, 1.0, 0.0])


def test_crowding_distance_by_hand() -> None:
    # sorted by f1: a(0,4) b(1,2) c(3,1) d(4,0); ranges 4 and 4
    distance = crowding_distance([[1, 2], [0, 4], [4, 0], [3, 1]])
    assert distance[1] == np.inf and distance[2] == np.inf
    assert distance[0] == pytest.approx((3 - 0) / 4 + (4 - 1) / 4)  # b: neighbours a and c
    assert distance[3] == pytest.approx((4 - 1) / 4 + (2 - 0) / 4)  # c: neighbours b and d
    assert crowding_distance([[1, 1], [2, 2]]).tolist() == [np.inf, np.inf]


def test_crowding_ignores_a_constant_objective() -> None:
    distance = crowding_distance([[0, 5], [1, 5], [3, 5]])
    assert distance[1] == pytest.approx(1.0)


def test_knee_is_the_front_point_nearest_the_ideal_after_scaling() -> None:
    # front (0,10), (1,2), (10,0); scaled (0,1), (0.1,0.2), (1,0): (1,2) is nearest to (0,0)
    losses = [[0, 10], [5, 5], [1, 2], [10, 0]]
    assert knee_index(losses) == 2
    # the scale matters, not the units: multiplying an objective by 1000 changes nothing
    scaled = np.array(losses, dtype=float) * [1000.0, 1.0]
    assert knee_index(scaled) == 2
    assert knee_index([[3, 3]]) == 0
    assert knee_index([[1, 1], [1, 1]]) == 0  # ties go to the first row


def test_reference_point_is_worse_than_every_row() -> None:
    losses = np.array([[0.0, 2.0], [1.0, 2.0]])
    ref = reference_point(losses)
    assert ref.tolist() == pytest.approx([1.1, 2.2])  # range 1 -> +0.1; constant 2 -> +0.1 * 2
    assert np.all(ref > losses.max(axis=0))
    assert reference_point([[0.0, -3.0]]).tolist() == pytest.approx([0.1, -2.7])


def test_constrained_ranks_put_every_feasible_row_first() -> None:
    losses = [[1, 1], [2, 2], [0, 0], [0, 0], [3, 0]]
    violations = [0, 0, 2.0, 0.5, 0]
    # feasible: (1,1) rank 0, (2,2) rank 1, (3,0) rank 0; infeasible by violation: 0.5 -> 2, 2.0 -> 3
    assert constrained_ranks(losses, violations).tolist() == [0, 1, 3, 2, 0]
    with pytest.raises(ValueError, match="violations: expected 5 values"):
        constrained_ranks(losses, [0, 0])


def test_against_optunas_hypervolume_and_sort() -> None:
    optuna_hv = pytest.importorskip("optuna._hypervolume", reason="Optuna is not installed")
    from optuna.study._multi_objective import _fast_non_domination_rank

    rng = np.random.default_rng(7)
    for m in (2, 3, 4):
        points = rng.random((40, m))
        ref = np.full(m, 1.2)
        assert hypervolume(points, ref) == pytest.approx(optuna_hv.compute_hypervolume(points, ref), rel=1e-10)
        coarse = np.round(points * 4)
        assert nondominated_ranks(coarse).tolist() == _fast_non_domination_rank(coarse).tolist()


def test_crowding_distance_matches_optunas() -> None:
    module = pytest.importorskip(
        "optuna.samplers.nsgaii._elite_population_selection_strategy", reason="Optuna is not installed"
    )
    import optuna

    rng = np.random.default_rng(3)
    for m in (2, 3):
        points = rng.random((12, m))
        # no ties: which of two equal extremes gets the infinite distance is each implementation's choice
        trials = [optuna.trial.create_trial(values=list(map(float, row))) for row in points]
        for number, trial in enumerate(trials):
            trial.number = number
        theirs = module._calc_crowding_distance(list(trials))
        ours = crowding_distance(points)
        assert [theirs[i] for i in range(len(points))] == pytest.approx(ours.tolist())
