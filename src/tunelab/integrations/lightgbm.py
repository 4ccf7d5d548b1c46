"""A LightGBM callback that reports every boosting round to tunelab and stops when the trial should end.

>>> lgb.train(params, train_set, num_boost_round=500, valid_sets=[valid_set], valid_names=["validation"],
...           callbacks=[tunelab_callback("validation-binary_logloss")])

Each round's scores are reported as an intermediate result (step = round), so schedulers
can stop the trial; training ends after the round in which ``tunelab.should_stop()``
turns true or the trial's budget (when a scheduler gives one) is reached. Works with the
scikit-learn API too: ``LGBMClassifier().fit(..., eval_set=..., callbacks=[...])``
(sets named ``valid_0``...).
"""

from __future__ import annotations

from typing import Any

import lightgbm

from tunelab.integrations._boosting import report_round

__all__ = ["TunelabCallback", "tunelab_callback"]


class TunelabCallback:
    """Reports ``metric`` (``"<valid name>-<metric name>"``; default the last one evaluated) after each round."""

    order = 25  # before LightGBM's own early stopping (30), so its last round is reported
    before_iteration = False

    def __init__(self, metric: str | None = None) -> None:
        self.metric = metric

    def __call__(self, env: Any) -> None:
        scores = {f"{entry[0]}-{entry[1]}": float(entry[2]) for entry in env.evaluation_result_list or []}
        if report_round(scores, self.metric, env.iteration - env.begin_iteration, "tunelab_callback"):
            raise lightgbm.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


def tunelab_callback(metric: str | None = None) -> TunelabCallback:
    """LightGBM's spelling (``lgb.early_stopping(...)``, ``lgb.log_evaluation(...)``) of :class:`TunelabCallback`."""
    return TunelabCallback(metric)
