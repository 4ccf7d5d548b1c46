"""Engine tests on a virtual timeline: the FakeRunner and FakeClock of tunelab.testing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tunelab import Experiment
from tunelab.engine import Engine, Listener
from tunelab.runners import TrialJob
from tunelab.storage import ExperimentRecord, Storage, TrialRecord
from tunelab.testing import FakeClock, FakeRunner, FakeTrial

Behaviour = Callable[[TrialJob], FakeTrial]


def _never_called(params: dict[str, Any]) -> None:  # the fake runner runs scripts, not this
    raise AssertionError("the fake runner does not call the objective")


class FakeExperiment:
    """An experiment whose trials run on a FakeRunner; ``run``/``resume`` drive a fresh engine each time."""

    def __init__(self, behaviour: Behaviour, **settings: Any) -> None:
        self.clock = FakeClock()
        self.runner = FakeRunner(self.clock, behaviour)
        self.experiment = Experiment(objective=_never_called, **settings)
        self.id = self.experiment.create()

    @property
    def storage(self) -> Storage:
        return self.experiment.storage

    def engine(self, storage: Storage | None = None, listener: Listener | None = None) -> Engine:
        return Engine(
            storage=storage or self.storage,
            experiment_id=self.id,
            config=self.experiment.config,
            objective=_never_called,
            runner=self.runner,
            listener=listener,
            clock=self.clock,
        )

    def run(self, *, resume: bool = False, listener: Listener | None = None) -> ExperimentRecord:
        return self.engine(listener=listener).run(resume=resume)

    @property
    def trials(self) -> list[TrialRecord]:
        return self.storage.get_trials(self.id, with_intermediate=True)


@pytest.fixture
def fake() -> Callable[..., FakeExperiment]:
    return FakeExperiment
