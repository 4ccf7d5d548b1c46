"""Schemathesis fuzzes every operation of the OpenAPI document: no input makes a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import SPACE

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from tunelab import Experiment  # noqa: E402
from tunelab.server import create_app  # noqa: E402
from tunelab.storage import SQLiteStorage  # noqa: E402

EXAMPLES_PER_OPERATION = 40


def test_no_input_makes_a_server_error(tmp_path: Path) -> None:
    # A PENDING experiment, so that actions are open to the fuzzer too.
    experiment = Experiment(objective=abs, search_space=SPACE, max_trials=5, storage=str(tmp_path / "db.sqlite"))
    eid = experiment.create()
    store = SQLiteStorage(tmp_path / "db.sqlite")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(store))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    for operation in operations:
        fixed = {"experiment_id": eid} if "experiment_id" in operation.path else None
        strategy = st.one_of(
            operation.as_strategy(path_parameters=fixed),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
            operation.as_strategy(),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r}: "
                f"{response.status_code} {response.text[:300]}"
            )

        check()
    store.close()
