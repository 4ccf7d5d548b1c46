"""KerasTuner tests: Keras on the torch backend (set before anything imports keras), tiny models on generated data."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def data() -> tuple[np.ndarray, np.ndarray]:
    """200 rows of 8 features; the class is the sign of the first two features' sum."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return x, y


@pytest.fixture
def build_model() -> Callable[[Any], Any]:
    keras = pytest.importorskip("keras")

    def build(hp: Any) -> Any:
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    return build


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Keras's torch backend hands numpy an object whose __array__ predates numpy 2 (keras, not tunelab).
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"))
            # The real keras-tuner's oracle lock calls threading.currentThread (keras-tuner, not tunelab).
            item.add_marker(pytest.mark.filterwarnings("ignore:currentThread\\(\\) is deprecated"))
            item.add_marker(pytest.mark.filterwarnings("ignore:getName\\(\\) is deprecated"))
