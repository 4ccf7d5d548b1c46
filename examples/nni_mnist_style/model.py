"""An NNI trial script, written as NNI's HPO quickstart writes them: it runs unmodified.

A linear classifier on scikit-learn's digits, trained one mini-batch epoch at a time so that
each epoch's validation accuracy can be reported as an intermediate result.
"""

import nni
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

params = {
    "alpha": 0.0001,
    "eta0": 0.01,
    "batch_size": 64,
    "loss": "hinge",
}
optimized_params = nni.get_next_parameter()
params.update(optimized_params)
print(params)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = SGDClassifier(
    loss=params["loss"],
    alpha=params["alpha"],
    learning_rate="constant",
    eta0=params["eta0"],
    random_state=0,
)
classes = np.unique(y)
rng = np.random.default_rng(0)
epochs = 5
for epoch in range(epochs):
    order = rng.permutation(len(X_train))
    for start in range(0, len(order), params["batch_size"]):
        batch = order[start : start + params["batch_size"]]
        model.partial_fit(X_train[batch], y_train[batch], classes=classes)
    accuracy = model.score(X_test, y_test)
    nni.report_intermediate_result(accuracy)
    print(f"epoch {epoch}: accuracy {accuracy:.4f}")

nni.report_final_result(accuracy)
