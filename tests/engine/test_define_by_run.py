"""Define-by-run objectives in the engine: the space grows from what trials declare, is stored and survives resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tunelab
from tunelab import Experiment, hp, optimize
from tunelab.space import HyperParameters
from tunelab.storage import Phase, TrialState, open_storage

DECLARED = {
    "x": hp.uniform(-5, 5),
    "kind": {"_type": "choice", "_value": ["a", {"_name": "b", "y": {"_type": "randint", "_value": [1, 4]}}]},
}


def by_run(trial: HyperParameters) -> float:
    """The space of DECLARED, declared while it runs: KerasTuner's and Optuna's words mixed."""
    x = trial.suggest_float("x", -5, 5)
    kind = trial.Choice("kind", ["a", "b"])
    with trial.conditional_scope("kind", ["b"]):
        y = trial.Int("y", 1, 3)
    return (x - 1) ** 2 + (y if kind == "b" else 0.5)


def declared(params: dict) -> float:
    kind = params["kind"]
    x = params["x"]
    return (x - 1) ** 2 + (kind["y"] if isinstance(kind, dict) else 0.5)


def test_optimize_without_a_space_grows_it_and_stores_it():
    result = optimize(by_run, max_trials=8, mode="min", seed=3, tuner="tpe", isolation="inline")
    assert result.phase is Phase.DONE
    assert all(t.state is TrialState.SUCCEEDED for t in result.trials)
    for trial in result.trials:  # every trial's stored parameters hold what it used
        assert set(trial.params) == {"x", "kind"}
        assert -5 <= trial.params["x"] <= 5
    assert result.best_value == min(t.value for t in result.trials)
    record = open_storage().get_experiment(result.experiment_id)
    assert record.config["search_space"] == tunelab.SearchSpace.describe(tunelab.space.parse_search_space(DECLARED))
    assert [d["config"]["name"] for d in record.config["define_by_run"]] == ["x", "kind", "y"]


@pytest.mark.parametrize("tuner", ["random", "tpe", "anneal", "evolution"])
def test_a_declared_space_and_the_same_space_declared_by_run_give_the_same_trials(tuner):
    common = dict(max_trials=8, mode="min", seed=11, tuner=tuner, isolation="inline")
    ours = optimize(by_run, **common)
    theirs = optimize(declared, DECLARED, **common)
    assert [t.params for t in ours.trials] == [t.params for t in theirs.trials]
    assert [t.value for t in ours.trials] == [t.value for t in theirs.trials]


def test_parallel_trials_wait_only_until_the_first_declares_and_get_distinct_values():
    result = optimize(by_run, max_trials=10, mode="min", seed=5, tuner="tpe", concurrency=3)
    assert result.phase is Phase.DONE and len(result.trials) == 10
    fingerprints = {json.dumps(t.params, sort_keys=True) for t in result.trials}
    assert len(fingerprints) == 10


def test_the_discovered_space_survives_resume():
    experiment = Experiment(objective=by_run, max_trials=4, seed=2, tuner="tpe", isolation="inline")
    experiment.run()
    again = Experiment.load(experiment.id, objective=by_run)
    assert again.discovered is not None and [hp.name for hp in again.discovered.declarations] == ["x", "kind", "y"]
    result = again.resume(limits={"max_trials": 9})
    assert result.phase is Phase.DONE and len(result.trials) == 9
    assert all(t.state is TrialState.SUCCEEDED and set(t.params) == {"x", "kind"} for t in result.trials)


def test_a_declaration_that_changes_between_trials_fails_that_trial_with_a_one_line_reason():
    def moving(trial: HyperParameters) -> float:
        return trial.suggest_int("n", 1, 3 + trial.number)

    result = optimize(moving, max_trials=3, seed=0, isolation="inline", failure={"ignore": True})
    states = [t.state for t in result.trials]
    assert states[0] is TrialState.SUCCEEDED and TrialState.FAILED in states[1:]
    failed = next(t for t in result.trials if t.state is TrialState.FAILED)
    assert "'n' is declared twice with different ranges" in failed.message


def test_a_bad_declaration_fails_every_trial_and_the_experiment_is_not_done():
    def bad(trial: HyperParameters) -> float:
        return trial.suggest_float("lr", 1.0, 0.1)

    result = optimize(bad, max_trials=2, seed=0, isolation="inline", failure={"ignore": True})
    assert result.phase is not Phase.DONE and result.best_value is None
    assert "hyperparameter 'lr': min_value <= max_value must hold" in result.trials[0].message


def test_an_objective_that_declares_nothing_runs_once():
    result = optimize(lambda trial: 1.5, max_trials=5, seed=0, isolation="inline")
    assert result.phase is Phase.DONE and [t.value for t in result.trials] == [1.5]
    assert "exhausted" in result.message


def with_budget(trial: HyperParameters) -> float:
    value = by_run(trial)
    for step in range(tunelab.get_budget(3)):
        tunelab.report(value + 1.0 / (step + 1), step=step)
    return value


@pytest.mark.parametrize(
    ("tuner", "scheduler"),
    [
        ("random", None),
        ("grid", None),
        ("tpe", None),
        ("gp", None),
        ("evolution", None),
        ("anneal", None),
        ("cmaes", None),
        ("auto", None),
        ("random", {"name": "bohb", "args": {"max_budget": 9, "min_budget": 1, "random_fraction": 0.0}}),
        ("tpe", {"name": "pbt", "args": {"population_size": 4, "perturbation_interval": 1}}),
    ],
)
def test_every_tuner_and_proposing_scheduler_searches_a_discovered_conditional_space_in_parallel(tuner, scheduler):
    settings = {} if scheduler is None else {"scheduler": scheduler}
    result = optimize(
        with_budget, max_trials=14, seed=4, tuner=tuner, concurrency=2, isolation="inline", verbose=False, **settings
    )
    assert result.phase is Phase.DONE, result.message
    space = tunelab.space.parse_search_space(DECLARED)
    assert all(t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) for t in result.trials)
    for trial in result.trials:
        space.validate(trial.params)
    if scheduler is None:  # a tuner's trials are distinct configurations
        assert len({json.dumps(t.params, sort_keys=True) for t in result.trials}) == len(result.trials)


def test_the_dashboard_shows_the_discovered_space(tmp_path):
    pytest.importorskip("fastapi", reason="the dashboard needs the server extra (fastapi)")
    import warnings

    from tunelab.server import create_app

    with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    path = tmp_path / "db.sqlite"
    result = optimize(by_run, max_trials=3, seed=1, isolation="inline", storage=str(path), verbose=False)
    store = open_storage(str(path))
    try:
        overview = TestClient(create_app(store)).get(f"/api/experiments/{result.experiment_id}").json()
    finally:
        store.close()
    space = overview["config"]["search_space"]
    assert list(space) == ["x", "kind"] and space["kind"]["_value"][1]["_name"] == "b"


def test_save_best_model_reruns_a_define_by_run_objective_with_the_best_values():
    def objective(trial: HyperParameters) -> float:
        return trial.suggest_float("x", -1, 1) ** 2

    result = optimize(objective, max_trials=4, seed=0, isolation="inline", save_best_model=True, verbose=False)
    folder = Path(open_storage().get_experiment(result.experiment_id).experiment_dir) / "best_model"
    summary = json.loads((folder / "best_model.json").read_text())
    assert summary["exit_code"] == 0 and summary["value"] == result.best_value  # the best values, not defaults


def test_search_space_none_means_define_by_run():
    result = Experiment(objective=by_run, search_space=None, max_trials=2, seed=0, isolation="inline").run()
    assert result.phase is Phase.DONE and set(result.trials[0].params) == {"x", "kind"}


def test_enqueue_without_a_space_is_a_one_line_config_error():
    from tunelab.errors import ConfigError

    with pytest.raises(ConfigError, match="^enqueue: an objective that declares its parameters"):
        optimize(by_run, max_trials=2, enqueue=[{"x": 1.0}])


def test_a_rebuilt_tuner_keeps_what_was_queued_for_it():
    from tunelab.engine._discovery import Replayed, rebuild_tuner
    from tunelab.space import DiscoveredSpace
    from tunelab.space.hyperparameters import Float, Int
    from tunelab.tuners import create_tuner

    small = DiscoveredSpace([Float("x", 0, 1)])
    old = create_tuner("tpe", small.space, seed=0)
    old.enqueue({"x": 0.5})  # added from the dashboard while the space was smaller
    grown = small.grown([Int("k", 2, 5)])
    tuner, completed = rebuild_tuner(
        lambda space: create_tuner("tpe", space, seed=0), grown, [Replayed(0, {"x": 0.1}, 1.0)], old.queued
    )
    assert completed == {0: {"x": 0.1, "k": 2}}
    assert tuner.suggest() == (1, {"x": 0.5, "k": 2})


def test_grid_search_covers_a_finite_discovered_space_once_and_ends_exhausted():
    def finite(trial: HyperParameters) -> float:
        a = trial.Choice("a", [1, 2])
        trial.Boolean("flag")
        with trial.conditional_scope("flag", [True]):
            b = trial.Choice("b", ["x", "y"])
        return a + (0.5 if b == "y" else 0.0)

    result = optimize(finite, max_trials=20, seed=2, tuner="grid", concurrency=2, isolation="inline", verbose=False)
    assert result.phase is Phase.DONE and "exhausted" in result.message
    seen = sorted(json.dumps(t.params, sort_keys=True) for t in result.trials)
    assert len(seen) == len(set(seen)) == 6  # a in {1, 2} times (flag False, or True with b in {x, y})


def test_while_the_first_trial_declares_the_others_wait_with_a_reason():
    """On a virtual timeline: trial 0 declares x at t=5 s; until then the second slot waits, and says why."""
    from tunelab.engine import Engine
    from tunelab.engine._discovery import Discovery
    from tunelab.space.hyperparameters import Float, serialize
    from tunelab.testing import FakeClock, FakeRunner, FakeTrial
    from tunelab.trial._channel import Report, ReportKind

    declared = (serialize(Float("x", 0.0, 1.0)),)

    def behaviour(job):
        if job.number == 0:
            space = Report(ReportKind.SPACE, None, None, {}, 0.0, 1, declared, {"x": 0.25})
            return FakeTrial(reports=[(5.0, space)], final=(10.0, 0.25))
        return FakeTrial(final=(1.0, job.params["x"]))

    experiment = Experiment(objective=by_run, max_trials=3, seed=0, concurrency=2)
    experiment_id = experiment.create()
    clock = FakeClock()
    runner = FakeRunner(clock, behaviour)
    seen = []

    class Watch:
        def on_progress(self, progress):
            seen.append((clock.monotonic(), progress.running, progress.waiting_reason))

    engine = Engine(
        storage=experiment.storage,
        experiment_id=experiment_id,
        config=experiment.config,
        objective=by_run,
        runner=runner,
        clock=clock,
        listener=Watch(),
        discovery=Discovery(experiment.discovered),
    )
    record = engine.run()
    assert record.phase is Phase.DONE
    assert any(t < 5 and running == 1 and "declare" in reason for t, running, reason in seen)
    assert any(t >= 5 and running == 2 for t, running, _ in seen)  # the second slot filled once x was known
    trials = experiment.storage.get_trials(experiment_id)
    assert trials[0].params == {"x": 0.25} and all(set(t.params) == {"x"} for t in trials)
