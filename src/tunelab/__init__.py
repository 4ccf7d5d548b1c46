"""tunelab: hyperparameter tuning that finds better configurations in fewer trials.

The trial API (``get_params``, ``report``, ``report_final``, ``should_stop``) is imported
eagerly and uses only the standard library, so ``import tunelab`` in a trial script is
cheap. Everything else (``Experiment``, ``optimize``, ``create_tuner``, ``hp``...) is
imported on first use.
"""

from __future__ import annotations

import sys

from tunelab.trial import (
    get_budget,
    get_checkpoint_dir,
    get_experiment_id,
    get_params,
    get_trial_id,
    get_trial_seed,
    report,
    report_final,
    should_stop,
)

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing's own flag costs an import of typing; a trial process needs none of it
if TYPE_CHECKING:
    from typing import Any


def _quiet_logger() -> None:
    """The library's logger gets a NullHandler (no output unless the application configures logging).

    Done when the rest of tunelab is first used, or now if :mod:`logging` is loaded already: a trial
    process that only reports never imports logging.
    """
    import logging

    logger = logging.getLogger("tunelab")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


if "logging" in sys.modules:
    _quiet_logger()

_LAZY = {
    "AutoEstimator": "tunelab.integrations.estimator",
    "Experiment": "tunelab.engine",
    "Result": "tunelab.engine",
    "optimize": "tunelab.engine",
    "create_tuner": "tunelab.tuners",
    "SearchSpace": "tunelab.space",
    "HyperParameters": "tunelab.space",
    "load_best": "tunelab.artifacts",
    "hp": "tunelab.hp",
    "errors": "tunelab.errors",
    "keras_tuner": "tunelab.keras_tuner",
}

__all__ = [
    "AutoEstimator",
    "Experiment",
    "HyperParameters",
    "Result",
    "SearchSpace",
    "__version__",
    "create_tuner",
    "errors",
    "get_budget",
    "get_checkpoint_dir",
    "get_experiment_id",
    "get_params",
    "get_trial_id",
    "get_trial_seed",
    "hp",
    "keras_tuner",
    "load_best",
    "optimize",
    "report",
    "report_final",
    "should_stop",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tunelab' has no attribute {name!r}")
    import importlib

    _quiet_logger()
    module = importlib.import_module(module_name)
    value = module if module_name.endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from tunelab import errors, hp, keras_tuner
    from tunelab.artifacts import load_best
    from tunelab.engine import Experiment, Result, optimize
    from tunelab.integrations.estimator import AutoEstimator
    from tunelab.space import HyperParameters, SearchSpace
    from tunelab.tuners import create_tuner
