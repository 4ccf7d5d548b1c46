"""The tuner contract (:mod:`tunelab.testing.tuners`) over every tuner; seeds across processes; unit rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunelab.space import SearchSpace, parse_search_space
from tunelab.testing.tuners import MIXED_SPACE, TUNER_CASES, TunerContract, TunerFactory, mixed_loss, run
from tunelab.tuners import Tuner, create_tuner
from tunelab.tuners._unit import UnitSpace

Case = tuple[str, str, dict[str, Any], "str | None"]


class TestTuners(TunerContract):
    """Every check of the contract, for each algorithm; skips one whose optional package is missing."""

    @pytest.fixture(params=[pytest.param(case, id=case[0]) for case in TUNER_CASES])
    def case(self, request: pytest.FixtureRequest) -> Case:
        if request.param[3] is not None:
            pytest.importorskip(request.param[3])
        return request.param

    @pytest.fixture
    def make_tuner(self, case: Case) -> TunerFactory:
        _, name, args, _ = case

        def factory(space: Any, *, seed: int | None = 0, mode: str = "min") -> Tuner:
            parsed = space if isinstance(space, SearchSpace) else parse_search_space(space)
            return create_tuner(name, parsed, mode=mode, seed=seed, **args)

        return factory

    @pytest.fixture
    def beats_random_search(self, case: Case) -> bool:
        return case[0] != "random"  # the baseline itself


_SCRIPT = """
import json
from tunelab.testing.tuners import MIXED_SPACE, TUNER_CASES, mixed_loss, run
from tunelab.tuners import create_tuner
out = {}
for case_id, name, args, needs in TUNER_CASES:
    try:
        tuner = create_tuner(name, MIXED_SPACE, seed=21, **args)
    except Exception:
        continue
    out[case_id] = run(tuner, mixed_loss, 8)
print(json.dumps(out, sort_keys=True))
"""


def test_a_seed_reproduces_in_a_fresh_process() -> None:
    root = str(Path(__file__).resolve().parents[2])
    runs = [
        json.loads(
            subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True, cwd=root).stdout
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    here = {}
    for case_id, name, args, _needs in TUNER_CASES:
        if case_id in runs[0]:
            here[case_id] = run(create_tuner(name, MIXED_SPACE, seed=21, **args), mixed_loss, 8)
    assert json.loads(json.dumps(here, sort_keys=True)) == runs[0]


def test_unit_rows_round_trip_through_every_domain() -> None:
    space = parse_search_space(MIXED_SPACE)
    unit = UnitSpace(space)
    rng = np.random.default_rng(0)
    for _ in range(50):
        params = space.sample(rng)
        row = unit.encode(params)
        assert np.all((row[~np.isnan(row)] >= 0) & (row[~np.isnan(row)] <= 1))
        assert json.dumps(unit.decode(row), sort_keys=True) == json.dumps(params, sort_keys=True) or all(
            np.isclose(a, b) if isinstance(a, float) else a == b
            for a, b in zip(unit.decode(row).values(), params.values(), strict=True)
        )
        np.testing.assert_allclose(unit.snap(row), row, equal_nan=True, atol=1e-9)
