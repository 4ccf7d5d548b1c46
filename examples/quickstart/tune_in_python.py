"""The same tuning from Python, with a function objective instead of a script."""

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import tunelab
from tunelab import hp


def objective(params):
    X, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(), SVC(C=params["C"], gamma=params["gamma"]))
    return cross_val_score(model, X, y, cv=3).mean()


if __name__ == "__main__":
    result = tunelab.optimize(
        objective,
        {"C": hp.loguniform(0.01, 100), "gamma": hp.loguniform(1e-4, 1)},
        max_trials=15,
        mode="max",
        concurrency=2,
        seed=0,
    )
    print(f"best accuracy {result.best_value:.4f} with {result.best_params}")
