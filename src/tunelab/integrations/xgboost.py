"""An XGBoost callback that reports every boosting round to tunelab and stops when the trial should end.

>>> xgb.train(params, dtrain, num_boost_round=500, evals=[(dvalid, "validation")],
...           callbacks=[TunelabCallback("validation-logloss")])

Each round's scores are reported as an intermediate result (step = round), so schedulers
can stop the trial; the booster stops after the round in which ``tunelab.should_stop()``
turns true or the trial's budget (when a scheduler gives one) is reached. With the
scikit-learn API pass it as ``XGBClassifier(callbacks=[...])`` and fit with ``eval_set``
(whose sets are named ``validation_0``, ``validation_1``...).
"""

from __future__ import annotations

from typing import Any

import xgboost

from tunelab.integrations._boosting import report_round

__all__ = ["TunelabCallback"]


class TunelabCallback(xgboost.callback.TrainingCallback):
    """Reports ``metric`` (``"<eval name>-<metric name>"``; default the last one evaluated) after each round."""

    def __init__(self, metric: str | None = None) -> None:
        super().__init__()
        self.metric = metric

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list[Any]]]) -> bool:
        scores = {
            f"{data}-{name}": _last(values) for data, metrics in evals_log.items() for name, values in metrics.items()
        }
        return report_round(scores, self.metric, epoch, "TunelabCallback")


def _last(values: list[Any]) -> float:
    value = values[-1]
    return float(value[0] if isinstance(value, tuple) else value)  # xgboost.cv logs (mean, std)
