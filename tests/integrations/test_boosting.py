"""XGBoost and LightGBM callbacks: every round reported, training stopped when the trial should end."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import tunelab
from tunelab import hp
from tunelab.errors import ConfigError
from tunelab.storage import TrialState
from tunelab.trial import _context


@pytest.fixture(scope="module")
def cancer():
    x, y = load_breast_cancer(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, random_state=0)


@pytest.fixture
def trial_context(tmp_path):
    """A trial context as the runner gives one (in this process), with no budget."""
    context = _context.TrialContext(params={}, trial_dir=tmp_path)
    _context.activate(context)
    yield context
    _context.activate(None)


def _reports(context) -> list[dict]:
    path = context.trial_dir / _context.REPORTS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()]


def _xgb_train(cancer, rounds=20, metric="validation-logloss", **params):
    xgb = pytest.importorskip("xgboost")
    from tunelab.integrations.xgboost import TunelabCallback

    x_train, x_test, y_train, y_test = cancer
    # One thread everywhere: OpenMP used with several threads in this process would hang forked trials.
    dtrain, dvalid = xgb.DMatrix(x_train, y_train, nthread=1), xgb.DMatrix(x_test, y_test, nthread=1)
    params = {"objective": "binary:logistic", "eval_metric": ["error", "logloss"], "nthread": 1, **params}
    return xgb.train(
        params, dtrain, rounds, evals=[(dvalid, "validation")], callbacks=[TunelabCallback(metric)], verbose_eval=False
    )


def _lgb_train(cancer, rounds=20, metric="validation-binary_logloss", **params):
    lgb = pytest.importorskip("lightgbm")
    from tunelab.integrations.lightgbm import tunelab_callback

    x_train, x_test, y_train, y_test = cancer
    params = {"objective": "binary", "metric": ["binary_error", "binary_logloss"], "verbose": -1, "num_threads": 1}
    return lgb.train(
        params,
        lgb.Dataset(x_train, y_train),
        rounds,
        valid_sets=[lgb.Dataset(x_test, y_test)],
        valid_names=["validation"],
        callbacks=[tunelab_callback(metric)],
    )


@pytest.mark.parametrize("train", [_xgb_train, _lgb_train], ids=["xgboost", "lightgbm"])
def test_every_round_is_reported_with_all_scores(train, cancer, trial_context):
    train(cancer, rounds=7)
    reports = _reports(trial_context)
    assert [r["step"] for r in reports] == list(range(7))
    assert all(len(r["metrics"]) == 1 and 0 <= r["value"] < 1 for r in reports)
    assert reports[-1]["value"] < reports[0]["value"]  # the logloss falls


@pytest.mark.parametrize("train", [_xgb_train, _lgb_train], ids=["xgboost", "lightgbm"])
def test_training_stops_at_the_budget_and_when_asked(train, cancer, trial_context):
    trial_context.budget = 3
    booster = train(cancer, rounds=50)
    assert _rounds(booster) == 3
    assert len(_reports(trial_context)) == 3

    trial_context.budget = None
    (trial_context.trial_dir / _context.REPORTS_FILE).unlink()
    (trial_context.trial_dir / _context.STOP_FILE).touch()
    booster = train(cancer, rounds=50)
    assert _rounds(booster) == 1
    assert len(_reports(trial_context)) == 1


def _rounds(booster) -> int:
    return booster.num_boosted_rounds() if hasattr(booster, "num_boosted_rounds") else booster.current_iteration()


@pytest.mark.parametrize("train", [_xgb_train, _lgb_train], ids=["xgboost", "lightgbm"])
def test_unknown_metric_is_a_clear_error(train, cancer, trial_context):
    with pytest.raises(ConfigError, match="available: validation-"):
        train(cancer, metric="validation-auc")


@pytest.mark.timeout(120)
def test_xgboost_trials_under_hyperband_get_budgets(cancer):
    def objective(params):
        booster = _xgb_train(cancer, rounds=9, eta=params["eta"], max_depth=params["max_depth"])
        logloss = float(booster.eval(xgb.DMatrix(cancer[1], cancer[3], nthread=1)).split(":")[-1])
        tunelab.report_final(logloss, rounds=booster.num_boosted_rounds(), budget=tunelab.get_budget())

    xgb = pytest.importorskip("xgboost")

    result = tunelab.optimize(
        objective,
        {"eta": hp.loguniform(0.05, 0.5), "max_depth": hp.randint(2, 6)},
        max_trials=6,
        concurrency=2,
        seed=0,
        mode="min",
        scheduler={"name": "hyperband", "args": {"max_budget": 9, "eta": 3}},
    )
    assert all(t.state == TrialState.SUCCEEDED for t in result.trials)
    assert min(t.metrics["budget"] for t in result.trials) < 9
    for trial in result.trials:
        assert trial.metrics["rounds"] == trial.metrics["budget"] == len(trial.intermediate)


@pytest.mark.timeout(120)
def test_lightgbm_trials_stopped_early_by_a_scheduler_keep_their_reports(cancer):
    pytest.importorskip("lightgbm")

    def objective(params):
        import time

        def slow(env):
            time.sleep(0.05)  # give the engine time to act between rounds

        import lightgbm as lgb

        from tunelab.integrations.lightgbm import tunelab_callback

        x_train, x_test, y_train, y_test = cancer
        lgb.train(
            {"objective": "binary", "learning_rate": params["lr"], "verbose": -1, "num_threads": 1},
            lgb.Dataset(x_train, y_train),
            30,
            valid_sets=[lgb.Dataset(x_test, y_test)],
            callbacks=[tunelab_callback(), slow],
        )

    result = tunelab.optimize(
        objective,
        # The second fast learner's curve runs just below the first's: never behind the median,
        # whichever step the engine judges it at (a rate of 0.1 sat on the line under load).
        {"lr": hp.grid_search([0.2, 0.0005, 0.18, 0.0002, 0.0003])},
        tuner="grid",  # in this order: "auto" draws the grid points at random, and three slow learners first stop none
        max_trials=5,
        concurrency=1,
        mode="min",
        scheduler={"name": "median", "args": {"start_step": 3}},
    )
    stopped = [t for t in result.trials if t.state == TrialState.EARLY_STOPPED]
    assert stopped and all(t.params["lr"] < 0.001 for t in stopped), [
        (t.params, t.state, len(t.intermediate), t.message) for t in result.trials
    ]
    assert all(t.value is not None and 3 <= len(t.intermediate) < 30 for t in stopped)
