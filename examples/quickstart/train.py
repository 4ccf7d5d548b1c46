"""Tune an SVM on scikit-learn's bundled digits dataset (no download).

Runs as a tunelab trial (``tunelab run config.yml``) and on its own (``python train.py``),
where it uses the defaults below and prints its results. Each fold is reported as soon as
it is computed, so an assessor or scheduler can stop a poor configuration after its first
fold instead of waiting for all three.
"""

import warnings

from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import tunelab

params = tunelab.get_params({"C": 1.0, "gamma": 0.01, "kernel": "rbf"})
X, y = load_digits(return_X_y=True)
model = make_pipeline(StandardScaler(), SVC(C=params["C"], gamma=params["gamma"], kernel=params["kernel"]))

scores = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for fold, (train, test) in enumerate(StratifiedKFold(n_splits=3).split(X, y)):
        score = clone(model).fit(X[train], y[train]).score(X[test], y[test])
        scores.append(score)
        tunelab.report(sum(scores) / len(scores), step=fold)  # running mean, reported as each fold ends
        if tunelab.should_stop():  # an assessor or scheduler decided: the running mean counts
            break
tunelab.report_final(sum(scores) / len(scores), worst_fold=min(scores))
