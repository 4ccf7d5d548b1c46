"""What several objectives cost the engine, the CLI and the API: keeping the front as trials end
(the engine's tally), the front and knee of a stored history (tunelab best, Experiment.pareto_front),
the non-dominated ranks of the whole history (the dashboard ranks every trial; beside them the
domination-matrix sort they replaced for 3+ objectives), the hypervolume curve of the /pareto view
(tunelab.pareto.hypervolume_curve, 200 marks) and the whole view (points, ranks, front, knee, curve;
then as the JSON the API sends). Each view is timed warm (one small view first, so the server's
imports are not counted), best of three. ``--endpoint`` also times ``GET .../pareto`` through the
ASGI app on a SQLite store of the same trials (a temporary file): the first request, which reads
the trials, and the next ones of the ended experiment, served from the dashboard's snapshot
cache (best of three).

    # prints the table (benchmarks/results/pareto_bookkeeping.md keeps it beside the older ones)
    nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py --sizes 2000,10000 --endpoint
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from tunelab.engine._progress import Tally
from tunelab.pareto import _ranks_by_matrix, hypervolume_curve, nondominated_ranks, reference_point
from tunelab.server._pareto import MAX_HYPERVOLUME_POINTS, pareto_view
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState, knee_trial, pareto_front, trial_losses

OBJECTIVES = {2: {"accuracy": "max", "size": "min"}, 3: {"accuracy": "max", "size": "min", "latency": "min"}}


def history(n: int, m: int, seed: int = 0) -> list[TrialRecord]:
    """A trade-off with noise: accuracy against size (and latency), as a search produces them."""
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        accuracy = float(rng.random())
        values = {"accuracy": accuracy, "size": float(accuracy + rng.random() * 0.3), "latency": float(rng.random())}
        values = {k: values[k] for k in OBJECTIVES[m]}
        trials.append(TrialRecord("e", i, TrialState.SUCCEEDED, {"i": i}, values=values, ended_at=float(i)))
    return trials


def endpoint_seconds(trials: list[TrialRecord], objectives: dict[str, str]) -> tuple[float, float]:
    """``GET /api/experiments/ID/pareto`` of an ended experiment holding ``trials``: the first request
    (the trials read from SQLite) and the best of three next ones (from the snapshot cache)."""
    from fastapi.testclient import TestClient

    from tunelab.server import create_app

    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStorage(Path(folder) / "db.sqlite")
        config = {"objectives": objectives}
        store.create_experiment("e", name="e", config=config, format="tunelab", experiment_dir=folder)
        with store.batch():
            for trial in trials:
                store.create_trial(dataclasses.replace(trial, state=TrialState.WAITING, values=None))
                store.update_trial(
                    "e", trial.number, state=trial.state, values=dict(trial.values or {}), ended_at=trial.ended_at
                )
        store.set_phase("e", Phase.DONE)
        try:
            with TestClient(create_app(store)) as client:
                times = []
                for _ in range(4):
                    start = time.perf_counter()
                    response = client.get("/api/experiments/e/pareto")
                    times.append(time.perf_counter() - start)
                    assert response.status_code == 200 and len(response.json()["points"]) == len(trials)
        finally:
            store.close()
    return times[0], min(times[1:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="numbers of trials, comma-separated")
    parser.add_argument("--endpoint", action="store_true", help="also time GET .../pareto through the app")
    args = parser.parse_args(argv)
    rows = []
    pareto_view(history(10, 2), {"objectives": OBJECTIVES[2]}, 0.0)  # warm: the server's imports
    for n in (int(size) for size in args.sizes.split(",")):
        for m in (2, 3):
            objectives, trials = OBJECTIVES[m], history(n, m)
            tally = Tally("min", objectives)
            start = time.perf_counter()
            for t in trials:
                tally.add(t.number, t.state, t.value, t.params, "", t.values, None)
            per_trial = (time.perf_counter() - start) / n
            start = time.perf_counter()
            front, knee = pareto_front(trials, objectives), knee_trial(trials, objectives)
            stored = time.perf_counter() - start
            views, as_json = [], []
            for _ in range(3):
                start = time.perf_counter()
                shown = pareto_view(trials, {"objectives": objectives}, 0.0)
                views.append(time.perf_counter() - start)
                assert shown is not None
                shown.model_dump_json()
                as_json.append(time.perf_counter() - start)
            losses = np.asarray([trial_losses(t, objectives) for t in trials])
            stride = max(1, n // MAX_HYPERVOLUME_POINTS)
            marks = list(range(stride, n + 1, stride))
            start = time.perf_counter()
            hypervolume_curve(losses, reference_point(losses), marks)
            curve = time.perf_counter() - start
            start = time.perf_counter()
            ranks = nondominated_ranks(losses)
            sweep = time.perf_counter() - start
            start = time.perf_counter()
            assert ranks.tolist() == _ranks_by_matrix(losses).tolist()
            matrix = time.perf_counter() - start
            assert tally.front == [t.number for t in front] and knee is not None and tally.best_number == knee.number
            served = " | ".join(f"{v:.2f} s" for v in endpoint_seconds(trials, objectives)) if args.endpoint else ""
            rows.append(
                f"| {n} | {m} | {len(front)} | {per_trial * 1e3:.2f} ms | {stored:.2f} s | "
                f"{sweep * 1e3:.1f} ms / {matrix * 1e3:.0f} ms | {curve * 1e3:.0f} ms | {min(views):.2f} s | "
                f"{min(as_json):.2f} s |" + (f" {served} |" if served else "")
            )
    table = "\n".join(
        [
            f"`nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py --sizes {args.sizes}"
            f"{' --endpoint' if args.endpoint else ''}` "
            f"(load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end). Per experiment size",
            "and number of objectives: the engine's tally update per finished trial (front kept as it grows),",
            "the front and knee of the whole stored history (`tunelab best`, `Experiment.pareto_front`), the",
            "non-dominated ranks of the whole history (`tunelab.pareto.nondominated_ranks`, beside the",
            "domination-matrix sort it replaced for 3+ objectives, which needs n^2 bytes), the `/pareto` view's",
            f"hypervolume curve ({MAX_HYPERVOLUME_POINTS} marks), the whole view and the view with its JSON",
            "(warm, best of three)"
            + (", and GET .../pareto of the ended experiment's SQLite store" if args.endpoint else "")
            + (" (first request, then from the snapshot cache)." if args.endpoint else "."),
            "",
            "| trials | objectives | front size | tally per trial | front + knee "
            "| ranks / matrix sort | hypervolume curve | /pareto view | view + JSON |"
            + (" GET, first | GET, cached |" if args.endpoint else ""),
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if args.endpoint else ""),
            *rows,
            "",
        ]
    )
    print(table)


if __name__ == "__main__":
    main()
