"""BigDL Orca's ``Evaluator`` metrics (``bigdl.orca.automl.metrics``), over numpy arrays.

Same names, formulas and ``multioutput`` rules as Orca's (``raw_values``: one value per
output column; ``uniform_average``: their mean), without scikit-learn or pandas. Percentage
errors add Orca's ``EPSILON`` to denominators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tunelab.errors import ConfigError, did_you_mean

__all__ = [
    "Accuracy",
    "EPSILON",
    "Evaluator",
    "MAE",
    "MAPE",
    "MDAPE",
    "ME",
    "MPE",
    "MSE",
    "MSLE",
    "MSPE",
    "R2",
    "RMSE",
    "sMAPE",
    "sMDAPE",
]


EPSILON = 1e-10
_MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")


def _standardize(y_true: Any, y_pred: Any, multioutput: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    if y_true is None or y_pred is None:
        raise ConfigError("Evaluator: y_true and y_pred are required, got None")
    if hasattr(y_true, "to_numpy"):
        y_true = y_true.to_numpy()
    if hasattr(y_pred, "to_numpy"):
        y_pred = y_pred.to_numpy()
    t: Any = np.asarray(y_true, dtype=np.float64)
    p: Any = np.asarray(y_pred, dtype=np.float64)
    shape = t.shape[1:]
    t = t.reshape((-1, 1)) if t.ndim == 1 else t.reshape((t.shape[0], -1))
    p = p.reshape((-1, 1)) if p.ndim == 1 else p.reshape((p.shape[0], -1))
    if t.shape[0] != p.shape[0]:
        raise ConfigError(
            f"Evaluator: y_true and y_pred have different numbers of samples ({t.shape[0]}!={p.shape[0]})"
        )
    if t.shape[1] != p.shape[1]:
        raise ConfigError(
            f"Evaluator: y_true and y_pred have different numbers of outputs ({t.shape[1]}!={p.shape[1]})"
        )
    if multioutput not in _MULTIOUTPUT:
        raise ConfigError(f"Evaluator: multioutput must be one of {', '.join(_MULTIOUTPUT)}, got {multioutput!r}")
    return t, p, shape


def _per_output(errors: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., Any]:
    def metric(y_true: Any, y_pred: Any, multioutput: str = "raw_values") -> Any:
        t, p, shape = _standardize(y_true, y_pred, multioutput)
        values = errors(t, p)
        if multioutput == "raw_values":
            return values.reshape(shape)
        if multioutput == "variance_weighted":
            weights = t.var(axis=0)
            return float(np.average(values, weights=weights)) if weights.sum() > 0 else float(np.mean(values))
        return float(np.mean(values))

    return metric


def _r2(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    total = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    residual = ((t - p) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - residual / total
    # scikit-learn's rule for a constant target: 1 if predicted exactly, else 0
    return np.where(total > 0, score, np.where(residual == 0, 1.0, 0.0))


def _msle(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    if (t < 0).any() or (p < 0).any():
        raise ConfigError("Evaluator: msle needs non-negative y_true and y_pred")
    return np.mean((np.log1p(t) - np.log1p(p)) ** 2, axis=0)


ME = _per_output(lambda t, p: np.mean(t - p, axis=0))
MAE = _per_output(lambda t, p: np.mean(np.abs(t - p), axis=0))
_MSE = _per_output(lambda t, p: np.mean((t - p) ** 2, axis=0))
MSLE = _per_output(_msle)
R2 = _per_output(_r2)
MPE = _per_output(lambda t, p: np.mean(100 * (t - p) / (t + EPSILON), axis=0))
MAPE = _per_output(lambda t, p: np.mean(100 * np.abs((t - p) / (t + EPSILON)), axis=0))
MSPE = _per_output(lambda t, p: 100 * np.mean(np.square((t - p) / (t + EPSILON)), axis=0))
sMAPE = _per_output(lambda t, p: np.mean(100 * np.abs(t - p) / (np.abs(t) + np.abs(p) + EPSILON), axis=0))
MDAPE = _per_output(lambda t, p: np.median(100 * np.abs((t - p) / (t + EPSILON)), axis=0))
sMDAPE = _per_output(lambda t, p: np.median(100 * np.abs(t - p) / (np.abs(t) + np.abs(p) + EPSILON), axis=0))


def MSE(y_true: Any, y_pred: Any, multioutput: str = "uniform_average") -> Any:
    return _MSE(y_true, y_pred, multioutput)


def RMSE(y_true: Any, y_pred: Any, multioutput: str = "raw_values") -> Any:
    return np.sqrt(MSE(y_true, y_pred, multioutput=multioutput))


def Accuracy(y_true: Any, y_pred: Any, multioutput: Any = None) -> float:
    """Share of matching labels; probabilities become labels (0.5 threshold, or the argmax per row)."""
    t = np.squeeze(np.asarray(y_true))
    p = np.squeeze(np.asarray(y_pred))
    if np.any(p != p.astype(int)):
        p = np.where(p > 0.5, 1, 0) if p.ndim == 1 else np.argmax(p, axis=1)
    if t.ndim > 1:  # one-hot targets
        t = np.argmax(t, axis=1)
    return float(np.mean(t.reshape(-1) == p.reshape(-1)))


class Evaluator:
    """Orca's ``Evaluator``: ``Evaluator.evaluate("smape", y_true, y_pred)``, ``get_metric_mode("r2")``."""

    metrics_func: dict[str, Callable[..., Any]] = {
        "me": ME,
        "mae": MAE,
        "mse": MSE,
        "rmse": RMSE,
        "msle": MSLE,
        "r2": R2,
        "mpe": MPE,
        "mape": MAPE,
        "mspe": MSPE,
        "smape": sMAPE,
        "mdape": MDAPE,
        "smdape": sMDAPE,
        "accuracy": Accuracy,
    }
    max_mode_metrics = ("r2", "accuracy")

    @staticmethod
    def evaluate(metric: str, y_true: Any, y_pred: Any, multioutput: str = "raw_values") -> Any:
        Evaluator.check_metric(metric)
        result = Evaluator.metrics_func[metric](y_true, y_pred, multioutput=multioutput)
        if isinstance(result, np.ndarray) and result.shape == (1,):
            return result[0]
        return result

    @staticmethod
    def check_metric(metric: str) -> None:
        if not metric:
            raise ConfigError(f"metric: got an invalid metric name {metric!r}")
        if metric not in Evaluator.metrics_func:
            raise ConfigError(
                f"metric: {metric!r} is not supported{did_you_mean(str(metric), Evaluator.metrics_func)}"
                f" (Orca's metrics: {', '.join(Evaluator.metrics_func)})"
            )

    @staticmethod
    def get_metric_mode(metric: str) -> str:
        Evaluator.check_metric(metric)
        return "max" if metric in Evaluator.max_mode_metrics else "min"
