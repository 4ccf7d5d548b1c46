"""``Oracle``: what a search tries and how it is kept, by tunelab, for tunelab's tuners and the real KerasTuner.

An :class:`Oracle` holds a search's settings (objective, ``max_trials``, seed, the tunelab tuner,
a scheduler, the failure policy) and its tunelab experiment, stored in tunelab's storage like any
other (``tunelab list``, the dashboard) in the project folder ``directory/project_name``.

The same object can be handed to a real ``keras_tuner.Tuner(oracle=..., hypermodel=...)``: it then
subclasses the real ``keras_tuner.Oracle`` and answers its calls (``create_trial``, ``update_trial``,
``end_trial``, ``get_best_trials``) from a tunelab engine running beside the tuner
(:class:`tunelab.engine.Session`), so KerasTuner users keep their tuner and get tunelab's
tuners, storage and dashboard.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tunelab._atomic import write_json
from tunelab.engine import Experiment, Session, discovered_space, seed_space
from tunelab.errors import ConfigError, TrialFailed
from tunelab.keras_tuner._objective import create_objective
from tunelab.keras_tuner._trial import Trial, ranked
from tunelab.runners import DriverTrial
from tunelab.space import DiscoveredSpace, HyperParameters
from tunelab.storage import Phase, TrialRecord, TrialState

__all__ = ["MARKER_FILE", "KerasTunerCalls", "Oracle", "check_count"]

logger = logging.getLogger("tunelab")

#: In a project folder: which tunelab experiment holds the search (its id and storage).
MARKER_FILE = "tunelab_experiment.json"


def _placeholder(hp: Any) -> Any:
    """The experiment's objective: its trials run in the driver (the tuner's ``search``), never through this."""
    raise RuntimeError("a KerasTuner search runs its trials in the process that called search()")


def _real_keras_tuner() -> Any:
    """The real ``keras_tuner`` package when this process has imported it (never imported here: it costs seconds)."""
    module = sys.modules.get("keras_tuner")
    return module if module is not None and isinstance(getattr(module, "Oracle", None), type) else None


_BRIDGED: dict[tuple[type, type], type] = {}


class Oracle:
    """A search's settings and its tunelab experiment (see the module docstring).

    Made after ``import keras_tuner``, an oracle is also an instance of the real
    ``keras_tuner.Oracle``, so that a real ``keras_tuner.Tuner`` accepts it.

    Arguments are KerasTuner's ``Oracle`` arguments, plus ``tuner`` (any tunelab tuner name, or
    ``{"name": ..., "args": {...}}``; default ``"auto"``), ``scheduler`` (a tunelab scheduler, as in
    a config file) and ``storage`` (a tunelab storage URL; default tunelab's own database).
    """

    #: The tunelab tuner a subclass searches with (``RandomSearchOracle``: ``"random"``).
    default_tuner: str = "auto"

    def __new__(cls, *args: Any, **kwargs: Any) -> Oracle:
        kt = _real_keras_tuner()
        if kt is not None and not issubclass(cls, kt.Oracle):
            key = (cls, kt.Oracle)
            if key not in _BRIDGED:
                _BRIDGED[key] = type(cls.__name__, (cls, KerasTunerCalls, kt.Oracle), {"__module__": cls.__module__})
            cls = _BRIDGED[key]
        return object.__new__(cls)

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: Any = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        *,
        tuner: str | Mapping[str, Any] | None = None,
        scheduler: Mapping[str, Any] | None = None,
        storage: str | None = None,
    ) -> None:
        if not hyperparameters and not (tune_new_entries and allow_new_entries):
            raise ConfigError(
                "hyperparameters: give the search space when tune_new_entries or allow_new_entries is False"
            )
        check_count("max_trials", max_trials, 1, allow_none=True)
        check_count("max_retries_per_trial", max_retries_per_trial, 0)
        check_count("max_consecutive_failed_trials", max_consecutive_failed_trials, 1)
        if seed is not None:
            check_count("seed", seed, 0)
        space = HyperParameters() if not hyperparameters else HyperParameters.from_config(hyperparameters.get_config())
        kt = _real_keras_tuner()
        self._kt = kt if kt is not None and isinstance(self, kt.Oracle) else None
        if self._kt is not None:
            self._kt.Oracle.__init__(
                self,
                objective=_real_objective(self._kt, objective),
                max_trials=max_trials,
                hyperparameters=self._kt.HyperParameters.from_config(space.get_config()) if hyperparameters else None,
                allow_new_entries=allow_new_entries,
                tune_new_entries=tune_new_entries,
                seed=seed,
                max_retries_per_trial=max_retries_per_trial,
                max_consecutive_failed_trials=max_consecutive_failed_trials,
            )
        else:
            self.objective = create_objective(objective)
            self.hyperparameters = space
            self.max_trials = max_trials
            self.allow_new_entries = allow_new_entries
            self.tune_new_entries = tune_new_entries
            self.max_retries_per_trial = max_retries_per_trial
            self.max_consecutive_failed_trials = max_consecutive_failed_trials
        create_objective(objective)  # the same checks and messages either way
        self.seed = seed
        self.tuner = tuner or self.default_tuner
        self.scheduler = dict(scheduler) if scheduler else None
        self.storage = storage
        self.experiment: Experiment | None = None
        #: True once a reloaded search was given a larger ``max_trials`` than it had: it has trials to run.
        self.raised_limit = False
        self._session: Session | None = None
        self._current: DriverTrial | None = None
        self._consecutive_failures = 0

    # ------------------------------------------------------------------ the experiment
    @property
    def mode(self) -> str:
        return str(self.objective.direction)

    def open_experiment(
        self,
        space_config: Mapping[str, Any],
        project_dir: Path,
        *,
        name: str,
        overwrite: bool,
        objective: Callable[[HyperParameters], Any] = _placeholder,
        concurrency: int = 1,
    ) -> bool:
        """Make (or, without ``overwrite``, find again) the experiment of ``project_dir``; True when it resumes.

        The experiment is define-by-run: it starts from the declarations of ``space_config``
        (what ``build`` declared on an empty ``HyperParameters``), and grows with what trials
        declare later (in ``fit``, under Python conditions), as KerasTuner's ``tune_new_entries``.
        ``objective(hp)`` runs a trial in a worker process (``concurrency`` above 1).
        """
        marker = project_dir / MARKER_FILE
        if overwrite and project_dir.exists():
            shutil.rmtree(project_dir)
        if marker.is_file():
            data = json.loads(marker.read_text())
            stored = data.get("storage")
            self.experiment = Experiment.load(data["experiment_id"], storage=stored, objective=objective)
            logger.info("reloading the search of %s (experiment %s)", project_dir, self.experiment.id)
            self._continue_to_max_trials()
            return True
        self.experiment = Experiment(
            objective=objective,
            name=name,
            tuner={"name": self.tuner} if isinstance(self.tuner, str) else dict(self.tuner),
            scheduler=self.scheduler,
            mode=self.mode,
            max_trials=self.max_trials,
            seed=self.seed,
            concurrency=concurrency,
            failure={"retries": self.max_retries_per_trial, "ignore": True},
            experiment_dir=str(project_dir),
            storage=self.storage,
        )
        # KerasTuner's discovery (build on an empty HyperParameters) gives the space trials start from.
        seed_space(self.experiment, DiscoveredSpace.from_config(space_config.get("space", [])))
        experiment_id = self.experiment.create()
        project_dir.mkdir(parents=True, exist_ok=True)
        write_json(marker, {"experiment_id": experiment_id, "storage": self.storage})
        return False

    def _continue_to_max_trials(self) -> None:
        """KerasTuner takes ``max_trials`` from the constructor on reload, not from the project: a search
        reloaded with another ``max_trials`` runs to that one (a finished search given a larger one continues)."""
        experiment = self.experiment
        assert experiment is not None
        stored = experiment.config.max_trials
        if self.max_trials is None or self.max_trials == stored:
            return
        experiment.set_limits({"max_trials": self.max_trials})
        self.raised_limit = stored is not None and self.max_trials > stored
        logger.info("max_trials of the search is now %d (was %s)", self.max_trials, stored)

    @property
    def space(self) -> DiscoveredSpace:
        """The space searched now (it grows as trials declare parameters)."""
        experiment = self.experiment
        return (None if experiment is None else discovered_space(experiment)) or DiscoveredSpace()

    def records(self) -> list[TrialRecord]:
        return [] if self.experiment is None or self.experiment.id is None else self.experiment.trials

    def hyperparameters_of(self, params: Mapping[str, Any], *, real: bool = False) -> Any:
        """A ``HyperParameters`` (tunelab's, or the real KerasTuner's) with the space and a trial's values."""
        hps = self.space.hyperparameters(params)
        if real and self._kt is not None:
            return self._kt.HyperParameters.from_config(hps.get_config())
        return hps

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The best trials, best first (tunelab's rule of "best"), as KerasTuner ``Trial`` objects."""
        best = ranked(self.records(), self.mode)[:num_trials]
        if isinstance(self, KerasTunerCalls) and self.driven:  # a real keras_tuner.Tuner asks
            return [self._real_trial(record) for record in best]
        return [Trial.from_record(record, self.hyperparameters_of(record.params)) for record in best]

    def remaining_trials(self) -> int | None:
        return None if self.max_trials is None else max(0, self.max_trials - len(self.records()))


class KerasTunerCalls:
    """What a real ``keras_tuner.Tuner`` calls on its oracle, answered by a tunelab engine (see the module docstring).

    Mixed into an :class:`Oracle` together with the real ``keras_tuner.Oracle`` (whose state,
    ``trials``, ``ongoing_trials`` and the display, it keeps up to date) by ``Oracle.__new__``.
    """

    _kt: Any
    _directory: Any
    _project_name: Any
    _session: Session | None
    _current: DriverTrial | None
    _consecutive_failures: int
    experiment: Experiment | None
    trials: Any
    ongoing_trials: Any
    start_order: Any
    end_order: Any
    hyperparameters: Any
    objective: Any
    max_retries_per_trial: int
    max_consecutive_failed_trials: int
    _display: Any
    open_experiment: Any
    hyperparameters_of: Any
    records: Any
    space: Any
    tune_new_entries: bool
    get_space: Any
    score_trial: Any
    _check_objective_found: Any

    #: True once a real ``keras_tuner.Tuner`` has taken this oracle (it sets the project folder).
    driven = False

    def _set_project_dir(self, directory: Any, project_name: Any) -> None:
        self._directory = directory
        self._project_name = project_name
        self.driven = True

    def save(self) -> None:
        """Nothing to save: tunelab's storage holds every trial as it happens."""

    def reload(self) -> None:
        """Nothing to reload here: the experiment is found again when the search starts (``create_trial``)."""

    def create_trial(self, tuner_id: str) -> Any:
        kt = self._kt
        assert kt is not None, "create_trial is called by a real keras_tuner.Tuner"
        if self._current is not None and self._current.poll() is None:
            self._current.fail(TrialFailed("the tuner asked for a new trial before ending this one"))
        self._current = None
        if self._session is None:
            if self.experiment is None:
                project = Path(str(self._directory)) / str(self._project_name)
                resume = self.open_experiment(
                    self.hyperparameters.get_config(), project, name=str(self._project_name), overwrite=False
                )
            else:
                resume = self.experiment.phase != Phase.PENDING
            self._session = Session(self.experiment, resume=resume).__enter__()  # type: ignore[arg-type]
        handle = self._session.next_trial()
        if handle is None:
            self._close_session()
            return kt.engine.trial.Trial(self.get_space(), trial_id=None, status="STOPPED")
        self._current = handle
        with handle.context():
            hp = kt.HyperParameters.from_config(handle.hyperparameters().get_config())
        trial = kt.engine.trial.Trial(hyperparameters=hp, trial_id=str(handle.job.number), status="RUNNING")
        self.trials[trial.trial_id] = trial
        self.ongoing_trials[tuner_id] = trial
        self.start_order.append(trial.trial_id)
        self._display.on_trial_begin(trial)
        return trial

    def update_trial(self, trial_id: str, metrics: Mapping[str, Any], step: int = 0) -> Any:
        trial = self.trials[trial_id]
        self._check_objective_found(metrics)
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                trial.metrics.register(name, direction=_direction(self.objective, name))
            trial.metrics.update(name, value, step=step)
        handle = self._handle(trial_id)
        if handle is not None and self.objective.has_value(metrics):
            with handle.context() as context:
                value = float(self.objective.get_value(metrics))
                context.report(value, step=int(step), **{k: float(v) for k, v in metrics.items()})
        return trial

    def end_trial(self, trial: Any) -> None:
        handle = self._handle(trial.trial_id)
        kept = self.trials[trial.trial_id]
        kept.hyperparameters, kept.status, kept.message = trial.hyperparameters, trial.status, trial.message
        failed = True
        if handle is not None and self.tune_new_entries:
            self._declare_new(handle, trial.hyperparameters)
        if handle is not None:
            if trial.status == "COMPLETED":
                self.score_trial(kept)
                score = kept.score
                if score is not None and score == score and abs(score) != float("inf"):
                    best = {name: kept.metrics.get_best_value(name) for name in kept.metrics.metrics}
                    with handle.context() as context:
                        context.report_final(float(score), **{k: float(v) for k, v in best.items() if v is not None})
                    handle.finish()
                    failed = False
                else:
                    kept.status = "INVALID"
                    handle.fail(TrialFailed(f"the objective is {score}, not a finite number"))
            else:
                handle.fail(TrialFailed(trial.message or f"the trial ended {trial.status}"))
        self.end_order.append(kept.trial_id)
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == kept.trial_id:
                self.ongoing_trials.pop(tuner_id)
        self._current = None
        self._display.on_trial_end(kept)
        if failed:
            final = handle is None or handle.job.attempt > self.max_retries_per_trial
            self._consecutive_failures += 1 if final else 0
            if self._consecutive_failures >= self.max_consecutive_failed_trials:
                self._close_session(stop=True)
                raise RuntimeError(
                    f"Number of consecutive failures exceeded the limit of {self.max_consecutive_failed_trials}.\n"
                    + (trial.message or "")
                )
        else:
            self._consecutive_failures = 0

    def get_trial(self, trial_id: str) -> Any:
        if trial_id in self.trials:
            return self.trials[trial_id]
        for record in self.records():
            if str(record.number) == trial_id:
                return self._real_trial(record)
        raise KeyError(trial_id)

    def _declare_new(self, handle: DriverTrial, hp: Any) -> None:
        """Parameters the real Tuner's build declared for the first time: reported, so the space grows."""
        known = {item["config"]["name"] for item in self.space.get_config()}
        new = [item for item in hp.get_config()["space"] if item["config"]["name"] not in known]
        if new:
            drawn = {
                item["config"]["name"]: hp.values[item["config"]["name"]]
                for item in new
                if item["config"]["name"] in hp.values
            }
            with handle.context() as context:
                context.declare(new, drawn)

    def _handle(self, trial_id: str) -> DriverTrial | None:
        current = self._current
        return current if current is not None and str(current.job.number) == str(trial_id) else None

    def _close_session(self, *, stop: bool = False) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if stop:  # as when the driver leaves with an error: the engine stops the experiment
            session.__exit__(RuntimeError, RuntimeError("stopped"), None)
        else:
            session.__exit__(None, None, None)

    def _real_trial(self, record: TrialRecord) -> Any:
        if str(record.number) in getattr(self, "trials", {}):
            return self.trials[str(record.number)]
        trial = self._kt.engine.trial.Trial(
            hyperparameters=self.hyperparameters_of(record.params, real=True),
            trial_id=str(record.number),
            status="COMPLETED" if record.state == TrialState.SUCCEEDED else "FAILED",
        )
        trial.score = record.value
        for name, value in record.metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if not trial.metrics.exists(name):
                    trial.metrics.register(name, direction=_direction(self.objective, name))
                trial.metrics.update(name, float(value))
        return trial


def _direction(objective: Any, name: str) -> str:
    for item in getattr(objective, "objectives", [objective]):
        if item.name == name:
            return str(item.direction)
    return "min"


def _real_objective(kt: Any, objective: Any) -> Any:
    """The objective as the real KerasTuner's own type (its Tuner checks it with isinstance)."""
    if isinstance(objective, (list, tuple)):
        return [_real_objective(kt, item) for item in objective]
    if hasattr(objective, "name") and hasattr(objective, "direction") and not isinstance(objective, kt.Objective):
        return kt.Objective(objective.name, objective.direction)
    if isinstance(objective, str):
        return kt.Objective(objective, create_objective(objective).direction)
    return objective


def check_count(name: str, value: Any, low: int, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name}: must be an integer >= {low}, got {value!r}")
