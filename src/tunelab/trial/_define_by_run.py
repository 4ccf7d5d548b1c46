"""A define-by-run objective as a function trial: the engine's parameters in, a ``HyperParameters`` to the objective.

The engine hands each trial the declarations it knows and the tuner's values for them
(:class:`DefineByRun`, built per trial). The objective gets a
:class:`~tunelab.space.HyperParameters` holding those values; a parameter the engine did
not know is drawn from its prior with the generator a random tuner of the same seed would
use for this trial (so a random search declared by run is the random search of the
declared space), or given its default when the experiment has no seed. Each new
declaration goes back to the engine as a space report (:mod:`tunelab.trial._channel`),
where the space grows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tunelab.space import DiscoveredSpace, HyperParameters
from tunelab.space.hyperparameters import HyperParameter, deserialize, serialize
from tunelab.trial._context import current


class DefineByRun:
    """Calls ``objective(hp)`` for one trial; picklable when the objective is (fork servers import it by name)."""

    def __init__(
        self,
        objective: Callable[[HyperParameters], Any],
        declarations: Sequence[Mapping[str, Any]],
        seed: int | None,
        conditions: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.objective = objective
        self.declarations = [dict(d) for d in declarations]
        self.seed = seed
        #: The conditions the engine inferred from Python control flow (``DiscoveredSpace.inferred_config()``).
        self.conditions = {k: [dict(c) for c in v] for k, v in (conditions or {}).items()}

    def __call__(self, params: dict[str, Any]) -> Any:
        hp = self.hyperparameters(params)
        result = self.objective(hp)
        given = self._space().values(params)
        drawn = {name: hp.values[name] for name in hp.used if name not in given and name in hp.values}
        if hp.used:  # the call's path: which parameters it read, so the engine sees Python's branches
            current().declare([], drawn, tuple(hp.used))
        return result

    def _space(self) -> DiscoveredSpace:
        return DiscoveredSpace((deserialize(item) for item in self.declarations), conditions=self.conditions)

    def hyperparameters(self, params: Mapping[str, Any]) -> HyperParameters:
        """The object the objective gets for ``params`` in the current trial context."""
        import numpy as np

        context = current()
        hp = self._space().hyperparameters(params)
        hp.number = context.number
        if self.seed is not None:
            rng = np.random.default_rng([self.seed, context.number, 0])
            hp.sampler = lambda p: p.domain().sample(rng)

        def declare(declaration: HyperParameter, value: Any) -> None:
            drawn = {} if value is None else {declaration.name: value}
            context.declare([serialize(declaration)], drawn)

        hp.on_declare = declare
        return hp

    def __repr__(self) -> str:
        name = getattr(self.objective, "__qualname__", repr(self.objective))
        return f"DefineByRun({name})"
