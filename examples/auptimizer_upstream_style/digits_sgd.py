#!/usr/bin/env python
"""A model trained on offline data, with Auptimizer's ``*init*`` convention.

Before the decorated function runs, ``@aup_args`` calls every function of this module whose
name contains ``init`` (in name order) with the job's whole config: here ``data_init``
loads scikit-learn's bundled digits once. Every epoch is printed with ``print_result`` (an
intermediate result under ``track_intermediate_results``); the returned value is the job's
result. With ``save_model``, the function registered with ``aup_save_model`` runs for the
best configuration, inside its model folder.
"""

import pickle
import sys

from aup import aup_args, aup_save_model, print_result
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

DATA = {}


def data_init(**config):
    x, y = load_digits(return_X_y=True)
    DATA["train_x"], DATA["test_x"], DATA["train_y"], DATA["test_y"] = train_test_split(
        x / 16.0, y, test_size=0.25, random_state=0
    )


def save(model):
    with open("model.pkl", "wb") as handle:  # relative: lands in the model folder
        pickle.dump(model, handle)


@aup_args
def train(alpha, epochs=4, loss="hinge"):
    model = SGDClassifier(alpha=alpha, loss=loss, random_state=0)
    classes = sorted(set(DATA["train_y"]))
    for _ in range(epochs):
        model.partial_fit(DATA["train_x"], DATA["train_y"], classes=classes)
        print_result(model.score(DATA["test_x"], DATA["test_y"]))
    aup_save_model(save, model)
    return model.score(DATA["test_x"], DATA["test_y"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("config file required")
        exit(1)
    train(sys.argv[1])
