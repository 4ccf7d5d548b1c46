"""Results you can trust on the dashboard: one rule for "best" (shared with the CLI and
storage), badges that tell an error from success, a dead engine named as such, tokens that
stay out of addresses, and loopback decided on addresses, not spellings."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_history

from tunelab.cli import main
from tunelab.server._app import STATIC_DIR
from tunelab.server._security import is_loopback
from tunelab.storage import Phase, SQLiteStorage, best_trial


# ---------------------------------------------------------------- one rule for "best"
@pytest.mark.parametrize("mode", ["min", "max"])
def test_cli_api_and_storage_name_the_same_best_trial(tmp_path: Path, make_client: Any, mode: str) -> None:
    db = tmp_path / "db.sqlite"
    write_history(db, mode=mode)
    store = SQLiteStorage(db)
    rule = best_trial(store.get_trials("exp-tie"), mode)
    store.close()
    assert rule is not None and rule.number == 0  # the earlier of two equal values; never the early-stopped one

    cli = CliRunner().invoke(main, ["best", "exp-tie", "--json", "--storage", str(db)], catch_exceptions=False)
    client = make_client(db)
    overview = client.get("/api/experiments/exp-tie").json()
    [item] = client.get("/api/experiments").json()
    assert json.loads(cli.output)["trial"] == overview["best"]["number"] == rule.number
    assert overview["best"]["value"] == item["best_value"] == rule.value == 0.5


def test_best_so_far_is_set_only_by_succeeded_trials(tmp_path: Path, make_client: Any) -> None:
    db = tmp_path / "db.sqlite"
    write_history(db)
    history = make_client(db).get("/api/experiments/exp-tie/history").json()
    # in the order they ended: early-stopped 0.1, 0.5, 0.5 (tie), -inf is no score, 9
    assert history["numbers"] == [1, 0, 2, 5]
    assert history["states"] == ["EARLY_STOPPED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    assert history["best"] == [None, 0.5, 0.5, 0.5]


# ---------------------------------------------------------------- badges
def _badge_colors() -> dict[str, str]:
    css = (STATIC_DIR / "style.css").read_text()
    variables = dict(re.findall(r"--([A-Za-z_]+):\s*(#[0-9a-fA-F]{3,6})", css))
    colors: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        match = re.search(r"background:\s*var\(--([A-Za-z_]+)\)", body)
        for name in re.findall(r"\.badge\.([A-Z_]+)", selectors):
            if match:
                colors[name] = variables[match.group(1)]
    return colors


def test_every_phase_has_its_badge_and_error_is_red() -> None:
    colors = _badge_colors()
    assert set(Phase.__members__) <= set(colors), "a phase without a badge colour"
    green, red = colors["DONE"], colors["ERROR"]
    assert red.lower() == "#c92a2a" and green.lower() == "#15803d"
    assert [phase for phase, color in colors.items() if color == green] == ["DONE", "SUCCEEDED"]
    assert len({colors[p] for p in ("RUNNING", "DONE", "TIMEOUT", "ERROR", "STOPPED")}) == 5
    assert colors["STALE"] not in (green, colors["RUNNING"])  # a dead engine does not look like a live run
    app = (STATIC_DIR / "app.js").read_text()
    assert 'h("span", { class: "badge " + state }' in app  # the class is the phase itself


# ---------------------------------------------------------------- dead engine
def test_api_says_a_running_experiment_lost_its_engine(tmp_path: Path, make_client: Any) -> None:
    db = tmp_path / "db.sqlite"
    store = SQLiteStorage(db)
    config = {"mode": "min", "search_space": {}}
    for eid in ("dead", "live"):
        store.create_experiment(eid, name=eid, config=config, format="tunelab", experiment_dir=str(tmp_path))
    # "dead": one heartbeat long ago, then silence; "live": this process, beating now
    long_ago = 1_000_000_000.0
    store.set_phase("dead", Phase.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    store.set_phase(
        "live",
        Phase.RUNNING,
        started_at=time.time(),
        heartbeat_at=time.time(),
        engine_pid=os.getpid(),
        engine_host=socket.gethostname(),
    )
    store.close()
    client = make_client(db)
    dead = client.get("/api/experiments/dead").json()
    assert dead["phase"] == "RUNNING" and dead["engine_alive"] is False
    assert dead["engine_silent_since"] == long_ago and dead["engine_note"].startswith("no heartbeat for ")
    live = client.get("/api/experiments/live").json()
    assert live["engine_alive"] is True and live["engine_silent_since"] is None
    items = {i["id"]: i for i in client.get("/api/experiments").json()}
    assert items["dead"]["engine_alive"] is False and items["live"]["engine_alive"] is True
    app = (STATIC_DIR / "app.js").read_text()
    assert "engine not responding" in app and "continues it" in app and "phaseBadge(e)" in app


# ---------------------------------------------------------------- tokens out of addresses
def test_token_leaves_page_and_api_addresses_once_the_cookie_is_set(tmp_path: Path, make_client: Any) -> None:
    db = tmp_path / "db.sqlite"
    write_history(db)
    client = make_client(db, token="s3cret-token")
    opened = client.get("/?token=s3cret-token&x=1")
    assert opened.status_code == 303 and opened.headers["location"] == "/?x=1"
    assert "tunelab_token=s3cret-token" in opened.headers["set-cookie"]
    # the cookie is set now: an API address that still carries the token is sent to itself without it
    again = client.get("/api/experiments/exp-tie/trials?token=s3cret-token&limit=2")
    assert again.status_code == 303 and again.headers["location"] == "/api/experiments/exp-tie/trials?limit=2"
    assert client.get(again.headers["location"]).status_code == 200
    # a script without the cookie is still answered
    script = make_client(db, token="s3cret-token")
    assert script.get("/api/experiments?token=s3cret-token").status_code == 200
    assert script.get("/api/experiments?token=wrong-token").status_code == 401
    for name in ("app.js", "charts.js"):
        assert "token" not in (STATIC_DIR / name).read_text().lower(), name  # the page never puts it in a URL


# ---------------------------------------------------------------- loopback by address
@pytest.mark.parametrize(
    ("host", "addresses", "expected"),
    [
        ("127.0.0.1", None, True),
        ("127.3.4.5", None, True),
        ("::1", None, True),
        ("[::1]", None, True),
        ("0.0.0.0", None, False),
        ("192.0.2.7", None, False),
        ("localhost", ["127.0.0.1", "::1"], True),
        ("127.attacker.example", ["203.0.113.9"], False),
        ("127.0.0.1.nip.example", ["127.0.0.1", "198.51.100.2"], False),
        ("nowhere.invalid", OSError("no such name"), False),
        ("empty.example", [], False),
    ],
)
def test_loopback_is_decided_on_resolved_addresses(host: str, addresses: Any, expected: bool) -> None:
    def resolve(name: str) -> list[str]:
        if addresses is None:
            pytest.fail(f"an address literal {name!r} needs no lookup")
        if isinstance(addresses, Exception):
            raise addresses
        return addresses

    assert is_loopback(host, resolve) is expected


def test_real_localhost_resolves_to_loopback() -> None:
    assert is_loopback("localhost")


def test_dashboard_on_loopback_needs_no_token(tmp_path: Path) -> None:
    from tunelab.server import Dashboard, ServeOptions

    db = tmp_path / "db.sqlite"
    write_history(db)
    store = SQLiteStorage(db)
    dashboard = Dashboard(store, ServeOptions(host="127.0.0.1", port=0))
    try:
        assert dashboard.token is None and "token=" not in dashboard.url
    finally:
        dashboard._socket.close()
        store.close()


def test_dashboard_makes_a_token_when_the_name_is_not_loopback(tmp_path: Path, monkeypatch: Any) -> None:
    from tunelab.server import Dashboard, ServeOptions, _serve

    db = tmp_path / "db.sqlite"
    write_history(db)
    store = SQLiteStorage(db)
    # as if "127.0.0.1" were a name resolving elsewhere: the spelling alone earns no exemption
    monkeypatch.setattr(_serve, "is_loopback", lambda host: False)
    dashboard = Dashboard(store, ServeOptions(host="127.0.0.1", port=0))
    try:
        assert dashboard.token and f"?token={dashboard.token}" in dashboard.url
        assert any("generated an access token" in note for note in dashboard.notes)
    finally:
        dashboard._socket.close()
        store.close()


# ---------------------------------------------------------------- storage errors
def test_unknown_id_is_404_and_unreadable_storage_503(tmp_path: Path, make_client: Any, monkeypatch: Any) -> None:
    from tunelab.errors import StorageError

    db = tmp_path / "db.sqlite"
    write_history(db)
    client = make_client(db)
    assert client.get("/api/experiments/nope").status_code == 404

    def broken(self: Any) -> Any:
        raise StorageError("storage: 'x.db' has schema version 99, newer than this tunelab understands\x1b[2J")

    monkeypatch.setattr(SQLiteStorage, "list_experiments", broken)
    response = client.get("/api/experiments")
    assert response.status_code == 503 and "\x1b" not in response.json()["detail"]
