"""TFX's Tuner component without TFX: run a module's ``tuner_fn`` and write ``best_hyperparameters.txt``.

TFX's Tuner imports the user's module file, calls ``tuner_fn(fn_args)`` with the component's
inputs as :class:`FnArgs`, runs ``result.tuner.search(**result.fit_kwargs)`` and writes
``json.dumps(tuner.get_best_hyperparameters()[0].get_config())`` to ``best_hyperparameters.txt``
in its ``best_hyperparameters`` output folder, which a Trainer's ``run_fn`` reads back as
``keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)``. :func:`run_tuner_fn` does
the same for a tunelab tuner or a real KerasTuner tuner. While the module is imported and run,
the ``tfx`` compatibility modules (``from tfx import v1 as tfx``: ``tfx.components.FnArgs`` and
``tfx.components.TunerFnResult``) are importable when TFX itself is not installed.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from tunelab._atomic import write_json
from tunelab.errors import ConfigError, ExperimentFailed

__all__ = ["BEST_HYPERPARAMETERS_FILE", "FnArgs", "TunerFnResult", "run_tuner_fn"]

logger = logging.getLogger("tunelab")

#: The file TFX's Tuner writes into its ``best_hyperparameters`` output (``_DEFAULT_BEST_HP_FILE_NAME``).
BEST_HYPERPARAMETERS_FILE = "best_hyperparameters.txt"


@dataclass
class FnArgs:
    """The arguments TFX hands ``tuner_fn`` and ``run_fn`` (``tfx.components.FnArgs``), with TFX's field names."""

    working_dir: str | None = None
    train_files: list[str] = field(default_factory=list)
    eval_files: list[str] = field(default_factory=list)
    train_steps: int | None = None
    eval_steps: int | None = None
    schema_path: str | None = None
    schema_file: str | None = None
    transform_graph_path: str | None = None
    transform_output: str | None = None
    data_accessor: Any = None
    serving_model_dir: str | None = None
    eval_model_dir: str | None = None
    model_run_dir: str | None = None
    base_model: str | None = None
    #: The Tuner's best hyperparameters (``HyperParameters.get_config()``), for a Trainer's ``run_fn``.
    hyperparameters: dict[str, Any] | None = None
    custom_config: dict[str, Any] | None = None


class TunerFnResult(NamedTuple):
    """What ``tuner_fn`` returns (``tfx.components.TunerFnResult``): the tuner and the keywords of its ``search``."""

    tuner: Any
    fit_kwargs: dict[str, Any]


def _import_module(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"module_file: {str(path)!r} is not a file")
    name = f"tunelab_tfx_module_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"module_file: cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)  # what the module imports from beside it, as TFX's module_file does
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def _tfx_importable() -> Iterator[None]:
    """While the module runs: the ``tfx`` compatibility modules importable where TFX is not installed.

    The shims folder is appended to ``sys.path`` (so a real package always wins) and taken away after.
    """
    from tunelab.trial._compat_path import SHIMS_DIR

    entry = str(SHIMS_DIR)
    added = importlib.util.find_spec("tfx") is None and entry not in sys.path
    if added:
        sys.path.append(entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _result(value: Any, module_file: Path) -> tuple[Any, dict[str, Any]]:
    tuner = getattr(value, "tuner", None)
    fit_kwargs = getattr(value, "fit_kwargs", None)
    if tuner is None and isinstance(value, tuple) and len(value) == 2:
        tuner, fit_kwargs = value
    if tuner is None or not hasattr(tuner, "search"):
        raise ConfigError(f"{module_file.name}: tuner_fn must return TunerFnResult(tuner=..., fit_kwargs=...)")
    if fit_kwargs is None:
        fit_kwargs = {}
    if not isinstance(fit_kwargs, Mapping):
        raise ConfigError(
            f"{module_file.name}: TunerFnResult.fit_kwargs must be a dict, got {type(fit_kwargs).__name__}"
        )
    return tuner, dict(fit_kwargs)


def run_tuner_fn(
    module_file: str | Path,
    working_dir: str | Path,
    *,
    train_files: Sequence[str] = (),
    eval_files: Sequence[str] = (),
    train_steps: int | None = None,
    eval_steps: int | None = None,
    schema_path: str | None = None,
    transform_graph_path: str | None = None,
    serving_model_dir: str | None = None,
    custom_config: Mapping[str, Any] | None = None,
    num_parallel_trials: int = 1,
    output_dir: str | Path | None = None,
) -> Path:
    """Run ``tuner_fn`` of ``module_file`` as TFX's Tuner does; returns the path of ``best_hyperparameters.txt``.

    The file goes to ``output_dir`` (default ``working_dir/best_hyperparameters``, the layout of the
    Tuner component's output). ``num_parallel_trials`` (TFX's ``TuneArgs``) runs that many trials
    at once with a tunelab tuner. Raises :class:`~tunelab.errors.ExperimentFailed` when no trial succeeded.
    """
    if isinstance(num_parallel_trials, bool) or not isinstance(num_parallel_trials, int) or num_parallel_trials < 1:
        raise ConfigError(f"num_parallel_trials: must be an integer >= 1, got {num_parallel_trials!r}")
    module_path = Path(module_file).expanduser()
    work = Path(working_dir).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    with _tfx_importable():
        module = _import_module(module_path)
        tuner_fn = getattr(module, "tuner_fn", None)
        if not callable(tuner_fn):
            raise ConfigError(f"{module_path.name}: the module has no function tuner_fn(fn_args)")
        fn_args = FnArgs(
            working_dir=str(work),
            train_files=list(train_files),
            eval_files=list(eval_files),
            train_steps=train_steps,
            eval_steps=eval_steps,
            schema_path=schema_path,
            schema_file=schema_path,
            transform_graph_path=transform_graph_path,
            transform_output=transform_graph_path,
            serving_model_dir=serving_model_dir,
            custom_config=dict(custom_config or {}),
        )
        tuner, fit_kwargs = _result(tuner_fn(fn_args), module_path)
        if num_parallel_trials > 1:
            if hasattr(tuner, "concurrency"):
                tuner.concurrency = num_parallel_trials
            else:
                logger.warning(
                    "num_parallel_trials=%d: a real KerasTuner tuner runs its trials one at a time here",
                    num_parallel_trials,
                )
        tuner.search_space_summary()
        tuner.search(**fit_kwargs)
        best = tuner.get_best_hyperparameters(1)
        if not best:
            raise ExperimentFailed(f"{module_path.name}: no trial succeeded, so there are no best hyperparameters")
    out = Path(output_dir).expanduser() if output_dir is not None else work / "best_hyperparameters"
    out.mkdir(parents=True, exist_ok=True)
    path = out / BEST_HYPERPARAMETERS_FILE
    write_json(path, best[0].get_config())
    return path
