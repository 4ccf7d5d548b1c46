"""Issue 14 item 15: the grid tuner refuses a grid too large to enumerate, stating its size."""

from __future__ import annotations

import pytest

import tunelab
from tunelab import hp
from tunelab.errors import SearchSpaceError
from tunelab.space import parse_search_space
from tunelab.tuners._grid import MAX_GRID_POINTS, GridTooLargeError, check_grid_size


@pytest.mark.parametrize(
    "spec, size",
    [
        ({"n": {"_type": "randint", "_value": [0, 1e18]}}, "1000000000000000000"),
        ({"x": {"_type": "quniform", "_value": [0, 1e12, 1e-4]}}, "10000000000000001"),
        ({f"p{i}": hp.choice(list(range(10))) for i in range(7)}, "10000000"),
    ],
)
def test_grid_too_large_is_refused_with_its_size(spec, size):
    with pytest.raises(SearchSpaceError) as info:
        tunelab.create_tuner("grid", parse_search_space(spec))
    message = str(info.value)
    assert "\n" not in message
    assert f"{size} points" in message and f"{MAX_GRID_POINTS}" in message


def test_continuous_resolution_counts_towards_the_limit():
    space = parse_search_space({"x": hp.uniform(0, 1), "y": hp.uniform(0, 1)})
    with pytest.raises(SearchSpaceError, match="4000000 points"):
        tunelab.create_tuner("grid", space, n_points=2000)
    with pytest.raises(SearchSpaceError, match="2000000 points"):
        tunelab.create_tuner("grid", space, n_points={"x": 1000, "y": 2000})


def test_grid_at_the_limit_is_enumerated_lazily_in_order():
    assert MAX_GRID_POINTS == 10**6
    space = parse_search_space({"a": hp.randint(0, 1000), "b": hp.randint(0, 1000)})
    tuner = tunelab.create_tuner("grid", space)
    first = [tuner.suggest()[1] for _ in range(3)]
    assert first == [{"a": 0, "b": 0}, {"a": 0, "b": 1}, {"a": 0, "b": 2}]


def test_small_grid_is_exhausted_after_every_point():
    space = parse_search_space({"a": hp.choice([1, 2]), "b": hp.quniform(0, 1, 0.5)})
    tuner = tunelab.create_tuner("grid", space)
    seen = []
    with pytest.raises(tunelab.errors.SearchSpaceExhausted):
        while True:
            seen.append(tuner.suggest()[1])
    assert len(seen) == space.cardinality == 6


def test_check_grid_size_gives_the_verdict_without_a_tuner():
    space = parse_search_space({"a": hp.randint(0, 10), "x": hp.uniform(0, 1)})
    assert check_grid_size(space) == 50
    assert check_grid_size(space, per_name={"x": 3}) == 30
    with pytest.raises(GridTooLargeError, match="about 10\\*\\*36 points"):
        check_grid_size(parse_search_space({f"p{i}": hp.randint(0, 1000) for i in range(12)}))


def test_random_search_numbers_grid_search_combinations_instead_of_listing_them():
    # 10**30 combinations: listing them (as random search did) never finishes.
    space = {f"p{i}": hp.grid_search(list(range(10))) for i in range(30)}
    tuner = tunelab.create_tuner("random", space, seed=0)
    first, second = tuner.suggest()[1], tuner.suggest()[1]
    assert [first[f"p{i}"] for i in range(30)] == [0] * 30
    assert [second[f"p{i}"] for i in range(30)] == [0] * 29 + [1]
