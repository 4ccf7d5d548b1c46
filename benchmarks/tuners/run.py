"""Run the tuner benchmark and write a markdown report to ``benchmarks/results/``.

    python -m benchmarks.tuners.run            # the full grid (hours on 2 cores)
    python -m benchmarks.tuners.run --quick    # a reduced grid (see QUICK)

Each run uses the largest budget; smaller budgets are read from the same run's first
trials (the tuners do not know the budget, except ``auto``, which is told the largest).
Batch mode ``q`` asks ``q`` configurations, evaluates them, then tells all ``q`` results.

With ``--cache FILE`` every finished run is appended to ``FILE`` (JSON lines) and runs
already there are not run again, so a grid too long for one sitting can be built in parts
(or survive an interruption) and reported as one table. Delete the cache (or the lines of
one contender) after changing a tuner.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.tuners.contenders import CONTENDERS, Contender, Driver
from benchmarks.tuners.problems import PROBLEMS, Problem
from tunelab.space import parse_search_space
from tunelab.tuners._auto import choose

RESULTS = Path(__file__).resolve().parents[1] / "results"
FULL: dict[str, Any] = {
    "seeds": 5,
    "budgets": [50, 100],
    "batches": [1, 4, 8],
    "sklearn_budget": None,
    "sklearn_contenders": None,
    "timing": [100, 300, 500, 1000],
}
QUICK: dict[str, Any] = {
    "seeds": 5,
    "budgets": [50, 100],
    "batches": [1, 8],
    "sklearn_budget": 40,
    "sklearn_seeds": 3,
    "timing": [100, 300, 500, 1000],
    "sklearn_contenders": [
        "tunelab-auto",
        "tunelab-tpe",
        "tunelab-gp",
        "random",
        "optuna-tpe",
        "optuna-tpe-mv",
        "hyperopt-tpe",
    ],
}


def run_one(problem: Problem, contender: Contender, seed: int, budget: int, batch: int) -> list[float]:
    """The losses of one tuning run, in the order the trials were suggested."""
    warnings.simplefilter("ignore")
    driver: Driver = contender.build(problem.space, seed, budget, batch)
    losses: list[float] = []
    while len(losses) < budget:
        configs = driver.ask(min(batch, budget - len(losses)))
        results = [(c, problem.objective(c)) for c in configs]
        losses.extend(v for _, v in results)
        driver.tell(results)
    return losses


def _task(args: tuple[str, str, int, int, int]) -> tuple[tuple[str, str, int, int], list[float], float]:
    from threadpoolctl import threadpool_limits

    pname, cname, seed, budget, batch = args
    problem = next(p for p in PROBLEMS if p.name == pname)
    contender = next(c for c in CONTENDERS if c.name == cname)
    start = time.perf_counter()
    try:
        # One thread per worker: the pool already runs one worker per core, and BLAS or
        # OpenMP threads on top (scikit-optimize's and Optuna's GPs) only oversubscribe.
        with threadpool_limits(1):
            losses = run_one(problem, contender, seed, budget, batch)
    except ValueError:  # e.g. scikit-optimize on a conditional space
        losses = []
    return (pname, cname, seed, batch), losses, time.perf_counter() - start


def suggest_times(contender: Contender, sizes: list[int], repeats: int = 10, limit_s: float = 20.0) -> dict[int, float]:
    """Mean seconds per suggestion with ``n`` trials of history on Hartmann-6.

    A suggestion is timed from the ask to the end of the tell (scikit-optimize does its work
    in ``tell``), objective excluded, and averaged over ``repeats`` so that a periodic refit
    counts at its share; the suggestion right after the history is restored is not timed.
    Larger histories are skipped once one size takes ``limit_s``.
    """
    warnings.simplefilter("ignore")
    problem = next(p for p in PROBLEMS if p.name == "hartmann6")
    space = parse_search_space(problem.space)
    rng = np.random.default_rng(0)
    out: dict[int, float] = {}
    for n in sizes:
        history = [(p, problem.objective(p)) for p in (space.sample(rng) for _ in range(n))]
        driver = contender.build(problem.space, 0, n + repeats + 1, 1)
        driver.restore(history)  # type: ignore[attr-defined]
        spent = 0.0
        for i in range(repeats + 1):  # the first, untimed, absorbs the one-time catch-up on the restored history
            start = time.perf_counter()
            config = driver.ask(1)[0]
            asked = time.perf_counter() - start
            loss = problem.objective(config)
            start = time.perf_counter()
            driver.tell([(config, loss)])
            if i:
                spent += asked + time.perf_counter() - start
        out[n] = spent / repeats
        if spent > limit_s:
            break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the reduced grid QUICK instead of FULL")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seeds", type=int, help="override the number of seeds")
    parser.add_argument("--problems", help="comma-separated problem names (default all)")
    parser.add_argument("--contenders", help="comma-separated contender names (default all available)")
    parser.add_argument("--batches", help="comma-separated batch sizes, 1 = sequential")
    parser.add_argument("--budgets", help="comma-separated trial budgets (also caps the scikit-learn budget)")
    parser.add_argument(
        "--sequential-only",
        default="",
        help="comma-separated contenders run only sequentially (to save the time of slow peers)",
    )
    parser.add_argument("--no-timing", action="store_true", help="skip the suggestion-time table")
    parser.add_argument("--cache", type=Path, help="JSON-lines file of finished runs: reused, and appended to")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: report the cached runs (a shorter run shows in the smaller budgets' tables only)",
    )
    parser.add_argument("--out", type=Path, help="markdown file to write")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.seeds:
        cfg["seeds"] = args.seeds
    if args.batches:
        cfg["batches"] = [int(b) for b in args.batches.split(",")]
    if args.budgets:
        cfg["budgets"] = [int(b) for b in args.budgets.split(",")]
        if cfg.get("sklearn_budget"):
            cfg["sklearn_budget"] = min(cfg["sklearn_budget"], max(cfg["budgets"]))
    problems = [p for p in PROBLEMS if not args.problems or p.name in args.problems.split(",")]
    wanted = args.contenders.split(",") if args.contenders else None
    contenders = [c for c in CONTENDERS if c.available and (wanted is None or c.name in wanted)]
    skipped = [c.name for c in CONTENDERS if not c.available and (wanted is None or c.name in wanted)]

    sequential_only = set(filter(None, args.sequential_only.split(",")))
    tasks = []
    for p in problems:
        sk = p.kind == "sklearn"
        budget = (cfg.get("sklearn_budget") if sk else None) or max(cfg["budgets"])
        seeds = (cfg.get("sklearn_seeds") if sk else None) or cfg["seeds"]
        names = cfg.get("sklearn_contenders") if sk else None
        for c in contenders:
            if names is not None and c.name not in names:
                continue
            for batch in cfg["batches"]:
                if batch > 1 and c.name in sequential_only:
                    continue
                for seed in range(seeds):
                    tasks.append((p.name, c.name, seed, budget, batch))
    slow = {c.name for c in contenders if c.slow}
    tasks.sort(key=lambda t: t[1] not in slow)  # the long runs first, so none is left running alone at the end
    cached = load_cache(args.cache) if args.cache else {}
    runs: dict[tuple[str, str, int, int], list[float]] = {}
    cost: dict[str, float] = defaultdict(float)
    todo = []
    for t in tasks:
        key = (t[0], t[1], t[2], t[4])
        if key in cached and (len(cached[key][0]) >= t[3] or not cached[key][0] or args.report_only):
            losses, seconds = cached[key]
            if losses:
                runs[key] = losses
            cost[t[1]] += seconds
        elif not args.report_only:
            todo.append(t)
    print(f"{len(tasks)} runs, {len(todo)} to run on {args.jobs} workers (the rest cached)", file=sys.stderr)
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(_task, t): t for t in todo}
        for i, fut in enumerate(as_completed(futures), 1):
            key, losses, seconds = fut.result()
            if losses:
                runs[key] = losses
            cost[key[1]] += seconds
            if args.cache:
                append_cache(args.cache, key, losses, seconds)
            if i % 50 == 0:
                print(f"  {i}/{len(todo)} runs, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    timing: dict[str, dict[int, float]] = {}
    if not args.no_timing:
        for c in contenders:
            timing[c.name] = suggest_times(c, cfg["timing"])
    report = render(
        problems, [c.name for c in contenders], skipped, runs, timing, cfg, args, time.perf_counter() - started, cost
    )
    out = args.out or RESULTS / ("tuners-quick.md" if args.quick else "tuners.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def load_cache(path: Path) -> dict[tuple[str, str, int, int], tuple[list[float], float]]:
    """The longest finished run per (problem, contender, seed, batch) in ``path``.

    A line cut short by an interruption is skipped.
    """
    out: dict[tuple[str, str, int, int], tuple[list[float], float]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = tuple(rec["run"])
        if key not in out or len(rec["losses"]) > len(out[key][0]):  # type: ignore[index]
            out[key] = (rec["losses"], rec["seconds"])  # type: ignore[index]
    return out


def append_cache(path: Path, key: tuple[str, str, int, int], losses: list[float], seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps({"run": list(key), "losses": losses, "seconds": seconds}) + "\n")


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table and the blank line after it."""
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows), ""]


