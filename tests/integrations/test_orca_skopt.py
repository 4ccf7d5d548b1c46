"""Orca's ``search_alg="skopt"``: scikit-optimize through tunelab's adapter, held to the tuner contract."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("skopt")

from tunelab.integrations import _orca
from tunelab.space import SearchSpace, parse_search_space
from tunelab.testing.tuners import TunerContract, TunerFactory
from tunelab.tuners import Tuner, create_tuner


class TestSkoptTuner(TunerContract):
    @pytest.fixture
    def make_tuner(self) -> TunerFactory:
        def factory(space: Any, *, seed: int | None = 0, mode: str = "min") -> Tuner:
            parsed = space if isinstance(space, SearchSpace) else parse_search_space(space)
            return create_tuner("scikitoptimize", parsed, mode=mode, seed=seed, n_initial_points=5)

        return factory


def test_orca_skopt_runs_scikit_optimize_when_installed_and_warns_when_not(monkeypatch):
    plan = _orca.orca_search_alg("skopt", {"n_initial_points": 4, "random_state": 2, "metric": "mse"})
    assert (plan.tuner, plan.args, plan.warnings) == ("scikitoptimize", {"n_initial_points": 4, "seed": 2}, ())
    monkeypatch.setattr(_orca, "_installed", lambda package: False)
    missing = _orca.orca_search_alg("skopt", {"n_initial_points": 4})
    assert missing.tuner == "gp"
    assert missing.warnings[0] == (
        "search_alg 'skopt' (scikit-optimize's Bayesian optimization): it needs scikit-optimize, which is not "
        "installed (pip install scikit-optimize); running tunelab's 'gp' instead (both are Gaussian-process BO)"
    )
