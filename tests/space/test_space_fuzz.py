"""Property tests: any search-space dict either fails with one SearchSpaceError line or can be sampled.

The generated specs mix valid NNI and hp entries with the malformed forms users write (``_typ``,
``type``/``value``, bare lists, tuples, sets, domains inside constants), numbers at the float
limits (5e-324, 1e308, 1e18 and 2**70 integers, inf, NaN) and nesting past the limit.
"""

from __future__ import annotations

import contextlib
import math
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tunelab
from tunelab import hp
from tunelab.errors import SearchSpaceError, SearchSpaceExhausted
from tunelab.space import MAX_NESTING, parse_search_space
from tunelab.tuners._grid import MAX_GRID_POINTS, GridTooLargeError

EXTREME_FLOATS = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e-4, 0.5, 1.0, 3.0, 1e12, 1e18, 1e300, 1e308, -1e308]
numbers = st.one_of(
    st.sampled_from(EXTREME_FLOATS + [math.inf, -math.inf, math.nan]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, 10, -5, 10**18, 2**63, 10**400]),
)
small_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3), numbers)
NNI_KINDS = [
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
    "randint",
    "integer",
    "logint",
]
HP_HELPERS = {
    "uniform": 2,
    "quniform": 3,
    "loguniform": 2,
    "qloguniform": 3,
    "randint": 2,
    "lograndint": 2,
    "qrandint": 3,
    "integer": 3,
    "normal": 2,
    "qnormal": 3,
    "lognormal": 2,
}


def nni_entry():
    return st.builds(
        lambda kind, values: {"_type": kind, "_value": values},
        st.sampled_from(NNI_KINDS),
        st.lists(numbers, min_size=1, max_size=4),
    )


ARITY = {"uniform": 2, "loguniform": 2, "normal": 2, "lognormal": 2, "randint": 2}
extreme = st.one_of(st.sampled_from(EXTREME_FLOATS), st.sampled_from([0, 1, 7, 10**18, 2**62, -(2**62)]))


def ordered_entry():
    """Well-formed entries (low < high, q > 0 most of the time) at the limits of the floats."""
    return st.builds(
        lambda kind, a, b, q: {"_type": kind, "_value": [min(a, b), max(a, b), abs(q)][: ARITY.get(kind, 3)]},
        st.sampled_from(NNI_KINDS),
        extreme,
        extreme,
        extreme,
    )


def hp_entry():
    """An hp helper call; an invalid one raises SearchSpaceError when built (that counts as an answer)."""
    return st.builds(
        lambda name, values: ("hp", name, values),
        st.sampled_from(sorted(HP_HELPERS)),
        st.lists(numbers, min_size=3, max_size=3),
    )


malformed = st.one_of(
    st.builds(lambda v: {"_typ": "uniform", "_value": v}, st.lists(numbers, max_size=3)),
    st.builds(lambda v: {"type": "uniform", "value": v}, st.lists(numbers, max_size=3)),
    st.builds(lambda v: {"_value": v}, st.lists(numbers, max_size=3)),
    st.builds(lambda v: {"_type": "uniform", "_values": v}, st.lists(numbers, max_size=3)),
    st.lists(small_values, max_size=3),
    st.lists(small_values, max_size=3).map(tuple),
    st.frozensets(st.integers(0, 5), max_size=3).map(set),
    st.builds(lambda v: {"low": v, "high": v}, numbers),
    st.builds(lambda v: {"model": {"layers": ("hp", "randint", [0, v])}}, st.integers(1, 5)),
)


def leaf():
    return st.one_of(
        nni_entry(),
        ordered_entry(),
        ordered_entry(),
        hp_entry(),
        malformed,
        small_values,
        st.dictionaries(st.text("xyz", min_size=1, max_size=2), small_values, max_size=2),
        st.builds(
            lambda options, grid: {"_type": "grid_search" if grid else "choice", "_value": options},
            st.lists(small_values, min_size=0, max_size=4),
            st.booleans(),
        ),
    )


def with_choices(children):
    """Nested choices whose options are named sub-spaces (NNI) or hp branches."""
    names = st.text("abcdef", min_size=1, max_size=3)
    sub = st.dictionaries(names, children, min_size=0, max_size=2)
    option = st.one_of(st.builds(lambda n, s: {"_name": n, **s}, names, sub), small_values)
    return st.one_of(
        st.builds(lambda options: {"_type": "choice", "_value": options}, st.lists(option, min_size=1, max_size=3)),
        st.builds(lambda options: ("choice", options), st.lists(option, min_size=1, max_size=3)),
    )


