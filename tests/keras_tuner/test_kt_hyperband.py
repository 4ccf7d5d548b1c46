"""Hyperband over epochs: tunelab's scheduler, promotions continuing from their parent's weights, EarlyStopping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tunelab import keras_tuner
from tunelab.keras_tuner._tuners import hyperband_trials
from tunelab.storage import TrialState


@pytest.mark.parametrize(
    ("max_epochs", "factor", "iterations", "expected"), [(3, 3, 1, 6), (9, 3, 1, 22), (3, 3, 2, 12)]
)
def test_trial_count_is_every_bracket_with_its_promotions(
    max_epochs: int, factor: int, iterations: int, expected: int
) -> None:
    # (3, 3): bracket s=1 runs 3 configurations for 1 epoch and promotes 1 to 3; bracket s=0 runs 2 for 3.
    # (9, 3): 9 + 3 + 1, then 5 + 1, then 3.
    assert hyperband_trials(max_epochs, factor, iterations) == expected


def test_hyperband_with_early_stopping(tmp_path: Path, data: Any, build_model: Any) -> None:
    keras = pytest.importorskip("keras")
    x, y = data
    tuner = keras_tuner.Hyperband(
        build_model, objective="val_accuracy", max_epochs=3, factor=3, seed=2, directory=tmp_path, project_name="hb"
    )
    stop_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
    tuner.search(x, y, validation_split=0.25, callbacks=[stop_early], verbose=0)
    config = tuner.oracle.experiment.config
    assert config.scheduler.name == "hyperband" and config.scheduler.args["max_budget"] == 3
    records = tuner.oracle.records()
    assert len(records) == 6 and all(r.state == TrialState.SUCCEEDED for r in records)
    assert sorted(r.budget for r in records) == [1, 1, 1, 3, 3, 3]
    (promoted,) = [r for r in records if r.parent is not None]
    parent = next(r for r in records if r.number == promoted.parent)
    assert parent.budget == 1 and promoted.budget == 3 and dict(promoted.params) == dict(parent.params)
    # The promotion continued from epoch 1 (its parent's weights): its first report is epoch 1, not 0.
    steps = [r.step for r in promoted.intermediate]
    assert steps and steps[0] == 1 and max(steps) <= 2
    for record in records:
        assert max(r.step for r in record.intermediate) < record.budget
    best = tuner.get_best_models(1)[0]
    assert best.predict(x[:3], verbose=0).shape == (3, 2)
