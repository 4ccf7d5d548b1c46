"""The Keras 3 backend of :class:`~tunelab.integrations.estimator.AutoEstimator`.

Keras is imported inside the functions here. Keras picks its backend when first imported:
without TensorFlow, set ``KERAS_BACKEND=torch`` before anything imports keras.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelab.errors import ConfigError

WEIGHTS_FILE = "model.weights.h5"


class KerasBackend:
    """Trains ``model_creator(config)``, a compiled Keras model (or one compiled with ``optimizer`` and ``loss``)."""

    framework = "keras"

    def __init__(self, model_creator: Callable[[dict[str, Any]], Any], optimizer: Any = None, loss: Any = None) -> None:
        if not callable(model_creator):
            raise ConfigError(f"from_keras: model_creator must be a function of the config, got {model_creator!r}")
        if (optimizer is None) != (loss is None):
            raise ConfigError("from_keras: give both optimizer and loss to compile the model, or neither")
        self.model_creator, self.optimizer, self.loss = model_creator, optimizer, loss

    def build(self, config: dict[str, Any]) -> Any:
        model = self.model_creator(dict(config))
        if self.optimizer is not None:
            optimizer = (
                self.optimizer(dict(config)) if callable(self.optimizer) else _named_optimizer(self.optimizer, config)
            )
            model.compile(optimizer=optimizer, loss=self.loss)
        elif not getattr(model, "compiled", False) and getattr(model, "optimizer", None) is None:
            raise ConfigError(
                "from_keras: model_creator must return a compiled model (model.compile(optimizer=..., loss=...)), "
                "or give from_keras optimizer= and loss="
            )
        return model

    def session(self, config: dict[str, Any], data: Any, validation_data: Any, threads: int) -> KerasSession:
        return KerasSession(self, config, data, validation_data, threads)

    def load_model(self, config: dict[str, Any], folder: Path, data: Any) -> Any:
        model = self.build(config)
        if not model.built:
            x, _ = _arrays(data, config)
            model(x[:1])
        with warnings.catch_warnings():
            # The checkpoint also holds the optimizer's state, which a model for inference does not need.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(folder / WEIGHTS_FILE)
        return model


class KerasSession:
    """One configuration training in a trial process."""

    def __init__(self, backend: KerasBackend, config: dict[str, Any], data: Any, validation_data: Any, threads: int):
        import keras

        _limit_threads(keras, threads)
        from tunelab.trial import get_trial_seed

        seed = get_trial_seed()
        if seed is not None:
            keras.utils.set_random_seed(seed)
        self.model = backend.build(config)
        self.x, self.y = _arrays(data, config)
        self.x_val, self.y_val = (self.x, self.y) if validation_data is None else _arrays(validation_data, config)
        self.batch_size = int(config.get("batch_size", 32))

    def train_epoch(self) -> None:
        self.model.fit(self.x, self.y, batch_size=self.batch_size, epochs=1, verbose=0, shuffle=True)

    def evaluate(self) -> tuple[Any, Any, float]:
        import numpy as np

        y_pred = self.model.predict(self.x_val, batch_size=self.batch_size, verbose=0)
        scores = self.model.evaluate(self.x_val, self.y_val, batch_size=self.batch_size, verbose=0, return_dict=True)
        return self.y_val, np.asarray(y_pred), float(scores["loss"])

    def save(self, folder: Path) -> None:
        # Keras checks the suffix, so the temporary file keeps it.
        tmp = folder / f"tmp.{WEIGHTS_FILE}"
        self.model.save_weights(tmp)
        tmp.replace(folder / WEIGHTS_FILE)

    def restore(self, folder: Path) -> bool:
        path = folder / WEIGHTS_FILE
        if not path.is_file():
            return False
        if not self.model.built:
            self.model(self.x[:1])
        self.model.optimizer.build(self.model.trainable_variables)  # so its saved state loads too
        self.model.load_weights(path)
        return True


def _arrays(data: Any, config: dict[str, Any]) -> tuple[Any, Any]:
    import numpy as np

    if callable(data):
        data = data(dict(config))
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ConfigError(
            f"fit: Keras data must be (x, y) arrays or a creator returning them, got {type(data).__name__}"
        )
    x, y = (np.asarray(a) for a in data)
    if len(x) != len(y):
        raise ConfigError(f"fit: x and y must have as many samples, got {len(x)} and {len(y)}")
    return x, y


def _named_optimizer(name: str, config: dict[str, Any]) -> Any:
    import keras

    cls = getattr(keras.optimizers, name, None)
    if not isinstance(cls, type):
        raise ConfigError(f"from_keras: optimizer {name!r} is not a keras.optimizers class")
    return cls(learning_rate=config.get("lr", 1e-3))


def _limit_threads(keras: Any, threads: int) -> None:
    if keras.backend.backend() == "torch":
        import torch

        torch.set_num_threads(threads)
