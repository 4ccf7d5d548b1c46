"""Scheduling overhead per trial and slot utilisation: N one-second trials at concurrency 2.

Runs the same trials (a function that sleeps one second) with tunelab's local runner,
tunelab's Ray runner and Ray Tune, and writes benchmarks/results/distributed.md.

    nice -n 10 python benchmarks/distributed/overhead.py --trials 200

Slot utilisation = (trials x 1 s) / (concurrency x wall time); per-trial overhead =
(concurrency x wall time - trials x 1 s) / trials, i.e. the slot time each trial costs
beyond its own second. The Ray cluster (2 CPUs, on loopback) is started before timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

TRIAL_SECONDS = 1.0


def sleeper(params):
    time.sleep(TRIAL_SECONDS)
    return params["x"]


def run_tunelab(runner: str, trials: int, concurrency: int) -> tuple[float, float]:
    from tunelab import Experiment, hp

    settings = {"runner": runner}
    if runner == "ray":
        settings["ray"] = {"address": "auto", "resources_per_trial": {"cpu": 1}}
    experiment = Experiment(
        objective=sleeper,
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=trials,
        concurrency=concurrency,
        seed=0,
        **settings,
    )
    experiment.create()
    start = time.perf_counter()
    result = experiment.run()
    wall = time.perf_counter() - start
    assert result.phase.value == "DONE" and len(result.trials) == trials, result.message
    span = max(t.ended_at or 0.0 for t in result.trials) - min(t.started_at or 0.0 for t in result.trials)
    return wall, span


def run_ray_tune(trials: int, concurrency: int, *, tuned: bool = False) -> tuple[float, float]:
    """Ray Tune with its defaults, or (``tuned``) configured as its docs advise for many short trials.

    Tuned: a function trainable (as in both cases), ``reuse_actors=True`` (one actor per slot runs
    trial after trial), ``max_concurrent_trials``, no automatic CSV/JSON/TensorBoard result loggers
    (``TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1``), no artifact syncing, experiment-state snapshots at
    most once a minute (``TUNE_GLOBAL_CHECKPOINT_S``), no trial checkpoints, verbose 0.
    """
    from ray import tune

    spans = Path(tempfile.mkdtemp(prefix="tune-spans-"))  # each trial's start and end (one machine)

    def trainable(config):
        began = time.time()
        time.sleep(TRIAL_SECONDS)
        (spans / f"{began}-{os.getpid()}").write_text(f"{began} {time.time()}")
        return {"score": config["x"]}

    run = {"storage_path": tempfile.mkdtemp(prefix="tune-"), "verbose": 0}
    if tuned:
        run["sync_config"] = tune.SyncConfig(sync_artifacts=False)
        run["checkpoint_config"] = tune.CheckpointConfig(checkpoint_frequency=0, checkpoint_at_end=False)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space={"x": tune.uniform(0, 1)},
        tune_config=tune.TuneConfig(
            num_samples=trials, max_concurrent_trials=concurrency, metric="score", mode="min", reuse_actors=tuned
        ),
        run_config=tune.RunConfig(**run),
    )
    start = time.perf_counter()
    results = tuner.fit()
    wall = time.perf_counter() - start
    assert len(results) == trials and not results.errors
    times = [[float(v) for v in path.read_text().split()] for path in spans.iterdir()]
    assert len(times) == trials, len(times)
    return wall, max(end for _, end in times) - min(began for began, _ in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--skip-local", action="store_true", help="only the Ray contenders")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results" / "distributed.md"))
    args = parser.parse_args()
    os.environ.setdefault("TUNELAB_HOME", tempfile.mkdtemp(prefix="tunelab-bench-"))
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read when ray is imported: stay on 127.0.0.1
    rows = []
    if not args.skip_local:
        wall, span = run_tunelab("local", args.trials, args.concurrency)
        rows.append(("tunelab, local runner (worker isolation)", wall, span))
        print(f"local: {wall:.1f} s", flush=True)

    import ray

    ray.init(num_cpus=args.concurrency, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        os.environ["RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
        wall, span = run_tunelab("ray", args.trials, args.concurrency)
        rows.append(("tunelab, Ray runner", wall, span))
        print(f"tunelab on ray: {wall:.1f} s", flush=True)
        wall, span = run_ray_tune(args.trials, args.concurrency)
        rows.append((f"Ray Tune {ray.__version__}, defaults", wall, span))
        print(f"ray tune: {wall:.1f} s", flush=True)
        os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"  # read when the run starts
        os.environ["TUNE_GLOBAL_CHECKPOINT_S"] = "60"
        wall, span = run_ray_tune(args.trials, args.concurrency, tuned=True)
        rows.append((f"Ray Tune {ray.__version__}, tuned for short trials", wall, span))
        print(f"ray tune, tuned: {wall:.1f} s", flush=True)
    finally:
        ray.shutdown()

    ideal = args.trials * TRIAL_SECONDS / args.concurrency
    lines = [
        "# Distributed runners: scheduling overhead and slot utilisation",
        "",
        f"{args.trials} trials of {TRIAL_SECONDS:g} s (a function that sleeps) at concurrency {args.concurrency}; "
        f"ideal wall time {ideal:.0f} s. Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()}. Command: `nice -n 10 {Path(sys.executable).name} benchmarks/distributed/overhead.py "
        f"--trials {args.trials}`. The Ray cluster (one node, {args.concurrency} CPUs, loopback) "
        "is started before timing. Measured on a loaded 2-core machine (other engineers' test suites "
        "running), all contenders in the same run. Ray Tune tuned: function trainable, reuse_actors=True, "
        "max_concurrent_trials, TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1, TUNE_GLOBAL_CHECKPOINT_S=60, "
        "no artifact sync, no checkpoints (its docs' advice for many short trials).",
        "",
        "",
        "Whole run: from the call that runs the experiment to its return (the runner's start, its warm-up",
        "and the engine's end included). From the first trial: from the first trial's start to the last",
        "one's end (each contender's own record of them), the slots' steady state.",
        "",
        "| runner | wall time (s) | slots busy | overhead per trial (ms) "
        "| first trial to last (s) | slots busy from the first trial | overhead per trial from the first (ms) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, wall, span in rows:
        cells = []
        for seconds in (wall, span):
            busy = args.trials * TRIAL_SECONDS / (args.concurrency * seconds)
            overhead = (args.concurrency * seconds - args.trials * TRIAL_SECONDS) / args.trials
            cells.append(f"{seconds:.1f} | {busy:.1%} | {overhead * 1000:.0f}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    lines.append("")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
