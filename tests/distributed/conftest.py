"""Fixtures for distributed tests: a PostgreSQL server started once per session, and Ray on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tunelab.testing import fresh_database, postgres_server

#: What every Ray process of these tests runs with: no sign-in, no usage report, Ray's single-node switch
#: (without it Ray turns 127.0.0.1 into the machine's outward address). This driver imported ray before
#: the switch was set, so its ``ray.init`` runs under the runner's own override of it.
LOOPBACK_RAY_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}


@pytest.fixture(scope="session")
def postgres_server_url():
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url):
    if postgres_server_url is None:
        pytest.skip("PostgreSQL is not available (install the postgresql package and psycopg)")
    return fresh_database(postgres_server_url)


@pytest.fixture(scope="module")
def loopback_ray(tmp_path_factory):
    """A single-node Ray cluster on 127.0.0.1 for one test module, this process its driver; its address.

    4 CPUs and 2 declared GPUs (not real ones: Ray gives tasks their ``CUDA_VISIBLE_DEVICES``
    from them). Ray's start is slow on a loaded machine, so a module shares one.
    """
    with _loopback_ray(tmp_path_factory.mktemp("ray-logs"), cpus=4, gpus=2) as address:
        yield address


@contextlib.contextmanager
def _loopback_ray(logs: Path, *, cpus: int, gpus: int, connect: bool = True) -> Iterator[str]:
    ray = pytest.importorskip("ray")
    from tunelab.runners._ray import _single_node_on_loopback

    if ray.is_initialized():
        pytest.skip("this process is already connected to another Ray cluster")
    saved = {k: os.environ.get(k) for k in LOOPBACK_RAY_ENV}
    os.environ.update(LOOPBACK_RAY_ENV)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"127.0.0.1:{port}"
    argv = [
        str(Path(sys.executable).parent / "ray"),
        *("start", "--head", "--block", "--disable-usage-stats", "--include-dashboard", "false"),
        *("--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", str(cpus), "--num-gpus", str(gpus)),
        *("--temp-dir", f"/tmp/rt{os.getpid()}"),  # Ray's socket paths must stay short
    ]
    with open(logs / "ray-head.log", "ab") as out:
        head = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if connect:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with _single_node_on_loopback(True):
                        ray.init(address=address, log_to_driver=False, _node_ip_address="127.0.0.1")
                    break
                except Exception:
                    if time.monotonic() > deadline or head.poll() is not None:
                        raise
                    time.sleep(0.5)
        yield address
    finally:
        if connect:
            ray.shutdown()
        try:
            os.killpg(head.pid, signal.SIGTERM)
            head.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
