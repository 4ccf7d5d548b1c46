"""Learning-curve extrapolation (NNI's Curvefitting, Auptimizer's curve_fitting policy).

A trial's curve so far is fitted with a few saturating families (power law, exponential,
log-power, and the flat last value as a fallback), each weighted by how well it fits; the
weighted prediction at ``epoch_num`` is compared with the best result of the trials that
completed. A trial predicted to end below ``threshold`` of that best is stopped. The core,
:func:`extrapolate`, is a pure function over arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from tunelab.schedulers._base import Decision, Outcome, TrialView
from tunelab.schedulers._rules import _Periodic
from tunelab.tuners._checks import check_float, check_int


def _pow3(x: np.ndarray, c: float, a: float, alpha: float) -> np.ndarray:
    return c - a * np.power(x, -alpha)


def _exp3(x: np.ndarray, c: float, a: float, b: float) -> np.ndarray:
    return c - a * np.exp(-b * x)


def _logpow(x: np.ndarray, c: float, a: float, b: float) -> np.ndarray:
    return c / (1.0 + np.power(x / np.exp(a), -b))


_FAMILIES: tuple[tuple[Callable[..., np.ndarray], Callable[[np.ndarray], list[float]]], ...] = (
    (_pow3, lambda y: [y[-1], y[-1] - y[0], 0.5]),
    (_exp3, lambda y: [y[-1], y[-1] - y[0], 0.3]),
    (_logpow, lambda y: [y[-1], 0.5, 1.0]),
)


def extrapolate(x: np.ndarray, y: np.ndarray, target: float) -> float:
    """The value the curve ``y(x)`` is predicted to reach at ``x = target`` (a weighted ensemble)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3:
        return float(y[-1])
    from scipy.optimize import curve_fit

    span = float(np.ptp(y)) or max(abs(float(y[-1])), 1e-12)
    low, high = float(np.min(y)) - 2 * span, float(np.max(y)) + 2 * span
    predictions, errors = [float(y[-1])], [float(np.std(y[len(y) // 2 :])) + 1e-12]
    for family, guess in _FAMILIES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                coef, _ = curve_fit(family, x, y, p0=guess(y), maxfev=800)
                fitted = family(x, *coef)
                predicted = float(family(np.array([target], dtype=float), *coef)[0])
        except (RuntimeError, ValueError, TypeError, OverflowError, FloatingPointError):
            continue
        if not np.all(np.isfinite(fitted)) or not np.isfinite(predicted) or not low <= predicted <= high:
            continue
        predictions.append(predicted)
        errors.append(float(np.sqrt(np.mean((fitted - y) ** 2))) + 1e-12)
    weights = 1.0 / np.square(np.array(errors))
    return float(np.dot(weights, predictions) / weights.sum())


class CurveFitting(_Periodic):
    """Stop a trial whose extrapolated result at ``epoch_num`` is below ``threshold`` of the best completed one.

    NNI's arguments: ``epoch_num`` (the resource a trial ends at), ``start_step`` (results
    needed before the first check, default 6), ``threshold`` (0.95) and ``gap`` (check
    every ``gap`` results). "Below threshold" is ``predicted < best - (1 - threshold) * |best|``
    when maximizing (``best * threshold`` for positive values, as NNI) and the mirror
    image when minimizing.
    """

    name = "curvefitting"

    def __init__(
        self,
        *,
        mode: str = "min",
        seed: int | None = None,
        epoch_num: int = 20,
        start_step: int = 6,
        threshold: float = 0.95,
        gap: int = 1,
    ) -> None:
        label = "scheduler 'curvefitting'"
        super().__init__(mode=mode, seed=seed, start_step=check_int(label, "start_step", start_step, 1), interval=gap)
        self.epoch_num = check_int(label, "epoch_num", epoch_num, 1)
        self.threshold = check_float(label, "threshold", threshold, 0.0, 1.0, open_low=True)
        self.gap = self.interval

    def _behind(self, view: TrialView, resource: int) -> bool:
        finals = [
            t.final_loss for t in self.trials.values() if t.outcome is Outcome.COMPLETED and t.final_loss is not None
        ]
        if not finals or resource >= self.epoch_num:
            return False
        best = self.value(min(finals))
        predicted = extrapolate(
            np.array(view.resources), np.array([self.value(v) for v in view.losses]), self.epoch_num
        )
        slack = (1.0 - self.threshold) * abs(best)
        if self.mode == "max":
            return predicted < best - slack
        return predicted > best + slack

    def _decide(self, view: TrialView, resource: int) -> Decision:
        if len(view.resources) < self.start_step:
            return Decision.CONTINUE
        return super()._decide(view, resource)
