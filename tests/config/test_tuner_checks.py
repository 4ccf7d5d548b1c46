"""Validation checks tuner arguments without building the tuner, and agrees with building it.

``tuner_problem`` uses the constructor's signature and the value rules the constructors apply;
these tests hold it to the constructors: the same bad values fail with the same message, good
ones pass both, and an argument added to a tuner without a rule here fails the coverage test.
"""

from __future__ import annotations

import importlib.util

import pytest

from tunelab.config._check import _VALUE_RULES, tuner_problem
from tunelab.errors import ConfigError, TunerError
from tunelab.space import parse_search_space
from tunelab.tuners import create_tuner
from tunelab.tuners._registry import TUNERS, tuner_arguments

SPACE = parse_search_space({"x": {"_type": "uniform", "_value": [0, 1]}, "n": {"_type": "randint", "_value": [1, 5]}})
CHOICES = parse_search_space({"k": {"_type": "choice", "_value": ["a", "b"]}})

#: Arguments checked by a rule on the whole tuner (in _check._whole_tuner_rules) or not checked at all.
WHOLE_OR_FREE = {("tpe", "multivariate"), ("grid", "n_points"), ("batch", "configs")}
WHOLE_OR_FREE |= {("optuna", "sampler"), ("optuna", "sampler_args"), ("smac", "config_dedup")}

BAD = [
    ("tpe", {"n_startup_jobs": -1}),
    ("tpe", {"n_ei_candidates": 0}),
    ("tpe", {"linear_forgetting": 1.5}),
    ("tpe", {"prior_weight": 0}),
    ("tpe", {"gamma": "big"}),
    ("tpe", {"constant_liar_type": "sometimes"}),
    ("motpe", {"multivariate": "yes"}),
    ("tpe", {"tpe_args": {"n_startup_jobs": -2}}),
    ("gp", {"n_initial_points": 0}),
    ("smac", {"n_trees": 0}),
    ("smac", {"ratio_features": 0.0}),
    ("smac", {"constant_liar_type": "sometimes"}),
    ("scikitoptimize", {"acq_func": "UCB"}),
    ("gp", {"n_candidates": True}),
    ("gp", {"n_restarts": -1}),
    ("gp", {"max_points": 9}),
    ("gp", {"max_fit_points": 2}),
    ("evolution", {"population_size": 1}),
    ("evolution", {"sample_size": 0}),
    ("evolution", {"population_size": 3, "sample_size": 4}),
    ("anneal", {"avg_best_idx": 0.9}),
    ("anneal", {"shrink_coef": -0.1}),
    ("grid", {"n_points": 1}),
    ("grid", {"n_points": {"nope": 3}}),
    ("batch", {}),
    ("batch", {"configs": [{"x": 3.0, "n": 1}]}),
    ("random", {"bogus": 1}),
    ("tpe", {"n_startup_job": 3}),
]
GOOD = [
    ("motpe", {"multivariate": False}),
    ("motpe", {"multivariate": None, "max_good": 10}),
    ("tpe", {"n_startup_jobs": 0, "constant_liar_type": None, "gamma": 0.5, "multivariate": False}),
    ("tpe", {"optimize_mode": "minimize", "parallel_optimize": True}),
    ("gp", {"max_points": 10, "n_restarts": 0}),
    ("evolution", {"population_size": 4, "sample_size": 4}),
    ("anneal", {"avg_best_idx": 1.0, "shrink_coef": 0.0}),
    ("grid", {"n_points": {"x": 3}}),
    ("batch", {"configs": [{"x": 0.5, "n": 2}]}),
    ("random", {}),
    ("auto", {"max_trials": 20, "concurrency": 2}),
]
if importlib.util.find_spec("cmaes") is not None:
    BAD += [("cmaes", {"sigma0": 1.5}), ("cmaes", {"population_size": 1})]
    GOOD += [("cmaes", {"sigma0": 1.0}), ("cmaes", {"population_size": 4})]
if importlib.util.find_spec("hyperopt") is not None:
    BAD += [("hyperopt", {"n_startup_jobs": -1})]
    GOOD += [("hyperopt", {"n_startup_jobs": 0})]
if importlib.util.find_spec("optuna") is not None:
    BAD += [("optuna", {"sampler": "NoSampler"}), ("optuna", {"sampler_args": {"n_startup": 3}})]
    GOOD += [("optuna", {"sampler": "RandomSampler", "sampler_args": {"seed": 1}})]


def _built_error(name, args, space=SPACE):
    with pytest.raises(ConfigError) as info:
        create_tuner(name, space, mode="min", seed=0, **args)
    return str(info.value)


@pytest.mark.parametrize(("name", "args"), BAD, ids=lambda v: str(v))
def test_a_value_the_constructor_rejects_is_rejected_unbuilt_with_its_message(name, args, monkeypatch):
    built = _built_error(name, args)
    import tunelab.tuners._registry as registry

    original = registry._load
    monkeypatch.setattr(registry, "_load", lambda entry: _unbuildable(original(entry)))
    with pytest.raises(ConfigError) as info:
        tuner_problem(name, args, space=SPACE, mode="min", seed=0)
    assert str(info.value) == built


@pytest.mark.parametrize(("name", "args"), GOOD, ids=lambda v: str(v))
def test_a_value_the_constructor_accepts_is_accepted(name, args):
    create_tuner(name, SPACE, mode="min", seed=0, **args)
    tuner_problem(name, args, space=SPACE, mode="min", seed=0)


def test_cmaes_on_a_space_without_numbers_fails_alike():
    pytest.importorskip("cmaes")
    built = _built_error("cmaes", {}, CHOICES)
    with pytest.raises(TunerError) as info:
        tuner_problem("cmaes", {}, space=CHOICES, mode="min", seed=0)
    assert str(info.value) == built


def test_every_tuner_argument_has_a_value_rule():
    """A new constructor argument must get its rule here (or be listed as checked whole / free)."""
    for name in TUNERS:
        try:
            accepted = tuner_arguments(name)
        except TunerError:
            continue  # its module is not importable in this build
        for arg in accepted:
            assert arg in _VALUE_RULES.get(name, {}) or (name, arg) in WHOLE_OR_FREE, (name, arg)


def _unbuildable(cls):
    """A subclass with the same signature whose constructor fails the test if called."""
    import inspect

    def refuse(self, *args, **kwargs):
        raise AssertionError("validation built the tuner")

    refuse.__signature__ = inspect.signature(cls.__init__)  # type: ignore[attr-defined]
    return type(cls.__name__, (cls,), {"__init__": refuse})
