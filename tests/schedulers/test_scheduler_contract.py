"""The scheduler contract (:mod:`tunelab.testing.schedulers`) over every assessor and scheduler in the registry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tunelab.schedulers import SCHEDULERS, Combined, Decision, Outcome, Scheduler, Wait, create_scheduler
from tunelab.testing.schedulers import SPACE, SchedulerContract

#: Arguments that keep each one small enough to run to its end in a few dozen simulated trials.
ARGS: dict[str, dict[str, Any]] = {
    "fifo": {},
    "median": {"start_step": 2},
    "curvefitting": {"epoch_num": 9, "start_step": 3},
    "bandit": {"start_step": 2},
    "truncation": {"start_step": 2},
    "asha": {"max_t": 9, "grace_period": 1, "reduction_factor": 3, "brackets": 2},
    "hyperband": {"max_budget": 9, "min_budget": 1, "eta": 3},
    "hyperband-serial": {"max_budget": 9, "min_budget": 1, "eta": 3, "exec_mode": "serial"},
    "bohb": {"max_budget": 9, "min_budget": 1, "eta": 3, "min_points_in_model": 2},
    "pbt": {"population_size": 4, "perturbation_interval": 2, "max_t": 8},
    "moasha": {"max_t": 9, "grace_period": 1, "reduction_factor": 3, "brackets": 2},
    "moasha-crowding": {"max_t": 9, "grace_period": 1, "reduction_factor": 3, "tie_break": "crowding"},
    "mohyperband": {"max_t": 9, "grace_period": 1, "reduction_factor": 3},
    "momedian": {"start_step": 2},
}
#: Schedulers whose plan ends by itself (PBT: when every member reached max_t).
ENDS_BY_ITSELF = {"pbt"}
COMBINED = ["asha+median", "hyperband+truncation"]


def build(case: str, mode: str = "min") -> Scheduler:
    if "+" in case:
        scheduler, assessor = case.split("+")
        return Combined(build(scheduler, mode), build(assessor, mode))
    name = case.split("-")[0]
    return create_scheduler(name, mode=mode, seed=7, space=SPACE, **ARGS[case])


def test_every_registered_scheduler_is_covered() -> None:
    assert set(SCHEDULERS) <= {case.split("-")[0] for case in ARGS}


@pytest.mark.parametrize("case", ["median", "asha", "hyperband"])
def test_numpy_nan_is_no_value(case: str) -> None:
    """``np.float32('nan')`` is not a Python float; it must be skipped like ``float('nan')``, never recorded."""
    scheduler = build(case)
    action = scheduler.next_trial()
    assert not isinstance(action, Wait)
    scheduler.on_start(0, {"q": 0.5}, action)
    assert scheduler.on_result(0, 1, np.float32("nan")) is Decision.CONTINUE
    scheduler.on_end(0, Outcome.COMPLETED, np.float32("nan"))
    assert scheduler.trials[0].losses == [] and scheduler.trials[0].final_loss is None


def test_pbt_copies_no_member_without_a_result() -> None:
    """Every member of a generation reported NaN: none is a winner to copy, and the run says why it ends."""
    pbt = build("pbt")
    for number in range(4):
        action = pbt.next_trial()
        pbt.on_start(number, {"q": 0.1 * number}, action)
    for number in range(4):
        pbt.on_end(number, Outcome.COMPLETED, float("nan"))
    last = pbt.next_trial()
    assert isinstance(last, Wait) and "no member is left" in last.reason


class TestSchedulers(SchedulerContract):
    @pytest.fixture(params=[*ARGS, *COMBINED])
    def case(self, request: pytest.FixtureRequest) -> str:
        return request.param

    @pytest.fixture
    def make_scheduler(self, case: str, request: pytest.FixtureRequest):
        if case == "asha+median" and "shuffled" in request.node.name:
            # Storage does not record where a trial was stopped: replayed in number order, the median rule may
            # stop a restored trial at another step than it did live (its peers then had other results), and
            # ASHA then records it at rungs it never reached.
            request.applymarker(pytest.mark.xfail(reason="the stop point is not stored", strict=False))
        return lambda mode="min": build(case, mode)

    @pytest.fixture
    def ends_by_itself(self, case: str) -> bool:
        return case.split("-")[0] in ENDS_BY_ITSELF
