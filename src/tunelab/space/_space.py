"""The search space: named domains, possibly nested, and the flat view tuners work in."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from tunelab.errors import SearchSpaceError
from tunelab.space._domains import Branch, Choice, Domain, Fixed, fingerprint

#: Joins the parts of a nested parameter's key: ``layer/conv/kernel`` is the ``kernel``
#: of option ``conv`` of the choice ``layer``.
KEY_SEPARATOR = "/"

#: How deeply choices may nest (options inside options), and how deeply a constant value
#: (a list, a mapping) may nest: deeper ones are refused with a :class:`SearchSpaceError`
#: instead of exhausting Python's stack.
MAX_NESTING = 50

#: How many parameters (nested ones included) a space may have; more is refused, so that
#: sub-spaces shared between options (YAML aliases) cannot multiply without bound.
MAX_PARAMETERS = 10_000


@dataclass(frozen=True)
class Leaf:
    """One parameter of the flattened space.

    ``condition`` lists ``(choice_key, option_index)`` pairs that must all hold for the
    parameter to be active; it is empty for top-level parameters.
    """

    key: str
    domain: Domain
    condition: tuple[tuple[str, int], ...] = ()

    def is_active(self, flat: Mapping[str, float]) -> bool:
        return all(key in flat and int(round(flat[key])) == index for key, index in self.condition)


class SearchSpace(Mapping[str, Domain]):
    """An ordered mapping of parameter names to domains.

    Build one with :func:`tunelab.space.parse_search_space` from NNI JSON, an Auptimizer
    ``parameter_config`` list or a dict of :mod:`tunelab.hp` helpers. Parameter values
    are plain Python values; a nested choice's value is ``{"_name": option, **sub_params}``
    as in NNI.
    """

    def __init__(self, domains: Mapping[str, Domain]) -> None:
        self._domains = dict(domains)
        depth, size = 0, len(self._domains)
        for domain in self._domains.values():
            if isinstance(domain, Choice):
                for option in domain.options:
                    if isinstance(option, Branch):
                        depth = max(depth, option.space.depth + 1)
                        size += option.space.n_parameters
        if depth > MAX_NESTING:
            raise SearchSpaceError(f"choices are nested deeper than {MAX_NESTING} levels")
        if size > MAX_PARAMETERS:
            raise SearchSpaceError(f"the search space has more than {MAX_PARAMETERS} parameters")
        self._depth = depth
        self._size = size

    @property
    def depth(self) -> int:
        """How many levels of nested choices the space has (0 when it has none)."""
        return self._depth

    @property
    def n_parameters(self) -> int:
        """How many parameters the space has, nested ones included (the number of :attr:`leaves`)."""
        return self._size

    def __getitem__(self, name: str) -> Domain:
        return self._domains[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains)

    def __len__(self) -> int:
        return len(self._domains)

    def __repr__(self) -> str:
        return f"SearchSpace({self.describe()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash(json.dumps(self.describe(), sort_keys=True, default=repr))

    # ------------------------------------------------------------------ flat view
    @cached_property
    def leaves(self) -> tuple[Leaf, ...]:
        """Every parameter, nested ones included, in a stable depth-first order."""
        return tuple(self._leaves(prefix="", condition=()))

    def _leaves(self, prefix: str, condition: tuple[tuple[str, int], ...]) -> Iterator[Leaf]:
        for name, domain in self._domains.items():
            key = prefix + name
            yield Leaf(key, domain, condition)
            if isinstance(domain, Choice):
                for index, option in enumerate(domain.options):
                    if isinstance(option, Branch):
                        yield from option.space._leaves(
                            prefix=f"{key}{KEY_SEPARATOR}{option.name}{KEY_SEPARATOR}",
                            condition=condition + ((key, index),),
                        )

    @property
    def is_conditional(self) -> bool:
        return any(leaf.condition for leaf in self.leaves)

    @property
    def has_grid_search(self) -> bool:
        return any(isinstance(leaf.domain, Choice) and leaf.domain.grid_search for leaf in self.leaves)

    @property
    def cardinality(self) -> int | None:
        """How many distinct configurations exist, or None when some parameter is continuous.

        Counted, never enumerated: a quantized range of 10**16 values costs no more than one of 3.
        Where ``q`` is finer than the float resolution near a bound, values that coincide as
        floats are still counted apart, so the count is then an upper bound.
        """
        total = 1
        for domain in self._domains.values():
            if isinstance(domain, Choice) and domain.is_nested:
                count = 0
                for index in domain.distinct:
                    option = domain.options[index]
                    sub = option.space.cardinality if isinstance(option, Branch) else 1
                    if sub is None:
                        return None
                    count += sub
            else:
                own = domain.cardinality
                if own is None:
                    return None
                count = own
            total *= count
        return total

    def encode(self, params: Mapping[str, Any]) -> dict[str, float]:
        """Internal coordinates of the active leaves of a configuration."""
        flat: dict[str, float] = {}
        self._encode(params, "", flat)
        return flat

    def _encode(self, params: Mapping[str, Any], prefix: str, flat: dict[str, float]) -> None:
        for name, domain in self._domains.items():
            value = params[name]
            flat[prefix + name] = domain.to_internal(value)
            if isinstance(domain, Choice) and domain.is_nested:
                option = domain.options[domain.index(value)]
                if isinstance(option, Branch):
                    sub = {k: v for k, v in value.items() if k != "_name"}
                    option.space._encode(sub, f"{prefix}{name}{KEY_SEPARATOR}{option.name}{KEY_SEPARATOR}", flat)

    def decode(self, flat: Mapping[str, float]) -> dict[str, Any]:
        """The configuration for internal coordinates; inactive keys are ignored, values made legal."""
        return self._decode(flat, "")

    def _decode(self, flat: Mapping[str, float], prefix: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, domain in self._domains.items():
            value = domain.from_internal(flat[prefix + name])
            if isinstance(value, Branch):
                sub = value.space._decode(flat, f"{prefix}{name}{KEY_SEPARATOR}{value.name}{KEY_SEPARATOR}")
                value = value.value(sub)
            params[name] = value
        return params

    # ------------------------------------------------------------------ values
    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One configuration drawn from the prior of every active parameter."""
        params: dict[str, Any] = {}
        for name, domain in self._domains.items():
            value = domain.sample(rng)
            if isinstance(value, Branch):
                value = value.value(value.space.sample(rng))
            params[name] = value
        return params

    def validate(self, params: Mapping[str, Any], *, where: str = "") -> None:
        """Raise :class:`SearchSpaceError` naming the first parameter that is missing, unknown or out of range."""
        if not isinstance(params, Mapping):
            raise SearchSpaceError(f"parameters{where}: expected a mapping, got {params!r}")
        unknown = set(params) - set(self._domains) - {"_name"}
        if unknown:
            raise SearchSpaceError(f"parameter '{where}{sorted(unknown)[0]}' is not in the search space")
        for name, domain in self._domains.items():
            if name not in params:
                raise SearchSpaceError(f"parameter '{where}{name}' is missing")
            value = params[name]
            if not domain.contains(value):
                raise SearchSpaceError(f"parameter '{where}{name}': {value!r} is not in {domain.describe()}")
            if isinstance(domain, Choice) and domain.is_nested:
                option = domain.options[domain.index(value)]
                if isinstance(option, Branch):
                    sub = {k: v for k, v in value.items() if k != "_name"}
                    option.space.validate(sub, where=f"{where}{name}.{option.name}.")

    def contains(self, params: Mapping[str, Any]) -> bool:
        try:
            self.validate(params)
        except SearchSpaceError:
            return False
        return True

    def grid_size(self, n_points: int = 5) -> int:
        """How many points :meth:`grid` yields, computed without enumerating them.

        It equals :attr:`cardinality` when every parameter is finite.
        """
        return _GridPlan(self, n_points).size

    def grid(self, n_points: int = 5) -> Iterator[dict[str, Any]]:
        """Every configuration of the finite parameters, continuous ones on ``n_points`` even steps.

        Lazy: each point is computed when it is reached (the last parameter varies fastest),
        so a grid too large to enumerate costs nothing until it is walked.
        """
        plan = _GridPlan(self, n_points)
        index = 0
        while index < plan.size:
            yield plan.point(index)
            index += 1

    def describe(self) -> dict[str, Any]:
        """The space in NNI's JSON format (``randint`` with its exclusive upper bound)."""
        return {name: domain.describe() for name, domain in self._domains.items()}

    @staticmethod
    def fingerprint(params: Mapping[str, Any]) -> str:
        """A canonical string of a configuration, to tell whether it was tried before."""
        return fingerprint(params)


