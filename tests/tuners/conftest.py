"""Factories for the tuner contract suite: every algorithm, with arguments that keep tests fast."""

from __future__ import annotations

from typing import Any

import pytest
from tuner_cases import TUNER_CASES, TunerFactory

from tunelab.space import SearchSpace, parse_search_space
from tunelab.tuners import Tuner, create_tuner


@pytest.fixture(params=[pytest.param(case, id=case[0]) for case in TUNER_CASES])
def make_tuner(request: pytest.FixtureRequest) -> TunerFactory:
    """``make_tuner(space, seed=..., mode=...)`` for each algorithm; skips when its extra is missing."""
    _, name, args, needs = request.param
    if needs is not None:
        pytest.importorskip(needs)

    def factory(space: Any, *, seed: int | None = 0, mode: str = "min") -> Tuner:
        parsed = space if isinstance(space, SearchSpace) else parse_search_space(space)
        return create_tuner(name, parsed, mode=mode, seed=seed, **args)

    factory.tuner_name = request.param[0]  # type: ignore[attr-defined]
    return factory
