"""The Ray runner on a real local cluster: a head and a second node process, each with its own resources.

Both nodes are ``ray start`` processes on 127.0.0.1 (Ray's own multi-node tests put several
raylets on one machine the same way); one cluster serves the whole module. The last test
adds a third node and kills it mid-experiment.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

import tunelab  # noqa: E402
from tunelab import Experiment, hp  # noqa: E402
from tunelab.storage import Phase, TrialState  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore"), pytest.mark.timeout(240)]

RAY_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    # Notice a dead node within seconds, not the default half-minute.
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "3",
    "RAY_health_check_timeout_ms": "1000",
}
NODE_RE = re.compile(r"running on Ray node (\w+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ray_start(*args: str, log: Path) -> subprocess.Popen:
    ray_cli = str(Path(sys.executable).parent / "ray")
    with open(log, "ab") as out:
        return subprocess.Popen(
            [ray_cli, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats", *args],
            env={**os.environ, **RAY_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for(resource: str, present: bool = True, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = any(resource in n["Resources"] for n in ray.nodes() if n["Alive"])
        if alive == present:
            return
        time.sleep(0.25)
    raise TimeoutError(f"resource {resource} never became {'available' if present else 'gone'}")


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    logs = tmp_path_factory.mktemp("ray-logs")
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    temp = Path(f"/tmp/rt{os.getpid()}")  # Ray's socket paths must stay short
    head = _ray_start(
        "--head",
        "--port",
        str(port),
        "--num-cpus",
        "1",
        "--resources",
        '{"head": 1}',
        "--include-dashboard",
        "false",
        "--temp-dir",
        str(temp),
        log=logs / "head.log",
    )
    nodes = [head]
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                ray.init(address=address, log_to_driver=False, _node_ip_address="127.0.0.1")
                break
            except Exception:
                if time.monotonic() > deadline or head.poll() is not None:
                    raise
                time.sleep(0.5)
        nodes.append(
            _ray_start("--address", address, "--num-cpus", "1", "--resources", '{"node2": 1}', log=logs / "node2.log")
        )
        _wait_for("node2")
        yield {"address": address, "logs": logs, "nodes": nodes}
    finally:
        ray.shutdown()
        for process in reversed(nodes):
            _stop(process)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _nodes_used(experiment) -> set[str]:
    used = set()
    for trial in experiment.trials:
        for log in Path(trial.trial_dir).glob("stderr*.log"):
            used.update(NODE_RE.findall(log.read_text()))
    return used


def curve(params):
    """Reports a curve step by step and stops early when the assessor says so."""
    for step in range(4):
        tunelab.report(params["x"] * (4 - step), step=step)
        if tunelab.should_stop():
            return None
        time.sleep(0.2)
    print(f"stdout of {tunelab.get_trial_id()}")
    return params["x"]


def test_function_trials_run_on_both_nodes_with_an_assessor(cluster):
    experiment = Experiment(
        objective=curve,
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=6,
        concurrency=2,
        seed=1,
        runner="ray",
        ray={"address": cluster["address"], "resources_per_trial": {"cpu": 1}},
        assessor={"name": "median", "args": {"start_step": 1}},
    )
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    assert len(result.trials) == 6
    assert all(t.state in (TrialState.SUCCEEDED, TrialState.EARLY_STOPPED) for t in result.trials)
    assert all(len(t.intermediate) >= 1 for t in result.trials)  # reports came back while trials ran
    finished = [t for t in result.trials if t.state == TrialState.SUCCEEDED]
    assert finished and all(t.value == t.params["x"] for t in finished)
    assert any("stdout of" in (Path(t.trial_dir) / "stdout.log").read_text() for t in finished)  # logs came back
    assert len(_nodes_used(experiment)) == 2


def test_command_trials_with_custom_resources_and_intermediate_reports_while_running(cluster, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import sys, time, tunelab\n"
        "x = tunelab.get_params()['x']\n"
        "for step in range(3):\n"
        "    tunelab.report(x + step, step=step)\n"
        "    time.sleep(0.3)\n"
        "print('err line', file=sys.stderr)\n"
        "tunelab.report_final(x)\n"
    )
    experiment = Experiment(
        trial={"command": f"{sys.executable} train.py", "code_dir": str(tmp_path)},
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=3,
        concurrency=2,
        seed=2,
        runner="ray",
        ray={"address": cluster["address"], "resources_per_trial": {"cpu": 0.5, "node2": 0.5}},
    )
    result = experiment.run()
    assert result.phase == Phase.DONE, result.message
    assert [len(t.intermediate) for t in result.trials] == [3, 3, 3]
    for trial in result.trials:
        assert trial.value == trial.params["x"]
        reports = [json.loads(line) for line in (Path(trial.trial_dir) / "reports.jsonl").read_text().splitlines()]
        assert [r["kind"] for r in reports] == ["intermediate"] * 3 + ["final"]
        assert reports[1]["time"] < trial.ended_at - 0.2  # reported during the run, stored as it came
        assert "err line" in (Path(trial.trial_dir) / "stderr.log").read_text()
    node2 = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node2" in n["Resources"])
    assert _nodes_used(experiment) == {node2}  # the custom resource pins trials to the second node


def sleepy(params):
    time.sleep(60)
    return 1.0


def test_a_stop_reaches_the_remote_trial(cluster):
    experiment = Experiment(
        objective=sleepy,
        search_space={"x": hp.uniform(0, 1)},
        tuner="random",
        max_trials=1,
        max_duration=4,
        runner="ray",
        ray={"address": cluster["address"]},
    )
    started = time.monotonic()
    result = experiment.run()
    assert result.phase == Phase.TIMEOUT
    assert result.trials[0].state == TrialState.WAITING  # interrupted by the time limit: it runs again on resume
    assert time.monotonic() - started < 20  # the remote trial was stopped, not waited for


def test_bad_resources_are_a_config_error(cluster):
    from tunelab.errors import ConfigError
    from tunelab.runners._ray import RayRunner

    with pytest.raises(ConfigError, match="no node of the cluster has GPU=1"):
        RayRunner(address=cluster["address"], resources_per_trial={"cpu": 1, "gpu": 1})


def test_a_cluster_the_runner_starts_itself_stays_on_loopback(tmp_path):
    # In a fresh process: this module's driver is already connected to the test cluster.
    code = (
        "import ray; from tunelab.runners._ray import RayRunner; r = RayRunner(); "
        "print(ray.get_runtime_context().gcs_address); r.close()"
    )
    env = {
        k: v
        for k, v in {**os.environ, **RAY_ENV}.items()
        if k not in ("RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1].startswith("127.0.0.1:")


STEADY_STEPS = 12


def steady(params):
    # Long enough that a worker of the killed node, which can outlive its raylet by a second or
    # two and still deliver its task's output, cannot finish the trial.
    for step in range(STEADY_STEPS):
        tunelab.report(float(step), step=step)
        time.sleep(0.5)
    return params["x"]


def test_a_node_dies_mid_experiment_and_its_trials_run_again(cluster):
    node3 = _ray_start(
        "--address",
        cluster["address"],
        "--num-cpus",
        "1",
        "--resources",
        '{"node3": 1}',
        log=cluster["logs"] / "node3.log",
    )
    try:
        _wait_for("node3")
        experiment = Experiment(
            objective=steady,
            search_space={"x": hp.uniform(0, 1)},
            tuner="random",
            max_trials=5,
            concurrency=3,
            seed=3,
            failure={"retries": 2},
            runner="ray",
            ray={"address": cluster["address"]},
        )
        killer_done = []

        def kill_when_busy():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                node3_id = next((n["NodeID"] for n in ray.nodes() if n["Alive"] and "node3" in n["Resources"]), None)
                if experiment.id and node3_id and node3_id in _nodes_used(experiment):
                    time.sleep(1.0)
                    os.killpg(node3.pid, signal.SIGKILL)
                    killer_done.append(node3_id)
                    return
                time.sleep(0.1)

        import threading

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        result = experiment.run()
        killer.join()
        assert killer_done, "no trial ever ran on the third node"
        assert result.phase == Phase.DONE, result.message
        assert [t.state for t in result.trials] == [TrialState.SUCCEEDED] * 5  # nothing lost
        retried = [t for t in result.trials if t.attempt > 1]
        assert retried
        for trial in retried:
            first = (Path(trial.trial_dir) / "stderr.attempt1.log").read_text()
            assert killer_done[0] in first and "was lost" in first
            assert len(trial.intermediate) >= STEADY_STEPS  # the second attempt's curve is complete
    finally:
        _stop(node3)


def test_the_driver_dies_and_resume_reconnects(cluster, tmp_path):
    from tunelab.storage import SQLiteStorage

    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").write_text(
        "import os, time, tunelab\n"
        "p = tunelab.get_params()\n"
        "time.sleep(0.8)\n"
        "with open(os.path.join(os.environ['RUNS_DIR'], 'runs.log'), 'a') as log:\n"
        "    log.write(os.environ['TUNELAB_TRIAL_NUMBER'] + '\\n')\n"
        "tunelab.report_final(p['x'])\n"
    )
    config = project / "exp.yml"
    config.write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"
        f"trial: {{command: {sys.executable} train.py, code_dir: {project}, env: {{RUNS_DIR: {project}}}}}\n"
        "tuner: {name: random, args: {seed: 0}}\n"
        "max_trials: 6\nconcurrency: 2\nrunner: ray\n"
        f"ray: {{address: '{cluster['address']}'}}\n"
    )
    db = tmp_path / "db.sqlite"
    env = {**os.environ, **RAY_ENV}
    cli = [sys.executable, "-m", "tunelab.cli"]
    driver = subprocess.Popen(
        [*cli, "run", str(config), "-q", "--storage", str(db)], env=env, stderr=subprocess.DEVNULL
    )
    store = SQLiteStorage(db)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        experiments = store.list_experiments()
        if experiments and len(store.get_trials(experiments[0].id, states=(TrialState.SUCCEEDED,))) >= 2:
            break
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    experiment = store.list_experiments()[0]
    finished = {t.number: t.value for t in store.get_trials(experiment.id, states=(TrialState.SUCCEEDED,))}
    assert len(finished) >= 2

    resumed = subprocess.run(
        [*cli, "resume", experiment.id, "-q", "--storage", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    trials = store.get_trials(experiment.id)
    assert sorted(t.number for t in trials) == list(range(6))
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all(t.value == pytest.approx(t.params["x"]) for t in trials)
    runs = (project / "runs.log").read_text().split()
    assert all(runs.count(str(number)) == 1 for number in finished)  # nothing finished ran twice
    assert {t.number: t.value for t in trials if t.number in finished} == finished
    assert store.get_experiment(experiment.id).phase == Phase.DONE
    store.close()
