"""Orca's AutoEstimator semantics: search_alg and scheduler names, PBT at any epochs, thresholds, DataFrames."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from tunelab import AutoEstimator, hp  # noqa: E402
from tunelab.schedulers import create_scheduler  # noqa: E402


def _blobs(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype("int64")
    x = (rng.normal(size=(n, 4)) + y[:, None] * 2.0).astype("float32")
    return x, y


def _linear_estimator() -> AutoEstimator:
    return AutoEstimator.from_torch(
        model_creator=lambda config: nn.Linear(4, 2), optimizer="SGD", loss="CrossEntropyLoss"
    )


def test_pbt_runs_with_orca_default_of_one_epoch():
    """Orca's default epochs=1 is below PBT's default perturbation interval (4): one generation, no perturbation."""
    pbt = create_scheduler("pbt", mode="max", space={"lr": hp.uniform(0.01, 0.1)}, population_size=3, max_t=1)
    assert (pbt.perturbation_interval, pbt.trials_for(3), pbt.budget(0)) == (1, 3, 1)
    est = _linear_estimator()
    est.fit(
        _blobs(), epochs=1, metric="accuracy", search_space={"lr": hp.uniform(0.01, 0.1)}, n_sampling=3, scheduler="pbt"
    )
    assert len(est.result.trials) == 3
    assert all(len(t.intermediate) == 1 and t.value is not None for t in est.result.trials)
