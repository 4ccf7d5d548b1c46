"""Choosing the runner from the config: local, local with GPUs, and the ray section's checks."""

from __future__ import annotations

import pytest

from tunelab.config import build_config
from tunelab.errors import ConfigError
from tunelab.runners import GpuRunner, LocalRunner, create_runner
from tunelab.runners._ray import task_options
from tunelab.runners._workers import WorkerRunner

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def test_local_is_the_default_and_gpus_wrap_it():
    assert isinstance(create_runner(build_config({"search_space": SPACE})), WorkerRunner)  # function trials
    command = {"search_space": SPACE, "trial": {"command": "true"}}
    assert type(create_runner(build_config(command))) is LocalRunner
    process = {"search_space": SPACE, "trial": {"isolation": "process"}}
    assert type(create_runner(build_config(process))) is LocalRunner
    runner = create_runner(build_config({"search_space": SPACE, "gpus_per_trial": 0.5, "gpu_indices": [1, 3]}))
    assert isinstance(runner, GpuRunner) and runner.allocator.gpus == [1, 3]


def test_ray_section_is_checked():
    with pytest.raises(ConfigError, match="ray.resources_per_trial: .*must be >= 0"):
        build_config({"search_space": SPACE, "runner": "ray", "ray": {"resources_per_trial": {"cpu": -1}}})
    with pytest.raises(ConfigError, match="ray.adress: unknown field; did you mean 'address'"):
        build_config({"search_space": SPACE, "ray": {"adress": "auto"}})
    with pytest.raises(ConfigError, match="runner"):
        build_config({"search_space": SPACE, "runner": "kubernetes"})


def test_orca_style_resources_become_ray_task_options():
    assert task_options({"cpu": 2, "gpu": 0.5, "tpu_v4": 1}) == {
        "num_cpus": 2,
        "num_gpus": 0.5,
        "resources": {"tpu_v4": 1.0},
    }
    assert task_options({}) == {"num_cpus": 1}
