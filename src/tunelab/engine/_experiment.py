"""The Python API: ``Experiment`` (NNI-style) and ``optimize`` (one call, Optuna-style)."""

from __future__ import annotations

import secrets
import string
import warnings as _warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunelab.config import ExperimentConfig, build_config, import_function
from tunelab.config._check import ignored_settings
from tunelab.config._familiar import familiar_keywords
from tunelab.engine._discovery import CONFIG_KEY as DISCOVERED_KEY
from tunelab.engine._discovery import Discovery, define_by_run_config, stored_discovery
from tunelab.engine._loop import Engine
from tunelab.engine._progress import Listener
from tunelab.engine._result import short_repr, summary, trials_dataframe
from tunelab.errors import ConfigError, ExperimentFailed, StorageError
from tunelab.runners import is_same_process_alive
from tunelab.space import DiscoveredSpace
from tunelab.storage import (
    ExperimentRecord,
    Phase,
    Storage,
    TrialRecord,
    best_trial,
    open_storage,
    pareto_front,
    tunelab_home,
)

if TYPE_CHECKING:
    from tunelab.server import ServeOptions

Objective = Callable[[Any], Any]  # params -> value, or a HyperParameters -> value (define-by-run)

_ID_ALPHABET = string.ascii_lowercase + string.digits
#: The config's groups of settings, into which a mapping override of :meth:`Experiment.from_file` is merged.
_MERGED_SECTIONS = frozenset({"trial", "failure", "ray"})


def new_experiment_id() -> str:
    """Eight random lower-case letters and digits, like NNI's ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


@dataclass(frozen=True, repr=False)
class Result:
    """What an experiment found: the best configuration and every trial (``print(result)``: a summary).

    With several objectives ``pareto_front`` holds the trials of the Pareto front (finished,
    feasible, by number) and ``best_trial``/``best_params`` its knee, the suggested single
    choice (:data:`tunelab.storage.KNEE_RULE`); ``best_value`` is then None and
    ``best_values`` the knee's value of each objective. With one objective the front is the
    best trial alone.
    """

    experiment_id: str
    phase: Phase
    message: str
    best_params: dict[str, Any] | None
    best_value: float | None
    best_trial: TrialRecord | None
    trials: list[TrialRecord]
    pareto_front: list[TrialRecord] = field(default_factory=list)
    best_values: dict[str, float | None] | None = None

    def __str__(self) -> str:
        """A short summary: how it ended, the best value and parameters, counts by state, the id."""
        return summary(self)

    def __repr__(self) -> str:
        return short_repr(self)

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame in the shape of Optuna's ``study.trials_dataframe()``
        (:func:`tunelab.engine._result.trials_dataframe`); needs pandas."""
        return trials_dataframe(self.trials)


def _config_for_storage(
    config: ExperimentConfig, objective: Objective | None, discovered: DiscoveredSpace | None = None
) -> dict[str, Any]:
    data = config.model_dump(mode="json", exclude={"search_space"})
    data["search_space"] = config.space().describe()
    if discovered is not None:
        data[DISCOVERED_KEY] = discovered.get_config()
    if objective is not None:
        data["objective"] = (
            f"{getattr(objective, '__module__', '?')}.{getattr(objective, '__qualname__', repr(objective))}"
        )
    return data


