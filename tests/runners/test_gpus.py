"""GPU sharing against simulated GPU lists: allocation rules, CUDA_VISIBLE_DEVICES, no oversubscription."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

import tunelab
from tunelab import Experiment, hp
from tunelab.errors import ConfigError
from tunelab.runners import GpuAllocator, discover_gpus
from tunelab.storage import Phase, TrialState


def test_whole_gpus_are_never_shared_by_default():
    alloc = GpuAllocator([0, 1, 2], gpus_per_trial=1)
    assert [alloc.allocate(k) for k in range(4)] == [(0,), (1,), (2,), None]
    alloc.release(1)
    assert alloc.allocate(9) == (1,)


def test_fractions_pack_up_to_capacity_and_spread_first():
    alloc = GpuAllocator([0, 1], gpus_per_trial=0.5)
    got = [alloc.allocate(k) for k in range(5)]
    assert got == [(0,), (1,), (0,), (1,), None]
    assert alloc.load() == {0: 1.0, 1: 1.0}
    alloc = GpuAllocator([0], gpus_per_trial=0.3)
    assert [alloc.allocate(k) for k in range(4)] == [(0,), (0,), (0,), None]  # 0.9 used, 1.2 would oversubscribe


def test_max_trials_per_gpu_caps_fractions_and_lets_whole_gpus_share():
    alloc = GpuAllocator([0], gpus_per_trial=0.25, max_trials_per_gpu=2)
    assert [alloc.allocate(k) for k in range(3)] == [(0,), (0,), None]
    alloc = GpuAllocator([4, 6], gpus_per_trial=1, max_trials_per_gpu=2)  # NNI's maxTrialNumberPerGpu
    assert [alloc.allocate(k) for k in range(5)] == [(4,), (6,), (4,), (6,), None]


def test_multi_gpu_trials_take_distinct_gpus():
    alloc = GpuAllocator([0, 1, 2, 3], gpus_per_trial=2)
    assert alloc.allocate(0) == (0, 1) and alloc.allocate(1) == (2, 3) and alloc.allocate(2) is None


@pytest.mark.parametrize(
    ("gpus", "per_trial", "per_gpu", "message"),
    [
        ([0], 0, None, "gpus_per_trial must be > 0"),
        ([0, 1], 1.5, None, "must be a whole number, got 1.5"),
        ([0], 2, None, "only 1 GPU"),
        ([], 1, None, "no GPU was found"),
        ([0], 1, 0, "max_trials_per_gpu must be >= 1"),
    ],
)
def test_bad_settings_are_one_line_errors(gpus, per_trial, per_gpu, message):
    with pytest.raises(ConfigError, match=message):
        GpuAllocator(gpus, per_trial, per_gpu)


def test_discovery_reads_nvidia_smi(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nprintf '0\\n1\\n3\\n'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert discover_gpus(str(fake)) == [0, 1, 3]
    assert discover_gpus(str(tmp_path / "missing")) == []


def _gpu_trial(params):
    start = time.time()
    time.sleep(0.3)
    tunelab.report(0.0, step=0)
    with open(os.path.join(os.environ["LOG_DIR"], f"{tunelab.get_trial_id()}.json"), "w") as handle:
        json.dump({"gpus": os.environ.get("CUDA_VISIBLE_DEVICES"), "start": start, "end": time.time()}, handle)
    return params["x"]


def test_experiment_gives_each_trial_its_own_gpus_without_oversubscribing(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    experiment = Experiment(
        objective=_gpu_trial,
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=8,
        concurrency=6,
        gpus_per_trial=0.5,
        gpu_indices=[2, 5],
        seed=0,
    )
    result = experiment.run()
    assert result.phase == Phase.DONE and all(t.state == TrialState.SUCCEEDED for t in result.trials)
    runs = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert len(runs) == 8 and {r["gpus"] for r in runs} == {"2", "5"}
    for gpu in ("2", "5"):  # at no moment more than two trials (2 x 0.5) on one GPU
        events = sorted(
            [(r["start"], 1) for r in runs if r["gpus"] == gpu] + [(r["end"], -1) for r in runs if r["gpus"] == gpu]
        )
        level = peak = 0
        for _, delta in events:
            level += delta
            peak = max(peak, level)
        assert peak <= 2


@pytest.mark.parametrize(
    ("visible", "per_rank", "expected"),
    [
        ("0,1", [1, 1], ["0", "1"]),  # one each, in rank order
        ("4,5,6,7", [2, 1, 1], ["4,5", "6", "7"]),
        ("2,3", [0.5, 0.5, 1], ["3", "3", "2"]),  # whole GPUs first; the halves share the one left
        ("2,3", [0.5, 1, 0.5], ["3", "2", "3"]),
        ("0,1", [1, 0], ["0", ""]),  # a replica asking for none sees none, as on Ray
        ("0,1", [0, 0], None),  # the replicas name no GPUs: each sees all of the trial's
        ("0", [1, 1], None),  # more than the trial holds: each sees all
        ("0,1", [0.75, 0.75], ["0", "1"]),  # two that cannot share one GPU
    ],
)
def test_each_replica_gets_its_own_gpus_out_of_the_trials(visible, per_rank, expected):
    from tunelab.runners._gpus import replica_devices

    assert replica_devices(visible, per_rank) == expected
