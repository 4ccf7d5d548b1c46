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
* ``joint-240``: joint kernels with 240 candidates per suggestion instead of 24;
* ``motpe``: motpe as it is (joint kernels with two objectives, univariate with three), beside
  ``ref-optuna``, ``ref-rank`` and ``ref-spread``: the reference point of the subset selection
  among the rank that crosses the good set's size (``tunelab.tuners._motpe.hssp_reference``,
  replaced for the run) taken from that rank alone instead of the feasible history: Optuna
  5.1's ``max(1.1 w, 0.9 w)`` of its worst ``w`` (zeros made 1e-12), its worst plus a tenth
  of its range, or its worst plus its range over ``k - 1`` for a subset of ``k`` (Ishibuchi
  et al. 2018's choice, for which the best ``k`` points of a linear front spread evenly);
* ``exact-gains``: with three objectives the subset selection's gains computed exactly (lazy
  greedy over :func:`tunelab.pareto.hypervolume`, as Optuna 5.1 does) instead of on a sample
  of 2048 points (``tunelab.tuners._motpe.greedy_hssp``, replaced for the run).

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

Reference = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def _optuna_reference(tied: np.ndarray, feasible: np.ndarray, size: int) -> np.ndarray:
    worst = tied.max(axis=0)
    reference = np.maximum(1.1 * worst, 0.9 * worst)
    reference[reference == 0] = 1e-12
    return np.asarray(reference, dtype=float)


def _rank_reference(tied: np.ndarray, feasible: np.ndarray, size: int) -> np.ndarray:
    return pareto.reference_point(tied)


def _spread_reference(tied: np.ndarray, feasible: np.ndarray, size: int) -> np.ndarray:
    return pareto.reference_point(tied, margin=1.0 / max(1, size - 1))


def _exact_hssp(points: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Greedy subset selection with exact gains; stale gains bound fresh ones (submodularity), so lazy."""
    if k >= len(points) or points.shape[1] == 2:
        return _ORIGINAL_HSSP(points, k, reference)
    boxes = np.prod(np.maximum(reference - points, 0.0), axis=1)
    bound = boxes.copy()
    chosen: list[int] = []
    for _ in range(k):
        while True:
            i = int(np.argmax(bound))
            clipped = np.maximum(points[chosen], points[i])
            gain = boxes[i] - pareto.hypervolume(clipped, reference) if chosen else boxes[i]
            bound[i] = gain
            rest = np.delete(bound, i)
            if len(rest) == 0 or gain >= rest.max():
                break
        chosen.append(i)
        bound[i] = -np.inf
    return np.sort(np.asarray(chosen, dtype=np.int64))


_ORIGINAL_HSSP = _motpe.greedy_hssp

VARIANTS: dict[str, tuple[dict[str, Any], bool, Reference | None]] = {
    "joint": ({"multivariate": True}, False, None),
    "univariate": ({"multivariate": False}, False, None),
    "joint-uniform": ({"multivariate": True}, True, None),
    "univariate-uniform": ({"multivariate": False}, True, None),
    "joint-240": ({"multivariate": True, "n_ei_candidates": 240}, False, None),
    "motpe": ({}, False, None),
    "ref-optuna": ({}, False, _optuna_reference),
    "ref-rank": ({}, False, _rank_reference),
    "ref-spread": ({}, False, _spread_reference),
    "exact-gains": ({}, False, None),
}


def _uniform(losses: np.ndarray, violations: np.ndarray) -> np.ndarray:
    return np.where(violations <= 0, 1.0, 1e-12)


def run(problem_key: str, variant: str, seed: int) -> dict[int, float]:
    """Hypervolume at each checkpoint of one run of ``variant``."""
    problem = PROBLEMS[problem_key]
    args, uniform, reference = VARIANTS[variant]
    original: Callable[[np.ndarray, np.ndarray], np.ndarray] = _motpe.good_weights
    original_reference = _motpe.hssp_reference
    _motpe.good_weights = _uniform if uniform else original
    _motpe.hssp_reference = reference or original_reference
    _motpe.greedy_hssp = _exact_hssp if variant == "exact-gains" else _ORIGINAL_HSSP
    try:
        tuner = create_tuner("motpe", problem.space, seed=seed, objectives=problem.objectives, **args)
        values = []
        for _ in range(max(CHECKPOINTS)):
            trial_id, params = tuner.suggest()
            values.append(problem.evaluate(params))
            tuner.observe(trial_id, values[-1])
    finally:
        _motpe.good_weights, _motpe.hssp_reference = original, original_reference
        _motpe.greedy_hssp = _ORIGINAL_HSSP
    losses = _losses(problem, values)
    return {k: pareto.hypervolume(losses[:k], problem.reference) for k in CHECKPOINTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="dtlz2,zdt1,zdt2")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], list[dict[int, float]]] = {}
    for problem in args.problems.split(","):
        for variant in args.variants.split(","):
            for seed in range(args.first_seed, args.first_seed + args.seeds):
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
