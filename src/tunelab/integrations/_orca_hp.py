"""BigDL Orca's ``automl.hp`` functions, with Orca's argument names, as tunelab domains.

Orca's functions wrap Ray Tune's, so they keep Ray's bounds: ``randint(lower, upper)``
excludes ``upper`` (Ray's ``tune.randint``; Orca's docstring says "both inclusive", its code
does what Ray does), ``qrandint`` includes it. ``sample_from(func)`` and ``choice_n`` are
values computed in the trial (:class:`~tunelab.integrations._orca.SampleFrom`); tuners do not
search them, as Ray's searchers do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tunelab import hp as _hp
from tunelab.errors import SearchSpaceError
from tunelab.integrations._orca import SampleFrom
from tunelab.space import Domain

__all__ = [
    "choice",
    "choice_n",
    "grid_search",
    "loguniform",
    "qloguniform",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "sample_from",
    "uniform",
]


def uniform(lower: float, upper: float) -> Domain:
    """A float sampled uniformly between ``lower`` and ``upper``."""
    return _hp.uniform(lower, upper)


def quniform(lower: float, upper: float, q: float) -> Domain:
    """A uniform float rounded to a multiple of ``q`` (``upper`` included)."""
    return _hp.quniform(lower, upper, q)


def loguniform(lower: float, upper: float, base: int = 10) -> Domain:
    """A float whose logarithm is uniform (the base does not change the distribution)."""
    return _hp.loguniform(lower, upper, base)


def qloguniform(lower: float, upper: float, q: float, base: int = 10) -> Domain:
    """A log-uniform float rounded to a multiple of ``q``."""
    return _hp.qloguniform(lower, upper, q, base)


def randn(mean: float = 0.0, std: float = 1.0) -> Domain:
    """A float from a normal distribution."""
    return _hp.normal(mean, std)


def qrandn(mean: float, std: float, q: float) -> Domain:
    """A normal float rounded to a multiple of ``q``."""
    return _hp.qnormal(mean, std, q)


def randint(lower: int, upper: int) -> Domain:
    """An integer in ``[lower, upper)``, as Ray's ``tune.randint`` that Orca calls."""
    return _hp.randint(lower, upper)


def qrandint(lower: int, upper: int, q: int = 1) -> Domain:
    """An integer in ``[lower, upper]`` on multiples of ``q``."""
    return _hp.qrandint(lower, upper, q)


def choice(categories: Sequence[Any]) -> Domain:
    """One of ``categories``, uniformly."""
    return _hp.choice(categories)


def choice_n(categories: Sequence[Any], min_items: int, max_items: int) -> SampleFrom:
    """A list of distinct items from ``categories``, drawn as Orca draws it.

    Orca draws the size with numpy's ``randint(min_items, max_items)``, whose upper bound is
    excluded, so the size is in ``[min_items, max_items)``, then that many items without
    replacement; tunelab does the same (with ``min_items == max_items``, which numpy refuses,
    the size is ``min_items``).
    """
    items = list(categories)
    for label, value in (("min_items", min_items), ("max_items", max_items)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SearchSpaceError(f"hp.choice_n: {label} must be a non-negative integer, got {value!r}")
    if not items:
        raise SearchSpaceError("hp.choice_n: categories is empty")
    if min_items > max_items or min_items > len(items):
        raise SearchSpaceError(
            f"hp.choice_n: min_items <= max_items and min_items <= len(categories) must hold, but got "
            f"min_items={min_items}, max_items={max_items}, {len(items)} categories"
        )

    def draw(spec: Any) -> list[Any]:
        import numpy as np

        size = min_items if max_items <= min_items else int(np.random.randint(low=min_items, high=max_items))
        picked = np.random.choice(len(items), size=min(size, len(items)), replace=False)
        return [items[i] for i in picked]

    draw.__name__ = "choice_n"
    return SampleFrom(draw)


def sample_from(func: Callable[[Any], Any]) -> SampleFrom:
    """A value computed by ``func(spec)`` in the trial; ``spec.config`` holds the other sampled values."""
    return SampleFrom(func)


def grid_search(values: Sequence[Any]) -> Domain:
    """Values to enumerate, each ``n_sampling`` times."""
    return _hp.grid_search(values)
