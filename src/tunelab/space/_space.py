"""The search space: named domains, possibly nested, and the flat view tuners work in."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from tunelab.errors import SearchSpaceError
from tunelab.space._domains import Branch, Choice, Domain, Fixed

#: Joins the parts of a nested parameter's key: ``layer/conv/kernel`` is the ``kernel``
#: of option ``conv`` of the choice ``layer``.
KEY_SEPARATOR = "/"


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
        """How many distinct configurations exist, or None when some parameter is continuous."""
        total = 1
        for domain in self._domains.values():
            if isinstance(domain, Choice) and domain.is_nested:
                count = 0
                for option in domain.options:
                    sub = option.space.cardinality if isinstance(option, Branch) else 1
                    if sub is None:
                        return None
                    count += sub
            else:
                count = domain.cardinality  # type: ignore[assignment]
                if count is None:
                    return None
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

    def grid(self, n_points: int = 5) -> Iterator[dict[str, Any]]:
        """Every configuration of the finite parameters, continuous ones on ``n_points`` even steps."""
        per_name: list[list[Any]] = []
        for domain in self._domains.values():
            values: list[Any] = []
            for option in domain.grid(n_points):
                if isinstance(option, Branch):
                    values.extend(option.value(sub) for sub in option.space.grid(n_points))
                else:
                    values.append(option)
            per_name.append(values)
        for combo in itertools.product(*per_name):
            yield dict(zip(self._domains, combo, strict=True))

    def describe(self) -> dict[str, Any]:
        """The space in NNI's JSON format (``randint`` with its exclusive upper bound)."""
        return {name: domain.describe() for name, domain in self._domains.items()}

    @staticmethod
    def fingerprint(params: Mapping[str, Any]) -> str:
        """A canonical string of a configuration, to tell whether it was tried before."""
        return json.dumps(params, sort_keys=True, default=_jsonable, allow_nan=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def fixed_space(params: Mapping[str, Any]) -> SearchSpace:
    """A space of constants (used to run one hand-written configuration)."""
    return SearchSpace({name: Fixed(value) for name, value in params.items()})
