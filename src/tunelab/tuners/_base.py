"""The ask/tell contract every tuner implements.

A tuner decides *what to try next* and nothing else: it never touches storage,
processes or clocks. The engine (or a user of :func:`tunelab.create_tuner`) calls
:meth:`Tuner.suggest` to get ``(trial_id, params)`` and later :meth:`Tuner.observe`
with the result. Several suggestions may be pending at once; subclasses see them in
:attr:`Tuner.pending` and should avoid proposing near-duplicates of them.

:meth:`Tuner.suggest_batch` asks for several at once; when a finite space runs out
part-way it returns what was left (and says so) instead of raising.

Subclasses implement one method, :meth:`Tuner._propose`, and read the history through
:attr:`Tuner.history` (immutable :class:`Observation` records whose ``loss`` is always
"smaller is better", whatever the experiment's mode). The base class assigns trial ids,
serves enqueued configurations first, refuses configurations already tried, detects an
exhausted finite space and derives a per-suggestion random generator from the seed, so
the same seed and the same history give the same suggestion, in this process or after a
resume in another one. A fresh tuner's first suggestion is a draw from the prior
(:attr:`Tuner.first_from_prior`), the one a define-by-run trial makes before any
parameter is known.

Several objectives: a tuner whose class sets ``multi_objective`` takes ``objectives``
(``{"accuracy": "max", "latency_ms": "min"}``, see :mod:`tunelab.objectives`), and
:meth:`Tuner.observe` then takes a mapping (or a sequence) with a value per objective;
each observation's ``losses`` holds them turned to "smaller is better". Without
``objectives`` every observation's ``losses`` is ``(loss,)``, so a multi-objective tuner
also runs one objective. ``violation`` (> 0: by how much a trial broke its constraints)
marks an infeasible trial, which is never on the Pareto front.

Tuners are not thread-safe: one engine thread drives each tuner.
"""

from __future__ import annotations

import math
import secrets
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import numpy as np

from tunelab.errors import SearchSpaceError, SearchSpaceExhausted, TunerError
from tunelab.space import SearchSpace

Mode = Literal["min", "max"]

#: How many proposals a tuner may make in a row that were all tried before, before the
#: base class falls back to random sampling and then to enumeration.
_MAX_DUPLICATE_PROPOSALS = 32


@dataclass(frozen=True)
class Observation:
    """One finished trial as a tuner sees it.

    ``loss`` is the main metric turned so that smaller is better, or None when the trial
    failed or reported NaN. ``value`` is the main metric as reported; ``metrics`` holds
    the secondary ones.

    ``losses`` holds every objective's loss in the objectives' order (``(loss,)`` for one
    objective), None when the trial failed or a loss is infinite; with several objectives ``value`` and ``loss``
    are the first objective's. ``violation`` > 0 marks an infeasible trial.
    """

    trial_id: int
    params: Mapping[str, Any]
    value: float | None
    loss: float | None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    losses: tuple[float, ...] | None = None
    violation: float = 0.0

    @property
    def failed(self) -> bool:
        return self.loss is None

    @property
    def feasible(self) -> bool:
        return self.violation <= 0


@dataclass(frozen=True)
class Batch:
    """What :meth:`Tuner.suggest_batch` hands out: up to ``n`` new ``(trial_id, params)`` pairs, all pending.

    ``exhausted`` is True when the search space ran out before ``n`` (``trials`` then holds
    what was left, possibly nothing), with ``reason`` saying why.
    """

    trials: tuple[tuple[int, dict[str, Any]], ...]
    exhausted: bool = False
    reason: str = ""

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def params(self) -> list[dict[str, Any]]:
        return [params for _, params in self.trials]


def normalize_mode(mode: str) -> Mode:
    """Accept ``min``/``max`` and NNI's ``minimize``/``maximize`` (any case)."""
    lowered = str(mode).strip().lower()
    if lowered in ("min", "minimize"):
        return "min"
    if lowered in ("max", "maximize"):
        return "max"
    raise TunerError(f"mode: expected 'min' or 'max' (or minimize/maximize), got {mode!r}")


def split_value(value: Any) -> tuple[float | None, dict[str, Any]]:
    """A reported result as ``(main value, secondary metrics)``.

    NNI lets a trial report a dict whose ``default`` key is the main metric; the other
    keys are kept as secondary metrics.
    """
    if value is None:
        return None, {}
    if isinstance(value, Mapping):
        if "default" not in value:
            raise TunerError(f"a dict result needs a 'default' key for the main metric, got keys {sorted(value)}")
        metrics = {k: v for k, v in value.items() if k != "default"}
        main, _ = split_value(value["default"])
        return main, metrics
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TunerError(f"a result must be a number or a dict with 'default', got {value!r}")
    return float(value), {}


