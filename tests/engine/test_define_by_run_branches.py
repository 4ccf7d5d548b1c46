"""Optuna-style branches in a define-by-run objective: the engine finds the conditions, stores them, resumes them."""

from __future__ import annotations

import pytest

from tunelab import Experiment, optimize
from tunelab.space import HyperParameters
from tunelab.storage import Phase, TrialState, open_storage

BRANCH_PARAMS = {"svm": {"c"}, "rf": {"depth"}, "knn": set()}


def objective(trial: HyperParameters) -> float:
    kind = trial.suggest_categorical("kind", ["svm", "rf", "knn"])
    lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)
    if kind == "svm":
        return abs(trial.suggest_float("c", 0.1, 10.0, log=True) - 1.0) + lr
    if kind == "rf":
        return abs(trial.suggest_int("depth", 1, 10) - 4) / 4 + lr
    return 2.0 + lr


def _branch(params: dict) -> tuple[str, set[str]]:
    kind = params["kind"]
    if isinstance(kind, dict):
        return kind["_name"], set(kind) - {"_name"}
    return kind, set()


@pytest.mark.parametrize("tuner", ["random", "tpe", "gp", "evolution", "anneal", "cmaes", "smac"])
def test_branches_become_conditions_and_no_trial_gets_another_branchs_parameter(tuner: str) -> None:
    pytest.importorskip({"cmaes": "cmaes", "smac": "sklearn"}.get(tuner, "numpy"))
    result = optimize(objective, max_trials=16, mode="min", seed=2, tuner=tuner, isolation="inline", verbose=False)
    assert result.phase is Phase.DONE, result.message
    assert all(t.state is TrialState.SUCCEEDED for t in result.trials)
    config = open_storage().get_experiment(result.experiment_id).config
    kinds = config["search_space"]["kind"]["_value"]
    assert {"_name": "svm", "c": {"_type": "loguniform", "_value": [0.1, 10.0]}} in kinds
    assert {"_name": "rf", "depth": {"_type": "randint", "_value": [1, 11]}} in kinds
    assert list(config["search_space"]) == ["kind", "lr"]
    seen = set()
    for trial in result.trials:
        kind, params = _branch(trial.params)
        seen.add(kind)
        assert params <= BRANCH_PARAMS[kind], (trial.number, trial.params)
        if trial.number >= 8:  # once both branches were seen, every trial carries exactly its own
            assert params == BRANCH_PARAMS[kind], (trial.number, trial.params)
    assert seen == {"svm", "rf", "knn"}


def test_the_conditions_survive_resume() -> None:
    experiment = Experiment(objective=objective, max_trials=8, seed=5, tuner="tpe", isolation="inline")
    experiment.run(verbose=False)
    again = Experiment.load(experiment.id, objective=objective)
    stored = open_storage().get_experiment(experiment.id).config
    assert stored["define_by_run_paths"] and [d["config"]["name"] for d in stored["define_by_run"]][:2] == [
        "kind",
        "lr",
    ]
    result = again.resume(limits={"max_trials": 14}, verbose=False)
    assert result.phase is Phase.DONE and len(result.trials) == 14
    for trial in result.trials[8:]:
        kind, params = _branch(trial.params)
        assert params == BRANCH_PARAMS[kind]


def test_a_tuner_that_refuses_the_space_so_far_waits_for_the_rest_of_the_call() -> None:
    """CMA-ES refuses a choice alone: the first declaration of ``objective``; the float after it makes it searchable."""
    pytest.importorskip("cmaes")
    result = optimize(objective, max_trials=6, seed=1, tuner="cmaes", concurrency=2, isolation="inline", verbose=False)
    assert result.phase is Phase.DONE, result.message

    def choices_only(trial: HyperParameters) -> float:
        return float(trial.suggest_categorical("kind", ["a", "b"]) == "a")

    refused = optimize(choices_only, max_trials=4, seed=1, tuner="cmaes", isolation="inline", verbose=False)
    assert refused.phase is Phase.ERROR and "cmaes: the search space has no numeric parameter" in refused.message
