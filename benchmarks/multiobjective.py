"""Multi-objective benchmark (issue 18): hypervolume after 50, 100 and 200 trials, and MO-ASHA's epochs.

Part 1 runs each tuner through ask/tell (no engine) on ZDT1, ZDT2 (10 parameters),
DTLZ2 (3 objectives, 7 parameters) and an MLP on scikit-learn's digits (validation error
against the parameter count, 8 epochs, at most 50 trials), several seeds each, and reports the hypervolume
of the finished trials at each checkpoint against a fixed reference point, plus each
contender's mean rank at 100 trials. Contenders: tunelab's motpe (and ``tunelab-motpe-joint``,
motpe modelling the parameters jointly whatever the number of objectives), nsga2, mogp and random,
and Optuna's NSGAIISampler, TPESampler (multi-objective), GPSampler (multi-objective,
log-EHVI) and RandomSampler where Optuna is installed. The GP contenders stop at
``--gp-trials`` (50) trials: their cost grows with the history.

Part 2 (``--asha``) searches the MLP with random configurations, once with every trial
trained for ``max_t`` epochs and once under MO-ASHA, one epoch per report (``partial_fit``),
and reports the hypervolume reached against the epochs spent.

    nice -n 10 python -m benchmarks.multiobjective --seeds 3 --out benchmarks/results/multiobjective.md
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tunelab import pareto
from tunelab.tuners import create_tuner

CHECKPOINTS = (50, 100, 200)


# ---------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    name: str
    space: dict[str, Any]
    objectives: dict[str, str]
    reference: tuple[float, ...]
    evaluate: Callable[[dict[str, Any]], list[float]]
    max_trials: int


def _unit_space(n: int) -> dict[str, Any]:
    return {f"x{i}": {"_type": "uniform", "_value": [0.0, 1.0]} for i in range(n)}


def zdt(params: dict[str, Any], *, concave: bool) -> list[float]:
    x = np.array([params[f"x{i}"] for i in range(len(params))])
    g = 1.0 + 9.0 * x[1:].sum() / (len(x) - 1)
    ratio = x[0] / g
    return [float(x[0]), float(g * (1.0 - (ratio**2 if concave else math.sqrt(ratio))))]


def dtlz2(params: dict[str, Any]) -> list[float]:
    x = np.array([params[f"x{i}"] for i in range(len(params))])
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]


MLP_SPACE: dict[str, Any] = {
    "hidden": {"_type": "qloguniform", "_value": [4, 128, 1]},
    "layers": {"_type": "choice", "_value": [1, 2]},
    "alpha": {"_type": "loguniform", "_value": [1e-6, 1e-1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 3e-2]},
}
MLP_EPOCHS = 8


@cache
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    return x_train, x_val, y_train, y_val


def mlp_model(params: dict[str, Any], seed: int = 0) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(int(params["hidden"]),) * int(params["layers"]),
        alpha=float(params["alpha"]),
        learning_rate_init=float(params["lr"]),
        batch_size=64,
        random_state=seed,
    )


def n_weights(params: dict[str, Any]) -> int:
    sizes = [64, *([int(params["hidden"])] * int(params["layers"])), 10]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def mlp_epochs(params: dict[str, Any]) -> Any:
    """Train one epoch per step; yields ``[validation error, log10 parameter count]`` after each."""
    x_train, x_val, y_train, y_val = _digits()
    model = mlp_model(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while True:
            model.partial_fit(x_train, y_train, classes=np.arange(10))
            yield [float(1.0 - model.score(x_val, y_val)), math.log10(n_weights(params))]


def mlp(params: dict[str, Any]) -> list[float]:
    epochs = mlp_epochs(params)
    for _ in range(MLP_EPOCHS - 1):
        next(epochs)
    return next(epochs)


PROBLEMS = {
    "zdt1": Problem(
        "ZDT1", _unit_space(10), {"f1": "min", "f2": "min"}, (1.1, 10.0), lambda p: zdt(p, concave=False), 200
    ),
    "zdt2": Problem(
        "ZDT2", _unit_space(10), {"f1": "min", "f2": "min"}, (1.1, 10.0), lambda p: zdt(p, concave=True), 200
    ),
    "dtlz2": Problem("DTLZ2 (3 obj)", _unit_space(7), {f"f{i}": "min" for i in range(3)}, (1.1, 1.1, 1.1), dtlz2, 200),
    "mlp": Problem("MLP on digits", MLP_SPACE, {"error": "min", "log10_params": "min"}, (1.0, 5.5), mlp, 50),
}


# ---------------------------------------------------------------------- contenders
def _tunelab(name: str, **args: Any) -> Callable[[Problem, int, int], list[list[float]]]:
    def run(problem: Problem, seed: int, n: int) -> list[list[float]]:
        tuner = create_tuner(name, problem.space, seed=seed, objectives=problem.objectives, **args)
        out = []
        for _ in range(n):
            trial_id, params = tuner.suggest()
            values = problem.evaluate(params)
            tuner.observe(trial_id, values)
            out.append(values)
        return out

    return run


def _optuna_distributions(space: dict[str, Any]) -> dict[str, Any]:
    import optuna

    out: dict[str, Any] = {}
    for key, spec in space.items():
        kind, value = spec["_type"], spec["_value"]
        if kind == "uniform":
            out[key] = optuna.distributions.FloatDistribution(value[0], value[1])
        elif kind == "loguniform":
            out[key] = optuna.distributions.FloatDistribution(value[0], value[1], log=True)
        elif kind == "qloguniform":
            out[key] = optuna.distributions.IntDistribution(int(value[0]), int(value[1]), log=True)
        elif kind == "choice":
            out[key] = optuna.distributions.CategoricalDistribution(value)
        else:
            raise ValueError(kind)
    return out


def _optuna(sampler: str) -> Callable[[Problem, int, int], list[list[float]]]:
    def run(problem: Problem, seed: int, n: int) -> list[list[float]]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.simplefilter("ignore")
        samplers = {
            "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
            "gp": lambda: optuna.samplers.GPSampler(seed=seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        }
        directions = ["minimize" if d == "min" else "maximize" for d in problem.objectives.values()]
        study = optuna.create_study(directions=directions, sampler=samplers[sampler]())
        distributions = _optuna_distributions(problem.space)
        out = []
        for _ in range(n):
            trial = study.ask(distributions)
            values = problem.evaluate(dict(trial.params))
            study.tell(trial, values)
            out.append(values)
        return out

    return run


CONTENDERS: dict[str, Callable[[Problem, int, int], list[list[float]]]] = {
    "tunelab-motpe": _tunelab("motpe"),
    # motpe's kernels over all parameters at once, its only mode before December 2026 (now the
    # default with two objectives only): the before of its change for three objectives
    "tunelab-motpe-joint": _tunelab("motpe", multivariate=True),
    "tunelab-nsga2": _tunelab("nsga2"),
    "tunelab-mogp": _tunelab("mogp"),
    "tunelab-random": _tunelab("random"),
    "optuna-nsga2": _optuna("nsga2"),
    "optuna-tpe": _optuna("tpe"),
    "optuna-gp": _optuna("gp"),
    "optuna-random": _optuna("random"),
}


#: GP contenders stop at this many trials (their cost grows with the history; the machine is shared).
GP_TRIALS = 50


def _losses(problem: Problem, values: list[list[float]]) -> np.ndarray:
    signs = np.array([1.0 if d == "min" else -1.0 for d in problem.objectives.values()])
    return np.asarray(values, dtype=float).reshape(len(values), len(signs)) * signs


def _job(args: tuple[str, str, int, int]) -> tuple[str, str, int, dict[int, float], float]:
    problem_key, contender, seed, n = args
    problem = PROBLEMS[problem_key]
    start = time.perf_counter()
    values = CONTENDERS[contender](problem, seed, n)
    elapsed = time.perf_counter() - start
    losses = _losses(problem, values)
    finite = np.isfinite(losses).all(axis=1)
    hv = {k: pareto.hypervolume(losses[:k][finite[:k]], problem.reference) for k in CHECKPOINTS if k <= len(losses)}
    return problem_key, contender, seed, hv, elapsed


# ---------------------------------------------------------------------- part 2: MO-ASHA
class _TunelabStopper:
    """tunelab's MO-ASHA (or Hyperband brackets over it, ``mohyperband``) through the scheduler interface."""

    def __init__(self, seed: int, max_t: int, name: str = "moasha", **args: Any) -> None:
        from tunelab.schedulers import create_scheduler

        self.objectives = PROBLEMS["mlp"].objectives
        self.scheduler = create_scheduler(
            name, seed=seed, objectives=self.objectives, max_t=max_t, grace_period=1, reduction_factor=3, **args
        )

    def start(self, number: int, params: dict[str, Any], max_t: int) -> None:
        from tunelab.schedulers._base import NewTrial

        self.scheduler.on_start(number, params, NewTrial(budget=max_t))

    def stop(self, number: int, epoch: int, values: list[float]) -> bool:
        report = dict(zip(self.objectives, values, strict=True))
        return self.scheduler.on_result(number, epoch, report).value == "stop"

    def end(self, number: int, stopped: bool, values: list[float]) -> None:
        from tunelab.schedulers._base import Outcome

        outcome = Outcome.STOPPED if stopped else Outcome.COMPLETED
        self.scheduler.on_end(number, outcome, dict(zip(self.objectives, values, strict=True)))


