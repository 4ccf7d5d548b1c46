"""The tuner contract as a test suite: legal proposals, seeds, restores, pending trials, degenerate histories.

Subclass :class:`TunerContract` in a test module and give it a ``make_tuner`` fixture, a
factory ``make_tuner(space, *, seed=0, mode="min") -> Tuner`` (``space`` is a
:class:`~tunelab.space.SearchSpace` or anything :func:`~tunelab.space.parse_search_space`
reads)::

    import pytest
    from tunelab.space import parse_search_space
    from tunelab.testing.tuners import TunerContract

    class TestMyTuner(TunerContract):
        @pytest.fixture
        def make_tuner(self):
            return lambda space, *, seed=0, mode="min": MyTuner(parse_search_space(space), seed=seed, mode=mode)

A baseline that is not meant to beat random search sets the ``beats_random_search``
fixture to False. :data:`TUNER_CASES` lists tunelab's own tuners with arguments that keep
the suite fast; :data:`MIXED_SPACE` has every parameter type and a nested choice.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from tunelab.errors import SearchSpaceError, TunerError
from tunelab.tuners import Tuner, create_tuner

__all__ = [
    "MIXED_SPACE",
    "SPHERE",
    "TUNER_CASES",
    "TunerContract",
    "TunerFactory",
    "first_trial_by_run",
    "mixed_loss",
    "run",
    "sphere",
]

#: (id, registry name, extra arguments, optional module it needs)
TUNER_CASES: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("random", "random", {}, None),
    ("tpe", "tpe", {"n_startup_jobs": 5}, None),
    ("tpe-univariate", "tpe", {"n_startup_jobs": 5, "multivariate": False}, None),
    ("gp", "gp", {"n_initial_points": 5, "n_candidates": 200, "n_restarts": 2}, None),
    ("evolution", "evolution", {"population_size": 8, "sample_size": 3}, None),
    ("anneal", "anneal", {}, None),
    ("cmaes", "cmaes", {}, "cmaes"),
    ("auto", "auto", {"max_trials": 40}, None),
    ("optuna", "optuna", {}, "optuna"),
    ("hyperopt", "hyperopt", {"n_startup_jobs": 5}, "hyperopt"),
    ("smac", "smac", {"n_initial_points": 5, "n_candidates": 500}, "sklearn"),
    ("motpe", "motpe", {"n_startup_jobs": 5}, None),
    ("nsga2", "nsga2", {"population_size": 8}, None),
    ("nsga3", "nsga3", {"population_size": 8}, None),
    ("mogp", "mogp", {"n_initial_points": 5, "n_candidates": 200, "n_restarts": 2}, None),
]

TunerFactory = Callable[..., Tuner]

MIXED_SPACE: dict[str, Any] = {
    "u": {"_type": "uniform", "_value": [-1.0, 2.0]},
    "qu": {"_type": "quniform", "_value": [0.0, 1.0, 0.25]},
    "lu": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "qlu": {"_type": "qloguniform", "_value": [1.0, 1000.0, 5.0]},
    "n": {"_type": "normal", "_value": [0.0, 2.0]},
    "qn": {"_type": "qnormal", "_value": [10.0, 3.0, 1.0]},
    "ln": {"_type": "lognormal", "_value": [0.0, 1.0]},
    "qln": {"_type": "qlognormal", "_value": [1.0, 0.5, 0.5]},
    "ri": {"_type": "randint", "_value": [-3, 7]},
    "c": {"_type": "choice", "_value": ["relu", 3, None, [1, 2]]},
    "nest": {
        "_type": "choice",
        "_value": [
            {
                "_name": "sgd",
                "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
                "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
            },
            {"_name": "adam", "beta": {"_type": "choice", "_value": [0.9, 0.99]}},
            {"_name": "none"},
        ],
    },
}

SPHERE: dict[str, Any] = {f"x{i}": {"_type": "uniform", "_value": [-5.0, 5.0]} for i in range(3)}


def sphere(params: Mapping[str, Any]) -> float:
    return float(sum((params[f"x{i}"] - 1.0) ** 2 for i in range(3)))


def mixed_loss(params: Mapping[str, Any]) -> float:
    nest = params["nest"]
    value = (params["u"] - 0.5) ** 2 + math.log(params["lu"]) ** 2 / 10 + abs(params["ri"] - 2)
    if nest["_name"] == "sgd":
        value += (math.log10(nest["lr"]) + 2) ** 2 + nest["momentum"]
    return value + (0.0 if params["c"] == "relu" else 1.0)


def run(tuner: Tuner, loss: Callable[[dict[str, Any]], float], n: int) -> list[dict[str, Any]]:
    """Suggest and observe ``n`` trials in sequence; the suggestions."""
    suggested = []
    for _ in range(n):
        trial_id, params = tuner.suggest()
        suggested.append(params)
        tuner.observe(trial_id, loss(params))
    return suggested


def _grow_x(hp: Any) -> None:
    hp.Float("x", -2.0, 2.0)


def _grow_conditional(hp: Any) -> None:
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", ["b"]):
        hp.Int("y", 1, 4)
    hp.Boolean("flag")


def _grow_z(hp: Any) -> None:
    hp.suggest_float("z", 1e-3, 1.0, log=True)


#: A define-by-run space in three stages: a float, then a conditional choice and a boolean, then a log float.
_GROWTH = [_grow_x, _grow_conditional, _grow_z]


def _grown_loss(values: Mapping[str, Any]) -> float:
    return values["x"] ** 2 + (values.get("y", 0) if values.get("kind") == "b" else 0.5) + values.get("z", 0.1)


def _flat_by_run(hp: Any) -> None:
    hp.Float("x", -2.0, 2.0)
    hp.suggest_float("lr", 1e-4, 1.0, log=True)
    hp.Int("n", 1, 8)
    hp.suggest_categorical("act", ["relu", "tanh", "gelu"])


def _conditional_by_run(hp: Any) -> None:
    hp.Float("x", -2.0, 2.0)
    hp.Choice("kind", ["a", "b", "c"])
    with hp.conditional_scope("kind", ["b"]):
        hp.Int("y", 1, 4)
        hp.Float("z", 0.0, 1.0, step=0.25)
    with hp.conditional_scope("kind", ["c"]):
        hp.Float("w", 1.0, 100.0, sampling="reverse_log")
    hp.Boolean("flag")


#: Spaces declared by run (KerasTuner's words) and the same spaces declared up front.
BY_RUN_CASES: list[tuple[str, Callable[[Any], None], dict[str, Any]]] = [
    (
        "flat",
        _flat_by_run,
        {
            "x": {"_type": "uniform", "_value": [-2.0, 2.0]},
            "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
            "n": {"_type": "randint", "_value": [1, 9]},
            "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
        },
    ),
    (
        "conditional",
        _conditional_by_run,
        {
            "x": {"_type": "uniform", "_value": [-2.0, 2.0]},
            "kind": {
                "_type": "choice",
                "_value": [
                    "a",
                    {
                        "_name": "b",
                        "y": {"_type": "randint", "_value": [1, 5]},
                        "z": {"_type": "quniform", "_value": [0.0, 1.0, 0.25]},
                    },
                    {"_name": "c", "w": {"_type": "reverseloguniform", "_value": [1.0, 100.0]}},
                ],
            },
            "flag": {"_type": "choice", "_value": [True, False]},
        },
    ),
]


def _by_run_loss(values: Mapping[str, Any]) -> float:
    value = values["x"] ** 2 + (0.2 if values.get("flag") else 0.0)
    value += {"a": 0.5, "b": abs(values.get("y", 0) - 2) + values.get("z", 0.0), "c": 10 / values.get("w", 1.0)}[
        values.get("kind", "a")
    ]
    if "lr" in values:
        value += (math.log10(values["lr"]) + 2) ** 2 / 4 + abs(values["n"] - 5) / 5 + (values["act"] != "tanh")
    return float(value)


def first_trial_by_run(declare: Callable[[Any], None], seed: int) -> Any:
    """The declarations and values of a define-by-run experiment's first trial (nothing known yet) of ``seed``."""
    from tunelab.trial._context import TrialContext, activate, peek
    from tunelab.trial._define_by_run import DefineByRun

    before = peek()
    activate(TrialContext(params={}, number=0, seed=seed))
    try:
        hp = DefineByRun(declare, [], seed).hyperparameters({})
        declare(hp)
    finally:
        activate(before)
    return hp


