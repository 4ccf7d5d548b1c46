"""``tfx.v1.components``: ``FnArgs`` and ``TunerFnResult`` (tunelab's, from ``tunelab.keras_tuner``)."""

from __future__ import annotations

from tunelab.keras_tuner._tfx import FnArgs, TunerFnResult

__all__ = ["FnArgs", "TunerFnResult"]
