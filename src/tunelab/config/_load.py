"""Read a config file of any supported format into one :class:`ExperimentConfig`.

The format is told from the content, not the file name, so ``tunelab run`` takes an NNI
``config.yml``, a T9k resource or an Auptimizer ``experiment.json`` as they are. Every
problem is one :class:`ConfigError` line that names the file and the field.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from tunelab.config._auptimizer import AUPTIMIZER_MARKERS, load_auptimizer
from tunelab.config._check import check_startup, ignored_settings
from tunelab.config._common import Context, check_space, mapping
from tunelab.config._nni import NNI_MARKERS, load_nni
from tunelab.config._schema import ExperimentConfig, build_config
from tunelab.config._t9k import is_t9k, load_t9k
from tunelab.errors import ConfigError, escape

#: The largest config file read; a config is a few kilobytes, and ``/dev/zero`` must not hang.
MAX_CONFIG_BYTES = 10 * 1024 * 1024

Format = Literal["tunelab", "nni", "t9k", "auptimizer"]
FORMATS: tuple[str, ...] = get_args(Format)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config, the format it was written in, and what could not be honoured."""

    config: ExperimentConfig
    format: Format
    warnings: tuple[str, ...]
    source: Path | None


def load_config(path: str | Path, *, format: Format | None = None) -> LoadedConfig:
    """Load and validate a config file; relative paths in it are taken from its folder.

    This is the one decision ``tunelab validate`` and ``tunelab run`` share: besides the format and
    the fields, everything ``run`` checks before the first trial is checked here (tuner, assessor,
    scheduler, the trial's folder, program and script, GPUs, Ray), so a config that loads starts.
    """
    path = Path(path)
    data = read_config_file(path)
    return load_config_dict(data, base_dir=path.parent, format=format, source=path, startup=True)


def load_config_dict(
    data: Any,
    base_dir: str | Path | None = None,
    *,
    format: Format | None = None,
    source: str | Path | None = None,
    startup: bool = False,
) -> LoadedConfig:
    """Validate an in-memory config (a parsed file or a Python dict) of any supported format.

    ``startup``: also make the checks that depend on this machine (the trial's folder, program and
    script, GPUs, Ray: :func:`~tunelab.config._check.check_startup`), as :func:`load_config` does.
    """
    label = escape(source, limit=4096) if source is not None else "config"
    ctx = Context(label, Path(base_dir).absolute() if base_dir is not None else Path.cwd())
    if isinstance(data, ExperimentConfig):
        return LoadedConfig(data, "tunelab", (), Path(source) if source else None)
    data = mapping(ctx, data, "")
    kind = format or detect_format(data)
    if kind not in FORMATS:
        raise ConfigError(f"{label}: unknown config format {kind!r} (known: {', '.join(FORMATS)})")
    try:
        fields = _LOADERS[kind](ctx, data)
        if kind != "tunelab":
            fields = _runner_from_environment(fields)
        config = build_config(fields, source=label, space=ctx.space)
        if startup:
            check_startup(config, label, fields=ctx.fields)
        ctx.warnings.extend(ignored_settings(config))
    except RecursionError:
        raise ctx.error("", "the config is nested too deeply") from None
    except ConfigError as exc:
        # Keys and values are quoted as written; a newline in one must not break the line.
        message = str(exc)
        escaped = escape(message, limit=max(len(message) * 4, 200))
        if escaped != message:
            raise type(exc)(escaped) from None
        raise
    return LoadedConfig(config, kind, tuple(ctx.warnings), Path(source) if source is not None else None)


#: Runs the trials of an NNI, T9k or Auptimizer config (whose format cannot name a runner) on Ray:
#: ``auto``, ``host:port``, ``ray://host:port``, or ``local`` for a private cluster on this machine.
RAY_ADDRESS_ENV = "TUNELAB_RAY_ADDRESS"


def _runner_from_environment(fields: dict[str, Any]) -> dict[str, Any]:
    address = os.environ.get(RAY_ADDRESS_ENV, "").strip()
    if not address:
        return fields
    ray = {**fields.get("ray", {}), "address": None if address == "local" else address}
    return {**fields, "runner": "ray", "ray": ray}


def detect_format(data: dict[str, Any]) -> Format:
    """T9k by ``apiVersion``/``kind``, Auptimizer and NNI by their own keys, else tunelab."""
    if is_t9k(data):
        return "t9k"
    keys = set(data)
    if keys & {"proposer", "parameter_config"} or (keys & AUPTIMIZER_MARKERS and "search_space" not in keys):
        return "auptimizer"
    if keys & NNI_MARKERS:
        return "nni"
    return "tunelab"


def read_config_file(path: Path) -> Any:
    """Parse YAML (or JSON, for ``.json`` files) with one-line errors that give file and line.

    Only regular files of at most :data:`MAX_CONFIG_BYTES` are read (``/dev/zero``, a FIFO or a
    huge file is refused at once rather than read forever).
    """
    label = escape(path, limit=4096)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{label}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{label}: is a folder, not a config file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{label}: not a regular file (a device, a pipe or a socket); give a config file")
    if info.st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{label}: {info.st_size} bytes is too large for a config file (at most 10 MB)")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{label}: too large for a config file (at most 10 MB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise ConfigError(f"{label}: the file is empty")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{label}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise ConfigError(f"{label}: invalid JSON: nested too deeply") from None
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(escape(" ".join(f"{where}: invalid YAML: {problem}".split()), limit=2000)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(escape(" ".join(f"{label}: invalid YAML: {exc}".split()), limit=2000)) from None
    except RecursionError:
        raise ConfigError(f"{label}: invalid YAML: nested too deeply") from None


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-4`` and ``5e12`` as numbers as YAML 1.2 (and JSON, and NNI users) do.

    PyYAML follows YAML 1.1, whose floats need a dot and a signed exponent (``1.0e-4``), so
    ``lr: {_type: loguniform, _value: [1e-5, 1e-1]}`` would read as two strings.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.VERBOSE,
    ),
    list("-+0123456789."),
)


def _load_tunelab(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """tunelab's own YAML: the schema's fields, with paths taken from the config's folder."""
    data = dict(data)
    space = data.get("search_space")
    if isinstance(space, (str, Path)):
        from tunelab.config._common import read_json

        data["search_space"] = read_json(ctx, ctx.path(space), "search_space")
    trial = data.get("trial")
    if isinstance(trial, str):
        trial = {"command": trial}
        data["trial"] = trial
    if isinstance(trial, dict) and isinstance(trial.get("code_dir"), (str, Path)):
        data["trial"] = {**trial, "code_dir": ctx.path(trial["code_dir"])}
    elif isinstance(trial, dict) and "code_dir" not in trial:
        data["trial"] = {**trial, "code_dir": ctx.base_dir}
    if isinstance(data.get("experiment_dir"), (str, Path)):
        data["experiment_dir"] = ctx.path(data["experiment_dir"])
    storage = data.get("storage")
    if isinstance(storage, str) and "://" not in storage:
        data["storage"] = str(ctx.path(storage))
    if "search_space" in data:
        check_space(ctx, data["search_space"], "search_space")
    return data


_LOADERS = {
    "tunelab": _load_tunelab,
    "nni": load_nni,
    "t9k": load_t9k,
    "auptimizer": load_auptimizer,
}
