"""Multi-objective tuners: the contract for each, and their cores against hand-computed cases."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from tunelab import pareto
from tunelab.errors import ConfigError, TunerError
from tunelab.space import SearchSpace, parse_search_space
from tunelab.testing.mo_tuners import MO_TUNER_CASES, ZDT1_SPACE, MultiObjectiveTunerContract
from tunelab.tuners import Tuner, create_tuner
from tunelab.tuners._auto import choose_multi
from tunelab.tuners._mogp import chebyshev
from tunelab.tuners._motpe import good_weights, greedy_hssp, n_good, split_multi
from tunelab.tuners._nsga import das_dennis, elite, niche_select, reference_directions


class TestMultiObjectiveTuners(MultiObjectiveTunerContract):
    @pytest.fixture(params=[pytest.param(case, id=case[0]) for case in MO_TUNER_CASES])
    def case(self, request: pytest.FixtureRequest) -> tuple[str, str, dict[str, Any]]:
        return request.param

    @pytest.fixture
    def make_tuner(self, case: tuple[str, str, dict[str, Any]]) -> Any:
        _, name, args = case

        def factory(space: Any, *, objectives: dict[str, str], seed: int | None = 0) -> Tuner:
            parsed = space if isinstance(space, SearchSpace) else parse_search_space(space)
            return create_tuner(name, parsed, seed=seed, objectives=objectives, **args)

        return factory

    @pytest.fixture
    def beats_random_search(self, case: tuple[str, str, dict[str, Any]]) -> bool:
        # NSGA-III's niching is meant for 4 or more objectives; on 2-objective ZDT1 with 8 trials a
        # generation it measured no better than random in 40 trials (see benchmarks/results/multiobjective.md)
        return case[0] not in ("random", "nsga3")


# ---------------------------------------------------------------------- registry and auto
@pytest.mark.parametrize("name", ["tpe", "gp", "evolution", "anneal", "grid"])
def test_one_objective_tuners_refuse_several_naming_the_tuner(name: str) -> None:
    with pytest.raises(TunerError, match=rf"^{name} optimises one objective; use motpe, nsga2, mogp, random or auto$"):
        create_tuner(name, ZDT1_SPACE, objectives={"a": "max", "b": "min"})


def test_one_objective_is_the_mode_form() -> None:
    tuner = create_tuner("tpe", ZDT1_SPACE, objectives={"accuracy": "max"})
    assert tuner.mode == "max" and tuner.objectives is None
    with pytest.raises(TunerError, match="give either mode='min' or objectives"):
        create_tuner("motpe", ZDT1_SPACE, mode="min", objectives={"a": "max", "b": "min"})


def test_objectives_are_checked_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^objectives\.latency: expected 'min' or 'max', got 'fast'$"):
        create_tuner("motpe", ZDT1_SPACE, objectives={"acc": "max", "latency": "fast"})
    with pytest.raises(ConfigError, match="^objectives: expected a mapping"):
        create_tuner("motpe", ZDT1_SPACE, objectives=["acc", "latency"])


@pytest.mark.parametrize(
    ("n_objectives", "max_trials", "expected"),
    [(2, 100, "mogp"), (3, 200, "mogp"), (2, 500, "motpe"), (2, None, "motpe"), (4, 100, "nsga3")],
)
def test_auto_chooses_among_the_multi_objective_tuners(
    n_objectives: int, max_trials: int | None, expected: str
) -> None:
    name, _, reason = choose_multi(parse_search_space(ZDT1_SPACE), n_objectives, max_trials, 1)
    assert name == expected and reason
    objectives = {f"f{j}": "min" for j in range(n_objectives)}
    tuner = create_tuner("auto", ZDT1_SPACE, objectives=objectives, max_trials=max_trials)
    assert tuner.chosen == expected and tuner.inner.objectives == objectives  # type: ignore[attr-defined]


def test_auto_with_choices_only_takes_motpe() -> None:
    space = parse_search_space(
        {"a": {"_type": "choice", "_value": [1, 2, 3]}, "b": {"_type": "choice", "_value": ["x", "y"]}}
    )
    assert choose_multi(space, 2, 50, 1)[0] == "motpe"


# ---------------------------------------------------------------------- MOTPE's split
def test_good_set_size_is_optunas_rule() -> None:
    assert [n_good(n, 0.1, 25) for n in (1, 10, 11, 100, 500)] == [1, 1, 2, 10, 25]


def test_motpe_models_parameters_one_at_a_time_with_three_objectives() -> None:
    two = {"a": "min", "b": "min"}
    three = {**two, "c": "min"}
    assert create_tuner("motpe", ZDT1_SPACE, objectives=two).multivariate is True
    assert create_tuner("motpe", ZDT1_SPACE, objectives=three).multivariate is False
    assert create_tuner("motpe", ZDT1_SPACE, objectives=three, multivariate=True).multivariate is True
    assert create_tuner("motpe", ZDT1_SPACE, objectives=two, multivariate=False).multivariate is False
    with pytest.raises(TunerError, match=r"^motpe: multivariate must be true, false or null, but got 'yes'$"):
        create_tuner("motpe", ZDT1_SPACE, objectives=two, multivariate="yes")


def test_motpe_three_objectives_suggestions_are_reproducible_and_in_space() -> None:
    objectives = {"a": "min", "b": "min", "c": "min"}
    suggested = []
    for _ in range(2):
        tuner = create_tuner("motpe", ZDT1_SPACE, seed=3, objectives=objectives, n_startup_jobs=5)
        params_seen = []
        for _ in range(12):
            trial_id, params = tuner.suggest()
            x = [params[key] for key in sorted(params)]
            tuner.observe(trial_id, [x[0], 1.0 - x[0], sum(x[1:])])
            params_seen.append(params)
        suggested.append(params_seen)
    assert suggested[0] == suggested[1]
    assert all(0.0 <= value <= 1.0 for params in suggested[0] for value in params.values())


def test_split_takes_whole_fronts_then_the_best_hypervolume_subset() -> None:
    # front 0: rows 0, 1, 2 (2-D); front 1: row 3; a failed trial (NaN) is never good
    losses = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [1.0, 1.0], [np.nan, np.nan]])
    violations = np.zeros(5)
    below, above = split_multi(losses, violations, 2)
    # from front 0, two rows: (0.5, 0.5) has the largest box first; then either extreme adds the same
    assert 1 in below and len(below) == 2 and 3 in above and 4 in above
    below, above = split_multi(losses, violations, 4)
    assert below.tolist() == [0, 1, 2, 3] and above.tolist() == [4]


def test_split_puts_feasible_trials_first() -> None:
    losses = np.array([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]])
    below, _ = split_multi(losses, np.array([1.0, 0.0, 0.0]), 1)
    assert below.tolist() == [1]  # the dominating row 0 is infeasible


def test_greedy_hssp_is_optimal_on_small_fronts_for_two_objectives() -> None:
    rng = np.random.default_rng(0)
    x = np.sort(rng.random(7))
    front = np.column_stack([x, 1 - np.sqrt(x)])
    reference = np.array([1.1, 1.1])
    for k in (1, 2, 3):
        chosen = greedy_hssp(front, k, reference)
        best = max(pareto.hypervolume(front[list(c)], reference) for c in itertools.combinations(range(7), k))
        # greedy is a (1 - 1/e) approximation; on a convex 2-D front it is within a few percent
        assert pareto.hypervolume(front[chosen], reference) >= 0.95 * best
    assert greedy_hssp(front, 1, reference).tolist() == [
        int(np.argmax(np.prod(reference - front, axis=1)))
    ]  # the largest box first


def test_greedy_hssp_three_objectives_prefers_spread_points() -> None:
    front = np.array([[0.0, 0.0, 1.0], [0.0, 0.01, 0.99], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    chosen = greedy_hssp(front, 3, np.array([1.1, 1.1, 1.1]))
    assert not {0, 1} <= set(chosen.tolist())  # the near-duplicate pair is not both taken


def test_good_weights_follow_hypervolume_contributions() -> None:
    losses = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.55, 0.55]])
    weights = good_weights(losses, np.zeros(4))
    assert weights[3] == pytest.approx(1e-12)  # dominated: no contribution
    assert weights.max() == 1.0 and np.all(weights[:3] > 0.01)
    assert good_weights(losses, np.array([0, 0, 0, 1.0]))[3] == pytest.approx(1e-12)
    assert good_weights(losses[:, :1], np.zeros(4)).tolist() == [1.0] * 4


# ---------------------------------------------------------------------- NSGA
def test_das_dennis_counts_and_sums() -> None:
    directions = das_dennis(3, 4)
    assert len(directions) == 15 and np.allclose(directions.sum(axis=1), 1.0)
    assert len(das_dennis(4, 3)) == 20
    assert len(reference_directions(4, 50)) == 35  # 4 divisions; 5 would give 56 > 50
    assert reference_directions(1, 10).tolist() == [[1.0]]


def test_das_dennis_matches_optuna() -> None:
    module = pytest.importorskip("optuna.samplers._nsgaiii._elite_population_selection_strategy")
    theirs = module._generate_default_reference_point(4, 3)
    ours = das_dennis(4, 3)
    assert sorted(map(tuple, np.round(theirs / 3, 9))) == sorted(map(tuple, np.round(ours, 9)))


def test_elite_by_crowding_keeps_the_extremes_of_the_cut_front() -> None:
    # front 0: row 4; front 1: rows 0-3 on a line, of which 2 survive: the two extremes (infinite crowding)
    losses = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0], [-1.0, -1.0]])
    indices, ranks, _ = elite(losses, np.zeros(5), 3, selection="crowding", rng=np.random.default_rng(0))
    assert sorted(indices.tolist()) == [0, 3, 4] and sorted(ranks.tolist()) == [0, 1, 1]


def test_elite_puts_infeasible_last_by_violation() -> None:
    losses = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 1.0]])
    indices, _, _ = elite(losses, np.array([2.0, 0.0, 1.0]), 2, selection="crowding", rng=np.random.default_rng(0))
    assert indices.tolist() == [1, 2]


def test_niching_fills_empty_directions_first() -> None:
    directions = das_dennis(2, 2)  # (0, 1), (0.5, 0.5), (1, 0)
    losses = np.array([[0.0, 1.0], [0.1, 0.9], [0.5, 0.5], [1.0, 0.0]])
    # row 0 already chosen (direction (0, 1)); from rows 1-3 take 2: the empty directions' nearest rows
    picked = niche_select(losses, np.array([0]), np.array([1, 2, 3]), 2, directions, np.random.default_rng(0))
    assert sorted(picked) == [2, 3]


# ---------------------------------------------------------------------- ParEGO
def test_chebyshev_scalarisation_by_hand() -> None:
    losses = np.array([[0.0, 10.0], [1.0, 0.0], [0.5, 5.0], [np.nan, np.nan]])
    values = chebyshev(losses, np.array([0.5, 0.5]), 0.05)
    # scaled: (0, 1), (1, 0), (0.5, 0.5): max 0.5 each, sums 0.5, 0.5, 0.5
    assert values[:3] == pytest.approx([0.525, 0.525, 0.275])
    assert np.isnan(values[3])
    assert np.isnan(chebyshev(np.full((2, 2), np.nan), np.array([0.5, 0.5]), 0.05)).all()
