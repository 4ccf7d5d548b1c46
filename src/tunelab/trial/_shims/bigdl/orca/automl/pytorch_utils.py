"""``bigdl.orca.automl.pytorch_utils``: the config keys Orca's PyTorch AutoEstimator reads, and its name checks."""

from tunelab.integrations._orca_torch import (
    BATCH_SIZE_NAME,
    DEFAULT_BATCH_SIZE,
    DEFAULT_LR,
    LR_NAME,
    PYTORCH_LOSS_NAMES,
    PYTORCH_OPTIM_NAMES,
    validate_pytorch_loss,
    validate_pytorch_optim,
)

__all__ = [
    "BATCH_SIZE_NAME",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LR",
    "LR_NAME",
    "PYTORCH_LOSS_NAMES",
    "PYTORCH_OPTIM_NAMES",
    "validate_pytorch_loss",
    "validate_pytorch_optim",
]
