"""tunelab's KerasTuner-compatible BayesianOptimization against the real KerasTuner's, and its RandomSearch.

The same ``build_model`` (a one-hidden-layer network on scikit-learn's digits: units, dropout,
learning rate, activation), the same data split, the same number of trials and epochs per trial,
several seeds. Reported per contender: the best validation accuracy found (mean and spread over
the seeds) and the wall time per trial (search time / trials: training plus the tuner's own
overhead). Not a test: run it with

    nice -n 10 env KERAS_BACKEND=torch python -m benchmarks.keras_tuner --trials 12 --seeds 3

and it writes ``benchmarks/results/keras_tuner.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

RESULTS = Path(__file__).resolve().parent / "results" / "keras_tuner.md"


def _data() -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = (digits.data / 16.0).astype("float32"), digits.target
    return x[:1200], y[:1200], x[1200:], y[1200:]


def build_model(hp: Any) -> Any:
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 8, 128, step=8), activation=hp.Choice("activation", ["relu", "tanh"])),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _contenders() -> dict[str, Callable[..., Any]]:
    import keras_tuner as real

    from tunelab import keras_tuner as ours

    return {
        "tunelab BayesianOptimization (GP)": ours.BayesianOptimization,
        "KerasTuner BayesianOptimization": real.BayesianOptimization,
        "KerasTuner RandomSearch": real.RandomSearch,
    }


def run_one(make: Callable[..., Any], seed: int, trials: int, epochs: int, folder: Path) -> tuple[float, float]:
    """(best validation accuracy, seconds per trial) of one search."""
    import keras

    x_train, y_train, x_val, y_val = _data()
    keras.utils.set_random_seed(seed)
    tuner = make(
        build_model,
        objective="val_accuracy",
        max_trials=trials,
        seed=seed,
        directory=folder,
        project_name=f"seed{seed}",
        overwrite=True,
    )
    started = time.perf_counter()
    tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val), batch_size=64, verbose=0)
    elapsed = time.perf_counter() - started
    best = tuner.oracle.get_best_trials(1)[0]
    return float(best.score), elapsed / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--only", default=None, help="run only the contenders whose name contains this")
    args = parser.parse_args()
    import keras_tuner  # noqa: F401 - imported first, as a KerasTuner user's script does

    os.environ.setdefault("TUNELAB_HOME", tempfile.mkdtemp(prefix="tunelab-bench-"))
    rows = []
    for name, make in _contenders().items():
        if args.only is not None and args.only not in name:
            continue
        scores, per_trial = [], []
        for seed in range(args.seeds):
            folder = Path(tempfile.mkdtemp(prefix="kt-bench-"))
            try:
                score, seconds = run_one(make, seed, args.trials, args.epochs, folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            scores.append(score)
            per_trial.append(seconds)
            print(f"{name} seed {seed}: best val_accuracy {score:.4f}, {seconds:.2f} s per trial", flush=True)
        spread = statistics.stdev(scores) if len(scores) > 1 else 0.0
        rows.append((name, statistics.mean(scores), spread, min(scores), statistics.mean(per_trial)))
    lines = [
        "# tunelab.keras_tuner against KerasTuner",
        "",
        "Measured on a loaded 2-core machine (other engineers' test suites running); the contenders run",
        f"one after another in the same run. x86_64, Python {platform.python_version()}, Keras 3 on torch (CPU).",
        "",
        "One `build_model` (digits, 1,200 training and 597 validation rows; units, activation, dropout and",
        f"learning rate), {args.trials} trials of {args.epochs} epochs per search, seeds 0..{args.seeds - 1}.",
        "The score is the best validation accuracy a search found; time per trial is the search's wall time",
        "divided by its trials (training plus the tuner).",
        "",
        "Reproduce: `nice -n 10 env KERAS_BACKEND=torch python -m benchmarks.keras_tuner "
        f"--trials {args.trials} --epochs {args.epochs} --seeds {args.seeds}`",
        "",
        "| contender | best val_accuracy (mean ± sd) | worst seed | s per trial |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, mean, spread, worst, seconds in rows:
        lines.append(f"| {name} | {mean:.4f} ± {spread:.4f} | {worst:.4f} | {seconds:.2f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
