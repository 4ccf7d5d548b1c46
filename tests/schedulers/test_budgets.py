"""Budget schedulers' decisions without an engine: rungs, promotion order, BOHB's model, PBT's exploit/explore."""

from __future__ import annotations

import numpy as np
import pytest

from tunelab import hp
from tunelab.schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    Decision,
    HyperbandScheduler,
    NewTrial,
    Outcome,
    PBTScheduler,
    Resume,
    Wait,
    bracket_plan,
    exploit_pairs,
    passes_rung,
    perturb,
    rung_levels,
)
from tunelab.space import parse_search_space


def test_rung_levels_and_cutoff() -> None:
    assert rung_levels(1, 3, 27) == [1, 3, 9]
    assert rung_levels(2, 2, 20) == [2, 4, 8, 16]
    assert rung_levels(1, 3, 1) == []
    assert passes_rung(5.0, [], 3)
    assert passes_rung(1.0, [1.0, 2.0, 3.0, 4.0], 4)
    assert not passes_rung(3.0, [1.0, 2.0, 3.0, 4.0], 4)


def test_asha_promotion_order_at_rungs() -> None:
    asha = ASHAScheduler(mode="min", max_t=9, grace_period=1, reduction_factor=3)
    assert asha.next_trial() == NewTrial(budget=9)
    losses = {0: 0.5, 1: 0.9, 2: 0.1, 3: 0.95, 4: 0.05}
    decisions = {}
    for n, loss in losses.items():
        asha.on_start(n, {}, NewTrial(budget=9))
        decisions[n] = asha.on_result(n, 1, loss)
    # The first arrival always passes; later ones must be in the top third of those before them.
    assert decisions == {
        0: Decision.CONTINUE,
        1: Decision.STOP,
        2: Decision.CONTINUE,
        3: Decision.STOP,
        4: Decision.CONTINUE,
    }
    assert asha.on_result(0, 2, 0.4) is Decision.CONTINUE  # between rungs: nothing to decide
    assert asha.on_result(0, 3, 0.4) is Decision.CONTINUE  # first at rung 3
    assert asha.on_result(2, 3, 0.6) is Decision.STOP  # worse than the one before it
    assert asha.on_result(4, 3, 0.01) is Decision.CONTINUE


def test_asha_max_mode_and_brackets() -> None:
    asha = ASHAScheduler(mode="max", max_t=27, grace_period=1, reduction_factor=3, brackets=2, seed=0)
    assert [sorted(r) for r in asha.rungs] == [[1, 3, 9], [3, 9]]
    asha.on_start(0, {}, NewTrial(budget=27))
    asha.on_start(1, {}, NewTrial(budget=27))
    for n in (0, 1):
        asha._bracket_of[n] = 0
    assert asha.on_result(0, 1, 0.9) is Decision.CONTINUE
    assert asha.on_result(1, 1, 0.1) is Decision.STOP


