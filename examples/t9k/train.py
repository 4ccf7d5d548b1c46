"""A T9k AutoTune trial: T9k trials use NNI's API, so this is an ordinary NNI trial script.

It minimizes the validation log-loss of a linear model on scikit-learn's digits.
"""

import nni
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

params = {"batch_size": 64, "learning_rate": 0.01}
params.update(nni.get_next_parameter())

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=params["learning_rate"], random_state=0)
classes = np.unique(y)
rng = np.random.default_rng(0)
for epoch in range(5):
    order = rng.permutation(len(X_train))
    for start in range(0, len(order), params["batch_size"]):
        batch = order[start : start + params["batch_size"]]
        model.partial_fit(X_train[batch], y_train[batch], classes=classes)
    loss = log_loss(y_val, model.predict_proba(X_val), labels=classes)
    nni.report_intermediate_result(loss)
    print(f"epoch {epoch}: val_loss {loss:.4f}")

nni.report_final_result(loss)
