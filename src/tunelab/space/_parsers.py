"""Read the three search-space spellings users bring into one :class:`SearchSpace`.

* NNI / T9k JSON: ``{"lr": {"_type": "loguniform", "_value": [1e-4, 0.1]}}``; ``randint``
  excludes its upper bound.
* Auptimizer's ``parameter_config`` list: ``[{"name": "x", "range": [-5, 5], "type": "float"}]``;
  ``int`` includes its upper bound.
* A Python dict of :mod:`tunelab.hp` domains (Ray/Orca style), NNI dicts and constants.

Every problem becomes one :class:`SearchSpaceError` line that names the parameter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tunelab.errors import SearchSpaceError
from tunelab.space._domains import Branch, Choice, Domain, Fixed, Float, Int, Normal, _is_integral, _is_real
from tunelab.space._space import SearchSpace


def _uniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1])


def _quniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], q=v[2])


def _loguniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], log=True)


def _qloguniform(v: list[Any]) -> Domain:
    return Float(v[0], v[1], log=True, q=v[2])


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
#: ([low, high, step], both ends included) are tunelab's own additions.
NNI_TYPES: dict[str, tuple[int, Callable[[list[Any]], Domain]]] = {
    "uniform": (2, _uniform),
    "quniform": (3, _quniform),
    "loguniform": (2, _loguniform),
    "qloguniform": (3, _qloguniform),
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
        return _parse_mapping(spec, prefix="", where=where, strict=False)
    raise SearchSpaceError(f"{where}: expected a mapping of parameters or a list, got {type(spec).__name__}")


def parse_nni(spec: Any, *, where: str = "search_space") -> SearchSpace:
    """Build a space from NNI JSON (a dict, a JSON string or a file path), rejecting non-NNI entries."""
    if isinstance(spec, str) and spec.lstrip().startswith("{"):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise SearchSpaceError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    elif isinstance(spec, (str, Path)):
        spec = _load_json_file(Path(spec), where)
    if not isinstance(spec, Mapping):
        raise SearchSpaceError(f"{where}: expected a JSON object of parameters, got {type(spec).__name__}")
    return _parse_mapping(spec, prefix="", where=where, strict=True)


def _parse_mapping(spec: Mapping[str, Any], *, prefix: str, where: str, strict: bool) -> SearchSpace:
    if not spec and not prefix:
        raise SearchSpaceError(f"{where}: the search space is empty")
    domains: dict[str, Domain] = {}
    for name, entry in spec.items():
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"{where}: parameter names must be non-empty strings, got {name!r}")
        label = f"{prefix}{name}"
        domains[name] = _parse_entry(entry, label=label, where=where, strict=strict)
    return SearchSpace(domains)


def _parse_entry(entry: Any, *, label: str, where: str, strict: bool) -> Domain:
    if isinstance(entry, Choice):
        return _reparse_choice(entry, label=label, where=where, strict=strict)
    if isinstance(entry, Domain):
        return entry
    if isinstance(entry, Mapping) and "_type" in entry:
        return _parse_nni_entry(entry, label=label, where=where, strict=strict)
    if strict:
        raise SearchSpaceError(f'{where}.{label}: expected {{"_type": ..., "_value": [...]}}, got {entry!r}')
    return Fixed(entry)


def _parse_nni_entry(entry: Mapping[str, Any], *, label: str, where: str, strict: bool) -> Domain:
    extra = set(entry) - {"_type", "_value"}
    if extra:
        raise SearchSpaceError(f"{where}.{label}: unknown key '{sorted(extra)[0]}' (expected _type and _value)")
    kind = entry["_type"]
    if not isinstance(kind, str):
        raise SearchSpaceError(f"{where}.{label}: _type must be a string, got {kind!r}")
    if "_value" not in entry:
        raise SearchSpaceError(f"{where}.{label}: '_value' is missing")
    value = entry["_value"]
    if kind in ("choice", "grid_search"):
        if not isinstance(value, list):
            raise SearchSpaceError(f"{where}.{label}: {kind} needs a list of options, got {value!r}")
        return _build_choice(value, grid=kind == "grid_search", label=label, where=where, strict=strict)
    if kind not in NNI_TYPES:
        known = ", ".join(["choice", "grid_search", *NNI_TYPES])
        raise SearchSpaceError(f"{where}.{label}: unknown _type {kind!r} (known: {known})")
    arity, build = NNI_TYPES[kind]
    if not isinstance(value, list) or len(value) != arity:
        raise SearchSpaceError(f"{where}.{label}: {kind} needs a _value list of {arity} numbers, got {value!r}")
    if not all(_is_real(v) and math.isfinite(v) for v in value):
        raise SearchSpaceError(f"{where}.{label}: {kind} needs finite numbers, got {value!r}")
    try:
        return build(value)
    except ValueError as exc:
        raise SearchSpaceError(f"{where}.{label}: {kind} {exc}") from None


def _build_choice(options: list[Any], *, grid: bool, label: str, where: str, strict: bool) -> Choice:
    if not options:
        raise SearchSpaceError(f"{where}.{label}: choice needs at least one option, got an empty list")
    built: list[Any] = []
    for option in options:
        if isinstance(option, Branch):
            built.append(option)
        elif isinstance(option, Mapping) and "_name" in option:
            branch_name = option["_name"]
            if not isinstance(branch_name, str) or not branch_name:
                raise SearchSpaceError(
                    f"{where}.{label}: a nested option's _name must be a string, got {branch_name!r}"
                )
            sub = {k: v for k, v in option.items() if k != "_name"}
            space = (
                _parse_mapping(sub, prefix=f"{label}.{branch_name}.", where=where, strict=strict)
                if sub
                else SearchSpace({})
            )
            built.append(Branch(branch_name, space))
        else:
            built.append(option)
    try:
        return Choice(tuple(built), grid_search=grid)
    except ValueError as exc:
        raise SearchSpaceError(f"{where}.{label}: {exc}") from None


def _reparse_choice(choice: Choice, *, label: str, where: str, strict: bool) -> Choice:
    """An ``hp.choice`` may hold ``{"_name": ...}`` dicts with hp domains inside: parse those too."""
    if not any(isinstance(o, Mapping) and "_name" in o for o in choice.options):
        return choice
    return _build_choice(list(choice.options), grid=choice.grid_search, label=label, where=where, strict=strict)


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
            raise SearchSpaceError(f"{here}: expected {{name, range, type}}, got {entry!r}")
        unknown = set(entry) - _AUPTIMIZER_KEYS
        if unknown:
            raise SearchSpaceError(f"{here}: unknown key '{sorted(unknown)[0]}'")
        for key in ("name", "range", "type"):
            if key not in entry:
                raise SearchSpaceError(f"{here}: '{key}' is missing")
        name, bounds, kind = entry["name"], entry["range"], entry["type"]
        here = f"{where}.{name}"
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(f"{where}[{position}].name: expected a non-empty string, got {name!r}")
        if name in domains:
            raise SearchSpaceError(f"{here}: the name appears twice")
        if not isinstance(bounds, list):
            raise SearchSpaceError(f"{here}.range: expected a list, got {bounds!r}")
        try:
            if kind == "choice":
                domains[name] = Choice(tuple(bounds))
            elif kind in ("float", "int"):
                if len(bounds) != 2 or not all(_is_real(b) for b in bounds):
                    raise ValueError(f"range needs [min, max], got {bounds!r}")
                if kind == "float":
                    domains[name] = Float(bounds[0], bounds[1])
                else:
                    domains[name] = Int(bounds[0], bounds[1])
            else:
                raise SearchSpaceError(f"{here}.type: expected float, int or choice, got {kind!r}")
        except ValueError as exc:
            raise SearchSpaceError(f"{here}: {exc}") from None
    return SearchSpace(domains)


def _load_json_file(path: Path, where: str) -> Any:
    if not path.is_file():
        raise SearchSpaceError(f"{where}: file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SearchSpaceError(f"{where}: {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
