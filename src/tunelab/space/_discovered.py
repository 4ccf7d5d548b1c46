"""A space declared by run: KerasTuner-style declarations as a :class:`SearchSpace`, and values both ways.

Declarations without conditions are top-level parameters. A declaration made inside
``conditional_scope(parent, values)`` hangs under its parent, which becomes a nested
choice (tunelab's conditional model, NNI's ``{"_name": option, ...}``): each value of
the parent that some scope names is an option with the sub-space of the declarations
active for it. A parent must be discrete (a choice, a boolean, a fixed value, a stepped
or small integer range); a declaration whose parent is continuous, or whose parent
cannot be found at its level, stays a top-level parameter (always searched, used only
where the objective reads it). Parameters declared only in some runs under plain
Python control flow (Optuna's style) are top-level parameters too.

:class:`DiscoveredSpace` is immutable; :meth:`DiscoveredSpace.grown` returns a new one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from tunelab.errors import SearchSpaceError
from tunelab.space._domains import Branch, Choice, Domain
from tunelab.space._space import MAX_PARAMETERS, SearchSpace
from tunelab.space.hyperparameters import HyperParameter, HyperParameters, deserialize, serialize


@dataclass(frozen=True)
class _Node:
    """One declaration placed in the tree; ``options`` maps a parent value to its children (branch parents only)."""

    hp: HyperParameter
    options: tuple[tuple[Any, str, tuple[_Node, ...]], ...] = ()  # (value, branch name, children)


class DiscoveredSpace:
    """Declarations in the order first seen, and the :class:`SearchSpace` they make."""

    def __init__(self, declarations: Iterable[HyperParameter] = ()) -> None:
        self.declarations: tuple[HyperParameter, ...] = tuple(declarations)
        if len(self.declarations) > MAX_PARAMETERS:
            raise SearchSpaceError(f"more than {MAX_PARAMETERS} hyperparameters were declared")
        self._check_conflicts()

    @classmethod
    def from_config(cls, configs: Sequence[Mapping[str, Any]]) -> DiscoveredSpace:
        """From a list of KerasTuner declaration configs (``HyperParameters.get_config()["space"]``)."""
        return cls(deserialize(item) for item in configs)

    def get_config(self) -> list[dict[str, Any]]:
        return [serialize(hp) for hp in self.declarations]

    def __len__(self) -> int:
        return len(self.declarations)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DiscoveredSpace) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(json.dumps(self.get_config(), sort_keys=True, default=repr))

    def grown(self, declarations: Iterable[HyperParameter]) -> DiscoveredSpace:
        """This space plus the declarations not known yet; a known name redeclared differently is an error."""
        added = [hp for hp in declarations if self._find(hp) is None]
        unique: list[HyperParameter] = []
        for hp in added:
            if not any(u.name == hp.name and u.conditions == hp.conditions for u in unique):
                unique.append(hp)
            elif not next(u for u in unique if u.name == hp.name and u.conditions == hp.conditions).same_range(hp):
                raise SearchSpaceError(f"hyperparameter '{hp.name}' is declared twice with different ranges")
        for hp in declarations:
            known = self._find(hp)
            if known is not None and not known.same_range(hp):
                raise SearchSpaceError(
                    f"hyperparameter '{hp.name}' is declared with a different range than before: "
                    f"{serialize(hp)['config']} against {serialize(known)['config']}"
                )
        return self if not unique else DiscoveredSpace([*self.declarations, *unique])

    def hyperparameters(self, params: Mapping[str, Any] | None = None) -> HyperParameters:
        """A :class:`HyperParameters` knowing every declaration, with the values of ``params`` (a suggestion)."""
        hps = HyperParameters()
        for hp in self.declarations:
            hps._add(hp)
        hps.values = self.values(params) if params is not None else {}
        return hps

    # ------------------------------------------------------------------ the space
    @cached_property
    def _tree(self) -> tuple[_Node, ...]:
        return self._level([hp for hp in self.declarations if not hp.conditions], placed=set())

    def _level(self, hps: Sequence[HyperParameter], placed: set[int]) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        names: set[str] = set()
        orphans = [] if placed else self._orphans()
        for hp in [*hps, *orphans]:
            if hp.name in names:
                raise SearchSpaceError(
                    f"hyperparameter '{hp.name}' is declared twice where the same conditions hold"
                    + (f" ({_where(hp)})" if hp.conditions else "")
                )
            names.add(hp.name)
            placed.add(id(hp))
            nodes.append(self._node(hp, placed))
        return tuple(nodes)

    def _node(self, hp: HyperParameter, placed: set[int]) -> _Node:
        children = self._children(hp)
        values = hp.discrete_values()
        if not children or values is None:
            return _Node(hp)
        options = []
        used: set[str] = set()
        for value in values:
            here = [c for c in children if value in c.conditions[-1].values]
            name = _branch_name(value, used)
            used.add(name)
            options.append((value, name, self._level(here, placed) if here else ()))
        return _Node(hp, tuple(options))

    def _children(self, hp: HyperParameter) -> list[HyperParameter]:
        return [
            c
            for c in self.declarations
            if c.conditions and c.conditions[-1].name == hp.name and c.conditions[:-1] == hp.conditions
        ]

    def _orphans(self) -> list[HyperParameter]:
        """Conditional declarations whose parent is continuous or not at their level: kept top-level."""
        reachable: set[int] = set()

        def walk(hp: HyperParameter) -> None:
            reachable.add(id(hp))
            if hp.discrete_values() is not None:
                for child in self._children(hp):
                    walk(child)

        for hp in self.declarations:
            if not hp.conditions:
                walk(hp)
        return [hp for hp in self.declarations if id(hp) not in reachable]

    @cached_property
    def space(self) -> SearchSpace:
        return SearchSpace(_space_of(self._tree))

    # ------------------------------------------------------------------ values both ways
    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The flat values (KerasTuner's ``hp.values``) of a configuration of :attr:`space`; inactive ones left out."""
        out: dict[str, Any] = {}
        _values_of(self._tree, params, out)
        return out

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration of :attr:`space` for flat values; a missing value is the parameter's default."""
        return _params_of(self._tree, values)

    # ------------------------------------------------------------------ internals
    def _find(self, hp: HyperParameter) -> HyperParameter | None:
        for known in self.declarations:
            if known.name == hp.name and known.conditions == hp.conditions:
                return known
        return None

    def _check_conflicts(self) -> None:
        seen: dict[tuple[str, str], HyperParameter] = {}
        for hp in self.declarations:
            key = (hp.name, json.dumps([c.get_config() for c in hp.conditions], default=repr))
            if key in seen and not seen[key].same_range(hp):
                raise SearchSpaceError(f"hyperparameter '{hp.name}' is declared twice with different ranges")
            seen[key] = hp


