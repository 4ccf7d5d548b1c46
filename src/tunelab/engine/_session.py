"""An experiment whose engine runs in a thread while the caller runs its trials (a :class:`DriverRunner`).

The public seam of the KerasTuner drop-in (:mod:`tunelab.keras_tuner`), and of anything else whose
trials must run in the caller's thread (a model that cannot leave the process)::

    with Session(experiment, resume=False) as session:
        while (trial := session.next_trial()) is not None:
            with trial.context():
                hp = trial.hyperparameters()  # a define-by-run experiment's HyperParameters
                ...                          # train, tunelab.report(...), tunelab.report_final(...)
            trial.finish()

:func:`seed_space` starts a define-by-run experiment from the declarations known before the
search (KerasTuner's ``build`` on an empty ``HyperParameters``); :func:`discovered_space` is the
space it searches now.
"""

from __future__ import annotations

import threading
from typing import Any

from tunelab.engine._discovery import Discovery, stored_discovery, with_space
from tunelab.engine._experiment import Experiment
from tunelab.engine._loop import Engine
from tunelab.runners._driver import DriverRunner, DriverTrial
from tunelab.space import DiscoveredSpace

__all__ = ["Session", "discovered_space", "seed_space"]


def seed_space(experiment: Experiment, space: DiscoveredSpace) -> None:
    """Start a define-by-run ``experiment`` (not created yet) from ``space``; what trials declare grows it."""
    experiment.discovered = space
    experiment.config = with_space(experiment.config, space.space)


def discovered_space(experiment: Experiment) -> DiscoveredSpace | None:
    """The space a define-by-run experiment searches now (storage's latest); None for a declared space."""
    if experiment.id is not None:
        stored = stored_discovery(experiment.record.config)
        if stored is not None:
            return stored
    return experiment.discovered


class Session:
    """An experiment whose engine runs in a thread while the caller runs its trials.

    ``resume``: continue a stored experiment (its unfinished trials run again) instead of
    starting it. Leaving the block with an exception stops the experiment (its running trial
    counts as interrupted and runs again on resume); an error of the engine is raised on exit.
    """

    def __init__(self, experiment: Experiment, *, resume: bool) -> None:
        self.experiment = experiment
        self.resume = resume
        self.runner = DriverRunner()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Session:
        experiment = self.experiment
        experiment_id = experiment.create()
        discovered = experiment.discovered
        if discovered is not None:  # define-by-run: storage has what earlier runs discovered
            discovered = stored_discovery(experiment.record.config) or discovered
        engine = Engine(
            storage=experiment.storage,
            experiment_id=experiment_id,
            config=experiment.config,
            objective=experiment.objective,
            runner=self.runner,
            discovery=None if discovered is None else Discovery(discovered),
        )
        self._thread = threading.Thread(target=self._run, args=(engine,), name=f"tunelab-engine-{experiment_id}")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self, engine: Engine) -> None:
        try:
            engine.run(resume=self.resume)
        except BaseException as exc:  # noqa: BLE001 - handed to the driver's thread, raised there
            self._error = exc
        finally:
            self.runner.close()

    def next_trial(self) -> DriverTrial | None:
        """The next trial to run (blocking); None once the engine has ended."""
        return self.runner.next_trial()

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        assert self._thread is not None
        if exc is not None:
            # The driver is leaving (Ctrl-C, an error outside a trial): the engine stops the experiment.
            self.experiment.stop()
            thread = self._thread
            self.runner.leave(thread.is_alive)
        self._thread.join()
        if self._error is not None and exc is None:
            raise self._error