class Tuner(ABC):
    """Base class of all tuners; see the module docstring for the contract."""

    #: True for tuners that only replay a fixed list (batch): their proposals are not
    #: checked against the search space.
    validates_params: ClassVar[bool] = True
    #: True for tuners that take ``objectives`` (several of them).
    multi_objective: ClassVar[bool] = False
    #: True when a fresh tuner's first suggestion is a draw from the prior with trial 0's
    #: generator, whatever the algorithm starts with (a design point, a distribution's mean).
    #: A define-by-run trial draws exactly that before any parameter is known, so a space
    #: declared by run gives the trials of the same space declared up front. False for
    #: tuners that enumerate (grid) or draw so already.
    first_from_prior: ClassVar[bool] = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        objectives: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(space, SearchSpace):
            raise TunerError(f"space: expected a SearchSpace, got {type(space).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise TunerError(f"seed: expected a non-negative integer, got {seed!r}")
        self.space = space
        self.mode: Mode = normalize_mode(mode)
        self.seed = None if seed is None else int(seed)
        #: The objectives (name -> direction, in order), or None for the one-objective form.
        self.objectives: Mapping[str, Mode] | None = None
        if objectives is not None:
            from tunelab.objectives import normalize_objectives

            self.objectives = MappingProxyType(normalize_objectives(objectives))
        # Without a seed, fresh entropy as numpy's SeedSequence() draws it (128 bits from the OS).
        self._entropy = secrets.randbits(128) if seed is None else int(seed)
        self._history: list[Observation] = []
        self._pending: dict[int, dict[str, Any]] = {}
        self._queue: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._next_id = 0
        #: Restored trials whose params are not in this space (it changed since they were suggested).
        self._outside: dict[int, dict[str, Any]] = {}

    # ---------------------------------------------------------------- public API
    def suggest(self) -> tuple[int, dict[str, Any]]:
        """A new trial id and the parameters to try; raises :class:`SearchSpaceExhausted` when none is left."""
        params = self._queue.pop(0) if self._queue else self._fresh_proposal()
        trial_id = self._next_id
        self._next_id += 1
        self._pending[trial_id] = params
        self._seen.add(SearchSpace.fingerprint(params))
        return trial_id, params

    def suggest_batch(self, n: int) -> Batch:
        """Up to ``n`` suggestions at once, pending together; never raises for an exhausted space.

        When the space runs out part-way, the batch holds what was left and says so
        (``exhausted``), so a caller never loses the suggestions it was already handed.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise TunerError(f"n: expected a positive integer, got {n!r}")
        trials: list[tuple[int, dict[str, Any]]] = []
        for _ in range(int(n)):
            try:
                trials.append(self.suggest())
            except SearchSpaceExhausted as exc:
                return Batch(tuple(trials), exhausted=True, reason=str(exc))
        return Batch(tuple(trials))

    def observe(self, trial_id: int, value: Any, *, violation: float = 0.0) -> None:
        """Record a pending trial's result: a number, an NNI dict with ``default``, or None if it failed.

        With ``objectives``: a mapping (or a sequence) with a value per objective, or None.
        """
        if self._outside.pop(trial_id, None) is not None:  # of an earlier space: its result informs nothing
            return
        if trial_id not in self._pending:
            raise TunerError(f"trial {trial_id} is not pending (unknown, or observed already)")
        observation = self._make_observation(trial_id, self._pending[trial_id], value, violation)
        del self._pending[trial_id]
        self._history.append(observation)
        self._after_observe(observation)

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Run these parameters before any the tuner proposes (Optuna's enqueue_trial, Auptimizer's passive mode)."""
        params = dict(params)
        if self.validates_params:
            self.space.validate(params)
        self._queue.append(params)

    def restore(
        self,
        trial_id: int,
        params: Mapping[str, Any],
        value: Any = None,
        *,
        pending: bool = False,
        violation: float = 0.0,
    ) -> None:
        """Replay a trial recorded before (on resume): finished with ``value``, or still ``pending``.

        A trial whose params are not in this tuner's space (the space was changed since it was
        suggested: NNI's ``update_search_space``) counts as suggested but never informs the model.
        """
        params = dict(params)
        self._seen.add(SearchSpace.fingerprint(params))
        self._next_id = max(self._next_id, trial_id + 1)
        if self.validates_params and not self.space.contains(params):
            if pending:
                self._outside[trial_id] = params
            return
        if pending:
            self._pending[trial_id] = params
            return
        self._history.append(self._make_observation(trial_id, params, value, violation))
        self._after_observe(self._history[-1])

    def forget(self, trial_id: int) -> None:
        """Drop a pending suggestion that will never run (canceled before it started)."""
        params = self._pending.pop(trial_id, None) or self._outside.pop(trial_id, None)
        if params is not None:
            self._seen.discard(SearchSpace.fingerprint(params))

    @property
    def history(self) -> tuple[Observation, ...]:
        return tuple(self._history)

    @property
    def pending(self) -> Mapping[int, Mapping[str, Any]]:
        return MappingProxyType(self._pending)

    @property
    def queued(self) -> tuple[Mapping[str, Any], ...]:
        """The enqueued configurations not handed out yet, in order."""
        return tuple(MappingProxyType(params) for params in self._queue)

    @property
    def n_suggested(self) -> int:
        return self._next_id

    def best(self) -> Observation | None:
        """The best successful observation so far."""
        done = [(o.loss, o) for o in self._history if o.loss is not None]
        return min(done, key=lambda pair: pair[0])[1] if done else None  # the earlier of equals

    # ---------------------------------------------------------------- for subclasses
    @abstractmethod
    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        """Parameters for a new trial. May raise :class:`SearchSpaceExhausted`."""

    def _after_observe(self, observation: Observation) -> None:  # noqa: B027 - an optional hook
        """Hook for tuners that update a model incrementally."""

    def _rng(self, salt: int = 0) -> np.random.Generator:
        """A generator determined by the seed, the number of suggestions so far and ``salt``.

        The same stream as ``np.random.default_rng([entropy, next_id, salt])``, whose entropy is each
        integer's 32-bit words, least significant first; given as one array, a third cheaper.
        """
        if self._entropy < 0 or self._next_id < 0 or salt < 0:
            return np.random.default_rng([self._entropy, self._next_id, salt])  # numpy says what is wrong
        words = [*_words(self._entropy), *_words(self._next_id), *_words(salt)]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(np.array(words, dtype=np.uint32))))

    def _is_seen(self, params: Mapping[str, Any]) -> bool:
        return SearchSpace.fingerprint(params) in self._seen

    # ---------------------------------------------------------------- internals
    def _make_observation(self, trial_id: int, params: dict[str, Any], value: Any, violation: float) -> Observation:
        violation = float(violation)
        if math.isnan(violation):
            raise TunerError(f"trial {trial_id}: violation must be a number, got nan")
        if self.objectives is None or value is None:
            main, metrics = split_value(value)
            observation = self._observation(trial_id, params, main, metrics)
            losses: tuple[float, ...] | None = None
            if observation.loss is not None and math.isfinite(observation.loss):
                losses = (observation.loss,)
        else:
            from tunelab.objectives import objective_losses

            result = objective_losses(value, self.objectives)
            losses = result.losses
            main = None if result.values is None else result.values[0]
            loss = None if losses is None else losses[0]
            observation = Observation(trial_id, MappingProxyType(params), main, loss, MappingProxyType(result.metrics))
        return replace(observation, losses=losses, violation=violation)

    def _observation(
        self, trial_id: int, params: dict[str, Any], main: float | None, metrics: dict[str, Any]
    ) -> Observation:
        loss: float | None = None
        if main is not None and not math.isnan(main):
            loss = main if self.mode == "min" else -main
        return Observation(trial_id, MappingProxyType(params), main, loss, MappingProxyType(metrics))

    def _fresh_proposal(self) -> dict[str, Any]:
        """A proposal not tried before, falling back to random draws, then to enumeration."""
        cardinality = self.space.cardinality if self.validates_params else None
        if cardinality is not None and len(self._seen) >= cardinality:
            raise SearchSpaceExhausted(f"all {cardinality} configurations of the search space have been tried")
        if self.first_from_prior and self.validates_params and self._next_id == 0 and not self._history:
            return self.space.sample(self._rng())
        for attempt in range(_MAX_DUPLICATE_PROPOSALS):
            params = self._propose(self._rng(attempt))
            if self.validates_params:
                try:
                    self.space.validate(params)
                except SearchSpaceError as exc:  # a tuner bug must not reach a trial
                    raise TunerError(f"{type(self).__name__} proposed an invalid configuration: {exc}") from None
            if not self._is_seen(params):
                return params
        if not self.validates_params:
            raise SearchSpaceExhausted("every listed configuration has been tried")
        rng = self._rng(_MAX_DUPLICATE_PROPOSALS)
        for _ in range(_MAX_DUPLICATE_PROPOSALS):
            params = self.space.sample(rng)
            if not self._is_seen(params):
                return params
        if cardinality is not None:
            for params in self.space.grid():
                if not self._is_seen(params):
                    return params
            raise SearchSpaceExhausted(f"all {cardinality} configurations of the search space have been tried")
        raise SearchSpaceExhausted("the tuner keeps proposing configurations that were tried before")


def _words(value: int) -> list[int]:
    """A non-negative integer's 32-bit words, least significant first (0 is one word), as numpy's seeding reads it."""
    out = [value & 0xFFFFFFFF]
    value >>= 32
    while value:
        out.append(value & 0xFFFFFFFF)
        value >>= 32
    return out
