"""Assessors' decisions on hand-made curves: bad curves stop, good ones do not, nothing before start_step."""

from __future__ import annotations

import numpy as np
import pytest

from tunelab.schedulers import (
    BanditStop,
    CurveFitting,
    Decision,
    MedianStop,
    NewTrial,
    Outcome,
    Scheduler,
    TruncationStop,
    extrapolate,
)


def feed(rule: Scheduler, number: int, curve: list[float], *, end: bool = True) -> list[Decision]:
    """Run one trial's curve through a rule (steps 0, 1, ...); returns the decisions."""
    rule.on_start(number, {}, NewTrial())
    decisions = [rule.on_result(number, step + 1, v) for step, v in enumerate(curve)]
    if end:
        rule.on_end(number, Outcome.COMPLETED, curve[-1])
    return decisions


def good(n: int = 10, base: float = 0.1) -> list[float]:
    return [base + 1.0 / (t + 1) for t in range(n)]


def test_median_stops_a_clearly_bad_curve_and_keeps_a_good_one() -> None:
    rule = MedianStop(mode="min", start_step=3)
    for i in range(3):
        feed(rule, i, good(base=0.1 * i))
    bad = feed(rule, 10, [5.0] * 10, end=False)
    assert Decision.STOP in bad
    assert bad.index(Decision.STOP) == 2  # resource 3 == start_step: the first check
    fine = feed(rule, 11, good(base=0.0), end=False)
    assert Decision.STOP not in fine


def test_median_never_stops_before_start_step() -> None:
    rule = MedianStop(mode="min", start_step=5)
    feed(rule, 0, good())
    decisions = feed(rule, 1, [100.0] * 10, end=False)
    assert decisions[:4] == [Decision.CONTINUE] * 4
    assert decisions[4] is Decision.STOP


def test_median_in_max_mode_and_only_completed_trials_count_by_default() -> None:
    rule = MedianStop(mode="max", start_step=1)
    feed(rule, 0, [0.9] * 5, end=False)  # running: not counted by NNI's rule
    assert feed(rule, 1, [0.1] * 5, end=False) == [Decision.CONTINUE] * 5
    rule.on_end(0, Outcome.COMPLETED, 0.9)
    assert feed(rule, 2, [0.1] * 5, end=False)[0] is Decision.STOP
    ray_like = MedianStop(mode="max", start_step=1, include_running=True, min_samples_required=2)
    feed(ray_like, 0, [0.9] * 5, end=False)
    assert feed(ray_like, 1, [0.1] * 5, end=False) == [Decision.CONTINUE] * 5  # one sample is not enough
    assert feed(ray_like, 2, [0.05] * 5, end=False)[0] is Decision.STOP


def test_median_interval_checks_only_every_n_steps() -> None:
    rule = MedianStop(mode="min", start_step=2, interval=3)
    feed(rule, 0, good())
    decisions = feed(rule, 1, [9.0] * 10, end=False)
    assert decisions.index(Decision.STOP) == 1  # resource 2
    rule2 = MedianStop(mode="min", start_step=1, interval=4)
    feed(rule2, 0, good())
    assert feed(rule2, 1, [9.0] * 10, end=False).index(Decision.STOP) == 0  # resources 1, 5, 9


def test_bandit_and_truncation() -> None:
    bandit = BanditStop(mode="max", start_step=2, bandit_factor=0.5)
    feed(bandit, 0, [0.8, 0.9, 0.9])
    assert feed(bandit, 1, [0.3, 0.4, 0.4], end=False)[1] is Decision.STOP  # 0.4 < 0.5 * 0.9
    assert Decision.STOP not in feed(bandit, 2, [0.5, 0.6, 0.6], end=False)
    trunc = TruncationStop(mode="min", start_step=1, truncation_percentage=0.5)
    for i, level in enumerate([1.0, 2.0, 3.0]):
        feed(trunc, i, [level] * 3)
    assert feed(trunc, 9, [10.0] * 3, end=False)[0] is Decision.STOP  # worst half of 4
    assert feed(trunc, 8, [0.5] * 3, end=False) == [Decision.CONTINUE] * 3


def test_curve_extrapolation_follows_saturating_curves() -> None:
    x = np.arange(1, 9)
    y = 0.9 - 0.5 * np.power(x, -0.8)
    assert extrapolate(x, y, 50) == pytest.approx(0.9 - 0.5 * 50**-0.8, abs=0.02)
    y2 = 0.8 - 0.6 * np.exp(-0.3 * x)
    assert extrapolate(x, y2, 40) == pytest.approx(0.8, abs=0.03)
    assert extrapolate(np.array([1, 2]), np.array([0.3, 0.4]), 10) == 0.4


def test_curvefitting_stops_a_curve_heading_below_threshold_not_a_good_one() -> None:
    rule = CurveFitting(mode="max", epoch_num=30, start_step=4, threshold=0.95)
    x = np.arange(1, 31)
    feed(rule, 0, list(0.9 - 0.5 * np.power(x, -1.0)))
    slow_bad = list(0.5 - 0.3 * np.power(x, -1.0))
    decisions = feed(rule, 1, slow_bad[:10], end=False)
    assert decisions[:3] == [Decision.CONTINUE] * 3  # fewer than start_step results
    assert decisions[3] is Decision.STOP
    promising = list(0.95 - 0.7 * np.power(x, -0.7))
    assert Decision.STOP not in feed(rule, 2, promising[:10], end=False)


def test_curvefitting_waits_for_a_completed_trial() -> None:
    rule = CurveFitting(mode="min", epoch_num=10, start_step=3)
    assert Decision.STOP not in feed(rule, 0, [5.0, 4.0, 3.9, 3.8, 3.8], end=False)
