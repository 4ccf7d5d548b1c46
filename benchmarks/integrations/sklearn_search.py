"""TuneSearchCV against scikit-learn's RandomizedSearchCV (overhead) and Optuna's OptunaSearchCV (quality).

    nice -n 10 .venv/bin/python -m benchmarks.integrations.sklearn_search

1. Overhead: the same candidates, the same cv and n_jobs. RandomizedSearchCV draws its
   candidates with ParameterSampler(seed); TuneSearchCV evaluates exactly those through
   its ``batch`` tuner, so the difference is tunelab's own cost. Its ``random`` and
   adaptive ``tpe`` runs (candidates proposed n_jobs at a time) are timed beside them.
2. Quality at equal budget: best cross-validation score and held-out score of the refit
   best model, TuneSearchCV (``auto``, ``tpe``) against OptunaSearchCV (TPE) and
   RandomizedSearchCV, over several seeds.

Writes ``benchmarks/results/integrations.md``. Not a test.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import ParameterSampler, RandomizedSearchCV, train_test_split
from sklearn.svm import SVC

from tunelab.sklearn import TuneSearchCV

RESULTS = Path(__file__).resolve().parents[1] / "results" / "integrations.md"
SPACE = {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)}


def _data():
    x, y = load_digits(return_X_y=True)
    return train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def _timed(search, x, y) -> tuple[float, object]:
    start = time.perf_counter()
    search.fit(x, y)
    return time.perf_counter() - start, search


def overhead(n_candidates: int, n_jobs: int, repeats: int) -> list[dict]:
    x_train, _, y_train, _ = _data()
    # Start joblib's worker processes first, so that no contender pays for them.
    RandomizedSearchCV(SVC(), SPACE, n_iter=4, cv=3, n_jobs=n_jobs, random_state=0).fit(x_train, y_train)
    rows = []
    for seed in range(repeats):
        candidates = [dict(c) for c in ParameterSampler(SPACE, n_candidates, random_state=seed)]
        contenders = {
            "RandomizedSearchCV": RandomizedSearchCV(
                SVC(), SPACE, n_iter=n_candidates, cv=3, n_jobs=n_jobs, random_state=seed
            ),
            "TuneSearchCV (batch: same candidates)": TuneSearchCV(
                SVC(),
                SPACE,
                n_trials=n_candidates,
                tuner="batch",
                tuner_args={"configs": candidates},
                cv=3,
                n_jobs=n_jobs,
            ),
            "TuneSearchCV (random)": TuneSearchCV(
                SVC(), SPACE, n_trials=n_candidates, tuner="random", cv=3, n_jobs=n_jobs, random_state=seed
            ),
            "TuneSearchCV (tpe, batches of n_jobs)": TuneSearchCV(
                SVC(), SPACE, n_trials=n_candidates, tuner="tpe", cv=3, n_jobs=n_jobs, random_state=seed
            ),
        }
        order = list(contenders)
        order = order[seed % len(order) :] + order[: seed % len(order)]  # a different one goes first each repeat
        timed = {}
        for name in order:
            timed[name] = _timed(contenders[name], x_train, y_train)
        for name in contenders:
            seconds, fitted = timed[name]
            fit_seconds = float(np.sum(fitted.cv_results_["mean_fit_time"] + fitted.cv_results_["mean_score_time"]) * 3)
            rows.append(
                {
                    "seed": seed,
                    "name": name,
                    "seconds": seconds,
                    "fit_seconds": fit_seconds,
                    "params": fitted.cv_results_["params"],
                }
            )
        same = rows[-4]["params"] == rows[-3]["params"]
        if not same:
            raise RuntimeError("the batch tuner did not evaluate RandomizedSearchCV's candidates")
    return rows


def quality(n_trials: int, n_jobs: int, seeds: int) -> list[dict]:
    from optuna.distributions import FloatDistribution
    from optuna.logging import WARNING, set_verbosity
    from optuna_integration import OptunaSearchCV

    set_verbosity(WARNING)
    x_train, x_test, y_train, y_test = _data()
    optuna_space = {"C": FloatDistribution(1e-2, 1e3, log=True), "gamma": FloatDistribution(1e-5, 1e-1, log=True)}
    rows = []
    for seed in range(seeds):
        contenders = {
            "TuneSearchCV (auto)": TuneSearchCV(
                SVC(), SPACE, n_trials=n_trials, cv=3, n_jobs=n_jobs, random_state=seed
            ),
            "TuneSearchCV (tpe)": TuneSearchCV(
                SVC(), SPACE, n_trials=n_trials, tuner="tpe", cv=3, n_jobs=n_jobs, random_state=seed
            ),
            # With no study given, OptunaSearchCV seeds its TPE sampler with random_state.
            "OptunaSearchCV (TPE)": OptunaSearchCV(
                SVC(), optuna_space, n_trials=n_trials, cv=3, n_jobs=n_jobs, random_state=seed, verbose=0
            ),
            "RandomizedSearchCV": RandomizedSearchCV(
                SVC(), SPACE, n_iter=n_trials, cv=3, n_jobs=n_jobs, random_state=seed
            ),
        }
        for name, search in contenders.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning
                seconds, fitted = _timed(search, x_train, y_train)
            rows.append(
                {
                    "seed": seed,
                    "name": name,
                    "cv": float(fitted.best_score_),
                    "test": float(fitted.score(x_test, y_test)),
                    "seconds": seconds,
                }
            )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report(over: list[dict], qual: list[dict], args: argparse.Namespace) -> str:
    names = list(dict.fromkeys(r["name"] for r in over))
    base = statistics.median(r["seconds"] for r in over if r["name"] == "RandomizedSearchCV")
    over_rows = []
    for name in names:
        times = [r["seconds"] for r in over if r["name"] == name]
        fits = [r["fit_seconds"] for r in over if r["name"] == name]
        median = statistics.median(times)
        over_rows.append(
            [
                name,
                f"{median:.2f}",
                f"{min(times):.2f}–{max(times):.2f}",
                f"{statistics.median(fits):.2f}",
                f"{(median / base - 1) * 100:+.1f}%",
            ]
        )
    q_names = list(dict.fromkeys(r["name"] for r in qual))
    q_rows = []
    for name in q_names:
        mine = [r for r in qual if r["name"] == name]
        cv = [r["cv"] for r in mine]
        test = [r["test"] for r in mine]
        q_rows.append(
            [
                name,
                f"{np.mean(cv):.4f} ± {np.std(cv):.4f}",
                f"{np.mean(test):.4f} ± {np.std(test):.4f}",
                f"{np.mean([r['seconds'] for r in mine]):.1f}",
            ]
        )
    return f"""# scikit-learn integration: TuneSearchCV

