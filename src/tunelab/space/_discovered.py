"""A space declared by run: KerasTuner-style declarations as a :class:`SearchSpace`, and values both ways.

Declarations without conditions are top-level parameters. A declaration made inside
``conditional_scope(parent, values)`` hangs under its parent, which becomes a nested
choice (tunelab's conditional model, NNI's ``{"_name": option, ...}``): each value of
the parent that some scope names is an option with the sub-space of the declarations
active for it. A parent must be discrete (a choice, a boolean, a fixed value, a stepped
or small integer range); a declaration whose parent is continuous, or whose parent
cannot be found at its level, stays a top-level parameter (always searched, used only
where the objective reads it).

Python control flow (Optuna's style, ``if trial.suggest_categorical("kind", ...) == "svm":``)
is seen in the *paths* of successful calls: the parameters each read, in order, and the values
its categorical parameters (choices and booleans) had. A parameter declared without conditions
becomes conditional on an earlier categorical parameter ``K`` once it has been read in some
calls and not in others, ``K`` was read before it in every call that read it, and the values
``K`` had in those calls are none of those it had in the calls that did not read it: it is then
active for the former values (and under ``K``'s own conditions). Of several such ``K`` the one
read last before it is its parent. The rule runs again on every new path, so a branch seen
later widens a condition, and a condition the paths contradict is dropped.

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
from tunelab.space.hyperparameters import Boolean, HyperParameter, HyperParameters, Parent, deserialize, serialize
from tunelab.space.hyperparameters import Choice as ChoiceDeclaration


@dataclass(frozen=True)
class _Node:
    """One declaration placed in the tree; ``options`` maps a parent value to its children (branch parents only)."""

    hp: HyperParameter
    options: tuple[tuple[Any, str, tuple[_Node, ...]], ...] = ()  # (value, branch name, children)


#: At most this many distinct paths are kept (the first ones); later calls still widen nothing past it.
MAX_PATHS = 2000


class DiscoveredSpace:
    """Declarations in the order first seen, the paths calls took, and the :class:`SearchSpace` they make.

    ``paths``: ``{"used": [names in the order read], "values": {categorical name: value}}`` per
    distinct successful call (see the module docstring). ``conditions`` gives the conditions
    inferred from the paths outright (``{name: [Parent config, ...]}``, :attr:`inferred`), for a
    trial that needs the engine's tree but not the evidence.
    """

    def __init__(
        self,
        declarations: Iterable[HyperParameter] = (),
        paths: Iterable[Mapping[str, Any]] = (),
        conditions: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.declarations: tuple[HyperParameter, ...] = tuple(declarations)
        if len(self.declarations) > MAX_PARAMETERS:
            raise SearchSpaceError(f"more than {MAX_PARAMETERS} hyperparameters were declared")
        self.paths: tuple[Mapping[str, Any], ...] = tuple(_checked_path(p) for p in paths)
        self._given = (
            None if conditions is None else {k: [Parent.from_config(c) for c in v] for k, v in conditions.items()}
        )
        self._check_conflicts()

    @classmethod
    def from_config(
        cls, configs: Sequence[Mapping[str, Any]], paths: Iterable[Mapping[str, Any]] = ()
    ) -> DiscoveredSpace:
        """From a list of KerasTuner declaration configs (``HyperParameters.get_config()["space"]``) and paths."""
        return cls((deserialize(item) for item in configs), paths)

    def get_config(self) -> list[dict[str, Any]]:
        return [serialize(hp) for hp in self.declarations]

    def observed(self, used: Sequence[str], values: Mapping[str, Any]) -> DiscoveredSpace:
        """This space with the path of one successful call (its names read in order, its flat values)."""
        categorical = {hp.name for hp in self.declarations if _categorical(hp)}
        path = {
            "used": list(dict.fromkeys(str(name) for name in used)),
            "values": {name: values[name] for name in used if name in categorical and name in values},
        }
        if len(self.paths) >= MAX_PATHS or any(_same_path(path, known) for known in self.paths):
            return self
        return DiscoveredSpace(self.declarations, [*self.paths, path])

    @cached_property
    def inferred(self) -> dict[str, list[Parent]]:
        """The conditions Python control flow gave parameters declared without any (see the module docstring)."""
        if self._given is not None:
            return self._given
        by_name = {hp.name: hp for hp in self.declarations}
        order = {hp.name: i for i, hp in enumerate(self.declarations)}
        parents: dict[str, tuple[str, list[Any]]] = {}
        for hp in self.declarations:
            if hp.conditions or hp.name in parents:
                continue
            found = _parent(hp.name, self.paths, by_name, order)
            if found is not None:
                parents[hp.name] = found
        inferred: dict[str, list[Parent]] = {}

        def resolve(name: str, seen: tuple[str, ...]) -> list[Parent] | None:
            hp = by_name[name]
            if hp.conditions:
                return list(hp.conditions)
            if name not in parents:
                return []
            if name in seen:  # a cycle of inferences: none of them holds
                return None
            parent, values = parents[name]
            above = resolve(parent, (*seen, name))
            return None if above is None else [*above, Parent(parent, values)]

        for name in parents:
            conditions = resolve(name, ())
            if conditions:
                inferred[name] = conditions
        return inferred

    def inferred_config(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [c.get_config() for c in conditions] for name, conditions in self.inferred.items()}

    def _conditions(self, hp: HyperParameter) -> list[Parent]:
        """``hp``'s conditions: as declared, else as inferred from the paths."""
        return list(hp.conditions) if hp.conditions else self.inferred.get(hp.name, [])

    def _given_config(self) -> dict[str, list[dict[str, Any]]] | None:
        return None if self._given is None else self.inferred_config()

    def __len__(self) -> int:
        return len(self.declarations)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DiscoveredSpace) and _key(self._identity()) == _key(other._identity())

    def __hash__(self) -> int:
        return hash(_key(self._identity()))

    def _identity(self) -> list[Any]:
        return [self.get_config(), self.inferred_config()]

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
        return self if not unique else DiscoveredSpace([*self.declarations, *unique], self.paths, self._given_config())

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
        return self._level([hp for hp in self.declarations if not self._conditions(hp)], placed=set())

    def _level(self, hps: Sequence[HyperParameter], placed: set[int]) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        names: set[str] = set()
        orphans = [] if placed else self._orphans()
        for hp in [*hps, *orphans]:
            if hp.name in names:
                raise SearchSpaceError(
                    f"hyperparameter '{hp.name}' is declared twice where the same conditions hold"
                    + (f" ({_where(self._conditions(hp))})" if self._conditions(hp) else "")
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
            here = [c for c in children if value in self._conditions(c)[-1].values]
            name = _branch_name(value, used)
            used.add(name)
            options.append((value, name, self._level(here, placed) if here else ()))
        return _Node(hp, tuple(options))

    def _children(self, hp: HyperParameter) -> list[HyperParameter]:
        mine = self._conditions(hp)
        children = []
        for c in self.declarations:
            conditions = self._conditions(c)
            if conditions and conditions[-1].name == hp.name and conditions[:-1] == mine:
                children.append(c)
        return children

    def _orphans(self) -> list[HyperParameter]:
        """Conditional declarations whose parent is continuous or not at their level: kept top-level."""
        reachable: set[int] = set()

        def walk(hp: HyperParameter) -> None:
            reachable.add(id(hp))
            if hp.discrete_values() is not None:
                for child in self._children(hp):
                    walk(child)

        for hp in self.declarations:
            if not self._conditions(hp):
                walk(hp)
        return [hp for hp in self.declarations if id(hp) not in reachable]

    @cached_property
    def space(self) -> SearchSpace:
        return SearchSpace(_space_of(self._tree))

    # ------------------------------------------------------------------ values both ways
    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The flat values (KerasTuner's ``hp.values``) of a configuration of :attr:`space`; inactive ones left out.

        A configuration of this space before a condition was found (or dropped) has a parameter
        at another level of the tree: its value is taken wherever it is, when it is active here.
        """
        out: dict[str, Any] = {}
        _values_of(self._tree, params, out)
        anywhere: dict[str, Any] = {}
        _flatten(params, anywhere)
        for hp in self.declarations:
            if hp.name in out or hp.name not in anywhere:
                continue
            if all(c.is_active(out) for c in self._conditions(hp)):
                out[hp.name] = _option(hp, anywhere[hp.name])
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
            out[name] = _option(node.hp, value)


def _flatten(params: Mapping[str, Any], out: dict[str, Any]) -> None:
    """Every value of a tree-form configuration by its name (a branch as ``{"_name": branch}``)."""
    for name, value in params.items():
        if isinstance(value, Mapping) and "_name" in value:
            out.setdefault(name, {"_name": value["_name"]})
            _flatten({k: v for k, v in value.items() if k != "_name"}, out)
        else:
            out.setdefault(name, value)


def _option(hp: HyperParameter, value: Any) -> Any:
    """``value``, or the option a branch ``{"_name": branch}`` stands for."""
    if not (isinstance(value, Mapping) and "_name" in value):
        return value
    used: set[str] = set()
    for option in hp.discrete_values() or []:
        branch = _branch_name(option, used)
        used.add(branch)
        if branch == value["_name"]:
            return option
    return value["_name"]


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


def _where(conditions: Sequence[Parent]) -> str:
    return " and ".join(f"{c.name} in {c.values!r}" for c in conditions)


def _categorical(hp: HyperParameter) -> bool:
    return isinstance(hp, (ChoiceDeclaration, Boolean))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _same_path(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _key(a) == _key(b)


def _checked_path(path: Mapping[str, Any]) -> dict[str, Any]:
    used, values = path.get("used"), path.get("values")
    if not isinstance(used, list) or not all(isinstance(n, str) for n in used) or not isinstance(values, Mapping):
        raise SearchSpaceError(f"a define-by-run path must be {{'used': [names], 'values': {{...}}}}, got {path!r}")
    return {"used": list(used), "values": dict(values)}


def _parent(
    name: str, paths: Sequence[Mapping[str, Any]], by_name: Mapping[str, HyperParameter], order: Mapping[str, int]
) -> tuple[str, list[Any]] | None:
    """The categorical parameter ``name`` is found conditional on, and the values it is active for; or None."""
    inside = [p for p in paths if name in p["used"]]
    outside = [p for p in paths if name not in p["used"]]
    if not inside or not outside:
        return None
    before = set.intersection(*(set(p["used"][: p["used"].index(name)]) for p in inside))
    candidates = sorted((k for k in before if k in by_name and _categorical(by_name[k])), key=lambda k: -order[k])
    for parent in candidates:
        values_in = {_key(p["values"][parent]): p["values"][parent] for p in inside if parent in p["values"]}
        values_out = {_key(p["values"][parent]) for p in outside if parent in p["values"]}
        if values_in and values_out and not values_out & set(values_in):
            known = by_name[parent].discrete_values() or []
            ranked = sorted(
                values_in.values(), key=lambda v: next((i for i, k in enumerate(known) if k == v), len(known))
            )
            return parent, ranked
    return None
