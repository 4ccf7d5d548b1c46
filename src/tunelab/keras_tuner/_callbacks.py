"""The Keras callback a search adds to each ``fit``: epochs as tunelab reports, stops, the best epoch's weights.

Keras is imported when the callback is made, so ``tunelab.keras_tuner`` imports without it.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import tunelab
from tunelab._atomic import write_json
from tunelab.keras_tuner._objective import Objective

__all__ = ["BUILD_FILE", "WEIGHTS_FILE", "load_weights", "reporting_callback"]

#: The best epoch's weights of a trial, in its checkpoint folder.
WEIGHTS_FILE = "model.weights.h5"
#: Beside them, the model's build config (its input shapes), so a model built later can take them.
BUILD_FILE = "build_config.json"


def reporting_callback(objective: Objective, checkpoint_dir: Path | None, report: bool, should_stop: Any) -> Any:
    """A ``keras.callbacks.Callback`` for one execution of a trial.

    After each epoch it reports the objective's value with the epoch's metrics (``report``:
    the first execution only, so a scheduler sees one curve), saves the weights when the epoch
    is the best so far (into ``checkpoint_dir``) and ends training once ``should_stop()`` is true.
    """
    import keras

    class TunelabCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.best: float | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = {k: float(v) for k, v in (logs or {}).items() if _scalar(v)}
            if objective.has_value(logs):
                value = objective.get_value(logs)
                if report:
                    tunelab.report(value, step=epoch, **logs)
                if checkpoint_dir is not None and math.isfinite(value):
                    if self.best is None or objective.better_than(value, self.best):
                        self.best = value
                        checkpoint_dir.mkdir(parents=True, exist_ok=True)
                        self.model.save_weights(checkpoint_dir / WEIGHTS_FILE)
                        write_json(checkpoint_dir / BUILD_FILE, self.model.get_build_config())
            if should_stop():
                self.model.stop_training = True

    return TunelabCallback()


def load_weights(model: Any, checkpoint_dir: Path) -> bool:
    """Give ``model`` the weights a trial saved in ``checkpoint_dir`` (building it first if needed); False if none."""
    weights = checkpoint_dir / WEIGHTS_FILE
    if not weights.is_file():
        return False
    build = checkpoint_dir / BUILD_FILE
    if not getattr(model, "built", True) and build.is_file():
        model.build_from_config(json.loads(build.read_text()))
    with warnings.catch_warnings():
        # The checkpoint also holds the optimizer's state, which a rebuilt model does not have yet.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(weights)
    return True


def _scalar(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