def _space_of(nodes: Sequence[_Node]) -> dict[str, Domain]:
    domains: dict[str, Domain] = {}
    for node in nodes:
        if not node.options:
            domains[node.hp.name] = node.hp.domain()
            continue
        options = [Branch(name, SearchSpace(_space_of(kids))) if kids else value for value, name, kids in node.options]
        domains[node.hp.name] = Choice(tuple(options))
    return domains


def _values_of(nodes: Sequence[_Node], params: Mapping[str, Any], out: dict[str, Any]) -> None:
    for node in nodes:
        name = node.hp.name
        if name not in params:
            continue
        value = params[name]
        if node.options and isinstance(value, Mapping) and "_name" in value:
            for option, branch, kids in node.options:
                if branch == value["_name"] and kids:
                    out[name] = option
                    _values_of(kids, {k: v for k, v in value.items() if k != "_name"}, out)
                    break
            else:
                raise SearchSpaceError(f"parameter '{name}': {value['_name']!r} is not one of its options")
        else:
            out[name] = value


def _params_of(nodes: Sequence[_Node], values: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for node in nodes:
        name = node.hp.name
        value = values.get(name, node.hp.default)
        for option, branch, kids in node.options:
            if kids and _same(option, value):
                value = {"_name": branch, **_params_of(kids, values)}
                break
        params[name] = value
    return params


def _same(a: Any, b: Any) -> bool:
    return (
        type(a) is type(b)
        and a == b
        or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a == b)
    )


def _branch_name(value: Any, used: set[str]) -> str:
    name = value if isinstance(value, str) else json.dumps(value)
    while name in used:
        name = f"{name}~"
    return name


def _where(hp: HyperParameter) -> str:
    return " and ".join(f"{c.name} in {c.values!r}" for c in hp.conditions)
