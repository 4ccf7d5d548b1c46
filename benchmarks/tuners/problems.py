"""Benchmark problems: synthetic functions with known optima, mixed and conditional spaces, and
real model tuning (scikit-learn models and LightGBM) on datasets that ship with scikit-learn,
cross-validated, in the spirit of Bayesmark: accuracy or RMSE, and log loss where accuracy on
a small dataset would tie most tuners within a sample or two.

Every objective returns a loss (smaller is better); ``optimum`` is the known minimum, or
None when only the best value any tuner finds can serve as the reference.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Problem:
    name: str
    space: dict[str, Any]
    objective: Callable[[dict[str, Any]], float]
    optimum: float | None
    kind: str  # "synthetic", "mixed", "conditional" or "sklearn"


def _uniform(low: float, high: float) -> dict[str, Any]:
    return {"_type": "uniform", "_value": [low, high]}


def _vector(params: dict[str, Any], d: int) -> np.ndarray:
    return np.array([params[f"x{i}"] for i in range(d)])


def branin(p: dict[str, Any]) -> float:
    x, y = p["x0"], p["x1"]
    return float(
        (y - 5.1 / (4 * math.pi**2) * x**2 + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
    )


_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = _vector(p, 6)
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def rosenbrock(d: int) -> Callable[[dict[str, Any]], float]:
    def f(p: dict[str, Any]) -> float:
        x = _vector(p, d)
        return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))

    return f


def ackley(d: int) -> Callable[[dict[str, Any]], float]:
    def f(p: dict[str, Any]) -> float:
        x = _vector(p, d)
        return float(
            -20 * math.exp(-0.2 * math.sqrt(np.mean(x**2))) - math.exp(np.mean(np.cos(2 * math.pi * x))) + 20 + math.e
        )

    return f


def levy(d: int) -> Callable[[dict[str, Any]], float]:
    def f(p: dict[str, Any]) -> float:
        w = 1 + (_vector(p, d) - 1) / 4
        core = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        return float(math.sin(math.pi * w[0]) ** 2 + core + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2))

    return f


MIXED_SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "layers": {"_type": "randint", "_value": [1, 9]},
    "units": {"_type": "qloguniform", "_value": [8, 512, 8]},
    "dropout": {"_type": "quniform", "_value": [0.0, 0.8, 0.05]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu", "sigmoid"]},
    "opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}
_ACT = {"relu": 0.3, "tanh": 0.6, "gelu": 0.0, "sigmoid": 1.5}
_OPT = {"sgd": 0.5, "adam": 0.0, "rmsprop": 0.2}


def mixed(p: dict[str, Any]) -> float:
    """A made-up network-training surface: optimum 0 at lr=1e-3 (adam), 4 layers, 128 units, 0.2 dropout, gelu."""
    lr_best = -3.0 if p["opt"] != "sgd" else -1.5
    return float(
        (math.log10(p["lr"]) - lr_best) ** 2 * 0.5
        + 0.1 * (p["layers"] - 4) ** 2
        + (math.log2(p["units"]) - 7) ** 2 * 0.2
        + 4 * (p["dropout"] - 0.2) ** 2
        + _ACT[p["act"]]
        + _OPT[p["opt"]]
    )


CONDITIONAL_SPACE = {
    "model": {
        "_type": "choice",
        "_value": [
            {
                "_name": "linear",
                "alpha": {"_type": "loguniform", "_value": [1e-6, 10.0]},
                "l1_ratio": {"_type": "uniform", "_value": [0.0, 1.0]},
            },
            {
                "_name": "tree",
                "depth": {"_type": "randint", "_value": [1, 16]},
                "min_leaf": {"_type": "qloguniform", "_value": [1, 100, 1]},
                "criterion": {"_type": "choice", "_value": ["gini", "entropy"]},
            },
            {
                "_name": "kernel",
                "gamma": {"_type": "loguniform", "_value": [1e-4, 10.0]},
                "c": {"_type": "loguniform", "_value": [1e-2, 1e3]},
            },
        ],
    },
    "scale": {"_type": "choice", "_value": [True, False]},
}


def conditional(p: dict[str, Any]) -> float:
    """A made-up model-selection surface; the kernel branch holds the optimum 0."""
    m = p["model"]
    base = 0.0 if p["scale"] else 0.3
    if m["_name"] == "linear":
        return base + 1.0 + 0.3 * (math.log10(m["alpha"]) + 2) ** 2 + (m["l1_ratio"] - 0.3) ** 2
    if m["_name"] == "tree":
        extra = 0.0 if m["criterion"] == "entropy" else 0.1
        return base + 0.5 + 0.02 * (m["depth"] - 7) ** 2 + 0.3 * (math.log10(m["min_leaf"]) - 0.7) ** 2 + extra
    return base + 0.5 * (math.log10(m["gamma"]) + 1.5) ** 2 + 0.2 * (math.log10(m["c"]) - 1.5) ** 2


@cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loader = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "digits": datasets.load_digits,
        "diabetes": datasets.load_diabetes,
    }[name]
    x, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _cv_loss(make: Callable[[], Any], data: str, scoring: str) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    x, y = _data(data)
    regression = np.issubdtype(y.dtype, np.floating)  # class labels are integers
    folds = KFold(3, shuffle=True, random_state=0) if regression else StratifiedKFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        score = float(np.mean(cross_val_score(make(), x, y, cv=folds, scoring=scoring)))
    return -score if math.isfinite(score) else 1e6


def svm(p: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    return _cv_loss(lambda: SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"]), "breast_cancer", "accuracy")


def gbm(p: dict[str, Any]) -> float:
    # LightGBM rather than scikit-learn's HistGradientBoostingClassifier: the same kind of
    # model, but 200 rounds cost ~0.2 s here instead of 3-9 s (scikit-learn's per-tree
    # overhead), and model-based tuners go straight for 200 rounds, so only this makes the
    # full grid (5 seeds, budget 100, three batch sizes) fit in a few hours on 2 cores.
    from lightgbm import LGBMClassifier

    return _cv_loss(
        lambda: LGBMClassifier(
            learning_rate=p["learning_rate"],
            n_estimators=int(p["n_estimators"]),
            num_leaves=p["num_leaves"],
            min_child_samples=p["min_child_samples"],
            reg_lambda=p["reg_lambda"],
            subsample=p["subsample"],
            subsample_freq=1,
            colsample_bytree=p["colsample_bytree"],
            n_jobs=1,
            verbose=-1,
            random_state=0,
        ),
        "wine",
        "neg_log_loss",
    )


def mlp(p: dict[str, Any]) -> float:
    from sklearn.neural_network import MLPClassifier

    return _cv_loss(
        lambda: MLPClassifier(
            hidden_layer_sizes=(int(p["units"]),) * p["layers"],
            alpha=p["alpha"],
            learning_rate_init=p["lr"],
            batch_size=p["batch_size"],
            max_iter=60,
            random_state=0,
        ),
        "wine",
        "neg_log_loss",
    )


def regressor(p: dict[str, Any]) -> float:
    from sklearn.svm import SVR

    return _cv_loss(
        lambda: SVR(C=p["C"], epsilon=p["epsilon"], gamma=p["gamma"]), "diabetes", "neg_root_mean_squared_error"
    )


def _log(low: float, high: float) -> dict[str, Any]:
    return {"_type": "loguniform", "_value": [low, high]}


PROBLEMS: list[Problem] = [
    Problem("branin", {"x0": _uniform(-5, 10), "x1": _uniform(0, 15)}, branin, 0.397887, "synthetic"),
    Problem("hartmann6", {f"x{i}": _uniform(0, 1) for i in range(6)}, hartmann6, -3.32237, "synthetic"),
    Problem("rosenbrock6", {f"x{i}": _uniform(-2, 2) for i in range(6)}, rosenbrock(6), 0.0, "synthetic"),
    Problem("ackley8", {f"x{i}": _uniform(-10, 15) for i in range(8)}, ackley(8), 0.0, "synthetic"),
    Problem("levy10", {f"x{i}": _uniform(-10, 10) for i in range(10)}, levy(10), 0.0, "synthetic"),
    Problem("mixed-int-cat", MIXED_SPACE, mixed, 0.0, "mixed"),
    Problem("conditional", CONDITIONAL_SPACE, conditional, 0.0, "conditional"),
    Problem(
        "svm-cancer",
        {"C": _log(1e-2, 1e2), "gamma": _log(1e-5, 1.0), "kernel": {"_type": "choice", "_value": ["rbf", "sigmoid"]}},
        svm,
        None,
        "sklearn",
    ),
    Problem(
        "gbm-wine",
        {
            "learning_rate": _log(1e-3, 1.0),
            "n_estimators": {"_type": "qloguniform", "_value": [10, 200, 1]},
            "num_leaves": {"_type": "randint", "_value": [2, 64]},
            "min_child_samples": {"_type": "randint", "_value": [1, 40]},
            "reg_lambda": _log(1e-6, 10.0),
            "subsample": _uniform(0.5, 1.0),
            "colsample_bytree": _uniform(0.3, 1.0),
        },
        gbm,
        None,
        "sklearn",
    ),
    Problem(
        "mlp-wine",
        {
            "units": {"_type": "qloguniform", "_value": [4, 128, 1]},
            "layers": {"_type": "randint", "_value": [1, 4]},
            "alpha": _log(1e-6, 1.0),
            "lr": _log(1e-4, 0.3),
            "batch_size": {"_type": "choice", "_value": [8, 16, 32, 64]},
        },
        mlp,
        None,
        "sklearn",
    ),
    Problem(
        "svr-diabetes",
        {"C": _log(1e-2, 1e3), "epsilon": _log(1e-3, 10.0), "gamma": _log(1e-5, 1.0)},
        regressor,
        None,
        "sklearn",
    ),
]
