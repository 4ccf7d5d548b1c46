"""Auptimizer's ``aup`` package for trial scripts and ``python -m aup``, on top of tunelab.

Trial scripts: ``BasicConfig``, ``print_result``, ``aup_args``, ``aup_flags`` and
``aup_save_model`` with Auptimizer 2.0's semantics (see :mod:`aup.aup`). Experiments:
``python -m aup experiment.json`` (run it as ``tunelab python -m aup experiment.json``)
runs the experiment with tunelab (see :mod:`aup.__main__`); so does
``Experiment(BasicConfig().load("experiment.json")).start()``.
"""

from __future__ import annotations

from .aup import BasicConfig, aup_args, aup_flags, aup_save_model, print_result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._experiment import Experiment


def __getattr__(name: str) -> Any:
    if name == "Experiment":  # for driver scripts; a trial's `from aup import ...` does not load it
        from ._experiment import Experiment

        return Experiment
    raise AttributeError(f"module 'aup' has no attribute {name!r}")


__all__ = ["BasicConfig", "Experiment", "aup_args", "aup_flags", "aup_save_model", "print_result"]

__version__ = "2.0"
