"""Gaussian-process Bayesian optimization (Matern-5/2 ARD, log-EI, kriging believer)."""

from tunelab.tuners._gp._tuner import GPTuner

__all__ = ["GPTuner"]
