"""KerasTuner's ``keras_tuner.oracles``: an oracle per built-in tuner (``Tuner(oracle=...)``, ``SklearnTuner``)."""

from __future__ import annotations

from tunelab.keras_tuner._oracle import Oracle
from tunelab.keras_tuner._tuners import (
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

__all__ = ["BayesianOptimizationOracle", "GridSearchOracle", "HyperbandOracle", "Oracle", "RandomSearchOracle"]
