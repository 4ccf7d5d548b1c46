"""Runners decide where and how trials execute; see :mod:`tunelab.runners._base` for the contract."""

from tunelab.runners._base import Runner, TrialHandle, TrialJob
from tunelab.runners._local import LocalRunner, command_argv
from tunelab.runners._processes import is_same_process_alive, process_start_time, signal_group

__all__ = [
    "LocalRunner",
    "Runner",
    "TrialHandle",
    "TrialJob",
    "command_argv",
    "is_same_process_alive",
    "process_start_time",
    "signal_group",
]