entries = st.recursive(leaf(), with_choices, max_leaves=12)


def deep(levels: int, kind: str) -> dict:
    spec: dict = {
        "x": {"_type": kind, "_value": [0, 1, 0.5]} if kind.startswith("q") else {"_type": kind, "_value": [1, 2]}
    }
    for level in range(levels):
        spec = {f"c{level}": {"_type": "choice", "_value": [{"_name": "a", **spec}, 0]}}
    return spec


auptimizer = st.lists(
    st.builds(
        lambda name, bounds, kind: {"name": name, "range": bounds, "type": kind},
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.lists(numbers, max_size=3), st.lists(small_values, max_size=3), st.lists(extreme, max_size=2)),
        st.sampled_from(["float", "int", "choice", "double"]),
    ),
    max_size=3,
)
flat = st.dictionaries(st.text("pqrs", min_size=1, max_size=3), entries, min_size=1, max_size=4)
specs = st.one_of(
    auptimizer,
    flat,
    flat,
    flat,
    st.just({}),
    st.builds(deep, st.integers(MAX_NESTING - 2, MAX_NESTING + 3), st.sampled_from(["uniform", "quniform", "randint"])),
)


def realize(value):
    """Turn ("hp", name, args) recipes into hp calls (which may raise SearchSpaceError)."""
    if isinstance(value, tuple) and len(value) == 3 and value[0] == "hp":
        return getattr(hp, value[1])(*[realize(v) for v in value[2]][: HP_HELPERS[value[1]]])
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "choice":
        return hp.choice([realize(v) for v in value[1]])
    if isinstance(value, dict):
        return {k: realize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [realize(v) for v in value]
    return value


@contextlib.contextmanager
def hang_guard(seconds: int, what: object):
    """Fail (instead of hanging the suite) when one case takes far longer than any should.

    pytest-timeout may own the same timer (SIGALRM): its handler and what is left of its
    delay are put back afterwards.
    """

    def expire(signum, frame):
        raise AssertionError(f"no answer within {seconds} s for {what!r}")

    previous = signal.signal(signal.SIGALRM, expire)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


def check(spec) -> None:
    try:
        space = parse_search_space(realize(spec))
    except SearchSpaceError as exc:
        message = str(exc)
        assert message and "\n" not in message
        return
    assert parse_search_space(space.describe()) == space
    cardinality = space.cardinality
    assert cardinality is None or cardinality >= 1
    assert space.grid_size() >= 1
    if cardinality is not None and cardinality <= 64:
        points = list(space.grid())
        assert len(points) == cardinality == space.grid_size()
        assert len({space.fingerprint(p) for p in points}) == cardinality
        for params in points:
            space.validate(params)
    for name in ("random", "tpe", "grid"):
        try:
            tuner = tunelab.create_tuner(name, space, seed=0)
        except GridTooLargeError as exc:
            assert name == "grid" and space.grid_size() > MAX_GRID_POINTS and "\n" not in str(exc)
            continue
        for step in range(3):
            try:
                trial_id, params = tuner.suggest()
            except SearchSpaceExhausted:
                assert (name, step) == ("grid", space.grid_size()) or step == cardinality, (name, step, spec)
                break
            space.validate(params)
            tuner.observe(trial_id, float(step))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=specs)
def test_any_space_is_refused_in_one_line_or_sampled_inside_itself(spec):
    with hang_guard(60, spec):
        check(spec)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.dictionaries(st.sampled_from("xyz"), ordered_entry(), min_size=1, max_size=3))
def test_numbers_at_the_float_limits_are_refused_in_one_line_or_sampled(spec):
    with hang_guard(60, spec):
        check(spec)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(HP_HELPERS)),
    args=st.lists(st.one_of(numbers, small_values, st.lists(numbers, max_size=2)), min_size=3, max_size=3),
)
def test_hp_helpers_refuse_in_one_line_or_build_a_domain(name, args):
    try:
        domain = getattr(hp, name)(*args[: HP_HELPERS[name]])
    except SearchSpaceError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("hp.")
        return
    with hang_guard(60, (name, args)):
        check({"x": domain})


def test_hp_choice_refuses_more_options_than_it_can_hold():
    with pytest.raises(SearchSpaceError, match="hp.choice: 1000000000000 options; for a range of integers use"):
        hp.choice(range(10**12))
