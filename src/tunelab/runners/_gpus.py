"""GPU sharing on one machine: which GPUs a trial may use, as its own ``CUDA_VISIBLE_DEVICES``.

:class:`GpuAllocator` is pure bookkeeping (no processes, no nvidia-smi), so it is tested
against a simulated GPU list. Each GPU has a capacity of 1.0 and at most
``max_trials_per_gpu`` trials. A trial asking for a fraction ``g < 1`` takes ``g`` of one
GPU; a trial asking for ``n >= 1`` whole GPUs takes ``1 / max_trials_per_gpu`` of each of
``n`` GPUs (so whole-GPU trials share a GPU only when the user allows it, as NNI's
``maxTrialNumberPerGpu`` does). A GPU never carries more than its capacity.

:class:`GpuRunner` wraps any runner: it allocates before a trial starts, sets the
trial's ``CUDA_VISIBLE_DEVICES`` and frees the GPUs when the trial ends. While no GPU is
free it tells the engine why trials wait (:meth:`Runner.wait_reason`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tunelab.errors import ConfigError, RunnerError
from tunelab.runners._base import Recovered, Runner, TrialHandle, TrialJob
from tunelab.trial._channel import BadReport, Report

_EPS = 1e-9
logger = logging.getLogger("tunelab")


def discover_gpus(nvidia_smi: str | None = None) -> list[int]:
    """Indices of the GPUs ``nvidia-smi`` lists; empty when it is missing or fails."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("nvidia-smi lists no GPU: %s", str(exc).strip().splitlines()[0] if str(exc).strip() else exc)
        return []
    return [int(line) for line in out.split() if line.strip().isdigit()]


class GpuAllocator:
    """Hands out GPU indices to trials without oversubscribing any GPU. Not thread-safe."""

    def __init__(self, gpus: Sequence[int], gpus_per_trial: float, max_trials_per_gpu: int | None = None) -> None:
        self.gpus = list(dict.fromkeys(int(g) for g in gpus))
        self.gpus_per_trial = float(gpus_per_trial)
        self.max_trials_per_gpu = max_trials_per_gpu
        if not self.gpus_per_trial > 0:
            raise ConfigError(f"gpus_per_trial must be > 0, got {gpus_per_trial!r}")
        if self.gpus_per_trial > 1 and not self.gpus_per_trial.is_integer():
            raise ConfigError(f"gpus_per_trial above 1 must be a whole number, got {gpus_per_trial!r}")
        if max_trials_per_gpu is not None and max_trials_per_gpu < 1:
            raise ConfigError(f"max_trials_per_gpu must be >= 1, got {max_trials_per_gpu!r}")
        if not self.gpus:
            raise ConfigError("gpus_per_trial is set but no GPU was found (nvidia-smi lists none; set gpu_indices)")
        if self.whole > len(self.gpus):
            raise ConfigError(
                f"gpus_per_trial={gpus_per_trial:g} but only {len(self.gpus)} GPU(s) are usable: {self.gpus}"
            )
        self._load = {g: 0.0 for g in self.gpus}
        self._count = {g: 0 for g in self.gpus}
        self._held: dict[int, tuple[int, ...]] = {}

    @property
    def whole(self) -> int:
        """How many GPUs one trial spans."""
        return max(1, math.ceil(self.gpus_per_trial - _EPS))

    @property
    def share(self) -> float:
        """The part of each of its GPUs one trial takes."""
        if self.gpus_per_trial < 1:
            return self.gpus_per_trial
        return 1.0 / (self.max_trials_per_gpu or 1)

    def _fits(self, gpu: int) -> bool:
        if self.max_trials_per_gpu is not None and self._count[gpu] >= self.max_trials_per_gpu:
            return False
        return self._load[gpu] + self.share <= 1.0 + _EPS

    def allocate(self, key: int) -> tuple[int, ...] | None:
        """GPUs for trial ``key`` (least loaded first), or None when they are not free now."""
        if key in self._held:
            return self._held[key]
        free = sorted((g for g in self.gpus if self._fits(g)), key=lambda g: (self._load[g], self.gpus.index(g)))
        if len(free) < self.whole:
            return None
        chosen = tuple(sorted(free[: self.whole], key=self.gpus.index))
        for gpu in chosen:
            self._load[gpu] += self.share
            self._count[gpu] += 1
        self._held[key] = chosen
        return chosen

    def release(self, key: int) -> None:
        for gpu in self._held.pop(key, ()):
            self._load[gpu] = max(0.0, self._load[gpu] - self.share)
            self._count[gpu] -= 1

    def load(self) -> dict[int, float]:
        """Each GPU's allocated share, for tests and wait reasons."""
        return dict(self._load)

    def describe_busy(self) -> str:
        used = ", ".join(f"GPU {g}: {self._count[g]} trial(s)" for g in self.gpus)
        return f"waiting for a free GPU ({self.gpus_per_trial:g} per trial; {used})"


