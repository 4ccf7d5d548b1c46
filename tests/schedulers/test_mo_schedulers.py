"""Multi-objective schedulers: MO-ASHA's promotions and MO median stopping against hand-computed cases; resume."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tunelab.errors import ConfigError
from tunelab.schedulers import Decision, NewTrial, Outcome, create_scheduler
from tunelab.schedulers._moasha import MOASHAScheduler, mo_passes_rung, rung_order
from tunelab.schedulers._momedian import MOMedianStop, median_point
from tunelab.testing.schedulers import check_every_cut

TWO = {"acc": "max", "size": "min"}


# ---------------------------------------------------------------------- the rung rule
def test_first_arrival_always_continues() -> None:
    assert mo_passes_rung((5.0, 5.0), [], 3, "hypervolume")


def test_a_dominated_arrival_stops() -> None:
    assert not mo_passes_rung((2.0, 2.0), [(1.0, 1.0)], 2, "hypervolume")
    assert mo_passes_rung((0.5, 0.5), [(1.0, 1.0)], 2, "hypervolume")  # keeps floor(2 / 2) = 1


def test_the_top_floor_n_over_eta_continue() -> None:
    # floor(n / eta): with eta 3 the second arrival stops however good it is, the third and fourth
    # continue only as the best at the rung (ceil would keep 1 of 2 and 2 of 4: half the rung)
    assert not mo_passes_rung((0.0, 0.0), [(1.0, 1.0)], 3, "hypervolume")
    assert mo_passes_rung((0.0, 0.0), [(1.0, 1.0), (2.0, 2.0)], 3, "hypervolume")
    assert mo_passes_rung((0.0, 0.0), [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)], 3, "hypervolume")
    assert not mo_passes_rung((1.5, 1.5), [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)], 3, "hypervolume")
    # 33 / 2.2 is 15, though the division gives 14.999999999999998: the fifteenth of 33 continues
    assert mo_passes_rung((13.5, 13.5), [(k, k) for k in range(32)], 2.2, "hypervolume")


def test_an_arrival_dominating_its_whole_rung_continues() -> None:
    # Syne Tune 0.16's MOASHA stops this one: it reads the arriving trial's rank at the position of
    # the worst-ordered trial (see benchmarks/results/multiobjective.md)
    recorded = [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]
    assert mo_passes_rung((0.0, 0.0), recorded, 3, "hypervolume")
    assert mo_passes_rung((0.0, 0.0), recorded, 3, "crowding")
    assert not mo_passes_rung((1.5, 1.5), recorded, 3, "hypervolume")


def test_two_trade_offs_tie_and_the_arrival_wins() -> None:
    # with two points the default reference point gives both the same exclusive volume (0.1 each here)
    assert mo_passes_rung((0.5, 3.0), [(1.0, 1.0)], 2, "hypervolume")


def test_hypervolume_tie_break_by_hand() -> None:
    # all three on the front; reference (1.1, 1.1): the extremes own 0.09 each, (0.9, 0.9) only 0.01
    recorded = [(0.0, 1.0), (1.0, 0.0)]
    assert rung_order(np.array([*recorded, (0.9, 0.9)]), "hypervolume", 2) == [0, 1, 2]
    assert not mo_passes_rung((0.9, 0.9), recorded, 3, "hypervolume")  # keeps floor(3 / 3) = 1
    assert not mo_passes_rung((0.9, 0.9), recorded, 1.2, "hypervolume")  # keeps floor(2.5) = 2
    # with a dominated trial recorded too, (0.9, 0.9) is third of four and 1.2 keeps floor(3.33) = 3
    assert mo_passes_rung((0.9, 0.9), [*recorded, (1.05, 1.05)], 1.2, "hypervolume")


def test_crowding_and_hypervolume_tie_breaks_differ_by_hand() -> None:
    # one front A(0,1) B(0.2,0.2) C(0.8,0.15) D(1,0), reference (1.1, 1.1)
    rows = np.array([[0.0, 1.0], [0.2, 0.2], [0.8, 0.15], [1.0, 0.0]])
    # exclusive volumes: B 0.6 x 0.8 = 0.48, A 0.2 x 0.1 = 0.02, D 0.1 x 0.15 = 0.015, C 0.2 x 0.05 = 0.01
    assert rung_order(rows, "hypervolume") == [1, 0, 3, 2]
    # crowding: A and D infinite, B 0.8 + 0.85 = 1.65, C 0.8 + 0.2 = 1.0
    assert rung_order(rows, "crowding") == [0, 3, 1, 2]
    assert mo_passes_rung(rows[1], rows[[0, 2, 3]], 2, "hypervolume")
    assert not mo_passes_rung(rows[1], rows[[0, 2, 3]], 2, "crowding")


def test_ranks_come_before_tie_breaks() -> None:
    rows = np.array([[3.0, 3.0], [0.0, 5.0], [5.0, 0.0], [1.0, 1.0]])
    order = rung_order(rows, "hypervolume")
    assert order[-1] == 0  # the only dominated row is last, whatever its crowding


# ---------------------------------------------------------------------- the scheduler
def _start(scheduler: MOASHAScheduler, number: int) -> None:
    action = scheduler.next_trial()
    assert isinstance(action, NewTrial) and action.budget == scheduler.max_t
    scheduler.on_start(number, {"q": number}, action)


def test_moasha_promotes_by_pareto_rank_at_each_rung() -> None:
    scheduler = create_scheduler("moasha", objectives=TWO, max_t=9, grace_period=1, reduction_factor=3)
    assert isinstance(scheduler, MOASHAScheduler) and sorted(scheduler.vector_rungs[0]) == [1, 3]
    for number in range(4):
        _start(scheduler, number)
    # rung 1: (acc, size) -> losses (-acc, size)
    assert scheduler.on_result(0, 1, {"acc": 0.5, "size": 10}) is Decision.CONTINUE  # first arrival
    assert scheduler.on_result(1, 1, {"acc": 0.4, "size": 20}) is Decision.STOP  # dominated by trial 0
    assert scheduler.on_result(2, 1, {"acc": 0.9, "size": 5}) is Decision.CONTINUE  # dominates both
    # trial 3 trades off with trial 2, but 4 at the rung keep floor(4/3) = 1; reference (-0.345, 32.5):
    # trial 2 owns 0.555 x 25 = 13.875 of the front's volume, trial 3 only 0.05 x 2.5 = 0.125
    assert scheduler.on_result(3, 1, {"acc": 0.95, "size": 30}) is Decision.STOP
    assert scheduler.vector_rungs[0][1] == {0: (-0.5, 10.0), 1: (-0.4, 20.0), 2: (-0.9, 5.0), 3: (-0.95, 30.0)}
    # between rungs nothing is decided; at rung 3 the first arrival continues
    assert scheduler.on_result(0, 2, {"acc": 0.6, "size": 10}) is Decision.CONTINUE
    assert scheduler.on_result(0, 3, {"acc": 0.6, "size": 10}) is Decision.CONTINUE
    assert scheduler.on_result(2, 3, {"acc": 0.55, "size": 11}) is Decision.STOP  # dominated by trial 0 there


def test_unusable_reports_are_ignored() -> None:
    scheduler = create_scheduler("moasha", objectives=TWO, max_t=9, grace_period=1, reduction_factor=3)
    _start(scheduler, 0)
    assert scheduler.on_result(0, 1, {"acc": math.nan, "size": 1}) is Decision.CONTINUE
    assert scheduler.on_result(0, 1, {"acc": 0.5}) is Decision.CONTINUE  # an objective missing
    assert scheduler.on_result(0, 1, None) is Decision.CONTINUE
    assert scheduler.vector_rungs[0][1] == {} and scheduler.trials[0].vectors == []


def test_one_objective_schedulers_refuse_several() -> None:
    with pytest.raises(ConfigError, match="scheduler 'asha' ranks one objective; with several use moasha"):
        create_scheduler("asha", objectives=TWO)
    assert create_scheduler("asha", objectives={"acc": "max"}).mode == "max"
    assert create_scheduler("fifo", objectives=TWO).objectives == TWO
    with pytest.raises(ConfigError, match="tie_break must be one of 'hypervolume', 'crowding'"):
        create_scheduler("moasha", objectives=TWO, tie_break="random")


def test_mohyperband_has_every_bracket() -> None:
    scheduler = create_scheduler("mohyperband", objectives=TWO, max_t=27, grace_period=1, reduction_factor=3)
    assert scheduler.brackets == 3  # type: ignore[attr-defined]
    assert [sorted(r) for r in scheduler.vector_rungs] == [[1, 3, 9], [3, 9], [9]]  # type: ignore[attr-defined]
    assert "3 brackets" in scheduler.describe()


def _two_objective_curve(q: float, resource: int) -> Any:
    """A trade-off: small q learns fast but stays big; large q is small and learns slowly."""
    if q > 0.8:
        return None
    return {"acc": 1.0 - (1.0 - q) / resource - 0.2 * q, "size": 10.0 * (1.0 - q) + 0.1 * resource}


def _rungs(scheduler: Any) -> Any:
    return (scheduler.vector_rungs, scheduler._bracket_of, {n: v.vectors for n, v in scheduler.trials.items()})


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("moasha", {"max_t": 9, "grace_period": 1, "reduction_factor": 3}),
        ("moasha", {"max_t": 9, "grace_period": 1, "reduction_factor": 3, "tie_break": "crowding"}),
        ("mohyperband", {"max_t": 9, "grace_period": 1, "reduction_factor": 3}),
    ],
)
def test_rungs_are_restored_exactly_at_every_cut(name: str, args: dict[str, Any]) -> None:
    steps = check_every_cut(
        lambda: create_scheduler(name, seed=3, objectives=TWO, **args),
        _rungs,
        concurrency=3,
        max_trials=20,
        values=_two_objective_curve,
    )
    assert steps > 5


def test_restored_rungs_match_after_stops() -> None:
    """A trial stopped at a rung heard nothing after its stop: the replay ends there, as ASHA's does."""
    live = create_scheduler("moasha", seed=0, objectives=TWO, max_t=9, grace_period=1, reduction_factor=3)
    curves = {
        0: [(1, {"acc": 0.5, "size": 10}), (2, {"acc": 0.6, "size": 10}), (3, {"acc": 0.7, "size": 10})],
        1: [(1, {"acc": 0.4, "size": 20}), (2, {"acc": 0.9, "size": 1}), (3, {"acc": 0.95, "size": 1})],
    }
    for number, curve in curves.items():
        live.on_start(number, {"q": number}, NewTrial(budget=9))
        stopped = False
        for resource, value in curve:  # the engine stops listening at a STOP
            if live.on_result(number, resource, value) is Decision.STOP:
                stopped = True
                break
        live.on_end(number, Outcome.STOPPED if stopped else Outcome.COMPLETED, curve[-1][1])
    resumed = create_scheduler("moasha", seed=0, objectives=TWO, max_t=9, grace_period=1, reduction_factor=3)
    for number, curve in curves.items():
        outcome = live.trials[number].outcome
        resumed.restore(number, {"q": number}, curve, outcome, curve[-1][1], NewTrial(budget=9))
    assert resumed.vector_rungs == live.vector_rungs  # type: ignore[attr-defined]
    assert 1 not in resumed.vector_rungs[0][3]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- MO median stopping
