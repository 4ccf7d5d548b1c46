"""An experiment, not a contender list: which of MOTPE's choices cost it on DTLZ2 (issue 18).

Runs ``motpe`` through ask/tell on the problems of :mod:`benchmarks.multiobjective` with one
change at a time against Optuna 5.1's multi-objective TPESampler:

* ``joint``: kernels over all parameters at once (``multivariate=True``, motpe's only mode
  before December 2026);
* ``univariate``: each parameter on its own (``multivariate=False``, Optuna's default with
  several objectives, and motpe's now with three or more);
* ``joint-uniform`` / ``univariate-uniform``: as those, with the good trials' kernels weighted
  equally (Optuna 5.1) instead of by hypervolume contribution. motpe has no argument for
  this, so the experiment replaces ``tunelab.tuners._motpe.good_weights`` for the run;
* ``joint-240``: joint kernels with 240 candidates per suggestion instead of 24.

Prints one line per run (problem, variant, seed, hypervolume at 50/100/200 trials, seconds)
and then the means over seeds.

    nice -n 10 python -m benchmarks.multiobjective_motpe_variants --problems dtlz2,zdt1,zdt2 --seeds 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.multiobjective import CHECKPOINTS, PROBLEMS, _losses
from tunelab import pareto
from tunelab.tuners import _motpe, create_tuner

VARIANTS: dict[str, tuple[dict[str, Any], bool]] = {
    "joint": ({"multivariate": True}, False),
    "univariate": ({"multivariate": False}, False),
    "joint-uniform": ({"multivariate": True}, True),
    "univariate-uniform": ({"multivariate": False}, True),
    "joint-240": ({"multivariate": True, "n_ei_candidates": 240}, False),
}


def _uniform(losses: np.ndarray, violations: np.ndarray) -> np.ndarray:
    return np.where(violations <= 0, 1.0, 1e-12)


def run(problem_key: str, variant: str, seed: int) -> dict[int, float]:
    """Hypervolume at each checkpoint of one run of ``variant``."""
    problem = PROBLEMS[problem_key]
    args, uniform = VARIANTS[variant]
    original: Callable[[np.ndarray, np.ndarray], np.ndarray] = _motpe.good_weights
    _motpe.good_weights = _uniform if uniform else original
    try:
        tuner = create_tuner("motpe", problem.space, seed=seed, objectives=problem.objectives, **args)
        values = []
        for _ in range(max(CHECKPOINTS)):
            trial_id, params = tuner.suggest()
            values.append(problem.evaluate(params))
            tuner.observe(trial_id, values[-1])
    finally:
        _motpe.good_weights = original
    losses = _losses(problem, values)
    return {k: pareto.hypervolume(losses[:k], problem.reference) for k in CHECKPOINTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="dtlz2,zdt1,zdt2")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], list[dict[int, float]]] = {}
    for problem in args.problems.split(","):
        for variant in args.variants.split(","):
            for seed in range(args.seeds):
                start = time.perf_counter()
                hv = run(problem, variant, seed)
                shown = {k: round(v, 4) for k, v in hv.items()}
                print(problem, variant, seed, shown, f"{time.perf_counter() - start:.1f}", flush=True)
                results.setdefault((problem, variant), []).append(hv)
    print()
    print("| problem | variant | " + " | ".join(f"{k} trials" for k in CHECKPOINTS) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in CHECKPOINTS) + " |")
    for (problem, variant), runs in results.items():
        cells = " | ".join(f"{statistics.mean(r[k] for r in runs):.4f}" for k in CHECKPOINTS)
        print(f"| {problem} | {variant} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
