"""Issue 14 item 15: spaces that used to crash or hang: huge grids, tiny q, huge bounds, deep nesting."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tunelab
from tunelab import hp
from tunelab.errors import SearchSpaceError
from tunelab.space import MAX_NESTING, Float, Int, Normal, parse_search_space


def error_of(spec) -> str:
    with pytest.raises(SearchSpaceError) as info:
        parse_search_space(spec)
    assert "\n" not in str(info.value)
    return str(info.value)


def draw(space, name="random", n=5):
    tuner = tunelab.create_tuner(name, space, seed=0)
    out = []
    for _ in range(n):
        trial_id, params = tuner.suggest()
        space.validate(params)
        tuner.observe(trial_id, float(len(out)))
        out.append(params)
    return out


def test_a_huge_quantized_range_is_counted_not_enumerated():
    space = parse_search_space({"x": {"_type": "quniform", "_value": [0, 1e12, 1e-4]}})
    assert space.cardinality == 10**16 + 1
    assert space.grid_size() == 10**16 + 1
    first = list(itertools.islice(space.grid(), 3))
    assert [p["x"] for p in first] == [0.0, 0.0001, 0.0002]


@pytest.mark.parametrize("tuner", ["random", "tpe"])
def test_a_huge_quantized_range_is_sampled(tuner):
    space = parse_search_space({"x": {"_type": "quniform", "_value": [0, 1e12, 1e-4]}})
    values = [p["x"] for p in draw(space, tuner)]
    assert len(set(values)) == len(values)


@pytest.mark.parametrize("tuner", ["random", "tpe"])
def test_huge_integer_ranges_are_sampled(tuner):
    space = parse_search_space(
        {"n": {"_type": "randint", "_value": [0, 1e18]}, "m": hp.integer(-(2**63) + 1, 2**63 - 1)}
    )
    assert space.cardinality == 10**18 * (2**64 - 1)
    assert space["n"] == Int(0, 10**18 - 1)
    for params in draw(space, tuner):
        assert isinstance(params["n"], int) and 0 <= params["n"] < 10**18
        assert isinstance(params["m"], int)


def test_integer_bounds_beyond_64_bits_are_refused():
    assert error_of({"n": {"_type": "randint", "_value": [0, 10**400]}}).startswith("search_space.n: randint")
    assert error_of({"n": {"_type": "randint", "_value": [0, 1e300]}}).startswith("search_space.n: randint")
    with pytest.raises(SearchSpaceError, match="hp.integer"):
        hp.integer(0, 2**70)


@pytest.mark.parametrize(
    "spec",
    [
        {"_type": "qnormal", "_value": [0, 1, 5e-324]},
        {"_type": "quniform", "_value": [0, 1, 5e-324]},
        {"_type": "qloguniform", "_value": [1e-300, 1, 5e-324]},
        {"_type": "quniform", "_value": [0, 1e308, 1e-300]},
        {"_type": "quniform", "_value": [0, 1, 1e308]},
        {"_type": "qnormal", "_value": [0, 1e300, 1e-300]},
        {"_type": "qlognormal", "_value": [0, 1, 5e-324]},
        {"_type": "uniform", "_value": [0, 1e308]},
        {"_type": "uniform", "_value": [-1e308, 0]},
        {"_type": "loguniform", "_value": [5e-324, 1e308]},
        {"_type": "normal", "_value": [0, 1e308]},
        {"_type": "lognormal", "_value": [600, 100]},
    ],
)
@pytest.mark.parametrize("tuner", ["random", "tpe"])
def test_extreme_numbers_work_or_fail_cleanly(spec, tuner):
    space = parse_search_space({"x": spec})
    for params in draw(space, tuner, n=min(4, space.cardinality or 4)):
        assert math.isfinite(params["x"])
    if space.cardinality is not None:
        list(itertools.islice(space.grid(), 3))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"_type": "uniform", "_value": [-1e308, 1e308]}, "search_space.x: uniform the range is too wide"),
        ({"_type": "uniform", "_value": [0, float("inf")]}, "search_space.x: uniform needs finite numbers"),
        ({"_type": "uniform", "_value": [float("nan"), 1]}, "search_space.x: uniform needs finite numbers"),
        ({"_type": "uniform", "_value": [1, 0]}, "search_space.x: uniform low < high must hold"),
        ({"_type": "quniform", "_value": [0, 1, 0]}, "search_space.x: quniform q must be > 0"),
        ({"_type": "quniform", "_value": [0, 1, -1]}, "search_space.x: quniform q must be > 0"),
        ({"_type": "qnormal", "_value": [0, 1, -0.0]}, "search_space.x: qnormal q must be > 0"),
        ({"_type": "normal", "_value": [0, 0]}, "search_space.x: normal sigma must be > 0"),
        ({"_type": "uniform", "_value": [0, 5e-324]}, "search_space.x: uniform the range [0, 5e-324] holds only 2"),
        ({"_type": "normal", "_value": [1, 1e-300]}, "search_space.x: normal sigma=1e-300 is below the float"),
        ({"_type": "lognormal", "_value": [0, 1e18]}, "search_space.x: lognormal a log-normal needs |mu| + sigma"),
        ({"_type": "qnormal", "_value": [0, 1, 7]}, "search_space.x: qnormal q=7 is wider than 95% of the prior"),
        ({"_type": "quniform", "_value": [1, 1 + 1e-14, 1e-30]}, "search_space.x: quniform q=1e-30 is finer than"),
        ({"_type": "uniform", "_value": [0, 10**400]}, "search_space.x: uniform needs finite numbers"),
    ],
)
def test_bad_numbers_name_the_parameter(entry, message):
    assert error_of({"x": entry}).startswith(message)


def test_domains_survive_non_finite_internal_coordinates():
    for domain in (Float(0, 1), Float(1, 10, log=True, q=0.5), Int(0, 9), Int(1, 100, log=True), Normal(0, 1, q=0.1)):
        for x in (float("nan"), float("inf"), -float("inf"), 1e308, -1e308):
            assert domain.contains(domain.from_internal(x)), (domain, x)


def nested(depth: int) -> dict:
    spec: dict = {"leaf": {"_type": "uniform", "_value": [0, 1]}}
    for level in range(depth):
        spec = {f"c{level}": {"_type": "choice", "_value": [{"_name": "a", **spec}, {"_name": "b"}]}}
    return spec


def test_nesting_up_to_the_limit_works():
    space = parse_search_space(nested(MAX_NESTING))
    params = draw(space, "random", n=3)
    assert params and space.cardinality is None


def test_nesting_deeper_than_the_limit_is_refused():
    assert MAX_NESTING == 50
    message = error_of(nested(MAX_NESTING + 1))
    assert f"nested deeper than {MAX_NESTING} levels" in message
    assert message.startswith("search_space.c50.a.c49.a.")
    assert "nested deeper" in error_of(nested(2000))


def test_deep_nesting_through_hp_branch_is_refused():
    inner = {"x": hp.uniform(0, 1)}
    with pytest.raises(SearchSpaceError, match=f"nested deeper than {MAX_NESTING} levels"):
        for _ in range(MAX_NESTING + 5):
            inner = {"c": hp.choice([hp.branch("a", **inner), hp.branch("b")])}
        parse_search_space(inner)


def test_deep_and_self_referencing_constants_are_refused():
    deep: list = [1]
    for _ in range(5000):
        deep = [deep]
    assert "nested deeper than" in error_of({"x": {"_type": "choice", "_value": [deep]}})
    loop: dict = {"a": 1}
    loop["self"] = loop
    assert error_of({"x": loop}) == "search_space.x.self: the value refers to itself"
    lst: list = []
    lst.append(lst)
    assert (
        error_of({"x": {"_type": "choice", "_value": [lst, 2]}}) == "search_space.x[0][0]: the value refers to itself"
    )


def test_shared_sub_spaces_cannot_explode():
    # YAML aliases can share one sub-space between options at every level: 2**40 parameters.
    spec: dict = {"leaf": {"_type": "uniform", "_value": [0, 1]}}
    for _ in range(40):
        spec = {"c": {"_type": "choice", "_value": [{"_name": "a", **spec}, {"_name": "b", **spec}]}}
    assert "more than" in error_of(spec)


def test_cardinality_of_small_spaces_matches_brute_force():
    space = parse_search_space(
        {
            "a": hp.choice([hp.branch("p", u=hp.randint(0, 3)), hp.branch("q", v=hp.quniform(0, 1, 0.3)), 7]),
            "b": hp.quniform(0.25, 2.6, 0.5),
            "c": hp.qloguniform(1, 100, 30),
            "d": hp.qrandint(0, 10, 4),
        }
    )
    points = list(space.grid())
    distinct = {space.fingerprint(p) for p in points}
    assert space.cardinality == space.grid_size() == len(points) == len(distinct)
    for p in points:
        space.validate(p)
    rng = np.random.default_rng(0)
    drawn = {space.fingerprint(space.sample(rng)) for _ in range(20000)}
    assert drawn <= distinct and len(drawn) == len(distinct)


def test_hp_randint_excludes_an_integral_float_bound():
    assert hp.randint(0, 1e18) == Int(0, 10**18 - 1)
    assert hp.lograndint(1, 1e3) == Int(1, 999, log=True)
    with pytest.raises(SearchSpaceError, match="hp.randint: low < high"):
        hp.randint(5, 5.0)


def test_grid_of_a_nested_choice_keeps_tuple_options_whole():
    space = parse_search_space({"o": hp.choice([(1, 2), hp.branch("b", k=hp.randint(0, 2)), (1, 2), "c"])})
    assert list(space.grid()) == [
        {"o": (1, 2)},
        {"o": {"_name": "b", "k": 0}},
        {"o": {"_name": "b", "k": 1}},
        {"o": "c"},
    ]
    assert space.cardinality == 4
