"""The clock the engine reads: real time in production, a virtual one in tests.

Syne Tune's ``TimeKeeper`` idea: everything that waits or measures time asks a
:class:`Clock`, so an engine test can run a day of virtual trials in milliseconds
(:class:`tunelab.testing.FakeClock`) and never depends on the machine's speed.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """``time`` is wall-clock seconds (for records), ``monotonic`` for deadlines and durations."""

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()
