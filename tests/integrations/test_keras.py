"""AutoEstimator.from_keras end to end: Keras 3 on the torch backend (no TensorFlow), MLP on digits."""

from __future__ import annotations

import os

import pytest

# Keras chooses its backend at first import; the torch backend needs no TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip(f"keras was already imported with the {keras.backend.backend()} backend", allow_module_level=True)

from tunelab import AutoEstimator, hp  # noqa: E402
from tunelab.errors import ConfigError  # noqa: E402
from tunelab.storage import TrialState  # noqa: E402

# Keras's torch backend hands numpy an object whose __array__ predates numpy 2 (keras, not tunelab).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _mlp(config):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(config["hidden"], activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(config["lr"]), loss="sparse_categorical_crossentropy")
    return model


def test_mlp_on_digits_with_a_scheduler(digits_split, tmp_path):
    x_train, x_test, y_train, y_test = digits_split
    est = AutoEstimator.from_keras(
        model_creator=_mlp, logs_dir=tmp_path, resources_per_trial={"cpu": 1}, name="auto_keras"
    )
    est.fit(
        data=(x_train, y_train),
        validation_data=(x_test, y_test),
        search_space={"hidden": hp.choice([16, 32]), "lr": hp.grid_search([1e-5, 1e-2, 2e-5, 2e-2]), "batch_size": 64},
        n_sampling=1,
        epochs=4,
        metric="accuracy",
        metric_mode="max",
        scheduler="median_stopping_rule",
        scheduler_params={"grace_period": 1},
        search_alg_params={"seed": 0},
    )
    trials = est.result.trials
    assert len(trials) == 4
    assert all(len(t.intermediate) >= 1 for t in trials)
    assert est.experiment.config.scheduler.name == "median_stopping_rule"
    assert any(t.state == TrialState.EARLY_STOPPED for t in trials), [t.state for t in trials]
    assert est.get_best_config()["lr"] >= 1e-2
    model = est.get_best_model()
    held_out = float((model.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean())
    assert held_out >= est.best_value - 1e-9
    assert held_out > 0.85


def test_uncompiled_model_is_compiled_from_optimizer_and_loss(digits_split):
    x_train, x_test, y_train, y_test = digits_split

    def model(config):
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])

    est = AutoEstimator.from_keras(model_creator=model, optimizer="Adam", loss="sparse_categorical_crossentropy")
    est.fit(
        (x_train, y_train),
        validation_data=(x_test, y_test),
        search_space={"lr": hp.choice([0.01, 0.05])},
        n_sampling=2,
        epochs=2,
        metric="mean_loss",
    )
    assert est.experiment.config.mode == "min"
    scores = est.get_best_model().evaluate(x_test, y_test, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(est.best_value, rel=1e-4)

    with pytest.raises(ConfigError, match="both optimizer and loss"):
        AutoEstimator.from_keras(model_creator=model, optimizer="Adam")
    bare = AutoEstimator.from_keras(model_creator=model)
    bare.fit((x_train, y_train), search_space={"lr": 0.1}, epochs=1)
    assert "compiled model" in bare.result.trials[0].message
