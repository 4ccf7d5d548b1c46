"""A KerasTuner drop-in on tunelab: change ``import keras_tuner`` to ``from tunelab import keras_tuner``.

``HyperParameters`` (tunelab's, with KerasTuner's vocabulary and config format), ``HyperModel``,
``Objective``, the tuners ``RandomSearch``, ``BayesianOptimization`` (tunelab's GP),
``Hyperband`` (tunelab's Hyperband scheduler, epochs as the budget), ``GridSearch`` and
``SklearnTuner``, and a ``Tuner`` whose ``run_trial`` you override. Every search is a tunelab
experiment: stored as it runs (``tunelab list``, ``tunelab show``, the dashboard), continued by
running it again with ``overwrite=False``, and ``tuner=`` picks any tunelab tuner
(``RandomSearch(..., tuner="tpe")``). ``Oracle`` can also be handed to a real
``keras_tuner.Tuner`` (see :mod:`tunelab.keras_tuner._oracle`). Keras is imported only when a
model is trained, and needs ``KERAS_BACKEND=torch`` where TensorFlow is not installed.
"""

from __future__ import annotations

from tunelab.keras_tuner import oracles
from tunelab.keras_tuner._hypermodel import HyperModel
from tunelab.keras_tuner._objective import Objective
from tunelab.keras_tuner._oracle import Oracle
from tunelab.keras_tuner._tfx import FnArgs, TunerFnResult, run_tuner_fn
from tunelab.keras_tuner._trial import Trial, TrialStatus
from tunelab.keras_tuner._tuner import Tuner
from tunelab.keras_tuner._tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch, SklearnTuner
from tunelab.space import HyperParameters

__all__ = [
    "BayesianOptimization",
    "FnArgs",
    "GridSearch",
    "HyperModel",
    "HyperParameters",
    "Hyperband",
    "Objective",
    "Oracle",
    "RandomSearch",
    "SklearnTuner",
    "Trial",
    "TrialStatus",
    "Tuner",
    "TunerFnResult",
    "oracles",
    "run_tuner_fn",
]
