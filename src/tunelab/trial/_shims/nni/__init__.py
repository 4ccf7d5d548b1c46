"""NNI's trial API on top of tunelab's (``nni.get_next_parameter`` and friends).

Also ``nni.trace``, ``nni.typehint`` and, for driver scripts run with ``tunelab python``,
``nni.Experiment`` / ``nni.experiment.Experiment`` (imported only when used, so a trial's
``import nni`` stays light).
"""

from __future__ import annotations

from tunelab.trial import _context

TYPE_CHECKING = False  # typing's own flag costs an import of typing; a trial's `import nni` stays light
if TYPE_CHECKING:
    from typing import Any

    from ._trace import trace
    from .experiment import Experiment

__all__ = [
    "Experiment",
    "NoMoreTrialError",
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_next_parameters",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name == "trace":  # it imports inspect: only for the scripts that trace
        from ._trace import trace

        return trace
    if name == "Experiment":
        from .experiment import Experiment

        return Experiment
    if name in ("experiment", "typehint", "utils"):  # submodules NNI imports with the package
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nni' has no attribute {name!r}")


class NoMoreTrialError(Exception):
    """Raised by NNI's tuners when the search space is used up."""

    def __init__(self, ErrorInfo: str = "Search space fully explored") -> None:
        super().__init__(ErrorInfo)
        self.errorinfo = ErrorInfo

    def __str__(self) -> str:
        return self.errorinfo


def get_next_parameter() -> dict[str, Any]:
    """The trial's parameters (NNI returns an empty dict outside an experiment, and so do we)."""
    return dict(_context.current().params)


def get_next_parameters() -> dict[str, Any]:
    """Alias of :func:`get_next_parameter`, as in NNI."""
    return get_next_parameter()


def get_current_parameter(tag: str | None = None) -> Any:
    params = _context.current().params
    return params if tag is None else params[tag]


def report_intermediate_result(metric: Any) -> None:
    _context.current().report(metric)


def report_final_result(metric: Any) -> None:
    _context.current().report_final(metric)


def get_trial_id() -> str:
    return _context.current().trial_id


def get_experiment_id() -> str:
    return _context.current().experiment_id


def get_sequence_id() -> int:
    return _context.current().number
