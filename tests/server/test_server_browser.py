"""End to end: a real server on loopback, a real experiment running, headless Chromium.

Skips when Playwright's Python package or Debian's ``chromium`` is missing (CI has both).
Screenshots go to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BROWSER_TESTS, canvas_has_ink, shot, wait_for
from server_trials import training

from tunelab import Experiment, hp
from tunelab.server import Dashboard, ServeOptions
from tunelab.storage import Phase, SQLiteStorage, TrialState

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("browser")
    path = root / "db.sqlite"
    experiment = Experiment(
        objective=training,
        search_space={"x": hp.uniform(-3, 3), "lr": hp.loguniform(1e-3, 1e-1)},
        tuner="random",
        max_trials=200,
        concurrency=2,
        seed=1,
        storage=str(path),
        experiment_dir=str(root / "exp"),
        name="browser-e2e",
        enqueue=[{"x": 2.5, "lr": 0.01}],  # trial 0: a long one to cancel
    )
    eid = experiment.create()
    thread = threading.Thread(target=experiment.run, daemon=True)
    thread.start()
    store = SQLiteStorage(path)
    dashboard = Dashboard(store, ServeOptions(port=0)).start()
    yield {"experiment": experiment, "id": eid, "url": dashboard.url, "path": path, "store": store}
    experiment.stop()
    thread.join(timeout=30)
    dashboard.stop()
    store.close()


def rows(page: Any) -> int:
    return page.locator("#trials-table tbody tr[data-number]").count()


def test_table_fills_in_live_and_charts_render(running: dict[str, Any], page: Any) -> None:
    page.goto(running["url"] + f"#/e/{running['id']}")
    page.wait_for_selector("#trials-table tbody tr[data-number]", timeout=15000)
    first = rows(page)
    wait_for(lambda: rows(page) > first or page.locator("#stat-trials .big").inner_text() != "0 / 200", timeout=15)
    seen = page.locator("#stat-trials .big").inner_text()
    wait_for(lambda: page.locator("#stat-trials .big").inner_text() != seen, timeout=15)  # no reload needed
    wait_for(lambda: canvas_has_ink(page, "#history-chart"), timeout=15)
    wait_for(lambda: canvas_has_ink(page, "#curves-chart") and canvas_has_ink(page, "#timeline-chart"), timeout=15)
    assert page.locator("#trials-table thead th[data-key='param:x']").count() == 1
    page.locator("#trials-table thead th[data-key='value']").click()
    wait_for(lambda: "sorted" in (page.locator("th[data-key='value']").get_attribute("class") or ""))
    shot(page, "experiment")


def test_read_only_dashboard_hides_actions(running: dict[str, Any], page: Any) -> None:
    store = SQLiteStorage(running["path"])
    with Dashboard(store, ServeOptions(port=0, read_only=True)) as read_only:
        page.goto(read_only.url + f"#/e/{running['id']}")
        page.wait_for_selector("#trials-table tbody tr[data-number]")
        assert page.locator("#readonly").is_visible()
        assert page.locator("#stop-button").count() == 0 and page.locator("button.cancel").count() == 0
    store.close()


def test_trial_page_follows_the_log(running: dict[str, Any], page: Any) -> None:
    store = running["store"]

    def running_now() -> list[int]:
        return [t.number for t in store.get_trials(running["id"]) if t.state == TrialState.RUNNING and t.number]

    number = wait_for(running_now)[0]
    page.goto(running["url"] + f"#/e/{running['id']}/t/{number}")
    wait_for(lambda: "epoch" in page.locator("#log-stdout").inner_text(), timeout=15)
    wait_for(lambda: "epoch 9" in page.locator("#log-stdout").inner_text(), timeout=15)  # it followed the file
    assert "<b>bold?</b>" in page.locator("#log-stdout").inner_text()  # shown as text, not markup
    assert page.locator("#log-stdout b").count() == 0
    wait_for(lambda: canvas_has_ink(page, "#trial-curve"))
    shot(page, "trial")


def test_cancel_a_trial_then_stop_the_experiment(running: dict[str, Any], page: Any) -> None:
    store, eid = running["store"], running["id"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(running["url"] + f"#/e/{eid}")
    number = 0
    button = page.locator(f"#trials-table tr[data-number='{number}'] button.cancel")
    button.wait_for(timeout=15000)
    button.click()
    wait_for(lambda: store.get_trial(eid, number).state == TrialState.CANCELED, timeout=15)
    wait_for(
        lambda: page.locator(f"#trials-table tr[data-number='{number}'] .badge").inner_text() == "canceled", timeout=10
    )
    page.locator("#stop-button").click()
    wait_for(lambda: store.get_experiment(eid).phase == Phase.STOPPED, timeout=20)
    wait_for(lambda: page.locator(".titlebar .badge").first.inner_text() == "stopped", timeout=10)
    assert page.locator("#stop-button").count() == 0
    assert "canceled" in page.locator("#trials-table").inner_text()
    shot(page, "stopped")


def test_every_phase_badge_and_a_dead_engine_on_the_page(tmp_path: Path, page: Any) -> None:
    """ERROR is red and never green; a RUNNING experiment whose engine died says so and how to continue."""
    path = tmp_path / "db.sqlite"
    store = SQLiteStorage(path)
    long_ago = 1_000_000_000.0
    for phase in Phase:
        eid = f"e-{phase.value.lower()}"
        store.create_experiment(eid, name=eid, config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
        if phase != Phase.PENDING:
            store.set_phase(eid, phase, "", started_at=time.time(), heartbeat_at=time.time())
    store.create_experiment("e-dead", name="e-dead", config={"mode": "min"}, format="tunelab", experiment_dir="d")
    store.set_phase("e-dead", Phase.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    with Dashboard(store, ServeOptions(port=0)) as dashboard:
        page.goto(dashboard.url)
        page.wait_for_selector("#experiments tbody tr td .badge")

        def badge(eid: str) -> tuple[str, str]:
            row = page.locator("#experiments tbody tr", has=page.locator(f"a[href='#/e/{eid}']")).first
            cell = row.locator(".badge")
            return cell.inner_text(), cell.evaluate("b => getComputedStyle(b).backgroundColor")

        colors = {phase: badge(f"e-{phase.value.lower()}") for phase in Phase}
        assert colors[Phase.ERROR] == ("error", "rgb(201, 42, 42)")
        assert colors[Phase.DONE] == ("done", "rgb(21, 128, 61)")
        assert [p for p, (_, color) in colors.items() if color == colors[Phase.DONE][1]] == [Phase.DONE]
        assert len({colors[p][1] for p in Phase if p != Phase.PENDING}) == 5
        text, color = badge("e-dead")
        assert text == "running · engine not responding" and color != colors[Phase.RUNNING][1]
        page.goto(dashboard.url + "#/e/e-dead")
        notice = page.locator("#engine-notice")
        notice.wait_for(timeout=10000)
        assert "RUNNING (engine not responding since " in notice.inner_text()
        assert "`tunelab resume e-dead` continues it" in notice.inner_text()
        shot(page, "dead-engine")
    store.close()
