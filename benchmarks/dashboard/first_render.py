"""Time to first render of the dashboard for a large experiment (a benchmark, not a test).

Fills storage through the storage API with 10,000 finished trials of 100 intermediate
results each (1,000,000 reports), serves the dashboard on loopback, opens the
experiment's page in headless Chromium, and reads when the trials table and the
best-so-far chart first showed data (``performance.mark`` in the page, measured from
navigation start). Results go to ``benchmarks/results/dashboard.md``.

    .venv/bin/python benchmarks/dashboard/first_render.py [--trials 10000] [--points 100] [--db PATH]

The database is kept (default ``/tmp/tunelab-dashboard-bench.db``) and reused on the next run.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import time
from pathlib import Path

from tunelab.server import Dashboard, ServeOptions
from tunelab.server._table import SnapshotCache
from tunelab.storage import IntermediateResult, Phase, SQLiteStorage, TrialRecord, TrialState
from tunelab.testing import CHROMIUM, CHROMIUM_ARGS

RESULTS = Path(__file__).resolve().parents[1] / "results" / "dashboard.md"
EXPERIMENT = "bench10k"


def fill(store: SQLiteStorage, trials: int, points: int) -> float:
    """Write the experiment through the storage API; returns seconds taken."""
    start = time.perf_counter()
    space = {
        "x": {"_type": "uniform", "_value": [-5, 5]},
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        "opt": {"_type": "choice", "_value": ["adam", "sgd", "rmsprop"]},
        "layers": {"_type": "randint", "_value": [1, 8]},
    }
    config = {"mode": "min", "metric": "default", "max_trials": trials, "concurrency": 8, "search_space": space}
    store.create_experiment(
        EXPERIMENT, name="bench-10k", config=config, format="tunelab", experiment_dir="/tmp/bench10k"
    )
    rng = random.Random(0)
    t0 = time.time() - trials * 2.0
    store.update_experiment(EXPERIMENT, phase=Phase.RUNNING, started_at=t0)
    for number in range(trials):
        params = {
            "x": rng.uniform(-5, 5),
            "lr": 10 ** rng.uniform(-4, -1),
            "opt": rng.choice(["adam", "sgd", "rmsprop"]),
            "layers": rng.randint(1, 7),
        }
        started = t0 + number * 0.2  # eight at a time, 1.5 s each
        store.create_trial(TrialRecord(EXPERIMENT, number, TrialState.WAITING, params, created_at=started))
        store.update_trial(EXPERIMENT, number, state=TrialState.RUNNING, started_at=started)
        final = (params["x"] - 1) ** 2 / 10 + abs(math.log10(params["lr"]) + 2.5) + rng.random() * 0.1
        for step in range(points):
            value = final + 2.0 * math.exp(-step / 15)
            store.add_intermediate(
                EXPERIMENT, number, IntermediateResult(step, value, {"acc": 1 / (1 + value)}, started + step * 0.01)
            )
        store.update_trial(
            EXPERIMENT,
            number,
            state=TrialState.SUCCEEDED,
            value=final,
            ended_at=started + 1.5,
            metrics={"acc": 1 / (1 + final)},
        )
        if number % 1000 == 999:
            print(f"  {number + 1} trials written ({time.perf_counter() - start:.0f} s)", flush=True)
    store.update_experiment(EXPERIMENT, phase=Phase.DONE, ended_at=t0 + trials * 0.2 + 2, elapsed=trials * 0.2)
    return time.perf_counter() - start


def measure(url: str, runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    marks = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS])
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(url + f"#/e/{EXPERIMENT}")
            page.wait_for_function(
                "() => performance.getEntriesByName('history-chart').length"
                " && performance.getEntriesByName('trials-table').length",
                timeout=60000,
            )
            marks.append(
                page.evaluate("""() => Object.fromEntries(['trials-table', 'history-chart']
                .map(n => [n, performance.getEntriesByName(n)[0].startTime]))""")
            )
            context.close()
        browser.close()
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default="/tmp/tunelab-dashboard-bench.db")
    args = parser.parse_args()
    path = Path(args.db)
    store = SQLiteStorage(path)
    if not any(e.id == EXPERIMENT for e in store.list_experiments()):
        print(f"writing {args.trials} trials x {args.points} intermediate results to {path} ...", flush=True)
        print(f"  done in {fill(store, args.trials, args.points):.0f} s", flush=True)
    trials = store.get_trials(EXPERIMENT)
    points = len(store.get_trial(EXPERIMENT, 0).intermediate)

    start = time.perf_counter()
    SnapshotCache(store).get(EXPERIMENT)
    snapshot_s = time.perf_counter() - start

    dashboard = Dashboard(store, ServeOptions(port=0, experiment_id=EXPERIMENT)).start()
    time.sleep(2.0)  # as when a user opens the page: the server has read the trials at start
    try:
        marks = measure(dashboard.url.split("#")[0], args.runs)
    finally:
        dashboard.stop()
    cold, warm = marks[0], marks[1:] or marks
    table = [m["trials-table"] for m in warm]
    history = [m["history-chart"] for m in warm]
    lines = [
        "# Dashboard: time to first render",
        "",
        f"Experiment of {len(trials):,} finished trials with {points} intermediate results each, in SQLite; "
        "headless Chromium on loopback; times from navigation start to the first data shown "
        "(`performance.mark` in the page). Target: under 1 s.",
        "",
        f"| what | first visit | later visits (median of {len(warm)}) |",
        "| --- | --- | --- |",
        f"| trials table (page of 50, sorted by number) | {cold['trials-table']:.0f} ms "
        f"| {statistics.median(table):.0f} ms |",
        f"| best-so-far history chart ({len(trials):,} points) | {cold['history-chart']:.0f} ms | "
        f"{statistics.median(history):.0f} ms |",
        "",
        f"The server reads the {len(trials):,} trials (without intermediate results) once when it starts "
        f"(`tunelab view ID`, `run --port`) and again only when they change: {snapshot_s * 1000:.0f} ms here. "
        "Without that warm-up, the first visit takes that much longer.",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{__import__('os').cpu_count()} CPUs. Command: `.venv/bin/python benchmarks/dashboard/first_render.py`.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
