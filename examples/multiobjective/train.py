"""An MLP on scikit-learn's bundled digits (no download): accuracy against parameter count.

Runs as a tunelab trial (``tunelab run config.yml``) and on its own (``python train.py``).
Each epoch reports both objectives, so a multi-objective scheduler (MO-ASHA) can stop a
configuration that is dominated at a rung; the trial trains up to the budget it is given.
"""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import tunelab

params = tunelab.get_params({"width": 32, "layers": 1, "lr": 0.003, "alpha": 1e-4})
X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
model = MLPClassifier(
    hidden_layer_sizes=(int(params["width"]),) * int(params["layers"]),
    learning_rate_init=float(params["lr"]),
    alpha=float(params["alpha"]),
    batch_size=64,
    random_state=tunelab.get_trial_seed() or 0,
)
classes = np.unique(y)
epochs = tunelab.get_budget(default=9)
accuracy, size = 0.0, 0
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for epoch in range(epochs):
        model.partial_fit(X_train, y_train, classes=classes)
        accuracy = float(model.score(X_val, y_val))
        size = int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
        tunelab.report({"accuracy": accuracy, "params": size}, step=epoch)
        if tunelab.should_stop():  # the scheduler stopped it: the last report counts
            break
tunelab.report_final({"accuracy": accuracy, "params": size})