class Experiment:
    """An experiment: build it from keyword arguments (the YAML keys), a config file, or storage.

    >>> exp = Experiment(search_space={"x": hp.uniform(-5, 5)}, objective=lambda p: p["x"] ** 2, max_trials=20)
    >>> exp.run().best_params
    """

    def __init__(
        self,
        config: ExperimentConfig | Mapping[str, Any] | None = None,
        *,
        objective: Objective | None = None,
        format: str = "tunelab",
        warnings: tuple[str, ...] = (),
        **settings: Any,
    ) -> None:
        if config is not None and settings:
            raise ConfigError("Experiment: give either a config or keyword settings, not both")
        settings = familiar_keywords(settings, source="Experiment")
        if config is None:
            config = _with_isolation(settings)
        built_here = not isinstance(config, ExperimentConfig)
        #: The space a define-by-run objective declares (no ``search_space`` given); None for a declared space.
        self.discovered: DiscoveredSpace | None = None
        if isinstance(config, Mapping) and config.get("search_space") is None and objective is not None:
            self.discovered = DiscoveredSpace()
            rest = {k: v for k, v in config.items() if k != "search_space"}
            if rest.get("enqueue"):
                raise ConfigError(
                    "enqueue: an objective that declares its parameters as it runs has no search space to check "
                    "enqueued configurations against; give a search_space, or let the objective read its own defaults"
                )
            config = define_by_run_config(rest, self.discovered, source="Experiment")
        if isinstance(config, Mapping):
            config = build_config(dict(config), source="Experiment")
        if objective is not None and not callable(objective):
            raise ConfigError(f"Experiment: objective must be callable, got {objective!r}")
        trial = config.trial
        if objective is None and trial.command is None and trial.function is None:
            raise ConfigError("Experiment: give an objective function, or trial.command / trial.function")
        if objective is not None and (trial.command or trial.function):
            raise ConfigError("Experiment: give either an objective or trial.command / trial.function, not both")
        if trial.function is not None:
            objective = import_function(trial.function, trial.code_dir.resolve())
        code_dir = trial.code_dir.expanduser().resolve()
        if not code_dir.is_dir():
            raise ConfigError(f"trial.code_dir: {str(trial.code_dir)!r} is not a directory")
        self.config = config.model_copy(update={"trial": trial.model_copy(update={"code_dir": code_dir})})
        self.objective = objective
        self.format = format
        self.warnings = tuple(warnings)
        if built_here:  # a file's loader has already said these (tunelab run prints them)
            for note in ignored_settings(self.config):
                _warnings.warn(note, stacklevel=2)
                self.warnings += (note,)
        self.id: str | None = None
        self._storage: Storage | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Experiment:
        """Load tunelab YAML, an NNI or T9k config, or an Auptimizer experiment.json (auto-detected).

        ``overrides`` are config keys, checked as the file's are: each replaces the file's key, except a
        mapping given for one of the settings groups ``trial``, ``failure`` and ``ray``, whose keys replace
        only those keys of the file's group (``ray={"address": "auto"}`` keeps the file's other ``ray``
        settings). A tuner, assessor or scheduler, a search space, objectives and constraints are replaced
        whole: their keys belong together.
        """
        from tunelab.config import load_config

        loaded = load_config(path)
        config = loaded.config
        if overrides:
            data = config.model_dump()
            for key, value in overrides.items():
                merged = key in _MERGED_SECTIONS and isinstance(value, Mapping) and isinstance(data.get(key), dict)
                data[key] = {**data[key], **value} if merged else value
            config = build_config(data, source=str(path))
        return cls(config, format=loaded.format, warnings=loaded.warnings)

    @classmethod
    def load(cls, experiment_id: str, *, storage: str | None = None, objective: Objective | None = None) -> Experiment:
        """An experiment from storage (to resume it, or to read its results).

        ``experiment_id`` is an id, a unique prefix of one, an experiment's name (the newest
        with that name) or ``"latest"``, as on the command line.
        """
        from tunelab.storage._refs import find_experiment

        store = open_storage(storage)
        record = find_experiment(store, experiment_id, hint="`tunelab list` shows the stored experiments")
        experiment_id = record.id
        data = dict(record.config)
        data.pop("objective", None)
        data.pop("storage", None)
        discovered = stored_discovery(data)
        source = f"stored config of {experiment_id}"
        if discovered is None:
            config = build_config(data, source=source)
        else:
            config = define_by_run_config(data, discovered, source=source)
        if objective is None and config.trial.command is None and config.trial.function is None:
            objective = _unavailable_objective
        experiment = cls(config, objective=objective, format=record.format, warnings=record.warnings)
        experiment.discovered = discovered
        experiment.id = experiment_id
        experiment._storage = store
        return experiment

    # ------------------------------------------------------------------ running
    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = open_storage(self.config.storage)
        return self._storage

    def create(self, experiment_id: str | None = None) -> str:
        """Record the experiment (phase PENDING) without running it; returns its id.

        ``experiment_id`` chooses the id (NNI's ``Experiment(config, id=...)``); a random one otherwise.
        """
        if self.id is None:
            self.id = experiment_id or new_experiment_id()
            directory = self.config.experiment_dir or tunelab_home() / "experiments" / self.id
            self.storage.create_experiment(
                self.id,
                name=self.config.name or _objective_name(self.objective) or self.id,
                config=_config_for_storage(self.config, self.objective, self.discovered),
                format=self.format,
                experiment_dir=str(Path(directory).expanduser().resolve()),
                warnings=self.warnings,
            )
        return self.id

    def run(
        self,
        *,
        listener: Listener | None = None,
        raise_on_error: bool = False,
        port: int | None = None,
        dashboard: ServeOptions | None = None,
        verbose: bool = True,
    ) -> Result:
        """Run to a final phase and return the result; ``raise_on_error`` raises if it ends in ERROR.

        ``port`` (or ``dashboard`` options) serves the web dashboard while it runs, as NNI's ``run(8080)``.
        Without a ``listener`` it shows its progress (a rich panel on a terminal, a line per
        finished trial otherwise, text in Jupyter); ``verbose=False`` shows nothing.
        """
        experiment_id = self.create()
        record = self.storage.get_experiment(experiment_id)
        if record.phase != Phase.PENDING:
            raise StorageError(f"experiment {experiment_id} is {record.phase.value}; use resume() to continue it")
        with self._serving(port, dashboard), _display(experiment_id, listener, verbose) as shown:
            self._engine(shown).run()
        if self.config.save_best_model:
            self.save_best_model()
        return self._result(raise_on_error)

    def resume(
        self,
        *,
        listener: Listener | None = None,
        raise_on_error: bool = False,
        port: int | None = None,
        dashboard: ServeOptions | None = None,
        limits: Mapping[str, Any] | None = None,
        verbose: bool = True,
    ) -> Result:
        """Continue a stopped, timed-out, failed or killed experiment from what storage holds.

        ``limits`` (``max_trials``, ``max_duration``, ``concurrency``) replace the stored ones
        first, validated as the config file's are; a DONE or TIMEOUT experiment given room
        that way runs new trials up to the new limits. ``verbose`` as for :meth:`run`.
        """
        if self.id is None:
            raise StorageError("resume: this experiment was never run; call run()")
        if self.objective is _unavailable_objective:
            raise ConfigError(
                f"experiment {self.id} runs a Python function; resume it from Python with "
                f"Experiment.load({self.id!r}, objective=...).resume()"
            )
        record = self.storage.get_experiment(self.id)
        if (
            record.phase == Phase.RUNNING
            and is_same_process_alive(record.engine_pid, None)
            and record.engine_host
            in (
                None,
                _hostname(),
            )
        ):
            raise StorageError(f"experiment {self.id} is running (engine pid {record.engine_pid}); stop it first")
        if limits:
            self.set_limits(limits)
        if record.phase == Phase.DONE and not self._can_continue(record):
            raise StorageError(
                f"experiment {self.id} is DONE: its trial limit ({self.config.max_trials}) is reached; "
                f"raise it to continue (`tunelab resume {self.id} --max-trials N`)"
            )
        with self._serving(port, dashboard), _display(self.id, listener, verbose) as shown:
            self._engine(shown).run(resume=True)
        if self.config.save_best_model:
            self.save_best_model()
        return self._result(raise_on_error)

    def set_limits(self, limits: Mapping[str, Any]) -> None:
        """Replace a stored experiment's ``max_trials``, ``max_duration`` or ``concurrency`` (validated, then stored).

        :meth:`resume` with ``limits`` does this first; a caller that runs the trials itself
        (the KerasTuner drop-in's driver) does it before resuming, so a DONE experiment given
        room runs new trials up to the new limits.
        """
        if self.id is None:
            raise StorageError("set_limits: this experiment was never run; give the limits to Experiment(...)")
        unknown = sorted(set(limits) - {"max_trials", "max_duration", "concurrency"})
        if unknown:
            raise ConfigError(f"resume: {unknown[0]!r} is not a limit (max_trials, max_duration, concurrency)")
        record = self.storage.get_experiment(self.id)
        data = {k: v for k, v in record.config.items() if k not in ("objective", "storage")}
        discovered = stored_discovery(data)
        if discovered is None:
            self.config = build_config({**data, **limits}, source=f"resume {self.id}")
        else:
            self.config = define_by_run_config({**data, **limits}, discovered, source=f"resume {self.id}")
        changed = {key: getattr(self.config, key) for key in limits}
        self.storage.update_experiment(self.id, config={**record.config, **changed})

    def save_best_model(self) -> Path | None:
        """Run the best configuration once more, keeping its model in ``<experiment_dir>/best_model/model``."""
        from tunelab.engine._best_model import rerun_best

        return rerun_best(self, stop_grace=self.config.trial.stop_grace or 5.0)

    def _serving(self, port: int | None, dashboard: ServeOptions | None) -> AbstractContextManager[Any]:
        if port is None and dashboard is None:
            return nullcontext()
        from tunelab.server import serving

        assert self.id is not None
        # A connection of the server's own, to the same storage the engine writes.
        return serving(
            self.id, open_storage(getattr(self.storage, "path", None) or self.config.storage), port, dashboard
        )

    def _can_continue(self, record: ExperimentRecord) -> bool:
        trials = self.storage.get_trials(record.id)
        limit = self.config.max_trials
        unfinished = any(not t.state.is_final for t in trials)
        return unfinished or limit is None or len(trials) < limit

    def _engine(self, listener: Listener | None, *, join: bool = False) -> Engine:
        assert self.id is not None
        kwargs: dict[str, Any] = dict(
            storage=self.storage, experiment_id=self.id, config=self.config, objective=self.objective, listener=listener
        )
        if self.config.shared:
            from tunelab.engine._shared import Workers

            kwargs["workers"] = Workers(join=join)
        if self.discovered is not None:
            # What the previous run of this experiment discovered, if any: storage has the latest.
            stored = stored_discovery(self.storage.get_experiment(self.id).config)
            kwargs["discovery"] = Discovery(stored if stored is not None else self.discovered)
        return Engine(**kwargs)

    def work(self, *, listener: Listener | None = None) -> Result:
        """Join a ``shared`` experiment that another process runs, as one more worker (e.g. on another machine)."""
        if self.id is None or not self.config.shared:
            raise ConfigError(
                "work(): load a stored experiment created with shared=True (Experiment.load(id, storage=...))"
            )
        if self.record.phase.is_final:
            raise StorageError(f"experiment {self.id} is {self.record.phase.value}; nothing to work on")
        self._engine(listener, join=True).run(resume=True)
        return self._result(False)

    def stop(self) -> None:
        """Ask the engine running this experiment (here or in another process) to stop it."""
        if self.id is not None:
            self.storage.request_stop(self.id)

    # ------------------------------------------------------------------ results
    @property
    def record(self) -> ExperimentRecord:
        if self.id is None:
            raise StorageError("this experiment has not been created yet")
        return self.storage.get_experiment(self.id)

    @property
    def phase(self) -> Phase:
        return self.record.phase if self.id is not None else Phase.PENDING

    @property
    def trials(self) -> list[TrialRecord]:
        return [] if self.id is None else self.storage.get_trials(self.id, with_intermediate=True)

    @property
    def best_trial(self) -> TrialRecord | None:
        """The best trial; with several objectives the Pareto front's knee."""
        return best_trial(self.trials, self.config.mode, self.config.objectives)

    @property
    def pareto_front(self) -> list[TrialRecord]:
        """The trials of the Pareto front (several objectives), or the best trial alone (one)."""
        return self._front(self.trials)

    def _front(self, trials: list[TrialRecord]) -> list[TrialRecord]:
        if self.config.objectives:
            return pareto_front(trials, self.config.objectives)
        best = best_trial(trials, self.config.mode)
        return [] if best is None else [best]

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return None if best is None else dict(best.params)

    @property
    def best_value(self) -> float | None:
        """The best trial's value (None with several objectives: see :attr:`pareto_front`)."""
        best = self.best_trial
        return None if best is None or self.config.objectives else best.value

    def _result(self, raise_on_error: bool) -> Result:
        record = self.record
        trials = self.trials
        best = best_trial(trials, self.config.mode, self.config.objectives)
        several = bool(self.config.objectives)
        if raise_on_error and record.phase == Phase.ERROR:
            raise ExperimentFailed(f"experiment {record.id} ended in ERROR: {record.message}")
        return Result(
            experiment_id=record.id,
            phase=record.phase,
            message=record.message,
            best_params=None if best is None else dict(best.params),
            best_value=None if best is None or several else best.value,
            best_trial=best,
            trials=trials,
            pareto_front=self._front(trials),
            best_values=None if best is None or not several or best.values is None else dict(best.values),
        )


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _with_isolation(settings: dict[str, Any]) -> dict[str, Any]:
    """``isolation=...`` is short for ``trial={"isolation": ...}`` (how function trials run)."""
    if "isolation" not in settings:
        return settings
    settings = dict(settings)
    isolation = settings.pop("isolation")
    trial = settings.get("trial") or {}
    if isinstance(trial, str):
        trial = {"command": trial}
    elif not isinstance(trial, Mapping):
        trial = trial.model_dump(exclude_unset=True)
    settings["trial"] = {**trial, "isolation": isolation}
    return settings


