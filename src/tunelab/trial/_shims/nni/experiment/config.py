"""NNI 3.0's experiment config classes (``nni.experiment.config``), as plain objects.

Fields are NNI v2's in snake_case; the constructor also takes camelCase (``trialCommand=``),
as NNI's does. Assigning a field NNI does not have raises ``AttributeError`` naming the
closest one. Relative paths are taken from the folder current when the config was made
(or the file's folder for :meth:`ConfigBase.load`), as NNI does. Nothing is checked until
the experiment starts: then the config goes through tunelab's NNI loader, whose errors name
the field.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, ClassVar

from tunelab.errors import did_you_mean

__all__ = [
    "AlgorithmConfig",
    "ConfigBase",
    "CustomAlgorithmConfig",
    "ExperimentConfig",
    "LocalConfig",
    "TrainingServiceConfig",
]


def _key(name: str) -> str:
    return name.lower().replace("_", "")


def camel_case(key: str) -> str:
    words = key.strip("_").split("_")
    return words[0] + "".join(word.title() for word in words[1:])


class ConfigBase:
    """Field names and defaults in ``_fields``; unknown names are refused, as in NNI."""

    _fields: ClassVar[dict[str, Any]] = {}
    _nested: ClassVar[dict[str, type[ConfigBase]]] = {}
    _paths: ClassVar[tuple[str, ...]] = ()
    _open: ClassVar[bool] = False  # accepts any field (training services tunelab does not run)
    _base_path: Path

    def __init__(self, **kwargs: Any) -> None:
        object.__setattr__(self, "_base_path", Path.cwd())
        given = {_key(key): value for key, value in kwargs.items()}
        for name, default in self._fields.items():
            value = given.pop(_key(name), copy.deepcopy(default))
            object.__setattr__(self, name, self._convert(name, value))
        if given and not self._open:
            names = [key for key in kwargs if _key(key) in given]
            raise AttributeError(
                f"{type(self).__name__} does not have field(s) {', '.join(names)}"
                f"{did_you_mean(names[0], list(self._fields))}"
            )
        for key, value in kwargs.items():
            if _key(key) in given:
                object.__setattr__(self, key, value)

    def _convert(self, name: str, value: Any) -> Any:
        kind = self._nested.get(name)
        if kind is not None and isinstance(value, dict):
            return kind(**value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self._fields or self._open:
            object.__setattr__(self, name, self._convert(name, value))
            return
        raise AttributeError(
            f"{type(self).__name__} does not have field {name}{did_you_mean(name, list(self._fields))}"
        )

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._items() if v is not None)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConfigBase) and type(other) is type(self) and self._items() == other._items()

    __hash__ = None  # type: ignore[assignment]

    def _items(self) -> list[tuple[str, Any]]:
        extra = [k for k in vars(self) if not k.startswith("_") and k not in self._fields]
        return [(name, getattr(self, name)) for name in [*self._fields, *extra]]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ConfigBase:
        """Read a YAML (or JSON) config file; relative paths in it are taken from its folder."""
        import yaml

        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        if not isinstance(data, dict):
            raise TypeError(f"Content of config file {path} is not a dict/object")
        config = cls(**data)
        config._rebase(Path(path).resolve().parent)
        return config

    def _rebase(self, base: Path) -> None:
        object.__setattr__(self, "_base_path", base)
        for _, value in self._items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ConfigBase):
                    item._rebase(base)

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, (str, os.PathLike)):
            return os.path.realpath(os.path.join(self._base_path, os.path.expanduser(os.fspath(value))))
        return value

    def json(self) -> dict[str, Any]:
        """The config as NNI's camelCase JSON object, with paths made absolute (None fields left out)."""
        out: dict[str, Any] = {}
        for name, value in self._items():
            if value is None or (name.startswith("_")):
                continue
            if name in self._paths:
                value = self._resolve(value)
            out[camel_case(name)] = _json(value)
        return out

    def validate(self) -> None:
        """Check the config as tunelab's NNI loader does when the experiment starts (raises ConfigError)."""
        if isinstance(self, ExperimentConfig):
            from ._convert import to_tunelab

            to_tunelab(self)

    def canonical_copy(self) -> ConfigBase:
        return copy.deepcopy(self)


