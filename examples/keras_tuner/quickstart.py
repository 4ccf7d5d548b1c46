"""KerasTuner's README quickstart with only the import changed (``from tunelab import keras_tuner``).

Run it as ``KERAS_BACKEND=torch python quickstart.py`` (Keras 3 on PyTorch; TensorFlow is not needed).
The data are generated here (the README leaves ``x_train``... to the reader).
"""

import keras
import numpy as np

from tunelab import keras_tuner

rng = np.random.default_rng(0)
x_train, x_val = rng.normal(size=(256, 4)), rng.normal(size=(64, 4))
y_train, y_val = np.abs(x_train).sum(axis=1), np.abs(x_val).sum(axis=1)


def build_model(hp):
    model = keras.Sequential()
    model.add(keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"))
    model.add(keras.layers.Dense(1, activation="relu"))
    model.compile(loss="mse")
    return model


tuner = keras_tuner.RandomSearch(build_model, objective="val_loss", max_trials=5)

tuner.search(x_train, y_train, epochs=5, validation_data=(x_val, y_val))
best_model = tuner.get_best_models()[0]
print("best:", tuner.get_best_hyperparameters()[0].values, "val_loss:", best_model.evaluate(x_val, y_val, verbose=0))
