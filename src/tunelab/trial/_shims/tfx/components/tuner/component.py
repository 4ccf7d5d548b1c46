"""``tfx.components.tuner.component.TunerFnResult``."""

from __future__ import annotations

from tunelab.keras_tuner._tfx import TunerFnResult

__all__ = ["TunerFnResult"]
