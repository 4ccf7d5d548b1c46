"""Search-space helpers in the style Ray Tune and Orca users know.

>>> from tunelab import hp
>>> space = {"lr": hp.loguniform(1e-4, 1e-1), "batch": hp.choice([32, 64]), "layers": hp.randint(1, 4)}

Bounds keep each system's conventions: ``randint(low, high)`` excludes ``high`` (Ray, NNI,
numpy), while ``qrandint`` and ``integer`` include it (Ray's ``qrandint``, KerasTuner's ``Int``).
A nested choice takes :func:`branch` options:
``hp.choice([hp.branch("sgd", momentum=hp.uniform(0, 1)), hp.branch("adam")])``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tunelab.errors import SearchSpaceError
from tunelab.space import Branch, Choice, Domain, Float, Int, LogitFloat, Normal, SearchSpace, parse_search_space
from tunelab.space._domains import _is_integral, show

__all__ = [
    "branch",
    "choice",
    "grid_search",
    "integer",
    "lognormal",
    "loguniform",
    "lograndint",
    "logituniform",
    "normal",
    "qloguniform",
    "qnormal",
    "qrandint",
    "qrandn",
    "quniform",
    "randint",
    "randn",
    "uniform",
]


def _build(kind: str, factory: Any, *args: Any, **kwargs: Any) -> Domain:
    try:
        return factory(*args, **kwargs)
    except ValueError as exc:
        raise SearchSpaceError(f"hp.{kind}: {exc}") from None


def uniform(low: float, high: float) -> Domain:
    return _build("uniform", Float, low, high)


def quniform(low: float, high: float, q: float) -> Domain:
    return _build("quniform", Float, low, high, q=q)


def loguniform(low: float, high: float, base: float = 10) -> Domain:
    """Log-uniform on ``[low, high]``; ``base`` is accepted for Ray compatibility and does not change the law."""
    return _build("loguniform", Float, low, high, log=True)


def qloguniform(low: float, high: float, q: float, base: float = 10) -> Domain:
    return _build("qloguniform", Float, low, high, log=True, q=q)


def logituniform(low: float, high: float) -> Domain:
    """A rate or fraction in ``[low, high]`` inside ``(0, 1)``, uniform on the logit scale ``log(p / (1 - p))``."""
    return _build("logituniform", LogitFloat, low, high)


def randint(low: int, high: int) -> Domain:
    """An integer in ``[low, high)``: the upper bound is excluded, as in Ray, NNI and numpy."""
    if _is_integral(low) and _is_integral(high) and high <= low:
        raise SearchSpaceError(f"hp.randint: low < high must hold (high is excluded), but got low={low}, high={high}")
    return _build("randint", Int, low, _below(high))


def lograndint(low: int, high: int, base: float = 10) -> Domain:
    """A log-scaled integer in ``[low, high)`` (Ray's ``lograndint``)."""
    if _is_integral(low) and _is_integral(high) and high <= low:
        raise SearchSpaceError(
            f"hp.lograndint: low < high must hold (high is excluded), but got low={low}, high={high}"
        )
    return _build("lograndint", Int, low, _below(high), log=True)


def _below(high: Any) -> Any:
    """The last integer of an excluded upper bound (``1e3`` counts as the integer 1000)."""
    return int(high) - 1 if _is_integral(high) else high


def qrandint(low: int, high: int, q: int = 1) -> Domain:
    """An integer in ``[low, high]`` on multiples of ``q`` from ``low``; the upper bound is included, as in Ray."""
    return _build("qrandint", Int, low, high, step=q)


def integer(low: int, high: int, step: int = 1, log: bool = False) -> Domain:
    """An integer in ``[low, high]``, both ends included (KerasTuner's ``hp.Int``, Auptimizer's ``int``)."""
    return _build("integer", Int, low, high, step=step, log=log)


def normal(mu: float = 0.0, sigma: float = 1.0) -> Domain:
    return _build("normal", Normal, mu, sigma)


randn = normal


def qnormal(mu: float, sigma: float, q: float) -> Domain:
    return _build("qnormal", Normal, mu, sigma, q=q)


def qrandn(mu: float, sigma: float, q: float) -> Domain:
    return qnormal(mu, sigma, q)


def lognormal(mu: float, sigma: float) -> Domain:
    return _build("lognormal", Normal, mu, sigma, log=True)


def choice(options: Sequence[Any]) -> Domain:
    """One of ``options``; options made with :func:`branch` (or ``{"_name": ...}`` dicts) nest sub-spaces."""
    if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
        raise SearchSpaceError(f"hp.choice: expected a list of options, got {show(options)}")
    _check_count(options, "choice")
    return _build_choice(list(options), grid=False, kind="choice")


def grid_search(values: Sequence[Any]) -> Domain:
    """Values to enumerate, not sample: random search runs each of them in turn (Ray, Orca)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise SearchSpaceError(f"hp.grid_search: expected a list of values, got {show(values)}")
    _check_count(values, "grid_search")
    return _build_choice(list(values), grid=True, kind="grid_search")


#: More options than this are refused: a range of integers is ``randint``, not a list.
MAX_OPTIONS = 10**6


def _check_count(options: Sequence[Any], kind: str) -> None:
    if len(options) > MAX_OPTIONS:
        raise SearchSpaceError(
            f"hp.{kind}: {len(options)} options; for a range of integers use hp.randint or hp.integer "
            f"(at most {MAX_OPTIONS} options are listed)"
        )


def branch(name: str, **params: Any) -> Branch:
    """A named option of a nested choice, with its own parameters (empty for a plain named option)."""
    if not isinstance(name, str) or not name:
        raise SearchSpaceError(f"hp.branch: the name must be a non-empty string, got {show(name)}")
    space = parse_search_space(params, where=f"hp.branch({name!r})") if params else SearchSpace({})
    return Branch(name, space)


def _build_choice(options: list[Any], *, grid: bool, kind: str) -> Domain:
    if not options:
        raise SearchSpaceError(f"hp.{kind}: needs at least one option, got an empty list")
    options = [
        branch(o["_name"], **{k: v for k, v in o.items() if k != "_name"})
        if isinstance(o, dict) and "_name" in o
        else o
        for o in options
    ]
    return _build(kind, Choice, tuple(options), grid_search=grid)
