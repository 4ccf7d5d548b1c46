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
import random
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

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


def study(key: Key) -> tuple[Key, list[list[float]], float, str]:
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
        if name.startswith(("tunelab-", "optuna-")) or name == "HEBO":
            kwargs = {**kwargs, "seed": seed, "n_calls": calls, "n_suggestions": batch}
        with threadpool_limits(1):
            evals, _, _ = run_sklearn_study(cls, kwargs, model, data, metric, calls, batch)
        return key, evals[:, :, 0].tolist(), time.process_time() - start, ""
    except Exception as exc:  # noqa: BLE001 - one broken peer must not stop the grid
        return key, [], time.process_time() - start, f"{type(exc).__name__}: {exc}"[:200]


def load(path: Path) -> dict[Key, tuple[list[list[float]], float, str]]:
    out: dict[Key, tuple[list[list[float]], float, str]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            out[tuple(rec["run"])] = (rec["evals"], rec["seconds"], rec.get("error", ""))  # type: ignore[index]
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
            key, evals, seconds, error = fut.result()
            cached[key] = (evals, seconds, error)
            with args.cache.open("a") as f:
                f.write(json.dumps({"run": list(key), "evals": evals, "seconds": seconds, "error": error}) + "\n")
            print(f"  {i}/{len(todo)} {key} {error or 'ok'}", file=sys.stderr)
    text = render(names, problems, args, cached)
    out = args.out or RESULTS / "bayesmark.md"
    out.write_text(text)
    print(text)
    return 0


def render(names: list[str], problems: list[str], args: argparse.Namespace, cached: dict) -> str:
    setting = f"{args.calls} × {args.batch}"
    lines = [
        f"## Bayesmark, {setting} ({args.calls} batches of {args.batch})",
        "",
        "Measured on a loaded 2-core machine (other work running), one BLAS thread per study. Command: "
        f"`/work/venvs/hebo/bin/python -m benchmarks.bayesmark.run {' '.join(sys.argv[1:])}`",
        "",
        "Normalized score per problem (100 = the best value any run found, 0 = random search's mean), "
        "mean over the studies; the leaderboard row averages the problems.",
        "",
        "| problem | studies | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    scores: dict[str, list[float]] = {n: [] for n in names}
    missing = []
    for p in problems:
        runs = {
            n: [
                np.minimum.accumulate(np.min(cached[k][0], axis=1))[-1]
                for s in range(args.studies)
                if (k := (n, p, args.calls, args.batch, s)) in cached and cached[k][0]
            ]
            for n in names
        }
        for n in names:
            got = len(runs[n])
            if got < args.studies:
                errors = {
                    cached[k][2] for s in range(args.studies) if (k := (n, p, args.calls, args.batch, s)) in cached
                }
                why = "; ".join(e for e in errors if e) or "not run"
                missing.append(f"{n} on {p}: {got} of {args.studies} ({why})")
        complete = {n: v for n, v in runs.items() if len(v) == args.studies}
        if "RandomSearch" not in complete:
            continue
        opt = min(min(np.min(cached[k][0]) for k in cached if k[1] == p and cached[k][0]), *sum(complete.values(), []))
        rand = statistics.mean(complete["RandomSearch"])
        row = []
        for n in names:
            if n not in complete:
                row.append("–")
                continue
            score = 100.0 * (1 - (statistics.mean(complete[n]) - opt) / (rand - opt)) if rand > opt else 100.0
            scores[n].append(score)
            row.append(f"{score:.1f}")
        best = max((float(c) for c in row if c != "–"), default=None)
        row = [f"**{c}**" if c != "–" and float(c) == best else c for c in row]
        lines.append(f"| {p} | {args.studies} | " + " | ".join(row) + " |")
    lines.append(
        "| **leaderboard** | | "
        + " | ".join(
            f"{statistics.mean(v):.1f}" if len(v) == len(scores["RandomSearch"]) and v else "–" for v in scores.values()
        )
        + " |"
    )
    lines.append("")
    if missing:
        lines += ["Missing or partial: " + "; ".join(missing) + ".", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
