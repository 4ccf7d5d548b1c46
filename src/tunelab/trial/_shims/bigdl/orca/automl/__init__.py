"""``bigdl.orca.automl``: ``auto_estimator.AutoEstimator``, ``hp``, ``metrics.Evaluator``, ``pytorch_utils``."""