class _GpuHandle(TrialHandle):
    def __init__(self, inner: TrialHandle, allocator: GpuAllocator, key: int, gpus: tuple[int, ...]) -> None:
        self._inner = inner
        self._allocator = allocator
        self._key = key
        self.gpus = gpus
        self.job = inner.job
        self.pid = inner.pid

    def poll(self) -> int | None:
        code = self._inner.poll()
        if code is not None:
            self._allocator.release(self._key)
        return code

    def read_reports(self) -> list[Report | BadReport]:
        return self._inner.read_reports()

    def stop(self, grace: float) -> None:
        self._inner.stop(grace)

    def request_stop(self) -> None:
        self._inner.request_stop()

    def failure_detail(self) -> str:
        return self._inner.failure_detail()

    def fileno(self) -> int:
        return self._inner.fileno()


class GpuRunner(Runner):
    """Wraps a runner so that each trial gets GPUs of its own through ``CUDA_VISIBLE_DEVICES``."""

    def __init__(self, inner: Runner, allocator: GpuAllocator) -> None:
        self.inner = inner
        self.allocator = allocator
        self._next_key = 0

    def wait_reason(self) -> str:
        probe = self.allocator.allocate(-1)
        if probe is None:
            return self.allocator.describe_busy()
        self.allocator.release(-1)
        return self.inner.wait_reason()

    def start(self, job: TrialJob) -> TrialHandle:
        key = self._next_key
        self._next_key += 1
        gpus = self.allocator.allocate(key)
        if gpus is None:  # the engine asks wait_reason() first; this is a caller's mistake
            raise RunnerError(self.allocator.describe_busy())
        visible = ",".join(str(g) for g in gpus)
        job = dataclasses.replace(job, env={**job.env, "CUDA_VISIBLE_DEVICES": visible})
        try:
            inner = self.inner.start(job)
        except BaseException:
            self.allocator.release(key)
            raise
        return _GpuHandle(inner, self.allocator, key, gpus)

    def wait(self, handles: Sequence[TrialHandle], timeout: float) -> None:
        self.inner.wait([h._inner if isinstance(h, _GpuHandle) else h for h in handles], timeout)

    def recover(self, job: TrialJob, pid: int | None, pid_start: str | None, grace: float) -> Recovered:
        return self.inner.recover(job, pid, pid_start, grace)  # stopped before any GPU is handed out again

    def make_ahead(self, trial_dir: Path) -> None:
        self.inner.make_ahead(trial_dir)

    def close(self) -> None:
        self.inner.close()


def replica_devices(visible: str, gpus_per_rank: Sequence[float]) -> list[str] | None:
    """Each replica's own ``CUDA_VISIBLE_DEVICES`` out of the trial's ``visible`` ones, in rank order, as Ray's
    placement group gives each replica its bundle's GPUs: the replicas asking for whole GPUs take them first,
    in rank order; fractions share the rest, first fit; a replica asking for none gets ``""``.

    None when the replicas ask for no GPUs or for more than the trial holds: every replica sees all of them.
    """
    devices = [d.strip() for d in visible.split(",") if d.strip()]
    if not any(g > 0 for g in gpus_per_rank) or sum(gpus_per_rank) > len(devices) + _EPS:
        return None
    out = [""] * len(gpus_per_rank)
    cursor = 0
    for rank, gpus in enumerate(gpus_per_rank):
        if gpus >= 1:
            whole = math.ceil(gpus - _EPS)
            if cursor + whole > len(devices):
                return None
            out[rank] = ",".join(devices[cursor : cursor + whole])
            cursor += whole
    shared = devices[cursor:]
    load = [0.0] * len(shared)
    for rank, gpus in enumerate(gpus_per_rank):
        if 0 < gpus < 1:
            fit = next((i for i in range(len(shared)) if load[i] + gpus <= 1 + _EPS), None)
            if fit is None:
                return None
            out[rank] = shared[fit]
            load[fit] += gpus
    return out
