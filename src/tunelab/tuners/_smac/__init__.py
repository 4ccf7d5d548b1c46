"""SMAC: random-forest surrogate, log-space EI, local and sorted random search (SMAC3's HPO facade)."""

from tunelab.tuners._smac._tuner import SMACTuner

__all__ = ["SMACTuner"]
