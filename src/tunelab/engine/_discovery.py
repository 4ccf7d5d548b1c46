"""Define-by-run in the engine: the space grows from what trials declare, and the tuner is rebuilt on it.

An objective without a search space declares its parameters while it runs
(:mod:`tunelab.trial._define_by_run`). A parameter the engine did not give a trial is
drawn in the trial and comes back as a space report; :class:`Discovery` checks it (a bad
or conflicting declaration is a warning on the trial, never an engine crash), adds the
drawn values to the trial's stored parameters, and when the space grew stores it (the
experiment's ``search_space``, shown by the dashboard, and the declarations under
``define_by_run``, read back on resume) and has the engine rebuild its tuner on the new
space with every trial so far replayed. Tuners never see a space change under them: each
is built for one space, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tunelab.config import ExperimentConfig
from tunelab.errors import SearchSpaceError, TunerError, escape
from tunelab.space import DiscoveredSpace, Float, SearchSpace
from tunelab.space.hyperparameters import deserialize
from tunelab.storage import TrialState
from tunelab.trial._channel import Report
from tunelab.trial._define_by_run import DefineByRun
from tunelab.tuners import Tuner

if TYPE_CHECKING:
    from tunelab.engine._loop import Engine

logger = logging.getLogger("tunelab")

#: The key of the stored config that holds a discovered space's declarations (KerasTuner's format).
CONFIG_KEY = "define_by_run"
#: The key of the stored config that holds the paths calls took (how Python's branches become conditions).
PATHS_KEY = "define_by_run_paths"

#: What a define-by-run config's tuner arguments are checked against before any parameter is known.
PLACEHOLDER_SPACE = SearchSpace({"x": Float(0.0, 1.0)})


def with_space(config: ExperimentConfig, space: SearchSpace) -> ExperimentConfig:
    """``config`` searching ``space`` (parsed already: the config does not parse it again)."""
    copy = config.model_copy(update={"search_space": space.describe()})
    copy._space_cache = (copy.search_space, space)
    return copy


class Discovery:
    """The discovered space of one experiment; the engine's thread only."""

    def __init__(self, space: DiscoveredSpace) -> None:
        self.space = space
        #: Why the tuner could not be built on the space so far (CMA-ES on a lone choice), while a call declares.
        self.waiting: TunerError | None = None

    def function(self, objective: Callable[..., Any], seed: int) -> DefineByRun:
        """What a trial runs: the objective with the declarations known now and the experiment's seed."""
        return DefineByRun(objective, self.space.get_config(), seed, self.space.inferred_config())

    def absorb(self, engine: Engine, number: int, params: Mapping[str, Any], report: Report) -> dict[str, Any]:
        """Take in one space report of trial ``number``; returns the trial's parameters with the values it drew."""
        before = self.space
        try:
            declared = [deserialize(item) for item in report.declared]
            grown = self.space.grown(declared)
            values = {**before.values(params), **{k: v for k, v in report.drawn.items() if _known(grown, k)}}
            if report.used:  # the call's path: Python's branches may make parameters conditional
                grown = grown.observed([name for name in report.used if _known(grown, name)], values)
        except SearchSpaceError as exc:
            engine.storage.add_trial_warning(engine.experiment_id, number, f"declaration ignored: {escape(exc)}")
            return dict(params)
        self.space = grown
        try:
            full = grown.params(values)
            grown.space.validate(full)
        except SearchSpaceError as exc:
            self.space = before
            engine.storage.add_trial_warning(engine.experiment_id, number, f"declaration ignored: {escape(exc)}")
            return dict(params)
        if grown is not before or self.waiting is not None:
            if self.waiting is None and grown.space == before.space and grown.get_config() == before.get_config():
                self._store(engine)  # a new path that changes no condition
            else:
                self._grow(engine, final=bool(report.used))
        engine.storage.update_trial(engine.experiment_id, number, params=full)
        engine.tuner.forget(number)
        engine.tuner.restore(number, full, pending=True)
        engine.scheduler.on_space(grown.space, {number: full})
        return full

    def _grow(self, engine: Engine, *, final: bool = False) -> None:
        """Store the grown space and rebuild the tuner on it, replaying every trial so far.

        A tuner that cannot be built on the space declared so far (CMA-ES on a choice alone) is
        built again on the next declaration; only once the call's path came (``final``) is that
        the experiment's error.
        """
        from tunelab.engine._setup import build_tuner

        space = self.space.space
        engine.config = with_space(engine.config, space)
        self._store(engine)
        keys = ", ".join(leaf.key for leaf in space.leaves)
        logger.info("the search space grew to %d parameters: %s", space.n_parameters, keys)
        several = engine.tuner.objectives is not None
        trials = []
        for record in engine.storage.get_trials(engine.experiment_id):
            ok = record.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED)
            told: Any
            if several:
                told = dict(record.values) if ok and record.values else None
            else:
                told = record.value if ok else None
            pending = not record.state.is_final
            trials.append(Replayed(record.number, record.params, told, record.violation or 0.0, pending))
        try:
            tuner, completed = rebuild_tuner(
                lambda _: build_tuner(engine.config), self.space, trials, engine.tuner.queued
            )
        except TunerError as exc:
            if final:
                raise
            self.waiting = exc
            logger.info("the tuner waits for more of the space: %s", exc)
            return
        self.waiting = None
        engine.tuner = engine.ledger.tuner = tuner
        engine.exhausted = False
        engine.scheduler.on_space(space, completed)

    def _store(self, engine: Engine) -> None:
        """Store the space: its search space, its declarations and the paths calls took (read back on resume)."""
        stored = dict(engine.storage.get_experiment(engine.experiment_id).config)
        stored.update(search_space=self.space.space.describe(), **{CONFIG_KEY: self.space.get_config()})
        if self.space.paths:
            stored[PATHS_KEY] = [dict(path) for path in self.space.paths]
        engine.storage.update_experiment(engine.experiment_id, config=stored)


