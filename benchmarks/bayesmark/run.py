"""Run Bayesmark studies for tunelab and its peers, cached, and write the leaderboard table.

Runs in the venv that ``benchmarks/bayesmark/make_hebo_venv.sh`` builds (HEBO's numpy pin
rules out tunelab's own .venv)::

    /work/venvs/hebo/bin/python -m benchmarks.bayesmark.run --calls 16 --batch 8 --studies 5 \\
        --problems DT-breast-acc,kNN-wine-nll --cache benchmarks/.cache/bayesmark.jsonl

A problem is ``MODEL-DATA-METRIC`` (Bayesmark's names: models kNN, SVM, DT, RF, MLP-adam,
MLP-sgd, ada, lasso, linear; data digits, iris, wine, breast, diabetes; metrics acc, nll for
classifiers, mse, mae for diabetes). Every study runs Bayesmark's own ``run_sklearn_study``
(its 5-fold cross-validation, its objective) in a worker process with one BLAS thread; each
finished study is appended to the cache, and studies already there are not run again, so
a grid survives interruption and grows across sittings.

Score, as Bayesmark's leaderboard: per problem and setting, ``100 * (1 - (mean best - opt) /
(random mean best - opt))`` over the studies, where *random* is Bayesmark's RandomSearch in the
same setting and *opt* the best value any run of any contender found on that problem
(Bayesmark takes it from a large random-search baseline; with a few studies this is
stricter); the leaderboard averages the problems.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from benchmarks.bayesmark import shims

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"

OURS = ["tunelab-auto", "tunelab-tpe", "tunelab-gp", "tunelab-smac"]
PEERS = ["HEBO", "optuna-tpe", "optuna-gp"]
DEFAULT = [*OURS, *PEERS, "RandomSearch", "HyperOpt", "Scikit-GP-Hedge", "OpenTuner-BanditA", "PySOT"]


def optimizer(name: str) -> tuple[type, dict[str, Any]]:
    shims.apply()
    from benchmarks.bayesmark.optimizers import HEBOOptimizer, baselines, tunelab_optimizer

    if name.startswith("tunelab-"):
        return tunelab_optimizer(name.removeprefix("tunelab-")), {}
    if name == "optuna-tpe":
        return tunelab_optimizer("optuna"), {}
    if name == "optuna-gp":
        return tunelab_optimizer("optuna", sampler="GPSampler"), {}
    if name == "HEBO":
        return HEBOOptimizer, {}
    table = baselines()
    if name not in table:
        raise KeyError(f"{name}: not a contender here (missing package?); known: {sorted(table)}")
    return table[name]


Key = tuple[str, str, int, int, int]  # (contender, problem, calls, batch, study)


class Record(NamedTuple):
    """One finished study as the cache holds it."""

    evals: list[list[float]]  # (calls, batch) objective values
    seconds: float  # CPU seconds of the whole study (suggestions and evaluations)
    error: str  # why the study failed, or ""
    suggest_cpu: float | None = None  # CPU seconds inside the contender's suggest and observe
    load: float | None = None  # 1-minute load average when the study ended
    failed_calls: int = 0  # suggest/observe calls that raised (Bayesmark went on without them)


def timed(cls: type) -> type:
    """``cls`` with the CPU time of its ``suggest`` and ``observe`` calls summed in ``cpu``, and
    the calls that raised (which Bayesmark logs and papers over) counted in ``failed``."""

    class Timed(cls):  # type: ignore[misc, valid-type]
        cpu = 0.0
        failed = 0

        def suggest(self, n_suggestions: int = 1) -> Any:
            start = time.process_time()
            try:
                return super().suggest(n_suggestions)
            except Exception:
                Timed.failed += 1  # Bayesmark falls back to random search for this batch
                raise
            finally:
                Timed.cpu += time.process_time() - start

        def observe(self, X: Any, y: Any) -> Any:
            start = time.process_time()
            try:
                return super().observe(X, y)
            except Exception:
                Timed.failed += 1  # Bayesmark drops these observations
                raise
            finally:
                Timed.cpu += time.process_time() - start

    Timed.__name__ = Timed.__qualname__ = cls.__name__
    return Timed


def study(key: Key) -> tuple[Key, Record]:
    from threadpoolctl import threadpool_limits

    shims.apply()
    from bayesmark.experiment import run_sklearn_study

    name, problem, calls, batch, seed = key
    model, data, metric = problem.rsplit("-", 2) if problem.count("-") > 2 else problem.split("-")
    warnings.simplefilter("ignore")
    np.random.seed(seed)
    random.seed(seed)
    start = time.process_time()
    try:
        cls, kwargs = optimizer(name)
        cls = timed(cls)
        if name.startswith(("tunelab-", "optuna-")) or name == "HEBO":
            kwargs = {**kwargs, "seed": seed, "n_calls": calls, "n_suggestions": batch}
        with threadpool_limits(1):
            evals, _, _ = run_sklearn_study(cls, kwargs, model, data, metric, calls, batch)
        seconds = time.process_time() - start
        return key, Record(evals[:, :, 0].tolist(), seconds, "", cls.cpu, os.getloadavg()[0], cls.failed)
    except Exception as exc:  # noqa: BLE001 - one broken peer must not stop the grid
        error = f"{type(exc).__name__}: {exc}"[:200]
        return key, Record([], time.process_time() - start, error, None, os.getloadavg()[0])


def load(path: Path) -> dict[Key, Record]:
    out: dict[Key, Record] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            out[tuple(rec["run"])] = Record(  # type: ignore[index]
                rec["evals"],
                rec["seconds"],
                rec.get("error", ""),
                rec.get("suggest_cpu"),
                rec.get("load"),
                rec.get("failed_calls", 0),
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contenders", default=",".join(DEFAULT))
    parser.add_argument("--problems", default="DT-breast-acc,DT-wine-nll")
    parser.add_argument("--calls", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--studies", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / ".cache" / "bayesmark.jsonl")
    parser.add_argument("--report-only", action="store_true", help="run nothing; report the cache")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    names, problems = args.contenders.split(","), args.problems.split(",")
    keys = [(n, p, args.calls, args.batch, s) for p in problems for n in names for s in range(args.studies)]
    cached = load(args.cache)
    todo = [k for k in keys if k not in cached] if not args.report_only else []
    print(f"{len(keys)} studies, {len(todo)} to run on {args.jobs} workers", file=sys.stderr)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.jobs) as pool:
        for i, fut in enumerate(as_completed([pool.submit(study, k) for k in todo]), 1):
            key, rec = fut.result()
            cached[key] = rec
            with args.cache.open("a") as f:
                f.write(json.dumps({"run": list(key), **rec._asdict()}) + "\n")
            print(f"  {i}/{len(todo)} {key} {rec.error or 'ok'} ({rec.seconds:.0f} s)", file=sys.stderr, flush=True)
    text = render(names, problems, args, cached)
    out = args.out or RESULTS / "bayesmark.md"
    out.write_text(text)
    print(text)
    return 0


def render(names: list[str], problems: list[str], args: argparse.Namespace, cached: dict[Key, Record]) -> str:
    keys = {n: {p: [(n, p, args.calls, args.batch, s) for s in range(args.studies)] for p in problems} for n in names}
    done = [cached[k] for n in names for p in problems for k in keys[n][p] if k in cached and cached[k].evals]
    loads = sorted(r.load for r in done if r.load is not None)
    load = (
        f"1-minute load average at the studies' ends {loads[0]:.1f} to {loads[-1]:.1f} "
        f"(median {statistics.median(loads):.1f})"
        if loads
        else "load average not recorded"
    )
    lines = [
        f"## Bayesmark, {args.calls} × {args.batch} ({args.calls} batches of {args.batch})",
        "",
        f"One process, one BLAS thread per study; {load}. Command: "
        f"`/work/venvs/hebo/bin/python -m benchmarks.bayesmark.run {' '.join(sys.argv[1:])}`",
        "",
        "Normalized score per problem (100 = the best value any run found, 0 = random search's mean), "
        "mean over the studies; the leaderboard row averages the problems.",
        "",
        "| problem | studies | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    scores: dict[str, list[float]] = {n: [] for n in names}
    means: dict[str, dict[str, float]] = {n: {} for n in names}  # contender -> problem -> mean best
    below_random: dict[str, list[str]] = {n: [] for n in names}
    missing = []
    for p in problems:
        runs = {
            n: [float(np.min(cached[k].evals)) for k in keys[n][p] if k in cached and cached[k].evals] for n in names
        }
        for n in names:
            if len(runs[n]) < args.studies:
                errors = {cached[k].error for k in keys[n][p] if k in cached and cached[k].error}
                missing.append(f"{n} on {p}: {len(runs[n])} of {args.studies} ({'; '.join(errors) or 'not run'})")
        complete = {n: v for n, v in runs.items() if len(v) == args.studies}
        if "RandomSearch" not in complete:
            continue
        opt = min(float(np.min(r.evals)) for k, r in cached.items() if k[1] == p and r.evals)
        rand = statistics.mean(complete["RandomSearch"])
        row = []
        for n in names:
            if n not in complete:
                row.append("–")
                continue
            score = 100.0 * (1 - (statistics.mean(complete[n]) - opt) / (rand - opt)) if rand > opt else 100.0
            scores[n].append(score)
            means[n][p] = statistics.mean(complete[n])
            row.append(f"{score:.1f}")
            if statistics.median(complete[n]) > statistics.median(complete["RandomSearch"]):
                below_random[n].append(p)
        best = max((float(c) for c in row if c != "–"), default=None)
        row = [f"**{c}**" if c != "–" and float(c) == best else c for c in row]
        lines.append(f"| {p} | {args.studies} | " + " | ".join(row) + " |")
    full = len(scores["RandomSearch"]) if "RandomSearch" in scores else 0
    lines.append(
        "| **leaderboard** | | "
        + " | ".join(f"**{statistics.mean(v):.1f}**" if len(v) == full and v else "–" for v in scores.values())
        + " |"
    )
    cpu = []
    for n in names:
        per_call = [
            1000 * r.suggest_cpu / args.calls
            for p in problems
            for k in keys[n][p]
            if (r := cached.get(k)) is not None and r.evals and r.suggest_cpu is not None
        ]
        cpu.append(f"{statistics.median(per_call):.0f}" if per_call else "–")
    lines += ["| suggest + observe CPU, ms per call (median) | | " + " | ".join(cpu) + " |", ""]
    failed = [
        f"{n} {sum(r.failed_calls for r in rs)} calls in {sum(1 for r in rs if r.failed_calls)} of {len(rs)} studies"
        for n in names
        if (rs := [cached[k] for p in problems for k in keys[n][p] if k in cached and cached[k].evals])
        and any(r.failed_calls for r in rs)
    ]
    if failed:
        lines += [
            "Suggest or observe calls that raised (Bayesmark used random points or dropped the results): "
            + "; ".join(failed)
            + ".",
            "",
        ]
    ref = "tunelab-auto"
    if ref in names and means[ref]:
        duels = []
        for n in names:
            shared = [p for p in means[ref] if p in means[n]]
            if n == ref or not shared:
                continue
            ahead = sum(means[ref][p] < means[n][p] for p in shared)
            behind = sum(means[ref][p] > means[n][p] for p in shared)
            duels.append(f"{n} {ahead}/{behind}/{len(shared) - ahead - behind}")
        lines += [
            f"{ref}'s mean best ahead of / behind / level with, on the problems both ran: " + ", ".join(duels) + ".",
            "",
        ]
    worse = [f"{n} on {', '.join(ps)}" for n, ps in below_random.items() if ps]
    lines += [
        "Median best value worse than RandomSearch's median: " + ("; ".join(worse) if worse else "none") + ".",
        "",
    ]
    if missing:
        lines += ["Missing or partial: " + "; ".join(missing) + ".", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
