"""Tuners decide what to try next (ask/tell). See :class:`tunelab.tuners.Tuner` for the contract."""

from tunelab.tuners._anneal import AnnealTuner
from tunelab.tuners._auto import AutoTuner
from tunelab.tuners._base import Batch, Mode, Observation, Tuner, normalize_mode, split_value
from tunelab.tuners._batch import BatchTuner
from tunelab.tuners._cmaes import CMAESTuner
from tunelab.tuners._evolution import EvolutionTuner
from tunelab.tuners._gp import GPTuner
from tunelab.tuners._grid import GridTuner
from tunelab.tuners._random import RandomTuner
from tunelab.tuners._registry import (
    ALIASES,
    TUNERS,
    available_tuners,
    create_tuner,
    nni_default_mode,
    resolve_tuner_name,
    tuner_arguments,
)
from tunelab.tuners._tpe import TPETuner

__all__ = [
    "ALIASES",
    "TUNERS",
    "AnnealTuner",
    "AutoTuner",
    "Batch",
    "BatchTuner",
    "CMAESTuner",
    "EvolutionTuner",
    "GPTuner",
    "GridTuner",
    "Mode",
    "Observation",
    "RandomTuner",
    "TPETuner",
    "Tuner",
    "available_tuners",
    "create_tuner",
    "nni_default_mode",
    "normalize_mode",
    "resolve_tuner_name",
    "split_value",
    "tuner_arguments",
]
