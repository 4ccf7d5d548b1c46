"""What the XGBoost and LightGBM callbacks share: pick the metric, report the round, decide to stop."""

from __future__ import annotations

from collections.abc import Mapping

from tunelab.errors import ConfigError


def pick(scores: Mapping[str, float], metric: str | None, where: str) -> tuple[str, float]:
    """The ``"<data>-<metric>"`` score to report: ``metric``, or the last one evaluated when None."""
    if not scores:
        raise ConfigError(f"{where}: no evaluation results; give the training an evaluation set (evals / valid_sets)")
    if metric is None:
        key = next(reversed(list(scores)))
        return key, scores[key]
    if metric not in scores:
        raise ConfigError(f"{where}: metric {metric!r} was not evaluated; available: {', '.join(scores)}")
    return metric, scores[metric]


def report_round(scores: Mapping[str, float], metric: str | None, step: int, where: str) -> bool:
    """Report one round (every score, the chosen one as the value); True when training should end now."""
    from tunelab import trial

    key, value = pick(scores, metric, where)
    trial.report(value, step=step, **{k: v for k, v in scores.items() if k != key})
    budget = trial.get_budget()
    return trial.should_stop() or (budget is not None and step + 1 >= budget)
