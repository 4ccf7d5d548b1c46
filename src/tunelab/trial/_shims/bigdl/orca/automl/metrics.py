"""``bigdl.orca.automl.metrics``: Orca's ``Evaluator`` and metric functions."""

from tunelab.integrations._orca_metrics import *  # noqa: F403
from tunelab.integrations._orca_metrics import __all__ as __all__
