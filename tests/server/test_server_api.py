"""The REST API against a real experiment in real SQLite storage, through an in-process client."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import SPACE, Stored, wait_for
from server_trials import slow_objective, square

from tunelab import Experiment
from tunelab.storage import Phase, SQLiteStorage, TrialRecord, TrialState


def test_lists_experiments_and_overview(client: Any, finished: Stored) -> None:
    items = client.get("/api/experiments").json()
    assert [i["id"] for i in items] == [finished.experiment_id]
    assert items[0]["phase"] == "DONE" and items[0]["trials"] == 14 and items[0]["finished"] == 14

    overview = client.get(f"/api/experiments/{finished.experiment_id}").json()
    assert overview["phase"] == "DONE" and overview["total"] == 14 and overview["max_trials"] == 14
    assert sum(overview["counts"].values()) == 14
    assert overview["params"] == ["x", "lr", "opt"]
    assert overview["best"]["value"] == min(
        r["value"]
        for r in client.get(f"/api/experiments/{finished.experiment_id}/trials?limit=100").json()["rows"]
        if r["state"] == "SUCCEEDED"
    )
    assert overview["config"]["search_space"]["x"]["_type"] == "uniform"


def test_unknown_ids_are_404(client: Any, finished: Stored) -> None:
    assert client.get("/api/experiments/nope").status_code == 404
    assert client.get(f"/api/experiments/{finished.experiment_id}/trials/999").status_code == 404
    assert client.get(f"/api/experiments/{finished.experiment_id}/trials/999/logs/stdout").status_code == 404


def test_trials_page_sort_filter_search(client: Any, finished: Stored) -> None:
    base = f"/api/experiments/{finished.experiment_id}/trials"
    page = client.get(base, params={"limit": 5, "offset": 5}).json()
    assert page["total"] == page["matched"] == 14 and [r["number"] for r in page["rows"]] == [5, 6, 7, 8, 9]

    by_value = client.get(base, params={"sort": "value", "order": "desc", "limit": 100}).json()["rows"]
    values = [r["value"] for r in by_value if r["value"] is not None]
    assert values == sorted(values, reverse=True) and by_value[-1]["value"] is None  # missing values last

    by_x = client.get(base, params={"sort": "param:x", "limit": 100}).json()["rows"]
    assert [r["params"]["x"] for r in by_x] == sorted(r["params"]["x"] for r in by_x)

    failed = client.get(base, params={"state": "FAILED"}).json()
    assert failed["matched"] >= 1 and all(r["state"] == "FAILED" for r in failed["rows"])
    assert all(r["params"]["x"] > 4 for r in failed["rows"])

    ranged = client.get(base, params={"range": ["param:x:-1:2", "value::5"], "limit": 100}).json()["rows"]
    assert all(-1 <= r["params"]["x"] <= 2 and r["value"] <= 5 for r in ranged)

    searched = client.get(base, params={"q": "SGD"}).json()["rows"]
    assert searched and all(r["params"]["opt"] == "sgd" for r in searched)


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"range": "x:1"},
        {"range": "value:2:1"},
        {"range": "value:a:"},
        {"limit": 0},
        {"state": "NOPE"},
    ],
)
def test_bad_queries_are_422(client: Any, finished: Stored, params: dict[str, Any]) -> None:
    response = client.get(f"/api/experiments/{finished.experiment_id}/trials", params=params)
    assert response.status_code == 422, response.text


def test_trial_detail_has_curve_metrics_and_state_history(client: Any, finished: Stored) -> None:
    rows = client.get(f"/api/experiments/{finished.experiment_id}/trials", params={"state": "SUCCEEDED"}).json()["rows"]
    detail = client.get(f"/api/experiments/{finished.experiment_id}/trials/{rows[0]['number']}").json()
    assert [p["step"] for p in detail["intermediate"]] == [0, 1, 2, 3, 4]
    assert detail["intermediate"][-1]["metrics"] == {"accuracy": 0.8}
    assert [e["state"] for e in detail["events"]][-2:] == ["RUNNING", "SUCCEEDED"]
    assert detail["trial_dir"].startswith(str(finished.experiment_dir))


def test_logs_tail_and_follow(client: Any, finished: Stored) -> None:
    failed = client.get(f"/api/experiments/{finished.experiment_id}/trials", params={"state": "FAILED"}).json()["rows"][
        0
    ]
    base = f"/api/experiments/{finished.experiment_id}/trials/{failed['number']}/logs"
    stderr = client.get(f"{base}/stderr").json()
    assert stderr["exists"] and "diverged" in stderr["text"] and stderr["end"] == stderr["size"]
    stdout = client.get(f"{base}/stdout").json()
    assert "<b>opt</b>" in stdout["text"]  # sent as text; the page shows it with textContent
    tail = client.get(f"{base}/stdout", params={"max_bytes": 5}).json()
    assert tail["start"] == stdout["size"] - 5 and tail["text"] == stdout["text"][-5:]
    follow = client.get(f"{base}/stdout", params={"offset": stdout["end"]}).json()
    assert follow["text"] == "" and follow["start"] == stdout["end"]
    assert client.get(f"{base}/../../etc/passwd").status_code == 404
    assert client.get(f"{base}/params").status_code == 422


def test_logs_never_leave_the_trial_folder(tmp_path: Path, make_client: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not show")
    store = SQLiteStorage(tmp_path / "db.sqlite")
    exp_dir = tmp_path / "exp"
    store.create_experiment("e1", name="e1", config={"mode": "min"}, format="tunelab", experiment_dir=str(exp_dir))
    linked = exp_dir / "trials" / "0"
    linked.mkdir(parents=True)
    (linked / "stdout.log").symlink_to(secret)  # a link out of the trial folder
    store.create_trial(TrialRecord("e1", 0, TrialState.SUCCEEDED, {}, trial_dir=str(linked)))
    store.create_trial(
        TrialRecord("e1", 1, TrialState.SUCCEEDED, {}, trial_dir=str(tmp_path))
    )  # outside the experiment
    (tmp_path / "stdout.log").write_text("outside")
    client = make_client(tmp_path / "db.sqlite")
    for number in (0, 1):
        chunk = client.get(f"/api/experiments/e1/trials/{number}/logs/stdout").json()
        assert chunk == {"stream": "stdout", "size": 0, "start": 0, "end": 0, "text": "", "exists": False}


def test_trials_say_their_budget_and_which_trial_they_continue(tmp_path: Path, make_client: Any) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite")
    store.create_experiment("e1", name="e1", config={"mode": "min"}, format="tunelab", experiment_dir=str(tmp_path))
    store.create_trial(TrialRecord("e1", 0, TrialState.SUCCEEDED, {"x": 1}, budget=3))
    store.create_trial(TrialRecord("e1", 1, TrialState.RUNNING, {"x": 2}, budget=9, parent=0, checkpoint_from=0))
    store.create_trial(TrialRecord("e1", 2, TrialState.WAITING, {"x": 3}))
    client = make_client(tmp_path / "db.sqlite")
    rows = client.get("/api/experiments/e1/trials").json()["rows"]
    assert [(r["budget"], r["parent"], r["checkpoint_from"]) for r in rows] == [(3, None, None), (9, 0, 0), (None,) * 3]
    detail = client.get("/api/experiments/e1/trials/1").json()
    assert (detail["budget"], detail["parent"], detail["checkpoint_from"]) == (9, 0, 0)
    store.close()


def test_charts_data(client: Any, finished: Stored) -> None:
    eid = finished.experiment_id
    history = client.get(f"/api/experiments/{eid}/history").json()
    assert len(history["values"]) == len(history["best"]) >= 8
    assert history["best"] == [min(history["values"][: i + 1]) for i in range(len(history["values"]))]
    curves = client.get(f"/api/experiments/{eid}/curves", params={"numbers": [history["numbers"][0], 999]}).json()
    assert (
        list(curves["curves"]) == [str(history["numbers"][0])]
        and len(curves["curves"][str(history["numbers"][0])]) == 5
    )
    analysis = client.get(f"/api/experiments/{eid}/analysis").json()
    assert {p["name"]: p["kind"] for p in analysis["params"]} == {"x": "number", "lr": "number", "opt": "category"}
    assert [p["log"] for p in analysis["params"]] == [False, True, False]
    assert max(analysis["importance"], key=analysis["importance"].get) == "x"
    assert len(analysis["columns"]["x"]) == len(analysis["values"])
    timeline = client.get(f"/api/experiments/{eid}/timeline").json()
    assert len(timeline["numbers"]) == 14 and set(timeline["slots"]) <= {0, 1}
    assert all(0 <= start <= end for start, end in zip(timeline["starts"], timeline["ends"], strict=True))


def test_export_csv_and_json(client: Any, finished: Stored) -> None:
    eid = finished.experiment_id
    response = client.get(f"/api/experiments/{eid}/export", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 14 and {"number", "state", "value", "param:x", "param:opt"} <= set(rows[0])
    assert all(not r["param:opt"].startswith("=") for r in rows)  # no spreadsheet formulas
    data = json.loads(client.get(f"/api/experiments/{eid}/export", params={"format": "json", "state": "FAILED"}).text)
    assert data and all(t["state"] == "FAILED" for t in data)


def test_actions_refused_on_ended_experiment_and_in_read_only(finished: Stored, make_client: Any) -> None:
    eid = finished.experiment_id
    assert make_client(finished.path).post(f"/api/experiments/{eid}/stop").status_code == 409
    read_only = make_client(finished.path, read_only=True)
    assert read_only.get("/api/info").json()["read_only"] is True
    for url, body in [
        ("stop", None),
        ("trials/0/cancel", None),
        ("limits", {"max_trials": 3}),
        ("trials", {"params": {}}),
    ]:
        assert read_only.post(f"/api/experiments/{eid}/{url}", json=body).status_code == 403


@pytest.fixture
def pending(tmp_path: Path) -> tuple[Path, str]:
    """A created, not yet running experiment: requests queue up for its engine."""
    path = tmp_path / "db.sqlite"
    experiment = Experiment(objective=lambda p: p["x"], search_space=SPACE, max_trials=5, storage=str(path))
    return path, experiment.create()


def test_actions_queue_requests(pending: tuple[Path, str], make_client: Any) -> None:
    path, eid = pending
    client = make_client(path)
    base = f"/api/experiments/{eid}"
    assert (
        client.post(f"{base}/limits", json={"max_trials": 9, "max_duration": "2h", "concurrency": 3}).status_code == 202
    )
    assert client.post(f"{base}/limits", json={"max_trials": None}).status_code == 202
    for bad in [{}, {"max_trials": 0}, {"concurrency": None}, {"max_duration": "soon"}, {"other": 1}]:
        assert client.post(f"{base}/limits", json=bad).status_code == 422, bad
    ok = client.post(f"{base}/trials", json={"params": {"x": 0.5, "lr": 0.01, "opt": "sgd"}})
    assert ok.status_code == 202
    bad = client.post(f"{base}/trials", json={"params": {"x": 50, "lr": 0.01, "opt": "sgd"}})
    assert bad.status_code == 422 and "x" in bad.json()["detail"]
    assert client.post(f"{base}/trials/0/cancel").status_code == 404
    assert client.post(f"{base}/stop").status_code == 202
    kinds = [r["kind"] for r in client.get(f"{base}/requests").json()]
    assert kinds == ["add_trial", "update_limits", "update_limits"]
    payloads = [r["payload"] for r in client.get(f"{base}/requests").json()]
    assert payloads[-1] == {"max_trials": 9, "max_duration": 7200.0, "concurrency": 3}
    assert client.get(base).json()["stop_requested"] is True


def test_token_guards_every_request(finished: Stored, make_client: Any) -> None:
    client = make_client(finished.path, token="s3cret-token")
    for url in ["/", "/api/experiments", "/api/openapi.json", "/static/app.js"]:
        assert client.get(url).status_code == 401, url
    assert client.get("/api/experiments", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert client.get("/api/experiments", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    opened = client.get("/?token=s3cret-token")
    assert opened.status_code == 303 and opened.headers["location"] == "/"
    assert "httponly" in opened.headers["set-cookie"].lower()
    assert client.get("/api/experiments").status_code == 200  # the cookie now rides along


def test_host_and_origin_guards(finished: Stored, make_client: Any) -> None:
    client = make_client(finished.path, trusted_hosts={"127.0.0.1", "localhost"})
    assert client.get("/api/info", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/api/info", headers={"Host": "127.0.0.1:8080"}).status_code == 200
    refused = client.post(
        f"/api/experiments/{finished.experiment_id}/stop",
        headers={"Host": "127.0.0.1:8080", "Origin": "http://evil.example"},
    )
    assert refused.status_code == 403
    assert (
        "access-control-allow-origin"
        not in client.get("/api/info", headers={"Host": "127.0.0.1:8080", "Origin": "http://evil.example"}).headers
    )


def test_page_is_served_with_a_strict_content_policy(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/api/openapi.json").json()["info"]["title"] == "tunelab dashboard API"


def test_a_running_engine_carries_out_requests(tmp_path: Path, make_client: Any) -> None:
    path = tmp_path / "db.sqlite"
    experiment = Experiment(
        objective=slow_objective,
        search_space={"x": SPACE["x"]},
        tuner="random",
        max_trials=100,
        concurrency=1,
        storage=str(path),
        seed=0,
    )
    eid = experiment.create()
    runner = threading.Thread(target=experiment.run)
    runner.start()
    client = make_client(path)
    try:
        wait_for(lambda: client.get(f"/api/experiments/{eid}").json()["phase"] == "RUNNING")
        assert client.post(f"/api/experiments/{eid}/trials", json={"params": {"x": 1.25}}).status_code == 202
        assert client.post(f"/api/experiments/{eid}/limits", json={"max_trials": 3}).status_code == 202
        outcomes = wait_for(
            lambda: (
                [r["outcome"] for r in client.get(f"/api/experiments/{eid}/requests").json() if r["handled_at"]] or None
            )
        )
        runner.join(timeout=30)
    finally:
        if runner.is_alive():
            experiment.stop()
            runner.join(timeout=30)
    assert experiment.phase == Phase.DONE
    outcomes = [r["outcome"] for r in client.get(f"/api/experiments/{eid}/requests").json()]
    assert outcomes == ["set max_trials=3", "queued to run next"]
    assert any(t.params == {"x": 1.25} for t in experiment.trials)
    assert len(experiment.trials) == 3


def test_experiment_run_serves_its_dashboard_while_it_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import httpx

    seen: dict[str, Any] = {}

    class Probe:
        def on_progress(self, progress: Any) -> None:
            if "info" not in seen:
                url = capsys.readouterr().err.split("dashboard: ", 1)[1].split()[0]
                seen["url"] = url
                seen["info"] = httpx.get(url.split("#")[0] + "api/info").json()

    experiment = Experiment(
        objective=square, search_space={"x": SPACE["x"]}, max_trials=2, storage=str(tmp_path / "db")
    )
    experiment.run(port=0, listener=Probe())
    assert seen["info"]["experiment_id"] == experiment.id and seen["url"].startswith("http://127.0.0.1:")
    assert seen["url"].endswith(f"#/e/{experiment.id}")
    with pytest.raises(httpx.ConnectError):  # stopped with the experiment
        httpx.get(seen["url"].split("#")[0] + "api/info")


def test_serving_leaves_the_host_process_logging_alone(tmp_path: Path) -> None:
    """Inside a user's process the dashboard must not reconfigure logging (absl's handler closes stderr then)."""
    import logging

    class Recording(logging.StreamHandler):
        closed = False

        def close(self) -> None:
            Recording.closed = True
            super().close()

    handler = Recording(io.StringIO())
    logging.getLogger().addHandler(handler)
    try:
        experiment = Experiment(
            objective=square, search_space={"x": SPACE["x"]}, max_trials=1, storage=str(tmp_path / "db")
        )
        experiment.run(port=0)
        assert not Recording.closed
        assert handler in logging.getLogger().handlers
    finally:
        logging.getLogger().removeHandler(handler)
