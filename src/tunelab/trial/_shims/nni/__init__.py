"""NNI's trial API on top of tunelab's (``nni.get_next_parameter`` and friends)."""

from __future__ import annotations

from typing import Any

from tunelab.trial import _context

__all__ = [
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
]


def get_next_parameter() -> dict[str, Any]:
    """The trial's parameters (NNI returns an empty dict outside an experiment, and so do we)."""
    return dict(_context.current().params)


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
