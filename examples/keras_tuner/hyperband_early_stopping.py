"""Hyperband over epochs with Keras's EarlyStopping, on scikit-learn's digits.

Brackets of successive halving train configurations for 1 and 3 epochs (six trials); a promoted
one continues from its parent's weights. Run it as ``KERAS_BACKEND=torch python hyperband_early_stopping.py``;
``tunelab show hyperband`` then shows the stored experiment.
"""

import keras
from sklearn.datasets import load_digits

from tunelab import keras_tuner

digits = load_digits()
x, y = (digits.data[:900] / 16.0).astype("float32"), digits.target[:900]


def build_model(hp):
    model = keras.Sequential([keras.Input((64,))])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(keras.layers.Dense(hp.Int(f"units_{i}", 16, 64, step=16), activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


tuner = keras_tuner.Hyperband(
    build_model,
    objective="val_accuracy",
    max_epochs=3,
    factor=3,
    seed=0,
    overwrite=True,
    directory="results",
    project_name="hyperband",
)
stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
tuner.search(x, y, validation_split=0.2, callbacks=[stop_early], verbose=0)
best = tuner.get_best_hyperparameters()[0]
print("best:", best.values)
model = tuner.get_best_models()[0]
print("accuracy of the best model on the validation rows:", model.evaluate(x[-180:], y[-180:], verbose=0)[1])
