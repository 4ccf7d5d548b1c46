"""Each domain keeps NNI's semantics: bounds, quantization, log scale, integer ends."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunelab.space import Choice, Float, Int, Normal


def draws(domain, n=400, seed=0):
    rng = np.random.default_rng(seed)
    return [domain.sample(rng) for _ in range(n)]


def test_uniform_stays_in_bounds_and_covers_them():
    values = draws(Float(-2.0, 3.0))
    assert all(-2.0 <= v <= 3.0 for v in values)
    assert min(values) < -1.5 and max(values) > 2.5


def test_quniform_is_clipped_and_quantized_like_nni():
    domain = Float(0.0, 1.0, q=0.6)
    values = set(draws(domain))
    # clip(round(u / q) * q, low, high): 0, 0.6 and the clipped 1.2 -> 1.0
    assert values == {0.0, 0.6, 1.0}
    assert set(domain.grid(0)) == values


def test_loguniform_is_uniform_in_log_space():
    values = np.array(draws(Float(1e-4, 1.0, log=True), n=4000))
    assert values.min() >= 1e-4 and values.max() <= 1.0
    below = np.mean(values < 1e-2)  # half the log range
    assert 0.45 < below < 0.55


def test_qloguniform_values_are_multiples_of_q():
    values = draws(Float(1.0, 1000.0, log=True, q=5.0))
    assert all(v == 1.0 or v == 1000.0 or abs(v / 5 - round(v / 5)) < 1e-9 for v in values)


def test_normal_family():
    values = np.array(draws(Normal(3.0, 0.5), n=4000))
    assert abs(values.mean() - 3.0) < 0.05
    logs = np.array(draws(Normal(0.0, 1.0, log=True), n=4000))
    assert (logs > 0).all() and abs(np.median(np.log(logs))) < 0.1
    quantized = draws(Normal(0.0, 10.0, q=2.0))
    assert all(float(v) / 2 == round(float(v) / 2) for v in quantized)


def test_int_includes_both_ends():
    values = set(draws(Int(1, 3)))
    assert values == {1, 2, 3}
    assert all(isinstance(v, int) for v in values)


def test_int_with_step_and_log():
    assert set(draws(Int(0, 10, step=5))) == {0, 5, 10}
    logs = draws(Int(1, 1000, log=True), n=2000)
    assert min(logs) >= 1 and max(logs) <= 1000
    assert np.mean(np.array(logs) < 32) > 0.4  # log scale favours small values


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: Float(1.0, 1.0), "low < high"),
        (lambda: Float(0.0, 1.0, log=True), "low > 0"),
        (lambda: Float(0.0, 1.0, q=0), "q must be > 0"),
        (lambda: Normal(0.0, -1.0), "sigma must be > 0"),
        (lambda: Int(3, 1), "low <= high"),
        (lambda: Int(1, 2.5), "must be an integer"),
        (lambda: Choice(()), "at least one option"),
        (lambda: Float(float("nan"), 1.0), "finite number"),
    ],
)
def test_invalid_domains_say_what_is_wrong(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-3, 1e6, allow_nan=False),
    x=st.floats(-1e7, 1e7, allow_nan=False),
    log=st.booleans(),
)
def test_from_internal_always_gives_a_legal_value(low, width, x, log):
    if log:
        low = abs(low) + 1e-3
    domain = Float(low, low + width, log=log)
    value = domain.from_internal(x)
    assert domain.contains(value)


@given(low=st.integers(-50, 50), span=st.integers(0, 100), x=st.floats(-1e3, 1e3, allow_nan=False))
def test_int_from_internal_is_a_legal_integer(low, span, x):
    domain = Int(low, low + span)
    value = domain.from_internal(x)
    assert isinstance(value, int) and domain.contains(value)


@given(
    options=st.lists(
        st.one_of(st.integers(), st.text(max_size=5), st.floats(allow_nan=False)), min_size=1, max_size=6, unique=True
    )
)
def test_choice_round_trips_through_its_index(options):
    domain = Choice(tuple(options))
    for option in options:
        assert domain.contains(option)
        recovered = domain.from_internal(domain.to_internal(option))
        assert recovered == option or (isinstance(option, float) and math.isclose(recovered, option))
