"""``bigdl.orca.automl.pytorch_utils``: the config keys Orca's PyTorch AutoEstimator reads, and its name checks."""

from tunelab.integrations._orca_torch import *  # noqa: F403
from tunelab.integrations._orca_torch import __all__ as __all__
