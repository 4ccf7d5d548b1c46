"""What several objectives cost the engine, the CLI and the API: keeping the front as trials end
(the engine's tally), the front and knee of a stored history (tunelab best, Experiment.pareto_front),
the non-dominated ranks of the whole history (the dashboard ranks every trial; beside them the
domination-matrix sort they replaced for 3+ objectives), the hypervolume curve of the /pareto view
(tunelab.pareto.hypervolume_curve, 200 marks) and the whole view (points, ranks, front, knee, curve;
then as the JSON the API sends). Each view is timed warm (one small view first, so the server's
imports are not counted), best of three.

    # prints the table (benchmarks/results/pareto_bookkeeping.md keeps it beside the older ones)
    nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py --sizes 2000,10000
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from tunelab.engine._progress import Tally
from tunelab.pareto import _ranks_by_matrix, hypervolume_curve, nondominated_ranks, reference_point
from tunelab.server._pareto import MAX_HYPERVOLUME_POINTS, pareto_view
from tunelab.storage import TrialRecord, TrialState, knee_trial, pareto_front, trial_losses

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="numbers of trials, comma-separated")
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
            marks = list(range(n // MAX_HYPERVOLUME_POINTS, n + 1, n // MAX_HYPERVOLUME_POINTS))
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
            rows.append(
                f"| {n} | {m} | {len(front)} | {per_trial * 1e3:.2f} ms | {stored:.2f} s | "
                f"{sweep * 1e3:.1f} ms / {matrix * 1e3:.0f} ms | {curve * 1e3:.0f} ms | {min(views):.2f} s | "
                f"{min(as_json):.2f} s |"
            )
    table = "\n".join(
        [
            f"`nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py --sizes {args.sizes}` "
            f"(load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} at the end). Per experiment size",
            "and number of objectives: the engine's tally update per finished trial (front kept as it grows),",
            "the front and knee of the whole stored history (`tunelab best`, `Experiment.pareto_front`), the",
            "non-dominated ranks of the whole history (`tunelab.pareto.nondominated_ranks`, beside the",
            "domination-matrix sort it replaced for 3+ objectives, which needs n^2 bytes), the `/pareto` view's",
            f"hypervolume curve ({MAX_HYPERVOLUME_POINTS} marks), the whole view and the view with its JSON",
            "(warm, best of three).",
            "",
            "| trials | objectives | front size | tally per trial | front + knee "
            "| ranks / matrix sort | hypervolume curve | /pareto view | view + JSON |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    print(table)


if __name__ == "__main__":
    main()
