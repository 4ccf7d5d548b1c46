"""NNI's BatchTuner: run an explicit list of configurations, then stop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunelab.errors import SearchSpaceExhausted, TunerError
from tunelab.space import Choice, SearchSpace
from tunelab.tuners._base import Tuner


class BatchTuner(Tuner):
    """Proposes ``configs`` in order.

    Without ``configs``, the space must be NNI's batch form, a single choice named
    ``combine_params`` whose options are the configurations.
    """

    validates_params = False

    def __init__(
        self,
        space: SearchSpace,
        *,
        mode: str = "min",
        seed: int | None = None,
        configs: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(space, mode=mode, seed=seed)
        self._configs = batch_configs(configs, space)

    def _propose(self, rng: np.random.Generator) -> dict[str, Any]:
        for config in self._configs:
            if not self._is_seen(config):
                return dict(config)
        raise SearchSpaceExhausted(f"all {len(self._configs)} configurations of the batch have been tried")


def batch_configs(configs: Sequence[Mapping[str, Any]] | None, space: SearchSpace) -> list[dict[str, Any]]:
    """What a batch tuner runs: ``configs``, or NNI's ``combine_params`` choice; checked against the space."""
    if configs is None:
        domain = space.get("combine_params")
        if len(space) != 1 or not isinstance(domain, Choice):
            raise TunerError(
                'batch: the search space must be {"combine_params": {"_type": "choice", '
                '"_value": [config, ...]}}, or pass configs=[...]'
            )
        configs = list(domain.options)
    else:
        for i, config in enumerate(configs):
            space.validate(config, where=f"configs[{i}].")
    if not all(isinstance(c, Mapping) for c in configs):
        raise TunerError("batch: every configuration must be a mapping of parameter values")
    return [dict(c) for c in configs]
