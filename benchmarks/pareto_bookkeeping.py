"""What several objectives cost the engine, the CLI and the API: keeping the front as trials end
(the engine's tally), the front and knee of a stored history (tunelab best, Experiment.pareto_front)
and the dashboard's /pareto view (ranks, the hypervolume curve).

    nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py   # writes benchmarks/results/pareto_bookkeeping.md
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tunelab.engine._progress import Tally
from tunelab.server._pareto import pareto_view
from tunelab.storage import TrialRecord, TrialState, knee_trial, pareto_front

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


def main() -> None:
    rows = []
    for n in (500, 2000):
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
            start = time.perf_counter()
            pareto_view(trials, {"objectives": objectives}, 0.0)
            view = time.perf_counter() - start
            assert tally.front == [t.number for t in front] and knee is not None and tally.best_number == knee.number
            rows.append(f"| {n} | {m} | {len(front)} | {per_trial * 1e3:.2f} ms | {stored:.2f} s | {view:.2f} s |")
    table = "\n".join(
        [
            "# Pareto bookkeeping (measured on a loaded, shared 2-core machine)",
            "",
            "`nice -n 10 .venv/bin/python benchmarks/pareto_bookkeeping.py`. Per experiment size and number of",
            "objectives: the engine's tally update per finished trial (front kept as it grows), the front and",
            "knee of the whole stored history (`tunelab best`, `Experiment.pareto_front`), the `/pareto` view.",
            "",
            "| trials | objectives | front size | tally per trial | front + knee | /pareto view |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    )
    out = Path(__file__).parent / "results" / "pareto_bookkeeping.md"
    out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
