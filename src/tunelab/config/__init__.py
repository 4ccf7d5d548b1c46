"""Experiment configs: tunelab's schema and loaders for NNI, T9k AutoTuneExperiment and Auptimizer."""

from tunelab.config._schema import (
    AlgorithmConfig,
    ExperimentConfig,
    FailureConfig,
    TrialConfig,
    build_config,
    parse_duration,
)

__all__ = [
    "AlgorithmConfig",
    "ExperimentConfig",
    "FailureConfig",
    "TrialConfig",
    "build_config",
    "parse_duration",
]
