"""The one place that decides whether a config can run: every check ``tunelab run`` makes at start-up.

``tunelab validate FILE`` and ``tunelab run FILE`` both go through :func:`~tunelab.config.load_config`,
which ends here, so they accept and reject the same configs. Two layers:

* :func:`check_algorithms` (pure: no files, no processes; :func:`~tunelab.config.build_config` runs
  it, so Python-API and stored configs get it too): the tuner is checked against its constructor's
  signature plus the value rules its constructor applies, without building it; the assessor and the
  scheduler are built once with the experiment's mode and seed, as the engine builds them (their
  value rules live only in their constructors, which are pure bookkeeping); the ``enqueue`` list
  against the space; the storage URL's scheme.
* :func:`check_startup` (this machine): the trial's folder, its program and script (a misspelled
  ``pyhton3`` or ``trian.py`` fails here, before any trial runs), the trial function's import, the
  GPUs ``gpus_per_trial`` needs, and Ray for ``runner: ray``.

What only a running system can tell (a Ray cluster's address, a PostgreSQL server) is left to ``run``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelab.errors import ConfigError, NotImplementedTunerError, SearchSpaceError, TunerError, did_you_mean, escape

if TYPE_CHECKING:
    from tunelab.config._schema import ExperimentConfig

#: Optional packages a tuner's constructor imports; missing ones make ``run`` fail, so validation fails too.
_TUNER_PACKAGES = {"cmaes": "cmaes", "optuna": "optuna", "hyperopt": "hyperopt"}
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?")
_STORAGE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


# ---------------------------------------------------------------------- tuner value rules
def _int(minimum: int) -> Callable[[str, str, Any], None]:
    def rule(tuner: str, name: str, value: Any) -> None:
        from tunelab.tuners._checks import check_int

        check_int(tuner, name, value, minimum)

    return rule


def _optional_int(minimum: int) -> Callable[[str, str, Any], None]:
    def rule(tuner: str, name: str, value: Any) -> None:
        if value is not None:
            _int(minimum)(tuner, name, value)

    return rule


def _optional(rule: Callable[[str, str, Any], None]) -> Callable[[str, str, Any], None]:
    """``rule``, or None (the tuner's default)."""

    def optional(tuner: str, name: str, value: Any) -> None:
        if value is not None:
            rule(tuner, name, value)

    return optional


def _float(low: float, high: float = float("inf"), *, open_low: bool = False) -> Callable[[str, str, Any], None]:
    def rule(tuner: str, name: str, value: Any) -> None:
        from tunelab.tuners._checks import check_float

        check_float(tuner, name, value, low, high, open_low=open_low)

    return rule


def _one_of(options: tuple[str, ...]) -> Callable[[str, str, Any], None]:
    def rule(tuner: str, name: str, value: Any) -> None:
        from tunelab.tuners._checks import check_choice

        check_choice(tuner, name, value, options)

    return rule


def _optional_bool(tuner: str, name: str, value: Any) -> None:
    from tunelab.tuners._checks import check_optional_bool

    check_optional_bool(tuner, name, value)


def _exactly(options: tuple[str, ...]) -> Callable[[str, str, Any], None]:
    """One of ``options``, spelled as they are (scikit-optimize's names are case-sensitive)."""

    def rule(tuner: str, name: str, value: Any) -> None:
        if value not in options:
            raise TunerError(f"tuner {tuner!r}: {name} must be one of {', '.join(options)}, but got {value!r}")

    return rule


def _liar(tuner: str, name: str, value: Any) -> None:
    from tunelab.tuners._checks import check_choice
    from tunelab.tuners._tpe._tuner import LIAR_TYPES

    check_choice(tuner, name, "none" if value is None else value, LIAR_TYPES)


#: The checks each tuner's constructor makes on one argument, with the constructor's own messages.
_VALUE_RULES: dict[str, dict[str, Callable[[str, str, Any], None]]] = {
    "tpe": {
        "constant_liar_type": _liar,
        "n_startup_jobs": _int(0),
        "n_ei_candidates": _int(1),
        "linear_forgetting": _int(0),
        "prior_weight": _float(0.0, open_low=True),
        "gamma": _float(0.0, open_low=True),
    },
    "gp": {
        "n_initial_points": _int(1),
        "n_candidates": _int(1),
        "n_restarts": _int(0),
        "max_points": _int(10),
        "max_fit_points": _int(10),
    },
    "evolution": {"population_size": _int(2), "sample_size": _int(1)},
    "anneal": {"avg_best_idx": _float(1.0), "shrink_coef": _float(0.0)},
    "cmaes": {"sigma0": _float(0.0, 1.0, open_low=True), "population_size": _optional_int(2)},
    "hyperopt": {"n_startup_jobs": _int(0)},
    "auto": {"max_trials": _optional_int(1), "concurrency": _int(1)},
    "motpe": {
        "n_startup_jobs": _int(0),
        "n_ei_candidates": _int(1),
        "gamma": _float(0.0, 1.0, open_low=True),
        "max_good": _int(1),
        "prior_weight": _float(0.0, open_low=True),
        "constant_liar": _one_of(("worst", "none")),
        "multivariate": _optional_bool,
    },
    **{
        name: {
            "population_size": _int(2),
            "crossover_prob": _float(0.0, 1.0),
            "swapping_prob": _float(0.0, 1.0),
            "mutation_prob": _optional(_float(0.0, 1.0)),
            "selection": _optional(_one_of(("auto", "crowding", "reference"))),
        }
        for name in ("nsga2", "nsga3")
    },
    "smac": {
        "n_initial_points": _optional_int(0),
        "max_trials": _optional_int(1),
        "n_trees": _int(1),
        "min_samples_split": _int(2),
        "min_samples_leaf": _int(1),
        "ratio_features": _float(0.0, 1.0, open_low=True),
        "random_fraction": _float(0.0, 1.0),
        "n_candidates": _int(1),
        "n_local_starts": _int(0),
        "max_local_steps": _int(0),
        "constant_liar_type": _one_of(("best", "worst", "mean", "none")),
        "splitter": _one_of(("random", "best")),
        "retrain_after": _int(1),
    },
    "scikitoptimize": {
        "n_initial_points": _int(1),
        "base_estimator": _exactly(("GP", "RF", "ET", "GBRT")),
        "acq_func": _exactly(("gp_hedge", "EI", "PI", "LCB")),
    },
}
_VALUE_RULES["mogp"] = {**_VALUE_RULES["gp"], "rho": _float(0.0)}


def tuner_problem(
    name: str,
    args: Mapping[str, Any],
    *,
    space: Any,
    mode: str | None,
    seed: int | None,
    max_trials: int | None = None,
    concurrency: int = 1,
    packages: bool = True,
    objectives: Mapping[str, str] | None = None,
) -> None:
    """Raise the :class:`TunerError` building this tuner would raise, without building it.

    The arguments are completed as the engine completes them (``max_trials`` and ``concurrency``
    for tuners that plan by budget), then checked against the constructor's signature and the
    value rules the constructor applies. ``packages``: also require the optional package the
    tuner's constructor imports (:func:`check_startup` does; reading a stored config does not).
    """
    from tunelab.tuners._registry import check_tuner_arguments, resolve_tuner_name, tuner_arguments

    canonical = resolve_tuner_name(name)
    if packages:
        _check_tuner_package(name)
    elif canonical in _TUNER_PACKAGES and importlib.util.find_spec(_TUNER_PACKAGES[canonical]) is None:
        return  # its value rules need the package; check_startup reports it missing
    args = dict(args)
    accepted = tuner_arguments(canonical)
    if "max_trials" in accepted:
        args.setdefault("max_trials", max_trials)
    if "concurrency" in accepted:
        args.setdefault("concurrency", concurrency)
    cls, kwargs = check_tuner_arguments(name, space, mode=mode, seed=seed, objectives=objectives, **args)
    label = canonical
    for key, rule in _VALUE_RULES.get(canonical, {}).items():
        if key in kwargs:
            rule(label, key, kwargs[key])
    _whole_tuner_rules(name, canonical, kwargs, space)


def _check_tuner_package(name: str) -> None:
    from tunelab.tuners._registry import resolve_tuner_name

    package = _TUNER_PACKAGES.get(resolve_tuner_name(name))
    if package is not None and importlib.util.find_spec(package) is None:
        raise NotImplementedTunerError(f"tuner {name!r} needs the package {package!r}: pip install {package}")


def _whole_tuner_rules(name: str, canonical: str, kwargs: dict[str, Any], space: Any) -> None:
    """Rules of a tuner's constructor that relate arguments to each other or to the space."""
    if canonical == "evolution":
        population, sample = kwargs.get("population_size", 20), kwargs.get("sample_size", 5)
        if sample > population:
            raise TunerError(
                "evolution: sample_size <= population_size must hold, but got "
                f"sample_size={sample}, population_size={population}"
            )
    elif canonical == "cmaes":
        from tunelab.tuners._unit import NUMERIC, UnitSpace

        if not (UnitSpace(space).kinds == NUMERIC).any():
            raise TunerError("cmaes: the search space has no numeric parameter; use tpe for choice-only spaces")
    elif canonical == "grid":
        n_points = kwargs.get("n_points", 5)
        default, per_name = (n_points, {}) if not isinstance(n_points, Mapping) else (5, dict(n_points))
        if isinstance(default, bool) or not isinstance(default, int) or default < 2:
            raise TunerError(f"grid: n_points must be an integer >= 2, got {n_points!r}")
        unknown = set(per_name) - set(space)
        if unknown:
            raise TunerError(f"grid: n_points names unknown parameter '{sorted(unknown)[0]}'")
        from tunelab.tuners._grid import check_grid_size

        check_grid_size(space, default, per_name)  # a grid too large to enumerate is refused with its size
    elif canonical == "batch":
        try:
            from tunelab.tuners._batch import batch_configs

            batch_configs(kwargs.get("configs"), space)
        except SearchSpaceError as exc:
            raise TunerError(f"tuner {name!r}: {exc}") from None
    elif canonical == "optuna":
        _optuna_rules(name, kwargs.get("sampler", "TPESampler"), kwargs.get("sampler_args"))


def _optuna_rules(name: str, sampler: Any, sampler_args: Any) -> None:
    import inspect

    import optuna

    cls = getattr(optuna.samplers, sampler, None) if isinstance(sampler, str) else None
    if cls is None or not isinstance(cls, type):
        raise TunerError(f"optuna: unknown sampler {sampler!r} (e.g. TPESampler, CmaEsSampler, GPSampler)")
    try:
        inspect.signature(cls).bind(**dict(sampler_args or {}))
    except TypeError as exc:
        raise TunerError(f"tuner {name!r}: {sampler}.__init__() {exc}") from None


# ---------------------------------------------------------------------- the pure layer
def check_algorithms(config: ExperimentConfig, source: str = "config") -> None:
    """Tuner, assessor, scheduler, enqueued configurations and storage URL, as ``run`` will use them."""
    space = config.space()
    tuner_args = dict(config.tuner.args)
    for reserved in ("mode", "space", "search_space", "name"):
        if reserved in tuner_args:
            raise TunerError(f"{source}: tuner.args: {reserved!r} is not a tuner argument; set it at the top level")
    # The experiment's seed wins over a seed among the tuner's arguments, as in the engine.
    seed = config.seed if config.seed is not None else tuner_args.get("seed")
    tuner_args.pop("seed", None)
    try:
        tuner_problem(
            config.tuner.name,
            tuner_args,
            space=space,
            mode=None if config.objectives else config.mode,
            seed=seed,
            max_trials=config.max_trials,
            concurrency=config.concurrency,
            packages=False,
            objectives=config.objectives,
        )
    except TunerError as exc:
        text = str(exc).removeprefix("tuner: ")
        where = "tuner.name" if isinstance(exc, NotImplementedTunerError) or "unknown tuner" in text else "tuner.args"
        raise type(exc)(f"{source}: {where}: {escape(text, limit=400)}") from None
    except SearchSpaceError as exc:
        raise TunerError(f"{source}: tuner.args: {_one_line(exc)}") from None
    except (TypeError, ValueError) as exc:
        raise TunerError(f"{source}: tuner.args: tuner {config.tuner.name!r}: {_one_line(exc)}") from None
    from tunelab.schedulers import create_scheduler

    for section in ("scheduler", "assessor"):
        algorithm = getattr(config, section)
        if algorithm is None:
            continue
        args = dict(algorithm.args)
        for reserved in ("what", "space"):
            if reserved in args:
                raise ConfigError(f"{source}: {section}.args.{reserved}: not an argument of any {section}")
        # A mode among the arguments agrees with the experiment's (ExperimentConfig made sure of it).
        mode = args.pop("mode", None) or args.pop("optimize_mode", None) or config.mode
        args.pop("optimize_mode", None)
        try:
            create_scheduler(
                algorithm.name,
                mode=mode,
                seed=config.seed,
                space=space,
                what=section,
                objectives=config.objectives,
                **args,
            )
        except ConfigError as exc:
            raise ConfigError(f"{source}: {section}: {_one_line(exc)}") from None
    if config.enqueue:
        from tunelab.tuners._registry import TUNERS, _load, resolve_tuner_name

        if _load(TUNERS[resolve_tuner_name(config.tuner.name)]).validates_params:
            for position, params in enumerate(config.enqueue):
                try:
                    space.validate(params)
                except SearchSpaceError as exc:
                    raise SearchSpaceError(f"{source}: enqueue[{position}]: {_one_line(exc)}") from None
    storage = config.storage
    if storage is not None and "://" in storage and not storage.startswith(_STORAGE_SCHEMES):
        scheme = storage.split("://", 1)[0]
        raise ConfigError(
            f"{source}: storage: unsupported URL scheme {escape(scheme)!r} "
            "(use a file path, sqlite:///path or postgresql://...)"
        )


# ---------------------------------------------------------------------- this machine
def ignored_settings(config: ExperimentConfig) -> list[str]:
    """Explicit settings this config's combination leaves without effect, one warning each ("FIELD: why").

    An explicit setting beats an implicit default, so one that cannot take effect is said, never
    dropped silently. ``load_config`` adds these to a file's warnings; ``Experiment(...)`` built from
    keywords issues them as Python warnings.
    """
    notes = []
    isolation = config.trial.isolation
    if config.runner == "ray" and isolation in ("worker", "inline"):
        notes.append(
            f"trial.isolation: {isolation!r} is for the local runner and is ignored with runner: ray, "
            "where every trial is a Ray task in one of Ray's reused worker processes"
        )
    return notes


def check_startup(
    config: ExperimentConfig,
    source: str = "config",
    *,
    fields: Mapping[str, str] | None = None,
    objective: bool = False,
) -> None:
    """What ``run`` finds out on this machine before the first trial: folder, program, script, import, GPUs, Ray.

    ``fields`` maps tunelab's field names (``trial.command``, ``trial.code_dir``) to the user's own
    (NNI's ``trialCommand``) for the messages; ``objective``: a Python objective is given, so the
    config needs no command or function.
    """
    names = {"trial.command": "trial.command", "trial.code_dir": "trial.code_dir", **(fields or {})}
    trial = config.trial
    if not objective and trial.command is None and trial.function is None:
        raise ConfigError(
            f"{source}: trial: give trial.command (or trial.function, 'module:function'); "
            "a config file cannot hold a Python objective"
        )
    try:
        _check_tuner_package(config.tuner.name)
    except TunerError as exc:
        raise type(exc)(f"{source}: tuner.name: {_one_line(exc)}") from None
    code_dir = Path(trial.code_dir).expanduser()
    if not code_dir.is_dir():
        folder = escape(str(code_dir), limit=1000)
        raise ConfigError(f"{source}: {names['trial.code_dir']}: {folder!r} is not a directory")
    # On Ray the command runs on the cluster's machines, whose programs this one cannot see.
    if trial.command is not None and config.runner != "ray":
        check_command(trial.command, code_dir, env=trial.env, where=f"{source}: {names['trial.command']}")
    if trial.function is not None:
        import_function(trial.function, code_dir.resolve(), f"{source}: trial.function")
    if config.runner == "ray":
        if importlib.util.find_spec("ray") is None:
            raise ConfigError(f"{source}: runner: ray needs Ray; pip install 'tunelab[ray]'")
    elif config.gpus_per_trial:
        from tunelab.runners._gpus import GpuAllocator, discover_gpus

        gpus = config.gpu_indices if config.gpu_indices is not None else discover_gpus()
        try:
            GpuAllocator(gpus, config.gpus_per_trial, config.max_trials_per_gpu)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {_one_line(exc)}") from None


def check_command(command: str, code_dir: Path, *, env: Mapping[str, str] | None = None, where: str) -> None:
    """A misspelled program (``pyhton3``) or script (``python3 trian.py``) is a one-line error.

    Only what is not found at all is flagged: a program neither on ``PATH`` (the trial's own, if
    its ``env`` sets one) nor a file relative to ``code_dir``; a ``.py`` script (``argv[1]`` of a
    ``python``/``python3`` command) that is not a file relative to ``code_dir``. A command that
    needs a shell (pipes, variables, redirections) is run by ``/bin/sh`` and not second-guessed.
    """
    from tunelab.runners._local import command_argv

    argv = command_argv(command)
    if argv[:2] == ["/bin/sh", "-c"] and not command.strip().startswith("/bin/sh"):
        return
    if not argv:
        return
    program = argv[0]
    search_path = (env or {}).get("PATH", os.environ.get("PATH", os.defpath))
    found = (code_dir / Path(program).expanduser()).exists() or (
        "/" not in program and shutil.which(program, path=search_path) is not None
    )
    if not found:
        known = _programs(search_path) + [p.name for p in code_dir.iterdir() if p.is_file()]
        raise ConfigError(
            f"{where}: program {escape(program)!r} not found on PATH or in {escape(str(code_dir), limit=1000)!r}"
            f"{did_you_mean(program, known)}"
        )
    if len(argv) > 1 and _PYTHON.fullmatch(Path(program).name) and argv[1].endswith(".py"):
        script = Path(argv[1]).expanduser()
        located = script if script.is_absolute() else code_dir / script
        if not located.is_file():
            folder = located.parent
            scripts = (
                sorted(
                    str(p.relative_to(code_dir)) if not script.is_absolute() else str(p) for p in folder.glob("*.py")
                )
                if folder.is_dir()
                else []
            )
            raise ConfigError(
                f"{where}: script {escape(argv[1])!r} not found in {escape(str(code_dir), limit=1000)!r}"
                f"{did_you_mean(argv[1], scripts)}"
            )


def _programs(search_path: str) -> list[str]:
    """Names of the executables on a PATH (for a did-you-mean suggestion)."""
    names: set[str] = set()
    for folder in search_path.split(os.pathsep):
        try:
            with os.scandir(folder or ".") as entries:
                for entry in entries:
                    if entry.is_file() and os.access(entry.path, os.X_OK):
                        names.add(entry.name)
        except OSError:
            continue
    return sorted(names)


def import_function(spec: str, code_dir: Path, where: str = "trial.function") -> Callable[..., Any]:
    """Import ``module:function`` from ``code_dir`` (the module's code runs); ``sys.path`` is left as it was."""
    module_name, _, attr = spec.partition(":")
    saved = list(sys.path)
    sys.path.insert(0, str(code_dir))  # for this import only; trial processes put code_dir on their own path
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        folder = escape(str(code_dir), limit=1000)
        raise ConfigError(f"{where}: cannot import {spec!r} from {folder}: {_one_line(exc)}") from None
    finally:
        sys.path[:] = saved
    if not callable(target):
        raise ConfigError(f"{where}: {spec!r} is not callable")
    return target


def _one_line(exc: BaseException) -> str:
    return escape(str(exc), limit=400)
