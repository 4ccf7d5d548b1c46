"""Model selection on scikit-learn's wine data, with the search space declared by run in Optuna's words.

    python examples/define_by_run/optuna_style.py [MAX_TRIALS]

No search space is given: each trial declares what it uses. The classifier is chosen by a
plain ``if``; the scaler's parameters live in KerasTuner's ``conditional_scope``, so the
tuner models them only when the pipeline has a scaler. The same object answers both.
"""

from __future__ import annotations

import sys

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import tunelab


def objective(trial: tunelab.HyperParameters) -> float:
    x, y = load_wine(return_X_y=True)
    classifier = trial.suggest_categorical("classifier", ["svm", "forest"])
    if classifier == "svm":
        model = SVC(C=trial.suggest_float("svm_c", 1e-2, 1e3, log=True), gamma="scale")
    else:
        model = RandomForestClassifier(
            n_estimators=trial.suggest_int("n_estimators", 10, 200, step=10),
            max_depth=trial.suggest_int("max_depth", 2, 16),
            random_state=0,
        )
    scale = trial.Boolean("scale", default=True)
    with trial.conditional_scope("scale", [True]):
        with_mean = trial.Boolean("with_mean", default=True)
    steps = [StandardScaler(with_mean=with_mean), model] if scale else [model]
    return float(cross_val_score(make_pipeline(*steps), x, y, cv=3).mean())


if __name__ == "__main__":
    max_trials = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    result = tunelab.optimize(objective, max_trials=max_trials, mode="max", seed=0, concurrency=2)
    print(f"best accuracy {result.best_value:.4f} with {result.best_params}")
