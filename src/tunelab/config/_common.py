"""What every config loader needs: typed field access with one-line errors, paths, tuner checks.

Each loader reads the user's own spelling (NNI's ``maxTrialNumber``, Auptimizer's ``n_samples``)
and must name *that* field when something is wrong, so values are checked here as they are
read rather than after translation into :class:`ExperimentConfig`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tunelab.config._schema import parse_duration
from tunelab.errors import ConfigError, SearchSpaceError, TunerError, did_you_mean, escape

_MISSING: Any = object()


@dataclass
class Context:
    """Where a config came from, and the warnings collected while reading it."""

    source: str
    base_dir: Path
    warnings: list[str] = field(default_factory=list)
    #: The search space as parsed by :func:`check_space`, handed on so it is parsed once.
    space: Any = None
    #: The user's names for tunelab's fields (``trial.command`` -> NNI's ``trialCommand``), for messages.
    fields: dict[str, str] = field(default_factory=dict)

    def error(self, where: str, message: str, cls: type[ConfigError] = ConfigError) -> ConfigError:
        """A one-line error ``source: where: message``, control characters escaped."""
        text = f"{self.source}: {escape(where)}: {message}" if where else f"{self.source}: {message}"
        return cls(escape(" ".join(text.split()), limit=2000))

    def warn(self, where: str, message: str) -> None:
        text = f"{where}: {message}" if where else message
        self.warnings.append(escape(" ".join(text.split()), limit=2000))

    def path(self, value: str | Path) -> Path:
        """A path from the config, relative ones taken from the config file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def mapping(ctx: Context, value: Any, where: str) -> dict[str, Any]:
    """The value as a dict with string keys, or an error naming ``where``."""
    if not isinstance(value, Mapping):
        raise ctx.error(where, f"expected a mapping, got {_describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ctx.error(where, f"keys must be strings, got {key!r}")
    return dict(value)


def reject_unknown(ctx: Context, data: Mapping[str, Any], known: Iterable[str], where: str = "") -> None:
    """Unknown keys are an error with a did-you-mean hint, never silently ignored."""
    known = list(known)
    for key in data:
        if key not in known:
            raise ctx.error(f"{where}.{key}" if where else key, f"unknown field{did_you_mean(key, known)}")


def get_str(ctx: Context, data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    value = _get(ctx, data, key, where, default)
    if value is default and default is not _MISSING:
        return value
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(where, f"expected a non-empty string, got {_describe(value)}")
    return value


def get_int(
    ctx: Context, data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING, minimum: int = 1
) -> Any:
    value = _get(ctx, data, key, where, default)
    if value is default and default is not _MISSING:
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(where, f"expected an integer, got {_describe(value)}")
    if value < minimum:
        raise ctx.error(where, f"must be >= {minimum}, got {value}")
    return value


def get_bool(ctx: Context, data: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    value = _get(ctx, data, key, where, default)
    if value is default and default is not _MISSING:
        return value
    if not isinstance(value, bool):
        raise ctx.error(where, f"expected true or false, got {_describe(value)}")
    return value


def get_duration(ctx: Context, data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = data.get(key)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ctx.error(where, str(exc)) from None


def json_field(ctx: Context, value: Any, where: str, cls: type[ConfigError] = ConfigError) -> Any:
    """T9k keeps ``searchSpace`` and ``classArgs`` as JSON text inside YAML; accept parsed ones too."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ctx.error(where, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", cls) from None


def read_json(ctx: Context, path: Path, where: str) -> Any:
    """A JSON file named by the config (an NNI ``searchSpaceFile``)."""
    if not path.is_file():
        raise ctx.error(where, f"file {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ctx.error(where, f"cannot read {str(path)!r}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ctx.error(where, f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None


def _get(ctx: Context, data: Mapping[str, Any], key: str, where: str, default: Any) -> Any:
    if key in data and data[key] is not None:
        return data[key]
    if default is _MISSING:
        raise ctx.error(where, "this field is required")
    return default


def _describe(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(value).__name__} {text}" if not isinstance(value, (str, int, float)) else text


def check_space(ctx: Context, space: Any, where: str, *, nni: bool = False) -> Any:
    """Parse a search space now, so its errors name the user's field (``nni``: NNI JSON only).

    Returns ``space`` as given; the parsed space is kept in ``ctx.space`` for the config.
    """
    from tunelab.space import parse_nni, parse_search_space

    try:
        ctx.space = (parse_nni if nni else parse_search_space)(space, where=where)
    except SearchSpaceError as exc:
        raise ctx.error("", str(exc), SearchSpaceError) from None
    except RecursionError:
        raise ctx.error(where, "the search space is nested too deeply", SearchSpaceError) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # The parser's own checks missed a malformed value (e.g. a list as _type).
        raise ctx.error(where, f"malformed search space ({type(exc).__name__}: {exc})", SearchSpaceError) from None
    return space


def check_tuner(
    ctx: Context,
    name: str,
    args: Mapping[str, Any],
    *,
    space: Any,
    mode: str,
    seed: int | None,
    where: str,
    name_where: str,
) -> None:
    """Check the tuner name and arguments as the engine will build them, without building it.

    Errors name the user's fields (``tuner.classArgs``, ``proposer``). A tuner whose optional
    package is missing is left to :func:`~tunelab.config._check.check_startup` (``load_config``).
    """
    from tunelab.config._check import tuner_problem
    from tunelab.tuners import resolve_tuner_name

    try:
        resolve_tuner_name(name)
    except TunerError as exc:
        raise ctx.error(name_where, str(exc).removeprefix("tuner: "), type(exc)) from None
    args = dict(args)
    for reserved in ("mode", "space", "search_space", "name"):
        if reserved in args:
            raise ctx.error(where, f"{reserved!r} is not a tuner argument; set it at the top level", TunerError)
    if "seed" in args:
        seed_arg = args.pop("seed")
        seed = seed_arg if seed is None else seed
    parsed = ctx.space if ctx.space is not None else space
    try:
        tuner_problem(name, args, space=parsed, mode=mode, seed=seed, packages=False)
    except TunerError as exc:
        raise ctx.error(where, str(exc), type(exc)) from None
    except SearchSpaceError as exc:
        raise ctx.error(where, str(exc), TunerError) from None
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ctx.error(where, f"tuner {name!r}: {exc}", TunerError) from None
