"""Read the three search-space spellings users bring into one :class:`SearchSpace`.

* NNI / T9k JSON: ``{"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}}``; ``randint``
  excludes its upper bound.
* Auptimizer's ``parameter_config`` list: ``[{"name": "x", "range": [-5, 5], "type": "float"}]``;
  ``int`` includes its upper bound.
* A Python dict of :mod:`tunelab.hp` domains (Ray/Orca style), NNI dicts and constants.

What is a constant (Ray's ``{"epochs": 10}``): a scalar, or a mapping none of whose keys
looks like part of a spec. A typo must never become a constant, so these are errors that
name the parameter: a mapping with ``_typ``, ``type``/``value``, ``low``/``high``... but no
``_type``; a bare list (write ``{_type: choice, _value: [...]}``); a tuple or a set (write
``hp.uniform(a, b)`` or ``hp.choice([...])``); domains hidden inside a constant; a choice
option that is a domain or a spec without ``_name``. A constant list is a one-option choice.

Limits, so that no input can exhaust the stack, the memory or the time: choices nest at most
:data:`MAX_NESTING` levels, constants nest at most as deep and may not contain themselves,
and a space has at most :data:`MAX_PARAMETERS` parameters.

Every problem becomes one :class:`SearchSpaceError` line that names the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tunelab.errors import SearchSpaceError, did_you_mean, escape
from tunelab.space._domains import (
    Branch,
    Choice,
    Domain,
    Fixed,
    Float,
    Int,
    LogitFloat,
    Normal,
    ReverseLogFloat,
    _is_finite_real,
    _is_integral,
    _is_real,
    show,
)
from tunelab.space._space import MAX_NESTING, MAX_PARAMETERS, SearchSpace


def _uniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1])


def _quniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], q=v[2])


def _loguniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], log=True)


def _qloguniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], log=True, q=v[2])


def _logituniform(v: list[Any]) -> Domain:
    return LogitFloat(v[0], v[1])


def _reverseloguniform(v: list[Any]) -> Domain:
    return ReverseLogFloat(v[0], v[1])


def _normal(v: list[Any]) -> Domain:
    return Normal(v[0], v[1])


def _qnormal(v: list[Any]) -> Domain:
    return Normal(v[0], v[1], q=v[2])


def _lognormal(v: list[Any]) -> Domain:
    return Normal(v[0], v[1], log=True)


def _qlognormal(v: list[Any]) -> Domain:
    return Normal(v[0], v[1], log=True, q=v[2])


def _randint(v: list[Any]) -> Domain:
    lower, upper = v
    if _is_integral(lower) and _is_integral(upper) and not lower < upper:
        raise ValueError(f"needs lower < upper (upper is excluded), but got {v}")
    if not (_is_integral(lower) and _is_integral(upper)):
        raise ValueError(f"bounds must be integers, but got {v}")
    return Int(int(lower), int(upper) - 1)


def _integer(v: list[Any]) -> Domain:
    low, high, step = _integer_bounds(v)
    return Int(low, high, step=step)


def _logint(v: list[Any]) -> Domain:
    low, high, step = _integer_bounds(v)
    return Int(low, high, log=True, step=step)


def _integer_bounds(v: list[Any]) -> tuple[int, int, int]:
    if not all(_is_integral(x) for x in v):
        raise ValueError(f"bounds and step must be integers, but got {v}")
    low, high, *rest = (int(x) for x in v)
    return low, high, rest[0] if rest else 1


#: NNI ``_type`` -> (number of ``_value`` items, builder). ``integer`` and ``logint``
#: ([low, high, step], both ends included), ``logituniform`` ([low, high] inside (0, 1),
#: uniform on the logit scale) and ``reverseloguniform`` ([low, high], low > 0, denser near
#: high: KerasTuner's ``reverse_log``) are tunelab's own additions.
NNI_TYPES: dict[str, tuple[int, Callable[[list[Any]], Domain]]] = {
    "uniform": (2, _uniform),
    "quniform": (3, _quniform),
    "loguniform": (2, _loguniform),
    "qloguniform": (3, _qloguniform),
    "logituniform": (2, _logituniform),
    "reverseloguniform": (2, _reverseloguniform),
    "normal": (2, _normal),
    "qnormal": (3, _qnormal),
    "lognormal": (2, _lognormal),
    "qlognormal": (3, _qlognormal),
    "randint": (2, _randint),
    "integer": (3, _integer),
    "logint": (3, _logint),
}


def parse_search_space(spec: Any, *, where: str = "search_space") -> SearchSpace:
    """Build a space from any supported spelling, or a JSON file path holding one."""
    if isinstance(spec, SearchSpace):
        return spec
    if isinstance(spec, (str, Path)):
        return parse_search_space(_load_json_file(Path(spec), where), where=where)
    if isinstance(spec, list):
        return parse_auptimizer(spec, where=where)
    if isinstance(spec, Mapping):
        return _parse_mapping(spec, prefix="", where=where, strict=False, depth=0, budget=_Budget())
    raise SearchSpaceError(f"{where}: expected a mapping of parameters or a list, got {type(spec).__name__}")


def parse_nni(spec: Any, *, where: str = "search_space") -> SearchSpace:
    """Build a space from NNI JSON (a dict, a JSON string or a file path), rejecting non-NNI entries."""
    if isinstance(spec, str) and spec.lstrip().startswith("{"):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise SearchSpaceError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise SearchSpaceError(f"{where}: the JSON is nested too deeply") from None
    elif isinstance(spec, (str, Path)):
        spec = _load_json_file(Path(spec), where)
    if not isinstance(spec, Mapping):
        raise SearchSpaceError(f"{where}: expected a JSON object of parameters, got {type(spec).__name__}")
    return _parse_mapping(spec, prefix="", where=where, strict=True, depth=0, budget=_Budget())


class _Budget:
    """Counts the entries of one parse, so shared sub-spaces (YAML aliases) cannot multiply without end."""

    def __init__(self) -> None:
        self.used = 0

    def spend(self, where: str) -> None:
        self.used += 1
        if self.used > MAX_PARAMETERS:
            raise SearchSpaceError(f"{where}: the search space has more than {MAX_PARAMETERS} parameters")


#: Keys that make a mapping without ``_type`` look like a parameter spec (a typo, or another
#: system's spelling), so that it is an error rather than a constant.
_SPEC_WORDS = frozenset(
    "type value values kind range bounds low high lower upper min max choices options "
    "distribution dist q step mu sigma log base".split()
)


def _spec_like_key(key: Any) -> str | None:
    """The suggestion (or ``""``) when ``key`` looks like part of a parameter spec, else None."""
    if not isinstance(key, str):
        return None
    hint = did_you_mean(key.lower(), ["_type", "_value"])
    if hint or key.startswith("_") or key.lower().strip("_") in _SPEC_WORDS:
        return hint
    return None


def _parse_mapping(
    spec: Mapping[Any, Any], *, prefix: str, where: str, strict: bool, depth: int, budget: _Budget
) -> SearchSpace:
    if not spec and not prefix:
        raise SearchSpaceError(f"{where}: the search space is empty")
    if not prefix and "_type" in spec:
        raise SearchSpaceError(
            f"{where}: this is one parameter's spec, not a mapping of parameters; name the parameter, "
            f"as in {{x: {{_type: ..., _value: [...]}}}}"
        )
    domains: dict[str, Domain] = {}
    for name, entry in spec.items():
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"{where}: parameter names must be non-empty strings, got {show(name)}")
        label = f"{prefix}{escape(name)}"
        budget.spend(f"{where}.{label}")
        domain = _parse_entry(entry, label=label, where=where, strict=strict, depth=depth, budget=budget)
        if isinstance(domain, Choice) and domain.is_nested:
            levels = depth + 1 + max(o.space.depth for o in domain.options if isinstance(o, Branch))
            if levels > MAX_NESTING:
                raise SearchSpaceError(
                    f"{where}.{_short_path(label)}: choices are nested deeper than {MAX_NESTING} levels"
                )
        domains[name] = domain
    try:
        return SearchSpace(domains)
    except SearchSpaceError as exc:
        raise SearchSpaceError(f"{where}{'.' + prefix.rstrip('.') if prefix else ''}: {exc}") from None


def _parse_entry(entry: Any, *, label: str, where: str, strict: bool, depth: int, budget: _Budget) -> Domain:
    here = f"{where}.{label}"
    if isinstance(entry, Choice):
        return _reparse_choice(entry, label=label, where=where, strict=strict, depth=depth, budget=budget)
    if isinstance(entry, Domain):
        return entry
    if isinstance(entry, Mapping) and "_type" in entry:
        return _parse_nni_entry(entry, label=label, where=where, strict=strict, depth=depth, budget=budget)
    if isinstance(entry, list):
        hint = f"for one of these values write {{_type: choice, _value: {show(entry)}}}"
        if strict:
            raise SearchSpaceError(f'{here}: expected {{"_type": ..., "_value": [...]}}, got {show(entry)}; {hint}')
        raise SearchSpaceError(f"{here}: a bare list is not a parameter; {hint}")
    if strict:
        if isinstance(entry, Mapping):
            _check_constant_mapping(entry, here)
        raise SearchSpaceError(f'{here}: expected {{"_type": ..., "_value": [...]}}, got {show(entry)}')
    if isinstance(entry, tuple):
        choice = f"hp.choice({show(list(entry))})"
        if len(entry) == 2 and all(_is_finite_real(v) for v in entry):
            raise SearchSpaceError(
                f"{here}: a tuple is not a parameter; write tunelab.hp.uniform({show(entry[0])}, {show(entry[1])}) "
                f"for a range or {choice} for one of these values"
            )
        raise SearchSpaceError(f"{here}: a tuple is not a parameter; for one of these values write tunelab.{choice}")
    if isinstance(entry, (set, frozenset)):
        raise SearchSpaceError(
            f"{here}: a set is not a parameter; for one of these values write tunelab.hp.choice([...]) (a list keeps "
            "the order)"
        )
    if isinstance(entry, Mapping):
        _check_constant_mapping(entry, here)
    if isinstance(entry, Branch):
        raise SearchSpaceError(f"{here}: hp.branch() is an option of hp.choice([...]), not a parameter")
    _check_value(entry, here)
    return Fixed(entry)


def _check_constant_mapping(entry: Mapping[Any, Any], here: str) -> None:
    """A mapping without ``_type`` is a constant only if nothing in it looks like a parameter spec."""
    flagged = [
        (key, hint) for key in entry if key not in ("_value", "_name") and (hint := _spec_like_key(key)) is not None
    ]
    flagged.sort(key=lambda item: (not item[1], str(item[0])))
    if flagged and flagged[0][1]:
        key, hint = flagged[0]
        raise SearchSpaceError(f"{here}: unknown key {show(key)}{hint}")
    if "_value" in entry:
        raise SearchSpaceError(f"{here}: '_type' is missing (a parameter is {{_type: ..., _value: [...]}})")
    if "_name" in entry:
        raise SearchSpaceError(f"{here}: '_name' belongs to an option of a nested choice, not to a parameter")
    if flagged:
        key, hint = flagged[0]
        raise SearchSpaceError(
            f"{here}: unknown key {show(key)}{hint or ''} (a parameter is {{_type: ..., _value: [...]}}; "
            "a constant mapping is {_type: choice, _value: [{...}]})"
        )


def _check_value(value: Any, here: str) -> None:
    """Refuse constants that hold search-space objects or spec mappings, refer to themselves or nest too deeply.

    Iterative, and each container is visited once, so neither depth nor shared parts (YAML
    aliases) can exhaust the stack or the time.
    """
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)) and not isinstance(value, (Domain, Branch)):
        return
    done: set[int] = set()
    stack: list[tuple[Any, str, int, frozenset[int]]] = [(value, "", 0, frozenset())]
    while stack:
        item, path, level, above = stack.pop()
        if isinstance(item, (Domain, Branch, SearchSpace)):
            raise SearchSpaceError(
                f"{here}{path}: a nested mapping of parameters is not supported (found {type(item).__name__}); "
                "give each parameter its own name, or nest it in a choice option with a _name"
            )
        if not isinstance(item, (Mapping, list, tuple, set, frozenset)):
            continue
        if id(item) in above:
            raise SearchSpaceError(f"{here}{path}: the value refers to itself")
        if level >= MAX_NESTING:
            raise SearchSpaceError(f"{here}: the value is nested deeper than {MAX_NESTING} levels")
        if id(item) in done:
            continue
        done.add(id(item))
        inner = above | {id(item)}
        if isinstance(item, Mapping):
            if path and "_type" in item:
                raise SearchSpaceError(
                    f"{here}{path}: a nested mapping of parameters is not supported; give each parameter its own "
                    "name, or nest it in a choice option with a _name"
                )
            children = [(child, f"{path}.{escape(key)}") for key, child in item.items()]
        else:
            children = [(child, f"{path}[{i}]") for i, child in enumerate(item)]
        stack.extend((child, child_path, level + 1, inner) for child, child_path in children)


def _parse_nni_entry(
    entry: Mapping[str, Any], *, label: str, where: str, strict: bool, depth: int, budget: _Budget
) -> Domain:
    here = f"{where}.{label}"
    extra = [k for k in entry if k not in ("_type", "_value")]
    if extra:
        extra.sort(key=str)
        key = extra[0]
        hint = did_you_mean(str(key).lower(), ["_value"]) if "_value" not in entry else ""
        raise SearchSpaceError(f"{here}: unknown key {show(key)}{hint or ' (expected _type and _value)'}")
    kind = entry["_type"]
    if not isinstance(kind, str):
        raise SearchSpaceError(f"{here}: _type must be a string, got {show(kind)}")
    if "_value" not in entry:
        raise SearchSpaceError(f"{here}: '_value' is missing")
    value = entry["_value"]
    if kind in ("choice", "grid_search"):
        if not isinstance(value, list):
            raise SearchSpaceError(f"{here}: {kind} needs a list of options, got {show(value)}")
        return _build_choice(
            value, grid=kind == "grid_search", label=label, where=where, strict=strict, depth=depth, budget=budget
        )
    if kind not in NNI_TYPES:
        known = ", ".join(["choice", "grid_search", *NNI_TYPES])
        raise SearchSpaceError(f"{here}: unknown _type {show(kind)} (known: {known})")
    arity, build = NNI_TYPES[kind]
    if not isinstance(value, list) or len(value) != arity:
        raise SearchSpaceError(f"{here}: {kind} needs a _value list of {arity} numbers, got {show(value)}")
    if not all(_is_finite_real(v) for v in value):
        raise SearchSpaceError(f"{here}: {kind} needs finite numbers, got {show(value)}{_text_number_hint(value)}")
    try:
        return build(value)
    except ValueError as exc:
        raise SearchSpaceError(f"{here}: {kind} {exc}") from None


def _short_path(label: str) -> str:
    """A deep parameter path cut in the middle, so the message stays readable."""
    parts = label.split(".")
    return label if len(parts) <= 8 else f"{'.'.join(parts[:4])}...{'.'.join(parts[-2:])}"


def _text_number_hint(values: list[Any]) -> str:
    """Why ``'1e12'`` arrived as text: YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent."""
    for v in values:
        if isinstance(v, str):
            try:
                float(v)
            except ValueError:
                continue
            return f" ({show(v)} is text, not a number: in YAML write exponents with a dot and a sign, as 1.0e+12)"
    return ""


def _build_choice(
    options: list[Any], *, grid: bool, label: str, where: str, strict: bool, depth: int, budget: _Budget
) -> Choice:
    here = f"{where}.{label}"
    if not options:
        raise SearchSpaceError(f"{here}: choice needs at least one option, got an empty list")
    built: list[Any] = []
    for position, option in enumerate(options):
        if isinstance(option, Branch):
            built.append(option)
        elif isinstance(option, Mapping) and "_name" in option:
            branch_name = option["_name"]
            if not isinstance(branch_name, str) or not branch_name:
                raise SearchSpaceError(f"{here}: a nested option's _name must be a string, got {show(branch_name)}")
            odd = sorted(str(k) for k in option if k != "_name" and (not isinstance(k, str) or k.startswith("_")))
            if odd:
                raise SearchSpaceError(
                    f"{here}: option {position} ({escape(branch_name)}) has unknown key {show(odd[0])}; "
                    "a nested option is {_name: ..., parameter: {_type: ..., _value: [...]}, ...}"
                )
            if depth + 1 > MAX_NESTING:
                raise SearchSpaceError(
                    f"{where}.{_short_path(label + '.' + escape(branch_name))}: choices are nested deeper than "
                    f"{MAX_NESTING} levels"
                )
            sub = {k: v for k, v in option.items() if k != "_name"}
            space = (
                _parse_mapping(
                    sub,
                    prefix=f"{label}.{escape(branch_name)}.",
                    where=where,
                    strict=strict,
                    depth=depth + 1,
                    budget=budget,
                )
                if sub
                else SearchSpace({})
            )
            built.append(Branch(branch_name, space))
        elif isinstance(option, Domain):
            raise SearchSpaceError(
                f"{here}: option {position} is a search-space domain ({show(option)}); a choice picks among values, "
                "so nest parameters in a named option: hp.branch(name, param=...) or {_name: ..., param: ...}"
            )
        elif isinstance(option, Mapping) and any(
            isinstance(k, str) and k.startswith("_") and _spec_like_key(k) is not None for k in option
        ):
            raise SearchSpaceError(
                f"{here}: option {position} looks like a parameter spec; a nested option needs a _name: "
                "{_name: ..., parameter: {_type: ..., _value: [...]}}"
            )
        else:
            _check_value(option, f"{here}[{position}]")
            built.append(option)
    try:
        return Choice(tuple(built), grid_search=grid)
    except ValueError as exc:
        raise SearchSpaceError(f"{here}: {exc}") from None


def _reparse_choice(choice: Choice, *, label: str, where: str, strict: bool, depth: int, budget: _Budget) -> Choice:
    """An ``hp.choice`` may hold ``{"_name": ...}`` dicts with hp domains inside: parse those too."""
    if all(isinstance(o, Branch) or _plain_option(o) for o in choice.options):
        return choice
    return _build_choice(
        list(choice.options),
        grid=choice.grid_search,
        label=label,
        where=where,
        strict=strict,
        depth=depth,
        budget=budget,
    )


def _plain_option(option: Any) -> bool:
    return not isinstance(option, (Mapping, list, tuple, set, frozenset, Domain))


#: Keys an Auptimizer ``parameter_config`` entry may have.
_AUPTIMIZER_KEYS = {"name", "range", "type", "interval", "n"}


def parse_auptimizer(entries: list[Any], *, where: str = "parameter_config") -> SearchSpace:
    """Auptimizer's list form; ``int`` ranges include both ends, as in Auptimizer."""
    if not entries:
        raise SearchSpaceError(f"{where}: the search space is empty")
    domains: dict[str, Domain] = {}
    for position, entry in enumerate(entries):
        here = f"{where}[{position}]"
        if not isinstance(entry, Mapping):
            raise SearchSpaceError(f"{here}: expected {{name, range, type}}, got {show(entry)}")
        unknown = set(entry) - _AUPTIMIZER_KEYS
        if unknown:
            raise SearchSpaceError(f"{here}: unknown key '{sorted(unknown)[0]}'")
        for key in ("name", "range", "type"):
            if key not in entry:
                raise SearchSpaceError(f"{here}: '{key}' is missing")
        name, bounds, kind = entry["name"], entry["range"], entry["type"]
        here = f"{where}.{name}"
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"{where}[{position}].name: expected a non-empty string, got {show(name)}")
        if name in domains:
            raise SearchSpaceError(f"{here}: the name appears twice")
        if not isinstance(bounds, list):
            raise SearchSpaceError(f"{here}.range: expected a list, got {show(bounds)}")
        try:
            if kind == "choice":
                for i, option in enumerate(bounds):
                    _check_value(option, f"{here}.range[{i}]")
                domains[name] = Choice(tuple(bounds))
            elif kind in ("float", "int"):
                if len(bounds) != 2 or not all(_is_real(b) for b in bounds):
                    raise ValueError(f"range needs [min, max], got {show(bounds)}")
                if kind == "float":
                    domains[name] = Float(bounds[0], bounds[1])
                else:
                    domains[name] = Int(bounds[0], bounds[1])
            else:
                raise SearchSpaceError(f"{here}.type: expected float, int or choice, got {show(kind)}")
        except ValueError as exc:
            raise SearchSpaceError(f"{here}: {exc}") from None
    return SearchSpace(domains)


def _load_json_file(path: Path, where: str) -> Any:
    if not path.is_file():
        raise SearchSpaceError(f"{where}: file {show(str(path))} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SearchSpaceError(f"{where}: {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
