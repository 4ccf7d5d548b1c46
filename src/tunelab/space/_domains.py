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

import json
import math
import reprlib
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from tunelab.errors import escape

if TYPE_CHECKING:
    from tunelab.space._space import SearchSpace

_REL_TOL = 1e-9

#: Integer bounds must fit in 64 bits (numpy, SQLite and JSON readers hold them exactly).
INT_LIMIT = 2**63 - 1

#: Above this many multiples of ``q`` a float cannot tell ``value / q`` from an integer.
_EXACT_RATIO = 2.0**52

_MAX_FLOAT = float(np.finfo(float).max)

#: A continuous range (or a normal's [mu, mu + sigma]) must hold this many distinct floats,
#: else it is a handful of values in disguise and tuners run out of new ones.
_MIN_FLOATS = 1000

#: A quantized range whose q is finer than the float spacing must hold this many floats, so
#: that its (over-)count of multiples of q is never walked in search of an unseen value.
_MIN_FLOATS_FOR_FINE_Q = 10**6

#: exp() of a log-normal's mu +- sigma stays a float (draws beyond are clipped at exp(700)).
_MAX_LOG_MU = 700


def _floats_between(low: float, high: float) -> int:
    """How many floats lie in ``[low, high]`` (both finite), counted from their bit patterns."""
    return _ordinal(high) - _ordinal(low) + 1


def _ordinal(x: float) -> int:
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def _quantize(value: float, q: float) -> float:
    """Round to a multiple of ``q`` without leaving float noise such as 0.30000000000000004.

    Where ``q`` is finer than the float resolution at ``value`` (``value / q`` beyond 2**52 or
    overflowing), every float is as close to a multiple of ``q`` as floats allow: ``value`` is kept.
    """
    ratio = value / q
    if not math.isfinite(ratio) or abs(ratio) >= _EXACT_RATIO:
        return value
    quantized = round(ratio) * q
    if not math.isfinite(quantized):  # round() went past the largest float: round towards zero
        quantized = math.trunc(ratio) * q
    decimals = max(0, -math.floor(math.log10(q)) + 6) if q < 1 else 6
    return round(quantized, decimals)


def _on_grid(value: float, q: float) -> bool:
    """Whether ``value`` is a multiple of ``q`` up to the float error of :func:`_quantize`."""
    ratio = value / q
    if not math.isfinite(ratio) or abs(ratio) >= _EXACT_RATIO:
        return True
    return abs(ratio - round(ratio)) < 1e-6 + 1e-12 * abs(ratio)


def _finite_or(x: Any, default: float) -> float:
    """``x`` as a float clipped to the float range; ``default`` for NaN (tuners may propose anything)."""
    x = float(x)
    if math.isnan(x):
        return default
    return min(max(x, -_MAX_FLOAT), _MAX_FLOAT)


