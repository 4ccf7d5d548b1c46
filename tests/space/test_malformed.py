"""Issue 14 item 13: a typo in a parameter spec is an error naming the parameter, never a constant."""

from __future__ import annotations

import numpy as np
import pytest

from tunelab import hp
from tunelab.errors import ConfigError, SearchSpaceError
from tunelab.space import Fixed, parse_nni, parse_search_space


def error_of(spec, parser=parse_search_space) -> str:
    with pytest.raises(SearchSpaceError) as info:
        parser(spec)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, ConfigError)
    return message


@pytest.mark.parametrize(
    "entry, expected",
    [
        ({"_typ": "uniform", "_value": [0, 1]}, "search_space.lr: unknown key '_typ'; did you mean '_type'?"),
        ({"type": "uniform", "value": [0, 1]}, "search_space.lr: unknown key 'type'; did you mean '_type'?"),
        ({"_type_": "uniform", "_value": [0, 1]}, "search_space.lr: unknown key '_type_'; did you mean '_type'?"),
        ({"_value": [0, 1]}, "search_space.lr: '_type' is missing"),
        ({"_type": "uniform", "_values": [0, 1]}, "search_space.lr: unknown key '_values'; did you mean '_value'?"),
        ({"Type": "uniform", "Value": [0, 1]}, "search_space.lr: unknown key 'Type'; did you mean '_type'?"),
        ({"low": 0, "high": 1}, "search_space.lr: unknown key 'high'"),
        (
            {"name": "lr", "range": [0, 1], "type": "float"},
            "search_space.lr: unknown key 'type'; did you mean '_type'?",
        ),
    ],
)
def test_spec_like_dicts_with_typos_are_errors(entry, expected):
    message = error_of({"lr": entry})
    assert message.startswith(expected), message


def test_a_bare_list_suggests_choice():
    message = error_of({"x": [0, 1]})
    assert message == (
        "search_space.x: a bare list is not a parameter; for one of these values write {_type: choice, _value: [0, 1]}"
    )


def test_a_tuple_from_python_suggests_hp_helpers():
    message = error_of({"x": (0, 1)})
    assert message.startswith("search_space.x: a tuple is not a parameter")
    assert "tunelab.hp.uniform(0, 1)" in message and "hp.choice([0, 1])" in message
    assert "hp.uniform" not in error_of({"x": ("a", "b")})
    assert "hp.choice" in error_of({"x": {1, 2}})


def test_nested_typos_name_the_full_path():
    spec = {"opt": {"_type": "choice", "_value": [{"_name": "sgd", "lr": {"_typ": "uniform", "_value": [0, 1]}}]}}
    assert error_of(spec).startswith("search_space.opt.sgd.lr: unknown key '_typ'")
    with pytest.raises(SearchSpaceError, match=r"hp.branch\('sgd'\).lr: a bare list is not a parameter"):
        hp.choice([{"_name": "sgd", "lr": [0.1, 0.2]}])


def test_a_choice_option_that_looks_like_a_spec_needs_a_name():
    message = error_of({"k": {"_type": "choice", "_value": [{"_type": "uniform", "_value": [0, 1]}, 3]}})
    assert message.startswith("search_space.k: option 0 looks like a parameter spec")
    message = error_of({"k": hp.choice([hp.uniform(0, 1), 3])})
    assert message.startswith("search_space.k: option 0 is a search-space domain")


def test_domains_hidden_in_a_constant_are_errors():
    message = error_of({"model": {"layers": hp.randint(1, 4)}})
    assert message.startswith("search_space.model.layers: a nested mapping of parameters is not supported")


def test_nni_strict_parser_still_names_the_expected_form():
    message = error_of({"k": [1, 2]}, parse_nni)
    assert message.startswith("search_space.k: expected")
    assert "{_type: choice, _value: [1, 2]}" in message


def test_plain_constants_stay_legal():
    space = parse_search_space(
        {
            "epochs": 10,
            "lr": 0.1,
            "name": "run",
            "flag": True,
            "none": None,
            "npint": np.int64(3),
            "kwargs": {"betas": 0.9, "eps": 1e-8},
            "x": hp.uniform(0, 1),
        }
    )
    assert space["epochs"] == Fixed(10)
    assert space["kwargs"] == Fixed({"betas": 0.9, "eps": 1e-8})
    params = space.sample(np.random.default_rng(0))
    assert params["epochs"] == 10 and params["kwargs"] == {"betas": 0.9, "eps": 1e-8}


def test_a_constant_list_is_written_as_a_one_option_choice():
    space = parse_search_space({"sizes": {"_type": "choice", "_value": [[64, 64]]}})
    assert space.sample(np.random.default_rng(0)) == {"sizes": [64, 64]}
