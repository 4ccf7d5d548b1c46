"""The logit scale: ``hp.logituniform`` and NNI-style ``logituniform`` for parameters inside (0, 1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunelab import hp
from tunelab.errors import SearchSpaceError
from tunelab.space import Float, LogitFloat, parse_search_space
from tunelab.tuners._unit import UnitSpace


def test_nni_spelling_and_hp_helper_build_the_same_domain() -> None:
    space = parse_search_space({"p": {"_type": "logituniform", "_value": [0.01, 0.99]}})
    assert space["p"] == hp.logituniform(0.01, 0.99) == LogitFloat(0.01, 0.99)
    assert space["p"] != Float(0.01, 0.99)  # the scale is part of the domain
    assert space["p"].describe() == {"_type": "logituniform", "_value": [0.01, 0.99]}
    assert parse_search_space({"p": space["p"].describe()})["p"] == space["p"]


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((0.0, 0.5), "inside \\(0, 1\\), but got low=0.0"),
        ((0.5, 1.0), "inside \\(0, 1\\), but got high=1.0"),
        ((-0.1, 0.5), "low=-0.1"),
        ((0.6, 0.4), "low < high"),
    ],
)
def test_bounds_outside_the_open_unit_interval_name_the_field(bounds: tuple[float, float], message: str) -> None:
    with pytest.raises(SearchSpaceError, match=f"search_space.p: logituniform .*{message}"):
        parse_search_space({"p": {"_type": "logituniform", "_value": list(bounds)}})
    with pytest.raises(SearchSpaceError, match=f"hp.logituniform: .*{message}"):
        hp.logituniform(*bounds)


def test_wrong_arity_and_typos_are_one_line_errors() -> None:
    with pytest.raises(SearchSpaceError, match="search_space.p"):
        parse_search_space({"p": {"_type": "logituniform", "_value": [0.1]}})
    with pytest.raises(SearchSpaceError, match="logituniform"):
        parse_search_space({"p": {"_type": "logitunifrom", "_value": [0.1, 0.9]}})


def test_draws_are_uniform_on_the_logit() -> None:
    d = LogitFloat(1e-3, 1 - 1e-3)
    rng = np.random.default_rng(0)
    draws = np.array([d.sample(rng) for _ in range(4000)])
    assert np.all((draws >= d.low) & (draws <= d.high))
    logits = np.log(draws / (1 - draws))
    # uniform on [-6.9, 6.9]: a sixth of the draws lies beyond 0.99 (a linear draw: under 1%)
    assert 0.13 < np.mean(draws > 0.99) < 0.2 and 0.13 < np.mean(draws < 0.01) < 0.2
    assert abs(np.mean(logits)) < 0.2


def test_internal_coordinates_round_trip_and_clip() -> None:
    d = LogitFloat(0.01, 0.99)
    for p in (0.01, 0.2, 0.5, 0.9, 0.99):
        assert math.isclose(d.from_internal(d.to_internal(p)), p, rel_tol=1e-12)
    assert d.to_internal(0.5) == 0.0
    assert d.from_internal(1e9) == 0.99 and d.from_internal(-1e9) == 0.01 and d.from_internal(math.nan) == 0.01
    assert d.contains(0.5) and not d.contains(0.995) and not d.contains("0.5")


def test_unit_cube_coordinate_is_linear_in_the_logit() -> None:
    unit = UnitSpace(parse_search_space({"p": hp.logituniform(0.01, 0.99)}))
    assert unit.encode({"p": 0.5})[0] == pytest.approx(0.5)
    assert unit.encode({"p": 0.01})[0] == pytest.approx(0.0) and unit.encode({"p": 0.99})[0] == pytest.approx(1.0)
    # a quarter of the logit range: logit(p) = -logit(0.99) / 2
    quarter = 1 / (1 + math.exp(math.log(99) / 2))
    assert unit.encode({"p": quarter})[0] == pytest.approx(0.25)
    assert unit.decode(np.array([0.25]))["p"] == pytest.approx(quarter)


def test_grid_is_even_on_the_logit() -> None:
    points = LogitFloat(0.01, 0.99).grid(3)
    assert points == pytest.approx([0.01, 0.5, 0.99])