class _SyneTuneStopper:
    """Syne Tune's MOASHA (0.16: its default non-dominated priority), driven as its tuner drives it."""

    def __init__(self, seed: int, max_t: int) -> None:
        import contextlib
        import io

        from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

        np.random.seed(seed)  # its bracket draw uses numpy's global generator
        self.quiet = lambda: contextlib.redirect_stdout(io.StringIO())  # it prints every trial it adds
        self.metrics = list(PROBLEMS["mlp"].objectives)
        self.max_t = max_t
        self.scheduler = MOASHA(
            config_space={},
            metrics=self.metrics,
            do_minimize=True,
            time_attr="epoch",
            max_t=max_t,
            grace_period=1,
            reduction_factor=3,
            random_seed=seed,
        )
        self.trials: dict[int, Any] = {}

    def start(self, number: int, params: dict[str, Any], max_t: int) -> None:
        from datetime import datetime

        from syne_tune.backend.trial_status import Trial

        self.trials[number] = Trial(trial_id=number, config=dict(params), creation_time=datetime.now())
        with self.quiet():
            self.scheduler.on_trial_add(self.trials[number])

    def stop(self, number: int, epoch: int, values: list[float]) -> bool:
        result = {"epoch": epoch, **dict(zip(self.metrics, values, strict=True))}
        return str(self.scheduler.on_trial_result(self.trials[number], result)) == "STOP"

    def end(self, number: int, stopped: bool, values: list[float]) -> None:
        if not stopped:
            result = {"epoch": self.max_t, **dict(zip(self.metrics, values, strict=True))}
            self.scheduler.on_trial_complete(self.trials[number], result)


