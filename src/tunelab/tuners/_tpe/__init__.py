"""Tree-structured Parzen estimator (TPE), univariate or multivariate, with NNI's arguments."""

from tunelab.tuners._tpe._tuner import TPETuner

__all__ = ["TPETuner"]