class QuantizedValues(Sequence[float]):
    """The values of a quantized :class:`Float` in order, computed on demand (never materialized).

    ``len()`` is refused for counts beyond ``sys.maxsize``; use :attr:`size`.
    """

    def __init__(self, domain: Float) -> None:
        if domain.q is None:
            raise ValueError("QuantizedValues needs a quantized domain (q is None)")
        self._domain = domain
        self._q: float = domain.q
        self.first, last = domain._multiples()
        self.size = last - self.first + 1

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        d = self._domain
        q = float(self._q)
        k = self.first + index
        raw = k * q if abs(k) < _EXACT_RATIO else float(Fraction(k) * Fraction(q))
        return float(min(max(_quantize(raw, q), d.low), d.high))

    def __iter__(self) -> Iterator[float]:
        for index in range(self.size):
            yield self[index]


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

    def grid(self, n_points: int) -> Sequence[Any]:
        """All values when finite, else ``n_points`` evenly spaced values (on the log scale if log).

        Finite domains return a lazy sequence (a ``range``, :class:`QuantizedValues`), never a list
        of all their values.
        """
        raise NotImplementedError

    def grid_size(self, n_points: int) -> int:
        """How many values :meth:`grid` gives, without listing them."""
        count = self.cardinality
        return count if count is not None else max(n_points, 2)

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
        if not math.isfinite(float(self.high) - float(self.low)):
            raise ValueError(
                f"the range is too wide: high - low must be a finite float, but got low={self.low}, high={self.high}"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scaled range needs low > 0, but got low={self.low}")
        floats = _floats_between(float(self.low), float(self.high))
        if self.q is not None:
            _check_finite_number("q", self.q)
            if self.q <= 0:
                raise ValueError(f"q must be > 0, but got q={self.q}")
            scale = max(abs(float(self.low)), abs(float(self.high)))
            if self.q < 2 * math.ulp(scale) and floats < _MIN_FLOATS_FOR_FINE_Q:
                raise ValueError(
                    f"q={self.q} is finer than float resolution here: only {floats} floats lie in "
                    f"[{self.low}, {self.high}]; use a larger q"
                )
        elif floats < _MIN_FLOATS:
            raise ValueError(
                f"the range [{self.low}, {self.high}] holds only {floats} distinct floats; widen it or use choice"
            )

    def _multiples(self) -> tuple[int, int]:
        """The first and last ``k`` whose ``k * q`` (clipped) a draw in ``[low, high]`` can round to.

        Exact rational arithmetic, so any ``q`` works; a value reached only at a bound itself
        (``low / q`` exactly half-way, rounded down) has probability zero and is left out.
        """
        cached = self.__dict__.get("_ks")
        if cached is None:
            q = _fraction(self.q)
            half = Fraction(1, 2)
            cached = (math.floor(_fraction(self.low) / q + half), math.ceil(_fraction(self.high) / q - half))
            self.__dict__["_ks"] = cached
        return cached

    @property
    def internal_low(self) -> float:
        return math.log(self.low) if self.log else float(self.low)

    @property
    def internal_high(self) -> float:
        return math.log(self.high) if self.log else float(self.high)

    def sample(self, rng: np.random.Generator) -> float:
        # high - low is a finite float (checked when built), so this cannot overflow.
        return self.from_internal(rng.uniform(self.internal_low, self.internal_high))

    def to_internal(self, value: Any) -> float:
        return math.log(value) if self.log else float(value)

    def from_internal(self, x: float) -> float:
        x = min(max(_finite_or(x, self.internal_low), self.internal_low), self.internal_high)
        value = math.exp(x) if self.log else x
        if self.q is not None:
            ratio = value / self.q
            if abs(ratio) < _EXACT_RATIO:
                first, last = self._multiples()
                value = _quantize(min(max(round(ratio), first), last) * self.q, self.q)
        return float(min(max(value, self.low), self.high))

    def contains(self, value: Any) -> bool:
        if not _is_real(value):
            return False
        value = float(value)
        slack = _REL_TOL * max(1.0, abs(self.low), abs(self.high))
        if not self.low - slack <= value <= self.high + slack:
            return False
        if self.q is not None and value not in (self.low, self.high):
            return _on_grid(value, self.q)
        return True

    @property
    def cardinality(self) -> int | None:
        """The number of values of a quantized range, counted without listing them."""
        if self.q is None:
            return None
        first, last = self._multiples()
        return last - first + 1

    def grid(self, n_points: int) -> Sequence[Any]:
        if self.q is not None:
            # round(u / q) over u in [low, high] spans first..last; clipping keeps the ends.
            return QuantizedValues(self)
        points = np.linspace(self.internal_low, self.internal_high, max(n_points, 2))
        return [self.from_internal(x) for x in points]

    def describe(self) -> dict[str, Any]:
        name = ("q" if self.q is not None else "") + ("loguniform" if self.log else "uniform")
        value: list[Any] = [self.low, self.high] + ([self.q] if self.q is not None else [])
        return {"_type": name, "_value": value}


@dataclass(frozen=True)
class LogitFloat(Float):
    """A real in ``[low, high]`` inside ``(0, 1)`` searched on the logit scale (``logituniform``).

    For rates and fractions, where 0.001 and 0.01 differ as much as 0.99 and 0.999: the
    internal coordinate is ``log(p / (1 - p))``, and draws are uniform on it.
    """

    def __post_init__(self) -> None:
        if self.log or self.q is not None:
            raise ValueError("logituniform takes no log or q")
        for label in ("low", "high"):
            value = getattr(self, label)
            if _is_finite_real(value) and not 0 < float(value) < 1:
                raise ValueError(f"a logit-scaled range lies inside (0, 1), but got {label}={value}")
        super().__post_init__()

    @property
    def internal_low(self) -> float:
        return _logit(float(self.low))

    @property
    def internal_high(self) -> float:
        return _logit(float(self.high))

    def to_internal(self, value: Any) -> float:
        return _logit(min(max(float(value), self.low), self.high))

    def from_internal(self, x: float) -> float:
        x = _finite_or(x, self.internal_low)
        if x <= self.internal_low:
            return float(self.low)
        if x >= self.internal_high:
            return float(self.high)
        return float(min(max(1.0 / (1.0 + math.exp(-x)), self.low), self.high))

    def describe(self) -> dict[str, Any]:
        return {"_type": "logituniform", "_value": [self.low, self.high]}


@dataclass(frozen=True)
class ReverseLogFloat(Float):
    """A real in ``[low, high]`` (``low > 0``) denser near ``high``: ``reverseloguniform`` (KerasTuner: reverse_log).

    The mirror image of a log scale: ``high + low - value`` is log-uniform on
    ``[low, high]``, so the internal coordinate is ``-log(high + low - value)``.
    """

    def __post_init__(self) -> None:
        if self.log or self.q is not None:
            raise ValueError("reverseloguniform takes no log or q")
        if _is_finite_real(self.low) and float(self.low) <= 0:
            raise ValueError(f"a reverse-log-scaled range needs low > 0, but got low={self.low}")
        super().__post_init__()

    @property
    def internal_low(self) -> float:
        return -math.log(float(self.high))

    @property
    def internal_high(self) -> float:
        return -math.log(float(self.low))

    def to_internal(self, value: Any) -> float:
        mirrored = float(self.high) + float(self.low) - min(max(float(value), self.low), self.high)
        return -math.log(min(max(mirrored, self.low), self.high))

    def from_internal(self, x: float) -> float:
        x = min(max(_finite_or(x, self.internal_low), self.internal_low), self.internal_high)
        return float(min(max(float(self.high) + float(self.low) - math.exp(-x), self.low), self.high))

    def describe(self) -> dict[str, Any]:
        return {"_type": "reverseloguniform", "_value": [self.low, self.high]}


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


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
        mu, sigma = float(self.mu), float(self.sigma)
        if self.log and not -_MAX_LOG_MU <= mu - sigma <= mu + sigma <= _MAX_LOG_MU:
            raise ValueError(
                f"a log-normal needs |mu| + sigma <= {_MAX_LOG_MU} (exp() of most draws must be a float), "
                f"but got mu={self.mu}, sigma={self.sigma}"
            )
        ends = (max(mu - sigma, -_MAX_FLOAT), mu)
        if self.log:
            ends = (math.exp(ends[0]), math.exp(mu))
        if _floats_between(*ends) < _MIN_FLOATS:
            raise ValueError(f"sigma={self.sigma} is below the float resolution at mu={self.mu}; use a larger sigma")
        if self.q is not None:
            _check_finite_number("q", self.q)
            if self.q <= 0:
                raise ValueError(f"q must be > 0, but got q={self.q}")
            # The middle 95% of the prior must span at least one q, or nearly every draw is the same value.
            lo, hi = (min(max(mu + z * sigma, -_MAX_FLOAT), _MAX_FLOAT) for z in (-1.96, 1.96))
            if self.log:
                lo, hi = math.exp(min(lo, 700.0)), math.exp(min(hi, 700.0))
            if (hi - lo) / self.q < 1:
                raise ValueError(
                    f"q={self.q} is wider than 95% of the prior ({lo:.3g} to {hi:.3g}): nearly every draw would "
                    "round to the same value; use a smaller q"
                )

    def sample(self, rng: np.random.Generator) -> float:
        return self.from_internal(rng.normal(self.mu, self.sigma))

    def to_internal(self, value: Any) -> float:
        return math.log(max(float(value), 1e-300)) if self.log else float(value)

    def from_internal(self, x: float) -> float:
        x = _finite_or(x, self.mu)
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
            return _on_grid(float(value), self.q)
        return True

    def grid(self, n_points: int) -> list[Any]:
        # Evenly spaced quantiles between the 5% and 95% points of the prior.
        from scipy.stats import norm

        quantiles = np.linspace(0.05, 0.95, max(n_points, 2))
        values = [self.from_internal(self.mu + self.sigma * norm.ppf(p)) for p in quantiles]
        return sorted(set(values))

    def grid_size(self, n_points: int) -> int:
        # Quantizing can merge quantiles; beyond a million points the bound is what matters.
        return len(self.grid(n_points)) if n_points <= 10**6 else max(n_points, 2)

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
                raise ValueError(f"{label} must be an integer, but got {show(value)}")
            if abs(value) > INT_LIMIT:
                raise ValueError(f"{label} must lie within +-(2**63 - 1), but got {show(value)}")
            object.__setattr__(self, label, int(value))  # 1e3 -> 1000, np.int64 -> int (no overflow)
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
        return int(self.low + self.step * _uniform_below(rng, n_values))

    def to_internal(self, value: Any) -> float:
        return math.log(value) if self.log else float(value)

    def from_internal(self, x: float) -> int:
        x = min(max(_finite_or(x, self.internal_low), self.internal_low), self.internal_high)
        value = math.exp(x) if self.log else x
        last = self.high - (self.high - self.low) % self.step
        value = round((value - self.low) / self.step) * self.step + self.low
        return int(min(max(value, self.low), last))

    def contains(self, value: Any) -> bool:
        return _is_integral(value) and self.low <= value <= self.high and (int(value) - self.low) % self.step == 0

    @property
    def cardinality(self) -> int | None:
        return (self.high - self.low) // self.step + 1

    def grid(self, n_points: int) -> Sequence[Any]:
        return range(self.low, self.high + 1, self.step)

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
        index = min(max(round(_finite_or(x, 0.0)), 0), len(self.options) - 1)
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
    def distinct(self) -> tuple[int, ...]:
        """Indices of the options that differ (a repeated option weights sampling, not the count)."""
        cached = self.__dict__.get("_distinct")
        if cached is None:
            seen: set[str] = set()
            kept = []
            for i, option in enumerate(self.options):
                key = f"branch:{option.name}" if isinstance(option, Branch) else fingerprint(option)
                if key not in seen:
                    seen.add(key)
                    kept.append(i)
            cached = self.__dict__["_distinct"] = tuple(kept)
        return cached

    @property
    def cardinality(self) -> int | None:
        return len(self.distinct)

    def grid(self, n_points: int) -> list[Any]:
        return [self.options[i] for i in self.distinct]

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


def fingerprint(value: Any) -> str:
    """A canonical string of a value, to tell whether two configurations are the same."""
    try:
        return json.dumps(value, sort_keys=True, default=_jsonable, allow_nan=True)
    except TypeError:  # mapping keys of mixed types cannot be sorted
        return json.dumps(value, default=_jsonable, allow_nan=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value)


def _fraction(value: Any) -> Fraction:
    """The exact value of a real (ints stay exact, numpy scalars included)."""
    return Fraction(int(value)) if isinstance(value, (int, np.integer)) else Fraction(float(value))


def _is_finite_real(value: Any) -> bool:
    """A real number that is finite as a float (a Python int past 1e308 is not)."""
    if not _is_real(value):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_finite_number(label: str, value: Any) -> None:
    if not _is_finite_real(value):
        raise ValueError(f"{label} must be a finite number, but got {show(value)}")


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40


def show(value: Any) -> str:
    """A value for a one-line message: bounded in depth and length (never recursion), control characters escaped."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a user object whose repr fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return escape(text, limit=120)


def _uniform_below(rng: np.random.Generator, n: int) -> int:
    """A uniform integer in ``[0, n)`` for any ``n >= 1`` (numpy's integers() stops at 2**63)."""
    if n <= 2**62:
        return int(rng.integers(n))
    bits = (n - 1).bit_length()
    while True:  # rejection: each try succeeds with probability > 1/2
        candidate = int.from_bytes(rng.bytes((bits + 7) // 8), "little") >> (-bits % 8)
        if candidate < n:
            return candidate


def _same(a: Any, b: Any) -> bool:
    if _is_real(a) and _is_real(b):
        if isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer)):
            return int(a) == int(b)
        try:
            x, y = float(a), float(b)
        except OverflowError:  # an int past the float range equals no float
            return False
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(a, Sequence) and isinstance(b, Sequence) and not isinstance(a, str):
        return not isinstance(b, str) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b
