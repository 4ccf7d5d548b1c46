"""Against the real keras-tuner package: config round trips both ways, and tunelab's Oracle inside a real Tuner."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunelab import keras_tuner as tl_kt
from tunelab.storage import TrialState, open_storage

kt = pytest.importorskip("keras_tuner", reason="keras-tuner is in the test extra (pip install -e '.[test]')")


def _declare(hp: Any) -> None:
    hp.Int("units", 8, 64, step=8)
    hp.Int("layers", 1, 4, default=2)
    hp.Float("lr", 1e-4, 1e-1, sampling="log")
    hp.Float("dropout", 0.0, 0.5, step=0.1)
    hp.Choice("act", ["relu", "tanh"])
    hp.Boolean("bn")
    hp.Fixed("batch", 32)
    with hp.conditional_scope("act", ["tanh"]):
        hp.Float("slope", 0.1, 0.3)


def test_config_round_trips_real_to_tunelab_to_real() -> None:
    real = kt.HyperParameters()
    _declare(real)
    real.values["units"] = 24
    config = real.get_config()
    ours = tl_kt.HyperParameters.from_config(json.loads(json.dumps(config)))
    assert ours.get_config() == config
    back = kt.HyperParameters.from_config(ours.get_config())
    assert back.get_config() == config and back.get("units") == 24


def test_config_round_trips_tunelab_to_real_to_tunelab() -> None:
    ours = tl_kt.HyperParameters()
    _declare(ours)
    config = ours.get_config()
    real = kt.HyperParameters.from_config(copy.deepcopy(config))  # the real one changes the dict it is given
    assert real.get_config() == config
    assert tl_kt.HyperParameters.from_config(real.get_config()).get_config() == config


@pytest.mark.parametrize(
    "name",
    [
        "val_accuracy",
        "accuracy",
        "acc",
        "val_loss",
        "loss",
        "mse",
        "val_mae",
        "auc",
        "val_precision",
        "recall",
        "weighted_accuracy",
        "categorical_crossentropy",
        "val_sparse_categorical_accuracy",
        "mean_squared_error",
        "binary_accuracy",
        "top_k_categorical_accuracy",
        "true_positives",
        "my_own_metric",
    ],
)
def test_objective_direction_is_inferred_as_kerastuner_does(name: str) -> None:
    from keras_tuner.engine import metrics_tracking

    assert tl_kt._objective.infer_metric_direction(name) == metrics_tracking.infer_metric_direction(name)


class BlackBox(kt.Tuner):
    """A real KerasTuner Tuner: run_trial declares nothing, it reads the space the oracle was given."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
        x = trial.hyperparameters.get("x")
        return (x - 1.0) ** 2


def _x_space() -> Any:
    hp = kt.HyperParameters()
    hp.Float("x", -3.0, 3.0)
    return hp


def test_tunelab_oracle_inside_a_real_tuner_stores_every_trial(tmp_path: Path) -> None:
    oracle = tl_kt.Oracle(objective="val_loss", max_trials=6, hyperparameters=_x_space(), tuner="tpe", seed=4)
    assert isinstance(oracle, kt.Oracle)
    tuner = BlackBox(oracle=oracle, directory=tmp_path, project_name="real")
    tuner.search()
    records = open_storage(None).get_trials(oracle.experiment.id)
    assert [r.state for r in records] == [TrialState.SUCCEEDED] * 6
    assert oracle.experiment.config.tuner.name == "tpe" and oracle.experiment.config.mode == "min"
    for record in records:
        assert record.value == pytest.approx((record.params["x"] - 1.0) ** 2)
    best = min(records, key=lambda r: r.value)
    (hp,) = tuner.get_best_hyperparameters(1)
    assert isinstance(hp, kt.HyperParameters) and hp.values == {"x": best.params["x"]}
    assert tuner.oracle.get_best_trials(1)[0].score == best.value
    tuner.results_summary(2)


def test_a_real_tuner_reloaded_with_a_larger_max_trials_continues_to_it(tmp_path: Path) -> None:
    def make(max_trials: int) -> Any:
        oracle = tl_kt.Oracle(objective="val_loss", max_trials=max_trials, hyperparameters=_x_space(), seed=2)
        return BlackBox(oracle=oracle, directory=tmp_path, project_name="grow")

    first = make(2)
    first.search()
    more = make(4)  # overwrite=False: KerasTuner continues to the new limit
    more.search()
    assert more.oracle.experiment.id == first.oracle.experiment.id
    assert [r.state for r in more.oracle.records()] == [TrialState.SUCCEEDED] * 4


# The real Tuner's load_model restores weights into a fresh model; Keras warns that the optimizer's are not restored.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_real_tuner_fits_keras_models_and_resumes_a_finished_search(
    tmp_path: Path, data: Any, build_model: Any
) -> None:
    x, y = data

    def make() -> Any:
        oracle = tl_kt.oracles.BayesianOptimizationOracle(objective="val_accuracy", max_trials=3, seed=1)
        return kt.Tuner(oracle=oracle, hypermodel=build_model, directory=tmp_path, project_name="fit")

    tuner = make()
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    records = tuner.oracle.records()
    assert len(records) == 3 and all(r.state == TrialState.SUCCEEDED for r in records)
    assert set(records[0].params) == {"units", "lr"}
    model = tuner.get_best_models(1)[0]  # the real Tuner's own checkpoint of the best epoch
    assert model.predict(x[:2], verbose=0).shape == (2, 2)
    again = make()  # overwrite=False: the real Tuner reloads, tunelab's experiment continues (nothing left)
    again.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert len(again.oracle.records()) == 3 and again.oracle.experiment.id == tuner.oracle.experiment.id


def test_a_failing_real_trial_is_a_failed_tunelab_trial(tmp_path: Path) -> None:
    class Flaky(BlackBox):
        def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
            if trial.trial_id == "0":
                raise ValueError("first one breaks")
            return super().run_trial(trial)

    oracle = tl_kt.Oracle(max_trials=3, hyperparameters=_x_space(), seed=0)
    Flaky(oracle=oracle, directory=tmp_path, project_name="flaky").search()
    states = [r.state for r in oracle.records()]
    assert states == [TrialState.FAILED, TrialState.SUCCEEDED, TrialState.SUCCEEDED]
    assert "first one breaks" in oracle.records()[0].message


@pytest.mark.parametrize(("min_value", "max_value"), [(1.0, 100.0), (1e-4, 0.5)])
def test_reverse_log_is_kerastuners_scale(min_value: float, max_value: float) -> None:
    """KerasTuner's reverse_log maps a probability to the value tunelab's reverse-log float gives it."""
    real = kt.HyperParameters()
    real.Float("r", min_value, max_value, sampling="reverse_log")
    (theirs,) = real.space
    ours = tl_kt.HyperParameters()
    ours.Float("r", min_value, max_value, sampling="reverse_log")
    domain = ours.space[0].domain()
    low, high = domain.internal_low, domain.internal_high
    for prob in (0.0, 0.05, 0.3, 0.5, 0.77, 0.99, 1.0):
        value = domain.from_internal(low + prob * (high - low))
        assert value == pytest.approx(theirs.prob_to_value(prob), rel=1e-9)
        assert (domain.to_internal(value) - low) / (high - low) == pytest.approx(theirs.value_to_prob(value), abs=1e-9)
    # Denser near max_value: the median draw lies in the top part of the range.
    rng = np.random.default_rng(0)
    draws = np.array([domain.sample(rng) for _ in range(400)])
    assert np.median(draws) > min_value + 0.6 * (max_value - min_value)
