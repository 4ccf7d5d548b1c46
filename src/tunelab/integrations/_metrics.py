"""Validation metrics AutoEstimator computes after every epoch, over numpy arrays.

A metric is a pure function ``(y_true, y_pred) -> float`` of the targets and the model's
raw outputs; ``mean_loss`` is the training loss averaged over the validation set, which
the framework computes. Names follow Orca's (``accuracy``, ``mse``, ``mae``, ``mean_loss``...).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tunelab.errors import ConfigError

MetricFunction = Callable[[np.ndarray, np.ndarray], float]


def _labels(y_pred: np.ndarray) -> np.ndarray:
    """Class labels from outputs: argmax of scores, or a 0.5 threshold for one output per sample."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim >= 2 and y_pred.shape[-1] > 1:
        return y_pred.argmax(axis=-1)
    return (y_pred.reshape(len(y_pred)) > 0.5).astype(np.int64)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true = np.asarray(y_true)
    if y_true.ndim >= 2 and y_true.shape[-1] > 1:  # one-hot targets
        y_true = y_true.argmax(axis=-1)
    return float(np.mean(_labels(y_pred) == y_true.reshape(len(y_true))))


def _residuals(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return np.asarray(y_pred, dtype=float).reshape(len(y_pred), -1) - np.asarray(y_true, dtype=float).reshape(
        len(y_true), -1
    )


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(_residuals(y_true, y_pred) ** 2))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(_residuals(y_true, y_pred))))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y = np.asarray(y_true, dtype=float).reshape(len(y_true), -1)
    total = float(np.sum((y - y.mean(axis=0)) ** 2))
    return 1.0 - float(np.sum(_residuals(y_true, y_pred) ** 2)) / total if total > 0 else 0.0


@dataclass(frozen=True)
class Metric:
    """A named metric: how to compute it (None for the framework's loss) and which way is better."""

    name: str
    function: MetricFunction | None
    mode: str


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", accuracy, "max"),
    "mse": Metric("mse", mse, "min"),
    "rmse": Metric("rmse", rmse, "min"),
    "mae": Metric("mae", mae, "min"),
    "r2": Metric("r2", r2, "max"),
    "mean_loss": Metric("mean_loss", None, "min"),
}
_ALIASES = {
    "acc": "accuracy",
    "loss": "mean_loss",
    "val_loss": "mean_loss",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "root_mean_squared_error": "rmse",
}


def resolve_metric(metric: str | MetricFunction, mode: str | None) -> Metric:
    """The metric to report and optimize; a callable needs ``metric_mode``."""
    if callable(metric):
        if mode not in ("min", "max"):
            raise ConfigError(f"metric_mode: a custom metric needs metric_mode 'min' or 'max', got {mode!r}")
        return Metric(getattr(metric, "__name__", "metric"), metric, mode)
    if not isinstance(metric, str):
        raise ConfigError(f"metric: expected a name such as 'accuracy' or a function, got {metric!r}")
    key = _ALIASES.get(metric.lower(), metric.lower())
    if key not in METRICS:
        close = difflib.get_close_matches(key, list(METRICS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"metric: unknown metric {metric!r}{hint} (known: {', '.join(METRICS)}, or a function)")
    found = METRICS[key]
    if mode is not None and mode not in ("min", "max"):
        raise ConfigError(f"metric_mode: expected 'min' or 'max', got {mode!r}")
    return Metric(found.name, found.function, mode or found.mode)