@dataclass(frozen=True)
class Replayed:
    """A trial so far, as a rebuilt tuner hears of it: its result (None if it failed), or that it is pending."""

    number: int
    params: Mapping[str, Any]
    value: Any = None
    violation: float = 0.0
    pending: bool = False


def rebuild_tuner(
    make: Callable[[SearchSpace], Tuner],
    space: DiscoveredSpace,
    trials: Iterable[Replayed],
    queued: Iterable[Mapping[str, Any]] = (),
) -> tuple[Tuner, dict[int, dict[str, Any]]]:
    """A tuner built by ``make`` for the grown ``space``, told every trial so far; and their complete parameters.

    A trial's parameters from before the space grew lack what was declared since: each is
    given its default (the trial did not use it), so every configuration is one of the new
    space; so are the configurations still ``queued`` (added from the dashboard), enqueued again.
    """
    tuner = make(space.space)
    for params in queued:
        tuner.enqueue(space.params(space.values(params)))
    completed: dict[int, dict[str, Any]] = {}
    for trial in trials:
        params = completed[trial.number] = space.params(space.values(trial.params))
        if trial.pending:
            tuner.restore(trial.number, params, pending=True)
        else:
            tuner.restore(trial.number, params, trial.value, violation=trial.violation)
    return tuner, completed


def _known(space: DiscoveredSpace, name: str) -> bool:
    return any(hp.name == name for hp in space.declarations)


def stored_discovery(config: Mapping[str, Any]) -> DiscoveredSpace | None:
    """The discovered space a stored experiment config holds (None for a declared space)."""
    declarations = config.get(CONFIG_KEY)
    if declarations is None:
        return None
    return DiscoveredSpace.from_config(declarations, config.get(PATHS_KEY) or ())


def define_by_run_config(data: Mapping[str, Any], space: DiscoveredSpace, *, source: str) -> ExperimentConfig:
    """A config without a search space (or with a discovered one) for an objective that declares its parameters.

    The tuner's and scheduler's arguments are checked against a one-float placeholder, since
    nothing may be known yet; the discovered space itself is checked when the tuner is built on it.
    """
    from tunelab.config import build_config

    rest = {k: v for k, v in data.items() if k not in (CONFIG_KEY, PATHS_KEY)}
    config = build_config(
        {**rest, "search_space": PLACEHOLDER_SPACE.describe()}, source=source, space=PLACEHOLDER_SPACE
    )
    return with_space(config, space.space)
