"""Experiment configs: tunelab's schema and loaders for NNI, T9k AutoTuneExperiment and Auptimizer."""

from tunelab.config._check import check_startup, import_function
from tunelab.config._load import LoadedConfig, detect_format, load_config, load_config_dict
from tunelab.config._schema import (
    AlgorithmConfig,
    ExperimentConfig,
    FailureConfig,
    TrialConfig,
    build_config,
    format_duration,
    parse_duration,
)

__all__ = [
    "AlgorithmConfig",
    "ExperimentConfig",
    "FailureConfig",
    "LoadedConfig",
    "TrialConfig",
    "build_config",
    "check_startup",
    "detect_format",
    "format_duration",
    "import_function",
    "load_config",
    "load_config_dict",
    "parse_duration",
]
