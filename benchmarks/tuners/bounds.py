"""How often a tuner proposes configurations pinned to the bounds of the box (issue 17).

Bayesmark's decision tree (6 parameters, four of them on the logit scale, on plateau-rich
cross-validated accuracy) is rebuilt here with scikit-learn's bundled data, so it runs in
tunelab's own venv. A proposal counts as *at the walls* when at least 2 of its parameters
sit at a bound (within 0.5% of the range on the searched scale, an integer on its end);
the fraction is taken over the second half of each study, where a model drives the search.

    nice -n 10 python -m benchmarks.tuners.bounds --contenders tunelab-gp,tunelab-tpe,random \\
        --batches 8,1 --seeds 3 --out benchmarks/results/gp-bounds.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.tuners.contenders import CONTENDERS
from tunelab.space import parse_search_space
from tunelab.tuners._unit import NUMERIC, UnitSpace

#: Bayesmark's DT space (sklearn_funcs.dt_cfg), in tunelab's spelling.
DT_SPACE: dict[str, Any] = {
    "max_depth": {"_type": "integer", "_value": [1, 15, 1]},
    "min_samples_split": {"_type": "logituniform", "_value": [0.01, 0.99]},
    "min_samples_leaf": {"_type": "logituniform", "_value": [0.01, 0.49]},
    "min_weight_fraction_leaf": {"_type": "logituniform", "_value": [0.01, 0.49]},
    "max_features": {"_type": "logituniform", "_value": [0.01, 0.99]},
    "min_impurity_decrease": {"_type": "uniform", "_value": [0.0, 0.5]},
}


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    x, y = {"digits": datasets.load_digits, "breast": datasets.load_breast_cancer, "wine": datasets.load_wine}[name](
        return_X_y=True
    )
    x_train, _, y_train, _ = train_test_split(x, y, test_size=0.2, random_state=0, shuffle=True)
    return x_train, y_train


def dt_loss(params: dict[str, Any], data: str = "digits") -> float:
    """Bayesmark's DT objective: minus the 5-fold cross-validated accuracy (``digits``), or the
    cross-validated log loss (``digits-nll``: Bayesmark's ``nll`` metric)."""
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    name, _, metric = data.partition("-")
    x, y = _data(name)
    scoring = "neg_log_loss" if metric == "nll" else "accuracy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return -float(np.mean(cross_val_score(DecisionTreeClassifier(**params), x, y, scoring=scoring, cv=5)))


def at_bounds(unit: UnitSpace, rows: np.ndarray, tol: float = 0.005) -> np.ndarray:
    """How many numeric parameters of each unit row sit at a bound."""
    numeric = rows[:, unit.kinds == NUMERIC]
    return np.sum((numeric <= tol) | (numeric >= 1 - tol), axis=1)


def study(args: tuple[str, str, int, int, int]) -> tuple[tuple[str, str, int, int], list[float], list[int], float]:
    from threadpoolctl import threadpool_limits

    cname, data, seed, n_calls, batch = args
    warnings.simplefilter("ignore")
    contender = next(c for c in CONTENDERS if c.name == cname)
    unit = UnitSpace(parse_search_space(DT_SPACE))
    losses: list[float] = []
    walls: list[int] = []
    start = time.process_time()
    with threadpool_limits(1):
        driver = contender.build(DT_SPACE, seed, n_calls * batch, batch)
        for _ in range(n_calls):
            configs = driver.ask(batch)
            results = [(c, dt_loss(c, data)) for c in configs]
            losses += [v for _, v in results]
            walls += at_bounds(unit, np.vstack([unit.encode(c) for c in configs])).tolist()
            driver.tell(results)
    return (cname, data, seed, batch), losses, walls, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contenders", default="tunelab-gp,tunelab-tpe,random")
    parser.add_argument("--data", default="digits,breast")
    parser.add_argument("--batches", default="8,1")
    parser.add_argument("--calls", type=int, default=16, help="batches per study (Bayesmark's challenge: 16)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--label", default="", help="a note for the table header (e.g. before/after)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    tasks = [
        (c, d, s, args.calls, b)
        for c in args.contenders.split(",")
        for d in args.data.split(",")
        for b in (int(x) for x in args.batches.split(","))
        for s in range(args.seeds)
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(study, tasks))
    lines = [
        f"# Proposals at the walls on Bayesmark's DT space {args.label}",
        "",
        "Measured on a loaded 2-core machine (other work running). Command: "
        f"`python -m benchmarks.tuners.bounds {' '.join(sys.argv[1:])}`",
        "",
        "Second half of each study: share of proposals with >= 2 of the 6 parameters at a bound, "
        "mean number of parameters at a bound; final best loss (minus CV accuracy, or CV log loss for -nll), "
        "median over seeds; CPU s per study.",
        "",
        "| contender | data | batch | >=2 at a bound | mean at a bound | best loss | per seed | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str, int], list[Any]] = {}
    for (c, d, _, b), losses, walls, cpu in results:
        groups.setdefault((c, d, b), []).append((losses, walls, cpu))
    for (c, d, b), runs in groups.items():
        half = [w[len(w) // 2 :] for _, w, _ in runs]
        share = statistics.mean(float(np.mean(np.array(h) >= 2)) for h in half)
        mean = statistics.mean(float(np.mean(h)) for h in half)
        best = statistics.median(min(losses) for losses, _, _ in runs)
        cpu = statistics.mean(cpu for _, _, cpu in runs)
        each = " ".join(f"{min(losses):.3f}" for losses, _, _ in runs)
        lines.append(f"| {c} | {d} | {b} | {100 * share:.0f}% | {mean:.2f} | {best:.4f} | {each} | {cpu:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
