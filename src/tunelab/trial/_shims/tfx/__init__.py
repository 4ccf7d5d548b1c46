"""TFX's ``tfx`` package, as far as a Tuner or Trainer module file needs it, on top of tunelab.

``from tfx import v1 as tfx`` then ``tfx.components.FnArgs`` and ``tfx.components.TunerFnResult``
(and the older paths ``tfx.components.trainer.fn_args_utils.FnArgs`` and
``tfx.components.tuner.component.TunerFnResult``). ``tunelab tfx-tune`` and ``tunelab python``
make it importable where TFX itself is not installed; a module run that way is tuned by tunelab.
"""

from __future__ import annotations

from . import v1

__all__ = ["v1"]

__version__ = "1.16.0"
