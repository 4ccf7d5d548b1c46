"""Differential: Optuna's suggest_* and ours accept the same values for the same declaration."""

from __future__ import annotations

import numpy as np
import pytest

from tunelab.space import HyperParameters

optuna = pytest.importorskip("optuna", reason="Optuna not installed (the optuna extra)")

DECLARATIONS = [
    ("suggest_float", ("lr", 1e-5, 1e-1), {"log": True}),
    ("suggest_float", ("dropout", 0.0, 0.5), {"step": 0.05}),
    ("suggest_float", ("x", -3.0, 2.0), {}),
    ("suggest_int", ("layers", 1, 8), {}),
    ("suggest_int", ("units", 8, 512), {"log": True}),
    ("suggest_int", ("k", 2, 20), {"step": 3}),
    ("suggest_categorical", ("act", ["relu", "tanh", None]), {}),
]


def _optuna_values(seed: int) -> dict:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    trial = study.ask()
    return {args[0]: getattr(trial, method)(*args, **kwargs) for method, args, kwargs in DECLARATIONS}


@pytest.mark.parametrize("seed", range(20))
def test_values_drawn_by_either_side_are_legal_on_the_other(seed):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    theirs = _optuna_values(seed)
    hp = HyperParameters()
    rng = np.random.default_rng(seed)
    hp.sampler = lambda p: p.domain().sample(rng)
    ours = {args[0]: getattr(hp, method)(*args, **kwargs) for method, args, kwargs in DECLARATIONS}
    # Optuna checks each of our values against its own distribution (a warning, an error in tests).
    fixed = optuna.trial.FixedTrial(ours)
    with_ours = {args[0]: getattr(fixed, method)(*args, **kwargs) for method, args, kwargs in DECLARATIONS}
    assert with_ours == ours
    for method, args, _ in DECLARATIONS:  # and each of Optuna's is inside our domain
        (declared,) = [p for p in hp.space if p.name == args[0]]
        assert declared.domain().contains(theirs[args[0]]), (method, args, theirs[args[0]])
        assert type(ours[args[0]]) is type(theirs[args[0]]) or None in (ours[args[0]], theirs[args[0]])


def test_a_step_that_does_not_divide_is_refused_where_optuna_would_silently_shrink_the_range():
    with pytest.warns(UserWarning):
        optuna.distributions.IntDistribution(0, 7, step=3)  # Optuna moves high to 6 and warns
    with pytest.raises(Exception, match="step=3 does not divide"):
        HyperParameters().suggest_int("k", 0, 7, step=3)
