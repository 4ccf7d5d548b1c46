"""The three spellings of a space (NNI, Auptimizer, hp helpers) and their bound conventions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab import hp
from tunelab.errors import SearchSpaceError
from tunelab.space import Float, Int, parse_auptimizer, parse_nni, parse_search_space

NESTED = {
    "optimizer": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 1]}},
            {
                "_name": "adam",
                "beta": {"_type": "loguniform", "_value": [0.8, 0.999]},
                "amsgrad": {"_type": "choice", "_value": [True, False]},
            },
            {"_name": "plain"},
        ],
    },
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
}


def test_nni_randint_excludes_upper_bound():
    space = parse_nni({"n": {"_type": "randint", "_value": [2, 5]}})
    assert space["n"] == Int(2, 4)
    rng = np.random.default_rng(0)
    assert {space.sample(rng)["n"] for _ in range(300)} == {2, 3, 4}


def test_auptimizer_int_includes_upper_bound():
    space = parse_auptimizer([{"name": "n", "range": [2, 5], "type": "int"}])
    assert space["n"] == Int(2, 5)


def test_hp_randint_excludes_and_qrandint_includes():
    assert parse_search_space({"a": hp.randint(2, 5)})["a"] == Int(2, 4)
    assert parse_search_space({"a": hp.qrandint(2, 6, 2)})["a"] == Int(2, 6, step=2)
    assert parse_search_space({"a": hp.integer(2, 5)})["a"] == Int(2, 5)


def test_all_three_formats_build_the_same_model():
    nni = parse_nni({"x": {"_type": "uniform", "_value": [0, 1]}, "k": {"_type": "choice", "_value": ["a", "b"]}})
    aup = parse_auptimizer(
        [{"name": "x", "range": [0, 1], "type": "float"}, {"name": "k", "range": ["a", "b"], "type": "choice"}]
    )
    py = parse_search_space({"x": hp.uniform(0, 1), "k": hp.choice(["a", "b"])})
    assert nni == aup == py


def test_nested_choice_samples_only_valid_combinations():
    space = parse_nni(NESTED)
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(200):
        params = space.sample(rng)
        space.validate(params)
        option = params["optimizer"]
        seen.add(option["_name"])
        expected = {"sgd": {"_name", "momentum"}, "adam": {"_name", "beta", "amsgrad"}, "plain": {"_name"}}
        assert set(option) == expected[option["_name"]]
        assert space.decode(space.encode(params)) == params
    assert seen == {"sgd", "adam", "plain"}


def test_nested_leaves_carry_their_condition():
    space = parse_nni(NESTED)
    keys = {leaf.key: leaf.condition for leaf in space.leaves}
    assert keys["optimizer/sgd/momentum"] == (("optimizer", 0),)
    assert keys["optimizer/adam/beta"] == (("optimizer", 1),)
    assert keys["lr"] == ()


def test_python_space_allows_constants_and_branches():
    space = parse_search_space({"epochs": 5, "opt": hp.choice([hp.branch("sgd", lr=hp.uniform(0, 1)), "adam"])})
    params = space.sample(np.random.default_rng(0))
    assert params["epochs"] == 5


def test_search_space_from_json_file(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(NESTED))
    assert parse_search_space(path) == parse_nni(NESTED)


def test_describe_round_trips_every_type():
    space = parse_search_space(
        {
            "a": hp.uniform(0, 1),
            "b": hp.quniform(0, 10, 2),
            "c": hp.loguniform(1e-3, 1),
            "d": hp.qloguniform(1, 100, 5),
            "e": hp.normal(0, 1),
            "f": hp.qnormal(0, 4, 2),
            "g": hp.lognormal(0, 1),
            "h": hp.randint(0, 9),
            "i": hp.qrandint(0, 9, 3),
            "j": hp.lograndint(1, 50),
            "k": hp.grid_search([1, 2]),
            "l": hp.choice(["x", "y"]),
        }
    )
    assert parse_search_space(json.loads(json.dumps(space.describe()))) == space


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"lr": {"_type": "uniform", "_value": [1, 0]}}, "search_space.lr: uniform low < high"),
        (
            {"lr": {"_type": "loguniform", "_value": [0, 1]}},
            "search_space.lr: loguniform a log-scaled range needs low > 0",
        ),
        ({"k": {"_type": "choice", "_value": []}}, "search_space.k: choice needs at least one option"),
        ({"k": {"_type": "uniformm", "_value": [0, 1]}}, "search_space.k: unknown _type 'uniformm'"),
        ({"k": {"_type": "quniform", "_value": [0, 1]}}, "search_space.k: quniform needs a _value list of 3 numbers"),
        (
            {"k": {"_type": "randint", "_value": [3, 3]}},
            "search_space.k: randint needs lower < upper (upper is excluded)",
        ),
        ({"k": {"_type": "uniform"}}, "search_space.k: '_value' is missing"),
        ({"k": {"_type": ["uniform"], "_value": [0, 1]}}, "search_space.k: _type must be a string"),
        ({"k": {"_type": "uniform", "_value": ["a", 1]}}, "search_space.k: uniform needs finite numbers"),
        ({"k": [1, 2]}, "search_space.k: expected"),
        ({}, "search_space: the search space is empty"),
        (
            {"o": {"_type": "choice", "_value": [{"_name": "a", "x": {"_type": "uniform", "_value": [2, 1]}}]}},
            "search_space.o.a.x: uniform low < high",
        ),
    ],
)
def test_bad_nni_spaces_get_one_line_errors(spec, message):
    with pytest.raises(SearchSpaceError) as info:
        parse_nni(spec)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "entries, message",
    [
        ([{"name": "x", "range": [5, -5], "type": "float"}], "parameter_config.x: low < high"),
        ([{"name": "x", "range": [0, 1], "type": "double"}], "parameter_config.x.type: expected float, int or choice"),
        ([{"name": "x", "range": [0, 1]}], "parameter_config[0]: 'type' is missing"),
        ([{"name": "x", "range": [0, 1], "type": "float", "foo": 1}], "parameter_config[0]: unknown key 'foo'"),
        (
            [{"name": "x", "range": [0, 1], "type": "int"}, {"name": "x", "range": [0, 1], "type": "int"}],
            "appears twice",
        ),
        ([], "parameter_config: the search space is empty"),
    ],
)
def test_bad_auptimizer_spaces(entries, message):
    with pytest.raises(SearchSpaceError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_auptimizer(entries)


def test_bad_hp_calls_raise_search_space_errors():
    with pytest.raises(SearchSpaceError, match="hp.loguniform"):
        hp.loguniform(0, 1)
    with pytest.raises(SearchSpaceError, match="hp.randint"):
        hp.randint(3, 3)
    with pytest.raises(SearchSpaceError, match="hp.choice"):
        hp.choice([])


nni_entries = st.one_of(
    st.tuples(st.floats(-100, 100), st.floats(0.01, 100)).map(
        lambda t: {"_type": "uniform", "_value": [t[0], t[0] + t[1]]}
    ),
    st.tuples(st.floats(1e-4, 10), st.floats(1.01, 100)).map(
        lambda t: {"_type": "loguniform", "_value": [t[0], t[0] * t[1]]}
    ),
    st.tuples(st.integers(-20, 20), st.integers(1, 20)).map(
        lambda t: {"_type": "randint", "_value": [t[0], t[0] + t[1]]}
    ),
    st.tuples(st.floats(0, 10), st.floats(1, 10), st.sampled_from([0.5, 1, 2])).map(
        lambda t: {"_type": "quniform", "_value": [t[0], t[0] + t[1], t[2]]}
    ),
    st.tuples(st.floats(-5, 5), st.floats(0.1, 3)).map(lambda t: {"_type": "normal", "_value": [t[0], t[1]]}),
    st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True).map(lambda v: {"_type": "choice", "_value": v}),
)


@settings(max_examples=60, deadline=None)
@given(
    spec=st.dictionaries(st.text("abcdef", min_size=1, max_size=4), nni_entries, min_size=1, max_size=5),
    seed=st.integers(0, 1000),
)
def test_random_valid_spaces_sample_in_bounds(spec, seed):
    space = parse_nni(spec)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        params = space.sample(rng)
        space.validate(params)
        assert space.contains(space.decode(space.encode(params)))


@settings(max_examples=100, deadline=None)
@given(
    junk=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=8,
    )
)
def test_junk_only_ever_raises_search_space_error(junk):
    try:
        parse_search_space({"p": junk} if not isinstance(junk, dict) else junk)
    except SearchSpaceError as exc:
        assert "\n" not in str(exc)


def test_finite_space_cardinality_and_grid():
    space = parse_search_space({"a": hp.choice([1, 2, 3]), "b": hp.randint(0, 2), "c": hp.quniform(0, 1, 0.5)})
    assert space.cardinality == 3 * 2 * 3
    assert len(list(space.grid())) == 18
    assert parse_search_space({"x": hp.uniform(0, 1)}).cardinality is None
    assert isinstance(space["c"], Float)