class TunerContract:
    """The checks every tuner passes; subclass it with a ``make_tuner`` fixture (see the module docstring)."""

    @pytest.fixture
    def beats_random_search(self) -> bool:
        """Whether the tuner should beat random search on an easy function (False for baselines)."""
        return True

    def test_a_space_declared_by_run_grows_between_suggestions(self, make_tuner: TunerFactory) -> None:
        """Define-by-run: the engine rebuilds the tuner on each grown space with the trials so far (two pending)."""
        from tunelab.engine._discovery import Replayed, rebuild_tuner
        from tunelab.space import DiscoveredSpace

        trials: dict[int, Replayed] = {}
        space = DiscoveredSpace()
        tuner = None
        for step in range(len(_GROWTH)):
            hp = space.hyperparameters()
            for earlier in _GROWTH[: step + 1]:
                earlier(hp)
            space = space.grown(hp.space)
            tuner, _ = rebuild_tuner(functools.partial(make_tuner, seed=step), space, trials.values())
            fresh = [tuner.suggest() for _ in range(2)]  # pending together: no duplicates (constant liar)
            for trial_id, params in fresh:
                tuner.space.validate(params)
                trials[trial_id] = Replayed(trial_id, params, pending=True)
            for trial_id, params in fresh[:1] + [tuner.suggest() for _ in range(3)]:
                tuner.space.validate(params)
                loss = _grown_loss(space.values(params))
                if trial_id in tuner.pending:
                    tuner.observe(trial_id, loss)
                trials[trial_id] = Replayed(trial_id, params, loss)
        assert tuner is not None and [leaf.key for leaf in tuner.space.leaves] == ["x", "kind", "kind/b/y", "flag", "z"]
        seen = [json.dumps(t.params, sort_keys=True) for t in trials.values()]
        assert len(set(seen)) == len(seen)

    @pytest.mark.parametrize("by_run_case", [c[0] for c in BY_RUN_CASES])
    def test_a_space_declared_by_run_gives_the_suggestions_of_the_same_space_declared(
        self, make_tuner: TunerFactory, by_run_case: str
    ) -> None:
        """Define-by-run is the same model: the first trial draws in the trial, the rebuilt tuner goes on alike."""
        from tunelab.engine._discovery import Replayed, rebuild_tuner
        from tunelab.space import DiscoveredSpace, parse_search_space

        _, declare, declared = next(c for c in BY_RUN_CASES if c[0] == by_run_case)
        seed, n = 7, 14
        hp = first_trial_by_run(declare, seed)
        space = DiscoveredSpace().grown(hp.space)
        assert space.space == parse_search_space(declared)
        first = space.params(hp.values)
        replayed = [Replayed(0, first, _by_run_loss(space.values(first)))]
        tuner, _ = rebuild_tuner(functools.partial(make_tuner, seed=seed), space, replayed)
        by_run = [first, *run(tuner, lambda p: _by_run_loss(space.values(p)), n - 1)]
        up_front = run(make_tuner(declared, seed=seed), lambda p: _by_run_loss(space.values(p)), n)
        assert by_run == up_front

    def test_every_parameter_type_stays_inside_the_space(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner(MIXED_SPACE, seed=3)
        branches = set()
        for params in run(tuner, mixed_loss, 20):
            tuner.space.validate(params)  # also rejects keys of inactive branches
            branches.add(params["nest"]["_name"])
            assert isinstance(params["ri"], int)
            assert params["qu"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert len(branches) >= 2

    def test_nested_choice_only_carries_the_active_branch(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner({"opt": MIXED_SPACE["nest"]}, seed=1)
        expected = {"sgd": {"_name", "lr", "momentum"}, "adam": {"_name", "beta"}, "none": {"_name"}}
        for params in run(tuner, lambda p: 0.0 if p["opt"]["_name"] == "sgd" else 1.0, 15):
            assert set(params["opt"]) == expected[params["opt"]["_name"]]

    def test_same_seed_and_history_give_the_same_suggestions(self, make_tuner: TunerFactory) -> None:
        first = run(make_tuner(MIXED_SPACE, seed=11), mixed_loss, 12)
        second = run(make_tuner(MIXED_SPACE, seed=11), mixed_loss, 12)
        assert first == second

    def test_restored_history_gives_the_same_next_suggestion(self, make_tuner: TunerFactory) -> None:
        original = make_tuner(SPHERE, seed=5)
        run(original, sphere, 12)
        resumed = make_tuner(SPHERE, seed=5)
        for obs in original.history:
            resumed.restore(obs.trial_id, obs.params, obs.value)
        assert resumed.suggest() == original.suggest()

    def test_pending_trials_do_not_pile_up(self, make_tuner: TunerFactory) -> None:
        space = {"x": {"_type": "uniform", "_value": [0.0, 1.0]}, "y": {"_type": "uniform", "_value": [0.0, 1.0]}}
        tuner = make_tuner(space, seed=2)
        run(tuner, lambda p: (p["x"] - 0.2) ** 2 + (p["y"] - 0.7) ** 2, 15)
        batch = [tuner.suggest()[1] for _ in range(6)]
        points = np.array([[p["x"], p["y"]] for p in batch])
        gaps = np.linalg.norm(points[:, None] - points[None, :], axis=-1)[np.triu_indices(len(points), 1)]
        assert len({json.dumps(p, sort_keys=True) for p in batch}) == len(batch)
        assert np.median(gaps) > 0.01, points

    def test_pending_suggestions_and_dict_results(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner(SPHERE, seed=0)
        ids = [tuner.suggest()[0] for _ in range(4)]
        assert len(set(ids)) == 4 and set(tuner.pending) == set(ids)
        tuner.observe(ids[2], {"default": 1.5, "accuracy": 0.9})
        tuner.observe(ids[0], None)
        assert set(tuner.pending) == {ids[1], ids[3]}
        by_id = {o.trial_id: o for o in tuner.history}
        assert by_id[ids[2]].value == 1.5 and by_id[ids[2]].metrics == {"accuracy": 0.9}
        assert by_id[ids[0]].failed
        with pytest.raises(TunerError, match="not pending"):
            tuner.observe(ids[2], 1.0)
        with pytest.raises(TunerError, match="'default' key"):
            tuner.observe(ids[1], {"accuracy": 1})

    def test_enqueued_configurations_run_first_and_are_validated(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner(SPHERE, seed=1)
        first = {"x0": 0.0, "x1": 1.0, "x2": -2.5}
        tuner.enqueue(first)
        assert tuner.suggest()[1] == first
        with pytest.raises(SearchSpaceError, match="parameter 'x0': 99.0"):
            tuner.enqueue({**first, "x0": 99.0})

    @pytest.mark.parametrize(
        "values",
        [
            pytest.param([1.0] * 14, id="all-equal"),
            pytest.param([math.nan, 1.0, math.inf, -1.0, None, 2.0] * 2 + [0.5, 0.5], id="nan-inf-failed"),
            pytest.param([None] * 14, id="all-failed"),
            pytest.param([math.inf, -math.inf] * 7, id="infinities"),
            pytest.param([{"default": float(i), "acc": 0.1} for i in range(14)], id="nni-dicts"),
        ],
    )
    def test_degenerate_histories_are_survived(self, make_tuner: TunerFactory, values: list[Any]) -> None:
        tuner = make_tuner(MIXED_SPACE, seed=4, mode="max")
        for value in values:
            trial_id, _ = tuner.suggest()
            tuner.observe(trial_id, value)
        for _ in range(3):
            tuner.space.validate(tuner.suggest()[1])

    def test_nan_is_never_best(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner(SPHERE, seed=0, mode="max")
        for value in (math.nan, math.inf, 1.0, None):
            trial_id, _ = tuner.suggest()
            tuner.observe(trial_id, value)
        best = tuner.best()
        assert best is not None and best.value == math.inf
        assert [o.failed for o in tuner.history] == [True, False, False, True]

    def test_beats_random_search_on_an_easy_function(self, make_tuner: TunerFactory, beats_random_search: bool) -> None:
        if not beats_random_search:
            pytest.skip("a baseline")
        tuned, baseline = [], []
        for seed in range(3):
            tuned.append(min(sphere(p) for p in run(make_tuner(SPHERE, seed=seed), sphere, 30)))
            baseline.append(min(sphere(p) for p in run(create_tuner("random", SPHERE, seed=seed), sphere, 30)))
        assert np.median(tuned) < np.median(baseline)

    def test_a_batch_on_a_finite_space_hands_out_what_is_left(self, make_tuner: TunerFactory) -> None:
        space = {"a": {"_type": "choice", "_value": [0, 1, 2]}, "b": {"_type": "randint", "_value": [0, 2]}}
        tuner = make_tuner(space, seed=0)
        first = tuner.suggest_batch(4)
        assert len(first) == 4 and not first.exhausted and set(tuner.pending) == {i for i, _ in first.trials}
        for trial_id, params in first.trials:
            tuner.observe(trial_id, params["a"] + params["b"])
        second = tuner.suggest_batch(4)  # 2 of the 6 configurations are left
        assert len(second) == 2 and second.exhausted and "6 configurations" in second.reason
        assert set(tuner.pending) == {i for i, _ in second.trials}
        everything = {(p["a"], p["b"]) for p in first.params + second.params}
        assert everything == {(a, b) for a in range(3) for b in range(2)}
        third = tuner.suggest_batch(2)
        assert len(third) == 0 and third.exhausted
        with pytest.raises(TunerError, match="n: expected a positive integer"):
            tuner.suggest_batch(0)

    def test_logit_parameters_are_searched_on_the_logit_scale(self, make_tuner: TunerFactory) -> None:
        # The optimum sits at 0.998: on a linear scale 1 draw in 200 comes that close, on the logit scale 1 in 6.
        space = {
            "p": {"_type": "logituniform", "_value": [1e-3, 1 - 1e-3]},
            "x": {"_type": "uniform", "_value": [0, 1]},
        }
        tuner = make_tuner(space, seed=0)
        target = math.log(0.998 / 0.002)
        suggested = run(tuner, lambda p: (math.log(p["p"] / (1 - p["p"])) - target) ** 2 + (p["x"] - 0.5) ** 2, 30)
        for params in suggested:
            tuner.space.validate(params)
        values = np.array([p["p"] for p in suggested])
        assert values.max() > 0.99
        assert np.sum((values < 0.01) | (values > 0.99)) >= 3, values  # a linear search rarely goes there
        assert np.sum((values == 1e-3) | (values == 1 - 1e-3)) < len(values) / 2, values  # nor sits on the bounds

    def test_maximize_mode_climbs(self, make_tuner: TunerFactory) -> None:
        tuner = make_tuner(SPHERE, seed=0, mode="max")
        run(tuner, lambda p: -sphere(p), 25)
        best = tuner.best()
        assert best is not None and best.value == max(o.value for o in tuner.history if o.value is not None)
