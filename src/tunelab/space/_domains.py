"""Parameter domains: what values one hyperparameter may take and how they are drawn.

Every domain has two faces. The *value* is what a trial receives (an int, a float, a
category). The *internal* coordinate is a float that model-based tuners work in:
the logarithm for log-scaled domains, the option index for a choice. ``from_internal``
maps any internal float back to a valid value (rounding, quantizing and clipping as the
domain's rules say), so a tuner can search a continuous relaxation and still only
propose legal values.

Quantization follows NNI exactly: ``quniform`` is ``clip(round(uniform(low, high) / q) * q,
low, high)``, ``qnormal`` is ``round(normal(mu, sigma) / q) * q`` and so on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tunelab.space._space import SearchSpace

_REL_TOL = 1e-9


def _quantize(value: float, q: float) -> float:
    """Round to a multiple of ``q`` without leaving float noise such as 0.30000000000000004."""
    quantized = round(value / q) * q
    decimals = max(0, -math.floor(math.log10(q)) + 6) if q < 1 else 6
    return round(quantized, decimals)


class Domain:
    """Base class of every parameter domain.

    Domains are immutable and validated when built; they know nothing of parameter
    names (the search space holds those), so error messages from here are completed
    with the name by the space parser.
    """

    #: "float", "int" or "categorical": how model-based tuners should treat the domain.
    kind: str = ""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def to_internal(self, value: Any) -> float:
        raise NotImplementedError

    def from_internal(self, x: float) -> Any:
        raise NotImplementedError

    @property
    def is_finite(self) -> bool:
        """True when the domain has finitely many values (grid search can enumerate it)."""
        return self.cardinality is not None

    @property
    def cardinality(self) -> int | None:
        return None

    def grid(self, n_points: int) -> list[Any]:
        """All values when finite, else ``n_points`` evenly spaced values (on the log scale if log)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The NNI-style ``{_type, _value}`` spelling, for logs, storage and the dashboard."""
        raise NotImplementedError


@dataclass(frozen=True)
class Float(Domain):
    """A bounded real: NNI ``uniform``, ``quniform``, ``loguniform``, ``qloguniform``."""

    low: float
    high: float
    log: bool = False
    q: float | None = None
    kind: str = field(default="float", init=False, repr=False)

    def __post_init__(self) -> None:
        _check_finite_number("low", self.low)
        _check_finite_number("high", self.high)
        if not self.low < self.high:
            raise ValueError(f"low < high must hold, but got low={self.low}, high={self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scaled range needs low > 0, but got low={self.low}")
        if self.q is not None:
            _check_finite_number("q", self.q)
            if self.q <= 0:
                raise ValueError(f"q must be > 0, but got q={self.q}")

    @property
    def internal_low(self) -> float:
        return math.log(self.low) if self.log else float(self.low)

    @property
    def internal_high(self) -> float:
        return math.log(self.high) if self.log else float(self.high)

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_internal(rng.uniform(self.internal_low, self.internal_high))

    def to_internal(self, value: Any) -> float:
        return math.log(value) if self.log else float(value)

    def from_internal(self, x: float) -> float:
        x = min(max(float(x), self.internal_low), self.internal_high)
        value = math.exp(x) if self.log else x
        if self.q is not None:
            value = _quantize(value, self.q)
        return float(min(max(value, self.low), self.high))

    def contains(self, value: Any) -> bool:
        if not _is_real(value):
            return False
        value = float(value)
        slack = _REL_TOL * max(1.0, abs(self.low), abs(self.high))
        if not self.low - slack <= value <= self.high + slack:
            return False
        if self.q is not None and value not in (self.low, self.high):
            return abs(value / self.q - round(value / self.q)) < 1e-6
        return True

    @property
    def cardinality(self) -> int | None:
        if self.q is None:
            return None
        return len(self.grid(0))

    def grid(self, n_points: int) -> list[Any]:
        if self.q is not None:
            # round(u / q) over u in [low, high] spans these integers; clipping keeps the ends.
            first = round(self.low / self.q)
            last = round(self.high / self.q)
            values = {_quantize(k * self.q, self.q) for k in range(first, last + 1)}
            values = {min(max(v, self.low), self.high) for v in values}
            if self.log:
                values = {v for v in values if v > 0}
            return sorted(values)
        points = np.linspace(self.internal_low, self.internal_high, max(n_points, 2))
        return [self.from_internal(x) for x in points]

    def describe(self) -> dict[str, Any]:
        name = ("q" if self.q is not None else "") + ("loguniform" if self.log else "uniform")
        value: list[Any] = [self.low, self.high] + ([self.q] if self.q is not None else [])
        return {"_type": name, "_value": value}


@dataclass(frozen=True)
class Normal(Domain):
    """An unbounded real with a Gaussian prior: NNI ``normal``, ``qnormal``, ``lognormal``, ``qlognormal``.

    ``mu`` and ``sigma`` are those of the underlying normal (of the logarithm when ``log``).
    """

    mu: float
    sigma: float
    log: bool = False
    q: float | None = None
    kind: str = field(default="float", init=False, repr=False)

    def __post_init__(self) -> None:
        _check_finite_number("mu", self.mu)
        _check_finite_number("sigma", self.sigma)
        if self.sigma <= 0:
            raise ValueError(f"sigma must be > 0, but got sigma={self.sigma}")
        if self.q is not None:
            _check_finite_number("q", self.q)
            if self.q <= 0:
                raise ValueError(f"q must be > 0, but got q={self.q}")

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_internal(rng.normal(self.mu, self.sigma))

    def to_internal(self, value: Any) -> float:
        return math.log(max(float(value), 1e-300)) if self.log else float(value)

    def from_internal(self, x: float) -> float:
        x = float(x)
        if self.log:
            value = math.exp(min(x, 700.0))
        else:
            value = x
        if self.q is not None:
            value = _quantize(value, self.q)
        return float(value)

    def contains(self, value: Any) -> bool:
        if not _is_real(value) or not math.isfinite(float(value)):
            return False
        if self.log and float(value) < 0:
            return False
        if self.q is not None:
            return abs(float(value) / self.q - round(float(value) / self.q)) < 1e-6
        return True

    def grid(self, n_points: int) -> list[Any]:
        # Evenly spaced quantiles between the 5% and 95% points of the prior.
        from scipy.stats import norm

        quantiles = np.linspace(0.05, 0.95, max(n_points, 2))
        values = [self.from_internal(self.mu + self.sigma * norm.ppf(p)) for p in quantiles]
        return sorted(set(values))

    def describe(self) -> dict[str, Any]:
        name = ("q" if self.q is not None else "") + ("lognormal" if self.log else "normal")
        value: list[Any] = [self.mu, self.sigma] + ([self.q] if self.q is not None else [])
        return {"_type": name, "_value": value}


@dataclass(frozen=True)
class Int(Domain):
    """An integer in ``[low, high]``, both ends included (NNI's ``randint`` is parsed to ``high - 1``)."""

    low: int
    high: int
    log: bool = False
    step: int = 1
    kind: str = field(default="int", init=False, repr=False)

    def __post_init__(self) -> None:
        for label in ("low", "high", "step"):
            value = getattr(self, label)
            if not _is_integral(value):
                raise ValueError(f"{label} must be an integer, but got {value!r}")
        if not self.low <= self.high:
            raise ValueError(f"low <= high must hold, but got low={self.low}, high={self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scaled range needs low > 0, but got low={self.low}")
        if self.step < 1:
            raise ValueError(f"step must be >= 1, but got step={self.step}")

    @property
    def internal_low(self) -> float:
        """Half a unit below ``low``, so that rounding gives each integer an equal share."""
        return math.log(self.low - 0.5) if self.log else self.low - 0.5

    @property
    def internal_high(self) -> float:
        return math.log(self.high + 0.5) if self.log else self.high + 0.5

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            return self.from_internal(rng.uniform(self.internal_low, self.internal_high))
        n_values = (self.high - self.low) // self.step + 1
        return int(self.low + self.step * rng.integers(n_values))

    def to_internal(self, value: Any) -> float:
        return math.log(value) if self.log else float(value)

    def from_internal(self, x: float) -> int:
        value = math.exp(min(float(x), 700.0)) if self.log else float(x)
        last = self.high - (self.high - self.low) % self.step
        value = round((value - self.low) / self.step) * self.step + self.low
        return int(min(max(value, self.low), last))

    def contains(self, value: Any) -> bool:
        return _is_integral(value) and self.low <= value <= self.high and (int(value) - self.low) % self.step == 0

    @property
    def cardinality(self) -> int | None:
        return (self.high - self.low) // self.step + 1

    def grid(self, n_points: int) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def describe(self) -> dict[str, Any]:
        if self.step == 1 and not self.log:
            # NNI's randint excludes the upper bound.
            return {"_type": "randint", "_value": [self.low, self.high + 1]}
        # tunelab's own spelling, inclusive like KerasTuner's Int.
        return {"_type": "logint" if self.log else "integer", "_value": [self.low, self.high, self.step]}


@dataclass(frozen=True)
class Branch:
    """One option of a nested choice: a named sub-space that is active only when chosen."""

    name: str
    space: SearchSpace

    def value(self, sub_params: dict[str, Any]) -> dict[str, Any]:
        return {"_name": self.name, **sub_params}


@dataclass(frozen=True)
class Choice(Domain):
    """One of a list of options (NNI ``choice``); options that are :class:`Branch` make it conditional.

    ``grid=True`` marks Ray/Orca's ``grid_search``: random search then enumerates these
    values instead of drawing them.
    """

    options: tuple[Any, ...]
    grid_search: bool = False
    kind: str = field(default="categorical", init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.options, tuple):
            object.__setattr__(self, "options", tuple(self.options))
        if len(self.options) == 0:
            raise ValueError("choice needs at least one option, but got an empty list")
        names = [o.name for o in self.options if isinstance(o, Branch)]
        if len(names) != len(set(names)):
            raise ValueError(f"nested choice options need distinct _name values, but got {names}")

    @property
    def is_nested(self) -> bool:
        return any(isinstance(o, Branch) for o in self.options)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def to_internal(self, value: Any) -> float:
        return float(self.index(value))

    def from_internal(self, x: float) -> Any:
        index = min(max(int(round(float(x))), 0), len(self.options) - 1)
        return self.options[index]

    def index(self, value: Any) -> int:
        """The option index of a value (for a nested choice: of its ``_name``)."""
        if isinstance(value, dict) and "_name" in value:
            for i, option in enumerate(self.options):
                if isinstance(option, Branch) and option.name == value["_name"]:
                    return i
        else:
            for i, option in enumerate(self.options):
                if not isinstance(option, Branch) and _same(option, value):
                    return i
        raise ValueError(f"{value!r} is not one of the options {self.describe()['_value']}")

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    @property
    def cardinality(self) -> int | None:
        return len(self.options)

    def grid(self, n_points: int) -> list[Any]:
        return list(self.options)

    def describe(self) -> dict[str, Any]:
        values = [{"_name": o.name, **o.space.describe()} if isinstance(o, Branch) else o for o in self.options]
        return {"_type": "grid_search" if self.grid_search else "choice", "_value": values}


@dataclass(frozen=True)
class Fixed(Domain):
    """A constant passed through unchanged (a plain value in a Python search-space dict)."""

    value: Any
    kind: str = field(default="categorical", init=False, repr=False)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def to_internal(self, value: Any) -> float:
        return 0.0

    def from_internal(self, x: float) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return _same(value, self.value)

    @property
    def cardinality(self) -> int | None:
        return 1

    def grid(self, n_points: int) -> list[Any]:
        return [self.value]

    def describe(self) -> dict[str, Any]:
        return {"_type": "choice", "_value": [self.value]}


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value)


def _check_finite_number(label: str, value: Any) -> None:
    if not _is_real(value) or not math.isfinite(float(value)):
        raise ValueError(f"{label} must be a finite number, but got {value!r}")


def _same(a: Any, b: Any) -> bool:
    if _is_real(a) and _is_real(b):
        return float(a) == float(b)
    if isinstance(a, Sequence) and isinstance(b, Sequence) and not isinstance(a, str):
        return not isinstance(b, str) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b
