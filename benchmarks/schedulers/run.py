"""Schedulers against FIFO and Optuna's pruners: best validation score vs epochs spent.

    nice -n 10 .venv/bin/python -m benchmarks.schedulers.run            # full (~12 min on 2 cores)
    nice -n 10 .venv/bin/python -m benchmarks.schedulers.run --quick    # a smaller run (~3 min)

Every method sees the same sequence of random configurations (BOHB's model proposes its
own after its first brackets) and the same real learning curves (see ``problems.py``);
it may spend as many epochs as FIFO spends on 27 configurations of 27 epochs. tunelab's
schedulers are driven through their public API exactly as the engine drives them, one
trial at a time; Optuna's pruners run in an Optuna study over the same curves. Writes
``benchmarks/results/schedulers.md`` and ``benchmarks/results/schedulers.png``.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.schedulers.problems import MAX_EPOCHS, PROBLEMS, CurveCache, Problem
from tunelab.schedulers import Decision, NewTrial, Outcome, Resume, Scheduler, Wait, create_scheduler
from tunelab.space import parse_search_space

RESULTS = Path(__file__).resolve().parents[1] / "results"
FIFO_TRIALS = 27


def tunelab_methods(problem: Problem, seed: int) -> dict[str, Callable[[], Scheduler]]:
    space = problem.space
    R = MAX_EPOCHS
    return {
        "fifo": lambda: create_scheduler("fifo", mode="max"),
        "median": lambda: create_scheduler("median", mode="max", start_step=3),
        "curvefitting": lambda: create_scheduler("curvefitting", mode="max", epoch_num=R, start_step=5, threshold=0.95),
        "asha": lambda: create_scheduler("asha", mode="max", max_t=R, grace_period=1, reduction_factor=3),
        "hyperband": lambda: create_scheduler("hyperband", mode="max", max_budget=R, min_budget=1, eta=3),
        "bohb": lambda: create_scheduler("bohb", mode="max", space=space, seed=seed, max_budget=R, min_budget=1, eta=3),
        "pbt": lambda: create_scheduler(
            "pbt",
            mode="max",
            space=space,
            seed=seed,
            population_size=8,
            perturbation_interval=3,
            max_t=R,
            hyperparam_mutations=problem.mutable,
        ),
    }


class Trace:
    """Best score so far against epochs spent."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.spent = 0
        self.best = -math.inf
        self.points: list[tuple[int, float]] = []

    def add(self, score: float) -> None:
        self.spent += 1
        if score > self.best:
            self.best = score
            self.points.append((self.spent, score))

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def best_at(self, epochs: int) -> float:
        found = -math.inf
        for spent, score in self.points:
            if spent <= epochs:
                found = score
        return found

    def epochs_to(self, target: float) -> int | None:
        for spent, score in self.points:
            if score >= target - 1e-12:
                return spent
        return None


def run_tunelab(scheduler: Scheduler, configs: list[dict[str, Any]], cache: CurveCache, budget: int) -> Trace:
    """Drive a scheduler as the engine does (one trial at a time), over cached real curves."""
    trace = Trace(budget)
    pending = iter(configs)
    progress: dict[int, int] = {}  # trial -> epochs its checkpoint holds
    models: dict[int, Any] = {}  # PBT: real model copies (hyperparameters change mid-run)
    stateful = getattr(scheduler, "name", "") == "pbt"
    number = 0
    while not trace.exhausted:
        action = scheduler.next_trial()
        if isinstance(action, Wait):
            break
        if isinstance(action, NewTrial):
            params = dict(action.params) if action.params is not None else next(pending)
            start, model = 0, None
        else:
            assert isinstance(action, Resume)
            params = dict(action.params)
            source = action.checkpoint_from if action.checkpoint_from is not None else action.parent
            start = progress[source]
            model = copy.deepcopy(models[source]) if stateful else None
            if model is not None:
                cache.problem.set_params(model, params)
        scheduler.on_start(number, params, action)
        if stateful and model is None:
            model = cache.problem.init(params)
        budget_i = action.budget or MAX_EPOCHS
        outcome, last, epoch = Outcome.COMPLETED, None, start
        for epoch in range(start + 1, budget_i + 1):
            score = cache.problem.train_epoch(model) if stateful else cache.score(params, epoch)
            score = score if math.isfinite(score) else 0.0
            trace.add(score)
            last = score
            if scheduler.on_result(number, epoch, score) is Decision.STOP:
                outcome = Outcome.STOPPED
                break
            if trace.exhausted:
                break
        progress[number] = epoch
        if stateful:
            models[number] = model
        scheduler.on_end(number, outcome, last)
        number += 1
    return trace


