"""Learning-curve problems for the scheduler benchmark: real ones (scikit-learn, epoch by epoch) and a synthetic family.

Every problem trains a model one epoch at a time and returns a validation score (higher is
better). :class:`CurveCache` keeps each configuration's model and scores, so that every
method replays the *same* real curves: a configuration is trained once, as far as any
method needs it, and a trial resumed from a checkpoint continues the same curve.
PBT changes hyperparameters mid-run, so its trials train their own model copies.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_EPOCHS = 27


def fingerprint(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _seed_of(params: dict[str, Any], salt: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{fingerprint(params)}".encode()).digest()[:4], "little")


class Problem:
    name = ""
    space: dict[str, Any] = {}
    #: What PBT may change in a running model.
    mutable: tuple[str, ...] | None = None

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def init(self, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def set_params(self, model: Any, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def train_epoch(self, model: Any) -> float:
        raise NotImplementedError


@dataclass
class _Digits:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    classes: np.ndarray


_DATA: dict[int, _Digits] = {}


def digits(split_seed: int) -> _Digits:
    if split_seed not in _DATA:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.3, random_state=split_seed, stratify=y)
        _DATA[split_seed] = _Digits(Xtr, ytr, Xva, yva, np.unique(y))
    return _DATA[split_seed]


class SGDDigits(Problem):
    """A linear classifier (SGDClassifier.partial_fit) on scikit-learn's digits."""

    name = "sgd-digits"
    mutable = ("alpha", "eta0")
    space = {
        "alpha": {"_type": "loguniform", "_value": [1e-7, 1.0]},
        "eta0": {"_type": "loguniform", "_value": [1e-5, 10.0]},
        "learning_rate": {"_type": "choice", "_value": ["constant", "invscaling", "adaptive"]},
        "loss": {"_type": "choice", "_value": ["hinge", "log_loss", "modified_huber", "perceptron"]},
        "average": {"_type": "choice", "_value": [False, True]},
    }

    def init(self, params: dict[str, Any]) -> Any:
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(random_state=_seed_of(params, self.seed) % 2**31, **params)

    def set_params(self, model: Any, params: dict[str, Any]) -> None:
        model.set_params(**params)

    def train_epoch(self, model: Any) -> float:
        data = digits(self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(data.X_train, data.y_train, classes=data.classes)
            return float(model.score(data.X_val, data.y_val))


class MLPDigits(Problem):
    """A small neural network (MLPClassifier.partial_fit, one pass of Adam per epoch) on digits."""

    name = "mlp-digits"
    mutable = ("alpha", "learning_rate_init")
    space = {
        "hidden": {"_type": "choice", "_value": [8, 16, 32, 64]},
        "alpha": {"_type": "loguniform", "_value": [1e-6, 10.0]},
        "learning_rate_init": {"_type": "loguniform", "_value": [1e-5, 0.3]},
        "batch_size": {"_type": "choice", "_value": [32, 128, 512]},
    }

    def init(self, params: dict[str, Any]) -> Any:
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=(params["hidden"],),
            alpha=params["alpha"],
            learning_rate_init=params["learning_rate_init"],
            batch_size=params["batch_size"],
            random_state=_seed_of(params, self.seed) % 2**31,
        )

    def set_params(self, model: Any, params: dict[str, Any]) -> None:
        # The architecture stays (weights are copied); the optimizer settings change.
        model.set_params(
            alpha=params["alpha"], learning_rate_init=params["learning_rate_init"], batch_size=params["batch_size"]
        )
        if hasattr(model, "_optimizer"):
            model._optimizer.learning_rate_init = params["learning_rate_init"]
            model._optimizer.learning_rate = params["learning_rate_init"]

    def train_epoch(self, model: Any) -> float:
        data = digits(self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(data.X_train, data.y_train, classes=data.classes)
            return float(model.score(data.X_val, data.y_val))


@dataclass
class _SynthState:
    params: dict[str, Any]
    quality: float = 0.0
    epoch: int = 0
    rng_seed: int = 0


class Synthetic(Problem):
    """Saturating curves whose speed and ceiling depend on the configuration, with noise; curves cross.

    A configuration ``(x, y, z)`` in the unit cube has a ceiling that peaks near a seed-dependent
    optimum and a speed that is partly anti-correlated with the ceiling, so fast starters
    are not always the best finishers, which is what makes early stopping hard.
    """

    name = "synthetic"
    space = {
        "x": {"_type": "uniform", "_value": [0, 1]},
        "y": {"_type": "uniform", "_value": [0, 1]},
        "z": {"_type": "uniform", "_value": [0, 1]},
    }

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        rng = np.random.default_rng(seed)
        self.optimum = rng.uniform(0.2, 0.8, size=3)

    def _dynamics(self, params: dict[str, Any]) -> tuple[float, float]:
        v = np.array([params["x"], params["y"], params["z"]])
        ceiling = 0.95 - 1.2 * float(np.sum((v - self.optimum) ** 2))
        speed = 0.05 + 0.6 * params["z"] ** 2  # fast starters (large z) ...
        ceiling -= 0.15 * params["z"] ** 2  # ... tend to plateau lower
        return ceiling, speed

    def init(self, params: dict[str, Any]) -> Any:
        return _SynthState(dict(params), rng_seed=_seed_of(params, self.seed))

    def set_params(self, model: Any, params: dict[str, Any]) -> None:
        model.params = dict(params)

    def train_epoch(self, model: Any) -> float:
        ceiling, speed = self._dynamics(model.params)
        model.quality += speed * (ceiling - model.quality)
        model.epoch += 1
        noise = np.random.default_rng([model.rng_seed, model.epoch]).normal(0, 0.01)
        return float(model.quality + noise)


PROBLEMS = {"sgd-digits": SGDDigits, "mlp-digits": MLPDigits, "synthetic": Synthetic}


@dataclass
class CurveCache:
    """Each configuration's model and per-epoch scores, extended on demand."""

    problem: Problem
    entries: dict[str, tuple[Any, list[float]]] = field(default_factory=dict)
    epochs_trained: int = 0

    def score(self, params: dict[str, Any], epoch: int) -> float:
        """The validation score after ``epoch`` epochs (1-based) of ``params`` trained from scratch."""
        key = fingerprint(params)
        if key not in self.entries:
            self.entries[key] = (self.problem.init(dict(params)), [])
        model, scores = self.entries[key]
        while len(scores) < epoch:
            scores.append(self.problem.train_epoch(model))
            self.epochs_trained += 1
        value = scores[epoch - 1]
        return value if math.isfinite(value) else 0.0

    def clone(self, model: Any) -> Any:
        return copy.deepcopy(model)
