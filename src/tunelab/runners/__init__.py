"""Runners decide where and how trials execute; see :mod:`tunelab.runners._base` for the contract."""

from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.runners._driver import EXIT_FAILED, EXIT_OK, EXIT_STOPPED, DriverRunner, DriverTrial
from tunelab.runners._factory import create_runner
from tunelab.runners._files import prepare_trial_dir, stderr_tail, trial_environment, trial_log_path
from tunelab.runners._gpus import GpuAllocator, GpuRunner, discover_gpus
from tunelab.runners._local import LocalRunner, command_argv
from tunelab.runners._processes import is_same_process_alive, process_start_time, signal_group, stop_orphan

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_STOPPED",
    "DriverRunner",
    "DriverTrial",
    "GpuAllocator",
    "GpuRunner",
    "LocalRunner",
    "Recovered",
    "Runner",
    "TrialHandle",
    "TrialJob",
    "command_argv",
    "create_runner",
    "discover_gpus",
    "is_same_process_alive",
    "prepare_trial_dir",
    "process_start_time",
    "signal_group",
    "stderr_tail",
    "stop_orphan",
    "trial_environment",
    "trial_log_path",
]
