"""Python control flow as conditions: a parameter read only under some values of a categorical one is conditional."""

from __future__ import annotations

from typing import Any

import pytest

from tunelab.space import DiscoveredSpace, HyperParameters, parse_search_space
from tunelab.space.hyperparameters import Parent


def _objective(hp: HyperParameters) -> None:
    kind = hp.suggest_categorical("kind", ["svm", "rf", "knn"])
    hp.suggest_float("lr", 1e-3, 1.0, log=True)
    if kind == "svm":
        hp.suggest_float("c", 0.1, 10.0)
        if hp.suggest_categorical("kernel", ["rbf", "poly"]) == "poly":
            hp.suggest_int("degree", 2, 5)
    elif kind == "rf":
        hp.suggest_int("depth", 1, 10)


def _call(space: DiscoveredSpace, values: dict[str, Any]) -> DiscoveredSpace:
    """One successful call of the objective with these categorical values: its declarations and its path."""
    hp = space.hyperparameters()
    hp.values = dict(values)
    _objective(hp)
    return space.grown(hp.space).observed(hp.used, hp.values)


def test_a_parameter_seen_in_one_branch_and_absent_in_another_becomes_conditional() -> None:
    space = _call(DiscoveredSpace(), {"kind": "svm", "kernel": "rbf"})
    assert space.inferred == {}  # seen in one branch only: no evidence of a condition yet
    assert list(space.space) == ["kind", "lr", "c", "kernel"]
    space = _call(space, {"kind": "rf"})
    assert space.inferred["c"] == [Parent("kind", ["svm"])]
    assert space.inferred["kernel"] == [Parent("kind", ["svm"])]
    assert space.inferred["depth"] == [Parent("kind", ["rf"])]
    assert "lr" not in space.inferred  # read in every call
    assert space.space == parse_search_space(
        {
            "kind": {
                "_type": "choice",
                "_value": [
                    {
                        "_name": "svm",
                        "c": {"_type": "uniform", "_value": [0.1, 10.0]},
                        "kernel": {"_type": "choice", "_value": ["rbf", "poly"]},
                    },
                    {"_name": "rf", "depth": {"_type": "randint", "_value": [1, 11]}},
                    "knn",
                ],
            },
            "lr": {"_type": "loguniform", "_value": [1e-3, 1.0]},
        }
    )


def test_nested_branches_hang_under_the_parameter_read_last_before_them() -> None:
    space = DiscoveredSpace()
    for values in ({"kind": "svm", "kernel": "poly"}, {"kind": "svm", "kernel": "rbf"}, {"kind": "rf"}):
        space = _call(space, values)
    assert space.inferred["degree"] == [Parent("kind", ["svm"]), Parent("kernel", ["poly"])]
    config = space.params({"kind": "svm", "lr": 0.1, "c": 1.0, "kernel": "poly", "degree": 3})
    assert config == {"kind": {"_name": "svm", "c": 1.0, "kernel": {"_name": "poly", "degree": 3}}, "lr": 0.1}
    space.space.validate(config)
    assert space.values(config) == {"kind": "svm", "lr": 0.1, "c": 1.0, "kernel": "poly", "degree": 3}


def test_a_branch_seen_later_widens_the_condition_and_a_contradiction_drops_it() -> None:
    def objective(hp: HyperParameters) -> None:
        kind = hp.suggest_categorical("kind", ["a", "b", "c"])
        if kind != "c":
            hp.suggest_float("x", 0.0, 1.0)

    def call(space: DiscoveredSpace, kind: str) -> DiscoveredSpace:
        hp = space.hyperparameters()
        hp.values = {"kind": kind}
        objective(hp)
        return space.grown(hp.space).observed(hp.used, hp.values)

    space = call(call(DiscoveredSpace(), "a"), "c")
    assert space.inferred["x"] == [Parent("kind", ["a"])]
    space = call(space, "b")  # x is read under b too
    assert space.inferred["x"] == [Parent("kind", ["a", "b"])]
    assert call(space, "b") is space  # a path seen before changes nothing
    # A path that reads x where it was absent before: no value of kind tells them apart any more.
    contradicted = DiscoveredSpace(space.declarations, [*space.paths, {"used": ["kind", "x"], "values": {"kind": "c"}}])
    assert "x" not in contradicted.inferred and "x" in contradicted.space


def test_paths_and_their_conditions_survive_a_config_round_trip_and_reach_the_trial() -> None:
    space = _call(_call(DiscoveredSpace(), {"kind": "svm", "kernel": "rbf"}), {"kind": "rf"})
    again = DiscoveredSpace.from_config(space.get_config(), space.paths)
    assert again == space and again.space == space.space
    trial_side = DiscoveredSpace(again.declarations, conditions=again.inferred_config())
    assert trial_side.space == space.space
    hp = trial_side.hyperparameters(space.params({"kind": "rf", "lr": 0.5, "depth": 3}))
    assert hp.values == {"kind": "rf", "lr": 0.5, "depth": 3}  # c and kernel are not given under rf


def test_a_configuration_from_before_the_condition_keeps_its_values() -> None:
    early = _call(DiscoveredSpace(), {"kind": "svm", "kernel": "rbf"})
    before = early.params({"kind": "svm", "lr": 0.2, "c": 4.0, "kernel": "rbf"})
    assert before == {"kind": "svm", "lr": 0.2, "c": 4.0, "kernel": "rbf"}  # c top-level
    later = _call(early, {"kind": "rf"})
    assert later.params(later.values(before)) == {"kind": {"_name": "svm", "c": 4.0, "kernel": "rbf"}, "lr": 0.2}
    rf = early.params({"kind": "rf", "lr": 0.2, "c": 4.0, "kernel": "rbf"})
    assert later.params(later.values(rf)) == {"kind": {"_name": "rf", "depth": 1}, "lr": 0.2}


@pytest.mark.parametrize("bad", [{"used": "x", "values": {}}, {"used": [1], "values": {}}, {"values": {}}])
def test_a_malformed_stored_path_is_a_one_line_error(bad: dict[str, Any]) -> None:
    from tunelab.errors import SearchSpaceError

    with pytest.raises(SearchSpaceError, match="a define-by-run path must be"):
        DiscoveredSpace((), [bad])
