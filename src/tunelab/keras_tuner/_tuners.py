"""KerasTuner's built-in tuners and oracles, each a tunelab tuner or scheduler under KerasTuner's arguments.

=========================  ==================================================================
KerasTuner                 tunelab
=========================  ==================================================================
``RandomSearch``           the ``random`` tuner
``BayesianOptimization``   the ``gp`` tuner (Matern-5/2 ARD, log-EI); ``num_initial_points``
                           is its ``n_initial_points``
``Hyperband``              the ``hyperband`` scheduler, epochs as the budget (``max_epochs``,
                           ``factor``), ``hyperband_iterations`` rounds of every bracket
``GridSearch``             the ``grid`` tuner
``SklearnTuner``           any oracle; a trial fits a scikit-learn model and scores it by
                           cross-validation (or on given validation data)
=========================  ==================================================================
"""

from __future__ import annotations

import inspect
import json
import math
import pickle
import warnings
from typing import Any

import numpy as np

from tunelab.errors import ConfigError, did_you_mean
from tunelab.keras_tuner._callbacks import load_weights
from tunelab.keras_tuner._oracle import Oracle, check_count
from tunelab.keras_tuner._trial import Trial
from tunelab.keras_tuner._tuner import TUNER_KEYWORDS, Tuner
from tunelab.schedulers import bracket_plan, max_bracket

__all__ = [
    "BayesianOptimization",
    "BayesianOptimizationOracle",
    "GridSearch",
    "GridSearchOracle",
    "Hyperband",
    "HyperbandOracle",
    "RandomSearch",
    "RandomSearchOracle",
    "SklearnTuner",
]

#: In a Hyperband trial's checkpoint folder: how many epochs its weights have been trained for.
EPOCHS_FILE = "epochs.json"
#: In a SklearnTuner trial's folder: its model, fitted on all the data.
MODEL_FILE = "model.pickle"


class RandomSearchOracle(Oracle):
    default_tuner = "random"


class GridSearchOracle(Oracle):
    default_tuner = "grid"


#: KerasTuner's defaults of ``BayesianOptimization``'s UCB settings, which tunelab's GP has no use for.
UCB_DEFAULTS = {"alpha": 1e-4, "beta": 2.6}


class BayesianOptimizationOracle(Oracle):
    """tunelab's GP. ``alpha`` and ``beta`` are KerasTuner's UCB settings: checked and kept, but tunelab's GP
    fits its noise level and uses log expected improvement, so they do not change what it proposes; a value
    other than KerasTuner's default gives one warning saying so."""

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        alpha: float = 1e-4,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ) -> None:
        if num_initial_points is not None:
            check_count("num_initial_points", num_initial_points, 1)
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name}: must be a number >= 0, got {value!r}")
        given = [
            f"{name}={value!r}" for name, value in (("alpha", alpha), ("beta", beta)) if value != UCB_DEFAULTS[name]
        ]
        if given:
            warnings.warn(
                f"BayesianOptimization: {' and '.join(given)} change nothing: tunelab's GP fits its own "
                "observation noise (KerasTuner's alpha) and proposes by log expected improvement, not by an "
                "upper confidence bound (beta)",
                UserWarning,
                stacklevel=2,
            )
        args = {} if num_initial_points is None else {"n_initial_points": num_initial_points}
        kwargs.setdefault("tuner", {"name": "gp", "args": args})
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,  # allow_new_entries, tune_new_entries, the failure limits, storage
        )
        self.num_initial_points, self.alpha, self.beta = num_initial_points, alpha, beta


class HyperbandOracle(Oracle):
    """Hyperband with epochs as the budget: brackets of successive halving from 1 epoch up to ``max_epochs``."""

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int = 1,
        seed: int | None = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ) -> None:
        check_count("max_epochs", max_epochs, 1)
        check_count("factor", factor, 2)
        check_count("hyperband_iterations", hyperband_iterations, 1)
        kwargs.setdefault("tuner", "random")
        kwargs.setdefault(
            "scheduler", {"name": "hyperband", "args": {"max_budget": max_epochs, "eta": factor, "min_budget": 1}}
        )
        super().__init__(
            objective=objective,
            max_trials=hyperband_trials(max_epochs, factor, hyperband_iterations),
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,  # allow_new_entries, tune_new_entries, the failure limits, storage
        )
        self.max_epochs, self.factor, self.hyperband_iterations = max_epochs, factor, hyperband_iterations


def hyperband_trials(max_epochs: int, factor: int, iterations: int) -> int:
    """How many trials ``iterations`` rounds of every Hyperband bracket run (promotions count as trials)."""
    s_max = max_bracket(max_epochs, 1, factor)
    per_round = sum(n for s in range(s_max, -1, -1) for n, _ in bracket_plan(s, s_max, max_epochs, factor))
    return per_round * iterations


def _oracle_tuner(oracle_class: type[Oracle]) -> Any:
    """A Tuner class whose constructor takes ``oracle_class``'s arguments and the Tuner's own, as KerasTuner's do."""

    class _Tuner(Tuner):
        def __init__(self, hypermodel: Any = None, *args: Any, **kwargs: Any) -> None:
            oracle = kwargs.pop("oracle", None)
            tuner_args = {k: kwargs.pop(k) for k in list(kwargs) if k in _TUNER_ONLY}
            if oracle is None:
                known = [*_arguments(oracle_class), *_arguments(Oracle)]
                for key in kwargs:
                    if key not in known:
                        hint = did_you_mean(key, [*known, *_TUNER_ONLY])
                        raise ConfigError(f"{type(self).__name__}: unknown argument {key!r}{hint}")
                oracle = oracle_class(*args, **kwargs)
            elif args or kwargs:
                raise ConfigError(f"{type(self).__name__}: give the search's arguments to the oracle, or no oracle")
            super().__init__(oracle=oracle, hypermodel=hypermodel, **tuner_args)

    return _Tuner


