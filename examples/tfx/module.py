"""A TFX module file: ``tuner_fn`` for the Tuner component and ``run_fn`` for the Trainer, on numpy data.

Written as for TFX (``from tfx import v1 as tfx``, ``FnArgs``, ``TunerFnResult``); the one change is
``from tunelab import keras_tuner`` for ``import keras_tuner``. Tune it with

    tunelab tfx-tune module.py --working-dir work --train-files data/train.npz --eval-files data/eval.npz

which writes ``work/best_hyperparameters/best_hyperparameters.txt`` as TFX's Tuner does; ``run_fn``
reads those hyperparameters back the way a Trainer's does (``fn_args.hyperparameters``).
"""

import os

import keras
import numpy as np
from tfx import v1 as tfx

from tunelab import keras_tuner


def _load(files):
    parts = [np.load(path) for path in files]
    return np.concatenate([p["x"] for p in parts]), np.concatenate([p["y"] for p in parts])


def _build_keras_model(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 16, 64, step=16), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.4, step=0.2)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def tuner_fn(fn_args: tfx.components.FnArgs) -> tfx.components.TunerFnResult:
    """Build the tuner with the KerasTuner API (TFX's Tuner component calls this)."""
    config = fn_args.custom_config or {}
    tuner = keras_tuner.BayesianOptimization(
        _build_keras_model,
        objective="val_accuracy",
        max_trials=config.get("max_trials", 4),
        num_initial_points=2,
        seed=0,
        directory=fn_args.working_dir,
        project_name="digits_tuning",
    )
    x_train, y_train = _load(fn_args.train_files)
    x_eval, y_eval = _load(fn_args.eval_files)
    return tfx.components.TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            "x": x_train,
            "y": y_train,
            "validation_data": (x_eval, y_eval),
            "epochs": config.get("epochs", 2),
            "verbose": 0,
        },
    )


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train the final model with the tuned hyperparameters (TFX's Trainer calls this)."""
    hp = keras_tuner.HyperParameters.from_config(fn_args.hyperparameters)
    x_train, y_train = _load(fn_args.train_files)
    x_eval, y_eval = _load(fn_args.eval_files)
    model = _build_keras_model(hp)
    model.fit(x_train, y_train, epochs=(fn_args.custom_config or {}).get("epochs", 2), verbose=0)
    _, accuracy = model.evaluate(x_eval, y_eval, verbose=0)
    print(f"eval accuracy with {hp.values}: {accuracy:.3f}")
    os.makedirs(fn_args.serving_model_dir, exist_ok=True)
    model.save(os.path.join(fn_args.serving_model_dir, "model.keras"))
