"""NNI's experiment API (``from nni.experiment import Experiment``) on top of tunelab.

``Experiment('local')`` (or ``Experiment(ExperimentConfig(...))``), fill ``.config`` with NNI
v2's fields in snake_case, then ``run(port)``. See ``docs/migrating-nni.md``.
"""

from .config import (
    AlgorithmConfig,
    CustomAlgorithmConfig,
    ExperimentConfig,
    LocalConfig,
    TrainingServiceConfig,
)
from .data import TrialHyperParameters, TrialJob, TrialMetricData, TrialResult
from .experiment import Experiment, RunMode

__all__ = [
    "AlgorithmConfig",
    "CustomAlgorithmConfig",
    "Experiment",
    "ExperimentConfig",
    "LocalConfig",
    "RunMode",
    "TrainingServiceConfig",
    "TrialHyperParameters",
    "TrialJob",
    "TrialMetricData",
    "TrialResult",
]