def _best(losses: list[float], budget: int) -> float:
    return min(losses[:budget])


def render(
    problems: list[Problem],
    names: list[str],
    skipped: list[str],
    runs: dict,
    timing: dict,
    cfg: dict,
    args: argparse.Namespace,
    wall: float,
    cost: dict,
) -> str:
    lines = [
        f"# Tuner benchmark ({'quick' if args.quick else 'full'} grid)",
        "",
        f"{date.today()} · Python {platform.python_version()} · {os.cpu_count()} CPUs · "
        f"wall time {wall / 60:.1f} min"
        + (f", runs {sum(cost.values()) / 60:.0f} CPU-min in all (some from the cache)" if args.cache else "")
        + f" · command: `python -m benchmarks.tuners.run {' '.join(sys.argv[1:])}`",
        "",
    ]
    if problems:
        lines += [
            "Scores: 0 = random search's mean best, 100 = the known optimum (or the best value any tuner found). "
            "Ranks: by mean best over seeds, per problem, averaged (1 = best). Smaller budgets are prefixes of "
            "the largest budget's runs.",
            "",
        ]
        picks = ", ".join(
            f"{p.name} → {choose(parse_search_space(p.space), max(cfg['budgets']), 1)[0]}" for p in problems
        )
        lines += [f"`auto` picked (sequential, largest budget): {picks}.", ""]
    if args.sequential_only:
        lines += [f"Run sequentially only: {args.sequential_only}.", ""]
    if skipped:
        lines += [f"Not installed, so not run: {', '.join(skipped)} (Optuna's GPSampler needs PyTorch).", ""]
    summary: dict[tuple[int, int], dict[str, list[float]]] = {}
    for batch in cfg["batches"]:
        for budget in sorted(set(cfg["budgets"]) | ({cfg["sklearn_budget"]} if cfg.get("sklearn_budget") else set())):
            rows, ranks, scores, partial = [], defaultdict(list), defaultdict(list), []
            for p in problems:
                seeds = (cfg.get("sklearn_seeds") if p.kind == "sklearn" else None) or cfg["seeds"]
                per = {
                    n: [
                        _best(runs[(p.name, n, s, batch)], budget)
                        for s in range(seeds)
                        if (p.name, n, s, batch) in runs and len(runs[(p.name, n, s, batch)]) >= budget
                    ]
                    for n in names
                }
                partial += [f"{n} on {p.name} ({len(v)} of {seeds})" for n, v in per.items() if 0 < len(v) < seeds]
                per = {n: v for n, v in per.items() if len(v) == seeds}  # a cell compares complete sets of seeds
                if "random" not in per or len(per) < 2:
                    continue
                ref = p.optimum if p.optimum is not None else min(min(v) for v in per.values())
                rand = statistics.mean(per["random"])
                means = {n: statistics.mean(v) for n, v in per.items()}
                order = sorted(means, key=means.get)  # type: ignore[arg-type]
                for n in per:
                    tied = [i + 1 for i, m in enumerate(order) if means[m] == means[n]]
                    ranks[n].append(statistics.mean(tied))
                    score = 100.0 * (rand - means[n]) / (rand - ref) if rand - ref > 1e-12 else 0.0
                    scores[n].append(score)
                rows.append(
                    (
                        p.name,
                        len(next(iter(per.values()))),
                        {n: (statistics.median(v), scores[n][-1]) for n, v in per.items()},
                    )
                )
            if not rows:
                continue
            mode = "sequential" if batch == 1 else f"batch of {batch}"
            lines += [
                f"## {mode}, budget {budget}",
                "",
                "Median best loss (normalized score) per problem; seeds per cell in the second column.",
                "",
            ]
            lines.append("| problem | seeds | " + " | ".join(names) + " |")
            lines.append("|---|---|" + "---|" * len(names))
            for pname, nseeds, cells in rows:
                best_name = max(cells, key=lambda n: cells[n][1])
                lines.append(
                    f"| {pname} | {nseeds} | "
                    + " | ".join(
                        ("**" if n == best_name else "")
                        + f"{cells[n][0]:.4g} ({cells[n][1]:.0f})"
                        + ("**" if n == best_name else "")
                        if n in cells
                        else "–"
                        for n in names
                    )
                    + " |"
                )
            lines.append(
                "| **mean score** | | "
                + " | ".join(f"{statistics.mean(scores[n]):.1f}" if scores[n] else "–" for n in names)
                + " |"
            )
            lines.append(
                "| **mean rank** | | "
                + " | ".join(f"{statistics.mean(ranks[n]):.2f}" if ranks[n] else "–" for n in names)
                + " |"
            )
            if partial:
                lines.append(f"\nLeft out, not every seed ran: {', '.join(partial)}.")
            lines.append("")
            summary[(batch, budget)] = {
                n: [statistics.mean(ranks[n]), statistics.mean(scores[n])] for n in names if ranks[n]
            }
    if summary:
        lines += ["## Summary: mean rank (mean score) over the problems each setting ran", ""]
        lines += _table(
            ["setting", *names],
            [
                [("sequential" if batch == 1 else f"batch {batch}") + f", budget {budget}"]
                + [f"{vals[n][0]:.2f} ({vals[n][1]:.0f})" if n in vals else "–" for n in names]
                for (batch, budget), vals in summary.items()
            ],
        )
    if timing:
        sizes = cfg["timing"]
        lines += ["## Suggestion time (ms, ask and tell, mean of 10, Hartmann-6, objective excluded)", ""]
        lines += _table(
            ["tuner", *(f"{n} trials" for n in sizes)],
            [
                [n] + [f"{t[s] * 1000:.1f}" if s in t else "(skipped: too slow)" for s in sizes]
                for n, t in timing.items()
            ],
        )
    if cost:
        lines += ["## CPU seconds per contender (all its runs, objective included)", ""]
        lines += _table(list(cost), [[f"{v:.0f}" for v in cost.values()]])
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