@contextmanager
def _display(experiment_id: str, listener: Listener | None, verbose: bool) -> Iterator[Listener | None]:
    """The listener to give the engine: the caller's, else the progress display unless ``verbose`` is off."""
    if listener is not None or not verbose:
        yield listener
        return
    from tunelab.engine._display import make_progress

    display = make_progress(experiment_id)
    try:
        yield display
    finally:
        if display is not None:
            display.close()


def _objective_name(objective: Objective | None) -> str | None:
    """A readable default name for an experiment of a function: the function's name (not a lambda's)."""
    name = getattr(objective, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() and objective is not _unavailable_objective else None


def _unavailable_objective(params: dict[str, Any]) -> Any:
    raise RuntimeError("the objective of this experiment was not given")


class _DefaultTrials(int):
    """The type of :data:`DEFAULT_TRIALS`: 20, told apart from a ``max_trials=20`` the caller wrote."""


#: ``optimize``'s default trial limit (an alias such as ``n_trials=`` replaces it).
DEFAULT_TRIALS = _DefaultTrials(20)


def optimize(
    objective: Objective,
    search_space: Any = None,
    *,
    tuner: str | Mapping[str, Any] = "auto",
    max_trials: int | None = DEFAULT_TRIALS,
    mode: str | None = None,
    concurrency: int = 1,
    seed: int | None = None,
    verbose: bool = True,
    **settings: Any,
) -> Result:
    """Tune ``objective(params) -> value`` over ``search_space`` and return the result.

    Without ``search_space`` the objective declares its parameters while it runs: it gets one
    :class:`~tunelab.space.HyperParameters` argument (``hp.Float(...)``, ``trial.suggest_float(...)``).

    Each call runs in one of a few reused worker processes (crash-isolated; ``isolation="process"``
    forks one per call, ``isolation="inline"`` runs it in this process) and is stored like any
    experiment; the other keyword arguments are those of :class:`Experiment`. ``mode`` is
    ``"min"`` unless given; ``objectives={"accuracy": "max", "latency_ms": "min"}`` declares
    several instead (the objective then returns a dict of them).
    """
    # What the caller wrote meets the aliases it may also have given (direction=, n_trials=, ...).
    if mode is not None:
        settings["mode"] = mode
    if max_trials is not DEFAULT_TRIALS:
        settings["max_trials"] = max_trials
    if concurrency != 1:
        settings["concurrency"] = concurrency
    settings = familiar_keywords(settings, source="optimize")
    settings.setdefault("max_trials", max_trials)
    settings.setdefault("concurrency", concurrency)
    if search_space is not None:
        settings["search_space"] = search_space
    experiment = Experiment(
        objective=objective,
        tuner=tuner,
        seed=seed,
        **settings,
    )
    return experiment.run(verbose=verbose)
