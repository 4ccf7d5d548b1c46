"""The runner an experiment's config asks for: local processes or Ray, with GPUs shared out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunelab.runners._base import Runner
from tunelab.runners._gpus import GpuAllocator, GpuRunner, discover_gpus
from tunelab.runners._local import LocalRunner
from tunelab.runners._workers import WorkerRunner

if TYPE_CHECKING:
    from tunelab.config import ExperimentConfig


def isolation_of(config: ExperimentConfig) -> str:
    """How the experiment's trials run: ``trial.isolation``; by default ``worker`` for functions (``process``
    when trials get GPUs), ``process`` for commands."""
    trial = config.trial
    if trial.isolation is not None:
        return trial.isolation
    if trial.command is not None or trial.distributed is not None:
        return "process"
    # A trial's CUDA_VISIBLE_DEVICES takes effect only in a process that has not used a GPU yet.
    return "process" if config.gpus_per_trial else "worker"


def create_runner(config: ExperimentConfig) -> Runner:
    """``runner: local`` (GPU-aware when ``gpus_per_trial`` is set; function trials inline, in reused
    workers or in a process each, as ``trial.isolation`` says) or ``runner: ray``."""
    if config.runner == "ray":
        from tunelab.runners._ray import RayRunner

        resources = dict(config.ray.resources_per_trial)
        if config.gpus_per_trial and "gpu" not in resources:
            resources["gpu"] = config.gpus_per_trial
        return RayRunner(
            address=config.ray.address,
            resources_per_trial=resources,
            runtime_env=config.ray.runtime_env,
            stop_grace=config.trial.stop_grace or 5.0,
        )
    isolation = isolation_of(config)
    if isolation == "inline":
        from tunelab.runners._inline import InlineRunner

        return InlineRunner()
    runner: Runner = WorkerRunner() if isolation == "worker" else LocalRunner()
    if config.gpus_per_trial:
        gpus = config.gpu_indices if config.gpu_indices is not None else discover_gpus()
        runner = GpuRunner(runner, GpuAllocator(gpus, config.gpus_per_trial, config.max_trials_per_gpu))
    return runner
