"""Ctrl-C and SIGTERM while an experiment runs: the engine ends it cleanly, a second Ctrl-C hurries it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def interrupts(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """Call ``on_interrupt`` on SIGINT and SIGTERM while the block runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        on_interrupt()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
