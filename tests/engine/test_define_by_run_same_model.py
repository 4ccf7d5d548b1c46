"""Through the engine: a space declared by run gives the trials of the same space declared, model-based tuners too."""

from __future__ import annotations

import pytest

from tunelab import hp, optimize
from tunelab.space import HyperParameters

DECLARED = {
    "x": hp.uniform(-5, 5),
    "lr": hp.loguniform(1e-4, 1.0),
    "kind": {"_type": "choice", "_value": ["a", {"_name": "b", "y": {"_type": "randint", "_value": [1, 4]}}]},
}


def by_run(trial: HyperParameters) -> float:
    x = trial.suggest_float("x", -5, 5)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    kind = trial.Choice("kind", ["a", "b"])
    with trial.conditional_scope("kind", ["b"]):
        y = trial.Int("y", 1, 3)
    return (x - 1) ** 2 + abs(lr - 0.01) + (y if kind == "b" else 0.5)


def declared(params: dict) -> float:
    kind = params["kind"]
    return (params["x"] - 1) ** 2 + abs(params["lr"] - 0.01) + (kind["y"] if isinstance(kind, dict) else 0.5)


@pytest.mark.parametrize(
    ("tuner", "args"),
    [
        ("gp", {"n_initial_points": 4, "n_candidates": 200, "n_restarts": 1}),
        ("cmaes", {}),
        ("smac", {"n_initial_points": 4, "n_candidates": 200}),
        ("auto", {}),
    ],
)
def test_model_based_tuners_give_the_same_trials_declared_and_by_run(tuner: str, args: dict) -> None:
    pytest.importorskip({"cmaes": "cmaes", "smac": "sklearn"}.get(tuner, "numpy"))
    common = dict(max_trials=9, mode="min", seed=11, tuner={"name": tuner, "args": args}, isolation="inline")
    ours = optimize(by_run, verbose=False, **common)
    theirs = optimize(declared, DECLARED, verbose=False, **common)
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]
    assert [t.value for t in ours.trials] == [t.value for t in theirs.trials]
