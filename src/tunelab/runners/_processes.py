"""Process-group helpers shared by runners and by ``resume`` (which must kill orphans)."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def is_same_process_alive(pid: int | None, start_time: str | None) -> bool:
    if not pid:
        return False
    current = process_start_time(pid)
    if current is None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return start_time is None
    return start_time is None or current == start_time


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group led by ``pid`` (trials run in their own session).

    A pid of 0 or less (a remote trial has none here) is ignored: ``killpg(0)`` would
    signal the caller's own group.
    """
    if not pid or pid <= 0:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
