"""``tfx.components.trainer.fn_args_utils.FnArgs``."""

from __future__ import annotations

from tunelab.keras_tuner._tfx import FnArgs

__all__ = ["FnArgs"]
