"""The space of a KerasTuner-style search: found by build on an empty HyperParameters, grown by what trials declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tunelab import keras_tuner
from tunelab.errors import ExperimentFailed
from tunelab.storage import TrialState


class Declares(keras_tuner.Tuner):
    """build declares x; the trial itself declares y (as a custom fit would), then uses both."""

    seen: list[dict[str, Any]]

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> float:
        hp = trial.hyperparameters
        self.hypermodel.build(hp)
        y = hp.Float("y", 0.0, 1.0, default=0.25)
        self.seen.append(dict(hp.values))
        return (hp.get("x") - 1.0) ** 2 + y


class XModel(keras_tuner.HyperModel):
    def build(self, hp: Any) -> None:
        hp.Float("x", -2.0, 2.0)


def _tuner(tmp_path: Path, name: str, **kwargs: Any) -> Declares:
    tuner = Declares(hypermodel=XModel(), max_trials=4, seed=7, directory=tmp_path, project_name=name, **kwargs)
    tuner.seen = []
    return tuner


def test_build_is_the_starting_space_and_trials_grow_it(tmp_path: Path) -> None:
    tuner = _tuner(tmp_path, "grow")
    assert [h.name for h in tuner._space.space] == ["x"]  # what build declared on an empty HyperParameters
    tuner.search()
    records = tuner.oracle.records()
    assert all(r.state == TrialState.SUCCEEDED for r in records)
    assert all(set(r.params) == {"x", "y"} for r in records)  # y, declared while the trial ran, is searched
    assert len({r.params["y"] for r in records}) > 1
    assert [d["config"]["name"] for d in tuner.oracle.experiment.record.config["define_by_run"]] == ["x", "y"]
    for record, seen in zip(records, tuner.seen, strict=True):
        assert seen == dict(record.params)


def test_tune_new_entries_false_keeps_new_parameters_at_their_default(tmp_path: Path) -> None:
    hp = keras_tuner.HyperParameters()
    hp.Float("x", -2.0, 2.0)
    tuner = _tuner(tmp_path, "fixed", hyperparameters=hp, tune_new_entries=False)
    tuner.search()
    assert [seen["y"] for seen in tuner.seen] == [0.25] * 4
    assert all(set(r.params) == {"x"} for r in tuner.oracle.records())


def test_allow_new_entries_false_fails_a_trial_that_declares_one(tmp_path: Path) -> None:
    hp = keras_tuner.HyperParameters()
    hp.Float("x", -2.0, 2.0)
    tuner = _tuner(tmp_path, "refused", hyperparameters=hp, allow_new_entries=False, max_consecutive_failed_trials=9)
    with pytest.raises(ExperimentFailed, match="no trial of refused succeeded"):
        tuner.search()
    records = tuner.oracle.records()
    assert records and all("allow_new_entries is False" in r.message for r in records)
