"""``zoo.orca.automl.auto_estimator.AutoEstimator``: tunelab's AutoEstimator, which has Orca's API."""

from tunelab.integrations.estimator import AutoEstimator

__all__ = ["AutoEstimator"]
