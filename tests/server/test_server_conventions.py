"""Dashboard conventions (issue 19): API docs served locally, "value" rather than "default",
branch parameters in separate columns (table, importance, slices), the all-failed count,
and, in headless Chromium, the pages that show them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tunelab.server import Dashboard, ServeOptions
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState

pytest.importorskip("swagger_ui_bundle", reason="the API docs are served from the swagger-ui-bundle package")


def write_history(root: Path) -> Path:
    """'branches': 12 trials over a nested choice (rf/gbm, both with a depth), every 4th failed with a
    multi-line stderr; 'all-bad': 3 trials, all failed."""
    db = root / "db.sqlite"
    store = SQLiteStorage(db)
    folder = root / "exp"
    space = {"model": {"_type": "choice", "_value": [{"_name": "rf"}, {"_name": "gbm"}]}, "n": {"_type": "randint"}}
    store.create_experiment(
        "branches", name="branches", config={"mode": "min", "search_space": space}, format="tunelab",
        experiment_dir=str(folder),
    )  # fmt: skip
    for number in range(12):
        model = {"_name": "rf", "depth": number} if number % 2 else {"_name": "gbm", "depth": 30 - number}
        trial_dir = folder / "trials" / str(number)
        trial_dir.mkdir(parents=True)
        failed = number % 4 == 3
        (trial_dir / "stderr.log").write_text(
            "Traceback (most recent call last):\nValueError: boom\n" if failed else ""
        )
        (trial_dir / "stdout.log").write_text(f"trial {number}\n")
        store.create_trial(TrialRecord("branches", number, TrialState.WAITING, {"model": model, "n": number}))
        store.update_trial(
            "branches",
            number,
            state=TrialState.FAILED if failed else TrialState.SUCCEEDED,
            value=None if failed else float((number - 5) ** 2),
            started_at=1000.0 + number,
            ended_at=1002.0 + number,
            trial_dir=str(trial_dir),
            message="exit code 1: Traceback (most recent call last): | ValueError: boom" if failed else "",
        )
    store.set_phase("branches", Phase.DONE, ended_at=1020.0)
    store.create_experiment("all-bad", name="all-bad", config={"mode": "min"}, format="tunelab", experiment_dir="x")
    for number in range(3):
        store.create_trial(TrialRecord("all-bad", number, TrialState.WAITING, {"x": number}))
        store.update_trial("all-bad", number, state=TrialState.FAILED, message="boom")
    store.set_phase("all-bad", Phase.ERROR, "no trial succeeded")
    store.close()
    return db


# ---------------------------------------------------------------- the API, in process
def test_api_docs_are_swagger_ui_with_local_assets(tmp_path: Path, make_client: Callable[..., Any]) -> None:
    client = make_client(write_history(tmp_path))
    page = client.get("/api/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.text and "/static/api-docs.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from another host
    assert "script-src 'self';" in page.headers["content-security-policy"]
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text[:5000] + bundle.text[-5000:]
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
    assert "/api/openapi.json" in client.get("/static/api-docs.js").text
    assert client.get("/api/openapi.json").json()["info"]["title"] == "tunelab dashboard API"


def test_metric_label_is_value_and_branches_are_separate_columns(
    tmp_path: Path, make_client: Callable[..., Any]
) -> None:
    client = make_client(write_history(tmp_path))
    assert client.get("/api/experiments/branches").json()["metric"] == "value"
    page = client.get("/api/experiments/branches/trials", params={"limit": 50}).json()
    assert {"model", "model=rf/depth", "model=gbm/depth", "n"} <= set(page["params"])
    analysis = client.get("/api/experiments/branches/analysis").json()
    names = [p["name"] for p in analysis["params"]]
    assert "model=rf/depth" in names and "model=gbm/depth" in names and "model/depth" not in names
    assert set(analysis["importance"]) <= set(names) and "model=gbm/depth" in analysis["columns"]
    rf = analysis["columns"]["model=rf/depth"]
    assert all(v is None or v % 2 == 1 for v in rf)  # only rf trials (odd numbers) have an rf depth
    listed = {e["id"]: e for e in client.get("/api/experiments").json()}
    assert listed["all-bad"]["failed"] == listed["all-bad"]["finished"] == 3
    assert listed["branches"]["failed"] == 3 and listed["branches"]["finished"] == 12


def test_a_named_metric_is_its_own_label(tmp_path: Path, make_client: Callable[..., Any]) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite")
    store.create_experiment("m", name="m", config={"metric": "accuracy"}, format="tunelab", experiment_dir="x")
    store.close()
    assert make_client(tmp_path / "db.sqlite").get("/api/experiments/m").json()["metric"] == "accuracy"


# ---------------------------------------------------------------- in the browser
@pytest.fixture
def dashboard(tmp_path: Path) -> Any:
    store = SQLiteStorage(write_history(tmp_path))
    with Dashboard(store, ServeOptions(port=0)) as served:
        yield served
    store.close()


@pytest.mark.browser
@pytest.mark.slow
def test_swagger_ui_renders_from_local_files_only(dashboard: Any, page: Any) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(dashboard.url.rstrip("/") + "/api/docs")
    page.wait_for_selector("#swagger-ui .info .title", timeout=15000)
    assert "tunelab dashboard API" in page.locator("#swagger-ui .info .title").inner_text()
    page.wait_for_selector("#swagger-ui .opblock", timeout=15000)
    assert page.locator("#swagger-ui .opblock").count() > 5  # the endpoints are listed
    origin = dashboard.url.rstrip("/")
    assert requests and all(url.startswith(origin) or url.startswith("data:") for url in requests), requests


@pytest.mark.browser
@pytest.mark.slow
def test_pages_say_value_open_failures_on_stderr_and_badge_all_failed(dashboard: Any, page: Any) -> None:
    page.goto(dashboard.url)
    row = page.locator("#experiments tbody tr", has=page.locator("a[href='#/e/all-bad']")).first
    row.locator(".all-failed").wait_for(timeout=15000)
    badge = row.locator(".all-failed")
    assert badge.inner_text() == "all trials failed"
    assert badge.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(201, 42, 42)"
    other = page.locator("#experiments tbody tr", has=page.locator("a[href='#/e/branches']")).first
    assert other.locator(".all-failed").count() == 0  # some succeeded

    page.goto(dashboard.url + "#/e/branches")
    page.wait_for_selector("#stat-best .label", timeout=15000)
    assert page.locator("#stat-best .label").inner_text().lower().startswith("best value")
    assert "default" not in page.locator("#stat-best").inner_text().lower()
    header = page.locator("#trials-table thead")
    header.locator("th[data-key='param:model=rf/depth']").wait_for(timeout=15000)
    assert header.locator("th[data-key='param:model=gbm/depth']").count() == 1

    page.goto(dashboard.url + "#/e/branches/t/3")  # a failed trial
    page.wait_for_selector("#log-stderr:not(.hidden)", timeout=15000)
    assert page.locator("#log-stdout").is_hidden()
    assert page.locator(".tab.on").inner_text() == "stderr"
    page.wait_for_function("document.querySelector('#log-stderr').innerText.includes('ValueError')", timeout=15000)
    text = page.locator("#log-stderr").inner_text()
    assert "Traceback (most recent call last):\nValueError: boom" in text  # its line breaks kept
    page.locator(".tab[data-stream='stdout']").click()
    assert page.locator("#log-stdout").is_visible()

    page.goto(dashboard.url + "#/e/branches/t/2")  # a trial that succeeded opens on stdout
    page.wait_for_selector("#log-stdout:not(.hidden)", timeout=15000)
    assert page.locator("#log-stderr").is_hidden()


@pytest.mark.browser
@pytest.mark.slow
def test_integer_axes_get_integer_ticks(dashboard: Any, page: Any) -> None:
    page.goto(dashboard.url)
    page.wait_for_selector("#experiments tbody tr", timeout=15000)
    integer = page.evaluate("Charts.scale([0, 1, 2, 3], 0, 600, false).ticks")
    assert integer and all(float(t).is_integer() for t in integer)
    few = page.evaluate("Charts.scale([1, 2], 0, 900, false).ticks")
    assert few and all(float(t).is_integer() for t in few) and len(set(few)) == len(few)
    real = page.evaluate("Charts.scale([0, 0.5, 1.5], 0, 600, false).ticks")
    assert any(not float(t).is_integer() for t in real)  # a real-valued axis keeps its fractions


def test_api_docs_without_the_bundle_say_what_to_install(
    tmp_path: Path, make_client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tunelab.server import _app

    monkeypatch.setattr(_app, "_swagger_assets", lambda: None)
    answer = make_client(write_history(tmp_path)).get("/api/docs")
    assert answer.status_code == 404 and "pip install swagger-ui-bundle-v2" in answer.json()["detail"]
