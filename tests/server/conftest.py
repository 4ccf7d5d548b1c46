"""Fixtures for the dashboard tests: real experiments in real SQLite storage, and clients."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from server_trials import curve_objective

import tunelab
from tunelab import hp
from tunelab.server import create_app
from tunelab.storage import SQLiteStorage
from tunelab.testing import CHROMIUM, CHROMIUM_ARGS

with warnings.catch_warnings():  # starlette's TestClient warns about httpx at import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SPACE = {
    "x": hp.uniform(-5, 5),
    "lr": hp.loguniform(1e-4, 1e-1),
    "opt": hp.choice(["adam", "sgd", "=cmd|' /C calc'!A0"]),
}


@dataclass(frozen=True)
class Stored:
    path: Path
    experiment_id: str
    experiment_dir: Path


@pytest.fixture(scope="session")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Stored:
    """A real experiment that ran to the end: 14 trials, some failed, curves, logs."""
    root = tmp_path_factory.mktemp("finished")
    result = tunelab.optimize(
        curve_objective,
        SPACE,
        tuner="random",
        max_trials=14,
        concurrency=2,
        seed=3,
        storage=str(root / "db.sqlite"),
        experiment_dir=str(root / "exp"),
        failure={"ignore": True},
    )
    return Stored(root / "db.sqlite", result.experiment_id, root / "exp")


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    """``make_client(storage_path, **create_app_options)`` -> a TestClient."""
    opened: list[tuple[SQLiteStorage, TestClient]] = []

    def make(path: Path, **options: Any) -> TestClient:
        store = SQLiteStorage(path)
        client = TestClient(create_app(store, **options), follow_redirects=False)
        opened.append((store, client))
        return client

    yield make
    for store, client in opened:
        client.close()
        store.close()


@pytest.fixture
def client(finished: Stored, make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(finished.path)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


T0 = 1_800_000_000.0  # a fixed clock for histories written straight into storage


def write_history(path: Path, experiment_id: str = "exp-tie", mode: str = "min") -> None:
    """An ended experiment written straight into storage (no engine): trial 1 early-stopped
    with a value better than any finished one, trials 0 and 2 tie, trial 3 failed, trial 4
    "succeeded" with an infinite value (no score), trial 5 succeeded worse. The rule names trial 0."""
    from tunelab.storage import Phase, TrialRecord, TrialState

    better, worse, infinite = (0.1, 9.0, -math.inf) if mode == "min" else (0.9, -9.0, math.inf)
    history = [
        (TrialState.EARLY_STOPPED, better),  # ends first
        (TrialState.SUCCEEDED, 0.5),
        (TrialState.SUCCEEDED, 0.5),
        (TrialState.FAILED, None),
        (TrialState.SUCCEEDED, infinite),
        (TrialState.SUCCEEDED, worse),
    ]
    numbers = [1, 0, 2, 3, 4, 5]
    store = SQLiteStorage(path)
    try:
        store.create_experiment(
            experiment_id,
            name="tie",
            config={"mode": mode, "max_trials": 6, "search_space": {"x": {"_type": "uniform", "_value": [0, 9]}}},
            format="tunelab",
            experiment_dir=str(path.parent),
        )
        store.set_phase(experiment_id, Phase.RUNNING, started_at=T0 - 100)
        for number in sorted(numbers):
            store.create_trial(TrialRecord(experiment_id, number, TrialState.WAITING, {"x": number}, created_at=T0))
        for order, ((state, value), number) in enumerate(zip(history, numbers, strict=True)):
            store.update_trial(
                experiment_id, number, state=state, value=value, started_at=T0 - 90, ended_at=T0 - 50 + order
            )
        store.set_phase(experiment_id, Phase.DONE, "max_trials reached", ended_at=T0)
    finally:
        store.close()


# ---------------------------------------------------------------- headless Chromium (the browser tests)
#: The marks of a module of browser tests: CI has Playwright's Python package and Debian's chromium.
BROWSER_TESTS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS])
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; the test fails if a script on the page threw (the errors are also ``page.errors``)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.errors = errors
    yield tab
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    """A full-page screenshot in test-artifacts/dashboard/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def canvas_has_ink(page: Any, selector: str) -> bool:
    """Whether the canvas has drawn something (more than 500 painted pixels)."""
    return page.eval_on_selector(
        selector,
        """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
        return ink > 500; }""",
    )