STOPPERS: dict[str, Callable[[int, int], Any]] = {
    "moasha": _TunelabStopper,
    "mohyperband": lambda seed, max_t: _TunelabStopper(seed, max_t, "mohyperband"),
    "synetune-moasha": _SyneTuneStopper,
}


def asha_run(
    seed: int, n_configs: int, max_t: int, stopper: str | None, budget: int | None = None
) -> list[tuple[int, float]]:
    """``(epochs spent, hypervolume)`` after each trial: random configurations, with or without early stopping.

    With ``budget``, configurations keep coming (at most ``n_configs``) until that many epochs are spent.
    """
    problem = PROBLEMS["mlp"]
    tuner = create_tuner("random", problem.space, seed=seed, objectives=problem.objectives)
    scheduler = None if stopper is None else STOPPERS[stopper](seed, max_t)
    spent, results, curve = 0, [], []
    for number in range(n_configs):
        if budget is not None and spent >= budget:
            break
        trial_id, params = tuner.suggest()
        if scheduler is not None:
            scheduler.start(number, params, max_t)
        epochs = mlp_epochs(params)
        last: list[float] = []
        stopped = False
        for epoch in range(1, max_t + 1):
            last = next(epochs)
            spent += 1
            if scheduler is not None and epoch < max_t and scheduler.stop(number, epoch, last):
                stopped = True
                break
        if scheduler is not None:
            scheduler.end(number, stopped, last)
        tuner.observe(trial_id, last)
        results.append(last)
        curve.append((spent, pareto.hypervolume(_losses(problem, results), problem.reference)))
    return curve


def _asha_job(args: tuple[int, int, int, str | None, int | None]) -> tuple[int, str | None, list[tuple[int, float]]]:
    seed, n_configs, max_t, stopper, budget = args
    return seed, stopper, asha_run(seed, n_configs, max_t, stopper, budget)


# ---------------------------------------------------------------------- suggestion time
def suggestion_ms(name: str, n_objectives: int, history: int, samples: int = 20) -> list[float]:
    """Milliseconds per suggestion after ``history`` trials (DTLZ2-style losses, 7 parameters)."""
    space = _unit_space(7)
    objectives = {f"f{j}": "min" for j in range(n_objectives)}
    tuner = create_tuner(name, space, seed=0, objectives=objectives)
    rng = np.random.default_rng(0)
    for _ in range(history):
        trial_id, _params = tuner.suggest()
        tuner.observe(trial_id, list(rng.random(n_objectives)))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        trial_id, _params = tuner.suggest()
        times.append(1000 * (time.perf_counter() - start))
        tuner.observe(trial_id, list(rng.random(n_objectives)))
    return times