def _json(value: Any) -> Any:
    if isinstance(value, ConfigBase):
        return value.json()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


class _AlgorithmConfig(ConfigBase):
    """A tuner, assessor or advisor: ``name`` and ``class_args`` (custom classes are refused at start)."""

    _fields: ClassVar[dict[str, Any]] = {"name": None, "class_name": None, "code_directory": None, "class_args": None}
    _paths = ("code_directory",)


class AlgorithmConfig(_AlgorithmConfig):
    """A built-in algorithm: ``AlgorithmConfig(name='TPE', class_args={'optimize_mode': 'maximize'})``."""


class CustomAlgorithmConfig(_AlgorithmConfig):
    """A custom algorithm class (``class_name``, ``code_directory``): tunelab refuses it when the experiment starts."""

    _fields: ClassVar[dict[str, Any]] = {**_AlgorithmConfig._fields, "code_directory": "."}


class TrainingServiceConfig(ConfigBase):
    """A training service tunelab does not run (``remote``, ``openpai``, ...): any field is kept; trials run locally."""

    _fields: ClassVar[dict[str, Any]] = {
        "platform": None,
        "trial_command": None,
        "trial_code_directory": None,
        "trial_gpu_number": None,
        "nni_manager_ip": None,
        "debug": None,
    }
    _paths = ("trial_code_directory",)
    _open = True


class LocalConfig(TrainingServiceConfig):
    """The local training service: GPUs per trial, which GPUs, and how many trials may share one."""

    _fields: ClassVar[dict[str, Any]] = {
        **TrainingServiceConfig._fields,
        "platform": "local",
        "use_active_gpu": None,
        "max_trial_number_per_gpu": 1,
        "gpu_indices": None,
        "reuse_mode": False,
    }
    _open = False


def _service(value: Any) -> Any:
    if isinstance(value, str):
        return LocalConfig() if value == "local" else TrainingServiceConfig(platform=value)
    if isinstance(value, dict):
        platform = value.get("platform", "local")
        return LocalConfig(**value) if platform == "local" else TrainingServiceConfig(**value)
    if isinstance(value, list):
        return [_service(v) for v in value]
    return value


class ExperimentConfig(ConfigBase):
    """An NNI v2 experiment config. ``ExperimentConfig('local')`` makes an empty one with
    placeholder ``tuner``, ``assessor`` and ``advisor`` so that ``config.tuner.name = 'TPE'``
    works, as in NNI."""

    _fields: ClassVar[dict[str, Any]] = {
        "experiment_name": None,
        "experiment_type": "hpo",
        "search_space_file": None,
        "search_space": None,
        "trial_command": None,
        "trial_code_directory": ".",
        "trial_concurrency": None,
        "trial_gpu_number": None,
        "max_experiment_duration": None,
        "max_trial_number": None,
        "max_trial_duration": None,
        "nni_manager_ip": None,
        "use_annotation": False,
        "debug": False,
        "log_level": None,
        "experiment_working_directory": None,
        "tuner_gpu_indices": None,
        "tuner": None,
        "assessor": None,
        "advisor": None,
        "training_service": None,
        "shared_storage": None,
    }
    _nested: ClassVar[dict[str, type[ConfigBase]]] = {
        "tuner": _AlgorithmConfig,
        "assessor": _AlgorithmConfig,
        "advisor": _AlgorithmConfig,
    }
    _paths = ("search_space_file", "trial_code_directory", "experiment_working_directory")

    def __init__(self, training_service_platform: str | list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if training_service_platform is not None:
            if getattr(self, "training_service", None) is not None:
                raise ValueError("ExperimentConfig: give the platform or training_service, not both")
            self.training_service = _service(training_service_platform)
            for kind in ("tuner", "assessor", "advisor"):
                if getattr(self, kind) is None:
                    setattr(self, kind, _AlgorithmConfig(name="_none_", class_args={}))

    def _convert(self, name: str, value: Any) -> Any:
        if name == "training_service":
            return _service(value)
        return super()._convert(name, value)
