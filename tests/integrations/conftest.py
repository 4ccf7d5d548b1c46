"""Small offline datasets for the integration tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def digits_split():
    """scikit-learn's digits scaled to [0, 1]: (x_train, x_test, y_train, y_test), float32 and int64."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return train_test_split(x, y.astype("int64"), test_size=0.3, random_state=0, stratify=y)
