"""Tune a Keras 3 MLP on scikit-learn's digits with AutoEstimator.from_keras, on the torch backend.

No TensorFlow needed: python examples/keras_autoestimator/tune_mlp.py
"""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from tunelab import AutoEstimator, hp


def model_creator(config):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(config["hidden_size"], activation="relu"),
            keras.layers.Dropout(config["dropout"]),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(config["lr"]), metrics=["accuracy"]
    )
    return model


def main() -> None:
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        (x / 16.0).astype("float32"), y, test_size=0.3, random_state=0, stratify=y
    )
    auto_est = AutoEstimator.from_keras(
        model_creator=model_creator,
        logs_dir=tempfile.mkdtemp(prefix="tunelab_automl_logs_"),
        resources_per_trial={"cpu": 1},
        name="auto_keras",
    )
    auto_est.fit(
        data=(x_train, y_train),
        validation_data=(x_test, y_test),
        search_space={
            "hidden_size": hp.choice([16, 32, 64]),
            "dropout": hp.uniform(0.0, 0.3),
            "lr": hp.loguniform(1e-4, 3e-2),
            "batch_size": 64,
        },
        n_sampling=4,
        epochs=3,
        metric="accuracy",
        search_alg="bayesopt",
        search_alg_params={"seed": 0},  # the same configurations every run
        scheduler="median_stopping_rule",
    )
    best_model = auto_est.get_best_model()
    accuracy = (best_model.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean()
    print(f"best config: {auto_est.get_best_config()}")
    print(f"best trial accuracy: {auto_est.best_value:.4f}; best model on held-out data: {accuracy:.4f}")


if __name__ == "__main__":
    main()
