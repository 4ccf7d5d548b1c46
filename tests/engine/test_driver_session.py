"""The public seam for trials the caller runs: tunelab.engine.Session over a tunelab.runners.DriverRunner."""

from __future__ import annotations

import tunelab
from tunelab import Experiment
from tunelab.engine import Session, discovered_space, seed_space
from tunelab.runners import EXIT_OK, DriverTrial
from tunelab.space import DiscoveredSpace, HyperParameters
from tunelab.storage import Phase, TrialState


def _declare(hp: HyperParameters) -> float:
    x = hp.Float("x", -2.0, 2.0)
    return (x - 0.5) ** 2


def test_the_caller_runs_each_trial_and_the_engine_stores_it() -> None:
    experiment = Experiment(objective=_declare, max_trials=4, mode="min", seed=3, tuner="tpe")
    hp = HyperParameters()
    _declare(hp)
    seed_space(experiment, DiscoveredSpace().grown(hp.space))  # known before the search, as KerasTuner's build
    ran: list[int] = []
    with Session(experiment, resume=False) as session:
        while (trial := session.next_trial()) is not None:
            assert isinstance(trial, DriverTrial)
            with trial.context() as context:
                ran.append(context.number)
                tunelab.report_final(_declare(trial.hyperparameters()))
            trial.finish(EXIT_OK)
    assert ran == [0, 1, 2, 3] and experiment.phase is Phase.DONE
    records = experiment.trials
    assert [r.state for r in records] == [TrialState.SUCCEEDED] * 4
    assert all(r.value == (r.params["x"] - 0.5) ** 2 for r in records)
    space = discovered_space(experiment)
    assert space is not None and [d.name for d in space.declarations] == ["x"]


def test_a_failed_trial_is_the_trials_and_an_error_outside_stops_the_experiment() -> None:
    experiment = Experiment(objective=_declare, max_trials=5, mode="min", seed=1, failure={"ignore": True})
    seen = 0
    try:
        with Session(experiment, resume=False) as session:
            while (trial := session.next_trial()) is not None:
                seen += 1
                if seen == 1:
                    with trial.context():
                        trial.hyperparameters().Float("x", 0.0, 1.0)  # declared by run: the space grows
                    trial.fail(ValueError("diverged"))
                    continue
                raise KeyboardInterrupt  # the driver leaves in the middle of trial 2
    except KeyboardInterrupt:
        pass
    records = experiment.trials
    assert records[0].state is TrialState.FAILED and "diverged" in (records[0].message or "")
    assert experiment.phase is Phase.STOPPED
    assert not any(r.state is TrialState.SUCCEEDED for r in records)
