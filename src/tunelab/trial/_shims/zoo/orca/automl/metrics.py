"""``zoo.orca.automl.metrics``: Orca's ``Evaluator`` and metric functions."""

from tunelab.integrations._orca_metrics import (
    EPSILON,
    MAE,
    MAPE,
    MDAPE,
    ME,
    MPE,
    MSE,
    MSLE,
    MSPE,
    R2,
    RMSE,
    Accuracy,
    Evaluator,
    sMAPE,
    sMDAPE,
)

__all__ = [
    "EPSILON",
    "MAE",
    "MAPE",
    "MDAPE",
    "ME",
    "MPE",
    "MSE",
    "MSLE",
    "MSPE",
    "R2",
    "RMSE",
    "Accuracy",
    "Evaluator",
    "sMAPE",
    "sMDAPE",
]