class _Column:
    """The grid values of one parameter: plain values, and for a nested choice each option's sub-grid."""

    def __init__(self, domain: Domain, n_points: int) -> None:
        #: (size, kind, payload): kind "grid" (a domain's lazy grid), "branch" ((option, plan)) or "value".
        self.segments: list[tuple[int, str, Any]] = []
        if isinstance(domain, Choice) and domain.is_nested:
            for index in domain.distinct:
                option = domain.options[index]
                if isinstance(option, Branch):
                    plan = _GridPlan(option.space, n_points)
                    self.segments.append((plan.size, "branch", (option, plan)))
                else:
                    self.segments.append((1, "value", option))
        else:
            self.segments.append((domain.grid_size(n_points), "grid", _Lazy(domain, n_points)))
        self.size = sum(size for size, _, _ in self.segments)

    def value(self, index: int) -> Any:
        for size, kind, payload in self.segments:
            if index < size:
                if kind == "grid":
                    return payload.values[index]
                if kind == "branch":
                    option, plan = payload
                    return option.value(plan.point(index))
                return payload
            index -= size
        raise IndexError(index)


class _Lazy:
    """A domain's grid, asked for only when a point is needed."""

    def __init__(self, domain: Domain, n_points: int) -> None:
        self._domain, self._n_points = domain, n_points
        self._values: Sequence[Any] | None = None

    @property
    def values(self) -> Sequence[Any]:
        if self._values is None:
            self._values = self._domain.grid(self._n_points)
        return self._values


class _GridPlan:
    """Mixed-radix numbering of a space's grid: point ``i`` is computed from ``i`` alone."""

    def __init__(self, space: SearchSpace, n_points: int) -> None:
        self.names = list(space)
        self.columns = [_Column(space[name], n_points) for name in self.names]
        self.size = 1
        for column in self.columns:
            self.size *= column.size

    def point(self, index: int) -> dict[str, Any]:
        values: list[Any] = [None] * len(self.columns)
        for i in range(len(self.columns) - 1, -1, -1):
            index, rest = divmod(index, self.columns[i].size)
            values[i] = self.columns[i].value(rest)
        return dict(zip(self.names, values, strict=True))


def fixed_space(params: Mapping[str, Any]) -> SearchSpace:
    """A space of constants (used to run one hand-written configuration)."""
    return SearchSpace({name: Fixed(value) for name, value in params.items()})