Reproduce: `nice -n 10 .venv/bin/python -m benchmarks.integrations.sklearn_search` (about
{args.elapsed / 60:.0f} minutes on this machine: {platform.machine()}, {__import__("os").cpu_count()} cores,
Python {platform.python_version()}). Problem: `SVC` on scikit-learn's digits (70 % train), `C` and `gamma`
log-uniform, 3-fold cross-validation, `n_jobs={args.n_jobs}`.

## Overhead against RandomizedSearchCV (same candidates, same n_jobs)

{args.candidates} candidates, {args.repeats} repeats (each repeat draws new candidates; the batch row
evaluates exactly RandomizedSearchCV's). "fit+score s" is the CPU time of the fits themselves
(sum over candidates and folds), which differs between rows only when the candidates differ.

{_table(["search", "wall s (median)", "range", "fit+score s", "vs RandomizedSearchCV"], over_rows)}

Target: within 10 % with the same candidates. The `random` row draws other candidates (its own
sampler), the `tpe` row proposes {args.n_jobs} candidates at a time and waits for their scores,
so their times include different fits and the barrier between batches.

## Quality at equal budget against OptunaSearchCV

{args.trials} candidates each, seeds 0–{args.seeds - 1}; mean ± standard deviation over seeds of the best
cross-validation accuracy and of the refit best model's accuracy on the held-out 30 %.

{_table(["search", "best CV accuracy", "held-out accuracy", "wall s"], q_rows)}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    start = time.perf_counter()
    over = overhead(args.candidates, args.n_jobs, args.repeats)
    qual = quality(args.trials, args.n_jobs, args.seeds)
    args.elapsed = time.perf_counter() - start
    text = report(over, qual, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
