"""KerasTuner's ``Objective``: which metric a search optimizes, and in which direction.

A string objective (``"val_accuracy"``) gets its direction the way KerasTuner infers it
(``keras_tuner.engine.metrics_tracking.infer_metric_direction``): ``val_`` and ``weighted_``
prefixes are dropped, losses and Keras metrics are minimized, the accuracy family, precision,
recall, AUC and the true-positive counts are maximized, and any other name is an error that
asks for an explicit ``Objective(name, direction)``. A list of objectives is KerasTuner's
``MultiObjective``: the sum of those to minimize minus the sum of those to maximize, minimized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tunelab.errors import ConfigError

__all__ = ["DefaultObjective", "MultiObjective", "Objective", "create_objective", "infer_metric_direction"]

_MAX_NAMES = frozenset(
    {
        "accuracy",
        "acc",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
        "true_positives",
        "true_negatives",
        "precision",
        "recall",
        "auc",
        "sensitivity_at_specificity",
        "specificity_at_sensitivity",
        # Keras metric class names (what ``keras.metrics.deserialize`` gives).
        "Accuracy",
        "BinaryAccuracy",
        "CategoricalAccuracy",
        "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy",
        "SparseTopKCategoricalAccuracy",
        "TruePositives",
        "TrueNegatives",
        "Precision",
        "Recall",
        "AUC",
        "SensitivityAtSpecificity",
        "SpecificityAtSensitivity",
    }
)

#: Losses and error metrics minimized without asking Keras (so no Keras import is needed for them).
_MIN_NAMES = frozenset(
    {
        "loss",
        "crossentropy",
        "ce",
        "mse",
        "mae",
        "mape",
        "msle",
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "root_mean_squared_error",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "kl_divergence",
        "kld",
        "poisson",
        "log_cosh",
        "logcosh",
        "huber",
        "cosine_similarity",
        "false_positives",
        "false_negatives",
    }
)


def infer_metric_direction(metric: str) -> str | None:
    """``"min"``, ``"max"``, or None when KerasTuner could not tell either."""
    name = metric
    if name.startswith("val_"):
        name = name[len("val_") :]
    if name.startswith("weighted_"):
        name = name[len("weighted_") :]
    if name in _MAX_NAMES:
        return "max"
    if name in _MIN_NAMES:
        return "min"
    try:
        import keras
    except ImportError:
        return None
    found = None
    for module in (keras.metrics, keras.losses):
        try:
            found = module.deserialize(name)
            break
        except (ValueError, TypeError):
            continue
    if found is None:
        return None
    resolved = getattr(found, "__name__", None) or type(found).__name__
    if resolved in _MAX_NAMES:
        return "max"
    return "min" if hasattr(keras.metrics, resolved) or hasattr(keras.losses, resolved) else None


class Objective:
    """The objective of a search: a metric's ``name`` and ``direction`` (``"min"`` or ``"max"``)."""

    def __init__(self, name: str, direction: str) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"Objective: name must be a metric name, got {name!r}")
        if direction not in ("min", "max"):
            raise ConfigError(f"Objective({name!r}): direction must be 'min' or 'max', got {direction!r}")
        self.name = name
        self.direction = direction

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        return self.name in logs

    def get_value(self, logs: Mapping[str, Any]) -> float:
        return float(logs[self.name])

    def better_than(self, a: float, b: float) -> bool:
        return (a > b and self.direction == "max") or (a < b and self.direction == "min")

    @property
    def mode(self) -> str:
        """tunelab's name for the direction."""
        return self.direction

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objective) and (self.name, self.direction) == (other.name, other.direction)

    def __hash__(self) -> int:
        return hash((self.name, self.direction))

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'


class DefaultObjective(Objective):
    """What a search without an objective minimizes: the number ``run_trial`` or ``HyperModel.fit`` returns."""

    def __init__(self) -> None:
        super().__init__("default_objective", "min")


class MultiObjective(Objective):
    """Several objectives as one, KerasTuner's way: the minimized ones' sum minus the maximized ones' sum."""

    def __init__(self, objectives: Sequence[Objective]) -> None:
        super().__init__("multi_objective", "min")
        self.objectives = list(objectives)
        self.name_to_direction = {objective.name: objective.direction for objective in self.objectives}

    def has_value(self, logs: Mapping[str, Any]) -> bool:
        return all(name in logs for name in self.name_to_direction)

    def get_value(self, logs: Mapping[str, Any]) -> float:
        total = 0.0
        for name, direction in self.name_to_direction.items():
            total += float(logs[name]) if direction == "min" else -float(logs[name])
        return total


def create_objective(objective: Any) -> Objective:
    """An :class:`Objective` from what a KerasTuner user passes: None, a name, an ``Objective`` or a list."""
    if objective is None:
        return DefaultObjective()
    if isinstance(objective, (list, tuple)):
        if not objective:
            raise ConfigError("objective: an empty list names no metric")
        return MultiObjective([create_objective(item) for item in objective])
    if isinstance(objective, Objective):
        return objective
    if hasattr(objective, "name") and hasattr(objective, "direction"):  # a real keras_tuner.Objective
        return Objective(str(objective.name), str(objective.direction))
    if not isinstance(objective, str):
        raise ConfigError(f"objective: expected a metric name or an Objective, got {objective!r}")
    direction = infer_metric_direction(objective)
    if direction is None:
        raise ConfigError(
            f"objective: could not infer the direction ('min' or 'max') of the metric {objective!r}; "
            f"give it as Objective({objective!r}, direction='min')"
        )
    return Objective(objective, direction)
