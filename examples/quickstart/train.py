"""Tune an SVM on scikit-learn's bundled digits dataset (no download).

Runs as a tunelab trial (``tunelab run config.yml``) and on its own (``python train.py``),
where it uses the defaults below and prints its results.
"""

import warnings

from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
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
    for fold, score in enumerate(cross_val_score(model, X, y, cv=3)):
        scores.append(score)
        tunelab.report(sum(scores) / len(scores), step=fold)  # running mean, one point per fold
tunelab.report_final(sum(scores) / len(scores), worst_fold=min(scores))
