"""The dashboard of an experiment with several objectives, in headless Chromium: the Pareto-front
scatter (front, dominated faded, infeasible marked, the knee), the hypervolume over time,
parallel coordinates over the objectives, and a click on a point opening its trial.

Skips when Playwright's Python package or Debian's ``chromium`` is missing (CI has both).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import BROWSER_TESTS, canvas_has_ink, shot, wait_for
from pareto_trials import slow_two_objectives

from tunelab import Experiment, hp
from tunelab.server import Dashboard, ServeOptions
from tunelab.storage import SQLiteStorage

pytestmark = BROWSER_TESTS


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("pareto-browser")
    path = root / "db.sqlite"
    experiment = Experiment(
        objective=slow_two_objectives,
        search_space={"x": hp.uniform(0, 1), "w": hp.uniform(0, 2)},
        tuner="random",
        max_trials=40,
        concurrency=2,
        seed=5,
        objectives={"accuracy": "max", "size": "min"},
        constraints={"model_mb": "<= 60"},
        failure={"ignore": True},
        storage=str(path),
        experiment_dir=str(root / "exp"),
        name="pareto-e2e",
    )
    eid = experiment.create()
    thread = threading.Thread(target=experiment.run, daemon=True)
    thread.start()
    store = SQLiteStorage(path)
    dashboard = Dashboard(store, ServeOptions(port=0)).start()
    yield {"id": eid, "url": dashboard.url, "store": store}
    experiment.stop()
    thread.join(timeout=60)
    dashboard.stop()
    store.close()


def test_pareto_panels_draw_live_and_a_point_opens_its_trial(running: dict[str, Any], page: Any) -> None:
    page.goto(running["url"] + f"#/e/{running['id']}")
    page.wait_for_selector("#pareto-chart", timeout=20000)
    note = page.locator("#pareto-note")
    wait_for(lambda: "on the front of" in note.inner_text() and "broke the" in note.inner_text(), timeout=60)
    for chart in ("#pareto-chart", "#hypervolume-chart", "#objectives-chart"):
        wait_for(lambda chart=chart: canvas_has_ink(page, chart), timeout=30)
    assert "suggested: trial" in note.inner_text()
    assert page.locator("#history-chart").is_hidden()  # one value's "best so far" is not shown
    assert page.locator("#pareto-x").input_value() == "accuracy" and page.locator("#pareto-y").input_value() == "size"
    assert "against the reference point" in page.locator("#hypervolume-note").inner_text()
    # Every point is a trial: dominated and infeasible ones are drawn too, in their own colours.
    drawn = page.eval_on_selector("#pareto-chart", "c => c._hit.points.map(p => p.meta)")
    view = running["store"]  # the points are the trials with every objective's value
    finished = {t.number for t in view.get_trials(running["id"]) if t.values is not None}
    assert set(drawn) <= finished and len(set(drawn)) >= 3
    shot(page, "pareto")
    # Hovering a point names it (trial 0 too); clicking it opens the trial's page. Once the experiment has
    # ended, so that no new trial rescales the axes between the hover and the click.
    store = running["store"]
    wait_for(lambda: store.get_experiment(running["id"]).phase.is_final, timeout=120)
    page.reload()
    page.wait_for_selector("#pareto-chart", timeout=20000)
    wait_for(lambda: canvas_has_ink(page, "#pareto-chart") and "on the front of" in note.inner_text(), timeout=30)
    pick = "c => { const p = c._hit.points.find(p => p.meta === 0) || c._hit.points[0]; return [p.x, p.y, p.meta]; }"
    target = page.eval_on_selector("#pareto-chart", pick)
    box = page.locator("#pareto-chart").bounding_box()
    page.mouse.move(box["x"] + target[0], box["y"] + target[1])
    wait_for(lambda: f"trial {target[2]}" in page.locator("#tooltip").inner_text(), timeout=10)
    page.mouse.click(box["x"] + target[0], box["y"] + target[1])
    wait_for(lambda: page.evaluate("() => location.hash").endswith(f"/t/{target[2]}"), timeout=10)
    # The trial's page shows each objective's value.
    wait_for(
        lambda: "accuracy" in page.locator("main").inner_text() and "size" in page.locator("main").inner_text(),
        timeout=10,
    )
