"""Restoring budget schedulers from stored trials (a resume after a crash).

A small engine (:class:`tunelab.testing.schedulers.SimulatedRun`) drives a scheduler; at
every point of its history a fresh scheduler is restored from what storage would hold there
(each trial's parameters, curve, end, budget, parent and checkpoint source) and must be in
the state of the one that ran on, and start the same trials from then on. These tests look
inside each scheduler's state; the contract every scheduler passes is in
``test_scheduler_contract.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tunelab import hp
from tunelab.schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    Combined,
    HyperbandScheduler,
    MedianStop,
    NewTrial,
    Outcome,
    PBTScheduler,
    Resume,
    Wait,
)
from tunelab.space import parse_search_space
from tunelab.testing.schedulers import SimulatedRun as Run
from tunelab.testing.schedulers import check_every_cut

SPACE = parse_search_space({"q": hp.uniform(0.0, 1.0)})


def hyperband_state(hb: HyperbandScheduler) -> Any:
    brackets = [
        (
            b.index,
            b.s,
            b.current,
            [(r.size, r.budget, list(r.to_start), r.fresh, sorted(r.members), r.results) for r in b.rungs],
        )
        for b in hb.brackets
    ]
    where = {n: (b.index, b.rungs.index(r)) for n, (b, r) in hb._where.items()}
    budgets = {n: v.budget for n, v in hb.trials.items()}
    return brackets, hb._opened, where, budgets


@pytest.mark.parametrize("exec_mode", ["parallelism", "serial"])
@pytest.mark.parametrize("order", ["oldest first", "shuffled"])
def test_hyperband_restored_anywhere_continues_its_brackets(exec_mode: str, order: str) -> None:
    rng = np.random.default_rng(3)
    draws = [int(x) for x in rng.integers(0, 1000, size=400)]
    pick = (lambda n: 0) if order == "oldest first" else (lambda n: draws[n * 7 % 400] % n)

    def make() -> HyperbandScheduler:
        return HyperbandScheduler(mode="min", max_budget=9, min_budget=1, eta=3, exec_mode=exec_mode)

    steps = check_every_cut(make, hyperband_state, concurrency=3, max_trials=40, order=pick)
    assert steps == 40


def test_hyperband_restored_after_the_tuner_ran_out_for_a_while() -> None:
    """A rung cut short by an exhausted tuner, then more configurations (a user added some): the next bracket."""

    def make() -> HyperbandScheduler:
        return HyperbandScheduler(mode="min", max_budget=9, min_budget=1, eta=3)

    live = Run(make(), concurrency=2, max_trials=30, configs=5)
    live.step()
    while live.scheduler.brackets[0].rungs[0].size == 9:
        live.step()
    assert live.scheduler.brackets[0].rungs[0].size == 5
    live.configs = None
    while not any(isinstance(t.plan, NewTrial) and t.plan.budget == 3 for t in live.trials.values()):
        live.step()
    resumed = live.resumed(make())
    assert hyperband_state(resumed.scheduler) == hyperband_state(live.scheduler)
    assert resumed.finish() == live.finish()


def test_hyperband_promotions_after_restore_continue_the_right_parents() -> None:
    hb = HyperbandScheduler(mode="min", max_budget=4, min_budget=1, eta=2, exec_mode="serial")
    losses = {0: 0.4, 1: 0.1, 2: 0.3, 3: 0.2}
    for n, loss in losses.items():
        hb.restore(n, {"id": n}, [(1, loss)], Outcome.COMPLETED, loss, NewTrial(budget=1))
    hb.restore(4, {"id": 1}, [], None, None, Resume(1, {"id": 1}, 2, checkpoint_from=1))  # interrupted promotion
    action = hb.next_trial()
    assert isinstance(action, Resume) and (action.parent, action.budget, action.checkpoint_from) == (3, 2, 3)
    hb.on_start(5, action.params, action)
    assert isinstance(hb.next_trial(), Wait)  # rung 1 waits for the re-run of trial 4
    hb.on_end(4, Outcome.COMPLETED, 0.05)
    hb.on_end(5, Outcome.COMPLETED, 0.15)
    final = hb.next_trial()
    assert isinstance(final, Resume) and (final.parent, final.budget) == (4, 4)


def test_trials_without_a_stored_budget_belong_to_no_bracket() -> None:
    """Databases of earlier versions have no budgets: those trials are replayed, the brackets start afresh."""
    hb = HyperbandScheduler(mode="min", max_budget=4, min_budget=1, eta=2)
    hb.restore(0, {"id": 0}, [(1, 0.5)], Outcome.COMPLETED, 0.5, NewTrial())
    assert hb.brackets == [] and hb.trials[0].final_loss == 0.5
    assert hb.next_trial() == NewTrial(budget=1, note="bracket 0 (s=2), rung 0, budget 1")


def test_bohb_restored_keeps_its_brackets_and_its_model_and_proposes_the_same() -> None:
    def make() -> BOHBScheduler:
        return BOHBScheduler(SPACE, mode="min", max_budget=9, min_budget=1, eta=3, min_points_in_model=2, seed=0)

    def state(bohb: BOHBScheduler) -> Any:
        return hyperband_state(bohb), bohb._observations()

    check_every_cut(make, state, concurrency=2, max_trials=30)
    proposals = Run(make(), concurrency=2, max_trials=30)
    while proposals.step():
        pass
    assert proposals.scheduler.model_proposals > 0  # the model, not only random draws, was replayed


def test_combined_passes_the_plan_to_both() -> None:
    def make() -> Combined:
        return Combined(HyperbandScheduler(mode="min", max_budget=9, eta=3), MedianStop(mode="min"))

    check_every_cut(make, lambda c: hyperband_state(c.scheduler), concurrency=2, max_trials=20)


def asha_state(asha: ASHAScheduler) -> Any:
    return asha.rungs, asha._bracket_of, asha.rng.bit_generator.state


@pytest.mark.parametrize("brackets", [1, 2])
def test_asha_restored_anywhere_has_the_same_rungs(brackets: int) -> None:
    def make() -> ASHAScheduler:
        return ASHAScheduler(mode="min", max_t=9, grace_period=1, reduction_factor=3, brackets=brackets, seed=4)

    check_every_cut(make, asha_state, concurrency=3, max_trials=25)


def test_asha_stopped_trial_is_not_recorded_past_its_stop() -> None:
    asha = ASHAScheduler(mode="min", max_t=9, grace_period=1, reduction_factor=3)
    asha.restore(0, {}, [(1, 0.1), (2, 0.1)], Outcome.COMPLETED, 0.1, NewTrial(budget=9))
    # Stopped at rung 1; it reported up to resource 3 before it ended, which the live scheduler never heard.
    asha.restore(1, {}, [(1, 0.9), (2, 0.9), (3, 0.9)], Outcome.STOPPED, 0.9, NewTrial(budget=9))
    assert asha.rungs[0] == {1: {0: 0.1, 1: 0.9}, 3: {}}
    assert asha.trials[1].resources == [1]


def pbt_state(pbt: PBTScheduler) -> Any:
    return (
        pbt.latest,
        pbt._member_of,
        pbt.generation,
        [
            (type(a).__name__, a.budget, getattr(a, "parent", None), getattr(a, "checkpoint_from", None))
            for a in pbt._to_start
        ],
        pbt._next_member,
        pbt.exploits,
        pbt.rng.bit_generator.state,
        {n: (v.budget, v.outcome, v.final_loss) for n, v in pbt.trials.items()},
    )


@pytest.mark.parametrize("concurrency", [2, 4])
def test_pbt_restored_anywhere_continues_its_generations(concurrency: int) -> None:
    def make() -> PBTScheduler:
        return PBTScheduler(
            SPACE, mode="min", population_size=4, perturbation_interval=2, max_t=8, quantile_fraction=0.25, seed=7
        )

    steps = check_every_cut(make, pbt_state, concurrency=concurrency, max_trials=100)
    assert steps == 16  # 4 members x 4 generations


def test_pbt_restore_takes_the_stored_exploit_over_the_replayed_one() -> None:
    """Without a seed the replayed exploit may pick another winner; the trial that ran says which it copied."""
    pbt = PBTScheduler(SPACE, mode="min", population_size=4, perturbation_interval=2, max_t=4, quantile_fraction=0.25)
    for n, q in enumerate([0.1, 0.2, 0.3, 0.4]):
        pbt.restore(n, {"q": q}, [(2, q)], Outcome.COMPLETED, q, NewTrial(budget=2))
    pbt.restore(4, {"q": 0.25}, [], None, None, Resume(3, {"q": 0.25}, 4, checkpoint_from=0))
    assert pbt.exploits == [(3, 0)] and pbt._member_of[4] == 3 and pbt.latest[3] == 4
    pending = [pbt.next_trial() for _ in range(3)]
    assert sorted(a.parent for a in pending) == [0, 1, 2] and all(a.checkpoint_from == a.parent for a in pending)
    assert isinstance(pbt.next_trial(), Wait)
    assert math.isclose(pbt.trials[4].params["q"], 0.25)
