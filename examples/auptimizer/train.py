#!/usr/bin/env python3
"""An Auptimizer training script, written as Auptimizer's examples write them.

Auptimizer passes the job's parameter file as argv[1] and reads the result printed by
print_result; the main result comes first, then the multi_res_labels values. With
``resource_args.save_model``, the best configuration runs once more with ``save_model``
and ``folder_name`` in its parameters, and the script saves its model there.
"""

import os
import pickle
import sys

from aup import BasicConfig, print_result
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier


def main(config):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    model = DecisionTreeClassifier(
        max_depth=int(config.max_depth),
        min_samples_leaf=int(config.min_samples_leaf),
        max_features=float(config.max_features),
        criterion=config.criterion,
        random_state=0,
    )
    model.fit(X_train, y_train)
    if config.get("save_model"):
        path = os.path.join("aup_models", config["folder_name"])
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "model.pkl"), "wb") as handle:
            pickle.dump(model, handle)
    return [model.score(X_test, y_test), model.score(X_train, y_train)]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("config file required")
        exit(1)
    config = BasicConfig().load(sys.argv[1])
    print_result(main(config))
