"""A ``HyperModel`` that tunes how the model trains too (KerasTuner's "tune model training" guide).

``fit`` declares ``batch_size`` and ``shuffle`` while the trial runs: the first trials find them,
and the search space grows with them, as KerasTuner's ``tune_new_entries`` does. Run it as
``KERAS_BACKEND=torch python custom_fit.py``.
"""

import keras
from sklearn.datasets import load_digits

from tunelab import keras_tuner

digits = load_digits()
x, y = (digits.data / 16.0).astype("float32"), digits.target
x_train, y_train, x_val, y_val = x[:600], y[:600], x[1400:], y[1400:]  # a few hundred rows: seconds per trial


class MyHyperModel(keras_tuner.HyperModel):
    def build(self, hp):
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Int("units", min_value=16, max_value=64, step=16), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 64]), shuffle=hp.Boolean("shuffle"), **kwargs)


tuner = keras_tuner.RandomSearch(
    MyHyperModel(),
    objective="val_accuracy",
    max_trials=3,
    seed=0,
    overwrite=True,
    directory="results",
    project_name="custom_fit",
)
tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val), verbose=0)
tuner.results_summary(2)
print("best:", tuner.get_best_hyperparameters()[0].values)