def test_hyperband_bracket_plan_matches_the_paper() -> None:
    assert bracket_plan(4, 4, 81, 3) == [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    assert bracket_plan(0, 4, 81, 3) == [(5, 81)]
    assert bracket_plan(2, 2, 4, 2) == [(4, 1), (2, 2), (1, 4)]


def run_bracket(hb: HyperbandScheduler, losses: dict[int, float]) -> list:
    """Drive a scheduler like the engine does with instant trials; returns the actions in order."""
    actions, number, running = [], 0, []
    for _ in range(40):
        action = hb.next_trial()
        actions.append(action)
        if isinstance(action, Wait):
            if not running:
                break
            n = running.pop(0)
            hb.on_end(n, Outcome.COMPLETED, losses[n])
            continue
        params = {"id": number} if isinstance(action, NewTrial) else action.params
        hb.on_start(number, params, action)
        root = params["id"]
        losses[number] = losses.get(root, 1.0) / (2 if isinstance(action, Resume) else 1)
        running.append(number)
        number += 1
    return actions


def test_hyperband_promotes_the_best_of_a_complete_rung_in_order() -> None:
    hb = HyperbandScheduler(mode="min", max_budget=4, min_budget=1, eta=2, exec_mode="serial")
    losses = {0: 0.4, 1: 0.1, 2: 0.3, 3: 0.2}
    actions = run_bracket(hb, losses)
    starts = [a for a in actions if not isinstance(a, Wait)]
    assert [a.budget for a in starts[:7]] == [1, 1, 1, 1, 2, 2, 4]
    promoted = [a for a in starts[:7] if isinstance(a, Resume)]
    assert [a.parent for a in promoted[:2]] == [1, 3]  # best first
    assert all(a.checkpoint_from == a.parent for a in promoted)
    assert promoted[2].params == {"id": 1}
    assert isinstance(actions[4], Wait) and "waits for rung 0" in actions[4].reason


def test_hyperband_parallel_mode_opens_the_next_bracket_instead_of_waiting() -> None:
    hb = HyperbandScheduler(mode="min", max_budget=4, min_budget=1, eta=2)
    for n in range(4):
        action = hb.next_trial()
        hb.on_start(n, {"id": n}, action)
    action = hb.next_trial()
    assert isinstance(action, NewTrial) and action.budget == 2  # bracket s=1 starts at budget 2
    assert len(hb.brackets) == 2


def test_hyperband_drops_failed_trials_and_shrinks_on_unused_actions() -> None:
    hb = HyperbandScheduler(mode="min", max_budget=4, min_budget=1, eta=2, exec_mode="serial")
    for n in range(3):
        hb.on_start(n, {"id": n}, hb.next_trial())
    hb.on_unused(hb.next_trial())  # the tuner had only three configurations
    hb.on_end(0, Outcome.FAILED, None)
    hb.on_end(1, Outcome.COMPLETED, 0.5)
    hb.on_end(2, Outcome.COMPLETED, 0.7)
    action = hb.next_trial()
    assert isinstance(action, Resume) and action.parent == 1


def test_bohb_proposes_from_the_model_near_good_points() -> None:
    space = parse_search_space({"x": hp.uniform(0, 1), "y": hp.uniform(0, 1)})
    bohb = BOHBScheduler(space, mode="min", max_budget=9, min_budget=1, eta=3, random_fraction=0.0, seed=0)
    rng = np.random.default_rng(0)
    for n in range(20):
        params = {"x": float(rng.random()), "y": float(rng.random())}
        bohb.on_start(n, params, NewTrial(budget=1))
        bohb.on_end(n, Outcome.COMPLETED, (params["x"] - 0.2) ** 2 + (params["y"] - 0.7) ** 2)
    proposals = [bohb._propose(1) for _ in range(10)]
    assert all(p is not None for p in proposals)
    dist = np.mean([np.hypot(p["x"] - 0.2, p["y"] - 0.7) for p in proposals])
    assert dist < 0.25
    assert bohb.model_proposals == 10
    fresh = BOHBScheduler(space, mode="min", max_budget=9, random_fraction=0.0)
    assert fresh._propose(1) is None  # no model yet: the tuner proposes


def test_pbt_pure_cores() -> None:
    assert exploit_pairs({1: 0.1, 2: 0.5, 3: 0.9, 4: 0.3}, 0.25, np.random.default_rng(0)) == {3: 1}
    assert exploit_pairs({1: 0.1}, 0.25, np.random.default_rng(0)) == {}
    space = parse_search_space(
        {"lr": hp.loguniform(1e-4, 1e-1), "layers": hp.randint(1, 5), "act": hp.choice(["relu", "tanh", "gelu"])}
    )
    rng = np.random.default_rng(0)
    for _ in range(50):
        params = {"lr": 0.09, "layers": 4, "act": "tanh"}
        new = perturb(space, params, rng, resample_probability=0.0, factors=(1.2, 0.8))
        space.validate(new)
        assert new["lr"] in (pytest.approx(0.1), pytest.approx(0.072))
        assert new["act"] in ("relu", "gelu")
        resampled = perturb(space, params, rng, resample_probability=1.0, factors=(1.2, 0.8), names=["lr"])
        assert resampled["layers"] == 4 and resampled["act"] == "tanh"
        space.validate(resampled)


def test_pbt_generations_exploit_the_best_and_end_at_max_t() -> None:
    space = parse_search_space({"lr": hp.uniform(0.1, 1.0)})
    pbt = PBTScheduler(
        space, mode="max", population_size=4, perturbation_interval=2, max_t=4, quantile_fraction=0.25, seed=0
    )
    first = [pbt.next_trial() for _ in range(4)]
    assert all(isinstance(a, NewTrial) and a.budget == 2 for a in first)
    for n, action in enumerate(first):
        pbt.on_start(n, {"lr": 0.1 * (n + 1)}, action)
    assert isinstance(pbt.next_trial(), Wait)
    for n in range(4):
        pbt.on_end(n, Outcome.COMPLETED, 0.1 * (n + 1))
    nxt = [pbt.next_trial() for _ in range(4)]
    assert all(isinstance(a, Resume) and a.budget == 4 for a in nxt)
    loser = next(a for a in nxt if a.parent == 0)
    assert loser.checkpoint_from == 3 and loser.params != {"lr": 0.1}
    assert all(a.checkpoint_from == a.parent for a in nxt if a.parent != 0)
    for k, action in enumerate(nxt):
        pbt.on_start(4 + k, action.params, action)
        pbt.on_end(4 + k, Outcome.COMPLETED, 0.5)
    done = pbt.next_trial()
    assert isinstance(done, Wait) and "max_t" in done.reason


@pytest.mark.parametrize(("configurations", "trials"), [(27, 40), (30, 43), (39, 57), (1, 1)])
def test_hyperband_trials_for_configurations(configurations: int, trials: int) -> None:
    # max_budget 27, eta 3: brackets of 27 configurations (40 trials), then 12 (17 trials), 6, 4.
    assert HyperbandScheduler(max_budget=27, eta=3).trials_for(configurations) == trials
    hb = HyperbandScheduler(max_budget=27, eta=3, exec_mode="serial")
    fresh, running, number = 0, [], 0
    while number < trials:
        action = hb.next_trial()
        if isinstance(action, Wait):
            hb.on_end(running.pop(0), Outcome.COMPLETED, 1.0 / (1 + number))
            continue
        fresh += isinstance(action, NewTrial)
        hb.on_start(number, {"id": number}, action)
        running.append(number)
        number += 1
    assert fresh == configurations


def test_pbt_trials_for_counts_every_generation() -> None:
    space = {"lr": hp.uniform(0.0, 1.0)}
    assert PBTScheduler(space, population_size=4, perturbation_interval=2, max_t=5).trials_for(4) == 12
