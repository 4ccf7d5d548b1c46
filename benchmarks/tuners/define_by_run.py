"""Define-by-run against declared spaces on problems of the tuner benchmark.

    nice -n 10 python -m benchmarks.tuners.define_by_run --seeds 3 --budget 40

Each problem runs three ways through ``tunelab.optimize`` (inline trials, so the objective
is the only cost): with its declared ``search_space``; written define-by-run with
KerasTuner's ``conditional_scope`` (the whole space, inactive branches included, is
declared by the first trial); and written define-by-run in Optuna's style, a branch's
parameters declared only when Python takes that branch (the space grows as branches are
explored). KerasTuner's own way (calling the objective on an empty ``HyperParameters`` in
the driver before the search) gives the declared-space row at the price of one extra
evaluation, and in Optuna's style discovers only the path the defaults take.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.tuners.problems import PROBLEMS, conditional, mixed

RESULTS = Path(__file__).resolve().parents[1] / "results"
BY_NAME = {p.name: p for p in PROBLEMS}


def _synthetic(name: str, dims: int, low: float, high: float) -> Callable[[Any], float]:
    problem = BY_NAME[name]

    def objective(trial: Any) -> float:
        return problem.objective({f"x{i}": trial.suggest_float(f"x{i}", low, high) for i in range(dims)})

    return objective


def _branin(trial: Any) -> float:
    return BY_NAME["branin"].objective(
        {"x0": trial.suggest_float("x0", -5, 10), "x1": trial.suggest_float("x1", 0, 15)}
    )


def _mixed(trial: Any) -> float:
    return mixed(
        {
            "lr": trial.suggest_float("lr", 1e-5, 1.0, log=True),
            "layers": trial.suggest_int("layers", 1, 8),
            "units": trial.suggest_int("units", 8, 512, log=True),  # declared: qloguniform(8, 512, 8)
            "dropout": trial.suggest_float("dropout", 0.0, 0.8, step=0.05),
            "act": trial.suggest_categorical("act", ["relu", "tanh", "gelu", "sigmoid"]),
            "opt": trial.suggest_categorical("opt", ["sgd", "adam", "rmsprop"]),
        }
    )


def _conditional_scopes(hp: Any) -> float:
    """KerasTuner's words: every branch's parameters declared in its scope, read only when active."""
    model = hp.Choice("model", ["linear", "tree", "kernel"])
    with hp.conditional_scope("model", ["linear"]):
        alpha = hp.Float("alpha", 1e-6, 10.0, sampling="log")
        l1_ratio = hp.Float("l1_ratio", 0.0, 1.0)
    with hp.conditional_scope("model", ["tree"]):
        depth = hp.Int("depth", 1, 15)
        min_leaf = hp.Int("min_leaf", 1, 100, sampling="log")
        criterion = hp.Choice("criterion", ["gini", "entropy"])
    with hp.conditional_scope("model", ["kernel"]):
        gamma = hp.Float("gamma", 1e-4, 10.0, sampling="log")
        c = hp.Float("c", 1e-2, 1e3, sampling="log")
    scale = hp.Boolean("scale")
    branch = {
        "linear": {"alpha": alpha, "l1_ratio": l1_ratio},
        "tree": {"depth": depth, "min_leaf": min_leaf, "criterion": criterion},
        "kernel": {"gamma": gamma, "c": c},
    }[model]
    return conditional({"model": {"_name": model, **branch}, "scale": scale})


def _conditional_if(trial: Any) -> float:
    """Optuna's words: a branch's parameters exist only when Python takes the branch."""
    model = trial.suggest_categorical("model", ["linear", "tree", "kernel"])
    if model == "linear":
        branch = {
            "alpha": trial.suggest_float("alpha", 1e-6, 10.0, log=True),
            "l1_ratio": trial.suggest_float("l1_ratio", 0, 1),
        }
    elif model == "tree":
        branch = {
            "depth": trial.suggest_int("depth", 1, 15),
            "min_leaf": trial.suggest_int("min_leaf", 1, 100, log=True),
            "criterion": trial.suggest_categorical("criterion", ["gini", "entropy"]),
        }
    else:
        branch = {
            "gamma": trial.suggest_float("gamma", 1e-4, 10.0, log=True),
            "c": trial.suggest_float("c", 1e-2, 1e3, log=True),
        }
    scale = trial.suggest_categorical("scale", [True, False])
    return conditional({"model": {"_name": model, **branch}, "scale": scale})


COLUMNS = ["declared", "by-run", "by-run, scopes", "by-run, if", "probe", "probe, scopes", "probe, if"]

#: problem -> {variant: objective taking a HyperParameters}
BY_RUN: dict[str, dict[str, Callable[[Any], float]]] = {
    "branin": {"by-run": _branin},
    "hartmann6": {"by-run": _synthetic("hartmann6", 6, 0, 1)},
    "mixed-int-cat": {"by-run": _mixed},
    "conditional": {"by-run, scopes": _conditional_scopes, "by-run, if": _conditional_if},
}


def probed(objective: Callable[[Any], float]) -> tuple[Callable[[dict[str, Any]], float], Any, float]:
    """KerasTuner's discovery: call the objective once on an empty ``HyperParameters`` in the driver.

    Returns the objective over the space found (parameters the probe did not reach keep
    their defaults in every trial), that space, and the probe's loss (an evaluation spent).
    """
    from tunelab.space import DiscoveredSpace, HyperParameters

    hp = HyperParameters()
    loss = objective(hp)
    found = DiscoveredSpace(hp.space)

    def over_space(params: dict[str, Any]) -> float:
        trial = found.hyperparameters(params)
        return objective(trial)

    return over_space, found.space, loss


def _best(objective: Callable[[Any], float], space: Any, tuner: str, seed: int, budget: int) -> tuple[float, float]:
    import tunelab

    start = time.perf_counter()
    result = tunelab.optimize(
        objective, space, tuner=tuner, max_trials=budget, seed=seed, isolation="inline", verbose=False
    )
    seconds = time.perf_counter() - start
    values = [t.value for t in result.trials if t.value is not None and math.isfinite(t.value)]
    return (min(values) if values else math.inf), seconds / max(len(result.trials), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--tuners", default="tpe,gp,random")
    parser.add_argument("--problems", default=",".join(BY_RUN))
    parser.add_argument("--out", type=Path, default=RESULTS / "tuners-define-by-run.md")
    parser.add_argument("--variants", default=";".join(COLUMNS), help="columns to run, separated by ';'")
    args = parser.parse_args(argv)
    tuners = args.tuners.split(",")
    problems = args.problems.split(",")
    _best(_branin, None, "random", 0, 2)  # imports and first-use costs, out of the timings
    started = time.perf_counter()
    rows = []
    for name in problems:
        problem = BY_NAME[name]
        variants: dict[str, tuple[Callable[[Any], float], Any, float]] = {
            "declared": (problem.objective, problem.space, math.inf)
        }
        variants.update({label: (objective, None, math.inf) for label, objective in BY_RUN[name].items()})
        for label, objective in BY_RUN[name].items():
            variants[label.replace("by-run", "probe")] = probed(objective)
        variants = {k: v for k, v in variants.items() if k in args.variants.split(";")}
        for tuner in tuners:
            cells = []
            for label, (objective, space, spent) in variants.items():
                budget = args.budget if math.isinf(spent) else args.budget - 1  # the probe was one evaluation
                runs = [_best(objective, space, tuner, seed, budget) for seed in range(args.seeds)]
                bests = [min(best, spent) for best, _ in runs]
                times = [seconds for _, seconds in runs]
                cells.append((label, statistics.median(bests), statistics.mean(times) * 1000))
                print(name, tuner, label, [f"{b:.4g}" for b in bests], file=sys.stderr)
            rows.append((name, tuner, cells))
    minutes = (time.perf_counter() - started) / 60
    lines = [
        "# Define-by-run against declared spaces",
        "",
        f"{date.today()} · Python {platform.python_version()} · measured on a loaded 2-core machine (shared, "
        f"`nice -n 10`) · wall time {minutes:.1f} min · command: `nice -n 10 python -m "
        f"benchmarks.tuners.define_by_run --seeds {args.seeds} --budget {args.budget} --tuners {args.tuners} "
        f"--problems {args.problems} --variants '{args.variants}'`",
        "",
        f"Median over {args.seeds} seeds of the best loss after {args.budget} trials (smaller is better), and the "
        "engine's time per trial in ms (inline trials, so mostly the tuner and storage). `declared`: the problem's "
        "search space given up front. `by-run`: the same parameters declared by the objective as it runs "
        "(`by-run, scopes` with KerasTuner's conditional scopes, `by-run, if` in Optuna's style with Python "
        "branches). The first trial of a define-by-run experiment draws every parameter from its prior with the "
        "generator random search would use, so `random` gives identical rows.",
        "",
        "| problem | tuner | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for name, tuner, cells in rows:
        found = {label: f"{best:.4g} ({ms:.0f} ms)" for label, best, ms in cells}
        lines.append(f"| {name} | {tuner} | " + " | ".join(found.get(c, "–") for c in COLUMNS) + " |")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
