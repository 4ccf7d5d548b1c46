"""Orca's ``automl.pytorch_utils``: the config keys its PyTorch AutoEstimator reads, and its name checks.

Imports torch (as Orca's module does); only the ``pytorch_utils`` compatibility module imports this.
"""

from __future__ import annotations

import types
from typing import Any

import torch

from tunelab.errors import ConfigError, did_you_mean

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


PYTORCH_LOSS_NAMES = {s for s in dir(torch.nn.modules) if s.endswith("Loss")}
PYTORCH_OPTIM_NAMES = {s for s in dir(torch.optim) if any(c.isupper() for c in s)} - {"Optimizer"}

#: With an optimizer given by name, the learning rate is ``config[LR_NAME]`` (default ``DEFAULT_LR``).
LR_NAME = "lr"
DEFAULT_LR = 1e-3
#: With (x, y) arrays, the batch size is ``config[BATCH_SIZE_NAME]`` (default ``DEFAULT_BATCH_SIZE``).
BATCH_SIZE_NAME = "batch_size"
DEFAULT_BATCH_SIZE = 32


def validate_pytorch_loss(loss: Any) -> Any:
    """A loss instance from a name; a loss instance or creator function as it is."""
    if isinstance(loss, str):
        if loss in PYTORCH_LOSS_NAMES:
            return getattr(torch.nn.modules, loss)()
        raise ConfigError(f"loss: {loss!r} is not a torch loss{did_you_mean(loss, sorted(PYTORCH_LOSS_NAMES))}")
    if isinstance(loss, (torch.nn.modules.loss._Loss, types.FunctionType)):
        return loss
    raise ConfigError(f"loss: expected a torch loss name, instance or creator function, got {loss!r}")


def validate_pytorch_optim(optim: Any) -> Any:
    """An optimizer class from a name; a creator function as it is."""
    if isinstance(optim, str):
        if optim in PYTORCH_OPTIM_NAMES:
            return getattr(torch.optim, optim)
        raise ConfigError(
            f"optimizer: {optim!r} is not a torch optimizer{did_you_mean(optim, sorted(PYTORCH_OPTIM_NAMES))}"
        )
    if isinstance(optim, types.FunctionType):
        return optim
    raise ConfigError(f"optimizer: expected a torch optimizer name or creator function, got {optim!r}")
