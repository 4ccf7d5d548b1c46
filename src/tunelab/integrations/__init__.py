"""Tune models of other frameworks in a few lines.

Each module imports its framework only when used, so ``import tunelab`` stays light:

- :mod:`tunelab.integrations.sklearn`: ``TuneSearchCV``, a drop-in for ``RandomizedSearchCV``
  driven by any tunelab tuner (re-exported as :mod:`tunelab.sklearn`);
- :mod:`tunelab.integrations.estimator`: ``AutoEstimator`` with Orca's ``from_torch`` and
  ``from_keras`` (Keras 3; the torch backend is enough);
- :mod:`tunelab.integrations.xgboost` and :mod:`tunelab.integrations.lightgbm`: callbacks
  that report every boosting round and stop the booster when the trial is stopped.
"""