def _arguments(cls: type) -> list[str]:
    init = next(vars(c)["__init__"] for c in cls.__mro__ if "__init__" in vars(c))
    return [name for name in inspect.signature(init).parameters if name not in ("self", "kwargs")]


#: The arguments a built-in tuner passes on to :class:`Tuner` (the rest are its oracle's).
_TUNER_ONLY = tuple(k for k in TUNER_KEYWORDS if k not in ("oracle", "hypermodel"))


class RandomSearch(_oracle_tuner(RandomSearchOracle)):  # type: ignore[misc]
    """Random search: ``RandomSearch(hypermodel, objective, max_trials, seed=None, ...)``."""


class GridSearch(_oracle_tuner(GridSearchOracle)):  # type: ignore[misc]
    """Every combination of the (finite) space, in order: ``GridSearch(hypermodel, objective, max_trials, ...)``."""


class BayesianOptimization(_oracle_tuner(BayesianOptimizationOracle)):  # type: ignore[misc]
    """tunelab's GP: ``BayesianOptimization(hypermodel, objective, max_trials, num_initial_points, alpha, beta)``."""


class Hyperband(_oracle_tuner(HyperbandOracle)):  # type: ignore[misc]
    """Hyperband over epochs: ``Hyperband(hypermodel, objective, max_epochs, factor, hyperband_iterations)``.

    A trial trains up to its bracket's epochs; a promoted configuration continues from the
    weights of its parent's best epoch (``initial_epoch`` set), as KerasTuner's does.
    """

    def _build_and_fit(self, trial: Trial, *args: Any, **kwargs: Any) -> Any:
        hp = trial.hyperparameters
        model = self._try_build(hp)
        checkpoint = None if trial.trial_dir is None else trial.trial_dir / "checkpoint"
        initial = 0
        if checkpoint is not None and (checkpoint / EPOCHS_FILE).is_file() and load_weights(model, checkpoint):
            # A promotion: the checkpoint folder is a copy of the parent's.
            initial = int(json.loads((checkpoint / EPOCHS_FILE).read_text())["epochs"])
        epochs = trial.budget or self.oracle.max_epochs
        if initial >= epochs:
            initial = 0
        kwargs["epochs"], kwargs["initial_epoch"] = epochs, initial
        history = self.hypermodel.fit(hp, model, *args, **kwargs)
        if checkpoint is not None:
            checkpoint.mkdir(parents=True, exist_ok=True)
            (checkpoint / EPOCHS_FILE).write_text(json.dumps({"epochs": epochs}))
        return history


class SklearnTuner(Tuner):
    """Tune a scikit-learn model: ``SklearnTuner(oracle, hypermodel, scoring=None, metrics=None, cv=None)``.

    A trial builds the model, fits it on each of ``cv``'s folds (default: 5-fold
    ``KFold(shuffle=True, random_state=1)``, as KerasTuner) and scores it with ``scoring``
    (default: the model's ``score``); the objective is ``"score"``, maximized, unless the oracle
    says otherwise. ``search(X, y, sample_weight=None, groups=None)``.
    """

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any,
        scoring: Any = None,
        metrics: Any = None,
        cv: Any = None,
        **kwargs: Any,
    ) -> None:
        if oracle.objective.name == "default_objective":
            from tunelab.keras_tuner._objective import Objective

            oracle.objective = Objective("score", "max")
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        self.scoring = scoring
        self.sklearn_metrics = list(metrics or [])
        self.cv = cv

    def run_trial(self, trial: Trial, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> Any:
        from sklearn import model_selection

        cv = self.cv if self.cv is not None else model_selection.KFold(5, shuffle=True, random_state=1)
        x_arr, y_arr = np.asarray(X), np.asarray(y)
        metrics: dict[str, list[float]] = {"score": []}
        for name in self._metric_names():
            metrics[name] = []
        for train, test in cv.split(x_arr, y_arr, groups):
            model = self.hypermodel.build(trial.hyperparameters)
            fit_kwargs = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)[train]}
            model.fit(x_arr[train], y_arr[train], **fit_kwargs)
            if self.scoring is None:
                score = model.score(x_arr[test], y_arr[test])
            else:
                from sklearn.metrics import get_scorer

                score = get_scorer(self.scoring)(model, x_arr[test], y_arr[test])
            metrics["score"].append(float(score))
            predictions = model.predict(x_arr[test]) if self.sklearn_metrics else None
            for metric in self.sklearn_metrics:
                metrics[metric.__name__].append(float(metric(y_arr[test], predictions)))
        model = self.hypermodel.build(trial.hyperparameters)  # kept: fitted on all the data, as KerasTuner's
        model.fit(x_arr, y_arr, **({} if sample_weight is None else {"sample_weight": np.asarray(sample_weight)}))
        if trial.trial_dir is not None:
            with open(trial.trial_dir / MODEL_FILE, "wb") as handle:
                pickle.dump(model, handle)
        return {name: float(np.mean(values)) for name, values in metrics.items()}

    def _metric_names(self) -> list[str]:
        return [metric.__name__ for metric in self.sklearn_metrics]

    def load_model(self, trial: Trial) -> Any:
        """The trial's model fitted on all the data (unpickled from its folder)."""
        path = None if trial.trial_dir is None else trial.trial_dir / MODEL_FILE
        if path is None or not path.is_file():
            raise ConfigError(f"trial {trial.trial_id} kept no model (it did not finish)")
        with open(path, "rb") as handle:
            return pickle.load(handle)
