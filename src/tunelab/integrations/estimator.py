"""``AutoEstimator``: tune a PyTorch or Keras model in a few lines, with Orca's API.

>>> est = AutoEstimator.from_torch(model_creator=make_model, optimizer="Adam", loss=nn.CrossEntropyLoss(),
...                                logs_dir="/tmp/tunelab_logs", resources_per_trial={"cpu": 1}, name="mlp")
>>> est.fit((x_train, y_train), validation_data=(x_val, y_val), search_space={"lr": hp.loguniform(1e-4, 1e-1)},
...         n_sampling=8, epochs=5, metric="accuracy")
>>> est.get_best_model(), est.get_best_config()

Every configuration trains as a function trial of a tunelab :class:`~tunelab.Experiment`
(a forked process, so a crash costs one trial). After each epoch the trial evaluates the
validation data, saves a checkpoint in its folder and reports the metric as an
intermediate result, so schedulers can stop it or, when they give budgets, decide how
many epochs it trains. ``get_best_model`` rebuilds the best trial's model from its
checkpoint: the exact model that reported the best value, no retraining.

The framework (torch, keras) is imported inside the backend's functions only.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tunelab.errors import ConfigError, ExperimentFailed
from tunelab.integrations._metrics import Metric, resolve_metric

logger = logging.getLogger("tunelab.integrations")

#: A checkpoint's record of how many epochs the saved model has trained.
EPOCHS_FILE = "epochs.txt"
#: The configuration a trial trained, as ``model_creator`` received it (``hp.sample_from`` values included).
CONFIG_FILE = "config.json"


class Session(Protocol):
    """One configuration being trained inside a trial process (a backend builds it)."""

    def train_epoch(self) -> None: ...

    def evaluate(self) -> tuple[Any, Any, float]:
        """``(y_true, y_pred, mean_loss)`` over the validation data, as numpy arrays."""

    def save(self, folder: Path) -> None: ...

    def restore(self, folder: Path) -> bool:
        """Load a checkpoint saved by :meth:`save` if ``folder`` holds one."""


class Backend(Protocol):
    """What AutoEstimator needs from a framework: train a configuration, and load a trained model."""

    framework: str

    def session(self, config: dict[str, Any], data: Any, validation_data: Any, threads: int) -> Session: ...

    def load_model(self, config: dict[str, Any], folder: Path, data: Any) -> Any: ...


class AutoEstimator:
    """Tunes the hyperparameters of a model built by ``model_creator(config)``.

    Build one with :meth:`from_torch` or :meth:`from_keras`, then :meth:`fit`. Not
    thread-safe; one ``fit`` at a time.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        logs_dir: str | Path | None = None,
        resources_per_trial: Mapping[str, float] | None = None,
        name: str | None = None,
        remote_dir: str | None = None,
    ) -> None:
        self.backend = backend
        self.logs_dir = None if logs_dir is None else Path(logs_dir).expanduser()
        self.resources_per_trial = dict(resources_per_trial or {"cpu": 1})
        self.name = name or f"auto_{backend.framework}"
        cpus = self.resources_per_trial.get("cpu", 1)
        if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or cpus <= 0:
            raise ConfigError(f"resources_per_trial: 'cpu' must be a positive number, got {cpus!r}")
        unknown = sorted(set(self.resources_per_trial) - {"cpu", "gpu"})
        if unknown:
            raise ConfigError(f"resources_per_trial: unknown resource {unknown[0]!r} (expected 'cpu' or 'gpu')")
        if self.resources_per_trial.get("gpu"):
            warnings.warn("resources_per_trial: AutoEstimator trains on the CPU; 'gpu' is ignored", stacklevel=2)
        if remote_dir is not None:
            warnings.warn(
                "remote_dir: ignored; every trial's results and checkpoints stay under logs_dir", stacklevel=2
            )
        self.experiment: Any = None
        self.result: Any = None
        self._data: Any = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_torch(
        cls,
        *,
        model_creator: Callable[[dict[str, Any]], Any],
        optimizer: str | Callable[..., Any],
        loss: Any,
        logs_dir: str | Path | None = None,
        resources_per_trial: Mapping[str, float] | None = None,
        name: str | None = None,
        remote_dir: str | None = None,
    ) -> AutoEstimator:
        """A PyTorch estimator.

        ``optimizer`` is an optimizer creator ``(model, config) -> torch.optim.Optimizer``
        or the name of a ``torch.optim`` class (``"Adam"``: the learning rate comes from
        ``config["lr"]``); ``loss`` a torch loss module, its class name, or a creator
        ``(config) -> loss``.
        """
        from tunelab.integrations.torch import TorchBackend

        return cls(
            TorchBackend(model_creator, optimizer, loss),
            logs_dir=logs_dir,
            resources_per_trial=resources_per_trial,
            name=name,
            remote_dir=remote_dir,
        )

    @classmethod
    def from_keras(
        cls,
        *,
        model_creator: Callable[[dict[str, Any]], Any],
        optimizer: str | Callable[..., Any] | None = None,
        loss: Any = None,
        logs_dir: str | Path | None = None,
        resources_per_trial: Mapping[str, float] | None = None,
        name: str | None = None,
        remote_dir: str | None = None,
    ) -> AutoEstimator:
        """A Keras 3 estimator; ``model_creator(config)`` returns a compiled model.

        Without TensorFlow, set ``KERAS_BACKEND=torch`` before importing keras. If the model
        is not compiled, ``optimizer`` (a name, or ``(config) -> optimizer``) and ``loss`` compile it.
        """
        from tunelab.integrations.keras import KerasBackend

        return cls(
            KerasBackend(model_creator, optimizer, loss),
            logs_dir=logs_dir,
            resources_per_trial=resources_per_trial,
            name=name,
            remote_dir=remote_dir,
        )

    # ------------------------------------------------------------------ tuning
    def fit(
        self,
        data: Any,
        epochs: int = 1,
        validation_data: Any = None,
        metric: str | Callable[..., float] | None = None,
        metric_mode: str | None = None,
        metric_threshold: float | None = None,
        n_sampling: int = 1,
        search_space: Mapping[str, Any] | None = None,
        search_alg: str | None = None,
        search_alg_params: Mapping[str, Any] | None = None,
        scheduler: str | None = None,
        scheduler_params: Mapping[str, Any] | None = None,
        feature_cols: str | list[str] | None = None,
        label_cols: str | list[str] | None = None,
        mode: str | None = None,
    ) -> AutoEstimator:
        """Tune: ``n_sampling`` configurations (times the grid of any ``hp.grid_search``), ``epochs`` each.

        ``n_sampling=-1`` (Ray Tune's ``num_samples=-1``) sets no limit: trials run until a space
        of grid and choice values is used up, or until the search is stopped (Ctrl-C), with a
        warning saying so.

        ``data`` and ``validation_data`` are ``(x, y)`` numpy arrays, data creators
        ``(config) -> DataLoader`` (torch) / ``(x, y)`` (keras), or pandas DataFrames with
        ``feature_cols`` and ``label_cols``; without validation data the metric is computed on
        the training data. ``metric`` is ``"accuracy"``, ``"mse"``, ``"mae"``, ``"rmse"``, ``"r2"``,
        ``"mean_loss"``, another of Orca's ``Evaluator`` metrics (``"smape"``, ``"mape"``...) or
        ``(y_true, y_pred) -> float``; ``metric_mode`` (or ``mode``, as in Orca's examples) says
        whether larger is better. A trial whose metric reaches ``metric_threshold`` stops training
        (Orca's ``TrialStopper``); the other configurations still run. ``search_alg`` is one of
        Orca's searcher names (``skopt``, ``bayesopt``, ``hyperopt``, ``optuna``, ``ax``...; see
        :mod:`tunelab.integrations._orca`) or a tunelab tuner name (default random search,
        enumerating grid values), and ``scheduler`` one of Orca's scheduler names
        (``async_hyperband``, ``hyperband``, ``median_stopping_rule``, ``hb_bohb``, ``pbt``, ``pb2``,
        ``fifo``) or tunelab's.
        """
        from tunelab.engine import Experiment
        from tunelab.engine._experiment import new_experiment_id
        from tunelab.integrations import _orca

        if mode is not None and metric_mode is not None and mode != metric_mode:
            raise ConfigError(f"fit: mode={mode!r} contradicts metric_mode={metric_mode!r}; give one of them")
        chosen = _resolve_metric("mean_loss" if metric is None else metric, metric_mode or mode)
        if search_space is None:
            raise ConfigError("fit: search_space is required (a dict of tunelab.hp domains or fixed values)")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"fit: epochs must be a positive integer, got {epochs!r}")
        if isinstance(n_sampling, bool) or not isinstance(n_sampling, int) or (n_sampling < 1 and n_sampling != -1):
            raise ConfigError(f"fit: n_sampling must be a positive integer or -1 (no limit), got {n_sampling!r}")
        if metric_threshold is not None and (
            isinstance(metric_threshold, bool) or not isinstance(metric_threshold, (int, float))
        ):
            raise ConfigError(f"fit: metric_threshold must be a number, got {metric_threshold!r}")
        if data is None:
            raise ConfigError("fit: data is required: (x, y) arrays, a data creator function or a DataFrame")
        if (feature_cols is not None or label_cols is not None) and not hasattr(data, "columns"):
            raise ConfigError(
                f"fit: feature_cols and label_cols select columns of a pandas DataFrame; data is {type(data).__name__}"
            )
        data = _orca.frame_to_arrays(data, feature_cols, label_cols, where="fit: data")
        if validation_data is not None:
            validation_data = _orca.frame_to_arrays(
                validation_data, feature_cols, label_cols, where="fit: validation_data"
            )
        searched, computed = _orca.split_space(search_space)
        plan = _orca.orca_search_alg(search_alg, search_alg_params)
        scheduler, scheduler_args, scheduler_notes = _orca.orca_scheduler(scheduler, scheduler_params)
        notes = (*plan.warnings, *scheduler_notes)
        if n_sampling == -1:
            notes = (*notes, _UNLIMITED)
        for note in notes:
            warnings.warn(note, stacklevel=2)
            logger.warning("%s: %s", self.name, note)
        cluster = _orca.ray_context()
        settings: dict[str, Any] = {
            "name": self.name,
            "search_space": searched,
            "tuner": {"name": plan.tuner, "args": plan.args},
            "mode": chosen.mode,
            "concurrency": self._concurrency(cluster is not None),
            "failure": {"ignore": True},
        }
        if plan.enqueue:
            settings["enqueue"] = plan.enqueue
        if cluster is not None:
            settings["runner"] = "ray"
            settings["ray"] = {"address": cluster.address, "resources_per_trial": dict(self.resources_per_trial)}
        if self.logs_dir is not None:
            settings["experiment_dir"] = self.logs_dir / f"{self.name}-{new_experiment_id()}"
        configurations = None if n_sampling == -1 else n_sampling * _grid_size(searched)
        _add_scheduler(settings, scheduler, scheduler_args, epochs, configurations)
        settings["max_trials"] = None if configurations is None else _trials_for(settings, configurations)
        objective = _Objective(self.backend, data, validation_data, epochs, chosen, self._threads())
        objective.computed, objective.threshold = computed, metric_threshold
        self.experiment = Experiment(objective=objective, warnings=notes, **settings)
        # A scheduler that gives budgets adds them to the parameters under this name.
        self._budget_param = objective.budget_param = getattr(
            getattr(self.experiment.config, "scheduler", None), "budget_param", None
        )
        self._data = data
        self.result = self.experiment.run()
        logger.info("%s: %s", self.name, self.result.message or self.result.phase.value)
        return self

    def _threads(self) -> int:
        return max(1, int(self.resources_per_trial.get("cpu", 1)))

    def _concurrency(self, on_ray: bool = False) -> int:
        cpus = float(os.cpu_count() or 1)
        if on_ray:
            import ray

            cpus = float(ray.cluster_resources().get("CPU", cpus))
        return max(1, int(cpus // self.resources_per_trial.get("cpu", 1)))

    # ------------------------------------------------------------------ results
    def _best(self) -> Any:
        if self.result is None:
            raise ExperimentFailed("AutoEstimator: call fit() first")
        best = self.result.best_trial
        if best is None:
            failed = [t for t in self.result.trials if t.message]
            why = f"; trial {failed[0].number}: {failed[0].message}" if failed else ""
            raise ExperimentFailed(f"AutoEstimator: no trial finished with a result{why}")
        return best

    def get_best_config(self) -> dict[str, Any]:
        """The best configuration (the parameters ``model_creator`` received, ``hp.sample_from`` values included)."""
        return self._config_of(self._best())

    def get_best_model(self) -> Any:
        """The model of the best trial, loaded from its last checkpoint (in evaluation mode)."""
        best = self._best()
        return self.backend.load_model(self._config_of(best), _model_folder(best), self._data)

    def _get_best_automl_model(self) -> Any:
        """Orca's internal name for the best model, kept for scripts that call it."""
        return self.get_best_model()

    def _config_of(self, trial: Any) -> dict[str, Any]:
        saved = _model_folder(trial) / CONFIG_FILE
        if saved.is_file():
            return dict(json.loads(saved.read_text()))
        return _user_config(trial.params, self._budget_param)

    @property
    def best_value(self) -> float | None:
        """The metric of the best trial."""
        return self._best().value


class _Objective:
    """The function trial: trains one configuration epoch by epoch, reporting and checkpointing."""

    def __init__(
        self,
        backend: Backend,
        data: Any,
        validation_data: Any,
        epochs: int,
        metric: Metric,
        threads: int,
    ) -> None:
        self.backend, self.data, self.validation_data = backend, data, validation_data
        self.epochs, self.metric, self.threads = epochs, metric, threads
        self.budget_param: str | None = None
        #: Values computed in the trial (``hp.sample_from``), and Orca's ``metric_threshold``.
        self.computed: Mapping[str, Any] = {}
        self.threshold: float | None = None
        self.__qualname__ = f"AutoEstimator[{backend.framework}]"

    def __call__(self, params: dict[str, Any]) -> float | None:
        from tunelab import trial as api

        context = api.current()
        budget = getattr(api, "get_budget", lambda default=None: default)(None)
        target = self.epochs if budget is None else int(budget)
        checkpoint_dir = getattr(api, "get_checkpoint_dir", lambda: None)()
        config = _user_config(params, self.budget_param)
        if self.computed:
            from tunelab.integrations._orca import resolve_computed

            config = resolve_computed(config, self.computed, api.get_trial_seed())
        for folder in {f for f in (context.trial_dir, checkpoint_dir) if f is not None}:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / CONFIG_FILE).write_text(json.dumps(config, default=str))
        session = self.backend.session(config, self.data, self.validation_data, self.threads)
        done = _restore(session, checkpoint_dir)
        value: float | None = None
        for epoch in range(done, target):
            session.train_epoch()
            y_true, y_pred, mean_loss = session.evaluate()
            value = float(mean_loss) if self.metric.function is None else float(self.metric.function(y_true, y_pred))
            for folder in {f for f in (context.trial_dir, checkpoint_dir) if f is not None}:
                _save(session, folder, epoch + 1)
            extra = {} if self.metric.function is None else {"mean_loss": float(mean_loss)}
            api.report(value, step=epoch, **extra)
            if api.should_stop() or self._reached(value):
                break
        return value

    def _reached(self, value: float) -> bool:
        """Orca's ``metric_threshold``: this trial's metric is good enough to stop training it."""
        if self.threshold is None:
            return False
        return value >= self.threshold if self.metric.mode == "max" else value <= self.threshold


def _resolve_metric(metric: str | Callable[..., float], mode: str | None) -> Metric:
    """tunelab's metric of that name, else Orca's ``Evaluator`` metric (averaged over outputs, as Orca tunes)."""
    from tunelab.integrations._orca_metrics import Evaluator

    try:
        return resolve_metric(metric, mode)
    except ConfigError:
        if not isinstance(metric, str) or metric not in Evaluator.metrics_func:
            raise
    if mode is not None and mode not in ("min", "max"):
        raise ConfigError(f"metric_mode: expected 'min' or 'max', got {mode!r}")
    name = metric

    def function(y_true: Any, y_pred: Any) -> float:
        return float(Evaluator.evaluate(name, y_true, y_pred, multioutput="uniform_average"))

    function.__name__ = name
    return Metric(name, function, mode or Evaluator.get_metric_mode(name))


def _model_folder(trial: Any) -> Path:
    """Where a trial's last checkpoint is: its checkpoint folder (also written by trials on Ray), else its folder."""
    folder = Path(trial.trial_dir)
    checkpoint = folder / "checkpoint"
    return checkpoint if (checkpoint / EPOCHS_FILE).is_file() else folder


def _save(session: Session, folder: Path, epochs_done: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    session.save(folder)
    (folder / EPOCHS_FILE).write_text(f"{epochs_done}\n")


def _restore(session: Session, folder: Path | None) -> int:
    """Epochs already trained by the checkpoint a promoted trial starts from (0 if none)."""
    if folder is None or not (folder / EPOCHS_FILE).is_file():
        return 0
    return int((folder / EPOCHS_FILE).read_text().strip() or 0) if session.restore(folder) else 0


def _user_config(params: Mapping[str, Any], budget_param: str | None) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != budget_param}


#: The warning of ``n_sampling=-1``: as in Ray Tune, trials go on until something stops them.
_UNLIMITED = (
    "n_sampling=-1: trials run until the search space is used up (a space of grid_search and choice values "
    "only) or the search is stopped (Ctrl-C, tunelab stop); fit() has no time budget, as in Orca, and "
    "metric_threshold stops only the trial that reaches it"
)


def _grid_size(search_space: Mapping[str, Any]) -> int:
    """How many configurations ``hp.grid_search`` values multiply ``n_sampling`` by (Ray's semantics)."""
    from tunelab.space import Choice, parse_search_space

    size = 1
    for leaf in parse_search_space(dict(search_space)).leaves:
        if isinstance(leaf.domain, Choice) and leaf.domain.grid_search:
            size *= len(leaf.domain.options)
    return size


def _add_scheduler(
    settings: dict[str, Any],
    scheduler: str | None,
    params: Mapping[str, Any] | None,
    epochs: int,
    configurations: int | None,
) -> None:
    """Put Orca's ``scheduler`` and ``scheduler_params`` into the experiment's settings."""
    if scheduler is None or scheduler.lower() == "fifo":
        if params:
            raise ConfigError("fit: scheduler_params given without a scheduler")
        return
    args = dict(params or {})
    # Ray's PBT trains one member per sampled configuration.
    if configurations is not None and "population_size" in _arguments(scheduler) and "population_size" not in args:
        args["population_size"] = configurations
    # Orca's examples give max_t; without it a trial's full budget is the epochs fit() was given.
    if not {"max_t", "max_budget", "R", "max_iter", "time_budget"} & set(args):
        accepted = _arguments(scheduler)
        key = next((k for k in ("max_t", "max_budget") if k in accepted), None)
        if key is not None:
            args[key] = epochs
    settings["scheduler"] = {"name": scheduler, "args": args}


def _trials_for(settings: Mapping[str, Any], configurations: int) -> int:
    """``max_trials`` for ``configurations`` sampled configurations (Ray's ``num_samples``)."""
    section = settings.get("scheduler")
    if section is None:
        return configurations
    from tunelab.schedulers import create_scheduler

    scheduler = create_scheduler(
        section["name"], mode=settings["mode"], space=settings["search_space"], **section["args"]
    )
    return scheduler.trials_for(configurations)


def _arguments(scheduler: str) -> set[str]:
    """The arguments a scheduler accepts (empty when the name is unknown: the config check reports it)."""
    from tunelab.schedulers import scheduler_arguments

    try:
        return set(scheduler_arguments(scheduler))
    except (ConfigError, KeyError):
        return set()