def run_optuna(
    pruner_name: str, problem: Problem, configs: list[dict[str, Any]], cache: CurveCache, budget: int, seed: int
) -> Trace:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruners = {
        "optuna-median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
        "optuna-sha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "optuna-hyperband": lambda: optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3
        ),
    }
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed), pruner=pruners[pruner_name]()
    )
    for params in configs:
        study.enqueue_trial(params)
    trace = Trace(budget)
    space = parse_search_space(problem.space)

    def objective(trial: Any) -> float:
        params = {}
        for name, spec in problem.space.items():
            kind, value = spec["_type"], spec["_value"]
            if kind == "choice":
                params[name] = trial.suggest_categorical(name, value)
            else:
                params[name] = trial.suggest_float(name, value[0], value[1], log=kind == "loguniform")
        space.validate(params)
        score = 0.0
        for epoch in range(1, MAX_EPOCHS + 1):
            score = cache.score(params, epoch)
            trace.add(score)
            trial.report(score, epoch)
            if trace.exhausted:
                break
            if trial.should_prune():
                raise optuna.TrialPruned()
        return score

    def stop(study: Any, trial: Any) -> None:
        if trace.exhausted:
            study.stop()

    study.optimize(objective, n_trials=len(configs), callbacks=[stop])
    return trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer seeds (about 3 minutes)")
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    args = parser.parse_args()
    seeds = (
        {"sgd-digits": 2, "mlp-digits": 1, "synthetic": 10}
        if args.quick
        else {"sgd-digits": 6, "mlp-digits": 6, "synthetic": 50}
    )
    budget = FIFO_TRIALS * MAX_EPOCHS
    results: dict[str, dict[str, list[Trace]]] = {}
    started = time.perf_counter()
    for name in args.problems:
        results[name] = {}
        for seed in range(seeds[name]):
            problem = PROBLEMS[name](seed)
            cache = CurveCache(problem)
            space = parse_search_space(problem.space)
            rng = np.random.default_rng(1000 + seed)
            configs = [space.sample(rng) for _ in range(budget)]
            for method, factory in tunelab_methods(problem, seed).items():
                trace = run_tunelab(factory(), configs, cache, budget)
                results[name].setdefault(method, []).append(trace)
            for method in ("optuna-median", "optuna-sha", "optuna-hyperband"):
                trace = run_optuna(method, problem, configs, cache, budget, seed)
                results[name].setdefault(method, []).append(trace)
            print(
                f"{name} seed {seed}: {cache.epochs_trained} epochs trained, "
                f"{time.perf_counter() - started:.0f} s so far",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    table = report(results, budget, seeds, time.perf_counter() - started, quick=args.quick)
    (RESULTS / "schedulers.md").write_text(table)
    plot(results, budget, RESULTS / "schedulers.png")
    print(table)


def report(
    results: dict[str, dict[str, list[Trace]]], budget: int, seeds: dict[str, int], seconds: float, *, quick: bool
) -> str:
    lines = [
        "# Schedulers: best validation score vs epochs spent",
        "",
        f"Budget: {budget} epochs per run (FIFO: {FIFO_TRIALS} random configurations x {MAX_EPOCHS} epochs). "
        f"Seeds: {', '.join(f'{k} {v}' for k, v in seeds.items() if k in results)}. "
        f"Run time {seconds:.0f} s{' (--quick)' if quick else ''}.",
        "",
        "*to FIFO's best*: epochs a method needed to reach the best score FIFO reached with the full budget, "
        "as a fraction of that budget (median over seeds; `-` when reached in half the seeds or fewer), "
        "and in how many seeds it got there. *best @ x*: mean best validation score after x of the budget.",
        "",
    ]
    for name, methods in results.items():
        fifo_best = [t.best for t in methods["fifo"]]
        lines += [
            f"## {name}",
            "",
            "| method | to FIFO's best | reached | best @ 1/9 | best @ 1/3 | best @ 1 |",
            "|---|---|---|---|---|---|",
        ]
        for method, traces in methods.items():
            needed = [t.epochs_to(target) for t, target in zip(traces, fifo_best, strict=True)]
            reached = [n for n in needed if n is not None]
            frac = (
                f"{np.median([n if n is not None else math.inf for n in needed]) / budget:.2f}"
                if len(reached) * 2 > len(needed)  # else the median is a seed that never got there
                else "-"
            )
            at = [np.mean([t.best_at(budget // k) for t in traces]) for k in (9, 3, 1)]
            lines.append(
                f"| {method} | {frac} | {len(reached)}/{len(needed)} | " + " | ".join(f"{v:.4f}" for v in at) + " |"
            )
        lines.append("")
    command = "nice -n 10 .venv/bin/python -m benchmarks.schedulers.run"
    lines += [f"Reproduce: `{command}` (add `--quick` for a smaller run).", ""]
    return "\n".join(lines)


def plot(results: dict[str, dict[str, list[Trace]]], budget: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2), squeeze=False)
    grid = np.unique(np.geomspace(1, budget, 80).astype(int))
    for ax, (name, methods) in zip(axes[0], results.items(), strict=True):
        for method, traces in methods.items():
            curve = [np.mean([max(t.best_at(e), 0.0) for t in traces]) for e in grid]
            style = "--" if method.startswith("optuna") else "-"
            ax.plot(grid, curve, style, label=method, linewidth=1.6 if method in ("asha", "bohb", "fifo") else 1.0)
        ax.set_xscale("log")
        ax.set_title(name)
        ax.set_xlabel("epochs spent")
        ax.set_ylabel("best validation score (mean over seeds)")
        low = np.mean([t.best_at(budget // 27) for t in methods["fifo"]])
        ax.set_ylim(bottom=max(0.0, low - 0.05))
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
