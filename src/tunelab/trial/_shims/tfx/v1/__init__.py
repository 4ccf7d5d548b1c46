"""``tfx.v1``: the public API names a module file uses (``tfx.components.FnArgs``, ``TunerFnResult``)."""

from __future__ import annotations

from . import components

__all__ = ["components"]