def _timing_section() -> list[str]:
    lines = [
        "### Suggestion time at 500 trials (ms; median and max of 20 suggestions, random losses, 7 parameters)",
        "",
        "| tuner | objectives | median ms | max ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("motpe", "nsga2"):
        for m in (2, 3):
            times = suggestion_ms(name, m, 500)
            lines.append(f"| {name} | {m} | {statistics.median(times):.1f} | {max(times):.1f} |")
    return [*lines, ""]


# ---------------------------------------------------------------------- report
def _table(results: list[tuple[str, str, int, dict[int, float], float]], problems: list[str]) -> list[str]:
    lines = []
    contenders = sorted({r[1] for r in results}, key=list(CONTENDERS).index)
    for key in problems:
        problem = PROBLEMS[key]
        rows = [r for r in results if r[0] == key]
        if not rows:
            continue
        checkpoints = [k for k in CHECKPOINTS if any(k in r[3] for r in rows)]
        lines += [
            f"### {problem.name}: hypervolume (mean ± sd over seeds; reference {problem.reference})",
            "",
            "| contender | " + " | ".join(f"{k} trials" for k in checkpoints) + " | seconds per run |",
            "| --- | " + " | ".join("---:" for _ in checkpoints) + " | ---: |",
        ]
        for contender in contenders:
            mine = [r for r in rows if r[1] == contender]
            if not mine:
                continue
            cells = []
            for k in checkpoints:
                values = [r[3][k] for r in mine if k in r[3]]
                sd = statistics.stdev(values) if len(values) > 1 else 0.0
                cells.append(f"{statistics.mean(values):.4f} ± {sd:.4f}" if values else "")
            seconds = statistics.mean(r[4] for r in mine)
            shown = "" if math.isnan(seconds) else f"{seconds:.1f}"
            lines.append(f"| {contender} | " + " | ".join(cells) + f" | {shown} |")
        lines.append("")
    return lines


def _ranks_at(results: list[tuple[str, str, int, dict[int, float], float]], k: int) -> dict[str, float]:
    """Each contender's mean rank (1 = largest hypervolume) over every (problem, seed) at ``k`` trials."""
    ranks: dict[str, list[float]] = {}
    for key in {r[0] for r in results}:
        for seed in {r[2] for r in results}:
            cell = [(r[1], r[3][k]) for r in results if r[0] == key and r[2] == seed and k in r[3]]
            if len(cell) < 2:
                continue
            order = sorted(cell, key=lambda c: -c[1])
            for position, (name, _) in enumerate(order, 1):
                ranks.setdefault(name, []).append(position)
    return {name: statistics.mean(v) for name, v in ranks.items()}


def _read_log(path: Path) -> list[tuple[str, str, int, dict[int, float], float]]:
    """The result lines of a run's output: ``problem contender seed {trials: hypervolume} [seconds]``."""
    import ast

    results = []
    for line in path.read_text().splitlines():
        head, brace, rest = line.partition(" {")
        parts = head.split()
        if not brace or len(parts) != 3 or parts[0] not in PROBLEMS:
            continue
        table, _, tail = rest.partition("}")
        seconds = float(tail) if tail.strip() else math.nan
        results.append((parts[0], parts[1], int(parts[2]), ast.literal_eval("{" + table + "}"), seconds))
    return results


def rank_tables(results: list[tuple[str, str, int, dict[int, float], float]]) -> list[str]:
    """Mean hypervolume ranks at 50 trials (every contender) and at 100 (those that ran that far)."""
    lines = []
    for k in (50, 100):
        ranks = _ranks_at(results, k)
        if not ranks:
            continue
        lines += [f"### Mean hypervolume rank at {k} trials (1 is best; every problem and seed that ran {k})", ""]
        lines += ["| contender | mean rank |", "| --- | ---: |"]
        lines += [f"| {name} | {rank:.2f} |" for name, rank in sorted(ranks.items(), key=lambda kv: kv[1])]
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="part 1 runs seeds first-seed .. + seeds - 1")
    parser.add_argument("--trials", type=int, default=200, help="at most this many trials per run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gp-trials", type=int, default=GP_TRIALS, help="at most this many trials per GP run")
    parser.add_argument("--asha", action="store_true", help="also run part 2 (MO-ASHA on the MLP)")
    parser.add_argument("--asha-only", action="store_true")
    parser.add_argument("--asha-configs", type=int, default=60)
    parser.add_argument("--asha-max-t", type=int, default=27)
    parser.add_argument(
        "--asha-stop-configs", type=int, default=300, help="most configurations a run with early stopping may try"
    )
    parser.add_argument(
        "--asha-stoppers", default="moasha,synetune-moasha", help="early stopping contenders (Syne Tune's if installed)"
    )
    parser.add_argument("--timing", action="store_true", help="only the suggestion-time table")
    parser.add_argument("--from-log", type=Path, help="tables from the result lines a run printed (no timing)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    problems = [p for p in args.problems.split(",") if p]
    contenders = [c for c in args.contenders.split(",") if c]
    lines = [
        "# Multi-objective benchmark (issue 18)",
        "",
        f"Measured on a loaded, shared 2-core machine (`nice -n 10`); seconds are wall time per run. "
        f"Command: `python -m benchmarks.multiobjective {' '.join(argv if argv is not None else sys.argv[1:])}`.",
        "",
    ]
    if args.from_log:
        results = _read_log(args.from_log)
        lines += _table(results, problems)
        lines += rank_tables(results)
    elif args.timing:
        lines += _timing_section()
    elif not args.asha_only:
        jobs = [
            (p, c, seed, min(args.trials, PROBLEMS[p].max_trials, args.gp_trials if c.endswith("gp") else args.trials))
            for p in problems
            for c in contenders
            for seed in range(args.first_seed, args.first_seed + args.seeds)
        ]
        results = []
        with ProcessPoolExecutor(args.workers) as pool:
            for result in pool.map(_job, jobs):
                hv = {k: round(v, 4) for k, v in result[3].items()}
                print(result[0], result[1], result[2], hv, f"{result[4]:.1f}", flush=True)
                results.append(result)
        lines += _table(results, problems)
        lines += rank_tables(results)
    if args.asha or args.asha_only:
        lines += _asha_section(args)
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


def _asha_section(args: argparse.Namespace) -> list[str]:
    budget = args.asha_configs * args.asha_max_t
    stoppers = [name for name in args.asha_stoppers.split(",") if name]
    notes = []
    if "synetune-moasha" in stoppers and importlib.util.find_spec("syne_tune") is None:
        stoppers.remove("synetune-moasha")
        notes = ["Syne Tune is not installed here, so its MOASHA is not compared.", ""]
    jobs: list[tuple[int, int, int, str | None, int | None]] = []
    for seed in range(args.seeds):
        jobs.append((seed, args.asha_configs, args.asha_max_t, None, None))
        jobs += [(seed, args.asha_stop_configs, args.asha_max_t, name, budget) for name in stoppers]
    with ProcessPoolExecutor(args.workers) as pool:
        runs = {}
        for seed, stopper, curve in pool.map(_asha_job, jobs):
            print("asha", seed, stopper or "none", len(curve), curve[-1][0], round(curve[-1][1], 4), flush=True)
            runs[(seed, stopper)] = curve
    lines = [
        f"### Early stopping against none: MLP on digits, random configurations, max_t={args.asha_max_t} epochs, "
        f"grace 1, eta 3; without stopping {args.asha_configs} configurations ({budget} epochs); with stopping, "
        f"the same configurations in the same order and more until as many epochs are spent "
        f"(at most {args.asha_stop_configs})",
        "",
        "| seed | scheduler | final hypervolume, no stopping | configurations | final hypervolume | "
        "hypervolume at half the epochs | epochs to reach no stopping's final hypervolume (share) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    shares: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        target = runs[(seed, None)][-1][1]
        for name in stoppers:
            curve = runs[(seed, name)]
            reach = next((spent for spent, hv in curve if hv >= target), None)
            half = max((hv for spent, hv in curve if spent <= budget / 2), default=0.0)
            share = "not reached" if reach is None else f"{reach} ({reach / budget:.0%})"
            shares.setdefault(name, []).append(math.inf if reach is None else reach / budget)
            lines.append(
                f"| {seed} | {name} | {target:.4f} | {len(curve)} | {curve[-1][1]:.4f} | {half:.4f} | {share} |"
            )
    lines.append("")
    for name, values in shares.items():
        met = sum(v <= 0.5 for v in values)
        shown = ", ".join("not reached" if math.isinf(v) else f"{v:.0%}" for v in values)
        lines.append(f"- {name}: share of the epochs to reach it {shown}; at most half in {met} of {len(values)} seeds")
    lines.append("")
    return lines + notes


if __name__ == "__main__":
    sys.exit(main())
