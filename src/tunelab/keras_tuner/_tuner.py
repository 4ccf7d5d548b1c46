"""``Tuner``: KerasTuner's search loop on a tunelab experiment.

``search(*fit_args, **fit_kwargs)`` discovers the space KerasTuner's way (``hypermodel.build`` on
an empty ``HyperParameters``, here in the driver), makes or finds again the experiment of the
project folder (:meth:`Oracle.open_experiment`) and runs its trials in this process, one at a
time, through :class:`~tunelab.engine.Session`: the engine proposes, this process
builds and fits the model, every epoch becomes an intermediate report and the trial's result its
final report, all stored by the engine as they happen. ``concurrency=N`` (TFX's
``num_parallel_trials``) runs N trials at once in forked processes instead, the hypermodel being
built in each.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import tunelab
from tunelab.engine import Experiment, Session
from tunelab.errors import ConfigError, ExperimentFailed, TrialFailed, did_you_mean
from tunelab.keras_tuner._callbacks import load_weights, reporting_callback
from tunelab.keras_tuner._hypermodel import get_hypermodel
from tunelab.keras_tuner._oracle import Oracle, check_count
from tunelab.keras_tuner._results import Scored, score_results
from tunelab.keras_tuner._trial import Trial, TrialStatus
from tunelab.runners import EXIT_FAILED, EXIT_OK, DriverTrial
from tunelab.space import HyperParameters
from tunelab.storage import Phase
from tunelab.trial import current

__all__ = ["TUNER_KEYWORDS", "Tuner"]

logger = logging.getLogger("tunelab")

_ORACLE_KEYWORDS = (
    "objective",
    "max_trials",
    "hyperparameters",
    "allow_new_entries",
    "tune_new_entries",
    "seed",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
    "tuner",
    "scheduler",
    "storage",
)
TUNER_KEYWORDS = (
    "oracle",
    "hypermodel",
    "max_model_size",
    "optimizer",
    "loss",
    "metrics",
    "distribution_strategy",
    "directory",
    "project_name",
    "logger",
    "tuner_id",
    "overwrite",
    "executions_per_trial",
    "concurrency",
    "num_parallel_trials",
)


class Tuner:
    """A KerasTuner tuner whose trials tunelab proposes and stores (see the module docstring).

    Give an :class:`Oracle` (``oracle=``) or its arguments directly (``objective=``,
    ``max_trials=``, ``tuner="tpe"``...). Override :meth:`run_trial` to tune anything; by default
    it builds ``hypermodel`` and fits it ``executions_per_trial`` times.
    """

    #: The tunelab tuner of this class when no ``tuner=`` is given.
    default_tuner = "auto"

    def __init__(
        self,
        oracle: Oracle | None = None,
        hypermodel: Any = None,
        max_model_size: int | None = None,
        optimizer: Any = None,
        loss: Any = None,
        metrics: Any = None,
        distribution_strategy: Any = None,
        directory: str | Path | None = None,
        project_name: str | None = None,
        logger: Any = None,
        tuner_id: str | None = None,
        overwrite: bool = False,
        executions_per_trial: int = 1,
        *,
        concurrency: int | None = None,
        num_parallel_trials: int | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = [key for key in kwargs if key not in _ORACLE_KEYWORDS]
        if unknown:
            hint = did_you_mean(unknown[0], (*_ORACLE_KEYWORDS, *TUNER_KEYWORDS))
            raise ConfigError(f"{type(self).__name__}: unknown argument {unknown[0]!r}{hint}")
        if oracle is None:
            kwargs.setdefault("tuner", self.default_tuner)
            oracle = Oracle(**kwargs)
        elif kwargs:
            raise ConfigError(
                f"{type(self).__name__}: give {next(iter(kwargs))!r} to the Oracle, or no oracle and the arguments here"
            )
        if not isinstance(oracle, Oracle):
            raise ConfigError(f"oracle: expected a tunelab.keras_tuner Oracle, got {type(oracle).__name__}")
        check_count("executions_per_trial", executions_per_trial, 1)
        if concurrency is not None and num_parallel_trials is not None and concurrency != num_parallel_trials:
            raise ConfigError("give concurrency or num_parallel_trials (TFX's name), not both")
        slots = concurrency if concurrency is not None else (num_parallel_trials or 1)
        check_count("concurrency", slots, 1)
        if distribution_strategy is not None:
            warnings.warn("distribution_strategy is not used: each trial trains as fit() does", stacklevel=2)
        self.oracle = oracle
        self.hypermodel: Any = get_hypermodel(hypermodel)
        self.max_model_size = max_model_size
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self.directory = Path(directory if directory is not None else ".")
        self.project_name = project_name or "untitled_project"
        self.tuner_id = tuner_id or "tuner0"
        self.overwrite = bool(overwrite)
        self.executions_per_trial = executions_per_trial
        self.concurrency = slots
        self._space = self._discover()
        self._opened = False
        self._should_stop: Callable[[], bool] = lambda: False

    # ------------------------------------------------------------------ the space
    @property
    def project_dir(self) -> Path:
        return self.directory / self.project_name

    def _discover(self) -> HyperParameters:
        """The space as KerasTuner finds it: the given hyperparameters, then what ``build`` declares."""
        hp = HyperParameters.from_config(self.oracle.hyperparameters.get_config())
        if self.hypermodel is not None:
            self.hypermodel.declare_hyperparameters(hp)
            self.hypermodel.build(hp)
        if not self.oracle.tune_new_entries:
            given = {h.name for h in self.oracle.hyperparameters.space}
            extra = [h for h in hp.space if h.name not in given]
            if extra and not self.oracle.allow_new_entries:
                raise ConfigError(
                    f"hyperparameter {extra[0].name!r}: allow_new_entries is False and it is not in hyperparameters"
                )
            fixed = HyperParameters.from_config(self.oracle.hyperparameters.get_config())
            for h in extra:  # not tuned: each keeps its default
                fixed.Fixed(h.name, h.default)
            hp = fixed
        return hp

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the search space (KerasTuner's layout)."""
        # Once the search has run, the space it grew to; before, what build declared.
        declared = list(self.oracle.space.declarations) if self.oracle.experiment is not None else self._space.space
        print("Search space summary")
        print(f"Default search space size: {len(declared)}")
        for h in declared:
            config = {k: v for k, v in h.get_config().items() if k != "name"}
            print(f"{h.name} ({type(h).__name__})")
            print(config)

    def _open(self) -> bool:
        resume = self.oracle.open_experiment(
            self._space.get_config(),
            self.project_dir,
            name=self.project_name,
            overwrite=self.overwrite and not self._opened,
            concurrency=self.concurrency,
        )
        self._opened = True
        return resume

    # ------------------------------------------------------------------ the search
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """Run trials until ``max_trials`` (or the space) is used up; continue a stopped search of the project."""
        resume = self._open() or self._resumable()
        experiment = self.oracle.experiment
        assert experiment is not None
        if resume and not self._has_work(experiment):
            print(f"Search of {self.project_dir} is complete ({len(experiment.trials)} trials); nothing to run")
            return
        self.on_search_begin()
        if self.concurrency > 1:
            self._search_in_processes(experiment, resume, fit_args, fit_kwargs)
        else:
            self._search_here(experiment, resume, fit_args, fit_kwargs)
        self.on_search_end()
        if not any(t.status == TrialStatus.COMPLETED for t in self._trials()):
            why = experiment.record.message or "every trial failed"
            raise ExperimentFailed(f"no trial of {self.project_name} succeeded: {why}")

    def _resumable(self) -> bool:
        experiment = self.oracle.experiment
        return experiment is not None and experiment.phase != Phase.PENDING

    def _has_work(self, experiment: Experiment) -> bool:
        """Whether a stored search has trials left: unfinished ones, or room under its limit unless it ended DONE."""
        trials = experiment.trials
        if any(not t.state.is_final for t in trials):
            return True
        limit = experiment.config.max_trials
        if experiment.phase == Phase.DONE and not self.oracle.raised_limit:
            return False  # its limit, its space or its scheduler's brackets were used up
        return limit is None or len(trials) < limit

    def _search_here(self, experiment: Experiment, resume: bool, fit_args: Any, fit_kwargs: Any) -> None:
        failures = 0
        with Session(experiment, resume=resume) as session:
            while (handle := session.next_trial()) is not None:
                with handle.context() as context:
                    trial = Trial(
                        self._hyperparameters(handle.hyperparameters()),
                        str(context.number),
                        trial_dir=handle.job.trial_dir,
                        budget=context.budget,
                    )
                    self.on_trial_begin(trial)
                    code = self._run(handle, trial, fit_args, fit_kwargs)
                self.on_trial_end(trial)
                final = handle.job.attempt > self.oracle.max_retries_per_trial
                failures = failures + 1 if code == EXIT_FAILED and final else (0 if code == EXIT_OK else failures)
                if failures >= self.oracle.max_consecutive_failed_trials:
                    raise RuntimeError(
                        f"Number of consecutive failures exceeded the limit of "
                        f"{self.oracle.max_consecutive_failed_trials}.\n{trial.message}"
                    )

    def _hyperparameters(self, hp: HyperParameters) -> HyperParameters:
        """A trial's ``hp`` under KerasTuner's rules for parameters first declared during the trial."""
        if not self.oracle.allow_new_entries:

            def refuse(declaration: Any, value: Any) -> None:
                raise ConfigError(f"hyperparameter {declaration.name!r}: allow_new_entries is False")

            hp.sampler, hp.on_declare = None, refuse
        elif not self.oracle.tune_new_entries:
            hp.sampler, hp.on_declare = None, None  # a new parameter keeps its default, untuned
        return hp

    def _run(self, handle: DriverTrial, trial: Trial, fit_args: Any, fit_kwargs: Any) -> int:
        """One attempt, in this process and the trial's context: run_trial, then its score as the final report."""
        try:
            self._execute(trial, lambda: handle.stop_requested, fit_args, fit_kwargs)
        except Exception as exc:  # noqa: BLE001 - a trial's failure is the trial's, recorded with its traceback
            trial.status, trial.message = TrialStatus.FAILED, f"{type(exc).__name__}: {exc}"
            handle.fail(exc)
            return EXIT_FAILED
        trial.status = TrialStatus.COMPLETED
        handle.finish(EXIT_OK)
        return EXIT_OK

    def _execute(self, trial: Trial, should_stop: Callable[[], bool], fit_args: Any, fit_kwargs: Any) -> Scored:
        """Run the trial and report its score (inside the trial's context)."""
        self._should_stop = should_stop
        results = self.run_trial(trial, *fit_args, **fit_kwargs)
        scored = score_results(results, self.oracle.objective)
        trial.score, trial.best_step, trial.metrics = scored.value, scored.best_step, scored.metrics
        tunelab.report_final(scored.value, **{**scored.metrics, "tunelab/best_step": scored.best_step})
        return scored

    def _search_in_processes(self, experiment: Experiment, resume: bool, fit_args: Any, fit_kwargs: Any) -> None:
        """``concurrency`` trials at once, each in a forked process (Keras models need not be picklable)."""

        def objective(hp: HyperParameters) -> None:
            context = current()
            trial = Trial(self._hyperparameters(hp), str(context.number), trial_dir=context.trial_dir)
            trial.budget = context.budget
            self._execute(trial, tunelab.should_stop, fit_args, fit_kwargs)

        experiment.objective = objective
        if resume:
            experiment.resume()
        else:
            experiment.run()

    # ------------------------------------------------------------------ one trial (override run_trial)
    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        """Build and fit the hypermodel ``executions_per_trial`` times; return the Histories (averaged)."""
        if self.hypermodel is None:
            raise ConfigError(f"{type(self).__name__}: give a hypermodel, or override run_trial")
        original = list(kwargs.pop("callbacks", None) or [])
        histories = []
        for execution in range(self.executions_per_trial):
            copied = copy.copy(kwargs)
            copied["callbacks"] = [*_copy_callbacks(original), self._callback(trial, report=execution == 0)]
            histories.append(self._build_and_fit(trial, *args, **copied))
        return histories

    def _callback(self, trial: Trial, *, report: bool) -> Any:
        checkpoint = None if trial.trial_dir is None else trial.trial_dir / "checkpoint"
        return reporting_callback(self.oracle.objective, checkpoint, report, self._stop_check)

    def _stop_check(self) -> bool:
        return self._should_stop()

    def _build_and_fit(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        hp = trial.hyperparameters
        model = self._try_build(hp)
        return self.hypermodel.fit(hp, model, *args, **kwargs)

    def _try_build(self, hp: Any) -> Any:
        model = self.hypermodel.build(hp)
        if self.optimizer is not None or self.loss is not None or self.metrics is not None:
            model.compile(
                optimizer=self.optimizer if self.optimizer is not None else getattr(model, "optimizer", None),
                loss=self.loss if self.loss is not None else getattr(model, "loss", None),
                metrics=self.metrics,
            )
        if self.max_model_size is not None and hasattr(model, "count_params"):
            size = model.count_params()
            if size > self.max_model_size:
                raise TrialFailed(f"the model has {size} parameters, more than max_model_size={self.max_model_size}")
        return model

    # ------------------------------------------------------------------ hooks (KerasTuner's)
    def on_search_begin(self) -> None:
        """Called when ``search`` starts."""

    def on_search_end(self) -> None:
        """Called when ``search`` ends."""

    def on_trial_begin(self, trial: Trial) -> None:
        """Called before a trial runs."""

    def on_trial_end(self, trial: Trial) -> None:
        """Called after a trial ran."""

    # ------------------------------------------------------------------ results
    def _trials(self) -> list[Trial]:
        return [Trial.from_record(r, self.oracle.hyperparameters_of(r.params)) for r in self.oracle.records()]

    @property
    def remaining_trials(self) -> int | None:
        return self.oracle.remaining_trials()

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the best ``num_trials`` trials, best first."""
        return [trial.hyperparameters for trial in self.oracle.get_best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best ``num_models`` models, rebuilt and with the weights of their best epoch."""
        return [self.load_model(trial) for trial in self.oracle.get_best_trials(num_models)]

    def load_model(self, trial: Trial) -> Any:
        if self.hypermodel is None:
            raise ConfigError("load_model: this tuner has no hypermodel to build the model with")
        model = self._try_build(trial.hyperparameters)
        if trial.trial_dir is not None:
            load_weights(model, trial.trial_dir / "checkpoint")
        return model

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best ``num_trials`` trials (KerasTuner's layout)."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(self.oracle.objective)
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            print(trial.summary(self.oracle.objective.name))

    @property
    def experiment_id(self) -> str | None:
        """The tunelab experiment of this search (``tunelab show ID``), once it has started."""
        experiment = self.oracle.experiment
        return None if experiment is None else experiment.id


def _copy_callbacks(callbacks: Sequence[Any]) -> list[Any]:
    try:
        return copy.deepcopy(list(callbacks))
    except Exception:  # noqa: BLE001 - KerasTuner's fallback: callbacks that cannot be copied are shared
        return list(callbacks)