def _median(**args: Any) -> MOMedianStop:
    scheduler = create_scheduler("momedian", objectives=TWO, **args)
    assert isinstance(scheduler, MOMedianStop)
    return scheduler


def _complete(scheduler: MOMedianStop, number: int, curve: list[dict[str, float]]) -> None:
    scheduler.on_start(number, {"q": number}, NewTrial())
    for resource, value in enumerate(curve, 1):
        scheduler.on_result(number, resource, value)
    scheduler.on_end(number, Outcome.COMPLETED, curve[-1])


def test_median_point_by_hand() -> None:
    curves = [np.array([[1.0, 4.0], [3.0, 2.0]]), np.array([[2.0, 2.0]]), np.array([[6.0, 0.0]])]
    assert median_point(curves).tolist() == [2.0, 2.0]  # means (2, 3), (2, 2), (6, 0)


def test_a_trial_dominated_by_the_median_point_stops() -> None:
    scheduler = _median(start_step=2)
    _complete(scheduler, 0, [{"acc": 0.5, "size": 10}, {"acc": 0.7, "size": 10}])
    _complete(scheduler, 1, [{"acc": 0.6, "size": 4}, {"acc": 0.8, "size": 4}])
    _complete(scheduler, 2, [{"acc": 0.1, "size": 2}, {"acc": 0.2, "size": 2}])
    # running means at 2: losses (-0.6, 10), (-0.7, 4), (-0.15, 2): median point (-0.6, 4)
    scheduler.on_start(3, {"q": 3}, NewTrial())
    assert scheduler.on_result(3, 1, {"acc": 0.3, "size": 8}) is Decision.CONTINUE  # before start_step
    assert scheduler.on_result(3, 2, {"acc": 0.4, "size": 8}) is Decision.STOP  # (-0.4, 8) worse in both
    scheduler.on_start(4, {"q": 4}, NewTrial())
    scheduler.on_result(4, 1, {"acc": 0.3, "size": 1})
    assert scheduler.on_result(4, 2, {"acc": 0.4, "size": 1}) is Decision.CONTINUE  # smaller than the median


def test_median_waits_for_enough_peers() -> None:
    scheduler = _median(start_step=1, min_samples_required=2)
    _complete(scheduler, 0, [{"acc": 0.9, "size": 1}])
    scheduler.on_start(1, {"q": 1}, NewTrial())
    assert scheduler.on_result(1, 1, {"acc": 0.1, "size": 9}) is Decision.CONTINUE  # one peer only


def test_median_state_is_restored_at_every_cut() -> None:
    check_every_cut(
        lambda: create_scheduler("momedian", seed=3, objectives=TWO, start_step=2),
        lambda s: {n: (v.vectors, v.outcome) for n, v in s.trials.items()},
        concurrency=3,
        max_trials=16,
        values=_two_objective_curve,
    )
