"""A Ray address where nothing listens is refused at once, naming the field (ray.init would retry for minutes)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("ray")

from tunelab.errors import ConfigError
from tunelab.runners._ray import RayRunner, check_reachable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_nothing_listening_is_a_config_error_naming_ray_address(scheme):
    address = f"{scheme}127.0.0.1:{_closed_port()}"
    with pytest.raises(ConfigError, match=rf"ray.address: no Ray cluster answers at '{address}'"):
        RayRunner(address=address)


def test_auto_none_and_addresses_without_a_port_are_left_to_ray():
    for address in (None, "auto", "ray-head.internal"):
        check_reachable(address, "ray.address")  # nothing raised, nothing connected
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        check_reachable(f"127.0.0.1:{listening.getsockname()[1]}", "ray.address")
